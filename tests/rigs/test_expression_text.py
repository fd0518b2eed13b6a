"""Reading a few words as an expression: clauses, negation, sides, qualified expressions."""

from __future__ import annotations

import numpy as np
import pytest

from facecraft.rigs.emotion_space import is_free_text
from facecraft.rigs.errors import ParameterError
from facecraft.rigs.expression_text import on_side, text_parts, text_to_au
from facecraft.rigs.facs import SIDED_AU_NAMES, au_vector
from tests.rigs.text_reading import au, both


@pytest.mark.parametrize(
    "text,side,name",
    [("a wink with the right eye", "R", "AU45"), ("a wink with the left eye", "L", "AU45"),
     ("raised left eyebrow", "L", "AU2"), ("right eyebrow raised", "R", "AU2"),
     ("a left-sided smirk", "L", "AU12"), ("a smirk on the right", "R", "AU12")],
)  # fmt: skip
def test_left_and_right_put_the_action_on_that_side(text, side, name):
    a = au(text)
    other = "R" if side == "L" else "L"
    assert a[f"{name}{side}"] > 0.5
    assert a[f"{name}{other}"] == 0.0


def test_text_without_a_side_keeps_both_sides():
    assert min(both(au("raised eyebrows"), "AU2")) > 0.5
    for smile in ("smile", "a smile", "a slight smile", "a very slight smile", "smiling", "he grins"):  # no smirk
        left, right = both(au(smile), "AU12")
        assert left == pytest.approx(right) and left > 0.3, smile
    assert min(both(au("a big grin"), "AU12")) > 0.8  # a grin is not a smirk
    assert max(both(au("a big grin"), "AU14")) < 0.2


def test_negation_removes_what_it_names():
    assert text_to_au("not smiling").max() == 0.0
    brows = au("no smile, just raised eyebrows")
    assert max(both(brows, "AU12")) == 0.0
    assert min(both(brows, "AU1") + both(brows, "AU2")) > 0.5
    closed, toothy = au("smiling without showing teeth"), au("smiling with teeth")
    assert min(both(closed, "AU12")) > 0.5  # the smile another clause asks for stays
    assert max(both(closed, "AU25")) == 0.0
    assert min(both(toothy, "AU25")) > 0.3
    # "not too" lowers the intensity; it negates nothing
    mild, full = au("not too happy"), au("happy")
    assert 0 < mild["AU12L"] < full["AU12L"]


def test_clauses_and_qualified_expressions_combine():
    surprised_smile = au("a surprised smile")  # a smile first, surprised with it
    assert min(both(surprised_smile, "AU12")) > 0.5
    assert (
        0.5 * min(both(surprised_smile, "AU12"))
        < min(both(surprised_smile, "AU2"))
        < min(both(surprised_smile, "AU12"))
    )
    eyes_closed_smiling = au("eyes closed, smiling")
    assert min(both(eyes_closed_smiling, "AU43")) > 0.5
    assert min(both(eyes_closed_smiling, "AU12")) > 0.5
    sad_smile = au("a sad smile")  # sad brows above a smile: the qualifier keeps out of the smile's mouth
    assert min(both(sad_smile, "AU12")) > 0.5 and min(both(sad_smile, "AU1")) > 0.3
    assert max(both(sad_smile, "AU15")) == 0.0
    # one expression stays one part: a shy smile is a small smile, intensity words are not parts
    assert [p.words for p in text_parts("a shy smile")] == ["a shy smile"]
    assert [p.words for p in text_parts("extremely surprised")] == ["extremely surprised"]


def test_text_parts_split_clauses_and_negations():
    parts = text_parts("not angry but sad")
    assert [(p.words.strip(), p.negated) for p in parts] == [("angry", True), ("sad", False)]
    (wink,) = text_parts("a wink with the right eye")
    assert wink.side == "right" and "right" not in wink.words


@pytest.mark.parametrize("bad", ["", "   ", "...", "42", None])
def test_text_without_words_is_an_error(bad):
    with pytest.raises(ParameterError, match="expected a few words"):
        text_to_au(bad)


@pytest.mark.parametrize("typo,meant", [("hapiness", "happiness"), ("angre", "anger"), ("suprise", "surprise")])
def test_a_misspelt_emotion_name_is_an_error_that_suggests_the_name(typo, meant):
    with pytest.raises(ParameterError, match=f"did you mean '{meant}'"):
        text_to_au(typo)


def test_a_word_made_from_an_emotion_name_is_no_typo():
    a = au("contemptuous")  # was "unknown emotion 'contemptuous': did you mean 'contempt'?"
    assert max(both(a, "AU14")) > 0.3 and min(both(a, "AU14")) == 0.0  # contempt's one-sided dimpler


@pytest.mark.parametrize("noise", ["xyz", "asdkjh qwe", "笑顔", "table", "un sourire timide", "xyzzy", "qwerty"])
def test_words_that_say_no_expression_are_an_error_not_a_guess(noise):
    with pytest.raises(ParameterError, match="no expression reads from these words"):
        text_to_au(noise)


@pytest.mark.parametrize("thing", ["banana", "pizza", "soup", "a red car", "Tuesday", "guitar", "photo"])
def test_words_that_name_a_thing_are_an_error_not_a_face(thing):
    with pytest.raises(ParameterError, match="not as an expression|no expression reads"):  # "banana" widened the eyes
        text_to_au(thing)


def test_a_clause_that_names_a_thing_is_left_out_with_a_warning(caplog):
    import logging

    with caplog.at_level(logging.WARNING, logger="facecraft.rigs.expression_text"):
        with_thing = text_to_au("a smile, banana")  # the banana part widened the eyes and puffed the cheeks
    assert "left out 'banana'" in caplog.text
    read = dict(zip(SIDED_AU_NAMES, with_thing.tolist(), strict=True))
    assert read["AU12L"] > 0.4 and read["AU5L"] == read["AU34L"] == 0.0  # the smile, not the banana's wide eyes


@pytest.mark.parametrize("word", ["heavy lids", "defeated", "victorious", "guilty", "mischievous", "tense"])
def test_expression_words_near_no_anchor_are_not_taken_for_things(word):
    text_to_au(word)


@pytest.mark.parametrize("filler", ["a", "the eyes", "a face", "left", "slightly"])
def test_words_that_only_fill_are_an_error_not_a_guess(filler):
    with pytest.raises(ParameterError, match="do not say what the face does"):  # "a" was read as a wink
        text_to_au(filler)


@pytest.mark.parametrize("word", ["stern", "danger", "a shy smile", "sad", "pouting", "yawning", "flirty"])
def test_english_expression_words_are_still_read(word):
    text_to_au(word)  # "danger" is an English word, near "anger" only in spelling: read, not corrected


def test_on_side_moves_each_action_to_one_side():
    v = au_vector({"AU12R": 0.6, "AU14L": 0.3, "AU1": 0.5})
    left = dict(zip(SIDED_AU_NAMES, on_side(v, "left").tolist(), strict=True))
    assert left["AU12L"] == pytest.approx(0.6) and left["AU14L"] == pytest.approx(0.3) and left["AU1L"] == 0.5
    assert not any(left[f"{n[:-1]}R"] for n in SIDED_AU_NAMES if n.endswith("L"))
    assert np.array_equal(on_side(v, None), v)


@pytest.mark.parametrize(
    "value,free",
    [("a shy smile", True), ("not smiling", True), ("anger:0.5", False), ("happiness", False),
     ("AU12=0.3,AU6=0.2", False), ("track.json", False), ("angr:0.5", False), ("", False), (None, False)],
)  # fmt: skip
def test_is_free_text_matches_what_parse_emotion_reads_as_words(value, free):
    assert is_free_text(value) is free


@pytest.mark.parametrize(
    "text,name,side",
    [(":)", "AU12", None), (":-(", "AU15", None), (";)", "AU45", "one"), ("😢", "AU1", None), ("😉", "AU45", "one"),
     ("🙂", "AU12", None)],
)  # fmt: skip
def test_emoticons_and_emoji_read_as_the_faces_they_show(text, name, side):
    left, right = both(au(text), name)  # they were "expected a few words" errors
    if side == "one":
        assert max(left, right) > 0.5 and min(left, right) == 0.0
    else:
        assert min(left, right) > 0.3
    assert max(both(au("😢"), "AU12")) == 0.0


@pytest.mark.parametrize("text", [";)", ";-)", "😉"])
def test_a_winking_smiley_smiles_as_it_winks(text):
    assert min(both(au(text), "AU12")) > 0.3  # it was a wink alone


def test_a_misspelt_expression_word_is_an_error_that_suggests_the_word():
    with pytest.raises(ParameterError, match="did you mean 'smiling'"):  # read as a thinking face
        text_to_au("a big smilling face")
    for word in ("sulking", "pouting", "unimpressed", "grimacing"):  # English words the anchors do not use
        text_to_au(word)


def test_degree_adverbs_set_the_strength_and_do_not_change_the_expression():
    very, touch, plain = au("incredibly sad"), au("a touch of sadness"), au("sad")
    assert min(both(very, "AU1")) > 0.85
    assert max(both(very, "AU2") + both(very, "AU5")) < 0.1  # "incredibly" read as surprise
    assert 0 < touch["AU15L"] < 0.55 < plain["AU15L"]  # "a touch of" was full sadness


def test_what_follows_with_or_in_is_read_too():
    closed = au("smiling with eyes closed")  # was the smile alone
    assert min(both(closed, "AU43")) > 0.5 and min(both(closed, "AU12")) > 0.5
    pursed = au("frowning with pursed lips")
    assert min(both(pursed, "AU4")) > 0.3 and min(both(pursed, "AU18")) > 0.3
    pain = au("gritting his teeth in pain")
    assert min(both(pain, "AU4")) > 0.3 and min(both(pain, "AU25")) > 0.3
    # a pronoun says nothing the face does: "looks at him" is no part of its own (it stared, eyes wide, in disgust)
    assert max(both(au("looks at him with disgust"), "AU5")) < 0.3


def test_a_negated_region_removes_what_it_does():
    eyes = au("smiling but not with the eyes")  # the smile's cheek raise stayed
    assert min(both(eyes, "AU12")) > 0.5 and max(both(eyes, "AU6")) == 0.0
    joyless = au("a smile without joy")  # joy's cheek raise, which the smile carries too, stayed
    assert min(both(joyless, "AU12")) > 0.5 and max(both(joyless, "AU6")) == 0.0
    open_eyes = au("eyes open, not blinking")  # "eyes open" was nearest "closed eyes" (AU43 0.59)
    assert max(both(open_eyes, "AU43") + both(open_eyes, "AU45")) == 0.0
    # what the negation names another part still asks for at its core: sadness keeps its lowered brows
    assert min(both(au("not angry but sad"), "AU4")) > 0.3


def test_an_emotion_of_one_region_moves_that_region():
    sad_eyes = au("sad eyes and a small smile")  # the sad eyes were sleepy half-closed eyes, no sad brows
    assert min(both(sad_eyes, "AU1")) > 0.3 and max(both(sad_eyes, "AU43")) < 0.1
    assert max(both(sad_eyes, "AU15")) == 0.0 and min(both(sad_eyes, "AU12")) > 0.3  # no sad mouth under the smile


@pytest.mark.parametrize(
    "text,present,absent",
    [("gasp", ("AU1", "AU25", "AU26"), ("AU34", "AU12")),  # was a cheek puff
     ("she gasps in surprise", ("AU2", "AU25"), ("AU12",)),  # smiled ("she gasps" was nearest a slight smile)
     ("grimace", ("AU4", "AU20", "AU25"), ("AU12", "AU23")),  # was an angry face with pressed lips
     ("blink", ("AU45",), ("AU12",)),  # one eye, as a wink
     ("lip curl", ("AU10",), ("AU24", "AU34")),  # pressed lips and puffed cheeks
     ("he narrows his eyes suspiciously", ("AU7",), ("AU5",)),  # widened the eyes
     ("guilty", ("AU15", "AU17"), ("AU12",)),  # smiled a little
     ("drunk", ("AU43",), ()),  # an error: read as "a drink"
     ("a half smile", ("AU12",), ("AU14", "AU15")),  # a smirk: a half smile is a slight smile
     ("open-mouthed smile", ("AU12", "AU26"), ()),  # the open mouth was lost
     ("tight-lipped smile", ("AU12", "AU24"), ("AU25",)),
     ("smiling with teeth", ("AU12", "AU25"), ("AU4", "AU20")),  # "teeth" read apart as gritted teeth
     ("\U0001f621", ("AU4", "AU7"), ("AU17", "AU12"))],  # POUTING FACE was read as a pout
)  # fmt: skip
def test_common_expressions_read_as_their_facs_actions(text, present, absent):
    a = au(text)
    for name in present:  # on both sides: none of these is one-sided
        assert min(both(a, name)) > 0.2, (text, name)
    for name in absent:
        assert max(both(a, name)) < 0.1, (text, name)


def test_a_side_of_the_mouth_pulled_up_smiles_on_that_side():
    a = au("right side of the mouth pulled up")  # an open jaw on the right
    assert a["AU12R"] > 0.5 and a["AU12L"] == 0.0 and max(both(a, "AU26")) < 0.05  # AU26 was 0.62


def test_an_eye_roll_moves_no_lid_and_warns_that_the_gaze_is_not_read(caplog):
    import logging

    with caplog.at_level(logging.WARNING, logger="facecraft.rigs.expression_text"):
        a = au("rolling eyes")  # closed the eyes (AU43 0.42)
    assert max(both(a, "AU43") + both(a, "AU45")) == 0.0
    assert "moves the gaze up" in caplog.text


@pytest.mark.parametrize(
    "text,held",
    [("her lip trembles as she tries not to cry", "AU15"), ("trying not to laugh", "AU12"),
     ("holding back tears", "AU15"), ("fighting back a smile", "AU12")],
)  # fmt: skip
def test_a_held_back_expression_is_weaker_under_pressed_lips_not_absent(text, held):
    a = au(text)  # "not to cry" negated the crying; "holding back tears" cried in full
    full = au({"AU15": "crying", "AU12": "a smile"}[held])
    assert 0.2 < min(both(a, held)) < 0.8 * max(both(full, held)), text
    assert min(both(a, "AU24")) > 0.3 and min(both(a, "AU17")) > 0.3, text  # lips pressed, chin raised
    assert max(both(a, "AU25") + both(a, "AU26") + both(a, "AU27")) < 0.1, text  # pressed lips are shut


def test_cannot_help_smiling_smiles():
    assert min(both(au("she can't stop smiling"), "AU12")) > 0.5  # "n't" negated the smile


def test_an_auxiliary_before_a_negation_reads_as_nothing():
    assert text_to_au("he doesn't cry").max() == 0.0  # "does" was read as a face: raised brows, puffed cheeks 0.25


@pytest.mark.parametrize("text", ["he clenches his jaw in anger", "a clenched jaw", "clenching his jaw"])
def test_a_clenched_jaw_is_shut_with_pressed_lips(text):
    a = au(text)  # the jaw dropped (AU26 0.17) and the lips parted (AU25 0.71)
    assert max(both(a, "AU26") + both(a, "AU27")) == 0.0, text
    assert max(both(a, "AU25")) < 0.1, text
    assert min(both(a, "AU24")) > 0.3, text


@pytest.mark.parametrize(
    "text,gaze",
    [("looking up", {"eyeLookUpLeft", "eyeLookUpRight"}), ("rolling her eyes", {"eyeLookUpLeft", "eyeLookUpRight"}),
     ("looking down", {"eyeLookDownLeft", "eyeLookDownRight"}),
     ("eyes downcast", {"eyeLookDownLeft", "eyeLookDownRight"}),
     # the subject's own left, as "a wink with the left eye": the left eye looks out, the right eye in
     ("glancing to the left", {"eyeLookOutLeft", "eyeLookInRight"}),
     ("looking left", {"eyeLookOutLeft", "eyeLookInRight"}),
     ("looking to the right", {"eyeLookInLeft", "eyeLookOutRight"}),
     ("looking to the viewer's left", {"eyeLookInLeft", "eyeLookOutRight"}),
     ("glancing up to the right", {"eyeLookUpLeft", "eyeLookUpRight", "eyeLookInLeft", "eyeLookOutRight"}),
     ("side-eye", {"eyeLookInLeft", "eyeLookOutRight"}),
     ("looking away", {"eyeLookInLeft", "eyeLookOutRight", "eyeLookDownLeft", "eyeLookDownRight"})],
)  # fmt: skip
def test_gaze_words_read_as_eyelook_weights_and_move_no_face(text, gaze):
    from facecraft.rigs.expression_text import text_to_gaze

    read = text_to_gaze(text)  # was read as a stare, raised brows, closed eyes or an error ("side-eye")
    assert set(read) == gaze, (text, read)
    assert max(read.values()) > 0.5
    a = au(text)
    assert max(both(a, "AU5") + both(a, "AU43") + both(a, "AU45") + both(a, "AU1") + both(a, "AU2")) < 0.1, text


def test_text_without_gaze_words_reads_no_gaze():
    from facecraft.rigs.expression_text import text_to_gaze

    assert text_to_gaze("a shy smile") == {} and text_to_gaze("not looking up, smiling") == {}
    assert text_to_gaze("staring") == {}  # a fixed gaze ahead


@pytest.mark.parametrize("text", ["wincing", "deadpan"])
def test_the_anchors_own_words_are_read(text):
    text_to_au(text)  # no whole word of MiniLM's vocabulary: "no expression reads from these words"


def test_a_raised_eyebrow_is_one_brow_up_without_lowering_it():
    a = au("raised eyebrow in disbelief")  # both brows up, the left also lowered (AU4L 0.38)
    assert a["AU2R"] > 0.5 and a["AU2L"] == 0.0
    assert max(both(a, "AU4")) < 0.1
    assert min(both(au("a furrowed brow"), "AU4")) > 0.5  # a furrowed brow is both brows


@pytest.mark.parametrize(
    "text,present,absent",
    [("lips parted in awe", ["AU25"], ["AU24", "AU23"]), ("teary eyed", ["AU1", "AU15"], ["AU43", "AU7"]),
     ("eyes squeezed shut", ["AU43", "AU7", "AU6"], [])],
)  # fmt: skip
def test_more_phrases_read_as_facs_describes_them(text, present, absent):
    a = au(text)  # parted lips pressed (AU24 0.58); teary eyes narrowed and half closed; a squeeze only closed them
    for name in present:
        assert min(both(a, name)) > 0.2, (text, name)
    for name in absent:
        assert max(both(a, name)) < 0.1, (text, name)


@pytest.mark.parametrize(
    "text", ["a forced smile", "a fake smile", "a polite smile", "a social smile", "smiling for the camera",
             "a posed smile", "fake laughter", "she forces a smile", "a thin smile", "a sarcastic smile"],
)  # fmt: skip
def test_a_posed_smile_pulls_the_lip_corners_without_raising_the_cheeks(text):
    a = au(text)  # the non-Duchenne smile (Ekman): "a forced smile" raised the cheeks (AU6 0.39)
    assert min(both(a, "AU12")) > 0.5, text
    assert max(both(a, "AU6")) == 0.0, text


@pytest.mark.parametrize("text", ["a genuine smile", "a Duchenne smile", "beaming", "a grin"])
def test_a_felt_smile_still_raises_the_cheeks(text):
    assert min(both(au(text), "AU6")) > 0.3, text


@pytest.mark.parametrize("text", ["staring", "a fixed stare", "staring intently"])
def test_a_stare_at_most_slightly_raises_the_upper_lids(text):
    assert max(both(au(text), "AU5")) < 0.25, text  # was 0.75: the wide eyes of fear or shock
    assert min(both(au("wide eyed stare"), "AU5")) > 0.8  # widened eyes still widen


@pytest.mark.parametrize("text", ["no expression", "without any expression", "expressionless", "stone-faced"])
def test_no_expression_is_a_neutral_face(text):
    assert text_to_au(text).max() == 0.0  # "no expression" was an error: "these words do not say what the face does"


@pytest.mark.parametrize(
    "text,present,absent",
    [("proud", ["AU12"], ["AU1", "AU4"]),  # raised the brows (the excited anchor's tail)
     ("ashamed", ["AU15"], ["AU12"]),  # smiled: read as embarrassment
     ("grumpy", ["AU4"], ["AU12", "AU14"]),  # a smug smile's tail
     ("relieved", ["AU12"], ["AU5", "AU1", "AU4"]),  # read as excited: raised brows, widened eyes
     ("dreamy", ["AU43"], ["AU4", "AU5"]),  # an error: no expression read
     ("chuckling", ["AU12", "AU6"], ["AU4", "AU15"]),  # an error
     ("seething", ["AU4", "AU7"], ["AU12"]),  # an error
     ("livid", ["AU4", "AU7"], ["AU12"]),  # an error
     ("awestruck", ["AU1", "AU2", "AU26"], ["AU4", "AU12"]),  # an error
     ("choked up", ["AU1", "AU15", "AU17"], ["AU12"]),  # gritted teeth: AU20 0.49, AU25 0.73, no AU1
     ("her eyes stay sad", ["AU1", "AU4"], ["AU43", "AU12"]),  # "her eyes stay" was read as closed eyes (AU43 0.42)
     ("lost in thought", ["AU4"], ["AU12", "AU1"])],  # "lost" apart was sad (AU1 0.34), "thought" a smile (AU12 0.17)
)  # fmt: skip
def test_everyday_mood_words_read_as_facs_describes_them(text, present, absent):
    a = au(text)
    for name in present:
        assert min(both(a, name)) > 0.2, (text, name)
    for name in absent:
        assert max(both(a, name)) < 0.1, (text, name)


def test_text_to_face_reads_the_face_and_its_gaze_without_the_gaze_warning(caplog):
    import logging

    from facecraft.rigs.expression_text import describe_text, text_to_face, text_to_gaze

    with caplog.at_level(logging.WARNING, logger="facecraft.rigs.expression_text"):
        face, gaze = text_to_face("a shy smile, looking down")
        said = describe_text("looking up")  # was "a neutral face", with the warning that the gaze is left out
    assert caplog.text == ""
    assert np.array_equal(face, text_to_au("a shy smile, looking down"))
    assert gaze == text_to_gaze("a shy smile, looking down")
    assert gaze and all("Down" in n for n in gaze)
    assert said.startswith("gaze eyeLookUp") and "neutral" not in said
    assert describe_text("a shy smile").startswith("AU12") and "gaze" not in describe_text("a shy smile")


@pytest.mark.parametrize("text", ["a weary look", "a tired look", "looking weary"])
def test_a_look_that_names_no_way_of_looking_reads_as_what_it_shows(text):
    from facecraft.rigs.expression_text import text_to_gaze

    a = au(text)  # "look" pulled them to the glance (no face at all) and the glare (AU4 0.39, AU7 0.35)
    assert min(both(a, "AU43")) > 0.4 and max(both(a, "AU4") + both(a, "AU7") + both(a, "AU12")) < 0.15, text
    assert text_to_gaze(text) == {}
    assert not np.asarray(text_to_au("a blank look")).any()  # without its look, "a blank" reads as a colour


def test_resentment_and_apology_read_as_facs_describes_them():
    r = au("resentful")  # was an error: no expression read
    assert min(both(r, "AU4")) > 0.4 and max(both(r, "AU12")) < 0.1 and max(both(r, "AU14")) > 0.3
    a = au("apologetic")  # frowned (AU4 0.47): shame mixed with crying
    assert min(both(a, "AU1")) > 0.5 and max(both(a, "AU4")) <= 0.3


@pytest.mark.parametrize("text", ["thinking", "pensive", "deep in thought"])
def test_a_thinking_face_frowns_a_little_not_hard(text):
    a = au(text)  # AU4 0.75 with AU17 0.75: the anchor's slight frown raised to full strength
    assert 0.2 <= min(both(a, "AU4")) <= max(both(a, "AU4")) < 0.4, text
    assert max(both(a, "AU17")) < 0.4, text


@pytest.mark.parametrize("text", ["looking at the camera", "looking straight ahead", "looking right at him"])
def test_a_gaze_ahead_centres_every_eyelook_channel(text):
    from facecraft.rigs.arkit import ARKIT_NAMES
    from facecraft.rigs.expression_text import describe_text, text_to_gaze

    read = text_to_gaze(text)  # "looking at the camera" looked down; "right at him" glanced to his right
    assert read == {n: 0.0 for n in ARKIT_NAMES if n.startswith("eyeLook")}, (text, read)
    assert describe_text(text) == "gaze ahead"
    assert set(text_to_gaze("looking right")) == {"eyeLookInLeft", "eyeLookOutRight"}  # a side without "at"
