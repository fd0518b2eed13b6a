"""Emotion space v1: one small vector shared by the editor, the speech animator and the FER classifier.

An :class:`EmotionCode` is a float32 vector of size :data:`EMOTION_CODE_DIM` = 57:

* ``[0:7]`` activations of the seven non-neutral emotions (:data:`CODE_EMOTIONS`: anger, contempt,
  disgust, fear, happiness, sadness, surprise), each in [0, 1] with sum <= 1. The rest of the mass,
  ``1 - sum``, is neutral. An emotion at intensity ``x`` is the activation ``x``.
* ``[7:57]`` a sided FACS AU residual (left side's 25 AUs, then the right side's; see
  :mod:`facecraft.rigs.facs`): what the face does beyond the mixture of EMFACS prototypes. It makes
  AU vectors round-trip exactly and is zero for category codes.

Decoding gives AU intensities ``clip(P @ activations + residual, 0, 1)`` (``P`` the prototype matrix) and
ARKit-52 weights through the one AU -> ARKit map. Codes interpolate linearly; an :class:`EmotionTrack`
eases between keys over time. Free text is read by :mod:`facecraft.rigs.expression_text` (clauses, negation,
sides, the all-MiniLM-L6-v2 sentence embedding against described anchor expressions) into an AU vector.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .arkit import ARKIT_NAMES, GAZE_CHANNELS, NUM_ARKIT, SPEECH_CHANNELS, weights_from_dict
from .emotions import EMOTIONS, emotion_au_vector, normalize_emotion, suggest_emotion
from .errors import FileFormatError, MissingFileError, ParameterError
from .expression_text import text_to_au
from .facs import NUM_SIDED_AU, arkit_to_au, au_to_arkit, au_vector

CODE_EMOTIONS: tuple[str, ...] = tuple(e for e in EMOTIONS if e != "neutral")
NUM_CODE_EMOTIONS = len(CODE_EMOTIONS)
EMOTION_CODE_DIM = NUM_CODE_EMOTIONS + NUM_SIDED_AU

# (50, 7): sided AU prototype of each non-neutral emotion at full intensity.
PROTOTYPE_AU = np.stack([emotion_au_vector(e) for e in CODE_EMOTIONS], axis=1).astype(np.float32)
# (8, 52): ARKit weights of each emotion's prototype, in EMOTIONS order (neutral is zeros).
PROTOTYPE_ARKIT = np.stack([au_to_arkit(emotion_au_vector(e)) for e in EMOTIONS]).astype(np.float32)

# Channel groups used to judge which part of the face carries an emotion.
_UPPER = ("browDown", "browInnerUp", "browOuterUp", "eyeSquint", "eyeWide", "cheekSquint", "noseSneer")
_CORNERS = ("mouthSmile", "mouthFrown", "mouthDimple", "mouthStretch")
# speech: the one list of speech channels (facecraft.rigs.arkit.SPEECH_CHANNELS) minus what the emotion region owns
_SPEECH = tuple(n for n in SPEECH_CHANNELS if not n.startswith(_UPPER + _CORNERS))


def region_mask(region: str) -> np.ndarray:
    """Boolean ``(52,)`` mask of ARKit channels in a face region.

    ``"upper"``: brows, lids (squint/wide), cheeks, nose. ``"corners"``: mouth corners (smile, frown,
    dimple, stretch). ``"emotion"``: upper + corners, the channels an emotion overlay owns.
    ``"speech"``: the jaw, lip and tongue channels that carry articulation
    (:data:`facecraft.rigs.arkit.SPEECH_CHANNELS`) except those the emotion region owns (mouthStretch), so the
    speech and emotion regions are disjoint. ``"gaze"``: the ``eyeLook*`` channels
    (:data:`facecraft.rigs.arkit.GAZE_CHANNELS`). ``"full"``: all but blinks and gaze.
    """
    groups = {
        "upper": _UPPER,
        "corners": _CORNERS,
        "emotion": _UPPER + _CORNERS,
        "speech": _SPEECH,
        "gaze": GAZE_CHANNELS,
    }
    if region == "full":
        return np.array([not n.startswith(("eyeBlink", "eyeLook")) for n in ARKIT_NAMES])
    if region not in groups:
        raise ParameterError(
            f"unknown face region {region!r}; expected one of upper, corners, emotion, speech, gaze, full"
        )
    return np.array([n.startswith(groups[region]) for n in ARKIT_NAMES])


def _fit_activations(au: np.ndarray) -> np.ndarray:
    """Non-negative prototype mixture (sum <= 1) closest to a sided AU vector."""
    from scipy.optimize import lsq_linear

    a = lsq_linear(PROTOTYPE_AU.astype(np.float64), au.astype(np.float64), bounds=(0.0, 1.0), method="bvls").x
    total = a.sum()
    return (a / total if total > 1.0 else a).astype(np.float32)


@dataclass(frozen=True)
class EmotionCode:
    """A point in the emotion space (see the module docstring for the layout of :attr:`vector`)."""

    vector: np.ndarray

    def __post_init__(self) -> None:
        v = np.asarray(self.vector, dtype=np.float32).reshape(-1)
        if v.shape != (EMOTION_CODE_DIM,) or not np.all(np.isfinite(v)):
            raise ParameterError(f"EmotionCode needs a finite vector of size {EMOTION_CODE_DIM}, got shape {v.shape}")
        object.__setattr__(self, "vector", v)

    # ------------------------------------------------------------------ constructors
    @classmethod
    def neutral(cls) -> EmotionCode:
        return cls(np.zeros(EMOTION_CODE_DIM, np.float32))

    @classmethod
    def from_emotion(cls, emotion: str, intensity: float = 1.0) -> EmotionCode:
        """A category at an intensity in [0, 1]; ``neutral`` gives the zero code."""
        name = normalize_emotion(emotion)
        if not 0.0 <= float(intensity) <= 1.0:
            raise ParameterError(f"emotion intensity must lie in [0, 1], got {intensity}")
        v = np.zeros(EMOTION_CODE_DIM, np.float32)
        if name != "neutral":
            v[CODE_EMOTIONS.index(name)] = intensity
        return cls(v)

    @classmethod
    def from_au(cls, au) -> EmotionCode:
        """From a sided AU vector ``(50,)`` or a dict such as ``{"AU12": 0.8, "AU14R": 0.3}`` (exact round trip)."""
        vec = au_vector(au) if isinstance(au, dict) else np.asarray(au, dtype=np.float32)
        if vec.shape != (NUM_SIDED_AU,):
            raise ParameterError(f"AU vector: expected shape ({NUM_SIDED_AU},), got {vec.shape}")
        act = _fit_activations(vec)
        return cls(np.concatenate([act, vec - PROTOTYPE_AU @ act]))

    @classmethod
    def from_arkit(cls, weights) -> EmotionCode:
        """From ARKit weights ``(52,)`` (through the inverse of the AU -> ARKit map)."""
        return cls.from_au(arkit_to_au(np.asarray(weights, np.float32)))

    @classmethod
    def from_probabilities(cls, probs) -> EmotionCode:
        """From a FER classifier's class probabilities ``(8,)`` in :data:`~facecraft.rigs.EMOTIONS` order."""
        p = np.asarray(probs, dtype=np.float64).reshape(-1)
        if p.shape != (len(EMOTIONS),) or np.any(p < -1e-6) or not np.isfinite(p).all():
            raise ParameterError(f"probabilities: expected {len(EMOTIONS)} non-negative values, got {p}")
        p = p / max(p.sum(), 1e-12)
        act = np.array([p[EMOTIONS.index(e)] for e in CODE_EMOTIONS], np.float32)
        return cls(np.concatenate([act, np.zeros(NUM_SIDED_AU, np.float32)]))

    @classmethod
    def from_text(cls, text: str) -> EmotionCode:
        """From a few words (``"a shy smile"``); see :func:`facecraft.rigs.expression_text.text_to_au` (text
        that only says what the face does not do, or a neutral face, gives the neutral code)."""
        return cls.from_au(text_to_au(text))

    # ------------------------------------------------------------------ views
    @property
    def activations(self) -> np.ndarray:
        return self.vector[:NUM_CODE_EMOTIONS]

    @property
    def residual(self) -> np.ndarray:
        return self.vector[NUM_CODE_EMOTIONS:]

    def to_au(self) -> np.ndarray:
        """Sided AU intensities ``(50,)`` in [0, 1]."""
        return codes_to_au(self.vector)

    def to_arkit(self) -> np.ndarray:
        """ARKit-52 weights ``(52,)`` in [0, 1]."""
        return codes_to_arkit(self.vector)

    def to_probabilities(self) -> np.ndarray:
        """Class-probability view ``(8,)`` in EMOTIONS order; neutral takes ``1 - sum(activations)``."""
        p = np.zeros(len(EMOTIONS), np.float32)
        for i, e in enumerate(CODE_EMOTIONS):
            p[EMOTIONS.index(e)] = max(0.0, float(self.activations[i]))
        p[EMOTIONS.index("neutral")] = max(0.0, 1.0 - float(p.sum()))
        return p / p.sum()

    def dominant(self) -> tuple[str, float]:
        """The strongest emotion and its intensity; ``("neutral", 1 - sum)`` when nothing is active."""
        i = int(np.argmax(self.activations))
        if self.activations[i] <= 1e-3:
            return "neutral", 1.0
        return CODE_EMOTIONS[i], float(self.activations[i])

    def lerp(self, other: EmotionCode, t: float) -> EmotionCode:
        """Linear interpolation, ``t`` = 0 gives self, 1 gives ``other``."""
        return EmotionCode((1.0 - t) * self.vector + t * other.vector)

    def __repr__(self) -> str:
        name, x = self.dominant()
        return f"EmotionCode({name}:{x:.2f}, residual_norm={float(np.linalg.norm(self.residual)):.3f})"


def codes_to_au(codes) -> np.ndarray:
    """Sided AU intensities ``(..., 50)`` from codes ``(..., 57)``."""
    c = np.asarray(codes, dtype=np.float32)
    if c.shape[-1] != EMOTION_CODE_DIM:
        raise ParameterError(f"emotion codes: expected last dim {EMOTION_CODE_DIM}, got {c.shape}")
    return np.clip(c[..., :NUM_CODE_EMOTIONS] @ PROTOTYPE_AU.T + c[..., NUM_CODE_EMOTIONS:], 0.0, 1.0)


def codes_to_arkit(codes) -> np.ndarray:
    """ARKit-52 weights ``(..., 52)`` from codes ``(..., 57)``."""
    return au_to_arkit(codes_to_au(codes))


#: What one expression may be given as (where no track is taken: the photo editor, ``facecraft emotion``) ...
EXPRESSION_ARG_HELP = (
    f"NAME[:INTENSITY] with NAME one of {', '.join(EMOTIONS)} and INTENSITY in 0..1 (default 1); "
    "AUs or ARKit weights as 'AU12=0.6,AU6R=0.3' or 'jawOpen=0.3'; a few words ('a shy smile')"
)
#: ... and an emotion argument that may also change over time.
EMOTION_ARG_HELP = f"{EXPRESSION_ARG_HELP}; or an emotion track .json"


def _looks_assigned(text: str) -> bool:
    """Every comma- or space-separated piece is ``NAME=...``: assignments, however their values are written
    (``AU12=0.6 AU6=0.3`` as ``--au`` takes them, ``AU12=nan``) and never words for the text reader."""
    pieces = _assignment_pieces(text)
    return bool(pieces) and all("=" in p and not p.startswith("=") for p in pieces)


def _assignment_pieces(text: str) -> list[str]:
    return [p for p in re.split(r"[,\s]+", re.sub(r"\s*=\s*", "=", text)) if p]


def _is_emotion_name(name: str) -> bool:
    try:
        normalize_emotion(name)
    except ParameterError:
        return False
    return True


def parse_assignments(items, *, source: str = "controls") -> dict[str, float]:
    """``"AU12=0.6,AU6=0.3"`` or ``"AU12=0.6 AU6=0.3"`` (or a list of such strings, as ``--au AU12=0.6 AU6=0.3``
    gives) -> ``{name: value}``.

    Values must be numbers; names are kept as written (see :func:`split_controls` for checking them).
    """
    parts = [items] if isinstance(items, str) else list(items)
    out: dict[str, float] = {}
    for part in (p.strip() for item in parts for p in _assignment_pieces(str(item))):
        if not part:
            continue
        key, eq, value = part.partition("=")
        if not eq or not key.strip():
            raise ParameterError(f"{source}: {part!r} is not NAME=VALUE (e.g. AU12=0.6 or jawOpen=0.3)")
        if key.strip() in out:  # "AU12=0.3,AU12=0.9" kept the last without a word
            raise ParameterError(f"{source}: {key.strip()!r} is given twice; give each control once")
        try:
            out[key.strip()] = float(value)
        except ValueError as e:
            raise ParameterError(f"{source}: value of {key.strip()!r} is not a number: {value.strip()!r}") from e
        if not np.isfinite(out[key.strip()]):
            raise ParameterError(f"{source}: value of {key.strip()!r} must be a finite number, got {value.strip()!r}")
    return out


def split_controls(values: dict, *, source: str = "controls") -> tuple[dict[str, float], dict[str, float]]:
    """Check a ``{name: weight}`` dict of FACS AUs and/or ARKit names; return ``(aus, arkit)``.

    AU keys come back in FACS spelling (``AU12``, ``AU12R``), ARKit keys in Apple's; every weight must lie
    in [0, 1]. Unknown names raise :class:`ParameterError` listing what is accepted.
    """
    from .arkit import canonical_arkit_name
    from .facs import parse_au_name

    aus: dict[str, float] = {}
    arkit: dict[str, float] = {}
    unknown = []
    for key, raw in values.items():
        name = str(key).strip()
        try:
            weight = float(raw)
        except (TypeError, ValueError) as e:
            raise ParameterError(f"{source}: weight of {name!r} must be a number, got {raw!r}") from e
        if not (0.0 <= weight <= 1.0):
            raise ParameterError(f"{source}: {name} must lie in [0, 1], got {weight:g}")
        if re.fullmatch(r"(?i)au\d+[lr]?", name):
            code, side = parse_au_name(name)  # unknown AU numbers raise with the list of AUs
            aus[code + (side or "")] = weight
        elif (apple := canonical_arkit_name(name, strict=False)) is not None:
            arkit[apple] = weight
        else:
            unknown.append(name)
    if unknown:
        raise ParameterError(
            f"{source}: unknown control name(s) {', '.join(map(repr, unknown))}; expected FACS AUs "
            f"(AU1 ... AU45, optional L/R side) or ARKit-52 names ({ARKIT_NAMES[0]}, ..., {ARKIT_NAMES[-1]})"
        )
    return aus, arkit


def _code_from_weights(values: dict, *, source: str) -> EmotionCode:
    """AU intensities (``{"AU12": 0.6}``) or ARKit weights (``{"jawOpen": 0.3}``) -> code; all keys one kind."""
    if not values:
        raise ParameterError(f"{source}: an empty set of AU / ARKit weights")
    aus, arkit = split_controls(values, source=source)
    if aus and arkit:
        raise ParameterError(f"{source}: give AUs or ARKit weights, not both in one value")
    if aus:
        return EmotionCode.from_au(aus)
    return EmotionCode.from_arkit(weights_from_dict(arkit))


def _is_inline_json(text: str) -> bool:
    """JSON given inline (``[{"t": 0, "emotion": "anger"}]``, ``{"AU12": 0.6}``): read as what it holds, not as words
    (the inline keys were read as a few words)."""
    return text[:1] in "[{"


def _names_track_file(text: str) -> bool:
    """A track file: named ``.json`` (found or not), or an existing file named otherwise (``t1.txt`` was read as
    words, an error)."""
    path = Path(text).expanduser()
    return text.lower().endswith(".json") or (bool(path.suffix) and path.is_file())


def is_free_text(value) -> bool:
    """Whether :func:`parse_emotion` reads ``value`` as a few words (``"a shy smile"``), not as an emotion
    name, ``NAME:INTENSITY``, AU / ARKit assignments or a track file."""
    if not isinstance(value, str) or not value.strip():
        return False
    text = value.strip()
    if _names_track_file(text) or _is_inline_json(text) or _looks_assigned(text):
        return False
    name, colon, level = text.partition(":")
    if _is_emotion_name(name):
        return False
    return not (colon and re.fullmatch(r"\s*[A-Za-z_]+\s*", name) and re.fullmatch(r"\s*[-+0-9.eE]+\s*", level))


def parse_emotion(value, *, source: str = "emotion"):
    """The one parser of emotion arguments, for every entry point (CLI ``--emotion``, APIs' ``emotion=``).

    Accepts, and returns:

    * None -> None (neutral, decided by the caller);
    * an :class:`EmotionCode` or :class:`EmotionTrack` -> itself;
    * ``"anger"``, ``"anger:0.7"`` (any alias of the 8 emotions) -> :meth:`EmotionCode.from_emotion`;
    * ``"AU12=0.6,AU6=0.3"`` / ``"jawOpen=0.3"`` or a dict of the same -> :meth:`EmotionCode.from_au` /
      :meth:`EmotionCode.from_arkit` (all keys AUs or all ARKit names; values in [0, 1]);
    * a path to an emotion-track ``.json`` file, or a list of keys ``[{"t": 0, "emotion": ...}]`` ->
      :class:`EmotionTrack`;
    * an array of shape ``(57,)`` -> EmotionCode; ``(T, 57)`` -> that float32 array (per-frame codes);
    * any other text (``"a shy smile"``) -> :meth:`EmotionCode.from_text`.

    ``source`` names the argument in error messages. Unknown names, out-of-range values and malformed
    ``NAME:INTENSITY`` raise :class:`ParameterError`; a missing track file raises :class:`MissingFileError`.
    """
    if value is None or isinstance(value, (EmotionCode, EmotionTrack)):
        return value
    if isinstance(value, dict):
        if "keys" in value and isinstance(value["keys"], list):
            return EmotionTrack(value["keys"], source=source)
        return _code_from_weights(value, source=source)
    if isinstance(value, os.PathLike):
        return EmotionTrack.from_json(value)
    if isinstance(value, str):
        text = value.strip()
        if not text:
            raise ParameterError(f"{source}: empty value; expected {EMOTION_ARG_HELP}")
        if is_free_text(text):
            return EmotionCode.from_text(text)
        if _is_inline_json(text):
            try:
                inline = json.loads(text)
            except ValueError as e:
                raise ParameterError(f"{source} {text!r}: not valid JSON ({e}); expected {EMOTION_ARG_HELP}") from e
            if isinstance(inline, str):
                raise ParameterError(f"{source} {text!r}: expected a list of keys or an object, got a JSON string")
            return parse_emotion(inline, source=source)
        if _names_track_file(text):
            return EmotionTrack.from_json(text)
        if _looks_assigned(text):
            return _code_from_weights(parse_assignments(_assignment_pieces(text), source=source), source=source)
        name, colon, level = text.partition(":")
        if _is_emotion_name(name):
            if re.search(r"[,;:]", level):  # "happiness:0.5,anger:0.5" was "intensity '0.5,anger:0.5' is not a number"
                raise ParameterError(
                    f"{source} {value!r}: one emotion NAME:0..1 per value; to mix expressions give AUs or a few words"
                )
            try:
                intensity = float(level) if colon else 1.0
            except ValueError as e:
                raise ParameterError(
                    f"{source} {value!r}: intensity {level!r} is not a number (expected NAME:0..1)"
                ) from e
            if not 0.0 <= intensity <= 1.0:
                raise ParameterError(f"{source} {value!r}: intensity must lie in [0, 1], got {intensity:g}")
            return EmotionCode.from_emotion(name, intensity)
        hint = f"did you mean {s!r}? " if (s := suggest_emotion(name)) else ""
        raise ParameterError(f"{source} {value!r}: unknown emotion {name.strip()!r}; {hint}expected {EMOTION_ARG_HELP}")
    if isinstance(value, (list, tuple)) and value and all(isinstance(k, dict) for k in value):
        return EmotionTrack(list(value), source=source)
    try:
        arr = np.asarray(value, dtype=np.float32)
    except (TypeError, ValueError) as e:
        raise ParameterError(
            f"{source}: cannot read {type(value).__name__} as an emotion; expected {EMOTION_ARG_HELP}"
        ) from e
    if arr.shape == (EMOTION_CODE_DIM,):
        return EmotionCode(arr)
    if arr.ndim == 2 and arr.shape[1] == EMOTION_CODE_DIM:
        if not np.isfinite(arr).all():
            raise ParameterError(f"{source}: emotion codes contain NaN or infinite values")
        return arr
    raise ParameterError(
        f"{source}: an array must be one code ({EMOTION_CODE_DIM},) or per-frame codes (T, {EMOTION_CODE_DIM}), "
        f"got shape {arr.shape}"
    )


def _smoothstep(x: np.ndarray) -> np.ndarray:
    x = np.clip(x, 0.0, 1.0)
    return x * x * (3.0 - 2.0 * x)


#: What a track argument looks like (help texts and errors).
TRACK_ARG_HELP = 'a JSON file (any name) or JSON text of keys [{"t": 0, "emotion": "happiness", "intensity": 0.6}, ...]'


def late_keys_note(emotion, duration: float, *, what: str = "the animation") -> str | None:
    """What to tell a user whose emotion track has keys after the speech ends (``what`` ends before them): a track
    timed in milliseconds (``"t": 1500``) showed its first key's emotion over the whole line without a word. None
    when there are none, or ``emotion`` is no track."""
    if not isinstance(emotion, EmotionTrack) or not (late := emotion.times[emotion.times > duration]).size:
        return None
    return (f"emotion track: {late.size} of its {emotion.times.size} keys come after the speech ends ({duration:.2f} s;"
            f" the first at {late[0]:g} s): {what} ends before them (times are in seconds)")  # fmt: skip


def emotion_record(value) -> str | dict | list | None:
    """What an animation file records of the emotion it was asked for (``meta["emotion"]``): the argument as given
    where it is text (a name, ``NAME:I``, AUs, words, a track file's path), a dict of weights or a track's keys, so
    that it reads as the user wrote it and can be given back to ``--emotion``; a code or a track object by what it
    holds (``"happiness:0.35"``). Always JSON-able."""
    if value is None:
        return None
    if isinstance(value, str | os.PathLike):
        return str(value).strip()
    if isinstance(value, EmotionCode):
        name, x = value.dominant()
        rest = " + AU residual" if float(np.linalg.norm(value.residual)) > 1e-3 else ""
        return f"{name}:{x:.2f}{rest}"
    if isinstance(value, EmotionTrack):
        return f"track of {len(value.times)} keys, t {value.times[0]:g}..{value.times[-1]:g} s"
    if isinstance(value, np.ndarray):
        return f"per-frame emotion codes {tuple(value.shape)}"
    try:
        return json.loads(json.dumps(value, default=float))  # a dict of weights, a list of keys
    except (TypeError, ValueError):
        return str(value)


def parse_emotion_track(value, *, source: str = "emotion track"):
    """The one parser of emotion-track arguments (``--emotion-track``, ``emotion_track=``): None, an
    :class:`EmotionTrack`, its keys (a list, or ``{"keys": [...]}``), that JSON as text, a JSON file of any name,
    or per-frame codes ``(T, 57)`` (as :func:`parse_emotion`). Anything else is an error: a name such as
    ``happiness:0.5`` or a misspelt path read as words gave one constant emotion."""
    if value is None or isinstance(value, EmotionTrack):
        return value
    if isinstance(value, np.ndarray):
        return parse_emotion(value, source=source)
    if isinstance(value, dict):
        if not isinstance(value.get("keys"), list):
            raise ParameterError(f'{source}: expected a list of keys or {{"keys": [...]}}, got keys {sorted(value)}')
        value = value["keys"]
    if isinstance(value, (list, tuple)):
        return EmotionTrack(list(value), source=source)
    if isinstance(value, (str, os.PathLike)):
        text = str(value).strip()
        if text[:1] in ("[", "{"):
            try:
                data = json.loads(text)
            except json.JSONDecodeError as e:
                raise ParameterError(f"{source}: not valid JSON ({e.msg} at column {e.colno})") from e
            return parse_emotion_track(data, source=source)
        if Path(text).is_file():
            return EmotionTrack.from_json(text)
        if text.lower().endswith(".json") or os.sep in text:
            raise MissingFileError(f"{source}: track file not found: {text}")
        raise ParameterError(
            f"{source} {text!r}: expected {TRACK_ARG_HELP}; one emotion for the whole clip is --emotion"
        )
    raise ParameterError(f"{source}: expected {TRACK_ARG_HELP}, got {type(value).__name__}")


class EmotionTrack:
    """Emotion that changes over time: keys ``{"t": s, "emotion": name, "intensity": x}``.

    A key may give ``"text"`` or ``"au"`` (a dict of AU intensities) instead of ``"emotion"``. Between keys
    the code eases with a smoothstep; before the first key and after the last the nearest key holds.
    """

    def __init__(self, keys: Sequence[dict], *, source: str = "emotion track") -> None:
        if not keys:
            raise ParameterError(f"{source}: needs at least one key")
        parsed = [(*_track_key(k, f"{source}: key {i}"),) for i, k in enumerate(keys)]
        parsed.sort(key=lambda x: x[0])
        self.times = np.array([t for t, _ in parsed], np.float64)
        self.codes = np.stack([c.vector for _, c in parsed])

    @classmethod
    def from_json(cls, path_or_keys) -> EmotionTrack:
        """From a JSON file (a list of keys, or ``{"keys": [...]}``) or an already-loaded list."""
        if isinstance(path_or_keys, (str, os.PathLike)):
            path = Path(path_or_keys)
            if not path.exists():
                raise MissingFileError(f"emotion track not found: {path}")
            try:  # utf-8-sig: Notepad's "UTF-8 with BOM" (and PowerShell's UTF8) starts the file with a byte order mark
                data = json.loads(path.read_text(encoding="utf-8-sig"))
            except (json.JSONDecodeError, UnicodeDecodeError) as e:
                raise FileFormatError(f"{path}: not valid JSON ({e})") from e
            keys = data.get("keys") if isinstance(data, dict) else data
            if not isinstance(keys, list):
                raise FileFormatError(f"{path}: expected a JSON list of keys or {{'keys': [...]}}")
            return cls(keys, source=str(path))
        return cls(list(path_or_keys))

    @classmethod
    def constant(cls, code: EmotionCode) -> EmotionTrack:
        track = cls([{"t": 0.0, "emotion": "neutral"}])
        track.codes = code.vector[None].copy()
        return track

    def __repr__(self) -> str:
        return f"EmotionTrack({len(self.times)} keys, t {self.times[0]:g}..{self.times[-1]:g} s)"

    def codes_at(self, times) -> np.ndarray:
        """Codes ``(T, 57)`` at times ``(T,)`` in seconds."""
        t = np.asarray(times, np.float64).reshape(-1)
        if len(self.times) == 1:
            return np.repeat(self.codes, len(t), axis=0)
        j = np.clip(np.searchsorted(self.times, t, side="right"), 1, len(self.times) - 1)
        t0, t1 = self.times[j - 1], self.times[j]
        u = _smoothstep((t - t0) / np.maximum(t1 - t0, 1e-9))[:, None]
        return ((1 - u) * self.codes[j - 1] + u * self.codes[j]).astype(np.float32)


#: What a key of an emotion track may hold: its time and one of the ways to say the emotion.
TRACK_KEY_FIELDS = ("t", "emotion", "intensity", "text", "au")


def _track_key(key, where: str) -> tuple[float, EmotionCode]:
    """One track key -> ``(time, code)``; every mistake a :class:`ParameterError` naming ``where``."""
    if not isinstance(key, dict) or "t" not in key:
        raise ParameterError(f"{where} must be an object with 't' (seconds), got {key!r}")
    if unknown := sorted(set(key) - set(TRACK_KEY_FIELDS)):
        raise ParameterError(
            f"{where}: unknown field(s) {', '.join(unknown)}; a key holds {', '.join(TRACK_KEY_FIELDS)}"
        )
    t = _number(key["t"], f"{where} time 't'")
    if t < 0:
        raise ParameterError(f"{where}: time 't' must be >= 0 seconds, got {t:g}")
    said = [f for f in ("emotion", "text", "au") if f in key]
    if len(said) != 1:
        raise ParameterError(f"{where} needs one of 'emotion', 'text' or 'au', got {sorted(key)}")
    if "emotion" in key or "text" in key:
        try:  # their own errors name neither the file nor the key ("unknown emotion label 'glee'")
            if "emotion" in key:
                return t, EmotionCode.from_emotion(
                    key["emotion"], _number(key.get("intensity", 1.0), f"{where} intensity")
                )
            return t, EmotionCode.from_text(key["text"])
        except ParameterError as e:
            if str(e).startswith(where):
                raise
            hint = ""
            if "emotion" in key and isinstance(key["emotion"], str) and is_free_text(key["emotion"]):
                hint = f"; words go in 'text': {json.dumps({'t': key['t'], 'text': key['emotion']})}"
            raise ParameterError(f"{where}: {e}{hint}") from e
    au = key["au"]
    if isinstance(au, str):
        au = parse_assignments(au, source=f"{where} au")
    if not isinstance(au, dict):
        raise ParameterError(f"{where}: 'au' must be an object like {{\"AU12\": 0.8}} or 'AU12=0.8', got {au!r}")
    code = _code_from_weights(au, source=f"{where} au")
    return t, code


def _number(value, what: str) -> float:
    """A finite number from JSON, or a ParameterError naming ``what``."""
    try:
        x = float(value)
    except (TypeError, ValueError) as e:
        raise ParameterError(f"{what} must be a number, got {value!r}") from e
    if not np.isfinite(x) or isinstance(value, bool):
        raise ParameterError(f"{what} must be a finite number, got {value!r}")
    return x


def as_code_track(emotion, times) -> np.ndarray:
    """Codes ``(T, 57)`` for ``times`` from None (neutral), an EmotionCode, an EmotionTrack or a (T, 57) array."""
    t = np.asarray(times).reshape(-1)
    if emotion is None:
        return np.zeros((len(t), EMOTION_CODE_DIM), np.float32)
    if isinstance(emotion, EmotionCode):
        return np.repeat(emotion.vector[None], len(t), axis=0)
    if isinstance(emotion, EmotionTrack):
        return emotion.codes_at(t)
    arr = np.asarray(emotion, np.float32)
    if arr.shape != (len(t), EMOTION_CODE_DIM):
        raise ParameterError(f"emotion codes: expected shape ({len(t)}, {EMOTION_CODE_DIM}), got {arr.shape}")
    return arr


def prototype_fit(curves, region: str = "emotion"):
    """How well each emotion's prototype alone explains each frame of ``curves`` (..., 52), on one region.

    Each prototype (:data:`PROTOTYPE_ARKIT`, EMOTIONS order; neutral's is zero) is scaled to the frame by
    its projection clamped to [0, 1]. One prototype at a time, not a mixture: prototypes overlap (fear's
    upper face holds surprise's raised brows plus lowered ones), and a mixture fit splits such a frame
    between them as soon as one channel (fear's lip stretch during a /p/) drops.

    Accepts a numpy array or a torch tensor (differentiable; the speech model's emotion loss uses it).

    Returns
    -------
    scale, residual : (..., 8) each, same kind as ``curves``. Neutral's residual is the frame's own energy.
    """
    import torch

    is_np = not isinstance(curves, torch.Tensor)
    x = torch.as_tensor(np.asarray(curves, np.float32)) if is_np else curves
    mask = torch.as_tensor(region_mask(region), device=x.device)
    protos = torch.as_tensor(PROTOTYPE_ARKIT, device=x.device, dtype=x.dtype)[:, mask]  # (8, C)
    xm = x[..., mask].unsqueeze(-2)  # (..., 1, C)
    norm = (protos**2).sum(-1).clamp_min(1e-6)
    scale = ((xm * protos).sum(-1) / norm).clamp(0, 1)  # (..., 8)
    resid = ((xm - scale.unsqueeze(-1) * protos) ** 2).sum(-1)
    return (scale.numpy(), resid.numpy()) if is_np else (scale, resid)


def classify_arkit(
    curves, region: str = "emotion", *, min_intensity: float = 0.15, temperature: float = 0.05
) -> tuple[list[str], np.ndarray]:
    """Which emotion a face shows, judged only on one region's ARKit channels.

    The label is the emotion whose prototype alone best explains the frame (:func:`prototype_fit`), or
    neutral when that prototype's fitted intensity is below ``min_intensity``.

    Returns
    -------
    labels : list of T emotion names
    probs : float32 (T, 8), EMOTIONS order: softmax of ``-residual / temperature`` over the emotions
        (neutral's residual is the frame's energy), the same scores the speech model is trained with
    """
    x = np.asarray(curves, np.float32)
    single = x.ndim == 1
    x = x.reshape(-1, NUM_ARKIT)
    scale, resid = prototype_fit(x, region)
    neutral = EMOTIONS.index("neutral")
    ranked = resid.copy()
    ranked[:, neutral] = np.inf
    best = ranked.argmin(1)
    labels = [EMOTIONS[k] if scale[i, k] >= min_intensity else "neutral" for i, k in enumerate(best)]
    logits = -resid / temperature
    probs = np.exp(logits - logits.max(1, keepdims=True))
    probs = (probs / probs.sum(1, keepdims=True)).astype(np.float32)
    return (labels[:1], probs[:1]) if single else (labels, probs)
