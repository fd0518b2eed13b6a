"""``facecraft animate`` and ``facecraft a2f {corpus,train,calibrate}`` commands."""

from __future__ import annotations

import argparse
import dataclasses
import inspect
import json
import logging
import os
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)


def register(subparsers) -> None:
    """Add ``animate`` and ``a2f`` to the ``facecraft`` command line."""
    from facecraft.rigs import EMOTION_ARG_HELP, RIG_SPEC_HELP
    from facecraft.rigs.animation import frame_rate
    from facecraft.rigs.emotion_space import TRACK_ARG_HELP
    from facecraft.rigs.run_settings import random_seed

    from .batch import FORMATS
    from .calibrate import DEFAULT_ITEMS

    p = subparsers.add_parser(
        "animate",
        help="speech audio -> facial animation (.glb, .csv, .npz, .json); many files in one process",
        description="Animate one audio file (-o FILE, the type from its extension) or many (several inputs, a "
        "folder or a glob, -o FOLDER/): models load once, a progress bar runs, a failing file is reported in "
        "FOLDER/report.json while the others are done, and finished outputs are skipped on a rerun.",
    )
    p.add_argument(
        "input",
        nargs="+",
        help="audio file(s) (wav, flac, ogg, mp3, ...; a video's sound: mp4, mov, ...), folders or glob patterns",
    )
    p.add_argument(
        "-o",
        "--output",
        required=True,
        help="output file (one input; the type follows the extension) or folder (ends with /, exists, or has no "
        "extension)",
    )
    p.add_argument(
        "--format",
        choices=FORMATS,
        help="output type: glb, csv (Live Link Face), npz or json (default: from -o's extension; glb for a folder)",
    )
    p.add_argument("--overwrite", action="store_true", help="redo files whose output already exists (batch)")
    p.add_argument("--transcript", help="text of the speech (procedural mode aligns it; learned mode ignores it)")
    emo = p.add_mutually_exclusive_group()
    emo.add_argument("--emotion", help=f"the emotion (e.g. anger:0.7): {EMOTION_ARG_HELP}")
    emo.add_argument("--emotion-track", help=f"the emotion changing over time: {TRACK_ARG_HELP}")
    p.add_argument("--rig", default="default", help=f"rig for .glb output and the preview: {RIG_SPEC_HELP}")
    p.add_argument(
        "--fps",
        type=frame_rate,
        default=None,
        help="output frame rate (default 60 for .csv, the iPhone's Live Link Face rate; 30 otherwise)",
    )
    p.add_argument("--video", help="also write an MP4 preview here (.mp4 is added to a name without an ending)")
    p.add_argument("--mode", choices=("learned", "procedural"), default="learned", help="model (default) or rules")
    p.add_argument("--weights", help="a trained model (.safetensors or folder) instead of the shipped weights")
    p.add_argument("--no-blink", action="store_true", help="do not add procedural blinks")
    p.add_argument("--no-head", action="store_true", help="keep the head still (no speech-driven nods and sway)")
    p.add_argument("--no-gaze", action="store_true", help="keep the eyes still (no saccades; eyeLook* left as is)")
    p.add_argument("--seed", type=random_seed, default=0, help="seed of the blinks' partners: head sway and gaze")
    p.add_argument(
        "--flame-model",
        help="your FLAME model (generic_model.pkl or .npz): also write FLAME expression + jaw, retargeted from "
        "the ARKit curves (a model with FLAME heads gives its own); .npz or .json output",
    )
    p.add_argument(
        "--flame-embedding",
        help="FLAME landmark embedding (flame_static_embedding.pkl or landmark_embedding.npy) when the model file "
        "has none",
    )
    p.set_defaults(func=_animate)

    from .corpus import CorpusSpec, build_corpus
    from .model import A2FConfig
    from .train import TrainConfig

    a2f = subparsers.add_parser("a2f", help="audio2face model: build a corpus, train")
    sub = a2f.add_subparsers(dest="a2f_command", required=True)
    spec = _defaults(CorpusSpec)
    splits = inspect.signature(build_corpus).parameters["splits"].default
    shard = inspect.signature(build_corpus).parameters["shard"].default
    c = sub.add_parser("corpus", help="build (or resume) the training corpus: synthetic voices, or real recordings")
    c.add_argument("--out", default="outputs/a2f/corpus", help="corpus folder (default %(default)s)")
    c.add_argument("--sentences", help="sentence file (default: the shipped sentences.txt)")
    c.add_argument("--max-sentences", type=int, help="use only the first N sentences")
    c.add_argument(
        "--voices", nargs="+", action="extend", help="voice specs (default: all training and held-out voices)"
    )
    c.add_argument(
        "--augmentations-per-clip",
        type=int,
        default=spec["augmentations_per_clip"],
        help="items per sentence and voice, the first one clean (default %(default)s)",
    )
    c.add_argument("--fps", type=frame_rate, default=spec["fps"], help="teacher curve frame rate (default %(default)s)")
    c.add_argument(
        "--seed", type=random_seed, default=spec["seed"],
        help="which augmentations each clip gets (default %(default)s)",
    )  # fmt: skip
    c.add_argument("--splits", nargs="+", default=list(splits), choices=("train", "eval", "unused"),
                   help=f"which splits to build (default {' '.join(splits)})")  # fmt: skip
    c.add_argument("--shard", default=f"{shard[0]}/{shard[1]}", help="I/N: build only sentences with index %% N == I")
    c.add_argument(
        "--real", metavar="DIR",
        help="build items of real recordings instead of synthesizing: every folder under DIR with a transcripts.csv "
        "(file,text[,speaker]); the teacher's curves come from the aligned transcript",
    )  # fmt: skip
    c.add_argument("--held-out-speakers", nargs="+", default=[], metavar="SPEAKER",
                   help="with --real: these speakers' clips form the eval split (never trained on)")  # fmt: skip
    c.set_defaults(func=_corpus)

    # every option below is a TrainConfig field (dest = field name): its default is the config's
    d = _defaults(TrainConfig)
    t = sub.add_parser("train", help="train the learned model (progress bar, checkpoints, --resume)")
    t.add_argument("--corpus", help="synthetic corpus folder (from `facecraft a2f corpus`)")
    t.add_argument("--capture", dest="capture_dirs", metavar="DIR", nargs="*", default=d["capture_dirs"],
                   help="folders of real capture pairs (LLF CSV or FLAME npz + audio, or LLF's .mov + .csv, "
                        "or FACEGOOD takes)")  # fmt: skip
    t.add_argument("--capture-holdout", metavar="TAKE", nargs="*", default=d["capture_holdout"],
                   help="capture takes (file stems) to leave out, e.g. for validation")  # fmt: skip
    t.add_argument("--capture-mix", type=float, default=d["capture_mix"],
                   help="share of steps on capture when a corpus is also given (default: by clip counts)")  # fmt: skip
    t.add_argument("--capture-channels", metavar="NAME", nargs="*", default=d["capture_channels"],
                   help="ARKit channels capture supervises (default: all a take maps)")  # fmt: skip
    t.add_argument(
        "--out",
        dest="out_dir",
        metavar="OUT",
        default=d["out_dir"],
        help="run folder: checkpoint, log, weights (default %(default)s)",
    )
    t.add_argument(
        "--steps", type=int, default=d["steps"], help="length of the learning-rate schedule (default %(default)s)"
    )
    t.add_argument("--max-minutes", type=float, default=d["max_minutes"], help="stop early after this much wall time")
    t.add_argument(
        "--stop-after", type=int, default=d["stop_after"], help="end this session at this step (resume later)"
    )
    t.add_argument("--batch-size", type=int, default=d["batch_size"], help="crops per step (default %(default)s)")
    t.add_argument("--frames", type=int, default=d["frames"], help="frames per training crop (default %(default)s)")
    t.add_argument("--lr", type=float, default=d["lr"], help="peak learning rate (default %(default)s)")
    t.add_argument(
        "--weight-decay", type=float, default=d["weight_decay"], help="AdamW weight decay (default %(default)s)"
    )
    t.add_argument(
        "--seed", type=random_seed, default=d["seed"], help="crops, emotions, augmentation, init (default %(default)s)"
    )
    t.add_argument("--threads", type=int, default=d["threads"], help="torch CPU threads")
    t.add_argument("--no-emotion-losses", dest="disentangle", action="store_false", default=d["disentangle"],
                   help="comparison model: plain MSE, no lip/swap losses")  # fmt: skip
    t.add_argument("--closure-weight", type=float, default=d["closure_weight"],
                   help="extra loss on sealed-lip frames; 0 = off (default %(default)s)")  # fmt: skip
    t.add_argument("--opening-weight", type=float, default=d["opening_weight"],
                   help="extra loss on open-mouth frames; 0 = off (default %(default)s)")  # fmt: skip
    t.add_argument("--press-weight", type=float, default=d["press_weight"],
                   help="extra loss on mouthPress, every frame; 0 = off (default %(default)s)")  # fmt: skip
    t.add_argument("--low-weight", type=float, default=d["low_weight"],
                   help="cross-entropy on the speech channels, so values near 0 are learnt; 0 = off "
                        "(default %(default)s)")  # fmt: skip
    t.add_argument(
        "--channel-augment",
        type=float,
        default=d["channel_augment"],
        help="share of synthetic crops with a random microphone gain, tilt and noise floor (log-mel only; 0 = off; "
        "default %(default)s)",
    )
    t.add_argument(
        "--band-limit",
        type=float,
        default=d["band_limit"],
        help="share of channel-augmented crops also band-limited, e.g. telephone 300-3400 Hz (0 = off; default "
        "%(default)s)",
    )
    t.add_argument(
        "--pause-augment",
        type=float,
        default=d["pause_augment"],
        help="share of synthetic crops given a mid-utterance pause (noise floor, relaxed mouth; 0 = off; default "
        "%(default)s)",
    )
    t.add_argument("--checkpoint-every", type=int, default=d["checkpoint_every"],
                   help="steps between checkpoints (default %(default)s)")  # fmt: skip
    m = _defaults(A2FConfig)
    t.add_argument("--hidden", type=int, help=f"model width (default {m['hidden']}, A2FConfig)")
    t.add_argument("--feature-kind", help=f"front-end name (default {m['feature_kind']}, A2FConfig)")
    t.add_argument("--init-from", default=d["init_from"], help="start from these weights (fine-tuning on capture)")
    t.add_argument("--resume", action="store_true", help="continue from OUT/checkpoint.pt")
    t.add_argument("--export", help="also save the final weights to this .safetensors path (config beside it)")
    t.set_defaults(func=_train)

    k = sub.add_parser(
        "calibrate",
        help="measure how much wider the teacher parts the lips than the model on its training clips, and write "
        "those opening gains into the model's config",
    )
    k.add_argument("--weights", required=True, help="the model: .safetensors file (config beside it) or run folder")
    k.add_argument("--corpus", required=True, help="the corpus it was trained on (its training split is read)")
    k.add_argument("--items", type=int, default=DEFAULT_ITEMS, help="training items sampled (default %(default)s)")
    k.add_argument("--seed", type=random_seed, default=0, help="which items are sampled (default %(default)s)")
    k.set_defaults(func=_calibrate)


def _defaults(cls: type) -> dict[str, Any]:
    """Each field's default of the dataclass ``cls`` (factories called): the one source of the CLI's defaults."""
    return {
        f.name: f.default_factory() if f.default is dataclasses.MISSING else f.default
        for f in dataclasses.fields(cls)
        if f.default is not dataclasses.MISSING or f.default_factory is not dataclasses.MISSING
    }


def _is_batch(args: argparse.Namespace) -> bool:
    """Several inputs, a folder or a glob in, or a folder out (ends with a separator, exists, or has no suffix).
    An existing file named with glob characters (``take[1].wav``) is one file, not a pattern."""
    out = args.output
    if len(args.input) > 1 or any(Path(i).is_dir() or _is_pattern(i) for i in args.input):
        return True
    return out.endswith(("/", os.sep)) or Path(out).is_dir() or not Path(out).suffix


def _is_pattern(text: str) -> bool:
    """A glob pattern: glob characters in a name that is not an existing file (as :func:`.batch.expand_inputs`)."""
    return any(c in text for c in "*?[") and not Path(text).expanduser().exists()


def _animate(args: argparse.Namespace) -> int:
    from facecraft.rigs.animation import FLAME_SUFFIXES
    from facecraft.rigs.errors import ParameterError

    from .animate import animate_file
    from .audio import seekable_audio

    options = dict(
        transcript=args.transcript, emotion=args.emotion, emotion_track=args.emotion_track, fps=args.fps,
        mode=args.mode, blink=not args.no_blink, head=not args.no_head, gaze=not args.no_gaze, seed=args.seed,
    )  # fmt: skip
    if args.transcript and args.mode == "learned":  # said in --help only, a user's transcript went unused unsaid
        log.warning("--transcript is read by --mode procedural only (it aligns it); the learned model ignores it")
    batch = _is_batch(args)
    drawn = (args.format or "glb") == "glb" if batch else (Path(args.output).suffix.lower() == ".glb" or args.video)
    if args.rig != "default" and not drawn:  # a rig no output uses (a missing file, even) went by without a word
        log.warning("--rig %s: only .glb output and --video use a rig; not used for %s", args.rig, args.output)
    if batch:
        if args.video:
            raise ParameterError("--video takes a single input and an output file, not a batch")
        if args.transcript:  # one text for every file was used without a word
            log.warning("--transcript: the same words are aligned to every input of this batch")
        return _animate_batch(args, options)
    out = Path(args.output)
    if args.video:
        from facecraft.rigs.paths import say_ending_added
        from facecraft.rigs.video import video_output

        video = video_output(args.video)
        say_ending_added("--video", args.video, video, "preview")
        args.video = str(video)
    if args.format and out.suffix.lower() != f".{args.format}":
        raise ParameterError(f"--format {args.format} does not match the output {out} (extension {out.suffix!r})")
    if drawn:  # a rig that does not load stops the run before the animation is made, not after
        from facecraft.rigs import load_rig

        args.rig = load_rig(args.rig)
    with seekable_audio(args.input[0]) as audio:  # a named pipe or /dev/stdin is copied first: the readers seek
        anim = animate_file(
            audio, out, rig=args.rig, video=args.video, weights=args.weights, flame_model=args.flame_model,
            flame_embedding=args.flame_embedding, progress=True, speech_check=True, **options,
        )  # fmt: skip
    print(f"wrote {args.output}: {anim.num_frames} frames at {anim.fps:g} fps ({anim.duration:.2f} s, {args.mode})")
    has_flame = anim.flame_expression is not None or anim.flame_jaw is not None
    if has_flame and Path(args.output).suffix.lower() in FLAME_SUFFIXES:
        width = "none" if anim.flame_expression is None else anim.flame_expression.shape[1]
        source = anim.meta.get("flame", {}).get("source", "model")
        print(f"FLAME: expression {width}, jaw {'yes' if anim.flame_jaw is not None else 'no'} (from {source})")
    if args.video:
        print(f"wrote {args.video}")
    return 0


def _animate_batch(args: argparse.Namespace, options: dict) -> int:
    from .batch import REPORT_NAME, animate_batch

    report = animate_batch(
        args.input, args.output, fmt=args.format or "glb", overwrite=args.overwrite, rig=args.rig,
        weights=args.weights, flame_model=args.flame_model, flame_embedding=args.flame_embedding, **options,
    )  # fmt: skip
    done, skipped, failed = (len(report[k]) for k in ("done", "skipped", "failed"))
    print(f"animated {done}, skipped {skipped} (already done), failed {failed} in {report['seconds']:.1f} s; "
          f"report: {Path(args.output) / REPORT_NAME}")  # fmt: skip
    for d in report["done"]:
        for said in d.get("warnings") or ([d["warning"]] if "warning" in d else []):
            print(f"warning: {d['input']}: {said}")
    for f in report["failed"]:
        print(f"failed: {f['input']}: {f['error']}")
    return 1 if failed else 0


def _corpus(args: argparse.Namespace) -> int:
    from facecraft.rigs.errors import ParameterError

    from .corpus import ALL_VOICES, CorpusSpec, build_corpus, load_sentences

    if args.real:
        from .corpus_real import build_real_corpus

        stats = build_real_corpus(
            args.real, args.out, held_out_speakers=args.held_out_speakers,
            augmentations_per_clip=args.augmentations_per_clip, fps=args.fps,
        )  # fmt: skip
        return _print_corpus_stats(stats)
    if args.held_out_speakers:
        raise ParameterError("--held-out-speakers needs --real (synthetic voices are held out by the corpus rule)")
    try:
        i, n = (int(x) for x in args.shard.split("/"))
    except ValueError as e:
        raise ParameterError(f"--shard: expected I/N such as 0/2, got {args.shard!r}") from e
    sentences = load_sentences(args.sentences)
    if args.max_sentences:
        sentences = sentences[: args.max_sentences]
    spec = CorpusSpec(
        sentences=sentences, voices=args.voices or list(ALL_VOICES), augmentations_per_clip=args.augmentations_per_clip,
        fps=args.fps, seed=args.seed,
    )  # fmt: skip
    return _print_corpus_stats(build_corpus(args.out, spec, splits=args.splits, shard=(i, n)))


def _print_corpus_stats(stats: dict) -> int:
    print(json.dumps({k: v for k, v in stats.items() if k != "failures"}, indent=2))
    for f in stats["failures"][:20]:
        print(f"skipped: {f}")
    if len(stats["failures"]) > 20:
        print(f"... and {len(stats['failures']) - 20} more skipped items")
    return 0


def _calibrate(args: argparse.Namespace) -> int:
    from .calibrate import calibrate_weights

    result = calibrate_weights(args.weights, args.corpus, items=args.items, seed=args.seed)
    print(json.dumps(result, indent=2))
    return 0


def _train(args: argparse.Namespace) -> int:
    from .model import A2FModel
    from .train import TrainConfig, train

    model = {}
    if args.hidden:
        model["hidden"] = args.hidden
    if args.feature_kind:
        model["feature_kind"] = args.feature_kind
    given = {f.name: getattr(args, f.name) for f in dataclasses.fields(TrainConfig) if hasattr(args, f.name)}
    cfg = TrainConfig(**{**given, "capture_dirs": list(args.capture_dirs),
                         "capture_holdout": list(args.capture_holdout),
                         "capture_channels": list(args.capture_channels), "model": model})  # fmt: skip
    summary = train(cfg, resume=args.resume)
    print(json.dumps(summary, indent=2))
    if args.export:
        path = A2FModel.from_pretrained(args.out_dir).save_pretrained(Path(args.export))
        print(f"exported {path}")
    if args.corpus:
        weights = args.export or args.out_dir
        print(f"next: facecraft a2f calibrate --weights {weights} --corpus {args.corpus}  (its opening gains)")
    return 0
