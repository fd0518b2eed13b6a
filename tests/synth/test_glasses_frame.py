"""Glasses frames held still: the frame found on a photo, kept still by the warp, and the edit's option."""

from __future__ import annotations

import dataclasses
import functools

import cv2
import numpy as np
import pytest

from facecraft.rigs.errors import ParameterError
from facecraft.synth.controls import EditControls
from facecraft.synth.glasses_frame import FRAME, find_frame, frame_layer, put_back_frame, take_out_frame
from facecraft.synth.lids import EYES, eye_frame, eye_polygon
from facecraft.synth.warp import keep_apart, keep_to_windows

from .warp_helpers import astronaut_points


@functools.lru_cache(maxsize=1)
def glasses_on_astronaut() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(photo, (468, 2) landmarks, (H, W) bool of the drawn frame): the astronaut wearing dark rectangular glasses
    drawn around her eyes (rounded rims a bit thicker than a pixel and a bridge)."""
    img, src, _ = astronaut_points()
    drawn = np.zeros(img.shape[:2], np.uint8)
    t = np.linspace(0.0, 2 * np.pi, 200)
    rims = []
    for up, lo in EYES:
        fs = eye_frame(src, up, lo)
        c, s = np.cos(t), np.sin(t)
        r = (np.abs(c) ** 3 + np.abs(s) ** 3) ** (-1 / 3)
        x, y = fs.to_image(0.5 * fs.width + 0.95 * fs.width * r * c, 0.1 * fs.width + 0.62 * fs.width * r * s)
        rim = np.stack([x, y], 1)
        cv2.polylines(drawn, [np.round(rim * 4).astype(np.int32)], True, 1, 2, cv2.LINE_AA, shift=2)
        rims.append(rim)
    centre = src[168]  # between the eyes: the bridge joins the rims' upper points nearest to it
    ends = [rim[np.argmin(np.linalg.norm(rim - centre, axis=1) + 10 * (rim[:, 1] > rim[:, 1].mean()))] for rim in rims]
    cv2.line(drawn, tuple(np.round(ends[0]).astype(int)), tuple(np.round(ends[1]).astype(int)), 1, 3)
    out = img.copy()
    out[drawn > 0] = (25, 20, 20)
    return out, src, drawn > 0


def test_the_frame_is_found_where_it_was_drawn_and_not_over_the_eyes():
    img, src, drawn = glasses_on_astronaut()
    frame = find_frame(img, src)
    assert frame is not None
    found = frame.alpha > 0.5
    assert (found & drawn).sum() >= 0.9 * drawn.sum()
    near = cv2.dilate(drawn.astype(np.uint8), np.ones((5, 5), np.uint8)) > 0
    assert (found & ~near).sum() < 0.1 * found.sum()
    for up, lo in EYES:
        opening = np.zeros(img.shape[:2], np.uint8)
        cv2.fillPoly(opening, [np.round(eye_polygon(src, up, lo)).astype(np.int32)], 1)
        assert frame.alpha[opening > 0].max() == 0
    labels = frame.labels
    assert set(np.unique(labels)) == {0, 1, 2, FRAME}  # around, two lenses, the frame
    for up, lo in EYES:  # each eye looks through a lens
        centre = np.round(src[list(up) + list(lo)].mean(0)).astype(int)
        assert labels[centre[1], centre[0]] in (1, 2)


def test_no_frame_is_found_on_a_bare_face_or_a_tiny_one():
    img, src, _ = astronaut_points()
    assert find_frame(img, src) is None
    assert find_frame(img, src * 0.05) is None  # eyes a pixel wide


def test_keep_glasses_edits_around_a_still_frame(editor):
    img, _, drawn = glasses_on_astronaut()
    faces = editor.analyze(img)
    kept = editor.apply(img, faces, EditControls.from_args(emotion="surprise:1.0", keep_glasses=True))
    bent = editor.apply(img, faces, EditControls.from_args(emotion="surprise:1.0"))
    change = np.abs(kept.image.astype(int) - img.astype(int)).max(axis=2)
    assert change[drawn].max() <= 2  # the frame is where it was
    assert kept.faces[0].glasses_held is True and bent.faces[0].glasses_held is None  # None: not asked
    assert np.abs(bent.image.astype(int) - img.astype(int)).max(axis=2)[drawn].mean() > 20  # without it, it bends
    assert kept.mask[drawn].max() < 0.01
    opening = np.zeros(img.shape[:2], np.uint8)  # the eyes behind the lenses still widen
    for up, lo in EYES:
        cv2.fillPoly(opening, [np.round(eye_polygon(faces[0].info.landmarks[:468, :2], up, lo)).astype(np.int32)], 1)
    assert change[opening > 0].mean() > 20


def test_keep_glasses_changes_nothing_on_a_face_without_glasses(editor, astronaut, astronaut_faces):
    plain = editor.apply(astronaut, astronaut_faces, EditControls.from_args(emotion="anger:1.0"))
    kept = editor.apply(astronaut, astronaut_faces, EditControls.from_args(emotion="anger:1.0", keep_glasses=True))
    assert np.array_equal(plain.image, kept.image)
    assert kept.faces[0].glasses_held is False  # asked, and none found: the result says so


def test_keep_glasses_must_be_a_yes_or_no():
    assert EditControls.from_args(emotion="fear", keep_glasses=True).keep_glasses
    assert not EditControls.from_args(emotion="fear").keep_glasses
    with pytest.raises(ParameterError, match="keep_glasses"):
        EditControls.from_args(emotion="fear", keep_glasses="no")


def _labels() -> np.ndarray:
    """A 40 x 60 layout: a bar of frame across rows 18-21, a window (1) below it, the face around (0) above."""
    labels = np.zeros((40, 60), np.uint8)
    labels[22:, 10:50] = 1
    labels[18:22, 5:55] = FRAME
    return labels


def test_keep_apart_takes_the_nearest_pixel_of_the_own_label():
    labels = _labels()
    gy, gx = np.mgrid[0:40, 0:60].astype(np.float32)
    mx, my = keep_apart(labels, gx, gy + 10.0)
    assert labels[int(my[10, 30]), int(mx[10, 30])] == 0 and my[10, 30] == 17  # the face's last row above the bar
    assert np.array_equal(labels[np.clip(my, 0, 39).astype(int), mx.astype(int)], labels)
    mx, my = keep_apart(labels, gx, gy - 10.0)  # the window's top rows would see the face above the bar
    assert (mx[25, 30], my[25, 30]) == (30, 22)  # they see the window's first row


#: MediaPipe's brow points (upper and lower edge, both brows).
_BROWS = [70, 63, 105, 66, 107, 46, 53, 52, 65, 55, 300, 293, 334, 296, 336, 276, 283, 282, 295, 285]


def brow_region(src: np.ndarray, drawn: np.ndarray) -> tuple[tuple[slice, slice], np.ndarray]:
    """The brows and the forehead above them, away from the frame ``drawn``: ``(box slices, mask in the box)``."""
    brows = src[_BROWS]
    eye_w = np.mean([eye_frame(src, up, lo).width for up, lo in EYES])
    x0, y0 = np.floor(brows.min(0) - (0.0, 0.4 * eye_w)).astype(int)
    x1, y1 = np.ceil(brows.max(0)).astype(int)
    margin = int(round(0.1 * eye_w))
    near = cv2.dilate(drawn.astype(np.uint8), np.ones((2 * margin + 1, 2 * margin + 1), np.uint8)) > 0
    return (slice(y0, y1), slice(x0, x1)), ~near[y0:y1, x0:x1]


def test_keep_glasses_raises_the_brows_as_far_as_on_the_bare_face(editor):
    img, src, drawn = glasses_on_astronaut()
    bare, _, _ = astronaut_points()
    faces = editor.analyze(img)
    surprise = EditControls.from_args(emotion="surprise:1.0", keep_glasses=True)
    kept = editor.apply(img, faces, surprise)
    without = editor.apply(bare, faces, surprise).image  # the same face and motion, no glasses on
    assert np.abs(kept.image.astype(int) - img.astype(int)).max(axis=2)[drawn].max() <= 2  # the frame stays

    box, region = brow_region(src, drawn)

    def change(before: np.ndarray, after: np.ndarray) -> float:  # mean change there, grey levels
        return float(np.abs(after.astype(int) - before.astype(int)).max(axis=2)[box][region].mean())

    assert change(bare, without) > 20  # the brows rise
    assert change(img, kept.image) > 0.5 * change(bare, without)  # ... as far (held still: a fifth as much)


def test_the_frame_taken_out_leaves_the_skin_and_the_lenses_as_they_were():
    img, src, drawn = glasses_on_astronaut()
    bare, _, _ = astronaut_points()
    frame = find_frame(img, src)
    out = take_out_frame(img, frame)
    diff = np.abs(out.astype(int) - bare.astype(int)).max(axis=2)
    assert diff[drawn].mean() < 40  # the frame's pixels are skin again (the drawn frame is ~190 grey levels off)
    lens = (frame.labels > 0) & (frame.labels != FRAME)
    untouched = (cv2.dilate(_hole_of(frame), np.ones((5, 5), np.uint8)) == 0) | lens
    assert np.array_equal(out[untouched], img[untouched])  # nothing else is touched, the eyes behind included


def test_the_frame_taken_out_takes_its_dark_fringe_with_it():
    """The photo's own dark fringe just beside the frame's pixels rose with the brows as a thin line above the
    frame."""
    img, src, drawn = glasses_on_astronaut()
    bare, _, _ = astronaut_points()
    frame = find_frame(img, src)
    hole = _hole_of(frame)
    lens = (frame.labels > 0) & (frame.labels != FRAME)
    fringe = (cv2.dilate(hole, np.ones((3, 3), np.uint8)) > 0) & (hole == 0) & ~lens
    dark = img.copy()
    dark[fringe] = (dark[fringe] * 0.6).astype(np.uint8)  # the rims' blur in the photo, past what was found
    out = take_out_frame(dark, frame)
    assert np.abs(dark.astype(int) - bare.astype(int)).max(axis=2)[fringe].mean() > 40
    assert np.abs(out.astype(int) - bare.astype(int)).max(axis=2)[fringe].mean() < 25  # skin again


def _hole_of(frame) -> np.ndarray:
    return cv2.dilate((frame.alpha > 0.1).astype(np.uint8), np.ones((3, 3), np.uint8))


def test_a_solid_bridge_is_part_of_the_frame():
    img, src, drawn = glasses_on_astronaut()
    thick = img.copy()
    left, right = (eye_frame(src, up, lo) for up, lo in EYES)
    eye_w = 0.5 * (left.width + right.width)
    centre = src[168]
    x0, x1 = int(centre[0] - 0.35 * eye_w), int(centre[0] + 0.35 * eye_w)
    y0, y1 = int(centre[1] - 0.02 * eye_w), int(centre[1] + 0.3 * eye_w)
    bridge = np.zeros(img.shape[:2], bool)
    bridge[y0:y1, x0:x1] = True
    thick[bridge] = (25, 20, 20)  # a solid bridge, broader than the black-hat sees as a line (its middle was left)
    frame = find_frame(thick, src)
    assert frame is not None
    assert (frame.alpha[bridge] > 0.5).mean() > 0.95


def test_windows_keep_the_face_apart_and_let_it_move_fully():
    labels = _labels()
    labels[labels == FRAME] = 0  # a frame taken out of the photo: only the window stays apart from the face around
    disp = np.zeros((40, 60, 2), np.float32)
    disp[..., 1] = 8.0
    moved = keep_to_windows(disp, labels, (0, 0, 60, 40))
    assert np.allclose(moved[:10], disp[:10]) and np.allclose(moved[labels == 1][-40:], disp[labels == 1][-40:])
    gy, gx = np.mgrid[0:40, 0:60]
    sy = np.clip(np.rint(gy + moved[..., 1]).astype(int), 0, 39)
    sx = np.clip(np.rint(gx + moved[..., 0]).astype(int), 0, 59)
    assert np.array_equal(labels[sy, sx], labels)  # the face above does not take its colour from the window


def _put_back_whole(photo, edited, mask, frame):
    """put_back_frame as it was: the soft edge blurred over the whole image."""
    hole = _hole_of(frame).astype(np.float32)
    on = np.maximum(frame.alpha, np.minimum(cv2.GaussianBlur(hole, (0, 0), 0.7) * 2.0, 1.0))[..., None]
    out = np.clip(photo * on + edited * (1.0 - on) + 0.5, 0, 255).astype(np.uint8)
    return out, (mask * (1.0 - on[..., 0])).astype(np.float32)


@pytest.mark.parametrize("cut", [0, 1])
def test_the_frame_is_put_back_in_its_box_as_over_the_whole_image(cut):
    img, src, _ = glasses_on_astronaut()
    frame = find_frame(img, src)
    if cut:  # the frame's box at the image's edge: the photo cut through the left lens and above the frame
        ys, xs = np.nonzero(frame.alpha > 0.5)
        top, left = int(ys.min()) + 2, int(xs.min()) + 5
        frame = dataclasses.replace(
            frame,
            alpha=np.ascontiguousarray(frame.alpha[top:, left:]),
            labels=np.ascontiguousarray(frame.labels[top:, left:]),
        )
        img = np.ascontiguousarray(img[top:, left:])
    rng = np.random.default_rng(cut)
    edited = rng.integers(0, 256, img.shape, dtype=np.uint8)
    mask = rng.random(img.shape[:2], dtype=np.float32)
    image, moved = put_back_frame(img, edited, mask, frame)
    old_image, old_mask = _put_back_whole(img, edited, mask, frame)
    assert np.array_equal(image, old_image) and np.array_equal(moved, old_mask)
    x0, y0, x1, y1 = frame_layer(img, frame).box
    assert (x1 - x0) * (y1 - y0) < 0.25 * img.shape[0] * img.shape[1]  # a box around the glasses, not the image
