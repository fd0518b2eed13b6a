"""``facecraft app``: serve the Gradio studio (:mod:`facecraft.apps.studio`) on a local address.

Kept apart from the studio so that building the command line never imports Gradio (a few seconds).
"""

from __future__ import annotations

import argparse


def _cmd_app(args: argparse.Namespace) -> int:
    from .studio import launch

    print(f"facecraft studio: http://{args.host}:{args.port or 7860}/ (Ctrl+C stops it)")
    launch(host=args.host, port=args.port)
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("app", help="serve the studio (edit photos, animate speech, judge faces) in the browser")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (0.0.0.0 for every interface)")
    p.add_argument("--port", type=int, default=None, help="port (default: Gradio's, 7860, or the next free one)")
    p.set_defaults(func=_cmd_app)
