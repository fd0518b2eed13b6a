"""Transcript tables of speech folders: ``transcripts.csv`` beside the clips, columns ``file`` and ``text``
(and optionally ``speaker``, which the real-speech corpus uses to hold speakers out)."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from facecraft.rigs.errors import FileFormatError

TRANSCRIPTS_FILE = "transcripts.csv"


@dataclass(frozen=True)
class TranscriptRow:
    """One clip of a transcript table: its file name, its text and its speaker (``""`` when not given)."""

    file: str
    text: str
    speaker: str = ""


def read_transcript_table(folder: str | Path) -> list[TranscriptRow]:
    """The rows of ``folder/transcripts.csv`` in file order; empty when the folder has no table.

    Raises
    ------
    FileFormatError
        When the table lacks the ``file`` or ``text`` column.
    """
    table = Path(folder) / TRANSCRIPTS_FILE
    if not table.is_file():
        return []
    with table.open(newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        missing = {"file", "text"} - set(reader.fieldnames or ())
        if missing:
            raise FileFormatError(f"{table}: missing column(s) {', '.join(sorted(missing))}; expected file,text")
        return [TranscriptRow(row["file"], row["text"], (row.get("speaker") or "").strip()) for row in reader]


def read_transcripts(folder: str | Path) -> dict[str, str]:
    """Clip file name -> its text, from ``folder/transcripts.csv``; empty when the folder has no table."""
    return {row.file: row.text for row in read_transcript_table(folder)}
