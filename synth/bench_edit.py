"""``facecraft bench edit``: the acceptance figures of the geometric expression editor (issue 16).

Sections, each measured on real photos and, where the issue names one, beside a baseline:

1. *frll truth* - FRLL's neutral photos edited to ``happiness:1.0`` vs the same people's real smiles, and their
   smiling photos edited to ``neutral:1.0`` vs their real neutral ones: correlation of the 52 MediaPipe score
   changes, landmark error around mouth and eyes (face widths, after a similarity on MediaPipe's own pose points),
   identity distances; baseline: the unedited photo.
2. *blendshape response* - ``arkit={control: 0.8}`` on portraits, FRLL's Canada set and the astronaut: did that
   control's score rise most of all 52? Pairs whose photo already shows the control at >= 0.8 are counted apart;
   per control, how much of the drawn landmark motion MediaPipe's landmarks show on the edit (:func:`seen_share`).
3. *robustness* - share of UTKFace crops analysed and edited without error, with the reasons; identity and
   outside pixels on a sample.
4. *emotion hit rate* - portraits edited to six emotions at intensity 1, judged by the FER judges.
5. *identity* / 6. *outside pixels* - over every edit of sections 1-4 (dlib distance < 0.6; pixels beyond 10% of
   the face width outside the face hull changed by at most 2 grey levels: :func:`outside_face_mask`).
7. *speed* - one-core analysis and edit times at 512 x 512, beside the same warp through scikit-image.
8. *contact sheets* - ``edit_emotions.png`` and ``edit_controls.png`` in ``out_dir``.
9. *bad input* - the error each bad input gives, through the API and the CLI's folder mode.

Sections whose shared data is missing report ``"skipped: data not found"``. Figures go to JSON, not here.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import logging
import statistics
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
from tqdm.auto import tqdm

from facecraft.eval.eyewear import wears_glasses
from facecraft.rigs import ARKIT_INDEX, EMOTIONS, resolve_asset
from facecraft.rigs.assets import shared_data_dir
from facecraft.rigs.default_rig import (
    EYE_L_LOWER,
    EYE_L_UPPER,
    EYE_R_LOWER,
    EYE_R_UPPER,
    LIPS_LOWER_INNER,
    LIPS_LOWER_OUTER,
    LIPS_UPPER_INNER,
    LIPS_UPPER_OUTER,
)
from facecraft.rigs.errors import FacecraftError
from facecraft.rigs.machine import load_average, spawn_pool
from facecraft.rigs.sections import run_sections
from facecraft.rigs.stats import pearson

from .calibration import UNMEASURED
from .controls import EditControls
from .editor import AnalyzedFace, EditResult, FaceEdit, FaceEditor, face_crop
from .fit import NUM_MESH_POINTS
from .warp import face_width

logger = logging.getLogger(__name__)

#: The ARKit controls whose response the issue asks for (section 2).
RESPONSE_CONTROLS = (
    "jawOpen", "mouthSmileLeft", "mouthSmileRight", "mouthFrownLeft", "mouthFrownRight", "browInnerUp",
    "browDownLeft", "browDownRight", "browOuterUpLeft", "browOuterUpRight", "eyeBlinkLeft", "eyeBlinkRight",
    "eyeWideLeft", "eyeWideRight", "mouthPucker", "mouthFunnel", "mouthStretchLeft", "mouthStretchRight",
    "noseSneerLeft", "noseSneerRight", "cheekSquintLeft", "cheekSquintRight",
)  # fmt: skip
#: Gaze controls, measured the same way beside the issue's list and reported apart (``gaze``): the editor turns the
#: eyes for them (:mod:`facecraft.synth.gaze`); MediaPipe reads the two eyes' gaze together, so a one-eyed ask also
#: raises the other eye's matching channel.
GAZE_CONTROLS = tuple(f"eyeLook{d}{side}" for d in ("Up", "Down", "In", "Out") for side in ("Left", "Right"))
RESPONSE_WEIGHT = 0.8
#: A photo already showing a control at this score or more cannot show it rising to RESPONSE_WEIGHT.
SATURATED_SCORE = 0.8
#: A control whose MediaPipe score stays below this on every photo, edited or not, cannot be judged by it.
MUTE_SCORE = 0.01
#: Emotions judged in section 4 (the issue's six; contempt and neutral are only in the contact sheet).
HIT_RATE_EMOTIONS = ("happiness", "surprise", "sadness", "anger", "disgust", "fear")
JUDGES = ("mini-xception", "networkv2", "facecraft")
#: Outside-pixel check: pixels farther than this many face widths from the face hull ...
OUTSIDE_MARGIN = 0.10
#: ... may change by at most this many grey levels (per RGB channel).
OUTSIDE_TOLERANCE = 2
SHEET_CONTROLS = (
    "jawOpen", "mouthSmileLeft", "mouthFrownRight", "mouthPucker", "browInnerUp", "browDownLeft",
    "eyeBlinkLeft", "eyeWideRight", "noseSneerLeft", "cheekSquintRight",
)  # fmt: skip
SHEET_CROP = 1.4  # contact-sheet tiles: face box side times this (tighter than face_crop's default 1.8)
SKIPPED = "skipped: data not found"

_MOUTH = sorted(set(LIPS_UPPER_OUTER + LIPS_LOWER_OUTER + LIPS_UPPER_INNER + LIPS_LOWER_INNER))
_EYES = sorted(set(EYE_L_UPPER + EYE_L_LOWER + EYE_R_UPPER + EYE_R_LOWER))
_SCORED = ~UNMEASURED  # MediaPipe has no tongueOut score


# ---------------------------------------------------------------------------------------------- outside pixels
def edited_points(edit: FaceEdit, source: np.ndarray) -> np.ndarray:
    """Where an edit moved a face's mesh points ``source`` ``(468, 2)`` pixels (the editor's own offsets)."""
    return source + edit.offsets_px


def outside_face_mask(result: EditResult, shape, *, margin: float = OUTSIDE_MARGIN) -> np.ndarray:
    """Pixels farther than ``margin`` face widths from every edited face's hull: where an edit must not reach.

    The hull of a face is the convex hull of its mesh before the edit (the fitted rig, which reproduces the
    landmarks to a fraction of a pixel) and after it (the same points moved as the editor moves them:
    by the rig's offsets from ``weights_before`` to ``weights_after``). The face width is
    :func:`facecraft.synth.warp.face_width` of the points before the edit.

    Parameters
    ----------
    result : EditResult
        An edit (its ``faces`` carry the fitted rigs and the weights before and after).
    shape : tuple
        ``(H, W, ...)`` of the photo.
    margin : float
        Distance from the hull in face widths.

    Returns
    -------
    np.ndarray
        ``(H, W)`` bool, True far from every edited face.
    """
    h, w = int(shape[0]), int(shape[1])
    outside = np.ones((h, w), bool)
    for f in result.faces:
        before = f.fit.project(f.fit.vertices(f.fit.weights))
        after = edited_points(f, before)
        hull = cv2.convexHull(np.round(np.concatenate([before, after])).astype(np.int32))
        free = np.ones((h, w), np.uint8)
        cv2.fillPoly(free, [hull[:, 0]], 0)
        dist = cv2.distanceTransform(free, cv2.DIST_L2, 5)
        outside &= dist > margin * face_width(before)
    return outside


def outside_change(before: np.ndarray, result: EditResult, *, margin: float = OUTSIDE_MARGIN) -> tuple[int, int]:
    """``(max change in grey levels over the RGB channels, number of pixels checked)`` outside the faces.

    See :func:`outside_face_mask`; an image whose faces fill it has no pixel to check (``(0, 0)``).
    """
    far = outside_face_mask(result, before.shape, margin=margin)
    diff = np.abs(result.image.astype(np.int16) - before.astype(np.int16)).max(-1)
    return int(diff[far].max(initial=0)), int(far.sum())


# ---------------------------------------------------------------------------------------------- shared context
@dataclass
class Photo:
    """A photo analysed once: its pixels, faces and (lazily) its dlib descriptor."""

    name: str
    image: np.ndarray
    faces: list[AnalyzedFace]
    descriptor: np.ndarray | None = None


@dataclass
class EditRecord:
    """One measured edit (sections 5 and 6 aggregate these)."""

    section: str
    photo: str
    control: str
    intensity: float
    identity: float | None  # dlib distance to the source photo; None when dlib found no face
    outside_max: int
    outside_pixels: int
    edit_ms: float


@dataclass
class BenchContext:
    """Models loaded once for the whole benchmark, and every measured edit."""

    editor: FaceEditor
    identity_judge: object = None
    records: list[EditRecord] = field(default_factory=list)

    @property
    def analyzer(self):
        return self.editor.analyzer

    def photo(self, image: np.ndarray, name: str) -> Photo:
        return Photo(name, image, self.editor.analyze(image, name=name))

    def descriptor(self, image: np.ndarray, name: str) -> np.ndarray | None:
        if self.identity_judge is None:
            from facecraft.eval.identity import IdentityJudge

            self.identity_judge = IdentityJudge()
        try:
            return self.identity_judge.descriptor(image, name=name)
        except FacecraftError as e:
            logger.info("identity: %s", e)
            return None

    def distance(self, a: np.ndarray | None, b: np.ndarray | None) -> float | None:
        if a is None or b is None:
            return None
        return float(np.linalg.norm(a.astype(np.float64) - b.astype(np.float64)))

    def measure(
        self, section: str, photo: Photo, control: str, intensity: float, result: EditResult, *, descriptor=None
    ) -> EditRecord:
        """Identity distance to the source and the outside-pixel change of one edit; kept for sections 5-6.

        ``descriptor``: the edited photo's dlib descriptor when the caller already has it."""
        if photo.descriptor is None:
            photo.descriptor = self.descriptor(photo.image, photo.name)
        if descriptor is None:
            descriptor = self.descriptor(result.image, f"{photo.name} [{control}]")
        identity = self.distance(photo.descriptor, descriptor)
        worst, pixels = outside_change(photo.image, result)
        record = EditRecord(section, photo.name, control, intensity, identity, worst, pixels, result.edit_ms)
        self.records.append(record)
        return record


def _bar(items, desc: str, **kw):
    return tqdm(items, desc=f"bench edit: {desc}", leave=False, **kw)


def _median(values) -> float | None:
    v = [x for x in values if x is not None and np.isfinite(x)]
    return float(np.median(v)) if v else None


def _mean(values) -> float | None:
    v = [x for x in values if x is not None and np.isfinite(x)]
    return float(np.mean(v)) if v else None


def _share(flags) -> float | None:
    f = list(flags)
    return float(np.mean(f)) if f else None


def _skip(item: str, error: Exception) -> dict:
    """A skip record; errors that are not facecraft's own are bugs of the measured code, marked so."""
    if isinstance(error, FacecraftError):
        return {"item": item, "reason": str(error), "kind": type(error).__name__}
    logger.warning("bench edit: %s: unexpected %s: %s", item, type(error).__name__, error)
    return {"item": item, "reason": str(error)[:300], "kind": f"unexpected {type(error).__name__}"}


def _load(path: Path) -> np.ndarray:
    from facecraft.eval.images import load_image

    return load_image(path)


def _images(folder: Path) -> list[Path]:
    return sorted(p for p in folder.glob("*") if p.suffix.lower() in (".jpg", ".jpeg", ".png"))


# ---------------------------------------------------------------------------------------------- 1. FRLL truth
def _corr(a: np.ndarray, b: np.ndarray) -> float:
    return pearson(a[_SCORED], b[_SCORED])  # NaN for a vector that does not move


def _aligned(points: np.ndarray, onto: np.ndarray) -> np.ndarray:
    """``points`` ``(478, 3)`` mapped onto ``onto`` by the similarity that best aligns MediaPipe's own pose points
    (:attr:`CanonicalMesh.procrustes_ids`, weighted): a different head position between two shots does not count."""
    from facecraft.eval.face_geometry import similarity_fit
    from facecraft.rigs.mediapipe_mesh import canonical_mesh

    mesh = canonical_mesh()
    ids = np.asarray(mesh.procrustes_ids)
    p, t = np.asarray(onto, np.float64), np.asarray(points, np.float64)
    s, r, tr = similarity_fit(t[ids], p[ids], mesh.procrustes_weights)
    return s * t @ r.T + tr


def landmark_motion(points: np.ndarray, base: np.ndarray) -> np.ndarray:
    """``(478, 2)`` how far each landmark of ``points`` lies from where it is in ``base`` (both ``(478, 3)``), after
    :func:`_aligned`, in face widths of ``base``: x toward the image's right, y down."""
    b = np.asarray(base, np.float64)
    return (_aligned(points, b)[:, :2] - b[:, :2]) / face_width(b[:NUM_MESH_POINTS, :2])


#: Mesh points whose drawn motion is at least this share of the largest one count in :func:`seen_share`.
SEEN_FROM = 0.25


def seen_share(drawn: np.ndarray, before: np.ndarray, after: np.ndarray) -> float | None:
    """How much of an edit's drawn motion MediaPipe's landmarks show when the edited photo is analysed again.

    ``drawn`` ``(468, 2)``: pixels each mesh point was moved (:attr:`FaceEdit.offsets_px`); ``before`` and ``after``
    ``(468+, 2+)``: the landmarks of the photo and of its edit (same camera and head: no alignment). The projection of
    the seen motion on the drawn one over the points that moved most (at least :data:`SEEN_FROM` of the largest
    motion): 1 when the landmarks follow the warp, 0 when they stay. None when nothing moved by half a pixel.
    A blendshape score reads the landmarks, not the pixels: a control whose edit is drawn but not seen cannot rise.
    """
    d = np.asarray(drawn, np.float64)[:NUM_MESH_POINTS, :2]
    seen = (np.asarray(after, np.float64) - np.asarray(before, np.float64))[:NUM_MESH_POINTS, :2]
    size = np.linalg.norm(d, axis=1)
    if size.max(initial=0.0) < 0.5:
        return None
    moved = size >= SEEN_FROM * size.max()
    return float((seen[moved] * d[moved]).sum() / (d[moved] ** 2).sum())


def region_errors(points: np.ndarray, truth: np.ndarray) -> dict[str, float]:
    """Mean landmark distance around the mouth and the eyes, in face widths of ``points``.

    ``truth`` ``(478, 3)`` is first mapped onto ``points`` ``(478, 3)`` (pixels, MediaPipe depth) by
    :func:`_aligned`; distances are measured in the image plane (:func:`landmark_motion`).
    """
    err = np.linalg.norm(landmark_motion(truth, points), axis=1)
    return {
        "mouth": float(err[_MOUTH].mean()),
        "eyes": float(err[_EYES].mean()),
        "both": float(err[_MOUTH + _EYES].mean()),
    }


def truth_pair(
    ctx: BenchContext, source: Photo, truth: Photo, *, controls: str, motions: dict[str, tuple[int, ...]] | None = None
) -> dict:
    """Edit ``source`` with ``controls`` and compare the edit and the unedited photo with the real ``truth``.

    ``source`` and ``truth`` are the same person in two expressions (FRLL: neutral and smiling). Returns per-pair
    figures for the edit and the trivial baseline (``source`` itself): ``corr`` of the 51 scored MediaPipe changes
    (edit vs real; NaN for the baseline, whose scores do not change), ``score_mae`` (mean absolute score difference
    to the truth), ``mouth`` / ``eyes`` / ``both`` landmark errors (face widths, :func:`region_errors`), identity
    distances to the truth and to the source photo. ``motions`` (name: landmark ids) adds ``motion``: the mean
    :func:`landmark_motion` of those landmarks from the source, edit's and real, ``[x, y]`` face widths.
    """
    real = truth.faces[0].info
    result = ctx.editor.apply(source.image, source.faces, EditControls.from_args(emotion=controls), face=0)
    d_edit = ctx.descriptor(result.image, f"{source.name} (edited)")
    record = ctx.measure("frll", source, controls, 1.0, result, descriptor=d_edit)
    edited = ctx.analyzer.largest_face(result.image, name=f"{source.name} (edited)")
    base = source.faces[0].info
    real_change = real.blendshapes - base.blendshapes
    edit_err, base_err = region_errors(edited.landmarks, real.landmarks), region_errors(base.landmarks, real.landmarks)
    if truth.descriptor is None:
        truth.descriptor = ctx.descriptor(truth.image, truth.name)
    row: dict = {
        "person": Path(source.name).stem,
        "edit": {
            "corr": _corr(edited.blendshapes - base.blendshapes, real_change),
            "score_mae": float(np.abs(edited.blendshapes - real.blendshapes)[_SCORED].mean()),
            **edit_err,
            "identity_vs_truth": ctx.distance(d_edit, truth.descriptor),
            "identity_vs_source": record.identity,
        },
        "baseline": {
            "corr": _corr(np.zeros_like(real_change), real_change),
            "score_mae": float(np.abs(base.blendshapes - real.blendshapes)[_SCORED].mean()),
            **base_err,
            "identity_vs_truth": ctx.distance(source.descriptor, truth.descriptor),
            "identity_vs_source": 0.0,
        },
    }
    if motions:
        moved = {
            "edit": landmark_motion(edited.landmarks, base.landmarks),
            "real": landmark_motion(real.landmarks, base.landmarks),
        }
        row["motion"] = {
            who: {name: m[list(ids)].mean(0).tolist() for name, ids in motions.items()} for who, m in moved.items()
        }
    return row


#: The two directions section 1 measures: (source folder, truth folder, controls).
FRLL_DIRECTIONS: tuple[tuple[str, str, str], ...] = (
    ("neutral", "smiling", "happiness:1.0"),
    ("smiling", "neutral", "neutral:1.0"),
)


def section_frll(ctx: BenchContext, data: Path, *, quick: bool) -> dict:
    """Both directions of :data:`FRLL_DIRECTIONS`: the forward one (a smile added) at the top level, as before, the
    reverse one (a real smile taken away, what every edit of a smiling photo starts with) under ``"reverse"``."""
    folder = data / "faces-frll"
    if not (folder / "neutral").is_dir() or not (folder / "smiling").is_dir():
        return {"status": SKIPPED, "folder": str(folder)}
    people = [p for p in _images(folder / "neutral") if (folder / "smiling" / p.name).is_file()]
    people = people[:12] if quick else people
    rows: dict[str, list[dict]] = {controls: [] for _, _, controls in FRLL_DIRECTIONS}
    skipped: dict[str, list[dict]] = {controls: [] for _, _, controls in FRLL_DIRECTIONS}
    for path in _bar(people, "frll truth"):
        try:
            photos = {
                kind: ctx.photo(_load(folder / kind / path.name), f"{kind}/{path.name}")
                for kind in ("neutral", "smiling")
            }
        except Exception as e:  # noqa: BLE001 - one failing photo is reported, not fatal
            for controls in rows:
                skipped[controls].append(_skip(path.name, e))
            continue
        for source, truth, controls in FRLL_DIRECTIONS:
            try:
                rows[controls].append(truth_pair(ctx, photos[source], photos[truth], controls=controls))
            except Exception as e:  # noqa: BLE001
                skipped[controls].append(_skip(f"{source}/{path.name}", e))
    tuned = _calibration_photos(ctx.editor)
    summaries = []
    for source, truth, controls in FRLL_DIRECTIONS:
        for r in rows[controls]:
            r["calibration_photo"] = f"{source}/{r['person']}.jpg" in tuned
        held_out = [r for r in rows[controls] if not r["calibration_photo"]]
        summaries.append(
            {
                "people": len(people),
                "compared": len(rows[controls]),
                "skipped": skipped[controls],
                "controls": controls,
                "source": source,
                "truth": truth,
                **_frll_summary(rows[controls]),
                "held_out": {
                    "note": "people whose photos the editor's calibration was not fitted on (its meta['photos'])",
                    "people": len(held_out),
                    **_frll_summary(held_out),
                },
                "per_person": rows[controls],
            }
        )
    forward, reverse = summaries
    return {**forward, "reverse": reverse}


def _calibration_photos(editor: FaceEditor) -> set[str]:
    """FRLL photos (``neutral/NNN.jpg``, ...) the editor's calibration was fitted on, if it says."""
    meta = getattr(getattr(editor, "calibration", None), "meta", None) or {}
    return {str(p) for p in meta.get("photos", [])}


def _frll_summary(rows: list[dict]) -> dict:
    out: dict = {}
    for who in ("edit", "baseline"):
        out[who] = {
            key: {"median": _median(r[who][key] for r in rows), "mean": _mean(r[who][key] for r in rows)}
            for key in ("corr", "score_mae", "mouth", "eyes", "both", "identity_vs_truth", "identity_vs_source")
        }
    out["edit_corr_positive_share"] = _share(r["edit"]["corr"] > 0 for r in rows if np.isfinite(r["edit"]["corr"]))
    out["edit_better_mouth_share"] = _share(r["edit"]["mouth"] < r["baseline"]["mouth"] for r in rows)
    out["edit_better_eyes_share"] = _share(r["edit"]["eyes"] < r["baseline"]["eyes"] for r in rows)
    return out


# ---------------------------------------------------------------------------------------------- 2. response
def control_response(
    ctx: BenchContext, photo: Photo, control: str, *, weight: float = RESPONSE_WEIGHT, measure: bool = True
) -> dict:
    """Edit ``photo``'s largest face with ``arkit={control: weight}`` and judge the MediaPipe score rises.

    ``success``: the control's score rose and its rise is the largest of the 52
    (:class:`facecraft.eval.blendshape_response.BlendshapeResponse`); ``saturated``: the photo already shows
    the control at :data:`SATURATED_SCORE` or more. ``measure``: the edit counts in the identity and outside-pixel
    figures too.
    """
    from facecraft.eval.blendshape_response import BlendshapeResponse

    before = photo.faces[0].info.blendshapes
    result = ctx.editor.apply(photo.image, photo.faces, EditControls.from_args(arkit={control: weight}), face=0)
    if measure:
        ctx.measure("response", photo, f"{control}={weight}", weight, result)
    edited = ctx.analyzer.largest_face(result.image, name=f"{photo.name} [{control}]")
    resp = BlendshapeResponse.from_scores(before, edited.blendshapes, control, name=photo.name)
    seen = seen_share(result.faces[0].offsets_px, photo.faces[0].info.landmarks, edited.landmarks)
    return {
        "photo": Path(photo.name).name,
        "control": control,
        "before": round(float(before[ARKIT_INDEX[control]]), 4),
        "rise": round(resp.rise, 4),
        "largest": resp.largest_rise_name,
        "largest_rise": round(resp.largest_rise, 4),
        "success": resp.target_is_largest,
        "saturated": bool(before[ARKIT_INDEX[control]] >= SATURATED_SCORE),
        "seen": None if seen is None else round(seen, 3),
    }


def response_per_control(rows: list[dict], controls) -> dict[str, dict]:
    """Per control, the figures of its :func:`control_response` rows: pairs, success (also without the saturated
    photos), mean rise, share that rose, the most common wrong largest rise, the highest score, and the median share
    of the drawn landmark motion MediaPipe's landmarks show (:func:`seen_share`)."""
    per_control = {}
    for c in controls:
        rc = [r for r in rows if r["control"] == c]
        fc = [r for r in rc if not r["saturated"]]
        wrong = Counter(r["largest"] for r in rc if not r["success"])
        per_control[c] = {
            "pairs": len(rc),
            "success": _share(r["success"] for r in rc),
            "saturated": sum(r["saturated"] for r in rc),
            "success_unsaturated": _share(r["success"] for r in fc),
            "mean_rise": _mean(r["rise"] for r in rc),
            "rose": _share(r["rise"] > 0 for r in rc),
            "most_common_wrong_largest": wrong.most_common(1)[0][0] if wrong else None,
            "score_max": max((max(r["before"], r["before"] + r["rise"]) for r in rc), default=None),
            "seen_median": _median(r.get("seen") for r in rc),
        }
    return per_control


def section_response(
    ctx: BenchContext, data: Path, *, quick: bool, controls=RESPONSE_CONTROLS, gaze=GAZE_CONTROLS
) -> dict:
    sources = {"astronaut": [resolve_asset("astronaut")]}
    missing = []
    for key, folder in (("portraits", data / "portraits"), ("frll-canada", data / "faces-frll" / "canada")):
        if folder.is_dir():
            sources[key] = _images(folder)[: 4 if quick else None]
        else:
            missing.append(str(folder))
    rows, gaze_rows, skipped = [], [], []
    jobs = [(key, Path(p)) for key, paths in sources.items() for p in paths]
    for key, path in _bar(jobs, "blendshape response", unit="photo"):
        try:
            photo = ctx.photo(_load(path), str(path))
        except Exception as e:  # noqa: BLE001 - one failing photo is reported, not fatal
            skipped.append(_skip(str(path), e))
            continue
        for control in (*controls, *gaze):
            try:
                # the gaze edits stay out of the identity and outside-pixel figures (comparable with earlier runs)
                row = {"set": key, **control_response(ctx, photo, control, measure=control not in gaze)}
            except Exception as e:  # noqa: BLE001 - one failing edit is reported, not fatal
                skipped.append(_skip(f"{path} [{control}]", e))
                continue
            (gaze_rows if control in gaze else rows).append(row)
    fresh = [r for r in rows if not r["saturated"]]
    per_control = response_per_control(rows, controls)
    # MediaPipe's blendshape model gives some channels (noseSneer*, cheekSquint*) a score of ~0 on every photo,
    # edited or not: there the judge, not the edit, decides the outcome.
    mute = sorted(c for c, v in per_control.items() if v["score_max"] is not None and v["score_max"] < MUTE_SCORE)
    return {
        "weight": RESPONSE_WEIGHT,
        "photos": {k: len(v) for k, v in sources.items()},
        "missing": [f"{m}: {SKIPPED}" for m in missing],
        "pairs": len(rows),
        "success": _share(r["success"] for r in rows),
        "saturated_pairs": len(rows) - len(fresh),
        "saturated_note": f"photo already shows the control at >= {SATURATED_SCORE}: its score cannot rise to "
        f"{RESPONSE_WEIGHT}; counted in 'success', excluded from 'success_unsaturated'",
        "success_unsaturated": _share(r["success"] for r in fresh),
        "per_set": {k: _share(r["success"] for r in rows if r["set"] == k) for k in sources},
        "judge_mute_controls": mute,
        "judge_mute_note": f"MediaPipe scored these below {MUTE_SCORE} on every photo before and after the edit",
        "success_judgeable": _share(r["success"] for r in rows if r["control"] not in mute),
        # The most 'success' could be with every edit perfect: a mute control never rises, and a saturated
        # photo's score has no room to rise (none of them has succeeded in any bench run so far).
        "attainable": _share(r["control"] not in mute for r in rows),
        "attainable_unsaturated": _share(r["control"] not in mute and not r["saturated"] for r in rows),
        "success_attainable": _share(r["success"] for r in rows if r["control"] not in mute and not r["saturated"]),
        "attainable_note": "share of pairs that could succeed at all: 'attainable' leaves out the mute controls' "
        "pairs, 'attainable_unsaturated' the saturated pairs too, 'success_attainable' is the success among those "
        "(MediaPipe's blendshape model keeps noseSneer and eyeWide near 0 on real faces as well: "
        "google-ai-edge/mediapipe issues 4450 and 4436; per control, 'seen_median' is the share of the drawn "
        "landmark motion MediaPipe's landmarks show)",
        "per_control": per_control,
        "gaze": {
            "pairs": len(gaze_rows),
            "success": _share(r["success"] for r in gaze_rows),
            "note": "eyeLook* controls, measured as above, not in the figures above",
            "per_control": response_per_control(gaze_rows, gaze),
        },
        "skipped": skipped,
        "per_pair": rows + gaze_rows,
    }


# ---------------------------------------------------------------------------------------------- 3. robustness
_WORKER: dict[str, BenchContext] = {}


def _worker_start() -> None:
    """Process-pool initializer: one editor per worker process (MediaPipe graphs are not shared), one
    OpenCV thread each (the workers already use the cores)."""
    cv2.setNumThreads(1)
    _WORKER["ctx"] = BenchContext(FaceEditor())


def _worker_item(job: tuple[str, str, bool]) -> dict:
    return robust_item(_WORKER["ctx"], Path(job[0]), job[1], measure=job[2])


def robust_item(ctx: BenchContext, path: Path, emotion: str, *, measure: bool) -> dict:
    """Load, analyse and edit one photo to ``emotion``; every failure, bugs included, becomes a reason.

    Returns ``{"ok", "kind", "message", "analysis_ms", "faces", "record"}``; ``record`` (an
    :class:`EditRecord` with identity and outside pixels) only when ``measure`` and the edit went through.
    """
    t0 = time.perf_counter()
    try:
        photo = ctx.photo(_load(path), str(path))
        analysis_ms = (time.perf_counter() - t0) * 1e3
        result = ctx.editor.apply(photo.image, photo.faces, EditControls.from_args(emotion=emotion))
    except Exception as e:  # noqa: BLE001 - a robustness test counts every failure, bugs included
        kind = type(e).__name__ if isinstance(e, FacecraftError) else f"unexpected {type(e).__name__}"
        return {"ok": False, "kind": kind, "message": f"{path.name}: {e}"[:300]}
    record = ctx.measure("robustness", photo, emotion, 1.0, result) if measure else None
    glasses = wears_glasses(photo.image, photo.faces[0].info.landmarks[:, :2]) if photo.faces else None
    return {"ok": True, "analysis_ms": analysis_ms, "faces": len(photo.faces), "record": record, "glasses": glasses}


#: UTKFace crops of the seed-0 draw whose identity and outside pixels section 3 measures; the editor is tuned on the
#: crops after them (:mod:`facecraft.synth.bench_edit_tuning`).
UTK_SAMPLE = 500


def utk_order(count: int) -> np.ndarray:
    """The order UTKFace's ``count`` sorted crops are drawn in (seed 0): the bench measures the first ones, the
    editor is tuned on the crops after its sample (:mod:`facecraft.synth.bench_edit_tuning`)."""
    return np.random.default_rng(0).permutation(count)


def section_robustness(
    ctx: BenchContext,
    data: Path,
    *,
    quick: bool,
    workers: int = 2,
    limit: int | None = None,
    progress: Callable[[dict], None] | None = None,
    every: int = 500,
) -> dict:
    """UTKFace crops (all 6,000; quick: 300, drawn with seed 0): analysed and edited without error? Identity
    and outside pixels on the first 500 (quick: 50). ``workers`` > 1 runs the photos in that many processes
    (``spawn``: a script calling this must guard its top level with ``if __name__ == "__main__":``).
    ``limit`` caps the number of crops (the same seed-0 draw, cut short) when time is short. ``progress``, when
    given, receives the summary of the crops done so far every ``every`` crops (a long run that is stopped
    keeps them)."""
    folder = data / "faces-utk" / "images"
    if not folder.is_dir():
        return {"status": SKIPPED, "folder": str(folder)}
    files = _images(folder)
    available = len(files)
    files = [files[i] for i in utk_order(available)[: 300 if quick else limit]]
    sample = 50 if quick else UTK_SAMPLE
    jobs = [(str(p), f"{HIT_RATE_EMOTIONS[i % len(HIT_RATE_EMOTIONS)]}:1.0", i < sample) for i, p in enumerate(files)]
    rows: list[dict] = []

    def collect(results) -> None:
        for row in _bar(results, "robustness (UTKFace)", total=len(jobs)):
            rows.append(row)
            if progress is not None and len(rows) % every == 0 and len(rows) < len(jobs):
                progress(_robust_summary(rows, len(rows), available, sample, workers))

    if workers > 1:
        with spawn_pool(workers, initializer=_worker_start) as pool:
            collect(pool.map(_worker_item, jobs, chunksize=8))
    else:
        collect(robust_item(ctx, Path(p), e, measure=m) for p, e, m in jobs)
    ctx.records.extend(r["record"] for r in rows if r.get("record") is not None)
    return _robust_summary(rows, len(files), available, sample, workers)


def _robust_summary(rows: list[dict], photos: int, available: int, sample: int, workers: int) -> dict:
    """The robustness figures of the crops in ``rows`` (of ``photos`` drawn from ``available``)."""
    reasons = Counter(r["kind"] for r in rows if not r["ok"])
    examples: dict[str, list[str]] = {}
    for r in rows:
        if not r["ok"] and len(examples.setdefault(r["kind"], [])) < 3:
            examples[r["kind"]].append(r["message"])
    recs = [r["record"] for r in rows if r.get("record") is not None]
    ids = [r.identity for r in recs]
    by_eyewear = {}  # faces with glasses apart (facecraft.eval.eyewear): the lids also repaint eyes behind a lens
    for kind, flag in (("glasses", True), ("no_glasses", False)):
        d = [r["record"].identity for r in rows if r.get("record") is not None and r.get("glasses") is flag]
        d = [x for x in d if x is not None]
        by_eyewear[kind] = {"measured": len(d), "identity_below_0.6": _share(x < 0.6 for x in d)}
    checked = [r for r in recs if r.outside_pixels > 0]
    analysis = [r["analysis_ms"] for r in rows if r["ok"]]
    ok = sum(r["ok"] for r in rows)
    return {
        "photos": photos,
        "done": len(rows),
        "of_available": available,
        "analysed_and_edited": ok,
        "share_ok": ok / max(len(rows), 1),
        "errors": dict(reasons.most_common()),
        "error_examples": examples,
        "controls": "emotions in turn: " + ", ".join(f"{e}:1.0" for e in HIT_RATE_EMOTIONS),
        "analysis_ms": {
            "median": _median(analysis),
            "p95": float(np.percentile(analysis, 95)) if analysis else None,
            "max": max(analysis, default=None),
            "note": f"wall time with {workers} worker process(es) sharing the machine",
        },
        "sample": {
            "requested": sample,
            "edited": len(recs),
            "identity_measured": sum(d is not None for d in ids),
            "identity_below_0.6": _share(d < 0.6 for d in ids if d is not None),
            "identity_median": _median(ids),
            "identity_by_eyewear": by_eyewear,
            "outside_checked": len(checked),
            "outside_no_pixels_to_check": len(recs) - len(checked),
            "outside_within_tolerance": _share(r.outside_max <= OUTSIDE_TOLERANCE for r in checked),
            "outside_max": max((r.outside_max for r in checked), default=None),
        },
    }


# ---------------------------------------------------------------------------------------------- 4. hit rate
def _judges() -> tuple[dict, dict]:
    from facecraft.eval.judges import get_judge

    ready, unavailable = {}, {}
    for name in JUDGES:
        try:
            ready[name] = get_judge(name)
        except (FacecraftError, ImportError) as e:
            unavailable[name] = f"unavailable: {e}"
    return ready, unavailable


def section_hit_rate(ctx: BenchContext, data: Path, *, quick: bool) -> dict:
    from facecraft.eval.hit_rate import emotion_hit_rate

    folder = data / "portraits"
    if not folder.is_dir():
        return {"status": SKIPPED, "folder": str(folder)}
    paths = _images(folder)[: 4 if quick else None]
    originals, edits, targets, names, skipped = [], [], [], [], []
    for path in _bar(paths, "emotion edits", unit="photo"):
        try:
            photo = ctx.photo(_load(path), str(path))
        except Exception as e:  # noqa: BLE001 - one failing photo is reported, not fatal
            skipped.append(_skip(str(path), e))
            continue
        for emotion in HIT_RATE_EMOTIONS:
            try:
                controls = EditControls.from_args(emotion=f"{emotion}:1.0")
                result = ctx.editor.apply(photo.image, photo.faces, controls, face=0)
            except Exception as e:  # noqa: BLE001 - one failing edit is reported, not fatal
                skipped.append(_skip(f"{path} [{emotion}]", e))
                continue
            ctx.measure("hit_rate", photo, f"{emotion}:1.0", 1.0, result)
            originals.append(photo.image)
            edits.append(result.image)
            targets.append(emotion)
            names.append(f"{path.name} [{emotion}]")
    ready, unavailable = _judges()
    out: dict = {"photos": len(paths), "edits": len(edits), "skipped": skipped, "judges": {}}
    for name in JUDGES:
        if name not in ready:
            out["judges"][name] = unavailable[name]
            continue
        if not edits:
            continue
        edited = emotion_hit_rate(edits, targets, ready[name], names=names)
        unedited = emotion_hit_rate(originals, targets, ready[name], names=names)
        out["judges"][name] = {
            "info": {k: str(v) for k, v in getattr(ready[name], "info", {}).items() if k in ("model", "weights")},
            "edited": {"rate": edited.rate, "per_emotion": edited.per_emotion, "n": edited.n,
                       "skipped": [s.to_dict() for s in edited.skipped]},
            "unedited_baseline": {"rate": unedited.rate, "per_emotion": unedited.per_emotion, "n": unedited.n},
            "confusion_edited": {"labels": list(EMOTIONS), "counts": edited.confusion.tolist()},
        }  # fmt: skip
    return out


# ---------------------------------------------------------------------------------------------- 5-6. aggregates
def section_identity(records: list[EditRecord]) -> dict:
    recs = [r for r in records if r.section in ("frll", "response", "hit_rate") and r.intensity <= 1.0]
    measured = [r for r in recs if r.identity is not None]
    worst = sorted(measured, key=lambda r: -r.identity)[:5]
    by = {s: _share(r.identity < 0.6 for r in measured if r.section == s) for s in ("frll", "response", "hit_rate")}
    return {
        "edits": len(recs),
        "measured": len(measured),
        "not_measured_no_face_for_dlib": len(recs) - len(measured),
        "share_below_0.6": _share(r.identity < 0.6 for r in measured),
        "share_below_0.6_counting_unmeasured_as_fail": (
            sum(r.identity < 0.6 for r in measured) / len(recs) if recs else None
        ),
        "per_section": by,
        "median": _median(r.identity for r in measured),
        "p95": float(np.percentile([r.identity for r in measured], 95)) if measured else None,
        "worst": [{"photo": Path(r.photo).name, "control": r.control, "distance": round(r.identity, 3)} for r in worst],
    }


def section_outside(records: list[EditRecord]) -> dict:
    checked = [r for r in records if r.outside_pixels > 0]
    worst = sorted(checked, key=lambda r: -r.outside_max)[:5]
    return {
        "margin_face_widths": OUTSIDE_MARGIN,
        "tolerance_grey_levels": OUTSIDE_TOLERANCE,
        "edits": len(records),
        "checked": len(checked),
        "no_pixels_to_check": len(records) - len(checked),
        "share_within_tolerance": _share(r.outside_max <= OUTSIDE_TOLERANCE for r in checked),
        "per_section": {
            s: _share(r.outside_max <= OUTSIDE_TOLERANCE for r in checked if r.section == s)
            for s in sorted({r.section for r in checked})
        },
        "max": max((r.outside_max for r in checked), default=None),
        "worst": [{"photo": Path(r.photo).name, "control": r.control, "max_change": r.outside_max} for r in worst],
    }


# ---------------------------------------------------------------------------------------------- 7. speed
@contextlib.contextmanager
def one_core() -> Iterator[None]:
    """OpenCV, torch and BLAS on one thread for the block (MediaPipe's own thread pool is not controllable)."""
    import torch

    from .bench import _one_thread

    cv_threads, torch_threads = cv2.getNumThreads(), torch.get_num_threads()
    cv2.setNumThreads(1)
    torch.set_num_threads(1)
    try:
        with _one_thread():
            yield
    finally:
        cv2.setNumThreads(cv_threads)
        torch.set_num_threads(torch_threads)


def _timed(fn: Callable[[], object], runs: int) -> tuple[list[float], object]:
    ms, out = [], None
    for _ in range(runs):
        t0 = time.perf_counter()
        out = fn()
        ms.append((time.perf_counter() - t0) * 1e3)
    return ms, out


def _time_photo(ctx: BenchContext, image: np.ndarray, name: str, controls, times: dict, *, quick: bool) -> None:
    """Append one photo's analysis, edit, warp-only and scikit-image warp times (ms) to ``times``; ``times["first"]``
    gets its first edit's, which also measures the photo for the repaint steps (:meth:`AnalyzedFace.look`)."""
    from .warp import warp_face, warp_face_skimage

    ms, faces = _timed(lambda: ctx.editor.analyze(image, name=name), 1 if quick else 3)
    times["analysis"] += ms
    times["fit"].append(faces[0].fit.seconds * 1e3)
    src = faces[0].info.landmarks[:NUM_MESH_POINTS, :2].astype(np.float64)
    depth = faces[0].info.landmarks[:NUM_MESH_POINTS, 2]
    for i, ctl in enumerate(controls):
        ms, result = _timed(lambda ctl=ctl: ctx.editor.apply(image, faces, ctl, face=0), 3 if quick else 5)
        times["edit"] += ms
        if i == 0:
            times["first"].append(ms[0])
        dst = edited_points(result.faces[0], src)
        times["warp"] += _timed(lambda dst=dst: warp_face(image, src, dst, depth=depth), 3)[0]
        if i == 0:  # the baseline is slow: one control per photo
            times["skimage"] += _timed(lambda dst=dst: warp_face_skimage(image, src, dst), 1)[0]


#: The large-photo timing: the astronaut's face and what is around it (a square of ``LARGE_VIEW`` face widths)
#: enlarged to ``LARGE_SIZE`` px, her face then about a third of it wide, as in a phone's portrait; each emotion and a
#: blink once.
LARGE_SIZE = 3072
LARGE_VIEW = 3.0
_LARGE_CONTROLS = tuple(f"{e}:1.0" for e in EMOTIONS) + ("eyeBlinkLeft=0.8",)


def _time_large_photo(ctx: BenchContext, *, quick: bool) -> dict:
    """One-core edit times (ms) of a large photo, per control: the painters' blurs and fills scale with the face, so
    a cost that is small at 512 px may not be at phone resolution."""
    small = _load(Path(resolve_asset("astronaut")))
    points = ctx.editor.analyze(small, name="astronaut")[0].info.landmarks[:NUM_MESH_POINTS, :2]
    half = LARGE_VIEW * face_width(points) / 2
    cx, cy = points.mean(0)
    x0, y0 = int(max(cx - half, 0)), int(max(cy - half, 0))
    view = small[y0 : int(min(cy + half, small.shape[0])), x0 : int(min(cx + half, small.shape[1]))]
    scale = LARGE_SIZE / max(view.shape[:2])
    image = cv2.resize(view, None, fx=scale, fy=scale, interpolation=cv2.INTER_CUBIC)
    faces = ctx.editor.analyze(image, name="astronaut, enlarged")
    specs = _LARGE_CONTROLS[:3] if quick else _LARGE_CONTROLS
    ctx.editor.apply(image, faces, EditControls.from_args(arkit=["jawOpen=0.1"]), face=0)  # the photo's measurements
    per_control = {}
    for spec in specs:
        ctl = EditControls.from_args(arkit=[spec]) if "=" in spec else EditControls.from_args(emotion=spec)
        per_control[spec] = _timed(lambda ctl=ctl: ctx.editor.apply(image, faces, ctl, face=0), 1)[0][0]
    slowest = max(per_control, key=per_control.get)
    return {
        "size": f"{image.shape[1]}x{image.shape[0]}",
        "face_width_px": round(face_width(faces[0].info.landmarks[:NUM_MESH_POINTS, :2]), 1),
        "edit_ms": {k: round(v, 1) for k, v in per_control.items()},
        "edit_ms_median": statistics.median(per_control.values()),
        "slowest": slowest,
        "slowest_ms": per_control[slowest],
    }


def section_speed(ctx: BenchContext, data: Path, *, quick: bool) -> dict:
    paths = [resolve_asset("astronaut")]
    frll = data / "faces-frll" / "neutral"
    if frll.is_dir():
        paths += _images(frll)[: 2 if quick else 10]
    controls = [EditControls.from_args(emotion=e) for e in ("happiness:1.0", "surprise:1.0")]
    controls += [EditControls.from_args(arkit=[a]) for a in ("jawOpen=0.8", "eyeBlinkLeft=0.8")]
    times: dict[str, list[float]] = {"analysis": [], "fit": [], "edit": [], "first": [], "warp": [], "skimage": []}
    with one_core():
        ctx.photo(_load(Path(paths[0])), "warm-up")
        for path in _bar(paths, "speed (one core)", unit="photo"):
            image = cv2.resize(_load(Path(path)), (512, 512), interpolation=cv2.INTER_AREA)
            _time_photo(ctx, image, str(path), controls, times, quick=quick)
        large = _time_large_photo(ctx, quick=quick)
    med = statistics.median
    return {
        "threads": "cv2 1, torch 1, BLAS 1 (threadpoolctl); MediaPipe's own pool as it is",
        "load_average": load_average(),  # other work on the machine slows every figure here
        "size": "512x512",
        "photos": len(paths),
        "controls": ["happiness:1.0", "surprise:1.0", "jawOpen=0.8", "eyeBlinkLeft=0.8"],
        "analysis_ms_median": med(times["analysis"]),
        "analysis_fit_ms_median": med(times["fit"]),
        "edit_ms_median": med(times["edit"]),
        "edit_ms_p90": float(np.percentile(times["edit"], 90)),
        "first_edit_ms_median": med(times["first"]),  # with the photo's repaint measurements, made once per photo
        "warp_only_ms_median": med(times["warp"]),
        "skimage_piecewise_affine_ms_median": med(times["skimage"]),
        "speedup_vs_skimage_edit": med(times["skimage"]) / med(times["edit"]),
        "edit_runs": len(times["edit"]),
        "skimage_runs": len(times["skimage"]),
        "large_photo": large,
    }


# ---------------------------------------------------------------------------------------------- 8. sheets
def _sheet_photos(data: Path) -> list[Path]:
    paths = [Path(resolve_asset("astronaut"))]
    for folder, pick in (
        (data / "faces-frll" / "neutral", 0),
        (data / "portraits", 6),
        (data / "faces-frll" / "canada", 3),
    ):
        files = _images(folder) if folder.is_dir() else []
        if files:
            paths.append(files[min(pick, len(files) - 1)])
    return paths


def section_sheets(ctx: BenchContext, data: Path, out_dir: Path) -> dict:
    from PIL import Image

    from facecraft.rigs.contact_sheet import contact_sheet

    paths = _sheet_photos(data)
    plans = {
        "edit_emotions.png": [(e, {"emotion": f"{e}:1.0"}) for e in EMOTIONS],
        "edit_controls.png": [(f"{c} {RESPONSE_WEIGHT}", {"arkit": {c: RESPONSE_WEIGHT}}) for c in SHEET_CONTROLS],
    }
    written: dict = {}
    photos, failed = [], []
    for path in paths:
        try:
            photos.append(ctx.photo(_load(path), str(path)))
        except Exception as e:  # noqa: BLE001 - a photo the analysis rejects is left out and reported
            failed.append(_skip(str(path), e))
    for filename, plan in plans.items():
        tiles, labels = [], []
        for photo in _bar(photos, filename, unit="photo"):
            box = photo.faces[0].info.box
            tiles.append(face_crop(photo.image, box, scale=SHEET_CROP))
            labels.append(f"{Path(photo.name).stem[:14]}")
            for label, kw in plan:
                try:
                    result = ctx.editor.apply(photo.image, photo.faces, EditControls.from_args(**kw), face=0)
                    tiles.append(face_crop(result.image, box, scale=SHEET_CROP))
                    labels.append(label)
                except Exception as e:  # noqa: BLE001 - a failed edit shows as a black tile
                    failed.append(_skip(f"{photo.name} [{label}]", e))
                    tiles.append(np.zeros_like(tiles[-1]))
                    labels.append(f"{label}: FAILED")
        if tiles:
            sheet = contact_sheet(tiles, labels, cols=len(plan) + 1, tile_size=(240, 240), font_size=14)
            out_dir.mkdir(parents=True, exist_ok=True)
            Image.fromarray(sheet).save(out_dir / filename)
            written[filename] = {
                "rows": [Path(p.name).name for p in photos],
                "columns": ["original", *(p[0] for p in plan)],
            }
    return {"written": written, "failed": failed}


# ---------------------------------------------------------------------------------------------- 9. bad input
def _error(fn: Callable[[], object]) -> dict:
    try:
        fn()
    except FacecraftError as e:
        return {"error": type(e).__name__, "message": str(e)}
    except Exception as e:  # noqa: BLE001 - an unexpected exception type is what this section reports
        return {"error": f"unexpected {type(e).__name__}", "message": str(e)}
    return {"error": None, "message": "no error raised"}


def _small_face_image(astronaut: np.ndarray, editor: FaceEditor) -> tuple[np.ndarray, int] | None:
    """The astronaut shrunk on a grey canvas until the analyzer finds the face but calls it too small."""
    from facecraft.eval.faces import FaceTooSmallError

    for side in (260, 230, 200, 180, 160):
        canvas = np.full((400, 400, 3), 128, np.uint8)
        canvas[50 : 50 + side, 50 : 50 + side] = cv2.resize(astronaut, (side, side), interpolation=cv2.INTER_AREA)
        try:
            editor.analyze(canvas)
        except FaceTooSmallError:
            return canvas, side
        except FacecraftError:
            continue
    return None


def section_bad_input(ctx: BenchContext, work: Path) -> dict:
    """The error of each bad input, through the Python API and through ``facecraft edit``'s folder mode."""
    from PIL import Image

    from . import cli

    folder = work / "bad-inputs"
    folder.mkdir(parents=True, exist_ok=True)
    astronaut = _load(resolve_asset("astronaut"))
    Image.fromarray(np.full((256, 256, 3), 128, np.uint8)).save(folder / "no_face.png")
    (folder / "corrupt.jpg").write_bytes(b"\xff\xd8\xff\xe0 this is not really a JPEG")
    (folder / "notes.png").write_text("a text file with an image name\n")
    small = _small_face_image(astronaut, ctx.editor)
    if small is not None:
        Image.fromarray(small[0]).save(folder / "small_face.png")
    faces = ctx.editor.analyze(astronaut, name="astronaut.png")
    jaw = EditControls.from_args(arkit={"jawOpen": 0.5})
    cases = {
        "no face": lambda: ctx.editor.analyze(_load(folder / "no_face.png"), name=str(folder / "no_face.png")),
        "face below the minimum size": (
            (lambda: ctx.editor.analyze(_load(folder / "small_face.png"), name=str(folder / "small_face.png")))
            if small is not None
            else (lambda: None)
        ),
        "corrupt file": lambda: _load(folder / "corrupt.jpg"),
        "non-image file": lambda: _load(folder / "notes.png"),
        "missing file": lambda: _load(folder / "absent.jpg"),
        "unknown ARKit control": lambda: EditControls.from_args(arkit=["jawOpne=0.5"]),
        "unknown AU": lambda: EditControls.from_args(au=["AU99=0.5"]),
        "unknown emotion": lambda: EditControls.from_args(emotion="jealousy:0.5"),
        "ARKit value out of range": lambda: EditControls.from_args(arkit=["jawOpen=1.5"]),
        "emotion intensity out of range": lambda: EditControls.from_args(emotion="happiness:1.7"),
        "--face beyond the faces found": lambda: ctx.editor.apply(astronaut, faces, jaw, face=3, name="astronaut.png"),
    }
    api = {case: _error(fn) for case, fn in cases.items()}
    if small is not None:
        api["face below the minimum size"]["astronaut_side_px"] = small[1]
    names = {
        "no face": "no_face.png",
        "face below the minimum size": "small_face.png",
        "corrupt file": "corrupt.jpg",
        "non-image file": "notes.png",
        "missing file": "absent.jpg",
        "--face beyond the faces found": "astronaut.png",
    }
    for case, name in names.items():
        api[case]["names_the_file"] = name in api[case]["message"]
    # The same files through the CLI's folder mode: each must be a reported skip, not a crash.
    parser = argparse.ArgumentParser(prog="facecraft")
    cli.register(parser.add_subparsers(dest="command"))
    Image.fromarray(astronaut).save(folder / "astronaut.png")
    args = parser.parse_args(
        ["edit", str(folder), "-o", str(work / "bad-out"), "--emotion", "happiness:1", "--overwrite"]
    )
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            code = args.func(args)
    except Exception as e:  # noqa: BLE001 - a crash of the folder mode is itself the finding
        return {"api": api, "cli_folder_mode": {"exit_code": None, "crash": f"{type(e).__name__}: {e}", "report": {}}}
    report = json.loads((work / "bad-out" / "report.json").read_text())
    return {"api": api, "cli_folder_mode": {"exit_code": code, "report": report}}


# ---------------------------------------------------------------------------------------------- report
def _clean(value):
    """JSON-ready: NaN -> None, numpy scalars -> Python numbers."""
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    if isinstance(value, (np.floating, float)):
        return None if not np.isfinite(value) else float(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.bool_):
        return bool(value)
    return value


def _pct(x) -> str:
    return "n/a" if x is None else f"{100 * x:.0f}%"


def _num(x, fmt: str = ".3f") -> str:
    return "n/a" if x is None else format(x, fmt)


def _print_frll(console, s: dict) -> None:
    for step, part in (("1", s), ("1r", s.get("reverse"))):
        if not part:
            continue
        what = f"{part['source']} -> {part['controls']} vs the real {part['truth']} photo"
        _print_frll_table(console, part, f"{step}. FRLL truth: {what} ({part['compared']} people)")
        held = part["held_out"]
        if held["people"]:
            title = f"{step}b. the same on the {held['people']} people the editor's calibration did not see"
            _print_frll_table(console, held, title)


def _print_frll_table(console, s: dict, title: str) -> None:
    from rich.table import Table

    t = Table(title=title)
    for col in ("", "score-change corr", "score MAE", "mouth err (fw)", "eye err (fw)", "id vs truth", "id vs source"):
        t.add_column(col)
    for who in ("edit", "baseline"):
        v = s[who]
        for stat in ("median", "mean"):
            corr = v["corr"][stat]
            t.add_row(
                f"{who} {stat}",
                "undefined (no change)" if corr is None else _num(corr, ".2f"),
                *(_num(v[k][stat]) for k in ("score_mae", "mouth", "eyes", "identity_vs_truth", "identity_vs_source")),
            )
    console.print(t)


def _print_response(console, s: dict) -> None:
    from rich.table import Table

    t = Table(title=f"2. blendshape response at {s['weight']}: {s['pairs']} pairs, success {_pct(s['success'])} "
              f"({_pct(s['success_unsaturated'])} without the {s['saturated_pairs']} saturated pairs; "
              f"{_pct(s['success_judgeable'])} without controls MediaPipe never scores: "
              f"{', '.join(s['judge_mute_controls']) or 'none'}; attainable at most {_pct(s['attainable'])}, "
              f"{_pct(s['attainable_unsaturated'])} if saturated photos cannot rise; success among those "
              f"{_pct(s['success_attainable'])})")  # fmt: skip
    cols = ("control", "pairs", "success", "rose", "mean rise", "saturated", "success unsat.", "wrong largest", "seen")
    for col in cols:
        t.add_column(col)
    for c, v in s["per_control"].items():
        wrong = str(v["most_common_wrong_largest"] or "")
        seen = _num(v["seen_median"], ".2f")
        t.add_row(c, str(v["pairs"]), _pct(v["success"]), _pct(v["rose"]), _num(v["mean_rise"], ".2f"),
                  str(v["saturated"]), _pct(v["success_unsaturated"]), wrong, seen)  # fmt: skip
    gaze = s.get("gaze") or {}
    for c, v in (gaze.get("per_control") or {}).items():
        t.add_row(f"{c} (gaze)", str(v["pairs"]), _pct(v["success"]), _pct(v["rose"]), _num(v["mean_rise"], ".2f"),
                  str(v["saturated"]), _pct(v["success_unsaturated"]), str(v["most_common_wrong_largest"] or ""),
                  _num(v["seen_median"], ".2f"))  # fmt: skip
    console.print(t)
    if gaze.get("pairs"):
        console.print(
            f"   gaze (eyeLook*, not in the figures above): {gaze['pairs']} pairs, success {_pct(gaze['success'])}"
        )


def _print_robustness(console, s: dict) -> None:
    sm = s["sample"]
    console.print(
        f"3. robustness (UTKFace): {s['analysed_and_edited']}/{s['photos']} analysed and edited "
        f"({_pct(s['share_ok'])}); errors {s['errors']}; sample of {sm['edited']}: identity < 0.6 "
        f"{_pct(sm['identity_below_0.6'])} (median {_num(sm['identity_median'])}; with glasses "
        f"{_pct(sm['identity_by_eyewear']['glasses']['identity_below_0.6'])} of "
        f"{sm['identity_by_eyewear']['glasses']['measured']}), outside pixels within "
        f"{OUTSIDE_TOLERANCE} levels {_pct(sm['outside_within_tolerance'])} of {sm['outside_checked']} checked"
    )


def _print_hit_rate(console, s: dict) -> None:
    from rich.table import Table

    t = Table(title=f"4. emotion hit rate of {s['edits']} edits at intensity 1 (unedited photos in brackets)")
    t.add_column("judge")
    for e in HIT_RATE_EMOTIONS:
        t.add_column(e)
    for name, v in s["judges"].items():
        if isinstance(v, str):
            t.add_row(name, v[:60] + " ... (see the JSON)")
            continue
        edited, base = v["edited"]["per_emotion"], v["unedited_baseline"]["per_emotion"]
        t.add_row(name, *(f"{_pct(edited.get(e))} ({_pct(base.get(e))})" for e in HIT_RATE_EMOTIONS))
    console.print(t)


def _print_identity(console, s: dict) -> None:
    console.print(
        f"5. identity: {_pct(s['share_below_0.6'])} of {s['measured']} measured edits at intensity <= 1 below 0.6 "
        f"(median {_num(s['median'])}, p95 {_num(s['p95'])}; {s['not_measured_no_face_for_dlib']} not measurable)"
    )


def _print_outside(console, s: dict) -> None:
    console.print(
        f"6. outside pixels: {_pct(s['share_within_tolerance'])} of {s['checked']} edits within {OUTSIDE_TOLERANCE} "
        f"levels beyond {OUTSIDE_MARGIN:g} face widths (max {s['max']}; {s['no_pixels_to_check']} had none to check)"
    )


def _print_speed(console, s: dict) -> None:
    console.print(
        f"7. speed (one core, 512x512): analysis {s['analysis_ms_median']:.0f} ms median (fit "
        f"{s['analysis_fit_ms_median']:.0f}); edit {s['edit_ms_median']:.1f} ms median (warp alone "
        f"{s['warp_only_ms_median']:.1f}; a photo's first edit {s['first_edit_ms_median']:.1f}); "
        f"scikit-image warp {s['skimage_piecewise_affine_ms_median']:.0f} ms"
    )
    large = s.get("large_photo")
    if large:
        console.print(
            f"   large photo ({large['size']}, face {large['face_width_px']:.0f} px): edit "
            f"{large['edit_ms_median']:.0f} ms median over {len(large['edit_ms'])} controls, slowest "
            f"{large['slowest']} {large['slowest_ms']:.0f} ms"
        )


def _print_sheets(console, s: dict) -> None:
    console.print(f"8. contact sheets: {', '.join(s['written']) or 'none'} ({len(s['failed'])} edits failed)")


def _print_bad_input(console, s: dict) -> None:
    from rich.table import Table

    t = Table(title="9. bad input (Python API)")
    for col in ("case", "error", "message"):
        t.add_column(col)
    for case, v in s["api"].items():
        t.add_row(case, str(v["error"]), v["message"][:160])
    console.print(t)
    report = s["cli_folder_mode"]["report"]
    skips = ", ".join(f"{name}: {r['status']}" for name, r in report.items())
    console.print(f"   CLI folder mode (exit {s['cli_folder_mode']['exit_code']}): {skips}")


_PRINTERS = {
    "frll_truth": _print_frll,
    "blendshape_response": _print_response,
    "robustness": _print_robustness,
    "emotion_hit_rate": _print_hit_rate,
    "identity": _print_identity,
    "outside_pixels": _print_outside,
    "speed": _print_speed,
    "contact_sheets": _print_sheets,
    "bad_input": _print_bad_input,
}


def _print(report: dict) -> None:
    from rich.console import Console

    console = Console() if Console().is_terminal else Console(width=160)
    for i, (key, printer) in enumerate(_PRINTERS.items(), 1):
        section = report.get(key, {})
        if "status" in section:
            console.print(f"{i}. {key}: {section['status']}")
        else:
            printer(console, section)
    console.print(f"bench edit: {report['seconds']['total']:.0f} s in all ({report['seconds']})")


def _provenance() -> dict:
    """The commit measured and the editor files that differ from it (other engineers edit in parallel)."""
    import subprocess

    root = Path(__file__).resolve().parents[1]
    try:
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, timeout=10)
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "synth", "eval/faces.py"],
            cwd=root, capture_output=True, text=True, timeout=10,
        )  # fmt: skip
    except (OSError, subprocess.SubprocessError) as e:
        return {"commit": None, "note": f"git not available: {e}"}
    return {"commit": head.stdout.strip() or None, "uncommitted": dirty.stdout.split("\n")[:-1]}


def bench_edit(
    out_dir: Path,
    *,
    quick: bool = False,
    data_dir: Path | None = None,
    editor: FaceEditor | None = None,
    utk_limit: int | None = None,
) -> dict:
    """Run every section (see the module docstring), print a summary and return the figures.

    Parameters
    ----------
    out_dir : Path
        Receives the contact sheets (the CLI writes the returned dict to ``out_dir/edit.json``).
    quick : bool
        Small samples (about two minutes on two cores): 12 FRLL people, 4 photos per set, 300 UTKFace crops.
    data_dir : Path, optional
        The shared ``data`` folder (default ``shared_data_dir() / "data"``); sections whose data is missing
        report ``"skipped: data not found"``.
    editor : FaceEditor, optional
        The editor to measure (default: a new one with the shipped settings). The robustness section's worker
        processes and the bad-input section's CLI run always use new default editors.
    utk_limit : int, optional
        At most this many UTKFace crops in the robustness section (default all 6,000; quick: 300).

    Each finished section is also written to ``out_dir/edit.partial.json`` (a long run that is stopped keeps
    what it measured).

    Returns
    -------
    dict
        JSON-ready (NaN written as None).
    """
    out_dir = Path(out_dir)
    data = Path(data_dir) if data_dir is not None else shared_data_dir() / "data"
    start = time.perf_counter()
    report: dict = {"quick": quick, "data": str(data), "code": _provenance()}
    with contextlib.ExitStack() as stack:
        if editor is None:
            editor = stack.enter_context(FaceEditor())
        tmp = stack.enter_context(tempfile.TemporaryDirectory())
        ctx = BenchContext(editor)

        def robust_progress(summary: dict) -> None:
            report["robustness"] = {"status": "in progress", **summary}
            save_partial("robustness", {})

        steps = [
            ("frll_truth", lambda: section_frll(ctx, data, quick=quick)),
            ("blendshape_response", lambda: section_response(ctx, data, quick=quick)),
            (
                "robustness",
                lambda: section_robustness(ctx, data, quick=quick, limit=utk_limit, progress=robust_progress),
            ),
            ("emotion_hit_rate", lambda: section_hit_rate(ctx, data, quick=quick)),
            ("identity", lambda: section_identity(ctx.records)),
            ("outside_pixels", lambda: section_outside(ctx.records)),
            ("speed", lambda: section_speed(ctx, data, quick=quick)),
            ("contact_sheets", lambda: section_sheets(ctx, data, out_dir)),
            ("bad_input", lambda: section_bad_input(ctx, Path(tmp))),
        ]

        def save_partial(key: str, seconds: dict[str, float]) -> None:
            out_dir.mkdir(parents=True, exist_ok=True)
            (out_dir / "edit.partial.json").write_text(json.dumps(_clean({**report, "seconds": seconds}), indent=1))

        seconds = run_sections(steps, report, name="bench edit", after_each=save_partial)
    report["seconds"] = {**seconds, "total": round(time.perf_counter() - start, 1)}
    report = _clean(report)
    _print(report)
    return report
