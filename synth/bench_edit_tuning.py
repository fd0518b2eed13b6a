"""``facecraft bench edit-tuning``: the editor measured on its tuning photos, the figures its changes are chosen on.

The project keeps two kinds of photos apart. The edit bench's own sets (:mod:`facecraft.synth.bench_edit`: the
portraits, FRLL Canada, the FRLL people the calibration did not see, UTKFace's first :data:`UTK_SAMPLE` crops of the
seed-0 draw) only measure; a change of the editor is chosen on these tuning photos:

* UTKFace crops from position :data:`UTK_SAMPLE` of the same seed-0 draw on (:func:`utk_tuning_crops`), varied
  in-the-wild faces; among them the broad smilers (MediaPipe ``mouthSmile`` >= :data:`SMILER_SCORE`), because every
  edit of a smiling photo to another emotion starts by taking the smile away;
* the FRLL calibration people, neutral and smiling (:func:`facecraft.synth.calibration.calibration_photos`).

Sections (each set separately):

1. *response* - ``arkit={control: 0.8}`` (:func:`facecraft.synth.bench_edit.control_response`): read largest, mean
   rise, the most common wrong largest and the share of the drawn landmark motion MediaPipe sees, per control.
2. *emotion hit rate* - the emotions at 1.0 by the FER judges. facecraft's own classifier was trained on the
   calibration people's photos (its model card), so its reading of them is reported but is no evidence.
3. *smile removal* - the calibration people's smiles edited to ``neutral:1.0`` against their own neutral photos
   (:func:`facecraft.synth.bench_edit.truth_pair`), with the mean signed motion of the mouth corners and the lips'
   middles beside the real one (face widths, x toward the image's right, y down).

The dlib identity distances of the response and removal edits are summed up as the edit bench's section 5 does.
"""

from __future__ import annotations

import contextlib
import logging
import time
from pathlib import Path

import numpy as np

from facecraft.rigs import ARKIT_INDEX
from facecraft.rigs.assets import shared_data_dir

from .bench_edit import (
    HIT_RATE_EMOTIONS,
    JUDGES,
    RESPONSE_CONTROLS,
    SKIPPED,
    UTK_SAMPLE,
    BenchContext,
    Photo,
    _bar,
    _images,
    _judges,
    _load,
    _mean,
    _num,
    _share,
    _skip,
    control_response,
    response_per_control,
    section_identity,
    truth_pair,
    utk_order,
)
from .calibration import calibration_photos
from .controls import EditControls
from .editor import FaceEditor

logger = logging.getLogger(__name__)

#: MediaPipe ``mouthSmile`` (mean of both sides) from which a tuning crop counts as a broad smiler.
SMILER_SCORE = 0.8
#: Landmarks whose motion section 3 reports: the mouth corners and the lips' middles (outer and inner).
MOUTH_POINTS: dict[str, tuple[int, ...]] = {
    "corner_image_left": (61,),
    "corner_image_right": (291,),
    "upper_lip_outer": (0,),
    "upper_lip_inner": (13,),
    "lower_lip_inner": (14,),
    "lower_lip_outer": (17,),
}
_SMILES = [ARKIT_INDEX["mouthSmileLeft"], ARKIT_INDEX["mouthSmileRight"]]


def utk_tuning_crops(data: Path, count: int, *, start: int = UTK_SAMPLE) -> list[Path]:
    """``count`` UTKFace crops from position ``start`` of the edit bench's seed-0 draw (none when the folder is
    missing)."""
    folder = data / "faces-utk" / "images"
    if not folder.is_dir():
        return []
    files = _images(folder)
    return [files[i] for i in utk_order(len(files))[start : start + count]]


def _photos(ctx: BenchContext, paths: list[Path], skipped: list[dict]) -> list[Photo]:
    photos = []
    for path in _bar(paths, "analysis", unit="photo"):
        try:
            photos.append(ctx.photo(_load(path), str(path)))
        except Exception as e:  # noqa: BLE001 - one failing photo is reported, not fatal
            skipped.append(_skip(str(path), e))
    return photos


def tuning_sets(
    ctx: BenchContext, data: Path, *, utk: int, start: int = UTK_SAMPLE, people: int | None = None
) -> tuple[dict, list[dict]]:
    """``({set name: [Photo]}, skipped)``: ``utk`` crops (and ``utk_smilers``, those of them smiling broadly),
    ``calibration_neutral`` and ``calibration_smiling`` (of the first ``people`` calibration people, default all);
    sets whose photos are missing are left out."""
    skipped: list[dict] = []
    sets: dict[str, list[Photo]] = {}
    crops = _photos(ctx, utk_tuning_crops(data, utk, start=start), skipped)
    if crops:
        sets["utk"] = crops
        sets["utk_smilers"] = [p for p in crops if p.faces[0].info.blendshapes[_SMILES].mean() >= SMILER_SCORE]
    try:
        calibration = calibration_photos(data / "faces-frll")
    except Exception as e:  # noqa: BLE001 - no FRLL folder: the UTKFace sets alone
        skipped.append(_skip(str(data / "faces-frll"), e))
        calibration = []
    for kind in ("neutral", "smiling"):
        photos = _photos(ctx, [p for p in calibration if p.parent.name == kind][:people], skipped)
        if photos:
            sets[f"calibration_{kind}"] = photos
    return sets, skipped


def section_response(ctx: BenchContext, sets: dict[str, list[Photo]], controls: tuple[str, ...]) -> dict:
    out: dict = {}
    done: dict[tuple[str, str], dict] = {}  # a photo in two sets (a smiler) is edited once
    for name, photos in sets.items():
        rows, skipped = [], []
        for photo in _bar(photos, f"response ({name})", unit="photo"):
            for control in controls:
                try:
                    if (photo.name, control) not in done:
                        done[photo.name, control] = control_response(ctx, photo, control)
                    rows.append(done[photo.name, control])
                except Exception as e:  # noqa: BLE001 - one failing edit is reported, not fatal
                    skipped.append(_skip(f"{photo.name} [{control}]", e))
        per_control = response_per_control(rows, controls)
        out[name] = {"pairs": len(rows), "success": _share(r["success"] for r in rows), "skipped": skipped,
                     "per_control": per_control}  # fmt: skip
    return out


def section_hit_rate(ctx: BenchContext, sets: dict[str, list[Photo]], emotions: tuple[str, ...]) -> dict:
    from facecraft.eval.hit_rate import emotion_hit_rate

    ready, unavailable = _judges()
    out: dict = {"judges_unavailable": unavailable}
    done: dict[tuple[str, str], np.ndarray] = {}  # a photo in two sets (a smiler) is edited once
    for name, photos in sets.items():
        edits, targets, skipped = [], [], []
        for photo in _bar(photos, f"emotion edits ({name})", unit="photo"):
            for emotion in emotions:
                try:
                    if (photo.name, emotion) not in done:
                        controls = EditControls.from_args(emotion=f"{emotion}:1.0")
                        done[photo.name, emotion] = ctx.editor.apply(photo.image, photo.faces, controls, face=0).image
                    edits.append(done[photo.name, emotion])
                    targets.append(emotion)
                except Exception as e:  # noqa: BLE001 - one failing edit is reported, not fatal
                    skipped.append(_skip(f"{photo.name} [{emotion}]", e))
        per_judge = {}
        for judge in JUDGES:
            if judge in ready and edits:
                result = emotion_hit_rate(edits, targets, ready[judge])
                per_judge[judge] = {"rate": result.rate, "per_emotion": result.per_emotion, "n": result.n}
        entry = {"photos": len(photos), "edits": len(edits), "skipped": skipped, "judges": per_judge}
        if name.startswith("calibration"):
            entry["note"] = "facecraft's classifier was trained on these people's photos: its reading is no evidence"
        out[name] = entry
    return out


def section_smile_removal(ctx: BenchContext, data: Path, sets: dict[str, list[Photo]]) -> dict:
    """The calibration people's smiles taken to ``neutral:1.0`` against their own neutral photos."""
    neutral = {Path(p.name).name: p for p in sets.get("calibration_neutral", [])}
    pairs = [
        (p, neutral[Path(p.name).name]) for p in sets.get("calibration_smiling", []) if Path(p.name).name in neutral
    ]
    if not pairs:
        return {"status": SKIPPED, "folder": str(data / "faces-frll")}
    rows, skipped = [], []
    for smiling, truth in _bar(pairs, "smile removal", unit="person"):
        try:
            rows.append(truth_pair(ctx, smiling, truth, controls="neutral:1.0", motions=MOUTH_POINTS))
        except Exception as e:  # noqa: BLE001 - one failing person is reported, not fatal
            skipped.append(_skip(smiling.name, e))
    out: dict = {"people": len(pairs), "compared": len(rows), "skipped": skipped}
    for who in ("edit", "baseline"):
        out[who] = {key: _mean(r[who][key] for r in rows) for key in ("mouth", "eyes", "identity_vs_truth")}
    if rows:
        out["mouth_motion_face_widths"] = {
            name: {
                who: np.mean([r["motion"][who][name] for r in rows], axis=0).round(4).tolist()
                for who in ("edit", "real")
            }
            for name in MOUTH_POINTS
        }
        out["mouth_width_change_face_widths"] = {
            who: _mean(
                r["motion"][who]["corner_image_right"][0] - r["motion"][who]["corner_image_left"][0] for r in rows
            )
            for who in ("edit", "real")
        }
    return out


def bench_edit_tuning(
    out_dir: Path,
    *,
    quick: bool = False,
    data_dir: Path | None = None,
    editor: FaceEditor | None = None,
    utk: int = 100,
    utk_start: int = UTK_SAMPLE,
    controls: tuple[str, ...] = RESPONSE_CONTROLS,
    emotions: tuple[str, ...] = (*HIT_RATE_EMOTIONS, "neutral"),
) -> dict:
    """Run the three sections on the tuning photos and return the figures (``out_dir`` is unused: no pictures).

    ``utk`` crops from position ``utk_start`` (quick: 12 crops, 6 calibration people); ``controls`` and
    ``emotions`` choose what is measured."""
    data = Path(data_dir) if data_dir is not None else shared_data_dir() / "data"
    start = time.perf_counter()
    with contextlib.ExitStack() as stack:
        if editor is None:
            editor = stack.enter_context(FaceEditor())
        ctx = BenchContext(editor)
        sets, skipped = tuning_sets(ctx, data, utk=12 if quick else utk, start=utk_start, people=6 if quick else None)
        report: dict = {
            "quick": quick,
            "data": str(data),
            "sets": {k: len(v) for k, v in sets.items()},
            "skipped": skipped,
            "response": section_response(ctx, sets, tuple(controls)),
            "emotion_hit_rate": section_hit_rate(ctx, sets, tuple(emotions)),
            "smile_removal": section_smile_removal(ctx, data, sets),
        }
        # the identity distances the response and removal edits were measured with (section 5 of the edit bench)
        report["identity"] = section_identity(ctx.records)
    report["seconds"] = round(time.perf_counter() - start, 1)
    _print(report)
    return report


def _print(report: dict) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    sets = list(report["sets"])
    t = Table(title="1. response at 0.8 on the tuning photos: read largest (share of the drawn motion seen)")
    for col in ("control", *sets):
        t.add_column(col)
    controls = next(iter(report["response"].values()), {}).get("per_control", {})
    for control in controls:
        cells = [report["response"][s]["per_control"][control] for s in sets]
        t.add_row(control, *(f"{_num(c['success'], '.2f')} ({_num(c['seen_median'], '.2f')})" for c in cells))
    console.print(t)
    t = Table(title="2. emotion hit rate at 1.0 (judge: per emotion)")
    for col in ("set", "judge", "per emotion"):
        t.add_column(col)
    for s in sets:
        for judge, v in report["emotion_hit_rate"][s]["judges"].items():
            t.add_row(s, judge, " ".join(f"{e[:4]} {r:.2f}" for e, r in v["per_emotion"].items()))
    console.print(t)
    removal = report["smile_removal"]
    if "edit" in removal:
        console.print(
            f"3. smile removal ({removal['compared']} calibration people): mouth / eye error "
            f"{removal['edit']['mouth']:.4f} / {removal['edit']['eyes']:.4f} face widths (unedited "
            f"{removal['baseline']['mouth']:.4f} / {removal['baseline']['eyes']:.4f}); mouth width change "
            f"{removal['mouth_width_change_face_widths']['edit']:+.4f} (real "
            f"{removal['mouth_width_change_face_widths']['real']:+.4f})"
        )
