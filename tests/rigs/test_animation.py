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


def test_no_negative_zero_reaches_a_file(tmp_path):
    from facecraft.rigs.exchange import export_animation

    curves = np.zeros((3, 52), np.float32)
    curves[:, 5] = -0.0
    anim = FaceAnimation(curves, fps=30)
    assert not np.signbit(anim.curves).any()
    text = export_animation(FaceAnimation(np.full((2, 52), -1e-9, np.float32), fps=30), tmp_path / "a.json").read_text()
    assert "-0.0" not in text


@pytest.mark.parametrize("text", ["nan", "inf", "0", "-5", "fast"])
def test_a_frame_rate_argument_must_be_a_number_above_zero(text):
    import argparse

    from facecraft.rigs.animation import frame_rate

    with pytest.raises(argparse.ArgumentTypeError):
        frame_rate(text)
    assert frame_rate("59.94") == 59.94
