"""glTF/GLB import: round trip through the writer, and hand-built files with the harder accessor kinds."""

from __future__ import annotations

import numpy as np
import pygltflib
import pytest

from facecraft.rigs import ARKIT_NAMES, FileFormatError, MissingFileError
from facecraft.rigs.animation import FaceAnimation
from facecraft.rigs.exchange import (
    arkit_target_name,
    load_animation,
    load_gltf_rig,
    read_gltf,
    read_gltf_animation,
    write_glb,
    write_rig_glb,
)


def test_rig_round_trip(tmp_path, grid_rig):
    back = load_gltf_rig(write_rig_glb(grid_rig, tmp_path / "grid.glb"))
    assert back.shape_names == list(ARKIT_NAMES)
    assert np.array_equal(back.neutral.numpy(), grid_rig.neutral.numpy())
    assert np.array_equal(back.deltas.numpy(), grid_rig.deltas.numpy())
    assert np.array_equal(back.faces.numpy(), grid_rig.faces.numpy())
    assert np.array_equal(back.uvs.numpy(), grid_rig.uvs.numpy())
    assert back.name == "grid"


def test_a_rigs_semantic_points_survive_its_glb(tmp_path, grid_rig):
    """Any rig's lip and lid points come back from its GLB (only the default rig's did: an ICT FaceKit GLB loaded
    without the points the lip-sync checks measure), on the same spots though the triangles are regrouped."""
    import torch

    from facecraft.rigs import BlendshapeRig

    faces = grid_rig.faces.numpy()
    rig = BlendshapeRig(grid_rig.neutral, grid_rig.deltas, grid_rig.shape_names, faces, uvs=grid_rig.uvs, name="grid",
                        point_names=["upper_lip_inner", "lower_lip_inner"], point_faces=[5, 60],
                        point_bary=[[0.2, 0.3, 0.5], [0.6, 0.3, 0.1]])  # fmt: skip
    path = write_rig_glb(rig, tmp_path / "p.glb")
    back = load_gltf_rig(path)
    assert back.point_names == rig.point_names
    w = torch.rand(1, rig.num_shapes)
    torch.testing.assert_close(back(w).points, rig(w).points, atol=1e-6, rtol=0)
    # a file another tool wrote (or edited) without well-formed points loads without them
    g = pygltflib.GLTF2().load(str(path))
    g.meshes[0].extras["facecraft_points"] = {"names": ["x"], "vertices": [1, 2], "weights": "no"}
    g.save(str(tmp_path / "q.glb"))
    assert load_gltf_rig(tmp_path / "q.glb").point_names == []


def test_animation_round_trip(tmp_path, grid_rig, random_anim):
    path = write_glb(random_anim, tmp_path / "a.glb", rig=grid_rig)
    back = load_animation(path)
    assert back.fps == pytest.approx(30.0, rel=1e-5) and back.num_frames == random_anim.num_frames
    assert back.curves == pytest.approx(random_anim.curves, abs=1e-6)


def test_animation_on_a_partial_rig_keeps_only_its_shapes(tmp_path, tiny_rig, random_anim):
    back = read_gltf_animation(write_glb(random_anim, tmp_path / "t.glb", rig=tiny_rig))
    have = [ARKIT_NAMES.index("jawOpen"), ARKIT_NAMES.index("mouthSmileLeft")]
    assert back["curves"][:, have] == pytest.approx(random_anim.curves[:, have], abs=1e-6)
    others = np.delete(back["curves"], have, axis=1)
    assert not others.any()


@pytest.mark.parametrize(
    ("name", "want"),
    [
        ("eyeBlinkLeft", "eyeBlinkLeft"), ("EyeBlink_L", "eyeBlinkLeft"), ("blendShape1.eyeBlinkLeft", "eyeBlinkLeft"),
        ("BS_jawOpen", "jawOpen"), ("Face|MouthSmile_R", "mouthSmileRight"), ("eyeBlink.L", "eyeBlinkLeft"),
        ("ARKit_tongueOut", "tongueOut"), ("smirk", None), ("blendShape1.smirk", None),
    ],
)  # fmt: skip
def test_arkit_target_names(name, want):
    assert arkit_target_name(name) == want


def _hand_built_glb(path):
    """Two triangles in a child node (parent scales by 2, child moves +1 in X); three targets: a sparse one,
    a normalized int16 one and an interleaved (strided) base position buffer."""
    pos = np.array([[0, 0, 0], [1, 0, 0], [0, 1, 0], [1, 1, 0]], np.float32)
    pad = np.zeros((4, 1), np.float32)  # interleave POSITION with one spare float: stride 16
    interleaved = np.concatenate([pos, pad], 1).tobytes()
    idx = np.array([0, 1, 2, 1, 3, 2], np.uint16).tobytes()
    sparse_idx = np.array([2], np.uint16).tobytes() + b"\x00\x00"
    sparse_val = np.array([[0, -0.5, 0]], np.float32).tobytes()
    quant = np.zeros((4, 3), np.int16)
    quant[1, 1] = 32767  # normalized: 1.0
    quant_bytes = quant.tobytes()
    blob = interleaved + idx + sparse_idx + sparse_val + quant_bytes
    offs = np.cumsum([0, len(interleaved), len(idx), len(sparse_idx), len(sparse_val)]).tolist()
    views = [
        pygltflib.BufferView(buffer=0, byteOffset=offs[0], byteLength=len(interleaved), byteStride=16, target=34962),
        pygltflib.BufferView(buffer=0, byteOffset=offs[1], byteLength=len(idx), target=34963),
        pygltflib.BufferView(buffer=0, byteOffset=offs[2], byteLength=len(sparse_idx)),
        pygltflib.BufferView(buffer=0, byteOffset=offs[3], byteLength=len(sparse_val)),
        pygltflib.BufferView(buffer=0, byteOffset=offs[4], byteLength=len(quant_bytes), target=34962),
    ]
    sparse = pygltflib.Sparse(
        count=1, indices=pygltflib.AccessorSparseIndices(bufferView=2, componentType=pygltflib.UNSIGNED_SHORT),
        values=pygltflib.AccessorSparseValues(bufferView=3),
    )  # fmt: skip
    accessors = [
        pygltflib.Accessor(bufferView=0, componentType=5126, count=4, type="VEC3", min=[0, 0, 0], max=[1, 1, 0]),
        pygltflib.Accessor(bufferView=1, componentType=5123, count=6, type="SCALAR"),
        pygltflib.Accessor(componentType=5126, count=4, type="VEC3", sparse=sparse, min=[0, -0.5, 0], max=[0, 0, 0]),
        pygltflib.Accessor(bufferView=4, componentType=pygltflib.SHORT, normalized=True, count=4, type="VEC3"),
    ]
    prim = pygltflib.Primitive(attributes=pygltflib.Attributes(POSITION=0), indices=1, targets=[{"POSITION": 2},
                               {"POSITION": 3}])  # fmt: skip
    mesh = pygltflib.Mesh(name="face", primitives=[prim], extras={"targetNames": ["blendShape1.JawOpen", "smirk"]})
    g = pygltflib.GLTF2(
        asset=pygltflib.Asset(version="2.0"), buffers=[pygltflib.Buffer(byteLength=len(blob))], bufferViews=views,
        accessors=accessors, meshes=[mesh], scene=0, scenes=[pygltflib.Scene(nodes=[0])],
        nodes=[pygltflib.Node(scale=[2, 2, 2], children=[1]), pygltflib.Node(translation=[1, 0, 0], mesh=0)],
    )  # fmt: skip
    g.set_binary_blob(blob)
    g.save_binary(str(path))
    return path


def test_hand_built_file_with_sparse_normalized_strided_and_node_transforms(tmp_path):
    d = read_gltf(_hand_built_glb(tmp_path / "hand.glb"))
    # world = parent scale 2 x (child translation +1 in X + vertex)
    want = 2 * (np.array([[0, 0, 0], [1, 0, 0], [0, 1, 0], [1, 1, 0]], np.float32) + [1, 0, 0])
    assert np.array_equal(d["neutral"], want)
    assert d["faces"].tolist() == [[0, 1, 2], [1, 3, 2]]
    assert d["shape_names"] == ["jawOpen", "smirk"] and d["source_names"] == ["blendShape1.JawOpen", "smirk"]
    jaw, smirk = d["deltas"]
    assert jaw[2].tolist() == [0, -1.0, 0] and np.count_nonzero(jaw) == 1  # sparse delta, scaled by 2
    assert smirk[1].tolist() == [0, 2.0, 0] and np.count_nonzero(smirk) == 1  # normalized 32767 -> 1.0, x2
    assert d["uvs"] is None


def test_targets_shared_by_two_meshes_merge(tmp_path, tiny_rig):
    path = write_rig_glb(tiny_rig, tmp_path / "t.glb")
    g = pygltflib.GLTF2().load(str(path))
    g.nodes.append(pygltflib.Node(mesh=0, translation=[0, 0, 1]))
    g.scenes[0].nodes.append(1)
    g.save_binary(str(path))
    rig = load_gltf_rig(path)
    assert rig.num_vertices == 8 and rig.shape_names == ["jawOpen", "mouthSmileLeft"]
    assert rig.neutral[4:, 2].tolist() == [1.0] * 4
    assert rig.deltas[0, 6, 1].item() == -0.5 and rig.deltas[0, 2, 1].item() == -0.5


def test_errors_name_the_file(tmp_path, tiny_rig):
    with pytest.raises(MissingFileError, match="nope.glb"):
        read_gltf(tmp_path / "nope.glb")
    bad = tmp_path / "bad.glb"
    bad.write_bytes(b"glTF this is not a real file")
    with pytest.raises(FileFormatError, match="bad.glb"):
        read_gltf(bad)
    still = write_rig_glb(tiny_rig, tmp_path / "still.glb")
    with pytest.raises(FileFormatError, match="still.glb: has no animation 0"):
        read_gltf_animation(still)
    anim = FaceAnimation(np.zeros((3, 52)), fps=30, head_rotation=np.zeros((3, 3)))
    from facecraft.rigs import BlendshapeRig

    shapeless = BlendshapeRig(tiny_rig.neutral, np.zeros((0, 4, 3)), [], tiny_rig.faces, name="bare")
    with pytest.raises(FileFormatError, match="animates no morph target weights"):
        read_gltf_animation(write_glb(anim, tmp_path / "head.glb", rig=shapeless))


def test_text_gltf_with_external_bin_and_data_uri(tmp_path, tiny_rig, monkeypatch):
    import base64

    glb = pygltflib.GLTF2().load(str(write_rig_glb(tiny_rig, tmp_path / "t.glb")))
    blob = glb.binary_blob()
    folder = tmp_path / "asset"
    folder.mkdir()
    (folder / "mesh data.bin").write_bytes(blob)
    glb.buffers[0].uri = "mesh%20data.bin"  # URIs are percent-encoded
    glb.set_binary_blob(None)
    glb.save_json(str(folder / "external.gltf"))
    monkeypatch.chdir(tmp_path)  # read from elsewhere: the .bin is found beside the .gltf
    external = load_gltf_rig(folder / "external.gltf")
    assert np.array_equal(external.deltas.numpy(), tiny_rig.deltas.numpy())
    glb.buffers[0].uri = "data:application/octet-stream;base64," + base64.b64encode(blob).decode()
    glb.save_json(str(tmp_path / "inline.gltf"))
    assert np.array_equal(load_gltf_rig(tmp_path / "inline.gltf").neutral.numpy(), tiny_rig.neutral.numpy())
    (folder / "mesh data.bin").unlink()
    with pytest.raises(FileFormatError, match=r"external.gltf: buffer 0 refers to 'mesh%20data.bin', which was not"):
        read_gltf(folder / "external.gltf")


def test_facecraft_glb_surfaces_are_read_back_as_regions(tmp_path, grid_rig):
    """A rig with its own surfaces (as ICT FaceKit's) keeps them through facecraft's GLB; other files get none."""
    from facecraft.rigs import BlendshapeRig
    from facecraft.rigs.surfaces import Region

    n = grid_rig.faces.shape[0]
    regions = [Region("iris", np.arange(0, 10), (0.36, 0.25, 0.15)),
               Region("lashes", np.arange(10, 20), (0.06, 0.05, 0.04), alpha=0.25, double_sided=True)]  # fmt: skip
    rig = BlendshapeRig(grid_rig.neutral, grid_rig.deltas, grid_rig.shape_names, grid_rig.faces, regions=regions)
    path = write_rig_glb(rig, tmp_path / "r.glb")
    d = read_gltf(path)
    assert [m["name"] for m in d["materials"]] == ["skin", "iris", "lashes"] and len(d["face_materials"]) == n
    back = load_gltf_rig(path)
    assert [(r.name, r.alpha, r.double_sided) for r in back.regions] == [
        ("skin", 1.0, False), ("iris", 1.0, False), ("lashes", 0.25, True),
    ]  # fmt: skip
    faces, want = back.faces.numpy(), rig.faces.numpy()
    for got, ref in zip(back.regions[1:], regions, strict=True):
        np.testing.assert_allclose(got.color, ref.color, atol=1e-6)
        assert sorted(map(tuple, faces[got.triangles])) == sorted(map(tuple, want[ref.triangles]))
    assert len(back.regions[0].triangles) == n - 20  # the rest is skin
    assert load_gltf_rig(write_rig_glb(grid_rig, tmp_path / "plain.glb")).regions == ()  # no materials
    assert load_gltf_rig(_hand_built_glb(tmp_path / "hand.glb")).regions == ()  # not facecraft's
