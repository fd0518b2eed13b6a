"""Real-speech corpus items: layout, speaker hold-out, augmentations, resume, bad clips, the CLI."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import numpy as np
import pytest

from facecraft.audio2face import corpus_real as cr
from facecraft.audio2face.corpus import list_items, load_item
from facecraft.audio2face.transcripts import read_transcript_table, read_transcripts
from facecraft.rigs import ARKIT_INDEX, EMOTIONS
from facecraft.rigs.errors import MissingFileError, ParameterError


def _source(tmp_path, speech_clips, rows) -> Path:
    """A source folder with ``rows`` = (clip index in ``speech_clips``, file name, speaker or "")."""
    src = tmp_path / "src" / "reading"
    src.mkdir(parents=True)
    with (src / "transcripts.csv").open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["file", "text", "speaker"])
        for i, name, speaker in rows:
            wav, text = speech_clips[i]
            shutil.copy(wav, src / name)
            w.writerow([name, text, speaker])
    return src.parent


def test_transcript_table_speakers(tmp_path):
    (tmp_path / "transcripts.csv").write_text("file,text,speaker\na.wav,hello there,ann\nb.wav,good bye,\n")
    rows = read_transcript_table(tmp_path)
    assert [(r.file, r.speaker) for r in rows] == [("a.wav", "ann"), ("b.wav", "")]
    assert read_transcripts(tmp_path) == {"a.wav": "hello there", "b.wav": "good bye"}
    (tmp_path / "transcripts.csv").write_text("file,words\na.wav,hi\n")
    with pytest.raises(Exception, match="missing column"):
        read_transcript_table(tmp_path)


def test_build_holds_speakers_out_and_resumes(tmp_path, speech_clips):
    src = _source(tmp_path, speech_clips, [(0, "one.wav", "ann"), (1, "two.wav", "bob")])
    out = tmp_path / "corpus"
    stats = cr.build_real_corpus(src, out, held_out_speakers=["bob"], augmentations_per_clip=2, progress=False)
    assert stats["built"] == 3 and stats["failed"] == 0 and stats["speakers"] == ["ann", "bob"]
    train, held = list_items(out, "train"), list_items(out, "eval")
    assert len(train) == 2 and len(held) == 1  # ann: clean + one augmentation; bob (held out): clean only
    assert {p.stem.rsplit("_", 1)[-1] for p in train} - {"clean"}, "the second item is augmented"
    item = load_item(held[0])
    assert item.voice == cr.REAL_VOICE_PREFIX + "bob" and item.split == "eval"
    assert item.teacher.shape[0] == len(EMOTIONS) and item.teacher.shape[2] == 52
    assert item.text == speech_clips[1][1]
    # the teacher follows the aligned speech: the jaw opens somewhere, and not everywhere
    jaw = item.teacher[EMOTIONS.index("neutral"), :, ARKIT_INDEX["jawOpen"]]
    assert jaw.max() > 0.1 and np.mean(jaw < 0.05) > 0.05
    again = cr.build_real_corpus(src, out, held_out_speakers=["bob"], augmentations_per_clip=2, progress=False)
    assert again["built"] == 0 and again["skipped_existing"] == 3


def test_bad_clips_are_reported_and_skipped(tmp_path, speech_clips):
    src = _source(tmp_path, speech_clips, [(0, "good.wav", "")])
    folder = src / "reading"
    (folder / "broken.wav").write_bytes(b"not audio at all")
    with (folder / "transcripts.csv").open("a", newline="") as f:
        csv.writer(f).writerows([["broken.wav", "some words", ""], ["absent.wav", "more words", ""]])
    stats = cr.build_real_corpus(src, tmp_path / "c", augmentations_per_clip=1, progress=False)
    assert stats["built"] == 1 and stats["failed"] == 2
    assert any("broken.wav" in f for f in stats["failures"]) and any("absent.wav" in f for f in stats["failures"])
    # a clip without a speaker column value belongs to its folder's speaker
    assert load_item(list_items(tmp_path / "c", "train")[0]).voice == cr.REAL_VOICE_PREFIX + "reading"


def test_bad_sources(tmp_path, speech_clips):
    with pytest.raises(MissingFileError, match="not found"):
        cr.find_recordings(tmp_path / "nowhere")
    (tmp_path / "empty").mkdir()
    with pytest.raises(MissingFileError, match="transcripts.csv"):
        cr.find_recordings(tmp_path / "empty")
    src = _source(tmp_path, speech_clips, [(0, "one.wav", "ann")])
    with pytest.raises(ParameterError, match="zed"):
        cr.build_real_corpus(src, tmp_path / "c", held_out_speakers=["zed"], progress=False)


def test_cli_builds_real_items(tmp_path, speech_clips, capsys):
    from facecraft.apps.cli import main

    src = _source(tmp_path, speech_clips, [(2, "x.wav", "cy")])
    out = tmp_path / "c"
    assert main(["a2f", "corpus", "--real", str(src), "--out", str(out), "--augmentations-per-clip", "1"]) == 0
    assert len(list_items(out, "train")) == 1
    assert main(["a2f", "corpus", "--out", str(out), "--held-out-speakers", "cy"]) == 1
    assert "--held-out-speakers needs --real" in capsys.readouterr().err


def test_augmentations_drawn_do_not_depend_on_where_the_source_lies(tmp_path, speech_clips):
    src = _source(tmp_path / "here", speech_clips, [(i, f"c{i}.wav", "ann") for i in range(4)])
    moved = tmp_path / "elsewhere" / "deeper"
    shutil.copytree(src, moved)
    names = []
    for i, folder in enumerate((src, moved)):
        cr.build_real_corpus(folder, tmp_path / f"c{i}", augmentations_per_clip=2, progress=False)
        names.append(sorted(p.name for p in (tmp_path / f"c{i}").glob("*.npz")))
    assert names[0] == names[1] and len(names[0]) == 8


def test_item_names_of_long_clip_names_fit_a_file_name(tmp_path):
    # a clip named near the limit gave "real_{speaker}_{clip}_{augmentation}.npz" past 255 bytes
    recs = [cr.Recording(Path(f"{'x' * 240}{k}.wav"), "hello", "speaker") for k in "ab"]
    names = {cr.real_item_id(r, "clean") for r in recs}
    assert len(names) == 2 and all(len(f"{n}.npz".encode()) <= 255 for n in names)
    for n in names:
        (tmp_path / f"{n}.npz").write_bytes(b"")
    assert cr.real_item_id(cr.Recording(Path("a.wav"), "hi", "s1"), "noise") == "real_s1_a_noise"  # as before
