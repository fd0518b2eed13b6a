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


def test_the_formats_listed_as_holding_flame_are_those_whose_files_keep_it(tmp_path):
    """FLAME_FORMATS, defined once beside the fields, is the list every side reads (the exchange's flame_formats,
    facecraft animate's --flame-model check): each writer keeps FLAME expression + jaw exactly when it is listed."""
    from facecraft.rigs import load_rig
    from facecraft.rigs.animation import FLAME_FORMATS, FLAME_SUFFIXES
    from facecraft.rigs.exchange import animation_exporters, export_animation, load_animation

    assert FLAME_SUFFIXES == tuple(f".{k}" for k in FLAME_FORMATS)
    rng = np.random.default_rng(0)
    anim = FaceAnimation(rng.random((6, 52), np.float32) * 0.5, fps=30,
                         flame_expression=rng.normal(size=(6, 10)).astype(np.float32),
                         flame_jaw=rng.normal(scale=0.1, size=(6, 3)).astype(np.float32))  # fmt: skip
    kept = set()
    for kind in animation_exporters:
        path = export_animation(anim, tmp_path / f"a.{kind}", rig=load_rig("default") if kind == "glb" else None)
        back = load_animation(path)
        if back.flame_expression is not None:
            assert np.allclose(back.flame_expression, anim.flame_expression, atol=1e-4)
            assert np.allclose(back.flame_jaw, anim.flame_jaw, atol=1e-4)
            kept.add(kind)
    assert kept == set(FLAME_FORMATS)
