"""The eight emotion categories, in the one order used everywhere, with EMFACS prototypes.

Order: anger, contempt, disgust, fear, happiness, neutral, sadness, surprise (labels, logits, folders).
Prototype intensities are the AU levels of a clear, full-intensity display; scaling by an emotion's
intensity gives weaker displays.
"""

from __future__ import annotations

import difflib

import numpy as np

from .errors import ParameterError
from .facs import au_vector

EMOTIONS: tuple[str, ...] = ("anger", "contempt", "disgust", "fear", "happiness", "neutral", "sadness", "surprise")
NUM_EMOTIONS = len(EMOTIONS)
EMOTION_INDEX: dict[str, int] = {n: i for i, n in enumerate(EMOTIONS)}

# EMFACS prototypes (DESIGN.md): happiness 6+12; sadness 1+4+15; surprise 1+2+5+26;
# fear 1+2+4+5+7+20+26; anger 4+5+7+23; disgust 9+15+16; contempt R12+R14.
EMFACS_PROTOTYPES: dict[str, dict[str, float]] = {
    "anger": {"AU4": 1.0, "AU5": 0.6, "AU7": 0.8, "AU23": 0.8},
    "contempt": {"AU12R": 0.6, "AU14R": 0.8},
    "disgust": {"AU9": 1.0, "AU15": 0.6, "AU16": 0.5},
    "fear": {"AU1": 0.8, "AU2": 0.6, "AU4": 0.6, "AU5": 0.9, "AU7": 0.4, "AU20": 0.8, "AU26": 0.6},
    "happiness": {"AU6": 0.8, "AU12": 1.0},
    "neutral": {},
    "sadness": {"AU1": 0.9, "AU4": 0.6, "AU15": 0.8},
    "surprise": {"AU1": 1.0, "AU2": 1.0, "AU5": 0.8, "AU26": 0.8},
}
# Other AU patterns EMFACS also scores as the emotion, beside its prototype, at full-intensity levels: the
# EMFACS-7 predictions as listed by Matsumoto, Keltner, Shiota, O'Sullivan and Frank (2008, "Facial expressions
# of emotion", Handbook of Emotions, table 13.1): disgust 9+17 and 10+17 beside 9+15+16; contempt R14 alone
# beside R12+R14. (EMFACS's open-mouth disgust 10+16+25 is not listed: see eval.augment_filter.)
EMFACS_ALTERNATIVES: dict[str, tuple[dict[str, float], ...]] = {
    "disgust": ({"AU9": 1.0, "AU17": 0.7}, {"AU10": 1.0, "AU17": 0.7}),
    "contempt": ({"AU14R": 1.0},),
}

# Label spellings met in FER data sets, mapped to the names above.
_LABEL_ALIASES: dict[str, str] = {
    "angry": "anger", "anger": "anger", "mad": "anger",
    "contempt": "contempt", "contemptuous": "contempt",
    "disgust": "disgust", "disgusted": "disgust",
    "fear": "fear", "fearful": "fear", "afraid": "fear", "scared": "fear",
    "happy": "happiness", "happiness": "happiness", "joy": "happiness",
    "neutral": "neutral", "calm": "neutral",
    "sad": "sadness", "sadness": "sadness",
    "surprise": "surprise", "surprised": "surprise",
}  # fmt: skip

#: How strong a display a mood word names: "irate" strong anger, "forlorn" plain sadness, "peeved" mild anger (the
#: text reader reads each level as an anchor word of that strength: ``_EMOTION_READS`` in expression_text).
STRONG, PLAIN, MILD = "strong", "plain", "mild"
#: Words for the emotions beyond their labels, by the emotion each names and how strongly (common English usage,
#: thesaurus groups of mood adjectives): the text reader (:mod:`facecraft.rigs.expression_text`) reads each as its
#: emotion at that strength; MiniLM puts these rarer words near no expression ("irate", "forlorn" were errors). No
#: word that names something else in a face description ("cross" eyed, "blue" eyes, eyes "down"), and no word the
#: reader's own anchors hold ("furious", "heartbroken"); the reader reads "cross", "blue" and "downcast" as moods only
#: where they say what the person is (``_PREDICATE_MOODS`` in expression_text). Not labels: :func:`normalize_emotion`
#: takes the aliases only.
EMOTION_SYNONYMS: dict[str, dict[str, tuple[str, ...]]] = {
    "anger": {
        STRONG: ("irate", "incensed", "enraged", "infuriated", "apoplectic", "wrathful", "ireful", "raging",
                 "berserk", "incandescent"),
        PLAIN: ("angered", "choleric", "riled", "hostile", "belligerent", "wrathy"),
        MILD: ("peeved", "miffed", "irked", "vexed", "nettled", "piqued", "narked", "aggravated", "exasperated",
               "displeased", "galled", "ticked off"),
    },
    "contempt": {
        PLAIN: ("disdainful", "derisive", "supercilious", "snooty", "snobbish", "lofty", "dismissive",
                "sniffy", "sneery", "high and mighty", "snotty", "uppity"),
    },
    "disgust": {
        STRONG: ("repulsed", "repelled", "sickened", "appalled", "nauseated"),
    },
    "fear": {
        STRONG: ("panic stricken", "terror stricken", "frantic", "horror stricken", "scared witless"),
        PLAIN: ("timorous", "panicky", "fearstruck", "cowering", "quailing"),
        MILD: ("apprehensive", "uneasy", "flustered", "fretful", "nervy", "edgy", "jumpy", "skittish", "antsy",
               "disquieted", "perturbed", "unnerved", "rattled", "shaken", "twitchy", "fretting", "troubled",
               "concerned"),
    },
    "happiness": {
        STRONG: ("exhilarated", "rapturous", "exultant", "gleeful", "joyous", "ebullient",
                 "exuberant"),
        PLAIN: ("jovial", "merry", "cheery", "chipper", "chirpy", "sunny", "buoyant", "upbeat", "bubbly", "radiant",
                "chuffed", "blithe", "carefree", "lighthearted", "light hearted", "high spirited", "good humoured",
                "good humored", "genial", "jocular", "glad", "happy go lucky", "mirthful", "tickled"),
        MILD: ("gratified", "contented", "amused"),
    },
    "neutral": {
        PLAIN: ("aloof", "unfazed", "unruffled", "imperturbable", "poised", "collected", "placid", "tranquil",
                "detached", "dispassionate", "unemotional", "inscrutable", "phlegmatic", "insouciant", "unconcerned",
                "unflappable", "cool headed", "level headed"),
    },
    "sadness": {
        STRONG: ("inconsolable", "desolate", "despairing", "grief stricken", "distraught", "devastated", "wretched",
                 "broken hearted", "anguished", "bereft", "sorrow stricken", "woebegone"),
        PLAIN: ("forlorn", "mournful", "melancholy", "melancholic", "woeful", "doleful", "despondent",
                "crestfallen", "dispirited", "disheartened", "downhearted", "down hearted", "miserable", "morose",
                "lugubrious", "gloomy", "glum", "hangdog", "heavy hearted", "low spirited", "lachrymose", "plaintive",
                "saddened", "sorrowing", "grieving", "mourning", "sombre", "somber", "dismal", "disconsolate",
                "lonely", "lonesome", "homesick", "upset", "dolorous", "rueful"),
        MILD: ("disenchanted", "disillusioned", "dissatisfied", "deflated", "discouraged", "regretful"),
    },
    "surprise": {
        STRONG: ("astounded", "stunned", "staggered", "floored", "stupefied", "agog", "shellshocked", "shell shocked",
                 "speechless", "bowled over", "dumbfounded"),
        PLAIN: ("taken aback", "caught off guard"),
    },
}  # fmt: skip


def normalize_emotion(label: str) -> str:
    """Map a data set's label (``'Happy'``, ``'angry'``, ``'surprised'``) to one of :data:`EMOTIONS`."""
    key = str(label).strip().lower()
    if key in _LABEL_ALIASES:
        return _LABEL_ALIASES[key]
    hint = f"did you mean {s!r}? " if (s := suggest_emotion(key)) else ""
    raise ParameterError(
        f"unknown emotion label {label!r}; {hint}expected one of {', '.join(EMOTIONS)} (or a common alias)"
    )


def suggest_emotion(word: str) -> str | None:
    """The emotion a misspelt name or alias most likely meant (``'hapiness'`` -> ``'happiness'``), or None."""
    close = difflib.get_close_matches(str(word).strip().lower(), list(_LABEL_ALIASES), n=1, cutoff=0.8)
    return _LABEL_ALIASES[close[0]] if close else None


def emotion_au_vector(emotion: str, intensity: float = 1.0) -> np.ndarray:
    """Sided AU vector ``(50,)`` of an emotion's EMFACS prototype scaled by ``intensity`` in [0, 1]."""
    if not 0.0 <= float(intensity) <= 1.0:
        raise ParameterError(f"emotion intensity must lie in [0, 1], got {intensity}")
    return au_vector(EMFACS_PROTOTYPES[normalize_emotion(emotion)]) * np.float32(intensity)
