"""``facecraft fer train`` and ``facecraft fer eval`` end to end on a tiny image folder."""

from __future__ import annotations

import json

import numpy as np
from PIL import Image

from facecraft.apps.cli import main


def _folder(root):
    rng = np.random.default_rng(0)
    for c, name in enumerate(("happy", "sad", "surprise")):
        (root / name).mkdir(parents=True)
        for k in range(10):
            img = (rng.random((48, 48)) * 80).astype(np.uint8)
            img[c * 4 :: 12] = 220
            Image.fromarray(img).save(root / name / f"{k}.png")
    return root


def test_fer_train_then_eval(tmp_path, capsys):
    data = _folder(tmp_path / "data")
    out = tmp_path / "run"
    rc = main(["fer", "train", "--data", str(data), "--out", str(out), "--epochs", "1", "--widths", "8", "16",
               "--batch-size", "8"])  # fmt: skip
    assert rc == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["epochs_run"] == 1 and 0.0 <= summary["test_macro_f1"] <= 1.0
    assert (out / "best" / "model.safetensors").is_file() and (out / "facecraft_test_confusion.png").is_file()

    rc = main(["fer", "eval", "--judge", "facecraft", "--weights", str(out / "best"), "--data", str(data),
               "--out", str(tmp_path / "ev")])  # fmt: skip
    assert rc == 0
    res = json.loads(capsys.readouterr().out)
    assert res["judge"] == "facecraft" and res["split"] == "test" and res["n"] == 6
    report = json.loads((tmp_path / "ev" / "facecraft_test_report.json").read_text())
    assert report["n"] == 6 and len(report["confusion_matrix"]) == 8

    rc = main(
        ["fer", "eval", "--judge", "networkv2", "--data", str(data), "--subset", "all", "--out", str(tmp_path / "ev")]
    )
    assert rc == 0
    res = json.loads(capsys.readouterr().out)
    assert res["n"] == 30 and set(res["recall"]) >= {"happiness", "sadness", "surprise"}


def test_fer_eval_unknown_judge_is_a_clean_error(tmp_path, capsys):
    data = _folder(tmp_path / "data")
    rc = main(["fer", "eval", "--judge", "nope", "--data", str(data), "--out", str(tmp_path / "ev")])
    assert rc == 1
    assert "unknown judge 'nope'" in capsys.readouterr().err
