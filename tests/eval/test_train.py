"""Training on a tiny synthetic data set: runs, learns, writes checkpoints; helpers behave."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from facecraft.eval.classifier import FERClassifier, FERClassifierConfig
from facecraft.eval.datasets import FERDataset, stratified_split
from facecraft.eval.train import (
    TrainConfig,
    augment_batch,
    class_weights,
    cutout,
    evaluate_probs,
    mixup,
    predict_dataset,
    soft_cross_entropy,
    train_classifier,
)
from facecraft.rigs import MissingFileError, ParameterError

TINY = FERClassifierConfig(image_size=24, stem=8, widths=(16, 32), dropout=0.0)


def _toy(n_per_class=(24, 24, 24), seed=0) -> FERDataset:
    """Class 0 has horizontal stripes, class 1 vertical ones, class 2 none: learnable in a few epochs."""
    rng = np.random.default_rng(seed)
    images, labels = [], []
    for c, n in enumerate(n_per_class):
        for _ in range(n):
            img = (rng.random((24, 24)) * 80).astype(np.uint8)
            phase = rng.integers(0, 4)
            if c == 0:
                img[phase::4] = 230
            elif c == 1:
                img[:, phase::4] = 230
            images.append(img)
            labels.append([0, 4, 7][c])  # anger, happiness, surprise
    labels = np.asarray(labels)
    return FERDataset(np.stack(images), labels, [f"{i}.png" for i in range(len(labels))], stratified_split(labels))


def test_class_weights():
    w = class_weights([100, 10, 0, 1], mode="inverse")
    assert w[2] == 0 and w[3] > w[1] > w[0] and float(w[[0, 1, 3]].mean()) == pytest.approx(1.0)
    s = class_weights([100, 10, 0, 1], mode="sqrt")
    assert s[3] / s[0] == pytest.approx(10.0)
    assert class_weights([5, 1], mode="none").tolist() == [1.0, 1.0]


def test_augment_keeps_shape_and_range_and_is_seeded():
    x = torch.rand(6, 1, 24, 24) * 2 - 1
    cfg = TrainConfig()
    a = augment_batch(x, cfg, torch.Generator().manual_seed(0))
    b = augment_batch(x, cfg, torch.Generator().manual_seed(0))
    assert a.shape == x.shape and float(a.abs().max()) <= 1.0
    torch.testing.assert_close(a, b)
    assert not torch.allclose(a, x)


def test_train_learns_and_writes_checkpoints(tmp_path):
    ds = _toy()
    train, val = ds.subset("train"), ds.subset("val")
    cfg = TrainConfig(epochs=6, batch_size=16, lr=3e-3, patience=10, seed=0, max_rotation=5, max_shift=0.02)
    result = train_classifier(train, val, out_dir=tmp_path, model_config=TINY, config=cfg)
    assert result["epochs_run"] == 6 and 1 <= result["best_epoch"] <= 6
    hist = json.loads((tmp_path / "history.json").read_text())
    assert hist[-1]["loss"] < hist[0]["loss"]
    best = FERClassifier.from_pretrained(tmp_path / "best")
    report = evaluate_probs(predict_dataset(best, ds.subset("test")), ds.subset("test"))
    assert report["accuracy"] > 0.6  # three classes: chance is 1/3
    assert json.loads((tmp_path / "train_config.json").read_text())["epochs"] == 6


def test_frozen_blocks_use_cached_features(tmp_path):
    ds = _toy(seed=1)
    torch.manual_seed(0)
    model = FERClassifier(TINY)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    cfg = TrainConfig(epochs=1, batch_size=16, freeze_blocks=1, feature_copies=2)
    train_classifier(ds.subset("train"), ds.subset("val"), out_dir=tmp_path, model=model, config=cfg)
    after = model.state_dict()
    frozen = [k for k in before if k.startswith(("net.stem", "net.stages.0"))]
    assert frozen and all(torch.equal(before[k], after[k]) for k in frozen)
    assert not torch.equal(before["net.fc.weight"], after["net.fc.weight"])


def test_soft_cross_entropy_is_weighted_cross_entropy_for_one_hot_targets():
    g = torch.Generator().manual_seed(0)
    logits, y = torch.randn(6, 8, generator=g), torch.tensor([0, 1, 2, 3, 4, 7])
    w = torch.rand(8, generator=g) + 0.5
    ref = torch.nn.functional.cross_entropy(logits, y, weight=w)
    torch.testing.assert_close(soft_cross_entropy(logits, torch.eye(8)[y], w[y]), ref)
    # a soft target is the same mix of per-class losses
    t = 0.7 * torch.eye(8)[y] + 0.3 * torch.eye(8)[(y + 1) % 8]
    mixed = 0.7 * soft_cross_entropy(logits, torch.eye(8)[y], w[y]) + 0.3 * soft_cross_entropy(
        logits, torch.eye(8)[(y + 1) % 8], w[y]
    )
    torch.testing.assert_close(soft_cross_entropy(logits, t, w[y]), mixed)


def test_cutout_and_mixup():
    g = torch.Generator().manual_seed(0)
    x = torch.ones(5, 1, 16, 16)
    assert torch.equal(cutout(x, 0.0, g), x)
    cut = cutout(x, 1.0, g)
    blank = (cut == 0).flatten(1).sum(1)
    assert bool(((blank >= 4) & (blank <= 64)).all())  # one square of side 4..8 (clipped at the border)
    torch.manual_seed(0)
    t = torch.eye(8)[:5]
    xm, tm, wm = mixup(torch.rand(5, 1, 16, 16, generator=g), t, torch.ones(5), 0.4, g)
    torch.testing.assert_close(tm.sum(1), torch.ones(5))
    assert bool((tm.max(1).values >= 0.5).all()) and xm.shape == (5, 1, 16, 16) and torch.equal(wm, torch.ones(5))


def test_soft_targets_odd_sizes_and_stem_freezing(tmp_path):
    ds = _toy(n_per_class=(23, 24, 24), seed=2)  # odd sizes: channels-last training drops the last batch
    train = ds.subset("train")
    t = train.soft_targets()
    t[:, 0] = 0.5 * t[:, 0] + 0.5 * t[:, 4]  # some soft mass elsewhere
    t /= t.sum(1, keepdims=True)
    train = FERDataset(train.images, train.labels, train.paths, train.splits, targets=t)
    torch.manual_seed(0)
    model = FERClassifier(TINY)
    stem_before = {k: v.clone() for k, v in model.state_dict().items() if k.startswith("net.stem")}
    cfg = TrainConfig(epochs=2, batch_size=10, freeze_stem=True, mixup=0.2, cutout=0.3, select="last", patience=1)
    res = train_classifier(train, ds.subset("val"), out_dir=tmp_path, model=model, config=cfg)
    assert res["epochs_run"] == 2 and res["best_epoch"] == 2  # "last" keeps the last epoch, no early stop
    after = model.state_dict()
    assert all(torch.equal(v, after[k]) for k, v in stem_before.items())
    best = FERClassifier.from_pretrained(tmp_path / "best")
    torch.testing.assert_close(best.state_dict()["net.fc.weight"], after["net.fc.weight"].contiguous())


def test_prior_adjustment_is_folded_into_the_bias_and_picked_on_validation():
    from facecraft.eval.train import adjust_to_priors

    ds = _toy(seed=3)
    torch.manual_seed(0)
    model = FERClassifier(TINY).eval()
    x = model.prepare(ds.images[:5])
    delta = np.linspace(-1, 1, 8)
    before = model(x)
    model.shift_logits(delta)
    torch.testing.assert_close(model(x), before + torch.tensor(delta, dtype=torch.float32))
    model.shift_logits(-delta)
    counts = np.array([100, 0, 0, 0, 10, 0, 0, 1])
    res = adjust_to_priors(model, counts, ds.subset("val"), taus=(0.0, 0.5))
    assert set(res["val_macro_f1_7"]) == {0.0, 0.5} and res["tau"] in (0.0, 0.5)
    assert res["val_macro_f1_7"][res["tau"]] == max(res["val_macro_f1_7"].values())
    log_prior = np.log(np.maximum(counts, 1) / np.maximum(counts, 1).sum())
    expected = before - res["tau"] * torch.tensor(log_prior, dtype=torch.float32)
    torch.testing.assert_close(model(x), expected)


def test_bad_options():
    with pytest.raises(ParameterError, match="balance"):
        TrainConfig(balance="oversample")
    with pytest.raises(ParameterError, match="minutes"):
        TrainConfig(minutes=0)
    ds = _toy()
    with pytest.raises(ParameterError, match="empty"):
        train_classifier(ds.subset("train"), ds.take([]), out_dir="unused", model_config=TINY)


def test_teacher_targets_mix_the_mini_xception_into_fer_faces_only():
    from facecraft.eval.judges import get_judge
    from facecraft.eval.train import teacher_targets

    rng = np.random.default_rng(0)
    images = (rng.random((4, 48, 48)) * 255).astype(np.uint8)
    votes = np.zeros((4, 8), np.float32)
    votes[:, 1], votes[:, 5] = 0.5, 0.5  # half contempt, half neutral
    paths = ["anger/a.png", "anger/b.png", "smiling/001.jpg#0", "smiling/001.jpg#3"]
    ds = FERDataset(images, np.array([1, 1, 4, 4]), paths, targets=votes)
    plain = teacher_targets(ds, share=0.0)
    np.testing.assert_allclose(plain, votes)
    t = teacher_targets(ds, share=0.4)
    np.testing.assert_allclose(t.sum(axis=1), 1.0, atol=1e-5)
    np.testing.assert_allclose(t[2:], votes[2:])  # photo crops keep their own targets
    np.testing.assert_allclose(t[:2, 1], 0.5, atol=1e-6)  # contempt's share is untouched
    # the other half: 0.6 of the votes + 0.4 of the teacher's flip-averaged opinion, scaled to that half
    judge = get_judge("mini-xception")
    p = 0.5 * (
        judge.predict_proba(images[:2], detect=False) + judge.predict_proba(images[:2, :, ::-1].copy(), detect=False)
    )
    np.testing.assert_allclose(t[:2], 0.6 * votes[:2] + 0.4 * (0.5 * np.eye(8)[1] + 0.5 * p), atol=1e-5)


def test_distillation_trains(tmp_path):
    ds = _toy(seed=3)
    cfg = TrainConfig(epochs=1, batch_size=16, distill=0.3, seed=0)
    result = train_classifier(ds.subset("train"), ds.subset("val"), out_dir=tmp_path, model_config=TINY, config=cfg)
    assert result["epochs_run"] == 1 and json.loads((tmp_path / "train_config.json").read_text())["distill"] == 0.3
    with pytest.raises(ParameterError, match="distill"):
        TrainConfig(distill=1.0)


def test_weight_average_tracks_the_weights():
    from facecraft.eval.train import WeightAverage

    model = FERClassifier(TINY)
    avg = WeightAverage(model, 0.9)
    start = {k: v.clone() for k, v in model.state_dict().items()}
    with torch.no_grad():
        model.net.fc.bias += 1.0
    for _ in range(200):
        avg.update(model)
    copy = avg.averaged(model)
    torch.testing.assert_close(copy.net.fc.bias, start["net.fc.bias"] + 1.0)  # converged to the new weights
    avg2 = WeightAverage(FERClassifier(TINY), 0.9)
    m2 = FERClassifier(TINY)
    m2.load_state_dict(start)
    with torch.no_grad():
        m2.net.fc.bias += 1.0
    avg2.state = {k: v.clone() for k, v in start.items()}
    avg2.steps = 1000  # past the ramp: one step moves the average by (1 - decay)
    avg2.update(m2)
    torch.testing.assert_close(avg2.state["net.fc.bias"], start["net.fc.bias"] + 0.1)


def test_ensemble_training_with_weight_average(tmp_path):
    from dataclasses import replace

    ds = _toy(seed=3)
    cfg = TrainConfig(epochs=2, batch_size=16, ema=0.9, select="last", patience=5, seed=4)
    res = train_classifier(
        ds.subset("train"), ds.subset("val"), out_dir=tmp_path, model_config=replace(TINY, members=2), config=cfg
    )
    assert res["epochs_run"] == 4 and len(res["best_epoch"]) == 2
    members = [FERClassifier.from_pretrained(tmp_path / f"member{m}" / "best") for m in range(2)]
    assert not torch.equal(members[0].net.fc.weight, members[1].net.fc.weight)  # seeds 4 and 5
    joined = FERClassifier.from_pretrained(tmp_path / "best")
    assert joined.config.members == 2
    test = ds.subset("test")
    expected = (predict_dataset(members[0], test) + predict_dataset(members[1], test)) / 2
    np.testing.assert_allclose(predict_dataset(joined, test), expected, atol=1e-6)
    assert json.loads((tmp_path / "member1" / "train_config.json").read_text())["seed"] == 5
    with pytest.raises(ParameterError, match="ema"):
        TrainConfig(ema=1.0)


def test_channels_last_is_off_above_its_safe_input_size(tmp_path, caplog):
    from dataclasses import replace

    from facecraft.eval.train import CHANNELS_LAST_MAX_SIZE

    ds = _toy(n_per_class=(8, 8, 8), seed=5)
    cfg = TrainConfig(epochs=1, batch_size=8, select="last")
    big = replace(TINY, image_size=CHANNELS_LAST_MAX_SIZE + 8)
    with caplog.at_level("INFO", logger="facecraft.eval.train"):
        res = train_classifier(ds.subset("train"), ds.subset("val"), out_dir=tmp_path, model_config=big, config=cfg)
    assert res["epochs_run"] == 1 and "channels-last off" in caplog.text


def test_unlabelled_photos_join_training_with_pseudo_labels(tmp_path):
    from PIL import Image

    from facecraft.rigs import resolve_asset

    faces = tmp_path / "faces"
    faces.mkdir()
    Image.open(resolve_asset("astronaut")).convert("RGB").save(faces / "a.jpg")
    ds = _toy(seed=2)
    cfg = TrainConfig(epochs=1, batch_size=16, seed=0, unlabelled=str(faces), unlabelled_weight=2.0)
    result = train_classifier(
        ds.subset("train"), ds.subset("val"), out_dir=tmp_path / "run", model_config=TINY, config=cfg
    )
    assert result["pseudo_labelled"]["happiness"] == 1 and sum(result["pseudo_labelled"].values()) == 1
    assert json.loads((tmp_path / "run" / "train_result.json").read_text())["pseudo_labelled"]["happiness"] == 1
    with pytest.raises(MissingFileError):
        train_classifier(
            ds.subset("train"),
            ds.subset("val"),
            out_dir=tmp_path / "missing",
            model_config=TINY,
            config=TrainConfig(epochs=1, unlabelled="no-such-data-set"),
        )
    with pytest.raises(ParameterError):
        TrainConfig(unlabelled_weight=0)


def test_faint_smile_edits_of_neutral_photo_crops_join_training(tmp_path):
    from PIL import Image

    from facecraft.eval.datasets import concat_datasets
    from facecraft.eval.train import faint_smile_crops
    from facecraft.rigs import EMOTIONS, resolve_asset

    photo = tmp_path / "a.png"
    Image.open(resolve_asset("astronaut")).convert("RGB").save(photo)
    toy = _toy(seed=3).subset("train")
    neutral, happy = EMOTIONS.index("neutral"), EMOTIONS.index("happiness")
    crops = FERDataset(  # two camera copies of a "neutral" photo and one "smiling" one, as photo_dataset names them
        toy.images[:3],
        np.array([neutral, neutral, happy]),
        [f"{photo}#0", f"{photo}#1", f"{tmp_path / 'b.png'}#0"],
        np.array(["train"] * 3, dtype=object),
        weights=np.array([3.0, 3.0, 9.0], np.float32),
    )
    train = concat_datasets([toy, crops])
    edits = faint_smile_crops(train, TrainConfig(photo_smiles=(0.3, 0.4), photo_smile_copies=2), size=24)
    assert len(edits) == 4 and edits.images.shape == (4, 24, 24)  # one neutral photo x 2 intensities x 2 copies
    assert set(edits.labels.tolist()) == {happy} and edits.weights.tolist() == [3.0] * 4
    assert all(p.startswith(f"{photo}@happiness:") for p in edits.paths) and set(edits.splits) == {"train"}
    assert len(faint_smile_crops(toy, TrainConfig(photo_smiles=(0.3,)), size=24)) == 0  # no photo crops: no edits
    ds = _toy(seed=3)
    cfg = TrainConfig(epochs=1, batch_size=16, seed=0, photo_smiles=(0.3,), photo_smile_copies=1)
    result = train_classifier(train, ds.subset("val"), out_dir=tmp_path / "run", model_config=TINY, config=cfg)
    assert result["faint_smile_crops"] == 1
    for bad in ({"photo_smiles": (0.0,)}, {"photo_smiles": (1.2,)}, {"photo_smile_copies": 0}):
        with pytest.raises(ParameterError, match="photo_smile"):
            TrainConfig(**bad)


def test_distillation_from_an_ensemble_of_the_recipe(tmp_path):
    ds = _toy(seed=3)
    train, val = ds.subset("train"), ds.subset("val")
    cfg = TrainConfig(epochs=2, batch_size=16, distill=0.5, distill_teachers=2, prior_adjust=True, seed=4)
    res = train_classifier(train, val, out_dir=tmp_path, model_config=TINY, config=cfg)
    assert res["epochs_run"] == 2 and len(res["teachers"]["val_macro_f1_7"]) == 2
    teachers = [FERClassifier.from_pretrained(tmp_path / f"teacher{m}" / "best") for m in range(2)]
    assert not torch.equal(teachers[0].net.fc.weight, teachers[1].net.fc.weight)  # seeds 5 and 6
    seeds = [json.loads((tmp_path / f"teacher{m}" / "train_config.json").read_text())["seed"] for m in range(2)]
    assert seeds == [5, 6]
    for m in range(2):  # teachers are plain recipe runs: no distillation of their own, no logit adjustment
        tr = json.loads((tmp_path / f"teacher{m}" / "train_result.json").read_text())
        assert tr["prior_adjustment"] is None and tr["teachers"] is None
    assert res["prior_adjustment"] is not None  # the student keeps the recipe's adjustment
    # the student's targets: half the labels, half the teachers' mean flip-averaged opinion
    p = (predict_dataset(teachers[0], train) + predict_dataset(teachers[1], train)) / 2
    assert res["teachers"]["train_accuracy"] == pytest.approx(float((p.argmax(1) == train.labels).mean()))
    from dataclasses import replace

    from facecraft.eval.train import ensemble_targets

    start = FERClassifier(TINY)
    out = tmp_path / "again"
    targets, _ = ensemble_targets(train, val, start=start, out_dir=out, config=replace(cfg, epochs=1))
    again = [FERClassifier.from_pretrained(out / f"teacher{m}" / "best") for m in range(2)]
    q = (predict_dataset(again[0], train) + predict_dataset(again[1], train)) / 2
    np.testing.assert_allclose(targets, 0.5 * train.soft_targets() + 0.5 * q, atol=1e-5)
    np.testing.assert_allclose(targets.sum(axis=1), 1.0, atol=1e-5)
    with pytest.raises(ParameterError, match="distill_teachers"):
        TrainConfig(distill=0.5, distill_teachers=-1)


def test_an_output_folder_with_a_file_in_the_way_is_refused_before_any_work(tmp_path, capsys):
    # `fer eval --out photo.jpg/x` scored the whole set, then failed to make the folder in write_evaluation
    from facecraft.eval.train import check_output_folder
    from facecraft.rigs.paths import file_in_the_way

    photo = tmp_path / "photo.jpg"
    photo.write_bytes(b"jpg")
    for out in (photo, photo / "x", photo / "x" / "y"):
        with pytest.raises(NotADirectoryError) as caught:
            check_output_folder(out)
        assert caught.value.filename == str(out)
        assert file_in_the_way(caught.value.filename) == photo  # what `facecraft` names as in the way
    new = tmp_path / "runs" / "eval"  # a folder yet to be made, or one there, is taken and nothing is made
    assert check_output_folder(new) == new and not (tmp_path / "runs").exists()
    assert check_output_folder(tmp_path) == tmp_path
