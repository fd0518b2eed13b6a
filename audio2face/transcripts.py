"""Transcript tables of speech folders: ``transcripts.csv`` beside the clips, columns ``file`` and ``text``."""

from __future__ import annotations

import csv
from pathlib import Path

from facecraft.rigs.errors import FileFormatError

TRANSCRIPTS_FILE = "transcripts.csv"


def read_transcripts(folder: str | Path) -> dict[str, str]:
    """Clip file name -> its text, from ``folder/transcripts.csv``; empty when the folder has no table.

    Raises
    ------
    FileFormatError
        When the table lacks the ``file`` or ``text`` column.
    """
    table = Path(folder) / TRANSCRIPTS_FILE
    if not table.is_file():
        return {}
    with table.open(newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        missing = {"file", "text"} - set(reader.fieldnames or ())
        if missing:
            raise FileFormatError(f"{table}: missing column(s) {', '.join(sorted(missing))}; expected file,text")
        return {row["file"]: row["text"] for row in reader}
