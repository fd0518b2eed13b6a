"""The photo's own blur, measured at strong edges: what the painters soften their strokes to."""

from __future__ import annotations

import numpy as np

from facecraft.synth.photo_blur import photo_blur

from .warp_helpers import astronaut_points, edged_canvas


def test_photo_blur_measures_how_soft_the_photo_is():
    _, src, _ = astronaut_points()
    big = src * 3  # room for the blocks between the brows and the nose
    sharp, soft, softer = (photo_blur(edged_canvas(big, s), big) for s in (0.0, 2.0, 4.0))
    assert sharp < 1.0
    assert 1.4 < soft < 2.8 and 2.8 < softer < 5.5
    assert photo_blur(np.full((600, 600, 3), 170, np.uint8), big) == 1.0  # nothing to measure: a sharp photo's
