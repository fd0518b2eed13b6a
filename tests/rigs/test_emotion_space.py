import json

import numpy as np
import pytest

from facecraft.rigs import ARKIT_INDEX, EMOTIONS, FileFormatError, MissingFileError, ParameterError, au_vector
from facecraft.rigs.emotion_space import (
    EMOTION_CODE_DIM,
    EmotionCode,
    EmotionTrack,
    as_code_track,
    classify_arkit,
    codes_to_arkit,
    parse_emotion,
    parse_emotion_track,
    region_mask,
)


def test_category_codes_decode_to_their_prototype():
    assert EMOTION_CODE_DIM == 57
    c = EmotionCode.from_emotion("happiness", 0.5)
    assert c.dominant() == ("happiness", pytest.approx(0.5))
    arkit = c.to_arkit()
    assert arkit[ARKIT_INDEX["mouthSmileLeft"]] == pytest.approx(0.5)
    assert EmotionCode.from_emotion("neutral").to_arkit().sum() == 0
    assert EmotionCode.neutral().dominant() == ("neutral", 1.0)


def test_au_vectors_round_trip_exactly():
    rng = np.random.default_rng(0)
    for _ in range(5):
        au = (rng.random(50) * (rng.random(50) < 0.2)).astype(np.float32)
        assert np.allclose(EmotionCode.from_au(au).to_au(), au, atol=1e-5)
    code = EmotionCode.from_au({"AU6": 0.8, "AU12": 1.0})
    assert code.dominant()[0] == "happiness" and np.linalg.norm(code.residual) < 1e-5


def test_probabilities_view():
    p = np.zeros(8)
    p[EMOTIONS.index("sadness")] = 0.6
    p[EMOTIONS.index("neutral")] = 0.4
    c = EmotionCode.from_probabilities(p)
    assert np.allclose(c.to_probabilities(), p, atol=1e-6)
    with pytest.raises(ParameterError):
        EmotionCode.from_probabilities([0.5, 0.5])


def test_interpolation_is_smooth_and_monotone():
    a, b = EmotionCode.from_emotion("anger", 1.0), EmotionCode.from_emotion("happiness", 1.0)
    smiles = [a.lerp(b, t).to_arkit()[ARKIT_INDEX["mouthSmileLeft"]] for t in np.linspace(0, 1, 11)]
    assert np.all(np.diff(smiles) > 0)


def test_every_emotion_classifies_as_itself_on_the_emotion_channels():
    for e in EMOTIONS:
        labels, probs = classify_arkit(EmotionCode.from_emotion(e, 0.7).to_arkit(), "emotion")
        assert labels == [e] and probs.shape == (1, 8)
    labels, _ = classify_arkit(np.zeros((4, 52)), "upper")
    assert labels == ["neutral"] * 4
    assert region_mask("speech")[ARKIT_INDEX["jawOpen"]] and not region_mask("upper")[ARKIT_INDEX["jawOpen"]]
    with pytest.raises(ParameterError, match="unknown face region"):
        region_mask("ears")


def test_fear_without_its_lip_stretch_still_reads_fear_and_surprise_stays_surprise():
    """Prototypes overlap: fear's brows hold surprise's. One best prototype per frame, not a mixture's argmax."""
    fear = EmotionCode.from_emotion("fear", 1.0).to_arkit()
    during_p = fear.copy()  # a /p/ seals the lips: the stretch goes, the upper face stays
    during_p[[ARKIT_INDEX["mouthStretchLeft"], ARKIT_INDEX["mouthStretchRight"]]] = 0.0
    surprise = EmotionCode.from_emotion("surprise", 0.6).to_arkit()
    labels, probs = classify_arkit(np.stack([fear, during_p, surprise]), "emotion")
    assert labels == ["fear", "fear", "surprise"]
    assert np.allclose(probs.sum(1), 1.0) and probs[2].argmax() == EMOTIONS.index("surprise")
    weak = 0.1 * EmotionCode.from_emotion("anger", 1.0).to_arkit()
    assert classify_arkit(weak, "emotion")[0] == ["neutral"]


def test_parse_emotion_names_and_intensities():
    assert parse_emotion("anger:0.7").dominant() == ("anger", pytest.approx(0.7))
    assert parse_emotion(" Happy ").dominant() == ("happiness", 1.0)
    assert parse_emotion("neutral").to_arkit().sum() == 0
    with pytest.raises(ParameterError, match="not a number"):
        parse_emotion("anger:loud")
    with pytest.raises(ParameterError, match=r"\[0, 1\]"):
        parse_emotion("anger:3")
    with pytest.raises(ParameterError, match="unknown emotion 'rage'.*anger, contempt"):
        parse_emotion("rage:0.5")
    with pytest.raises(ParameterError, match="unknown emotion 'sadnes'; did you mean 'sadness'"):
        parse_emotion("sadnes:0.5")
    with pytest.raises(ParameterError, match="empty"):
        parse_emotion("  ")
    with pytest.raises(ParameterError, match="one emotion NAME:0..1 per value"):  # was "not a number"
        parse_emotion("happiness:0.5,anger:0.5")


def test_parse_emotion_au_and_arkit_weights():
    au = parse_emotion("AU12=0.6, AU6=0.4")
    assert au.to_au()[:25].tolist() == pytest.approx(au_vector({"AU12": 0.6, "AU6": 0.4})[:25].tolist(), abs=1e-5)
    assert parse_emotion({"AU12R": 0.8}).to_au()[25 + 8] == pytest.approx(0.8)  # right side of AU12 only
    jaw = parse_emotion("jawOpen=0.5").to_arkit()
    assert jaw[ARKIT_INDEX["jawOpen"]] > 0.3 and jaw[ARKIT_INDEX["mouthSmileLeft"]] == 0
    assert parse_emotion({"mouthSmile_L": 0.7, "mouthSmile_R": 0.7}).dominant()[0] == "happiness"
    with pytest.raises(ParameterError, match="unknown control name.*'smileyness'"):
        parse_emotion("smileyness=0.5")
    with pytest.raises(ParameterError, match="unknown Action Unit 'AU99'"):
        parse_emotion({"AU99": 0.5})
    with pytest.raises(ParameterError, match=r"\[0, 1\]"):
        parse_emotion("AU12=1.5")
    with pytest.raises(ParameterError, match="'AU12' is given twice"):  # the last one won without a word
        parse_emotion("AU12=0.3,AU12=0.9")
    with pytest.raises(ParameterError, match="not both"):
        parse_emotion({"AU12": 0.5, "jawOpen": 0.2})


def test_parse_emotion_codes_tracks_and_text(tmp_path):
    code = EmotionCode.from_emotion("fear", 0.4)
    assert parse_emotion(code) is code and parse_emotion(None) is None
    assert parse_emotion(code.vector).dominant() == ("fear", pytest.approx(0.4))
    per_frame = parse_emotion(np.zeros((5, EMOTION_CODE_DIM)))
    assert per_frame.shape == (5, EMOTION_CODE_DIM) and per_frame.dtype == np.float32
    with pytest.raises(ParameterError, match="got shape"):
        parse_emotion(np.zeros(12))
    keys = [{"t": 0.0, "emotion": "neutral"}, {"t": 1.0, "emotion": "anger", "intensity": 0.8}]
    track = parse_emotion(keys)
    assert isinstance(track, EmotionTrack) and track.codes_at([1.0])[0][0] == pytest.approx(0.8)
    path = tmp_path / "track.json"
    path.write_text(json.dumps(keys))
    assert np.allclose(parse_emotion(str(path)).codes, track.codes) and np.allclose(
        parse_emotion(path).codes, track.codes
    )
    with pytest.raises(MissingFileError, match="nope.json"):
        parse_emotion(str(tmp_path / "nope.json"))
    assert parse_emotion("a big happy smile").dominant()[0] == "happiness"
    # inline JSON and a track file named otherwise were read as a few words ("anger:0.58" and a residual; an error)
    assert np.allclose(parse_emotion(json.dumps(keys)).codes, track.codes)
    (tmp_path / "track.txt").write_text(json.dumps(keys))
    assert np.allclose(parse_emotion(str(tmp_path / "track.txt")).codes, track.codes)
    assert parse_emotion('{"AU12": 0.6}').dominant()[0] == "happiness"
    with pytest.raises(ParameterError, match="not valid JSON"):
        parse_emotion('[{"t": 0,')
    with pytest.raises(ParameterError, match=r"""words go in 'text': \{"t": 2, "text": "can't stop grinning"\}"""):
        parse_emotion([{"t": 2, "emotion": "can't stop grinning"}])  # said only "unknown emotion label"


def test_track_arguments_are_tracks_in_any_form_and_nothing_else(tmp_path):
    keys = [{"t": 0, "emotion": "neutral"}, {"t": 1.0, "emotion": "happiness", "intensity": 0.5}]
    (tmp_path / "good.txt").write_text(json.dumps(keys))  # a track file of any name
    tracks = [parse_emotion_track(v) for v in (keys, {"keys": keys}, json.dumps(keys), tmp_path / "good.txt")]
    for track in tracks:
        assert np.allclose(track.codes, tracks[0].codes) and list(track.times) == [0.0, 1.0]
    # a name or words are not a track (they were read as one constant emotion)
    for value in ("happiness:0.5", "a shy smile"):
        with pytest.raises(ParameterError, match="--emotion"):
            parse_emotion_track(value, source="--emotion-track")
    with pytest.raises(MissingFileError, match="nope.json"):
        parse_emotion_track("nope.json")
    with pytest.raises(ParameterError, match="not valid JSON"):
        parse_emotion_track('[{"t": 0, "emotion": }]')
    with pytest.raises(ParameterError, match="keys"):
        parse_emotion_track({"t": 0})
    assert parse_emotion_track(None) is None


def test_track_eases_between_keys(tmp_path):
    path = tmp_path / "track.json"
    path.write_text(json.dumps([{"t": 1.0, "emotion": "anger", "intensity": 0.8}, {"t": 0.0, "emotion": "neutral"}]))
    track = EmotionTrack.from_json(path)
    codes = track.codes_at(np.linspace(-1, 2, 31))
    anger = codes[:, 0]
    assert anger[0] == 0 and anger[-1] == pytest.approx(0.8) and np.all(np.diff(anger) >= -1e-7)
    assert as_code_track(None, np.zeros(3)).shape == (3, 57)
    assert codes_to_arkit(codes).shape == (31, 52)
    with pytest.raises(MissingFileError):
        EmotionTrack.from_json(tmp_path / "none.json")
    bad = tmp_path / "bad.json"
    bad.write_text("{")
    with pytest.raises(FileFormatError, match="bad.json"):
        EmotionTrack.from_json(bad)
    with pytest.raises(ParameterError, match="needs one of 'emotion'"):
        EmotionTrack([{"t": 0}])


@pytest.mark.parametrize(
    "text,emotion",
    [("a shy smile", "happiness"), ("very angry", "anger"), ("terrified", "fear"), ("slightly sad", "sadness"),
     ("disgusted", "disgust"), ("astonished", "surprise"), ("a smirk", "contempt")],
)  # fmt: skip
def test_text_maps_to_the_expected_emotion(text, emotion):
    assert EmotionCode.from_text(text).dominant()[0] == emotion


def test_text_intensity_words_scale():
    slight = EmotionCode.from_text("slightly happy").to_au()
    very = EmotionCode.from_text("very happy").to_au()
    assert very.sum() > slight.sum() > 0
    assert au_vector({"AU12": 1}).shape == slight.shape
    with pytest.raises(ParameterError):
        EmotionCode.from_text("  ")


@pytest.mark.parametrize(
    "key,message",
    [({"t": 0, "au": {"AU12": "high"}}, "weight of 'AU12' must be a number"),
     ({"t": 0, "emotion": "anger", "intensity": "high"}, "intensity must be a number"),
     ({"t": float("nan"), "emotion": "anger"}, "finite"),
     ({"t": -1, "emotion": "anger"}, ">= 0 seconds"),
     ({"t": 0, "emotion": "anger", "extra": 5}, "unknown field"),
     ({"t": 0, "emotion": "anger", "text": "a smile"}, "needs one of")],
)  # fmt: skip
def test_track_keys_are_checked_and_errors_name_the_key(key, message):
    with pytest.raises(ParameterError, match=message):
        EmotionTrack([{"t": 0, "emotion": "neutral"}, key])


@pytest.mark.parametrize(
    "key,message",
    [({"t": 0, "emotion": "glee"}, "unknown emotion label 'glee'"),
     ({"t": 0, "emotion": "anger", "intensity": 5}, r"intensity must lie in \[0, 1\]"),
     ({"t": 0, "text": ""}, "expected a few words")],
)  # fmt: skip
def test_a_track_files_bad_emotion_or_text_names_the_file_and_key(tmp_path, key, message):
    # these said only "unknown emotion label 'glee'": which of a studio's hundred track files, which key?
    path = tmp_path / "line_042.json"
    path.write_text(json.dumps([{"t": 0, "emotion": "neutral"}, key]))
    with pytest.raises(ParameterError, match=rf"line_042\.json: key 1: .*{message}"):
        EmotionTrack.from_json(path)


def test_track_keys_take_au_assignments_and_print_reproducibly():
    track = EmotionTrack([{"t": 0, "au": "AU12=0.8"}, {"t": 2, "emotion": "anger"}])
    np.testing.assert_allclose(track.codes[0], EmotionCode.from_au({"AU12": 0.8}).vector)
    assert repr(track) == "EmotionTrack(2 keys, t 0..2 s)"  # no object address in files that record it


def test_assignments_in_any_spacing_are_assignments_and_bad_values_say_so():
    # these fell through to the text reader ("nearest: 'confused, puzzled'") or came back NaN
    same = parse_emotion("AU12=0.6,AU6=0.3").vector
    for text in ("AU12=0.6 AU6=0.3", "AU12 = 0.6, AU6=0.3", "AU12=0.6,,AU6=0.3"):
        assert np.allclose(parse_emotion(text).vector, same), text
    for text, message in (("AU12=nan", "finite"), ("AU12=abc", "not a number"), ("jawOpen=inf", "finite")):
        with pytest.raises(ParameterError, match=message):
            parse_emotion(text)


def test_a_track_file_saved_with_a_byte_order_mark_reads(tmp_path):
    # Notepad's "UTF-8 with BOM" (PowerShell's Set-Content -Encoding UTF8): `talk --emotion-track` and the studio's
    # track file said "not valid JSON (Unexpected UTF-8 BOM ...)"
    keys = [{"t": 0, "emotion": "neutral"}, {"t": 1.0, "text": "a shy smile — gentle"}]
    path = tmp_path / "track.json"
    path.write_text(json.dumps(keys, ensure_ascii=False), encoding="utf-8-sig")
    plain = tmp_path / "plain.json"
    plain.write_text(json.dumps(keys, ensure_ascii=False), encoding="utf-8")
    for value in (path, str(path)):
        track = parse_emotion_track(value, source="--emotion-track")
        assert list(track.times) == [0.0, 1.0] and np.allclose(track.codes, EmotionTrack.from_json(plain).codes)


def test_the_gaze_region_is_the_eight_eyelook_channels_apart_from_the_others():
    from facecraft.rigs import ARKIT_NAMES
    from facecraft.rigs.emotion_space import region_mask

    gaze = region_mask("gaze")
    assert [n for n, g in zip(ARKIT_NAMES, gaze, strict=True) if g] == [n for n in ARKIT_NAMES if "eyeLook" in n]
    assert gaze.sum() == 8
    for other in ("emotion", "speech", "full"):
        assert not np.any(gaze & region_mask(other))


def test_emotion_record_keeps_what_was_asked_and_is_json():
    from facecraft.rigs.emotion_space import emotion_record

    assert emotion_record(None) is None
    assert emotion_record("  a shy smile ") == "a shy smile"
    assert emotion_record({"AU12": np.float32(0.6)}) == {"AU12": pytest.approx(0.6)}
    keys = [{"t": 0, "emotion": "happiness"}, {"t": 2, "emotion": "fear", "intensity": 0.4}]
    assert emotion_record(keys) == keys
    # objects (an API caller's code or track) by what they hold, never a Python repr
    assert emotion_record(EmotionCode.from_emotion("anger", 0.7)) == "anger:0.70"
    assert emotion_record(parse_emotion("a shy smile")).endswith("+ AU residual")
    assert emotion_record(EmotionTrack(keys)) == "track of 2 keys, t 0..2 s"
    for value in ("anger:0.7", {"AU12": 0.6}, keys, EmotionTrack(keys)):
        json.dumps(emotion_record(value))


def test_assignments_may_be_separated_by_spaces_as_on_the_command_line():
    # a batch manifest's "au": "AU1=0.8 AU2=0.8" was "value of 'AU1' is not a number: '0.8 AU2=0.8'"
    from facecraft.rigs.emotion_space import parse_assignments

    assert parse_assignments("AU1=0.8 AU2=0.8") == parse_assignments("AU1=0.8,AU2=0.8") == {"AU1": 0.8, "AU2": 0.8}
    assert parse_assignments(["AU1 = 0.5,  AU6=0.2"]) == {"AU1": 0.5, "AU6": 0.2}
    with pytest.raises(ParameterError, match="'AU1' is not NAME=VALUE"):
        parse_assignments("AU1 0.8")
