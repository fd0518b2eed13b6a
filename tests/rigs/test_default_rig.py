"""Acceptance checks of the procedurally authored default rig."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy.spatial import cKDTree

from facecraft.rigs import ARKIT_NAMES, SEMANTIC_POINTS, BlendshapeRig, mirror_name
from facecraft.rigs import default_rig as dr


@pytest.fixture(scope="module")
def rig() -> BlendshapeRig:
    return dr.default_rig()


def _delta(rig, name) -> np.ndarray:
    return rig.deltas[rig.shape_index(name)].numpy().astype(np.float64)


def _points(rig, weights: dict) -> dict[str, np.ndarray]:
    p = rig(rig.weights_from_dict(weights)).points.numpy()
    return dict(zip(rig.point_names, p, strict=True))


def test_sizes_names_and_points(rig):
    assert rig.num_vertices == 468 and rig.faces.shape == (898, 3) and rig.num_shapes == 52
    assert rig.shape_names == list(ARKIT_NAMES)
    assert rig.uvs is not None and rig.uvs.shape == (468, 2)
    assert rig.point_names == list(SEMANTIC_POINTS)
    p = _points(rig, {})
    for name in SEMANTIC_POINTS:
        if name.endswith("_l"):
            other = p[name[:-2] + "_r"]
            assert p[name][0] > 0.005, f"{name} is on the subject's left (+X)"
            np.testing.assert_allclose(p[name] * [-1, 1, 1], other, atol=1e-5)
    assert p["upper_lip_center"][1] > p["upper_lip_inner"][1] > p["lower_lip_inner"][1] > p["lower_lip_center"][1]
    assert p["upper_lid_l"][1] > p["lower_lid_l"][1] and p["brow_mid_l"][1] > p["upper_lid_l"][1]
    assert p["nose_tip"][2] == max(v[2] for v in p.values())


def test_every_shape_moves_a_plausible_amount(rig):
    width = rig.face_size()[0]
    for name in ARKIT_NAMES:
        m = np.linalg.norm(_delta(rig, name), axis=1).max()
        assert 0.001 * width < m < 0.3 * width, f"{name}: max displacement {m:.4f} m"
    assert torch.isfinite(rig.deltas).all()


def test_mirrored_pairs_agree(rig):
    v = rig.neutral.numpy().astype(np.float64)
    width = rig.face_size()[0]
    dist, mirror = cKDTree(v).query(v * [-1, 1, 1])
    assert dist.max() < 1e-4 * width, "the canonical mesh is symmetric"
    for name in ARKIT_NAMES:
        other = mirror_name(name)
        mirrored = _delta(rig, name)[mirror] * [-1, 1, 1]
        err = np.abs(mirrored - _delta(rig, other)).max()
        assert err < 1e-3 * width, f"{name} mirrored vs {other}: {err / width:.2e} of face width"


def test_jaw_open_lowers_the_chin_by_15_percent(rig):
    height = rig.face_size()[1]
    p0, p1 = _points(rig, {}), _points(rig, {"jawOpen": 1.0})
    drop = p0["chin"][1] - p1["chin"][1]
    assert drop >= 0.15 * height, f"chin drop {drop / height:.1%} of face height"
    # A rotation, not a translation: the chin moves back as well as down, more than the lower lip does.
    assert p1["chin"][2] < p0["chin"][2]
    lip_motion = np.linalg.norm(p1["lower_lip_inner"] - p0["lower_lip_inner"])
    assert lip_motion < np.linalg.norm(p1["chin"] - p0["chin"])
    # Upper face and upper lip stay put; the cheeks at nose-tip level move only a little.
    d = np.linalg.norm(_delta(rig, "jawOpen"), axis=1)
    v = rig.neutral.numpy()
    assert d[v[:, 1] > v[374, 1]].max() < 1e-6
    assert d[v[:, 1] > v[1, 1]].max() < 0.1 * drop
    assert np.linalg.norm(p1["upper_lip_inner"] - p0["upper_lip_inner"]) < 1e-4


def test_mouth_close_closes_the_open_jaw(rig):
    gap = lambda p: np.linalg.norm(p["upper_lip_inner"] - p["lower_lip_inner"])  # noqa: E731
    open_gap = gap(_points(rig, {"jawOpen": 1.0}))
    closed_gap = gap(_points(rig, {"jawOpen": 1.0, "mouthClose": 1.0}))
    assert closed_gap < 0.15 * open_gap


@pytest.mark.parametrize("side,other", [("Left", "r"), ("Right", "l")])
def test_blink_closes_its_own_lids_only(rig, side, other):
    s = side[0].lower()
    p0, p1 = _points(rig, {}), _points(rig, {f"eyeBlink{side}": 1.0})
    gap0 = np.linalg.norm(p0[f"upper_lid_{s}"] - p0[f"lower_lid_{s}"])
    gap1 = np.linalg.norm(p1[f"upper_lid_{s}"] - p1[f"lower_lid_{s}"])
    assert gap1 < 0.1 * gap0
    # The whole upper lid row reaches the lower lid line, not only the middle point.
    upper, lower = (dr.EYE_L_UPPER, dr.EYE_L_LOWER) if s == "l" else (dr.EYE_R_UPPER, dr.EYE_R_LOWER)
    v1 = rig(rig.weights_from_dict({f"eyeBlink{side}": 1.0})).vertices.numpy()
    v0 = rig.neutral.numpy()
    for u in upper[2:-2]:
        before = np.min(np.linalg.norm(v0[list(lower)] - v0[u], axis=1))
        after = np.min(np.linalg.norm(v1[list(lower)] - v1[u], axis=1))
        assert after < 0.25 * before
    # The other eye's region does not move at all.
    centre = v0[list(dr.EYE_R_UPPER if s == "l" else dr.EYE_L_UPPER)].mean(0)
    near_other = np.linalg.norm(v0 - centre, axis=1) < 0.03
    assert np.abs(v1[near_other] - v0[near_other]).max() < 1e-6
    assert np.allclose(p1[f"upper_lid_{other}"], p0[f"upper_lid_{other}"])


@pytest.mark.parametrize("side", ["Left", "Right"])
def test_smile_raises_its_own_corner(rig, side):
    s, o = ("l", "r") if side == "Left" else ("r", "l")
    p0, p1 = _points(rig, {}), _points(rig, {f"mouthSmile{side}": 1.0})
    own = p1[f"mouth_corner_{s}"] - p0[f"mouth_corner_{s}"]
    other = p1[f"mouth_corner_{o}"] - p0[f"mouth_corner_{o}"]
    assert own[1] > 0.02 * rig.face_size()[1], "corner rises"
    assert np.sign(own[0]) == (1 if s == "l" else -1), "corner moves outward"
    assert abs(other[1]) < 0.15 * own[1] and np.linalg.norm(other) < 0.15 * np.linalg.norm(own)


def test_direction_semantics(rig):
    p0 = _points(rig, {})

    def move(name, point):
        return _points(rig, {name: 1.0})[point] - p0[point]

    assert move("jawLeft", "chin")[0] > 0 and move("jawRight", "chin")[0] < 0
    assert move("mouthLeft", "upper_lip_center")[0] > 0 and move("mouthRight", "upper_lip_center")[0] < 0
    assert move("jawForward", "chin")[2] > 0
    assert move("browInnerUp", "brow_inner_l")[1] > 0 and move("browDownLeft", "brow_mid_l")[1] < 0
    assert move("browOuterUpLeft", "brow_outer_l")[1] > 0
    assert move("mouthFrownLeft", "mouth_corner_l")[1] < 0
    assert move("mouthUpperUpLeft", "upper_lip_center")[1] > 0
    assert move("mouthLowerDownLeft", "lower_lip_center")[1] < 0
    assert move("mouthPucker", "upper_lip_center")[2] > 0 and move("mouthPucker", "mouth_corner_l")[0] < 0
    assert move("cheekPuff", "cheek_l")[0] > 0 and move("cheekSquintLeft", "cheek_l")[1] > 0
    assert move("noseSneerLeft", "nostril_l")[1] > 0
    assert move("eyeWideLeft", "upper_lid_l")[1] > 0 and move("eyeSquintLeft", "lower_lid_l")[1] > 0
    assert move("eyeLookInLeft", "upper_lid_l")[0] < 0 and move("eyeLookOutLeft", "upper_lid_l")[0] > 0


def test_landmark_sets_match_mediapipe_connections():
    from mediapipe.tasks.python.vision.face_landmarker import FaceLandmarksConnections as C

    def edges(conns):
        return {frozenset((c.start, c.end)) for c in conns}

    def chain(row):
        return {frozenset(p) for p in zip(row[:-1], row[1:], strict=True)}

    lips = chain(dr.LIPS_UPPER_OUTER) | chain(dr.LIPS_LOWER_OUTER) | chain(dr.LIPS_UPPER_INNER)
    assert lips | chain(dr.LIPS_LOWER_INNER) == edges(C.FACE_LANDMARKS_LIPS)
    assert chain(dr.EYE_L_UPPER) | chain(dr.EYE_L_LOWER) == edges(C.FACE_LANDMARKS_LEFT_EYE)
    assert chain(dr.EYE_R_UPPER) | chain(dr.EYE_R_LOWER) == edges(C.FACE_LANDMARKS_RIGHT_EYE)
    assert chain(dr.BROW_L_UPPER) | chain(dr.BROW_L_LOWER) <= edges(C.FACE_LANDMARKS_LEFT_EYEBROW) | {
        frozenset((300, 276))
    }
    assert chain(dr.FACE_OVAL + dr.FACE_OVAL[:1]) == edges(C.FACE_LANDMARKS_FACE_OVAL)


def test_save_load_round_trip(rig, tmp_path):
    path = rig.save(tmp_path / "default.safetensors")
    back = BlendshapeRig.load(path)
    assert back.shape_names == rig.shape_names and back.point_names == rig.point_names
    for k, t in rig.state_dict().items():
        torch.testing.assert_close(back.state_dict()[k], t)


def test_cached_and_fresh_builds_agree(rig):
    assert dr.default_rig() is rig
    fresh = dr.build_default_rig()
    assert fresh is not rig
    torch.testing.assert_close(fresh.deltas, rig.deltas)


def test_opening_faces_fill_mouth_and_eyes():
    faces = dr.canonical_mesh().faces[dr.opening_faces()]
    mouth = set(dr.LIPS_UPPER_INNER) | set(dr.LIPS_LOWER_INNER)
    assert 10 <= len(faces) <= 60
    assert any(set(f) <= mouth for f in faces.tolist())
    w = dr.region_weights()
    assert w["jaw"][152] == 1.0 and w["jaw"][1] == 0.0 and 0.2 < w["jaw"][291] < 0.8
