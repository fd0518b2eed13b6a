"""Edit controls -> the ARKit-52 weights a face should end with.

An artist gives any mix of an emotion with intensity, a few words, FACS AUs, ARKit weights or an
:class:`~facecraft.rigs.EmotionCode`; every form goes through the one emotion parser
(:func:`facecraft.rigs.emotion_space.parse_emotion`) and the one AU -> ARKit map. :meth:`EditControls.target`
then says where each ARKit channel ends, given where the face is now.

Relative mode (the default) edits the expression the face already has:

* an emotion or text moves the face *toward* its expression: a channel it raises ends at
  ``max(current, target)`` (a smiling face asked for ``happiness:1`` does not double its smile), and the
  face's other expression channels (brows, lids, cheeks, nose, mouth corners) fade by the new expression's
  strength (a smile gives way to ``sadness:1``, half of it to ``sadness:0.5``); ``neutral:x`` fades the
  whole expression by ``x``;
* an AU or ARKit value sets that channel outright (a slider); AUs go through the AU -> ARKit map, and an AU sets
  only its main channels outright: the lesser ones it moves too (AU6's 0.3 of ``eyeSquint``, AU25's 0.1 of
  ``jawOpen``) only rise, so ``AU6=1`` on a face that squints does not open its eyes;
* speech channels (jaw, lips) and gaze keep what the face has unless a control names them. Words that name a gaze
  ("a shy smile, looking down", "glancing to the left": :func:`facecraft.rigs.expression_text.text_to_face`) set
  the eight ``eyeLook*`` channels as a whole, as sliders would: the asked direction's to its weights, the others to
  0 (a gaze is one direction); an ``arkit`` value for an ``eyeLook*`` channel wins over the words'. Words that keep
  the lips together ("a closed mouth smile", "a tight-lipped smile") set the channels that part them
  (:data:`MOUTH_OPENING`) to 0 the same way, and the editor adds no opening of its own to their smile
  (``closed_mouth``; a broad smile's lips part over the teeth by themselves). Words that put the tongue out
  ("sticking the tongue out", ":P") set ``tongueOut`` as a slider would (``tongue``: no AU carries it).

Absolute mode (``absolute=True``) sets the target outright: every channel takes the controls' value (zero
where no control speaks), except gaze (``eyeLook*``), which a photo edit keeps unless a control names it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from facecraft.rigs import ARKIT_INDEX, ARKIT_NAMES, NUM_ARKIT, EmotionCode, ParameterError, au_to_arkit, au_vector
from facecraft.rigs.arkit import GAZE_CHANNELS
from facecraft.rigs.emotion_space import (
    is_free_text,
    parse_assignments,
    parse_emotion,
    region_mask,
    split_controls,
)
from facecraft.rigs.expression_text import text_to_edit

_GAZE = region_mask("gaze")
_TONGUE = ARKIT_INDEX["tongueOut"]
_BLINK = np.array([n.startswith("eyeBlink") for n in ARKIT_NAMES])
#: The channels that part the lips (the jaw, the lower lip lowered, the upper lip raised): words that keep the lips
#: together set them to 0 (also the calibration's :data:`facecraft.synth.calibration.OPENING`).
MOUTH_OPENING = np.array([n.startswith(("jawOpen", "mouthLowerDown", "mouthUpperUp")) for n in ARKIT_NAMES])
_ACTIVE = 1e-3  # a channel a control drives above this counts as driven
#: The upper lip raised off the teeth (MediaPipe's ``mouthUpperUp``; AU10) that a broad smile carries: in
#: relative mode it goes as far as the smile goes (a smiling face asked for surprise or sadness otherwise keeps
#: its upper teeth bared over the new mouth: a laugh to FER judges), though speech also uses it.
_EXPRESSION_LIPS = np.array([n.startswith("mouthUpperUp") for n in ARKIT_NAMES])
#: Each side's blink and widened eye (Left, Right), the lid's closing and its raise.
_BLINK_WIDE = tuple((ARKIT_NAMES.index(f"eyeBlink{s}"), ARKIT_NAMES.index(f"eyeWide{s}")) for s in ("Left", "Right"))
_SMILE = np.array([n.startswith("mouthSmile") for n in ARKIT_NAMES])
#: MediaPipe's scores of a resting face: the median over the neutral photos of the 36 FRLL calibration people
#: (:func:`facecraft.synth.calibration.calibration_photos`) of each emotion-region channel, where it reaches 0.1
#: (eyeSquint left / right 0.31 / 0.22; browDown, browOuterUp 0.06-0.08 and every other channel below, left at 0).
#: Relative edits fade the old expression down to this, not to 0: a resting face's lower lids read as squint, and
#: fading that to 0 dropped them below rest (the white of the eye showing under the iris in surprise, fear and
#: sadness edits of neutral photos: a stare).
RESTING_SCORES = np.zeros(NUM_ARKIT, np.float32)
RESTING_SCORES[[ARKIT_INDEX["eyeSquintLeft"], ARKIT_INDEX["eyeSquintRight"]]] = (0.31, 0.22)
#: The eye channels MediaPipe scores per side (left, right). It scores the two sides unlike on eyes that open alike
#: (FRLL calibration 012: eyeSquint 0.47 / 0.24 at lid openings 0.316 / 0.309 eye widths; UTK tuning crop 27_1_2:
#: 0.62 / 0.26), so a change taken per side from those scores added 2-2.5x the squint to the eye read as less squinted.
EYE_PAIRS = np.array(
    [[ARKIT_INDEX[n + "Left"], ARKIT_INDEX[n + "Right"]] for n in ("eyeSquint", "eyeBlink", "eyeWide")]
)
#: How far a lid is closed, as MediaPipe's ``eyeBlink`` score reads it. An artist's ``eyeBlink`` / AU43 value asks
#: for a closure, the share of the photo's eye opening the upper lid closes (:func:`blink_value_closure`: 0 open as
#: in the photo, 0.5 halfway down over the iris, heavy and sleepy, shut from 0.8), but edit targets live in
#: MediaPipe's score space, where a lid reads very unevenly: low until nearly shut. ``BLINK_SCORES[i]`` is the score
#: of a lid closed by ``BLINK_CLOSURE[i]``: requested blink values become targets through it (:func:`blink_score`)
#: and the calibration reads the score changes back as closure (:func:`blink_closure`). Closure 0 is 0.17, the 90th
#: percentile of the tuning photos' own scores (36 FRLL calibration neutrals, 40 UTKFace tuning crops: median 0.07,
#: 75th percentile 0.125): open eyes read up to it, so a photo's lids count as closed only where they read as more.
#: Above it, the median rise of the score over the photo's own at each closure of the lid the edit draws (the rig's
#: blink on both eyes at 0.25-1.75 units on the same photos, the closure of the target mesh's lid, which the lid
#: painter draws: :mod:`facecraft.synth.lids`): 0.07, 0.17, 0.32, 0.44.
BLINK_CLOSURE = (0.0, 0.25, 0.5, 0.75, 1.0)
BLINK_SCORES = (0.17, 0.24, 0.34, 0.49, 0.61)


#: An asked ``eyeBlink`` / AU43 value -> the closure drawn: up to 0.5 the value is the closure (0.5 halfway down over
#: the iris), then it steepens to shut at 0.8: a lid 0.8 closed leaves a sliver of iris, a squint more than closing eyes
#: (MediaPipe read 46 of 61 such eyeBlink 0.8 edits of the tuning photos as a squint, with the value as the closure).
BLINK_VALUES = (0.0, 0.5, 0.8)
BLINK_VALUE_CLOSURE = (0.0, 0.5, 1.0)


def blink_value_closure(value):
    """The closure (share of the eye's opening, [0, 1]) an asked ``eyeBlink`` / AU43 ``value`` draws
    (:data:`BLINK_VALUES`)."""
    return np.interp(value, BLINK_VALUES, BLINK_VALUE_CLOSURE)


def blink_score(closure):
    """MediaPipe ``eyeBlink`` score of a lid closed by ``closure`` (share of the eye's opening, clipped to [0, 1])."""
    return np.interp(np.clip(closure, 0.0, 1.0), BLINK_CLOSURE, BLINK_SCORES)


def blink_closure(score):
    """The closure (share of the eye's opening, [0, 1]) of a lid read as ``eyeBlink`` ``score``: 0 up to an open eye's
    score, 1 from a shut one's (:data:`BLINK_SCORES`)."""
    return np.interp(score, BLINK_SCORES, BLINK_CLOSURE)


#: Two sides asked within this of each other are asked alike (an emotion's sides are equal; the speech model's eye
#: curves differ by up to 0.01 on a symmetric ask).
ALIKE = 0.02


def own_scores(scores: np.ndarray, asked: np.ndarray) -> np.ndarray:
    """The photo's ``scores`` ``(52,)`` a relative change toward ``asked`` ``(52,)`` starts from: an eye channel asked
    alike on both sides (:data:`EYE_PAIRS`, within :data:`ALIKE`) starts from its two sides' mean on both, so both
    sides move alike and the photo's own difference between its eyes stays (not added to); a one-sided ask keeps
    each side's own score, and so does a pair left as it is (no change appears where none is asked)."""
    own = np.array(scores, np.float64).reshape(-1)
    a = np.asarray(asked, np.float64).reshape(-1)
    moved = np.abs(a[EYE_PAIRS] - own[EYE_PAIRS]).max(axis=1) > _ACTIVE
    alike = moved & (np.abs(a[EYE_PAIRS[:, 0]] - a[EYE_PAIRS[:, 1]]) <= ALIKE)
    own[EYE_PAIRS[alike]] = own[EYE_PAIRS[alike]].mean(axis=1, keepdims=True)
    return own


def _one_code(value, source: str) -> EmotionCode | None:
    code = parse_emotion(value, source=source)
    if code is not None and not isinstance(code, EmotionCode):
        raise ParameterError(f"{source}: a photo edit takes one expression, not a track or per-frame codes")
    return code


def read_control(value, source: str) -> tuple[EmotionCode | None, dict[str, float]]:
    """One emotion or text control as a photo edit reads it: its expression code (None for none) and, for words, the
    gaze they name (ARKit ``eyeLook*`` weights; :func:`facecraft.rigs.expression_text.text_to_face`, read once and
    without the warning that an AU vector leaves the gaze out: the edit turns the eyes)."""
    return _read(value, source)[:2]


def _read(value, source: str) -> tuple[EmotionCode | None, dict[str, float], bool, float]:
    """:func:`read_control`'s code and gaze, whether words keep the lips together and how far they put the tongue
    out (:func:`facecraft.rigs.expression_text.text_to_edit`)."""
    if is_free_text(value):
        face, looks, shut, tongue = text_to_edit(value.strip())
        return EmotionCode.from_au(face), looks, shut, tongue
    return _one_code(value, source), {}, False, 0.0


@dataclass(frozen=True)
class EditControls:
    """What an edit asks for; build it with :meth:`from_args` (which checks every name and value)."""

    codes: tuple[EmotionCode, ...] = ()
    au: Mapping[str, float] = field(default_factory=dict)
    arkit: Mapping[str, float] = field(default_factory=dict)
    absolute: bool = False
    neutralise: float = 0.0  # a ``neutral:x`` request: fade the current expression by x
    keep_glasses: bool = False  # hold a glasses frame still (:mod:`facecraft.synth.glasses_frame`)
    gaze: Mapping[str, float] = field(default_factory=dict)  # the words' gaze: all eight eyeLook* channels, or none
    closed_mouth: bool = False  # words keep the lips together: MOUTH_OPENING set to 0, no opening added by the editor
    tongue: float = 0.0  # the words' tongue out (ARKit tongueOut, which no AU carries); 0: as the face has it

    @classmethod
    def from_args(
        cls,
        *,
        emotion=None,
        text: str | None = None,
        au=None,
        arkit=None,
        absolute: bool = False,
        keep_glasses: bool = False,
    ) -> EditControls:
        """Controls from the forms a user gives.

        Parameters
        ----------
        emotion : str, dict, EmotionCode or None
            Anything :func:`~facecraft.rigs.emotion_space.parse_emotion` takes for one expression
            (``"anger:0.7"``, ``"AU12=0.6"``, ``"a shy smile"``, an EmotionCode).
        text : str, optional
            A few words (``"a shy smile"``); the same parser.
        au, arkit : dict or list of ``"NAME=VALUE"`` strings, optional
            FACS AUs (``AU12``, ``AU12R``) and ARKit weights (any alias), each in [0, 1].
        absolute : bool
            Set the target outright instead of editing the current expression.
        keep_glasses : bool
            Hold the frame of the glasses a face wears where it is (straight rims; the brows rise less next to the
            frame, see :mod:`facecraft.synth.glasses_frame`). Faces whose frame is not found for sure are edited
            as without it.
        """
        codes: list[EmotionCode] = []
        gaze: dict[str, float] = {}
        closed_mouth = False
        tongue = 0.0
        neutralise = 0.0
        emotion_given = emotion is not None
        for flag, flag_name in ((absolute, "absolute"), (keep_glasses, "keep_glasses")):
            if not (isinstance(flag, bool | np.bool_) or (isinstance(flag, int) and flag in (0, 1))):
                raise ParameterError(f"{flag_name}: expected True or False, got {flag!r}")  # 'no' was taken as True
        if text is not None and (not isinstance(text, str) or not text.strip()):
            raise ParameterError(f"text: expected a few words, got {text!r}")
        if isinstance(emotion, str) and emotion.partition(":")[0].strip().lower() == "neutral":
            level = emotion.partition(":")[2]
            _one_code(emotion, "emotion")  # validates the intensity
            neutralise = float(level) if level.strip() else 1.0
            emotion = None
        for value, source in ((emotion, "emotion"), (text, "text")):
            code, looks, shut, out = _read(value, source)
            closed_mouth |= shut
            tongue = max(tongue, out)
            for name, weight in looks.items():
                gaze[name] = max(gaze.get(name, 0.0), weight)
            if code is None:
                continue
            if is_free_text(value) and float(code.to_au().max()) < _ACTIVE:
                if not looks:  # words for a neutral face ("expressionless", "not smiling") are neutral:1; words
                    neutralise = 1.0  # that only move the eyes ("looking up") leave the expression as it is
            else:
                codes.append(code)
        if gaze:  # a gaze is one direction: the channels it does not name go to 0, as sliders set them
            gaze = {name: gaze.get(name, 0.0) for name in GAZE_CHANNELS}
        au_values = _weights(au, "au")
        arkit_values = _weights(arkit, "arkit")
        au_checked, stray_arkit = split_controls(au_values, source="au")
        stray_au, arkit_checked = split_controls(arkit_values, source="arkit")
        if stray_arkit:
            raise ParameterError(f"au: {', '.join(stray_arkit)} are ARKit names; give them with arkit")
        if stray_au:
            raise ParameterError(f"arkit: {', '.join(stray_au)} are Action Units; give them with au")
        given = codes or au_checked or arkit_checked or neutralise or emotion_given or gaze or tongue
        if not given:
            raise ParameterError("no edit control given: use an emotion, text, AUs or ARKit weights")
        return cls(
            tuple(codes), au_checked, arkit_checked, bool(absolute), neutralise, bool(keep_glasses), gaze, closed_mouth,
            tongue,
        )  # fmt: skip

    # ------------------------------------------------------------------ target
    def requested(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """``(expression, set_values, set_mask, raised_mask)``, each ``(52,)``: what the emotion/text codes ask
        for, the channels that AU / ARKit controls, the words' gaze and closed mouth set outright (``set_mask``) or
        only raise (``raised_mask``: an AU's lesser channels) with their values, as MediaPipe scores (a blink's
        closure as the score such a lid reads as: :func:`blink_score`)."""
        expression = np.zeros(NUM_ARKIT, np.float32)
        for code in self.codes:
            expression = np.maximum(expression, code.to_arkit())
        set_values = np.zeros(NUM_ARKIT, np.float32)
        set_mask = np.zeros(NUM_ARKIT, bool)
        raised_mask = np.zeros(NUM_ARKIT, bool)
        if self.closed_mouth:  # the lips held together, as sliders at 0 would (an AU or ARKit control wins)
            set_values[MOUTH_OPENING], set_mask[MOUTH_OPENING] = 0.0, True
        if self.au:
            values = au_to_arkit(au_vector(dict(self.au)))
            for name in self.au:
                column = au_to_arkit(au_vector({name: 1.0}))
                driven = column > _ACTIVE
                main = driven & (column >= column.max() - _ACTIVE)
                set_mask |= main
                raised_mask |= driven & ~main
            raised_mask &= ~set_mask  # a channel one AU sets outright is set, whatever another adds to it
            driven = set_mask | raised_mask
            set_values[driven] = values[driven]
        for name, weight in self.gaze.items():  # before the ARKit values: a slider for the channel wins
            set_values[ARKIT_INDEX[name]], set_mask[ARKIT_INDEX[name]] = weight, True
        if self.tongue > 0:
            set_values[_TONGUE], set_mask[_TONGUE] = self.tongue, True
        for name, weight in self.arkit.items():
            set_values[ARKIT_INDEX[name]], set_mask[ARKIT_INDEX[name]] = weight, True
            raised_mask[ARKIT_INDEX[name]] = False
        # a blink value is how far the lid closes: its target is the score such a lid reads as
        asked = _BLINK & (expression > _ACTIVE)
        expression[asked] = blink_score(blink_value_closure(expression[asked]))
        set_values[_BLINK & set_mask] = blink_score(blink_value_closure(set_values[_BLINK & set_mask]))
        return expression, set_values, set_mask, raised_mask

    def holds_lips_shut(self, target: np.ndarray) -> bool:
        """Whether the edit holds the lips together: a control sets a channel that parts them (:data:`MOUTH_OPENING`)
        and ``target`` (:meth:`target`'s weights) leaves every one of them at 0: words that keep the lips together
        (``closed_mouth``, unless a slider opens them), or sliders at 0 (``arkit jawOpen=0`` in absolute mode, where
        the others are 0 too). The editor then closes lips the photo shows apart (a smile's parted over its teeth)."""
        set_mask = self.requested()[2]
        return bool(set_mask[MOUTH_OPENING].any() and np.asarray(target)[MOUTH_OPENING].max() <= _ACTIVE)

    def target(self, current: np.ndarray | None = None) -> np.ndarray:
        """ARKit weights ``(52,)`` in [0, 1] the face should end with, given its ``current`` weights."""
        now = np.zeros(NUM_ARKIT, np.float32) if current is None else np.asarray(current, np.float32).reshape(-1)
        if now.shape != (NUM_ARKIT,):
            raise ParameterError(f"current weights: expected shape ({NUM_ARKIT},), got {now.shape}")
        now = np.clip(now, 0.0, 1.0)
        expression, set_values, set_mask, raised_mask = self.requested()
        driven = expression > _ACTIVE
        rest = np.minimum(RESTING_SCORES, now)  # what fades is the expression above a resting face's
        if self.absolute:  # outright, from a resting face (MediaPipe's zero squint is a stare)
            out = np.where(driven, expression, rest)
            out[_GAZE] = now[_GAZE]
        else:
            fading = region_mask("emotion") & ~driven
            # how strongly the new expression replaces the old: its emotion intensity (activation sum) or
            # its strongest expression channel, whichever is larger (text and AU codes may have no activation)
            shown = float(expression[region_mask("emotion")].max(initial=0.0))
            strength = min(max([shown, *(float(c.activations.sum()) for c in self.codes)]), 1.0)
            out = now.copy()
            out[fading] = _fade(now, rest, strength)[fading]
            if self.neutralise:
                kept = ~_GAZE & ~_BLINK
                out[kept] = _fade(out, rest, self.neutralise)[kept]
            level = own_scores(now, np.where(driven, expression, now))  # an eye asked alike rises alike
            out[driven] = np.maximum(level[driven], expression[driven])
            smile = float(now[_SMILE].sum())
            if smile > _ACTIVE:  # the smile's share of the raised upper lip goes with the smile
                kept = min(float(out[_SMILE].sum()) / smile, 1.0)
                lips = _EXPRESSION_LIPS & ~driven  # only lowers it: neutral:x may already have faded it further
                with_smile = now[lips] * (1.0 - min(float(now[_SMILE].mean()), 1.0) * (1.0 - kept))
                out[lips] = np.minimum(out[lips], with_smile)
        out[set_mask] = set_values[set_mask]
        if self.absolute:
            out[raised_mask] = set_values[raised_mask]
        else:
            out[raised_mask] = np.maximum(out[raised_mask], set_values[raised_mask])
        # a lid asked to close closes over a widened eye: the wide eye gives way by the share the request closes it
        # (surprise with eyeBlinkLeft=1 left a strip of white under the lid, FRLL calibration 012, 092, 107, 127)
        asked = driven | set_mask | raised_mask
        for blink, wide in _BLINK_WIDE:
            closing = float(blink_closure(out[blink]) - blink_closure(now[blink]))  # share of the opening it closes
            if asked[blink] and closing > 0.0:
                out[wide] *= 1.0 - min(closing / max(1.0 - float(blink_closure(now[blink])), 1e-6), 1.0)
        return np.clip(out, 0.0, 1.0).astype(np.float32)


def _fade(values: np.ndarray, rest: np.ndarray, strength: float) -> np.ndarray:
    """``values`` moved toward ``rest`` by ``strength`` (0: as they are, 1 and more: at rest)."""
    return rest + (values - rest) * (1.0 - min(strength, 1.0))


def _weights(values, source: str) -> dict[str, float]:
    if values is None:
        return {}
    if isinstance(values, Mapping):
        return dict(values)
    return parse_assignments(values, source=source)
