"""``facecraft`` subcommands of the rig layer: emotion codes, rig export, animation conversion and preview."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

import numpy as np

from .animation import frame_rate
from .emotion_space import EXPRESSION_ARG_HELP
from .errors import FacecraftError, ParameterError
from .loading import RIG_SPEC_HELP, load_rig

log = logging.getLogger(__name__)


def _cmd_emotion(args: argparse.Namespace) -> int:
    from .arkit import ARKIT_NAMES
    from .emotion_space import EmotionCode, parse_emotion
    from .facs import au_dict

    if args.top < 1:  # -1 listed every weight but the last
        raise ParameterError(f"--top: expected at least 1 ARKit weight to list, got {args.top}")
    code = parse_emotion(args.spec, source="emotion")
    if not isinstance(code, EmotionCode):
        raise ParameterError(f"emotion {args.spec!r}: give one expression here, not a track")
    arkit = code.to_arkit()
    top = np.argsort(-arkit)[: args.top]
    result = {
        "input": args.spec,
        "dominant": {"emotion": (dominant := code.dominant())[0], "intensity": round(float(dominant[1]), 4)},
        "au": {k: round(v, 3) for k, v in au_dict(code.to_au(), threshold=0.01).items()},
        "arkit": {ARKIT_NAMES[i]: round(float(arkit[i]), 3) for i in top if arkit[i] > 0.01},
        "code": [round(float(x), 4) for x in code.vector],
    }
    print(json.dumps(result, indent=2))
    return 0


def _load_input(args: argparse.Namespace):
    """The input animation; ``--input-fps`` is the rate of a Live Link CSV's rows (the other formats state theirs).
    A CSV's columns that are no Live Link column (a tool's notes, custom shapes) are ignored with a warning."""
    from .exchange import load_animation

    if Path(args.input).suffix.lower() != ".csv":
        if args.input_fps is not None:
            raise ParameterError(f"--input-fps: {args.input} states its own frame rate; --input-fps is for .csv takes")
        return load_animation(args.input)
    return load_animation(args.input, fps=args.input_fps, strict=False)


def _cmd_convert(args: argparse.Namespace) -> int:
    from .exchange import export_animation, flame_formats

    if args.output is None and args.output_option is None:
        raise ParameterError("convert: give the output, as OUTPUT or -o OUTPUT")
    if args.output is not None and args.output_option is not None:
        raise ParameterError("convert: give the output once, as OUTPUT or -o OUTPUT")
    args.output = args.output or args.output_option
    if Path(args.output).exists() and Path(args.input).exists() and Path(args.output).samefile(args.input):
        raise ParameterError(f"convert: the output {args.output} is the input: give another file name (the take was "
                             "replaced and its original gone)")  # fmt: skip
    anim = _load_input(args)
    if args.fps:
        anim = anim.resample(args.fps)
    glb = Path(args.output).suffix.lower() == ".glb"
    if args.rig is not None and not glb:
        raise ParameterError(f"--rig: only a .glb output carries a mesh; {args.output} holds the curves alone")
    rig = load_rig(args.rig or "default") if glb else None
    path = export_animation(anim, args.output, rig=rig)
    kept = Path(args.output).suffix.lower().lstrip(".") in flame_formats
    flame = [f"{name} ({a.shape[1]} per frame)" for name, a in
             (("FLAME expression", anim.flame_expression), ("FLAME jaw", anim.flame_jaw)) if a is not None]  # fmt: skip
    if flame and not kept:
        print(f"warning: {args.input}: {' and '.join(flame)} dropped: {path.suffix} has no place for them "
              f"(convert to {' or '.join('.' + k for k in flame_formats)} to keep them)", file=sys.stderr)  # fmt: skip
    print(f"{anim.num_frames} frames at {anim.fps:g} fps -> {path}")
    return 0


def _cmd_preview(args: argparse.Namespace) -> int:
    from .paths import say_ending_added
    from .video import animation_to_mp4, video_output

    output = video_output(args.output)  # "-o clip" writes clip.mp4, as animate --video and talk do (it failed)
    say_ending_added("-o", args.output, output, "preview")
    rig = _preview_rig(args.rig, Path(args.input))
    anim = _load_input(args)
    if args.audio:
        _check_sound(Path(args.audio), anim.duration)
    path = animation_to_mp4(rig, anim, output, audio=args.audio, size=args.size, progress=True)
    print(f"preview of {anim.num_frames} frames -> {path}")
    return 0


def _preview_rig(spec, animation: Path):
    """The rig a preview draws: ``--rig``, else the mesh of a ``.glb`` animation itself (an ICT FaceKit animation was
    drawn on the default face), else the default rig."""
    if spec is not None or animation.suffix.lower() != ".glb":
        return load_rig(spec or "default")
    try:
        return load_rig(animation)
    except FacecraftError as e:  # an animation without a mesh of its own
        log.info("%s: drawn on the default rig (%s)", animation, e)
        return load_rig("default")


#: Seconds by which a preview's sound may differ from its animation before it is said (the video keeps the
#: animation's length: a longer sound is cut, a shorter one padded with silence).
SOUND_LENGTH_SLACK = 0.5


def _check_sound(path: Path, seconds: float) -> None:
    """A preview's sound: a missing or empty file is an error naming it (it was ffmpeg's "exit 183 ... Invalid
    data"), one of another length than the animation is said."""
    import soundfile as sf

    from .errors import MissingFileError

    if not path.is_file():
        raise MissingFileError(f"--audio: file not found: {path}")
    if path.stat().st_size == 0:
        raise ParameterError(f"--audio {path}: the file is empty (0 bytes)")
    try:
        sound = sf.info(str(path)).duration
    except (RuntimeError, sf.LibsndfileError):  # a video's sound or a format libsndfile lacks: ffmpeg reads it
        return
    if abs(sound - seconds) > SOUND_LENGTH_SLACK:
        log.warning("--audio %s is %.2f s, the animation %.2f s: the video keeps the animation's length (%s)", path,
                    sound, seconds, "the sound cut" if sound > seconds else "silence after the sound")  # fmt: skip


def _cmd_rig_export(args: argparse.Namespace) -> int:
    from .exchange import write_rig_glb

    out = Path(args.output)
    if out.suffix.lower() not in (".glb", ".safetensors"):
        raise ParameterError(f"{out}: a rig is written as .glb or .safetensors, got {out.suffix!r}")
    rig = load_rig(args.rig)
    if out.suffix.lower() == ".safetensors":
        rig.save(out)
    else:
        write_rig_glb(rig, out)
    print(f"{rig!r} -> {out}")
    return 0


_INPUT_FPS_HELP = (
    "frame rate of a .csv input's rows (default: read from its timecodes; a take under a second of timecode "
    "cannot tell it and is read at 60, the app's rate)"
)


def register(sub: argparse._SubParsersAction) -> None:
    rig_help = RIG_SPEC_HELP
    p = sub.add_parser("convert", help="convert an animation between .glb, .csv (Live Link Face), .npz and .json")
    p.add_argument("input", help="animation: .glb, .csv, .npz or .json")
    p.add_argument("output", nargs="?", help="output .glb, .csv, .npz or .json (or -o, as in the other commands)")
    p.add_argument("-o", "--output", dest="output_option", help="the output, as a flag")
    p.add_argument("--rig", help=f"mesh for .glb output (default: default): {rig_help}")
    p.add_argument("--fps", type=frame_rate, help="resample to this frame rate")
    p.add_argument("--input-fps", type=frame_rate, help=_INPUT_FPS_HELP)
    p.set_defaults(func=_cmd_convert)

    p = sub.add_parser("preview", help="render an animation file on a rig to an MP4")
    p.add_argument("input", help="animation: .glb, .csv, .npz or .json")
    p.add_argument("-o", "--output", required=True, help="output .mp4 (.mp4 is added to a name without an ending)")
    p.add_argument("--rig", default=None, help=f"{rig_help} (default: a .glb input's own mesh, else 'default')")
    p.add_argument("--audio", help="audio file to mux into the video (the video keeps the animation's length)")
    p.add_argument("--input-fps", type=frame_rate, help=_INPUT_FPS_HELP)
    p.add_argument("--size", type=int, default=512, help="frame side in pixels, an even number (default 512)")
    p.set_defaults(func=_cmd_preview)

    p = sub.add_parser("rig", help="export a rig (mesh + named ARKit shapes) as .glb or .safetensors")
    p.add_argument("--rig", default="default", help=rig_help)
    p.add_argument("-o", "--output", required=True, help="output .glb or .safetensors")
    p.set_defaults(func=_cmd_rig_export)

    p = sub.add_parser("emotion", help="encode an emotion, AUs, ARKit weights or a few words into the emotion space")
    p.add_argument("spec", help=f"{EXPRESSION_ARG_HELP}; e.g. 'anger:0.7', 'AU12=0.6' or 'a shy smile'")
    p.add_argument("--top", type=int, default=12, help="how many ARKit weights to list")
    p.set_defaults(func=_cmd_emotion)
