"""The small trainers on synthetic crops (a few steps on CPU): folders written, base frozen, resume, flips."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from facecraft.rigs import EmotionCode, ParameterError
from facecraft.synth.adapter import AUAdapter, au_condition, load_adapter
from facecraft.synth.adapter_base import load_base
from facecraft.synth.adapter_data import LICENCES, FaceSamples, au_response
from facecraft.synth.adapter_train import (
    TrainOptions,
    conditional_gain,
    flip_condition,
    train_adapter,
    train_base,
)

torch.set_num_threads(1)


def synthetic_samples(n: int = 8, size: int = 16, licence: str = LICENCES["frll"]) -> FaceSamples:
    rng = np.random.default_rng(0)
    codes = [EmotionCode.from_emotion(e, 0.8) for e in ("happiness", "anger")] * (n // 2)
    return FaceSamples(
        images=rng.integers(0, 255, (n, size, size, 3), dtype=np.uint8),
        cond=au_condition(codes),
        person=np.array([f"p{i // 2}" for i in range(n)]),
        kind=np.array(["photo", "edit"] * (n // 2)),
        licence=licence,
    )


def _opts(steps: int, **kw) -> TrainOptions:
    return TrainOptions(steps=steps, batch_size=2, lr=1e-3, checkpoint_every=2, log_every=1, **kw)


def test_train_base_then_adapter_and_resume(tmp_path):
    samples = synthetic_samples()
    base = train_base(samples, tmp_path / "base", channels=(8, 16), context_dim=16, options=_opts(2))
    report = json.loads((tmp_path / "base" / "train.json").read_text())
    assert report["steps"] == 2 and report["resolution"] == 16
    card = (tmp_path / "base" / "README.md").read_text()
    assert "CC BY" in card and "Do not distribute" not in card
    loaded = load_base(tmp_path / "base")
    assert torch.equal(loaded.context, base.context)

    frozen = {k: v.clone() for k, v in loaded.unet.state_dict().items()}
    adapter = train_adapter(loaded, samples, tmp_path / "au", num_tokens=2, hidden_dim=8, options=_opts(2))
    assert {k: v for k, v in loaded.unet.state_dict().items()}.keys() == frozen.keys()  # unloaded after training
    assert all(torch.equal(loaded.unet.state_dict()[k], v) for k, v in frozen.items())  # base untouched
    back = load_adapter(tmp_path / "au")
    assert all(torch.equal(back.state_dict()[k], v) for k, v in adapter.state_dict().items())

    # resume: a longer run continues from the checkpoint (2 more steps, not 4)
    train_adapter(loaded, samples, tmp_path / "au", num_tokens=2, hidden_dim=8, options=_opts(4))
    report = json.loads((tmp_path / "au" / "train.json").read_text())
    assert report["steps"] == 4 and len(report["losses_every_10"]) == 1

    gain = conditional_gain(loaded, back, samples, repeats=1)
    assert set(gain) >= {"true", "shuffled", "null", "n"} and gain["n"] == len(samples)


def test_research_data_is_marked_in_the_card(tmp_path):
    samples = synthetic_samples(licence="; ".join(LICENCES.values()))
    train_base(samples, tmp_path / "base", channels=(8, 16), context_dim=16, options=_opts(1))
    assert "Do not distribute" in (tmp_path / "base" / "README.md").read_text()


def test_bad_options_and_sizes(tmp_path):
    with pytest.raises(ParameterError, match="steps"):
        train_base(synthetic_samples(), tmp_path, options=TrainOptions(steps=0))
    base = train_base(synthetic_samples(), tmp_path / "b", channels=(8, 16), context_dim=16, options=_opts(1))
    with pytest.raises(ParameterError, match="32 px for a base of 16 px"):
        train_adapter(base, synthetic_samples(size=32), tmp_path / "a", options=_opts(1))


def test_flip_swaps_sides_and_is_an_involution():
    cond = torch.from_numpy(au_condition({"AU12L": 0.9, "AU2R": 0.4}))
    flipped = flip_condition(cond)
    np.testing.assert_allclose(flipped[0, :50].numpy(), au_condition({"AU12R": 0.9, "AU2L": 0.4})[0, :50], atol=1e-6)
    assert torch.equal(flip_condition(flipped), cond)


def test_au_response_reads_the_aus_own_channels():
    from facecraft.rigs import ARKIT_INDEX, NUM_ARKIT

    scores = np.zeros((2, NUM_ARKIT), np.float32)
    scores[1, ARKIT_INDEX["mouthSmileLeft"]] = scores[1, ARKIT_INDEX["mouthSmileRight"]] = 0.7
    assert au_response(scores, "AU12").tolist() == pytest.approx([0.0, 0.7])
    assert au_response(scores, "AU4").tolist() == pytest.approx([0.0, 0.0])


def test_learning_rate_warms_up_then_decays_along_steps_or_minutes():
    opts = TrainOptions(steps=100, warmup_steps=10, lr=1.0)
    assert opts.lr_factor(0, 0.0) == pytest.approx(0.1) and opts.lr_factor(9, 0.0) == pytest.approx(1.0)
    assert opts.lr_factor(10, 0.0) == pytest.approx(0.977, abs=0.01)  # the cosine counts from step 0
    assert opts.lr_factor(50, 0.0) == pytest.approx(0.525)  # half way (cosine to 1/20)
    assert opts.lr_factor(100, 0.0) == pytest.approx(0.05)
    timed = TrainOptions(steps=1000, warmup_steps=0, max_minutes=1.0)
    assert timed.lr_factor(20, 30.0) == pytest.approx(0.525)  # the minutes run out before the steps
    assert type(timed.lr_factor(20, 30.0)) is float  # lands in the optimizer state: checkpoints load weights_only
    assert TrainOptions(schedule="constant", warmup_steps=0).lr_factor(500, 1e6) == 1.0
    for bad in (dict(schedule="step"), dict(ema_decay=1.0), dict(warmup_steps=-1)):
        with pytest.raises(ParameterError):
            TrainOptions(**bad).check()


def test_saved_base_is_the_weight_average(tmp_path):
    samples = synthetic_samples()
    kw = dict(channels=(8, 16), context_dim=16)
    averaged = train_base(samples, tmp_path / "ema", **kw, options=_opts(3, ema_decay=0.9, warmup_steps=0))
    last = torch.load(tmp_path / "ema" / "checkpoint.pt", weights_only=True)["model"]["unet"]
    saved = load_base(tmp_path / "ema").unet.state_dict()
    assert any(not torch.equal(saved[k], last[k]) for k in last)  # the average, not the last step
    assert all(torch.equal(saved[k], v) for k, v in averaged.unet.state_dict().items())
    train_base(samples, tmp_path / "raw", **kw, options=_opts(3, ema_decay=0.0, warmup_steps=0))
    last = torch.load(tmp_path / "raw" / "checkpoint.pt", weights_only=True)["model"]["unet"]
    saved = load_base(tmp_path / "raw").unet.state_dict()
    assert all(torch.equal(saved[k], last[k]) for k in last)


def test_diffusion_loss_weights_and_timestep_range():
    from facecraft.synth.adapter_base import face_scheduler
    from facecraft.synth.adapter_train import diffusion_loss

    sched = face_scheduler()
    x0 = torch.zeros(64, 3, 4, 4)
    zero = lambda x, t: torch.zeros_like(x)  # noqa: E731
    plain = diffusion_loss(zero, x0, sched, generator=torch.Generator().manual_seed(0), snr_gamma=None)
    weighted = diffusion_loss(zero, x0, sched, generator=torch.Generator().manual_seed(0))
    assert float(plain) == pytest.approx(1.0, abs=0.1) and float(weighted) < float(plain)  # min-SNR weights <= 1
    seen = []
    diffusion_loss(lambda x, t: seen.append(t) or x, x0, sched, generator=torch.Generator(), t_min=300, t_max=400)
    assert 300 <= int(seen[0].min()) and int(seen[0].max()) < 400
    with pytest.raises(ParameterError, match="t_min"):
        diffusion_loss(zero, x0, sched, generator=torch.Generator(), t_min=500, t_max=400)


def test_sources_pair_each_edit_with_its_photo():
    samples = synthetic_samples(n=6)  # photo, edit, photo, edit, ... of p0, p0, p1, p1, p2, p2
    assert samples.sources().tolist() == [0, 0, 2, 2, 4, 4]
    from facecraft.rigs.errors import FileFormatError

    samples.person[1] = "someone else"
    with pytest.raises(FileFormatError, match="edit row 1"):
        samples.sources()


def test_pair_batches_start_at_the_source_photo():
    from facecraft.synth.adapter_train import PairBatches

    samples = synthetic_samples(n=4)
    batches = PairBatches(samples, from_source=1.0, batch_size=64, generator=torch.Generator().manual_seed(0),
                          device="cpu")  # fmt: skip
    start, target, cond = next(batches)
    images = torch.from_numpy(samples.images).permute(0, 3, 1, 2).float() / 127.5 - 1.0
    photos = {0: images[0], 2: images[2]}
    for s, t in zip(start, target, strict=True):
        # the start is the photo (or its mirror) of the target's pair; photos pair with themselves
        j = next(j for j in (0, 1, 2, 3) if torch.equal(t, images[j]) or torch.equal(t, images[j].flip(-1)))
        flipped = not torch.equal(t, images[j])
        want = photos[j - j % 2].flip(-1) if flipped else photos[j - j % 2]
        assert torch.allclose(s, want)
    assert cond.shape == (64, 107)


def test_shift_loss_is_zero_when_the_condition_moves_x0_to_the_target():
    from facecraft.synth.adapter_base import face_scheduler
    from facecraft.synth.adapter_train import shift_loss

    sched = face_scheduler()
    gen = torch.Generator().manual_seed(0)
    start, target = torch.zeros(4, 3, 8, 8), torch.full((4, 3, 8, 8), 0.3)
    on, off = torch.ones(4, 1, 1), torch.zeros(4, 1, 1)
    alpha = sched.alphas_cumprod

    def perfect(x, t, tok):  # eps shift that moves the x0 estimate by exactly target - start when tok is on
        k = ((1 - alpha[t]) / alpha[t]).sqrt().view(-1, 1, 1, 1)
        return torch.ones_like(x) - tok.view(-1, 1, 1, 1) * (target - start) / k

    ignore = lambda x, t, tok: torch.ones_like(x)  # noqa: E731  (a condition that changes nothing)
    kw = dict(generator=gen, t_max=650)
    assert float(shift_loss(perfect, start, target, on, off, sched, **kw)) == pytest.approx(0.0, abs=1e-8)
    assert float(shift_loss(ignore, start, target, on, off, sched, **kw)) == pytest.approx(0.09, rel=1e-5)
    with pytest.raises(ParameterError, match="t_min"):
        shift_loss(ignore, start, target, on, off, sched, generator=gen, t_min=700, t_max=650)


def test_train_adapter_shift_objective_keeps_the_null_branch_the_base(tmp_path):
    samples = synthetic_samples()
    base = train_base(samples, tmp_path / "base", channels=(8, 16), context_dim=16, options=_opts(1))
    adapter = train_adapter(base, samples, tmp_path / "au", num_tokens=2, hidden_dim=8, objective="shift",
                            options=_opts(3, warmup_steps=0))  # fmt: skip
    assert torch.equal(adapter.au_proj.null_tokens, torch.zeros_like(adapter.au_proj.null_tokens))
    torch.manual_seed(0)  # the trainer's seed: the same initial weights
    initial = AUAdapter.for_unet(base.unet, num_tokens=2, hidden_dim=8).state_dict()
    trained = adapter.state_dict()
    assert any(not torch.equal(trained[k], initial[k]) for k in initial if "to_v" in k)  # the K/V layers trained
    report = json.loads((tmp_path / "au" / "train.json").read_text())
    assert report["objective"] == "shift" and report["steps"] == 3 and report["from_source"] == 0.5
    with pytest.raises(ParameterError, match="objective"):
        train_adapter(base, samples, tmp_path / "x", objective="edit", options=_opts(1))


def test_rest_only_pairs_come_from_each_persons_least_expressive_photo():
    from facecraft.synth.adapter_train import PairBatches

    rng = np.random.default_rng(0)
    cond = np.zeros((6, 107), np.float32)
    cond[0, :50] = 0.6  # p0: a smiling photo and its edit, then the rest photo and its edit
    cond[2, :50] = 0.1
    samples = FaceSamples(
        images=rng.integers(0, 255, (6, 8, 8, 3), dtype=np.uint8), cond=cond,
        person=np.array(["p0", "p0", "p0", "p0", "p1", "p1"]),
        kind=np.array(["photo", "edit", "photo", "edit", "photo", "edit"]), licence="CC BY 4.0",
    )  # fmt: skip
    assert samples.rest_photos().tolist() == [False, False, True, True, True, True]
    batches = PairBatches(samples, rest_only=True, batch_size=64, generator=torch.Generator().manual_seed(0),
                          device="cpu")  # fmt: skip
    assert set(batches.rows.tolist()) == {2, 3, 4, 5}
    images = torch.from_numpy(samples.images).permute(0, 3, 1, 2).float() / 127.5 - 1.0
    _, target, _ = next(batches)
    smiling = (images[0], images[1], images[0].flip(-1), images[1].flip(-1))
    assert not any(torch.equal(t, s) for t in target for s in smiling)


def test_still_rows_ask_the_photo_for_the_neutral_face_and_expect_no_change():
    from facecraft.synth.adapter_train import PairBatches

    samples = synthetic_samples(n=4)
    batches = PairBatches(samples, still_share=1.0, batch_size=16, generator=torch.Generator().manual_seed(0),
                          device="cpu")  # fmt: skip
    start, target, cond = next(batches)
    assert torch.equal(start, target)
    neutral = torch.from_numpy(au_condition(np.zeros(50, np.float32)))
    assert torch.allclose(cond, neutral.expand_as(cond)) and float(cond[:, :50].abs().sum()) == 0.0
