"""Small builders shared by the audio2face model tests: fake corpus items and tiny models (no TTS needed)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from facecraft.audio2face.model import A2FConfig, A2FModel

PHONE_PATTERN = [("SIL", 0.2), ("B", 0.08), ("AA", 0.2), ("M", 0.1), ("IY", 0.15), ("P", 0.08), ("OW", 0.2)]


def fake_speech(seed: int, *, repeats: int = 2) -> tuple[np.ndarray, list]:
    """Audio (16 kHz) whose loud parts are the vowels and quiet parts the closures, with matching phones."""
    from facecraft.audio2face.phonetics import Phone

    rng = np.random.default_rng(seed)
    chunks, phones, t = [], [], 0.0
    for _ in range(repeats):
        for name, dur in PHONE_PATTERN:
            n = int(dur * 16000)
            if name in ("AA", "IY", "OW"):
                f0 = rng.uniform(110, 220)
                x = 0.3 * np.sin(2 * np.pi * f0 * np.arange(n) / 16000) + 0.01 * rng.standard_normal(n)
            else:
                x = 0.002 * rng.standard_normal(n)
            chunks.append(x.astype(np.float32))
            phones.append(Phone(round(t, 3), round(t + dur, 3), name))
            t += dur
    return np.concatenate(chunks), phones


def fake_corpus(folder: Path, *, n_items: int = 4, voice: str = "espeak:en-us+f2:160:50") -> Path:
    """A corpus folder of ``n_items`` training items (sentence indices 0, 1, 2, 3, ... not held out)."""
    from facecraft.audio2face.corpus import write_item, write_manifest

    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n_items):
        y, phones = fake_speech(i)
        write_item(
            folder / f"s{i:04d}_fake_clean.npz", audio=y, phones=phones, text="fake", sentence_index=i, voice=voice
        )
    write_manifest(folder)
    return folder


def fake_facegood_dir(folder: Path, weights: dict[str, np.ndarray]) -> list[str]:
    """A FACEGOOD takes folder: ``<take>.wav`` (2 s of fake speech) and ``bs_value_<take>.npy`` per entry of
    ``weights`` (``(T, len(names))`` arrays, or a callable of the names giving one), with the names file listing
    every channel the mapping reads. Returns the names (column order)."""
    import soundfile as sf

    from facecraft.audio2face import facegood

    folder.mkdir(parents=True, exist_ok=True)
    names = [n for terms in facegood.SOURCES.values() for t in terms for n in t.split("+")]
    (folder / facegood.NAMES_FILE).write_text("\n".join(names))
    y, _ = fake_speech(0)
    for take, w in weights.items():
        sf.write(folder / f"{take}.wav", y[:32000], 16000)
        np.save(folder / f"bs_value_{take}.npy", w(names) if callable(w) else w)
    return names


def tiny_model(**kw) -> A2FModel:
    torch.manual_seed(0)
    cfg = dict(hidden=16, emotion_hidden=8, dilations=(1, 2), decoder_layers=1, dropout=0.0)
    cfg.update(kw)
    return A2FModel(A2FConfig(**cfg)).eval()
