"""Lip state in curve space: one gap, sealed/open predicates whose thresholds follow the teacher's closure."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from facecraft.audio2face import lip_state as ls
from facecraft.audio2face.phonetics import Phone
from facecraft.audio2face.teacher import teacher_curves
from facecraft.audio2face.visemes import VISEME_POSES, VOWEL_VISEMES
from facecraft.rigs import ARKIT_INDEX

PRESS = [ARKIT_INDEX["mouthPressLeft"], ARKIT_INDEX["mouthPressRight"]]


def _curves(jaw, close, press) -> np.ndarray:
    c = np.zeros((len(jaw), 52), np.float32)
    c[:, ARKIT_INDEX["jawOpen"]] = jaw
    c[:, ARKIT_INDEX["mouthClose"]] = close
    c[:, PRESS] = np.asarray(press, np.float32)[:, None]
    return c


def test_lip_gap_is_jaw_minus_mouth_close_plus_lip_parting_for_numpy_and_torch():
    c = _curves([0.3, 0.3, 0.02, 0.0], [0.0, 0.3, 0.03, 0.0], [0, 0, 0, 0])
    lower, upper = ARKIT_INDEX["mouthLowerDownLeft"], ARKIT_INDEX["mouthUpperUpRight"]
    c[3, [lower, upper]] = 0.5  # one side of each pair: half of each pair's mean
    expect = [0.3, 0.0, -0.01, ls.LIP_PART_GAIN * 0.5]
    assert np.allclose(ls.lip_gap(c), expect)
    assert torch.allclose(ls.lip_gap(torch.from_numpy(c)), torch.tensor(expect))
    assert np.array_equal(ls.is_sealed(c), ls.is_sealed(torch.from_numpy(c)).numpy())


def _centre_opening_mm(rig, names) -> float:
    from facecraft.audio2face.metrics import inner_lip_gap

    c = np.zeros((1, 52), np.float32)
    c[0, [ARKIT_INDEX[n] for n in names]] = 1.0
    return float(inner_lip_gap(rig, c, relative=True)[0]) * 1000.0


def _part_ratios(rig) -> list[float]:
    jaw = _centre_opening_mm(rig, ["jawOpen"])
    pairs = (["mouthLowerDownLeft", "mouthLowerDownRight"], ["mouthUpperUpLeft", "mouthUpperUpRight"])
    return [_centre_opening_mm(rig, pair) / jaw for pair in pairs]


def test_lip_part_gain_is_the_rigs_opening_per_unit_against_the_jaw(shared_dir):
    """LIP_PART_GAIN re-measured: each lip-parting pair's inner-lip opening per unit over jawOpen's, on the
    default rig and ICT FaceKit; the constant is their mean."""
    from facecraft.rigs.default_rig import default_rig
    from facecraft.rigs.ict import load_ict_rig

    ratios = _part_ratios(default_rig()) + _part_ratios(
        load_ict_rig(shared_dir / "assets" / "ict-facekit" / "FaceXModel", face_only=True)
    )
    assert all(0.1 < r < 0.25 for r in ratios)
    assert np.mean(ratios) == pytest.approx(ls.LIP_PART_GAIN, abs=0.01)


def test_thresholds_follow_the_teachers_closure_not_coincidence():
    assert ls.SEALED_GAP == ls.CLOSURE_JAW and ls.PARTED_GAP == 2 * ls.CLOSURE_JAW
    assert ls.PRESSED == pytest.approx(0.6 * ls.CLOSURE_PRESS) and ls.UNPRESSED == pytest.approx(
        0.25 * ls.CLOSURE_PRESS
    )
    # what the teacher writes at a full closure reads as sealed, with margin on both quantities
    held = _curves([ls.CLOSURE_JAW], [ls.CLOSURE_JAW + ls.CLOSURE_SEAL], [ls.CLOSURE_PRESS])
    assert ls.is_sealed(held).all() and ls.sealed_weight(held)[0] == 1.0
    # "open" is the widest gap of any consonant's pose, narrower than every vowel's but the close rounded U
    consonants = [ls.lip_gap(p) for v, p in VISEME_POSES.items() if v != "sil" and v not in VOWEL_VISEMES]
    assert max(consonants) == pytest.approx(ls.OPEN_GAP)
    assert min(ls.lip_gap(VISEME_POSES[v]) for v in VOWEL_VISEMES if v != "U") > ls.OPEN_GAP


def test_sealed_needs_shut_and_pressed_lips_and_the_weight_agrees():
    """ARKit seals lips with mouthClose == jawOpen: a half-open jaw with matching mouthClose is still sealed."""
    c = _curves(
        [0.02, 0.13, 0.3, 0.3, 0.3, 0.08], [0.03, 0.14, 0.0, 0.3, 0.3, 0.0], [0.35, 0.35, 0.35, 0.35, 0.0, 0.35]
    )
    assert ls.is_sealed(c).tolist() == [True, True, False, True, False, False]
    assert np.allclose(ls.sealed_weight(c), [1.0, 1.0, 0.0, 1.0, 0.0, 0.4])  # last: gap 0.08 is 40 % shut
    rng = np.random.default_rng(0)
    grid = _curves(rng.uniform(0, 0.3, 2000), rng.uniform(0, 0.3, 2000), rng.uniform(0, 0.5, 2000))
    w = ls.sealed_weight(grid)
    assert np.all((w >= 0) & (w <= 1))
    assert np.array_equal(ls.is_sealed(grid), w >= 1.0 - 1e-6)
    assert np.all(w[ls.lip_gap(grid) >= ls.PARTED_GAP] == 0) and np.all(w[ls.mouth_press(grid) <= ls.UNPRESSED] == 0)


def test_teacher_output_reads_sealed_at_bilabials_and_open_at_open_vowels():
    phones = [Phone(0.0, 0.2, "SIL"), Phone(0.2, 0.35, "AA"), Phone(0.35, 0.5, "M"), Phone(0.5, 0.65, "AA"),
              Phone(0.65, 0.8, "B"), Phone(0.8, 1.0, "SIL")]  # fmt: skip
    c = teacher_curves(phones, fps=30, blink=False)
    t = np.arange(len(c)) / 30
    for p in phones:
        mid = (t >= p.start + 0.04) & (t < p.end - 0.04)
        if p.phone in ("M", "B"):
            assert ls.is_sealed(c[mid]).all() and not ls.is_open(c[mid]).any()
        elif p.phone == "AA":
            assert ls.is_open(c[mid]).any() and not ls.is_sealed(c[mid]).any()
        else:
            assert not ls.is_sealed(c[mid]).any()  # the relaxed mouth is closed but not pressed
