"""A user's glTF/GLB character is written back whole, with the clip added to its ARKit-named targets."""

from __future__ import annotations

import numpy as np
import pygltflib
import pytest
import torch

from facecraft.rigs import ARKIT_NAMES, ParameterError, load_rig
from facecraft.rigs.animation import FaceAnimation
from facecraft.rigs.exchange import validate_gltf, validator_available, write_glb, write_rig_glb
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
    face = next(c for c in clip.channels if c.target.node == 0)
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
