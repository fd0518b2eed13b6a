"""A tongue stuck out: painted over the lower lip under the upper one, pink, only from where it passes the teeth."""

from __future__ import annotations

import numpy as np
import pytest

from facecraft.rigs import ARKIT_INDEX
from facecraft.rigs.default_rig import LIPS_LOWER_OUTER, LIPS_UPPER_OUTER
from facecraft.rigs.face_parts import TONGUE_SHOWS_AT
from facecraft.synth.controls import EditControls
from facecraft.synth.mouth import mouth_frame
from facecraft.synth.tongue import paint_tongue_out, tongue_colour, tongue_out_amount
from facecraft.synth.warp import WarpResult

from .warp_helpers import astronaut_points


def _unedited(img: np.ndarray) -> WarpResult:
    return WarpResult(img, np.zeros(img.shape[:2], np.float32))


def test_the_tongue_shows_only_past_the_teeth():
    assert tongue_out_amount(0.0) == 0.0 and tongue_out_amount(TONGUE_SHOWS_AT) == 0.0
    assert tongue_out_amount(1.0) == 1.0 and 0.0 < tongue_out_amount(0.6) < 1.0
    img, src, depth = astronaut_points()
    res = paint_tongue_out(_unedited(img), img, src, src, 0.9 * TONGUE_SHOWS_AT, depth=depth)
    assert res.image is img and not res.mask.any()


def test_a_tongue_out_covers_the_lower_lip_and_hangs_below_it_in_pink():
    img, src, depth = astronaut_points()
    res = paint_tongue_out(_unedited(img), img, src, src, 1.0, depth=depth)
    frame = mouth_frame(src)
    mid = 0.5 * frame.width
    below = src[list(LIPS_LOWER_OUTER)][5] + 0.15 * frame.width * frame.v_axis  # under the lower lip's middle
    x, y = np.round(below).astype(int)
    before, after = img[y, x].astype(float), res.image[y, x].astype(float)
    assert np.abs(after - before).max() > 20, (before, after)  # the chin is covered
    assert after[0] - after[1] > 25, after  # pink: red well above green
    assert res.mask[y, x] > 0.9
    # the upper lip stays in front of it; the skin beside the mouth is untouched
    upper = src[list(LIPS_UPPER_OUTER)][5] - 0.02 * frame.width * frame.v_axis
    ux, uy = np.round(upper).astype(int)
    assert np.array_equal(res.image[uy, ux], img[uy, ux])
    cx, cy = np.round(frame.to_image(np.array([mid + 0.9 * frame.width]), np.array([0.0]))).astype(int).ravel()
    assert np.array_equal(res.image[cy, cx], img[cy, cx]) and res.mask[cy, cx] == 0


@pytest.mark.parametrize("lips", [np.array([170.0, 90.0, 95.0]), np.array([95.0, 60.0, 50.0])])
def test_the_tongue_is_pink_and_about_as_bright_as_the_lips(lips):
    pink = tongue_colour(lips)
    luma = np.array([0.299, 0.587, 0.114])
    assert abs(pink @ luma - lips @ luma) < 0.15 * (lips @ luma)
    assert pink[0] > pink[2] >= pink[1] - 1.0, pink  # brown lips (blue below green) give a pink tongue too


def test_the_editor_puts_the_tongue_out_for_a_control_and_for_words(editor, astronaut, astronaut_faces):
    from facecraft.synth.editor import mesh_targets

    face = astronaut_faces[0]
    opened = editor.apply(astronaut, astronaut_faces, EditControls.from_args(arkit={"jawOpen": 0.3}))
    _, dst = mesh_targets(face, opened.faces[0].rig_change)
    frame = mouth_frame(dst)
    # just under the opened mouth's lower lip, in its middle: chin skin without a tongue
    x, y = np.round(dst[list(LIPS_LOWER_OUTER)][5] + 0.06 * frame.width * frame.v_axis).astype(int)
    for controls in (
        EditControls.from_args(arkit={"jawOpen": 0.3, "tongueOut": 0.9}),
        EditControls.from_args(text="sticking her tongue out"),
    ):
        out = editor.apply(astronaut, astronaut_faces, controls)
        assert out.faces[0].weights_after[ARKIT_INDEX["tongueOut"]] > 0.6
        change = np.abs(out.image[y, x].astype(float) - opened.image[y, x].astype(float))
        assert change.max() > 20, (controls, out.image[y, x], opened.image[y, x])


def test_words_set_the_tongue_and_a_slider_wins():
    assert EditControls.from_args(text=":P").target()[ARKIT_INDEX["tongueOut"]] > 0.6
    assert EditControls.from_args(text="a tongue-in-cheek smile").target()[ARKIT_INDEX["tongueOut"]] == 0.0
    slider = EditControls.from_args(text="tongue out", arkit={"tongueOut": 0.2})
    assert slider.target()[ARKIT_INDEX["tongueOut"]] == pytest.approx(0.2)


def test_the_upper_teeth_of_parted_lips_stay_in_front_of_the_tongue():
    img, src, depth = astronaut_points()  # a smile parted over the teeth
    res = paint_tongue_out(_unedited(img), img, src, src, 1.0, depth=depth)
    frame = mouth_frame(src)
    mid = np.array([0.5 * frame.width])
    up, lo = (float(v[0]) for v in frame.profile(mid))
    assert lo - up > 3.0  # the photo's lips are apart
    x, y = np.round(frame.to_image(mid, np.array([up + 0.3 * (lo - up)]))).astype(int).ravel()
    assert np.array_equal(res.image[y, x], img[y, x])  # the tongue was pasted over the teeth
    x, y = np.round(frame.to_image(mid, np.array([lo + 2.0]))).astype(int).ravel()
    assert not np.array_equal(res.image[y, x], img[y, x])  # ... and it lies over the lower lip
