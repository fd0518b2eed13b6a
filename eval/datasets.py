"""FER data sets in the layouts people have them, read into one in-memory form with reproducible train/val/test splits.

Layouts: an ImageFolder (one sub-folder per class, or one such tree per split: ``train/``, ``test/``; folders named
by class number with a ``label_order``), a CSV of ``path,label[,split]``, the FER2013 CSV (``emotion,pixels,Usage``),
FER+'s ``fer2013new.csv`` beside it or its own ``FER2013Train/`` folders, RAF-DB's basic set
(``EmoLabel/list_patition_label.txt``), sets labelled in their file names (JAFFE's ``KA.AN1.39.tiff``, KDEF's and
AKDEF's ``AF01ANS.JPG``) and CK+ (``cohn-kanade-images/`` with its ``Emotion/`` labels). Labels are normalised to
:data:`facecraft.rigs.EMOTIONS` (``happy`` -> ``happiness``); every image goes through
:func:`facecraft.eval.faces.preprocess_face` (grey, square, resized), the same function the models use at
inference. Unreadable images are logged and skipped, so a long run never stops on one bad file; the skipped paths
are kept in :attr:`FERDataset.skipped`.
"""

from __future__ import annotations

import contextlib
import csv
import logging
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from facecraft.rigs import EMOTION_INDEX, EMOTIONS, normalize_emotion
from facecraft.rigs.errors import FacecraftError, FileFormatError, MissingFileError, ParameterError

from .faces import NO_FACE_FOUND, preprocess_face
from .images import EmptyFolderError, list_image_files

logger = logging.getLogger(__name__)

SPLITS: tuple[str, ...] = ("train", "val", "test")
#: FER2013's integer labels, in its order.
FER2013_LABELS: tuple[str, ...] = ("anger", "disgust", "fear", "happiness", "sadness", "surprise", "neutral")
#: RAF-DB's basic labels 1-7, in its order (``EmoLabel/list_patition_label.txt``, Kaggle's ``train/1`` ... ``7``).
RAF_DB_LABELS: tuple[str, ...] = ("surprise", "fear", "disgust", "happiness", "sadness", "anger", "neutral")
#: AffectNet's expression numbers 0-7 (its 7-class copies leave out 7, contempt).
AFFECTNET_LABELS: tuple[str, ...] = (
    "neutral", "happiness", "sadness", "surprise", "fear", "disgust", "anger", "contempt",
)  # fmt: skip
#: Column order of FER+'s ``ferplus_votes`` (10 crowd votes per image; ``unknown`` and ``NF`` = not a face).
FERPLUS_VOTE_ORDER: tuple[str, ...] = (
    "neutral", "happiness", "surprise", "sadness", "anger", "disgust", "fear", "contempt", "unknown", "NF",
)  # fmt: skip
#: What class numbers mean in each data set (``label_order``): its emotions in number order and its first number.
#: Numbers alone never say which set they come from (0-6 is FER2013's order and AffectNet-7's, 0-7 AffectNet's and
#: FER+'s), so they are read only with the order named.
LABEL_ORDERS: dict[str, tuple[tuple[str, ...], int]] = {
    "fer2013": (FER2013_LABELS, 0), "raf-db": (RAF_DB_LABELS, 1), "affectnet": (AFFECTNET_LABELS, 0),
    "ferplus": (FERPLUS_VOTE_ORDER[:8], 0),
}  # fmt: skip
#: RAF-DB's label list, below the set's folder.
RAF_DB_LIST = Path("EmoLabel") / "list_patition_label.txt"
_FER2013_USAGE = {"training": "train", "publictest": "val", "privatetest": "test"}
#: JAFFE's expression codes, the middle of its file names (``KA.AN1.39.tiff``: poser ``KA``, expression ``AN`` take 1,
#: image number 39).
JAFFE_CODES: dict[str, str] = {
    "AN": "anger", "DI": "disgust", "FE": "fear", "HA": "happiness", "NE": "neutral", "SA": "sadness", "SU": "surprise",
}  # fmt: skip
#: KDEF's and AKDEF's expression codes (``AF01ANS.JPG``: session A, female 01, angry, straight; AKDEF's averaged faces
#: ``FANS.JPG``); ``AF`` is afraid.
KDEF_CODES: dict[str, str] = {"AF": "fear", **{k: v for k, v in JAFFE_CODES.items() if k != "FE"}}
#: KDEF's camera angles: straight, half left/right profile (45 degrees), full left/right profile (90 degrees).
KDEF_ANGLES: tuple[str, ...] = ("S", "HL", "HR", "FL", "FR")
#: KDEF angles left out (and counted in the log): a full profile shows one eye and no frontal face, which the face
#: search, the judges (trained on frontal faces) and the editor (a frontal rig fit) all need. Straight and half
#: profiles are read.
KDEF_LEFT_OUT_ANGLES: tuple[str, ...] = ("FL", "FR")
#: CK+'s emotion codes 0-7 (``Emotion/S005/001/S005_001_00000011_emotion.txt`` holds one, e.g. ``3.0000000e+00``).
CK_PLUS_LABELS: tuple[str, ...] = (
    "neutral", "anger", "contempt", "disgust", "fear", "happiness", "sadness", "surprise",
)  # fmt: skip
#: CK+'s folders: the image sequences and their emotion labels (one per labelled sequence, for its last frame).
CK_PLUS_IMAGES, CK_PLUS_EMOTION = "cohn-kanade-images", "Emotion"


@dataclass
class FERDataset:
    """Grey face crops with labels in :data:`~facecraft.rigs.EMOTIONS` order.

    Attributes
    ----------
    images : uint8 (N, S, S)
        Grey crops.
    labels : int64 (N,)
        Index into :data:`~facecraft.rigs.EMOTIONS`.
    paths : list of str
        Where each image came from (relative to the data root when read from a folder or CSV).
    splits : array of str (N,), optional
        ``"train"``, ``"val"`` or ``"test"`` per image, when a split is known.
    skipped : list of str
        Images that could not be read, with the reason.
    targets : float32 (N, 8), optional
        Soft targets (a distribution over EMOTIONS per image, rows sum to 1), e.g. FER+ crowd votes
        (:func:`attach_votes`); ``None`` when only the hard labels are known.
    weights : float32 (N,), optional
        Loss weight per image on top of the class weights (e.g. to let a few real photos count more
        than their number); ``None`` means 1 everywhere.
    split_origin : str, optional
        Where :func:`load_dataset` took the split from (the set's own, or one it made); ``None`` otherwise.
    split_made : bool
        True when :func:`load_dataset` made the whole split over the images it read (the set has none of its own): a
        read that drops other images (no face found) gives another split. A split of the set's own is by path.
    persons : list of str, optional
        The person each image shows, where the layout says (JAFFE's poser, KDEF's sex and number, CK+'s subject):
        a split :func:`load_dataset` makes keeps each person in one part (:func:`person_split`). ``None`` otherwise.
    """

    images: np.ndarray
    labels: np.ndarray
    paths: list[str]
    splits: np.ndarray | None = None
    skipped: list[str] = field(default_factory=list)
    targets: np.ndarray | None = None
    weights: np.ndarray | None = None
    split_origin: str | None = None
    persons: list[str] | None = None
    split_made: bool = False

    def __post_init__(self) -> None:
        n = len(self.labels)
        if self.images.ndim != 3 or self.images.shape[0] != n or len(self.paths) != n:
            raise ParameterError(
                f"FERDataset: images (N, S, S), labels (N,), paths (N,) must agree; got {self.images.shape}, "
                f"{self.labels.shape}, {len(self.paths)}"
            )
        if self.splits is not None and len(self.splits) != n:
            raise ParameterError(f"FERDataset: splits must have {n} entries, got {len(self.splits)}")
        if self.targets is not None and np.shape(self.targets) != (n, len(EMOTIONS)):
            raise ParameterError(f"FERDataset: targets must have shape ({n}, 8), got {np.shape(self.targets)}")
        if self.weights is not None and np.shape(self.weights) != (n,):
            raise ParameterError(f"FERDataset: weights must have shape ({n},), got {np.shape(self.weights)}")
        if self.persons is not None and len(self.persons) != n:
            raise ParameterError(f"FERDataset: persons must have {n} entries, got {len(self.persons)}")

    def __len__(self) -> int:
        return len(self.labels)

    @property
    def class_counts(self) -> np.ndarray:
        """Images per class ``(8,)`` in EMOTIONS order."""
        return np.bincount(self.labels, minlength=len(EMOTIONS))

    def subset(self, split: str) -> FERDataset:
        """The images of one split (``train``/``val``/``test``)."""
        if self.splits is None:
            raise ParameterError("this data set has no split; call with_split(...) or give a split CSV first")
        if split not in SPLITS:
            raise ParameterError(f"split: expected one of {SPLITS}, got {split!r}")
        keep = np.flatnonzero(self.splits == split)
        return self.take(keep)

    def take(self, index) -> FERDataset:
        """The images at ``index`` (int array)."""
        index = np.asarray(index, dtype=np.int64)
        return FERDataset(
            self.images[index],
            self.labels[index],
            [self.paths[i] for i in index],
            None if self.splits is None else self.splits[index],
            targets=None if self.targets is None else self.targets[index],
            weights=None if self.weights is None else self.weights[index],
            persons=None if self.persons is None else [self.persons[i] for i in index],
        )

    def with_split(self, splits) -> FERDataset:
        """Same images with the given per-image split names."""
        s = np.asarray(splits, dtype=object)
        bad = sorted(set(s.tolist()) - set(SPLITS))
        if bad:
            raise ParameterError(f"splits: expected only {SPLITS}, got {bad}")
        return FERDataset(
            self.images, self.labels, self.paths, s, self.skipped, self.targets, self.weights, persons=self.persons
        )

    def sample_weights(self) -> np.ndarray:
        """Float32 ``(N,)``: :attr:`weights`, or ones."""
        return np.ones(len(self), np.float32) if self.weights is None else self.weights.astype(np.float32)

    def soft_targets(self, *, smoothing: float = 0.0) -> np.ndarray:
        """Float32 ``(N, 8)``: :attr:`targets` when known, else one-hot labels; mixed with ``smoothing`` of uniform."""
        t = self.targets if self.targets is not None else np.eye(len(EMOTIONS), dtype=np.float32)[self.labels]
        return ((1.0 - smoothing) * t + smoothing / len(EMOTIONS)).astype(np.float32)

    def summary(self) -> dict:
        """Counts per class (and per split) as a JSON-ready dict."""
        out: dict = {"total": len(self), "classes": dict(zip(EMOTIONS, self.class_counts.tolist(), strict=True))}
        if self.splits is not None:
            for s in SPLITS:
                out[s] = int(np.sum(self.splits == s))
        if self.skipped:
            out["skipped"] = len(self.skipped)
        return out


def concat_datasets(parts: list[FERDataset]) -> FERDataset:
    """One data set from several with crops of the same size; soft targets kept (one-hot where a part has none)."""
    parts = [p for p in parts if len(p)]
    if not parts:
        raise ParameterError("concat_datasets: expected at least one non-empty data set")
    sizes = {p.images.shape[1:] for p in parts}
    if len(sizes) != 1:
        raise ParameterError(f"concat_datasets: crops must share one size, got {sorted(sizes)}")
    has_split = all(p.splits is not None for p in parts)
    has_targets = any(p.targets is not None for p in parts)
    has_weights = any(p.weights is not None for p in parts)
    has_persons = all(p.persons is not None for p in parts)
    return FERDataset(
        np.concatenate([p.images for p in parts]),
        np.concatenate([p.labels for p in parts]),
        [q for p in parts for q in p.paths],
        np.concatenate([p.splits for p in parts]) if has_split else None,
        [q for p in parts for q in p.skipped],
        np.concatenate([p.soft_targets() for p in parts]) if has_targets else None,
        np.concatenate([p.sample_weights() for p in parts]) if has_weights else None,
        persons=[q for p in parts for q in p.persons] if has_persons else None,
    )


def votes_to_distribution(votes) -> np.ndarray:
    """FER+ vote counts ``(..., 10)`` in :data:`FERPLUS_VOTE_ORDER` -> distributions ``(..., 8)`` over EMOTIONS.

    As FER+'s "probability" mode: ``unknown``/``NF`` votes dropped, a single stray vote for an emotion
    dropped when others agree (the majority rule's noise filter), the rest normalised. Rows with no
    emotion vote left are all zero.
    """
    v = np.asarray(votes, dtype=np.float64)
    if v.shape[-1] != len(FERPLUS_VOTE_ORDER):
        raise ParameterError(f"votes: expected {len(FERPLUS_VOTE_ORDER)} columns, got shape {v.shape}")
    emo = v[..., :8].copy()
    total = emo.sum(axis=-1, keepdims=True)
    emo[(emo == 1) & (total > 1)] = 0.0  # one vote against the crowd: noise
    order = [EMOTION_INDEX[name] for name in FERPLUS_VOTE_ORDER[:8]]
    out = np.zeros(v.shape[:-1] + (len(EMOTIONS),))
    out[..., order] = emo
    s = out.sum(axis=-1, keepdims=True)
    return np.where(s > 0, out / np.maximum(s, 1e-12), 0.0).astype(np.float32)


def attach_votes(dataset: FERDataset, meta_csv: str | os.PathLike) -> FERDataset:
    """Soft targets from a FER+ ``meta.csv`` (``path,...,ferplus_votes``); images without votes keep one-hot.

    The distribution's most voted class may differ from the majority label in rare ties; the label is kept
    as given (it is what the evaluation scores), the distribution only trains.
    """
    meta_csv = Path(meta_csv)
    header, rows = _read_csv_rows(meta_csv)
    if "path" not in header or "ferplus_votes" not in header:
        raise FileFormatError(f"{meta_csv}: expected columns path,ferplus_votes, got {header}")
    table = {}
    for i, r in enumerate(rows, start=2):
        try:
            table[r["path"]] = [float(x) for x in r["ferplus_votes"].split()]
        except ValueError as e:
            raise FileFormatError(
                f"{meta_csv} line {i}: ferplus_votes must be numbers, got {r['ferplus_votes']!r}"
            ) from e
    targets = dataset.soft_targets()
    found = np.array([p in table for p in dataset.paths])
    if found.any():
        dist = votes_to_distribution(np.array([table[p] for p, f in zip(dataset.paths, found, strict=True) if f]))
        ok = dist.sum(axis=1) > 0
        idx = np.flatnonzero(found)[ok]
        targets[idx] = dist[ok]
    logger.info("soft targets from %s for %d of %d images", meta_csv, int(found.sum()), len(dataset))
    return replace(dataset, targets=targets)


def stratified_split(labels, *, val: float = 0.1, test: float = 0.2, seed: int = 0) -> np.ndarray:
    """Per-class shuffled split into train/val/test, reproducible for a seed.

    Each class gives ``round(n * test)`` images to test and ``round(n * val)`` to val (at least one each
    when the class has three or more images); the rest go to train.

    Returns
    -------
    np.ndarray of str (N,)
    """
    if not (0 <= val < 1 and 0 <= test < 1 and val + test < 1):
        raise ParameterError(f"val and test fractions must be in [0, 1) with a sum below 1, got {val}, {test}")
    labels = np.asarray(labels)
    out = np.full(len(labels), "train", dtype=object)
    rng = np.random.default_rng(seed)
    for c in np.unique(labels):
        idx = np.flatnonzero(labels == c)
        idx = idx[rng.permutation(len(idx))]
        n_test, n_val = int(round(len(idx) * test)), int(round(len(idx) * val))
        if len(idx) >= 3:
            n_test, n_val = max(n_test, 1 if test > 0 else 0), max(n_val, 1 if val > 0 else 0)
        out[idx[:n_test]] = "test"
        out[idx[n_test : n_test + n_val]] = "val"
    return out


def person_split(persons, *, val: float = 0.1, test: float = 0.2, seed: int = 0) -> np.ndarray:
    """Split into train/val/test by person, reproducible for a seed: no person's images are in two parts.

    The people are shuffled with ``seed`` and taken in turn: a person goes to test while the middle of their images
    falls within the first ``test`` share of all images, then to val within the next ``val`` share, else to train
    (at least one person each in test and val when there are three or more). Classes are not balanced per part:
    the sets that give persons (JAFFE, KDEF, CK+) show most people in most expressions.

    Returns
    -------
    np.ndarray of str (N,)

    Raises
    ------
    ParameterError
        Fewer than three people (no three parts can be made).
    """
    if not (0 <= val < 1 and 0 <= test < 1 and val + test < 1):
        raise ParameterError(f"val and test fractions must be in [0, 1) with a sum below 1, got {val}, {test}")
    persons = np.asarray(persons, dtype=object)
    people = sorted(set(persons.tolist()))
    if len(people) < 3:
        raise ParameterError(f"a split by person needs three people or more, got {len(people)}: {people}")
    people = [people[i] for i in np.random.default_rng(seed).permutation(len(people))]
    sizes = [int(np.sum(persons == q)) for q in people]
    starts = np.cumsum([0, *sizes[:-1]])
    middle = (starts + np.asarray(sizes) / 2) / len(persons)
    part = np.where(middle < test, "test", np.where(middle < test + val, "val", "train")).astype(object)
    for name, share, k in (("test", test, 0), ("val", val, 1)):
        if share > 0 and name not in part:  # a first person larger than the share: the k-th person still goes
            part[k] = name
    out = np.empty(len(persons), dtype=object)
    for q, s in zip(people, part, strict=True):
        out[persons == q] = s
    return out


def _read_images(
    items: list[tuple[Path, str, int, str | None]], *, size: int, desc: str, detect: bool | str = "auto"
) -> tuple[np.ndarray, list[int], list[str], list[str | None], list[str]]:
    """Preprocess every (path, name, label, split); failures are logged and skipped."""
    images, labels, names, splits, skipped = [], [], [], [], []
    for path, name, label, split in tqdm(items, desc=desc, unit="img", leave=False):
        try:
            images.append(preprocess_face(path, size=size, grey=True, detect=detect))
        except (FacecraftError, OSError) as e:
            logger.warning("skipping %s: %s", path, e)
            skipped.append(f"{path}: {e}")
            continue
        labels.append(label)
        names.append(name)
        splits.append(split)
    return np.zeros((0, size, size), np.uint8) if not images else np.stack(images), labels, names, splits, skipped


def _skip_reasons(skipped: list[str]) -> str:
    """What the skipped images (``path: reason``) were, with counts: ``1 unreadable, 1 with no face found``."""
    faceless = sum(NO_FACE_FOUND in s for s in skipped)  # faces.FaceAnalyzer.no_face_error's words
    counts = ((len(skipped) - faceless, "unreadable"), (faceless, "with no face found"))
    return ", ".join(f"{n} {what}" for n, what in counts if n)


def _finish(images, labels, names, splits, skipped, source: str) -> FERDataset:
    if not len(labels):
        raise EmptyFolderError(f"{source}: no readable images ({len(skipped)} skipped: {_skip_reasons(skipped)})")
    if skipped:  # a broken file and a photo with no face in it are different problems: each is counted
        logger.warning("%s: skipped %d image(s): %s", source, len(skipped), _skip_reasons(skipped))
    has_split = all(s is not None for s in splits)
    unsplit = [n for n, s in zip(names, splits, strict=True) if s is None]
    if unsplit and len(unsplit) < len(names):  # else a few blank cells would silently re-split every image
        raise FileFormatError(
            f"{source}: {len(unsplit)} of {len(names)} images have no split while the others do, e.g. {unsplit[:3]}; "
            "give every row a split, or none to have a stratified one made"
        )
    return FERDataset(
        images,
        np.asarray(labels, np.int64),
        names,
        np.asarray(splits, dtype=object) if has_split else None,
        skipped,
    )


def _numbers_hint() -> str:
    """What class numbers mean in the data sets :data:`LABEL_ORDERS` knows, for an error about a number."""
    return "; ".join(
        f"{name} {first}-{first + len(order) - 1}: {', '.join(order)}" for name, (order, first) in LABEL_ORDERS.items()
    )


def label_order_of(label_order: str) -> tuple[tuple[str, ...], int]:
    """:data:`LABEL_ORDERS`' entry for ``label_order``; a ParameterError naming the known ones for another."""
    if label_order not in LABEL_ORDERS:
        raise ParameterError(f"label order: expected one of {', '.join(LABEL_ORDERS)}, got {label_order!r}")
    return LABEL_ORDERS[label_order]


def number_label(number: str, label_order: str) -> str:
    """The emotion a class number stands for in the data set ``label_order`` (:data:`LABEL_ORDERS`)."""
    order, first = label_order_of(label_order)
    k = int(number) - first if number.strip().lstrip("-").isdigit() else -1
    if not 0 <= k < len(order):
        raise ParameterError(
            f"class {number!r}: {label_order} numbers its classes {first}-{first + len(order) - 1} ({', '.join(order)})"
        )
    return normalize_emotion(order[k])


def _class_folders(root: Path, *, warn: bool = False, label_order: str | None = None) -> list[tuple[Path, str]]:
    """``(sub-folder, emotion)`` of an ImageFolder's class folders, in name order. Folders named by number are read
    with ``label_order``; without it, a set of only numbered folders is refused (a number does not say which data
    set's order it counts in). Other folders (an unknown name, a number outside the order) are left out, with a
    warning saying why when ``warn``."""
    found, numbered = [], []
    for sub in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        if sub.name.isdigit() and label_order is None:
            numbered.append(sub)
            continue
        try:
            found.append(
                (sub, number_label(sub.name, label_order) if sub.name.isdigit() else normalize_emotion(sub.name))
            )
        except ParameterError as e:
            if warn:
                logger.warning("ignoring folder %s and its images: %s", sub, e)
    if numbered and not found:
        raise FileFormatError(
            f"{root}: class folders named by number ({', '.join(p.name for p in numbered)}); numbers mean different "
            f"emotions in different data sets ({_numbers_hint()}): name the set's order (--label-order "
            f"{'|'.join(LABEL_ORDERS)}) or name the folders by emotion"
        )
    if numbered and warn:
        logger.warning("ignoring numbered folders %s of %s: no --label-order says what the numbers mean",
                       ", ".join(p.name for p in numbered), root)  # fmt: skip
    return found


#: Folder names of a data set kept as one ImageFolder per split (Kaggle's FER2013: ``train/`` and ``test/``, each
#: with ``angry`` ... ``surprise``) -> the split they hold (FER2013's own Usage names included).
SPLIT_FOLDERS = {
    "train": "train", "training": "train", "val": "val", "valid": "val", "validation": "val", "publictest": "val",
    "test": "test", "privatetest": "test",
}  # fmt: skip


def _split_folders(root: Path, *, label_order: str | None = None) -> list[tuple[Path, str]]:
    """``(sub-folder, split)`` of a root whose sub-folders are splits holding class folders (none when the root
    has class folders itself), in name order."""
    if _class_folders(root, label_order=label_order):
        return []
    found = []
    for sub in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        split = SPLIT_FOLDERS.get(sub.name.lower())
        if split is not None and _class_folders(sub, label_order=label_order):
            found.append((sub, split))
    return found


def _has_class_folders(root: Path, label_order: str | None) -> bool:
    """Whether an ImageFolder reading of ``root`` finds class folders (or split folders holding them); folders
    named by number without ``label_order`` count (reading them says what to give)."""
    try:
        return bool(_split_folders(root, label_order=label_order) or _class_folders(root, label_order=label_order))
    except FileFormatError:
        return True


def class_folder_names(source: str | os.PathLike, *, label_order: str | None = None) -> dict[str, str]:
    """Emotion -> the name an ImageFolder data set gives its folder (``happiness`` -> ``happy``; a split-folder set's
    ``train/`` names first), so that what is added to it is written under its own names; ``{}`` for a CSV data set.
    A set that names its folders by number (read with ``label_order``) gets its order's number also for an emotion it
    has no folder of (AffectNet-7's ``0``-``6``: contempt ``7``), so what is added stays numbered."""
    root = Path(source)
    if not root.is_dir():
        return {}
    names: dict[str, str] = {}
    folders = [f for f, _ in sorted(_split_folders(root, label_order=label_order), key=lambda fs: fs[1] == "train")]
    for folder in folders or [root]:  # train last
        names.update({emotion: sub.name for sub, emotion in _class_folders(folder, label_order=label_order)})
    if label_order is not None and any(name.isdigit() for name in names.values()):
        order, first = label_order_of(label_order)
        names = {normalize_emotion(e): str(first + k) for k, e in enumerate(order)} | names
    return names


def load_image_folder(
    root: str | os.PathLike, *, size: int = 48, detect: bool | str = "auto", label_order: str | None = None
) -> FERDataset:
    """ImageFolder layout: ``root/<label>/*.png``; folder names are normalised labels (``happy`` ok). Images in
    folders below a class folder are that class's too, as torchvision's ``ImageFolder`` reads them (they were left
    out without a word); hidden files and folders are not read. A root holding one such tree per split
    (``root/train/<label>/``, ``root/test/<label>/``, ``val``/``validation``: Kaggle's FER2013 folders, see
    :data:`SPLIT_FOLDERS`) gives each image its folder's split.

    Folders named by class number (AffectNet's ``0`` ... ``7``, Kaggle's RAF-DB ``1`` ... ``7``) are read in the
    order of the data set ``label_order`` names (:data:`LABEL_ORDERS`), and refused without one. Folders whose name
    is not an emotion are ignored with a warning; no readable image at all is an error.
    """
    root = Path(root)
    if not root.is_dir():
        raise MissingFileError(f"data folder not found: {root}")
    items = []
    for folder, split in _split_folders(root, label_order=label_order) or [(root, None)]:
        for sub, emotion in _class_folders(folder, warn=True, label_order=label_order):
            label = EMOTION_INDEX[emotion]
            try:
                files = list_image_files(sub, recursive=True)
            except EmptyFolderError:
                logger.warning("class folder %s holds no images", sub)
                continue
            items += [(f, f.relative_to(root).as_posix(), label, split) for f in files]
    if not items:
        raise EmptyFolderError(
            f"data folder {root} holds no images in class sub-folders (expected {root}/<emotion>/*.png, or "
            f"{root}/train/<emotion>/*.png and {root}/test/<emotion>/*.png; emotions: {', '.join(EMOTIONS)}; or "
            f"RAF-DB's {RAF_DB_LIST.as_posix()}; JAFFE's or KDEF's file names, e.g. KA.AN1.39.tiff, AF01ANS.JPG; "
            f"CK+'s {CK_PLUS_IMAGES}/ and {CK_PLUS_EMOTION}/); for another layout (a label list) write a "
            "path,label[,split] CSV with emotion names as labels and give that CSV"
        )
    return _finish(*_read_images(items, size=size, desc=f"reading {root.name}", detect=detect), source=str(root))


def _read_csv_rows(path: Path) -> tuple[list[str], list[dict]]:
    if not path.is_file():
        raise MissingFileError(f"CSV file not found: {path}")
    try:  # utf-8-sig: Excel's "CSV UTF-8" starts with a byte order mark that would stick to the first column name
        with path.open(newline="", encoding="utf-8-sig") as f:
            reader = csv.DictReader(f)
            header = [h.strip().lower() for h in (reader.fieldnames or [])]
            rows = [{k.strip().lower(): (v or "").strip() for k, v in r.items() if k} for r in reader]
    except UnicodeDecodeError as e:
        raise FileFormatError(f"{path}: not a UTF-8 text CSV ({e})") from e
    return header, rows


def load_csv(
    path: str | os.PathLike,
    *,
    root: str | os.PathLike | None = None,
    size: int = 48,
    detect: bool | str = "auto",
    label_order: str | None = None,
) -> FERDataset:
    """A CSV with columns ``path,label[,split]``; paths relative to ``root`` (default: the CSV's folder). Labels are
    emotion names, or class numbers in the order of the data set ``label_order`` names (:data:`LABEL_ORDERS`)."""
    path = Path(path)
    header, rows = _read_csv_rows(path)
    if "path" not in header or "label" not in header:
        hint = ""
        if len(header) == 1 and len(header[0].split()) == 2:  # RAF-DB's list_patition_label.txt: "name label"
            hint = (
                "; this looks like a 'name label' list (RAF-DB's list_patition_label.txt): write a CSV with a "
                "path,label[,split] header, paths to the image files and emotion names as labels"
            )
        raise FileFormatError(f"{path}: expected columns path,label[,split], got {header}{hint}")
    base = Path(root) if root is not None else path.parent
    items = []
    for i, r in enumerate(rows, start=2):
        number = r["label"].lstrip("-").isdigit()
        try:
            name = number_label(r["label"], label_order) if number and label_order else normalize_emotion(r["label"])
            label = EMOTION_INDEX[name]
        except ParameterError as e:
            hint = ""
            if number and not label_order:  # a class number: data sets number their classes differently
                hint = (
                    f"; label numbers mean different emotions in different data sets ({_numbers_hint()}): write the "
                    f"emotion's name, or name the set's order (--label-order {'|'.join(LABEL_ORDERS)})"
                )
            raise FileFormatError(f"{path} line {i}: {e}{hint}") from e
        split = r.get("split") or None
        if split is not None and split not in SPLITS:
            raise FileFormatError(f"{path} line {i}: split must be one of {SPLITS}, got {split!r}")
        items.append((base / r["path"], r["path"], label, split))
    if not items:
        raise EmptyFolderError(f"{path}: the CSV lists no images")
    return _finish(*_read_images(items, size=size, desc=f"reading {path.name}", detect=detect), source=str(path))


def load_fer2013_csv(path: str | os.PathLike, *, size: int = 48) -> FERDataset:
    """The FER2013 layout: ``emotion`` (0-6, FER2013 order), ``pixels`` (48*48 space-separated), ``Usage``.

    ``Training``/``PublicTest``/``PrivateTest`` become train/val/test. Bad rows are skipped and logged.
    """
    path = Path(path)
    header, rows = _read_csv_rows(path)
    if "emotion" not in header or "pixels" not in header:
        raise FileFormatError(f"{path}: expected FER2013 columns emotion,pixels[,Usage], got {header}")

    def read(r: dict) -> tuple[str, str | None, np.ndarray, None]:
        code = int(r["emotion"])
        if not 0 <= code < len(FER2013_LABELS):  # -1 would index neutral
            raise ValueError(f"emotion: expected 0-{len(FER2013_LABELS) - 1} (FER2013's order), got {code}")
        return FER2013_LABELS[code], _fer2013_split(r), _fer2013_crop(r["pixels"], size=size), None

    ds, _, _ = _read_fer_rows(path, rows, read, size=size)
    return ds


def _read_fer_rows(path: Path, rows: list, read_row, *, size: int) -> tuple[FERDataset, list, int]:
    """FER2013-style rows (the pixels in the CSV) as a data set named ``<csv>:<line>``.

    ``read_row(row)`` gives ``(emotion, split, crop, extra)``, or None for a row the layout leaves out; a row it
    raises ValueError/IndexError/FacecraftError for is skipped and logged. Returns the data set, the kept rows'
    extras and the number of rows left out."""
    images, labels, names, splits, skipped, extras, left_out = [], [], [], [], [], [], 0
    for i, r in enumerate(tqdm(rows, desc=f"reading {path.name}", unit="row", leave=False), start=2):
        try:
            got = read_row(r)
        except (ValueError, IndexError, FacecraftError) as e:
            logger.warning("%s line %d skipped: %s", path, i, e)
            skipped.append(f"{path}:{i}: {e}")
            continue
        if got is None:
            left_out += 1
            continue
        emotion, split, crop, extra = got
        images.append(crop)
        labels.append(EMOTION_INDEX[emotion])
        names.append(f"{path.name}:{i}")
        splits.append(split)
        extras.append(extra)
    stack = np.stack(images) if images else np.zeros((0, size, size), np.uint8)
    return _finish(stack, labels, names, splits, skipped, source=str(path)), extras, left_out


def _fer2013_split(row: dict) -> str | None:
    """The split of a FER2013 (or FER+) row's ``Usage``; None without one; ValueError for another value."""
    usage = row.get("usage", "").lower()
    if usage and usage not in _FER2013_USAGE:
        raise ValueError(f"Usage: expected Training, PublicTest or PrivateTest, got {row['usage']!r}")
    return _FER2013_USAGE.get(usage)


def _fer2013_crop(pixels: str, *, size: int) -> np.ndarray:
    """A FER2013 row's ``pixels`` (a square of space-separated 0-255 values) as a preprocessed grey crop."""
    px = np.asarray([int(v) for v in pixels.split()], dtype=np.int64)
    side = int(round(np.sqrt(px.size)))
    if px.size == 0 or side * side != px.size or px.min() < 0 or px.max() > 255:
        raise ValueError(f"pixels: expected a square of values 0-255, got {px.size} values")
    return preprocess_face(px.reshape(side, side).astype(np.uint8), size=size, grey=True, detect=False)


def ferplus_majority(votes) -> str | None:
    """The emotion FER+'s "majority" mode labels an image with, from its 10 votes in :data:`FERPLUS_VOTE_ORDER`:
    single votes dropped as noise, then the most voted class if it holds more than half of the rest; None when
    no class does or the winner is ``unknown``/``NF`` (FER+ leaves those images out)."""
    kept = [v if v > 1 else 0 for v in votes]
    total, top = sum(kept), max(kept)
    if total == 0 or top <= 0.5 * total:
        return None
    k = kept.index(top)
    return normalize_emotion(FERPLUS_VOTE_ORDER[k]) if k < len(EMOTIONS) else None


def is_ferplus_header(header: list[str]) -> bool:
    """Whether a CSV's (lower-cased) header is FER+'s ``fer2013new.csv``: ``Usage,Image name`` and the vote columns."""
    return "image name" in header and all(v.lower() in header for v in FERPLUS_VOTE_ORDER)


def load_ferplus_csv(path: str | os.PathLike, *, size: int = 48) -> FERDataset:
    """FER+'s ``fer2013new.csv`` (``Usage``, ``Image name``, 10 vote columns) with FER2013's ``fer2013.csv`` beside
    it, as FER+ is used: its rows are FER2013's rows in order, and FER2013's file holds the pixels.

    Labels are FER+'s majority labels (:func:`ferplus_majority`), soft targets its votes
    (:func:`votes_to_distribution`), the split its ``Usage``. Rows FER+ gave no image name (not a face) or no
    majority are left out, as FER+'s own training leaves them, and counted in the log; bad rows are skipped.
    """
    path = Path(path)
    header, rows = _read_csv_rows(path)
    if not is_ferplus_header(header):
        raise FileFormatError(f"{path}: expected FER+ columns Usage,Image name,{','.join(FERPLUS_VOTE_ORDER)}")
    pixels_csv = path.parent / "fer2013.csv"
    if not pixels_csv.is_file():
        raise MissingFileError(
            f"{path} holds FER+ labels only; the images are the rows of FER2013's fer2013.csv: put it beside it "
            f"({pixels_csv})"
        )
    pixel_header, pixel_rows = _read_csv_rows(pixels_csv)
    if "pixels" not in pixel_header or len(pixel_rows) != len(rows):
        raise FileFormatError(
            f"{pixels_csv}: expected FER2013's pixels column and one row per row of {path.name} ({len(rows)}), got "
            f"{len(pixel_rows)} rows with columns {pixel_header}"
        )

    def read(pair: tuple[dict, dict]) -> tuple[str, str | None, np.ndarray, list[float]] | None:
        r, px = pair
        votes = [float(r[name.lower()] or 0) for name in FERPLUS_VOTE_ORDER]
        emotion = ferplus_majority(votes)
        if not r["image name"] or emotion is None:
            return None
        return emotion, _fer2013_split(r), _fer2013_crop(px["pixels"], size=size), votes

    ds, votes, left_out = _read_fer_rows(path, list(zip(rows, pixel_rows, strict=True)), read, size=size)
    logger.info("%s: %d rows without an image name or a FER+ majority left out, as FER+ does", path, left_out)
    return replace(ds, targets=votes_to_distribution(np.array(votes)))


#: FER+'s own folders (its ``generate_training_data.py`` output: the PNGs and a ``label.csv`` of votes) -> split.
FERPLUS_FOLDERS = {"FER2013Train": "train", "FER2013Valid": "val", "FER2013Test": "test"}


def is_ferplus_folder(root: Path) -> bool:
    """Whether ``root`` holds FER+'s folders (:data:`FERPLUS_FOLDERS`, each with its ``label.csv``)."""
    return any((root / name / "label.csv").is_file() for name in FERPLUS_FOLDERS)


def load_ferplus_folder(root: str | os.PathLike, *, size: int = 48) -> FERDataset:
    """FER+ as its ``generate_training_data.py`` writes it: ``FER2013Train/``, ``FER2013Valid/``, ``FER2013Test/``,
    each with the 48 px PNGs and a header-less ``label.csv`` (``name,box,`` 10 votes in :data:`FERPLUS_VOTE_ORDER`).

    Labels are FER+'s majority labels (:func:`ferplus_majority`; images without one are left out, as FER+'s training
    leaves them, and counted in the log), soft targets the votes, the split the folder's. The images are crops:
    no face search."""
    root = Path(root)
    items, votes, left_out = [], {}, 0
    for folder, split in FERPLUS_FOLDERS.items():
        listing = root / folder / "label.csv"
        if not listing.is_file():
            continue
        with listing.open(newline="", encoding="utf-8-sig") as f:
            for i, r in enumerate(csv.reader(f), start=1):
                try:
                    v = [float(x) for x in r[2:12]]
                    if len(v) != len(FERPLUS_VOTE_ORDER):
                        raise ValueError(
                            f"expected name, box and {len(FERPLUS_VOTE_ORDER)} votes, got {len(r)} columns"
                        )
                except ValueError as e:
                    raise FileFormatError(f"{listing} line {i}: {e}") from e
                emotion = ferplus_majority(v)
                if emotion is None:
                    left_out += 1
                    continue
                name = f"{folder}/{r[0].strip()}"
                items.append((root / name, name, EMOTION_INDEX[emotion], split))
                votes[name] = v
    logger.info("%s: %d images without a FER+ majority left out, as FER+ does", root, left_out)
    ds = _finish(*_read_images(items, size=size, desc=f"reading {root.name}", detect=False), source=str(root))
    return replace(ds, targets=votes_to_distribution(np.array([votes[n] for n in ds.paths])))


def load_raf_db(source: str | os.PathLike, *, size: int = 48, detect: bool | str = "auto") -> FERDataset:
    """RAF-DB's basic set: its folder (or its :data:`RAF_DB_LIST`), lines ``train_00001.jpg 5`` with labels 1-7 in
    :data:`RAF_DB_LABELS`' order; each image is read from ``Image/aligned/<name>_aligned.jpg`` where the set has
    that folder, else ``Image/original/<name>``; the split is the name's ``train_``/``test_`` (val is made from train
    by :func:`load_dataset`). Paths are kept relative to ``source``'s folder (``Image/aligned/...``)."""
    source = Path(source)
    listing = source / RAF_DB_LIST if source.is_dir() else source
    root = listing.parent.parent if listing.parent.name == RAF_DB_LIST.parent.name else listing.parent
    base = source if source.is_dir() else source.parent
    if not listing.is_file():
        raise MissingFileError(f"RAF-DB label list not found: {listing}")
    aligned = (root / "Image" / "aligned").is_dir()
    items = []
    for i, line in enumerate(listing.read_text(encoding="utf-8-sig").splitlines(), start=1):
        if not line.strip():
            continue
        words = line.split()
        try:
            if len(words) != 2:
                raise ParameterError(f"expected 'name label', got {line!r}")
            emotion = number_label(words[1], "raf-db")
        except ParameterError as e:
            raise FileFormatError(f"{listing} line {i}: {e}") from e
        name = words[0]
        stem, ext = os.path.splitext(name)
        file = root / "Image" / "aligned" / f"{stem}_aligned{ext}" if aligned else root / "Image" / "original" / name
        split = name.split("_")[0].lower()
        split = split if split in ("train", "test") else None
        items.append((file, Path(os.path.relpath(file, base)).as_posix(), EMOTION_INDEX[emotion], split))
    if not items:
        raise EmptyFolderError(f"{listing}: the list names no images")
    return _finish(*_read_images(items, size=size, desc=f"reading {root.name}", detect=detect), source=str(listing))


#: File-name conventions of sets labelled in their names: a pattern on the name without its ending (groups: the
#: person, the expression code, the camera angle or None), the set's codes, and its form for messages.
_JAFFE_NAME = re.compile(r"([A-Z]{2})\.([A-Z]{2})\d+\.\d+", re.IGNORECASE)
_KDEF_NAME = re.compile(r"(?:[AB]([FM]\d{2})|([FM]))([A-Z]{2})(S|HL|HR|FL|FR)", re.IGNORECASE)
_CK_PLUS_NAME = re.compile(r"(S\d+)_(\d+)_(\d+)_emotion\.txt", re.IGNORECASE)


def _jaffe_name(stem: str) -> tuple[str, str, str | None] | None:
    m = _JAFFE_NAME.fullmatch(stem)
    return None if m is None else (m[1].upper(), m[2].upper(), None)


def _kdef_name(stem: str) -> tuple[str, str, str | None] | None:
    m = _KDEF_NAME.fullmatch(stem)  # the person: KDEF's sex and number (both sessions A and B), AKDEF's average
    return None if m is None else ((m[1] or f"AKDEF-{m[2]}").upper(), m[3].upper(), m[4].upper())


NAMED_SETS: dict[str, tuple] = {
    "JAFFE": (_jaffe_name, JAFFE_CODES, "poser.EXPRn.number, e.g. KA.AN1.39.tiff"),
    "KDEF": (_kdef_name, KDEF_CODES, "session, sex, number, expression, angle, e.g. AF01ANS.JPG (AKDEF: FANS.JPG)"),
}


def named_set_of(root: str | os.PathLike) -> str | None:
    """Which :data:`NAMED_SETS` convention most of ``root``'s images (below it too) are named in, or None when none
    is: the expression codes are not checked here (an unknown one is a skip when the set is read)."""
    try:
        files = list_image_files(root, recursive=True)
    except (EmptyFolderError, MissingFileError):
        return None
    counts = {name: sum(parse(f.stem) is not None for f in files) for name, (parse, _, _) in NAMED_SETS.items()}
    best = max(counts, key=counts.get)
    return best if counts[best] else None


def _log_left_out(source, left_out: dict[str, list[str]], total: int, *, what: str = "image(s)") -> None:
    """One warning per reason images were listed but not read, with the count and a few names."""
    for reason, names in left_out.items():
        if names:
            logger.warning("%s: %d of %d %s not read: %s, e.g. %s", source, len(names), total, what, reason,
                           ", ".join(names[:3]))  # fmt: skip


def _with_persons(ds: FERDataset, person_of: dict[str, str]) -> FERDataset:
    return replace(ds, persons=[person_of[name] for name in ds.paths])


def load_named_files(
    root: str | os.PathLike, *, size: int = 48, detect: bool | str = "auto", convention: str | None = None
) -> FERDataset:
    """A folder of images labelled in their file names (in it or below it: KDEF keeps one folder per person), in one
    of the :data:`NAMED_SETS` conventions (default: the one most names follow, :func:`named_set_of`).

    - JAFFE: ``KA.AN1.39.tiff`` (poser ``KA``, expression ``AN`` take 1, number 39), codes :data:`JAFFE_CODES`;
    - KDEF: ``AF01ANS.JPG`` (session A/B, sex F/M, number 01-35, expression, angle :data:`KDEF_ANGLES`), codes
      :data:`KDEF_CODES`; AKDEF's averaged faces ``FANS.JPG`` (sex, expression, angle). Full profiles
      (:data:`KDEF_LEFT_OUT_ANGLES`) are left out and counted; straight and half profiles are read.

    Each image's person (JAFFE's poser, KDEF's sex and number across both sessions, AKDEF's ``AKDEF-F``/``-M``) is
    kept in :attr:`FERDataset.persons`. Names not in the convention's form and unknown expression codes are not read:
    how many, why and a few names are logged as warnings (a mixed folder is read for the names that follow it).
    """
    root = Path(root)
    convention = convention or named_set_of(root)
    if convention not in NAMED_SETS:
        raise EmptyFolderError(f"{root}: no image is named in a known convention ({', '.join(NAMED_SETS)})")
    parse, codes, form = NAMED_SETS[convention]
    files = list_image_files(root, recursive=True)
    items, person_of = [], {}
    left_out: dict[str, list[str]] = {
        f"names not in {convention}'s form ({form})": [],
        f"unknown expression codes ({convention}'s: {', '.join(codes)})": [],
        f"full profiles ({', '.join(KDEF_LEFT_OUT_ANGLES)}) left out by design: no frontal face to read": [],
    }
    unnamed, unknown, profiles = left_out.values()
    for f in files:
        name = f.relative_to(root).as_posix()
        got = parse(f.stem)
        if got is None:
            unnamed.append(name)
            continue
        person, code, angle = got
        if code not in codes:
            unknown.append(name)
        elif angle in KDEF_LEFT_OUT_ANGLES:
            profiles.append(name)
        else:
            items.append((f, name, EMOTION_INDEX[codes[code]], None))
            person_of[name] = person
    _log_left_out(root, left_out, len(files))
    if not items:
        raise EmptyFolderError(f"{root}: no image to read as {convention} ({len(files)} listed; reasons logged)")
    logger.info("%s: read as %s, %d images of %d people", root, convention, len(items), len(set(person_of.values())))
    ds = _finish(*_read_images(items, size=size, desc=f"reading {root.name}", detect=detect), source=str(root))
    return _with_persons(ds, person_of)


def is_ck_plus(root: str | os.PathLike) -> bool:
    """Whether ``root`` is CK+'s folder: :data:`CK_PLUS_IMAGES` and :data:`CK_PLUS_EMOTION` in it."""
    return (Path(root) / CK_PLUS_IMAGES).is_dir() and (Path(root) / CK_PLUS_EMOTION).is_dir()


def load_ck_plus(root: str | os.PathLike, *, size: int = 48, detect: bool | str = "auto") -> FERDataset:
    """CK+ (the extended Cohn-Kanade set) as its archives unpack: ``cohn-kanade-images/S005/001/S005_001_00000011.png``
    (one folder per subject and sequence, neutral to peak) and ``Emotion/S005/001/S005_001_00000011_emotion.txt``
    (one code 0-7 in :data:`CK_PLUS_LABELS`' order, for the sequence's last frame; 327 of its 593 sequences have one).

    Each labelled sequence gives two images: its labelled last frame (the peak) with its emotion, and its first frame
    as neutral (every sequence starts from a neutral face; CK+ labels no frame neutral itself). Sequences without a
    label file are not read (their expression was not validated). Label files whose code is not 0-7, or whose image
    is missing, are skipped and counted in the log. Each image's person is its subject (``S005``).
    """
    root = Path(root)
    images_root, labels_root = root / CK_PLUS_IMAGES, root / CK_PLUS_EMOTION
    label_files = sorted(p for p in labels_root.rglob("*.txt") if not p.name.startswith("."))
    items, person_of = [], {}
    left_out: dict[str, list[str]] = {
        "label file names not in CK+'s form (S005_001_00000011_emotion.txt)": [],
        f"emotion codes not one number 0-{len(CK_PLUS_LABELS) - 1} (CK+'s: {', '.join(CK_PLUS_LABELS)})": [],
        f"labelled frames missing from {CK_PLUS_IMAGES}/": [],
    }
    unnamed, bad_code, missing = left_out.values()
    neutral = EMOTION_INDEX["neutral"]
    for label_file in label_files:
        name = label_file.relative_to(root).as_posix()
        m = _CK_PLUS_NAME.fullmatch(label_file.name)
        if m is None:
            unnamed.append(name)
            continue
        subject, sequence = m[1], m[2]
        try:
            words = label_file.read_text(encoding="utf-8", errors="replace").split()
            code = float(words[0]) if len(words) == 1 else -1.0
        except ValueError:
            code = -1.0
        if not (code.is_integer() and 0 <= code < len(CK_PLUS_LABELS)):
            bad_code.append(name)
            continue
        folder = images_root / subject / sequence
        peak = folder / f"{label_file.name[: -len('_emotion.txt')]}.png"
        if not peak.is_file():
            missing.append(name)
            continue
        first = list_image_files(folder)[0]
        pairs = [(first, neutral)] if first != peak else []
        for image, label in [*pairs, (peak, EMOTION_INDEX[normalize_emotion(CK_PLUS_LABELS[int(code)])])]:
            rel = image.relative_to(root).as_posix()
            items.append((image, rel, label, None))
            person_of[rel] = subject.upper()
    _log_left_out(root, left_out, len(label_files), what="label file(s)")
    sequences = sum(1 for s in images_root.glob("*/*") if s.is_dir())
    read = len(label_files) - sum(map(len, left_out.values()))
    logger.info("%s: %d labelled sequences of %d read (peak frame + first frame as neutral), %d people", root, read,
                sequences, len(set(person_of.values())))  # fmt: skip
    if not items:
        raise EmptyFolderError(f"{root}: no labelled CK+ frame to read ({len(label_files)} label files, {labels_root})")
    ds = _finish(*_read_images(items, size=size, desc=f"reading {root.name}", detect=detect), source=str(root))
    return _with_persons(ds, person_of)


def apply_split_csv(dataset: FERDataset, split_csv: str | os.PathLike) -> FERDataset:
    """Attach the fixed split of a ``path,label,split`` CSV (paths as in ``dataset.paths``).

    Images missing from the CSV are an error (a silently shrinking test set would skew comparisons);
    CSV rows whose image was skipped as unreadable are ignored.
    """
    split_csv = Path(split_csv)
    header, rows = _read_csv_rows(split_csv)
    if "path" not in header or "split" not in header:
        raise FileFormatError(f"{split_csv}: expected columns path,split (and label), got {header}")
    table = {r["path"]: r["split"] for r in rows}
    for i, r in enumerate(rows, start=2):
        if r["split"] not in SPLITS:
            raise FileFormatError(f"{split_csv} line {i}: split must be one of {SPLITS}, got {r['split']!r}")
    missing = [p for p in dataset.paths if p not in table]
    if missing:
        raise FileFormatError(
            f"{split_csv}: {len(missing)} image(s) of the data set are not listed, e.g. {missing[:3]}"
        )
    return dataset.with_split([table[p] for p in dataset.paths])


def _val_from_train(ds: FERDataset, *, seed: int) -> FERDataset:
    """``ds`` with a stratified 10% of its train images moved to val: a split of the set's own without val images
    (validation picks the training's logit adjustment and early stop) was an error in ``fer train`` and the bench."""
    train = np.flatnonzero(ds.splits == "train")
    splits = ds.splits.copy()
    splits[train] = stratified_split(ds.labels[train], val=0.1, test=0.0, seed=seed)
    logger.info("the set's split has no val images: a stratified 10%% of train is val (seed %d)", seed)
    return ds.with_split(splits)


@contextlib.contextmanager
def rereading() -> Iterator[None]:
    """A data set read again in the same run (:func:`load_dataset`): the files it skips were reported by the first
    read, so its warnings are held back (``facecraft augment`` said each unreadable file three times)."""
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


def load_dataset(
    source: str | os.PathLike,
    *,
    split: str | os.PathLike | None = None,
    size: int = 48,
    seed: int = 0,
    votes: bool = True,
    detect: bool | str = "auto",
    label_order: str | None = None,
) -> FERDataset:
    """Read any supported layout and make sure it carries a train/val/test split.

    Parameters
    ----------
    source : path-like
        A folder (ImageFolder, RAF-DB's basic set with its ``EmoLabel/list_patition_label.txt``, or FER+'s
        ``FER2013Train/``... with their ``label.csv``, CK+'s with ``cohn-kanade-images/`` and ``Emotion/``, or one of
        images labelled in their names: JAFFE's, KDEF's, :func:`load_named_files`), a ``path,label[,split]`` CSV, a
        FER2013 CSV or FER+'s ``fer2013new.csv`` (with ``fer2013.csv`` beside it).
    split : path-like, optional
        A ``path,label,split`` CSV fixing the split. Default: ``source/split.csv`` when a folder has one,
        the CSV's own split column, FER2013 ``Usage`` or the folder's split folders (``train/``, ``test/``), else a
        70/10/20 split with ``seed``: by person where the layout names each image's person (JAFFE, KDEF, CK+:
        :func:`person_split`), else stratified by class (:func:`stratified_split`). A split of the set's own
        without val images (no ``val/`` folder, no ``val`` or ``PublicTest`` rows) gets a stratified 10% of its train
        images as val.
    size : int
        Side of the grey crops in pixels.
    votes : bool
        Attach soft targets from the FER+ crowd votes in ``source/meta.csv`` when a folder has one
        (:func:`attach_votes`).
    detect : bool or "auto"
        Face detection before cropping (:func:`~facecraft.eval.faces.preprocess_face`): ``"auto"`` finds the face
        in images larger than a crop; False takes every image as a ready face crop (``fer eval --crops``).
    label_order : str, optional
        The data set whose class numbers its folders or CSV labels use (:data:`LABEL_ORDERS`: ``affectnet``,
        ``raf-db``, ...); numbers are refused without it.
    """
    source = Path(source)
    if label_order is not None:  # checked even where the set has no number to read with it (a typo in --set)
        label_order_of(label_order)
    if source.is_dir() and (source / RAF_DB_LIST).is_file():
        ds = load_raf_db(source, size=size, detect=detect)
    elif source.is_dir() and is_ferplus_folder(source):
        ds = load_ferplus_folder(source, size=size)
    elif source.is_dir() and is_ck_plus(source):
        ds = load_ck_plus(source, size=size, detect=detect)
    elif source.is_dir():
        named = None if _has_class_folders(source, label_order) else named_set_of(source)
        if named is not None:
            ds = load_named_files(source, size=size, detect=detect, convention=named)
        else:
            ds = load_image_folder(source, size=size, detect=detect, label_order=label_order)
        if split is None and (source / "split.csv").is_file():
            split = source / "split.csv"
            logger.info("using the fixed split %s", split)
    elif source.is_file() and source.name == RAF_DB_LIST.name:
        ds = load_raf_db(source, size=size, detect=detect)
    elif source.is_file():
        header, _ = _read_csv_rows(source)
        if "pixels" in header:
            ds = load_fer2013_csv(source, size=size)
        elif is_ferplus_header(header):
            ds = load_ferplus_csv(source, size=size)
        else:
            ds = load_csv(source, size=size, detect=detect, label_order=label_order)
    else:
        raise MissingFileError(f"data set not found: {source} (expected a folder or a CSV file)")
    if source.is_dir() and votes and (source / "meta.csv").is_file():
        ds = attach_votes(ds, source / "meta.csv")
    origin = "the set's own (split.csv, split column, FER2013 Usage, RAF-DB's train_/test_ names or split folders)"
    if split is not None:
        ds = apply_split_csv(ds, split)
        origin = f"the set's own ({Path(split).name})"
    elif ds.splits is None and ds.persons is not None and len(set(ds.persons)) >= 3:
        ds = ds.with_split(person_split(ds.persons, seed=seed))
        logger.info("no split given: 70/10/20 split by person with seed %d", seed)
        people = len(set(ds.persons))
        origin = f"70/10/20 by person made by load_dataset (seed {seed}; {people} people, none in two parts)"
        return replace(ds, split_made=True, split_origin=f"{origin}: the set has no split of its own")
    elif ds.splits is None:
        if ds.persons is not None:
            logger.warning("%s: %d person(s) only, too few to split by person: the split is by image and shows one "
                           "person in several parts", source, len(set(ds.persons)))  # fmt: skip
        ds = ds.with_split(stratified_split(ds.labels, seed=seed))
        logger.info("no split given: stratified 70/10/20 split with seed %d", seed)
        return replace(ds, split_made=True, split_origin=f"stratified 70/10/20 made by load_dataset (seed {seed}): "
                       "the set has no split of its own")  # fmt: skip
    if not np.any(ds.splits == "val"):  # split folders without val/ (Kaggle's FER2013), a CSV without val rows
        ds = _val_from_train(ds, seed=seed)
        test = "its own test part" if np.any(ds.splits == "test") else "no test part"
        origin = f"{origin}: {test}; val a stratified 10% of its train part (load_dataset, seed {seed})"
    return replace(ds, split_origin=origin)
