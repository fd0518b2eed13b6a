"""rigs.paths.part_path: the one way a hidden temporary name is made from an output's name."""

from __future__ import annotations

import os

import pytest

from facecraft.rigs.paths import name_max, part_path


def test_part_files_of_long_names_fit_and_stay_apart(tmp_path):
    a, b = tmp_path / ("x" * 245 + "a.mp4"), tmp_path / ("x" * 245 + "b.mp4")
    parts = {part_path(p, tag) for p in (a, b) for tag in ("part", "video")}
    assert len(parts) == 4 and all(len(p.name.encode()) <= 255 and p.parent == tmp_path for p in parts)
    short = tmp_path / "clip.mp4"
    assert part_path(short, "part").name == f".clip.part-{os.getpid()}.mp4"  # short names keep their readable form
    assert part_path(short, "partial", pid=False).name == ".clip.partial.mp4"
    assert part_path(short, "video", suffix=".wav").name == f".clip.video-{os.getpid()}.wav"


@pytest.mark.parametrize("stem", ["t" * 246, "é" * 123, "語" * 82])  # 250 bytes with ".csv" (2 and 3 bytes a letter)
@pytest.mark.parametrize("pid", [True, False])
def test_a_part_file_of_a_name_near_the_limit_can_be_written(tmp_path, stem, pid):
    out = tmp_path / f"{stem}.csv"
    assert len(out.name.encode()) <= 250 and name_max(tmp_path) == 255
    part = part_path(out, "partial", pid=pid)
    part.write_text("x")  # was OSError: File name too long
    assert part.parent == tmp_path and part.name.startswith(".") and part.suffix == ".csv"
    assert part.name.encode().decode("utf-8")  # cut at a letter, never inside one
    assert part_path(out, "partial", pid=pid) == part  # a later call (a rerun's clean-up) finds the same name


def test_the_folder_need_not_exist_yet(tmp_path):
    out = tmp_path / "not" / "yet" / ("n" * 250)
    assert len(part_path(out, "part").name.encode()) <= 255
