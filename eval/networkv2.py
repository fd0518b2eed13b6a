"""NetworkV2, the second independent FER judge, re-implemented from the weights in ``facial-emotion-recognition``.

The package's own module imports torchvision and facenet-pytorch, so it is never imported: the state
dict ``model/model.pkl`` (a ``torch.save`` dict whose ``'network'`` entry holds the weights) is read with
``torch.load(weights_only=True)`` and its parameter names are mapped explicitly onto the clean module
below (see :data:`_PARAM_MAP`).

Architecture: four stages of ReflectionPad(1), Conv3x3 (32, 64, 128, 256 channels; strides 1, 2, 2, 2;
with bias), BatchNorm, ReLU take a 48x48 grey face to 256x6x6; then Linear 9216->256, ReLU,
Linear 256->7 and a sigmoid per class. Input normalisation as the package does it: ``x / 255``, then
``(x - 0.5) / 0.5``. Label order (the package's ``emotions`` table): Angry, Disgust, Fear, Happy, Sad,
Surprise, Neutral.

The sigmoid outputs are independent per class; :meth:`NetworkV2.predict_proba` divides them by their
sum so they form a distribution (the argmax, which is what the package reports, is unchanged).
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import numpy as np
import torch
from torch import nn

from facecraft.rigs.assets import resolve_asset
from facecraft.rigs.errors import FileFormatError, ParameterError

logger = logging.getLogger(__name__)

NETWORKV2_LABELS: tuple[str, ...] = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")
NETWORKV2_SIZE = 48


def _stage(cin: int, cout: int, stride: int) -> nn.Sequential:
    return nn.Sequential(
        nn.ReflectionPad2d(1), nn.Conv2d(cin, cout, 3, stride=stride), nn.BatchNorm2d(cout), nn.ReLU(inplace=True)
    )


class NetworkV2(nn.Module):
    """``(N, 1, 48, 48)`` normalised grey -> per-class sigmoid scores ``(N, 7)`` (see module docstring)."""

    def __init__(self, *, width: int = 32, num_classes: int = 7) -> None:
        super().__init__()
        w = width
        self.features = nn.Sequential(
            _stage(1, w, 1), _stage(w, 2 * w, 2), _stage(2 * w, 4 * w, 2), _stage(4 * w, 8 * w, 2)
        )
        self.hidden = nn.Linear(8 * w * 6 * 6, 256)
        self.out = nn.Linear(256, num_classes)

    def logits(self, x: torch.Tensor) -> torch.Tensor:
        """Pre-sigmoid scores ``(N, 7)``."""
        return self.out(torch.relu(self.hidden(self.features(x).flatten(1))))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.logits(x))

    @staticmethod
    def prepare(grey: np.ndarray) -> torch.Tensor:
        """Grey uint8 faces ``(N, 48, 48)`` -> ``(N, 1, 48, 48)`` float32 in [-1, 1]: ``(x / 255 - 0.5) / 0.5``."""
        x = np.asarray(grey, dtype=np.float32)
        if x.ndim == 2:
            x = x[None]
        if x.ndim != 3 or x.shape[1:] != (NETWORKV2_SIZE, NETWORKV2_SIZE):
            raise ParameterError(f"grey faces: expected shape (N, 48, 48), got {x.shape}")
        return torch.from_numpy((x / 255.0 - 0.5) / 0.5)[:, None]

    @torch.no_grad()
    def predict_proba(self, grey: np.ndarray) -> np.ndarray:
        """Grey uint8 faces ``(N, 48, 48)`` -> ``(N, 7)`` sigmoid scores divided by their sum, package label order."""
        self.eval()
        s = self(self.prepare(grey)).numpy()
        return s / np.maximum(s.sum(axis=1, keepdims=True), 1e-12)


# The package's parameter name -> ours (the ``Sequential`` indices 1 = conv, 2 = batch norm).
_PARAM_MAP: dict[str, str] = {"linear.0": "hidden", "linear.2": "out"}
for _i in range(4):
    _PARAM_MAP[f"conv_{_i + 1}.1"] = f"features.{_i}.1"
    _PARAM_MAP[f"conv_{_i + 1}.2"] = f"features.{_i}.2"


def convert_state_dict(network: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Rename the package's ``network`` state dict to :class:`NetworkV2`'s names."""
    out = {}
    for name, tensor in network.items():
        prefix, _, leaf = name.rpartition(".")
        if prefix not in _PARAM_MAP:
            raise FileFormatError(
                f"NetworkV2 weights: unexpected parameter {name!r}; known prefixes {sorted(_PARAM_MAP)}"
            )
        out[f"{_PARAM_MAP[prefix]}.{leaf}"] = tensor
    return out


def load_networkv2(path: str | os.PathLike | None = None) -> NetworkV2:
    """The shipped NetworkV2 in eval mode (``path``, then ``$FACECRAFT_FER_NETWORKV2``, override the resolver)."""
    p = Path(resolve_asset("fer_networkv2", path))
    try:
        blob = torch.load(p, map_location="cpu", weights_only=True)
    except Exception as e:  # torch raises several unrelated types for a bad file
        raise FileFormatError(f"{p}: cannot read NetworkV2 weights ({type(e).__name__}: {e})") from e
    if not isinstance(blob, dict) or "network" not in blob:
        keys = sorted(blob) if isinstance(blob, dict) else type(blob).__name__
        raise FileFormatError(f"{p}: expected a dict with a 'network' state dict, got {keys}")
    model = NetworkV2()
    try:
        model.load_state_dict(convert_state_dict(blob["network"]), strict=True)
    except RuntimeError as e:
        raise FileFormatError(f"{p}: weights do not fit NetworkV2: {e}") from e
    logger.info("loaded NetworkV2 from %s", p)
    return model.eval()
