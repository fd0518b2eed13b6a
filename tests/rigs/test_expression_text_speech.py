"""The text reader on a face that speaks (session 61's phrases11 tuning misses, in phrases of these tests' own): a
sound said shapes the mouth, talking and whispering part the lips, licking them shows the tongue, and what follows
"with" naming the hands or arms is no face."""

from __future__ import annotations

import pytest

from facecraft.rigs.expression_text import text_parts
from tests.rigs.text_reading import au, low, top


@pytest.mark.parametrize(
    ("text", "moves", "not_moved"),
    [
        ('she says "cheese"', ("AU12", "AU25"), "AU15"),  # was food, an error
        ("saying cheese at the photographer", ("AU12", "AU25"), "AU18"),
        ('"Ooh," he says', ("AU22",), "AU12"),  # a smile, AU12 0.55, no funnel
        ("saying 'ooo' softly", ("AU22",), "AU20"),
        ('said "oh!"', ("AU22", "AU26"), "AU12"),
        ('says "aah" for the dentist', ("AU25", "AU26"), "AU22"),
        ('saying "eeee"', ("AU20", "AU25"), "AU22"),
        ('whispering "shh"', ("AU18",), "AU25"),
        ('says "eww"', ("AU9",), "AU12"),  # was an error
        ('yells "ow!"', ("AU4", "AU7"), "AU12"),
    ],
)
def test_a_sound_said_shapes_the_mouth(text, moves, not_moved):
    a = au(text)
    assert all(low(a, m) > 0.3 for m in moves) and top(a, not_moved) < 0.1, (text, a)


@pytest.mark.parametrize(
    "text",
    [
        'says "oh, really" flatly',  # the sound opens a longer quotation: speech, left out
        'says "eek is a word"',
    ],
)
def test_a_sound_inside_longer_speech_is_speech(text):
    assert not any("lips rounded" in p.words or "stretched" in p.words for p in text_parts(text)), text


@pytest.mark.parametrize(
    ("text", "not_moved"),
    [
        ("talking", "AU4"),  # was food, an error
        ("speaking to a friend", "AU4"),  # lowered the brows, AU4 0.33
        ("whispering to her sister", "AU18"),  # pursed the lips, AU18 0.31
        ("mid-sentence", "AU24"),  # pressed the lips, AU24 0.37
    ],
)
def test_talking_parts_the_lips(text, not_moved):
    a = au(text)
    assert low(a, "AU25") > 0.5 and top(a, not_moved) < 0.05, (text, a)


@pytest.mark.parametrize("text", ["licking her lips", "licks his lips greedily", "she licked the lips"])
def test_licking_the_lips_shows_the_tongue(text):
    a = au(text)  # it sucked the lips in (AU28 0.43) over pressed lips
    assert low(a, "AU25") > 0.5 and top(a, "AU28") < 0.05 and top(a, "AU24") < 0.05, (text, a)


def test_rounded_lips_are_funnelled():
    a = au("lips rounded")  # stretched, AU20 0.37
    assert low(a, "AU22") > 0.5 and top(a, "AU20") < 0.05, a


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("laughing with arms raised", ["laughing"]),
        ("frowning, with hands on hips", ["frowning"]),
        ("grinning with a thumb up", ["grinning"]),
        ("smiling with teeth", ["smiling with teeth"]),  # a face part: how the smile is done
    ],
)
def test_the_body_below_the_face_is_no_part(text, words):
    assert [" ".join(p.words.split()) for p in text_parts(text) if not p.qualifier] == words


def test_the_laughing_crying_emoji_laughs():
    a = au("\U0001f602")  # FACE WITH TEARS OF JOY: a beaming smile with the lips together
    assert low(a, "AU12") > 0.5 and low(a, "AU25") > 0.3 and top(a, "AU15") < 0.05, a


def test_a_deer_in_the_headlights_is_startled_wide_eyed():
    a = au("like a deer caught in the headlights")
    assert low(a, "AU5") > 0.4 and top(a, "AU7") < 0.05, a


@pytest.mark.parametrize(
    ("text", "out"),
    [
        ("sticking out his tongue", True),
        ("tongue out, eyes crossed", True),
        (":p", True),
        ("\U0001f61b", True),  # FACE WITH STUCK-OUT TONGUE
        ("licking her lips", True),
        ("a smile", False),
        ("not sticking her tongue out", False),
        ("a tongue-in-cheek grin", False),  # a wry smirk: it opened the mouth, AU26 0.45
        ("tongue-tied", False),
        ("biting his tongue", False),  # words held back: the lips pressed
    ],
)
def test_words_put_the_tongue_out(text, out):
    from facecraft.rigs.expression_text import text_to_edit

    tongue = text_to_edit(text)[3]
    assert (tongue > 0.5) if out else tongue == 0.0, (text, tongue)


def test_tongue_idioms_show_no_tongue_and_no_open_mouth():
    assert top(au("a tongue-in-cheek grin"), "AU26") < 0.1
    a = au("biting her tongue")
    assert low(a, "AU24") > 0.5 and top(a, "AU25") < 0.05, a


def test_accented_letters_are_read_as_their_plain_ones():
    assert [p.words.strip() for p in text_parts("a naïve smile")] == ["a naive smile"]
    a = au("ángry")  # "'ngry' is no word the reader knows"
    assert low(a, "AU4") > 0.3 and top(a, "AU12") < 0.05, a


def test_the_tongue_is_said_and_an_emoticon_before_a_comma_is_read():
    from facecraft.rigs.expression_text import describe_text

    assert describe_text("sticking her tongue out").endswith("tongueOut 0.75")  # said as the open mouth alone
    said = describe_text(":P, looking up")  # ":P," was no emoticon: a smile
    assert "tongueOut" in said and "AU12" not in said and "gaze eyeLookUp" in said


@pytest.mark.parametrize("text", ["her mouth wide open", "jaw wide open", "a wide open mouth"])
def test_a_mouth_wide_open_stretches_the_jaw_not_the_eyes(text):
    a = au(text)  # "mouth wide open" was wide eyes, AU5 0.95, the "wide" left over
    assert low(a, "AU27") > 0.5 and low(a, "AU25") > 0.5 and top(a, "AU5") < 0.05, (text, a)


def test_a_long_text_is_quoted_short_in_its_error():
    from facecraft.rigs.errors import ParameterError
    from facecraft.rigs.expression_text import text_to_au

    with pytest.raises(ParameterError) as caught:  # 3,000 characters were quoted whole before the reason
        text_to_au(" ".join(["qxzvkw"] * 500))
    assert len(str(caught.value)) < 400 and "…" in str(caught.value)
