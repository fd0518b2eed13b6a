"""The settings a folder run was made with, kept beside its outputs so that a rerun cannot mix two kinds.

``facecraft edit FOLDER`` and ``facecraft animate ... -o FOLDER/`` skip outputs that exist (a stopped run
resumes). Rerun with other controls, they would skip the old outputs and leave a folder half of one kind and half
of the other, with no word said. :func:`check_run_settings` stops such a rerun (unless the user asks to redo every
file) and :func:`save_run_settings` records what the run is made with.
"""

from __future__ import annotations

import json
from pathlib import Path

from .errors import ParameterError
from .paths import write_text_atomic


def check_run_settings(
    path: Path, settings: dict, *, overwrite: bool, made: str, redo: str = "or --overwrite to redo every file"
) -> None:
    """Stop when ``path`` records other ``settings`` than these (a readable JSON object or not), unless
    ``overwrite``; ``made`` says what the folder holds, for the message ("edits", "animations"), ``redo`` how to
    start over."""
    if overwrite or not path.is_file():
        return
    try:
        before = json.loads(path.read_text())
    except (OSError, ValueError):
        before = None
    if before == settings:
        return
    if isinstance(before, dict):
        changed = ", ".join(
            f"{k} {_shown(before.get(k))}, now {_shown(settings[k])}" for k in settings if before.get(k) != settings[k]
        )
    else:
        changed = f"unreadable {path.name}"
    raise ParameterError(
        f"{path.parent} holds {made} made with other settings ({changed}): give another folder, {redo}"
    )


def _shown(value) -> str:
    """A setting as the message shows it: None is an option left at its default ("fps None" read as a fault)."""
    return "default" if value is None else repr(value)


def save_run_settings(path: Path, settings: dict) -> None:
    """Record ``settings`` (JSON values) at ``path``, creating its folder; written whole or not at all (a run killed
    while writing it left a torn file that its rerun refused as "unreadable")."""
    path.parent.mkdir(parents=True, exist_ok=True)
    write_text_atomic(path, json.dumps(settings, indent=2), pid=False)


def random_seed(text) -> int:
    """A random seed given on a command line (``argparse`` ``type=``): a whole number from 0, as numpy's generators
    take it (``--seed -1`` ended in numpy's bare "expected non-negative integer" traceback)."""
    import argparse

    try:
        seed = int(text)
    except (TypeError, ValueError) as e:
        raise argparse.ArgumentTypeError(f"seed {text!r} is not a whole number") from e
    if seed < 0:
        raise argparse.ArgumentTypeError(f"seed must be 0 or more, got {seed}")
    return seed
