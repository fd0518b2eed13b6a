import json
from pathlib import Path

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


def test_repeated_control_flags_add_up(tmp_path, astronaut, capsys):
    # '--au AU12=0.5 --au AU6=0.5' kept only the last flag's values
    src, out = tmp_path / "in.png", tmp_path / "out.png"
    iio.imwrite(src, astronaut)
    args = ["edit", str(src), "-o", str(out), "--au", "AU1=0.8", "--au", "AU6=0.5", "--arkit", "jawOpen=0.6",
            "--arkit", "eyeBlinkLeft=1"]  # fmt: skip
    assert main(args) == 0
    text = capsys.readouterr().out
    assert all(name in text for name in ("browInnerUp", "cheekSquint", "jawOpen", "eyeBlinkLeft")), text


def test_edit_by_text_says_what_the_words_were_read_as(tmp_path, astronaut, capsys):
    src, out = tmp_path / "in.png", tmp_path / "out.png"
    iio.imwrite(src, astronaut)
    assert main(["edit", str(src), "-o", str(out), "--text", "a wink with the left eye"]) == 0
    printed = capsys.readouterr().out
    assert "text 'a wink with the left eye' read as AU45L blink 1.00" in printed
    assert "eyeBlinkLeft" in printed and "eyeBlinkRight" not in printed


def test_an_edit_keeps_the_photos_profile_transparency_and_greyness(tmp_path, astronaut):
    from PIL import Image, ImageCms

    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    alpha = np.full(astronaut.shape[:2], 255, np.uint8)
    alpha[:, -60:] = 0  # a cut-out: the right edge, far from the face, transparent
    rgba = Image.fromarray(astronaut).convert("RGBA")
    rgba.putalpha(Image.fromarray(alpha))
    rgba.save(tmp_path / "cut.png", icc_profile=icc)
    Image.fromarray(astronaut).convert("L").save(tmp_path / "grey.png")
    for name in ("cut.png", "grey.png"):
        assert main(["edit", str(tmp_path / name), "-o", str(tmp_path / f"e_{name}"), "--emotion", "surprise"]) == 0
    with Image.open(tmp_path / "e_cut.png") as im:
        assert im.mode == "RGBA" and im.info.get("icc_profile") == icc
        np.testing.assert_array_equal(np.asarray(im)[..., 3], alpha)
    with Image.open(tmp_path / "e_grey.png") as im:
        assert im.mode == "L"


def test_edit_takes_every_face_of_a_group_photo_up_to_max_faces(tmp_path, astronaut, capsys):
    from PIL import Image

    src = tmp_path / "row.png"  # five people side by side: more than the analyzer's default of four
    iio.imwrite(src, np.concatenate([np.asarray(Image.fromarray(astronaut).resize((400, 400)))] * 5, axis=1))
    assert main(["edit", str(src), "-o", str(tmp_path / "all.png"), "--emotion", "surprise"]) == 0
    text = capsys.readouterr().out
    assert sum(line.startswith("face ") for line in text.splitlines()) == 5 and "note:" not in text
    assert main(["edit", str(src), "-o", str(tmp_path / "two.png"), "--emotion", "surprise", "--max-faces", "2"]) == 0
    text = capsys.readouterr().out
    assert sum(line.startswith("face ") for line in text.splitlines()) == 2
    assert "2 faces edited, the --max-faces limit" in text
    assert main(["edit", str(src), "-o", str(tmp_path / "none.png"), "--emotion", "surprise", "--max-faces", "0"]) == 1
    assert "max_faces: expected at least 1" in capsys.readouterr().err
    folder = tmp_path / "photos"  # folder mode: the report says which photo reached the limit
    folder.mkdir()
    src.rename(folder / "row.png")
    assert main(["edit", str(folder), "-o", str(tmp_path / "out"), "--emotion", "surprise", "--max-faces", "3"]) == 0
    row = json.loads((tmp_path / "out" / "report.json").read_text())["row.png"]
    assert row["faces"] == 3 and "--max-faces limit" in row["note"]


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
    again = json.loads((out / "report.json").read_text())["sub/a.png"]
    assert again["status"] == "exists" and again["output"] == str(out / "sub" / "a.png")  # the first run's entry
    assert (out / "sub" / "a.png").stat().st_mtime_ns == before
    capsys.readouterr()
    # other controls into the same folder would mix two edits: stopped, unless --overwrite redoes them
    assert main(["edit", str(folder), "-o", str(out), "--emotion", "anger"]) == 1
    assert "holds edits made with other settings (emotion 'surprise:0.7', now" in capsys.readouterr().err
    assert (out / "sub" / "a.png").stat().st_mtime_ns == before


def test_folder_mode_never_edits_its_own_outputs(tmp_path, astronaut, capsys):
    folder = tmp_path / "photos"
    folder.mkdir()
    iio.imwrite(folder / "a.png", astronaut)
    (folder / ".cache").mkdir()
    iio.imwrite(folder / ".cache" / "thumb.png", astronaut)  # hidden folders are not the user's photos
    for _ in range(2):
        main(["edit", str(folder), "-o", str(folder / "edited"), "--arkit", "jawOpen=0.5"])
    assert sorted(json.loads((folder / "edited" / "report.json").read_text())) == ["a.png"]
    assert not (folder / "edited" / "edited").exists()
    assert main(["edit", str(folder), "-o", str(folder), "--arkit", "jawOpen=0.5"]) == 1
    assert "is the input folder" in capsys.readouterr().err
    (tmp_path / "dir.png").mkdir()
    assert main(["edit", str(folder / "a.png"), "-o", str(tmp_path / "dir.png"), "--arkit", "jawOpen=0.5"]) == 1
    assert "is a folder" in capsys.readouterr().err
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no part file left
    # a folder of photos into what names an image: an error, not a folder of that name
    assert main(["edit", str(folder), "-o", str(tmp_path / "single.jpg"), "--arkit", "jawOpen=0.5"]) == 1
    assert "names an image" in capsys.readouterr().err and not (tmp_path / "single.jpg").exists()


def test_folder_mode_reports_an_unforeseen_failure_and_goes_on(tmp_path, astronaut, monkeypatch):
    from facecraft.synth import cli

    folder = tmp_path / "photos"
    folder.mkdir()
    for name in ("a.png", "b.png"):
        iio.imwrite(folder / name, astronaut)
    real = cli._edit_one

    def flaky(editor, path, *args):
        if path.name == "a.png":
            raise RuntimeError("a bug")
        return real(editor, path, *args)

    monkeypatch.setattr(cli, "_edit_one", flaky)
    assert main(["edit", str(folder), "-o", str(tmp_path / "out"), "--arkit", "jawOpen=0.5"]) == 1
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert report["a.png"]["status"] == "skipped" and "RuntimeError: a bug" in report["a.png"]["reason"]
    assert report["b.png"]["status"] == "edited"


def test_an_interrupted_rerun_keeps_the_report_of_photos_it_did_not_reach(tmp_path, astronaut, monkeypatch):
    from facecraft.synth import cli

    folder, out = tmp_path / "photos", tmp_path / "out"
    folder.mkdir()
    for name in ("a.png", "b.png"):
        iio.imwrite(folder / name, astronaut)
    main(["edit", str(folder), "-o", str(out), "--arkit", "jawOpen=0.5"])
    first = json.loads((out / "report.json").read_text())
    (out / "a.png").unlink()  # redone by the rerun, which is stopped there: b.png is never reached

    def stopped(*args):
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "_edit_one", stopped)
    assert main(["edit", str(folder), "-o", str(out), "--arkit", "jawOpen=0.5"]) == 130  # as Ctrl-C
    assert json.loads((out / "report.json").read_text())["b.png"] == first["b.png"]  # was dropped from the report


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


def test_edit_refine_without_models_names_them_before_any_work(tmp_path, astronaut, capsys, monkeypatch):
    monkeypatch.delenv("FACECRAFT_REFINE_BASE", raising=False)
    monkeypatch.delenv("FACECRAFT_REFINE_ADAPTER", raising=False)
    src = tmp_path / "in.png"
    iio.imwrite(src, astronaut)
    out = tmp_path / "o.png"
    assert main(["edit", str(src), "-o", str(out), "--emotion", "happiness", "--refine"]) == 1
    err = capsys.readouterr().err
    assert "diffusion base" in err and "--base" in err and "FACECRAFT_REFINE_BASE" in err
    assert "AU adapter" in err and "--adapter" in err and "facecraft adapter train" in err
    assert not out.exists()
    assert main(["edit", str(src), "-o", str(out), "--emotion", "happiness", "--refine", "--base",
                 str(tmp_path / "nobase"), "--adapter", str(tmp_path)]) == 1  # fmt: skip
    assert "nobase" in capsys.readouterr().err and not out.exists()


def _tiny_refine_models(folder: Path, monkeypatch) -> None:
    """A tiny diffusion base and AU adapter saved under ``folder``, configured as the environment's defaults."""
    import torch

    from .test_adapter import tiny_adapter
    from .test_refine import tiny_base

    base = tiny_base()
    base.save(folder / "base")
    adapter = tiny_adapter(base.unet)
    with torch.no_grad():
        for p in adapter.au_attn.parameters():  # untrained K/V are small: make the condition visible
            p.mul_(20.0)
    adapter.save_pretrained(folder / "adapter")
    monkeypatch.setenv("FACECRAFT_REFINE_BASE", str(folder / "base"))  # the configured default
    monkeypatch.setenv("FACECRAFT_REFINE_ADAPTER", str(folder / "adapter"))


def test_edit_refine_with_models_changes_only_the_face(tmp_path, astronaut, capsys, monkeypatch):
    _tiny_refine_models(tmp_path, monkeypatch)
    src = tmp_path / "in.png"
    iio.imwrite(src, astronaut)
    plain, refined = tmp_path / "plain.png", tmp_path / "refined.png"
    assert main(["edit", str(src), "-o", str(plain), "--emotion", "surprise:0.8"]) == 0
    assert main(["edit", str(src), "-o", str(refined), "--emotion", "surprise:0.8", "--refine", "--steps", "4"]) == 0
    assert "refined with diffusion" in capsys.readouterr().out
    a, b = iio.imread(plain), iio.imread(refined)
    assert a.shape == b.shape
    changed = np.any(a != b, axis=-1)
    assert changed.any()  # the refine did something ...
    ys, xs = np.nonzero(changed)
    assert changed[:60].sum() == 0 and changed[-60:].sum() == 0 and changed[:, :60].sum() == 0  # ... on the face only
    assert 0 < xs.min() and xs.max() < a.shape[1] - 60


def test_folder_mode_gives_photos_of_one_name_their_own_outputs(tmp_path, astronaut):
    from PIL import Image

    folder = tmp_path / "photos"
    folder.mkdir()
    iio.imwrite(folder / "a.png", astronaut)
    Image.fromarray(astronaut).save(folder / "a.gif")  # written as PNG: a.png was both photos' output
    Image.fromarray(astronaut).save(folder / "a.ppm")
    out = tmp_path / "out"
    assert main(["edit", str(folder), "-o", str(out), "--arkit", "jawOpen=0.5"]) == 0
    report = json.loads((out / "report.json").read_text())
    assert {k: r["status"] for k, r in report.items()} == {"a.gif": "edited", "a.png": "edited", "a.ppm": "edited"}
    outputs = {k: r["output"] for k, r in report.items()}
    assert outputs == {"a.png": str(out / "a.png"), "a.gif": str(out / "a.gif.png"), "a.ppm": str(out / "a.ppm.png")}


def test_folder_mode_edits_photos_without_an_ending_and_in_symlinked_folders(tmp_path, astronaut):
    # IMG_0001 (a JPEG without an ending) and the photos of a symlinked subfolder were passed over without a word
    from PIL import Image

    folder, elsewhere, out = tmp_path / "photos", tmp_path / "elsewhere", tmp_path / "out"
    folder.mkdir()
    elsewhere.mkdir()
    Image.fromarray(astronaut).save(folder / "IMG_0001", format="JPEG")
    Image.fromarray(astronaut).save(folder / "b", format="PNG")  # b's edit would be b.png, b.png's own output
    iio.imwrite(folder / "b.png", astronaut)
    iio.imwrite(elsewhere / "c.png", astronaut)
    (folder / "notes").write_text("not a photo\n")
    (folder / "trip").symlink_to(elsewhere, target_is_directory=True)
    (elsewhere / "back").symlink_to(folder, target_is_directory=True)  # a loop through the link: not followed
    args = ["edit", str(folder), "-o", str(out), "--arkit", "jawOpen=0.5"]
    assert main(args) == 0
    report = json.loads((out / "report.json").read_text())
    assert {k: r["status"] for k, r in report.items()} == {
        "IMG_0001": "edited",
        "b": "edited",
        "b.png": "edited",
        "trip/c.png": "edited",
    }
    assert {k: r["output"] for k, r in report.items()} == {
        "IMG_0001": str(out / "IMG_0001.png"),
        "b": str(out / "b.2.png"),
        "b.png": str(out / "b.png"),
        "trip/c.png": str(out / "trip" / "c.png"),
    }
    assert iio.imread(out / "IMG_0001.png").shape == astronaut.shape
    assert main(args) == 0  # a rerun finds every output done
    again = json.loads((out / "report.json").read_text())
    assert {k: r["status"] for k, r in again.items()} == dict.fromkeys(report, "exists")
    assert {k: r["output"] for k, r in again.items()} == {k: r["output"] for k, r in report.items()}


def test_an_edit_is_never_written_over_its_photo(tmp_path, astronaut, capsys):
    src = tmp_path / "in.png"
    iio.imwrite(src, astronaut)
    before = src.read_bytes()
    assert main(["edit", str(src), "-o", str(src), "--emotion", "surprise"]) == 1
    assert "is the input photo" in capsys.readouterr().err
    assert src.read_bytes() == before


def test_a_contact_sheet_is_never_written_over_the_photo_or_an_edit(tmp_path, astronaut, capsys):
    # -o shot.png for the photo shot_sheet.png wrote the sheet (shot_sheet.png) over the photo, which was lost
    src = tmp_path / "shot_sheet.png"
    iio.imwrite(src, astronaut)
    before = src.read_bytes()
    assert main(["edit", str(src), "-o", str(tmp_path / "shot.png"), "--emotion", "surprise", "--sheet"]) == 1
    assert "contact sheet" in (err := capsys.readouterr().err) and "is the input photo" in err
    assert src.read_bytes() == before and not (tmp_path / "shot.png").exists()  # refused before any work
    assert main(["edit", str(src), "-o", str(tmp_path / "shot.png"), "--emotion", "surprise"]) == 0  # no sheet
    # a folder's sheet.png was written over the edit of its photo sheet.png, which the report listed as edited
    folder, out = tmp_path / "photos", tmp_path / "out"
    folder.mkdir()
    iio.imwrite(folder / "sheet.png", astronaut)
    assert main(["edit", str(folder), "-o", str(out), "--arkit", "jawOpen=0.5", "--sheet"]) == 0
    assert iio.imread(out / "sheet.png").shape == astronaut.shape  # the edit
    assert (out / "sheet.2.png").exists() and f"contact sheet -> {out / 'sheet.2.png'}" in capsys.readouterr().out


def test_keep_glasses_holds_the_frame_and_is_part_of_a_folders_settings(tmp_path, capsys):
    from .test_glasses_frame import glasses_on_astronaut

    photo, _, drawn = glasses_on_astronaut()
    folder, out = tmp_path / "photos", tmp_path / "edited"
    folder.mkdir()
    iio.imwrite(folder / "g.png", photo)
    assert main(["edit", str(folder), "-o", str(out), "--emotion", "surprise", "--keep-glasses"]) == 0
    edited = iio.imread(out / "g.png")
    assert np.abs(edited.astype(int) - photo.astype(int)).max(axis=2)[drawn].max() <= 2
    assert json.loads((out / "edit-settings.json").read_text())["keep_glasses"] is True
    assert json.loads((out / "report.json").read_text())["g.png"]["glasses_held"] == [0]
    capsys.readouterr()
    assert main(["edit", str(folder), "-o", str(out), "--emotion", "surprise"]) == 1  # not the same edits
    assert "other settings" in capsys.readouterr().err
    one = ["edit", str(folder / "g.png"), "-o", str(tmp_path / "one.png"), "--emotion", "fear", "--keep-glasses"]
    assert main(one) == 0
    assert "face 0: glasses frame held still" in capsys.readouterr().out


def test_edit_writes_an_output_named_near_the_file_name_limit(tmp_path, astronaut):
    # the hidden ".{stem}.part.png" passed 255 bytes: "File name too long" after the whole edit
    src = tmp_path / "in.png"
    iio.imwrite(src, astronaut)
    for stem in ("t" * 246, "é" * 123):  # 250 bytes with ".png" (é is 2 bytes in UTF-8)
        out = tmp_path / f"{stem}.png"
        assert len(out.name.encode()) == 250
        assert main(["edit", str(src), "-o", str(out), "--arkit", "jawOpen=0.6"]) == 0
        assert iio.imread(out).shape == astronaut.shape
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []  # no part file left


def test_an_output_named_without_an_ending_takes_the_photos_format(tmp_path, astronaut, capsys, monkeypatch):
    # -o smiling for a photo was refused ('expected an image file'); facecraft talk -o out writes out.mp4
    from PIL import Image

    Image.fromarray(astronaut).save(tmp_path / "me.jpg", quality=95)
    assert main(["edit", str(tmp_path / "me.jpg"), "-o", str(tmp_path / "smiling"), "--emotion", "surprise"]) == 0
    assert f"-o {tmp_path / 'smiling'} has no ending: writing the edit as {tmp_path / 'smiling.jpg'}" in (
        capsys.readouterr().out
    )
    with Image.open(tmp_path / "smiling.jpg") as im:
        assert im.format == "JPEG" and im.size == astronaut.shape[1::-1]
    assert not (tmp_path / "smiling").exists()
    # a name with an ending is kept, said the same way or not, and nothing is printed about it
    monkeypatch.chdir(tmp_path)
    assert main(["edit", "me.jpg", "-o", "./as_png.png", "--emotion", "surprise"]) == 0
    assert "no ending" not in capsys.readouterr().out and (tmp_path / "as_png.png").exists()
    # another ending and a folder are refused as before, before any work
    assert main(["edit", "me.jpg", "-o", "out.gif", "--emotion", "surprise"]) == 1
    assert "expected an image file" in capsys.readouterr().err
    (tmp_path / "folder").mkdir()
    assert main(["edit", "me.jpg", "-o", "folder", "--emotion", "surprise"]) == 1
    assert "is a folder" in capsys.readouterr().err and not list((tmp_path / "folder").iterdir())


def test_edit_output_keeps_the_inputs_format_or_writes_png():
    from facecraft.synth.cli import edit_output

    assert edit_output("out", "a/me.png") == Path("out.png")
    assert edit_output("d/out", "me.JPG") == Path("d/out.JPG")
    assert edit_output("out", "IMG_0001") == Path("out.png")  # a photo without an ending, as a folder's edits
    assert edit_output("out", "anim.gif") == Path("out.png")  # a format not written
    assert edit_output("out", "me.jfif") == Path("out.jfif")  # a JPEG as Windows saves it: written as one (was .png)
    assert edit_output("out.webp", "me.jpg") == Path("out.webp")
    assert edit_output("out.gif", "me.jpg") == Path("out.gif")  # left for the command to refuse


def test_a_cut_out_keeps_its_background_clear_where_the_chin_drops(tmp_path, astronaut):
    # Every pixel an edit changed was written opaque: a cut-out portrait's dropped chin left an opaque white
    # crescent below it (the white the photo is edited on). The alpha now moves with the face.
    from PIL import Image

    from .cutout_helpers import hull_alpha, white_patches
    from .warp_helpers import astronaut_points

    alpha = hull_alpha(astronaut_points()[1], astronaut.shape[:2])
    Image.fromarray(np.dstack([astronaut, alpha])).save(tmp_path / "cut.png")
    assert main(["edit", str(tmp_path / "cut.png"), "-o", str(tmp_path / "e.png"), "--emotion", "surprise"]) == 0
    edited = np.asarray(Image.open(tmp_path / "e.png"))
    assert white_patches(alpha, edited).sum() == 0
    assert (edited[..., 3] == 0).mean() > 0.5 and (edited[..., 3] > 0).sum() > 0.9 * (alpha > 0).sum()


def test_a_refined_cut_out_keeps_the_edits_transparency(tmp_path, astronaut, monkeypatch):
    # --refine wrote a cut-out without the alpha the edit moved: the dropped chin's crescent came out opaque white
    from PIL import Image

    from .cutout_helpers import hull_alpha, white_patches
    from .warp_helpers import astronaut_points

    _tiny_refine_models(tmp_path, monkeypatch)
    alpha = hull_alpha(astronaut_points()[1], astronaut.shape[:2])
    Image.fromarray(np.dstack([astronaut, alpha])).save(tmp_path / "cut.png")
    edit = ["edit", str(tmp_path / "cut.png"), "--emotion", "surprise"]
    assert main([*edit, "-o", str(tmp_path / "plain.png")]) == 0
    assert main([*edit, "-o", str(tmp_path / "refined.png"), "--refine", "--steps", "4"]) == 0
    plain, refined = (np.asarray(Image.open(tmp_path / n)) for n in ("plain.png", "refined.png"))
    assert refined.shape == plain.shape == (*astronaut.shape[:2], 4)
    np.testing.assert_array_equal(refined[..., 3], plain[..., 3])  # the edit's alpha, moved with the face
    assert white_patches(alpha, refined).sum() == 0
