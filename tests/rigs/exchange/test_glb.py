"""GLB writer: spec rules, target names, weights animation, and the Khronos validator's verdict."""

from __future__ import annotations

import numpy as np
import pygltflib
import pytest

from facecraft.rigs import ARKIT_NAMES, BlendshapeRig, ParameterError
from facecraft.rigs.animation import FaceAnimation
from facecraft.rigs.exchange import validate_gltf, validator_available, write_glb, write_rig_glb
from facecraft.rigs.exchange.glb import vertex_normals
from facecraft.rigs.exchange.gltf_import import read_accessor


def _raw(g: pygltflib.GLTF2, index: int) -> np.ndarray:
    """Float32 values of a tightly packed accessor, read straight from the blob (independent of the reader)."""
    acc = g.accessors[index]
    bv = g.bufferViews[acc.bufferView]
    width = {"SCALAR": 1, "VEC2": 2, "VEC3": 3, "VEC4": 4}[acc.type]
    start = bv.byteOffset + (acc.byteOffset or 0)
    return np.frombuffer(g.binary_blob(), np.float32, acc.count * width, start).reshape(acc.count, width)


def test_rig_glb_structure(tmp_path, tiny_rig):
    path = write_rig_glb(tiny_rig, tmp_path / "tiny.glb")
    g = pygltflib.GLTF2().load(str(path))
    mesh = g.meshes[0]
    assert mesh.extras["targetNames"] == ["jawOpen", "mouthSmileLeft"]
    prim = mesh.primitives[0]
    assert len(prim.targets) == 2 and mesh.weights == [0.0, 0.0]
    assert not g.animations
    pos = g.accessors[prim.attributes.POSITION]
    assert pos.min == [0.0, 0.0, 0.0] and pos.max == [1.0, 1.0, 0.0]
    jaw = _raw(g, prim.targets[0]["POSITION"])
    assert jaw[2].tolist() == [0.0, -0.5, 0.0] and np.count_nonzero(jaw) == 1
    assert g.accessors[prim.targets[0]["POSITION"]].min == [0.0, -0.5, 0.0]
    for bv in g.bufferViews:
        assert bv.byteOffset % 4 == 0 and bv.byteStride is None
    assert g.buffers[0].byteLength == len(g.binary_blob()) and len(g.binary_blob()) % 4 == 0
    idx = read_accessor(g, prim.indices, path=path).reshape(-1, 3)
    assert idx.tolist() == tiny_rig.faces.tolist()


def test_animation_samples_curves_on_rig_shapes(tmp_path, tiny_rig):
    curves = np.zeros((5, 52), np.float32)
    curves[:, ARKIT_NAMES.index("jawOpen")] = np.linspace(0, 1, 5)
    curves[:, ARKIT_NAMES.index("mouthSmileLeft")] = 0.25
    curves[:, ARKIT_NAMES.index("cheekPuff")] = 0.9  # the tiny rig lacks it: dropped
    path = write_glb(FaceAnimation(curves, fps=25.0), tmp_path / "anim.glb", rig=tiny_rig)
    g = pygltflib.GLTF2().load(str(path))
    (anim,) = g.animations
    (channel,) = anim.channels
    assert channel.target.path == "weights" and channel.target.node == 0
    sampler = anim.samplers[channel.sampler]
    assert sampler.interpolation == "LINEAR"
    times = g.accessors[sampler.input]
    assert times.min == [0.0] and times.max == pytest.approx([4 / 25.0])
    assert _raw(g, sampler.input)[:, 0] == pytest.approx(np.arange(5) / 25.0)
    w = _raw(g, sampler.output).reshape(5, 2)
    assert w[:, 0] == pytest.approx(np.linspace(0, 1, 5)) and w[:, 1] == pytest.approx([0.25] * 5)


def test_head_rotation_channel_turns_face_to_its_left(tmp_path, tiny_rig):
    head = np.zeros((2, 3), np.float32)
    head[1, 0] = 90.0  # yaw
    path = write_glb(FaceAnimation(np.zeros((2, 52)), fps=10, head_rotation=head), tmp_path / "h.glb", rig=tiny_rig)
    g = pygltflib.GLTF2().load(str(path))
    rot = next(c for c in g.animations[0].channels if c.target.path == "rotation")
    q = _raw(g, g.animations[0].samplers[rot.sampler].output)
    from scipy.spatial.transform import Rotation

    assert Rotation.from_quat(q[0]).apply([0, 0, 1]) == pytest.approx([0, 0, 1], abs=1e-6)
    assert Rotation.from_quat(q[1]).apply([0, 0, 1]) == pytest.approx([1, 0, 0], abs=1e-6)  # +Z -> subject's left


def test_normal_deltas_follow_the_shape(tmp_path, grid_rig):
    g = pygltflib.GLTF2().load(str(write_rig_glb(grid_rig, tmp_path / "g.glb")))
    prim = g.meshes[0].primitives[0]
    base = _raw(g, prim.attributes.NORMAL)
    assert np.linalg.norm(base, axis=1) == pytest.approx(np.ones(len(base)), abs=1e-5)
    j = 17
    moved = grid_rig.neutral.numpy() + grid_rig.deltas[j].numpy()
    expect = vertex_normals(moved, grid_rig.faces.numpy())
    assert base + _raw(g, prim.targets[j]["NORMAL"]) == pytest.approx(expect, abs=1e-5)
    assert _raw(g, prim.attributes.TEXCOORD_0) == pytest.approx(grid_rig.uvs.numpy())
    assert len(g.meshes[0].extras["targetNames"]) == 52


def test_vertex_normals_of_a_flat_sheet_and_an_isolated_vertex():
    verts = np.array([[0, 0, 0], [1, 0, 0], [0, 1, 0], [5, 5, 5]], np.float32)
    n = vertex_normals(verts, np.array([[0, 1, 2]]))
    assert n.tolist() == [[0, 0, 1]] * 4  # the isolated vertex gets +Z, not a zero vector
    assert vertex_normals(np.stack([verts, verts * [1, -1, 1]]), np.array([[0, 1, 2]]))[1, 0].tolist() == [0, 0, -1]


def test_rig_without_faces_is_rejected(tmp_path):
    rig = BlendshapeRig(np.zeros((3, 3)), np.zeros((1, 3, 3)), ["jawOpen"], np.zeros((0, 3), int), name="empty")
    with pytest.raises(ParameterError, match="'empty': has no triangles"):
        write_rig_glb(rig, tmp_path / "e.glb")


needs_validator = pytest.mark.skipif(not validator_available(), reason="node or node_modules/gltf-validator absent")


@needs_validator
def test_validator_accepts_tiny_rig_and_animation(tmp_path, tiny_rig, random_anim):
    for path in (write_rig_glb(tiny_rig, tmp_path / "r.glb"), write_glb(random_anim, tmp_path / "a.glb", rig=tiny_rig)):
        report = validate_gltf(path)
        assert report["numErrors"] == 0 and report["numWarnings"] == 0, report["messages"]


@needs_validator
def test_validator_accepts_52_shape_rig_with_animation(tmp_path, grid_rig, random_anim):
    report = validate_gltf(write_glb(random_anim, tmp_path / "grid.glb", rig=grid_rig))
    assert report["numErrors"] == 0 and report["numWarnings"] == 0, report["messages"]
    assert report["info"]["animationCount"] == 1 and report["info"]["maxAttributes"] >= 3


@needs_validator
def test_validator_reports_a_broken_file(tmp_path, tiny_rig):
    path = write_rig_glb(tiny_rig, tmp_path / "bad.glb")
    g = pygltflib.GLTF2().load(str(path))
    g.accessors[g.meshes[0].primitives[0].attributes.POSITION].max = [9.0, 9.0, 9.0]  # wrong bounds
    g.save_binary(str(path))
    report = validate_gltf(path)
    assert report["numErrors"] >= 1
    assert any(m["code"] == "ACCESSOR_MAX_MISMATCH" for m in report["messages"])


def test_validator_missing_node_or_script_names_the_fix(tmp_path, tiny_rig, monkeypatch):
    from facecraft.rigs import OptionalDependencyError

    path = write_rig_glb(tiny_rig, tmp_path / "r.glb")
    monkeypatch.setenv("FACECRAFT_GLTF_VALIDATOR_SCRIPT", str(tmp_path / "nowhere.mjs"))
    with pytest.raises(OptionalDependencyError, match="nowhere.mjs not found"):
        validate_gltf(path)
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(OptionalDependencyError, match="npm ci"):
        validate_gltf(path)


@needs_validator
def test_default_rig_glb_with_real_take_validates(tmp_path, shared_dir):
    """The project's default rig (the CLI's and demo's GLB) driven by a real iPhone take, written with rig=None."""
    from facecraft.rigs.default_rig import default_rig
    from facecraft.rigs.exchange import load_animation

    take = shared_dir / "data/capture/neurosync_trainer_lite_testset/curves_llf.csv"
    if not take.exists():
        pytest.skip(f"{take} absent")
    rig = default_rig()
    anim = load_animation(take)
    path = write_glb(anim, tmp_path / "take.glb")
    report = validate_gltf(path)
    assert report["numErrors"] == 0 and report["numWarnings"] == 0, report["messages"]
    g = pygltflib.GLTF2().load(str(path))
    assert set(g.meshes[0].extras["targetNames"]) >= set(ARKIT_NAMES) and rig.num_shapes >= 52
    assert load_animation(path).curves == pytest.approx(anim.curves, abs=1e-6)


def test_default_rig_glb_has_skin_mouth_and_eye_materials_on_shared_vertices(tmp_path):
    """Engines must show a dark mouth and eyes, not skin stretched over the openings; re-import merges them back."""
    from facecraft.rigs.default_rig import default_rig
    from facecraft.rigs.exchange.gltf_import import read_gltf

    rig = default_rig()
    path = write_rig_glb(rig, tmp_path / "rig.glb")
    g = pygltflib.GLTF2().load(str(path))
    prims = g.meshes[0].primitives
    assert [g.materials[p.material].name for p in prims] == ["skin", "mouth_interior", "eyes"]
    assert len({p.attributes.POSITION for p in prims}) == 1 and all(len(p.targets) == 52 for p in prims)
    colors = [g.materials[p.material].pbrMetallicRoughness.baseColorFactor for p in prims]
    assert colors[0][0] > 0.5 and max(colors[1][:3]) < 0.1 and max(colors[2][:3]) < 0.05  # linear RGB
    counts = [read_accessor(g, p.indices, path=path).size // 3 for p in prims]
    assert sum(counts) == rig.faces.shape[0] and min(counts) > 0
    back = read_gltf(path)
    assert back["neutral"].shape == (rig.neutral.shape[0], 3) and back["faces"].shape == tuple(rig.faces.shape)
    if validator_available():
        report = validate_gltf(path)
        assert report["numErrors"] == 0 and report["numWarnings"] == 0, report["messages"]


def test_inward_winding_is_reported(tmp_path, caplog):
    import logging

    from facecraft.rigs.exchange.glb import build_glb

    # a closed tetrahedron, first with outward (counter-clockwise) triangles, then flipped
    verts = np.array([[0, 0, 0], [1, 0, 0], [0, 1, 0], [0, 0, 1]], np.float32)
    outward = np.array([[0, 2, 1], [0, 1, 3], [0, 3, 2], [1, 2, 3]])
    for faces, warned in ((outward, False), (outward[:, ::-1].copy(), True)):
        caplog.clear()
        rig = BlendshapeRig(verts, np.zeros((0, 4, 3)), [], faces, name="tet")
        with caplog.at_level(logging.WARNING):
            build_glb(rig)
        assert ("face inward" in caplog.text) == warned
