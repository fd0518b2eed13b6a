"""Emotion hit rate: the share of images a chosen FER judge classifies as the emotion they should show.

Used to score edited photos ("made happy": is happiness the judge's top class?) and augmented data. The
judge is anything following :class:`~facecraft.eval.results.EmotionJudge` (``name`` and
``predict_proba(images) -> (N, 8)`` in :data:`facecraft.rigs.EMOTIONS` order), or a judge name given to
``facecraft.eval.judges.get_judge``. A prediction is the judge's arg-max class. Judges with seven classes
(the two ported ones have no contempt) give contempt probability 0, so contempt targets never hit with
them: read ``per_emotion``, not only the overall rate.

Corrupt files and images the judge finds no face in are reported in ``skipped`` and left out of ``n``.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from tqdm.auto import tqdm

from facecraft.rigs import EMOTION_INDEX, EMOTIONS, NUM_EMOTIONS, normalize_emotion
from facecraft.rigs.errors import FacecraftError, ParameterError

from .images import image_list, load_image, valid_image
from .results import EmotionJudge, Skip, emotion_folders, run_guarded

logger = logging.getLogger(__name__)


@dataclass
class HitRateResult:
    """Outcome of :func:`emotion_hit_rate`.

    Attributes
    ----------
    rate : float
        Hits / ``n`` over all judged images (NaN when none was judged).
    per_emotion : dict
        ``{target emotion: hit rate}`` for each target present among the judged images.
    n : int
        Images judged (skips excluded).
    skipped : list of Skip
        Corrupt files, faceless images.
    judge : str
        The judge's name.
    confusion : np.ndarray
        ``(8, 8)`` int64 counts, rows the targets, columns the predictions, both in EMOTIONS order.
    items, targets, predictions : list of str
        Per judged image: its name, target and predicted emotion.
    probabilities : np.ndarray
        ``(n, 8)`` float32, the judge's output.
    """

    rate: float
    per_emotion: dict[str, float]
    n: int
    skipped: list[Skip] = field(default_factory=list)
    judge: str = ""
    confusion: np.ndarray = field(default_factory=lambda: np.zeros((NUM_EMOTIONS, NUM_EMOTIONS), np.int64), repr=False)
    items: list[str] = field(default_factory=list, repr=False)
    targets: list[str] = field(default_factory=list, repr=False)
    predictions: list[str] = field(default_factory=list, repr=False)
    probabilities: np.ndarray = field(default_factory=lambda: np.zeros((0, NUM_EMOTIONS), np.float32), repr=False)

    @property
    def balanced_rate(self) -> float:
        """Mean of the per-emotion hit rates (each target emotion weighs the same)."""
        return float(np.mean(list(self.per_emotion.values()))) if self.per_emotion else float("nan")

    def to_dict(self) -> dict[str, object]:
        """JSON-ready summary."""
        return {
            "judge": self.judge,
            "rate": self.rate,
            "balanced_rate": self.balanced_rate,
            "per_emotion": self.per_emotion,
            "n": self.n,
            "skipped": [s.to_dict() for s in self.skipped],
            "labels": list(EMOTIONS),
            "confusion": self.confusion.tolist(),
        }


def _resolve_judge(judge: EmotionJudge | str) -> EmotionJudge:
    if isinstance(judge, str):
        try:
            from .judges import get_judge
        except ImportError as e:
            raise ParameterError(f"judge {judge!r}: judges by name need facecraft.eval.judges ({e})") from e
        judge = get_judge(judge)
    if not isinstance(judge, EmotionJudge):
        raise ParameterError(
            f"judge: expected an object with a 'name' and predict_proba(images) -> (N, 8), got {type(judge).__name__}"
        )
    return judge


def _check_proba(p, n: int, judge: EmotionJudge) -> np.ndarray:
    arr = np.asarray(p, dtype=np.float32)
    if arr.shape != (n, NUM_EMOTIONS) or not np.all(np.isfinite(arr)):
        raise ParameterError(
            f"judge {judge.name!r}: predict_proba must return finite ({n}, {NUM_EMOTIONS}) probabilities in "
            f"EMOTIONS order, got shape {arr.shape}"
        )
    return arr


def _judge_batch(judge: EmotionJudge, batch: list[tuple[str, np.ndarray]]) -> tuple[list[int], np.ndarray, list[Skip]]:
    """Probabilities for a batch; when the judge fails on the batch, retry one by one to skip only the culprits."""
    try:
        return (
            list(range(len(batch))),
            _check_proba(judge.predict_proba([im for _, im in batch]), len(batch), judge),
            [],
        )
    except ParameterError:
        raise
    except FacecraftError:
        if len(batch) == 1:
            raise
    kept, probs, skipped = [], [], []
    for i, (name, im) in enumerate(batch):
        try:
            probs.append(_check_proba(judge.predict_proba([im]), 1, judge)[0])
            kept.append(i)
        except ParameterError:
            raise
        except FacecraftError as e:
            msg = str(e) if name in str(e) else f"{name}: {e}"
            skipped.append(Skip(item=name, reason=msg, kind=type(e).__name__))
    return kept, np.asarray(probs, dtype=np.float32).reshape(-1, NUM_EMOTIONS), skipped


def emotion_hit_rate(
    images,
    targets: str | Sequence[str],
    judge: EmotionJudge | str,
    *,
    names: Sequence[str] | None = None,
    batch_size: int = 32,
) -> HitRateResult:
    """Share of ``images`` that ``judge`` classifies as their target emotion.

    Parameters
    ----------
    images : list or np.ndarray
        RGB uint8 images ``(H, W, 3)`` and/or image files, or an ``(N, H, W, 3)`` or ``(N, H, W)`` grey array.
    targets : str or sequence of str
        One emotion for all images, or one per image (aliases such as ``"happy"`` accepted).
    judge : EmotionJudge or str
        A judge object, or a name for ``facecraft.eval.judges.get_judge``.
    names : sequence of str, optional
        Names used in skip records (default: the path, or ``"#i"``).
    batch_size : int
        Images per ``predict_proba`` call.

    Raises
    ------
    ParameterError
        Lengths differ, an unknown emotion, no images, or a judge returning the wrong shape.
    """
    judge = _resolve_judge(judge)
    items = image_list(images)  # one image, file or array, or a batch
    if not items:
        raise ParameterError("images: expected at least one image, got none")
    if isinstance(targets, str):
        target_list = [normalize_emotion(targets)] * len(items)
    else:
        target_list = [normalize_emotion(t) for t in targets]
        if len(target_list) != len(items):
            raise ParameterError(f"targets: expected {len(items)} (one per image), got {len(target_list)}")
    if batch_size < 1:
        raise ParameterError(f"batch_size: expected at least 1, got {batch_size}")
    if names is None:
        names = [str(im) if isinstance(im, str | os.PathLike) else f"#{i}" for i, im in enumerate(items)]
    elif len(names) != len(items):
        raise ParameterError(f"names: expected {len(items)}, got {len(names)}")

    def load(i: int) -> np.ndarray:
        im = items[i]
        return load_image(im) if isinstance(im, str | os.PathLike) else valid_image(im, name=names[i])

    loaded, skipped = run_guarded(list(range(len(items))), load, label=lambda i: names[i], desc="loading")
    kept_idx: list[int] = []
    prob_parts: list[np.ndarray] = []
    for start in tqdm(range(0, len(loaded), batch_size), desc=f"judging ({judge.name})", unit="batch", leave=False):
        chunk = loaded[start : start + batch_size]
        kept, probs, skips = _judge_batch(judge, [(names[i], im) for i, im in chunk])
        kept_idx.extend(chunk[k][0] for k in kept)
        prob_parts.append(probs)
        skipped.extend(skips)
    probs = np.concatenate(prob_parts) if prob_parts else np.zeros((0, NUM_EMOTIONS), np.float32)
    preds = [EMOTIONS[int(k)] for k in probs.argmax(axis=1)] if len(probs) else []
    tgts = [target_list[i] for i in kept_idx]
    confusion = np.zeros((NUM_EMOTIONS, NUM_EMOTIONS), dtype=np.int64)
    for t, p in zip(tgts, preds, strict=True):
        confusion[EMOTION_INDEX[t], EMOTION_INDEX[p]] += 1
    hits = np.array([t == p for t, p in zip(tgts, preds, strict=True)], dtype=bool)
    per_emotion = {e: float(hits[[t == e for t in tgts]].mean()) for e in EMOTIONS if e in tgts}
    if skipped:
        logger.info("hit rate: %d of %d images skipped", len(skipped), len(items))
    return HitRateResult(
        rate=float(hits.mean()) if len(hits) else float("nan"),
        per_emotion=per_emotion,
        n=int(len(hits)),
        skipped=skipped,
        judge=str(judge.name),
        confusion=confusion,
        items=[names[i] for i in kept_idx],
        targets=tgts,
        predictions=preds,
        probabilities=probs,
    )


def emotion_hit_rate_folder(
    root: str | os.PathLike, judge: EmotionJudge | str, *, batch_size: int = 32
) -> HitRateResult:
    """:func:`emotion_hit_rate` over ``root/<emotion>/*`` (a folder per target emotion, aliases allowed).

    Raises
    ------
    MissingFileError, EmptyFolderError
        ``root`` is absent or no emotion folder holds an image.
    """
    pairs = emotion_folders(root)
    return emotion_hit_rate(
        [p for p, _ in pairs], [e for _, e in pairs], judge, names=[str(p) for p, _ in pairs], batch_size=batch_size
    )
