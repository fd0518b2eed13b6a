"""Lip-sync metrics on rig geometry: gap, closure, opening, LVE."""

from __future__ import annotations

import numpy as np
import pytest

from facecraft.audio2face.metrics import (
    inner_lip_gap,
    lip_sync_scores,
    lip_vertex_error,
    lip_vertex_indices,
    mouth_curve_difference,
    rest_gap,
    score_lip_sync,
)
from facecraft.audio2face.phonetics import Phone
from facecraft.rigs import ARKIT_INDEX
from facecraft.rigs.errors import ParameterError


@pytest.fixture(scope="module")
def rig():
    from facecraft.rigs.default_rig import default_rig

    return default_rig()


def test_gap_zero_at_neutral_and_opens_with_jaw(rig):
    c = np.zeros((3, 52), np.float32)
    c[1, ARKIT_INDEX["jawOpen"]] = 0.5
    c[2, ARKIT_INDEX["jawOpen"]] = 0.5
    c[2, ARKIT_INDEX["mouthClose"]] = 0.5  # ARKit's sealed lips over an open jaw
    g = inner_lip_gap(rig, c, relative=True) * 1000
    assert abs(g[0]) < 1e-6
    assert inner_lip_gap(rig, c)[0] == pytest.approx(rest_gap(rig)) and rest_gap(rig) > 0
    assert g[1] > 5.0
    assert g[2] < g[1] / 3


def test_closure_and_opening_scores():
    fps = 30.0
    phones = [Phone(0.0, 0.1, "SIL"), Phone(0.1, 0.2, "B"), Phone(0.2, 0.4, "AA"), Phone(0.4, 0.5, "M"),
              Phone(0.5, 0.7, "AE")]  # fmt: skip
    gap = np.full(21, 0.008)  # 8 mm open everywhere
    s = lip_sync_scores(gap, phones, fps=fps)
    assert s.closure_rate == 0.0 and s.num_bilabials == 2 and s.open_vowel_rate == 1.0
    gap[4] = 0.0  # close during the B only
    s = lip_sync_scores(gap, phones, fps=fps)
    assert s.closure_rate == 0.5 and s.open_vowel_mean_mm == pytest.approx(8.0)
    closed = lip_sync_scores(np.zeros(21), phones, fps=fps)  # a face that never opens
    assert closed.closure_rate == 1.0 and closed.open_vowel_rate == 0.0
    # opening is judged above the rig's rest gap: 8 mm is not open for lips resting 6 mm apart
    assert lip_sync_scores(np.full(21, 0.008), phones, fps=fps, rest_m=0.006).open_vowel_rate == 0.0
    with pytest.raises(ParameterError):
        lip_sync_scores(np.zeros(0), phones, fps=fps)


def test_score_lip_sync_on_a_rig(rig):
    phones = [Phone(0.0, 0.2, "M"), Phone(0.2, 0.4, "AA")]
    c = np.zeros((12, 52), np.float32)
    assert score_lip_sync(rig, c, phones, fps=30.0).closure_rate == 1.0  # lips rest together...
    assert score_lip_sync(rig, c, phones, fps=30.0).open_vowel_rate == 0.0  # ...and a still face never opens
    c[:, ARKIT_INDEX["jawOpen"]] = 0.4
    s = score_lip_sync(rig, c, phones, fps=30.0)
    assert s.closure_rate == 0.0 and s.open_vowel_rate == 1.0


def test_lve(rig):
    rng = np.random.default_rng(0)
    a = rng.random((10, 52)).astype(np.float32) * 0.5
    assert lip_vertex_error(rig, a, a) == 0.0
    b = a.copy()
    b[:, ARKIT_INDEX["jawOpen"]] += 0.3
    e = lip_vertex_error(rig, a, b)
    assert e > 1.0  # millimetres
    c = a.copy()
    c[:, ARKIT_INDEX["browInnerUp"]] += 0.3  # brows do not move the lips
    assert lip_vertex_error(rig, a, c) < 0.1 * e
    assert len(lip_vertex_indices(rig)) > 10
    with pytest.raises(ParameterError):
        lip_vertex_error(rig, a, a[:5])
    assert mouth_curve_difference(a, c) == 0.0 and mouth_curve_difference(a, b) > 0


def test_gap_follows_the_phones_opening():
    fps = 30.0
    phones = [Phone(0.0, 0.1, "SIL"), Phone(0.1, 0.2, "B"), Phone(0.2, 0.4, "AA"), Phone(0.4, 0.5, "M"),
              Phone(0.5, 0.7, "AH")]  # fmt: skip
    from facecraft.audio2face.metrics import phone_opening

    target = phone_opening(phones, fps=fps, num_frames=21)
    assert target[0] == 0.0 and target[7] > target[4] > 0.0  # AA opens wide, B only a little, silence not at all
    assert target[17] == pytest.approx(0.7 * target[7])  # a reduced vowel opens less (PHONE_JAW_SCALE)
    following = lip_sync_scores(0.02 * target, phones, fps=fps)
    assert following.gap_phone_r == pytest.approx(1.0) and following.num_frames == 21
    assert lip_sync_scores(0.02 * target.max() - 0.02 * target, phones, fps=fps).gap_phone_r == pytest.approx(-1.0)
    assert np.isnan(lip_sync_scores(np.zeros(21), phones, fps=fps).gap_phone_r)  # a still face: no correlation
