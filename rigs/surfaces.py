"""Surface colours of a face, the regions of a MediaPipe-topology mesh that take their own colour, and the
:class:`Region` a rig with its own materials carries.

The canonical face mesh (and the default rig built on it) fills the mouth and eye openings with triangles.
Drawn as skin, an open mouth looks like stretched skin: the renderer colours those triangles as a dark mouth
cavity and dark eyes, and the GLB writer gives them their own materials, so a game engine shows the same.
The lips' red part (:func:`facecraft.rigs.default_rig.lip_faces`) takes :data:`LIP_COLOR` and the eyebrows
(:func:`facecraft.rigs.default_rig.brow_faces`) :data:`BROW_COLOR` in both, through :func:`face_regions`, so a
preview and a GLB show the same face, and the brow shapes read as brows moving.

A rig that brings its own eyes, teeth and lashes in one mesh (ICT FaceKit: :func:`facecraft.rigs.ict.
load_ict_rig`) names them as ``rig.regions``, a tuple of :class:`Region`: the GLB writer gives each its own
material and the renderer its own colour, in place of the MediaPipe path above.
Colours are sRGB triples in [0, 1].
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from .errors import FacecraftError, ParameterError

SKIN_COLOR: tuple[float, float, float] = (0.87, 0.66, 0.55)
INTERIOR_COLOR: tuple[float, float, float] = (0.32, 0.09, 0.10)
EYE_COLOR: tuple[float, float, float] = (0.16, 0.13, 0.12)
LIP_COLOR: tuple[float, float, float] = (0.74, 0.45, 0.42)  # the lips' red part: redder and darker than the skin
LASH_COLOR: tuple[float, float, float] = (0.06, 0.045, 0.04)  # eyelashes: near black, a little warm
BROW_COLOR: tuple[float, float, float] = (0.24, 0.17, 0.13)  # eyebrows: dark brown hair, lighter than the lashes
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
    lips and the brows, then (unless ``openings=False``) the :func:`mediapipe_openings` under their
    :data:`OPENING_NAMES`; ``[]`` for any other topology. The regions do not overlap; every other triangle is skin
    (:data:`SKIN_COLOR`).
    """
    regions = mediapipe_openings(faces)
    if not regions:
        return []
    from .default_rig import brow_faces, lip_faces

    out = [("lips", lip_faces(), LIP_COLOR), ("brows", brow_faces(), BROW_COLOR)]
    if openings:
        out += [(name, idx, rgb) for name, (idx, rgb) in zip(OPENING_NAMES, regions, strict=True)]
    return out


def linear_rgb(srgb) -> list[float]:
    """sRGB colour in [0, 1] -> linear RGB (glTF's ``baseColorFactor`` is linear)."""
    c = np.clip(np.asarray(srgb, np.float64), 0.0, 1.0)
    return np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4).tolist()


def srgb_from_linear(rgb) -> list[float]:
    """Linear RGB in [0, 1] -> sRGB (the inverse of :func:`linear_rgb`)."""
    c = np.clip(np.asarray(rgb, np.float64), 0.0, 1.0)
    return np.clip(np.where(c <= 0.0031308, c * 12.92, 1.055 * c ** (1 / 2.4) - 0.055), 0.0, 1.0).tolist()


@dataclass(frozen=True, eq=False)
class Region:
    """Triangles of a rig that share one surface: one glTF material in a GLB, one colour in a render.

    Attributes
    ----------
    name : str
        Material name (``skin``, ``eye_white``, ``iris``, ``teeth``, ...: the default rig's names where the
        surface is the same).
    triangles : int64 (n,)
        Indices into the rig's ``faces``.
    color : sRGB triple in [0, 1]
    alpha : float
        Opacity in [0, 1]. Below 1 the region is a transparent overlay: glTF ``alphaMode`` BLEND in a GLB, and
        blended over the opaque surfaces (drawn first) in a render.
    double_sided : bool
        Seen from both sides in its own colour (thin strips such as eyelashes): glTF ``doubleSided``; the
        renderer shades its back as its front instead of as the inside of the head.
    """

    name: str
    triangles: np.ndarray
    color: tuple[float, float, float]
    alpha: float = 1.0
    double_sided: bool = False

    def __post_init__(self) -> None:
        tri = np.asarray(self.triangles.cpu() if torch.is_tensor(self.triangles) else self.triangles)
        if tri.ndim != 1 or (tri.size and not np.issubdtype(tri.dtype, np.integer)):
            raise ParameterError(f"region {self.name!r}: triangles must be a 1-D array of triangle indices")
        color = tuple(float(c) for c in np.ravel(self.color))
        if len(color) != 3 or not all(0.0 <= c <= 1.0 for c in color):
            raise ParameterError(f"region {self.name!r}: colour must be 3 sRGB floats in [0, 1], got {self.color!r}")
        if not 0.0 <= float(self.alpha) <= 1.0:
            raise ParameterError(f"region {self.name!r}: alpha must be in [0, 1], got {self.alpha!r}")
        object.__setattr__(self, "triangles", tri.astype(np.int64))
        object.__setattr__(self, "color", color)
        object.__setattr__(self, "alpha", float(self.alpha))
        object.__setattr__(self, "double_sided", bool(self.double_sided))

    @property
    def opaque(self) -> bool:
        return self.alpha >= 1.0


def check_regions(regions, num_faces: int, *, what: str = "rig") -> tuple[Region, ...]:
    """``regions`` as a tuple of :class:`Region`, checked against a mesh of ``num_faces`` triangles: indices in
    range, names unique, no triangle in two regions. Raises :class:`ParameterError` naming the region."""
    out = tuple(regions or ())
    seen = np.zeros(num_faces, bool)
    names: set[str] = set()
    for r in out:
        if not isinstance(r, Region):
            raise ParameterError(f"{what}: regions must be Region objects, got {type(r).__name__}")
        if r.name in names:
            raise ParameterError(f"{what}: two regions named {r.name!r}")
        names.add(r.name)
        if r.triangles.size and (r.triangles.min() < 0 or r.triangles.max() >= num_faces):
            raise ParameterError(f"{what}: region {r.name!r} holds triangle indices outside [0, {num_faces})")
        if seen[r.triangles].any():
            raise ParameterError(f"{what}: region {r.name!r} shares triangles with an earlier region")
        seen[r.triangles] = True
    return out


def regions_from_labels(labels, table) -> tuple[Region, ...]:
    """Regions from a label per triangle: ``labels`` ``(F,)`` names (or ``None``: no region) and ``table``
    ``{name: (colour, alpha, double_sided)}``; regions in ``table``'s order, those without triangles left out."""
    labels = np.asarray(labels, dtype=object)
    out = []
    for name, (color, alpha, double_sided) in table.items():
        idx = np.nonzero(labels == name)[0]
        if idx.size:
            out.append(Region(name, idx, color, alpha, double_sided))
    return tuple(out)
