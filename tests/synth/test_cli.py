import json

import imageio.v3 as iio
import numpy as np

from facecraft.apps.cli import main


def test_edit_one_photo_with_a_sheet(tmp_path, astronaut, capsys):
    src = tmp_path / "in.png"
    iio.imwrite(src, astronaut)
    out = tmp_path / "out.png"
    assert main(["edit", str(src), "-o", str(out), "--arkit", "jawOpen=0.6", "--au", "AU1=0.8", "--sheet"]) == 0
    edited = iio.imread(out)
    assert edited.shape == astronaut.shape and not np.array_equal(edited, astronaut)
    assert (tmp_path / "out_sheet.png").exists()
    text = capsys.readouterr().out
    assert "jawOpen" in text and "browInnerUp" in text


def test_bad_controls_and_faces_are_clear_errors(tmp_path, astronaut, capsys):
    src = tmp_path / "in.png"
    iio.imwrite(src, astronaut)
    assert main(["edit", str(src), "-o", str(tmp_path / "o.png"), "--arkit", "jawOpen=2"]) == 1
    assert "jawOpen must lie in [0, 1], got 2" in capsys.readouterr().err
    assert main(["edit", str(src), "-o", str(tmp_path / "o.png"), "--emotion", "happy", "--face", "3"]) == 1
    assert "face 3 requested but 1 face(s) found" in capsys.readouterr().err
    assert main(["edit", str(tmp_path / "none.png"), "-o", str(tmp_path / "o.png"), "--emotion", "happy"]) == 1
    assert "none.png" in capsys.readouterr().err
    assert not (tmp_path / "o.png").exists()


def test_folder_mode_reports_skips_and_resumes(tmp_path, astronaut, capsys):
    folder = tmp_path / "photos"
    (folder / "sub").mkdir(parents=True)
    iio.imwrite(folder / "sub" / "a.png", astronaut)
    iio.imwrite(folder / "blank.png", np.full((128, 128, 3), 90, np.uint8))
    (folder / "broken.jpg").write_bytes(b"not a jpeg")
    out = tmp_path / "edited"
    assert main(["edit", str(folder), "-o", str(out), "--emotion", "surprise:0.7"]) == 1  # some were skipped
    report = json.loads((out / "report.json").read_text())
    assert report["sub/a.png"]["status"] == "edited" and (out / "sub" / "a.png").exists()
    assert report["blank.png"]["status"] == "skipped" and "no face" in report["blank.png"]["reason"]
    assert report["broken.jpg"]["status"] == "skipped" and "broken.jpg" in report["broken.jpg"]["reason"]
    before = (out / "sub" / "a.png").stat().st_mtime_ns
    main(["edit", str(folder), "-o", str(out), "--emotion", "surprise:0.7"])
    assert json.loads((out / "report.json").read_text())["sub/a.png"]["status"] == "exists"
    assert (out / "sub" / "a.png").stat().st_mtime_ns == before


def test_calibrate_editor_reuses_measurements_and_takes_the_solve_options(tmp_path, capsys):
    from facecraft.rigs import NUM_ARKIT
    from facecraft.synth.calibration import EditorCalibration

    raw = tmp_path / "raw.npz"
    rise = np.zeros((2, 1, 2, NUM_ARKIT), np.float32)
    rise[:, 0, :, 0] = [[0.2, 0.4], [0.2, 0.4]]
    np.savez(raw, rise=rise, channels=np.array([0]), levels=np.array([0.5, 1.0]),
             before=np.zeros((2, NUM_ARKIT)), names=np.array(["a.jpg", "b.jpg"]))  # fmt: skip
    out = tmp_path / "cal.json"
    args = ["calibrate-editor", "--measurements", str(raw), "--out", str(out)]
    assert main([*args, "--raise-floor", "0.5", "--removal-max", "1.5"]) == 0
    assert "from 2 photos" in capsys.readouterr().out
    cal = EditorCalibration.load(out)
    assert (cal.raise_floor, cal.removal_max) == (0.5, 1.5)
    assert abs(cal.response[0, 0] - 0.4) < 1e-6
