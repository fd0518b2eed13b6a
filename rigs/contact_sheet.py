"""Contact sheets: a grid of labelled images in one picture (emotions, visemes, edits side by side)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .errors import ParameterError


def _as_rgb(image, index: int) -> np.ndarray:
    a = np.asarray(image)
    if a.ndim == 2:
        a = np.repeat(a[..., None], 3, axis=2)
    if a.ndim != 3 or a.shape[2] not in (3, 4) or a.shape[0] == 0 or a.shape[1] == 0:
        raise ParameterError(f"images[{index}] must be (H, W), (H, W, 3) or (H, W, 4), got {a.shape}")
    if a.dtype != np.uint8:
        if not np.issubdtype(a.dtype, np.floating):
            raise ParameterError(f"images[{index}] must be uint8 or float in [0, 1], got {a.dtype}")
        a = (np.clip(a, 0.0, 1.0) * 255 + 0.5).astype(np.uint8)
    return a[..., :3]


def contact_sheet(
    images: Sequence[np.ndarray],
    labels: Sequence[str] | None = None,
    *,
    cols: int = 4,
    tile_size: tuple[int, int] | None = None,
    pad: int = 6,
    font_size: int = 18,
    background: tuple[int, int, int] = (24, 26, 30),
    text_color: tuple[int, int, int] = (235, 235, 235),
) -> np.ndarray:
    """Lay ``images`` out row by row, ``cols`` per row, each with its label written in a strip beneath it.

    Parameters
    ----------
    images : sequence of arrays (H, W, 3) uint8 (grey (H, W) and RGBA are accepted, floats in [0, 1] too)
    labels : one string per image, or None for no label strip
    cols : images per row (the last row may be shorter)
    tile_size : (width, height) every image is resized to; default the first image's size
    pad : pixels between tiles and around the sheet
    font_size : label height in pixels (PIL's built-in scalable font)

    Returns
    -------
    uint8 array (H, W, 3)
    """
    from PIL import Image, ImageDraw, ImageFont

    if len(images) == 0:
        raise ParameterError("contact_sheet: images is empty; expected at least one image")
    if labels is not None and len(labels) != len(images):
        raise ParameterError(f"contact_sheet: {len(labels)} labels for {len(images)} images; expected one each")
    if not (isinstance(cols, int) and cols >= 1):
        raise ParameterError(f"contact_sheet: cols must be a positive integer, got {cols!r}")
    if pad < 0 or font_size < 1:
        raise ParameterError(f"contact_sheet: pad must be >= 0 and font_size >= 1, got {pad}, {font_size}")
    tiles = [_as_rgb(im, i) for i, im in enumerate(images)]
    tw, th = tile_size if tile_size is not None else (tiles[0].shape[1], tiles[0].shape[0])
    font = ImageFont.load_default(size=font_size)
    label_h = 0 if labels is None else font_size + 2 * max(pad, 3)
    cols = min(cols, len(tiles))
    rows = -(-len(tiles) // cols)
    sheet = Image.new("RGB", (pad + cols * (tw + pad), pad + rows * (th + label_h + pad)), tuple(background))
    draw = ImageDraw.Draw(sheet)
    for i, tile in enumerate(tiles):
        r, c = divmod(i, cols)
        x, y = pad + c * (tw + pad), pad + r * (th + label_h + pad)
        im = Image.fromarray(tile)
        if im.size != (tw, th):
            im = im.resize((tw, th), Image.Resampling.LANCZOS)
        sheet.paste(im, (x, y))
        if labels is not None:
            text = str(labels[i])
            # shrink long labels until they fit the tile width
            while len(text) > 1 and draw.textlength(text, font=font) > tw:
                text = text[:-2] + "…"
            draw.text((x + tw / 2, y + th + label_h / 2), text, fill=tuple(text_color), font=font, anchor="mm")
    return np.asarray(sheet, dtype=np.uint8).copy()
