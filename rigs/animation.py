"""The in-memory facial animation every exporter, reader and animator exchanges.

Gaze has two spellings that must agree: the ARKit ``eyeLook*`` weights in the curves and eye rotations in
degrees (``FaceAnimation.eye_rotation``, the Live Link rotation columns, the GLB's eye nodes).
:func:`eye_rotation_from_curves` and :func:`with_gaze_curves` convert one into the other with one pair of
constants, :data:`EYE_YAW_DEG` and :data:`EYE_PITCH_DEG`.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from .arkit import ARKIT_INDEX, NUM_ARKIT, valid_curves
from .errors import ParameterError

# Eye rotation at a full eyeLook* weight: ARKit's weights span the eye's comfortable range (about 30 degrees
# to the side and 25 up or down from straight ahead); a rotation beyond it saturates at weight 1.
EYE_YAW_DEG = 30.0
EYE_PITCH_DEG = 25.0
_LOOK = {side: {d: ARKIT_INDEX[f"eyeLook{d}{side}"] for d in ("Up", "Down", "In", "Out")} for side in ("Left", "Right")}


#: The highest frame rate taken on a command line or manifest (1e9 fps asked for 27 GB of curves).
MAX_FPS = 1000.0

#: File types whose writer stores :attr:`FaceAnimation.flame_expression` / ``flame_jaw`` (Live Link CSV and GLB
#: have no place for them); the one list, here beside the fields: ``facecraft.rigs.exchange.flame_formats`` is it.
FLAME_FORMATS: tuple[str, ...] = ("npz", "json")
#: The same list as file endings (``.npz``, ``.json``), as an output's ``Path.suffix`` is compared with it.
FLAME_SUFFIXES: tuple[str, ...] = tuple(f".{kind}" for kind in FLAME_FORMATS)


def frame_rate(text) -> float:
    """A frame rate given on a command line (``argparse`` ``type=``): a finite number above 0, else an error
    that says so (``nan`` and ``0`` were taken before, and quietly became the default)."""
    import argparse

    try:
        fps = float(text)
    except (TypeError, ValueError) as e:
        raise argparse.ArgumentTypeError(f"frame rate {text!r} is not a number") from e
    if not (np.isfinite(fps) and 0 < fps <= MAX_FPS):
        raise argparse.ArgumentTypeError(f"frame rate must be a number above 0 and at most {MAX_FPS:g}, got {text!r}")
    return fps


def _rate(value, name: str) -> float:
    """A frame rate: one finite number in (0, MAX_FPS] (a number, or a one-element array as npz files hold it)."""
    if not isinstance(value, bool):
        try:
            fps = float(np.asarray(value, dtype=np.float64).reshape(-1)[0]) if np.size(value) == 1 else None
        except (TypeError, ValueError):
            fps = None
        if fps is not None and np.isfinite(fps) and 0 < fps <= MAX_FPS:
            return fps
    raise ParameterError(f"{name} must be a number above 0 and at most {MAX_FPS:g}, got {value!r}")


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
        self.curves = valid_curves(self.curves, name="FaceAnimation.curves") + np.float32(0.0)  # no -0.0 kept
        if self.curves.ndim == 1:
            self.curves = self.curves[None]
        self.fps = _rate(self.fps, "FaceAnimation.fps")
        if not isinstance(self.meta, dict):
            raise ParameterError(f"FaceAnimation.meta must be a dict, got {type(self.meta).__name__}")
        for name in ("mouth_cues", "visemes"):
            value = getattr(self, name)
            if value is not None and not (isinstance(value, list) and all(isinstance(v, dict) for v in value)):
                raise ParameterError(f"FaceAnimation.{name} must be a list of objects, got {value!r:.80}")
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

    def eye_angles(self) -> dict[str, np.ndarray]:
        """``{"left": (T, 3), "right": (T, 3)}`` yaw/pitch/roll degrees of each eye: :attr:`eye_rotation`, or the
        ``eyeLook*`` curves' (:func:`eye_rotation_from_curves`) when it has none."""
        eyes = self.eye_rotation if self.eye_rotation is not None else eye_rotation_from_curves(self.curves)
        return {"left": eyes[:, :3], "right": eyes[:, 3:]}

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


def eye_rotation_from_curves(curves) -> np.ndarray:
    """Eye rotations ``(T, 6)`` degrees (left yaw, pitch, roll, then the right eye's) from ``eyeLook*`` weights.

    Yaw is positive toward the subject's left (the left eye's ``eyeLookOut``, the right eye's ``eyeLookIn``),
    pitch positive downward (``eyeLookDown``), roll 0; a full weight is :data:`EYE_YAW_DEG` /
    :data:`EYE_PITCH_DEG`. ``curves`` is ``(T, 52)`` or ``(52,)`` (then ``(6,)`` comes back).
    """
    c = valid_curves(curves, name="curves")
    one = c.ndim == 1
    c = np.atleast_2d(c).astype(np.float64)
    out = np.zeros((len(c), 6), np.float32)
    for k, (side, toward_left) in enumerate((("Left", "Out"), ("Right", "In"))):
        look = _LOOK[side]
        away = "In" if toward_left == "Out" else "Out"
        out[:, 3 * k] = EYE_YAW_DEG * (c[:, look[toward_left]] - c[:, look[away]])
        out[:, 3 * k + 1] = EYE_PITCH_DEG * (c[:, look["Down"]] - c[:, look["Up"]])
    return out[0] if one else out


def with_gaze_curves(curves, eye_rotation) -> np.ndarray:
    """``curves`` ``(T, 52)`` with the eight ``eyeLook*`` channels set from ``eye_rotation`` ``(T, 6)`` degrees.

    The inverse of :func:`eye_rotation_from_curves` within the range (one direction of each pair is 0, the
    other the angle over the full-weight angle, clipped to 1). Returns a float32 copy.
    """
    c = np.array(valid_curves(curves, name="curves"), np.float32, copy=True)
    rot = _optional_frames("eye_rotation", eye_rotation, len(c), 6)
    for k, (side, toward_left) in enumerate((("Left", "Out"), ("Right", "In"))):
        look = _LOOK[side]
        away = "In" if toward_left == "Out" else "Out"
        yaw, pitch = rot[:, 3 * k] / EYE_YAW_DEG, rot[:, 3 * k + 1] / EYE_PITCH_DEG
        c[:, look[toward_left]] = np.clip(yaw, 0.0, 1.0)
        c[:, look[away]] = np.clip(-yaw, 0.0, 1.0)
        c[:, look["Down"]] = np.clip(pitch, 0.0, 1.0)
        c[:, look["Up"]] = np.clip(-pitch, 0.0, 1.0)
    return c
