"""``facecraft animate`` and ``facecraft a2f {corpus,train}`` commands."""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path

log = logging.getLogger(__name__)


def register(subparsers) -> None:
    """Add ``animate`` and ``a2f`` to the ``facecraft`` command line."""
    p = subparsers.add_parser("animate", help="speech audio -> facial animation (.glb, .csv, .npz, .json)")
    p.add_argument("input", help="audio file (wav, flac, ogg, mp3, ...)")
    p.add_argument("-o", "--output", required=True, help="output file; the type follows the extension")
    p.add_argument("--transcript", help="text of the speech (procedural mode aligns it; learned mode ignores it)")
    emo = p.add_mutually_exclusive_group()
    emo.add_argument("--emotion", help="NAME:INTENSITY, e.g. anger:0.7")
    emo.add_argument("--emotion-track", help='JSON list of {"t": s, "emotion": name, "intensity": x} keys')
    p.add_argument("--rig", default="default", help="'default' or a rig file for .glb output and the preview")
    p.add_argument("--fps", type=float, default=30.0, help="output frame rate (default 30)")
    p.add_argument("--video", help="also write an MP4 preview here")
    p.add_argument("--mode", choices=("learned", "procedural"), default="learned", help="model (default) or rules")
    p.add_argument("--weights", help="a trained model (.safetensors or folder) instead of the shipped weights")
    p.add_argument("--no-blink", action="store_true", help="do not add procedural blinks")
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

    a2f = subparsers.add_parser("a2f", help="audio2face model: build a corpus, train")
    sub = a2f.add_subparsers(dest="a2f_command", required=True)
    c = sub.add_parser("corpus", help="build (or resume) the synthetic training corpus")
    c.add_argument("--out", default="outputs/a2f/corpus", help="corpus folder")
    c.add_argument("--sentences", help="sentence file (default: the shipped sentences.txt)")
    c.add_argument("--max-sentences", type=int, help="use only the first N sentences")
    c.add_argument("--voices", nargs="+", help="voice specs (default: all training and held-out voices)")
    c.add_argument("--augmentations-per-clip", type=int, default=2)
    c.add_argument("--fps", type=float, default=30.0)
    c.add_argument("--seed", type=int, default=0)
    c.add_argument("--splits", nargs="+", default=["train", "eval"], choices=("train", "eval", "unused"))
    c.add_argument("--shard", default="0/1", help="I/N: build only sentences with index %% N == I")
    c.set_defaults(func=_corpus)

    t = sub.add_parser("train", help="train the learned model (progress bar, checkpoints, --resume)")
    t.add_argument("--corpus", help="synthetic corpus folder (from `facecraft a2f corpus`)")
    t.add_argument(
        "--capture", nargs="*", default=[], help="folders of real capture pairs (LLF CSV or FLAME npz + wav)"
    )
    t.add_argument("--out", default="outputs/a2f/run", help="run folder (checkpoint, log, weights)")
    t.add_argument("--steps", type=int, default=4000)
    t.add_argument("--max-minutes", type=float, help="stop early after this much wall time")
    t.add_argument("--stop-after", type=int, help="end this session at this step (resume later)")
    t.add_argument("--batch-size", type=int, default=16)
    t.add_argument("--frames", type=int, default=64, help="frames per training crop")
    t.add_argument("--lr", type=float, default=2e-3)
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--threads", type=int, help="torch CPU threads")
    t.add_argument("--no-emotion-losses", action="store_true", help="comparison model: plain MSE, no lip/swap losses")
    t.add_argument("--closure-weight", type=float, default=0.0, help="extra loss on sealed-lip frames (0 = off)")
    t.add_argument("--opening-weight", type=float, default=0.0, help="extra loss on open-mouth frames (0 = off)")
    t.add_argument(
        "--channel-augment",
        type=float,
        default=0.0,
        help="share of synthetic crops with a random microphone gain, tilt and noise floor (log-mel only; 0 = off)",
    )
    t.add_argument(
        "--band-limit",
        type=float,
        default=0.0,
        help="share of channel-augmented crops also band-limited, e.g. telephone 300-3400 Hz (0 = off)",
    )
    t.add_argument(
        "--pause-augment",
        type=float,
        default=0.0,
        help="share of synthetic crops given a mid-utterance pause (noise floor, relaxed mouth; 0 = off)",
    )
    t.add_argument("--hidden", type=int, help="model width (default from A2FConfig)")
    t.add_argument("--feature-kind", help="front-end name (default logmel)")
    t.add_argument("--init-from", help="start from these weights (fine-tuning on capture)")
    t.add_argument("--resume", action="store_true", help="continue from OUT/checkpoint.pt")
    t.add_argument("--export", help="also save the final weights to this .safetensors path (config beside it)")
    t.set_defaults(func=_train)


def _animate(args: argparse.Namespace) -> int:
    from .animate import FLAME_SUFFIXES, animate_file

    anim = animate_file(
        args.input,
        args.output,
        transcript=args.transcript,
        emotion=args.emotion,
        emotion_track=args.emotion_track,
        rig=args.rig,
        fps=args.fps,
        video=args.video,
        mode=args.mode,
        weights=args.weights,
        blink=not args.no_blink,
        flame_model=args.flame_model,
        flame_embedding=args.flame_embedding,
    )
    print(f"wrote {args.output}: {anim.num_frames} frames at {anim.fps:g} fps ({anim.duration:.2f} s, {args.mode})")
    has_flame = anim.flame_expression is not None or anim.flame_jaw is not None
    if has_flame and Path(args.output).suffix.lower() in FLAME_SUFFIXES:
        width = "none" if anim.flame_expression is None else anim.flame_expression.shape[1]
        source = anim.meta.get("flame", {}).get("source", "model")
        print(f"FLAME: expression {width}, jaw {'yes' if anim.flame_jaw is not None else 'no'} (from {source})")
    if args.video:
        print(f"wrote {args.video}")
    return 0


def _corpus(args: argparse.Namespace) -> int:
    from facecraft.rigs.errors import ParameterError

    from .corpus import ALL_VOICES, CorpusSpec, build_corpus, load_sentences

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
    stats = build_corpus(args.out, spec, splits=args.splits, shard=(i, n))
    print(json.dumps({k: v for k, v in stats.items() if k != "failures"}, indent=2))
    for f in stats["failures"][:20]:
        print(f"skipped: {f}")
    if len(stats["failures"]) > 20:
        print(f"... and {len(stats['failures']) - 20} more skipped items")
    return 0


def _train(args: argparse.Namespace) -> int:
    from .model import A2FModel
    from .train import TrainConfig, train

    model = {}
    if args.hidden:
        model["hidden"] = args.hidden
    if args.feature_kind:
        model["feature_kind"] = args.feature_kind
    cfg = TrainConfig(
        corpus=args.corpus, capture_dirs=list(args.capture), out_dir=args.out, steps=args.steps,
        max_minutes=args.max_minutes, stop_after=args.stop_after, batch_size=args.batch_size, frames=args.frames,
        lr=args.lr, seed=args.seed,
        disentangle=not args.no_emotion_losses, closure_weight=args.closure_weight, opening_weight=args.opening_weight,
        channel_augment=args.channel_augment, band_limit=args.band_limit, pause_augment=args.pause_augment,
        threads=args.threads,
        init_from=args.init_from, model=model,
    )  # fmt: skip
    summary = train(cfg, resume=args.resume)
    print(json.dumps(summary, indent=2))
    if args.export:
        path = A2FModel.from_pretrained(args.out).save_pretrained(Path(args.export))
        print(f"exported {path}")
    return 0
