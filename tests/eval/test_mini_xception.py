"""The torch mini-Xception must match an independent NumPy/SciPy Keras forward pass within 1e-4."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch
from scipy.signal import correlate

from facecraft.eval.mini_xception import (
    MINI_XCEPTION_LABELS,
    MiniXception,
    SamePadMaxPool,
    load_mini_xception,
    read_keras_weights,
)
from facecraft.rigs import resolve_asset


def _same_pads(size: int, k: int, s: int) -> tuple[int, int]:
    out = math.ceil(size / s)
    total = max((out - 1) * s + k - size, 0)
    return total // 2, total - total // 2


def _conv(x, kernel, stride, padding, bias=None):
    """x (H, W, Cin), kernel (kh, kw, Cin, Cout): plain loop over output channels with scipy.signal.correlate."""
    kh, kw, cin, cout = kernel.shape
    if padding == "same":
        pt, pb = _same_pads(x.shape[0], kh, stride)
        pl, pr = _same_pads(x.shape[1], kw, stride)
        x = np.pad(x, ((pt, pb), (pl, pr), (0, 0)))
    if kh == kw == 1:  # a 1x1 kernel is a matrix product over channels
        return np.tensordot(x[::stride, ::stride], kernel[0, 0], axes=([2], [0])) + (0 if bias is None else bias)
    out = []
    for o in range(cout):
        acc = sum(correlate(x[:, :, c], kernel[:, :, c, o], mode="valid") for c in range(cin))
        out.append(acc[::stride, ::stride])
    y = np.stack(out, axis=-1)
    return y + bias if bias is not None else y


def _depthwise(x, kernel):
    kh, kw, cin, _ = kernel.shape
    pt, pb = _same_pads(x.shape[0], kh, 1)
    pl, pr = _same_pads(x.shape[1], kw, 1)
    xp = np.pad(x, ((pt, pb), (pl, pr), (0, 0)))
    return np.stack([correlate(xp[:, :, c], kernel[:, :, c, 0], mode="valid") for c in range(cin)], axis=-1)


def _maxpool(x, k, s):
    pt, pb = _same_pads(x.shape[0], k, s)
    pl, pr = _same_pads(x.shape[1], k, s)
    xp = np.pad(x, ((pt, pb), (pl, pr), (0, 0)), constant_values=-np.inf)
    oh, ow = math.ceil(x.shape[0] / s), math.ceil(x.shape[1] / s)
    y = np.empty((oh, ow, x.shape[2]))
    for i in range(oh):
        for j in range(ow):
            y[i, j] = xp[i * s : i * s + k, j * s : j * s + k].max(axis=(0, 1))
    return y


def keras_reference(image01: np.ndarray, config: dict, weights: dict) -> np.ndarray:
    """Run the hdf5's layer graph in float64 NumPy on one (64, 64) image already scaled to [-1, 1]."""
    values: dict[str, np.ndarray] = {}
    for layer in config["config"]["layers"]:
        kind, name, c = layer["class_name"], layer["name"], layer["config"]
        inputs = [values[n[0]] for node in layer["inbound_nodes"] for n in node]
        w = {k: v.astype(np.float64) for k, v in weights.get(name, {}).items()}
        if kind == "InputLayer":
            y = image01[:, :, None].astype(np.float64)
        elif kind == "Conv2D":
            y = _conv(inputs[0], w["kernel"], c["strides"][0], c["padding"], w.get("bias"))
        elif kind == "SeparableConv2D":
            y = _conv(_depthwise(inputs[0], w["depthwise_kernel"]), w["pointwise_kernel"], 1, "valid")
        elif kind == "BatchNormalization":
            y = (inputs[0] - w["moving_mean"]) / np.sqrt(w["moving_variance"] + c["epsilon"]) * w["gamma"] + w["beta"]
        elif kind == "Activation" and c["activation"] == "relu":
            y = np.maximum(inputs[0], 0)
        elif kind == "Activation" and c["activation"] == "softmax":
            e = np.exp(inputs[0] - inputs[0].max())
            y = e / e.sum()
        elif kind == "MaxPooling2D":
            y = _maxpool(inputs[0], c["pool_size"][0], c["strides"][0])
        elif kind == "Add":
            y = inputs[0] + inputs[1]
        elif kind == "GlobalAveragePooling2D":
            y = inputs[0].mean(axis=(0, 1))
        else:
            raise AssertionError(f"layer kind {kind} not handled by the reference")
        values[name] = y
    return values[config["config"]["output_layers"][0][0]]


def _crops(shared) -> np.ndarray:
    """Six 64x64 grey crops: fer-dev faces when the shared folder is present, else synthetic ones."""
    from PIL import Image

    rng = np.random.default_rng(0)
    crops = []
    if shared is not None:
        for cls in ("anger", "happiness", "surprise", "sadness"):
            p = sorted((shared / "data" / "fer-dev" / cls).glob("*.png"))[0]
            crops.append(np.asarray(Image.open(p).convert("L").resize((64, 64), Image.BILINEAR)))
    from skimage import data

    crops.append(np.asarray(Image.fromarray(data.astronaut()[30:230, 150:350]).convert("L").resize((64, 64))))
    crops.append((rng.random((64, 64)) * 255).astype(np.uint8))
    return np.stack(crops)


@pytest.fixture(scope="module")
def keras_file():
    return resolve_asset("mini_xception")


def test_parameter_count_and_labels():
    model = MiniXception()
    # Keras counts the batch norms' moving mean/variance among the model's 58,423 parameters
    stats = sum(b.numel() for n, b in model.named_buffers() if n.endswith(("running_mean", "running_var")))
    assert sum(p.numel() for p in model.parameters()) + stats == 58_423
    assert MINI_XCEPTION_LABELS[3] == "happy" and len(MINI_XCEPTION_LABELS) == 7


def test_same_pad_maxpool_is_asymmetric():
    x = torch.arange(16.0).reshape(1, 1, 4, 4)
    y = SamePadMaxPool(3, 2)(x)
    # TF 'same' on 4 -> 2 outputs, pad 0 before and 1 after: windows rows {0,1,2} and {2,3}
    assert y.shape == (1, 1, 2, 2)
    assert y[0, 0].tolist() == [[10.0, 11.0], [14.0, 15.0]]


def test_port_matches_independent_keras_forward(keras_file, request):
    import h5py

    try:
        shared = request.getfixturevalue("shared_dir")
    except pytest.skip.Exception:
        shared = None
    with h5py.File(keras_file, "r") as f:
        config = json.loads(f.attrs["model_config"])
    weights = read_keras_weights(keras_file)
    crops = _crops(shared)
    model = load_mini_xception()
    ours = model.predict_proba(crops)
    x = (crops.astype(np.float64) / 255.0 - 0.5) * 2.0
    ref = np.stack([keras_reference(img, config, weights) for img in x])
    assert ours.shape == (len(crops), 7)
    np.testing.assert_allclose(ref.sum(axis=1), 1.0, atol=1e-9)
    assert np.abs(ours - ref).max() < 1e-4
    # the crops must not all give the same answer, else the comparison proves little
    assert ref.std(axis=0).max() > 0.05
