"""Lips pressed shut over a smile's teeth: no teeth left between the lips, nothing changed outside them."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from facecraft.rigs.default_rig import LIPS_LOWER_INNER, LIPS_LOWER_OUTER, LIPS_UPPER_INNER, LIPS_UPPER_OUTER
from facecraft.rigs.errors import ParameterError
from facecraft.synth import mouth_seal
from facecraft.synth.controls import EditControls
from facecraft.synth.mouth import mouth_frame
from facecraft.synth.mouth_seal import clear_corner_shadows, lip_bands, seal_mouth
from facecraft.synth.photo_look import PhotoLook
from facecraft.synth.warp import face_width, warp_face

from .warp_helpers import astronaut_points


def _luma(img: np.ndarray) -> np.ndarray:
    return img.astype(np.float64) @ np.array([0.299, 0.587, 0.114])


def _lips_region(points: np.ndarray, shape, grow: int = 0) -> np.ndarray:
    """Pixels inside the outer lip contour (grown by ``grow`` pixels)."""
    poly = np.concatenate([points[list(LIPS_UPPER_OUTER)], points[list(LIPS_LOWER_OUTER[-2:0:-1])]])
    m = np.zeros(shape, np.uint8)
    cv2.fillPoly(m, [np.round(poly).astype(np.int32)], 1)
    if grow:
        m = cv2.dilate(m, np.ones((2 * grow + 1, 2 * grow + 1), np.uint8))
    return m > 0


def _half_closed(src: np.ndarray) -> np.ndarray:
    """The lower inner lip brought half the way up: the warp squeezes the photo's teeth into the slit."""
    dst = src.copy()
    for up, lo in zip(LIPS_UPPER_INNER[1:-1], LIPS_LOWER_INNER[1:-1], strict=True):
        dst[lo] = src[lo] + 0.5 * (src[up] - src[lo])
    return dst


def _teeth_pixels(img: np.ndarray, region: np.ndarray) -> int:
    """Pixels of the marker colour painted over the photo's teeth."""
    f = img.astype(np.int32)
    return int(((f[..., 1] > 150) & (f[..., 0] < 110) & (f[..., 2] < 110))[region].sum())


def _painted_opening_half_closed(colour) -> tuple:
    """The astronaut with the opening between her inner lips painted ``colour``, and that photo warped half closed:
    ``(image, src, dst, warp result)``."""
    img, src, depth = astronaut_points()
    img = img.copy()
    opening = np.concatenate([src[list(LIPS_UPPER_INNER)], src[list(LIPS_LOWER_INNER[-2:0:-1])]])
    cv2.fillPoly(img, [np.round(opening).astype(np.int32)], colour)
    dst = _half_closed(src)
    return img, src, dst, warp_face(img, src, dst, depth=depth)


@pytest.fixture(scope="module")
def squeezed():
    """The astronaut with her teeth (the opening between the inner lips) painted green, warped half closed."""
    return _painted_opening_half_closed((40, 220, 40))


def test_sealed_lips_cover_the_teeth(squeezed):
    img, src, dst, warped = squeezed
    region = _lips_region(dst, img.shape[:2])
    assert _teeth_pixels(warped.image, region) > 20  # the warp alone leaves the teeth between the lips
    res = seal_mouth(warped, img, src, dst, 1.0)
    assert _teeth_pixels(res.image, region) == 0
    # Down the middle of the mouth the lips are continuous: one dark seam, no bright band.
    b = lip_bands(dst)
    mid = np.array([0.5 * b.width])
    outer_up, _, _, outer_lo = b.at(mid)
    xs, ys = b.to_image(np.full(20, mid[0]), np.linspace(outer_up[0], outer_lo[0], 20))
    column = _luma(res.image[np.round(ys).astype(int), np.round(xs).astype(int)])
    lips = float(np.median(_luma(img)[_lips_region(src, img.shape[:2]) & (_luma(img) < 150)]))
    assert column.min() < lips - 10  # the seam
    assert (
        _teeth_pixels(res.image[np.round(ys).astype(int), np.round(xs).astype(int)][None], np.ones((1, 20), bool)) == 0
    )
    # Nothing changes outside the frame's outer lip contour.
    far = ~_lips_region(dst, img.shape[:2], grow=2)
    assert np.array_equal(res.image[far], warped.image[far])
    assert res.mask.dtype == np.float32 and res.mask[region].mean() > 0.5


def test_partly_sealed_lips_part_by_a_shadow_not_a_strip_of_teeth(squeezed):
    # A seal on its way (a pause, the approach to /p b m/) squeezed the frame's opening between the lips' inner edges:
    # the teeth became a white strip rimmed in black (UTKFace tuning crop 76, its drawn teeth). The lips part by their
    # seam's shadow instead, wider and darker the less sealed, and nothing of the opening shows from a third of a seal.
    img, src, dst, warped = squeezed
    region = _lips_region(dst, img.shape[:2])
    assert _teeth_pixels(warped.image, region) > 20
    b = lip_bands(dst)
    mid = np.array([0.5 * b.width])
    outer_up, _, _, outer_lo = b.at(mid)
    xs, ys = b.to_image(np.full(40, mid[0]), np.linspace(outer_up[0], outer_lo[0], 40))
    at = np.round(ys).astype(int), np.round(xs).astype(int)
    lips = float(np.median(_luma(img)[_lips_region(src, img.shape[:2]) & (_luma(img) < 150)]))
    shadow = []
    for amount in (0.35, 0.5, 0.75, 1.0):
        res = seal_mouth(warped, img, src, dst, amount).image
        assert _teeth_pixels(res, region) == 0, amount
        shadow.append(float(np.maximum(lips - _luma(res[at]), 0.0).sum()))  # the shadow down the middle column
    assert shadow[0] > shadow[1] > shadow[2] > shadow[3] > 0
    assert np.array_equal(seal_mouth(warped, img, src, dst, 0.0).image, warped.image)


def test_lips_that_already_touch_are_left_alone():
    img, src, _ = astronaut_points()
    closed = src.copy()
    for up, lo in zip(LIPS_UPPER_INNER[1:-1], LIPS_LOWER_INNER[1:-1], strict=True):
        closed[[up, lo]] = 0.5 * (src[up] + src[lo])
    res = seal_mouth(img, img, closed, closed, 1.0)
    assert np.array_equal(res.image, img)


def test_bad_amount(squeezed):
    img, src, dst, warped = squeezed
    with pytest.raises(ParameterError, match="amount"):
        seal_mouth(warped, img, src, dst, 1.5)
    with pytest.raises(ParameterError, match="dst_px"):
        seal_mouth(warped, img, src, dst[:10], 1.0)


def test_the_seam_is_as_soft_as_the_photo(squeezed, monkeypatch):
    """On a blurry photo the seam's shadow spreads as the photo's edges do (a crisp line read as drawn), no darker in
    all; on a sharp one it stays the thin line it was."""
    import facecraft.synth.mouth_seal as seal_module

    img, src, dst, warped = squeezed
    x = int(round(0.5 * (dst[61, 0] + dst[291, 0])))

    def seam(blur: float) -> np.ndarray:  # the seam's darkening down the mouth's middle column
        look = PhotoLook(img, src, blur=blur)
        lined = _luma(seal_mouth(warped, img, src, dst, 1.0, look=look).image)[:, x]
        monkeypatch.setattr(seal_module, "_SEAM_DARK", 0.0)
        plain = _luma(seal_mouth(warped, img, src, dst, 1.0, look=look).image)[:, x]
        monkeypatch.undo()
        return plain - lined

    sharp, studio, soft = seam(0.5), seam(1.0), seam(4.0)
    assert np.array_equal(sharp, studio)  # no softer than the seam itself: unchanged

    def width(d: np.ndarray) -> int:
        return int((d > 0.25 * d.max()).sum())

    assert width(soft) > 2 * width(sharp) and soft.max() < 0.6 * sharp.max()
    assert 0.6 < soft.sum() / sharp.sum() < 1.4


def test_lip_rows_keep_their_side_when_the_photo_lips_overlap():
    """A closed mouth's inner lips may overlap by a fraction of a pixel; each row still belongs to its own lip, so
    a seal moves it toward the other lip, not away (crossed lips were pushed further through each other)."""
    from facecraft.synth.mouth_seal import lip_sides, seal_lips
    from facecraft.synth.warp import face_width

    _, src, _ = astronaut_points()
    closed = src.copy()
    for up, lo in zip(LIPS_UPPER_INNER[1:-1], LIPS_LOWER_INNER[1:-1], strict=True):
        middle = 0.5 * (src[up] + src[lo])
        closed[up], closed[lo] = middle + [0.0, 0.3], middle - [0.0, 0.3]  # the upper row 0.6 px below the lower
    sides = lip_sides(closed)
    assert (sides[list(LIPS_UPPER_INNER[1:-1] + LIPS_UPPER_OUTER[1:-1])] == 1).all()
    assert (sides[list(LIPS_LOWER_INNER[1:-1] + LIPS_LOWER_OUTER[1:-1])] == -1).all()
    crossed = closed.copy()
    crossed[list(LIPS_UPPER_INNER[1:-1]), 1] += 8.0  # an edit pushes the upper lip 8 px through the lower one
    met = seal_lips(crossed, 0.0, face_width(src), sides)
    bands = lip_bands(met)
    middle = slice(len(bands.u) // 5, -len(bands.u) // 5)
    assert np.abs(bands.inner_lo - bands.inner_up)[middle].max() < 0.5


def _corners_drawn_in(src: np.ndarray, sides=(0, 1)) -> np.ndarray:
    """The outer and inner mouth corners moved 0.03 face widths toward the mouth's middle and down (a smile taken
    to sadness), on the given sides (0: landmark 61's, 1: 291's)."""
    dst = src.copy()
    fw = face_width(src)
    middle = 0.5 * (src[61] + src[291])
    for side in sides:
        for i in ((61, 78), (291, 308))[side]:
            toward = (middle - src[i]) / np.hypot(*(middle - src[i]))
            dst[i] = src[i] + 0.03 * fw * (toward + np.array([0.0, 1.0])) / np.sqrt(2.0)
    return dst


def _darkest_near(img: np.ndarray, src: np.ndarray, corner: int) -> float:
    """Darkest luma inside the lips within 0.05 face widths of a mouth corner."""
    h, w = img.shape[:2]
    gx, gy = np.meshgrid(np.arange(w), np.arange(h))
    near = np.hypot(gx - src[corner, 0], gy - src[corner, 1]) < 0.05 * face_width(src)
    return float(_luma(img)[near & _lips_region(src, img.shape[:2])].min())


def test_corners_an_edit_moves_lose_the_dark_pockets_of_the_photos_opening():
    # The astronaut's smile has the cavity's shadow in its corners, partly outside the landmarks' inner lip contour:
    # sadness or neutral carried it along as dark hooks hanging from the mouth corners.
    img, src, _ = astronaut_points()
    dst = _corners_drawn_in(src)
    out = clear_corner_shadows(img, src, dst)
    for corner in (61, 291):
        assert _darkest_near(img, src, corner) < 60
        assert _darkest_near(out, src, corner) > _darkest_near(img, src, corner) + 40
    changed = np.any(out != img, axis=2)
    assert changed.any() and not changed[~_lips_region(src, img.shape[:2], grow=2)].any()  # the lips only
    # the teeth in the middle of the opening stay
    fs = mouth_frame(src)
    x, y = fs.to_image(np.array([0.5 * fs.width]), fs.profile(np.array([0.5 * fs.width]))[0] + 2.0)
    assert not changed[int(round(y[0])), int(round(x[0]))]


def test_corners_that_stay_keep_their_shadows():
    img, src, _ = astronaut_points()
    assert clear_corner_shadows(img, src, src.copy()) is img
    assert clear_corner_shadows(img, src, _corners_drawn_in(src), amount=0.0) is img  # lips that do not close
    out = clear_corner_shadows(img, src, _corners_drawn_in(src, sides=(1,)))  # only 291's side moves
    assert _darkest_near(out, src, 61) == _darkest_near(img, src, 61)
    assert _darkest_near(out, src, 291) > _darkest_near(img, src, 291) + 40


def _crossed_beside_the_corners(src: np.ndarray) -> np.ndarray:
    """What the rig's smile removal did to a broad smile: beside each corner the upper contour's point dropped 6 px
    below the lower lip's inner edge, the lower contour's point rose 4 px above the upper lip's."""
    dst = src.copy()
    for up, lo, inner_lo, inner_up in ((185, 146, 95, 191), (409, 375, 324, 415)):
        dst[up, 1] = src[inner_lo, 1] + 6.0
        dst[lo, 1] = src[inner_up, 1] - 4.0
    return dst


def test_lip_outlines_crossed_beside_the_corners_are_untangled():
    from facecraft.synth.mouth_seal import _LIP_KEEP, _LIP_ROWS, untangle_lip_outline

    _, src, _ = astronaut_points()
    dst = _crossed_beside_the_corners(src)
    before = lip_bands(dst)
    assert (before.outer_up > before.inner_up + 3).any() and (before.outer_lo < before.inner_lo - 3).any()
    out = untangle_lip_outline(dst, src)
    moved = np.flatnonzero(np.abs(out - dst).max(1) > 1e-9)
    rows = {i for lip in _LIP_ROWS for row in lip for i in row}  # laid back in their columns where they then fold
    assert set(moved) - rows == {185, 146, 409, 375}  # of the contours, only the points past their limit
    after, rest = lip_bands(out), lip_bands(src)
    assert (after.inner_up - after.outer_up).min() >= -1e-6 and (after.outer_lo - after.inner_lo).min() >= -1e-6
    # the moved points keep _LIP_KEEP of the photo's lip thickness there, measured from their lip's inner edge
    for i, thick, side in (
        (185, rest.inner_up - rest.outer_up, -1),
        (409, rest.inner_up - rest.outer_up, -1),
        (146, rest.outer_lo - rest.inner_lo, 1),
        (375, rest.outer_lo - rest.inner_lo, 1),
    ):
        u, v = after.local(out[[i]])
        edge = after.inner_up if side < 0 else after.inner_lo
        lip = side * (v[0] - np.interp(u[0], after.u, edge))
        assert lip >= _LIP_KEEP * np.interp(u[0] / after.width * rest.width, rest.u, thick) - 0.05
    assert np.array_equal(untangle_lip_outline(src, src), src)  # a photo's own lips are left as they are


def test_contempt_keeps_the_lip_rows_in_place_and_leaves_no_dark_line_beside_the_raised_corner(
    editor, astronaut, astronaut_faces, monkeypatch
):
    # contempt's mouthDimple (2.5 rig units on the astronaut) pushed the upper lip's rows through its inner contour
    # beside the raised corner 61; the warp pulled them back, turning the lip's edge-on triangles at the corner over:
    # the photo's dark corner in them was drawn 16 times its size, a dark line doubling the corner (darkest 0.42 of the
    # skin's luma within 8 px of the new corner, then 0.59 under the quarter seal's repaint; now 0.45, 4 such pixels).
    import facecraft.synth.editor as editor_module
    from facecraft.rigs.default_rig import opening_faces
    from facecraft.rigs.mediapipe_mesh import canonical_mesh
    from facecraft.synth.mouth import face_colours
    from facecraft.synth.mouth_seal import _LIP_ROWS
    from facecraft.synth.warp import unfolded_target

    seen = {}
    monkeypatch.setattr(editor_module, "mesh_targets", _spy(editor_module.mesh_targets, seen))
    result = editor.apply(astronaut, astronaut_faces, EditControls.from_args(emotion="contempt:1"))
    src, dst = seen["targets"]
    warped = unfolded_target(src, dst)  # where the warp puts the points

    faces = canonical_mesh().faces
    lips = set(LIPS_UPPER_OUTER + LIPS_LOWER_OUTER + LIPS_UPPER_INNER + LIPS_LOWER_INNER)
    lips |= {i for lip in _LIP_ROWS for row in lip for i in row}
    frame = mouth_frame(src)
    raised = (frame.local(src)[0] < 0.5 * frame.width)[faces].all(1)  # on the raised corner's half of the mouth
    lip_faces = np.isin(faces, list(lips)).all(1) & raised
    lip_faces[opening_faces()] = False

    def area(p):
        a, b, c = (p[faces[:, k]] for k in range(3))
        return 0.5 * ((b[:, 0] - a[:, 0]) * (c[:, 1] - a[:, 1]) - (b[:, 1] - a[:, 1]) * (c[:, 0] - a[:, 0]))

    before, after = area(src), area(warped)
    turned = lip_faces & (np.sign(after) != np.sign(before)) & (np.abs(after) > 3 * np.abs(before))
    assert not turned.any(), faces[turned]

    # The open smile's own dark corner goes with the corner, no larger: its dark pixels (below half the skin's luma)
    # within 8 px of the new corner are no more than the photo's own within 8 px of it (4 and 8). With the lips
    # repainted a quarter sealed (the solve's cross-talk press, until lip_seal left it out) it was painted over.
    skin = float(_luma(face_colours(astronaut, src)[0]))

    def dark_beside(image, at):
        x, y = np.round(at).astype(int)
        return int((_luma(image[y - 8 : y + 9, x - 8 : x + 9].astype(float)) / skin < 0.5).sum())

    assert dark_beside(result.image, warped[LIPS_UPPER_OUTER[0]]) <= dark_beside(astronaut, src[LIPS_UPPER_OUTER[0]])


def _spy(fn, seen):
    def wrapped(*args, **kwargs):
        seen["targets"] = fn(*args, **kwargs)
        return seen["targets"]

    return wrapped


def test_a_lip_row_pushed_past_its_outer_contour_is_laid_back_in_its_column():
    # at contempt's lowered corner the upper lip's row point 408 went past the outer contour 270-409: the lip triangle
    # (409, 270, 408) turned over (a lip sliver the warp does not unfold), drawing the lip's edge past the corner
    from facecraft.rigs.mediapipe_mesh import canonical_mesh
    from facecraft.synth.mouth_seal import untangle_lip_outline
    from facecraft.synth.warp import _signed_area, unfolded_target

    _, src, _ = astronaut_points()
    faces = canonical_mesh().faces
    sliver = faces[[set(f) == {409, 270, 408} for f in faces.tolist()]]
    dst = src.copy()
    dst[408] = 0.5 * (src[409] + src[270]) + 0.3 * (0.5 * (src[409] + src[270]) - src[408])  # just past the contour
    assert _signed_area(dst, sliver)[0] * _signed_area(src, sliver)[0] < 0
    assert _signed_area(unfolded_target(src, dst), sliver)[0] * _signed_area(src, sliver)[0] < 0  # the warp keeps it
    out = untangle_lip_outline(dst, src)
    assert _signed_area(out, sliver)[0] * _signed_area(src, sliver)[0] > 0
    np.testing.assert_allclose(out[408], src[408], atol=1e-6)  # the contours did not move: back where it was


def test_a_dark_opening_reaching_past_the_inner_lip_contour_leaves_no_hole_in_the_sealed_lips(monkeypatch):
    # A wide-open mouth's cavity reaches past the landmarks' inner contour at its corners (UTKFace tuning crop 76):
    # sampled as lip, it stayed a dark hole at the sealed mouth's corner. The astronaut's opening (0.16 of her mouth's
    # width) stands for a wide one: only a mouth open wide has its shade filled.
    from facecraft.synth import mouth_seal

    monkeypatch.setattr(mouth_seal, "_WIDE_OPEN", 0.0)
    img, src, depth = astronaut_points()
    img = img.copy()
    opening = np.concatenate([src[list(LIPS_UPPER_INNER)], src[list(LIPS_LOWER_INNER[-2:0:-1])]])
    cv2.fillPoly(img, [np.round(opening).astype(np.int32)], (30, 8, 10))
    b = lip_bands(src)
    u = np.linspace(0.75 * b.width, b.width, 12)
    outer_up, inner_up, _, _ = b.at(u)
    wedge = np.concatenate([np.stack(b.to_image(u, inner_up - 0.7 * (inner_up - outer_up)), 1),
                            np.stack(b.to_image(u[::-1], inner_up[::-1]), 1)])  # fmt: skip
    cv2.fillPoly(img, [np.round(wedge).astype(np.int32)], (30, 8, 10))
    dst = _half_closed(src)
    res = seal_mouth(warp_face(img, src, dst, depth=depth), img, src, dst, 1.0)
    inside = cv2.erode(_lips_region(dst, img.shape[:2]).astype(np.uint8), np.ones((5, 5), np.uint8)) > 0
    assert (_luma(res.image)[inside] < 60).sum() == 0


def test_sealed_lips_fade_out_past_a_corner_where_the_outer_contours_do_not_meet():
    # A wide-open photo's lips closed (UTKFace tuning crop 76): the outer contours bulge past the mouth corners, and
    # the repainted band ended there in a vertical cut (0.75 px of anti-aliasing), a seam at both corners.
    img, src, depth = astronaut_points()
    dst = _half_closed(src)
    middle = 0.5 * (src[61] + src[291])
    for corner, inner in ((61, 78), (291, 308)):  # the corners drawn in: the contours beside them reach past them
        toward = (middle - src[corner]) / np.hypot(*(middle - src[corner]))
        dst[[corner, inner]] += 0.03 * face_width(src) * toward
    warped = warp_face(img, src, dst, depth=depth)
    res = seal_mouth(warped, img, src, dst, 1.0)
    b = lip_bands(dst)
    heights = b.outer_lo[[0, -1]] - b.outer_up[[0, -1]]
    assert heights.min() > 3.0  # the contours have not met at the corners
    for corner_u, out, height in ((0.0, -1.0, heights[0]), (b.width, 1.0, heights[1])):
        ou, _, _, ol = b.at(np.array([corner_u]))
        for past in (1.0, 0.25 * height):  # px past the corner
            x, y = b.to_image(np.full(3, corner_u + out * past), np.linspace(ou[0], ol[0], 5)[1:-1])
            at = np.round(y).astype(int), np.round(x).astype(int)
            assert np.abs(res.image[at].astype(int) - warped.image[at]).max() >= 3  # some of the lips


def _steep_corners() -> tuple:
    """The astronaut half closed with her upper lip's outer contour coming into both corners steeply from above, as on
    a wide-open photo (UTKFace tuning crop 76): ``(image, src, dst, warp result, drop in px)``."""
    img, src, depth = astronaut_points()
    dst = _half_closed(src)
    frame = lip_bands(dst)
    drop = 0.08 * face_width(src)
    for nb, u in ((LIPS_UPPER_OUTER[1], 0.5), (LIPS_UPPER_OUTER[-2], frame.width - 0.5)):  # beside each corner
        dst[nb] = np.stack(frame.to_image(np.array([u]), np.array([-drop])), 1)[0]
    return img, src, dst, warp_face(img, src, dst, depth=depth), drop


def test_sealed_lips_fade_out_past_a_corner_their_outer_contour_drops_to_steeply():
    # A wide-open photo's outer contours come into its corners from above (UTKFace tuning crop 76, jawOpen 0.63: the
    # upper one's last point 24 px above the corner, 1.5 px beside it): partly sealed, the repainted lips ended in a
    # vertical cut at the corner, a light line beside the frame's dark corner of the opening.
    img, src, dst, warped, drop = _steep_corners()
    res = seal_mouth(warped, img, src, dst, 0.5)
    b = lip_bands(dst)
    for corner_u, out in ((0.0, -1.0), (b.width, 1.0)):
        for past in (1.0, 0.25 * drop):  # px past the corner, in the steep contour's height
            x, y = b.to_image(np.full(3, corner_u + out * past), -drop * np.array([0.25, 0.5, 0.75]))
            at = np.round(y).astype(int), np.round(x).astype(int)
            assert np.abs(res.image[at].astype(int) - warped.image[at]).max() >= 3, (corner_u, past)


def test_the_lips_shadow_ends_at_a_corner_their_outer_contour_drops_to_steeply(monkeypatch):
    # A corner left open by a steep outer contour (UTKFace tuning crop 76, seals 0.1-0.3) has the seam above it: the
    # slit between the lips' inner edges and that seam ran on past the corner as a grey dash over the skin, 4-6 px tall.
    # Past the corner the lips fade out without their shadow.
    img, src, dst, warped, drop = _steep_corners()
    res = seal_mouth(warped, img, src, dst, 0.2)
    monkeypatch.setattr(mouth_seal, "_SEAM_SHADE", 1.0)  # the lips alone, their shadow in their own colour
    lips = seal_mouth(warped, img, src, dst, 0.2)
    b = lip_bands(dst)
    for corner_u, out in ((0.0, -1.0), (b.width, 1.0)):
        x, y = b.to_image(
            np.repeat(corner_u + out * np.array([1.5, 3.0, 5.0]), 5), np.tile(np.linspace(-0.3, 0.0, 5) * drop, 3)
        )
        at = np.round(y).astype(int), np.round(x).astype(int)
        assert (_luma(lips.image)[at] - _luma(res.image)[at]).max() < 2.0, corner_u  # was up to 30 levels darker


def test_a_dark_opening_narrows_between_closing_lips_not_veiled_in_their_shadow():
    # A seal starting on a wide-open photo faded the lips' shadow in over the whole gap between their inner edges: the
    # dark red-black opening turned grey-brown long before the lips met (UTKFace tuning crop 76, seals 0.1-0.3). The
    # opening between the lips keeps its darkness while it narrows.
    img, src, dst, warped = _painted_opening_half_closed((70, 18, 20))
    b = lip_bands(dst)
    mid = np.array([0.5 * b.width])
    _, inner_up, inner_lo, _ = b.at(mid)
    line = 0.5 * (inner_up[0] + inner_lo[0])
    half = 0.15 * (inner_lo[0] - inner_up[0])  # the gap's middle, inside it at each amount below
    xs, ys = b.to_image(np.full(9, mid[0]), np.linspace(line - half, line + half, 9))
    at = np.round(ys).astype(int), np.round(xs).astype(int)
    frame = _luma(warped.image[at]).mean()
    assert frame < 50  # the frame shows the dark opening there
    for amount in (0.1, 0.2, 0.3):
        res = seal_mouth(warped, img, src, dst, amount).image[at].astype(np.float64)
        assert _luma(res).mean() < frame + 10, amount
        assert (res[:, 0] > 1.5 * res[:, 1]).all(), amount  # red-black like the opening, not the lips' grey shadow


def test_the_fade_past_a_steep_corner_narrows_to_the_seam_not_a_rectangle():
    # Past a corner held open (its outer contour steep) the repainted lips faded out at the corner's full height: a
    # rectangle over the skin beside the corner, its top and bottom cut sharp (UTKFace tuning crop 240, seals 0.1-0.5:
    # 34 x 17 px). The fade narrows to the seam as lips taper to a corner: near the held contour nothing is repainted.
    img, src, dst, warped, drop = _steep_corners()
    res = seal_mouth(warped, img, src, dst, 0.5)
    b = mouth_seal._open_steep_ends(lip_bands(dst))
    blends = mouth_seal._corner_blends(b)
    for corner_u, out, blend, end in ((0.0, -1.0, blends[0], 0), (b.width, 1.0, blends[1], -1)):
        assert blend > 3.0  # the corner is held open: a fade past it over several pixels
        x, y = b.to_image(np.full(2, corner_u + out * 0.4 * blend), b.outer_up[end] * np.array([0.85, 0.95]))
        at = np.round(y).astype(int), np.round(x).astype(int)
        assert np.abs(res.image[at].astype(int) - warped.image[at]).max() <= 3, corner_u  # was 24 levels darker


def test_no_slit_at_a_corner_where_the_inner_lips_meet():
    # At a corner held open (its outer contour steep) the seam sits off the corner, where the inner lips meet; the
    # inner edges were clipped to the seam, a gap the frame does not have, and its slit drew a dark dot beside the
    # corner (UTKFace tuning crop 76, seal 0.5: 3 px, 100 levels darker than the skin). The gap is at most the frame's.
    img, src, dst, warped, drop = _steep_corners()
    b = lip_bands(dst)
    lips = float(np.median(_luma(img)[_lips_region(src, img.shape[:2]) & (_luma(img) < 150)]))
    for amount in (0.2, 0.5, 0.8):
        res = seal_mouth(warped, img, src, dst, amount).image
        for corner_u, inward in ((0.0, 1.0), (b.width, -1.0)):
            u, v = np.meshgrid(corner_u + inward * np.linspace(0.3, 2.0, 6), np.linspace(-0.3 * drop, 0.0, 12))
            x, y = b.to_image(u.ravel(), v.ravel())
            darkest = _luma(res)[np.round(y).astype(int), np.round(x).astype(int)].min()
            assert darkest > 0.6 * lips, (amount, corner_u)  # was 20-60 levels, lips ~120


def test_a_photo_showing_its_teeth_keeps_them_white_between_closing_lips():
    # A lightly sealed smile faded the frame's opening toward the painted dark cavity: its white teeth went grey, as
    # seen through smoke (FRLL calibration 010, seal 0.2: teeth at luma ~125 of 230). The gap narrows over the teeth
    # (to a line of a pixel or two it ends in the slit's shadow, test_partly_sealed_lips_part_by_a_shadow...).
    img, src, dst, warped = _painted_opening_half_closed((235, 232, 222))
    b = lip_bands(dst)
    mid = np.array([0.5 * b.width])
    _, inner_up, inner_lo, _ = b.at(mid)
    line, half = 0.5 * (inner_up[0] + inner_lo[0]), 0.15 * (inner_lo[0] - inner_up[0])
    xs, ys = b.to_image(np.full(9, mid[0]), np.linspace(line - half, line + half, 9))
    at = np.round(ys).astype(int), np.round(xs).astype(int)
    assert _luma(warped.image[at]).min() > 220  # the frame shows the teeth there
    for amount in (0.1, 0.2, 0.3):
        assert _luma(seal_mouth(warped, img, src, dst, amount).image[at]).min() > 180, amount


def test_teeth_between_lips_closed_to_a_line_give_way_to_the_slit():
    # Kept in a gap of a pixel or two, the teeth were a white line rimmed in black (UTKFace tuning crop 120, seal 0.5):
    # from half a seal the middle of the mouth is no brighter than its sealed lips (their own highlights).
    img, src, dst, warped = _painted_opening_half_closed((235, 232, 222))
    b = lip_bands(dst)
    mid = np.array([0.5 * b.width])
    outer_up, _, _, outer_lo = b.at(mid)
    xs, ys = b.to_image(np.full(40, mid[0]), np.linspace(outer_up[0], outer_lo[0], 40))
    at = np.round(ys).astype(int), np.round(xs).astype(int)
    sealed = _luma(seal_mouth(warped, img, src, dst, 1.0).image[at]).max()
    for amount in (0.5, 0.6):
        assert _luma(seal_mouth(warped, img, src, dst, amount).image[at]).max() < sealed + 10, amount  # was +35


def _painted_lips(upper, lower, dark=(40, 10, 12)) -> tuple:
    """The astronaut with her upper lip band (outer to inner contour) painted ``upper``, her lower one ``lower`` and
    her opening ``dark``, warped half closed: ``(image, src, dst, warp result)``."""
    img, src, depth = astronaut_points()
    img = img.copy()
    for outer, inner, colour in (
        (LIPS_UPPER_OUTER, LIPS_UPPER_INNER, upper),
        (LIPS_LOWER_OUTER, LIPS_LOWER_INNER, lower),
    ):
        band = np.concatenate([src[list(outer)], src[list(inner)][::-1]])
        cv2.fillPoly(img, [np.round(band).astype(np.int32)], colour)
    opening = np.concatenate([src[list(LIPS_UPPER_INNER)], src[list(LIPS_LOWER_INNER[-2:0:-1])]])
    cv2.fillPoly(img, [np.round(opening).astype(np.int32)], dark)
    dst = _half_closed(src)
    return img, src, dst, warp_face(img, src, dst, depth=depth)


def _sealed_seam(src: np.ndarray, dst: np.ndarray, us: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The frame's outer upper contour, the seam where sealed lips meet (the frame's lips split in the photo's shares
    of upper to lower lip, as :func:`seal_mouth` splits them) and the outer lower contour at frame ``u`` ``us``."""
    b, bs = lip_bands(dst), lip_bands(src)
    up, lo = np.maximum(bs.inner_up - bs.outer_up, 1.0), np.maximum(bs.outer_lo - bs.inner_lo, 1.0)
    share = up / (up + lo)
    ou, _, _, ol = b.at(us)
    return ou, ou + (ol - ou) * np.interp(us / b.width * bs.width, bs.u, share), ol


def test_a_sealed_upper_lip_whose_band_is_skin_is_no_paler_than_the_lower_lip():
    # A wide-open mouth stretches its upper lip almost invisible: the landmarks' upper lip band is mostly skin, and the
    # sealed upper lip took the skin's pale colour over a pink lower lip (UTKFace tuning crop 76, seal 1.0). Toward the
    # seam the sealed upper lip is no paler than the lower lip; where the band was darker than the lower lip (a lip
    # facing down, as usual) nothing is shifted.
    skin, lip = (235, 200, 185), (170, 80, 90)
    img, src, dst, warped = _painted_lips(skin, lip)
    res = seal_mouth(warped, img, src, dst, 1.0).image
    b = lip_bands(dst)
    us = np.linspace(0.3, 0.7, 15) * b.width
    ou, seam, ol = _sealed_seam(src, dst, us)

    def band_luma(image, lo_share, hi_share, top, bottom):  # luma over a share of a band's height, seam excluded
        t = np.linspace(lo_share, hi_share, 5)[:, None]
        x, y = b.to_image(us + 0 * t, top + t * (bottom - top))
        return float(_luma(image[np.round(y).astype(int), np.round(x).astype(int)]).mean())

    lower = band_luma(res, 0.3, 0.7, seam, ol)
    assert lower < float(_luma(np.array(skin))) - 40  # the lower lip is the painted lip
    assert band_luma(res, 0.6, 0.85, ou, seam) < lower + 12  # was +94, the skin's luma
    # A dark upper lip stays its own colour.
    img, src, dst, warped = _painted_lips(lip, skin)
    res = seal_mouth(warped, img, src, dst, 1.0).image
    assert abs(band_luma(res, 0.3, 0.7, ou, seam) - float(_luma(np.array(lip)))) < 8


def test_the_lips_meet_without_a_staircase_where_the_seam_slants():
    # The samples switched from the upper lip's to the lower's pixel by pixel at the seam: a seam slanting across the
    # rows was a staircase between the two lips' colours (UTKFace tuning crop 76, seal 1.0). Along the seam's rows
    # neighbouring columns change by a share of the lips' contrast no larger than the seam's slope.
    dark, light = (150, 60, 70), (230, 150, 160)
    img, src, dst, warped = _painted_lips(dark, light)
    res = _luma(seal_mouth(warped, img, src, dst, 1.0).image)
    b = lip_bands(dst)
    us = np.linspace(0.35, 0.65, 400) * b.width  # the middle of the mouth, where the seam runs flattest
    xs, ys = b.to_image(us, _sealed_seam(src, dst, us)[1])
    cols = np.arange(int(np.ceil(xs.min())), int(np.floor(xs.max())))
    line = np.interp(cols, xs, ys) if xs[0] < xs[-1] else np.interp(cols, xs[::-1], ys[::-1])
    rows = np.arange(int(np.floor(ys.min())) - 1, int(np.ceil(ys.max())) + 2)
    near = np.abs(rows[:, None] - line[None, :]) <= 1.5  # pixels within 1.5 px of the seam
    step = np.abs(np.diff(res[rows[:, None], cols[None, :]], axis=1))[near[:, 1:] & near[:, :-1]]
    slope = float(np.abs(np.diff(line)).max())
    contrast = float(_luma(np.array(light)) - _luma(np.array(dark)))
    assert len(cols) > 8 and rows[-1] - rows[0] > 2 and slope < 0.5  # the seam slants across a few rows
    assert step.max() < (slope + 0.15) * contrast  # was 44 levels, 0.5 of the contrast over a slope of 0.24


def test_partly_sealed_lips_on_a_blurry_photo_have_no_bright_rims_at_their_inner_edges():
    # The painted cavity was drawn past the lips' inner edges too, where its rim light grows without bound with the
    # distance outside the gap; the gap's soft edge, as soft as a blurry photo, laid it over the lips as bright orange
    # lines along both inner edges (UTKFace tuning crops 42 and 244, blur 4.5 and 5.4, seal 0.5: red 214 on lips of
    # 145). Lips of one flat colour over a dark opening, the frame the photo: nothing down the mouth's middle, off the
    # outer contours, is brighter or redder than the lips.
    lip = (150, 60, 60)
    img, src, _, _ = _painted_lips(lip, lip)
    b = lip_bands(src)
    us = 0.5 * b.width + np.linspace(-0.2, 0.2, 5) * b.width
    outer_up, _, _, outer_lo = b.at(us)
    vs = np.linspace(0.15, 0.85, 60)[:, None]  # off the outer contours (the photo's own lips and skin there)
    xs, ys = b.to_image(us + 0 * vs, outer_up + vs * (outer_lo - outer_up))
    at = np.round(ys).astype(int), np.round(xs).astype(int)
    for blur in (4.5, 5.5):
        for amount in (0.3, 0.4, 0.5):
            res = seal_mouth(img, img, src, src, amount, look=PhotoLook(img, src, blur=blur)).image[at].astype(int)
            assert res[..., 0].max() <= lip[0] + 4, (blur, amount)  # was up to 202
            assert _luma(res).max() <= _luma(np.array(lip)) + 4, (blur, amount)  # was up to 22 levels brighter


def test_a_kept_look_fills_the_photos_mouth_opening_once(squeezed, monkeypatch):
    # The photo's lips with their opening filled are a measurement of the unedited photo: each sealing edit inpainted
    # them again and copied the whole photo (50 ms of a phone photo's edit). Kept in its PhotoLook, the same seal.
    img, src, dst, warped = squeezed
    fresh = seal_mouth(warped, img, src, dst, 1.0)
    filled = []
    inpaint = cv2.inpaint

    def count(*args, **kwargs):
        filled.append(1)
        return inpaint(*args, **kwargs)

    monkeypatch.setattr(cv2, "inpaint", count)
    look = PhotoLook(img, src)
    first, again = (seal_mouth(warped, img, src, dst, amount, look=look) for amount in (1.0, 0.6))
    assert len(filled) == 1
    assert np.array_equal(first.image, fresh.image) and np.array_equal(first.mask, fresh.mask)
    assert not np.array_equal(again.image, first.image)


def test_the_filled_lips_are_sampled_as_the_whole_filled_photo_would_be():
    # _remap samples only the box its samples need: the same values as sampling the whole photo with the opening
    # pasted over it, also at the photo's edges (reflected) and past them (the whole photo)
    img, src, _ = astronaut_points()
    patch = mouth_seal._lips_without_opening(img, src, np.array([150.0, 80.0, 80.0]))
    (px, py), region = patch
    whole = img.copy()
    whole[py : py + region.shape[0], px : px + region.shape[1]] = region
    photo = mouth_seal._LipsPhoto(img, patch)
    rng = np.random.default_rng(0)
    h, w = img.shape[:2]
    for lo, hi in (((px - 5, py - 5), (px + 40, py + 30)), ((0, 0), (w - 1, h - 1)), ((-3, 100), (20, 140))):
        mx = rng.uniform(lo[0], hi[0], (30, 40))
        my = rng.uniform(lo[1], hi[1], (30, 40))
        mx[0, 0], my[0, 0] = lo
        expected = cv2.remap(whole, mx.astype(np.float32), my.astype(np.float32), cv2.INTER_LINEAR,
                             borderMode=cv2.BORDER_REFLECT_101).astype(np.float64)  # fmt: skip
        assert np.array_equal(mouth_seal._remap(photo, mx, my), expected)
