"""Rig fitting: synthetic faces with a known answer, the image conventions, a real photo, bad input."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from facecraft.eval.faces import yaw_pitch_roll_to_rotation
from facecraft.rigs import ARKIT_INDEX, NUM_ARKIT, ParameterError, resolve_asset
from facecraft.rigs.default_rig import default_rig
from facecraft.synth.fit import RigFit, fit_rig

EXPRESSION = {"jawOpen": 0.6, "mouthSmileLeft": 0.5, "browInnerUp": 0.4, "eyeBlinkRight": 0.8}
SCALE = 1800.0  # pixels per metre: a ~280 px wide face
CENTRE = np.array([256.0, 250.0, 0.0])
CHIN, NOSE_TIP, CHEEK_EDGE = 152, 1, 234  # MediaPipe mesh ids


def _weights(values: dict[str, float]) -> np.ndarray:
    w = np.zeros(NUM_ARKIT)
    for k, v in values.items():
        w[ARKIT_INDEX[k]] = v
    return w


def synthetic_landmarks(yaw=0.0, pitch=0.0, roll=0.0, *, weights=None, identity_mm=2.0, noise_px=0.3, seed=0):
    """Landmarks ``(478, 3)`` of the default rig posed by hand: rig forward pass, a smooth identity offset,
    the rotation from DESIGN.md's yaw/pitch/roll, then image axes (x right, y down, z away) and pixel noise."""
    rig = default_rig()
    w = _weights(EXPRESSION) if weights is None else weights
    with torch.no_grad():
        verts = rig(rig.from_arkit(w[None])).vertices[0].double().numpy()
    x, y, _ = rig.neutral.double().numpy().T
    smooth = np.stack([np.sin(x / 0.04 + 1.0), np.cos(y / 0.05), np.sin((x + y) / 0.06)], axis=1)
    verts = verts + identity_mm * 1e-3 * smooth
    cam = verts @ yaw_pitch_roll_to_rotation(yaw, pitch, roll).T
    img = SCALE * cam * np.array([1.0, -1.0, -1.0]) + CENTRE
    img += np.random.default_rng(seed).normal(0.0, noise_px, img.shape)
    irises = np.repeat(img[[468 - 1]], 10, axis=0)  # the fit must ignore points 468..477
    return np.concatenate([img, irises]), w


@pytest.mark.parametrize("pose", [(0, 0, 0), (25, 0, 0), (0, 0, 30), (-20, 12, -15)])
def test_recovers_pose_scale_and_weights(pose):
    lm, truth = synthetic_landmarks(*pose)
    fit = fit_rig(lm, (512, 512))
    assert isinstance(fit, RigFit)
    assert np.abs(fit.head_pose() - np.array(pose)).max() < 1.5
    assert fit.scale == pytest.approx(SCALE, rel=0.02)
    for name, value in EXPRESSION.items():
        assert fit.weights[ARKIT_INDEX[name]] == pytest.approx(value, abs=0.15), name
    others = np.delete(fit.weights, [ARKIT_INDEX[n] for n in EXPRESSION])
    assert others.max() < 0.25
    assert 0.0 <= fit.weights.min() and fit.weights.max() <= 1.0
    assert fit.mean_residual_px < 0.5  # the identity offset takes up what the expression leaves
    assert fit.expression_residual_px < 1.5


def test_scores_as_prior_tighten_the_weights():
    lm, truth = synthetic_landmarks(10, -5, 8)
    rng = np.random.default_rng(3)
    scores = np.clip(truth + rng.normal(0, 0.08, NUM_ARKIT) * (truth > 0) + np.abs(rng.normal(0, 0.03, 52)), 0, 1)
    fit = fit_rig(lm, (512, 512), init_weights=scores)
    assert np.abs(fit.weights - truth).max() < 0.12
    # channels the landmarks cannot see keep the given scores
    gaze = ARKIT_INDEX["eyeLookInLeft"]
    assert fit.weights[gaze] == pytest.approx(scores[gaze], abs=1e-6)


def test_projection_reproduces_landmarks_and_reports_residual():
    lm, _ = synthetic_landmarks(15, 5, -10, identity_mm=3.0)
    fit = fit_rig(lm, (512, 512))
    proj = fit.project(fit.vertices())
    assert proj.shape == (468, 2)
    per_point = np.linalg.norm(proj - lm[:468, :2], axis=1)
    np.testing.assert_allclose(fit.residual_px, per_point, atol=1e-3)
    assert per_point.mean() < 0.5 and per_point.max() < 2.0
    exact = fit_rig(lm, (512, 512), detail=0.0)  # no smoothing: every landmark exactly
    assert exact.residual_px.max() < 1e-6
    assert fit.identity_offset.shape == (468, 3)


def test_new_expression_moves_chin_along_the_faces_own_down_axis():
    roll = 30.0  # positive roll: the image rotates counter-clockwise, the face's down points down-right
    lm, _ = synthetic_landmarks(0, 0, roll, weights=np.zeros(NUM_ARKIT))
    fit = fit_rig(lm, (512, 512))
    target = fit.weights.astype(np.float64).copy()
    target[ARKIT_INDEX["jawOpen"]] = 0.6
    move = fit.displacement_px(target)
    np.testing.assert_allclose(move, fit.project(fit.vertices(target)) - fit.project(fit.vertices()))
    chin = move[CHIN]
    down = np.array([np.sin(np.radians(roll)), np.cos(np.radians(roll))])
    assert np.linalg.norm(chin) > 10.0  # pixels, on a ~280 px face
    assert chin @ down / np.linalg.norm(chin) > 0.9
    assert np.linalg.norm(move[NOSE_TIP]) < 0.1 * np.linalg.norm(chin)
    # a batch of expressions at once
    assert fit.displacement_px(np.stack([target, fit.weights])).shape == (2, 468, 2)


def test_depth_larger_is_nearer():
    lm, _ = synthetic_landmarks(0, 0, 0)
    fit = fit_rig(lm, (512, 512))
    depth = fit.depth(fit.vertices())
    assert depth.shape == (468,)
    assert depth[NOSE_TIP] > depth[CHEEK_EDGE]
    # MediaPipe's z grows away from the camera: the fitted depth is its negative up to a shift
    shift = np.median(depth + lm[:468, 2])
    assert np.abs(depth + lm[:468, 2] - shift).mean() < 1.0


def test_astronaut_photo():
    from facecraft.eval.faces import FaceAnalyzer
    from facecraft.eval.images import load_image

    image = load_image(resolve_asset("astronaut"))
    with FaceAnalyzer() as analyzer:
        face = analyzer.largest_face(image, name="astronaut")
    fit = fit_rig(face.landmarks, image.shape[:2], init_weights=face.blendshapes)
    assert fit.mean_residual_px < 1.0 and fit.expression_residual_px < 3.0
    smile = fit.weights[[ARKIT_INDEX["mouthSmileLeft"], ARKIT_INDEX["mouthSmileRight"]]]
    assert smile.min() > 0.5  # she smiles
    assert fit.weights[ARKIT_INDEX["jawOpen"]] < 0.35  # lips apart a little, jaw nearly closed
    yaw, pitch, roll = fit.head_pose()
    assert abs(yaw - face.pose[0]) < 5 and abs(roll - face.pose[2]) < 5 and abs(pitch - face.pose[1]) < 10
    again = fit_rig(face.landmarks, image.shape[:2], init_weights=face.blendshapes)  # cached rig tables
    np.testing.assert_array_equal(again.weights, fit.weights)
    # the smile is in the geometry, not only in MediaPipe's scores
    blind = fit_rig(face.landmarks, image.shape[:2])
    assert blind.weights[[ARKIT_INDEX["mouthSmileLeft"], ARKIT_INDEX["mouthSmileRight"]]].min() > 0.5


def test_rejects_bad_input(tiny_rig):
    lm, _ = synthetic_landmarks()
    good = (512, 512)
    bad_calls = [
        (lambda: fit_rig(lm[:100], good), "landmarks_px"),
        (lambda: fit_rig(lm[:, :2], good), "landmarks_px"),
        (lambda: fit_rig(np.where(np.arange(478)[:, None] == 5, np.nan, lm), good), "NaN"),
        (lambda: fit_rig(np.ones((468, 3)), good), "spans"),
        (lambda: fit_rig("not landmarks", good), "landmarks_px"),
        (lambda: fit_rig(lm, (512,)), "image_size"),
        (lambda: fit_rig(lm, (0, 512)), "image_size"),
        (lambda: fit_rig(lm, good, init_weights=np.zeros(51)), "init_weights"),
        (lambda: fit_rig(lm, good, init_weights=np.full(52, 2.0)), "init_weights"),
        (lambda: fit_rig(lm, good, fixed=("eyeLookSideways",)), "fixed"),
        (lambda: fit_rig(lm, good, rig=tiny_rig), "rig"),
        (lambda: fit_rig(lm, good, iterations=0), "iterations"),
        (lambda: fit_rig(lm, good, prior=-1.0), "prior"),
        (lambda: fit_rig(lm, good, identity=0.0), "identity"),
    ]
    for call, word in bad_calls:
        with pytest.raises(ParameterError, match=word):
            call()
    fit = fit_rig(lm, good)
    with pytest.raises(ParameterError, match="weights"):
        fit.vertices(np.zeros(7))
    with pytest.raises(ParameterError, match="vertices"):
        fit.project(np.zeros((5, 2)))


def test_bench_fit_without_shared_data(tmp_path, monkeypatch, capsys):
    from facecraft.synth import bench

    monkeypatch.setattr(bench, "shared_data_dir", lambda: tmp_path / "absent")
    result = bench.bench_fit(tmp_path)
    astro = result["astronaut"]
    assert astro["residual_px_mean"] < 1.0 and astro["smile"] > 0.5
    assert 0 < astro["fit_ms"] < 1000
    assert "portraits" not in result and "frll" not in result
    assert "fit astronaut" in capsys.readouterr().out
