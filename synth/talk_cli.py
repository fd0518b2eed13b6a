"""``facecraft talk``: one photo + speech -> an MP4 of that face saying it (with the sound)."""

from __future__ import annotations

import argparse
import logging

log = logging.getLogger(__name__)


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``talk`` to the ``facecraft`` command line."""
    from facecraft.rigs.emotion_space import EMOTION_ARG_HELP, TRACK_ARG_HELP

    from .talk_portrait import FRAMING, MAX_MOTION, MAX_SIDE, MAX_YAW_DEG

    p = sub.add_parser(
        "talk",
        help="make a talking-portrait video from one photo and a speech clip",
        description="Animate the face in PHOTO to say AUDIO (real time on the CPU after a one-off analysis). "
        f"The face must be within {MAX_YAW_DEG:g} deg of frontal; a photo with several faces needs --face.",
    )
    p.add_argument("photo", help="a portrait photo (jpg, png, ...)")
    p.add_argument("audio", help="the speech (wav, flac, mp3, ...); silence gives a still, blinking face")
    p.add_argument("-o", "--output", required=True, help="the MP4 to write (.mp4 is added to a name without an ending)")
    emo = p.add_mutually_exclusive_group()
    emo.add_argument("--emotion", help=f"the emotion while speaking (e.g. happiness:0.6): {EMOTION_ARG_HELP}")
    emo.add_argument("--emotion-track", help=f"the emotion changing over time: {TRACK_ARG_HELP}")
    p.add_argument("--transcript", help="the words spoken: aligned to the audio to close the lips on p, b, m")
    p.add_argument("--fps", type=int, choices=(25, 30), default=25, help="frame rate (default 25)")
    p.add_argument(
        "--size", type=int, default=512, help=f"side of the square video in pixels, framed {FRAMING:g} face widths "
        f"around the face, an even number up to {MAX_SIDE} (default 512; 0 keeps the photo's own size, up to "
        f"{MAX_SIDE} px a side)"
    )  # fmt: skip
    p.add_argument("--face", type=int, help="which face to animate (0 = the largest)")
    p.add_argument(
        "--motion",
        type=float,
        default=1.0,
        help=f"scale of the head and brow motion, 0..{MAX_MOTION:g} (0 = still head, default 1)",
    )
    p.add_argument(
        "--no-gaze",
        action="store_true",
        help="keep the eyes still while the face speaks, where the photo (or --emotion's words, 'looking down') "
        "has them (default: fixations and saccades around that gaze)",
    )
    p.add_argument(
        "--keep-glasses",
        action="store_true",
        help="keep a glasses frame straight on the face (it moves with the head; the brows move behind it)",
    )
    p.set_defaults(func=_cmd_talk)


def _cmd_talk(args: argparse.Namespace) -> int:
    from pathlib import Path

    from facecraft.rigs.emotion_space import is_free_text, parse_emotion, parse_emotion_track
    from facecraft.rigs.errors import MissingFileError, ParameterError
    from facecraft.rigs.paths import say_ending_added
    from facecraft.rigs.video import check_video_path, video_output

    from .controls import read_control
    from .talk_portrait import MAX_MOTION, MAX_SIDE, talk

    out = check_video_path(video_output(args.output), inputs=(args.photo, args.audio))
    say_ending_added("-o", args.output, out, "video")
    for label, path in (("photo", args.photo), ("audio", args.audio)):
        if not Path(path).is_file():
            raise MissingFileError(f"{label} not found: {path}")
    _check_order(args.photo, args.audio)
    if not 0.0 <= args.motion <= MAX_MOTION:  # as the option's name, before any work (it said "motion: ...")
        raise ParameterError(f"--motion: expected a scale in [0, {MAX_MOTION:g}], got {args.motion:g}")
    if args.size and not 64 <= args.size <= MAX_SIDE:  # as the option says it (it said "... pixels (or None)")
        raise ParameterError(f"--size: expected 64..{MAX_SIDE} pixels, or 0 for the photo's own size; got {args.size}")
    # emotion arguments fail before any work; words stay words, read with the gaze they name ("looking down, sad")
    # as the editor reads them (a code would drop the gaze, with a warning that it is left out)
    if is_free_text(args.emotion):
        read_control(args.emotion, "--emotion")
        emotion = args.emotion
    else:
        emotion = parse_emotion(args.emotion, source="--emotion")
    track = parse_emotion_track(args.emotion_track, source="--emotion-track")
    result = talk(
        args.photo,
        args.audio,
        out,
        emotion=emotion,
        emotion_track=track,
        transcript=args.transcript,
        fps=args.fps,
        size=args.size or None,
        face=args.face,
        motion=args.motion,
        progress=True,
        keep_glasses=args.keep_glasses,
        gaze=not args.no_gaze,
    )
    print(
        f"wrote {result.path}: {result.num_frames} frames at {result.fps:g} fps "
        f"(analysis {result.analysis_s:.1f} s, speech curves {result.animation_s:.1f} s, "
        f"render + encode {result.render_s:.1f} s)"
    )
    if result.silent:
        log.warning("%s: no speech heard (the audio is silence): the video is a still face that blinks", args.audio)
    return 0


def _check_order(photo: str, audio: str) -> None:
    """Refuse a sound file given as the photo and an image as the speech (by their endings), naming the order:
    ``facecraft talk speech.wav photo.jpg`` read the sound as a photo and said "photo.jpg: the file holds no audio
    stream"."""
    from pathlib import Path

    from facecraft.audio2face.batch import SOUND_ONLY_SUFFIXES
    from facecraft.eval.images import IMAGE_EXTENSIONS
    from facecraft.rigs.errors import ParameterError

    if Path(photo).suffix.lower() in SOUND_ONLY_SUFFIXES and Path(audio).suffix.lower() in IMAGE_EXTENSIONS:
        raise ParameterError(
            f"{photo} is a sound file and {audio} an image: the photo comes first (facecraft talk PHOTO SPEECH)"
        )
