"""facecraft's FER classifier: config checks, save/load round trip, prediction, mini-Xception start."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from facecraft.eval.classifier import CONFIG_NAME, WEIGHTS_NAME, FERClassifier, FERClassifierConfig
from facecraft.eval.mini_xception import MINI_XCEPTION_LABELS, load_mini_xception, preprocess_mini_xception
from facecraft.rigs import EMOTIONS, FileFormatError, MissingFileError, ParameterError

TINY = FERClassifierConfig(image_size=24, stem=4, widths=(8, 16), dropout=0.1)


def _grey(n: int, side: int = 48, seed: int = 0) -> np.ndarray:
    return (np.random.default_rng(seed).random((n, side, side)) * 255).astype(np.uint8)


def test_config_is_validated():
    with pytest.raises(ParameterError, match="arch"):
        FERClassifierConfig(arch="vit")
    with pytest.raises(ParameterError, match="init='mini_xception' needs"):
        FERClassifierConfig(init="mini_xception")
    with pytest.raises(ParameterError, match="labels"):
        FERClassifierConfig(labels=("a", "b"))
    with pytest.raises(ParameterError, match="dropout"):
        FERClassifierConfig(dropout=1.5)


def test_default_size_and_output():
    model = FERClassifier()
    # stem 24*9+48, blocks 24->48, 48->96, 96->192 (two 3x3 convs + 1x1 shortcut, each with BN), head 192*8+8
    blocks = sum(9 * a * b + 9 * b * b + a * b + 6 * b for a, b in ((24, 48), (48, 96), (96, 192)))
    assert model.num_parameters == 24 * 9 + 48 + blocks + 192 * 8 + 8 == 681_200
    torch.manual_seed(0)
    tiny = FERClassifier(TINY)
    p = tiny.predict_proba(_grey(5))
    assert p.shape == (5, 8) and np.allclose(p.sum(1), 1.0, atol=1e-5) and (p >= 0).all()
    # grey arrays of another size and RGB images give the same layout
    assert tiny.predict_proba(np.repeat(_grey(2, 40)[..., None], 3, axis=3)).shape == (2, 8)
    one_rgb = np.repeat(_grey(1)[0][..., None], 3, axis=2)
    np.testing.assert_allclose(tiny.predict_proba(one_rgb), p[:1], atol=1e-6)  # a single image, not 48 rows


def test_single_path(tmp_path):
    from PIL import Image

    Image.fromarray(_grey(1)[0]).save(tmp_path / "face.png")
    tiny = FERClassifier(TINY)
    np.testing.assert_allclose(tiny.predict_proba(tmp_path / "face.png"), tiny.predict_proba(_grey(1)), atol=1e-6)


def test_save_pretrained_round_trip(tmp_path):
    torch.manual_seed(0)
    model = FERClassifier(TINY).eval()
    with torch.no_grad():  # move the batch norm statistics away from their defaults so they are checked too
        for m in model.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.uniform_(-0.5, 0.5)
                m.running_var.uniform_(0.5, 1.5)
    model.save_pretrained(tmp_path / "m")
    cfg = json.loads((tmp_path / "m" / CONFIG_NAME).read_text())
    assert cfg["labels"] == list(EMOTIONS) and cfg["widths"] == [8, 16]
    loaded = FERClassifier.from_pretrained(tmp_path / "m")
    assert loaded.config == model.config
    x = _grey(4)
    np.testing.assert_allclose(loaded.predict_proba(x), model.predict_proba(x), atol=1e-6)


def test_from_pretrained_errors(tmp_path):
    with pytest.raises(MissingFileError, match=CONFIG_NAME):
        FERClassifier.from_pretrained(tmp_path)
    FERClassifier(TINY).save_pretrained(tmp_path / "m")
    cfg = json.loads((tmp_path / "m" / CONFIG_NAME).read_text())
    (tmp_path / "m" / CONFIG_NAME).write_text(json.dumps({**cfg, "widths": [8, 32]}))
    with pytest.raises(FileFormatError, match="do not fit"):
        FERClassifier.from_pretrained(tmp_path / "m")
    (tmp_path / "m" / CONFIG_NAME).write_text(json.dumps({**cfg, "depth": 3}))
    with pytest.raises(FileFormatError, match="unknown config keys"):
        FERClassifier.from_pretrained(tmp_path / "m")
    assert (tmp_path / "m" / WEIGHTS_NAME).is_file()


def test_from_pretrained_names_the_file_of_a_corrupt_config_or_weights(tmp_path):
    FERClassifier(TINY).save_pretrained(tmp_path / "m")
    cfg_path, w_path = tmp_path / "m" / CONFIG_NAME, tmp_path / "m" / WEIGHTS_NAME
    cfg = json.loads(cfg_path.read_text())
    for text in ("[1, 2]", "null", json.dumps({**cfg, "widths": 5}), json.dumps({**cfg, "image_size": "48"})):
        cfg_path.write_text(text)
        with pytest.raises(FileFormatError, match=CONFIG_NAME):
            FERClassifier.from_pretrained(tmp_path / "m")
    cfg_path.write_bytes(b"\xda\xff not text")
    with pytest.raises(FileFormatError, match="not valid JSON"):
        FERClassifier.from_pretrained(tmp_path / "m")
    cfg_path.write_text(json.dumps(cfg))
    whole = w_path.read_bytes()
    for broken in (b"", b"garbage", whole[: len(whole) * 9 // 10]):  # empty, another file, a cut-off download
        w_path.write_bytes(broken)
        with pytest.raises(FileFormatError, match=f"{WEIGHTS_NAME}: not a readable safetensors file"):
            FERClassifier.from_pretrained(tmp_path / "m")


def test_features_then_forward_from_equals_forward():
    torch.manual_seed(0)
    for cfg in (TINY, FERClassifierConfig(arch="xception", image_size=32, stem=4, widths=(8, 8))):
        model = FERClassifier(cfg).eval()
        x = model.prepare(_grey(3))
        with torch.no_grad():
            torch.testing.assert_close(model.forward_from(model.features(x, 1), 1), model(x))
        model.freeze(1)
        frozen = [p.requires_grad for m in model.frozen_modules(1) for p in m.parameters()]
        assert frozen and not any(frozen)
        with pytest.raises(ParameterError, match="blocks"):
            model.frozen_modules(5)


def test_mini_xception_start_keeps_the_shipped_predictions():
    config = FERClassifierConfig.mini_xception()
    assert (config.arch, config.image_size, config.dropout, config.init) == ("xception", 64, 0.1, "mini_xception")
    assert FERClassifierConfig.xception().init == "scratch"
    model = FERClassifier(config).eval()
    ref = load_mini_xception()
    grey = _grey(3, 64, seed=1)
    with torch.no_grad():
        ours = model(model.prepare(grey))
        theirs = ref(preprocess_mini_xception(grey))
    names = {"angry": "anger", "sad": "sadness", "happy": "happiness"}
    for j, name in enumerate(MINI_XCEPTION_LABELS):
        torch.testing.assert_close(ours[:, EMOTIONS.index(names.get(name, name))], theirs[:, j])


def test_to_emotion_code():
    p = np.zeros(8)
    p[EMOTIONS.index("happiness")] = 0.9
    p[EMOTIONS.index("neutral")] = 0.1
    code = FERClassifier.to_emotion_code(p)
    emotion, intensity = code.dominant()
    assert emotion == "happiness" and intensity == pytest.approx(0.9, abs=1e-5)
    assert len(FERClassifier.to_emotion_code(np.stack([p, p]))) == 2
    with pytest.raises(ParameterError):
        FERClassifier.to_emotion_code(np.ones((2, 7)))


def test_ensemble_averages_members_each_on_its_view(tmp_path):
    torch.manual_seed(0)
    cfg = FERClassifierConfig(image_size=24, stem=4, widths=(8, 16), dropout=0.0, flip_tta=True)
    a, b = FERClassifier(cfg).eval(), FERClassifier(cfg).eval()
    joined = FERClassifier.ensemble([a, b])
    assert joined.config.members == 2 and len(joined.networks) == 2 and not joined.training
    x = a.prepare(_grey(5, 24))
    with torch.no_grad():
        pa = torch.softmax(a.net(x), 1)  # member 0 sees the face, member 1 its mirror image
        pb = torch.softmax(b.net(torch.flip(x, dims=[3])), 1)
        torch.testing.assert_close(joined.probabilities(x), (pa + pb) / 2)
        # forward: log of the members' mean probabilities on the face itself
        mean = (torch.softmax(a.net(x), 1) + torch.softmax(b.net(x), 1)) / 2
        torch.testing.assert_close(joined(x), torch.log(mean))
    # saved and loaded like one network; the logit shift reaches every member
    back = FERClassifier.from_pretrained(joined.save_pretrained(tmp_path / "ens"))
    np.testing.assert_allclose(back.predict_proba(_grey(3, 24)), joined.predict_proba(_grey(3, 24)), atol=1e-6)
    delta = np.linspace(-1, 1, 8)
    back.shift_logits(delta)
    for net, src in zip(back.networks, (a, b), strict=True):
        torch.testing.assert_close(net.fc.bias, src.net.fc.bias + torch.as_tensor(delta, dtype=torch.float32))
    with pytest.raises(ParameterError, match="ensemble"):
        joined.features(x, 1)
    with pytest.raises(ParameterError, match="at least 2"):
        FERClassifier.ensemble([a])
    with pytest.raises(ParameterError, match="configured as"):
        FERClassifier.ensemble([a, FERClassifier(TINY)])
    with pytest.raises(ParameterError, match="members"):
        FERClassifierConfig(members=0)


def test_the_weights_file_fer_train_writes_loads_by_itself(tmp_path):
    from facecraft.eval.classifier import FERClassifier

    FERClassifier.from_pretrained().save_pretrained(tmp_path)  # config.json + model.safetensors, as fer train writes
    assert isinstance(FERClassifier.from_pretrained(tmp_path / "model.safetensors"), FERClassifier)


def test_the_folder_fer_train_exports_loads_as_a_folder(tmp_path):
    # 'fer eval --weights EXPORT_DIR' (and the shipped folder) stopped at "config.json not found"
    from facecraft.eval.classifier import FERClassifier, weight_files
    from facecraft.rigs.errors import ParameterError

    FERClassifier(TINY).save_pretrained(tmp_path / "exp", stem="facecraft_fer")
    (tmp_path / "exp" / "notes.json").write_text("{}")  # another JSON beside it is not a second model
    assert weight_files(tmp_path / "exp")[1].name == "facecraft_fer.safetensors"
    assert isinstance(FERClassifier.from_pretrained(tmp_path / "exp"), FERClassifier)
    with pytest.raises(ParameterError, match="ONNX export"):
        weight_files(tmp_path / "exp" / "facecraft_fer.onnx")
