"""How blurred a photo is, so that what the editor paints (creases, a widened eye, pressed lips) is no sharper.

Painted detail at the pixel scale of a sharp studio photo stands out on a soft one (UTKFace crops upscaled from
200 px) as a drawn line or a sticker; each painter blurs its strokes by the photo's own blur on top of its own width.
"""

from __future__ import annotations

import cv2
import numpy as np

from facecraft.rigs.default_rig import SEMANTIC_VERTICES

from .warp import face_width

_REBLUR = 1.0  # px: the second blur of :func:`photo_blur`
#: The editor's painted strokes' own softness, a Gaussian sigma in pixels (their edges are smoothsteps or
#: anti-aliased fills about a pixel wide): on a softer photo a painter blurs them by the rest
#: (:func:`softening`). FRLL studio photos (0.8-1.1 px) are left (nearly) as they are painted.
PAINT_SHARP = 1.0


def photo_blur(image: np.ndarray, points: np.ndarray) -> float:
    """The photo's own blur around the brows and eyes, as a Gaussian sigma in pixels (0.3..8).

    Re-blur ratio at strong edges (Zhuo & Sim 2011): an edge blurred by ``s`` loses gradient ``R = g / g_r`` when
    blurred again by ``r``, ``s = r / sqrt(R^2 - 1)``; the median over the region's strongest 5% of gradients, measured
    again with ``r`` the first estimate (at least ``_REBLUR``).
    Measured: FRLL studio photos (512 px) 0.8-1.0 px, UTKFace crops upscaled 200 -> 512 px 3.1-3.3, the astronaut 0.8.

    Parameters
    ----------
    image : np.ndarray
        ``(H, W, 3)`` uint8 RGB.
    points : np.ndarray
        ``(468, 2)`` pixel positions of the mesh points.
    """
    fw = face_width(points)
    h, w = image.shape[:2]
    pts = points[[70, 300, SEMANTIC_VERTICES["nose_tip"], 105, 334]]  # outer brows, nose tip, brow middles
    x0, y0 = np.maximum(np.floor(pts.min(0) - 0.05 * fw).astype(int), 0)
    x1, y1 = np.minimum(np.ceil(pts.max(0) + 0.05 * fw).astype(int), (w, h))
    if x1 - x0 < 8 or y1 - y0 < 8:
        return 1.0
    grey = cv2.cvtColor(np.ascontiguousarray(image[y0:y1, x0:x1]), cv2.COLOR_RGB2GRAY).astype(np.float32)

    def magnitude(a: np.ndarray) -> np.ndarray:  # OpenCV's: numpy's hypot took 30 ms of a phone photo's brows
        return cv2.magnitude(cv2.Sobel(a, cv2.CV_32F, 1, 0, ksize=3), cv2.Sobel(a, cv2.CV_32F, 0, 1, ksize=3))

    g = magnitude(grey)
    strong = g >= max(float(np.percentile(g, 95)), 1e-3)
    if strong.sum() < 8:  # no edges to measure (a flat patch): a sharp photo's blur
        return 1.0
    sigma = _REBLUR
    for _ in range(2):  # the ratio is most telling with a second blur about as wide as the first
        again = max(_REBLUR, sigma)
        ratio = g[strong] / np.maximum(magnitude(gaussian(grey, again))[strong], 1e-3)
        sigma = float(np.clip(np.median(again / np.sqrt(np.maximum(ratio**2 - 1.0, 1e-3))), 0.3, 8.0))
    return sigma


def softening(photo_sigma: float, own: float) -> float:
    """Gaussian sigma (pixels) that makes a stroke painted ``own`` pixels soft as soft as a photo blurred by
    ``photo_sigma`` (:func:`photo_blur`): the blur adds in quadrature, so only the rest is added; 0 for a photo no
    softer than the stroke."""
    return float(np.sqrt(max(photo_sigma**2 - own**2, 0.0)))


#: Widest Gaussian sigma (pixels) blurred at full resolution by :func:`wide_blur`; wider ones are blurred on a
#: reduced copy. The painters' sigmas scale with the face: the fold softening's 0.05 face widths is ~12 px on a 512 px
#: portrait and ~80 px on a phone's, whose full-size kernel cost seconds.
EXACT_SIGMA = 8.0


def gaussian(image: np.ndarray, sigma: float, border: int = cv2.BORDER_REFLECT_101) -> np.ndarray:
    """``cv2.GaussianBlur(image, (0, 0), sigma, borderType=border)`` of a float32 image (2-D or with channels) as two
    1-D passes of ``cv2.filter2D`` with the same kernel (OpenCV's for float images: +-4 sigma): within 1e-4 grey
    levels of it (the sums' order) and up to twice as fast for the wide kernels of a phone photo's face (sigma 6 on two
    channels, 1,400 px square: 60 -> 30 ms; OpenCV 5.1's GaussianBlur on float32)."""
    kernel = cv2.getGaussianKernel(int(round(sigma * 8 + 1)) | 1, sigma, cv2.CV_32F)
    return cv2.filter2D(cv2.filter2D(image, -1, kernel.T, borderType=border), -1, kernel, borderType=border)


def wide_blur(image: np.ndarray, sigma: float) -> np.ndarray:
    """``cv2.GaussianBlur(image, (0, 0), sigma)`` in float32 (:func:`gaussian`; of a float32 or float64 image, 2-D
    or with channels), in a time that does not grow with ``sigma``: above :data:`EXACT_SIGMA` the image is reduced by
    an integer factor (the mean of whole blocks), blurred there by what remains of ``sigma`` and enlarged back
    bilinearly. A blur that wide holds no detail the reduction loses (measured against the exact blur in
    ``tests/synth/test_photo_blur.py``).

    float32 throughout: OpenCV's float64 filters take about three times as long (a phone photo's fold softening blurs
    a 1,000 px square of three channels), and a blur's float32 rounding (1e-4 grey levels) is far below a level."""
    src = np.asarray(image, np.float32)
    if sigma <= EXACT_SIGMA:
        return gaussian(src, sigma)
    factor = int(sigma // (EXACT_SIGMA / 2))
    pad = factor * int(np.ceil(3.0 * sigma / factor))  # the exact blur's reflected border, kept in whole blocks
    h, w = src.shape[:2]
    # a few more reflected rows and columns at the bottom and right make the padded photo whole blocks: the reduction
    # is then an exact block mean (OpenCV's fast integer-ratio path), with block k at padded pixels [k f, (k + 1) f)
    extra_y, extra_x = -(h + 2 * pad) % factor, -(w + 2 * pad) % factor
    padded = cv2.copyMakeBorder(src, pad, pad + extra_y, pad, pad + extra_x, cv2.BORDER_REFLECT_101)
    ph, pw = padded.shape[:2]
    small = cv2.resize(padded, (pw // factor, ph // factor), interpolation=cv2.INTER_AREA)
    # Area averaging (a box of ``factor``) and bilinear enlarging (a triangle of ``factor``) blur too: variance
    # factor^2 / 12 + factor^2 / 6 in full-size pixels, taken from the Gaussian's.
    rest = np.sqrt(max(sigma**2 - factor**2 / 4.0, 0.25)) / factor
    small = gaussian(small, rest)
    # Enlarged back only over the photo (not its border): the blocks that cover it and one more on each side, which
    # its first and last pixels interpolate to; an integer enlargement keeps the blocks' alignment in the window.
    first = pad // factor - 1
    ny, nx = -(-h // factor) + 2, -(-w // factor) + 2
    window = small[first : first + ny, first : first + nx]
    big = cv2.resize(window, (nx * factor, ny * factor), interpolation=cv2.INTER_LINEAR)
    return big[factor : factor + h, factor : factor + w]
