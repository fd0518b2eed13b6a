"""``facecraft batch animate|edit|augment MANIFEST --out DIR --backend local|ray``: many jobs, one report.

A manifest lists one job per row (CSV with a header, or JSON Lines): the ``input`` file and that job's
options (animate: ``emotion``, ``emotion_track``, ``transcript``, ``mode``, ``fps``; edit: ``emotion``,
``text``, ``au``, ``arkit``, ``absolute``, ``keep_glasses``, ``face``; augment: ``targets``, ``label``,
``per_image``, ``size``, ``grey``, ``seed``; all: ``output``, a file name inside ``--out``). Relative inputs (and an
``emotion_track`` file) are read from the manifest's folder.

An augment row is one face photo or crop given to :func:`facecraft.eval.augment.augment_source` (the editor's
variants toward each target emotion, judged and identity-checked): its accepted crops go to
``OUT/<emotion>/<name>_<emotion><k>.png`` and the record of every variant (scores, verdict, file) to
``OUT/<name>.json``, the job's output, written last; a source without a face is a failed row.

* **Resumable.** A job whose output exists is skipped (unless its row's input or options changed since the journal
  recorded it: then it is made again, a warning says so and the report lists it under ``redone``); outputs are
  written under a temporary name
  (``.NAME.partial.EXT``) and renamed when complete, so a killed run leaves no half file under an output's
  name, and a rerun finishes only the rest (and removes the temporary files a kill left behind).
* **One failure never stops the run.** Each job's error is caught in the worker and reported with its reason;
  ``OUT/batch-report.json`` lists done, skipped and failed jobs.
* **The report survives a kill.** Each finished job is appended to ``OUT/.batch-journal.jsonl`` as it
  completes; a rerun lists the jobs it skips with their earlier records, so the report after a restart
  accounts for every row once. The report itself is written atomically, also when the run is interrupted
  (Ctrl-C: ``"interrupted": true``).
* **Backends.** ``local``: a process pool (``--workers``), each worker loading its models once (the editor
  and the speech model are cached per process). ``ray``: the same job function as Ray tasks, on a local Ray
  started for the run (``ray.init()``) or an existing cluster (``--address``); Ray reuses its worker
  processes, so models load once per worker there too. Both run torch on one thread per job, so the two
  backends write identical files.

Ray is optional (``pip install 'facecraft[ray]'``); the ``ray`` backend says so when it is missing.
"""

from __future__ import annotations

import argparse
import csv
import json
import logging
import os
import signal
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from facecraft.rigs.animation import frame_rate
from facecraft.rigs.errors import MissingFileError, OptionalDependencyError, ParameterError
from facecraft.rigs.machine import spawn_pool
from facecraft.rigs.paths import atomic_output, part_path, write_text_atomic

log = logging.getLogger(__name__)

KINDS: tuple[str, ...] = ("animate", "edit", "augment")
BACKENDS: tuple[str, ...] = ("local", "ray")
REPORT_NAME = "batch-report.json"
#: The part files of jobs and reports (:func:`~facecraft.rigs.paths.part_path`): no pid, so that a rerun finds and
#: removes what a killed worker left.
PARTIAL = {"tag": "partial", "pid": False}
JOURNAL_NAME = ".batch-journal.jsonl"  # one JSON line per finished job, appended as each completes
ANIMATE_FORMATS: tuple[str, ...] = ("npz", "csv", "json", "glb")
#: Per-row options each kind accepts (besides ``input`` and ``output``).
OPTIONS: dict[str, tuple[str, ...]] = {
    "animate": ("emotion", "emotion_track", "transcript", "mode", "fps"),
    "edit": ("emotion", "text", "au", "arkit", "absolute", "keep_glasses", "face"),
    "augment": ("targets", "label", "per_image", "size", "grey", "seed"),
}
#: The output file of one job, by kind (animate: the ``--format`` given).
SUFFIXES: dict[str, str] = {"edit": ".png", "augment": ".json"}


@dataclass(frozen=True)
class Job:
    """One manifest row: where it is (1-based ``row``), its input, options, and its output path."""

    row: int
    input: str
    output: str
    options: dict = field(default_factory=dict)
    #: Why the row cannot run (no input, an unknown column): reported as failed, the other rows still run.
    error: str | None = None


# ---------------------------------------------------------------------------------------------- manifest
def _rows(path: Path) -> Iterable[tuple[int, dict]]:
    if path.suffix.lower() in (".jsonl", ".ndjson"):
        # utf-8-sig, as the CSV: Notepad's "UTF-8 with BOM" starts line 1 with one (and the locale's codec is no
        # JSON's: a cp1252 Windows read a non-ASCII path as mojibake)
        for n, line in enumerate(path.read_text(encoding="utf-8-sig").splitlines(), start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as e:
                raise ParameterError(f"{path} line {n}: not JSON ({e.msg})") from e
            if not isinstance(row, dict):
                raise ParameterError(f"{path} line {n}: expected a JSON object, got {type(row).__name__}")
            yield n, row
    elif path.suffix.lower() == ".csv":
        with open(path, newline="", encoding="utf-8-sig") as f:  # a spreadsheet's "CSV UTF-8" starts with a BOM
            for n, row in enumerate(csv.DictReader(f), start=2):  # row 1 is the header
                extra = row.pop(None, None)  # values past the header's columns: a misplaced comma, not to drop
                values = {k.strip().lower(): v.strip() for k, v in row.items() if k and v is not None and v.strip()}
                if extra and any(str(x).strip() for x in extra):
                    values["<values past the header>"] = ",".join(extra)
                yield n, values
    else:
        raise ParameterError(f"manifest {path}: expected a .csv (with a header) or .jsonl file")


#: Per-row options that may name a file: read from the manifest's folder when relative, as ``input`` is.
FILE_OPTIONS: tuple[str, ...] = ("emotion_track",)


def _beside_manifest(options: dict, folder: Path) -> dict:
    """``options`` with a relative file named by :data:`FILE_OPTIONS` made the manifest's folder's (an emotion track
    ``../tracks/t1.json`` was looked for from the current folder while the row's input was found beside the
    manifest); inline JSON (``[{"t": 0, ...}]``) stays as it is."""
    for key in FILE_OPTIONS:
        value = options.get(key)
        if isinstance(value, str) and value.strip() and value.strip()[0] not in "[{":
            given = Path(value.strip()).expanduser()
            options[key] = str(given if given.is_absolute() else folder / given)
    return options


def read_manifest(path, *, kind: str, out_dir, fmt: str = "npz") -> list[Job]:
    """The jobs of a manifest, each with its output path in ``out_dir``.

    A row without ``input``, with an unknown column or writing over the run's own files is a job that carries
    its ``error`` (reported as failed; the other rows run).

    Raises
    ------
    ParameterError
        Unknown kind or format, two rows writing the same output, or no row at all.
    """
    if kind not in OPTIONS:
        raise ParameterError(f"batch kind {kind!r}: expected one of {', '.join(OPTIONS)}")
    if kind == "animate" and fmt not in ANIMATE_FORMATS:
        raise ParameterError(f"--format {fmt!r}: expected one of {', '.join(ANIMATE_FORMATS)}")
    path = Path(path)
    if not path.is_file():
        raise MissingFileError(f"manifest not found: {path}")
    out_dir = Path(out_dir).resolve()
    suffix = f".{fmt}" if kind == "animate" else SUFFIXES[kind]
    jobs: list[Job] = []
    seen: dict[str, int] = {}
    for row_no, row in _rows(path):
        row = {str(k).strip().lower(): v for k, v in row.items()}
        src = str(row.pop("input", "") or "").strip()
        error = None
        unknown = sorted(set(row) - set(OPTIONS[kind]) - {"output"})
        if not src:
            error = f"{path} row {row_no}: no 'input'"
        elif unknown:
            error = (f"{path} row {row_no}: unknown column(s) {unknown} for {kind}; expected input, output, "
                     f"{', '.join(OPTIONS[kind])}")  # fmt: skip
        given = Path(str(row.pop("output", "") or "")).name
        # An output named after the input always takes the kind's ending: the stem of 'x.jpg.chip.jpg' (every
        # UTKFace file) or 'take.v2.wav' has a dot of its own, which read as an ending wrote 'x.jpg.chip'.
        name = given or Path(src or f"row{row_no}").stem + suffix
        out = str(out_dir / (name if Path(name).suffix else name + suffix))
        if Path(out).name in (REPORT_NAME, JOURNAL_NAME):
            error = error or f"{path} row {row_no}: output {Path(out).name!r} is the batch's own file; rename it"
        if kind == "animate" and Path(out).suffix.lower().lstrip(".") not in ANIMATE_FORMATS:
            # found here, not by the writer: its error named the hidden part file (.h.partial.xyz)
            error = error or (f"{path} row {row_no}: output {Path(out).name!r}: an animation is written as "
                              f"{', '.join('.' + f for f in ANIMATE_FORMATS)}")  # fmt: skip
        if out in seen and error is None:
            raise ParameterError(f"{path}: rows {seen[out]} and {row_no} would both write {out}")
        seen.setdefault(out, row_no)
        src_path = Path(src).expanduser()
        full = src_path if src_path.is_absolute() else (path.parent / src_path)
        jobs.append(Job(row_no, str(full), out, _beside_manifest(dict(row), path.parent), error))
    if not jobs:
        raise ParameterError(f"manifest {path} lists no job")
    return jobs


# ---------------------------------------------------------------------------------------------- one job
@lru_cache(maxsize=1)
def _editor():
    from facecraft.synth.editor import FaceEditor

    return FaceEditor()


@lru_cache(maxsize=1)
def _default_rig():
    from facecraft.rigs import load_rig

    return load_rig("default")


@lru_cache(maxsize=1)
def _one_thread() -> None:
    """One thread for torch and the BLAS/OpenMP pools, in every worker of every backend (Ray already sets
    ``OMP_NUM_THREADS=1`` for one-CPU tasks; a local pool does not): the same sums in the same order, so both
    backends write the same bytes."""
    import torch
    from threadpoolctl import threadpool_limits

    torch.set_num_threads(1)
    threadpool_limits(limits=1)


def _animate(job: Job, partial: Path) -> dict:
    from facecraft.audio2face.animate import animate_file

    opts = dict(job.options)
    if "fps" in opts:
        try:
            opts["fps"] = frame_rate(opts["fps"])
        except argparse.ArgumentTypeError as e:
            raise ParameterError(f"fps: {e}") from None
    rig = _default_rig() if partial.suffix == ".glb" else None
    anim = animate_file(job.input, partial, rig=rig, **opts)
    return {"frames": anim.num_frames, "fps": anim.fps}


def _flag(value, name: str) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text not in ("1", "0", "true", "false", "yes", "no"):
        raise ParameterError(f"{name}: expected true or false, got {value!r}")
    return text in ("1", "true", "yes")


def _face_number(value) -> int:
    """A row's ``face``: a whole number (JSON's 0.7 was cut to face 0, a CSV's "0.7" failed unnamed)."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = float("nan")
    if not number.is_integer():
        raise ParameterError(f"face: expected a face number (0 = the largest), got {value!r}")
    return int(number)


def _edit(job: Job, partial: Path) -> dict:
    from facecraft.eval.images import load_image_with_traits, save_image
    from facecraft.synth.controls import EditControls

    opts = dict(job.options)
    for key in ("au", "arkit"):
        if isinstance(opts.get(key), str):
            opts[key] = opts[key].replace(";", ",")
    face = opts.pop("face", None)
    face = None if face in (None, "") else _face_number(face)
    for key in ("absolute", "keep_glasses"):
        if key in opts:
            opts[key] = _flag(opts[key], key)
    image, traits = load_image_with_traits(job.input)
    result = _editor().edit(
        image, EditControls.from_args(**opts), face=face, name=Path(job.input).name, alpha=traits.alpha
    )  # a cut-out's alpha moves with the face (written opaque where changed, white showed where the outline moved)
    save_image(result.image, partial, like=traits, changed=result.mask, name=str(job.output), alpha=result.alpha)
    return {"faces": len(result.faces)}


@lru_cache(maxsize=1)
def _augmenter():
    from facecraft.eval.augment import Augmenter

    return Augmenter()


def _write_png_atomic(image, path: Path) -> None:
    from PIL import Image

    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_output(path, **PARTIAL) as tmp:
        Image.fromarray(image).save(tmp, format="PNG")


def _augment(job: Job, partial: Path) -> dict:
    import copy
    from dataclasses import replace

    from facecraft.eval.augment import OutputFormat, SourceFace, augment_source
    from facecraft.eval.augment_filter import parse_targets
    from facecraft.rigs import normalize_emotion
    from facecraft.rigs.errors import FacecraftError

    opts = dict(job.options)
    targets = parse_targets(str(opts.get("targets", "all")).replace(";", ","))
    label = normalize_emotion(opts["label"]) if opts.get("label") else None
    base = _augmenter()
    fmt = OutputFormat(size=int(opts.get("size", 48)), grey=_flag(opts.get("grey", True), "grey"))
    augmenter = copy.copy(base)  # the same loaded models, this row's settings
    augmenter.config = replace(base.config, per_image=int(opts.get("per_image", base.config.per_image)),
                               seed=int(opts.get("seed", base.config.seed)), format=fmt)  # fmt: skip
    name = Path(job.output).stem
    records = augment_source(SourceFace(id=name, label=label, path=job.input), targets, augmenter=augmenter)
    if len(records) == 1 and records[0]["target"] is None:
        raise FacecraftError(f"{job.input}: {records[0]['reason']}")
    out_dir = Path(job.output).parent
    for rec in records:
        crop = rec.pop("crop", None)
        if crop is not None:
            path = out_dir / rec["target"] / f"{name}_{rec['target']}{rec['variant']}.png"
            _write_png_atomic(crop, path)
            rec["file"] = str(path)
    partial.write_text(json.dumps({"input": job.input, "targets": list(targets), "variants": records}, indent=1,
                                  default=float))  # fmt: skip
    return {"variants": len(records), "accepted": sum(bool(r["accepted"]) for r in records)}


RUNNERS: dict[str, Callable[[Job, Path], dict]] = {"animate": _animate, "edit": _edit, "augment": _augment}


def _plain(options: dict) -> dict:
    """A job's options as its journal line holds them (JSON values), to compare a rerun's row with."""
    return json.loads(json.dumps(options, default=str))


def _changed(job: Job, earlier: dict[str, dict]) -> bool:
    """Whether ``job``'s output was made from another input or other options, by the journal's record of it (an
    output without one, or from a journal that kept no options, counts as the job's own)."""
    record = earlier.get(job.output)
    if record is None or "options" not in record:
        return False
    return record["input"] != job.input or record["options"] != _plain(job.options)


def partial_path(output: str | os.PathLike) -> Path:
    """Where a job's output is written before the rename that completes it (a hidden file beside it)."""
    return part_path(output, **PARTIAL)


def run_job(kind: str, job: Job) -> dict:
    """Do one job and write its output atomically; never raises (errors come back as ``status: failed``)."""
    _one_thread()
    out = Path(job.output)
    t0 = time.perf_counter()
    record = {"row": job.row, "input": job.input, "output": job.output, "options": _plain(job.options),
              "worker": os.getpid()}  # fmt: skip
    try:  # on any error, Ctrl-C or a stop included, no half file stays behind (atomic_output removes it)
        out.parent.mkdir(parents=True, exist_ok=True)
        with atomic_output(out, **PARTIAL) as partial:
            info = RUNNERS[kind](job, partial)
    except Exception as e:  # noqa: BLE001 - one bad row must not stop the batch; it is reported
        return {**record, "status": "failed", "error": f"{type(e).__name__}: {e}"}
    return {**record, "status": "done", "seconds": round(time.perf_counter() - t0, 3), **info}


# ---------------------------------------------------------------------------------------------- backends
def _run_local(kind: str, jobs: list[Job], *, workers: int, tick: Callable[[dict], None]) -> None:
    if workers <= 1:
        for job in jobs:
            tick(run_job(kind, job))
        return
    # A worker that dies (the out-of-memory killer, a crash in native code) breaks the whole pool: every job not yet
    # finished comes back as BrokenProcessPool, without telling which one it was. Those that may have started
    # (the first 2 * workers + 1 unfinished, as the pool hands jobs out in order: one running per worker, workers + 1
    # queued) are run again one at a time, so a job that kills its worker again is a failed row of its own; the
    # others go back to a new pool.
    while jobs:
        jobs = _run_pool(kind, jobs, workers=workers, tick=tick)
        suspects, jobs = jobs[: 2 * workers + 1], jobs[2 * workers + 1 :]
        if suspects:
            log.warning("a worker process died; running the %d job(s) it may have held one at a time", len(suspects))
            _run_one_by_one(kind, suspects, tick=tick)


def _worker_died(job: Job, why: str) -> dict:
    """The failed record of a job whose worker process died under it (the half file it left is removed)."""
    partial_path(job.output).unlink(missing_ok=True)
    return {"row": job.row, "input": job.input, "output": job.output, "status": "failed",
            "error": f"its worker process died ({why})"}  # fmt: skip


def _run_pool(kind: str, jobs: list[Job], *, workers: int, tick: Callable[[dict], None]) -> list[Job]:
    """Run ``jobs`` on a pool of ``workers`` processes; returns those left unfinished when a worker died (in the
    order given), else ``[]``."""
    from concurrent.futures import as_completed
    from concurrent.futures.process import BrokenProcessPool

    pool = spawn_pool(workers)
    futures = {pool.submit(run_job, kind, job): i for i, job in enumerate(jobs)}
    ticked: set = set()
    broken: set[int] = set()
    try:
        for fut in as_completed(futures):
            if isinstance(fut.exception(), BrokenProcessPool):
                broken.add(futures[fut])
                continue
            ticked.add(fut)
            tick(fut.result())
    except BaseException:
        # stopped: queued jobs are dropped; jobs already running finish (their outputs are complete files)
        # and are reported, so the journal knows every output there is
        pool.shutdown(wait=True, cancel_futures=True)
        for fut in futures:
            if fut not in ticked and fut.done() and not fut.cancelled() and fut.exception() is None:
                tick(fut.result())
        raise
    pool.shutdown()
    return [job for i, job in enumerate(jobs) if i in broken]


def _run_one_by_one(kind: str, jobs: list[Job], *, tick: Callable[[dict], None]) -> None:
    """Each job alone in a one-worker pool (kept while its jobs end normally), so a worker's death names its job."""
    from concurrent.futures.process import BrokenProcessPool

    pool = spawn_pool(1)
    for job in jobs:
        fut = pool.submit(run_job, kind, job)
        try:
            record = fut.result()
        except BrokenProcessPool:
            pool.shutdown()
            pool = spawn_pool(1)
            record = _worker_died(job, "killed by a signal, as by the out-of-memory killer, or crashed in native code")
        except BaseException:  # stopped: the running job finishes and is reported, as in _run_pool
            pool.shutdown(wait=True)
            if fut.done() and fut.exception() is None:
                tick(fut.result())
            raise
        tick(record)
    pool.shutdown()


def _ray():
    """Ray, imported only when that backend runs (the ``ray`` extra)."""
    try:
        import ray
    except ImportError as e:
        raise OptionalDependencyError("--backend ray needs Ray: pip install 'facecraft[ray]' (ray==2.60.0)") from e
    return ray


def _run_ray(kind: str, jobs: list[Job], *, workers: int, address: str | None, tick: Callable[[dict], None]) -> dict:
    ray = _ray()
    started = not ray.is_initialized()
    if started:
        if address:
            ray.init(address=address, log_to_driver=False)
        else:
            ray.init(num_cpus=max(1, workers), include_dashboard=False, log_to_driver=False)
    try:
        task = ray.remote(num_cpus=1, max_retries=0)(run_job)
        refs = {task.remote(kind, job): job for job in jobs}
        pending = list(refs)
        while pending:
            ready, pending = ray.wait(pending, num_returns=1)
            for ref in ready:
                try:
                    record = ray.get(ref)
                except ray.exceptions.RayError as e:  # run_job never raises: its worker died (Ray's OOM killer ...)
                    record = _worker_died(refs[ref], f"{type(e).__name__}: {str(e).strip().splitlines()[0]}")
                tick(record)
        return {"ray_nodes": len(ray.nodes()), "ray_cpus": ray.cluster_resources().get("CPU", 0)}
    finally:
        if started:
            ray.shutdown()


def read_journal(out_dir) -> dict[str, dict]:
    """The finished-job records of earlier runs into ``out_dir`` (:data:`JOURNAL_NAME`), by output path.

    A line cut short by a kill is ignored (that job's output was renamed into place before its line was
    written, or it was not, and then the job is redone).
    """
    path = Path(out_dir) / JOURNAL_NAME
    records: dict[str, dict] = {}
    if not path.is_file():
        return records
    for line in path.read_text().splitlines():
        try:
            rec = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(rec, dict) and rec.get("status") == "done" and "output" in rec:
            records[rec["output"]] = rec
    return records


def _write_json_atomic(path: Path, data: dict) -> None:
    write_text_atomic(path, json.dumps(data, indent=2), **PARTIAL)


def run_batch(
    kind: str,
    manifest,
    out_dir,
    *,
    backend: str = "local",
    workers: int = 2,
    address: str | None = None,
    fmt: str = "npz",
    progress: bool = True,
) -> dict:
    """Run every job of ``manifest`` whose output is missing; write and return the report.

    Parameters
    ----------
    kind : ``"animate"``, ``"edit"`` or ``"augment"``.
    manifest : CSV or JSONL file (see the module docstring).
    out_dir : output folder; also receives ``batch-report.json`` and the journal of finished jobs.
    backend : ``"local"`` (process pool; ``workers=1`` runs in this process) or ``"ray"``.
    workers : processes (local) or CPUs of the local Ray started for the run.
    address : an existing Ray cluster to join (``ray`` backend).
    fmt : animation output type (``npz``, ``csv``, ``json``, ``glb``); edits write PNG, augment rows JSON
        (and their crops as PNG).

    Returns
    -------
    dict
        ``done`` / ``skipped`` / ``failed`` (lists of per-job records, failures with ``error``; a skipped job
        carries its earlier run's record under ``earlier`` when the journal has it), ``counts``, ``seconds``
        and ``jobs_per_second``; ``interrupted`` when the run was stopped (the report is still written, and
        the exception re-raised).
    """
    from tqdm import tqdm

    if backend not in BACKENDS:
        raise ParameterError(f"--backend {backend!r}: expected one of {', '.join(BACKENDS)}")
    if workers < 1:
        raise ParameterError(f"--workers: expected at least 1, got {workers}")
    if address and backend != "ray":
        raise ParameterError("--address joins a Ray cluster: use it with --backend ray")
    jobs = read_manifest(manifest, kind=kind, out_dir=out_dir, fmt=fmt)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    invalid = [j for j in jobs if j.error is not None]
    jobs = [j for j in jobs if j.error is None]
    earlier = read_journal(out)
    # a row edited since its output was made is redone (it kept the old output without a word)
    redone = [j for j in jobs if Path(j.output).exists() and _changed(j, earlier)]
    for job in redone:
        log.warning("row %s (%s): its input or options changed since %s was made: made again", job.row, job.input,
                    job.output)  # fmt: skip
    todo = [j for j in jobs if not Path(j.output).exists() or j in redone]
    for job in todo:  # left by a killed run; the job is redone from the start
        partial_path(job.output).unlink(missing_ok=True)
    report: dict = {
        "kind": kind, "backend": backend, "manifest": str(manifest), "out_dir": str(out.resolve()),
        "jobs": len(jobs) + len(invalid), "done": [],
        "failed": [{"row": j.row, "input": j.input, "output": j.output, "status": "failed", "error": j.error}
                   for j in invalid],
        "skipped": [{"row": j.row, "input": j.input, "output": j.output,
                     **({"earlier": earlier[j.output]} if j.output in earlier else {})}
                    for j in jobs if j not in todo],
        "redone": [j.row for j in redone],
    }  # fmt: skip
    t0 = time.perf_counter()
    interrupted: BaseException | None = None
    with (
        tqdm(total=len(todo), desc=f"{kind} ({backend})", unit="job", disable=not progress) as bar,
        open(out / JOURNAL_NAME, "a") as journal,
    ):

        def tick(record: dict) -> None:
            report["done" if record["status"] == "done" else "failed"].append(record)
            if record["status"] == "done":
                journal.write(json.dumps(record) + "\n")
                journal.flush()
            else:
                log.error("row %s (%s): %s", record["row"], record["input"], record["error"])
            bar.update(1)

        try:
            if backend == "ray":
                report.update(_run_ray(kind, todo, workers=workers, address=address, tick=tick))
            else:
                _run_local(kind, todo, workers=workers, tick=tick)
        except (KeyboardInterrupt, SystemExit) as e:
            interrupted = e
    seconds = time.perf_counter() - t0
    for key in ("done", "failed", "skipped"):
        report[key].sort(key=lambda r: r["row"])
    report.update(
        seconds=round(seconds, 3),
        jobs_per_second=round(len(report["done"]) / seconds, 3) if report["done"] and seconds > 0 else None,
        counts={k: len(report[k]) for k in ("done", "skipped", "failed")},
    )
    if interrupted is not None:
        report["interrupted"] = True
        report["counts"]["not_run"] = report["jobs"] - sum(report["counts"].values())
    _write_json_atomic(out / REPORT_NAME, report)
    if interrupted is not None:
        raise interrupted
    return report


# ---------------------------------------------------------------------------------------------- CLI
def _stop(signum, frame) -> None:
    raise SystemExit(128 + signum)


def _cmd_batch(args: argparse.Namespace) -> int:
    # `kill` (SIGTERM) stops the run like Ctrl-C: the report is written before the process ends
    previous = signal.signal(signal.SIGTERM, _stop)
    try:
        report = run_batch(
            args.kind, args.manifest, args.out, backend=args.backend, workers=args.workers, address=args.address,
            fmt=args.format, progress=not args.no_progress,
        )  # fmt: skip
    finally:
        signal.signal(signal.SIGTERM, previous)
    c = report["counts"]
    print(
        f"{args.kind} ({args.backend}): {c['done']} done, {c['skipped']} skipped (already there), {c['failed']} failed "
        f"in {report['seconds']:.1f} s; report: {Path(args.out) / REPORT_NAME}"
    )
    for r in report["failed"]:
        print(f"  row {r['row']} {r['input']}: {r['error']}")
    return 1 if report["failed"] else 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("batch", help="run a manifest of animate, edit or augment jobs, locally or on Ray (resumable)")
    p.add_argument("kind", choices=KINDS, help="what each row does")
    p.add_argument("manifest", help="CSV (header: input, output, options) or JSONL, one job per row")
    p.add_argument("--out", required=True, help="output folder (finished outputs there are skipped)")
    p.add_argument("--backend", choices=BACKENDS, default="local", help="local process pool or Ray tasks")
    p.add_argument("--workers", type=int, default=2, help="worker processes (local) or CPUs of a local Ray")
    p.add_argument("--address", help="join this Ray cluster (e.g. ray://host:10001 or auto) instead of starting one")
    p.add_argument(
        "--format",
        choices=ANIMATE_FORMATS,
        default="npz",
        help="animation output type (edits: PNG; augment: JSON + PNG crops)",
    )
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=_cmd_batch)
