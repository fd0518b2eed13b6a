"""``facecraft fer train`` and ``facecraft fer eval``: train facecraft's FER classifier, score any judge.

Both read a data set in any layout :func:`~facecraft.eval.datasets.load_dataset` knows, with its fixed
split (``--split``, or ``split.csv`` inside the data folder) and write JSON reports and confusion-matrix
PNGs under ``--out``.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
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
    "freeze_stem": ("--freeze-stem", "keep the stem alone fixed (no caching; the blocks train on augmented faces)"),
    "soft_labels": ("--soft-labels", "train toward the FER+ crowd-vote distributions (meta.csv) where known"),
    "label_smoothing": ("--label-smoothing", "share of the uniform distribution mixed into the targets"),
    "mixup": ("--mixup", "mixup Beta(alpha, alpha) parameter (0: off)"),
    "cutout": ("--cutout", "probability of blanking a random square of a face"),
    "select": ("--select", "keep the epoch with the best validation macro-F1, or the last"),
    "prior_adjust": ("--prior-adjust", "subtract tau log(prior) from the logits, tau picked on validation"),
    "ema": ("--ema", "decay of a moving average of the weights that is evaluated and saved (0: off)"),
    "distill": ("--distill", "share of the mini-Xception teacher's flip-averaged opinion in FER faces' targets"),
    "unlabelled": ("--unlabelled", "unlabelled face photos (a folder or a data set name such as faces-utk) "
                   "pseudo-labelled by the two pretrained judges where they agree (research: mind their licence)"),
    "unlabelled_weight": ("--unlabelled-weight", "loss weight of a pseudo-labelled photo"),
    "unlabelled_confidence": ("--unlabelled-confidence", "judges' least agreed confidence to keep a photo"),
    "photo_smiles": ("--photo-smiles", "happiness intensities of the editor's faint-smile edits of the neutral "
                     "training photos (none: no edits)"),
    "photo_smile_copies": ("--photo-smile-copies", "camera-like crops per faint-smile edit"),
    "seed": ("--seed", "random seed (training and the data split when none is given)"),
    "num_threads": ("--threads", "torch CPU threads"),
}  # fmt: skip


def _field_type(cls, name: str) -> type:
    """The plain type of a dataclass field (``float | None`` -> ``float``)."""
    hint = typing.get_type_hints(cls)[name]
    args = [a for a in typing.get_args(hint) if a is not type(None)]
    return args[0] if args else hint


def _recipe(args: argparse.Namespace) -> dict:
    from .train import RECIPES

    return RECIPES[args.recipe] if getattr(args, "recipe", None) else {}


def train_config_from_args(args: argparse.Namespace):
    """The :class:`~facecraft.eval.train.TrainConfig` that ``fer train`` options describe.

    Options left unset come from ``--recipe`` when one is named, else from the dataclass.
    """
    from .train import TrainConfig

    given = {name: getattr(args, name) for name in TRAIN_OPTIONS if getattr(args, name) is not None}
    given = {name: tuple(v) if isinstance(v, list) else v for name, v in given.items()}
    return TrainConfig(**{**_recipe(args).get("train", {}), **given})


def model_config_from_args(args: argparse.Namespace):
    """The :class:`~facecraft.eval.classifier.FERClassifierConfig` of ``--arch/--init/--widths/...``.

    Options left unset keep ``--recipe``'s choice, else the config's own defaults for that architecture.
    """
    from .classifier import FERClassifierConfig

    recipe = dict(_recipe(args).get("model", {}))
    init, arch = args.init or recipe.pop("init", "scratch"), args.arch or recipe.pop("arch", "resnet")
    given = {"dropout": args.dropout, "image_size": args.image_size, "widths": args.widths, "flip_tta": args.flip_tta}
    options = {**recipe, **{k: (tuple(v) if k == "widths" else v) for k, v in given.items() if v is not None}}
    if init == "mini_xception":
        return FERClassifierConfig.mini_xception(**options)
    if arch == "xception":
        return FERClassifierConfig.xception(**options)
    return FERClassifierConfig(**options)


def photo_options(args: argparse.Namespace) -> dict:
    """``--photos/--photo-copies/--photo-holdout`` merged over ``--recipe``'s photo settings."""
    recipe = _recipe(args).get("photos", {})
    given = {"copies": args.photo_copies, "holdout_every": args.photo_holdout, "weight": args.photo_weight}
    defaults = {"copies": 8, "holdout_every": 2, "weight": 1.0}
    return {**defaults, **recipe, **{k: v for k, v in given.items() if v is not None}}


def with_synthetic(train, data, folder, weight, cfg, model_config):
    """``train`` plus the accepted faces of a ``facecraft augment`` folder, weighted as ``bench augment``'s arms
    (:func:`~facecraft.eval.bench_augment.arm_weights`); and which images are synthetic.

    A synthetic face made from a validation or test face of ``data`` would carry that face into training: refused.
    """
    from dataclasses import replace

    import numpy as np

    from facecraft.rigs import EMOTIONS
    from facecraft.rigs.errors import MissingFileError, ParameterError

    from .augment import read_manifest
    from .bench_augment import SYNTHETIC_WEIGHT, arm_weights, selected_synthetic
    from .datasets import concat_datasets

    records = read_manifest(folder)
    accepted = {r["file"] for r in records if r.get("accepted") and r.get("file")}
    if not accepted:
        raise MissingFileError(
            f"--synthetic {folder}: no accepted faces in its manifest.jsonl (a `facecraft augment` output folder?)"
        )
    faces, sources = selected_synthetic(
        Path(folder), records, accepted, targets=tuple(EMOTIONS), size=model_config.image_size
    )
    held = set(data.paths) - set(train.paths)
    leaked = sorted(set(sources) & held)
    if leaked:
        raise ParameterError(
            f"--synthetic {folder}: {len(leaked)} faces were made from validation or test faces of the data set "
            f"(e.g. {leaked[0]}); augment the train split only"
        )
    faces = replace(faces, splits=np.full(len(faces), "train", dtype=object), targets=None, weights=None)
    both = concat_datasets([train, faces])
    is_synthetic = np.r_[np.zeros(len(train), bool), np.ones(len(faces), bool)]
    factor = arm_weights(
        train.class_counts, both.labels, is_synthetic, balance=cfg.balance,
        synthetic_weight=SYNTHETIC_WEIGHT if weight is None else weight,
    )  # fmt: skip
    logger.info("synthetic: %d faces from %s join %d real ones", len(faces), folder, len(train))
    return replace(both, weights=both.sample_weights() * factor), is_synthetic


def synthetic_priors(model, model_dir, train, is_synthetic, val, cfg) -> dict:
    """Give ``model`` (saved again in ``model_dir``) the real faces' class priors back
    (:func:`~facecraft.eval.bench_augment.synthetic_prior_shift`), then the recipe's logit adjustment on the real
    counts; what was done, for the summary."""
    import numpy as np

    from facecraft.rigs import EMOTIONS

    from .bench_augment import synthetic_prior_shift
    from .train import adjust_to_priors

    shift = synthetic_prior_shift(train.sample_weights(), train.labels, is_synthetic)
    model.shift_logits(shift)
    adjustment = None
    if cfg.prior_adjust:
        adjustment = adjust_to_priors(model, np.bincount(train.labels[~is_synthetic], minlength=len(EMOTIONS)), val)
    model.save_pretrained(model_dir)
    return {
        "synthetic_faces": int(is_synthetic.sum()),
        "synthetic_prior_shift": [round(float(x), 4) for x in shift],
        "prior_adjustment": adjustment,
    }


def _train(args: argparse.Namespace) -> int:
    import time

    from .classifier import FERClassifier
    from .datasets import concat_datasets, load_dataset
    from .metrics import class_recalls
    from .train import check_output_folder, evaluate_probs, predict_dataset, train_classifier, write_evaluation

    check_output_folder(args.out)  # before the data are read and a model trained
    if args.synthetic_weight is not None and not args.synthetic:
        from facecraft.rigs.errors import ParameterError

        raise ParameterError("--synthetic-weight: given without --synthetic (the augment output folder to train on)")
    cpu0, wall0 = time.process_time(), time.perf_counter()
    model_config = model_config_from_args(args)
    cfg = train_config_from_args(args)
    # crops at the network's own size, so training sees exactly what preprocess_face gives at inference
    data = load_dataset(
        args.data, split=args.split, seed=cfg.seed, size=model_config.image_size, label_order=args.label_order
    )
    out = Path(args.out)
    train = data.subset("train")
    held_out = []
    if args.photos:
        from .photos import photo_dataset, read_labelled_photos, split_people

        opts = photo_options(args)
        photo_train, held_out = split_people(read_labelled_photos(args.photos), holdout_every=opts["holdout_every"])
        crops = photo_dataset(
            photo_train,
            size=model_config.image_size,
            copies=opts["copies"],
            seed=cfg.seed,
            split="train",
            weight=opts["weight"],
        )
        train = concat_datasets([train, crops])
        logger.info(
            "photos: %d crops of %d people for training, %d people held out",
            len(crops),
            len({p.person for p in photo_train}),
            len({p.person for p in held_out}),
        )
    synthetic = None
    if args.synthetic:
        from dataclasses import replace

        train, synthetic = with_synthetic(train, data, args.synthetic, args.synthetic_weight, cfg, model_config)
        train_cfg = replace(cfg, prior_adjust=False)  # after the synthetic prior is taken back, below
    else:
        train_cfg = cfg
    result = train_classifier(train, data.subset("val"), out_dir=out, model_config=model_config, config=train_cfg)
    best = FERClassifier.from_pretrained(result["best_dir"])
    if synthetic is not None:
        result.update(synthetic_priors(best, result["best_dir"], train, synthetic, data.subset("val"), cfg))
    summary = {k: v for k, v in result.items() if k != "history"}
    for split in ("val", "test"):
        part = data.subset(split)
        if len(part):
            report = evaluate_probs(predict_dataset(best, part), part)
            report.update(judge="facecraft", weights=result["best_dir"], split=split, data=str(args.data))
            write_evaluation(report, out, name=f"facecraft_{split}")
            summary[f"{split}_macro_f1"], summary[f"{split}_macro_f1_7"] = report["macro_f1"], report["macro_f1_7"]
            summary[f"{split}_accuracy"] = report["accuracy"]
            summary[f"{split}_recall"] = class_recalls(report)
    if held_out:
        from .metrics import write_report
        from .photos import photo_dataset, photo_recall

        crops = photo_dataset(held_out, size=model_config.image_size)
        photos = photo_recall(predict_dataset(best, crops), held_out)
        photos.update(data=str(args.photos), held_out_people=sorted({p.person for p in held_out}))
        write_report(photos, out / "facecraft_photos_report.json")
        summary["photos_held_out"] = {k: photos[k] for k in ("n", "people", "recall")}
    summary["training_wall_s"] = round(time.perf_counter() - wall0, 1)
    summary["training_cpu_s"] = round(time.process_time() - cpu0, 1)
    if args.export:
        from .fast_fer import export_onnx

        w_path = best.save_pretrained(args.export, stem=args.export_stem)
        export_onnx(best, w_path.with_suffix(".onnx"))
        summary["exported"] = str(w_path)
        _write_model_card(w_path.with_suffix(".card.md"), summary, args)  # never over a hand-written MODEL_CARD.md
    from .metrics import write_report

    write_report(summary, out / "summary.json")
    print(json.dumps(summary, indent=2))
    return 0


def _write_model_card(path: Path, summary: dict, args: argparse.Namespace) -> None:
    """A model card beside exported weights: what they were trained on, the command that retrains them, the
    figures this run measured, and the limits every FER2013-derived model shares."""
    import shlex

    def figure(key: str) -> str:
        value = summary.get(key)
        return "not measured" if value is None else f"{value:.4f}" if isinstance(value, float) else str(value)

    lines = [
        f"# {Path(summary['exported']).stem}: a facecraft FER classifier",
        "",
        f"Weights `{Path(summary['exported']).name}` with their config and an ONNX copy beside them; load them with "
        f"`FERClassifier.from_pretrained('{Path(summary['exported']).name}')` or `--weights`.",
        "",
        "## Training",
        f"- data: `{args.data}` (its train split; val chose the epoch), photos: `{getattr(args, 'photos', None)}`",
        f"- command: `facecraft {shlex.join(words)}`" if (words := getattr(args, "command_line", None)) else "",
        f"- time: {summary.get('training_wall_s')} s wall, {summary.get('training_cpu_s')} s CPU",
        "",
        "## Figures measured by this run",
        "| split | accuracy | macro-F1 (8) | macro-F1 (7, mini-Xception's classes) |",
        "|---|---|---|---|",
        *(
            f"| {s} | {figure(f'{s}_accuracy')} | {figure(f'{s}_macro_f1')} | {figure(f'{s}_macro_f1_7')} |"
            for s in ("val", "test")
        ),  # fmt: skip
        "",
        "## Limits",
        "- FER2013 images carry no licence: a model trained on them is for research use.",
        "- 48 px grey crops of posed and in-the-wild faces; rare classes (contempt, disgust) are read least well.",
    ]
    path.write_text("\n".join(lines) + "\n")


def _eval(args: argparse.Namespace) -> int:
    from .datasets import load_dataset
    from .faces import NO_FACE_FOUND
    from .judges import get_judge
    from .metrics import class_recalls
    from .train import check_output_folder, evaluate_probs, write_evaluation

    check_output_folder(args.out)  # a file in its way is said before the judge loads and the set is scored
    judge = get_judge(args.judge, weights=args.weights)
    from facecraft.rigs.errors import ParameterError

    detect = False if args.crops else "auto"  # --crops: every image is a face crop, none is searched
    data = load_dataset(
        args.data, split=args.split, seed=args.seed, size=judge.input_size, detect=detect, label_order=args.label_order
    )
    part = data if args.subset == "all" else data.subset(args.subset)
    if not len(part.labels):
        raise ParameterError(
            f"{args.data}: the {args.subset} split holds no image (its {len(data.labels)} are in other splits): "
            "use --subset all, or --split with a split CSV"
        )
    probs = judge.predict_proba(part.images, detect=detect)
    report = evaluate_probs(probs, part)
    report.update(judge=judge.name, judge_labels=list(judge.labels), split=args.subset, data=str(args.data),
                  split_origin=data.split_origin, skipped=list(data.skipped or []))  # fmt: skip
    paths = write_evaluation(report, args.out, name=f"{judge.name}_{args.subset}")
    brief = {k: report[k] for k in ("judge", "split", "n", "accuracy", "macro_f1", "macro_f1_7")}
    brief["recall"] = class_recalls(report)
    brief["skipped"] = len(report["skipped"])  # the names and reasons are in the report
    print(json.dumps({**brief, **paths}, indent=2))
    if args.subset != "all":  # a made-up split scores a fifth of a set that has none of its own
        print(f"scored the {args.subset} part ({len(part)} of {len(data)} images) of the split: {data.split_origin}; "
              "--subset all scores every image", file=sys.stderr)  # fmt: skip
    if report["skipped"]:
        print(f"{args.data}: {len(report['skipped'])} images skipped (not scored), e.g. {report['skipped'][0]}; "
              "all of them are listed under 'skipped' in the report", file=sys.stderr)  # fmt: skip
        faceless = sum(NO_FACE_FOUND in s for s in report["skipped"])  # faces.FaceAnalyzer.no_face_error's words
        if faceless and not args.crops:
            print(f"{faceless} of them showed no face to the detector: if DATA's images are face crops already "
                  "(aligned RAF-DB, AffectNet, FER2013 faces), --crops scores every one", file=sys.stderr)  # fmt: skip
    return 0


def _image_paths(paths: list[str]) -> list[Path]:
    """Image files named, and those below the folders named (recursively, hidden ones left out)."""
    from facecraft.rigs.errors import MissingFileError

    from .images import list_image_files

    files = []
    for p in map(Path, paths):
        if p.is_dir():
            files += list_image_files(p, recursive=True)
        elif p.is_file():
            files.append(p)
        else:
            raise MissingFileError(f"image or folder not found: {p}")
    return files


def _predict(args: argparse.Namespace) -> int:
    """Per-image emotions of photos or face crops: path, emotion, confidence and the 8 probabilities, as CSV."""
    import csv
    import io

    import numpy as np

    from facecraft.rigs import EMOTIONS
    from facecraft.rigs.errors import FacecraftError
    from facecraft.rigs.paths import write_text_atomic

    from .faces import preprocess_face
    from .judges import get_judge

    judge = get_judge(args.judge, weights=args.weights)
    detect = False if args.crops else "auto"
    if args.out:  # its folder made before the images are read, as other commands' -o: a missing folder (or a file in
        # the way) stopped the run after every prediction, and they were lost
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    crops, names, skipped = [], [], []
    for f in _image_paths(args.images):
        try:
            crops.append(preprocess_face(f, size=judge.input_size, grey=True, detect=detect))
            names.append(str(f))
        except (FacecraftError, OSError) as e:  # one bad file does not stop a folder
            skipped.append(f"{f}: {e}")
    probs = judge.predict_proba(np.stack(crops), detect=False) if crops else np.zeros((0, len(EMOTIONS)))
    out = io.StringIO(newline="") if args.out else sys.stdout
    w = csv.writer(out)
    w.writerow(["path", "emotion", "confidence", *EMOTIONS])
    for name, p in zip(names, probs, strict=True):
        w.writerow([name, EMOTIONS[int(p.argmax())], f"{p.max():.4f}", *(f"{x:.4f}" for x in p)])
    if args.out:  # whole or not at all
        write_text_atomic(args.out, out.getvalue())
    for line in skipped:
        print(f"skipped {line}", file=sys.stderr)
    print(f"{judge.name}: {len(names)} images read, {len(skipped)} skipped"
          f"{f', predictions in {args.out}' if args.out else ''}", file=sys.stderr)  # fmt: skip
    return 0 if names and not skipped else 1  # as `edit` and `animate`: a skipped file is said in the exit status too


#: What ``--data`` reads (eval.datasets.load_dataset), for the help of the commands that take it.
DATA_HELP = (
    "ImageFolder (DATA/<emotion>/, or DATA/train/<emotion>/ and test/, val/), RAF-DB's basic folder "
    "(EmoLabel/list_patition_label.txt), FER+'s folder (FER2013Train/label.csv ...), CK+'s folder "
    "(cohn-kanade-images/ and Emotion/), a folder labelled in its file names (JAFFE: KA.AN1.39.tiff; KDEF, AKDEF: "
    "AF01ANS.JPG), a path,label[,split] CSV, FER2013's fer2013.csv or FER+'s fer2013new.csv (fer2013.csv beside it)"
)


def _add_label_order(parser: argparse.ArgumentParser) -> None:
    """``--label-order``: what class numbers (folders 0-7, CSV labels) mean."""
    from .datasets import LABEL_ORDERS

    parser.add_argument(
        "--label-order",
        choices=sorted(LABEL_ORDERS),
        default=None,
        help="the data set whose class numbers DATA's folders or CSV labels use (e.g. affectnet: 0 neutral ... "
        "7 contempt; raf-db: 1 surprise ... 7 neutral); numbers are refused without it",
    )


def register(subparsers) -> None:
    """Add ``fer train``, ``fer eval`` and ``fer predict`` to the ``facecraft`` command line."""
    from facecraft.rigs.run_settings import random_seed

    from .classifier import ARCHS, INITS
    from .train import BALANCE_MODES, RECIPES, SELECT_MODES, TrainConfig

    fer = subparsers.add_parser("fer", help="facial expression recognition: train and evaluate classifiers, predict")
    sub = fer.add_subparsers(dest="fer_command", required=True)

    t = sub.add_parser(
        "train",
        help="train facecraft's FER classifier (8 emotions)",
        description="Train facecraft's FER classifier. The shipped weights: --recipe shipped --photos "
        "../shared/data/faces-frll --export eval/weights (eval/weights/MODEL_CARD.md).",
    )
    t.add_argument("--recipe", choices=sorted(RECIPES), default=None, help="preset options (explicit flags win)")
    t.add_argument("--photos", default=None, help="labelled photo set with people.csv (e.g. faces-frll) to train on")
    t.add_argument("--photo-copies", type=int, default=None, help="crops per photo: itself + augmented (default 8)")
    t.add_argument("--photo-weight", type=float, default=None, help="loss weight of each photo crop (default 1)")
    t.add_argument(
        "--photo-holdout", type=int, default=None, help="hold out every Nth person for evaluation (default 2; 0: none)"
    )
    t.add_argument(
        "--synthetic",
        default=None,
        help="a `facecraft augment` output folder whose accepted faces join training, each at --synthetic-weight of a "
        "real face of its class; the model then gets the real faces' class priors back (as `bench augment` does)",
    )
    t.add_argument("--synthetic-weight", type=float, default=None, help="loss weight of a synthetic face (default 0.5)")
    t.add_argument("--export", default=None, help="also write the best model as <stem>.safetensors/.json/.onnx here")
    t.add_argument("--export-stem", default="facecraft_fer", help="file stem for --export (default: facecraft_fer)")
    t.add_argument("--data", required=True, help=DATA_HELP + " (FER+ meta.csv votes used)")
    t.add_argument("--split", default=None, help="path,label,split CSV (default: DATA/split.csv if present)")
    _add_label_order(t)
    t.add_argument("--out", required=True, help="folder for checkpoints (best/, last/), history and reports")
    t.add_argument("--arch", choices=ARCHS, default=None, help="network (default: resnet)")
    t.add_argument(
        "--init",
        choices=INITS,
        default=None,
        help="mini_xception: start from the shipped mini-Xception weights (implies --arch xception)",
    )
    t.add_argument(
        "--flip-tta", action=argparse.BooleanOptionalAction, default=None, help="average with the mirrored face"
    )
    t.add_argument("--widths", type=int, nargs="+", default=None, help="stage widths (default per arch)")
    t.add_argument("--image-size", type=int, default=None, help="input side in pixels (default per arch)")
    t.add_argument("--dropout", type=float, default=None, help="dropout before the classifier (default per arch)")
    defaults = TrainConfig()
    choices = {"balance": BALANCE_MODES, "select": SELECT_MODES}
    for name, (flag, text) in TRAIN_OPTIONS.items():
        default = getattr(defaults, name)
        kind = _field_type(TrainConfig, name)
        extra = {"action": argparse.BooleanOptionalAction} if kind is bool else {"type": kind}
        if isinstance(default, tuple):
            extra = {"type": float, "nargs": "*"}
        if name in choices:
            extra["choices"] = choices[name]
        t.add_argument(flag, dest=name, default=None, help=f"{text} (default: {default})", **extra)
    t.set_defaults(func=_train)

    e = sub.add_parser("eval", help="score a judge on a data set: accuracy, macro-F1, per-class recall")
    e.add_argument("--judge", required=True, help="mini-xception, networkv2 or facecraft")
    e.add_argument(
        "--weights", default=None, help="weights folder or .safetensors (facecraft judge; default: the shipped ones)"
    )
    e.add_argument("--data", required=True, help=DATA_HELP)
    e.add_argument("--split", default=None, help="path,label,split CSV (default: DATA/split.csv if present)")
    _add_label_order(e)
    e.add_argument("--subset", choices=("train", "val", "test", "all"), default="test")
    e.add_argument("--crops", action="store_true", help="images are face crops already: never run the detector")
    e.add_argument("--seed", type=random_seed, default=0)
    e.add_argument("--out", required=True, help="folder for the report JSON and the confusion matrix")
    e.set_defaults(func=_eval)

    pr = sub.add_parser(
        "predict",
        help="the emotion of each image (files or folders): a CSV of path, emotion, confidence, 8 probabilities",
    )
    pr.add_argument("images", nargs="+", help="image files or folders (read recursively)")
    pr.add_argument("--judge", default="facecraft", help="mini-xception, networkv2 or facecraft (default)")
    pr.add_argument(
        "--weights", default=None, help="weights folder or .safetensors (facecraft judge; default: the shipped ones)"
    )
    pr.add_argument("--crops", action="store_true", help="images are face crops already: never run the detector")
    pr.add_argument("--out", default=None, help="CSV file to write (default: standard output)")
    pr.set_defaults(func=_predict)
