"""A folder's run settings: a rerun with the same passes, with others stops unless told to redo everything."""

from __future__ import annotations

import pytest

from facecraft.rigs.errors import ParameterError
from facecraft.rigs.run_settings import check_run_settings, save_run_settings


def test_a_rerun_with_other_settings_stops_unless_overwritten(tmp_path):
    path = tmp_path / "out" / ".settings.json"
    check_run_settings(path, {"emotion": "anger"}, overwrite=False, made="edits")  # nothing recorded yet
    save_run_settings(path, {"emotion": "anger", "fps": 30})
    check_run_settings(path, {"emotion": "anger", "fps": 30}, overwrite=False, made="edits")
    with pytest.raises(ParameterError, match=r"out holds edits made with other settings \(emotion 'anger'\)"):
        check_run_settings(path, {"emotion": "joy", "fps": 30}, overwrite=False, made="edits")
    check_run_settings(path, {"emotion": "joy", "fps": 30}, overwrite=True, made="edits")
    path.write_text("{broken")
    with pytest.raises(ParameterError, match="unreadable .settings.json"):
        check_run_settings(path, {"emotion": "joy"}, overwrite=False, made="edits")
