"""Eyeballs, teeth, tongue and mouth cavity for the default rig, as separate meshes that follow its shapes.

The default rig is the 468-vertex MediaPipe face surface (:mod:`facecraft.rigs.default_rig`): it has no
eyes, teeth or tongue, and its mouth and eye openings are filled with flat triangles. A client that shows
only that surface shows skin (or a dark patch) where a face shows eyes and a mouth. This module builds the
missing parts as their own small meshes, placed from the rig's landmarks and never touching the face mesh
or its 52 shapes (the photo editor fits that mesh, and lip sync is measured on it):

* **eyes**: a sphere per eye (:data:`EYE_RADIUS`) with white, iris and pupil surfaces around its +Z pole,
  centred so its front stays :data:`EYE_BEHIND_LIDS` behind the lid margins; an exporter turns it with the
  eye rotations (:func:`facecraft.rigs.animation.eye_rotation_from_curves` reads them from ``eyeLook*``),
  about its centre (``Part.pivot``). A dark socket cup behind each eye fills what the sphere leaves open.
* **teeth**: an upper and a lower dental arch (a band along a parabola with notched tooth outlines); the
  upper one is fixed to the skull, the lower one carries morph targets ``jawOpen``, ``jawForward``,
  ``jawLeft``, ``jawRight``: the rigid motion of the rig's own jaw, fitted (Kabsch) to the vertices its jaw
  region moves fully, so teeth and chin move together at any weight.
* **tongue**: a flattened ellipsoid on the floor of the mouth with the jaw's targets plus ``tongueOut``
  (forward by :data:`TONGUE_TRAVEL`); its tip rests :data:`TONGUE_TIP_BEHIND_TEETH` behind the lower
  incisors' front, so the tongue shows past the teeth from ``tongueOut`` = :data:`TONGUE_SHOWS_AT` on.
* **mouth cavity**: a dark, inward-facing half ellipsoid behind the lips whose floor follows the jaw, so an
  open mouth reads as a mouth, not as a hole into the back of the head.

Coordinates are the rig's (metres, Y up, the face toward +Z). Only rigs on the MediaPipe topology get parts
(:func:`face_parts` returns ``[]`` for others: ICT FaceKit and FLAME bring their own eyes and teeth).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .geometry import vertex_normals

EYE_RADIUS = 0.0125  # metres (an adult eyeball is about 24 mm across)
EYE_BEHIND_LIDS = 0.0012  # the eyeball's front stays this far behind the lid margins
IRIS_RADIUS = 0.006
PUPIL_RADIUS = 0.002
SOCKET_RADIUS = 0.015
SCLERA_COLOR = (0.93, 0.91, 0.87)
IRIS_COLOR = (0.36, 0.25, 0.15)
PUPIL_COLOR = (0.02, 0.02, 0.02)
SOCKET_COLOR = (0.10, 0.06, 0.06)
TEETH_COLOR = (0.94, 0.92, 0.84)
TONGUE_COLOR = (0.78, 0.36, 0.38)
CAVITY_COLOR = (0.30, 0.07, 0.08)

LIP_THICKNESS = 0.0035  # upper incisors' front behind the upper lip's inner line
UPPER_EDGE_BELOW_LIP = 0.0015  # upper incisal edge below the upper lip's inner line at rest
OVERJET = 0.002  # lower incisors' front behind the upper ones
OVERBITE = 0.002  # lower incisal edge above the upper one
ARCH_HALF_WIDTH = 0.024
ARCH_DEPTH = 0.028  # the arch's ends lie this far behind the incisors
TOOTH_THICKNESS = 0.006
UPPER_CROWN = 0.0095
LOWER_CROWN = 0.0085
# Tooth widths along the arch from the midline (central and lateral incisor, canine, two premolars, molar).
TOOTH_WIDTHS = (0.0085, 0.0066, 0.0076, 0.007, 0.0068, 0.0102)
TONGUE_RADII = (0.017, 0.006, 0.025)
TONGUE_BELOW_TEETH = 0.004  # tongue top below the lower incisal edge
TONGUE_TIP_BEHIND_TEETH = 0.007  # tongue tip behind the lower incisors' front at rest
TONGUE_TRAVEL = 0.022  # tongueOut = 1 moves the tongue forward this far (and a little up)
TONGUE_LIFT = 0.002
#: tongueOut weight from which the tongue tip is past the lower incisors' front: below it, the tongue does not show.
TONGUE_SHOWS_AT = TONGUE_TIP_BEHIND_TEETH / TONGUE_TRAVEL
CAVITY_RADII = (0.026, 0.016, 0.040)
CAVITY_BEHIND_TEETH = 0.010
JAW_SHAPES = ("jawOpen", "jawForward", "jawLeft", "jawRight")


@dataclass
class Surface:
    """One material's triangles of a part: ``faces`` (F, 3) counter-clockwise seen from where it is viewed."""

    material: str
    faces: np.ndarray
    color: tuple[float, float, float]
    double_sided: bool = False


@dataclass
class Part:
    """A rigid or morphing mesh that goes with the face.

    Attributes
    ----------
    name : node and mesh name (``eye_left``, ``teeth_lower``, ...).
    vertices : float32 (N, 3), metres, relative to ``pivot``.
    surfaces : the triangles, one list per material.
    pivot : float32 (3,), where the part's node sits in the face's frame (the eye's centre; 0 otherwise).
    targets : ARKit name -> float32 (N, 3) vertex offsets, the part's morph targets.
    eye : ``"left"`` / ``"right"`` for an eyeball (turned by that eye's rotation), else None.
    """

    name: str
    vertices: np.ndarray
    surfaces: list[Surface]
    pivot: np.ndarray = field(default_factory=lambda: np.zeros(3, np.float32))
    targets: dict[str, np.ndarray] = field(default_factory=dict)
    eye: str | None = None

    @property
    def faces(self) -> np.ndarray:
        """All triangles ``(F, 3)`` of the part, surfaces in order."""
        return np.concatenate([s.faces for s in self.surfaces])

    def normals(self) -> np.ndarray:
        """Smooth vertex normals ``(N, 3)`` of the neutral part."""
        return vertex_normals(self.vertices, self.faces)


# ------------------------------------------------------------------ primitives
def _sphere(radius: float, cuts: tuple[float, ...], *, rings: int = 14, segments: int = 28):
    """A UV sphere around +Z with rings at the polar angles ``cuts`` (radians): vertices and one face list
    per band between consecutive cuts (the first band is the cap at the +Z pole), outward facing."""
    thetas = [0.0]
    bounds = [*cuts, np.pi]
    band_start = []
    for lo, hi in zip([0.0, *cuts], bounds, strict=True):
        n = max(2, int(np.ceil((hi - lo) / np.pi * rings)))
        band_start.append(len(thetas) - 1)
        thetas += list(np.linspace(lo, hi, n + 1)[1:])
    band_start.append(len(thetas) - 1)
    phi = np.linspace(0.0, 2 * np.pi, segments, endpoint=False)
    verts = [[0.0, 0.0, radius]]
    for t in thetas[1:-1]:
        verts += [[radius * np.sin(t) * np.cos(p), radius * np.sin(t) * np.sin(p), radius * np.cos(t)] for p in phi]
    verts.append([0.0, 0.0, -radius])
    last = len(verts) - 1

    def ring(i: int) -> list[int]:  # vertex ids of ring i (1 .. len(thetas) - 2)
        return [1 + (i - 1) * segments + j for j in range(segments)]

    def band(r0: int, r1: int) -> np.ndarray:
        tri = []
        for i in range(r0, r1):
            if i == 0:
                b = ring(1)
                tri += [(0, b[j], b[(j + 1) % segments]) for j in range(segments)]
            elif i + 1 == len(thetas) - 1:
                a = ring(i)
                tri += [(a[j], last, a[(j + 1) % segments]) for j in range(segments)]
            else:
                a, b = ring(i), ring(i + 1)
                for j in range(segments):
                    k = (j + 1) % segments
                    tri += [(a[j], b[j], b[k]), (a[j], b[k], a[k])]
        return np.asarray(tri, np.int64)

    bands = [band(band_start[i], band_start[i + 1]) for i in range(len(band_start) - 1)]
    return np.asarray(verts, np.float64), bands


def _cup(radii, *, rings: int = 8, segments: int = 24) -> tuple[np.ndarray, np.ndarray]:
    """The back half (z <= 0) of an ellipsoid, open toward +Z, its triangles facing its inside."""
    verts, bands = _sphere(1.0, (np.pi / 2,), rings=2 * rings, segments=segments)
    keep = verts[:, 2] <= 1e-9
    index = -np.ones(len(verts), np.int64)
    index[keep] = np.arange(keep.sum())
    back = bands[1]
    back = back[keep[back].all(1)]
    return verts[keep] * np.asarray(radii), index[back][:, ::-1].copy()  # reversed: seen from inside


def _arch(z_front: float, top: float, bottom: float, *, upper: bool) -> tuple[np.ndarray, np.ndarray]:
    """A dental arch: a closed band of thickness :data:`TOOTH_THICKNESS` along ``z = z_front - ARCH_DEPTH (x /
    ARCH_HALF_WIDTH)^2``, between heights ``top`` and ``bottom`` (metres), with a notch at each tooth boundary
    on the biting edge, outward facing."""
    bounds = np.cumsum((0.0, *TOOTH_WIDTHS))
    # arc length -> x along the parabola, sampled finely, then read at tooth bounds and mid-teeth
    xs = np.linspace(0.0, ARCH_HALF_WIDTH, 400)
    zs = z_front - ARCH_DEPTH * (xs / ARCH_HALF_WIDTH) ** 2
    arc = np.r_[0.0, np.cumsum(np.hypot(np.diff(xs), np.diff(zs)))]
    s_half = np.unique(np.r_[bounds, 0.5 * (bounds[1:] + bounds[:-1])])
    s_half = s_half[s_half <= arc[-1]]
    notch = np.isin(s_half, bounds) & (s_half > 0)
    s = np.r_[-s_half[::-1], s_half[1:]]
    is_notch = np.r_[notch[::-1], notch[1:]]
    x = np.sign(s) * np.interp(np.abs(s), arc, xs)
    z = z_front - ARCH_DEPTH * (x / ARCH_HALF_WIDTH) ** 2
    tangent = np.stack([np.ones_like(x), -2 * ARCH_DEPTH * x / ARCH_HALF_WIDTH**2], 1)
    tangent /= np.linalg.norm(tangent, axis=1, keepdims=True)
    inward = np.stack([tangent[:, 1], -tangent[:, 0]], 1)  # toward the inside of the arch (-z at the front)
    inward *= np.sign(-inward[len(x) // 2, 1])
    edge, root = (bottom, top) if upper else (top, bottom)
    step = np.sign(root - edge)
    edge_y = edge + step * 0.0007 * is_notch  # notched biting edge between teeth
    # one ring of 4 corners per sample, in cyclic order: front edge, front root, back root, back edge
    back_x, back_z = x + TOOTH_THICKNESS * inward[:, 0], z + TOOTH_THICKNESS * inward[:, 1]
    rings = np.stack([np.stack([x, edge_y, z], 1), np.stack([x, np.full_like(x, root), z], 1),
                      np.stack([back_x, np.full_like(x, root), back_z], 1), np.stack([back_x, edge_y, back_z], 1)],
                     1)  # fmt: skip
    verts = rings.reshape(-1, 3)
    tri = []
    for i in range(len(x) - 1):
        for k in range(4):
            a, b = 4 * i + k, 4 * i + (k + 1) % 4
            tri += [(a, b, b + 4), (a, b + 4, a + 4)]
    last = 4 * (len(x) - 1)
    tri += [(0, 2, 1), (0, 3, 2), (last, last + 1, last + 2), (last, last + 2, last + 3)]
    return verts, _outward(verts, np.asarray(tri, np.int64))


def _outward(verts: np.ndarray, faces: np.ndarray) -> np.ndarray:
    """A closed, consistently wound surface turned to face outward (positive signed volume)."""
    tri = verts[faces]
    volume = np.einsum("ij,ij->i", tri[:, 0], np.cross(tri[:, 1], tri[:, 2])).sum() / 6.0
    return faces if volume > 0 else faces[:, ::-1].copy()


def _rigid_fit(p: np.ndarray, q: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rotation R and translation t minimising ``|p R^T + t - q|`` (Kabsch), ``p``/``q`` (N, 3)."""
    cp, cq = p.mean(0), q.mean(0)
    u, _, vt = np.linalg.svd((p - cp).T @ (q - cq))
    d = np.sign(np.linalg.det(vt.T @ u.T))
    r = vt.T @ np.diag([1.0, 1.0, d]) @ u.T
    return r, cq - cp @ r.T


def jaw_motions(rig) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Rigid motion ``(R (3, 3), t (3,))`` of each of the rig's :data:`JAW_SHAPES` at weight 1, fitted to the
    vertices its jaw region moves fully (:func:`facecraft.rigs.default_rig.region_weights`)."""
    from .default_rig import region_weights

    jaw = region_weights()["jaw"] > 0.999
    neutral = rig.neutral.detach().cpu().numpy().astype(np.float64)[jaw]
    out = {}
    for name in JAW_SHAPES:
        if name in rig.shape_names:
            delta = rig.deltas[rig.shape_index(name)].detach().cpu().numpy().astype(np.float64)[jaw]
            out[name] = _rigid_fit(neutral, neutral + delta)
    return out


def _follow(verts: np.ndarray, motions: dict, weight: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """Morph targets that move ``verts`` (N, 3) as the jaw does (times a per-vertex ``weight``)."""
    w = np.ones(len(verts)) if weight is None else weight
    return {n: ((verts @ r.T + t - verts) * w[:, None]).astype(np.float32) for n, (r, t) in motions.items()}


# ------------------------------------------------------------------ the parts
def is_default_topology(rig) -> bool:
    """Whether ``rig`` has the MediaPipe canonical topology (the default rig's), which parts are built for."""
    from .surfaces import mediapipe_openings

    return bool(mediapipe_openings(rig.faces))


def _eyes(v: np.ndarray) -> list[Part]:
    from .default_rig import EYE_L_LOWER, EYE_L_UPPER, EYE_R_LOWER, EYE_R_UPPER

    sphere, (pupil, iris, white) = _sphere(EYE_RADIUS, (np.arcsin(PUPIL_RADIUS / EYE_RADIUS),
                                                        np.arcsin(IRIS_RADIUS / EYE_RADIUS)))  # fmt: skip
    socket, socket_faces = _cup((SOCKET_RADIUS,) * 3)
    parts = []
    for side, upper, lower in (("left", EYE_L_UPPER, EYE_L_LOWER), ("right", EYE_R_UPPER, EYE_R_LOWER)):
        lids = v[list(upper) + list(lower)]
        middle = v[list(upper[2:-2]) + list(lower[2:-2])]
        centre = np.array([0.5 * (lids[:, 0].min() + lids[:, 0].max()), lids[:, 1].mean(), 0.0])
        # the front of the sphere stays behind every lid vertex: the nearest one sets the depth
        centre[2] = middle[:, 2].min() - EYE_BEHIND_LIDS - EYE_RADIUS
        for p in lids:  # corners: the sphere must pass behind them too
            d2 = (p[0] - centre[0]) ** 2 + (p[1] - centre[1]) ** 2
            if d2 < EYE_RADIUS**2:
                centre[2] = min(centre[2], p[2] - EYE_BEHIND_LIDS - np.sqrt(EYE_RADIUS**2 - d2))
        surfaces = [
            Surface("eye_white", white, SCLERA_COLOR),
            Surface("iris", iris, IRIS_COLOR),
            Surface("pupil", pupil, PUPIL_COLOR),
        ]
        parts.append(Part(f"eye_{side}", sphere.astype(np.float32), surfaces, centre.astype(np.float32), eye=side))
        parts.append(Part(f"eye_socket_{side}", (socket + centre).astype(np.float32),
                          [Surface("eye_socket", socket_faces, SOCKET_COLOR, double_sided=True)]))  # fmt: skip
    return parts


def _mouth(v: np.ndarray, motions: dict) -> list[Part]:
    from .default_rig import SEMANTIC_VERTICES

    upper_lip = v[SEMANTIC_VERTICES["upper_lip_inner"]]
    z_upper = upper_lip[2] - LIP_THICKNESS
    upper_edge = upper_lip[1] - UPPER_EDGE_BELOW_LIP
    z_lower, lower_edge = z_upper - OVERJET, upper_edge + OVERBITE
    up_v, up_f = _arch(z_upper, upper_edge + UPPER_CROWN, upper_edge, upper=True)
    lo_v, lo_f = _arch(z_lower, lower_edge, lower_edge - LOWER_CROWN, upper=False)

    tongue, (tongue_f,) = _sphere(1.0, (), rings=12, segments=24)
    rx, ry, rz = TONGUE_RADII
    centre = np.array([0.0, lower_edge - TONGUE_BELOW_TEETH - ry, z_lower - TONGUE_TIP_BEHIND_TEETH - rz])
    tongue = tongue * np.array([rx, ry, rz]) + centre
    tongue_targets = _follow(tongue, motions)
    tongue_targets["tongueOut"] = np.tile(np.float32([0.0, TONGUE_LIFT, TONGUE_TRAVEL]), (len(tongue), 1))

    cavity, cavity_f = _cup(CAVITY_RADII)
    c_centre = np.array([0.0, upper_lip[1] - 0.003, z_lower - CAVITY_BEHIND_TEETH])
    cavity = cavity + c_centre
    floor = np.clip((c_centre[1] + 0.003 - cavity[:, 1]) / 0.008, 0.0, 1.0)  # the lower part goes with the jaw
    return [
        Part("teeth_upper", up_v.astype(np.float32), [Surface("teeth", up_f, TEETH_COLOR)]),
        Part("teeth_lower", lo_v.astype(np.float32), [Surface("teeth", lo_f, TEETH_COLOR)],
             targets=_follow(lo_v, motions)),
        Part("tongue", tongue.astype(np.float32), [Surface("tongue", tongue_f, TONGUE_COLOR)], targets=tongue_targets),
        Part("mouth_cavity", cavity.astype(np.float32),
             [Surface("mouth_cavity", cavity_f, CAVITY_COLOR, double_sided=True)],
             targets=_follow(cavity, motions, floor * floor * (3 - 2 * floor))),
    ]  # fmt: skip


def face_parts(rig) -> list[Part]:
    """Eyes, sockets, teeth, tongue and mouth cavity for ``rig`` (see the module docstring); ``[]`` unless the
    rig has the default rig's MediaPipe topology. Built from the rig's neutral and jaw shapes each call."""
    if not is_default_topology(rig):
        return []
    v = rig.neutral.detach().cpu().numpy().astype(np.float64)
    return _eyes(v) + _mouth(v, jaw_motions(rig))
