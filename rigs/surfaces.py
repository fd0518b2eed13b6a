"""Surface colours of a face and the regions of a MediaPipe-topology mesh that take their own colour.

The canonical face mesh (and the default rig built on it) fills the mouth and eye openings with triangles.
Drawn as skin, an open mouth looks like stretched skin: the renderer colours those triangles as a dark mouth
cavity and dark eyes, and the GLB writer gives them their own materials, so a game engine shows the same.
The lips' red part (:func:`facecraft.rigs.default_rig.lip_faces`) takes :data:`LIP_COLOR` in both, through
:func:`face_regions`, so a preview and a GLB show the same face.
Colours are sRGB triples in [0, 1].
"""

from __future__ import annotations

import numpy as np
import torch

from .errors import FacecraftError

SKIN_COLOR: tuple[float, float, float] = (0.87, 0.66, 0.55)
INTERIOR_COLOR: tuple[float, float, float] = (0.32, 0.09, 0.10)
EYE_COLOR: tuple[float, float, float] = (0.16, 0.13, 0.12)
LIP_COLOR: tuple[float, float, float] = (0.74, 0.45, 0.42)  # the lips' red part: redder and darker than the skin
# Names of the regions :func:`mediapipe_openings` returns, in its order (GLB material names).
OPENING_NAMES: tuple[str, ...] = ("mouth_interior", "eyes")


def mediapipe_openings(faces) -> list[tuple[np.ndarray, tuple[float, float, float]]]:
    """``(triangle indices, colour)`` of the mouth cavity and the eyes for meshes with the MediaPipe canonical
    topology, in :data:`OPENING_NAMES` order; ``[]`` for any other topology (or when the Face Landmarker
    bundle that holds the canonical mesh is not installed)."""
    f = np.asarray(faces.cpu() if torch.is_tensor(faces) else faces)
    if f.shape != (898, 3):
        return []
    from . import default_rig as dr
    from .mediapipe_mesh import canonical_mesh

    try:
        if not np.array_equal(canonical_mesh().faces, f):
            return []
    except FacecraftError:
        return []
    groups = []
    for rows, rgb in (
        (dr.LIPS_UPPER_INNER + dr.LIPS_LOWER_INNER, INTERIOR_COLOR),
        (dr.EYE_L_UPPER + dr.EYE_L_LOWER + dr.EYE_R_UPPER + dr.EYE_R_LOWER, EYE_COLOR),
    ):
        groups.append((np.nonzero(np.isin(f, rows).all(axis=1))[0], rgb))
    return groups


def face_regions(faces, *, openings: bool = True) -> list[tuple[str, np.ndarray, tuple[float, float, float]]]:
    """``(name, triangle indices, colour)`` of the regions of a MediaPipe-topology mesh that are not skin: the
    lips, then (unless ``openings=False``) the :func:`mediapipe_openings` under their :data:`OPENING_NAMES`;
    ``[]`` for any other topology. The regions do not overlap; every other triangle is skin (:data:`SKIN_COLOR`).
    """
    regions = mediapipe_openings(faces)
    if not regions:
        return []
    from .default_rig import lip_faces

    out = [("lips", lip_faces(), LIP_COLOR)]
    if openings:
        out += [(name, idx, rgb) for name, (idx, rgb) in zip(OPENING_NAMES, regions, strict=True)]
    return out


def linear_rgb(srgb) -> list[float]:
    """sRGB colour in [0, 1] -> linear RGB (glTF's ``baseColorFactor`` is linear)."""
    c = np.clip(np.asarray(srgb, np.float64), 0.0, 1.0)
    return np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4).tolist()
