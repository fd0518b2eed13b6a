"""FLAME expression + jaw out of ``animate``: retargeted to a user's FLAME file, or from a model's FLAME heads."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from facecraft.apps.cli import main
from facecraft.audio2face import animate as an
from facecraft.rigs import ARKIT_INDEX
from facecraft.rigs.animation import FaceAnimation
from facecraft.rigs.errors import FileFormatError, MissingFileError, ParameterError
from tests.rigs.flame_fixture import build_flame_model, write_embedding_pkl, write_flame_npz

from .a2f_helpers import tiny_model

N_EXPR = 10  # expression components of the fixture FLAME file
JAW = ARKIT_INDEX["jawOpen"]


@pytest.fixture(scope="module")
def flame_arrays() -> dict:
    return build_flame_model(n_shape=10, n_expression=N_EXPR, seed=5)


@pytest.fixture(scope="module")
def flame_path(tmp_path_factory, flame_arrays) -> Path:
    return write_flame_npz(tmp_path_factory.mktemp("flame") / "flame.npz", flame_arrays)  # embedding inside


@pytest.fixture(scope="module")
def heads_model():
    return tiny_model(flame_expression_dim=7, flame_jaw=True)


def _jaw_angle(jaw: np.ndarray) -> np.ndarray:
    return np.linalg.norm(jaw, axis=1)


def test_retarget_opens_the_flame_jaw_with_jaw_open(flame_path):
    curves = np.zeros((8, 52), np.float32)
    curves[1::2, JAW] = 0.8
    anim = an.retarget_flame(FaceAnimation(curves), an.load_flame(flame_path))
    assert anim.flame_expression.shape == (8, N_EXPR) and anim.flame_jaw.shape == (8, 3)
    assert np.isfinite(anim.flame_expression).all() and np.isfinite(anim.flame_jaw).all()
    angle = _jaw_angle(anim.flame_jaw)
    assert angle[1::2].min() > 0.05  # radians: an open jaw
    assert angle[0::2].max() < 0.01  # neutral frames stay closed
    assert angle[1::2].min() > 10 * angle[0::2].max()


def test_procedural_file_with_flame_model(tmp_path, flame_path, espeak_speech):
    out = tmp_path / "x.npz"
    anim = an.animate_file(
        espeak_speech.path, out, flame_model=flame_path, mode="procedural", transcript=espeak_speech.text, fps=10
    )
    with np.load(out) as z:
        expr, jaw = z["flame_expression"], z["flame_jaw"]
    t = anim.num_frames
    assert expr.shape == (t, N_EXPR) and jaw.shape == (t, 3)
    assert np.isfinite(expr).all() and np.isfinite(jaw).all()
    np.testing.assert_allclose(jaw, anim.flame_jaw, atol=1e-6)
    opening = anim.curves[:, JAW]
    open_, closed = opening > 0.3, opening < 0.06
    assert open_.sum() >= 3 and closed.sum() >= 3
    angle = _jaw_angle(jaw)
    assert np.median(angle[open_]) > 3 * max(np.median(angle[closed]), 1e-3)
    assert anim.meta["flame"]["source"] == "retarget"


def test_model_flame_heads_fill_the_animation(tmp_path, fake_wav, heads_model):
    y, _ = sf.read(fake_wav, dtype="float32")
    anim = an.animate_audio(y, weights=heads_model)
    assert anim.flame_expression.shape == (anim.num_frames, 7) and anim.flame_jaw.shape == (anim.num_frames, 3)
    assert np.isfinite(anim.flame_expression).all() and np.abs(anim.flame_expression).max() > 0
    out = tmp_path / "h.npz"
    written = an.animate_file(fake_wav, out, weights=heads_model, fps=60)
    with np.load(out) as z:
        assert z["flame_expression"].shape == (written.num_frames, 7) and z["flame_jaw"].shape[1] == 3
    assert written.num_frames == 2 * anim.num_frames
    silent = an.animate_audio(np.zeros(8000, np.float32), weights=heads_model)
    assert np.abs(silent.flame_expression).max() == 0 and np.abs(silent.flame_jaw).max() == 0


def test_model_heads_win_over_a_flame_model(tmp_path, fake_wav, heads_model, flame_path, caplog):
    with caplog.at_level(logging.INFO, logger="facecraft.audio2face.animate"):
        anim = an.animate_file(fake_wav, tmp_path / "h.npz", weights=heads_model, flame_model=flame_path)
    assert anim.flame_expression.shape[1] == 7  # the head's width, not the FLAME file's 10
    assert anim.meta["flame"]["source"] == "model"
    assert "not needed" in caplog.text


def test_streaming_path_retargets_and_warns_about_heads(
    tmp_path, fake_wav, heads_model, flame_path, monkeypatch, caplog
):
    monkeypatch.setattr(an, "STREAM_ABOVE_S", 0.5)  # force the block path
    monkeypatch.setattr(an, "BLOCK_S", 0.4)
    with caplog.at_level(logging.WARNING, logger="facecraft.audio2face.animate"):
        bare = an.animate_file(fake_wav, tmp_path / "s.npz", weights=heads_model)
    assert bare.flame_expression is None and "FLAME heads are not used" in caplog.text
    anim = an.animate_file(fake_wav, tmp_path / "s.npz", weights=heads_model, flame_model=flame_path, fps=10)
    assert anim.flame_expression.shape == (anim.num_frames, N_EXPR) and anim.flame_jaw.shape == (anim.num_frames, 3)
    assert anim.meta["flame"]["source"] == "retarget"


def test_flame_errors(tmp_path, fake_wav, tiny_model_dir, flame_arrays, flame_path):
    with pytest.raises(ParameterError, match=r"only to \.npz"):
        an.animate_file(fake_wav, tmp_path / "x.csv", weights=tiny_model_dir, flame_model=flame_path)
    assert not (tmp_path / "x.csv").exists()
    with pytest.raises(ParameterError, match=r"only to \.npz"):
        an.animate_file(fake_wav, tmp_path / "x.glb", weights=tiny_model_dir, flame_model=flame_path)
    with pytest.raises(MissingFileError, match="nope.pkl"):
        an.animate_file(fake_wav, tmp_path / "x.npz", weights=tiny_model_dir, flame_model=tmp_path / "nope.pkl")
    junk = tmp_path / "junk.pkl"
    junk.write_bytes(b"not a pickle at all")
    with pytest.raises(FileFormatError, match="junk.pkl"):
        an.animate_file(fake_wav, tmp_path / "x.npz", weights=tiny_model_dir, flame_model=junk)
    with pytest.raises(ParameterError, match="needs flame_model"):
        an.animate_file(fake_wav, tmp_path / "x.npz", weights=tiny_model_dir, flame_embedding=junk)
    # an official-style file holds no landmark embedding: ask for it, then accept it
    bare = write_flame_npz(tmp_path / "bare.npz", flame_arrays, embedding=False)
    with pytest.raises(ParameterError, match="--flame-embedding"):
        an.animate_file(fake_wav, tmp_path / "x.npz", weights=tiny_model_dir, flame_model=bare)
    emb = write_embedding_pkl(tmp_path / "emb.pkl", flame_arrays)
    assert len(an.load_flame(bare, emb).point_names) == 20


def test_cli_flame_model(tmp_path, fake_wav, tiny_model_dir, flame_path, capsys):
    """Learned mode with a model without FLAME heads: FLAME comes from retargeting."""
    out = tmp_path / "cli.npz"
    args = [
        "animate",
        str(fake_wav),
        "-o",
        str(out),
        "--weights",
        str(tiny_model_dir),
        "--flame-model",
        str(flame_path),
    ]
    rc = main([*args, "--fps", "10"])
    assert rc == 0
    text = capsys.readouterr().out
    assert "FLAME: expression 10, jaw yes (from retarget)" in text
    with np.load(out) as z:
        t = z["curves"].shape[0]
        assert t == pytest.approx(sf.info(fake_wav).duration * 10, abs=1)  # resampled from the model's 30 fps
        assert z["flame_expression"].shape == (t, N_EXPR) and z["flame_jaw"].shape == (t, 3)
        assert np.isfinite(z["flame_expression"]).all() and np.isfinite(z["flame_jaw"]).all()
    base = ["animate", str(fake_wav), "--weights", str(tiny_model_dir), "--flame-model"]
    assert main([*base, str(flame_path), "-o", str(tmp_path / "c.csv")]) == 1
    assert "only to .npz" in capsys.readouterr().err
    assert main([*base, str(tmp_path / "missing.npz"), "-o", str(out)]) == 1
    assert "missing.npz" in capsys.readouterr().err
    assert main(["animate", str(fake_wav), "-o", str(out), "--flame-embedding", str(flame_path)]) == 1
    assert "needs flame_model" in capsys.readouterr().err


def test_json_output_carries_flame(tmp_path, fake_wav, tiny_model_dir, flame_path):
    import json

    anim = an.animate_file(fake_wav, tmp_path / "x.json", weights=tiny_model_dir, flame_model=flame_path)
    doc = json.loads((tmp_path / "x.json").read_text())
    assert np.array(doc["flame_expression"]).shape == (anim.num_frames, N_EXPR)
    assert np.array(doc["flame_jaw"]).shape == (anim.num_frames, 3)
