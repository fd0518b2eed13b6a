"""Audio front-ends: frame counts at any fps, resampling, Whisper encoder windows, a tiny wav2vec2 from a folder."""

from __future__ import annotations

import numpy as np
import pytest

from facecraft.audio2face.features import HFSpeechEncoder, LogMel, WhisperEncoder, get_features
from facecraft.rigs.errors import MissingFileError, ParameterError

SR = 16000


def _chirp(seconds: float, sr: int = SR) -> np.ndarray:
    t = np.arange(int(sr * seconds)) / sr
    return (0.3 * np.sin(2 * np.pi * (200 + 600 * t) * t)).astype(np.float32)


@pytest.mark.parametrize(("seconds", "fps"), [(1.0, 30), (1.01, 30), (2.5, 60), (0.05, 30)])
def test_logmel_frame_count(seconds, fps):
    f = LogMel()
    x = f(_chirp(seconds), fps=fps)
    assert x.shape == (int(np.ceil(seconds * fps - 1e-9)), 80) and x.dtype == np.float32
    assert np.isfinite(x).all()


def test_logmel_tracks_the_signal_and_resamples():
    f = LogMel(fps=30)
    y = np.concatenate([np.zeros(SR, np.float32), _chirp(1.0)])
    x = f(y)
    assert x[5:25].max(1).mean() < x[35:55].max(1).mean() - 5  # silence is far below the chirp
    import soxr

    y44 = soxr.resample(y, SR, 44100).astype(np.float32)
    x44 = f(y44, 44100)
    assert x44.shape == x.shape
    assert np.median(np.abs(x44[32:58] - x[32:58])) < 0.5


def test_whisper_encoder_windows_and_trim():
    f = WhisperEncoder()
    assert f.dim == 384
    y = _chirp(31.0)  # two 30 s windows, the second nearly empty
    x = f(y, fps=30)
    assert x.shape == (930, 384) and np.isfinite(x).all()
    first = f(y[: SR * 30], fps=30)
    assert first.shape == (900, 384)
    # windows are encoded independently: the first 30 s give the same frames alone or followed by more audio
    np.testing.assert_allclose(first, x[:900], atol=1e-3)
    assert f(y[: SR * 2], fps=30).shape == (60, 384)


def test_hf_encoder_from_a_local_folder(tmp_path):
    import torch
    from transformers import Wav2Vec2Config, Wav2Vec2FeatureExtractor, Wav2Vec2Model

    torch.manual_seed(0)
    cfg = Wav2Vec2Config(
        hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64,
        conv_dim=(16, 16, 16, 16, 16, 16, 16), num_conv_pos_embeddings=16, num_conv_pos_embedding_groups=2,
    )  # fmt: skip
    Wav2Vec2Model(cfg).save_pretrained(tmp_path / "w2v")
    Wav2Vec2FeatureExtractor().save_pretrained(tmp_path / "w2v")
    f = get_features(f"hf:{tmp_path / 'w2v'}", fps=60)
    assert isinstance(f, HFSpeechEncoder) and f.dim == 32
    x = f(_chirp(1.5))
    assert x.shape == (90, 32) and np.isfinite(x).all()
    assert np.std(x, axis=0).mean() > 0  # frames differ over time
    layer0 = HFSpeechEncoder(tmp_path / "w2v", layer=0)(_chirp(1.5))
    assert layer0.shape == (45, 32) and not np.allclose(layer0, x[::2])
    windows = HFSpeechEncoder(tmp_path / "w2v", max_seconds=1.0)(_chirp(2.5))
    assert windows.shape == (75, 32)


def test_factory_and_errors(tmp_path):
    assert isinstance(get_features("logmel"), LogMel)
    assert isinstance(get_features("whisper-tiny-en"), WhisperEncoder)
    assert get_features("logmel", fps=60).fps == 60
    with pytest.raises(ParameterError, match="unknown audio front-end 'mfcc'"):
        get_features("mfcc")
    with pytest.raises(ParameterError, match="hf:"):
        get_features("wav2vec2")
    with pytest.raises(MissingFileError, match="nothere"):
        HFSpeechEncoder(tmp_path / "nothere")
    with pytest.raises(ParameterError, match="fps"):
        LogMel(fps=0)
    with pytest.raises(ParameterError, match="empty"):
        LogMel()(np.zeros(0, np.float32))
