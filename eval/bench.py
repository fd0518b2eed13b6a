"""FER benchmark (``facecraft bench fer``): throughput of every model, accuracy of the shipped judges.

Throughput, two figures per model at batch 64 on CPU: the network alone on ready tensors
(``model_img_per_s``) and the whole judge call on 48x48 grey crops, shared preprocessing included
(``judge_img_per_s``). Timings are medians over repeated batches after a warm-up, with
``torch.set_num_threads(threads)`` (ONNX Runtime: as many intra-op threads); on a shared machine they vary
with the load, which is printed with them, so the network's rate per CPU-second of this process
(``model_img_per_cpu_s``) is given too. Rows: the two ported judges, two untrained facecraft layouts,
the shipped facecraft classifier in torch (``facecraft``) and its ONNX Runtime graph
(``facecraft-onnx``, the fast path the ``facecraft`` judge uses).

Accuracy (``accuracy``): the judges (ported ones and the shipped facecraft) on the test split of
``../shared/data/fer-dev`` (its ``split.csv``), as ``facecraft fer eval --judge NAME --data
../shared/data/fer-dev`` scores them: accuracy, macro-F1 over the 8 emotions and over the 7 the ported
judges know, per-class recall. fer-dev comes from FER2013, on which the mini-Xception (and so the
facecraft classifier, which starts from it) was trained, so its figures are optimistic. Photos
(``photos``): happiness and neutral recall on the ``faces-frll`` people the shipped weights were not
trained on (every 2nd person by identity). Both are skipped (and said so) when the shared folder is absent.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from facecraft.rigs.machine import machine_facts, torch_threads

logger = logging.getLogger(__name__)


def _median_rate(fn, batch: int, repeats: int) -> float:
    return _rates(fn, batch, repeats)[0]


def _rates(fn, batch: int, repeats: int) -> tuple[float, float]:
    """Images per second (batch / median wall time) and per CPU-second of this process (batch / median CPU time)."""
    fn()  # warm-up
    fn()
    times, cpu = [], []
    for _ in range(repeats):
        c = time.process_time()
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
        cpu.append(time.process_time() - c)
    return batch / float(np.median(times)), batch / max(float(np.median(cpu)), 1e-9)


def bench_fer(
    out_dir: Path,
    *,
    batch: int = 64,
    repeats: int = 10,
    threads: int = 2,
    data: str | os.PathLike | None = None,
    photos: bool = True,
) -> dict:
    """Measure images/s of mini-Xception, NetworkV2 and facecraft's classifier; score the ported judges.

    Parameters
    ----------
    out_dir : Path
        Folder for ``fer_bench.json`` (the CLI also writes the returned dict).
    batch, repeats, threads : int
        Batch size, timed batches per figure, torch CPU threads.
    data : path-like, optional
        FER data set for the accuracy section (any layout :func:`~facecraft.eval.datasets.load_dataset`
        reads; its test split is scored); default ``fer-dev`` in the shared data folder.
    photos : bool
        Score the judges on the held-out ``faces-frll`` people too (:func:`photo_accuracy`; a minute or so).

    Returns
    -------
    dict
        ``{"models": {name: {"model_img_per_s", "judge_img_per_s", "parameters"}}, "accuracy": {judge:
        {"n", "accuracy", "macro_f1", "macro_f1_7", "recall": {emotion: r}}}, "batch", "threads", ...}``.
    """
    from .classifier import FERClassifier, FERClassifierConfig
    from .judges import get_judge

    rng = np.random.default_rng(0)
    crops48 = (rng.random((batch, 48, 48)) * 255).astype(np.uint8)
    results: dict[str, dict] = {}
    with torch_threads(threads):
        with tempfile.TemporaryDirectory() as tmp:
            torch.manual_seed(0)
            weights = {}
            configs = {
                "facecraft-resnet": FERClassifierConfig(),
                "facecraft-xception": FERClassifierConfig.xception(),
            }
            for name, cfg in configs.items():
                weights[name] = FERClassifier(cfg).save_pretrained(Path(tmp) / name)
            judges = {
                "mini-xception": get_judge("mini-xception"),
                "networkv2": get_judge("networkv2"),
                **{n: get_judge("facecraft", weights=w) for n, w in weights.items()},
            }
            shipped = _shipped()
            if shipped is not None:
                judges["facecraft"] = judges["facecraft-onnx"] = get_judge("facecraft")
            for name, judge in judges.items():
                grey = judge.crops(crops48, detect=False)
                net = _network(name, judge, weights.get(name), threads=threads)
                x = net["prepare"](grey)
                with torch.no_grad():
                    model_rate, cpu_rate = _rates(lambda net=net, x=x: net["run"](x), batch, repeats)
                judge_rate = _median_rate(
                    lambda judge=judge: judge.predict_proba(crops48, detect=False), batch, repeats
                )
                results[name] = {"model_img_per_s": round(model_rate, 1), "judge_img_per_s": round(judge_rate, 1),
                                 "model_img_per_cpu_s": round(cpu_rate, 1), "backend": net["backend"],
                                 "parameters": int(sum(p.numel() for p in net["model"].parameters())),
                                 "input": f"{judge.input_size}x{judge.input_size} grey"}  # fmt: skip
                print(f"[fer] {name:20s} model {model_rate:8.1f} img/s ({cpu_rate:8.1f} per CPU-s, {net['backend']})"
                      f"   judge (with preprocessing) {judge_rate:8.1f} img/s   params "
                      f"{results[name]['parameters']:,}")  # fmt: skip
            if shipped is not None:
                results["facecraft-onnx"]["max_abs_diff_vs_torch"] = _fast_path_difference(crops48, threads)
    machine = machine_facts()
    out = {"batch": batch, "threads": threads, "repeats": repeats, "device": "cpu", "machine": machine,
           "models": results}  # fmt: skip
    print(f"[fer] batch {batch}, {threads} threads, load averages {machine['load_average']}")
    out["accuracy"] = judge_accuracy(data, threads=threads)
    out["photos"] = photo_accuracy(threads=threads) if photos else {"skipped": "photos=False"}
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "fer_bench.json").write_text(json.dumps(out, indent=2))
    return out


def judge_accuracy(data: str | os.PathLike | None = None, *, threads: int = 2) -> dict:
    """Test-split figures of the ported judges on a FER data set (default: the shared ``fer-dev``).

    Returns ``{judge: {"n", "accuracy", "macro_f1", "macro_f1_7", "recall"}}``, or ``{"skipped": reason}``
    when no data set was given and the shared one is absent.
    """
    from facecraft.rigs.assets import shared_data_dir

    from .datasets import load_dataset
    from .judges import get_judge
    from .metrics import class_recalls
    from .train import evaluate_probs

    if data is None:
        data = shared_data_dir() / "data" / "fer-dev"
        if not data.is_dir():
            print(f"[fer] accuracy skipped: {data} not found")
            return {"skipped": f"{data} not found"}
    results: dict[str, dict] = {}
    names = ["mini-xception", "networkv2"] + (["facecraft"] if _shipped() is not None else [])
    with torch_threads(threads):
        for name in names:
            judge = get_judge(name)
            test = load_dataset(data, size=judge.input_size).subset("test")
            report = evaluate_probs(judge.predict_proba(test.images, detect=False), test)
            results[name] = {
                "data": str(data),
                "split": "test",
                **{k: report[k] for k in ("n", "accuracy", "macro_f1", "macro_f1_7")},
                "recall": class_recalls(report),  # None for a class the test split has no image of
            }
            row = results[name]
            recalls = ", ".join(f"{c} {'n/a' if r is None else f'{r:.2f}'}" for c, r in row["recall"].items())
            print(
                f"[fer] {name:20s} test n={row['n']}: accuracy {row['accuracy']:.3f}, macro-F1 "
                f"{row['macro_f1']:.3f} (8 classes), {row['macro_f1_7']:.3f} (7 shared); recall {recalls}"
            )
    return results


def _shipped():
    """Path of the shipped facecraft weights, or None when they are missing (a bare checkout)."""
    from facecraft.rigs.errors import AssetNotFoundError, MissingFileError

    from .classifier import weight_files

    try:
        return weight_files()[1]
    except (AssetNotFoundError, MissingFileError):
        return None


def _fast_path_difference(crops: np.ndarray, threads: int) -> float:
    """Largest difference between the ONNX and torch probabilities of the shipped classifier on ``crops``."""
    from .classifier import FERClassifier
    from .fast_fer import OnnxFERClassifier

    model = FERClassifier.from_pretrained()
    fast = OnnxFERClassifier(threads=threads)
    return float(np.abs(fast.predict_proba(crops, detect=False) - model.predict_proba(crops, detect=False)).max())


def photo_accuracy(*, threads: int = 2) -> dict:
    """Recall per expression on the held-out ``faces-frll`` people (every 2nd by identity) for each judge.

    Returns ``{judge: photo_recall(...) without the miss list}``, or ``{"skipped": reason}`` without the data.
    """
    from facecraft.rigs.assets import shared_data_dir

    from .judges import get_judge
    from .photos import photo_dataset, photo_recall, read_labelled_photos, split_people

    root = shared_data_dir() / "data" / "faces-frll"
    if not (root / "people.csv").is_file():
        print(f"[fer] photos skipped: {root} not found")
        return {"skipped": f"{root} not found"}
    _, held_out = split_people(read_labelled_photos(root), holdout_every=2)
    names = ["mini-xception", "networkv2"] + (["facecraft"] if _shipped() is not None else [])
    threads_before = torch.get_num_threads()
    torch.set_num_threads(threads)
    results: dict[str, dict] = {}
    try:
        for name in names:
            judge = get_judge(name)
            crops = photo_dataset(held_out, size=judge.input_size)
            report = photo_recall(judge.predict_proba(crops.images, detect=False), held_out)
            results[name] = {k: v for k, v in report.items() if k != "missed"}
            print(f"[fer] {name:20s} faces-frll held-out people n={report['people']}: recall "
                  + ", ".join(f"{c} {r:.2f}" for c, r in report["recall"].items()))  # fmt: skip
    finally:
        torch.set_num_threads(threads_before)
    return results


def _network(kind: str, judge, weights: Path | None, *, threads: int = 2) -> dict:
    """The bare network behind a judge, its input preparation, the call to time and its backend."""
    if kind == "mini-xception":
        from .mini_xception import load_mini_xception, preprocess_mini_xception

        model = load_mini_xception()
        return {"model": model, "prepare": preprocess_mini_xception, "run": model, "backend": "torch"}
    if kind == "networkv2":
        from .networkv2 import load_networkv2

        model = load_networkv2()
        return {"model": model, "prepare": model.prepare, "run": model, "backend": "torch"}
    from .classifier import FERClassifier

    model = FERClassifier.from_pretrained(weights)
    if kind == "facecraft-onnx":
        from .fast_fer import OnnxFERClassifier

        fast = OnnxFERClassifier(threads=threads)
        # the graph takes the uint8 crops and includes scaling, the network, softmax and flip averaging
        return {"model": model, "prepare": lambda g: g, "run": fast.probabilities, "backend": "onnxruntime"}
    return {"model": model, "prepare": model.prepare, "run": model.probabilities, "backend": "torch"}
