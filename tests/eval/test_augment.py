"""facecraft.eval.augment end to end on tiny inputs: real editor, judges and identity model, no shared data."""

from __future__ import annotations

import copy
import json
import shutil
from dataclasses import replace

import cv2
import numpy as np
import pytest
from PIL import Image

from facecraft.eval.augment import (
    AugmentConfig,
    Augmenter,
    OutputFormat,
    SourceFace,
    augment_dataset,
    augment_source,
    dataset_sources,
    infer_format,
    read_manifest,
)
from facecraft.eval.augment_filter import SKIP_SOURCES, FilterConfig
from facecraft.eval.datasets import load_fer2013_csv, load_image_folder
from facecraft.eval.images import load_image
from facecraft.rigs import EMOTIONS, ParameterError, resolve_asset
from facecraft.rigs.errors import FacecraftError

#: Keeps every variant: isolates the plumbing from the judges' opinion.
KEEP_ALL = FilterConfig(top_k=8, min_confidence=0.0, second_top_k=7, max_identity=1.99, min_difference=0.0)
#: Keeps nothing: the main judge never gives a class probability 1.
KEEP_NONE = FilterConfig(min_confidence=1.0)


@pytest.fixture(scope="module")
def augmenter():
    aug = Augmenter(AugmentConfig(filter=KEEP_ALL, per_image=2, skip_sources={}))
    yield aug
    aug.close()


@pytest.fixture
def face_folder(tmp_path):
    """A labelled ImageFolder with one real face (the astronaut, a 48 px grey crop) and one corrupt file; its fear
    folder is still empty."""
    root = tmp_path / "faces"
    (root / "happy").mkdir(parents=True)
    (root / "sad").mkdir()
    (root / "Fearful").mkdir()
    photo = Image.open(resolve_asset("astronaut")).convert("L")
    photo.crop((150, 30, 340, 220)).resize((48, 48)).save(root / "happy" / "astro.png")
    (root / "sad" / "broken.png").write_bytes(b"not a png")
    Image.fromarray(np.full((48, 48), 128, np.uint8)).save(root / "sad" / "blank.png")
    return root


def test_dataset_sources_reads_the_train_split_and_the_format(tiny_fer_folder):
    sources, fmt, counts, unreadable = dataset_sources(tiny_fer_folder, split="train")
    assert fmt == OutputFormat(48, True)
    assert all(s.path and s.label in ("happiness", "sadness", "surprise") for s in sources)
    assert counts.sum() == len(sources) < 30  # val and test images are not sources
    everything, _, _, _ = dataset_sources(tiny_fer_folder, split=None)
    assert len(everything) == 30 and unreadable == []


def test_an_aligned_colour_set_keeps_its_own_size_and_mixed_photos_get_aligned_crops(tmp_path):
    rng = np.random.default_rng(0)
    paths = []
    for k, side in enumerate((100, 100, 100)):  # RAF-DB's aligned faces: 100x100 colour (were written at 224)
        paths.append(tmp_path / f"raf{k}.jpg")
        Image.fromarray((rng.random((side, side, 3)) * 255).astype(np.uint8)).save(paths[-1])
    assert infer_format(paths) == OutputFormat(100, False)
    Image.fromarray(np.zeros((150, 200, 3), np.uint8)).save(tmp_path / "photo.jpg")
    assert infer_format([*paths, tmp_path / "photo.jpg"]) == OutputFormat(224, False)  # no one size of its own
    Image.fromarray(np.zeros((64, 64), np.uint8)).save(tmp_path / "small.png")
    assert infer_format([tmp_path / "small.png"] * 2 + paths[:1]) == OutputFormat(64, False)  # crops: most common
    Image.fromarray((rng.random((512, 512, 3)) * 255).astype(np.uint8)).save(tmp_path / "portrait.png")  # a photo
    assert infer_format([tmp_path / "portrait.png"] * 2) == OutputFormat(224, False)  # (was written at 512)


def test_the_format_of_a_mixed_set_is_read_from_all_of_it_not_its_first_files(tmp_path):
    # the size and colour were read from the first 32 sources: a first class folder of 33 grey 64 px crops gave a set
    # of mostly colour 80 px crops 64 px grey edits
    rng = np.random.default_rng(0)
    for folder, n, side, colour in (("angry", 33, 64, False), ("happy", 40, 80, True), ("sad", 20, 80, True)):
        (tmp_path / "set" / folder).mkdir(parents=True)
        for k in range(n):
            img = (rng.random((side, side, 3 if colour else 1)) * 255).astype(np.uint8)
            Image.fromarray(img if colour else np.repeat(img, 3, axis=2)).save(tmp_path / "set" / folder / f"{k}.png")
    _, fmt, _, _ = dataset_sources(tmp_path / "set", split=None)
    assert fmt == OutputFormat(80, False)


def test_an_image_turned_by_its_exif_orientation_counts_upright(tmp_path):
    from facecraft.eval.augment import _upright_shape

    exif = Image.Exif()
    exif[0x0112] = 6  # stored 60 wide, 40 high; shown turned a quarter
    Image.fromarray(np.zeros((40, 60, 3), np.uint8)).save(tmp_path / "turned.jpg", exif=exif)
    assert _upright_shape(tmp_path / "turned.jpg") == (60, 40)
    assert _upright_shape(tmp_path / "turned.jpg") == np.asarray(load_image(tmp_path / "turned.jpg")).shape[:2]
    (tmp_path / "broken.png").write_bytes(b"not a png")
    assert _upright_shape(tmp_path / "broken.png") is None


def test_every_readable_image_is_a_source_the_editor_judges_not_only_those_a_face_search_finds(tmp_path):
    rng = np.random.default_rng(0)
    for name in ("Happy", "Surprised"):
        (tmp_path / "raf" / name).mkdir(parents=True)
        for k in range(2):  # larger than a crop, no face the detector finds
            Image.fromarray((rng.random((100, 100, 3)) * 255).astype(np.uint8)).save(
                tmp_path / "raf" / name / f"{k}.jpg"
            )
    sources, _, counts, unreadable = dataset_sources(tmp_path / "raf", split=None)
    assert len(sources) == 4 and counts.sum() == 4 and unreadable == []  # were "unreadable: no face found"


def test_dataset_sources_of_the_train_split_still_report_the_unreadable_files(tiny_fer_folder):
    (tiny_fer_folder / "happy" / "broken.png").write_bytes(b"not a png")
    _, _, _, unreadable = dataset_sources(tiny_fer_folder, split="train")
    assert len(unreadable) == 1 and "broken.png" in unreadable[0]  # was []: the split's subset dropped them


def test_augment_source_writes_the_data_sets_format_with_scores(augmenter):
    img = np.asarray(Image.open(resolve_asset("astronaut")).convert("RGB"))
    source = SourceFace("astro", label="happiness", pixels=img)
    records = augment_source(source, ("fear", "happiness", "surprise"), augmenter=augmenter)
    assert [(r["target"], r["variant"]) for r in records] == [
        ("fear", 0),
        ("fear", 1),
        ("surprise", 0),
        ("surprise", 1),
    ]
    for r in records:
        assert r["accepted"] and r["reason"] is None
        assert r["crop"].shape == (48, 48) and r["crop"].dtype == np.uint8
        assert set(r["scores"]) == {"facecraft", "networkv2", "mini-xception"}  # the main and both second judges
        assert all(len(v) == len(EMOTIONS) for v in r["scores"].values())
        # The same person after the edit: surprise well inside dlib's 0.6; fear, the largest change of this small,
        # smiling face (its teeth bared), sits at it: 0.647 / 0.637 since the lips' inner rows are laid back between
        # their contours (mouth_seal._lay_lip_rows; its corners no longer carry a dark fold: 0.625 / 0.624 before),
        # 0.607 / 0.623 when the nose left the corners' drag (0.593 / 0.601 with it, 0.590 / 0.586 before the teeth
        # were drawn under the photo's where the lips part).
        assert 0.0 <= r["identity"] < (0.6 if r["target"] == "surprise" else 0.66)
        assert set(r["controls"]["au"]) and r["controls"]["emotion"].startswith(r["target"])
    # the edit changes the face: a surprise variant differs from the fear one and from the source crop
    assert np.abs(records[0]["crop"].astype(int) - records[2]["crop"].astype(int)).mean() > 1.0
    again = augment_source(source, ("fear",), augmenter=augmenter)
    assert again[0]["controls"] == records[0]["controls"]  # variants are a function of the source and seed


def test_targets_barred_from_the_source_expression_are_not_made(augmenter):
    img = np.asarray(Image.open(resolve_asset("astronaut")).convert("RGB"))
    strict = copy.copy(augmenter)  # the same loaded models, the default source rules
    strict.config = replace(augmenter.config, skip_sources=dict(SKIP_SOURCES))
    smiling = SourceFace("astro", label="happiness", pixels=img)
    records = augment_source(smiling, ("fear", "surprise"), augmenter=strict)
    assert [r["target"] for r in records] == ["surprise", "surprise"]  # no fear from a smile
    (only,) = augment_source(smiling, ("fear", "contempt"), augmenter=strict)
    assert only["target"] is None and only["reason"].startswith("skipped") and "happiness" in only["reason"]
    # an unlabelled photo: its expression is the main judge's top class (the astronaut smiles)
    photo = SourceFace("astro-photo", pixels=img)
    assert [r["target"] for r in augment_source(photo, ("fear", "surprise"), augmenter=strict)] == ["surprise"] * 2


def test_an_edit_that_fails_is_a_rejected_variant_and_the_rest_go_on(augmenter, monkeypatch, caplog):
    # An OpenCV assertion in one edit ended a 1,500-source augment run (bench augment, session 61): every worker's
    # result is collected in turn, and the error went up through the pool.
    img = np.asarray(Image.open(resolve_asset("astronaut")).convert("RGB"))
    source = SourceFace("astro", label="happiness", pixels=img)
    editor = copy.copy(augmenter.editor)
    real = editor.apply
    calls = []

    def flaky(*args, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise cv2.error("remap: (-215:Assertion failed) !_map1.empty()")
        return real(*args, **kwargs)

    monkeypatch.setattr(editor, "apply", flaky)
    failing = copy.copy(augmenter)
    failing.editor = editor
    records = augment_source(source, ("surprise",), augmenter=failing)
    assert [r["variant"] for r in records] == [0, 1]
    assert not records[0]["accepted"] and records[0]["reason"].startswith("edit failed: error: ")
    assert records[1]["reason"] is None and "crop" in records[1]
    assert "the surprise edit failed" in caplog.text


def test_faceless_source_is_one_record_not_an_error(augmenter):
    blank = SourceFace("blank", pixels=np.full((48, 48), 128, np.uint8))
    (record,) = augment_source(blank, ("fear",), augmenter=augmenter)
    assert record["target"] is None and not record["accepted"] and "no face" in record["reason"]


@pytest.mark.slow
def test_augment_dataset_writes_tree_manifest_report_and_resumes(face_folder, tmp_path):
    out = tmp_path / "aug"
    cfg = AugmentConfig(filter=KEEP_ALL, skip_sources={})
    report = augment_dataset(face_folder, out=out, targets="fear,surprise", config=cfg, split=None, progress=False)
    records = read_manifest(out)
    by_source = {r["source"] for r in records}
    assert by_source == {"happy/astro.png", "sad/blank.png"}
    bad = {b["source"]: b["reason"] for b in report["bad_sources"]}
    assert set(bad) == {"sad/blank.png"} and "no face" in bad["sad/blank.png"]
    assert len(report["unreadable"]) == 1 and "broken.png" in report["unreadable"][0]  # reported, skipped
    assert report["accepted"] == 2 and report["per_target"]["fear"]["acceptance_rate"] == 1.0
    # ImageFolder tree in the data set's own format, readable by eval's loader
    data = load_image_folder(out)
    assert sorted(data.paths) == sorted(r["file"] for r in records if r.get("accepted"))
    assert {EMOTIONS[i] for i in data.labels} == {"fear", "surprise"}
    assert {p.split("/")[0] for p in data.paths} == {"Fearful", "surprise"}  # the data set's own folder names
    first = Image.open(out / data.paths[0])
    assert first.size == (48, 48) and first.mode == "L"
    sheet = Image.open(report["contact_sheet"])
    assert sheet.size[0] > 96 * 2
    assert json.loads((out / "report.json").read_text())["accepted"] == 2
    # a rerun skips finished sources: no new manifest lines, same files
    again = augment_dataset(face_folder, out=out, targets="fear,surprise", config=cfg, split=None, progress=False)
    assert len(read_manifest(out)) == len(records) and again["this_run"]["sources"] == 0
    # throughput counts every part of a resumed folder that edited faces (this rerun had nothing to do)
    assert again["all_runs"] == {**again["all_runs"], "runs": 1, "accepted": 2, "wall_s": report["this_run"]["wall_s"]}
    # an interrupted write (torn last line) is ignored, and a removed source record is redone
    lines = (out / "manifest.jsonl").read_text().splitlines()
    kept = [ln for ln in lines if "astro" not in ln]
    (out / "manifest.jsonl").write_text("\n".join(kept) + '\n{"source": "torn')
    augment_dataset(face_folder, out=out, targets="fear,surprise", config=cfg, split=None, progress=False)
    assert sum("astro" in r["source"] for r in read_manifest(out)) == 2
    assert len((out / "runs.jsonl").read_text().splitlines()) == 3


@pytest.mark.slow
def test_the_contact_sheet_shows_the_sources_of_a_fer2013_csv(tmp_path):
    # a FER2013 CSV's faces have no file: the sheet drew their source tiles black
    photo = Image.open(resolve_asset("astronaut")).convert("L")
    crop = np.asarray(photo.crop((150, 30, 340, 220)).resize((48, 48)))
    data = tmp_path / "fer2013.csv"
    data.write_text("emotion,pixels,Usage\n3," + " ".join(map(str, crop.ravel())) + ",Training\n")
    cfg = AugmentConfig(filter=KEEP_ALL, skip_sources={})
    report = augment_dataset(data, out=tmp_path / "aug", targets="surprise", config=cfg, progress=False)
    assert report["accepted"] == 1
    sheet = np.asarray(Image.open(report["contact_sheet"]).convert("L")).astype(float)
    source_tile = sheet[4:100, 4:100]  # the first tile (pad 4, 96 px), the source beside its edit
    assert abs(source_tile.mean() - np.asarray(Image.fromarray(crop).resize((96, 96))).mean()) < 10
    # the added faces also as FER2013 rows, the set's own layout (there was only the PNG tree)
    added = load_fer2013_csv(report["fer2013_csv"])
    (accepted,) = [r for r in read_manifest(tmp_path / "aug") if r["accepted"]]
    assert report["fer2013_csv"] == str(tmp_path / "aug" / "fer2013_augmented.csv")
    assert [EMOTIONS[i] for i in added.labels] == ["surprise"] and list(added.splits) == ["train"]
    assert np.array_equal(added.images[0], np.asarray(Image.open(tmp_path / "aug" / accepted["file"])))


def _astronaut_row_csv(path, label: int = 3) -> None:
    """A FER2013 CSV of one training row: the astronaut as a 48 px grey crop."""
    crop = np.asarray(Image.open(resolve_asset("astronaut")).convert("L").crop((150, 30, 340, 220)).resize((48, 48)))
    path.write_text(f"emotion,pixels,Usage\n{label}," + " ".join(map(str, crop.ravel())) + ",Training\n")


@pytest.mark.slow
def test_rows_of_a_second_csv_are_refused_where_they_would_write_over_the_firsts(tmp_path):
    # both CSVs' row 2 is named row2_surprise0.png: the second run wrote its face over the first one's
    for name in ("f.csv", "g.csv"):
        _astronaut_row_csv(tmp_path / name)
    cfg = AugmentConfig(filter=KEEP_ALL, skip_sources={})
    out = tmp_path / "aug"
    assert augment_dataset(tmp_path / "f.csv", out=out, targets="surprise", config=cfg, progress=False)["accepted"]
    before = _faces(out)
    with pytest.raises(ParameterError, match=r"f\.csv's rows.*g\.csv.*another --out"):
        augment_dataset(tmp_path / "g.csv", out=out, targets="surprise", config=cfg, progress=False)
    assert _faces(out) == before
    assert augment_dataset(tmp_path / "f.csv", out=out, targets="surprise", config=cfg, progress=False)["accepted"]


def test_a_ferplus_csvs_rows_are_sources_from_fer2013s_pixels(tmp_path):
    # FER+'s fer2013new.csv was read as a list of image files: every source "image file not found: ...:2"
    from facecraft.eval.datasets import FERPLUS_VOTE_ORDER

    _astronaut_row_csv(tmp_path / "fer2013.csv", label=0)
    votes = [0, 9, 0, 0, 0, 0, 0, 0, 1, 0]  # happiness by FER+'s majority
    (tmp_path / "fer2013new.csv").write_text(
        "Usage,Image name," + ",".join(FERPLUS_VOTE_ORDER) + "\r\nTraining,fer0000000.png," + ",".join(map(str, votes))
    )
    sources, fmt, counts, unreadable = dataset_sources(tmp_path / "fer2013new.csv")
    (face,) = sources
    assert face.path is None and face.pixels.shape == (48, 48) and face.label == "happiness"
    assert fmt == OutputFormat(48, True) and not unreadable


@pytest.mark.slow
def test_strict_filter_rejects_with_reasons_and_balance_needs_quotas(face_folder, tmp_path, caplog):
    out = tmp_path / "strict"
    cfg = AugmentConfig(filter=KEEP_NONE, skip_sources={})
    report = augment_dataset(face_folder, out=out, targets="fear", config=cfg, split=None, progress=False)
    assert report["accepted"] == 0 and report["per_target"]["fear"]["reasons"] == {"judge": 1}
    assert not (out / "fear").exists()
    # by default no fear is made from a smiling face: the happy source is not even tried
    shutil.rmtree(out)
    report = augment_dataset(face_folder, out=out, targets="fear", split=None, progress=False)
    assert {r["source"] for r in read_manifest(out)} == {"sad/blank.png"} and "fear" not in report["per_target"]
    # balance: quotas from the split's class counts; a class already the largest gets none
    shutil.rmtree(out)
    report = augment_dataset(
        face_folder, out=out, targets="happiness,fear", config=AugmentConfig(filter=KEEP_ALL, skip_sources={}),
        split=None,
        balance=True, progress=False,
    )  # fmt: skip
    assert report["quotas"] == {"fear": 1, "happiness": 0}
    assert report["per_target"]["fear"]["accepted"] == 1 and "happiness" not in report["per_target"]
    assert "nothing to add" not in caplog.text and "quotas were met" not in caplog.text
    # a quota the sources cannot fill is said (it was only in report.json)
    report = augment_dataset(face_folder, out=tmp_path / "short", targets="fear", config=cfg, split=None, balance=True)
    assert report["per_target"]["fear"]["accepted"] == 0 and "before the quotas were met (fear 0 of 1)" in caplog.text
    report = augment_dataset(face_folder, out=tmp_path / "none", targets="happiness", split=None, balance=True)
    assert report["quotas"] == {"happiness": 0} and "happiness already as large as the largest class" in caplog.text
    with pytest.raises(ParameterError, match="balance"):
        augment_dataset(None, out=out, balance=True, sources=[face_folder])


def test_second_judges_load_once_per_process_and_measured_readers_are_kept(tiny_fer_folder, tmp_path, monkeypatch):
    """The readers are measured by the augmenter's own second judges (not by a second copy loaded in the parent)
    and saved in the folder: a resumed run reuses them."""
    import facecraft.eval.augment as augment_module
    import facecraft.eval.judges as judges_module

    loads: list[str] = []
    happy = np.eye(len(EMOTIONS))[EMOTIONS.index("happiness")]

    class CountingJudge:
        def __init__(self, name):
            loads.append(name)

        def predict_proba(self, images, detect=False):
            return np.tile(happy, (len(images), 1))

    class ModelsOnlyJudges:  # stands in for the Augmenter: no editor, no identity model
        def __init__(self, config):
            self.config = config
            self.seconds = {name: CountingJudge(name) for name in config.second_judges}

        def close(self):
            pass

    def one_record(source, targets, *, augmenter):
        readers = augmenter.config.filter.readers
        return [{"source": source.id, "id": f"{source.id}#x", "target": targets[0], "accepted": False,
                 "reason": "judge: stub", "readers": None if readers is None else dict(readers)}]  # fmt: skip

    measures = []
    real_measure = augment_module.measure_readers

    def counted_measure(*args, **kwargs):
        measures.append(kwargs.get("judges"))
        return real_measure(*args, **kwargs)

    monkeypatch.setattr(judges_module, "get_judge", lambda name, weights=None: CountingJudge(name))
    monkeypatch.setattr(augment_module, "Augmenter", ModelsOnlyJudges)
    monkeypatch.setattr(augment_module, "augment_source", one_record)
    monkeypatch.setattr(augment_module, "measure_readers", counted_measure)
    out = tmp_path / "aug"
    report = augment_dataset(tiny_fer_folder, out=out, targets="fear", split=None, max_sources=3, progress=False)
    assert loads == ["networkv2", "mini-xception"]  # once each, by the augmenter
    assert len(measures) == 1 and set(measures[0]) == {"networkv2", "mini-xception"}
    records = read_manifest(out)
    assert len(records) == 3 and all(r["readers"] == report["judge_readers"]["readers"] for r in records)
    assert report["judge_readers"]["readers"]["happiness"] == ["networkv2", "mini-xception"]  # they read it
    assert report["judge_readers"]["readers"]["sadness"] == []  # they never rank sadness high
    assert (out / "judge_readers.json").is_file()
    # resumed with more sources: the saved readers are used, nothing is measured again
    again = augment_dataset(tiny_fer_folder, out=out, targets="fear", split=None, max_sources=5, progress=False)
    assert len(measures) == 1 and again["judge_readers"] == report["judge_readers"]
    assert len(read_manifest(out)) == 5 and loads.count("networkv2") == 2
    assert list(again["config"]["filter"]["readers"]["sadness"]) == []


def test_a_second_run_on_a_folder_being_written_is_a_clear_error(tiny_fer_folder, tmp_path):
    # two runs on one --out wrote every source twice into the manifest and logged the live run as interrupted
    fcntl = pytest.importorskip("fcntl")
    out = tmp_path / "aug"
    out.mkdir()
    with (out / ".augment.lock").open("a+") as held:  # what a running augment holds
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
        held.write("pid 4242")
        held.flush()
        with pytest.raises(ParameterError, match=r"another facecraft augment \(pid 4242\) is writing"):
            augment_dataset(tiny_fer_folder, out=out, targets="fear", progress=False)
    assert not (out / "manifest.jsonl").exists() and not (out / ".run-current.json").exists()


def test_a_torn_or_foreign_runs_log_does_not_fail_the_finished_run(tmp_path):
    from facecraft.eval.augment import RUNS, _log_run

    (tmp_path / RUNS).write_text(
        '{"attempted": 4, "accepted": 2, "sources": 2, "wall_s": 3.0}\nnot json\n[1]\n{"sources": 1, "wal'
    )
    totals = _log_run(tmp_path, {"attempted": 2, "accepted": 1, "sources": 1, "wall_s": 1.0, "workers": 1})
    assert totals["runs"] == 2 and totals["accepted"] == 3 and totals["sources"] == 3  # was: JSONDecodeError
    assert json.loads((tmp_path / RUNS).read_text().splitlines()[-1])["accepted"] == 1  # not glued to the torn line


def test_a_manifest_of_another_tool_in_the_output_folder_is_a_clear_error(tmp_path):
    from facecraft.rigs import FileFormatError

    (tmp_path / "manifest.jsonl").write_text('{"audio_filepath": "a.wav", "duration": 1.2}\n')
    with pytest.raises(FileFormatError, match=r"manifest.jsonl line 1: not a .*augment record"):
        read_manifest(tmp_path)  # was: KeyError 'source' in augment_dataset


@pytest.mark.slow
def test_a_judge_that_cannot_load_in_the_workers_is_its_own_error_not_a_broken_pool(tiny_fer_folder, tmp_path):
    from facecraft.rigs import FileFormatError

    (tmp_path / "bad.safetensors").write_bytes(b"garbage")
    (tmp_path / "bad.json").write_text((resolve_asset("facecraft_fer").with_suffix(".json")).read_text())
    cfg = AugmentConfig(judge_weights=str(tmp_path / "bad.safetensors"))
    with pytest.raises(
        FileFormatError, match="bad.safetensors: not a readable safetensors file"
    ):  # was BrokenProcessPool
        augment_dataset(tiny_fer_folder, out=tmp_path / "aug", targets="fear", config=cfg, workers=2, progress=False)


def test_every_accepted_variant_gets_its_own_file_name():
    from facecraft.eval.augment import _file_name

    rows = [{"source": f"fer2013.csv:{i}", "target": "surprise", "variant": 0} for i in (4, 8, 18)]
    assert len({_file_name(r) for r in rows}) == 3  # one per CSV row (all three were fer2013_surprise0.png)
    photo = {"source": "faces/9_1_3_2017.jpg.chip.jpg", "target": "fear", "variant": 1}
    assert _file_name(photo) == "fear/faces_9_1_3_2017.jpg.chip_fear1.png"  # as before for image files


def test_a_fer2013_rows_faces_are_named_by_the_row_not_the_csv_name_twice():
    from facecraft.eval.augment import _file_name

    row = {"source": "fer2013.csv/fer2013.csv:18", "source_path": None, "target": "surprise", "variant": 1}
    assert _file_name(row) == "surprise/row18_surprise1.png"  # was fer2013.csv_fer2013.csv_18_surprise1.png
    assert _file_name(row, {"surprise": "Surprised"}) == "Surprised/row18_surprise1.png"
    photo = {"source": "fer2013.csv/fer2013.csv:18", "source_path": "/p/x.png", "target": "fear", "variant": 0}
    assert _file_name(photo) != "fear/row18_fear0.png"  # a file of that name in a photo folder is not a row


def test_an_old_folder_of_a_fer2013_csv_resumes_with_its_faces_renamed(tmp_path):
    # folders written before the row names held csv_csv_<line>_ files: a resumed run would have mixed the two
    from facecraft.eval.augment import MANIFEST, _renamed_row_files

    records = []
    for line in (7, 18):
        old = f"fear/f.csv_f.csv_{line}_fear0.png"
        (tmp_path / "fear").mkdir(exist_ok=True)
        (tmp_path / old).write_bytes(f"face {line}".encode())
        records.append({"source": f"f.csv/f.csv:{line}", "source_path": None, "target": "fear", "variant": 0,
                        "accepted": True, "file": old})  # fmt: skip
    records.append({"source": "f.csv/f.csv:9", "source_path": None, "target": "fear", "variant": 0, "accepted": False})
    (tmp_path / MANIFEST).write_text("".join(json.dumps(r) + "\n" for r in records))
    (tmp_path / "fear" / "f.csv_f.csv_18_fear0.png").replace(tmp_path / "fear" / "row18_fear0.png")  # a kill midway
    renamed = _renamed_row_files(tmp_path, read_manifest(tmp_path))
    assert [r.get("file") for r in renamed] == ["fear/row7_fear0.png", "fear/row18_fear0.png", None]
    assert read_manifest(tmp_path) == renamed
    assert sorted(p.name for p in (tmp_path / "fear").iterdir()) == ["row18_fear0.png", "row7_fear0.png"]
    assert (tmp_path / "fear" / "row7_fear0.png").read_bytes() == b"face 7"
    before = (tmp_path / MANIFEST).read_text()
    assert (
        _renamed_row_files(tmp_path, read_manifest(tmp_path)) == renamed and (tmp_path / MANIFEST).read_text() == before
    )


def _row_folder(out, files: dict[str, bytes], records: list[tuple[str, int, str | None]]) -> None:
    """``out`` as an augment run left it: the faces' ``files`` and a manifest of ``(csv, line, file)`` records."""
    from facecraft.eval.augment import MANIFEST

    (out / "fear").mkdir()
    for name, data in files.items():
        (out / name).write_bytes(data)
    row = {"source_path": None, "target": "fear", "variant": 0}
    rows = [
        {"source": f"{csv}/{csv}:{line}", **row, "accepted": file is not None, **({"file": file} if file else {})}
        for csv, line, file in records
    ]
    (out / MANIFEST).write_text("".join(json.dumps(r) + "\n" for r in rows))


def _faces(out) -> dict[str, bytes]:
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(out.rglob("*.png"))}


def test_renaming_an_old_folder_never_puts_two_faces_on_one_file(tmp_path):
    # row 18 of two CSVs (f.csv, g.csv) in one folder: both were moved to row18_fear0.png, the second over the first
    # (one face lost, the manifest listing the other twice)
    from facecraft.eval.augment import _renamed_row_files

    g = "fear/g.csv_g.csv_18_fear0.png"
    for name, f_file, files in (
        ("both old", "fear/f.csv_f.csv_18_fear0.png", {"fear/f.csv_f.csv_18_fear0.png": b"F", g: b"G"}),
        ("one renamed", "fear/row18_fear0.png", {"fear/row18_fear0.png": b"F", g: b"G"}),
    ):
        out = tmp_path / name.replace(" ", "_")
        out.mkdir()
        _row_folder(out, files, [("f.csv", 18, f_file), ("g.csv", 18, g)])
        for _ in range(2):  # and again, as the next run starts
            records = _renamed_row_files(out, read_manifest(out))
            assert read_manifest(out) == records
            assert {r["file"]: _faces(out)[r["file"]] for r in records} == {"fear/row18_fear0.png": b"F", g: b"G"}


def test_stray_old_named_faces_of_a_stopped_run_are_not_kept_beside_their_row_names(tmp_path):
    # an old version's run stopped between writing a face and its manifest line; the resumed run wrote the face under
    # its row name, and the tree held it twice (the stale copy under the old name was never overwritten)
    from facecraft.eval.augment import _renamed_row_files

    files = {
        "fear/f.csv_f.csv_18_fear0.png": b"stale",  # the listed row18_fear0.png's stale copy
        "fear/row18_fear0.png": b"listed",
        "fear/f.csv_f.csv_9_fear1.png": b"unlisted",  # a face of a row not done again yet: takes its row name
        "fear/f.csv_f.csv_x_fear0.png": b"?",  # not an old row name: left alone
        "fear/notes.png": b"mine",
    }
    _row_folder(tmp_path, files, [("f.csv", 18, "fear/row18_fear0.png"), ("f.csv", 9, None)])
    before = read_manifest(tmp_path)
    assert _renamed_row_files(tmp_path, read_manifest(tmp_path)) == before == read_manifest(tmp_path)
    assert _faces(tmp_path) == {
        "fear/f.csv_f.csv_x_fear0.png": b"?", "fear/notes.png": b"mine", "fear/row18_fear0.png": b"listed",
        "fear/row9_fear1.png": b"unlisted",
    }  # fmt: skip


def test_crop_names_from_long_source_paths_fit_a_file_name(tmp_path):
    # a photo deep in folders with long names gave a crop name past 255 bytes: "File name too long"
    from facecraft.eval.augment import _file_name

    rows = [{"source": f"{'folder/' * 40}photo{k}.jpg", "target": "happiness", "variant": 2} for k in "ab"]
    names = {_file_name(r) for r in rows}
    assert len(names) == 2 and all(n.startswith("happiness/") and n.endswith("_happiness2.png") for n in names)
    for n in names:
        assert len(n.split("/", 1)[1].encode()) <= 255
        (tmp_path / n).parent.mkdir(exist_ok=True)
        (tmp_path / n).write_bytes(b"")


def test_sources_whose_names_differ_only_in_characters_a_file_name_cannot_keep_get_their_own_files():
    from facecraft.eval.augment import _file_name

    ids = ["faces/张三.jpg", "faces/李四.jpg", "faces/Zoé.jpg", "faces/Zoë.jpg", "faces/a b.jpg", "faces/a_b.jpg"]
    names = [_file_name({"source": i, "target": "fear", "variant": 0}) for i in ids]
    assert len(set(names)) == len(ids)  # were faces_fear0.png, faces_Zo_fear0.png and faces_a_b_fear0.png twice each
    assert names[0].startswith("fear/faces_张三") and names[5] == "fear/faces_a_b_fear0.png"


@pytest.mark.parametrize("stem", ["t" * 235, "é" * 117 + "t", "t" * 239, "é" * 119 + "t"])  # +15 bytes below
def test_a_crop_named_near_the_file_name_limit_is_written(tmp_path, stem):
    # its temporary "<name>.png.tmp" passed 255 bytes (a name of 252 bytes or more): "File name too long"
    from facecraft.eval.augment import write_crop

    record = {"source": f"{stem}.png", "target": "happiness", "variant": 1}
    rel = write_crop(tmp_path, record, np.zeros((48, 48), np.uint8))
    assert len(rel.split("/")[-1].encode()) in (250, 254)
    assert np.asarray(Image.open(tmp_path / rel)).shape == (48, 48)
    assert [p.name for p in (tmp_path / "happiness").iterdir()] == [rel.split("/")[-1]]  # no temporary file left


def test_a_crop_that_cannot_be_written_leaves_no_part_file(tmp_path, monkeypatch):
    from facecraft.eval.augment import write_crop

    record = {"source": "a.png", "target": "fear", "variant": 0}
    rel = write_crop(tmp_path, record, np.zeros((48, 48), np.uint8))
    before = (tmp_path / rel).read_bytes()

    def disk_full(self, fp, *args, **kwargs):
        open(fp, "wb").write(b"\x89PNG half")  # noqa: SIM115 - half a file, as a full disk leaves it
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(Image.Image, "save", disk_full)
    with pytest.raises(OSError, match="No space"):
        write_crop(tmp_path, record, np.full((48, 48), 255, np.uint8))
    assert (tmp_path / rel).read_bytes() == before  # the crop written before, untouched
    assert [p.name for p in (tmp_path / "fear").iterdir()] == ["a_fear0.png"]  # was: .a_fear0.tmp-<pid>.png left


def test_a_source_passed_over_still_counts_as_done(monkeypatch):
    # With --balance, faces whose targets were all filled were passed over without a word: the progress bar
    # stopped short of its total (16 of 32 on a finished run)
    import facecraft.eval.augment as augment_module

    class Stub:
        def __init__(self, config):
            pass

        def close(self):
            pass

    monkeypatch.setattr(augment_module, "Augmenter", Stub)
    monkeypatch.setattr(augment_module, "augment_source", lambda s, t, augmenter: [{"id": s, "target": t[0]}])
    todo = ["a", "b", "c", "d"]
    wanted = {"a": ("fear",), "b": (), "c": ("disgust",), "d": ()}.get
    got = list(augment_module._run(todo, wanted, lambda: False, augment_module.AugmentConfig(), workers=1, threads=1))
    assert len(got) == len(todo)  # one per face, in order here
    assert got == [[{"id": "a", "target": "fear"}], [], [{"id": "c", "target": "disgust"}], []]


def test_readers_measured_under_another_reference_are_measured_again(tmp_path):
    # a folder's readers saved before the fer-dev reference decided the classes with too few faces
    from facecraft.eval.augment import READERS, AugmentConfig, _cached_readers, _readers_key

    config = AugmentConfig()
    key = _readers_key("ds", config)
    saved = {"key": key, "readers": {"disgust": ["mini-xception"]}, "report": {}}
    (tmp_path / READERS).write_text(json.dumps(saved))
    assert _cached_readers(tmp_path, "ds", config) == ({"disgust": ("mini-xception",)}, {})
    old = {k: v for k, v in key.items() if k != "reference"}
    (tmp_path / READERS).write_text(json.dumps({**saved, "key": old}))
    assert _cached_readers(tmp_path, "ds", config) is None


def test_a_killed_run_counts_in_the_folders_totals(tmp_path):
    # A run killed midway wrote no runs.jsonl line: the folder's totals left out its time (34 s reported, 75 s spent)
    from facecraft.eval.augment import CURRENT_RUN, RUNS, _log_interrupted_run, _log_run

    killed = {"attempted": 12, "accepted": 3, "sources": 4, "wall_s": 41.0, "workers": 1}
    (tmp_path / CURRENT_RUN).write_text(json.dumps(killed))
    _log_interrupted_run(tmp_path)
    assert not (tmp_path / CURRENT_RUN).exists()
    logged = [json.loads(line) for line in (tmp_path / RUNS).read_text().splitlines()]
    assert logged == [{**killed, "interrupted": True}]
    totals = _log_run(tmp_path, {"attempted": 9, "accepted": 2, "sources": 3, "wall_s": 34.0, "workers": 1})
    assert totals["runs"] == 2 and totals["wall_s"] == 75.0 and totals["sources"] == 7 and totals["accepted"] == 5
    (tmp_path / CURRENT_RUN).write_text("{torn")  # killed while writing it: nothing to add, and it goes
    _log_interrupted_run(tmp_path)
    assert not (tmp_path / CURRENT_RUN).exists() and len((tmp_path / RUNS).read_text().splitlines()) == 2


def test_a_numbered_set_is_augmented_with_its_label_order_into_its_numbered_folders(
    tiny_fer_folder, tmp_path, monkeypatch
):
    # AffectNet's 0-7 folders stopped augment with "named by number" (no --label-order to give); the order now reaches
    # every read of the set (sources, second-judge readers) and the variants land in the set's numbered folders
    import facecraft.eval.augment as augment_module
    import facecraft.eval.judges as judges_module
    from facecraft.eval.augment import SETTINGS
    from facecraft.eval.bench_augment import selected_synthetic
    from facecraft.rigs import FileFormatError

    root = tmp_path / "affectnet"
    root.mkdir()
    for name, number in (("happy", "1"), ("sad", "2"), ("surprise", "3")):  # AffectNet's numbers
        shutil.copytree(tiny_fer_folder / name, root / number)
    with pytest.raises(FileFormatError, match="named by number"):
        augment_dataset(root, out=tmp_path / "refused", targets="fear", progress=False)
    happy = np.eye(len(EMOTIONS))[EMOTIONS.index("happiness")]

    class HappyJudge:
        def predict_proba(self, images, detect=False):
            return np.tile(happy, (len(images), 1))

    class JudgesOnly:  # stands in for the Augmenter: no editor, no identity model
        def __init__(self, config):
            self.config, self.seconds = config, {name: HappyJudge() for name in config.second_judges}

        def close(self):
            pass

    labels = {}

    def accept_one(source, targets, *, augmenter):
        labels[source.id] = source.label
        crop = np.full((48, 48), 100, np.uint8)
        return [{"source": source.id, "source_path": source.path, "id": f"{source.id}#0", "target": targets[0],
                 "variant": 0, "accepted": True, "crop": crop}]  # fmt: skip

    monkeypatch.setattr(judges_module, "get_judge", lambda name, weights=None: HappyJudge())
    monkeypatch.setattr(augment_module, "Augmenter", JudgesOnly)
    monkeypatch.setattr(augment_module, "augment_source", accept_one)
    out = tmp_path / "aug"
    report = augment_dataset(root, out=out, targets="fear", max_sources=3, progress=False, label_order="affectnet")
    numbers = {"1": "happiness", "2": "sadness", "3": "surprise"}
    assert len(labels) == 3 and all(label == numbers[sid.split("/")[0]] for sid, label in labels.items())
    assert report["class_counts_before"]["surprise"] == 7 and report["label_order"] == "affectnet"  # train part
    assert report["judge_readers"]["images"]["happiness"] == 8  # measured on train + val, read as AffectNet's
    files = [r["file"] for r in read_manifest(out)]
    assert len(files) == 3 and {f.split("/")[0] for f in files} == {"4"}  # fear is AffectNet's 4
    assert json.loads((out / SETTINGS).read_text())["label_order"] == "affectnet"
    faces, _ = selected_synthetic(out, read_manifest(out), set(files), targets=("fear",))  # as fer train --synthetic
    assert len(faces) == 3 and {EMOTIONS[i] for i in faces.labels} == {"fear"}
    with pytest.raises(ParameterError, match="label_order 'affectnet', now 'raf-db'"):  # another order: said
        augment_dataset(root, out=out, targets="fear", max_sources=3, progress=False, label_order="raf-db")


def test_a_jfif_sources_crop_is_named_without_its_ending():
    from facecraft.eval.augment import _file_name

    record = {"source": "happy/a.jfif", "source_path": "/d/happy/a.jfif", "target": "fear", "variant": 0}
    assert _file_name(record) == "fear/happy_a_fear0.png"  # was happy_a.jfif_fear0.png


def test_reader_recall_never_sees_a_face_the_sources_split_calls_test(tmp_path):
    # measure_readers searched faces and dropped the photos it found none in; on a set without a split of its own the
    # stratified split of what was left differed from the sources' (read without a search), and some of the sources'
    # test faces were among the faces that chose each second judge's classes
    from facecraft.eval.augment import measure_readers

    root = tmp_path / "set"
    for c, name in enumerate(("happy", "sad", "surprise")):
        (root / name).mkdir(parents=True)
        for k in range(10):  # one grey level per face: the judge below sees which faces it is shown
            Image.fromarray(np.full((48, 48), 10 + 20 * c + 2 * k, np.uint8)).save(root / name / f"{k}.png")
    for k in range(3):  # larger than a crop and no face: left out by a face search, a source all the same
        noise = np.random.default_rng(k).integers(0, 255, (100, 100), dtype=np.uint8)
        Image.fromarray(noise).save(root / "happy" / f"big{k}.png")
    shown: list[int] = []

    class Looker:
        def predict_proba(self, images, detect=False):
            shown.extend(int(np.median(im)) for im in images)
            return np.full((len(images), len(EMOTIONS)), 1 / len(EMOTIONS))

    measure_readers(root, AugmentConfig(second_judges=("networkv2",)), judges={"networkv2": Looker()})
    test_faces, _, _, _ = dataset_sources(root, split="test")
    levels = {int(np.median(load_image(f.path))) for f in test_faces if "big" not in f.id}
    assert levels and not levels & set(shown) and len(shown) == 30 - len(levels)  # every other face of 48 px


def test_a_run_stopped_by_bad_input_leaves_no_folder_of_its_own_behind(tiny_fer_folder, tmp_path):
    # `facecraft augment nosuch --out X` said what was wrong but left X/ holding a stale lock file
    out = tmp_path / "made" / "aug"
    with pytest.raises(FacecraftError):
        augment_dataset(tmp_path / "no_such_set", out=out, targets="fear", progress=False)
    assert not out.exists()
    kept = tmp_path / "theirs"
    kept.mkdir()
    with pytest.raises(FacecraftError):
        augment_dataset(tiny_fer_folder, out=kept, targets="no_such_emotion", progress=False)
    assert kept.is_dir()  # a folder the user made stays
