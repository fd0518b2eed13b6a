"""The FER benchmark: rates are batch / median time, parameter counts are the models', accuracy is fer eval's."""

from __future__ import annotations

import json

import pytest

from facecraft.eval import bench
from facecraft.eval.bench import _median_rate, bench_fer, judge_accuracy
from facecraft.eval.classifier import FERClassifier, FERClassifierConfig
from facecraft.eval.datasets import load_dataset
from facecraft.eval.judges import get_judge
from facecraft.eval.train import evaluate_probs


def test_median_rate_is_batch_over_median_time(monkeypatch):
    clock = iter([0.0, 0.1, 1.0, 1.2, 2.0, 2.9])  # start/stop of three timed calls: 0.1, 0.2 and 0.9 s
    monkeypatch.setattr(bench.time, "perf_counter", lambda: next(clock))
    calls = []
    # two untimed warm-up calls, then the three timed ones: median 0.2 s for 10 images
    assert _median_rate(lambda: calls.append(1), 10, 3) == pytest.approx(50.0)
    assert len(calls) == 5


def test_bench_fer_small(tmp_path, capsys, tiny_fer_folder):
    data = tiny_fer_folder
    out = bench_fer(tmp_path, batch=4, repeats=1, data=data, photos=False)
    assert set(out["models"]) == {
        "mini-xception", "networkv2", "facecraft-resnet", "facecraft-xception", "facecraft", "facecraft-onnx"
    }  # fmt: skip
    fast, torch_row = out["models"]["facecraft-onnx"], out["models"]["facecraft"]
    assert fast["backend"] == "onnxruntime" and torch_row["backend"] == "torch"
    assert fast["max_abs_diff_vs_torch"] < 1e-4 and fast["parameters"] == torch_row["parameters"]
    assert all(row["model_img_per_cpu_s"] > 0 for row in out["models"].values())
    assert out["accuracy"]["facecraft"]["n"] == 6
    params = {name: row["parameters"] for name, row in out["models"].items()}
    assert params["mini-xception"] == 56_951  # trainable ones; Keras adds 1,472 BN statistics
    assert params["facecraft-resnet"] == FERClassifier(FERClassifierConfig()).num_parameters == 681_200
    assert params["facecraft-xception"] == FERClassifier(FERClassifierConfig.xception()).num_parameters
    assert out["models"]["mini-xception"]["input"] == "64x64 grey"
    assert out["models"]["networkv2"]["input"] == "48x48 grey"
    assert json.loads((tmp_path / "fer_bench.json").read_text()) == json.loads(json.dumps(out))
    # the accuracy section is what `fer eval` computes on the test split
    judge = get_judge("networkv2")
    test = load_dataset(data, size=48).subset("test")
    ref = evaluate_probs(judge.predict_proba(test.images, detect=False), test)
    row = out["accuracy"]["networkv2"]
    assert row["n"] == ref["n"] == 6 and row["split"] == "test"
    assert row["macro_f1"] == pytest.approx(ref["macro_f1"]) and row["accuracy"] == pytest.approx(ref["accuracy"])
    assert row["recall"]["happiness"] == pytest.approx(ref["per_class"]["happiness"]["recall"], abs=1e-4)
    absent = [c for c, v in ref["per_class"].items() if not v["support"]]
    assert absent and all(row["recall"][c] is None for c in absent)  # no image of it: no recall, not 0
    printed = capsys.readouterr().out
    assert "img/s" in printed and "macro-F1" in printed and f"{absent[0]} n/a" in printed


def test_accuracy_skips_without_data(monkeypatch, tmp_path):
    monkeypatch.setenv("FACECRAFT_SHARED", str(tmp_path / "nowhere"))
    res = judge_accuracy()
    assert set(res) == {"skipped"} and "fer-dev" in res["skipped"]
