"""Very quiet recordings: speech far below full scale moves the mouth as a normal recording does, and says so;
silence and a noise floor stay silent."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

sys.path.insert(0, str(Path(__file__).parent))
from a2f_helpers import fake_speech  # noqa: E402

from facecraft.audio2face import animate as an  # noqa: E402
from facecraft.rigs import ARKIT_INDEX  # noqa: E402

JAW = ARKIT_INDEX["jawOpen"]


def _at_level(src: Path, dst: Path, dbfs: float) -> Path:
    """``src`` scaled so that its peak is ``dbfs``, written as 16-bit PCM (what a real quiet take holds)."""
    y, sr = sf.read(src, dtype="float32")
    sf.write(dst, y / np.abs(y).max() * 10 ** (dbfs / 20), sr, subtype="PCM_16")
    return dst


@pytest.mark.parametrize("mode", ["learned", "procedural"])
def test_a_very_quiet_line_moves_the_mouth_as_a_normal_one_and_says_so(tmp_path, espeak_speech, caplog, mode):
    # a line peaking near -55 dBFS gave jawOpen at most 0.06 (learned) or nothing (procedural), unflagged
    normal = _at_level(espeak_speech.path, tmp_path / "normal.wav", -20.0)
    quiet = _at_level(espeak_speech.path, tmp_path / "quiet.wav", -55.0)
    with caplog.at_level("WARNING", logger="facecraft.audio2face.animate"):
        a = an.animate_file(normal, tmp_path / "normal.npz", mode=mode, blink=False)
    assert "levelled" not in a.meta and not caplog.records
    with caplog.at_level("WARNING", logger="facecraft.audio2face.animate"):
        b = an.animate_file(quiet, tmp_path / "quiet.npz", mode=mode, blink=False)
    loud_jaw, quiet_jaw = (float(np.percentile(x.curves[:, JAW], 95)) for x in (a, b))
    assert loud_jaw > 0.15
    assert 1 / 1.5 < quiet_jaw / loud_jaw < 1.5, (loud_jaw, quiet_jaw)
    assert "silent" not in b.meta
    assert any("quiet.wav" in r.message and "very quiet" in r.message for r in caplog.records)


@pytest.mark.parametrize("mode", ["learned", "procedural"])
def test_silence_and_a_noise_floor_still_read_as_silent(tmp_path, tiny_model_dir, mode):
    rng = np.random.default_rng(0)
    for name, y in (("zeros", np.zeros(32000)), ("floor", np.clip(rng.standard_normal(32000) * 1.5e-5, -5e-5, 5e-5))):
        a = an.animate_audio(y.astype(np.float32), mode=mode, weights=tiny_model_dir, blink=False)
        assert "silent" in a.meta and "levelled" not in a.meta, name
        assert float(a.curves.max()) == 0.0, name


def test_only_quiet_speech_is_levelled():
    from facecraft.audio2face.postprocess import QUIET_PEAK_DB, level_quiet

    speech, _ = fake_speech(0)
    speech = speech / np.abs(speech).max()
    raised, gain = level_quiet((speech * 10 ** (-55 / 20)).astype(np.float32))
    assert gain == pytest.approx(QUIET_PEAK_DB + 55) and 20 * np.log10(np.abs(raised).max()) == pytest.approx(-30)
    assert level_quiet((speech * 10 ** (-20 / 20)).astype(np.float32))[1] == 0.0  # a normal level is its own
    t = np.arange(32000) / 16000
    for steady in (1e-3 * np.sin(2 * np.pi * 50 * t), 1e-3 * np.random.default_rng(0).standard_normal(32000)):
        y = steady.astype(np.float32)  # a hum or hiss at -60 dBFS is not speech: never raised
        out, gain = level_quiet(y)
        assert gain == 0.0 and out is y


def test_a_batch_report_lists_a_levelled_line(tmp_path, tiny_model_dir):
    from facecraft.audio2face.batch import animate_batch

    speech, _ = fake_speech(0)
    sf.write(tmp_path / "whisper.wav", speech / np.abs(speech).max() * 10 ** (-55 / 20), 16000)
    out = tmp_path / "out"
    report = animate_batch([tmp_path / "whisper.wav"], out, fmt="npz", weights=tiny_model_dir, progress=False)
    assert "very quiet" in report["done"][0]["warning"]
