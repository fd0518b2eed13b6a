"""Phones -> visemes -> ARKit-52 mouth poses and Rhubarb mouth shapes.

Viseme classes follow the 15-class set common in game lip sync (``sil PP FF TH DD kk CH SS nn RR aa E I O U``).
ARPAbet phones map to one class each, except diphthongs, which glide between two (:data:`DIPHTHONGS`).

Each viseme has a target pose on the ARKit mouth/jaw channels (:data:`VISEME_POSES`) and coarticulation
settings (:data:`VISEME_DOMINANCE`): how strongly it holds the jaw, the lips and the tongue, and how far its
influence reaches before (anticipation) and after (carry-over) the phone. ARKit's ``mouthClose`` closes the
lips *against* ``jawOpen`` (it is authored on top of an open jaw), so a closed mouth with the jaw slightly
open sets ``mouthClose`` equal to ``jawOpen``.

Rhubarb Lip Sync's mouth shapes: A closed (P B M), B slightly open/clenched teeth (most consonants, EE),
C open (EH, AE), D wide open (AA), E rounded-open (AO, ER), F puckered (UW, OW, W), G upper teeth on lower
lip (F V), H tongue raised (L), X idle/rest.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from facecraft.rigs.arkit import ARKIT_INDEX, NUM_ARKIT
from facecraft.rigs.errors import ParameterError

VISEMES: tuple[str, ...] = ("sil", "PP", "FF", "TH", "DD", "kk", "CH", "SS", "nn", "RR", "aa", "E", "I", "O", "U")

# ARPAbet (CMUdict, stress digits removed) -> viseme class. SIL also stands for pauses and noise.
PHONE_TO_VISEME: dict[str, str] = {
    "SIL": "sil",
    "P": "PP", "B": "PP", "M": "PP",
    "F": "FF", "V": "FF",
    "TH": "TH", "DH": "TH",
    "T": "DD", "D": "DD",
    "K": "kk", "G": "kk", "NG": "kk", "HH": "kk",
    "CH": "CH", "JH": "CH", "SH": "CH", "ZH": "CH",
    "S": "SS", "Z": "SS",
    "N": "nn", "L": "nn",
    "R": "RR", "ER": "RR",
    "AA": "aa", "AE": "aa", "AH": "aa", "AY": "aa", "AW": "aa",
    "EH": "E", "EY": "E",
    "IH": "I", "IY": "I", "Y": "I",
    "AO": "O", "OW": "O", "OY": "O",
    "UH": "U", "UW": "U", "W": "U",
}  # fmt: skip
ARPABET: tuple[str, ...] = tuple(PHONE_TO_VISEME)
BILABIALS: frozenset[str] = frozenset({"P", "B", "M"})
OPEN_VOWELS: frozenset[str] = frozenset({"AA", "AE", "AH", "AO", "AW", "AY"})
# Viseme classes of vowels (every other class but "sil" is a consonant's).
VOWEL_VISEMES: frozenset[str] = frozenset({"aa", "E", "I", "O", "U"})

# Diphthongs glide from the first viseme to the second; the split is the fraction of the phone spent on the first.
DIPHTHONGS: dict[str, tuple[str, str, float]] = {
    "AY": ("aa", "I", 0.6),
    "AW": ("aa", "U", 0.6),
    "OY": ("O", "I", 0.6),
    "EY": ("E", "I", 0.6),
    "OW": ("O", "U", 0.55),
}

# Reduced vowels open less than their class's full target (jaw scale).
PHONE_JAW_SCALE: dict[str, float] = {"AH": 0.7, "IH": 0.85, "UH": 0.85, "ER": 0.9}

# Target poses: ARKit name -> weight; channels not named are 0 (neutral). ``...Left``/``...Right`` pairs are
# written once with a ``{S}`` placeholder and set on both sides.
#
# How the poses are split between channels follows what ARKit face tracking reports for a speaking face (Apple's
# blend-shape definitions, and real Live Link Face takes that are not the evaluation take: the AnimaVR
# NeuroSync_Player takes in ``livelink/animations/``, see audio2face/train.py; ten distinct files, emotion
# performances rather than speech: slow expressions over 15 s, jawOpen p95 0.00-0.34, no syllable-rate motion):
# the lips part mostly through mouthLowerDown/mouthUpperUp, which track jawOpen (r 0.8-0.9 in the takes that open
# the mouth, often with larger weights than jawOpen itself), while jawOpen
# stays moderate and nearly closes between syllables; consonants keep the jaw much lower than vowels (the jaw
# rises for the consonant and falls for the vowel, which is what makes its curve peaky). mouthPress and
# mouthRollLower are small on real faces (95th percentile 0.00-0.06 for press): press belongs to the bilabial
# closure only (whose sealed-lip pattern :mod:`.lip_state` defines), rolling to /f v/. The consonants' jaw targets
# follow how high each holds the jaw (see :data:`JAW_RISE`): sibilants highest (teeth nearly together), then alveolar
# stops, affricates and labiodentals, then /n l/ and the dentals (the tongue between the teeth), velars lowest.
_POSES: dict[str, dict[str, float]] = {
    "sil": {},
    "PP": {"jawOpen": 0.04, "mouthClose": 0.04, "mouthRollLower": 0.05, "mouthRollUpper": 0.05},
    "FF": {"jawOpen": 0.04, "mouthRollLower": 0.35, "mouthUpperUp{S}": 0.3, "mouthShrugUpper": 0.15},
    "TH": {"jawOpen": 0.08, "tongueOut": 0.35, "mouthLowerDown{S}": 0.2, "mouthUpperUp{S}": 0.1},
    "DD": {"jawOpen": 0.04, "mouthLowerDown{S}": 0.25, "mouthUpperUp{S}": 0.2, "mouthStretch{S}": 0.1},
    "kk": {"jawOpen": 0.12, "mouthLowerDown{S}": 0.2, "mouthUpperUp{S}": 0.15},
    "CH": {"jawOpen": 0.04, "mouthFunnel": 0.45, "mouthPucker": 0.2, "mouthUpperUp{S}": 0.3, "mouthLowerDown{S}": 0.2},
    "SS": {"jawOpen": 0.02, "mouthStretch{S}": 0.25, "mouthUpperUp{S}": 0.3, "mouthLowerDown{S}": 0.25},
    "nn": {"jawOpen": 0.06, "mouthLowerDown{S}": 0.2, "mouthUpperUp{S}": 0.15},
    "RR": {"jawOpen": 0.1, "mouthFunnel": 0.3, "mouthPucker": 0.2, "mouthLowerDown{S}": 0.1},
    "aa": {"jawOpen": 0.45, "mouthLowerDown{S}": 0.5, "mouthUpperUp{S}": 0.3},
    "E": {"jawOpen": 0.3, "mouthStretch{S}": 0.25, "mouthLowerDown{S}": 0.45, "mouthUpperUp{S}": 0.3},
    "I": {"jawOpen": 0.2, "mouthStretch{S}": 0.35, "mouthLowerDown{S}": 0.3, "mouthUpperUp{S}": 0.3},
    "O": {"jawOpen": 0.4, "mouthFunnel": 0.55, "mouthPucker": 0.25, "mouthLowerDown{S}": 0.3, "mouthUpperUp{S}": 0.15},
    "U": {"jawOpen": 0.15, "mouthPucker": 0.75, "mouthFunnel": 0.35, "mouthLowerDown{S}": 0.1},
}

# Channel groups that coarticulate independently (JALI: jaw and lips are separate controls); all of them are
# speech channels (facecraft.rigs.arkit.SPEECH_CHANNELS, the one list, which also holds the sideways jaw and mouth
# shifts that no viseme drives).
JAW_CHANNELS: tuple[str, ...] = ("jawOpen",)
TONGUE_CHANNELS: tuple[str, ...] = ("tongueOut",)
LIP_CHANNELS: tuple[str, ...] = (
    "mouthClose", "mouthFunnel", "mouthPucker", "mouthRollLower", "mouthRollUpper", "mouthShrugLower",
    "mouthShrugUpper", "mouthPressLeft", "mouthPressRight", "mouthStretchLeft", "mouthStretchRight",
    "mouthLowerDownLeft", "mouthLowerDownRight", "mouthUpperUpLeft", "mouthUpperUpRight",
)  # fmt: skip
# Channels that part the lips (zeroed while a bilabial closure holds).
LIP_OPENING_CHANNELS: tuple[str, ...] = (
    "mouthFunnel", "mouthPucker", "mouthLowerDownLeft", "mouthLowerDownRight", "mouthUpperUpLeft",
    "mouthUpperUpRight", "mouthStretchLeft", "mouthStretchRight", "tongueOut",
)  # fmt: skip


@dataclass(frozen=True)
class Dominance:
    """Coarticulation settings of one viseme.

    ``jaw``, ``lips``, ``tongue`` are dominance magnitudes in (0, 1]: a high value holds that channel group at
    this viseme's target against its neighbours. ``before`` / ``after`` are decay time constants in seconds
    outside the phone (anticipation / carry-over); ``lips_before`` overrides ``before`` for the lip group
    (long for rounded visemes, whose rounding starts early).
    """

    jaw: float
    lips: float
    tongue: float = 0.3
    before: float = 0.05
    after: float = 0.05
    lips_before: float | None = None


VISEME_DOMINANCE: dict[str, Dominance] = {
    "sil": Dominance(0.7, 0.7, 0.7, 0.08, 0.08),
    "PP": Dominance(0.8, 1.0, 0.2, 0.03, 0.03),
    "FF": Dominance(0.6, 0.9, 0.2, 0.04, 0.04),
    "TH": Dominance(0.5, 0.3, 1.0, 0.04, 0.04),
    "DD": Dominance(0.4, 0.1, 0.4, 0.04, 0.04),
    "kk": Dominance(0.3, 0.06, 0.2, 0.04, 0.04),
    "CH": Dominance(0.6, 0.8, 0.3, 0.05, 0.05, 0.08),
    "SS": Dominance(0.7, 0.3, 0.3, 0.04, 0.04),
    "nn": Dominance(0.35, 0.1, 0.3, 0.04, 0.04),
    "RR": Dominance(0.4, 0.5, 0.3, 0.05, 0.05, 0.08),
    "aa": Dominance(1.0, 0.4, 0.5, 0.06, 0.06),
    "E": Dominance(0.9, 0.35, 0.5, 0.06, 0.06),
    "I": Dominance(0.8, 0.35, 0.5, 0.06, 0.06),
    "O": Dominance(0.9, 0.85, 0.5, 0.06, 0.06, 0.12),
    "U": Dominance(0.8, 1.0, 0.5, 0.06, 0.07, 0.15),
}

# How firmly each consonant class raises the jaw toward its own (near-closed) target, in [0, 1]: the rule
# teacher.apply_jaw_rise applies after coarticulation. The jaw closes for most consonants and opens for the vowel, so
# it drops between syllables; how fully depends on the place of articulation. Sibilants need the teeth nearly
# together and hold the highest, least variable jaw position of all English consonants; alveolar stops and
# labiodentals (lip on teeth) come next; /n l/ and the dentals somewhat less; /r/ little; velars and /h/ have no jaw
# target of their own and take the vowel's (Keating, Lindblom, Lubker & Kreiman 1994, "Variability in jaw height for
# segments in English and Swedish VCVs"; Recasens' degree-of-articulatory-constraint model). Dominance blending alone
# leaves the jaw near the vowels' height through a short consonant (its weight is shared with both neighbours), which
# is why this is a separate rule, as the bilabial seal is. Bilabials are sealed by their own rule (lip_state).
JAW_RISE: dict[str, float] = {"SS": 1.0, "CH": 0.9, "DD": 0.8, "FF": 0.8, "TH": 0.6, "nn": 0.6, "RR": 0.3}
# Time constant (s) of the rise's decay outside the consonant: the jaw closes and reopens within some 50 ms.
JAW_RISE_RAMP = 0.025

VISEME_TO_RHUBARB: dict[str, str] = {
    "sil": "X", "PP": "A", "FF": "G", "TH": "B", "DD": "B", "kk": "B", "CH": "B", "SS": "B", "nn": "H",
    "RR": "E", "aa": "D", "E": "C", "I": "B", "O": "E", "U": "F",
}  # fmt: skip
RHUBARB_SHAPES: tuple[str, ...] = ("A", "B", "C", "D", "E", "F", "G", "H", "X")


def normalize_phone(phone: str) -> str:
    """ARPAbet phone without stress digits, upper case; silences and noise markers become ``'SIL'``."""
    p = str(phone).strip().upper().rstrip("012")
    if p in ("", "SIL", "SP", "SPN", "NSN", "<SIL>", "<S>", "</S>") or p.startswith("+") or p.startswith("["):
        return "SIL"
    return p


def phone_to_viseme(phone: str) -> str:
    """Viseme class of an ARPAbet phone (diphthongs give their first class); unknown phones raise."""
    p = normalize_phone(phone)
    if p not in PHONE_TO_VISEME:
        raise ParameterError(f"unknown ARPAbet phone {phone!r}; expected one of {', '.join(ARPABET)}")
    return PHONE_TO_VISEME[p]


def _pose_vector(spec: dict[str, float]) -> np.ndarray:
    w = np.zeros(NUM_ARKIT, np.float32)
    for name, value in spec.items():
        for side in ("Left", "Right") if "{S}" in name else ("",):
            w[ARKIT_INDEX[name.replace("{S}", side)]] = value
    return w


VISEME_POSES: dict[str, np.ndarray] = {v: _pose_vector(s) for v, s in _POSES.items()}
"""Viseme -> ARKit-52 target pose ``(52,)`` float32 (mouth, jaw and tongue channels only)."""


def viseme_pose(viseme: str) -> np.ndarray:
    """Copy of the ARKit-52 target pose ``(52,)`` of a viseme class; unknown names raise."""
    if viseme not in VISEME_POSES:
        raise ParameterError(f"unknown viseme {viseme!r}; expected one of {', '.join(VISEMES)}")
    return VISEME_POSES[viseme].copy()


def viseme_to_rhubarb(viseme: str) -> str:
    """Rhubarb mouth shape letter (``'A'``..``'H'``, ``'X'``) of a viseme class."""
    if viseme not in VISEME_TO_RHUBARB:
        raise ParameterError(f"unknown viseme {viseme!r}; expected one of {', '.join(VISEMES)}")
    return VISEME_TO_RHUBARB[viseme]


def phone_visemes(phones) -> list[dict]:
    """Viseme segments ``{"start", "end", "viseme", "phone"}`` (seconds) for phones with ``start/end/phone``.

    Diphthongs are split into their two classes; consecutive segments with the same class are kept apart so
    each phone's timing stays visible.
    """
    out: list[dict] = []
    for ph in phones:
        p = normalize_phone(ph.phone)
        if p in DIPHTHONGS:
            first, second, frac = DIPHTHONGS[p]
            mid = ph.start + frac * (ph.end - ph.start)
            out.append({"start": ph.start, "end": mid, "viseme": first, "phone": p})
            out.append({"start": mid, "end": ph.end, "viseme": second, "phone": p})
        else:
            out.append({"start": ph.start, "end": ph.end, "viseme": phone_to_viseme(p), "phone": p})
    return out


def mouth_cues(phones, *, min_duration: float = 0.04) -> list[dict]:
    """Rhubarb-style mouth cues ``{"start", "end", "value"}`` from phones, merging repeats and tiny cues.

    ``min_duration`` (s): cues shorter than this merge into the previous cue, as Rhubarb avoids flicker.
    """
    cues: list[dict] = []
    for seg in phone_visemes(phones):
        value = VISEME_TO_RHUBARB[seg["viseme"]]
        start, end = round(float(seg["start"]), 3), round(float(seg["end"]), 3)
        if end <= start:
            continue
        if cues and (cues[-1]["value"] == value or end - start < min_duration) and value != "A":
            cues[-1]["end"] = end
        else:
            cues.append({"start": start, "end": end, "value": value})
    return cues
