"""Metric 3D face geometry from MediaPipe's screen landmarks: the Face Landmarker's own camera, in NumPy.

The Face Landmarker's geometry stage assumes a pinhole camera with a 63 degree vertical field of view,
its principal point at the image centre (:class:`PerspectiveCamera`), and places the face in front of it
by fitting the canonical face mesh (centimetres) to the landmarks. It reports only the resulting 4x4
*facial transformation matrix* (canonical face -> camera space, centimetres), not the metric landmarks it
computed on the way. :func:`metric_geometry` redoes those steps so the landmarks themselves come out in
metres: the screen points are lifted to the near plane, their relative depth is rescaled by the face's
apparent size (two rounds of a weighted similarity fit to the canonical mesh on MediaPipe's Procrustes
points, as MediaPipe does), and back-projected. The matrix found this way equals the Landmarker's own to
about 1e-4 (checked in ``tests/eval/test_faces.py``).

Frames (both right-handed, metres, Y up, +Z toward the viewer: DESIGN.md's geometry convention):

- *camera*: origin at the camera's centre, X to the image's right, the face in front at negative Z
  (OpenGL's camera frame). :meth:`PerspectiveCamera.project` maps it to pixels.
- *face*: the canonical mesh's own frame, that of the default rig: X toward the subject's left, Y up, Z out
  of the face, origin near the middle of the head. Identity and expression stay; head pose and distance are
  removed. The matrix maps it into the camera frame.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from facecraft.rigs.errors import ParameterError

#: The Face Landmarker's virtual camera: vertical field of view (degrees) and near plane (centimetres).
VERTICAL_FOV_DEG = 63.0
NEAR_CM = 1.0
#: The canonical mesh and MediaPipe's transformation matrix are in centimetres; facecraft's geometry in metres.
CM_PER_M = 100.0


@dataclass(frozen=True)
class PerspectiveCamera:
    """The pinhole camera MediaPipe's face geometry assumes for an image of ``width`` x ``height`` pixels.

    Attributes
    ----------
    width, height : int
        Image size in pixels.
    vertical_fov_deg : float
        Vertical field of view (MediaPipe: 63 degrees, whatever the real lens was).
    """

    width: int
    height: int
    vertical_fov_deg: float = VERTICAL_FOV_DEG

    @property
    def focal_px(self) -> float:
        """Focal length in pixels (square pixels; ``0.8157 * height`` at 63 degrees)."""
        return 0.5 * self.height / float(np.tan(np.radians(0.5 * self.vertical_fov_deg)))

    @property
    def matrix(self) -> np.ndarray:
        """``(3, 3)`` intrinsics ``K`` for image axes (x right, y down) and depth ``-Z``."""
        f = self.focal_px
        return np.array([[f, 0.0, 0.5 * self.width], [0.0, f, 0.5 * self.height], [0.0, 0.0, 1.0]])

    def project(self, points) -> np.ndarray:
        """Camera-frame points ``(N, 3)`` in metres (in front: ``Z < 0``) -> pixels ``(N, 2)`` float64.

        ``x = cx + f X / -Z``, ``y = cy - f Y / -Z``.
        """
        p = np.asarray(points, dtype=np.float64)
        if p.ndim != 2 or p.shape[1] != 3:
            raise ParameterError(f"points: expected shape (N, 3), got {p.shape}")
        depth = -p[:, 2]
        if np.any(depth <= 0):
            raise ParameterError("points: expected every point in front of the camera (Z < 0)")
        f = self.focal_px
        return np.stack([0.5 * self.width + f * p[:, 0] / depth, 0.5 * self.height - f * p[:, 1] / depth], axis=1)


def similarity_fit(source, target, weights=None) -> tuple[float, np.ndarray, np.ndarray]:
    """Scale, rotation and translation minimising ``sum_i w_i |s R p_i + t - y_i|^2`` (weighted Umeyama).

    Parameters
    ----------
    source, target : array-like ``(N, 3)``
        Corresponding points ``p_i`` and ``y_i``.
    weights : array-like ``(N,)``, optional
        Non-negative weights (default ones); at least three points must have weight.

    Returns
    -------
    scale : float
    rotation : np.ndarray ``(3, 3)``
        A proper rotation (determinant +1).
    translation : np.ndarray ``(3,)``
    """
    p = np.asarray(source, dtype=np.float64)
    y = np.asarray(target, dtype=np.float64)
    if p.ndim != 2 or p.shape[1] != 3 or y.shape != p.shape:
        raise ParameterError(f"source and target: expected two (N, 3) arrays, got {p.shape} and {y.shape}")
    w = np.ones(len(p)) if weights is None else np.asarray(weights, dtype=np.float64)
    if w.shape != (len(p),) or np.any(w < 0) or np.count_nonzero(w) < 3:
        raise ParameterError(f"weights: expected ({len(p)},) non-negative with >= 3 non-zero, got shape {w.shape}")
    w = w / w.sum()
    mean_p, mean_y = w @ p, w @ y
    pc, yc = p - mean_p, y - mean_y
    u, sv, vt = np.linalg.svd((yc * w[:, None]).T @ pc)
    d = np.array([1.0, 1.0, np.sign(np.linalg.det(u @ vt)) or 1.0])
    rotation = (u * d) @ vt
    var = float(w @ (pc**2).sum(axis=1))
    scale = float((sv * d).sum() / var) if var > 0 else 0.0
    return scale, rotation, mean_y - scale * rotation @ mean_p


@functools.lru_cache(maxsize=1)
def _canonical_cm() -> tuple[np.ndarray, np.ndarray]:
    """Canonical mesh vertices ``(468, 3)`` in centimetres and MediaPipe's Procrustes weights ``(468,)``."""
    from facecraft.rigs.mediapipe_mesh import canonical_mesh

    mesh = canonical_mesh()
    weights = np.zeros(len(mesh.vertices))
    weights[mesh.procrustes_ids] = mesh.procrustes_weights
    return mesh.vertices.astype(np.float64) * CM_PER_M, weights


@dataclass(frozen=True)
class MetricGeometry:
    """Landmarks of one face in metres (see the module docstring for the two frames).

    Attributes
    ----------
    camera_points : np.ndarray
        ``(N, 3)`` float64 metres, camera frame; ``camera.project(camera_points)`` gives the pixel landmarks.
    face_points : np.ndarray
        ``(N, 3)`` float64 metres, face frame (the default rig's); ``transform`` maps them to ``camera_points``.
    transform : np.ndarray
        ``(4, 4)`` float64 similarity, face frame (cm) -> camera frame (cm): MediaPipe's convention.
    camera : PerspectiveCamera
    """

    camera_points: np.ndarray
    face_points: np.ndarray
    transform: np.ndarray
    camera: PerspectiveCamera


def _similarity_matrix(scale: float, rotation: np.ndarray, translation: np.ndarray) -> np.ndarray:
    m = np.eye(4)
    m[:3, :3] = scale * rotation
    m[:3, 3] = translation
    return m


def metric_geometry(landmarks, *, width: int, height: int, transform=None) -> MetricGeometry:
    """Metric landmarks of one face from MediaPipe's screen landmarks, as the Face Landmarker computes them.

    Parameters
    ----------
    landmarks : array-like ``(N, 3)``
        Pixels: x, y in the image and z, MediaPipe's relative depth on the same scale as x (larger is
        farther). The first 468 are the canonical mesh's vertices (the pose fit uses those); any more (the
        10 iris points) are converted alongside.
    width, height : int
        Size of the image the pixels refer to.
    transform : array-like ``(4, 4)``, optional
        The facial transformation matrix to use for the face frame (e.g. the Landmarker's own); default the
        one this function fits, which agrees with it to about 1e-4.

    Returns
    -------
    MetricGeometry
    """
    lm = np.asarray(landmarks, dtype=np.float64)
    can, weights = _canonical_cm()
    if lm.ndim != 2 or lm.shape[1] != 3 or len(lm) < len(can) or not np.all(np.isfinite(lm)):
        raise ParameterError(f"landmarks: expected a finite (N >= {len(can)}, 3) array, got shape {lm.shape}")
    if width < 1 or height < 1:
        raise ParameterError(f"width, height: expected positive image sizes, got {width} x {height}")
    camera = PerspectiveCamera(int(width), int(height))
    f = camera.focal_px
    # screen points on the near plane (cm): x right, y up, z as MediaPipe's (larger is farther)
    near = np.stack([lm[:, 0] - 0.5 * width, 0.5 * height - lm[:, 1], lm[:, 2]], axis=1) * (NEAR_CM / f)
    depth_offset = near[: len(can), 2].mean()

    def lift(scale: float) -> np.ndarray:
        depth = (near[:, 2] - depth_offset + NEAR_CM) / scale  # cm in front of the camera
        return np.stack([near[:, 0] * depth / NEAR_CM, near[:, 1] * depth / NEAR_CM, -depth], axis=1)

    # Two rounds: the apparent size gives a first depth, the perspective it implies refines it.
    first = similarity_fit(can, near[: len(can)] * [1.0, 1.0, -1.0], weights)[0]
    second = similarity_fit(can, lift(first)[: len(can)], weights)[0]
    camera_cm = lift(first * second)
    if transform is None:
        transform = _similarity_matrix(*similarity_fit(can, camera_cm[: len(can)], weights))
    transform = np.asarray(transform, dtype=np.float64)
    if transform.shape != (4, 4) or not np.all(np.isfinite(transform)):
        raise ParameterError(f"transform: expected a finite (4, 4) matrix, got shape {transform.shape}")
    inverse = np.linalg.inv(transform)
    face_cm = camera_cm @ inverse[:3, :3].T + inverse[:3, 3]
    return MetricGeometry(camera_cm / CM_PER_M, face_cm / CM_PER_M, transform, camera)
