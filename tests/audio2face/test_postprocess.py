"""Shared post-processing: closure priority, blinks, silence; and the module graph it untangles."""

from __future__ import annotations

import subprocess
import sys

import numpy as np

from facecraft.audio2face import postprocess as pp
from facecraft.rigs import ARKIT_INDEX

SNEER = [ARKIT_INDEX["noseSneerLeft"], ARKIT_INDEX["noseSneerRight"]]


def test_closure_priority_yields_lip_lift_and_parting_only_where_sealed():
    from facecraft.audio2face.visemes import LIP_OPENING_CHANNELS

    c = np.zeros((2, 52), np.float32)
    c[:, SNEER] = 0.8
    parting = [ARKIT_INDEX[n] for n in LIP_OPENING_CHANNELS]
    c[:, parting] = 0.2  # e.g. mouthLowerDown smoothed over from the neighbouring vowels
    c[0, [ARKIT_INDEX["mouthPressLeft"], ARKIT_INDEX["mouthPressRight"]]] = 0.35  # sealed (gap 0, pressed)
    c[1, ARKIT_INDEX["jawOpen"]] = 0.5  # open
    out = pp.closure_priority(c)
    assert np.allclose(out[0, SNEER], 0.8 * (1 - pp.LIP_LIFT_YIELD))
    assert np.allclose(out[0, parting], 0.0)  # sealed: the lips do not part
    assert np.allclose(out[1, SNEER], 0.8) and np.allclose(out[1, parting], 0.2)  # open: untouched
    changed = SNEER + parting
    assert np.array_equal(np.delete(out, changed, axis=1), np.delete(c, changed, axis=1))


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
