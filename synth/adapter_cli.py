"""``facecraft adapter ...``: build training data, train the face base and the AU adapter, refine an edit.

* ``facecraft adapter build-data -o data.npz`` - aligned FRLL crops + geometric-editor edits with AU labels;
* ``facecraft adapter train-base --data data.npz -o base/`` - the small pixel-space face base;
* ``facecraft adapter train --base base/ --data data.npz -o adapter/`` - the AU adapter (base frozen); the
  base may be a local SD1.5-layout folder on a GPU (build the data at its resolution);
* ``facecraft adapter refine PHOTO -o OUT --base base/ --adapter adapter/ --emotion happiness:0.8`` - the
  geometric edit refined by the adapter.

:func:`add_refine_arguments` and :func:`refine_from_args` let ``facecraft edit --refine`` reuse the same options.
"""

from __future__ import annotations

import argparse
import logging

log = logging.getLogger(__name__)


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
    _train_options(b, lr=5e-4)
    b.set_defaults(func=_cmd_train_base)

    a = cmds.add_parser("train", help="train an AU adapter on a frozen base")
    a.add_argument("--base", required=True, help="a facecraft base folder or a local SD1.5-layout diffusers folder")
    a.add_argument("--data", required=True, help="training crops at the base's resolution (.npz from build-data)")
    a.add_argument("-o", "--output", required=True, help="the adapter folder to write")
    a.add_argument("--tokens", type=int, default=4, help="AU tokens (default 4)")
    a.add_argument("--cond-dropout", type=float, default=0.1, help="AU dropout probability for guidance (default 0.1)")
    _train_options(a, lr=1e-3)
    a.set_defaults(func=_cmd_train_adapter)

    r = cmds.add_parser("refine", help="edit a photo's expression and refine the face with the adapter")
    r.add_argument("photo", help="a portrait photo")
    r.add_argument("-o", "--output", required=True, help="the image to write (png/jpg)")
    r.add_argument("--emotion", help="NAME[:INTENSITY], e.g. happiness:0.8")
    r.add_argument("--au", nargs="*", help="AU sliders, e.g. AU12=0.8 AU6=0.5")
    r.add_argument("--face", type=int, default=0, help="which face (0 = the largest)")
    add_refine_arguments(r, required=True)
    r.set_defaults(func=_cmd_refine)


def _train_options(p: argparse.ArgumentParser, *, lr: float) -> None:
    p.add_argument("--minutes", type=float, help="stop after this many minutes (wall clock)")
    p.add_argument("--steps", type=int, default=2000, help="training steps (default 2000)")
    p.add_argument("--batch-size", type=int, default=16, help="batch size (default 16)")
    p.add_argument("--lr", type=float, default=lr, help=f"learning rate (default {lr:g})")
    p.add_argument("--device", default="cpu", help="cpu or cuda (bf16 autocast on cuda)")
    p.add_argument("--threads", type=int, help="torch CPU threads")
    p.add_argument("--no-resume", action="store_true", help="start over even if a checkpoint exists")
    p.add_argument("--seed", type=int, default=0)


def _options(args: argparse.Namespace):
    from .adapter_train import TrainOptions

    return TrainOptions(
        steps=args.steps, batch_size=args.batch_size, lr=args.lr, max_minutes=args.minutes, seed=args.seed,
        device=args.device, resume=not args.no_resume, threads=args.threads,
    )  # fmt: skip


def add_refine_arguments(p: argparse.ArgumentParser, *, required: bool = False) -> None:
    """The refine options (``--base``, ``--adapter``, strength, steps, guidance, seed) on a parser."""
    p.add_argument("--base", required=required, help="diffusion base folder (facecraft base or SD1.5 layout)")
    p.add_argument("--adapter", required=required, help="AU adapter folder")
    p.add_argument("--strength", type=float, default=0.4, help="share of the noise schedule re-run (default 0.4)")
    p.add_argument("--steps", type=int, default=20, help="DDIM steps of the full schedule (default 20)")
    p.add_argument("--guidance", type=float, default=2.0, help="AU guidance scale (1 = none; default 2)")
    p.add_argument("--au-scale", type=float, default=1.0, help="adapter scale (0 = the base alone)")
    p.add_argument("--seed", type=int, default=0, help="noise seed")
    p.add_argument("--device", default="cpu", help="cpu or cuda (fp16 on cuda)")


def refine_from_args(args: argparse.Namespace, image, controls, *, faces=None, face: int = 0, editor=None):
    """Run the refine pipeline as the parsed options say; returns :class:`~facecraft.synth.refine.AUEditOutput`."""
    import torch

    from facecraft.rigs.errors import ParameterError

    from .refine import AUEditPipeline

    if not args.base or not args.adapter:
        raise ParameterError("--refine needs --base (a diffusion base folder) and --adapter (an AU adapter folder)")
    dtype = torch.float16 if str(args.device).startswith("cuda") else None
    pipe = AUEditPipeline.from_base(args.base, adapter=args.adapter, editor=editor, device=args.device, dtype=dtype)
    return pipe(
        image, controls, faces=faces, face=face, strength=args.strength, num_inference_steps=args.steps,
        guidance_scale=args.guidance, au_scale=args.au_scale, generator=torch.Generator().manual_seed(args.seed),
    )  # fmt: skip


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
    base = train_base(FaceSamples.load(args.data), args.output, channels=channels, options=_options(args))
    report = base.info["train"]
    print(f"wrote {args.output}: {report['steps']} steps in {report['minutes']} min, loss {report['loss_last_50']:.4f}")
    return 0


def _cmd_train_adapter(args: argparse.Namespace) -> int:
    from .adapter_data import FaceSamples
    from .adapter_train import train_adapter

    train_adapter(
        args.base, FaceSamples.load(args.data), args.output, num_tokens=args.tokens, cond_dropout=args.cond_dropout,
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
