"""The ONNX Runtime fast path gives the torch model's probabilities (within 1e-4), shipped and freshly exported."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from facecraft.eval.classifier import FERClassifier, FERClassifierConfig
from facecraft.eval.fast_fer import OnnxFERClassifier, export_onnx
from facecraft.rigs import FileFormatError, MissingFileError, ParameterError


def _crops(n: int, side: int, seed: int = 0) -> np.ndarray:
    """Face-like grey crops: smooth random shading plus dark 'eyes' and 'mouth' bars."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:side, 0:side] / side
    out = []
    for _ in range(n):
        a, b, c = rng.uniform(-1, 1, 3)
        img = 128 + 60 * (a * xx + b * yy + c * xx * yy) + rng.normal(0, 12, (side, side))
        r = int(side * rng.uniform(0.35, 0.45))
        img[r : r + side // 12, side // 5 : side // 2 - 2] -= 70
        img[r : r + side // 12, side // 2 + 2 : 4 * side // 5] -= 70
        m = int(side * rng.uniform(0.68, 0.78))
        img[m : m + side // 10, side // 3 : 2 * side // 3] -= rng.uniform(20, 90)
        out.append(np.clip(img, 0, 255).astype(np.uint8))
    return np.stack(out)


def test_shipped_onnx_equals_shipped_torch():
    model = FERClassifier.from_pretrained()
    fast = OnnxFERClassifier(threads=1)
    s = model.config.image_size
    assert fast.image_size == s and fast.flip_tta == model.config.flip_tta
    crops = np.concatenate([_crops(40, s), np.zeros((1, s, s), np.uint8), np.full((1, s, s), 255, np.uint8)])
    p_fast = fast.predict_proba(crops, detect=False)
    p_torch = model.predict_proba(crops, detect=False)
    assert p_fast.shape == (42, 8) and p_fast.dtype == np.float32
    np.testing.assert_allclose(p_fast, p_torch, atol=1e-4, rtol=0)
    np.testing.assert_allclose(p_fast.sum(axis=1), 1.0, atol=1e-5)
    assert float(p_torch.std(axis=0).max()) > 0.01  # the crops give different outputs: not a constant model


@pytest.mark.parametrize("flip", [False, True])
def test_export_round_trip(tmp_path, flip):
    torch.manual_seed(0)
    model = FERClassifier(FERClassifierConfig.xception(image_size=40, dropout=0.0, flip_tta=flip)).eval()
    w = model.save_pretrained(tmp_path, stem="m")
    export_onnx(model, w.with_suffix(".onnx"))
    fast = OnnxFERClassifier(tmp_path / "m.onnx", threads=1)
    crops = _crops(9, 40, seed=1)
    np.testing.assert_allclose(fast.probabilities(crops), model.predict_proba(crops, detect=False), atol=1e-5)
    # a single crop and a batch of one both work (the batch axis is dynamic)
    assert fast.probabilities(crops[0]).shape == (1, 8)


def test_ensemble_export_round_trip(tmp_path):
    torch.manual_seed(0)
    cfg = FERClassifierConfig.xception(image_size=40, dropout=0.0, flip_tta=True)
    model = FERClassifier.ensemble([FERClassifier(cfg), FERClassifier(cfg)])
    w = model.save_pretrained(tmp_path, stem="ens")
    export_onnx(model, w.with_suffix(".onnx"))
    crops = _crops(7, 40, seed=2)
    fast = OnnxFERClassifier(tmp_path / "ens.onnx", threads=1)
    np.testing.assert_allclose(fast.probabilities(crops), model.predict_proba(crops, detect=False), atol=1e-5)


def test_bad_inputs_and_files(tmp_path):
    fast = OnnxFERClassifier(threads=1)
    s = fast.image_size
    with pytest.raises(ParameterError, match="uint8"):
        fast.probabilities(np.zeros((1, s, s), np.float32))
    with pytest.raises(ParameterError, match="expected shape"):
        fast.probabilities(np.zeros((1, s + 1, s + 1), np.uint8))
    with pytest.raises(MissingFileError):
        OnnxFERClassifier(tmp_path / "none.onnx")
    (tmp_path / "bad.onnx").write_bytes(b"not onnx")
    (tmp_path / "bad.json").write_text('{"labels": ["anger"], "image_size": 48}')
    with pytest.raises(FileFormatError):
        OnnxFERClassifier(tmp_path / "bad.onnx")
