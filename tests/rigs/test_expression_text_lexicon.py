"""The text reader on mood words and idioms MiniLM puts near no expression: read by the emotion they name and how
strongly (rigs.emotions.EMOTION_SYNONYMS), by the state they name (fatigue, shame, grumpiness) and as idioms."""

from __future__ import annotations

import re

import pytest

from facecraft.rigs.emotions import EMOTION_SYNONYMS, normalize_emotion
from facecraft.rigs.errors import ParameterError
from facecraft.rigs.expression_text import _MOOD, _QUALIFIERS, TEXT_ANCHORS, _read_moods, text_to_au
from tests.rigs.text_reading import au, low, top


@pytest.mark.parametrize("text", ["forlorn", "woeful", "down in the dumps", "a long face"])
def test_sad_words_read_as_sadness(text):
    a = au(text)  # "forlorn" was an error (nearest 'in love, adoring'): no expression read
    assert low(a, "AU1") > 0.3 and low(a, "AU15") > 0.3 and top(a, "AU12") < 0.1, (text, a)


@pytest.mark.parametrize("text", ["irate", "fit to be tied", "hopping mad", "face like thunder", "a thunderous scowl"])
def test_rage_words_lower_the_brows_hard(text):
    a = au(text)  # "irate" and "fit to be tied" were errors; "face like thunder" a neutral face
    assert low(a, "AU4") > 0.9 and top(a, "AU12") < 0.1, (text, a)


def test_mild_anger_is_milder_than_strong_anger():
    assert 0.2 < low(au("peeved"), "AU4") < low(au("irate"), "AU4")


def test_a_mood_word_qualifies_an_expression_as_its_emotion_does():
    a = au("an irate glare")  # a furious glare: the brows lowered hard
    assert low(a, "AU4") > 0.85 and low(a, "AU7") > 0.5 and top(a, "AU12") < 0.1, a  # was AU4 0.70


@pytest.mark.parametrize("text", ["dozy", "lethargic", "worn out"])
def test_fatigue_words_lower_the_lids(text):
    a = au(text)  # "dozy", "lethargic" were errors; "worn out" opened the jaw (AU26 0.33, AU43 0.10)
    assert low(a, "AU43") > 0.4 and top(a, "AU5") < 0.1 and top(a, "AU26") < 0.1, (text, a)


@pytest.mark.parametrize("text", ["tired", "lethargic"])
def test_fatigue_lowers_the_lids_without_shutting_them(text):
    a = au(text)  # "tired" shut the eyes (AU43 0.75), "lethargic" was an error
    assert 0.3 < low(a, "AU43") and top(a, "AU43") < 0.6, (text, a)


@pytest.mark.parametrize("text", ["tears run down her cheeks", "her hair stuck up, crying"])
def test_a_mood_idiom_is_read_only_where_it_means_the_mood(text):
    a = au(text)  # "run down" (tired) and "stuck up" (snooty) are also what tears and hair do
    assert low(a, "AU15") > 0.3 and top(a, "AU43") < 0.1 and top(a, "AU14") < 0.1, (text, a)


def test_mortified_is_shame():
    a = au("mortified")  # was an error
    assert low(a, "AU15") > 0.3 and low(a, "AU43") > 0.3 and top(a, "AU12") < 0.1, a


@pytest.mark.parametrize("text", ["on cloud nine", "tickled pink", "chuffed"])
def test_happy_idioms_smile(text):
    a = au(text)  # "on cloud nine" was an error, "tickled pink" a colour, "chuffed" "did you mean 'puffed'?"
    assert low(a, "AU12") > 0.5 and top(a, "AU4") < 0.1, (text, a)


@pytest.mark.parametrize("text", ["surly", "crabby"])
def test_grumpy_words_frown_over_a_pout(text):
    a = au(text)  # both were errors
    assert low(a, "AU4") > 0.4 and low(a, "AU17") > 0.4 and top(a, "AU12") < 0.1, (text, a)


def test_sulky_pouts_without_a_smile():
    a = au("sulky")  # a smile's tail from 'sultry' (AU12 0.13), which MiniLM puts next to it
    assert low(a, "AU17") > 0.4 and top(a, "AU12") < 0.05, a


def test_a_misspelt_mood_word_is_a_typo():
    with pytest.raises(ParameterError, match="did you mean 'irate'"):
        text_to_au("irrate")


def test_mood_words_are_not_labels():
    with pytest.raises(ParameterError):  # data sets' labels keep their aliases: "irate" names no folder
        normalize_emotion("irate")


def test_the_mood_table_shadows_no_anchor_and_reads_once():
    """A mood word is no word of an anchor or a qualifier (it would take the anchor's reading away), and what it reads
    as is read as it is (no mood word in it)."""
    anchored = {w for phrase, _ in TEXT_ANCHORS for w in re.findall(r"[a-z]+", phrase)}
    for word, read in _MOOD:
        assert not (re.fullmatch(r"[a-z]+", word) and (word in anchored or _QUALIFIERS.fullmatch(word))), word
        assert _read_moods(read) == read, (word, read)
    assert all(levels for levels in EMOTION_SYNONYMS.values())


def test_a_yawn_parts_the_lips_as_the_jaw_stretches():
    a = au("yawning widely")  # the jaw stretched with no lips apart (FACS codes a yawn 25+27)
    assert low(a, "AU25") > 0.5 and low(a, "AU27") > 0.5


def test_blowing_out_candles_rounds_the_lips_over_puffed_cheeks():
    a = au("blowing out the candles on the cake")  # it smiled, AU12 0.34
    assert low(a, "AU18") > 0.5 and low(a, "AU34") > 0.3 and top(a, "AU12") < 0.05, a
