"""Training data of the face base and the AU adapter: aligned face crops with AU conditions.

Each sample is a face crop aligned by the project's one alignment (:func:`facecraft.eval.faces.align_face`,
eyes level at fixed places, :data:`CROP_MARGIN` around the face square) and the condition it shows
(:func:`facecraft.synth.adapter.au_condition` of the AUs read from MediaPipe's blendshape scores through the
one AU <-> ARKit map). Two kinds:

* **photos** as they are (FRLL's London set, neutral and smiling studio portraits; CC BY 4.0). FRLL's Canada
  set is an evaluation set of ``bench edit`` and is never read here;
* **editor pairs**: each photo edited by the geometric editor toward random targets (an emotion at a random
  intensity, or one to three AU sliders), labelled with what MediaPipe *measures* on the edit, so the
  labels follow the same reading as the controllability benchmark.

People listed in :func:`held_out_people` never enter training (neither photo nor edits): the benchmark
samples from them. They sit at odd positions of the sorted London ids, so neither the editor's calibration
nor the shipped FER judge (both fitted on the even positions) has seen them either. UTKFace (``faces-utk``)
carries a non-commercial research licence: it is only read when asked (``sources=("frll", "utk")``), and data
sets holding it say so in their ``licence`` field, which the trainer copies into every model card.
"""

from __future__ import annotations

import csv
import logging
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from facecraft.rigs import EMOTIONS, ParameterError
from facecraft.rigs.assets import shared_data_dir
from facecraft.rigs.errors import FacecraftError, FileFormatError, MissingFileError
from facecraft.rigs.facs import AU_TO_ARKIT, NUM_AU, NUM_SIDED_AU, arkit_to_au

logger = logging.getLogger(__name__)

#: Border around the aligned face square, as a fraction of it (chin and brows stay inside the crop).
CROP_MARGIN = 0.2
#: AUs the random editor targets use: the ones the editor moves and MediaPipe reads.
EDIT_AUS = ("AU1", "AU2", "AU4", "AU5", "AU6", "AU9", "AU12", "AU15", "AU20", "AU25", "AU26")
#: Every sixth London person (by sorted id, from the second on: odd positions only) is held out for evaluation.
HELD_OUT_EVERY = 6
#: FRLL folders the adapter may train on (the London set); ``canada/`` is kept for evaluation.
FRLL_TRAIN_FOLDERS = ("neutral", "smiling")
LICENCES = {
    "frll": "CC BY 4.0 (Face Research Lab London Set, DeBruine & Jones 2017)",
    "utk": "UTKFace: non-commercial research only",
}


@dataclass
class FaceSamples:
    """Aligned crops and their conditions.

    Attributes
    ----------
    images : np.ndarray
        ``(N, R, R, 3)`` uint8.
    cond : np.ndarray
        ``(N, 107)`` float32 conditions (:func:`~facecraft.synth.adapter.au_condition`).
    person : np.ndarray
        ``(N,)`` str: who (``frll:001``, ``utk:...``).
    kind : np.ndarray
        ``(N,)`` str: ``photo`` or ``edit``.
    licence : str
        Licences of the sources, ``; ``-joined.
    """

    images: np.ndarray
    cond: np.ndarray
    person: np.ndarray
    kind: np.ndarray
    licence: str

    def __len__(self) -> int:
        return len(self.images)

    def save(self, path) -> Path:
        """Write the crops as ``.npz`` (the ending is added when ``path`` lacks it, as numpy does); returns the
        path written."""
        p = Path(path)
        p = p if p.suffix.lower() == ".npz" else p.with_name(p.name + ".npz")
        p.parent.mkdir(parents=True, exist_ok=True)
        np.savez_compressed(
            p, images=self.images, cond=self.cond, person=self.person, kind=self.kind, licence=self.licence
        )
        return p

    def sources(self) -> np.ndarray:
        """``(N,)`` int: for each crop, the row of the photo it was edited from (a photo's own row for a photo).

        :func:`build_face_samples` writes each photo followed by its edits, crops aligned with the *photo's*
        landmarks, so an edit and its source photo are pixel-aligned pairs (the paired "shift" objective of
        :func:`facecraft.synth.adapter_train.train_adapter` uses them).

        Raises
        ------
        FileFormatError
            When an edit comes before any photo or its person differs from its source photo's.
        """
        out = np.empty(len(self), np.int64)
        last = -1
        for i, (kind, person) in enumerate(zip(self.kind.tolist(), self.person.tolist(), strict=True)):
            if kind == "photo":
                last = i
            elif last < 0 or self.person[last] != person:
                raise FileFormatError(
                    f"face samples: edit row {i} ({person}) does not follow a photo of the same person; "
                    "expected each photo followed by its edits (as build_face_samples writes them)"
                )
            out[i] = last
        return out

    def rest_photos(self) -> np.ndarray:
        """``(N,)`` bool: rows derived from their person's *rest* photo (the photo whose AU condition sums lowest,
        FRLL's neutral one) - the photo itself and its edits.

        Why: conditions are absolute, so the edits of a smiling photo pair a high AU12 with no change of the
        mouth; a paired objective trained on them learns to smile less when asked to smile."""
        src = self.sources()
        total = self.cond[:, :NUM_SIDED_AU].sum(axis=1)
        rest: dict[str, int] = {}
        for i in np.flatnonzero(self.kind == "photo"):
            p = str(self.person[i])
            if p not in rest or total[i] < total[rest[p]]:
                rest[p] = int(i)
        return np.array([src[i] == rest.get(str(p), -1) for i, p in enumerate(self.person.tolist())])

    def resized(self, size: int) -> FaceSamples:
        """The same samples with crops resampled to ``size`` px (area filter; the alignment is unchanged)."""
        import cv2

        if isinstance(size, bool) or not isinstance(size, int) or size < 8:
            raise ParameterError(f"size: expected an integer crop side >= 8 px, got {size!r}")
        images = np.stack([cv2.resize(im, (size, size), interpolation=cv2.INTER_AREA) for im in self.images])
        return FaceSamples(images, self.cond, self.person, self.kind, self.licence)

    @classmethod
    def load(cls, path) -> FaceSamples:
        p = Path(path)
        if not p.is_file():
            raise MissingFileError(f"face data set {p}: not found; build it with synth.adapter_data.build_face_samples")
        with np.load(p, allow_pickle=False) as z:
            return cls(z["images"], z["cond"], z["person"], z["kind"], str(z["licence"]))


def held_out_people(data: Path | None = None) -> list[str]:
    """FRLL London ids kept out of training: every :data:`HELD_OUT_EVERY`-th by sorted id, starting at the
    second, so all sit at odd positions (the editor calibration and the FER judge use the even ones)."""
    ids = sorted({row["identity"] for row in _frll_rows(data) if row["path"].startswith("neutral/")})
    return ids[1::HELD_OUT_EVERY]


def frll_photos(data: Path | None = None, *, split: str = "train") -> list[tuple[str, str]]:
    """``(file, person)`` of the FRLL London photos (neutral and smiling) of the training people
    (``split="train"``) or of :func:`held_out_people` (``"held_out"``); never the Canada set."""
    held = set(held_out_people(data))
    london = [r for r in _frll_rows(data) if r["path"].split("/")[0] in FRLL_TRAIN_FOLDERS]
    rows = [r for r in london if (r["identity"] in held) == (split == "held_out")]
    return [(r["file"], f"frll:{r['identity']}") for r in rows]


def _frll_rows(data: Path | None) -> list[dict]:
    folder = (data or shared_data_dir() / "data") / "faces-frll"
    table = folder / "people.csv"
    if not table.is_file():
        raise MissingFileError(f"FRLL face set: {table} not found (shared data folder faces-frll)")
    with table.open(newline="") as f:
        return [{**row, "file": str(folder / row["path"])} for row in csv.DictReader(f)]


def au_from_scores(scores: np.ndarray) -> np.ndarray:
    """Sided AU intensities ``(..., 50)`` a face shows, from MediaPipe's ARKit scores ``(..., 52)``."""
    return arkit_to_au(np.clip(np.asarray(scores, np.float32), 0.0, 1.0))


def au_response(scores: np.ndarray, au: str) -> np.ndarray:
    """How strongly MediaPipe's scores ``(..., 52)`` show one AU (both sides): the mean of the scores of the
    ARKit channels the AU drives, weighted as the AU -> ARKit map weights them.

    A direct read of the map's columns (no solve), so each AU's response depends only on its own channels."""
    from facecraft.rigs.facs import AU_INDEX

    i = AU_INDEX[au]
    cols = AU_TO_ARKIT[:, [i, NUM_AU + i]].sum(axis=1)
    if cols.sum() <= 0:
        raise ParameterError(f"{au}: drives no ARKit channel")
    return np.asarray(scores, np.float32) @ cols / cols.sum()


def random_edit(rng: np.random.Generator):
    """Random editor controls: an emotion at a random intensity (half the time) or 1-3 AU sliders."""
    from .controls import EditControls

    if rng.random() < 0.5:
        emotion = str(rng.choice([e for e in EMOTIONS if e != "neutral"]))
        return EditControls.from_args(emotion=f"{emotion}:{rng.uniform(0.3, 1.0):.2f}")
    names = rng.choice(EDIT_AUS, size=int(rng.integers(1, 4)), replace=False)
    return EditControls.from_args(au={str(n): float(rng.uniform(0.2, 1.0)) for n in names})


def _samples_of_photo(editor, path: str, person: str, *, resolution: int, edits: int, rng) -> list[tuple]:
    """``(crop, au, person, kind)`` for a photo and its random edits (edits analysed again by MediaPipe)."""
    from facecraft.eval.faces import align_face
    from facecraft.eval.images import load_image

    image = load_image(path)
    faces = editor.analyze(image, name=path)
    face = faces[0]
    landmarks = face.info.landmarks
    out = [(align_face(image, landmarks, size=resolution, margin=CROP_MARGIN), face.weights, person, "photo")]
    for _ in range(edits):
        result = editor.apply(image, faces, random_edit(rng), face=0, name=path)
        try:
            measured = editor.analyzer.largest_face(result.image, name=f"{path} [edit]")
        except FacecraftError as e:
            logger.info("edit of %s not re-detected: %s", path, e)
            continue
        crop = align_face(result.image, landmarks, size=resolution, margin=CROP_MARGIN)
        out.append((crop, np.clip(measured.blendshapes, 0, 1).astype(np.float32), person, "edit"))
    return out


def build_face_samples(
    *,
    resolution: int = 64,
    edits_per_photo: int = 6,
    sources: tuple[str, ...] = ("frll",),
    data_dir: Path | None = None,
    max_photos: int | None = None,
    utk_photos: int = 1000,
    split: str = "train",
    seed: int = 0,
) -> FaceSamples:
    """Aligned crops + conditions of the training photos and their random edits (held-out people excluded).

    Parameters
    ----------
    resolution : int
        Crop side in pixels.
    edits_per_photo : int
        Random geometric edits per photo (each re-measured by MediaPipe).
    sources : tuple of str
        ``"frll"`` (CC BY) and/or ``"utk"`` (research licence: the result must not be shipped).
    data_dir : Path, optional
        The shared ``data`` folder (default ``shared_data_dir() / "data"``).
    max_photos : int, optional
        Use at most this many photos per source (quick runs).
    utk_photos : int
        UTKFace crops read when ``"utk"`` is a source.
    split : str
        ``"train"`` (everyone but the held-out people) or ``"held_out"`` (only FRLL's held-out people).
    seed : int
        Seed of the edit targets.
    """
    from .adapter import au_condition
    from .editor import FaceEditor

    unknown = set(sources) - set(LICENCES)
    if unknown or not sources:
        raise ParameterError(f"sources: expected some of {sorted(LICENCES)}, got {sources!r}")
    if split not in ("train", "held_out"):
        raise ParameterError(f"split: expected 'train' or 'held_out', got {split!r}")
    for name, value, least in (("resolution", resolution, 16), ("edits_per_photo", edits_per_photo, 0),
                               ("max_photos", 1 if max_photos is None else max_photos, 1)):  # fmt: skip
        if not (isinstance(value, (int, np.integer)) and value >= least):
            raise ParameterError(f"{name}: expected a whole number >= {least}, got {value!r}")
    data = data_dir or shared_data_dir() / "data"
    rng = np.random.default_rng(seed)
    jobs: list[tuple[str, str]] = []
    if "frll" in sources:
        jobs += frll_photos(data, split=split)[:max_photos]
    if "utk" in sources and split == "train":
        folder = data / "faces-utk"
        files = sorted(p for p in folder.rglob("*") if p.suffix.lower() in (".jpg", ".jpeg", ".png"))
        if not files:
            raise MissingFileError(f"UTKFace crops: no images under {folder}")
        jobs += [(str(p), f"utk:{p.stem}") for p in files[: min(utk_photos, max_photos or utk_photos)]]
    rows_out: list[tuple] = []
    t0 = time.perf_counter()
    from tqdm.auto import tqdm

    with FaceEditor() as editor:
        for path, person in tqdm(jobs, desc="face samples", unit="photo"):
            try:
                rows_out += _samples_of_photo(
                    editor, path, person, resolution=resolution, edits=edits_per_photo, rng=rng
                )
            except FacecraftError as e:
                logger.info("skipped %s: %s", path, e)
    if not rows_out:
        raise MissingFileError("face data set: no usable photo found")
    scores = np.stack([r[1] for r in rows_out])
    cond = au_condition(au_from_scores(scores))
    logger.info("face samples: %d from %d photos in %.0f s", len(rows_out), len(jobs), time.perf_counter() - t0)
    return FaceSamples(
        images=np.stack([r[0] for r in rows_out]),
        cond=cond,
        person=np.array([r[2] for r in rows_out]),
        kind=np.array([r[3] for r in rows_out]),
        licence="; ".join(LICENCES[s] for s in sources),
    )


__all__ = [
    "CROP_MARGIN",
    "EDIT_AUS",
    "FaceSamples",
    "au_from_scores",
    "au_response",
    "build_face_samples",
    "frll_photos",
    "held_out_people",
    "random_edit",
]
