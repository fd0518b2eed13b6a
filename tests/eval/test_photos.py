"""Photo sets for FER: person-level splits, camera-like augmentation, recall per expression."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from facecraft.eval.photos import (
    LabelledPhoto,
    augment_photo,
    photo_recall,
    read_labelled_photos,
    split_people,
)
from facecraft.rigs import EMOTIONS, FileFormatError, MissingFileError, ParameterError


def _photos(n_people=6):
    return [
        LabelledPhoto(f"p{i:02d}_{e}.jpg", EMOTIONS.index(e), f"{i:02d}")
        for i in range(n_people)
        for e in ("neutral", "happiness")
    ]


def test_split_people_never_shares_a_person():
    train, held = split_people(_photos(7), holdout_every=2)
    tp, hp = {p.person for p in train}, {p.person for p in held}
    assert not tp & hp and tp | hp == {f"{i:02d}" for i in range(7)}
    assert hp == {"01", "03", "05"}  # every 2nd person by sorted identity
    assert len(held) == 6  # both photos of each held-out person
    assert split_people(_photos(3), holdout_every=0)[1] == []
    with pytest.raises(ParameterError):
        split_people(_photos(3), holdout_every=1)


def test_read_labelled_photos_maps_expressions_and_skips_unlabelled(tmp_path):
    (tmp_path / "people.csv").write_text(
        "path,identity,expression\nneutral/001.jpg,001,neutral\nsmiling/001.jpg,001,smiling\nx/2.jpg,002,unlabelled\n"
    )
    photos = read_labelled_photos(tmp_path)
    assert [(p.label, p.person) for p in photos] == [
        (EMOTIONS.index("neutral"), "001"),
        (EMOTIONS.index("happiness"), "001"),
    ]
    assert photos[0].path == tmp_path / "neutral/001.jpg"
    with pytest.raises(MissingFileError, match="people.csv"):
        read_labelled_photos(tmp_path / "nope")
    (tmp_path / "people.csv").write_text("path,who\na.jpg,1\n")
    with pytest.raises(FileFormatError, match="expression"):
        read_labelled_photos(tmp_path)


def test_augment_photo_keeps_size_changes_pixels_and_is_seeded():
    img = np.asarray(Image.new("RGB", (80, 60), (180, 120, 90)))
    img = img.copy()
    img[20:40, 30:50] = (40, 60, 200)
    a = augment_photo(img, np.random.default_rng(1))
    b = augment_photo(img, np.random.default_rng(1))
    assert a.shape == img.shape and a.dtype == np.uint8
    np.testing.assert_array_equal(a, b)
    variants = [augment_photo(img, np.random.default_rng(s)) for s in range(4)]
    assert all(np.abs(v.astype(int) - img).mean() > 1 for v in variants)


def test_photo_recall_counts_per_expression():
    photos = _photos(2)  # neutral, happiness, neutral, happiness
    probs = np.zeros((4, 8))
    probs[[0, 1, 2, 3], [EMOTIONS.index(e) for e in ("neutral", "happiness", "sadness", "happiness")]] = 1
    r = photo_recall(probs, photos)
    assert r["recall"] == {"happiness": 1.0, "neutral": 0.5} and r["people"] == 2 and r["n"] == 4
    assert r["predicted"]["neutral"] == {"neutral": 1, "sadness": 1} and r["missed"] == ["p01_neutral.jpg"]
    with pytest.raises(ParameterError):
        photo_recall(probs[:3], photos)


def test_photo_crops_are_told_from_data_set_images_by_name():
    from facecraft.eval.photos import is_photo_crop

    names = ["smiling/001.jpg#0", "/x/neutral/002.jpg#31", "anger/fer0000027.png", "odd#name.png", "a#b"]
    assert is_photo_crop(names).tolist() == [True, True, False, False, False]
    assert is_photo_crop([]).shape == (0,)


def _face_folder(tmp_path, *, csv_rows=None):
    """The astronaut (a smiling face), her mirror image and a faceless grey image; optionally a faces.csv."""
    from facecraft.rigs import resolve_asset

    photo = Image.open(resolve_asset("astronaut")).convert("RGB")
    (tmp_path / "images").mkdir(parents=True)
    photo.save(tmp_path / "images" / "a.jpg")
    photo.transpose(Image.Transpose.FLIP_LEFT_RIGHT).save(tmp_path / "images" / "b.jpg")
    Image.new("RGB", (200, 200), (128, 128, 128)).save(tmp_path / "images" / "blank.jpg")
    if csv_rows is not None:
        (tmp_path / "faces.csv").write_text("path,age\n" + "".join(f"images/{r},30\n" for r in csv_rows))
    return tmp_path


def test_pseudo_labelled_photos_keep_faces_the_judges_agree_on(tmp_path):
    from facecraft.eval.photos import is_photo_crop, pseudo_labelled_photos

    root = _face_folder(tmp_path)
    d = pseudo_labelled_photos(root, size=48, weight=0.5)
    assert len(d) == 2 and d.images.shape == (2, 48, 48) and d.images.dtype == np.uint8
    assert [EMOTIONS[c] for c in d.labels] == ["happiness", "happiness"]  # both judges read her smile
    assert d.labels.tolist() == d.targets.argmax(axis=1).tolist()
    np.testing.assert_allclose(d.targets.sum(axis=1), 1.0, atol=1e-5)
    assert (d.targets[:, EMOTIONS.index("contempt")] == 0).all()  # neither judge knows contempt
    assert is_photo_crop(d.paths).all() and d.splits.tolist() == ["train", "train"]
    assert d.weights.tolist() == [0.5, 0.5]
    assert len(d.skipped) == 1 and "blank.jpg" in d.skipped[0]
    assert len(pseudo_labelled_photos(root, size=48, min_confidence=1.0)) == 0
    # faces.csv, when present, lists the photos
    only = pseudo_labelled_photos(_face_folder(tmp_path / "csv", csv_rows=["a.jpg"]), size=32, split=None)
    assert len(only) == 1 and only.images.shape == (1, 32, 32) and only.splits is None
    with pytest.raises(ParameterError):
        pseudo_labelled_photos(root, size=48, min_confidence=1.5)


def test_pseudo_labels_need_every_judge_to_agree(tmp_path, monkeypatch):
    import facecraft.eval.judges as judges
    from facecraft.eval.photos import pseudo_labelled_photos

    def fake(label, size):
        p = np.full(len(EMOTIONS), 0.02, np.float32)
        p[EMOTIONS.index(label)] = 1 - 0.02 * (len(EMOTIONS) - 1)
        return judges.Judge(label, tuple(EMOTIONS), size, lambda g: np.tile(p, (len(g), 1)), {})

    root = _face_folder(tmp_path, csv_rows=["a.jpg", "b.jpg"])
    fakes = {"x": fake("fear", 64), "y": fake("fear", 48), "z": fake("anger", 48)}
    monkeypatch.setattr(judges, "get_judge", lambda name: fakes[name])
    agreed = pseudo_labelled_photos(root, size=48, judges=("x", "y"))
    assert [EMOTIONS[c] for c in agreed.labels] == ["fear", "fear"]
    assert len(pseudo_labelled_photos(root, size=48, judges=("x", "z"))) == 0
    # the landmarker's smile score overrules judges that read her smile as neutral
    fakes.update(n=fake("neutral", 64), m=fake("neutral", 48))
    smiled = pseudo_labelled_photos(root, size=48, judges=("n", "m"), smile=(0.1, 0.3))
    assert [EMOTIONS[c] for c in smiled.labels] == ["happiness", "happiness"]
    np.testing.assert_array_equal(smiled.targets, np.eye(len(EMOTIONS), dtype=np.float32)[smiled.labels])
    assert len(pseudo_labelled_photos(root, size=48, judges=("n", "m"), smile=(0.1, 1.0))) == 0  # unsure: left out
    assert len(pseudo_labelled_photos(root, size=48, judges=("n", "m"))) == 2  # judges alone
    with pytest.raises(ParameterError):
        pseudo_labelled_photos(root, size=48, smile=(0.5, 0.2))
