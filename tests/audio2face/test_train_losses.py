"""Training losses: lip, swap, emotion classification, closure, opening, and how they combine."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
import torch

sys.path.insert(0, str(Path(__file__).parent))
from a2f_helpers import fake_corpus, tiny_model  # noqa: E402

from facecraft.audio2face import lip_state as ls  # noqa: E402
from facecraft.audio2face import train_losses as tl  # noqa: E402
from facecraft.audio2face.train_data import load_corpus_clips  # noqa: E402
from facecraft.audio2face.train_sampler import BatchSampler  # noqa: E402
from facecraft.rigs import ARKIT_NAMES, EMOTIONS  # noqa: E402
from facecraft.rigs.emotion_space import PROTOTYPE_ARKIT, region_mask  # noqa: E402


def test_lip_channels_are_the_arkit_names():
    assert [ARKIT_NAMES[i] for i in (ls.JAW, ls.CLOSE, ls.PRESS_LEFT)] == ["jawOpen", "mouthClose", "mouthPressLeft"]


def test_lip_loss_zero_when_mouths_match_whatever_the_upper_face():
    rng = np.random.default_rng(0)
    neutral = torch.from_numpy(rng.random((2, 10, 52)).astype(np.float32))
    pred = neutral.clone()
    upper = torch.from_numpy(~region_mask("speech"))
    pred[..., upper] = 1.0 - pred[..., upper]  # a different upper face, same mouth
    assert float(tl.lip_loss(pred, neutral)) == 0.0
    pred2 = pred.clone()
    pred2[..., ls.JAW] += 0.2  # jawOpen differs
    assert float(tl.lip_loss(pred2, neutral)) > 0.0


def test_swap_loss():
    a = torch.rand(2, 8, 52)
    b = a.clone()
    b[..., torch.from_numpy(region_mask("emotion"))] = 0.0
    assert float(tl.swap_loss(a, b)) == 0.0
    b[..., ls.JAW] += 0.1
    assert float(tl.swap_loss(a, b)) == pytest.approx(0.01 / int(region_mask("speech").sum()), rel=1e-4)


def test_velocity_loss_ignores_a_constant_offset_but_not_jitter():
    target = torch.rand(1, 6, 52)
    assert float(tl.velocity_loss(target + 0.3, target)) == pytest.approx(0.0, abs=1e-12)
    jitter = target.clone()
    jitter[:, ::2] += 0.1
    assert float(tl.velocity_loss(jitter, target)) == pytest.approx(0.01, rel=1e-4)


def test_emotion_logits_recognise_prototypes():
    protos = torch.from_numpy(PROTOTYPE_ARKIT) * 0.8  # (8, 52) every emotion at intensity 0.8
    logits = tl.emotion_logits(protos)
    neutral = EMOTIONS.index("neutral")
    for k in range(len(EMOTIONS)):
        if k != neutral:
            assert int(logits[k].argmax()) == k
    assert float(logits[neutral, neutral]) == float(logits[neutral].max())  # a blank face: neutral ties at the top
    labels = torch.arange(len(EMOTIONS))[:, None]
    good = tl.emotion_class_loss(protos[:, None], labels)
    bad = tl.emotion_class_loss(protos[:, None], (labels + 1) % len(EMOTIONS))
    assert float(good) < float(bad)


def test_closure_loss_targets_sealed_frames_only():
    target = torch.zeros(1, 4, 52)
    target[0, :2, ls.JAW] = 0.3  # open frames
    target[0, 2:, ls.JAW] = 0.1
    target[0, 2:, ls.CLOSE] = 0.1  # sealed frames
    target[0, 2:, [ls.PRESS_LEFT, ls.PRESS_RIGHT]] = ls.CLOSURE_PRESS  # pressed: a bilabial closure, not a rest
    pred = target.clone()
    assert float(tl.closure_loss(pred, target)) == 0.0
    pred[0, :2, ls.JAW] += 0.2  # errors on open frames do not count here
    assert float(tl.closure_loss(pred, target)) == 0.0
    pred[0, 2:, ls.CLOSE] = 0.0  # lips part where they should be sealed
    assert float(tl.closure_loss(pred, target)) > 0.0


def test_press_loss_is_the_press_channels_error_on_every_frame():
    target = torch.zeros(1, 4, 52)
    target[0, 1, [ls.PRESS_LEFT, ls.PRESS_RIGHT]] = ls.CLOSURE_PRESS  # a seal between rest frames
    pred = target.clone()
    pred[..., ls.JAW] = 0.5  # other channels do not count
    assert float(tl.press_loss(pred, target)) == 0.0
    pred[0, 3, [ls.PRESS_LEFT, ls.PRESS_RIGHT]] = 0.2  # pressing in a pause counts as much as under-pressing a seal
    assert float(tl.press_loss(pred, target)) == pytest.approx(0.2**2 / 4)


def test_opening_loss_penalises_under_opening_on_open_frames_only():
    target = torch.zeros(1, 4, 52)
    target[0, :2, ls.JAW] = 0.4  # open vowel frames (gap 0.4)
    target[0, 2:, ls.JAW] = 0.1
    target[0, 2:, ls.CLOSE] = 0.1  # sealed frames
    pred = target.clone()
    assert float(tl.opening_loss(pred, target)) == 0.0
    pred[0, 2:, ls.CLOSE] = 0.0  # errors on sealed frames do not count here
    assert float(tl.opening_loss(pred, target)) == 0.0
    pred = target.clone()
    pred[0, :2, ls.JAW] = 0.2  # under-opened vowel
    under = float(tl.opening_loss(pred, target))
    pred[0, :2, ls.JAW] = 0.6  # over-opened by the same amount: MSE only, no one-sided term
    over = float(tl.opening_loss(pred, target))
    assert under > over > 0.0


def test_low_loss_pulls_small_values_to_zero_where_mse_barely_does():
    """At a prediction of 0.05 over a target of 0, MSE through the sigmoid hardly moves the logit; the cross-entropy
    term does, and it is least at the target (only the speech channels count)."""
    target = torch.zeros(1, 4, 52)
    target[..., ls.JAW] = torch.tensor([0.0, 0.0, 0.3, 0.5])

    def grad(loss_fn, level):
        logits = torch.logit(torch.where(target > 0, target, torch.full_like(target, level))).requires_grad_(True)
        loss_fn(torch.sigmoid(logits), target).backward()
        return float(logits.grad[0, 0, ls.JAW]) * logits.numel()

    mse = grad(lambda p, t: torch.nn.functional.mse_loss(p, t), 0.05)
    low = grad(tl.low_loss, 0.05) * int(tl.SPEECH_MASK.sum()) / 52
    assert low > 5 * mse > 0
    exact = torch.where(target > 0, target, torch.full_like(target, 1e-6))
    assert float(tl.low_loss(exact, target)) < float(tl.low_loss(torch.full_like(target, 0.05), target))
    off_speech = exact.clone()
    off_speech[..., ~tl.SPEECH_MASK] = 0.5  # channels outside the speech region are not this term's business
    assert float(tl.low_loss(off_speech, target)) == pytest.approx(float(tl.low_loss(exact, target)))


@pytest.mark.parametrize("disentangle", [True, False])
def test_synthetic_losses_weigh_their_terms_and_backprop(tmp_path, disentangle):
    clips = load_corpus_clips(fake_corpus(tmp_path / "c", n_items=1), split="train", kind="logmel", fps=30.0,
                              progress=False)  # fmt: skip
    batch = BatchSampler(clips, frames=10, batch_size=2, seed=0).synthetic(0)
    m = tiny_model().train()
    weights = tl.LossWeights(closure=3.0, opening=0.5, press=2.0, low=0.7)
    terms = tl.synthetic_losses(m, batch, disentangle=disentangle, weights=weights)
    if disentangle:
        assert set(terms) == {"lip", "emotion", "emotion_class", "swap", "rest", "velocity", "closure", "opening",
                              "press", "low", "total"}  # fmt: skip
    else:
        assert set(terms) == {"mse", "velocity", "closure", "opening", "press", "low", "total"}
    w = {**vars(weights), "rest": 1.0, "mse": 1.0}
    expected = sum(w[k] * float(v.detach()) for k, v in terms.items() if k != "total")
    assert float(terms["total"].detach()) == pytest.approx(expected, rel=1e-5)
    off = tl.synthetic_losses(m, batch, disentangle=disentangle)
    assert "closure" not in off and "press" not in off and "low" not in off  # off at weight 0
    terms["total"].backward()
    grads = [p.grad for p in m.parameters() if p.grad is not None]
    assert grads and all(torch.isfinite(g).all() for g in grads) and any(float(g.abs().sum()) > 0 for g in grads)


def test_capture_losses_use_what_the_batch_provides():
    m = tiny_model()
    feats, code = torch.randn(2, 8, 80), torch.zeros(2, 8, 57)
    target = m(feats, code).arkit.detach()
    terms = tl.capture_losses(m, {"features": feats, "code": code, "arkit": target})
    assert set(terms) == {"arkit", "total"} and float(terms["total"].detach()) == pytest.approx(0.0, abs=1e-10)
    with pytest.raises(tl.ParameterError, match="no target"):
        tl.capture_losses(m, {"features": feats, "code": code, "flame_expression": torch.zeros(2, 8, 10)})


def test_capture_losses_leave_unmasked_channels_alone():
    """A rig without a counterpart for a channel (FACEGOOD: mouthClose) must not pull it anywhere."""
    m = tiny_model()
    feats, code = torch.randn(2, 8, 80), torch.zeros(2, 8, 57)
    target = m(feats, code).arkit.detach().clone()
    mask = torch.zeros(2, 52)
    mask[:, :10] = 1.0
    target[..., 10:] = 1.0 - target[..., 10:]  # wrong only where the mask is 0
    terms = tl.capture_losses(m, {"features": feats, "code": code, "arkit": target, "arkit_mask": mask})
    assert float(terms["arkit"].detach()) == pytest.approx(0.0, abs=1e-10)
    batch = {"features": feats, "code": code, "arkit": target, "arkit_mask": mask}
    low = tl.capture_losses(m, batch, low=2.0)["low"]
    target[..., 10:] = 0.5  # the cross-entropy too looks only at supervised channels
    assert float(tl.capture_losses(m, batch, low=2.0)["low"].detach()) == pytest.approx(float(low.detach()))
    target[..., 3] += 0.5  # wrong on a supervised channel: 0.25 on 1 of the 10 channels
    terms = tl.capture_losses(m, batch)
    assert float(terms["arkit"].detach()) == pytest.approx(0.025, rel=1e-3) and "low" not in terms
