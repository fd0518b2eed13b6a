"""Training losses of the learned audio2face model.

On the synthetic corpus every clip is seen with two emotions ``a`` and ``b`` in the same batch
(EMOTE-style disentanglement):

* **lip**: the speech channels (jaw, lips; :func:`facecraft.rigs.emotion_space.region_mask` ``"speech"``) of
  every prediction match the *neutral* teacher's, whatever emotion was requested;
* **emotion**: the emotion channels (upper face, cheeks, mouth corners) match the emotional teacher, and a
  classification loss through the emotion space's prototypes
  (:func:`~facecraft.rigs.emotion_space.prototype_fit`) makes them read as the requested emotion;
* **swap**: the speech channels of the same clip under emotions ``a`` and ``b`` agree;
* **velocity**: frame-to-frame differences match the target's (no jitter);
* **closure** / **opening** (optional weights): extra weight on the (neutral) teacher's bilabial closures, and
  on its open vowels (jawOpen MSE + a one-sided penalty on a narrower gap), against the regression to the
  mean that under-opens the mouth;
* **low** (optional weight): binary cross-entropy of the speech channels against the same reference (soft
  targets). Through the output sigmoid, MSE's gradient in logit space, ``2 p (1 - p) (p - y)``, vanishes as ``p``
  nears 0: a model trained on MSE alone rests at 0.04-0.06 where the teacher writes ~0 (jawOpen in pauses and
  between syllables, mouthClose and mouthPress outside /p b m/), which reads as lips resting shut. Cross-entropy's
  gradient in logit space is ``p - y`` at every level;
* **press** (optional weight): extra MSE on mouthPress L/R against the same reference as closure. The teacher's
  press is small (:data:`~facecraft.audio2face.lip_state.CLOSURE_PRESS` 0.06 at a seal, ~0 in pauses), so
  within the speech channels' mean its errors weigh little: a model fine-tuned from weights of a harder-pressing
  teacher kept pressing in pauses and under-pressed its seals, which then read as unsealed.

``disentangle=False`` gives the comparison model's loss: one plain MSE to the emotional teacher on every
channel (+ velocity), no lip / emotion-classification / swap terms. Real capture is supervised with MSE on
whatever the take provides (:func:`capture_losses`), on the ARKit channels its rig has counterparts for.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from facecraft.rigs.emotion_space import prototype_fit, region_mask
from facecraft.rigs.errors import ParameterError

from .lip_state import JAW, OPEN_GAP, PRESS_LEFT, PRESS_RIGHT, is_sealed, lip_gap
from .model import A2FModel

SPEECH_MASK = torch.tensor(region_mask("speech"))
EMOTION_MASK = torch.tensor(region_mask("emotion"))


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
    """MSE between the frame-to-frame differences of ``pred`` and ``target`` (B, T, C): no jitter."""
    return F.mse_loss(pred[:, 1:] - pred[:, :-1], target[:, 1:] - target[:, :-1])


@dataclass
class LossWeights:
    """Weights of the terms of :func:`synthetic_losses` (closure, opening, press and low are off at 0)."""

    lip: float = 2.0
    emotion: float = 1.0
    emotion_class: float = 0.05
    swap: float = 1.0
    velocity: float = 0.5
    closure: float = 0.0
    opening: float = 0.0
    press: float = 0.0
    low: float = 0.0


def closure_loss(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Extra weight on the target's bilabial closures: the frames :func:`facecraft.audio2face.lip_state.is_sealed`
    marks (lips shut and pressed, as the teacher writes them only at /p b m/; rest frames are not counted).
    MSE of the speech channels there plus a one-sided penalty on a wider gap."""
    gap_t = lip_gap(target)
    closed = is_sealed(target).float()
    n = closed.sum().clamp_min(1.0)
    m = SPEECH_MASK.to(pred.device)
    mse = (((pred[..., m] - target[..., m]) ** 2).mean(-1) * closed).sum() / n
    gap_p = lip_gap(pred)
    wider = (F.relu(gap_p - gap_t) ** 2 * closed).sum() / n
    return mse + wider


def press_loss(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """MSE of mouthPress L/R between ``pred`` and ``target`` (B, T, 52), every frame (seals and pauses alike)."""
    ch = [PRESS_LEFT, PRESS_RIGHT]
    return F.mse_loss(pred[..., ch], target[..., ch])


def low_loss(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Binary cross-entropy of the speech channels of ``pred`` (B, T, 52), in (0, 1), against ``target``'s as soft
    labels: a gradient that does not vanish where the target is near 0 (see the module docstring)."""
    m = SPEECH_MASK.to(pred.device)
    eps = 1e-6
    return F.binary_cross_entropy(pred[..., m].clamp(eps, 1 - eps), target[..., m].clamp(0.0, 1.0))


def opening_loss(pred: torch.Tensor, target: torch.Tensor, *, open_above: float = OPEN_GAP) -> torch.Tensor:
    """Counterpart of :func:`closure_loss` for open vowels: on frames where the target's lip gap
    (:func:`~facecraft.audio2face.lip_state.lip_gap`) exceeds ``open_above`` (by default
    :data:`~facecraft.audio2face.lip_state.OPEN_GAP`, wider than any consonant's jaw), MSE of jawOpen and
    mouthClose plus a one-sided penalty on a narrower predicted gap (the regression to the mean under-opens the
    mouth)."""
    gap_t = lip_gap(target)
    opened = (gap_t > open_above).float()
    n = opened.sum().clamp_min(1.0)
    ch = [JAW]
    mse = (((pred[..., ch] - target[..., ch]) ** 2).mean(-1) * opened).sum() / n
    gap_p = lip_gap(pred)
    narrower = (F.relu(gap_t - gap_p) ** 2 * opened).sum() / n
    return mse + narrower


def synthetic_losses(
    model: A2FModel, batch: dict, *, disentangle: bool, weights: LossWeights | None = None
) -> dict[str, torch.Tensor]:
    """Loss terms for a synthetic batch from :class:`~facecraft.audio2face.train_sampler.BatchSampler` (keys
    ``features``, ``code_a/b``, ``target_a/b``, ``neutral``, ``label_a/b``); ``"total"`` is the weighted sum."""
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
    # the lip terms' reference: the neutral teacher (speech alone) when disentangling, else the emotional targets
    ref_a, ref_b = (batch["neutral"], batch["neutral"]) if disentangle else (batch["target_a"], batch["target_b"])
    for name, loss in (("closure", closure_loss), ("opening", opening_loss), ("press", press_loss), ("low", low_loss)):
        if getattr(weights, name):
            out[name] = 0.5 * (loss(pa, ref_a) + loss(pb, ref_b))
    w = {**vars(weights), "rest": 1.0, "mse": 1.0}
    out["total"] = sum(w[k] * v for k, v in out.items())
    return out


def masked_mse(pred: torch.Tensor, target: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean squared error of ``pred`` against ``target`` (B, T, C) over the channels ``mask`` (B, C) marks (1 =
    supervised); 0 when nothing is marked."""
    w = mask[:, None, :].expand_as(pred)
    return (((pred - target) ** 2) * w).sum() / w.sum().clamp_min(1.0)


def capture_losses(model: A2FModel, batch: dict, *, low: float = 0.0) -> dict[str, torch.Tensor]:
    """MSE (+ velocity) on whatever a real-capture batch provides (``arkit``, ``flame_expression``, ``flame_jaw``).

    ARKit targets count only on the channels ``arkit_mask`` (B, 52) marks, when given: a rig without a
    counterpart for a channel (FACEGOOD has no mouthClose) must not pull it to 0. ``low`` > 0 adds the
    cross-entropy of :func:`low_loss` on those channels (``"low"``): besides its gradient near 0, it gives capture
    steps gradients of the size synthetic steps have with the same term, which matters under Adam (a capture
    MSE alone, ~50x smaller than a synthetic step's total, barely moved the model in 2,000 steps)."""
    out_m = model(batch["features"], batch["code"])
    out: dict[str, torch.Tensor] = {}
    if "arkit" in batch:
        pred, tgt = out_m.arkit, batch["arkit"]
        mask = batch.get("arkit_mask", torch.ones(pred.shape[0], pred.shape[-1], device=pred.device))
        out["arkit"] = masked_mse(pred, tgt, mask) + 0.5 * masked_mse(
            pred[:, 1:] - pred[:, :-1], tgt[:, 1:] - tgt[:, :-1], mask
        )
        if low:
            eps = 1e-6
            bce = F.binary_cross_entropy(pred.clamp(eps, 1 - eps), tgt.clamp(0.0, 1.0), reduction="none")
            w = mask[:, None, :].expand_as(bce)
            out["low"] = low * (bce * w).sum() / w.sum().clamp_min(1.0)
    if "flame_expression" in batch and out_m.flame_expression is not None:
        out["flame_expression"] = F.mse_loss(out_m.flame_expression, batch["flame_expression"])
    if "flame_jaw" in batch and out_m.flame_jaw is not None:
        out["flame_jaw"] = F.mse_loss(out_m.flame_jaw, batch["flame_jaw"])
    if not out:
        raise ParameterError("capture batch has no target the model can learn (check flame heads in the config)")
    out["total"] = sum(out.values())
    return out
