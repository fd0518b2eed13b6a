"""Training data for the learned audio2face model: clips with their targets, read from a synthetic corpus or from
real capture, and their features (cached on disk when ``FACECRAFT_CACHE_DIR`` is set).

Real capture: a folder of ``take.wav`` (or another audio file, :data:`.batch.SOUND_ONLY_SUFFIXES`: .flac, .mp3,
.m4a, .opus ...; or, where a take has no audio file, the sound of its video, :data:`.batch.VIDEO_SUFFIXES`: Live Link
Face's own ``take.mov`` + ``take.csv``) with either a Live Link Face CSV ``take.csv`` (read with
:func:`facecraft.rigs.exchange.load_animation`) or FLAME sequences in a VOCASET-like layout, ``take.npz`` with
``flame_expression`` (T, E), ``flame_jaw`` (T, 3) axis-angle radians and ``fps``, optionally ``emotion`` (a
name). Curves are resampled to the model's fps; a take with no ``emotion`` is neutral. A folder of FACEGOOD
takes (``ID.wav`` + ``bs_value_ID.npy`` + ``bs_names_116.txt``) is read through :mod:`.facegood`: ARKit targets on
the channels that rig has counterparts for, the others masked out of the loss (``Clip.arkit_mask``).
"""

from __future__ import annotations

import hashlib
import logging
import os
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from facecraft.rigs import EMOTIONS
from facecraft.rigs.animation import FaceAnimation
from facecraft.rigs.errors import FileFormatError, MissingFileError, ParameterError
from facecraft.rigs.paths import atomic_output

from .batch import AUDIO_SUFFIXES, VIDEO_SUFFIXES, folder_audio_files
from .corpus import list_items, load_item, write_manifest

log = logging.getLogger(__name__)

NEUTRAL = EMOTIONS.index("neutral")  # the neutral row of a clip's teacher stack (EMOTIONS order)


def compute_features(audio: np.ndarray, *, kind: str, fps: float) -> np.ndarray:
    """Features ``(T, F)`` float32 of 16 kHz audio at ``fps`` from the front-end registry.

    Cached in ``$FACECRAFT_CACHE_DIR/a2f-features`` when that variable is set (key: audio bytes, kind, fps,
    facecraft version).
    """
    from .features import get_features

    cache_dir = os.environ.get("FACECRAFT_CACHE_DIR")
    path = None
    if cache_dir:
        from importlib.metadata import PackageNotFoundError, version

        try:
            ver = version("facecraft")
        except PackageNotFoundError:
            ver = "dev"
        h = hashlib.sha1(np.ascontiguousarray(audio, np.float32).tobytes())
        h.update(f"{kind}|{fps}|{ver}".encode())
        path = Path(cache_dir) / "a2f-features" / f"{h.hexdigest()}.npy"
        if path.exists():
            return np.load(path)
    feats = np.asarray(get_features(kind, fps=fps)(audio), np.float32)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_output(path, "tmp") as tmp:  # the pid in its name: runs beside each other share the cache
            np.save(tmp, feats)
    return feats


@dataclass
class Clip:
    """One training clip at the model fps: features (T, F); ``teacher`` (8, T, 52) for synthetic clips;
    ``arkit`` (T, 52) and/or FLAME targets for real capture, with ``arkit_mask`` (52,) bool the ARKit channels
    the capture supervises (None: all); ``emotion`` the capture's label."""

    id: str
    features: np.ndarray
    teacher: np.ndarray | None = None
    arkit: np.ndarray | None = None
    flame_expression: np.ndarray | None = None
    flame_jaw: np.ndarray | None = None
    emotion: str = "neutral"
    arkit_mask: np.ndarray | None = None


def load_corpus_clips(
    corpus_dir: str | Path, *, split: str, kind: str, fps: float, progress: bool = True
) -> list[Clip]:
    """Synthetic clips of one split of a corpus built by :mod:`facecraft.audio2face.corpus`."""
    from tqdm.auto import tqdm

    write_manifest(corpus_dir)
    clips = []
    for p in tqdm(list_items(corpus_dir, split), desc=f"features ({split})", disable=not progress, unit="clip"):
        item = load_item(p)
        if abs(item.fps - fps) > 1e-6:
            raise ParameterError(f"{p}: corpus fps {item.fps} differs from the model fps {fps}")
        feats = compute_features(item.audio, kind=kind, fps=fps)
        t = min(len(feats), item.teacher.shape[1])
        clips.append(Clip(item.id, feats[:t], teacher=item.teacher[:, :t]))
    return clips


def _take_or_skip(what: str, curves_file: Path, read_curves, wav: Path, unread: list[str]):
    """``(curves, audio)`` of one training take, or None after a warning and a line in ``unread`` naming the file and
    the problem: the curves are read first, so a take whose curves cannot be read is not decoded; one take that
    cannot be read is reported and the others are loaded."""
    from .audio import load_audio

    try:
        curves = read_curves()
    except FileFormatError as e:
        log.warning("%s %s skipped: %s", what, curves_file, e)
        unread.append(f"{curves_file.name}: {e}")
        return None
    try:
        audio, _ = load_audio(wav)
    except Exception as e:  # noqa: BLE001 - one take that cannot be read is reported, the others are loaded
        log.warning("%s %s skipped: %s", what, wav, e)
        unread.append(f"{wav.name}: {e}")
        return None
    return curves, audio


def load_facegood_clips(folder: str | Path, *, kind: str, fps: float, exclude: tuple[str, ...] = ()) -> list[Clip]:
    """FACEGOOD takes mapped to ARKit (:func:`facecraft.audio2face.facegood.load_take`), masked to the mapped
    channels and resampled to ``fps``; takes named in ``exclude`` (held out) are skipped. A take whose curves or
    sound cannot be read is skipped with a warning naming the file and the reason, unless no take can be read
    (:class:`FileFormatError` listing the reasons)."""
    from . import facegood

    clips, unread = [], []
    for take in facegood.take_ids(folder):
        if take in exclude:
            continue
        wav = Path(folder) / f"{take}.wav"
        read = _take_or_skip("FACEGOOD take", Path(folder) / f"bs_value_{take}.npy",
                             lambda take=take: facegood.load_take(folder, take), wav, unread)  # fmt: skip
        if read is None:
            continue
        curves, audio = read
        feats = compute_features(audio, kind=kind, fps=fps)
        if abs(facegood.FPS - fps) > 1e-6:
            curves = FaceAnimation(curves, fps=facegood.FPS).resample(fps).curves
        t = min(len(feats), len(curves))
        clips.append(Clip(take, feats[:t], arkit=curves[:t].astype(np.float32), arkit_mask=facegood.MASK.copy()))
    if not clips and unread:
        raise FileFormatError(f"{folder}: no FACEGOOD take could be read: {'; '.join(unread)}")
    return clips


def _capture_takes(folder: Path) -> list[tuple[Path, Path]]:
    """The takes of a capture folder, sorted: each as the file it is heard in and its curves (``take.csv``, else
    ``take.npz``), paired by stem before any file is decoded. A take is heard in its audio file
    (:data:`.batch.SOUND_ONLY_SUFFIXES`), else its video (:data:`.batch.VIDEO_SUFFIXES`): Live Link Face's own
    ``take.mov`` + ``take.csv``. Sound without curves is skipped with a warning; a video without curves (reference
    footage) is no take.

    One take in several files (``take.wav`` and ``take.m4a``; ``take.mov`` and the ``take.wav`` taken from it) is
    read from the first in :data:`.batch.AUDIO_SUFFIXES` order (lossless audio first, videos last, Live Link Face's
    own ``.mov`` first of those), not once per file (one curves file, two clips of one id); the others are left out
    with a warning, or, for a video beside its sound, a note in the log."""
    takes: dict[str, list[Path]] = {}
    for p in folder_audio_files(folder):  # hidden files (macOS ._take.wav) left out
        takes.setdefault(p.stem, []).append(p)
    pairs = []
    for files in takes.values():
        files.sort(key=lambda p: AUDIO_SUFFIXES.index(p.suffix.lower()))
        first = files[0]
        curves = next((c for c in (first.with_suffix(".csv"), first.with_suffix(".npz")) if c.exists()), None)
        if curves is None:  # a take without curves is skipped, and said so, as one; a lone video is no take
            if first.suffix.lower() not in VIDEO_SUFFIXES:
                log.warning("capture %s has no .csv or .npz beside it; skipped", first)
            continue
        for other in files[1:]:
            video_of_sound = other.suffix.lower() in VIDEO_SUFFIXES and first.suffix.lower() not in VIDEO_SUFFIXES
            (log.info if video_of_sound else log.warning)(
                "capture %s: left out, the take %r is read from %s (one take, one clip)", other, first.stem, first.name
            )
        pairs.append((first, curves))
    return sorted(pairs)


def _read_capture_targets(curves: Path, fps: float) -> dict:
    """One take's targets at ``fps`` as :class:`Clip` keyword arguments: ``arkit`` from a Live Link Face CSV, or
    ``flame_expression``, ``flame_jaw`` and ``emotion`` from an npz. A file that cannot be read (not parseable,
    wrong columns or arrays, empty) raises :class:`FileFormatError` naming it and the problem."""
    from facecraft.rigs.emotions import normalize_emotion
    from facecraft.rigs.errors import FacecraftError

    if curves.suffix.lower() == ".csv":
        from facecraft.rigs.exchange import load_animation

        try:
            return {"arkit": load_animation(curves).resample(fps).curves}
        except FacecraftError as e:
            raise FileFormatError(str(e) if str(curves) in str(e) else f"{curves}: {e}") from e
    try:
        with np.load(curves, allow_pickle=False) as z:
            if "flame_expression" not in z or "fps" not in z:
                raise FileFormatError(f"{curves}: expected arrays flame_expression (T, E), flame_jaw (T, 3) and fps; "
                                      f"it has {sorted(z.files)}")  # fmt: skip
            src_fps = float(z["fps"])
            expr = z["flame_expression"].astype(np.float32)
            jaw = z["flame_jaw"].astype(np.float32) if "flame_jaw" in z else None
            emo = str(z["emotion"]) if "emotion" in z else "neutral"
    except (FacecraftError, OSError, ValueError, TypeError, EOFError, zipfile.BadZipFile) as e:
        if isinstance(e, FileFormatError):
            raise
        raise FileFormatError(f"{curves}: not a readable FLAME npz ({type(e).__name__}: {e})") from e
    try:
        emo = normalize_emotion(emo)
    except ParameterError as e:
        raise FileFormatError(f"{curves}: emotion: {e}") from e
    if not (np.isfinite(src_fps) and src_fps > 0):
        raise FileFormatError(f"{curves}: fps must be a number above 0, got {src_fps}")
    if expr.ndim != 2 or len(expr) == 0 or (jaw is not None and jaw.shape != (len(expr), 3)):
        got = f"flame_expression {expr.shape}" + ("" if jaw is None else f", flame_jaw {jaw.shape}")
        raise FileFormatError(f"{curves}: expected flame_expression (T, E) with T > 0 and flame_jaw (T, 3); got {got}")
    n = max(1, int(round(len(expr) / src_fps * fps)))
    src_t, dst_t = np.arange(len(expr)) / src_fps, np.arange(n) / fps

    def interp(a: np.ndarray) -> np.ndarray:
        return np.stack([np.interp(dst_t, src_t, a[:, j]) for j in range(a.shape[1])], 1).astype(np.float32)

    return {"flame_expression": interp(expr), "flame_jaw": None if jaw is None else interp(jaw), "emotion": emo}


def load_capture_clips(capture_dir: str | Path, *, kind: str, fps: float, exclude: tuple[str, ...] = ()) -> list[Clip]:
    """Real capture pairs in a folder (see the module docstring for the accepted layouts); takes named in
    ``exclude`` are left out (held out for validation). Only takes with curves are decoded; a take whose curves
    (unparseable, wrong columns or arrays, empty) or sound cannot be read is skipped with a warning naming the file
    and the reason, unless no take can be read (:class:`FileFormatError` listing the reasons)."""
    from . import facegood

    d = Path(capture_dir)
    if not d.is_dir():
        raise MissingFileError(f"capture folder not found: {d}")
    if facegood.is_facegood_dir(d):
        clips = load_facegood_clips(d, kind=kind, fps=fps, exclude=exclude)
        if not clips:
            raise FileFormatError(f"{d}: no FACEGOOD takes left (expected ID.wav + bs_value_ID.npy)")
        return clips
    clips, unread = [], []
    for wav, curves in _capture_takes(d):
        if wav.stem in exclude:
            continue
        read = _take_or_skip("capture", curves, lambda curves=curves: _read_capture_targets(curves, fps), wav, unread)
        if read is None:
            continue
        targets, audio = read
        feats = compute_features(audio, kind=kind, fps=fps)
        t = min(len(feats), *(len(a) for a in targets.values() if isinstance(a, np.ndarray)))
        clips.append(Clip(wav.stem, feats[:t], **{k: a[:t] if isinstance(a, np.ndarray) else a
                                                  for k, a in targets.items()}))  # fmt: skip
    if not clips:
        raise FileFormatError(
            f"{d}: no capture pairs found (expected take.wav, another audio file or a video with sound such as "
            "take.mov, + take.csv or take.npz)" + (f"; no take could be read: {'; '.join(unread)}" if unread else "")
        )
    return clips


def feature_stats(clips: list[Clip]) -> tuple[list[float], list[float]]:
    """Per-dimension mean and standard deviation (+ 1e-3) of the features of the first 2000 ``clips``: the
    model's input normalisation."""
    allf = np.concatenate([c.features for c in clips[:2000]])
    return allf.mean(0).tolist(), (allf.std(0) + 1e-3).tolist()
