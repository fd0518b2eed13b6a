"""The text reader on body states, idioms and direction notes a game writer or an artist types (session 57, round 2)."""

from __future__ import annotations

import pytest

from facecraft.rigs.expression_text import text_to_gaze
from tests.rigs.text_reading import au, low, top


@pytest.mark.parametrize(
    "text,present,absent",
    [
        ("panting", ["AU25"], ["AU12"]),  # an error: read as an animal
        ("holding his breath", ["AU24"], ["AU25", "AU26"]),  # a gasp, the mouth open
        ("a weary sigh", ["AU43"], ["AU12"]),  # relief's smile (AU12 0.74)
        ("smelling something bad", ["AU9"], ["AU5"]),  # a gasp with narrowed eyes, no nose wrinkle
        ("a sour face", ["AU9", "AU18"], []),  # a neutral face
        ("elated", ["AU12", "AU6"], []),  # an error: no expression read
        ("petrified", ["AU5"], ["AU12"]),  # an error
        ("begging", ["AU1"], ["AU12"]),  # an error
        ("incredulous", ["AU1", "AU2"], ["AU15"]),  # an error
        ("indignant", ["AU4"], ["AU12"]),  # sadness, no brow lowering
        ("cracking up", ["AU12", "AU25"], ["AU45"]),  # a blink, the lips barely parted
        ("his eyes narrow", ["AU7"], ["AU5"]),  # wide open eyes (AU5 0.49)
        ("an intimidating stare", ["AU4", "AU7"], []),  # the slight stare (AU5 0.17)
    ],
)  # fmt: skip
def test_states_and_direction_notes_read_as_facs_describes_them(text, present, absent):
    a = au(text)
    for name in present:
        assert low(a, name) > 0.2, (text, name, a)
    for name in absent:
        assert top(a, name) < 0.1, (text, name, a)


@pytest.mark.parametrize("text", ["indifferent", "compassionate", "seductive", "a sultry look"])
def test_moods_that_do_not_frown_or_pout(text):
    a = au(text)  # indifferent frowned (AU4 0.53), compassionate AU4 0.68, seductive AU4 0.10, sultry a pout
    assert top(a, "AU4") < 0.1 and top(a, "AU17") < 0.1, (text, a)


def test_seduction_lowers_the_lids():
    assert low(au("seductive"), "AU43") > 0.2 and low(au("a sultry look"), "AU43") > 0.2


def test_un_before_an_expression_word_negates_it():
    a = au("unsmiling")  # an error: no expression read
    assert top(a, "AU12") == 0.0


@pytest.mark.parametrize("text", ["scared stiff", "quietly furious"])
def test_a_qualifier_beside_a_word_naming_no_expression_reads_whole(text):
    a = au(text)  # "stiff" read as annoyance, "quietly" as screaming (AU12 0.25, AU27 0.49)
    assert top(a, "AU12") < 0.1 and top(a, "AU27") < 0.1, (text, a)
    assert low(a, "AU5" if "scared" in text else "AU4") > 0.3, (text, a)


def test_tears_of_joy_smile():
    for text in ("happy tears", "tears of joy"):
        a = au(text)  # crying, the smile kept out of the mouth (AU12 0)
        assert low(a, "AU12") > 0.3 and low(a, "AU1") > 0.2, (text, a)


def test_a_jaw_dropping_surprise_raises_the_brows_and_drops_the_jaw():
    a = au("jaw dropping surprise")  # the brows barely raised (AU1 0.08)
    assert low(a, "AU1") > 0.3 and low(a, "AU26") > 0.3 and top(a, "AU12") < 0.1


def test_wonder_raises_the_brows():
    a = au("wide eyed with wonder")  # no brow raise, AU4 0.14
    assert low(a, "AU5") > 0.5 and low(a, "AU1") > 0.2 and top(a, "AU4") < 0.1


def test_hardly_is_a_degree():
    assert 0.2 < low(au("hardly smiling"), "AU12") < 0.5  # a full smile (AU12 0.75)


def test_an_inflected_word_is_no_typo():
    a = au("brow furrows in concern")  # an error: "furrows" is no word the reader knows; did you mean "furrowed"?
    assert low(a, "AU4") > 0.3


def test_a_tight_smile_keeps_the_lips_together():
    a = au("a tight smile")  # AU25 0.09 from the mixture's tail
    assert top(a, "AU25") == 0.0 and top(a, "AU26") == 0.0


@pytest.mark.parametrize(
    "text,eye", [("eyes to the left", "eyeLookOutLeft"), ("eyes flicking to the right", "eyeLookOutRight")]
)
def test_eyes_moving_to_a_side_glance_there(text, eye):
    gaze = text_to_gaze(text)  # an error ("these words do not say what the face does"), a blink on that side
    assert gaze[eye] > 0.5, (text, gaze)
    assert top(au(text), "AU45") == 0.0


def test_eyes_on_the_horizon_look_ahead():
    gaze = text_to_gaze("eyes fixed on the horizon")  # looked up
    assert gaze and max(gaze.values()) == 0.0


@pytest.mark.parametrize("text", ["seductive", "a sultry look", "a weary sigh"])
def test_heavy_lids_are_not_shut(text):
    a = au(text)  # the eyes shut (AU43 0.75), seductive under a toothy smile (AU12 0.60, AU25 0.45)
    assert 0.2 < low(a, "AU43") < 0.5 and top(a, "AU12") < 0.4 and top(a, "AU25") < 0.3, (text, a)
