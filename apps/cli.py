"""The ``facecraft`` command line: one entry point, subcommands contributed by each subpackage.

Each subpackage that has commands exposes ``register(subparsers)`` in its ``cli`` module; this file only
collects them, so adding a command never touches another part's code. Benchmarks are listed in
:data:`BENCHMARKS` as ``module:function`` and run as ``facecraft bench NAME``.
"""

from __future__ import annotations

import argparse
import importlib
import json
import logging
import os
import signal
import sys
from pathlib import Path

# Modules that contribute subcommands (each has ``register(subparsers)``), with the commands each registers: a run
# of one command imports only its module (``facecraft animate`` skips the editor's and FER's imports, ~0.5 s of
# CPU at every start-up of a batch); help and unknown commands build the whole parser. A test checks the names
# against what each module registers.
COMMAND_MODULES: dict[str, tuple[str, ...]] = {
    "facecraft.apps.demo": ("demo",),
    "facecraft.rigs.cli": ("convert", "preview", "rig", "emotion"),
    "facecraft.eval.cli": ("fer",),
    "facecraft.audio2face.cli": ("animate", "a2f"),
    "facecraft.synth.cli": ("edit", "calibrate-editor"),
    "facecraft.synth.talk_cli": ("talk",),
    "facecraft.synth.adapter_cli": ("adapter",),
    "facecraft.apps.studio_cli": ("app",),
    "facecraft.apps.batch": ("batch",),
    "facecraft.eval.augment_cli": ("augment",),
}

# ``facecraft bench NAME`` -> "module:function"; the function takes ``out_dir: Path`` and returns a dict.
BENCHMARKS: dict[str, str] = {
    "rig-vs-ict": "facecraft.rigs.bench:bench_rig_vs_ict",
    "render": "facecraft.rigs.bench_render:bench_render",
    "retarget": "facecraft.rigs.retarget:bench_retarget",
    "faces": "facecraft.eval.faces:bench_faces",
    "eyewear": "facecraft.eval.bench_eyewear:bench_eyewear",
    "identity": "facecraft.eval.identity:bench_identity",
    "fer": "facecraft.eval.bench:bench_fer",
    "audio2face": "facecraft.audio2face.bench:bench_audio2face",
    "a2f-teacher": "facecraft.audio2face.teacher:bench_teacher",
    "a2f-frontends": "facecraft.audio2face.features:bench_frontends",
    "fit": "facecraft.synth.bench:bench_fit",
    "warp": "facecraft.synth.warp:bench_warp",
    "edit": "facecraft.synth.bench_edit:bench_edit",
    "edit-tuning": "facecraft.synth.bench_edit_tuning:bench_edit_tuning",
    "talk": "facecraft.synth.bench_talk:bench_talk",
    "adapter": "facecraft.synth.bench_adapter:bench_adapter",
    "a2f-batch": "facecraft.audio2face.bench_batch:bench_batch",
    "batch": "facecraft.apps.bench_batch:bench_batch_runs",
    "capture": "facecraft.audio2face.bench_capture:bench_capture",
    "augment": "facecraft.eval.bench_augment:bench_augment",
}


def bench_options(fn, pairs: list[str], *, name: str) -> dict:
    """Keyword options ``KEY=VALUE`` for benchmark function ``fn``: values read as Python literals (``3``,
    ``0.5``, ``True``, ``None``) or else as text; a comma list where the default is a tuple.

    Raises
    ------
    ParameterError
        For a malformed pair or a key that ``fn`` does not take (the message lists the ones it does).
    """
    import ast
    import inspect

    from facecraft.rigs.errors import ParameterError

    params = {
        k: p
        for k, p in inspect.signature(fn).parameters.items()
        if p.kind == p.KEYWORD_ONLY or (p.kind == p.POSITIONAL_OR_KEYWORD and k != "out_dir")
    }
    options: dict = {}
    for pair in pairs:
        key, sep, text = pair.partition("=")
        key = key.strip().replace("-", "_")
        if not sep or not key:
            raise ParameterError(f"bench {name}: --set {pair!r}: expected KEY=VALUE")
        if key not in params:
            known = ", ".join(f"{k}={params[k].default!r}" for k in params) or "none"
            raise ParameterError(f"bench {name}: unknown option {key!r}; it takes: {known}")
        try:
            value = ast.literal_eval(text)
        except (ValueError, SyntaxError):
            value = text
        if isinstance(params[key].default, tuple) and isinstance(value, str):
            value = tuple(v.strip() for v in value.split(",") if v.strip())
        elif isinstance(params[key].default, tuple) and not isinstance(value, (tuple, list)) and value is not None:
            value = (value,)  # one seed or weight: 'seeds=0' is the tuple (0,) the function iterates over
        options[key] = value
    return options


def _run_bench(args: argparse.Namespace) -> int:
    names = list(BENCHMARKS) if args.name == "all" else [args.name]
    pairs = list(args.set or [])
    if pairs and args.name == "all":
        print("--set applies to one benchmark, not to all", file=sys.stderr)
        return 2
    if args.name != "all" and args.name not in BENCHMARKS:  # before making --out: a typo leaves no empty folder
        print(f"unknown benchmark {args.name!r}; known: {', '.join(BENCHMARKS)}, all", file=sys.stderr)
        return 2
    out_dir = Path(args.out)
    made = [d for d in (out_dir, *out_dir.parents) if not d.exists()]  # removed again if one benchmark fails empty
    out_dir.mkdir(parents=True, exist_ok=True)
    rc = 1
    try:
        rc = _run_benchmarks(args, names, pairs, out_dir)
        return rc
    finally:  # a run stopped by bad input (a --set data= path not found, an unknown option) leaves no empty --out
        for folder in made if rc else ():
            try:
                folder.rmdir()  # only while empty: what a benchmark wrote before it failed is kept
            except OSError:
                break


def _run_benchmarks(args: argparse.Namespace, names: list[str], pairs: list[str], out_dir: Path) -> int:
    import inspect
    import traceback

    from facecraft.rigs.errors import FacecraftError, ParameterError
    from facecraft.rigs.machine import machine_facts

    failed: list[str] = []
    for name in names:
        module, func = BENCHMARKS[name].split(":")
        try:
            fn = getattr(importlib.import_module(module), func)
        except (ImportError, AttributeError) as e:
            print(f"benchmark {name}: not available ({e})", file=sys.stderr)
            if args.name != "all":
                return 2
            continue
        quick = []
        if args.quick and "quick" in inspect.signature(fn).parameters:
            quick = ["quick=True"]
        elif args.quick:  # the README: a benchmark's short variant where it has one
            print(f"[{name}] has no quick variant: it runs whole", file=sys.stderr)
        try:
            options = bench_options(fn, pairs + quick, name=name)
        except ParameterError as e:
            print(e, file=sys.stderr)
            return 2
        if args.name != "all":
            result = fn(out_dir=out_dir, **options)
        else:  # one benchmark that fails is named, and the rest still run (Ctrl-C stops them all)
            try:
                result = fn(out_dir=out_dir, **options)
            except Exception as e:  # noqa: BLE001 - any error of one benchmark
                if not isinstance(e, FacecraftError):
                    traceback.print_exc()
                print(f"[{name}] failed: {type(e).__name__}: {e}", file=sys.stderr)
                failed.append(name)
                continue
        if isinstance(result, dict):
            result.setdefault("machine", machine_facts())
            if options:
                result.setdefault("options", options)
        path = out_dir / f"{name}.json"
        path.write_text(json.dumps(result, indent=2, default=float))
        print(f"[{name}] results written to {path}")
    if failed:
        print(f"{len(failed)} of {len(names)} benchmarks failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


def _version() -> str:
    """The installed distribution's version (pyproject.toml), or "unknown" when it is not installed."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("facecraft")
    except PackageNotFoundError:
        return "unknown"


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The ``facecraft`` parser; given the ``command`` about to run, only its module's subcommands are added."""
    parser = argparse.ArgumentParser(prog="facecraft", description=__doc__.splitlines()[0].replace("``", ""))
    parser.add_argument("-v", "--verbose", action="store_true", help="log at INFO level")
    parser.add_argument("--version", action="version", version=f"facecraft {_version()}")
    sub = parser.add_subparsers(dest="command", required=True)
    bench = sub.add_parser("bench", help="run a benchmark and write its JSON")
    bench.add_argument("name", help=f"one of: {', '.join(BENCHMARKS)}, all")
    bench.add_argument("--out", default="outputs/bench", help="folder for JSON results and figures")
    bench.add_argument(
        "--set",
        action="append",
        metavar="KEY=VALUE",
        help="a keyword option of the benchmark's function (repeatable; e.g. edit: utk_limit=500); an unknown key "
        "lists the ones it takes",
    )
    bench.add_argument(
        "--quick", action="store_true", help="the quick variant where it has one (--set quick=True); others run whole"
    )
    bench.set_defaults(func=_run_bench)
    owners = [m for m, names in COMMAND_MODULES.items() if command in names]
    for module in [] if command == "bench" else owners or COMMAND_MODULES:
        try:
            mod = importlib.import_module(module)
        except ModuleNotFoundError as e:
            if e.name and module.startswith(e.name):
                continue  # that part has no commands yet
            raise
        mod.register(sub)
    for command_parser in sub.choices.values():  # `facecraft edit -v ...` as well as `facecraft -v edit ...`
        command_parser.add_argument(
            "-v", "--verbose", action="store_true", default=argparse.SUPPRESS, help="log at INFO level"
        )
    return parser


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    words = sys.argv[1:] if argv is None else argv
    parser = build_parser(next((w for w in words if not w.startswith("-")), None))
    args = parser.parse_args(argv)
    args.command_line = list(words)  # as typed, for what records a run (a model card's retraining command)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s"
    )
    from facecraft.rigs.errors import FacecraftError
    from facecraft.rigs.paths import file_in_the_way

    previous = signal.signal(signal.SIGTERM, _terminated)  # a killed run cleans up its part files as Ctrl-C does
    try:
        return int(args.func(args) or 0)
    except FacecraftError as e:
        print(f"facecraft: error: {e}", file=sys.stderr)
        return 1
    except OSError as e:  # the user's paths: a folder in the way, or one that cannot be made or written (read-only,
        # full, a mount gone); a read-only output folder went out as a traceback
        if e.filename is None:
            raise  # not about a path the user gave: a bug to see whole
        blocker = file_in_the_way(e.filename) if isinstance(e, (FileExistsError, NotADirectoryError)) else None
        if blocker is not None:  # `-o photo.jpg/out.png` said "File exists: photo.jpg"
            print(f"facecraft: error: cannot make the folder {blocker}: a file of that name is in the way",
                  file=sys.stderr)  # fmt: skip
            return 1
        print(f"facecraft: error: {e.strerror or e}: {e.filename}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:  # Ctrl-C: what finished is kept (batch work resumes on a rerun)
        again = ", run the same command again to resume" if args.command in RESUMABLE else ""
        print(f"facecraft: interrupted; finished outputs are kept{again}", file=sys.stderr)
        return 130
    finally:
        signal.signal(signal.SIGTERM, previous)


#: Commands whose rerun skips the work a previous, interrupted run finished (many files, folders, manifests).
RESUMABLE = frozenset({"animate", "edit", "batch", "augment", "a2f"})


def _terminated(signum, frame) -> None:
    raise KeyboardInterrupt


if __name__ == "__main__":
    sys.exit(main())
