"""Training of facecraft's small face base and of the AU adapter (base frozen).

Three parts, each small: the **data** (:class:`~facecraft.synth.adapter_data.FaceSamples` in memory, with
horizontal flips that also swap the condition's left and right AUs), the **loss** (epsilon-prediction MSE of
DDPM at a random timestep, weighted by min-SNR so the many easy low-noise steps do not dominate,
:func:`diffusion_loss`) and the **loop** (:func:`_run`: AdamW with a warm-up then a cosine decay over the
steps *or* the wall-clock budget, whichever ends first, an exponential moving average of the weights that is
what gets saved, checkpoints every ``checkpoint_every`` steps and resume from the last one, bf16 autocast on
CUDA). A few thousand CPU steps is all a 60-minute budget buys, so the schedule and the average matter.

* :func:`train_base` trains a pixel-space ``UNet2DConditionModel`` from :func:`face_unet_config` and its learned
  null context, and writes a face base folder (:class:`~facecraft.synth.adapter_base.FaceBase`).
* :func:`train_adapter` trains an :class:`~facecraft.synth.adapter.AUAdapter` on a frozen base (facecraft's
  or an SD1.5-layout folder, through its VAE), dropping the condition with the adapter's ``cond_dropout``
  (AU dropout, for guidance), and timesteps up to ``t_max`` (the refine path never starts higher).
* :func:`conditional_gain`: held-out denoising loss with the true conditions vs shuffled vs null ones, under
  the same noise: does the adapter use its condition?

Each output folder gets ``train.json`` (options, minutes, losses) and a model card ``README.md`` naming the
training images and their licence; data with UTKFace is marked a research run, not for distribution.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
from diffusers import UNet2DConditionModel

from facecraft.rigs import ParameterError
from facecraft.rigs.facs import NUM_AU, NUM_SIDED_AU
from facecraft.rigs.machine import load_average

from .adapter import AUAdapter, au_condition, load_au_adapter, unload_au_adapter
from .adapter_base import FaceBase, face_scheduler, face_unet_config, load_base
from .adapter_data import FaceSamples

logger = logging.getLogger(__name__)

CHECKPOINT = "checkpoint.pt"
SCHEDULES = ("cosine", "constant")
#: Adapter training objectives (:func:`train_adapter`).
OBJECTIVES = ("noise", "shift")
#: min-SNR-gamma loss weighting (Hang et al. 2023): epsilon-loss weight min(SNR, gamma) / SNR.
SNR_GAMMA = 5.0


@dataclass
class TrainOptions:
    """Loop settings shared by both trainers.

    ``max_minutes`` stops training at a wall-clock limit (the steps done are recorded); ``checkpoint_every``
    steps (and at the end) the trainable state is saved, and ``resume`` continues from it. The learning rate
    warms up linearly for ``warmup_steps`` and then (``schedule="cosine"``) decays to ``lr / 20`` along
    whichever of steps and minutes is used up faster. ``ema_decay`` > 0 keeps an exponential moving average of
    the weights (its decay ramps up over the first steps) and the saved model is that average."""

    steps: int = 2000
    batch_size: int = 16
    lr: float = 2e-4
    max_minutes: float | None = None
    seed: int = 0
    device: str = "cpu"
    mixed_precision: bool = True  # bf16 autocast, CUDA only
    checkpoint_every: int = 200
    resume: bool = True
    threads: int | None = None
    log_every: int = 25
    warmup_steps: int = 50
    schedule: str = "cosine"
    ema_decay: float = 0.999

    def check(self) -> None:
        if self.steps < 1 or self.batch_size < 1 or not self.lr > 0:
            raise ParameterError(f"training options: steps, batch_size and lr must be positive, got {self}")
        if self.schedule not in SCHEDULES:
            raise ParameterError(f"schedule: expected one of {SCHEDULES}, got {self.schedule!r}")
        if not 0.0 <= self.ema_decay < 1.0 or self.warmup_steps < 0:
            raise ParameterError(
                f"ema_decay must lie in [0, 1) and warmup_steps be >= 0, got {self.ema_decay}, {self.warmup_steps}"
            )

    def lr_factor(self, step: int, seconds: float) -> float:
        """Multiplier of ``lr`` at ``step`` after ``seconds`` of training (warm-up, then cosine to 1/20)."""
        if self.warmup_steps and step < self.warmup_steps:
            return (step + 1) / self.warmup_steps
        if self.schedule == "constant":
            return 1.0
        done = step / self.steps
        if self.max_minutes is not None:
            done = max(done, seconds / (60 * self.max_minutes))
        return float(0.05 + 0.95 * 0.5 * (1 + np.cos(np.pi * min(done, 1.0))))
        if self.max_minutes is not None and not self.max_minutes > 0:
            raise ParameterError(f"max_minutes: expected a positive number of minutes, got {self.max_minutes}")


# ---------------------------------------------------------------------------------------------- data
def flip_condition(cond: torch.Tensor) -> torch.Tensor:
    """Conditions ``(B, 107)`` of horizontally mirrored faces: left and right AUs (and code residuals) swap."""
    au, act, res = cond[:, : 2 * NUM_AU], cond[:, 2 * NUM_AU : 2 * NUM_AU + 7], cond[:, 2 * NUM_AU + 7 :]
    swap = lambda v: torch.cat([v[:, NUM_AU:], v[:, :NUM_AU]], dim=1)  # noqa: E731
    return torch.cat([swap(au), act, swap(res)], dim=1)


class Batches:
    """Random mini-batches of crops in [-1, 1] ``(B, 3, R, R)`` and conditions ``(B, 107)``, half flipped."""

    def __init__(self, samples: FaceSamples, *, batch_size: int, generator: torch.Generator, device) -> None:
        self.images = torch.from_numpy(samples.images).permute(0, 3, 1, 2).contiguous()
        self.cond = torch.from_numpy(samples.cond)
        self.batch_size, self.generator, self.device = batch_size, generator, device

    def __next__(self) -> tuple[torch.Tensor, torch.Tensor]:
        idx = torch.randint(0, len(self.images), (self.batch_size,), generator=self.generator)
        x = self.images[idx].float() / 127.5 - 1.0
        c = self.cond[idx]
        flip = torch.rand(self.batch_size, generator=self.generator) < 0.5
        x[flip] = x[flip].flip(-1)
        c[flip] = flip_condition(c[flip])
        return x.to(self.device), c.to(self.device)


class PairBatches(Batches):
    """Random mini-batches of ``(start, target, cond)`` for the paired *shift* objective.

    ``target`` is a crop and ``cond`` its condition; ``start`` is a point on the straight line from the crop's
    source photo (:meth:`FaceSamples.sources`) to it: the source itself with probability ``from_source`` (where
    the refine path starts: the unedited face), else a uniform blend (where a refine trajectory passes on its
    way). For a photo, start = target (nothing to change). Flips apply to the pair alike. ``rest_only``: only
    pairs from each person's rest photo (:meth:`FaceSamples.rest_photos`). ``still_share``: share of rows that
    ask the source photo for the neutral face (every AU 0) and expect it unchanged (no data row has an all-zero
    condition, yet it is what a user's "AU12 = 0" means; meant with ``rest_only``)."""

    def __init__(
        self, samples: FaceSamples, *, from_source: float = 0.5, rest_only: bool = False, still_share: float = 0.0, **kw
    ) -> None:
        super().__init__(samples, **kw)
        self.still_share = float(still_share)
        self.neutral = torch.from_numpy(au_condition(np.zeros(NUM_SIDED_AU, np.float32)))[0]
        self.source = torch.from_numpy(samples.sources())
        self.from_source = float(from_source)
        rows = samples.rest_photos() if rest_only else np.ones(len(samples), bool)
        self.rows = torch.from_numpy(np.flatnonzero(rows))

    def __next__(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        b, g = self.batch_size, self.generator
        idx = self.rows[torch.randint(0, len(self.rows), (b,), generator=g)]
        target = self.images[idx].float() / 127.5 - 1.0
        source = self.images[self.source[idx]].float() / 127.5 - 1.0
        lam = torch.where(torch.rand(b, generator=g) < self.from_source, torch.ones(b), torch.rand(b, generator=g))
        start = torch.lerp(target, source, lam.view(-1, 1, 1, 1))
        c = self.cond[idx]
        still = torch.rand(b, generator=g) < self.still_share
        start[still], target[still], c[still] = source[still], source[still], self.neutral
        flip = torch.rand(b, generator=g) < 0.5
        start[flip], target[flip] = start[flip].flip(-1), target[flip].flip(-1)
        c[flip] = flip_condition(c[flip])
        return start.to(self.device), target.to(self.device), c.to(self.device)


# ---------------------------------------------------------------------------------------------- loss
def random_timesteps(
    x: torch.Tensor, scheduler, *, generator: torch.Generator, t_min: int = 0, t_max: int | None = None
) -> torch.Tensor:
    """One uniform random timestep in ``[t_min, t_max)`` per sample of ``x`` (``t_max`` None: the schedule's
    length), on ``x``'s device."""
    total = int(scheduler.config.num_train_timesteps)
    n = int(t_max or total)
    if not 0 <= t_min < n <= total:
        raise ParameterError(f"t_min, t_max: expected 0 <= t_min < t_max <= {total}, got {t_min}, {t_max}")
    return torch.randint(int(t_min), n, (x.shape[0],), generator=generator).to(x.device)


def diffusion_loss(
    predict: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
    x0: torch.Tensor,
    scheduler,
    *,
    generator: torch.Generator,
    t_max: int | None = None,
    t_min: int = 0,
    noise: torch.Tensor | None = None,
    timesteps: torch.Tensor | None = None,
    snr_gamma: float | None = SNR_GAMMA,
) -> torch.Tensor:
    """Epsilon-prediction MSE of ``predict(x_t, t)`` at uniform random timesteps in ``[t_min, t_max)``.

    Each sample's error is weighted by ``min(SNR, snr_gamma) / SNR`` (None: unweighted), which keeps the
    low-noise steps (large SNR, easy, little to learn) from dominating a short run. ``noise`` and
    ``timesteps`` may be given to compare conditions under the same draw."""
    if timesteps is None:
        timesteps = random_timesteps(x0, scheduler, generator=generator, t_min=t_min, t_max=t_max)
    if noise is None:
        noise = torch.randn(x0.shape, generator=generator).to(x0.device, x0.dtype)
    x_t = scheduler.add_noise(x0, noise, timesteps)
    err = (predict(x_t, timesteps).float() - noise.float()).pow(2).mean(dim=tuple(range(1, x0.ndim)))
    if snr_gamma is None:
        return err.mean()
    alpha_bar = scheduler.alphas_cumprod.to(x0.device)[timesteps].float()
    snr = alpha_bar / (1 - alpha_bar)
    return (err * snr.clamp(max=snr_gamma) / snr).mean()


def shift_loss(
    predict: Callable[[torch.Tensor, torch.Tensor, torch.Tensor], torch.Tensor],
    start: torch.Tensor,
    target: torch.Tensor,
    tokens: torch.Tensor,
    null: torch.Tensor,
    scheduler,
    *,
    generator: torch.Generator,
    t_max: int,
    t_min: int = 0,
) -> torch.Tensor:
    """The paired objective: the adapter's change of the base's clean-image estimate, from ``start`` noised to
    a random timestep, should be ``target - start``.

    ``predict(x_t, t, tokens)`` is the UNet's noise prediction. The change is read where the refine path reads
    it: the x0 estimate under ``tokens`` minus that under the ``null`` tokens (no gradient), i.e.
    ``-sqrt((1 - a) / a) * (eps_cond - eps_null)`` at ``a = alpha_bar(t)``; MSE in image units against
    ``target - start``. Why: with the ordinary noise-prediction loss the condition explains a tiny share of
    the error (the noisy input already shows most of the expression, and the noise term dominates), so a short
    CPU run barely learned to use it; here the base's own error cancels, the noise adds no variance, and what is
    left is exactly what the condition must supply (zero where ``start`` already shows it)."""
    t = random_timesteps(start, scheduler, generator=generator, t_min=t_min, t_max=t_max)
    noise = torch.randn(start.shape, generator=generator).to(start.device, start.dtype)
    x_t = scheduler.add_noise(start, noise, t)
    with torch.no_grad():
        eps_null = predict(x_t, t, null).float()
    eps_cond = predict(x_t, t, tokens).float()
    a = scheduler.alphas_cumprod.to(start.device)[t].float().view(-1, *([1] * (start.ndim - 1)))
    change = -((1 - a) / a).sqrt() * (eps_cond - eps_null)
    return (change - (target - start).float()).pow(2).mean()


# ---------------------------------------------------------------------------------------------- loop
def _autocast(opts: TrainOptions):
    import contextlib

    if opts.mixed_precision and str(opts.device).startswith("cuda"):
        return torch.autocast("cuda", dtype=torch.bfloat16)
    return contextlib.nullcontext()


def _run(
    out_dir: Path,
    params: list[torch.nn.Parameter],
    state: Callable[[], dict],
    load_state: Callable[[dict], None],
    step_loss: Callable[[], torch.Tensor],
    opts: TrainOptions,
    *,
    what: str,
) -> dict:
    """The training loop: steps until ``opts.steps`` or ``opts.max_minutes``, checkpoints, resume."""
    from tqdm.auto import tqdm

    optimizer = torch.optim.AdamW(params, lr=opts.lr, weight_decay=1e-4)
    ckpt = out_dir / CHECKPOINT
    step, losses, seconds = 0, [], 0.0
    ema = [p.detach().clone() for p in params] if opts.ema_decay > 0 else None
    if opts.resume and ckpt.is_file():
        saved = torch.load(ckpt, map_location=opts.device, weights_only=True)
        load_state(saved["model"])
        optimizer.load_state_dict(saved["optimizer"])
        step, losses, seconds = int(saved["step"]), list(saved["losses"]), float(saved["seconds"])
        if ema is not None and saved.get("ema") is not None:
            ema = [e.to(opts.device) for e in saved["ema"]]
        logger.info("%s: resumed at step %d from %s", what, step, ckpt)

    def save() -> None:
        torch.save(
            {"model": state(), "optimizer": optimizer.state_dict(), "step": step, "losses": losses, "seconds": seconds,
             "ema": ema},
            ckpt,
        )  # fmt: skip

    start = time.perf_counter() - seconds
    bar = tqdm(total=opts.steps, initial=step, desc=what, unit="step")
    stopped = "steps"
    while step < opts.steps:
        if opts.max_minutes is not None and time.perf_counter() - start > 60 * opts.max_minutes:
            stopped = "time limit"
            break
        for group in optimizer.param_groups:
            group["lr"] = opts.lr * opts.lr_factor(step, time.perf_counter() - start)
        with _autocast(opts):
            loss = step_loss()
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        optimizer.step()
        if ema is not None:
            _ema_update(ema, params, min(opts.ema_decay, (1 + step) / (10 + step)))
        losses.append(float(loss.detach()))
        step += 1
        seconds = time.perf_counter() - start
        bar.update()
        if step % opts.log_every == 0:
            bar.set_postfix(loss=f"{np.mean(losses[-opts.log_every :]):.4f}")
        if step % opts.checkpoint_every == 0:
            save()
    bar.close()
    seconds = time.perf_counter() - start
    save()
    if ema is not None:  # the model handed back (and saved by the caller) is the average
        with torch.no_grad():
            for p, e in zip(params, ema, strict=True):
                p.copy_(e)
    tail = losses[-min(len(losses), 50) :]
    return {
        "steps": step,
        "stopped_by": stopped,
        "minutes": round(seconds / 60, 2),
        "loss_first_50": float(np.mean(losses[:50])) if losses else None,
        "loss_last_50": float(np.mean(tail)) if tail else None,
        "ema": opts.ema_decay > 0,
        "load_average": load_average(),  # (1, 5, 15 min) at the end: how shared the CPU was
        "losses_every_10": [round(float(np.mean(losses[i : i + 10])), 5) for i in range(0, len(losses), 10)],
    }


@torch.no_grad()
def _ema_update(ema: list[torch.Tensor], params: list[torch.nn.Parameter], decay: float) -> None:
    for e, p in zip(ema, params, strict=True):
        e.lerp_(p.detach(), 1.0 - decay)


def _setup(opts: TrainOptions) -> torch.Generator:
    opts.check()
    if opts.threads:
        torch.set_num_threads(int(opts.threads))
    torch.manual_seed(opts.seed)
    return torch.Generator().manual_seed(opts.seed)


def _card(out_dir: Path, title: str, samples: FaceSamples, report: dict) -> None:
    from .adapter_data import LICENCES

    research = LICENCES["utk"] in samples.licence  # (FRLL's own name contains "Research": match the licence)
    lines = [
        f"# {title}",
        "",
        f"Trained by facecraft ({report['kind']}) on {len(samples)} aligned face crops "
        f"({int((samples.kind == 'photo').sum())} photos, {int((samples.kind == 'edit').sum())} geometric-editor edits "
        f"of them) from {len(set(samples.person.tolist()))} people.",
        f"Training images and licence: {samples.licence}.",
        (
            "**Research run: trained on images under a non-commercial research licence (UTKFace). Do not distribute.**"
            if research
            else "The training images are CC BY 4.0; attribute the Face Research Lab London Set (DeBruine & Jones, "
            "2017, doi:10.6084/m9.figshare.5047666.v5) and its Canada set (doi:10.6084/m9.figshare.4220517.v1)."
        ),
        "",
        f"Steps: {report['steps']} in {report['minutes']} min on {report['device']} "
        f"(stopped by {report['stopped_by']}); "
        f"loss {report['loss_first_50']:.4f} (first 50 steps) -> {report['loss_last_50']:.4f} (last 50).",
        f"A small model for the refine path's mechanism and tests; expect blurry {samples.images.shape[1]} px faces, "
        "not photographs.",
    ]
    (out_dir / "README.md").write_text("\n".join(lines) + "\n")


# ---------------------------------------------------------------------------------------------- trainers
def train_base(
    samples: FaceSamples,
    out_dir,
    *,
    channels=(16, 32, 64, 128),
    context_dim: int = 64,
    t_max: int | None = None,
    options: TrainOptions | None = None,
) -> FaceBase:
    """Train facecraft's pixel-space face base on ``samples`` and write it to ``out_dir``.

    Parameters
    ----------
    samples : FaceSamples
        Crops ``(N, R, R, 3)``; ``R`` becomes the base's resolution.
    out_dir : path-like
        Folder for the base (``unet/``, ``scheduler/``, ``context.safetensors``, ``facecraft_base.json``),
        ``checkpoint.pt``, ``train.json`` and ``README.md``.
    channels, context_dim
        See :func:`~facecraft.synth.adapter_base.face_unet_config`.
    t_max : int, optional
        Train only timesteps below this (default: the whole schedule). The refine path starts at most at
        ``strength x 1000``, so a base for refining only (not for sampling from pure noise) spends its short
        budget where it is used.
    options : TrainOptions
    """
    opts = options or TrainOptions()
    gen = _setup(opts)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    res = int(samples.images.shape[1])
    unet = UNet2DConditionModel(**face_unet_config(resolution=res, channels=channels, context_dim=context_dim))
    unet.to(opts.device).train()
    context = torch.nn.Parameter(torch.randn(1, 1, context_dim, device=opts.device) * 0.02)
    scheduler = face_scheduler()
    batches = Batches(samples, batch_size=opts.batch_size, generator=gen, device=opts.device)

    def step_loss() -> torch.Tensor:
        x0, _ = next(batches)
        ctx = context.expand(x0.shape[0], -1, -1)
        return diffusion_loss(
            lambda x, t: unet(x, t, encoder_hidden_states=ctx).sample, x0, scheduler, generator=gen, t_max=t_max
        )

    def state() -> dict:
        return {"unet": unet.state_dict(), "context": context.detach()}

    def load_state(saved: dict) -> None:
        unet.load_state_dict(saved["unet"])
        with torch.no_grad():
            context.copy_(saved["context"])

    report = _run(out, [*unet.parameters(), context], state, load_state, step_loss, opts, what="train base")
    report.update(
        kind="face base",
        device=str(opts.device),
        options=asdict(opts),
        resolution=res,
        licence=samples.licence,
        t_max=t_max or scheduler.config.num_train_timesteps,
    )
    base = FaceBase(unet.eval().requires_grad_(False), scheduler, context.detach().clone(), res, None,
                    {"data": f"{len(samples)} crops", "licence": samples.licence, "train": report})  # fmt: skip
    base.save(out)
    (out / "train.json").write_text(json.dumps(report, indent=2) + "\n")
    _card(out, "facecraft face base (pixel space)", samples, report)
    return base


def train_adapter(
    base,
    samples: FaceSamples,
    out_dir,
    *,
    num_tokens: int = 4,
    hidden_dim: int = 256,
    cond_dropout: float = 0.1,
    t_max: int = 700,
    t_min: int = 0,
    objective: str = "noise",
    from_source: float = 0.5,
    rest_only: bool = False,
    still_share: float = 0.0,
    options: TrainOptions | None = None,
) -> AUAdapter:
    """Train an AU adapter on a frozen ``base`` (FaceBase or folder) and write it to ``out_dir``.

    Parameters
    ----------
    base : FaceBase or path-like
        The frozen base; its resolution must match the crops (resize the data for an SD base).
    samples : FaceSamples
    out_dir : path-like
        Receives the adapter (``config.json`` + ``diffusion_pytorch_model.safetensors``), ``checkpoint.pt``,
        ``train.json`` and ``README.md``.
    num_tokens, hidden_dim, cond_dropout
        See :class:`~facecraft.synth.adapter.AUAdapter`.
    t_max, t_min : int
        Timesteps drawn in ``[t_min, t_max)`` (the refine path uses strengths up to ``t_max / 1000``; the
        expression is decided at middle noise levels, the lowest ones only sharpen).
    objective : {"noise", "shift"}
        ``"noise"``: noise-prediction MSE on each crop under its condition, conditions dropped at
        ``cond_dropout`` (the learned null tokens train with them). ``"shift"``: the paired objective of
        :func:`shift_loss` on (source photo -> edit) pairs of the crops (:class:`PairBatches`); the null tokens
        stay at zero, where the adapter adds exactly nothing, so guidance's null branch is the base itself
        (needs a latent-free base: the pairs are compared in pixels).
    from_source : float
        ``"shift"`` only: share of pairs that start at the source photo itself (see :class:`PairBatches`).
    rest_only : bool
        ``"shift"`` only: pairs from each person's rest photo and its edits only (see :class:`PairBatches`).
    still_share : float
        ``"shift"`` only: share of rows asking the photo for the neutral face, expecting no change (ditto).
    options : TrainOptions
        ``lr`` defaults to 2e-4; adapters usually take 1e-3 (set it).
    """
    opts = options or TrainOptions()
    gen = _setup(opts)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    if not isinstance(base, FaceBase):
        base = load_base(base, device=opts.device)
    if int(samples.images.shape[1]) != base.resolution:
        raise ParameterError(
            f"samples: crops of {samples.images.shape[1]} px for a base of {base.resolution} px; "
            "build them at the base's size"
        )
    if objective not in OBJECTIVES:
        raise ParameterError(f"objective: expected one of {OBJECTIVES}, got {objective!r}")
    if objective == "shift" and base.vae is not None:
        raise ParameterError("objective 'shift': needs a pixel-space base (this one has a VAE); use 'noise'")
    base.unet.to(opts.device).requires_grad_(False).eval()
    adapter = AUAdapter.for_unet(base.unet, num_tokens=num_tokens, hidden_dim=hidden_dim, cond_dropout=cond_dropout)
    adapter.to(opts.device).train()
    load_au_adapter(base.unet, adapter)
    kw = dict(batch_size=opts.batch_size, generator=gen, device=opts.device)
    batches = (
        PairBatches(samples, from_source=from_source, rest_only=rest_only, still_share=still_share, **kw)
        if objective == "shift"
        else Batches(samples, **kw)
    )
    context = base.context.to(opts.device)

    def step_shift() -> torch.Tensor:
        start, target, cond = next(batches)
        ctx = context.expand(start.shape[0], -1, -1)
        return shift_loss(
            lambda x, t, tok: base.unet(x, t, encoder_hidden_states=(ctx, [tok])).sample,
            start, target, adapter(cond), adapter.null_tokens(start.shape[0]), base.scheduler, generator=gen,
            t_max=t_max, t_min=t_min,
        )  # fmt: skip

    def step_loss() -> torch.Tensor:
        x0, cond = next(batches)
        x0 = _to_model_space(base, x0)
        tokens = adapter(cond, adapter.sample_dropout(x0.shape[0], generator=gen))
        ctx = context.expand(x0.shape[0], -1, -1)
        return diffusion_loss(
            lambda x, t: base.unet(x, t, encoder_hidden_states=(ctx, [tokens])).sample,
            x0, base.scheduler, generator=gen, t_max=t_max, t_min=t_min,
        )  # fmt: skip

    try:
        report = _run(out, list(adapter.parameters()), adapter.state_dict, adapter.load_state_dict,
                      step_shift if objective == "shift" else step_loss, opts, what="train adapter")  # fmt: skip
    finally:
        unload_au_adapter(base.unet)
    report.update(kind="AU adapter", device=str(opts.device), options=asdict(opts), t_max=t_max, t_min=t_min,
                  objective=objective, base=base.info.get("kind"), licence=samples.licence)  # fmt: skip
    if objective == "shift":
        report.update(from_source=from_source, rest_only=rest_only, still_share=still_share)
    adapter.eval().save_pretrained(out)
    (out / "train.json").write_text(json.dumps(report, indent=2) + "\n")
    _card(out, "facecraft AU adapter", samples, report)
    return adapter


@torch.no_grad()
def _to_model_space(base: FaceBase, x: torch.Tensor) -> torch.Tensor:
    if base.vae is None:
        return x.to(base.unet.dtype)
    return base.vae.encode(x.to(base.vae.dtype)).latent_dist.sample() * base.vae.config.scaling_factor


@torch.no_grad()
def conditional_gain(
    base: FaceBase, adapter: AUAdapter, samples: FaceSamples, *, t_max: int = 700, repeats: int = 4, seed: int = 0
) -> dict:
    """Denoising loss on ``samples`` with their true conditions, shuffled conditions and the null condition.

    The same noise and timesteps serve all three, so a lower loss with the true conditions than with shuffled
    ones says the adapter reads the condition (not only the average expression)."""
    gen = torch.Generator().manual_seed(seed)
    device = next(base.unet.parameters()).device
    load_au_adapter(base.unet, adapter)
    try:
        x0 = _to_model_space(base, torch.from_numpy(samples.images).permute(0, 3, 1, 2).float().to(device) / 127.5 - 1)
        cond = torch.from_numpy(samples.cond).to(device)
        ctx = base.context.to(device).expand(len(x0), -1, -1)
        totals = {"true": [], "shuffled": [], "null": []}
        for _ in range(repeats):
            noise = torch.randn(x0.shape, generator=gen).to(device)
            t = torch.randint(0, t_max, (len(x0),), generator=gen).to(device)
            perm = torch.randperm(len(x0), generator=gen).to(device)
            for key, tokens in (
                ("true", adapter(cond)),
                ("shuffled", adapter(cond[perm])),
                ("null", adapter.null_tokens(len(x0))),
            ):
                predict = lambda x, tt, tok=tokens: base.unet(x, tt, encoder_hidden_states=(ctx, [tok])).sample  # noqa: E731
                totals[key].append(
                    float(diffusion_loss(predict, x0, base.scheduler, generator=gen, noise=noise, timesteps=t))
                )
    finally:
        unload_au_adapter(base.unet)
    out = {k: float(np.mean(v)) for k, v in totals.items()}
    out["n"] = len(samples)
    out["true_below_shuffled"] = out["true"] < out["shuffled"]
    return out
