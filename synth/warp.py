"""Dense, smooth image warp that moves the 468 MediaPipe mesh vertices from where they are to where an edit wants them.

How it works
------------
* The canonical mesh covers only the face. Around its outline (``FACE_OVAL``, which is exactly the mesh's
  boundary) the warp adds concentric rings of anchor points out to ``border`` x the face width (farther where
  the outline itself moves outward, so the band never folds). The outermost ring does not move; the inner rings
  take a smoothstep fraction of the outline's motion, so the warp falls to zero with a nearly continuous slope.
  Pixels outside the outer ring are copied, bit for bit.
* Where the outline moves out so far that the band would squeeze the photo into a line (a dropped chin), the band
  is covered instead (:func:`band_fade`): the photo under the outline moves with it and cross-fades into the photo
  as it is, the chin's shadow keeping its own scale.
* Backward map, piecewise affine: every target triangle is filled with its index (``cv2.fillPoly``, far
  triangles first when per-vertex depth is given, so the nearer surface wins where the projection overlaps);
  each pixel then takes its triangle's target-to-source affine, kept within the range of the triangle's vertex
  motions (a sample on the edge of a sliver or folded triangle would otherwise take its affine far outside it
  and fetch a speck from across the face). The map is built on a grid ``step`` pixels apart, blurred a little
  (no visible triangle seams) and resized; ``cv2.remap`` samples the photo bilinearly.
* Fold-overs: a skin triangle whose orientation flips between source and target has its vertices' motion
  damped until none flips. Triangles that fill the eye and mouth openings may collapse (a closed lid, closed
  lips) and are allowed to; :mod:`facecraft.synth.lids` and :mod:`facecraft.synth.mouth` repaint the openings.

``warp_face_skimage`` is the same warp (same anchor points) through scikit-image's ``PiecewiseAffineTransform``
and ``warp``, kept as the speed baseline that :func:`bench_warp` times.
"""

from __future__ import annotations

import logging
import statistics
import time
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from facecraft.eval.images import valid_image
from facecraft.rigs.default_rig import FACE_OVAL, opening_faces
from facecraft.rigs.errors import ParameterError
from facecraft.rigs.mediapipe_mesh import NUM_VERTICES, canonical_mesh

logger = logging.getLogger(__name__)

# Landmarks at the face's widest points (on the outline): the face width used for every relative size.
_WIDTH_PAIR = (234, 454)
_RINGS = 3  # anchor rings between the outline and the fixed outer ring
_MIN_BAND = 0.5  # of ``border``: how narrow the band may get where the outline moves outward
#: Where the outline moves outward so far that its band would squeeze the photo more than ``_HIDE_FROM`` times (a
#: dropping chin: jawOpen 0.8 moves it 0.24 face widths, and the 0.04 left below it took the chin's shadow or beard
#: squeezed 7 times, a hard dark outline), the band is covered instead (fully from ``_HIDE_FULL`` times; a jaw that
#: drops under 0.05 face widths, as in speech, squeezes at most 2.25 times and keeps its band as it was): what lies
#: under the outline rides down with it, cross-fading into the photo as it is over the band, which then reaches up
#: to ``_HIDE_BAND`` of ``border`` past the moved outline (:func:`band_fade`); the photo squeezed between is hidden.
#: A soft shadow under a chin (a grey ramp over 0.1-0.17 face widths, the astronaut's landmarks at twice the size)
#: then fades at most 3.8 times as steeply as in the photo for drops up to 0.24 face widths (was 5.2 at 0.1, 8.9 at
#: 0.24), and the photo beyond 0.1 face widths past the moved face's hull stays untouched.
_HIDE_FROM = 2.25
_HIDE_FULL = 3.0
_HIDE_BAND = 1.0
_MIN_FACING = 0.1  # of the median triangle area: smaller (or back-facing) source triangles may turn over
SQUEEZE_BLUR = 1.2  # Gaussian sigma (px) of the photo mixed in where the warp squeezes it (:func:`_antialias`)


@dataclass(frozen=True)
class WarpResult:
    """An edited photo and where it changed.

    Attributes
    ----------
    image : np.ndarray
        ``(H, W, 3)`` uint8 RGB, the same size as the input.
    mask : np.ndarray
        ``(H, W)`` float32 in [0, 1]: 1 where pixels moved by half a pixel or more (or were repainted), 0 where
        they are the input's.
    target : np.ndarray, optional
        ``(468, 2)`` where :func:`warp_face` really put the mesh points (:func:`unfolded_target`'s positions), so
        that repaint steps need not unfold the mesh again; None from the other steps.
    alpha : np.ndarray, optional
        ``(H, W)`` uint8: the photo's transparency moved by the same map as its pixels (a cut-out's silhouette
        follows the chin and cheeks), from :func:`warp_face` given ``alpha``; None for an opaque photo.
    """

    image: np.ndarray
    mask: np.ndarray
    target: np.ndarray | None = None
    alpha: np.ndarray | None = None


def valid_points(points, *, name: str, count: int = NUM_VERTICES) -> np.ndarray:
    """Check ``(count, 2)`` pixel positions (``(478, 2)``, ``(468, 3)``, ... are cut to the first 468 x, y)."""
    try:
        arr = np.asarray(points, dtype=np.float64)
    except (TypeError, ValueError) as e:
        what = type(points).__name__
        raise ParameterError(f"{name}: expected a ({count}, 2) array of pixel positions, got {what}") from e
    if arr.ndim != 2 or arr.shape[0] not in (count, 478) or arr.shape[1] not in (2, 3):
        raise ParameterError(f"{name}: expected shape ({count}, 2) pixel positions (x, y), got {arr.shape}")
    if not np.isfinite(arr).all():
        raise ParameterError(f"{name}: positions must be finite, got NaN or inf")
    return arr[:count, :2]


def valid_depth(depth, *, name: str = "depth", count: int = NUM_VERTICES) -> np.ndarray | None:
    """Check optional per-vertex depth ``(count,)`` (larger is farther from the camera); ``None`` passes."""
    if depth is None:
        return None
    arr = np.asarray(depth, dtype=np.float64)
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr[:, 0]
    if arr.ndim != 1 or arr.shape[0] not in (count, 478) or not np.isfinite(arr).all():
        raise ParameterError(f"{name}: expected ({count},) finite per-vertex depth, got shape {arr.shape}")
    return arr[:count]


def face_width(points: np.ndarray) -> float:
    """Face width in pixels: the distance between the outline's widest landmarks (234, 454), at least 1."""
    a, b = points[_WIDTH_PAIR[0]], points[_WIDTH_PAIR[1]]
    return max(float(np.hypot(*(b - a))), 1.0)


def _smoothstep(t: np.ndarray) -> np.ndarray:
    return t * t * (3.0 - 2.0 * t)


def _outline_normals(oval: np.ndarray) -> np.ndarray:
    """Outward unit normals of a closed polygon, averaged over neighbours so the offset rings stay simple."""
    tangent = np.roll(oval, -1, axis=0) - np.roll(oval, 1, axis=0)
    normal = np.stack([tangent[:, 1], -tangent[:, 0]], axis=1)
    normal /= np.maximum(np.linalg.norm(normal, axis=1, keepdims=True), 1e-9)
    if np.mean(np.sum(normal * (oval - oval.mean(0)), axis=1)) < 0:
        normal = -normal
    for _ in range(2):
        normal = normal + 0.5 * (np.roll(normal, 1, axis=0) + np.roll(normal, -1, axis=0))
        normal /= np.maximum(np.linalg.norm(normal, axis=1, keepdims=True), 1e-9)
    return normal


@dataclass(frozen=True)
class _Band:
    """The anchor band's layout along the outline (``FACE_OVAL`` order, ``n`` points): see :func:`extended_mesh`."""

    o_src: np.ndarray  # (n, 2) the outline in the photo
    motion: np.ndarray  # (n, 2) its motion
    normal: np.ndarray  # (n, 2) outward unit normals
    outward: np.ndarray  # (n,) the motion along them, pixels, at least 0
    reach: np.ndarray  # (n,) how far out the fixed outer ring lies, pixels
    along: np.ndarray  # (n, 2) how far the outer ring follows the motion along the outline
    alpha: np.ndarray  # (n,) 0: the rings take a linear share of the motion, 1: a smoothstep one
    hide: np.ndarray  # (n,) how far the band is occluded (:func:`band_fade`) rather than squeezed

    def ring(self, k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Ring ``k`` (1 .. ``_RINGS``): source and target positions ``(n, 2)``, and where its targets lie across
        the band ``(n,)``, from the moved outline (0) to the outer ring (1)."""
        t = k / _RINGS
        profile = (1 - self.alpha) * t + self.alpha * _smoothstep(np.float64(t))
        ring_src = self.o_src + self.normal * (t * self.reach)[:, None] + t * self.along
        across = (t * self.reach - profile * self.outward) / np.maximum(self.reach - self.outward, 1e-9)
        return ring_src, ring_src + (1.0 - profile)[:, None] * self.motion, np.clip(across, 0.0, 1.0)


def _band(src: np.ndarray, dst: np.ndarray, border: float, occlude: bool) -> _Band:
    oval = np.asarray(FACE_OVAL)
    o_src, motion = src[oval], dst[oval] - src[oval]
    normal = _outline_normals(o_src)
    fw = face_width(src)
    outward = np.maximum(np.sum(motion * normal, axis=1), 0.0)
    reach = np.maximum(border * fw, outward + _MIN_BAND * border * fw)
    hide = _hidden_share(outward, reach) if occlude else np.zeros(len(oval))
    # The rings also follow the outline's motion along it: a chin that drops on a turned head moves partly
    # sideways to the outline, and rings laid out along the normals alone then end far from where it lands
    # (person_04_2 at jawOpen 0.8: the band's outer edge 0.16 face widths from the moved chin, pixels changed
    # beyond a tenth of the face width outside its hull).
    # Only where the outline moves outward (inward, the photo's own outline bounds the face), and only by what
    # the band cannot absorb (beyond ``border``): shifting the rings for any sideways motion left a stepped
    # light seam along the astronaut's chin (fear, jawOpen 0.8).
    share = np.clip(outward / np.maximum(np.linalg.norm(motion, axis=1), 1e-9), 0.0, 1.0)
    along = motion - np.sum(motion * normal, axis=1)[:, None] * normal
    size = np.maximum(np.linalg.norm(along, axis=1), 1e-9)
    follows = share * np.maximum(size - border * fw, 0.0) / size
    # An occluded band fades over more room: its outer ring up to ``_HIDE_BAND`` of ``border`` from where its outline
    # point lands (the photo beyond a tenth of the face width past the moved face's hull must stay).
    lag = size * (1.0 - follows)  # how far the outer ring lags behind it along the outline
    room = np.sqrt(np.maximum((_HIDE_BAND * border * fw) ** 2 - lag**2, 0.0))
    reach = np.maximum(reach, hide * (outward + room))
    # Where the band must squeeze, a smoothstep profile would fold it: fall back toward a linear one.
    alpha = np.clip((reach / np.maximum(outward, 1e-9) - 1.05) / 0.5, 0.0, 1.0)
    return _Band(o_src, motion, normal, outward, reach, along * follows[:, None], alpha, hide)


def extended_mesh(
    src_px, dst_px, *, border: float = 0.08, triangles: np.ndarray | None = None, occlude: bool = False
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The face mesh plus the anchor rings that bring the warp to rest outside the face.

    Parameters
    ----------
    src_px, dst_px : array (468, 2)
        Source and target pixel positions of the canonical mesh vertices.
    border : float
        Distance of the fixed outer ring from the outline, in face widths (``face_width(src_px)``).
    triangles : int array (F, 3), optional
        Mesh triangles; the canonical mesh's 898 by default.
    occlude : bool
        Lay the band out for :func:`band_fade`: where the outline moves out far, the band reaches farther (what it
        squeezes there is covered).

    Returns
    -------
    src, dst : float64 (468 + 36 * rings, 2)
        Vertex positions; ring vertices follow the mesh vertices, ring by ring, in ``FACE_OVAL`` order.
    faces : int64 (F + 72 * rings, 3)
        Mesh triangles followed by the band triangles.
    """
    src = valid_points(src_px, name="src_px")
    dst = valid_points(dst_px, name="dst_px")
    faces = _mesh_triangles(triangles)
    layout = _band(src, dst, border, occlude)
    rs, rd = [src], [dst]
    for k in range(1, _RINGS + 1):
        ring_src, ring_dst, _ = layout.ring(k)
        rs.append(ring_src)
        rd.append(ring_dst)
    oval = np.asarray(FACE_OVAL)
    n = len(oval)
    band = []
    for k in range(_RINGS):
        inner = oval if k == 0 else NUM_VERTICES + (k - 1) * n + np.arange(n)
        outer = NUM_VERTICES + k * n + np.arange(n)
        for i in range(n):
            j = (i + 1) % n
            band += [(inner[i], inner[j], outer[j]), (inner[i], outer[j], outer[i])]
    return np.concatenate(rs), np.concatenate(rd), np.concatenate([faces, np.asarray(band, dtype=np.int64)])


def _hidden_share(outward: np.ndarray, reach: np.ndarray) -> np.ndarray:
    """How far each outline point's band is occluded rather than squeezed (0 .. 1), from how much the squeezed band
    (``reach`` past the source outline, which moves out by ``outward``) would compress the photo."""
    squeeze = reach / np.maximum(reach - outward, 1e-9)
    return np.clip((squeeze - _HIDE_FROM) / (_HIDE_FULL - _HIDE_FROM), 0.0, 1.0)


def cover_band(moved: np.ndarray, photo: np.ndarray, over: np.ndarray, rides: np.ndarray, stays: np.ndarray):
    """The covered band's pixels (:func:`band_fade`): ``1 - rides - stays`` of the warp's ``moved``, ``stays`` of the
    ``photo`` as it is and ``rides`` of what rides ``over`` the band (images alike in shape, weights ``(h, w)``
    float32)."""
    keep = 1.0 - rides
    return cv2.blendLinear(cv2.blendLinear(moved, photo, keep - stays, stays), over, keep, rides)


def band_fade(
    src_px,
    dst_px,
    s_all: np.ndarray,
    d_all: np.ndarray,
    f_all: np.ndarray,
    *,
    border: float = 0.08,
    shape: tuple[int, int],
) -> tuple[tuple[int, int, int, int], np.ndarray, np.ndarray, np.ndarray] | None:
    """What covers the band of :func:`extended_mesh` (``occlude``) where the outline moves out far: the photo under
    the outline, moved with it, cross-fading into the photo as it is (a smoothstep over the band, from the moved
    outline to the outer ring), in place of the band's squeeze. A dropped chin keeps its shadow at the photo's own
    scale, fading softly over the neck, where the squeezed band packed it into a dark line.

    The cover also reaches over the mesh triangles along that outline, with their own motion, fading out across them:
    stopping at the outline, it left the outline's rasterised steps in the photo where the warp's blurred map and the
    cover's differ (a stepped edge along the chin of FRLL 014 at jawOpen 0.8).

    ``src_px``, ``dst_px``: the mesh's positions as given to :func:`extended_mesh`; ``s_all``, ``d_all``,
    ``f_all``: what it returned (``d_all`` unfolded). Returns None where no band is occluded (or it lies outside
    ``shape``), else the box ``(x0, y0, x1, y1)`` (clipped to ``shape``), the displacement ``(y1 - y0, x1 - x0, 2)``
    float32 (source minus target) of what covers the band, its weight and the photo's own weight there
    (``(y1 - y0, x1 - x0)`` float32, together at most 1; the warp's own map keeps the rest).
    """
    src = valid_points(src_px, name="src_px")
    dst = valid_points(dst_px, name="dst_px")
    layout = _band(src, dst, border, True)
    if not (layout.hide > 0).any():
        return None
    oval = np.asarray(FACE_OVAL)
    # per vertex: the share hidden, where it lies across the band, and how it moves (a ring's: with its outline point)
    share = np.zeros(len(s_all))
    share[oval] = layout.hide
    share[NUM_VERTICES:] = np.tile(layout.hide, _RINGS)
    across = np.zeros(len(s_all))
    across[NUM_VERTICES:] = np.concatenate([layout.ring(k)[2] for k in range(1, _RINGS + 1)])
    motion = d_all - s_all
    motion[NUM_VERTICES:] = np.tile(motion[oval], (_RINGS, 1))
    # the band's triangles beside an occluded outline point and the mesh's along it (their inner vertices 0)
    near = (share[f_all] > 0).any(axis=1)
    tris = f_all[near]
    used, local = np.unique(tris, return_inverse=True)
    tris = local.reshape(-1, 3)
    target = d_all[used]
    # smooth fields: on a large face, rasterised on a coarser grid (one sample per 1/200 of the face width)
    step = int(np.clip(face_width(src) // 200, 1, 8))
    box, ride = backward_map(target - motion[used], target, tris, shape=shape, step=step, blur=0.0)
    if box[2] <= box[0] or box[3] <= box[1]:  # the band lies outside the photo (a chin below a tight crop's edge)
        return None
    code = np.stack([share[used], across[used]], axis=1)
    _, fields = backward_map(target + code, target, tris, shape=shape, step=step, blur=0.0)
    hide = np.clip(fields[..., 0], 0.0, 1.0)
    stays = hide * _smoothstep(np.clip(fields[..., 1], 0.0, 1.0))
    rides = hide - stays
    return box, ride, rides.astype(np.float32), stays.astype(np.float32)


def _mesh_triangles(triangles) -> np.ndarray:
    if triangles is None:
        return canonical_mesh().faces.astype(np.int64)
    faces = np.asarray(triangles)
    if faces.ndim != 2 or faces.shape[1] != 3 or not np.issubdtype(faces.dtype, np.integer):
        raise ParameterError(f"triangles: expected an (F, 3) integer array, got shape {faces.shape} {faces.dtype}")
    if faces.size and (faces.min() < 0 or faces.max() >= NUM_VERTICES):
        raise ParameterError(f"triangles: vertex ids must be in [0, {NUM_VERTICES}), got {faces.min()}..{faces.max()}")
    return faces.astype(np.int64)


def _signed_area(pts: np.ndarray, faces: np.ndarray) -> np.ndarray:
    a, b, c = pts[faces[:, 0]], pts[faces[:, 1]], pts[faces[:, 2]]
    return 0.5 * ((b[:, 0] - a[:, 0]) * (c[:, 1] - a[:, 1]) - (b[:, 1] - a[:, 1]) * (c[:, 0] - a[:, 0]))


def unfold(
    src: np.ndarray,
    dst: np.ndarray,
    faces: np.ndarray,
    *,
    skip=None,
    pinned=None,
    iterations: int = 30,
    relax: int = 40,
) -> np.ndarray:
    """Remove fold-overs: move the vertices of skin triangles that flip orientation until none does.

    First (up to ``relax`` steps) the vertices of every folded triangle take the triangle's mean motion, so it
    moves more like one piece (a translation never folds) and the motion around it is kept: a lower lip that
    drops with the jaw stays open beside mouth corners that drop half as far (damping every folded vertex
    toward no motion cascaded from the corners along the lip and closed the mouth, leaving the chin to drop
    alone). What still folds is then damped toward no motion (``iterations`` steps of 0.7).

    ``skip`` marks triangles allowed to collapse or flip (the eye and mouth openings); ``pinned`` (``(N,)``
    bool) vertices keep their target (default: the fixed outer ring of :func:`extended_mesh`'s points, none
    otherwise). Only triangles the source shows facing the camera, at least :data:`_MIN_FACING` of the median
    area, count as folding: the lips' inner surface at the corners of a closed mouth lies edge-on, and opening
    the mouth turns it toward the camera (not a fold). Returns new ``dst``.
    """
    a_src = _signed_area(src, faces)
    facing = a_src * np.sign(np.median(a_src))
    check = facing > max(_MIN_FACING * float(np.median(np.abs(a_src))), 1e-6)
    if skip is not None:
        check &= ~skip
    dst = dst.copy()
    if pinned is None:
        pinned = np.zeros(len(dst), bool)
        if len(dst) == NUM_VERTICES + _RINGS * len(FACE_OVAL):  # an extended_mesh: its outer ring stays
            pinned[-len(FACE_OVAL) :] = True
    free = ~np.asarray(pinned, bool)
    for it in range(relax + iterations):
        a_dst = _signed_area(dst, faces)
        bad = check & ((np.sign(a_dst) != np.sign(a_src)) | (np.abs(a_dst) < 1e-3 * np.abs(a_src)))
        if not bad.any():
            if it:
                logger.debug("warp: unfolded the target mesh in %d steps", it)
            return dst
        v = np.unique(faces[bad])
        v = v[free[v]]
        motion = dst - src
        if it < relax:
            # each folded triangle moves more like one piece: its vertices take its mean motion; anchor-ring
            # vertices are only damped (the mean would carry them past the fixed outer ring, over the photo)
            tri = faces[bad]
            total = np.zeros_like(motion)
            np.add.at(total, tri.ravel(), np.repeat(motion[tri].mean(1), 3, axis=0))
            hits = np.bincount(tri.ravel(), minlength=len(dst))[v]
            ring = v >= NUM_VERTICES
            dst[v] = np.where(ring[:, None], src[v] + 0.7 * motion[v], src[v] + total[v] / hits[:, None])
        else:
            dst[v] = src[v] + 0.7 * motion[v]
    logger.warning("warp: %d triangles still fold after %d steps", int(bad.sum()), relax + iterations)
    return dst


def unfolded_target(src_px, dst_px) -> np.ndarray:
    """``(468, 2)`` target positions as :func:`warp_face` will use them: the canonical mesh's skin triangles
    unfolded (:func:`unfold`; the eye and mouth openings may collapse). Repaint steps given these paint where
    the warped features are."""
    src = valid_points(src_px, name="src_px")
    dst = valid_points(dst_px, name="dst_px")
    faces = _mesh_triangles(None)
    return unfold(src, dst, faces, skip=_openings(faces, canonical=True))


def _openings(faces: np.ndarray, *, canonical: bool) -> np.ndarray:
    """Which triangles may collapse or flip in :func:`unfold`: the canonical mesh's eye and mouth openings; none of
    another mesh's."""
    skip = np.zeros(len(faces), bool)
    if canonical:
        skip[opening_faces()] = True
    return skip


def _backward_affines(src: np.ndarray, dst: np.ndarray, faces: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-triangle ``(F, 2, 3)`` affine taking target pixels to source pixels, and which are usable."""
    # D (F, 3 verts, 3) has rows (x_k, y_k, 1): its inverse in closed form (adjugate over determinant), which
    # numpy's batched LAPACK inverse took a millisecond and a half to give for the ~1,100 triangles.
    x, y = dst[faces, 0], dst[faces, 1]  # (F, 3)
    x0, x1, x2, y0, y1, y2 = x[:, 0], x[:, 1], x[:, 2], y[:, 0], y[:, 1], y[:, 2]
    adj = np.stack([
        np.stack([y1 - y2, y2 - y0, y0 - y1], axis=1),
        np.stack([x2 - x1, x0 - x2, x1 - x0], axis=1),
        np.stack([x1 * y2 - x2 * y1, x2 * y0 - x0 * y2, x0 * y1 - x1 * y0], axis=1),
    ], axis=1)  # fmt: skip
    det = x0 * (y1 - y2) + x1 * (y2 - y0) + x2 * (y0 - y1)
    ok = np.abs(det) > 1e-6
    inv = np.where(ok[:, None, None], adj / np.where(ok, det, 1.0)[:, None, None], 0.0)
    # src_coords (F, 2, 3) = A (F, 2, 3) @ D^T (F, 3, 3)  ->  A = S^T inv(D^T)
    s = src[faces].transpose(0, 2, 1)
    return s @ inv.transpose(0, 2, 1), ok


def backward_map(
    src: np.ndarray,
    dst: np.ndarray,
    faces: np.ndarray,
    *,
    shape: tuple[int, int],
    order: np.ndarray | None = None,
    outline: np.ndarray | None = None,
    step: int = 1,
    blur: float = 1.0,
) -> tuple[tuple[int, int, int, int], np.ndarray]:
    """Rasterise the piecewise-affine target-to-source displacement over the target triangles.

    ``outline`` ``(K, 2)`` is the target polygon the triangles tile (their convex hull by default): samples
    inside it that no triangle covered (cracks between neighbours) take a neighbour's affine. Returns the box
    ``(x0, y0, x1, y1)`` it covers (clipped to ``shape`` = ``(H, W)``) and the displacement
    ``(y1 - y0, x1 - x0, 2)`` float32 (source minus target, pixels; 0 outside every triangle). Each sample's
    displacement stays within the range of its triangle's vertex motions (``src - dst``), whatever the triangle's
    shape or orientation, so no sample reaches farther than the mesh moves.
    """
    h, w = shape
    lo = np.floor(dst.min(0)).astype(int) - 2
    hi = np.ceil(dst.max(0)).astype(int) + 3
    x0, y0 = max(lo[0], 0), max(lo[1], 0)
    x1, y1 = min(hi[0], w), min(hi[1], h)
    if x1 <= x0 or y1 <= y0:
        return (0, 0, 0, 0), np.zeros((0, 0, 2), np.float32)
    gw, gh = (x1 - x0 + step - 1) // step + 1, (y1 - y0 + step - 1) // step + 1
    aff, ok = _backward_affines(src, dst, faces)
    ids = np.full((gh, gw), -1, np.int32)
    shift = 4
    scale = float(1 << shift) / step
    poly = np.round((dst[faces] - (x0, y0)) * scale).astype(np.int32)  # (F, 3, 2) in 1/16 coarse pixels
    draw = np.arange(len(faces)) if order is None else np.asarray(order)
    draw = draw[ok[draw]]
    for f, tri in zip(draw.tolist(), poly[draw], strict=True):
        cv2.fillPoly(ids, [tri], f, lineType=cv2.LINE_8, shift=shift)
    # fillPoly can leave one-sample cracks between neighbouring triangles: give those a neighbour's triangle.
    if outline is None:
        outline = cv2.convexHull(dst.astype(np.float32))[:, 0]
    cover = np.zeros((gh, gw), np.uint8)
    cv2.fillPoly(cover, [np.round((outline - (x0, y0)) * scale).astype(np.int32)], 1, shift=shift)
    cracks = (ids < 0) & (cover > 0)
    if cracks.any():
        grown = cv2.dilate(ids.astype(np.float32), np.ones((3, 3), np.uint8)).astype(np.int32)
        ids[cracks] = grown[cracks]
    # Per triangle, in float32 planes for one gather: the displacement's affine in box-local coordinates
    # (u, v) = (x - x0, y - y0), and the range of its vertices' target-to-source motion; a last row of zeros for
    # the samples no triangle covers (id -1).
    # Inside a triangle the displacement is a convex mix of its vertices' (any orientation, folded or not), so
    # it lies in that range. Rasterised samples on a triangle's edges (and crack fills) can lie just outside it,
    # where a sliver's or a folded triangle's affine extrapolates without bound (person_02_1 talking, frame 60:
    # the edge-on outline triangle [361, 401, 288] sent a sample by the ear lobe 19 px into the photo): clamp.
    table = np.zeros((10, len(faces) + 1), np.float32)
    a = aff.reshape(-1, 6).T  # a00 a01 a02 a10 a11 a12: source = A @ (x, y, 1)
    table[:6, :-1] = a
    table[0, :-1] -= 1.0
    table[4, :-1] -= 1.0
    table[2, :-1] = a[2] + (a[0] - 1.0) * x0 + a[1] * y0
    table[5, :-1] = a[5] + a[3] * x0 + (a[4] - 1.0) * y0
    m = (src - dst).T  # (2, V) target-to-source motion of the vertices
    p, q, r = m[:, faces[:, 0]], m[:, faces[:, 1]], m[:, faces[:, 2]]
    table[6:8, :-1] = np.minimum(np.minimum(p, q), r)
    table[8:10, :-1] = np.maximum(np.maximum(p, q), r)
    t = np.take(table, ids, axis=1)  # (10, gh, gw)
    u = np.arange(gw, dtype=np.float32)[None, :] * step
    v = np.arange(gh, dtype=np.float32)[:, None] * step
    planes = np.empty((2, gh, gw), np.float32)
    for k in range(2):
        np.multiply(t[3 * k], u, out=planes[k])
        planes[k] += t[3 * k + 1] * v
        planes[k] += t[3 * k + 2]
    np.clip(planes, t[6:8], t[8:10], out=planes)
    disp = cv2.merge([planes[0], planes[1]])
    if blur > 0:
        from .photo_blur import gaussian  # photo_blur imports this module

        disp = gaussian(disp, blur, cv2.BORDER_REPLICATE)
    if step > 1:
        # Coarse sample (i, j) sits at full pixel (x0 + j * step, y0 + i * step): resize with that alignment.
        m = np.float32([[1.0 / step, 0, 0], [0, 1.0 / step, 0]])
        disp = cv2.warpAffine(disp, m, (x1 - x0, y1 - y0), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                              borderMode=cv2.BORDER_REPLICATE)  # fmt: skip
    else:
        disp = disp[: y1 - y0, : x1 - x0]
    return (int(x0), int(y0), int(x1), int(y1)), disp


def warp_face(
    image,
    src_px,
    dst_px,
    *,
    depth=None,
    triangles: np.ndarray | None = None,
    border: float = 0.08,
    smooth: float = 0.006,
    step: int = 1,
    windows: np.ndarray | None = None,
    alpha: np.ndarray | None = None,
) -> WarpResult:
    """Warp a photo so the mesh vertices move from ``src_px`` to ``dst_px``; pixels away from the face stay.

    Parameters
    ----------
    image : array (H, W, 3)
        The photo (anything :func:`facecraft.eval.images.valid_image` accepts).
    src_px, dst_px : array (468, 2)
        Where the canonical mesh vertices are now and where the edit moves them, pixels (x right, y down).
        ``(478, 2|3)`` landmark arrays are accepted and cut to the first 468 x, y.
    depth : array (468,), optional
        Per-vertex distance from the camera (any unit, larger is farther, e.g. ``FaceInfo.landmarks[:, 2]``):
        where target triangles overlap, the nearer one is drawn.
    triangles : int array (F, 3), optional
        Mesh triangles (the canonical mesh's by default).
    border : float
        How far outside the face outline the warp reaches zero, in face widths (farther where the outline
        moves outward). Pixels beyond are unchanged.
    smooth : float
        Gaussian blur of the displacement field in face widths (hides the piecewise-affine creases).
    step : int
        Grid spacing in pixels on which the map is rasterised before being resized (1 = every pixel).
    windows : array (H, W) uint8, optional
        ``k`` in 1..255 inside the ``k``-th window (a glasses lens), 0 around: what is seen through a window stays in
        it and what is around stays around (:func:`keep_to_windows`).
    alpha : array (H, W) uint8, optional
        The photo's transparency (a cut-out): sampled with the photo's own map, blur and border as a fourth
        channel and returned as :attr:`WarpResult.alpha`, so that the silhouette moves with the face.

    Returns
    -------
    WarpResult
        The warped photo (same size, uint8), the changed-region mask and, with ``alpha``, the warped alpha.

    Raises
    ------
    ParameterError
        Bad image, point or depth shapes, or options out of range.
    """
    img = valid_image(image)
    src = valid_points(src_px, name="src_px")
    dst = valid_points(dst_px, name="dst_px")
    z = valid_depth(depth)
    if not 0 < border <= 1:
        raise ParameterError(f"border: expected a fraction of the face width in (0, 1], got {border}")
    if smooth < 0 or not 1 <= int(step) <= 8:
        raise ParameterError(f"smooth must be >= 0 and step in 1..8, got smooth={smooth}, step={step}")
    h, w = img.shape[:2]
    a = valid_alpha(alpha, (h, w))
    mask = np.zeros((h, w), np.float32)
    if np.abs(dst - src).max() < 1e-3:
        return WarpResult(img.copy(), mask, dst if triangles is None else None, None if a is None else a.copy())
    faces = _mesh_triangles(triangles)
    skip = _openings(faces, canonical=triangles is None)
    dst = unfold(src, dst, faces, skip=skip)  # with the canonical mesh: unfolded_target(src, dst)
    s_all, d_all, f_all = extended_mesh(src, dst, border=border, triangles=faces, occlude=True)
    skip = np.concatenate([skip, np.zeros(len(f_all) - len(faces), bool)])
    d_all = unfold(s_all, d_all, f_all, skip=skip)
    # Draw order: triangles that face away in the photo (hidden folds at the silhouette) first, then far to near.
    key = np.where(_signed_area(s_all, f_all) * np.median(_signed_area(s_all, faces)) < 0, 1e12, 0.0)
    if z is not None:
        # Ring vertices take the depth of the outline vertex they grew from (the band lies behind the face).
        z_all = np.concatenate([z, np.tile(z[np.asarray(FACE_OVAL)], _RINGS)])
        key = key + z_all[f_all].mean(1)
    order = np.argsort(-key, kind="stable")
    blur = smooth * face_width(src) / step
    (x0, y0, x1, y1), disp = backward_map(
        s_all, d_all, f_all, shape=(h, w), order=order, step=step, blur=blur, outline=d_all[-len(FACE_OVAL) :]
    )
    if windows is not None and x1 > x0 and y1 > y0:
        disp = keep_to_windows(disp, windows, (x0, y0, x1, y1))
    # A cut-out's alpha rides along as a fourth channel: the same samples, blur and border as its colour.
    source = img if a is None else np.dstack([img, a])
    out = source.copy()
    if x1 > x0 and y1 > y0:
        gx, gy = np.meshgrid(np.arange(x0, x1, dtype=np.float32), np.arange(y0, y1, dtype=np.float32))
        mx, my = gx + disp[..., 0], gy + disp[..., 1]
        moved = cv2.remap(source, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT_101)
        moved = _antialias(source, moved, mx, my, disp)
        mag = np.sqrt(disp[..., 0] ** 2 + disp[..., 1] ** 2)
        fade = band_fade(src, dst, s_all, d_all, f_all, border=border, shape=(h, w))
        if fade is not None:
            # the band where the outline moves out far: what lies under the outline, fading into the photo as it is
            (fx0, fy0, fx1, fy1), ride, rides, stays = fade
            inner = (slice(fy0 - y0, fy1 - y0), slice(fx0 - x0, fx1 - x0))
            rx, ry = gx[inner] + ride[..., 0], gy[inner] + ride[..., 1]
            over = cv2.remap(source, rx, ry, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT_101)
            moved[inner] = cover_band(moved[inner], source[fy0:fy1, fx0:fx1], over, rides, stays)
            mag[inner] = np.maximum(mag[inner], rides * np.hypot(ride[..., 0], ride[..., 1]))
        changed = mag > 0.02
        # OpenCV's masked copy, into a contiguous copy of the box: numpy's copyto with a mask broadcast over the
        # channels took 30 ms on a phone photo's face box, this one 1
        box = np.ascontiguousarray(out[y0:y1, x0:x1])
        cv2.copyTo(moved, changed.view(np.uint8), box)
        out[y0:y1, x0:x1] = box
        mask[y0:y1, x0:x1] = np.where(changed, np.clip(mag / 0.5, 0.0, 1.0), 0.0)
    if a is None:
        return WarpResult(out, mask, dst if triangles is None else None)
    return WarpResult(np.ascontiguousarray(out[..., :3]), mask, dst if triangles is None else None, out[..., 3].copy())


def valid_alpha(alpha, shape: tuple[int, int]) -> np.ndarray | None:
    """A photo's transparency as ``(H, W)`` uint8 checked against its ``shape`` ``(H, W)`` (None: opaque)."""
    if alpha is None:
        return None
    a = np.asarray(alpha)
    if a.shape != tuple(shape) or a.dtype != np.uint8:
        raise ParameterError(f"alpha: expected a {shape} uint8 transparency, got {a.shape} {a.dtype}")
    return a


def keep_to_windows(disp: np.ndarray, windows: np.ndarray, box: tuple[int, int, int, int]) -> np.ndarray:
    """The displacement ``disp`` (source minus target, ``(y1 - y0, x1 - x0, 2)`` over ``box``) with no pixel taking
    its colour across a window's edge (:func:`keep_apart`): the face moves fully, but what is seen through a lens
    stays in it (a lid raised past a rim goes behind the rim, not over it) and skin around stays around."""
    x0, y0, x1, y1 = box
    labels = np.asarray(windows)[y0:y1, x0:x1]
    if not labels.any():
        return disp
    gy, gx = np.mgrid[0 : y1 - y0, 0 : x1 - x0].astype(np.float32)
    mx, my = keep_apart(labels, gx + disp[..., 0], gy + disp[..., 1])
    return np.stack([mx - gx, my - gy], axis=-1).astype(np.float32)


def keep_apart(labels: np.ndarray, mx: np.ndarray, my: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A backward map ``(mx, my)`` (each pixel's source, in ``labels``' coordinates) that takes no colour across
    labels: where a pixel would take it from a pixel of another label, it takes the nearest pixel of its own label to
    that source instead."""
    h, w = labels.shape
    sx = np.clip(np.rint(mx).astype(np.int64), 0, w - 1)
    sy = np.clip(np.rint(my).astype(np.int64), 0, h - 1)
    crossed = labels[sy, sx] != labels
    if not crossed.any():
        return mx, my
    mx, my = mx.copy(), my.copy()
    for label in np.unique(labels[crossed]):
        at = crossed & (labels == label)
        ys, xs = np.nonzero(labels == label)
        _, nearest = cv2.distanceTransformWithLabels((labels != label).astype(np.uint8), cv2.DIST_L2, 5,
                                                     labelType=cv2.DIST_LABEL_PIXEL)  # fmt: skip
        index = nearest[sy[at], sx[at]] - 1  # the label's pixels are numbered in raster order, from 1
        mx[at], my[at] = xs[index], ys[index]
    return mx, my


def _antialias(img: np.ndarray, moved: np.ndarray, mx: np.ndarray, my: np.ndarray, disp: np.ndarray) -> np.ndarray:
    """Where the map squeezes the photo (several source pixels per target pixel), sample a blurred copy (``moved``,
    the sharp samples, is mixed in place and returned).

    Bilinear sampling of a strongly compressed band (the neck under a dropping chin) skips source pixels and
    turns smooth edges into stairs; a pre-blurred source, mixed in by the local compression, avoids that.
    Only the box around the squeezed pixels is blurred, sampled and mixed (elsewhere the mix is ``moved`` itself):
    on a phone photo the squeezed band is a strip of the face's box.
    """
    weight = squeeze_weight(disp)
    rows, cols = np.flatnonzero(weight.any(axis=1)), np.flatnonzero(weight.any(axis=0))
    if not len(rows):
        return moved
    r0, r1, c0, c1 = rows[0], rows[-1] + 1, cols[0], cols[-1] + 1
    weight, mx, my = weight[r0:r1, c0:c1], mx[r0:r1, c0:c1], my[r0:r1, c0:c1]
    # the source box around what those pixels sample, 8 px wider than the blur reaches: blurred as the whole photo is
    x0, y0 = int(max(mx.min() - 8, 0)), int(max(my.min() - 8, 0))
    x1, y1 = int(min(mx.max() + 9, img.shape[1])), int(min(my.max() + 9, img.shape[0]))
    soft = cv2.GaussianBlur(img[y0:y1, x0:x1], (0, 0), SQUEEZE_BLUR)
    soft = cv2.remap(soft, mx - x0, my - y0, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT_101)
    w = weight[..., None]
    moved[r0:r1, c0:c1] = np.clip(moved[r0:r1, c0:c1] * (1 - w) + soft * w + 0.5, 0, 255).astype(np.uint8)
    return moved


_HALF_STEP = np.array([[-0.5, 0.0, 0.5]], np.float32)


def squeeze_weight(disp: np.ndarray) -> np.ndarray:
    """How much of a pre-blurred photo to sample where a backward map squeezes it: 0 up to 1.5 source pixels per
    target pixel, 1 from 3.5. ``disp``: ``(H, W, 2)`` float32 source-minus-target displacement; returns ``(H, W)``
    float32. Its derivatives are central differences (``np.gradient``'s inside; half steps at the border, where the
    warp's field is 0), by two filters over both channels at once."""
    along_x = cv2.filter2D(disp, -1, _HALF_STEP, borderType=cv2.BORDER_REPLICATE)
    along_y = cv2.filter2D(disp, -1, _HALF_STEP.T, borderType=cv2.BORDER_REPLICATE)
    squeeze = np.abs((1 + along_x[..., 0]) * (1 + along_y[..., 1]) - along_y[..., 0] * along_x[..., 1])
    return np.clip((squeeze - 1.5) / 2.0, 0.0, 1.0)


def warp_face_skimage(image, src_px, dst_px, *, border: float = 0.08) -> WarpResult:
    """The same warp through scikit-image's ``PiecewiseAffineTransform`` (the speed baseline, no depth order).

    scikit-image triangulates the anchor points itself (Delaunay over the target positions), so pixels next to
    the openings can differ from :func:`warp_face`; outside the outer ring both leave the photo as it is.
    """
    from skimage.transform import PiecewiseAffineTransform, warp

    img = valid_image(image)
    src = valid_points(src_px, name="src_px")
    dst = valid_points(dst_px, name="dst_px")
    s_all, d_all, _ = extended_mesh(src, dst, border=border)
    h, w = img.shape[:2]
    corners = np.array([[0, 0], [w - 1, 0], [0, h - 1], [w - 1, h - 1]], np.float64)
    # warp() wants the map from output (target) coordinates to input (source) coordinates.
    pairs = np.concatenate([d_all, corners]), np.concatenate([s_all, corners])
    if hasattr(PiecewiseAffineTransform, "from_estimate"):  # scikit-image >= 0.26
        tform = PiecewiseAffineTransform.from_estimate(*pairs)
    else:
        tform = PiecewiseAffineTransform()
        tform.estimate(*pairs)
    out = warp(img, tform, output_shape=(h, w), order=1, mode="edge", preserve_range=True)
    out = np.clip(np.round(out), 0, 255).astype(np.uint8)
    diff = np.abs(out.astype(np.int16) - img).max(2)
    return WarpResult(out, (diff > 0).astype(np.float32))


def demo_targets(src_px, controls: dict[str, float]) -> np.ndarray:
    """Target pixel positions for demos, tests and benchmarks, without the rig fit.

    The default rig's offsets for ``controls`` (``{ARKit name: weight}``) are carried into the photo by the
    2D similarity (scale, rotation, shift) that best maps the rig's neutral vertices (front view, y flipped)
    onto ``src_px``. Good for frontal faces only; the editor uses the fitted camera instead.

    Returns
    -------
    float64 (468, 2)
    """
    import torch

    from facecraft.rigs.default_rig import default_rig

    src = valid_points(src_px, name="src_px")
    rig = default_rig()
    with torch.no_grad():
        neutral = rig.neutral.numpy().astype(np.float64)
        moved = rig(rig.weights_from_dict(controls)).vertices.numpy().astype(np.float64)
    from facecraft.eval.face_geometry import similarity_fit

    flat = np.zeros((len(src), 1))
    front = np.concatenate([neutral[:, :2] * (1.0, -1.0), flat], axis=1)  # front view, y down like pixels
    scale, rot, _ = similarity_fit(front, np.concatenate([src, flat], axis=1))
    offset = np.concatenate([(moved - neutral)[:, :2] * (1.0, -1.0), flat], axis=1)
    return src + (scale * offset @ rot.T)[:, :2]


def bench_warp(out_dir: Path | None = None, *, runs: int = 20) -> dict[str, object]:
    """Median milliseconds of the image side of an edit vs scikit-image's piecewise-affine warp, one thread.

    Two photos: skimage's astronaut as shipped (512 x 512, face ~90 px wide) and its face cropped and scaled to
    fill a 512 x 512 frame (face ~290 px wide, the issue's "512x512 face"). The target is the default rig's
    ``jawOpen`` 0.8 + ``mouthSmile`` 0.5 + ``eyeBlinkLeft`` 1.0 carried into the photo by :func:`demo_targets`.
    Timed: :func:`warp_face` alone, the full image side (warp + mouth interior + lids), and
    :func:`warp_face_skimage`. OpenCV runs on one thread for the run (restored after). ``out_dir``, when given,
    receives ``warp_<photo>.png`` (before | ours | scikit-image).
    """
    from facecraft.eval.faces import default_analyzer
    from facecraft.eval.images import load_image
    from facecraft.rigs.assets import resolve_asset

    from .lids import close_lids
    from .mouth import paint_mouth_interior

    img = load_image(resolve_asset("astronaut"))
    face = default_analyzer().largest_face(img, name="astronaut")
    src = face.landmarks[:NUM_VERTICES, :2].astype(np.float64)
    depth = face.landmarks[:NUM_VERTICES, 2].astype(np.float64)
    centre, side = src.mean(0), 1.8 * face_width(src)
    x0, y0 = np.round(centre - side / 2).astype(int)
    k = 512 / side
    crop = cv2.resize(img[y0 : y0 + int(side), x0 : x0 + int(side)], (512, 512), interpolation=cv2.INTER_CUBIC)
    photos = {"astronaut": (img, src, depth), "astronaut_face_512": (crop, (src - (x0, y0)) * k, depth * k)}
    controls = {"jawOpen": 0.8, "mouthSmileLeft": 0.5, "mouthSmileRight": 0.5, "eyeBlinkLeft": 1.0}

    def timed(fn, n):
        ms, res = [], None
        for _ in range(n):
            t = time.perf_counter()
            res = fn()
            ms.append((time.perf_counter() - t) * 1e3)
        return statistics.median(ms), res

    def full(im, s, d, z):
        w = warp_face(im, s, d, depth=z)
        return close_lids(paint_mouth_interior(w, im, s, d, depth=z), im, s, d)

    report: dict[str, object] = {"threads": 1, "runs": runs, "controls": controls}
    threads = cv2.getNumThreads()
    cv2.setNumThreads(1)
    try:
        for name, (im, s, z) in photos.items():
            d = demo_targets(s, controls)
            full(im, s, d, z)  # warm caches (mesh, opening faces, rig)
            warp_ms, ours = timed(lambda im=im, s=s, d=d, z=z: warp_face(im, s, d, depth=z), runs)
            edit_ms, _ = timed(lambda im=im, s=s, d=d, z=z: full(im, s, d, z), runs)
            base_ms, base = timed(lambda im=im, s=s, d=d: warp_face_skimage(im, s, d), max(3, runs // 5))
            fw = face_width(s)
            hull = cv2.convexHull(np.round(np.concatenate([s, d])).astype(np.int32))
            far = np.ones(im.shape[:2], np.uint8)
            cv2.fillPoly(far, [hull[:, 0]], 0)
            far = cv2.distanceTransform(far, cv2.DIST_L2, 5) > 0.1 * fw
            report[name] = {
                "size": list(im.shape[:2]),
                "face_width_px": round(fw, 1),
                "warp_ms_median": round(warp_ms, 2),
                "warp_mouth_lids_ms_median": round(edit_ms, 2),
                "skimage_piecewise_affine_ms_median": round(base_ms, 2),
                "speedup_warp_vs_skimage": round(base_ms / max(warp_ms, 1e-9), 1),
                "max_change_outside_10pct_hull": int(np.abs(ours.image.astype(np.int16) - im)[far].max(initial=0)),
                "mean_abs_diff_vs_skimage": round(float(np.abs(ours.image.astype(np.int16) - base.image).mean()), 3),
            }
            if out_dir is not None:
                Path(out_dir).mkdir(parents=True, exist_ok=True)
                sheet = np.hstack([im, full(im, s, d, z).image, base.image])
                cv2.imwrite(str(Path(out_dir) / f"warp_{name}.png"), sheet[..., ::-1])
    finally:
        cv2.setNumThreads(threads)
    logger.info("bench warp: %s", report)
    return report
