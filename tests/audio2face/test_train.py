"""Training: the disentanglement losses, batches, a 2-step run + resume, and real-capture readers."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

sys.path.insert(0, str(Path(__file__).parent))
from a2f_helpers import fake_corpus, fake_speech, tiny_model  # noqa: E402

from facecraft.audio2face import train as tr  # noqa: E402
from facecraft.rigs import EMOTIONS  # noqa: E402
from facecraft.rigs.emotion_space import PROTOTYPE_ARKIT, region_mask  # noqa: E402
from facecraft.rigs.errors import FileFormatError, MissingFileError  # noqa: E402


def test_lip_loss_zero_when_mouths_match_whatever_the_upper_face():
    rng = np.random.default_rng(0)
    neutral = torch.from_numpy(rng.random((2, 10, 52)).astype(np.float32))
    pred = neutral.clone()
    upper = torch.from_numpy(~region_mask("speech"))
    pred[..., upper] = 1.0 - pred[..., upper]  # a different upper face, same mouth
    assert float(tr.lip_loss(pred, neutral)) == 0.0
    pred2 = pred.clone()
    pred2[..., 17] += 0.2  # jawOpen differs
    assert float(tr.lip_loss(pred2, neutral)) > 0.0


def test_swap_loss():
    a = torch.rand(2, 8, 52)
    b = a.clone()
    b[..., torch.from_numpy(region_mask("emotion"))] = 0.0
    assert float(tr.swap_loss(a, b)) == 0.0
    b[..., 17] += 0.1
    assert float(tr.swap_loss(a, b)) == pytest.approx(0.01 / int(region_mask("speech").sum()), rel=1e-4)


def test_emotion_logits_recognise_prototypes():
    protos = torch.from_numpy(PROTOTYPE_ARKIT) * 0.8  # (8, 52) every emotion at intensity 0.8
    logits = tr.emotion_logits(protos)
    neutral = EMOTIONS.index("neutral")
    for k in range(len(EMOTIONS)):
        if k != neutral:
            assert int(logits[k].argmax()) == k
    assert float(logits[neutral, neutral]) == float(logits[neutral].max())  # a blank face: neutral ties at the top
    labels = torch.arange(len(EMOTIONS))[:, None]
    good = tr.emotion_class_loss(protos[:, None], labels)
    bad = tr.emotion_class_loss(protos[:, None], (labels + 1) % len(EMOTIONS))
    assert float(good) < float(bad)


def test_batches_pair_one_clip_with_two_emotions(tmp_path):
    clips = tr.load_corpus_clips(fake_corpus(tmp_path / "c", n_items=2), split="train", kind="logmel", fps=30.0,
                                 progress=False)  # fmt: skip
    assert len(clips) == 2 and clips[0].teacher.shape[0] == 8
    s = tr.BatchSampler(clips, frames=12, batch_size=3, seed=0)
    b = s.synthetic(0)
    assert b["features"].shape == (3, 12, 80) and b["target_a"].shape == (3, 12, 52)
    assert b["code_a"].shape == (3, 12, 57) and b["label_b"].shape == (3, 12)
    # same step -> same batch (seeded); another step -> another batch
    assert torch.equal(s.synthetic(0)["code_a"], b["code_a"])
    assert not torch.equal(s.synthetic(1)["code_a"], b["code_a"])
    # targets keep the neutral mouth's timing but add the emotion's channels
    m = torch.from_numpy(region_mask("emotion"))
    diff = (b["target_a"] - b["neutral"])[..., m].abs().sum()
    assert float(diff) > 0


def test_channel_augmentation_changes_level_and_tilt_but_not_silence(tmp_path):
    rng = np.random.default_rng(0)
    floor = np.log(tr.LOGMEL_FLOOR)
    feats = np.full((6, 80), floor, np.float32)
    feats[3:] = -5.0  # three speech frames after three silent ones
    out = tr.random_channel(feats, rng, noise=False)
    assert np.allclose(out[:3], floor, atol=1e-5)  # silence stays at the front-end's floor
    shift = out[3:] - feats[3:]
    assert np.allclose(shift, shift[0], atol=1e-4)  # one gain + tilt curve, the same in every frame
    slope = np.polyfit(np.arange(80), shift[0], 1)[0] * 79
    assert tr.CHANNEL_TILT[0] - 0.1 <= slope <= tr.CHANNEL_TILT[1] + 0.1
    noisy = tr.random_channel(feats, np.random.default_rng(1))
    assert tr.NOISE_LEVEL[0] - 3 < noisy[:3].mean() < tr.NOISE_LEVEL[1] + 3  # silence gets a noise floor
    assert noisy[:3, :4].mean() >= noisy[:3, -4:].mean() - 1.5  # rumble: low bands not below high ones
    clips = tr.load_corpus_clips(fake_corpus(tmp_path / "c", n_items=1), split="train", kind="logmel", fps=30.0,
                                 progress=False)  # fmt: skip
    plain = tr.BatchSampler(clips, frames=10, batch_size=2, seed=0).synthetic(0)
    aug = tr.BatchSampler(clips, frames=10, batch_size=2, seed=0, channel_augment=1.0).synthetic(0)
    assert not torch.equal(plain["features"], aug["features"]) and torch.equal(plain["neutral"], aug["neutral"])


def test_band_limit_removes_the_bands_outside_the_pass_band_only():
    resp = tr.band_limit_response(80, 300.0, 3400.0, 8.0)
    f = tr._mel_centres(80)
    assert resp[f < 150].max() < -7.0 and resp[f > 5000].max() < -7.0  # stop bands
    assert resp[(f > 600) & (f < 2500)].min() > -0.5  # pass band
    feats = np.full((4, 80), -5.0, np.float32)
    plain = tr.random_channel(feats, np.random.default_rng(3), noise=False)
    off = tr.random_channel(feats, np.random.default_rng(3), noise=False, band_limit=0.0)
    assert np.array_equal(plain, off)  # off draws nothing: earlier runs reproduce
    on = tr.random_channel(feats, np.random.default_rng(3), noise=False, band_limit=1.0)
    assert (on - plain)[:, f < 100].max() < -3.0
    with pytest.raises(tr.ParameterError, match="channel_augment"):
        tr.train(tr.TrainConfig(corpus="x", band_limit=0.5), progress=False)


def test_pause_insertion_relaxes_the_mouth_and_keeps_lengths():
    from facecraft.audio2face.teacher import SPEECH_INDEX

    rng = np.random.default_rng(0)
    feats = np.full((40, 80), -5.0, np.float32)  # loud speech everywhere
    teacher = np.full((len(EMOTIONS), 40, 52), 0.4, np.float32)
    teacher[:, :, 0] = np.linspace(0, 1, 40)  # a non-speech channel that runs on
    f, t = tr.insert_pause(feats, teacher, rng)
    assert f.shape == feats.shape and t.shape == teacher.shape
    quiet = np.where(f.mean(1) < -8.0)[0]
    assert tr.PAUSE_FRAMES[0] <= len(quiet) <= tr.PAUSE_FRAMES[1] and np.all(np.diff(quiet) == 1)
    middle = quiet[len(quiet) // 2]
    assert np.allclose(t[:, middle][:, SPEECH_INDEX], 0.0)  # neutral and emotions alike: no speech share here
    assert t[0, middle, 0] > t[0, quiet[0] - 1, 0]  # non-speech channels keep moving through the pause
    clips_off = tr.BatchSampler([tr.Clip("x", feats, teacher=teacher)], frames=40, batch_size=2, seed=0).synthetic(0)
    clips_on = tr.BatchSampler([tr.Clip("x", feats, teacher=teacher)], frames=40, batch_size=2, seed=0,
                               pause_augment=1.0).synthetic(0)  # fmt: skip
    assert torch.equal(clips_off["code_a"], clips_on["code_a"])  # own random stream
    assert not torch.equal(clips_off["features"], clips_on["features"])


@pytest.mark.parametrize("disentangle", [True, False])
def test_losses_are_finite_and_backprop(tmp_path, disentangle):
    clips = tr.load_corpus_clips(fake_corpus(tmp_path / "c", n_items=1), split="train", kind="logmel", fps=30.0,
                                 progress=False)  # fmt: skip
    m = tiny_model().train()
    terms = tr.synthetic_losses(m, tr.BatchSampler(clips, frames=10, batch_size=2, seed=0).synthetic(0),
                                disentangle=disentangle)  # fmt: skip
    assert ("swap" in terms) == disentangle and ("lip" in terms) == disentangle
    terms["total"].backward()
    assert all(torch.isfinite(p.grad).all() for p in m.parameters() if p.grad is not None)


def test_two_steps_then_resume(tmp_path):
    corpus = fake_corpus(tmp_path / "c", n_items=3)
    small = {"hidden": 16, "emotion_hidden": 8, "dilations": (1, 2), "decoder_layers": 1}
    cfg = tr.TrainConfig(corpus=str(corpus), out_dir=str(tmp_path / "run"), steps=4, stop_after=2, batch_size=2,
                         frames=12, checkpoint_every=1, model=small)  # fmt: skip
    r = tr.train(cfg, progress=False)
    assert r["steps"] == 2 and (tmp_path / "run" / "checkpoint.pt").exists()
    assert (tmp_path / "run" / "model.safetensors").exists()
    first = tr.A2FModel.from_pretrained(tmp_path / "run")
    assert first.config.meta["train"]["steps_done"] == 2
    cfg.stop_after = None
    r2 = tr.train(cfg, resume=True, progress=False)
    assert r2["steps"] == 4
    # resuming reproduces an uninterrupted 4-step run exactly (seeded per step)
    cfg2 = tr.TrainConfig(**{**vars(cfg), "out_dir": str(tmp_path / "run2")})
    tr.train(cfg2, progress=False)
    a = tr.A2FModel.from_pretrained(tmp_path / "run").state_dict()
    b = tr.A2FModel.from_pretrained(tmp_path / "run2").state_dict()
    assert all(torch.allclose(a[k], b[k], atol=1e-6) for k in a)
    with pytest.raises(MissingFileError):
        tr.train(tr.TrainConfig(**{**vars(cfg), "out_dir": str(tmp_path / "none")}), resume=True, progress=False)
    # fine-tuning keeps the earlier stages' settings as provenance
    ft = tr.TrainConfig(**{**vars(cfg), "out_dir": str(tmp_path / "ft"), "init_from": str(tmp_path / "run"),
                           "steps": 1, "lr": 1e-4})  # fmt: skip
    tr.train(ft, progress=False)
    meta = tr.A2FModel.from_pretrained(tmp_path / "ft").config.meta
    assert [h["out_dir"] for h in meta["history"]] == [str(tmp_path / "run")] and meta["train"]["lr"] == 1e-4


def test_capture_readers(tmp_path):
    import soundfile as sf

    from facecraft.rigs.animation import FaceAnimation

    d = tmp_path / "cap"
    d.mkdir()
    y, _ = fake_speech(0)
    sf.write(d / "take.wav", y, 16000)
    t = int(len(y) / 16000 * 60)
    curves = np.zeros((t, 52), np.float32)
    curves[:, 17] = np.linspace(0, 1, t)
    np.savez(d / "flame.npz", flame_expression=np.ones((50, 10), np.float32), flame_jaw=np.zeros((50, 3)), fps=25.0)
    sf.write(d / "flame.wav", y[:32000], 16000)
    try:
        from facecraft.rigs.exchange import export_animation

        export_animation(FaceAnimation(curves, fps=60.0), d / "take.csv")
    except ImportError:
        pytest.skip("Live Link Face writer not available")
    clips = tr.load_capture_clips(d, kind="logmel", fps=30.0)
    by_id = {c.id: c for c in clips}
    assert by_id["take"].arkit.shape[1] == 52 and abs(len(by_id["take"].arkit) - t / 2) <= 2
    assert by_id["flame"].flame_expression.shape == (60, 10) and by_id["flame"].flame_jaw.shape == (60, 3)
    (d / "bad.npz").write_bytes(b"x")
    (d / "empty").mkdir()
    with pytest.raises(FileFormatError):
        tr.load_capture_clips(d / "empty", kind="logmel", fps=30.0)


def test_train_log_is_jsonl(tmp_path):
    corpus = fake_corpus(tmp_path / "c", n_items=2)
    cfg = tr.TrainConfig(corpus=str(corpus), out_dir=str(tmp_path / "run"), steps=20, batch_size=2, frames=12,
                         model={"hidden": 8, "emotion_hidden": 4, "dilations": (1,), "decoder_layers": 0})  # fmt: skip
    tr.train(cfg, progress=False)
    lines = (tmp_path / "run" / "train_log.jsonl").read_text().splitlines()
    rec = json.loads(lines[-1])
    assert rec["step"] == 20 and {"lip", "swap", "emotion_class", "total"} <= set(rec)


def test_closure_loss_targets_sealed_frames_only():
    target = torch.zeros(1, 4, 52)
    target[0, :2, tr.JAW] = 0.3  # open frames
    target[0, 2:, tr.JAW] = 0.1
    target[0, 2:, tr.CLOSE] = 0.1  # sealed frames
    target[0, 2:, tr.PRESS] = 0.35  # pressed: a bilabial closure (not a rest pose)
    pred = target.clone()
    assert float(tr.closure_loss(pred, target)) == 0.0
    pred[0, :2, tr.JAW] += 0.2  # errors on open frames do not count here
    assert float(tr.closure_loss(pred, target)) == 0.0
    pred[0, 2:, tr.CLOSE] = 0.0  # lips part where they should be sealed
    assert float(tr.closure_loss(pred, target)) > 0.0


def test_opening_loss_penalises_under_opening_on_open_frames_only():
    target = torch.zeros(1, 4, 52)
    target[0, :2, tr.JAW] = 0.4  # open vowel frames (gap 0.4)
    target[0, 2:, tr.JAW] = 0.1
    target[0, 2:, tr.CLOSE] = 0.1  # sealed frames
    pred = target.clone()
    assert float(tr.opening_loss(pred, target)) == 0.0
    pred[0, 2:, tr.CLOSE] = 0.0  # errors on sealed frames do not count here
    assert float(tr.opening_loss(pred, target)) == 0.0
    pred = target.clone()
    pred[0, :2, tr.JAW] = 0.2  # under-opened vowel
    under = float(tr.opening_loss(pred, target))
    pred[0, :2, tr.JAW] = 0.6  # over-opened by the same amount: MSE only, no one-sided term
    over = float(tr.opening_loss(pred, target))
    assert under > over > 0.0
