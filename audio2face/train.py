"""Training loop of the learned audio2face model: :class:`TrainConfig` and :func:`train` (optimiser, schedule,
checkpoints, resume, the run folder).

The parts it puts together: data (:mod:`.train_data`), batches (:mod:`.train_sampler`), augmentation
(:mod:`.train_augment`) and losses (:mod:`.train_losses`, which describes each term).

The shipped weights (``audio2face/default_a2f.safetensors`` + ``.json``) and the comparison model without the
emotion losses (``ablation_no_emotion_losses.*``) were trained with the commands below. Each stage's settings are
also in the weights' JSON (``meta.history`` / ``meta.train``); the corpus depends on the teacher's code at build
time, so a changed teacher gives other targets. ``facecraft bench audio2face`` scores the result::

    export FACECRAFT_CACHE_DIR=outputs/a2f/cache      # optional: caches log-mel features
    # corpus for stages 1-3: hibari + espeak-ng (9 training voices, 2 held out)
    facecraft a2f corpus --out outputs/a2f/corpus --max-sentences 120 --voices hibari:heart:1.0 \
        hibari:heart:0.85 hibari:heart:1.15 espeak:en-us+f2:160:50 espeak:en-us+f5:150:60 espeak:en-us+m2:165:45 \
        espeak:en-us+m1:155:40 espeak:en-us+klatt:170:50 espeak:en-gb-x-rp+f2:150:70 espeak:en-us+f4:170:45 \
        espeak:en-gb-scotland+f4:160:55
    # stage 1 (5000 steps)
    facecraft a2f train --corpus outputs/a2f/corpus --out outputs/a2f/default --steps 5000 --seed 0 --threads 1
    facecraft a2f train --corpus outputs/a2f/corpus --out outputs/a2f/no_emotion_losses --steps 5000 --seed 0 \
        --threads 1 --no-emotion-losses
    # stage 2 (2500 steps, extra weight on bilabial closures)
    facecraft a2f train --corpus outputs/a2f/corpus --out outputs/a2f/default_ft --init-from outputs/a2f/default \
        --steps 2500 --lr 1e-3 --closure-weight 1 --seed 1 --threads 1
    facecraft a2f train --corpus outputs/a2f/corpus --out outputs/a2f/no_emotion_losses_ft \
        --init-from outputs/a2f/no_emotion_losses --steps 2500 --lr 1e-3 --closure-weight 1 --seed 1 --threads 1 \
        --no-emotion-losses
    # stage 3 (1000 steps, opening loss; the ablation ran with 2 threads)
    facecraft a2f train --corpus outputs/a2f/corpus --out outputs/a2f/default_c4o1j --init-from outputs/a2f/default_ft \
        --steps 1000 --lr 5e-4 --closure-weight 4 --opening-weight 1 --seed 2 --threads 1
    facecraft a2f train --corpus outputs/a2f/corpus --out outputs/a2f/no_emotion_losses_c4o1j \
        --init-from outputs/a2f/no_emotion_losses_ft --steps 1000 --lr 5e-4 --closure-weight 4 --opening-weight 1 \
        --seed 2 --threads 2 --no-emotion-losses
    # stage 4: add the flite voices (CMU ARCTIC-based, closer to real speech) to the same corpus, then 1500
    # steps with channel augmentation (microphone gain/tilt, a noise floor with low-frequency rumble, and
    # telephone-style band limits on 30% of the augmented crops)
    facecraft a2f corpus --out outputs/a2f/corpus --max-sentences 120 --splits train \
        --voices flite:slt:1.0 flite:rms:1.0 flite:awb:1.0
    facecraft a2f train --corpus outputs/a2f/corpus --out outputs/a2f/default_stage4 \
        --init-from outputs/a2f/default_c4o1j --steps 1500 --lr 5e-4 --closure-weight 6 --opening-weight 1 \
        --channel-augment 0.8 --band-limit 0.3 --seed 3 --threads 1 --export audio2face/default_a2f.safetensors
    facecraft a2f train --corpus outputs/a2f/corpus --out outputs/a2f/no_emotion_losses_stage4 \
        --init-from outputs/a2f/no_emotion_losses_c4o1j --steps 1500 --lr 5e-4 --closure-weight 6 \
        --opening-weight 1 --channel-augment 0.8 --band-limit 0.3 --seed 3 --threads 1 --no-emotion-losses \
        --export audio2face/ablation_no_emotion_losses.safetensors
    # stage 5: the teacher's poses split as a speaking face reports them in ARKit (visemes.py) and vowels opening
    # with their loudness (teacher.py); the corpus (120 sentences, all 14 voices, train + eval splits) rebuilt, its
    # teacher curves brought up to date from the stored phones, then 3000 steps from the stage-4 weights with
    # pause augmentation
    facecraft a2f corpus --out outputs/a2f/corpus --max-sentences 120 --splits train eval
    python -c "from facecraft.audio2face.corpus import retarget_corpus; retarget_corpus('outputs/a2f/corpus')"
    facecraft a2f train --corpus outputs/a2f/corpus --out outputs/a2f/default_stage5 \
        --init-from audio2face/default_a2f.safetensors --steps 3000 --lr 5e-4 --closure-weight 6 --opening-weight 1 \
        --channel-augment 0.8 --band-limit 0.3 --pause-augment 0.3 --seed 4 --threads 1 \
        --export audio2face/default_a2f.safetensors
    facecraft a2f train --corpus outputs/a2f/corpus --out outputs/a2f/no_emotion_losses_stage5 \
        --init-from audio2face/ablation_no_emotion_losses.safetensors --steps 3000 --lr 5e-4 --closure-weight 6 \
        --opening-weight 1 --channel-augment 0.8 --band-limit 0.3 --pause-augment 0.3 --seed 4 --threads 1 \
        --no-emotion-losses --export audio2face/ablation_no_emotion_losses.safetensors
    # stage 6: the teacher's jaw rises for consonants by place of articulation (visemes.JAW_RISE) and presses
    # lightly (lip_state.CLOSURE_PRESS 0.06); the corpus retargeted again, then 3000 steps from the stage-5 weights
    # with a mouthPress loss, a heavier closure loss and the cross-entropy 'low' term (so pauses and the jaw
    # between syllables reach ~0 instead of resting at 0.04-0.06); the ablation without the 'low' term
    python -c "from facecraft.audio2face.corpus import retarget_corpus; retarget_corpus('outputs/a2f/corpus')"
    facecraft a2f train --corpus outputs/a2f/corpus --out outputs/a2f/default_stage6 \
        --init-from audio2face/default_a2f.safetensors --steps 3000 --lr 5e-4 --closure-weight 24 --opening-weight 1 \
        --press-weight 2 --low-weight 1 --channel-augment 0.8 --band-limit 0.3 --pause-augment 0.3 --seed 6 \
        --threads 1 --export audio2face/default_a2f.safetensors
    facecraft a2f train --corpus outputs/a2f/corpus --out outputs/a2f/no_emotion_losses_stage6 \
        --init-from audio2face/ablation_no_emotion_losses.safetensors --steps 3000 --lr 5e-4 --closure-weight 24 \
        --opening-weight 1 --press-weight 2 --channel-augment 0.8 --band-limit 0.3 --pause-augment 0.3 --seed 6 \
        --threads 1 --no-emotion-losses --export audio2face/ablation_no_emotion_losses.safetensors
    # stage 7: real speech. 429 read English clips of 274 people (LibriSpeech train-clean-100, test-other and
    # test-clean, and VCTK, all CC BY 4.0; 74.0 min; gathered from public repositories by
    # tools/gather_real_speech.py, which names them) become items whose teacher curves come from the aligned
    # transcripts (corpus_real.py); 28 speakers are held out (the eval split, never trained on: 61 clips). They
    # join a synthetic corpus of the training sentences in five voices, and both take 3000 more steps as in
    # stage 6
    python tools/gather_real_speech.py --repos REPOS --out outputs/a2f/real_speech
    facecraft a2f corpus --out outputs/a2f/corpus7 --splits train --augmentations-per-clip 2 --voices \
        hibari:heart:1.0 flite:slt:1.0 flite:awb:1.0 flite:rms:1.0 espeak:en-us+f2:160:50
    facecraft a2f corpus --real outputs/a2f/real_speech --out outputs/a2f/corpus7 --augmentations-per-clip 3 \
        --held-out-speakers 2609 3331 p228 87 211 307 441 730 1088 1447 1841 2136 2518 2989 3440 3879 4195 4640 \
        5104 5561 6000 6385 6848 7226 7517 8095 8465 8975
    facecraft a2f train --corpus outputs/a2f/corpus7 --out outputs/a2f/default_stage7 \
        --init-from audio2face/default_a2f.safetensors --steps 3000 --lr 5e-4 --closure-weight 24 --opening-weight 1 \
        --press-weight 2 --low-weight 1 --channel-augment 0.8 --band-limit 0.3 --pause-augment 0.3 --seed 7 \
        --threads 1 --export audio2face/default_a2f.safetensors
    facecraft a2f train --corpus outputs/a2f/corpus7 --out outputs/a2f/no_emotion_losses_stage7 \
        --init-from audio2face/ablation_no_emotion_losses.safetensors --steps 3000 --lr 5e-4 --closure-weight 24 \
        --opening-weight 1 --press-weight 2 --channel-augment 0.8 --band-limit 0.3 --pause-augment 0.3 --seed 7 \
        --threads 1 --no-emotion-losses --export audio2face/ablation_no_emotion_losses.safetensors
    # opening gains (calibrate.py): how much wider the teacher parts the lips than the model on 240 training items
    facecraft a2f calibrate --weights audio2face/default_a2f.safetensors --corpus outputs/a2f/corpus7
    facecraft bench audio2face --out outputs/bench_a2f --set real_corpus=outputs/a2f/corpus7   # + held-out people

Stage 7 was chosen among seven runs by the held-out speakers and the bench's LibriVox and CMU ARCTIC clips: with
the first 179 clips only (24 people) the held-out /p b m/ closed a little less often; a stronger opening loss
(weight 2 or 3), or three times the real clips at that size, opened the lips more and sealed fewer /p b m/.
The opening gains were measured after stage 7, without retraining; the ablation model, a comparison for the
emotion losses, has none. No speech of the evaluation sets
is in the corpus: the real speech of ``facecraft bench audio2face`` (LibriVox
test data, ../shared/data/speech), rhasspy's cathy, LJSpeech and the iPhone take of ``facecraft bench capture``
stay unseen. LibriSpeech's readers are LibriVox volunteers, as LJSpeech's reader is; whether she is among the 246
trained on could not be checked here (LibriSpeech's speaker list was not reachable).
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from facecraft.rigs.arkit import ARKIT_INDEX, ARKIT_NAMES
from facecraft.rigs.errors import MissingFileError, ParameterError
from facecraft.rigs.paths import atomic_output

from .lip_state import CLOSURE_PRESS
from .model import A2FConfig, A2FModel
from .train_data import Clip, feature_stats, load_capture_clips, load_corpus_clips
from .train_losses import LossWeights, capture_losses, synthetic_losses
from .train_sampler import BatchSampler

log = logging.getLogger(__name__)


@dataclass
class TrainConfig:
    """Options of :func:`train` (also what ``facecraft a2f train`` exposes).

    ``steps`` fixes the learning-rate schedule; ``stop_after`` ends a session early at that step (resume
    later to finish the same schedule); ``max_minutes`` is a wall-clock safety stop. ``capture_holdout``: take
    names left out of the capture folders (kept for validation); ``capture_mix``: the share of steps that train
    on capture when both kinds of data are given (None: in proportion to the clip counts); ``capture_channels``:
    ARKit names, the only channels capture supervises (empty: every channel a take maps).
    """

    corpus: str | None = None
    capture_dirs: list[str] = field(default_factory=list)
    capture_holdout: list[str] = field(default_factory=list)
    capture_mix: float | None = None
    capture_channels: list[str] = field(default_factory=list)
    out_dir: str = "outputs/a2f/run"
    steps: int = 4000
    max_minutes: float | None = None
    stop_after: int | None = None
    batch_size: int = 16
    frames: int = 64
    lr: float = 2e-3
    weight_decay: float = 1e-4
    seed: int = 0
    disentangle: bool = True
    closure_weight: float = 0.0
    opening_weight: float = 0.0
    press_weight: float = 0.0
    low_weight: float = 0.0
    channel_augment: float = 0.0
    band_limit: float = 0.0
    pause_augment: float = 0.0
    checkpoint_every: int = 200
    threads: int | None = None
    init_from: str | None = None
    model: dict = field(default_factory=dict)


def save_checkpoint(
    path: Path, *, model: A2FModel, optimizer: torch.optim.Optimizer, scheduler, step: int, elapsed: float
) -> None:
    """Write what a resumed run needs (weights, optimiser, schedule, ``step``, ``elapsed`` seconds and torch's
    random state) to ``path``, through a temporary file so an interrupted write leaves the last checkpoint."""
    with atomic_output(path, "tmp", pid=False) as tmp:
        torch.save(
            {"model": model.state_dict(), "optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict(),
             "step": step, "elapsed": elapsed, "torch_rng": torch.get_rng_state()},
            tmp,
        )  # fmt: skip


def load_checkpoint(path: Path, *, model: A2FModel, optimizer: torch.optim.Optimizer, scheduler) -> tuple[int, float]:
    """Restore a :func:`save_checkpoint` file into ``model``, ``optimizer`` and ``scheduler`` (and torch's random
    state, so dropout masks continue as in an uninterrupted run); returns ``(step, elapsed seconds)``."""
    if not path.exists():
        raise MissingFileError(f"train --resume: no checkpoint at {path}")
    state = torch.load(path, weights_only=True)
    model.load_state_dict(state["model"])
    optimizer.load_state_dict(state["optimizer"])
    scheduler.load_state_dict(state["scheduler"])
    if "torch_rng" in state:
        torch.set_rng_state(state["torch_rng"])
    log.info("resumed from %s at step %d", path, int(state["step"]))
    return int(state["step"]), float(state["elapsed"])


def _scheduler(optimizer: torch.optim.Optimizer, cfg: TrainConfig):
    if cfg.steps >= 40:
        return torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=cfg.lr, total_steps=cfg.steps, pct_start=0.05)
    # too short for a warm-up/anneal cycle (tests, smoke runs): constant rate
    return torch.optim.lr_scheduler.LambdaLR(optimizer, lambda _: 1.0)


def _load_clips(cfg: TrainConfig, model_cfg: A2FConfig, *, progress: bool) -> tuple[list[Clip], list[Clip]]:
    """(synthetic, capture) training clips at the model's features and fps."""
    kind, fps = model_cfg.feature_kind, model_cfg.fps
    synth = load_corpus_clips(cfg.corpus, split="train", kind=kind, fps=fps, progress=progress) if cfg.corpus else []
    holdout = tuple(cfg.capture_holdout)
    capture = [c for d in cfg.capture_dirs for c in load_capture_clips(d, kind=kind, fps=fps, exclude=holdout)]
    if cfg.capture_channels:
        keep = np.zeros(len(ARKIT_NAMES), bool)
        for name in cfg.capture_channels:
            if name not in ARKIT_INDEX:
                raise ParameterError(f"capture_channels: {name!r} is not an ARKit-52 name")
            keep[ARKIT_INDEX[name]] = True
        for c in capture:
            c.arkit_mask = keep & (True if c.arkit_mask is None else c.arkit_mask)
    if not synth and not capture:
        raise ParameterError("train: give a corpus folder and/or capture folders with data")
    return synth, capture


def _fit_model_config(model_cfg: A2FConfig, cfg: TrainConfig, synth: list[Clip], capture: list[Clip]) -> None:
    """Complete ``model_cfg`` from the data (FLAME heads, input normalisation) and record the run's settings in
    its meta (with the earlier stages' settings as ``history`` when fine-tuning)."""
    if capture and any(c.flame_expression is not None for c in capture) and not model_cfg.flame_expression_dim:
        e = next(c.flame_expression.shape[1] for c in capture if c.flame_expression is not None)
        model_cfg.flame_expression_dim, model_cfg.flame_jaw = e, True
    if not model_cfg.feature_mean and not cfg.init_from:
        model_cfg.feature_mean, model_cfg.feature_std = feature_stats(synth + capture)
    meta = dict(model_cfg.meta)
    if cfg.init_from and "train" in meta:  # provenance: the stages the starting weights went through, oldest first
        meta["history"] = [*meta.get("history", []), meta["train"]]
    # the teacher's closure press the targets were made with: inference rescales the model's press from it
    # (postprocess.rescale_press); the corpus's teacher curves must come from the current teacher (retarget_corpus)
    meta["teacher"] = {"closure_press": CLOSURE_PRESS}
    model_cfg.meta = {**meta, "train": {k: v for k, v in vars(cfg).items() if k != "model"}}


def train(cfg: TrainConfig, *, resume: bool = False, progress: bool = True) -> dict:
    """Train (or resume) a model; writes ``checkpoint.pt``, ``model.safetensors`` + ``config.json`` and
    ``train_log.jsonl`` into ``cfg.out_dir``. Returns a summary dict (steps, seconds, last losses)."""
    from tqdm.auto import tqdm

    if cfg.band_limit and not cfg.channel_augment:
        raise ParameterError("band_limit applies to channel-augmented crops: set channel_augment > 0 too")
    if cfg.capture_mix is not None and not 0.0 <= cfg.capture_mix <= 1.0:
        raise ParameterError(f"capture_mix is a share of steps in [0, 1], got {cfg.capture_mix}")
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    torch.manual_seed(cfg.seed)
    out = Path(cfg.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    model_cfg = A2FConfig(**cfg.model) if cfg.model else A2FConfig()
    if cfg.init_from:
        init = A2FModel.from_pretrained(cfg.init_from)
        model_cfg = init.config
    if cfg.channel_augment and model_cfg.feature_kind != "logmel":
        raise ParameterError(f"channel_augment works on log-mel features, not {model_cfg.feature_kind!r}")
    synth, capture = _load_clips(cfg, model_cfg, progress=progress)
    _fit_model_config(model_cfg, cfg, synth, capture)
    model = A2FModel(model_cfg)
    if cfg.init_from:
        model.load_state_dict(init.state_dict(), strict=False)
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    sched = _scheduler(opt, cfg)
    ckpt = out / "checkpoint.pt"
    step, elapsed = load_checkpoint(ckpt, model=model, optimizer=opt, scheduler=sched) if resume else (0, 0.0)
    synth_sampler = (
        BatchSampler(synth, frames=cfg.frames, batch_size=cfg.batch_size, seed=cfg.seed,
                     channel_augment=cfg.channel_augment, band_limit=cfg.band_limit, pause_augment=cfg.pause_augment)
        if synth
        else None
    )  # fmt: skip
    cap_sampler = (
        BatchSampler(capture, frames=cfg.frames, batch_size=cfg.batch_size, seed=cfg.seed) if capture else None
    )
    p_capture = len(capture) / (len(capture) + len(synth)) if cfg.capture_mix is None else cfg.capture_mix
    weights = LossWeights(
        closure=cfg.closure_weight, opening=cfg.opening_weight, press=cfg.press_weight, low=cfg.low_weight
    )
    logf = (out / "train_log.jsonl").open("a")
    t0 = time.perf_counter() - elapsed
    losses: dict[str, float] = {}

    def checkpoint() -> None:
        save_checkpoint(ckpt, model=model, optimizer=opt, scheduler=sched, step=step, elapsed=time.perf_counter() - t0)

    bar = tqdm(total=cfg.steps, initial=step, desc="a2f train", disable=not progress, unit="step")
    model.train()
    while step < cfg.steps:
        if cfg.stop_after is not None and step >= cfg.stop_after:
            log.info("stopping at step %d as asked (stop_after); resume to continue", step)
            break
        if cfg.max_minutes and (time.perf_counter() - t0) / 60 > cfg.max_minutes:
            log.warning("stopping at step %d: time limit of %.1f min reached", step, cfg.max_minutes)
            break
        use_capture = cap_sampler is not None and (
            synth_sampler is None or np.random.default_rng([cfg.seed, step, 2]).random() < p_capture
        )
        if use_capture:
            terms = capture_losses(model, cap_sampler.capture(step), low=cfg.low_weight)
        else:
            terms = synthetic_losses(model, synth_sampler.synthetic(step), disentangle=cfg.disentangle, weights=weights)
        opt.zero_grad(set_to_none=True)
        terms["total"].backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
        step += 1
        losses = {k: float(v.detach()) for k, v in terms.items()}
        bar.update(1)
        if step % 20 == 0:
            bar.set_postfix(loss=f"{losses['total']:.4f}")
            logf.write(json.dumps({"step": step, "time_s": round(time.perf_counter() - t0, 1), **losses}) + "\n")
            logf.flush()
        if step % cfg.checkpoint_every == 0 or step == cfg.steps:
            checkpoint()
    bar.close()
    logf.close()
    checkpoint()
    model.eval()
    model.config.meta["train"]["steps_done"] = step
    model.config.meta["train"]["train_seconds"] = round(time.perf_counter() - t0, 1)
    model.save_pretrained(out)
    return {"steps": step, "seconds": round(time.perf_counter() - t0, 1), "losses": losses, "out_dir": str(out),
            "clips": {"synthetic": len(synth), "capture": len(capture)}}  # fmt: skip
