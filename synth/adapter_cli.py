"""``facecraft adapter ...``: build training data, train the face base and the AU adapter, refine an edit.

* ``facecraft adapter build-data -o data.npz`` - aligned FRLL crops + geometric-editor edits with AU labels;
* ``facecraft adapter train-base --data data.npz -o base/`` - the small pixel-space face base;
* ``facecraft adapter train --base base/ --data data.npz -o adapter/`` - the AU adapter (base frozen); the
  base may be a local SD1.5-layout folder on a GPU (build the data at its resolution);
* ``facecraft adapter refine PHOTO -o OUT --base base/ --adapter adapter/ --emotion happiness:0.8`` - the
  geometric edit refined by the adapter.

:func:`add_refine_arguments`, :func:`refine_pipeline` and :func:`run_refine` let ``facecraft edit --refine`` reuse
the same options. Without ``--base`` / ``--adapter`` the folders come from ``$FACECRAFT_REFINE_BASE`` /
``$FACECRAFT_REFINE_ADAPTER`` (the studio reads the same variables); with neither, the error names what is
missing and how to get it.
"""

from __future__ import annotations

import argparse
import logging
import os

from .refine_defaults import DEFAULT_GUIDANCE, DEFAULT_STEPS, DEFAULT_STRENGTH

log = logging.getLogger(__name__)

#: Environment variables holding the default diffusion base and AU adapter folders of the refine path.
REFINE_BASE_ENV = "FACECRAFT_REFINE_BASE"
REFINE_ADAPTER_ENV = "FACECRAFT_REFINE_ADAPTER"
HOW_TO_TRAIN = (
    "train them on FRLL with `facecraft adapter build-data -o data.npz`, `facecraft adapter train-base --data "
    "data.npz -o BASE --minutes 30` and `facecraft adapter train --base BASE --data data.npz -o ADAPTER --minutes 30`"
)


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``adapter`` (with its sub-commands) to the ``facecraft`` command line."""
    p = sub.add_parser("adapter", help="train and use the AU-conditioned diffusion adapter (refine path)")
    cmds = p.add_subparsers(dest="adapter_command", required=True)

    d = cmds.add_parser("build-data", help="aligned face crops + AU labels (FRLL photos and editor edits)")
    d.add_argument("-o", "--output", required=True, help="the .npz to write")
    d.add_argument("--resolution", type=int, default=64, help="crop side in pixels (default 64)")
    d.add_argument("--edits", type=int, default=8, help="random geometric edits per photo (default 8)")
    d.add_argument(
        "--sources", default="frll", help="comma list of frll (CC BY), utk (research licence: never ship the result)"
    )
    d.add_argument("--split", choices=("train", "held_out"), default="train", help="training people or held-out ones")
    d.add_argument("--max-photos", type=int, help="at most this many photos per source (quick runs)")
    d.set_defaults(func=_cmd_build_data)

    b = cmds.add_parser("train-base", help="train facecraft's small pixel-space face base")
    b.add_argument("--data", required=True, help="training crops (.npz from build-data)")
    b.add_argument("-o", "--output", required=True, help="the base folder to write")
    b.add_argument("--channels", default="16,32,64,128", help="UNet channels per level (default 16,32,64,128)")
    b.add_argument("--t-max", type=int, help="train timesteps below this only (a base for refining; default all)")
    _train_options(b, lr=5e-4)
    b.set_defaults(func=_cmd_train_base)

    a = cmds.add_parser("train", help="train an AU adapter on a frozen base")
    a.add_argument("--base", required=True, help="a facecraft base folder or a local SD1.5-layout diffusers folder")
    a.add_argument("--data", required=True, help="training crops at the base's resolution (.npz from build-data)")
    a.add_argument("-o", "--output", required=True, help="the adapter folder to write")
    a.add_argument("--tokens", type=int, default=4, help="AU tokens (default 4)")
    a.add_argument("--cond-dropout", type=float, default=0.1, help="AU dropout probability for guidance (default 0.1)")
    a.add_argument("--t-max", type=int, default=700, help="timesteps drawn below this (default 700)")
    a.add_argument("--t-min", type=int, default=0, help="timesteps drawn from this on (default 0)")
    a.add_argument(
        "--objective", choices=("noise", "shift"), default="noise",
        help="noise: noise-prediction loss per crop; shift: paired photo -> edit change (pixel bases; default noise)",
    )  # fmt: skip
    a.add_argument("--from-source", type=float, default=0.5, help="shift: share of pairs starting at the photo")
    a.add_argument("--rest-only", action="store_true", help="shift: only pairs from each person's rest photo")
    a.add_argument("--still-share", type=float, default=0.0, help="shift: rows asking for the neutral face (no change)")
    _train_options(a, lr=1e-3)
    a.set_defaults(func=_cmd_train_adapter)

    r = cmds.add_parser("refine", help="edit a photo's expression and refine the face with the adapter")
    r.add_argument("photo", help="a portrait photo")
    r.add_argument("-o", "--output", required=True, help="the image to write (png/jpg)")
    r.add_argument("--emotion", help="NAME[:INTENSITY], e.g. happiness:0.8")
    r.add_argument("--au", nargs="*", action="extend", help="AU sliders, e.g. AU12=0.8 AU6=0.5")
    r.add_argument("--face", type=int, default=0, help="which face (0 = the largest)")
    add_refine_arguments(r)
    r.set_defaults(func=_cmd_refine)


def _train_options(p: argparse.ArgumentParser, *, lr: float) -> None:
    p.add_argument("--minutes", type=float, help="stop after this many minutes (wall clock)")
    p.add_argument("--steps", type=int, default=2000, help="training steps (default 2000)")
    p.add_argument("--batch-size", type=int, default=16, help="batch size (default 16)")
    p.add_argument("--lr", type=float, default=lr, help=f"learning rate (default {lr:g})")
    p.add_argument("--device", default="cpu", help="cpu or cuda (bf16 autocast on cuda)")
    p.add_argument("--threads", type=int, help="torch CPU threads")
    p.add_argument("--no-resume", action="store_true", help="start over even if a checkpoint exists")
    from facecraft.rigs.run_settings import random_seed

    p.add_argument("--seed", type=random_seed, default=0)
    p.add_argument("--warmup", type=int, default=50, help="linear learning-rate warm-up steps (default 50)")
    p.add_argument(
        "--schedule",
        choices=("cosine", "constant"),
        default="cosine",
        help="after warm-up: cosine decay over the steps or --minutes, whichever ends first (default)",
    )
    p.add_argument("--ema", type=float, default=0.999, help="EMA decay of the saved weights (0 = off; default 0.999)")
    p.add_argument("--checkpoint-every", type=int, default=200, help="steps between checkpoints (default 200)")


def _options(args: argparse.Namespace):
    from .adapter_train import TrainOptions

    return TrainOptions(
        steps=args.steps, batch_size=args.batch_size, lr=args.lr, max_minutes=args.minutes, seed=args.seed,
        device=args.device, resume=not args.no_resume, threads=args.threads, warmup_steps=args.warmup,
        schedule=args.schedule, ema_decay=args.ema, checkpoint_every=args.checkpoint_every,
    )  # fmt: skip


def add_refine_arguments(p: argparse.ArgumentParser) -> None:
    """The refine options (``--base``, ``--adapter``, strength, steps, guidance, seed) on a parser."""
    p.add_argument("--base", help=f"diffusion base folder (facecraft base or SD1.5 layout; default ${REFINE_BASE_ENV})")
    p.add_argument("--adapter", help=f"AU adapter folder (default ${REFINE_ADAPTER_ENV})")
    p.add_argument("--strength", type=float, default=DEFAULT_STRENGTH,
                   help=f"share of the noise schedule re-run (default {DEFAULT_STRENGTH:g})")  # fmt: skip
    p.add_argument("--steps", type=int, default=DEFAULT_STEPS,
                   help=f"DDIM steps of the full schedule (default {DEFAULT_STEPS})")  # fmt: skip
    p.add_argument("--guidance", type=float, default=DEFAULT_GUIDANCE,
                   help=f"AU guidance (1 = the adapter's change alone; default {DEFAULT_GUIDANCE:g})")  # fmt: skip
    p.add_argument("--au-scale", type=float, default=1.0, help="adapter scale (0 = the base alone)")
    from facecraft.rigs.run_settings import random_seed

    p.add_argument("--seed", type=random_seed, default=0, help="noise seed")
    p.add_argument("--device", default="cpu", help="cpu or cuda (fp16 on cuda)")


def refine_models(args: argparse.Namespace) -> tuple[str, str]:
    """The base and adapter folders: ``--base`` / ``--adapter``, else the environment variables.

    Raises
    ------
    MissingFileError
        Naming each model that is configured nowhere, where to configure it and how to train it.
    """
    from facecraft.rigs.errors import MissingFileError

    base = getattr(args, "base", None) or os.environ.get(REFINE_BASE_ENV) or None
    adapter = getattr(args, "adapter", None) or os.environ.get(REFINE_ADAPTER_ENV) or None
    missing = [
        f"{what} (pass {flag} DIR or set ${env})"
        for what, value, flag, env in (
            ("the diffusion base", base, "--base", REFINE_BASE_ENV),
            ("the AU adapter", adapter, "--adapter", REFINE_ADAPTER_ENV),
        )
        if not value
    ]
    if missing:
        raise MissingFileError(
            f"refine needs {' and '.join(missing)}; no trained one ships with facecraft: {HOW_TO_TRAIN}"
        )
    return base, adapter


def refine_pipeline(args: argparse.Namespace, *, editor=None):
    """The :class:`~facecraft.synth.refine.AUEditPipeline` the parsed options name (fp16 on CUDA); build it once
    and reuse it for many photos."""
    import torch

    from .refine import AUEditPipeline

    base, adapter = refine_models(args)
    device = getattr(args, "device", "cpu")
    dtype = torch.float16 if str(device).startswith("cuda") else None
    pipe = AUEditPipeline.from_base(base, adapter=adapter, editor=editor, device=device, dtype=dtype)
    pipe.set_progress_bar_config(disable=True)
    return pipe


def run_refine(
    pipe, args: argparse.Namespace, image, controls, *, faces=None, face: int = 0, name: str = "image", alpha=None
):
    """One refined edit with the parsed refine settings; returns :class:`~facecraft.synth.refine.AUEditOutput`.

    ``alpha`` is a cut-out's transparency: the edit moves it with the face and the refine keeps it.
    """
    import torch

    return pipe(
        image, controls, faces=faces, face=face, strength=args.strength, num_inference_steps=args.steps,
        guidance_scale=args.guidance, au_scale=args.au_scale, generator=torch.Generator().manual_seed(args.seed),
        name=name, alpha=alpha,
    )  # fmt: skip


def refine_from_args(args: argparse.Namespace, image, controls, *, faces=None, face: int = 0, editor=None):
    """Build the pipeline and run one refined edit (:func:`refine_pipeline` then :func:`run_refine`)."""
    pipe = refine_pipeline(args, editor=editor)
    return run_refine(pipe, args, image, controls, faces=faces, face=face)


def _cmd_build_data(args: argparse.Namespace) -> int:
    from .adapter_data import build_face_samples

    sources = tuple(s.strip() for s in args.sources.split(",") if s.strip())
    samples = build_face_samples(
        resolution=args.resolution, edits_per_photo=args.edits, sources=sources, split=args.split,
        max_photos=args.max_photos,
    )  # fmt: skip
    path = samples.save(args.output)
    print(f"wrote {path}: {len(samples)} crops of {args.resolution} px ({samples.licence})")
    return 0


def _cmd_train_base(args: argparse.Namespace) -> int:
    from .adapter_data import FaceSamples
    from .adapter_train import train_base

    channels = tuple(int(c) for c in args.channels.split(","))
    base = train_base(
        FaceSamples.load(args.data), args.output, channels=channels, t_max=args.t_max, options=_options(args)
    )
    report = base.info["train"]
    print(f"wrote {args.output}: {report['steps']} steps in {report['minutes']} min, loss {report['loss_last_50']:.4f}")
    return 0


def _cmd_train_adapter(args: argparse.Namespace) -> int:
    from .adapter_data import FaceSamples
    from .adapter_train import train_adapter

    train_adapter(
        args.base, FaceSamples.load(args.data), args.output, num_tokens=args.tokens, cond_dropout=args.cond_dropout,
        t_max=args.t_max, t_min=args.t_min, objective=args.objective, from_source=args.from_source,
        rest_only=args.rest_only, still_share=args.still_share,
        options=_options(args),
    )  # fmt: skip
    print(f"wrote {args.output} (see train.json and README.md there)")
    return 0


def _cmd_refine(args: argparse.Namespace) -> int:
    from pathlib import Path

    from PIL import Image

    from facecraft.eval.images import load_image
    from facecraft.rigs.errors import MissingFileError

    from .controls import EditControls

    if not Path(args.photo).is_file():
        raise MissingFileError(f"photo not found: {args.photo}")
    controls = EditControls.from_args(emotion=args.emotion, au=args.au)
    out = refine_from_args(args, load_image(args.photo), controls, face=args.face)
    Image.fromarray(out.images[0]).save(args.output)
    t = out.timings
    print(f"wrote {args.output} (edit {t['edit']:.2f} s, diffusion {t['diffusion']:.2f} s, paste {t['paste']:.2f} s)")
    return 0
