"""The edit benchmark's pieces on tiny inputs: the astronaut, a couple of controls, a temporary folder."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest

from facecraft.synth.bench_edit import (
    GAZE_CONTROLS,
    RESPONSE_CONTROLS,
    SKIPPED,
    BenchContext,
    Photo,
    bench_edit,
    control_response,
    outside_change,
    outside_face_mask,
    region_errors,
    section_bad_input,
    section_frll,
    section_hit_rate,
    section_identity,
    section_outside,
    section_robustness,
    seen_share,
    truth_pair,
)
from facecraft.synth.controls import EditControls


@pytest.fixture(scope="module")
def ctx(editor):
    return BenchContext(editor)


@pytest.fixture(scope="module")
def jaw_edit(editor, astronaut, astronaut_faces):
    return editor.apply(astronaut, astronaut_faces, EditControls.from_args(arkit={"jawOpen": 0.8}))


def test_outside_mask_covers_the_face_and_catches_far_changes(astronaut, jaw_edit):
    far = outside_face_mask(jaw_edit, astronaut.shape)
    x0, y0, x1, y1 = jaw_edit.faces[0].box.astype(int)
    assert not far[(y0 + y1) // 2, (x0 + x1) // 2]  # the face centre is inside
    assert far[5, 5] and far[-5, -5]  # photo corners are far from the face
    assert 0.8 < far.mean() < 0.99  # the astronaut's face is about 90 x 105 px of the 512 x 512 photo
    assert not far[y1 + 3, (x0 + x1) // 2]  # just under the chin: inside the 10% margin
    worst, pixels = outside_change(astronaut, jaw_edit)
    assert worst <= 2 and pixels == far.sum()
    # A change in a far corner is caught; one at the face centre is not.
    moved = jaw_edit.image.copy()
    moved[(y0 + y1) // 2, (x0 + x1) // 2] ^= 255
    assert outside_change(astronaut, type(jaw_edit)(moved, jaw_edit.mask, jaw_edit.faces))[0] <= 2
    moved[3, 3] = 255 - astronaut[3, 3]
    assert outside_change(astronaut, type(jaw_edit)(moved, jaw_edit.mask, jaw_edit.faces))[0] >= 100
    # A wider margin checks fewer pixels.
    assert outside_face_mask(jaw_edit, astronaut.shape, margin=0.3).sum() < far.sum()


def test_region_errors_ignore_head_position_but_see_the_mouth(astronaut_faces):
    points = astronaut_faces[0].info.landmarks.astype(np.float64)
    angle = np.deg2rad(8)
    rot = np.array([[np.cos(angle), -np.sin(angle), 0], [np.sin(angle), np.cos(angle), 0], [0, 0, 1]])
    moved = 1.2 * points @ rot.T + [30.0, -12.0, 5.0]  # another shot: the head elsewhere, same expression
    err = region_errors(points, moved)
    assert max(err.values()) < 1e-6
    opened = points.copy()
    opened[[14, 17, 87, 317], 1] += 0.05 * (points[454, 0] - points[234, 0])  # lower lip 5% of the width down
    err = region_errors(points, opened)
    assert err["mouth"] > 1e-3 and err["eyes"] < 1e-6


def test_truth_pair_edit_correlates_where_the_baseline_cannot(ctx, editor, astronaut, astronaut_faces):
    # A truth built from the astronaut: her own smile, and her face with the smile faded out ("neutral").
    faded = editor.apply(astronaut, astronaut_faces, EditControls.from_args(emotion="neutral:1")).image
    neutral = ctx.photo(faded, "neutral/astronaut.png")
    smiling = Photo("smiling/astronaut.png", astronaut, astronaut_faces)
    row = truth_pair(ctx, neutral, smiling, controls="happiness:1.0")
    assert row["person"] == "astronaut"
    assert row["edit"]["corr"] > 0.0  # the edit moves the scores the way the real smile does
    assert np.isnan(row["baseline"]["corr"])  # the unedited photo's scores do not change
    assert row["edit"]["score_mae"] < row["baseline"]["score_mae"]
    assert row["baseline"]["identity_vs_source"] == 0.0
    assert 0 < row["edit"]["identity_vs_source"] < 0.6
    assert ctx.records[-1].section == "frll" and ctx.records[-1].outside_max <= 2
    # The other way: the smile taken away, compared with the faded face it came from.
    back = truth_pair(ctx, smiling, neutral, controls="neutral:1.0")
    assert back["edit"]["corr"] > 0.9  # the same edit again: the scores fall as they did
    assert back["edit"]["mouth"] < 0.1 * back["baseline"]["mouth"]
    assert back["edit"]["identity_vs_truth"] < 0.1 < back["baseline"]["identity_vs_truth"]


def test_frll_truth_measures_both_directions(tmp_path, ctx, editor, astronaut, astronaut_faces):
    faded = editor.apply(astronaut, astronaut_faces, EditControls.from_args(emotion="neutral:1")).image
    for kind, image in (("neutral", faded), ("smiling", astronaut)):
        (tmp_path / "faces-frll" / kind).mkdir(parents=True)
        cv2.imwrite(str(tmp_path / "faces-frll" / kind / "001.png"), image[..., ::-1])
    out = section_frll(ctx, tmp_path, quick=True)
    back = out["reverse"]
    ways = [(part["source"], part["truth"], part["controls"], part["compared"]) for part in (out, back)]
    assert ways == [("neutral", "smiling", "happiness:1.0", 1), ("smiling", "neutral", "neutral:1.0", 1)]
    assert back["per_person"][0]["person"] == "001" and not back["skipped"]
    assert back["edit"]["mouth"]["median"] < back["baseline"]["mouth"]["median"]


def test_jaw_open_response_on_the_astronaut(ctx, astronaut, astronaut_faces):
    photo = Photo("astronaut", astronaut, astronaut_faces)
    row = control_response(ctx, photo, "jawOpen")
    assert row["control"] == "jawOpen" and row["rise"] > 0.1  # MediaPipe reads the mouth opening
    assert row["success"] == (row["largest"] == "jawOpen")  # success = jawOpen rose most of the 52
    assert row["largest_rise"] >= row["rise"]
    assert not row["saturated"]
    assert 0.3 < row["seen"] < 1.5  # MediaPipe's chin and lip landmarks follow much of the drawn drop
    # A control the photo already shows at >= 0.8 is flagged (the astronaut smiles broadly).
    scores = astronaut_faces[0].info.blendshape_dict()
    smile = max(("mouthSmileLeft", "mouthSmileRight"), key=scores.get)
    flagged = control_response(ctx, photo, smile)
    assert flagged["saturated"] == (flagged["before"] >= 0.8)


def test_seen_share_projects_the_seen_motion_on_the_drawn_one():
    rng = np.random.default_rng(0)
    before = rng.uniform(100, 400, (478, 3))
    drawn = np.zeros((468, 2))
    drawn[:10] = [0.0, -4.0]  # ten points drawn 4 px up, the rest still
    after = before.copy()
    assert seen_share(drawn, before, after) == 0.0  # landmarks that stay
    after[:10, 1] -= 4.0
    assert seen_share(drawn, before, after) == pytest.approx(1.0)  # landmarks that follow
    after[:10, 1] += 3.0
    after[10:20, 1] -= 9.0  # motion of points the edit did not draw does not count
    assert seen_share(drawn, before, after) == pytest.approx(0.25)
    after[:10, 0] += 5.0  # sideways motion neither
    assert seen_share(drawn, before, after) == pytest.approx(0.25)
    assert seen_share(drawn * 0.1, before, after) is None  # nothing drawn by half a pixel


def test_robustness_counts_failures_by_reason(ctx, astronaut, tmp_path):
    import cv2
    from PIL import Image

    folder = tmp_path / "faces-utk" / "images"
    folder.mkdir(parents=True)
    Image.fromarray(cv2.resize(astronaut[40:240, 130:330], (200, 200))).save(folder / "face.jpg")
    Image.fromarray(np.full((200, 200, 3), 90, np.uint8)).save(folder / "blank.jpg")
    (folder / "broken.jpg").write_bytes(b"not a jpeg")
    seen = []
    report = section_robustness(ctx, tmp_path, quick=True, workers=1, progress=seen.append, every=1)
    assert [s["done"] for s in seen] == [1, 2]  # interim summaries of the crops done so far
    assert report["photos"] == 3 and report["done"] == 3 and report["analysed_and_edited"] == 1
    assert report["errors"] == {"NoFaceError": 1, "FileFormatError": 1}
    assert any("broken.jpg" in m for m in report["error_examples"]["FileFormatError"])
    assert report["sample"]["edited"] == 1 and report["sample"]["identity_below_0.6"] == 1.0
    eyewear = report["sample"]["identity_by_eyewear"]  # the astronaut wears no glasses
    assert eyewear["no_glasses"]["measured"] == 1 and eyewear["glasses"] == {"measured": 0, "identity_below_0.6": None}


def test_aggregates_count_what_they_say(ctx):
    identity = section_identity(ctx.records)
    assert identity["edits"] == sum(r.section in ("frll", "response", "hit_rate") for r in ctx.records)
    assert identity["share_below_0.6"] == 1.0
    outside = section_outside(ctx.records)
    assert outside["checked"] >= 1 and outside["share_within_tolerance"] == 1.0
    assert json.dumps(identity) and json.dumps(outside)


def test_sections_without_data_say_so(ctx, tmp_path):
    for section in (section_frll, section_robustness, section_hit_rate):
        assert section(ctx, tmp_path / "absent", quick=True)["status"] == SKIPPED


def test_bad_inputs_give_clear_errors(ctx, tmp_path):
    report = section_bad_input(ctx, tmp_path)
    api = report["api"]
    for case in ("no face", "corrupt file", "non-image file", "missing file", "--face beyond the faces found"):
        assert api[case]["error"] is not None and not api[case]["error"].startswith("unexpected"), case
        assert api[case]["names_the_file"], (case, api[case]["message"])
    assert api["face below the minimum size"]["error"] == "FaceTooSmallError"
    assert "jawOpne" in api["unknown ARKit control"]["message"]
    assert "1.5" in api["ARKit value out of range"]["message"]
    cli = report["cli_folder_mode"]
    assert cli["exit_code"] == 1 and cli["report"]["astronaut.png"]["status"] == "edited"
    for name in ("no_face.png", "corrupt.jpg", "notes.png", "small_face.png"):
        assert cli["report"][name]["status"] == "skipped" and name in cli["report"][name]["reason"]


def test_quick_bench_without_shared_data_runs_on_the_astronaut(editor, tmp_path):
    report = bench_edit(tmp_path / "out", quick=True, data_dir=tmp_path / "no-data", editor=editor)
    json.dumps(report, allow_nan=False)  # JSON-ready: NaN written as None
    for key in ("frll_truth", "robustness", "emotion_hit_rate"):
        assert report[key]["status"] == SKIPPED
    response = report["blendshape_response"]
    assert response["photos"] == {"astronaut": 1} and response["pairs"] == len(RESPONSE_CONTROLS)
    assert len(response["missing"]) == 2
    assert response["attainable"] == pytest.approx(1 - len(response["judge_mute_controls"]) / len(RESPONSE_CONTROLS))
    assert response["success"] <= response["attainable"]
    assert response["attainable_unsaturated"] <= response["attainable"]
    assert report["speed"]["edit_ms_median"] < report["speed"]["skimage_piecewise_affine_ms_median"]
    assert report["speed"]["first_edit_ms_median"] > 0  # a photo's first edit, which measures it, reported apart
    large = report["speed"]["large_photo"]  # a phone-sized photo, timed per control
    assert large["size"].startswith("3072x") and large["face_width_px"] > 800 and len(large["edit_ms"]) == 3
    for name in ("edit_emotions.png", "edit_controls.png"):
        assert (tmp_path / "out" / name).is_file() and report["contact_sheets"]["written"][name]["rows"]
    assert report["outside_pixels"]["edits"] == len(RESPONSE_CONTROLS)  # the gaze edits are reported apart
    gaze = response["gaze"]
    assert gaze["pairs"] == len(GAZE_CONTROLS) and set(gaze["per_control"]) == set(GAZE_CONTROLS)
    sideways = [gaze["per_control"][f"eyeLook{d}{s}"]["mean_rise"] for d in ("In", "Out") for s in ("Left", "Right")]
    assert min(sideways) > 0.05  # the editor turns the eyes and MediaPipe reads it
