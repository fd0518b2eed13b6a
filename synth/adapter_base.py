"""Diffusion bases the AU adapter plugs into: facecraft's small face base, or a user's SD1.5-layout folder.

Nothing pretrained can be downloaded here, so a base is either

* a **facecraft face base** (``facecraft adapter train-base``): a small pixel-space (or latent, when a
  ``vae/`` is present) ``UNet2DConditionModel`` trained on aligned face crops, whose cross-attention reads a
  learned *null context* (there is no text); folder ``unet/``, ``scheduler/``, optional ``vae/``,
  ``context.safetensors`` and ``facecraft_base.json`` (resolution, data, licence of the training images); or
* a **diffusers folder in Stable Diffusion 1.5 layout** that the user already has (``unet/``, ``vae/``,
  ``scheduler/``, ``text_encoder/``, ``tokenizer/``), read with ``local_files_only=True``; the context is a
  fixed prompt encoded once by its CLIP text encoder.

Either way the caller gets a :class:`FaceBase`: the UNet, the scheduler, the VAE or None, the context
tokens ``(1, T, D)`` and the resolution of the face crops it works on.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path

import torch
from diffusers import AutoencoderKL, DDIMScheduler, DDPMScheduler, UNet2DConditionModel

from facecraft.rigs.errors import FileFormatError, MissingFileError, ParameterError

logger = logging.getLogger(__name__)

BASE_INFO = "facecraft_base.json"
CONTEXT_FILE = "context.safetensors"
#: Prompt encoded once as the context of an SD1.5-layout base (it has no null context of its own).
SD_PROMPT = "a close-up photo of a person's face, natural light"
_SD_PARTS = ("unet", "vae", "scheduler", "text_encoder", "tokenizer")
_WHAT_TO_PASS = (
    "pass a facecraft face base (written by `facecraft adapter train-base` / synth.adapter_train.train_base) or a "
    "local diffusers folder in Stable Diffusion 1.5 layout (unet/, vae/, scheduler/, text_encoder/, tokenizer/)"
)


def face_unet_config(
    *,
    resolution: int = 64,
    channels=(16, 32, 64, 128),
    context_dim: int = 64,
    in_channels: int = 3,
    attention_levels: int = 2,
) -> dict:
    """Config of facecraft's small face UNet: ``len(channels)`` levels, attention on the lowest ones.

    Attention (self + cross, where the AU adapter attaches) runs on the ``attention_levels`` coarsest levels
    only (at most all but the first): at 64 px those are 16 x 16 and 8 x 8, which keeps a CPU training step
    about four times cheaper than attention at 32 x 32.

    Parameters
    ----------
    resolution : int
        Side of the (pixel or latent) sample in pixels.
    channels : sequence of int
        Feature channels per level (each divisible by 8, the group-norm groups).
    context_dim : int
        Size of the context and AU tokens.
    in_channels : int
        3 for a pixel-space base, the VAE's latent channels for a latent one.
    attention_levels : int
        How many of the coarsest levels have attention (at least 1).
    """
    channels = tuple(int(c) for c in channels)
    if len(channels) < 2 or any(c % 8 for c in channels):
        raise ParameterError(f"channels: expected at least two levels, each a multiple of 8, got {channels}")
    if attention_levels < 1:
        raise ParameterError(f"attention_levels: expected at least 1, got {attention_levels}")
    levels = len(channels)
    attn = min(int(attention_levels), levels - 1)
    return {
        "sample_size": int(resolution),
        "in_channels": int(in_channels),
        "out_channels": int(in_channels),
        "layers_per_block": 1,
        "block_out_channels": channels,
        "down_block_types": ("DownBlock2D",) * (levels - attn) + ("CrossAttnDownBlock2D",) * attn,
        "up_block_types": ("CrossAttnUpBlock2D",) * attn + ("UpBlock2D",) * (levels - attn),
        "cross_attention_dim": int(context_dim),
        "attention_head_dim": 8,
        "norm_num_groups": 8,
    }


def face_scheduler() -> DDPMScheduler:
    """The training noise schedule of facecraft bases (1000 steps, scaled-linear betas, epsilon target)."""
    return DDPMScheduler(num_train_timesteps=1000, beta_schedule="scaled_linear", beta_start=0.00085, beta_end=0.012)


@dataclass
class FaceBase:
    """A frozen diffusion base ready for the adapter.

    Attributes
    ----------
    unet : UNet2DConditionModel
    scheduler : diffusers scheduler (sampling uses a DDIM copy of its config)
    context : torch.Tensor
        ``(1, T, D)`` context tokens every call uses (learned null context, or an encoded prompt).
    resolution : int
        Side of the face crops in pixels.
    vae : AutoencoderKL or None
        None for a pixel-space base.
    info : dict
        ``facecraft_base.json`` (kind, data, licence, training figures) or the SD folder's description.
    """

    unet: UNet2DConditionModel
    scheduler: object
    context: torch.Tensor
    resolution: int
    vae: AutoencoderKL | None = None
    info: dict = field(default_factory=dict)

    @property
    def latent(self) -> bool:
        return self.vae is not None

    def save(self, path) -> Path:
        """Write the base as a facecraft base folder (see the module docstring)."""
        from facecraft.rigs.tensor_files import save_tensors

        out = Path(path)
        out.mkdir(parents=True, exist_ok=True)
        self.unet.save_pretrained(out / "unet")
        self.scheduler.save_pretrained(out / "scheduler")
        if self.vae is not None:
            self.vae.save_pretrained(out / "vae")
        save_tensors({"context": self.context.detach().float().cpu().contiguous()}, out / CONTEXT_FILE)
        info = {**self.info, "kind": "facecraft", "resolution": int(self.resolution), "latent": self.latent}
        (out / BASE_INFO).write_text(json.dumps(info, indent=2) + "\n")
        return out


def load_base(path, *, device=None, dtype: torch.dtype | None = None, prompt: str = SD_PROMPT) -> FaceBase:
    """Load a base from a local folder (facecraft face base or SD1.5 layout; nothing is downloaded).

    Parameters
    ----------
    path : path-like
        The folder.
    device, dtype : optional
        Where to put the models (e.g. ``"cuda"``, ``torch.float16``).
    prompt : str
        Context prompt for an SD1.5-layout base.

    Raises
    ------
    MissingFileError
        The folder is missing or is neither layout (names what to pass).
    """
    if path is None:
        raise MissingFileError(f"diffusion base: none given; {_WHAT_TO_PASS}")
    folder = Path(path)
    if not folder.is_dir():
        raise MissingFileError(f"diffusion base {folder}: folder not found; {_WHAT_TO_PASS}")
    if (folder / BASE_INFO).is_file():
        base = _load_facecraft(folder)
    elif all((folder / part).is_dir() for part in _SD_PARTS):
        base = _load_sd(folder, prompt=prompt)
    else:
        missing = [p for p in _SD_PARTS if not (folder / p).is_dir()]
        raise MissingFileError(
            f"diffusion base {folder}: neither a facecraft base (no {BASE_INFO}) nor an SD1.5 folder "
            f"(missing {', '.join(missing)}); {_WHAT_TO_PASS}"
        )
    base.unet.requires_grad_(False).eval()
    if base.vae is not None:
        base.vae.requires_grad_(False).eval()
    moves = {k: v for k, v in (("device", device), ("dtype", dtype)) if v is not None}
    if moves:
        base.unet.to(**moves)
        if base.vae is not None:
            base.vae.to(**moves)
        base.context = base.context.to(**moves)
    return base


def _model(cls, folder: Path):
    """A diffusers model from a local folder (no download; no ``accelerate`` needed)."""
    return cls.from_pretrained(str(folder), local_files_only=True, low_cpu_mem_usage=False)


def _load_facecraft(folder: Path) -> FaceBase:
    from safetensors.torch import load_file

    try:
        info = json.loads((folder / BASE_INFO).read_text())
    except json.JSONDecodeError as e:
        raise FileFormatError(f"{folder / BASE_INFO}: not valid JSON ({e})") from e
    for part in ("unet", "scheduler", CONTEXT_FILE):
        if not (folder / part).exists():
            raise MissingFileError(f"facecraft base {folder}: {part} missing; retrain or copy the whole folder")
    unet = _model(UNet2DConditionModel, folder / "unet")
    scheduler = DDPMScheduler.from_pretrained(str(folder / "scheduler"), local_files_only=True)
    vae = _model(AutoencoderKL, folder / "vae") if (folder / "vae").is_dir() else None
    context = load_file(str(folder / CONTEXT_FILE))["context"]
    return FaceBase(unet, scheduler, context, int(info["resolution"]), vae, info)


def _load_sd(folder: Path, *, prompt: str) -> FaceBase:
    from transformers import CLIPTextModel, CLIPTokenizer

    unet = _model(UNet2DConditionModel, folder / "unet")
    vae = _model(AutoencoderKL, folder / "vae")
    scheduler = DDIMScheduler.from_pretrained(str(folder / "scheduler"), local_files_only=True)
    tokenizer = CLIPTokenizer.from_pretrained(str(folder / "tokenizer"), local_files_only=True)
    encoder = CLIPTextModel.from_pretrained(str(folder / "text_encoder"), local_files_only=True)
    ids = tokenizer(
        prompt, padding="max_length", max_length=tokenizer.model_max_length, truncation=True, return_tensors="pt"
    ).input_ids
    with torch.no_grad():
        context = encoder(ids)[0]
    del encoder
    scale = 2 ** (len(vae.config.block_out_channels) - 1)
    resolution = int(unet.config.sample_size) * scale
    info = {"kind": "sd", "folder": str(folder), "prompt": prompt, "resolution": resolution, "latent": True}
    return FaceBase(unet, scheduler, context, resolution, vae, info)
