"""The format registry: dispatch by extension, option checks, and a round trip through every format."""

from __future__ import annotations

import numpy as np
import pytest

from facecraft.rigs import ParameterError
from facecraft.rigs.exchange import export_animation, load_animation, supported_formats


def test_supported_formats():
    assert supported_formats() == {
        "export": ["csv", "glb", "json", "npz"],
        "load": ["csv", "glb", "gltf", "json", "npz"],
    }


@pytest.mark.parametrize(("suffix", "tol"), [(".npz", 0.0), (".json", 5e-5), (".csv", 1e-9), (".GLB", 1e-6)])
def test_every_format_round_trips(tmp_path, grid_rig, random_anim, suffix, tol):
    opts = {"rig": grid_rig} if suffix == ".GLB" else {}
    path = export_animation(random_anim, tmp_path / f"anim{suffix}", **opts)
    back = load_animation(path)
    assert back.num_frames == random_anim.num_frames and back.fps == pytest.approx(random_anim.fps, rel=1e-5)
    assert np.abs(back.curves - random_anim.curves).max() <= tol


def test_file_type_overrides_the_extension(tmp_path, random_anim):
    path = export_animation(random_anim, tmp_path / "take.txt", file_type="csv")
    assert path.read_text().startswith("Timecode,BlendShapeCount,EyeBlinkLeft")
    assert load_animation(path, file_type="CSV").num_frames == random_anim.num_frames


def test_unknown_extension_names_it_and_the_supported_list(tmp_path, random_anim):
    with pytest.raises(ParameterError, match=r"extension '.fbx' of .*anim.fbx; supported: .csv, .glb, .json, .npz"):
        export_animation(random_anim, tmp_path / "anim.fbx")
    with pytest.raises(ParameterError, match=r"cannot load extension '\(none\)'"):
        load_animation(tmp_path / "anim")
    with pytest.raises(ParameterError, match="file_type='bvh'"):
        load_animation(tmp_path / "anim.csv", file_type="bvh")


def test_options_are_checked_before_any_work(tmp_path, tiny_rig, random_anim):
    with pytest.raises(ParameterError, match=r"rig not accepted for .csv files; accepted: swap_mouth_left_right"):
        export_animation(random_anim, tmp_path / "a.csv", rig=tiny_rig)
    with pytest.raises(ParameterError, match="colour not accepted for .npz files"):
        export_animation(random_anim, tmp_path / "a.npz", colour="red")
    with pytest.raises(ParameterError, match="strict not accepted for .json files"):
        load_animation(tmp_path / "a.json", strict=False)
    assert not any(tmp_path.iterdir())


def test_options_reach_the_format(tmp_path, tiny_rig, random_anim):
    path = export_animation(random_anim, tmp_path / "a.glb", rig=tiny_rig, normals=False)
    import pygltflib

    g = pygltflib.GLTF2().load(str(path))
    assert g.meshes[0].primitives[0].attributes.NORMAL is None
    csv = export_animation(random_anim, tmp_path / "a.csv", rotation_unit="degrees")
    back = load_animation(csv, rotation_unit="degrees")
    assert np.abs(back.head_rotation - random_anim.head_rotation).max() < 1e-6


def test_only_animations_are_exported(tmp_path):
    with pytest.raises(ParameterError, match="expected a FaceAnimation, got ndarray"):
        export_animation(np.zeros((3, 52)), tmp_path / "a.npz")


@pytest.mark.parametrize("suffix", [".glb", ".csv", ".json", ".npz"])
def test_an_animation_without_frames_is_not_written(tmp_path, tiny_rig, suffix):
    """A GLB of it held empty accessors (invalid glTF: the Khronos validator's VALUE_NOT_IN_RANGE on count 0), and the
    CSV and JSON readers refused the file their writers had made."""
    from facecraft.rigs.animation import FaceAnimation

    empty = FaceAnimation(np.zeros((0, 52), np.float32), fps=30.0)
    with pytest.raises(ParameterError, match="no frames"):
        export_animation(empty, tmp_path / f"empty{suffix}", rig=tiny_rig if suffix == ".glb" else None)
    assert not list(tmp_path.iterdir())


def test_a_rig_may_be_given_by_name_or_file(tmp_path, random_anim):
    # export_animation(anim, "x.glb", rig="default") stopped at "'str' object has no attribute 'content_stamp'"
    import pygltflib

    from facecraft.rigs.exchange import write_rig_glb
    from facecraft.rigs.loading import load_rig

    by_name = export_animation(random_anim, tmp_path / "a.glb", rig="default")
    assert pygltflib.GLTF2().load(str(by_name)).meshes[0].extras["targetNames"][0] == "eyeBlinkLeft"
    rig_file = write_rig_glb(load_rig("default"), tmp_path / "rig.glb")
    assert export_animation(random_anim, tmp_path / "b.glb", rig=rig_file).stat().st_size > 0
