"""Who the adapter trains on: FRLL London training people only (no Canada set, no held-out person), and crops
resampled without changing their labels."""

from __future__ import annotations

import numpy as np
import pytest

from facecraft.rigs import ParameterError
from facecraft.synth.adapter_data import FaceSamples, frll_photos, held_out_people
from facecraft.synth.calibration import calibration_photos


def test_training_photos_leave_out_canada_and_the_held_out_people(shared_dir):
    data = shared_dir / "data"
    train, held = frll_photos(data, split="train"), frll_photos(data, split="held_out")
    assert train and held
    assert all("/canada/" not in f for f, _ in train + held)
    people = held_out_people(data)
    assert len(people) == 12
    assert {p for _, p in held} == {f"frll:{p}" for p in people}
    assert not {p for _, p in train} & {p for _, p in held}
    assert len(train) == 2 * 60 and len(held) == 2 * 12  # neutral + smiling each
    # held-out people sit at odd positions: neither the editor calibration nor the FER judge has seen them
    calibration = {p.stem for p in calibration_photos(data / "faces-frll")}
    assert not calibration & set(people)


def test_resized_keeps_labels_and_checks_the_size():
    rng = np.random.default_rng(0)
    s = FaceSamples(
        images=rng.integers(0, 255, (3, 64, 64, 3), dtype=np.uint8),
        cond=rng.random((3, 107), dtype=np.float32),
        person=np.array(["a", "a", "b"]),
        kind=np.array(["photo", "edit", "photo"]),
        licence="CC BY 4.0",
    )
    small = s.resized(48)
    assert small.images.shape == (3, 48, 48, 3) and small.images.dtype == np.uint8
    assert small.cond is s.cond and small.licence == s.licence and list(small.person) == ["a", "a", "b"]
    flat = FaceSamples(np.full((1, 64, 64, 3), 77, np.uint8), s.cond[:1], s.person[:1], s.kind[:1], s.licence)
    assert (flat.resized(16).images == 77).all()  # an area filter keeps a flat image flat
    with pytest.raises(ParameterError, match="size"):
        s.resized(4)


def test_saved_samples_are_where_the_message_says_and_bad_sizes_fail_first(tmp_path):
    from facecraft.synth.adapter_data import build_face_samples

    s = FaceSamples(np.zeros((1, 16, 16, 3), np.uint8), np.zeros((1, 107), np.float32), np.array(["a"]),
                    np.array(["photo"]), "CC BY 4.0")  # fmt: skip
    path = s.save(tmp_path / "d.txt")  # numpy writes d.txt.npz: the path said must be that one
    assert path == tmp_path / "d.txt.npz" and path.is_file() and FaceSamples.load(path).images.shape == (1, 16, 16, 3)
    for kwargs in ({"resolution": -4}, {"edits_per_photo": -1}, {"max_photos": 0}):
        with pytest.raises(ParameterError, match=next(iter(kwargs))):
            build_face_samples(data_dir=tmp_path / "none", **kwargs)
