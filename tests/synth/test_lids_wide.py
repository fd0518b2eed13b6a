"""Lids over a turned or widened eye: what a raised upper lid uncovers looks like the photo's own eye."""

from __future__ import annotations

import numpy as np

from facecraft.rigs import ARKIT_INDEX
from facecraft.synth.editor import render_face_change
from facecraft.synth.gaze import gaze_after, turn_eyes
from facecraft.synth.lids import _iris_discs


def test_an_eye_looking_up_keeps_its_catchlight_as_bright_as_the_turned_eyes(astronaut, astronaut_faces):
    # The rig's eyeLookUp raises the upper lids a little. The lids' painter resampled the turned eye at a sub-pixel
    # offset and, where the lid rose less than its margin band, blended it with the warp (which had stretched the
    # catchlight up the eye): the astronaut's brighter catchlight, 217 in the turned eye, came out 180.
    face = astronaut_faces[0]
    change = np.zeros(52)
    for name in ("eyeLookUpLeft", "eyeLookUpRight"):
        change[ARKIT_INDEX[name]] = 0.8 - face.weights[ARKIT_INDEX[name]]
    lm = face.info.landmarks
    turned = turn_eyes(astronaut, lm[:468, :2], lm, face.weights, gaze_after(face.weights, change))
    res = render_face_change(astronaut, face, change).image.astype(float).mean(2)
    own = turned.image.astype(float).mean(2)
    grid = np.mgrid[: astronaut.shape[0], : astronaut.shape[1]][::-1].astype(float)
    irises = np.zeros(own.shape, bool)
    for centre, radius in _iris_discs(turned.iris):
        irises |= np.hypot(*(grid - centre[:, None, None])) < 0.8 * radius
    assert own[irises].max() > 200
    assert res[irises].max() >= own[irises].max() - 8  # (before: 180 of 217)
