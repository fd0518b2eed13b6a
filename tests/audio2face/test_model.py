"""The learned model: shapes, causality/look-ahead, FLAME heads, save/load round trip, load errors."""

from __future__ import annotations

import json

import pytest
import torch

from facecraft.audio2face.model import A2FConfig, A2FModel
from facecraft.rigs.emotion_space import EMOTION_CODE_DIM
from facecraft.rigs.errors import FileFormatError, MissingFileError, ParameterError


def tiny(**kw) -> A2FModel:
    torch.manual_seed(0)
    cfg = dict(num_features=8, hidden=16, emotion_hidden=8, dilations=(1, 2), decoder_layers=1, dropout=0.0)
    cfg.update(kw)
    return A2FModel(A2FConfig(**cfg)).eval()


def test_forward_shapes_and_range():
    m = tiny()
    out = m(torch.randn(3, 20, 8), torch.rand(3, 20, EMOTION_CODE_DIM) * 0.1)
    assert out.arkit.shape == (3, 20, 52)
    assert float(out.arkit.min()) >= 0 and float(out.arkit.max()) <= 1
    assert out.flame_expression is None and out.flame_jaw is None
    assert m(torch.randn(1, 1, 8)).arkit.shape == (1, 1, 52)  # one frame, neutral emotion


def test_flame_heads():
    m = tiny(flame_expression_dim=10, flame_jaw=True)
    out = m(torch.randn(2, 12, 8))
    assert out.flame_expression.shape == (2, 12, 10) and out.flame_jaw.shape == (2, 12, 3)


@pytest.mark.parametrize("lookahead", [0, 1, 3])
def test_output_sees_exactly_lookahead_future_frames(lookahead):
    m = tiny(lookahead=lookahead)
    x = torch.randn(1, 40, 8)
    base = m(x).arkit
    t = 20
    later = x.clone()
    later[:, t + lookahead + 1 :] += 5.0  # beyond the look-ahead: frame t must not change
    assert torch.allclose(m(later).arkit[:, : t + 1], base[:, : t + 1], atol=1e-6)
    near = x.clone()
    near[:, t + lookahead] += 5.0  # inside the look-ahead: frame t changes
    assert not torch.allclose(m(near).arkit[:, t], base[:, t], atol=1e-6)


def test_emotion_changes_output():
    m = tiny()
    x = torch.randn(1, 10, 8)
    e = torch.zeros(1, 10, EMOTION_CODE_DIM)
    e[..., 0] = 1.0
    assert not torch.allclose(m(x).arkit, m(x, e).arkit)


def test_bad_inputs_raise():
    m = tiny()
    with pytest.raises(ParameterError, match="features"):
        m(torch.randn(1, 10, 9))
    with pytest.raises(ParameterError, match="emotion"):
        m(torch.randn(1, 10, 8), torch.zeros(1, 9, EMOTION_CODE_DIM))
    with pytest.raises(ParameterError, match="hidden"):
        A2FConfig(hidden=0)


@pytest.mark.parametrize("target", ["folder", "file.safetensors"])
def test_save_load_round_trip(tmp_path, target):
    m = tiny(feature_mean=[0.5] * 8, feature_std=[2.0] * 8, meta={"note": "x"})
    path = m.save_pretrained(tmp_path / target)
    assert path.suffix == ".safetensors" and path.exists()
    m2 = A2FModel.from_pretrained(tmp_path / target)
    assert m2.config == m.config
    x = torch.randn(2, 15, 8)
    assert torch.equal(m(x).arkit, m2(x).arkit)
    assert not m2.training


def test_load_errors(tmp_path):
    with pytest.raises(MissingFileError):
        A2FModel.from_pretrained(tmp_path / "nothing")
    (tmp_path / "rig.glb").write_bytes(b"glTF")  # was "weights not found: rig.glb/model.safetensors"
    with pytest.raises(ParameterError, match="rig.glb: expected an audio2face model folder or its .safetensors"):
        A2FModel.from_pretrained(tmp_path / "rig.glb")
    (tmp_path / "lone.safetensors").write_bytes(b"x")
    with pytest.raises(MissingFileError, match=r"lone.json \(a model's lone.safetensors needs its config"):
        A2FModel.from_pretrained(tmp_path / "lone.safetensors")
    m = tiny()
    m.save_pretrained(tmp_path / "a")
    cfg = json.loads((tmp_path / "a" / "config.json").read_text())
    cfg["hidden"] = 32  # weights no longer match
    (tmp_path / "a" / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(FileFormatError, match="do not match"):
        A2FModel.from_pretrained(tmp_path / "a")
    (tmp_path / "a" / "config.json").write_text(json.dumps({"bogus": 1}))
    with pytest.raises(FileFormatError, match="unknown keys"):
        A2FModel.from_pretrained(tmp_path / "a")
    (tmp_path / "a" / "model.safetensors").write_bytes(b"not safetensors")
    (tmp_path / "a" / "config.json").write_text(json.dumps(m.config.to_dict()))
    with pytest.raises(FileFormatError):
        A2FModel.from_pretrained(tmp_path / "a")


def test_shipped_weights_load_and_are_small():
    from facecraft.audio2face.model import DEFAULT_WEIGHTS, load_default_model

    assert DEFAULT_WEIGHTS.exists(), "the shipped weights are part of the repository"
    m = load_default_model()
    assert DEFAULT_WEIGHTS.stat().st_size < 5e6
    assert m.config.feature_kind == "logmel" and m.latency_s <= 0.1
    assert m(torch.zeros(1, 5, m.config.num_features)).arkit.shape == (1, 5, 52)
