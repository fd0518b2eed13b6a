"""Classification metrics for FER: confusion matrix, accuracy, macro-F1, per-class recall, plots, reports.

Macro-F1 is the headline figure because FER data are skewed (a model that says "neutral" for everything
scores a high accuracy). ``classes=`` restricts the macro mean to a subset, e.g. the 7 classes a judge
without contempt can predict; every per-class figure is reported too.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from facecraft.rigs import EMOTIONS
from facecraft.rigs.errors import ParameterError


def confusion_matrix(y_true, y_pred, *, num_classes: int = len(EMOTIONS)) -> np.ndarray:
    """Counts ``(C, C)``: row = true class, column = predicted class."""
    t, p = np.asarray(y_true, dtype=np.int64).ravel(), np.asarray(y_pred, dtype=np.int64).ravel()
    if t.shape != p.shape:
        raise ParameterError(f"y_true and y_pred must have the same length, got {t.shape} and {p.shape}")
    for name, a in (("y_true", t), ("y_pred", p)):
        if a.size and (a.min() < 0 or a.max() >= num_classes):
            raise ParameterError(f"{name}: class indices must lie in [0, {num_classes}), got [{a.min()}, {a.max()}]")
    return np.bincount(t * num_classes + p, minlength=num_classes * num_classes).reshape(num_classes, num_classes)


def per_class_scores(cm: np.ndarray) -> dict[str, np.ndarray]:
    """Precision, recall, F1 and support per class ``(C,)`` from a confusion matrix (0 where undefined)."""
    cm = np.asarray(cm, dtype=np.float64)
    if cm.ndim != 2 or cm.shape[0] != cm.shape[1]:
        raise ParameterError(f"confusion matrix: expected a square (C, C) array, got {cm.shape}")
    tp = np.diag(cm)
    support, predicted = cm.sum(axis=1), cm.sum(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        precision = np.where(predicted > 0, tp / predicted, 0.0)
        recall = np.where(support > 0, tp / support, 0.0)
        f1 = np.where(precision + recall > 0, 2 * precision * recall / (precision + recall), 0.0)
    return {"precision": precision, "recall": recall, "f1": f1, "support": support.astype(np.int64)}


def macro_f1(cm: np.ndarray, *, classes: Sequence[int] | None = None) -> float:
    """Unweighted mean F1 over ``classes`` (default all classes of the matrix) that the labels or the predictions
    hold: a class neither has no F1 to count (a test set without contempt scored it 0 and the mean 0.749 for 0.857);
    one only predicted counts, at 0. 0.0 when no class is left."""
    scores = per_class_scores(cm)
    cm = np.asarray(cm)
    seen = (cm.sum(axis=1) > 0) | (cm.sum(axis=0) > 0)
    idx = np.arange(len(seen)) if classes is None else np.asarray(list(classes), dtype=np.int64)
    idx = idx[seen[idx]]
    return float(scores["f1"][idx].mean()) if len(idx) else 0.0


def classification_report(
    y_true, y_pred, *, labels: Sequence[str] = EMOTIONS, subsets: dict[str, Sequence[str]] | None = None
) -> dict:
    """JSON-ready report: accuracy, macro-F1 (all classes and named subsets), per-class P/R/F1/support, matrix.

    Parameters
    ----------
    y_true, y_pred : int arrays (N,)
        Class indices into ``labels``.
    labels : sequence of str
        Class names (default EMOTIONS).
    subsets : dict, optional
        ``{"macro_f1_7": [...names...]}``: extra macro-F1s over subsets of ``labels``.
    """
    labels = list(labels)
    cm = confusion_matrix(y_true, y_pred, num_classes=len(labels))
    scores = per_class_scores(cm)
    n = int(cm.sum())
    report = {
        "n": n,
        "accuracy": float(np.trace(cm) / n) if n else 0.0,
        "macro_f1": macro_f1(cm),
        "per_class": {
            name: {k: (int(v[i]) if k == "support" else float(v[i])) for k, v in scores.items()}
            for i, name in enumerate(labels)
        },
        "labels": labels,
        "confusion_matrix": cm.tolist(),
    }
    for key, names in (subsets or {}).items():
        unknown = sorted(set(names) - set(labels))
        if unknown:
            raise ParameterError(f"subset {key!r}: unknown class names {unknown}; expected some of {labels}")
        report[key] = macro_f1(cm, classes=[labels.index(c) for c in names])
    return report


def class_recalls(report: dict, *, digits: int = 4) -> dict[str, float | None]:
    """Recall per class of a :func:`classification_report`, rounded; None for a class without images in the
    scored split (its 0 would read as a class the judge never gets right, while :func:`macro_f1` leaves it out)."""
    return {c: (round(v["recall"], digits) if v["support"] else None) for c, v in report["per_class"].items()}


def plot_confusion(cm, path: str | os.PathLike, *, labels: Sequence[str] = EMOTIONS, title: str = "") -> Path:
    """Save a row-normalised confusion matrix (recall per true class, with counts) as a PNG."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib.figure import Figure

    cm = np.asarray(cm, dtype=np.float64)
    rows = cm.sum(axis=1, keepdims=True)
    norm = np.divide(cm, rows, out=np.zeros_like(cm), where=rows > 0)
    fig = Figure(figsize=(1.0 + 0.8 * len(labels), 0.8 + 0.75 * len(labels)), dpi=110)
    ax = fig.add_subplot()
    im = ax.imshow(norm, cmap="Blues", vmin=0.0, vmax=1.0)
    ax.set_xticks(range(len(labels)), labels, rotation=45, ha="right")
    ax.set_yticks(range(len(labels)), labels)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    for i in range(len(labels)):
        for j in range(len(labels)):
            ax.text(
                j,
                i,
                f"{norm[i, j]:.2f}\n{int(cm[i, j])}",
                ha="center",
                va="center",
                fontsize=7,
                color="white" if norm[i, j] > 0.5 else "black",
            )
    fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04)
    if title:
        ax.set_title(title)
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    return path


def write_report(report: dict, path: str | os.PathLike) -> Path:
    """Write a report dict as indented JSON."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=2, default=float))
    return path
