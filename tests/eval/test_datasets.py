"""Data set readers: ImageFolder, path/label CSV, FER2013 CSV, splits, bad files."""

from __future__ import annotations

import csv

import numpy as np
import pytest
from PIL import Image

from facecraft.eval.datasets import (
    FERPLUS_VOTE_ORDER,
    SPLITS,
    apply_split_csv,
    class_folder_names,
    ferplus_majority,
    load_csv,
    load_dataset,
    load_fer2013_csv,
    load_image_folder,
    stratified_split,
)
from facecraft.eval.images import EmptyFolderError
from facecraft.rigs import EMOTION_INDEX, EMOTIONS, FileFormatError, MissingFileError, ParameterError


def _face(c: int, k: int, side: int = 48) -> np.ndarray:
    rng = np.random.default_rng(100 * c + k)
    img = (rng.random((side, side)) * 60).astype(np.uint8)
    img[4 + 5 * c : 8 + 5 * c] = 220
    return img


def _write_folder(root, names=("happy", "angry", "Sad"), per_class=5):
    for c, name in enumerate(names):
        (root / name).mkdir(parents=True)
        for k in range(per_class):
            Image.fromarray(_face(c, k)).save(root / name / f"{k:03d}.png")
    return root


def test_image_folder_normalises_labels_and_reads_grey(tmp_path):
    ds = load_image_folder(_write_folder(tmp_path / "d"), size=32)
    assert ds.images.shape == (15, 32, 32) and ds.images.dtype == np.uint8
    assert sorted(set(ds.labels.tolist())) == sorted(EMOTION_INDEX[e] for e in ("happiness", "anger", "sadness"))
    assert ds.paths[0].endswith(".png") and "/" in ds.paths[0]
    assert ds.class_counts[EMOTION_INDEX["happiness"]] == 5


def test_images_in_folders_below_a_class_folder_are_that_class(tmp_path):
    root = _write_folder(tmp_path / "d")
    (root / "happy" / "batch2" / "deeper").mkdir(parents=True)
    Image.fromarray(_face(0, 9)).save(root / "happy" / "batch2" / "deeper" / "x.png")
    (root / "happy" / ".thumbnails").mkdir()
    Image.fromarray(_face(0, 8)).save(root / "happy" / ".thumbnails" / "t.png")  # hidden: not read
    ds = load_image_folder(root)
    assert len(ds) == 16 and ds.class_counts[EMOTION_INDEX["happiness"]] == 6
    assert "happy/batch2/deeper/x.png" in ds.paths


def test_class_folder_names_map_emotions_to_the_data_sets_own_names(tmp_path):
    root = _write_folder(tmp_path / "d")
    (root / "misc").mkdir()
    assert class_folder_names(root) == {"happiness": "happy", "anger": "angry", "sadness": "Sad"}
    (tmp_path / "d.csv").write_text("path,label\n")
    assert class_folder_names(tmp_path / "d.csv") == {}


def test_kaggle_fer2013_split_folders_give_their_split_and_a_val_share_of_train(tmp_path):
    # Kaggle's FER2013 download: train/<class>/ and test/<class>/, no val/ (the root was "no images in class folders")
    root = tmp_path / "fer2013"
    _write_folder(root / "train", names=("angry", "happy", "sad", "surprise"), per_class=10)
    _write_folder(root / "test", names=("angry", "happy", "sad"), per_class=3)
    ds = load_dataset(root)
    assert len(ds) == 49 and ds.class_counts[EMOTION_INDEX["anger"]] == 13
    split_of = dict(zip(ds.paths, ds.splits, strict=True))
    assert {split_of[f"test/angry/{k:03d}.png"] for k in range(3)} == {"test"}
    assert sum(s == "test" for s in ds.splits) == 9  # exactly the test folder
    assert {split_of[p] for p in ds.paths if p.startswith("train/")} == {"train", "val"}
    assert sum(s == "val" for s in ds.splits) == 4  # one per train class
    names = {"anger": "angry", "happiness": "happy", "sadness": "sad", "surprise": "surprise"}
    assert class_folder_names(root) == names


def test_a_folder_of_another_layout_says_what_to_give_instead(tmp_path):
    (tmp_path / "raf" / "basic" / "Image").mkdir(parents=True)
    Image.fromarray(_face(0, 0)).save(tmp_path / "raf" / "basic" / "Image" / "train_00001_aligned.jpg")
    with pytest.raises(EmptyFolderError, match=r"train/<emotion>.*path,label\[,split\] CSV"):
        load_dataset(tmp_path / "raf")


def test_corrupt_images_are_skipped_and_reported(tmp_path, caplog):
    root = _write_folder(tmp_path / "d")
    (root / "happy" / "broken.png").write_bytes(b"\x89PNG not really")
    ds = load_image_folder(root)
    assert len(ds) == 15 and len(ds.skipped) == 1 and "broken.png" in ds.skipped[0]
    assert "broken.png" in caplog.text


def test_a_set_read_again_in_the_same_run_reports_its_skips_once(tmp_path, caplog):
    from facecraft.eval.datasets import rereading

    root = _write_folder(tmp_path / "d")
    (root / "happy" / "broken.png").write_bytes(b"\x89PNG not really")

    def said() -> int:
        return sum("skipping" in r.getMessage() and "broken.png" in r.getMessage() for r in caplog.records)

    load_image_folder(root)
    assert said() == 1
    with rereading():  # augment reads its set three times: the file was said three times
        again = load_image_folder(root)
    assert said() == 1 and len(again.skipped) == 1
    load_image_folder(root)  # the warnings are back after it
    assert said() == 2


def test_the_skip_warning_says_what_each_skip_was(tmp_path, caplog, monkeypatch):
    # a broken file and a readable photo with no face in it were both "skipped 2 unreadable image(s)"
    from facecraft.eval import datasets
    from facecraft.eval.faces import NO_FACE_FOUND
    from facecraft.rigs.errors import NoFaceError

    root = _write_folder(tmp_path / "d")
    (root / "happy" / "broken.png").write_bytes(b"\x89PNG not really")
    Image.fromarray(np.full((400, 600), 128, np.uint8)).save(root / "Sad" / "coffee.png")
    read = datasets.preprocess_face

    def preprocess(path, **kwargs):  # the face detector's own words, without running it
        if "coffee" in str(path):
            raise NoFaceError(f"{NO_FACE_FOUND} in {path} (shape (400, 600, 3)) by the MediaPipe face detector")
        return read(path, **kwargs)

    monkeypatch.setattr(datasets, "preprocess_face", preprocess)
    ds = load_image_folder(root)
    assert len(ds) == 15 and len(ds.skipped) == 2
    assert "skipped 2 image(s): 1 unreadable, 1 with no face found" in caplog.text
    for name in ("happy", "angry", "Sad"):  # nothing left but the two: the error counts them the same way
        for f in (root / name).glob("0*.png"):
            f.unlink()
    with pytest.raises(EmptyFolderError, match=r"2 skipped: 1 unreadable, 1 with no face found"):
        load_image_folder(root)


def test_empty_and_missing_folders_are_clear_errors(tmp_path):
    (tmp_path / "empty" / "happy").mkdir(parents=True)
    with pytest.raises(EmptyFolderError, match="no images"):
        load_image_folder(tmp_path / "empty")
    with pytest.raises(MissingFileError, match="not found"):
        load_dataset(tmp_path / "nowhere")


def test_csv_layout_with_split_column(tmp_path):
    root = _write_folder(tmp_path / "d")
    rows = [("happy/000.png", "Happy", "train"), ("angry/001.png", "angry", "test"), ("Sad/002.png", "sad", "val")]
    with (root / "list.csv").open("w", newline="") as f:
        csv.writer(f).writerows([("path", "label", "split"), *rows])
    ds = load_dataset(root / "list.csv")
    assert ds.splits.tolist() == ["train", "test", "val"]
    assert [EMOTIONS[i] for i in ds.labels] == ["happiness", "anger", "sadness"]
    with (root / "bad.csv").open("w", newline="") as f:
        csv.writer(f).writerows([("path", "label"), ("happy/000.png", "bored")])
    with pytest.raises(FileFormatError, match="line 2"):
        load_csv(root / "bad.csv")


def test_a_label_list_or_numbered_labels_say_how_to_write_the_csv(tmp_path):
    (tmp_path / "labels.txt").write_text("img_00001.jpg 5\nimg_00002.jpg 1\n")  # a 'name label' list
    with pytest.raises(FileFormatError, match=r"'name label' list .*path,label\[,split\] header"):
        load_csv(tmp_path / "labels.txt")
    (tmp_path / "numbered.csv").write_text("path,label\na.png,5\n")
    with pytest.raises(FileFormatError, match=r"line 2: .*raf-db 1-7: surprise, fear.*write the emotion's name"):
        load_dataset(tmp_path / "numbered.csv")


def _write_raf_db(root, labels=(1, 4, 7, 6, 2), *, bad_line: str = ""):
    """RAF-DB basic: Image/aligned/<name>_aligned.jpg and EmoLabel/list_patition_label.txt ('name label', 1-7)."""
    (root / "Image" / "aligned").mkdir(parents=True)
    (root / "EmoLabel").mkdir()
    lines = []
    for k, label in enumerate(labels):
        name = f"train_{k + 1:05d}.jpg" if k < 3 else f"test_{k + 1:04d}.jpg"
        Image.fromarray(_face(label, k, side=100)).convert("RGB").save(root / "Image" / "aligned" / name.replace(
            ".jpg", "_aligned.jpg"))  # fmt: skip
        lines.append(f"{name} {label}")
    (root / "EmoLabel" / "list_patition_label.txt").write_text("\n".join([*lines, bad_line]) + "\n")
    return root


def test_raf_db_basic_is_read_with_its_label_order_and_its_train_test_names(tmp_path):
    root = _write_raf_db(tmp_path / "basic")
    (root / "Image" / "aligned" / "test_0005_aligned.jpg").write_bytes(b"\xff\xd8 broken")
    for source in (root, root / "EmoLabel" / "list_patition_label.txt"):  # the folder or its list
        ds = load_dataset(source, detect=False)  # was: refused, "write a CSV"
        assert [EMOTIONS[i] for i in ds.labels] == ["surprise", "happiness", "neutral", "anger"]
        assert ds.paths[0] == ("Image" if source == root else "../Image") + "/aligned/train_00001_aligned.jpg"
        assert ds.splits[3] == "test" and set(ds.splits[:3]) <= {"train", "val"}
        assert len(ds.skipped) == 1 and "test_0005_aligned.jpg" in ds.skipped[0]
    _write_raf_db(tmp_path / "bad", bad_line="train_00009.jpg 8")
    with pytest.raises(FileFormatError, match=r"list_patition_label.txt line 6: class '8': raf-db numbers"):
        load_dataset(tmp_path / "bad")


def test_numbered_class_folders_are_read_in_the_named_sets_order_and_refused_without_one(tmp_path):
    root = _write_folder(tmp_path / "affectnet", names=("0", "1", "7"), per_class=2)
    with pytest.raises(FileFormatError, match=r"named by number \(0, 1, 7\).*affectnet 0-7: neutral.*--label-order"):
        load_dataset(root)  # was: every folder ignored as "not an emotion name", then "no images"
    ds = load_dataset(root, label_order="affectnet")
    assert sorted({(p.split("/")[0], EMOTIONS[i]) for p, i in zip(ds.paths, ds.labels, strict=True)}) == [
        ("0", "neutral"), ("1", "happiness"), ("7", "contempt")]  # fmt: skip


def test_a_numbered_sets_folder_names_are_its_numbers_and_a_mistyped_order_is_refused(tmp_path):
    # augment writes its variants under the set's own folder names: an AffectNet set was refused there ("named by
    # number") before its faces were read, and a mistyped order was ignored where the set has no number to read
    root = tmp_path / "affectnet7"
    _write_folder(root / "train", names=("0", "3", "6"), per_class=3)
    _write_folder(root / "val", names=("0", "3", "6"), per_class=1)
    names = class_folder_names(root, label_order="affectnet")
    assert names["neutral"] == "0" and names["surprise"] == "3" and names["anger"] == "6"
    assert names["fear"] == "4" and names["contempt"] == "7"  # no folder of its own: the order's number, not "fear"
    assert class_folder_names(_write_folder(tmp_path / "named"), label_order="affectnet") == {
        "happiness": "happy", "anger": "angry", "sadness": "Sad"}  # fmt: skip
    with pytest.raises(ParameterError, match=r"label order: expected one of .*affectnet.*, got 'afectnet'"):
        load_dataset(tmp_path / "named", label_order="afectnet")


def test_folders_that_are_no_class_are_left_out_with_a_warning_saying_why(tmp_path, caplog):
    root = _write_folder(tmp_path / "raf", names=("0", "1", "suprise"), per_class=1)
    ds = load_dataset(root, label_order="raf-db", detect=False)
    assert [(p.split("/")[0], EMOTIONS[i]) for p, i in zip(ds.paths, ds.labels, strict=True)] == [("1", "surprise")]
    assert "raf/0 and its images: class '0': raf-db numbers its classes 1-7" in caplog.text
    assert "suprise and its images: unknown emotion label 'suprise'; did you mean 'surprise'?" in caplog.text
    caplog.clear()
    ds = load_dataset(_write_folder(tmp_path / "named", names=("happy", "8"), per_class=1), detect=False)
    assert len(ds) == 1 and "ignoring numbered folders 8" in caplog.text  # a stray number does not stop the set


def test_numbered_csv_labels_are_read_with_a_label_order(tmp_path):
    root = _write_folder(tmp_path / "d")
    (root / "list.csv").write_text("path,label\nhappy/000.png,0\nangry/000.png,6\n")
    ds = load_dataset(root / "list.csv", label_order="fer2013")
    assert [EMOTIONS[i] for i in ds.labels] == ["anger", "neutral"]


def _write_fer2013_pair(root, votes):
    """FER2013's fer2013.csv and FER+'s fer2013new.csv for the same rows (one per vote row)."""
    root.mkdir()
    usages = ["Training", "PublicTest", "PrivateTest", "Training", "Training"][: len(votes)]
    with (root / "fer2013.csv").open("w", newline="") as f:
        csv.writer(f).writerows([["emotion", "pixels", "Usage"]] + [
            [0, " ".join(map(str, _face(k, 0).ravel())), u] for k, u in enumerate(usages)])  # fmt: skip
    with (root / "fer2013new.csv").open("w", newline="") as f:
        w = csv.writer(f, lineterminator="\r\n")  # as FER+ ships it
        w.writerow(["Usage", "Image name", *FERPLUS_VOTE_ORDER])
        rows = enumerate(zip(usages, votes, strict=True))
        w.writerows([[u, f"fer{k:07d}.png" if name else "", *v] for k, (u, (name, v)) in rows])
    return root / "fer2013new.csv"


def test_ferplus_csv_takes_majority_labels_and_fer2013s_pixels(tmp_path):
    votes = [(True, [0, 8, 0, 0, 0, 0, 0, 0, 2, 0]), (True, [0, 0, 0, 0, 0, 0, 7, 0, 0, 3]),
             (True, [3, 0, 0, 0, 3, 0, 0, 0, 4, 0]), (False, [10, 0, 0, 0, 0, 0, 0, 0, 0, 0]),
             (True, [0, 0, 0, 0, 0, 0, 0, 6, 1, 3])]  # fmt: skip
    path = _write_fer2013_pair(tmp_path / "fer", votes)
    ds = load_dataset(path)  # was: "expected columns path,label[,split]"
    assert [EMOTIONS[i] for i in ds.labels] == ["happiness", "fear", "contempt"]  # no majority, no name: left out
    assert ds.paths == ["fer2013new.csv:2", "fer2013new.csv:3", "fer2013new.csv:6"]
    assert ds.splits[1] == "val" and ds.splits[0] == ds.splits[2] != "test"
    np.testing.assert_array_equal(ds.images[2], _face(4, 0))  # row 5's pixels, from fer2013.csv
    assert ds.targets[0, EMOTION_INDEX["happiness"]] == 1.0
    (tmp_path / "fer" / "fer2013.csv").unlink()
    with pytest.raises(MissingFileError, match="FER\\+ labels only.*fer2013.csv"):
        load_dataset(path)


def test_ferplus_own_folders_are_read_with_their_votes_and_split(tmp_path):
    root = tmp_path / "ferplus"
    votes = {"FER2013Train": [[0, 9, 1, 0, 0, 0, 0, 0, 0, 0], [4, 4, 2, 0, 0, 0, 0, 0, 0, 0]],
             "FER2013Test": [[0, 0, 0, 0, 0, 0, 0, 7, 3, 0]]}  # fmt: skip
    for folder, rows in votes.items():
        (root / folder).mkdir(parents=True)
        for k in range(len(rows)):
            Image.fromarray(_face(k, len(folder))).save(root / folder / f"fer{k:07d}.png")
        lines = [f'fer{k:07d}.png,"(0, 0, 48, 48)",{",".join(map(str, v))}' for k, v in enumerate(rows)]
        (root / folder / "label.csv").write_text("\n".join(lines) + "\n")
    ds = load_dataset(root)  # was: "holds no images in class sub-folders"
    assert ds.paths == ["FER2013Train/fer0000000.png", "FER2013Test/fer0000000.png"]  # the 4-4 tie: no majority
    assert [EMOTIONS[i] for i in ds.labels] == ["happiness", "contempt"] and ds.splits[1] == "test"
    np.testing.assert_allclose(ds.targets[0][[EMOTION_INDEX["happiness"], EMOTION_INDEX["surprise"]]], [1.0, 0.0])


def test_ferplus_majority_follows_ferplus_rule():
    assert ferplus_majority([6, 3, 1, 0, 0, 0, 0, 0, 0, 0]) == "neutral"
    assert ferplus_majority([5, 5, 0, 0, 0, 0, 0, 0, 0, 0]) is None  # a tie is no majority
    assert ferplus_majority([1, 1, 1, 1, 1, 1, 1, 1, 1, 1]) is None  # single votes are noise
    assert ferplus_majority([0, 0, 0, 0, 0, 0, 0, 0, 8, 2]) is None  # unknown wins: not labelled


def test_fer2013_csv(tmp_path):
    path = tmp_path / "fer2013.csv"
    with path.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["emotion", "pixels", "Usage"])
        w.writerow([3, " ".join(map(str, _face(0, 0).ravel())), "Training"])
        w.writerow([0, " ".join(map(str, _face(1, 0).ravel())), "PrivateTest"])
        w.writerow([6, "1 2 3", "PublicTest"])  # not a square image: skipped
    ds = load_fer2013_csv(path)
    assert [EMOTIONS[i] for i in ds.labels] == ["happiness", "anger"]
    assert ds.splits.tolist() == ["train", "test"] and len(ds.skipped) == 1
    np.testing.assert_array_equal(ds.images[0], _face(0, 0))


def test_fer2013_emotion_codes_outside_0_to_6_are_skipped_not_read_from_the_end(tmp_path):
    path = tmp_path / "fer2013.csv"
    pixels = " ".join(map(str, _face(0, 0).ravel()))
    with path.open("w", newline="") as f:
        csv.writer(f).writerows([["emotion", "pixels"], [3, pixels], [-1, pixels], [7, pixels]])
    ds = load_fer2013_csv(path)
    assert [EMOTIONS[i] for i in ds.labels] == ["happiness"]  # -1 was read as FER2013's last class, neutral
    assert len(ds.skipped) == 2 and ds.skipped[0].endswith(":3: emotion: expected 0-6 (FER2013's order), got -1")


def test_a_few_rows_without_a_known_split_do_not_re_split_the_whole_set(tmp_path):
    pixels = " ".join(map(str, _face(0, 0).ravel()))
    path = tmp_path / "fer2013.csv"
    with path.open("w", newline="") as f:
        csv.writer(f).writerows([["emotion", "pixels", "Usage"], [3, pixels, "Training"], [0, pixels, "PrivateTest"],
                                 [2, pixels, "Holdout"]])  # fmt: skip
    ds = load_dataset(path)  # was: every row given a fresh stratified split, the PrivateTest face in train
    assert ds.splits.tolist() == ["train", "test"]
    assert len(ds.skipped) == 1 and ds.skipped[0].endswith(
        "Usage: expected Training, PublicTest or PrivateTest, got 'Holdout'"
    )
    root = _write_folder(tmp_path / "d")
    with (root / "list.csv").open("w", newline="") as f:
        csv.writer(f).writerows([("path", "label", "split"), ("happy/000.png", "happy", "test"),
                                 ("angry/000.png", "angry", "")])  # fmt: skip
    with pytest.raises(FileFormatError, match=r"list.csv: 1 of 2 images have no split.*angry/000.png"):
        load_dataset(root / "list.csv")


def test_stratified_split_is_reproducible_and_stratified():
    labels = np.repeat(np.arange(4), [50, 20, 10, 3])
    a, b = stratified_split(labels, seed=1), stratified_split(labels, seed=1)
    assert (a == b).all() and not (a == stratified_split(labels, seed=2)).all()
    for c, n in enumerate([50, 20, 10, 3]):
        part = a[labels == c]
        assert (part == "test").sum() == max(1, round(n * 0.2)) and (part == "val").sum() == max(1, round(n * 0.1))
    with pytest.raises(ParameterError, match="fractions"):
        stratified_split(labels, val=0.5, test=0.6)


@pytest.mark.parametrize("usages", [("Training", "PrivateTest"), ("Training",)])
def test_a_fer2013_csv_without_val_rows_gets_a_val_share_of_train_and_says_so(tmp_path, usages):
    # a FER2013 CSV without PublicTest rows had no val part: fer train and bench augment refused it, while split
    # folders without val/ got a stratified 10% of train
    path = tmp_path / "fer2013.csv"
    with path.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["emotion", "pixels", "Usage"])
        for code in (3, 0, 6):  # happiness, anger, neutral
            for k in range(12):
                w.writerow([code, " ".join(map(str, _face(code, k).ravel())), usages[k % len(usages)]])
    ds = load_dataset(path)
    assert sum(s == "val" for s in ds.splits) == 3  # 10% of each class's train rows
    assert sum(s == "test" for s in ds.splits) == (0 if len(usages) == 1 else 18)  # the set's own test rows kept
    val = ds.labels[ds.splits == "val"]
    assert sorted(EMOTIONS[i] for i in val) == ["anger", "happiness", "neutral"]
    assert "val a stratified 10% of its train part" in ds.split_origin
    assert ("no test part" in ds.split_origin) == (len(usages) == 1)
    assert ds.splits.tolist() == load_dataset(path).splits.tolist()  # the same split on every read


def test_a_split_column_without_val_rows_gets_a_val_share_of_train(tmp_path):
    root = _write_folder(tmp_path / "d", per_class=10)
    with (root / "list.csv").open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["path", "label", "split"])
        for name in ("happy", "angry", "Sad"):
            w.writerows((f"{name}/{k:03d}.png", name, "test" if k < 2 else "train") for k in range(10))
    ds = load_dataset(root / "list.csv")
    assert sum(s == "val" for s in ds.splits) == 3 and sum(s == "test" for s in ds.splits) == 6
    assert ds.split_origin.startswith("the set's own") and "10% of its train part" in ds.split_origin


def test_default_split_and_split_csv(tmp_path):
    root = _write_folder(tmp_path / "d", per_class=10)
    ds = load_dataset(root, seed=0)
    assert set(ds.splits.tolist()) == set(SPLITS)
    assert len(ds.subset("train")) + len(ds.subset("val")) + len(ds.subset("test")) == len(ds)
    with (root / "split.csv").open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["path", "label", "split"])
        for p in ds.paths:
            w.writerow([p, "x", "test" if p.endswith("000.png") else "train"])
    fixed = load_dataset(root)  # picks up root/split.csv by itself
    assert (fixed.splits == "test").sum() == 3
    with (tmp_path / "partial.csv").open("w", newline="") as f:
        csv.writer(f).writerows([("path", "split"), (ds.paths[0], "train")])
    with pytest.raises(FileFormatError, match="not listed"):
        apply_split_csv(ds, tmp_path / "partial.csv")
    with pytest.raises(ParameterError, match="split"):
        ds.subset("holdout")


def test_a_split_csv_with_an_unknown_split_names_its_file_and_line(tmp_path):
    ds = load_dataset(_write_folder(tmp_path / "d", per_class=2))
    with (tmp_path / "split.csv").open("w", newline="") as f:
        csv.writer(f).writerows(
            [("path", "split"), *((p, "validation" if i == 1 else "train") for i, p in enumerate(ds.paths))]
        )
    with pytest.raises(FileFormatError, match=r"split.csv line 3: split must be one of .*'validation'"):
        apply_split_csv(ds, tmp_path / "split.csv")  # was: "splits: expected only (...)", no file named


def test_csv_with_an_excel_byte_order_mark_is_read_and_a_non_text_file_is_a_clear_error(tmp_path):
    root = _write_folder(tmp_path / "d")
    (root / "list.csv").write_text("path,label\nhappy/000.png,happy\n", encoding="utf-8-sig")  # Excel's "CSV UTF-8"
    assert [EMOTIONS[i] for i in load_csv(root / "list.csv").labels] == ["happiness"]  # was: got ['\ufeffpath', ...]
    for name, data in (
        ("picture.csv", (root / "happy" / "000.png").read_bytes()),
        ("latin1.csv", b"path,label\ncaf\xe9,happy\n"),
    ):
        (tmp_path / name).write_bytes(data)
        with pytest.raises(FileFormatError, match=f"{name}: not a UTF-8 text CSV"):
            load_dataset(tmp_path / name)  # was: UnicodeDecodeError


def test_fer_dev_fixed_split(shared_dir):
    ds = load_dataset(shared_dir / "data" / "fer-dev")
    assert len(ds) == 7990 and ds.images.shape[1:] == (48, 48)
    assert [int((ds.splits == s).sum()) for s in SPLITS] == [5593, 799, 1598]
    test = ds.subset("test").class_counts
    assert test[EMOTION_INDEX["contempt"]] == 8 and test[EMOTION_INDEX["neutral"]] == 560


def test_votes_become_distributions_in_emotions_order():
    from facecraft.eval.datasets import votes_to_distribution

    # FER+ order: neutral happiness surprise sadness anger disgust fear contempt unknown NF
    d = votes_to_distribution([[6, 0, 0, 3, 0, 0, 1, 0, 0, 0], [0, 0, 0, 0, 0, 0, 0, 0, 4, 6]])
    e = {name: i for i, name in enumerate(EMOTIONS)}
    assert d.shape == (2, 8) and d.dtype == np.float32
    assert d[0, e["neutral"]] == pytest.approx(6 / 9) and d[0, e["sadness"]] == pytest.approx(3 / 9)
    assert d[0, e["fear"]] == 0  # a single stray vote is dropped
    assert d[1].sum() == 0  # no emotion vote at all


def test_load_dataset_attaches_meta_csv_votes_and_concat_keeps_them(tmp_path):
    from facecraft.eval.datasets import concat_datasets

    for name in ("happiness", "neutral"):
        (tmp_path / name).mkdir()
        for k in range(3):
            Image.fromarray(np.full((48, 48), 40 * k, np.uint8)).save(tmp_path / name / f"{k}.png")
    (tmp_path / "meta.csv").write_text(
        "path,label,fer2013_usage,ferplus_votes\nhappiness/0.png,happiness,Training,2 8 0 0 0 0 0 0 0 0\n"
    )
    ds = load_dataset(tmp_path)
    i = ds.paths.index("happiness/0.png")
    h, n = EMOTIONS.index("happiness"), EMOTIONS.index("neutral")
    assert ds.targets[i, h] == pytest.approx(0.8) and ds.targets[i, n] == pytest.approx(0.2)
    j = ds.paths.index("neutral/1.png")
    assert ds.targets[j, n] == 1.0  # no votes: one-hot of the label
    assert load_dataset(tmp_path, votes=False).targets is None
    sub = ds.take([i, j])
    np.testing.assert_array_equal(sub.targets, ds.targets[[i, j]])
    both = concat_datasets([sub, load_dataset(tmp_path, votes=False).take([0])])
    assert both.targets.shape == (3, 8) and both.targets[2].max() == 1.0
    np.testing.assert_allclose(sub.soft_targets(smoothing=0.1).sum(axis=1), 1.0, rtol=1e-6)


def test_ready_made_crops_are_not_searched_for_a_face(tmp_path):
    from facecraft.eval.datasets import load_dataset

    for i, label in enumerate(["happiness", "sadness", "anger"]):
        (tmp_path / label).mkdir()
        grey = np.random.default_rng(i).integers(0, 255, (224, 224), dtype=np.uint8)  # large, no face to find
        Image.fromarray(grey).save(tmp_path / label / "a.png")
    crops = load_dataset(tmp_path, size=48, detect=False, votes=False)
    assert len(crops.labels) == 3 and crops.images.shape[1:] == (48, 48)  # --crops: every image kept, resized
