"""Blendshape response: did an edit move the face the way its control asked?

MediaPipe Face Landmarker scores the 52 ARKit blendshapes on the photo before and after an edit; the
response of a target control (``"jawOpen"``, ``"mouthSmileLeft"``, ...) is its rise, and a clean edit makes
it the largest rise of all 52. ``tongueOut`` cannot be judged: MediaPipe has no score for it.

Single pairs: :func:`blendshape_response`; folders of before/after images with the same names:
:func:`blendshape_response_folder`; fixed score vectors (tests, cached scores):
:meth:`BlendshapeResponse.from_scores`.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from facecraft.rigs import ARKIT_INDEX, ARKIT_NAMES, NUM_ARKIT, canonical_arkit_name
from facecraft.rigs.errors import FacecraftError, ParameterError

from .faces import FaceAnalyzer, default_analyzer
from .images import load_image, valid_image
from .results import Skip, paired_files, run_guarded, summarize

logger = logging.getLogger(__name__)

_UNSCORED = frozenset({"tongueOut"})  # MediaPipe's model has no output for these


def _check_target(target: str) -> str:
    name = canonical_arkit_name(target)
    if name in _UNSCORED:
        raise ParameterError(f"target {target!r}: MediaPipe Face Landmarker gives no score for {name}; pick another")
    return name


def _check_scores(scores, what: str) -> np.ndarray:
    s = np.asarray(scores, dtype=np.float32)
    if s.shape != (NUM_ARKIT,) or not np.all(np.isfinite(s)):
        raise ParameterError(f"{what}: expected finite ARKit scores of shape ({NUM_ARKIT},), got shape {s.shape}")
    return s


@dataclass(frozen=True)
class BlendshapeResponse:
    """How the 52 MediaPipe scores moved between a photo and its edit, judged for one target control.

    Attributes
    ----------
    target : str
        Apple's name of the control the edit asked for.
    rise : float
        ``after - before`` of the target, in [-1, 1].
    largest_rise_name : str
        The channel that rose most.
    largest_rise : float
        Its rise.
    target_is_largest : bool
        The target rose, and no channel rose more.
    rank : int
        1 when the target rose most, 2 when one channel rose more, ...
    deltas, before, after : np.ndarray
        ``(52,)`` float32 in Apple's order.
    name : str
        The image (pair) judged.
    """

    target: str
    rise: float
    largest_rise_name: str
    largest_rise: float
    target_is_largest: bool
    rank: int
    deltas: np.ndarray = field(repr=False)
    before: np.ndarray = field(repr=False)
    after: np.ndarray = field(repr=False)
    name: str = ""

    @classmethod
    def from_scores(cls, before, after, target: str, *, name: str = "") -> BlendshapeResponse:
        """Judge two ARKit score vectors ``(52,)`` (Apple's order) for ``target`` (any alias)."""
        tgt = _check_target(target)
        b = _check_scores(before, "before")
        a = _check_scores(after, "after")
        deltas = a - b
        ti = ARKIT_INDEX[tgt]
        li = int(np.argmax(deltas))
        if deltas[li] == deltas[ti]:
            li = ti  # a tie with the target counts for the target
        rise = float(deltas[ti])
        return cls(
            target=tgt,
            rise=rise,
            largest_rise_name=ARKIT_NAMES[li],
            largest_rise=float(deltas[li]),
            target_is_largest=bool(rise > 0 and li == ti),
            rank=int(np.sum(deltas > deltas[ti])) + 1,
            deltas=deltas,
            before=b,
            after=a,
            name=name,
        )

    def top_rises(self, k: int = 5) -> list[tuple[str, float]]:
        """The ``k`` largest rises as ``(name, rise)``, largest first."""
        order = np.argsort(-self.deltas, kind="stable")[:k]
        return [(ARKIT_NAMES[i], float(self.deltas[i])) for i in order]

    def to_dict(self) -> dict[str, object]:
        """JSON-ready summary (without the full vectors)."""
        return {
            "name": self.name,
            "target": self.target,
            "rise": self.rise,
            "largest_rise_name": self.largest_rise_name,
            "largest_rise": self.largest_rise,
            "target_is_largest": self.target_is_largest,
            "rank": self.rank,
            "top_rises": self.top_rises(),
        }


@dataclass
class BlendshapeFolderResult:
    """Responses over pairs of same-named before/after images.

    Attributes
    ----------
    responses : list of BlendshapeResponse
    skipped : list of Skip
        Unpaired files, pairs without a target, corrupt or faceless images.
    """

    responses: list[BlendshapeResponse]
    skipped: list[Skip] = field(default_factory=list)

    @property
    def target_largest_rate(self) -> float:
        """Share of pairs whose target rose most (NaN when no pair went through)."""
        return float(np.mean([r.target_is_largest for r in self.responses])) if self.responses else float("nan")

    @property
    def rises(self) -> dict[str, float]:
        """:func:`~facecraft.eval.results.summarize` of the target rises."""
        return summarize(r.rise for r in self.responses)

    def per_target(self) -> dict[str, dict[str, float]]:
        """``{target: {"n", "mean_rise", "largest_rate"}}``."""
        out: dict[str, dict[str, float]] = {}
        for t in sorted({r.target for r in self.responses}):
            rs = [r for r in self.responses if r.target == t]
            out[t] = {
                "n": len(rs),
                "mean_rise": float(np.mean([r.rise for r in rs])),
                "largest_rate": float(np.mean([r.target_is_largest for r in rs])),
            }
        return out


def _scores(image, analyzer: FaceAnalyzer, name: str) -> np.ndarray:
    img = load_image(image) if isinstance(image, str | os.PathLike) else valid_image(image, name=name)
    return analyzer.blendshapes(img, name=name)


def blendshape_response(
    before, after, target: str, *, analyzer: FaceAnalyzer | None = None, name: str | None = None
) -> BlendshapeResponse:
    """Score ``before`` and ``after`` (RGB uint8 arrays or image files) and judge the rise of ``target``.

    Raises
    ------
    NoFaceError
        A photo shows no face (message names it); ``FileFormatError`` / ``MissingFileError`` for bad paths;
        ``ParameterError`` for an unknown target or ``tongueOut``.
    """
    tgt = _check_target(target)
    fa = analyzer or default_analyzer()
    nb = str(before) if isinstance(before, str | os.PathLike) else "before image"
    na = str(after) if isinstance(after, str | os.PathLike) else "after image"
    return BlendshapeResponse.from_scores(
        _scores(before, fa, nb), _scores(after, fa, na), tgt, name=name or (nb if nb == na else f"{nb} -> {na}")
    )


def blendshape_response_folder(
    before_dir: str | os.PathLike,
    after_dir: str | os.PathLike,
    target: str | Mapping[str, str],
    *,
    analyzer: FaceAnalyzer | None = None,
) -> BlendshapeFolderResult:
    """Responses for every pair of same-named images (name stems) in ``before_dir`` and ``after_dir``.

    Parameters
    ----------
    target : str or mapping
        One control for all pairs, or ``{name stem: control}`` per pair (pairs without an entry are skipped).

    Never stops on a bad file: unpaired, corrupt and faceless images are reported in ``skipped``.
    """
    if isinstance(target, str):
        targets = None
        _check_target(target)
    else:
        targets = {str(k): _check_target(v) for k, v in target.items()}
    fa = analyzer or default_analyzer()
    pairs, unmatched = paired_files(before_dir, after_dir)

    def judge(pair) -> BlendshapeResponse:
        b, a = pair
        if targets is None:
            tgt = target
        elif b.stem in targets:
            tgt = targets[b.stem]
        else:
            raise MissingTargetError(f"{b.name}: no target control given for stem {b.stem!r}")
        return BlendshapeResponse.from_scores(_scores(b, fa, str(b)), _scores(a, fa, str(a)), tgt, name=b.stem)

    done, skipped = run_guarded(pairs, judge, label=lambda p: f"{p[0]} | {p[1]}", desc="blendshape response")
    return BlendshapeFolderResult(responses=[r for _, r in done], skipped=unmatched + skipped)


class MissingTargetError(FacecraftError, KeyError):
    """A before/after pair has no target control in the mapping (reported as a skip)."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0])
