"""``facecraft augment DATASET --out OUT``: add judged, identity-checked expression edits to a FER data set."""

from __future__ import annotations

import argparse
import json
import logging

logger = logging.getLogger(__name__)


def _run(args: argparse.Namespace) -> int:
    from facecraft.rigs.errors import ParameterError

    from .augment import AugmentConfig, augment_dataset
    from .augment_filter import SKIP_SOURCES, FilterConfig

    if args.min_intensity > args.max_intensity:
        raise ParameterError(f"--min-intensity {args.min_intensity} is above --max-intensity {args.max_intensity}")
    config = AugmentConfig(
        per_image=args.per_image,
        intensity=(args.min_intensity, args.max_intensity),
        jitter=args.jitter,
        alternatives=not args.prototype_only,
        filter=FilterConfig(
            top_k=args.top_k,
            min_confidence=args.min_confidence,
            max_identity=args.max_identity,
            min_difference=args.min_difference,
            min_lift=args.min_lift,
        ),
        judge_weights=args.judge_weights,
        second_judges=tuple(args.second_judge or ("networkv2", "mini-xception")),
        skip_sources={} if args.all_sources else dict(SKIP_SOURCES),
        min_reader_recall=None if args.min_reader_recall < 0 else args.min_reader_recall,
        seed=args.seed,
    )
    report = augment_dataset(
        args.dataset,
        out=args.out,
        targets=args.targets,
        config=config,
        balance=args.balance,
        max_per_class=args.max_per_class,
        sources=args.sources or (),
        use_dataset_faces=not args.photos_only,
        split=None if args.split == "all" else args.split,
        max_sources=args.max_sources,
        workers=args.workers,
        threads=args.threads,
        label_order=args.label_order,
    )
    summary = {
        "out": args.out,
        "accepted": report["accepted"],
        "attempted": report["attempted"],
        "acceptance_rate": report["acceptance_rate"],
        "per_target": {t: {k: v[k] for k in ("accepted", "attempted")} for t, v in report["per_target"].items()},
        "bad_sources": len(report["bad_sources"]),
        "unreadable": len(report.get("unreadable") or []),  # files the data set reader skipped: listed in the report
        "this_run": report["this_run"],
        "report": f"{args.out}/report.json",
        "contact_sheet": report["contact_sheet"],
        **({"fer2013_csv": report["fer2013_csv"]} if report.get("fer2013_csv") else {}),  # a FER2013 CSV's own rows
    }
    print(json.dumps(summary, indent=2))
    return 0


def register(subparsers) -> None:
    """Add ``facecraft augment``."""
    from facecraft.rigs.run_settings import random_seed

    from .augment_filter import MIN_READER_RECALL, FilterConfig
    from .cli import DATA_HELP, _add_label_order

    defaults = FilterConfig()
    p = subparsers.add_parser(
        "augment",
        help="synthesise expression variants of a data set's faces, keep those the judges agree on",
        description="For each source face (the data set's train split, and/or photos from --sources), edit "
        "variants toward the target emotions with the geometric editor, keep those whose target the shipped "
        "FER judge ranks high, a second judge agrees with, that keep the person's identity and are no near-"
        "duplicates; write them in the data set's own format as an ImageFolder tree under OUT with "
        "manifest.jsonl, report.json and contact_sheet.png (a FER2013 CSV's added faces also as FER2013 rows, "
        "OUT/<name>_augmented.csv). Rerunning with the same OUT resumes.",
    )
    p.add_argument("dataset", metavar="DATA", help=f"data set: {DATA_HELP}")
    _add_label_order(p)
    p.add_argument("--out", required=True, help="output folder (ImageFolder tree + manifest + report)")
    p.add_argument("--per-image", type=int, default=1, help="variants per source face and target (default 1)")
    p.add_argument("--targets", default="all", help="'all' (every emotion but neutral) or names: fear,disgust,...")
    p.add_argument("--balance", action="store_true", help="fill the target classes up toward the largest class")
    p.add_argument("--max-per-class", type=int, default=None, help="with --balance: add at most this many per class")
    p.add_argument("--sources", action="append", metavar="DIR", help="folder of colour photos to edit too (repeatable)")
    p.add_argument("--photos-only", action="store_true", help="use only --sources, not the data set's own faces")
    p.add_argument(
        "--split", default="train", help="split of the data set that gives sources: train (default), val, test, all"
    )
    p.add_argument("--max-sources", type=int, default=None, help="try at most this many sources (seeded shuffle)")
    p.add_argument("--workers", type=int, default=1, help="processes, each with its own models (default 1)")
    p.add_argument("--threads", type=int, default=1, help="torch/OpenCV threads per worker (default 1)")
    p.add_argument("--min-intensity", type=float, default=0.6, help="emotion intensity range, low end")
    p.add_argument("--max-intensity", type=float, default=1.0, help="emotion intensity range, high end")
    p.add_argument("--jitter", type=float, default=0.25, help="relative jitter of the prototype AUs (default 0.25)")
    p.add_argument(
        "--prototype-only",
        action="store_true",
        help="every variant jitters the EMFACS prototype (default: disgust and contempt also draw the other "
        "patterns EMFACS scores as them: 9+17, 10+17, R14)",
    )
    p.add_argument(
        "--top-k", type=int, default=defaults.top_k, help=f"target among the judge's top K (default {defaults.top_k})"
    )
    p.add_argument(
        "--min-confidence",
        type=float,
        default=defaults.min_confidence,
        help=f"judge's least probability of the target (default {defaults.min_confidence:g})",
    )
    p.add_argument(
        "--max-identity",
        type=float,
        default=defaults.max_identity,
        help=f"identity distance bound (default {defaults.max_identity:g})",
    )
    p.add_argument(
        "--min-lift",
        type=float,
        default=defaults.min_lift,
        help=f"the edit must raise the judge's target probability this many times over the source's "
        f"(default {defaults.min_lift:g}; 0: off)",
    )
    p.add_argument(
        "--min-difference", type=float, default=defaults.min_difference, help="near-duplicate bound (grey levels)"
    )
    p.add_argument("--judge-weights", default=None, help="weights of the main judge (default: the shipped ones)")
    p.add_argument(
        "--second-judge",
        action="append",
        choices=("networkv2", "mini-xception"),
        help="a judge that must agree on the classes it reads (repeatable; default: networkv2 and mini-xception)",
    )
    p.add_argument(
        "--min-reader-recall",
        type=float,
        default=MIN_READER_RECALL,
        help="a second judge's vote counts on a class only when its top-k recall on the data set's labelled "
        f"non-test faces reaches this (default {MIN_READER_RECALL}; negative: every judge on every class)",
    )
    p.add_argument(
        "--all-sources",
        action="store_true",
        help="make every target from every source expression (default: no fear, disgust or contempt from smiles)",
    )
    p.add_argument("--seed", type=random_seed, default=0)
    p.set_defaults(func=_run)
