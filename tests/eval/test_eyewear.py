"""The glasses cue: a frame drawn on a real face is found, the bare face and bad input are not."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest

from facecraft.eval.bench_eyewear import LABELS
from facecraft.eval.eyewear import GLASSES_SCORE, eyewear_score, wears_glasses
from facecraft.eval.faces import default_analyzer
from facecraft.eval.images import load_image
from facecraft.rigs import resolve_asset
from facecraft.rigs.errors import ParameterError


@pytest.fixture(scope="module")
def face():
    image = load_image(resolve_asset("astronaut"))
    return image, default_analyzer().largest_face(image).landmarks[:, :2]


def with_glasses(image: np.ndarray, points: np.ndarray, *, bridge: bool = True) -> np.ndarray:
    """``image`` with a dark frame drawn around both eyes (rims, temples and, if ``bridge``, the bar between)."""
    out = image.copy()
    eye = float(np.hypot(*(points[133] - points[33])))
    thick = max(2, int(round(0.08 * eye)))
    centres = [0.5 * (points[33] + points[133]), 0.5 * (points[263] + points[362])]
    for c in centres:
        cv2.ellipse(out, tuple(int(v) for v in c), (int(0.75 * eye), int(0.5 * eye)), 0, 0, 360, (30, 25, 25), thick,
                    cv2.LINE_AA)  # fmt: skip
    if bridge:  # the bar between the rims, a little above the eye centres
        across = (centres[1] - centres[0]) / np.hypot(*(centres[1] - centres[0]))
        ends = [centres[0] + 0.75 * eye * across, centres[1] - 0.75 * eye * across]
        a, b = (tuple(int(v) for v in e + np.array([0.0, -0.1 * eye])) for e in ends)
        cv2.line(out, a, b, (30, 25, 25), thick, cv2.LINE_AA)
    return out


def test_a_frame_with_a_bridge_is_found_and_the_bare_face_is_not(face):
    image, points = face
    bare = eyewear_score(image, points)
    framed = eyewear_score(with_glasses(image, points), points)
    assert bare < GLASSES_SCORE <= framed
    assert not wears_glasses(image, points)
    assert wears_glasses(with_glasses(image, points), points)


def test_the_cue_is_the_bridge_rims_alone_do_not_count(face):
    """What the score measures: a frame without its bar between the eyes scores as bare skin does."""
    image, points = face
    rims_only = eyewear_score(with_glasses(image, points, bridge=False), points)
    assert rims_only < GLASSES_SCORE


def test_the_score_does_not_depend_on_the_photo_size(face):
    """Measured in eye widths, not pixels: the same face twice as large scores the same."""
    image, points = face
    framed = with_glasses(image, points)
    double = cv2.resize(framed, None, fx=2.0, fy=2.0, interpolation=cv2.INTER_CUBIC)
    full, large = eyewear_score(framed, points), eyewear_score(double, points * 2.0)
    assert large == pytest.approx(full, rel=0.2)


def test_grey_images_are_scored_like_colour_ones(face):
    image, points = face
    framed = with_glasses(image, points)
    grey = cv2.cvtColor(framed, cv2.COLOR_RGB2GRAY)
    assert eyewear_score(grey, points) == pytest.approx(eyewear_score(framed, points), rel=1e-5)


@pytest.mark.parametrize(
    ("image", "points"),
    [(np.zeros((4, 4, 3), np.uint8), np.zeros((10, 2))), (np.zeros((4,), np.uint8), np.zeros((468, 2)))],
)
def test_bad_input_names_the_problem(image, points):
    with pytest.raises(ParameterError, match="eyewear_score needs"):
        eyewear_score(image, points)


def test_the_labels_keep_the_bench_sample_out_and_the_sets_apart():
    labels = json.loads(LABELS.read_text())
    tune = set(labels["tune"]["glasses"]) | set(labels["tune"]["bare"])
    held = set(labels["held_out"]["glasses"]) | set(labels["held_out"]["bare"])
    assert not tune & held
    assert len(labels["tune"]["glasses"]) >= 10 and len(labels["held_out"]["glasses"]) >= 10


def test_the_labelled_crops_lie_where_the_labels_say_and_outside_the_edit_benchs_sample():
    """Each set's crops are the faces-utk files at its stated positions of the edit bench's seed-0 draw, none among
    the first 500 (the bench's identity sample)."""
    from facecraft.rigs.assets import shared_data_dir
    from facecraft.synth.bench_edit import _images

    folder = shared_data_dir() / "data" / "faces-utk" / "images"
    if not folder.is_dir():
        pytest.skip(f"{folder} not found")
    files = _images(folder)
    order = np.random.default_rng(0).permutation(len(files))
    labels = json.loads(LABELS.read_text())
    sample = {files[i].name for i in order[:500]}
    for name in ("tune", "held_out"):
        start, stop = labels[name]["positions"]
        assert start >= 500
        drawn = {files[i].name for i in order[start:stop]}
        named = set(labels[name]["glasses"]) | set(labels[name]["bare"])
        assert named <= drawn and not named & sample


def test_the_bench_reports_a_skip_without_the_shared_data(tmp_path, monkeypatch):
    import facecraft.eval.bench_eyewear as bench

    monkeypatch.setattr(bench, "shared_data_dir", lambda: tmp_path / "nowhere")
    report = bench.bench_eyewear(tmp_path / "out")
    assert "faces-utk" in report["skipped"] and report["sets"] == {}
