"""The text reader on moods, social smiles and gaze words an artist or a game writer types (session 57's faults)."""

from __future__ import annotations

import pytest

from facecraft.rigs.arkit import GAZE_CHANNELS
from facecraft.rigs.expression_text import text_to_au, text_to_gaze
from tests.rigs.text_reading import au, low, top


@pytest.mark.parametrize("text", ["a smile that doesn't reach the eyes", "a tight smile"])
def test_smiles_that_are_not_felt_raise_no_cheeks(text):
    a = au(text)  # both raised the cheeks (AU6 0.37, 0.39): a felt smile
    assert low(a, "AU12") > 0.4 and top(a, "AU6") < 0.1, (text, a)


def test_a_tight_smile_presses_the_lips():
    a = au("a tight smile")  # the lips were apart (AU25 0.09), not pressed
    assert low(a, "AU24") > 0.2 and low(a, "AU12") > 0.4


@pytest.mark.parametrize("text", ["a bittersweet smile", "smiling through tears", "a wistful smile"])
def test_sad_smiles_smile_under_sad_brows(text):
    a = au(text)  # "a bittersweet smile" was a warm smile; "smiling through tears" barely smiled (AU12 0.18)
    assert low(a, "AU12") > 0.3 and low(a, "AU1") > 0.2, (text, a)


def test_a_flirty_wink_winks_and_smiles():
    a = au("a flirty wink")  # the wink alone
    assert (a["AU45R"] > 0.5) != (a["AU45L"] > 0.5) and low(a, "AU12") > 0.2


@pytest.mark.parametrize("text", ["lovestruck", "smitten", "cringing", "stoic"])
def test_mood_words_read(text):
    text_to_au(text)  # each was an error: no expression reads from these words


def test_infatuation_smiles_and_a_cringe_grimaces():
    assert low(au("lovestruck"), "AU12") > 0.2
    a = au("cringing")
    assert low(a, "AU20") > 0.3 and top(a, "AU12") < 0.1
    assert not text_to_au("stoic").any()  # composure: no expression


@pytest.mark.parametrize("text", ["panicked", "alarmed"])
def test_panic_widens_the_eyes(text):
    assert low(au(text), "AU5") > 0.3, text  # read as worry (AU5 0.16)


def test_defeat_does_not_smile_and_triumph_does():
    d, t = au("defeated"), au("triumphant")  # "defeated" smiled (AU12 0.18); MiniLM puts triumph next to defeat
    assert top(d, "AU12") < 0.1 and low(d, "AU15") > 0.3
    assert low(t, "AU12") > 0.5 and top(t, "AU15") < 0.1


def test_jealousy_frowns():
    a = au("jealous")  # a smug smirk (AU12R 0.70)
    assert low(a, "AU4") > 0.2 and top(a, "AU12") < 0.3


@pytest.mark.parametrize("text", ["dreamy eyes", "heavy lidded", "bored"])
def test_lowered_lids_are_not_raised_too(text):
    a = au(text)  # "dreamy eyes" AU43 0.52 with AU5 0.23; "heavy lidded" puffed the cheeks
    assert top(a, "AU43") > 0.2 and top(a, "AU5") == 0.0, (text, a)


def test_bored_lids_are_lowered_less_than_half():
    assert top(au("bored"), "AU43") < 0.5  # 0.73: half closed


def test_just_tired_does_not_smile():
    a = au("not angry, just tired")  # "just" pulled "tired" toward relief (AU12 0.21)
    assert top(a, "AU43") > 0.4 and top(a, "AU12") < 0.1


@pytest.mark.parametrize("text", ["making eye contact", "gazing into the distance"])
def test_eye_contact_and_a_far_gaze_look_ahead(text):
    read = text_to_gaze(text)  # looking away, looking up
    assert set(read) == set(GAZE_CHANNELS) and max(read.values()) == 0.0, (text, read)


@pytest.mark.parametrize(
    "text,way", [("looking at the floor", "Down"), ("looking at her feet", "Down"), ("looking at the ceiling", "Up")]
)
def test_where_the_eyes_look_names_up_or_down(text, way):
    read = text_to_gaze(text)  # "looking at the floor" looked up
    assert read.get(f"eyeLook{way}Left", 0) > 0.5 and read.get(f"eyeLook{way}Right", 0) > 0.5, (text, read)
    other = "Up" if way == "Down" else "Down"
    assert read.get(f"eyeLook{other}Left", 0) == 0.0, (text, read)
