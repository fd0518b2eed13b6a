"""MP4 writing and reading through imageio-ffmpeg's bundled ffmpeg (H.264, yuv420p, optional AAC audio).

Frames go to ffmpeg through :func:`imageio_ffmpeg.write_frames`; audio, when given, is muxed in a second
ffmpeg call (video stream copied, audio encoded to AAC and cut to the frames' length to the sample) so a bad
audio file fails with ffmpeg's own message and leaves no half-written MP4. ``yuv420p`` needs even sizes: odd
widths/heights are padded by repeating the last column/row, never rescaled.
"""

from __future__ import annotations

import logging
import math
import os
import re
import subprocess
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .errors import FacecraftError, FileFormatError, MissingFileError, OptionalDependencyError, ParameterError
from .paths import atomic_output, part_path, with_ending

logger = logging.getLogger(__name__)

AudioInput = str | os.PathLike | tuple[np.ndarray, int]


def ffmpeg_exe() -> str:
    """Path of the ffmpeg binary that ships in the ``imageio-ffmpeg`` wheel (the one ffmpeg facecraft runs:
    video here, audio decoding in :mod:`facecraft.audio2face.audio`)."""
    try:
        import imageio_ffmpeg
    except ImportError as e:  # pragma: no cover - a core dependency
        raise OptionalDependencyError("running ffmpeg needs imageio-ffmpeg: pip install imageio-ffmpeg") from e
    return imageio_ffmpeg.get_ffmpeg_exe()


#: ffmpeg's audio filter that puts a sound on its file's timeline, frame 0 at the file's time 0 (its earliest
#: stream's start, from which ffmpeg counts): a sound track that starts late (a video whose sound begins 0.5 s after
#: its picture) begins with that much silence, as a player plays it, and samples before time 0 (an encoder's priming)
#: are dropped. The decoder (audio2face.audio) and the mux (:func:`write_mp4`) both read a sound through it, so the
#: curves made from the samples and the sound muxed beside them keep the file's timing.
TIMELINE_AUDIO = "aresample=first_pts=0"


def _check_frame(frame, index: int, size: tuple[int, int] | None, path: Path) -> np.ndarray:
    a = np.asarray(frame)
    if a.dtype != np.uint8 or a.ndim != 3 or a.shape[2] != 3:
        raise ParameterError(f"{path}: frame {index} must be uint8 (H, W, 3) RGB, got {a.dtype} {a.shape}")
    if size is not None and a.shape[:2] != size:
        raise ParameterError(f"{path}: frame {index} has size {a.shape[:2]}, but frame 0 had {size} (H, W)")
    if a.shape[0] % 2 or a.shape[1] % 2:  # yuv420p: pad to even sizes by repeating the edge
        a = np.pad(a, ((0, a.shape[0] % 2), (0, a.shape[1] % 2), (0, 0)), mode="edge")
    return np.ascontiguousarray(a)


def _run_ffmpeg(args: list[str], *, what: str) -> subprocess.CompletedProcess:
    proc = subprocess.run([ffmpeg_exe(), "-hide_banner", *args], capture_output=True, text=True)
    if proc.returncode != 0:
        tail = "\n".join(proc.stderr.strip().splitlines()[-6:])
        raise FileFormatError(f"{what}: ffmpeg failed (exit {proc.returncode}): {tail}")
    return proc


#: File endings an H.264 video with AAC sound is written to.
VIDEO_SUFFIXES = (".mp4", ".m4v", ".mov")


def video_output(path: str | os.PathLike) -> Path:
    """A video output as a user names it: ``path`` as given, or with ``.mp4`` added where it has no ending at all
    (``-o talking`` writes ``talking.mp4``; the caller says so). A folder, or a name with another ending (``.gif``),
    is left for :func:`check_video_path` to refuse."""
    return with_ending(path, VIDEO_SUFFIXES[0])


def check_video_path(path: str | os.PathLike, *, inputs: Iterable[object] = ()) -> Path:
    """``path`` as a Path when a video can be written there, else an error, checked before any rendering (a
    ``.gif`` used to fail in ffmpeg after the whole render, an unwritable folder with a broken pipe): its ending
    is a video :func:`write_mp4` writes, it is not a folder, its folder can be made and written, and it is none
    of ``inputs`` (files the run reads: a video written over its own sound track deleted the recording)."""
    path = Path(path)
    if path.is_dir():  # first: a folder has no ending, and "got ''" did not say what was wrong
        raise ParameterError(f"{path}: is a folder; give the video file to write (e.g. {path / 'out.mp4'})")
    if path.suffix.lower() not in VIDEO_SUFFIXES:
        raise ParameterError(f"{path}: a video is written as {', '.join(VIDEO_SUFFIXES)} (H.264), got {path.suffix!r}")
    for source in inputs:
        if isinstance(source, (str, os.PathLike)) and path.exists() and Path(source).exists():
            if os.path.samefile(path, source):
                raise ParameterError(f"{path}: is also an input of this run; write the video to another file")
    folder = path.parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    if not folder.is_dir():
        raise ParameterError(f"{path}: cannot make its folder: {folder} is a file")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise ParameterError(f"{path}: cannot write there: permission denied on {folder}")
    return path


#: How the RGB frames (sRGB photos and renders) become YUV, and the stream saying so: the BT.601 matrix (ffmpeg's own
#: conversion) with sRGB's primaries and transfer tagged. Untagged, Chromium decoded with the 709 matrix, what browsers
#: assume for video: a talking portrait's skin +6.6 / +7.1 / +0.1 levels off in R / G / B on saturated pixels, 8 colour
#: patches up to 19 levels. Tagged, the patches are within 1 level in Chromium and in ffmpeg's decode (709 data tagged
#: 709: blue off by 9 in Chromium).
COLOUR_TAGS = ("-vf", "scale=out_color_matrix=bt601:out_range=tv,format=yuv420p,"
               "setparams=colorspace=smpte170m:color_primaries=bt709:color_trc=bt709:range=tv")  # fmt: skip


def check_video_side(size) -> None:
    """A square video's side: an even number of pixels (H.264's 4:2:0 colour; an odd one was padded without a
    word, ``--size 101`` gave 102 x 102)."""
    if not (isinstance(size, int | np.integer) and not isinstance(size, bool) and size > 0 and size % 2 == 0):
        raise ParameterError(f"size: a video's side must be a positive even number of pixels (H.264), got {size!r}")


def check_crf(crf, path: Path) -> None:
    """H.264's constant rate factor: a whole number 0 (lossless) .. 51."""
    if not (isinstance(crf, int | np.integer) and not isinstance(crf, bool) and 0 <= crf <= 51):
        raise ParameterError(f"{path}: crf must be an integer 0..51, got {crf!r}")


def write_mp4(
    frames: Iterable[np.ndarray],
    path: str | os.PathLike,
    *,
    fps: float = 30.0,
    audio: AudioInput | None = None,
    crf: int = 18,
    preset: str = "medium",
) -> Path:
    """Encode RGB frames to an H.264 MP4 (yuv420p, plays in browsers and phones), optionally with sound.

    Parameters
    ----------
    frames : iterable of uint8 arrays (H, W, 3)
        RGB frames, all the same size; consumed lazily (a generator of rendered frames is fine).
    path : output file (parents are created; an existing file is replaced).
    fps : frames per second (> 0).
    audio : path to any audio/video file ffmpeg reads, or a ``(samples, sample_rate)`` pair with samples
        float in [-1, 1], shape ``(N,)`` or ``(N, channels)``. Encoded to AAC on its file's timeline, the file's
        time 0 at the first frame (a video whose sound begins 0.5 s after its picture gives 0.5 s of silence first,
        as :func:`facecraft.audio2face.audio.load_audio` reads it: :data:`TIMELINE_AUDIO`); the video's frames
        decide the length (shorter sound is padded with silence, longer sound is cut). A file is checked before
        rendering.
    crf : H.264 constant rate factor, 0 (lossless) .. 51 (worst); 18 is visually clean.
    preset : x264 speed preset (``ultrafast`` .. ``veryslow``).

    Returns
    -------
    The output path.
    """
    import imageio_ffmpeg

    path = check_video_path(path, inputs=() if isinstance(audio, tuple) else (audio,))
    if not (np.isfinite(fps) and fps > 0):
        raise ParameterError(f"{path}: fps must be a positive number, got {fps!r}")
    check_crf(crf, path)
    audio_path, audio_tmp = _prepare_audio(audio, path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # everything goes to hidden part files, the video renamed into place at the end: a failed run deletes only those
    writer = None
    count = 0
    size = None
    try:
        with atomic_output(path, "part") as part:
            video_tmp = part_path(path, "video", suffix=".mp4") if audio_path else part
            try:
                for count, frame in enumerate(frames):  # noqa: B007 - count is the number written after the loop
                    a = _check_frame(frame, count, size, path)
                    if writer is None:
                        size = np.asarray(frame).shape[:2]
                        writer = imageio_ffmpeg.write_frames(
                            str(video_tmp), (a.shape[1], a.shape[0]), fps=float(fps), codec="libx264",
                            pix_fmt_out="yuv420p", quality=None, macro_block_size=1, ffmpeg_log_level="error",
                            output_params=["-crf", str(int(crf)), "-preset", preset, *COLOUR_TAGS,
                                           "-movflags", "+faststart"],
                        )  # fmt: skip
                        writer.send(None)
                    writer.send(a)
                if writer is None:
                    raise ParameterError(f"{path}: no frames to write")
                writer.close()
                writer = None
                if audio_path:
                    # the sound on its file's timeline, as load_audio reads it (the frames were made from those samples)
                    _run_ffmpeg(
                        ["-y", "-i", str(video_tmp), "-i", str(audio_path), "-map", "0:v:0", "-map", "1:a:0",
                         "-c:v", "copy", "-af", _audio_filter(count + 1, fps), "-c:a", "aac", "-b:a", "160k",
                         "-movflags", "+faststart", str(part)],
                        what=f"{path} (muxing audio {audio_path})",
                    )  # fmt: skip
            finally:  # ffmpeg is stopped before atomic_output removes the part file it writes
                if writer is not None:
                    try:
                        writer.close()
                    except Exception as e:  # noqa: BLE001 - the error that stopped the run is the one to report
                        logger.debug("%s: closing ffmpeg after an error: %s", path, e)
                if audio_path:
                    video_tmp.unlink(missing_ok=True)
    except FacecraftError:
        raise
    except OSError as e:  # ffmpeg stopped reading (imageio-ffmpeg turns the broken pipe into an OSError that went
        # out as a traceback): it could not write the file (a full disk, a read-only or special folder)
        reason = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise FileFormatError(f"{path}: ffmpeg stopped while writing the video ({reason})") from e
    finally:
        if audio_tmp is not None:
            audio_tmp.unlink(missing_ok=True)
    logger.info("wrote %s (%d frames at %g fps%s)", path, count + 1, fps, ", with audio" if audio_path else "")
    return path


def _audio_filter(n_frames: int, fps: float) -> str:
    """The mux's audio filter: the sound on its file's timeline, padded with silence and cut to the sample at the
    frames' end, ``n_frames / fps`` (rounded up to the microsecond ffmpeg reads). ``-shortest`` cut it at the last
    whole AAC frame (1024 samples) before the video's end instead: up to 64 ms of a 16 kHz voice's last syllable
    was lost. The MP4's edit list tells the decoder where the last AAC frame's padding starts."""
    end_us = math.ceil(n_frames / fps * 1e6)
    return f"{TIMELINE_AUDIO},apad,atrim=end={end_us}us"


def _prepare_audio(audio: AudioInput | None, path: Path) -> tuple[Path | None, Path | None]:
    """(audio file for ffmpeg, temporary file to delete afterwards) for the ``audio`` argument."""
    if audio is None:
        return None, None
    if isinstance(audio, tuple):
        if len(audio) != 2:
            raise ParameterError(f"{path}: audio must be a path or a (samples, sample_rate) pair, got {len(audio)}")
        import soundfile as sf

        samples, sr = np.asarray(audio[0], dtype=np.float32), audio[1]
        if samples.ndim not in (1, 2) or samples.shape[0] == 0 or not np.all(np.isfinite(samples)):
            raise ParameterError(f"{path}: audio samples must be finite (N,) or (N, C), got {samples.shape}")
        if not (isinstance(sr, int | np.integer) and sr > 0):
            raise ParameterError(f"{path}: audio sample rate must be a positive integer, got {sr!r}")
        fd, tmp = tempfile.mkstemp(suffix=".wav", prefix="facecraft-audio-")
        os.close(fd)
        sf.write(tmp, np.clip(samples, -1.0, 1.0), int(sr), subtype="PCM_16")
        return Path(tmp), Path(tmp)
    p = Path(audio)
    if not p.is_file():
        raise MissingFileError(f"{path}: audio file not found: {p}")
    try:  # its first sound stream, mapped as the mux maps it: a video without sound passed and failed the mux
        _run_ffmpeg(["-v", "error", "-i", str(p), "-map", "0:a:0", "-t", "0.1", "-f", "null", "-"],
                    what=f"{path}: audio {p}")  # fmt: skip
    except FileFormatError as e:
        if "matches no streams" in str(e):
            raise FileFormatError(f"{path}: audio {p}: the file holds no audio stream") from None
        raise
    return p, None


@dataclass(frozen=True)
class VideoInfo:
    """What ffmpeg reports about a video file: frame count, duration (s), size, fps and audio stream."""

    frames: int
    seconds: float
    width: int
    height: int
    fps: float
    video_codec: str
    pix_fmt: str
    audio_codec: str | None

    @property
    def has_audio(self) -> bool:
        return self.audio_codec is not None


_VIDEO_RE = re.compile(r"Stream #\S+.*?: Video: (\w+)[^,]*, (\w+)[^,]*(?:\([^)]*\))?.*?, (\d+)x(\d+)")
_FPS_RE = re.compile(r"([\d.]+) fps")
_AUDIO_RE = re.compile(r"Stream #\S+.*?: Audio: (\w+)")


def probe_video(path: str | os.PathLike) -> VideoInfo:
    """Read a video's stream facts with ``ffmpeg -i`` and count its frames by decoding it."""
    import imageio_ffmpeg

    path = Path(path)
    if not path.is_file():
        raise MissingFileError(f"video file not found: {path}")
    proc = subprocess.run([ffmpeg_exe(), "-hide_banner", "-i", str(path)], capture_output=True, text=True)
    text = proc.stderr
    video = _VIDEO_RE.search(text)
    if video is None:
        raise FileFormatError(f"{path}: no video stream found by ffmpeg ({text.strip().splitlines()[-1:]})")
    line = text[video.start() : text.find("\n", video.start())]
    fps = _FPS_RE.search(line)
    audio = _AUDIO_RE.search(text)
    frames, seconds = imageio_ffmpeg.count_frames_and_secs(str(path))
    return VideoInfo(
        frames=int(frames), seconds=float(seconds), width=int(video.group(3)), height=int(video.group(4)),
        fps=float(fps.group(1)) if fps else float("nan"), video_codec=video.group(1), pix_fmt=video.group(2),
        audio_codec=audio.group(1) if audio else None,
    )  # fmt: skip


def read_frames(path: str | os.PathLike) -> Iterator[np.ndarray]:
    """Decode a video to RGB frames ``uint8 (H, W, 3)``, one at a time (the file is checked right away)."""
    import imageio_ffmpeg

    path = Path(path)
    if not path.is_file():
        raise MissingFileError(f"video file not found: {path}")
    gen = imageio_ffmpeg.read_frames(str(path))
    try:
        meta = next(gen)
    except (RuntimeError, OSError, StopIteration) as e:
        gen.close()
        raise FileFormatError(f"{path}: not a readable video ({e})") from e
    return _decoded(gen, meta["size"])


def _decoded(gen, size: tuple[int, int]) -> Iterator[np.ndarray]:
    w, h = size
    try:
        for raw in gen:
            yield np.frombuffer(raw, dtype=np.uint8).reshape(h, w, 3)
    finally:
        gen.close()


def render_mp4(
    rig,
    curves,
    path: str | os.PathLike,
    *,
    fps: float = 30.0,
    audio: AudioInput | None = None,
    head_rotation=None,
    size: int = 512,
    crf: int = 18,
    progress: bool = False,
) -> Path:
    """Render ARKit curves ``(T, 52)`` on ``rig`` (a :class:`~facecraft.rigs.BlendshapeRig`) to an MP4.

    A preview of an animation: ``render_mp4(rig, anim.curves, "take.mp4", fps=anim.fps,
    head_rotation=anim.head_rotation, audio="take.wav")``. ``head_rotation`` is ``(T, 3)`` yaw/pitch/roll
    degrees; frames are ``size`` x ``size``; the other options are those of :func:`write_mp4`.
    """
    from .render import RigRenderer

    check_video_side(size)
    with RigRenderer(rig, size=size) as renderer:
        frames = renderer.render_curves(curves, head_rotation=head_rotation, progress=progress)
        return write_mp4(frames, path, fps=fps, audio=audio, crf=crf)


def animation_to_mp4(
    rig,
    animation,
    path: str | os.PathLike,
    *,
    audio: AudioInput | None = None,
    size: int = 512,
    crf: int = 18,
    progress: bool = False,
) -> Path:
    """Preview a :class:`~facecraft.rigs.animation.FaceAnimation` on ``rig`` as an MP4 at the animation's fps.

    Uses its curves and head rotation (eye rotation is not shown: rigs without eyeballs have nothing to
    turn); ``audio`` as in :func:`write_mp4`.
    """
    return render_mp4(
        rig, animation.curves, path, fps=animation.fps, audio=audio, head_rotation=animation.head_rotation,
        size=size, crf=crf, progress=progress,
    )  # fmt: skip
