"""Mesh geometry shared by the renderer and the exporters: vertex-triangle incidence and smooth normals."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp


def vertex_incidence(faces: np.ndarray, num_vertices: int) -> sp.csr_matrix:
    """Sparse ``(V, F)`` 0/1 matrix: entry ``(v, f)`` is 1 when vertex ``v`` is a corner of triangle ``f``.

    Multiplying it by per-triangle vectors ``(F, 3)`` sums them onto the vertices; build it once per topology.
    """
    f = np.asarray(faces, dtype=np.int64)
    rows = f.ravel()
    cols = np.repeat(np.arange(len(f)), 3)
    return sp.csr_matrix((np.ones(len(rows), np.float32), (rows, cols)), shape=(int(num_vertices), len(f)))


def vertex_normals(vertices: np.ndarray, faces: np.ndarray, *, incidence: sp.csr_matrix | None = None) -> np.ndarray:
    """Smooth unit normals ``(..., V, 3)`` float32: area-weighted sums of the adjacent triangles' normals.

    ``vertices`` ``(..., V, 3)`` (one mesh or a batch), ``faces`` ``(F, 3)`` counter-clockwise seen from
    outside; ``incidence`` is :func:`vertex_incidence` of the faces (pass it when calling per frame).
    Vertices on no triangle (or only degenerate ones) get ``(0, 0, 1)``, the face's viewing direction, so
    every normal has unit length as glTF requires.
    """
    v = np.asarray(vertices, dtype=np.float32)
    f = np.asarray(faces, dtype=np.int64)
    batch, nv = v.shape[:-2], v.shape[-2]
    if incidence is None:
        incidence = vertex_incidence(f, nv)
    flat = v.reshape(-1, nv, 3)
    out = np.empty_like(flat)
    for b, mesh in enumerate(flat):  # one mesh at a time keeps temporaries at (F, 3)
        a = mesh[f[:, 0]]
        fn = np.cross(mesh[f[:, 1]] - a, mesh[f[:, 2]] - a)  # (F, 3), length = 2 x area
        n = np.asarray(incidence @ fn, dtype=np.float32)
        length = np.sqrt((n * n).sum(axis=1, keepdims=True))
        out[b] = n / np.maximum(length, 1e-30)
        out[b, length[:, 0] <= 1e-30] = (0.0, 0.0, 1.0)
    return out.reshape(*batch, nv, 3)
