"""The AU adapter: condition a diffusion UNet on Action Units and the emotion code, with the base left frozen.

The adapter follows IP-Adapter's decoupled cross-attention (diffusers' ``IPAdapterAttnProcessor2_0``): a
condition vector (the 50 sided AU intensities of :mod:`facecraft.rigs.facs` followed by the 57-float
:class:`~facecraft.rigs.EmotionCode`) is projected to ``num_tokens`` tokens (:class:`AUProjection`); every
cross-attention layer of the UNet gets its own key/value projections of those tokens, and their attention
output is added to the base's, times a ``scale``. The base UNet's weights are never touched, so
``scale = 0`` reproduces the base exactly and :func:`unload_au_adapter` gives back the UNet as it was.

Install and remove go through the UNet's processor map (``set_attn_processor``), as diffusers'
``load_ip_adapter`` does; because other code may later replace processors (xformers, fused QKV, another
adapter: diffusers issues #8872, #14103), :func:`check_au_adapter` verifies they are still the adapter's
before every use and fails loudly rather than silently sampling without the condition.

Classifier-free guidance uses a learned *null* condition (:attr:`AUProjection.null_tokens`): training drops
the condition with probability ``cond_dropout`` (AU dropout) and guidance extrapolates from the null
prediction toward the conditioned one. A null condition is distinct from a neutral face (all-zero AUs).

Weights are saved alone (config + safetensors) with two key prefixes: ``au_proj.`` (the projection) and
``au_attn.`` (per-layer K/V), mirroring ``image_proj`` / ``ip_adapter`` in diffusers' IP-Adapter files.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from diffusers import ModelMixin, UNet2DConditionModel
from diffusers.configuration_utils import ConfigMixin, register_to_config
from diffusers.models.attention_processor import IPAdapterAttnProcessor2_0
from torch import nn

from facecraft.rigs import EmotionCode, ParameterError
from facecraft.rigs.emotion_space import EMOTION_CODE_DIM, codes_to_au
from facecraft.rigs.facs import NUM_SIDED_AU, au_vector

logger = logging.getLogger(__name__)

#: Size of the condition vector: sided AU intensities ``[0:50]`` then the emotion code ``[50:107]``.
COND_DIM = NUM_SIDED_AU + EMOTION_CODE_DIM
_STATE = "_facecraft_au_adapter"  # attribute of a UNet that carries a loaded adapter


# ---------------------------------------------------------------------------------------------- conditions
def au_condition(target) -> np.ndarray:
    """Condition vectors ``(B, 107)`` float32 from what a user asks for.

    Parameters
    ----------
    target : EmotionCode, sequence of EmotionCode, dict, or array
        An :class:`EmotionCode` (or several); a dict of AU intensities (``{"AU12": 0.8}``); an array of
        sided AU vectors ``(50,)``/``(B, 50)``, emotion codes ``(57,)``/``(B, 57)`` or ready conditions
        ``(107,)``/``(B, 107)``. AU intensities lie in [0, 1].

    Returns
    -------
    np.ndarray
        ``(B, 107)``: the AU intensities the face should show (decoded from the code when a code is
        given) followed by the code (fitted to the AUs when AUs are given).
    """
    if isinstance(target, EmotionCode):
        target = target.vector[None]
    elif isinstance(target, dict):
        target = au_vector(target)[None]
    elif isinstance(target, (list, tuple)) and target and all(isinstance(t, EmotionCode) for t in target):
        target = np.stack([t.vector for t in target])
    arr = np.asarray(target, dtype=np.float32)
    if arr.ndim == 1:
        arr = arr[None]
    if arr.ndim != 2 or arr.shape[1] not in (NUM_SIDED_AU, EMOTION_CODE_DIM, COND_DIM) or not np.isfinite(arr).all():
        raise ParameterError(
            f"AU condition: expected finite sided AUs (B, {NUM_SIDED_AU}), emotion codes (B, {EMOTION_CODE_DIM}) or "
            f"conditions (B, {COND_DIM}), got shape {arr.shape}"
        )
    if arr.shape[1] == COND_DIM:
        return arr
    if arr.shape[1] == EMOTION_CODE_DIM:
        return np.concatenate([codes_to_au(arr), arr], axis=1).astype(np.float32)
    if arr.min() < 0.0 or arr.max() > 1.0:
        raise ParameterError(f"AU condition: intensities must lie in [0, 1], got [{arr.min():.3g}, {arr.max():.3g}]")
    codes = np.stack([EmotionCode.from_au(a).vector for a in arr])
    return np.concatenate([arr, codes], axis=1).astype(np.float32)


# ---------------------------------------------------------------------------------------------- modules
class AUProjection(nn.Module):
    """Condition ``(B, 107)`` -> ``(B, num_tokens, cross_attention_dim)`` tokens (MLP then LayerNorm).

    ``null_tokens`` stand for "no condition" (classifier-free guidance); they start at zero, whose keys and
    values are zero, so an untrained adapter adds nothing for a dropped condition."""

    def __init__(self, *, cond_dim: int, num_tokens: int, cross_attention_dim: int, hidden_dim: int) -> None:
        super().__init__()
        self.num_tokens, self.cross_attention_dim = num_tokens, cross_attention_dim
        self.net = nn.Sequential(
            nn.Linear(cond_dim, hidden_dim), nn.SiLU(), nn.Linear(hidden_dim, num_tokens * cross_attention_dim)
        )
        self.norm = nn.LayerNorm(cross_attention_dim)
        self.null_tokens = nn.Parameter(torch.zeros(num_tokens, cross_attention_dim))

    def forward(self, cond: torch.Tensor, drop: torch.Tensor | None = None) -> torch.Tensor:
        tokens = self.norm(self.net(cond).view(cond.shape[0], self.num_tokens, self.cross_attention_dim))
        if drop is None:
            return tokens
        null = self.null_tokens.to(tokens.dtype).expand_as(tokens)
        return torch.where(drop.view(-1, 1, 1).to(torch.bool), null, tokens)


class AUAttentionKV(nn.Module):
    """The key and value projections of the AU tokens for one cross-attention layer (no bias, as IP-Adapter)."""

    def __init__(self, cross_attention_dim: int, hidden_size: int) -> None:
        super().__init__()
        self.to_k = nn.Linear(cross_attention_dim, hidden_size, bias=False)
        self.to_v = nn.Linear(cross_attention_dim, hidden_size, bias=False)


class AUAttnProcessor(IPAdapterAttnProcessor2_0):
    """diffusers' IP-Adapter processor with one token set whose K/V layers belong to an :class:`AUAdapter`.

    Only the ownership differs: the layers are the adapter's (shared, not copied), so training the
    adapter trains the processors and saving the adapter saves them."""

    def __init__(self, kv: AUAttentionKV, *, num_tokens: int, scale: float) -> None:
        super().__init__(kv.to_k.out_features, kv.to_k.in_features, num_tokens=(num_tokens,), scale=float(scale))
        self.to_k_ip = nn.ModuleList([kv.to_k])
        self.to_v_ip = nn.ModuleList([kv.to_v])


class AUAdapter(ModelMixin, ConfigMixin):
    """AU/EmotionCode tokens and per-layer K/V projections for one UNet architecture.

    Build one for a UNet with :meth:`for_unet`; save and load it alone with ``save_pretrained`` /
    ``from_pretrained`` (config + safetensors; :func:`load_adapter` checks the folder first).

    Parameters
    ----------
    layer_names : list of str
        The UNet's cross-attention processor names (``...attn2.processor``) the adapter attaches to, in order.
    hidden_sizes : list of int
        Inner (key/value) size of each of those layers.
    cross_attention_dim : int
        Size of the UNet's context tokens; the AU tokens have the same size.
    num_tokens : int
        AU tokens per condition.
    hidden_dim : int
        Width of the projection's hidden layer.
    cond_dim : int
        Condition size (:data:`COND_DIM`).
    cond_dropout : float
        Probability that training drops a condition (replaced by the null tokens), for guidance.
    """

    config_name = "config.json"

    @register_to_config
    def __init__(
        self,
        layer_names: Sequence[str] = (),
        hidden_sizes: Sequence[int] = (),
        cross_attention_dim: int = 768,
        num_tokens: int = 4,
        hidden_dim: int = 256,
        cond_dim: int = COND_DIM,
        cond_dropout: float = 0.1,
    ) -> None:
        super().__init__()
        if len(layer_names) != len(hidden_sizes) or not layer_names:
            raise ParameterError(
                f"AUAdapter: expected one hidden size per layer name and at least one layer, got "
                f"{len(layer_names)} names and {len(hidden_sizes)} sizes"
            )
        if cond_dim != COND_DIM:
            raise ParameterError(
                f"AUAdapter: cond_dim must be {COND_DIM} (50 sided AUs + 57-float code), got {cond_dim}"
            )
        if not 0.0 <= cond_dropout < 1.0:
            raise ParameterError(f"AUAdapter: cond_dropout must lie in [0, 1), got {cond_dropout}")
        if num_tokens < 1:
            raise ParameterError(f"AUAdapter: num_tokens must be >= 1, got {num_tokens}")
        self.au_proj = AUProjection(
            cond_dim=cond_dim, num_tokens=num_tokens, cross_attention_dim=cross_attention_dim, hidden_dim=hidden_dim
        )
        self.au_attn = nn.ModuleList([AUAttentionKV(cross_attention_dim, int(h)) for h in hidden_sizes])

    @classmethod
    def for_unet(cls, unet: UNet2DConditionModel, **options) -> AUAdapter:
        """A fresh adapter fitting every cross-attention layer of ``unet`` (options: see the class)."""
        names, sizes, dims = _cross_attention_layers(unet)
        if not names:
            raise ParameterError("unet: it has no cross-attention layer to attach an AU adapter to")
        if len(set(dims)) != 1:
            raise ParameterError(f"unet: cross-attention layers take contexts of different sizes {sorted(set(dims))}")
        return cls(layer_names=names, hidden_sizes=sizes, cross_attention_dim=dims[0], **options)

    def forward(self, cond: torch.Tensor, drop: torch.Tensor | None = None) -> torch.Tensor:
        """AU tokens ``(B, num_tokens, cross_attention_dim)`` from conditions ``(B, 107)``; ``drop`` ``(B,)``
        bool marks rows replaced by the null tokens."""
        if cond.ndim != 2 or cond.shape[1] != self.config.cond_dim:
            raise ParameterError(f"cond: expected shape (B, {self.config.cond_dim}), got {tuple(cond.shape)}")
        return self.au_proj(cond, drop)

    def null_tokens(self, batch: int) -> torch.Tensor:
        """The "no condition" tokens ``(batch, num_tokens, cross_attention_dim)`` for guidance."""
        return self.au_proj.null_tokens[None].expand(batch, -1, -1)

    def sample_dropout(self, batch: int, *, generator: torch.Generator | None = None) -> torch.Tensor:
        """``(batch,)`` bool: which conditions a training step drops (probability ``cond_dropout``)."""
        device = self.au_proj.null_tokens.device
        return torch.rand(batch, generator=generator, device=device) < self.config.cond_dropout


# ---------------------------------------------------------------------------------------------- UNet plumbing
def _cross_attention_layers(unet: UNet2DConditionModel) -> tuple[list[str], list[int], list[int]]:
    """Processor names, inner sizes and context sizes of ``unet``'s cross-attention layers."""
    modules = dict(unet.named_modules())
    names, sizes, dims = [], [], []
    for name in unet.attn_processors:
        attn = modules[name.removesuffix(".processor")]
        if getattr(attn, "is_cross_attention", False):
            names.append(name)
            sizes.append(int(attn.to_k.out_features))
            dims.append(int(attn.to_k.in_features))
    return names, sizes, dims


@dataclass
class _Loaded:
    adapter: AUAdapter
    processors: dict[str, AUAttnProcessor]
    previous: dict[str, object]


def _state(unet) -> _Loaded | None:
    return getattr(unet, _STATE, None)


def load_au_adapter(unet: UNet2DConditionModel, adapter: AUAdapter, *, scale: float = 1.0) -> None:
    """Install ``adapter``'s processors into ``unet``'s cross-attention layers (other layers keep theirs).

    The previous processors are kept so :func:`unload_au_adapter` can put back exactly those objects. The
    adapter moves to the UNet's device and dtype; the UNet's own weights are unchanged.

    Raises
    ------
    ParameterError
        When an adapter is already loaded, or ``adapter`` was made for another architecture (names the
        first layer that differs).
    """
    if not isinstance(unet, UNet2DConditionModel):
        raise ParameterError(f"unet: expected a diffusers UNet2DConditionModel, got {type(unet).__name__}")
    if not isinstance(adapter, AUAdapter):
        raise ParameterError(f"adapter: expected an AUAdapter, got {type(adapter).__name__}")
    if _state(unet) is not None:
        raise ParameterError("unet: an AU adapter is already loaded; call unload_au_adapter first")
    names, sizes, dims = _cross_attention_layers(unet)
    want = list(zip(adapter.config.layer_names, adapter.config.hidden_sizes, strict=True))
    have = list(zip(names, sizes, strict=True))
    if want != have or any(d != adapter.config.cross_attention_dim for d in dims):
        diff = next((f"{w} vs the UNet's {h}" for w, h in zip(want, have, strict=False) if w != h), None)
        raise ParameterError(
            f"adapter: made for another UNet ({len(want)} cross-attention layers, context "
            f"{adapter.config.cross_attention_dim}; this UNet has {len(have)}, context {sorted(set(dims))}"
            + (f"; first difference: {diff}" if diff else "")
            + ")"
        )
    _check_scale(scale)
    param = next(unet.parameters())
    own = next(adapter.parameters())
    if own.device != param.device:
        adapter.to(param.device)
    if own.dtype != param.dtype:
        adapter.to(param.dtype)
    previous = dict(unet.attn_processors)
    ours = {
        name: AUAttnProcessor(kv, num_tokens=adapter.config.num_tokens, scale=scale)
        for name, kv in zip(adapter.config.layer_names, adapter.au_attn, strict=True)
    }
    unet.set_attn_processor({name: ours.get(name, proc) for name, proc in previous.items()})
    setattr(unet, _STATE, _Loaded(adapter, ours, previous))
    logger.debug("AU adapter loaded into %d cross-attention layers", len(ours))


def _check_scale(scale) -> float:
    if isinstance(scale, bool) or not isinstance(scale, (int, float)) or not np.isfinite(scale):
        raise ParameterError(f"au_scale: expected a finite number (0 = the base alone), got {scale!r}")
    return float(scale)


def loaded_au_adapter(unet: UNet2DConditionModel) -> AUAdapter | None:
    """The adapter loaded into ``unet`` (None when there is none)."""
    state = _state(unet)
    return None if state is None else state.adapter


def check_au_adapter(unet: UNet2DConditionModel) -> AUAdapter:
    """The loaded adapter, after checking every one of its processors is still in place.

    Raises
    ------
    ParameterError
        When no adapter is loaded, or some processor was replaced since :func:`load_au_adapter` (names the
        layers and what replaced them): sampling on would silently ignore the condition.
    """
    state = _state(unet)
    if state is None:
        raise ParameterError("unet: no AU adapter loaded; call load_au_adapter (or pipeline.load_au_adapter)")
    now = unet.attn_processors
    replaced = [name for name, proc in state.processors.items() if now.get(name) is not proc]
    if replaced:
        kinds = sorted({type(now.get(n)).__name__ for n in replaced})
        raise ParameterError(
            f"unet: {len(replaced)} of the AU adapter's {len(state.processors)} attention processors were replaced "
            f"(first {replaced[0]}, now {', '.join(kinds)}), e.g. by set_attn_processor or another adapter; "
            "call unload_au_adapter and load_au_adapter again"
        )
    return state.adapter


def set_au_scale(unet: UNet2DConditionModel, scale: float) -> None:
    """Weight of the AU branch in every adapted layer (0 = the base UNet's output exactly)."""
    check_au_adapter(unet)
    value = _check_scale(scale)
    for proc in _state(unet).processors.values():
        proc.scale = [value]


def unload_au_adapter(unet: UNet2DConditionModel) -> AUAdapter:
    """Put back the processors ``unet`` had before :func:`load_au_adapter` and return the adapter.

    The UNet's state dict, config and processors are then those it had before loading."""
    state = _state(unet)
    if state is None:
        raise ParameterError("unet: no AU adapter loaded; nothing to unload")
    unet.set_attn_processor(dict(state.previous))
    delattr(unet, _STATE)
    return state.adapter


def au_unet_output(
    unet: UNet2DConditionModel, sample: torch.Tensor, timestep, context: torch.Tensor, tokens: torch.Tensor | None
) -> torch.Tensor:
    """The UNet's prediction for ``sample`` with context ``(B, T, D)`` and AU tokens ``(B, N, D)`` (None: the
    base alone, allowed only when no adapter is loaded)."""
    if tokens is None:
        if _state(unet) is not None:
            raise ParameterError("tokens: the UNet has an AU adapter loaded; give AU tokens (or unload it)")
        return unet(sample, timestep, encoder_hidden_states=context).sample
    check_au_adapter(unet)
    return unet(sample, timestep, encoder_hidden_states=(context, [tokens])).sample


def load_adapter(path, *, device=None, dtype=None) -> AUAdapter:
    """An :class:`AUAdapter` saved with ``save_pretrained`` (local folder only; nothing is downloaded).

    Raises :class:`~facecraft.rigs.errors.MissingFileError` naming the folder and what it should hold."""
    from pathlib import Path

    from facecraft.rigs.errors import MissingFileError

    folder = Path(path)
    if not (folder / AUAdapter.config_name).is_file():
        raise MissingFileError(
            f"AU adapter folder {folder}: no {AUAdapter.config_name}; expected a folder written by "
            "AUAdapter.save_pretrained or `facecraft adapter train` (config.json + diffusion_pytorch_model.safetensors)"
        )
    adapter = AUAdapter.from_pretrained(str(folder), local_files_only=True, low_cpu_mem_usage=False)
    moves = {k: v for k, v in (("device", device), ("dtype", dtype)) if v is not None}
    return adapter.to(**moves) if moves else adapter


__all__ = [
    "COND_DIM",
    "AUAdapter",
    "AUAttnProcessor",
    "AUProjection",
    "au_condition",
    "au_unet_output",
    "check_au_adapter",
    "load_adapter",
    "load_au_adapter",
    "loaded_au_adapter",
    "set_au_scale",
    "unload_au_adapter",
]
