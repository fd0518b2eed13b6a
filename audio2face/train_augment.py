"""Training-time augmentation of log-mel crops: another microphone and room (gain, tilt, band limits, a noise
floor) and mid-utterance pauses, so a model trained on clean synthetic voices holds up on real recordings.

Each function takes its own :class:`numpy.random.Generator`; the sampler gives each kind its own stream, so
switching one augmentation on leaves every other draw of a run unchanged.
"""

from __future__ import annotations

import numpy as np

from .features import LOGMEL_FLOOR, LOGMEL_FMAX
from .train_data import NEUTRAL

# Log-mel channel augmentation: gain (natural-log units; 2.3 = 10 dB), spectral tilt across the mel bands
# (low bands up, high bands down when negative), and a background noise floor added in the power domain.
# Real recordings here are about 0.85 quieter than the synthetic voices and tilted by about -3.5; their pauses
# sit near -12.4 with a strong low-frequency rumble (band 0 about 5 above the floor's mean), which a model that
# never heard it reads as the murmur of a closed-lip /m/. The ranges cover those figures and more.
CHANNEL_GAIN = (-3.0, 1.5)
CHANNEL_TILT = (-5.0, 2.0)
NOISE_LEVEL = (-14.5, -10.5)  # mean log power of the noise floor
NOISE_RUMBLE = (0.0, 6.0)  # extra log power of the lowest band, decaying over NOISE_RUMBLE_BANDS
NOISE_RUMBLE_BANDS = (2.0, 12.0)
# Band limiting (telephone, small speakers, low-bit-rate codecs): edges in Hz and the attenuation outside them.
BAND_LOW_HZ = (100.0, 400.0)
BAND_HIGH_HZ = (3000.0, 7000.0)
BAND_STOP = (4.0, 10.0)  # natural-log power units


def _mel_centres(k: int) -> np.ndarray:
    """Centre frequencies (Hz) of :class:`~facecraft.audio2face.features.LogMel`'s ``k`` bands."""
    import librosa

    return librosa.mel_frequencies(n_mels=k + 2, fmin=0.0, fmax=LOGMEL_FMAX)[1:-1]


def band_limit_response(k: int, low_hz: float, high_hz: float, stop: float) -> np.ndarray:
    """Log-power response ``(k,)`` over :class:`~facecraft.audio2face.features.LogMel`'s bands of a band-pass
    ``low_hz``-``high_hz`` that removes ``stop`` outside (smooth edges)."""
    f = _mel_centres(k)
    below = 1.0 / (1.0 + np.exp((f - low_hz) / (0.15 * low_hz)))
    above = 1.0 / (1.0 + np.exp(-(f - high_hz) / (0.1 * high_hz)))
    return -stop * np.clip(below + above, 0.0, 1.0)


def random_channel(
    logmel: np.ndarray, rng: np.random.Generator, *, noise: bool = True, band_limit: float = 0.0
) -> np.ndarray:
    """The same speech through another microphone, level and room: a random gain and tilt applied to the mel
    power above the log-mel floor (:data:`~facecraft.audio2face.features.LOGMEL_FLOOR`), plus (``noise``) a
    background noise floor with low-frequency rumble that fluctuates from frame to frame. Without noise,
    silence stays at the floor.
    With probability ``band_limit`` the speech is also band-limited (:func:`band_limit_response`); at 0 no
    random number is drawn for it, so runs without it are unchanged."""
    k = logmel.shape[-1]
    bands = np.arange(k)
    db = rng.uniform(*CHANNEL_GAIN) + rng.uniform(*CHANNEL_TILT) * (bands / max(1, k - 1) - 0.5)
    if band_limit and rng.random() < band_limit:
        db = db + band_limit_response(k, rng.uniform(*BAND_LOW_HZ), rng.uniform(*BAND_HIGH_HZ), rng.uniform(*BAND_STOP))
    power = np.maximum(np.exp(logmel.astype(np.float64)) - LOGMEL_FLOOR, 0.0) * np.exp(db)
    if noise:
        power = power + noise_floor_power(logmel.shape, rng)
    return np.log(power + LOGMEL_FLOOR).astype(np.float32)


def noise_floor_power(shape: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    """Mel power ``shape`` (frames, bands) of a random background noise floor: a level in :data:`NOISE_LEVEL`,
    low-frequency rumble, and a fluctuation from frame to frame."""
    bands = np.arange(shape[1])
    rumble = rng.uniform(*NOISE_RUMBLE) * np.exp(-bands / rng.uniform(*NOISE_RUMBLE_BANDS))
    level = rng.uniform(*NOISE_LEVEL) + rumble - rumble.mean()
    return np.exp(level + rng.normal(0.0, 0.5, shape))


# Pause augmentation: synthetic sentences rarely pause mid-utterance, so a real pause (a noise floor between
# words, median 0.2 s in the benchmark's clips) looks to the model like a long /m/ or /b/ closure.
PAUSE_FRAMES = (5, 20)  # inserted pause length in frames (0.17-0.67 s at 30 fps)
PAUSE_EASE = 3  # frames over which the speech channels relax into and out of the pause


def insert_pause(logmel: np.ndarray, teacher: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Insert a pause into a crop: ``logmel`` (L, F) gets noise-floor frames at a random point and ``teacher``
    (E, L, 52) relaxed speech channels there (the emotions' own share of them stays, as in the teacher's
    silences); non-speech channels run on. Both keep their length L (the crop's tail is dropped)."""
    from .teacher import SPEECH_INDEX

    length = len(logmel)
    n = int(rng.integers(PAUSE_FRAMES[0], PAUSE_FRAMES[1] + 1))
    if length < n + 4:
        return logmel, teacher
    k = int(rng.integers(2, length - n - 1))
    noise = np.log(noise_floor_power((n, logmel.shape[1]), rng) + LOGMEL_FLOOR).astype(np.float32)
    pause = teacher[:, k : k + n].copy()  # non-speech channels run on
    emotion_share = np.clip(teacher[:, k - 1, SPEECH_INDEX] - teacher[NEUTRAL, k - 1, SPEECH_INDEX], 0, 1)
    j = np.arange(n)
    into = np.clip((j + 1) / PAUSE_EASE, 0, 1)[None, :, None]  # 0 -> 1 over the first frames
    out_of = np.clip((n - j) / PAUSE_EASE, 0, 1)[None, :, None]  # 1 -> 0 over the last frames
    before = teacher[:, k - 1, SPEECH_INDEX][:, None]
    after = teacher[:, k, SPEECH_INDEX][:, None]
    rest = emotion_share[:, None]
    pause[:, :, SPEECH_INDEX] = np.where(
        j[None, :, None] < n / 2, (1 - into) * before + into * rest, (1 - out_of) * after + out_of * rest
    )
    f = np.concatenate([logmel[:k], noise, logmel[k:]])[:length]
    t = np.concatenate([teacher[:, :k], pause, teacher[:, k:]], axis=1)[:, :length]
    return f, t.astype(teacher.dtype)
