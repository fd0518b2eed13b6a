"""Fixtures shared by the eval tests."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image


@pytest.fixture
def tiny_fer_folder(tmp_path):
    """An ImageFolder of 48x48 grey crops, 10 per class for happy/sad/surprise, each class with its own stripes
    (so a classifier can learn it in a few steps)."""
    root = tmp_path / "data"
    rng = np.random.default_rng(0)
    for c, name in enumerate(("happy", "sad", "surprise")):
        (root / name).mkdir(parents=True)
        for k in range(10):
            img = (rng.random((48, 48)) * 80).astype(np.uint8)
            img[c * 4 :: 12] = 220
            Image.fromarray(img).save(root / name / f"{k}.png")
    return root
