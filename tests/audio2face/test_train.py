"""The training loop: runs, resume, fine-tuning provenance, capture, the log, and option checks."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

sys.path.insert(0, str(Path(__file__).parent))
from a2f_helpers import fake_corpus, fake_facegood_dir, fake_speech  # noqa: E402

from facecraft.audio2face import train as tr  # noqa: E402
from facecraft.audio2face.lip_state import CLOSURE_PRESS  # noqa: E402
from facecraft.audio2face.model import A2FModel  # noqa: E402
from facecraft.rigs.errors import MissingFileError, ParameterError  # noqa: E402

SMALL = {"hidden": 16, "emotion_hidden": 8, "dilations": (1, 2), "decoder_layers": 1}


def _weights(folder: Path) -> dict[str, torch.Tensor]:
    return A2FModel.from_pretrained(folder).state_dict()


def test_two_steps_then_resume(tmp_path):
    corpus = fake_corpus(tmp_path / "c", n_items=3)
    cfg = tr.TrainConfig(corpus=str(corpus), out_dir=str(tmp_path / "run"), steps=4, stop_after=2, batch_size=2,
                         frames=12, checkpoint_every=1, model=SMALL, channel_augment=0.5, band_limit=0.5,
                         pause_augment=0.5, closure_weight=1.0, opening_weight=1.0)  # fmt: skip
    r = tr.train(cfg, progress=False)
    assert r["steps"] == 2 and (tmp_path / "run" / "checkpoint.pt").exists()
    first = A2FModel.from_pretrained(tmp_path / "run")
    assert first.config.meta["train"]["steps_done"] == 2
    # the teacher's closure press the targets were made with, for inference to rescale the model's press from
    assert first.config.meta["teacher"] == {"closure_press": CLOSURE_PRESS}
    cfg.stop_after = None
    r2 = tr.train(cfg, resume=True, progress=False)
    assert r2["steps"] == 4
    # resuming reproduces an uninterrupted 4-step run exactly (seeded per step, torch RNG in the checkpoint)
    tr.train(tr.TrainConfig(**{**vars(cfg), "out_dir": str(tmp_path / "run2")}), progress=False)
    a, b = _weights(tmp_path / "run"), _weights(tmp_path / "run2")
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    assert not all(torch.equal(a[k], first.state_dict()[k]) for k in a)  # the last two steps did train
    with pytest.raises(MissingFileError):
        tr.train(tr.TrainConfig(**{**vars(cfg), "out_dir": str(tmp_path / "none")}), resume=True, progress=False)
    # fine-tuning keeps the earlier stages' settings as provenance
    ft = tr.TrainConfig(**{**vars(cfg), "out_dir": str(tmp_path / "ft"), "init_from": str(tmp_path / "run"),
                           "steps": 1, "lr": 1e-4})  # fmt: skip
    tr.train(ft, progress=False)
    meta = A2FModel.from_pretrained(tmp_path / "ft").config.meta
    assert [h["out_dir"] for h in meta["history"]] == [str(tmp_path / "run")] and meta["train"]["lr"] == 1e-4


def test_same_config_same_weights_another_seed_other_weights(tmp_path):
    corpus = fake_corpus(tmp_path / "c", n_items=2)
    base = dict(corpus=str(corpus), steps=3, batch_size=2, frames=12, model=SMALL, channel_augment=1.0)
    for name, seed in (("a", 0), ("b", 0), ("c", 1)):
        tr.train(tr.TrainConfig(out_dir=str(tmp_path / name), seed=seed, **base), progress=False)
    a, b, c = (_weights(tmp_path / n) for n in "abc")
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert not all(torch.equal(a[k], c[k]) for k in a)


def test_train_log_is_jsonl(tmp_path):
    corpus = fake_corpus(tmp_path / "c", n_items=2)
    cfg = tr.TrainConfig(corpus=str(corpus), out_dir=str(tmp_path / "run"), steps=20, batch_size=2, frames=12,
                         model={"hidden": 8, "emotion_hidden": 4, "dilations": (1,), "decoder_layers": 0})  # fmt: skip
    r = tr.train(cfg, progress=False)
    lines = (tmp_path / "run" / "train_log.jsonl").read_text().splitlines()
    rec = json.loads(lines[-1])
    assert rec["step"] == 20 and {"lip", "swap", "emotion_class", "total"} <= set(rec)
    assert rec["total"] == pytest.approx(r["losses"]["total"]) and r["clips"] == {"synthetic": 2, "capture": 0}


def test_capture_only_training_grows_flame_heads(tmp_path):
    import soundfile as sf

    d = tmp_path / "cap"
    d.mkdir()
    y, _ = fake_speech(1)
    sf.write(d / "take.wav", y[:48000], 16000)
    rng = np.random.default_rng(0)
    np.savez(d / "take.npz", flame_expression=rng.normal(size=(75, 6)).astype(np.float32),
             flame_jaw=rng.normal(scale=0.1, size=(75, 3)), fps=25.0)  # fmt: skip
    r = tr.train(tr.TrainConfig(capture_dirs=[str(d)], out_dir=str(tmp_path / "run"), steps=2, batch_size=2,
                                frames=12, model=SMALL), progress=False)  # fmt: skip
    assert r["clips"] == {"synthetic": 0, "capture": 1} and {"flame_expression", "flame_jaw"} <= set(r["losses"])
    cfg = A2FModel.from_pretrained(tmp_path / "run").config
    assert cfg.flame_expression_dim == 6 and cfg.flame_jaw


def test_options_are_checked_before_any_work(tmp_path):
    with pytest.raises(ParameterError, match="channel_augment"):
        tr.train(tr.TrainConfig(corpus="x", band_limit=0.5, out_dir=str(tmp_path / "a")), progress=False)
    with pytest.raises(ParameterError, match="log-mel"):
        tr.train(tr.TrainConfig(corpus=str(tmp_path / "nothing here"), channel_augment=0.5, out_dir=str(tmp_path / "b"),
                                model={"feature_kind": "whisper"}), progress=False)  # fmt: skip
    with pytest.raises(ParameterError, match="corpus folder and/or capture"):
        tr.train(tr.TrainConfig(out_dir=str(tmp_path / "c")), progress=False)
    with pytest.raises(ParameterError, match="capture_mix"):
        tr.train(tr.TrainConfig(corpus="x", capture_mix=1.5, out_dir=str(tmp_path / "d")), progress=False)


def test_capture_channels_narrow_what_capture_supervises(tmp_path):
    from facecraft.audio2face import facegood
    from facecraft.audio2face.model import A2FConfig
    from facecraft.rigs.arkit import ARKIT_INDEX

    d = tmp_path / "fg"
    fake_facegood_dir(d, {"a": lambda names: np.full((60, len(names)), 0.2)})
    cfg = tr.TrainConfig(capture_dirs=[str(d)], capture_channels=["jawOpen", "mouthClose"])
    _, capture = tr._load_clips(cfg, A2FConfig(), progress=False)
    # mouthClose is asked for but FACEGOOD has no counterpart: only the jaw stays supervised
    assert np.flatnonzero(capture[0].arkit_mask).tolist() == [ARKIT_INDEX["jawOpen"]]
    _, every = tr._load_clips(tr.TrainConfig(capture_dirs=[str(d)]), A2FConfig(), progress=False)
    assert np.array_equal(every[0].arkit_mask, facegood.MASK)
    with pytest.raises(ParameterError, match="jawopen"):
        tr._load_clips(tr.TrainConfig(capture_dirs=[str(d)], capture_channels=["jawopen"]), A2FConfig(), progress=False)


def test_a_checkpoint_write_that_fails_keeps_the_last_checkpoint_and_no_part_file(tmp_path, monkeypatch):
    model = torch.nn.Linear(2, 1)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: 1.0)
    path = tmp_path / "checkpoint.pt"
    tr.save_checkpoint(path, model=model, optimizer=optimizer, scheduler=scheduler, step=3, elapsed=1.0)
    before = path.read_bytes()

    def killed(obj, file):
        open(file, "wb").write(b"half")  # noqa: SIM115 - a write stopped part way
        raise KeyboardInterrupt

    monkeypatch.setattr(tr.torch, "save", killed)
    with pytest.raises(KeyboardInterrupt):
        tr.save_checkpoint(path, model=model, optimizer=optimizer, scheduler=scheduler, step=4, elapsed=2.0)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["checkpoint.pt"]  # was: checkpoint.tmp left behind
