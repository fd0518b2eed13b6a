"""Identity distance with dlib's descriptor: real portraits, a mirrored/tilted photo, bad files, folder mode."""

from __future__ import annotations

import csv
import shutil

import numpy as np
import pytest
from PIL import Image

from facecraft.eval.identity import IdentityJudge, all_pairs_identity, identity_folder
from facecraft.eval.images import EmptyFolderError, load_image
from facecraft.rigs import resolve_asset
from facecraft.rigs.errors import FileFormatError, NoFaceError, ParameterError


@pytest.fixture(scope="module")
def judge() -> IdentityJudge:
    return IdentityJudge()


@pytest.fixture(scope="module")
def astronaut() -> np.ndarray:
    return load_image(resolve_asset("astronaut"))


def test_descriptor_and_self_distance(judge, astronaut):
    d = judge.descriptor(astronaut)
    assert d.shape == (128,) and d.dtype == np.float32
    r = judge.distance(astronaut, astronaut)
    assert r.distance == pytest.approx(0.0, abs=1e-6) and r.same_person and r.threshold == 0.6
    mirrored = judge.distance(astronaut, np.ascontiguousarray(astronaut[:, ::-1]))
    assert 0.0 < mirrored.distance < 0.4 and mirrored.same_person


def test_tilted_face_falls_back_to_mediapipe(judge, astronaut):
    tilted = np.asarray(Image.fromarray(astronaut).rotate(60, resample=Image.BILINEAR))
    desc, used = judge.descriptor_with_detector(tilted)
    assert used == "mediapipe"  # HOG's frontal detector misses a face rolled by 60 degrees
    assert judge.result_from_descriptors(judge.descriptor(astronaut), desc).same_person
    with pytest.raises(NoFaceError):
        IdentityJudge(detector="hog").descriptor(tilted)
    mp_only = IdentityJudge(detector="mediapipe").descriptor_with_detector(astronaut)
    assert mp_only[1] == "mediapipe"
    assert np.linalg.norm(mp_only[0] - judge.descriptor(astronaut)) < 0.15  # the five points agree
    with pytest.raises(ParameterError, match="detector"):
        IdentityJudge(detector="cnn")


def test_noise_and_corrupt_file(judge, tmp_path):
    noise = np.random.default_rng(1).integers(0, 256, size=(300, 300, 3), dtype=np.uint8)
    with pytest.raises(NoFaceError, match="static"):
        judge.descriptor(noise, name="static")
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(b"not an image")
    with pytest.raises(FileFormatError, match="bad.jpg"):
        judge.descriptor(bad)


def test_portraits_all_pairs(judge, shared_dir):
    folder = shared_dir / "data" / "portraits"
    with open(folder / "people.csv", newline="") as f:
        people = {row["file"]: row["person_id"] for row in csv.DictReader(f)}
    report = all_pairs_identity([folder / n for n in sorted(people)], people, judge=judge)
    assert report["described"] == report["images"] == len(people)
    assert report["same_pairs"] == 15 and report["different_pairs"] == 32 * 31 // 2 - 15
    assert report["same_below_threshold"] == 1.0, report["worst_same"]
    assert report["different_above_threshold"] == 1.0, report["worst_different"]
    assert report["same"]["max"] < report["different"]["min"]


def test_folder_mode_reports_skips(judge, astronaut, tmp_path, shared_dir):
    a, b = tmp_path / "src", tmp_path / "edit"
    a.mkdir()
    b.mkdir()
    portraits = shared_dir / "data" / "portraits"
    shutil.copy(portraits / "person_01_1.jpg", a / "x.jpg")
    shutil.copy(portraits / "person_01_2.jpg", b / "x.png")  # same stem, other extension: paired
    shutil.copy(portraits / "person_01_1.jpg", a / "y.jpg")
    shutil.copy(portraits / "person_02_1.jpg", b / "y.jpg")
    Image.fromarray(astronaut).save(a / "z.png")
    (b / "z.png").write_bytes(b"\x89PNG broken")
    noise = np.random.default_rng(2).integers(0, 256, size=(200, 200, 3), dtype=np.uint8)
    Image.fromarray(noise).save(a / "n.png")
    Image.fromarray(astronaut).save(b / "n.png")
    Image.fromarray(astronaut).save(a / "lonely.png")
    res = identity_folder(a, b, judge=judge)
    by_name = {r.a.split("/")[-1]: r for r in res.results}
    assert set(by_name) == {"x.jpg", "y.jpg"}
    assert by_name["x.jpg"].same_person and not by_name["y.jpg"].same_person
    kinds = {s.item.split("/")[-1].split(" | ")[0]: s.kind for s in res.skipped}
    assert kinds == {"lonely.png": "Unpaired", "z.png": "FileFormatError", "n.png": "NoFaceError"}
    assert res.same_person_rate == 0.5 and res.distances["n"] == 2
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(EmptyFolderError, match="no image files"):
        identity_folder(a, empty, judge=judge)
