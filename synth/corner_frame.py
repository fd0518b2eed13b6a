"""A 2-D frame along the line between two corners (of an eye or a mouth): the repaint steps work in it.

``u`` runs from the first corner toward the second, ``v`` at right angles (down the face for a frame whose
corners run from the image's left to its right). Working in ``(u, v)`` turns a lid or a lip into a profile
``v(u)``, whatever the head's roll.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class CornerFrame:
    origin: np.ndarray  # (2,) the first corner, pixels
    u_axis: np.ndarray  # (2,) unit, toward the second corner
    v_axis: np.ndarray  # (2,) unit, at right angles to u
    width: float  # pixels between the corners

    @classmethod
    def between(cls, start: np.ndarray, end: np.ndarray, *, v_down: bool = False) -> CornerFrame:
        """The frame from corner ``start`` to ``end``; ``v_down`` turns ``v`` toward growing image y."""
        start, end = np.asarray(start, np.float64), np.asarray(end, np.float64)
        axis = end - start
        width = max(float(np.hypot(*axis)), 1e-6)
        u_axis = axis / width
        v_axis = np.array([-u_axis[1], u_axis[0]])
        if v_down and v_axis[1] < 0:
            v_axis = -v_axis
        return cls(start, u_axis, v_axis, width)

    def local(self, points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(u, v)`` of ``(N, 2)`` pixel points."""
        rel = np.asarray(points, np.float64) - self.origin
        return rel @ self.u_axis, rel @ self.v_axis

    def coords(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(u, v)`` of pixel coordinate arrays ``x``, ``y`` (any shape)."""
        rx, ry = x - self.origin[0], y - self.origin[1]
        return rx * self.u_axis[0] + ry * self.u_axis[1], rx * self.v_axis[0] + ry * self.v_axis[1]

    def to_image(self, u: np.ndarray, v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Pixel ``(x, y)`` of frame coordinates ``u``, ``v`` (any shape)."""
        return (
            self.origin[0] + u * self.u_axis[0] + v * self.v_axis[0],
            self.origin[1] + u * self.u_axis[1] + v * self.v_axis[1],
        )


@dataclass(frozen=True)
class ContourFrame(CornerFrame):
    """A corner frame with an upper and a lower contour (lids, inner lips) as ``(u, v)`` samples."""

    upper: tuple[np.ndarray, np.ndarray]  # (u, v) samples of the upper contour, u increasing
    lower: tuple[np.ndarray, np.ndarray]

    @classmethod
    def of_rows(cls, points: np.ndarray, upper_ids, lower_ids, *, v_down: bool = False) -> ContourFrame:
        """The frame from the upper row's first to last point, with both rows of ``(N, 2)`` pixel ``points``."""
        frame = CornerFrame.between(points[upper_ids[0]], points[upper_ids[-1]], v_down=v_down)

        def row(ids):
            u, v = frame.local(points[list(ids)])
            return np.maximum.accumulate(u), v

        return cls(**vars(frame), upper=row(upper_ids), lower=row(lower_ids))

    def profile(self, u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``v`` of the upper and lower contour at ``u`` (pixels)."""
        return np.interp(u, *self.upper), np.interp(u, *self.lower)

    def gap(self, a: np.ndarray) -> np.ndarray:
        """Opening height in pixels at fractions ``a`` of the width (0 first corner, 1 second)."""
        up, lo = self.profile(a * self.width)
        return np.maximum(lo - up, 0.0)
