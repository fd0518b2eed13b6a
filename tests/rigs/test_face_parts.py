"""Eyes, teeth, tongue and mouth cavity of the default rig: placement, motion with the shapes, gaze mapping."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from facecraft.rigs import ARKIT_INDEX
from facecraft.rigs.animation import EYE_PITCH_DEG, EYE_YAW_DEG, eye_rotation_from_curves, with_gaze_curves
from facecraft.rigs.face_parts import (
    TEETH_COLOR,
    TEETH_MATERIALS,
    TEETH_SHADES,
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
     {"jawLeft": 1.0, "mouthSmileLeft": 1.0}, {"mouthPucker": 1.0, "mouthClose": 0.3},
     {"eyeWideLeft": 1.0, "eyeLookDownLeft": 1.0, "eyeLookInRight": 1.0}, {"eyeLookUpLeft": 1.0, "eyeSquintRight": 1.0},
     {"eyeBlinkLeft": 0.5, "eyeLookOutLeft": 1.0, "cheekSquintLeft": 1.0},
     {"jawOpen": 0.07, "mouthClose": 0.07, "mouthPressLeft": 0.34, "mouthPressRight": 0.34, "mouthRollLower": 0.1},
     {"jawOpen": 0.25, "mouthSmileLeft": 0.6, "mouthSmileRight": 0.6, "mouthUpperUpLeft": 0.5,
      "mouthUpperUpRight": 0.5}],
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
    lower = parts["teeth_lower"]
    teeth = np.unique(next(s for s in lower.surfaces if s.material == "teeth").faces)
    front = _posed(lower, {})[teeth, 2].max()
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


def _ray_hits(origins: np.ndarray, d: np.ndarray, tri: np.ndarray) -> np.ndarray:
    """Whether each ray ``origins + s d`` (s > 0) crosses any triangle ``(F, 3, 3)`` (Moller-Trumbore)."""
    e1, e2 = tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0]
    p = np.cross(d, e2)
    det = (e1 * p).sum(1)
    ok = np.abs(det) > 1e-14
    e1, e2, p, det, a = e1[ok], e2[ok], p[ok], det[ok], tri[ok, 0]
    hits = np.zeros(len(origins), bool)
    for i, o in enumerate(origins):
        t = o - a
        u = (t * p).sum(1) / det
        q = np.cross(t, e1)
        w = (q @ d) / det
        s = (q * e2).sum(1) / det
        hits[i] = bool(((u >= 0) & (w >= 0) & (u + w <= 1) & (s > 0)).any())
    return hits


@pytest.mark.parametrize("pose", [{}, {"eyeWideLeft": 1.0, "eyeLookDownLeft": 1.0}, {"eyeLookUpLeft": 1.0},
                                  {"eyeLookOutLeft": 1.0, "eyeSquintLeft": 0.6}])  # fmt: skip
@pytest.mark.parametrize("azimuth", [0.0, 35.0, -35.0])
def test_eye_opening_shows_eye_at_every_corner(rig, parts, pose, azimuth):
    """Every line of sight through the left lid opening (front and three-quarter views from either side, lids
    in several poses) meets the eyeball or the pink lining between lids and eyeball: no hole into the socket."""
    from facecraft.rigs.default_rig import EYE_L_LOWER, EYE_L_UPPER

    w = torch.zeros(rig.num_shapes)
    for n, x in pose.items():
        w[rig.shape_index(n)] = x
    v = (rig.neutral + (w[:, None, None] * rig.deltas).sum(0)).numpy().astype(np.float64)
    rows = list(EYE_L_UPPER) + list(EYE_L_LOWER)
    f = rig.faces.numpy()
    opening = v[f[np.isin(f, rows).all(1)]]  # the triangles spanning the lid opening
    rng = np.random.default_rng(0)
    ab = rng.random((40, 2))
    ab[ab.sum(1) > 1] = 1 - ab[ab.sum(1) > 1]
    points = (opening[:, None, 0] + ab[None, :, :1] * (opening[:, None, 1] - opening[:, None, 0])
              + ab[None, :, 1:] * (opening[:, None, 2] - opening[:, None, 0])).reshape(-1, 3)  # fmt: skip
    a = np.radians(azimuth)
    d = -np.array([np.sin(a), np.sin(np.radians(5.0)), np.cos(a)])
    d /= np.linalg.norm(d)
    eye, lining = parts["eye_left"], parts["eye_socket_left"]
    # the eyeball: a sphere about its pivot (turning it changes nothing the rays see but the iris)
    oc = points - eye.pivot
    b = oc @ d
    radius = np.linalg.norm(eye.vertices, axis=1).max()
    on_eye = b * b - ((oc * oc).sum(1) - radius**2) >= 0
    sleeve = next(s for s in lining.surfaces if s.material == "conjunctiva")
    lv = _posed(lining, pose)
    on_lining = _ray_hits(points[~on_eye], d, lv[sleeve.faces])
    assert on_lining.all(), f"{(~on_lining).sum()} of {len(points)} rays see into the socket"


def test_lining_follows_the_lids(rig, parts):
    """The lining's front edge moves with the lid margin in every lid shape (it has the rig's lid shapes)."""
    from facecraft.rigs.default_rig import EYE_L_UPPER

    lining = parts["eye_socket_left"]
    assert {"eyeBlinkLeft", "eyeWideLeft", "eyeLookUpLeft", "eyeSquintLeft"} <= set(lining.targets)
    assert "eyeBlinkRight" not in lining.targets
    top = EYE_L_UPPER[4]  # the upper lid's middle: the lining's front ring starts with the upper lid
    k = rig.shape_index("eyeWideLeft")
    lid_move = rig.deltas[k, top].numpy()
    assert np.linalg.norm(lid_move) > 1e-3
    assert np.allclose(lining.targets["eyeWideLeft"][4], lid_move, atol=2e-4)


TEETH_SURFACES = tuple(dict.fromkeys(TEETH_MATERIALS))  # "teeth", "canines", "back_teeth_1", ... front to back


def _surface_vertices(part, *materials) -> np.ndarray:
    ids = np.unique(np.concatenate([s.faces.ravel() for s in part.surfaces if s.material in materials]))
    return part.vertices[ids].astype(np.float64)


@pytest.mark.parametrize("name", ["teeth_lower", "teeth_upper"])
def test_teeth_read_as_teeth(parts, name):
    """Thin biting edges on thick bases, a bulging crown per tooth, shorter crowns toward the back, gums."""
    part = parts[name]
    assert [s.material for s in part.surfaces] == ["teeth", "canines", "back_teeth_1", "back_teeth_2", "back_teeth_3",
                                                   "gums"]  # fmt: skip
    gum_rgb = next(s.color for s in part.surfaces if s.material == "gums")
    assert gum_rgb[0] > gum_rgb[1] + 0.2  # pink
    teeth = _surface_vertices(part, *TEETH_SURFACES)
    root_dir = 1.0 if name == "teeth_upper" else -1.0
    edge = teeth[:, 1].min() if root_dir > 0 else teeth[:, 1].max()
    h = root_dir * (teeth[:, 1] - edge)  # height from the biting edge toward the roots
    mid = np.abs(teeth[:, 0]) < 0.003  # the central incisors
    depth = lambda sel: np.ptp(teeth[sel, 2])  # noqa: E731 - front-to-back thickness
    assert depth(mid & (h < 0.0015)) < 0.0025  # a thin incisal edge ...
    assert depth(mid & (h > 0.007)) > 0.0045  # ... on a thick base
    # crowns: tall at the front, shorter at the back
    back = np.abs(teeth[:, 0]) > 0.02
    assert np.ptp(h[back]) < np.ptp(h[mid]) - 0.001
    # one bulge per tooth across the front: the crowns' front, less the arch's curve, has a bump per tooth
    front = teeth[(np.abs(teeth[:, 0]) < 0.016) & (h > 0.003) & (h < 0.006)]
    bins = np.round(front[:, 0] / 0.0005).astype(int)
    xs = np.unique(bins)
    z = np.array([front[bins == b, 2].max() for b in xs])
    x = xs * 0.0005
    z = z - np.polyval(np.polyfit(x, z, 2), x)
    bumps = np.sum((z[1:-1] > z[:-2]) & (z[1:-1] >= z[2:]))
    assert bumps >= 4, bumps
    # the gums cover the roots, clear of the biting edges
    gums = _surface_vertices(part, "gums")
    assert (root_dir * (gums[:, 1] - edge) > 0.003).all()


@pytest.mark.parametrize("name", ["teeth_lower", "teeth_upper"])
def test_row_of_teeth_has_no_walls_across_it(parts, name):
    """Seen along the row (the far side of a three-quarter view into an open mouth), the crowns from the lateral
    incisor to the second premolar show rounded teeth, not walls facing along the arch: steps between teeth of
    different sizes and deep notches across the broad chewing surfaces read as a fan of stacked slabs."""
    from facecraft.rigs.face_parts import ARCH_DEPTH, ARCH_HALF_WIDTH

    part = parts[name]
    v = part.vertices.astype(np.float64)
    tri = v[np.concatenate([s.faces for s in part.surfaces if s.material in TEETH_SURFACES])]
    n = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
    area = np.linalg.norm(n, axis=1) / 2
    c = tri.mean(1)
    tangent = np.stack([np.ones(len(c)), np.zeros(len(c)), -2 * ARCH_DEPTH * c[:, 0] / ARCH_HALF_WIDTH**2], 1)
    along = np.abs((n * tangent).sum(1)) / np.maximum(2 * area * np.linalg.norm(tangent, axis=1), 1e-20)
    row = (np.abs(c[:, 0]) > 0.006) & (np.abs(c[:, 0]) < 0.018)  # past the central incisors, before the molar
    walls = area[row & (along > 0.7)].sum() / area[row].sum()
    assert walls < 0.02, walls


@pytest.mark.parametrize("name", ["teeth_lower", "teeth_upper"])
def test_back_teeth_sit_in_the_mouths_shadow(parts, name):
    """Renderers without ambient occlusion (three.js, Eevee) lit the premolars and molar as brightly as the incisors:
    pale wedges in the lip corners of an open mouth. From the canine back each tooth is darker than the one in front
    of it and lies deeper; the first premolar gets at most 0.4 of the incisors' light (linear), the molar at most
    0.15; the incisors keep the teeth's colour."""
    from facecraft.rigs.surfaces import linear_rgb

    part = parts[name]
    color = {s.material: s.color for s in part.surfaces}
    assert color["teeth"] == pytest.approx(TEETH_COLOR, abs=1e-4)
    light = [float(np.mean(linear_rgb(color[m]))) / float(np.mean(linear_rgb(TEETH_COLOR))) for m in TEETH_SURFACES]
    assert light == sorted(light, reverse=True) and len(set(light)) == len(light), light
    assert light[TEETH_SURFACES.index("back_teeth_1")] <= 0.4 and light[-1] <= 0.15, light
    depth = [-_surface_vertices(part, m)[:, 2].mean() for m in TEETH_SURFACES]
    assert depth == sorted(depth), depth


@pytest.mark.parametrize("name", ["teeth_lower", "teeth_upper"])
def test_teeth_light_falls_off_smoothly_along_the_arch(parts, name):
    """The back teeth's baked shadow began with a step: a canine as bright as the incisors next to a first premolar at
    0.22 of their light read as a change of colour (grey back teeth), not as the mouth's shadow. No tooth gets more
    than twice the light of the one behind it, and teeth that share a material share a shade."""
    from facecraft.rigs.surfaces import linear_rgb

    part = parts[name]
    light = [float(np.mean(linear_rgb(s.color))) for s in part.surfaces if s.material in TEETH_SURFACES]
    steps = np.array(light[:-1]) / np.array(light[1:])
    assert steps.max() <= 2.0, steps
    shades = {}
    for material, shade in zip(TEETH_MATERIALS, TEETH_SHADES, strict=True):
        assert shades.setdefault(material, shade) == shade, material
