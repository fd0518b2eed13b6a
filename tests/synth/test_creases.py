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


def _brute_frame(x: float, y: float, line: np.ndarray) -> tuple[float, float, float]:
    """Distance from pixel (x, y) to the polyline ``line``, signed (+ right of its direction, y down), and the share
    of its length at the nearest point: each segment in turn, in float64."""
    best = (np.inf, 0.0, 0.0)
    walked, total = 0.0, float(np.hypot(*np.diff(line, axis=0).T).sum())
    for a, b in zip(line[:-1], line[1:], strict=True):
        d = b - a
        length = float(np.hypot(*d))
        t = float(np.clip((np.array([x, y]) - a) @ d / max(length**2, 1e-12), 0.0, 1.0))
        near = a + t * d
        dist = float(np.hypot(x - near[0], y - near[1]))
        if dist < best[0]:
            right = d[0] * (y - a[1]) - d[1] * (x - a[0])
            best = (dist, dist if right >= 0 else -dist, (walked + t * length) / total)
        walked += length
    return best


def _all_strokes(scale: float):
    from facecraft.synth.editor import _crease_strokes
    from facecraft.synth.warp import face_width

    _, src, _ = astronaut_points()
    pts = src * scale
    change = _change(brows=3.0, sneer=1.0)
    change[[ARKIT_INDEX["cheekSquintLeft"], ARKIT_INDEX["cheekSquintRight"]]] = 0.8
    return _crease_strokes(pts, change, face_width(pts)), face_width(pts)


def test_a_strokes_frame_is_the_distance_to_its_nearest_segment():
    from facecraft.synth.editor import _stroke_frame

    strokes, fw = _all_strokes(2.0)
    assert len(strokes) >= 10  # furrows, the root's fold, the nose's lines, the cheeks' folds, crow's feet, lids
    rng = np.random.default_rng(0)
    for stroke in strokes:
        line = stroke.line
        xy = rng.uniform(line.min(0) - 0.05 * fw, line.max(0) + 0.05 * fw, (200, 2))
        dist, signed, share = _stroke_frame(xy[:, 0], xy[:, 1], line)
        want = np.array([_brute_frame(x, y, line) for x, y in xy])
        np.testing.assert_allclose(dist, want[:, 0], atol=2e-3)
        np.testing.assert_allclose(signed, want[:, 1], atol=2e-3)
        np.testing.assert_allclose(share, want[:, 2], atol=1e-4)
        grid = _stroke_frame(xy[:20, 0].reshape(4, 5), xy[:20, 1].reshape(4, 5), line)  # any shape
        np.testing.assert_allclose(grid[0].ravel(), dist[:20], atol=1e-6)


def test_a_crease_shades_only_the_pixels_it_reaches():
    from facecraft.synth.editor import _CREASE_REACH, _CREASE_SIGMA, _stroke_reach, _taper

    strokes, fw = _all_strokes(2.0)
    for stroke in strokes:
        line = stroke.line
        wide = _CREASE_SIGMA[1] * fw * stroke.width
        reach = _CREASE_REACH * wide
        lo, hi = line.min(0) - reach, line.max(0) + reach
        x, y = np.meshgrid(np.arange(lo[0], hi[0], 1.5), np.arange(lo[1], hi[1], 1.5))
        inside = _stroke_reach(x, y, line, reach)
        assert 0 < inside.sum() < 0.6 * inside.size  # the ends' caps and the box's corners are left out
        outside = np.flatnonzero(~inside)[::7]
        frame = np.array([_brute_frame(x.flat[i], y.flat[i], line) for i in outside])
        # the most any crease's valley or lit bulge could add there, per unit of darkening
        most = _taper(frame[:, 2], stroke.peak) * np.exp(-0.5 * np.maximum(frame[:, 0] / wide - 1.5, 0.0) ** 2)
        assert most.max() < 1e-6


def test_creases_painted_within_reach_match_creases_painted_over_their_whole_box(monkeypatch):
    import cv2

    import facecraft.synth.editor as editor_module
    from facecraft.synth.editor import paint_creases

    img, src, _ = astronaut_points()
    change = _change(brows=3.0, sneer=1.0)
    change[[ARKIT_INDEX["cheekSquintLeft"], ARKIT_INDEX["cheekSquintRight"]]] = 0.8
    for scale in (1.0, 3.0):
        big = cv2.resize(img, None, fx=scale, fy=scale, interpolation=cv2.INTER_CUBIC) if scale != 1 else img
        fast = paint_creases(big, src * scale, change)
        with monkeypatch.context() as patch:
            patch.setattr(editor_module, "_stroke_reach", lambda gx, gy, line, reach: np.ones(gx.shape, bool))
            whole = paint_creases(big, src * scale, change)
        assert (np.abs(whole.astype(int) - big.astype(int)).max(-1) > 2).sum() > 300 * scale**2  # creases painted
        assert np.abs(fast.astype(int) - whole.astype(int)).max() <= 1
