import numpy as np
import pytest
import torch

from facecraft.rigs import BlendshapeRig, FileFormatError, MissingFileError, ParameterError


def test_forward_batched_shapes(tiny_rig):
    w = torch.zeros(2, 5, 2)
    w[1, 3, 0] = 1.0
    out = tiny_rig(w)
    assert out.vertices.shape == (2, 5, 4, 3) and out.points.shape == (2, 5, 2, 3)
    assert out.vertices[1, 3, 2, 1].item() == pytest.approx(0.5)
    assert torch.equal(out.vertices[0, 0], tiny_rig.neutral)
    # the centroid point follows vertex 2 by a third
    assert out.points[1, 3, 1, 1].item() == pytest.approx(1 / 6)


def test_weights_from_names_and_arkit(tiny_rig):
    w = tiny_rig.weights_from_dict({"mouthSmile_L": 0.5})
    assert w.tolist() == [0.0, 0.5]
    curves = np.zeros((3, 52), np.float32)
    curves[:, 17] = 0.2  # jawOpen
    assert tiny_rig.from_arkit(curves)[:, 0].tolist() == pytest.approx([0.2] * 3)
    with pytest.raises(ParameterError, match="no shape named 'cheekPuff'"):
        tiny_rig.weights_from_dict({"cheekPuff": 1})


def test_bad_construction():
    with pytest.raises(ParameterError, match="deltas must be"):
        BlendshapeRig(np.zeros((4, 3)), np.zeros((1, 5, 3)), ["a"], np.zeros((0, 3)))
    with pytest.raises(ParameterError, match="faces must be"):
        BlendshapeRig(np.zeros((4, 3)), np.zeros((1, 4, 3)), ["a"], np.array([[0, 1, 9]]))
    with pytest.raises(ParameterError, match="weights need last dim 2"):
        BlendshapeRig(np.zeros((4, 3)), np.zeros((2, 4, 3)), ["a", "b"], np.array([[0, 1, 2]]))(torch.zeros(3))


def test_save_load_roundtrip(tiny_rig, tmp_path):
    path = tiny_rig.save(tmp_path / "r.safetensors")
    back = BlendshapeRig.load(path)
    assert back.shape_names == tiny_rig.shape_names and back.point_names == tiny_rig.point_names
    w = torch.rand(3, 2)
    assert torch.allclose(back(w).vertices, tiny_rig(w).vertices)
    with pytest.raises(MissingFileError, match="rig file not found"):
        BlendshapeRig.load(tmp_path / "nope.safetensors")
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(b"not a rig")
    with pytest.raises(FileFormatError, match="bad.safetensors"):
        BlendshapeRig.load(bad)


def test_regions_are_checked_and_saved(tiny_rig, tmp_path):
    from facecraft.rigs.surfaces import Region

    args = (tiny_rig.neutral, tiny_rig.deltas, tiny_rig.shape_names, tiny_rig.faces)
    assert tiny_rig.regions == ()
    teeth = Region("teeth", [1], (0.9, 0.9, 0.8), alpha=0.5, double_sided=True)
    rig = BlendshapeRig(*args, regions=[teeth], name="r")
    assert rig.regions == (teeth,) and rig.regions[0].triangles.dtype == np.int64
    back = BlendshapeRig.load(rig.save(tmp_path / "r.safetensors"))
    (got,) = back.regions
    assert (got.name, got.triangles.tolist(), got.color, got.alpha, got.double_sided) == (
        "teeth", [1], (0.9, 0.9, 0.8), 0.5, True,
    )  # fmt: skip
    assert "region_ids" not in tiny_rig.state_dict()  # not a buffer: rigs without regions save as before
    with pytest.raises(ParameterError, match="outside"):
        BlendshapeRig(*args, regions=[Region("a", [2], (1, 1, 1))])
    with pytest.raises(ParameterError, match="shares triangles"):
        BlendshapeRig(*args, regions=[Region("a", [0], (1, 1, 1)), Region("b", [0, 1], (1, 1, 1))])
    with pytest.raises(ParameterError, match="two regions named"):
        BlendshapeRig(*args, regions=[Region("a", [0], (1, 1, 1)), Region("a", [1], (1, 1, 1))])
    with pytest.raises(ParameterError, match="colour"):
        Region("a", [0], (1, 2, 1))
    with pytest.raises(ParameterError, match="alpha"):
        Region("a", [0], (1, 1, 1), alpha=-0.1)
