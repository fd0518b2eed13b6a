"""Real recordings as training items: people's speech, with the procedural teacher's curves as the target.

The synthetic corpus (:mod:`facecraft.audio2face.corpus`) teaches the model TTS voices only, and real speech
is quieter in its articulation than TTS (the learned model opens the lips less on audiobook reading than on
TTS). Here a folder of real recordings with their transcripts becomes items of the same kind: the text is
force-aligned with pocketsphinx, and the teacher draws the curves for the 8 emotions from the timed phones
and the recording's loudness, exactly as for a synthetic clip. The items can sit in the synthetic corpus's
folder, so one training run mixes both.

Source layout: any folder tree whose folders hold clips and a ``transcripts.csv`` (``file,text[,speaker]``,
:mod:`facecraft.audio2face.transcripts`); a clip without a speaker is its folder's. Speakers named as held
out become the ``eval`` split (clean items only), the rest ``train``: a model is scored on people it never
heard. Building is resumable, shows a progress bar, and a clip that fails (unreadable, too short or long, a
transcript that does not align) is reported and skipped.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from facecraft.rigs import EMOTIONS
from facecraft.rigs.errors import MissingFileError, ParameterError
from facecraft.rigs.paths import DEFAULT_NAME_MAX, fit_stem

from .audio import SAMPLE_RATE, load_audio
from .corpus import AUGMENTATIONS, Augmentation, align, phones_from_arrays, write_item, write_manifest
from .transcripts import TRANSCRIPTS_FILE, read_transcript_table

log = logging.getLogger(__name__)

#: Corpus items of real speech carry ``voice = REAL_VOICE_PREFIX + speaker``.
REAL_VOICE_PREFIX = "real:"
#: Clips outside this length (seconds) are skipped: shorter ones hold a word or two, and pocketsphinx's
#: forced alignment of longer ones drifts.
MIN_SECONDS, MAX_SECONDS = 1.0, 20.0


@dataclass(frozen=True)
class Recording:
    """One real clip: its file, its transcript and its speaker."""

    path: Path
    text: str
    speaker: str


def find_recordings(source: str | Path) -> list[Recording]:
    """Every clip listed in a ``transcripts.csv`` under ``source`` (sorted by path).

    Raises
    ------
    MissingFileError
        When ``source`` is not a folder or holds no transcript table.
    """
    root = Path(source)
    if not root.is_dir():
        raise MissingFileError(f"real speech folder not found: {root}")
    tables = sorted(root.rglob(TRANSCRIPTS_FILE))
    if not tables:
        raise MissingFileError(f"{root}: no {TRANSCRIPTS_FILE} (columns file,text[,speaker]) in it or below it")
    out = []
    for table in tables:
        folder = table.parent
        for row in read_transcript_table(folder):
            out.append(Recording(folder / row.file, row.text, row.speaker or folder.name))
    return sorted(out, key=lambda r: str(r.path))


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9-]+", "-", name).strip("-") or "x"


def real_item_id(recording: Recording, augmentation: str) -> str:
    """File stem of a recording's item: speaker, clip and augmentation (unique within a source tree); one that would
    pass the file system's name limit with ``.npz`` is cut to fit with a hash of the whole (:func:`fit_stem`)."""
    stem = f"real_{_safe(recording.speaker)}_{_safe(recording.path.stem)}_{augmentation}"
    return fit_stem(stem, DEFAULT_NAME_MAX - len(".npz"))


def build_real_corpus(
    source: str | Path,
    out_dir: str | Path,
    *,
    held_out_speakers: Sequence[str] = (),
    augmentations: Sequence[Augmentation] = AUGMENTATIONS,
    augmentations_per_clip: int = 2,
    fps: float = 30.0,
    emotions: Sequence[str] = EMOTIONS,
    progress: bool = True,
) -> dict:
    """Build (or resume) items of the real clips under ``source`` in ``out_dir``; returns counts
    ``{"built", "skipped_existing", "failed", "failures", "speakers", "held_out"}``.

    Each clip gets its clean item and ``augmentations_per_clip - 1`` augmented ones (drawn per clip from a
    hash of its path inside ``source``, so a rebuild anywhere draws the same); held-out speakers get the clean
    item only.
    """
    from tqdm.auto import tqdm

    source = Path(source)
    recordings = find_recordings(source)
    speakers = sorted({r.speaker for r in recordings})
    unknown = sorted(set(held_out_speakers) - set(speakers))
    if unknown:
        raise ParameterError(
            f"held-out speaker(s) {', '.join(unknown)} not in {source} (its speakers: {', '.join(speakers)})"
        )
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    stats: dict = {"built": 0, "skipped_existing": 0, "failed": 0, "failures": [], "speakers": speakers,
                   "held_out": sorted(held_out_speakers)}  # fmt: skip
    for rec in tqdm(recordings, desc="a2f real corpus", disable=not progress, unit="clip"):
        held = rec.speaker in held_out_speakers
        augs = [augmentations[0]]
        if not held and augmentations_per_clip > 1:
            seed = int(hashlib.sha1(rec.path.relative_to(source).as_posix().encode()).hexdigest()[:8], 16)
            extra = np.random.default_rng(seed).permutation(len(augmentations) - 1)[: augmentations_per_clip - 1] + 1
            augs += [augmentations[i] for i in extra]
        paths = {a.name: out / f"{real_item_id(rec, a.name)}.npz" for a in augs}
        todo = [a for a in augs if not paths[a.name].exists()]
        stats["skipped_existing"] += len(augs) - len(todo)
        if not todo:
            continue
        try:
            y, _ = load_audio(rec.path, sr=SAMPLE_RATE)
            seconds = len(y) / SAMPLE_RATE
            if not MIN_SECONDS <= seconds <= MAX_SECONDS:
                raise ParameterError(f"{seconds:.1f} s long; real clips must last {MIN_SECONDS:g}-{MAX_SECONDS:g} s")
            phones = align(y, rec.text)
        except Exception as e:  # noqa: BLE001 - one bad clip is reported, the rest are built
            log.warning("real clip %s skipped: %s", rec.path, e)
            stats["failed"] += len(todo)
            stats["failures"].append(f"{rec.path}: {type(e).__name__}: {e}")
            continue
        times = np.array([[p.start, p.end] for p in phones], np.float32)
        names = np.array([str(p.phone) for p in phones])
        for aug in todo:
            iid = real_item_id(rec, aug.name)
            y_aug = aug.apply(y, seed=int(hashlib.sha1(iid.encode()).hexdigest()[:8], 16))
            write_item(
                paths[aug.name], audio=y_aug, phones=phones_from_arrays(times / aug.tempo, names), text=rec.text,
                sentence_index=-1, voice=REAL_VOICE_PREFIX + rec.speaker, augmentation=aug.name, fps=fps,
                emotions=emotions, split="eval" if held else "train",
            )  # fmt: skip
            stats["built"] += 1
    write_manifest(out)
    return stats
