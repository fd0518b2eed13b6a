"""Cross-validated augmentation gain (:mod:`facecraft.eval.augment_cv`): folds, what each fold trains on, the
out-of-fold assembly, and one real (tiny) run that is reused the second time."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from facecraft.eval import augment_cv
from facecraft.eval.augment_cv import cross_validate, fold_training_set, stratified_folds
from facecraft.eval.bench_augment import SYNTHETIC_WEIGHT
from facecraft.eval.datasets import FERDataset
from facecraft.rigs import EMOTIONS
from facecraft.rigs.errors import ParameterError


def _pool(counts, *, size=8, seed=0) -> FERDataset:
    rng = np.random.default_rng(seed)
    labels = np.repeat(np.arange(len(EMOTIONS)), counts)
    images = rng.integers(0, 255, (len(labels), size, size), dtype=np.uint8)
    return FERDataset(images, labels, [f"{EMOTIONS[c]}/real{i}.png" for i, c in enumerate(labels)])


def _synthetic(sources: list[str], label: str, *, size=8) -> FERDataset:
    n = len(sources)
    return FERDataset(
        np.zeros((n, size, size), np.uint8),
        np.full(n, EMOTIONS.index(label)),
        [f"augment/{label}/syn{i}.png" for i in range(n)],
    )


def test_folds_are_stratified_seeded_and_cover_every_image():
    labels = np.repeat(np.arange(8), [40, 7, 12, 30, 90, 100, 50, 41])
    fold = stratified_folds(labels, folds=5, seed=3)
    assert fold.shape == labels.shape and set(fold.tolist()) == set(range(5))
    for c in range(8):
        per_fold = np.bincount(fold[labels == c], minlength=5)
        assert per_fold.max() - per_fold.min() <= 1  # each class dealt out evenly
    np.testing.assert_array_equal(fold, stratified_folds(labels, folds=5, seed=3))
    assert not np.array_equal(fold, stratified_folds(labels, folds=5, seed=4))
    with pytest.raises(ParameterError, match="folds"):
        stratified_folds(labels, folds=1)


def test_a_fold_trains_only_on_synthetic_faces_of_its_own_training_faces():
    pool = _pool([6, 5, 5, 6, 6, 6, 6, 6])
    fold = stratified_folds(pool.labels, folds=3)
    neutral = [p for p in pool.paths if p.startswith("neutral/")]
    sources = neutral + ["photos/outside.png"]  # one source is no pool face: it joins every fold
    syn = _synthetic(sources, "contempt")
    for k in range(3):
        held = {p for p, f in zip(pool.paths, fold, strict=True) if f == k}
        ds = fold_training_set(pool, syn, sources, fold, k, balance="sqrt", synthetic_weight=SYNTHETIC_WEIGHT)
        real = [p for p in ds.paths if not p.startswith("augment/")]
        assert sorted(real) == sorted(set(pool.paths) - held)
        used = [sources[int(p.rsplit("syn", 1)[1][:-4])] for p in ds.paths if p.startswith("augment/")]
        assert used and not set(used) & held and "photos/outside.png" in used
        assert len(used) == sum(s not in held for s in sources)
        # real faces keep their baseline class weight, synthetic ones count less (arm_weights)
        w = ds.sample_weights()
        is_syn = np.array([p.startswith("augment/") for p in ds.paths])
        assert np.all(w[is_syn] < w[~is_syn & (ds.labels == EMOTIONS.index("contempt"))].min())
    base = fold_training_set(pool, None, [], fold, 0, balance="sqrt", synthetic_weight=SYNTHETIC_WEIGHT)
    assert base.weights is None and len(base) == int(np.sum(fold != 0))
    with pytest.raises(ParameterError, match="sources"):
        fold_training_set(pool, syn, sources[:-1], fold, 0, balance="sqrt", synthetic_weight=0.5)


def test_out_of_fold_predictions_are_assembled_per_face_and_compared_with_the_bootstrap(tmp_path, monkeypatch):
    """A fake trainer: the baseline predicts neutral everywhere, the augmented arm gets every contempt face right
    but only when its fold's training set held synthetic contempt; each face must be scored by its own fold."""
    pool = _pool([10, 10, 10, 10, 10, 30, 10, 10])
    sources = [p for p in pool.paths if p.startswith("neutral/")]
    syn = _synthetic(sources, "contempt")
    seen_held: list[set] = []
    seen_shift: list = []

    def fake_run(job):
        train, held = job["train"], job["held"]
        seen_held.append(set(held.paths))
        seen_shift.append(job["prior_shift"])
        assert not set(train.paths) & set(held.paths)
        probs = np.zeros((len(held), 8), np.float32)
        probs[:, EMOTIONS.index("neutral")] = 1.0
        if any(p.startswith("augment/") for p in train.paths):
            probs[held.labels == 1] = np.eye(8, dtype=np.float32)[1]
        return probs

    monkeypatch.setattr(augment_cv, "_fold_run", fake_run)
    res = cross_validate(pool, syn, sources, out_dir=tmp_path, folds=4, seeds=(0, 1), epochs=1, resamples=50)
    assert len(seen_held) == 4 * 2 * 2  # folds x arms x seeds
    # the augmented arm's model gets the baseline's contempt prior back, the baseline's is left as it is
    assert [s is None for s in seen_shift] == [True, True, False, False] * 4
    assert all(s[1] < 0 and (np.delete(s, 1) == 0).all() for s in seen_shift if s is not None)
    oof = np.load(tmp_path / "oof-augmented-s1.npy")
    assert (oof.argmax(1)[pool.labels == 1] == 1).all() and (oof.argmax(1)[pool.labels != 1] == 5).all()
    assert res["baseline"]["recall"]["contempt"] == 0 and res["augmented"]["recall"]["contempt"] == 1
    g = res["gain"]["macro_f1"]
    assert g["gain_points"] > 0 and g["ci95"][0] > 0
    # contempt is not among the 7 classes: there only neutral's precision moves (no contempt face read as neutral)
    assert 0 < res["gain"]["macro_f1_7"]["gain_points"] < g["gain_points"] / 5
    assert [s["macro_f1"] for s in res["gain_points_per_seed"]] == [g["gain_points"]] * 2
    assert sum(res["synthetic_per_fold"]) == 3 * len(sources)  # each source joins the 3 folds it is not held in
    with pytest.raises(ParameterError, match="synthetic"):
        cross_validate(pool, syn.take([]), [], out_dir=tmp_path, epochs=1)
    with pytest.raises(ParameterError, match="name"):
        cross_validate(pool, syn, sources, out_dir=tmp_path, epochs=1, name="train")


def test_a_recipe_that_picks_its_epoch_on_validation_is_refused(tmp_path, monkeypatch):
    from facecraft.eval import train as train_module

    pool = _pool([4] * 8)
    recipe = {
        **train_module.RECIPES["shipped"],
        "train": {**train_module.RECIPES["shipped"]["train"], "select": "best"},
    }
    monkeypatch.setitem(train_module.RECIPES, "picky", recipe)
    with pytest.raises(ParameterError, match="select"):
        cross_validate(pool, _synthetic(pool.paths[:2], "contempt"), pool.paths[:2], out_dir=tmp_path, epochs=1,
                       recipe="picky")  # fmt: skip


def test_a_real_tiny_cross_validation_runs_and_reuses_its_fold_runs(tmp_path):
    pool = replace(_pool([6] * 8, size=48), splits=None)
    sources = pool.paths[:12]
    syn = _synthetic(sources, "disgust", size=48)
    kw = dict(out_dir=tmp_path, folds=2, seeds=(0,), epochs=1, resamples=20, name="rule")
    first = cross_validate(pool, syn, sources, **kw)
    assert (tmp_path / "rule-s0-f1" / "held_probs.npy").is_file() and (tmp_path / "train-s0-f0").is_dir()
    oof = np.load(tmp_path / "oof-rule-s0.npy")
    assert oof.shape == (len(pool), 8) and np.allclose(oof.sum(1), 1.0, atol=1e-4)
    again = cross_validate(pool, syn, sources, **kw)
    assert again["gain"] == first["gain"] and again["wall_s"] < first["wall_s"]
    assert np.load(tmp_path / "rule-s0-f1" / "held_shift.npy")[EMOTIONS.index("disgust")] < 0
