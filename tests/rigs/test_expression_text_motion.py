"""The text reader on a face part and how it moves ("the corners of the mouth turned down", "brows pulled together")
and on adverbs that qualify as adjectives do ("smiling sadly"): session 57's structural faults."""

from __future__ import annotations

import numpy as np
import pytest

from facecraft.rigs.expression_text import text_to_au, text_to_gaze
from tests.rigs.text_reading import au, low, top


@pytest.mark.parametrize(
    ("text", "moves", "not_moved"),
    [
        ("corners of the mouth turned down", "AU15", "AU12"),  # was a smile, AU12 0.75
        ("the corners of her mouth droop", "AU15", "AU12"),  # a smile, AU12 0.66
        ("a downturned mouth", "AU15", "AU26"),  # an open mouth, AU26 0.58
        ("the corners of her lips lifting", "AU12", "AU20"),  # stretched lips, AU20 0.53
        ("brows pulled down", "AU4", "AU2"),  # raised too, AU1 / AU2 0.22, with a smile
        ("inner brows drawn upward", "AU1", "AU4"),  # lowered, AU4 0.51
        ("lower lip pushed out", "AU17", "AU10"),  # the upper lip raised, AU10 0.47
        ("lower lip pulled down", "AU16", "AU10"),  # the upper lip raised, AU10 0.58
        ("lips pushed forward", "AU18", "AU20"),  # stretched, AU20 0.53
        ("lips pulled into a thin line", "AU24", "AU20"),  # stretched, AU20 0.52
        ("chin pushed up", "AU17", "AU12"),  # a smile, AU12 0.54
    ],
)
def test_a_face_part_moves_as_the_words_say(text, moves, not_moved):
    a = au(text)
    assert low(a, moves) > 0.4 and top(a, not_moved) < 0.05, (text, a)


def test_a_part_moved_on_one_side_moves_there():
    a = au("right corner of the mouth turned down")  # smiled on the right, AU12R 0.74
    assert a["AU15R"] > 0.4 and a["AU15L"] == 0.0 and top(a, "AU12") < 0.05


def test_brows_up_raise_the_brows_not_the_gaze():
    assert text_to_gaze("eyes wide, brows up") == {}  # looked up (eyeLookUp 0.75), the brows still
    a = au("eyes wide, brows up")
    assert low(a, "AU5") > 0.4 and low(a, "AU1") > 0.4 and low(a, "AU2") > 0.4


def test_two_directions_of_one_part_are_one_motion():
    a = au("brows drawn down and together")  # "together" was read as an expression of its own
    assert low(a, "AU4") > 0.4 and max(v for k, v in a.items() if not k.startswith("AU4")) == 0.0, a


@pytest.mark.parametrize("text", ["a closed mouth smile", "a smile with the mouth shut", "smiling with lips closed"])
def test_a_closed_mouth_smile_keeps_the_lips_together(text):
    a = au(text)  # parted the lips (AU25 0.26 / 0.75) or pressed them hard (AU24 0.81)
    assert low(a, "AU12") > 0.4 and top(a, "AU25") < 0.05 and top(a, "AU26") < 0.05 and top(a, "AU24") < 0.3, a


@pytest.mark.parametrize(
    ("text", "feeling"),
    [
        ("smiling sadly", "AU1"),  # a plain smile: no sadness
        ("smiling tiredly", "AU43"),  # a plain smile
        ("smiling apologetically", "AU1"),  # a plain smile
    ],
)
def test_an_adverb_qualifies_as_its_adjective(text, feeling):
    a = au(text)
    assert low(a, "AU12") > 0.4 and low(a, feeling) > 0.2, (text, a)


def test_a_feeling_adverb_strengthens_what_the_face_does():
    assert low(au("staring fearfully"), "AU5") > low(au("staring"), "AU5") + 0.1  # AU5 0.18, less than staring


def test_an_adverb_that_names_no_feeling_qualifies_nothing():
    np.testing.assert_allclose(text_to_au("sobbing uncontrollably"), text_to_au("sobbing"))


def test_lips_pressed_together_are_pressed():
    a = au("lips pressed together tightly")  # "together" read them as only shut: pressed 0.41 and apart 0.31
    assert low(a, "AU24") > 0.5 and top(a, "AU25") < 0.05, a
