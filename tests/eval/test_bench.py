"""The FER benchmark runs on a small batch and reports every model."""

from __future__ import annotations

import json

from facecraft.eval.bench import bench_fer


def test_bench_fer_small(tmp_path, capsys):
    out = bench_fer(tmp_path, batch=4, repeats=1)
    assert set(out["models"]) == {"mini-xception", "networkv2", "facecraft-resnet", "facecraft-xception"}
    for row in out["models"].values():
        assert row["model_img_per_s"] > 0 and row["judge_img_per_s"] > 0 and row["parameters"] > 0
    assert out["models"]["mini-xception"]["parameters"] == 56_951  # trainable ones; Keras adds 1,472 BN statistics
    assert json.loads((tmp_path / "fer_bench.json").read_text())["batch"] == 4
    assert "img/s" in capsys.readouterr().out
