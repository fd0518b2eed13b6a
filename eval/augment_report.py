"""The report of an augmentation run: counts and acceptance per class, judges' agreement, a contact sheet.

Built from ``manifest.jsonl`` alone (streamed line by line), so a resumed run reports on everything it holds,
not only on its last part.
"""

from __future__ import annotations

import json
import logging
import os
from collections import Counter, defaultdict
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from facecraft.rigs import EMOTIONS

from .augment_filter import top_classes
from .metrics import write_report as _write_json
from .train import SHARED_7

logger = logging.getLogger(__name__)

#: Accepted examples per target shown on the contact sheet (each beside its source).
SHEET_PER_TARGET = 4


def _reason_kind(reason: str | None) -> str:
    """A rejection reason's rule: ``judge``, ``second judge``, ``identity``, ``near duplicate``, ``source``, ..."""
    if not reason:
        return "accepted"
    return reason.split(":")[0].split(" (")[0].strip()


def build_report(records, *, extra: dict | None = None) -> dict:
    """Counts per target: attempts, accepted, acceptance rate, rejection reasons; judges' agreement; bad sources.

    Parameters
    ----------
    records : iterable of dict
        Manifest records (:func:`~facecraft.eval.augment.augment_source`).
    extra : dict, optional
        Merged into the report (run settings, timing).

    Returns
    -------
    dict
        ``per_target`` ({target: attempted, accepted, acceptance_rate, reasons, patterns: the same counts per AU
        pattern of :func:`~facecraft.eval.augment_filter.variant_controls`}), ``attempted``, ``accepted``,
        ``acceptance_rate``, ``agreement`` (the first second judge's top class among the 7 shared classes
        equals the main judge's, over all variants, and the same for every pair of judges; and, per target,
        the share of variants the main judge accepted that the second judges also accept), ``bad_sources``
        (source and reason), ``sources``, ``sources_without_target`` (faces no chosen target may be made from).
    """
    per: dict[str, Counter] = defaultdict(Counter)
    reasons: dict[str, Counter] = defaultdict(Counter)
    patterns: dict[str, Counter] = defaultdict(Counter)
    bad, sources = [], set()
    agree, both = 0, 0
    pair_same: Counter = Counter()
    pair_n: Counter = Counter()
    skipped = 0
    judged_main: Counter = Counter()
    second_agrees: Counter = Counter()
    for r in records:
        sources.add(r["source"])
        target = r.get("target")
        if target is None:
            if str(r.get("reason") or "").startswith("skipped"):
                skipped += 1
            else:
                bad.append({"source": r["source"], "reason": r.get("reason")})
            continue
        per[target]["attempted"] += 1
        per[target]["accepted"] += int(bool(r.get("accepted")))
        pattern = (r.get("controls") or {}).get("pattern", "prototype")
        patterns[target][f"{pattern} attempted"] += 1
        patterns[target][f"{pattern} accepted"] += int(bool(r.get("accepted")))
        reasons[target][_reason_kind(r.get("reason"))] += 1
        scores = r.get("scores") or {}
        if len(scores) >= 2:
            tops = {n: top_classes(np.asarray(v), 1, classes=SHARED_7)[0] for n, v in scores.items()}
            names = list(tops)
            both += 1
            agree += int(tops[names[0]] == tops[names[1]])
            for i, a in enumerate(names):
                for b in names[i + 1 :]:
                    pair_n[f"{a}~{b}"] += 1
                    pair_same[f"{a}~{b}"] += int(tops[a] == tops[b])
            if target in SHARED_7 and not str(r.get("reason", "") or "").startswith("judge"):
                judged_main[target] += 1
                second_agrees[target] += int(not str(r.get("reason", "") or "").startswith("second judge"))
    per_target = {}
    for t in EMOTIONS:
        if t not in per:
            continue
        n, a = per[t]["attempted"], per[t]["accepted"]
        per_target[t] = {
            "attempted": n,
            "accepted": a,
            "acceptance_rate": round(a / n, 4) if n else None,
            "reasons": dict(reasons[t]),
            "patterns": _pattern_rates(patterns[t]),
            "second_judge_agrees_when_main_accepts": (
                round(second_agrees[t] / judged_main[t], 4) if judged_main[t] else None
            ),
        }
    attempted = sum(v["attempted"] for v in per_target.values())
    accepted = sum(v["accepted"] for v in per_target.values())
    report = {
        "sources": len(sources),
        "bad_sources": bad,
        "attempted": attempted,
        "accepted": accepted,
        "acceptance_rate": round(accepted / attempted, 4) if attempted else None,
        "per_target": per_target,
        "agreement": {
            "variants_judged_by_both": both,
            "top1_same_7": round(agree / both, 4) if both else None,
            "pairs_top1_same_7": {k: round(pair_same[k] / n, 4) for k, n in pair_n.items()},
        },
        "sources_without_target": skipped,
    }
    if extra:
        report.update(extra)
    return report


def _pattern_rates(counts: Counter) -> dict[str, dict]:
    """``{pattern: {attempted, accepted, acceptance_rate}}`` from ``"<pattern> attempted|accepted"`` counts."""
    names = sorted({k.rsplit(" ", 1)[0] for k in counts})
    out = {}
    for name in names:
        n, a = counts[f"{name} attempted"], counts[f"{name} accepted"]
        out[name] = {"attempted": n, "accepted": a, "acceptance_rate": round(a / n, 4) if n else None}
    return out


def _iter_manifest(path: Path):
    with path.open() as f:
        for line in f:
            if line.strip():
                try:
                    yield json.loads(line)
                except json.JSONDecodeError:
                    continue


def contact_sheet_png(
    out: str | os.PathLike,
    records,
    *,
    per_target: int = SHEET_PER_TARGET,
    pixels: Mapping[str, np.ndarray] | None = None,
) -> Path | None:
    """``out/contact_sheet.png``: per target a row of (source, accepted edit) pairs labelled with the main
    judge's probability of the target; None when nothing was accepted. ``pixels``: source id -> crop of the
    sources that have no file (a FER2013 CSV's rows; their tiles were black)."""
    from PIL import Image

    from facecraft.rigs.contact_sheet import contact_sheet
    from facecraft.rigs.errors import NoFaceError

    from .faces import CROP_MAX_SIDE as SMALL_SIDE
    from .faces import preprocess_face, resize_crop
    from .images import load_image

    out = Path(out)
    picked: dict[str, list[dict]] = defaultdict(list)
    for r in records:
        t = r.get("target")
        if r.get("accepted") and r.get("file") and len(picked[t]) < per_target:
            picked[t].append(r)
    tiles, labels = [], []
    size = 96
    for t in EMOTIONS:
        for r in picked.get(t, []):
            edit = np.asarray(Image.open(out / r["file"]))
            try:
                src = load_image(r["source_path"]) if r.get("source_path") else (pixels or {}).get(r["source"])
            except Exception:  # noqa: BLE001 - a moved source only blanks its tile
                src = None
            if src is not None and max(src.shape[:2]) > SMALL_SIDE:
                # a photo: shown as the same aligned face crop as its edit (the whole photo when no face shows)
                try:
                    src = preprocess_face(src, size=size, grey=edit.ndim == 2, detect=True)
                except NoFaceError:
                    src = resize_crop(src, size=size, grey=edit.ndim == 2)
            tiles.append(src if src is not None else np.zeros_like(edit))
            labels.append("source")
            p = list(r.get("scores", {}).values())[0][EMOTIONS.index(t)] if r.get("scores") else float("nan")
            tiles.append(edit)
            labels.append(f"{t} {p:.2f}")
    if not tiles:
        return None
    sheet = contact_sheet(tiles, labels, cols=2 * per_target, tile_size=(size, size), font_size=12, pad=4)
    path = out / "contact_sheet.png"
    Image.fromarray(sheet).save(path)
    return path


def write_report(
    out: str | os.PathLike, *, extra: dict | None = None, pixels: Mapping[str, np.ndarray] | None = None
) -> dict:
    """Build the report from ``out/manifest.jsonl``, write ``report.json`` and ``contact_sheet.png`` (``pixels``:
    the crops of sources without a file, see :func:`contact_sheet_png`)."""
    from .augment import MANIFEST

    out = Path(out)
    path = out / MANIFEST
    records = _iter_manifest(path) if path.is_file() else iter(())
    report = build_report(records, extra=extra)
    sheet = contact_sheet_png(out, _iter_manifest(path) if path.is_file() else iter(()), pixels=pixels)
    report["contact_sheet"] = None if sheet is None else str(sheet)
    report["manifest"] = str(path)
    _write_json(report, out / "report.json")
    logger.info("augment report: %d/%d variants accepted, %s", report["accepted"], report["attempted"], out)
    return report
