"""Sets labelled in their file names (JAFFE, KDEF/AKDEF) and CK+'s sequences: labels, people, skips, splits by person.

The fake sets are a few real 48 px FER2013 faces (fer-dev's train split) saved under each set's own names; without
the shared folder the same tests run on synthetic crops (what is checked is the reading, not the faces).
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from facecraft.apps.cli import main
from facecraft.eval.datasets import load_dataset, load_image_folder, person_split
from facecraft.eval.images import EmptyFolderError
from facecraft.rigs import EMOTIONS, ParameterError
from facecraft.rigs.assets import shared_data_dir

FER_DEV = shared_data_dir() / "data" / "fer-dev"


@pytest.fixture(scope="module")
def crops() -> list[np.ndarray]:
    """Twelve 48 px grey faces: fer-dev train crops where the shared folder is, else striped noise."""
    split = FER_DEV / "split.csv"
    if split.is_file():
        rows = [line.split(",") for line in split.read_text().splitlines()[1:]]
        paths = [FER_DEV / r[0] for r in rows if r[2] == "train"][::400][:12]
        return [np.asarray(Image.open(p).convert("L")) for p in paths]
    rng = np.random.default_rng(0)
    return [((rng.random((48, 48)) * 60) + 40 * (k % 3)).astype(np.uint8) for k in range(12)]


def _save(crops, root, names) -> None:
    for k, name in enumerate(names):
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(crops[k % len(crops)]).save(root / name)


def _labels(ds) -> dict[str, str]:
    return {p: EMOTIONS[int(c)] for p, c in zip(ds.paths, ds.labels, strict=True)}


def _people_in_one_part(ds) -> bool:
    return all(len({s for q, s in zip(ds.persons, ds.splits, strict=True) if q == p}) == 1 for p in set(ds.persons))


JAFFE = [
    "KA.AN1.39.tiff", "KA.HA1.29.tiff", "KA.NE1.26.tiff", "KL.DI1.158.tiff", "KL.FE2.175.tiff", "KL.SA1.161.tiff",
    "KM.SU1.14.tiff", "KM.HA4.7.tiff", "KR.AN1.83.tiff", "KR.NE2.80.tiff", "NA.SU1.79.tiff", "NA.SA1.209.tiff",
]  # fmt: skip


def test_jaffe_names_give_labels_posers_and_a_split_by_poser(tmp_path, crops, caplog):
    # a flat JAFFE folder was "no images in class sub-folders ... write a path,label[,split] CSV"
    root = tmp_path / "jaffe"
    _save(crops, root, [*JAFFE, "KA.XX1.40.tiff", "cover.png"])
    (root / "README_FIRST.txt").write_text("JAFFE")
    ds = load_dataset(root)
    assert len(ds) == 12 and ds.images.shape[1:] == (48, 48)
    labels = _labels(ds)
    assert labels["KA.AN1.39.tiff"] == "anger" and labels["KL.FE2.175.tiff"] == "fear"
    assert labels["KL.DI1.158.tiff"] == "disgust" and labels["KR.NE2.80.tiff"] == "neutral"
    assert labels["KM.HA4.7.tiff"] == "happiness" and labels["NA.SA1.209.tiff"] == "sadness"
    assert labels["NA.SU1.79.tiff"] == "surprise"
    person = dict(zip(ds.paths, ds.persons, strict=True))
    assert person["KL.SA1.161.tiff"] == "KL" and sorted(set(ds.persons)) == ["KA", "KL", "KM", "KR", "NA"]
    assert _people_in_one_part(ds) and set(ds.splits) == {"train", "val", "test"}
    assert "by person" in ds.split_origin and "5 people" in ds.split_origin
    # the mixed folder says what it did not read and why
    assert "1 of 14 image(s) not read: unknown expression codes" in caplog.text and "KA.XX1.40.tiff" in caplog.text
    assert "1 of 14 image(s) not read: names not in JAFFE's form" in caplog.text and "cover.png" in caplog.text


KDEF = [
    "AF01/AF01ANS.JPG", "AF01/AF01AFS.JPG", "AF01/AF01HAHL.JPG", "AF01/AF01SUHR.JPG", "AF01/AF01NEFL.JPG",
    "AF01/AF01DIFR.JPG", "BF01/BF01SAS.JPG", "AM02/AM02DIS.JPG", "AM02/AM02NES.JPG", "AM03/AM03SAS.JPG",
    "AF04/AF04HAS.JPG", "AKDEF/FANS.JPG", "AKDEF/MAFHL.JPG",
]  # fmt: skip


def test_kdef_names_give_labels_people_across_sessions_and_leave_full_profiles_out(tmp_path, crops, caplog):
    root = tmp_path / "KDEF"
    _save(crops, root, [*KDEF, "AF31/AF31V.JPG", "AM05/AM05XXS.JPG"])  # AF31V: one of KDEF's own misnamed files
    ds = load_dataset(root)
    labels = _labels(ds)
    assert len(ds) == 11 and "AF01/AF01NEFL.JPG" not in labels and "AF01/AF01DIFR.JPG" not in labels
    assert labels["AF01/AF01AFS.JPG"] == "fear" and labels["AF01/AF01ANS.JPG"] == "anger"
    assert labels["AF01/AF01HAHL.JPG"] == "happiness" and labels["AF01/AF01SUHR.JPG"] == "surprise"
    assert labels["AKDEF/MAFHL.JPG"] == "fear" and labels["AKDEF/FANS.JPG"] == "anger"
    person = dict(zip(ds.paths, ds.persons, strict=True))
    assert person["AF01/AF01ANS.JPG"] == person["BF01/BF01SAS.JPG"] == "F01"  # sessions A and B: one woman
    assert person["AM02/AM02DIS.JPG"] == "M02" and person["AKDEF/FANS.JPG"] == "AKDEF-F"
    assert _people_in_one_part(ds)
    assert "2 of 15 image(s) not read: full profiles (FL, FR) left out by design" in caplog.text
    assert "1 of 15 image(s) not read: names not in KDEF's form" in caplog.text and "AF31V.JPG" in caplog.text
    assert "1 of 15 image(s) not read: unknown expression codes" in caplog.text and "AM05XXS.JPG" in caplog.text


def _ck_sequence(crops, root, subject, seq, frames, code=None) -> str:
    names = [f"{subject}_{seq}_{k:08d}.png" for k in range(1, frames + 1)]
    _save(crops, root / "cohn-kanade-images" / subject / seq, names)
    if code is not None:
        label = root / "Emotion" / subject / seq / f"{subject}_{seq}_{frames:08d}_emotion.txt"
        label.parent.mkdir(parents=True, exist_ok=True)
        label.write_text(code)
    return names[-1]


def test_ck_plus_reads_peak_frames_with_their_emotion_and_first_frames_as_neutral(tmp_path, crops, caplog):
    root = tmp_path / "CK+"
    _ck_sequence(crops, root, "S005", "001", 11, "   3.0000000e+00\n")  # CK+'s own way of writing 3 (disgust)
    _ck_sequence(crops, root, "S010", "002", 4, "   5.0000000e+00\n")
    _ck_sequence(crops, root, "S010", "004", 3, "   2.0000000e+00\n")
    _ck_sequence(crops, root, "S011", "001", 5, "   7.0000000e+00\n")
    _ck_sequence(crops, root, "S011", "002", 5)  # no label file: not read
    _ck_sequence(crops, root, "S014", "001", 3, "   9.0000000e+00\n")  # no such code
    _ck_sequence(crops, root, "S014", "002", 3, "happy\n")
    (root / "Emotion" / "S015" / "001").mkdir(parents=True)
    (root / "Emotion" / "S015" / "001" / "S015_001_00000020_emotion.txt").write_text("1.0\n")  # its frames missing
    ds = load_dataset(root)
    labels = _labels(ds)
    assert len(ds) == 8
    assert labels["cohn-kanade-images/S005/001/S005_001_00000011.png"] == "disgust"
    assert labels["cohn-kanade-images/S005/001/S005_001_00000001.png"] == "neutral"
    assert labels["cohn-kanade-images/S010/004/S010_004_00000003.png"] == "contempt"
    assert labels["cohn-kanade-images/S011/001/S011_001_00000005.png"] == "surprise"
    assert sum(v == "neutral" for v in labels.values()) == 4 and "S005_001_00000005" not in str(ds.paths)
    assert sorted(set(ds.persons)) == ["S005", "S010", "S011"] and _people_in_one_part(ds)
    assert "2 of 7 label file(s) not read: emotion codes not one number 0-7" in caplog.text
    assert "S014_001_00000003_emotion.txt" in caplog.text
    assert "1 of 7 label file(s) not read: labelled frames missing" in caplog.text


def test_a_class_folder_holding_jaffe_named_files_is_still_read_by_its_folder(tmp_path, crops):
    root = tmp_path / "d"
    _save(crops, root, ["happy/KA.AN1.39.tiff", "happy/x.png", "sad/KA.SA1.33.tiff"])
    ds = load_dataset(root)
    assert _labels(ds)["happy/KA.AN1.39.tiff"] == "happiness" and ds.persons is None
    with pytest.raises(EmptyFolderError, match="JAFFE's or KDEF's file names.*CK\\+'s cohn-kanade-images/"):
        load_image_folder(tmp_path / "d" / "happy")


def test_person_split_keeps_each_person_in_one_part_and_is_reproducible():
    persons = [f"P{k % 10}" for k in range(213)]  # JAFFE-sized: 10 people
    a, b = person_split(persons, seed=0), person_split(persons, seed=0)
    assert a.tolist() == b.tolist() and a.tolist() != person_split(persons, seed=1).tolist()
    parts = {p: {s for q, s in zip(persons, a, strict=True) if q == p} for p in set(persons)}
    assert all(len(s) == 1 for s in parts.values())
    count = {s: sum(next(iter(v)) == s for v in parts.values()) for s in ("train", "val", "test")}
    assert count == {"train": 7, "val": 1, "test": 2}
    assert set(person_split(["a", "a", "a", "b", "c"], seed=0)) == {"train", "val", "test"}
    with pytest.raises(ParameterError, match="three people"):
        person_split(["a", "b", "a"])


def test_fer_eval_and_augment_sources_read_a_jaffe_folder(tmp_path, crops, capsys):
    from facecraft.eval.augment import dataset_sources

    root = tmp_path / "jaffe"
    _save(crops, root, JAFFE)
    out = tmp_path / "ev"
    rc = main(["fer", "eval", "--judge", "networkv2", "--data", str(root), "--subset", "all", "--out", str(out)])
    assert rc == 0 and json.loads(capsys.readouterr().out)["n"] == 12
    sources, _, counts, unreadable = dataset_sources(root)
    train = {s.id for s in sources}
    ds = load_dataset(root)
    assert train == {p for p, s in zip(ds.paths, ds.splits, strict=True) if s == "train"} and not unreadable
    assert all((root / s.id).is_file() for s in sources) and counts.sum() == len(sources)
