"""``facecraft bench a2f-batch``: wall time per voice line, one process for a folder vs one process per file.

A folder of short synthetic voice lines (:class:`~facecraft.audio2face.corpus.Synthesizer`, sentences from the
shipped list) is animated twice in the same run, each time from a fresh ``facecraft animate`` process as a
user would start it: once as one batch (``facecraft animate FOLDER -o OUT/``) and once with one process per
line. Wall time includes everything a user waits for (interpreter, imports, model loading, writing files).
Both runs use the same settings and one torch thread (``OMP_NUM_THREADS=1``), so the figures compare the
start-up cost, not the scheduling of a shared machine.
"""

from __future__ import annotations

import json
import logging
import os
import resource
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from facecraft.rigs.errors import ParameterError
from facecraft.rigs.machine import machine_facts
from facecraft.rigs.paths import atomic_output

log = logging.getLogger(__name__)

DEFAULT_VOICE = "espeak:en-us+m1:155:40"
RHUBARB_X_REAL_TIME = 0.25  # Rhubarb Lip Sync's reported speed (issue 15): 0.25 s of work per second of audio


def make_lines(
    folder: Path, *, n_lines: int, voice: str | Sequence[str] = DEFAULT_VOICE, max_words: int = 12
) -> list[Path]:
    """``n_lines`` wav files (16 kHz) of short sentences from the shipped list, spoken by ``voice`` (a corpus
    voice spec, or several taken in turn, line ``i`` by ``voice[i % len(voice)]``); reused when present.

    Written under a temporary name and renamed, so an interrupted run never leaves a truncated line behind.
    """
    import soundfile as sf

    from .audio import SAMPLE_RATE
    from .corpus import Synthesizer, load_sentences

    folder.mkdir(parents=True, exist_ok=True)
    sentences = [s for s in load_sentences() if len(s.split()) <= max_words][:n_lines]
    if len(sentences) < n_lines:
        raise ParameterError(f"n_lines={n_lines}: the sentence list has only {len(sentences)} of <= {max_words} words")
    voices = [voice] if isinstance(voice, str) else list(voice)
    synths = [Synthesizer(v) for v in voices]
    paths = []
    for i, text in enumerate(sentences):
        path = folder / f"line_{i:03d}.wav"
        if not path.exists():
            with atomic_output(path, "partial", pid=False) as tmp:
                sf.write(tmp, synths[i % len(synths)](text, seed=i), SAMPLE_RATE)
        paths.append(path)
    return paths


def facecraft_command() -> list[str]:
    """The ``facecraft`` command as a user's shell would run it, from this interpreter."""
    return [sys.executable, "-m", "facecraft.apps.cli"]


def one_thread_env(**extra: str) -> dict:
    """This process's environment with one torch/BLAS thread and no hub access: every timed run uses it."""
    return {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1", **extra}


def timed_run(args: list[str], env: dict) -> dict:
    """Run ``facecraft ARGS`` in a fresh process: ``wall_s``, ``cpu_s`` (user + system of the process and the
    children it waited for) and ``rc``; a failure is logged with the end of its stderr."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run([*facecraft_command(), *args], env=env, capture_output=True, text=True, check=False)
    took = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        log.warning("facecraft %s failed (%d): %s", " ".join(args), proc.returncode, proc.stderr[-500:])
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"wall_s": round(took, 3), "cpu_s": round(cpu, 3), "rc": proc.returncode}


def _run(args: list[str], env: dict) -> dict:
    return timed_run(["animate", *args], env)


def bench_batch(out_dir: Path, *, n_lines: int = 40, fmt: str = "glb", voice: str = DEFAULT_VOICE) -> dict:
    """Wall time per line, one batch process vs one process per line (see the module docstring).

    Returns a dict: ``lines``, ``audio_seconds`` (total and mean per line), ``one_process`` and
    ``process_per_file`` (``wall_s``, ``s_per_line``, ``x_real_time`` = wall time / audio time, ``cpu_s`` and
    ``cpu_x_real_time`` for user + system time), ``speedup``
    (per-file wall / batch wall), and ``vs_rhubarb`` (Rhubarb's reported 0.25 x real time over ours; not
    measured here).
    """
    import soundfile as sf

    root = Path(out_dir) / "a2f-batch"
    lines = make_lines(root / "lines", n_lines=n_lines, voice=voice)
    audio_s = float(sum(sf.info(p).duration for p in lines))
    env = one_thread_env()

    batch_out = root / "batch"
    batch = _run([str(root / "lines"), "-o", f"{batch_out}/", "--format", fmt, "--overwrite"], env)
    report = json.loads((batch_out / "report.json").read_text()) if (batch_out / "report.json").exists() else {}

    single_out = root / "per_file"
    single_out.mkdir(parents=True, exist_ok=True)
    runs = [_run([str(p), "-o", str(single_out / f"{p.stem}.{fmt}")], env) for p in lines]
    single = {key: sum(r[key] for r in runs) for key in ("wall_s", "cpu_s")}

    def row(run: dict) -> dict:
        wall, cpu = run["wall_s"], run["cpu_s"]
        return {"wall_s": round(wall, 2), "s_per_line": round(wall / len(lines), 3),
                "x_real_time": round(wall / audio_s, 4), "cpu_s": round(cpu, 2),
                "cpu_x_real_time": round(cpu / audio_s, 4)}  # fmt: skip

    result = {
        "lines": len(lines),
        "format": fmt,
        "voice": voice,
        "audio_seconds": {"total": round(audio_s, 2), "mean_per_line": round(audio_s / len(lines), 2)},
        "one_process": {
            **row(batch),
            "failed": len(report.get("failed", [])),
            "in_process_s": report.get("seconds"),
        },  # fmt: skip
        "process_per_file": row(single),
        "speedup": round(single["wall_s"] / batch["wall_s"], 2),
        "vs_rhubarb": {
            "rhubarb_x_real_time": RHUBARB_X_REAL_TIME,
            "batch_times_faster": round(RHUBARB_X_REAL_TIME / (batch["wall_s"] / audio_s), 2),
            "batch_times_faster_cpu": round(RHUBARB_X_REAL_TIME / (batch["cpu_s"] / audio_s), 2),
            "note": "Rhubarb's speed as stated in issue 15, not measured on this machine; _cpu: our CPU time (user +"
            " system) instead of wall time, which a loaded machine inflates",
        },  # fmt: skip
        "threads": 1,
        "machine": machine_facts(),
        "command": " ".join(["facecraft", "animate", "LINES/", "-o", "OUT/", "--format", fmt]),
        "mean_frames": float(np.mean([d["frames"] for d in report.get("done", [])] or [0])),
    }
    return result
