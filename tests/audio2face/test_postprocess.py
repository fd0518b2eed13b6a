"""Shared post-processing: closure priority, blinks, silence; and the module graph it untangles."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from facecraft.audio2face import postprocess as pp
from facecraft.audio2face.lip_state import CLOSURE_PRESS, is_sealed
from facecraft.rigs import ARKIT_INDEX
from facecraft.rigs.errors import FileFormatError, ParameterError

SNEER = [ARKIT_INDEX["noseSneerLeft"], ARKIT_INDEX["noseSneerRight"]]


PRESS = [ARKIT_INDEX["mouthPressLeft"], ARKIT_INDEX["mouthPressRight"]]


def test_closure_priority_yields_lip_lift_and_parting_only_where_sealed():
    from facecraft.audio2face.visemes import LIP_OPENING_CHANNELS

    c = np.zeros((3, 52), np.float32)
    c[:, SNEER] = 0.8
    c[2, SNEER] = 0.1  # a light sneer a seal tolerates
    parting = [ARKIT_INDEX[n] for n in LIP_OPENING_CHANNELS]
    c[:, parting] = 0.02  # e.g. mouthLowerDown smoothed over from the neighbouring vowels
    c[np.ix_([0, 2], PRESS)] = pp.MODEL_CLOSURE_PRESS  # sealed (gap ~0, pressed as the model's teacher pressed)
    c[1, ARKIT_INDEX["jawOpen"]] = 0.5  # open
    out = pp.closure_priority(c)
    assert np.allclose(out[0, SNEER], pp.LIP_LIFT_SEALED)  # held down to what a seal tolerates, no further
    assert np.allclose(out[2, SNEER], 0.1)
    assert np.allclose(out[0, parting], 0.0)  # sealed: the lips do not part
    assert np.allclose(out[1, SNEER], 0.8) and np.allclose(out[1, parting], 0.02)  # open: untouched
    assert np.allclose(out[:, PRESS], c[:, PRESS] * CLOSURE_PRESS / pp.MODEL_CLOSURE_PRESS)
    changed = SNEER + parting + PRESS
    assert np.array_equal(np.delete(out, changed, axis=1), np.delete(c, changed, axis=1))


def test_shut_lips_hold_the_sneer_down_even_when_the_press_falls_short():
    """A model's /p b m/ may close the lips with less press than a full seal: the sneer still yields there (it
    would part the closed lips), while the lip-parting channels are cleared only in proportion to the seal."""
    from facecraft.audio2face.lip_state import PRESSED, UNPRESSED

    c = np.zeros((3, 52), np.float32)
    c[:, SNEER] = 0.8
    low = ARKIT_INDEX["mouthLowerDownLeft"]
    c[:, low] = 0.02
    c[0, PRESS] = 0.0  # shut, not pressed at all
    c[1, PRESS] = 0.5 * (UNPRESSED + PRESSED) * pp.MODEL_CLOSURE_PRESS / CLOSURE_PRESS  # shut, half pressed
    c[2, ARKIT_INDEX["jawOpen"]] = 0.5  # open
    out = pp.closure_priority(c)
    assert np.allclose(out[:2][:, SNEER], pp.LIP_LIFT_SEALED)
    assert np.allclose(out[0, low], 0.02) and np.allclose(out[1, low], 0.01)  # cleared as far as the seal holds
    assert np.allclose(out[2, SNEER], 0.8) and np.allclose(out[2, low], 0.02)


def test_a_model_pressing_like_its_teacher_is_rescaled_to_the_current_press():
    c = np.zeros((2, 52), np.float32)
    c[0, PRESS] = 0.35
    assert np.allclose(pp.rescale_press(c, model_press=0.35)[0, PRESS], CLOSURE_PRESS)
    assert np.array_equal(pp.rescale_press(c, model_press=CLOSURE_PRESS), c)  # a model of the current teacher
    assert is_sealed(pp.rescale_press(c, model_press=0.35))[0] and not is_sealed(pp.rescale_press(c))[1]
    with pytest.raises(ParameterError, match="model_press"):
        pp.rescale_press(c, model_press=0.0)


def test_the_model_press_is_read_from_the_weights_meta(tmp_path):
    cfg = tmp_path / "a2f.json"
    cfg.write_text(json.dumps({"hidden": 16, "meta": {"teacher": {"closure_press": 0.06}, "train": {}}}))
    assert pp.weights_closure_press(cfg) == 0.06
    assert pp.meta_closure_press({"train": {"steps": 3000}}) == pp.LEGACY_CLOSURE_PRESS  # weights from before it
    shipped = json.loads((Path(pp.__file__).with_name("default_a2f.json")).read_text())["meta"]
    assert pp.MODEL_CLOSURE_PRESS == pp.meta_closure_press(shipped)
    cfg.write_text("{not json")
    with pytest.raises(FileFormatError, match="a2f.json"):
        pp.weights_closure_press(cfg)


def test_a_full_disgust_held_at_the_seal_floor_still_reads_as_disgust():
    """The sneer floor is high enough for the disgust prototype (frown + sneer) to read as disgust."""
    from facecraft.rigs import EmotionCode, classify_arkit
    from facecraft.rigs.emotion_space import codes_to_arkit

    face = np.asarray(codes_to_arkit(EmotionCode.from_emotion("disgust", 1.0).vector[None]), np.float32).reshape(1, 52)
    sealed = face.copy()
    sealed[0, PRESS] = CLOSURE_PRESS
    held = pp.yield_lip_lift(sealed, np.ones(1, np.float32))
    assert np.allclose(held[0, SNEER], pp.LIP_LIFT_SEALED) and face[0, SNEER].min() > pp.LIP_LIFT_SEALED
    assert classify_arkit(held, "emotion")[0] == ["disgust"]


def test_blinks_are_seeded_and_wide_eyes_yield():
    c = np.zeros((30 * 20, 52), np.float32)
    c[:, ARKIT_INDEX["eyeWideLeft"]] = 0.5
    a = pp.add_blinks(c, fps=30.0, seed=1)
    bl = pp.blink_curve(len(c), 30.0, seed=1)
    assert np.array_equal(a[:, ARKIT_INDEX["eyeBlinkLeft"]], bl) and bl.max() > 0.9
    assert np.allclose(a[:, ARKIT_INDEX["eyeWideLeft"]], 0.5 * (1 - bl))
    assert np.array_equal(a, pp.add_blinks(c, fps=30.0, seed=1))
    assert not np.array_equal(a, pp.add_blinks(c, fps=30.0, seed=2))


def test_silence_gives_zeros_and_speech_passes():
    v = np.ones((3, 52), np.float32)
    assert not pp.neutral_if_silent(v, 0.5 * pp.SILENCE_PEAK).any()
    assert np.array_equal(pp.neutral_if_silent(v, pp.audio_peak(np.array([0.0, -0.2]))), v)


def test_streaming_and_offline_inference_import_no_cycle():
    """stream.py uses the shared post-processing without importing animate.py (the old cycle)."""
    code = "import sys, facecraft.audio2face.stream; print('facecraft.audio2face.animate' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def test_an_emotion_code_splits_into_its_categories_and_the_rest():
    from facecraft.audio2face.postprocess import OVERLAY_INDEX, split_emotion_codes
    from facecraft.rigs import EmotionCode
    from facecraft.rigs.emotion_space import codes_to_arkit

    plain = EmotionCode.from_emotion("anger", 0.7).vector
    categories, extra = split_emotion_codes(plain[None])
    np.testing.assert_array_equal(categories[0], plain)  # what the model was trained on passes as it is
    assert np.abs(extra).max() == 0.0
    own = EmotionCode.from_arkit(np.eye(52, dtype=np.float32)[ARKIT_INDEX["mouthSmileLeft"]] * 0.8).vector
    categories, extra = split_emotion_codes(np.stack([own, own]))
    assert categories[:, 7:].max() == 0.0 and categories[:, :7].max() > 0  # the smile's happiness share
    np.testing.assert_allclose(codes_to_arkit(categories) + extra, codes_to_arkit(np.stack([own, own])), atol=1e-6)
    assert ARKIT_INDEX["mouthSmileLeft"] in OVERLAY_INDEX and ARKIT_INDEX["jawOpen"] not in OVERLAY_INDEX


def test_the_opening_gain_widens_parted_lips_and_leaves_shut_ones():
    from facecraft.audio2face.lip_state import lip_gap, shut_weight

    curves = np.zeros((3, 52), np.float32)
    curves[0, ARKIT_INDEX["jawOpen"]] = 0.02  # a seal
    curves[1, ARKIT_INDEX["jawOpen"]] = 0.3  # an open vowel
    curves[1, pp.OPENING_INDEX[1:]] = 0.2
    curves[2, ARKIT_INDEX["mouthSmileLeft"]] = 0.5  # not an opening channel
    gains = np.array([1.2, 1.5, 1.5, 1.5, 1.5], np.float32)
    out = pp.restore_opening(curves, gains)
    assert shut_weight(curves)[0] == 1.0 and np.array_equal(out[0], curves[0])
    np.testing.assert_allclose(out[1, pp.OPENING_INDEX], curves[1, pp.OPENING_INDEX] * gains, rtol=1e-6)
    assert lip_gap(out[1]) > lip_gap(curves[1])
    np.testing.assert_array_equal(out[2], curves[2])
    np.testing.assert_array_equal(pp.restore_opening(curves, None), curves)


def test_opening_gains_are_read_from_the_weights_meta_and_checked():
    names = pp.OPENING_CHANNELS
    assert pp.meta_opening_gains({}) is None  # weights calibrated before: no gain
    gains = pp.meta_opening_gains({"opening_gain": dict.fromkeys(names, 1.3)})
    np.testing.assert_allclose(gains, 1.3)
    with pytest.raises(FileFormatError, match="a gain for each"):
        pp.meta_opening_gains({"opening_gain": {"jawOpen": 1.1}})
    with pytest.raises(FileFormatError, match="must lie in"):
        pp.meta_opening_gains({"opening_gain": dict.fromkeys(names, 5.0)})
    shipped = json.loads((Path(pp.__file__).with_name("default_a2f.json")).read_text())["meta"]
    assert np.all(pp.meta_opening_gains(shipped) > 1.0)  # the shipped model parts its lips less than its teacher


def test_each_line_blinks_at_its_own_moments():
    # one fixed seed made every line (and every talking portrait) blink at the same moments: first at 2.4 s
    from facecraft.audio2face.postprocess import blink_curve, line_seed

    rng = np.random.default_rng(3)
    lines = [rng.normal(0, 0.1, 16000 * 3 + 37 * i).astype(np.float32) for i in range(6)]
    seeds = [line_seed(0, y) for y in lines]
    assert len(set(seeds)) == 6 and seeds[0] == line_seed(0, 0.1 * lines[0])  # the same line, quieter: the same
    assert line_seed(1, lines[0]) != seeds[0]  # the user's seed still counts
    firsts = {int(np.argmax(blink_curve(30 * 20, 30.0, seed=s) > 0.5)) for s in seeds}
    assert len(firsts) >= 5
