"""Talking portraits: one photo + speech -> a video of that face saying it, in real time on the CPU.

Pipeline (DESIGN.md's data flow): the photo is analysed and the rig fitted once (:class:`TalkingPortrait`,
through :meth:`facecraft.synth.editor.FaceEditor.analyze`), framed as a square video frame around the face;
speech becomes ARKit-52 curves (:func:`facecraft.audio2face.animate.animate_audio` offline, or
:class:`~facecraft.audio2face.stream.StreamingAnimator` as audio arrives, with the same blinks and frame-rate
conversion); each frame's curves become a rig weight change, vertex positions, and a warped photo with the
mouth interior and lids repainted (:class:`~facecraft.synth.talk_render.PortraitRenderer`), with a small
head and brow motion from the speech's loudness and pitch (:class:`~facecraft.synth.talk_motion.ProsodyMotion`).

How curves are applied to a photo (the photo is the rest pose):

* **speech channels** (jaw, lips, tongue: ``region_mask("speech")``) move toward the curves from the fitted
  rig's weights (a channel ends at ``max(photo, curve)``), so a closed-mouth photo opens by the curves'
  amount and a photo with parted lips does not gape; while the curves seal the lips
  (:func:`facecraft.audio2face.lip_state.sealed_weight`), the photo's own lip opening (``jawOpen``,
  ``mouthUpperUp``, ``mouthLowerDown``, ``mouthFunnel`` with ``mouthClose``) is taken away as well, so a
  photo that smiles with parted lips still closes them on /p b m/; what the fitted identity holds of that
  opening is closed on the mesh (:func:`facecraft.synth.talk_render.seal_lips`), and what the warp cannot
  close without folding the mouth corners (a broad smile showing teeth) is closed in the image, the lips
  repainted from the photo's own (:func:`facecraft.synth.mouth_seal.seal_mouth`);
* **expression channels** (brows, lids, cheeks, mouth corners) move the face *toward* the curves' value, as
  the editor's relative mode does: a channel ends at ``max(photo, curve)`` (a smiling photo asked to smile
  does not double its smile);
* **blinks** add;
* **gaze** (``eyeLook*``, the speech side's fixations and saccades: :func:`facecraft.audio2face.head_motion.gaze`)
  turns the eyes *from the photo's own gaze*: the curves' eye rotation (:func:`~facecraft.rigs.animation.
  eye_rotation_from_curves`) is added to the rotation the photo's eyes show (MediaPipe's scores), so a fixation
  "straight ahead" is where the photo looks and saccades are small moves around it; the renderer turns the eyeballs
  (:func:`facecraft.synth.gaze.turn_eyes`) and the rig's ``eyeLook*`` shapes move the lids with them
  (``gaze=False``: the eyes stay still, where the photo, or the emotion's words, have them);
* an **emotion that changes over the line** (an emotion track, :meth:`TalkingPortrait.expression_change`) is
  drawn as the still editor draws an emotion, through its calibration, from what the photo shows to the
  track's expression at each frame (a smile the track does not ask for is taken away), its lip opening yielding
  to /p b m/ and its lip closing (sadness's raised chin) to the speech's opening
  (:func:`facecraft.audio2face.lip_state.open_weight`): the curves alone carry the emotion one to one on the rig,
  a faint tint on a photo. A still emotion is edited into the photo instead, its jaw and lips left to the speech.

The curve -> rig weight step is one call, :attr:`TalkingPortrait.rig_change`: ``mapping="rig"`` (default)
treats the curves as the rig's own weights, which is what audio2face is trained to drive;
``mapping="editor"`` goes through the editor's perceptual calibration
(:meth:`facecraft.synth.calibration.EditorCalibration.rig_change`), which maps MediaPipe-score space to rig
weights.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from facecraft.rigs import ARKIT_INDEX, ARKIT_NAMES, NUM_ARKIT, NoFaceError, ParameterError
from facecraft.rigs.emotion_space import is_free_text, region_mask
from facecraft.rigs.video import check_video_side

from .controls import own_scores
from .gaze import GAZE
from .mouth import inner_lip_gap
from .mouth_seal import SEAL_RAMP
from .talk_motion import ProsodyMotion, frame_loudness, pitch_frames, pitch_track
from .talk_render import STEP, HeadMotion, PortraitRenderer, is_grey
from .warp import face_width as outline_width  # the portrait's face_width is the renderer's

logger = logging.getLogger(__name__)

MAX_YAW_DEG = 35.0  # a face turned farther than this is a profile: the frontal rig fit and warp fail there
MAX_MOTION = 3.0  # largest scale of the head and brow motion (3x a real take's ranges)
FRAMING = 3.2  # side of the square video frame, in face box widths (head, hair and some shoulders)
# Largest side of a video frame, pixels: a square --size, and a photo kept at its own size (size=None, --size 0). A
# 4000 px phone photo kept whole was a 4000 x 4000 H.264 video (level 6, which browsers and phones do not play;
# limit 4096 x 2304) at seconds a frame and 1.9 GB
MAX_SIDE = 2048
COMPETING_FACE = 0.5  # another face at least this share of the largest one's width makes the choice ambiguous
FPS_CHOICES = (25.0, 30.0)
_SPEECH = region_mask("speech")
# A still emotion's edit that moves the inner lips' centres apart by less than this (face widths) left the lips' rest
# as it was: the unedited fit's speech weights stay (anger, sadness, disgust on FRLL calibration 001, 006 and a UTKFace
# tuning crop moved them 0.0001-0.004, happiness's raised upper lip 0.048-0.058)
_KEPT_GAP = 0.01
_EXPRESSION = region_mask("emotion")
_BLINKS = np.array([ARKIT_INDEX["eyeBlinkLeft"], ARKIT_INDEX["eyeBlinkRight"]])
MAX_BLINK_GAIN = 4.0  # the most a blink curve's rig weight is scaled by to shut this face's eyes (see _blink_gains)
_OPENING = np.array(
    [ARKIT_INDEX[n] for n in ("jawOpen", "mouthClose", "mouthUpperUpLeft", "mouthUpperUpRight",
                              "mouthLowerDownLeft", "mouthLowerDownRight", "mouthFunnel")]
)  # fmt: skip


def _load_photo(photo, name: str | None) -> tuple[np.ndarray, str]:
    from facecraft.eval.images import load_image, valid_image

    if isinstance(photo, (str, os.PathLike)):
        return load_image(photo), name or str(photo)
    return valid_image(photo, name=name or "photo"), name or "photo"


def frame_box(box, image_shape: tuple[int, int], *, framing: float = FRAMING) -> tuple[int, int, int]:
    """Square crop ``(x0, y0, side)`` of ``framing`` face-box widths around a face box, kept inside the image
    (smaller when the image is)."""
    x0, y0, x1, y1 = (float(v) for v in box)
    h, w = image_shape
    side = int(round(min(max(x1 - x0, y1 - y0) * framing, h, w)))
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2 - 0.05 * (y1 - y0)
    left = int(round(min(max(cx - side / 2, 0), w - side)))
    top = int(round(min(max(cy - side / 2, 0), h - side)))
    return left, top, side


@dataclass
class TalkResult:
    """What :func:`talk` wrote: the MP4, its frame count and rate, the curves that drove it, timings (s),
    whether the audio was silence (a still face that blinks: :func:`facecraft.audio2face.postprocess.is_silent`),
    how well a transcript fit the speech (``PhoneticResult.fit``; None without a transcript) and what became of it
    (``phones``: ``"align"`` when it was aligned and sealed the lips, ``"recognize"`` when it did not fit the speech
    and the mouth follows the sound alone, as ``facecraft animate`` falls back; None without a transcript)."""

    path: Path
    num_frames: int
    fps: float
    curves: np.ndarray = field(repr=False)
    analysis_s: float = 0.0
    animation_s: float = 0.0
    render_s: float = 0.0
    silent: bool = False
    transcript_fit: float | None = None
    phones: str | None = None


class TalkingPortrait:
    """A photo analysed once, ready to render any number of talking frames.

    Parameters
    ----------
    photo : array (H, W, 3) or path
        The portrait (anything :func:`facecraft.eval.images.valid_image` / ``load_image`` takes).
    face : int, optional
        Which face (0 = largest). Without it, a photo with several faces of similar size (the second at
        least :data:`COMPETING_FACE` of the largest's width) is refused.
    editor : FaceEditor, optional
        Reuse loaded models (analysis and its calibration); a new one is made and closed otherwise.
    size : int or None
        Side of the square video frame in pixels (the face is framed :data:`FRAMING` box widths wide);
        ``None`` keeps the photo as it is.
    mapping : ``"rig"``, ``"editor"`` or callable
        Curve -> rig weight change (see the module docstring); a callable takes ``(52,)`` curve values and
        returns the ``(52,)`` rig change from the rest pose.
    motion : float
        Scale of the prosody-driven head and brow motion (0 = still head).
    emotion : optional
        The expression the face keeps while it speaks (anything
        :func:`facecraft.rigs.emotion_space.parse_emotion` reads as one code: ``"sadness:0.8"``, AUs, words):
        edited into the photo by the geometric editor before it speaks, as ``facecraft edit --emotion`` does
        (relative to what the face shows: a smiling photo asked for sadness loses its smile), except that it adds
        nothing to the jaw and lips, which the speech moves (surprise's open jaw would never close). Words that name a
        gaze ("looking down, sad") turn the photo's eyes there as the editor's words do
        (:func:`facecraft.synth.controls.read_control`), and the speech's saccades move around that gaze. Given to
        :func:`talk_curves` alone, an emotion only tints the speech curves, and the photo's own expression stays.
    seed : int
        Seed of the head drift.
    step : int
        Grid step of the backward map (:class:`~facecraft.synth.talk_render.PortraitRenderer`).
    keep_glasses : bool
        Keep the frame of the glasses the face wears straight where it sits on the face: it moves with the head
        only, the brows move fully behind it (:mod:`facecraft.synth.glasses_frame`, as ``facecraft edit
        --keep-glasses``).
    gaze : bool
        Turn the eyes by the curves' gaze (``eyeLook*``) from where the photo's eyes look (see the module
        docstring); False keeps the eyes still where the photo has them, or where ``emotion``'s words turn them
        (an asked gaze is an edit of the photo, or, for words given to :meth:`stream`, a turn of every frame's eyes;
        the curves' ``eyeLook*`` move neither eyes nor lids).

    Raises
    ------
    NoFaceError
        No face, faces below the analyzer's minimum size, a face turned more than :data:`MAX_YAW_DEG`, or
        several faces without ``face``.
    """

    def __init__(
        self,
        photo,
        *,
        face: int | None = None,
        editor=None,
        size: int | None = 512,
        mapping: str | Callable[[np.ndarray], np.ndarray] = "rig",
        motion: float = 1.0,
        emotion=None,
        seed: int = 0,
        step: int = STEP,
        name: str | None = None,
        keep_glasses: bool = False,
        gaze: bool = True,
    ) -> None:
        from .editor import FaceEditor
        from .fit import fit_rig

        if size is not None and not (isinstance(size, (int, np.integer)) and 64 <= size <= MAX_SIDE):
            raise ParameterError(f"size: expected a frame side of 64..{MAX_SIDE} pixels (or None), got {size!r}")
        if size is not None:
            check_video_side(size)
        if not (np.isfinite(motion) and 0.0 <= motion <= MAX_MOTION):
            raise ParameterError(f"motion: expected a scale in [0, {MAX_MOTION:g}], got {motion!r}")
        self.emotion = _still_emotion(emotion)
        words = emotion if is_free_text(emotion) else None  # read again by the edit, with the gaze they name
        img, self.name = _load_photo(photo, name)  # after the arguments: they fail before a big photo is read
        if size is None and max(img.shape[:2]) > MAX_SIDE:
            h, w = img.shape[:2]
            raise ParameterError(
                f"{self.name}: {w} x {h} px is too large a video to keep the photo's own size (size=None, --size 0: "
                f"at most {MAX_SIDE} px a side); give the video's side (--size 1024) to frame the face"
            )
        grey = is_grey(img)  # a grey photo talks in grey (a still emotion's edit may tint it: read before)
        t0 = time.perf_counter()
        own = editor is None
        if own:  # the calibration is loaded only when the mapping or the expression uses it
            from .calibration import EditorCalibration

            calibrated = mapping == "editor" or self.emotion is not None
            ed = FaceEditor() if calibrated else FaceEditor(calibration=EditorCalibration.identity())
        else:
            ed = editor
        try:
            faces = ed.analyze(img, name=self.name)
            plain = None  # the unedited face, where a still emotion is edited in
            if self.emotion is not None:
                plain = faces[_pick_face(faces, face, self.name)]
                shown = self.emotion if words is None else words
                img, faces, face = _with_expression(ed, img, faces, face, shown, self.name, keep_glasses)
            calibration = ed.calibration
            # the editor's calibration, where it was loaded (an emotion track draws its expressions with it)
            self._calibration = calibration if not own or calibrated else None
            self._shown: tuple[bytes, np.ndarray] | None = None  # the last emotion drawn and its rig change
        finally:
            if own:
                ed.close()
        self.face_index = _pick_face(faces, face, self.name)
        chosen = faces[self.face_index]
        yaw = float(chosen.info.pose[0])
        if not abs(yaw) <= MAX_YAW_DEG:
            raise NoFaceError(
                f"{self.name}: face {self.face_index} is turned {yaw:+.0f} deg (yaw); a talking portrait needs a "
                f"face within {MAX_YAW_DEG:g} deg of frontal"
            )
        info = chosen.info
        if size is None:
            self.image, landmarks, fit = img, info.landmarks.astype(np.float64), chosen.fit
            plain_fit, plain_lm = (None, None) if plain is None else (plain.fit, plain.info.landmarks)
            self.crop = (0, 0, 1.0)
        else:
            left, top, side = frame_box(info.box, img.shape[:2])
            k = size / side
            interp = cv2.INTER_AREA if k < 1 else cv2.INTER_CUBIC
            self.image = cv2.resize(img[top : top + side, left : left + side], (size, size), interpolation=interp)

            def framed(face_info) -> np.ndarray:
                lm = face_info.landmarks.astype(np.float64).copy()
                lm[:, 0], lm[:, 1], lm[:, 2] = (lm[:, 0] - left) * k, (lm[:, 1] - top) * k, lm[:, 2] * k
                return lm

            landmarks = framed(info)
            fit = fit_rig(landmarks, self.image.shape[:2], init_weights=info.blendshapes)
            plain_fit, plain_lm = None, None
            if plain is not None:
                plain_lm = framed(plain.info)
                plain_fit = fit_rig(plain_lm, self.image.shape[:2], init_weights=plain.info.blendshapes)
            self.crop = (left, top, k)
        self.landmarks = landmarks
        self.fit = fit
        self.rest_scores = np.clip(info.blendshapes, 0.0, 1.0).astype(np.float64)  # what the face shows (MediaPipe)
        self.keep_glasses = bool(keep_glasses)
        self.gaze = bool(gaze)
        # A still emotion's edit that left the lips as they were (their gap): the portrait moves its jaw and lips as
        # the unedited photo's rig does, from that rig's rest weights. The rig fitted to the edited face explains its
        # lowered brows partly with the mouth's shapes (FRLL calibration 006 under anger: jawOpen .019, mouthShrugLower
        # .104, and 5% less lip motion per unit of jawOpen), and its talking mouth opened .83 of the neutral one's.
        # An edit that moves the lips (a smile taken away or drawn) keeps the edited face's rig.
        if plain_fit is not None:
            moved = abs(inner_lip_gap(landmarks) - inner_lip_gap(np.asarray(plain_lm, np.float64)))
            moved /= outline_width(landmarks[:, :2])
            if moved >= _KEPT_GAP:
                plain_fit = None
        self.renderer = PortraitRenderer(
            self.image, landmarks, fit, step=step, keep_glasses=self.keep_glasses, grey=grey, motion_fit=plain_fit,
            gaze=self.rest_scores, speech=mapping == "rig",
        )  # fmt: skip
        self._rest = np.asarray(fit.weights, np.float64).copy()  # the rig's rest weights the speech moves from
        if plain_fit is not None:
            self._rest[_SPEECH] = plain_fit.weights[_SPEECH]
        self.image = self.renderer.image
        self.rig_change = _mapping(mapping, calibration, fit.weights)
        self._lip_part: np.ndarray | None = None  # how far each rig weight parts the lip centres (px per unit)
        # a blink curve at 1 shuts this face's eyes (the rig's own blink closed a photo's wider eye about half way)
        self._blink_gain = _blink_gains(self.renderer) if mapping == "rig" else np.ones(len(_BLINKS))
        self.motion = float(motion)
        self.seed = int(seed)
        self.analysis_s = time.perf_counter() - t0

    # ------------------------------------------------------------------ one frame
    @property
    def face_width(self) -> float:
        return self.renderer.face_width

    def change_for(
        self, curves: np.ndarray, *, seal: float | None = None, look: np.ndarray | None = None
    ) -> np.ndarray:
        """Rig weight change ``(52,)`` for one frame's curve values ``(52,)`` (see the module docstring); ``seal`` and
        ``look`` (a gaze that words name: :meth:`gaze_change`) as :meth:`render` takes them."""
        c = np.clip(np.asarray(curves, np.float64), 0.0, 1.0)
        target = c.copy()
        # Expression channels move toward the curve from what the photo shows (MediaPipe's reading), speech
        # channels from the fitted rig's own weights: a channel the photo already shows does not add up.
        own = own_scores(self.rest_scores, c)  # an eye asked alike on both sides moves alike (see own_scores)
        target[_EXPRESSION] = np.maximum(c[_EXPRESSION] - own[_EXPRESSION], 0.0)
        target[_SPEECH] = np.maximum(c[_SPEECH] - self._rest[_SPEECH], 0.0)
        change = np.asarray(self.rig_change(target), np.float64)
        change[_BLINKS] *= self._blink_gain
        sealed = self.sealed(c) if seal is None else float(seal)
        if sealed > 0:
            change[_OPENING] -= self._rest[_OPENING] * sealed
        # the renderer turns the eyes by the gaze channels: without gaze they stay still (the curves' eyeLook* moved
        # the lids alone), unless words name a gaze
        change[GAZE] = self.gaze_change(c, look=look) if self.gaze or look is not None else 0.0
        return change

    def gaze_change(self, curves: np.ndarray, *, look: np.ndarray | None = None) -> np.ndarray:
        """The change ``(8,)`` of the gaze channels (``eyeLook*``, in :data:`~facecraft.synth.gaze.GAZE`'s order) that
        turns the photo's eyes by the eye rotation of one frame's curves ``(52,)``: the photo's own rotation (its
        MediaPipe scores) plus the curves', as weights, less the photo's rotation as weights (zero where the curves
        look straight ahead; a pair of channels that both hold weight on the photo, in and out, nets to one).

        ``look``: weights ``(52,)`` whose ``eyeLook*`` channels are a gaze asked by words (:func:`emotion_and_look`),
        which the eyes turn to from the photo's, as the still editor sets a gaze outright; the curves' rotation moves
        them around it (not with ``gaze=False``)."""
        from facecraft.rigs.animation import eye_rotation_from_curves, with_gaze_curves

        rest = self.rest_scores[None].astype(np.float32)
        own = eye_rotation_from_curves(rest)
        turn = np.zeros_like(own)
        if self.gaze:
            turn = eye_rotation_from_curves(np.clip(np.asarray(curves, np.float32), 0.0, 1.0)[None])
        if look is None and not np.any(turn):
            return np.zeros(int(GAZE.sum()))
        base = own if look is None else eye_rotation_from_curves(np.clip(np.asarray(look, np.float32), 0, 1)[None])
        after, before = with_gaze_curves(rest, base + turn), with_gaze_curves(rest, own)
        return (after[0, GAZE] - before[0, GAZE]).astype(np.float64)

    @staticmethod
    def sealed(curves: np.ndarray) -> float:
        """How sealed one frame's curves ``(52,)`` hold the lips, in [0, 1]
        (:func:`facecraft.audio2face.lip_state.sealed_weight`)."""
        from facecraft.audio2face.lip_state import sealed_weight

        return float(sealed_weight(np.asarray(curves, np.float32)[None])[0])

    def expression_change(self, code) -> np.ndarray:
        """Rig weight change ``(52,)`` that shows an emotion code ``(57,)`` (an emotion track's at one frame) on
        the brows, lids, cheeks and mouth corners as the still editor shows it: the edit's relative target
        (:meth:`~facecraft.synth.controls.EditControls.target`: the photo's expression fades by the emotion's
        strength, raised channels end at ``max(photo, emotion)``) through the editor's calibration, less what this
        portrait's mapping already gives from curves that carry the same emotion (the speech model's curves
        follow the emotion's weights closely)."""
        from facecraft.rigs.emotion_space import EmotionCode

        from .calibration import EditorCalibration
        from .controls import EditControls

        code = code if isinstance(code, EmotionCode) else EmotionCode(np.asarray(code, np.float32))
        key = code.vector.tobytes()
        if self._shown is not None and self._shown[0] == key:  # a track holds its keys' emotions for many frames
            return self._shown[1].copy()
        if self._calibration is None:
            self._calibration = EditorCalibration.load()
        target = EditControls(codes=(code,)).target(self.rest_scores)
        target[~_EXPRESSION] = self.rest_scores[~_EXPRESSION]  # jaw and lips stay the speech's (surprise's jaw)
        drawn = self._calibration.rig_change(self.rest_scores, target, rig_now=self.fit.weights)
        asked = code.to_arkit()
        given = np.zeros(NUM_ARKIT)
        given[_EXPRESSION] = np.maximum(asked[_EXPRESSION] - own_scores(self.rest_scores, asked)[_EXPRESSION], 0.0)
        change = np.asarray(drawn, np.float64) - np.asarray(self.rig_change(given), np.float64)
        self._shown = (key, change)
        return change.copy()

    def render(
        self,
        curves: np.ndarray,
        head: HeadMotion | None = None,
        *,
        emotion=None,
        seal: float | None = None,
        look: np.ndarray | None = None,
    ) -> np.ndarray:
        """One frame ``(S, S, 3)`` uint8 for curve values ``(52,)``, an optional head motion and an optional
        emotion code ``(57,)`` to show (:meth:`expression_change`); ``seal``: how sealed the lips are (default
        :meth:`sealed` of the curves; a sequence's frames get :func:`held_seals`, which reads their neighbours);
        ``look``: weights ``(52,)`` whose ``eyeLook*`` channels are the gaze that an emotion's words name
        (:func:`emotion_and_look`), which the eyes turn to (:meth:`gaze_change`)."""
        seal = self.sealed(curves) if seal is None else float(seal)
        # a seal that starts narrows the opening: the renderer paints its interior only as the unsealed frame does
        unsealed = self._change(curves, emotion, 0.0, look) if 0.0 < seal < SEAL_RAMP else None
        change = self._change(curves, emotion, seal, look)
        return self.renderer.render(change, head, seal=seal, unsealed=unsealed).image

    def _change(self, curves: np.ndarray, emotion, seal: float, look: np.ndarray | None = None) -> np.ndarray:
        """Rig weight change ``(52,)`` that :meth:`render` draws for curves ``(52,)``, an emotion code or None, a
        seal and a gaze asked by words (or None)."""
        from .editor import brow_floor
        from .fit import NUM_MESH_POINTS

        change = self.change_for(curves, seal=seal, look=look)
        if emotion is not None:
            from facecraft.audio2face.lip_state import open_weight

            shown = self.expression_change(emotion)
            shown[_OPENING] *= 1.0 - seal  # a smile's raised upper lip yields to /p b m/ as the photo's own does
            # and what the emotion does to close the lips (sadness's chin pushing the lower lip up, its corners'
            # lips meeting) yields to the speech's opening: sadness drawn on the lips held every vowel near shut
            shown[self._closers(shown)] *= 1.0 - float(open_weight(np.asarray(curves, np.float32)[None])[0])
            change = change + shown
        # lowered brows stop short of the lids, as in a still edit (a no-op unless a curve lowers the brows)
        return brow_floor(self.fit, self.landmarks[:NUM_MESH_POINTS, :2], change)

    def _closers(self, change: np.ndarray) -> np.ndarray:
        """Boolean ``(52,)``: the speech channels (jaw, lips) whose part of a rig weight change ``(52,)`` narrows
        this face's inner-lip gap (the lip centres, landmarks 13 and 14, along the mouth frame's down axis)."""
        if self._lip_part is None:
            from .mouth import mouth_frame

            motion = self.renderer.basis.reshape(NUM_ARKIT, -1, 2)
            self._lip_part = (motion[:, 14] - motion[:, 13]) @ mouth_frame(self.renderer.src).v_axis
        return _SPEECH & (np.asarray(change) * self._lip_part < 0)

    # ------------------------------------------------------------------ sequences
    def frames(
        self,
        curves,
        fps: float,
        *,
        audio: np.ndarray | None = None,
        sr: int = 16000,
        emotions: np.ndarray | None = None,
        look: np.ndarray | None = None,
    ) -> Iterator[np.ndarray]:
        """Frames for curves ``(T, 52)`` at ``fps``; ``audio`` (mono, ``sr``) drives the head and brows;
        ``emotions`` ``(T, 57)``, an emotion track's codes per frame, are shown as the editor shows an emotion
        (:meth:`expression_change`); ``look``, a gaze that words name (:func:`emotion_and_look`), turns the eyes there,
        the curves' saccades around it (:meth:`gaze_change`).

        Yields ``T`` uint8 frames, one per curve row (lazily: encode while rendering).
        """
        from facecraft.rigs.emotion_space import EMOTION_CODE_DIM

        n = len(curves)
        if emotions is not None and np.shape(emotions) != (n, EMOTION_CODE_DIM):
            raise ParameterError(f"emotions: expected ({n}, {EMOTION_CODE_DIM}) codes, one row per curve frame, "
                                 f"got {np.shape(emotions)}")  # fmt: skip
        moved = self.motions(curves, fps, audio=audio, sr=sr)
        items = ((row, head, None if emotions is None else emotions[k]) for k, (row, head) in enumerate(moved))
        for row, head, emotion, seal in _with_seals(items):
            yield self.render(row, head, emotion=emotion, seal=seal, look=look)

    def motions(
        self, curves, fps: float, *, audio: np.ndarray | None = None, sr: int = 16000
    ) -> Iterator[tuple[np.ndarray, HeadMotion | None]]:
        """What :meth:`frames` renders, frame by frame: the curve row ``(52,)`` with the prosody's brow lift
        added, and the head motion (``None`` for a still head). Lets a caller know where the head was put (the
        stability benchmark compares the frames with it)."""
        from facecraft.audio2face.audio import SAMPLE_RATE, resample
        from facecraft.rigs import valid_curves

        c = valid_curves(curves)
        y = None if audio is None else _mono(audio)
        if y is not None and sr != SAMPLE_RATE:
            y, sr = resample(y, orig_sr=sr, target_sr=SAMPLE_RATE), SAMPLE_RATE
        mover = self._mover(fps)
        f0 = pitch_track(y, sr, fps, len(c)) if y is not None and self.motion > 0 else None
        for k, row in enumerate(c):
            loud = 0.0 if y is None else frame_loudness(y, sr, fps, k)
            yield self._move(row, mover, loud, float(f0[k]) if f0 is not None and loud > 0 else 0.0)

    def stream(
        self,
        chunks: Iterable[np.ndarray],
        *,
        fps: float = 25.0,
        emotion=None,
        weights=None,
        blink: bool = True,
    ) -> Iterator[np.ndarray]:
        """Frames as audio arrives: ``chunks`` of 16 kHz mono float32 samples in, frames out.

        Curves come from :class:`~facecraft.audio2face.stream.StreamingAnimator` with the offline path's blinks
        and frame-rate conversion, so the frames equal ``frames(animate_audio(audio).curves, fps,
        audio=audio)`` for speech at the same level (offline levels a clip by its whole gain, a stream by a running
        estimate of it: :class:`~facecraft.audio2face.postprocess.RunningLevel`; offline turns a wholly silent clip
        into a still face, its eyes still too; a stream cannot know: its eyes move as a speaking face's).
        A frame is yielded once the model's look-ahead allows (about 60 ms of audio after its time). An emotion
        or a track given here shows on the face as :meth:`frames` shows ``emotions=`` (its codes per frame), except
        a still emotion on a portrait made with its own ``emotion``, which the photo already shows. Words that name a
        gaze ("looking down, sad") turn the eyes there, as :meth:`frames` turns them for ``look=`` (the words':
        :func:`emotion_and_look`), the saccades around it, or held still there with ``gaze=False``; a portrait made
        with its own ``emotion`` keeps the gaze its photo shows.
        """
        from facecraft.audio2face.animate import resolve_model, tongue_where_visible
        from facecraft.audio2face.head_motion import gaze as saccades
        from facecraft.audio2face.postprocess import blink_curve
        from facecraft.audio2face.stream import StreamingAnimator
        from facecraft.rigs.animation import with_gaze_curves
        from facecraft.rigs.emotion_space import EmotionTrack

        fps = _check_fps(fps)
        model = resolve_model(weights)
        emo, look = emotion_and_look(emotion)  # words' gaze kept (parse_emotion left it out with a warning)
        speech, still, look = self._speaks_and_shows(emo, look)
        animator = StreamingAnimator(model, emotion=speech)

        def shown(k: int) -> np.ndarray | None:
            """The emotion code frame ``k`` shows on the face (None: the speech curves alone)."""
            if isinstance(emo, EmotionTrack):
                return emo.codes_at(np.array([k / fps]))[0]
            return None if still is None else still.vector

        conv = _RateConverter(animator.fps, fps)
        mover = self._mover(fps)
        audio = np.zeros(0, np.float32)
        blinks = np.zeros(0, np.float32)
        eyes = np.zeros((0, 6), np.float32)  # the offline clip's saccades (talk_curves): a longer run starts alike
        emitted = 0

        def moved(rows: np.ndarray):
            nonlocal blinks, eyes, emitted
            loud, f0 = self._prosody(audio, fps, emitted, len(rows))  # the chunk's pitch in one pass
            rows = tongue_where_visible(rows)  # as offline: a tongue behind the teeth must not push the lower lip
            for j, row in enumerate(rows):
                if blink:
                    if emitted >= len(blinks):
                        blinks = blink_curve(max(2 * len(blinks), emitted + int(60 * fps)), fps)
                    row = _with_blink(row, float(blinks[emitted]))
                if self.gaze:
                    if emitted >= len(eyes):
                        eyes = saccades(max(2 * len(eyes), emitted + int(60 * fps)), fps=fps)
                    row = with_gaze_curves(row[None], eyes[emitted][None])[0]
                yield (*self._move(row, mover, loud[j], f0[j]), shown(emitted))
                emitted += 1

        def items():
            nonlocal audio
            for chunk in chunks:
                y = _mono(chunk, name="chunk") if np.asarray(chunk).size else np.zeros(0, np.float32)
                audio = np.concatenate([audio, y])
                yield from moved(conv.push(animator.push(y)))
            yield from moved(conv.flush(animator.flush()))

        for row, head, code, seal in _with_seals(items()):  # a frame goes out once the next one's curves are known
            yield self.render(row, head, emotion=code, seal=seal, look=look)

    def _speaks_and_shows(self, emo, look: np.ndarray | None):
        """How an emotion given to :func:`talk` with this portrait or to :meth:`stream` (``emo``, from
        :func:`emotion_and_look` or :func:`~facecraft.audio2face.animate.resolve_emotion`, and its words' gaze
        ``look``) reaches the frames, alike on both paths: ``(speech, still, look)``, what the speech model is given
        (on a portrait made with its own emotion, a still emotion's speaking style: :func:`speech_style`), the still
        code every frame shows (:meth:`expression_change`; None on a portrait made with its own emotion, which its
        photo shows, and for a track, whose codes are shown frame by frame) and the gaze the eyes turn to (None on such
        a portrait: its photo's)."""
        from facecraft.rigs.emotion_space import EmotionCode

        still = isinstance(emo, EmotionCode)
        if self.emotion is not None:
            return (speech_style(emo) if still else emo), None, None
        return emo, (emo if still else None), look

    def _mover(self, fps: float) -> ProsodyMotion:
        return ProsodyMotion(fps, self.face_width, seed=self.seed, amount=self.motion)

    def _prosody(self, audio: np.ndarray, fps: float, first: int, count: int) -> tuple[np.ndarray, np.ndarray]:
        """Loudness and pitch (Hz, 0 unvoiced or quiet) ``(count,)`` of frames ``first ..`` of 16 kHz ``audio``:
        the pitch of all of them in one CREPE pass (:func:`pitch_frames`, the same windows :meth:`frames`
        reads), and only with head motion."""
        from facecraft.audio2face.audio import SAMPLE_RATE

        loud = np.array([frame_loudness(audio, SAMPLE_RATE, fps, first + j) for j in range(count)])
        f0 = np.zeros(count)
        if self.motion > 0 and (loud > 0).any():
            f0 = np.where(loud > 0, pitch_frames(audio, SAMPLE_RATE, fps, first, count), 0.0)
        return loud, f0

    def _move(
        self, row: np.ndarray, mover: ProsodyMotion, loudness: float, f0: float = 0.0
    ) -> tuple[np.ndarray, HeadMotion | None]:
        """One frame's curves with the brow lift added, and its head motion (``None`` without motion)."""
        head, brows = mover.step(float(loudness), row, float(f0))
        c = np.clip(np.asarray(row, np.float64) + brows, 0.0, 1.0)
        return c, (head if self.motion > 0 else None)


class _RateConverter:
    """Model-rate curve frames in, output-rate frames out, exactly as :meth:`FaceAnimation.resample` (linear
    interpolation on the frame times, clipped to [0, 1]) would give for the whole stream."""

    def __init__(self, src_fps: float, dst_fps: float) -> None:
        self.src, self.dst = float(src_fps), float(dst_fps)
        self.same = abs(self.src - self.dst) < 1e-6
        self.rows: list[np.ndarray] = []
        self.k = 0

    def _emit(self, last: bool) -> np.ndarray:
        n_src = len(self.rows)
        out = []
        total = max(1, int(round(n_src / self.src * self.dst))) if last else None
        while True:
            if last and self.k >= total:
                break
            t = self.k / self.dst
            j = int(np.floor(t * self.src + 1e-9))
            if not last and j + 1 >= n_src:
                break
            j0, j1 = min(j, n_src - 1), min(j + 1, n_src - 1)
            xp = np.array([j0, j1], np.float64) / self.src if j1 > j0 else np.array([j0 / self.src])
            fp = np.stack([self.rows[j0], self.rows[j1]]) if j1 > j0 else self.rows[j0][None]
            row = np.array([np.interp(t, xp, fp[:, i]) for i in range(fp.shape[1])], np.float32)
            out.append(np.clip(row, 0.0, 1.0))
            self.k += 1
        return np.stack(out) if out else np.zeros((0, NUM_ARKIT), np.float32)

    def push(self, rows: np.ndarray) -> np.ndarray:
        if self.same:
            return rows
        self.rows.extend(np.asarray(rows, np.float32))
        return self._emit(last=False)

    def flush(self, rows: np.ndarray) -> np.ndarray:
        if self.same:
            return rows
        self.rows.extend(np.asarray(rows, np.float32))
        return self._emit(last=True) if self.rows else np.zeros((0, NUM_ARKIT), np.float32)


def held_seals(curves: np.ndarray) -> np.ndarray:
    """How sealed each frame's curves ``(T, 52)`` hold the lips, ``(T,)`` in [0, 1]: :meth:`TalkingPortrait.sealed`,
    except that lips once sealed stay so while they stay shut (a frame keeps the previous frame's seal times its own
    :func:`~facecraft.audio2face.lip_state.shut_weight`), and the first frame is as sealed as the second where its lips
    are shut (:func:`_held_seal`).

    The speech model's lip press wavers from frame to frame while its lips stay shut (in pauses, and on /p b m/), and
    :func:`~facecraft.audio2face.lip_state.sealed_weight` reads a frame whose press dips as unsealed: on a photo with
    parted lips (a smile showing teeth) such frames showed the photo's open mouth, teeth and all, between closed ones,
    the teeth flashing on and off through a pause (librivox_0880's first 0.5 s). Lips that part release the seal."""
    c = np.asarray(curves, np.float32).reshape(-1, NUM_ARKIT)
    seals = np.zeros(len(c))
    before = None
    for k in range(len(c)):
        before = seals[k] = _held_seal(c[k], before, c[k + 1] if k + 1 < len(c) else None)
    return seals


def _held_seal(row: np.ndarray, before: float | None, after: np.ndarray | None) -> float:
    """One frame of :func:`held_seals`: the seal of curves ``row`` ``(52,)`` given the previous frame's held seal
    (``None`` for the first frame, which reads the next frame's curves ``after`` instead, where there is one)."""
    from facecraft.audio2face.lip_state import sealed_weight, shut_weight

    rows = np.asarray(row, np.float32)[None]
    if before is None:  # the first frame: a video that starts in a sealed pause starts sealed
        before = 0.0 if after is None else float(sealed_weight(np.asarray(after, np.float32)[None])[0])
    return float(max(sealed_weight(rows)[0], before * shut_weight(rows)[0]))


def _with_seals(items: Iterable[tuple]) -> Iterator[tuple]:
    """Frames ``(row, *rest)`` in (``row`` the curves ``(52,)``), ``(row, *rest, seal)`` out, each one frame late:
    the first frame's seal (:func:`held_seals`) reads the second frame's curves."""
    before = cur = None
    for nxt in items:
        if cur is not None:
            before = _held_seal(cur[0], before, nxt[0])
            yield (*cur, before)
        cur = nxt
    if cur is not None:
        yield (*cur, _held_seal(cur[0], before, None))


def _blink_gains(renderer: PortraitRenderer) -> np.ndarray:
    """How much each blink channel's rig weight ``(2,)`` (eyeBlinkLeft, eyeBlinkRight) is scaled by, so that a blink
    curve at 1 brings the upper lid down onto the lower one on this face: the rig's blink moves a lid by the rig's own
    eye opening, and on a photo whose eyes open wider than the fitted rig's (UTKFace crops, FRLL people: the lid
    centres 12-32 px apart at 512 px) ``eyeBlink`` 1 left them half open, the iris showing, a squint for a blink.
    Measured on the middle of each eye's opening (the eye the channel moves most); never below 1 (a blink is not made
    weaker) nor above :data:`MAX_BLINK_GAIN`."""
    from .lids import EYES, eye_frame

    grid = np.linspace(0.2, 0.8, 13)
    motion = renderer.basis.reshape(NUM_ARKIT, -1, 2)
    gains = np.ones(len(_BLINKS))
    for k, channel in enumerate(_BLINKS):
        shut = renderer.src + motion[channel]
        opened = [float(eye_frame(renderer.src, up, lo).gap(grid).mean()) for up, lo in EYES]
        closed = [float(eye_frame(shut, up, lo).gap(grid).mean()) for up, lo in EYES]
        eye = int(np.argmax(np.subtract(opened, closed)))
        travel = opened[eye] - closed[eye]
        if travel > 1e-6 and opened[eye] > 0:
            gains[k] = float(np.clip(opened[eye] / travel, 1.0, MAX_BLINK_GAIN))
    return gains


def _with_blink(row: np.ndarray, blink: float) -> np.ndarray:
    """One frame of :func:`facecraft.audio2face.postprocess.add_blinks`."""
    out = np.array(row, np.float32, copy=True)
    for side in ("Left", "Right"):
        i = ARKIT_INDEX["eyeBlink" + side]
        out[i] = max(out[i], np.float32(blink))
        out[ARKIT_INDEX["eyeWide" + side]] *= np.float32(1) - np.float32(blink)
    return out


def _mono(audio, name: str = "audio") -> np.ndarray:
    """Samples ``(N,)``, or ``(N, channels)`` / ``(channels, N)`` mixed down as an audio file is, as float32."""
    from facecraft.audio2face.audio import to_mono, valid_audio

    y = valid_audio(audio, name=name, mono=False)
    if y.ndim == 2:
        y = to_mono(y if y.shape[0] >= y.shape[1] else y.T)
    return y


def _check_transcript(transcript) -> None:
    from facecraft.audio2face.phonetics import transcript_words

    if transcript is not None and (not isinstance(transcript, str) or not transcript.strip()):
        raise ParameterError(f"transcript: expected the words spoken, got {transcript!r}")
    if transcript is not None:
        transcript_words(transcript)  # "?!": said before any work


def _track_codes(emo, num_frames: int, fps: float) -> np.ndarray | None:
    """An emotion track's codes ``(T, 57)`` at the frames' times, or None for anything else (a still emotion is
    edited into the photo, or drawn on a portrait given without one: :meth:`TalkingPortrait._speaks_and_shows`;
    per-frame codes given as an array are the speech model's alone)."""
    from facecraft.rigs.emotion_space import EmotionTrack

    return emo.codes_at(np.arange(num_frames) / fps) if isinstance(emo, EmotionTrack) else None


def _warn_late_keys(emo, duration: float) -> None:
    """Say when an emotion track has keys after the speech ends: the video stops before them."""
    from facecraft.rigs.emotion_space import late_keys_note

    if note := late_keys_note(emo, duration, what="the video"):
        logger.warning("%s", note)


def _still_emotion(emotion):
    """``emotion`` as one :class:`~facecraft.rigs.emotion_space.EmotionCode`, or None; a track is an error (a
    photo shows one expression: a changing one is :func:`talk`'s ``emotion_track``, drawn frame by frame). Words are
    read as the editor reads them (:func:`facecraft.synth.controls.read_control`), without the warning that an
    expression code leaves their gaze out: the portrait's edit turns the eyes (:func:`_with_expression`)."""
    from facecraft.rigs.emotion_space import EmotionCode, parse_emotion

    if is_free_text(emotion):
        from .controls import read_control

        return read_control(emotion, "emotion")[0]
    code = parse_emotion(emotion, source="emotion")
    if code is not None and not isinstance(code, EmotionCode):
        raise ParameterError(
            "emotion: the portrait shows one expression; an emotion track goes to talk(emotion_track=)"
        )
    return code


def emotion_and_look(emotion):
    """An emotion as a talking portrait reads it: what :func:`~facecraft.rigs.emotion_space.parse_emotion` makes of it
    (a code, a track, or None), words read as the editor reads them (:func:`facecraft.synth.controls.read_control`,
    once, without parse_emotion's warning that their gaze is left out), and the gaze that words name ("looking down,
    sad") as the still editor sets it (:attr:`~facecraft.synth.controls.EditControls.gaze`): weights ``(52,)`` whose
    eight ``eyeLook*`` channels are the words' (those they do not name 0), or None (no gaze named, or not words)."""
    from facecraft.rigs.emotion_space import parse_emotion

    if not is_free_text(emotion):
        return parse_emotion(emotion, source="emotion"), None
    from .controls import read_control

    code, looks = read_control(emotion, "emotion")
    if not looks:
        return code, None
    look = np.zeros(NUM_ARKIT)
    for name, weight in looks.items():
        look[ARKIT_INDEX[name]] = weight
    return code, look


def _with_expression(ed, img: np.ndarray, faces, face: int | None, emotion, name: str, keep_glasses: bool = False):
    """The photo with ``emotion`` edited into the chosen face, its faces analysed again, and that face's index
    among them (the nearest box centre).

    The edit adds nothing to the jaw and lips (``region_mask("speech")``), as an emotion track's expression does
    not (:meth:`TalkingPortrait.expression_change`): what the emotion asks of them (surprise's and fear's open jaw,
    anger's pressed and rolled-in lips, disgust's parted ones) baked into the rest photo held the mouth open through
    every /p b m/, or every vowel near shut; the speech moves them, in the emotion's style. What the edit takes away
    there stays taken (a removed smile's raised upper lip). Words that name a gaze ("looking down, sad") turn the eyes
    as the editor's do (:attr:`~facecraft.synth.controls.EditControls.gaze`)."""
    from .controls import EditControls

    index = _pick_face(faces, face, name)
    shows = faces[index].weights
    asked = EditControls.from_args(emotion=emotion).target(shows)
    lips = {n: float(min(shows[i], asked[i])) for i, n in enumerate(ARKIT_NAMES) if _SPEECH[i]}  # set outright
    controls = EditControls.from_args(emotion=emotion, arkit=lips, keep_glasses=keep_glasses)
    edited = ed.apply(img, faces, controls, face=index).image
    again = ed.analyze(edited, name=name)
    centre = lambda f: np.asarray(f.info.box, np.float64).reshape(2, 2).mean(0)  # noqa: E731
    nearest = int(np.argmin([np.linalg.norm(centre(f) - centre(faces[index])) for f in again]))
    return edited, again, nearest


def _check_fps(fps) -> float:
    if not isinstance(fps, (int, float, np.integer, np.floating)) or float(fps) not in FPS_CHOICES:
        raise ParameterError(f"fps: expected one of {', '.join(f'{f:g}' for f in FPS_CHOICES)}, got {fps!r}")
    return float(fps)


def _pick_face(faces, face: int | None, name: str) -> int:
    if face is not None:
        if not isinstance(face, (int, np.integer)) or isinstance(face, bool):
            raise ParameterError(f"face: expected a face index (0 = largest), got {face!r}")
        if not 0 <= face < len(faces):
            raise ParameterError(f"{name}: face {face} requested but {len(faces)} face(s) found (0..{len(faces) - 1})")
        return int(face)
    widths = [f.info.width for f in faces]
    rivals = [i for i in range(1, len(faces)) if widths[i] >= COMPETING_FACE * widths[0]]
    if rivals:  # where each face is: of two faces of about one size, the widths alone did not say which is which
        where = "; ".join(f"face {i}: {w:.0f} px wide, its box's top left at ({f.info.box[0]:.0f}, {f.info.box[1]:.0f})"
                          for i, (w, f) in enumerate(zip(widths, faces, strict=True)))  # fmt: skip
        raise NoFaceError(f"{name}: {len(faces)} faces found ({where}); choose one with face=N (--face N, 0 = largest)")
    if len(faces) > 1:
        logger.info("%s: %d faces found; animating the largest (the others are small)", name, len(faces))
    return 0


def _mapping(mapping, calibration, rig_now: np.ndarray) -> Callable[[np.ndarray], np.ndarray]:
    if callable(mapping):
        return mapping
    if mapping == "rig":
        return lambda target: np.asarray(target, np.float64)
    if mapping == "editor":  # removals stop short of folding the fitted rig past its neutral, as in still edits
        zero = np.zeros(NUM_ARKIT)
        return lambda target: calibration.rig_change(zero, np.clip(target, 0.0, 1.0), rig_now=rig_now)
    raise ParameterError(f"mapping: expected 'rig', 'editor' or a callable, got {mapping!r}")


def seal_bilabials(curves: np.ndarray, phones, fps: float, *, margin_s: float = 0.01) -> np.ndarray:
    """Curves ``(T, 52)`` with the lips sealed during the aligned /p b m/ phones (forced alignment).

    Frames whose time lies inside a P, B or M phone (shrunk by ``margin_s`` at both ends) get the procedural
    teacher's closure: jaw capped at :data:`~facecraft.audio2face.lip_state.CLOSURE_JAW`, ``mouthClose`` at the
    jaw plus :data:`~facecraft.audio2face.lip_state.CLOSURE_SEAL`, press at least
    :data:`~facecraft.audio2face.lip_state.CLOSURE_PRESS`, no lip funnel or roll-out. Returns a float32 copy.
    """
    from facecraft.audio2face.lip_state import CLOSE, CLOSURE_JAW, CLOSURE_PRESS, CLOSURE_SEAL, JAW

    out = np.array(curves, np.float32, copy=True)
    times = np.arange(len(out)) / float(fps)
    press = [ARKIT_INDEX["mouthPressLeft"], ARKIT_INDEX["mouthPressRight"]]
    parting = [ARKIT_INDEX[n] for n in ("mouthFunnel", "mouthUpperUpLeft", "mouthUpperUpRight",
                                        "mouthLowerDownLeft", "mouthLowerDownRight", "mouthShrugUpper")]  # fmt: skip
    for p in phones:
        if p.phone not in ("P", "B", "M"):
            continue
        sel = (times >= p.start + margin_s) & (times <= p.end - margin_s)
        if not sel.any():  # a short phone between two frames: seal the nearest frame
            sel = np.zeros(len(out), bool)
            sel[min(int(round((p.start + p.end) / 2 * fps)), len(out) - 1)] = True
        jaw = np.minimum(out[sel, JAW], CLOSURE_JAW)
        out[sel, JAW] = jaw
        out[sel, CLOSE] = jaw + CLOSURE_SEAL
        for i in press:
            out[sel, i] = np.maximum(out[sel, i], CLOSURE_PRESS)
        for i in parting:
            out[sel, i] = 0.0
    return out


def speech_style(code):
    """An emotion code with only its categories (what the speech model was trained on): the emotion's style of
    speaking, without the AU or ARKit residual that a photo edited to the emotion already shows."""
    from facecraft.audio2face.postprocess import split_emotion_codes
    from facecraft.rigs.emotion_space import EmotionCode

    return EmotionCode(split_emotion_codes(code.vector)[0])


def talk_curves(
    audio: np.ndarray,
    *,
    sr: int = 16000,
    fps: float = 25.0,
    emotion=None,
    emotion_track=None,
    transcript: str | None = None,
    weights=None,
    gaze: bool = True,
) -> np.ndarray:
    """ARKit curves ``(T, 52)`` at ``fps`` for mono ``audio``: the shipped speech model with blinks, and with
    the lips sealed on the aligned /p b m/ when a ``transcript`` is given (:func:`seal_bilabials`). A transcript that
    does not fit the speech is passed over with a warning, as ``facecraft animate`` passes it over
    (:func:`~facecraft.audio2face.phonetics.speech_phones`): the curves are those without one. ``gaze``: the
    speech side's fixations and saccades in the ``eyeLook*`` channels (:func:`facecraft.audio2face.head_motion.gaze`;
    still eyes for silence), which a :class:`TalkingPortrait` turns its eyes by."""
    return _curves_and_fit(audio, sr, fps, emotion, emotion_track, transcript, weights, gaze)[0]


def _curves_and_fit(
    audio, sr, fps, emotion, emotion_track=None, transcript=None, weights=None, gaze=True
) -> tuple[np.ndarray, float | None, str | None]:
    """:func:`talk_curves`, how well the transcript fits the speech (``PhoneticResult.fit``; None without one) and
    how its phones were found (:attr:`TalkResult.phones`)."""
    from facecraft.audio2face.animate import animate_audio, resolve_emotion

    emo = resolve_emotion(emotion, emotion_track)
    # the blinks a live stream draws, which cannot know the line's length (a stream equals the offline video)
    anim = animate_audio(audio, sr=sr, emotion=emo, fps=fps, weights=weights, gaze=gaze, blink_seed=0)
    if transcript is None:
        return anim.curves, None, None
    from facecraft.audio2face.phonetics import speech_phones

    _check_transcript(transcript)
    # the procedural animator's rule: aligned, or recognised from the sound with a warning where it does not fit
    found = speech_phones(audio, sr, transcript=transcript)
    if found.method != "align":  # recognised phones are not sure enough to seal the lips on: the curves as they are
        return anim.curves, None, found.method
    return seal_bilabials(anim.curves, found.phones, fps), found.fit, found.method


def talk(
    photo,
    audio,
    out_mp4,
    *,
    emotion=None,
    emotion_track=None,
    transcript: str | None = None,
    fps: float = 25.0,
    size: int | None = 512,
    face: int | None = None,
    editor=None,
    portrait: TalkingPortrait | None = None,
    motion: float | None = None,
    crf: int = 18,
    progress: bool = False,
    keep_glasses: bool = False,
    gaze: bool | None = None,
) -> TalkResult:
    """Make a video of the face in ``photo`` saying ``audio``, with the sound.

    Parameters
    ----------
    photo : array (H, W, 3) or path
        The portrait (ignored when ``portrait`` is given).
    audio : path or (samples, sample_rate)
        The speech; any format :func:`facecraft.audio2face.audio.load_audio` reads. Silence gives a still face
        (blinks only).
    out_mp4 : path
        The H.264 MP4 to write (through :func:`facecraft.rigs.video.write_mp4`, audio muxed in).
    emotion, emotion_track : optional
        Anything :func:`facecraft.rigs.emotion_space.parse_emotion` takes (``"happiness:0.7"``, a track JSON). Words
        that name a gaze ("looking down, sad") turn the eyes there (:class:`TalkingPortrait`'s ``emotion``).
    transcript : str, optional
        The words spoken: forced-aligned, to seal the lips on every /p b m/. Words that do not fit the speech are
        passed over with a warning (``TalkResult.phones`` ``"recognize"``), as ``facecraft animate`` does.
    fps : 25 or 30
    size : int or None
        Side of the square video in pixels (None: the photo's own size and framing).
    face : int, optional
        Which face of the photo (0 = largest); needed when it has several.
    portrait : TalkingPortrait, optional
        A photo analysed before (``photo``, ``face``, ``size``, ``editor`` and ``motion`` are its own then).
    motion : float, optional
        Scale of the head and brow motion, 0..3 (default 1).
    crf : int
        H.264 quality, 0 (lossless) .. 51.
    progress : bool
        A progress bar over the frames rendered (the command line's).
    keep_glasses : bool
        Keep a glasses frame straight on the face (:class:`TalkingPortrait`; a ``portrait`` given keeps its own).
    gaze : bool, optional
        Eyes that move while the face speaks (fixations and saccades around where the photo looks); False keeps
        them as the photo has them (default True; a ``portrait`` given has its own: :class:`TalkingPortrait`).

    Returns
    -------
    TalkResult

    Raises
    ------
    NoFaceError
        No usable face (see :class:`TalkingPortrait`).
    MissingFileError, FileFormatError
        Audio missing or unreadable.
    """
    from facecraft.audio2face.animate import resolve_emotion
    from facecraft.audio2face.audio import SAMPLE_RATE, load_audio, resample, warn_little_speech
    from facecraft.audio2face.postprocess import audio_peak, is_silent
    from facecraft.rigs.emotion_space import EmotionCode
    from facecraft.rigs.video import check_crf, check_video_path, write_mp4

    fps = _check_fps(fps)
    # what can be wrong with the arguments is said before the photo's analysis and the render
    if not isinstance(audio, tuple | str | os.PathLike):  # an array was a TypeError from deep in pathlib
        bare = " (samples without their sample rate)" if hasattr(audio, "__len__") else ""
        raise ParameterError(f"audio: expected a sound file or (samples, sample_rate), got {type(audio).__name__}"
                             + bare)
    out_mp4 = check_video_path(out_mp4, inputs=(photo, audio))
    check_crf(crf, out_mp4)
    _check_transcript(transcript)
    if portrait is not None and motion is not None and motion != portrait.motion:
        raise ParameterError(f"motion: the portrait was made with motion={portrait.motion:g}; give the motion to "
                             "TalkingPortrait(..., motion=...)")  # fmt: skip
    if portrait is not None and gaze is not None and bool(gaze) != portrait.gaze:
        raise ParameterError(f"gaze: the portrait was made with gaze={portrait.gaze}; give it to "
                             "TalkingPortrait(..., gaze=...)")  # fmt: skip
    if isinstance(audio, tuple):
        if len(audio) != 2:
            raise ParameterError(f"audio: expected a path or (samples, sample_rate), got a {len(audio)}-tuple")
        y, sr = _mono(audio[0]), audio[1]
        if not (isinstance(sr, (int, np.integer)) and sr > 0):
            raise ParameterError(f"audio: the sample rate must be a positive whole number of Hz, got {sr!r}")
        if sr != SAMPLE_RATE:
            y = resample(y, orig_sr=sr, target_sr=SAMPLE_RATE)
        mux = (y, SAMPLE_RATE)
    else:
        y, _ = load_audio(audio)
        mux = audio
    name = "audio" if isinstance(audio, tuple) else str(audio)
    if len(y) == 0:
        raise ParameterError(f"{name}: no audio samples")
    warn_little_speech(y, name)  # said, not refused: singing is animated
    t0 = time.perf_counter()
    if is_free_text(emotion) and emotion_track is None:  # words: read as the editor reads them, their gaze kept
        emo, look = emotion_and_look(emotion)
    else:
        emo, look = resolve_emotion(emotion, emotion_track), None
    _warn_late_keys(emo, len(y) / SAMPLE_RATE)
    if portrait is None:
        still = emo if isinstance(emo, EmotionCode) else None  # a constant emotion is shown on the face itself
        still = emotion if still is not None and is_free_text(emotion) else still  # words keep the gaze they name
        portrait = TalkingPortrait(photo, face=face, editor=editor, size=size, motion=1.0 if motion is None else motion,
                                   emotion=still, keep_glasses=keep_glasses,
                                   gaze=True if gaze is None else gaze)  # fmt: skip
    # as a stream shows it: a portrait made with the emotion shows it in its photo, and speaks in its style; a portrait
    # given without one draws it on every frame, its words' gaze too
    speech, still, look = portrait._speaks_and_shows(emo, look)
    t1 = time.perf_counter()
    curves, fit, phones = _curves_and_fit(y, SAMPLE_RATE, fps, speech, transcript=transcript, gaze=portrait.gaze)
    t2 = time.perf_counter()
    codes = _track_codes(emo, len(curves), fps)
    if still is not None:
        codes = np.repeat(still.vector[None], len(curves), axis=0)
    frames = portrait.frames(curves, fps, audio=y, emotions=codes, look=look)
    if progress:
        from tqdm.auto import tqdm

        frames = tqdm(frames, total=len(curves), desc="talk: frames", unit="frame", leave=False)
    path = write_mp4(frames, out_mp4, fps=fps, audio=mux, crf=crf)
    t3 = time.perf_counter()
    logger.info("talk: %s, %d frames at %g fps (analysis %.1f s, curves %.1f s, render+encode %.1f s)",
                path, len(curves), fps, t1 - t0, t2 - t1, t3 - t2)  # fmt: skip
    silent = is_silent(audio_peak(y))
    return TalkResult(Path(path), len(curves), fps, curves, t1 - t0, t2 - t1, t3 - t2, silent, fit, phones)
