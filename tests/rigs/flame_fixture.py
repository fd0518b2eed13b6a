"""Build a small FLAME-format head model in code, and write it the way real FLAME files are written.

The head is an ellipsoid (about 15 x 20 x 18 cm, Y up, face toward +Z) with the five FLAME joints
(root, neck, jaw, left eye, right eye), skinning weights that let the jaw carry the lower face, smooth
random shape/expression bases, small random pose correctives, a sparse joint regressor and a 68-point
iBUG-style landmark embedding placed on the front of the face. ``write_flame_pkl`` pickles it as a
Python-2-era file would be: ``shapedirs`` as a ``chumpy.ch.Ch``, ``posedirs`` as a ``chumpy.reordering.Select``,
``J_regressor`` under the old ``scipy.sparse.csc`` path and arrays under ``numpy.core``.
"""

from __future__ import annotations

import pickle
import sys
import types
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import scipy.sparse

RADII = np.array([0.075, 0.10, 0.09])
MOUTH_Y = -0.036  # the lips part here: the jaw carries what lies below
EYES = np.array([[0.03, 0.025, 0.0], [-0.03, 0.025, 0.0]])  # subject's left eye at +X, z filled in below


def _ibug68_2d() -> np.ndarray:
    """Rough iBUG-68 layout (x, y) in metres on the face, subject's left at +X."""
    a = np.linspace(np.pi * 1.05, np.pi * 1.95, 17)
    contour = np.stack([0.065 * np.cos(a), -0.01 + 0.07 * np.sin(a)], 1)
    contour = contour[::-1] * [-1, 1]  # 0 at the subject's right (-X), 8 at the chin, 16 at the left
    brow_r = np.stack([np.linspace(-0.05, -0.012, 5), [0.042, 0.047, 0.048, 0.047, 0.044]], 1)
    brow_l = brow_r[::-1] * [-1, 1]
    nose = np.array([[0, 0.03], [0, 0.018], [0, 0.006], [0, -0.006]])
    nostrils = np.stack([np.linspace(-0.015, 0.015, 5), [-0.014, -0.016, -0.017, -0.016, -0.014]], 1)
    eye_r = np.array([[-0.042, 0.025], [-0.035, 0.03], [-0.025, 0.03], [-0.018, 0.025], [-0.025, 0.02],
                      [-0.035, 0.02]])  # fmt: skip
    eye_l = eye_r[[3, 2, 1, 0, 5, 4]] * [-1, 1]
    lips_out = np.array([[-0.025, -0.035], [-0.016, -0.029], [-0.007, -0.026], [0, -0.0265], [0.007, -0.026],
                         [0.016, -0.029], [0.025, -0.035], [0.016, -0.043], [0.007, -0.047], [0, -0.048],
                         [-0.007, -0.047], [-0.016, -0.043]])  # fmt: skip
    lips_in = np.array([[-0.02, -0.035], [-0.008, -0.032], [0, -0.031], [0.008, -0.032], [0.02, -0.035],
                        [0.008, -0.04], [0, -0.041], [-0.008, -0.04]])  # fmt: skip
    return np.concatenate([contour, brow_r, brow_l, nose, nostrils, eye_r, eye_l, lips_out, lips_in])


def _smoothstep(x: np.ndarray) -> np.ndarray:
    x = np.clip(x, 0.0, 1.0)
    return x * x * (3 - 2 * x)


def build_flame_model(*, n_shape: int = 300, n_expression: int = 100, seed: int = 0) -> dict:
    """Arrays of a FLAME-format model: keys as in a FLAME pickle plus ``lmk_face_idx``/``lmk_b_coords``.

    ``J_regressor`` is a ``scipy.sparse.csc_matrix``; ``shapedirs`` has ``n_shape + n_expression`` columns
    (300 + 100 like FLAME 2020/2023, or 10 + 10 like a reduced file).
    """
    rng = np.random.default_rng(seed)
    n_lon, n_lat = 32, 18
    lon = np.linspace(-np.pi, np.pi, n_lon, endpoint=False)
    lat = np.linspace(-np.radians(80), np.radians(80), n_lat)
    la, lo = np.meshgrid(lat, lon, indexing="ij")  # (n_lat, n_lon)
    ring = np.stack([np.cos(la) * np.sin(lo), np.sin(la), np.cos(la) * np.cos(lo)], -1).reshape(-1, 3)
    unit = np.concatenate([ring, [[0, -1, 0], [0, 1, 0]]])
    verts = unit * RADII
    v = len(verts)
    faces = []
    for i in range(n_lat - 1):
        for j in range(n_lon):
            a, b = i * n_lon + j, i * n_lon + (j + 1) % n_lon
            c, d = a + n_lon, b + n_lon
            faces += [[a, b, d], [a, d, c]]
    bottom, top = v - 2, v - 1
    for j in range(n_lon):
        faces.append([bottom, (j + 1) % n_lon, j])
        top_row = (n_lat - 1) * n_lon
        faces.append([top, top_row + j, top_row + (j + 1) % n_lon])
    faces = np.array(faces, dtype=np.uint32)

    # Joint regressor: each joint the mean of a few surface vertices (a sparse row, like FLAME's).
    def nearest(p: np.ndarray, k: int) -> np.ndarray:
        return np.argsort(np.linalg.norm(verts - p, axis=1))[:k]

    groups = [
        np.arange(0, n_lon),  # root: the lowest ring
        np.arange(n_lon, 2 * n_lon),  # neck: the next ring
        np.concatenate([nearest([RADII[0], -0.03, -0.01], 2), nearest([-RADII[0], -0.03, -0.01], 2)]),  # jaw hinge
        nearest([0.03, 0.025, 0.08], 3),  # left eye
        nearest([-0.03, 0.025, 0.08], 3),  # right eye
    ]
    reg = np.zeros((5, v))
    for j, g in enumerate(groups):
        reg[j, g] = 1.0 / len(g)
    joints = reg @ verts

    # Skinning: the jaw takes the front of the face below the mouth line, eyes their surroundings, the
    # neck the lowest rings, the root the rest.
    w = np.zeros((v, 5))
    w[:, 2] = _smoothstep((MOUTH_Y - verts[:, 1]) / 0.004 + 0.5) * _smoothstep(verts[:, 2] / 0.03)
    for j in (3, 4):
        w[:, j] = _smoothstep(1.5 - np.linalg.norm(verts - joints[j], axis=1) / 0.008) * (1 - w[:, 2])
    w[:, 1] = _smoothstep((-0.07 - verts[:, 1]) / 0.02) * (1 - w[:, 2:].sum(1))
    w[:, 0] = 1 - w[:, 1:].sum(1)

    def smooth_fields(n: int, amp: float) -> np.ndarray:
        out = np.zeros((v, 3, n))
        for i in range(n):
            for _ in range(3):
                centre = verts[rng.integers(v)]
                bump = np.exp(-(np.linalg.norm(verts - centre, axis=1) ** 2) / (2 * 0.025**2))
                out[:, :, i] += bump[:, None] * rng.normal(0, amp, 3)
        return out

    shapedirs = np.concatenate([smooth_fields(n_shape, 0.004), smooth_fields(n_expression, 0.003)], 2)
    posedirs = rng.normal(0, 2e-4, (v, 3, 36))

    # Landmarks: for each iBUG point, the front triangle nearest to it, at random barycentric coords.
    centres = verts[faces.astype(np.int64)].mean(1)
    front = np.flatnonzero(centres[:, 2] > 0.03)
    lmk_face = np.array([front[np.argmin(np.linalg.norm(centres[front, :2] - p, axis=1))] for p in _ibug68_2d()])
    bary = rng.uniform(0.2, 1.0, (68, 3))
    bary /= bary.sum(1, keepdims=True)

    kintree = np.array([[np.iinfo(np.uint32).max, 0, 1, 1, 1], [0, 1, 2, 3, 4]], dtype=np.int64)
    return {
        "v_template": verts, "f": faces, "shapedirs": shapedirs, "posedirs": posedirs,
        "J_regressor": scipy.sparse.csc_matrix(reg), "weights": w, "kintree_table": kintree, "J": joints,
        "bs_style": "lbs", "bs_type": "lrotmin",
        "lmk_face_idx": lmk_face.astype(np.uint32), "lmk_b_coords": bary,
    }  # fmt: skip


@contextmanager
def fake_chumpy():
    """Put a minimal ``chumpy`` package (``ch.Ch``, ``reordering.Select``) in ``sys.modules`` meanwhile."""
    pkg, ch, reordering = (types.ModuleType(n) for n in ("chumpy", "chumpy.ch", "chumpy.reordering"))
    ch_cls = type("Ch", (), {"__module__": "chumpy.ch"})
    select_cls = type("Select", (ch_cls,), {"__module__": "chumpy.reordering"})
    ch.Ch, reordering.Select, pkg.ch, pkg.reordering = ch_cls, select_cls, ch, reordering
    saved = {k: sys.modules.get(k) for k in ("chumpy", "chumpy.ch", "chumpy.reordering")}
    sys.modules.update({"chumpy": pkg, "chumpy.ch": ch, "chumpy.reordering": reordering})
    try:
        yield ch_cls, select_cls
    finally:
        for k, m in saved.items():
            if m is None:
                sys.modules.pop(k, None)
            else:
                sys.modules[k] = m


def write_flame_pkl(path: Path, model: dict, *, embedding: bool = False) -> Path:
    """Pickle ``model`` as an old FLAME file (chumpy arrays, old scipy/numpy module paths, protocol 2)."""
    keys = ["v_template", "f", "shapedirs", "posedirs", "J_regressor", "weights", "kintree_table", "J", "bs_style",
            "bs_type"] + (["lmk_face_idx", "lmk_b_coords"] if embedding else [])  # fmt: skip
    with fake_chumpy() as (ch_cls, select_cls):
        data = {k: model[k] for k in keys}
        shp = ch_cls.__new__(ch_cls)
        shp.__dict__.update({"x": model["shapedirs"], "dterms": ()})
        data["shapedirs"] = shp
        src = ch_cls.__new__(ch_cls)
        src.__dict__["x"] = model["posedirs"].ravel()[::-1].copy()  # a Select reading it back in order
        sel = select_cls.__new__(select_cls)
        sel.__dict__.update({"a": src, "idxs": np.arange(src.x.size)[::-1].copy(),
                             "preferred_shape": model["posedirs"].shape})  # fmt: skip
        data["posedirs"] = sel
        raw = pickle.dumps(data, protocol=2)
    raw = raw.replace(b"cscipy.sparse._csc\n", b"cscipy.sparse.csc\n")
    raw = raw.replace(b"cnumpy._core.multiarray\n", b"cnumpy.core.multiarray\n")
    path = Path(path)
    path.write_bytes(raw)
    return path


def write_flame_npz(path: Path, model: dict, *, embedding: bool = True) -> Path:
    """Write ``model`` as a plain ``.npz`` (dense ``J_regressor``), with the landmark embedding keys if asked."""
    out = {k: np.asarray(v) for k, v in model.items() if k not in ("lmk_face_idx", "lmk_b_coords", "J_regressor")}
    out["J_regressor"] = model["J_regressor"].toarray()
    if embedding:
        out["lmk_face_idx"], out["lmk_b_coords"] = model["lmk_face_idx"], model["lmk_b_coords"]
    path = Path(path)
    np.savez(path, **out)
    return path


def write_embedding_pkl(path: Path, model: dict, *, points: int = 68) -> Path:
    """A ``flame_static_embedding(_68).pkl``-style file: 68 points, or the 51 inner ones (iBUG 17..67)."""
    sl = slice(0, 68) if points == 68 else slice(17, 68)
    data = {"lmk_face_idx": model["lmk_face_idx"][sl], "lmk_b_coords": model["lmk_b_coords"][sl]}
    path = Path(path)
    path.write_bytes(pickle.dumps(data, protocol=2))
    return path
