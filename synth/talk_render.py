"""Per-frame rendering of a talking portrait: the still editor's warp, with everything per photo done once.

A talking portrait renders the same photo hundreds of times with small changes, so this module splits the
editor's image side (:func:`facecraft.synth.warp.warp_face`, :func:`~facecraft.synth.mouth.paint_mouth_interior`,
:func:`~facecraft.synth.lids.close_lids`) into what depends on the photo alone, computed once by
:class:`PortraitRenderer`, and what each frame must redo:

* **once per photo**: the rig's image-space motion per unit of each of the 52 weights (the fitted camera is
  linear, so a frame's vertex positions are one ``(52,) @ (52, 936)`` product), the mesh triangles and
  which may collapse, the triangle draw order (it depends on source geometry and depth only), a blurred copy
  of the photo for anti-aliasing, and the head region: pixel grids and a feathered weight that is 1 on the
  head and hair and falls to 0 on the shoulders and background, and at the image's edge (a tight crop);
* **per frame**: the target mesh (unfolded, with the anchor rings of :func:`~facecraft.synth.warp.extended_mesh`),
  the piecewise-affine backward map on a grid ``step`` pixels apart
  (:func:`~facecraft.synth.warp.backward_map`), composed with the head's small similarity motion so the photo
  is resampled once, then the mouth interior and the lids painted at the moved positions, and on a seal
  the lips repainted pressed together (:func:`~facecraft.synth.mouth_seal.seal_mouth`);
* **per gaze**: where the frame's gaze (``eyeLook*``) differs from the photo's, the eyeballs turned in the photo before
  the warp (:func:`facecraft.synth.gaze.turn_eyes`, as the still editor turns them), kept for the next frames: the
  eyes hold a fixation over many frames, and each of them shows the same turned eyes (no flicker of the iris).

Without head motion a frame equals the still warp of the same targets up to the grid step (the still editor
uses ``step=1``); pixels outside the head region and the warp's reach are the photo's, bit for bit.
"""

from __future__ import annotations

import functools
import logging
from collections import OrderedDict
from dataclasses import dataclass

import cv2
import numpy as np

from facecraft.eval.faces import to_grey as luma
from facecraft.rigs import NUM_ARKIT
from facecraft.rigs.default_rig import FACE_OVAL
from facecraft.rigs.errors import ParameterError

from .creases import paint_creases
from .editor import drag_corner_skin, soften_folds
from .fit import NUM_MESH_POINTS, RigFit
from .gaze import GAZE, gaze_after, turn_eyes
from .glasses_frame import (
    FrameLayer,
    frame_layer,
    glasses_in_front,
    lay_on,
    lenses,
    seen_through_lenses,
    take_out_frame,
)
from .lids import EYES, close_lids
from .mouth import paint_mouth_interior
from .mouth_seal import SEAL_RAMP, clear_corner_shadows, lip_sides, seal_lips, seal_mouth
from .mouth_shapes import SPEECH_FUNNEL_MOST, funnel_amount, funnel_motion, speech_funnel_amount
from .photo_look import PhotoLook
from .warp import (
    _RINGS,
    SQUEEZE_BLUR,
    WarpResult,
    _openings,
    _signed_area,
    backward_map,
    band_fade,
    cover_band,
    extended_mesh,
    face_width,
    keep_to_windows,
    squeeze_weight,
    unfold,
)

logger = logging.getLogger(__name__)

BORDER = 0.08  # anchor band of the face warp, face widths (warp_face's default)
SMOOTH = 0.006  # blur of the displacement field, face widths (warp_face's default)
STEP = 2  # grid step of the backward map, pixels (the still editor uses 1)
_CHANGED = 0.02  # displacement (px) below which a pixel keeps the photo's value
# The head region, in face widths around the face centre: fully moving inside the inner ellipse (half axes),
# still outside the outer one. Tall enough for hair above the brows; the neck below the chin bends.
_HEAD_INNER = (0.75, 0.95)
_HEAD_OUTER = (1.35, 1.6)
_HEAD_RAISE = 0.15  # ellipse centre above the landmarks' centre, face widths (hair)
# The image's edge stays still: the head weight falls to 0 over this band inside it, face widths (as the motion's
# amplitudes are, so the band's stretch is the same on every photo). Without it a tight crop (a 200 px UTKFace chip,
# the face 0.86 of the frame) lay wholly inside the head region and the whole picture swayed with the head, the
# edge's background and shoulders too, with mirrored pixels drawn in at the edge.
_EDGE = 0.12
_TURNS_KEPT = 2  # turned eyes kept for the next frames (a fixation, and the one a saccade comes back to)


@dataclass(frozen=True)
class _Eyes:
    """The photo with its eyeballs turned for one gaze (:func:`~facecraft.synth.gaze.turn_eyes`): the ``image``, what
    the warp moves (``source``: the image without its glasses frame, :attr:`PortraitRenderer.source`) and its blurred
    copy ``soft`` for squeezed regions, the moved iris landmarks ``iris``, the ``look`` of the turned photo that the
    lids' painter reads (the photo's blur kept), and the ``mask`` of the repainted pixels."""

    image: np.ndarray
    source: np.ndarray
    soft: np.ndarray
    iris: np.ndarray
    look: PhotoLook
    mask: np.ndarray


@dataclass(frozen=True)
class HeadMotion:
    """A small 2D similarity of the head about ``pivot``: rotation (degrees, positive turns the image
    counter-clockwise as seen), uniform scale and shift (pixels). The identity is ``HeadMotion()``."""

    angle_deg: float = 0.0
    scale: float = 1.0
    shift: tuple[float, float] = (0.0, 0.0)

    @property
    def is_identity(self) -> bool:
        return abs(self.angle_deg) < 1e-4 and abs(self.scale - 1.0) < 1e-5 and max(map(abs, self.shift)) < 1e-3

    def matrix(self, pivot: np.ndarray) -> np.ndarray:
        """``(2, 3)`` forward affine (source pixel -> moved pixel)."""
        a = np.deg2rad(self.angle_deg)
        c, s = self.scale * np.cos(a), self.scale * np.sin(a)
        lin = np.array([[c, s], [-s, c]])  # image y points down: positive angle turns counter-clockwise on screen
        off = np.asarray(pivot, np.float64) - lin @ pivot + np.asarray(self.shift, np.float64)
        return np.concatenate([lin, off[:, None]], axis=1)


def is_grey(image: np.ndarray) -> bool:
    """Whether an RGB image ``(H, W, 3)`` is a grey picture: its three channels equal, as
    :func:`facecraft.eval.images.load_image` gives a grey file."""
    a = np.asarray(image)
    return bool(np.array_equal(a[..., 0], a[..., 1]) and np.array_equal(a[..., 1], a[..., 2]))


def to_grey(image: np.ndarray) -> np.ndarray:
    """An RGB image ``(H, W, 3)`` uint8 as grey in three equal channels (:func:`facecraft.eval.faces.to_grey`'s luma,
    as Pillow's ``"L"``, which writes a grey photo's still edits: :func:`facecraft.eval.images.save_image`)."""
    return np.repeat(luma(image)[..., None], 3, axis=2)


class PortraitRenderer:
    """Everything per photo that a frame needs; :meth:`render` makes one frame.

    Parameters
    ----------
    image : np.ndarray
        ``(H, W, 3)`` uint8 RGB, the photo as it will be shown (already framed).
    landmarks : np.ndarray
        ``(478, 3)`` or ``(468, 3)`` MediaPipe landmarks of the face in ``image`` (pixels; z in pixels, larger
        farther).
    fit : RigFit
        The rig fitted to those landmarks.
    step : int
        Grid step of the backward map in pixels (1 = the still editor's exact map).
    with_mask : bool
        Compute the mask of moved pixels (otherwise :meth:`render`'s mask holds only the repainted mouth and
        lids).
    keep_glasses : bool
        Keep the frame of the glasses the face wears straight on the face: the face moves fully behind it, the frame
        moves with the head only (:mod:`facecraft.synth.glasses_frame`).
    motion_fit : RigFit, optional
        The rig whose motion per unit of each weight the frames take (default ``fit``): a still emotion's portrait
        takes the unedited photo's (:class:`~facecraft.synth.talk_portrait.TalkingPortrait`).
    grey : bool, optional
        Render grey frames (default: where ``image`` is grey, :func:`is_grey`). The mouth interior and the lids are
        painted in colour (teeth, gums, tongue): on a grey photo they showed cream teeth in a red mouth.
    gaze : array (52,), optional
        The ARKit weights the face shows (MediaPipe's scores): a frame whose change moves the gaze channels
        (``eyeLook*``) turns the eyeballs from this gaze (:func:`facecraft.synth.gaze.turn_eyes`), as the still
        editor does. Without it (or without MediaPipe's iris points) the iris stays where the photo has it.
    speech : bool
        The frames' changes are speech curves driving the rig's own weights (a talking portrait's ``mapping="rig"``):
        a funnel is read on speech's scale (:func:`~facecraft.synth.mouth_shapes.speech_funnel_amount`), where a
        speech "oo" is a rounded "O" (half of a full one), rather than on the still editor's
        (:func:`~facecraft.synth.mouth_shapes.funnel_amount`), where it is a twentieth of one.
    """

    def __init__(
        self,
        image: np.ndarray,
        landmarks: np.ndarray,
        fit: RigFit,
        *,
        step: int = STEP,
        with_mask: bool = False,
        keep_glasses: bool = False,
        grey: bool | None = None,
        motion_fit: RigFit | None = None,
        gaze: np.ndarray | None = None,
        speech: bool = False,
    ) -> None:
        if not 1 <= int(step) <= 4:
            raise ParameterError(f"step: expected a grid step of 1..4 pixels, got {step}")
        self.grey = is_grey(image) if grey is None else bool(grey)
        self.image = to_grey(image) if self.grey else np.ascontiguousarray(image)
        self.fit = fit
        self.step = int(step)
        self.with_mask = bool(with_mask)
        self.funnel = speech_funnel_amount if speech else funnel_amount  # rig change -> (its funnel part, amount)
        lm = np.asarray(landmarks, np.float64)
        self.src = lm[:NUM_MESH_POINTS, :2].copy()
        self.depth = lm[:NUM_MESH_POINTS, 2].copy()
        self.face_width = face_width(self.src)
        # MediaPipe's iris points, where given: a raised lid uncovers the iris as that disc (without them the lids
        # painted the uncovered eyeball as white only, a grey film over the iris of a widened or fearful eye)
        self.iris = lm[:, :2].copy() if len(lm) == NUM_MESH_POINTS + 10 else None
        self.look = PhotoLook(self.image, self.src)  # the photo's blur and colours, for the mouth, lids and lips
        # The face moves behind a glasses frame, as in a still edit: the warp moves the photo without the frame (filled
        # once from the skin around it), what is seen through a lens stays in it (``windows``: the lenses), and
        # the photo's frame is laid back on top of each frame, moved with the head only
        self.frame = glasses_in_front(self.look) if keep_glasses else None
        self.windows = None if self.frame is None else lenses(self.frame)
        self.source = self.image if self.frame is None else take_out_frame(self.image, self.frame)
        self.layer = None if self.frame is None else frame_layer(self.image, self.frame)
        if self.layer is not None:  # the lenses in the layer's box: the lids are painted there only
            x0, y0, x1, y1 = self.layer.box
            self._layer_lenses = (self.windows[y0:y1, x0:x1] > 0).astype(np.uint8)
        self.lip_sides = lip_sides(self.src)
        # Image motion of every vertex per unit of each rig weight (the projection is linear in the weights).
        eye = np.eye(NUM_ARKIT)
        moves = fit if motion_fit is None else motion_fit
        rest = moves.project(moves.vertices())
        self.basis = (moves.project(moves.vertices(moves.weights[None, :] + eye)) - rest[None]).reshape(NUM_ARKIT, -1)
        from facecraft.rigs.mediapipe_mesh import canonical_mesh

        self.faces = canonical_mesh().faces.astype(np.int64)
        self.skip = _openings(self.faces, canonical=True)
        s_all, _, f_all = extended_mesh(self.src, self.src, border=BORDER, triangles=self.faces)
        self.skip_all = np.concatenate([self.skip, np.zeros(len(f_all) - len(self.faces), bool)])
        # vertices the unfolding keeps at their targets (:func:`unfold`): the upper lids' middle (the corners and their
        # neighbours stay free: a squint's inner corner held folded the skin beside it) and the outer anchor ring
        self.lids = np.zeros(len(s_all), bool)
        self.lids[[i for upper, _ in EYES for i in upper[2:-2]]] = True
        self.lids[-len(FACE_OVAL) :] = True
        key = np.where(_signed_area(s_all, f_all) * np.median(_signed_area(s_all, self.faces)) < 0, 1e12, 0.0)
        z_all = np.concatenate([self.depth, np.tile(self.depth[np.asarray(FACE_OVAL)], _RINGS)])
        key = key + z_all[f_all].mean(1)  # far to near, as warp_face draws them
        self.order = np.argsort(-key, kind="stable")
        self.blur = SMOOTH * self.face_width / self.step
        self.soft = cv2.GaussianBlur(self.source, (0, 0), SQUEEZE_BLUR)  # for squeezed regions (see warp._antialias)
        self._head_region()
        turns = gaze is not None and self.iris is not None
        self.gaze = np.clip(np.asarray(gaze, np.float64), 0.0, 1.0) if turns else None
        self._turned: OrderedDict[bytes, _Eyes | None] = OrderedDict()

    # ------------------------------------------------------------------ head region
    def _head_region(self) -> None:
        h, w = self.image.shape[:2]
        fw = self.face_width
        centre = self.src.mean(0) - (0.0, _HEAD_RAISE * fw)
        self.pivot = self.src[152] + (0.0, 0.25 * fw)  # below the chin: the head turns on the neck
        ox, oy = _HEAD_OUTER[0] * fw, _HEAD_OUTER[1] * fw
        x0, y0 = int(max(np.floor(centre[0] - ox), 0)), int(max(np.floor(centre[1] - oy), 0))
        x1, y1 = int(min(np.ceil(centre[0] + ox) + 1, w)), int(min(np.ceil(centre[1] + oy) + 1, h))
        self.head_box = (x0, y0, x1, y1)
        gx, gy = np.meshgrid(np.arange(x0, x1, dtype=np.float32), np.arange(y0, y1, dtype=np.float32))
        self._gx, self._gy = gx, gy
        self.head_weight = self._weight(gx, gy, centre).astype(np.float32)
        self._wgx, self._wgy = self.head_weight * gx, self.head_weight * gy
        self._centre = centre

    def _weight(self, x, y, centre) -> np.ndarray:
        """Head weight at pixels: 1 inside the inner ellipse, smoothstep to 0 at the outer one and at the image's
        edge (within :data:`_EDGE` face widths of it)."""
        fw = self.face_width
        r_in = np.hypot((x - centre[0]) / (_HEAD_INNER[0] * fw), (y - centre[1]) / (_HEAD_INNER[1] * fw))
        r_out = np.hypot((x - centre[0]) / (_HEAD_OUTER[0] * fw), (y - centre[1]) / (_HEAD_OUTER[1] * fw))
        # t = 0 on the inner ellipse, 1 on the outer one (ratio of the two normalised radii along a ray)
        t = np.clip((r_in - 1.0) / np.maximum(r_in / np.maximum(r_out, 1e-9) - 1.0, 1e-9), 0.0, 1.0)
        h, w = self.image.shape[:2]
        edge = np.minimum(np.minimum(x, w - 1 - x), np.minimum(y, h - 1 - y))  # pixels to the nearest edge pixel
        e = np.clip(edge / (_EDGE * fw), 0.0, 1.0)
        return (1.0 - t * t * (3.0 - 2.0 * t)) * e * e * (3.0 - 2.0 * e)

    def move_points(self, points: np.ndarray, head: HeadMotion) -> np.ndarray:
        """Where ``(N, 2)`` pixel positions go under the head motion (weighted by the head region)."""
        if head.is_identity:
            return points
        m = head.matrix(self.pivot)
        moved = points @ m[:, :2].T + m[:, 2]
        w = self._weight(points[:, 0], points[:, 1], self._centre)[:, None]
        return points + w * (moved - points)

    # ------------------------------------------------------------------ frame
    def targets(self, change: np.ndarray) -> np.ndarray:
        """``(468, 2)`` target pixel positions for a rig weight change ``(52,)`` (before head motion): a funnel's lips
        laid out as a rounded "O" in place of the rig's funnel, as the still editor lays them out
        (:func:`facecraft.synth.editor.mesh_targets`, :func:`~facecraft.synth.mouth_shapes.funnel_motion`)."""
        change = np.asarray(change, np.float64)
        dst = self.src + (change @ self.basis).reshape(-1, 2)
        part, amount = self.funnel(change)
        if amount > 0:  # the rig's funnel gapes, a wide box with both rows of teeth bare
            dst += funnel_motion(self.src, amount, face_width=self.face_width) - (part @ self.basis).reshape(-1, 2)
        return dst

    def render(
        self,
        change: np.ndarray,
        head: HeadMotion | None = None,
        *,
        seal: float = 0.0,
        unsealed: np.ndarray | None = None,
    ) -> WarpResult:
        """One frame: the photo with the rig moved by ``change`` ``(52,)`` and the head by ``head``; ``seal``
        in [0, 1] closes that share of the lips' remaining gap on the mesh (:func:`seal_lips`) and in the
        image (:func:`~facecraft.synth.mouth_seal.seal_mouth`). ``unsealed``: the same frame's change without the
        seal; under a seal below :data:`~facecraft.synth.mouth_seal.SEAL_RAMP` the mouth interior is painted only
        where that frame has it painted (:meth:`_interior`).

        Returns the frame (uint8, the photo's size) and the mask of changed pixels.
        """
        head = head or HeadMotion()
        dst = self._face_targets(change, seal)
        still_face = np.abs(dst - self.src).max() < 1e-3
        eyes = self.eyes(change)
        img, src = (self.image, self.src) if eyes is None else (eyes.image, self.src)
        source = self.source if eyes is None else eyes.source  # what the warp moves: img without a glasses frame
        h, w = img.shape[:2]
        if still_face and head.is_identity:
            return WarpResult(img.copy(), np.zeros((h, w), np.float32) if eyes is None else eyes.mask.copy())
        cover = None
        funnel = self.funnel(change)[1]  # how far the lips funnel into an "oo"
        if still_face:
            fbox, disp = (0, 0, 0, 0), np.zeros((0, 0, 2), np.float32)
        else:
            dst = self._unfolded(dst)
            source = self._corners_filled(source, dst, funnel)
            s_all, d_all, f_all = extended_mesh(src, dst, border=BORDER, triangles=self.faces, occlude=True)
            d_all = unfold(s_all, d_all, f_all, skip=self.skip_all, pinned=self.lids)
            fbox, disp = backward_map(s_all, d_all, f_all, shape=(h, w), order=self.order, step=self.step,
                                      blur=self.blur, outline=d_all[-len(FACE_OVAL):])  # fmt: skip
            if self.windows is not None and disp.size:  # what is seen through a lens stays in it
                disp = keep_to_windows(disp, self.windows, fbox)
            if disp.size:  # a chin dropped far (a shout): its band is covered, not squeezed, as in a still edit
                cover = self._cover(band_fade(src, dst, s_all, d_all, f_all, border=BORDER, shape=(h, w)), fbox)
        # Region to resample, and for each pixel there the point of the un-moved (face-warped) frame it shows.
        # Where nothing moves the map is the pixel's own integer position, which remap copies exactly.
        if head.is_identity:
            x0, y0, x1, y1 = fbox
            if x1 <= x0 or y1 <= y0:
                return WarpResult(img.copy(), np.zeros((h, w), np.float32) if eyes is None else eyes.mask.copy())
            qx, qy = np.meshgrid(np.arange(x0, x1, dtype=np.float32), np.arange(y0, y1, dtype=np.float32))
            mx, my = qx + disp[..., 0], qy + disp[..., 1]
        else:
            x0, y0, x1, y1 = self.head_box
            inv = cv2.invertAffineTransform(head.matrix(self.pivot)).astype(np.float32)
            qx = self._gx + (inv[0, 0] - 1) * self._wgx + inv[0, 1] * self._wgy + inv[0, 2] * self.head_weight
            qy = self._gy + inv[1, 0] * self._wgx + (inv[1, 1] - 1) * self._wgy + inv[1, 2] * self.head_weight
            if disp.size:
                bx, by = np.float32(fbox[0]), np.float32(fbox[1])
                f = cv2.remap(disp, qx - bx, qy - by, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0)
                mx, my = qx + f[..., 0], qy + f[..., 1]
                if cover is not None:  # the cover's fields go through the head's motion as the face's map does
                    cover = cv2.remap(cover, qx - bx, qy - by, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT,
                                      borderValue=0)  # fmt: skip
            else:
                mx, my = qx, qy
        moved = cv2.remap(source, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT_101)
        if disp.size:
            soft = self.soft if eyes is None else eyes.soft
            self._antialias(moved, mx, my, disp, qx - fbox[0], qy - fbox[1], head.is_identity, soft)
        if cover is not None:
            self._covered(moved, source, qx, qy, cover)
        out = img.copy()
        out[y0:y1, x0:x1] = moved
        mask = np.zeros((h, w), np.float32)
        if self.with_mask:
            gx = np.arange(x0, x1, dtype=np.float32)[None, :]
            gy = np.arange(y0, y1, dtype=np.float32)[:, None]
            mag = np.sqrt((mx - gx) ** 2 + (my - gy) ** 2)
            if cover is not None:  # what rides over the covered band moved as far as it rides
                mag = np.maximum(mag, cover[..., 2] * np.hypot(cover[..., 0], cover[..., 1]))
            mask[y0:y1, x0:x1] = np.where(mag > _CHANGED, np.clip(mag / 0.5, 0.0, 1.0), 0.0)
        if eyes is not None:  # the turned eyes are changed pixels too, where the warp hardly moved them
            mask = np.maximum(mask, eyes.mask)
        dst_moved = self.move_points(dst, head)
        # a removed smile's folds fade and lowered brows crease, as in a still edit (no-ops for speech alone)
        out = paint_creases(soften_folds(out, src, dst_moved, change), dst_moved, change, look=self.look)
        result = self._interior(WarpResult(out, mask), dst_moved, seal, unsealed, head, funnel)
        iris, look = (self.iris, self.look) if eyes is None else (eyes.iris, eyes.look)
        kept = None if eyes is None else eyes.mask  # the turned eyeball stays in place, its own iris under the lids
        lidded = close_lids(result, img, src, dst_moved, iris=iris, look=look, kept=kept)
        layer = None if self.layer is None else self._frame_layer(head)
        if layer is not None and lidded is not result:  # lids seen through a lens are painted in it: a lid raised past
            lidded = seen_through_lenses(lidded, result, layer[1] > 0, layer[0].box)  # a rim goes behind it
        result = lidded
        if seal > 0:  # what the warp could not close without folding the mouth corners
            result = seal_mouth(
                result, img, src, dst_moved, float(min(seal, 1.0)), face_width=self.face_width, look=self.look
            )
        if layer is not None:  # the photo's own frame on top, straight
            result = WarpResult(*lay_on(result.image, result.mask, layer[0]))
        return WarpResult(to_grey(result.image), result.mask) if self.grey else result

    def _corners_filled(self, source: np.ndarray, dst: np.ndarray, funnel: float) -> np.ndarray:
        """``source`` (what the warp moves) with the dark pockets at the photo's mouth corners filled in the lips' shade
        (:func:`~facecraft.synth.mouth_seal.clear_corner_shadows`) where the lips funnel (``funnel``, :attr:`funnel`'s
        amount): in full from a speech "oo"'s :data:`~facecraft.synth.mouth_shapes.SPEECH_FUNNEL_MOST`, less below.

        Funnelled lips meet at their corners, as closing ones do in a still edit: at a speech "oo" the "O"'s inner
        corners (landmarks 78 / 308) come in a third of the mouth's half width, its outer ones (61 / 291) 7.5%, and the
        short wedge between them that holds the photo's dark corner pocket (~2 px) was stretched into a dark "<" notch
        at each corner (~6.6 px at 384 px, FRLL calibration 014)."""
        if funnel <= 0.0:
            return source
        amount = min(funnel / SPEECH_FUNNEL_MOST, 1.0)
        return clear_corner_shadows(source, self.src, dst, amount=amount, look=self.look)

    def _frame_layer(self, head: HeadMotion) -> tuple[FrameLayer, np.ndarray]:
        """The photo's glasses frame (:attr:`layer`) and its lenses (uint8, the layer's box) where the head motion puts
        them: the frame moves with the head only."""
        if head.is_identity:
            return self.layer, self._layer_lenses
        x0, y0, x1, y1 = self.layer.box
        h, w = self.image.shape[:2]
        corners = np.array([[x0, y0], [x1, y0], [x0, y1], [x1, y1]], np.float64)
        ends = self.move_points(corners, head)
        nx0, ny0 = np.maximum(np.floor(ends.min(0)).astype(int) - 2, 0)
        nx1, ny1 = np.minimum(np.ceil(ends.max(0)).astype(int) + 3, (w, h))
        gx, gy = np.meshgrid(np.arange(nx0, nx1, dtype=np.float32), np.arange(ny0, ny1, dtype=np.float32))
        # the head's map as :meth:`render` makes it: each pixel shows the photo's point the weighted motion takes there
        inv = cv2.invertAffineTransform(head.matrix(self.pivot)).astype(np.float32)
        weight = self._weight(gx, gy, self._centre).astype(np.float32)
        qx = gx + weight * (inv[0, 0] * gx + inv[0, 1] * gy + inv[0, 2] - gx) - x0
        qy = gy + weight * (inv[1, 0] * gx + inv[1, 1] * gy + inv[1, 2] - gy) - y0
        image = cv2.remap(self.layer.image, qx, qy, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        on = cv2.remap(self.layer.on, qx, qy, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0)
        lenses_moved = cv2.remap(
            self._layer_lenses, qx, qy, cv2.INTER_NEAREST, borderMode=cv2.BORDER_CONSTANT, borderValue=0
        )
        return FrameLayer((int(nx0), int(ny0), int(nx1), int(ny1)), image, on), lenses_moved

    def _interior(
        self,
        frame: WarpResult,
        dst: np.ndarray,
        seal: float,
        unsealed: np.ndarray | None,
        head: HeadMotion,
        funnel: float = 0.0,
    ) -> WarpResult:
        """``frame`` with the mouth interior painted at ``dst`` (:func:`~facecraft.synth.mouth.paint_mouth_interior`;
        lips funnelled ``funnel`` 0..1 into an "oo" (:attr:`funnel`) show a dark
        opening off the teeth, as in a still edit), unless a seal below :data:`~facecraft.synth.mouth_seal.SEAL_RAMP`
        alone made the painter take the opening: the frame's ``unsealed`` change leaves it unpainted.

        A seal narrows the photo's opening (its jaw and lips' weights yield, :func:`seal_lips` closes that share of the
        gap), and on a wide-open photo a seal of 0.05 narrowed it past the painter's threshold for an opening that
        closes over teeth: it drew teeth and a cavity into the photo's opening, where the frames before and after showed
        the photo's own (UTKFace tuning crop 76, jawOpen 0.63, arctic_us_aew_a0001 frame 85 at seal 0.06; a0003
        frames 39, 40 at 0.12: a row of upper teeth and a grey band of lower ones in a mouth showing its tongue). The
        lips' repaint (:func:`~facecraft.synth.mouth_seal.seal_mouth`) covers the opening from that seal on."""
        # a jaw dropped for speech does not bare the teeth: the upper teeth resting on the lower lip do not go down
        # with it (they did, as fear's bared lower teeth: a pale rim under a toothy smile's teeth on open vowels)
        paint = functools.partial(
            paint_mouth_interior, frame, self.image, self.src, depth=self.depth, look=self.look, bared=False,
            funnel=funnel,
        )  # fmt: skip
        painted = paint(dst)
        untouched = lambda result: np.array_equal(result.image, frame.image)  # noqa: E731
        if unsealed is None or not 0.0 < seal < SEAL_RAMP or untouched(painted):
            return painted
        plain = self._unfolded(self._face_targets(unsealed, 0.0))
        return frame if untouched(paint(self.move_points(plain, head))) else painted

    def _face_targets(self, change: np.ndarray, seal: float) -> np.ndarray:
        """The mesh's pixel targets for a rig weight ``change`` and a lip ``seal``, before the unfolding: the skin
        beside a removed smile's corners goes with them, as in a still edit (no-op otherwise), and the seal closes
        that share of the lips' gap (:func:`~facecraft.synth.mouth_seal.seal_lips`)."""
        dst = drag_corner_skin(self.src, self.targets(change), change)
        return seal_lips(dst, seal, self.face_width, self.lip_sides)

    def _unfolded(self, dst: np.ndarray) -> np.ndarray:
        """``dst`` with its turned-over triangles unfolded. The lids keep their targets: the skin around them takes up
        a fold (a widened eye under lowered brows, an anger track, folded the skin between brow and lid, and the
        unfolding pulled that eye's upper lid back down, so only the other eye widened: FRLL 001 lid rise 2.4 px and
        -1.0 px)."""
        return unfold(self.src, dst, self.faces, skip=self.skip, pinned=self.lids[: len(dst)])

    def eyes(self, change: np.ndarray) -> _Eyes | None:
        """The photo with its eyes turned to the gaze of a rig weight change ``(52,)`` (its ``eyeLook*`` channels
        added to the photo's own gaze, :func:`~facecraft.synth.gaze.gaze_after`), or None where no eye turns (no
        ``gaze`` given, the gaze unchanged, or a turn too small to move an iris).

        The last :data:`_TURNS_KEPT` gazes' turned eyes are kept: a fixation's frames take the same pixels, and a
        frame costs the turn (20-50 ms at 512 px) only during a saccade."""
        if self.gaze is None:
            return None
        after = gaze_after(self.gaze, change)
        if np.array_equal(after[GAZE], self.gaze[GAZE]):
            return None
        key = after[GAZE].tobytes()
        if key in self._turned:
            self._turned.move_to_end(key)
            return self._turned[key]
        turned = turn_eyes(self.image, self.src, self.iris, self.gaze, after, look=self.look)
        eyes = None
        if turned.turned:
            # the blurred photo for squeezed regions, with the turned eyes in it: blurred again around them only
            source = turned.image if self.frame is None else take_out_frame(turned.image, self.frame)
            soft = self.soft.copy()
            rows, cols = np.nonzero(turned.mask.any(1))[0], np.nonzero(turned.mask.any(0))[0]
            pad = int(np.ceil(4 * SQUEEZE_BLUR))
            h, w = self.image.shape[:2]
            y0, y1 = max(rows[0] - 2 * pad, 0), min(rows[-1] + 1 + 2 * pad, h)
            x0, x1 = max(cols[0] - 2 * pad, 0), min(cols[-1] + 1 + 2 * pad, w)
            block = cv2.GaussianBlur(source[y0:y1, x0:x1], (0, 0), SQUEEZE_BLUR)
            iy0, iy1 = (y0 + pad if y0 > 0 else 0), (y1 - pad if y1 < h else h)
            ix0, ix1 = (x0 + pad if x0 > 0 else 0), (x1 - pad if x1 < w else w)
            soft[iy0:iy1, ix0:ix1] = block[iy0 - y0 : iy1 - y0, ix0 - x0 : ix1 - x0]
            iris = np.asarray(turned.iris, np.float64)
            look = PhotoLook(turned.image, self.src, blur=self.look.blur)
            eyes = _Eyes(turned.image, source, soft, iris, look, turned.mask)
        self._turned[key] = eyes
        while len(self._turned) > _TURNS_KEPT:
            self._turned.popitem(last=False)
        return eyes

    @staticmethod
    def _cover(fade, fbox: tuple[int, int, int, int]) -> np.ndarray | None:
        """:func:`~facecraft.synth.warp.band_fade`'s cover as one ``(y1 - y0, x1 - x0, 4)`` float32 field over the
        face map's box ``fbox``: the displacement of what rides over the band (x, y), its weight and the photo's own
        weight; None where nothing is covered."""
        if fade is None:
            return None
        (cx0, cy0, cx1, cy1), ride, rides, stays = fade
        x0, y0, x1, y1 = fbox
        field = np.zeros((y1 - y0, x1 - x0, 4), np.float32)
        ix0, iy0, ix1, iy1 = max(cx0, x0), max(cy0, y0), min(cx1, x1), min(cy1, y1)
        if ix1 <= ix0 or iy1 <= iy0:
            return None
        inner = (slice(iy0 - cy0, iy1 - cy0), slice(ix0 - cx0, ix1 - cx0))
        field[iy0 - y0 : iy1 - y0, ix0 - x0 : ix1 - x0] = np.dstack([ride[inner], rides[inner], stays[inner]])
        return field

    @staticmethod
    def _covered(moved: np.ndarray, img: np.ndarray, qx: np.ndarray, qy: np.ndarray, cover: np.ndarray) -> None:
        """Where a far-dropped chin's band is covered (:meth:`_cover`'s ``cover`` at the resampled pixels, whose
        points of the face-warped frame are ``qx, qy``), ``moved`` takes what rides over it and the photo as it is
        there, as :func:`~facecraft.synth.warp.warp_face` mixes them; in place."""
        weight = cover[..., 2] + cover[..., 3]
        rows, cols = np.nonzero(weight.any(1))[0], np.nonzero(weight.any(0))[0]
        if not len(rows):
            return
        box = (slice(rows[0], rows[-1] + 1), slice(cols[0], cols[-1] + 1))
        c, bx, by = cover[box], qx[box], qy[box]
        over = cv2.remap(img, bx + c[..., 0], by + c[..., 1], cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT_101)
        photo = cv2.remap(img, bx, by, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT_101)
        rides, stays = np.ascontiguousarray(c[..., 2]), np.ascontiguousarray(c[..., 3])
        moved[box] = cover_band(moved[box], photo, over, rides, stays)

    def _antialias(self, moved, mx, my, disp, qx, qy, aligned: bool, soft: np.ndarray) -> None:
        """Where the face warp squeezes the photo, mix in the pre-blurred photo ``soft`` (as the still warp does), in
        place.

        ``qx, qy``: the resampled pixels' positions in the face map's own grid (the same grid when
        ``aligned``, i.e. without head motion)."""
        weight = squeeze_weight(disp)
        if not (weight > 0).any():
            return
        if not aligned:
            weight = cv2.remap(weight, qx, qy, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0)
        rows, cols = np.nonzero(weight.any(1))[0], np.nonzero(weight.any(0))[0]
        if not len(rows):
            return
        r0, r1, c0, c1 = rows[0], rows[-1] + 1, cols[0], cols[-1] + 1
        soft = cv2.remap(soft, mx[r0:r1, c0:c1], my[r0:r1, c0:c1], cv2.INTER_LINEAR,
                         borderMode=cv2.BORDER_REFLECT_101)  # fmt: skip
        wt = weight[r0:r1, c0:c1, None]
        block = moved[r0:r1, c0:c1]
        block[...] = np.clip(block * (1 - wt) + soft * wt + 0.5, 0, 255).astype(np.uint8)
