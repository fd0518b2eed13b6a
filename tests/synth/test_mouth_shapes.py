"""Editor-side funnel: the lips laid out as a rounded "O" in place of the rig's gaping funnel."""

from __future__ import annotations

import numpy as np
import pytest

from facecraft.rigs import ARKIT_INDEX, NUM_ARKIT
from facecraft.rigs.default_rig import LIPS_LOWER_INNER, LIPS_UPPER_INNER
from facecraft.synth.controls import EditControls
from facecraft.synth.corner_frame import CornerFrame
from facecraft.synth.editor import mesh_targets
from facecraft.synth.mouth_shapes import (
    FUNNEL_NARROW,
    FUNNEL_OPENING,
    FUNNEL_TURN_OUT,
    JAW_FADE,
    funnel_motion,
    funnel_part,
    lip_layers,
)
from facecraft.synth.warp import face_width

from .warp_helpers import astronaut_points

FUNNEL, JAW = ARKIT_INDEX["mouthFunnel"], ARKIT_INDEX["jawOpen"]
ROLL_UP, ROLL_LO = ARKIT_INDEX["mouthRollUpper"], ARKIT_INDEX["mouthRollLower"]


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
    opened = _inner_gap(dst, mid)  # the astronaut's own opening (0.14 of the width) is laid out as the funnel's
    assert opened == pytest.approx(FUNNEL_OPENING * width, rel=0.25)  # an "oo" opening in the middle
    assert _inner_gap(dst, 1) < 0.7 * opened  # ... rounded: four fifths of the way out it parts by 0.6 of that
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


def test_funnel_part_takes_the_companions_roll_out_up_to_their_share():
    change = np.zeros(NUM_ARKIT)
    change[FUNNEL], change[ROLL_UP], change[ROLL_LO] = 2.0, -0.8, -3.0  # the lower roll: the request's own too
    part = funnel_part(change)
    taken = -0.8 * FUNNEL_TURN_OUT  # of the companion's share (-0.4 of the funnel's rise)
    assert part[ROLL_UP] == pytest.approx(taken) and taken < 0
    assert part[ROLL_LO] == pytest.approx(taken)  # ... no more: the rest is the request's, the rig's to draw
    change[ROLL_UP] = 0.5
    assert funnel_part(change)[ROLL_UP] == 0.0  # lips rolled in are not the funnel's


def _funnel_targets(editor, face) -> tuple[np.ndarray, np.ndarray]:
    """``(src, dst)`` mesh targets of ``mouthFunnel=0.8`` on an analysed face (the calibrated rig change)."""
    target = EditControls.from_args(arkit={"mouthFunnel": 0.8}).target(face.weights)
    return mesh_targets(face, editor.calibration.rig_change(face.weights, target, rig_now=face.fit.weights))


def _mouth(points: np.ndarray) -> tuple[float, float, float, float]:
    """``(upper lip, lower lip, opening, width)`` in pixels across the middle of the mouth, and how far the inner
    corners sit above the opening's middle as a share of its height (``lift``, last)."""
    frame = CornerFrame.between(points[61], points[291], v_down=True)
    _, v = frame.local(points)
    opening = v[14] - v[13]
    lift = (0.5 * (v[13] + v[14]) - 0.5 * (v[78] + v[308])) / opening
    return v[13] - v[0], v[17] - v[14], opening, lift


def test_the_funnel_turns_the_lips_out_without_swelling_them(editor, astronaut_faces):
    # The rig's roll-out (the funnel's companions) added about a tenth of the mouth's width to each lip whatever its
    # own thickness: the astronaut's thin upper lip grew 2.7-fold, both lips together 2.1-fold (now 2.0, 1.8).
    src, dst = _funnel_targets(editor, astronaut_faces[0])
    up_src, lo_src, _, _ = _mouth(src)
    up_dst, lo_dst, _, _ = _mouth(dst)
    assert 1.0 < up_dst / up_src < 2.3
    assert lo_dst > lo_src and (up_dst + lo_dst) / (up_src + lo_src) < 1.9


def test_a_smiling_open_mouth_funnels_into_a_rounded_opening(editor, astronaut_faces):
    # The astronaut smiles with her teeth showing: the funnel's opening added to her crescent left the inner corners
    # high above the opening's middle (0.61 of its height: a dark V-shaped hole); gathered along the mouth's middle
    # line they sit near it (an oval).
    src, dst = _funnel_targets(editor, astronaut_faces[0])
    assert _mouth(src)[3] > 0.8  # the photo's crescent
    _, _, opening, lift = _mouth(dst)
    assert lift < 0.4
    assert opening < 0.25 * float(np.linalg.norm(dst[291] - dst[61]))  # a small "oo", not a gaping mouth


def test_the_editors_funnel_is_a_dark_opening_not_a_white_lens_of_teeth(
    editor, astronaut, astronaut_faces, monkeypatch
):
    # the still editor tells the painter the lips are funnelled (FRLL calibration 014, mouthFunnel 0.8: a white lens of
    # teeth filled the small opening); a funnel the jaw opens with (surprise's companion) keeps an open mouth's teeth
    from facecraft.synth import mouth

    seen = []
    real = mouth.paint_mouth_interior

    def spy(*args, **kwargs):
        seen.append(kwargs.get("funnel", 0.0))
        return real(*args, **kwargs)

    monkeypatch.setattr(mouth, "paint_mouth_interior", spy)
    editor.apply(astronaut, astronaut_faces, EditControls.from_args(arkit={"mouthFunnel": 0.8}))
    funnelled = seen[-1]
    editor.apply(astronaut, astronaut_faces, EditControls.from_args(arkit={"jawOpen": 0.8, "mouthFunnel": 0.8}))
    assert funnelled > 0.6 and seen[-1] == 0.0


def test_a_speech_oo_is_a_rounded_o_on_speech_scale_and_an_open_vowel_none():
    # a speech "oo" (audio2face: mouthFunnel .31-.44 over a jaw of .12-.21) was 0.05 of a full funnel on the
    # editor's scale (FUNNEL_FULL rig units, faded by JAW_FADE): a box with both rows of teeth bare
    from facecraft.synth.mouth_shapes import SPEECH_FUNNEL_MOST, funnel_amount, speech_funnel_amount

    oo = np.zeros(NUM_ARKIT)
    oo[FUNNEL], oo[ARKIT_INDEX["mouthPucker"]], oo[JAW] = 0.35, 0.5, 0.17
    assert funnel_amount(oo)[1] < 0.1  # the editor's reading stays as it was
    part, amount = speech_funnel_amount(oo)
    assert amount == pytest.approx(SPEECH_FUNNEL_MOST)
    assert part[FUNNEL] == pytest.approx(0.35) and np.count_nonzero(part) == 1  # the rig's gaping funnel, all of it
    weaker = oo.copy()
    weaker[FUNNEL] = 0.2
    assert 0.0 < speech_funnel_amount(weaker)[1] < amount  # a growing funnel turns into the "O" without a jump
    weaker[FUNNEL] = 0.1  # the slight funnel of most vowels keeps the rig's shape
    assert speech_funnel_amount(weaker)[1] == 0.0
    ah = oo.copy()
    ah[JAW] = 0.6  # an open vowel's dropped jaw takes it away
    assert speech_funnel_amount(ah)[1] == 0.0
