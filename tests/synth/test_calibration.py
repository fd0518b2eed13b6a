import dataclasses
import json

import numpy as np
import pytest

from facecraft.rigs import ARKIT_INDEX, NUM_ARKIT, FileFormatError, ParameterError
from facecraft.synth.calibration import (
    CALIBRATION_FILE,
    LOWERED_BROW_RAISE_LIMIT,
    PLAUSIBLE_LIMIT,
    UNSOLVED,
    EditorCalibration,
    calibration_photos,
    fit_calibration,
)

JAW, LOWER = ARKIT_INDEX["jawOpen"], ARKIT_INDEX["mouthLowerDownLeft"]
WIDE = ARKIT_INDEX["eyeWideLeft"]
BROW = ARKIT_INDEX["browDownLeft"]  # no plausibility cap: its limit is where it reads best


def _request(**values) -> tuple[np.ndarray, np.ndarray]:
    before = np.full(NUM_ARKIT, 0.1, np.float32)
    after = before.copy()
    for name, v in values.items():
        after[ARKIT_INDEX[name]] = v
    return before, after


def test_identity_moves_the_rig_by_exactly_the_request():
    before, after = _request(jawOpen=0.8, eyeBlinkLeft=0.0, eyeLookUpLeft=0.5)
    change = EditorCalibration.identity().rig_change(before, after)
    np.testing.assert_allclose(change, after - before, atol=1e-9)


def test_a_weak_channel_gets_gain_up_to_its_cap_and_cross_talk_is_cancelled():
    response = np.eye(NUM_ARKIT)
    response[WIDE, WIDE] = 0.25  # one unit of the rig's eyeWide reads as 0.25
    response[LOWER, JAW] = 0.5  # the rig's jaw also reads as a dropped lower lip ...
    response[JAW, JAW] = 0.6  # ... and less as itself
    cal = EditorCalibration(response, ridge=1e-4, max_gain=3.0, cross=0.5)
    before, after = _request(jawOpen=0.4)
    change = cal.rig_change(before, after)
    read = response @ change
    assert read[JAW] == pytest.approx(0.3, abs=0.01)  # asked 0.3 above the face's 0.1
    assert abs(read[LOWER]) < 0.02  # the lower lip's reading is held where it was
    assert change[JAW] > 0.3 and change[LOWER] < 0  # by more jaw and a lip that rises against it
    before, after = _request(eyeWideLeft=0.9)  # 0.8 asked: needs 3.2 units, the box allows 3 x 0.8 + 0.5
    assert cal.rig_change(before, after)[WIDE] == pytest.approx(3.0 * 0.8 + 0.5, abs=1e-6)
    limited = EditorCalibration(response, ridge=1e-4, limit=np.full(NUM_ARKIT, 1.5))
    assert limited.rig_change(before, after)[WIDE] == pytest.approx(1.5, abs=1e-6)


def test_no_request_no_change_and_gaze_moves_as_asked():
    cal = EditorCalibration.load()
    before = np.linspace(0, 1, NUM_ARKIT).astype(np.float32)
    assert not np.any(cal.rig_change(before, before))
    after = before.copy()
    after[ARKIT_INDEX["eyeLookUpLeft"]] = 0.0
    change = cal.rig_change(before, after)
    assert change[ARKIT_INDEX["eyeLookUpLeft"]] == pytest.approx(-before[ARKIT_INDEX["eyeLookUpLeft"]])
    assert np.all(change[UNSOLVED & (np.arange(NUM_ARKIT) != ARKIT_INDEX["eyeLookUpLeft"])] == 0)


def test_fit_recovers_slope_and_stops_at_the_level_where_a_shape_reads_best():
    levels = np.array([0.5, 1.0, 2.0])
    rise = np.zeros((6, 2, 3, NUM_ARKIT), np.float32)
    rise[:, 0, :, BROW] = 0.2 * levels  # linear: slope 0.2, best at the largest level
    rise[:, 1, :, JAW] = [0.3, 0.6, 0.2]  # reads best at 1.0, then as something else
    rise[:, 1, :, LOWER] = [0.0, 0.1, 0.6]
    measured = {"rise": rise, "channels": np.array([BROW, JAW]), "levels": levels, "before": np.zeros((6, 52))}
    cal = fit_calibration(measured, ridge=0.01)
    assert cal.response[BROW, BROW] == pytest.approx(0.2)
    assert cal.limit[BROW] == pytest.approx(2.0)
    assert cal.response[JAW, JAW] == pytest.approx(0.6)  # slope over 0.5 and 1.0 only
    assert cal.limit[JAW] == pytest.approx(1.0)
    assert cal.response[LOWER, JAW] == pytest.approx(0.1 / 1.25)
    assert cal.response[ARKIT_INDEX["browInnerUp"], ARKIT_INDEX["browInnerUp"]] == 1.0  # unmeasured: identity


def test_save_load_round_trip_and_bad_files(tmp_path):
    cal = EditorCalibration.load()
    path = cal.save(tmp_path / "cal.json")
    again = EditorCalibration.load(path)
    np.testing.assert_allclose(again.response, cal.response, atol=1e-4)
    np.testing.assert_array_equal(again.limit, cal.limit)
    assert (again.ridge, again.max_gain, again.cross) == (cal.ridge, cal.max_gain, cal.cross)
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"channels": ["x"]}))
    with pytest.raises(FileFormatError, match="bad.json"):
        EditorCalibration.load(bad)
    with pytest.raises(ParameterError, match="response"):
        EditorCalibration(np.eye(3))


def test_shipped_calibration_is_from_calibration_photos_only():
    cal = EditorCalibration.load()
    photos = cal.meta["photos"]
    assert len(photos) >= 60
    assert all(p.split("/")[0] in ("neutral", "smiling") for p in photos)  # FRLL London set, never canada
    people = sorted({p.split("/")[1] for p in photos})
    assert len(people) == len(photos) // 2 and CALIBRATION_FILE.is_file()
    assert cal.limit[JAW] <= 1.2 and np.all(np.diag(cal.response)[~UNSOLVED][:5] > 0)


def test_calibration_photos_are_every_other_frll_person(shared_dir):
    photos = calibration_photos(shared_dir / "data" / "faces-frll")
    neutral = sorted(p.stem for p in (shared_dir / "data" / "faces-frll" / "neutral").glob("*.jpg"))
    assert sorted({p.stem for p in photos}) == neutral[::2]
    assert {p.parent.name for p in photos} == {"neutral", "smiling"}
    assert [f"{p.parent.name}/{p.name}" for p in photos] == EditorCalibration.load().meta["photos"]


SMILE = ARKIT_INDEX["mouthSmileLeft"]
BROW_UP = ARKIT_INDEX["browOuterUpLeft"]


def _mouth_response() -> np.ndarray:
    response = np.eye(NUM_ARKIT)
    response[JAW, JAW] = 0.6
    response[SMILE, JAW] = 0.4  # the open mouth also reads as a smile ...
    response[SMILE, SMILE] = 0.2  # ... more than the rig's own (weak) smile does
    response[BROW_UP, BROW_UP] = 0.2
    return response


def test_what_the_emotion_raises_is_not_held_back_by_removing_the_old_expression():
    before, after = _request(jawOpen=0.6, mouthSmileLeft=0.0)  # open the jaw, lose the smile
    before[SMILE] = 0.9
    floor = EditorCalibration(_mouth_response(), raise_floor=0.8)
    free = floor.with_options(raise_floor=0.0)
    gain = 1 / 0.6
    assert floor.rig_change(before, after)[JAW] >= 0.8 * 0.5 * gain - 1e-9
    assert free.rig_change(before, after)[JAW] < floor.rig_change(before, after)[JAW]


def test_a_strong_mouth_reading_is_undone_by_its_own_response_within_bounds():
    before, after = _request(mouthSmileLeft=0.0, browOuterUpLeft=0.0)
    before[SMILE], before[BROW_UP] = 0.9, 0.6
    cal = EditorCalibration(_mouth_response(), removal_limit=1.0, removal_max=2.0)
    change = cal.rig_change(before, after)
    assert -2.0 - 1e-9 <= change[SMILE] < -1.5  # 0.9 / 0.2 = 4.5 units asked, 2 allowed
    assert change[BROW_UP] >= -1.0 - 1e-9  # brows read the face's build too: one unit at most
    one = cal.with_options(removal_max=1.0).rig_change(before, after)
    assert one[SMILE] == pytest.approx(-1.0, abs=1e-6)


def test_a_removal_stops_a_little_past_the_rigs_neutral():
    from facecraft.synth.calibration import PAST_NEUTRAL, PAST_REMOVAL

    assert 0 <= PAST_REMOVAL < PAST_NEUTRAL
    cal = EditorCalibration(_mouth_response(), removal_limit=1.0, removal_max=2.0)
    rig_now = np.zeros(NUM_ARKIT)
    rig_now[SMILE] = 1.0  # the fit saturates on a broad smile
    # only taking the smile away (neutral): the person's rest face is the target, a little past the rig's neutral
    before, after = _request(mouthSmileLeft=0.0)
    before[SMILE] = 0.9
    change = cal.rig_change(before, after, rig_now=rig_now)
    assert change[SMILE] == pytest.approx(-1.0 - PAST_REMOVAL, abs=1e-6)  # not the 2 units the reading asks
    assert cal.rig_change(before, after)[SMILE] < -1.5
    # a new expression replacing the smile may take it further, so the face reads as that expression
    before, after = _request(mouthSmileLeft=0.0, browOuterUpLeft=0.5)
    before[SMILE] = 0.9
    change = cal.rig_change(before, after, rig_now=rig_now)
    assert change[SMILE] == pytest.approx(-1.0 - PAST_NEUTRAL, abs=1e-6)
    with pytest.raises(ParameterError, match="rig_now"):
        cal.rig_change(before, after, rig_now=np.zeros(3))


def test_pressed_lips_are_released_to_their_neutral_not_past_it():
    press = ARKIT_INDEX["mouthPressLeft"]
    before, after = _request(mouthPressLeft=0.0)
    before[press] = 0.5
    response = np.eye(NUM_ARKIT)
    response[press, press] = 0.3  # a press that reads weakly: undoing its reading asks for more than the fit holds
    cal = EditorCalibration(response, removal_limit=1.0, removal_max=3.0)
    rig_now = np.zeros(NUM_ARKIT)
    rig_now[press] = 0.33
    assert cal.rig_change(before, after, rig_now=rig_now)[press] == pytest.approx(-0.33, abs=1e-6)  # lips not swollen
    before[JAW], after[JAW] = 0.1, 0.6  # a request that opens the mouth parts the lips anyway: room past neutral
    assert cal.rig_change(before, after, rig_now=rig_now)[press] < -0.33 - 0.1


def test_a_smile_request_does_not_open_the_mouth():
    before, after = _request(mouthSmileLeft=0.9)
    change = EditorCalibration(_mouth_response(), cross=0.3).rig_change(before, after)
    assert change[SMILE] > 0.5 and change[JAW] <= 1e-9  # the jaw's smile reading is not used


def test_no_emotion_moves_the_jaw_or_mouth_forward_or_sideways_as_a_correction():
    # the solve for anger's brows and lids pushed the jaw forward and the mouth to one side (FRLL 006: jawForward
    # .145, mouthRight .096), a happy mouth went off-centre (jawRight .15), surprise's moved every way by .15
    from facecraft.rigs import EMOTIONS
    from facecraft.rigs.emotion_space import EmotionCode
    from facecraft.synth.calibration import PLACEMENT
    from facecraft.synth.controls import EditControls

    cal = EditorCalibration.load()
    before = np.full(NUM_ARKIT, 0.02)
    for emotion in EMOTIONS:
        code = EmotionCode.from_emotion(emotion, 1.0)
        assert not np.any(code.to_arkit()[PLACEMENT])  # none asks for them
        change = cal.rig_change(before, EditControls(codes=(code,)).target(before))
        assert np.abs(change[PLACEMENT]).max() < 1e-9, emotion
    shifted, centred = _request(mouthLeft=0.0)[0], _request(mouthLeft=0.0)[1]
    shifted[ARKIT_INDEX["mouthLeft"]] = 0.5  # a face's own shift is still taken away when asked
    assert cal.rig_change(shifted, centred)[ARKIT_INDEX["mouthLeft"]] < -0.1


def test_a_request_alike_on_both_sides_draws_both_sides_alike(tmp_path):
    # MediaPipe reads a face's sides a little differently and the solve used it: anger smiled 0.14 more on one side,
    # surprise frowned 0.18 more on one side, from the same request on a face that showed both sides alike
    from facecraft.rigs import EMOTIONS
    from facecraft.rigs.emotion_space import EmotionCode
    from facecraft.synth.calibration import MIRROR
    from facecraft.synth.controls import EditControls

    cal = EditorCalibration.load()
    assert cal.mirror and not np.allclose(cal.response, cal.response[np.ix_(MIRROR, MIRROR)])  # measured as it is
    before = np.full(NUM_ARKIT, 0.02)
    for emotion in set(EMOTIONS) - {"contempt"}:  # contempt is one-sided (R14)
        after = EditControls(codes=(EmotionCode.from_emotion(emotion, 1.0),)).target(before)
        assert np.allclose(after, after[MIRROR])
        change = cal.rig_change(before, after)
        assert np.abs(change - change[MIRROR]).max() < 1e-6, emotion
    left = cal.rig_change(*_request(mouthSmileLeft=0.6))
    right = cal.rig_change(*_request(mouthSmileRight=0.6))
    assert np.allclose(left, right[MIRROR], atol=1e-6)  # one side's request is the other's mirror image
    again = EditorCalibration.load(cal.save(tmp_path / "c.json"))
    assert again.mirror and np.allclose(again.response, cal.response)


def test_a_jaw_or_mouth_shifted_sideways_stops_where_it_still_looks_like_a_face():
    cal = EditorCalibration.load()  # jawLeft 1.0 was rig 3.0: the lower lip sheared off and the jaw's edge torn
    for name, most in (("jawLeft", 1.5), ("jawRight", 1.5), ("mouthLeft", 1.0), ("mouthRight", 1.0)):
        change = cal.rig_change(*_request(**{name: 1.0}))  # mouthLeft 1.0 was 3.0: the nose's crease streaked
        assert change[ARKIT_INDEX[name]] == pytest.approx(PLAUSIBLE_LIMIT[name]) and PLAUSIBLE_LIMIT[name] <= most


def test_shipped_limits_keep_surprise_plausible():
    cal = EditorCalibration.load()
    for name, most in PLAUSIBLE_LIMIT.items():  # the shipped table is within what still looked like a face
        assert cal.limit[ARKIT_INDEX[name]] <= most + 1e-9, name
    assert cal.limit[SMILE] >= 1.0 and cal.raise_floor > 0 and cal.removal_max > cal.removal_limit


def test_brow_raisers_together_stay_within_their_joint_limit():
    cal = EditorCalibration.load()
    inner, outer = ARKIT_INDEX["browInnerUp"], ARKIT_INDEX["browOuterUpLeft"]
    alone = cal.rig_change(*_request(browInnerUp=0.9))
    assert alone[inner] > 1.2  # one brow control keeps its own limit
    both = cal.rig_change(*_request(browInnerUp=0.9, browOuterUpLeft=0.9, browOuterUpRight=0.9))
    assert both[inner] <= 1.0 + 1e-9 and both[outer] <= 1.0 + 1e-9 and both[inner] > 0.5
    frowning = cal.rig_change(*_request(browInnerUp=0.9, browOuterUpLeft=0.9, browDownLeft=0.6))
    assert frowning[inner] > 1.2  # fear's corrugator holds the brow down: the inner brow still rises


FROWN_L, FROWN_R = ARKIT_INDEX["mouthFrownLeft"], ARKIT_INDEX["mouthFrownRight"]
STRETCH_L, CLOSE = ARKIT_INDEX["mouthStretchLeft"], ARKIT_INDEX["mouthClose"]
UPPER_UP = ARKIT_INDEX["mouthUpperUpLeft"]


def test_companions_move_with_what_the_request_raises():
    companions = {
        "mouthFrownLeft": {"mouthFrownRight": 1 / 3, "mouthStretchLeft": 1 / 3},
        "mouthSmileLeft+mouthSmileRight": {"mouthClose": -0.125},
    }
    cal = EditorCalibration(np.eye(NUM_ARKIT), ridge=1e-4, companions=companions)
    plain = EditorCalibration(np.eye(NUM_ARKIT), ridge=1e-4)
    before, after = _request(mouthFrownLeft=0.7)
    change, alone = cal.rig_change(before, after), plain.rig_change(before, after)
    assert change[FROWN_L] == pytest.approx(alone[FROWN_L], abs=1e-6)
    assert change[FROWN_R] == pytest.approx(change[FROWN_L] / 3, abs=1e-6) and alone[FROWN_R] < 0.05
    assert change[STRETCH_L] == pytest.approx(change[FROWN_L] / 3, abs=1e-6)
    before, after = _request(mouthSmileLeft=0.9, mouthSmileRight=0.9)
    change = cal.rig_change(before, after)
    assert change[CLOSE] == pytest.approx(-0.125 * change[SMILE], abs=1e-6)  # the lips part over the teeth
    before, after = _request(mouthSmileLeft=0.9)  # a one-sided smile: all the key's channels must rise
    assert abs(cal.rig_change(before, after)[CLOSE]) < 1e-9
    # A companion the request names keeps what the request asks; no request, no change.
    before, after = _request(mouthFrownLeft=0.7, mouthFrownRight=0.0)
    assert cal.rig_change(before, after)[FROWN_R] == pytest.approx(plain.rig_change(before, after)[FROWN_R])
    assert not np.any(cal.rig_change(before, before))
    assert not EditorCalibration.identity().companions


def test_a_widened_eye_alone_lowers_its_lower_lid_and_holds_the_brows():
    cal = EditorCalibration.load()
    inner = ARKIT_INDEX["browInnerUp"]
    for side in ("Left", "Right"):
        wide, squint = ARKIT_INDEX[f"eyeWide{side}"], ARKIT_INDEX[f"eyeSquint{side}"]
        change = cal.rig_change(*_request(**{f"eyeWide{side}": 0.8}))
        assert change[wide] > 0.5
        assert change[squint] == pytest.approx(-0.5 * change[wide], abs=1e-6)  # the lower lid a little lower
        assert change[ARKIT_INDEX[f"browOuterUp{side}"]] <= 0 and change[inner] <= 0  # no brow raise read first
    wide, squint = ARKIT_INDEX["eyeWideLeft"], ARKIT_INDEX["eyeSquintLeft"]
    # Surprise's lids come with its brows: they rise, and the lower lid is left to the solve.
    surprised = cal.rig_change(*_request(eyeWideLeft=0.8, browInnerUp=0.8, browOuterUpLeft=0.8))
    assert surprised[inner] > 0.3 and surprised[squint] > -0.5 * surprised[wide] + 0.1
    # A squint asked with the widening (AU5 + AU7) is not undone.
    assert cal.rig_change(*_request(eyeWideLeft=0.8, eyeSquintLeft=0.8))[squint] > 0


def test_a_raised_cheek_alone_pushes_its_lower_lid_up():
    cal = EditorCalibration.load()
    for side in ("Left", "Right"):
        cheek, squint = ARKIT_INDEX[f"cheekSquint{side}"], ARKIT_INDEX[f"eyeSquint{side}"]
        change = cal.rig_change(*_request(**{f"cheekSquint{side}": 0.8}))
        assert change[cheek] > 0.5
        assert change[squint] == pytest.approx(0.5 * change[cheek], abs=1e-6)
    # With the smile (happiness' AU6 + AU12) the lower lid is left to the solve and the emotion's form.
    plain = dataclasses.replace(cal, companions={k: v for k, v in cal.companions.items() if not k.startswith("cheek")})
    smile = _request(cheekSquintLeft=0.8, cheekSquintRight=0.8, mouthSmileLeft=0.9, mouthSmileRight=0.9)
    np.testing.assert_allclose(cal.rig_change(*smile), plain.rig_change(*smile), atol=1e-9)


def test_a_companion_key_can_name_what_the_request_must_not_raise():
    funnel, stretch_r = ARKIT_INDEX["mouthFunnel"], ARKIT_INDEX["mouthStretchRight"]
    companions = {"jawOpen": {"mouthFunnel": 0.2}, "jawOpen!mouthStretchLeft!mouthStretchRight": {"mouthFunnel": 0.8}}
    cal = EditorCalibration(np.eye(NUM_ARKIT), ridge=1e-4, companions=companions)
    surprised = cal.rig_change(*_request(jawOpen=0.6))
    assert surprised[funnel] == pytest.approx(0.8 * surprised[JAW], abs=1e-6)
    afraid = cal.rig_change(*_request(jawOpen=0.6, mouthStretchRight=0.6))
    assert afraid[stretch_r] > 0.3 and afraid[funnel] == pytest.approx(0.2 * afraid[JAW], abs=1e-6)
    with pytest.raises(ParameterError, match="companions"):
        EditorCalibration(np.eye(NUM_ARKIT), companions={"jawOpen!notAShape": {"mouthFunnel": 0.4}})


def test_shipped_surprise_rounds_the_lips_as_far_as_the_jaw_drops():
    # Surprise's jaw drop (no lip stretch) comes with as much funnel as jaw: a round "O" with relaxed lips, not the
    # wide oval NetworkV2 read as fear or anger; fear's stretched mouth keeps a little (0.4 of the jaw).
    from facecraft.synth.calibration import COMPANIONS

    funnel = ARKIT_INDEX["mouthFunnel"]
    cal = EditorCalibration.load()
    assert cal.companions == COMPANIONS  # the shipped copy is the table's
    brows = {"browInnerUp": 0.9, "browOuterUpLeft": 0.9, "browOuterUpRight": 0.9}
    inner = ARKIT_INDEX["browInnerUp"]
    surprised = cal.rig_change(*_request(jawOpen=0.6, **brows))
    key = min(surprised[JAW], surprised[inner])  # the smaller rise of the key's channels
    assert key > 0.5 and surprised[funnel] == pytest.approx(key, abs=1e-6)
    afraid = cal.rig_change(*_request(jawOpen=0.6, mouthStretchLeft=0.6, mouthStretchRight=0.6, **brows))
    assert afraid[funnel] == pytest.approx(0.4 * min(afraid[JAW], afraid[inner]), abs=1e-6)


def test_companions_round_trip_and_are_checked(tmp_path):
    cal = EditorCalibration(np.eye(NUM_ARKIT), companions={"jawOpen": {"mouthFunnel": 0.4}})
    back = EditorCalibration.load(cal.save(tmp_path / "c.json"))
    assert back.companions == {"jawOpen": {"mouthFunnel": 0.4}}
    with pytest.raises(ParameterError, match="companions"):
        EditorCalibration(np.eye(NUM_ARKIT), companions={"jawOpen": {"notAShape": 0.4}})
    with pytest.raises(ParameterError, match="companions"):
        EditorCalibration(np.eye(NUM_ARKIT), companions={"jawOpen": {"mouthFunnel": 2.0}})
    assert EditorCalibration.load().companions  # the shipped calibration uses them


def test_a_closed_mouth_is_not_pressed_shut_as_a_correction():
    response = np.eye(NUM_ARKIT)
    response[UPPER_UP, SMILE] = 0.5  # the rig's smile also reads as a raised upper lip
    cal = EditorCalibration(response, ridge=1e-4, cross=0.3)
    before, after = _request(mouthSmileLeft=0.9)
    change = cal.rig_change(before, after)
    assert change[SMILE] > 0.5 and change[UPPER_UP] >= 0.0 and change[CLOSE] <= 1e-9
    before, after = _request(jawOpen=0.6, mouthSmileLeft=0.9)  # an opening jaw may lower the lip against it
    assert cal.rig_change(before, after)[UPPER_UP] < 0.0


def test_shipped_pucker_and_stretch_hold_down_what_they_read_as():
    cal = EditorCalibration.load()
    dimples = [ARKIT_INDEX["mouthDimpleLeft"], ARKIT_INDEX["mouthDimpleRight"]]
    pucker = cal.rig_change(*_request(mouthPucker=0.8))
    assert pucker[ARKIT_INDEX["mouthPucker"]] > 0.3
    assert np.all(pucker[dimples] <= -0.6 * pucker[ARKIT_INDEX["mouthPucker"]] + 1e-6)  # the corners come forward
    smiles = [ARKIT_INDEX["mouthSmileLeft"], ARKIT_INDEX["mouthSmileRight"]]
    assert np.all(pucker[smiles] <= -0.3 * pucker[ARKIT_INDEX["mouthPucker"]] + 1e-6)  # ... and in
    press_r, stretch_l = ARKIT_INDEX["mouthPressRight"], ARKIT_INDEX["mouthStretchLeft"]
    stretch = cal.rig_change(*_request(mouthStretchLeft=0.8))
    assert stretch[stretch_l] > 0.3 and stretch[press_r] <= -0.6 * stretch[stretch_l] + 1e-6
    afraid = cal.rig_change(*_request(mouthStretchLeft=0.6, jawOpen=0.5))  # fear's AU20 + AU26: not held down
    assert afraid[stretch_l] > 0.3 and afraid[press_r] > -0.6 * afraid[stretch_l] + 0.05


def test_shipped_stretch_draws_one_corner_out_past_where_it_barely_showed():
    # At 1.5 rig units one corner's stretch barely showed (read largest on 0.74 of the calibration photos, left);
    # PLAUSIBLE_LIMIT and the shipped limit let it reach 2.0 (0.90).
    cal = EditorCalibration.load()
    for name in ("mouthStretchLeft", "mouthStretchRight"):
        k = ARKIT_INDEX[name]
        assert cal.limit[k] == PLAUSIBLE_LIMIT[name] == 2.0
        assert cal.rig_change(*_request(**{name: 0.8}))[k] > 1.9


def test_one_outer_brow_rises_further_than_fears_brows():
    # Alone, an outer brow may reach its single limit (2.0: at 1.5 it barely showed); with the brows also lowered
    # (fear's AU1+2+4, exempt from the joint limit) it keeps to LOWERED_BROW_RAISE_LIMIT.
    cal = EditorCalibration.load()
    for name in ("browOuterUpLeft", "browOuterUpRight"):
        k = ARKIT_INDEX[name]
        assert cal.limit[k] == PLAUSIBLE_LIMIT[name] == 2.0
        assert cal.rig_change(*_request(**{name: 0.9}))[k] > LOWERED_BROW_RAISE_LIMIT + 0.1
        lowered = cal.rig_change(*_request(**{name: 0.9}, browDownLeft=0.6, browDownRight=0.6))
        assert lowered[k] <= LOWERED_BROW_RAISE_LIMIT + 1e-9


def test_forms_show_an_emotions_signature_with_floors_and_caps(tmp_path):
    sneer_l, sneer_r = ARKIT_INDEX["noseSneerLeft"], ARKIT_INDEX["noseSneerRight"]
    brow, lower = ARKIT_INDEX["browDownLeft"], ARKIT_INDEX["mouthLowerDownLeft"]
    forms = {
        "noseSneerLeft+noseSneerRight": {
            "at": {"noseSneerLeft": 1.0, "noseSneerRight": 1.0},
            "floor": {"browDownLeft": 2.0},
            "cap": {"mouthLowerDownLeft": 0.5},
        }
    }
    cal = EditorCalibration(np.eye(NUM_ARKIT), ridge=1e-4, max_gain=3.0, forms=forms)
    plain = EditorCalibration(np.eye(NUM_ARKIT), ridge=1e-4, max_gain=3.0)
    full = dict(noseSneerLeft=1.0, noseSneerRight=1.0, mouthLowerDownLeft=0.9, browDownLeft=0.0)
    change, alone = cal.rig_change(*_request(**full)), plain.rig_change(*_request(**full))
    assert alone[brow] < 0 and change[brow] == pytest.approx(2.0)  # the fading brow comes down with the sneer
    assert alone[lower] > 0.6 and change[lower] == pytest.approx(0.5)  # the lower lip parts only a little
    half = dict(full, noseSneerLeft=0.5, noseSneerRight=0.5)
    assert cal.rig_change(*_request(**half))[brow] == pytest.approx(1.0)  # floors scale with the key's level
    one_side = dict(full, noseSneerRight=0.1)  # the key needs every channel raised
    assert np.allclose(cal.rig_change(*_request(**one_side)), plain.rig_change(*_request(**one_side)))
    back = EditorCalibration.load(cal.save(tmp_path / "f.json"))
    assert back.forms == forms
    assert np.allclose(back.rig_change(*_request(**full)), change, atol=1e-3)
    with pytest.raises(ParameterError, match="forms"):
        EditorCalibration(np.eye(NUM_ARKIT), forms={"noseSneerLeft": {"floor": {"notAShape": 1.0}, "at": {}}})
    with pytest.raises(ParameterError, match="forms"):
        EditorCalibration(np.eye(NUM_ARKIT), forms={"noseSneerLeft": {"floor": {"browDownLeft": 1.0}}})  # no 'at'
    shipped = EditorCalibration.load()
    assert shipped.forms and sneer_l != sneer_r
    # the shipped disgust keeps its lower lip near closed; anger draws its corners down
    disgust = shipped.rig_change(*_request(**full))
    assert disgust[lower] <= 0.5 + 1e-9 and disgust[brow] > 1.0


def test_shipped_anger_presses_the_lips_without_rolling_them_in():
    # The solve rolled the lips in ~0.7 rig units for AU23: a pressed mouth thinned into a zigzag band with the lip
    # line drawn twice (UTKFace crops); the anger form caps the roll at 0.25 and the lips still press shut.
    from facecraft.synth.calibration import FORMS
    from facecraft.synth.controls import EditControls
    from facecraft.synth.editor import lip_seal

    shipped = EditorCalibration.load()
    assert shipped.forms == FORMS  # the shipped copy is the table's
    before = np.full(NUM_ARKIT, 0.05, np.float32)
    change = shipped.rig_change(before, EditControls.from_args(emotion="anger:1.0").target(before))
    rolls = [ARKIT_INDEX["mouthRollLower"], ARKIT_INDEX["mouthRollUpper"]]
    assert change[rolls].max() <= 0.25 + 1e-9
    assert lip_seal(change) == 1.0 and change[ARKIT_INDEX["mouthFrownLeft"]] >= 1.5 - 1e-9


def test_shipped_full_smile_raises_the_upper_lip_off_the_teeth():
    # The judges read a smile whose lips only part over the teeth as neutral (FRLL calibration photos, happiness:1.0
    # by NetworkV2 .847); a full smile bares the upper teeth, a smaller one less so, a one-sided smile not at all.
    from facecraft.synth.controls import EditControls

    shipped = EditorCalibration.load()
    before = np.full(NUM_ARKIT, 0.05, np.float32)
    upper = [ARKIT_INDEX["mouthUpperUpLeft"], ARKIT_INDEX["mouthUpperUpRight"]]

    def upper_lip(**controls) -> float:
        return float(shipped.rig_change(before, EditControls.from_args(**controls).target(before))[upper].min())

    full, half = upper_lip(emotion="happiness:1.0"), upper_lip(emotion="happiness:0.5")
    assert full >= 0.6 - 1e-6 and 0.2 < half < full
    assert upper_lip(au={"AU12R": 1.0}) < 0.2
    # a level: a face fitted with its upper lip at 0.2 moves the rest of the way; one nearly there (the astronaut's
    # broad smile, 0.45) keeps its own teeth
    after = EditControls.from_args(emotion="happiness:1.0").target(before)
    for fitted_at, moved in ((0.2, 0.4), (0.45, 0.0)):
        fitted = np.zeros(NUM_ARKIT)
        fitted[upper] = fitted_at
        assert shipped.rig_change(before, after, rig_now=fitted)[upper].max() == pytest.approx(moved, abs=0.02)


def test_a_frown_undoes_the_faces_own_smile_down_to_its_neutral(tmp_path):
    antagonists = {"mouthFrownLeft": {"mouthSmileLeft": 1.0}}
    cal = EditorCalibration(np.eye(NUM_ARKIT), ridge=1e-4, antagonists=antagonists)
    plain = EditorCalibration(np.eye(NUM_ARKIT), ridge=1e-4)
    smiling, neutral = np.zeros(NUM_ARKIT), np.zeros(NUM_ARKIT)
    smiling[SMILE] = 0.3  # the face's fitted smile
    before, after = _request(mouthFrownLeft=0.7)
    frown = cal.rig_change(before, after, rig_now=smiling)
    alone = plain.rig_change(before, after, rig_now=smiling)
    assert frown[FROWN_L] == pytest.approx(alone[FROWN_L], abs=1e-6) and frown[FROWN_L] > 0.3
    assert frown[SMILE] == pytest.approx(-0.3, abs=1e-6)  # the smile gives way, to its neutral and no further
    assert cal.rig_change(before, after, rig_now=neutral)[SMILE] == pytest.approx(alone[SMILE], abs=1e-6)
    assert cal.rig_change(before, after)[SMILE] == pytest.approx(alone[SMILE], abs=1e-6)  # no fitted weights
    both = cal.rig_change(*_request(mouthFrownLeft=0.7, mouthSmileLeft=0.5), rig_now=smiling)
    assert both[SMILE] > 0  # asked for both: the request wins
    back = EditorCalibration.load(cal.save(tmp_path / "a.json"))
    assert back.antagonists == antagonists
    with pytest.raises(ParameterError, match="antagonists"):
        EditorCalibration(np.eye(NUM_ARKIT), antagonists={"mouthFrownLeft": {"notAShape": 1.0}})
    with pytest.raises(ParameterError, match="antagonists"):
        EditorCalibration(np.eye(NUM_ARKIT), antagonists={"mouthFrownLeft": {"mouthSmileLeft": 1.5}})
    assert EditorCalibration.load().antagonists  # the shipped calibration uses them


def test_antagonists_give_way_to_a_shape_not_to_a_cross_talk_correction():
    # A companion's frown of a few hundredths (as the solve's cross-talk corrections are) leaves the smile alone.
    antagonists = {"mouthFrownLeft": {"mouthSmileLeft": 1.0}}
    smiling = np.zeros(NUM_ARKIT)
    smiling[SMILE] = 0.3
    for share, gives_way in ((0.05, False), (0.5, True)):
        companions = {"mouthStretchLeft": {"mouthFrownLeft": share}}
        cal = EditorCalibration(np.eye(NUM_ARKIT), ridge=1e-4, companions=companions, antagonists=antagonists)
        change = cal.rig_change(*_request(mouthStretchLeft=0.9), rig_now=smiling)
        assert change[FROWN_L] == pytest.approx(share * change[STRETCH_L], abs=1e-6)
        assert change[SMILE] == pytest.approx(-0.3 if gives_way else 0.0, abs=1e-6)


def test_shipped_frown_closes_a_toothy_smile_as_the_corners_come_down():
    # On a toothy smile the frown drew the corners down around bared teeth (read as mouthStretch): the smile, the
    # lips' raiser and depressor and the jaw give way, down to the face's neutral and no further.
    cal = EditorCalibration.load()
    names = ("mouthSmileLeft", "mouthUpperUpLeft", "mouthLowerDownLeft", "jawOpen")
    opened = [ARKIT_INDEX[n] for n in names]
    toothy, neutral = np.zeros(NUM_ARKIT), np.zeros(NUM_ARKIT)
    toothy[opened] = 0.4
    before, after = _request(mouthFrownLeft=0.8)
    frown = cal.rig_change(before, after, rig_now=toothy)
    assert frown[FROWN_L] > 1.0
    assert np.allclose(frown[opened], -0.4, atol=1e-6)
    assert np.all(cal.rig_change(before, after, rig_now=neutral)[opened] > -0.2)
    # ... but the jaw stays where the chin pushes the lower lip up (sadness's form): lips crushed into a blob
    sad = cal.rig_change(*_request(mouthFrownLeft=0.8, mouthFrownRight=0.8, browInnerUp=0.9), rig_now=toothy)
    assert sad[ARKIT_INDEX["mouthShrugLower"]] > 0.5 and sad[JAW] > -0.05
    assert np.allclose(sad[opened[:3]], -0.4, atol=1e-6)
    with pytest.raises(ParameterError, match="antagonists"):
        EditorCalibration(np.eye(NUM_ARKIT), antagonists={"mouthFrownLeft!notAShape": {"jawOpen": 1.0}})


def test_shipped_pucker_closes_a_toothy_smile_into_rounded_lips():
    # A toothy smile asked for a pucker narrowed into a gaping "O" over the teeth (read as jawOpen): the smile, the
    # lips' raiser and depressor and the jaw give way to the neutral; asked with the jaw, the jaw stays open.
    cal = EditorCalibration.load()
    names = ("mouthSmileLeft", "mouthSmileRight", "mouthUpperUpLeft", "mouthLowerDownRight", "jawOpen")
    opened = [ARKIT_INDEX[n] for n in names]
    toothy = np.zeros(NUM_ARKIT)
    toothy[opened] = 0.5
    pucker = cal.rig_change(*_request(mouthPucker=0.8), rig_now=toothy)
    assert pucker[ARKIT_INDEX["mouthPucker"]] > 1.0 and np.allclose(pucker[opened[2:]], -0.5, atol=1e-6)
    assert np.all(pucker[opened[:2]] <= -0.5 + 1e-6)  # the smiles: at least to neutral (the companion pulls in too)
    assert np.allclose(cal.rig_change(*_request(mouthPucker=0.8), rig_now=np.zeros(NUM_ARKIT))[opened[2:]], 0.0)
    with_jaw = cal.rig_change(*_request(mouthPucker=0.8, jawOpen=0.4), rig_now=toothy)
    assert with_jaw[JAW] > 0.3 and np.allclose(with_jaw[opened[2:4]], -0.5, atol=1e-6)


def test_shipped_funnel_turns_the_lips_out_instead_of_puckering():
    # MediaPipe read the funnel's narrowed "O" as a pucker; lips rolled out, the chin's push off them and a little
    # mouthClose and smile read as funnel (72 calibration photos: 0.17 -> 0.49 read largest).
    cal = EditorCalibration.load()
    funnel = ARKIT_INDEX["mouthFunnel"]
    rolls = [ARKIT_INDEX[n] for n in ("mouthRollLower", "mouthRollUpper", "mouthShrugLower", "mouthShrugUpper")]
    keep = [ARKIT_INDEX[n] for n in ("mouthClose", "mouthSmileLeft", "mouthSmileRight")]
    oo = cal.rig_change(*_request(mouthFunnel=0.8))
    assert oo[funnel] > 1.0
    assert np.all(oo[rolls] <= -0.4 * oo[funnel] + 1e-6)  # the lips turn out
    assert np.all(oo[keep] >= 0.1 * oo[funnel] - 1e-6)  # ... around a small opening
    assert np.all(oo[keep[1:]] >= 0.25 * oo[funnel] - 1e-6)  # its corners held out: a flared "O", not a kiss
    # With the jaw asked (an open "oh", surprise's companion) the rig's funnel rounds the jaw's opening as before.
    oh = cal.rig_change(*_request(mouthFunnel=0.8, jawOpen=0.5))
    assert oh[funnel] > 1.0 and np.all(oh[rolls] > -0.1 * oh[funnel]) and np.all(oh[keep] < 0.05)
    pucker = cal.rig_change(*_request(mouthPucker=0.8))  # a pucker stays pressed, not turned out
    assert np.all(pucker[rolls] >= -1e-6)


def test_calibrate_refuses_no_photos_and_files_that_are_not_its_measurements(tmp_path):
    from facecraft.synth.calibration import calibrate

    for limit in (0, -1):  # 0 wrote a calibration fitted on no photo; -1 ran on all but the last
        with pytest.raises(ParameterError, match="limit"):
            calibrate(out=tmp_path / "c.json", limit=limit)
    (tmp_path / "bad.npz").write_bytes(b"not a zip")
    np.savez(tmp_path / "other.npz", curves=np.zeros(3))
    for name in ("bad.npz", "other.npz"):
        with pytest.raises(FileFormatError, match=name):
            calibrate(out=tmp_path / "c.json", measurements=tmp_path / name, limit=1)
    assert not (tmp_path / "c.json").exists()


def test_an_eye_asked_alike_on_both_sides_moves_alike_from_unlike_scores():
    # MediaPipe scored FRLL calibration 012's squint 0.47 / 0.24 on eyes that open alike: anger's squint taken per
    # side from those scores narrowed the eye read as less squinted twice as much (lid rise 2.56 / 1.66 px)
    cal = EditorCalibration.identity()
    left, right = ARKIT_INDEX["eyeSquintLeft"], ARKIT_INDEX["eyeSquintRight"]
    before = np.zeros(NUM_ARKIT, np.float32)
    before[[left, right]] = (0.47, 0.24)
    after = before.copy()
    after[[left, right]] = 0.8
    change = cal.rig_change(before, after)
    assert change[left] == pytest.approx(change[right]) and change[left] == pytest.approx(0.8 - 0.355)
    one_sided = before.copy()
    one_sided[left] = 0.8  # one eye asked: each side from its own score
    change = cal.rig_change(before, one_sided)
    assert change[left] == pytest.approx(0.8 - 0.47) and change[right] == 0


def test_a_one_sided_request_moves_its_side_at_most_so_far_beyond_the_other(tmp_path):
    from facecraft.synth.calibration import UNILATERAL

    smile_r, dimple_r = ARKIT_INDEX["mouthSmileRight"], ARKIT_INDEX["mouthDimpleRight"]
    unilateral = {"mouthDimpleRight!mouthDimpleLeft": {"mouthSmileRight": 0.2}}
    cal = EditorCalibration(np.eye(NUM_ARKIT), ridge=1e-4, unilateral=unilateral)
    plain = EditorCalibration(np.eye(NUM_ARKIT), ridge=1e-4)
    request = _request(mouthSmileRight=0.9, mouthDimpleRight=0.8)
    assert plain.rig_change(*request)[smile_r] > 0.5
    assert cal.rig_change(*request)[smile_r] == pytest.approx(0.2, abs=1e-6)
    assert cal.rig_change(*request)[dimple_r] == pytest.approx(plain.rig_change(*request)[dimple_r], abs=1e-6)
    both = _request(mouthSmileRight=0.9, mouthDimpleRight=0.8, mouthDimpleLeft=0.8)  # not one-sided
    assert cal.rig_change(*both)[smile_r] == pytest.approx(plain.rig_change(*both)[smile_r], abs=1e-6)
    back = EditorCalibration.load(cal.save(tmp_path / "a.json"))
    assert back.unilateral == unilateral
    for bad in ({"notAShape": {"mouthSmileRight": 0.2}}, {"mouthDimpleRight": {"eyeLookUpLeft": 0.2}}):
        with pytest.raises(ParameterError, match="unilateral"):
            EditorCalibration(np.eye(NUM_ARKIT), unilateral=bad)
    assert EditorCalibration.load().unilateral == UNILATERAL  # the shipped copy is the table's


def test_shipped_contempt_on_a_smile_takes_the_smile_off_both_sides():
    # A broad smiler asked for contempt kept the contempt side's whole smile while the other side lost its own (1.2-1.6
    # rig units): one corner fell down and in, the mouth twisted across the face (portrait 001). On a neutral face the
    # contempt side's smile rose to its limit (1.8) under the dimple: the corner 0.18 face widths up.
    from facecraft.synth.calibration import UNILATERAL
    from facecraft.synth.controls import EditControls

    cal = EditorCalibration.load()
    smiles = [ARKIT_INDEX["mouthSmileLeft"], ARKIT_INDEX["mouthSmileRight"]]
    most = UNILATERAL["mouthDimpleRight!mouthDimpleLeft"]["mouthSmileRight"]
    contempt = EditControls.from_args(emotion="contempt:1.0")
    smiling, fitted = np.full(NUM_ARKIT, 0.05, np.float32), np.zeros(NUM_ARKIT)
    smiling[smiles], fitted[smiles] = 0.93, 1.0
    change = cal.rig_change(smiling, contempt.target(smiling), rig_now=fitted)
    left, right = change[smiles]
    assert left < -1.0 and right < 0 and right - left <= most + 1e-9
    assert change[ARKIT_INDEX["mouthDimpleRight"]] > 1.0
    neutral = np.full(NUM_ARKIT, 0.05, np.float32)
    change = cal.rig_change(neutral, contempt.target(neutral), rig_now=np.zeros(NUM_ARKIT))
    assert 0.2 < change[smiles[1]] <= most + 1e-9
    # a dimple slider on a smiling face keeps the smile
    dimple = EditControls.from_args(au={"AU14R": 0.8})
    assert cal.rig_change(smiling, dimple.target(smiling), rig_now=fitted)[smiles].min() > -0.2


def test_shipped_fear_on_a_closed_bite_smile_drops_the_jaw():
    # A broad smile's lips parted over a closed bite already read as jawOpen 0.1-0.2: the solve held fear's jaw at
    # its raise floor, 0.3-0.4 rig units, and the stretched lips and the removed smile drew a grimace over the
    # clenched teeth (UTKFace tuning crop 67_0_0...651). Fear's form drops the jaw 0.45 at least; surprise asks no
    # stretch.
    import dataclasses

    from facecraft.synth.calibration import FORMS
    from facecraft.synth.controls import EditControls

    shipped = EditorCalibration.load()
    assert shipped.forms == FORMS  # the shipped copy is the table's
    jaw = ARKIT_INDEX["jawOpen"]
    smiles = [ARKIT_INDEX["mouthSmileLeft"], ARKIT_INDEX["mouthSmileRight"]]
    smiling, fitted = np.full(NUM_ARKIT, 0.05, np.float32), np.zeros(NUM_ARKIT)
    smiling[smiles], smiling[jaw], fitted[smiles], fitted[jaw] = 0.94, 0.2, 1.0, 0.21
    fear = EditControls.from_args(emotion="fear:1.0")
    change = shipped.rig_change(smiling, fear.target(smiling), rig_now=fitted)
    assert change[jaw] >= 0.45 - 1e-9 and change[smiles].max() < -1.0
    without = dataclasses.replace(
        shipped, forms={k: f for k, f in FORMS.items() if not k.startswith("jawOpen+mouthStretch")}
    )
    neutral = np.full(NUM_ARKIT, 0.05, np.float32)
    rest = np.zeros(NUM_ARKIT)
    ask = fear.target(neutral)
    assert shipped.rig_change(neutral, ask, rig_now=rest)[jaw] == pytest.approx(
        without.rig_change(neutral, ask, rig_now=rest)[jaw]
    )  # a neutral face's jaw already drops further
    for face, fit in ((smiling, fitted), (neutral, rest)):
        surprise = EditControls.from_args(emotion="surprise:1.0").target(face)
        assert np.array_equal(
            shipped.rig_change(face, surprise, rig_now=fit), without.rig_change(face, surprise, rig_now=fit)
        )


def test_a_blink_moves_the_rig_by_the_closure_it_asks_for_alike_on_both_sides():
    from facecraft.synth.calibration import CLOSING_UNITS, SHUT_PAST
    from facecraft.synth.controls import EditControls, blink_score

    cal = EditorCalibration.load()
    blink = [ARKIT_INDEX["eyeBlinkLeft"], ARKIT_INDEX["eyeBlinkRight"]]
    before = np.zeros(NUM_ARKIT, np.float32)
    before[blink] = (0.1, 0.06)  # open eyes (MediaPipe reads them at 0.03-0.17)
    units = {}
    for value in (0.25, 0.5, 0.65, 0.8, 1.0):
        after = EditControls.from_args(au={"AU43": value}).target(before)
        change = cal.rig_change(before, after, rig_now=np.zeros(NUM_ARKIT))
        assert change[blink[0]] == pytest.approx(change[blink[1]], abs=1e-6)  # alike on both sides
        units[value] = change[blink[0]]
    # the rig's lid closes linearly in its units: 0.5 brings it halfway down, not shut (the solve through the score's
    # response gave 1.38 units for 0.5 and 2.88 / 2.0 left / right for 1.0); from 0.8 it is pressed shut
    assert units[0.25] == pytest.approx(0.25 * CLOSING_UNITS) and units[0.5] == pytest.approx(0.5 * CLOSING_UNITS)
    assert 0.5 * CLOSING_UNITS < units[0.65] < CLOSING_UNITS
    assert units[0.8] == pytest.approx(CLOSING_UNITS + SHUT_PAST) and units[1.0] == pytest.approx(units[0.8])
    # the shut lid's squint reading is not undone: undoing it raised the lid again (eyeWide 0.15 at 1.0, a slit)
    squinting = before.copy()
    squinting[[ARKIT_INDEX["eyeSquintLeft"], ARKIT_INDEX["eyeSquintRight"]]] = 0.2
    shut = cal.rig_change(squinting, EditControls.from_args(au={"AU43": 1.0}).target(squinting), rig_now=before * 0)
    assert shut[ARKIT_INDEX["eyeWideLeft"]] < 0.05 and shut[ARKIT_INDEX["eyeSquintLeft"]] >= 0.0
    lowered = before.copy()
    lowered[blink] = blink_score(0.75)  # a photo whose lids are three quarters down, asked half: they open a quarter
    after = EditControls.from_args(au={"AU43": 0.5}).target(lowered)
    np.testing.assert_allclose(cal.rig_change(lowered, after)[blink], -0.25 * CLOSING_UNITS, atol=1e-6)
    same = EditControls.from_args(arkit={"eyeBlinkLeft": 0.0}).target(before)  # open as in the photo: no change
    assert cal.rig_change(before, same)[blink[0]] == pytest.approx(0.0, abs=1e-6)
    assert EditorCalibration.identity().closing is None
    with pytest.raises(ParameterError):
        dataclasses.replace(cal, closing=0.0)
