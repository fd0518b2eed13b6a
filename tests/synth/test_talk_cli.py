"""synth.talk_cli: what ``facecraft talk`` checks of its arguments before any work."""

from __future__ import annotations

import argparse

import pytest

from facecraft.rigs.errors import ParameterError


def _talk_args(*words: str) -> argparse.Namespace:
    from facecraft.synth import talk_cli

    parser = argparse.ArgumentParser()
    talk_cli.register(parser.add_subparsers())
    return parser.parse_args(["talk", *words])


def test_a_speech_given_before_the_photo_is_told_the_order(tmp_path, monkeypatch):
    # `facecraft talk speech.wav photo.jpg` said "photo.jpg: the file holds no audio stream", after reading speech.wav
    # as a photo
    from facecraft.synth import talk_portrait

    photo, speech = tmp_path / "photo.jpg", tmp_path / "speech.wav"
    photo.write_bytes(b"jpg"), speech.write_bytes(b"wav")  # only their names and presence are checked before talk
    monkeypatch.setattr(talk_portrait, "talk", lambda *a, **k: pytest.fail("talk ran with its inputs swapped"))
    args = _talk_args(str(speech), str(photo), "-o", str(tmp_path / "o.mp4"))
    with pytest.raises(ParameterError, match=r"the photo comes first \(facecraft talk PHOTO SPEECH\)$") as caught:
        args.func(args)
    assert str(speech) in str(caught.value) and str(photo) in str(caught.value)
    called = []  # the right order (and a video as the speech, its sound track) is not refused

    def talk(*args, **kwargs):
        called.append(args[:2])
        raise _Reached

    monkeypatch.setattr(talk_portrait, "talk", talk)
    video = tmp_path / "memo.MP4"
    video.write_bytes(b"mp4")
    for first, second in ((photo, speech), (photo, video)):
        args = _talk_args(str(first), str(second), "-o", str(tmp_path / "o.mp4"))
        with pytest.raises(_Reached):
            args.func(args)
    assert called == [(str(photo), str(speech)), (str(photo), str(video))]


class _Reached(Exception):
    """Raised by a stand-in for the talking-portrait work: the arguments were taken."""


def test_no_gaze_keeps_the_eyes_still(tmp_path, monkeypatch):
    """``--no-gaze`` gives talk() ``gaze=False`` (the eyes stay where the photo has them); by default they move."""
    from facecraft.synth import talk_portrait

    photo, speech = tmp_path / "face.png", tmp_path / "line.wav"
    photo.write_bytes(b"png"), speech.write_bytes(b"wav")
    asked = []

    def talk(*args, **kwargs):
        asked.append(kwargs["gaze"])
        raise _Reached

    monkeypatch.setattr(talk_portrait, "talk", talk)
    for extra in ((), ("--no-gaze",)):
        args = _talk_args(str(photo), str(speech), "-o", str(tmp_path / "o.mp4"), *extra)
        with pytest.raises(_Reached):
            args.func(args)
    assert asked == [True, False]
