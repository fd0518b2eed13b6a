"""Shared fixtures: espeak-ng speech, the real speech clips, a synthetic speech wav and a saved tiny model."""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
import soundfile as sf

from .a2f_helpers import fake_speech, tiny_model

SPEECH_TEXT = "Bob bought a map. Papa ate a big plum at noon."


@dataclass(frozen=True)
class SpeechClip:
    """A synthesised clip: ``path`` (wav, espeak-ng's 22.05 kHz) and the ``text`` it says."""

    path: Path
    text: str


@pytest.fixture(scope="session")
def espeak_speech(tmp_path_factory) -> SpeechClip:
    """English speech by espeak-ng (skips when the binary is missing: ``apt-get install espeak-ng``)."""
    exe = shutil.which("espeak-ng")
    if exe is None:
        pytest.skip("espeak-ng not installed (apt-get install espeak-ng)")
    path = tmp_path_factory.mktemp("espeak") / "speech.wav"
    proc = subprocess.run([exe, "-v", "en-us", "-s", "150", "-w", str(path), SPEECH_TEXT], capture_output=True)
    if proc.returncode != 0 or not path.exists():
        pytest.skip(f"espeak-ng failed: {proc.stderr.decode(errors='replace')[:200]}")
    return SpeechClip(path, SPEECH_TEXT)


@pytest.fixture(scope="session")
def speech_clips(shared_dir) -> list[tuple[Path, str]]:
    """The real speech clips of ``../shared/data/speech`` with their transcripts (skips when absent)."""
    import csv

    folder = shared_dir / "data" / "speech"
    table = folder / "transcripts.csv"
    if not table.exists():
        pytest.skip(f"{table} not present")
    with table.open(newline="") as f:
        return [(folder / row["file"], row["text"]) for row in csv.DictReader(f)]


@pytest.fixture(scope="session")
def fake_wav(tmp_path_factory) -> Path:
    """A few seconds of synthetic speech-like audio (no TTS needed), as a 16 kHz wav."""
    y, _ = fake_speech(0)
    p = tmp_path_factory.mktemp("audio") / "speech.wav"
    sf.write(p, y, 16000)
    return p


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory) -> Path:
    """A small untrained A2FModel saved with ``save_pretrained`` (ARKit head only)."""
    d = tmp_path_factory.mktemp("model")
    tiny_model().save_pretrained(d)
    return d
