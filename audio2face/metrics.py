"""Lip-sync metrics judged on geometry: drive a rig with the curves and measure the lips.

* **inner-lip gap** (metres, ``(T,)``): the vertical distance between the rig's ``upper_lip_inner`` and
  ``lower_lip_inner`` semantic points, absolute (about 0 when the lips touch; ``relative=True`` subtracts the
  neutral face's gap). This is the geometric gap lip sync is judged on; code without a rig reads the
  curve-space proxy :func:`facecraft.audio2face.lip_state.lip_gap` (``jawOpen - mouthClose`` plus the
  lip-parting channels, weighted by how far they open these rigs' lips against the jaw);
* **bilabial closure rate**: the fraction of /p b m/ phones during which the lips close, i.e. the gap
  falls below ``closed_mm`` in at least one frame of the phone (a phone shorter than one frame still gets
  its nearest frame);
* **open-vowel opening**: the mean of the maximum gap inside each open vowel (/aa ae ah ao aw ay/), in mm,
  and the fraction of those vowels opening more than ``open_mm``. A face that never opens closes
  perfectly, so closure is always reported with opening;
* **gap-phone correlation**: Pearson r over frames between the gap and the opening the phones ask for (each
  phone's viseme ``jawOpen`` target, :func:`phone_opening`; 0 in silences): does the mouth open and close with
  the speech, not only at its closures and open vowels;
* **LVE** (lip vertex error, as in FaceFormer/VOCA): the mean over frames of the maximal L2 error among the
  rig's lip-region vertices between two animations, in mm.

Phones are :class:`facecraft.audio2face.phonetics.Phone`-like objects (``start``, ``end`` seconds,
``phone`` ARPAbet) — from forced alignment with the transcript for evaluation.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from facecraft.rigs import ARKIT_INDEX, NUM_ARKIT, BlendshapeRig
from facecraft.rigs.errors import ParameterError
from facecraft.rigs.stats import pearson

from .visemes import BILABIALS, OPEN_VOWELS, PHONE_JAW_SCALE, normalize_phone, phone_to_viseme, viseme_pose

CLOSED_MM = 1.5
OPEN_MM = 3.0


def _rig_weights(rig: BlendshapeRig, curves: np.ndarray) -> torch.Tensor:
    c = np.asarray(curves, np.float32)
    if c.ndim != 2 or c.shape[1] != NUM_ARKIT:
        raise ParameterError(f"curves: expected (T, {NUM_ARKIT}), got {c.shape}")
    return torch.from_numpy(c) @ rig.arkit_matrix()


def inner_lip_gap(rig: BlendshapeRig, curves: np.ndarray, *, chunk: int = 2048, relative: bool = False) -> np.ndarray:
    """Inner-lip gap ``(T,)`` in metres of ``rig`` driven by ARKit ``curves`` (T, 52).

    The vertical distance ``upper_lip_inner.y - lower_lip_inner.y``: about 0 when the lips touch, negative
    when they overlap. Closure is judged on this absolute gap (a rig whose lips rest apart, such as the
    default rig, must really seal them). ``relative=True`` subtracts the rig's neutral gap instead.
    """
    up, lo = rig.point_index("upper_lip_inner"), rig.point_index("lower_lip_inner")
    w = _rig_weights(rig, curves)
    out = []
    with torch.no_grad():
        base = rest_gap(rig) if relative else 0.0
        for i in range(0, len(w), chunk):
            pts = rig(w[i : i + chunk]).points
            out.append((pts[:, up, 1] - pts[:, lo, 1]).numpy() - base)
    return np.concatenate(out) if out else np.zeros(0, np.float32)


def rest_gap(rig: BlendshapeRig) -> float:
    """The neutral inner-lip gap of ``rig`` in metres (0.5 mm for the default rig, 0.8 mm for ICT FaceKit)."""
    up, lo = rig.point_index("upper_lip_inner"), rig.point_index("lower_lip_inner")
    with torch.no_grad():
        p = rig.neutral_points()
    return float(p[up, 1] - p[lo, 1])


def _phone_frames(phone, fps: float, num_frames: int) -> np.ndarray:
    a = int(np.floor(phone.start * fps))
    b = int(np.ceil(phone.end * fps))
    idx = np.arange(max(0, a), min(num_frames, max(b, a + 1)))
    if len(idx) == 0:
        idx = np.array([min(num_frames - 1, max(0, int(round((phone.start + phone.end) / 2 * fps))))])
    return idx


def _base(phone: str) -> str:
    return "".join(ch for ch in str(phone).upper() if ch.isalpha())


def phone_opening(phones: Sequence, *, fps: float, num_frames: int) -> np.ndarray:
    """``(T,)`` the jaw opening the phones ask for, frame by frame: each phone's viseme ``jawOpen`` target (reduced
    vowels scaled by :data:`~facecraft.audio2face.visemes.PHONE_JAW_SCALE`), 0 in silences and between phones."""
    out = np.zeros(num_frames, np.float64)
    jaw = ARKIT_INDEX["jawOpen"]
    for p in phones:
        name = normalize_phone(p.phone)
        target = float(viseme_pose(phone_to_viseme(name))[jaw]) * PHONE_JAW_SCALE.get(name, 1.0)
        out[_phone_frames(p, fps, num_frames)] = target
    return out


@dataclass
class LipSyncScores:
    """Closure rate (0-1) over ``num_bilabials`` phones; opening over ``num_open_vowels``; gaps in mm;
    ``gap_phone_r`` the gap's correlation with :func:`phone_opening` over ``num_frames`` frames (NaN when either
    does not move)."""

    closure_rate: float
    num_bilabials: int
    open_vowel_mean_mm: float
    open_vowel_rate: float
    num_open_vowels: int
    gap_phone_r: float
    num_frames: int

    def as_dict(self) -> dict:
        return dict(vars(self))


def lip_sync_scores(
    gap_m: np.ndarray,
    phones: Sequence,
    *,
    fps: float,
    closed_mm: float = CLOSED_MM,
    open_mm: float = OPEN_MM,
    rest_m: float = 0.0,
) -> LipSyncScores:
    """Closure of /p b m/ and opening of open vowels from an absolute gap track ``(T,)`` metres and timed phones.

    A /p b m/ is closed when its smallest gap is below ``closed_mm``; an open vowel opens when its largest
    gap exceeds the rig's rest gap ``rest_m`` by ``open_mm``. ``open_vowel_mean_mm`` is the mean of the
    per-vowel largest gaps (absolute).
    """
    gap_mm = np.asarray(gap_m, np.float64) * 1000.0
    t = len(gap_mm)
    if t == 0:
        raise ParameterError("lip_sync_scores: empty gap track")
    closed, opened, peak = [], [], []
    for p in phones:
        name = _base(p.phone)
        if name in BILABIALS:
            closed.append(bool(gap_mm[_phone_frames(p, fps, t)].min() < closed_mm))
        elif name in OPEN_VOWELS:
            m = float(gap_mm[_phone_frames(p, fps, t)].max())
            peak.append(m)
            opened.append(m - rest_m * 1000.0 > open_mm)
    return LipSyncScores(
        closure_rate=float(np.mean(closed)) if closed else float("nan"),
        num_bilabials=len(closed),
        open_vowel_mean_mm=float(np.mean(peak)) if peak else float("nan"),
        open_vowel_rate=float(np.mean(opened)) if opened else float("nan"),
        num_open_vowels=len(opened),
        gap_phone_r=pearson(gap_mm, phone_opening(phones, fps=fps, num_frames=t)),
        num_frames=t,
    )


def score_lip_sync(rig: BlendshapeRig, curves: np.ndarray, phones: Sequence, *, fps: float, **options) -> LipSyncScores:
    """:func:`lip_sync_scores` of ``curves`` driving ``rig`` (gap and rest gap computed here)."""
    return lip_sync_scores(inner_lip_gap(rig, curves), phones, fps=fps, rest_m=rest_gap(rig), **options)


def lip_vertex_indices(rig: BlendshapeRig, *, radius: float | None = None) -> np.ndarray:
    """Vertices of the lip region: within ``radius`` (default 0.35 x mouth width) of the lip centre points."""
    names = ("mouth_corner_l", "mouth_corner_r", "upper_lip_center", "lower_lip_center")
    with torch.no_grad():
        out = rig(torch.zeros(1, rig.num_shapes))
    pts = out.points[0].numpy()
    idx = [rig.point_index(n) for n in names]
    width = float(np.linalg.norm(pts[idx[0]] - pts[idx[1]]))
    centre = pts[idx].mean(0)
    r = radius if radius is not None else 0.35 * width
    v = out.vertices[0].numpy()
    sel = np.nonzero(np.linalg.norm(v - centre, axis=1) < max(r, 1e-6) + 0.5 * width)[0]
    # keep the ones near the lip line (not the chin or the nose): within r vertically of the centre
    sel = sel[np.abs(v[sel, 1] - centre[1]) < r]
    if len(sel) == 0:
        raise ParameterError(f"{rig.name}: no lip vertices found around the mouth points")
    return sel


def lip_vertex_error(rig: BlendshapeRig, pred: np.ndarray, target: np.ndarray, *, chunk: int = 1024) -> float:
    """LVE in mm: mean over frames of the max L2 error over lip vertices (curves (T, 52) each, same T)."""
    p, q = np.asarray(pred, np.float32), np.asarray(target, np.float32)
    if p.shape != q.shape:
        raise ParameterError(f"lip_vertex_error: shapes differ, pred {p.shape} vs target {q.shape}")
    lips = torch.from_numpy(lip_vertex_indices(rig))
    deltas = rig.deltas[:, lips]  # (K, L, 3)
    wp, wq = _rig_weights(rig, p), _rig_weights(rig, q)
    errs = []
    with torch.no_grad():
        for i in range(0, len(wp), chunk):
            d = torch.einsum("tk,klc->tlc", wp[i : i + chunk] - wq[i : i + chunk], deltas)
            errs.append(torch.linalg.norm(d, dim=-1).amax(-1))
    return float(torch.cat(errs).mean()) * 1000.0 if errs else float("nan")


def mouth_curve_difference(a: np.ndarray, b: np.ndarray) -> float:
    """Mean absolute difference of the speech channels (jaw, lips) of two curve sets (T, 52), in weight units."""
    from facecraft.rigs.emotion_space import region_mask

    m = region_mask("speech")
    t = min(len(a), len(b))
    return float(np.abs(np.asarray(a)[:t, m] - np.asarray(b)[:t, m]).mean())
