"""A talking portrait's emotion words that name a gaze ("looking down, sad") turn its eyes, as the editor's words do."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

import numpy as np

from facecraft.rigs import ARKIT_INDEX

DOWN = [ARKIT_INDEX["eyeLookDownLeft"], ARKIT_INDEX["eyeLookDownRight"]]
BROWS_UP = ARKIT_INDEX["browInnerUp"]


def test_words_that_look_down_turn_the_portraits_eyes_down_with_the_emotion(astronaut, editor):
    # "looking down, sad" went through text_to_au, which leaves the gaze out: a sad face looking ahead
    from facecraft.rigs.emotion_space import EmotionCode
    from facecraft.synth.talk_portrait import TalkingPortrait

    sad = TalkingPortrait(astronaut, editor=editor, size=384, emotion="sadness")
    down = TalkingPortrait(astronaut, editor=editor, size=384, emotion="looking down, sad")
    assert down.rest_scores[DOWN].mean() > sad.rest_scores[DOWN].mean() + 0.1, (
        down.rest_scores[DOWN], sad.rest_scores[DOWN])  # fmt: skip
    assert down.rest_scores[BROWS_UP] > 0.8 * sad.rest_scores[BROWS_UP]  # the sadness is still drawn
    assert np.allclose(down.emotion.vector, EmotionCode.from_text("looking down, sad").vector)  # the one reader


def test_emotion_words_are_read_without_the_gaze_left_out_warning(caplog):
    from facecraft.synth.talk_portrait import _still_emotion

    with caplog.at_level(logging.WARNING):
        code = _still_emotion("looking down, sad")
    assert code is not None and "moves the gaze" not in caplog.text


def test_the_command_line_gives_the_words_to_the_portrait(tmp_path, monkeypatch, caplog):
    # --emotion was parsed into a code before talk(): its gaze dropped, with a warning that it was left out
    from facecraft.synth import talk_cli, talk_portrait

    photo, speech = tmp_path / "face.png", tmp_path / "line.wav"
    photo.write_bytes(b"png"), speech.write_bytes(b"wav")
    given = []

    def talk(photo, audio, out_mp4, **kw):
        given.append(kw["emotion"])
        return talk_portrait.TalkResult(Path(out_mp4), 25, 25.0, np.zeros((25, 52)))

    monkeypatch.setattr(talk_portrait, "talk", talk)
    parser = argparse.ArgumentParser()
    talk_cli.register(parser.add_subparsers())
    args = parser.parse_args(["talk", str(photo), str(speech), "-o", str(tmp_path / "o.mp4"), "--emotion",
                              "looking down, sad"])  # fmt: skip
    with caplog.at_level(logging.WARNING):
        assert args.func(args) == 0
    assert given == ["looking down, sad"] and "moves the gaze" not in caplog.text
    args = parser.parse_args(["talk", str(photo), str(speech), "-o", str(tmp_path / "o.mp4"), "--emotion", "sadness"])
    args.func(args)
    assert not isinstance(given[-1], str)  # a name is parsed before any work, as before
