"""Contact sheets: tiles land in a grid, labels are drawn, bad input is rejected."""

from __future__ import annotations

import numpy as np
import pytest

from facecraft.rigs import ParameterError
from facecraft.rigs.contact_sheet import contact_sheet

BG = (24, 26, 30)


def _tiles(n: int, h: int = 20, w: int = 30) -> list[np.ndarray]:
    return [np.full((h, w, 3), (40 * (i + 1), 200, 10 * i), np.uint8) for i in range(n)]


def test_grid_layout_without_labels():
    sheet = contact_sheet(_tiles(5), cols=3, pad=4)
    assert sheet.shape == (4 + 2 * (20 + 4), 4 + 3 * (30 + 4), 3) and sheet.dtype == np.uint8
    # tile 4 is row 1, col 1; the empty slot (row 1, col 2) is background
    assert tuple(sheet[4 + 24 + 10, 4 + 34 + 15]) == (200, 200, 40)
    assert tuple(sheet[4 + 24 + 10, 4 + 68 + 15]) == BG


def test_labels_are_drawn_below_each_tile():
    tiles = _tiles(2, 40, 80)
    bare = contact_sheet(tiles, ["", ""], cols=2, font_size=14)
    named = contact_sheet(tiles, ["happiness", "anger"], cols=2, font_size=14)
    assert bare.shape == named.shape and bare.shape[0] > 40 + 14
    strip = named[6 + 40 :, :]
    assert (strip != bare[6 + 40 :, :]).any(axis=2).sum() > 30  # text pixels appear in the label strip
    assert np.array_equal(named[:46], bare[:46])  # the pictures themselves are untouched
    # long labels are shortened to fit the tile width
    long = contact_sheet(tiles[:1], ["a very long label that cannot fit"], cols=1, font_size=14)
    assert long.shape[1] == 6 + 80 + 6


def test_mixed_inputs_are_resized_and_converted():
    grey = np.linspace(0, 1, 10 * 12).reshape(10, 12)
    rgba = np.zeros((5, 6, 4), np.uint8)
    sheet = contact_sheet([np.zeros((20, 24, 3), np.uint8), grey, rgba], cols=3, pad=0)
    assert sheet.shape == (20, 72, 3)
    assert sheet[:, 24:48].max() == 255 and sheet[:, 48:].max() == 0


def test_bad_input():
    with pytest.raises(ParameterError, match="empty"):
        contact_sheet([])
    with pytest.raises(ParameterError, match="2 labels for 3 images"):
        contact_sheet(_tiles(3), ["a", "b"])
    with pytest.raises(ParameterError, match="cols"):
        contact_sheet(_tiles(2), cols=0)
    with pytest.raises(ParameterError, match=r"images\[1\]"):
        contact_sheet([_tiles(1)[0], np.zeros((4, 4, 5))])
