"""FACS Action Units and the one linear map between AUs and ARKit-52 weights.

AU vectors are *sided*: shape ``(..., 2, 25)`` flattened to ``(..., 50)``, the subject's left side first
(``AU12L`` .. ), then the right side. A bilateral ``AU12`` sets both sides. Intensities lie in [0, 1]
(FACS A..E ~ 0.2..1.0).

The AU -> ARKit map is ``arkit = clip(AU_TO_ARKIT @ au_sided, 0, 1)`` with the matrix built from
:data:`AU_ARKIT_TABLE`. For a sided ARKit shape (``...Left``), the AU's own side drives it; for a shape
with no side (``jawOpen``, ``browInnerUp``, ``mouthFunnel`` ...), each side contributes half, so a
bilateral AU at 1 gives the full weight. The inverse (ARKit -> AU) is the bounded least-squares solution
of the same matrix (:func:`arkit_to_au`), so there is only one map in the code. The entries follow the
ICT FaceKit README's FACS table and common practice; ARKit itself defines no AU correspondence.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from .arkit import ARKIT_INDEX, NUM_ARKIT
from .errors import ParameterError


@dataclass(frozen=True)
class ActionUnit:
    """One FACS Action Unit: ``code`` (``'AU12'``), FACS name, and the face region it moves."""

    code: str
    name: str
    region: str


ACTION_UNITS: tuple[ActionUnit, ...] = (
    ActionUnit("AU1", "inner brow raiser", "brows"),
    ActionUnit("AU2", "outer brow raiser", "brows"),
    ActionUnit("AU4", "brow lowerer", "brows"),
    ActionUnit("AU5", "upper lid raiser", "eyes"),
    ActionUnit("AU6", "cheek raiser", "cheeks"),
    ActionUnit("AU7", "lid tightener", "eyes"),
    ActionUnit("AU9", "nose wrinkler", "nose"),
    ActionUnit("AU10", "upper lip raiser", "mouth"),
    ActionUnit("AU12", "lip corner puller", "mouth"),
    ActionUnit("AU14", "dimpler", "mouth"),
    ActionUnit("AU15", "lip corner depressor", "mouth"),
    ActionUnit("AU16", "lower lip depressor", "mouth"),
    ActionUnit("AU17", "chin raiser", "chin"),
    ActionUnit("AU18", "lip pucker", "mouth"),
    ActionUnit("AU20", "lip stretcher", "mouth"),
    ActionUnit("AU22", "lip funneler", "mouth"),
    ActionUnit("AU23", "lip tightener", "mouth"),
    ActionUnit("AU24", "lip pressor", "mouth"),
    ActionUnit("AU25", "lips part", "mouth"),
    ActionUnit("AU26", "jaw drop", "jaw"),
    ActionUnit("AU27", "mouth stretch", "jaw"),
    ActionUnit("AU28", "lip suck", "mouth"),
    ActionUnit("AU34", "cheek puff", "cheeks"),
    ActionUnit("AU43", "eyes closed", "eyes"),
    ActionUnit("AU45", "blink", "eyes"),
)
AU_NAMES: tuple[str, ...] = tuple(a.code for a in ACTION_UNITS)
NUM_AU = len(AU_NAMES)
AU_INDEX: dict[str, int] = {n: i for i, n in enumerate(AU_NAMES)}
SIDED_AU_NAMES: tuple[str, ...] = tuple(f"{n}L" for n in AU_NAMES) + tuple(f"{n}R" for n in AU_NAMES)
NUM_SIDED_AU = len(SIDED_AU_NAMES)

# AU -> [(ARKit base name, weight)]. A base ending in "{S}" is sided and gets "Left"/"Right".
AU_ARKIT_TABLE: dict[str, tuple[tuple[str, float], ...]] = {
    "AU1": (("browInnerUp", 1.0),),
    "AU2": (("browOuterUp{S}", 1.0),),
    "AU4": (("browDown{S}", 1.0),),
    "AU5": (("eyeWide{S}", 1.0),),
    "AU6": (("cheekSquint{S}", 1.0), ("eyeSquint{S}", 0.3)),
    "AU7": (("eyeSquint{S}", 1.0),),
    "AU9": (("noseSneer{S}", 1.0), ("mouthUpperUp{S}", 0.2)),
    "AU10": (("mouthUpperUp{S}", 1.0), ("mouthShrugUpper", 0.2)),
    "AU12": (("mouthSmile{S}", 1.0),),
    "AU14": (("mouthDimple{S}", 1.0),),
    "AU15": (("mouthFrown{S}", 1.0),),
    "AU16": (("mouthLowerDown{S}", 1.0),),
    "AU17": (("mouthShrugLower", 1.0), ("mouthShrugUpper", 0.3)),
    "AU18": (("mouthPucker", 1.0),),
    "AU20": (("mouthStretch{S}", 1.0),),
    "AU22": (("mouthFunnel", 1.0),),
    "AU23": (("mouthPress{S}", 0.4), ("mouthRollLower", 0.3), ("mouthRollUpper", 0.3)),
    "AU24": (("mouthPress{S}", 1.0),),
    "AU25": (("mouthLowerDown{S}", 0.4), ("jawOpen", 0.1)),
    "AU26": (("jawOpen", 0.6),),
    "AU27": (("jawOpen", 1.0), ("mouthStretch{S}", 0.2)),
    "AU28": (("mouthRollLower", 1.0), ("mouthRollUpper", 1.0)),
    "AU34": (("cheekPuff", 1.0),),
    "AU43": (("eyeBlink{S}", 1.0),),
    "AU45": (("eyeBlink{S}", 1.0),),
}


def _build_matrix() -> np.ndarray:
    m = np.zeros((NUM_ARKIT, NUM_SIDED_AU), dtype=np.float32)
    for au, entries in AU_ARKIT_TABLE.items():
        for side_idx, side in enumerate(("Left", "Right")):
            col = side_idx * NUM_AU + AU_INDEX[au]
            for base, w in entries:
                if "{S}" in base:
                    m[ARKIT_INDEX[base.replace("{S}", side)], col] += w
                else:
                    m[ARKIT_INDEX[base], col] += 0.5 * w
    return m


AU_TO_ARKIT: np.ndarray = _build_matrix()
"""``(52, 50)`` float32: ARKit weights = ``AU_TO_ARKIT @ sided_au`` (then clipped to [0, 1])."""

_AU_RE = re.compile(r"^\s*AU\s*0*(\d+)\s*([LR])?\s*$", re.IGNORECASE)


def parse_au_name(name: str) -> tuple[str, str | None]:
    """``'au12r'`` -> ``('AU12', 'R')``; ``'AU1'`` -> ``('AU1', None)``. Unknown AUs raise."""
    m = _AU_RE.match(name)
    code = f"AU{int(m.group(1))}" if m else None
    if code not in AU_INDEX:
        raise ParameterError(
            f"unknown Action Unit {name!r}; expected one of {', '.join(AU_NAMES)} (optional L/R suffix)"
        )
    return code, (m.group(2).upper() if m.group(2) else None)


def au_vector(values: dict[str, float]) -> np.ndarray:
    """Sided AU vector ``(50,)`` float32 from ``{'AU12': 0.8, 'AU14R': 0.5}``; intensities must be in [0, 1]."""
    v = np.zeros(NUM_SIDED_AU, dtype=np.float32)
    for name, x in values.items():
        x = float(x)
        if not 0.0 <= x <= 1.0:
            raise ParameterError(f"{name}: intensity must lie in [0, 1], got {x}")
        code, side = parse_au_name(name)
        i = AU_INDEX[code]
        if side in (None, "L"):
            v[i] = x
        if side in (None, "R"):
            v[NUM_AU + i] = x
    return v


def side_mean(au_sided: np.ndarray) -> np.ndarray:
    """Each AU's mean over the face's two sides: ``(..., 25)`` from sided intensities ``(..., 50)``."""
    a = np.asarray(au_sided, dtype=np.float32)
    return 0.5 * (a[..., :NUM_AU] + a[..., NUM_AU:])


def au_dict(vector: np.ndarray, *, threshold: float = 0.0) -> dict[str, float]:
    """Readable form of a sided AU vector: symmetric AUs as ``AU12``, one-sided ones as ``AU12R``."""
    v = np.asarray(vector, dtype=np.float32).reshape(2, NUM_AU)
    out: dict[str, float] = {}
    for i, code in enumerate(AU_NAMES):
        left, right = float(v[0, i]), float(v[1, i])
        if abs(left - right) < 1e-3:
            if left > threshold:
                out[code] = left
        else:
            if left > threshold:
                out[code + "L"] = left
            if right > threshold:
                out[code + "R"] = right
    return out


def au_to_arkit(au_sided: np.ndarray) -> np.ndarray:
    """ARKit weights ``(..., 52)`` from sided AU intensities ``(..., 50)``, clipped to [0, 1]."""
    a = np.asarray(au_sided, dtype=np.float32)
    if a.shape[-1] != NUM_SIDED_AU:
        raise ParameterError(f"AU vector: expected last dim {NUM_SIDED_AU} (left, right x {NUM_AU}), got {a.shape}")
    return np.clip(a @ AU_TO_ARKIT.T, 0.0, 1.0).astype(np.float32)


def arkit_to_au(arkit: np.ndarray) -> np.ndarray:
    """Sided AU intensities ``(..., 50)`` whose image under :data:`AU_TO_ARKIT` best matches ``arkit``.

    Bounded least squares (each AU in [0, 1]) of the same matrix; channels no AU explains (gaze,
    ``mouthLeft`` ...) are ignored.
    """
    from scipy.optimize import lsq_linear

    w = np.asarray(arkit, dtype=np.float64)
    if w.shape[-1] != NUM_ARKIT:
        raise ParameterError(f"ARKit weights: expected last dim {NUM_ARKIT}, got {w.shape}")
    flat = w.reshape(-1, NUM_ARKIT)
    # A tiny ridge term picks the smallest solution when AUs share a shape (AU43/AU45 both close the lids).
    a = np.vstack([AU_TO_ARKIT.astype(np.float64), 1e-3 * np.eye(NUM_SIDED_AU)])
    out = np.empty((flat.shape[0], NUM_SIDED_AU), dtype=np.float32)
    for i, row in enumerate(flat):
        b = np.concatenate([row, np.zeros(NUM_SIDED_AU)])
        out[i] = lsq_linear(a, b, bounds=(0.0, 1.0), method="bvls").x
    return out.reshape(*w.shape[:-1], NUM_SIDED_AU)
