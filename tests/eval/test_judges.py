"""The judge registry: names, errors, and the common (N, 8) EMOTIONS-order output."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from facecraft.eval.classifier import FERClassifier, FERClassifierConfig
from facecraft.eval.judges import SUPPORTED_JUDGES, get_judge, to_emotions_order
from facecraft.eval.mini_xception import MINI_XCEPTION_LABELS, load_mini_xception, preprocess_mini_xception
from facecraft.eval.networkv2 import NETWORKV2_LABELS, load_networkv2
from facecraft.rigs import EMOTIONS, MissingFileError, ParameterError, normalize_emotion


def _crops(n=3, side=48):
    return (np.random.default_rng(0).random((n, side, side)) * 255).astype(np.uint8)


def test_unknown_judge_names_the_allowed_set():
    with pytest.raises(ParameterError) as e:
        get_judge("deepface")
    assert "'deepface'" in str(e.value) and all(name in str(e.value) for name in SUPPORTED_JUDGES)
    assert set(SUPPORTED_JUDGES) == {"mini-xception", "networkv2", "facecraft"}


def test_facecraft_judge_defaults_to_the_shipped_weights_on_the_fast_path(tmp_path):
    judge = get_judge("facecraft")
    model = FERClassifier.from_pretrained()
    assert judge.info["weights"].endswith("facecraft_fer.safetensors") and judge.info["backend"] == "onnxruntime"
    assert judge.labels == tuple(EMOTIONS) and judge.input_size == model.config.image_size
    np.testing.assert_allclose(judge.predict_proba(_crops()), model.predict_proba(_crops()), atol=1e-4)
    with pytest.raises(MissingFileError, match="not found"):
        get_judge("facecraft", weights=tmp_path / "nope")


def test_reorder_to_emotions():
    p = np.array([[0.1, 0.2, 0.3, 0.4]])
    out = to_emotions_order(p, ("happiness", "angry", "neutral", "surprise"))
    assert out.shape == (1, 8) and out[0, EMOTIONS.index("anger")] == np.float32(0.2)
    assert out[0, EMOTIONS.index("contempt")] == 0


@pytest.mark.parametrize("name", ["mini-xception", "networkv2"])
def test_ported_judges_give_eight_columns_with_zero_contempt(name):
    judge = get_judge(name.replace("-", "_").upper())  # case and _ are accepted
    assert judge.name == name and len(judge.labels) == 7 and "contempt" not in judge.labels
    crops = _crops(3, judge.input_size)
    p = judge.predict_proba(crops)
    assert p.shape == (3, 8) and np.allclose(p.sum(1), 1.0, atol=1e-5)
    assert (p[:, EMOTIONS.index("contempt")] == 0).all()
    # each column is the model's own output for that class, moved to EMOTIONS order
    if name == "networkv2":
        model, own = load_networkv2(), NETWORKV2_LABELS
    else:
        model, own = load_mini_xception(), MINI_XCEPTION_LABELS
    ref = model.predict_proba(crops)
    for j, label in enumerate(own):
        np.testing.assert_allclose(p[:, EMOTIONS.index(normalize_emotion(label))], ref[:, j], atol=1e-6)
    assert judge.predict(crops) == [EMOTIONS[i] for i in p.argmax(1)]


def test_mini_xception_judge_equals_the_model_on_crops():
    judge = get_judge("mini-xception")
    crops = _crops(2, 64)
    ref = torch.softmax(load_mini_xception()(preprocess_mini_xception(crops)), 1).detach().numpy()
    p = judge.predict_proba(crops)
    np.testing.assert_allclose(p[:, EMOTIONS.index("happiness")], ref[:, 3], atol=1e-6)
    np.testing.assert_allclose(p[:, EMOTIONS.index("neutral")], ref[:, 6], atol=1e-6)


def test_judges_accept_paths_and_single_images(tmp_path):
    Image.fromarray(_crops(1)[0]).save(tmp_path / "a.png")
    judge = get_judge("networkv2")
    from_path = judge.predict_proba(tmp_path / "a.png")
    from_array = judge.predict_proba(_crops(1)[0])
    assert from_path.shape == (1, 8)
    np.testing.assert_allclose(from_path, from_array, atol=1e-6)


def test_facecraft_judge_from_saved_weights(tmp_path):
    torch.manual_seed(0)
    model = FERClassifier(FERClassifierConfig(image_size=32, stem=4, widths=(8, 8)))
    model.save_pretrained(tmp_path / "w")
    judge = get_judge("facecraft", weights=tmp_path / "w")
    assert judge.labels == tuple(EMOTIONS) and judge.input_size == 32
    np.testing.assert_allclose(judge.predict_proba(_crops()), model.predict_proba(_crops()), atol=1e-6)
