"""pocketsphinx phone recognition and forced alignment on synthesised and real speech."""

from __future__ import annotations

import numpy as np
import pytest

from facecraft.audio2face.audio import load_audio
from facecraft.audio2face.phonetics import (
    Phone,
    _dictionary,
    _model_paths,
    align_transcript,
    letter_to_sound,
    normalize_transcript,
    recognize_phones,
    speech_phones,
    spell_numbers,
    text_to_phones,
)
from facecraft.audio2face.visemes import ARPABET
from facecraft.rigs.errors import ParameterError


def _check_cover(phones: list[Phone], duration: float) -> None:
    assert phones[0].start == 0
    assert phones[-1].end == pytest.approx(duration, abs=0.011)
    for a, b in zip(phones, phones[1:], strict=False):
        assert b.start == pytest.approx(a.end, abs=1e-6) and b.end > b.start
    assert {p.phone for p in phones} <= set(ARPABET)


def test_recognition_finds_phones(espeak_speech):
    y, sr = load_audio(espeak_speech.path)
    phones = recognize_phones(y, sr)
    _check_cover(phones, len(y) / sr)
    speech = [p for p in phones if p.phone != "SIL"]
    assert len(speech) >= 15
    assert {"P", "B", "M"} & {p.phone for p in speech}


def test_alignment_gives_words_and_expected_phones(espeak_speech):
    y, sr = load_audio(espeak_speech.path)
    result = align_transcript(y, sr, transcript=espeak_speech.text)
    assert result.method == "align"
    words = [w.word for w in result.words if w.word != "<sil>"]
    assert words == normalize_transcript(espeak_speech.text)
    _check_cover(result.phones, len(y) / sr)
    expected = [p for w in words for p in text_to_phones(w)]
    assert [p.phone for p in result.phones if p.phone != "SIL"] == expected
    for w in result.words:
        for p in w.phones:
            assert w.start - 1e-6 <= p.start < p.end <= w.end + 1e-6
    # "map" ends in a bilabial closure
    m = [w for w in result.words if w.word == "map"][0]
    assert m.phones[-1].phone == "P"


def test_alignment_with_out_of_vocabulary_words(espeak_speech):
    y, sr = load_audio(espeak_speech.path)
    text = espeak_speech.text.replace("Bob", "Zorblax")
    result = align_transcript(y, sr, transcript=text)
    assert result.words[1].word == "zorblax" or "zorblax" in [w.word for w in result.words]


def test_word_decoding_without_transcript(espeak_speech):
    y, sr = load_audio(espeak_speech.path)
    result = speech_phones(y, sr, decode_words=True)
    assert result.method == "words" and len(result.words) >= 5
    _check_cover(result.phones, len(y) / sr)
    assert sum(p.phone in ("P", "B", "M") for p in result.phones) >= 3


def test_a_transcript_without_words_is_refused_not_taken_as_none():
    # `facecraft animate --mode procedural --transcript "?!"` went on without a word, as if none was given, while
    # `facecraft talk` refused it and the studio's Animate tab called it a transcript that did not fit
    y = np.zeros(1600, np.float32)
    with pytest.raises(ParameterError, match=r"transcript has no words to align: '\?!'"):
        speech_phones(y, 16000, transcript=" ?! ")
    assert speech_phones(y, 16000, transcript="").method == "recognize"  # none given


def test_fallback_to_recognition_when_alignment_fails():
    y = np.zeros(1600, np.float32)  # 0.1 s cannot hold this sentence
    result = speech_phones(y, 16000, transcript="a very long sentence that cannot fit in a tenth of a second")
    assert result.method == "recognize"
    _check_cover(result.phones, 0.1)


@pytest.mark.parametrize("n", [160, 320, 800])
def test_audio_too_short_to_decode_is_silence(n):
    # under about 50 ms pocketsphinx gives no segmentation (None): a 20 ms file, or the last block of a long
    # file cut into blocks, failed with "'NoneType' object is not iterable"
    y = (0.3 * np.random.default_rng(0).standard_normal(n)).astype(np.float32)
    phones = recognize_phones(y, 16000)
    _check_cover(phones, n / 16000)
    assert [p.phone for p in phones] == ["SIL"]


def test_long_audio_is_decoded_in_chunks(espeak_speech):
    y, sr = load_audio(espeak_speech.path)
    y3 = np.concatenate([y, y, y])
    phones = recognize_phones(y3, sr, chunk_seconds=len(y) / sr)
    _check_cover(phones, len(y3) / sr)
    per_copy = [sum(p.phone in ("P", "B", "M") for p in phones if k * len(y) / sr <= p.start < (k + 1) * len(y) / sr)
                for k in range(3)]  # fmt: skip
    assert min(per_copy) >= 1


def test_text_helpers_and_errors():
    assert normalize_transcript("Don't, Tom!  Etc.") == ["don't", "tom", "etc"]
    assert text_to_phones("map") == ["M", "AE", "P"]
    assert letter_to_sound("blorp").split()[0] == "B"
    assert set(letter_to_sound("shimmering").split()) <= set(ARPABET)
    with pytest.raises(ParameterError, match="no words"):
        align_transcript(np.zeros(16000, np.float32), transcript="...!")
    with pytest.raises(ParameterError, match="16000"):
        recognize_phones(np.zeros(100, np.float32), 8000)


def test_alignment_on_real_speech(speech_clips):
    aligned = 0
    for path, text in speech_clips[:6]:
        y, sr = load_audio(path)
        result = speech_phones(y, sr, transcript=text)
        _check_cover(result.phones, len(y) / sr)
        aligned += result.method == "align"
    assert aligned >= 5


def test_a_transcript_that_cannot_fit_the_speech_says_so():
    from facecraft.rigs.errors import FacecraftError

    quiet = np.zeros(8000, np.float32)  # half a second of silence: nothing to place 40 phones in
    with pytest.raises(FacecraftError, match="does not fit the speech"):  # was pocketsphinx's own words alone
        align_transcript(quiet, 16000, transcript="Peter Piper picked a peck of pickled peppers")


def test_a_transcript_of_other_words_that_aligns_is_warned_about(speech_clips, caplog):
    import logging

    from facecraft.audio2face.phonetics import TRANSCRIPT_FIT_MIN

    clips = {p.name: (p, t) for p, t in speech_clips}
    path, text = clips["librivox_0870.wav"]
    other = clips["arctic_unknownspk_a0010.wav"][1]  # "I'm playing a single hand...": aligns to the LibriVox line
    y, sr = load_audio(path)
    with caplog.at_level(logging.WARNING, logger="facecraft.audio2face.phonetics"):
        right = speech_phones(y, sr, transcript=text)
        assert right.method == "align" and right.fit > TRANSCRIPT_FIT_MIN and not caplog.records
        wrong = speech_phones(y, sr, transcript=other)
    assert wrong.method == "align", "the other words must still align for this check"
    assert wrong.fit < TRANSCRIPT_FIT_MIN
    assert "fits the speech poorly" in caplog.text and other[:20] in caplog.text


def test_recognised_words_are_not_warned_about_as_a_transcript(speech_clips, caplog, monkeypatch):
    import logging

    from facecraft.audio2face import phonetics

    clips = {p.name: (p, t) for p, t in speech_clips}
    y, sr = load_audio(clips["librivox_0870.wav"][0])
    other = clips["arctic_unknownspk_a0010.wav"][1]
    monkeypatch.setattr(phonetics, "recognize_words", lambda *a, **k: other)  # a recogniser that misheard
    with caplog.at_level(logging.WARNING, logger="facecraft.audio2face.phonetics"):
        result = speech_phones(y, sr, decode_words=True)
    assert result.method == "words" and result.fit < phonetics.TRANSCRIPT_FIT_MIN and not caplog.records


# Numbers were spelled digit by digit ("10" -> "one zero"), so a transcript with "10 dollars" did not fit speech
# that said "ten dollars" while "ten" did; text_to_phones gave "10" a single AH.
NUMBERS = [
    ("for 10 dollars", "for ten dollars"),
    ("42 and 105", "forty two and one hundred five"),
    ("0 13 99", "zero thirteen ninety nine"),
    ("1,000 people", "one thousand people"),
    ("1,234,567", "one million two hundred thirty four thousand five hundred sixty seven"),
    ("in 2024, 1905, 2005", "in twenty twenty four nineteen oh five two thousand five"),
    ("1100 2099", "eleven hundred twenty ninety nine"),
    ("1099 2100 9999", "one thousand ninety nine two thousand one hundred nine thousand nine hundred ninety nine"),
    ("the 1st, 2nd, 3rd, 4th, 11th", "the first second third fourth eleventh"),
    ("22nd 101st", "twenty second one hundred first"),
    ("3.5 and 0.25", "three point five and zero point two five"),
    ("50% or 2.5 %", "fifty percent or two point five percent"),
    ("$5, $1, $5.50", "five dollars one dollar five dollars fifty cents"),
    ("$0.99, $1.01", "ninety nine cents one dollar one cent"),
    ("$2 million, $1,500", "two million dollars one thousand five hundred dollars"),
    ("\u00a33, \u20ac20", "three pounds twenty euros"),
    ("agent 007, 10 thousand", "agent zero zero seven ten thousand"),
    ("Version 2. Done.", "version two done"),
]
# Decades, clock times, ranges and negative numbers were read number by number: "the 90s" ninety s, "3:30" three
# thirty but "10:05 pm" ten zero five pm, "5-10" five ten, "-5" five.
NUMBERS_IN_CONTEXT = [
    ("the 90s, the '90s, the 60's", "the nineties the nineties the sixties"),
    ("the 1990s and 1800s", "the nineteen nineties and eighteen hundreds"),
    ("the 2000s, the 2010s, 1,000s of people", "the two thousands the twenty tens thousands of people"),
    ("at 3:30", "at three thirty"),
    ("10:05 pm, 9:00 a.m., 7:45PM, 7 am", "ten oh five p m nine a m seven forty five p m seven a m"),
    ("12:00 and 15:00", "twelve o'clock and fifteen hundred"),
    ("5-10 people, pages 5\u201310", "five to ten people pages five to ten"),
    ("1990-1995, $5-10, 5-10%", "nineteen ninety to nineteen ninety five five to ten dollars five to ten percent"),
    ("it was -5 degrees, \u22123.5 or (-2)", "it was minus five degrees minus three point five or minus two"),
    ("-5-10", "minus five to ten"),
    ("the 21st, 50%, $5", "the twenty first fifty percent five dollars"),
    # left as they were: a word with a number, a date
    ("F-16", "f sixteen"),
    ("2024-01-05", "twenty twenty four zero one zero five"),
]
# A range of clock times read "nine o'clock to five thirty", a plural that is no decade "five s", telephone numbers as
# amounts ("555-0123" five hundred fifty five zero one two three, "(555) 123-4567" ... four thousand five hundred ...).
NUMBERS_SAID_AS_PEOPLE_SAY_THEM = [
    ("9:00-5:30, 9:00-5:00", "nine to five thirty nine to five"),
    ("15:00-17:00", "fifteen hundred to seventeen hundred"),
    ("the 5s and 6s, B-52s, 747s", "the fives and sixes b fifty twos seven hundred forty sevens"),
    ("555-0123, 555-0100", "five five five oh one two three five five five oh one oh oh"),
    ("(555) 123-4567", "five five five one two three four five six seven"),
    ("555-123-4567 or 555.123.4567", " or ".join(["five five five one two three four five six seven"] * 2)),
    ("1-800-555-0100", "one eight hundred five five five oh one oh oh"),
    ("+1 555 123 4567", "plus one five five five one two three four five six seven"),
    # not telephone numbers: a rising range of round numbers, a decimal, two numbers
    ("500-1000 words", "five hundred to one thousand words"),
    ("123.4567", "one hundred twenty three point four five six seven"),
    ("555 1234", "five hundred fifty five twelve thirty four"),
]


@pytest.mark.parametrize(("text", "said"), NUMBERS + NUMBERS_IN_CONTEXT + NUMBERS_SAID_AS_PEOPLE_SAY_THEM)
def test_numbers_are_spelled_as_said_in_words_the_dictionary_knows(text, said):
    words = normalize_transcript(text)
    assert " ".join(words) == said
    known = _dictionary(str(_model_paths(None)["dict"]))
    assert [w for w in words if w not in known] == []


def test_spell_numbers_leaves_the_rest_of_the_text():
    assert spell_numbers("Bob paid $5.50, 10% more.") == "Bob paid  five dollars fifty cents ,  ten percent  more."


def test_number_phones_are_the_words_phones():
    assert text_to_phones("10") == text_to_phones("ten") == ["T", "EH", "N"]
    assert text_to_phones("22nd") == text_to_phones("twenty second")


def test_a_transcript_with_digits_aligns_to_the_words_said(tmp_path):
    import shutil
    import subprocess

    exe = shutil.which("espeak-ng")
    if exe is None:
        pytest.skip("espeak-ng not installed (apt-get install espeak-ng)")
    path = tmp_path / "ten.wav"
    said = "I bought two maps for ten dollars"
    subprocess.run([exe, "-v", "en-us", "-s", "150", "-w", str(path), said], check=True, capture_output=True)
    y, sr = load_audio(path)
    result = align_transcript(y, sr, transcript="I bought two maps for 10 dollars")  # was "does not fit the speech"
    assert [w.word for w in result.words if w.word != "<sil>"] == normalize_transcript(said)
