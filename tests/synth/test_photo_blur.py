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


def test_a_wide_blur_matches_the_exact_gaussian():
    import cv2

    from facecraft.synth.photo_blur import EXACT_SIGMA, wide_blur

    from .warp_helpers import astronaut_points

    img, _, _ = astronaut_points()
    photo = cv2.resize(img, None, fx=2.3, fy=2.3).astype(np.float64)[:1101, :977]  # odd sizes: partial blocks
    for sigma in (EXACT_SIGMA + 0.5, 20.0, 60.0):
        exact = cv2.GaussianBlur(photo, (0, 0), sigma)
        fast = wide_blur(photo, sigma)
        assert fast.shape == exact.shape and fast.dtype == np.float32  # float32 whatever it is given
        assert np.abs(fast - exact).max() < 1.5  # grey levels, borders included
    grey = photo[..., 1].astype(np.float32)
    assert np.abs(wide_blur(grey, 30.0) - cv2.GaussianBlur(grey, (0, 0), 30.0)).max() < 1.5
    tiny = photo[:40, :25, 0]  # smaller than the blur: reflected borders as the exact blur has them
    assert np.abs(wide_blur(tiny, 50.0) - cv2.GaussianBlur(tiny, (0, 0), 50.0)).max() < 0.5
    assert np.abs(wide_blur(photo, EXACT_SIGMA) - cv2.GaussianBlur(photo, (0, 0), EXACT_SIGMA)).max() < 1e-3


def test_a_wide_blur_reduces_by_whole_blocks():
    """Above EXACT_SIGMA the reduction is the mean of whole factor x factor blocks, aligned with the photo's first
    pixel, and the enlargement puts them back where they were: a checkerboard of 24 px squares (factor 4 at sigma 16)
    blurs within half a grey level of the exact Gaussian. The reduction to a rounded-up size averaged fractional
    blocks (3.97 pixels here) and fell out of step with the photo across its width: 1.26 grey levels off."""
    import cv2

    from facecraft.synth.photo_blur import EXACT_SIGMA, wide_blur

    sigma = 4 * EXACT_SIGMA / 2  # factor 4
    yy, xx = np.mgrid[0:301, 0:405]
    board = np.where((yy // 24 + xx // 24) % 2 == 0, 255.0, 0.0)
    exact = cv2.GaussianBlur(board, (0, 0), sigma)
    fast = wide_blur(board, sigma)
    assert fast.shape == board.shape
    assert np.abs(fast - exact).max() < 0.75


def test_the_gaussian_is_opencv_s_in_two_one_dimensional_passes():
    import cv2

    from facecraft.synth.photo_blur import gaussian

    rng = np.random.default_rng(0)
    for shape in ((90, 130), (90, 130, 2), (60, 41, 3), (9, 14, 2)):  # the last smaller than the kernel
        image = cv2.GaussianBlur((rng.random(shape) * 255).astype(np.float32), (0, 0), 1.5)
        for sigma in (0.7, 4.18, 6.3, 8.0):
            for border in (cv2.BORDER_REFLECT_101, cv2.BORDER_REPLICATE):
                fast = gaussian(image, sigma, border)
                exact = cv2.GaussianBlur(image, (0, 0), sigma, borderType=border)
                assert fast.shape == exact.shape and fast.dtype == np.float32
                assert np.abs(fast - exact).max() < 1e-3
