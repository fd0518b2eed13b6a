"""audio2face.transcripts: the one reader of a speech folder's transcripts.csv."""

from __future__ import annotations

import pytest

from facecraft.audio2face.transcripts import read_transcripts
from facecraft.rigs.errors import FileFormatError


def test_reads_file_to_text(tmp_path):
    (tmp_path / "transcripts.csv").write_text('file,text\na.wav,"hello, world"\nb.wav,bye\n', encoding="utf-8")
    assert read_transcripts(tmp_path) == {"a.wav": "hello, world", "b.wav": "bye"}


def test_a_folder_without_a_table_has_no_transcripts(tmp_path):
    assert read_transcripts(tmp_path) == {}


def test_missing_column_names_the_table(tmp_path):
    (tmp_path / "transcripts.csv").write_text("name,words\na.wav,hi\n", encoding="utf-8")
    with pytest.raises(FileFormatError, match="transcripts.csv.*file, text"):
        read_transcripts(tmp_path)
