"""FER benchmark (``facecraft bench fer``): throughput of every model, accuracy of the shipped judges.

Throughput, two figures per model at batch 64 on CPU: the network alone on ready tensors
(``model_img_per_s``) and the whole judge call on 48x48 grey crops, shared preprocessing included
(``judge_img_per_s``). Timings are medians over repeated batches after a warm-up, with
``torch.set_num_threads(threads)``; on a shared machine they vary with the load, which is printed with them.

Accuracy (``accuracy``): the two ported judges on the test split of ``../shared/data/fer-dev`` (its
``split.csv``), as ``facecraft fer eval --judge NAME --data ../shared/data/fer-dev`` scores them:
accuracy, macro-F1 over the 8 emotions and over the 7 they know, per-class recall. fer-dev comes from
FER2013, on which the mini-Xception was trained, so its figures are optimistic. Skipped (and said so)
when the shared folder is absent.
"""

from __future__ import annotations

import json
import logging
import os
import platform
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

logger = logging.getLogger(__name__)


def _median_rate(fn, batch: int, repeats: int) -> float:
    fn()  # warm-up
    fn()
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return batch / float(np.median(times))


def bench_fer(
    out_dir: Path,
    *,
    batch: int = 64,
    repeats: int = 10,
    threads: int = 2,
    data: str | os.PathLike | None = None,
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

    Returns
    -------
    dict
        ``{"models": {name: {"model_img_per_s", "judge_img_per_s", "parameters"}}, "accuracy": {judge:
        {"n", "accuracy", "macro_f1", "macro_f1_7", "recall": {emotion: r}}}, "batch", "threads", ...}``.
    """
    from .classifier import FERClassifier, FERClassifierConfig
    from .judges import get_judge

    threads_before = torch.get_num_threads()
    torch.set_num_threads(threads)
    rng = np.random.default_rng(0)
    crops48 = (rng.random((batch, 48, 48)) * 255).astype(np.uint8)
    results: dict[str, dict] = {}
    try:
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
            for name, judge in judges.items():
                grey = judge.crops(crops48, detect=False)
                net = _network(judge.name, judge, weights.get(name))
                x = net["prepare"](grey)
                with torch.no_grad():
                    model_rate = _median_rate(lambda net=net, x=x: net["model"](x), batch, repeats)
                judge_rate = _median_rate(
                    lambda judge=judge: judge.predict_proba(crops48, detect=False), batch, repeats
                )
                results[name] = {"model_img_per_s": round(model_rate, 1), "judge_img_per_s": round(judge_rate, 1),
                                 "parameters": int(sum(p.numel() for p in net["model"].parameters())),
                                 "input": f"{judge.input_size}x{judge.input_size} grey"}  # fmt: skip
                print(f"[fer] {name:20s} model {model_rate:8.1f} img/s   judge (with preprocessing) "
                      f"{judge_rate:8.1f} img/s   params {results[name]['parameters']:,}")  # fmt: skip
    finally:
        torch.set_num_threads(threads_before)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    out = {"batch": batch, "threads": threads, "repeats": repeats, "device": "cpu", "cpu": platform.processor() or
           platform.machine(), "load_average_1min": load, "models": results}  # fmt: skip
    print(f"[fer] batch {batch}, {threads} threads, 1-min load average {load}")
    out["accuracy"] = judge_accuracy(data, threads=threads)
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
    from .train import evaluate_probs

    if data is None:
        data = shared_data_dir() / "data" / "fer-dev"
        if not data.is_dir():
            print(f"[fer] accuracy skipped: {data} not found")
            return {"skipped": f"{data} not found"}
    threads_before = torch.get_num_threads()
    torch.set_num_threads(threads)
    results: dict[str, dict] = {}
    try:
        for name in ("mini-xception", "networkv2"):
            judge = get_judge(name)
            test = load_dataset(data, size=judge.input_size).subset("test")
            report = evaluate_probs(judge.predict_proba(test.images, detect=False), test)
            results[name] = {
                "data": str(data),
                "split": "test",
                **{k: report[k] for k in ("n", "accuracy", "macro_f1", "macro_f1_7")},
                "recall": {c: round(v["recall"], 4) for c, v in report["per_class"].items()},
            }
            row = results[name]
            print(f"[fer] {name:20s} test n={row['n']}: accuracy {row['accuracy']:.3f}, macro-F1 "
                  f"{row['macro_f1']:.3f} (8 classes), {row['macro_f1_7']:.3f} (7 shared); recall "
                  + ", ".join(f"{c} {r:.2f}" for c, r in row["recall"].items()))  # fmt: skip
    finally:
        torch.set_num_threads(threads_before)
    return results


def _network(kind: str, judge, weights: Path | None) -> dict:
    """The bare network behind a judge and its tensor preparation."""
    if kind == "mini-xception":
        from .mini_xception import load_mini_xception, preprocess_mini_xception

        return {"model": load_mini_xception(), "prepare": preprocess_mini_xception}
    if kind == "networkv2":
        from .networkv2 import load_networkv2

        model = load_networkv2()
        return {"model": model, "prepare": model.prepare}
    from .classifier import FERClassifier

    model = FERClassifier.from_pretrained(weights)
    return {"model": model, "prepare": model.prepare}
