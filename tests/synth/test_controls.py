import numpy as np
import pytest

from facecraft.rigs import ARKIT_INDEX, EmotionCode, ParameterError
from facecraft.synth.controls import RESTING_SCORES, EditControls

SMILE = ARKIT_INDEX["mouthSmileLeft"]
FROWN = ARKIT_INDEX["mouthFrownLeft"]
JAW = ARKIT_INDEX["jawOpen"]
BROW = ARKIT_INDEX["browInnerUp"]


def smiling(level: float = 0.6) -> np.ndarray:
    w = np.zeros(52, np.float32)
    w[[SMILE, ARKIT_INDEX["mouthSmileRight"]]] = level
    w[JAW] = 0.2
    return w


def test_every_form_of_control_reaches_the_target():
    assert EditControls.from_args(emotion="happiness:0.8").target()[SMILE] == pytest.approx(0.8)
    assert EditControls.from_args(emotion=EmotionCode.from_emotion("happiness", 0.5)).target()[SMILE] == pytest.approx(
        0.5
    )
    assert EditControls.from_args(text="a big happy smile").target()[SMILE] > 0.5
    assert EditControls.from_args(au=["AU12=0.6"]).target()[SMILE] == pytest.approx(0.6)
    assert EditControls.from_args(au={"AU12R": 0.6}).target()[SMILE] == 0  # right side only
    assert EditControls.from_args(arkit=["jaw_open=0.3"]).target()[JAW] == pytest.approx(0.3)


def test_relative_edit_does_not_double_a_smile_and_keeps_speech_channels():
    now = smiling(0.6)
    out = EditControls.from_args(emotion="happiness:1.0").target(now)
    assert out[SMILE] == pytest.approx(1.0) and out[JAW] == pytest.approx(0.2)
    weaker = EditControls.from_args(emotion="happiness:0.3").target(now)
    assert weaker[SMILE] == pytest.approx(0.6)  # asking for less than the face shows changes nothing


def test_a_new_emotion_replaces_the_old_expression_by_its_strength():
    now = smiling(0.6)
    sad = EditControls.from_args(emotion="sadness:1.0").target(now)
    assert sad[SMILE] == 0 and sad[FROWN] > 0.5 and sad[BROW] > 0.5
    half = EditControls.from_args(emotion="sadness:0.5").target(now)
    assert half[SMILE] == pytest.approx(0.3)
    calm = EditControls.from_args(emotion="neutral:1").target(now)
    assert calm[SMILE] == 0 and calm[JAW] == 0


def test_words_for_a_neutral_face_fade_the_expression_like_neutral():
    now = smiling(0.6)
    for words in ("not smiling", "a blank, expressionless face"):
        controls = EditControls.from_args(text=words)
        assert controls.neutralise == 1.0 and not controls.codes
        assert controls.target(now)[SMILE] == 0
    assert EditControls.from_args(emotion="not smiling").neutralise == 1.0
    # a zero intensity or a zero AU is not a request for a neutral face
    assert EditControls.from_args(emotion="happiness:0").neutralise == 0.0
    assert EditControls.from_args(emotion="AU12=0").target(now)[SMILE] == pytest.approx(0.6)
    both = EditControls.from_args(emotion="surprise:0.8", text="no smile")
    assert both.neutralise == 1.0 and len(both.codes) == 1 and both.target(now)[BROW] > 0.5


def test_an_old_expression_fades_to_a_resting_face_not_below_it():
    # MediaPipe reads a resting face's lower lids as squint (FRLL neutral photos: about 0.3); fading that to 0 dropped
    # the lower lids below rest, so a surprised neutral face stared with white under the iris.
    squint = [ARKIT_INDEX["eyeSquintLeft"], ARKIT_INDEX["eyeSquintRight"]]
    rest = RESTING_SCORES[squint]
    assert (rest > 0.15).all()
    resting = np.zeros(52, np.float32)
    resting[squint] = rest
    surprise = EditControls.from_args(emotion="surprise:1.0")
    np.testing.assert_allclose(surprise.target(resting)[squint], rest, atol=1e-6)
    below = resting.copy()
    below[squint] = 0.1
    np.testing.assert_allclose(surprise.target(below)[squint], 0.1, atol=1e-6)  # never raised toward the rest
    smiling = resting.copy()
    smiling[squint] = 0.6
    np.testing.assert_allclose(surprise.target(smiling)[squint], rest, atol=1e-6)  # a smile's squint goes
    half = EditControls.from_args(emotion="surprise:0.5").target(smiling)[squint]
    assert (rest < half).all() and (half < 0.6).all()
    np.testing.assert_allclose(EditControls.from_args(emotion="neutral:1.0").target(smiling)[squint], rest, atol=1e-6)


def test_the_smiles_raised_upper_lip_goes_with_the_smile():
    now = smiling(0.9)
    now[[ARKIT_INDEX["mouthUpperUpLeft"], ARKIT_INDEX["mouthUpperUpRight"]]] = 0.7
    up = ARKIT_INDEX["mouthUpperUpLeft"]
    surprised = EditControls.from_args(emotion="surprise:1.0").target(now)
    assert surprised[SMILE] == 0 and surprised[up] == pytest.approx(0.7 * 0.1)  # the smile's share (0.9) goes
    assert EditControls.from_args(emotion="happiness:1.0").target(now)[up] == pytest.approx(0.7)  # smile kept
    half = EditControls.from_args(emotion="sadness:0.5").target(now)
    assert half[up] == pytest.approx(0.7 * (1 - 0.9 * 0.5))
    talking = smiling(0.0)
    talking[up] = 0.4  # no smile: the raised lip is speech and stays
    assert EditControls.from_args(emotion="surprise:1.0").target(talking)[up] == pytest.approx(0.4)
    assert EditControls.from_args(emotion="surprise:1.0", absolute=True).target(now)[up] == 0
    # neutral fades the whole expression, the smile's raised lip with it: the smile's own step did not put back the
    # share of the lip the smile had not carried (0.7 * 0.1 left on a broad smiler asked for neutral:1)
    assert EditControls.from_args(emotion="neutral:1").target(now)[up] == 0
    assert EditControls.from_args(emotion="neutral:0.5").target(now)[up] == pytest.approx(0.35)


def test_sliders_set_channels_outright_and_absolute_mode_resets_the_rest():
    now = smiling(0.6)
    out = EditControls.from_args(arkit={"mouthSmileLeft": 0.1}).target(now)
    assert out[SMILE] == pytest.approx(0.1) and out[ARKIT_INDEX["mouthSmileRight"]] == pytest.approx(0.6)
    now[ARKIT_INDEX["eyeLookInLeft"]] = 0.4
    absolute = EditControls.from_args(emotion="surprise:1", absolute=True).target(now)
    assert absolute[SMILE] == 0 and absolute[JAW] > 0.3 and absolute[ARKIT_INDEX["eyeLookInLeft"]] == pytest.approx(0.4)
    squint = [ARKIT_INDEX["eyeSquintLeft"], ARKIT_INDEX["eyeSquintRight"]]
    now[squint] = 0.6  # a laughing face's squint: absolute neutral is a resting face's, not MediaPipe's zero stare
    neutral = EditControls.from_args(emotion="neutral", absolute=True).target(now)
    assert np.allclose(neutral[squint], RESTING_SCORES[squint]) and neutral[SMILE] == 0


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({}, "no edit control"),
        ({"au": ["AU99=0.5"]}, "unknown Action Unit 'AU99'"),
        ({"arkit": ["smileyness=0.5"]}, "unknown control name.*smileyness"),
        ({"arkit": ["jawOpen=1.5"]}, r"jawOpen must lie in \[0, 1\], got 1.5"),
        ({"au": ["AU12=high"]}, "not a number"),
        ({"au": ["AU12"]}, "not NAME=VALUE"),
        ({"au": ["jawOpen=0.2"]}, "ARKit names; give them with arkit"),
        ({"emotion": "anger:2"}, r"\[0, 1\]"),
        ({"emotion": [{"t": 0, "emotion": "anger"}]}, "not a track"),
        ({"text": "  "}, "text"),
    ],
)
def test_bad_controls_are_named(kwargs, message):
    with pytest.raises(ParameterError, match=message):
        EditControls.from_args(**kwargs)


def test_current_weights_are_checked():
    with pytest.raises(ParameterError, match=r"shape \(52,\)"):
        EditControls.from_args(emotion="anger").target(np.zeros(10))


def test_own_scores_level_an_eye_asked_alike_and_leave_the_rest():
    from facecraft.rigs import NUM_ARKIT
    from facecraft.synth.controls import own_scores

    left, right = ARKIT_INDEX["eyeSquintLeft"], ARKIT_INDEX["eyeSquintRight"]
    wide = [ARKIT_INDEX["eyeWideLeft"], ARKIT_INDEX["eyeWideRight"]]
    scores = np.zeros(NUM_ARKIT, np.float32)
    scores[[left, right]] = (0.47, 0.24)
    scores[wide] = (0.05, 0.04)
    angry = EditControls.from_args(emotion="anger").target(scores)
    own = own_scores(scores, angry)
    assert own[left] == pytest.approx(0.355) and own[right] == pytest.approx(0.355)
    np.testing.assert_allclose(own_scores(scores, scores), scores, atol=1e-7)  # nothing asked: nothing levelled
    one_eye = EditControls.from_args(arkit={"eyeSquintLeft": 0.8}).target(scores)
    np.testing.assert_allclose(own_scores(scores, one_eye), scores, atol=1e-7)


def test_a_photo_showing_more_than_asked_on_one_eye_still_ends_with_both_alike():
    # UTK tuning crop 27_1_2 scored squint 0.62 / 0.26: a weaker anger (a track's blend) ended at max(photo, asked)
    # per side, so only the eye read as less squinted narrowed
    from facecraft.rigs import NUM_ARKIT

    left, right = ARKIT_INDEX["eyeSquintLeft"], ARKIT_INDEX["eyeSquintRight"]
    scores = np.zeros(NUM_ARKIT, np.float32)
    scores[[left, right]] = (0.62, 0.26)
    out = EditControls.from_args(emotion="anger:0.6").target(scores)
    assert out[left] == pytest.approx(out[right]) and out[left] >= 0.44 - 1e-6


def test_an_au_sets_its_main_channels_and_only_raises_its_lesser_ones():
    # AU6 (cheek raiser) moves eyeSquint by 0.3 of itself: set outright, AU6=1 opened a smiler's squinted eyes
    # (UTKFace tuning 67_0_0: eyeSquint -1.0 rig units) and AU6=0 did so too
    squint, cheek = ARKIT_INDEX["eyeSquintLeft"], ARKIT_INDEX["cheekSquintLeft"]
    now = smiling(0.8)
    now[[squint, ARKIT_INDEX["eyeSquintRight"]]] = 0.9
    now[cheek] = 0.4
    raised = EditControls.from_args(au=["AU6=1"]).target(now)
    assert raised[cheek] == pytest.approx(1.0) and raised[squint] == pytest.approx(0.9)
    lowered = EditControls.from_args(au=["AU6=0"]).target(now)
    assert lowered[cheek] == pytest.approx(0.0) and lowered[squint] == pytest.approx(0.9)
    assert EditControls.from_args(au=["AU6=1"]).target()[squint] == pytest.approx(0.3)  # a resting eye squints
    assert EditControls.from_args(au=["AU6=1"], absolute=True).target(now)[squint] == pytest.approx(0.3)
    # a channel that is one AU's main one is set, whatever another AU adds to it; an ARKit value is always set
    both = EditControls.from_args(au=["AU6=1", "AU7=0.5"]).target(now)
    assert both[squint] == pytest.approx(0.8)  # AU7's 0.5 plus AU6's 0.3, outright
    assert EditControls.from_args(au=["AU6=1"], arkit=["eyeSquintLeft=0.1"]).target(now)[squint] == pytest.approx(0.1)
    jaw = EditControls.from_args(au=["AU25=1"]).target(now)  # parted lips do not close an open jaw
    assert jaw[JAW] == pytest.approx(0.2) and EditControls.from_args(au=["AU26=0.2"]).target(now)[JAW] < 0.2


LOOK = {n: ARKIT_INDEX[n] for n in ARKIT_INDEX if n.startswith("eyeLook")}


def test_words_that_name_a_gaze_set_the_eyes_as_a_whole(caplog):
    import logging

    now = smiling(0.6)
    now[LOOK["eyeLookInLeft"]] = now[LOOK["eyeLookOutRight"]] = 0.4  # the photo looks to its right
    with caplog.at_level(logging.WARNING, logger="facecraft.rigs.expression_text"):
        out = EditControls.from_args(text="a shy smile, looking down").target(now)  # edited only the smile
    assert out[LOOK["eyeLookDownLeft"]] > 0.5 and out[LOOK["eyeLookDownRight"]] > 0.5
    assert all(out[i] == 0 for n, i in LOOK.items() if "Down" not in n)  # one direction: the side look goes
    assert out[SMILE] >= 0.6
    assert "set those channels" not in caplog.text  # the editor applies the gaze: no "ignored" warning
    side = EditControls.from_args(emotion="glancing to the left").target(now)  # free-text emotion too
    assert side[LOOK["eyeLookOutLeft"]] > 0.5 and side[LOOK["eyeLookInRight"]] > 0.5
    assert side[LOOK["eyeLookInLeft"]] == 0 and side[LOOK["eyeLookOutRight"]] == 0
    assert side[SMILE] == pytest.approx(0.6)  # words that only move the eyes keep the expression (not neutral:1)
    up = EditControls.from_args(text="looking up", absolute=True).target(now)
    assert up[LOOK["eyeLookUpLeft"]] > 0.5 and up[LOOK["eyeLookInLeft"]] == 0


def test_an_arkit_gaze_value_wins_over_the_words_and_words_without_gaze_keep_the_photos():
    now = np.zeros(52, np.float32)
    now[LOOK["eyeLookInLeft"]] = 0.4
    out = EditControls.from_args(text="looking up", arkit={"eyeLookUpLeft": 0.2}).target(now)
    assert out[LOOK["eyeLookUpLeft"]] == pytest.approx(0.2) and out[LOOK["eyeLookUpRight"]] > 0.5
    kept = EditControls.from_args(text="a shy smile").target(now)
    assert kept[LOOK["eyeLookInLeft"]] == pytest.approx(0.4) and EditControls.from_args(text="a shy smile").gaze == {}


def test_words_for_a_gaze_ahead_centre_the_photos_eyes():
    now = np.zeros(52, np.float32)
    now[LOOK["eyeLookInLeft"]] = now[LOOK["eyeLookOutRight"]] = 0.4
    out = EditControls.from_args(text="a shy smile, looking at the camera").target(now)  # looked down
    assert all(out[i] == 0 for i in LOOK.values()) and out[SMILE] > 0.2


def test_words_that_keep_the_lips_together_hold_the_mouth_shut():
    from facecraft.rigs import ARKIT_NAMES
    from facecraft.synth.calibration import OPENING, EditorCalibration
    from facecraft.synth.controls import MOUTH_OPENING
    from facecraft.synth.editor import kept_shut

    shut = EditControls.from_args(text="a closed mouth smile")
    big = EditControls.from_args(text="a big smile")
    assert shut.closed_mouth and not big.closed_mouth
    parted = smiling(0.3)  # lips parted over the teeth (jawOpen 0.2): the words close them, the smile rises
    after = shut.target(parted)
    assert np.all(after[MOUTH_OPENING] == 0.0) and after[SMILE] > 0.6
    assert big.target(parted)[JAW] == pytest.approx(0.2)  # a big smile keeps the photo's parted lips
    assert EditControls.from_args(text="a closed mouth smile", arkit=["jawOpen=0.3"]).target()[JAW] == pytest.approx(
        0.3
    )  # a slider wins
    # The calibration parts a smile's lips by itself (mouthUpperUp level, mouthClose companion): not when held shut.
    rest = np.zeros(52, np.float32)
    change = EditorCalibration.load().rig_change(rest, shut.target(rest), rig_now=rest)
    close = ARKIT_NAMES.index("mouthClose")
    assert change[OPENING].max() > 0.1 or change[close] < -0.1  # what the editor would part
    held = kept_shut(change)
    assert held[OPENING].max() <= 0.0 and held[close] >= 0.0 and held[SMILE] == change[SMILE]


def test_the_lips_are_held_shut_only_where_a_control_sets_every_parting_channel_to_0():
    parted = smiling(0.3)  # jawOpen 0.2
    shut = EditControls.from_args(text="a closed mouth smile")
    assert shut.holds_lips_shut(shut.target(parted))
    assert not EditControls.from_args(text="a big smile").holds_lips_shut(parted)  # no control sets them
    opened = EditControls.from_args(text="a closed mouth smile", arkit=["jawOpen=0.3"])
    assert not opened.holds_lips_shut(opened.target(parted))  # a slider that opens the jaw wins over the words
    absolute = EditControls.from_args(arkit=["jawOpen=0"], absolute=True)
    assert absolute.holds_lips_shut(absolute.target(parted))  # the other parting channels are 0 in absolute mode
    relative = EditControls.from_args(arkit=["jawOpen=0", "mouthSmileLeft=0.5"])
    assert not relative.holds_lips_shut(relative.target(parted + 0.1))  # the photo's raised upper lip stays


def test_a_blink_value_is_how_far_the_lid_closes_and_targets_the_score_such_a_lid_reads_as():
    from facecraft.synth.controls import BLINK_SCORES, blink_closure, blink_score

    blink = [ARKIT_INDEX["eyeBlinkLeft"], ARKIT_INDEX["eyeBlinkRight"]]
    closures = np.linspace(0.0, 1.0, 11)
    scores = blink_score(closures)
    assert np.all(np.diff(scores) > 0) and scores[-1] == pytest.approx(BLINK_SCORES[-1])
    np.testing.assert_allclose(blink_closure(scores), closures, atol=1e-9)
    assert blink_closure(0.05) == 0.0  # an open eye's score is no closure
    for controls in (
        EditControls.from_args(au={"AU43": 0.5}),
        EditControls.from_args(arkit={"eyeBlinkLeft": 0.5, "eyeBlinkRight": 0.5}),
        EditControls.from_args(emotion="AU43=0.5"),
    ):
        # the MediaPipe score of a lid halfway down is far below 0.5 (it reads low until nearly shut)
        np.testing.assert_allclose(controls.target()[blink], blink_score(0.5), atol=1e-6)
    assert EditControls.from_args(au={"AU43": 0.5}).target()[blink[0]] < 0.4
    now = np.zeros(52, np.float32)
    now[blink] = 0.45  # lids that read lowered three quarters stay as they are when words ask for less
    assert EditControls.from_args(text="tired").target(now)[blink[0]] == pytest.approx(0.45)


def test_a_lid_asked_to_close_closes_over_a_widened_eye():
    """Surprise with a wink left a strip of white under the closing lid: the wide eye gives way on the winking
    side by the share the lid closes, and stays on the other."""
    now = np.zeros(52, np.float32)
    wl, wr = ARKIT_INDEX["eyeWideLeft"], ARKIT_INDEX["eyeWideRight"]
    surprise = EditControls.from_args(emotion="surprise:1").target(now)
    wink = EditControls.from_args(emotion="surprise:1", arkit=["eyeBlinkLeft=1"]).target(now)
    half = EditControls.from_args(emotion="surprise:1", arkit=["eyeBlinkLeft=0.25"]).target(now)
    assert surprise[wl] > 0.5 and wink[wl] == 0.0 and wink[wr] == surprise[wr]
    assert 0.0 < half[wl] < surprise[wl]
    # a photo's lid already shut is not closed further: the eye asked wide stays wide
    closed = now.copy()
    closed[ARKIT_INDEX["eyeBlinkLeft"]] = 0.7
    assert EditControls.from_args(arkit=["eyeBlinkLeft=1", "eyeWideLeft=0.6"]).target(closed)[wl] == pytest.approx(0.6)
