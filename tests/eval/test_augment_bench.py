"""``bench augment``'s loss weights: the augmented arm is the baseline's loss plus the synthetic images."""

from __future__ import annotations

import numpy as np

from facecraft.eval.bench_augment import SYNTHETIC_WEIGHT, arm_weights, synthetic_prior_shift
from facecraft.eval.train import class_weights
from facecraft.rigs import EMOTIONS


def _skewed_set():
    """Real labels with two rare classes (1, 3), synthetic labels for them, the joined labels, which are synthetic,
    and the real class counts."""
    real = np.array([0] * 10 + [1] * 2 + [2] * 40 + [3] * 5 + [4] * 30 + [5] * 30 + [6] * 20 + [7] * 20)
    synthetic_labels = np.array([1] * 6 + [3] * 15)
    labels = np.r_[real, synthetic_labels]
    synthetic = np.r_[np.zeros(len(real), bool), np.ones(len(synthetic_labels), bool)]
    return real, synthetic_labels, labels, synthetic, np.bincount(real, minlength=len(EMOTIONS))


def test_real_images_keep_their_baseline_class_weight_and_synthetic_ones_count_less():
    real, synthetic_labels, labels, synthetic, real_counts = _skewed_set()
    w = arm_weights(real_counts, labels, synthetic, balance="sqrt")
    # what the trainer multiplies in: its class weights from the counts it sees
    seen = class_weights(np.bincount(labels, minlength=len(EMOTIONS)), mode="sqrt").numpy()
    base = class_weights(real_counts, mode="sqrt").numpy()
    effective = seen[labels] * w
    np.testing.assert_allclose(effective[~synthetic], base[real], rtol=1e-5)
    np.testing.assert_allclose(effective[synthetic], SYNTHETIC_WEIGHT * base[synthetic_labels], rtol=1e-5)
    # the rare classes' real images would have lost weight to their synthetic ones without the correction
    assert seen[1] < base[1] and w[labels == 1].max() > 1.0
    # no balancing in the recipe: real images weigh 1, synthetic ones SYNTHETIC_WEIGHT
    flat = arm_weights(real_counts, labels, synthetic, balance="none")
    assert set(np.unique(flat[~synthetic])) == {1.0} and np.allclose(flat[synthetic], SYNTHETIC_WEIGHT)


def test_the_prior_shift_gives_back_each_class_its_real_share_of_the_loss():
    real, synthetic_labels, labels, synthetic, real_counts = _skewed_set()
    w = arm_weights(real_counts, labels, synthetic, balance="sqrt", synthetic_weight=0.25)
    shift = synthetic_prior_shift(w, labels, synthetic)
    # class 1: 2 real faces and 6 edits at a quarter of their weight; class 3: 5 and 15; the rest none
    np.testing.assert_allclose(shift[[1, 3]], np.log([2 / (2 + 0.25 * 6), 5 / (5 + 0.25 * 15)]), rtol=1e-5)
    assert (shift[[0, 2, 4, 5, 6, 7]] == 0).all()
    # a model whose logits are its training set's log class masses gets the baseline's back
    seen = class_weights(np.bincount(labels, minlength=len(EMOTIONS)), mode="sqrt").numpy()
    mass = np.bincount(labels, weights=seen[labels] * w, minlength=len(EMOTIONS))
    base = class_weights(real_counts, mode="sqrt").numpy() * real_counts
    np.testing.assert_allclose(np.log(mass) + shift, np.log(base), rtol=1e-5)
    # nothing synthetic, or a class with no faces: no shift
    assert (synthetic_prior_shift(np.ones(len(real)), real, np.zeros(len(real), bool)) == 0).all()
    assert synthetic_prior_shift(np.ones(3), np.array([0, 0, 1]), np.array([False, True, True]))[1] == 0


def test_a_finished_training_is_reused_only_under_the_same_key(tmp_path):
    import json
    from types import SimpleNamespace

    from facecraft.eval.bench_augment import ARM_RESULT, _finished_training

    key = {"train": "a", "val": "b", "trainer_sha256": "c"}
    done = tmp_path / ARM_RESULT
    assert _finished_training(done, key, SimpleNamespace(select="last")) is None  # nothing trained yet
    training = {"model_dir": str(tmp_path / "best"), "epochs_run": 5, "best_epoch": 5, "wall_s": 1.0, "cpu_s": 1.0}
    done.write_text(json.dumps({"key": key, "training": training}))
    assert _finished_training(done, key, SimpleNamespace(select="best"))["model_dir"] == training["model_dir"]
    assert _finished_training(done, {**key, "trainer_sha256": "changed"}, SimpleNamespace(select="last")) is None
    # an older record (post-training steps inside the key, best/ adjusted in place): its last/ model, and only
    # when the recipe keeps the last epoch
    result = {"epochs_run": 5, "best_epoch": 5, "wall_s": 2.0, "cpu_s": 2.0}
    done.write_text(json.dumps({"key": {**key, "real_counts": [1] * 8, "prior_adjust": True}, "result": result}))
    old = _finished_training(done, key, SimpleNamespace(select="last"))
    assert old["model_dir"] == str(tmp_path / "last") and old["reused"]
    assert _finished_training(done, key, SimpleNamespace(select="best")) is None


def test_paired_bootstrap_gain_is_zero_for_equal_arms_and_sure_for_a_clear_gain():
    from facecraft.eval.bench_augment import paired_bootstrap_gain

    rng = np.random.default_rng(0)
    labels = np.repeat(np.arange(8), [40, 8, 8, 30, 80, 90, 50, 40])
    noisy = [np.where(rng.uniform(size=len(labels)) < 0.7, labels, rng.integers(0, 8, len(labels))) for _ in range(3)]
    same = paired_bootstrap_gain(labels, noisy, noisy, resamples=200)
    assert same["macro_f1"]["gain_points"] == 0 and same["macro_f1"]["ci95"] == [0, 0]
    assert same["macro_f1"]["p_gain_above_0"] == 0 and same["seeds"] == 3
    # the augmented arms get every contempt and disgust face right: +gain, the interval above zero
    better = [np.where(np.isin(labels, [1, 2]), labels, p) for p in noisy]
    sure = paired_bootstrap_gain(labels, noisy, better, resamples=200)
    g = sure["macro_f1"]
    assert g["gain_points"] > 3 and 0 < g["ci95"][0] <= g["gain_points"] <= g["ci95"][1]
    assert g["p_gain_above_0"] == 1.0 and g["p_gain_at_least_3"] > 0.5
    # contempt is not among the 7 shared classes: only disgust counts there
    assert 0 < sure["macro_f1_7"]["gain_points"] < g["gain_points"]
    import pytest

    from facecraft.rigs import ParameterError

    with pytest.raises(ParameterError, match="bootstrap"):
        paired_bootstrap_gain(labels, noisy, noisy[:2])


def test_the_synthetic_weight_is_chosen_on_validation_only():
    import pytest

    from facecraft.eval.bench_augment import choose_synthetic_weight
    from facecraft.rigs import ParameterError

    runs = {
        0.5: [{"val_macro_f1": 0.55, "macro_f1": 0.9}, {"val_macro_f1": 0.57, "macro_f1": 0.9}],
        1.0: [{"val_macro_f1": 0.58, "macro_f1": 0.1}, {"val_macro_f1": 0.56, "macro_f1": 0.1}],
    }
    chosen, means = choose_synthetic_weight(runs)
    assert chosen == 1.0 and means[0.5] == pytest.approx(0.56)  # test figures (macro_f1) play no part
    tie = {w: [{"val_macro_f1": 0.5}] for w in (0.5, 1.0)}
    assert choose_synthetic_weight(tie)[0] == 0.5  # ties keep the first listed
    with pytest.raises(ParameterError):
        choose_synthetic_weight({0.5: []})


def test_a_folder_made_with_a_lower_bar_is_held_to_the_bench_bar():
    from facecraft.eval.bench_augment import passing_files

    def rec(target, p, accepted=True, file=True):
        scores = [0.0] * len(EMOTIONS)
        scores[EMOTIONS.index(target)] = p
        return {"target": target, "accepted": accepted, "scores": {"facecraft": scores},
                **({"file": f"{target}/{p}.png"} if file else {})}  # fmt: skip

    records = [rec("contempt", 0.2), rec("contempt", 0.06), rec("disgust", 0.125), rec("disgust", 0.3, accepted=False)]
    assert passing_files(records, min_confidence=0.125) == {"contempt/0.2.png", "disgust/0.125.png"}
    assert len(passing_files(records, min_confidence=0.05)) == 3
    # the top-k rule too: disgust at 0.15 ranked fourth behind three classes at 0.2 is held out
    fourth = {**rec("disgust", 0.15), "file": "disgust/fourth.png"}
    fourth["scores"]["facecraft"][:2] = [0.2, 0.2]
    fourth["scores"]["facecraft"][3] = 0.2
    assert "disgust/fourth.png" in passing_files([fourth], min_confidence=0.125)
    assert passing_files([fourth], min_confidence=0.125, top_k=3) == set()
    assert passing_files([fourth], min_confidence=0.125, top_k=4) == {"disgust/fourth.png"}


def test_one_variant_per_source_and_target_keeps_the_one_the_judge_believes_most():
    import pytest

    from facecraft.eval.bench_augment import passing_files
    from facecraft.rigs import ParameterError

    def rec(source, target, p, k):
        scores = [0.0] * len(EMOTIONS)
        scores[EMOTIONS.index(target)] = p
        return {"source": source, "target": target, "accepted": True, "scores": {"facecraft": scores},
                "file": f"{target}/{source}_{k}.png"}  # fmt: skip

    records = [
        rec("a", "contempt", 0.2, 0), rec("a", "contempt", 0.4, 1), rec("a", "contempt", 0.3, 2),
        rec("a", "disgust", 0.2, 0), rec("b", "contempt", 0.13, 0), rec("b", "contempt", 0.1, 1),
    ]  # fmt: skip
    assert passing_files(records, min_confidence=0.125, per_source=1) == {
        "contempt/a_1.png", "disgust/a_0.png", "contempt/b_0.png"
    }  # fmt: skip
    two = passing_files(records, min_confidence=0.125, per_source=2)
    assert two == {"contempt/a_1.png", "contempt/a_2.png", "disgust/a_0.png", "contempt/b_0.png"}
    assert len(passing_files(records, min_confidence=0.125)) == 5  # None keeps every passing variant
    with pytest.raises(ParameterError, match="per_source"):
        passing_files(records, min_confidence=0.125, per_source=0)


def test_an_augmented_arm_with_another_selection_or_adjustment_grid_gets_its_own_folder():
    from facecraft.eval.bench_augment import _augmented_dir

    assert _augmented_dir(SYNTHETIC_WEIGHT, 3) == "augmented-s3"  # earlier runs' folders stay reusable
    assert _augmented_dir(1.0, 3) == "augmented-w1-s3"
    assert _augmented_dir(SYNTHETIC_WEIGHT, 0, per_source=1, taus=(0.0, 0.1)) == "augmented-p1-tau0_0.1-s0"
    names = {_augmented_dir(w, 0, per_source=p) for w in (SYNTHETIC_WEIGHT, 1.0) for p in (None, 1)}
    assert len(names) == 4


def test_a_lift_bar_keeps_only_variants_the_edit_moved_toward_the_target():
    import pytest

    from facecraft.eval.bench_augment import passing_files
    from facecraft.rigs import ParameterError

    def rec(source, k, p, p_source, with_source=True):
        scores, before = [0.0] * len(EMOTIONS), [0.0] * len(EMOTIONS)
        scores[1], before[1] = p, p_source
        r = {"source": source, "target": "contempt", "accepted": True, "scores": {"facecraft": scores},
             "file": f"contempt/{source}_{k}.png"}  # fmt: skip
        return {**r, "source_scores": {"facecraft": before}} if with_source else r

    records = [
        rec("a", 0, 0.30, 0.25), rec("a", 1, 0.20, 0.10),  # the most believed variant barely moved its source
        rec("b", 0, 0.15, 0.20),  # the edit lowered the judge's contempt
        rec("c", 0, 0.40, 0.01), rec("d", 0, 0.40, 0.0, with_source=False),
    ]  # fmt: skip
    assert passing_files(records, min_confidence=0.125, per_source=1) == {
        "contempt/a_0.png", "contempt/b_0.png", "contempt/c_0.png", "contempt/d_0.png"
    }  # fmt: skip
    # with the bar, source a keeps its other variant, b none, d (no source scores to check) none
    lifted = passing_files(records, min_confidence=0.125, per_source=1, min_lift=1.5)
    assert lifted == {"contempt/a_1.png", "contempt/c_0.png"}
    with pytest.raises(ParameterError, match="min_lift"):
        passing_files(records, min_confidence=0.125, min_lift=-0.5)


def test_synthetic_weights_per_class():
    import pytest

    from facecraft.rigs import ParameterError

    real = np.repeat(np.arange(8), [10, 2, 3, 5, 30, 30, 20, 20])
    syn_labels = np.array([1] * 4 + [2] * 6)
    labels = np.r_[real, syn_labels]
    synthetic = np.r_[np.zeros(len(real), bool), np.ones(len(syn_labels), bool)]
    counts = np.bincount(real, minlength=8)
    w = arm_weights(counts, labels, synthetic, balance="none", synthetic_weight={"contempt": 1.0, "disgust": 0.25})
    assert np.allclose(w[synthetic & (labels == 1)], 1.0) and np.allclose(w[synthetic & (labels == 2)], 0.25)
    assert np.allclose(w[~synthetic], 1.0)
    # a class not named keeps the default; a mapping equal to a float gives the float's weights
    same = arm_weights(counts, labels, synthetic, balance="sqrt", synthetic_weight={"contempt": SYNTHETIC_WEIGHT})
    np.testing.assert_allclose(same, arm_weights(counts, labels, synthetic, balance="sqrt"))
    with pytest.raises(ParameterError, match="synthetic_weight"):
        arm_weights(counts, labels, synthetic, balance="none", synthetic_weight={"contemptt": 1.0})
    with pytest.raises(ParameterError, match="synthetic_weight"):
        arm_weights(counts, labels, synthetic, balance="none", synthetic_weight=-1.0)


def test_a_stricter_second_judge_vote_per_target():
    from facecraft.eval.bench_augment import passing_files

    def rec(name, target, second):
        main = [0.0] * 8
        main[EMOTIONS.index(target)] = 0.5
        other = [0.0] * 8
        for rank, cls in enumerate(second):
            other[EMOTIONS.index(cls)] = 0.5 - 0.1 * rank
        return {"source": name, "target": target, "accepted": True, "file": f"{target}/{name}.png",
                "scores": {"facecraft": main, "mini-xception": other}}  # fmt: skip

    records = [
        rec("a", "disgust", ["disgust", "anger"]),  # mini-Xception's first class
        rec("b", "disgust", ["anger", "disgust"]),  # only its second
        rec("c", "contempt", ["neutral"]),  # contempt asks nothing more
        {**rec("d", "disgust", ["disgust"]), "scores": {"facecraft": rec("d", "disgust", [])["scores"]["facecraft"]}},
    ]
    loose = passing_files(records, min_confidence=0.125)
    assert loose == {"disgust/a.png", "disgust/b.png", "contempt/c.png", "disgust/d.png"}
    strict = passing_files(records, min_confidence=0.125, agreement={"disgust": ("mini-xception", 1)})
    assert strict == {"disgust/a.png", "contempt/c.png"}  # d has no mini-Xception scores: left out
    assert passing_files(records, min_confidence=0.125, agreement={"disgust": ("mini-xception", 2)}) == {
        "disgust/a.png", "disgust/b.png", "contempt/c.png"
    }  # fmt: skip


def test_selected_synthetic_faces_carry_their_sources(tmp_path):
    from PIL import Image

    from facecraft.eval.bench_augment import selected_synthetic

    folder = tmp_path / "data"
    records = []
    for i, target in enumerate(["contempt", "contempt", "disgust", "fear"]):
        (folder / target).mkdir(parents=True, exist_ok=True)
        Image.fromarray(np.full((48, 48), 10 * i, np.uint8)).save(folder / target / f"v{i}.png")
        records.append({"source": f"neutral/src{i}.png", "target": target, "accepted": True,
                        "file": f"{target}/v{i}.png"})  # fmt: skip
    kept = {"contempt/v1.png", "disgust/v2.png", "fear/v3.png"}
    ds, sources = selected_synthetic(folder, records, kept, targets=("contempt", "disgust"))
    assert sorted(ds.paths) == ["augment/contempt/v1.png", "augment/disgust/v2.png"]  # fear: not a target
    assert dict(zip(ds.paths, sources, strict=True)) == {
        "augment/contempt/v1.png": "neutral/src1.png", "augment/disgust/v2.png": "neutral/src2.png"
    }  # fmt: skip
    assert ds.splits is None and ds.images.shape == (2, 48, 48)


def test_selected_synthetic_faces_larger_than_a_crop_are_read_as_the_crops_they_are(tmp_path):
    # 100 px edits of an aligned colour set were searched for a face again: those the search missed were dropped
    from PIL import Image

    from facecraft.eval.bench_augment import selected_synthetic

    folder = tmp_path / "out"
    (folder / "disgust").mkdir(parents=True)
    rng = np.random.default_rng(0)
    records = []
    for i in range(3):  # no face a detector finds, as an edit whose face the search misses
        Image.fromarray((rng.random((100, 100, 3)) * 255).astype(np.uint8)).save(folder / "disgust" / f"v{i}.png")
        records.append({"source": f"happy/{i}.jpg", "target": "disgust", "accepted": True, "file": f"disgust/v{i}.png"})
    ds, sources = selected_synthetic(folder, records, {r["file"] for r in records}, targets=("disgust",))
    assert len(ds) == 3 and sources == ["happy/0.jpg", "happy/1.jpg", "happy/2.jpg"]  # were 0: "no face found"
    assert ds.images.shape == (3, 48, 48)


def test_the_bench_cross_validates_over_train_and_val_only(tmp_path, monkeypatch):
    """``--set cv_folds=3 --set seeds=()``: the pool is train + val (test never), the synthetic faces the bench's
    kept ones with their sources; no fixed-split arm is trained."""
    import json

    from PIL import Image

    from facecraft.eval import augment, augment_cv, bench_augment, datasets
    from facecraft.eval.datasets import FERDataset

    n = 48
    labels = np.arange(n) % 8
    splits = np.array(["train", "train", "val", "test"] * (n // 4), dtype=object)
    paths = [f"{EMOTIONS[c]}/f{i}.png" for i, c in enumerate(labels)]
    data = FERDataset(np.zeros((n, 48, 48), np.uint8), labels, paths, splits)
    (tmp_path / "shared" / "data" / "fer-dev").mkdir(parents=True)
    train_paths = [p for p, s in zip(paths, splits, strict=True) if s == "train"]

    def fake_augment(dataset, *, out, **kw):
        out.mkdir(parents=True, exist_ok=True)
        with open(out / "manifest.jsonl", "w") as fh:
            for i, src in enumerate(train_paths[:6]):
                target = ("contempt", "disgust")[i % 2]
                (out / target).mkdir(exist_ok=True)
                Image.fromarray(np.zeros((48, 48), np.uint8)).save(out / target / f"v{i}.png")
                scores = [0.0] * 8
                scores[EMOTIONS.index(target)] = 0.9
                fh.write(json.dumps({"source": src, "target": target, "accepted": True, "file": f"{target}/v{i}.png",
                                     "scores": {"facecraft": scores}}) + "\n")  # fmt: skip
        run = {"wall_s": 1.0, "accepted_per_min": 1.0}
        return {"per_target": {}, "agreement": {}, "bad_sources": [], "sources": 6, "all_runs": run,
                "this_run": run, "contact_sheet": None, "config": {}}  # fmt: skip

    seen = {}

    def fake_cv(pool, synthetic, sources, **kw):
        seen.update(pool=pool, synthetic=synthetic, sources=sources, **kw)
        return {"gain": {"macro_f1": {"gain_points": 1.0}}}

    monkeypatch.setattr(bench_augment, "shared_data_dir", lambda: tmp_path / "shared")
    monkeypatch.setattr(datasets, "load_dataset", lambda *a, **k: data)
    monkeypatch.setattr(augment, "augment_dataset", fake_augment)
    monkeypatch.setattr(augment_cv, "cross_validate", fake_cv)
    res = bench_augment.bench_augment(tmp_path / "out", seeds=(), cv_folds=3, cv_seeds=(7,), epochs=2)
    pool = seen["pool"]
    assert sorted(pool.paths) == sorted(p for p, s in zip(paths, splits, strict=True) if s != "test")
    assert seen["folds"] == 3 and seen["seeds"] == (7,) and seen["epochs"] == 2
    assert seen["synthetic_weight"] == bench_augment.SYNTHETIC_WEIGHTS[0]
    assert len(seen["synthetic"]) == 6 and sorted(seen["sources"]) == sorted(train_paths[:6])
    assert res["cross_validation"]["gain"]["macro_f1"]["gain_points"] == 1.0
    assert "baseline" not in res and res["augmentation"]["added_images"] == 6
