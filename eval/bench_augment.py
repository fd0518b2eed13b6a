"""``facecraft bench augment``: does augmentation help? Train vs train + augmentation on fer-dev's fixed split.

1. Augment fer-dev's **train** split only (``facecraft augment`` with ``--balance`` toward the rare classes,
   :data:`BENCH_TARGETS`, at most :data:`BENCH_PER_CLASS` images each, :data:`BENCH_MAX_SOURCES` sources
   tried, 2 worker processes of one thread: the machine's 2 cores). The bench checks that no source is a
   validation or test image.
2. Train the classifier twice with the same recipe (:data:`facecraft.eval.train.RECIPES` ``shipped``: model
   and training options, without its studio photos) and the same epoch count and seed, once on train and
   once on train + the accepted images. Each arm runs the recipe's fixed number of epochs (no wall-time cap,
   so a loaded machine cannot give one arm fewer epochs); the augmented arm therefore takes a few more steps
   per epoch, reported beside its time.
3. Evaluate both on the untouched test split: accuracy, macro-F1 over 8 and 7 classes, per-class recall, and
   the differences; the augmentation's acceptance rate per target, the judges' agreement, its throughput
   (accepted images per minute) and the whole run's time.

Everything lands under ``OUT/augment/`` (the augmented ImageFolder with its manifest, report and contact
sheet; both training runs) and the figures in ``OUT/augment.json``. The goal (issue 18): a macro-F1 gain of
at least 3 points driven by the rare classes (contempt, disgust, fear).
"""

from __future__ import annotations

import logging
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from facecraft.rigs import EMOTIONS
from facecraft.rigs.assets import shared_data_dir
from facecraft.rigs.errors import MissingFileError

logger = logging.getLogger(__name__)

BENCH_TARGETS: tuple[str, ...] = ("contempt", "disgust", "fear")
BENCH_PER_CLASS = 600
BENCH_MAX_SOURCES = 800
BENCH_PER_IMAGE = 2
BENCH_EPOCHS = 5
BENCH_SEEDS: tuple[int, ...] = (0,)
RARE: tuple[str, ...] = ("contempt", "disgust", "fear")


def recipe_configs(name: str = "shipped", *, epochs: int, seed: int):
    """The model and training configs of a named recipe, with a fixed epoch count and no wall-time cap."""
    from .classifier import FERClassifierConfig
    from .train import RECIPES, TrainConfig

    recipe = RECIPES[name]
    model = dict(recipe.get("model", {}))
    init, arch = model.pop("init", "scratch"), model.pop("arch", "resnet")
    if init == "mini_xception":
        model_config = FERClassifierConfig.mini_xception(**model)
    elif arch == "xception":
        model_config = FERClassifierConfig.xception(**model)
    else:
        model_config = FERClassifierConfig(**model)
    train = {**recipe.get("train", {}), "minutes": None, "epochs": epochs, "seed": seed}
    return model_config, TrainConfig(**train)


def _figures(report: dict) -> dict:
    return {
        "accuracy": round(report["accuracy"], 4),
        "macro_f1": round(report["macro_f1"], 4),
        "macro_f1_7": round(report["macro_f1_7"], 4),
        "recall": {c: round(v["recall"], 4) for c, v in report["per_class"].items()},
    }


def train_and_test(train, val, test, *, out_dir: Path, epochs: int, seed: int, recipe: str = "shipped") -> dict:
    """Train one arm with the recipe and score it on ``test``; figures plus time and steps."""
    from .classifier import FERClassifier
    from .train import evaluate_probs, predict_dataset, train_classifier, write_evaluation

    model_config, config = recipe_configs(recipe, epochs=epochs, seed=seed)
    t0, c0 = time.perf_counter(), time.process_time()
    result = train_classifier(train, val, out_dir=out_dir, model_config=model_config, config=config)
    best = FERClassifier.from_pretrained(result["best_dir"])
    report = evaluate_probs(predict_dataset(best, test), test)
    write_evaluation(report, out_dir, name="test")
    return {
        **_figures(report),
        "train_images": len(train),
        "train_class_counts": dict(zip(EMOTIONS, train.class_counts.tolist(), strict=True)),
        "epochs_run": result["epochs_run"],
        "steps_per_epoch": len(train) // config.batch_size,
        "wall_s": round(time.perf_counter() - t0, 1),
        "cpu_s": round(time.process_time() - c0, 1),
    }


def bench_augment(
    out_dir: Path,
    *,
    targets: tuple[str, ...] = BENCH_TARGETS,
    per_class: int = BENCH_PER_CLASS,
    max_sources: int | None = BENCH_MAX_SOURCES,
    per_image: int = BENCH_PER_IMAGE,
    epochs: int = BENCH_EPOCHS,
    seeds: tuple[int, ...] = BENCH_SEEDS,
    workers: int = 2,
) -> dict:
    """Benchmark (see the module docstring); returns the JSON-ready figures."""
    from .augment import AugmentConfig, augment_dataset
    from .datasets import concat_datasets, load_dataset, load_image_folder

    t_start = time.perf_counter()
    data_dir = shared_data_dir() / "data" / "fer-dev"
    if not data_dir.is_dir():
        raise MissingFileError(f"bench augment: {data_dir} not found (the fer-dev data set)")
    out = Path(out_dir) / "augment"
    aug_dir = out / "data"
    data = load_dataset(data_dir)
    train, val, test = data.subset("train"), data.subset("val"), data.subset("test")

    config = AugmentConfig(per_image=per_image)
    report = augment_dataset(
        data_dir,
        out=aug_dir,
        targets=",".join(targets),
        config=config,
        balance=True,
        max_per_class=per_class,
        max_sources=max_sources,
        workers=workers,
        threads=1,
    )
    from .augment import read_manifest

    train_paths = set(train.paths)
    sources = {r["source"] for r in read_manifest(aug_dir)}
    leaked = sorted(s for s in sources if s not in train_paths)
    if leaked:
        raise RuntimeError(f"bench augment: {len(leaked)} sources are not train images, e.g. {leaked[:3]}")
    aug = load_image_folder(aug_dir)
    aug = aug.with_split(np.full(len(aug), "train", dtype=object))
    aug = replace(aug, paths=[f"augment/{p}" for p in aug.paths])
    augmented = concat_datasets([train, aug])

    arms: dict[str, list[dict]] = {"train": [], "train+augment": []}
    for seed in seeds:
        arms["train"].append(train_and_test(train, val, test, out_dir=out / f"train-s{seed}", epochs=epochs, seed=seed))
        arms["train+augment"].append(
            train_and_test(augmented, val, test, out_dir=out / f"augmented-s{seed}", epochs=epochs, seed=seed)
        )

    def mean(arm: str, key: str, cls: str | None = None) -> float:
        vals = [r["recall"][cls] if cls else r[key] for r in arms[arm]]
        return round(float(np.mean(vals)), 4)

    keys = ("accuracy", "macro_f1", "macro_f1_7")
    gain = {k: round(mean("train+augment", k) - mean("train", k), 4) for k in keys}
    gain["recall"] = {c: round(mean("train+augment", "", c) - mean("train", "", c), 4) for c in EMOTIONS}
    return {
        "data": str(data_dir),
        "test_images": len(test),
        "test_class_counts": dict(zip(EMOTIONS, test.class_counts.tolist(), strict=True)),
        "seeds": list(seeds),
        "recipe": "shipped (model and training options; no studio photos), fixed epochs, no time cap",
        "epochs": epochs,
        "baseline": arms["train"],
        "augmented": arms["train+augment"],
        "gain_points": {
            k: (round(v * 100, 2) if not isinstance(v, dict) else {c: round(x * 100, 1) for c, x in v.items()})
            for k, v in gain.items()
        },
        "goal_macro_f1_gain_3_points": gain["macro_f1"] * 100 >= 3.0,
        "rare_classes": list(RARE),
        "augmentation": {
            "added_images": len(aug),
            "added_per_class": dict(zip(EMOTIONS, aug.class_counts.tolist(), strict=True)),
            "acceptance": {t: v["acceptance_rate"] for t, v in report["per_target"].items()},
            "per_target": report["per_target"],
            "agreement": report["agreement"],
            "bad_sources": len(report["bad_sources"]),
            "sources_tried": report["sources"],
            "sources_outside_train": 0,
            "throughput_accepted_per_min": report["this_run"]["accepted_per_min"],
            "workers": workers,
            "wall_s": report["this_run"]["wall_s"],
            "contact_sheet": report["contact_sheet"],
            "config": report["config"],
        },
        "whole_run_s": round(time.perf_counter() - t_start, 1),
    }
