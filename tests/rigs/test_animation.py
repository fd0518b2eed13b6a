import numpy as np
import pytest

from facecraft.rigs import ParameterError
from facecraft.rigs.animation import FaceAnimation


def test_validation_and_resample():
    rng = np.random.default_rng(0)
    anim = FaceAnimation(rng.random((30, 52)), fps=30, head_rotation=np.zeros((30, 3)))
    assert anim.num_frames == 30 and anim.duration == pytest.approx(1.0)
    up = anim.resample(60)
    assert up.num_frames == 60 and up.head_rotation.shape == (60, 3)
    assert np.allclose(up.curves[0], anim.curves[0])
    with pytest.raises(ParameterError, match="head_rotation"):
        FaceAnimation(np.zeros((5, 52)), head_rotation=np.zeros((4, 3)))
    with pytest.raises(ParameterError, match="fps"):
        FaceAnimation(np.zeros((5, 52)), fps=0)
    with pytest.raises(ParameterError, match="expected shape"):
        FaceAnimation(np.zeros((5, 50)))


def test_still():
    anim = FaceAnimation.still(num_frames=4)
    assert anim.curves.shape == (4, 52) and anim.curves.sum() == 0
