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


def test_speech_is_brought_to_the_training_level_whatever_its_recording_level():
    from facecraft.audio2face.postprocess import TARGET_ACTIVE_DB, _readings_db, active_level_db, level_speech

    speech, _ = fake_speech(0)
    speech = speech / np.abs(speech).max()
    for db in (-55.0, -30.0, -12.0, -1.0):  # a quiet take was raised to -30 dBFS peak, a normal one kept its level
        out, gain = level_speech((speech * 10 ** (db / 20)).astype(np.float32))
        assert active_level_db(_readings_db(out, 320)) == pytest.approx(TARGET_ACTIVE_DB, abs=0.1), db
    clicked = (speech * 10 ** (-30 / 20)).astype(np.float32)
    clicked[5000] = 1.0  # one click at full scale does not set the level (it moves it by under 1 dB)
    unclicked = clicked * (np.arange(len(clicked)) != 5000)
    assert level_speech(clicked)[1] == pytest.approx(level_speech(unclicked)[1], abs=1)
    t = np.arange(32000) / 16000
    for steady in (1e-3 * np.sin(2 * np.pi * 50 * t), 1e-3 * np.random.default_rng(0).standard_normal(32000)):
        y = steady.astype(np.float32)  # a hum or hiss at -60 dBFS is not speech: never raised
        out, gain = level_speech(y)
        assert gain == 0.0 and out is y


@pytest.mark.parametrize("mode", ["learned", "procedural"])
def test_the_same_line_at_minus_1_and_minus_30_dbfs_moves_the_mouth_alike(espeak_speech, mode):
    # the learned model opened the jaw less the quieter the take (mean jawOpen in speech 0.14 at -1 dBFS, 0.10 at -30)
    from facecraft.audio2face.audio import load_audio

    y, _ = load_audio(espeak_speech.path)
    y = y / np.abs(y).max()
    loud, quiet = (an.animate_audio((y * 10 ** (db / 20)).astype(np.float32), mode=mode, blink=False)
                   for db in (-1.0, -30.0))  # fmt: skip
    speech = loud.curves[:, JAW] > 0.02
    a, b = float(loud.curves[speech, JAW].mean()), float(quiet.curves[speech, JAW].mean())
    assert abs(b / a - 1) < 0.03, (a, b)


def test_a_batch_report_lists_a_levelled_line(tmp_path, tiny_model_dir):
    from facecraft.audio2face.batch import animate_batch

    speech, _ = fake_speech(0)
    sf.write(tmp_path / "whisper.wav", speech / np.abs(speech).max() * 10 ** (-55 / 20), 16000)
    out = tmp_path / "out"
    report = animate_batch([tmp_path / "whisper.wav"], out, fmt="npz", weights=tiny_model_dir, progress=False)
    assert "very quiet" in report["done"][0]["warning"]


def test_the_clip_the_long_file_and_the_stream_level_a_quiet_line_alike(tmp_path, espeak_speech, monkeypatch):
    # a file over STREAM_ABOVE_S (animated in blocks) and the live StreamingAnimator (a talking portrait's stream)
    # read a -55 dBFS line as it came: jawOpen 95th percentile 0.02 where animate_audio, levelling it, gave 0.38
    from facecraft.audio2face.audio import load_audio
    from facecraft.audio2face.stream import stream_array

    quiet = _at_level(espeak_speech.path, tmp_path / "quiet.wav", -55.0)
    y, _ = load_audio(quiet)
    clip = an.animate_audio(y, blink=False)
    with monkeypatch.context() as m:
        m.setattr(an, "STREAM_ABOVE_S", 0.5)  # the block path, on a short file
        m.setattr(an, "BLOCK_S", 1.0)
        long = an.animate_file(quiet, tmp_path / "long.npz", blink=False, head=False, gaze=False)
    streamed = an.tongue_where_visible(stream_array(an.resolve_model(None), y, chunk_s=0.02))
    assert "very quiet" in clip.meta["levelled"] and long.meta.get("levelled") == clip.meta["levelled"]
    assert long.curves.shape == streamed.shape == clip.curves.shape
    assert np.abs(long.curves - clip.curves).max() < 1e-3  # one gain for the whole file, as for the clip
    jaw = float(np.percentile(clip.curves[:, JAW], 95))
    assert jaw > 0.15 and abs(float(np.percentile(streamed[:, JAW], 95)) / jaw - 1) < 0.2
    # the stream levels the speech from its first vowel on by a running estimate (within 1-2 dB of the clip's)
    diff = np.abs(streamed - clip.curves)
    assert diff.mean() < 0.01, (diff.mean(), diff[30:].mean())


def test_a_long_quiet_file_in_procedural_mode_is_levelled_as_a_clip(tmp_path, espeak_speech, monkeypatch):
    # the block path of the procedural mode found no phones nor voicing in a -55 dBFS line: a still mouth
    quiet = _at_level(espeak_speech.path, tmp_path / "quiet.wav", -55.0)
    at_target = _at_level(espeak_speech.path, tmp_path / "target.wav", -30.0)  # the level a quiet line is raised to
    monkeypatch.setattr(an, "STREAM_ABOVE_S", 0.5)
    monkeypatch.setattr(an, "BLOCK_S", 1.0)  # blocks of 1 s, phones recognised per block
    a, b = (an.animate_file(p, tmp_path / "o.npz", mode="procedural", blink=False, head=False, gaze=False)
            for p in (quiet, at_target))  # fmt: skip
    assert "very quiet" in a.meta.get("levelled", "") and "levelled" not in b.meta
    jaw = float(np.percentile(b.curves[:, JAW], 95))
    assert jaw > 0.15 and abs(float(np.percentile(a.curves[:, JAW], 95)) / jaw - 1) < 0.1


def test_a_long_file_takes_the_clips_gain(tmp_path):
    from facecraft.audio2face import audio
    from facecraft.audio2face.postprocess import LevelledBlocks, level_speech

    speech, _ = fake_speech(0, repeats=3)
    speech = (speech / np.abs(speech).max()).astype(np.float32)
    for db in (-55.0, -20.0, -1.0):
        sf.write(tmp_path / "a.wav", speech * 10 ** (db / 20), 16000, subtype="FLOAT")
        whole, _ = audio.load_audio(tmp_path / "a.wav")
        blocks = LevelledBlocks(tmp_path / "a.wav", block_seconds=0.77)  # readings split across blocks
        joined = np.concatenate(list(blocks))
        raised, gain = level_speech(whole)
        assert blocks.gain_db == pytest.approx(gain, abs=1e-6) and (gain > 0) == (db < -1)
        assert np.allclose(joined, raised, atol=1e-6)
        assert 20 * np.log10(blocks.peak) == pytest.approx(db, abs=0.01)


def _stream_gains(y):
    from facecraft.audio2face.postprocess import RunningLevel

    level = RunningLevel()
    return np.array([level.add(y[i : i + 320]) for i in range(0, len(y), 320)])  # 20 ms pushes


def test_a_stream_never_raises_silence_or_a_hum_and_levels_speech_from_its_first_syllable():
    from facecraft.audio2face.postprocess import level_speech

    rng = np.random.default_rng(0)
    t = np.arange(5 * 16000) / 16000
    for steady in (np.zeros_like(t), 1e-3 * np.sin(2 * np.pi * 50 * t), 1e-3 * rng.standard_normal(len(t))):
        assert not _stream_gains(steady.astype(np.float32)).any()
    speech, _ = fake_speech(0)
    speech = (speech / np.abs(speech).max()).astype(np.float32)
    lead = (1e-5 * rng.standard_normal(16000)).astype(np.float32)  # a second of room noise first
    for db in (-55.0, -1.0):
        y = speech * np.float32(10 ** (db / 20))
        g = _stream_gains(np.concatenate([lead, y]))
        whole = level_speech(y)[1]
        vowel = 1.0 + 0.28  # fake speech's first vowel, after its first closure
        # levelled from the first vowel on (quiet speech waited 0.3 s for its gain), near the whole clip's gain
        assert abs(g[int((vowel + 0.06) / 0.02)] - whole) < 3.0, (db, g[60:70], whole)
        assert abs(g[-1] - whole) < 1.0, (db, g[-1], whole)


def test_a_stream_that_falls_to_a_hum_is_no_longer_raised():
    # once speech had been heard, a later hum was raised by the speech's gain for as long as it lasted
    speech, _ = fake_speech(0)
    speech = (speech / np.abs(speech).max() * 10 ** (-50 / 20)).astype(np.float32)
    hum = (3e-3 * np.sin(2 * np.pi * 50 * np.arange(4 * 16000) / 16000)).astype(np.float32)
    g = _stream_gains(np.concatenate([speech, hum]))
    assert g[len(speech) // 320 - 1] > 20  # quiet speech raised ...
    assert not g[-int(1.5 / 0.02) :].any()  # ... the hum after it not, once it has lasted the level window


def test_a_stream_holds_its_start_gain_through_a_noisy_lead_in_until_the_first_vowel():
    # a breath and a lip click before the first word were levelled as speech: the breath (-40 dB) was raised by
    # about 20 dB for the second before the first vowel, 10 dB past the whole clip's gain, and the breath's readings
    # pulled the speech's first gains off the clip's
    from facecraft.audio2face.postprocess import START_GAIN_DB, level_speech

    rng = np.random.default_rng(1)
    breath = np.convolve(rng.standard_normal(5600), np.ones(8) / 8, "same") * np.hanning(5600)
    speech, _ = fake_speech(0)
    vowel = 1.0 + 0.28  # fake speech's first vowel, after its first closure (in 20 ms readings: 64)
    for db in (-40.0, -6.0):  # the vowels' peak (dBFS)
        lead = 10 ** ((db - 50) / 20) * rng.standard_normal(16000)  # a second of room noise ...
        lead[4800:10400] += 10 ** ((db - 20) / 20) * breath / breath.std()  # ... with a breath in it
        lead[14000:14040] += 10 ** ((db - 10) / 20) * rng.standard_normal(40)  # and a lip click
        y = np.concatenate([lead, speech / np.abs(speech).max() * 10 ** (db / 20)]).astype(np.float32)
        g, whole = _stream_gains(y), level_speech(y)[1]
        assert np.all(g[: int(vowel / 0.02)] == START_GAIN_DB), (db, g[:64].max())
        first_second = g[int(vowel / 0.02) + 3 : int((vowel + 1.0) / 0.02)]  # from 60 ms into the first vowel
        assert np.abs(first_second - whole).max() < 1.5, (db, first_second.min(), first_second.max(), whole)


def test_a_whispered_stream_is_levelled_once_it_has_whispered_a_while():
    # no vowel ever comes: the start gain holds for UNVOICED_LEVEL_AFTER_S of speech, then the level is read
    from facecraft.audio2face.postprocess import UNVOICED_LEVEL_AFTER_S, level_speech

    rng = np.random.default_rng(2)
    on = np.arange(8 * 16000) % 4800 < 3200  # 0.2 s of breathy noise, 0.1 s of quiet, over and over
    y = (np.where(on, 10 ** (-50 / 20), 10 ** (-90 / 20)) * rng.standard_normal(len(on))).astype(np.float32)
    g = _stream_gains(y)
    held = int(UNVOICED_LEVEL_AFTER_S / 0.02)
    assert not g[: held - 5].any() and abs(g[-1] - level_speech(y)[1]) < 1.0, (g[held - 5 : held + 20], g[-1])
