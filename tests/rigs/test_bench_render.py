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


class _FakeClock:
    """perf_counter / process_time that only move when the renderer yields a frame (``step`` s a frame)."""

    def __init__(self, step: float) -> None:
        self.now, self.step, self.frames = 100.0, step, 0

    def perf_counter(self) -> float:
        return self.now

    process_time = perf_counter


def test_the_default_rig_with_its_parts_is_timed_stage_by_stage():
    # `facecraft bench render` (and `bench all` after it) stopped with "axis 0 index 5064 exceeds matrix dimension
    # 468": the stage timing took the renderer's triangles (the face's and its eyes', teeth's and tongue's) with the
    # face's 468 vertices alone
    from facecraft.rigs import load_rig
    from facecraft.rigs.bench_render import measure_render

    rig = load_rig("default")
    result, sample = measure_render(rig, size=64, frames=2, runs=1)
    assert result["vertices"] > rig.num_vertices and result["triangles"] > rig.faces.shape[0]  # the parts are drawn
    assert all(ms > 0 for ms in result["ms_per_frame_breakdown"].values() if ms) and sample.shape[:2] == (64, 64)


def test_bench_render_times_the_frames_the_renderer_makes(tmp_path, square_rig, capsys, monkeypatch):
    """With a renderer that takes exactly 40 ms a frame, the benchmark reports 25 frames/s, 40 ms a frame
    (all of it in upload+draw+readback, since deform and normals take no clock time here) and meets 25."""
    import types

    import facecraft.rigs.bench_render as bench_module
    from facecraft.rigs.render import RigRenderer

    clock = _FakeClock(0.040)
    monkeypatch.setattr(
        bench_module, "time", types.SimpleNamespace(perf_counter=clock.perf_counter, process_time=clock.process_time)
    )
    real = RigRenderer.render_curves

    def timed(self, *args, **kwargs):
        for frame in real(self, *args, **kwargs):
            clock.now += clock.step
            clock.frames += 1
            yield frame

    monkeypatch.setattr(RigRenderer, "render_curves", timed)
    result = bench_render(tmp_path, rig=square_rig, size=64, frames=6, runs=2, with_ict=False)
    assert clock.frames == 6 * 2 + 6  # two timed runs + the warm-up pass (at most 10 frames)
    assert result["fps_runs"] == [25.0, 25.0] and result["fps_median"] == 25.0
    assert result["ms_per_frame_median"] == 40.0 and result["cpu_ms_per_frame_median"] == 40.0
    assert result["ms_per_frame_breakdown"] == {"deform": 0.0, "normals": 0.0, "upload_draw_readback": 40.0}
    assert result["meets_target"] is True
    assert (result["rig"], result["vertices"], result["triangles"]) == ("square", 4, 2)
    assert "25.0 frames/s" in capsys.readouterr().out


def test_bench_render_sample_frame_shows_the_rig(tmp_path, square_rig):
    result = bench_render(tmp_path, rig=square_rig, size=64, frames=3, runs=1, with_ict=False)
    image = iio.imread(result["sample_png"])
    assert image.shape == (64, 64, 3)
    background = image[0, 0].astype(int)
    covered = (np.abs(image.astype(int) - background).sum(-1) > 30).mean()
    assert 0.1 < covered < 0.9  # the 10 cm square fills part of the frame, not none or all of it
    assert result["fps_median"] > 0 and len(result["fps_runs"]) == 1


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
