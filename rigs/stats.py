"""Correlation of two curves, shared by the benchmarks: plain, and at the best time lag within a window."""

from __future__ import annotations

import numpy as np

from .errors import ParameterError


def pearson(a, b) -> float:
    """Pearson r of two equal-length 1-D sequences; NaN when either does not move (no correlation exists)."""
    a, b = np.asarray(a, np.float64).ravel(), np.asarray(b, np.float64).ravel()
    if a.shape != b.shape:
        raise ParameterError(f"pearson: sequences differ in length ({a.size} vs {b.size})")
    if a.size < 2 or a.std() < 1e-9 or b.std() < 1e-9:
        return float("nan")
    return float(np.corrcoef(a, b)[0, 1])


def lagged_pearson(reference, other, *, max_lag: int) -> tuple[float, int]:
    """The largest Pearson r of ``other[t + lag]`` against ``reference[t]`` over ``|lag| <= max_lag`` frames.

    Why: two recordings of the same take (a capture and a prediction) may be offset by a frame or two of
    latency; the issue's figures allow a small window. Returns ``(r, lag)``; ``(nan, 0)`` when nothing moves.
    """
    x, y = np.asarray(reference, np.float64).ravel(), np.asarray(other, np.float64).ravel()
    if x.shape != y.shape:
        raise ParameterError(f"lagged_pearson: sequences differ in length ({x.size} vs {y.size})")
    if max_lag < 0:
        raise ParameterError(f"lagged_pearson: max_lag must be >= 0, got {max_lag}")
    best, best_lag = float("nan"), 0
    for lag in range(-max_lag, max_lag + 1):
        if lag >= 0:
            r = pearson(x[: x.size - lag], y[lag:])
        else:
            r = pearson(x[-lag:], y[: y.size + lag])
        if np.isfinite(r) and (not np.isfinite(best) or r > best):
            best, best_lag = r, lag
    return best, best_lag
