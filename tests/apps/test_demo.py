import json

import numpy as np
import pytest

from facecraft.apps.demo import run_demo, tour_curves
from facecraft.rigs.video import probe_video


def test_tour_curves_visit_each_pose_and_return_to_neutral():
    poses = [np.full(52, 0.5, np.float32), np.eye(52, dtype=np.float32)[17]]
    c = tour_curves(poses, fps=30, hold=0.5, blend=0.2)
    assert c.shape[1] == 52 and c[0].sum() == 0 and c[-1].sum() == 0
    assert any(np.allclose(row, poses[0]) for row in c) and any(np.allclose(row, poses[1]) for row in c)


def test_rig_tour_writes_glb_csv_mp4_and_sheet(tmp_path):
    results = run_demo(tmp_path, only=["rig tour"])["rig tour"]
    assert "error" not in results, results
    info = probe_video(results["mp4"])
    assert info.width == 512 and info.frames > 100
    for key in ("glb", "csv", "sheet"):
        assert (tmp_path / "rig_tour" / results[key].split("/")[-1]).stat().st_size > 1000
    if not results["glb_validation"].startswith("skipped"):
        report = json.loads((tmp_path / "rig_tour" / "rig_tour.validation.json").read_text())
        assert report["numErrors"] == 0


def test_edit_photo_writes_every_edit_and_a_sheet(tmp_path):
    from PIL import Image

    from facecraft.apps.demo import DEMO_EDITS

    results = run_demo(tmp_path, only=["edit photo"])["edit photo"]
    assert "error" not in results, results
    edits = sorted((tmp_path / "edit_photo").glob("astronaut_*.png"))
    assert len(edits) == len(DEMO_EDITS)
    original = np.asarray(Image.open(results["photo"]).convert("RGB"))
    changed = [not np.array_equal(np.asarray(Image.open(p)), original) for p in edits]
    assert sum(changed) >= len(DEMO_EDITS) - 1  # happiness on a smiling face may change nothing
    sheet = Image.open(results["sheet"])
    assert sheet.width > 7 * 256 and sheet.height > 2 * 256


def test_each_demo_edit_is_saved_under_the_action_units_it_sets():
    # "AU1+2 brows up" was saved as astronaut_AU12_brows_up.png: AU12 is the lip corner puller, not the brows
    import re

    from facecraft.apps.demo import DEMO_EDITS, edit_file_name

    names = [edit_file_name(label) for label, _ in DEMO_EDITS]
    assert len(set(names)) == len(names) and all(re.fullmatch(r"astronaut_[A-Za-z0-9_.]+\.png", n) for n in names)
    for (label, controls), name in zip(DEMO_EDITS, names, strict=True):
        if "au" in controls:
            assert re.findall(r"AU\d+", name) == list(controls["au"]), (label, name)
    assert "astronaut_a_shy_smile.png" in names and "astronaut_jawOpen_0.6.png" in names


def test_talking_portrait_writes_a_video_with_sound_and_a_sheet(tmp_path):
    results = run_demo(tmp_path, only=["talking portrait"])["talking portrait"]
    assert "error" not in results, results
    info = probe_video(results["mp4"])
    assert info.width == 512 and info.frames > 50 and info.audio_codec is not None
    assert (tmp_path / "talking_portrait" / "talking_portrait_sheet.png").stat().st_size > 10_000


def test_only_names_steps_in_any_spelling_and_an_unknown_one_is_an_error():
    from facecraft.apps.demo import STEPS, chosen_steps
    from facecraft.rigs.errors import ParameterError

    assert chosen_steps(None) == list(STEPS)
    assert chosen_steps(["rig_tour"]) == chosen_steps(["rig", "tour"]) == chosen_steps(["Rig Tour"]) == ["rig tour"]
    assert chosen_steps(["photo"]) == ["judge photo", "edit photo"]
    for only in ([], ["nosuch"]):  # ran nothing, exit 0, and an empty summary over the last one
        with pytest.raises(ParameterError):
            chosen_steps(only)


def test_judge_photo_asks_every_judge_the_shipped_one_first(tmp_path):
    # the demo judged the photo with the ported mini-Xception and NetworkV2 only, never facecraft's own judge
    from facecraft.eval import SUPPORTED_JUDGES
    from facecraft.rigs import EMOTIONS

    results = run_demo(tmp_path, only=["judge"])["judge photo"]
    assert "error" not in results, results
    judges = [k for k in results if k != "photo"]
    assert judges[0] == "facecraft" and sorted(judges) == sorted(SUPPORTED_JUDGES)
    for name in judges:  # "happiness 0.95, anger 0.01, contempt 0.01": three emotions with probabilities
        assert [w.split()[0] in EMOTIONS for w in results[name].split(", ")] == [True] * 3
    assert json.loads((tmp_path / "judge_photo" / "judgements.json").read_text()) == results


def test_summary_puts_every_value_in_one_column():
    # a 16-character label column: "happiness:0.8 glb" pushed its path one place right of the others
    from facecraft.apps.demo import summary_lines

    results = {"speech": {"audio": "a.wav", "happiness:0.8 glb": "b.glb"}, "judge": {"photo": "p.png"}}
    lines = summary_lines(results)
    assert lines[0] == "  speech:" and lines[3] == "  judge:"
    values = [line for line in lines if not line.endswith(":")]
    assert len({line.index(v) for line, v in zip(values, ("a.wav", "b.glb", "p.png"), strict=True)}) == 1
