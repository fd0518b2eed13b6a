"""``facecraft fer train`` and ``facecraft fer eval``: train facecraft's FER classifier, score any judge.

Both read a data set in any layout :func:`~facecraft.eval.datasets.load_dataset` knows, with its fixed
split (``--split``, or ``split.csv`` inside the data folder) and write JSON reports and confusion-matrix
PNGs under ``--out``.
"""

from __future__ import annotations

import argparse
import json
import logging
import typing
from pathlib import Path

logger = logging.getLogger(__name__)


# TrainConfig fields offered by ``fer train``: field -> (flag, help). Types and defaults come from the dataclass.
TRAIN_OPTIONS: dict[str, tuple[str, str]] = {
    "minutes": ("--minutes", "wall-time budget for training"),
    "epochs": ("--epochs", "upper bound on epochs"),
    "batch_size": ("--batch-size", "batch size"),
    "lr": ("--lr", "peak learning rate (AdamW, warm-up then cosine decay)"),
    "balance": ("--balance", "class balancing: loss weights (sqrt, inverse), a balanced sampler, or none"),
    "patience": ("--patience", "stop after this many epochs without a better validation macro-F1"),
    "freeze_blocks": ("--freeze-blocks", "keep the stem and this many blocks fixed, train on their cached outputs"),
    "feature_copies": ("--feature-copies", "cached augmented versions per image (frozen mode)"),
    "seed": ("--seed", "random seed (training and the data split when none is given)"),
    "num_threads": ("--threads", "torch CPU threads"),
}  # fmt: skip


def _field_type(cls, name: str) -> type:
    """The plain type of a dataclass field (``float | None`` -> ``float``)."""
    hint = typing.get_type_hints(cls)[name]
    args = [a for a in typing.get_args(hint) if a is not type(None)]
    return args[0] if args else hint


def train_config_from_args(args: argparse.Namespace):
    """The :class:`~facecraft.eval.train.TrainConfig` that ``fer train`` options describe."""
    from .train import TrainConfig

    return TrainConfig(**{name: getattr(args, name) for name in TRAIN_OPTIONS})


def model_config_from_args(args: argparse.Namespace):
    """The :class:`~facecraft.eval.classifier.FERClassifierConfig` of ``--arch/--init/--widths/...``.

    Options left unset keep the config's own defaults for that architecture.
    """
    from .classifier import FERClassifierConfig

    given = {"dropout": args.dropout, "image_size": args.image_size, "widths": args.widths}
    options = {k: (tuple(v) if k == "widths" else v) for k, v in given.items() if v is not None}
    if args.init == "mini_xception":
        return FERClassifierConfig.mini_xception(**options)
    if args.arch == "xception":
        return FERClassifierConfig.xception(**options)
    return FERClassifierConfig(**options)


def _train(args: argparse.Namespace) -> int:
    from .classifier import FERClassifier
    from .datasets import load_dataset
    from .train import evaluate_probs, predict_dataset, train_classifier, write_evaluation

    model_config = model_config_from_args(args)
    cfg = train_config_from_args(args)
    # crops at the network's own size, so training sees exactly what preprocess_face gives at inference
    data = load_dataset(args.data, split=args.split, seed=args.seed, size=model_config.image_size)
    out = Path(args.out)
    result = train_classifier(
        data.subset("train"), data.subset("val"), out_dir=out, model_config=model_config, config=cfg
    )
    best = FERClassifier.from_pretrained(result["best_dir"])
    summary = {k: v for k, v in result.items() if k != "history"}
    for split in ("val", "test"):
        part = data.subset(split)
        if len(part):
            report = evaluate_probs(predict_dataset(best, part), part)
            report.update(judge="facecraft", weights=result["best_dir"], split=split, data=str(args.data))
            write_evaluation(report, out, name=f"facecraft_{split}")
            summary[f"{split}_macro_f1"], summary[f"{split}_macro_f1_7"] = report["macro_f1"], report["macro_f1_7"]
            summary[f"{split}_accuracy"] = report["accuracy"]
    print(json.dumps(summary, indent=2))
    return 0


def _eval(args: argparse.Namespace) -> int:
    from .datasets import load_dataset
    from .judges import get_judge
    from .train import evaluate_probs, write_evaluation

    judge = get_judge(args.judge, weights=args.weights)
    data = load_dataset(args.data, split=args.split, seed=args.seed, size=judge.input_size)
    part = data if args.subset == "all" else data.subset(args.subset)
    probs = judge.predict_proba(part.images, detect=False if args.crops else "auto")
    report = evaluate_probs(probs, part)
    report.update(judge=judge.name, judge_labels=list(judge.labels), split=args.subset, data=str(args.data))
    paths = write_evaluation(report, args.out, name=f"{judge.name}_{args.subset}")
    brief = {k: report[k] for k in ("judge", "split", "n", "accuracy", "macro_f1", "macro_f1_7")}
    brief["recall"] = {c: round(v["recall"], 4) for c, v in report["per_class"].items()}
    print(json.dumps({**brief, **paths}, indent=2))
    return 0


def register(subparsers) -> None:
    """Add ``fer train`` and ``fer eval`` to the ``facecraft`` command line."""
    from .classifier import ARCHS, INITS, FERClassifierConfig
    from .train import BALANCE_MODES, TrainConfig

    fer = subparsers.add_parser("fer", help="facial expression recognition: train and evaluate classifiers")
    sub = fer.add_subparsers(dest="fer_command", required=True)

    t = sub.add_parser(
        "train",
        help="train facecraft's FER classifier (8 emotions)",
        description="Train facecraft's FER classifier. Fast CPU recipe (fine-tune the shipped mini-Xception): "
        "--init mini_xception --freeze-blocks 2 --lr 1e-3 --dropout 0.2 --minutes 27",
    )
    t.add_argument("--data", required=True, help="ImageFolder, path,label CSV or FER2013 CSV")
    t.add_argument("--split", default=None, help="path,label,split CSV (default: DATA/split.csv if present)")
    t.add_argument("--out", required=True, help="folder for checkpoints (best/, last/), history and reports")
    t.add_argument("--arch", choices=ARCHS, default=FERClassifierConfig.arch)
    t.add_argument(
        "--init",
        choices=INITS,
        default=FERClassifierConfig.init,
        help="mini_xception: start from the shipped mini-Xception weights (implies --arch xception)",
    )
    t.add_argument("--widths", type=int, nargs="+", default=None, help="stage widths (default per arch)")
    t.add_argument("--image-size", type=int, default=None, help="input side in pixels (default per arch)")
    t.add_argument("--dropout", type=float, default=None, help="dropout before the classifier (default per arch)")
    defaults = TrainConfig()
    for name, (flag, text) in TRAIN_OPTIONS.items():
        default = getattr(defaults, name)
        extra = {"choices": BALANCE_MODES} if name == "balance" else {}
        t.add_argument(
            flag, dest=name, type=_field_type(TrainConfig, name), default=default, help=f"{text} (default: {default})",
            **extra,
        )  # fmt: skip
    t.set_defaults(func=_train)

    e = sub.add_parser("eval", help="score a judge on a data set: accuracy, macro-F1, per-class recall")
    e.add_argument("--judge", required=True, help="mini-xception, networkv2 or facecraft")
    e.add_argument("--weights", default=None, help="weights folder (facecraft judge)")
    e.add_argument("--data", required=True)
    e.add_argument("--split", default=None, help="path,label,split CSV (default: DATA/split.csv if present)")
    e.add_argument("--subset", choices=("train", "val", "test", "all"), default="test")
    e.add_argument("--crops", action="store_true", help="images are face crops already: never run the detector")
    e.add_argument("--seed", type=int, default=0)
    e.add_argument("--out", required=True)
    e.set_defaults(func=_eval)
