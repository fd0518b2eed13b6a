"""The audio2face benchmark's building blocks: recording conditions, alignment once, robustness scores."""

from __future__ import annotations

import numpy as np

from facecraft.audio2face import bench

from .a2f_helpers import tiny_model


def test_conditions_change_the_recording_as_named():
    rng = np.random.default_rng(0)
    t = np.arange(16000) / 16000
    y = (0.1 * np.sin(2 * np.pi * 100 * t) + 0.1 * np.sin(2 * np.pi * 1000 * t)).astype(np.float32)
    quiet = bench.CONDITIONS["-12 dB"](y, rng)
    assert np.allclose(quiet, y * 10 ** (-12 / 20), atol=1e-7)
    noisy = bench.CONDITIONS["white noise 20 dB SNR"](y, rng)
    snr = 10 * np.log10(np.mean(y**2) / np.mean((noisy - y) ** 2))
    assert 19 < snr < 21
    phone = bench.CONDITIONS["telephone band 300-3400 Hz"](y, rng)
    spec = np.abs(np.fft.rfft(phone[4000:]))
    freqs = np.fft.rfftfreq(len(phone) - 4000, 1 / 16000)
    assert spec[np.argmin(abs(freqs - 100))] < 0.1 * spec[np.argmin(abs(freqs - 1000))]  # 100 Hz removed


def test_robustness_scores_each_condition_on_aligned_speech(espeak_speech):
    aligned = bench.aligned_clips([("espeak", espeak_speech.path, espeak_speech.text)])
    assert len(aligned) == 1 and any(p.phone in ("B", "M", "P") for p in aligned[0][3])
    res = bench.bench_robustness(tiny_model(), bench._rigs()["default"], aligned)
    assert set(res) == set(bench.CONDITIONS)
    for v in res.values():
        assert 0.0 <= v["bilabial_closure_rate"] <= 1.0 and 0.0 <= v["open_vowel_open_rate"] <= 1.0
