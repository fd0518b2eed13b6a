"""Talking portraits: a speech "oo" is rounded lips round a small dark opening, and a shouting chin's band is covered
as in a still edit, not squeezed into a dark line."""

from __future__ import annotations

import numpy as np
import pytest

from facecraft.rigs import ARKIT_INDEX, NUM_ARKIT

from .warp_helpers import funnels_painted

JAW = ARKIT_INDEX["jawOpen"]


@pytest.fixture(scope="module")
def renderer(astronaut):
    from facecraft.synth.calibration import EditorCalibration
    from facecraft.synth.editor import FaceEditor
    from facecraft.synth.talk_portrait import TalkingPortrait

    with FaceEditor(calibration=EditorCalibration.identity()) as e:
        return TalkingPortrait(astronaut, editor=e, size=384).renderer


def test_a_speech_oo_rounds_the_lips_round_a_dark_opening(renderer, monkeypatch):
    # a speech "oo" (mouthFunnel .35, pucker .5, jaw .17: audio2face on espeak's "who knew, blue moon") reached 0.05
    # of a full funnel on the editor's scale: the rig's wide box, both rows of teeth bare, the corners hardly in
    from facecraft.synth import talk_render
    from facecraft.synth.mouth_shapes import FUNNEL_NARROW, SPEECH_FUNNEL_MOST

    asked = funnels_painted(monkeypatch, talk_render)
    oo = np.zeros(NUM_ARKIT)
    oo[ARKIT_INDEX["mouthFunnel"]], oo[ARKIT_INDEX["mouthPucker"]], oo[JAW] = 0.35, 0.5, 0.17
    renderer.render(oo)
    assert asked == [pytest.approx(SPEECH_FUNNEL_MOST)]  # the opening painted dark, the upper teeth's edges at most
    width = lambda points: float(np.linalg.norm(points[291] - points[61]))  # noqa: E731
    rig = renderer.src + (oo @ renderer.basis).reshape(-1, 2)  # the rig's own shape
    # the corners come in (less than funnel_motion's own narrowing: the rig's funnel it replaces narrowed a little)
    assert width(renderer.targets(oo)) < width(rig) - 0.25 * SPEECH_FUNNEL_MOST * FUNNEL_NARROW * width(renderer.src)


def _under_chin(renderer, dst):
    """Rows 3 px .. 0.12 face widths under the moved chin (landmark 152), half a face width across."""
    x, y, fw = int(dst[152, 0]), int(dst[152, 1]), renderer.face_width
    return slice(y + 3, y + int(0.12 * fw)), slice(x - int(fw / 4), x + int(fw / 4))


def test_a_shouting_chin_covers_its_band_as_a_still_edit_does(renderer):
    # the talking renderer squeezed the band under a chin dropped 0.2 face widths into a hard dark line where the
    # still editor covers it (warp.band_fade: the chin's shadow rides down at its own scale)
    from facecraft.synth.talk_render import HeadMotion
    from facecraft.synth.warp import warp_face

    shout = np.zeros(NUM_ARKIT)
    shout[JAW] = 1.0
    dst = renderer._unfolded(renderer._face_targets(shout, 0.0))
    assert (dst[152, 1] - renderer.src[152, 1]) / renderer.face_width > 0.15
    still = warp_face(renderer.image, renderer.src, dst, depth=renderer.depth).image.astype(float)
    region = _under_chin(renderer, dst)
    frame = renderer.render(shout).image.astype(float)
    assert np.abs(frame[region] - still[region]).mean() < 1.0  # was 5.6
    # with the head moving, the cover moves with it: two pixels to the right, as the still edit shifted
    moved = renderer.render(shout, HeadMotion(shift=(2.0, 0.0))).image.astype(float)
    assert np.abs(moved[region] - np.roll(still, 2, axis=1)[region]).mean() < 1.0


def test_a_speech_sized_jaw_keeps_its_band_bit_for_bit(renderer, monkeypatch):
    from facecraft.synth import talk_render

    vowel = np.zeros(NUM_ARKIT)
    vowel[JAW] = 0.2  # an open vowel's jaw: the chin drops 0.033 face widths (from 0.3, 0.05, part of it is covered)
    covered = renderer.render(vowel).image
    monkeypatch.setattr(talk_render, "band_fade", lambda *args, **kwargs: None)
    monkeypatch.setattr(talk_render, "extended_mesh", lambda *a, occlude=False, **k: extended(*a, **k))
    assert np.array_equal(renderer.render(vowel).image, covered)


def extended(*args, **kwargs):
    from facecraft.synth.warp import extended_mesh

    return extended_mesh(*args, **kwargs)


def _dark_in_wedges(renderer, frame, dst):
    """Pixels darker than 0.7 of the lips' luma about each corner's wedge (outer corner 61 / 291 to inner 78 / 308)."""
    from facecraft.synth.mouth import look_colours
    from facecraft.synth.talk_render import luma

    lips, grey, count = look_colours(renderer.look)[1], luma(frame).astype(float), 0
    for outer, inner in ((61, 78), (291, 308)):
        (xa, xb), yc = sorted((dst[outer, 0], dst[inner, 0])), 0.5 * (dst[outer, 1] + dst[inner, 1])
        reach = 0.5 * (xb - xa) + 1
        box = grey[int(yc - reach) : int(np.ceil(yc + reach)) + 1, int(xa) : int(np.ceil(xb)) + 1]
        count += int((box < 0.7 * float(lips @ [0.299, 0.587, 0.114])).sum())
    return count


def test_a_speech_oo_carries_no_dark_corner_pockets_into_its_corners(renderer, monkeypatch):
    # an "O"'s inner lip corners come in a third of the mouth's half width, its outer ones far less: the short wedge
    # between them holding the photo's dark corner pocket was stretched into a dark "<" notch at each corner (FRLL
    # calibration 014). Funnelled lips meet at their corners: the pockets are filled in the lips' shade before the warp
    from facecraft.synth import talk_render

    oo = np.zeros(NUM_ARKIT)
    oo[ARKIT_INDEX["mouthFunnel"]], oo[ARKIT_INDEX["mouthPucker"]], oo[JAW] = 0.35, 0.5, 0.17
    dst = renderer._unfolded(renderer._face_targets(oo, 0.0))
    filled = _dark_in_wedges(renderer, renderer.render(oo).image, dst)
    asked = []
    spy = lambda image, *a, **k: asked.append(k["amount"]) or image  # noqa: E731
    monkeypatch.setattr(talk_render, "clear_corner_shadows", spy, raising=False)
    kept = _dark_in_wedges(renderer, renderer.render(oo).image, dst)
    assert asked == [1.0]  # in full at a speech "oo"
    assert filled < kept / 2, (filled, kept)  # astronaut: 81 -> 11
    # a jaw opened without a funnel keeps the photo's corners: nothing is filled
    asked.clear()
    vowel = np.zeros(NUM_ARKIT)
    vowel[JAW] = 0.2
    renderer.render(vowel)
    assert asked == []
