"""``facecraft bench batch``: many voice lines four ways, the same files each way, and a kill in the middle.

A folder of short voice lines from the corpus voices (:func:`facecraft.audio2face.bench_batch.make_lines`,
four voices in turn) is animated, each run from a fresh process started as a user would start it, so wall
time includes everything a user waits for (interpreter, imports, model loading, writing files):

* ``one_process``: ``facecraft animate LINES/ -o OUT/`` (every line in one process), once per format in
  :data:`ONE_PROCESS_FORMATS`;
* ``local`` and ``ray``: ``facecraft batch animate MANIFEST --backend local|ray --workers 2``;
* ``per_file``: ``facecraft animate LINE -o FILE``, one process per line (on :data:`PER_FILE_LINES` lines
  spread evenly over the folder, unless ``per_file_lines`` says otherwise; figures are per line);
* ``kill_restart``: a ``local`` batch run is killed (SIGKILL to its process group: the driver and its workers)
  once half of its jobs are in its journal, then started again; the rerun must do exactly the rest, and the
  files must equal the uninterrupted run's.

Every output is compared, file by file, with the ``local`` run's (bytes: CSV and JSON are deterministic).
All runs use one torch thread per process (``OMP_NUM_THREADS=1``); wall time on a shared machine depends on
its load, so the figures also give the processes' CPU time (user + system), which depends on it less.
Rhubarb's 0.25 x real time is its stated speed (issue 15), not measured here.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

from facecraft.rigs.machine import machine_facts

log = logging.getLogger(__name__)

N_LINES = 200
PER_FILE_LINES = 40
WORKERS = 2
FORMAT = "csv"
ONE_PROCESS_FORMATS: tuple[str, ...] = ("csv", "glb")
#: Corpus voices (:data:`facecraft.audio2face.corpus.TRAIN_VOICES`) taken in turn, line by line.
VOICES: tuple[str, ...] = ("espeak:en-us+m1:155:40", "flite:slt:1.0", "espeak:en-us+f2:160:50", "flite:awb:1.0")


def _outputs(folder: Path, fmt: str) -> list[Path]:
    """The finished outputs in ``folder`` (not the hidden ``.NAME.partial.EXT`` files of unfinished jobs)."""
    return sorted(p for p in folder.glob(f"*.{fmt}") if not p.name.startswith("."))


def _digests(folder: Path, fmt: str) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in _outputs(folder, fmt)}


def _compare(mine: dict[str, str], reference: dict[str, str]) -> dict:
    """How ``mine`` (file name -> digest) matches ``reference``: same names, and which files differ."""
    common = sorted(set(mine) & set(reference))
    differ = [n for n in common if mine[n] != reference[n]]
    return {
        "files": len(mine),
        "compared": len(common),
        "identical": len(common) - len(differ),
        "differ": differ[:10],
        "missing": sorted(set(reference) - set(mine))[:10],
        "all_identical": not differ and set(mine) == set(reference),
    }


def _kill_restart(manifest: Path, out: Path, *, names: list[str], fmt: str, env: dict) -> dict:
    """Kill a local batch run once half its jobs (``names``: its output file names) are done, restart it, and
    account for every row."""
    from facecraft.apps.batch import REPORT_NAME, read_journal
    from facecraft.audio2face.bench_batch import facecraft_command, timed_run

    shutil.rmtree(out, ignore_errors=True)
    cmd = [*facecraft_command(), "batch", "animate", str(manifest), "--out", str(out), "--backend", "local",
           "--workers", str(WORKERS), "--format", fmt, "--no-progress"]  # fmt: skip
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 1800  # a guard against a hung run
    while proc.poll() is None and len(read_journal(out)) < len(names) // 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    finished_before_kill = proc.poll() is not None
    if not finished_before_kill:
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    present = [p.name for p in _outputs(out, fmt)]
    partials = sorted(p.name for p in out.glob(f".*.partial.{fmt}"))
    journal = read_journal(out)
    rerun = timed_run([*cmd[len(facecraft_command()) :]], env)
    report = json.loads((out / REPORT_NAME).read_text())
    done = [Path(r["output"]).name for r in report["done"]]
    skipped = [Path(r["output"]).name for r in report["skipped"]]
    return {
        "killed_after_jobs": len(journal),
        "finished_before_kill": finished_before_kill,
        "outputs_after_kill": len(present),
        "partial_files_after_kill": len(partials),
        "outputs_not_in_journal": sorted(set(present) - {Path(p).name for p in journal})[:10],
        "rerun": {**rerun, "done": len(done), "skipped": len(skipped), "failed": len(report["failed"])},
        "rerun_skipped_exactly_the_outputs_present": sorted(skipped) == present,
        "rerun_did_exactly_the_rest": sorted(done) == sorted(set(names) - set(present)),
        "every_row_once": len(done) + len(skipped) == len(names) and set(done) | set(skipped) == set(names),
        "partial_files_after_rerun": len(list(out.glob(f".*.partial.{fmt}"))),
    }


def bench_batch_runs(
    out_dir: Path,
    *,
    n_lines: int = N_LINES,
    per_file_lines: int = PER_FILE_LINES,
    fmt: str = FORMAT,
    one_process_formats: tuple[str, ...] = ONE_PROCESS_FORMATS,
    workers: int = WORKERS,
    ray: bool = True,
    kill: bool = True,
) -> dict:
    """Run the comparison of the module docstring under ``out_dir/batch``; print a table, return the figures.

    Returns
    -------
    dict
        ``lines``, ``audio_seconds``; ``runs``: per run ``wall_s``, ``cpu_s`` (user + system of the process
        and its children), ``s_per_line``, ``x_real_time`` (wall / audio), ``lines``, ``rc``;
        ``identical``: each run's files against ``local``'s; ``kill_restart``; ``vs_rhubarb``.
    """
    import soundfile as sf

    from facecraft.audio2face.bench_batch import RHUBARB_X_REAL_TIME, make_lines, one_thread_env, timed_run

    root = Path(out_dir) / "batch"
    lines = make_lines(root / "clips", n_lines=n_lines, voice=VOICES)
    durations = {p.stem: sf.info(p).duration for p in lines}
    audio_s = float(sum(durations.values()))
    manifest = root / "manifest.csv"
    manifest.write_text("input\n" + "".join(f"{p.resolve()}\n" for p in lines))
    env = one_thread_env(TRANSFORMERS_OFFLINE="1")
    runs: dict[str, dict] = {}

    def figures(run: dict, n: int, seconds_of_audio: float) -> dict:
        per_line = {"s_per_line": round(run["wall_s"] / n, 4), "cpu_s_per_line": round(run["cpu_s"] / n, 4)}
        return {**run, "lines": n, **per_line, "x_real_time": round(run["wall_s"] / seconds_of_audio, 5)}

    def batch_run(backend: str) -> dict:
        out = root / backend
        shutil.rmtree(out, ignore_errors=True)
        run = timed_run(["batch", "animate", str(manifest), "--out", str(out), "--backend", backend, "--workers",
                         str(workers), "--format", fmt, "--no-progress"], env)  # fmt: skip
        return figures(run, n_lines, audio_s)

    runs["local"] = batch_run("local")
    if ray:
        runs["ray"] = batch_run("ray")
    for f in one_process_formats:
        out = root / f"one_process_{f}"
        shutil.rmtree(out, ignore_errors=True)
        runs[f"one_process_{f}"] = figures(
            timed_run(["animate", str(root / "clips"), "-o", f"{out}/", "--format", f], env), n_lines, audio_s
        )
    step = max(1, n_lines // max(1, per_file_lines))
    sample = lines[::step][:per_file_lines]
    per_file_out = root / "per_file"
    shutil.rmtree(per_file_out, ignore_errors=True)
    per_file_out.mkdir(parents=True)
    singles = [timed_run(["animate", str(p), "-o", str(per_file_out / f"{p.stem}.{fmt}")], env) for p in sample]
    runs["per_file"] = figures(
        {"wall_s": round(sum(r["wall_s"] for r in singles), 2), "cpu_s": round(sum(r["cpu_s"] for r in singles), 2),
         "rc": max(r["rc"] for r in singles)},
        len(sample), float(sum(durations[p.stem] for p in sample)),
    )  # fmt: skip

    reference = _digests(root / "local", fmt)
    identical = {"ray": _compare(_digests(root / "ray", fmt), reference)} if ray else {}
    if fmt in one_process_formats:
        identical["one_process"] = _compare(_digests(root / f"one_process_{fmt}", fmt), reference)
    identical["per_file"] = _compare(_digests(per_file_out, fmt), {k: reference[k] for k in _digests(per_file_out, fmt)
                                                                    if k in reference})  # fmt: skip
    result = {
        "lines": n_lines,
        "format": fmt,
        "workers": workers,
        "voices": list(VOICES),
        "audio_seconds": {"total": round(audio_s, 2), "mean_per_line": round(audio_s / n_lines, 3)},
        "runs": runs,
        "identical_to_local": identical,
        "machine": machine_facts(),
        "threads_per_process": 1,
    }
    if kill:
        result["kill_restart"] = _kill_restart(
            manifest, root / "resumed", names=[f"{p.stem}.{fmt}" for p in lines], fmt=fmt, env=env
        )
        result["kill_restart"]["identical_to_local"] = _compare(_digests(root / "resumed", fmt), reference)
    best = min((r for k, r in runs.items() if k != "per_file"), key=lambda r: r["x_real_time"])
    result["vs_rhubarb"] = {
        "rhubarb_x_real_time": RHUBARB_X_REAL_TIME,
        "target_x_real_time": RHUBARB_X_REAL_TIME / 25,
        **{f"{k}_times_faster": round(RHUBARB_X_REAL_TIME / r["x_real_time"], 2) for k, r in runs.items()},
        "best_times_faster": round(RHUBARB_X_REAL_TIME / best["x_real_time"], 2),
        "note": "Rhubarb's speed as stated in issue 15, not measured on this machine",
    }
    _print(result)
    return result


def _print(r: dict) -> None:
    print(f"{r['lines']} lines, {r['audio_seconds']['total']:.0f} s of speech "
          f"({r['audio_seconds']['mean_per_line']:.2f} s per line), load {r['machine']['load_average']}")  # fmt: skip
    print(f"{'run':18s} {'lines':>5s} {'wall s':>8s} {'s/line':>8s} {'cpu s/line':>10s} {'x real time':>11s} "
          f"{'vs Rhubarb':>10s}")  # fmt: skip
    for name, run in r["runs"].items():
        print(f"{name:18s} {run['lines']:5d} {run['wall_s']:8.2f} {run['s_per_line']:8.4f} "
              f"{run['cpu_s_per_line']:10.4f} {run['x_real_time']:11.5f} "
              f"{r['vs_rhubarb'][f'{name}_times_faster']:9.2f}x")  # fmt: skip
    for name, c in r["identical_to_local"].items():
        print(f"{name} vs local: {c['identical']}/{c['compared']} files identical"
              + ("" if c["all_identical"] else f" (differ: {c['differ']}, missing: {c['missing']})"))  # fmt: skip
    if "kill_restart" in r:
        k = r["kill_restart"]
        print(f"kill/restart: killed after {k['killed_after_jobs']} jobs ({k['outputs_after_kill']} outputs, "
              f"{k['partial_files_after_kill']} partial files); rerun did {k['rerun']['done']}, skipped "
              f"{k['rerun']['skipped']}, failed {k['rerun']['failed']}; every row once: {k['every_row_once']}; "
              f"files identical to local: {k['identical_to_local']['all_identical']}")  # fmt: skip
