"""The ``facecraft animate`` and ``facecraft a2f`` commands through the real entry point."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

sys.path.insert(0, str(Path(__file__).parent))
from a2f_helpers import fake_corpus, fake_speech, tiny_model  # noqa: E402

from facecraft.apps.cli import main  # noqa: E402


def test_animate_command(tmp_path, capsys):
    y, _ = fake_speech(0)
    wav = tmp_path / "line.wav"
    sf.write(wav, y, 16000)
    tiny_model().save_pretrained(tmp_path / "m")
    out = tmp_path / "line.npz"
    rc = main(["animate", str(wav), "-o", str(out), "--emotion", "anger:0.7", "--weights", str(tmp_path / "m")])
    assert rc == 0 and out.exists()
    assert "frames at 30 fps" in capsys.readouterr().out
    with np.load(out) as z:
        assert any(v.ndim == 2 and v.shape[-1] == 52 for v in (z[k] for k in z.files))


def test_animate_says_when_a_single_file_has_little_speech_in_it(tmp_path, capsys, caplog, shared_dir):
    # a song or a hiss given to `facecraft animate` moved the mouth as if it were speech, without a word (talk said so)
    tiny_model().save_pretrained(tmp_path / "m")
    noise = tmp_path / "hiss.wav"
    sf.write(noise, (0.3 * np.random.default_rng(0).standard_normal(2 * 16000)).astype(np.float32), 16000)
    speech = shared_dir / "data" / "speech" / "arctic_us_aew_a0001.wav"
    with caplog.at_level("WARNING", logger="facecraft.audio2face.audio"):
        assert main(["animate", str(noise), "-o", str(tmp_path / "hiss.npz"), "--weights", str(tmp_path / "m")]) == 0
        assert f"{noise}: little speech in it (0% of its sound reads as speech)" in caplog.text
        caplog.clear()
        assert main(["animate", str(speech), "-o", str(tmp_path / "line.npz"), "--weights", str(tmp_path / "m")]) == 0
    assert "little speech" not in caplog.text
    assert (tmp_path / "hiss.npz").is_file() and (tmp_path / "line.npz").is_file()  # said, not refused


def test_animate_writes_a_preview_named_without_an_ending_as_mp4(tmp_path, capsys, monkeypatch):
    # `--video preview` was refused after nothing was written ("a video is written as .mp4, ... got ''")
    from facecraft.rigs.video import probe_video

    wav = tmp_path / "line.wav"
    sf.write(wav, fake_speech(0)[0][:16000], 16000)
    tiny_model().save_pretrained(tmp_path / "m")
    out, preview = tmp_path / "line.npz", tmp_path / "preview"
    assert main(["animate", str(wav), "-o", str(out), "--video", str(preview), "--weights", str(tmp_path / "m")]) == 0
    assert probe_video(tmp_path / "preview.mp4").frames == 30 and not preview.exists()
    said = capsys.readouterr().out
    assert "has no ending: writing the preview as" in said and f"wrote {tmp_path / 'preview.mp4'}" in said
    monkeypatch.chdir(tmp_path)  # a name with its ending, spelled with ./, is taken as it is, without a word
    assert main(["animate", str(wav), "-o", str(out), "--video", "./given.mp4", "--weights", str(tmp_path / "m")]) == 0
    assert (tmp_path / "given.mp4").is_file() and "has no ending" not in capsys.readouterr().out


def test_animate_command_errors_are_reported(tmp_path, capsys):
    bad = tmp_path / "notes.wav"
    bad.write_text("not audio at all\n" * 10)
    assert main(["animate", str(bad), "-o", str(tmp_path / "o.npz"), "--weights", str(tmp_path)]) == 1
    assert "facecraft: error" in capsys.readouterr().err
    sf.write(tmp_path / "ok.wav", fake_speech(0)[0], 16000)
    assert main(["animate", str(tmp_path / "ok.wav"), "-o", str(tmp_path / "o.npz"), "--emotion", "glee:2"]) == 1


def test_train_command_and_resume(tmp_path, capsys):
    corpus = fake_corpus(tmp_path / "c", n_items=2)
    args = ["a2f", "train", "--corpus", str(corpus), "--out", str(tmp_path / "run"), "--steps", "4",
            "--batch-size", "2", "--frames", "12", "--hidden", "8",
            "--export", str(tmp_path / "w.safetensors")]  # fmt: skip
    assert main([*args, "--stop-after", "2"]) == 0
    assert json.loads(capsys.readouterr().out.split("exported")[0])["steps"] == 2
    assert main([*args, "--resume"]) == 0
    assert (tmp_path / "w.safetensors").exists() and (tmp_path / "w.json").exists()


@pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng not installed (apt-get install espeak-ng)")
def test_corpus_command(tmp_path, capsys):
    rc = main(["a2f", "corpus", "--out", str(tmp_path / "c"), "--max-sentences", "1", "--voices",
               "espeak:en-us+f2:160:50", "--augmentations-per-clip", "1"])  # fmt: skip
    assert rc == 0
    stats = json.loads(capsys.readouterr().out.split("skipped:")[0])
    assert stats["built"] == 1
    assert (tmp_path / "c" / "manifest.jsonl").read_text().count("\n") == 1


def test_animate_takes_every_emotion_form_and_lists_the_names(tmp_path, capsys):
    """``--emotion "a shy smile"`` was refused; now every parse_emotion form works, and --help names the emotions."""
    from facecraft.rigs import EMOTIONS

    y, _ = fake_speech(0)
    wav = tmp_path / "line.wav"
    sf.write(wav, y, 16000)
    tiny_model().save_pretrained(tmp_path / "m")
    curves = {}
    for spec in ("a shy smile", "AU12=0.6", "happiness:0.8"):
        out = tmp_path / f"{len(curves)}.npz"
        assert main(["animate", str(wav), "-o", str(out), "--emotion", spec, "--weights", str(tmp_path / "m")]) == 0
        with np.load(out) as z:
            curves[spec] = next(z[k] for k in z.files if z[k].ndim == 2 and z[k].shape[-1] == 52)
    assert not np.array_equal(curves["a shy smile"], curves["happiness:0.8"])
    capsys.readouterr()
    with pytest.raises(SystemExit):
        main(["animate", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert all(e in text for e in EMOTIONS) and "a shy smile" in text
