"""Audio loading: formats, resampling, errors, silent files and block streaming."""

from __future__ import annotations

import os

import numpy as np
import pytest
import soundfile as sf

from facecraft.audio2face.audio import audio_duration, iter_audio_blocks, load_audio, resample, valid_audio
from facecraft.rigs.errors import FileFormatError, MissingFileError, ParameterError


def _tone(sr: int, seconds: float, freq: float = 440.0, channels: int = 1) -> np.ndarray:
    t = np.arange(int(sr * seconds)) / sr
    y = 0.5 * np.sin(2 * np.pi * freq * t).astype(np.float32)
    return np.stack([y] * channels, axis=1) if channels > 1 else y


@pytest.mark.parametrize(("ext", "fmt"), [("wav", "WAV"), ("flac", "FLAC"), ("ogg", "OGG"), ("mp3", "MP3")])
def test_formats_resample_to_16k_mono(tmp_path, ext, fmt):
    path = tmp_path / f"tone.{ext}"
    sf.write(path, _tone(44100, 1.0, channels=2), 44100, format=fmt)
    y, sr = load_audio(path)
    assert sr == 16000 and y.dtype == np.float32 and y.ndim == 1
    assert abs(len(y) - 16000) < 1200  # mp3 encoders pad a little
    spec = np.abs(np.fft.rfft(y[2000:14000]))
    peak_hz = np.argmax(spec) * 16000 / 12000
    assert abs(peak_hz - 440) < 5


def test_ffmpeg_fallback_for_other_containers(tmp_path):
    import subprocess

    import imageio_ffmpeg

    wav, m4a = tmp_path / "t.wav", tmp_path / "t.m4a"
    sf.write(wav, _tone(22050, 1.0), 22050)
    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-i", str(wav), str(m4a)], check=True)
    y, sr = load_audio(m4a)
    assert sr == 16000 and 15000 < len(y) < 17500
    blocks = list(iter_audio_blocks(m4a, block_seconds=0.25))
    assert sum(len(b) for b in blocks) == len(y)


def test_max_seconds(tmp_path):
    path = tmp_path / "long.wav"
    sf.write(path, _tone(16000, 3.0), 16000)
    y, _ = load_audio(path, max_seconds=1.0)
    assert len(y) == 16000


def test_silent_file_is_valid(tmp_path):
    path = tmp_path / "silence.wav"
    sf.write(path, np.zeros(8000, np.float32), 16000)
    y, _ = load_audio(path)
    assert len(y) == 8000 and not y.any()


def test_errors_name_the_file(tmp_path):
    with pytest.raises(MissingFileError, match="nope.wav"):
        load_audio(tmp_path / "nope.wav")
    bad = tmp_path / "corrupt.wav"
    bad.write_bytes(b"RIFF\x24\x00\x00\x00WAVEfmt " + b"\x00" * 7)
    with pytest.raises(FileFormatError, match="corrupt.wav"):
        load_audio(bad)
    text = tmp_path / "notes.txt"
    text.write_text("this is not audio\n" * 20)
    with pytest.raises(FileFormatError, match="notes.txt"):
        load_audio(text)
    with pytest.raises(FileFormatError, match="notes.txt"):
        list(iter_audio_blocks(text, block_seconds=1.0))
    empty = tmp_path / "empty.wav"
    sf.write(empty, np.zeros(0, np.float32), 16000)
    with pytest.raises(FileFormatError, match="no audio"):
        load_audio(empty)
    with pytest.raises(FileFormatError, match="folder"):
        load_audio(tmp_path)


def test_a_file_named_mp3_that_is_not_audio_gets_the_clean_error_alone(tmp_path, capfd):
    # libsndfile's mpg123 probed it and printed "Note: Trying to resync..." lines before facecraft's error.
    text = tmp_path / "notes.mp3"
    text.write_text("this is not audio\n" * 200)
    with pytest.raises(FileFormatError, match="notes.mp3"):
        load_audio(text)
    with pytest.raises(FileFormatError, match="notes.mp3"):
        audio_duration(text)
    err = capfd.readouterr().err
    assert "Note:" not in err and "resync" not in err, err
    os.write(2, b"after\n")  # the descriptor the library writes to is the terminal's again
    assert capfd.readouterr().err == "after\n"


def test_files_opened_in_two_threads_at_once_leave_stderr_on_the_terminal(tmp_path, capfd, monkeypatch):
    # the studio serves requests in threads: the second open saved the first one's temporary file as "stderr" and
    # put it back last, so every later error went into a deleted file
    import threading
    import time

    real_open = sf.SoundFile
    waits = {"first": 0.2, "second": 0.3}  # the second caller starts before the first is done and ends last
    failed = []

    def slow_open(path, *args, **kwargs):
        time.sleep(waits.get(threading.current_thread().name, 0.0))
        return real_open(path, *args, **kwargs)

    def duration(wav) -> None:
        try:
            audio_duration(wav)
        except Exception as e:  # noqa: BLE001 - reported below, in the test's own thread
            failed.append(e)

    monkeypatch.setattr(sf, "SoundFile", slow_open)
    wav = tmp_path / "line.wav"
    sf.write(wav, np.zeros(1600, np.float32), 16000)
    threads = [threading.Thread(target=duration, args=(wav,), name=name) for name in waits]
    for t in threads:
        t.start()
        time.sleep(0.1)
    for t in threads:
        t.join()
    assert not failed
    capfd.readouterr()
    os.write(2, b"after\n")
    assert capfd.readouterr().err == "after\n"


def test_files_without_sound_say_so(tmp_path):
    # ffmpeg's last line for these was about its own output pipe: "Error opening output files: Invalid argument"
    import subprocess

    import imageio_ffmpeg
    from PIL import Image

    silent_video = tmp_path / "take.mp4"
    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-f", "lavfi", "-i", "color=s=32x32:d=0.5",
                    "-c:v", "libx264", str(silent_video)], check=True)  # fmt: skip
    picture = tmp_path / "line.wav"
    Image.new("RGB", (4, 4)).save(picture, format="PNG")
    for path in (silent_video, picture):
        with pytest.raises(FileFormatError, match=rf"{path.name}: the file holds no audio stream"):
            load_audio(path)
        with pytest.raises(FileFormatError, match=rf"{path.name}: the file holds no audio stream"):
            list(iter_audio_blocks(path))
    empty = tmp_path / "empty.wav"
    empty.write_bytes(b"")
    with pytest.raises(FileFormatError, match=r"empty.wav: the file is empty \(0 bytes\)"):
        load_audio(empty)


def test_valid_audio():
    assert valid_audio([0.0, 0.5]).dtype == np.float32
    with pytest.raises(ParameterError, match="empty"):
        valid_audio(np.zeros(0))
    with pytest.raises(ParameterError, match="NaN"):
        valid_audio(np.array([0.0, np.nan]))
    with pytest.raises(ParameterError, match="mono"):
        valid_audio(np.zeros((2, 10)))
    with pytest.raises(ParameterError, match="numeric"):
        valid_audio(np.array(["a", "b"]))


def test_block_iteration_of_a_long_file(tmp_path):
    # 3 minutes at 44.1 kHz stereo, written in pieces so the test itself never holds it whole
    path = tmp_path / "long.wav"
    sr_in, seconds = 44100, 180
    rng = np.random.default_rng(0)
    with sf.SoundFile(path, "w", samplerate=sr_in, channels=2, subtype="PCM_16") as f:
        for _ in range(seconds // 10):
            f.write(0.1 * rng.standard_normal((sr_in * 10, 2)).astype(np.float32))
    assert audio_duration(path) == pytest.approx(seconds)
    sizes = [len(b) for b in iter_audio_blocks(path, block_seconds=20.0)]
    assert all(s == 320000 for s in sizes[:-1])
    assert abs(sum(sizes) - seconds * 16000) <= 16
    # streaming and whole-file loading agree
    short = tmp_path / "short.wav"
    sf.write(short, _tone(44100, 2.5), 44100)
    whole, _ = load_audio(short)
    streamed = np.concatenate(list(iter_audio_blocks(short, block_seconds=0.7)))
    n = min(len(whole), len(streamed))
    assert abs(len(whole) - len(streamed)) <= 16
    assert np.abs(whole[1000 : n - 1000] - streamed[1000 : n - 1000]).max() < 1e-3


def test_one_sample_rate_and_one_checked_loader_for_tts_output(tmp_path):
    """The phone aligner and the corpus use audio.SAMPLE_RATE, and TTS wavs go through load_audio (checked)."""
    from facecraft.audio2face import audio, corpus, phonetics

    assert phonetics.SAMPLE_RATE is audio.SAMPLE_RATE and corpus.SAMPLE_RATE is audio.SAMPLE_RATE
    path = tmp_path / "tts.wav"
    sf.write(path, _tone(22050, 0.5), 22050)
    assert np.array_equal(corpus._read_resampled(path), load_audio(path)[0])
    (tmp_path / "empty.wav").write_bytes(b"")
    with pytest.raises(FileFormatError, match="empty.wav"):
        corpus._read_resampled(tmp_path / "empty.wav")


def test_a_stereo_file_whose_channels_cancel_is_not_silent(tmp_path):
    tone = (0.4 * np.sin(2 * np.pi * 220 * np.arange(16000) / 16000)).astype(np.float32)
    sf.write(tmp_path / "anti.wav", np.stack([tone, -tone], axis=1), 16000)  # one channel's polarity inverted
    y, _ = load_audio(tmp_path / "anti.wav")
    assert np.abs(y).max() > 0.3  # the loudest channel, not a mean of zero
    sf.write(tmp_path / "pan.wav", np.stack([tone, 0.5 * tone], axis=1), 16000)
    np.testing.assert_allclose(load_audio(tmp_path / "pan.wav")[0], 0.75 * tone, atol=1e-4)  # a plain mean


def test_nan_samples_name_the_file(tmp_path):
    y = np.zeros(1600, np.float32)
    y[10] = np.nan
    sf.write(tmp_path / "nan.wav", y, 16000, subtype="FLOAT")
    with pytest.raises(FileFormatError, match=r"nan\.wav: the file holds NaN"):
        load_audio(tmp_path / "nan.wav")


def test_a_wav_cut_short_is_read_as_far_as_it_goes_and_said(tmp_path, caplog):
    import logging

    import soundfile as sf

    from facecraft.audio2face.audio import load_audio

    whole = tmp_path / "whole.wav"
    sf.write(whole, np.zeros(16000, np.float32), 16000, subtype="PCM_16")
    cut = tmp_path / "cut.wav"
    cut.write_bytes(whole.read_bytes()[:10000])  # a copy stopped part way: the header still declares 1 s
    with caplog.at_level(logging.WARNING):
        y, _ = load_audio(cut)
        load_audio(whole)
    assert 0 < len(y) < 16000 and caplog.text.count("cut short") == 1 and "cut.wav" in caplog.text
    # a stream's WAV declares a placeholder length, not a size (espeak-ng -w /dev/stdout piped to animate was "cut
    # short: its header declares 2147479552 bytes")
    streamed = tmp_path / "streamed.wav"
    data = bytearray(whole.read_bytes())
    at = data.index(b"data")
    data[at + 4 : at + 8] = (0x7FFFF000).to_bytes(4, "little")
    data[4:8] = (0x7FFFF024).to_bytes(4, "little")
    streamed.write_bytes(bytes(data))
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        y, _ = load_audio(streamed)
    assert len(y) == 16000 and "cut short" not in caplog.text


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes on this platform")
def test_audio_piped_in_is_read_through_a_copy(tmp_path):
    import threading

    from facecraft.audio2face.audio import seekable_audio

    y = (0.3 * np.sin(2 * np.pi * 220 * np.arange(8000) / 16000)).astype(np.float32)
    wav = tmp_path / "line.wav"
    sf.write(wav, y, 16000)
    with seekable_audio(wav) as same:
        assert same == wav  # a regular file is read where it is
    fifo = tmp_path / "piped.wav"

    def pipe(data: bytes) -> threading.Thread:
        os.mkfifo(fifo)
        writer = threading.Thread(target=lambda: fifo.write_bytes(data))  # blocks until the reader opens it
        writer.start()
        return writer

    writer = pipe(wav.read_bytes())
    with seekable_audio(fifo) as copy:
        assert copy.is_file() and copy.name == "piped.wav"
        assert np.allclose(load_audio(copy)[0], load_audio(wav)[0])
    writer.join()
    assert not copy.exists()  # the copy is removed
    fifo.unlink()
    writer = pipe(b"")
    with pytest.raises(FileFormatError, match="gave no bytes"), seekable_audio(fifo):
        pass
    writer.join()


def test_duration_of_an_ffmpeg_file_is_read_from_its_header_not_decoded(tmp_path, monkeypatch):
    # an .m4a or a video's length was found by decoding the whole file into memory (animate_file asks it of every
    # input, so a long one was decoded whole before its block-by-block path began)
    import subprocess

    import imageio_ffmpeg

    from facecraft.audio2face import audio

    ffmpeg = imageio_ffmpeg.get_ffmpeg_exe()
    m4a, mp4 = tmp_path / "line.m4a", tmp_path / "take.mp4"
    subprocess.run([ffmpeg, "-v", "error", "-f", "lavfi", "-i", "sine=f=220:d=2.5", "-c:a", "aac", str(m4a)],
                   check=True)  # fmt: skip
    subprocess.run([ffmpeg, "-v", "error", "-f", "lavfi", "-i", "color=s=32x32:d=3", "-f", "lavfi", "-i",
                    "sine=f=220:d=3", "-c:v", "libx264", "-c:a", "aac", "-shortest", str(mp4)], check=True)  # fmt: skip
    decoded = {path: len(load_audio(path)[0]) / 16000 for path in (m4a, mp4)}

    def no_decoding(*args, **kwargs):
        raise AssertionError("audio_duration decoded the file")

    monkeypatch.setattr(audio, "load_audio", no_decoding)
    for path, seconds in decoded.items():
        assert abs(audio_duration(path) - seconds) <= 1 / 30, path
    monkeypatch.undo()
    # files that are not audio: the errors of load_audio, as before
    notes = tmp_path / "notes.m4a"
    notes.write_text("this is not audio\n" * 20)
    with pytest.raises(FileFormatError, match=r"notes.m4a: not a readable audio file"):
        audio_duration(notes)
    silent_video = tmp_path / "silent.mp4"
    subprocess.run([ffmpeg, "-v", "error", "-f", "lavfi", "-i", "color=s=32x32:d=0.5", "-c:v", "libx264",
                    str(silent_video)], check=True)  # fmt: skip
    with pytest.raises(FileFormatError, match=r"silent.mp4: the file holds no audio stream"):
        audio_duration(silent_video)


def test_duration_is_the_sound_tracks_not_the_containers(tmp_path, monkeypatch):
    # the header's length is the container's: a 6 s video with 2 s of sound read 6 s (the studio turned it away as
    # too long), and a raw AAC stream's was ffmpeg's estimate from its bit rate (4.2 s for 4.0 s); the sound track's
    # own length is now counted from its packets, still without decoding, and a sound-only m4a is only probed
    import subprocess

    import imageio_ffmpeg

    from facecraft.audio2face import audio

    ffmpeg = imageio_ffmpeg.get_ffmpeg_exe()
    made = {}
    for name in ("take.mp4", "take.mov", "take.mkv"):
        made[name] = tmp_path / name
        subprocess.run([ffmpeg, "-v", "error", "-f", "lavfi", "-i", "color=s=32x32:d=6", "-f", "lavfi", "-i",
                        "sine=f=220:d=2", "-c:v", "libx264", "-c:a", "aac", str(made[name])], check=True)  # fmt: skip
    made["noise.aac"] = tmp_path / "noise.aac"
    subprocess.run([ffmpeg, "-v", "error", "-f", "lavfi", "-i", "anoisesrc=d=4:c=pink:a=0.3:seed=1", "-c:a", "aac",
                    "-b:a", "128k", str(made["noise.aac"])], check=True)  # fmt: skip
    made["line.m4a"] = tmp_path / "line.m4a"
    subprocess.run([ffmpeg, "-v", "error", "-f", "lavfi", "-i", "sine=f=220:d=3", "-c:a", "aac",
                    str(made["line.m4a"])], check=True)  # fmt: skip
    decoded = {name: len(load_audio(path)[0]) / 16000 for name, path in made.items()}
    assert decoded["take.mp4"] == pytest.approx(2.0, abs=0.05)

    def no_decoding(*args, **kwargs):
        raise AssertionError("audio_duration decoded the file")

    commands, real_run = [], subprocess.run

    def run(cmd, *args, **kwargs):
        assert "f32le" not in cmd, cmd  # no decoding to samples: the probe, or packets copied to the null output
        commands.append(cmd)
        return real_run(cmd, *args, **kwargs)

    monkeypatch.setattr(audio, "load_audio", no_decoding)
    monkeypatch.setattr(audio.subprocess, "run", run)
    for name, path in made.items():
        commands.clear()
        assert abs(audio_duration(path) - decoded[name]) <= 1 / 30, name
        assert len(commands) == (1 if name == "line.m4a" else 2), name  # the probe; the count where it is needed


def test_duration_of_a_late_starting_sound_track_is_what_the_decoder_gives(tmp_path, monkeypatch):
    # a video whose sound starts at 0.5 s is decoded on the video's timeline (0.5 s of silence, then 2 s of sound)
    # and its length counts the delay; a file of sound only that starts at 0.5 s (Matroska start time) starts there,
    # 2 s. A delay filtered into the samples (adelay) is sound, decoded and counted alike.
    import subprocess

    import imageio_ffmpeg

    from facecraft.audio2face import audio

    ffmpeg = imageio_ffmpeg.get_ffmpeg_exe()
    sine = ["-f", "lavfi", "-i", "sine=f=220:d=2"]
    picture = ["-f", "lavfi", "-i", "color=s=32x32:d=3"]

    def make(name, *args):
        subprocess.run([ffmpeg, "-v", "error", *args, str(tmp_path / name)], check=True)
        return tmp_path / name

    m4a, mp3 = make("line.m4a", *sine, "-c:a", "aac"), make("line.mp3", *sine, "-c:a", "libmp3lame")
    late = {
        "late.mp4": make("late.mp4", *picture, "-itsoffset", "0.5", "-i", str(m4a), "-map", "0:v", "-map", "1:a",
                         "-c:v", "libx264", "-c:a", "copy"),
        "late.mkv": make("late.mkv", "-itsoffset", "0.5", "-i", str(mp3), "-c", "copy"),
        "late_video.mkv": make("late_video.mkv", *picture, "-itsoffset", "0.5", "-i", str(mp3), "-map", "0:v",
                               "-map", "1:a", "-c:v", "libx264", "-c:a", "copy"),
    }  # fmt: skip
    delayed = {
        "adelay.wav": make("adelay.wav", *sine, "-af", "adelay=500"),
        "adelay.mp4": make("adelay.mp4", *picture, *sine, "-filter_complex", "[1:a]adelay=500[a]", "-map", "0:v",
                           "-map", "[a]", "-c:v", "libx264", "-c:a", "aac"),
    }  # fmt: skip
    decoded = {name: len(load_audio(path)[0]) / 16000 for name, path in {**late, **delayed}.items()}
    for name in ("late.mp4", "late_video.mkv", *delayed):
        assert decoded[name] == pytest.approx(2.5, abs=0.05), name  # the delay is silence on the file's timeline
    assert decoded["late.mkv"] == pytest.approx(2.0, abs=0.05)  # the sound is the file: it starts at its time 0

    def no_decoding(*args, **kwargs):
        raise AssertionError("audio_duration decoded the file")

    monkeypatch.setattr(audio, "load_audio", no_decoding)
    for name, path in {**late, **delayed}.items():
        assert abs(audio_duration(path) - decoded[name]) <= 1 / 30, (name, audio_duration(path), decoded[name])


def test_a_video_whose_sound_starts_late_is_read_on_its_timeline(tmp_path):
    # A video whose sound track starts 0.5 s after its picture was decoded from the sound's first sample: the
    # curves ran 0.5 s ahead of the picture. The delay is now silence: a beep at the sound's start is read at 0.5 s,
    # whole or in blocks, and the length agrees.
    import subprocess

    import imageio_ffmpeg

    sr, rate = 16000, 44100  # a 44.1 kHz sound track (16 kHz: test_a_late_aac_sound_track_ends_where_its_packets_end)
    t = np.arange(2 * rate) / rate
    wav, late = tmp_path / "beep.wav", tmp_path / "late.mp4"
    sf.write(wav, np.where(t < 0.2, 0.5 * np.sin(2 * np.pi * 440 * t), 0.0), rate)  # a beep at 0 s, then silence
    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-f", "lavfi", "-i", "color=s=32x32:d=3",
                    "-itsoffset", "0.5", "-i", str(wav), "-map", "0:v", "-map", "1:a", "-c:v", "libx264",
                    "-c:a", "aac", str(late)], check=True)  # fmt: skip

    def beep_at(y) -> float:
        return float(np.flatnonzero(np.abs(y) > 0.1)[0] / sr)

    y, _ = load_audio(late)
    assert beep_at(y) == pytest.approx(0.5, abs=0.03)  # was 0.0: the sound read from its first sample
    blocks = np.concatenate(list(iter_audio_blocks(late, block_seconds=0.3)))
    assert beep_at(blocks) == pytest.approx(0.5, abs=0.03)
    assert len(y) / sr == pytest.approx(2.5, abs=0.05)
    assert len(y) / sr == pytest.approx(audio_duration(late), abs=1 / 30)


def test_the_curves_of_a_video_whose_sound_starts_late_follow_its_picture(tmp_path, espeak_speech):
    # The curves of a video whose speech starts 0.5 s after its picture ran 0.5 s ahead of the picture (frame 0 was
    # the speech's first sample); frame 0 is now the video's time 0: the mouth moves 0.5 s later than for the speech.
    import subprocess

    import imageio_ffmpeg

    from facecraft.audio2face.animate import animate_file
    from facecraft.rigs import ARKIT_NAMES

    late = tmp_path / "late.mp4"
    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-f", "lavfi", "-i", "color=s=32x32:d=6",
                    "-itsoffset", "0.5", "-i", str(espeak_speech.path), "-map", "0:v", "-map", "1:a",
                    "-c:v", "libx264", "-c:a", "aac", "-shortest", str(late)], check=True)  # fmt: skip

    def jaw(path, name):
        anim = animate_file(path, tmp_path / name, mode="procedural", head=False, blink=False, gaze=False)
        return anim.curves[:, ARKIT_NAMES.index("jawOpen")]

    alone, in_video = jaw(espeak_speech.path, "alone.npz"), jaw(late, "video.npz")
    assert len(in_video) - len(alone) == pytest.approx(15, abs=2)  # 0.5 s more at 30 fps
    lag = [np.mean(np.abs(in_video[k : k + 60] - alone[:60])) for k in range(25)]
    assert int(np.argmin(lag)) == pytest.approx(15, abs=1)  # was 0: the mouth ran ahead of the picture


def test_a_late_aac_sound_track_ends_where_its_packets_end(tmp_path):
    # AAC at 16 kHz in a video whose sound starts late decoded up to 64 ms past its last packet (the encoder's padding
    # of that packet, which the container trims when the sound starts at 0): a 3 s cutscene whose line runs from
    # 0.5 s to its end gave 92 frames of curves for its 90 frames of picture. The samples now end with the packets.
    import subprocess

    import imageio_ffmpeg

    sr = 16000
    wav, late = tmp_path / "line.wav", tmp_path / "cutscene.mp4"
    t = np.arange(int(2.5 * sr)) / sr
    sf.write(wav, 0.3 * np.sin(2 * np.pi * 220 * t) * (t < 2.4), sr)  # 2.5 s, not a whole number of AAC packets
    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-f", "lavfi", "-i", "color=s=32x32:r=30:d=3",
                    "-itsoffset", "0.5", "-i", str(wav), "-map", "0:v", "-map", "1:a", "-c:v", "libx264",
                    "-c:a", "aac", str(late)], check=True)  # fmt: skip
    y, _ = load_audio(late)
    assert len(y) == 3 * sr  # was 3.06 s
    assert np.flatnonzero(np.abs(y) > 0.1)[0] / sr == pytest.approx(0.5, abs=0.002)  # its start as before
    assert len(np.concatenate(list(iter_audio_blocks(late, block_seconds=0.7)))) == len(y)
    assert len(load_audio(late, max_seconds=1.0)[0]) == sr
    assert audio_duration(late) == pytest.approx(3.0, abs=1e-6)


def _music(seconds: float, sr: int = 16000) -> np.ndarray:
    """Synthetic music: four chords (three harmonics a note) over a drum-like pulse train (a decaying 60 Hz thump
    with a noise burst, two a second)."""
    rng = np.random.default_rng(1)
    t = np.arange(int(seconds * sr)) / sr
    y = np.zeros_like(t)
    chords = [(261.6, 329.6, 392.0), (220.0, 261.6, 329.6), (174.6, 220.0, 261.6), (196.0, 246.9, 293.7)]
    for k in range(int(np.ceil(seconds))):
        at = (t >= k) & (t < k + 1)
        for f in chords[k % 4]:
            y[at] += sum(np.sin(2 * np.pi * f * h * t[at]) / h for h in (1, 2, 3)) / 9
    n = int(0.15 * sr)
    at = np.arange(n) / sr
    thump = np.exp(-at / 0.03) * (np.sin(2 * np.pi * 60 * at) + 0.5 * rng.standard_normal(n))
    for i in range(0, len(t) - n, sr // 2):
        y[i : i + n] += thump
    return (0.5 * y / np.abs(y).max()).astype(np.float32)


def test_speech_share_tells_speech_from_music_and_noise(shared_dir):
    # talk animated a song or a hiss as speech without a word: the mouth moved with the beat
    from facecraft.audio2face.audio import LITTLE_SPEECH, speech_share

    noise = (0.3 * np.random.default_rng(0).standard_normal(3 * 16000)).astype(np.float32)
    assert speech_share(noise) < 0.1 and speech_share(_music(4.0)) < 0.1
    assert speech_share(np.zeros(16000, np.float32)) == 0.0  # silence: no sound, no speech
    for clip in ("speech/arctic_us_aew_a0002.wav", "speech/arctic_us_axb_a0006.wav",
                 "speech-emotion/03-01-05-02-01-01-01.wav"):  # fmt: skip
        y, sr = load_audio(shared_dir / "data" / clip)
        assert speech_share(y, sr) > LITTLE_SPEECH + 0.2, clip  # pauses do not count against it
    y, sr = load_audio(shared_dir / "data" / "speech" / "arctic_us_aew_a0002.wav")
    assert speech_share(resample(y, orig_sr=sr, target_sr=44100), 44100) > LITTLE_SPEECH + 0.2


def test_integer_pcm_is_scaled_and_unscaled_floats_are_refused():
    """int16 speech (scipy's wavfile.read, pydub, TTS engines) was taken as floats peaking near 10,000: the level
    gain hit its floor and the face did not move."""
    wave = 0.5 * np.sin(np.linspace(0, 60, 1600))
    as_int16 = np.round(wave * 32767).astype(np.int16)
    np.testing.assert_allclose(valid_audio(as_int16), wave, atol=1e-4)
    np.testing.assert_allclose(valid_audio(np.round(wave * 2**31 * 0.99).astype(np.int32)), 0.99 * wave, atol=1e-6)
    np.testing.assert_allclose(valid_audio(np.round(128 + 127 * wave).astype(np.uint8)), wave * 127 / 128, atol=5e-3)
    with pytest.raises(ParameterError, match="divide by 32768"):
        valid_audio(as_int16.astype(np.float64))
    assert valid_audio(np.float32([1.2, -1.5])).max() == pytest.approx(1.2)  # a clipped float mix is still audio
