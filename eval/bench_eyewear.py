"""``facecraft bench eyewear``: how well :func:`~facecraft.eval.eyewear.wears_glasses` finds glasses.

Reads the labelled ``faces-utk`` crops of ``eyewear_labels.json`` (beside this module) from
``../shared/data/faces-utk``, analyses each with :class:`~facecraft.eval.faces.FaceAnalyzer`, scores it and
reports, per set (``tune``: where :data:`~facecraft.eval.eyewear.GLASSES_SCORE` was chosen; ``held_out``:
labelled before its scores were seen), recall on glasses and false alarms on bare faces at the shipped
threshold and a few others, the time per face, and a contact sheet of the misses and false alarms
(``eyewear_errors.png``).
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np

from facecraft.rigs.assets import shared_data_dir

from .eyewear import GLASSES_SCORE, eyewear_score

LABELS = Path(__file__).with_name("eyewear_labels.json")
THRESHOLDS = tuple(sorted({25.0, 30.0, GLASSES_SCORE, 40.0, 50.0}))


def _eye_strip(image: np.ndarray, points: np.ndarray) -> np.ndarray:
    """The band across both eyes, for the sheet."""
    c = 0.5 * (points[33] + points[263])
    w = float(np.hypot(*(points[263] - points[33])))
    x0, y0 = int(max(c[0] - 0.9 * w, 0)), int(max(c[1] - 0.45 * w, 0))
    return image[y0 : int(c[1] + 0.45 * w), x0 : int(c[0] + 0.9 * w)]


def bench_eyewear(out_dir: Path) -> dict[str, object]:
    """Recall / false alarms of the glasses cue on labelled UTKFace crops (see the module docstring)."""
    from tqdm import tqdm

    from facecraft.rigs.contact_sheet import contact_sheet

    from .faces import FaceAnalyzer
    from .images import load_image

    labels = json.loads(LABELS.read_text())
    images_dir = shared_data_dir() / "data" / "faces-utk" / "images"
    report: dict[str, object] = {"threshold": GLASSES_SCORE, "labels": labels["about"], "sets": {}}
    if not images_dir.is_dir():
        report["skipped"] = f"{images_dir} not found"
        print(f"eyewear: skipped ({report['skipped']})")
        return report
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    errors, error_labels, seconds = [], [], []
    with FaceAnalyzer() as analyzer:
        for name in ("tune", "held_out"):
            scores: dict[str, list[float]] = {"glasses": [], "bare": []}
            missing = []
            items = [(kind, f) for kind in ("glasses", "bare") for f in labels[name][kind]]
            for kind, file in tqdm(items, desc=f"eyewear {name}", unit="face"):
                path = images_dir / file
                image = load_image(path) if path.exists() else None
                faces = analyzer.analyze(image) if image is not None else []
                if not faces:
                    missing.append(file)
                    continue
                points = faces[0].landmarks[:, :2]
                t0 = time.perf_counter()
                score = eyewear_score(image, points)
                seconds.append(time.perf_counter() - t0)
                scores[kind].append(score)
                if (score >= GLASSES_SCORE) != (kind == "glasses"):
                    errors.append(_eye_strip(image, points))
                    error_labels.append(f"{name} {'miss' if kind == 'glasses' else 'false'} {score:.0f}")
            g, b = np.array(scores["glasses"]), np.array(scores["bare"])
            report["sets"][name] = {
                "glasses": len(g),
                "bare": len(b),
                "not_analysed": missing,
                "recall": float(np.mean(g >= GLASSES_SCORE)) if len(g) else None,
                "false_alarms": float(np.mean(b >= GLASSES_SCORE)) if len(b) else None,
                "by_threshold": {
                    f"{t:g}": {"recall": float(np.mean(g >= t)), "false_alarms": float(np.mean(b >= t))}
                    for t in THRESHOLDS
                    if len(g) and len(b)
                },
                "score_median": {
                    "glasses": float(np.median(g)) if len(g) else None,
                    "bare": float(np.median(b)) if len(b) else None,
                },
            }
    report["ms_per_face"] = 1000.0 * float(np.median(seconds)) if seconds else None
    if errors:
        sheet = contact_sheet(errors, error_labels, cols=6, tile_size=(240, 120), font_size=14)
        from PIL import Image

        Image.fromarray(sheet).save(out_dir / "eyewear_errors.png")
        report["errors_sheet"] = str(out_dir / "eyewear_errors.png")
    for name, s in report["sets"].items():
        print(
            f"eyewear {name}: recall {s['recall']:.3f} on {s['glasses']} faces with glasses, false alarms "
            f"{s['false_alarms']:.3f} on {s['bare']} without (score >= {GLASSES_SCORE:g})"
        )
    print(f"eyewear: {report['ms_per_face']:.2f} ms a face" + (f"; errors: {report['errors_sheet']}" if errors else ""))
    return report
