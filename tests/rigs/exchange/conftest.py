"""Fixtures of the exchange tests: a grid rig carrying all 52 ARKit shapes, and a random animation."""

from __future__ import annotations

import numpy as np
import pytest


def make_grid_rig(n: int = 8, *, shape_names=None, seed: int = 0):
    """A flat ``n x n`` vertex grid (metres, facing +Z) with UVs and one smooth random shape per name."""
    from facecraft.rigs import ARKIT_NAMES, BlendshapeRig

    names = list(ARKIT_NAMES) if shape_names is None else list(shape_names)
    u, v = np.meshgrid(np.linspace(0, 1, n), np.linspace(0, 1, n))
    neutral = np.stack([0.1 * (u - 0.5), 0.1 * (v - 0.5), 0.01 * np.sin(3 * u)], -1).reshape(-1, 3)
    quads = [
        (i * n + j, i * n + j + 1, (i + 1) * n + j, (i + 1) * n + j + 1) for i in range(n - 1) for j in range(n - 1)
    ]
    faces = np.array([t for a, b, c, d in quads for t in ((a, b, c), (b, d, c))])
    rng = np.random.default_rng(seed)
    centres = rng.random((len(names), 2))
    falloff = np.exp(
        -((u.reshape(-1)[None] - centres[:, :1]) ** 2 + (v.reshape(-1)[None] - centres[:, 1:]) ** 2) / 0.05
    )
    deltas = (falloff[..., None] * rng.normal(0, 0.005, (len(names), 1, 3))).astype(np.float32)
    uvs = np.stack([u, 1 - v], -1).reshape(-1, 2)
    return BlendshapeRig(neutral, deltas, names, faces, uvs=uvs, name="grid")


@pytest.fixture
def grid_rig():
    return make_grid_rig()


@pytest.fixture
def random_anim():
    """45 frames at 30 fps of smooth random curves in [0, 1] with head and eye rotations (degrees)."""
    from facecraft.rigs.animation import FaceAnimation

    t = np.arange(45) / 30.0
    rng = np.random.default_rng(1)
    phase = rng.random(52) * 6.28
    curves = 0.5 + 0.5 * np.sin(2 * np.pi * 1.3 * t[:, None] + phase[None])
    head = 10 * np.sin(t[:, None] * np.array([1.0, 2.0, 3.0]))
    eyes = 5 * np.cos(t[:, None] * np.arange(1, 7))
    return FaceAnimation(curves.astype(np.float32), fps=30.0, head_rotation=head, eye_rotation=eyes,
                         meta={"name": "test", "source": "random"})  # fmt: skip
