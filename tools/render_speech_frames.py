"""Render a bilabial and an open-vowel frame of a speech clip's GLB in Blender, front and three-quarter views.

A check of what a game client shows (issue 15's "Blender renders of the default rig at a bilabial and an open
vowel show lips, teeth, tongue and eyes"), run with the project's Python::

    .venv/bin/python tools/render_speech_frames.py ../shared/data/speech/arctic_us_axb_a0006.wav \
        -o outputs/blender/axb_a0006 [--glb FILE.glb] [--transcript TEXT] [--engine eevee] [--size 640]

1. the GLB: ``--glb``, or ``facecraft animate`` (learned model, no transcript, default rig with its parts)
   writes ``OUT/<clip>.glb``;
2. the frames: the transcript (``--transcript``, else the clip's row of ``transcripts.csv`` beside it) is
   force-aligned to the audio; the inner-lip gap of the default rig driven by the GLB's curves picks, in the
   longest /p b m/, its most closed frame and, in the longest open vowel (/aa ae ah ao aw ay/), its most open
   frame (the same phone frames and gap as ``facecraft bench audio2face``);
3. the renders: each frame, front and three-quarter, whole face and mouth close-up, by
   ``tools/blender_render.py`` in Blender (:func:`facecraft.rigs.exchange.blender.render_glb_frame`);
4. ``OUT/frames.json`` (phones, words, gaps, shape-key values Blender evaluated, the scene rate it set) and
   ``OUT/sheet.png`` (all renders, labelled).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

import numpy as np

log = logging.getLogger("render_speech_frames")
# (view, focus, zoom) of each render: the whole face and a mouth close-up, front and three-quarter
VIEWS = (("front", "face", 1.0), ("three_quarter", "face", 1.0), ("front", "mouth", 2.4),
         ("three_quarter", "mouth", 2.4))  # fmt: skip


def clip_transcript(wav: Path) -> str:
    """The clip's text from ``transcripts.csv`` (columns ``file``, ``text``) in its folder."""
    from facecraft.audio2face.transcripts import TRANSCRIPTS_FILE, read_transcripts

    text = read_transcripts(wav.parent).get(wav.name)
    if text is None:
        raise SystemExit(f"{wav}: no --transcript given and no row for it in {wav.parent / TRANSCRIPTS_FILE}")
    return text


def pick_frames(glb: Path, wav: Path, transcript: str) -> dict:
    """The bilabial and open-vowel frames (see the module docstring) with their phones, words and gaps."""
    from facecraft.audio2face.audio import load_audio
    from facecraft.audio2face.metrics import _phone_frames, inner_lip_gap
    from facecraft.audio2face.phonetics import align_transcript
    from facecraft.audio2face.visemes import BILABIALS, OPEN_VOWELS
    from facecraft.rigs import ARKIT_NAMES
    from facecraft.rigs.default_rig import default_rig
    from facecraft.rigs.exchange import load_animation

    anim = load_animation(glb)
    gap_mm = inner_lip_gap(default_rig(), anim.curves) * 1000.0
    y, sr = load_audio(wav)
    aligned = align_transcript(y, sr, transcript=transcript)

    def word_of(phone) -> str:
        return next((w.word for w in aligned.words if w.start <= phone.start < w.end), "?")

    out = {"fps": anim.fps, "frames": anim.num_frames, "transcript": transcript}
    picks = (("bilabial", BILABIALS, np.argmin, np.min), ("open_vowel", OPEN_VOWELS, np.argmax, np.max))
    for kind, names, best, extreme in picks:
        phones = [p for p in aligned.phones if p.phone.rstrip("012") in names]
        if not phones:
            raise SystemExit(f"{wav}: the aligned transcript has no {kind} phone")
        p = max(phones, key=lambda q: q.end - q.start)
        frames = _phone_frames(p, anim.fps, anim.num_frames)
        frame = int(frames[best(gap_mm[frames])])
        others = [(q.phone, word_of(q), round(float(extreme(gap_mm[_phone_frames(q, anim.fps, anim.num_frames)])), 2))
                  for q in phones]  # fmt: skip
        out[kind] = {"frame": frame, "phone": p.phone, "word": word_of(p), "start_s": p.start, "end_s": p.end,
                     "gap_mm": round(float(gap_mm[frame]), 2),
                     "curves": {n: round(float(anim.curves[frame, i]), 3) for i, n in enumerate(ARKIT_NAMES)
                                if anim.curves[frame, i] >= 0.05},
                     "all": others}  # fmt: skip
    return out


def main(argv: list[str] | None = None) -> int:
    from facecraft.rigs.exchange.blender import ENGINES, render_glb_frame

    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("wav", type=Path)
    p.add_argument("-o", "--out", type=Path, required=True, help="output folder")
    p.add_argument("--glb", type=Path, help="an existing GLB of the clip (default: facecraft animate writes one)")
    p.add_argument("--transcript", help="the clip's text (default: transcripts.csv beside the clip)")
    p.add_argument("--engine", default="eevee", choices=ENGINES)
    p.add_argument("--size", type=int, default=640)
    p.add_argument("--samples", type=int, default=24)
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")

    args.out.mkdir(parents=True, exist_ok=True)
    transcript = args.transcript or clip_transcript(args.wav)
    glb = args.glb
    if glb is None:
        from facecraft.audio2face.animate import animate_file

        glb = args.out / f"{args.wav.stem}.glb"
        animate_file(args.wav, glb)
    picked = pick_frames(glb, args.wav, transcript)
    renders, images, labels = [], [], []
    for kind in ("bilabial", "open_vowel"):
        info = picked[kind]
        for view, focus, zoom in VIEWS:
            png = args.out / f"{kind}_f{info['frame']:03d}_{view}_{focus}.png"
            log.info("rendering %s", png)
            rep = render_glb_frame(glb, info["frame"], png, view=view, engine=args.engine, size=args.size,
                                   zoom=zoom, focus=focus, samples=args.samples)  # fmt: skip
            face = rep["objects"][rep["face"]]["shape_keys"]
            renders.append({"kind": kind, "view": view, "focus": focus, "png": str(png),
                            "scene_fps": rep["scene_fps"], "frame_range": rep["frame_range"],
                            "blender_shape_keys": {k: v for k, v in face.items() if v >= 0.05},
                            "objects": {k: {"parent": v["parent"], "materials": v.get("materials")}
                                        for k, v in rep["objects"].items()}})  # fmt: skip
            images.append(png)
            labels.append(f"{kind} /{info['phone']}/ '{info['word']}' f{info['frame']} {view} {focus} "
                          f"gap {info['gap_mm']:.1f} mm")  # fmt: skip
    (args.out / "frames.json").write_text(json.dumps({"glb": str(glb), **picked, "renders": renders}, indent=1))

    from PIL import Image

    from facecraft.rigs.contact_sheet import contact_sheet

    sheet = contact_sheet([np.asarray(Image.open(i).convert("RGB")) for i in images], labels, cols=4, font_size=13)
    Image.fromarray(sheet).save(args.out / "sheet.png")
    print(f"wrote {len(images)} renders, {args.out / 'frames.json'} and {args.out / 'sheet.png'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
