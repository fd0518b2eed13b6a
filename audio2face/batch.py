"""Many voice lines in one process: models loaded once, a progress bar, failures reported, resumable.

A game or film pipeline animates hundreds of short lines. Starting ``facecraft animate`` once per line pays
the interpreter, torch and model start-up every time (about 2 s, more than the work itself for a 4 s line);
:func:`animate_batch` pays it once. Each input becomes ``OUT_DIR/<stem>.<format>``; an output that already
exists is skipped (so an interrupted run resumes) unless ``overwrite=True``; outputs are written to a
temporary name and renamed when complete, so a crash never leaves a file that a rerun would skip (an empty
file left by something else is redone). A file that fails is logged and listed in ``OUT_DIR/report.json`` with
its error, and the others are still done. The settings of a run (format, emotion, fps, mode, ...) are kept in
``OUT_DIR/.animate-<format>.json``: a rerun with other settings stops, unless ``overwrite`` redoes every file,
so that one folder never mixes lines animated two ways.
"""

from __future__ import annotations

import glob
import json
import logging
import os
import time
from collections.abc import Sequence
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
    within each input, duplicates (however named) dropped, order of the inputs kept. In a folder, a video beside
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


def output_paths(inputs: Sequence[Path], out_dir: Path, fmt: str) -> list[Path]:
    """``out_dir / <stem>.<fmt>`` for each input; two inputs with the same stem raise :class:`ParameterError`."""
    paths = [Path(out_dir) / f"{Path(i).stem}.{fmt}" for i in inputs]
    seen: dict[Path, Path] = {}
    for src, dst in zip(inputs, paths, strict=True):
        if dst in seen:
            raise ParameterError(
                f"{src} and {seen[dst]} would both be written to {dst}; rename one or animate them in separate runs"
            )
        seen[dst] = src
    return paths


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
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise ParameterError(f"output {out_dir} is a file: a batch writes into a folder (-o FOLDER/)")
    outputs = output_paths(files, out_dir, fmt)
    settings = _settings(fmt, rig, weights, flame_model, flame_embedding, options)
    check_run_settings(out_dir / f".animate-{fmt}.json", settings, overwrite=overwrite, made="animations")
    save_run_settings(out_dir / f".animate-{fmt}.json", settings)
    # load once, before the loop: every input reuses them
    if options.get("mode", "learned") == "learned":
        weights = resolve_model(weights)
    rig_obj = load_rig(rig) if fmt == "glb" else rig
    flame = None if flame_model is None else load_flame(flame_model, flame_embedding)
    report: dict = {"format": fmt, "out_dir": str(out_dir), "done": [], "skipped": [], "failed": []}
    for src, dst in tqdm(list(zip(files, outputs, strict=True)), desc="animate", unit="file", disable=not progress):
        if dst.exists() and dst.stat().st_size > 0 and not overwrite:
            report["skipped"].append({"input": str(src), "output": str(dst)})
            continue
        try:
            with atomic_output(dst, "partial", pid=False) as partial:
                anim = animate_file(src, partial, rig=rig_obj, weights=weights, flame_model=flame, **options)
        except Exception as e:  # noqa: BLE001 - one bad file must not stop the batch; it is reported
            log.error("%s: %s", src, e)
            report["failed"].append({"input": str(src), "error": f"{type(e).__name__}: {e}"})
            continue
        done = {"input": str(src), "output": str(dst), "frames": anim.num_frames, "fps": anim.fps}
        if anim.meta.get("silent"):
            done["warning"] = f"silent: {anim.meta['silent']}"
        elif anim.meta.get("levelled"):
            done["warning"] = f"quiet: {anim.meta['levelled']}"
        report["done"].append(done)
    report["seconds"] = round(time.perf_counter() - start, 3)
    report["seconds_per_done"] = round(report["seconds"] / len(report["done"]), 4) if report["done"] else None
    write_text_atomic(out_dir / REPORT_NAME, json.dumps(report, indent=2), "partial", pid=False)  # never half a report
    return report


def _settings(fmt: str, rig, weights, flame_model, flame_embedding, options: dict) -> dict:
    """What decides a batch's outputs, as JSON values (objects by their ``repr``)."""

    def plain(value):
        return value if value is None or isinstance(value, str | int | float | bool) else repr(value)

    given = {"format": fmt, "rig": rig, "weights": weights, "flame_model": flame_model,
             "flame_embedding": flame_embedding, **options}  # fmt: skip
    return {k: plain(os.fspath(v) if isinstance(v, os.PathLike) else v) for k, v in sorted(given.items())}
