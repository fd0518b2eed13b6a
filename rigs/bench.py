"""Benchmarks of the rig layer, run as ``facecraft bench NAME`` (each takes ``out_dir`` and returns a dict)."""

from __future__ import annotations

import logging
import time
from pathlib import Path

import numpy as np

from .errors import MissingFileError

logger = logging.getLogger(__name__)

RIG_VS_ICT_TARGET = 0.7


def _normalised_points(rig) -> tuple[np.ndarray, dict[str, int], float]:
    """Neutral semantic points centred on their mean and divided by the face-width proxy (outer brow distance)."""
    p = rig.neutral_points().detach().cpu().numpy().astype(np.float64)
    idx = {n: i for i, n in enumerate(rig.point_names)}
    width = float(np.linalg.norm(p[idx["brow_outer_l"]] - p[idx["brow_outer_r"]]))
    return (p - p.mean(0)) / width, idx, width


def _rotation_onto(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """Rotation ``R`` (3, 3) minimising ``|src @ R.T - dst|`` (Kabsch, no reflection); both centred."""
    u, _, vt = np.linalg.svd(dst.T @ src)
    d = np.sign(np.linalg.det(u @ vt))
    return u @ np.diag([1.0, 1.0, d]) @ vt


def bench_rig_vs_ict(out_dir: Path, *, ict_dir: str | Path | None = None) -> dict:
    """Compare the default rig's shapes with ICT FaceKit's at the semantic points both rigs name.

    Both rigs are normalised (semantic points centred, divided by the distance between the outer brow
    points, ICT rotated onto the default rig by Kabsch on the neutral points). For every ARKit shape
    present in both, the displacements of the points at weight 1 are compared: the cosine between the
    concatenated displacement vectors (the direction of the whole motion, dominated by the points that move
    most), per-point cosines for points that move in both rigs (more than 0.5 % of the face width) and
    their mean (every moving point counts alike), and the magnitude ratio (default / ICT). Prints a table, writes
    ``rig_vs_ict.png`` (bar chart of the cosines) into ``out_dir`` and returns the figures.

    Raises
    ------
    MissingFileError
        When the ICT folder (``$FACECRAFT_ICT_DIR`` or ``../shared/assets/ict-facekit/FaceXModel``) is absent.
    """
    from .default_rig import default_rig
    from .ict import ICT_ENV_VAR, default_ict_dir, load_ict_rig

    folder = Path(ict_dir) if ict_dir is not None else default_ict_dir()
    if not folder.is_dir():
        raise MissingFileError(
            f"rig-vs-ict benchmark: ICT FaceKit folder not found at {folder}; set ${ICT_ENV_VAR} to a "
            "FaceXModel folder (ICT-FaceKit, MIT) to run it"
        )
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    ict = load_ict_rig(folder, face_only=True)
    load_s = time.perf_counter() - t0
    ours = default_rig()

    pa, ia, width_a = _normalised_points(ours)
    pb, ib, width_b = _normalised_points(ict)
    names = [n for n in ours.point_names if n in ib]
    sel_a, sel_b = [ia[n] for n in names], [ib[n] for n in names]
    rot = _rotation_onto(pb[sel_b], pa[sel_a])
    rot_deg = float(np.degrees(np.arccos(np.clip((np.trace(rot) - 1) / 2, -1, 1))))

    def displacements(rig, width, sel, shape):
        w = rig.weights_from_dict({shape: 1.0})
        moved = rig(w).points.detach().cpu().numpy().astype(np.float64)
        base = rig.neutral_points().detach().cpu().numpy().astype(np.float64)
        return (moved - base)[sel] / width

    shapes = [n for n in ours.shape_names if n in ict.shape_names]
    rows: dict[str, dict] = {}
    moving_eps = 0.005  # a point "moves" above 0.5 % of the face width
    for s in shapes:
        da = displacements(ours, width_a, sel_a, s)
        db = displacements(ict, width_b, sel_b, s) @ rot.T
        na, nb = np.linalg.norm(da), np.linalg.norm(db)
        cos = float(da.ravel() @ db.ravel() / max(na * nb, 1e-12))
        per_point = {}
        for k, n in enumerate(names):
            la, lb = np.linalg.norm(da[k]), np.linalg.norm(db[k])
            if la > moving_eps and lb > moving_eps:
                per_point[n] = float(da[k] @ db[k] / (la * lb))
        rows[s] = {
            "cosine": cos,
            "point_cosine_mean": float(np.mean(list(per_point.values()))) if per_point else float("nan"),
            "magnitude_ratio": float(na / max(nb, 1e-12)),
            "per_point": per_point,
        }
    cosines = np.array([r["cosine"] for r in rows.values()])
    point_means = np.array([r["point_cosine_mean"] for r in rows.values()])
    result = {
        "median_cosine": float(np.median(cosines)),
        "median_point_cosine": float(np.nanmedian(point_means)),
        "median_magnitude_ratio": float(np.median([r["magnitude_ratio"] for r in rows.values()])),
        "mean_cosine": float(cosines.mean()),
        "min_cosine": float(cosines.min()),
        "shapes_above_0.7": int((cosines >= RIG_VS_ICT_TARGET).sum()),
        "num_shapes": len(rows),
        "target_median": RIG_VS_ICT_TARGET,
        "passed": bool(np.median(cosines) >= RIG_VS_ICT_TARGET),
        "points": names,
        "num_points": len(names),
        "ict_rotation_deg": rot_deg,
        "face_width_m": {"default": width_a, "ict": width_b},
        "ict_dir": str(folder),
        "ict_load_s": load_s,
        "shapes": rows,
    }
    _print_table(result)
    result["figure"] = str(_plot(result, out_dir / "rig_vs_ict.png"))
    return result


def _print_table(result: dict) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"default rig vs ICT FaceKit at {result['num_points']} semantic points")
    table.add_column("shape")
    table.add_column("cosine", justify="right")
    table.add_column("mean point cosine", justify="right")
    table.add_column("magnitude ratio", justify="right")
    table.add_column("worst point", justify="left")
    for name, r in result["shapes"].items():
        worst = min(r["per_point"].items(), key=lambda kv: kv[1], default=None)
        colour = "green" if r["cosine"] >= RIG_VS_ICT_TARGET else "red"
        table.add_row(
            name,
            f"[{colour}]{r['cosine']:.3f}[/{colour}]",
            f"{r['point_cosine_mean']:.3f}",
            f"{r['magnitude_ratio']:.2f}",
            f"{worst[0]} {worst[1]:+.2f}" if worst else "-",
        )
    console = Console(width=max(Console().width, 110))
    console.print(table)
    console.print(
        f"median cosine {result['median_cosine']:.3f} (target >= {result['target_median']}), mean "
        f"{result['mean_cosine']:.3f}, {result['shapes_above_0.7']}/{result['num_shapes']} shapes >= 0.7; "
        f"median of per-shape mean point cosines {result['median_point_cosine']:.3f}; median magnitude ratio "
        f"{result['median_magnitude_ratio']:.2f}; "
        f"ICT loaded in {result['ict_load_s']:.2f} s"
    )


def _plot(result: dict, path: Path) -> Path:
    from matplotlib.figure import Figure  # no pyplot: leaves the process-wide backend alone

    names = list(result["shapes"])
    cos = [result["shapes"][n]["cosine"] for n in names]
    fig = Figure(figsize=(14, 4.5), dpi=100)
    ax = fig.subplots()
    colours = ["tab:green" if c >= RIG_VS_ICT_TARGET else "tab:red" for c in cos]
    ax.bar(range(len(names)), cos, color=colours)
    ax.axhline(RIG_VS_ICT_TARGET, color="k", lw=0.8, ls="--", label="target 0.7")
    ax.axhline(result["median_cosine"], color="tab:blue", lw=1.0, label=f"median {result['median_cosine']:.2f}")
    ax.set_xticks(range(len(names)), names, rotation=90, fontsize=7)
    ax.set_ylim(-1, 1)
    ax.set_ylabel("cosine of motion direction")
    ax.set_title("default rig vs ICT FaceKit, per ARKit shape")
    ax.legend(loc="lower left", fontsize=8)
    fig.tight_layout()
    fig.savefig(path)
    return path
