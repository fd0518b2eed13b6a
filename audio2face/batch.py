"""Many voice lines in one process: models loaded once, a progress bar, failures reported, resumable.

A game or film pipeline animates hundreds of short lines. Starting ``facecraft animate`` once per line pays
the interpreter, torch and model start-up every time (about 2 s, more than the work itself for a 4 s line);
:func:`animate_batch` pays it once. Each input becomes ``OUT_DIR/<stem>.<format>``; an output that already
exists is skipped (so an interrupted run resumes) unless ``overwrite=True``; outputs are written to a
temporary name and renamed when complete, so a crash never leaves a file that a rerun would skip (an empty
file left by something else is redone). A file that fails is logged and listed in ``OUT_DIR/report.json`` with
its error, and the others are still done; so is each input whose output another input has (``line1.wav`` and
``line1.mp3``: the lossless one is animated, :func:`output_paths`). The settings of a run (format, emotion, fps,
mode, ...) are kept in ``OUT_DIR/.animate-<format>.json``: a rerun with other settings stops, unless ``overwrite``
redoes every file, so that one folder never mixes lines animated two ways.
"""

from __future__ import annotations

import contextlib
import glob
import json
import logging
import os
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

from facecraft.rigs.errors import ParameterError
from facecraft.rigs.paths import atomic_output, write_text_atomic
from facecraft.rigs.run_settings import check_run_settings, save_run_settings

log = logging.getLogger(__name__)

FORMATS: tuple[str, ...] = ("glb", "csv", "npz", "json")
# The endings a folder is listed by: what load_audio reads (libsndfile's formats; through ffmpeg, compressed audio and
# a video's sound track). Videos were left out of folders without a word though a single one was animated.
# A training capture folder (train_data) is listed by SOUND_ONLY_SUFFIXES, the audio files alone, and by
# VIDEO_SUFFIXES for a take with curves but no audio file of its stem (Live Link Face's take.mov + take.csv).
# The original first: a capture take found in two videos is read from the first (train_data): .mov, Live Link Face's
# (and the iPhone camera's) own recording, over the .mp4 or .webm most likely converted from it.
VIDEO_SUFFIXES: tuple[str, ...] = (".mov", ".mp4", ".m4v", ".mkv", ".avi", ".webm")
# Lossless first: a capture take found in two formats is read from the first (train_data).
SOUND_ONLY_SUFFIXES: tuple[str, ...] = (".wav", ".flac", ".aiff", ".aif", ".ogg", ".mp3", ".m4a", ".aac", ".opus")
AUDIO_SUFFIXES: tuple[str, ...] = (*SOUND_ONLY_SUFFIXES, *VIDEO_SUFFIXES)
REPORT_NAME = "report.json"


def expand_inputs(inputs: Sequence[str | os.PathLike]) -> list[Path]:
    """Audio files named by ``inputs``: files as given, folders by their audio files (:data:`AUDIO_SUFFIXES`,
    videos included, not recursive), glob patterns (``*``, ``?``, ``[``; ``**`` recurses) by their matches; sorted
    within each input, duplicates (however named) dropped, order of the inputs kept; a folder's sub-folders that
    hold audio are named in a warning. In a folder, a video beside
    an audio file of the same stem (take.mov and the take.wav taken from it) is left out, with a warning: both would
    be written to one output.

    Raises
    ------
    ParameterError
        An input that matches nothing (the message names it).
    """
    out: list[Path] = []
    seen: set[Path] = set()
    for item in inputs:
        text = os.fspath(item)
        p = Path(text).expanduser()
        if p.is_dir():
            found = folder_audio_files(p)
            if not found:
                raise ParameterError(f"{p}: folder holds no audio files ({', '.join(AUDIO_SUFFIXES)})")
            found = _without_videos_of_audio(found)
            _say_subfolders_left(p)
        elif p.exists():
            found = [p]
        elif any(ch in text for ch in "*?["):
            found = sorted(Path(f) for f in glob.glob(os.path.expanduser(text), recursive=True) if Path(f).is_file())
            if not found:
                raise ParameterError(f"{text!r}: the pattern matches no file")
        else:
            found = [p]  # a missing file is reported as that file's failure, the others still run
        for f in found:  # one file named twice (a.wav and /abs/a.wav, or a glob and a name) is animated once
            if f.resolve() not in seen:
                seen.add(f.resolve())
                out.append(f)
    return out


def folder_audio_files(folder: Path) -> list[Path]:
    """The files of ``folder`` (not recursive) with an ending of :data:`AUDIO_SUFFIXES`, sorted; hidden files (a name
    starting with '.': macOS's ``._take.wav`` AppleDouble beside ``take.wav`` on a non-Mac disk, not audio) left out.
    The listing of folders to animate (:func:`expand_inputs`) and of training capture folders (train_data)."""
    return sorted(
        f for f in folder.iterdir() if f.is_file() and not f.name.startswith(".") and f.suffix.lower() in AUDIO_SUFFIXES
    )


def _say_subfolders_left(folder: Path) -> None:
    """Warn of ``folder``'s sub-folders that hold audio files: a folder is read one level deep, and a studio's
    ``lines/`` with ``lines/extra/`` had the sub-folder's lines left out without a word."""
    subs = sorted(
        d.name for d in folder.iterdir() if d.is_dir() and not d.name.startswith(".") and folder_audio_files(d)
    )
    if subs:
        log.warning("%s: %d sub-folder(s) with audio left out (%s): a folder is read one level deep; name them too, "
                    "or give a pattern such as '%s'", folder, len(subs), ", ".join(subs),
                    os.path.join(folder, "**", "*.wav"))  # fmt: skip


def _without_videos_of_audio(files: list[Path]) -> list[Path]:
    """``files`` less the videos whose stem is also an audio file's (the sound most likely taken from the video)."""
    sound = {f.stem: f for f in files if f.suffix.lower() not in VIDEO_SUFFIXES}
    kept = []
    for f in files:
        if f.suffix.lower() in VIDEO_SUFFIXES and f.stem in sound:
            log.warning("%s: left out, as %s has its name (both would be written to one output)", f, sound[f.stem].name)
        else:
            kept.append(f)
    return kept


def output_paths(inputs: Sequence[Path], out_dir: Path, fmt: str) -> tuple[list[tuple[Path, Path]], list[dict]]:
    """``(input, out_dir / <stem>.<fmt>)`` for each input, and the inputs that cannot have their output: of inputs
    with one stem (``line1.wav`` and ``line1.mp3``, or ``en/line1.wav`` and ``fr/line1.wav``) one is animated, the
    first by :data:`AUDIO_SUFFIXES` (lossless first, as a capture take found in two formats is read), then by input
    order; each other one is a ``{"input", "error"}`` failure that names both, so the rest of the batch is done (one
    such pair stopped every line of a folder before any work)."""
    rank = {suffix: i for i, suffix in enumerate(AUDIO_SUFFIXES)}
    order = sorted(range(len(inputs)), key=lambda i: (rank.get(Path(inputs[i]).suffix.lower(), len(rank)), i))
    owner: dict[Path, Path] = {}
    failed: dict[int, dict] = {}
    for i in order:
        src = Path(inputs[i])
        dst = Path(out_dir) / f"{src.stem}.{fmt}"
        if dst in owner:
            error = (f"ParameterError: not animated: it and {owner[dst]} would both be written to {dst}, which is "
                     f"{owner[dst].name}'s; rename one, or animate it in a separate run")  # fmt: skip
            failed[i] = {"input": str(src), "error": error}
        else:
            owner[dst] = src
    pairs = [(Path(src), Path(out_dir) / f"{Path(src).stem}.{fmt}") for i, src in enumerate(inputs) if i not in failed]
    return pairs, [failed[i] for i in sorted(failed)]


def _reason(src: Path, error: Exception) -> str:
    """``error`` as a report gives it, ``TypeName: message``, the message without a leading ``src: `` (the report
    and the printed line name the file already: "lines/a.wav: FileFormatError: lines/a.wav: ..." said it twice)."""
    text = str(error)
    for name in (str(src), os.fspath(Path(src))):
        if text.startswith(f"{name}: "):
            text = text[len(name) + 2 :]
            break
    return f"{type(error).__name__}: {text}"


def animate_batch(
    inputs: Sequence[str | os.PathLike],
    out_dir: str | os.PathLike,
    *,
    fmt: str = "glb",
    overwrite: bool = False,
    progress: bool = True,
    rig="default",
    weights=None,
    flame_model=None,
    flame_embedding=None,
    **options,
) -> dict:
    """Animate every input into ``out_dir`` in this process (see the module docstring).

    Parameters
    ----------
    inputs : files, folders or glob patterns (:func:`expand_inputs`).
    out_dir : output folder (created); also receives ``report.json``.
    fmt : ``"glb"``, ``"csv"``, ``"npz"`` or ``"json"``.
    overwrite : redo inputs whose output exists.
    progress : show a tqdm progress bar (on stderr).
    rig, weights, flame_model, flame_embedding : as :func:`facecraft.audio2face.animate.animate_file`; loaded
        once here.
    **options : the other keyword options of :func:`~facecraft.audio2face.animate.animate_file` (``emotion``,
        ``fps``, ``mode``, ``blink``, ``head``, ``gaze``, ...), the same for every input; ``video`` is not
        accepted.

    Returns
    -------
    dict
        The report also written to ``out_dir/report.json``: ``done`` / ``skipped`` (lists of
        ``{"input", "output"}``), ``failed`` (``{"input", "error"}``), a ``warning`` in a ``done`` entry
        whose input was silent (a neutral face was written) or very quiet (raised to be animated), ``format``,
        ``seconds`` (wall time of this call), ``seconds_per_done``.
    """
    from tqdm import tqdm
    from tqdm.contrib.logging import logging_redirect_tqdm

    from facecraft.rigs import load_rig

    from .animate import animate_file, load_flame, resolve_model

    if fmt not in FORMATS:
        raise ParameterError(f"format {fmt!r}: expected one of {', '.join(FORMATS)}")
    if "video" in options or "output_path" in options:
        raise ParameterError("a batch writes one animation file per input; --video takes a single input")
    start = time.perf_counter()
    files = expand_inputs(inputs)
    if not files:
        raise ParameterError("no input files given")
    as_folder = os.fspath(out_dir).endswith(("/", os.sep))  # out.csv/ asks for a folder
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise ParameterError(f"output {out_dir} is a file: a batch writes into a folder (-o FOLDER/)")
    named = out_dir.suffix.lower().lstrip(".")
    if named in FORMATS and not (as_folder or out_dir.exists()):  # a folder x.csv/ of .glb files was made unsaid
        raise ParameterError(f"output {out_dir} names a .{named} file, but a batch writes a folder, one file per "
                             f"input: give a folder (-o {out_dir.with_suffix('')}/ --format {named})")  # fmt: skip
    pairs, clashes = output_paths(files, out_dir, fmt)
    settings = _settings(fmt, rig, weights, flame_model, flame_embedding, options)
    check_run_settings(out_dir / f".animate-{fmt}.json", settings, overwrite=overwrite, made="animations")
    save_run_settings(out_dir / f".animate-{fmt}.json", settings)
    # load once, before the loop: every input reuses them
    if options.get("mode", "learned") == "learned":
        weights = resolve_model(weights)
    rig_obj = load_rig(rig) if fmt == "glb" else rig
    flame = None if flame_model is None else load_flame(flame_model, flame_embedding)
    report: dict = {"format": fmt, "out_dir": str(out_dir), "done": [], "skipped": [], "failed": []}
    said_before = _earlier_warnings(out_dir / REPORT_NAME)
    for clash in clashes:
        log.error("%s: %s", clash["input"], clash["error"])
    report["failed"] += clashes
    # log records (a failed file, a silent one) printed through the bar, each on its own line, not after its text
    with logging_redirect_tqdm():
        for src, dst in tqdm(pairs, desc="animate", unit="file", disable=not progress):
            if dst.exists() and dst.stat().st_size > 0 and not overwrite:
                # a rerun keeps what the run that made it said of it (a silent input, a quiet one raised)
                report["skipped"].append({"input": str(src), "output": str(dst), **said_before.get(str(dst), {})})
                continue
            try:
                with atomic_output(dst, "partial", pid=False) as partial, _warnings_said() as said:
                    # no speech check (warn_little_speech): at 29 ms a 3.6 s line it would cost more than the
                    # animation itself (18 ms a line, bench a2f-batch)
                    anim = animate_file(src, partial, rig=rig_obj, weights=weights, flame_model=flame, **options)
            except Exception as e:  # noqa: BLE001 - one bad file must not stop the batch; it is reported
                reason = _reason(src, e)
                log.error("%s: %s", src, reason)
                report["failed"].append({"input": str(src), "error": reason})
                continue
            report["done"].append(_done_entry(src, dst, anim, said))
    report["seconds"] = round(time.perf_counter() - start, 3)
    report["seconds_per_done"] = round(report["seconds"] / len(report["done"]), 4) if report["done"] else None
    write_text_atomic(out_dir / REPORT_NAME, json.dumps(report, indent=2), "partial", pid=False)  # never half a report
    return report


def _earlier_warnings(report_path: Path) -> dict[str, dict]:
    """``{output: {"warning"/"warnings": ...}}`` of the outputs an earlier run's report says were made with warnings
    (its ``done`` entries, and its ``skipped`` ones that kept them); none when there is no readable report."""
    try:
        earlier = json.loads(report_path.read_text())
        entries = [*earlier.get("done", []), *earlier.get("skipped", [])]
        return {e["output"]: {k: e[k] for k in ("warning", "warnings") if k in e} for e in entries
                if isinstance(e, dict) and "output" in e and ("warning" in e or "warnings" in e)}  # fmt: skip
    except (OSError, ValueError, AttributeError, TypeError):
        return {}


def _done_entry(src: Path, dst: Path, anim, said: list[str] | None = None) -> dict:
    """A ``done`` entry of the report, with a ``warning`` for a silent or a very quiet input and ``warnings``, every
    warning logged while it was animated (a transcript that fits the sound poorly, the quiet line raised, ...)."""
    done = {"input": str(src), "output": str(dst), "frames": anim.num_frames, "fps": anim.fps}
    if anim.meta.get("silent"):
        done["warning"] = f"silent: {anim.meta['silent']}"
    elif anim.meta.get("levelled"):
        done["warning"] = f"quiet: {anim.meta['levelled']}"
    if said:
        done["warnings"] = [w.removeprefix(f"{src}: ") for w in said]  # the entry names its input
    return done


@contextlib.contextmanager
def _warnings_said() -> Iterator[list[str]]:
    """The warnings facecraft logs during the block, as text: a batch's report keeps each file's (one file's run
    shows them; in a batch of many they scrolled past)."""
    said: list[str] = []

    class _Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            said.append(record.getMessage())

    keep = _Keep(logging.WARNING)
    root = logging.getLogger("facecraft")
    root.addHandler(keep)
    try:
        yield said
    finally:
        root.removeHandler(keep)


def _settings(fmt: str, rig, weights, flame_model, flame_embedding, options: dict) -> dict:
    """What decides a batch's outputs, as JSON values (objects by their ``repr``)."""

    def plain(value):
        return value if value is None or isinstance(value, str | int | float | bool) else repr(value)

    given = {"format": fmt, "rig": rig, "weights": weights, "flame_model": flame_model,
             "flame_embedding": flame_embedding, **options}  # fmt: skip
    return {k: plain(os.fspath(v) if isinstance(v, os.PathLike) else v) for k, v in sorted(given.items())}
