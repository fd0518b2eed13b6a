"""A folder's run settings: a rerun with the same passes, with others stops unless told to redo everything."""

from __future__ import annotations

import pytest

from facecraft.rigs.errors import ParameterError
from facecraft.rigs.run_settings import check_run_settings, random_seed, save_run_settings


def test_a_rerun_with_other_settings_stops_unless_overwritten(tmp_path):
    path = tmp_path / "out" / ".settings.json"
    check_run_settings(path, {"emotion": "anger"}, overwrite=False, made="edits")  # nothing recorded yet
    save_run_settings(path, {"emotion": "anger", "fps": 30})
    check_run_settings(path, {"emotion": "anger", "fps": 30}, overwrite=False, made="edits")
    with pytest.raises(
        ParameterError, match=r"out holds edits made with other settings \(emotion 'anger', now 'joy'\)"
    ):
        check_run_settings(path, {"emotion": "joy", "fps": 30}, overwrite=False, made="edits")
    # an option left at its default (None) is named so, not "fps None"
    with pytest.raises(ParameterError, match=r"\(fps 30, now default\)"):
        check_run_settings(path, {"emotion": "anger", "fps": None}, overwrite=False, made="edits")
    check_run_settings(path, {"emotion": "joy", "fps": 30}, overwrite=True, made="edits")
    path.write_text("{broken")
    with pytest.raises(ParameterError, match="unreadable .settings.json"):
        check_run_settings(path, {"emotion": "joy"}, overwrite=False, made="edits")


def test_a_run_stopped_while_saving_its_settings_can_be_resumed(tmp_path, monkeypatch):
    from pathlib import Path

    path = tmp_path / ".settings.json"
    save_run_settings(path, {"emotion": "anger"})
    real_write = Path.write_bytes

    def stopped(self, data):
        real_write(self, data[: len(data) // 2])
        raise KeyboardInterrupt

    monkeypatch.setattr(Path, "write_bytes", stopped)
    monkeypatch.setattr(Path, "write_text", lambda self, text, *a, **k: stopped(self, text.encode()))
    with pytest.raises(KeyboardInterrupt):
        save_run_settings(path, {"emotion": "anger"})
    check_run_settings(path, {"emotion": "anger"}, overwrite=False, made="edits")  # was: "unreadable .settings.json"
    assert [p.name for p in tmp_path.iterdir()] == [".settings.json"]


def test_a_seed_on_the_command_line_is_a_whole_number_from_0():
    import argparse

    from facecraft.apps.cli import main

    assert random_seed("0") == 0 and random_seed("42") == 42
    for bad in ("-1", "1.5", "x"):
        with pytest.raises(argparse.ArgumentTypeError):
            random_seed(bad)
    # `animate --seed -1` ended in numpy's bare "expected non-negative integer" traceback
    with pytest.raises(SystemExit):
        main(["animate", "x.wav", "-o", "x.npz", "--seed", "-1"])
