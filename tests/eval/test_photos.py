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
