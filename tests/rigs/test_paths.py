"""rigs.paths: part_path (the one way a hidden temporary name is made from an output's name) and atomic_output."""

from __future__ import annotations

import os

import numpy as np
import pytest

from facecraft.rigs.paths import (
    atomic_output,
    fit_stem,
    name_max,
    part_path,
    write_bytes_atomic,
    write_text_atomic,
)


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


def _hidden(folder):
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


def test_atomic_output_replaces_the_target_when_the_block_ends(tmp_path):
    out = tmp_path / "clip.json"
    out.write_text("old")
    with atomic_output(out, "partial", pid=False) as part:
        assert part == part_path(out, "partial", pid=False) and part.suffix == ".json"
        part.write_text("new")
        assert out.read_text() == "old"  # nothing under the output's name until the block ends
    assert out.read_text() == "new" and _hidden(tmp_path) == []


@pytest.mark.parametrize("error", [ValueError, KeyboardInterrupt])
def test_a_failed_write_leaves_the_old_target_and_no_part_file(tmp_path, error):
    out = tmp_path / "clip.json"
    out.write_text("old")
    with pytest.raises(error), atomic_output(out) as part:
        part.write_text("half")
        raise error("stopped")
    assert out.read_text() == "old" and _hidden(tmp_path) == []
    new = tmp_path / "new.json"
    with pytest.raises(ValueError), atomic_output(new):
        raise ValueError("before writing anything")  # no part file made: nothing to remove, no second error
    assert not new.exists() and _hidden(tmp_path) == []


def test_an_error_names_the_users_output_not_the_hidden_part_file(tmp_path):
    out = tmp_path / "gone" / "e.png"  # a folder that cannot hold it (as /proc/e.png: "No such file ...")
    with pytest.raises(FileNotFoundError) as caught, atomic_output(out, pid=False) as part:
        part.write_bytes(b"png")
    assert caught.value.filename == str(out) and ".part" not in str(caught.value)
    taken = tmp_path / "taken.png"  # the rename fails: a folder (not empty) holds the output's name
    (taken / "inside").mkdir(parents=True)
    with pytest.raises(OSError) as caught, atomic_output(taken) as part:
        part.write_bytes(b"png")
    assert caught.value.filename == str(taken) and caught.value.filename2 is None
    assert ".part" not in str(caught.value) and _hidden(tmp_path) == []
    with pytest.raises(OSError) as caught, atomic_output(tmp_path / "x.png"):
        open(tmp_path / "gone" / "other.txt")  # an error about another file keeps its name
    assert caught.value.filename == str(tmp_path / "gone" / "other.txt")


@pytest.mark.parametrize("stem", ["t" * 246, "語" * 82])
def test_atomic_output_of_a_name_near_the_limit(tmp_path, stem):
    out = tmp_path / f"{stem}.csv"
    assert write_text_atomic(out, "a,b\r\n", "partial") == out  # the part name was cut to fit
    assert out.read_bytes() == b"a,b\r\n" and _hidden(tmp_path) == []  # newlines kept byte for byte
    write_bytes_atomic(out, "é".encode(), pid=False)
    assert out.read_text(encoding="utf-8") == "é" and _hidden(tmp_path) == []


def test_writers_that_pick_the_format_or_add_the_suffix_write_the_part_file(tmp_path):
    """numpy.save/savez add ".npy"/".npz" to a name without it; PIL and soundfile pick the format by the suffix:
    the part file keeps the output's suffix, so each writes the part file itself and the rename finds it."""
    import soundfile as sf
    from PIL import Image

    arrays = tmp_path / ("c" * 250 + ".npz")
    with atomic_output(arrays, "tmp") as part:
        np.savez(part, x=np.arange(3))
    with np.load(arrays) as z:
        assert z["x"].tolist() == [0, 1, 2]
    features = tmp_path / "f.npy"
    with atomic_output(features, "tmp") as part:
        np.save(part, np.ones(2))
    assert np.load(features).tolist() == [1.0, 1.0]
    image = tmp_path / "face.png"
    with atomic_output(image) as part:
        Image.fromarray(np.zeros((4, 4), np.uint8)).save(part)
    assert Image.open(image).format == "PNG"
    sound = tmp_path / "line.wav"
    with atomic_output(sound, "partial", pid=False) as part:
        sf.write(part, np.zeros(160, np.float32), 16000)
    assert sf.info(str(sound)).format == "WAV"
    assert _hidden(tmp_path) == []


def test_a_suffix_other_than_the_outputs(tmp_path):
    out = tmp_path / "take"  # no suffix: the writer is told the format by the part file's
    with atomic_output(out, suffix=".npy") as part:
        np.save(part, np.zeros(1))
    assert np.load(out).tolist() == [0.0] and _hidden(tmp_path) == []


def test_a_long_stem_is_cut_to_fit_with_a_hash_and_a_short_one_is_kept():
    assert fit_stem("clip", 251) == "clip"
    a, b = fit_stem("é" * 200 + "a", 251), fit_stem("é" * 200 + "b", 251)  # 401 bytes, two bytes a letter
    assert a != b and all(len(s.encode()) <= 251 and s.startswith("é" * 100) and "~" in s for s in (a, b))
    assert a.encode().decode() == a  # cut at a letter, never inside one
    with pytest.raises(ValueError, match="needs at least 13 bytes"):
        fit_stem("x" * 20, 5)
