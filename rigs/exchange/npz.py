"""NumPy ``.npz`` animation files: curves, fps, optional per-frame arrays and JSON metadata.

Arrays: ``curves`` (T, 52) float32 in Apple's order, ``fps`` (scalar), ``names`` (52 Apple names, so a reader
can check or reorder), optional ``head_rotation`` (T, 3), ``eye_rotation`` (T, 6), ``flame_expression``
(T, E), ``flame_jaw`` (T, 3), and ``meta_json``: a JSON string holding ``meta``, ``mouth_cues`` and
``visemes``. Written with ``np.savez_compressed``; read without pickle.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import numpy as np

from ..arkit import ARKIT_INDEX, ARKIT_NAMES, NUM_ARKIT, canonical_arkit_name
from ..errors import FacecraftError, FileFormatError, require_file
from .json_curves import _json_default

FORMAT = "facecraft-animation-npz-1"
_OPTIONAL = ("head_rotation", "eye_rotation", "flame_expression", "flame_jaw")


def write_npz(anim, path: str | Path) -> Path:
    """Write ``anim`` (a :class:`~facecraft.rigs.animation.FaceAnimation`) to a compressed ``.npz`` file."""
    arrays = {"curves": np.asarray(anim.curves, np.float32), "fps": np.float64(anim.fps),
              "names": np.array(ARKIT_NAMES)}  # fmt: skip
    for key in _OPTIONAL:
        value = getattr(anim, key)
        if value is not None:
            arrays[key] = np.asarray(value, np.float32)
    extra = {"format": FORMAT, "meta": anim.meta, "mouth_cues": anim.mouth_cues, "visemes": anim.visemes}
    try:
        arrays["meta_json"] = np.array(json.dumps(extra, default=_json_default))
    except (TypeError, ValueError) as e:
        raise FacecraftError(f"{path}: animation meta is not JSON-serialisable ({e})") from e
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as f:  # a file object keeps numpy from appending a second ".npz"
            np.savez_compressed(f, **arrays)
    except OSError as e:
        raise FacecraftError(f"{path}: could not write npz ({e})") from e
    return path


def read_npz(path: str | Path) -> dict:
    """Read a ``.npz`` written by :func:`write_npz` (or any npz with ``curves`` and ``fps``) as FaceAnimation kwargs.

    ``names``, when present, may list the 52 channels in any order or with aliases; curves come back in
    Apple's order.
    """
    path = require_file(path, "npz animation")
    if not zipfile.is_zipfile(path):  # np.load took other bytes for a pickle and said to allow unsafe loading
        raise FileFormatError(f"{path}: not an npz file (an npz is a zip archive of arrays)")
    try:
        with np.load(path, allow_pickle=False) as z:
            data = {k: z[k] for k in z.files}
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as e:
        raise FileFormatError(f"{path}: not a readable npz file ({e})") from e
    missing = {"curves", "fps"} - set(data)
    if missing:
        raise FileFormatError(f"{path}: missing array(s) {sorted(missing)}; it has {sorted(data)}")
    curves = np.asarray(data["curves"], np.float32)
    if curves.ndim != 2 or curves.shape[1] != NUM_ARKIT:
        raise FileFormatError(f"{path}: curves must be (T, {NUM_ARKIT}), got {curves.shape}")
    if "names" in data:
        names = [str(n) for n in data["names"]]
        mapped = [canonical_arkit_name(n, strict=False) for n in names]
        if len(names) != NUM_ARKIT or None in mapped or len(set(mapped)) != NUM_ARKIT:
            raise FileFormatError(f"{path}: 'names' must be the {NUM_ARKIT} ARKit names, got {names[:5]}...")
        order = np.argsort([ARKIT_INDEX[m] for m in mapped])
        curves = curves[:, order]
    out = {"curves": curves, "fps": float(data["fps"])}
    for key in _OPTIONAL:
        out[key] = data.get(key)
    extra = {}
    if "meta_json" in data:
        try:
            extra = json.loads(str(data["meta_json"]))
        except json.JSONDecodeError as e:
            raise FileFormatError(f"{path}: meta_json is not valid JSON ({e})") from e
    out["meta"] = dict(extra.get("meta") or {})
    out["mouth_cues"] = extra.get("mouth_cues")
    out["visemes"] = extra.get("visemes")
    return out


_exporters = {"npz": write_npz}
_loaders = {"npz": read_npz}
