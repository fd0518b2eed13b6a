"""A user's glTF/GLB character is written back whole, with the clip added to its ARKit-named targets."""

from __future__ import annotations

import numpy as np
import pygltflib
import pytest
import torch

from facecraft.rigs import ARKIT_NAMES, ParameterError, load_rig
from facecraft.rigs.animation import FaceAnimation
from facecraft.rigs.exchange import load_animation, validate_gltf, validator_available, write_glb, write_rig_glb
from facecraft.rigs.exchange.gltf_animate import animate_gltf, gltf_source
from facecraft.rigs.exchange.gltf_import import read_accessor


@pytest.fixture(scope="module")
def character(tmp_path_factory):
    """facecraft's own default rig as a GLB: a face with child meshes (eyes, teeth, tongue) and 12 materials."""
    return write_rig_glb(load_rig("default"), tmp_path_factory.mktemp("char") / "character.glb")


def _take() -> FaceAnimation:
    curves = np.zeros((10, 52), np.float32)
    curves[:, ARKIT_NAMES.index("jawOpen")] = np.linspace(0, 1, 10)
    curves[:, ARKIT_NAMES.index("eyeBlinkLeft")] = 0.5
    return FaceAnimation(curves, fps=24)


def test_a_loaded_character_keeps_its_meshes_and_materials(tmp_path, character):
    source = pygltflib.GLTF2().load(str(character))
    rig = load_rig(character)
    assert gltf_source(rig) == character
    out = pygltflib.GLTF2().load(str(write_glb(_take(), tmp_path / "a.glb", rig=rig)))
    assert len(out.meshes) == len(source.meshes) > 1 and len(out.materials) == len(source.materials)
    assert out.asset.extras == {"fps": 24.0, "frames": 10}
    (clip,) = out.animations
    face = clip.channels[0]  # the face's weights first
    assert face.target.path == "weights" and out.nodes[face.target.node].mesh == 0
    weights = read_accessor(out, clip.samplers[face.sampler].output, path=tmp_path / "a.glb").reshape(10, -1)
    names = out.meshes[0].extras["targetNames"]
    np.testing.assert_allclose(weights[:, names.index("jawOpen")], np.linspace(0, 1, 10), atol=1e-6)
    assert np.allclose(weights[:, names.index("eyeBlinkLeft")], 0.5)
    write_rig_glb(rig, tmp_path / "same.glb")  # exporting the character as a rig gives the character back
    assert len(pygltflib.GLTF2().load(str(tmp_path / "same.glb")).meshes) == len(source.meshes)
    if validator_available():
        report = validate_gltf(tmp_path / "a.glb")
        assert report["issues"]["numErrors"] == 0 and report["issues"]["numWarnings"] == 0


def test_a_gltf_with_files_beside_it_is_packed_into_one_glb(tmp_path, character):
    g = pygltflib.GLTF2().load(str(character))
    (tmp_path / "char.bin").write_bytes(g.binary_blob())  # the buffer as a .bin beside the .gltf
    g.buffers[0].uri = "char.bin"
    g.set_binary_blob(b"")
    (tmp_path / "char.gltf").write_text(g.to_json())
    moved = tmp_path / "elsewhere" / "out.glb"
    animate_gltf(tmp_path / "char.gltf", _take(), moved)
    out = pygltflib.GLTF2().load(str(moved))
    assert len(out.buffers) == 1 and out.buffers[0].uri is None and len(out.animations) == 1


def test_a_changed_rig_is_written_as_a_rig_and_an_unnamed_character_is_an_error(tmp_path, character):
    rig = load_rig(character)
    with torch.no_grad():
        rig.neutral[0, 0] += 0.001  # changed in place: the file no longer describes it
    assert gltf_source(rig) is None
    g = pygltflib.GLTF2().load(str(character))
    for mesh in g.meshes:
        if mesh.extras and "targetNames" in mesh.extras:
            mesh.extras = {"targetNames": [f"shape{i}" for i in range(len(mesh.extras["targetNames"]))]}
    g.save(str(tmp_path / "unnamed.glb"))
    with pytest.raises(ParameterError, match="none of its .* morph targets is an ARKit-52 shape"):
        animate_gltf(tmp_path / "unnamed.glb", _take(), tmp_path / "x.glb")


def _turning_take() -> FaceAnimation:
    take = _take()
    t = np.linspace(0, 1, 10, dtype=np.float32)
    take.head_rotation = np.stack([20 * t, -10 * t, 5 * t], 1)  # yaw, pitch, roll degrees
    take.eye_rotation = np.tile(np.array([15, 5, 0, 12, 5, 0], np.float32), (10, 1))
    return take


def _rotation_channels(path) -> dict[int, np.ndarray]:
    g = pygltflib.GLTF2().load(str(path))
    (clip,) = g.animations
    return {
        c.target.node: read_accessor(g, clip.samplers[c.sampler].output, path=path).reshape(-1, 4)
        for c in clip.channels
        if c.target.path == "rotation"
    }


def test_a_character_turns_its_head_and_eyes_in_the_characters_own_frame(tmp_path, character):
    from scipy.spatial.transform import Rotation

    from facecraft.rigs.exchange.gltf_animate import yaw_pitch_roll_quaternions

    take = _turning_take()
    turns = _rotation_channels(write_glb(take, tmp_path / "own.glb", rig=load_rig(character)))
    g = pygltflib.GLTF2().load(str(character))
    eyes = [i for i, n in enumerate(g.nodes) if n.name in ("eye_left", "eye_right")]
    assert sorted(turns) == [0, *eyes]  # facecraft's own file: its root node is the head
    np.testing.assert_allclose(turns[0], yaw_pitch_roll_quaternions(take.head_rotation), atol=1e-6)
    # a skeleton whose armature stands Z-up (Blender's export) and whose head bone has its own axes (a matrix)
    armature = Rotation.from_euler("x", -90, degrees=True)
    bone = Rotation.from_euler("zy", [30, -70], degrees=True)
    matrix = np.eye(4)
    matrix[:3, :3], matrix[:3, 3] = bone.as_matrix(), [0.0, 0.0, 1.6]
    g.nodes.append(pygltflib.Node(name="Armature", rotation=armature.as_quat().tolist(), children=[len(g.nodes) + 1]))
    g.nodes.append(pygltflib.Node(name="mixamorig:Head", matrix=matrix.T.reshape(-1).tolist(), children=[0]))
    g.scenes[0].nodes = [len(g.nodes) - 2]
    g.asset.generator = "another tool"
    g.save(str(tmp_path / "skeleton.glb"))
    out = write_glb(take, tmp_path / "skel_anim.glb", rig=load_rig(tmp_path / "skeleton.glb"))
    turns = _rotation_channels(out)
    head = len(g.nodes) - 1
    assert sorted(turns) == sorted([head, *eyes]) and pygltflib.GLTF2().load(str(out)).nodes[head].matrix is None
    world = armature * Rotation.from_quat(turns[head])  # the head's world rotation, frame by frame
    wanted = Rotation.from_quat(yaw_pitch_roll_quaternions(take.head_rotation)) * armature * bone
    assert np.allclose((world.inv() * wanted).magnitude(), 0, atol=1e-5)
    if validator_available():
        report = validate_gltf(out)
        assert report["issues"]["numErrors"] == 0 and report["issues"]["numWarnings"] == 0


def test_a_character_without_a_head_node_keeps_its_head_still_and_says_so(tmp_path, character, caplog):
    g = pygltflib.GLTF2().load(str(character))
    g.nodes[0].name, g.asset.generator = "body", "another tool"
    g.save(str(tmp_path / "headless.glb"))
    turns = _rotation_channels(write_glb(_turning_take(), tmp_path / "a.glb", rig=load_rig(tmp_path / "headless.glb")))
    assert 0 not in turns and len(turns) == 2  # the eyes still turn
    assert "no node is named as a head" in caplog.text


def test_the_default_rigs_glb_loads_back_with_its_openings_points_and_parts(character):
    # The GLB leaves the opening triangles out (its eyeballs, teeth and cavity fill them): loaded back, the rig
    # rendered black eye holes and had no landmark points.
    from facecraft.rigs.face_parts import face_parts

    rig, default = load_rig(character), load_rig("default")
    assert np.array_equal(rig.faces.numpy(), default.faces.numpy())
    assert list(rig.point_names) == list(default.point_names) and len(face_parts(rig)) == len(face_parts(default))


def test_an_animated_character_gets_a_clip_of_its_own_name(tmp_path, character):
    once = write_glb(_take(), tmp_path / "once.glb", rig=load_rig(character))
    second = _take()
    second.curves[:, 0] = 0.25
    twice = write_glb(second, tmp_path / "twice.glb", rig=load_rig(once))
    g = pygltflib.GLTF2().load(str(twice))
    # the new clip first, before the character's own: Blender makes the first the active action, viewers play it
    assert [a.name for a in g.animations] == ["face.1", "face"]
    assert load_animation(twice).curves[:, 0] == pytest.approx(0.25)
    # the timing is on the scene too, where Blender's importer puts a file's extras (the README's recipe reads them)
    assert g.scenes[g.scene or 0].extras == g.asset.extras == {"fps": 24.0, "frames": second.num_frames}


def test_a_characters_clip_carries_the_mouth_cues_and_meta(tmp_path, character):
    anim = _take()
    anim.mouth_cues = [{"start": 0.0, "end": 0.2, "value": "B"}]
    anim.meta = {"source": "vo_12.wav"}
    back = load_animation(write_glb(anim, tmp_path / "char.glb", rig=load_rig(character)))
    assert back.mouth_cues == anim.mouth_cues and back.meta["source"] == "vo_12.wav"
