"""Faint-smile edits for FER training: neutral photos only, happiness labels, the mouth changed, named crops."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from facecraft.eval.photos import LabelledPhoto, camera_crops, is_photo_crop
from facecraft.rigs import EMOTIONS, ParameterError


@pytest.fixture(scope="module")
def face_photos(tmp_path_factory):
    """The astronaut taken as a 'neutral' photo and as a 'happiness' one (only the neutral one is edited)."""
    from facecraft.rigs import resolve_asset

    root = tmp_path_factory.mktemp("photos")
    Image.open(resolve_asset("astronaut")).convert("RGB").save(root / "a.png")
    return [
        LabelledPhoto(root / "a.png", EMOTIONS.index("neutral"), "a"),
        LabelledPhoto(root / "a.png", EMOTIONS.index("happiness"), "a"),
    ]


def test_camera_crops_start_with_the_plain_crop_and_vary_the_rest(face_photos):
    from facecraft.eval.faces import preprocess_face
    from facecraft.eval.images import load_image

    img = load_image(face_photos[0].path)
    crops = camera_crops(img, size=48, copies=3, rng=np.random.default_rng(0), name="a")
    assert len(crops) == 3 and all(c.shape == (48, 48) and c.dtype == np.uint8 for c in crops)
    np.testing.assert_array_equal(crops[0], preprocess_face(img, size=48, grey=True, detect=True))
    assert not np.array_equal(crops[1], crops[0]) and not np.array_equal(crops[2], crops[1])


def test_faint_smiles_edit_only_neutral_photos_and_change_the_mouth(face_photos):
    from facecraft.eval.augment_photos import faint_smile_dataset, smile_edit_name
    from facecraft.eval.faces import preprocess_face
    from facecraft.eval.images import load_image

    d = faint_smile_dataset(face_photos, size=48, intensities=(0.3, 0.5), copies=2, weight=4.0, split="train")
    path = face_photos[0].path
    assert len(d) == 4 and d.images.shape == (4, 48, 48)  # 1 neutral photo x 2 intensities x 2 copies
    assert {EMOTIONS[c] for c in d.labels} == {"happiness"}
    assert d.paths == [smile_edit_name(path, x, k) for x in (0.3, 0.5) for k in (0, 1)]
    assert is_photo_crop(d.paths).all() and d.weights.tolist() == [4.0] * 4 and set(d.splits) == {"train"}
    plain = preprocess_face(load_image(path), size=48, grey=True, detect=True).astype(int)
    diff = np.abs(d.images[[0, 2]].astype(int) - plain)
    mouth, forehead = diff[:, 30:42, 12:36].mean(axis=(1, 2)), diff[:, 2:10, 12:36].mean(axis=(1, 2))
    assert (mouth > 0.5).all() and (mouth > forehead).all()  # the edit is at the mouth (the crop re-aligns a little)
    assert mouth[1] > mouth[0]  # a stronger smile changes it more


def test_faint_smiles_check_their_options(face_photos):
    from facecraft.eval.augment_photos import faint_smile_dataset

    for bad in ((), (0.0,), (1.5,)):
        with pytest.raises(ParameterError, match="intensities"):
            faint_smile_dataset(face_photos, size=48, intensities=bad)
    with pytest.raises(ParameterError, match="copies"):
        faint_smile_dataset(face_photos, size=48, copies=0)
    none = faint_smile_dataset(face_photos[1:], size=48, intensities=(0.3,), copies=1)  # no neutral photo
    assert len(none) == 0 and none.images.shape == (0, 48, 48)
