"""The FER classifier shipped in the package: found without --weights, known predictions, flip invariance."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from facecraft.eval.classifier import FERClassifier, FERClassifierConfig, weight_files
from facecraft.eval.train import RECIPES
from facecraft.rigs import EMOTIONS, MissingFileError, resolve_asset

# Pinned outputs of the shipped weights (update together with eval/weights/ and its MODEL_CARD.md).
ASTRONAUT_HAPPINESS = 0.9503
FIXED_CROP_PROBS = (0.023957, 0.200240, 0.016803, 0.006783, 0.461677, 0.248969, 0.014368, 0.027204)


def _fixed_crop(side: int) -> np.ndarray:
    """A deterministic face-like crop (no randomness from numpy's generator versions): shading, eyes, mouth."""
    yy, xx = np.mgrid[0:side, 0:side] / side
    img = 150 - 50 * yy + 20 * np.sin(6 * xx)
    img[int(0.38 * side) : int(0.44 * side), int(0.2 * side) : int(0.42 * side)] = 40
    img[int(0.38 * side) : int(0.44 * side), int(0.58 * side) : int(0.8 * side)] = 40
    img[int(0.72 * side) : int(0.78 * side), int(0.3 * side) : int(0.7 * side)] = 60
    return np.clip(img, 0, 255).astype(np.uint8)


def test_shipped_weights_are_found_by_the_asset_resolver():
    path = resolve_asset("facecraft_fer")
    assert path.name == "facecraft_fer.safetensors" and path.parent.name == "weights"
    cfg, w = weight_files()
    assert w == path and cfg == path.with_suffix(".json") and path.with_suffix(".onnx").is_file()
    assert (path.parent / "MODEL_CARD.md").is_file()
    model = FERClassifier.from_pretrained()
    assert model.labels == tuple(EMOTIONS) and not model.training
    assert model.config.arch == "xception" and model.config.image_size == 48 and model.config.flip_tta


def test_model_card_names_the_recipe_epochs():
    """The card's recipe and ``--recipe shipped`` must agree, or the one command no longer makes these weights."""
    card = (resolve_asset("facecraft_fer").parent / "MODEL_CARD.md").read_text()
    assert f"**{RECIPES['shipped']['train']['epochs']} epochs**" in card


def test_known_prediction_on_a_fixed_crop():
    model = FERClassifier.from_pretrained()
    p = model.predict_proba(_fixed_crop(model.config.image_size), detect=False)[0]
    np.testing.assert_allclose(p, FIXED_CROP_PROBS, atol=1e-4)


def test_known_prediction_on_the_astronaut_photo():
    model = FERClassifier.from_pretrained()
    p = model.predict_proba(resolve_asset("astronaut"))[0]  # a 512 px colour photo: detected, aligned, cropped
    assert EMOTIONS[int(p.argmax())] == "happiness"
    assert p[EMOTIONS.index("happiness")] == pytest.approx(ASTRONAUT_HAPPINESS, abs=2e-3)


def test_flip_tta_makes_predictions_mirror_invariant():
    model = FERClassifier.from_pretrained()
    rng = np.random.default_rng(0)
    crops = (rng.random((4, 48, 48)) * 255).astype(np.uint8)
    np.testing.assert_allclose(
        model.predict_proba(crops, detect=False), model.predict_proba(crops[:, :, ::-1].copy(), detect=False), atol=1e-5
    )


def test_stem_layout_round_trip_and_missing_config(tmp_path):
    torch.manual_seed(0)
    model = FERClassifier(FERClassifierConfig(image_size=24, stem=4, widths=(8,), flip_tta=True)).eval()
    w = model.save_pretrained(tmp_path, stem="mine")
    assert w == tmp_path / "mine.safetensors" and (tmp_path / "mine.json").is_file()
    back = FERClassifier.from_pretrained(w)
    assert back.config.flip_tta
    crop = _fixed_crop(24)
    np.testing.assert_allclose(back.predict_proba(crop, detect=False), model.predict_proba(crop, detect=False))
    (tmp_path / "mine.json").unlink()
    with pytest.raises(MissingFileError, match="mine.json"):
        FERClassifier.from_pretrained(w)
