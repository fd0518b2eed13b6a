"""Editor-side funnel: the lips laid out as a rounded "O" in place of the rig's gaping funnel."""

from __future__ import annotations

import numpy as np
import pytest

from facecraft.rigs import ARKIT_INDEX, NUM_ARKIT
from facecraft.rigs.default_rig import LIPS_LOWER_INNER, LIPS_UPPER_INNER
from facecraft.synth.mouth_shapes import (
    FUNNEL_NARROW,
    FUNNEL_OPENING,
    JAW_FADE,
    funnel_motion,
    funnel_part,
    lip_layers,
)
from facecraft.synth.warp import face_width

from .warp_helpers import astronaut_points

FUNNEL, JAW = ARKIT_INDEX["mouthFunnel"], ARKIT_INDEX["jawOpen"]


def _inner_gap(points: np.ndarray, k: int) -> float:
    """Distance between the k-th upper and lower inner lip points (same index along the contours)."""
    return float(np.linalg.norm(points[LIPS_UPPER_INNER[k]] - points[LIPS_LOWER_INNER[k]]))


def test_no_funnel_no_motion():
    _, src, _ = astronaut_points()
    assert not np.any(funnel_motion(src, 0.0, face_width=face_width(src)))


def test_the_lips_round_into_an_o_and_the_corners_come_in():
    _, src, _ = astronaut_points()
    fw = face_width(src)
    dst = src + funnel_motion(src, 1.0, face_width=fw)
    width = float(np.linalg.norm(src[291] - src[61]))
    narrowed = float(np.linalg.norm(dst[291] - dst[61]))
    assert narrowed == pytest.approx((1 - FUNNEL_NARROW) * width, rel=0.05)  # the corners come in
    mid = len(LIPS_UPPER_INNER) // 2
    opened = _inner_gap(dst, mid) - _inner_gap(src, mid)
    assert opened == pytest.approx(FUNNEL_OPENING * width, rel=0.25)  # an "oo" opening in the middle
    near_corner = _inner_gap(dst, 1) - _inner_gap(src, 1)
    assert near_corner < 0.7 * opened  # ... rounded: four fifths of the way out it parts by 0.6 of that
    # The upper lip moves up, the lower one down; the skin far from the lips stays.
    assert dst[LIPS_UPPER_INNER[mid], 1] < src[LIPS_UPPER_INNER[mid], 1]
    assert dst[LIPS_LOWER_INNER[mid], 1] > src[LIPS_LOWER_INNER[mid], 1]
    for far in (10, 33, 263, 152):  # forehead, eye corners, chin
        assert np.linalg.norm(dst[far] - src[far]) < 0.01 * fw


def test_the_funnel_keeps_most_of_the_mouths_width():
    # A funnel's corners come in moderately: narrowed by a fifth, MediaPipe read the "O" as mouthPucker.
    _, src, _ = astronaut_points()
    dst = src + funnel_motion(src, 1.0, face_width=face_width(src))
    width = float(np.linalg.norm(src[291] - src[61]))
    assert float(np.linalg.norm(dst[291] - dst[61])) > 0.82 * width


def test_lip_layers_split_the_lips_from_inner_to_outer_contour():
    lips, upper, depth = lip_layers()
    assert set(LIPS_UPPER_INNER) <= set(lips.tolist()) and set(LIPS_LOWER_INNER) <= set(lips.tolist())
    assert upper[LIPS_UPPER_INNER[4]] and not upper[LIPS_LOWER_INNER[4]]
    assert depth[LIPS_UPPER_INNER[4]] < 0.1 and depth[0] > 0.9  # 0: the upper lip's outer contour, middle


def test_funnel_part_fades_out_as_the_jaw_opens():
    change = np.zeros(NUM_ARKIT)
    change[FUNNEL] = 2.0
    assert funnel_part(change)[FUNNEL] == pytest.approx(2.0)
    change[JAW] = JAW_FADE  # surprise's funnel rounds a dropped jaw: the rig's shape stays
    assert funnel_part(change)[FUNNEL] == pytest.approx(0.0)
    change[JAW], change[FUNNEL] = 0.0, -0.5
    assert not funnel_part(change).any()  # a funnel taken away is the rig's
