"""The canonical face mesh read from the installed Face Landmarker bundle."""

from __future__ import annotations

import zipfile

import numpy as np
import pytest

from facecraft.rigs.errors import FileFormatError, MissingFileError
from facecraft.rigs.mediapipe_mesh import MESH_MEMBER, canonical_mesh, load_canonical_mesh, parse_geometry_metadata


def test_counts_units_and_uvs():
    m = canonical_mesh()
    assert m.vertices.shape == (468, 3) and m.vertices.dtype == np.float32
    assert m.faces.shape == (898, 3) and m.faces.min() == 0 and m.faces.max() == 467
    assert m.uvs.shape == (468, 2) and m.uvs.min() >= 0.0 and m.uvs.max() <= 1.0
    width = np.ptp(m.vertices[:, 0])
    assert 0.12 < width < 0.2, "metres: a face is about 15 cm wide"
    assert len(m.procrustes_ids) == len(m.procrustes_weights) > 0
    assert m.procrustes_ids.max() < 468


def test_orientation_y_up_face_toward_plus_z_subject_left_plus_x():
    v = canonical_mesh().vertices
    assert int(np.argmax(v[:, 2])) in (1, 4, 19, 94)  # a nose-tip vertex is the most forward
    assert v[10, 1] > v[1, 1] > v[152, 1]  # forehead above nose tip above chin
    assert v[263, 0] > 0 > v[33, 0]  # subject's left outer eye corner on +X
    t = v[canonical_mesh().faces]
    normals = np.cross(t[:, 1] - t[:, 0], t[:, 2] - t[:, 0])
    assert (normals[:, 2] > 0).mean() > 0.95, "triangles wind counter-clockwise seen from the front"


def test_bundle_errors_name_the_file(tmp_path):
    with pytest.raises(MissingFileError, match="nothere"):
        load_canonical_mesh(tmp_path / "nothere.task")
    not_zip = tmp_path / "broken.task"
    not_zip.write_bytes(b"not a zip file at all")
    with pytest.raises(FileFormatError, match="broken.task"):
        load_canonical_mesh(not_zip)
    no_member = tmp_path / "empty.task"
    with zipfile.ZipFile(no_member, "w") as z:
        z.writestr("face_detector.tflite", b"x")
    with pytest.raises(FileFormatError, match=f"empty.task.*{MESH_MEMBER}"):
        load_canonical_mesh(no_member)
    garbage = tmp_path / "garbage.task"
    with zipfile.ZipFile(garbage, "w") as z:
        z.writestr(MESH_MEMBER, b"\xff\xff\xff\xff\x0f\x01")
    with pytest.raises(FileFormatError, match="garbage.task"):
        load_canonical_mesh(garbage)


def test_truncated_mesh_is_rejected():
    from facecraft.rigs.mediapipe_mesh import _metadata_class

    msg = _metadata_class()()
    msg.canonical_mesh.vertex_buffer.extend([0.0] * 10)
    msg.canonical_mesh.index_buffer.extend([0, 1, 0])
    with pytest.raises(FileFormatError, match="expected 2340"):
        parse_geometry_metadata(msg.SerializeToString(), source="test.binarypb")


def test_roundtrip_through_bare_binarypb(tmp_path):
    from facecraft.rigs import resolve_asset

    with zipfile.ZipFile(resolve_asset("face_landmarker")) as z:
        (tmp_path / "mesh.binarypb").write_bytes(z.read(MESH_MEMBER))
    m = load_canonical_mesh(tmp_path / "mesh.binarypb")
    np.testing.assert_array_equal(m.vertices, canonical_mesh().vertices)
    np.testing.assert_array_equal(m.faces, canonical_mesh().faces)
