"""tools/render_speech_frames.py picks a closed /p b m/ frame and an open vowel frame of a real clip (no Blender)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

TOOL = Path(__file__).resolve().parents[3] / "tools" / "render_speech_frames.py"


def _tool():
    spec = importlib.util.spec_from_file_location("render_speech_frames", TOOL)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_frames_are_the_aligned_bilabial_and_open_vowel(shared_dir, tmp_path):
    from facecraft.audio2face.animate import animate_file

    wav = shared_dir / "data/speech/librivox_0880.wav"
    if not wav.exists():
        pytest.skip(f"{wav} absent")
    tool = _tool()
    text = tool.clip_transcript(wav)
    assert text == "he was not an ill disposed young man"
    glb = tmp_path / "clip.glb"
    animate_file(wav, glb)
    picked = tool.pick_frames(glb, wav, text)
    fps = picked["fps"]
    closed, wide = picked["bilabial"], picked["open_vowel"]
    assert closed["phone"] in ("P", "B", "M") and closed["word"] in ("disposed", "man")
    assert wide["phone"] in ("AA", "AE", "AH", "AO", "AW", "AY")
    for info in (closed, wide):  # the frame lies inside its phone
        assert info["start_s"] - 1 / fps <= info["frame"] / fps <= info["end_s"] + 1 / fps
    # the most closed frame of the longest bilabial, the most open of the longest open vowel
    assert [closed["phone"], closed["word"], closed["gap_mm"]] in [list(x) for x in closed["all"]]
    assert [wide["phone"], wide["word"], wide["gap_mm"]] in [list(x) for x in wide["all"]]
    assert closed["gap_mm"] < 1.5 < 8.0 < wide["gap_mm"]
    assert wide["curves"]["jawOpen"] > 0.2
