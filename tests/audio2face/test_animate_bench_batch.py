"""``facecraft bench a2f-batch`` end to end on one short line (two real ``facecraft animate`` processes)."""

from __future__ import annotations

import shutil

import pytest


@pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng not installed (apt-get install espeak-ng)")
def test_bench_batch_times_one_process_and_one_per_file(tmp_path):
    from facecraft.audio2face.bench_batch import bench_batch

    r = bench_batch(tmp_path, n_lines=1, fmt="npz")
    assert r["lines"] == 1 and r["one_process"]["failed"] == 0
    assert (tmp_path / "a2f-batch/batch/line_000.npz").exists()
    assert (tmp_path / "a2f-batch/per_file/line_000.npz").exists()
    assert r["one_process"]["wall_s"] > 0 and r["process_per_file"]["wall_s"] > 0
    assert r["one_process"]["x_real_time"] == pytest.approx(r["one_process"]["wall_s"] / r["audio_seconds"]["total"],
                                                            rel=0.01)  # fmt: skip
    # the child's own CPU time: a fresh interpreter importing torch cannot take less than a tenth of a second
    assert 0.1 < r["one_process"]["cpu_s"] and 0.1 < r["process_per_file"]["cpu_s"]
