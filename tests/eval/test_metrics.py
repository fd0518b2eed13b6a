"""Metrics on confusion matrices whose scores are known by hand."""

from __future__ import annotations

import numpy as np
import pytest

from facecraft.eval.metrics import (
    classification_report,
    confusion_matrix,
    macro_f1,
    per_class_scores,
    plot_confusion,
    write_report,
)
from facecraft.rigs import EMOTIONS, ParameterError


def test_confusion_matrix_counts_rows_true_columns_predicted():
    cm = confusion_matrix([0, 0, 1, 2, 2, 2], [0, 1, 1, 2, 2, 0], num_classes=3)
    assert cm.tolist() == [[1, 1, 0], [0, 1, 0], [1, 0, 2]]


def test_scores_of_a_known_matrix():
    cm = np.array([[1, 1, 0], [0, 1, 0], [1, 0, 2]])
    s = per_class_scores(cm)
    np.testing.assert_allclose(s["precision"], [0.5, 0.5, 1.0])
    np.testing.assert_allclose(s["recall"], [0.5, 1.0, 2 / 3])
    np.testing.assert_allclose(s["f1"], [0.5, 2 / 3, 0.8])
    assert macro_f1(cm) == pytest.approx((0.5 + 2 / 3 + 0.8) / 3)
    assert macro_f1(cm, classes=[1, 2]) == pytest.approx((2 / 3 + 0.8) / 2)


def test_class_never_predicted_or_absent_scores_zero():
    cm = np.array([[3, 0], [2, 0]])
    s = per_class_scores(cm)
    assert s["f1"][1] == 0.0 and s["recall"][1] == 0.0 and s["precision"][1] == 0.0
    assert np.isfinite(s["f1"]).all()


def test_report_agrees_with_scikit_learn():
    sklearn_metrics = pytest.importorskip("sklearn.metrics")
    rng = np.random.default_rng(3)
    t = rng.integers(0, 8, 300)
    p = np.where(rng.random(300) < 0.6, t, rng.integers(0, 8, 300))
    rep = classification_report(t, p, subsets={"macro_f1_7": [e for e in EMOTIONS if e != "contempt"]})
    assert rep["accuracy"] == pytest.approx(sklearn_metrics.accuracy_score(t, p))
    assert rep["macro_f1"] == pytest.approx(sklearn_metrics.f1_score(t, p, average="macro"))
    seven = [i for i, e in enumerate(EMOTIONS) if e != "contempt"]
    assert rep["macro_f1_7"] == pytest.approx(sklearn_metrics.f1_score(t, p, labels=seven, average="macro"))
    rec = sklearn_metrics.recall_score(t, p, average=None)
    assert [rep["per_class"][e]["recall"] for e in EMOTIONS] == pytest.approx(rec.tolist())


def test_bad_inputs_are_rejected():
    with pytest.raises(ParameterError, match="same length"):
        confusion_matrix([0, 1], [0])
    with pytest.raises(ParameterError, match="y_pred"):
        confusion_matrix([0, 1], [0, 9], num_classes=3)
    with pytest.raises(ParameterError, match="unknown class names"):
        classification_report([0], [0], subsets={"x": ["joy"]})


def test_plot_and_json(tmp_path):
    rep = classification_report([0, 1, 2, 2], [0, 1, 2, 1])
    png = plot_confusion(np.asarray(rep["confusion_matrix"]), tmp_path / "cm.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    path = write_report(rep, tmp_path / "r.json")
    import json

    assert json.loads(path.read_text())["macro_f1"] == pytest.approx(rep["macro_f1"])


def test_macro_f1_leaves_out_a_class_no_label_or_prediction_has():
    from facecraft.eval.metrics import confusion_matrix, macro_f1

    cm = confusion_matrix([0, 1, 1, 2], [0, 1, 2, 2], num_classes=4)  # class 3: in neither
    assert macro_f1(cm) == pytest.approx((1.0 + 2 / 3 + 2 / 3) / 3)
    only_predicted = confusion_matrix([0, 1], [0, 3], num_classes=4)  # class 3 predicted, never true: an F1 of 0
    assert macro_f1(only_predicted) == pytest.approx((1.0 + 0.0 + 0.0) / 3)
