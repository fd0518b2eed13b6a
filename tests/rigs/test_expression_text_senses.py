"""The text reader on words with two senses (a mood, or what a face part looks like: "blue", "cross", "downcast"), tears
of joy, moods' adverbs ("irately", "glumly"), sleep and a lower lip pushed out (session 59's misses)."""

from __future__ import annotations

import pytest

from facecraft.rigs.expression_text import text_to_au, text_to_gaze
from tests.rigs.text_reading import au, low, top


@pytest.mark.parametrize("text", ["weeping with joy", "tears of joy", "crying happily", "sobbed with happiness"])
def test_tears_of_joy_smile_under_raised_cheeks_without_a_frown(text):
    a = au(text)  # a smile through tears: the brows lowered (AU4 0.50) over a turned-down mouth (AU15 0.61)
    assert low(a, "AU12") > 0.5 and low(a, "AU6") > 0.3, (text, a)
    assert top(a, "AU4") < 0.1 and top(a, "AU15") < 0.1, (text, a)


def test_smiling_through_tears_stays_a_sad_smile():
    a = au("smiling through tears")
    assert low(a, "AU12") > 0.3 and low(a, "AU1") > 0.2, a


@pytest.mark.parametrize("text", ["blue", "she is blue", "downcast", "looking downcast"])
def test_blue_and_downcast_as_moods_are_sad(text):
    a = au(text)  # "blue" was a colour (an error), "downcast" a gaze down with no sadness
    assert low(a, "AU1") > 0.3 and low(a, "AU15") > 0.3 and top(a, "AU12") < 0.1, (text, a)


@pytest.mark.parametrize("text", ["cross", "she is cross", "a cross look", "he is cross with her"])
def test_cross_as_a_mood_is_annoyance(text):
    a = au(text)  # a sideways glance, no face change
    assert low(a, "AU4") > 0.3 and top(a, "AU12") < 0.1, (text, a)


@pytest.mark.parametrize("text", ["eyes downcast", "with downcast eyes"])
def test_downcast_eyes_look_down_without_sadness(text):
    assert not text_to_au(text).any(), text
    gaze = text_to_gaze(text)
    assert gaze["eyeLookDownLeft"] > 0.5 and gaze["eyeLookDownRight"] > 0.5, (text, gaze)


@pytest.mark.parametrize("text", ["blue eyes", "cross eyed", "her lips turned blue"])
def test_a_face_part_that_is_blue_or_cross_is_no_mood(text):
    a = au(text)
    assert top(a, "AU15") < 0.1 and top(a, "AU4") < 0.1, (text, a)


def test_eager_raises_the_brows():
    a = au("eager")  # boredom's lowered lids over a raised chin (AU43 0.33, AU17 0.26)
    assert low(a, "AU1") > 0.3 and low(a, "AU2") > 0.3, a
    assert top(a, "AU15") < 0.1 and top(a, "AU43") < 0.1 and top(a, "AU4") < 0.1, a


@pytest.mark.parametrize("text", ["lower lip sticking out", "bottom lip stuck out", "lower lip pushed out"])
def test_a_pushed_out_lower_lip_is_a_pout(text):
    a = au(text)  # "sticking out" raised the upper lip (AU10 0.66) over parted lips
    assert low(a, "AU17") > 0.5 and low(a, "AU15") > 0.2, (text, a)
    assert top(a, "AU10") < 0.1 and top(a, "AU25") < 0.1 and top(a, "AU12") < 0.1, (text, a)


@pytest.mark.parametrize("text", ["dozing in a chair", "snoozing"])
def test_dozing_shuts_the_eyes(text):
    a = au(text)  # "dozing in a chair" was an error (clothing), "snoozing" opened the jaw (AU27 0.41)
    assert low(a, "AU43") > 0.5 and top(a, "AU5") < 0.1, (text, a)
    assert top(a, "AU26") < 0.1 and top(a, "AU27") < 0.1, (text, a)


@pytest.mark.parametrize("adverb,adjective", [("irately", "irate"), ("glumly", "glum"), ("nervously", "nervous"),
                                              ("sheepishly", "sheepish")])  # fmt: skip
def test_a_mood_adverb_alone_reads_as_its_adjective(adverb, adjective):
    # "irately" and "glumly" were errors; "nervously" widened the eyes as fear does (AU5 0.36)
    assert text_to_au(adverb).tolist() == text_to_au(adjective).tolist(), adverb


def test_a_mood_adverb_qualifies_as_its_mood():
    a = au("frowning irately")  # "irate" is furious: the brows lowered hard
    assert low(a, "AU4") > 0.9 and top(a, "AU12") < 0.1, a
    a = au("smiling glumly")  # a sad smile (was a surprised one: AU5 0.40, AU2 0.25)
    assert low(a, "AU12") > 0.5 and low(a, "AU1") > 0.3 and top(a, "AU5") < 0.1, a


@pytest.mark.parametrize("text", ["blew his top", "he flew off the handle", "spat feathers"])
def test_a_verb_idiom_reads_in_every_tense(text):
    a = au(text)  # "blew his top" was a surprised open mouth (AU27 0.35); only "blowing his top" read as rage
    assert low(a, "AU4") > 0.9 and top(a, "AU12") < 0.1 and top(a, "AU27") < 0.1, (text, a)


def test_yet_joins_two_clauses_as_but_does():
    a = au("afraid yet defiant")  # read whole: fear alone, the defiance's lowered brows lost (AU4 0.45, AU24 0)
    assert low(a, "AU5") > 0.3 and low(a, "AU24") > 0.3, a


@pytest.mark.parametrize(
    "text,need,lack",
    [("defiant", "AU4", "AU15"), ("querulous", "AU17", "AU12"), ("discombobulated", "AU4", "AU12"),
     ("impish", "AU12", "AU15"), ("giggly", "AU12", "AU34"), ("dumbfounded", "AU2", "AU4")],
)  # fmt: skip
def test_mood_words_read_as_their_state(text, need, lack):
    # "defiant" was sadness's mouth (AU15 0.31), "giggly" puffed cheeks (AU34 0.67), "dumbfounded" frowned (AU4 0.40)
    a = au(text)  # ... the others were errors
    assert top(a, need) > 0.3 and top(a, lack) < 0.1, (text, a)


def test_an_insouciant_face_shows_nothing():
    assert not text_to_au("insouciant").any()  # an error


def test_the_ghost_of_a_smile_is_a_slight_smile():
    a = au("the ghost of a smile")  # a plain smile (AU12 0.64)
    assert 0.2 < low(a, "AU12") < 0.5, a


def test_crinkles_at_the_corners_of_the_eyes_raise_the_cheeks():
    a = au("crinkles at the corners of the eyes")  # "'crinkles' is no word the reader knows"
    assert low(a, "AU6") > 0.5 and top(a, "AU12") < 0.1 and top(a, "AU15") < 0.1, a


def test_a_face_that_lights_up_does_not_frown():
    a = au("her face lights up")  # raised brows over a frown (AU4 0.24)
    assert low(a, "AU12") > 0.5 and top(a, "AU4") < 0.1, a


def test_like_the_cat_that_got_the_cream_is_smug():
    a = au("like the cat that got the cream")  # an error
    assert max(a["AU12R"], a["AU12L"]) > 0.5 and top(a, "AU15") < 0.1, a


def test_barely_able_to_keep_her_eyes_open_lowers_the_lids():
    a = au("barely able to keep her eyes open")
    assert low(a, "AU43") > 0.3 and top(a, "AU5") < 0.1, a


@pytest.mark.parametrize("text", ["feeling sad", "feeling happy"])
def test_feeling_says_nothing_of_the_face(text):
    a, b = au(text), au(text.split()[1])  # "feeling" was read as a face of its own: "feeling sad" smiled (AU12 0.31)
    assert abs(top(a, "AU12") - top(b, "AU12")) < 0.15 and abs(top(a, "AU15") - top(b, "AU15")) < 0.15, (text, a, b)
