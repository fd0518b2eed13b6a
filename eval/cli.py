"""``facecraft fer train`` and ``facecraft fer eval``: train facecraft's FER classifier, score any judge.

Both read a data set in any layout :func:`~facecraft.eval.datasets.load_dataset` knows, with its fixed
split (``--split``, or ``split.csv`` inside the data folder) and write JSON reports and confusion-matrix
PNGs under ``--out``.
"""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path

logger = logging.getLogger(__name__)


def _train(args: argparse.Namespace) -> int:
    from .classifier import FERClassifier, FERClassifierConfig
    from .datasets import load_dataset
    from .train import TrainConfig, evaluate_probs, predict_dataset, train_classifier, write_evaluation

    widths = {"widths": tuple(args.widths)} if args.widths else {}
    if args.init == "mini_xception":
        model_config = FERClassifierConfig.mini_xception(dropout=args.dropout)
    elif args.arch == "xception":
        model_config = FERClassifierConfig(
            arch="xception",
            image_size=args.image_size or 64,
            stem=8,
            widths=widths.get("widths", (16, 32, 64, 128)),
            dropout=args.dropout,
        )
    else:
        model_config = FERClassifierConfig(image_size=args.image_size or 48, dropout=args.dropout, **widths)
    cfg = TrainConfig(
        epochs=args.epochs,
        minutes=args.minutes,
        batch_size=args.batch_size,
        lr=args.lr,
        balance=args.balance,
        patience=args.patience,
        seed=args.seed,
        num_threads=args.threads,
        freeze_blocks=args.freeze_blocks,
        feature_copies=args.feature_copies,
    )
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
    t.add_argument("--minutes", type=float, default=None, help="wall-time budget for training")
    t.add_argument("--epochs", type=int, default=40)
    t.add_argument("--batch-size", type=int, default=128)
    t.add_argument("--lr", type=float, default=2e-3)
    t.add_argument("--arch", choices=("resnet", "xception"), default="resnet")
    t.add_argument(
        "--init",
        choices=("scratch", "mini_xception"),
        default="scratch",
        help="mini_xception: start from the shipped mini-Xception weights (implies --arch xception)",
    )
    t.add_argument("--widths", type=int, nargs="+", default=None, help="stage widths (default per arch)")
    t.add_argument("--image-size", type=int, default=None)
    t.add_argument("--dropout", type=float, default=0.3)
    t.add_argument("--balance", choices=("sqrt", "inverse", "sampler", "none"), default="sqrt")
    t.add_argument("--patience", type=int, default=8)
    t.add_argument(
        "--freeze-blocks",
        type=int,
        default=0,
        help="keep the stem and this many blocks fixed and train on their cached outputs (fast)",
    )
    t.add_argument("--feature-copies", type=int, default=4, help="cached augmented versions per image (frozen mode)")
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--threads", type=int, default=2, help="torch CPU threads")
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
