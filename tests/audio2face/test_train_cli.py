"""``facecraft a2f train`` / ``a2f corpus`` options: every default comes from the config dataclass."""

from __future__ import annotations

import dataclasses
import functools

import pytest

from facecraft.apps.cli import build_parser, main
from facecraft.audio2face import corpus as corpus_mod
from facecraft.audio2face import train as tr


@pytest.fixture
def captured(monkeypatch) -> dict:
    """Run the commands without training or building: record what they would be given."""
    got: dict = {}

    def fake_train(cfg, *, resume=False, progress=True):
        got.update(cfg=cfg, resume=resume)
        return {"steps": 0}

    @functools.wraps(corpus_mod.build_corpus)  # the parser reads the real signature's defaults
    def fake_build(out, spec, *, splits, shard, **kw):
        got.update(out=out, spec=spec, splits=splits, shard=shard)
        return {"built": 0, "failures": []}

    monkeypatch.setattr(tr, "train", fake_train)
    monkeypatch.setattr(corpus_mod, "build_corpus", fake_build)
    return got


def test_train_defaults_are_train_config_defaults(captured, capsys):
    assert main(["a2f", "train", "--corpus", "c"]) == 0
    assert captured["cfg"] == tr.TrainConfig(corpus="c") and captured["resume"] is False
    assert f"a2f calibrate --weights {tr.TrainConfig().out_dir} --corpus c" in capsys.readouterr().out


def test_every_train_config_field_is_an_option():
    train_parser = build_parser()._subparsers._group_actions[0].choices["a2f"]
    train_parser = train_parser._subparsers._group_actions[0].choices["train"]
    dests = {a.dest for a in train_parser._actions}
    fields = {f.name for f in dataclasses.fields(tr.TrainConfig)}
    assert fields - dests == {"model"}  # the model's options are --hidden and --feature-kind


def test_train_options_reach_the_config(captured):
    argv = ["a2f", "train", "--corpus", "c", "--capture", "a", "b", "--out", "o", "--steps", "7", "--lr", "1e-3",
            "--seed", "3", "--no-emotion-losses", "--closure-weight", "6", "--opening-weight", "1",
            "--channel-augment", "0.8", "--band-limit", "0.3", "--pause-augment", "0.5", "--weight-decay", "0",
            "--checkpoint-every", "5", "--hidden", "32", "--feature-kind", "whisper", "--init-from", "w",
            "--stop-after", "4", "--max-minutes", "2", "--threads", "1", "--batch-size", "3", "--frames", "9",
            "--resume", "--capture-holdout", "t3", "--capture-mix", "0.4", "--capture-channels", "jawOpen"]  # fmt: skip
    assert main(argv) == 0
    expected = tr.TrainConfig(
        corpus="c", capture_dirs=["a", "b"], out_dir="o", steps=7, lr=1e-3, seed=3, disentangle=False,
        closure_weight=6.0, opening_weight=1.0, channel_augment=0.8, band_limit=0.3, pause_augment=0.5,
        weight_decay=0.0, checkpoint_every=5, init_from="w", stop_after=4, max_minutes=2.0, threads=1,
        batch_size=3, frames=9, model={"hidden": 32, "feature_kind": "whisper"}, capture_holdout=["t3"],
        capture_mix=0.4, capture_channels=["jawOpen"],
    )  # fmt: skip
    assert captured["cfg"] == expected and captured["resume"] is True


def test_train_help_shows_the_config_defaults(capsys):
    with pytest.raises(SystemExit):
        main(["a2f", "train", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    d = tr.TrainConfig()
    assert f"(default {d.steps})" in text and f"(default {d.batch_size})" in text and f"(default {d.lr})" in text


def test_corpus_defaults_are_corpus_spec_defaults(captured, tmp_path):
    sentences = tmp_path / "s.txt"
    sentences.write_text("One sentence.\nAnother one.\n")
    assert main(["a2f", "corpus", "--out", str(tmp_path / "c"), "--sentences", str(sentences)]) == 0
    spec = captured["spec"]
    default = corpus_mod.CorpusSpec(sentences=spec.sentences)
    assert (spec.fps, spec.seed, spec.augmentations_per_clip) == (
        default.fps, default.seed, default.augmentations_per_clip
    )  # fmt: skip
    assert tuple(spec.voices) == tuple(corpus_mod.ALL_VOICES)
    assert tuple(captured["splits"]) == ("train", "eval") and captured["shard"] == (0, 1)
