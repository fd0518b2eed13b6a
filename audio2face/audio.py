"""Audio in: any common format -> 16 kHz mono float32, whole or in bounded-memory blocks.

WAV, FLAC, OGG and the other formats libsndfile reads go through :mod:`soundfile`; everything else (MP3,
M4A, AAC, video sound tracks ...) is decoded by the ffmpeg binary that ships with ``imageio-ffmpeg``, on its
file's timeline: a video whose sound starts 0.5 s after its picture reads as 0.5 s of silence, then the sound, so
animation frame 0 is the file's time 0 (:data:`facecraft.rigs.video.TIMELINE_AUDIO`).
Resampling uses ``soxr`` (librosa's default resampler). A silent file is valid audio; an empty one is not.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import re
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from facecraft.rigs.errors import FileFormatError, MissingFileError, ParameterError
from facecraft.rigs.video import TIMELINE_AUDIO, ffmpeg_exe

logger = logging.getLogger(__name__)

SAMPLE_RATE = 16000  # Hz: every audio2face front-end, the corpus and the phone aligner work at this rate


def num_frames(duration: float, fps: float) -> int:
    """Animation frames covering ``duration`` seconds at ``fps``: ``ceil(duration * fps)``, at least 1; frame ``i``
    is at ``i / fps`` s. The one frame count of audio2face: curves, features, pitch, voicing and loudness tracks all
    have this many frames, so they line up whatever the clip's length, sample rate or frame rate."""
    return max(1, int(math.ceil(duration * fps - 1e-9)))


def valid_audio(y, *, name: str = "audio", mono: bool = True) -> np.ndarray:
    """Check an audio buffer and return it as float32.

    Parameters
    ----------
    y : array (N,) or (C, N)
        Samples, nominally in [-1, 1].
    mono : bool
        Require one channel (shape (N,)).

    Integer PCM (int16 from scipy's ``wavfile.read``, pydub or a TTS engine, int32, uint8) is scaled to [-1, 1] by its
    type's full scale: read as floats, int16 speech peaked near 10,000 and the face did not move.

    Raises
    ------
    ParameterError
        Not a numeric array, wrong number of dimensions, empty, NaN/inf samples, or float samples far outside
        [-1, 1] (:data:`MAX_FLOAT_PEAK`: integer PCM held as floats).
    """
    if isinstance(y, np.ndarray) and not np.issubdtype(y.dtype, np.number):
        raise ParameterError(f"{name}: expected a numeric array, got dtype {y.dtype}")
    try:
        if isinstance(y, np.ndarray) and np.issubdtype(y.dtype, np.integer):
            arr = _pcm_scaled(y)
        else:
            arr = np.asarray(y, dtype=np.float32)
    except (TypeError, ValueError) as e:
        raise ParameterError(f"{name}: not a numeric array ({e})") from e
    if mono and arr.ndim != 1:
        raise ParameterError(f"{name}: expected mono audio of shape (N,), got shape {arr.shape}")
    if arr.ndim not in (1, 2):
        raise ParameterError(f"{name}: expected shape (N,) or (channels, N), got {arr.shape}")
    if arr.shape[-1] == 0:
        raise ParameterError(f"{name}: audio is empty (0 samples)")
    if not np.all(np.isfinite(arr)):
        raise ParameterError(f"{name}: contains NaN or infinite samples")
    peak = float(np.abs(arr).max())
    if peak > MAX_FLOAT_PEAK:
        raise ParameterError(
            f"{name}: samples reach {peak:.4g}, expected floats in [-1, 1] (integer PCM held as floats? divide by "
            "32768 for 16-bit, or pass the integer array itself)"
        )
    return arr


#: Float samples beyond this are no float audio (16-bit PCM converted to float without scaling peaks in the
#: thousands); a loud float mix may clip past 1, so the bound is generous.
MAX_FLOAT_PEAK = 16.0


def _pcm_scaled(y: np.ndarray) -> np.ndarray:
    """Integer PCM as float32 in [-1, 1]: signed types over their full scale, unsigned ones about their middle."""
    info = np.iinfo(y.dtype)
    if info.min == 0:  # unsigned (8-bit WAV): silence is the middle value
        middle = (int(info.max) + 1) // 2
        return ((y.astype(np.float64) - middle) / middle).astype(np.float32)
    return (y.astype(np.float64) / -float(info.min)).astype(np.float32)


def resample(y: np.ndarray, *, orig_sr: int, target_sr: int = SAMPLE_RATE) -> np.ndarray:
    """Resample mono float audio ``(N,)`` with soxr (high quality); returns float32.

    Raises :class:`ParameterError` when ``y`` holds samples but too few to give one at ``target_sr`` (a single
    sample at 44.1 kHz): such a clip is too short to hold an animation frame."""
    if orig_sr == target_sr:
        return np.asarray(y, np.float32)
    import soxr

    out = soxr.resample(np.asarray(y, np.float32), orig_sr, target_sr, quality="HQ").astype(np.float32)
    n = int(np.size(y))
    if out.size == 0 and n:
        raise ParameterError(
            f"the clip is too short to animate: {n} sample(s) at {orig_sr} Hz ({1000 * n / orig_sr:.3f} ms) give no "
            f"sample at {target_sr} Hz, so not one animation frame"
        )
    return out


# Audio whose sound (the frames the energy gate of prosody.voice_activity keeps) Silero VAD reads as speech less than
# this share of the time has little speech in it (speech_share): music or noise, which the speech model animates as if
# it were speech. Real speech reads 0.75-1.00 (the 14 clips of ../shared/data/speech that are neither cathy nor
# LJSpeech; JFK's, over a crowd, lowest), 0.78-0.98 (16 RAVDESS clips of speech-emotion); white and pink noise,
# synthetic chords, a drum-like pulse train, both together and a sung-like tone with vibrato 0.00.
LITTLE_SPEECH = 0.5


def speech_share(y: np.ndarray, sr: int = SAMPLE_RATE) -> float:
    """Share of the sound of mono audio ``y`` (at ``sr`` Hz) that is speech, in [0, 1]: of the 20 ms frames within
    35 dB of its loudest (``voice_activity(method="energy")``), those Silero VAD reads as speech (probability over
    0.5; :func:`~facecraft.audio2face.prosody.voice_activity`). Pauses do not count against it. 0 for silence.
    Below :data:`LITTLE_SPEECH` the audio is mostly music or noise (singing may read low as well)."""
    from .prosody import voice_activity

    y = valid_audio(y)
    if sr != SAMPLE_RATE:
        y = resample(y, orig_sr=sr)
    sound = voice_activity(y, fps=50.0, method="energy") > 0.5
    if not sound.any():
        return 0.0
    return float((voice_activity(y, fps=50.0)[sound] > 0.5).mean())


def warn_little_speech(y: np.ndarray, name: str, sr: int = SAMPLE_RATE) -> float | None:
    """Log a warning when audio ``y`` has little speech in it (:func:`speech_share` under :data:`LITTLE_SPEECH`) and
    return the share (None for silence, which animates a still face): the speech model animates music and noise as
    if they were speech, and the mouth moved with a song's beat or a hiss without a word. Said, not refused: singing
    is animated too."""
    from .postprocess import audio_peak, is_silent

    if is_silent(audio_peak(y)):
        return None
    share = speech_share(y, sr)
    if share < LITTLE_SPEECH:
        logger.warning(
            "%s: little speech in it (%.0f%% of its sound reads as speech): music or noise is animated as if it were "
            "speech, the mouth moving with it; give a voice recording (singing is animated, and may read low too)",
            name, 100 * share,
        )  # fmt: skip
    return share


def _ffmpeg_command(path: Path, sr: int, max_seconds: float | None) -> list[str]:
    cmd = [ffmpeg_exe(), "-nostdin", "-v", "error", "-i", str(path)]
    if max_seconds is not None:
        cmd += ["-t", f"{max_seconds:.6f}"]
    # on the file's timeline: a late sound track's delay is silence, as in the video (and write_mp4's mux)
    return cmd + ["-vn", "-af", TIMELINE_AUDIO, "-ac", "1", "-ar", str(sr), "-f", "f32le", "-"]


def _check_path(path) -> Path:
    p = Path(path)
    if not p.exists():
        raise MissingFileError(f"audio file not found: {p}")
    if p.is_dir():
        raise FileFormatError(f"{p}: is a folder, expected an audio file")
    if p.is_file() and p.stat().st_size == 0:  # a named pipe has size 0 too, and is read as it comes
        raise FileFormatError(f"{p}: the file is empty (0 bytes), expected audio")
    return p


_FFMPEG_TAGS = re.compile(r"^(\[[^\]]*\]\s*)+")  # "[out#0/f32le @ 0x55...] " before ffmpeg's words


def _ffmpeg_error(p: Path, stderr: str) -> FileFormatError:
    """The error for a file ffmpeg could not decode, in words about the file: a video without sound or a picture
    named .wav read "Error opening output files: Invalid argument", ffmpeg's last line, which is about its pipe."""
    lines = [_FFMPEG_TAGS.sub("", line).strip() for line in stderr.splitlines() if line.strip()]
    if any("does not contain any stream" in line for line in lines):
        return FileFormatError(f"{p}: the file holds no audio stream (a picture or a video without sound?)")
    about_input = [line for line in lines if "output file" not in line.lower()]
    reason = (about_input or lines or ["ffmpeg failed"])[-1]
    return FileFormatError(f"{p}: not a readable audio file ({reason})")


def _open_soundfile(p: Path):
    """A soundfile handle, or None when libsndfile does not know the format.

    What the library's decoders print while they probe the file goes to the debug log, not the terminal: a file
    named .mp3 that is not audio had libsndfile's mpg123 print "Note: Trying to resync..." lines to stderr before
    facecraft's own error about the file."""
    import soundfile as sf

    with _stderr_to_log(p):
        try:
            return sf.SoundFile(str(p))
        except (sf.LibsndfileError, RuntimeError) as e:
            logger.debug("soundfile cannot open %s (%s); trying ffmpeg", p, e)
            return None


#: Descriptor 2 is the process's: two threads redirecting it at once (the studio serves requests in threads) would
#: leave it on the first one's temporary file when they finish out of order, and every later error would be lost.
_STDERR_LOCK = threading.Lock()


@contextlib.contextmanager
def _stderr_to_log(p: Path) -> Iterator[None]:
    """Within the block, what C libraries write to file descriptor 2 is held back and logged at debug level for
    file ``p`` (Python's ``sys.stderr`` is not theirs: they write to the descriptor)."""
    with _STDERR_LOCK, tempfile.TemporaryFile() as held:
        try:
            saved = os.dup(2)
        except OSError:  # no stderr to redirect (a closed descriptor)
            yield
            return
        try:
            os.dup2(held.fileno(), 2)
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            held.seek(0)
            said = held.read().decode(errors="replace").strip()
            if said:
                logger.debug("%s: the audio library said: %s", p, said)


#: A channel mean this much quieter (RMS) than its channels is a cancellation, not a quiet recording.
_CANCELLED = 0.1


def to_mono(data: np.ndarray) -> np.ndarray:
    """Samples ``(N, C)`` -> mono float32 ``(N,)``: the channels' mean, or the loudest channel where the mean
    cancels (a stereo file with one channel's polarity inverted sums to silence and read as a silent line)."""
    data = np.asarray(data, np.float32)
    if data.ndim == 1 or data.shape[1] == 1:
        return data.reshape(-1)
    mean = data.mean(axis=1)
    rms = np.sqrt(np.mean(np.square(data, dtype=np.float64), axis=0))
    if rms.max() > 0 and np.sqrt(np.mean(np.square(mean, dtype=np.float64))) < _CANCELLED * rms.mean():
        return np.ascontiguousarray(data[:, int(np.argmax(rms))])
    return mean


# A data chunk declared this long or longer (or 0) is a writer's placeholder for a length it did not know when it
# began, not a size: a stream written to a pipe (espeak-ng -w /dev/stdout declares 0x7FFFF000; others 0xFFFFFFFF).
_STREAMED_SIZE = 0x7FFF0000


def _warn_if_cut_short(p: Path) -> None:
    """A WAV whose data chunk holds less than its header declares (a copy or download cut off) is read as far as
    it goes by libsndfile, without a word: say so."""
    with open(p, "rb") as f:
        head = f.read(1 << 16)
        size = f.seek(0, os.SEEK_END)
    if head[:4] not in (b"RIFF", b"RIFX") or head[8:12] != b"WAVE":
        return
    order = "little" if head[:4] == b"RIFF" else "big"
    at = 12
    while at + 8 <= len(head):
        kind, length = head[at : at + 4], int.from_bytes(head[at + 4 : at + 8], order)
        if kind == b"data":
            present = size - at - 8
            if 0 < length < _STREAMED_SIZE and present < length:
                logger.warning("%s: the file is cut short: its header declares %d bytes of audio, %d are there "
                               "(read as far as it goes)", p, length, present)  # fmt: skip
            return
        at += 8 + length + (length & 1)


def load_audio(path, *, sr: int = SAMPLE_RATE, max_seconds: float | None = None) -> tuple[np.ndarray, int]:
    """Read an audio file as mono float32 at ``sr`` Hz.

    Parameters
    ----------
    path : path-like
        WAV, FLAC, OGG, MP3, M4A ... (anything libsndfile or ffmpeg decodes).
    sr : int
        Output sample rate in Hz (16000 by default, what every facecraft front-end expects).
    max_seconds : float, optional
        Read at most this many seconds from the start.

    Returns
    -------
    y : float32 (N,)
        Samples in [-1, 1].
    sr : int

    Raises
    ------
    MissingFileError
        The file does not exist.
    FileFormatError
        The file is not decodable audio, or holds no samples.
    """
    p = _check_path(path)
    if max_seconds is not None and not max_seconds > 0:
        raise ParameterError(f"load_audio: max_seconds must be > 0, got {max_seconds!r}")
    f = _open_soundfile(p)
    if f is not None:
        _warn_if_cut_short(p)
        with f:
            frames = -1 if max_seconds is None else int(math.ceil(max_seconds * f.samplerate))
            data = f.read(frames=frames, dtype="float32", always_2d=True)
            try:
                y = resample(to_mono(data), orig_sr=f.samplerate, target_sr=sr)
            except ParameterError as e:
                raise FileFormatError(f"{p}: {e}") from e
    else:
        proc = subprocess.run(_ffmpeg_command(p, sr, max_seconds), capture_output=True, check=False)
        if proc.returncode != 0:
            raise _ffmpeg_error(p, proc.stderr.decode(errors="replace"))
        y = np.frombuffer(proc.stdout, dtype="<f4").astype(np.float32)
        end = _decoded_end(p)
        if end is not None:
            y = y[: int(round(end * sr))]
    if y.size == 0:
        raise FileFormatError(f"{p}: the file holds no audio samples")
    if not np.all(np.isfinite(y)):
        raise FileFormatError(f"{p}: the file holds NaN or infinite samples")
    return np.clip(y, -1.0, 1.0), sr


_DURATION = re.compile(r"^\s*Duration:\s*(\d+):(\d{2}):(\d{2}(?:\.\d+)?)(?:, start: (-?\d+(?:\.\d+)?))?", re.MULTILINE)
_AUDIO_STREAM = re.compile(r"^\s*Stream #\d+:\d+.*?: Audio:.*$", re.MULTILINE)
_VIDEO_STREAM = re.compile(r"^\s*Stream #\d+:\d+.*?: Video:.*$", re.MULTILINE)
_STREAM_START = re.compile(r", start (-?\d+(?:\.\d+)?)")  # a stream's own start, printed where it is not 0
_ESTIMATED = "Estimating duration from bitrate"  # ffmpeg's words for a raw AAC or MP3 stream's guessed length
_TIME_BASE = re.compile(r"^#tb 0: (\d+)/(\d+)\s*$", re.MULTILINE)
_PACKET = re.compile(r"^0,\s*-?\d+,\s*(-?\d+),\s*(\d+),", re.MULTILINE)  # framecrc: stream, dts, pts, duration, ...
#: A sound track that starts this late (container or stream start, seconds) has its packets counted: a container's
#: "Duration" need not be the sound's length on the file's timeline (Matroska, Ogg), which the decoder gives. Under it
#: (an MP3's encoder delay, 0.025 s at 44.1 kHz) the header's length is within a frame.
_LATE_START_S = 1 / 30


def _sound_track_duration(p: Path) -> float | None:
    """The length of the sound the decoder gives (what :func:`load_audio` reads), from the audio stream's packets:
    the stream is copied to ffmpeg's ``framecrc`` output, read through but not decoded, which lists each packet's
    time and length. None where that fails.

    The length runs from the file's time 0 (ffmpeg counts the packets' times from the file's start) to the end of
    the last packet: a sound track that starts late (a video whose sound begins at 0.5 s) is decoded with the delay
    as silence before it, so the delay is counted; a container whose every stream starts late (a Matroska file of
    sound only, start time 0.5 s) starts at 0.5 s, so nothing is added; packets before time 0 are the encoder's
    priming, which the decoder drops."""
    cmd = [ffmpeg_exe(), "-nostdin", "-v", "error", "-i", str(p), "-vn", "-sn", "-dn", "-c:a", "copy",
           "-f", "framecrc", "-"]  # fmt: skip
    proc = subprocess.run(cmd, capture_output=True, check=False)
    listing = proc.stdout.decode(errors="replace")
    tb = _TIME_BASE.search(listing)
    last = _PACKET.search(listing, listing.rfind("\n0,", 0, len(listing.rstrip())) + 1)  # the packets in time order
    if proc.returncode != 0 or tb is None or last is None or int(tb.group(2)) <= 0:
        logger.debug("%s: the sound track's length could not be counted (%s)", p, proc.stderr.decode(errors="replace"))
        return None
    seconds = (int(last.group(1)) + int(last.group(2))) * int(tb.group(1)) / int(tb.group(2))
    return seconds if seconds > 0 else None


def _ffmpeg_duration(p: Path) -> float | None:
    """The length ffmpeg reads from a file's header (``ffmpeg -i``: the container is probed, nothing decoded), or
    None where it gives none: no "Duration:" (a stream), a zero one, no audio stream, or a file it cannot open.

    The header's length is the container's: a video's is its picture's, which may outlast the sound (a 6 s clip with
    2 s of speech read 6 s), a raw AAC or MP3 stream's is estimated from its bit rate (20.89 s for 20.03 s), and a
    container whose sound starts late may count the delay before it (a Matroska file with 2 s of sound from 0.5 s
    read 2.5 s from its 0.5 s start: 2 s on the file's timeline). For those the sound track's length is counted from
    its packets (:func:`_sound_track_duration`, not decoded)."""
    info = _header(p)
    m = _DURATION.search(info)
    if m is None or _AUDIO_STREAM.search(info) is None:
        return None
    seconds = int(m.group(1)) * 3600 + int(m.group(2)) * 60 + float(m.group(3))
    if seconds <= 0:
        return None
    pictures = [line for line in _VIDEO_STREAM.findall(info) if "(attached pic)" not in line]  # cover art is no video
    if pictures or _starts_late(info) or _ESTIMATED in info:
        return _sound_track_duration(p) or seconds
    return seconds


def _header(p: Path) -> str:
    """What ``ffmpeg -i`` says of a file (its container and streams; nothing decoded)."""
    proc = subprocess.run([ffmpeg_exe(), "-hide_banner", "-nostdin", "-i", str(p)], capture_output=True, check=False)
    return proc.stderr.decode(errors="replace")


def _starts_late(info: str) -> bool:
    """Whether the sound track of a file ``ffmpeg -i`` describes so (:func:`_header`) starts after
    :data:`_LATE_START_S` (its container's or its own start)."""
    m, sound = _DURATION.search(info), _AUDIO_STREAM.search(info)
    if m is None or sound is None:
        return False
    stream_start = _STREAM_START.search(sound.group(0))
    return max(float(m.group(4) or 0), float(stream_start.group(1)) if stream_start else 0.0) > _LATE_START_S


def _decoded_end(p: Path) -> float | None:
    """Seconds after which ffmpeg's samples of a file are no sound: its last packet's end, for a sound track that
    starts late (:func:`_starts_late`); None for others (and for a stream, which cannot be read twice).

    AAC pads its last packet to 1024 samples, which the MP4 container trims, but ffmpeg does not where the sound
    starts late: the decoder gave the whole packet, up to 64 ms past the sound at 16 kHz (curves past the end of a
    video whose sound ends with its picture)."""
    if not p.is_file() or not _starts_late(_header(p)):
        return None
    return _sound_track_duration(p)


def audio_duration(path) -> float:
    """Length of an audio file's sound in seconds, read without decoding it: libsndfile's header, else the
    container's as ffmpeg reads it (M4A ...), else, for a video (whose container may outlast its sound track), a
    raw AAC or MP3 stream (whose header length ffmpeg estimates from the bit rate) or a sound track that starts late
    (whose delay is silence on the file's timeline), the sound track's packets counted by ffmpeg (read through, not
    decoded). The length is the decoder's: what :func:`load_audio` gives, within a frame.

    Only where none gives one (a named pipe, a file ffmpeg cannot open or that holds no audio stream) is the
    file decoded, which also raises the errors of :func:`load_audio` for files that are not audio.
    """
    p = _check_path(path)
    f = _open_soundfile(p)
    if f is not None:
        with f:
            return f.frames / f.samplerate
    if p.is_file():  # a probe would consume a pipe's bytes
        seconds = _ffmpeg_duration(p)
        if seconds is not None:
            return seconds
    y, sr = load_audio(p)
    return len(y) / sr


def iter_audio_blocks(path, *, block_seconds: float = 30.0, sr: int = SAMPLE_RATE) -> Iterator[np.ndarray]:
    """Stream a file as consecutive mono float32 blocks at ``sr``, using memory for one block only.

    Every block but the last holds ``round(block_seconds * sr)`` samples; concatenated they equal
    :func:`load_audio` up to resampling edge effects. libsndfile formats are read with
    ``soundfile.blocks`` and resampled by a streaming soxr resampler; other formats stream from ffmpeg.
    """
    if not block_seconds > 0:
        raise ParameterError(f"iter_audio_blocks: block_seconds must be > 0, got {block_seconds!r}")
    p = _check_path(path)
    size = int(round(block_seconds * sr))
    f = _open_soundfile(p)
    if f is None:
        end = _decoded_end(p)
        yield from _rechunk(_ffmpeg_blocks(p, sr, size), size, p, None if end is None else int(round(end * sr)))
        return
    with f:
        in_block = max(1, int(round(block_seconds * f.samplerate)))
        stream = None
        if f.samplerate != sr:
            import soxr

            stream = soxr.ResampleStream(f.samplerate, sr, 1, dtype="float32", quality="HQ")

        def converted() -> Iterator[np.ndarray]:
            blocks = f.blocks(blocksize=in_block, dtype="float32", always_2d=True)
            pending = next(blocks, None)
            while pending is not None:
                nxt = next(blocks, None)
                mono = to_mono(pending)
                yield mono if stream is None else stream.resample_chunk(mono, last=nxt is None)
                pending = nxt

        yield from _rechunk(converted(), size, p)


def iter_audio_blocks_shown(
    path, *, block_seconds: float = 30.0, progress: bool = False, desc: str = "animate"
) -> Iterator[np.ndarray]:
    """:func:`iter_audio_blocks` (at :data:`SAMPLE_RATE`) with a progress bar (:func:`shown_blocks`).

    ``progress=False`` shows nothing (a batch has its own bar) and does not read the length (:func:`audio_duration`).
    """
    total = audio_duration(path) if progress else None
    yield from shown_blocks(iter_audio_blocks(path, block_seconds=block_seconds), total, progress=progress, desc=desc)


def shown_blocks(
    blocks: Iterator[np.ndarray], total_seconds: float | None, *, progress: bool = False, desc: str = "animate"
) -> Iterator[np.ndarray]:
    """``blocks`` (:data:`SAMPLE_RATE` samples a second) as they come, with a progress bar (stderr, labelled
    ``desc``, out of ``total_seconds``) in seconds of audio done: a block counts as done when the next one is asked
    for, after the caller's work on it. ``progress=False`` shows nothing."""
    from tqdm import tqdm

    total = None if total_seconds is None else round(total_seconds)
    with tqdm(total=total, desc=desc, unit="s", disable=not progress, leave=False) as bar:
        done = 0.0
        for block in blocks:
            yield block
            done += len(block) / SAMPLE_RATE
            if progress:
                bar.update(min(round(done), bar.total) - bar.n)


def _ffmpeg_blocks(p: Path, sr: int, size: int) -> Iterator[np.ndarray]:
    proc = subprocess.Popen(_ffmpeg_command(p, sr, None), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        while True:
            raw = proc.stdout.read(4 * size)
            if not raw:
                break
            yield np.frombuffer(raw[: len(raw) // 4 * 4], dtype="<f4").astype(np.float32)
        err = proc.stderr.read().decode(errors="replace")
        if proc.wait() != 0:
            raise _ffmpeg_error(p, err)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def _rechunk(blocks: Iterator[np.ndarray], size: int, p: Path, end: int | None = None) -> Iterator[np.ndarray]:
    """``blocks`` as blocks of ``size`` samples (the last one shorter), the first ``end`` samples only when given."""
    buf = np.zeros(0, np.float32)
    seen = False
    left = end
    for b in blocks:
        if left is not None:
            b, left = b[:left], left - min(left, len(b))
        buf = np.concatenate([buf, b]) if buf.size else b
        while buf.size >= size:
            seen = True
            yield np.clip(buf[:size], -1.0, 1.0)
            buf = buf[size:]
    if buf.size:
        seen = True
        yield np.clip(buf, -1.0, 1.0)
    if not seen:
        raise FileFormatError(f"{p}: the file holds no audio samples")


@contextlib.contextmanager
def seekable_audio(path) -> Iterator[Path]:
    """``path`` itself when it is a regular file; for a stream (a named pipe, ``/dev/stdin``: audio piped from a
    TTS process) a temporary copy of everything it gives, under the same name, removed afterwards.

    The readers seek (libsndfile checks a header, the length is read before the samples), which a pipe cannot:
    animating one failed with ``io.UnsupportedOperation``.
    """
    p = _check_path(path)
    if p.is_file():
        yield p
        return
    with tempfile.TemporaryDirectory(prefix="facecraft-audio-") as tmp:
        copy = Path(tmp) / (p.name or "stream")
        with open(p, "rb") as src, open(copy, "wb") as dst:
            shutil.copyfileobj(src, dst, length=1 << 20)
        if copy.stat().st_size == 0:
            raise FileFormatError(f"{p}: the stream gave no bytes, expected audio")
        yield copy
