"""A streamed talking portrait keeps the gaze its emotion's words name ("looking down, sad"), as the offline path does:
the eyes turn there, the speech's saccades move around it, and ``gaze=False`` holds them still there."""

from __future__ import annotations

import logging

import numpy as np
import pytest

from facecraft.rigs import ARKIT_INDEX

PITCH = 1  # eye_rotation_from_curves: (left yaw, pitch, roll, right yaw, pitch, roll), pitch positive down


@pytest.fixture(scope="module")
def plain_editor():
    from facecraft.synth.calibration import EditorCalibration
    from facecraft.synth.editor import FaceEditor

    with FaceEditor(calibration=EditorCalibration.identity()) as e:
        yield e


def _speech() -> np.ndarray:
    """1.2 s of a voiced buzz (the talk tests' synthetic sound), in chunks as a stream gets them."""
    t = np.arange(int(1.2 * 16000)) / 16000
    return (0.2 * np.sin(2 * np.pi * 140 * t) * (0.6 + 0.4 * np.sin(2 * np.pi * 3 * t))).astype(np.float32)


def _streamed_gaze(portrait, monkeypatch, **kw) -> np.ndarray:
    """The eye rotations ``(T, 6)`` degrees that a stream's frames turn the eyes to (the photo's gaze moved by each
    frame's rig change, as the renderer turns them: :func:`facecraft.synth.gaze.gaze_after`)."""
    from facecraft.rigs.animation import eye_rotation_from_curves
    from facecraft.synth import talk_render
    from facecraft.synth.gaze import gaze_after

    turned = []

    def render(self, change, head=None, **_):
        turned.append(gaze_after(portrait.rest_scores, change))
        return talk_render.WarpResult(portrait.image, np.zeros(portrait.image.shape[:2], np.float32))

    monkeypatch.setattr(talk_render.PortraitRenderer, "render", render)
    y = _speech()
    list(portrait.stream([y[i : i + 1600] for i in range(0, len(y), 1600)], fps=25, **kw))
    monkeypatch.undo()
    return eye_rotation_from_curves(np.array(turned, np.float32))


def test_a_stream_turns_the_eyes_where_its_words_look(astronaut, plain_editor, monkeypatch, caplog):
    # the stream parsed the words into a code: "'looking down' moves the gaze down, which an AU vector does not hold",
    # and the eyes looked where the photo's do
    from facecraft.rigs.animation import eye_rotation_from_curves
    from facecraft.synth.talk_portrait import TalkingPortrait, emotion_and_look

    portrait = TalkingPortrait(astronaut, editor=plain_editor, size=256, motion=0.0)
    own = eye_rotation_from_curves(portrait.rest_scores.astype(np.float32))
    plain = _streamed_gaze(portrait, monkeypatch, emotion="sadness")
    with caplog.at_level(logging.WARNING):
        down = _streamed_gaze(portrait, monkeypatch, emotion="looking down, sad")
    assert "moves the gaze" not in caplog.text
    look = emotion_and_look("looking down, sad")[1]
    asked = eye_rotation_from_curves(look.astype(np.float32))
    assert asked[PITCH] > 10.0  # the words look down (0.75 of the full pitch)
    assert np.abs(plain[0] - own).max() < 0.5  # without gaze words the stream starts where the photo looks
    # the eyes turn to the words' gaze, and the speech's saccades move around it as around the photo's
    np.testing.assert_allclose(down - asked, plain - own, atol=0.05)
    assert np.ptp(down[:, 0]) > 1.0 or np.ptp(down[:, PITCH]) > 1.0  # the saccades still move the eyes


def test_without_gaze_the_stream_holds_the_eyes_still_where_the_words_look(astronaut, plain_editor, monkeypatch):
    from facecraft.rigs.animation import eye_rotation_from_curves
    from facecraft.synth.talk_portrait import TalkingPortrait, emotion_and_look

    fixed = TalkingPortrait(astronaut, editor=plain_editor, size=256, motion=0.0, gaze=False)
    own = eye_rotation_from_curves(fixed.rest_scores.astype(np.float32))
    asked = eye_rotation_from_curves(emotion_and_look("looking down, sad")[1].astype(np.float32))
    plain = _streamed_gaze(fixed, monkeypatch, emotion="sadness")
    down = _streamed_gaze(fixed, monkeypatch, emotion="looking down, sad")
    np.testing.assert_allclose(plain, np.broadcast_to(own, plain.shape), atol=1e-4)  # the photo's, still
    np.testing.assert_allclose(down, np.broadcast_to(asked, down.shape), atol=0.05)  # the words', still
    assert fixed.renderer.eyes(fixed.change_for(np.zeros(52), look=emotion_and_look("looking down")[1])) is not None


def test_words_without_a_gaze_or_a_code_ask_no_look():
    from facecraft.synth.talk_portrait import emotion_and_look

    code, look = emotion_and_look("looking up")
    assert look[ARKIT_INDEX["eyeLookUpLeft"]] > 0.3 and look[ARKIT_INDEX["eyeLookDownLeft"]] == 0.0
    assert emotion_and_look("sadness:0.8")[1] is None and emotion_and_look(None) == (None, None)


def _what_each_path_reads(portrait, words, monkeypatch, tmp_path) -> dict:
    """What ``talk(portrait=..., emotion=words)`` and ``portrait.stream(emotion=words)`` give the speech model (the
    emotion code's vector) and every frame (the emotion code it shows, the gaze it turns to), models left out."""
    from facecraft.audio2face import stream
    from facecraft.synth import talk_portrait
    from facecraft.synth.talk_portrait import TalkingPortrait

    seen: dict = {"talk": [], "stream": []}
    path = ["talk"]

    def curves(y, sr, fps, emo, *rest, **kw):
        seen[path[0]].append(None if emo is None else np.round(emo.vector, 6).tolist())
        return np.zeros((len(y) * 25 // sr, 52), np.float32), None, None

    class Animator:
        fps = 25.0

        def __init__(self, model, emotion=None, **kw):
            seen[path[0]].append(None if emotion is None else np.round(emotion.vector, 6).tolist())

        def push(self, y):
            return np.zeros((len(y) // 640, 52), np.float32)

        def flush(self):
            return np.zeros((0, 52), np.float32)

    def render(self, row, head=None, *, emotion=None, seal=None, look=None):
        shown = None if emotion is None else np.round(np.asarray(emotion), 6).tolist()
        seen[path[0]].append((shown, None if look is None else np.round(look, 6).tolist()))
        return self.image

    monkeypatch.setattr(talk_portrait, "_curves_and_fit", curves)
    monkeypatch.setattr(stream, "StreamingAnimator", Animator)
    monkeypatch.setattr("facecraft.audio2face.animate.resolve_model", lambda weights: None)
    monkeypatch.setattr(TalkingPortrait, "render", render)
    monkeypatch.setattr("facecraft.rigs.video.write_mp4", lambda frames, out, **kw: [*frames] and out)
    y = (0.1 * np.sin(np.arange(6400) / 5)).astype(np.float32)
    talk_portrait.talk(None, (y, 16000), tmp_path / "unused.mp4", portrait=portrait, emotion=words)
    path[0] = "stream"
    list(portrait.stream([y], fps=25, emotion=words))
    monkeypatch.undo()
    return seen


@pytest.mark.parametrize("words", ["looking down, sad", "very happy, glancing slightly to the left", "sadness:0.6"])
def test_talk_and_a_stream_read_an_emotion_alike(astronaut, plain_editor, editor, monkeypatch, tmp_path, words):
    # talk(portrait=...) drew no expression on a plain portrait (the curves' tint alone) and dropped the words' gaze,
    # where its stream drew both; on a portrait made with an emotion the stream gave the speech model the whole code
    # (the face's AUs too), talk its speaking style
    from facecraft.synth.talk_portrait import TalkingPortrait

    plain = TalkingPortrait(astronaut, editor=plain_editor, size=192, motion=0.0)
    made = TalkingPortrait(astronaut, editor=editor, size=192, motion=0.0, emotion="looking down, sad")
    for portrait in (plain, made):
        seen = _what_each_path_reads(portrait, words, monkeypatch, tmp_path)
        assert len(seen["talk"]) == len(seen["stream"]) == 11  # the model's emotion, then 10 frames
        assert seen["talk"] == seen["stream"], (portrait.emotion is None, words)
    shown, look = _what_each_path_reads(plain, words, monkeypatch, tmp_path)["talk"][1]
    assert shown is not None and (look is not None) == (":" not in words)  # drawn; words' gaze turned
