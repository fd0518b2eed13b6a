"""The default rig's eyebrow triangles (the GLB and the renderer give them a hair colour)."""

from __future__ import annotations

import numpy as np


def test_brow_faces_are_both_brows_and_move_with_the_brow_shapes():
    from facecraft.rigs.default_rig import (
        BROW_L_LOWER,
        BROW_L_UPPER,
        BROW_R_LOWER,
        BROW_R_UPPER,
        brow_faces,
        default_rig,
        lip_faces,
        opening_faces,
    )

    rig = default_rig()
    faces = rig.faces.numpy()
    brows = brow_faces()
    assert not set(brows.tolist()) & (set(lip_faces().tolist()) | set(opening_faces().tolist()))
    verts = set(np.unique(faces[brows]).tolist())
    left, right = set(BROW_L_UPPER + BROW_L_LOWER), set(BROW_R_UPPER + BROW_R_LOWER)
    assert verts == left | right  # the band between each brow's upper and lower edge, nothing else
    v = rig.neutral.numpy()
    for side in (left, right):
        pts = v[list(side)]
        assert 0.035 < np.ptp(pts[:, 0]) < 0.06  # a brow's length, metres
    # anger's browDown lowers the brow's triangles, sadness's browInnerUp raises their inner ends
    down = rig.deltas[rig.shape_index("browDownLeft")].numpy()
    assert down[list(left), 1].mean() < -0.002 and abs(down[list(right), 1]).max() < 1e-4
    inner = rig.deltas[rig.shape_index("browInnerUp")].numpy()
    assert inner[[BROW_L_UPPER[0], BROW_R_UPPER[0]], 1].min() > 0.002
