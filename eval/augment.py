"""Augment a FER data set with edited faces that the judges agree on (``facecraft augment``).

The one place in :mod:`facecraft.eval` that imports :mod:`facecraft.synth` (DESIGN.md). For each source face:

1. the face is read once, upscaled when it is a small crop (:data:`EDIT_SIDE`: MediaPipe misses faces in
   48 px FER crops), analysed once by the geometric editor (:class:`facecraft.synth.editor.FaceEditor`: face
   detection + rig fit) and described once by dlib's identity model;
2. variants are edited toward each target emotion with a random intensity and AUs jittered around the
   EMFACS prototype or another pattern EMFACS scores as that emotion
   (:func:`~facecraft.eval.augment_filter.variant_controls`), each one a cheap warp;
3. each variant is cut to the data set's own format (:class:`OutputFormat`: 48x48 grey for FER2013-style
   sets; the whole frame of a small crop resized back, or the shared eye alignment for photos) and judged
   on that crop: the target among the top classes of the shipped FER judge (``get_judge("facecraft")``)
   with a confidence threshold, the second judge's agreement, identity distance < 0.6 and no near-duplicate
   (:func:`~facecraft.eval.augment_filter.decide` order: cheapest rules first).

:func:`augment_dataset` runs every source through :func:`augment_source` over a process pool (models loaded
once per worker), writes accepted crops as an ImageFolder tree under ``out/<emotion>/``, one line per variant
in ``out/manifest.jsonl`` (source, target, controls, judge scores, identity, accepted or the rejection
reason; a faceless or unreadable source gets one line with the reason), and a report (``report.json`` and
``contact_sheet.png``, :mod:`~facecraft.eval.augment_report`). A rerun skips every source already in the
manifest, so an interrupted run resumes. Only the data set's ``train`` split is used as sources by default:
evaluation images never feed augmentation.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import logging
import os
import re
import time
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from concurrent.futures import FIRST_COMPLETED, Future, wait
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import cv2
import numpy as np

from facecraft.rigs import EMOTION_INDEX, EMOTIONS
from facecraft.rigs.errors import FacecraftError, FileFormatError, MissingFileError, ParameterError
from facecraft.rigs.machine import spawn_pool
from facecraft.rigs.paths import DEFAULT_NAME_MAX, atomic_output, fit_stem, write_text_atomic
from facecraft.rigs.run_settings import check_run_settings, save_run_settings

from .augment_filter import (
    MIN_READER_RECALL,
    SKIP_SOURCES,
    FilterConfig,
    duplicate_verdict,
    identity_verdict,
    judge_readers,
    judge_verdict,
    parse_targets,
    reference_recall,
    top_classes,
    variant_controls,
    variant_seed,
)
from .faces import CROP_MAX_SIDE, align_face, resize_crop
from .images import IMAGE_EXTENSIONS, list_image_files, load_image

logger = logging.getLogger(__name__)

#: Side in pixels small crops are upscaled to (bicubic) before the editor sees them: MediaPipe finds most
#: faces of a 48 px FER crop at this size (13 of 15 fer-dev faces tried) and the warp stays cheap.
EDIT_SIDE = 192
#: Images up to this side count as ready-made face crops (the shared preprocessing's own rule).
SMALL_SIDE = CROP_MAX_SIDE
MANIFEST = "manifest.jsonl"
#: One line per run of a folder (wall time, sources, accepted): throughput over every resumed part.
RUNS = "runs.jsonl"
#: The running run's record, rewritten after each face: a run that is killed leaves it, and the next run of the
#: folder logs it as interrupted (its time and faces count in the folder's totals).
CURRENT_RUN = ".run-current.json"


@dataclass(frozen=True)
class OutputFormat:
    """Size and colour of the crops written out (the data set's own).

    Attributes
    ----------
    size : int
        Side in pixels of the square crops.
    grey : bool
        Grey ``(size, size)`` crops instead of RGB.
    """

    size: int = 48
    grey: bool = True


@dataclass(frozen=True)
class SourceFace:
    """One face to augment.

    Attributes
    ----------
    id : str
        Stable key (a path relative to the data root, prefixed by the source set's name for photos).
    label : str or None
        The face's own emotion when known (no variant targets it).
    path : str or None
        Image file; None for in-memory crops (FER2013 CSV rows), which carry ``pixels``.
    pixels : uint8 array or None
        The crop itself when there is no file.
    """

    id: str
    label: str | None = None
    path: str | None = None
    pixels: np.ndarray | None = field(default=None, repr=False, compare=False)

    def read(self) -> np.ndarray:
        """RGB uint8 ``(H, W, 3)``."""
        if self.pixels is not None:
            a = np.asarray(self.pixels, np.uint8)
            return np.repeat(a[..., None], 3, axis=2) if a.ndim == 2 else a
        if self.path is None:
            raise ParameterError(f"source {self.id}: neither a path nor pixels")
        return load_image(self.path)


@dataclass(frozen=True)
class AugmentConfig:
    """How variants are made and judged (saved in the report).

    Attributes
    ----------
    per_image : int
        Variants per source and target emotion.
    intensity : (low, high)
        Emotion intensity range of the variants.
    jitter : float
        Relative jitter of the pattern's AUs (see :func:`~facecraft.eval.augment_filter.variant_controls`).
    alternatives : bool
        Draw each variant's AU pattern among the EMFACS prototype and the other patterns EMFACS scores as the
        emotion (:data:`facecraft.rigs.emotions.EMFACS_ALTERNATIVES`); False: the prototype only.
    filter : FilterConfig
    judge : str
        Registry name of the main judge (:data:`facecraft.eval.judges.SUPPORTED_JUDGES`); ``judge_weights``
        overrides its shipped weights.
    second_judges : tuple of str
        Judges that must agree with the main one on the classes they read (``filter.readers``).
    skip_sources : {target: tuple of emotions}
        No variant of a target is made from a face showing one of these (default :data:`SKIP_SOURCES`).
    min_reader_recall : float or None
        With a labelled data set, measure which second judge reads which class on its images outside the test
        split (:func:`~facecraft.eval.augment_filter.judge_readers`) and ask only those; None asks every
        second judge on every class it knows.
    format : OutputFormat
    seed : int
    """

    per_image: int = 1
    intensity: tuple[float, float] = (0.6, 1.0)
    jitter: float = 0.25
    alternatives: bool = True
    filter: FilterConfig = field(default_factory=FilterConfig)
    judge: str = "facecraft"
    judge_weights: str | None = None
    second_judges: tuple[str, ...] = ("networkv2", "mini-xception")
    skip_sources: dict[str, tuple[str, ...]] = field(default_factory=lambda: dict(SKIP_SOURCES))
    min_reader_recall: float | None = MIN_READER_RECALL
    format: OutputFormat = field(default_factory=OutputFormat)
    seed: int = 0

    def __post_init__(self) -> None:
        if not isinstance(self.per_image, int) or self.per_image < 1:
            raise ParameterError(f"per_image: expected an integer >= 1, got {self.per_image!r}")
        if self.format.size < 8:
            raise ParameterError(f"format.size: expected at least 8 pixels, got {self.format.size}")

    def to_dict(self) -> dict:
        return asdict(self)


# ----------------------------------------------------------------------------------------------- sources
def dataset_sources(
    dataset: str | os.PathLike, *, split: str | None = "train", label_order: str | None = None
) -> tuple[list[SourceFace], OutputFormat, np.ndarray, list[str]]:
    """The faces of a data set (any layout :func:`~facecraft.eval.datasets.load_dataset` reads) as sources.

    Parameters
    ----------
    dataset : path-like
        ImageFolder, RAF-DB's or FER+'s folder, ``path,label[,split]`` CSV, FER2013's or FER+'s CSV.
    split : str or None
        Keep only this split (default ``"train"``: test and validation images never become sources);
        None keeps all.
    label_order : str, optional
        The data set whose class numbers the set's folders or CSV labels use
        (:data:`~facecraft.eval.datasets.LABEL_ORDERS`).

    Returns
    -------
    sources : list of SourceFace
    format : OutputFormat
        The data set's own format (size of its crops, grey when they all are).
    counts : int64 (8,)
        Images per class of the kept split, EMOTIONS order (what ``--balance`` fills up).
    unreadable : list of str
        Images the data set reader skipped, with the reason.
    """
    from .datasets import SPLITS, load_dataset

    root = Path(dataset)
    # no face search: the editor looks for each source's face itself (a faceless one is a bad source in the report);
    # the reader's search dropped 5 of 62 aligned 100 px RAF-DB-style faces as "unreadable" before it saw them
    ds = load_dataset(root, votes=False, detect=False, label_order=label_order)
    unreadable = list(ds.skipped)  # of the whole read: a split's subset does not carry them
    if split is not None:
        if split not in SPLITS:
            raise ParameterError(f"--split {split!r}: expected one of {', '.join(SPLITS)} or all")
        ds = ds.subset(split)
    if split != "train":  # augmented faces of the evaluation split would be trained on
        logger.warning("augment: sources from the %s split, not train: keep these variants out of any evaluation",
                       split or "whole")  # fmt: skip
    if root.is_dir():
        base, in_memory = root, False
    else:
        from .datasets import _read_csv_rows, is_ferplus_header

        header, _ = _read_csv_rows(root)  # FER2013's pixels, or FER+'s votes over fer2013.csv's pixels
        base, in_memory = root.parent, "pixels" in header or is_ferplus_header(header)
    sources = []
    for i, (name, label) in enumerate(zip(ds.paths, ds.labels, strict=True)):
        emotion = EMOTIONS[int(label)]
        if in_memory:
            sources.append(SourceFace(f"{root.name}/{name}", emotion, None, ds.images[i]))
        else:
            sources.append(SourceFace(name, emotion, str(base / name)))
    fmt = OutputFormat(48, True) if in_memory else infer_format([s.path for s in sources])
    logger.info("%s: %d source faces (split %s), output format %s", dataset, len(sources), split, fmt)
    return sources, fmt, ds.class_counts, unreadable


#: Side of the aligned crops written for a set of photos of mixed sizes (no one size of its own to keep).
PHOTO_SIDE = 224
#: Images decoded to tell a grey set from a colour one, spread evenly over the set; sizes come from every image's
#: header, which PIL reads without decoding (a set's first 32 files, e.g. its first class folder, gave its size).
GREY_SAMPLE = 32

#: EXIF orientations that turn a photo a quarter (its upright height is the stored width).
_QUARTER_TURNS = (5, 6, 7, 8)


def _upright_shape(path: str | os.PathLike) -> tuple[int, int] | None:
    """``(height, width)`` of an image as :func:`~facecraft.eval.images.load_image` shows it, from the file's header
    only; None for a file PIL cannot open."""
    from PIL import Image

    try:
        with Image.open(path) as im:
            w, h = im.size
            turned = im.getexif().get(0x0112) in _QUARTER_TURNS
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError):
        return None
    return (w, h) if turned else (h, w)


def infer_format(paths: Iterable[str | os.PathLike]) -> OutputFormat:
    """The format of a data set's images: the most common side of its crops (images of at most
    :data:`SMALL_SIDE` px), or the one square size of an aligned set of larger ones up to :data:`PHOTO_SIDE`
    (RAF-DB's 100 px, UTKFace's 200: RAF-DB's edits were written at 224), grey when every image looked at is; other
    photo sets (mixed sizes, or square photos past :data:`PHOTO_SIDE` such as FRLL's 1350 px portraits or one
    uploaded 512 px photo, whose face is a part of the picture) get :data:`PHOTO_SIDE` px aligned crops.

    Every image's size counts (read from its header); :data:`GREY_SAMPLE` images spread over the set are decoded
    for the colour. The choice and its reason are logged."""
    paths = list(paths)
    found = [(p, shape) for p in paths if (shape := _upright_shape(p)) is not None]
    if not found:
        return OutputFormat()
    shapes = [shape for _, shape in found]
    grey = True
    for i in sorted(set(np.linspace(0, len(found) - 1, min(len(found), GREY_SAMPLE)).round().astype(int))):
        try:
            img = load_image(found[i][0])
        except FacecraftError:
            continue
        grey = grey and bool(np.all(img[..., 0] == img[..., 1]) and np.all(img[..., 1] == img[..., 2]))
    sides = Counter(max(s) for s in shapes)
    side = sides.most_common(1)[0][0]
    counts = ", ".join(f"{n} of {k} px" for k, n in sides.most_common(4)) + (", ..." if len(sides) > 4 else "")
    if side <= SMALL_SIDE:
        fmt, why = OutputFormat(int(side), grey), f"the most common side of {len(shapes)} face crops ({counts})"
    elif set(shapes) == {(side, side)} and side <= PHOTO_SIDE:
        fmt, why = OutputFormat(int(side), grey), f"the one size of {len(shapes)} aligned faces"
    else:
        what = "mixed sizes" if len(set(shapes)) > 1 else f"larger than {PHOTO_SIDE} px"
        fmt, why = OutputFormat(PHOTO_SIDE, grey), f"aligned face crops of {len(shapes)} photos ({counts}: {what})"
    logger.info("output format %d px %s: %s", fmt.size, "grey" if fmt.grey else "colour", why)
    return fmt


def photo_sources(folder: str | os.PathLike) -> list[SourceFace]:
    """Every image under ``folder`` (recursively) as an unlabelled source, ids prefixed by the folder name."""
    folder = Path(folder)
    if not folder.is_dir():
        raise MissingFileError(f"--sources: folder not found: {folder}")
    files = list_image_files(folder, recursive=True)
    return [SourceFace(f"{folder.name}/{f.relative_to(folder).as_posix()}", None, str(f)) for f in files]


# ----------------------------------------------------------------------------------------------- worker
def _upscaled(img: np.ndarray) -> tuple[np.ndarray, bool]:
    """The image the editor sees, and whether it is a small crop (written back whole, not re-aligned)."""
    small = max(img.shape[:2]) <= SMALL_SIDE
    if small:
        side = min(img.shape[:2])
        h, w = img.shape[:2]
        img = img[(h - side) // 2 : (h - side) // 2 + side, (w - side) // 2 : (w - side) // 2 + side]
        img = cv2.resize(img, (EDIT_SIDE, EDIT_SIDE), interpolation=cv2.INTER_CUBIC)
    return np.ascontiguousarray(img), small


class Augmenter:
    """The models of one worker: the editor, the two judges and the identity model, loaded once.

    Parameters
    ----------
    config : AugmentConfig
    """

    def __init__(self, config: AugmentConfig | None = None) -> None:
        from facecraft.synth.editor import FaceEditor

        from .identity import IdentityJudge
        from .judges import get_judge

        self.config = config or AugmentConfig()
        self.editor = FaceEditor()
        self.judge = get_judge(self.config.judge, weights=self.config.judge_weights)
        self.seconds = {name: get_judge(name) for name in self.config.second_judges}
        self.identity = IdentityJudge()

    def close(self) -> None:
        self.editor.close()

    def crop(self, image: np.ndarray, small: bool, landmarks: np.ndarray) -> np.ndarray:
        """An (edited) image cut to the output format: a small crop resized whole, a photo eye-aligned."""
        fmt = self.config.format
        if small:
            return resize_crop(image, size=fmt.size, grey=fmt.grey)
        return align_face(image, landmarks, size=fmt.size, grey=fmt.grey)

    def scores(self, crop: np.ndarray) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """Main and second judges' probabilities ``(8,)`` of one crop (no detection: it is a face crop)."""
        main = self.judge.predict_proba([crop], detect=False)[0]
        return main, {name: j.predict_proba([crop], detect=False)[0] for name, j in self.seconds.items()}

    def descriptor(self, image: np.ndarray, name: str) -> np.ndarray | None:
        """dlib descriptor ``(128,)`` of the face, or None when the identity model finds none."""
        from facecraft.rigs.errors import NoFaceError

        try:
            return self.identity.descriptor(image, name=name)
        except NoFaceError:
            return None

    def augment_source(self, source: SourceFace, targets: Iterable[str]) -> list[dict]:
        """Edit, judge and filter every variant of one source; see :func:`augment_source`."""
        return augment_source(source, targets, augmenter=self)


def augment_source(source: SourceFace, targets: Iterable[str], *, augmenter: Augmenter) -> list[dict]:
    """All variants of one source face toward ``targets``, judged and filtered (the per-item function).

    Parameters
    ----------
    source : SourceFace
    targets : iterable of str
        Emotions to synthesise; the source's own expression (its label, or the main judge's top class for an
        unlabelled photo) is left out, and so are targets that ``config.skip_sources`` bars from it.
        ``augmenter.config.per_image`` variants each.
    augmenter : Augmenter
        Loaded models (one per process).

    Returns
    -------
    list of dict
        One record per variant (keys ``id, source, source_label, target, variant, controls, scores,
        source_scores, identity, accepted, reason``), plus ``crop`` (uint8, output format) on accepted ones.
        A source that cannot be read or shows no face gives one record with ``target`` None and the reason; an edit
        that fails (any error) is a rejected variant whose reason names the error (logged with its traceback).
        Never raises for a bad image (facecraft errors become records).
    """
    from facecraft.synth.controls import EditControls

    cfg = augmenter.config
    t0 = time.perf_counter()
    base = {"source": source.id, "source_label": source.label, "source_path": source.path}
    try:
        img, small = _upscaled(source.read())
        faces = augmenter.editor.analyze(img, name=source.id)
    except (FacecraftError, OSError) as e:
        logger.warning("source %s skipped: %s", source.id, e)
        return [{**base, "id": f"{source.id}#source", "target": None, "accepted": False, "reason": f"source: {e}"}]
    face = faces[:1]
    landmarks = face[0].info.landmarks
    src_crop = augmenter.crop(img, small, landmarks)
    src_main, src_second = augmenter.scores(src_crop)
    expression = source.label or top_classes(src_main, 1)[0]
    targets = _allowed(expression, tuple(targets), cfg)
    src_desc = None
    desc_done = False
    kept: list[np.ndarray] = [src_crop]
    records = []
    if not targets:
        reason = f"skipped: no target is made from a {expression} face"
        return [{**base, "id": f"{source.id}#skipped", "target": None, "accepted": False, "reason": reason}]
    for target in targets:
        rng = np.random.default_rng(variant_seed(f"{source.id}#{target}", cfg.seed))
        for k in range(cfg.per_image):
            rec = {**base, "id": f"{source.id}#{target}{k}", "target": target, "variant": k}
            controls = variant_controls(
                target, rng, intensity=cfg.intensity, jitter=cfg.jitter, alternatives=cfg.alternatives
            )
            rec["controls"] = controls
            try:
                edited = augmenter.editor.apply(
                    img,
                    face,
                    EditControls.from_args(emotion=controls["emotion"], au=controls["au"]),
                    face=0,
                    name=source.id,
                ).image
            except Exception as e:  # noqa: BLE001 - one failing edit is a rejected variant, not the end of the run
                logger.exception("source %s: the %s edit failed", source.id, target)
                records.append({**rec, "accepted": False, "reason": f"edit failed: {type(e).__name__}: {e}"})
                continue
            crop = augmenter.crop(edited, small, landmarks)
            main, second = augmenter.scores(crop)
            rec["scores"] = {cfg.judge: _rounded(main), **{n: _rounded(v) for n, v in second.items()}}
            rec["source_scores"] = {cfg.judge: _rounded(src_main), **{n: _rounded(v) for n, v in src_second.items()}}
            reason = judge_verdict(target, main, second, cfg.filter, source_main=src_main)
            if reason is None:
                if not desc_done:
                    src_desc, desc_done = augmenter.descriptor(img, source.id), True
                edited_desc = augmenter.descriptor(edited, f"{source.id} ({target} edit)")
                distance = None
                if src_desc is not None and edited_desc is not None:
                    distance = float(np.linalg.norm(src_desc.astype(np.float64) - edited_desc.astype(np.float64)))
                    rec["identity"] = round(distance, 4)
                reason = identity_verdict(distance, cfg.filter)
            if reason is None:
                reason = duplicate_verdict(crop, kept, cfg.filter)
            rec["accepted"], rec["reason"] = reason is None, reason
            if reason is None:
                kept.append(crop)
                rec["crop"] = crop
            records.append(rec)
    seconds = time.perf_counter() - t0
    for rec in records:
        rec["seconds"] = round(seconds / max(len(records), 1), 4)
    return records


def _rounded(p: np.ndarray) -> list[float]:
    return [round(float(v), 4) for v in p]


# worker-process state: one Augmenter per process, built by the pool's initializer
_WORKER: Augmenter | None = None


#: Why the worker's models could not load (bad --judge-weights): raised by its first task, as an initializer that
#: raises only leaves the parent a BrokenProcessPool without the reason.
_WORKER_ERROR: FacecraftError | None = None


def _init_worker(config: AugmentConfig, threads: int) -> None:
    global _WORKER, _WORKER_ERROR
    import torch

    torch.set_num_threads(threads)
    cv2.setNumThreads(threads)
    try:
        _WORKER = Augmenter(config)
    except FacecraftError as e:
        _WORKER_ERROR = e


def _worker() -> Augmenter:
    if _WORKER_ERROR is not None:
        raise _WORKER_ERROR
    if _WORKER is None:
        raise RuntimeError("augment worker used before its initializer ran")
    return _WORKER


def _work(source: SourceFace, targets: tuple[str, ...], readers: dict | None = None) -> list[dict]:
    worker = _worker()
    if readers is not None and worker.config.filter.readers != readers:
        worker.config = _with_readers(worker.config, readers)
    return augment_source(source, targets, augmenter=worker)


def _measure(dataset: str, label_order: str | None) -> tuple[dict[str, tuple[str, ...]], dict]:
    """:func:`measure_readers` in a worker, with the second judges it has loaded already."""
    worker = _worker()
    return measure_readers(dataset, worker.config, judges=worker.seconds, label_order=label_order)


# ----------------------------------------------------------------------------------------------- runner
def read_manifest(out: str | os.PathLike) -> list[dict]:
    """Records of ``out/manifest.jsonl`` (a torn last line from an interrupted run is ignored)."""
    path = Path(out) / MANIFEST
    if not path.is_file():
        return []
    records = []
    for i, line in enumerate(path.read_text().splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            logger.warning("%s line %d is not JSON (an interrupted write?): ignored", path, i)
            continue
        if not isinstance(record, dict) or "source" not in record:  # another tool's manifest.jsonl in --out
            raise FileFormatError(
                f"{path} line {i}: not a facecraft augment record (no 'source'); give another output folder"
            )
        records.append(record)
    return records


def _drop_torn_tail(path: Path) -> None:
    """Cut a last line without its newline (a write the previous run did not finish) before appending."""
    if not path.is_file() or path.stat().st_size == 0:
        return
    data = path.read_bytes()
    if data.endswith(b"\n"):
        return
    keep = data.rfind(b"\n") + 1
    logger.warning("%s: dropping an unfinished last line (%d bytes)", path, len(data) - keep)
    with path.open("r+b") as f:
        f.truncate(keep)


#: A FER2013 CSV row's source id (:func:`dataset_sources`): the data set's name of the row, ``<csv>:<line>``, under
#: the CSV's name.
_CSV_ROW_ID = re.compile(r"^(?P<csv>[^/]+)/(?P=csv):(?P<line>\d+)$")
#: A FER2013 CSV row's face as folders written before the row names hold it, ``<csv>_<csv>_<line>_<target><k>.png``
#: (a CSV name with spaces or punctuation also took a hash of the source id before ``_<target>``).
_OLD_ROW_FILE = re.compile(
    r"^(?P<csv>[\w.-]+\.csv)_(?P=csv)_(?P<line>\d+)(?:_[0-9a-f]{8})?_(?P<target>[a-z]+)(?P<k>\d+)\.png$", re.IGNORECASE
)


def _csv_row(record: dict) -> int | None:
    """The CSV line of a FER2013 row's record (a face with no file), else None."""
    found = _CSV_ROW_ID.match(record["source"]) if record.get("source_path") is None else None
    return None if found is None else int(found["line"])


def _file_name(record: dict, folders: Mapping[str, str] | None = None) -> str:
    """``<target folder>/<source id>_<target><k>.png``: the whole id, less an image file's ending. Letters of any
    script are kept; an id whose spaces or punctuation had to be replaced gets a short hash of itself, so that
    ``a b.jpg`` and ``a_b.jpg`` do not write one file. An id too long for a file name (a deep photo path) is cut to
    fit with a hash of the whole (:func:`~facecraft.rigs.paths.fit_stem`). A FER2013 CSV's row is named by its line
    (the data set's own name of it, ``fer2013.csv:18``, as a spreadsheet numbers its rows): ``row18_<target><k>.png``
    (it was ``fer2013.csv_fer2013.csv_18_...``, the CSV's name twice on every file)."""
    folder = (folders or {}).get(record["target"], record["target"])
    ending = f"_{record['target']}{record['variant']}.png"
    row = _csv_row(record)
    if row is not None:
        return f"{folder}/{_row_file_name(row, record['target'], record['variant'])}"
    source = record["source"]
    if os.path.splitext(source)[1].lower() in IMAGE_EXTENSIONS:
        source = os.path.splitext(source)[0]
    stem = re.sub(r"[^\w.-]+", "_", source).strip("_")
    if stem != re.sub(r"[/:]", "_", source):  # the folder's slash and a CSV row's colon alone are kept as before
        stem += "_" + hashlib.sha1(record["source"].encode()).hexdigest()[:8]
    return f"{folder}/{fit_stem(stem, DEFAULT_NAME_MAX - len(ending.encode()))}{ending}"  # a long path: cut, hashed


def _refuse_rows_of_another_csv(out: Path, records: list[dict], faces: list[SourceFace]) -> None:
    """A folder holds the rows of one CSV: rows of a second one would write their faces over the first's, since a
    row's file is named by its line alone (:func:`_row_file_name`)."""

    def csv_names(ids) -> set[str]:
        return {m["csv"] for m in map(_CSV_ROW_ID.match, ids) if m is not None}

    held = csv_names(r["source"] for r in records if r.get("source_path") is None)
    asked = csv_names(f.id for f in faces if f.path is None)
    if held and asked and held != asked:
        raise ParameterError(
            f"{out} holds the faces of {', '.join(sorted(held))}'s rows; the rows of {', '.join(sorted(asked))} "
            "would take the same file names (row<line>_...): give another --out"
        )


def _row_file_name(line: int, target: str, variant: int) -> str:
    """``row<line>_<target><k>.png``: the file of a FER2013 CSV row's face (:func:`_file_name`)."""
    return f"row{line}_{target}{variant}.png"


def _renamed_row_files(out: Path, records: list[dict]) -> list[dict]:
    """``out``'s manifest records with the files of FER2013 CSV rows moved to their row names (:func:`_file_name`):
    a folder written before them named those ``<csv>_<csv>_<line>_<target><k>.png``, and a resumed run would mix the
    two. Files are moved first and the manifest rewritten last (whole or not at all), so a run stopped in between
    finishes the move when it is started again. A row name another record holds (the same line of a second CSV) is
    never written over: that face keeps its old name. Old-named faces no record holds are then put right
    (:func:`_stray_row_files`)."""
    held = Counter(r["file"] for r in records if r.get("file"))
    moved = kept = 0
    for r in records:
        if not r.get("file") or _csv_row(r) is None:
            continue
        new = (Path(r["file"]).parent / Path(_file_name(r)).name).as_posix()  # in the folder it was written to
        if new == r["file"]:
            continue
        if held[new]:  # two faces on one file: one of them lost, the other counted twice
            kept += 1
            continue
        if (out / r["file"]).is_file():
            os.replace(out / r["file"], out / new)
        elif not (out / new).is_file():  # neither name: the record is left as it is
            continue
        held[r["file"]] -= 1
        held[new] += 1
        r["file"] = new
        moved += 1
    if moved:
        write_text_atomic(out / MANIFEST, "".join(json.dumps(r) + "\n" for r in records), pid=False)
        logger.warning("%s: %d face(s) of CSV rows renamed to their row names (row<line>_<target><k>.png)", out, moved)
    if kept:
        logger.warning("%s: %d face(s) of CSV rows keep their old names: another face holds the row name", out, kept)
    _stray_row_files(out, held)
    return records


def _stray_row_files(out: Path, held: Counter) -> None:
    """Old-named CSV row faces in ``out``'s class folders that no manifest record holds (``held``: the manifest's
    files), as a run stopped between writing a face and its manifest line leaves them: a resumed run overwrote such
    a face under its own name, but not under the old one, so the tree held the face twice. A stray whose row name a
    record holds is that face's stale copy and is removed; any other takes its row name, as the run writes it. Files
    whose names are not old row names are left alone."""
    removed = renamed = 0
    for folder in sorted(p for p in out.iterdir() if p.is_dir()):
        for path in sorted(folder.glob("*.png")):
            found = _OLD_ROW_FILE.match(path.name)
            if found is None or held[path.relative_to(out).as_posix()]:
                continue
            new = folder / _row_file_name(int(found["line"]), found["target"], int(found["k"]))
            if held[new.relative_to(out).as_posix()]:
                path.unlink()
                removed += 1
            else:
                os.replace(path, new)
                renamed += 1
    if removed or renamed:
        logger.warning(
            "%s: old-named CSV row faces the manifest does not list (a stopped run's): %d stale copies of listed faces "
            "removed, %d renamed to their row names",
            out,
            removed,
            renamed,
        )


def write_crop(
    out: str | os.PathLike, record: dict, crop: np.ndarray, *, folders: Mapping[str, str] | None = None
) -> str:
    """Write an accepted variant's crop as ``out/<target>/<source>_<target><k>.png`` (atomic: a temporary file
    renamed into place) and return that path relative to ``out``, the manifest's ``file``. ``folders``: the
    augmented data set's own class folder names (:func:`~facecraft.eval.datasets.class_folder_names`, e.g.
    ``happy`` for happiness), so that the tree merges into it. A runner other than :func:`augment_dataset` (e.g.
    ``facecraft batch augment``) uses it to write the same tree."""
    from PIL import Image

    out = Path(out)
    rel = _file_name(record, folders)
    path = out / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_output(path, "tmp") as tmp:
        Image.fromarray(crop).save(tmp, format="PNG")
    return rel


def write_fer2013_rows(out: str | os.PathLike, name: str) -> Path:
    """``out/<name>``: every accepted crop of ``out``'s manifest as a FER2013 CSV row (``emotion`` code in FER2013's
    order, ``pixels``, ``Usage`` Training), to append to the augmented FER2013 CSV; rewritten whole on each run.
    Contempt, which FER2013 has no code for, stays in the ImageFolder tree only."""
    from PIL import Image

    from .datasets import FER2013_LABELS

    out = Path(out)
    lines, left_out = ["emotion,pixels,Usage"], 0
    for r in read_manifest(out):
        if not (r.get("accepted") and r.get("file")):
            continue
        if r["target"] not in FER2013_LABELS:
            left_out += 1
            continue
        pixels = np.asarray(Image.open(out / r["file"]).convert("L"))
        lines.append(f"{FER2013_LABELS.index(r['target'])},{' '.join(map(str, pixels.ravel()))},Training")
    if left_out:
        logger.info("%s: %d accepted crop(s) of a class FER2013 has no code for left out", name, left_out)
    return write_text_atomic(out / name, "\n".join(lines) + "\n", pid=False)


def _quotas(
    counts: np.ndarray, targets: tuple[str, ...], *, max_per_class: int | dict[str, int] | None
) -> dict[str, int]:
    """Images to add per target so each reaches the largest class (at most ``max_per_class`` each: one number
    for every target, or a mapping per target)."""
    top = int(np.max(counts))
    need = {t: max(0, top - int(counts[EMOTION_INDEX[t]])) for t in targets}
    if isinstance(max_per_class, dict):
        need = {t: min(n, int(max_per_class.get(t, n))) for t, n in need.items()}
    elif max_per_class is not None:
        need = {t: min(n, max_per_class) for t, n in need.items()}
    return need


def measure_readers(
    dataset, config: AugmentConfig, *, judges=None, label_order: str | None = None
) -> tuple[dict[str, tuple[str, ...]], dict]:
    """Which second judge reads which class, on the data set's labelled faces outside its test split.

    ``judges`` ({name: judge}) are the second judges already loaded (an :class:`Augmenter`'s ``seconds``: a
    worker measures with its own models instead of loading them a second time); missing ones are loaded.
    ``label_order``: what the set's class numbers mean (:func:`~facecraft.eval.datasets.load_dataset`).
    Returns the readers table (for ``FilterConfig.readers``) and the measured top-``second_top_k`` recall per
    judge and class with the image counts (for the report). The test split never takes part.
    """
    from .datasets import load_dataset, rereading
    from .judges import get_judge

    judges = dict(judges or {})
    with rereading():  # the sources' read reported its skips
        ds = load_dataset(Path(dataset), votes=False, label_order=label_order)
    test = ds.splits == "test"
    # faces the search found none in: a split made over the rest is not the sources' (no search); the set's own is
    if ds.skipped and ds.split_made:
        with rereading():
            ref = load_dataset(Path(dataset), votes=False, detect=False, label_order=label_order)
        test = np.isin(ds.paths, [p for p, s in zip(ref.paths, ref.splits, strict=True) if s == "test"])
    ds = ds.take(np.flatnonzero(~test))
    probs = {
        name: (judges[name] if name in judges else get_judge(name)).predict_proba(list(ds.images), detect=False)
        for name in config.second_judges
    }
    top_k = config.filter.second_top_k
    readers, recall = judge_readers(
        probs, ds.labels, top_k=top_k, min_recall=config.min_reader_recall, reference=reference_recall(top_k)
    )
    counts = dict(zip(EMOTIONS, ds.class_counts.tolist(), strict=True))
    logger.info("second judges' readers (top-%d recall): %s", config.filter.second_top_k, readers)
    return readers, {
        "recall_top_k": recall,
        "images": counts,
        "splits": "all but test",
        "min_recall": config.min_reader_recall,
        "readers": {c: list(v) for c, v in readers.items()},
    }


#: Locked (``flock``) while a run writes its folder: a second run started on the same folder edited the same sources
#: again, appended them to the manifest twice (117 records for 80 variants) and logged the live run as interrupted.
LOCK = ".augment.lock"


@contextmanager
def _folder_lock(out: Path) -> Iterator[None]:
    """Hold ``out/LOCK`` for the run; another run holding it is an error naming its process (no lock where the
    platform has no ``fcntl``)."""
    try:
        import fcntl
    except ImportError:  # Windows: runs are not guarded
        yield
        return
    with (out / LOCK).open("a+") as f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            f.seek(0)
            holder = f.read().strip() or "another process"
            raise ParameterError(
                f"{out}: another facecraft augment ({holder}) is writing this folder; wait for it to finish (then "
                "rerun to resume) or give another --out"
            ) from None
        f.seek(0)
        f.truncate()
        f.write(f"pid {os.getpid()}")
        f.flush()
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def _one_run_per_folder(fn):
    """``fn(..., out=...)`` run while holding ``out``'s lock (:func:`_folder_lock`)."""

    @functools.wraps(fn)
    def run(*args, out, **kwargs):
        out = Path(out)
        made = not out.exists()
        out.mkdir(parents=True, exist_ok=True)
        try:
            with _folder_lock(out):
                return fn(*args, out=out, **kwargs)
        except BaseException:
            if made:  # a run stopped by bad input (no such data set, an unknown target) leaves no folder behind
                (out / LOCK).unlink(missing_ok=True)
                with contextlib.suppress(OSError):
                    out.rmdir()  # only while empty: finished items are kept for a resumed run
            raise

    return run


def judge_fingerprint(config: AugmentConfig) -> dict:
    """The main judge's weights file and its sha256 (the shipped weights may change between runs)."""
    import hashlib

    from .classifier import weight_files

    if config.judge != "facecraft":
        return {"judge": config.judge}
    _, w_path = weight_files(config.judge_weights)
    found = {"judge": config.judge, "weights": str(w_path), "sha256": hashlib.sha256(w_path.read_bytes()).hexdigest()}
    onnx = w_path.with_suffix(".onnx")
    if onnx.is_file():
        found["onnx_sha256"] = hashlib.sha256(onnx.read_bytes()).hexdigest()
    return found


@_one_run_per_folder
def augment_dataset(
    dataset: str | os.PathLike | None,
    *,
    out: str | os.PathLike,
    targets="all",
    config: AugmentConfig | None = None,
    balance: bool = False,
    max_per_class: int | None = None,
    sources: Iterable[str | os.PathLike] = (),
    use_dataset_faces: bool = True,
    split: str | None = "train",
    max_sources: int | None = None,
    workers: int = 1,
    threads: int = 1,
    progress: bool = True,
    label_order: str | None = None,
) -> dict:
    """Augment a data set; write the ImageFolder tree, ``manifest.jsonl`` and the report under ``out``.

    Parameters
    ----------
    dataset : path-like or None
        The data set to augment (any layout of :func:`~facecraft.eval.datasets.load_dataset`); gives the
        output format, the class counts for ``balance`` and, with ``use_dataset_faces``, source faces (its
        ``split`` only). None: photos from ``sources`` only, format from ``config``.
    out : path-like
        Output folder (created); rerunning with the same folder resumes.
    targets : "all", comma-separated names or a list
        Emotions to synthesise (``all``: every one but neutral).
    config : AugmentConfig, optional
        ``per_image`` variants per source and target, judges, thresholds; its ``format`` is replaced by the
        data set's own.
    balance : bool
        Fill each target class up toward the data set's largest class (capped by ``max_per_class``): sources
        are tried until every quota is met or the sources run out. Without it every source gets its variants.
    sources : iterable of folders
        Colour photos to edit as extra sources (e.g. ``faces-utk``, ``faces-frll``), recursively.
    split : str or None
        Which split of the data set gives source faces (default ``train``; never evaluation images).
    max_per_class : int or {target: int}, optional
        With ``balance``: add at most this many images per target (one bound, or one per target).
    max_sources : int, optional
        Try at most this many sources (after a seeded shuffle; labelled faces that no chosen target may be
        made from, ``config.skip_sources``, are left out first), e.g. for a quick look.
    workers : int
        Processes (each loads its own models); 1 runs in this process.
    threads : int
        Torch/OpenCV threads per worker.
    label_order : str, optional
        The data set whose class numbers ``dataset``'s folders or CSV labels use (``affectnet``, ``raf-db``, ...:
        :data:`~facecraft.eval.datasets.LABEL_ORDERS`); numbers are refused without it. A set of numbered folders
        gets its variants in numbered folders too (:func:`~facecraft.eval.datasets.class_folder_names`).

    Returns
    -------
    dict
        The report (see :func:`~facecraft.eval.augment_report.build_report`), also in ``out/report.json``.
    """
    from .augment_report import write_report

    config = config or AugmentConfig()
    chosen = parse_targets(targets)
    if workers < 1 or threads < 1:
        raise ParameterError(f"workers and threads: expected >= 1, got {workers}, {threads}")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    pool_faces: list[SourceFace] = []
    counts = np.zeros(len(EMOTIONS), np.int64)
    unreadable: list[str] = []
    reader_report = None
    measure: str | None = None
    folders: dict[str, str] = {}  # the data set's own class folder names, so the tree merges into it
    known: list[SourceFace] = []  # every face of the data set's split: a resumed run's sheet shows earlier ones too
    if dataset is not None:
        from .datasets import class_folder_names

        folders = class_folder_names(dataset, label_order=label_order)
        faces, fmt, counts, unreadable = dataset_sources(dataset, split=split, label_order=label_order)
        known = faces
        config = _with_format(config, fmt)
        if use_dataset_faces:
            pool_faces += faces
        if config.min_reader_recall is not None and config.second_judges and config.filter.readers is None:
            cached = _cached_readers(out, dataset, config, label_order)
            if cached is None:
                measure = str(dataset)  # by the augmenter's own judges, in _run
            else:
                config, reader_report = _with_readers(config, cached[0]), cached[1]
    elif balance:
        raise ParameterError("balance: needs a data set (its class counts say how many images to add)")
    if max_per_class is not None and not balance:
        raise ParameterError("max_per_class (--max-per-class) caps what --balance adds: give --balance too")
    for folder in sources:
        found = photo_sources(folder)
        taken = {f.id for f in pool_faces}
        if any(f.id in taken for f in found):  # two folders of one name: their photos would share ids and files
            raise ParameterError(
                f"--sources {folder}: another source folder is also named {Path(folder).name!r} and holds the same "
                "file names; rename one folder"
            )
        pool_faces += found
    if not pool_faces:
        raise ParameterError("no source faces: give a data set with faces in its split and/or --sources folders")
    order = np.random.default_rng(config.seed).permutation(len(pool_faces))
    pool_faces = [pool_faces[i] for i in order]
    pool_faces = [s for s in pool_faces if s.label is None or _allowed(s.label, chosen, config)]
    if max_sources is not None:
        if int(max_sources) < 1:
            raise ParameterError(f"max_sources: expected at least 1, got {max_sources}")
        pool_faces = pool_faces[:max_sources]

    # recorded only when given: a folder written before the option keeps matching its own settings
    numbers = {"label_order": label_order} if dataset is not None and label_order else {}
    settings = _run_settings(config, chosen, split=split, balance=balance, max_per_class=max_per_class, **numbers)
    previous = read_manifest(out)  # first: a folder holding another tool's manifest is left as it was
    _refuse_rows_of_another_csv(out, previous, pool_faces)
    check_run_settings(out / SETTINGS, settings, overwrite=False, made="variants", redo="or delete it to start over")
    save_run_settings(out / SETTINGS, settings)
    previous = _renamed_row_files(out, previous)
    done_sources = {r["source"] for r in previous}
    accepted = Counter(r["target"] for r in previous if r.get("accepted"))
    quotas = _quotas(counts, chosen, max_per_class=max_per_class) if balance else None
    if quotas is not None and not any(quotas.values()):  # said, not only written to report.json as zeros
        logger.warning("augment --balance: %s already as large as the largest class; nothing to add", ", ".join(chosen))
    todo = [s for s in pool_faces if s.id not in done_sources]
    logger.info(
        "augment: %d sources (%d done before), targets %s%s",
        len(pool_faces),
        len(pool_faces) - len(todo),
        ",".join(chosen),
        f", quotas {quotas}" if quotas else "",
    )
    run = {"attempted": 0, "accepted": 0, "sources": 0}

    def wanted(source: SourceFace) -> tuple[str, ...]:
        open_targets = chosen if quotas is None else tuple(t for t in chosen if accepted[t] < quotas[t])
        return open_targets if source.label is None else _allowed(source.label, open_targets, config)

    def finished() -> bool:
        return quotas is not None and all(accepted[t] >= q for t, q in quotas.items())

    _log_interrupted_run(out)
    _drop_torn_tail(out / MANIFEST)
    manifest = (out / MANIFEST).open("a")
    bar = None
    try:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(todo), desc="augment", unit="face", disable=not progress)
        measured: dict = {}
        for records in _run(
            todo,
            wanted,
            finished,
            config,
            workers=workers,
            threads=threads,
            measure=measure,
            measured=measured,
            label_order=label_order,
        ):
            if measured and reader_report is None:
                config, reader_report = _with_readers(config, measured["readers"]), measured["report"]
                payload = {
                    "key": _readers_key(dataset, config, label_order),
                    "readers": measured["readers"],
                    "report": reader_report,
                }
                write_text_atomic(out / READERS, json.dumps(payload, indent=2), pid=False)
            for rec in records:
                crop = rec.pop("crop", None)
                if rec.get("accepted") and quotas is not None and accepted[rec["target"]] >= quotas[rec["target"]]:
                    rec["accepted"], rec["reason"] = False, "quota filled"
                if rec.get("accepted"):
                    rec["file"] = write_crop(out, rec, crop, folders=folders)
                    accepted[rec["target"]] += 1
                    run["accepted"] += 1
                if rec.get("target") is not None:
                    run["attempted"] += 1
                manifest.write(json.dumps(rec) + "\n")
            manifest.flush()
            run["sources"] += bool(records)
            current = {**run, "wall_s": round(time.perf_counter() - start, 1), "workers": workers}
            write_text_atomic(out / CURRENT_RUN, json.dumps(current), pid=False)
            bar.update(1)
            bar.set_postfix(accepted=run["accepted"])
            if finished():
                logger.info("augment: every quota met")
                break
        if bar.n < bar.total:  # every quota met before the last face: the rest were not needed
            bar.total = bar.n
            bar.refresh()
    finally:
        if bar is not None:
            bar.close()
        manifest.close()
    short = {t: (accepted[t], q) for t, q in (quotas or {}).items() if accepted[t] < q}
    if short:  # every source was tried (a stop raises past this): said, not only left in report.json
        logger.warning(
            "augment --balance: the sources ran out before the quotas were met (%s); add --sources photo folders, "
            "raise --per-image or --max-sources, or loosen the filter",
            ", ".join(f"{t} {n} of {q}" for t, (n, q) in short.items()),
        )
    wall = time.perf_counter() - start
    extra = {
        "dataset": None if dataset is None else str(dataset),
        "photo_sources": [str(s) for s in sources],
        "split": split,
        "label_order": label_order,
        "targets": list(chosen),
        "balance": balance,
        "quotas": quotas,
        "unreadable": unreadable,
        "class_counts_before": dict(zip(EMOTIONS, counts.tolist(), strict=True)),
        "config": config.to_dict(),
        "main_judge": judge_fingerprint(config),
        "judge_readers": reader_report,
        "workers": workers,
        "threads_per_worker": threads,
        "this_run": {
            **run,
            "wall_s": round(wall, 1),
            "accepted_per_min": round(run["accepted"] / max(wall / 60, 1e-9), 2),
        },
    }
    if any(f.pixels is not None for f in known):  # a FER2013 CSV: its added rows in its own layout too
        extra["fer2013_csv"] = str(write_fer2013_rows(out, f"{Path(dataset).stem}_augmented.csv"))
    extra["all_runs"] = _log_run(out, {**run, "wall_s": round(wall, 1), "workers": workers})
    (out / CURRENT_RUN).unlink(missing_ok=True)
    return write_report(out, extra=extra, pixels={f.id: f.pixels for f in known if f.pixels is not None})


def _is_run_record(record) -> bool:
    return isinstance(record, dict) and {"sources", "wall_s", "accepted"} <= record.keys()


def _append_run(out: Path, record: dict) -> Path:
    """Append one run's record to ``out/runs.jsonl`` (after a line a kill left unfinished is cut); its path."""
    path = out / RUNS
    _drop_torn_tail(path)
    with path.open("a") as f:
        f.write(json.dumps(record) + "\n")
    return path


def _log_interrupted_run(out: Path) -> None:
    """Log the run a kill stopped (its :data:`CURRENT_RUN` record, as far as it got) to ``out/runs.jsonl``."""
    path = out / CURRENT_RUN
    if not path.is_file():
        return
    try:
        record = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError):
        record = None
    if _is_run_record(record):
        _append_run(out, {**record, "interrupted": True})
        logger.info("augment: the previous run was stopped after %s faces; logged in %s", record["sources"], RUNS)
    path.unlink(missing_ok=True)


def _log_run(out: Path, run: dict) -> dict:
    """Append this run to ``out/runs.jsonl`` and total the runs of the folder that edited faces (a resumed
    set's real cost; a rerun with nothing left to do is logged but not counted)."""
    path = _append_run(out, {**run, "finished": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())})
    runs = []
    for i, line in enumerate(path.read_text().splitlines(), start=1):
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            record = None
        if _is_run_record(record):
            runs.append(record)
        elif line.strip():  # torn by a kill, or not ours: the finished run still gets its report
            logger.warning("%s line %d is not a run record: left out of the totals", path, i)
    runs = [r for r in runs if r["sources"] > 0]
    wall = sum(r["wall_s"] for r in runs)
    accepted = sum(r["accepted"] for r in runs)
    return {
        "runs": len(runs),
        "sources": sum(r["sources"] for r in runs),
        "accepted": accepted,
        "wall_s": round(wall, 1),
        "accepted_per_min": round(accepted / max(wall / 60, 1e-9), 2),
    }


def _with_format(config: AugmentConfig, fmt: OutputFormat) -> AugmentConfig:
    return replace(config, format=fmt)


def _with_readers(config: AugmentConfig, readers: dict[str, tuple[str, ...]]) -> AugmentConfig:
    return replace(config, filter=replace(config.filter, readers=readers))


#: What a folder's variants were made with: a resumed run with other targets or settings would skip the sources done
#: and leave a folder of two kinds described as one (``--per-image 3`` over a run of 2: nothing added).
SETTINGS = ".augment-settings.json"


def augmented_label_order(out: str | os.PathLike) -> str | None:
    """The ``label_order`` an augmented folder was made with (its numbered class folders are read with it), from its
    :data:`SETTINGS`; None when it has none."""
    try:
        saved = json.loads((Path(out) / SETTINGS).read_text())
    except (OSError, ValueError):
        return None
    return saved.get("label_order") if isinstance(saved, dict) else None


def _run_settings(config: AugmentConfig, chosen, **choices) -> dict:
    """The settings that decide a folder's variants (the measured second-judge readers left out: they are a
    cache, filled in after the first run)."""
    made = config.to_dict()
    made["filter"] = {k: v for k, v in dict(made.get("filter") or {}).items() if k != "readers"}
    return json.loads(json.dumps({"targets": list(chosen), **choices, **made}, default=str))


#: Where a folder keeps the measured second-judge readers (a resumed run reuses them instead of re-measuring).
READERS = "judge_readers.json"


def _readers_key(dataset, config: AugmentConfig, label_order: str | None = None) -> dict:
    return {
        "dataset": str(dataset),
        "judges": list(config.second_judges),
        "top_k": config.filter.second_top_k,
        "min_recall": config.min_reader_recall,
        "reference": reference_recall(config.filter.second_top_k),  # for classes with too few faces
        **({"label_order": label_order} if label_order else {}),  # the labels the recall was measured on
    }


def _cached_readers(
    out: Path, dataset, config: AugmentConfig, label_order: str | None = None
) -> tuple[dict, dict] | None:
    """The readers a previous run of this folder measured with the same data set, judges and rule, or None."""
    path = out / READERS
    if not path.is_file():
        return None
    try:
        saved = json.loads(path.read_text())
    except json.JSONDecodeError:
        return None
    if saved.get("key") != _readers_key(dataset, config, label_order):
        return None
    return {c: tuple(v) for c, v in saved["readers"].items()}, saved["report"]


def _allowed(label: str, targets: tuple[str, ...], config: AugmentConfig) -> tuple[str, ...]:
    """The targets a face labelled ``label`` may become (not its own expression, not barred by skip_sources)."""
    return tuple(t for t in targets if t != label and label not in config.skip_sources.get(t, ()))


def _run(
    todo: list[SourceFace],
    wanted,
    finished,
    config: AugmentConfig,
    *,
    workers: int,
    threads: int,
    measure: str | None = None,
    measured: dict | None = None,
    label_order: str | None = None,
) -> Iterator[list[dict]]:
    """Records per source, in completion order; at most ``2 * workers`` sources in flight (bounded memory).
    A source with no wanted target is passed over (``[]``: its face is done with, so a progress bar moves on); the
    run ends when ``finished()`` (every quota met).

    With ``measure`` (a data set), the second judges' readers are first measured on it by an augmenter's own
    judges (the models are loaded once per process, never in the parent as well) and put into ``measured``
    (``readers``, ``report``) before the first record comes (its class numbers read with ``label_order``); every
    variant is then judged with them. Nothing is loaded when there is nothing to do."""
    if not todo:
        return
    measured = {} if measured is None else measured
    if workers == 1:
        import torch

        before = torch.get_num_threads()
        torch.set_num_threads(threads)
        augmenter = Augmenter(config)
        try:
            if measure is not None:
                readers, report = measure_readers(measure, config, judges=augmenter.seconds, label_order=label_order)
                augmenter.config = _with_readers(config, readers)
                measured.update(readers=readers, report=report)
            for source in todo:
                if finished():
                    return
                targets = wanted(source)
                if not targets:
                    yield []  # passed over: no records, but the face is done with
                    continue
                yield augment_source(source, targets, augmenter=augmenter)
        finally:
            augmenter.close()
            torch.set_num_threads(before)
        return
    with spawn_pool(workers, initializer=_init_worker, initargs=(config, threads)) as pool:
        readers = None
        if measure is not None:
            readers, report = pool.submit(_measure, measure, label_order).result()
            measured.update(readers=readers, report=report)
        pending: set[Future] = set()
        it = iter(todo)
        exhausted = False
        while True:
            while not exhausted and len(pending) < 2 * workers:
                source = next(it, None)
                if source is None or finished():
                    exhausted = True
                    break
                targets = wanted(source)
                if not targets:
                    yield []  # passed over: no records, but the face is done with
                    continue
                pending.add(pool.submit(_work, source, targets, readers))
            if not pending:
                return
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            for fut in done:
                yield fut.result()
