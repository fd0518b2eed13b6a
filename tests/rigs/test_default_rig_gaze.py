"""The default rig's gaze shapes: the lids follow the eyeball up and down, and looking down is no closing eye."""

from __future__ import annotations

import numpy as np
import pytest

from facecraft.rigs import BlendshapeRig
from facecraft.rigs import default_rig as dr
from facecraft.rigs.animation import EYE_PITCH_DEG

#: The middle of the left eye's upper and lower lid (MediaPipe vertices).
UPPER, LOWER = dr.EYE_L_UPPER[4], dr.EYE_L_LOWER[4]
#: How far the iris top moves at a full gaze weight: a 12 mm eyeball turned EYE_PITCH_DEG.
IRIS_MOVE = 0.012 * np.sin(np.radians(EYE_PITCH_DEG))


@pytest.fixture(scope="module")
def rig() -> BlendshapeRig:
    return dr.default_rig()


def _lid_motion(rig, name: str) -> tuple[float, float]:
    d = rig.deltas[rig.shape_index(name)].numpy().astype(np.float64)
    return float(d[UPPER, 1]), float(d[LOWER, 1])


@pytest.mark.parametrize("side", ["Left", "Right"])
def test_looking_up_raises_the_upper_lid_with_the_iris(rig, side):
    """A raised iris under a lid that stays (3 mm at a full weight) read to MediaPipe as a squint, not a look up."""
    name = f"eyeLookUp{side}"
    if side == "Right":  # the mirror twin: its lid middle is the mirror of the left one's
        up = float(rig.deltas[rig.shape_index(name)].numpy()[dr.mirror_map()[UPPER], 1])
    else:
        up, _ = _lid_motion(rig, name)
    assert up >= IRIS_MOVE, (up, IRIS_MOVE)  # (old: 0.003 m of the iris's 0.0051)


def test_looking_down_lowers_the_lids_without_closing_the_eye(rig):
    """The upper lid follows a lowered iris part way and the lower lid drops a little: the eye stays open (at 4.5 mm of
    a 6.7 mm opening it looked sleepy and MediaPipe read a blink)."""
    upper, lower = _lid_motion(rig, "eyeLookDownLeft")
    blink_upper, blink_lower = _lid_motion(rig, "eyeBlinkLeft")
    neutral = rig.neutral.numpy().astype(np.float64)
    opening = neutral[UPPER, 1] - neutral[LOWER, 1]
    assert upper < 0 and lower < 0  # both lids follow the eyeball down
    assert -upper < 0.7 * IRIS_MOVE and -upper < 0.7 * -blink_upper  # (old: 0.0045 m, 0.89 of the iris's move)
    assert (lower - upper) < 0.3 * opening  # the opening narrows by less than a third (old: 0.45)
