"""Training for the learned audio2face model: synthetic corpus (EMOTE-style disentanglement) and real capture.

Losses on the synthetic corpus (every clip is seen with two emotions ``a`` and ``b`` in the same batch):

* **lip**: the speech channels (jaw, lips; :func:`facecraft.rigs.emotion_space.region_mask` ``"speech"``) of
  every prediction match the *neutral* teacher's, whatever emotion was requested;
* **emotion**: the emotion channels (upper face, cheeks, mouth corners) match the emotional teacher, and a
  classification loss through the emotion space's prototypes
  (:func:`~facecraft.rigs.emotion_space.prototype_fit`) makes them read as the requested emotion;
* **swap**: the speech channels of the same clip under emotions ``a`` and ``b`` agree;
* **velocity**: frame-to-frame differences match the target's (no jitter);
* **closure** / **opening** (optional weights): extra weight on the (neutral) teacher's bilabial closures, and
  on its open vowels (lip gap above 0.2: jawOpen MSE + a one-sided penalty on a narrower gap), against the
  regression to the mean that under-opens the mouth.

``disentangle=False`` trains the comparison model: one plain MSE to the emotional teacher on every channel
(+ velocity), no lip / emotion-classification / swap terms.

Real capture: ``capture_dirs`` hold Live Link Face CSV + WAV pairs (``take.csv`` + ``take.wav``, read with
:func:`facecraft.rigs.exchange.load_animation`), and FLAME sequences + WAV in a VOCASET-like layout:
``take.wav`` + ``take.npz`` with ``flame_expression`` (T, E), ``flame_jaw`` (T, 3) axis-angle radians,
and ``fps``; optional ``emotion`` (a name) in the npz. Curves are resampled to the model's fps and
supervised with MSE on what the take provides (neutral emotion code unless given).

Shipped weights (``audio2face/default_a2f.safetensors`` + ``.json``, 102k parameters, 0.4 MB) and the
comparison model (``ablation_no_emotion_losses.*``) were trained by the project with the commands below (each
stage's settings are also in the JSON's ``meta.history`` / ``meta.train``)::

    export FACECRAFT_CACHE_DIR=outputs/a2f/cache      # optional: caches log-mel features
    # corpus for stages 1-3: hibari + espeak-ng (9 training voices, 2 held out)
    facecraft a2f corpus --out outputs/a2f/corpus --max-sentences 120 --voices hibari:heart:1.0 \
        hibari:heart:0.85 hibari:heart:1.15 espeak:en-us+f2:160:50 espeak:en-us+f5:150:60 espeak:en-us+m2:165:45 \
        espeak:en-us+m1:155:40 espeak:en-us+klatt:170:50 espeak:en-gb-x-rp+f2:150:70 espeak:en-us+f4:170:45 \
        espeak:en-gb-scotland+f4:160:55
    # stage 1 (5000 steps)
    facecraft a2f train --corpus outputs/a2f/corpus --out outputs/a2f/default --steps 5000 --seed 0 --threads 1
    facecraft a2f train --corpus outputs/a2f/corpus --out outputs/a2f/no_emotion_losses --steps 5000 --seed 0 \
        --threads 1 --no-emotion-losses
    # stage 2 (2500 steps, extra weight on bilabial closures)
    facecraft a2f train --corpus outputs/a2f/corpus --out outputs/a2f/default_ft --init-from outputs/a2f/default \
        --steps 2500 --lr 1e-3 --closure-weight 1 --seed 1 --threads 1
    facecraft a2f train --corpus outputs/a2f/corpus --out outputs/a2f/no_emotion_losses_ft \
        --init-from outputs/a2f/no_emotion_losses --steps 2500 --lr 1e-3 --closure-weight 1 --seed 1 --threads 1 \
        --no-emotion-losses
    # stage 3 (1000 steps, opening loss; the ablation ran with 2 threads)
    facecraft a2f train --corpus outputs/a2f/corpus --out outputs/a2f/default_c4o1j --init-from outputs/a2f/default_ft \
        --steps 1000 --lr 5e-4 --closure-weight 4 --opening-weight 1 --seed 2 --threads 1
    facecraft a2f train --corpus outputs/a2f/corpus --out outputs/a2f/no_emotion_losses_c4o1j \
        --init-from outputs/a2f/no_emotion_losses_ft --steps 1000 --lr 5e-4 --closure-weight 4 --opening-weight 1 \
        --seed 2 --threads 2 --no-emotion-losses
    # stage 4: add the flite voices (CMU ARCTIC-based, closer to real speech) to the same corpus, then 1500
    # steps with channel augmentation (microphone gain/tilt, a noise floor with low-frequency rumble, and
    # telephone-style band limits on 30% of the augmented crops)
    facecraft a2f corpus --out outputs/a2f/corpus --max-sentences 120 --splits train \
        --voices flite:slt:1.0 flite:rms:1.0 flite:awb:1.0
    facecraft a2f train --corpus outputs/a2f/corpus --out outputs/a2f/default_stage4 \
        --init-from outputs/a2f/default_c4o1j --steps 1500 --lr 5e-4 --closure-weight 6 --opening-weight 1 \
        --channel-augment 0.8 --band-limit 0.3 --seed 3 --threads 1 --export audio2face/default_a2f.safetensors
    facecraft a2f train --corpus outputs/a2f/corpus --out outputs/a2f/no_emotion_losses_stage4 \
        --init-from outputs/a2f/no_emotion_losses_c4o1j --steps 1500 --lr 5e-4 --closure-weight 6 \
        --opening-weight 1 --channel-augment 0.8 --band-limit 0.3 --seed 3 --threads 1 --no-emotion-losses \
        --export audio2face/ablation_no_emotion_losses.safetensors

On the shared 2-core machine (two runs side by side, one thread each, other jobs running) the first corpus
took about 10 min (two ``--shard`` processes), the flite part 40 s, stage 1 4-14 min, stage 2 2-6 min,
stages 3 and 4 1-2 min per model. The corpus depends on the teacher's code at build time: a changed teacher
gives other targets.

What each stage bought, on the 34 real clips of ``facecraft bench audio2face`` (default rig; closure of /p b m/,
open vowels opened by more than 3 mm, mean peak gap): stage 2 -> 3 took opening from 67% to 74% (9 -> 11.5 mm)
with closure 91.6%; weaker closure weights opened more (closure 1 + opening 1: 87%, 13 mm; closure 2 +
opening 1: 84%, 12 mm) but dropped closure to 87-89%. Stage 4 as above gives closure 96.6% and opening 84.9%;
without ``--band-limit`` 94.1% / 83.3%, and with closure weight 4 instead of 6 92.4% / 85.7% (seed 3) and
92.4% / 84.5% (seed 4). Robustness, closure / opening on the same clips changed (stage 3 -> stage 4 without
band limits -> stage 4): -12 dB 98% / 48% -> 94% / 76% -> 98% / 70%; +6 dB 87% / 86% -> 92% / 85% -> 93% / 89%;
white noise at 20 dB SNR 66% / 83% -> 87% / 86% -> 88% / 83%; telephone band 300-3400 Hz 35% / 100% ->
50% / 100% -> 94% / 89%. Real pauses carry a low-frequency rumble that the stage-3 model read as the murmur of a
closed-lip /m/ (mouthPress 0.28 in pauses against the teacher's 0.01); the noise floor augmentation lowers it
(0.22 on real pauses without band limits, 0.25 with; 0.10-0.17 on synthetic rumble that gave 0.19-0.31).

Tried and not adopted (all stages from scratch, same 34 clips): ``--channel-augment 0.8`` without flite voices
and before the noise floor existed (gain and tilt only): closure 88.2%, opening 75.0%; with ``--hidden 128``:
opening 88.5% but closure 78.2%; flite voices without augmentation: 91.6% / 82.1%; flite voices + channel
augmentation from scratch: 89.9% / 88.9%. Stage 4 plus ``--pause-augment 0.5`` (or 0.25): 96.6% / 84.5%
(95.8% / 84.5%), mouthPress in real pauses 0.25 -> 0.20 (0.22): too little change to adopt. On held-out
*synthetic* speech the stage-3 model opened 97.7% of open vowels (17.5 mm): the under-opening on real speech is
a synthetic-to-real gap, not a loss or capacity limit.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from facecraft.rigs import EMOTIONS
from facecraft.rigs.emotion_space import EmotionCode, prototype_fit, region_mask
from facecraft.rigs.errors import FileFormatError, MissingFileError, ParameterError

from .corpus import list_items, load_item, write_manifest
from .features import LOGMEL_FLOOR, LOGMEL_FMAX
from .model import A2FConfig, A2FModel

log = logging.getLogger(__name__)

NEUTRAL = EMOTIONS.index("neutral")
SPEECH_MASK = torch.tensor(region_mask("speech"))
EMOTION_MASK = torch.tensor(region_mask("emotion"))
# Emotion codes at intensity 1, EMOTIONS order (neutral is zeros); codes are linear in intensity.
UNIT_CODES = torch.tensor(np.stack([EmotionCode.from_emotion(e, 1.0).vector for e in EMOTIONS]), dtype=torch.float32)


# ---------------------------------------------------------------------- features (with optional cache)
def compute_features(audio: np.ndarray, *, kind: str, fps: float) -> np.ndarray:
    """Features ``(T, F)`` float32 of 16 kHz audio at ``fps`` from the front-end registry.

    Cached in ``$FACECRAFT_CACHE_DIR/a2f-features`` when that variable is set (key: audio bytes, kind, fps,
    facecraft version).
    """
    from .features import get_features

    cache_dir = os.environ.get("FACECRAFT_CACHE_DIR")
    path = None
    if cache_dir:
        from importlib.metadata import PackageNotFoundError, version

        try:
            ver = version("facecraft")
        except PackageNotFoundError:
            ver = "dev"
        h = hashlib.sha1(np.ascontiguousarray(audio, np.float32).tobytes())
        h.update(f"{kind}|{fps}|{ver}".encode())
        path = Path(cache_dir) / "a2f-features" / f"{h.hexdigest()}.npy"
        if path.exists():
            return np.load(path)
    feats = np.asarray(get_features(kind, fps=fps)(audio), np.float32)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp.npy")  # runs beside each other share the cache
        np.save(tmp, feats)
        os.replace(tmp, path)
    return feats


def _fit_length(a: np.ndarray, t: int) -> np.ndarray:
    """Crop or edge-pad axis 0 (or axis 1 for 3-D teacher stacks) to ``t`` frames."""
    axis = 1 if a.ndim == 3 else 0
    n = a.shape[axis]
    if n >= t:
        return a.take(range(t), axis=axis)
    pad = [(0, 0)] * a.ndim
    pad[axis] = (0, t - n)
    return np.pad(a, pad, mode="edge")


# ---------------------------------------------------------------------- data
@dataclass
class Clip:
    """One training clip at the model fps: features (T, F); ``teacher`` (8, T, 52) for synthetic clips;
    ``arkit`` (T, 52) and/or FLAME targets for real capture; ``emotion`` the capture's label."""

    id: str
    features: np.ndarray
    teacher: np.ndarray | None = None
    arkit: np.ndarray | None = None
    flame_expression: np.ndarray | None = None
    flame_jaw: np.ndarray | None = None
    emotion: str = "neutral"


def load_corpus_clips(
    corpus_dir: str | Path, *, split: str, kind: str, fps: float, progress: bool = True
) -> list[Clip]:
    """Synthetic clips of one split of a corpus built by :mod:`facecraft.audio2face.corpus`."""
    from tqdm.auto import tqdm

    write_manifest(corpus_dir)
    clips = []
    for p in tqdm(list_items(corpus_dir, split), desc=f"features ({split})", disable=not progress, unit="clip"):
        item = load_item(p)
        if abs(item.fps - fps) > 1e-6:
            raise ParameterError(f"{p}: corpus fps {item.fps} differs from the model fps {fps}")
        feats = compute_features(item.audio, kind=kind, fps=fps)
        t = min(len(feats), item.teacher.shape[1])
        clips.append(Clip(item.id, feats[:t], teacher=item.teacher[:, :t]))
    return clips


def load_capture_clips(capture_dir: str | Path, *, kind: str, fps: float) -> list[Clip]:
    """Real capture pairs in a folder (see the module docstring for the accepted layouts)."""
    from .audio import load_audio

    d = Path(capture_dir)
    if not d.is_dir():
        raise MissingFileError(f"capture folder not found: {d}")
    clips = []
    for wav in sorted(p for p in d.iterdir() if p.suffix.lower() in (".wav", ".flac", ".ogg", ".mp3")):
        csv, npz = wav.with_suffix(".csv"), wav.with_suffix(".npz")
        audio, _ = load_audio(wav)
        feats = compute_features(audio, kind=kind, fps=fps)
        if csv.exists():
            from facecraft.rigs.exchange import load_animation

            anim = load_animation(csv).resample(fps)
            t = min(len(feats), anim.num_frames)
            clips.append(Clip(wav.stem, feats[:t], arkit=anim.curves[:t]))
        elif npz.exists():
            with np.load(npz) as z:
                if "flame_expression" not in z or "fps" not in z:
                    raise FileFormatError(f"{npz}: expected arrays flame_expression (T, E), flame_jaw (T, 3) and fps")
                src_fps = float(z["fps"])
                expr = z["flame_expression"].astype(np.float32)
                jaw = z["flame_jaw"].astype(np.float32) if "flame_jaw" in z else None
                emo = str(z["emotion"]) if "emotion" in z else "neutral"
            n = max(1, int(round(len(expr) / src_fps * fps)))
            src_t, dst_t = np.arange(len(expr)) / src_fps, np.arange(n) / fps

            def interp(a: np.ndarray, src_t=src_t, dst_t=dst_t) -> np.ndarray:
                return np.stack([np.interp(dst_t, src_t, a[:, j]) for j in range(a.shape[1])], 1).astype(np.float32)

            t = min(len(feats), n)
            clips.append(
                Clip(wav.stem, feats[:t], flame_expression=interp(expr)[:t],
                     flame_jaw=None if jaw is None else interp(jaw)[:t], emotion=emo)
            )  # fmt: skip
        else:
            log.warning("capture %s has no .csv or .npz beside it; skipped", wav)
    if not clips:
        raise FileFormatError(f"{d}: no capture pairs found (expected take.wav + take.csv or take.npz)")
    return clips


# ---------------------------------------------------------------------- losses
def lip_loss(pred: torch.Tensor, neutral: torch.Tensor) -> torch.Tensor:
    """MSE between the speech channels of ``pred`` (B, T, 52) and the neutral teacher's (B, T, 52)."""
    m = SPEECH_MASK.to(pred.device)
    return F.mse_loss(pred[..., m], neutral[..., m])


def swap_loss(pred_a: torch.Tensor, pred_b: torch.Tensor) -> torch.Tensor:
    """MSE between the speech channels of the same clips predicted under two emotions."""
    m = SPEECH_MASK.to(pred_a.device)
    return F.mse_loss(pred_a[..., m], pred_b[..., m])


def emotion_logits(pred: torch.Tensor, *, temperature: float = 0.05) -> torch.Tensor:
    """Logits (..., 8) of which emotion the emotion channels of ``pred`` (..., 52) show: minus each
    prototype's residual (:func:`facecraft.rigs.emotion_space.prototype_fit`) over ``temperature``, the
    scores :func:`~facecraft.rigs.emotion_space.classify_arkit` reads. For a frame with no emotion channel
    active every logit ties (the per-channel MSE term is what keeps a neutral request neutral).
    """
    return -prototype_fit(pred, "emotion")[1] / temperature


def emotion_class_loss(pred: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Cross-entropy of :func:`emotion_logits` of ``pred`` (B, T, 52) against per-frame labels (B, T)."""
    logits = emotion_logits(pred)
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), labels.reshape(-1))


def velocity_loss(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    return F.mse_loss(pred[:, 1:] - pred[:, :-1], target[:, 1:] - target[:, :-1])


@dataclass
class LossWeights:
    lip: float = 2.0
    emotion: float = 1.0
    emotion_class: float = 0.05
    swap: float = 1.0
    velocity: float = 0.5
    closure: float = 0.0
    opening: float = 0.0


JAW, CLOSE, PRESS = 17, 18, 35  # jawOpen, mouthClose (ARKit seals lips with mouthClose == jawOpen), mouthPressLeft


def closure_loss(pred: torch.Tensor, target: torch.Tensor, *, closed_below: float = 0.02) -> torch.Tensor:
    """Extra weight on the target's bilabial closures: frames with sealed lips (jawOpen - mouthClose below
    ``closed_below``) and pressed lips (mouthPress > 0.3, which the teacher sets only at /p b m/; rest
    frames are not counted). MSE of the speech channels there plus a one-sided penalty on a wider gap."""
    gap_t = target[..., JAW] - target[..., CLOSE]
    closed = ((gap_t < closed_below) & (target[..., PRESS] > 0.3)).float()
    n = closed.sum().clamp_min(1.0)
    m = SPEECH_MASK.to(pred.device)
    mse = (((pred[..., m] - target[..., m]) ** 2).mean(-1) * closed).sum() / n
    gap_p = pred[..., JAW] - pred[..., CLOSE]
    wider = (F.relu(gap_p - gap_t) ** 2 * closed).sum() / n
    return mse + wider


def opening_loss(pred: torch.Tensor, target: torch.Tensor, *, open_above: float = 0.2) -> torch.Tensor:
    """Counterpart of :func:`closure_loss` for open vowels: on frames where the target's lip gap
    (jawOpen - mouthClose) exceeds ``open_above``, MSE of jawOpen and mouthClose plus a one-sided penalty on a
    narrower predicted gap (the regression to the mean under-opens the mouth)."""
    gap_t = target[..., JAW] - target[..., CLOSE]
    opened = (gap_t > open_above).float()
    n = opened.sum().clamp_min(1.0)
    ch = [JAW]
    mse = (((pred[..., ch] - target[..., ch]) ** 2).mean(-1) * opened).sum() / n
    gap_p = pred[..., JAW] - pred[..., CLOSE]
    narrower = (F.relu(gap_t - gap_p) ** 2 * opened).sum() / n
    return mse + narrower


def synthetic_losses(
    model: A2FModel, batch: dict, *, disentangle: bool, weights: LossWeights | None = None
) -> dict[str, torch.Tensor]:
    """Loss terms for a synthetic batch from :class:`BatchSampler` (keys ``features``, ``code_a/b``,
    ``target_a/b``, ``neutral``, ``label_a/b``); ``"total"`` is the weighted sum."""
    weights = weights or LossWeights()
    feats = batch["features"]
    both = model(torch.cat([feats, feats]), torch.cat([batch["code_a"], batch["code_b"]])).arkit
    pa, pb = both.chunk(2)
    out: dict[str, torch.Tensor] = {}
    if disentangle:
        em = EMOTION_MASK.to(feats.device)
        out["lip"] = 0.5 * (lip_loss(pa, batch["neutral"]) + lip_loss(pb, batch["neutral"]))
        out["emotion"] = 0.5 * (
            F.mse_loss(pa[..., em], batch["target_a"][..., em]) + F.mse_loss(pb[..., em], batch["target_b"][..., em])
        )
        out["emotion_class"] = 0.5 * (
            emotion_class_loss(pa, batch["label_a"]) + emotion_class_loss(pb, batch["label_b"])
        )
        out["swap"] = swap_loss(pa, pb)
        # channels in neither region (blinks, gaze) follow the neutral teacher
        rest = ~(em | SPEECH_MASK.to(feats.device))
        out["rest"] = F.mse_loss(pa[..., rest], batch["neutral"][..., rest])
        tgt_a = torch.where(em, batch["target_a"], batch["neutral"])
        tgt_b = torch.where(em, batch["target_b"], batch["neutral"])
    else:
        out["mse"] = 0.5 * (F.mse_loss(pa, batch["target_a"]) + F.mse_loss(pb, batch["target_b"]))
        tgt_a, tgt_b = batch["target_a"], batch["target_b"]
    out["velocity"] = 0.5 * (velocity_loss(pa, tgt_a) + velocity_loss(pb, tgt_b))
    if weights.closure:
        ref_a, ref_b = (batch["neutral"], batch["neutral"]) if disentangle else (batch["target_a"], batch["target_b"])
        out["closure"] = 0.5 * (closure_loss(pa, ref_a) + closure_loss(pb, ref_b))
    if weights.opening:
        ref_a, ref_b = (batch["neutral"], batch["neutral"]) if disentangle else (batch["target_a"], batch["target_b"])
        out["opening"] = 0.5 * (opening_loss(pa, ref_a) + opening_loss(pb, ref_b))
    w = {"lip": weights.lip, "emotion": weights.emotion, "emotion_class": weights.emotion_class,
         "swap": weights.swap, "velocity": weights.velocity, "rest": 1.0, "mse": 1.0,
         "closure": weights.closure, "opening": weights.opening}  # fmt: skip
    out["total"] = sum(w[k] * v for k, v in out.items())
    return out


def capture_losses(model: A2FModel, batch: dict) -> dict[str, torch.Tensor]:
    """MSE (+ velocity) on whatever a real-capture batch provides (``arkit``, ``flame_expression``, ``flame_jaw``)."""
    out_m = model(batch["features"], batch["code"])
    out: dict[str, torch.Tensor] = {}
    if "arkit" in batch:
        out["arkit"] = F.mse_loss(out_m.arkit, batch["arkit"]) + 0.5 * velocity_loss(out_m.arkit, batch["arkit"])
    if "flame_expression" in batch and out_m.flame_expression is not None:
        out["flame_expression"] = F.mse_loss(out_m.flame_expression, batch["flame_expression"])
    if "flame_jaw" in batch and out_m.flame_jaw is not None:
        out["flame_jaw"] = F.mse_loss(out_m.flame_jaw, batch["flame_jaw"])
    if not out:
        raise ParameterError("capture batch has no target the model can learn (check flame heads in the config)")
    out["total"] = sum(out.values())
    return out


# ---------------------------------------------------------------------- batches
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


class BatchSampler:
    """Random crops of clips with two emotions each (synthetic) or the capture targets; seeded per step."""

    def __init__(
        self,
        clips: list[Clip],
        *,
        frames: int,
        batch_size: int,
        seed: int,
        channel_augment: float = 0.0,
        band_limit: float = 0.0,
        pause_augment: float = 0.0,
    ) -> None:
        if not clips:
            raise ParameterError("BatchSampler: no clips to train on")
        self.clips, self.frames, self.batch_size, self.seed = clips, frames, batch_size, seed
        self.channel_augment, self.band_limit, self.pause_augment = channel_augment, band_limit, pause_augment

    def _crop(self, clip: Clip, rng: np.random.Generator) -> tuple[int, int]:
        t = len(clip.features)
        start = int(rng.integers(0, max(1, t - self.frames + 1)))
        return start, start + self.frames

    def synthetic(self, step: int) -> dict[str, torch.Tensor]:
        rng = np.random.default_rng([self.seed, step])
        aug_rng = np.random.default_rng([self.seed, step, 3])  # own stream: crops and emotions stay as without
        pause_rng = np.random.default_rng([self.seed, step, 4])
        idx = rng.integers(0, len(self.clips), self.batch_size)
        feats, neutral, codes, targets, labels = [], [], {"a": [], "b": []}, {"a": [], "b": []}, {"a": [], "b": []}
        for i in idx:
            c = self.clips[i]
            a, b = self._crop(c, rng)
            f = _fit_length(c.features[a:b], self.frames)
            teach = _fit_length(c.teacher[:, a:b], self.frames)  # (8, L, 52)
            if self.pause_augment and pause_rng.random() < self.pause_augment:
                f, teach = insert_pause(f, teach, pause_rng)
            if aug_rng.random() < self.channel_augment:
                f = random_channel(f, aug_rng, band_limit=self.band_limit)
            neu = teach[NEUTRAL]
            feats.append(f)
            neutral.append(neu)
            for side in ("a", "b"):
                e0, e1 = rng.integers(0, len(EMOTIONS), 2)
                s0, s1 = rng.uniform(0.3, 1.0, 2)
                if rng.random() < 0.7:  # constant emotion; otherwise a ramp between two emotions (a track)
                    e1, s1 = e0, s0
                u = np.clip((np.arange(self.frames) - rng.uniform(0, self.frames)) / max(1.0, rng.uniform(4, 30)), 0, 1)
                u = u[:, None].astype(np.float32)
                w0, w1 = (1 - u) * s0, u * s1
                codes[side].append(w0 * UNIT_CODES[e0].numpy() + w1 * UNIT_CODES[e1].numpy())
                targets[side].append(np.clip(neu + w0 * (teach[e0] - neu) + w1 * (teach[e1] - neu), 0, 1))
                lab = np.where(u[:, 0] < 0.5, e0, e1)
                labels[side].append(lab)
        t = torch.from_numpy
        return {
            "features": t(np.stack(feats)).float(),
            "neutral": t(np.stack(neutral)).float(),
            "code_a": t(np.stack(codes["a"])).float(),
            "code_b": t(np.stack(codes["b"])).float(),
            "target_a": t(np.stack(targets["a"])).float(),
            "target_b": t(np.stack(targets["b"])).float(),
            "label_a": t(np.stack(labels["a"])).long(),
            "label_b": t(np.stack(labels["b"])).long(),
        }

    def capture(self, step: int) -> dict[str, torch.Tensor]:
        rng = np.random.default_rng([self.seed, step, 1])
        idx = rng.integers(0, len(self.clips), self.batch_size)
        batch: dict[str, list] = {"features": [], "code": []}
        for i in idx:
            c = self.clips[i]
            a, b = self._crop(c, rng)
            batch["features"].append(_fit_length(c.features[a:b], self.frames))
            code = EmotionCode.neutral() if c.emotion == "neutral" else EmotionCode.from_emotion(c.emotion)
            batch["code"].append(np.repeat(code.vector[None], self.frames, 0))
            for key in ("arkit", "flame_expression", "flame_jaw"):
                v = getattr(c, key)
                if v is not None:
                    batch.setdefault(key, []).append(_fit_length(v[a:b], self.frames))
        n = len(idx)
        return {k: torch.from_numpy(np.stack(v)).float() for k, v in batch.items() if len(v) == n}


# ---------------------------------------------------------------------- training loop
@dataclass
class TrainConfig:
    """Options of :func:`train` (also what ``facecraft a2f train`` exposes).

    ``steps`` fixes the learning-rate schedule; ``stop_after`` ends a session early at that step (resume
    later to finish the same schedule); ``max_minutes`` is a wall-clock safety stop.
    """

    corpus: str | None = None
    capture_dirs: list[str] = field(default_factory=list)
    out_dir: str = "outputs/a2f/run"
    steps: int = 4000
    max_minutes: float | None = None
    stop_after: int | None = None
    batch_size: int = 16
    frames: int = 64
    lr: float = 2e-3
    weight_decay: float = 1e-4
    seed: int = 0
    disentangle: bool = True
    closure_weight: float = 0.0
    opening_weight: float = 0.0
    channel_augment: float = 0.0
    band_limit: float = 0.0
    pause_augment: float = 0.0
    checkpoint_every: int = 200
    threads: int | None = None
    init_from: str | None = None
    model: dict = field(default_factory=dict)


def _feature_stats(clips: list[Clip]) -> tuple[list[float], list[float]]:
    allf = np.concatenate([c.features for c in clips[:2000]])
    return allf.mean(0).tolist(), (allf.std(0) + 1e-3).tolist()


def train(cfg: TrainConfig, *, resume: bool = False, progress: bool = True) -> dict:
    """Train (or resume) a model; writes ``checkpoint.pt``, ``model.safetensors`` + ``config.json`` and
    ``train_log.jsonl`` into ``cfg.out_dir``. Returns a summary dict (steps, seconds, last losses)."""
    from tqdm.auto import tqdm

    if cfg.band_limit and not cfg.channel_augment:
        raise ParameterError("band_limit applies to channel-augmented crops: set channel_augment > 0 too")
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    torch.manual_seed(cfg.seed)
    out = Path(cfg.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    model_cfg = A2FConfig(**cfg.model) if cfg.model else A2FConfig()
    if cfg.init_from:
        init = A2FModel.from_pretrained(cfg.init_from)
        model_cfg = init.config
    synth = (
        load_corpus_clips(cfg.corpus, split="train", kind=model_cfg.feature_kind, fps=model_cfg.fps, progress=progress)
        if cfg.corpus
        else []
    )
    capture = [
        c for d in cfg.capture_dirs for c in load_capture_clips(d, kind=model_cfg.feature_kind, fps=model_cfg.fps)
    ]
    if not synth and not capture:
        raise ParameterError("train: give a corpus folder and/or capture folders with data")
    if capture and any(c.flame_expression is not None for c in capture) and not model_cfg.flame_expression_dim:
        e = next(c.flame_expression.shape[1] for c in capture if c.flame_expression is not None)
        model_cfg.flame_expression_dim, model_cfg.flame_jaw = e, True
    if not model_cfg.feature_mean and not cfg.init_from:
        model_cfg.feature_mean, model_cfg.feature_std = _feature_stats(synth + capture)
    meta = dict(model_cfg.meta)
    if cfg.init_from and "train" in meta:  # provenance: the stages the starting weights went through, oldest first
        meta["history"] = [*meta.get("history", []), meta["train"]]
    model_cfg.meta = {**meta, "train": {k: v for k, v in vars(cfg).items() if k != "model"}}
    model = A2FModel(model_cfg)
    if cfg.init_from:
        model.load_state_dict(init.state_dict(), strict=False)
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    if cfg.steps >= 40:
        sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=cfg.lr, total_steps=cfg.steps, pct_start=0.05)
    else:  # too short for a warm-up/anneal cycle (tests, smoke runs): constant rate
        sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda _: 1.0)
    step, elapsed = 0, 0.0
    ckpt = out / "checkpoint.pt"
    if resume:
        if not ckpt.exists():
            raise MissingFileError(f"train --resume: no checkpoint at {ckpt}")
        state = torch.load(ckpt, weights_only=True)
        model.load_state_dict(state["model"])
        opt.load_state_dict(state["optimizer"])
        sched.load_state_dict(state["scheduler"])
        step, elapsed = int(state["step"]), float(state["elapsed"])
        if "torch_rng" in state:  # dropout masks continue as in an uninterrupted run
            torch.set_rng_state(state["torch_rng"])
        log.info("resumed from %s at step %d", ckpt, step)
    if cfg.channel_augment and model_cfg.feature_kind != "logmel":
        raise ParameterError(f"channel_augment works on log-mel features, not {model_cfg.feature_kind!r}")
    synth_sampler = (
        BatchSampler(synth, frames=cfg.frames, batch_size=cfg.batch_size, seed=cfg.seed,
                     channel_augment=cfg.channel_augment, band_limit=cfg.band_limit, pause_augment=cfg.pause_augment)
        if synth
        else None
    )  # fmt: skip
    cap_sampler = (
        BatchSampler(capture, frames=cfg.frames, batch_size=cfg.batch_size, seed=cfg.seed) if capture else None
    )
    p_capture = len(capture) / (len(capture) + len(synth))
    logf = (out / "train_log.jsonl").open("a")
    t0 = time.perf_counter() - elapsed
    losses: dict[str, float] = {}

    def save_checkpoint() -> None:
        tmp = ckpt.with_suffix(".tmp")
        torch.save(
            {"model": model.state_dict(), "optimizer": opt.state_dict(), "scheduler": sched.state_dict(),
             "step": step, "elapsed": time.perf_counter() - t0, "torch_rng": torch.get_rng_state()},
            tmp,
        )  # fmt: skip
        os.replace(tmp, ckpt)

    bar = tqdm(total=cfg.steps, initial=step, desc="a2f train", disable=not progress, unit="step")
    model.train()
    while step < cfg.steps:
        if cfg.stop_after is not None and step >= cfg.stop_after:
            log.info("stopping at step %d as asked (stop_after); resume to continue", step)
            break
        if cfg.max_minutes and (time.perf_counter() - t0) / 60 > cfg.max_minutes:
            log.warning("stopping at step %d: time limit of %.1f min reached", step, cfg.max_minutes)
            break
        use_capture = cap_sampler is not None and (
            synth_sampler is None or np.random.default_rng([cfg.seed, step, 2]).random() < p_capture
        )
        if use_capture:
            terms = capture_losses(model, cap_sampler.capture(step))
        else:
            terms = synthetic_losses(
                model,
                synth_sampler.synthetic(step),
                disentangle=cfg.disentangle,
                weights=LossWeights(closure=cfg.closure_weight, opening=cfg.opening_weight),
            )
        opt.zero_grad(set_to_none=True)
        terms["total"].backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
        step += 1
        losses = {k: float(v.detach()) for k, v in terms.items()}
        bar.update(1)
        if step % 20 == 0:
            bar.set_postfix(loss=f"{losses['total']:.4f}")
            logf.write(json.dumps({"step": step, "time_s": round(time.perf_counter() - t0, 1), **losses}) + "\n")
            logf.flush()
        if step % cfg.checkpoint_every == 0 or step == cfg.steps:
            save_checkpoint()
    bar.close()
    logf.close()
    save_checkpoint()
    model.eval()
    model.config.meta["train"]["steps_done"] = step
    model.config.meta["train"]["train_seconds"] = round(time.perf_counter() - t0, 1)
    model.save_pretrained(out)
    return {"steps": step, "seconds": round(time.perf_counter() - t0, 1), "losses": losses, "out_dir": str(out),
            "clips": {"synthetic": len(synth), "capture": len(capture)}}  # fmt: skip
