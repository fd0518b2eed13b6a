import pytest

from facecraft.apps.cli import build_parser, main


def test_help_lists_bench():
    assert "bench" in build_parser().format_help()


def test_unknown_benchmark_exit_code(tmp_path, capsys):
    assert main(["bench", "nope", "--out", str(tmp_path / "bench")]) == 2
    assert "unknown benchmark" in capsys.readouterr().err
    assert not (tmp_path / "bench").exists()  # a mistyped name made an empty output folder


def test_help_shows_plain_text_not_the_docstrings_markup():
    # `facecraft --help` read "The ``facecraft`` command line: ..."
    assert "``" not in build_parser().format_help()


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


def test_quick_runs_a_benchmark_without_a_quick_variant_whole(tmp_path, monkeypatch, capsys):
    # 'bench fit --quick' stopped at "unknown option 'quick'" for 16 of the 20 benchmarks
    import json
    import sys
    import types

    from facecraft.apps import cli

    fake = types.ModuleType("fake_bench_whole")
    fake.bench_whole = lambda out_dir, *, limit=3: {"limit": limit}
    monkeypatch.setitem(sys.modules, "fake_bench_whole", fake)
    monkeypatch.setitem(cli.BENCHMARKS, "whole", "fake_bench_whole:bench_whole")
    assert main(["bench", "whole", "--quick", "--out", str(tmp_path)]) == 0
    assert "no quick variant" in capsys.readouterr().err
    assert json.loads((tmp_path / "whole.json").read_text())["limit"] == 3


def _fake_bench(monkeypatch):
    import sys
    import types

    from facecraft.apps import cli

    def bench_probe(out_dir, *, quick: bool = False, limit: int = 10, targets: tuple = ("a",), note=None):
        return {"quick": quick, "limit": limit, "targets": list(targets), "note": note}

    fake = types.ModuleType("fake_bench_options")
    fake.bench_probe = bench_probe
    monkeypatch.setitem(sys.modules, "fake_bench_options", fake)
    monkeypatch.setitem(cli.BENCHMARKS, "probe", "fake_bench_options:bench_probe")


def test_bench_options_reach_the_function_typed(tmp_path, monkeypatch):
    import json

    _fake_bench(monkeypatch)
    args = ["bench", "probe", "--out", str(tmp_path), "--quick", "--set", "limit=500", "--set", "targets=x,y"]
    assert main([*args, "--set", "note=plain words"]) == 0
    written = json.loads((tmp_path / "probe.json").read_text())
    assert (written["quick"], written["limit"], written["targets"], written["note"]) == (True, 500, ["x", "y"],
                                                                                          "plain words")  # fmt: skip
    assert written["options"]["limit"] == 500
    assert main(["bench", "probe", "--out", str(tmp_path), "--set", "targets=0.5"]) == 0  # one value of a tuple
    assert json.loads((tmp_path / "probe.json").read_text())["targets"] == [0.5]


def test_unknown_bench_option_lists_the_known_ones(tmp_path, monkeypatch, capsys):
    _fake_bench(monkeypatch)
    assert main(["bench", "probe", "--out", str(tmp_path), "--set", "limt=5"]) == 2
    err = capsys.readouterr().err
    assert "unknown option 'limt'" in err and "limit=10" in err and "quick=False" in err
    assert main(["bench", "probe", "--out", str(tmp_path), "--set", "limit"]) == 2
    assert "expected KEY=VALUE" in capsys.readouterr().err
    assert not (tmp_path / "probe.json").exists()


def test_bench_all_goes_on_past_a_benchmark_that_fails(tmp_path, monkeypatch, capsys):
    """`facecraft bench all` (and `make bench`) stopped with a traceback at the first benchmark that raised (bench
    render on the default rig with its parts), so none of the later benchmarks ran; now each failure is named and
    the rest run, and the exit status says that one failed."""
    import json
    import sys
    import types

    from facecraft.apps import cli

    def broken(out_dir):
        raise ValueError("axis 0 index 5064 exceeds matrix dimension 468")

    fake = types.ModuleType("fake_bench_all")
    fake.bench_broken, fake.bench_fine = broken, lambda out_dir: {"figure": 2}
    monkeypatch.setitem(sys.modules, "fake_bench_all", fake)
    monkeypatch.setattr(
        cli, "BENCHMARKS", {"broken": "fake_bench_all:bench_broken", "fine": "fake_bench_all:bench_fine"}
    )
    assert main(["bench", "all", "--out", str(tmp_path)]) == 1
    assert json.loads((tmp_path / "fine.json").read_text())["figure"] == 2
    assert not (tmp_path / "broken.json").exists()
    err = capsys.readouterr().err
    assert "broken" in err and "ValueError: axis 0 index 5064" in err and "1 of 2 benchmarks failed" in err
    with pytest.raises(ValueError):  # one benchmark asked by name still shows its traceback
        main(["bench", "broken", "--out", str(tmp_path)])


def test_command_table_names_what_each_module_registers():
    """A run of one command builds only its module's part of the parser: the table must name every command."""
    import argparse
    import importlib

    from facecraft.apps.cli import COMMAND_MODULES

    for module, names in COMMAND_MODULES.items():
        sub = argparse.ArgumentParser().add_subparsers()
        importlib.import_module(module).register(sub)
        assert tuple(sub.choices) == names, module


def test_one_command_parser_has_only_its_module():
    animate_only = build_parser("animate")._subparsers._group_actions[0].choices
    assert {"animate", "a2f", "bench"} == set(animate_only)
    assert {"bench"} == set(build_parser("bench")._subparsers._group_actions[0].choices)
    assert {"animate", "edit", "fer", "bench", "augment"} <= set(
        build_parser("nope")._subparsers._group_actions[0].choices
    )


@pytest.mark.parametrize(("command", "resumable"), [("talk", False), ("edit", True)])
def test_a_terminated_run_ends_like_ctrl_c_and_offers_resuming_only_where_it_resumes(
    command, resumable, monkeypatch, capsys
):
    import os
    import signal

    from facecraft.synth import cli as edit_cli
    from facecraft.synth import talk_cli

    def killed(args):
        os.kill(os.getpid(), signal.SIGTERM)  # as `kill PID`: the finally blocks that remove part files must run
        raise AssertionError("SIGTERM did not stop the command")

    monkeypatch.setattr(talk_cli, "_cmd_talk", killed)
    monkeypatch.setattr(edit_cli, "_cmd_edit", killed)
    before = signal.getsignal(signal.SIGTERM)
    assert (
        main([command, "a.jpg", "b.wav", "-o", "c.mp4"] if command == "talk" else [command, "a.jpg", "-o", "b.jpg"])
        == 130
    )
    err = capsys.readouterr().err
    assert "interrupted" in err and ("resume" in err) == resumable
    assert signal.getsignal(signal.SIGTERM) == before  # the handler is the command's only


def test_verbose_is_taken_after_the_command_too():
    for words in (["-v", "emotion", "anger"], ["emotion", "anger", "-v"], ["emotion", "-v", "anger"]):
        assert build_parser("emotion").parse_args(words).verbose is True
    assert build_parser("emotion").parse_args(["emotion", "anger"]).verbose is False


def test_an_output_folder_that_cannot_be_made_is_an_error_naming_it(monkeypatch, capsys):
    # `animate lines/ -o /mnt/readonly/out/` (or a /proc path as root) raised OSError from mkdir: a traceback.
    import errno

    from facecraft.audio2face import cli as animate_cli

    def read_only(args):
        raise OSError(errno.EROFS, "Read-only file system", "/mnt/ro/out")

    monkeypatch.setattr(animate_cli, "_animate", read_only)
    assert main(["animate", "lines/", "-o", "/mnt/ro/out/"]) == 1
    assert capsys.readouterr().err == "facecraft: error: Read-only file system: /mnt/ro/out\n"

    def broken(args):
        raise OSError("no file involved")

    monkeypatch.setattr(animate_cli, "_animate", broken)
    with pytest.raises(OSError, match="no file involved"):  # an error about no path stays a traceback to report
        main(["animate", "lines/", "-o", "out/"])


def test_a_benchmark_stopped_by_bad_input_leaves_no_empty_output_folder(tmp_path, monkeypatch, capsys):
    # `facecraft bench augment --set data=/no/such/folder --out X` named the missing path but left X/ behind, empty.
    out = tmp_path / "new" / "bench"
    assert main(["bench", "augment", "--set", f"data={tmp_path / 'no-such-folder'}", "--out", str(out)]) == 1
    assert "no-such-folder not found" in capsys.readouterr().err
    assert not (tmp_path / "new").exists()
    assert main(["bench", "augment", "--set", "dta=1", "--out", str(out)]) == 2  # a mistyped option: the same
    assert not (tmp_path / "new").exists()

    import sys
    import types

    from facecraft.apps import cli

    def writes_then_fails(out_dir):
        (out_dir / "part.png").write_bytes(b"x")
        raise ValueError("late")

    fake = types.ModuleType("fake_bench_late")
    fake.bench_late = writes_then_fails
    monkeypatch.setitem(sys.modules, "fake_bench_late", fake)
    monkeypatch.setitem(cli.BENCHMARKS, "late", "fake_bench_late:bench_late")
    with pytest.raises(ValueError):
        main(["bench", "late", "--out", str(out)])
    assert (out / "part.png").exists()  # what a benchmark wrote before it failed is kept


def test_an_output_folder_where_a_file_is_says_the_file_is_in_the_way(tmp_path, monkeypatch, capsys):
    # `facecraft edit photo.jpg -o photo.jpg/out.png` said "File exists: photo.jpg", and fer's --out
    # "Not a directory: photo.jpg/x", as if the output existed or the folder were wrong
    from pathlib import Path

    from facecraft.audio2face import cli as animate_cli

    photo = tmp_path / "photo.jpg"
    photo.write_bytes(b"x")
    for folder in (photo, photo / "x"):
        monkeypatch.setattr(animate_cli, "_animate", lambda args, folder=folder: Path(folder).mkdir(exist_ok=True))
        assert main(["animate", "a.wav", "-o", str(photo / "out.csv")]) == 1
        err = capsys.readouterr().err
        assert err == f"facecraft: error: cannot make the folder {photo}: a file of that name is in the way\n"
