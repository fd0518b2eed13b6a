"""What the tests of the text reader read from it: the sided AU intensities a phrase gives, by name."""

from __future__ import annotations

from facecraft.rigs.expression_text import text_to_au
from facecraft.rigs.facs import SIDED_AU_NAMES


def au(text: str) -> dict[str, float]:
    """``{"AU12L": 0.7, ...}``: the sided AU intensities :func:`text_to_au` reads from ``text``."""
    return dict(zip(SIDED_AU_NAMES, text_to_au(text).tolist(), strict=True))


def both(a: dict[str, float], name: str) -> tuple[float, float]:
    """An AU's left and right intensities."""
    return a[f"{name}L"], a[f"{name}R"]


def top(a: dict[str, float], name: str) -> float:
    """An AU's stronger side."""
    return max(both(a, name))


def low(a: dict[str, float], name: str) -> float:
    """An AU's weaker side."""
    return min(both(a, name))
