"""Eyes, teeth, tongue and mouth cavity of the default rig: placement, motion with the shapes, gaze mapping."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from facecraft.rigs import ARKIT_INDEX
from facecraft.rigs.animation import EYE_PITCH_DEG, EYE_YAW_DEG, eye_rotation_from_curves, with_gaze_curves
from facecraft.rigs.face_parts import (
    TONGUE_SHOWS_AT,
    face_parts,
    is_default_topology,
    jaw_motions,
)


@pytest.fixture(scope="module")
def rig():
    from facecraft.rigs.default_rig import default_rig

    return default_rig()


@pytest.fixture(scope="module")
def parts(rig):
    return {p.name: p for p in face_parts(rig)}


def _posed(part, weights: dict[str, float]) -> np.ndarray:
    """World-space vertices of ``part`` with its morph targets at ``weights`` (ARKit name -> weight)."""
    v = part.vertices.astype(np.float64) + part.pivot
    for name, d in part.targets.items():
        v = v + weights.get(name, 0.0) * d
    return v


def _skin(rig, weights: dict[str, float]) -> np.ndarray:
    """Skin triangles (openings removed, facing the viewer) of the posed face, as (F, 3, 3) corners."""
    from facecraft.rigs.default_rig import opening_faces

    w = torch.zeros(rig.num_shapes)
    for n, x in weights.items():
        w[rig.shape_index(n)] = x
    v = (rig.neutral + (w[:, None, None] * rig.deltas).sum(0)).numpy().astype(np.float64)
    f = np.delete(rig.faces.numpy(), opening_faces(), axis=0)
    tri = v[f]
    n = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
    return tri[n[:, 2] > 0]


def _in_front_of_skin(points: np.ndarray, tri: np.ndarray) -> float:
    """Largest distance (m) by which a point lies in front of (+Z) the skin over the same (x, y); <= 0: hidden."""
    a, b, c = tri[:, 0, :2], tri[:, 1, :2], tri[:, 2, :2]
    e0, e1 = b - a, c - a
    den = e0[:, 0] * e1[:, 1] - e1[:, 0] * e0[:, 1]
    worst = -np.inf
    for q in points:
        d = q[:2] - a
        l1 = (d[:, 0] * e1[:, 1] - e1[:, 0] * d[:, 1]) / den
        l2 = (e0[:, 0] * d[:, 1] - d[:, 0] * e0[:, 1]) / den
        inside = (l1 >= 0) & (l2 >= 0) & (l1 + l2 <= 1)
        if inside.any():
            z = (1 - l1 - l2) * tri[:, 0, 2] + l1 * tri[:, 1, 2] + l2 * tri[:, 2, 2]
            worst = max(worst, float(q[2] - z[inside].min()))
    return worst


def test_default_rig_gets_every_part_other_rigs_none(rig, parts):
    assert set(parts) == {"eye_left", "eye_right", "eye_socket_left", "eye_socket_right", "teeth_upper",
                          "teeth_lower", "tongue", "mouth_cavity"}  # fmt: skip
    assert [s.material for s in parts["eye_left"].surfaces] == ["eye_white", "iris", "pupil"]
    assert is_default_topology(rig)
    from facecraft.rigs import BlendshapeRig

    tri = BlendshapeRig(np.eye(3, dtype=np.float32), np.zeros((0, 3, 3)), [], np.array([[0, 1, 2]]), name="t")
    assert face_parts(tri) == []


def test_face_mesh_is_untouched(rig):
    """The parts are separate geometry: the 468-vertex face and its 52 shapes are what they were."""
    from facecraft.rigs.default_rig import build_default_rig

    fresh = build_default_rig()
    face_parts(rig)
    assert rig.neutral.shape == (468, 3) and rig.num_shapes == 52
    assert torch.equal(rig.neutral, fresh.neutral) and torch.equal(rig.deltas, fresh.deltas)


@pytest.mark.parametrize(
    "pose",
    [{}, {"jawOpen": 1.0}, {"jawOpen": 0.5, "tongueOut": TONGUE_SHOWS_AT}, {"eyeBlinkLeft": 1.0, "eyeBlinkRight": 1.0},
     {"jawLeft": 1.0, "mouthSmileLeft": 1.0}, {"mouthPucker": 1.0, "mouthClose": 0.3}],
)  # fmt: skip
def test_no_part_pokes_through_the_skin(rig, parts, pose):
    """Parts stay behind the skin (a tongue out past the teeth is meant to be seen: not tested here)."""
    tri = _skin(rig, pose)
    for name, part in parts.items():
        assert _in_front_of_skin(_posed(part, pose), tri) <= 0.0, name


def test_closed_parts_face_outward_and_cavities_inward(parts):
    for name in ("eye_left", "teeth_upper", "teeth_lower", "tongue"):
        v, f = parts[name].vertices.astype(np.float64), parts[name].faces
        t = v[f]
        volume = np.einsum("ij,ij->i", t[:, 0], np.cross(t[:, 1], t[:, 2])).sum() / 6
        assert volume > 0, name
    for name in ("mouth_cavity", "eye_socket_left"):
        p = parts[name]
        n = p.normals()
        # seen from the front (+Z) through the opening, the cup's inside faces the viewer
        assert float(n[:, 2].mean()) > 0.3, name
        assert all(s.double_sided for s in p.surfaces)


def test_lower_teeth_and_tongue_follow_the_jaw(rig, parts):
    """At every jaw weight the lower teeth move by the rig's own jaw motion, like the chin."""
    from facecraft.rigs.default_rig import SEMANTIC_VERTICES

    r, t = jaw_motions(rig)["jawOpen"]
    chin = rig.neutral[SEMANTIC_VERTICES["chin"]].numpy().astype(np.float64)
    chin_moved = chin + rig.deltas[rig.shape_index("jawOpen"), SEMANTIC_VERTICES["chin"]].numpy()
    assert np.allclose(chin @ r.T + t, chin_moved, atol=2e-4)
    lower, upper = parts["teeth_lower"], parts["teeth_upper"]
    assert not upper.targets  # fixed to the skull
    drop = _posed(lower, {"jawOpen": 1.0})[:, 1].max() - _posed(lower, {})[:, 1].max()
    assert drop < -0.02  # the incisal edge drops by more than 2 cm at a full jawOpen
    for w in (0.3, 1.0):  # linear morphs: the lower incisors stay with the chin
        ref = lower.vertices.astype(np.float64) @ r.T + t - lower.vertices
        assert np.allclose(_posed(lower, {"jawOpen": w}) - _posed(lower, {}), w * ref, atol=1e-6)
    assert set(parts["tongue"].targets) >= {"jawOpen", "tongueOut"}


def test_tongue_shows_past_the_teeth_from_the_threshold(parts):
    lower = _posed(parts["teeth_lower"], {})
    front = lower[:, 2].max()
    tip = lambda w: _posed(parts["tongue"], {"tongueOut": w})[:, 2].max()  # noqa: E731
    assert tip(0.0) < front and tip(0.9 * TONGUE_SHOWS_AT) < front
    assert tip(TONGUE_SHOWS_AT) == pytest.approx(front, abs=2e-4)
    assert tip(1.0) > front + 0.01


def test_eyes_sit_behind_the_lids_looking_ahead(rig, parts):
    from facecraft.rigs.default_rig import EYE_L_UPPER

    left = parts["eye_left"]
    lids = rig.neutral[list(EYE_L_UPPER)].numpy()
    assert lids[:, 0].min() < left.pivot[0] < lids[:, 0].max()  # left eye on the subject's left (+X)
    pupil = left.vertices[np.unique(left.surfaces[2].faces)]
    assert pupil[:, 2].min() > 0.9 * np.abs(left.vertices).max()  # the pupil is the +Z pole
    assert parts["eye_right"].pivot[0] == pytest.approx(-left.pivot[0])


def test_gaze_curves_and_eye_rotations_agree():
    curves = np.zeros((3, 52), np.float32)
    curves[0, ARKIT_INDEX["eyeLookOutLeft"]] = 1.0  # left eye toward the subject's left: +yaw
    curves[0, ARKIT_INDEX["eyeLookInRight"]] = 1.0  # right eye toward the subject's left: +yaw
    curves[1, ARKIT_INDEX["eyeLookDownLeft"]] = 0.5
    curves[1, ARKIT_INDEX["eyeLookDownRight"]] = 0.5
    curves[2, ARKIT_INDEX["eyeLookUpLeft"]] = 0.2
    rot = eye_rotation_from_curves(curves)
    assert rot[0].tolist() == pytest.approx([EYE_YAW_DEG, 0, 0, EYE_YAW_DEG, 0, 0])
    assert rot[1, [1, 4]].tolist() == pytest.approx([0.5 * EYE_PITCH_DEG] * 2)
    assert rot[2, 1] == pytest.approx(-0.2 * EYE_PITCH_DEG)
    back = with_gaze_curves(np.zeros((3, 52)), rot)
    assert np.allclose(back, curves, atol=1e-6)
    # beyond the range the weight saturates
    far = with_gaze_curves(np.zeros((1, 52)), np.array([[-2 * EYE_YAW_DEG, 0, 0, 0, 0, 0]]))
    assert far[0, ARKIT_INDEX["eyeLookInLeft"]] == 1.0 and far[0, ARKIT_INDEX["eyeLookOutLeft"]] == 0.0
