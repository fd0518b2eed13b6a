"""``facecraft bench batch`` end to end on a few lines: every run writes the same files, a kill loses nothing."""

from __future__ import annotations

import shutil

import pytest


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("espeak-ng") is None or shutil.which("flite") is None,
                    reason="the corpus voices need espeak-ng and flite (apt-get install espeak-ng flite)")  # fmt: skip
def test_bench_batch_runs_compare_files_and_survive_a_kill(tmp_path):
    from facecraft.apps.bench_batch import bench_batch_runs

    r = bench_batch_runs(tmp_path, n_lines=4, per_file_lines=1, one_process_formats=("csv",), ray=False)
    assert set(r["runs"]) == {"local", "one_process_csv", "per_file"}
    assert all(run["rc"] == 0 for run in r["runs"].values())
    assert r["runs"]["local"]["lines"] == 4 and r["runs"]["per_file"]["lines"] == 1
    assert r["runs"]["local"]["x_real_time"] == pytest.approx(
        r["runs"]["local"]["wall_s"] / r["audio_seconds"]["total"], rel=0.01
    )
    for name, check in r["identical_to_local"].items():
        assert check["all_identical"], (name, check)
    assert r["identical_to_local"]["one_process"]["compared"] == 4
    kill = r["kill_restart"]
    assert kill["every_row_once"] and kill["rerun_did_exactly_the_rest"], kill
    assert kill["rerun_skipped_exactly_the_outputs_present"] and kill["partial_files_after_rerun"] == 0, kill
    assert kill["rerun"]["done"] + kill["rerun"]["skipped"] == 4 and kill["rerun"]["failed"] == 0
    assert kill["identical_to_local"]["all_identical"]
    assert sorted(p.name for p in (tmp_path / "batch" / "resumed").glob("line_*.csv")) == [
        f"line_{i:03d}.csv" for i in range(4)
    ]
