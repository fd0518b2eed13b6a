"""Real colour photos for FER training and evaluation: person-level splits and photo-domain augmentation.

FER2013 crops are 48 px web thumbnails; a classifier trained on them alone misses most smiles in studio
portraits. Photos with known expressions (the Face Research Lab London Set in ``../shared/data/faces-frll``:
72 people, one neutral and one smiling photo each) close that gap when they are used honestly:

- splits are by person (:func:`split_people`), so no held-out figure comes from a face seen in training;
- every photo goes through the one face preprocessing (:func:`~facecraft.eval.faces.preprocess_face`),
  after a photo-level augmentation (:func:`augment_photo`: colour, gamma, blur, down-scaling, JPEG, noise)
  that makes one studio photo look like many cameras; geometric jitter (alignment) is added later to the
  aligned crops by the training loop (:func:`~facecraft.eval.train.augment_batch`).

The set is read from ``people.csv`` (``path,identity,expression,...``); rows whose expression is not an
emotion name (``smiling`` counts as happiness) are ignored.
"""

from __future__ import annotations

import csv
import logging
import os
import re
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from tqdm.auto import tqdm

from facecraft.rigs import ARKIT_INDEX, EMOTION_INDEX, EMOTIONS, normalize_emotion
from facecraft.rigs.errors import FacecraftError, FileFormatError, MissingFileError, ParameterError

from .datasets import FERDataset
from .faces import preprocess_face
from .images import load_image

logger = logging.getLogger(__name__)

#: Expression words of photo sets that are not emotion names.
_EXPRESSION_ALIASES = {"smiling": "happiness", "smile": "happiness"}
#: How :func:`photo_dataset` names a crop: the photo's path, ``#``, the copy number.
_CROP_NAME = re.compile(r"#\d+$")


@dataclass(frozen=True)
class LabelledPhoto:
    """One photo with its expression (index into EMOTIONS) and the person it shows."""

    path: Path
    label: int
    person: str


def read_labelled_photos(root: str | os.PathLike) -> list[LabelledPhoto]:
    """Photos of a set with a ``people.csv`` (``path,identity,expression``), expression-labelled rows only.

    Parameters
    ----------
    root : path-like
        Folder holding ``people.csv`` and the images (paths in the CSV are relative to it).
    """
    root = Path(root)
    table = root / "people.csv"
    if not table.is_file():
        raise MissingFileError(f"photo set {root}: people.csv not found (expected columns path,identity,expression)")
    with table.open(newline="") as f:
        rows = list(csv.DictReader(f))
    if not rows or not {"path", "identity", "expression"} <= set(rows[0]):
        raise FileFormatError(
            f"{table}: expected columns path,identity,expression, got {list(rows[0]) if rows else []}"
        )
    out = []
    for r in rows:
        word = r["expression"].strip().lower()
        try:
            label = EMOTION_INDEX[normalize_emotion(_EXPRESSION_ALIASES.get(word, word))]
        except ParameterError:
            continue  # unlabelled or not an emotion
        out.append(LabelledPhoto(root / r["path"], label, r["identity"].strip()))
    if not out:
        raise FileFormatError(f"{table}: no row has an emotion as its expression")
    return out


def split_people(photos: list[LabelledPhoto], *, holdout_every: int = 2) -> tuple[list, list]:
    """Split by person: of the people sorted by identity, every ``holdout_every``-th (2nd, 4th, ...) is held out.

    Returns ``(train, held_out)`` lists of photos; no person is in both. ``holdout_every=0`` holds none out.
    """
    if holdout_every < 0 or holdout_every == 1:
        raise ParameterError(f"holdout_every: expected 0 (none) or at least 2, got {holdout_every}")
    people = sorted({p.person for p in photos})
    held = {q for i, q in enumerate(people) if holdout_every and i % holdout_every == holdout_every - 1}
    return [p for p in photos if p.person not in held], [p for p in photos if p.person in held]


def augment_photo(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A random camera-like variant of an RGB uint8 photo ``(H, W, 3)``: same size, same face position.

    Per-channel gain and saturation (colour casts, white balance), gamma, Gaussian blur, down-scaling and
    back (a face of 40-250 px), JPEG at quality 30-95 and sensor noise, each drawn at random.
    """
    img = image.astype(np.float32) / 255.0
    h, w = img.shape[:2]
    img = img * rng.uniform(0.8, 1.2, size=3)[None, None] * rng.uniform(0.7, 1.2)
    grey = img.mean(axis=2, keepdims=True)
    img = grey + (img - grey) * rng.uniform(0.3, 1.4)
    img = np.clip(img, 0.0, 1.0) ** rng.uniform(0.7, 1.4)
    out = (img * 255.0).astype(np.uint8)
    if rng.random() < 0.5:
        out = cv2.GaussianBlur(out, (0, 0), float(rng.uniform(0.5, 2.5)) * max(h, w) / 512)
    if rng.random() < 0.6:
        s = rng.uniform(0.15, 0.7)
        small = cv2.resize(out, (max(16, round(w * s)), max(16, round(h * s))), interpolation=cv2.INTER_AREA)
        out = cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)
    if rng.random() < 0.5:
        ok, buf = cv2.imencode(".jpg", out[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, int(rng.integers(30, 96))])
        if ok:
            out = cv2.imdecode(buf, cv2.IMREAD_COLOR)[..., ::-1]
    if rng.random() < 0.3:
        out = np.clip(out + rng.normal(0.0, rng.uniform(2, 8), out.shape), 0, 255).astype(np.uint8)
    return np.ascontiguousarray(out)


def camera_crops(image: np.ndarray, *, size: int, copies: int, rng: np.random.Generator, name: str) -> list[np.ndarray]:
    """Grey ``size`` px crops ``(size, size)`` uint8 of one RGB photo: the plain crop, then ``copies - 1`` crops of
    :func:`augment_photo` variants (a variant in which the detector loses the face gives the plain crop again).

    Raises what :func:`preprocess_face` raises (naming ``name``) when the plain photo has no face.
    """
    plain = preprocess_face(image, size=size, grey=True, detect=True, name=name)
    out = [plain]
    for _ in range(copies - 1):
        try:
            out.append(preprocess_face(augment_photo(image, rng), size=size, grey=True, detect=True))
        except FacecraftError:
            out.append(plain)
    return out


def photo_dataset(
    photos: list[LabelledPhoto],
    *,
    size: int,
    copies: int = 1,
    seed: int = 0,
    split: str | None = None,
    weight: float | None = None,
) -> FERDataset:
    """Grey crops of labelled photos through :func:`preprocess_face`: the photo itself, then ``copies - 1``
    augmented variants (:func:`augment_photo`).

    A variant in which the detector loses the face is replaced by the plain crop; a photo with no face at all
    is skipped and logged. ``split`` names the split of every crop (``None``: no split); ``weight`` is the
    loss weight of every crop in training (:attr:`FERDataset.weights`; ``None``: 1).
    """
    if copies < 1:
        raise ParameterError(f"copies: expected at least 1, got {copies}")
    rng = np.random.default_rng(seed)
    images, labels, names, skipped = [], [], [], []
    for p in tqdm(photos, desc="photo crops", unit="photo", leave=False):
        try:
            crops = camera_crops(load_image(p.path), size=size, copies=copies, rng=rng, name=str(p.path))
        except (FacecraftError, OSError) as e:
            logger.warning("skipping %s: %s", p.path, e)
            skipped.append(f"{p.path}: {e}")
            continue
        images.extend(crops)
        labels.extend([p.label] * len(crops))
        names.extend(f"{p.path}#{c}" for c in range(len(crops)))  # the form _CROP_NAME recognises
    return crop_dataset(images, labels, names, skipped, size=size, split=split, weight=weight)


def crop_dataset(
    images: list[np.ndarray],
    labels,
    names: list[str],
    skipped: list[str],
    *,
    size: int,
    split: str | None,
    weight: float | None,
) -> FERDataset:
    """Training crops ``(size, size)`` uint8 as a :class:`FERDataset`, every one in ``split`` (``None``: no split)
    at loss ``weight`` (``None``: 1); an empty list gives an empty set of that size."""
    n = len(names)
    return FERDataset(
        np.stack(images) if images else np.zeros((0, size, size), np.uint8),
        np.asarray(labels, np.int64).reshape(n),
        list(names),
        None if split is None else np.asarray([split] * n, dtype=object),
        list(skipped),
        weights=None if weight is None else np.full(n, weight, np.float32),
    )


def photo_recall(probs: np.ndarray, photos: list[LabelledPhoto]) -> dict:
    """Recall per labelled class and the misses of predictions ``(N, 8)`` on ``photos`` (same order).

    Returns ``{"n", "people", "recall": {emotion: r}, "predicted": {emotion: {predicted: count}},
    "missed": [path, ...]}``.
    """
    probs = np.asarray(probs)
    if probs.shape != (len(photos), len(EMOTIONS)):
        raise ParameterError(f"probs: expected shape ({len(photos)}, 8), got {probs.shape}")
    pred = probs.argmax(axis=1)
    labels = np.array([p.label for p in photos])
    recall, predicted = {}, {}
    for c in sorted(set(labels.tolist())):
        mask = labels == c
        recall[EMOTIONS[c]] = round(float(np.mean(pred[mask] == c)), 4)
        counts = np.bincount(pred[mask], minlength=len(EMOTIONS))
        predicted[EMOTIONS[c]] = {EMOTIONS[k]: int(v) for k, v in enumerate(counts) if v}
    missed = [str(p.path) for p, y in zip(photos, pred, strict=True) if y != p.label]
    return {
        "n": len(photos),
        "people": len({p.person for p in photos}),
        "recall": recall,
        "predicted": predicted,
        "missed": missed,
    }


def is_photo_crop(paths) -> np.ndarray:
    """Bool ``(N,)``: which entries of a data set's ``paths`` are crops made by :func:`photo_dataset`.

    Its crops are named ``<photo path>#<copy>``; images read from a data set folder or CSV never carry a ``#``
    followed by digits at the end of their name.
    """
    return np.array([_CROP_NAME.search(str(p)) is not None for p in paths], dtype=bool)


def pseudo_labelled_photos(
    folder: str | os.PathLike,
    *,
    size: int,
    judges: tuple[str, ...] = ("mini-xception", "networkv2"),
    min_confidence: float = 0.0,
    smile: tuple[float, float] | None = None,
    weight: float | None = None,
    split: str | None = "train",
    limit: int | None = None,
) -> FERDataset:
    """Unlabelled face photos with the pretrained judges' shared opinion as soft targets (pseudo-labels).

    Widens the photo domain of training beyond a few studio portraits: each photo of ``folder`` (its
    ``faces.csv`` ``path`` column when there is one, else every image file under it) is detected and aligned
    once, as :func:`~facecraft.eval.faces.preprocess_face` does, and each judge scores its own crop size and the
    mirror image. A photo is kept when every judge's most likely class is the same and the judges' mean
    probability of it reaches ``min_confidence``; its target is the judges' mean distribution. The judges are
    the ported mini-Xception and NetworkV2 by default: fixed, shipped weights, so the pseudo-labels do not
    depend on an earlier facecraft model. Don't give them photos from FER2013 you evaluate on (mini-Xception
    was trained on FER2013).

    The judges see 48-64 px grey crops and read most closed-mouth smiles as neutral; the face landmarker sees
    the whole photo. With ``smile=(lo, hi)``, its smile score (the mean of the ``mouthSmileLeft/Right``
    blendshapes) overrules them: a face scoring at least ``hi`` is happiness (a one-hot target) whatever the
    judges say; a face the judges call neutral that scores at least ``lo``, or happy that scores below ``lo``,
    is left out.

    Parameters
    ----------
    folder : path-like
        A folder of face photos.
    size : int
        Side of the grey crops returned (the classifier's input).
    judges : tuple of str
        :func:`~facecraft.eval.judges.get_judge` names.
    min_confidence : float
        In [0, 1]: the judges' mean probability of the agreed class must reach it.
    smile : (float, float), optional
        ``(lo, hi)`` smile scores in [0, 1], ``lo <= hi``; ``None``: the judges alone decide.
    weight : float, optional
        Loss weight of every kept crop (:attr:`FERDataset.weights`; ``None``: 1).
    split : str, optional
        Split name of every kept crop.
    limit : int, optional
        Use only the first ``limit`` photos.

    Returns
    -------
    FERDataset
        uint8 crops ``(N, size, size)``, labels = the agreed class, targets ``(N, 8)``; crops are named
        ``<photo path>#0`` (:func:`is_photo_crop` is true for them), photos without a face are in ``skipped``.
    """
    from .faces import align_face, default_analyzer
    from .images import list_image_files
    from .judges import get_judge

    if not 0.0 <= min_confidence <= 1.0:
        raise ParameterError(f"min_confidence: expected a value in [0, 1], got {min_confidence}")
    if not judges:
        raise ParameterError("judges: expected at least one judge name, got none")
    if smile is not None and not (len(smile) == 2 and 0.0 <= smile[0] <= smile[1] <= 1.0):
        raise ParameterError(f"smile: expected (lo, hi) with 0 <= lo <= hi <= 1, got {smile!r}")
    root = Path(folder)
    table = root / "faces.csv"
    if table.is_file():
        with table.open(newline="") as f:
            rows = list(csv.DictReader(f))
        if not rows or "path" not in rows[0]:
            raise FileFormatError(f"{table}: expected a path column, got {list(rows[0]) if rows else []}")
        files = [root / r["path"] for r in rows]
    else:
        files = list_image_files(root, recursive=True)
    files = files[:limit] if limit is not None else files
    models = [get_judge(name) for name in judges]
    sizes = sorted({size, *(j.input_size for j in models)})
    analyzer = default_analyzer()
    crops: dict[int, list[np.ndarray]] = {s: [] for s in sizes}
    names, skipped, smiles = [], [], []
    smile_cols = [ARKIT_INDEX["mouthSmileLeft"], ARKIT_INDEX["mouthSmileRight"]]
    for path in tqdm(files, desc="pseudo-labelling photos", unit="photo", leave=False):
        try:
            img = load_image(path)
            face = analyzer.largest_face(img, name=str(path))
        except (FacecraftError, OSError) as e:
            skipped.append(f"{path}: {e}")
            continue
        for s in sizes:
            crops[s].append(align_face(img, face.landmarks, size=s, grey=True))
        names.append(f"{path}#0")
        smiles.append(float(np.mean(face.blendshapes[smile_cols])))
    if skipped:
        logger.info("pseudo-labels: %d of %d photos without a usable face skipped", len(skipped), len(files))
    if not names:
        return FERDataset(np.zeros((0, size, size), np.uint8), np.zeros(0, np.int64), [], skipped=skipped)
    stacks = {s: np.stack(c) for s, c in crops.items()}
    probs = []
    for j in models:
        grey = stacks[j.input_size]
        mirror = np.ascontiguousarray(grey[:, :, ::-1])
        probs.append(0.5 * (j.predict_proba(grey, detect=False) + j.predict_proba(mirror, detect=False)))
    mean = np.mean(probs, axis=0)
    label = mean.argmax(axis=1)
    keep = np.all([p.argmax(axis=1) == label for p in probs], axis=0) & (mean.max(axis=1) >= min_confidence)
    if smile is not None:
        lo, hi = smile
        score = np.asarray(smiles)
        happy, neutral = EMOTIONS.index("happiness"), EMOTIONS.index("neutral")
        smiling = score >= hi
        keep &= ~((label == neutral) & (score >= lo)) & ~((label == happy) & (score < lo))
        keep |= smiling
        mean[smiling] = np.eye(len(EMOTIONS))[happy]
        label = mean.argmax(axis=1)
    idx = np.flatnonzero(keep)
    targets = (mean[idx] / mean[idx].sum(axis=1, keepdims=True)).astype(np.float32)
    logger.info(
        "pseudo-labels: %d of %d faces kept, per class %s",
        len(idx),
        len(names),
        dict(zip(EMOTIONS, np.bincount(label[idx], minlength=len(EMOTIONS)).tolist(), strict=True)),
    )
    return FERDataset(
        stacks[size][idx],
        label[idx].astype(np.int64),
        [names[i] for i in idx],
        None if split is None else np.asarray([split] * len(idx), dtype=object),
        skipped,
        targets=targets,
        weights=None if weight is None else np.full(len(idx), weight, np.float32),
    )
