"""npz and JSON animation files: round trips with every optional part, name reordering, bad files."""

from __future__ import annotations

import json

import numpy as np
import pytest

from facecraft.rigs import ARKIT_NAMES, FacecraftError, FileFormatError, MissingFileError
from facecraft.rigs.animation import FaceAnimation
from facecraft.rigs.exchange import read_json_curves, read_npz, write_json_curves, write_npz

CUES = [{"start": 0.0, "end": 0.5, "value": "X"}, {"start": 0.5, "end": 1.5, "value": "D"}]
VISEMES = [{"start": 0.1, "end": 0.3, "viseme": "PP"}]


@pytest.fixture
def full_anim(random_anim):
    rng = np.random.default_rng(3)
    t = random_anim.num_frames
    return FaceAnimation(
        random_anim.curves, fps=random_anim.fps, head_rotation=random_anim.head_rotation,
        eye_rotation=random_anim.eye_rotation, flame_expression=rng.normal(size=(t, 10)),
        flame_jaw=rng.normal(size=(t, 3)) * 0.1, mouth_cues=CUES, visemes=VISEMES,
        meta={"source": "test", "emotion": {"happiness": 0.5}},
    )  # fmt: skip


def test_npz_round_trip(tmp_path, full_anim):
    path = write_npz(full_anim, tmp_path / "a.npz")
    assert path.name == "a.npz" and path.exists()
    back = FaceAnimation(**read_npz(path))
    assert np.array_equal(back.curves, full_anim.curves) and back.fps == full_anim.fps
    for key in ("head_rotation", "eye_rotation", "flame_expression", "flame_jaw"):
        assert np.array_equal(getattr(back, key), getattr(full_anim, key)), key
    assert back.mouth_cues == CUES and back.visemes == VISEMES and back.meta == full_anim.meta


def test_npz_without_optional_parts(tmp_path):
    back = read_npz(write_npz(FaceAnimation(np.zeros((2, 52)), fps=12.5), tmp_path / "b.npz"))
    assert back["fps"] == 12.5 and back["head_rotation"] is None and back["mouth_cues"] is None
    assert back["meta"] == {}


def test_npz_channels_reordered_by_names(tmp_path):
    curves = np.zeros((1, 52), np.float32)
    curves[0, 0] = 0.7  # column 0 holds jawOpen in this file
    names = ["jaw_open"] + [n for n in ARKIT_NAMES if n != "jawOpen"]
    np.savez(tmp_path / "c.npz", curves=curves, fps=30.0, names=np.array(names))
    back = read_npz(tmp_path / "c.npz")
    assert back["curves"][0, ARKIT_NAMES.index("jawOpen")] == pytest.approx(0.7)
    assert back["curves"][0, 0] == 0.0


def test_npz_bad_files(tmp_path):
    with pytest.raises(MissingFileError, match="none.npz"):
        read_npz(tmp_path / "none.npz")
    (tmp_path / "junk.npz").write_bytes(b"not a zip")
    with pytest.raises(FileFormatError, match="junk.npz: not an npz file") as caught:
        read_npz(tmp_path / "junk.npz")
    assert "pickle" not in str(caught.value)  # it said to allow unsafe loading of pickled data
    np.savez(tmp_path / "nofps.npz", curves=np.zeros((2, 52)))
    with pytest.raises(FileFormatError, match=r"nofps.npz: missing array\(s\) \['fps'\]"):
        read_npz(tmp_path / "nofps.npz")
    np.savez(tmp_path / "narrow.npz", curves=np.zeros((2, 51)), fps=30)
    with pytest.raises(FileFormatError, match=r"narrow.npz: curves must be \(T, 52\)"):
        read_npz(tmp_path / "narrow.npz")
    anim = FaceAnimation(np.zeros((1, 52)), meta={"bad": object()})
    with pytest.raises(FacecraftError, match="not JSON-serialisable"):
        write_npz(anim, tmp_path / "m.npz")


def test_json_layout_and_round_trip(tmp_path, full_anim):
    path = write_json_curves(full_anim, tmp_path / "a.json")
    doc = json.loads(path.read_text())
    assert doc["names"] == list(ARKIT_NAMES) and doc["fps"] == 30.0 and doc["num_frames"] == full_anim.num_frames
    assert doc["frames"][3][5] == round(float(full_anim.curves[3, 5]), 4)
    assert doc["mouthCues"] == CUES and doc["visemes"] == VISEMES
    back = FaceAnimation(**read_json_curves(path))
    assert np.abs(back.curves - full_anim.curves).max() <= 5e-5
    assert np.abs(back.head_rotation - full_anim.head_rotation).max() <= 5e-5
    assert back.mouth_cues == CUES and back.visemes == VISEMES and back.meta == full_anim.meta
    assert back.flame_expression.shape == (full_anim.num_frames, 10) and back.flame_jaw.shape[1] == 3
    assert np.abs(back.flame_expression - full_anim.flame_expression).max() <= 6e-6  # 5 decimals (+ float32)
    assert np.abs(back.flame_jaw - full_anim.flame_jaw).max() <= 5e-6


def test_json_reader_accepts_subsets_aliases_and_snake_case_cues(tmp_path, caplog):
    doc = {"fps": 24, "names": ["JawOpen", "eyeBlink_R"], "frames": [[0.5, 1.0], [0.25, 0.0]],
           "mouth_cues": [{"start": 0, "end": 1, "value": "A"}]}  # fmt: skip
    (tmp_path / "s.json").write_text(json.dumps(doc))
    back = read_json_curves(tmp_path / "s.json")
    assert "50 of the 52 ARKit channels not in 'names'" in caplog.text  # read as 0, as the CSV reader says too
    doc["names"] = ["jawOpen", "JawOpen"]  # one channel twice: the last column silently won
    (tmp_path / "twice.json").write_text(json.dumps(doc))
    with pytest.raises(FileFormatError, match="named twice"):
        read_json_curves(tmp_path / "twice.json")
    assert back["curves"][:, ARKIT_NAMES.index("jawOpen")].tolist() == [0.5, 0.25]
    assert back["curves"][:, ARKIT_NAMES.index("eyeBlinkRight")].tolist() == [1.0, 0.0]
    assert back["curves"].sum() == pytest.approx(1.75) and back["mouth_cues"][0]["value"] == "A"


def test_json_bad_files(tmp_path):
    with pytest.raises(MissingFileError, match="none.json"):
        read_json_curves(tmp_path / "none.json")
    cases = {
        "broken.json": ("{not json", "not readable JSON"),
        "list.json": ("[1, 2]", "expected an object with 'fps' and 'frames'"),
        "ragged.json": (json.dumps({"fps": 30, "frames": [[0.1] * 52, [0.1] * 3]}), "'frames'"),
        "names.json": (json.dumps({"fps": 30, "names": ["jawOpen", "wiggle"], "frames": [[0, 0]]}), "'wiggle'"),
        "rot.json": (json.dumps({"fps": 30, "frames": [[0] * 52], "head_rotation": [[0, 0]]}), "'head_rotation'"),
        "jaw.json": (json.dumps({"fps": 30, "frames": [[0] * 52], "flame_jaw": [[0, 0]]}), "'flame_jaw'"),
        "expr.json": (json.dumps({"fps": 30, "frames": [[0] * 52], "flame_expression": [[1], [2]]}), "'flame_exp"),
        # a file cut short (or padded) says so in its own count: it was read as it was
        "cut.json": (json.dumps({"fps": 30, "num_frames": 3, "frames": [[0] * 52] * 2}), "says 3.*holds 2 rows"),
    }
    for name, (text, msg) in cases.items():
        (tmp_path / name).write_text(text)
        with pytest.raises(FileFormatError, match=f"{name}.*{msg}"):
            read_json_curves(tmp_path / name)


@pytest.mark.parametrize(
    ("field", "value"),
    [("fps", None), ("fps", "thirty"), ("fps", 1e9), ("meta", "x"), ("meta", [1]), ("visemes", 5)],
)
def test_a_field_of_the_wrong_kind_is_an_error_naming_the_file(tmp_path, field, value):
    from facecraft.rigs.exchange import load_animation

    path = write_json_curves(FaceAnimation(np.zeros((3, 52), np.float32), fps=30), tmp_path / "take.json")
    data = json.loads(path.read_text())
    data[field] = value
    path.write_text(json.dumps(data))
    with pytest.raises(FacecraftError, match=r"take\.json"):  # it was a TypeError / ValueError traceback
        load_animation(path)
    np.savez(tmp_path / "take.npz", curves=np.zeros((3, 52), np.float32), fps=np.array(["abc"]))
    with pytest.raises(FacecraftError, match=r"take\.npz"):
        load_animation(tmp_path / "take.npz")
