"""The in-memory facial animation every exporter, reader and animator exchanges."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from .arkit import NUM_ARKIT, valid_curves
from .errors import ParameterError


def _optional_frames(name: str, arr, num_frames: int, width: int | None) -> np.ndarray | None:
    if arr is None:
        return None
    a = np.asarray(arr, dtype=np.float32)
    if a.ndim != 2 or a.shape[0] != num_frames or (width is not None and a.shape[1] != width):
        want = f"({num_frames}, {width if width is not None else 'E'})"
        raise ParameterError(f"FaceAnimation.{name}: expected shape {want}, got {a.shape}")
    if not np.all(np.isfinite(a)):
        raise ParameterError(f"FaceAnimation.{name}: contains NaN or infinite values")
    return a


@dataclass
class FaceAnimation:
    """ARKit-52 curves at a frame rate, with optional head/eye rotations, FLAME parameters and mouth cues.

    Attributes
    ----------
    curves : float32 (T, 52)
        ARKit weights in [0, 1], Apple's order (:data:`facecraft.rigs.ARKIT_NAMES`).
    fps : float
        Frames per second of ``curves`` and every per-frame array.
    head_rotation : float32 (T, 3), optional
        Yaw, pitch, roll in degrees (yaw positive turns the face to its left).
    eye_rotation : float32 (T, 6), optional
        Left eye yaw, pitch, roll, then the right eye's, in degrees.
    flame_expression : float32 (T, E), optional
        FLAME expression coefficients.
    flame_jaw : float32 (T, 3), optional
        FLAME jaw pose, axis-angle in radians.
    mouth_cues : list of dict, optional
        Rhubarb-style ``{"start": s, "end": s, "value": "A".."H" or "X"}``.
    visemes : list of dict, optional
        ``{"start": s, "end": s, "viseme": name}``.
    meta : dict
        Free-form provenance (source audio, model, emotion ...), kept JSON-serialisable.
    """

    curves: np.ndarray
    fps: float = 30.0
    head_rotation: np.ndarray | None = None
    eye_rotation: np.ndarray | None = None
    flame_expression: np.ndarray | None = None
    flame_jaw: np.ndarray | None = None
    mouth_cues: list[dict] | None = None
    visemes: list[dict] | None = None
    meta: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.curves = valid_curves(self.curves, name="FaceAnimation.curves")
        if self.curves.ndim == 1:
            self.curves = self.curves[None]
        if not (np.isfinite(self.fps) and self.fps > 0):
            raise ParameterError(f"FaceAnimation.fps must be a positive number, got {self.fps!r}")
        self.fps = float(self.fps)
        t = self.curves.shape[0]
        self.head_rotation = _optional_frames("head_rotation", self.head_rotation, t, 3)
        self.eye_rotation = _optional_frames("eye_rotation", self.eye_rotation, t, 6)
        self.flame_expression = _optional_frames("flame_expression", self.flame_expression, t, None)
        self.flame_jaw = _optional_frames("flame_jaw", self.flame_jaw, t, 3)

    @property
    def num_frames(self) -> int:
        return int(self.curves.shape[0])

    @property
    def duration(self) -> float:
        """Length in seconds (frames / fps)."""
        return self.num_frames / self.fps

    def times(self) -> np.ndarray:
        """Frame times in seconds, ``(T,)`` float64."""
        return np.arange(self.num_frames) / self.fps

    def resample(self, fps: float) -> FaceAnimation:
        """The same motion at another frame rate (linear interpolation of every per-frame array)."""
        if not (np.isfinite(fps) and fps > 0):
            raise ParameterError(f"resample: fps must be a positive number, got {fps!r}")
        n = max(1, int(round(self.duration * fps)))
        src, dst = self.times(), np.arange(n) / fps

        def interp(a: np.ndarray | None) -> np.ndarray | None:
            if a is None:
                return None
            return np.stack([np.interp(dst, src, a[:, j]) for j in range(a.shape[1])], axis=1).astype(np.float32)

        return replace(
            self,
            curves=np.clip(interp(self.curves), 0.0, 1.0),
            fps=float(fps),
            head_rotation=interp(self.head_rotation),
            eye_rotation=interp(self.eye_rotation),
            flame_expression=interp(self.flame_expression),
            flame_jaw=interp(self.flame_jaw),
        )

    @classmethod
    def still(cls, weights: np.ndarray | None = None, *, num_frames: int = 1, fps: float = 30.0) -> FaceAnimation:
        """A held pose: ``weights`` (52,) (neutral when omitted) repeated ``num_frames`` times."""
        w = np.zeros(NUM_ARKIT, np.float32) if weights is None else np.asarray(weights, np.float32)
        return cls(np.repeat(w[None], num_frames, axis=0), fps=fps)
