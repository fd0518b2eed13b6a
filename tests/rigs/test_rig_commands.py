import json

import numpy as np
import pytest
import torch

from facecraft.apps.cli import main
from facecraft.rigs import load_rig
from facecraft.rigs.animation import FaceAnimation
from facecraft.rigs.exchange import export_animation, load_animation


def test_emotion_command_prints_code(capsys):
    assert main(["emotion", "anger:0.7"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["dominant"]["emotion"] == "anger" and len(out["code"]) == 57
    assert main(["emotion", "anger", "--top", "-1"]) == 1  # listed every weight but the last
    assert "--top: expected at least 1" in capsys.readouterr().err


def test_convert_and_rig_export(tmp_path, capsys):
    rng = np.random.default_rng(0)
    src = export_animation(FaceAnimation(rng.random((90, 52)), fps=30), tmp_path / "a.csv")
    assert main(["convert", str(src), str(tmp_path / "a.json"), "--fps", "60"]) == 0
    assert load_animation(tmp_path / "a.json").num_frames == 180
    back = load_animation(tmp_path / "a.json")
    assert back.fps == 60 and np.allclose(back.curves[::2], load_animation(src).curves, atol=1e-4)
    # -o, as every other command takes its output; the output given twice or not at all is an error
    assert main(["convert", str(src), "-o", str(tmp_path / "b.npz")]) == 0
    assert np.allclose(load_animation(tmp_path / "b.npz").curves, load_animation(src).curves, atol=1e-4)
    capsys.readouterr()
    assert main(["convert", str(src), str(tmp_path / "c.json"), "-o", str(tmp_path / "d.json")]) == 1
    assert main(["convert", str(src)]) == 1
    err = capsys.readouterr().err
    assert "give the output once" in err and "give the output, as OUTPUT" in err  # none given was "once" too
    # converting a take onto itself replaced it (a 60 fps take became 30 fps, exit 0)
    before = src.read_bytes()
    assert main(["convert", str(src), str(src), "--fps", "15"]) == 1
    assert "is the input" in capsys.readouterr().err and src.read_bytes() == before


def test_rig_export_round_trips_through_every_command(tmp_path):
    """``facecraft rig -o X`` writes what every ``--rig`` option reads back (the one rig loader)."""
    default = load_rig("default")
    assert main(["rig", "-o", str(tmp_path / "rig.safetensors")]) == 0
    saved = load_rig(tmp_path / "rig.safetensors")
    assert saved.shape_names == default.shape_names
    assert np.allclose(saved.neutral, default.neutral) and np.allclose(saved.deltas, default.deltas)
    assert main(["rig", "--rig", str(tmp_path / "rig.safetensors"), "-o", str(tmp_path / "rig.glb")]) == 0
    glb = load_rig(tmp_path / "rig.glb")
    assert glb.shape_names == default.shape_names
    assert np.allclose(glb.deltas, default.deltas, atol=1e-6)


def test_missing_input_is_a_clear_error(tmp_path, capsys):
    assert main(["convert", str(tmp_path / "none.csv"), str(tmp_path / "b.json")]) == 1
    assert "none.csv" in capsys.readouterr().err


def test_input_fps_states_a_short_csv_takes_rate(tmp_path, capsys):
    from facecraft.rigs.exchange import write_livelink_csv

    take = write_livelink_csv(FaceAnimation(np.zeros((19, 52), np.float32), fps=30), tmp_path / "bark.csv")
    assert main(["convert", str(take), str(tmp_path / "a.json")]) == 0
    assert json.loads((tmp_path / "a.json").read_text())["fps"] == 60  # under a second: the app's rate, warned
    assert main(["convert", str(take), str(tmp_path / "b.json"), "--input-fps", "30"]) == 0
    assert json.loads((tmp_path / "b.json").read_text())["fps"] == 30
    assert main(["convert", str(tmp_path / "b.json"), str(tmp_path / "c.csv"), "--input-fps", "30"]) == 1
    assert "states its own frame rate" in capsys.readouterr().err


def test_a_csv_with_another_tools_extra_columns_converts_with_a_warning(tmp_path, caplog):
    take = export_animation(FaceAnimation(np.full((70, 52), 0.25, np.float32), fps=60), tmp_path / "t.csv")
    lines = take.read_text().splitlines()
    take.write_text("\n".join([lines[0] + ",Notes"] + [ln + ",ok" for ln in lines[1:]]) + "\n")
    assert main(["convert", str(take), str(tmp_path / "t.json")]) == 0
    assert "Notes" in caplog.text and np.allclose(load_animation(tmp_path / "t.json").curves, 0.25)


def test_convert_refuses_a_rig_for_curves_only_output_and_a_rig_write_error_is_one_line(tmp_path, capsys):
    take = export_animation(FaceAnimation(np.zeros((4, 52), np.float32), fps=30), tmp_path / "t.json")
    assert main(["convert", str(take), str(tmp_path / "t.csv"), "--rig", "nonexistent"]) == 1  # was ignored
    assert "only a .glb output" in capsys.readouterr().err
    (tmp_path / "file").write_text("")
    assert main(["rig", "-o", str(tmp_path / "file" / "r.safetensors")]) == 1
    assert capsys.readouterr().err.startswith("facecraft: error:")
    from facecraft.rigs import FacecraftError
    from facecraft.rigs.tensor_files import save_tensors

    with pytest.raises(FacecraftError, match="could not write"):  # safetensors' own error type, named
        save_tensors({"x": torch.zeros(1)}, tmp_path / "missing" / "deeper" / "\0bad.safetensors")


def test_convert_keeps_flame_parameters_where_the_format_holds_them_and_says_when_it_drops_them(tmp_path, capsys):
    """An animation from ``facecraft animate --flame-model`` carries FLAME expression + jaw: .npz and .json keep
    them through ``convert`` (resampled with the curves); .csv and .glb cannot hold them, and stderr says so."""
    rng = np.random.default_rng(0)
    anim = FaceAnimation(rng.random((12, 52), np.float32) * 0.5, fps=30,
                         flame_expression=rng.normal(size=(12, 10)).astype(np.float32),
                         flame_jaw=rng.normal(scale=0.1, size=(12, 3)).astype(np.float32))  # fmt: skip
    for src_kind in ("npz", "json"):
        src = export_animation(anim, tmp_path / f"src.{src_kind}")
        for kind in ("npz", "json"):
            out = tmp_path / f"{src_kind}_to.{kind}"
            assert main(["convert", str(src), str(out)]) == 0
            back = load_animation(out)
            assert np.allclose(back.flame_expression, anim.flame_expression, atol=1e-4)
            assert np.allclose(back.flame_jaw, anim.flame_jaw, atol=1e-4)
            assert "FLAME" not in capsys.readouterr().err
        assert main(["convert", str(src), str(tmp_path / "60.npz"), "--fps", "60"]) == 0
        assert load_animation(tmp_path / "60.npz").flame_expression.shape == (24, 10)
        for kind in ("csv", "glb"):
            assert main(["convert", str(src), str(tmp_path / f"out.{kind}")]) == 0
            err = capsys.readouterr().err
            assert "FLAME expression (10 per frame) and FLAME jaw (3 per frame) dropped" in err, err
            assert f".{kind} has no place" in err and ".npz or .json" in err
    plain = export_animation(FaceAnimation(anim.curves, fps=30), tmp_path / "plain.npz")
    assert main(["convert", str(plain), str(tmp_path / "plain.csv")]) == 0
    assert "FLAME" not in capsys.readouterr().err


def test_preview_names_its_video_and_says_a_sound_of_another_length(tmp_path, capsys, caplog):
    import soundfile as sf

    from facecraft.rigs.video import probe_video

    anim = export_animation(FaceAnimation(np.zeros((30, 52)), fps=30), tmp_path / "a.npz")  # 1 s
    sr = 16000
    sf.write(tmp_path / "long.wav", (0.1 * np.sin(np.arange(3 * sr) / 10)).astype(np.float32), sr)
    # "-o clip" failed (animate --video and talk add .mp4); a sound 2 s longer was cut without a word
    assert main(["preview", str(anim), "-o", str(tmp_path / "clip"), "--size", "64", "--audio",
                 str(tmp_path / "long.wav")]) == 0  # fmt: skip
    assert probe_video(tmp_path / "clip.mp4").frames == 30
    assert "is 3.00 s, the animation 1.00 s" in caplog.text
    (tmp_path / "empty.wav").write_bytes(b"")  # was ffmpeg's "exit 183 ... Invalid data"
    assert main(["preview", str(anim), "-o", str(tmp_path / "e.mp4"), "--audio", str(tmp_path / "empty.wav")]) == 1
    assert "the file is empty (0 bytes)" in capsys.readouterr().err


def test_a_glb_animation_is_previewed_on_its_own_mesh(tmp_path, monkeypatch):
    from facecraft.rigs import cli

    small = load_rig("default")
    glb = export_animation(FaceAnimation(np.zeros((4, 52)), fps=30), tmp_path / "a.glb", rig=small)
    npz = export_animation(FaceAnimation(np.zeros((4, 52)), fps=30), tmp_path / "a.npz")
    asked = []
    real = cli.load_rig
    monkeypatch.setattr(cli, "load_rig", lambda spec="default": asked.append(spec) or real(spec))
    cli._preview_rig(None, glb)  # an ICT FaceKit animation was drawn on the default face
    cli._preview_rig(None, npz)
    cli._preview_rig("default", glb)  # --rig wins
    assert asked == [glb, "default", "default"]
    assert main(["preview", str(glb), "-o", str(tmp_path / "g.mp4"), "--size", "64"]) == 0
