"""``facecraft demo``: the main jobs on embedded defaults, non-interactive; prints where the outputs are.

1. Rig tour: the default rig goes through the eight emotions and a few visemes -> GLB (checked by the
   Khronos validator when Node is there), Live Link Face CSV, MP4 and a contact sheet of the emotions.
2. Speech animation: a synthesised voice line animated with three emotions -> GLB, CSV, MP4 with sound.
3. Judge a photo: the sample portrait through every FER judge (facecraft's own, mini-Xception, NetworkV2).
4. Edit a photo: the sample portrait edited into the 8 emotions, a few single controls and a few words,
   each edit saved, and a contact sheet of them all.
5. Talking portrait: the sample portrait saying the voice line with an emotion track (her smile, surprise, then
   sadness), an MP4 with sound and a contact sheet of frames labelled with the track's emotion.
A failing step is reported and the others still run; the command then exits non-zero.
"""

from __future__ import annotations

import argparse
import json
import logging
import re
from collections.abc import Callable
from pathlib import Path

import numpy as np

from facecraft.rigs.errors import ParameterError

log = logging.getLogger(__name__)

TOUR_VISEMES: tuple[str, ...] = ("PP", "FF", "aa", "O", "U", "E")


def _ease(n: int) -> np.ndarray:
    x = np.linspace(0.0, 1.0, n)
    return x * x * (3 - 2 * x)


def tour_curves(poses: list[np.ndarray], *, fps: float = 30.0, hold: float = 0.6, blend: float = 0.3) -> np.ndarray:
    """Curves ``(T, 52)`` that start neutral, visit each pose (held ``hold`` s, eased over ``blend`` s) and return."""
    frames = [np.zeros(52, np.float32)]
    hold_n, blend_n = max(1, int(hold * fps)), max(2, int(blend * fps))
    for target in [*poses, np.zeros(52, np.float32)]:
        start = frames[-1]
        for u in _ease(blend_n)[1:]:
            frames.append((1 - u) * start + u * target)
        frames.extend([target] * hold_n)
    return np.clip(np.stack(frames), 0.0, 1.0).astype(np.float32)


def rig_tour(out: Path) -> dict[str, str]:
    """The default rig through the 8 emotions and a few visemes: GLB, CSV, MP4 and a contact sheet."""
    from facecraft.audio2face.visemes import viseme_pose
    from facecraft.rigs import EMOTIONS, EmotionCode
    from facecraft.rigs.animation import FaceAnimation
    from facecraft.rigs.contact_sheet import contact_sheet
    from facecraft.rigs.default_rig import default_rig
    from facecraft.rigs.exchange import export_animation, validate_gltf, validator_available
    from facecraft.rigs.render import RigRenderer
    from facecraft.rigs.video import animation_to_mp4

    rig = default_rig()
    emotion_poses = [EmotionCode.from_emotion(e, 0.9).to_arkit() for e in EMOTIONS]
    viseme_poses = [viseme_pose(v) for v in TOUR_VISEMES]
    anim = FaceAnimation(
        tour_curves(emotion_poses + viseme_poses),
        fps=30.0,
        meta={"source": "facecraft demo rig tour", "sequence": list(EMOTIONS) + list(TOUR_VISEMES)},
    )
    outputs = {
        "glb": str(export_animation(anim, out / "rig_tour.glb", rig=rig)),
        "csv": str(export_animation(anim, out / "rig_tour.csv")),
        "mp4": str(animation_to_mp4(rig, anim, out / "rig_tour.mp4", progress=True)),
    }
    with RigRenderer(rig, size=320) as renderer:
        tiles = [renderer.render_arkit(p) for p in emotion_poses + viseme_poses]
    sheet = contact_sheet(tiles, list(EMOTIONS) + [f"viseme {v}" for v in TOUR_VISEMES], cols=7)
    from PIL import Image

    Image.fromarray(sheet).save(out / "rig_tour_sheet.png")
    outputs["sheet"] = str(out / "rig_tour_sheet.png")
    if validator_available():
        report = validate_gltf(out / "rig_tour.glb")
        (out / "rig_tour.validation.json").write_text(json.dumps(report, indent=2))
        outputs["glb_validation"] = f"{report['numErrors']} errors, {report['numWarnings']} warnings"
    else:
        outputs["glb_validation"] = "skipped (Node or the gltf-validator package missing: run `npm ci`)"
    return outputs


DEMO_LINE = "Bring me the blue map, and we will move before the people of Boston wake up."
DEMO_EMOTIONS: tuple[str, ...] = ("neutral", "happiness:0.8", "anger:0.7")
#: The talking portrait's emotion track over the line (seconds): her own smile, surprised, then sad.
DEMO_TRACK: tuple[dict, ...] = (
    {"t": 0.0, "emotion": "happiness", "intensity": 0.6},
    {"t": 2.0, "emotion": "surprise", "intensity": 0.8},
    {"t": 4.0, "emotion": "sadness", "intensity": 0.8},
)


def speech_animation(out: Path) -> dict[str, str]:
    """A voice line (hibari-tts, shipped voice) animated by the learned model with three emotions."""
    import soundfile as sf

    from facecraft.audio2face import animate_file
    from facecraft.audio2face.corpus import Synthesizer

    wav = out / "line.wav"
    sf.write(wav, Synthesizer("hibari:heart")(DEMO_LINE), 16000)
    outputs = {"audio": str(wav)}
    for spec in DEMO_EMOTIONS:
        stem = "line_" + spec.split(":")[0]
        anim = animate_file(wav, out / f"{stem}.glb", emotion=spec, video=out / f"{stem}.mp4")
        animate_file(wav, out / f"{stem}.csv", emotion=spec)
        outputs[f"{spec} glb"] = str(out / f"{stem}.glb")
        outputs[f"{spec} mp4"] = str(out / f"{stem}.mp4")
        outputs[f"{spec} csv"] = str(out / f"{stem}.csv")
        outputs[f"{spec} frames"] = f"{anim.num_frames} at {anim.fps:g} fps"
    return outputs


def judge_photo(out: Path) -> dict[str, str]:
    """The sample photo (scikit-image's astronaut) through every FER judge: the shipped ``facecraft`` one (the
    default judge everywhere else) first, then the ported ones (the demo judged with the ported two alone)."""
    from facecraft.eval import SUPPORTED_JUDGES, get_judge, load_image
    from facecraft.rigs import EMOTIONS, resolve_asset

    image = load_image(resolve_asset("astronaut"))
    outputs: dict[str, str] = {"photo": str(resolve_asset("astronaut"))}
    for name in sorted(SUPPORTED_JUDGES, key=lambda n: n != "facecraft"):
        probs = get_judge(name).predict_proba([image])[0]
        top = np.argsort(-probs)[:3]
        outputs[name] = ", ".join(f"{EMOTIONS[i]} {probs[i]:.2f}" for i in top)
    (out / "judgements.json").write_text(json.dumps(outputs, indent=2))
    return outputs


DEMO_EDITS: tuple[tuple[str, dict], ...] = tuple(
    [(e, {"emotion": f"{e}:1.0"}) for e in ("anger", "contempt", "disgust", "fear", "happiness", "neutral",
                                            "sadness", "surprise")]
    + [
        ("jawOpen 0.6", {"arkit": {"jawOpen": 0.6}}),
        ("blink", {"arkit": {"eyeBlinkLeft": 1.0, "eyeBlinkRight": 1.0}}),
        ("look left", {"arkit": {"eyeLookOutLeft": 0.8, "eyeLookInRight": 0.8}}),
        ("AU1+AU2 brows up", {"au": {"AU1": 0.9, "AU2": 0.9}}),
        ("AU4 frown", {"au": {"AU4": 1.0}}),
        ("'a shy smile'", {"text": "a shy smile"}),
    ]
)  # fmt: skip


def edit_file_name(label: str) -> str:
    """The file an edit of :data:`DEMO_EDITS` is saved as: ``"AU1+AU2 brows up"`` -> ``astronaut_AU1_AU2_brows_up.png``
    (dropping the '+' wrote AU1+2 as AU12, the lip corner puller's name)."""
    return "astronaut_" + re.sub(r"[ +]+", "_", label.strip("'")) + ".png"


def edit_photo(out: Path) -> dict[str, str]:
    """The sample photo (scikit-image's astronaut) edited by emotions, single controls and a few words."""
    from PIL import Image

    from facecraft.eval import load_image
    from facecraft.rigs import resolve_asset
    from facecraft.rigs.contact_sheet import contact_sheet
    from facecraft.synth.controls import EditControls
    from facecraft.synth.editor import FaceEditor, face_crop

    image = load_image(resolve_asset("astronaut"))
    outputs: dict[str, str] = {"photo": str(resolve_asset("astronaut"))}
    with FaceEditor() as editor:
        faces = editor.analyze(image, name="astronaut")
        box = faces[0].info.box
        tiles, labels = [face_crop(image, box)], ["original"]
        for label, controls in DEMO_EDITS:
            result = editor.apply(image, faces, EditControls.from_args(**controls))
            path = out / edit_file_name(label)
            Image.fromarray(result.image).save(path)
            tiles.append(face_crop(result.image, box))
            labels.append(label)
    Image.fromarray(contact_sheet(tiles, labels, cols=7, tile_size=(256, 256))).save(out / "edit_sheet.png")
    outputs["edits"] = f"{len(DEMO_EDITS)} photos in {out}"
    outputs["sheet"] = str(out / "edit_sheet.png")
    return outputs


def talking_portrait(out: Path) -> dict[str, str]:
    """The sample photo saying the demo voice line (hibari-tts, transcript given so /p b m/ seal) with the
    emotion track :data:`DEMO_TRACK`."""
    import soundfile as sf
    from PIL import Image

    from facecraft.audio2face.corpus import Synthesizer
    from facecraft.rigs import resolve_asset
    from facecraft.rigs.contact_sheet import contact_sheet
    from facecraft.rigs.emotion_space import EmotionCode, EmotionTrack
    from facecraft.rigs.video import read_frames
    from facecraft.synth.talk_portrait import talk

    wav = out / "line.wav"
    sf.write(wav, Synthesizer("hibari:heart")(DEMO_LINE), 16000)
    result = talk(resolve_asset("astronaut"), wav, out / "talking_portrait.mp4", transcript=DEMO_LINE,
                  emotion_track=list(DEMO_TRACK))  # fmt: skip
    frames = list(read_frames(result.path))
    picks = np.linspace(0, len(frames) - 1, 12).astype(int)
    track = EmotionTrack(list(DEMO_TRACK))
    shown = [EmotionCode(c).dominant()[0] for c in track.codes_at(picks / result.fps)]
    labels = [f"{i / result.fps:.2f} s {e}" for i, e in zip(picks, shown, strict=True)]
    sheet = contact_sheet([frames[i] for i in picks], labels, cols=6, tile_size=(256, 256))
    Image.fromarray(sheet).save(out / "talking_portrait_sheet.png")
    return {
        "mp4": str(result.path),
        "frames": f"{result.num_frames} at {result.fps:g} fps ({result.render_s:.1f} s to render)",
        "sheet": str(out / "talking_portrait_sheet.png"),
    }


# Steps of the demo: name -> function(out_dir) -> {label: path or note}.
STEPS: dict[str, Callable[[Path], dict[str, str]]] = {
    "rig tour": rig_tour,
    "speech animation": speech_animation,
    "judge photo": judge_photo,
    "edit photo": edit_photo,
    "talking portrait": talking_portrait,
}


def chosen_steps(only: list[str] | None) -> list[str]:
    """The steps ``--only`` names: each word picks the steps it names or is a word of (``rig tour``, ``rig_tour``,
    ``rig``, ``tour``); a word that picks none is an error (it ran nothing and said nothing)."""
    if only is None:
        return list(STEPS)
    if not only:
        raise ParameterError(f"--only: name at least one step: {', '.join(STEPS)}")
    picked = set()
    for word in only:
        key = " ".join(word.lower().replace("_", " ").replace("-", " ").split())
        found = {n for n in STEPS if key == n or key in n.split()}
        if not found:
            raise ParameterError(f"--only {word!r}: no such step; the steps are {', '.join(STEPS)}")
        picked |= found
    return [n for n in STEPS if n in picked]


def run_demo(out: Path, *, only: list[str] | None = None) -> dict[str, dict[str, str]]:
    """Run each demo step (``only``: see :func:`chosen_steps`); a failing step is reported and the others still
    run."""
    steps = chosen_steps(only)
    out.mkdir(parents=True, exist_ok=True)
    results: dict[str, dict[str, str]] = {}
    for name, step in STEPS.items():
        if name not in steps:
            continue
        step_dir = out / name.replace(" ", "_")
        step_dir.mkdir(parents=True, exist_ok=True)
        print(f"== {name}", flush=True)
        try:
            results[name] = step(step_dir)
        except Exception as e:  # noqa: BLE001 - one failing step must not hide the others' outputs
            log.exception("demo step %s failed", name)
            results[name] = {"error": f"{type(e).__name__}: {e}"}
    return results


def summary_lines(results: dict[str, dict[str, str]]) -> list[str]:
    """The printed summary: each step, then its outputs with the values in one column (a fixed 16-character label
    column pushed 'happiness:0.8 glb' paths out of line)."""
    width = max((len(label) for items in results.values() for label in items), default=0)
    lines = []
    for name, items in results.items():
        lines.append(f"  {name}:")
        lines.extend(f"    {label:{width}s}  {value}" for label, value in items.items())
    return lines


def _cmd_demo(args: argparse.Namespace) -> int:
    out = Path(args.out)
    results = run_demo(out, only=args.only)
    print("\nfacecraft demo outputs:")
    print("\n".join(summary_lines(results)))
    (out / "demo_summary.json").write_text(json.dumps(results, indent=2))
    print(f"summary: {out / 'demo_summary.json'}")
    return 1 if any("error" in r for r in results.values()) else 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("demo", help="run the main jobs on embedded defaults and print where the outputs are")
    p.add_argument("--out", default="outputs/demo", help="output folder")
    p.add_argument("--only", nargs="*", help=f"run only these steps: {', '.join(STEPS)}")
    p.set_defaults(func=_cmd_demo)
