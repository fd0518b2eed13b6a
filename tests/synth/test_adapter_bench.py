"""bench adapter's sections on the astronaut with a tiny untrained base + adapter (mechanics, not figures)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from facecraft.rigs import resolve_asset
from facecraft.synth import bench_adapter as bench

from .test_refine import tiny_pipeline

torch.set_num_threads(1)


@pytest.fixture(scope="module")
def pipe(editor):
    return tiny_pipeline(editor=editor)


def test_control_section_pairs_targets_and_responses(pipe, editor):
    photo = Path(resolve_asset("astronaut"))
    out = bench.section_control(pipe, editor, [photo], aus=("AU12",), strength=0.5, steps=2, guidance=1.0)
    assert out["samples"] == len(bench.INTENSITIES)  # one refined image per intensity
    entry = out["per_au"]["AU12"]
    assert set(entry) >= {"true", "shuffled", "true_response_by_target", "mediapipe_counterpart"}
    assert all(v is None or -1.0 <= v <= 1.0 for v in (entry["true"], entry["shuffled"]))
    # the control re-pairs the same responses with other targets: over many permutations every target gets
    # the photo's mean response
    true, shuffled = entry["true_response_by_target"], entry["shuffled_response_by_target"]
    mean = np.mean(list(true.values()))
    assert list(shuffled.values()) == pytest.approx([mean] * len(true), abs=0.2 * np.ptp(list(true.values())) + 1e-6)
    assert entry["main_channels"] == ["mouthSmileLeft", "mouthSmileRight"]


def test_shuffled_control_centres_on_zero_for_a_perfect_model():
    rows = [
        {"photo": f"p{p}", "target": x, "response": x + 0.3 * p, "raw": x}
        for p in range(12) for x in bench.INTENSITIES
    ]  # fmt: skip
    assert bench._spearman([r["target"] for r in rows], [r["raw"] for r in rows]) == pytest.approx(1.0)
    assert bench._within_photo(rows) == pytest.approx(1.0)
    out = bench._shuffled_control(rows, np.random.default_rng(0))
    assert abs(out["shuffled"]) < 0.05 and abs(out["shuffled_within_photo"]) < 0.05 and abs(out["shuffled_raw"]) < 0.05


def test_mean_rho_interval_resamples_photos():
    rng = np.random.default_rng(0)
    rows = [
        {"photo": f"p{p}", "au": au, "target": x, "response": x * (p % 3) + rng.normal(0, 0.3)}
        for p in range(12) for au in ("AU1", "AU12") for x in bench.INTENSITIES
    ]  # fmt: skip
    low, high = bench._mean_rho_interval(rows, ["AU1", "AU12"], np.random.default_rng(1))

    def rho(au):
        return bench._spearman(
            [r["target"] for r in rows if r["au"] == au], [r["response"] for r in rows if r["au"] == au]
        )

    point = np.mean([rho("AU1"), rho("AU12")])
    assert low < point < high and high - low > 0.05  # a real spread: a third of the photos do not respond
    assert bench._mean_rho_interval(rows[:5], ["AU1"], rng) == (None, None)  # one photo: no interval


def test_main_channels_of_aus_mediapipe_cannot_read():
    assert bench.main_channels("AU9") == ["noseSneerLeft", "noseSneerRight"]
    assert bench.main_channels("AU26") == ["jawOpen"]


def test_refine_section_writes_the_sheet(pipe, editor, tmp_path):
    photo = Path(resolve_asset("astronaut"))
    out = bench.section_refine(pipe, editor, [photo], tmp_path, strength=0.5, steps=2, guidance=1.0)
    assert out["edits"] == len(bench.EMOTIONS6)
    assert (tmp_path / "refine_sheet.png").is_file()
    for stage in ("geometric", "refined"):
        assert set(out[stage]["judges"]) == set(bench.JUDGES)
        assert out[stage]["identity_median"] is None or out[stage]["identity_median"] >= 0


def test_speed_section(pipe, editor):
    out = bench.section_speed(pipe, editor, strength=0.5, steps=2, guidance=2.0, runs=1)
    assert out["denoising_steps"] == 1 and out["total_s_median"] >= out["diffusion_s_median"] > 0


def test_spearman_needs_variation():
    assert bench._spearman([0, 1, 2, 3], [0.1, 0.2, 0.3, 0.5]) == pytest.approx(1.0)
    assert bench._spearman([0, 1, 2], [0.2, 0.2, 0.2]) is None


def test_models_found_in_the_out_folder_report_their_training(tmp_path):
    import json

    for name, minutes in (("base", 30.0), ("adapter", 28.0)):
        (tmp_path / name).mkdir()
        (tmp_path / name / "train.json").write_text(json.dumps({"minutes": minutes, "steps": 10, "extra": 1}))
    (tmp_path / "base" / "facecraft_base.json").write_text("{}")
    (tmp_path / "adapter" / "config.json").write_text("{}")
    info = bench.prepare_models(tmp_path)
    assert info["trained_here"] is False and info["train_minutes_total"] == 58.0
    assert info["base_training"] == {"minutes": 30.0, "steps": 10}
