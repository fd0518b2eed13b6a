"""Eyeballs, teeth, tongue and mouth cavity for the default rig, as separate meshes that follow its shapes.

The default rig is the 468-vertex MediaPipe face surface (:mod:`facecraft.rigs.default_rig`): it has no
eyes, teeth or tongue, and its mouth and eye openings are filled with flat triangles. A client that shows
only that surface shows skin (or a dark patch) where a face shows eyes and a mouth. This module builds the
missing parts as their own small meshes, placed from the rig's landmarks and never touching the face mesh
or its 52 shapes (the photo editor fits that mesh, and lip sync is measured on it):

* **eyes**: a sphere per eye (:data:`EYE_RADIUS`) with white, iris and pupil surfaces around its +Z pole, in
  the middle of the lid opening and as far forward as it can sit :data:`EYE_BEHIND_LIDS` behind the lids in
  every lid pose; an exporter turns it with the eye rotations (:func:`facecraft.rigs.animation.
  eye_rotation_from_curves` reads them from ``eyeLook*``) about its centre (``Part.pivot``), which changes
  nothing but where the iris looks. The mesh's lid opening is wider than an eyeball and its corners recede
  (the outer corner lies ~13 mm to the side of the eye's centre), so a bare sphere leaves holes at the corners:
  the ``eye_socket`` part closes them with a pink lining (conjunctiva) from just behind the lid margin back
  onto the eyeball and on along it, carrying the rig's lid shapes so it follows blinks, squints and gaze,
  and a dark cup behind it.
* **teeth**: an upper and a lower dental arch along a parabola, one crown per tooth (incisors, canine,
  premolars, first molar): thin biting edges on thicker bases, a bulging face per tooth with rounded corners,
  crowns shorter toward the back, the canine, premolars and molar darker the deeper they sit (baked cavity
  occlusion, :data:`TEETH_SHADES`, one material per depth), and pink gums with a scalloped line over the roots.
  The upper one is fixed to the skull, the lower one carries morph targets ``jawOpen``, ``jawForward``,
  ``jawLeft``, ``jawRight``: the rigid motion of the rig's own jaw, fitted (Kabsch) to the vertices
  its jaw region moves fully, so teeth and chin move together at any weight.
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
CONJUNCTIVA_COLOR = (0.80, 0.60, 0.56)  # the pink, wet lining between the lids and the eyeball (shadowed in renders)
CONJUNCTIVA_BEHIND_LIDS = 0.0006  # the lining starts this far behind the lid margin and as far beyond it, outward
CONJUNCTIVA_CLEARANCE = 0.0004  # and ends this far outside the eyeball
CONJUNCTIVA_RINGS = 3
CONJUNCTIVA_FOLD = np.radians(40.0)  # behind the lids the lining goes on along the eyeball by this angle
CONJUNCTIVA_FOLD_LIMIT = np.radians(105.0)  # (up to this angle from the eye's axis)
CONJUNCTIVA_FOLD_RINGS = 2
TEETH_COLOR = (0.94, 0.92, 0.84)
TONGUE_COLOR = (0.78, 0.36, 0.38)
CAVITY_COLOR = (0.30, 0.07, 0.08)

LIP_THICKNESS = 0.0035  # upper incisors' front behind the upper lip's inner line
UPPER_EDGE_BELOW_LIP = 0.0022  # upper incisal edge below the upper lip's inner line at rest
OVERJET = 0.002  # lower incisors' front behind the upper ones
OVERBITE = 0.002  # lower incisal edge above the upper one
ARCH_HALF_WIDTH = 0.024
ARCH_DEPTH = 0.028  # the arch is the parabola through the incisors' front and (+-ARCH_HALF_WIDTH, -ARCH_DEPTH)
# Per tooth from the midline: central and lateral incisor, canine, two premolars, first molar (metres).
TOOTH_WIDTHS = (0.0085, 0.0066, 0.0076, 0.007, 0.0068, 0.0102)  # along the arch
UPPER_CROWNS = (0.0095, 0.0085, 0.0095, 0.0075, 0.007, 0.006)  # visible crown, biting edge to gum line
LOWER_CROWNS = (0.0085, 0.0085, 0.009, 0.0075, 0.007, 0.006)
EDGE_THICKNESS = (0.0012, 0.0012, 0.002, 0.0045, 0.005, 0.0062)  # thin incisal edges, broad chewing surfaces
ROOT_THICKNESS = (0.0058, 0.0055, 0.0068, 0.007, 0.007, 0.0075)  # at the gum line
# rounded corners: the edge recedes between teeth. Shallow (and rounded) on the broad back teeth: a deep notch across
# a chewing surface is a wall facing along the row, and a row seen end-on (the far side of a three-quarter view) showed
# those walls as a fan of stacked slabs
EDGE_NOTCH = (0.0011, 0.0011, 0.0018, 0.0004, 0.0004, 0.0004)
EDGE_ROUNDING = 0.3  # the biting edge's corners are rounded over this fraction of its breadth beyond the incisors'
TOOTH_BULGE = 0.0005  # each crown's face bulges this much beyond the grooves between teeth
TOOTH_SAMPLES = 8  # samples across each tooth
PAPILLA = 0.0022  # between the tallest teeth the gum reaches this far down the crown (a scalloped gum line)
GUM_HEIGHT = 0.0045  # gum above the gum line (toward the roots)
LINGUAL_GUM = 0.0015  # behind the broad back teeth the gum reaches up to this much further
GUM_PROUD = 0.0004  # gum surface stands out of the tooth's by this much
TEETH_GUM_COLOR = (0.80, 0.47, 0.47)
BACK_TEETH_FROM = 3  # premolars and molars: broad chewing surfaces
# Baked occlusion of the teeth: the light that reaches each tooth (in TOOTH_WIDTHS' order), as a fraction (linear
# light) of what reaches the incisors. Inside an open mouth the cheeks, lips and palate shade the teeth more the deeper
# they sit; a renderer without ambient occlusion (three.js, Eevee's default) lights them all as brightly as the
# incisors, and the lower back teeth, facing up into the key light, showed as pale wedges in the lip corners. The light
# falls off by a like factor (under 2) from each tooth to the next from the canine back: a bright canine next to a
# grey premolar read as a change of colour, not as the mouth's shadow. A material per shade (glTF baseColorFactor),
# not vertex colours: every client honours materials.
TEETH_SHADES = (1.0, 1.0, 0.7, 0.36, 0.2, 0.11)
TEETH_MATERIALS = ("teeth", "teeth", "canines", "back_teeth_1", "back_teeth_2", "back_teeth_3")  # per tooth, as above
TONGUE_RADII = (0.0195, 0.0065, 0.025)  # wide enough to fill the lower arch between the back teeth
TONGUE_BELOW_TEETH = 0.003  # tongue top below the lower incisal edge
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


def _arch_line(z_front: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Samples along ``z = z_front - ARCH_DEPTH (x / ARCH_HALF_WIDTH)^2`` at tooth boundaries and across each
    tooth, right end to left end: ``x``, ``z``, the inward unit normal ``(N, 2)`` (x, z) and per sample the
    tooth index and the fraction ``f`` across it (0 and 1 at its boundaries) as a float ``index + f``."""
    bounds = np.cumsum((0.0, *TOOTH_WIDTHS))
    xs = np.linspace(0.0, 1.5 * ARCH_HALF_WIDTH, 600)  # the parabola goes on until every tooth is whole
    zs = z_front - ARCH_DEPTH * (xs / ARCH_HALF_WIDTH) ** 2
    arc = np.r_[0.0, np.cumsum(np.hypot(np.diff(xs), np.diff(zs)))]
    pos = np.unique(np.concatenate([i + np.linspace(0.0, 1.0, TOOTH_SAMPLES + 1) for i in range(len(TOOTH_WIDTHS))]))
    s_half = np.interp(pos, np.arange(len(bounds)), bounds)
    keep = s_half <= arc[-1]
    pos, s_half = pos[keep], s_half[keep]
    s = np.r_[-s_half[::-1], s_half[1:]]
    pos = np.r_[pos[::-1], pos[1:]]
    x = np.sign(s) * np.interp(np.abs(s), arc, xs)
    z = z_front - ARCH_DEPTH * (x / ARCH_HALF_WIDTH) ** 2
    tangent = np.stack([np.ones_like(x), -2 * ARCH_DEPTH * x / ARCH_HALF_WIDTH**2], 1)
    tangent /= np.linalg.norm(tangent, axis=1, keepdims=True)
    inward = np.stack([tangent[:, 1], -tangent[:, 0]], 1)
    inward *= np.sign(-inward[len(x) // 2, 1])  # toward the inside of the arch (-z at the front)
    return x, z, inward, pos


def _tube(loops: np.ndarray, *, caps: bool = True) -> np.ndarray:
    """Triangles of a closed tube through ``loops`` (N, M, 3) (M corners each, in order), its ends capped
    unless ``caps=False``."""
    n, m = loops.shape[:2]
    tri = []
    for i in range(n - 1):
        for k in range(m):
            a, b = i * m + k, i * m + (k + 1) % m
            tri += [(a, b, b + m), (a, b + m, a + m)]
    for i, flip in ((0, False), (n - 1, True)) if caps else ():
        cap = [(i * m, i * m + k + 1, i * m + k) for k in range(1, m - 1)]
        tri += [c[::-1] for c in cap] if flip else cap
    return np.asarray(tri, np.int64)


def _arch(z_front: float, edge: float, *, upper: bool) -> tuple[np.ndarray, list[np.ndarray], np.ndarray]:
    """A dental arch: teeth whose front passes through ``z_front`` at the midline and whose biting edge is at
    height ``edge`` (metres), rooted upward (``upper``) or downward, and the gums over their roots.

    Each tooth is a crown of its own (:data:`TOOTH_WIDTHS` along the arch): a face that bulges between grooves,
    a biting edge with rounded corners, thin at the incisors and broad at the back (:data:`EDGE_THICKNESS`),
    thickening toward the gum (:data:`ROOT_THICKNESS`), shorter toward the back (:data:`UPPER_CROWNS`,
    :data:`LOWER_CROWNS`), sizes blending from one tooth's middle to the next, and shallow grooves between the
    back teeth (:data:`EDGE_NOTCH`), so a row seen end-on reads as rounded crowns, not stacked slabs. The gum
    covers the roots with a scalloped line that reaches down between the teeth.
    Returns vertices ``(N, 3)``, the outward-facing triangles of each tooth (a list, in :data:`TOOTH_WIDTHS`'
    order) and those of the gums.
    """
    x, z, inward, pos = _arch_line(z_front)
    tooth = np.minimum(pos.astype(int), len(TOOTH_WIDTHS) - 1)
    f = np.where(pos >= len(TOOTH_WIDTHS), 1.0, pos - tooth)
    at_bound = np.isclose(f, 0.0) | np.isclose(f, 1.0)
    hump = np.where(at_bound, 0.0, np.sin(np.pi * f))
    # sizes change gradually from one tooth's middle to the next (a step at the boundary is a wall across the row)
    centres = np.arange(len(TOOTH_WIDTHS)) + 0.5
    crowns = np.interp(pos, centres, UPPER_CROWNS if upper else LOWER_CROWNS)
    t_edge, t_root = np.interp(pos, centres, EDGE_THICKNESS), np.interp(pos, centres, ROOT_THICKNESS)
    notch = np.take(EDGE_NOTCH, tooth)
    recede = notch * (1.0 - np.where(tooth >= BACK_TEETH_FROM, hump, np.sqrt(hump)))
    recede = np.where(tooth == 2, np.maximum(recede, notch * np.abs(2 * f - 1) ** 1.5), recede)  # the canine's tip
    last = tooth == len(TOOTH_WIDTHS) - 1  # the arch ends in a rounded molar, lower toward the back
    recede = np.where(last, recede + 0.35 * crowns * np.clip((f - 0.6) / 0.4, 0.0, 1.0) ** 2, recede)
    bulge = TOOTH_BULGE * hump**0.6
    root = crowns + 0.0015  # the crown goes on under the gum
    gum_line = crowns - PAPILLA * crowns / max(UPPER_CROWNS) * (1.0 - hump) ** 2
    lingual_gum = gum_line - LINGUAL_GUM * (1.0 - np.take(EDGE_THICKNESS, 0) / t_edge)  # higher behind the back teeth
    h_mid = recede + 0.45 * (root - recede)
    # cross-section corners (u inward from the front, h from the biting edge toward the root), labial to lingual
    u_mid = t_edge + 0.7 * (t_root - t_edge) + 0.6 * bulge
    k = EDGE_ROUNDING * np.maximum(t_edge - EDGE_THICKNESS[2], 0.0)  # the back teeth's broad edges
    section = [
        (-0.4 * bulge + k, recede),
        (-0.7 * bulge, recede + k),
        (-bulge, h_mid),
        (-0.3 * bulge, root),
        (t_root + 0.3 * bulge, root),
        (u_mid, h_mid),
        (t_edge + k / (h_mid - recede) * (u_mid - t_edge), recede + k),
        (t_edge - k, recede),
    ]

    def labial_u(h):  # the tooth's front at height h (between its corners at h_mid and root)
        return -bulge + (h - h_mid) / (root - h_mid) * 0.7 * bulge

    def lingual_u(h):
        u1 = t_edge + 0.7 * (t_root - t_edge) + 0.6 * bulge
        return u1 + (h - h_mid) / (root - h_mid) * (t_root + 0.3 * bulge - u1)

    gum = [
        (labial_u(gum_line) - GUM_PROUD, gum_line),
        (-0.3 * bulge - GUM_PROUD - 0.0008, root + GUM_HEIGHT - 0.0015),
        (0.5 * t_root, root + GUM_HEIGHT),
        (t_root + 0.3 * bulge + GUM_PROUD + 0.0008, root + GUM_HEIGHT - 0.0015),
        (lingual_u(lingual_gum) + GUM_PROUD, lingual_gum),
        (0.5 * t_root, gum_line + 0.001),  # inside the tooth: closes the gum's section
    ]
    sign = 1.0 if upper else -1.0

    def place(corners) -> np.ndarray:
        loops = [np.stack([x + u * inward[:, 0], edge + sign * h, z + u * inward[:, 1]], 1) for u, h in corners]
        return np.stack(loops, 1)  # (N, M, 3)

    teeth_loops, gum_loops = place(section), place(gum)
    verts = np.concatenate([teeth_loops.reshape(-1, 3), gum_loops.reshape(-1, 3)])
    teeth_faces = _outward(verts, _tube(teeth_loops))
    gum_faces = _outward(verts, _tube(gum_loops) + teeth_loops.shape[0] * teeth_loops.shape[1])
    # each tooth's triangles apart (the arch's end caps go with the molar): they take shades of their own
    n, m = teeth_loops.shape[:2]
    segment_tooth = np.r_[np.minimum(tooth[:-1], tooth[1:]), [len(TOOTH_WIDTHS) - 1, len(TOOTH_WIDTHS) - 1]]
    per_face = np.r_[np.repeat(segment_tooth[: n - 1], 2 * m), np.full(2 * (m - 2), len(TOOTH_WIDTHS) - 1)]
    return verts, [teeth_faces[per_face == t] for t in range(len(TOOTH_WIDTHS))], gum_faces


def _teeth_surfaces(teeth: list[np.ndarray], gums: np.ndarray) -> list[Surface]:
    """The surfaces of one arch: its teeth's (a list per tooth, front to back) by :data:`TEETH_MATERIALS`, each in
    its :func:`teeth_colors` shade, and the gums."""
    colors = teeth_colors()
    materials = list(dict.fromkeys(TEETH_MATERIALS))  # in order, once each; teeth that share one share a shade
    surfaces = [
        Surface(name, np.concatenate([f for f, m in zip(teeth, TEETH_MATERIALS, strict=True) if m == name]),
                colors[TEETH_MATERIALS.index(name)])
        for name in materials
    ]  # fmt: skip
    return [*surfaces, Surface("gums", gums, TEETH_GUM_COLOR)]


def teeth_colors() -> list[tuple[float, float, float]]:
    """sRGB colour of each tooth, front to back: :data:`TEETH_COLOR` times :data:`TEETH_SHADES` in linear light."""
    from .surfaces import linear_rgb, srgb_from_linear

    base = np.asarray(linear_rgb(TEETH_COLOR))
    return [tuple(round(c, 4) for c in srgb_from_linear(base * shade)) for shade in TEETH_SHADES]


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


def _eye_ring(upper, lower) -> list[int]:
    """The lid margin of one eye as a closed loop of vertex ids: the upper lid corner to corner, then the lower
    lid back (its corners are the upper lid's)."""
    return list(upper) + list(lower[-2:0:-1])


def _eye_centre(lid_paths: np.ndarray) -> np.ndarray:
    """Centre of an eyeball of :data:`EYE_RADIUS` in the middle of the lid opening, as far forward as it can sit
    with its surface :data:`EYE_BEHIND_LIDS` behind every lid point ``(P, 3)`` (the margins and the skin next to
    them, in every lid pose): the eye fills the opening rather than sinking behind it."""
    ring = lid_paths
    centre = np.array([0.5 * (ring[:, 0].min() + ring[:, 0].max()), ring[:, 1].mean(), np.inf])
    d2 = (ring[:, 0] - centre[0]) ** 2 + (ring[:, 1] - centre[1]) ** 2
    near = d2 < (EYE_RADIUS + EYE_BEHIND_LIDS) ** 2
    reach = np.sqrt(np.clip((EYE_RADIUS + EYE_BEHIND_LIDS) ** 2 - d2[near], 0.0, None))
    centre[2] = float((ring[near, 2] - reach).min())
    return centre


def _conjunctiva(ring: np.ndarray, centre: np.ndarray, deltas: dict[str, np.ndarray]):
    """The sleeve from just behind the lid margin ``ring`` (M, 3) back to the eyeball (see :func:`_eyes`):
    vertices, triangles and morph targets. Each lid shape (``deltas``: name -> (M, 3) margin offsets) moves the
    sleeve's front with the margin and its back along the eyeball to where the moved margin projects, so the
    sleeve stays the same thin lining when the lids open wide, follow the gaze or close."""

    def ends(margin: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        radial = margin - centre
        unit = radial / np.linalg.norm(radial, axis=1, keepdims=True)
        side = radial * [1.0, 1.0, 0.0]
        side /= np.linalg.norm(side, axis=1, keepdims=True)
        # the front edge tucks behind the margin and a little beyond it, under the lid's skin: seen from any side,
        # no line of sight passes between the margin and the lining
        front = margin + CONJUNCTIVA_BEHIND_LIDS * (side - [0.0, 0.0, 1.0])
        return front, centre + (EYE_RADIUS + CONJUNCTIVA_CLEARANCE) * unit

    steps = np.linspace(0.0, 1.0, CONJUNCTIVA_RINGS + 1)[:, None, None]

    def rings(margin: np.ndarray) -> np.ndarray:
        front, back = ends(margin)
        # then on along the eyeball, away from its axis (as the lining folds back at the fornix): a line of sight
        # that grazes the eyeball from the side meets the lining, not the socket behind
        unit = (back - centre) / np.linalg.norm(back - centre, axis=1, keepdims=True)
        polar = np.arccos(np.clip(unit[:, 2], -1.0, 1.0))
        side = unit * [1.0, 1.0, 0.0]
        side /= np.maximum(np.linalg.norm(side, axis=1, keepdims=True), 1e-12)
        fold = []
        for k in range(1, CONJUNCTIVA_FOLD_RINGS + 1):
            a = np.minimum(polar + k / CONJUNCTIVA_FOLD_RINGS * CONJUNCTIVA_FOLD, CONJUNCTIVA_FOLD_LIMIT)[:, None]
            fold.append(centre + (EYE_RADIUS + CONJUNCTIVA_CLEARANCE) * (np.sin(a) * side + np.cos(a) * [0, 0, 1]))
        return np.concatenate([(front + steps * (back - front)).reshape(-1, 3), *fold])

    verts = rings(ring)
    faces = _tube(verts.reshape(-1, len(ring), 3), caps=False)
    # seen from the front through the opening: wind toward +Z (it is double-sided; this only sets the normals)
    t = verts[faces]
    if np.cross(t[:, 1] - t[:, 0], t[:, 2] - t[:, 0])[:, 2].sum() < 0:
        faces = faces[:, ::-1].copy()
    targets = {n: (rings(ring + d) - verts).astype(np.float32) for n, d in deltas.items()}
    return verts, faces, targets


def _eyes(rig, v: np.ndarray) -> list[Part]:
    from .default_rig import EYE_L_LOWER, EYE_L_UPPER, EYE_R_LOWER, EYE_R_UPPER

    sphere, (pupil, iris, white) = _sphere(EYE_RADIUS, (np.arcsin(PUPIL_RADIUS / EYE_RADIUS),
                                                        np.arcsin(IRIS_RADIUS / EYE_RADIUS)))  # fmt: skip
    socket, socket_faces = _cup((SOCKET_RADIUS,) * 3)
    all_deltas = rig.deltas.detach().cpu().numpy().astype(np.float64)
    faces = rig.faces.detach().cpu().numpy()
    parts = []
    for side, upper, lower in (("left", EYE_L_UPPER, EYE_L_LOWER), ("right", EYE_R_UPPER, EYE_R_LOWER)):
        ring_ids = _eye_ring(upper, lower)
        # the lid margins and the skin vertices next to them, in every pose that moves them (linear paths)
        near = np.unique(faces[np.isin(faces, ring_ids).any(1)])
        moving = [k for k in range(len(all_deltas)) if np.abs(all_deltas[k, ring_ids]).max() > 1e-4]
        paths = [v[near]] + [v[near] + w * all_deltas[k, near] for k in moving for w in (0.25, 0.5, 0.75, 1.0)]
        centre = _eye_centre(np.concatenate(paths))
        surfaces = [
            Surface("eye_white", white, SCLERA_COLOR),
            Surface("iris", iris, IRIS_COLOR),
            Surface("pupil", pupil, PUPIL_COLOR),
        ]
        parts.append(Part(f"eye_{side}", sphere.astype(np.float32), surfaces, centre.astype(np.float32), eye=side))
        lid_deltas = {rig.shape_names[k]: all_deltas[k, ring_ids] for k in moving}
        sleeve, sleeve_faces, sleeve_targets = _conjunctiva(v[ring_ids], centre, lid_deltas)
        cup = socket + centre
        verts = np.concatenate([sleeve, cup]).astype(np.float32)
        targets = {n: np.concatenate([d, np.zeros((len(cup), 3), np.float32)]) for n, d in sleeve_targets.items()}
        parts.append(Part(f"eye_socket_{side}", verts,
                          [Surface("conjunctiva", sleeve_faces, CONJUNCTIVA_COLOR, double_sided=True),
                           Surface("eye_socket", socket_faces + len(sleeve), SOCKET_COLOR, double_sided=True)],
                          targets=targets))  # fmt: skip
    return parts


def _mouth(v: np.ndarray, motions: dict) -> list[Part]:
    from .default_rig import SEMANTIC_VERTICES

    upper_lip = v[SEMANTIC_VERTICES["upper_lip_inner"]]
    z_upper = upper_lip[2] - LIP_THICKNESS
    upper_edge = upper_lip[1] - UPPER_EDGE_BELOW_LIP
    z_lower, lower_edge = z_upper - OVERJET, upper_edge + OVERBITE
    up_v, up_t, up_g = _arch(z_upper, upper_edge, upper=True)
    lo_v, lo_t, lo_g = _arch(z_lower, lower_edge, upper=False)

    tongue, (tongue_f,) = _sphere(1.0, (), rings=12, segments=24)
    rx, ry, rz = TONGUE_RADII
    lower_front = lo_v[np.unique(lo_t[0]), 2].max()  # the lower incisors' front (the teeth, not the gums)
    centre = np.array([0.0, lower_edge - TONGUE_BELOW_TEETH - ry, lower_front - TONGUE_TIP_BEHIND_TEETH - rz])
    tongue = tongue * np.array([rx, ry, rz]) + centre
    tongue_targets = _follow(tongue, motions)
    tongue_targets["tongueOut"] = np.tile(np.float32([0.0, TONGUE_LIFT, TONGUE_TRAVEL]), (len(tongue), 1))

    cavity, cavity_f = _cup(CAVITY_RADII)
    c_centre = np.array([0.0, upper_lip[1] - 0.003, z_lower - CAVITY_BEHIND_TEETH])
    cavity = cavity + c_centre
    floor = np.clip((c_centre[1] + 0.003 - cavity[:, 1]) / 0.008, 0.0, 1.0)  # the lower part goes with the jaw
    return [
        Part("teeth_upper", up_v.astype(np.float32), _teeth_surfaces(up_t, up_g)),
        Part("teeth_lower", lo_v.astype(np.float32), _teeth_surfaces(lo_t, lo_g), targets=_follow(lo_v, motions)),
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
    return _eyes(rig, v) + _mouth(v, jaw_motions(rig))
