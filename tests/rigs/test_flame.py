"""FlameRig and the LBS core, on a FLAME-format model the tests build themselves (tests/rigs/flame_fixture.py)."""

from __future__ import annotations

import pickle
import sys

import numpy as np
import pytest
import torch
from scipy.spatial.transform import Rotation

from facecraft.rigs import FileFormatError, MissingFileError, ParameterError
from facecraft.rigs.flame import IBUG68_SEMANTIC, FlameRig, load_flame_arrays, load_landmark_embedding
from facecraft.rigs.lbs import rodrigues

from .flame_fixture import build_flame_model, write_embedding_pkl, write_flame_npz, write_flame_pkl


@pytest.fixture(scope="module")
def small():
    return build_flame_model(n_shape=10, n_expression=10, seed=1)


@pytest.fixture(scope="module")
def full():
    return build_flame_model(seed=2)


def _no_posedirs(model: dict) -> dict:
    m = dict(model)
    m["posedirs"] = np.zeros_like(model["posedirs"])
    return m


# ------------------------------------------------------------------------------------------- reading
def test_pkl_loads_through_the_chumpy_stub(tmp_path, small):
    path = write_flame_pkl(tmp_path / "generic_model.pkl", small)
    assert "chumpy" not in sys.modules  # the fake package was only there while pickling
    raw = path.read_bytes()
    assert b"chumpy.ch" in raw and b"chumpy.reordering" in raw and b"scipy.sparse.csc\n" in raw
    with pytest.raises(ModuleNotFoundError):  # a plain unpickler cannot read it
        pickle.loads(raw, encoding="latin1")
    arrays = load_flame_arrays(path)
    assert "chumpy" not in sys.modules
    np.testing.assert_array_equal(arrays["shapedirs"], small["shapedirs"])
    np.testing.assert_array_equal(arrays["posedirs"], small["posedirs"])  # resolved from a Select
    np.testing.assert_array_equal(arrays["J_regressor"], small["J_regressor"].toarray())
    assert isinstance(arrays["J_regressor"], np.ndarray) and arrays["bs_style"] == "lbs"


def test_pkl_and_npz_give_the_same_rig(tmp_path, small):
    rig_pkl = FlameRig(write_flame_pkl(tmp_path / "m.pkl", small), landmark_embedding=write_embedding_pkl(
        tmp_path / "flame_static_embedding_68.pkl", small))  # fmt: skip
    rig_npz = FlameRig(write_flame_npz(tmp_path / "m.npz", small))  # embedding keys inside the npz
    g = torch.Generator().manual_seed(0)
    kw = {"shape": torch.randn(2, 10, generator=g), "expression": torch.randn(2, 10, generator=g)}
    kw |= {"jaw_pose": 0.2 * torch.randn(2, 3, generator=g), "global_orient": 0.1 * torch.randn(2, 3, generator=g)}
    a, b = rig_pkl(**kw), rig_npz(**kw)
    torch.testing.assert_close(a.vertices, b.vertices)
    torch.testing.assert_close(a.landmarks, b.landmarks)
    assert rig_pkl.point_names == rig_npz.point_names and len(rig_pkl.point_names) == 20
    assert a.vertices.shape == (2, 578, 3) and a.joints.shape == (2, 5, 3) and a.points.shape == (2, 20, 3)


def test_full_layout_splits_identity_and_expression_at_300(full):
    rig = FlameRig(full, n_expression=50)
    assert (rig.n_shape, rig.n_expression) == (300, 50)
    np.testing.assert_allclose(rig.expr_dirs.numpy(), full["shapedirs"][:, :, 300:350], atol=1e-7)
    clipped = FlameRig(build_flame_model(n_shape=10, n_expression=10), n_shape=300, n_expression=100)
    assert (clipped.n_shape, clipped.n_expression) == (10, 10)


def test_state_is_buffers(small):
    rig = FlameRig(small)
    assert list(rig.parameters()) == []
    sd = rig.state_dict()
    assert {"v_template", "shapedirs", "expr_dirs", "posedirs", "J_regressor", "lbs_weights", "faces"} <= set(sd)
    assert rig.to(torch.float64)().vertices.dtype == torch.float64


def test_to_npz_round_trip(tmp_path, full):
    rig = FlameRig(full, n_shape=20, n_expression=30)
    back = FlameRig(rig.to_npz(tmp_path / "cache.npz"))
    assert (back.n_shape, back.n_expression, back.num_landmarks) == (20, 30, 68)
    e = torch.randn(1, 30)
    torch.testing.assert_close(back(expression=e, jaw_pose=[[0.2, 0, 0]]).vertices,
                               rig(expression=e, jaw_pose=[[0.2, 0, 0]]).vertices)  # fmt: skip


# ------------------------------------------------------------------------------------------- geometry
def test_zero_parameters_give_the_template(small):
    rig = FlameRig(small)
    out = rig()
    np.testing.assert_allclose(out.vertices[0].numpy(), small["v_template"], atol=1e-7)
    np.testing.assert_allclose(out.joints[0].numpy(), small["J_regressor"] @ small["v_template"], atol=1e-7)


def test_rodrigues_matches_scipy_including_tiny_angles():
    rng = np.random.default_rng(0)
    vecs = np.concatenate([rng.normal(0, 1, (20, 3)), rng.normal(0, 1e-6, (5, 3)), np.zeros((1, 3))])
    got = rodrigues(torch.as_tensor(vecs)).numpy()
    np.testing.assert_allclose(got, Rotation.from_rotvec(vecs).as_matrix(), atol=1e-12)
    jac = torch.func.jacfwd(rodrigues)(torch.zeros(3, dtype=torch.float64))  # d R / d v at zero = skew basis
    assert torch.isfinite(jac).all()
    np.testing.assert_allclose(jac[:, :, 0].numpy(), [[0, 0, 0], [0, 0, -1], [0, 1, 0]])


def test_jaw_rotation_is_hand_computed_lbs_and_moves_only_jaw_vertices(small):
    m = _no_posedirs(small)
    rig = FlameRig(m, dtype=torch.float64)
    rotvec = np.array([0.3, 0.05, -0.02])
    out = rig(jaw_pose=torch.as_tensor(rotvec)[None]).vertices[0].numpy()
    v = m["v_template"]
    jaw = (m["J_regressor"] @ v)[2]
    w = m["weights"][:, 2:3]
    expected = (1 - w) * v + w * ((v - jaw) @ Rotation.from_rotvec(rotvec).as_matrix().T + jaw)
    np.testing.assert_allclose(out, expected, atol=1e-12)
    dist = np.linalg.norm(out - v, axis=1)
    jaw_w = m["weights"][:, 2]
    assert (jaw_w == 0).sum() > 300 and dist[jaw_w == 0].max() < 1e-12
    assert (jaw_w > 0.5).sum() > 20 and np.all(dist[jaw_w > 0.5] > 1e-3)


def test_pose_correctives_are_applied(small):
    rig = FlameRig(small, dtype=torch.float64)
    bare = FlameRig(_no_posedirs(small), dtype=torch.float64)
    rotvec = np.array([0.25, 0.0, 0.1])
    diff = (rig(jaw_pose=rotvec[None]).vertices - bare(jaw_pose=rotvec[None]).vertices)[0].numpy()
    feat = np.zeros(36)
    feat[9:18] = (Rotation.from_rotvec(rotvec).as_matrix() - np.eye(3)).ravel()  # jaw is joint 2 -> block 1
    corr = (small["posedirs"].reshape(-1, 36) @ feat).reshape(-1, 3)
    rest = small["weights"][:, 0] == 1.0  # vertices that follow the (unposed) root alone
    assert rest.sum() > 100 and np.abs(corr[rest]).max() > 1e-5
    np.testing.assert_allclose(diff[rest], corr[rest], atol=1e-12)


def test_expression_is_linear(small):
    rig = FlameRig(small, dtype=torch.float64)
    g = torch.Generator().manual_seed(3)
    a, b = torch.randn(1, 10, generator=g, dtype=torch.float64), torch.randn(1, 10, generator=g, dtype=torch.float64)
    v0 = rig().vertices
    off = lambda e: rig(expression=e).vertices - v0  # noqa: E731
    torch.testing.assert_close(off(a + 2 * b), off(a) + 2 * off(b))
    expected = torch.einsum("n,vcn->vc", a[0], torch.as_tensor(small["shapedirs"][:, :, 10:]))
    torch.testing.assert_close(off(a)[0], expected)
    assert off(a).abs().max() > 1e-3


def test_landmarks_are_barycentric_points(small):
    rig = FlameRig(small)
    out = rig(expression=torch.randn(1, 10), jaw_pose=[[0.2, 0, 0]])
    verts = out.vertices[0].numpy()
    tri = verts[small["f"][small["lmk_face_idx"]].astype(np.int64)]  # (68, 3, 3)
    expected = (tri * small["lmk_b_coords"][:, :, None]).sum(1)
    np.testing.assert_allclose(out.landmarks[0].numpy(), expected, atol=1e-6)


# ------------------------------------------------------------------------------------------- semantic points
def test_semantic_points_from_ibug68_and_51(tmp_path, small):
    rig68 = FlameRig(small)
    assert rig68.landmark_scheme == "ibug68"
    out = rig68(expression=torch.randn(1, 10))
    lm, pts = out.landmarks[0], out.points[0]
    for name, ids in IBUG68_SEMANTIC.items():
        torch.testing.assert_close(pts[rig68.point_names.index(name)], lm[list(ids)].mean(0))
    # the subject's left mouth corner lies at +X, the chin lowest
    assert pts[rig68.point_names.index("mouth_corner_l"), 0] > 0 > pts[rig68.point_names.index("mouth_corner_r"), 0]
    rig51 = FlameRig(write_flame_npz(tmp_path / "m.npz", small, embedding=False),
                     landmark_embedding=write_embedding_pkl(tmp_path / "e51.pkl", small, points=51))  # fmt: skip
    assert rig51.landmark_scheme == "ibug51" and "chin" not in rig51.point_names and len(rig51.point_names) == 19
    for name in ("upper_lid_l", "mouth_corner_r", "nose_tip"):
        torch.testing.assert_close(rig51.semantic_points([name]), rig68.semantic_points([name]))


def test_semantic_points_from_vertex_ids(tmp_path, small):
    rig = FlameRig(write_flame_npz(tmp_path / "m.npz", small, embedding=False),
                   semantic_vertices={"cheek_l": [5, 6], "chin": 7})  # fmt: skip
    assert rig.num_landmarks == 0 and rig.point_names == ["chin", "cheek_l"]
    v = torch.as_tensor(small["v_template"], dtype=torch.float32)
    torch.testing.assert_close(rig.semantic_points(["cheek_l", "chin"]), torch.stack([(v[5] + v[6]) / 2, v[7]]))
    assert rig().landmarks is None
    with pytest.raises(ParameterError, match="cheek_l"):
        FlameRig(small, semantic_vertices={"cheek_l": [10_000]})
    with pytest.raises(ParameterError, match="nose_tip"):
        rig.semantic_points(["nose_tip"])


def test_point_function_matches_the_full_forward(small):
    rig = FlameRig(small, dtype=torch.float64)
    fn = rig.point_function()
    e = torch.randn(3, 10, dtype=torch.float64)
    jaw = 0.2 * torch.randn(3, 3, dtype=torch.float64)
    torch.testing.assert_close(fn(e, jaw), rig(expression=e, jaw_pose=jaw).points)


# ------------------------------------------------------------------------------------------- bad input
def test_missing_file_is_named(tmp_path):
    with pytest.raises(MissingFileError, match="nope.pkl"):
        FlameRig(tmp_path / "nope.pkl")


def test_missing_keys_are_named(tmp_path, small):
    bad = {k: v for k, v in small.items() if k not in ("posedirs", "weights")}
    path = write_flame_npz(tmp_path / "broken.npz", bad)
    with pytest.raises(FileFormatError, match=r"broken\.npz.*missing keys \['posedirs', 'weights'\]"):
        FlameRig(path)


def test_wrong_array_shapes_in_the_file(tmp_path, small):
    bad = dict(small)
    bad["posedirs"] = small["posedirs"][:, :, :30]
    with pytest.raises(FileFormatError, match=r"bad\.npz: posedirs has shape \(578, 3, 30\)"):
        FlameRig(write_flame_npz(tmp_path / "bad.npz", bad))
    (tmp_path / "junk.pkl").write_bytes(b"not a pickle")
    with pytest.raises(FileFormatError, match="junk.pkl"):
        FlameRig(tmp_path / "junk.pkl")
    text = dict(small, weights="not numbers")
    with pytest.raises(FileFormatError, match="weights is not a numeric array"):
        FlameRig(text)
    (tmp_path / "list.pkl").write_bytes(pickle.dumps([1, 2]))
    with pytest.raises(FileFormatError, match="expected a dict"):
        load_flame_arrays(tmp_path / "list.pkl")
    with pytest.raises(FileFormatError, match="unsupported"):
        load_flame_arrays(_touch(tmp_path / "m.obj"))
    with pytest.raises(FileFormatError, match="no landmark embedding keys"):
        load_landmark_embedding({"foo": np.zeros(3)})


def _touch(path):
    path.write_text("")
    return path


def test_wrong_input_shapes(small):
    rig = FlameRig(small)
    with pytest.raises(ParameterError, match=r"expression: expected shape \(1, <= 10\), got \(1, 11\)"):
        rig(expression=torch.zeros(1, 11))
    with pytest.raises(ParameterError, match="jaw_pose"):
        rig(expression=torch.zeros(2, 10), jaw_pose=torch.zeros(3, 3))
    with pytest.raises(ParameterError, match="eye_pose"):
        rig(eye_pose=torch.zeros(1, 3, 2))
    with pytest.raises(ParameterError, match=r"jaw_pose: expected shape \(1, 3\), got \(1, 2\)"):
        rig(jaw_pose=torch.zeros(1, 2))
    with pytest.raises(ParameterError, match="NaN"):
        rig(expression=torch.full((1, 10), float("nan")))
    # fewer expression columns than the rig has are zero-padded
    torch.testing.assert_close(rig(expression=torch.ones(1, 3)).vertices,
                               rig(expression=torch.tensor([[1.0, 1, 1] + [0] * 7])).vertices)  # fmt: skip


def test_expression_jacobian_matches_autodiff(small):
    rig = FlameRig(small, dtype=torch.float64)
    fn = rig.point_function()
    jaw = torch.tensor([[0.3, 0.05, -0.1], [0.0, 0.0, 0.0]], dtype=torch.float64)
    expr = torch.randn(2, 10, dtype=torch.float64)
    jac = rig.expression_jacobian(jaw)
    assert jac.shape == (2, 20, 3, 10)
    for b in range(2):
        auto = torch.func.jacfwd(lambda e, b=b: fn(e[None], jaw[b : b + 1])[0])(expr[b])  # (20, 3, 10)
        torch.testing.assert_close(jac[b], auto)


def test_deca_style_npy_embedding(tmp_path, small):
    """DECA's landmark_embedding.npy is a pickled dict (read through the compat unpickler); 68 points win."""
    lf, lb = small["lmk_face_idx"].astype(np.int64), small["lmk_b_coords"]
    deca = {
        "static_lmk_faces_idx": lf[17:], "static_lmk_bary_coords": lb[17:],
        "full_lmk_faces_idx": lf[None], "full_lmk_bary_coords": lb[None],
    }  # fmt: skip
    np.save(tmp_path / "landmark_embedding.npy", np.array(deca, dtype=object), allow_pickle=True)
    faces, bary = load_landmark_embedding(tmp_path / "landmark_embedding.npy")
    np.testing.assert_array_equal(faces, lf)
    np.testing.assert_allclose(bary, lb, rtol=1e-6)
    rig = FlameRig(write_flame_npz(tmp_path / "m.npz", small, embedding=False),
                   landmark_embedding=tmp_path / "landmark_embedding.npy")  # fmt: skip
    assert rig.landmark_scheme == "ibug68" and "chin" in rig.point_names
    bad = {"full_lmk_faces_idx": np.full((1, 68), 10_000), "full_lmk_bary_coords": lb[None]}
    with pytest.raises(FileFormatError, match="landmark face ids"):
        FlameRig(small, landmark_embedding=bad)


class _RunsCode:
    """An object whose unpickling would call ``os.system`` (the classic pickle exploit)."""

    def __reduce__(self):
        import os

        return (os.system, ("echo pwned > /dev/null",))


@pytest.mark.parametrize("suffix", [".pkl", ".npy"])
def test_a_pickle_that_names_other_code_is_refused(tmp_path, suffix):
    path = tmp_path / f"evil{suffix}"
    if suffix == ".pkl":
        path.write_bytes(pickle.dumps({"v_template": _RunsCode()}, protocol=2))
        with pytest.raises(FileFormatError, match=r"evil\.pkl.*(posix|os)\.system.*refused"):
            FlameRig(path)
    else:
        np.save(path, np.array({"lmk_face_idx": _RunsCode()}, dtype=object), allow_pickle=True)
        with pytest.raises(FileFormatError, match=r"evil\.npy.*(posix|os)\.system.*refused"):
            load_landmark_embedding(path)
