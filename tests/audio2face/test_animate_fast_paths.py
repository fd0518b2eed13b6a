"""The speed-ups of the animation path change no value: the log-mel front-end equals librosa's bit for bit
(it only skips librosa's import), and animating a file no longer imports librosa at all."""

from __future__ import annotations

import subprocess
import sys
import warnings

import numpy as np
import pytest

from facecraft.audio2face.features import (
    LOGMEL_FMAX,
    LOGMEL_HOP,
    LOGMEL_WINDOW,
    LogMel,
    hann_window,
    mel_filters,
    mel_power,
)

librosa = pytest.importorskip("librosa")


def _speechy(n: int, seed: int = 0) -> np.ndarray:
    """Harmonics under a syllable envelope plus a little noise, float32, ``n`` samples at 16 kHz."""
    t = np.arange(n) / 16000
    voice = sum(np.sin(2 * np.pi * 130 * k * t) / k for k in range(1, 8)) * np.clip(np.sin(2 * np.pi * 4 * t), 0, None)
    noise = np.random.default_rng(seed).standard_normal(n)
    return (0.2 * voice + 0.01 * noise).astype(np.float32)


def test_window_and_mel_filters_equal_scipys_and_librosas():
    import scipy.signal

    assert np.array_equal(hann_window(LOGMEL_WINDOW), scipy.signal.get_window("hann", LOGMEL_WINDOW, fftbins=True))
    for n_mels in (80, 40):
        ours = mel_filters(sr=16000, n_fft=LOGMEL_WINDOW, n_mels=n_mels, fmax=LOGMEL_FMAX)
        ref = librosa.filters.mel(sr=16000, n_fft=LOGMEL_WINDOW, n_mels=n_mels, fmax=LOGMEL_FMAX)
        assert ours.dtype == ref.dtype == np.float32 and np.array_equal(ours, ref)


# lengths around the edge cases of centred framing: shorter than a window, one hop, block boundaries, long
@pytest.mark.parametrize("n", [1, 199, 200, 201, 399, 400, 401, 560, 561, 16000, 26241, 48000 + 37, 45 * 16000])
def test_mel_power_equals_librosa_bit_for_bit(n):
    y = _speechy(n, seed=n)
    ours = mel_power(y, n_fft=LOGMEL_WINDOW, hop=LOGMEL_HOP, n_mels=80, fmax=LOGMEL_FMAX)
    with warnings.catch_warnings():  # librosa warns that a window is longer than a very short signal
        warnings.simplefilter("ignore", UserWarning)
        ref = librosa.feature.melspectrogram(
            y=y, sr=16000, n_fft=LOGMEL_WINDOW, win_length=LOGMEL_WINDOW, hop_length=LOGMEL_HOP, n_mels=80,
            fmax=LOGMEL_FMAX, center=True,
        )  # fmt: skip
    assert ours.shape == ref.shape == (80, 1 + n // LOGMEL_HOP) and ours.dtype == ref.dtype
    assert np.array_equal(ours, ref)


def test_log_mel_features_stay_the_same_function_of_the_mel_power():
    y = _speechy(24000)
    feats, times = LogMel().native(y)
    mel = mel_power(y, n_fft=LOGMEL_WINDOW, hop=LOGMEL_HOP, n_mels=80, fmax=LOGMEL_FMAX)
    assert np.array_equal(feats, np.log(mel.T + 1e-6).astype(np.float32))
    assert np.allclose(times, np.arange(len(feats)) * 0.01)


def test_animating_a_file_does_not_import_librosa(tmp_path):
    """librosa's import (numba, scipy.signal, ...) cost about a second of every batch's start-up."""
    import soundfile as sf

    sf.write(tmp_path / "a.wav", _speechy(16000), 16000)
    code = (
        "import sys\n"
        "from facecraft.audio2face.animate import animate_file\n"
        f"animate_file({str(tmp_path / 'a.wav')!r}, {str(tmp_path / 'a.npz')!r})\n"
        "assert 'librosa' not in sys.modules, 'librosa was imported'\n"
        "assert 'numba' not in sys.modules, 'numba was imported'\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert (tmp_path / "a.npz").exists()
