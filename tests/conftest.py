"""Shared test fixtures: where ../shared lives, and a tiny rig built from code."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

from facecraft.rigs.assets import shared_data_dir

SHARED = shared_data_dir()


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """``../shared`` beside the checkout; tests that need it skip cleanly when it is absent."""
    if not SHARED.is_dir():
        pytest.skip(f"shared data folder not present at {SHARED}")
    return SHARED


@pytest.fixture
def tiny_rig():
    """A two-triangle rig with two named shapes (jawOpen moves vertex 2 down, mouthSmileLeft moves vertex 1 up)."""
    from facecraft.rigs import BlendshapeRig

    neutral = np.array([[0, 0, 0], [1, 0, 0], [0, 1, 0], [1, 1, 0]], dtype=np.float32)
    deltas = np.zeros((2, 4, 3), dtype=np.float32)
    deltas[0, 2, 1] = -0.5
    deltas[1, 1, 1] = 0.25
    faces = np.array([[0, 1, 2], [1, 3, 2]])
    return BlendshapeRig(
        neutral, deltas, ["jawOpen", "mouthSmileLeft"], faces,
        point_names=["a", "centre"], point_faces=[0, 0], point_bary=[[1, 0, 0], [1 / 3, 1 / 3, 1 / 3]], name="tiny",
    )  # fmt: skip
