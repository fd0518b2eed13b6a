"""JSON animation files for web players and hand inspection: fps, Apple names, rounded frames, mouth cues.

Layout::

    {"format": "facecraft-curves", "version": 1, "fps": 30.0, "num_frames": T,
     "names": [52 Apple names], "frames": [[52 weights], ...],
     "head_rotation": [[yaw, pitch, roll], ...],          # degrees, when present
     "eye_rotation": [[6 values], ...],                   # degrees, when present
     "flame_expression": [[E values], ...],               # FLAME expression coefficients, when present
     "flame_jaw": [[3 values], ...],                      # FLAME jaw pose, axis-angle radians, when present
     "mouthCues": [{"start": s, "end": s, "value": "A".."H" | "X"}, ...],   # Rhubarb Lip Sync's key
     "visemes": [{"start": s, "end": s, "viseme": name}, ...],
     "meta": {...}}

The reader accepts ``names`` in any order or with aliases and ``mouth_cues`` as well as ``mouthCues``.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np

from ..arkit import ARKIT_INDEX, ARKIT_NAMES, NUM_ARKIT, canonical_arkit_name
from ..errors import FacecraftError, FileFormatError, require_file

logger = logging.getLogger(__name__)

FORMAT = "facecraft-curves"
# optional per-frame arrays: name -> (width or None for any, decimals at least)
_PER_FRAME = {"head_rotation": (3, 3), "eye_rotation": (6, 3), "flame_expression": (None, 5), "flame_jaw": (3, 5)}


def _rounded(a: np.ndarray, decimals: int) -> list:
    """Rounded values as lists; + 0.0 turns the -0.0 of a tiny negative (or a negated zero) into 0.0."""
    return (np.round(np.asarray(a, np.float64), decimals) + 0.0).tolist()


def write_json_curves(anim, path: str | Path, *, decimals: int = 4, indent: int | None = None) -> Path:
    """Write ``anim`` (a :class:`~facecraft.rigs.animation.FaceAnimation`) as JSON, weights rounded to ``decimals``."""
    doc = {"format": FORMAT, "version": 1, "fps": anim.fps, "num_frames": anim.num_frames,
           "names": list(ARKIT_NAMES), "frames": _rounded(anim.curves, decimals)}  # fmt: skip
    for key, (_, at_least) in _PER_FRAME.items():
        value = getattr(anim, key)
        if value is not None:
            doc[key] = _rounded(value, max(decimals, at_least))
    if anim.mouth_cues:
        doc["mouthCues"] = list(anim.mouth_cues)
    if anim.visemes:
        doc["visemes"] = list(anim.visemes)
    doc["meta"] = anim.meta
    path = Path(path)
    try:
        text = json.dumps(doc, indent=indent, default=_json_default)
    except (TypeError, ValueError) as e:
        raise FacecraftError(f"{path}: animation is not JSON-serialisable ({e})") from e
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    except OSError as e:
        raise FacecraftError(f"{path}: could not write JSON ({e})") from e
    return path


def _json_default(obj):
    """JSON encoder fallback for numpy scalars/arrays and paths (shared by the JSON and npz writers)."""
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"{type(obj).__name__} is not JSON-serialisable")


def read_json_curves(path: str | Path) -> dict:
    """Read a JSON animation (see the module docstring) as FaceAnimation keyword arguments."""
    path = require_file(path, "JSON animation")
    try:
        doc = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise FileFormatError(f"{path}: not readable JSON ({e})") from e
    if not isinstance(doc, dict) or "frames" not in doc or "fps" not in doc:
        raise FileFormatError(f"{path}: expected an object with 'fps' and 'frames' (format {FORMAT!r})")
    names = doc.get("names", list(ARKIT_NAMES))
    try:
        frames = np.asarray(doc["frames"], np.float32)
    except (TypeError, ValueError) as e:
        raise FileFormatError(f"{path}: 'frames' is not a rectangular list of numbers ({e})") from e
    if frames.ndim != 2 or frames.shape[1] != len(names):
        raise FileFormatError(f"{path}: 'frames' must be (T, {len(names)}) to match 'names', got {frames.shape}")
    said = doc.get("num_frames")
    if said is not None and (not isinstance(said, int) or said != frames.shape[0]):  # a cut or padded file
        raise FileFormatError(f"{path}: 'num_frames' says {said!r}, but 'frames' holds {frames.shape[0]} rows")
    unknown = [n for n in names if canonical_arkit_name(str(n), strict=False) is None]
    if unknown:
        raise FileFormatError(f"{path}: unknown blendshape name(s) {unknown}; expected ARKit names")
    canonical = [canonical_arkit_name(str(n)) for n in names]
    if repeated := sorted({n for n in canonical if canonical.count(n) > 1}):
        raise FileFormatError(f"{path}: blendshape(s) named twice in 'names': {repeated} (the last one would win)")
    if missing := [n for n in ARKIT_NAMES if n not in canonical]:
        logger.warning("%s: %d of the 52 ARKit channels not in 'names', read as 0: %s", path, len(missing),
                       ", ".join(missing[:8]) + (" ..." if len(missing) > 8 else ""))  # fmt: skip
    curves = np.zeros((frames.shape[0], NUM_ARKIT), np.float32)
    for j, n in enumerate(names):
        curves[:, ARKIT_INDEX[canonical_arkit_name(str(n))]] = frames[:, j]
    out = {"curves": curves, "fps": float(doc["fps"]), "meta": dict(doc.get("meta") or {})}
    for key, (width, _) in _PER_FRAME.items():
        if doc.get(key) is not None:
            try:
                arr = np.asarray(doc[key], np.float32)
            except (TypeError, ValueError) as e:
                raise FileFormatError(f"{path}: {key!r} is not a rectangular list of numbers ({e})") from e
            if arr.ndim != 2 or arr.shape[0] != frames.shape[0] or (width is not None and arr.shape[1] != width):
                want = f"({frames.shape[0]}, {width if width is not None else 'E'})"
                raise FileFormatError(f"{path}: {key!r} must be {want}, got {arr.shape}")
            out[key] = arr
    out["mouth_cues"] = doc.get("mouthCues", doc.get("mouth_cues"))
    out["visemes"] = doc.get("visemes")
    return out


_exporters = {"json": write_json_curves}
_loaders = {"json": read_json_curves}
