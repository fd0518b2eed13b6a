import pytest

from facecraft.apps.cli import build_parser, main


def test_help_lists_bench():
    assert "bench" in build_parser().format_help()


def test_unknown_benchmark_exit_code(tmp_path, capsys):
    assert main(["bench", "nope", "--out", str(tmp_path)]) == 2
    assert "unknown benchmark" in capsys.readouterr().err


def test_requires_a_command():
    with pytest.raises(SystemExit):
        main([])


def test_readme_lists_every_benchmark():
    from pathlib import Path

    from facecraft.apps.cli import BENCHMARKS

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    section = readme.split("### Benchmarks", 1)[1].split("\n## ", 1)[0]
    assert [name for name in BENCHMARKS if f"`{name}`" not in section] == []


def test_bench_json_records_the_machine(tmp_path, monkeypatch):
    """Every benchmark's JSON says how loaded the CPU was (timings on a shared machine depend on it)."""
    import json
    import sys
    import types

    from facecraft.apps import cli

    fake = types.ModuleType("fake_bench")
    fake.bench_probe = lambda out_dir: {"figure": 1}
    monkeypatch.setitem(sys.modules, "fake_bench", fake)
    monkeypatch.setitem(cli.BENCHMARKS, "probe", "fake_bench:bench_probe")
    assert main(["bench", "probe", "--out", str(tmp_path)]) == 0
    written = json.loads((tmp_path / "probe.json").read_text())
    assert written["figure"] == 1
    assert set(written["machine"]) == {"cpu", "cpu_count", "load_average"}
