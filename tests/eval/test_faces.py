"""Face analysis and the shared FER preprocessing on a real photo, a mirrored/rotated copy and noise."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from facecraft.eval.faces import (
    ALIGN_LEFT_EYE,
    ALIGN_RIGHT_EYE,
    FaceAnalyzer,
    align_face,
    default_analyzer,
    eye_centres,
    preprocess_face,
    preprocess_faces,
    rotation_to_yaw_pitch_roll,
    yaw_pitch_roll_to_rotation,
)
from facecraft.eval.images import load_image
from facecraft.rigs import ARKIT_INDEX, resolve_asset
from facecraft.rigs.errors import NoFaceError, ParameterError


@pytest.fixture(scope="module")
def astronaut() -> np.ndarray:
    return load_image(resolve_asset("astronaut"))


@pytest.fixture(scope="module")
def analyzer():
    return default_analyzer()


def test_astronaut_face(astronaut, analyzer):
    faces = analyzer.analyze(astronaut)
    assert len(faces) == 1
    f = faces[0]
    assert f.landmarks.shape == (478, 3) and f.blendshapes.shape == (52,)
    x0, y0, x1, y1 = f.box
    assert 150 < x0 < x1 < 300 and 40 < y0 < y1 < 220  # her face is in the upper middle of the photo
    assert np.all((f.blendshapes >= 0) & (f.blendshapes <= 1))
    assert f.blendshapes[ARKIT_INDEX["tongueOut"]] == 0.0
    # She smiles: the smile channels lead and the jaw is closed.
    top = {n for n, v in sorted(f.blendshape_dict().items(), key=lambda kv: -kv[1])[:3]}
    assert {"mouthSmileLeft", "mouthSmileRight"} <= top
    assert f.blendshapes[ARKIT_INDEX["jawOpen"]] < 0.2
    left, right = f.eye_centres
    assert left[0] < right[0] and abs(left[1] - right[1]) < 10


def test_pose_follows_mirror_and_rotation(astronaut, analyzer):
    base = analyzer.largest_face(astronaut).pose
    assert np.all(np.abs(base[[0, 2]]) < 10)  # nearly frontal and upright
    mirrored = analyzer.largest_face(np.ascontiguousarray(astronaut[:, ::-1])).pose
    assert mirrored[0] == pytest.approx(-base[0], abs=2.0)  # yaw flips
    assert mirrored[1] == pytest.approx(base[1], abs=2.0)  # pitch stays
    assert mirrored[2] == pytest.approx(-base[2], abs=2.0)  # roll flips
    turned = np.asarray(Image.fromarray(astronaut).rotate(15, resample=Image.BILINEAR))  # counter-clockwise
    assert analyzer.largest_face(turned).pose[2] - base[2] == pytest.approx(15.0, abs=3.0)


def test_rotation_round_trip():
    rng = np.random.default_rng(0)
    for yaw, pitch, roll in rng.uniform(-60, 60, size=(20, 3)):
        r = yaw_pitch_roll_to_rotation(yaw, pitch, roll)
        np.testing.assert_allclose(rotation_to_yaw_pitch_roll(r), [yaw, pitch, roll], atol=1e-3)
    # Positive yaw turns the face's forward axis (+Z) toward its left (+X).
    assert (yaw_pitch_roll_to_rotation(30, 0, 0) @ [0, 0, 1])[0] > 0
    with pytest.raises(ParameterError, match="reflection"):
        rotation_to_yaw_pitch_roll(np.diag([1.0, 1.0, -1.0]))


def test_align_puts_eyes_at_fixed_places(astronaut, analyzer):
    f = analyzer.largest_face(astronaut)
    turned = np.asarray(Image.fromarray(astronaut).rotate(20, resample=Image.BILINEAR))
    for img in (astronaut, turned):
        crop = align_face(img, analyzer.largest_face(img).landmarks, size=192)
        assert crop.shape == (192, 192, 3) and crop.dtype == np.uint8
        # Run the analyzer on the aligned crop: the eyes must sit where alignment put them.
        eyes = analyzer.largest_face(crop).eye_centres / 192
        np.testing.assert_allclose(eyes[0], ALIGN_LEFT_EYE, atol=0.03)
        np.testing.assert_allclose(eyes[1], ALIGN_RIGHT_EYE, atol=0.03)
    # Margin shrinks the face inside the same square; eye centres given directly work the same way.
    wide = align_face(astronaut, f.eye_centres, size=64, margin=0.5, grey=True)
    assert wide.shape == (64, 64)
    np.testing.assert_array_equal(
        align_face(astronaut, f.landmarks, size=64), align_face(astronaut, f.eye_centres, size=64)
    )
    with pytest.raises(ParameterError, match="7 points"):
        eye_centres(np.zeros((7, 2)))
    with pytest.raises(ParameterError, match="apart"):
        align_face(astronaut, np.array([[10.0, 10.0], [10.2, 10.0]]))


def test_preprocess_face_modes(astronaut, tmp_path):
    grey = preprocess_face(astronaut, size=48)
    assert grey.shape == (48, 48) and grey.dtype == np.uint8
    rgb = preprocess_face(astronaut, size=64, grey=False)
    assert rgb.shape == (64, 64, 3)
    # Same function from a path gives the same crop.
    Image.fromarray(astronaut).save(tmp_path / "a.png")
    np.testing.assert_array_equal(preprocess_face(tmp_path / "a.png", size=48), grey)
    # A pre-cropped FER-style 48x48 grey face is only resized ("auto" treats small images as crops).
    small = grey
    up = preprocess_face(small, size=64)
    assert up.shape == (64, 64)
    np.testing.assert_array_equal(preprocess_face(small, size=48), small)
    batch = preprocess_faces([astronaut, small], size=48)
    assert batch.shape == (2, 48, 48)
    with pytest.raises(ParameterError, match="detect"):
        preprocess_face(astronaut, detect="yes")


def test_noise_has_no_face(tmp_path):
    noise = np.random.default_rng(0).integers(0, 256, size=(256, 256, 3), dtype=np.uint8)
    with pytest.raises(NoFaceError, match="noise.png"):
        preprocess_face(noise, name="noise.png")
    Image.fromarray(noise).save(tmp_path / "static.png")
    with pytest.raises(NoFaceError, match="static.png"):
        preprocess_face(tmp_path / "static.png")
    # Small noise is taken as a crop in "auto" mode, but detection can be forced.
    assert preprocess_face(noise[:48, :48], size=48).shape == (48, 48)
    with pytest.raises(NoFaceError):
        preprocess_face(np.ascontiguousarray(np.kron(noise[:48, :48], np.ones((4, 4, 1), np.uint8))), detect=True)


def test_portraits_all_detected(shared_dir):
    files = sorted((shared_dir / "data" / "portraits").glob("*.jpg"))
    assert len(files) >= 30
    with FaceAnalyzer() as fa:
        for p in files:
            faces = fa.analyze(load_image(p), name=p.name)
            assert faces, f"no face in {p.name}"
            assert preprocess_face(p, size=48, analyzer=fa).shape == (48, 48)


def test_closed_analyzer_refuses(astronaut):
    fa = FaceAnalyzer(max_faces=1)
    fa.close()
    with pytest.raises(ParameterError, match="close"):
        fa.analyze(astronaut)
    with pytest.raises(ParameterError, match="max_faces"):
        FaceAnalyzer(max_faces=0)


def _cover_eye(img: np.ndarray, lm: np.ndarray, corners: tuple[int, int], lids: tuple[int, int]) -> np.ndarray:
    """Paint one eye over with the skin above it and a lash line: a crude closed eye."""
    out = img.copy()
    x0, x1 = sorted(int(lm[i, 0]) for i in corners)
    x0, x1 = x0 - 6, x1 + 6
    yc, h = int(lm[list(lids), 1].mean()), 10
    out[yc - h : yc + h, x0:x1] = img[yc - h - 4 : yc - h, x0:x1].mean(axis=(0, 1))
    out[yc - 1 : yc + 2, x0 + 4 : x1 - 4] = 60
    return out


def test_blendshape_sides_are_the_subjects(astronaut, analyzer):
    """ARKit's ``...Left`` is the subject's left eye, which appears on the image's right (landmarks 362/263)."""
    f = analyzer.largest_face(astronaut)
    i_l, i_r = ARKIT_INDEX["eyeSquintLeft"], ARKIT_INDEX["eyeSquintRight"]
    subject_left = analyzer.largest_face(_cover_eye(astronaut, f.landmarks, (362, 263), (386, 374))).blendshapes
    subject_right = analyzer.largest_face(_cover_eye(astronaut, f.landmarks, (33, 133), (159, 145))).blendshapes
    d_left, d_right = subject_left - f.blendshapes, subject_right - f.blendshapes
    assert d_left[i_l] > 0.2 and d_left[i_l] > 3 * abs(d_left[i_r])
    assert d_right[i_r] > 0.2 and d_right[i_r] > 3 * abs(d_right[i_l])


def test_small_face_in_large_photo(astronaut, analyzer):
    """MediaPipe's short-range detector misses a face 1/13 of the photo wide; the HOG proposals recover it."""
    canvas = np.full((1200, 1200, 3), 128, dtype=np.uint8)
    canvas[300:812, 500:1012] = astronaut
    with FaceAnalyzer(small_faces=False) as plain:
        assert plain.analyze(canvas) == []
    faces = analyzer.analyze(canvas)
    assert len(faces) == 1
    ref = analyzer.largest_face(astronaut)
    np.testing.assert_allclose(faces[0].box, ref.box + [500, 300, 500, 300], atol=6)
    np.testing.assert_allclose(faces[0].eye_centres, ref.eye_centres + [500, 300], atol=3)
    assert preprocess_face(canvas, size=48).shape == (48, 48)


def test_shared_analyzer_across_threads(astronaut, analyzer):
    from concurrent.futures import ThreadPoolExecutor

    ref = analyzer.largest_face(astronaut).landmarks
    with ThreadPoolExecutor(4) as pool:
        outs = list(pool.map(lambda _: analyzer.largest_face(astronaut).landmarks, range(12)))
    for out in outs:
        np.testing.assert_array_equal(out, ref)  # IMAGE mode is deterministic; calls do not interfere
