"""Retargeting between blendshape rigs and onto FLAME, on small rigs built in code."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy.optimize import lsq_linear

from facecraft.rigs import ARKIT_NAMES, SEMANTIC_POINTS, BlendshapeRig, ParameterError
from facecraft.rigs.flame import FlameRig
from facecraft.rigs.retarget import (
    Retargeter,
    box_qp_admm,
    face_scale,
    fit_flame_to_points,
    polish_active_set,
    retarget_curves,
    retarget_to_flame,
    shape_fidelity,
    smooth_box_qp,
)

from .flame_fixture import build_flame_model

# Semantic points on a face spanning [-1, 1]^2 (normalised units, subject's left at +X).
POINT_XY = {
    "mouth_corner_l": (0.35, -0.5), "mouth_corner_r": (-0.35, -0.5), "upper_lip_center": (0, -0.42),
    "lower_lip_center": (0, -0.6), "upper_lip_inner": (0, -0.47), "lower_lip_inner": (0, -0.53),
    "upper_lid_l": (0.4, 0.33), "lower_lid_l": (0.4, 0.22), "upper_lid_r": (-0.4, 0.33), "lower_lid_r": (-0.4, 0.22),
    "brow_inner_l": (0.15, 0.5), "brow_mid_l": (0.4, 0.56), "brow_outer_l": (0.65, 0.5),
    "brow_inner_r": (-0.15, 0.5), "brow_mid_r": (-0.4, 0.56), "brow_outer_r": (-0.65, 0.5),
    "chin": (0, -0.85), "nose_tip": (0, 0.0), "nostril_l": (0.12, -0.12), "nostril_r": (-0.12, -0.12),
    "cheek_l": (0.6, -0.15), "cheek_r": (-0.6, -0.15),
}  # fmt: skip
# Each shape: bumps (centre xy, radius, displacement xyz), in normalised units.
SHAPES = {
    "jawOpen": [((0, -0.75), 0.45, (0, -0.25, -0.05))],
    "mouthSmileLeft": [((0.35, -0.5), 0.2, (0.08, 0.12, -0.02))],
    "mouthSmileRight": [((-0.35, -0.5), 0.2, (-0.08, 0.12, -0.02))],
    "mouthPucker": [
        ((0, -0.5), 0.3, (0, 0, 0.12)), ((0.35, -0.5), 0.12, (-0.1, 0, 0)), ((-0.35, -0.5), 0.12, (0.1, 0, 0)),
    ],
    "eyeBlinkLeft": [((0.4, 0.35), 0.1, (0, -0.1, 0.01))],
    "eyeBlinkRight": [((-0.4, 0.35), 0.1, (0, -0.1, 0.01))],
    "browInnerUp": [((0.15, 0.5), 0.15, (0, 0.1, 0)), ((-0.15, 0.5), 0.15, (0, 0.1, 0))],
    "browDownLeft": [((0.4, 0.53), 0.25, (-0.03, -0.08, 0))],
    "cheekPuff": [((0.6, -0.15), 0.25, (0.08, 0, 0.03)), ((-0.6, -0.15), 0.25, (-0.08, 0, 0.03))],
    "noseSneerLeft": [((0.12, -0.1), 0.12, (0.02, 0.06, 0))],
    "eyeLookUpLeft": [((0.9, 0.9), 0.03, (0, 0, 0.05))],  # moves no semantic point: unobserved
}  # fmt: skip


def make_face_rig(
    *, n: int = 25, scale: float = 1.0, offset=(0.0, 0.0, 0.0), shapes=None, name="face"
) -> BlendshapeRig:
    """A bulged grid face of half-width ``scale`` metres with the SHAPES above and all semantic points."""
    shapes = list(SHAPES) if shapes is None else list(shapes)
    g = np.linspace(-1, 1, n)
    xx, yy = np.meshgrid(g, g)
    xy = np.stack([xx.ravel(), yy.ravel()], 1)
    z = 0.3 * (1 - 0.5 * (xy**2).sum(1))
    neutral = np.concatenate([xy, z[:, None]], 1)
    faces = []
    for i in range(n - 1):
        for j in range(n - 1):
            a = i * n + j
            faces += [[a, a + 1, a + n + 1], [a, a + n + 1, a + n]]
    faces = np.array(faces)
    deltas = np.zeros((len(shapes), len(xy), 3))
    for k, s in enumerate(shapes):
        for centre, radius, disp in SHAPES[s]:
            w = np.exp(-((xy - centre) ** 2).sum(1) / (2 * radius**2))
            deltas[k] += w[:, None] * np.asarray(disp)
    # points: the grid triangle holding each location, with exact barycentric coordinates
    h = 2 / (n - 1)
    pf, pb = [], []
    for name_ in SEMANTIC_POINTS:
        px, py = POINT_XY[name_]
        j, i = min(int((px + 1) / h), n - 2), min(int((py + 1) / h), n - 2)
        u, v = (px + 1) / h - j, (py + 1) / h - i
        a = i * n + j
        if u >= v:  # triangle (a, a+1, a+n+1)
            pf.append(2 * ((i * (n - 1)) + j))
            pb.append([1 - u, u - v, v])
        else:  # triangle (a, a+n+1, a+n)
            pf.append(2 * ((i * (n - 1)) + j) + 1)
            pb.append([1 - v, u, v - u])
    return BlendshapeRig(
        neutral * scale + np.asarray(offset), deltas * scale, shapes, faces,
        point_names=list(SEMANTIC_POINTS), point_faces=pf, point_bary=pb, name=name,
    )  # fmt: skip


def sparse_curves(rig: BlendshapeRig, t: int, *, seed: int = 0, density: float = 0.3) -> np.ndarray:
    """Random ARKit curves (T, 52) using only the rig's observed shapes, mostly zeros."""
    rng = np.random.default_rng(seed)
    curves = np.zeros((t, 52), dtype=np.float32)
    for name in rig.shape_names:
        if name == "eyeLookUpLeft":
            continue
        k = ARKIT_NAMES.index(name)
        curves[:, k] = np.where(rng.random(t) < density, rng.random(t), 0.0)
    return curves


def _weights_to_arkit(rig, w):
    return w @ rig.arkit_matrix().numpy().T


def test_points_of_the_test_rig_are_where_asked():
    rig = make_face_rig(n=9)
    pts = rig.neutral_points().numpy()
    np.testing.assert_allclose(pts[:, :2], [POINT_XY[n] for n in SEMANTIC_POINTS], atol=1e-6)


def test_identity_retargeting_recovers_sparse_weights():
    rig = make_face_rig()
    curves = sparse_curves(rig, 300)
    rt = Retargeter(rig, rig, ridge=1e-8)
    w = rt(curves)
    assert w.shape == (300, rig.num_shapes) and w.dtype == np.float32
    np.testing.assert_allclose(_weights_to_arkit(rig, w), curves, atol=1e-4)
    assert rt.last_report.relative_residual < 1e-5
    # the default ridge shrinks only a little
    np.testing.assert_allclose(_weights_to_arkit(rig, Retargeter(rig, rig)(curves)), curves, atol=0.02)


def test_retargeting_between_rigs_of_different_scale_and_resolution():
    src = make_face_rig(n=41, scale=0.08, name="small")
    shapes = ["cheekPuff", "eyeLookUpLeft", "jawOpen", "mouthSmileRight", "mouthSmileLeft", "mouthPucker",
              "eyeBlinkRight", "eyeBlinkLeft", "browInnerUp", "browDownLeft", "noseSneerLeft"]  # fmt: skip
    tgt = make_face_rig(n=50, scale=0.21, offset=(0.3, 1.5, -0.2), shapes=shapes, name="big")
    curves = sparse_curves(src, 200, seed=1)
    curves[:, ARKIT_NAMES.index("eyeLookUpLeft")] = np.linspace(0, 1, 200)
    w = retarget_curves(curves, src, tgt)
    assert w.shape == (200, len(shapes))  # the target's own order
    np.testing.assert_allclose(_weights_to_arkit(tgt, w), curves, atol=0.03)
    # eyeLookUpLeft moves no semantic point: it is copied from the source by name
    np.testing.assert_allclose(w[:, shapes.index("eyeLookUpLeft")], np.linspace(0, 1, 200), atol=1e-6)
    # shapes named in copy_shapes are copied even when the points see them; without copying, unseen ones are 0
    kept = Retargeter(src, tgt, copy_shapes=("browInnerUp",), copy_unobserved=False)(curves)
    np.testing.assert_array_equal(kept[:, shapes.index("browInnerUp")], curves[:, ARKIT_NAMES.index("browInnerUp")])
    assert np.all(kept[:, shapes.index("eyeLookUpLeft")] == 0)
    # without scale normalisation the 2.6x larger target needs much smaller weights: badly wrong
    raw = Retargeter(src, tgt, scaling="none")(curves)
    assert np.abs(_weights_to_arkit(tgt, raw) - curves).max() > 0.3


def test_weights_stay_in_bounds_when_the_source_moves_more():
    src = make_face_rig(scale=2.0)
    tgt = make_face_rig(scale=1.0)
    rt = Retargeter(src, tgt, scaling="none")  # the source's shapes move twice as far
    w = rt(source_weights=np.eye(src.num_shapes) * 0.75)
    assert w.min() >= 0.0 and w.max() <= 1.0
    k = tgt.shape_names.index("jawOpen")
    assert w[k, k] == pytest.approx(1.0, abs=1e-6)  # wants 1.5, bounded at 1


def test_solvers_match_scipy_bounded_least_squares():
    rng = np.random.default_rng(4)
    a = rng.normal(size=(30, 12)) @ np.diag(np.geomspace(1, 1e-3, 12))  # ill-conditioned, like real rigs
    gram = a.T @ a + 1e-6 * np.eye(12)
    b = rng.normal(size=(40, 30)) * 0.5
    c = b @ a
    evals, evecs = np.linalg.eigh(gram)
    x, ok = polish_active_set(gram, c, box_qp_admm(evals, evecs, c, iterations=30))
    a_aug = np.vstack([a, 1e-3 * np.eye(12)])
    ref = np.stack([lsq_linear(a_aug, np.r_[bi, np.zeros(12)], bounds=(0, 1), method="bvls", tol=1e-14).x for bi in b])
    assert ok.all()
    assert ((ref > 1e-6) & (ref < 1 - 1e-6)).any() and (ref < 1e-9).any()  # a real mix of free and bound
    np.testing.assert_allclose(x, ref, atol=1e-6)
    # temporal smoothing on a short sequence: one dense bounded problem solved by scipy
    t, k, mu = 6, 12, 0.3
    xs, ok = smooth_box_qp(gram, c[:t], x[:t], smooth=mu)
    diff = np.kron(np.diff(np.eye(t), axis=0), np.eye(k))
    big = np.vstack([np.kron(np.eye(t), a_aug), np.sqrt(mu) * diff])
    rhs = np.concatenate([np.concatenate([b[:t], np.zeros((t, k))], 1).ravel(), np.zeros((t - 1) * k)])
    ref_s = lsq_linear(big, rhs, bounds=(0, 1), method="bvls", tol=1e-14).x.reshape(t, k)
    assert ok
    np.testing.assert_allclose(xs, ref_s, atol=1e-6)
    assert np.abs(ref_s - ref[:t]).max() > 0.05  # smoothing really changed the answer


def test_temporal_smoothing_reduces_jitter():
    rig = make_face_rig()
    curves = sparse_curves(rig, 120, seed=3, density=0.5)
    plain = Retargeter(rig, rig)(curves)
    smooth = Retargeter(rig, rig, smooth=0.5)(curves)
    assert smooth.min() >= 0 and smooth.max() <= 1
    assert np.abs(np.diff(smooth, axis=0)).mean() < 0.6 * np.abs(np.diff(plain, axis=0)).mean()


def test_shape_fidelity_of_a_rig_onto_itself():
    rig = make_face_rig()
    fid = shape_fidelity(Retargeter(rig, rig, ridge=1e-8))
    assert "eyeLookUpLeft" not in fid  # moves no point: nothing to judge
    for name, f in fid.items():
        assert f["same_shape_weight"] == pytest.approx(1.0, abs=1e-4), name
        assert f["motion_cosine"] == pytest.approx(1.0, abs=1e-6)


def test_face_scale_and_bad_input(tiny_rig):
    pts = np.array([[0, 0, 0], [2, 0, 0], [0, 2, 0], [2, 2, 0.0]])
    np.testing.assert_allclose(face_scale(pts), np.full(3, np.sqrt(2)))
    with pytest.raises(ParameterError, match="flat along an axis"):
        face_scale(pts, scaling="axis")
    with pytest.raises(ParameterError, match="scaling must be one of"):
        face_scale(pts, scaling="huge")
    rig = make_face_rig(n=9)
    with pytest.raises(ParameterError, match=">= 3 semantic points"):
        Retargeter(rig, tiny_rig)
    with pytest.raises(ParameterError, match="nose_bridge"):
        Retargeter(rig, rig, points=["chin", "nose_bridge", "cheek_l"])
    rt = Retargeter(rig, rig)
    with pytest.raises(ParameterError, match=r"expected shape \(T, 52\)"):
        rt(np.zeros((4, 51)))
    with pytest.raises(ParameterError, match="exactly one"):
        rt(np.zeros((4, 52)), source_weights=np.zeros((4, rig.num_shapes)))
    with pytest.raises(ParameterError, match="ridge"):
        Retargeter(rig, rig, ridge=-1.0)
    with pytest.raises(ParameterError, match="point_weights"):
        Retargeter(rig, rig, point_weights={"elbow": 2.0})


# ------------------------------------------------------------------------------------------- FLAME
@pytest.fixture(scope="module")
def flame_model():
    return build_flame_model(n_shape=10, n_expression=10, seed=5)


def test_fit_flame_recovers_a_known_expression_and_jaw(flame_model):
    rig = FlameRig(flame_model, dtype=torch.float64)
    rng = np.random.default_rng(0)
    expr = rng.normal(0, 1.0, (6, 10))
    jaw = np.c_[rng.uniform(0.0, 0.3, 6), rng.normal(0, 0.03, (6, 2))]
    with torch.no_grad():
        target = rig(expression=expr, jaw_pose=jaw).points.numpy()
    e_fit, j_fit = fit_flame_to_points(target, rig, ridge=1e-9, jaw_ridge=1e-9)
    assert e_fit.shape == (6, 10) and j_fit.shape == (6, 3)
    np.testing.assert_allclose(j_fit, jaw, atol=2e-3)
    np.testing.assert_allclose(e_fit, expr, atol=2e-2)
    with torch.no_grad():
        again = rig(expression=e_fit, jaw_pose=j_fit).points.numpy()
    assert np.abs(again - target).max() < 1e-5  # metres
    with pytest.raises(ParameterError, match=r"points must be finite \(T, 20, 3\)"):
        fit_flame_to_points(target[:, :5], rig)


def test_retarget_blendshape_rig_to_flame(flame_model):
    """A blendshape rig made from the FLAME model itself (2x larger): curves must map back to FLAME's
    expression coefficients and jaw rotation."""
    verts = flame_model["v_template"]
    front = np.flatnonzero(verts[:, 2] > 0.05)
    ids = front[:: max(1, len(front) // 30)]
    sem = {f"p{i}": int(v) for i, v in enumerate(ids)}
    flame = FlameRig(flame_model, semantic_vertices=sem, landmark_scheme=None, dtype=torch.float64)
    names = list(ARKIT_NAMES[:10])  # the 10 expression components, named as ARKit shapes
    jaw_angle = 0.25
    with torch.no_grad():
        eye = torch.eye(10, dtype=torch.float64)
        expr_deltas = (flame(expression=eye).vertices - flame.v_template).numpy()
        jaw_delta = (flame(jaw_pose=[[jaw_angle, 0, 0]]).vertices - flame.v_template).numpy()
    deltas = np.concatenate([expr_deltas, jaw_delta]) * 2.0
    faces = flame_model["f"].astype(np.int64)
    pf = [int(np.argwhere(faces == v)[0, 0]) for v in ids]
    pb = [np.eye(3)[int(np.argwhere(faces[f] == v)[0, 0])] for f, v in zip(pf, ids, strict=True)]
    src = BlendshapeRig(verts * 2.0, deltas, names + ["jawOpen"], faces, point_names=list(sem), point_faces=pf,
                        point_bary=pb, name="flame-as-blendshapes")  # fmt: skip
    rng = np.random.default_rng(2)
    curves = np.zeros((5, 52), dtype=np.float32)
    curves[:, :10] = rng.uniform(0, 1, (5, 10))
    curves[3:, :10] = 0.0
    curves[3:, ARKIT_NAMES.index("jawOpen")] = [1.0, 0.0]
    expr, jaw = retarget_to_flame(curves, src, flame, ridge=1e-9)
    np.testing.assert_allclose(expr[:3], curves[:3, :10], atol=2e-2)
    np.testing.assert_allclose(jaw[:3], 0.0, atol=2e-3)
    np.testing.assert_allclose(jaw[3], [jaw_angle, 0, 0], atol=2e-3)
    np.testing.assert_allclose(expr[3:], 0.0, atol=2e-2)
    np.testing.assert_allclose(jaw[4], 0.0, atol=1e-6)


# ------------------------------------------------------------------------------------------- real rigs
def test_default_rig_to_ict_fidelity(shared_dir):
    from facecraft.rigs import default_rig as default
    from facecraft.rigs import ict

    folder = shared_dir / "assets" / "ict-facekit" / "FaceXModel"
    if not folder.is_dir():
        pytest.skip(f"ICT FaceKit not at {folder}")
    src, tgt = default.default_rig(), ict.load_ict_rig(folder)
    rt = Retargeter(src, tgt)
    fid = shape_fidelity(rt)
    same = np.array([f["same_shape_weight"] for n, f in fid.items() if n in tgt.shape_names])
    cos = np.array([f["motion_cosine"] for f in fid.values()])
    # each default-rig shape, alone at 1, lands mostly on ICT's shape of the same name, and ICT reproduces
    # the direction of the point motion; figures are reported by `facecraft bench retarget`
    assert len(same) == 43  # 51 ICT shapes less the 8 gaze shapes, which are copied by name
    assert np.median(same) > 0.6 and np.median(cos) > 0.9
    curves = sparse_curves(src, 50)
    w = rt(curves)
    assert w.shape == (50, 51) and w.min() >= 0 and w.max() <= 1


def test_long_smoothed_sequences_are_solved_in_tied_chunks():
    rig = make_face_rig(n=15)
    curves = sparse_curves(rig, 41, seed=5, density=0.5)
    whole = Retargeter(rig, rig, smooth=0.5)
    chunked = Retargeter(rig, rig, smooth=0.5)
    chunked.smooth_chunk, chunked.smooth_overlap = 8, 8  # 41 frames: 5 chunks of 8 and a last one of 1
    a, b = whole(curves), chunked(curves)
    assert whole.last_report.closed_form_frames == 41 and chunked.last_report.closed_form_frames == 41
    assert np.abs(a - b).max() < 0.02 and np.abs(a - b).mean() < 0.002
    # the seams stay smooth: no jump at chunk borders larger than inside the chunks
    jumps = np.abs(np.diff(b, axis=0)).max(1)
    assert jumps[7::8].max() <= jumps.max()
