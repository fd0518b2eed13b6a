"""Inference: audio -> features -> model (+ emotion track) -> ARKit curves -> FaceAnimation -> file.

The learned mode runs the shipped model (or ``weights``); the procedural mode runs the teacher's
:class:`~facecraft.audio2face.teacher.ProceduralAnimator` (phones, optional transcript). Files longer than
:data:`STREAM_ABOVE_S` are decoded and animated block by block through the
:class:`~facecraft.audio2face.stream.StreamingAnimator`, so memory stays bounded whatever the length.
Blinks, which speech does not predict, are added procedurally (seeded) unless ``blink=False``; files also get
speech-driven head motion and gaze with saccades (:mod:`facecraft.audio2face.head_motion`) unless
``head=False`` / ``gaze=False``. ``tongueOut`` is kept only where the tongue shows past the teeth
(:func:`tongue_where_visible`). A silent input yields a neutral face (no speech motion, a still head and
eyes; blinks only). In the pauses of a recording over a noise floor the speech channels rest
(:func:`~facecraft.audio2face.postprocess.pause_rest_weight`; the whole clip and a long file's blocks alike; a live
stream by a running floor, :class:`~facecraft.audio2face.stream.RunningPauses`): the model read a noise floor as
faint speech. Speech is brought to the level the model was trained at before either mode reads it, by one
gain for the whole clip or file (a long file's blocks too: :class:`~facecraft.audio2face.postprocess.LevelledBlocks`);
a live stream levels it by a running estimate (:class:`~facecraft.audio2face.postprocess.RunningLevel`). These
rules, and the closure priority applied to every model output, live in :mod:`facecraft.audio2face.postprocess`
(shared with streaming).

Emotion arguments take every form of :func:`facecraft.rigs.emotion_space.parse_emotion` (a name,
``NAME:INTENSITY``, AU / ARKit weights, a few words, an EmotionCode, an EmotionTrack or its JSON file, codes)
in both modes; rigs every spec of :func:`facecraft.rigs.load_rig`.

FLAME output (``FaceAnimation.flame_expression`` (T, E) and ``flame_jaw`` (T, 3), same frames as the curves)
comes two ways: a learned model with FLAME heads (``A2FConfig.flame_expression_dim`` / ``flame_jaw``) fills
them from its own outputs; and for any model, procedural mode included, a user's FLAME file
(``flame_model=``, CLI ``--flame-model``) gets them by retargeting the final ARKit curves from the default
rig with :func:`facecraft.rigs.retarget.retarget_to_flame`. The ``.npz`` and ``.json`` writers store them
(:data:`facecraft.rigs.animation.FLAME_FORMATS`).
"""

from __future__ import annotations

import logging
from dataclasses import replace
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch

from facecraft.rigs import ARKIT_INDEX, load_rig
from facecraft.rigs.animation import FLAME_SUFFIXES, FaceAnimation
from facecraft.rigs.emotion_space import (
    as_code_track,
    emotion_record,
    late_keys_note,
    parse_emotion,
    parse_emotion_track,
)
from facecraft.rigs.errors import ParameterError
from facecraft.rigs.machine import torch_threads

from .audio import (
    SAMPLE_RATE,
    audio_duration,
    load_audio,
    num_frames,
    valid_audio,
    warn_little_speech,
)
from .lip_state import SEALED_GAP, is_sealed, lip_gap
from .model import A2FModel, load_default_model
from .postprocess import (
    QUIET_PEAK_DB,
    SILENCE_PEAK,
    LevelledBlocks,
    LevelReadings,
    add_blinks,
    add_emotion_overlay,
    audio_peak,
    finish_model_curves,
    is_silent,
    level_speech,
    line_seed,
    neutral_if_silent,
    pause_rest_weight,
    pause_weight_of_readings,
    rest_in_pauses,
    speech_residual_names,
    split_emotion_codes,
)

log = logging.getLogger(__name__)

STREAM_ABOVE_S = 600.0  # longer files are animated block by block
BLOCK_S = 30.0
DEFAULT_FPS = 30.0
# Live Link Face records at 60 fps: a .csv meant to stand in for an iPhone take gets the iPhone's rate.
OUTPUT_FPS: dict[str, float] = {".csv": 60.0}


def default_fps(output_path) -> float:
    """Frame rate of an output when none is asked for: :data:`OUTPUT_FPS` by extension, else :data:`DEFAULT_FPS`."""
    return OUTPUT_FPS.get(Path(output_path).suffix.lower(), DEFAULT_FPS)


def tongue_where_visible(curves: np.ndarray) -> np.ndarray:
    """``curves`` (T, 52) with ``tongueOut`` set to 0 wherever the tongue would stay behind the teeth.

    Below :data:`facecraft.rigs.face_parts.TONGUE_SHOWS_AT` the tongue's tip does not pass the lower incisors,
    so no face shows it, and a capture (ARKit) reads 0 there; a model's small leak (from the teacher's /th/)
    would only push the lower lip of a rig that has no tongue. Returns a float32 copy.
    """
    from facecraft.rigs.face_parts import TONGUE_SHOWS_AT

    out = np.array(curves, np.float32, copy=True)
    i = ARKIT_INDEX["tongueOut"]
    out[:, i] = np.where(out[:, i] >= TONGUE_SHOWS_AT, out[:, i], 0.0)
    return out


def add_head_and_gaze(
    anim: FaceAnimation, loudness: np.ndarray, *, head: bool = True, gaze: bool = True, seed: int = 0
) -> FaceAnimation:
    """``anim`` with ``head_rotation`` from the speech's per-frame ``loudness`` (T,) and ``eye_rotation`` plus
    the matching ``eyeLook*`` curves from seeded saccades (:mod:`facecraft.audio2face.head_motion`), in place.

    Silence (all loudness 0) leaves head and eyes still (the rotations are zeros).
    """
    from facecraft.rigs.animation import with_gaze_curves

    from . import head_motion as hm

    loud = np.asarray(loudness, np.float32).reshape(-1)
    if len(loud) != anim.num_frames:
        raise ParameterError(f"add_head_and_gaze: loudness has {len(loud)} frames, the animation {anim.num_frames}")
    silent = not np.any(loud > 0)
    if head:
        still = np.zeros((anim.num_frames, 3), np.float32)
        anim.head_rotation = still if silent else hm.head_motion(loud, fps=anim.fps, seed=seed)
    if gaze:
        eyes = (
            np.zeros((anim.num_frames, 6), np.float32) if silent else hm.gaze(anim.num_frames, fps=anim.fps, seed=seed)
        )
        anim.eye_rotation = eyes
        anim.curves = with_gaze_curves(anim.curves, anim.eye_rotation)
    return anim


@lru_cache(maxsize=1)
def default_model() -> A2FModel:
    """The shipped model, loaded once per process."""
    return load_default_model()


def resolve_model(weights: str | Path | A2FModel | None) -> A2FModel:
    if isinstance(weights, A2FModel):
        return weights.eval()
    if weights is None:
        return default_model()
    return A2FModel.from_pretrained(weights)


def resolve_emotion(emotion=None, emotion_track=None):
    """``emotion`` or ``emotion_track`` (at most one) in any form :func:`~facecraft.rigs.emotion_space.parse_emotion`
    accepts -> None, an EmotionCode, an EmotionTrack or per-frame codes (T, 57)."""
    if emotion is not None and emotion_track is not None:
        raise ParameterError("give either emotion or emotion_track, not both")
    if emotion_track is not None:
        return parse_emotion_track(emotion_track, source="emotion_track")
    return parse_emotion(emotion, source="emotion")


def predict_curves(model: A2FModel, audio: np.ndarray, *, emotion=None, sr: int = SAMPLE_RATE) -> np.ndarray:
    """Curves (T, 52) for a whole mono array at the model's fps (offline; one forward pass).

    ``emotion``: anything :func:`~facecraft.rigs.emotion_space.parse_emotion` accepts (None: neutral).
    ``T = ceil(duration * fps)``.
    """
    return predict_frames(model, audio, emotion=emotion, sr=sr)[0]


def predict_frames(
    model: A2FModel, audio: np.ndarray, *, emotion=None, sr: int = SAMPLE_RATE
) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:
    """:func:`predict_curves` plus the model's FLAME heads: ``(curves (T, 52), expression (T, E) | None,
    jaw (T, 3) | None)``, float32, the same frames; a head the model lacks gives None."""
    from .features import get_features

    y = valid_audio(audio)
    if len(y) == 0:
        raise ParameterError("predict_curves: audio has no samples")
    cfg = model.config
    # one thread, as the block path (stream.py): a second intra-op thread only waited on a busy 2-core machine (the
    # whole path, front-end and model, median of 6: 0.045 s on 1 thread, 0.17 s on 2 for 5 s; 0.24 / 0.72 s for 60 s)
    with torch_threads(1):
        feats = get_features(cfg.feature_kind, fps=cfg.fps)(y, sr)
        codes = as_code_track(parse_emotion(emotion), np.arange(len(feats)) / cfg.fps)
        categories, extra = split_emotion_codes(codes)
        if left := speech_residual_names(extra):
            log.warning("emotion: %s left to the speech in learned mode (--mode procedural adds it)", ", ".join(left))
        with torch.no_grad():
            out = model(torch.from_numpy(feats)[None], torch.from_numpy(categories)[None])

    def head(t: torch.Tensor | None) -> np.ndarray | None:
        return None if t is None else t[0].float().numpy().astype(np.float32)

    raw = add_emotion_overlay(out.arkit[0].numpy(), extra)
    curves = finish_model_curves(raw, cfg.meta)
    return curves, head(out.flame_expression), head(out.flame_jaw)


def model_has_flame(model: A2FModel) -> bool:
    """Whether the model predicts FLAME parameters itself (an expression or a jaw head)."""
    return bool(model.config.flame_expression_dim) or bool(model.config.flame_jaw)


def load_flame(flame_model, flame_embedding=None):
    """A :class:`~facecraft.rigs.flame.FlameRig` for retargeting, with its semantic points checked.

    ``flame_model``: a FlameRig (used as is) or the path of a FLAME ``.pkl``/``.npz`` file;
    ``flame_embedding``: an optional landmark embedding file (FLAME's ``flame_static_embedding.pkl`` or
    DECA's ``landmark_embedding.npy``), needed when the model file holds no embedding keys (the official
    ``generic_model.pkl`` holds none). A missing or unreadable file raises FlameRig's
    :class:`~facecraft.rigs.errors.MissingFileError` / :class:`~facecraft.rigs.errors.FileFormatError`
    (naming the file); a model without enough semantic points raises :class:`ParameterError`.
    """
    from facecraft.rigs.flame import FlameRig

    if isinstance(flame_model, FlameRig):
        if flame_embedding is not None:
            raise ParameterError("flame_embedding: give it with a FLAME file path, not with a loaded FlameRig")
        flame = flame_model
    else:
        flame = FlameRig(flame_model, landmark_embedding=flame_embedding)
    if len(flame.point_names) < 3:
        raise ParameterError(
            f"{flame.source}: the FLAME model has no landmark embedding, so there are no semantic points to "
            "retarget to; pass its embedding with --flame-embedding (flame_static_embedding.pkl or DECA's "
            "landmark_embedding.npy)"
        )
    return flame


def retarget_flame(anim: FaceAnimation, flame) -> FaceAnimation:
    """``anim`` with ``flame_expression`` / ``flame_jaw`` from its ARKit curves, retargeted from the default rig.

    Returns a new FaceAnimation; a field ``anim`` already holds (from a model's FLAME head) is kept.
    """
    from facecraft.rigs.default_rig import default_rig
    from facecraft.rigs.retarget import retarget_to_flame

    expr, jaw = retarget_to_flame(anim.curves, default_rig(), flame)
    return replace(
        anim,
        flame_expression=np.asarray(expr, np.float32) if anim.flame_expression is None else anim.flame_expression,
        flame_jaw=np.asarray(jaw, np.float32) if anim.flame_jaw is None else anim.flame_jaw,
        meta=dict(anim.meta),
    )


def _add_flame(anim: FaceAnimation, flame, *, model_heads: bool) -> FaceAnimation:
    """Retarget onto ``flame`` what the model's heads did not give, and record where FLAME values came from."""
    if flame is None:
        if anim.flame_expression is not None or anim.flame_jaw is not None:
            anim.meta["flame"] = {"source": "model"}
        return anim
    if anim.flame_expression is not None and anim.flame_jaw is not None:
        log.info("the model has FLAME heads: using its expression and jaw; retargeting to %s was not needed",
                 flame.source)  # fmt: skip
        anim.meta["flame"] = {"source": "model", "flame_model_unused": flame.source}
        return anim
    if model_heads:
        log.info("the model's FLAME heads give only part of the output: retargeting the rest to %s", flame.source)
    anim = retarget_flame(anim, flame)
    anim.meta["flame"] = {
        "source": "model+retarget" if model_heads else "retarget",
        "flame_model": flame.source,
        "n_expression": int(anim.flame_expression.shape[1]),
    }
    return anim


def animate_audio(
    audio: np.ndarray,
    *,
    sr: int = SAMPLE_RATE,
    emotion=None,
    transcript: str | None = None,
    mode: str = "learned",
    weights=None,
    fps: float = DEFAULT_FPS,
    blink: bool = True,
    flame_model=None,
    flame_embedding=None,
    head: bool = False,
    gaze: bool = False,
    seed: int = 0,
    blink_seed: int | None = None,
) -> FaceAnimation:
    """A FaceAnimation for an in-memory mono array (see :func:`animate_file` for the options).

    ``emotion``: any form :func:`~facecraft.rigs.emotion_space.parse_emotion` accepts, in both modes.
    ``flame_model`` may also be a loaded :class:`~facecraft.rigs.flame.FlameRig`. Head motion and gaze are
    off by default here (a talking portrait moves the photo's head itself); :func:`animate_file` turns them on.
    ``blink_seed``: the blinks' seed; None: the line's own (:func:`~facecraft.audio2face.postprocess.line_seed`),
    so that the lines of a batch blink at their own moments.
    """
    y = valid_audio(audio)
    emotion = parse_emotion(emotion, source="emotion")
    if len(y) == 0:
        raise ParameterError("animate_audio: audio has no samples")
    if mode not in ("learned", "procedural"):
        raise ParameterError(f"mode: expected 'learned' or 'procedural', got {mode!r}")
    if flame_model is None and flame_embedding is not None:
        raise ParameterError("flame_embedding (--flame-embedding) needs flame_model (--flame-model)")
    flame = None if flame_model is None else load_flame(flame_model, flame_embedding)
    peak = audio_peak(y)
    blinks = line_seed(seed, y) if blink_seed is None else blink_seed  # each line blinks at its own moments
    y, gain_db = level_speech(y, sr=sr)  # both modes, and the head, read speech at the level the model knows
    if mode == "procedural":
        from .teacher import ProceduralAnimator

        animator = ProceduralAnimator(fps=fps, blink=blink, seed=blinks)
        anim = animator.animate(y, sr, transcript=transcript, emotion=emotion)
        anim.curves = tongue_where_visible(anim.curves)
        anim = _add_flame(_head_and_gaze(anim, y, sr, head=head, gaze=gaze, seed=seed), flame, model_heads=False)
        return _mark_levelled(_mark_silence(anim, peak), peak, gain_db)
    model = resolve_model(weights)
    curves, expr, jaw = predict_frames(model, y, emotion=emotion, sr=sr)
    curves = neutral_if_silent(curves, peak)
    expr = None if expr is None else neutral_if_silent(expr, peak)
    jaw = None if jaw is None else neutral_if_silent(jaw, peak)
    anim = FaceAnimation(
        curves, fps=model.config.fps, flame_expression=expr, flame_jaw=jaw, meta=_meta(model, emotion, transcript)
    )
    anim = at_frame_rate(anim, fps, len(y) / sr)
    anim.curves = rest_in_pauses(anim.curves, pause_rest_weight(y, sr=sr, fps=anim.fps, num_frames=anim.num_frames))
    if blink:
        anim.curves = add_blinks(anim.curves, fps=anim.fps, seed=blinks)
    anim.curves = tongue_where_visible(anim.curves)
    anim = _head_and_gaze(anim, y, sr, head=head, gaze=gaze, seed=seed)
    return _mark_levelled(_mark_silence(_add_flame(anim, flame, model_heads=model_has_flame(model)), peak), peak,
                          gain_db)  # fmt: skip


def at_frame_rate(anim: FaceAnimation, fps: float, duration: float) -> FaceAnimation:
    """``anim`` (at the model's rate) at ``fps`` with :func:`~facecraft.audio2face.audio.num_frames` frames for
    ``duration`` seconds of audio, as the procedural mode gives: resampling reads the length from the model's whole
    frames (0.05 s, 2 frames at 30 fps, became 4 frames at 60 fps, not 3); a frame it lacks holds the last one."""
    n = num_frames(duration, fps)
    if abs(fps - anim.fps) > 1e-6:
        anim = anim.resample(fps)
    if anim.num_frames == n:
        return anim

    def fit(a: np.ndarray | None) -> np.ndarray | None:
        return None if a is None else np.concatenate([a[:n], np.repeat(a[-1:], max(0, n - len(a)), axis=0)])

    return replace(anim, curves=fit(anim.curves), head_rotation=fit(anim.head_rotation),
                   eye_rotation=fit(anim.eye_rotation), flame_expression=fit(anim.flame_expression),
                   flame_jaw=fit(anim.flame_jaw), meta=dict(anim.meta))  # fmt: skip


def _mark_silence(anim: FaceAnimation, peak: float) -> FaceAnimation:
    """Record in ``anim.meta`` that the input was silence (its audio peak is ``peak``), so that callers can say so
    (a neutral face is rarely what a user who passed a voice line wanted)."""
    if is_silent(peak):
        anim.meta["silent"] = f"audio peak {peak:.1e} below {SILENCE_PEAK:.0e}: the face stays neutral"
    return anim


def _mark_levelled(anim: FaceAnimation, peak: float, gain_db: float) -> FaceAnimation:
    """Record in ``anim.meta["levelled"]`` that a very quiet recording (peak ``peak`` below
    :data:`~facecraft.audio2face.postprocess.QUIET_PEAK_DB`) was raised by ``gain_db``
    (:func:`~facecraft.audio2face.postprocess.level_speech`), so that callers can tell the user to check it; the
    gain of every levelled input is ``meta["level_gain_db"]``."""
    if gain_db:
        anim.meta["level_gain_db"] = round(float(gain_db), 1)
    if gain_db > 0 and 20 * np.log10(max(peak, 1e-30)) < QUIET_PEAK_DB:
        anim.meta["levelled"] = (f"very quiet recording (peak {20 * np.log10(peak):.0f} dBFS): raised by "
                                 f"{gain_db:.0f} dB to the speech level of the model's training")  # fmt: skip
    return anim


def _head_and_gaze(anim: FaceAnimation, y: np.ndarray, sr: int, *, head: bool, gaze: bool, seed: int) -> FaceAnimation:
    if not (head or gaze):
        return anim
    from .head_motion import frame_loudness

    loud = frame_loudness(y, sr, fps=anim.fps, num_frames=anim.num_frames)
    if is_silent(audio_peak(y)):
        loud = np.zeros_like(loud)
    return add_head_and_gaze(anim, loud, head=head, gaze=gaze, seed=seed)


def _meta(model: A2FModel, emotion, transcript) -> dict:
    return {
        "generator": "facecraft.audio2face",
        "mode": "learned",
        "model": {"fps": model.config.fps, "feature_kind": model.config.feature_kind},
        "emotion": emotion_record(emotion),
        "transcript_ignored": bool(transcript),
    }


def animate_stream_file(
    path,
    *,
    emotion=None,
    weights=None,
    block_s: float = BLOCK_S,
    progress: bool = False,
    on_block=None,
    fps: float | None = None,
) -> FaceAnimation:
    """Animate a (long) file block by block with bounded memory (learned mode, at ``fps``; None: the model's).

    The :class:`~facecraft.audio2face.stream.StreamingAnimator` emits ARKit curves only: a model's FLAME heads
    are not run here (:func:`animate_file` retargets to a given FLAME model instead). ``progress`` shows a bar
    (stderr) in seconds of audio done: an hour-long file took a minute without a word. ``on_block``, when given,
    is called with each block of samples as it is read (:class:`BlockLoudness`'s ``add``), raised as the model
    reads it. A file is levelled by the whole file's gain, as :func:`animate_audio` levels a clip
    (:class:`~facecraft.audio2face.postprocess.LevelledBlocks`; ``meta["levelled"]`` says so).
    """
    from .stream import StreamingAnimator

    model = resolve_model(weights)
    emotion = parse_emotion(emotion, source="emotion")
    s = StreamingAnimator(model, emotion=emotion, level=False)  # the blocks come levelled by the whole file's gain
    parts, peak, samples = [], 0.0, 0
    blocks = LevelledBlocks(path, block_seconds=block_s, progress=progress)
    readings, levels = LevelReadings(), []  # the levelled file's 20 ms readings, for its pauses (as a clip's)
    for block in blocks:
        peak = max(peak, audio_peak(block))
        samples += len(block)
        levels.append(readings.add(block))
        if on_block is not None:
            on_block(block)
        parts.append(s.push(block))
    parts.append(s.flush())
    curves = np.concatenate(parts) if parts else np.zeros((0, 52), np.float32)
    if len(curves) == 0:
        from facecraft.rigs.errors import FileFormatError

        raise FileFormatError(f"{path}: the file holds no audio samples")
    curves = tongue_where_visible(neutral_if_silent(curves, peak))
    # marked as the whole-file path marks it: a silent file over STREAM_ABOVE_S went without the warning
    anim = FaceAnimation(curves, fps=model.config.fps, meta=_meta(model, emotion, None))
    anim = at_frame_rate(anim, anim.fps if fps is None else float(fps), samples / SAMPLE_RATE)
    if not is_silent(peak):
        rest = pause_weight_of_readings(np.concatenate(levels), readings.n / SAMPLE_RATE, fps=anim.fps,
                                        num_frames=anim.num_frames)  # fmt: skip
        anim.curves = rest_in_pauses(anim.curves, rest)
    return _mark_levelled(_mark_silence(anim, peak), blocks.peak, blocks.gain_db)


def _procedural_stream_file(
    path, *, emotion, transcript, fps: float, blink: bool, progress: bool, on_block=None
) -> FaceAnimation:
    """The procedural mode's block path (:meth:`~facecraft.audio2face.teacher.ProceduralAnimator.animate_file` in
    :data:`BLOCK_S` blocks; the transcript is not aligned), finished as :func:`animate_audio` finishes it. A file
    over :data:`STREAM_ABOVE_S` ran in one silent pass: an hour-long line was minutes without a word."""
    from .teacher import ProceduralAnimator, whole_block_seconds

    animator = ProceduralAnimator(fps=fps, blink=blink)
    block_s = whole_block_seconds(BLOCK_S)  # the blocks the teacher reads
    blocks = LevelledBlocks(path, block_seconds=block_s, progress=progress)  # levelled as a clip is
    anim = animator.animate_file(path, transcript=transcript, emotion=emotion, block_seconds=block_s, progress=progress,
                                 on_block=on_block, blocks=blocks)  # fmt: skip
    anim.curves = tongue_where_visible(anim.curves)
    return _mark_levelled(_mark_silence(anim, anim.meta.pop("audio_peak")), blocks.peak, blocks.gain_db)


class BlockLoudness:
    """:func:`~facecraft.audio2face.head_motion.frame_loudness` of a file gathered from its blocks as the animation
    reads them (:meth:`add` each block of :data:`~facecraft.audio2face.audio.SAMPLE_RATE` samples, in order), so the
    head motion of a long file needs no second read of it. Each block gives the energy of the frames near it
    (:func:`~facecraft.audio2face.head_motion.frame_energy`); a frame's energies add up, so one whose window spans two
    blocks reads both as the whole file does. :meth:`loudness`: 0 throughout for silence."""

    def __init__(self, fps: float):
        self.fps, self.start, self.peak = float(fps), 0.0, 0.0
        self._parts: list[tuple[int, np.ndarray]] = []

    def add(self, block: np.ndarray) -> None:
        from .head_motion import frame_energy

        block = np.asarray(block, np.float32)
        self.peak = max(self.peak, audio_peak(block))
        # the frames whose window (two frame periods) reaches into the block, with a frame to spare either side;
        # the frames beyond them read none of it, 0
        first = max(0, int(np.floor((self.start - 1.0 / self.fps) * self.fps)) - 1)
        last = int(np.ceil((self.start + len(block) / SAMPLE_RATE + 1.0 / self.fps) * self.fps)) + 1
        energy = frame_energy(block, SAMPLE_RATE, fps=self.fps, num_frames=last - first, start_s=self.start,
                              first_frame=first)  # fmt: skip
        self._parts.append((first, energy))
        self.start += len(block) / SAMPLE_RATE

    def loudness(self, num_frames: int) -> np.ndarray:
        """``(num_frames,)`` loudness of the blocks added so far (0 throughout when they were silent)."""
        from .head_motion import loudness_of_energy

        energy = np.zeros(num_frames, np.float64)
        if is_silent(self.peak):
            return energy.astype(np.float32)
        for first, part in self._parts:
            end = min(num_frames, first + len(part))
            if end > first:
                energy[first:end] += part[: end - first]
        return loudness_of_energy(energy, SAMPLE_RATE, fps=self.fps)


def animate_file(
    input_path,
    output_path,
    *,
    transcript: str | None = None,
    emotion=None,
    emotion_track=None,
    rig: str | Path | None = "default",
    fps: float | None = None,
    video=None,
    mode: str = "learned",
    weights=None,
    blink: bool = True,
    flame_model=None,
    flame_embedding=None,
    head: bool = True,
    gaze: bool = True,
    seed: int = 0,
    progress: bool = False,
    speech_check: bool = False,
) -> FaceAnimation:
    """Animate an audio file and write the result; the type follows ``output_path``'s extension.

    Parameters
    ----------
    input_path : audio file (anything :func:`facecraft.audio2face.audio.load_audio` reads).
    output_path : ``.glb`` (needs a rig: ``rig``), ``.csv`` (Live Link Face), ``.npz`` or ``.json``.
    transcript : text; the procedural mode aligns it (the learned mode does not need it).
    emotion : any form :func:`facecraft.rigs.emotion_space.parse_emotion` accepts: a name, ``"name:intensity"``,
        AU / ARKit weights (``"AU12=0.6"``, a dict), a few words (``"a shy smile"``), an EmotionCode, an
        EmotionTrack or its JSON file, codes; None is neutral. ``emotion_track``: the same, for a track.
    rig : any spec :func:`facecraft.rigs.load_rig` accepts (``"default"``, ``.safetensors``, glTF/GLB, an ICT
        FaceKit folder): the GLB's mesh and the preview's face.
    fps : output frame rate; None: 60 for ``.csv`` (the iPhone's Live Link Face rate), 30 otherwise
        (:func:`default_fps`).
    video : optional MP4 preview path (rendered on ``rig``, with the input's sound).
    mode : ``"learned"`` or ``"procedural"``.
    weights : a trained model (path or A2FModel) instead of the shipped one.
    blink : add procedural blinks.
    head : add speech-driven head motion (``head_rotation``: nods and sway); False keeps the head still.
    gaze : add eye movements (``eye_rotation`` and the ``eyeLook*`` curves: fixations and saccades).
    seed : seed of the blinks' partner tracks: head sway and gaze.
    progress : show a progress bar (stderr) while a file over :data:`STREAM_ABOVE_S` is animated block by block
        (either mode).
    speech_check : warn when the audio has little speech in it (music or noise,
        :func:`facecraft.audio2face.audio.warn_little_speech`); off by default, as its voice activity pass costs
        about 5% of the audio's length, which a batch of lines would pay per file. The command line's single file
        turns it on. Files over :data:`STREAM_ABOVE_S` are not checked.
    flame_model : a FLAME model file (``generic_model.pkl`` / ``flame2023.pkl`` or an ``.npz`` with the same
        keys; see :class:`facecraft.rigs.flame.FlameRig`). The final ARKit curves are retargeted from the
        default rig to it (:func:`facecraft.rigs.retarget.retarget_to_flame`), giving FLAME expression (T, E)
        and jaw pose (T, 3) for any mode. When the learned model has FLAME heads, its own outputs are used
        instead (logged; the file is still loaded and checked). FLAME parameters are stored only by the
        ``.npz`` and ``.json`` writers: with ``flame_model`` and any other output type a
        :class:`ParameterError` is raised before anything runs. Missing or unreadable files raise FlameRig's
        errors, which name the file.
    flame_embedding : the FLAME landmark embedding (``flame_static_embedding.pkl`` or DECA's
        ``landmark_embedding.npy``) when ``flame_model`` holds none (the official files hold none); it
        gives the semantic points the retargeting matches.

    FLAME output without ``flame_model``: a learned model with FLAME heads fills the animation's
    ``flame_expression`` / ``flame_jaw`` (written to ``.npz`` / ``.json``; other types drop them, logged at info level).
    Files longer than :data:`STREAM_ABOVE_S` run through the streaming path, which gives ARKit curves only:
    there the model's heads are not used, and FLAME values come only from ``flame_model`` (a warning says so).
    In procedural mode they run block by block too, with phones recognised: a transcript is not aligned there
    (a warning says so).

    Returns
    -------
    FaceAnimation (also written to ``output_path``).
    """
    from facecraft.rigs.exchange import export_animation

    out = Path(output_path)
    fps = default_fps(out) if fps is None else float(fps)
    emo = resolve_emotion(emotion, emotion_track)
    if mode not in ("learned", "procedural"):
        raise ParameterError(f"mode: expected 'learned' or 'procedural', got {mode!r}")
    if flame_model is None and flame_embedding is not None:
        raise ParameterError("flame_embedding (--flame-embedding) needs flame_model (--flame-model)")
    if flame_model is not None and out.suffix.lower() not in FLAME_SUFFIXES:
        raise ParameterError(
            f"--flame-model: FLAME parameters are written only to {', '.join(FLAME_SUFFIXES)} files; "
            f"{out.name!r} would drop them (use an .npz or .json output, or leave out --flame-model)"
        )
    if video is not None:
        from facecraft.rigs.video import check_video_path

        check_video_path(video)  # before the work, not after it
    flame = None if flame_model is None else load_flame(flame_model, flame_embedding)
    duration = audio_duration(input_path)
    if note := late_keys_note(emo, duration):
        log.warning("%s: %s", input_path, note)
    if duration > STREAM_ABOVE_S:
        log.info("%s is %.0f s long: animating in %g s blocks", input_path, duration, BLOCK_S)
        # the head follows the loudness of the blocks the animation reads (a second read took as long again)
        gathered = BlockLoudness(fps) if (head or gaze) else None
        on_block = None if gathered is None else gathered.add
        if mode == "learned":
            anim = animate_stream_file(input_path, emotion=emo, weights=weights, block_s=BLOCK_S, progress=progress,
                                       on_block=on_block, fps=fps)  # fmt: skip
            if blink:
                anim.curves = add_blinks(anim.curves, fps=anim.fps)
        else:
            anim = _procedural_stream_file(
                input_path, emotion=emo, transcript=transcript, fps=fps, blink=blink, progress=progress,
                on_block=on_block,
            )  # fmt: skip
        if gathered is not None:
            anim = add_head_and_gaze(anim, gathered.loudness(anim.num_frames), head=head, gaze=gaze, seed=seed)
        if mode == "learned" and flame is None and model_has_flame(resolve_model(weights)):
            log.warning(
                "%s: long files are animated block by block, which gives ARKit curves only; the model's FLAME "
                "heads are not used (pass --flame-model to get FLAME parameters by retargeting)", input_path
            )  # fmt: skip
        if flame is not None:
            log.info("retargeting %d frames to FLAME (%s)", anim.num_frames, flame.source)
        anim = _add_flame(anim, flame, model_heads=False)
    else:
        y, sr = load_audio(input_path)
        if speech_check:
            warn_little_speech(y, str(input_path), sr)
        anim = animate_audio(
            y, sr=sr, emotion=emo, transcript=transcript, mode=mode, weights=weights, fps=fps, blink=blink,
            flame_model=flame, head=head, gaze=gaze, seed=seed,
        )  # fmt: skip
    if (anim.flame_expression is not None or anim.flame_jaw is not None) and out.suffix.lower() not in FLAME_SUFFIXES:
        log.info("%s: FLAME parameters are written only to %s files; not stored here", out, ", ".join(FLAME_SUFFIXES))
    anim.meta["source"] = str(input_path)
    anim.meta["emotion"] = emotion_record(emotion if emotion_track is None else emotion_track)
    if anim.meta.get("silent"):
        log.warning("%s: the audio is silent (%s)", input_path, anim.meta["silent"])
    if anim.meta.get("levelled"):
        log.warning("%s: %s", input_path, anim.meta["levelled"])
    if anim.mouth_cues is None and mode == "learned":
        anim.mouth_cues = curves_to_mouth_cues(anim.curves, fps=anim.fps)
    rig_obj = load_rig(rig) if (out.suffix.lower() == ".glb" or video) else None
    export_animation(anim, out, rig=rig_obj if out.suffix.lower() == ".glb" else None)
    if video:
        from facecraft.rigs.video import animation_to_mp4

        animation_to_mp4(rig_obj, anim, video, audio=str(input_path))
    return anim


# Lip gaps (lip_state.lip_gap, jaw units) from which a frame reads as Rhubarb's D (wide open) and C (open); below
# CUE_OPEN_GAP it is B. Checked on held-out real speech (the bench's clips but Cathy's) against the phones' own cues
# (visemes.mouth_cues) after the gap began to count the lips' own parting: with the shipped stage-6 model these values
# still match best (recall over B, C, D and X 44.7%; 42.1% at 0.4 / 0.2, which suit the teacher's curves better).
CUE_WIDE_GAP = 0.35
CUE_OPEN_GAP = 0.15
# Rest (X) needs the jaw nearly closed as well as the lips together: /s/ holds the jaw at 0.02 with the lips apart,
# and a model's lips may read as together mid-speech while its jaw is open.
CUE_REST_JAW = 0.04


def curves_to_mouth_cues(curves: np.ndarray, *, fps: float, min_frames: int = 2) -> list[dict]:
    """Rhubarb-style mouth cues read back from curves (learned mode has no phones).

    Per frame: A when the lips are sealed (:func:`facecraft.audio2face.lip_state.is_sealed`: shut and
    pressed, Rhubarb's closed mouth with pressure for /p b m/); X (rest) when the lips are shut but not pressed
    (gap at most :data:`~facecraft.audio2face.lip_state.SEALED_GAP`), the jaw below :data:`CUE_REST_JAW` and
    nothing rounded; F when
    puckered or funnelled; D/C/B by the lip gap (:func:`~facecraft.audio2face.lip_state.lip_gap`) against
    :data:`CUE_WIDE_GAP` and :data:`CUE_OPEN_GAP`. Runs shorter than ``min_frames`` merge into the previous cue.
    """
    c = np.asarray(curves, np.float32)
    jaw = c[:, ARKIT_INDEX["jawOpen"]]
    round_ = np.maximum(c[:, ARKIT_INDEX["mouthPucker"]], c[:, ARKIT_INDEX["mouthFunnel"]])
    gap = lip_gap(c)
    sealed = is_sealed(c)
    labels = []
    for j, g, r, shut in zip(jaw, gap, round_, sealed, strict=True):
        if shut:
            labels.append("A")
        elif j < CUE_REST_JAW and g <= SEALED_GAP and r < 0.1:
            labels.append("X")
        elif r > 0.3:
            labels.append("F")
        elif g > CUE_WIDE_GAP:
            labels.append("D")
        elif g > CUE_OPEN_GAP:
            labels.append("C")
        else:
            labels.append("B")
    cues: list[dict] = []
    i = 0
    while i < len(labels):
        j = i
        while j < len(labels) and labels[j] == labels[i]:
            j += 1
        if cues and (j - i) < min_frames:
            cues[-1]["end"] = round(j / fps, 4)
        elif cues and cues[-1]["value"] == labels[i]:
            cues[-1]["end"] = round(j / fps, 4)
        else:
            cues.append({"start": round(i / fps, 4), "end": round(j / fps, 4), "value": labels[i]})
        i = j
    return cues
