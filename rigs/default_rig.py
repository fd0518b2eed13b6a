"""facecraft's default rig: the MediaPipe canonical face mesh with 52 procedurally authored ARKit shapes.

Nothing third-party is stored in the project: the mesh is read at run time from the installed Face
Landmarker bundle (:mod:`facecraft.rigs.mediapipe_mesh`) and every blendshape is computed here from landmark
index sets of the MediaPipe topology.

How the shapes are built
------------------------
* **Distances** are graph-geodesic (Dijkstra over mesh edges weighted by length) on a copy of the mesh in
  which the triangles that fill the mouth and eye openings are cut, so the upper and lower lips (and lids)
  do not influence each other except around the corners.
* **Handles**: each shape gives displacements at a few landmark vertices (or whole lid/lip rows, or
  zero-displacement anchors); every other vertex takes a Shepard (inverse squared distance) blend of the
  handle displacements, attenuated by a smooth kernel ``(1 - (d / r)^2)^3`` of its distance ``d`` to the
  nearest moving handle.
* **Jaw**: a harmonic weight field (1 on the lower lip and chin, 0 on the upper lip, nose, eyes and the
  upper face outline) solved on the cut mesh with scipy; ``jawOpen`` is a real rotation about a left-right
  hinge axis behind the face (19 degrees) plus the condyles' forward-down glide, blended by that field;
  ``jawForward`` / ``jawLeft`` / ``jawRight`` translate the same region.
* **Lids**: ``eyeBlink*`` move each upper-lid vertex to the lower-lid line (interpolated at the same x),
  the lower lid rising by a quarter of the gap, so the lids really meet.
* **Sides**: one-sided shapes are authored on the subject's left (+X) and mirrored with a vertex
  correspondence across X = 0 (nearest neighbour of the reflected vertex); two-sided shapes are
  symmetrised the same way, so the rig is exactly symmetric.
* The mesh has no eyeballs, teeth or tongue: ``eyeLook*`` move only the lids a little (the lid margin
  follows the eyeball), and ``tongueOut`` is a small lower-lip drop and push forward (the lip being pushed
  by a tongue), which a renderer or exporter should not mistake for a tongue.

Magnitudes are in metres on a face about 15.5 cm wide; directions were checked against the ICT FaceKit
reference rig (``facecraft bench rig-vs-ict``), but every shape is defined from anatomy (what the
muscle does), not fitted to ICT.
"""

from __future__ import annotations

import functools
import logging

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import dijkstra
from scipy.sparse.linalg import spsolve

from .arkit import ARKIT_NAMES, mirror_name
from .blendshape_rig import SEMANTIC_POINTS, BlendshapeRig
from .errors import ParameterError
from .mediapipe_mesh import CanonicalMesh, canonical_mesh

logger = logging.getLogger(__name__)

# ------------------------------------------------------------------ landmark index sets (MediaPipe topology)
# Rows run from the subject's right (-X) to the subject's left (+X); corners are the first/last entries.
LIPS_UPPER_OUTER = (61, 185, 40, 39, 37, 0, 267, 269, 270, 409, 291)
LIPS_LOWER_OUTER = (61, 146, 91, 181, 84, 17, 314, 405, 321, 375, 291)
LIPS_UPPER_INNER = (78, 191, 80, 81, 82, 13, 312, 311, 310, 415, 308)
LIPS_LOWER_INNER = (78, 95, 88, 178, 87, 14, 317, 402, 318, 324, 308)
# Eyes: from the inner corner (near the nose) to the outer corner.
EYE_L_UPPER = (362, 398, 384, 385, 386, 387, 388, 466, 263)
EYE_L_LOWER = (362, 382, 381, 380, 374, 373, 390, 249, 263)
EYE_R_UPPER = (133, 173, 157, 158, 159, 160, 161, 246, 33)
EYE_R_LOWER = (133, 155, 154, 153, 145, 144, 163, 7, 33)
# Brows: from the inner end to the outer end; the upper and lower edge of the brow.
BROW_L_UPPER = (336, 296, 334, 293, 300)
BROW_L_LOWER = (285, 295, 282, 283, 276)
BROW_R_UPPER = (107, 66, 105, 63, 70)
BROW_R_LOWER = (55, 65, 52, 53, 46)
FACE_OVAL = (
    10, 338, 297, 332, 284, 251, 389, 356, 454, 323, 361, 288, 397, 365, 379, 378, 400, 377,
    152, 148, 176, 149, 150, 136, 172, 58, 132, 93, 234, 127, 162, 21, 54, 103, 67, 109,
)  # fmt: skip
# Outline vertices that belong to the mandible (move with the jaw) and those that do not.
_OVAL_JAW = (365, 379, 378, 400, 377, 152, 148, 176, 149, 150, 136)
_OVAL_SKULL = (10, 338, 297, 332, 284, 251, 389, 356, 454, 323, 361, 132, 93, 234, 127, 162, 21, 54, 103, 67, 109)
_NOSE_RIDGE = (168, 6, 197, 195, 5, 4, 1, 2, 94)
# Skin over the cheekbones (zygomatic arch), which the jaw does not move.
_ZYGOMATIC = (36, 50, 123, 116, 137, 266, 280, 352, 345, 366)

# Semantic points as MediaPipe vertex ids (subject's left = +X), checked on the mesh.
SEMANTIC_VERTICES: dict[str, int] = {
    "mouth_corner_l": 291, "mouth_corner_r": 61, "upper_lip_center": 0, "lower_lip_center": 17,
    "upper_lip_inner": 13, "lower_lip_inner": 14,
    "upper_lid_l": 386, "lower_lid_l": 374, "upper_lid_r": 159, "lower_lid_r": 145,
    "brow_inner_l": 336, "brow_mid_l": 334, "brow_outer_l": 300,
    "brow_inner_r": 107, "brow_mid_r": 105, "brow_outer_r": 70,
    "chin": 152, "nose_tip": 1, "nostril_l": 327, "nostril_r": 98, "cheek_l": 425, "cheek_r": 205,
}  # fmt: skip

JAW_OPEN_DEGREES = 19.0
JAW_HINGE_YZ = (0.004, -0.05)  # metres: effective left-right hinge axis behind the face
JAW_GLIDE = (0.0, -0.004, 0.003)  # metres: the condyles also slide down and forward when the jaw opens


def _kernel(t: np.ndarray) -> np.ndarray:
    """Smooth compact falloff: 1 at t = 0, 0 for t >= 1, zero slope at both ends."""
    t = np.clip(t, 0.0, 1.0)
    return (1.0 - t * t) ** 3


def _smoothstep(t: np.ndarray) -> np.ndarray:
    t = np.clip(t, 0.0, 1.0)
    return t * t * (3.0 - 2.0 * t)


class _Author:
    """Geometry helpers shared by the shape builders (one instance per mesh)."""

    def __init__(self, mesh: CanonicalMesh) -> None:
        self.v = mesh.vertices.astype(np.float64)
        self.f = mesh.faces
        n = len(self.v)
        self.width = float(np.ptp(self.v[:, 0]))
        self.mirror = self._mirror_map()
        edges = np.concatenate([self.f[:, [0, 1]], self.f[:, [1, 2]], self.f[:, [2, 0]]])
        edges = np.unique(np.sort(edges, axis=1), axis=0)
        cut = self._cut_pairs()
        keep = np.array([(int(a), int(b)) not in cut for a, b in edges])
        self.edges = edges[keep]
        length = np.linalg.norm(self.v[self.edges[:, 0]] - self.v[self.edges[:, 1]], axis=1)
        a, b = self.edges[:, 0], self.edges[:, 1]
        self.graph = sp.coo_matrix((np.r_[length, length], (np.r_[a, b], np.r_[b, a])), shape=(n, n)).tocsr()
        self.normals = self._vertex_normals()
        self.jaw = self._jaw_field()
        self.upper_lip = self._lip_mask(LIPS_UPPER_OUTER[1:-1] + LIPS_UPPER_INNER[1:-1], upper=True)
        self.lower_lip = self._lip_mask(LIPS_LOWER_OUTER[1:-1] + LIPS_LOWER_INNER[1:-1], upper=False)

    # -------------------------------------------------------------- topology
    def _mirror_map(self) -> np.ndarray:
        from scipy.spatial import cKDTree

        reflected = self.v * np.array([-1.0, 1.0, 1.0])
        dist, idx = cKDTree(self.v).query(reflected)
        if dist.max() > 1e-4 * self.width:
            logger.warning("canonical mesh is not exactly symmetric (max mirror error %.2e m)", dist.max())
        return idx

    @staticmethod
    def _cut_pairs() -> set[tuple[int, int]]:
        """Edges that cross the mouth or an eye opening (upper row to lower row, corners excluded)."""
        cut: set[tuple[int, int]] = set()
        for upper, lower in (
            (LIPS_UPPER_INNER, LIPS_LOWER_INNER),
            (EYE_L_UPPER, EYE_L_LOWER),
            (EYE_R_UPPER, EYE_R_LOWER),
        ):
            for u in upper[1:-1]:
                for w in lower[1:-1]:
                    cut.add((min(u, w), max(u, w)))
        return cut

    def _vertex_normals(self) -> np.ndarray:
        t = self.v[self.f]
        fn = np.cross(t[:, 1] - t[:, 0], t[:, 2] - t[:, 0])
        vn = np.zeros_like(self.v)
        for k in range(3):
            np.add.at(vn, self.f[:, k], fn)
        return vn / np.maximum(np.linalg.norm(vn, axis=1, keepdims=True), 1e-12)

    def geodesic(self, sources) -> np.ndarray:
        """Distance ``(len(sources), V)`` in metres along the cut mesh's edges."""
        return dijkstra(self.graph, directed=False, indices=np.asarray(sources, dtype=np.int64))

    def _harmonic(self, fixed: dict[int, float]) -> np.ndarray:
        """Solve the (edge-length weighted) graph Laplace equation with Dirichlet values ``fixed``."""
        n = len(self.v)
        a, b = self.edges[:, 0], self.edges[:, 1]
        w = 1.0 / np.linalg.norm(self.v[a] - self.v[b], axis=1)
        W = sp.coo_matrix((np.r_[w, w], (np.r_[a, b], np.r_[b, a])), shape=(n, n)).tocsr()
        L = sp.diags(np.asarray(W.sum(1)).ravel()) - W
        idx = np.array(sorted(fixed))
        val = np.array([fixed[i] for i in idx])
        free = np.setdiff1d(np.arange(n), idx)
        x = np.zeros(n)
        x[idx] = val
        x[free] = spsolve(L[free][:, free].tocsc(), -L[free][:, idx] @ val)
        return np.clip(x, 0.0, 1.0)

    def _jaw_field(self) -> np.ndarray:
        fixed: dict[int, float] = {}
        for i in LIPS_LOWER_OUTER[1:-1] + LIPS_LOWER_INNER[1:-1] + _OVAL_JAW + (199, 175, 200, 18):
            fixed[i] = 1.0
        eyes = EYE_L_UPPER + EYE_L_LOWER + EYE_R_UPPER + EYE_R_LOWER
        for i in LIPS_UPPER_OUTER[1:-1] + LIPS_UPPER_INNER[1:-1] + _OVAL_SKULL + _NOSE_RIDGE + _ZYGOMATIC + eyes:
            fixed[i] = 0.0
        # Snap the harmonic tails (< 1 %) to exactly 0 / 1, so the upper face is exactly still.
        return np.clip((self._harmonic(fixed) - 0.01) / 0.98, 0.0, 1.0)

    def _lip_mask(self, rows, *, upper: bool, radius: float = 0.012) -> np.ndarray:
        d = self.geodesic(rows).min(0)
        side = (1.0 - self.jaw) if upper else self.jaw
        return _kernel(d / radius) * side

    # -------------------------------------------------------------- deformation tools
    def propagate(self, handles: dict[int, tuple[float, float, float]], radius: float) -> np.ndarray:
        """Displacement field ``(V, 3)`` from handle displacements, Shepard-blended and smoothly attenuated.

        Handles with zero displacement act as anchors (they pull the blend toward rest) but do not spread
        motion: the attenuation uses the distance to the nearest *moving* handle.
        """
        ids = np.array(list(handles), dtype=np.int64)
        disp = np.array([handles[i] for i in ids], dtype=np.float64)
        d = self.geodesic(ids)  # (H, V)
        w = 1.0 / (d * d + 1e-8)
        field = (w.T @ disp) / w.sum(0)[:, None]
        moving = np.linalg.norm(disp, axis=1) > 0
        att = _kernel(d[moving].min(0) / radius) if moving.any() else np.zeros(len(self.v))
        return field * att[:, None]

    def mirror_field(self, d: np.ndarray) -> np.ndarray:
        """The displacement field a left-side field becomes on the other side of the face."""
        return d[self.mirror] * np.array([-1.0, 1.0, 1.0])

    def symmetrise(self, d: np.ndarray) -> np.ndarray:
        return 0.5 * (d + self.mirror_field(d))

    def side_weight(self, half_width: float = 0.008) -> np.ndarray:
        """Smooth 0..1 weight of the subject's left (+X); 0.5 on the midline; mirror-complementary."""
        return _smoothstep((self.v[:, 0] + half_width) / (2 * half_width))

    def rotation_field(self, axis: np.ndarray, centre: np.ndarray, angle: float, weight: np.ndarray) -> np.ndarray:
        """Displacement of a rotation by ``angle`` (radians) about ``axis`` through ``centre``, times ``weight``."""
        k = axis / np.linalg.norm(axis)
        K = np.array([[0, -k[2], k[1]], [k[2], 0, -k[0]], [-k[1], k[0], 0]])
        R = np.eye(3) + np.sin(angle) * K + (1 - np.cos(angle)) * K @ K
        p = self.v - centre
        return (p @ R.T - p) * weight[:, None]


# ------------------------------------------------------------------ shape builders (left side / symmetric)
def _lid_close(a: _Author, upper_row, lower_row, *, meet: float = 0.25) -> np.ndarray:
    """Upper lid down to the lower-lid line, lower lid up by ``meet`` of the gap: the lids meet."""
    up, lo = np.array(upper_row[1:-1]), np.array(lower_row[1:-1])
    lo_sorted = lo[np.argsort(a.v[lo, 0])]
    up_sorted = up[np.argsort(a.v[up, 0])]

    def along(row_sorted, x):
        return np.stack([np.interp(x, a.v[row_sorted, 0], a.v[row_sorted, c]) for c in range(3)], axis=-1)

    handles: dict[int, tuple[float, float, float]] = {}
    for i in up:
        target = along(lo_sorted, a.v[i, 0])
        target = target + meet * (a.v[i] - target)
        handles[int(i)] = tuple(target - a.v[i])
    for i in lo:
        top = along(up_sorted, a.v[i, 0])
        handles[int(i)] = tuple(meet * (top - a.v[i]))
    handles[int(upper_row[0])] = (0.0, 0.0, 0.0)
    handles[int(upper_row[-1])] = (0.0, 0.0, 0.0)
    upper = a.propagate({k: v for k, v in handles.items() if k not in lo}, radius=0.011)
    lower = a.propagate({k: v for k, v in handles.items() if k not in up}, radius=0.006)
    # Each field only acts on its own lid: split by which lid row is geodesically nearer.
    du, dl = a.geodesic(up).min(0), a.geodesic(lo).min(0)
    return np.where((du <= dl)[:, None], upper, lower)


def _lids(a: _Author, upper_row, lower_row, up: tuple, lo: tuple, *, r_up=0.012, r_lo=0.008) -> np.ndarray:
    """Move the whole upper lid row by ``up`` and the lower row by ``lo`` (tapering toward the corners)."""

    def rowfield(row, vec, radius):
        inner = np.array(row[1:-1])
        taper = np.sin(np.linspace(0, np.pi, len(row)))[1:-1]
        h = {int(i): tuple(np.asarray(vec) * (0.35 + 0.65 * t)) for i, t in zip(inner, taper, strict=True)}
        h[int(row[0])] = tuple(np.asarray(vec) * 0.2)
        h[int(row[-1])] = tuple(np.asarray(vec) * 0.2)
        return a.propagate(h, radius)

    fu, fl = rowfield(upper_row, up, r_up), rowfield(lower_row, lo, r_lo)
    du, dl = a.geodesic(upper_row[1:-1]).min(0), a.geodesic(lower_row[1:-1]).min(0)
    return np.where((du <= dl)[:, None], fu, fl)


def _left_shapes(a: _Author) -> dict[str, np.ndarray]:
    """Shapes authored on the subject's left (+X); their ``...Right`` twins are mirrors."""
    s: dict[str, np.ndarray] = {}
    U, L = EYE_L_UPPER, EYE_L_LOWER
    s["eyeBlinkLeft"] = _lid_close(a, U, L)
    # Gaze: the lids follow the eyeball, which turns EYE_PITCH_DEG (25) at a full weight, its iris top ~5 mm. Looking
    # up, the upper lid rises with it (at 3 mm MediaPipe read a raised iris under a still lid as a squint: eyeLookUp the
    # largest rise on a third of the tuning photos, eyeSquint on half the rest; at 6 mm ~ half, squint rise ~0); looking
    # down, it follows part way and the lower lid drops a little (at 4.5 mm, of a 6.7 mm opening, the eye looked sleepy
    # and read as a blink); measured on 36 tuning photos (UTKFace 500+, FRLL calibration), the editor's gaze at 0.8.
    s["eyeLookDownLeft"] = _lids(a, U, L, (0.0, -0.003, -0.0005), (0.0, -0.0015, -0.001))
    s["eyeLookUpLeft"] = _lids(a, U, L, (0.0, 0.006, -0.001), (0.0, 0.0013, 0.0004))
    s["eyeLookInLeft"] = _lids(a, U, L, (-0.002, 0.0, 0.0), (-0.0018, 0.0, 0.0005))
    s["eyeLookOutLeft"] = _lids(a, U, L, (0.002, 0.0, -0.0005), (0.0016, 0.0, -0.0007))
    s["eyeWideLeft"] = _lids(a, U, L, (0.0003, 0.0032, -0.0011), (0.0, -0.0004, 0.0), r_up=0.016)
    squint = _lids(a, U, L, (0.0, -0.0006, 0.0), (-0.0006, 0.0019, 0.0009), r_lo=0.014)
    s["eyeSquintLeft"] = squint

    # Brows (left brow: inner end near the midline at x > 0).
    inner, mid, outer = (336, 285), (334, 282), (300, 276)
    h = {i: (-0.0025, -0.0030, 0.0015) for i in inner} | {i: (-0.0035, -0.0035, 0.0025) for i in mid}
    h |= {i: (-0.0018, -0.0012, 0.0028) for i in outer} | {i: (-0.0025, -0.0030, 0.0015) for i in (296, 295)}
    h |= {i: (-0.002, -0.002, 0.002) for i in (293, 283)} | {168: (0.0, 0.0, 0.0), 9: (0.0, 0.0, 0.0)}
    s["browDownLeft"] = a.propagate(h, radius=0.028)
    h = {i: (0.001, 0.0058, -0.0015) for i in mid} | {i: (0.0008, 0.0055, -0.0022) for i in outer}
    h |= {i: (0.0012, 0.0065, -0.0018) for i in (293, 283)} | {i: (0.0005, 0.002, 0.0) for i in inner}
    s["browOuterUpLeft"] = a.propagate(h, radius=0.03)

    # Cheek and nose.
    h = {i: (0.0, 0.0035, 0.0012) for i in (330, 347, 280, 425, 266)} | {374: (0.0, 0.0015, 0.0006)}
    h |= {i: (0.0, 0.0012, 0.0004) for i in (380, 373, 390)}
    s["cheekSquintLeft"] = a.propagate(h, radius=0.025)
    # Sneer (levator labii superioris alaeque nasi): the nostril wing and the upper lip beside it rise, the
    # skin of the nose side bunches up, the inner brow is pulled down a little (procerus).
    h = {i: (0.0006, 0.006, 0.0) for i in (327, 294, 358, 279, 460, 344, 360)}
    h |= {i: (0.0003, 0.0045, 0.0) for i in (429, 420, 437, 355)} | {i: (-0.0003, -0.0025, 0.0) for i in (285, 336)}
    h |= {i: (0.0, 0.0045, 0.0) for i in (267, 269, 270, 409, 312, 311, 310, 415)}
    h |= {291: (-0.0005, 0.0045, 0.0), 308: (-0.0005, 0.004, 0.0), 0: (0.0, 0.002, 0.0), 164: (0.0, 0.002, 0.0)}
    h |= {i: (0.0, 0.0, 0.0) for i in (98, 64, 4, 1, 152)}
    s["noseSneerLeft"] = a.propagate(h, radius=0.03)

    # Mouth corner shapes: every lip-row vertex follows the left corner (291) by a weight that rises smoothly
    # from 0 at the right corner through ~0.12 at the midline to 1 at the left corner, so the lip line bends
    # instead of creasing; the surrounding skin follows within ``radius``.
    rows = sorted(set(LIPS_UPPER_OUTER + LIPS_LOWER_OUTER + LIPS_UPPER_INNER + LIPS_LOWER_INNER))
    t = np.clip(a.v[rows, 0] / a.v[291, 0], -1.0, 1.0)
    row_weight = dict(zip(rows, ((t + 1.0) / 2.0) ** 3, strict=True))

    def corner(vec, *, radius=0.03, extra=None):
        v = np.asarray(vec)
        hh = {i: tuple(v * w) for i, w in row_weight.items()} | (extra or {})
        return a.propagate(hh, radius)

    s["mouthSmileLeft"] = corner(
        (0.0065, 0.009, -0.0075),
        extra={i: (0.0015, 0.003, 0.0015) for i in (425, 411, 427)},  # the cheek mass bunches up
        radius=0.035,
    )
    s["mouthFrownLeft"] = corner((0.0018, -0.0055, -0.0018), extra={i: (0.0008, -0.003, -0.0005) for i in (273, 422)})
    s["mouthDimpleLeft"] = corner((0.0008, 0.0025, -0.0058))
    s["mouthStretchLeft"] = corner(
        (0.0065, -0.0032, -0.007), extra={i: (0.002, -0.0025, -0.0015) for i in (273, 422)}, radius=0.035
    )

    side = a.side_weight()
    up, lo = a.upper_lip, a.lower_lip
    chin = _kernel(a.geodesic((152, 175, 199, 200, 18)).min(0) / 0.03) * a.jaw
    press = lo[:, None] * np.array([0.0, 0.0022, 0.0008]) + up[:, None] * np.array([0.0, -0.0008, 0.0003])
    press += chin[:, None] * np.array([0.0, 0.0018, 0.001])
    s["mouthPressLeft"] = press * side[:, None]
    lower_down = lo[:, None] * np.array([0.0, -0.0042, -0.0010]) + chin[:, None] * np.array([0.0, -0.0016, -0.001])
    s["mouthLowerDownLeft"] = lower_down * side[:, None]
    upper_up = up[:, None] * np.array([0.0, 0.0042, -0.0005])
    nose = a.propagate({i: (0.0015, 0.004, -0.001) for i in (327, 294, 358)} | {1: (0, 0, 0), 168: (0, 0, 0)}, 0.015)
    s["mouthUpperUpLeft"] = upper_up * side[:, None] + nose
    return s


def _symmetric_shapes(a: _Author) -> dict[str, np.ndarray]:
    """Shapes that move both sides (or the midline), and direction shapes (mouthLeft, jawLeft)."""
    s: dict[str, np.ndarray] = {}
    J, up, lo = a.jaw, a.upper_lip, a.lower_lip
    centre = np.array([0.0, *JAW_HINGE_YZ])
    s["jawOpen"] = a.rotation_field(np.array([1.0, 0.0, 0.0]), centre, np.deg2rad(JAW_OPEN_DEGREES), J)
    s["jawOpen"] += J[:, None] * np.array(JAW_GLIDE)
    s["jawForward"] = J[:, None] * np.array([0.0, -0.001, 0.0095])
    s["jawLeft"] = J[:, None] * np.array([0.0085, 0.0, 0.0006])
    # mouthClose: with the jaw open, the lips return together (lower lip back up, both lips sealing the
    # neutral gap); the corners follow by the masks' values there.
    gap = a.v[13] - a.v[14]
    seal = lo[:, None] * (0.5 * gap) - up[:, None] * (0.5 * gap)
    s["mouthClose"] = -s["jawOpen"] * lo[:, None] + seal
    # mouthLeft: the lips slide along the dental arch (a rotation about a vertical axis behind the lips).
    all_rows = LIPS_UPPER_OUTER + LIPS_LOWER_OUTER + LIPS_UPPER_INNER + LIPS_LOWER_INNER
    mouth = _kernel(a.geodesic(all_rows).min(0) / 0.035)
    arch_centre = np.array([0.0, a.v[0, 1], 0.0335])
    s["mouthLeft"] = a.rotation_field(np.array([0.0, 1.0, 0.0]), arch_centre, 0.55, mouth)
    lips = np.maximum(up, lo)
    fwd = np.array([0.0, 0.0, 1.0])
    to_mid = -np.sign(a.v[:, 0])[:, None] * np.array([1.0, 0.0, 0.0])
    corners = _kernel(a.geodesic((61, 291)).min(0) / 0.02)
    s["mouthFunnel"] = (
        lips[:, None] * fwd * 0.0065
        + up[:, None] * np.array([0.0, 0.005, 0.0])
        + lo[:, None] * np.array([0.0, -0.0075, 0.0])
        + corners[:, None] * (to_mid * 0.0035 + fwd * 0.002)
    )
    s["mouthPucker"] = (
        lips[:, None] * fwd * 0.008
        + up[:, None] * np.array([0.0, 0.0015, 0.0])
        + corners[:, None] * (to_mid * 0.0045 + np.array([0.0, 0.002, 0.002]))
    )
    inner_u = a.propagate(
        {i: (0, 0.002, -0.011) for i in LIPS_UPPER_INNER[2:-2]} | {61: (0, 0, 0), 291: (0, 0, 0)}, 0.01
    )
    outer_u = a.propagate(
        {i: (0, -0.0055, -0.0065) for i in LIPS_UPPER_OUTER[2:-2]} | {61: (0, 0, 0), 291: (0, 0, 0)}, 0.012
    )
    du_in, du_out = a.geodesic(LIPS_UPPER_INNER[2:-2]).min(0), a.geodesic(LIPS_UPPER_OUTER[2:-2]).min(0)
    s["mouthRollUpper"] = np.where((du_in < du_out)[:, None], inner_u, outer_u) * (1 - J)[:, None]
    inner_l = a.propagate(
        {i: (0, 0.0035, -0.012) for i in LIPS_LOWER_INNER[2:-2]} | {61: (0, 0, 0), 291: (0, 0, 0)}, 0.01
    )
    outer_l = a.propagate(
        {i: (0, 0.0085, -0.0045) for i in LIPS_LOWER_OUTER[2:-2]} | {61: (0, 0, 0), 291: (0, 0, 0)}, 0.014
    )
    dl_in, dl_out = a.geodesic(LIPS_LOWER_INNER[2:-2]).min(0), a.geodesic(LIPS_LOWER_OUTER[2:-2]).min(0)
    s["mouthRollLower"] = np.where((dl_in < dl_out)[:, None], inner_l, outer_l) * J[:, None]
    chin = _kernel(a.geodesic((152, 175, 199, 200, 18)).min(0) / 0.035) * J
    s["mouthShrugLower"] = lo[:, None] * np.array([0.0, 0.007, 0.005]) + chin[:, None] * np.array([0.0, 0.0075, 0.0045])
    s["mouthShrugUpper"] = up[:, None] * np.array([0.0, 0.0055, 0.0008])
    # browInnerUp: both inner brow ends up (frontalis, medial part), fading toward the outer ends.
    h = {i: (0.0, 0.0058, -0.0004) for i in (336, 285, 107, 55, 296, 295, 66, 65)}
    h |= {i: (0.0, 0.003, -0.0003) for i in (334, 282, 105, 52)} | {i: (0.0, 0.001, 0.0) for i in (300, 276, 70, 46)}
    s["browInnerUp"] = a.propagate(h, radius=0.03)
    # cheekPuff: air pushes the cheeks out along their normals and the lips forward.
    cheeks = _kernel(a.geodesic((425, 205, 411, 187, 280, 50)).min(0) / 0.03) * (1 - lips)
    s["cheekPuff"] = (
        cheeks[:, None] * a.normals * 0.008
        + lips[:, None] * fwd * 0.006
        + corners[:, None] * (to_mid * 0.002 + np.array([0.0, 0.001, 0.006]))
    )
    # tongueOut (no tongue in this mesh): the lower lip parts and is pushed forward, as by a tongue.
    s["tongueOut"] = lo[:, None] * np.array([0.0, -0.0025, 0.0025])
    return s


@functools.lru_cache(maxsize=1)
def _shape_fields() -> tuple[np.ndarray, dict[str, np.ndarray], np.ndarray]:
    mesh = canonical_mesh()
    a = _Author(mesh)
    shapes: dict[str, np.ndarray] = {}
    for name, d in _left_shapes(a).items():
        shapes[name] = d
        shapes[mirror_name(name)] = a.mirror_field(d)
    for name, d in _symmetric_shapes(a).items():
        if name in ("mouthLeft", "jawLeft"):
            shapes[name] = d
            shapes[mirror_name(name)] = a.mirror_field(d)
        else:
            shapes[name] = a.symmetrise(d)
    missing = set(ARKIT_NAMES) - set(shapes)
    if missing:
        raise ParameterError(f"default rig: shapes not authored: {sorted(missing)}")
    deltas = np.stack([shapes[n] for n in ARKIT_NAMES]).astype(np.float32)
    return deltas, {"jaw": a.jaw, "upper_lip": a.upper_lip, "lower_lip": a.lower_lip}, a.mirror


def mirror_map() -> np.ndarray:
    """``(468,)`` index of each vertex's mirror image across X = 0."""
    return _shape_fields()[2]


def region_weights() -> dict[str, np.ndarray]:
    """Per-vertex 0..1 weights ``(468,)`` of the regions used to author the shapes (jaw, upper/lower lip)."""
    return {k: v.copy() for k, v in _shape_fields()[1].items()}


@functools.cache
def opening_faces() -> np.ndarray:
    """Indices of the triangles that fill the mouth and eye openings (a renderer may hide or darken them).

    Read-only (computed once: every warp asks for it)."""
    mesh = canonical_mesh()
    groups = [set(LIPS_UPPER_INNER) | set(LIPS_LOWER_INNER)]
    groups += [set(EYE_L_UPPER) | set(EYE_L_LOWER), set(EYE_R_UPPER) | set(EYE_R_LOWER)]
    inside = np.zeros(len(mesh.faces), dtype=bool)
    for g in groups:
        inside |= np.isin(mesh.faces, list(g)).all(1)
    return _read_only(np.nonzero(inside)[0])


def _read_only(array: np.ndarray) -> np.ndarray:
    array.setflags(write=False)
    return array


def inside_outline(points: np.ndarray, outline: np.ndarray) -> np.ndarray:
    """Whether each 2-D point ``(N, 2)`` lies inside the closed polygon ``outline`` ``(M, 2)`` (even-odd rule)."""
    x, y = points[:, :1], points[:, 1:]
    a, b = outline, np.roll(outline, -1, axis=0)
    crosses = (a[None, :, 1] > y) != (b[None, :, 1] > y)
    with np.errstate(divide="ignore", invalid="ignore"):
        at = a[None, :, 0] + (y - a[None, :, 1]) * (b[None, :, 0] - a[None, :, 0]) / (b[None, :, 1] - a[None, :, 1])
    return (crosses & (x < at)).sum(axis=1) % 2 == 1


def _faces_within(outline) -> np.ndarray:
    """Whether each canonical-mesh triangle has its three vertices on the closed vertex loop ``outline`` or
    inside it, seen from the front."""
    mesh = canonical_mesh()
    outline = np.asarray(outline)
    within = inside_outline(mesh.vertices[:, :2], mesh.vertices[outline, :2])
    within[outline] = True
    return within[mesh.faces].all(axis=1)


@functools.cache
def lip_faces() -> np.ndarray:
    """Indices of the triangles of the lips' red part (between the outer and inner lip lines), read-only.

    A triangle belongs to the lips when its three vertices lie on the outer lip line or inside it (seen from
    the front, on the canonical mesh) and it is not one of :func:`opening_faces` (the mouth opening). An
    exporter gives them a lip colour: without it, the lips of a face with one skin colour read only by shading.
    """
    lips = _faces_within(LIPS_UPPER_OUTER + LIPS_LOWER_OUTER[-2:0:-1])
    lips[opening_faces()] = False
    return _read_only(np.nonzero(lips)[0])


@functools.cache
def brow_faces() -> np.ndarray:
    """Indices of the triangles of both eyebrows (between the brow landmarks' upper and lower edge), read-only.

    The canonical mesh has no hair: an exporter gives these a hair colour, so that the brow shapes (anger's
    ``browDown*``, sadness's ``browInnerUp``) read in a client as brows moving, not as shading on bare skin.
    """
    brows = np.zeros(len(canonical_mesh().faces), bool)
    for upper, lower in ((BROW_L_UPPER, BROW_L_LOWER), (BROW_R_UPPER, BROW_R_LOWER)):
        brows |= _faces_within(upper + lower[::-1])
    return _read_only(np.nonzero(brows)[0])


def _vertex_points(faces: np.ndarray, names: list[str]) -> tuple[np.ndarray, np.ndarray]:
    pf = np.empty(len(names), dtype=np.int64)
    pb = np.zeros((len(names), 3), dtype=np.float32)
    opening = set(opening_faces().tolist())
    for i, n in enumerate(names):
        rows, cols = np.nonzero(faces == SEMANTIC_VERTICES[n])
        order = [k for k in range(len(rows)) if rows[k] not in opening] or list(range(len(rows)))
        pf[i], pb[i, cols[order[0]]] = rows[order[0]], 1.0
    return pf, pb


def canonical_topology(num_vertices: int, faces) -> dict | None:
    """For a mesh with the MediaPipe canonical topology less (some of) its opening triangles, as facecraft's GLB
    writes the default rig (the eyeballs, teeth and cavity fill the openings there): the full triangle list and
    the semantic points, as :class:`~facecraft.rigs.BlendshapeRig` keyword arguments; None for any other mesh.
    Loaded back without them, the default rig's GLB lost its eyes, teeth and landmark points."""
    mesh = canonical_mesh()
    f = np.sort(np.asarray(faces, np.int64).reshape(-1, 3), axis=1)
    if num_vertices != len(mesh.vertices) or len(f) > len(mesh.faces):
        return None
    key = {tuple(t): i for i, t in enumerate(np.sort(mesh.faces, axis=1).tolist())}
    found = [key.get(tuple(t)) for t in f.tolist()]
    if None in found or not set(range(len(mesh.faces))) - set(found) <= set(opening_faces().tolist()):
        return None
    names = list(SEMANTIC_POINTS)
    pf, pb = _vertex_points(mesh.faces, names)
    return {"faces": mesh.faces.copy(), "point_names": names, "point_faces": pf, "point_bary": pb}


REST_LIP_GAP = 0.0005  # metres between the inner lips of the default rig's neutral


def _sealed_neutral(vertices: np.ndarray, close_delta: np.ndarray) -> np.ndarray:
    """Neutral vertices with the lips brought together along ``close_delta`` (the mouthClose field)."""
    up, lo = SEMANTIC_VERTICES["upper_lip_inner"], SEMANTIC_VERTICES["lower_lip_inner"]
    gap = vertices[up, 1] - vertices[lo, 1]
    per_unit = close_delta[up, 1] - close_delta[lo, 1]  # negative: mouthClose narrows the gap
    if gap <= REST_LIP_GAP or per_unit >= 0:
        return vertices.copy()
    return (vertices + (gap - REST_LIP_GAP) / -per_unit * close_delta).astype(np.float32)


def build_default_rig() -> BlendshapeRig:
    """Build a fresh default rig (468 vertices, 898 triangles, 52 ARKit shapes in Apple order, UVs).

    Semantic points are the :data:`SEMANTIC_VERTICES` landmarks, as barycentric points on skin triangles.
    The canonical mesh's lips rest about 5.5 mm apart; a face at rest (and ARKit's neutral) has its lips
    together, so the neutral is sealed with the rig's own ``mouthClose`` field until the inner lips are
    :data:`REST_LIP_GAP` apart. Lip-sync metrics judge closure on the absolute gap, so this matters.
    """
    mesh = canonical_mesh()
    deltas, _, _ = _shape_fields()
    names = list(SEMANTIC_POINTS)
    pf, pb = _vertex_points(mesh.faces, names)
    neutral = _sealed_neutral(mesh.vertices, deltas[ARKIT_NAMES.index("mouthClose")])
    return BlendshapeRig(
        neutral, deltas.copy(), list(ARKIT_NAMES), mesh.faces.copy(), point_names=names,
        point_faces=pf, point_bary=pb, uvs=mesh.uvs.copy(), name="facecraft-default",
    )  # fmt: skip


@functools.lru_cache(maxsize=1)
def default_rig() -> BlendshapeRig:
    """The default rig, built once per process. Shared: call :func:`build_default_rig` for a private copy."""
    return build_default_rig()
