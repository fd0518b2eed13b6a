"""FACEGOOD's "shirley" rig mapped onto ARKit-52: real speech with mouth curves for training the speech model.

Why: the speech model had only seen TTS with a procedural teacher's targets. FACEGOOD-Audio2Face ships seven
takes of real (Mandarin) speech, 14.3 min at 30 fps, with per-frame weights of its own 116-blendshape rig,
animated from video and cleaned by hand. Only channels with a real ARKit counterpart are mapped; every other
ARKit channel is left out of the capture loss (:data:`MASK`) instead of being pulled to 0.

Provenance and licence: github.com/FACEGOOD/FACEGOOD-Audio2Face at commit e6d41b6 (data added in ffeb83a,
2022-01-11), ``code/train/wav/1114_*.wav`` and ``code/train/bs_value/bs_value_1114_*.npy`` with the channel
order of ``shirley_1015_bs_name.npy``; released under the MIT licence (the repository's LICENSE and README; its
non-commercial notice covers only the test part and the UE "xiaomei" project). Copied unchanged to
``../shared/data/capture/facegood_shirley_zh_maya`` (README there).

The mapping (:data:`SOURCES`): an ARKit channel is a sum of FACEGOOD channels (mean over a split pair), times
its :data:`SCALES` factor, clipped to [0, 1].

* jawOpen <- ``mouth_stretch_c`` (FACS AU27 "mouth stretch", the jaw drop; of all 116 channels the one that
  follows the audio's loudness in every take);
* mouthFunnel <- mean of ``mouth_funnel_{ul,ur,dl,dr}`` + ``mouth_oh_c`` (the rounded "O": during it the
  funnel parts rest at ~0.03, so the funnel of an /o/ is in this shape);
* mouthPucker <- ``mouth_pucker_{l,r}`` + ``mouth_oo_c`` (the protruded "oo");
* mouthLowerDown L/R <- ``mouth_lowerLipDepress_{l,r}`` (AU16); mouthUpperUp L/R <- ``mouth_upperLipRaise_{l,r}``
  (AU10); mouthSmile L/R <- ``mouth_lipCornerPull_{l,r}`` (AU12); mouthRollLower / Upper <- mean of
  ``mouth_suck_{dl,dr}`` / ``mouth_suck_{ul,ur}`` (AU28, lips sucked in).

Not mapped: ``mouth_lipStretch_{l,r}`` (mouthStretch, AU20) moves in 0.4% of the frames and ``mouth_chinRaise_u``
in 0.1%: the animator did not use them, which says nothing about the face, so they stay unsupervised (rule:
a channel is mapped when its sources exceed 0.02 in >= 1% of the training takes' frames). Nor the seal,
mouthClose and mouthPress: the rig has no lips-together-while-the-jaw-drops shape, so a take cannot show a
seal, and its ``mouth_press_{l,r}`` (AU24) moves in 1.2% of the frames, fewer than a speaker's /b p m/ hold.
Mapped (factor 0.15, the teacher's seal press 0.060 over FACEGOOD's 0.388), it pulled the press the teacher
writes at every closure toward 0 on real speech: fine-tunes with it closed 95.0-95.8% of the /p b m/ of
``facecraft bench audio2face`` (98.3% before). Seals stay the teacher's. L/R pairs are identical in these takes.

Scales: the semantics give the pairing; the factor brings each mapped channel to the TTS teacher's range, so
that FACEGOOD contributes when and how the mouth moves and the two halves of the training mix do not disagree on
how far. Factor = the teacher's 90th percentile over frames where its channel is active (> 0.02; neutral stack of
600 training items of the stage-6 corpus) over FACEGOOD's (same rule, its six training takes; 1114_3_16 is
held out): jawOpen 0.66 (teacher 0.254 / FACEGOOD 0.385), mouthFunnel 0.59 (0.369 / 0.626), mouthPucker 0.76
(0.521 / 0.688), mouthLowerDown 1.38 (0.324 / 0.236), mouthUpperUp 1.74 (0.275 / 0.158), mouthRollLower 0.73
(0.195 / 0.266), mouthRollUpper 0.15 (0.038 / 0.255). mouthSmile: the neutral teacher never smiles, so the
factor is 1 (the same action unit at the same intensity). The iPhone take of ``facecraft bench capture`` was
not used for any of this.

Timing: the curves trail the audio by one frame (log-RMS energy against ``mouth_stretch_c`` peaks at +33 ms
in every take) while the teacher's jawOpen peaks at lag 0 (42 clean corpus clips: r 0.603 at 0, 0.582 at
+1): :func:`load_take` moves the curves :data:`SHIFT_FRAMES` earlier.

Caveat for training: the animator's lip curves barely follow the jaw (``mouth_lowerLipDepress`` and
``mouth_upperLipRaise`` against ``mouth_stretch_c``: r 0.13 and 0.08 over the training takes; the teacher's
mouthLowerDown and mouthUpperUp against jawOpen: 0.67 and 0.39), and a model fine-tuned on all mapped channels
moved its lips less with its jaw on English speech (lowerDown r with jawOpen 0.84 -> 0.75). ``facecraft a2f train
--capture-channels jawOpen`` keeps FACEGOOD to the jaw.
"""

from __future__ import annotations

import logging
import warnings
from pathlib import Path

import numpy as np

from facecraft.rigs.arkit import ARKIT_INDEX, ARKIT_NAMES
from facecraft.rigs.errors import FileFormatError, MissingFileError

log = logging.getLogger(__name__)

FPS = 30.0  # the takes' frame rate
NAMES_FILE = "bs_names_116.txt"
SHIFT_FRAMES = 1  # the curves trail the audio by this many frames (see the module docstring)

SOURCES: dict[str, tuple[str, ...]] = {
    "jawOpen": ("mouth_stretch_c",),
    "mouthFunnel": ("mouth_funnel_ul+mouth_funnel_ur+mouth_funnel_dl+mouth_funnel_dr", "mouth_oh_c"),
    "mouthPucker": ("mouth_pucker_l+mouth_pucker_r", "mouth_oo_c"),
    "mouthLowerDownLeft": ("mouth_lowerLipDepress_l",),
    "mouthLowerDownRight": ("mouth_lowerLipDepress_r",),
    "mouthUpperUpLeft": ("mouth_upperLipRaise_l",),
    "mouthUpperUpRight": ("mouth_upperLipRaise_r",),
    "mouthSmileLeft": ("mouth_lipCornerPull_l",),
    "mouthSmileRight": ("mouth_lipCornerPull_r",),
    "mouthRollLower": ("mouth_suck_dl+mouth_suck_dr",),
    "mouthRollUpper": ("mouth_suck_ul+mouth_suck_ur",),
}
"""ARKit channel -> terms summed; a term ``a+b+...`` is the mean of those FACEGOOD channels (a split shape)."""

SCALES: dict[str, float] = {
    "jawOpen": 0.66,
    "mouthFunnel": 0.59,
    "mouthPucker": 0.76,
    "mouthLowerDownLeft": 1.38,
    "mouthLowerDownRight": 1.38,
    "mouthUpperUpLeft": 1.74,
    "mouthUpperUpRight": 1.74,
    "mouthSmileLeft": 1.0,
    "mouthSmileRight": 1.0,
    "mouthRollLower": 0.73,
    "mouthRollUpper": 0.15,
}
"""Per ARKit channel, the factor on :data:`SOURCES`' sum (how each was chosen: the module docstring)."""

MASK = np.array([n in SOURCES for n in ARKIT_NAMES])
"""(52,) bool: the ARKit channels a FACEGOOD take supervises."""


def map_curves(weights: np.ndarray, names: list[str] | tuple[str, ...]) -> np.ndarray:
    """ARKit curves ``(T, 52)`` float32 in [0, 1] from FACEGOOD weights ``(T, 116)`` with their channel ``names``.

    Unmapped ARKit channels are 0; use :data:`MASK` to leave them out of a loss. Raises
    :class:`~facecraft.rigs.errors.FileFormatError` when a source channel is missing or the shapes disagree.
    """
    w = np.asarray(weights, np.float64)
    if w.ndim != 2 or w.shape[1] != len(names):
        raise FileFormatError(f"FACEGOOD weights: expected (T, {len(names)}) for the given names, got {w.shape}")
    col = {n: i for i, n in enumerate(names)}
    out = np.zeros((len(w), len(ARKIT_NAMES)), np.float32)
    for arkit, terms in SOURCES.items():
        acc = np.zeros(len(w))
        for term in terms:
            parts = term.split("+")
            missing = [p for p in parts if p not in col]
            if missing:
                raise FileFormatError(f"FACEGOOD weights: channel(s) {missing} not among the {len(names)} names")
            acc += w[:, [col[p] for p in parts]].mean(1)
        out[:, ARKIT_INDEX[arkit]] = np.clip(SCALES[arkit] * acc, 0.0, 1.0)
    return out


def read_names(folder: str | Path) -> list[str]:
    """The 116 channel names (column order) from ``bs_names_116.txt`` in ``folder``."""
    path = Path(folder) / NAMES_FILE
    if not path.is_file():
        raise MissingFileError(f"FACEGOOD channel names not found: {path}")
    return [line.strip() for line in path.read_text().splitlines() if line.strip()]


def is_facegood_dir(folder: str | Path) -> bool:
    """Whether ``folder`` holds FACEGOOD takes (its channel-name file)."""
    return (Path(folder) / NAMES_FILE).is_file()


def take_ids(folder: str | Path) -> list[str]:
    """The take ids in ``folder`` that have both ``ID.wav`` and ``bs_value_ID.npy``, sorted."""
    d = Path(folder)
    return sorted(p.stem[len("bs_value_") :] for p in d.glob("bs_value_*.npy") if (d / f"{p.stem[9:]}.wav").is_file())


def load_take(folder: str | Path, take: str, *, shift: int = SHIFT_FRAMES) -> np.ndarray:
    """One take's ARKit curves ``(T, 52)`` at :data:`FPS`, moved ``shift`` frames earlier (the last frame
    repeated) so that they line up with the audio as the teacher's do. A weights file that cannot be read (not
    .npy, no frames, another shape) raises :class:`~facecraft.rigs.errors.FileFormatError` naming it."""
    d = Path(folder)
    path = d / f"bs_value_{take}.npy"
    if not path.is_file():
        raise MissingFileError(f"FACEGOOD take not found: {path}")
    try:
        with warnings.catch_warnings():  # the files were written by Python 2: numpy warns while reading them
            warnings.simplefilter("ignore")
            weights = np.load(path, allow_pickle=False)
        if not isinstance(weights, np.ndarray) or len(weights) == 0:
            raise FileFormatError(f"{path}: no frames (expected a (T, 116) array of weights)")
        curves = map_curves(weights, read_names(d))
    except FileFormatError as e:
        if str(path) in str(e):
            raise
        raise FileFormatError(f"{path}: {e}") from e
    except (OSError, ValueError, EOFError) as e:
        raise FileFormatError(f"{path}: not a readable .npy of weights ({type(e).__name__}: {e})") from e
    if shift > 0:
        curves = np.concatenate([curves[shift:], np.repeat(curves[-1:], shift, 0)])
    return curves


def score_take(take: np.ndarray, pred: np.ndarray, *, fps: float = FPS, max_lag_s: float = 0.1) -> dict:
    """How well predicted curves follow a mapped take, on the mapped channels: per channel Pearson r at the best
    lag within ``max_lag_s`` (the window ``facecraft bench capture`` allows), and their mean.

    ``take``, ``pred``: ``(T, 52)`` at ``fps``. Returns ``{"jawOpen_r", "mean_r", "channels": {name: r}}``; a
    channel that does not move in the take scores 0 in the mean.
    """
    from facecraft.rigs.stats import lagged_pearson

    t = min(len(take), len(pred))
    max_lag = int(round(max_lag_s * fps))
    rows = {}
    for name in SOURCES:
        r, _ = lagged_pearson(take[:t, ARKIT_INDEX[name]], pred[:t, ARKIT_INDEX[name]], max_lag=max_lag)
        rows[name] = round(float(r), 3) if np.isfinite(r) else None
    mean = float(np.mean([r if r is not None else 0.0 for r in rows.values()]))
    return {"jawOpen_r": rows["jawOpen"], "mean_r": round(mean, 3), "channels": rows}
