"""Opening gains measured on a model's training items and written into its config."""

from __future__ import annotations

import json

import numpy as np
import pytest

from facecraft.audio2face import calibrate
from facecraft.audio2face.animate import predict_curves
from facecraft.audio2face.model import A2FModel
from facecraft.audio2face.postprocess import OPENING_CHANNELS, OPENING_GAIN_RANGE, OPENING_INDEX
from facecraft.rigs.errors import FileFormatError, ParameterError

from .a2f_helpers import fake_corpus, fake_speech, tiny_model


def test_gains_compare_the_teacher_with_the_model_and_are_written_beside_the_weights(tmp_path):
    corpus = fake_corpus(tmp_path / "corpus", n_items=3)
    weights = tiny_model().save_pretrained(tmp_path / "m.safetensors")
    result = calibrate.calibrate_weights(weights, corpus, items=2, seed=1)
    assert set(result["gains"]) == set(OPENING_CHANNELS) and result["items"] == 2 and result["frames"] > 0
    lo, hi = OPENING_GAIN_RANGE
    assert all(lo <= g <= hi for g in result["gains"].values())
    meta = json.loads(weights.with_suffix(".json").read_text())["meta"]
    assert meta["opening_gain"] == result["gains"] and meta["opening_calibration"]["corpus"] == str(corpus)
    # calibrating again measures the model without its gains: the same figures, not gains on gains
    assert calibrate.calibrate_weights(weights, corpus, items=2, seed=1)["gains"] == result["gains"]


def test_the_gains_change_only_the_opening_channels_of_the_output(tmp_path):
    model = tiny_model()
    y, _ = fake_speech(0)
    before = predict_curves(model, y)
    model.config.meta["opening_gain"] = dict.fromkeys(OPENING_CHANNELS, 1.5)
    after = predict_curves(model, y)
    others = np.setdiff1d(np.arange(52), OPENING_INDEX)
    np.testing.assert_array_equal(after[:, others], before[:, others])
    assert np.all(after[:, OPENING_INDEX] >= before[:, OPENING_INDEX] - 1e-7)


def test_a_corpus_without_training_items_is_an_error(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(ParameterError, match="no training items"):
        calibrate.opening_gains(tiny_model(), tmp_path / "empty")


def test_the_cli_writes_the_gains(tmp_path, capsys):
    from facecraft.apps.cli import main

    corpus = fake_corpus(tmp_path / "corpus", n_items=2)
    folder = tmp_path / "run"
    tiny_model().save_pretrained(folder)
    assert main(["a2f", "calibrate", "--weights", str(folder), "--corpus", str(corpus), "--items", "2"]) == 0
    assert "opening_gain" in json.loads((folder / A2FModel.config_name).read_text())["meta"]
    assert '"gains"' in capsys.readouterr().out


def test_a_corpus_at_another_frame_rate_or_no_items_is_an_error(tmp_path):
    corpus = fake_corpus(tmp_path / "corpus", n_items=1)
    with pytest.raises(ParameterError, match="at least 1"):
        calibrate.opening_gains(tiny_model(), corpus, items=0)
    with pytest.raises(ParameterError, match="the model runs at 60 fps"):
        calibrate.opening_gains(tiny_model(fps=60.0), corpus, items=1)


def test_weights_whose_gains_are_broken_are_refused_when_loaded(tmp_path):
    weights = tiny_model().save_pretrained(tmp_path / "m.safetensors")
    config = weights.with_suffix(".json")
    doc = json.loads(config.read_text())
    doc["meta"]["opening_gain"] = {"jawOpen": 1.2}  # the lip channels missing
    config.write_text(json.dumps(doc))
    with pytest.raises(FileFormatError, match=r"m\.json: model config meta\.opening_gain"):
        A2FModel.from_pretrained(weights)
