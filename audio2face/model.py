"""The learned speech-to-face model: a content stream from audio features, an emotion stream from an
emotion-code track, and a decoder to ARKit-52 weights (optionally FLAME expression + jaw).

Shapes: features ``(B, T, F)`` at the output frame rate (``F`` = :attr:`A2FConfig.num_features`),
emotion codes ``(B, T, 57)`` (:data:`facecraft.rigs.emotion_space.EMOTION_CODE_DIM`), output curves
``(B, T, 52)`` in [0, 1], Apple's order.

Every temporal layer is causal; the model sees :attr:`A2FConfig.lookahead` future frames by delaying its
output (frame ``t`` is decided from features up to ``t + lookahead``), which bounds the streaming latency
to ``lookahead / fps`` plus one frame of audio. The receptive field is :meth:`A2FModel.receptive_field`.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from facecraft.rigs import NUM_ARKIT
from facecraft.rigs.emotion_space import EMOTION_CODE_DIM
from facecraft.rigs.errors import FileFormatError, MissingFileError, ParameterError

CONFIG_VERSION = 1


@dataclass
class A2FConfig:
    """Everything needed to rebuild an :class:`A2FModel`; saved as JSON beside the weights.

    Attributes
    ----------
    feature_kind : name passed to the front-end's ``get_features`` (``"logmel"`` by default).
    num_features : feature size per frame.
    fps : output (and feature) frame rate in frames per second.
    hidden : width of the content stream.
    emotion_hidden : width of the emotion embedding.
    kernel_size, dilations : causal dilated convolutions of the content encoder (one block per dilation).
    decoder_layers : causal convolution blocks after content and emotion are fused.
    lookahead : future frames the model may see (latency = lookahead / fps).
    dropout : dropout rate during training.
    flame_expression_dim : size of the FLAME expression head (0 = no head).
    flame_jaw : whether a FLAME jaw-pose head (axis-angle, radians) is present.
    feature_mean, feature_std : per-feature normalisation fitted on the training corpus (empty = identity).
    meta : free provenance (training command, corpus, date).
    """

    feature_kind: str = "logmel"
    num_features: int = 80
    fps: float = 30.0
    hidden: int = 64
    emotion_hidden: int = 32
    kernel_size: int = 3
    dilations: tuple[int, ...] = (1, 2, 4, 8, 1, 2)
    decoder_layers: int = 1
    lookahead: int = 1
    dropout: float = 0.1
    flame_expression_dim: int = 0
    flame_jaw: bool = False
    feature_mean: list[float] = field(default_factory=list)
    feature_std: list[float] = field(default_factory=list)
    meta: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.dilations = tuple(int(d) for d in self.dilations)
        checks = {
            "num_features": self.num_features > 0,
            "fps": self.fps > 0,
            "hidden": self.hidden > 0,
            "emotion_hidden": self.emotion_hidden > 0,
            "kernel_size": self.kernel_size >= 1,
            "dilations": len(self.dilations) > 0 and min(self.dilations) >= 1,
            "decoder_layers": self.decoder_layers >= 0,
            "lookahead": self.lookahead >= 0,
            "dropout": 0 <= self.dropout < 1,
            "flame_expression_dim": self.flame_expression_dim >= 0,
        }
        for name, ok in checks.items():
            if not ok:
                raise ParameterError(f"A2FConfig.{name}: invalid value {getattr(self, name)!r}")
        for name in ("feature_mean", "feature_std"):
            v = getattr(self, name)
            if v and len(v) != self.num_features:
                raise ParameterError(f"A2FConfig.{name}: expected {self.num_features} values, got {len(v)}")

    def to_dict(self) -> dict:
        d = asdict(self)
        d["dilations"] = list(self.dilations)
        d["config_version"] = CONFIG_VERSION
        d["model_class"] = "A2FModel"
        return d

    @classmethod
    def from_dict(cls, d: dict) -> A2FConfig:
        known = {f.name for f in fields(cls)}
        unknown = set(d) - known - {"config_version", "model_class"}
        if unknown:
            raise FileFormatError(f"A2FConfig: unknown keys {sorted(unknown)}; expected some of {sorted(known)}")
        return cls(**{k: v for k, v in d.items() if k in known})


class CausalConvBlock(nn.Module):
    """Residual block: left-padded dilated Conv1d -> per-frame LayerNorm -> GELU -> dropout, on ``(B, C, T)``.

    The norm is over channels of each frame only, so the block stays causal (streaming-safe).
    """

    def __init__(self, channels: int, kernel_size: int, dilation: int, dropout: float) -> None:
        super().__init__()
        self.pad = (kernel_size - 1) * dilation
        self.conv = nn.Conv1d(channels, channels, kernel_size, dilation=dilation)
        self.norm = nn.LayerNorm(channels)
        self.drop = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.conv(F.pad(x, (self.pad, 0)))
        y = self.norm(y.transpose(1, 2)).transpose(1, 2)
        return x + self.drop(F.gelu(y))


@dataclass
class A2FOutput:
    """Model output: ``arkit`` (B, T, 52) in [0, 1]; optional FLAME heads (B, T, E) and jaw (B, T, 3)."""

    arkit: torch.Tensor
    flame_expression: torch.Tensor | None = None
    flame_jaw: torch.Tensor | None = None


class A2FModel(nn.Module):
    """Audio features + emotion codes -> ARKit-52 curves (see the module docstring for shapes)."""

    config_name = "config.json"
    weights_name = "model.safetensors"

    def __init__(self, config: A2FConfig | None = None) -> None:
        super().__init__()
        cfg = config or A2FConfig()
        self.config = cfg
        h = cfg.hidden
        mean = torch.tensor(cfg.feature_mean or [0.0] * cfg.num_features, dtype=torch.float32)
        std = torch.tensor(cfg.feature_std or [1.0] * cfg.num_features, dtype=torch.float32)
        self.register_buffer("feature_mean", mean)
        self.register_buffer("feature_std", std.clamp_min(1e-5))
        self.content_in = nn.Linear(cfg.num_features, h)
        self.content = nn.ModuleList(
            [CausalConvBlock(h, cfg.kernel_size, d, cfg.dropout) for d in cfg.dilations]
        )  # fmt: skip
        self.emotion = nn.Sequential(
            nn.Linear(EMOTION_CODE_DIM, cfg.emotion_hidden), nn.GELU(), nn.Linear(cfg.emotion_hidden, 2 * h)
        )
        self.decoder = nn.ModuleList(
            [CausalConvBlock(h, cfg.kernel_size, 1, cfg.dropout) for _ in range(cfg.decoder_layers)]
        )
        self.arkit_head = nn.Linear(h, NUM_ARKIT)
        self.flame_expression_head = nn.Linear(h, cfg.flame_expression_dim) if cfg.flame_expression_dim else None
        self.flame_jaw_head = nn.Linear(h, 3) if cfg.flame_jaw else None

    # ------------------------------------------------------------------ sizes
    def receptive_field(self) -> int:
        """Past frames (including the current one) that influence one causal output frame."""
        cfg = self.config
        k = cfg.kernel_size - 1
        return 1 + sum(k * d for d in cfg.dilations) + k * cfg.decoder_layers

    @property
    def latency_s(self) -> float:
        """Algorithmic look-ahead in seconds (lookahead frames / fps)."""
        return self.config.lookahead / self.config.fps

    def num_parameters(self) -> int:
        return sum(p.numel() for p in self.parameters())

    # ------------------------------------------------------------------ forward
    def forward_causal(self, features: torch.Tensor, emotion: torch.Tensor) -> A2FOutput:
        """Strictly causal pass: output frame ``i`` depends on inputs ``<= i`` (no look-ahead shift)."""
        x = (features - self.feature_mean) / self.feature_std
        x = self.content_in(x).transpose(1, 2)  # (B, H, T)
        for block in self.content:
            x = block(x)
        scale, shift = self.emotion(emotion).transpose(1, 2).chunk(2, dim=1)
        x = x * (1 + scale) + shift
        for block in self.decoder:
            x = block(x)
        x = x.transpose(1, 2)  # (B, T, H)
        return A2FOutput(
            arkit=torch.sigmoid(self.arkit_head(x)),
            flame_expression=self.flame_expression_head(x) if self.flame_expression_head is not None else None,
            flame_jaw=self.flame_jaw_head(x) if self.flame_jaw_head is not None else None,
        )

    def forward(self, features: torch.Tensor, emotion: torch.Tensor | None = None) -> A2FOutput:
        """Curves for every input frame.

        Parameters
        ----------
        features : float (B, T, F) audio features at ``config.fps``.
        emotion : float (B, T, 57) emotion codes per frame; ``None`` means neutral.

        Returns
        -------
        A2FOutput with ``arkit`` (B, T, 52); frame ``t`` uses features up to ``t + lookahead``.
        """
        self._check(features, emotion)
        b, t, _ = features.shape
        if emotion is None:
            emotion = features.new_zeros(b, t, EMOTION_CODE_DIM)
        la = self.config.lookahead
        if la:
            # Shift: the causal output at i + la is the frame i. Features end-padded with their last frame,
            # emotion codes start-padded (frame i's emotion lines up with output i).
            features = torch.cat([features, features[:, -1:].expand(b, la, -1)], dim=1)
            emotion = torch.cat([emotion[:, :1].expand(b, la, -1), emotion], dim=1)
        out = self.forward_causal(features, emotion)
        if la:
            out = A2FOutput(
                *(None if v is None else v[:, la:] for v in (out.arkit, out.flame_expression, out.flame_jaw))
            )
        return out

    def _check(self, features: torch.Tensor, emotion: torch.Tensor | None) -> None:
        nf = self.config.num_features
        if features.ndim != 3 or features.shape[-1] != nf:
            raise ParameterError(f"A2FModel: features must be (B, T, {nf}), got {tuple(features.shape)}")
        if features.shape[1] < 1:
            raise ParameterError("A2FModel: features have no frames")
        if emotion is not None and emotion.shape != (*features.shape[:2], EMOTION_CODE_DIM):
            raise ParameterError(
                f"A2FModel: emotion must be {(*features.shape[:2], EMOTION_CODE_DIM)}, got {tuple(emotion.shape)}"
            )

    # ------------------------------------------------------------------ save / load
    def save_pretrained(self, path: str | Path, *, name: str | None = None) -> Path:
        """Write weights (safetensors, state dict only) and config (JSON).

        ``path`` is a folder (files ``model.safetensors`` and ``config.json``, or ``{name}.safetensors`` /
        ``{name}.json`` when ``name`` is given) or a ``.safetensors`` file (config beside it, same stem).
        Returns the weights path.
        """
        from facecraft.rigs.tensor_files import save_tensors

        weights, config = _paths(Path(path), name, create=True)
        state = {k: v.detach().contiguous().cpu() for k, v in self.state_dict().items()}
        save_tensors(state, weights, metadata={"format": "pt", "model_class": "A2FModel"})
        config.write_text(json.dumps(self.config.to_dict(), indent=2))
        return weights

    @classmethod
    def from_pretrained(cls, path: str | Path, *, name: str | None = None) -> A2FModel:
        """Load a model saved by :meth:`save_pretrained` (folder or ``.safetensors`` file), in eval mode."""
        from safetensors import SafetensorError
        from safetensors.torch import load_file

        given = Path(path)
        if given.is_file() and given.suffix.lower() != ".safetensors":  # it looked for bad.glb/model.safetensors
            raise ParameterError(f"{given}: expected an audio2face model folder or its .safetensors file")
        weights, config = _paths(given, name, create=False)
        for p, what in ((weights, "audio2face weights"), (config, "audio2face config")):
            if not p.exists():
                beside = f" (a model's {weights.name} needs its config {p.name} beside it)" if p == config else ""
                raise MissingFileError(f"{what} not found: {p}{beside}")
        try:
            cfg = A2FConfig.from_dict(json.loads(config.read_text()))
        except (json.JSONDecodeError, TypeError) as e:
            raise FileFormatError(f"{config}: not a valid audio2face config ({e})") from e
        from .postprocess import meta_opening_gains

        try:  # checked here, where the file is known, not at the first frame
            meta_opening_gains(cfg.meta)
        except FileFormatError as e:
            raise FileFormatError(f"{config}: {e}") from e
        model = cls(cfg)
        try:
            state = load_file(str(weights))
        except (SafetensorError, OSError) as e:
            raise FileFormatError(f"{weights}: not a readable safetensors file ({e})") from e
        try:
            missing, unexpected = model.load_state_dict(state, strict=False)
        except RuntimeError as e:  # shape mismatches
            raise FileFormatError(f"{weights}: weights do not match the config {config} ({e})") from e
        if missing or unexpected:
            raise FileFormatError(
                f"{weights}: weights do not match the config (missing {missing}, unexpected {unexpected})"
            )
        return model.eval()


def _paths(path: Path, name: str | None, *, create: bool) -> tuple[Path, Path]:
    if path.suffix == ".safetensors":
        if create:
            path.parent.mkdir(parents=True, exist_ok=True)
        return path, path.with_suffix(".json")
    if create:
        path.mkdir(parents=True, exist_ok=True)
    if name:
        return path / f"{name}.safetensors", path / f"{name}.json"
    return path / A2FModel.weights_name, path / A2FModel.config_name


DEFAULT_WEIGHTS = Path(__file__).with_name("default_a2f.safetensors")


def load_default_model() -> A2FModel:
    """The weights shipped with facecraft (``audio2face/default_a2f.safetensors`` + ``default_a2f.json``)."""
    if not DEFAULT_WEIGHTS.exists():
        raise MissingFileError(
            f"default audio2face weights not found: {DEFAULT_WEIGHTS}; reinstall facecraft or train them with "
            "`facecraft a2f train` (see audio2face/train.py)"
        )
    return A2FModel.from_pretrained(DEFAULT_WEIGHTS)
