"""The skin creases the editor paints (:func:`facecraft.synth.editor.paint_creases`): folds of the photo's own skin,
not lines drawn on it."""

from __future__ import annotations

import numpy as np

from facecraft.rigs import ARKIT_INDEX

from .warp_helpers import astronaut_points


def _change(brows: float = 0.0, sneer: float = 0.0) -> np.ndarray:
    change = np.zeros(52)
    change[[ARKIT_INDEX["browDownLeft"], ARKIT_INDEX["browDownRight"]]] = brows
    change[[ARKIT_INDEX["noseSneerLeft"], ARKIT_INDEX["noseSneerRight"]]] = sneer
    return change


def _dense(line: np.ndarray, n: int = 60) -> np.ndarray:
    """``n`` points evenly along the polyline ``line``."""
    steps = np.cumsum(np.r_[0.0, np.hypot(*np.diff(line, axis=0).T)])
    at = np.linspace(0.0, steps[-1], n)
    return np.stack([np.interp(at, steps, line[:, k]) for k in (0, 1)], axis=1)


def _flat_skin(src: np.ndarray, level: int = 170) -> np.ndarray:
    h, w = int(src[:, 1].max()) + 40, int(src[:, 0].max()) + 40
    return np.full((h, w, 3), level, np.uint8)


def test_no_crease_touches_another():
    from facecraft.synth.editor import _crease_strokes
    from facecraft.synth.warp import face_width

    _, src, _ = astronaut_points()
    fw = face_width(src)
    # anger and disgust lower the brows and wrinkle the nose: the nose's lines began at the ends of the root's fold
    # (0.0003 face widths off) and with it and the furrows drew an X between the brows
    lines = [_dense(s[0]) for s in _crease_strokes(src, _change(brows=3.0, sneer=1.0), fw)]
    assert len(lines) >= 5
    for i, a in enumerate(lines):
        for b in lines[i + 1 :]:
            gap = np.hypot(*(a[:, None, :] - b[None, :, :]).transpose(2, 0, 1)).min()
            assert gap > 0.01 * fw


def test_a_moderate_frown_folds_no_skin_across_the_nose_root():
    from facecraft.synth.editor import _crease_strokes
    from facecraft.synth.warp import face_width

    _, src, _ = astronaut_points()
    fw = face_width(src)
    root, tip = src[168], src[1]
    down = (tip - root) / np.linalg.norm(tip - root)
    across = np.array([down[1], -down[0]])

    def across_the_nose(brows: float) -> int:
        strokes = _crease_strokes(src, _change(brows=brows), fw)
        sides = [(s[0] - root) @ across for s in strokes]
        return sum(bool(side.min() < -0.005 * fw and side.max() > 0.005 * fw) for side in sides)

    # The procerus folds the nose root only on a strong frown: half the full lowering drew a dash across it.
    assert across_the_nose(1.5) == 0
    assert across_the_nose(3.0) == 1


def test_a_moderate_frowns_furrows_stay_soft():
    from facecraft.synth.editor import paint_creases

    _, src, _ = astronaut_points()
    flat = _flat_skin(src)
    out = paint_creases(flat, src, _change(brows=1.5)).astype(float).mean(-1)
    assert out.min() < 170 - 5  # they are there ...
    assert out.min() > 0.85 * 170  # ... and no pencil line (0.75 of the skin before)


def test_the_skin_bunched_between_the_furrows_is_not_shaded():
    from facecraft.synth.editor import paint_creases
    from facecraft.synth.warp import face_width

    _, src, _ = astronaut_points()
    fw = face_width(src)
    flat = _flat_skin(src)
    out = paint_creases(flat, src, _change(brows=3.0)).astype(float).mean(-1)
    between = 0.5 * (src[55] + src[285])  # the brows' inner lower corners
    x, y = int(round(between[0])), int(round(between[1] - 0.04 * fw))
    # two furrows 0.044 face widths apart darkened the skin between them too (156 on 170): one dark dash
    assert out[y, x] >= 170 - 3
    columns = out[y, x - int(0.06 * fw) : x + int(0.06 * fw) + 1]
    assert columns.min() < 170 - 15  # the furrows beside it are dark


def test_a_slight_sneer_barely_lines_the_nose():
    from facecraft.synth.editor import _crease_strokes
    from facecraft.synth.warp import face_width

    _, src, _ = astronaut_points()
    fw = face_width(src)

    def nose_lines(sneer: float) -> float:  # the darkest of the short lines beside the bridge (width 1: no wing fold)
        strokes = _crease_strokes(src, _change(sneer=sneer), fw)
        return max((s[1] for s in strokes if s[4] == 1.0), default=0.0)

    # Anger's slight nose wrinkle (0.6 rig units) drew disgust's lines at 0.6 of their depth: with the furrows, the
    # legs of an X between the brows.
    assert nose_lines(1.0) > 0.25
    assert nose_lines(0.6) < 0.3 * nose_lines(1.0)
