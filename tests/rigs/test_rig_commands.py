import json

import numpy as np

from facecraft.apps.cli import main
from facecraft.rigs.animation import FaceAnimation
from facecraft.rigs.exchange import export_animation, load_animation


def test_emotion_command_prints_code(capsys):
    assert main(["emotion", "anger:0.7"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["dominant"]["emotion"] == "anger" and len(out["code"]) == 57


def test_convert_and_rig_export(tmp_path, capsys):
    rng = np.random.default_rng(0)
    src = export_animation(FaceAnimation(rng.random((90, 52)), fps=30), tmp_path / "a.csv")
    assert main(["convert", str(src), str(tmp_path / "a.json"), "--fps", "60"]) == 0
    assert load_animation(tmp_path / "a.json").num_frames == 180
    assert main(["rig", "-o", str(tmp_path / "rig.safetensors")]) == 0
    assert (tmp_path / "rig.safetensors").exists()


def test_missing_input_is_a_clear_error(tmp_path, capsys):
    assert main(["convert", str(tmp_path / "none.csv"), str(tmp_path / "b.json")]) == 1
    assert "none.csv" in capsys.readouterr().err
