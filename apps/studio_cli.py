"""``facecraft app``: serve the Gradio studio (:mod:`facecraft.apps.studio`) on a local address.

Kept apart from the studio so that building the command line never imports Gradio (a few seconds).
"""

from __future__ import annotations

import argparse


def _cmd_app(args: argparse.Namespace) -> int:
    import re
    import sys

    from facecraft.rigs.errors import ParameterError

    from .studio import launch
    from .studio_handlers import RefineConfig, refine_status

    if not re.fullmatch(r"cpu|cuda(:\d+)?|mps", args.refine_device):
        raise ParameterError(f"--refine-device: expected cpu, cuda, cuda:N or mps, got {args.refine_device!r}")
    refine = RefineConfig.from_env(args.refine_base, args.refine_adapter, device=args.refine_device)
    # said at start-up, not when the refine box is first ticked
    ready, why = refine_status(refine)
    if not ready and (args.refine_base or args.refine_adapter):
        raise ParameterError(f"--refine-base / --refine-adapter: {why}")
    if not ready and (refine.base or refine.adapter):  # set in the environment only: the studio still serves
        print(f"warning: diffusion refine unavailable: {why}", file=sys.stderr)
    # the address once the studio answers there: without --port it is the first free one from 7860 on
    announce = lambda url: print(f"facecraft studio: {url} (Ctrl+C stops it)", flush=True)  # noqa: E731
    launch(host=args.host, port=args.port, refine=refine, announce=announce)
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "app",
        help="serve the studio (edit photos, make a photo talk, animate speech, judge faces, augment a data set) in "
        "the browser",
    )
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (0.0.0.0 for every interface)")
    p.add_argument("--port", type=int, default=None, help="port (default: Gradio's, 7860, or the next free one)")
    p.add_argument(
        "--refine-base", help="diffusion base folder for 'refine with diffusion' (default $FACECRAFT_REFINE_BASE)"
    )
    p.add_argument("--refine-adapter", help="AU adapter folder for it (default $FACECRAFT_REFINE_ADAPTER)")
    p.add_argument("--refine-device", default="cpu", help="cpu or cuda for the refine pass (default cpu)")
    p.set_defaults(func=_cmd_app)
