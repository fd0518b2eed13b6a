"""Training augmentation of log-mel crops: channel (gain, tilt, noise floor, band limit) and pauses."""

from __future__ import annotations

import numpy as np
import pytest

from facecraft.audio2face import train_augment as ta
from facecraft.audio2face.features import LOGMEL_FLOOR
from facecraft.audio2face.teacher import SPEECH_INDEX
from facecraft.rigs import EMOTIONS


def test_channel_augmentation_changes_level_and_tilt_but_not_silence():
    rng = np.random.default_rng(0)
    floor = np.log(LOGMEL_FLOOR)
    feats = np.full((6, 80), floor, np.float32)
    feats[3:] = -5.0  # three speech frames after three silent ones
    out = ta.random_channel(feats, rng, noise=False)
    assert np.allclose(out[:3], floor, atol=1e-5)  # silence stays at the front-end's floor
    shift = out[3:] - feats[3:]
    assert np.allclose(shift, shift[0], atol=1e-4)  # one gain + tilt curve, the same in every frame
    slope = np.polyfit(np.arange(80), shift[0], 1)[0] * 79
    assert ta.CHANNEL_TILT[0] - 0.1 <= slope <= ta.CHANNEL_TILT[1] + 0.1
    noisy = ta.random_channel(feats, np.random.default_rng(1))
    assert ta.NOISE_LEVEL[0] - 3 < noisy[:3].mean() < ta.NOISE_LEVEL[1] + 3  # silence gets a noise floor
    assert noisy[:3, :4].mean() >= noisy[:3, -4:].mean() - 1.5  # rumble: low bands not below high ones


def test_noise_floor_is_drawn_from_its_generator():
    a = ta.noise_floor_power((5, 80), np.random.default_rng(7))
    b = ta.noise_floor_power((5, 80), np.random.default_rng(7))
    assert a.shape == (5, 80) and np.array_equal(a, b) and (a > 0).all()
    assert ta.NOISE_LEVEL[0] - 1 < np.log(a).mean() < ta.NOISE_LEVEL[1] + 1


def test_band_limit_removes_the_bands_outside_the_pass_band_only():
    resp = ta.band_limit_response(80, 300.0, 3400.0, 8.0)
    f = ta._mel_centres(80)
    assert resp[f < 150].max() < -7.0 and resp[f > 5000].max() < -7.0  # stop bands
    assert resp[(f > 600) & (f < 2500)].min() > -0.5  # pass band
    feats = np.full((4, 80), -5.0, np.float32)
    plain = ta.random_channel(feats, np.random.default_rng(3), noise=False)
    off = ta.random_channel(feats, np.random.default_rng(3), noise=False, band_limit=0.0)
    assert np.array_equal(plain, off)  # off draws nothing: earlier runs reproduce
    on = ta.random_channel(feats, np.random.default_rng(3), noise=False, band_limit=1.0)
    assert (on - plain)[:, f < 100].max() < -3.0


def test_pause_insertion_relaxes_the_mouth_and_keeps_lengths():
    rng = np.random.default_rng(0)
    feats = np.full((40, 80), -5.0, np.float32)  # loud speech everywhere
    teacher = np.full((len(EMOTIONS), 40, 52), 0.4, np.float32)
    teacher[:, :, 0] = np.linspace(0, 1, 40)  # a non-speech channel that runs on
    f, t = ta.insert_pause(feats, teacher, rng)
    assert f.shape == feats.shape and t.shape == teacher.shape and t.dtype == teacher.dtype
    quiet = np.where(f.mean(1) < -8.0)[0]
    assert ta.PAUSE_FRAMES[0] <= len(quiet) <= ta.PAUSE_FRAMES[1] and np.all(np.diff(quiet) == 1)
    middle = quiet[len(quiet) // 2]
    assert np.allclose(t[:, middle][:, SPEECH_INDEX], 0.0)  # neutral and emotions alike: no speech share here
    assert t[0, middle, 0] > t[0, quiet[0] - 1, 0]  # non-speech channels keep moving through the pause
    np.testing.assert_array_equal(f[: quiet[0]], feats[: quiet[0]])  # speech before the pause untouched


@pytest.mark.parametrize("length", [3, 8])
def test_pause_insertion_leaves_crops_too_short_for_a_pause(length):
    feats = np.full((length, 80), -5.0, np.float32)
    teacher = np.full((len(EMOTIONS), length, 52), 0.4, np.float32)
    f, t = ta.insert_pause(feats, teacher, np.random.default_rng(0))
    assert f is feats and t is teacher
