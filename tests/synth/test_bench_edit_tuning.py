"""The tuning bench on a temporary data folder built from the astronaut: its sets, sections and data rules."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from facecraft.synth.bench_edit import JUDGES, utk_order
from facecraft.synth.bench_edit_tuning import UTK_SAMPLE, bench_edit_tuning, utk_tuning_crops
from facecraft.synth.controls import EditControls


def test_tuning_crops_follow_the_bench_sample_and_never_overlap_it(tmp_path):
    folder = tmp_path / "faces-utk" / "images"
    folder.mkdir(parents=True)
    for i in range(UTK_SAMPLE + 40):
        (folder / f"{i:04d}.jpg").touch()
    files = sorted(folder.glob("*.jpg"))
    measured = {files[i] for i in utk_order(len(files))[:UTK_SAMPLE]}  # the edit bench's sample
    tuning = utk_tuning_crops(tmp_path, 60)
    assert len(tuning) == 40 and not measured & set(tuning)
    assert utk_tuning_crops(tmp_path, 3, start=0) == [files[i] for i in utk_order(len(files))[:3]]
    assert utk_tuning_crops(tmp_path / "missing", 5) == []


@pytest.fixture(scope="module")
def report(tmp_path_factory, editor, astronaut, astronaut_faces):
    data = tmp_path_factory.mktemp("data")
    faded = editor.apply(astronaut, astronaut_faces, EditControls.from_args(emotion="neutral:1")).image
    for folder, name, image in (
        ("faces-utk/images", "a.jpg", astronaut),
        ("faces-utk/images", "b.jpg", faded),
        ("faces-frll/neutral", "001.jpg", faded),
        ("faces-frll/smiling", "001.jpg", astronaut),
    ):
        (data / folder).mkdir(parents=True, exist_ok=True)
        cv2.imwrite(str(data / folder / name), image[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, 95])
    return bench_edit_tuning(
        data, data_dir=data, editor=editor, utk=2, utk_start=0, controls=("jawOpen",), emotions=("surprise", "neutral")
    )


def test_tuning_bench_measures_each_set_apart(report):
    assert report["sets"] == {"utk": 2, "utk_smilers": 1, "calibration_neutral": 1, "calibration_smiling": 1}
    jaw = {name: part["per_control"]["jawOpen"] for name, part in report["response"].items()}
    assert all(v["pairs"] == n for v, n in zip(jaw.values(), report["sets"].values(), strict=True))
    assert jaw["calibration_smiling"]["mean_rise"] > 0.1  # the astronaut's mouth opens and MediaPipe sees it
    # every response edit (four photos, the smiler once) and the removal were measured for identity
    assert report["identity"]["per_section"]["response"] is not None and report["identity"]["edits"] == 4 + 1
    rates = report["emotion_hit_rate"]
    assert not rates["judges_unavailable"] and set(rates["utk"]["judges"]) == set(JUDGES)
    assert "evidence" in rates["calibration_neutral"]["note"] and "note" not in rates["utk"]
    assert all(part["edits"] == 2 * report["sets"][name] for name, part in rates.items() if name in report["sets"])


def test_smile_removal_compares_with_the_real_neutral_photo(report):
    removal = report["smile_removal"]
    assert removal["compared"] == 1 and not removal["skipped"]
    # The truth is the astronaut faded by the same edit: the removal lands on it, and narrows the mouth as it did.
    assert removal["edit"]["mouth"] < 0.1 * removal["baseline"]["mouth"]
    width = removal["mouth_width_change_face_widths"]
    # within 5% of the real change: both photos pass through JPEG, which moves the landmarks by a few thousandths
    assert width["real"] < -0.01 and abs(width["edit"] - width["real"]) < 0.05 * abs(width["real"])
    corner = removal["mouth_motion_face_widths"]["corner_image_left"]
    assert corner["real"][0] > 0 and np.allclose(corner["edit"], corner["real"], atol=0.005)  # moves in (right)
