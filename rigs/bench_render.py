"""Render benchmark: frames per second of the headless renderer on the default rig at 512 x 512.

One frame's cost includes everything a preview video pays: deforming the rig from ARKit weights, smooth
normals, uploading the vertex buffer, drawing with MSAA and reading the pixels back. Run it with
``facecraft bench render``.
"""

from __future__ import annotations

import logging
import statistics
import time
from pathlib import Path

import numpy as np

from .arkit import NUM_ARKIT
from .blendshape_rig import BlendshapeRig
from .errors import FacecraftError

logger = logging.getLogger(__name__)

TARGET_FPS = 25.0


def varying_curves(num_frames: int, *, seed: int = 0) -> np.ndarray:
    """ARKit curves ``(T, 52)`` in [0, 1]: each channel a slow sinusoid with its own phase and rate."""
    rng = np.random.default_rng(seed)
    t = np.arange(num_frames)[:, None] / 30.0
    rate = rng.uniform(0.3, 2.0, NUM_ARKIT)
    phase = rng.uniform(0, 2 * np.pi, NUM_ARKIT)
    amp = rng.uniform(0.2, 0.6, NUM_ARKIT)
    return (amp * (0.5 + 0.5 * np.sin(2 * np.pi * rate * t + phase))).astype(np.float32)


def _default_rig() -> BlendshapeRig:
    try:
        from .default_rig import default_rig
    except ImportError as e:
        raise FacecraftError(
            "render benchmark: the default rig (facecraft.rigs.default_rig.default_rig) is not available "
            f"({e}); it is required to measure the target figure"
        ) from e
    return default_rig()


def measure_render(rig: BlendshapeRig, *, size: int = 512, frames: int = 120, runs: int = 5) -> tuple[dict, np.ndarray]:
    """Time ``runs`` renders of ``frames`` frames of varying ARKit weights and head yaw on ``rig``.

    Returns the figures (frames/s per run and median, wall and CPU ms per frame, a per-stage breakdown) and
    one sample frame ``uint8 (size, size, 3)``. CPU time counts every thread of the process (llvmpipe
    rasterises on worker threads), so it is the steadier figure on a busy machine.
    """

    from .render import RigRenderer, vertex_incidence, vertex_normals

    if frames < 1 or runs < 1:
        raise FacecraftError(f"render benchmark: frames and runs must be >= 1, got {frames}, {runs}")
    curves = varying_curves(frames)
    poses = np.c_[10 * np.sin(np.linspace(0, 2 * np.pi, frames)), np.zeros((frames, 2))]
    t0 = time.perf_counter()
    renderer = RigRenderer(rig, size=size)
    setup_s = time.perf_counter() - t0
    with renderer:
        for _ in renderer.render_curves(curves[:10]):  # warm-up: shader compile, first allocations
            pass
        fps_runs, cpu_ms_runs = [], []
        for _ in range(runs):
            t, c = time.perf_counter(), time.process_time()
            n = sum(1 for _ in renderer.render_curves(curves, head_rotation=poses))
            fps_runs.append(n / (time.perf_counter() - t))
            cpu_ms_runs.append((time.process_time() - c) / n * 1e3)
        # where the time goes (one extra pass, stage by stage)
        t = time.perf_counter()
        verts = renderer.posed_vertices(curves)  # the face and its parts (eyes, teeth, tongue), as drawn
        deform_ms = (time.perf_counter() - t) / frames * 1e3
        incidence = vertex_incidence(renderer.faces, verts.shape[1])
        t = time.perf_counter()
        for v in verts:
            vertex_normals(v, renderer.faces, incidence=incidence)
        normals_ms = (time.perf_counter() - t) / frames * 1e3
        sample = renderer.render_arkit(curves[frames // 2], pose=(15.0, 0.0, 0.0))
        gl_renderer, samples = renderer.gl_renderer, renderer.samples
    fps = statistics.median(fps_runs)
    total_ms = 1e3 / fps
    result = {
        "rig": rig.name, "vertices": renderer.num_vertices, "triangles": len(renderer.faces), "size": size,
        "msaa_samples": samples, "gl_renderer": gl_renderer, "frames_per_run": frames, "runs": runs,
        "fps_runs": [round(f, 2) for f in fps_runs], "fps_median": round(fps, 2),
        "ms_per_frame_median": round(total_ms, 3),
        "cpu_ms_per_frame_median": round(statistics.median(cpu_ms_runs), 3),
        "ms_per_frame_breakdown": {
            "deform": round(deform_ms, 3), "normals": round(normals_ms, 3),
            "upload_draw_readback": round(max(total_ms - deform_ms - normals_ms, 0.0), 3),
        },
        "setup_s": round(setup_s, 3),
    }  # fmt: skip
    return result, sample


def _print(result: dict) -> None:
    b = result["ms_per_frame_breakdown"]
    print(
        f"render {result['rig']} ({result['vertices']} vertices, {result['triangles']} triangles) at "
        f"{result['size']}x{result['size']}, {result['msaa_samples']}x MSAA on {result['gl_renderer']}: "
        f"median {result['fps_median']:.1f} frames/s over {result['runs']} runs of {result['frames_per_run']} "
        f"frames (runs: {', '.join(f'{f:.1f}' for f in result['fps_runs'])}); "
        f"CPU {result['cpu_ms_per_frame_median']} ms/frame (all threads)"
    )
    print(
        f"  per frame: deform {b['deform']} ms, normals {b['normals']} ms, "
        f"upload+draw+readback {b['upload_draw_readback']} ms"
    )


def bench_render(
    out_dir: Path,
    *,
    rig: BlendshapeRig | None = None,
    size: int = 512,
    frames: int = 120,
    runs: int = 5,
    with_ict: bool = True,
) -> dict:
    """Measure render speed; print the figures, save a sample frame PNG in ``out_dir``, return a dict.

    Parameters
    ----------
    out_dir : folder for ``render_sample.png``
    rig : the rig to render; default :func:`facecraft.rigs.default_rig.default_rig` (the benchmark's subject)
    size : frame width and height in pixels
    frames, runs : frames per timed run and the number of runs; the reported figure is the median run
    with_ict : also time the 26,719-vertex ICT FaceKit head (fewer frames) when ``../shared`` holds it;
        a figure for large meshes, not part of the target

    Returns
    -------
    dict with the figures of :func:`measure_render` for the rig, ``target_fps``, ``meets_target``,
    ``sample_png`` and, when measured, ``ict`` (the same figures for the ICT rig).
    """
    import imageio.v3 as iio

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    rig = _default_rig() if rig is None else rig
    result, sample = measure_render(rig, size=size, frames=frames, runs=runs)
    sample_path = out_dir / "render_sample.png"
    iio.imwrite(sample_path, sample)
    result.update(target_fps=TARGET_FPS, meets_target=bool(result["fps_median"] >= TARGET_FPS))
    result["sample_png"] = str(sample_path)
    _print(result)
    print(f"  target {TARGET_FPS:g} frames/s {'met' if result['meets_target'] else 'NOT met'}; sample: {sample_path}")
    if with_ict:
        from .ict import default_ict_dir, load_ict_rig

        if default_ict_dir().is_dir():
            ict, ict_sample = measure_render(load_ict_rig(), size=size, frames=max(frames // 4, 1), runs=3)
            ict_path = out_dir / "render_sample_ict.png"
            iio.imwrite(ict_path, ict_sample)
            ict["sample_png"] = str(ict_path)
            result["ict"] = ict
            _print(ict)
        else:
            logger.info("ICT FaceKit not found at %s: large-mesh figure skipped", default_ict_dir())
    return result
