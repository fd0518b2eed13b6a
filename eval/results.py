"""Pieces shared by the evaluators: skip records, the judge protocol, folder pairing and guarded loops.

Folder-mode evaluators must never crash half-way because one file is corrupt or shows no face: they run
each item through :func:`run_guarded`, which turns facecraft's own errors into :class:`Skip` records
(and lets real bugs through), and report the skips beside the results.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Protocol, TypeVar, runtime_checkable

import numpy as np
from tqdm.auto import tqdm

from facecraft.rigs import EMOTIONS, normalize_emotion
from facecraft.rigs.errors import FacecraftError, MissingFileError, ParameterError

from .images import EmptyFolderError, list_image_files

logger = logging.getLogger(__name__)

T = TypeVar("T")
R = TypeVar("R")


@dataclass(frozen=True)
class Skip:
    """One item an evaluator left out, and why.

    Attributes
    ----------
    item : str
        The file (or pair ``"a.jpg | b.jpg"``, or ``"#3"`` for an in-memory image) that was skipped.
    reason : str
        The error message (names the file and the problem).
    kind : str
        The error class name: ``FileFormatError`` (corrupt), ``NoFaceError``, ``MissingFileError``, ...
    """

    item: str
    reason: str
    kind: str

    def to_dict(self) -> dict[str, str]:
        return asdict(self)


@runtime_checkable
class EmotionJudge(Protocol):
    """Anything that scores emotions on face images (the FER judges in ``facecraft.eval.judges``).

    ``predict_proba`` takes a list of RGB uint8 ``(H, W, 3)`` images (whole photos or face crops; the judge
    preprocesses them itself) or an ``(N, H, W, 3)`` array, and returns ``(N, 8)`` probabilities in
    :data:`facecraft.rigs.EMOTIONS` order. It may raise :class:`~facecraft.rigs.errors.NoFaceError`.
    """

    name: str

    def predict_proba(self, images) -> np.ndarray: ...


def run_guarded(
    items: Sequence[T], fn: Callable[[T], R], *, label: Callable[[T], str] = str, desc: str = "evaluating"
) -> tuple[list[tuple[T, R]], list[Skip]]:
    """Apply ``fn`` to every item under a tqdm bar; facecraft errors become :class:`Skip` records.

    Returns
    -------
    done : list of (item, result)
        Items that went through, in input order.
    skipped : list of Skip
        Items whose ``fn`` raised a :class:`~facecraft.rigs.errors.FacecraftError` (corrupt file, no face,
        bad shape). Other exceptions are bugs and propagate.
    """
    done: list[tuple[T, R]] = []
    skipped: list[Skip] = []
    for item in tqdm(items, desc=desc, unit="item", leave=False):
        try:
            done.append((item, fn(item)))
        except FacecraftError as e:
            logger.info("skipped %s: %s", label(item), e)
            skipped.append(Skip(item=label(item), reason=str(e), kind=type(e).__name__))
    return done, skipped


def paired_files(
    folder_a: str | os.PathLike, folder_b: str | os.PathLike
) -> tuple[list[tuple[Path, Path]], list[Skip]]:
    """Pairs of image files with the same name stem in two folders (``x.jpg`` pairs with ``x.png``).

    Returns
    -------
    pairs : list of (Path, Path)
        Sorted by stem.
    unmatched : list of Skip
        Files present in only one folder (``kind="Unpaired"``), reported rather than silently dropped.

    Raises
    ------
    MissingFileError, EmptyFolderError
        A folder is absent or holds no images; ``EmptyFolderError`` also when no stem is in both.
    """
    a = {p.stem: p for p in list_image_files(folder_a)}
    b = {p.stem: p for p in list_image_files(folder_b)}
    common = sorted(a.keys() & b.keys())
    unmatched = [
        Skip(item=str(p), reason=f"{p.name} has no same-named image in {other}", kind="Unpaired")
        for side, other_keys, other in ((a, b, folder_b), (b, a, folder_a))
        for stem, p in sorted(side.items())
        if stem not in other_keys
    ]
    if not common:
        raise EmptyFolderError(f"no image in {folder_a} has a same-named image in {folder_b} (compared name stems)")
    return [(a[s], b[s]) for s in common], unmatched


def emotion_folders(root: str | os.PathLike) -> list[tuple[Path, str]]:
    """``(image path, emotion)`` for every image in ``root/<emotion>/`` (ImageFolder layout).

    Folder names are normalised (``happy`` -> ``happiness``); folders with other names are ignored with a
    log message; empty emotion folders are fine as long as one image exists in total.

    Raises
    ------
    MissingFileError
        ``root`` does not exist.
    EmptyFolderError
        No emotion folder holds an image.
    """
    base = Path(root)
    if not base.is_dir():
        raise MissingFileError(f"emotion image folder not found: {base}")
    out: list[tuple[Path, str]] = []
    for sub in sorted(p for p in base.iterdir() if p.is_dir()):
        try:
            emotion = normalize_emotion(sub.name)
        except ParameterError:
            logger.info("ignoring folder %s: not an emotion name", sub)
            continue
        try:
            out.extend((p, emotion) for p in list_image_files(sub))
        except EmptyFolderError:
            logger.info("emotion folder %s holds no images", sub)
    if not out:
        raise EmptyFolderError(
            f"folder {base} holds no images in emotion sub-folders (expected {base}/<emotion>/*.jpg with "
            f"<emotion> one of {', '.join(EMOTIONS)})"
        )
    return out


def summarize(values: Iterable[float]) -> dict[str, float]:
    """Distribution summary ``{n, mean, std, min, p05, median, p95, max}`` (NaN fields when empty)."""
    v = np.asarray(list(values), dtype=np.float64)
    if v.size == 0:
        return {"n": 0, **{k: float("nan") for k in ("mean", "std", "min", "p05", "median", "p95", "max")}}
    return {
        "n": int(v.size),
        "mean": float(v.mean()),
        "std": float(v.std()),
        "min": float(v.min()),
        "p05": float(np.percentile(v, 5)),
        "median": float(np.median(v)),
        "p95": float(np.percentile(v, 95)),
        "max": float(v.max()),
    }
