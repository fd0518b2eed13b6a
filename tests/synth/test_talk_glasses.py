"""A talking portrait's glasses frame kept straight the still editor's way: the face moves fully behind it."""

from __future__ import annotations

import functools

import cv2
import numpy as np
import pytest

from facecraft.rigs import ARKIT_INDEX
from facecraft.synth.talk_render import HeadMotion, PortraitRenderer

from .test_glasses_frame import brow_region, glasses_on_astronaut
from .warp_helpers import astronaut_points

_UP = ["browInnerUp", "browOuterUpLeft", "browOuterUpRight"]


@pytest.fixture(scope="module")
def renderers(editor):
    """(with glasses kept, the same face without glasses, the drawn frame): renderers of one face and fit."""
    img, _, drawn = glasses_on_astronaut()
    bare, _, _ = astronaut_points()
    face = editor.analyze(img)[0]
    lm, gaze = face.info.landmarks, np.clip(face.info.blendshapes, 0.0, 1.0)
    make = functools.partial(PortraitRenderer, landmarks=lm, fit=face.fit, gaze=gaze)
    return make(img, keep_glasses=True), make(bare), drawn


@pytest.mark.parametrize("look", [None, "eyeLookUpLeft"])
def test_the_brows_rise_behind_a_kept_frame_as_far_as_on_the_bare_face(renderers, look):
    kept, bare, drawn = renderers
    change = np.zeros(52)
    change[[ARKIT_INDEX[name] for name in _UP]] = 1.0
    if look:  # the eyes turn too: the turned photo is warped without its frame as well
        change[[ARKIT_INDEX["eyeLookUpLeft"], ARKIT_INDEX["eyeLookUpRight"]]] = 0.6
    with_frame, without = kept.render(change).image, bare.render(change).image
    assert np.abs(with_frame.astype(int) - kept.image.astype(int)).max(axis=2)[drawn].max() <= 3  # the frame stays
    box, region = brow_region(kept.src, drawn)

    def rise(renderer: PortraitRenderer, frame: np.ndarray) -> float:  # mean change there, grey levels
        return float(np.abs(frame.astype(int) - renderer.image.astype(int)).max(axis=2)[box][region].mean())

    assert rise(bare, without) > 15  # the brows rise
    assert rise(kept, with_frame) > 0.5 * rise(bare, without)  # ... about as far behind the frame (held: a fifth)


def test_a_kept_frame_moves_with_the_head_and_its_photo_is_made_once(renderers, monkeypatch):
    import facecraft.synth.talk_render as talk_render

    kept, _, drawn = renderers
    monkeypatch.setattr(talk_render, "take_out_frame", None)  # the frameless photo is not made again per frame
    change = np.zeros(52)
    change[[ARKIT_INDEX[name] for name in _UP]] = 1.0
    turn = HeadMotion(angle_deg=3.0, shift=(2.0, -1.0))
    both, head_only = kept.render(change, turn).image, kept.render(np.zeros(52), turn).image
    moved = kept.move_points(np.stack(np.nonzero(drawn)[::-1], 1).astype(np.float64), turn)
    at = np.round(moved).astype(int)
    frame_now = np.zeros(drawn.shape, bool)
    frame_now[at[:, 1], at[:, 0]] = True
    frame_now &= cv2.erode(frame_now.astype(np.uint8), np.ones((3, 1), np.uint8)) > 0  # off the rims' edges
    assert frame_now.sum() > 0.3 * drawn.sum()
    assert np.abs(head_only.astype(int) - (25, 20, 20)).max(axis=2)[frame_now].mean() < 12  # the frame, turned
    assert np.abs(both.astype(int) - head_only.astype(int)).max(axis=2)[frame_now].mean() < 3  # not bent by the brows
