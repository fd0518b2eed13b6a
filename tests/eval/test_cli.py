"""``facecraft fer train``, ``fer eval`` and ``fer predict`` end to end on a tiny image folder."""

from __future__ import annotations

import json

import numpy as np
from PIL import Image

from facecraft.apps.cli import build_parser, main
from facecraft.eval.classifier import FERClassifierConfig
from facecraft.eval.cli import TRAIN_OPTIONS, model_config_from_args, train_config_from_args
from facecraft.eval.train import TrainConfig
from facecraft.rigs import EMOTIONS


def test_fer_train_then_eval(tmp_path, capsys, tiny_fer_folder):
    data = tiny_fer_folder
    out = tmp_path / "run"
    rc = main(["fer", "train", "--data", str(data), "--out", str(out), "--epochs", "1", "--widths", "8", "16",
               "--batch-size", "8", "--export", str(tmp_path / "mine")])  # fmt: skip
    assert rc == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["epochs_run"] == 1
    assert summary["test_recall"]["contempt"] is None and summary["test_recall"]["happiness"] is not None
    card = next((tmp_path / "mine").glob("*.card.md")).read_text()  # exported weights come with their model card
    assert f"| test | {summary['test_accuracy']:.4f} |" in card and "research use" in card
    assert "- command: `facecraft fer train --data" in card
    test_report = json.loads((out / "facecraft_test_report.json").read_text())
    assert summary["test_macro_f1"] == test_report["macro_f1"] and test_report["n"] == 6
    assert json.loads((out / "best" / "config.json").read_text())["widths"] == [8, 16]
    assert (out / "facecraft_test_confusion.png").read_bytes()[:4] == b"\x89PNG"

    rc = main(["fer", "eval", "--judge", "facecraft", "--weights", str(out / "best"), "--data", str(data),
               "--out", str(tmp_path / "ev")])  # fmt: skip
    assert rc == 0
    res = json.loads(capsys.readouterr().out)
    assert res["judge"] == "facecraft" and res["split"] == "test" and res["n"] == 6
    report = json.loads((tmp_path / "ev" / "facecraft_test_report.json").read_text())
    # the same weights on the same split: eval agrees with the figures train wrote
    assert report["confusion_matrix"] == test_report["confusion_matrix"]
    assert res["macro_f1"] == test_report["macro_f1"]

    rc = main(
        ["fer", "eval", "--judge", "networkv2", "--data", str(data), "--subset", "all", "--out", str(tmp_path / "ev")]
    )
    assert rc == 0
    res = json.loads(capsys.readouterr().out)
    assert res["n"] == 30 and set(res["recall"]) >= {"happiness", "sadness", "surprise"}
    # the folder holds no contempt, anger...: no recall to give (a 0.0 read as a class the judge never gets right)
    assert res["recall"]["contempt"] is None and res["recall"]["anger"] is None
    assert all(isinstance(res["recall"][c], float) for c in ("happiness", "sadness", "surprise"))


def test_fer_eval_says_how_many_images_it_skipped(tmp_path, capsys, tiny_fer_folder):
    data = tiny_fer_folder
    (data / "happy" / "broken.png").write_bytes(b"not a png")
    rc = main(["fer", "eval", "--judge", "networkv2", "--data", str(data), "--subset", "all", "--out", str(tmp_path)])
    assert rc == 0
    out = capsys.readouterr()
    assert json.loads(out.out)["skipped"] == 1 and "1 images skipped" in out.err and "broken.png" in out.err


def test_fer_eval_uses_the_shipped_weights_without_weights_option(tmp_path, capsys, tiny_fer_folder):
    from facecraft.eval.classifier import FERClassifier
    from facecraft.eval.datasets import load_dataset

    data = tiny_fer_folder
    rc = main(["fer", "eval", "--judge", "facecraft", "--data", str(data), "--subset", "all", "--out", str(tmp_path)])
    assert rc == 0
    res = json.loads(capsys.readouterr().out)
    assert res["judge"] == "facecraft" and res["n"] == 30
    model = FERClassifier.from_pretrained()
    ds = load_dataset(data, size=model.config.image_size)
    expected = model.predict_proba(ds.images, detect=False).argmax(axis=1)
    report = json.loads((tmp_path / "facecraft_all_report.json").read_text())
    assert np.asarray(report["confusion_matrix"]).sum(axis=0).tolist() == np.bincount(expected, minlength=8).tolist()


def test_recipe_fills_unset_options_and_flags_win():
    args = _train_args("--recipe", "shipped", "--lr", "0.01", "--no-flip-tta")
    from facecraft.eval.train import RECIPES

    cfg, model = train_config_from_args(args), model_config_from_args(args)
    assert cfg.lr == 0.01 and cfg.select == RECIPES["shipped"]["train"]["select"]
    assert model.init == "mini_xception" and model.image_size == RECIPES["shipped"]["model"]["image_size"]
    assert model.flip_tta is False
    assert train_config_from_args(_train_args("--no-soft-labels")).soft_labels is False


def test_fer_eval_unknown_judge_is_a_clean_error(tmp_path, capsys, tiny_fer_folder):
    data = tiny_fer_folder
    rc = main(["fer", "eval", "--judge", "nope", "--data", str(data), "--out", str(tmp_path / "ev")])
    assert rc == 1
    assert "unknown judge 'nope'" in capsys.readouterr().err


def _train_args(*extra):
    return build_parser().parse_args(["fer", "train", "--data", "d", "--out", "o", *extra])


def test_train_options_default_to_the_config_dataclasses():
    args = _train_args()
    assert train_config_from_args(args) == TrainConfig()
    assert model_config_from_args(args) == FERClassifierConfig()
    assert model_config_from_args(_train_args("--arch", "xception")) == FERClassifierConfig.xception()
    assert model_config_from_args(_train_args("--init", "mini_xception")) == FERClassifierConfig.mini_xception()
    given = _train_args("--threads", "1", "--minutes", "2.5", "--balance", "sampler", "--freeze-blocks", "2")
    cfg = train_config_from_args(given)
    assert (cfg.num_threads, cfg.minutes, cfg.balance, cfg.freeze_blocks) == (1, 2.5, "sampler", 2)
    custom = model_config_from_args(_train_args("--widths", "8", "16", "--image-size", "32", "--dropout", "0"))
    assert (custom.widths, custom.image_size, custom.dropout, custom.arch) == ((8, 16), 32, 0.0, "resnet")
    assert set(TRAIN_OPTIONS) <= set(TrainConfig.__dataclass_fields__)
    photos = train_config_from_args(_train_args("--unlabelled", "faces-utk", "--unlabelled-weight", "0.5"))
    assert (photos.unlabelled, photos.unlabelled_weight) == ("faces-utk", 0.5)


def test_photo_smiles_flag_overrides_the_recipe():
    from facecraft.eval.train import RECIPES

    shipped = train_config_from_args(_train_args("--recipe", "shipped"))
    assert shipped.photo_smiles == tuple(RECIPES["shipped"]["train"]["photo_smiles"])
    none = train_config_from_args(_train_args("--recipe", "shipped", "--photo-smiles"))
    assert none.photo_smiles == ()
    some = train_config_from_args(_train_args("--photo-smiles", "0.25", "0.5", "--photo-smile-copies", "3"))
    assert (some.photo_smiles, some.photo_smile_copies) == ((0.25, 0.5), 3)


def _augment_folder(root, sources, target="sadness"):
    """A `facecraft augment` output: one accepted face per source, and its manifest."""
    from PIL import Image

    (root / target).mkdir(parents=True)
    lines = []
    for i, source in enumerate(sources):
        Image.fromarray(np.full((48, 48), 40 + 20 * i, np.uint8)).save(root / target / f"s{i}.png")
        lines.append(json.dumps({"source": source, "target": target, "accepted": True, "file": f"{target}/s{i}.png"}))
    (root / "manifest.jsonl").write_text("\n".join(lines) + "\n")
    return root


def test_fer_train_with_synthetic_faces_gives_back_the_real_priors(tmp_path, capsys, tiny_fer_folder):
    from facecraft.eval.datasets import load_dataset

    data = load_dataset(tiny_fer_folder, seed=TrainConfig().seed)
    train, test = data.subset("train").paths, data.subset("test").paths
    syn = _augment_folder(tmp_path / "aug", train[:4])
    args = ["fer", "train", "--data", str(tiny_fer_folder), "--epochs", "1", "--widths", "8", "16", "--batch-size", "8"]
    rc = main([*args, "--out", str(tmp_path / "run"), "--synthetic", str(syn), "--synthetic-weight", "0.5"])
    assert rc == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["synthetic_faces"] == 4
    # sadness: its real training faces plus 4 synthetic ones at half their weight; the other classes got none
    real_sad = int((data.subset("train").labels == EMOTIONS.index("sadness")).sum())
    expected = np.zeros(len(EMOTIONS))
    expected[EMOTIONS.index("sadness")] = np.log(real_sad / (real_sad + 0.5 * 4))
    np.testing.assert_allclose(summary["synthetic_prior_shift"], expected, atol=1e-4)
    # a synthetic face made from a test face would carry it into training: refused, with the file named
    leaky = _augment_folder(tmp_path / "leaky", [train[0], test[0]])
    rc = main([*args, "--out", str(tmp_path / "run2"), "--synthetic", str(leaky)])
    assert rc == 1 and "validation or test faces" in capsys.readouterr().err
    rc = main([*args, "--out", str(tmp_path / "run3"), "--synthetic-weight", "0.5"])
    assert rc == 1 and "without --synthetic" in capsys.readouterr().err


def test_fer_eval_reads_numbered_class_folders_with_label_order(tmp_path, capsys, tiny_fer_folder):
    data = tiny_fer_folder
    for name, number in (("happy", "1"), ("sad", "2"), ("surprise", "3")):  # AffectNet's numbers
        (data / name).rename(data / number)
    args = ["fer", "eval", "--judge", "networkv2", "--data", str(data), "--subset", "all", "--out", str(tmp_path)]
    assert main(args) == 1  # which emotion is "1" depends on the data set
    assert "--label-order" in capsys.readouterr().err
    assert main([*args, "--label-order", "affectnet"]) == 0  # was: no such option
    res = json.loads(capsys.readouterr().out)
    assert res["n"] == 30 and res["recall"]["anger"] is None
    assert all(res["recall"][c] is not None for c in ("happiness", "sadness", "surprise"))


def test_fer_eval_points_to_crops_when_the_detector_found_no_face(tmp_path, capsys, tiny_fer_folder):
    data = tiny_fer_folder
    Image.fromarray(np.full((200, 200), 128, np.uint8)).save(data / "happy" / "blank.png")  # searched, no face
    rc = main(["fer", "eval", "--judge", "networkv2", "--data", str(data), "--subset", "all", "--out", str(tmp_path)])
    assert rc == 0
    err = capsys.readouterr().err
    assert "blank.png" in err and "1 of them showed no face to the detector" in err and "--crops" in err


def test_fer_predict_writes_each_images_emotion_and_names_the_files_it_skipped(tmp_path, capsys, tiny_fer_folder):
    import csv

    from facecraft.eval.judges import get_judge

    data = tiny_fer_folder
    (data / "happy" / "broken.png").write_bytes(b"not a png")
    (data / "happy" / ".DS_Store").write_bytes(b"\0\0\0\1Bud1")
    out = tmp_path / "pred.csv"
    rc = main(["fer", "predict", str(data / "sad"), str(data / "happy"), "--judge", "networkv2", "--out", str(out)])
    assert rc == 1  # one file skipped, as edit and animate say it (was 0); at first: "invalid choice: 'predict'"
    rows = list(csv.DictReader(out.open()))
    assert len(rows) == 20 and rows[0]["path"].endswith("sad/0.png") and set(EMOTIONS) < set(rows[0])
    err = capsys.readouterr().err
    assert "skipped" in err and "broken.png" in err and "20 images read, 1 skipped" in err
    judge = get_judge("networkv2")
    probs = judge.predict_proba([np.asarray(Image.open(data / "sad" / f"{k}.png")) for k in range(10)], detect=False)
    assert [r["emotion"] for r in rows[:10]] == [EMOTIONS[i] for i in probs.argmax(axis=1)]
    assert np.allclose([float(r["confidence"]) for r in rows[:10]], probs.max(axis=1), atol=1e-4)


def test_fer_eval_says_which_split_it_scored_and_where_the_split_came_from(tmp_path, capsys, tiny_fer_folder):
    rc = main(["fer", "eval", "--judge", "networkv2", "--data", str(tiny_fer_folder), "--out", str(tmp_path)])
    assert rc == 0
    out = capsys.readouterr()
    n = json.loads(out.out)["n"]
    assert f"scored the test part ({n} of 30 images)" in out.err and "no split of its own" in out.err  # was: silent
    report = json.loads((tmp_path / "networkv2_test_report.json").read_text())
    assert "stratified 70/10/20" in report["split_origin"]


def test_fer_predict_makes_the_folder_of_its_out_before_reading_the_images(
    tmp_path, capsys, tiny_fer_folder, monkeypatch
):
    # `fer predict folder/ --out results/new/pred.csv` read every image, then stopped at the write: 'No such file or
    # directory' (other commands' -o make their folder), and the predictions were lost.
    import facecraft.eval.faces as faces

    out = tmp_path / "results" / "new" / "pred.csv"
    assert main(["fer", "predict", str(tiny_fer_folder / "sad"), "--judge", "networkv2", "--out", str(out)]) == 0
    assert out.read_text().count("sad/") == 10
    in_the_way = tmp_path / "a-file"
    in_the_way.write_text("x")
    read = []
    monkeypatch.setattr(faces, "preprocess_face", lambda *a, **k: read.append(a) or 1 / 0)
    assert main(["fer", "predict", str(tiny_fer_folder / "sad"), "--out", str(in_the_way / "pred.csv")]) == 1
    assert read == [] and "a-file" in capsys.readouterr().err  # refused before any image is read


def test_fer_eval_and_train_refuse_an_out_with_a_file_in_the_way_before_reading_the_data(
    tmp_path, capsys, tiny_fer_folder, monkeypatch
):
    # `fer eval --out photo.jpg/x` scored the whole set (`fer train`: trained a model), then failed to make the folder
    import facecraft.eval.datasets as datasets

    photo = tmp_path / "photo.jpg"
    photo.write_bytes(b"jpg")

    def no_reading(*a, **k):
        raise AssertionError("the data set was read")

    monkeypatch.setattr(datasets, "load_dataset", no_reading)
    said = f"facecraft: error: cannot make the folder {photo}: a file of that name is in the way\n"
    for command in (["eval", "--judge", "networkv2"], ["train", "--epochs", "1"]):
        args = ["fer", *command, "--data", str(tiny_fer_folder), "--out", str(photo / "x")]
        assert main(args) == 1
        assert capsys.readouterr().err == said
