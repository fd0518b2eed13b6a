"""NetworkV2: the shipped weights load into the clean module and behave like the package's own class."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest
import torch

from facecraft.eval.networkv2 import NETWORKV2_LABELS, NetworkV2, convert_state_dict, load_networkv2
from facecraft.rigs import FileFormatError, ParameterError, resolve_asset


def test_load_output_shape_and_range():
    model = load_networkv2()
    rng = np.random.default_rng(0)
    grey = (rng.random((4, 48, 48)) * 255).astype(np.uint8)
    with torch.no_grad():
        scores = model(model.prepare(grey))
    assert scores.shape == (4, 7) and float(scores.min()) >= 0.0 and float(scores.max()) <= 1.0
    p = model.predict_proba(grey)
    np.testing.assert_allclose(p.sum(axis=1), 1.0, atol=1e-5)
    assert (p.argmax(1) == scores.numpy().argmax(1)).all()
    assert NETWORKV2_LABELS == ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")


def test_matches_the_package_network_definition():
    """Load the package's networks.py as a file (it imports only torch.nn, not the package's __init__)."""
    path = resolve_asset("fer_networkv2").parent.parent / "networks.py"
    if not path.is_file():
        pytest.skip(f"{path} not present")
    spec = importlib.util.spec_from_file_location("_fer_networks", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    ref = mod.NetworkV2(1, 32, 7)
    ref.load_state_dict(torch.load(resolve_asset("fer_networkv2"), map_location="cpu", weights_only=True)["network"])
    ref.eval()
    x = torch.randn(3, 1, 48, 48, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        torch.testing.assert_close(load_networkv2()(x), ref(x))


def test_bad_inputs():
    with pytest.raises(ParameterError, match="48, 48"):
        NetworkV2.prepare(np.zeros((2, 64, 64), np.uint8))
    with pytest.raises(FileFormatError, match="unexpected parameter"):
        convert_state_dict({"classifier.weight": torch.zeros(1)})


def test_bad_file(tmp_path):
    bad = tmp_path / "model.pkl"
    torch.save({"weights": {}}, bad)
    with pytest.raises(FileFormatError, match="'network'"):
        load_networkv2(bad)
    bad.write_bytes(b"not a torch file")
    with pytest.raises(FileFormatError, match="cannot read"):
        load_networkv2(bad)
