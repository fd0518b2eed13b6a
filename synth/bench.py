"""Benchmarks of :mod:`facecraft.synth` (run as ``facecraft bench NAME``; figures go to JSON, not docstrings).

:func:`bench_fit`: rig fitting (:func:`facecraft.synth.fit.fit_rig`) on real photos. Landmark residual in
pixels (after the detail offset, and before it: rig + smooth identity only) and fit time on one thread,
on the package-shipped astronaut and, when the shared data folder is present, on ``data/portraits`` and on
``data/faces-frll``'s neutral/smiling pairs, where the fitted smile weights have a known direction.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

import numpy as np

from facecraft.rigs import ARKIT_INDEX, resolve_asset
from facecraft.rigs.assets import shared_data_dir

from .fit import fit_rig

logger = logging.getLogger(__name__)

_SMILE = [ARKIT_INDEX["mouthSmileLeft"], ARKIT_INDEX["mouthSmileRight"]]
_JAW = ARKIT_INDEX["jawOpen"]


def _one_thread():
    """Limit BLAS to one thread (the figure is a one-core figure)."""
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=1)


def _fit_photo(analyzer, path: Path, *, repeats: int = 1) -> dict | None:
    """Analyse one photo and fit its largest face; ``None`` (logged) when no face is found."""
    from facecraft.eval.images import load_image

    image = load_image(path)
    faces = analyzer.analyze(image, name=str(path))
    if not faces:
        logger.info("bench fit: no face in %s", path)
        return None
    face = faces[0]
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fit = fit_rig(face.landmarks, image.shape[:2], init_weights=face.blendshapes)
        times.append(time.perf_counter() - t0)
    yaw, pitch, roll = fit.head_pose()
    return {
        "photo": path.name,
        "face_width_px": float(face.box[2] - face.box[0]),
        "residual_px_mean": fit.mean_residual_px,
        "residual_px_max": float(fit.residual_px.max()),
        "expression_residual_px_mean": fit.expression_residual_px,
        "fit_ms": 1000 * float(np.median(times)),
        "iterations": fit.iterations,
        "smile": float(fit.weights[_SMILE].mean()),
        "smile_mediapipe": float(face.blendshapes[_SMILE].mean()),
        "jaw_open": float(fit.weights[_JAW]),
        "weight_sum": float(fit.weights.sum()),
        "pose_fit": [float(yaw), float(pitch), float(roll)],
        "pose_mediapipe": [float(v) for v in face.pose],
    }


def _summary(rows: list[dict]) -> dict:
    keys = ("residual_px_mean", "residual_px_max", "expression_residual_px_mean", "fit_ms")
    out: dict = {"photos_fitted": len(rows)}
    for k in keys:
        vals = np.array([r[k] for r in rows]) if rows else np.zeros(0)
        out[f"{k}_median"] = float(np.median(vals)) if len(vals) else float("nan")
        out[f"{k}_worst"] = float(vals.max()) if len(vals) else float("nan")
    return out


def bench_fit(out_dir: Path, *, frll_pairs: int = 72) -> dict:
    """Residual (px) and one-thread fit time on the astronaut, ``data/portraits`` and FRLL neutral/smile pairs.

    Prints the figures and returns them (the CLI writes the JSON to ``out_dir``, which is otherwise unused).
    FRLL: for up to ``frll_pairs`` people photographed neutral and smiling, the mean fitted smile weight
    (``mouthSmileLeft/Right``) on each, the share of people whose smiling photo fits a larger smile, and the
    mean weight sum on neutral faces (what a neutral face wrongly shows as expression).
    """
    from facecraft.eval.faces import FaceAnalyzer

    result: dict = {}
    shared = shared_data_dir() / "data"
    with FaceAnalyzer() as analyzer, _one_thread():
        astro = _fit_photo(analyzer, resolve_asset("astronaut"), repeats=20)
        result["astronaut"] = astro
        portraits = sorted((shared / "portraits").glob("*.jpg")) if (shared / "portraits").is_dir() else []
        rows = [r for r in (_fit_photo(analyzer, p, repeats=3) for p in portraits) if r is not None]
        if portraits:
            result["portraits"] = {"photos": len(portraits), **_summary(rows), "per_photo": rows}
        frll = shared / "faces-frll"
        neutral = sorted((frll / "neutral").glob("*.jpg"))[:frll_pairs] if (frll / "neutral").is_dir() else []
        pairs = []
        for p in neutral:
            smiling = frll / "smiling" / p.name
            if not smiling.is_file():
                continue
            a, b = _fit_photo(analyzer, p), _fit_photo(analyzer, smiling)
            if a is not None and b is not None:
                pairs.append((a, b))
        if pairs:
            result["frll"] = {
                "pairs": len(pairs),
                **_summary([r for pair in pairs for r in pair]),
                "smile_neutral_mean": float(np.mean([a["smile"] for a, _ in pairs])),
                "smile_smiling_mean": float(np.mean([b["smile"] for _, b in pairs])),
                "smile_neutral_mediapipe_mean": float(np.mean([a["smile_mediapipe"] for a, _ in pairs])),
                "smile_smiling_mediapipe_mean": float(np.mean([b["smile_mediapipe"] for _, b in pairs])),
                "smile_rises_share": float(np.mean([b["smile"] > a["smile"] for a, b in pairs])),
                "weight_sum_neutral_mean": float(np.mean([a["weight_sum"] for a, _ in pairs])),
            }
    if astro is not None:
        print(
            f"fit astronaut: residual {astro['residual_px_mean']:.2f} px mean ({astro['residual_px_max']:.2f} max; "
            f"{astro['expression_residual_px_mean']:.2f} px before detail), {astro['fit_ms']:.1f} ms on one thread, "
            f"smile {astro['smile']:.2f}, jawOpen {astro['jaw_open']:.2f}"
        )
    if "portraits" in result:
        s = result["portraits"]
        print(
            f"fit portraits: {s['photos_fitted']}/{s['photos']} fitted; residual median "
            f"{s['residual_px_mean_median']:.2f} px (worst {s['residual_px_mean_worst']:.2f}); before detail "
            f"{s['expression_residual_px_mean_median']:.2f} px; fit {s['fit_ms_median']:.1f} ms median "
            f"({s['fit_ms_worst']:.1f} worst)"
        )
    if "frll" in result:
        s = result["frll"]
        print(
            f"fit FRLL ({s['pairs']} pairs): smile {s['smile_neutral_mean']:.2f} neutral -> "
            f"{s['smile_smiling_mean']:.2f} smiling (MediaPipe {s['smile_neutral_mediapipe_mean']:.2f} -> "
            f"{s['smile_smiling_mediapipe_mean']:.2f}); rises for {100 * s['smile_rises_share']:.0f}%; weight sum "
            f"on neutral faces {s['weight_sum_neutral_mean']:.2f}"
        )
    return result
