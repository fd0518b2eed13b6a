"""``facecraft bench talk``: lip sync, closures, identity, stability and speed of talking portraits.

Every figure is read back from the rendered frames by the perception models, not from the curves:

* **lip sync**: MediaPipe's ``jawOpen`` score of each frame vs the driving ``jawOpen`` curve, Pearson r per
  clip (median over clips; target >= 0.8);
* **bilabial closure**: the inner-lip gap (landmarks 13 -> 14, pixels) at the frame nearest the middle of
  each /p b m/ phone forced-aligned with the clip's transcript (``data/speech/transcripts.csv``): share within
  1 px of closed (target >= 90 %), overall and per photo, beside the gap at open vowels (a mouth that never
  opens closes perfectly);
* **identity**: dlib descriptor distance between the framed photo and every frame (share < 0.6; target
  >= 99 %);
* **stability**: frame-to-frame jitter of points that speech does not move
  (:func:`facecraft.synth.talk_stability.jitter`: the RMS distance of each point from the midpoint of its
  neighbours in time; smooth head motion gives ~0, shake and flicker do not), in pixels, over the forehead
  and nose bridge (:data:`STILL_POINTS`) and the face outline above the nose tip (temples, upper cheeks);
  median and 95th percentile over points and clips, each against the stated bound :data:`JITTER_BOUND_PX`.
  Read three ways (:mod:`facecraft.synth.talk_stability`):

  - ``jitter_still_px``: MediaPipe's landmarks, each frame read on its own (image mode): the figure the
    bound was stated for; the outline below the nose tip (jaw, chin), which speech moves, is reported apart;
  - ``jitter_still_video_px``: MediaPipe in video mode, as an application reading the video sees it (its
    tracker smooths: it reads a 1 px shake as about 0.3 px);
  - ``jitter_still_pixel_px``: the image itself: the patch around each point tracked from the photo into
    every frame (Lucas-Kanade), beside the jitter of the head motion the frames were given
    (``jitter_still_applied_px``, where the points should be) and of the tracked minus the applied positions
    (``jitter_still_pixel_residual_px``: warp, lids, seal and resampling).

  Two controls per photo (its first clip) say where MediaPipe's image-mode jitter comes from: the same head
  motion with a still face (``head_only``), and the same talking face without head motion (``no_head``),
  whose still-point patches are the photo's own pixels in every frame (``no_head_still_patches_identical``,
  share of points) while MediaPipe still reads them moving: the detector re-estimating the whole face as
  the mouth moves, not the image;
* **speed**: median milliseconds per rendered 512 x 512 frame on one thread after analysis (frames/s), beside
  the still editor's image side for the same frames (:func:`facecraft.synth.editor.render_rig_change`, with the
  photo's repaint measurements kept, as :class:`~facecraft.synth.editor.FaceEditor` keeps them); the
  mean includes the clip's pitch track, read in one pass offline; a stream reads the pitch of each arriving
  chunk's frames in one pass (``stream_pitch_ms_median``: per frame, chunks of 2 frames = 80 ms at 25 fps,
  to add to a frame's cost there).

The full run pairs 10 photos (the astronaut and :data:`PORTRAITS`: broad smiles showing teeth, closed-lip
and open-mouth faces) with 20 clips (:data:`CLIPS`, the transcribed clips richest in /p b m/), two clips per
photo dealt so that each photo gets a similar number of bilabials (81 in all); ``quick=True`` runs
two short pairs (tests). Written to ``out_dir``: ``talk.json`` (summary, per photo, per clip), a contact
sheet of frames per pair (``talk_sheet.png``), the mouth at every bilabial frame (``talk_bilabials.png``)
and the first pair's MP4.
"""

from __future__ import annotations

import json
import logging
import statistics
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np

from facecraft.rigs import ARKIT_INDEX
from facecraft.rigs.stats import pearson

from .talk_stability import jitter as _jitter

logger = logging.getLogger(__name__)

PORTRAITS = (
    "person_01_1.jpg",
    "person_02_1.jpg",
    "person_05_1.jpg",
    "person_10_1.jpg",
    "person_12_1.jpg",
    "person_03_2.jpg",
    "person_09_2.jpg",
    "person_13_2.jpg",
    "person_01_2.jpg",
)
# Transcribed clips, most /p b m/ first (forced-aligned: 11, 7, 6, 6, 6, 6, 4, 4, 4, 4, 3, 3, 3, then 2 each).
CLIPS = (
    "librivox_0920.wav",
    "librivox_0870.wav",
    "cathy_arctic_a0147.wav",
    "cathy_arctic_a0302.wav",
    "cathy_arctic_b0397.wav",
    "librivox_0930.wav",
    "arctic_us_aew_a0002.wav",
    "arctic_us_axb_a0006.wav",
    "cathy_arctic_a0455.wav",
    "cathy_arctic_b0461.wav",
    "arctic_unknownspk_a0010.wav",
    "cathy_arctic_b0082.wav",
    "librivox_0890.wav",
    "arctic_us_aew_a0003.wav",
    "arctic_us_axb_a0004.wav",
    "cathy_arctic_b0153.wav",
    "cathy_arctic_b0235.wav",
    "cathy_arctic_b0316.wav",
    "librivox_0880.wav",
    "pocketsphinx_cards_005.wav",
)
QUICK_CLIP = "pocketsphinx_goforward.wav"
STILL_POINTS = (10, 151, 9, 8, 6, 168, 197)  # forehead and nose bridge
CLOSED_PX = 1.0
SAME_PERSON = 0.6
JITTER_BOUND_PX = 1.0  # stated bound: 95th percentile jitter of the still points, pixels at 512 px
PATCH_HALF = 10  # half side of a still point's patch, pixels (the tracker's window)
# summary key -> pooled jitters: MediaPipe image / video mode, pixels, head motion, controls
_JITTER_KEYS = (
    ("still_video", "video"),
    ("still_pixel", "pixel"),
    ("still_applied", "applied"),
    ("still_pixel_residual", "pixel_residual"),
    ("head_only", "head_only"),
    ("no_head", "no_head"),
    ("no_head_identical", "no_head_identical"),
    ("jaw_outline", "jaw_outline"),
)
_JAW = ARKIT_INDEX["jawOpen"]
_VOWELS = ("AA", "AE", "AH", "AO", "AW", "AY", "EH", "ER", "EY", "IH", "IY", "OW", "OY", "UH", "UW")


def _pairs(shared: Path, quick: bool) -> list[tuple[str, object, Path, str | None]]:
    """(photo name, photo, clip, transcript) pairs: photo ``i`` of ``n`` gets clips ``i`` and ``2n - 1 - i``
    of :data:`CLIPS` (so the bilabial counts even out); ``quick``: two short pairs."""
    from facecraft.audio2face.transcripts import read_transcripts
    from facecraft.rigs import resolve_asset

    photos: list[tuple[str, object]] = [("astronaut", resolve_asset("astronaut"))]
    folder = shared / "data" / "portraits"
    names = PORTRAITS[:1] if quick else PORTRAITS
    photos += [(Path(n).stem, folder / n) for n in names if (folder / n).exists()]
    speech = shared / "data" / "speech"
    texts = read_transcripts(speech)
    clips = [speech / c for c in ((QUICK_CLIP,) if quick else CLIPS) if (speech / c).exists()]
    if not clips:
        return []
    if quick:
        return [(*photos[i % len(photos)], clips[0], texts.get(clips[0].name)) for i in range(2)]
    n = len(photos)
    return [(*photo, clips[j], texts.get(clips[j].name)) for i, photo in enumerate(photos)
            for j in (i, 2 * n - 1 - i) if j < len(clips)]  # fmt: skip


def still_regions(landmarks: np.ndarray) -> dict[str, np.ndarray]:
    """Landmark ids by region for the jitter figure, from the photo's own ``(N >= 468, 2+)`` landmarks:
    ``still`` (forehead and nose bridge, and the face outline above the nose tip, landmark 1) and
    ``jaw_outline`` (the outline below it: jaw and chin, which speech moves)."""
    from facecraft.rigs.default_rig import FACE_OVAL

    oval = np.array(FACE_OVAL)
    above = landmarks[oval, 1] < landmarks[1, 1]
    return {"still": np.concatenate([np.array(STILL_POINTS), oval[above]]), "jaw_outline": oval[~above]}


def _read(analyzer, frame: np.ndarray, ids: np.ndarray) -> np.ndarray | None:
    faces = analyzer.analyze(frame)
    return faces[0].landmarks[ids, :2] if faces else None


def _mouth_box(points: np.ndarray, face_width: float, shape) -> tuple[int, int, int, int]:
    """A crop around the mouth, for the bilabial sheet."""
    c = points[[13, 14, 61, 291]].mean(0)
    half_w, half_h = 0.42 * face_width, 0.26 * face_width
    x0, y0 = int(max(c[0] - half_w, 0)), int(max(c[1] - half_h, 0))
    return x0, y0, int(min(c[0] + half_w, shape[1])), int(min(c[1] + half_h, shape[0]))


def _share(values, ok) -> float | None:
    values = np.asarray(values, np.float64)
    return round(float(np.mean(ok(values))), 3) if len(values) else None


def _median(values) -> float | None:
    values = np.asarray(values, np.float64)
    values = values[np.isfinite(values)]
    return round(float(np.median(values)), 3) if len(values) else None


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
    from facecraft.rigs.video import write_mp4

    from .calibration import EditorCalibration
    from .editor import FaceEditor, render_rig_change
    from .mouth import inner_lip_gap
    from .talk_motion import pitch_frames
    from .talk_portrait import TalkingPortrait, held_seals, seal_bilabials, talk_curves
    from .talk_stability import VideoLandmarks, track_points

    out = Path(out_dir) if out_dir is not None else None
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
    pairs = _pairs(shared_data_dir(), quick)
    if not pairs:
        raise FileNotFoundError(f"bench talk needs the speech clips in {shared_data_dir() / 'data' / 'speech'}")
    threads = cv2.getNumThreads(), torch.get_num_threads()
    cv2.setNumThreads(1)
    torch.set_num_threads(1)
    report: dict = {"fps": fps, "size": size, "threads": 1, "quick": quick, "clips": []}
    render_ms: list[float] = []
    editor_ms: list[float] = []
    pitch_ms: list[float] = []
    jitters: dict[str, list[np.ndarray]] = {
        name: []
        for name in ("still", "jaw_outline", "head_only", "no_head", "no_head_identical", "video", "pixel",
                     "applied", "pixel_residual")
    }  # fmt: skip
    identical: list[bool] = []
    per_photo: dict[str, dict[str, list]] = {}
    tiles, labels, mouth_tiles, mouth_labels = [], [], [], []
    portraits: dict[str, tuple] = {}
    try:
        with FaceEditor(calibration=EditorCalibration.identity()) as editor, FaceAnalyzer(with_dlib=True) as reader:
            for k, (photo_name, photo, clip, text) in enumerate(pairs):
                y, sr = load_audio(clip)
                if photo_name not in portraits:  # analysis once per photo
                    portrait = TalkingPortrait(photo, editor=editor, size=size, name=photo_name)
                    ref = reader.largest_face(portrait.image, name=photo_name)
                    portraits = {photo_name: (portrait, ref)}  # pairs of a photo are consecutive
                    first_clip = True
                portrait, ref = portraits[photo_name]
                regions = still_regions(ref.landmarks)
                raw = talk_curves(y, sr=sr, fps=fps)
                phones = []
                if text:
                    try:
                        phones = align_transcript(y, sr, transcript=text).phones
                    except Exception as e:  # noqa: BLE001 - an unalignable clip is reported, not fatal
                        logger.warning("bench talk: %s: alignment failed (%s)", clip.name, e)
                curves = seal_bilabials(raw, phones, fps) if phones else raw
                still_pts = ref.landmarks[regions["still"], :2].astype(np.float64)
                if first_clip:  # the controls: the same head motion with a still face, the same face without it
                    first_clip = False
                    head_only = portrait.frames(np.zeros_like(raw), fps, audio=y)
                    jitters["head_only"].append(_read_jitter(editor.analyzer, head_only, regions["still"]))
                    motion, portrait.motion = portrait.motion, 0.0
                    try:
                        no_head = list(portrait.frames(curves, fps, audio=y))
                    finally:
                        portrait.motion = motion
                    same = _identical_patches(portrait.image, no_head, still_pts)
                    no_head_jitter = _read_jitter(editor.analyzer, no_head, regions["still"])
                    jitters["no_head"].append(no_head_jitter)
                    jitters["no_head_identical"].append(no_head_jitter[same])
                    identical += same.tolist()
                # the motions once (their pitch track is one CREPE pass over the clip): rendered, then compared
                t0 = time.perf_counter()
                motions = list(portrait.motions(curves, fps, audio=y))
                seals = held_seals(np.array([row for row, _ in motions]))  # as portrait.frames seals them
                motion_ms = (time.perf_counter() - t0) * 1e3
                frames = []
                for i, (row, head) in enumerate(motions):
                    t0 = time.perf_counter()
                    frames.append(portrait.render(row, head, seal=seals[i]))
                    render_ms.append((time.perf_counter() - t0) * 1e3 + (motion_ms if i == 0 else 0.0))
                if k == 0:  # what a stream adds per frame: its pitch, read per chunk of 2 frames (77 ms chunks)
                    for i in range(1, min(len(curves), 41), 2):
                        t0 = time.perf_counter()
                        pitch_frames(y, sr, fps, i, 2)
                        pitch_ms.append((time.perf_counter() - t0) * 1e3 / 2)
                # where the head motion put the still points, where the image has them, what video mode reads
                applied = np.array([still_pts if h is None else portrait.renderer.move_points(still_pts, h)
                                    for _, h in motions])  # fmt: skip
                tracked = track_points(portrait.image, frames, still_pts, expected=applied)
                with VideoLandmarks(fps) as video:
                    read = [video.read(f) for f in frames]
                read = [v[regions["still"]] for v in read if v is not None]
                jit_video = _jitter(np.array(read)) if len(read) >= 3 else np.zeros(len(still_pts))
                jit_pixel = {"pixel": _jitter(tracked), "applied": _jitter(applied),
                             "pixel_residual": _jitter(tracked - applied)}  # fmt: skip
                jitters["video"].append(jit_video)
                for name, j in jit_pixel.items():
                    jitters[name].append(j)
                # the still editor's image side for a few of the same frames
                analysed = SimpleNamespace(
                    fit=portrait.fit, info=SimpleNamespace(landmarks=portrait.landmarks), weights=portrait.rest_scores
                )
                look = portrait.renderer.look  # the photo's measurements, kept (as FaceEditor keeps them)
                for row in curves[:: max(1, len(curves) // 10)]:
                    t0 = time.perf_counter()
                    render_rig_change(portrait.image, analysed, portrait.change_for(row), look=look)  # (no lip seal)
                    editor_ms.append((time.perf_counter() - t0) * 1e3)
                jaw_read, gaps, dists, missing = [], [], [], 0
                tracks: dict[str, list] = {name: [] for name in regions}
                for f in frames:
                    faces = reader.analyze(f, name=photo_name)
                    if not faces:
                        missing += 1
                        jaw_read.append(np.nan)
                        gaps.append(np.nan)
                        continue
                    face = faces[0]
                    jaw_read.append(float(face.blendshapes[_JAW]))
                    gaps.append(inner_lip_gap(face.landmarks))
                    dists.append(float(np.linalg.norm(face.descriptor - ref.descriptor)))
                    for name, ids in regions.items():
                        tracks[name].append(face.landmarks[ids, :2])
                jaw_read, gaps = np.array(jaw_read), np.array(gaps)
                ok = np.isfinite(jaw_read)
                r = pearson(jaw_read[ok], curves[ok, _JAW])
                times = np.arange(len(frames)) / fps
                bil = [p for p in phones if p.phone in ("P", "B", "M")]
                bil_idx = [min(int(round((p.start + p.end) / 2 * fps)), len(frames) - 1) for p in bil]
                vow_idx = [min(int(round((p.start + p.end) / 2 * fps)), len(frames) - 1) for p in phones
                           if p.phone in _VOWELS and p.end - p.start > 0.06]  # fmt: skip
                bil_gaps = gaps[bil_idx] if bil_idx else np.zeros(0)
                model_sealed = is_sealed(raw[bil_idx]) if bil_idx else np.zeros(0, bool)
                jit = {name: _jitter(np.array(t)) if len(t) >= 3 else np.zeros(len(regions[name]))
                       for name, t in tracks.items()}  # fmt: skip
                for name, j in jit.items():
                    jitters[name].append(j)
                entry = {
                    "photo": photo_name,
                    "clip": clip.name,
                    "frames": len(frames),
                    "frames_without_face": missing,
                    "face_width_px": round(portrait.face_width, 1),
                    "jaw_pearson_r": round(r, 3),
                    "bilabials": len(bil_idx),
                    "bilabial_closed_share": _share(bil_gaps, lambda g: g <= CLOSED_PX),
                    "bilabial_gap_px": [round(float(g), 2) for g in bil_gaps],
                    "bilabial_gap_px_median": _median(bil_gaps),
                    "bilabial_sealed_by_model_share": _share(model_sealed, lambda m: m),
                    "vowel_gap_px_median": _median(gaps[vow_idx]) if vow_idx else None,
                    "photo_gap_px": round(inner_lip_gap(ref.landmarks), 2),
                    "identity_same_share": _share(dists, lambda d: d < SAME_PERSON),
                    "identity_distance_max": round(float(max(dists)), 3) if dists else None,
                    "jitter_still_px_median": round(float(np.median(jit["still"])), 3),
                    "jitter_jaw_outline_px_median": round(float(np.median(jit["jaw_outline"])), 3),
                    "jitter_still_video_px_median": round(float(np.median(jit_video)), 3),
                    "jitter_still_pixel_px_median": round(float(np.median(jit_pixel["pixel"])), 3),
                    "jitter_still_applied_px_median": round(float(np.median(jit_pixel["applied"])), 3),
                    "analysis_s": round(portrait.analysis_s, 2),
                }
                report["clips"].append(entry)
                logger.info("bench talk: %s", entry)
                acc = per_photo.setdefault(
                    photo_name, {"gaps": [], "r": [], "dists": [], "photo_gap": entry["photo_gap_px"]}
                )
                acc["gaps"] += bil_gaps.tolist()
                acc["r"].append(r)
                acc["dists"] += dists
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
                mx0, my0, mx1, my1 = _mouth_box(box, portrait.face_width, portrait.image.shape)
                for i, p in zip(bil_idx, bil, strict=True):
                    mouth_tiles.append(frames[i][my0:my1, mx0:mx1])
                    mouth_labels.append(f"{photo_name[-4:]} {p.phone} {gaps[i]:.1f}px")
                if out is not None and k == 0:
                    write_mp4(frames, out / "talk_demo.mp4", fps=fps, audio=(y, sr))
    finally:
        cv2.setNumThreads(threads[0])
        torch.set_num_threads(threads[1])
    clips = report["clips"]
    report["photos"] = {
        name: {
            "bilabials": len(acc["gaps"]),
            "bilabial_closed_share": _share(acc["gaps"], lambda g: g <= CLOSED_PX),
            "bilabial_gap_px_median": _median(acc["gaps"]),
            "photo_gap_px": acc["photo_gap"],
            "jaw_pearson_r_median": _median(acc["r"]),
            "identity_same_share": _share(acc["dists"], lambda d: d < SAME_PERSON),
        }
        for name, acc in per_photo.items()
    }
    all_gaps = np.concatenate([acc["gaps"] for acc in per_photo.values()]) if per_photo else np.zeros(0)
    all_dists = np.concatenate([acc["dists"] for acc in per_photo.values()]) if per_photo else np.zeros(0)
    pooled = {name: np.concatenate(j) if j and sum(map(len, j)) else np.zeros(1) for name, j in jitters.items()}
    still = pooled["still"]
    report["summary"] = {
        "jaw_pearson_r_median": _median([c["jaw_pearson_r"] for c in clips]),
        "bilabials": int(len(all_gaps)),
        "bilabial_closed_share": _share(all_gaps, lambda g: g <= CLOSED_PX),
        "bilabial_gap_px_median": _median(all_gaps),
        "bilabial_gap_px_p90": round(float(np.nanpercentile(all_gaps, 90)), 2) if len(all_gaps) else None,
        "vowel_gap_px_median": _median([c["vowel_gap_px_median"] for c in clips if c["vowel_gap_px_median"]]),
        "identity_same_share": round(float(np.mean(all_dists < SAME_PERSON)), 4) if len(all_dists) else None,
        "identity_distance_max": round(float(all_dists.max()), 3) if len(all_dists) else None,
        "jitter_still_px_median": round(float(np.median(still)), 3),
        "jitter_still_px_p95": round(float(np.percentile(still, 95)), 3),
        "jitter_bound_px": JITTER_BOUND_PX,
        "jitter_within_bound": bool(np.percentile(still, 95) <= JITTER_BOUND_PX),
        "jitter_video_within_bound": bool(np.percentile(pooled["video"], 95) <= JITTER_BOUND_PX),
        "jitter_pixel_within_bound": bool(np.percentile(pooled["pixel"], 95) <= JITTER_BOUND_PX),
        **{
            f"jitter_{key}_px_{stat}": round(float(f(pooled[name])), 3)
            for key, name in _JITTER_KEYS
            for stat, f in (("median", np.median), ("p95", _p95))
        },
        "no_head_still_patches_identical": _share(identical, lambda m: m),
        "render_ms_median": round(statistics.median(render_ms), 2),
        "render_fps_median": round(1000.0 / statistics.median(render_ms), 1),
        "render_ms_p90": round(float(np.percentile(render_ms, 90)), 2),
        "render_ms_mean": round(float(np.mean(render_ms)), 2),
        "stream_pitch_ms_median": round(statistics.median(pitch_ms), 2) if pitch_ms else None,
        "still_editor_ms_median": round(statistics.median(editor_ms), 2),
        "frames": len(render_ms),
        "photos": len(per_photo),
        "clips": len(clips),
    }
    if out is not None:
        import imageio.v3 as iio

        iio.imwrite(out / "talk_sheet.png", contact_sheet(tiles, labels, cols=7, tile_size=(192, 224), font_size=12))
        if mouth_tiles:
            sheet = contact_sheet(mouth_tiles, mouth_labels, cols=10, tile_size=(160, 100), font_size=12)
            iio.imwrite(out / "talk_bilabials.png", sheet)
        (out / "talk.json").write_text(json.dumps(report, indent=1) + "\n")
    print(json.dumps(report["summary"], indent=1))
    heads = ("bilabials", "closed", "gap px", "photo gap", "jaw r", "identity")
    print(f"{'photo':14s} " + " ".join(f"{h:>9s}" for h in heads))
    for name, p in report["photos"].items():
        cells = (p["bilabials"], p["bilabial_closed_share"], p["bilabial_gap_px_median"], p["photo_gap_px"],
                 p["jaw_pearson_r_median"], p["identity_same_share"])  # fmt: skip
        print(f"{name:14s} " + " ".join(f"{_fmt(c):>9s}" for c in cells))
    summary = report["summary"]
    print(f"\nstill-point jitter, px (bound: p95 <= {JITTER_BOUND_PX:g})   median      p95")
    for label, key in (("MediaPipe, each frame (image mode)", "still"), ("MediaPipe, video mode", "still_video"),
                       ("pixels (patches tracked)", "still_pixel"), ("  head motion applied", "still_applied"),
                       ("  pixels minus applied", "still_pixel_residual"),
                       ("control: still face, MediaPipe", "head_only"),
                       ("control: no head motion, MediaPipe", "no_head"),
                       ("  points with identical pixels", "no_head_identical")):  # fmt: skip
        print(f"{label:38s} {summary[f'jitter_{key}_px_median']:8.3f} {summary[f'jitter_{key}_px_p95']:8.3f}")
    return report


def _p95(values: np.ndarray) -> float:
    return float(np.percentile(values, 95))


def _read_jitter(analyzer, frames, ids: np.ndarray) -> np.ndarray:
    """MediaPipe image-mode jitter ``(P,)`` of landmarks ``ids`` over ``frames`` (frames without a face left out)."""
    track = [_read(analyzer, f, ids) for f in frames]
    track = [t for t in track if t is not None]
    return _jitter(np.array(track)) if len(track) >= 3 else np.zeros(len(ids))


def _identical_patches(photo: np.ndarray, frames, points: np.ndarray, *, half: int = PATCH_HALF) -> np.ndarray:
    """``(P,)`` whether the ``2 half + 1`` pixel square around each point is the photo's own in every frame."""
    h, w = photo.shape[:2]
    boxes = [(max(int(y) - half, 0), min(int(y) + half + 1, h), max(int(x) - half, 0), min(int(x) + half + 1, w))
             for x, y in np.round(points)]  # fmt: skip
    same = np.ones(len(boxes), bool)
    for f in frames:
        for i, (y0, y1, x0, x1) in enumerate(boxes):
            same[i] &= bool(np.array_equal(f[y0:y1, x0:x1], photo[y0:y1, x0:x1]))
    return same


def _fmt(x) -> str:
    return "-" if x is None else f"{x:.3g}"
