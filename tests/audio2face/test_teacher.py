"""The procedural teacher: lip closure, jaw opening, silence, emotion overlay, blinks, brows."""

from __future__ import annotations

import numpy as np
import pytest

from facecraft.audio2face.lip_state import CLOSURE_PRESS, is_sealed, lip_gap
from facecraft.audio2face.phonetics import Phone
from facecraft.audio2face.postprocess import blink_curve
from facecraft.audio2face.teacher import teacher_curves
from facecraft.audio2face.visemes import LIP_OPENING_CHANNELS
from facecraft.rigs import ARKIT_INDEX, ParameterError, weights_from_dict

JAW = ARKIT_INDEX["jawOpen"]
PUCKER = ARKIT_INDEX["mouthPucker"]
OPENING = [ARKIT_INDEX[n] for n in LIP_OPENING_CHANNELS]


def _seq(spec: str, *, step: float = 0.1, lead: float = 0.3) -> list[Phone]:
    """Phones from 'SIL AA M AA SIL' with ``step`` s each after ``lead`` s of silence."""
    phones, t = [Phone(0.0, lead, "SIL")], lead
    for name in spec.split():
        phones.append(Phone(round(t, 3), round(t + step, 3), name))
        t += step
    phones.append(Phone(round(t, 3), round(t + lead, 3), "SIL"))
    return phones


def _frames(phones, name, fps=30.0):
    times = np.arange(int(np.ceil(phones[-1].end * fps))) / fps
    return np.concatenate([np.flatnonzero((times >= p.start) & (times < p.end)) for p in phones if p.phone == name])


def test_shape_and_range():
    c = teacher_curves(_seq("HH AH L OW"), fps=30)
    assert c.shape == (int(np.ceil(1.0 * 30)), 52) and c.dtype == np.float32
    assert c.min() >= 0 and c.max() <= 1
    c60 = teacher_curves(_seq("HH AH L OW"), fps=60, duration=2.0)
    assert c60.shape == (120, 52)


def test_bilabial_closure_held_between_open_vowels():
    phones = _seq("AA M AA P AA B AA", step=0.12)
    c = teacher_curves(phones, blink=False)
    gap = lip_gap(c)
    for name in ("M", "P", "B"):
        idx = _frames(phones, name)
        assert len(idx) >= 3
        assert np.all(gap[idx] < 0.02), (name, gap[idx])
        assert np.all(is_sealed(c[idx])), name
        assert np.all(c[idx][:, OPENING] < 0.02), name  # every lip-parting channel is cleared
        assert np.all(c[idx, JAW] <= 0.06)
    assert not is_sealed(c[_frames(phones, "AA")]).any()
    vowels = _frames(phones, "AA")
    assert c[vowels, JAW].max() > 0.3  # the mouth really opens: jaw and lower lip
    assert c[vowels, ARKIT_INDEX["mouthLowerDownLeft"]].max() > 0.2
    assert np.median(gap[vowels]) > 0.2


def test_short_bilabial_still_closes_one_frame():
    phones = [Phone(0, 0.2, "AA"), Phone(0.2, 0.22, "B"), Phone(0.22, 0.4, "AA")]
    c = teacher_curves(phones, blink=False)
    gap = lip_gap(c)
    assert gap.min() < 0.02 and gap.max() > 0.3
    assert is_sealed(c).sum() >= 1


def test_rounding_is_anticipated():
    phones = _seq("S T UW", step=0.12)
    c = teacher_curves(phones, blink=False)
    st = _frames(phones, "T")
    ref = teacher_curves(_seq("S T IY", step=0.12), blink=False)
    assert c[st, PUCKER].mean() > ref[st, PUCKER].mean() + 0.1
    assert c[_frames(phones, "UW"), PUCKER].mean() > 0.5


def test_labiodental_and_dental():
    phones = _seq("AA F AA TH AA", step=0.12)
    c = teacher_curves(phones, blink=False)
    f = _frames(phones, "F")
    assert c[f, ARKIT_INDEX["mouthRollLower"]].mean() > 0.2 and c[f, ARKIT_INDEX["mouthUpperUpLeft"]].mean() > 0.1
    assert c[_frames(phones, "TH"), ARKIT_INDEX["tongueOut"]].mean() > 0.2


def test_jaw_drops_between_syllables_at_coronals_not_velars():
    """A speaking jaw closes for the consonant between two vowels (most for /s/, /t/), even when the consonant is
    short, and takes the vowels' height through a velar; the open vowels still open."""
    phones = [Phone(0.0, 0.3, "SIL")]
    t = 0.3
    for name, step in (("AA", 0.15), ("S", 0.07), ("AA", 0.15), ("T", 0.05), ("AA", 0.15), ("K", 0.07), ("AA", 0.15)):
        phones.append(Phone(round(t, 3), round(t + step, 3), name))
        t += step
    phones.append(Phone(round(t, 3), round(t + 0.3, 3), "SIL"))
    c = teacher_curves(phones, fps=60.0, blink=False)
    jaw = c[:, JAW]

    def at(name):
        return jaw[_frames(phones, name, fps=60.0)]

    vowel_peak = at("AA").max()
    assert vowel_peak > 0.35
    assert at("S").min() < 0.1 * vowel_peak and at("T").min() < 0.3 * vowel_peak
    assert at("K").min() > 0.5 * vowel_peak  # no jaw target of its own: it follows the vowels
    # each vowel between consonants still opens well past the consonants
    for p in (p for p in phones if p.phone == "AA"):
        idx = np.flatnonzero((np.arange(len(jaw)) / 60.0 >= p.start) & (np.arange(len(jaw)) / 60.0 < p.end))
        assert jaw[idx].max() > 0.3


def test_silence_gives_neutral_lower_face():
    c = teacher_curves([Phone(0, 2.0, "SIL")], blink=False)
    assert np.abs(c).max() < 1e-3
    phones = _seq("AA AA AA", lead=1.0)
    voiced = np.zeros(int(np.ceil(phones[-1].end * 30)))
    c = teacher_curves(phones, voiced=voiced, blink=False)
    assert c[:, JAW].max() < 0.05  # nothing voiced at all: the speech channels relax


def test_emotion_overlay_changes_upper_face_not_closure():
    phones = _seq("AA M AA P AA", step=0.12)
    smile = weights_from_dict({"mouthSmileLeft": 0.8, "mouthSmileRight": 0.8, "cheekSquintLeft": 0.6,
                               "browInnerUp": 0.7, "jawOpen": 0.5, "mouthLowerDownLeft": 0.4})  # fmt: skip
    base = teacher_curves(phones, blink=False)
    emo = teacher_curves(phones, emotion=smile, blink=False)
    upper = [ARKIT_INDEX[n] for n in ("browInnerUp", "cheekSquintLeft", "mouthSmileLeft")]
    assert np.all(emo[:, upper].mean(0) > base[:, upper].mean(0) + 0.4)
    for name in ("M", "P"):
        idx = _frames(phones, name)
        assert np.all(lip_gap(emo)[idx] < 0.02) and np.all(emo[idx][:, OPENING] < 0.02)
        assert np.all(is_sealed(emo[idx]))
    with pytest.raises(ParameterError, match="emotion"):
        teacher_curves(phones, emotion=np.zeros((3, 52)))


def test_blinks_natural_rate_and_seeded():
    b = blink_curve(30 * 600, 30.0, seed=3)
    onsets = np.flatnonzero((b[1:] > 0.5) & (b[:-1] <= 0.5))
    assert 120 <= len(onsets) <= 220  # 12-22 per minute over 10 minutes
    lengths = np.diff(np.flatnonzero(np.diff((b > 0.05).astype(int)) != 0))[::2] / 30.0
    assert lengths.max() <= 0.4
    assert np.array_equal(b, blink_curve(30 * 600, 30.0, seed=3))
    assert not np.array_equal(b, blink_curve(30 * 600, 30.0, seed=4))


def test_brows_follow_pitch():
    phones = _seq("AA " * 20, step=0.1)
    t = int(np.ceil(phones[-1].end * 30))
    pitch = np.full(t, 120.0)
    pitch[30:40] = 200.0  # a pitch accent
    c = teacher_curves(phones, pitch=pitch, blink=False)
    brow = c[:, ARKIT_INDEX["browInnerUp"]]
    assert brow[30:40].mean() > 0.15 and brow[60:].max() < 0.02


def test_bad_inputs():
    with pytest.raises(ParameterError, match="fps"):
        teacher_curves(_seq("AA"), fps=0)
    with pytest.raises(ParameterError, match=r"phones\[0\]"):
        teacher_curves([(0.5, 0.1, "AA")])
    with pytest.raises(ParameterError, match="ARPAbet"):
        teacher_curves([Phone(0, 0.1, "QQ")])


def test_emotion_forms_agree():
    from facecraft.rigs.emotion_space import EmotionCode, EmotionTrack

    phones = _seq("HH AH L OW", step=0.12)
    code = EmotionCode.from_emotion("sadness", 0.8)
    a = teacher_curves(phones, emotion=code, blink=False)
    t = a.shape[0]
    b = teacher_curves(phones, emotion=EmotionTrack([{"t": 0, "emotion": "sadness", "intensity": 0.8}]), blink=False)
    c = teacher_curves(phones, emotion=np.repeat(code.vector[None], t, 0), blink=False)
    np.testing.assert_allclose(a, b, atol=1e-6)
    np.testing.assert_allclose(a, c, atol=1e-6)
    assert a[:, ARKIT_INDEX["browInnerUp"]].mean() > 0.3  # sadness raises the inner brows


# --- on speech, through rigs -------------------------------------------------------------------------------


def _scores(anim, phones, rig):
    from facecraft.audio2face.metrics import inner_lip_gap, score_lip_sync

    gap = 1000.0 * inner_lip_gap(rig, anim.curves)
    return gap, score_lip_sync(rig, anim.curves, phones, fps=anim.fps, closed_mm=1.5)


def test_animator_on_espeak_speech_closes_and_opens_the_default_rig(espeak_speech):
    from facecraft.audio2face.audio import load_audio
    from facecraft.audio2face.metrics import rest_gap
    from facecraft.audio2face.phonetics import align_transcript
    from facecraft.audio2face.teacher import ProceduralAnimator
    from facecraft.rigs.default_rig import default_rig

    y, sr = load_audio(espeak_speech.path)
    y = np.concatenate([np.zeros(sr, np.float32), y, np.zeros(sr, np.float32)])  # a second of silence each side
    anim = ProceduralAnimator(fps=30).animate(y, sr, transcript=espeak_speech.text, emotion="happiness:0.5")
    assert anim.curves.shape == (int(np.ceil(len(y) / sr * 30)), 52)
    assert anim.meta["phones"] == "align"
    assert anim.mouth_cues[0]["value"] == "X" and "A" in {c["value"] for c in anim.mouth_cues}
    phones = align_transcript(y, sr, transcript=espeak_speech.text).phones
    rig = default_rig()
    gap, s = _scores(anim, phones, rig)
    neutral_gap = 1000.0 * rest_gap(rig)
    assert s.num_bilabials >= 8 and s.closure_rate >= 0.9
    assert s.open_vowel_mean_mm > neutral_gap + 5  # the mouth really opens
    # silence at both ends: the lower face rests (emotion's smile stays, lips rest at the neutral gap)
    assert np.abs(gap[:20] - neutral_gap).max() < 1.5 and np.abs(gap[-20:] - neutral_gap).max() < 1.5
    assert anim.curves[:20, ARKIT_INDEX["jawOpen"]].max() < 0.05
    assert anim.curves[:, ARKIT_INDEX["mouthSmileLeft"]].mean() > 0.3


def test_silent_audio_gives_neutral_face():
    from facecraft.audio2face.teacher import ProceduralAnimator

    anim = ProceduralAnimator(fps=30, seed=1).animate(np.zeros(16000 * 3, np.float32), 16000)
    assert anim.num_frames == 90 and anim.meta["phones"] == "silence"
    lower = [i for i in range(52) if i not in (ARKIT_INDEX["eyeBlinkLeft"], ARKIT_INDEX["eyeBlinkRight"])]
    assert np.abs(anim.curves[:, lower]).max() < 1e-3
    assert [c["value"] for c in anim.mouth_cues] == ["X"]


def test_long_file_streams_in_blocks(tmp_path, espeak_speech):
    import soundfile as sf

    from facecraft.audio2face.audio import load_audio
    from facecraft.audio2face.teacher import ProceduralAnimator

    y, sr = load_audio(espeak_speech.path)
    pad = np.zeros(sr - len(y) % sr, np.float32)
    clip = np.concatenate([y, pad])  # whole seconds; the file holds this clip 3 times, one block each
    path = tmp_path / "long.wav"
    sf.write(path, np.concatenate([clip, clip, clip]), sr)
    animator = ProceduralAnimator(fps=30, pitch_method=None, vad_method="energy")
    anim = animator.animate_file(path, block_seconds=len(clip) / sr)
    assert anim.num_frames == int(np.ceil(3 * len(clip) / sr * 30))
    third = anim.num_frames // 3
    # each block holds the same speech: the jaw moves in every block, and cues run on the file's clock
    for k in range(3):
        assert anim.curves[k * third : (k + 1) * third, ARKIT_INDEX["jawOpen"]].max() > 0.3
    ends = [c["end"] for c in anim.mouth_cues]
    assert ends == sorted(ends) and ends[-1] == pytest.approx(3 * len(clip) / sr, abs=0.02)
    assert sum(c["value"] == "A" for c in anim.mouth_cues) >= 3


def test_teacher_on_real_speech_clips(speech_clips):
    from facecraft.audio2face.audio import load_audio
    from facecraft.audio2face.metrics import rest_gap, score_lip_sync
    from facecraft.audio2face.phonetics import speech_phones
    from facecraft.audio2face.prosody import voice_activity
    from facecraft.rigs.default_rig import default_rig

    rig = default_rig()
    neutral_gap = 1000.0 * rest_gap(rig)
    closed = total = 0
    for path, text in speech_clips[::6]:
        y, sr = load_audio(path)
        res = speech_phones(y, sr, transcript=text)
        voiced = voice_activity(y, sr, fps=30, method="energy")
        c = teacher_curves(res.phones, fps=30, duration=len(y) / sr, voiced=voiced)
        s = score_lip_sync(rig, c, res.phones, fps=30, closed_mm=1.5)
        if s.num_bilabials:
            closed += s.closure_rate * s.num_bilabials
            total += s.num_bilabials
        assert s.open_vowel_mean_mm > neutral_gap + 5
    assert total >= 10 and closed / total >= 0.9


def test_closure_on_the_ict_reference_rig(shared_dir):
    from facecraft.audio2face.metrics import score_lip_sync

    folder = shared_dir / "assets" / "ict-facekit" / "FaceXModel"
    if not folder.is_dir():
        pytest.skip(f"{folder} not present")
    from facecraft.rigs.ict import load_ict_rig

    rig = load_ict_rig(folder, face_only=True)
    phones = _seq("AA M AA P AA B AA", step=0.12)
    c = teacher_curves(phones, blink=False)
    s = score_lip_sync(rig, c, phones, fps=30, closed_mm=1.5)
    assert s.num_bilabials == 3 and s.closure_rate == 1.0
    assert s.open_vowel_mean_mm > 10


def test_disgust_still_closes_the_lips_on_bilabials():
    """noseSneer lifts the upper lip; during /p b m/ it yields so the emotion never breaks lip sync."""
    from facecraft.audio2face.metrics import score_lip_sync
    from facecraft.audio2face.postprocess import closure_priority
    from facecraft.rigs import EmotionCode, classify_arkit
    from facecraft.rigs.default_rig import default_rig

    phones = _seq("AA M AA P AA B AA", step=0.12)
    disgust = EmotionCode.from_emotion("disgust", 1.0)
    c = teacher_curves(phones, blink=False, emotion=disgust)
    rig = default_rig()
    assert score_lip_sync(rig, c, phones, fps=30).closure_rate == 1.0
    assert classify_arkit(c, "emotion")[0].count("disgust") >= 0.9 * len(c)
    # the post-process of a model trained on this teacher finds the same sealed frames from the curves alone
    unsealed = c.copy()
    unsealed[:, [ARKIT_INDEX["noseSneerLeft"], ARKIT_INDEX["noseSneerRight"]]] = 1.0
    assert score_lip_sync(rig, unsealed, phones, fps=30).closure_rate == 0.0
    fixed = closure_priority(unsealed, model_press=CLOSURE_PRESS)
    assert score_lip_sync(rig, fixed, phones, fps=30).closure_rate == 1.0


def test_louder_vowels_open_wider_and_closures_hold():
    from facecraft.audio2face.teacher import VOWEL_OPEN_RANGE, vowel_open_scales

    phones = _seq("AA M AA M AA", step=0.2)
    t = int(np.ceil(phones[-1].end * 30))
    times = np.arange(t) / 30
    vowels = [p for p in phones if p.phone == "AA"]
    loud = np.full(t, 0.2, np.float32)
    loud[(times >= vowels[1].start) & (times < vowels[1].end)] = 0.5  # the middle vowel ~10 dB louder
    scales = vowel_open_scales(phones, loud, fps=30)
    assert [s for p, s in zip(phones, scales, strict=True) if p.phone != "AA"] == [1.0] * 4  # consonants, silences
    assert scales[1] == scales[5] == pytest.approx(1.0) and scales[3] == pytest.approx(VOWEL_OPEN_RANGE[1])
    assert VOWEL_OPEN_RANGE[0] <= min(scales) and max(scales) <= VOWEL_OPEN_RANGE[1]
    flat = teacher_curves(phones, blink=False)
    c = teacher_curves(phones, loudness=loud, blink=False)
    mid = _frames([vowels[1]], "AA")
    lower = ARKIT_INDEX["mouthLowerDownLeft"]
    assert c[mid, JAW].max() > flat[mid, JAW].max() + 0.05 and c[mid, lower].max() > flat[mid, lower].max()
    assert np.all(is_sealed(c[_frames(phones, "M")]))  # loudness never opens a bilabial closure
    np.testing.assert_array_equal(teacher_curves(phones, loudness=np.full(t, 0.3), blink=False), flat)
    with pytest.raises(ParameterError, match="loudness"):
        teacher_curves(phones, loudness=[0.5], blink=False)
