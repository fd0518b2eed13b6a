"""``facecraft bench capture``: the speech model's ARKit curves against a real iPhone (Live Link Face) take.

The take in ``../shared/data/capture/neurosync_trainer_lite_testset`` (20 s of speech with its TrueDepth
capture) is for evaluation only: nothing here is fitted to it. Each curve source is driven by the take's
audio alone (no transcript) and compared channel by channel with the capture over the 15 mouth channels the
issue names: Pearson r at the best lag within +-100 ms, and the 95th percentile against the take's (how far
the model under- or over-drives a channel). An audio-loudness envelope is the baseline a model must beat;
the head rotation ranges of facecraft's speech-driven head motion are set beside the take's.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np

from facecraft.rigs.arkit import ARKIT_INDEX
from facecraft.rigs.assets import shared_data_dir
from facecraft.rigs.errors import MissingFileError
from facecraft.rigs.stats import lagged_pearson

log = logging.getLogger(__name__)

TAKE_DIR = ("data", "capture", "neurosync_trainer_lite_testset")
CAPTURE_MOUTH_CHANNELS: tuple[str, ...] = (
    "jawOpen", "mouthClose", "mouthFunnel", "mouthPucker",
    "mouthLowerDownLeft", "mouthLowerDownRight", "mouthUpperUpLeft", "mouthUpperUpRight",
    "mouthSmileLeft", "mouthSmileRight", "mouthStretchLeft", "mouthStretchRight",
    "mouthRollLower", "mouthPressLeft", "mouthPressRight",
)  # fmt: skip
MAX_LAG_S = 0.100  # the window for the best lag
P95_FACTOR = 1.5  # a channel's 95th percentile within this factor of the take's
HEAD_AXES = ("yaw", "pitch", "roll")


def take_paths(folder: Path | None = None) -> tuple[Path, Path]:
    """The take's ``(audio, Live Link CSV)``; a clear error when the shared data are absent."""
    folder = Path(folder) if folder is not None else shared_data_dir().joinpath(*TAKE_DIR)
    wav, csv = folder / "audio_16k.wav", folder / "curves_llf.csv"
    for p in (wav, csv):
        if not p.is_file():
            raise MissingFileError(f"iPhone take not found: {p} (expected ../shared/{'/'.join(TAKE_DIR)})")
    return wav, csv


def compare_channels(take: np.ndarray, pred: np.ndarray, *, fps: float, predicted: bool = True) -> dict:
    """Per mouth channel: r at the best lag (+-100 ms), the lag in ms, and (for predictions) the p95 ratio.

    ``take`` ``(T, 52)``; ``pred`` ``(T, 52)`` curves, or ``(T,)`` one baseline signal set against every
    channel (then no percentile is compared: a loudness envelope has no ARKit scale).
    """
    max_lag = int(round(MAX_LAG_S * fps))
    rows = {}
    for name in CAPTURE_MOUTH_CHANNELS:
        t = take[:, ARKIT_INDEX[name]]
        p = pred if pred.ndim == 1 else pred[:, ARKIT_INDEX[name]]
        r, lag = lagged_pearson(t, p, max_lag=max_lag)
        row = {"r": None if not np.isfinite(r) else round(r, 3), "lag_ms": round(1000 * lag / fps, 1)}
        if predicted:
            tp, pp = float(np.percentile(t, 95)), float(np.percentile(p, 95))
            ratio = pp / tp if tp > 1e-6 else None
            row |= {"p95_take": round(tp, 3), "p95_pred": round(pp, 3),
                    "p95_ratio": None if ratio is None else round(ratio, 2),
                    "p95_within": ratio is not None and 1 / P95_FACTOR <= ratio <= P95_FACTOR}  # fmt: skip
        rows[name] = row
    rs = [row["r"] if row["r"] is not None else 0.0 for row in rows.values()]
    summary = {"jawOpen_r": rows["jawOpen"]["r"], "mean_r": round(float(np.mean(rs)), 3)}
    if predicted:
        summary["p95_within_count"] = sum(bool(row["p95_within"]) for row in rows.values())
    return {"summary": summary, "channels": rows}


def head_ranges(rotation: np.ndarray | None) -> dict | None:
    """5th-95th percentile span and standard deviation of each head axis, degrees."""
    if rotation is None:
        return None
    rot = np.asarray(rotation, np.float64)
    return {
        axis: {"p5_p95_deg": round(float(np.percentile(rot[:, i], 95) - np.percentile(rot[:, i], 5)), 2),
               "std_deg": round(float(rot[:, i].std()), 2)}
        for i, axis in enumerate(HEAD_AXES)
    }  # fmt: skip


def _plot(path: Path, take: np.ndarray, sources: dict[str, np.ndarray], loud: np.ndarray, table: dict, fps: float):
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib.figure import Figure

    fig = Figure(figsize=(11, 7), dpi=100)
    ax = fig.add_subplot(2, 1, 1)
    t = np.arange(take.shape[0]) / fps
    jaw = ARKIT_INDEX["jawOpen"]
    ax.plot(t, take[:, jaw], color="black", lw=1.2, label="iPhone take")
    for name, curves in sources.items():
        ax.plot(t, curves[:, jaw], lw=1.0, label=name)
    ax.plot(t, loud * take[:, jaw].max(), lw=0.8, color="grey", alpha=0.7, label="loudness (scaled)")
    ax.set_xlabel("s")
    ax.set_ylabel("jawOpen")
    ax.legend(loc="upper right", fontsize=8)
    ax = fig.add_subplot(2, 1, 2)
    names = list(CAPTURE_MOUTH_CHANNELS)
    x = np.arange(len(names))
    series = {**{k: table[k]["channels"] for k in sources}, "loudness": table["loudness"]["channels"]}
    width = 0.8 / len(series)
    for i, (label, rows) in enumerate(series.items()):
        ax.bar(x + i * width, [rows[n]["r"] or 0.0 for n in names], width, label=label)
    ax.set_xticks(x + 0.4 - width / 2, names, rotation=60, ha="right", fontsize=7)
    ax.set_ylabel(f"r (best lag within {int(1000 * MAX_LAG_S)} ms)")
    ax.axhline(0, color="black", lw=0.5)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path)


def bench_capture(out_dir: Path, *, take_dir: Path | None = None, weights=None) -> dict:
    """Compare the learned model (and loudness) with the iPhone take; writes ``capture.json`` and ``capture.png``."""
    from facecraft.rigs.exchange.livelink import read_livelink_csv

    from .animate import animate_audio
    from .audio import load_audio
    from .head_motion import frame_loudness

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    wav, csv = take_paths(take_dir)
    take = read_livelink_csv(csv)
    fps, curves = float(take["fps"]), take["curves"]
    y, sr = load_audio(wav)
    n = curves.shape[0]

    anim = animate_audio(y, sr=sr, fps=fps, blink=False, head=True, gaze=False, weights=weights)
    pred = np.zeros_like(curves)
    m = min(n, anim.num_frames)
    pred[:m] = anim.curves[:m]
    loud = frame_loudness(y, sr, fps=fps, num_frames=n)

    report: dict = {
        "take": {"audio": str(wav), "csv": str(csv), "fps": fps, "frames": n, "seconds": round(n / fps, 2)},
        "note": "evaluation only: no constant or training used this take",
        "learned": compare_channels(curves, pred, fps=fps),
        "loudness": compare_channels(curves, loud, fps=fps, predicted=False),
        "head_range": {"take": head_ranges(take["head_rotation"]),
                       "facecraft": head_ranges(None if anim.head_rotation is None else anim.head_rotation[:m])},
        "targets": {"jawOpen_r": 0.75, "mean_r": 0.5, "p95_factor": P95_FACTOR},
    }  # fmt: skip
    _plot(out_dir / "capture.png", curves, {"learned": pred}, loud, report, fps)
    (out_dir / "capture.json").write_text(json.dumps(report, indent=2))
    _print(report)
    return report


def _print(report: dict) -> None:
    learned, loud = report["learned"], report["loudness"]
    print(f"iPhone take: {report['take']['seconds']} s at {report['take']['fps']:.2f} fps")
    print(f"{'channel':22s} {'r learned':>9s} {'r loud':>7s} {'p95 take':>8s} {'p95 pred':>8s} {'ratio':>6s}")
    for name, row in learned["channels"].items():
        lr = loud["channels"][name]["r"]
        print(f"{name:22s} {row['r'] if row['r'] is not None else float('nan'):9.3f} "
              f"{lr if lr is not None else float('nan'):7.3f} {row['p95_take']:8.3f} {row['p95_pred']:8.3f} "
              f"{row['p95_ratio'] if row['p95_ratio'] is not None else float('nan'):6.2f}")  # fmt: skip
    s = learned["summary"]
    print(f"jawOpen r {s['jawOpen_r']} (loudness {loud['summary']['jawOpen_r']}; target >= 0.75), mean r over 15 "
          f"{s['mean_r']} (loudness {loud['summary']['mean_r']}; target >= 0.5), p95 within x{P95_FACTOR}: "
          f"{s['p95_within_count']}/15")  # fmt: skip
    heads = report["head_range"]
    if heads["take"] and heads["facecraft"]:
        for axis in HEAD_AXES:
            print(f"head {axis}: p5-p95 span {heads['facecraft'][axis]['p5_p95_deg']} deg "
                  f"(take {heads['take'][axis]['p5_p95_deg']} deg)")  # fmt: skip
