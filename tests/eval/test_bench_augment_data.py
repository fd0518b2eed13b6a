"""``facecraft bench augment --set data=PATH``: the same comparison on a data set of one's own (issue: "the same
comparison will be run on faces you do not have"). The augmenter is stood in for (it has its own tests): it adds one
disgust face per train source, named as the real one names its sources; the data loading, the split, the checks and
the training of both arms are the bench's own, at a tiny budget."""

from __future__ import annotations

import csv
import json

import pytest
from PIL import Image

from facecraft.eval import augment, bench_augment
from facecraft.rigs import EMOTIONS, FileFormatError, MissingFileError

from .test_datasets import _face, _write_folder

TINY = {"epochs": 1, "seeds": (0,), "synthetic_weights": (0.5,), "per_class": 4, "max_sources": 4, "workers": 1}


@pytest.fixture
def fake_augment(monkeypatch):
    """``augment_dataset`` adding one disgust face per source of the set's train split (``dataset_sources``, the
    augmenter's own reading and naming), judged disgust by the main judge; records what it was asked."""
    asked = {}

    def fake(dataset, *, out, targets, max_sources=None, **kw):
        asked.update(dataset=dataset, targets=targets)
        faces, _, _, _ = augment.dataset_sources(dataset)
        out.mkdir(parents=True, exist_ok=True)
        (out / "disgust").mkdir(exist_ok=True)
        with open(out / "manifest.jsonl", "w") as fh:
            for i, face in enumerate(faces[:max_sources]):
                Image.fromarray(_face(1, 50 + i)).save(out / "disgust" / f"v{i}.png")
                scores = [0.02] * 8
                scores[EMOTIONS.index("disgust")] = 0.86
                fh.write(json.dumps({"source": face.id, "target": "disgust", "accepted": True,
                                     "file": f"disgust/v{i}.png", "scores": {"facecraft": scores},
                                     "source_scores": {"facecraft": [0.125] * 8}}) + "\n")  # fmt: skip
        run = {"wall_s": 1.0, "accepted_per_min": 1.0}
        return {"per_target": {"disgust": {"attempted": 4, "accepted": 4, "acceptance_rate": 1.0}}, "agreement": {},
                "bad_sources": [], "sources": 4, "all_runs": run, "this_run": run, "contact_sheet": None,
                "config": {}}  # fmt: skip

    monkeypatch.setattr(augment, "augment_dataset", fake)
    return asked


def _kaggle_set(root):
    """Kaggle's FER2013 folders: train/ and test/, no val/, no contempt."""
    names = ("angry", "disgust", "happy", "sad")
    _write_folder(root / "train", names=names, per_class=6)
    _write_folder(root / "test", names=names, per_class=2)
    return root


def test_the_bench_compares_on_a_split_folder_set_without_contempt(tmp_path, fake_augment):
    data = _kaggle_set(tmp_path / "kaggle")
    res = bench_augment.bench_augment(tmp_path / "out", data=str(data), targets=("contempt", "Disgust"), **TINY)
    assert fake_augment["dataset"] == data and fake_augment["targets"] == "disgust"  # no contempt to add to
    assert res["data"] == str(data) and res["targets"] == ["disgust"]
    split = res["split"]
    assert "own test part" in split["origin"] and "10% of its train part" in split["origin"]
    assert (split["train"]["images"], split["val"]["images"], split["test"]["images"]) == (20, 4, 8)
    assert split["test"]["class_counts"]["contempt"] == 0 and res["test_images"] == 8
    # the set's class is n/a, not a recall of 0; the arms trained and were scored on the set's own test part
    for arm in (res["baseline"][0], res["augmented"][0]):
        assert arm["recall"]["contempt"] is None and arm["recall"]["disgust"] is not None
    assert res["gain_points"]["recall"]["contempt"] is None
    assert res["gain_points_per_seed"][0]["recall"]["contempt"] is None
    assert res["augmented"][0]["train_class_counts"]["disgust"] == 5 + 4
    assert res["augmentation"]["added_per_class"]["disgust"] == 4
    # its work folder is its own: fer-dev's augmented set and arms under OUT/augment/ are left alone
    assert not (tmp_path / "out" / "augment").exists() and list((tmp_path / "out").glob("augment-kaggle-*/data"))


def test_a_fer2013_csv_keeps_its_usage_split_and_its_sources_are_train_rows(tmp_path, fake_augment):
    path = tmp_path / "fer2013.csv"
    with path.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["emotion", "pixels", "Usage"])
        for code in (0, 1, 3, 4):  # anger, disgust, happiness, sadness
            for k, usage in enumerate(["Training"] * 5 + ["PublicTest", "PrivateTest"]):
                w.writerow([code, " ".join(map(str, _face(code, k).ravel())), usage])
    # the augmenter names a CSV row's face "<csv>/<row>": read as not a train image, the bench stopped
    res = bench_augment.bench_augment(tmp_path / "out", data=path, **{**TINY, "seeds": ()})
    assert res["split"]["origin"].startswith("the set's own")
    assert [res["split"][p]["images"] for p in ("train", "val", "test")] == [20, 4, 4]
    assert res["augmentation"]["added_images"] == 4


def test_a_set_without_a_test_part_or_too_small_is_a_clear_error(tmp_path, fake_augment):
    only_train = tmp_path / "only_train"
    _write_folder(only_train / "train", names=("angry", "disgust", "happy"), per_class=6)
    with pytest.raises(FileFormatError, match=r"data set .*only_train has no test part \(18 images: train 15, val 3"):
        bench_augment.bench_augment(tmp_path / "out", data=only_train, **TINY)
    tiny = _write_folder(tmp_path / "tiny", names=("angry", "disgust", "happy"), per_class=2)  # no split of its own
    with pytest.raises(FileFormatError, match=r"data set .*tiny has no test part .*3 or more"):
        bench_augment.bench_augment(tmp_path / "out", data=tiny, **TINY)
    one_class = tmp_path / "one_class"
    _write_folder(one_class / "train", names=("disgust",), per_class=6)
    _write_folder(one_class / "test", names=("disgust", "happy"), per_class=2)
    with pytest.raises(FileFormatError, match=r"one_class is too small for the recipe: its train part holds 1 class"):
        bench_augment.bench_augment(tmp_path / "out", data=one_class, **TINY)
    no_target = _kaggle_set(tmp_path / "no_target")
    with pytest.raises(FileFormatError, match=r"data set .*no_target has no image of the targets contempt"):
        bench_augment.bench_augment(tmp_path / "out", data=no_target, targets=("contempt",), **TINY)
    with pytest.raises(MissingFileError, match=r"data set .*nowhere not found"):
        bench_augment.bench_augment(tmp_path / "out", data=tmp_path / "nowhere", **TINY)
    assert "dataset" not in fake_augment  # every check comes before the augmentation


def test_the_cli_setting_reaches_the_bench():
    from facecraft.apps.cli import bench_options

    # as bench fer takes its set: --set data=PATH (was: "unknown option 'data'")
    assert bench_options(bench_augment.bench_augment, ["data=sets/my fer"], name="augment") == {"data": "sets/my fer"}


def test_a_numbered_set_is_compared_with_its_label_order(tmp_path, monkeypatch):
    # AffectNet's numbered folders: the bench had no label_order to pass (the set was refused as "named by number");
    # it now reaches the bench's own read, the augmenter and the read of the augmented (numbered) folder
    from facecraft.eval.datasets import class_folder_names

    asked = {}

    def fake(dataset, *, out, targets, max_sources=None, label_order=None, **kw):
        asked.update(label_order=label_order)
        faces, _, _, _ = augment.dataset_sources(dataset, label_order=label_order)
        folder = class_folder_names(dataset, label_order=label_order)["disgust"]  # as augment_dataset writes it
        (out / folder).mkdir(parents=True)
        with open(out / "manifest.jsonl", "w") as fh:
            for i, face in enumerate(faces[:max_sources]):
                Image.fromarray(_face(1, 50 + i)).save(out / folder / f"v{i}.png")
                scores = [0.02] * 8
                scores[EMOTIONS.index("disgust")] = 0.86
                record = {"source": face.id, "target": "disgust", "accepted": True, "file": f"{folder}/v{i}.png"}
                fh.write(json.dumps({**record, "scores": {"facecraft": scores}}) + "\n")
        run = {"wall_s": 1.0, "accepted_per_min": 1.0}
        return {"per_target": {"disgust": {"attempted": 4, "accepted": 4, "acceptance_rate": 1.0}}, "agreement": {},
                "bad_sources": [], "sources": 4, "all_runs": run, "this_run": run, "contact_sheet": None,
                "config": {}}  # fmt: skip

    monkeypatch.setattr(augment, "augment_dataset", fake)
    data = tmp_path / "affectnet"
    _write_folder(data / "train", names=("0", "1", "5", "6"), per_class=6)  # neutral, happiness, disgust, anger
    _write_folder(data / "test", names=("0", "1", "5", "6"), per_class=2)
    with pytest.raises(FileFormatError, match="named by number"):
        bench_augment.bench_augment(tmp_path / "out", data=data, **{**TINY, "seeds": ()})
    as_shipped = tmp_path / "affectnet_val"  # AffectNet's own folders: train/ and val/, the val part its test set
    _write_folder(as_shipped / "train", names=("0", "5"), per_class=6)
    _write_folder(as_shipped / "val", names=("0", "5"), per_class=2)
    with pytest.raises(FileFormatError, match=r"no test part .*train/ and val/ \(AffectNet\) tests on val/: name"):
        bench_augment.bench_augment(tmp_path / "out", data=as_shipped, label_order="affectnet", **TINY)
    res = bench_augment.bench_augment(tmp_path / "out", data=data, label_order="affectnet", **{**TINY, "seeds": ()})
    assert asked["label_order"] == "affectnet" and res["label_order"] == "affectnet"
    assert res["split"]["test"]["class_counts"]["disgust"] == 2 and res["split"]["test"]["class_counts"]["anger"] == 2
    assert res["augmentation"]["added_per_class"]["disgust"] == 4  # read from the augmented folder 5/
    from facecraft.apps.cli import bench_options

    assert bench_options(bench_augment.bench_augment, ["label_order=raf-db"], name="augment") == {
        "label_order": "raf-db"
    }


def test_a_set_whose_targets_are_as_large_as_its_largest_class_says_so(tmp_path, monkeypatch):
    # a balanced set: every quota is 0, no source is tried, and the bench said "from 0 sources ... try more sources"
    def nothing_to_add(dataset, *, out, targets, **kw):
        out.mkdir(parents=True, exist_ok=True)
        (out / "manifest.jsonl").write_text("")
        run = {"wall_s": 0.0, "accepted_per_min": 0.0}
        return {"per_target": {}, "quotas": {"disgust": 0}, "sources": 0, "all_runs": run, "this_run": run}

    monkeypatch.setattr(augment, "augment_dataset", nothing_to_add)
    data = _kaggle_set(tmp_path / "balanced")
    with pytest.raises(FileFormatError, match=r"disgust are already as large as its largest class .*nothing to add"):
        bench_augment.bench_augment(tmp_path / "out", data=data, targets=("disgust",), **TINY)
