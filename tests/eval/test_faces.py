"""Face analysis and the shared FER preprocessing on a real photo, a mirrored/rotated copy and noise."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from facecraft.eval.face_geometry import metric_geometry, similarity_fit
from facecraft.eval.faces import (
    ALIGN_LEFT_EYE,
    ALIGN_RIGHT_EYE,
    MIN_FACE_SIZE,
    FaceAnalyzer,
    FaceTooSmallError,
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


def test_a_face_filling_a_tight_crop_is_found_with_room_around_it(shared_dir, monkeypatch):
    """A 200 px UTKFace crop (a tuning one, outside the bench's sample) that MediaPipe's detector misses as it is."""
    from facecraft.eval import faces as faces_module

    crop = load_image(shared_dir / "data" / "faces-utk" / "images" / "45_1_0_20170103184012435.jpg.chip.jpg")
    with FaceAnalyzer(small_faces=False) as fa:
        found = fa.analyze(crop)
        assert len(found) == 1
        box = found[0].box
        assert box[0] >= 0 and box[1] >= 0 and box[2] <= 200 and box[3] <= 200 and found[0].width > 100
        eyes = found[0].eye_centres
        assert ((eyes > 20) & (eyes < 180)).all()  # mapped back from the padded photo into the crop
        assert found[0].camera.width == found[0].camera.height == 200
        monkeypatch.setattr(faces_module, "_CROP_PAD", 0.0)
        assert fa.analyze(crop) == []


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


# ------------------------------------------------------------------ metric geometry, sizes, dlib
def _eye_distance(points: np.ndarray) -> float:
    """Distance between the two eye centres (mean of each eye's corners) of a MediaPipe mesh."""
    return float(np.linalg.norm(points[[33, 133]].mean(0) - points[[362, 263]].mean(0)))


def test_metric_landmarks(astronaut, analyzer):
    f = analyzer.largest_face(astronaut)
    m, cam = f.landmarks_metric, f.landmarks_camera
    assert m.shape == cam.shape == (478, 3) and m.dtype == np.float32
    assert 0.055 < _eye_distance(m) < 0.075  # metres; adults ~0.06-0.07
    # face frame = the default rig's: subject's left eye on +X, nose tip in front, chin below the eyes
    assert m[263, 0] > 0.02 > -0.02 > m[33, 0]
    assert m[1, 2] == pytest.approx(m[:468, 2].max(), abs=0.005) and m[152, 1] < m[[33, 263], 1].min() - 0.05
    # camera frame: in front of the camera (negative Z), about half a metre to a metre away
    assert -1.0 < float(cam[:, 2].mean()) < -0.4
    # camera model: projecting the camera-frame points gives the pixel landmarks back
    np.testing.assert_allclose(f.camera.project(cam), f.landmarks[:, :2], atol=0.05)
    assert f.camera.focal_px == pytest.approx(0.5 * 512 / np.tan(np.radians(31.5)))
    # the transformation matrix maps the face frame into the camera frame; pose is its rotation
    np.testing.assert_allclose(m @ f.face_to_camera[:3, :3].T + f.face_to_camera[:3, 3], cam, atol=1e-5)
    np.testing.assert_allclose(rotation_to_yaw_pitch_roll(f.rotation), f.pose, atol=1e-3)
    # the metric shape does not depend on the photo's resolution
    big = analyzer.largest_face(np.asarray(Image.fromarray(astronaut).resize((1024, 1024), Image.BICUBIC)))
    assert np.abs(big.landmarks_metric - m).mean() < 0.001


def test_geometry_port_reproduces_mediapipe_matrix(astronaut, analyzer):
    """Our NumPy port of the geometry stage finds the matrix the Landmarker itself reports (independent check)."""
    for img in (astronaut, np.ascontiguousarray(astronaut[40:, 100:]), np.pad(astronaut, ((0, 300), (200, 0), (0, 0)))):
        f = analyzer.largest_face(img)
        ours = metric_geometry(f.landmarks, width=img.shape[1], height=img.shape[0])
        np.testing.assert_allclose(ours.transform[:3, :3], f.transform[:3, :3], atol=1e-3)
        np.testing.assert_allclose(ours.transform[:3, 3], f.transform[:3, 3], atol=0.01)  # centimetres
        np.testing.assert_allclose(ours.camera_points, f.landmarks_camera, atol=1e-5)
    with pytest.raises(ParameterError, match="landmarks"):
        metric_geometry(np.zeros((68, 3)), width=10, height=10)


def test_similarity_fit_recovers_a_known_transform():
    rng = np.random.default_rng(0)
    p = rng.normal(size=(30, 3))
    r = yaw_pitch_roll_to_rotation(20, -10, 5)
    y = 2.5 * p @ r.T + [1.0, -2.0, 3.0]
    s, rot, t = similarity_fit(p, y, rng.random(30) + 0.1)
    assert s == pytest.approx(2.5) and np.allclose(rot, r) and np.allclose(t, [1.0, -2.0, 3.0])


def test_a_face_at_a_few_metres_in_a_large_photo(astronaut, analyzer):
    """A face 150 px wide in a 1600 px photo: too small for MediaPipe's detector and, at the 1024 px HOG scale
    (96 px), for HOG at one scale; the finer HOG pass finds it."""
    small = np.asarray(Image.fromarray(astronaut).resize((400, 400), Image.BICUBIC))
    canvas = np.full((1200, 1600, 3), 180, dtype=np.uint8)
    canvas[300:700, 600:1000] = small
    faces = analyzer.analyze(canvas)
    assert len(faces) == 1
    ref = analyzer.largest_face(small)
    np.testing.assert_allclose(faces[0].eye_centres, ref.eye_centres + [600, 300], atol=3)


def _head(astronaut: np.ndarray, analyzer, size: int) -> np.ndarray:
    """The astronaut's head, its face about half the crop wide, resized to ``size``."""
    x0, y0, x1, y1 = analyzer.largest_face(astronaut).box
    cx, cy, half = (x0 + x1) / 2, (y0 + y1) / 2, (x1 - x0)
    crop = astronaut[int(cy - half) : int(cy + half), int(cx - half) : int(cx + half)]
    return np.asarray(Image.fromarray(crop).resize((size, size), Image.BICUBIC))


def test_group_photo_finds_the_smaller_faces_too(astronaut, analyzer):
    """MediaPipe finds the near face (a fifth of the photo's height); the two far ones (about 100 px) come from
    HOG proposals, largest first."""
    canvas = np.full((1200, 1600, 3), 170, dtype=np.uint8)
    canvas[50:550, 50:550] = _head(astronaut, analyzer, 500)
    far = np.asarray(Image.fromarray(astronaut).resize((560, 560), Image.BICUBIC))
    canvas[620:1180, 560:1120] = far
    canvas[20:580, 1030:1590] = far
    with FaceAnalyzer(small_faces=False) as plain:
        assert len(plain.analyze(canvas)) == 1
    faces = analyzer.analyze(canvas)
    assert len(faces) == 3
    assert faces[0].box[2] < 550 and faces[0].width > 2 * faces[1].width
    ref = analyzer.largest_face(far)
    centres = sorted((f.eye_centres for f in faces[1:]), key=lambda c: float(c[0, 0]))
    np.testing.assert_allclose(centres[0], ref.eye_centres + [560, 620], atol=3)
    np.testing.assert_allclose(centres[1], ref.eye_centres + [1030, 20], atol=3)
    with FaceAnalyzer(max_faces=1) as one:  # the one face asked for: no search for more
        assert len(one.analyze(canvas)) == 1


def test_group_photo_finds_a_face_below_hogs_single_scale(astronaut, analyzer):
    """Beside a near face, a far one about 55 px wide in a 1600 px photo (35 px at HOG's 1024 scale, under the 80 px
    a single scale finds): the upsampled HOG pass finds it as it does when MediaPipe found nothing."""
    canvas = np.full((1200, 1600, 3), 170, dtype=np.uint8)
    canvas[50:550, 50:550] = _head(astronaut, analyzer, 500)
    far = np.asarray(Image.fromarray(astronaut).resize((300, 300), Image.BICUBIC))
    canvas[700:1000, 900:1200] = far
    faces = analyzer.analyze(canvas)
    assert len(faces) == 2 and 48 <= faces[1].width < 80
    ref = analyzer.largest_face(far)
    np.testing.assert_allclose(faces[1].eye_centres, ref.eye_centres + [900, 700], atol=3)


def test_an_upside_down_photo_is_analysed_turned(astronaut, analyzer):
    """MediaPipe finds faces turned up to about 100 degrees; a photo upside down is analysed turned, and its
    landmarks come back in the photo's own frame."""
    upright = analyzer.largest_face(astronaut)
    turned = analyzer.analyze(np.ascontiguousarray(astronaut[::-1, ::-1]))
    assert len(turned) == 1
    h, w = astronaut.shape[:2]
    back = np.stack([w - turned[0].landmarks[:, 0], h - turned[0].landmarks[:, 1]], axis=1)
    np.testing.assert_allclose(back, upright.landmarks[:, :2], atol=0.5)
    np.testing.assert_allclose(turned[0].blendshapes, upright.blendshapes, atol=1e-3)
    assert abs(abs(float(turned[0].pose[2] - upright.pose[2])) - 180.0) < 2.0  # the roll turned by half a turn
    assert turned[0].box[1] > upright.box[1]  # the face is in the lower half now


def test_a_crowd_beyond_eight_faces_is_found_up_to_max_faces(astronaut, analyzer):
    """Twelve small heads in a 1600 x 1200 photo, none large enough for MediaPipe's own detector: HOG proposes as
    many crops as the analyzer may report (it proposed eight at most, and four of the twelve were lost)."""
    canvas = np.full((1200, 1600, 3), 170, dtype=np.uint8)
    head = _head(astronaut, analyzer, 250)
    for i in range(12):
        row, col = divmod(i, 4)
        canvas[100 + row * 350 : 350 + row * 350, 100 + col * 370 : 350 + col * 370] = head
    with FaceAnalyzer(max_faces=16) as crowd:
        assert len(crowd.analyze(canvas)) == 12
    assert len(analyzer.analyze(canvas)) == analyzer.max_faces  # the default analyzer reports its four largest


def test_a_close_portrait_does_not_pay_for_the_small_face_search(astronaut, analyzer, monkeypatch):
    from facecraft.eval import faces as faces_module

    head = _head(astronaut, analyzer, 1024)  # a close portrait: the face half the photo wide

    def no_search(*args, **kwargs):
        raise AssertionError("HOG ran on a portrait")

    with FaceAnalyzer() as fresh:
        monkeypatch.setattr(faces_module, "_hog_proposals", no_search)
        assert len(fresh.analyze(head)) == 1
        # head and shoulders at 512 px (the face a sixth of the photo): HOG at one scale would reach no smaller
        # faces than MediaPipe does, and upsampled it cost 80 ms
        assert len(fresh.analyze(astronaut)) == 1


def test_no_face_names_the_smallest_face_found(analyzer):
    noise = np.random.default_rng(5).integers(0, 256, size=(1200, 2048, 3), dtype=np.uint8)
    with pytest.raises(NoFaceError, match=r"noise\.png.*narrower than about 80 px") as e:
        analyzer.largest_face(noise, name="noise.png")
    assert e.value.source == "noise.png" and round(e.value.smallest_px) == 80  # for callers' own words (the studio)
    with pytest.raises(NoFaceError) as e:  # a face crop's size is not why no face was found there
        analyzer.largest_face(noise[:200, :200], name="crop.png")
    assert "narrower" not in str(e.value) and e.value.smallest_px is None and e.value.source == "crop.png"


def test_two_faces_sorted_by_size(astronaut, analyzer):
    smaller = np.asarray(Image.fromarray(astronaut).resize((400, 400), Image.BICUBIC))
    canvas = np.full((512, 940, 3), 120, dtype=np.uint8)
    canvas[56:456, :400] = smaller  # the smaller face on the left, so order is not left-to-right
    canvas[:, 428:] = astronaut
    faces = analyzer.analyze(canvas)
    assert len(faces) == 2
    assert faces[0].width > faces[1].width * 1.15
    assert faces[0].box[0] > 428 and faces[1].box[2] < 400
    ref = analyzer.largest_face(astronaut)
    np.testing.assert_allclose(faces[0].eye_centres, ref.eye_centres + [428, 0], atol=3)
    with FaceAnalyzer(max_faces=1) as one:
        assert [round(float(f.width)) for f in one.analyze(canvas)] == [round(float(faces[0].width))]


def test_face_below_minimum_size_is_a_clear_error(astronaut, analyzer):
    tiny = np.asarray(Image.fromarray(astronaut).resize((200, 200), Image.LANCZOS))  # face ~35 px wide
    with FaceAnalyzer(min_face_size=0) as any_size:
        width = any_size.largest_face(tiny).width
    assert 20 < width < MIN_FACE_SIZE
    with pytest.raises(FaceTooSmallError, match=r"tiny\.png.*found.*\d+ px wide.*minimum face size of 48 px"):
        analyzer.analyze(tiny, name="tiny.png")
    with pytest.raises(NoFaceError, match="minimum face size"):  # a NoFaceError for callers that catch those
        preprocess_face(tiny, detect=True, name="tiny.png")
    with FaceAnalyzer(min_face_size=200) as strict:
        with pytest.raises(FaceTooSmallError, match="minimum face size of 200 px"):
            strict.analyze(astronaut)
    # no face at all is still "no face found", not "too small"
    noise = np.random.default_rng(5).integers(0, 256, size=(256, 256, 3), dtype=np.uint8)
    assert analyzer.analyze(noise) == []
    with pytest.raises(NoFaceError) as e:
        analyzer.largest_face(noise, name="noise")
    assert not isinstance(e.value, FaceTooSmallError) and "no face found" in str(e.value)
    with pytest.raises(ParameterError, match="min_face_size"):
        FaceAnalyzer(min_face_size=-1)


def test_dlib_points_and_descriptor_on_request(astronaut, analyzer):
    from facecraft.eval.identity import IdentityJudge

    plain = analyzer.largest_face(astronaut)
    assert plain.dlib_landmarks is None and plain.descriptor is None
    with FaceAnalyzer(with_dlib=True) as fa:
        f = fa.largest_face(astronaut)
    assert f.dlib_landmarks.shape == (68, 2) and f.descriptor.shape == (128,) and f.descriptor.dtype == np.float32
    # dlib's eye corners, mouth corners, chin and nose tip land on the same mesh points (pixels)
    pairs = {36: 33, 39: 133, 42: 362, 45: 263, 48: 61, 54: 291, 8: 152, 30: 4}
    gaps = [np.linalg.norm(f.dlib_landmarks[i] - f.landmarks[j, :2]) for i, j in pairs.items()]
    assert max(gaps) < 4.0, gaps
    assert np.linalg.norm(f.descriptor - IdentityJudge().descriptor(astronaut)) < 0.15  # same person, same photo


def test_small_face_geometry_is_for_the_whole_photo(astronaut, analyzer):
    """A face found through a HOG crop gets landmarks, camera and matrix of the full photo's camera."""
    canvas = np.full((1200, 1200, 3), 128, dtype=np.uint8)
    canvas[300:812, 500:1012] = astronaut
    f = analyzer.largest_face(canvas)
    assert f.camera.width == f.camera.height == 1200
    np.testing.assert_allclose(f.camera.project(f.landmarks_camera), f.landmarks[:, :2], atol=0.05)
    ref = analyzer.largest_face(astronaut)
    assert np.abs(f.landmarks_metric - ref.landmarks_metric).mean() < 0.003  # same face shape, other camera
    assert 0.055 < _eye_distance(f.landmarks_metric) < 0.075


def test_a_strip_image_is_no_face_not_a_crash(analyzer):
    assert analyzer.analyze(np.full((1, 3000, 3), 120, np.uint8), name="strip.png") == []


def test_a_photo_too_long_for_mediapipe_is_an_error_not_an_abort(analyzer):
    # a side of 32767 px or more (or made so by the border tried around a photo without a face) aborted the process
    with pytest.raises(ParameterError, match="40000x2 px.*at most 32766 px a side"):
        analyzer.analyze(np.full((2, 40_000, 3), 90, np.uint8), name="strip.png")
    assert analyzer.analyze(np.full((8, 25_000, 3), 90, np.uint8), name="panorama.png") == []
