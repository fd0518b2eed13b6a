"""Live Link Face CSV: the app's exact layout, reading by header name, bad input, and a real iPhone take."""

from __future__ import annotations

import csv
import logging

import numpy as np
import pytest

from facecraft.rigs import ARKIT_NAMES, FileFormatError, MissingFileError, ParameterError
from facecraft.rigs.animation import FaceAnimation
from facecraft.rigs.exchange import LIVELINK_HEADER, read_livelink_csv, write_livelink_csv
from facecraft.rigs.exchange.livelink import format_timecode, parse_timecode

# Written out by hand from shared/assets/ARKIT-52.md ("Live Link Face (Epic) CSV export layout").
APP_HEADER = (
    "Timecode,BlendShapeCount,EyeBlinkLeft,EyeLookDownLeft,EyeLookInLeft,EyeLookOutLeft,EyeLookUpLeft,"
    "EyeSquintLeft,EyeWideLeft,EyeBlinkRight,EyeLookDownRight,EyeLookInRight,EyeLookOutRight,EyeLookUpRight,"
    "EyeSquintRight,EyeWideRight,JawForward,JawRight,JawLeft,JawOpen,MouthClose,MouthFunnel,MouthPucker,MouthRight,"
    "MouthLeft,MouthSmileLeft,MouthSmileRight,MouthFrownLeft,MouthFrownRight,MouthDimpleLeft,MouthDimpleRight,"
    "MouthStretchLeft,MouthStretchRight,MouthRollLower,MouthRollUpper,MouthShrugLower,MouthShrugUpper,"
    "MouthPressLeft,MouthPressRight,MouthLowerDownLeft,MouthLowerDownRight,MouthUpperUpLeft,MouthUpperUpRight,"
    "BrowDownLeft,BrowDownRight,BrowInnerUp,BrowOuterUpLeft,BrowOuterUpRight,CheekPuff,CheekSquintLeft,"
    "CheekSquintRight,NoseSneerLeft,NoseSneerRight,TongueOut,HeadYaw,HeadPitch,HeadRoll,LeftEyeYaw,LeftEyePitch,"
    "LeftEyeRoll,RightEyeYaw,RightEyePitch,RightEyeRoll"
)


def _rows(path):
    with open(path, newline="") as f:
        return list(csv.reader(f))


def test_written_file_has_the_apps_layout(tmp_path, random_anim):
    path = write_livelink_csv(random_anim, tmp_path / "take.csv")
    rows = _rows(path)
    assert ",".join(rows[0]) == APP_HEADER == ",".join(LIVELINK_HEADER)
    assert len(rows) == 1 + random_anim.num_frames and {len(r) for r in rows} == {63}
    assert {r[1] for r in rows[1:]} == {"61"}
    assert rows[1][0] == "00:00:00:00.000" and rows[2][0] == "00:00:00:01.000" and rows[31][0] == "00:00:01:00.000"
    row = dict(zip(rows[0], rows[5], strict=True))
    c = random_anim.curves[4]
    assert float(row["JawLeft"]) == pytest.approx(c[ARKIT_NAMES.index("jawLeft")], abs=1e-9)
    assert float(row["MouthRight"]) == pytest.approx(c[ARKIT_NAMES.index("mouthRight")], abs=1e-9)
    assert float(row["HeadPitch"]) == pytest.approx(np.deg2rad(random_anim.head_rotation[4, 1]), abs=1e-7)
    # the app's yaw and roll run the other way round (X mirrored); pitch agrees
    assert float(row["RightEyeRoll"]) == pytest.approx(-np.deg2rad(random_anim.eye_rotation[4, 5]), abs=1e-7)
    assert float(row["HeadYaw"]) == pytest.approx(-np.deg2rad(random_anim.head_rotation[4, 0]), abs=1e-7)


def test_round_trip(tmp_path, random_anim):
    back = read_livelink_csv(write_livelink_csv(random_anim, tmp_path / "take.csv"))
    assert back["fps"] == 30.0
    assert back["curves"] == pytest.approx(random_anim.curves, abs=1e-9)
    assert back["head_rotation"] == pytest.approx(random_anim.head_rotation, abs=1e-4)
    assert back["eye_rotation"] == pytest.approx(random_anim.eye_rotation, abs=1e-4)
    assert back["meta"]["timecode_start"] == "00:00:00:00.000"


@pytest.mark.parametrize("fps", [24.0, 29.97, 59.94, 60.0])
def test_frame_rate_is_recovered_from_timecodes(tmp_path, fps):
    anim = FaceAnimation(np.zeros((90, 52), np.float32), fps=fps)
    back = read_livelink_csv(write_livelink_csv(anim, tmp_path / "t.csv", start=3600.5))
    assert back["fps"] == pytest.approx(fps, rel=1e-4)
    assert back["meta"]["start_seconds"] == pytest.approx(3600.5, abs=1e-3)


@pytest.mark.parametrize("fps", [1.0, 2.0, 5.0, 6.0, 12.0, 100.0, 240.0])
def test_a_rate_that_is_no_timecode_rate_survives_the_round_trip(tmp_path, caplog, fps):
    # `facecraft animate --fps 240 -o x.csv` wrote frame fields counting to 239, and --fps 1 or 12 fields the
    # reader could not place: every such file was read back at 60 fps, its timing stretched or squeezed.
    anim = FaceAnimation(np.zeros((int(3 * fps), 52), np.float32), fps=fps)
    with caplog.at_level(logging.WARNING):
        back = read_livelink_csv(write_livelink_csv(anim, tmp_path / "t.csv", start=7.0))
    assert back["fps"] == pytest.approx(fps, rel=1e-4) and not caplog.text
    if fps >= 6:  # the frame field counts at the app's 60, as a strict reader of its takes expects
        assert max(float(r[0].split(":")[3]) for r in _rows(tmp_path / "t.csv")[1:]) < 60
    assert back["meta"]["start_seconds"] == pytest.approx(7.0, abs=1e-3)


@pytest.mark.parametrize(("frames", "fps"), [(24, 60.0), (44, 60.0), (59, 60.0), (19, 30.0), (29, 30.0)])
def test_a_take_shorter_than_a_second_of_timecode_is_read_at_60_or_the_rate_given(tmp_path, caplog, frames, fps):
    # A one-word line at 60 fps (44 frames: timecode frames 0..43) was read as 48 fps, its mouth 25 % late.
    path = write_livelink_csv(FaceAnimation(np.zeros((frames, 52), np.float32), fps=fps), tmp_path / "short.csv")
    with caplog.at_level(logging.WARNING):
        back = read_livelink_csv(path)
    assert back["fps"] == 60.0 and "does not tell its rate" in caplog.text
    assert read_livelink_csv(path, fps=fps)["fps"] == fps
    # a take that crosses a second of timecode tells its rate, however short
    crossing = write_livelink_csv(FaceAnimation(np.zeros((frames, 52), np.float32), fps=fps), tmp_path / "c.csv",
                                  start=1.0 - 5 / fps)  # fmt: skip
    assert read_livelink_csv(crossing)["fps"] == fps


def test_timecode_format_and_parse():
    assert format_timecode(3723.5, 60) == "01:02:03:30.000"
    assert parse_timecode("10:13:39:01.936", 60) == pytest.approx(10 * 3600 + 13 * 60 + 39 + 1.936 / 60)
    assert format_timecode(0.999999, 60) == "00:00:01:00.000"  # a rounded frame field carries into seconds
    with pytest.raises(ParameterError, match="HH:MM:SS:FF.fff"):
        parse_timecode("12.5", 60)


def test_columns_read_by_name_in_any_order_and_case(tmp_path):
    names = ["timecode", "blendshapeCount", "jawOpen", "MOUTHLEFT", "eyeBlink_L", "headyaw"]
    path = tmp_path / "shuffled.csv"
    path.write_text(",".join(names) + "\n00:00:00:00.000,61,0.5,0.25,1.0,0.1\n00:00:00:01.000,61,0.6,0.2,0.0,0.2\n")
    d = read_livelink_csv(path)
    c = d["curves"]
    assert c[:, ARKIT_NAMES.index("jawOpen")].tolist() == pytest.approx([0.5, 0.6])
    assert c[:, ARKIT_NAMES.index("mouthLeft")].tolist() == pytest.approx([0.25, 0.2])
    assert c[:, ARKIT_NAMES.index("eyeBlinkLeft")].tolist() == [1.0, 0.0]
    assert d["head_rotation"][:, 0] == pytest.approx(-np.rad2deg([0.1, 0.2]))
    assert d["eye_rotation"] is None


def test_swap_mouth_left_right(tmp_path):
    curves = np.zeros((2, 52), np.float32)
    curves[:, ARKIT_NAMES.index("mouthLeft")] = 0.75
    path = write_livelink_csv(FaceAnimation(curves), tmp_path / "s.csv")
    swapped = read_livelink_csv(path, swap_mouth_left_right=True)["curves"]
    assert swapped[:, ARKIT_NAMES.index("mouthRight")].tolist() == [0.75, 0.75]
    assert not swapped[:, ARKIT_NAMES.index("mouthLeft")].any()
    written_swapped = write_livelink_csv(FaceAnimation(curves), tmp_path / "w.csv", swap_mouth_left_right=True)
    assert float(dict(zip(*_rows(written_swapped)[:2], strict=True))["MouthRight"]) == 0.75


def test_failed_capture_rows_are_skipped(tmp_path, caplog):
    path = write_livelink_csv(FaceAnimation(np.full((4, 52), 0.5, np.float32), fps=60), tmp_path / "f.csv")
    lines = path.read_text().splitlines()
    lines.insert(3, "00:00:00:01.500,0")  # a failed frame: count 0 and no weight columns
    path.write_text("\n".join(lines) + "\n")
    with caplog.at_level(logging.WARNING):
        d = read_livelink_csv(path)
    assert d["curves"].shape == (4, 52) and d["meta"]["skipped_rows"] == 1
    assert "BlendShapeCount 0" in caplog.text


def test_unknown_columns(tmp_path, caplog):
    path = tmp_path / "extra.csv"
    path.write_text("Timecode,BlendShapeCount,JawOpen,Banana,mouthSmile_L\n00:00:00:00.000,61,0.5,7,0.1\n")
    with pytest.raises(FileFormatError, match=r"extra.csv: unknown column\(s\) 'Banana'"):
        read_livelink_csv(path)
    with caplog.at_level(logging.WARNING):
        d = read_livelink_csv(path, strict=False)
    assert "Banana" in caplog.text and "50 blendshape column(s) missing" in caplog.text
    assert d["curves"][0, ARKIT_NAMES.index("jawOpen")] == 0.5
    assert d["curves"][0, ARKIT_NAMES.index("mouthSmileLeft")] == pytest.approx(0.1)


def test_a_spreadsheets_semicolon_export_reads_as_the_comma_file(tmp_path):
    rows = "Timecode,BlendShapeCount,JawOpen,MouthSmileLeft\n00:00:00:00.000,61,0.5,0.25\n00:00:00:01.000,61,0.4,0.2\n"
    (tmp_path / "comma.csv").write_text(rows)
    (tmp_path / "semi.csv").write_text(rows.replace(",", ";"))
    np.testing.assert_array_equal(
        read_livelink_csv(tmp_path / "semi.csv")["curves"], read_livelink_csv(tmp_path / "comma.csv")["curves"]
    )


def test_a_spreadsheets_decimal_comma_export_reads_as_the_comma_file(tmp_path, random_anim):
    """A spreadsheet set to a decimal comma (German, French ...) saves ';' between cells and 0,25 in them."""
    text = write_livelink_csv(random_anim, tmp_path / "take.csv").read_text()
    (tmp_path / "de.csv").write_text(text.replace(",", ";").replace(".", ",").replace("\n", "\r\n"))
    want, got = read_livelink_csv(tmp_path / "take.csv"), read_livelink_csv(tmp_path / "de.csv")
    np.testing.assert_array_equal(got["curves"], want["curves"])
    np.testing.assert_array_equal(got["head_rotation"], want["head_rotation"])
    assert got["fps"] == want["fps"] == 30.0 and got["meta"]["start_seconds"] == want["meta"]["start_seconds"]


def test_bad_files(tmp_path):
    with pytest.raises(MissingFileError, match="missing.csv"):
        read_livelink_csv(tmp_path / "missing.csv")
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(FileFormatError, match="empty.csv: empty file"):
        read_livelink_csv(empty)
    short = tmp_path / "short.csv"
    short.write_text("Timecode,BlendShapeCount,JawOpen,MouthClose\n00:00:00:00.000,61,0.5\n")
    with pytest.raises(FileFormatError, match=r"short.csv:2: 3 fields, the header has 4"):
        read_livelink_csv(short)
    text = tmp_path / "text.csv"
    text.write_text("Timecode,BlendShapeCount,JawOpen\n00:00:00:00.000,61,open\n")
    with pytest.raises(FileFormatError, match="text.csv:2: non-numeric"):
        read_livelink_csv(text)
    with pytest.raises(ParameterError, match="rotation_unit"):
        read_livelink_csv(text, rotation_unit="turns")


def test_rows_without_timecodes_fall_back_to_fps(tmp_path, caplog):
    path = tmp_path / "notc.csv"
    path.write_text("JawOpen\n0.1\n0.2\n0.3\n")
    with caplog.at_level(logging.WARNING):
        d = read_livelink_csv(path, fps=25)
    assert d["fps"] == 25 and d["curves"][:, ARKIT_NAMES.index("jawOpen")] == pytest.approx([0.1, 0.2, 0.3])


def test_real_iphone_take(shared_dir):
    path = shared_dir / "data/capture/neurosync_trainer_lite_testset/curves_llf.csv"
    if not path.exists():
        pytest.skip(f"{path} absent")
    d = read_livelink_csv(path)
    anim = FaceAnimation(**d)
    assert anim.num_frames == 1218 and d["meta"]["skipped_rows"] == 0
    assert anim.fps == pytest.approx(59.94, abs=0.1) and anim.duration == pytest.approx(20.3, abs=0.1)
    rows = _rows(path)
    table = {name: np.array([float(r[i]) for r in rows[1:]]) for i, name in enumerate(rows[0]) if i >= 2}
    for name in ("JawOpen", "JawLeft", "JawRight", "MouthLeft", "MouthRight", "EyeBlinkRight", "TongueOut"):
        apple = name[0].lower() + name[1:]
        assert anim.curves[:, ARKIT_NAMES.index(apple)] == pytest.approx(table[name], abs=1e-6)
    assert anim.curves[:, ARKIT_NAMES.index("jawOpen")].max() > 0.2  # the speaker opens the mouth
    assert anim.head_rotation[:, 0] == pytest.approx(-np.rad2deg(table["HeadYaw"]), abs=1e-4)
    assert anim.head_rotation[:, 1] == pytest.approx(np.rad2deg(table["HeadPitch"]), abs=1e-4)
    # in facecraft's convention a left eye turning toward the subject's left (+yaw) looks out; down is +pitch
    c, eyes = anim.curves, anim.eye_rotation
    look_out = c[:, ARKIT_NAMES.index("eyeLookOutLeft")] - c[:, ARKIT_NAMES.index("eyeLookInLeft")]
    look_down = c[:, ARKIT_NAMES.index("eyeLookDownLeft")] - c[:, ARKIT_NAMES.index("eyeLookUpLeft")]
    assert np.corrcoef(eyes[:, 0], look_out)[0, 1] > 0.9 and np.corrcoef(eyes[:, 1], look_down)[0, 1] > 0.9
    assert 20 < eyes[:, 0].max() < 50  # radians read as such: a sideways glance of some 35 degrees
    # written back by the writer, the header equals the app's and the values survive
    assert ",".join(rows[0]) == APP_HEADER


def test_real_take_survives_the_writer(shared_dir, tmp_path):
    path = shared_dir / "data/capture/neurosync_trainer_lite_testset/curves_llf.csv"
    if not path.exists():
        pytest.skip(f"{path} absent")
    anim = FaceAnimation(**read_livelink_csv(path))
    back = FaceAnimation(**read_livelink_csv(write_livelink_csv(anim, tmp_path / "copy.csv")))
    assert back.fps == anim.fps and np.abs(back.curves - anim.curves).max() < 1e-9
    assert np.abs(back.eye_rotation - anim.eye_rotation).max() < 1e-4


def test_no_negative_zero_cells(tmp_path):
    """Values that round to zero (a -0.0, a tiny negative rotation) are written as the app writes zero."""
    curves = np.zeros((3, 52), np.float32)
    curves[0, 0] = -0.0
    head = np.array([[-1e-12, -0.0, 0.0], [-5e-9, 1e-12, -3e-12], [-10.0, 0.0, 5.0]], np.float32)
    eyes = np.full((3, 6), -1e-13, np.float32)
    path = write_livelink_csv(FaceAnimation(curves, fps=60, head_rotation=head, eye_rotation=eyes), tmp_path / "z.csv")
    cells = [c for row in _rows(path)[1:] for c in row[2:]]
    assert "-0.0000000000" not in cells and all(not c.startswith("-0.0000000000") for c in cells)
    assert cells.count("0.0000000000") >= 3 * 61 - 3  # the third head row, and 5e-9 degrees = 1e-10 rad
    back = read_livelink_csv(path)
    assert back["head_rotation"][2].tolist() == pytest.approx([-10.0, 0.0, 5.0], abs=1e-6)


def test_a_take_written_again_keeps_its_time_of_day(tmp_path):
    take = write_livelink_csv(FaceAnimation(np.zeros((90, 52), np.float32), fps=60), tmp_path / "a.csv", start=36819.0)
    again = write_livelink_csv(FaceAnimation(**read_livelink_csv(take)), tmp_path / "b.csv")
    assert read_livelink_csv(again)["meta"]["timecode_start"] == "10:13:39:00.000"  # it restarted at 00:00:00:00


def test_empty_cells_are_read_as_zero_and_counted(tmp_path, caplog):
    path = write_livelink_csv(FaceAnimation(np.full((3, 52), 0.5, np.float32), fps=60), tmp_path / "e.csv")
    lines = path.read_text().splitlines()
    cells = lines[2].split(",")
    cells[2] = cells[3] = ""  # two blendshape cells a spreadsheet left blank
    path.write_text("\n".join([*lines[:2], ",".join(cells), *lines[3:]]) + "\n")
    with caplog.at_level(logging.WARNING):
        back = read_livelink_csv(path)
    assert "2 empty cell(s) read as 0" in caplog.text and back["curves"][1, :2].tolist() == [0.0, 0.0]
