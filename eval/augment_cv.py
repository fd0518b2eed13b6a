"""Cross-validated augmentation gain: train vs train + synthetic faces over the folds of a pool of real faces.

``facecraft bench augment`` scores its two arms on fer-dev's fixed test split, which holds 8 contempt and 8
disgust faces: one face moves a class's F1 by several points, so a rule can look good on that split by luck.
Here the same comparison runs over K stratified folds of train + val (test is never read): each fold's
classifier trains on the other folds' faces, plus, in the augmented arm, only the synthetic faces made from
those training faces (a synthetic face whose source is held out would carry its identity into the scoring);
every real face is then predicted once, out of fold, and the arms are compared on all of them (fer-dev:
30 contempt and 32 disgust faces instead of test's 8 and 8) with the bench's paired, class-stratified bootstrap
(:func:`facecraft.eval.bench_augment.paired_bootstrap_gain`) over the faces and the seeds.

Training per fold follows the bench's arms: the recipe's model and options with a fixed epoch count, one thread,
each real image at its baseline class weight and each synthetic one at a fraction of it
(:func:`~facecraft.eval.bench_augment.arm_weights`). The recipe must keep its last epoch (``select="last"``): the
held-out fold is passed to the trainer only for its log and chooses nothing. The logit adjustment toward the priors
is left out in both arms (there is no validation split inside a fold to fit it on; on fer-dev train + val it chose
strength 0 in every run of the first cross-validation, 2026-12-03); the augmented arm's model gets the baseline's
prior back as on the fixed split (:func:`~facecraft.eval.bench_augment.synthetic_prior_shift`). A fold run already
finished with the same data, recipe and trainer code is reused (the baseline's runs serve every rule).
"""

from __future__ import annotations

import logging
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from facecraft.rigs import EMOTIONS
from facecraft.rigs.errors import ParameterError
from facecraft.rigs.machine import spawn_pool
from facecraft.rigs.paths import atomic_output

logger = logging.getLogger(__name__)

#: Folds of train + val; 5 leaves each fold 6 contempt and 6-7 disgust faces of fer-dev's 30 and 32.
CV_FOLDS = 5
#: Training seeds per arm (each trains every fold).
CV_SEEDS: tuple[int, ...] = (0, 1)
#: Seed of the fold assignment (fixed, so every rule is scored on the same folds; 1234 is the first
#: cross-validation's, /work/runs/augment7/cv.py).
CV_FOLD_SEED = 1234
#: Each fold run's held-out probabilities, float32 ``(n_held, 8)`` in the fold's order ...
HELD_PROBS = "held_probs.npy"
#: ... and the logit shift they were computed with (:func:`~facecraft.eval.bench_augment.synthetic_prior_shift`).
HELD_SHIFT = "held_shift.npy"


def stratified_folds(labels: np.ndarray, *, folds: int = CV_FOLDS, seed: int = CV_FOLD_SEED) -> np.ndarray:
    """Fold index ``(N,)`` in ``[0, folds)`` per image: each class's images shuffled, then dealt out in turn.

    Every fold gets ``n_c // folds`` or one more of each class c; the same labels and seed give the same folds.
    """
    labels = np.asarray(labels)
    if int(folds) != folds or folds < 2:
        raise ParameterError(f"folds: expected an integer >= 2, got {folds!r}")
    if len(labels) < folds:
        raise ParameterError(f"folds: {folds} folds need at least as many images, got {len(labels)}")
    rng = np.random.default_rng(seed)
    fold = np.zeros(len(labels), np.int64)
    for c in np.unique(labels):
        ix = np.flatnonzero(labels == c)
        fold[rng.permutation(ix)] = np.arange(len(ix)) % folds
    return fold


def fold_training_set(
    pool,
    synthetic,
    sources: list[str],
    fold: np.ndarray,
    k: int,
    *,
    balance: str,
    synthetic_weight,
):
    """The training set of fold ``k``: the pool's other folds plus the synthetic faces made from them.

    Parameters
    ----------
    pool : FERDataset
        Real faces (N images).
    synthetic : FERDataset or None
        Synthetic faces (M images); None or empty: the baseline arm (the real faces, unweighted).
    sources : list of str (M,)
        Each synthetic face's source, a path of ``pool``; a source outside the pool (e.g. a photo folder) is
        no held-out face and joins every fold.
    fold : int (N,)
        :func:`stratified_folds` of the pool.
    balance, synthetic_weight
        The recipe's class-weight mode and a synthetic face's weight (see
        :func:`~facecraft.eval.bench_augment.arm_weights`).

    Returns
    -------
    FERDataset
        Without splits; with per-image weights when synthetic faces joined.
    """
    from .bench_augment import arm_weights
    from .datasets import concat_datasets

    fold = np.asarray(fold)
    if len(fold) != len(pool):
        raise ParameterError(f"fold: expected one fold index per pool image ({len(pool)}), got {len(fold)}")
    real = replace(pool.take(np.flatnonzero(fold != k)), splits=None)
    if synthetic is None or not len(synthetic):
        return real
    if len(sources) != len(synthetic):
        raise ParameterError(f"sources: expected one per synthetic face ({len(synthetic)}), got {len(sources)}")
    held = set(np.asarray(pool.paths, dtype=object)[fold == k].tolist())
    keep = np.flatnonzero([s not in held for s in sources])
    extra = replace(synthetic.take(keep), splits=None)
    if not len(extra):
        return real
    both = concat_datasets([real, extra])
    is_synthetic = np.r_[np.zeros(len(real), bool), np.ones(len(extra), bool)]
    w = arm_weights(real.class_counts, both.labels, is_synthetic, balance=balance, synthetic_weight=synthetic_weight)
    return replace(both, weights=w)


def _fold_run(job: dict) -> np.ndarray:
    """Train one fold of one arm (or reuse a finished one) and return its held-out probabilities ``(n, 8)``."""
    import torch

    from .bench_augment import recipe_configs, train_or_reuse
    from .classifier import FERClassifier
    from .train import predict_dataset

    if job.get("configure_logging"):
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    torch.set_num_threads(job["threads"])
    out_dir = Path(job["out_dir"])
    train, held = job["train"], job["held"]
    model_config, config = recipe_configs(job["recipe"], epochs=job["epochs"], seed=job["seed"])
    config = replace(config, prior_adjust=False, num_threads=job["threads"])
    trained = train_or_reuse(train, held, out_dir=out_dir, model_config=model_config, config=config)
    shift = job.get("prior_shift")
    shift = np.zeros(len(EMOTIONS), np.float32) if shift is None else np.asarray(shift, np.float32)
    probs_file, shift_file = out_dir / HELD_PROBS, out_dir / HELD_SHIFT
    if trained.get("reused") and probs_file.is_file() and shift_file.is_file():
        if np.array_equal(np.load(shift_file), shift):
            return np.load(probs_file)
    model = FERClassifier.from_pretrained(trained["model_dir"])
    model.shift_logits(shift)
    probs = predict_dataset(model, held).astype(np.float32)
    for file, values in ((probs_file, probs), (shift_file, shift)):  # whole or not at all: a rerun reuses them
        with atomic_output(file, pid=False) as part:
            np.save(part, values)
    return probs


def _summary(labels: np.ndarray, preds: list[np.ndarray]) -> dict:
    """Mean over seeds of the out-of-fold figures (accuracy, macro-F1 8 and 7, per class recall/precision/F1)."""
    from .metrics import classification_report
    from .train import SHARED_7

    reports = [classification_report(labels, p, subsets={"macro_f1_7": SHARED_7}) for p in preds]

    def mean(get) -> float:
        return round(float(np.mean([get(r) for r in reports])), 4)

    return {
        "accuracy": mean(lambda r: r["accuracy"]),
        "macro_f1": mean(lambda r: r["macro_f1"]),
        "macro_f1_7": mean(lambda r: r["macro_f1_7"]),
        "macro_f1_per_seed": [round(r["macro_f1"], 4) for r in reports],
        **{
            name: {c: mean(lambda r, c=c, name=name: r["per_class"][c][name]) for c in EMOTIONS}
            for name in ("recall", "precision", "f1")
        },
    }


def cross_validate(
    pool,
    synthetic,
    sources: list[str],
    *,
    out_dir,
    folds: int = CV_FOLDS,
    seeds: tuple[int, ...] = CV_SEEDS,
    synthetic_weight=None,
    epochs: int,
    recipe: str = "shipped",
    workers: int = 1,
    threads: int = 1,
    resamples: int | None = None,
    fold_seed: int = CV_FOLD_SEED,
    name: str = "augmented",
) -> dict:
    """Train vs train + synthetic over ``folds`` folds of ``pool`` for each seed; the out-of-fold gain.

    Parameters
    ----------
    pool : FERDataset
        Real faces (fer-dev: train + val; never the test split).
    synthetic : FERDataset
        Synthetic faces (M images), labelled with their target emotion.
    sources : list of str (M,)
        Each synthetic face's source path in ``pool`` (see :func:`fold_training_set`).
    out_dir : path
        Fold runs go to ``out_dir/<arm>-s<seed>-f<k>/`` (``arm``: ``train`` for the baseline, ``name`` for the
        augmented arm), the out-of-fold probabilities to ``out_dir/oof-<arm>-s<seed>.npy``. The baseline's runs
        serve every rule scored into the same folder; an augmented arm's are reused only with the same
        synthetic faces and weights (give each rule its own ``name`` to keep them all).
    folds, seeds, fold_seed
        Fold count, training seeds, seed of the fold assignment.
    synthetic_weight : float or mapping of emotion -> float, optional
        A synthetic face's loss weight relative to a real one of its class (default
        :data:`~facecraft.eval.bench_augment.SYNTHETIC_WEIGHT`).
    epochs, recipe
        Training budget and named recipe (:data:`facecraft.eval.train.RECIPES`); the recipe must keep its
        last epoch.
    workers, threads
        Fold runs at once (processes; 1 runs them here) and torch threads each.
    resamples : int, optional
        Bootstrap resamples (default :data:`~facecraft.eval.bench_augment.BOOTSTRAP_RESAMPLES`).
    name : str
        The augmented arm's folder name (``train`` is the baseline's).

    Returns
    -------
    dict
        ``gain``: the paired bootstrap of the out-of-fold macro-F1 gain in points (8 and 7 classes: mean over
        seeds, ``ci95``, probabilities above 0 and of at least 3 points); ``gain_points_per_seed``;
        ``baseline`` and ``augmented``: out-of-fold figures averaged over seeds; the pool's and the synthetic
        faces' class counts, how many synthetic faces joined each fold, folds, seeds and wall time.
    """
    from .bench_augment import (
        BOOTSTRAP_RESAMPLES,
        SYNTHETIC_WEIGHT,
        paired_bootstrap_gain,
        recipe_configs,
        synthetic_prior_shift,
    )

    t0 = time.perf_counter()
    seeds = tuple(int(s) for s in seeds)
    if not seeds:
        raise ParameterError("cross_validate: expected at least one seed, got none")
    if synthetic is None or not len(synthetic):
        raise ParameterError("cross_validate: no synthetic faces to compare (the augmented arm would be the baseline)")
    _, train_config = recipe_configs(recipe, epochs=epochs, seed=0)
    if train_config.select != "last":
        raise ParameterError(
            f"cross_validate: recipe {recipe!r} selects its {train_config.select!r} epoch on validation; the held-out "
            "fold would choose the epoch it is scored on (expected select='last')"
        )
    if not name or name == "train" or "/" in name:
        raise ParameterError(f"name: expected a folder name other than 'train', got {name!r}")
    synthetic_weight = SYNTHETIC_WEIGHT if synthetic_weight is None else synthetic_weight
    out_dir = Path(out_dir)
    fold = stratified_folds(pool.labels, folds=folds, seed=fold_seed)
    labels = np.asarray(pool.labels)
    jobs, slots = [], []
    added = []
    for k in range(folds):
        held = replace(pool.take(np.flatnonzero(fold == k)), splits=None)
        sets = {
            "train": fold_training_set(pool, None, [], fold, k, balance=train_config.balance, synthetic_weight=0.0),
            name: fold_training_set(
                pool, synthetic, sources, fold, k, balance=train_config.balance, synthetic_weight=synthetic_weight
            ),
        }
        added.append(len(sets[name]) - len(sets["train"]))
        aug_set = sets[name]
        shifts = {"train": None, name: None}
        if aug_set.weights is not None:  # the real faces come first (fold_training_set)
            synthetic_mask = np.arange(len(aug_set)) >= len(sets["train"])
            shifts[name] = synthetic_prior_shift(aug_set.weights, aug_set.labels, synthetic_mask)
        for arm, train in sets.items():
            for seed in seeds:
                run_dir = out_dir / f"{arm}-s{seed}-f{k}"
                run_dir.mkdir(parents=True, exist_ok=True)
                jobs.append({
                    "train": train, "held": held, "out_dir": str(run_dir), "epochs": epochs,
                    "seed": seed * 1000 + k, "recipe": recipe, "threads": threads, "configure_logging": workers > 1,
                    "prior_shift": shifts[arm],
                })  # fmt: skip
                slots.append((arm, seed, k))
    if workers > 1:
        with spawn_pool(min(workers, len(jobs))) as ex:
            results = list(ex.map(_fold_run, jobs))
    else:
        results = []
        for job, (arm, seed, k) in zip(jobs, slots, strict=True):
            results.append(_fold_run(job))
            logger.info("cross-validation: %s seed %d fold %d done (%.0f s)", arm, seed, k, time.perf_counter() - t0)
    oof = {(a, s): np.zeros((len(pool), len(EMOTIONS)), np.float32) for a in ("train", name) for s in seeds}
    for (arm, seed, k), probs in zip(slots, results, strict=True):
        oof[(arm, seed)][fold == k] = probs
    for (arm, seed), probs in oof.items():
        np.save(out_dir / f"oof-{arm}-s{seed}.npy", probs)
    base = [oof[("train", s)].argmax(1) for s in seeds]
    aug = [oof[(name, s)].argmax(1) for s in seeds]
    boot = paired_bootstrap_gain(labels, base, aug, resamples=resamples or BOOTSTRAP_RESAMPLES)
    baseline, augmented = _summary(labels, base), _summary(labels, aug)
    per_seed = [
        {"seed": s, "macro_f1": round(100 * (a - b), 2)}
        for s, a, b in zip(seeds, augmented["macro_f1_per_seed"], baseline["macro_f1_per_seed"], strict=True)
    ]
    weight = synthetic_weight if isinstance(synthetic_weight, float | int) else dict(synthetic_weight)
    return {
        "name": name,
        "folds": folds,
        "fold_seed": fold_seed,
        "seeds": list(seeds),
        "pool_images": len(pool),
        "pool_class_counts": dict(zip(EMOTIONS, pool.class_counts.tolist(), strict=True)),
        "synthetic_class_counts": dict(zip(EMOTIONS, synthetic.class_counts.tolist(), strict=True)),
        "synthetic_per_fold": added,
        "synthetic_weight": weight,
        "epochs": epochs,
        "recipe": f"{recipe} (fixed epochs, last epoch kept, no prior adjustment, {threads} thread per run)",
        "gain": boot,
        "gain_points_per_seed": per_seed,
        "baseline": baseline,
        "augmented": augmented,
        "recall_gain_points": {c: round(100 * (augmented["recall"][c] - baseline["recall"][c]), 1) for c in EMOTIONS},
        "wall_s": round(time.perf_counter() - t0, 1),
    }
