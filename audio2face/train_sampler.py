"""Training batches: random crops of clips, each synthetic crop paired with two emotions (a constant emotion or
a ramp between two), or the capture targets. Every batch is a function of ``(seed, step)`` alone, so a resumed
run draws what an uninterrupted one would.

Random streams, ``numpy.random.default_rng([seed, step, tag])``: no tag for synthetic crops and emotions, 1 for
capture crops, 2 for the training loop's choice between the two, 3 for channel augmentation, 4 for pauses.
"""

from __future__ import annotations

import numpy as np
import torch

from facecraft.rigs import EMOTIONS
from facecraft.rigs.emotion_space import EmotionCode
from facecraft.rigs.errors import ParameterError

from .train_augment import insert_pause, random_channel
from .train_data import NEUTRAL, Clip

# Emotion codes at intensity 1, EMOTIONS order (neutral is zeros); codes are linear in intensity.
UNIT_CODES = torch.tensor(np.stack([EmotionCode.from_emotion(e, 1.0).vector for e in EMOTIONS]), dtype=torch.float32)


def fit_length(a: np.ndarray, t: int) -> np.ndarray:
    """Crop or edge-pad axis 0 (or axis 1 for 3-D teacher stacks) to ``t`` frames."""
    axis = 1 if a.ndim == 3 else 0
    n = a.shape[axis]
    if n >= t:
        return a.take(range(t), axis=axis)
    pad = [(0, 0)] * a.ndim
    pad[axis] = (0, t - n)
    return np.pad(a, pad, mode="edge")


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
        """Batch ``step`` of synthetic crops: ``features`` (B, L, F), ``neutral`` teacher (B, L, 52), and per side
        ``a``/``b`` an emotion ``code_*`` (B, L, C), its ``target_*`` (B, L, 52) and per-frame ``label_*`` (B, L)."""
        rng = np.random.default_rng([self.seed, step])
        aug_rng = np.random.default_rng([self.seed, step, 3])  # own stream: crops and emotions stay as without
        pause_rng = np.random.default_rng([self.seed, step, 4])
        idx = rng.integers(0, len(self.clips), self.batch_size)
        feats, neutral, codes, targets, labels = [], [], {"a": [], "b": []}, {"a": [], "b": []}, {"a": [], "b": []}
        for i in idx:
            c = self.clips[i]
            a, b = self._crop(c, rng)
            f = fit_length(c.features[a:b], self.frames)
            teach = fit_length(c.teacher[:, a:b], self.frames)  # (8, L, 52)
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
        """Batch ``step`` of capture crops: ``features``, the take's emotion ``code`` and the targets every clip of
        the batch has (``arkit``, ``flame_expression``, ``flame_jaw``); with ``arkit``, ``arkit_mask`` (B, 52) the
        channels each clip supervises."""
        rng = np.random.default_rng([self.seed, step, 1])
        idx = rng.integers(0, len(self.clips), self.batch_size)
        batch: dict[str, list] = {"features": [], "code": []}
        for i in idx:
            c = self.clips[i]
            a, b = self._crop(c, rng)
            batch["features"].append(fit_length(c.features[a:b], self.frames))
            code = EmotionCode.neutral() if c.emotion == "neutral" else EmotionCode.from_emotion(c.emotion)
            batch["code"].append(np.repeat(code.vector[None], self.frames, 0))
            for key in ("arkit", "flame_expression", "flame_jaw"):
                v = getattr(c, key)
                if v is not None:
                    batch.setdefault(key, []).append(fit_length(v[a:b], self.frames))
            if c.arkit is not None:
                mask = np.ones(c.arkit.shape[1], bool) if c.arkit_mask is None else c.arkit_mask
                batch.setdefault("arkit_mask", []).append(mask.astype(np.float32))
        n = len(idx)
        return {k: torch.from_numpy(np.stack(v)).float() for k, v in batch.items() if len(v) == n}
