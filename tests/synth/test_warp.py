"""The dense face warp: identity, direction of the map, untouched surroundings, fold-overs, bad input."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from facecraft.rigs.default_rig import opening_faces
from facecraft.rigs.errors import ParameterError
from facecraft.synth.warp import (
    WarpResult,
    backward_map,
    band_fade,
    extended_mesh,
    face_width,
    squeeze_weight,
    unfold,
    unfolded_target,
    warp_face,
    warp_face_skimage,
)

from .cutout_helpers import hull_alpha, on_white
from .warp_helpers import astronaut_points, open_jaw, shadowed_canvas


def _far_from_hull(points: np.ndarray, shape, distance: float) -> np.ndarray:
    """Pixels more than ``distance`` outside the convex hull of ``points``."""
    hull = cv2.convexHull(np.round(points).astype(np.int32))[:, 0]
    outside = np.ones(shape, np.uint8)
    cv2.fillPoly(outside, [hull], 0)
    return cv2.distanceTransform(outside, cv2.DIST_L2, 5) > distance


def test_identity_leaves_the_photo_unchanged():
    img, src, depth = astronaut_points()
    res = warp_face(img, src, src.copy(), depth=depth)
    assert isinstance(res, WarpResult)
    assert np.array_equal(res.image, img)
    assert res.mask.max() == 0
    tiny = warp_face(img, src, src + 1e-4, depth=depth)
    assert np.abs(tiny.image.astype(int) - img).max() <= 1


def test_output_size_dtype_and_mask():
    img, src, depth = astronaut_points()
    res = warp_face(img, src, open_jaw(src, 0.1), depth=depth)
    assert res.image.shape == img.shape and res.image.dtype == np.uint8
    assert res.mask.shape == img.shape[:2] and res.mask.dtype == np.float32
    assert 0.0 <= res.mask.min() and res.mask.max() <= 1.0
    chin = np.round(src[152]).astype(int)
    assert res.mask[chin[1] + 3, chin[0]] > 0.5  # the chin moved
    assert res.mask[5, 5] == 0.0 and not np.array_equal(res.image, img)


def test_map_direction_carries_source_content_to_target_positions():
    # A photo whose colour encodes its own coordinates: the pixel at a target vertex must show the source position.
    _, src, depth = astronaut_points()
    h, w = 512, 512
    yy, xx = np.mgrid[0:h, 0:w]
    coded = np.stack([xx // 2, yy // 2, np.full_like(xx, 128)], axis=-1).astype(np.uint8)
    dst = open_jaw(src, 0.08)
    res = warp_face(coded, src, dst, depth=depth, smooth=0.0)
    for i in (17, 152, 14, 200):  # lower lip, chin, inner lower lip, below the lip
        x, y = np.round(dst[i]).astype(int)
        got = res.image[y, x, :2].astype(float) * 2
        assert np.abs(got - src[i]).max() <= 3.0, (i, got, src[i])


@pytest.mark.parametrize("amount", [0.05, 0.15])
def test_pixels_away_from_the_face_are_untouched(amount):
    img, src, depth = astronaut_points()
    dst = open_jaw(src, amount)
    res = warp_face(img, src, dst, depth=depth)
    far = _far_from_hull(np.concatenate([src, dst]), img.shape[:2], 0.1 * face_width(src))
    assert far.mean() > 0.5
    assert np.abs(res.image.astype(int) - img)[far].max() <= 2
    assert res.mask[far].max() == 0.0


def test_lip_only_edit_keeps_everything_beyond_a_tenth_of_the_face_width_outside_the_hull():
    img, src, depth = astronaut_points()
    dst = src.copy()
    dst[[61, 291], 1] -= 0.05 * face_width(src)  # mouth corners up: the outline does not move
    res = warp_face(img, src, dst, depth=depth)
    far = _far_from_hull(src, img.shape[:2], 0.1 * face_width(src))
    assert np.abs(res.image.astype(int) - img)[far].max() <= 2


def _area_signs(points: np.ndarray, faces: np.ndarray) -> np.ndarray:
    e1, e2 = points[faces[:, 1]] - points[faces[:, 0]], points[faces[:, 2]] - points[faces[:, 0]]
    return np.sign(e1[:, 0] * e2[:, 1] - e1[:, 1] * e2[:, 0])


def test_rings_fall_to_rest_and_the_band_absorbs_folds():
    _, src, _ = astronaut_points()
    dst = open_jaw(src, 0.2)
    s_all, d_all, faces = extended_mesh(src, dst)
    ring = slice(-36, None)
    assert np.allclose(s_all[ring], d_all[ring])  # the outer ring never moves
    assert np.allclose(d_all[:468], dst)
    skip = np.zeros(len(faces), bool)
    skip[opening_faces()] = True
    fixed = unfold(s_all, d_all, faces, skip=skip)
    band = faces[898:]
    assert (_area_signs(s_all, band) == _area_signs(fixed, band)).all()
    assert np.allclose(fixed[ring], s_all[ring])


def _facing(src, faces):
    """Triangles the source shows facing the camera, at least a tenth of the median area (those that can fold)."""
    e1, e2 = src[faces[:, 1]] - src[faces[:, 0]], src[faces[:, 2]] - src[faces[:, 0]]
    area = 0.5 * (e1[:, 0] * e2[:, 1] - e1[:, 1] * e2[:, 0])
    return area * np.sign(np.median(area)) > 0.1 * np.median(np.abs(area))


def test_unfold_removes_flipped_skin_triangles():
    _, src, _ = astronaut_points()
    faces = extended_mesh(src, src)[2][:898]
    dst = src.copy()
    dst[1] += (0.0, 40.0)  # the nose tip pulled far down through its neighbours
    skip = np.zeros(len(faces), bool)
    skip[opening_faces()] = True

    def flips(d):
        return int(((_area_signs(src, faces) != _area_signs(d, faces)) & ~skip & _facing(src, faces)).sum())

    assert flips(dst) > 0
    fixed = unfold(src, dst, faces, skip=skip)
    assert flips(fixed) == 0
    assert fixed[1, 1] > src[1, 1] + 1.0  # damped, not undone
    assert np.allclose(unfolded_target(src, dst), fixed)  # what the repaint steps are given
    assert np.array_equal(unfolded_target(src, src), src)


def test_unfold_keeps_a_dropped_lower_lip_down():
    # The jaw drops the lower lip and chin by a fifth of the face width, the mouth corners by half as much:
    # the folds this makes at the corners are resolved locally; the lower lip keeps most of its drop (the
    # mouth opens) instead of being damped back shut.
    _, src, _ = astronaut_points()
    faces = extended_mesh(src, src)[2][:898]
    dst = open_jaw(src, 0.2)
    corners = [61, 291, 78, 308]
    dst[corners] = src[corners] + 0.5 * (dst[corners] - src[corners])
    skip = np.zeros(len(faces), bool)
    skip[opening_faces()] = True
    fixed = unfold(src, dst, faces, skip=skip)
    assert ((_area_signs(src, faces) != _area_signs(fixed, faces)) & ~skip & _facing(src, faces)).sum() == 0
    assert fixed[14, 1] - src[14, 1] > 0.8 * (dst[14, 1] - src[14, 1])


def test_large_moves_give_a_finite_seamless_result():
    img, src, depth = astronaut_points()
    dst = src.copy()
    dst[1] += (25.0, 0.0)
    res = warp_face(img, src, dst, depth=depth)
    assert res.image.shape == img.shape
    # No holes: nothing inside the face turned black or unchanged-by-accident where it should move.
    nose = np.round(src[1]).astype(int)
    assert res.mask[nose[1], nose[0]] == 1.0


def test_skimage_baseline_is_the_same_warp():
    img, src, depth = astronaut_points()
    dst = open_jaw(src, 0.08)
    ours = warp_face(img, src, dst, depth=depth, smooth=0.0)
    base = warp_face_skimage(img, src, dst)
    face = ours.mask > 0
    assert np.abs(ours.image.astype(int) - base.image)[face].mean() < 6.0
    far = _far_from_hull(np.concatenate([src, dst]), img.shape[:2], 0.1 * face_width(src))
    assert np.abs(base.image.astype(int) - img)[far].max() <= 2


@pytest.mark.parametrize(
    "kwargs",
    [
        {"src_px": np.zeros((467, 2))},
        {"dst_px": np.zeros((468, 4))},
        {"dst_px": np.full((468, 2), np.nan)},
        {"image": np.zeros((10, 10, 2), np.uint8)},
        {"depth": np.zeros(10)},
        {"border": 0.0},
        {"step": 0},
    ],
)
def test_bad_input_raises_parameter_error(kwargs):
    img, src, _ = astronaut_points()
    args = {"image": img, "src_px": src, "dst_px": src + 1.0} | kwargs
    image, s, d = args.pop("image"), args.pop("src_px"), args.pop("dst_px")
    with pytest.raises(ParameterError):
        warp_face(image, s, d, **args)


def test_landmark_arrays_with_depth_columns_are_accepted():
    img, src, depth = astronaut_points()
    full = np.concatenate([src, depth[:, None]], axis=1)
    a = warp_face(img, full, open_jaw(src, 0.05))
    b = warp_face(img, src, open_jaw(src, 0.05))
    assert np.array_equal(a.image, b.image)


def test_a_jaw_moving_sideways_to_the_outline_leaves_the_photo_beyond_its_band_alone():
    # A turned head's dropping chin moves partly along the outline: the band must follow it, not end along the
    # outline's normals far from where the chin lands (person_04_2 at jawOpen 0.8 changed pixels there; so did
    # this jaw before the band followed it: 55 grey levels).
    from facecraft.rigs.default_rig import region_weights

    img, src, depth = astronaut_points()
    fw = face_width(src)
    for angle in (30, 45, 60):
        a = np.radians(angle)
        dst = src + region_weights()["jaw"][:, None] * (0.28 * fw * np.array([np.sin(a), np.cos(a)]))[None, :]
        res = warp_face(img, src, dst, depth=depth)
        far = _far_from_hull(np.concatenate([src, dst]), img.shape[:2], 0.1 * fw)
        assert far.any()
        assert np.abs(res.image.astype(int) - img)[far].max() <= 2, angle


@pytest.mark.parametrize("step", [1, 2])
@pytest.mark.parametrize("apex_y", [10.5, 9.6])  # a sliver, and the same triangle folded over its base
def test_backward_map_stays_within_its_vertices_motion(apex_y, step):
    # An edge-on outline triangle ([361, 401, 288] on person_02_1 talking, frame 60) squeezed to a sliver or
    # folded: samples rasterised on its edges lie just outside it, where its target-to-source affine
    # extrapolates (19 px across the ear lobe there). Inside a triangle the map is a mix of its vertices'
    # motion, so nowhere may it reach past them. Below the sliver, a plain triangle whose apex rises 5 px.
    src = np.array([[10.0, 10.0], [30.0, 20.0], [50.0, 10.0], [30.0, 35.0]])
    dst = np.array([[10.0, 10.0], [30.0, apex_y], [50.0, 10.0], [30.0, 30.0]])
    faces = np.array([[0, 3, 2], [0, 1, 2]])  # the sliver drawn last
    (x0, y0, _, _), disp = backward_map(src, dst, faces, shape=(40, 64), step=step, blur=0.0)
    move = src - dst
    assert disp[25 - y0, 30 - x0, 1] == pytest.approx(5.0 * 15 / 20, abs=0.05)  # the plain triangle's map
    assert (disp >= move.min(0) - 1e-3).all() and (disp <= move.max(0) + 1e-3).all(), (disp.min((0, 1)), move)


def test_squeeze_weight_is_the_map_s_compression_past_one_and_a_half():
    # target (x, y) samples source (x + a x, y + b y): (1 + a)(1 + b) source pixels per target pixel (inside; the
    # border takes half steps); then a smooth random field against np.gradient's central differences
    h, w = 40, 50
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    for a, b, expected in ((0.5, 0.5, 0.375), (1.0, 1.0, 1.0), (0.1, 0.2, 0.0), (3.0, 0.0, 1.0)):
        disp = np.dstack([a * x, b * y]).astype(np.float32)
        weight = squeeze_weight(disp)
        assert weight.dtype == np.float32 and weight.shape == (h, w)
        assert np.allclose(weight[1:-1, 1:-1], expected, atol=1e-5)
    rng = np.random.default_rng(0)
    disp = cv2.GaussianBlur(rng.normal(0, 6, (h, w, 2)).astype(np.float32), (0, 0), 3)
    gx = [np.gradient(disp[..., c], axis=1) for c in range(2)]
    gy = [np.gradient(disp[..., c], axis=0) for c in range(2)]
    squeeze = np.abs((1 + gx[0]) * (1 + gy[1]) - gy[0] * gx[1])
    assert np.allclose(squeeze_weight(disp)[1:-1, 1:-1], np.clip((squeeze - 1.5) / 2, 0, 1)[1:-1, 1:-1], atol=1e-6)


def test_a_cut_outs_alpha_moves_with_the_chin_and_nowhere_else():
    # A cut-out's alpha was not warped: where the jaw dropped, the background it was edited on (white) was written
    # opaque below the chin, and the chin's new place kept the photo's alpha (0: the chin cut off).
    img, src, depth = astronaut_points()
    alpha = hull_alpha(src, img.shape[:2])
    photo = on_white(img, alpha)
    dst = open_jaw(src, 0.2)
    res = warp_face(photo, src, dst, depth=depth, alpha=alpha)
    assert res.alpha.shape == alpha.shape and res.alpha.dtype == np.uint8
    np.testing.assert_array_equal(res.image, warp_face(photo, src, dst, depth=depth).image)  # the picture as before
    np.testing.assert_array_equal(res.alpha[res.mask == 0], alpha[res.mask == 0])  # unmoved pixels keep their alpha
    moved = hull_alpha(dst, img.shape[:2])  # the cut-out made around the moved face; the warp squeezes the band
    inside = cv2.erode(moved, np.ones((11, 11), np.uint8)) > 0  # below the chin a little, so 5 px of slack
    outside = cv2.dilate(moved, np.ones((11, 11), np.uint8)) == 0
    assert (inside & (alpha == 0)).sum() > 200  # the chin moved down past the cut-out's edge
    assert (res.alpha[inside] == 255).all() and (res.alpha[outside] == 0).all()  # and the silhouette with it
    assert (res.image[res.alpha == 0] == 255).all()  # what is transparent is the white background
    still = warp_face(photo, src, src, depth=depth, alpha=alpha)
    assert np.array_equal(still.alpha, alpha) and still.alpha is not alpha
    assert warp_face(photo, src, dst, depth=depth).alpha is None
    with pytest.raises(ParameterError, match="alpha"):
        warp_face(photo, src, dst, alpha=alpha[:-1])


def test_the_squeezed_pixels_blur_only_what_they_sample(monkeypatch):
    # The pre-blurred copy that squeezed pixels sample (a closing lid, the neck under a dropping chin) was made,
    # sampled and mixed over the whole warped box, the face and its band: on a phone photo 1,200 x 1,400 px for a
    # closing eye's few rows. Now only the box of the squeezed pixels (the same result: checked against the
    # old code on the bench's 3072 px photo, every pixel equal).
    from .warp_helpers import close_eye

    img, src, depth = astronaut_points()
    dst = close_eye(src, 0, 1.0)
    blurred = []
    blur = cv2.GaussianBlur

    def record(image, ksize, sigma, *args, **kwargs):
        if image.dtype == np.uint8:  # the photo's soft copy (the displacement field is float32)
            blurred.append(image.shape[0] * image.shape[1])
        return blur(image, ksize, sigma, *args, **kwargs)

    monkeypatch.setattr(cv2, "GaussianBlur", record)
    res = warp_face(img, src, dst, depth=depth)
    monkeypatch.undo()
    face = np.prod(src.max(0) - src.min(0))
    assert len(blurred) == 1 and blurred[0] < 0.2 * face
    assert (res.mask > 0).any()


@pytest.mark.parametrize("fall", [0.1, 0.17])
def test_a_dropped_chin_keeps_the_shadow_under_it_soft(fall):
    # jawOpen 0.8 drops the chin 0.24 face widths; the band under it has room for about a tenth of a face width (the
    # photo beyond that past the moved face stays): squeezed into it, the shadow under the chin became a hard dark
    # outline (FRLL 037's beard). Here a shadow fading over 0.17 face widths came out 8.9 times as steep, its 10-90 %
    # rise within 0.017 face widths (now 3.8 times, over 0.051).
    _, points, depth = astronaut_points()
    src = 2 * points  # a face 178 px wide, as the FRLL portraits'
    fw = face_width(src)
    img = shadowed_canvas(src, fall, (1024, 1024))
    dst = open_jaw(src, 0.24)
    res = warp_face(img, src, dst, depth=2 * depth)
    x, half = int(round(src[152, 0])), int(0.05 * fw)
    below = int(round(dst[152, 1])) - 2
    column = res.image[below : below + int(0.3 * fw), x - half : x + half, 1].mean(axis=1)
    steepest = np.abs(np.diff(column)).max() / (140 / (fall * fw))
    assert steepest < 4.5  # 3.8 and 2.2 (8.9 and 6.5 squeezed)
    assert (np.argmax(column > 186) - np.argmax(column > 74)) / fw > 0.035
    far = _far_from_hull(np.concatenate([src, dst]), img.shape[:2], 0.1 * fw)
    assert np.abs(res.image.astype(int) - img)[far].max() <= 2


def test_a_talking_jaw_keeps_its_band():
    # Drops under 0.05 face widths (speech) squeeze the band little: it is laid out as it always was, nothing fades.
    img, src, depth = astronaut_points()
    dst = open_jaw(src, 0.049)
    plain, occluding = extended_mesh(src, dst), extended_mesh(src, dst, occlude=True)
    assert all(np.array_equal(a, b) for a, b in zip(plain, occluding, strict=True))
    assert band_fade(src, dst, *occluding, shape=img.shape[:2]) is None
    wide = open_jaw(src, 0.1)
    assert band_fade(src, wide, *extended_mesh(src, wide, occlude=True), shape=img.shape[:2]) is not None


def test_a_dropped_chin_below_the_photos_edge_warps_without_its_band():
    # A 48 px FER crop, upscaled, shows the face to its chin, which a dropping jaw takes past the edge: the band's box
    # was empty and OpenCV's remap asserted on an empty map (an augment run ended on fer-dev sadness/fer0007073).
    img, src, depth = astronaut_points()
    low = src + [0.0, 380.0]  # the chin 45 px below the photo's bottom edge, the brows inside it
    dst = open_jaw(low, 0.24)
    assert band_fade(low, dst, *extended_mesh(low, dst, occlude=True), shape=img.shape[:2]) is None
    res = warp_face(img, low, dst, depth=depth)
    assert res.image.shape == img.shape and (res.mask > 0).any()
