"""Phone timings from speech with pocketsphinx: recognition (allphone), and forced alignment to a transcript.

pocketsphinx's en-us model, phone language model and CMU dictionary come from the installed wheel through
:func:`facecraft.rigs.resolve_asset` (``pocketsphinx_en_us``). Audio is fed as 16 kHz int16; pocketsphinx
works at 100 frames/s, so every time is a multiple of 10 ms. Phones are ARPAbet without stress digits;
silences and noise are ``'SIL'``.

Alignment is two passes of pocketsphinx's own aligner (word alignment, then phone alignment inside it).
Words missing from the dictionary get a rough letter-to-sound spelling, and when alignment fails (the
transcript does not match the audio) the phones come from recognition instead, with a warning. A transcript
that aligns but is not what was said (another line's text, a half-edited one) is placed anyway, phones where
other sounds are; its acoustic fit (:attr:`PhoneticResult.fit`) says so, with a warning.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np
from num2words import num2words

from facecraft.rigs.assets import resolve_asset
from facecraft.rigs.errors import OptionalDependencyError, ParameterError

from .audio import SAMPLE_RATE
from .visemes import normalize_phone

logger = logging.getLogger(__name__)

FRAME_RATE = 100  # pocketsphinx frames per second
CHUNK_SECONDS = 20.0  # recognition decodes long audio in chunks of about this length
#: Below this fit (:attr:`PhoneticResult.fit`) a transcript is taken for one that is not what was said. Chosen
#: on read English of the training side (VCTK, LibriSpeech test-other; 40 clips): the words said fit at -27 to
#: -8 (and above -26 with white noise at 10 dB SNR), another clip's words that still align at -69 to -26, a
#: line whose second half is another's at -53 to -26.
TRANSCRIPT_FIT_MIN = -33.0


@dataclass(frozen=True)
class Phone:
    """One phone: ``start``/``end`` in seconds, ``phone`` in ARPAbet (``'SIL'`` for silence)."""

    start: float
    end: float
    phone: str

    @property
    def duration(self) -> float:
        return self.end - self.start

    def to_dict(self) -> dict:
        return {"start": self.start, "end": self.end, "phone": self.phone}


@dataclass(frozen=True)
class Word:
    """One aligned word with its phones (seconds)."""

    start: float
    end: float
    word: str
    phones: tuple[Phone, ...] = field(default_factory=tuple)


@dataclass
class PhoneticResult:
    """Phones (and words when aligned) of one utterance; ``method`` says how they were found."""

    phones: list[Phone]
    words: list[Word]
    method: str  # "align" (transcript), "words" (recognised words, aligned) or "recognize" (phones)
    #: How well aligned words fit the sound: pocketsphinx's phone-alignment score per 10 ms frame, each frame's
    #: score relative to its best-scoring state (0 = every frame at its best; None when not aligned).
    fit: float | None = None


def _model_paths(model_dir: str | Path | None = None) -> dict[str, Path]:
    root = resolve_asset("pocketsphinx_en_us", model_dir)
    return {
        "hmm": root / "en-us",
        "allphone": root / "en-us-phone.lm.bin",
        "dict": root / "cmudict-en-us.dict",
    }


def _decoder_class():
    try:
        from pocketsphinx import Decoder
    except ImportError as e:  # pragma: no cover - pocketsphinx is a core dependency
        raise OptionalDependencyError("phone recognition needs pocketsphinx: pip install pocketsphinx==5.1.1") from e
    return Decoder


def _to_int16(y: np.ndarray, sr: int) -> bytes:
    if sr != SAMPLE_RATE:
        raise ParameterError(f"pocketsphinx needs {SAMPLE_RATE} Hz audio, got sr={sr}; resample first (load_audio)")
    y = np.asarray(y, dtype=np.float32)
    if y.ndim != 1:
        raise ParameterError(f"expected mono audio of shape (N,), got {y.shape}")
    # Digital silence (runs of exact zeros, as TTS writes) breaks pocketsphinx's log-energy features and
    # makes alignment fail; a fixed, inaudible dither (about 3 LSB) avoids it and stays deterministic.
    dither = np.random.default_rng(0).standard_normal(len(y)).astype(np.float32) * 1e-4
    return (np.clip(y + dither, -1.0, 1.0) * 32767.0).astype("<i2").tobytes()


def _merge_sil(phones: list[Phone]) -> list[Phone]:
    out: list[Phone] = []
    for p in phones:
        if p.end <= p.start:
            continue
        if out and p.phone == "SIL" and out[-1].phone == "SIL":
            out[-1] = Phone(out[-1].start, p.end, "SIL")
        else:
            out.append(p)
    return out


def _chunk_bounds(y: np.ndarray, sr: int, chunk_seconds: float) -> list[tuple[int, int]]:
    """Cut long audio near ``chunk_seconds`` at the quietest 10 ms frame of the last 2 s of each chunk."""
    n, size = len(y), int(chunk_seconds * sr)
    bounds, start = [], 0
    hop = sr // FRAME_RATE
    while n - start > size * 1.25:
        lo, hi = start + size - 2 * sr, start + size
        seg = y[lo:hi]
        frames = seg[: len(seg) // hop * hop].reshape(-1, hop)
        cut = lo + int(np.argmin((frames**2).mean(1))) * hop + hop // 2
        bounds.append((start, cut))
        start = cut
    bounds.append((start, n))
    return bounds


def recognize_phones(
    y: np.ndarray, sr: int = SAMPLE_RATE, *, model_dir: str | Path | None = None, chunk_seconds: float = CHUNK_SECONDS
) -> list[Phone]:
    """Phones with timings by pocketsphinx allphone decoding (no transcript needed).

    Parameters
    ----------
    y : float array (N,)
        Mono audio in [-1, 1] at ``sr`` = 16000 Hz.
    model_dir : path, optional
        pocketsphinx model folder (defaults to the installed wheel's ``model/en-us`` folder set).
    chunk_seconds : float
        Long audio is decoded in chunks of about this many seconds, cut at quiet frames.

    Returns
    -------
    list of Phone
        Contiguous phones covering the audio, seconds, ``'SIL'`` for silence and noise.
    """
    data = _to_int16(y, sr)
    paths = _model_paths(model_dir)
    decoder = _decoder_class()(
        hmm=str(paths["hmm"]), allphone=str(paths["allphone"]), lw=2.0, beam=1e-20, pbeam=1e-20, loglevel="FATAL"
    )
    phones: list[Phone] = []
    for a, b in _chunk_bounds(np.asarray(y), sr, chunk_seconds):
        decoder.start_utt()
        decoder.process_raw(data[2 * a : 2 * b], full_utt=True)
        decoder.end_utt()
        offset = a / sr
        for seg in decoder.seg() or ():  # None, not [], for audio too short to decode (under about 50 ms)
            start = offset + seg.start_frame / FRAME_RATE
            end = offset + (seg.end_frame + 1) / FRAME_RATE
            phones.append(Phone(round(start, 3), round(min(end, b / sr), 3), normalize_phone(seg.word)))
    return _fill_gaps(_merge_sil(phones), len(y) / sr)


def _fill_gaps(phones: list[Phone], duration: float) -> list[Phone]:
    """Close gaps with SIL so phones cover [0, duration]."""
    out: list[Phone] = []
    t = 0.0
    for p in phones:
        if p.start > t + 1e-6:
            out.append(Phone(round(t, 3), p.start, "SIL"))
        out.append(p)
        t = p.end
    if duration > t + 1e-6:
        out.append(Phone(round(t, 3), round(duration, 3), "SIL"))
    return _merge_sil(out)


def normalize_transcript(text: str) -> list[str]:
    """Lower-case words of a transcript, keeping inner apostrophes (``"Don't, Tom!"`` -> ``["don't", "tom"]``).

    Numbers are spelled as they are said (:func:`spell_numbers`): ``"for 10 dollars"`` -> ``["for", "ten",
    "dollars"]``.
    """
    text = spell_numbers(text.lower().replace("\u2019", "'"))
    return [w.strip("'") for w in re.findall(r"[a-z0-9']+", text) if w.strip("'")]


_DIGITS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
#: Currency signs: the unit's name (one, several) and the hundredth's (one, several).
_CURRENCIES = {
    "$": ("dollar", "dollars", "cent", "cents"),
    "\u00a3": ("pound", "pounds", "penny", "pence"),
    "\u20ac": ("euro", "euros", "cent", "cents"),
}
_NUMBER = re.compile(
    r"(?P<cur>[$\u00a3\u20ac])?(?P<int>\d{1,3}(?:,\d{3})+(?!\d)|\d+)(?:\.(?P<frac>\d+))?"
    r"(?:(?P<ord>st|nd|rd|th)\b|(?P<plural>'?s)\b)?(?P<pct>\s*%)?"
    r"(?P<scale>\s+(?:thousand|million|billion|trillion)\b)?",
    re.IGNORECASE,
)
#: A clock time, 0:00 to 23:59, with its a.m. or p.m. ("10:05 pm", "9:00 a.m.", "7:45PM"), or an hour with one
#: ("7 am").
_TIME = re.compile(
    r"(?<![\d:.,])(?:(?P<h>[01]?\d|2[0-3]):(?P<m>[0-5]\d)(?![\d:]|[.,]\d)|(?P<hour>1[0-2]|0?[1-9])(?=\s*[ap]\.?\s?m\b))"
    r"(?:\s*(?P<ap>[ap])\.?\s?m\b\.?)?",
    re.IGNORECASE,
)
# One side of a range: a time, or a number with its currency sign and its ordinal, plural or percent ending.
_SIDE = r"(?:\d{1,2}:\d{2}|(?:\d{1,3}(?:,\d{3})+(?!\d)|\d+)(?:\.\d+)?)(?:st|nd|rd|th|'?s|\s?%)?"
#: Two numbers joined by a hyphen or a dash ("5-10", "1990-1995", "$5-10", "9:00-5:30"); the second starts with
#: no 0 but a lone one ("2024-01-05" is a date), and neither is one link of a longer chain ("1-800-555-0100").
_RANGE = re.compile(
    rf"(?<![\w.,:\u2212])(?<!\d-)(?P<acur>[$\u00a3\u20ac])?(?P<a>{_SIDE})(?P<dash>-|\s*[\u2013\u2014]\s*)"
    rf"(?P<bcur>[$\u00a3\u20ac])?(?P<b>(?=0(?!\d)|[1-9]){_SIDE})(?![\w\u2013\u2014-]|[.,:]\d)",
    re.IGNORECASE,
)
#: A North American telephone number: 7 digits as 3-4 ("555-0123"), 10 as 3-3-4 ("555-123-4567", "555.123.4567",
#: "(555) 123-4567", "555 123 4567"), with a country code before them ("1-800-555-0100", "+1 555 123 4567"). Groups
#: are joined by a hyphen, a dot or one space; 7 digits need the hyphen and are a range where both sides are round
#: and rise ("500-1000" five hundred to one thousand).
_PHONE = re.compile(
    r"(?<![\w.,:+\u2212-])(?:(?:(?P<plus>\+)?(?P<country>1)[\s.-]?)?"
    r"(?:\((?P<area>\d{3})\)\s?|(?P<area_>\d{3})[\s.-]))?"
    r"(?P<exchange>\d{3})(?P<sep>[\s.-])(?P<line>\d{4})(?![\w\u2212-]|[.,:]\d)"
)
#: A minus sign: a hyphen (or U+2212) that starts a number ("-5", "(-3.5)"), not one inside a word ("F-16").
_MINUS = re.compile(r"(?<![\w.,)\]%'\u2212-])[-\u2212](?=[$\u00a3\u20ac]?\.?\d)")


def transcript_words(transcript: str) -> list[str]:
    """The words of a transcript a user gave (:func:`normalize_transcript`); a transcript without any (``"?!"``)
    is refused, the one rule of every path that takes one (animate, talk, the studio): taken as no transcript, it
    was quietly ignored by one and reported as not fitting the speech by another."""
    words = normalize_transcript(transcript)
    if not words:
        raise ParameterError(f"transcript has no words to align: {transcript.strip()!r}")
    return words


def _said(words: str) -> str:
    """num2words' English as a speaker of the pocketsphinx model (US English) says it: no hyphens or commas,
    no "and" inside a number ("one hundred five")."""
    return " ".join(w for w in re.split(r"[\s,-]+", words) if w and w != "and")


def _cardinal(digits: str) -> str:
    digits = digits.replace(",", "")
    if (len(digits) > 1 and digits[0] == "0") or len(digits) > 15:  # "007", a code or a long serial: digit by digit
        return " ".join(_DIGITS[int(c)] for c in digits)
    return _said(num2words(int(digits)))


def _plural(words: str) -> str:
    """The plural of a spelled number's last word: "nineteen ninety" -> "nineteen nineties", "six" -> "sixes"."""
    head, _, last = words.rpartition(" ")
    last = last[:-1] + "ies" if last.endswith("y") else last + ("es" if last.endswith("x") else "s")
    return f"{head} {last}".strip()


def _spell_phone(m: re.Match) -> str:
    """A telephone number digit by digit, 0 as "oh", as it is read out: "555-0123" five five five oh one two three;
    a toll-free 800 is "eight hundred" ("1-800-555-0100" one eight hundred five five five oh one oh oh)."""
    area = m["area"] or m["area_"]
    a, b = int(m["exchange"]), int(m["line"])
    if not area and (m["sep"] != "-" or (a % 10 == 0 and b % 10 == 0 and a < b)):
        return m[0]  # "555 1234" two numbers, "123.4567" a decimal, "500-1000" a range: left to the number reader

    def digits(group: str) -> str:
        return " ".join("oh" if c == "0" else _DIGITS[int(c)] for c in group)

    said = "eight hundred" if area == "800" else digits(area) if area else ""
    parts = ["plus" if m["plus"] else "", m["country"] and "one", said, digits(m["exchange"]), digits(m["line"])]
    return " " + " ".join(p for p in parts if p) + " "


def _spell_time(m: re.Match) -> str:
    """A clock time as said: "3:30" three thirty, "10:05 pm" ten oh five p m, "12:00" twelve o'clock, "15:00"
    fifteen hundred, "9:00 a.m." and "9 am" nine a m."""
    hour, minutes = int(m["h"] or m["hour"]), int(m["m"] or 0)
    words = _said(num2words(hour))
    if minutes == 0:
        words += "" if m["ap"] else " o'clock" if 1 <= hour <= 12 else " hundred"
    else:
        words += (" oh " if minutes < 10 else " ") + _said(num2words(minutes))
    if m["ap"]:
        words += f" {m['ap'].lower()} m"
    return f" {words} "


def _spell_range(m: re.Match) -> str:
    """ "5-10" -> "5 to 10"; a currency sign on the first side only goes to the second ("$5-10": five to ten dollars).
    A range of clock times drops the o'clock of a whole hour ("9:00-5:30": nine to five thirty, "9:00-5:00" nine to
    five), as people say it; a 24-hour one keeps its hundred ("15:00-17:00" fifteen hundred to seventeen hundred)."""
    acur, bcur = m["acur"] or "", m["bcur"] or ""
    if acur and not bcur:
        acur, bcur = "", acur

    def side(s: str) -> str:
        hour = re.fullmatch(r"0?(\d{1,2}):00", s)
        return hour[1] if hour and 1 <= int(hour[1]) <= 12 else s

    return f"{acur}{side(m['a'])} to {bcur}{side(m['b'])}"


def _spell_number(m: re.Match) -> str:
    digits, frac, cur = m["int"], m["frac"], m["cur"]
    scale = m["scale"].strip().lower() if m["scale"] else None
    plural = m["plural"]
    if plural and not (frac or cur or scale or m["pct"]) and re.fullmatch(r"[1-9][\d,]*0", digits):
        # a decade or a century ("90s", "'90s", "1990s", "1800s"): the plural of the number as said
        said = _spell_number(re.match(_NUMBER, digits)).strip()
        if re.fullmatch(r"10*", digits.replace(",", "")):  # "1000s of people": thousands, not one thousands
            said = said.removeprefix("one ")
        return f" {_plural(said)} "
    if plural and not (frac or cur or scale or m["pct"]):  # "the 5s", "B-52s": the number's plural, fives
        return f" {_plural(_spell_number(re.match(_NUMBER, digits)).strip())} "
    if m["ord"] and frac is None and cur is None:
        words = _said(num2words(int(digits.replace(",", "")), to="ordinal"))
    elif not (frac or cur or scale or m["pct"]) and re.fullmatch(r"1[1-9]\d\d|20\d\d", digits):  # a year
        words = _said(num2words(int(digits), to="year"))
    else:
        words = _cardinal(digits)
        if frac is not None and not (cur and not scale and len(frac) == 2):
            words += " point " + " ".join(_DIGITS[int(c)] for c in frac)
        if m["ord"] and frac is not None:
            words += " " + m["ord"]
    if scale:
        words += " " + scale
    if cur:
        one, many, cent, cents = _CURRENCIES[cur]
        if not scale and frac is not None and len(frac) == 2:  # "$5.50": five dollars fifty cents
            whole = int(digits.replace(",", ""))
            parts = [f"{words} {one if whole == 1 else many}"] if whole else []
            if int(frac):
                parts.append(f"{_cardinal(frac.lstrip('0'))} {cent if int(frac) == 1 else cents}")
            words = " ".join(parts) or f"zero {many}"
        else:
            words += " " + (one if digits == "1" and frac is None and not scale else many)
    if m["pct"]:
        words += " percent"
    return f" {words} " + (plural or "")


def spell_numbers(text: str) -> str:
    """Numbers in a text spelled as they are said, in words the pronunciation dictionary knows.

    Cardinals (``10`` ten, ``105`` one hundred five, ``1,000`` one thousand), four-digit numbers from 1100 to
    2099 as years (``2024`` twenty twenty four, ``1905`` nineteen oh five, ``2005`` two thousand five),
    ordinals (``22nd`` twenty second), decimals (``3.5`` three point five), percentages (``50%`` fifty percent)
    and money in dollars, pounds or euros (``$5`` five dollars, ``$5.50`` five dollars fifty cents, ``$2
    million`` two million dollars). Decades and centuries in the plural (``90s``, ``'90s``, ``1990s`` nineteen
    nineties, ``1800s`` eighteen hundreds), clock times (``3:30`` three thirty, ``10:05 pm`` ten oh five p m,
    ``12:00`` twelve o'clock), ranges (``5-10`` five to ten, ``$5-10`` five to ten dollars) and negative numbers
    (``-5`` minus five), other plurals (``the 5s`` the fives) and telephone numbers, digit by digit (``555-0123``
    five five five oh one two three, ``(555) 123-4567``, ``1-800-555-0100`` one eight hundred five five five oh one
    oh oh). A range of clock times is said without o'clock (``9:00-5:30`` nine to five thirty). A number that starts
    with 0 (``007``) or has more than 15 digits is read digit by digit.
    """
    text = _PHONE.sub(_spell_phone, text)
    text = _RANGE.sub(_spell_range, text)
    text = _MINUS.sub(" minus ", text)
    text = _TIME.sub(_spell_time, text)
    return _NUMBER.sub(_spell_number, text)


# Rough letter-to-sound rules for words missing from the dictionary (multi-letter groups first).
_LETTER_RULES: tuple[tuple[str, str], ...] = (
    ("tch", "CH"), ("sch", "S K"), ("igh", "AY"), ("ough", "AO"), ("tion", "SH AH N"),
    ("ch", "CH"), ("sh", "SH"), ("th", "TH"), ("ph", "F"), ("wh", "W"), ("ck", "K"), ("ng", "NG"), ("qu", "K W"),
    ("ee", "IY"), ("ea", "IY"), ("oo", "UW"), ("ou", "AW"), ("ow", "OW"), ("oi", "OY"), ("oy", "OY"),
    ("ai", "EY"), ("ay", "EY"), ("au", "AO"), ("aw", "AO"), ("ie", "IY"), ("ei", "EY"),
    ("a", "AE"), ("b", "B"), ("c", "K"), ("d", "D"), ("e", "EH"), ("f", "F"), ("g", "G"), ("h", "HH"),
    ("i", "IH"), ("j", "JH"), ("k", "K"), ("l", "L"), ("m", "M"), ("n", "N"), ("o", "AA"), ("p", "P"),
    ("r", "R"), ("s", "S"), ("t", "T"), ("u", "AH"), ("v", "V"), ("w", "W"), ("x", "K S"), ("y", "IY"),
    ("z", "Z"),
)  # fmt: skip


def letter_to_sound(word: str) -> str:
    """A rough ARPAbet spelling of an out-of-dictionary word (good enough to align lips, not to transcribe)."""
    w, out = re.sub(r"[^a-z]", "", word.lower()), []
    i = 0
    while i < len(w):
        for letters, phones in _LETTER_RULES:
            if w.startswith(letters, i):
                if not (letters == "e" and i == len(w) - 1 and len(w) > 2):  # silent final e
                    out.append(phones)
                i += len(letters)
                break
        else:
            i += 1
    return " ".join(out) or "AH"


def _prepare_words(decoder, words: list[str]) -> list[str]:
    """Add the words missing from the decoder's dictionary (numbers are spelled by :func:`normalize_transcript`)."""
    for w in words:
        if decoder.lookup_word(w) is None:
            pron = letter_to_sound(w)
            logger.info("word %r not in the pocketsphinx dictionary; using %r", w, pron)
            decoder.add_word(w, pron, False)
    return words


def align_transcript(
    y: np.ndarray,
    sr: int = SAMPLE_RATE,
    *,
    transcript: str,
    model_dir: str | Path | None = None,
    warn_fit: bool = True,
) -> PhoneticResult:
    """Forced alignment of a transcript: word and phone timings (seconds).

    Raises :class:`ParameterError` when the transcript has no words, and
    :class:`~facecraft.rigs.errors.FacecraftError` (``AlignmentError``) when pocketsphinx cannot align it. A
    transcript that aligns but fits the sound below :data:`TRANSCRIPT_FIT_MIN` is taken with a warning
    (``warn_fit``; off for words recognised from the audio itself).
    """
    words = transcript_words(transcript)
    data = _to_int16(y, sr)
    paths = _model_paths(model_dir)
    decoder = _decoder_class()(
        hmm=str(paths["hmm"]), dict=str(paths["dict"]), lm=None, loglevel="FATAL", bestpath=False
    )
    words = _prepare_words(decoder, words)
    try:
        decoder.set_align_text(" ".join(words))
        for _ in range(2):  # pass 1 aligns words; set_alignment() makes pass 2 align phones inside them
            decoder.start_utt()
            decoder.process_raw(data, full_utt=True)
            decoder.end_utt()
            if _ == 0:
                decoder.set_alignment()
        alignment = decoder.get_alignment()
    except RuntimeError as e:
        raise AlignmentError(
            f"the transcript {transcript[:60]!r} does not fit the speech (pocketsphinx: {e}); give the words as they "
            "are said, or no transcript"
        ) from e
    if alignment is None:
        raise AlignmentError(f"the transcript {transcript[:60]!r} does not fit the speech (pocketsphinx aligned none)")
    out_words: list[Word] = []
    phones: list[Phone] = []
    score = 0
    for w in alignment:
        score += sum(p.score for p in w)
        wp = tuple(Phone(p.start / FRAME_RATE, (p.start + p.duration) / FRAME_RATE, normalize_phone(p.name)) for p in w)
        name = "<sil>" if w.name in ("<sil>", "<s>", "</s>") else re.sub(r"\(\d+\)$", "", w.name)
        out_words.append(Word(w.start / FRAME_RATE, (w.start + w.duration) / FRAME_RATE, name, wp))
        phones.extend(wp)
    if not any(p.phone != "SIL" for p in phones):
        raise AlignmentError(f"pocketsphinx aligned no phones for {transcript[:60]!r}")
    fit = score / max(len(y) / sr * FRAME_RATE, 1.0)
    if warn_fit and fit < TRANSCRIPT_FIT_MIN:
        logger.warning(
            "the transcript %r fits the speech poorly (alignment score %.0f per frame, below %.0f): the mouth will "
            "follow these words, so check that they are the words said",
            transcript[:60], fit, TRANSCRIPT_FIT_MIN,
        )  # fmt: skip
    return PhoneticResult(_fill_gaps(_merge_sil(phones), len(y) / sr), out_words, "align", fit)


class AlignmentError(ParameterError):
    """The transcript could not be aligned to the audio."""


def recognize_words(y: np.ndarray, sr: int = SAMPLE_RATE, *, model_dir: str | Path | None = None) -> str:
    """Word transcript by pocketsphinx with its en-us trigram language model (``''`` when nothing is heard)."""
    data = _to_int16(y, sr)
    root = resolve_asset("pocketsphinx_en_us", model_dir)
    paths = _model_paths(model_dir)
    decoder = _decoder_class()(
        hmm=str(paths["hmm"]), lm=str(root / "en-us.lm.bin"), dict=str(paths["dict"]), loglevel="FATAL"
    )
    words: list[str] = []
    for a, b in _chunk_bounds(np.asarray(y), sr, CHUNK_SECONDS):
        decoder.start_utt()
        decoder.process_raw(data[2 * a : 2 * b], full_utt=True)
        decoder.end_utt()
        hyp = decoder.hyp()
        if hyp is not None and hyp.hypstr:
            words.append(hyp.hypstr)
    return " ".join(words)


def speech_phones(
    y: np.ndarray,
    sr: int = SAMPLE_RATE,
    *,
    transcript: str | None = None,
    decode_words: bool = False,
    model_dir: str | Path | None = None,
) -> PhoneticResult:
    """Phones of an utterance: aligned to ``transcript`` when given, recognised otherwise or when alignment fails
    (a transcript without words is refused: :func:`transcript_words`).

    ``decode_words`` (no transcript): recognise words with the language model and align them, instead of
    free phone recognition. About 4x slower, and on ``../shared/data/speech`` it finds more /p b m/ (83% of
    the aligned ones against 77%), because dictionary pronunciations keep closures that allphone decoding
    drops.
    """
    if transcript and transcript_words(transcript):
        try:
            return align_transcript(y, sr, transcript=transcript, model_dir=model_dir)
        except AlignmentError as e:
            logger.warning("%s; falling back to phone recognition", e)
    elif decode_words:
        text = recognize_words(y, sr, model_dir=model_dir)
        if normalize_transcript(text):
            try:
                result = align_transcript(y, sr, transcript=text, model_dir=model_dir, warn_fit=False)
                result.method = "words"
                return result
            except AlignmentError as e:
                logger.info("%s; falling back to phone recognition", e)
    return PhoneticResult(recognize_phones(y, sr, model_dir=model_dir), [], "recognize")


@lru_cache(maxsize=1)
def _dictionary(path: str) -> dict[str, str]:
    out: dict[str, str] = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            word, _, pron = line.strip().partition(" ")
            if word and "(" not in word:
                out[word] = pron
    return out


def text_to_phones(text: str, *, model_dir: str | Path | None = None) -> list[str]:
    """ARPAbet phones of a text from the CMU dictionary (letter-to-sound for unknown words); no timings."""
    d = _dictionary(str(_model_paths(model_dir)["dict"]))
    out: list[str] = []
    for w in normalize_transcript(text):
        out.extend(d.get(w, letter_to_sound(w)).split())
    return out
