"""What an augmentation variant asks for, and whether it is kept: the plan and the filter of :mod:`.augment`.

Both parts are pure (no models): :func:`variant_controls` draws the edit controls of one variant (an emotion
intensity and AUs jittered around the emotion's EMFACS prototype, :data:`facecraft.rigs.EMFACS_PROTOTYPES`,
the one table of prototypes), and :func:`decide` applies the acceptance rules to the judges' probabilities,
the identity distance and the near-duplicate distance, in order of cost, returning the first reason for a
rejection. Keeping them model-free makes the rules testable on numbers alone.
"""

from __future__ import annotations

import copy
import functools
import hashlib
import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from facecraft.rigs import EMFACS_PROTOTYPES, EMOTION_INDEX, EMOTIONS
from facecraft.rigs.emotions import EMFACS_ALTERNATIVES
from facecraft.rigs.errors import ParameterError

from .identity import SAME_PERSON_THRESHOLD
from .train import SHARED_7

#: Emotions synthesised by ``--targets all``: every emotion but neutral (the editor makes expressions;
#: fading one away is ``neutral``, which may still be named explicitly).
ALL_TARGETS: tuple[str, ...] = tuple(e for e in EMOTIONS if e != "neutral")

#: Source expressions no variant of a target is made from (``AugmentConfig.skip_sources``' default): a smile
#: the geometric editor cannot take away. Measured on fer-dev train (800 sources, 2 variants per target): fear
#: variants of smiling faces were the least accepted by the two judges (11%, against 44% from surprised, 20%
#: from sad and 15% from neutral faces) and looked like grimaces on the contact sheet; contempt on a smile is a
#: smirk on a smile (read as happiness). A face's expression is its data set label, or the main judge's top
#: class for an unlabelled photo.
SKIP_SOURCES: dict[str, tuple[str, ...]] = {t: ("happiness",) for t in ("contempt", "disgust", "fear")}
# :func:`variant_controls` draws the EMFACS prototype or one of the other patterns EMFACS scores as the emotion
# (:data:`facecraft.rigs.emotions.EMFACS_ALTERNATIVES`). The disgust prototype drives AU9 and AU16, which the
# geometric editor renders mostly as a lowered lower lip showing the teeth (read as surprise or fear on 48 px
# crops); the upper-lip raiser (AU10) with a raised chin reads closer to disgust. EMFACS's open-mouth 10+16+25
# was tried and left out: the shipped judge ranked disgust in its top 3 on 1 of 152 such edits of fer-dev train
# faces (the prototype: 7 of 124, 9+17 and 10+17: 5 and 7 of about 130 each). AU4 (brows lowered) is added to
# the disgust patterns at random (:data:`DISGUST_BROW_SHARE`): most FER2013 disgust faces frown.
#: Share of disgust variants that also lower the brows (AU4 at 0.6 of the variant's intensity).
DISGUST_BROW_SHARE = 0.5
#: A second judge "reads" a class when it ranks the class among its ``second_top_k`` for at least this share of
#: the data set's labelled images of that class outside its test split (:func:`judge_readers`); only readers
#: must agree with the main judge. NetworkV2 never ranks disgust in its top 2 on fer-dev (0 of 32 train+val
#: disgust faces): requiring its vote kept no disgust variant at all.
MIN_READER_RECALL = 0.5
#: Fewer labelled images than this: a judge's recall is not measured on the data set. Its recall on fer-dev's train
#: and val faces (:data:`READERS_REFERENCE`, the same top-k) decides then; without one it counts as a reader
#: (agreement stays required: the cautious side). Counting every judge as a reader kept no disgust variant at all on
#: small sets (2 disgust faces: NetworkV2, which ranks disgust in its top 2 for none of fer-dev's 32, had a vote).
MIN_READER_IMAGES = 3
#: The second judges' top-k recall per class on fer-dev's train and val faces (6,392; the test split never), written
#: by ``tools/measure_judge_readers.py``: the judges are fixed pretrained models, so it holds for any data set.
READERS_REFERENCE = Path(__file__).with_name("weights") / "second_judge_readers.json"


def reference_recall(top_k: int) -> dict[str, dict[str, float]]:
    """``{judge: {class: recall}}`` from :data:`READERS_REFERENCE` when it was measured at ``top_k``, else ``{}``."""
    saved = _reference()
    return copy.deepcopy(saved["recall_top_k"]) if saved.get("top_k") == top_k else {}


@functools.cache
def _reference() -> dict:
    """The shipped :data:`READERS_REFERENCE`, read once per process (``{}`` when it is missing or unreadable)."""
    try:
        return json.loads(READERS_REFERENCE.read_text())
    except (OSError, json.JSONDecodeError):
        return {}


@dataclass(frozen=True)
class FilterConfig:
    """Acceptance rules of an augmented face (defaults documented in ``facecraft augment --help``).

    Attributes
    ----------
    top_k : int
        The target must be among the main judge's ``top_k`` classes.
    min_confidence : float
        ... with at least this probability. The default, 1/8, is chance over the 8 classes. The shipped judge
        rarely gives a rare class much on a geometric edit (fer-dev train faces: median probability of the
        target 0.01-0.09), and the weights shipped with mixup (sha256 ``a0367e69...``) less than the ones
        before, so this bar keeps few disgust and contempt edits (bench augment, 1,000 sources: 53 contempt
        and 21 disgust of 2,673 and 2,655 variants). A bar of 0.05 keeps 175 and 38, but they made the
        classifier worse on validation (bench augment seed 0: 7-class macro-F1 0.629 -> 0.604; most are subtle
        lip-corner pulls on neutral faces, and neutral faces then read as contempt).
    second_top_k : int
        The second judge must put the target among its ``second_top_k`` classes of the 7 it knows. A target
        it does not know (contempt for the two ported judges) passes this rule, recorded as ``"n/a"``.
    max_identity : float
        dlib descriptor distance between the source and the edit must stay below this (same person).
    min_difference : float
        Mean absolute grey difference (0-255) to the source crop and to every variant of the same source
        already kept: closer is a near-duplicate.
    readers : dict or None
        Per target, the second judges whose vote counts (those that can read the class, measured by
        :func:`judge_readers`); a target missing from it, or None, asks every second judge that knows the class.
    min_lift : float
        The main judge's probability of the target on the edit must be at least this multiple of its
        probability on the source (:func:`lift`): the edit itself must move the face toward the target. 0: off.
        The confidence bar alone passes faces the judge already found close to the target before any edit
        (fer-dev train, whole split as sources: half the accepted contempt edits had a lower contempt
        probability than their source, most of them neutral faces). Off by default: holding bench augment's
        folder to 1.5 (50 contempt and 57 disgust images instead of 132 and 74) lowered the 8-class macro-F1
        gain by 1.5 points in 5-fold cross-validation over fer-dev train + val (+0.39 -> -1.10, seed 0) and no
        held-out contempt face was read as contempt any more: the classifier's contempt came from the
        faces the judge already found contemptuous, not from the edits.
    """

    top_k: int = 3
    min_confidence: float = 0.125
    second_top_k: int = 2
    max_identity: float = SAME_PERSON_THRESHOLD
    min_difference: float = 2.0
    readers: dict[str, tuple[str, ...]] | None = None
    min_lift: float = 0.0

    def __post_init__(self) -> None:
        if self.top_k < 1 or self.second_top_k < 1:
            raise ParameterError(f"top_k and second_top_k: expected >= 1, got {self.top_k}, {self.second_top_k}")
        if not 0.0 <= self.min_confidence <= 1.0:
            raise ParameterError(f"min_confidence: expected a probability in [0, 1], got {self.min_confidence}")
        if not 0.0 < self.max_identity < 2.0:
            raise ParameterError(f"max_identity: expected a distance in (0, 2), got {self.max_identity}")
        if self.min_difference < 0:
            raise ParameterError(f"min_difference: expected >= 0 grey levels, got {self.min_difference}")
        if not self.min_lift >= 0.0:
            raise ParameterError(f"min_lift: expected a ratio >= 0, got {self.min_lift}")

    def to_dict(self) -> dict:
        return asdict(self)


def parse_targets(targets) -> tuple[str, ...]:
    """``"all"``, ``"fear,disgust"`` or a list of names -> emotion names in EMOTIONS order (aliases accepted)."""
    from facecraft.rigs import normalize_emotion

    if targets is None or (isinstance(targets, str) and targets.strip().lower() == "all"):
        return ALL_TARGETS
    names = targets.split(",") if isinstance(targets, str) else list(targets)
    try:
        chosen = {normalize_emotion(n) for n in names if str(n).strip()}
    except ParameterError as e:
        raise ParameterError(f"targets: {e}") from e
    if not chosen:
        raise ParameterError(f"targets: expected 'all' or emotion names separated by commas, got {targets!r}")
    return tuple(e for e in EMOTIONS if e in chosen)


def variant_seed(key: str, seed: int) -> int:
    """A seed for one item that does not depend on the process or run order (resumable, parallel)."""
    return int.from_bytes(hashlib.sha256(f"{seed}:{key}".encode()).digest()[:8], "little")


def variant_controls(
    target: str,
    rng: np.random.Generator,
    *,
    intensity: tuple[float, float] = (0.6, 1.0),
    jitter: float = 0.25,
    alternatives: bool = True,
) -> dict:
    """Edit controls of one variant toward ``target``: a random intensity and jittered AUs of one EMFACS pattern.

    Parameters
    ----------
    target : str
        One of EMOTIONS.
    rng : np.random.Generator
    intensity : (low, high)
        Range of the emotion's intensity in [0, 1], drawn uniformly.
    jitter : float
        Each pattern AU is ``level * intensity * U(1 - jitter, 1 + jitter)``, clipped to [0, 1].
    alternatives : bool
        Draw the pattern uniformly among the prototype and :data:`EMFACS_ALTERNATIVES` (disgust also lowers the
        brows with probability :data:`DISGUST_BROW_SHARE`); False always takes the prototype.

    Returns
    -------
    dict
        ``{"emotion": "fear:0.83", "intensity": 0.83, "pattern": "prototype", "au": {"AU1": 0.7, ...}}``:
        JSON-ready; ``emotion`` and ``au`` are :meth:`facecraft.synth.controls.EditControls.from_args`
        arguments (``au`` empty for neutral). With an alternative pattern, whose AUs ``pattern`` names
        (``"10+17"``), ``emotion`` is ``"neutral:<intensity>"``: it fades the source's own expression as the
        emotion code of a prototype variant does, without adding the prototype's AUs.
    """
    if target not in EMOTION_INDEX:
        raise ParameterError(f"target: expected one of {EMOTIONS}, got {target!r}")
    lo, hi = intensity
    if not 0.0 <= lo <= hi <= 1.0:
        raise ParameterError(f"intensity: expected 0 <= low <= high <= 1, got {intensity}")
    if not 0.0 <= jitter < 1.0:
        raise ParameterError(f"jitter: expected a fraction in [0, 1), got {jitter}")
    level = float(rng.uniform(lo, hi))
    patterns = (EMFACS_PROTOTYPES[target], *(EMFACS_ALTERNATIVES.get(target, ()) if alternatives else ()))
    k = int(rng.integers(len(patterns))) if len(patterns) > 1 else 0
    pattern = dict(patterns[k])
    if alternatives and target == "disgust" and rng.uniform() < DISGUST_BROW_SHARE:
        pattern["AU4"] = 0.6
    au = {
        name: round(float(np.clip(value * level * rng.uniform(1 - jitter, 1 + jitter), 0.0, 1.0)), 3)
        for name, value in pattern.items()
    }
    name = "prototype" if k == 0 else "+".join(a[2:] for a in patterns[k])
    if "AU4" in pattern and "AU4" not in patterns[k]:
        name += "+4"
    return {
        "emotion": f"{target if k == 0 else 'neutral'}:{level:.3f}",
        "intensity": round(level, 3),
        "pattern": name,
        "au": au,
    }


def top_classes(probs: np.ndarray, k: int, *, classes: tuple[str, ...] = EMOTIONS) -> list[str]:
    """The ``k`` most likely of ``classes`` in an ``(8,)`` EMOTIONS-order probability vector."""
    p = np.asarray(probs, dtype=np.float64)
    idx = [EMOTION_INDEX[c] for c in classes]
    order = sorted(idx, key=lambda i: -p[i])
    return [EMOTIONS[i] for i in order[:k]]


def lift(target: str, main: np.ndarray, source_main: np.ndarray) -> float:
    """How many times the edit raised the main judge's probability of ``target`` over the source's (``(8,)``
    EMOTIONS-order vectors; a source probability under 1e-4 counts as 1e-4)."""
    i = EMOTION_INDEX[target]
    return float(main[i]) / max(float(source_main[i]), 1e-4)


def judge_verdict(
    target: str,
    main: np.ndarray,
    second: Mapping[str, np.ndarray] | np.ndarray | None,
    config: FilterConfig,
    *,
    source_main: np.ndarray | None = None,
) -> str | None:
    """The judges' part of :func:`decide`: None when they accept, else the reason.

    ``second`` holds the second judges' ``(8,)`` probabilities by name (a bare array is one unnamed judge).
    Each one that reads the target (``config.readers``; None: all) must rank it among its ``second_top_k``
    classes of the 7 shared ones; contempt, which no second judge knows, rests on the main judge.
    ``source_main``: the main judge's probabilities on the unedited source, for ``config.min_lift`` (required
    when it is above 0).
    """
    p = float(main[EMOTION_INDEX[target]])
    if target not in top_classes(main, config.top_k):
        return f"judge: {target} not in top {config.top_k} (top {top_classes(main, 1)[0]})"
    if p < config.min_confidence:
        return f"judge: {target} probability {p:.3f} < {config.min_confidence:.3f}"  # 0.118 < 0.12, not 0.12 < 0.12
    if config.min_lift > 0:
        if source_main is None:
            raise ParameterError("judge_verdict: min_lift > 0 needs the source's probabilities (source_main)")
        gain = lift(target, main, source_main)
        if gain < config.min_lift:
            return f"judge: {target} lifted x{gain:.3f} over the source < x{config.min_lift:.3f}"
    if second is None or target not in SHARED_7:
        return None
    seconds = second if isinstance(second, Mapping) else {"": second}
    readers = None if config.readers is None else config.readers.get(target)
    for name, probs in seconds.items():
        if readers is not None and name not in readers:
            continue
        ranked = top_classes(probs, config.second_top_k, classes=SHARED_7)
        if target not in ranked:
            who = f"{name} puts " if name else ""
            return f"second judge: {who}{target} not in top {config.second_top_k} (top {ranked[0]})"
    return None


def judge_readers(
    probs: Mapping[str, np.ndarray],
    labels: np.ndarray,
    *,
    top_k: int,
    min_recall: float = MIN_READER_RECALL,
    min_images: int = MIN_READER_IMAGES,
    reference: Mapping[str, Mapping[str, float]] | None = None,
) -> tuple[dict[str, tuple[str, ...]], dict[str, dict[str, float | None]]]:
    """Which judges can read which class: top-``k`` recall per class on labelled images.

    Parameters
    ----------
    probs : {judge name: float (N, 8)}
        Each judge's probabilities on the same N labelled faces (EMOTIONS order).
    labels : int (N,)
        EMOTIONS indices.
    top_k : int
        A face counts as read when its class is among the judge's ``top_k`` of the 7 shared classes (the
        second-judge rule of :func:`judge_verdict`).
    min_recall, min_images : see :data:`MIN_READER_RECALL`, :data:`MIN_READER_IMAGES`.
    reference : {judge: {class: recall}}, optional
        Recall measured elsewhere at the same ``top_k`` (:func:`reference_recall`), for the classes with fewer
        than ``min_images`` faces here.

    Returns
    -------
    readers : {class: tuple of judge names}
        For each of the 7 shared classes, the judges that read it (too few faces: as the reference says, and
        reading where it says nothing).
    recall : {judge: {class: float or None}}
        The measured top-``k`` recall (None: fewer than ``min_images`` faces).
    """
    labels = np.asarray(labels)
    readers: dict[str, list[str]] = {c: [] for c in SHARED_7}
    recall: dict[str, dict[str, float | None]] = {}
    for name, p in probs.items():
        p = np.asarray(p, dtype=np.float64)
        if p.shape != (len(labels), len(EMOTIONS)):
            raise ParameterError(f"judge_readers: {name} probabilities must be ({len(labels)}, 8), got {p.shape}")
        recall[name] = {}
        for c in SHARED_7:
            rows = p[labels == EMOTION_INDEX[c]]
            if len(rows) < min_images:
                recall[name][c] = None
                known = (reference or {}).get(name, {}).get(c)
                if known is None or known >= min_recall:
                    readers[c].append(name)
                continue
            hit = float(np.mean([c in top_classes(r, top_k, classes=SHARED_7) for r in rows]))
            recall[name][c] = round(hit, 4)
            if hit >= min_recall:
                readers[c].append(name)
    return {c: tuple(v) for c, v in readers.items()}, recall


def mean_difference(a: np.ndarray, b: np.ndarray) -> float:
    """Mean absolute difference of two same-size uint8 crops, in grey levels (0-255)."""
    return float(np.mean(np.abs(np.asarray(a, np.float32) - np.asarray(b, np.float32))))


def duplicate_verdict(crop: np.ndarray, others: list[np.ndarray], config: FilterConfig) -> str | None:
    """None when ``crop`` differs from every one of ``others`` (source first) by ``min_difference``."""
    for j, other in enumerate(others):
        d = mean_difference(crop, other)
        if d < config.min_difference:
            what = "the source" if j == 0 else "a kept variant"
            return f"near duplicate of {what} (mean difference {d:.1f} < {config.min_difference:.1f})"
    return None


def identity_verdict(distance: float | None, config: FilterConfig) -> str | None:
    """None when the edit is still the source's person (``distance`` None: no face for the identity model)."""
    if distance is None:
        return "identity: no face found for the descriptor"
    if distance >= config.max_identity:
        return f"identity: distance {distance:.3f} >= {config.max_identity:.3f}"
    return None
