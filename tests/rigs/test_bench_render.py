"""The render benchmark runs end to end on a tiny rig and fails clearly without the default rig."""

from __future__ import annotations

import sys

import imageio.v3 as iio
import numpy as np
import pytest

from facecraft.rigs import BlendshapeRig, FacecraftError
from facecraft.rigs.bench_render import bench_render, varying_curves


@pytest.fixture
def square_rig() -> BlendshapeRig:
    verts = np.array([[-0.05, -0.05, 0], [0.05, -0.05, 0], [0.05, 0.05, 0], [-0.05, 0.05, 0]], np.float32)
    deltas = np.zeros((2, 4, 3), np.float32)
    deltas[0, :2, 1] = -0.03
    deltas[1, 2, 2] = 0.02
    return BlendshapeRig(verts, deltas, ["jawOpen", "cheekPuff"], [[0, 1, 2], [0, 2, 3]], name="square")


def test_bench_render_reports_and_saves_a_frame(tmp_path, square_rig, capsys):
    result = bench_render(tmp_path, rig=square_rig, size=64, frames=6, runs=2, with_ict=False)
    assert result["rig"] == "square" and result["vertices"] == 4 and result["triangles"] == 2
    assert len(result["fps_runs"]) == 2 and result["fps_median"] > 0
    assert result["meets_target"] == (result["fps_median"] >= result["target_fps"])
    assert result["ms_per_frame_median"] == pytest.approx(1e3 / result["fps_median"], rel=0.01)
    assert result["cpu_ms_per_frame_median"] > 0 and "ict" not in result
    image = iio.imread(result["sample_png"])
    assert image.shape == (64, 64, 3) and image.std() > 10
    assert "frames/s" in capsys.readouterr().out


def test_bench_render_needs_the_default_rig(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "facecraft.rigs.default_rig", None)  # import now fails
    with pytest.raises(FacecraftError, match="default rig"):
        bench_render(tmp_path, frames=2, runs=1)


def test_varying_curves_are_in_range_and_vary():
    c = varying_curves(90, seed=1)
    assert c.shape == (90, 52) and c.dtype == np.float32
    assert c.min() >= 0 and c.max() <= 1
    assert (c.std(axis=0) > 0.01).all()
    assert np.array_equal(c, varying_curves(90, seed=1))
