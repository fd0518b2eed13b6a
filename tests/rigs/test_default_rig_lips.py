"""The default rig's lip triangles (the GLB gives them a lip material)."""

from __future__ import annotations

import numpy as np


def test_lip_faces_lie_between_the_outer_and_inner_lip_lines():
    from facecraft.rigs.default_rig import LIPS_LOWER_OUTER, LIPS_UPPER_OUTER, lip_faces, opening_faces
    from facecraft.rigs.mediapipe_mesh import canonical_mesh

    mesh = canonical_mesh()
    lips = lip_faces()
    assert 60 < len(lips) < 200 and not set(lips.tolist()) & set(opening_faces().tolist())
    verts = np.unique(mesh.faces[lips])
    outline = np.array(LIPS_UPPER_OUTER + LIPS_LOWER_OUTER)
    lo, hi = mesh.vertices[outline].min(0), mesh.vertices[outline].max(0)
    assert np.all(mesh.vertices[verts, 0] >= lo[0] - 1e-6) and np.all(mesh.vertices[verts, 0] <= hi[0] + 1e-6)
    assert np.all(mesh.vertices[verts, 1] >= lo[1] - 1e-6) and np.all(mesh.vertices[verts, 1] <= hi[1] + 1e-6)
    # both lips, both sides: the centre rows and the corners belong to them
    assert {0, 13, 14, 17, 61, 291} <= set(verts.tolist())
