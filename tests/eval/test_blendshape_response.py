"""Blendshape response: fixed score vectors for the logic, simple hand-made edits of a real photo for MediaPipe."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from PIL import Image

from facecraft.eval.blendshape_response import BlendshapeResponse, blendshape_response, blendshape_response_folder
from facecraft.eval.faces import default_analyzer
from facecraft.eval.images import EmptyFolderError, load_image
from facecraft.rigs import ARKIT_INDEX, resolve_asset
from facecraft.rigs.errors import NoFaceError, ParameterError


@pytest.fixture(scope="module")
def astronaut() -> np.ndarray:
    return load_image(resolve_asset("astronaut"))


def _scores(**values) -> np.ndarray:
    s = np.full(52, 0.1, dtype=np.float32)
    for k, v in values.items():
        s[ARKIT_INDEX[k]] = v
    return s


def test_logic_on_fixed_scores():
    before = _scores()
    r = BlendshapeResponse.from_scores(before, _scores(jawOpen=0.8, mouthFunnel=0.3), "JawOpen")
    assert r.target == "jawOpen" and r.rise == pytest.approx(0.7)
    assert r.largest_rise_name == "jawOpen" and r.target_is_largest and r.rank == 1
    assert r.top_rises(2) == [("jawOpen", pytest.approx(0.7)), ("mouthFunnel", pytest.approx(0.2))]
    r = BlendshapeResponse.from_scores(before, _scores(jawOpen=0.4, mouthFunnel=0.6, mouthPucker=0.5), "jaw_open")
    assert r.rise == pytest.approx(0.3) and r.largest_rise_name == "mouthFunnel"
    assert not r.target_is_largest and r.rank == 3
    # Nothing rose: the target "ties" at zero but a zero rise is no response.
    r = BlendshapeResponse.from_scores(before, before, "eyeBlink_L")
    assert r.target == "eyeBlinkLeft" and r.rise == 0 and not r.target_is_largest
    assert r.to_dict()["target"] == "eyeBlinkLeft"
    with pytest.raises(ParameterError, match="tongueOut"):
        BlendshapeResponse.from_scores(before, before, "tongueOut")
    with pytest.raises(ParameterError, match="unknown ARKit"):
        BlendshapeResponse.from_scores(before, before, "smile")
    with pytest.raises(ParameterError, match="after"):
        BlendshapeResponse.from_scores(before, before[:51], "jawOpen")


def _open_mouth(img: np.ndarray) -> np.ndarray:
    """Crude mouth opening: shift the face below the upper lip down and fill the gap with a dark mouth."""
    lm = default_analyzer().largest_face(img).landmarks
    ul, x0, x1 = int(lm[13, 1]), int(lm[61, 0]) - 20, int(lm[291, 0]) + 20
    out = img.copy()
    out[ul + 15 : ul + 115, x0:x1] = img[ul : ul + 100, x0:x1]
    out[ul : ul + 15, x0 + 20 : x1 - 20] = 30
    return out


def _narrow_eyes(img: np.ndarray) -> np.ndarray:
    """Squash each eye band to half its height (skin above and below)."""
    lm = default_analyzer().largest_face(img).landmarks
    out = img.copy()
    for corners, lids in (((33, 133), (159, 145)), ((362, 263), (386, 374))):
        x0, x1 = sorted(int(lm[i, 0]) for i in corners)
        x0, x1 = x0 - 8, x1 + 8
        yc, h = int(lm[list(lids), 1].mean()), 14
        band = img[yc - h : yc + h, x0:x1]
        out[yc - h : yc + h, x0:x1] = img[yc - h - 6 : yc - h, x0:x1].mean(axis=(0, 1))
        out[yc - h // 2 : yc - h // 2 + h, x0:x1] = cv2.resize(band, (x1 - x0, h), interpolation=cv2.INTER_AREA)
    return out


def test_real_edits_move_the_right_channels(astronaut):
    opened = _open_mouth(astronaut)
    r = blendshape_response(astronaut, opened, "mouthLowerDownLeft")
    assert r.rise > 0.3
    assert r.largest_rise_name in {"mouthLowerDownLeft", "mouthLowerDownRight", "jawOpen"}
    eyes = blendshape_response(astronaut, opened, "eyeSquintLeft")
    assert abs(eyes.rise) < 0.15 and not eyes.target_is_largest  # the eyes were not touched
    narrowed = blendshape_response(astronaut, _narrow_eyes(astronaut), "eyeSquintLeft")
    assert narrowed.rise > 0.15 and narrowed.rank <= 2
    same = blendshape_response(astronaut, astronaut, "jawOpen")
    np.testing.assert_allclose(same.deltas, 0.0, atol=1e-6)


def test_no_face_raises(astronaut):
    noise = np.random.default_rng(3).integers(0, 256, size=(256, 256, 3), dtype=np.uint8)
    with pytest.raises(NoFaceError, match="after image"):
        blendshape_response(astronaut, noise, "jawOpen")


def test_folder_mode(astronaut, tmp_path):
    before, after = tmp_path / "before", tmp_path / "after"
    before.mkdir()
    after.mkdir()
    opened = _open_mouth(astronaut)
    for stem in ("a", "b", "c", "d"):
        Image.fromarray(astronaut).save(before / f"{stem}.png")
    Image.fromarray(opened).save(after / "a.png")
    Image.fromarray(_narrow_eyes(astronaut)).save(after / "b.jpg")
    (after / "c.png").write_bytes(b"garbage")
    Image.fromarray(np.random.default_rng(4).integers(0, 256, (200, 200, 3), dtype=np.uint8)).save(after / "d.png")
    Image.fromarray(opened).save(after / "extra.png")
    res = blendshape_response_folder(before, after, {"a": "mouthLowerDownLeft", "b": "eyeSquintLeft", "c": "jawOpen"})
    assert [r.name for r in res.responses] == ["a", "b"]
    assert all(r.rise > 0.15 for r in res.responses)
    kinds = sorted(s.kind for s in res.skipped)
    assert kinds == ["FileFormatError", "MissingTargetError", "Unpaired"]  # c corrupt, d no target, extra unpaired
    assert set(res.per_target()) == {"mouthLowerDownLeft", "eyeSquintLeft"}
    one = blendshape_response_folder(before, after, "jawOpen")
    assert {s.kind for s in one.skipped} == {"FileFormatError", "NoFaceError", "Unpaired"}
    assert one.rises["n"] == 2
    assert one.target_largest_rate == np.mean([r.target_is_largest for r in one.responses])
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(EmptyFolderError):
        blendshape_response_folder(before, empty, "jawOpen")
