"""``facecraft bench talk``: lip sync, closures, identity, stability and speed of talking portraits.

Every figure is read back from the rendered frames by the perception models, not from the curves:

* **lip sync**: MediaPipe's ``jawOpen`` score of each frame vs the driving ``jawOpen`` curve, Pearson r per
  clip (median over clips; target >= 0.8);
* **bilabial closure**: the inner-lip gap (landmarks 13 -> 14, pixels) at the frame nearest the middle of
  each /p b m/ phone forced-aligned with the clip's transcript (``data/speech/transcripts.csv``): share within
  1 px of closed (target >= 90 %), beside the gap at open vowels (a mouth that never opens closes perfectly);
* **identity**: dlib descriptor distance between the framed photo and every frame (share < 0.6; target
  >= 99 %);
* **stability**: frame-to-frame jitter of landmarks that speech does not move (forehead, nose bridge, face
  outline): the RMS distance of each point from the midpoint of its neighbours in time (smooth head motion
  gives ~0; detector noise and flicker do not), in pixels, median and 95th percentile over points and clips;
* **speed**: median milliseconds per rendered 512 x 512 frame on one thread after analysis (frames/s), beside
  the still editor's image side for the same frames (:func:`facecraft.synth.editor.render_rig_change`).

Clips are paired with photos round-robin (astronaut first, then ``data/portraits``); ``quick=True`` runs two
short pairs (tests). A contact sheet of frames per pair and the first pair's MP4 go to ``out_dir``.
"""

from __future__ import annotations

import csv
import json
import logging
import statistics
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np

from facecraft.rigs import ARKIT_INDEX

logger = logging.getLogger(__name__)

PORTRAITS = ("person_01_1.jpg", "person_02_1.jpg", "person_05_1.jpg", "person_10_1.jpg", "person_12_1.jpg")
CLIPS = (
    "arctic_us_aew_a0001.wav",
    "cathy_arctic_a0001.wav",
    "arctic_us_axb_a0004.wav",
    "cathy_arctic_b0082.wav",
    "librivox_0880.wav",
    "pocketsphinx_goforward.wav",
)
STILL_POINTS = (10, 151, 9, 8, 6, 168, 197)  # forehead and nose bridge
CLOSED_PX = 1.0
SAME_PERSON = 0.6
_JAW = ARKIT_INDEX["jawOpen"]
_VOWELS = ("AA", "AE", "AH", "AO", "AW", "AY", "EH", "ER", "EY", "IH", "IY", "OW", "OY", "UH", "UW")


def _pearson(a: np.ndarray, b: np.ndarray) -> float:
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    if a.std() < 1e-9 or b.std() < 1e-9:
        return float("nan")
    return float(np.corrcoef(a, b)[0, 1])


def _transcripts(folder: Path) -> dict[str, str]:
    table = folder / "transcripts.csv"
    if not table.exists():
        return {}
    with table.open(newline="") as f:
        return {row["file"]: row["text"] for row in csv.DictReader(f)}


def _jitter(tracks: np.ndarray) -> np.ndarray:
    """Per point RMS distance from the midpoint of its temporal neighbours, ``tracks`` ``(T, P, 2)`` -> ``(P,)``."""
    if len(tracks) < 3:
        return np.zeros(tracks.shape[1])
    mid = 0.5 * (tracks[:-2] + tracks[2:])
    return np.sqrt((np.linalg.norm(tracks[1:-1] - mid, axis=2) ** 2).mean(0))


def _pairs(shared: Path, quick: bool) -> list[tuple[str, object, Path, str | None]]:
    from facecraft.rigs import resolve_asset

    photos: list[tuple[str, object]] = [("astronaut", resolve_asset("astronaut"))]
    folder = shared / "data" / "portraits"
    names = PORTRAITS[:1] if quick else PORTRAITS
    photos += [(Path(n).stem, folder / n) for n in names if (folder / n).exists()]
    speech = shared / "data" / "speech"
    texts = _transcripts(speech)
    clips = [speech / c for c in (CLIPS[-1:] if quick else CLIPS) if (speech / c).exists()]
    if not clips:
        return []
    n = max(len(photos), len(clips))
    if quick:
        n = min(n, 2)
    return [(*photos[i % len(photos)], clips[i % len(clips)], texts.get(clips[i % len(clips)].name)) for i in range(n)]


def bench_talk(out_dir: Path | None = None, *, quick: bool = False, fps: float = 25.0, size: int = 512) -> dict:
    """Run the talking-portrait benchmark; print and return a JSON-able dict (also ``talk.json`` in ``out_dir``)."""
    import cv2
    import torch

    from facecraft.audio2face.audio import load_audio
    from facecraft.audio2face.lip_state import is_sealed
    from facecraft.audio2face.phonetics import align_transcript
    from facecraft.eval.faces import FaceAnalyzer
    from facecraft.rigs.assets import shared_data_dir
    from facecraft.rigs.contact_sheet import contact_sheet
    from facecraft.rigs.default_rig import FACE_OVAL
    from facecraft.rigs.video import write_mp4

    from .calibration import EditorCalibration
    from .editor import FaceEditor, render_rig_change
    from .talk import TalkingPortrait, seal_bilabials, talk_curves

    out = Path(out_dir) if out_dir is not None else None
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
    pairs = _pairs(shared_data_dir(), quick)
    if not pairs:
        raise FileNotFoundError(f"bench talk needs the speech clips in {shared_data_dir() / 'data' / 'speech'}")
    still_ids = np.array(STILL_POINTS + tuple(FACE_OVAL))
    threads = cv2.getNumThreads(), torch.get_num_threads()
    cv2.setNumThreads(1)
    torch.set_num_threads(1)
    report: dict = {"fps": fps, "size": size, "threads": 1, "quick": quick, "clips": []}
    render_ms: list[float] = []
    editor_ms: list[float] = []
    jitters: list[np.ndarray] = []
    tiles, labels = [], []
    try:
        with FaceEditor(calibration=EditorCalibration.identity()) as editor, FaceAnalyzer(with_dlib=True) as reader:
            for k, (photo_name, photo, clip, text) in enumerate(pairs):
                y, sr = load_audio(clip)
                portrait = TalkingPortrait(photo, editor=editor, size=size, name=photo_name)
                raw = talk_curves(y, sr=sr, fps=fps)
                phones = []
                if text:
                    try:
                        phones = align_transcript(y, sr, transcript=text).phones
                    except Exception as e:  # noqa: BLE001 - an unalignable clip is reported, not fatal
                        logger.warning("bench talk: %s: alignment failed (%s)", clip.name, e)
                curves = seal_bilabials(raw, phones, fps) if phones else raw
                frames = []
                gen = portrait.frames(curves, fps, audio=y)
                for _ in range(len(curves)):
                    t0 = time.perf_counter()
                    frames.append(next(gen))
                    render_ms.append((time.perf_counter() - t0) * 1e3)
                # the still editor's image side for a few of the same frames
                analysed = SimpleNamespace(fit=portrait.fit, info=SimpleNamespace(landmarks=portrait.landmarks))
                for row in curves[:: max(1, len(curves) // 10)]:
                    t0 = time.perf_counter()
                    render_rig_change(portrait.image, analysed, portrait.change_for(row))  # (no lip seal)
                    editor_ms.append((time.perf_counter() - t0) * 1e3)
                ref = reader.largest_face(portrait.image, name=photo_name)
                jaw_read, gaps, dists, tracks, missing = [], [], [], [], 0
                for f in frames:
                    faces = reader.analyze(f, name=photo_name)
                    if not faces:
                        missing += 1
                        jaw_read.append(np.nan)
                        gaps.append(np.nan)
                        continue
                    face = faces[0]
                    jaw_read.append(float(face.blendshapes[_JAW]))
                    gaps.append(float(np.hypot(*(face.landmarks[14, :2] - face.landmarks[13, :2]))))
                    dists.append(float(np.linalg.norm(face.descriptor - ref.descriptor)))
                    tracks.append(face.landmarks[still_ids, :2])
                jaw_read, gaps = np.array(jaw_read), np.array(gaps)
                ok = np.isfinite(jaw_read)
                r = _pearson(jaw_read[ok], curves[ok, _JAW])
                times = np.arange(len(frames)) / fps
                bil = [p for p in phones if p.phone in ("P", "B", "M")]
                bil_idx = [min(int(round((p.start + p.end) / 2 * fps)), len(frames) - 1) for p in bil]
                vow_idx = [min(int(round((p.start + p.end) / 2 * fps)), len(frames) - 1) for p in phones
                           if p.phone in _VOWELS and p.end - p.start > 0.06]  # fmt: skip
                bil_gaps = gaps[bil_idx] if bil_idx else np.zeros(0)
                model_sealed = is_sealed(raw[bil_idx]) if bil_idx else np.zeros(0, bool)
                jit = _jitter(np.array(tracks)) if len(tracks) >= 3 else np.zeros(len(still_ids))
                jitters.append(jit)
                entry = {
                    "photo": photo_name,
                    "clip": clip.name,
                    "frames": len(frames),
                    "frames_without_face": missing,
                    "face_width_px": round(portrait.face_width, 1),
                    "jaw_pearson_r": round(r, 3),
                    "bilabials": len(bil_idx),
                    "bilabial_closed_share": round(float(np.mean(bil_gaps <= CLOSED_PX)), 3) if bil_idx else None,
                    "bilabial_gap_px_median": round(float(np.nanmedian(bil_gaps)), 2) if bil_idx else None,
                    "bilabial_sealed_by_model_share": round(float(np.mean(model_sealed)), 3) if bil_idx else None,
                    "vowel_gap_px_median": round(float(np.nanmedian(gaps[vow_idx])), 2) if vow_idx else None,
                    "photo_gap_px": round(float(np.hypot(*(ref.landmarks[14, :2] - ref.landmarks[13, :2]))), 2),
                    "identity_same_share": round(float(np.mean(np.array(dists) < SAME_PERSON)), 4) if dists else None,
                    "identity_distance_max": round(float(max(dists)), 3) if dists else None,
                    "jitter_px_median": round(float(np.median(jit)), 3),
                    "analysis_s": round(portrait.analysis_s, 2),
                }
                report["clips"].append(entry)
                logger.info("bench talk: %s", entry)
                pick = [*np.linspace(0, len(frames) - 1, 4).astype(int).tolist(), int(np.argmax(curves[:, _JAW])),
                        bil_idx[0] if bil_idx else len(frames) // 2]  # fmt: skip
                box = portrait.renderer.src
                x0, y0 = np.maximum(box.min(0) - 0.25 * portrait.face_width, 0).astype(int)
                x1, y1 = (box.max(0) + 0.25 * portrait.face_width).astype(int)
                for i in [-1, *pick]:
                    img = portrait.image if i < 0 else frames[i]
                    tiles.append(img[y0:y1, x0:x1])
                    tag = "photo" if i < 0 else f"t={times[i]:.2f}s jaw={curves[i, _JAW]:.2f}"
                    labels.append(f"{photo_name} {tag}" if i < 0 else tag)
                if out is not None and k == 0:
                    write_mp4(frames, out / "talk_demo.mp4", fps=fps, audio=(y, sr))
    finally:
        cv2.setNumThreads(threads[0])
        torch.set_num_threads(threads[1])
    clips = report["clips"]

    def med(key):
        vals = [c[key] for c in clips if c[key] is not None and np.isfinite(c[key])]
        return round(float(statistics.median(vals)), 3) if vals else None

    all_bil = [(c["bilabial_closed_share"], c["bilabials"]) for c in clips if c["bilabials"]]
    jit = np.concatenate(jitters) if jitters else np.zeros(1)
    report["summary"] = {
        "jaw_pearson_r_median": med("jaw_pearson_r"),
        "bilabial_closed_share": round(sum(s * n for s, n in all_bil) / max(sum(n for _, n in all_bil), 1), 3),
        "bilabials": sum(n for _, n in all_bil),
        "bilabial_gap_px_median": med("bilabial_gap_px_median"),
        "vowel_gap_px_median": med("vowel_gap_px_median"),
        "identity_same_share": round(
            sum(c["identity_same_share"] * c["frames"] for c in clips if c["identity_same_share"] is not None)
            / max(sum(c["frames"] for c in clips if c["identity_same_share"] is not None), 1),
            4,
        ),  # fmt: skip
        "jitter_px_median": round(float(np.median(jit)), 3),
        "jitter_px_p95": round(float(np.percentile(jit, 95)), 3),
        "render_ms_median": round(statistics.median(render_ms), 2),
        "render_fps_median": round(1000.0 / statistics.median(render_ms), 1),
        "render_ms_p90": round(float(np.percentile(render_ms, 90)), 2),
        "still_editor_ms_median": round(statistics.median(editor_ms), 2),
        "frames": len(render_ms),
    }
    if out is not None:
        sheet = contact_sheet(tiles, labels, cols=7, tile_size=(192, 224), font_size=12)
        import imageio.v3 as iio

        iio.imwrite(out / "talk_sheet.png", sheet)
        (out / "talk.json").write_text(json.dumps(report, indent=1) + "\n")
    print(json.dumps(report["summary"], indent=1))
    return report
