"""How often measure_readers reads a data set."""

from __future__ import annotations

import numpy as np
from PIL import Image

import facecraft.eval.datasets as datasets
from facecraft.eval.augment import AugmentConfig, measure_readers
from facecraft.rigs import EMOTIONS


class _Flat:
    def predict_proba(self, images, detect=False):
        return np.full((len(images), len(EMOTIONS)), 1 / len(EMOTIONS))


def _set_with_a_faceless_photo(root, *, own_split: bool):
    for part in ("train", "test") if own_split else ("",):
        for c, name in enumerate(("happy", "sad")):
            (root / part / name).mkdir(parents=True)
            for k in range(5):
                Image.fromarray(np.full((48, 48), 10 + 40 * c + 3 * k, np.uint8)).save(root / part / name / f"{k}.png")
    noise = np.random.default_rng(0).integers(0, 255, (100, 100), dtype=np.uint8)  # no face for the search
    Image.fromarray(noise).save(root / ("train" if own_split else "") / "happy" / "big.png")


def test_a_set_with_its_own_split_is_read_once_when_the_face_search_drops_an_image(tmp_path, monkeypatch):
    # the set was read a second time (without the search) for a split it already had by path (train/, test/)
    reads = []
    real = datasets.load_dataset
    monkeypatch.setattr(datasets, "load_dataset", lambda *a, **k: reads.append(k.get("detect")) or real(*a, **k))
    config = AugmentConfig(second_judges=("networkv2",))
    _set_with_a_faceless_photo(tmp_path / "own", own_split=True)
    _, report = measure_readers(tmp_path / "own", config, judges={"networkv2": _Flat()})
    assert reads == [None] and sum(report["images"].values()) == 10  # train's 10 48 px faces, big.png left out
    reads.clear()  # a split made over the faces read is not the sources': read again without the search
    _set_with_a_faceless_photo(tmp_path / "made", own_split=False)
    measure_readers(tmp_path / "made", config, judges={"networkv2": _Flat()})
    assert reads == [None, False]
