"""What the studio's buttons and sliders do, without the UI: plain functions on arrays and file paths.

:mod:`facecraft.apps.studio` only lays out Gradio components and wires them to these functions, so each
job here is testable without a browser (``tests/apps/test_studio_handlers.py``). Every function checks its
inputs first and raises facecraft's own errors (:class:`~facecraft.rigs.errors.FacecraftError` subclasses)
with a message that names the file or control; the UI shows that message and keeps running.

Editing is split for speed: :func:`analyze_photo` runs once per photo (face detection and rig fit, about
half a second for a 512 px face), :func:`apply_edit` once per slider move (the warp alone, tens of ms).
"""

from __future__ import annotations

import dataclasses
import importlib
import importlib.util
import json
import logging
import os
import shutil
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np

from facecraft.audio2face.batch import AUDIO_SUFFIXES, VIDEO_SUFFIXES
from facecraft.eval.images import IMAGE_EXTENSIONS, PhotoTraits, load_image_with_traits, save_image
from facecraft.rigs import (
    ACTION_UNITS,
    ARKIT_NAMES,
    AU_NAMES,
    EMOTIONS,
    FacecraftError,
    FileFormatError,
    MissingFileError,
    NoFaceError,
    ParameterError,
    arkit_to_au,
    resolve_asset,
    side_mean,
)
from facecraft.synth.adapter_cli import REFINE_ADAPTER_ENV, REFINE_BASE_ENV  # the one name of each variable
from facecraft.synth.controls import EditControls
from facecraft.synth.refine_defaults import DEFAULT_GUIDANCE, DEFAULT_STEPS, DEFAULT_STRENGTH

log = logging.getLogger(__name__)

#: Largest photo file accepted (bytes), and largest photo (pixels) decoded at all.
MAX_IMAGE_BYTES = 25 * 2**20
MAX_IMAGE_PIXELS = 50_000_000
#: Photos whose longer side exceeds this are scaled down before editing (analysis time grows with pixels).
EDIT_MAX_SIDE = 2048
#: Largest speech file (bytes) and longest speech (seconds) the Animate tab takes.
MAX_AUDIO_BYTES = 50 * 2**20
MAX_AUDIO_S = 120.0
#: Shortest speech the Animate and Talk tabs take (seconds): less is a click of the record button, not a word (a short
#: word lasts about 0.2 s); it gave a video of one or two frames, and 70-100 ms a crash in the procedural mode.
MIN_AUDIO_S = 0.2
#: Largest video (bytes) whose sound the Animate and Talk tabs take (only the sound is read): a phone films 1080p at
#: about 17 Mbit/s and 4K at 50 or more, so its 30 s filled the 50 MB of a sound file and the studio's 120 s take
#: 250 to 750 MB.
MAX_VIDEO_BYTES = 2**30
#: Below this, a slider counts as untouched (its value still equals the face's own).
SLIDER_EPS = 1e-3
#: Name of the built-in sample photo (an asset name for :func:`facecraft.rigs.resolve_asset`).
SAMPLE_PHOTO = "astronaut"

# Face regions of the ARKit sliders, by name prefix, in the order the UI shows them.
ARKIT_REGIONS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("brows", ("brow",)),
    ("eyes", ("eye",)),
    ("cheeks and nose", ("cheek", "nose")),
    ("jaw", ("jaw",)),
    ("mouth", ("mouth",)),
    ("tongue", ("tongue",)),
)


def au_groups() -> dict[str, list[str]]:
    """AU codes by face region (:attr:`facecraft.rigs.facs.ActionUnit.region`), in FACS order."""
    groups: dict[str, list[str]] = {}
    for au in ACTION_UNITS:
        groups.setdefault(au.region, []).append(au.code)
    return groups


def arkit_groups() -> dict[str, list[str]]:
    """ARKit-52 names by face region (brows, eyes, cheeks and nose, jaw, mouth, tongue), Apple's order."""
    groups = {region: [n for n in ARKIT_NAMES if n.startswith(prefixes)] for region, prefixes in ARKIT_REGIONS}
    missing = set(ARKIT_NAMES) - {n for names in groups.values() for n in names}
    if missing:  # a new name prefix would otherwise lose its slider silently
        raise ParameterError(f"ARKit names without a studio region: {sorted(missing)}")
    return groups


def au_label(code: str) -> str:
    """Slider label of an AU: ``"AU12 lip corner puller"``."""
    return f"{code} {next(a.name for a in ACTION_UNITS if a.code == code)}"


# ---------------------------------------------------------------------------------------------- uploads
def _size_mb(n: int) -> str:
    return f"{n / 2**20:.1f} MB"


def check_upload(path, *, kind: str, max_bytes: int, suffixes: Sequence[str] | None = None) -> Path:
    """An uploaded file's path after the cheap checks: given, present, a file, allowed type, not oversized.

    Parameters
    ----------
    path : path-like or None
        What the UI passed (None when nothing was uploaded).
    kind : str
        What the file should be (``"photo"``, ``"speech"``), for messages.
    max_bytes : int
        Largest accepted file size.
    suffixes : sequence of str, optional
        Accepted name endings (lower case, with the dot); None accepts any.
    """
    if path is None or (isinstance(path, str) and not path.strip()):
        raise ParameterError(f"no {kind} given: upload a file first")
    p = Path(path)
    if not p.exists():
        raise MissingFileError(f"{kind} file not found: {p.name}")
    if not p.is_file():
        raise FileFormatError(f"{p.name}: expected a {kind} file, got a folder")
    if suffixes is not None and p.suffix.lower() not in suffixes:
        raise FileFormatError(
            f"{p.name}: unsupported {kind} file type {p.suffix or '(no extension)'!r}; expected one of "
            f"{', '.join(suffixes)}"
        )
    size = p.stat().st_size
    if size > max_bytes:
        raise ParameterError(f"{p.name}: the file is {_size_mb(size)}, above the studio's {_size_mb(max_bytes)} limit")
    if size == 0:
        raise FileFormatError(f"{p.name}: the file is empty")
    return p


#: Longest part of a result file's name (UTF-8 bytes) taken from an upload's name: the file system takes 255 bytes,
#: and a photo named near that (a long download name, 80 characters of Japanese) failed every edit and video with
#: "File name too long" once "-edited.png", "-talking.mp4" or a video's part-file ending was added.
MAX_STEM_BYTES = 120


def upload_stem(name, default: str) -> str:
    """The stem of an uploaded file's name (``default`` when it has none), cut to :data:`MAX_STEM_BYTES` bytes at a
    character boundary: the start of the names of the results made from it."""
    stem = Path(str(name)).stem.strip() or default
    cut = stem.encode("utf-8")[:MAX_STEM_BYTES].decode("utf-8", errors="ignore").rstrip()
    return cut or default


def load_photo(path, *, max_side: int = EDIT_MAX_SIDE) -> tuple[np.ndarray, str, PhotoTraits]:
    """An uploaded photo as RGB uint8 ``(H, W, 3)`` (a transparent one composited on white), scaled down to
    ``max_side`` when larger, a note, and the traits its edits keep (colour profile, greyness, transparency: see
    :func:`facecraft.eval.images.save_image`), at the size returned.

    Raises
    ------
    ParameterError
        Oversized file or picture (:data:`MAX_IMAGE_BYTES`, :data:`MAX_IMAGE_PIXELS`).
    FileFormatError
        Not an image (wrong extension, or Pillow cannot decode it).
    """
    from PIL import Image, UnidentifiedImageError

    p = check_upload(path, kind="photo", max_bytes=MAX_IMAGE_BYTES, suffixes=IMAGE_EXTENSIONS)
    try:  # the header gives the size without decoding the pixels (guards against decompression bombs)
        with Image.open(p) as im:
            w, h = im.size
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as e:
        raise FileFormatError(f"{p.name}: not a readable image ({type(e).__name__}: {e})") from e
    if w * h > MAX_IMAGE_PIXELS:
        raise ParameterError(
            f"{p.name}: the picture is {w}x{h} = {w * h / 1e6:.0f} Mpx, above the studio's "
            f"{MAX_IMAGE_PIXELS / 1e6:.0f} Mpx limit"
        )
    img, traits = load_image_with_traits(p)
    note = f"{p.name}: {img.shape[1]}x{img.shape[0]}"
    side = max(img.shape[:2])
    if side > max_side:
        import cv2

        scale = max_side / side
        size = (max(1, round(img.shape[1] * scale)), max(1, round(img.shape[0] * scale)))  # a strip: 0 px crashed
        img = cv2.resize(img, size, interpolation=cv2.INTER_AREA)
        note += f", scaled to {size[0]}x{size[1]} for editing"
    return img, note, _traits_at(traits, img.shape[:2])


def _traits_at(traits: PhotoTraits, shape: tuple[int, int]) -> PhotoTraits:
    """``traits`` for the photo scaled to ``shape`` ``(H, W)``: its transparency (and the colour under it) scaled as
    the pixels are, so the edit is written transparent as ``facecraft edit`` writes it (it was written opaque on
    white: a cut-out PNG came back with a white background)."""
    if traits.alpha is None or traits.alpha.shape == tuple(shape):
        return traits
    import cv2

    size = (shape[1], shape[0])
    straight = None if traits.straight is None else cv2.resize(traits.straight, size, interpolation=cv2.INTER_AREA)
    return dataclasses.replace(traits, alpha=cv2.resize(traits.alpha, size, interpolation=cv2.INTER_AREA),
                               straight=straight)  # fmt: skip


def sample_photo_path() -> str:
    """Path of the built-in sample photo (scikit-image's astronaut, public domain, 512 px)."""
    return str(resolve_asset(SAMPLE_PHOTO))


# ---------------------------------------------------------------------------------------------- models
@dataclass(frozen=True)
class RefineConfig:
    """Where "refine with diffusion" finds its diffusion base and AU adapter (folders), and its device.

    :meth:`from_env` fills what is not given from ``$FACECRAFT_REFINE_BASE`` / ``$FACECRAFT_REFINE_ADAPTER``.
    """

    base: str | None = None
    adapter: str | None = None
    device: str = "cpu"

    @classmethod
    def from_env(cls, base: str | None = None, adapter: str | None = None, *, device: str = "cpu") -> RefineConfig:
        return cls(
            base or os.environ.get(REFINE_BASE_ENV) or None,
            adapter or os.environ.get(REFINE_ADAPTER_ENV) or None,
            device,
        )


class StudioModels:
    """The models the studio shares between its users, each loaded on first use, once.

    ``refine`` says where the diffusion refine's base and adapter are (default: the environment).
    """

    def __init__(self, *, refine: RefineConfig | None = None) -> None:
        self.refine = refine if refine is not None else RefineConfig.from_env()
        self._lock = threading.Lock()
        self._refine_pipe = None
        self._editor = None
        self._analyzer = None
        self._identity = None
        self._judges: dict[str, object] = {}
        self._judge_errors: dict[str, str] = {}

    @property
    def editor(self):
        """:class:`facecraft.synth.editor.FaceEditor` (its analyzer serialises MediaPipe calls)."""
        with self._lock:
            if self._editor is None:
                from facecraft.synth.editor import FaceEditor

                self._editor = FaceEditor()
            return self._editor

    @property
    def analyzer(self):
        """The editor's :class:`facecraft.eval.faces.FaceAnalyzer` (one MediaPipe graph for the studio)."""
        return self.editor.analyzer

    @property
    def identity(self):
        """:class:`facecraft.eval.identity.IdentityJudge`."""
        with self._lock:
            if self._identity is None:
                from facecraft.eval.identity import IdentityJudge

                self._identity = IdentityJudge()
            return self._identity

    def refine_pipeline(self):
        """:class:`facecraft.synth.refine.AUEditPipeline` on the configured base and adapter (built once)."""
        ok, why = refine_status(self.refine)
        if not ok:
            raise MissingFileError(f"refine with diffusion is not available: {why}")
        editor = self.editor
        with self._lock:
            if self._refine_pipe is None:
                import torch

                from facecraft.synth.refine import AUEditPipeline

                cfg = self.refine
                dtype = torch.float16 if cfg.device.startswith("cuda") else None  # as `facecraft edit --refine`
                pipe = AUEditPipeline.from_base(
                    cfg.base, adapter=cfg.adapter, editor=editor, device=cfg.device, dtype=dtype
                )
                pipe.set_progress_bar_config(disable=True)
                self._refine_pipe = pipe
            return self._refine_pipe

    def judges(self) -> tuple[dict[str, object], dict[str, str]]:
        """Every FER judge that loads, and for each one that does not, why (e.g. no trained weights yet)."""
        from facecraft.eval.judges import SUPPORTED_JUDGES, get_judge

        with self._lock:
            for name in SUPPORTED_JUDGES:
                if name in self._judges or name in self._judge_errors:
                    continue
                try:
                    self._judges[name] = get_judge(name)
                except (FacecraftError, ImportError, OSError) as e:
                    log.warning("judge %s unavailable: %s", name, e)
                    self._judge_errors[name] = f"{type(e).__name__}: {e}"
            return dict(self._judges), dict(self._judge_errors)


@lru_cache(maxsize=1)
def shared_models() -> StudioModels:
    """The process's :class:`StudioModels` (one set of models for every browser tab)."""
    return StudioModels()


#: How many result folders (:func:`output_dir`) are kept: the newest ones, whose files the page may still show or
#: offer for download. An edit writes two (before, after), up to about 9 MB at :data:`EDIT_MAX_SIDE`.
KEEP_RESULTS = 50
#: A folder made for a job that fills it over time (a talking video, an augmented data set) is kept this long
#: even when newer results push it out of the newest :data:`KEEP_RESULTS`, so it is not removed under its job.
JOB_HOLD_S = 3600.0
_JOB_MARK = ".job"  # in a job's folder; its time is the job's start


def results_root() -> Path:
    """The folder that holds the result folders, inside the system temp folder (where Gradio may serve from)."""
    return Path(tempfile.gettempdir()) / "facecraft-studio"


def output_dir(*, job: bool = False) -> Path:
    """A fresh folder for one result's files, in :func:`results_root`; older results beyond the newest
    :data:`KEEP_RESULTS` are removed (:func:`prune_results`). ``job``: the folder is filled over time (kept for
    :data:`JOB_HOLD_S` whatever comes after it)."""
    root = results_root()
    out = root / uuid.uuid4().hex[:12]
    out.mkdir(parents=True, exist_ok=True)
    if job:
        (out / _JOB_MARK).touch()
    prune_results(root, keep_also=out)
    return out


def prune_results(root: Path | None = None, *, keep: int | None = None, keep_also: Path | None = None) -> int:
    """Remove the result folders in ``root`` (default :func:`results_root`) beyond the newest ``keep`` (default
    :data:`KEEP_RESULTS`; by the time they last changed), except ``keep_also`` and a job's folder younger than
    :data:`JOB_HOLD_S`; returns how many went. Only folders named as :func:`output_dir` names them are touched; one
    that cannot be removed (or that another studio removes first) is left. Run at start-up and by :func:`output_dir`.
    """
    root = results_root() if root is None else Path(root)
    keep = KEEP_RESULTS if keep is None else max(int(keep), 0)
    folders: list[tuple[int, str, Path]] = []
    try:
        with os.scandir(root) as it:
            entries = list(it)
    except OSError:  # no folder yet
        return 0
    for e in entries:
        if len(e.name) == 12 and all(c in "0123456789abcdef" for c in e.name) and e.is_dir(follow_symlinks=False):
            try:
                folders.append((e.stat(follow_symlinks=False).st_mtime_ns, e.name, Path(e.path)))
            except OSError:
                continue
    folders.sort(reverse=True)
    now = time.time()
    removed = 0
    for _, name, folder in folders[keep:]:
        if keep_also is not None and name == Path(keep_also).name:
            continue
        try:
            if now - (folder / _JOB_MARK).stat().st_mtime < JOB_HOLD_S:
                continue
        except OSError:  # no mark: not a job's folder
            pass
        shutil.rmtree(folder, ignore_errors=True)
        removed += not folder.exists()
    if removed:
        log.info("studio: removed %d old result folder(s) from %s (keeping the newest %d)", removed, root, keep)
    return removed


# ---------------------------------------------------------------------------------------------- edit
@dataclass
class EditSession:
    """One analysed photo: the image, its faces (largest first), and each face's slider values now.

    ``au_now[i]`` is ``(25,)`` (bilateral AU intensities, the mean of both sides); ``arkit_now[i]`` is
    ``(52,)`` (MediaPipe's scores). A slider left at its face's value asks for nothing.
    """

    name: str
    image: np.ndarray = field(repr=False)
    faces: list = field(repr=False)
    au_now: list[np.ndarray] = field(repr=False)
    arkit_now: list[np.ndarray] = field(repr=False)
    note: str = ""
    analyze_ms: float = 0.0
    #: The photo's colour profile, greyness and transparency, kept in the PNGs the studio writes (:func:`load_photo`).
    traits: PhotoTraits = field(default_factory=PhotoTraits, repr=False)
    #: The uploaded file, and its size ``(width, height)`` when the studio edits it scaled down (else None).
    source: str = ""
    full_size: tuple[int, int] | None = None
    #: The full-size photo and its faces, analysed on the first full-size edit (:func:`full_size_edit`).
    full: tuple | None = field(default=None, repr=False)

    @property
    def stem(self) -> str:
        """The photo's name without its ending, as the results made from it start (:func:`upload_stem`)."""
        return upload_stem(self.name, "photo")

    def face_choices(self, *, every: bool = True) -> list[tuple[str, int]]:
        """``(label, value)`` pairs for the face picker, the largest face first (:meth:`face_label`): with ``every``
        (and several faces), first ``("all faces (N)", -1)``, which edits every face."""
        choices = [(f"all faces ({len(self.faces)})", -1)] if every and len(self.faces) > 1 else []
        return choices + [(self.face_label(i), i) for i in range(len(self.faces))]

    def face_name(self, face) -> str:
        """Face ``face`` as the studio names it: where it is in the photo, left to right, and the number the command
        line's ``--face`` takes (0 = the largest, the faces' order here): ``"right face (--face 1)"``. The picker
        said "face 1 (largest): 173 px" above "face 2: 177 px" (ordered by area, labelled by width), "at (266, 2)"
        in pixels, and numbered from 1 where ``facecraft edit --face`` numbers from 0."""
        i = self.face_index(face)
        n = len(self.faces)
        if n == 1:
            return "face (--face 0)"
        centres = [float(f.info.box[0] + f.info.box[2]) / 2 for f in self.faces]
        rank = sorted(range(n), key=lambda k: (centres[k], k)).index(i)
        where = FACE_POSITIONS[n][rank] + " face" if n in FACE_POSITIONS else f"{_ordinal(rank + 1)} face from the left"
        return f"{where} (--face {i})"

    def face_label(self, face) -> str:
        """The face picker's label of ``face``: :meth:`face_name` and its size among the faces, which is their
        order (``"left face (--face 0): the largest"``)."""
        i = self.face_index(face)
        if len(self.faces) == 1:
            return self.face_name(i)
        return f"{self.face_name(i)}: {'the largest' if i == 0 else _ordinal(i + 1) + ' largest'}"

    def slider_values(self, face: int = 0) -> tuple[list[float], list[float]]:
        """AU and ARKit slider values showing ``face`` as it is (face -1, all faces: the largest)."""
        i = self.face_index(face)
        return [round(float(v), 3) for v in self.au_now[i]], [round(float(v), 3) for v in self.arkit_now[i]]

    def face_index(self, face) -> int:
        """``face`` checked: an index into :attr:`faces`, -1 (all) read as the largest face."""
        try:
            i = int(face if face is not None else 0)
        except (TypeError, ValueError) as e:
            raise ParameterError(f"face: expected a face number, got {face!r}") from e
        if i == -1:
            return 0
        if not 0 <= i < len(self.faces):
            raise ParameterError(
                f"face: {i} requested but the photo has {len(self.faces)} face(s), numbered from 0 (the largest) as "
                "--face numbers them"
            )
        return i


#: Position words of the faces of a photo with this many faces, left to right (more faces: "3rd face from the left").
FACE_POSITIONS: dict[int, tuple[str, ...]] = {2: ("left", "right"), 3: ("left", "middle", "right")}


def _ordinal(n: int) -> str:
    """``1st``, ``2nd``, ``3rd``, ``4th``, ..., ``11th``, ``21st``."""
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


@dataclass(frozen=True)
class NoPhoto:
    """What a tab holds in place of an :class:`EditSession` when its last photo could not be used, and why
    (``"no face found in wall.png ..."``): a run then says that reason, not that no photo was given."""

    reason: str


def require_session(session: EditSession | NoPhoto | None) -> EditSession:
    """``session``, or the error a control used without a photo with a face gives (the Edit and Talk tabs): why the
    last photo could not be used (:class:`NoPhoto`), or that none was uploaded yet ("no photo analysed yet" right
    after an upload told the opposite)."""
    if isinstance(session, NoPhoto):
        raise ParameterError(session.reason)
    if session is None:
        raise ParameterError(
            "no photo with a face to use: upload a photo where a face shows (or pick the sample) and wait for "
            "'face(s) found'"
        )
    return session


def bilateral_au(arkit: np.ndarray) -> np.ndarray:
    """``(25,)`` AU intensities (mean of both sides) that best explain ARKit weights ``(52,)``."""
    return side_mean(arkit_to_au(np.asarray(arkit, np.float32)))


#: The face analyzer's words for a photo without a face (:meth:`facecraft.eval.faces.FaceAnalyzer.no_face_error`):
#: the array's shape and the detector's name are for developers, and its smallest face found is worth saying only
#: as part of the advice to crop.
def no_face_message(error: NoFaceError) -> str:
    """The analyzer's :class:`NoFaceError` in the studio's words: the photo, and what to try.

    ``no face found in no_face.png (shape (400, 600, 3)) by the MediaPipe face detector; faces narrower than about 48
    px are not found in a photo this size`` becomes ``no face found in no_face.png: try a photo where the face is
    clearly visible and frontal; a face small in the picture (a group or a distant shot; here, narrower than about 48
    px) is found once the photo is cropped around it``. No size in the advice itself: a face of 64 px in a 2000 px
    photo is not found (the analyzer's "narrower than about 78 px"), and "at least 48 px wide" said the opposite.
    An error without its source (another detector's) is kept as it is, the advice after it.
    """
    small = "" if error.smallest_px is None else f"; here, narrower than about {error.smallest_px:.0f} px"
    head = f"no face found in {error.source}:" if error.source else f"{error};"
    return (
        f"{head} try a photo where the face is clearly visible and frontal; a face small in the picture (a group or a "
        f"distant shot{small}) is found once the photo is cropped around it"
    )


def analyze_photo(path, *, models: StudioModels | None = None) -> EditSession:
    """Load an uploaded photo and find its faces (rig fitted to each): the once-per-photo step of editing.

    Raises
    ------
    NoFaceError
        No face in the photo (the message names the file).
    """
    models = models or shared_models()
    img, note, traits = load_photo(path)
    name = Path(path).name
    t0 = time.perf_counter()
    try:
        faces = models.editor.analyze(img, name=name)
    except NoFaceError as e:
        raise NoFaceError(no_face_message(e)) from e
    ms = (time.perf_counter() - t0) * 1e3
    arkit_now = [f.weights.copy() for f in faces]
    full = _image_size(path)
    scaled = full if full != (img.shape[1], img.shape[0]) else None
    return EditSession(name, img, faces, [bilateral_au(w) for w in arkit_now], arkit_now, note, ms, traits,
                       source=str(path), full_size=scaled)  # fmt: skip


def _image_size(path) -> tuple[int, int]:
    """``(width, height)`` of an image file as shown upright (its EXIF orientation applied), from its header."""
    from PIL import Image

    with Image.open(path) as im:
        w, h = im.size
        turned = im.getexif().get(0x0112, 1) in (5, 6, 7, 8)  # orientations stored sideways
    return (h, w) if turned else (w, h)


def changed_controls(
    session: EditSession, face: int, au_values: Sequence[float], arkit_values: Sequence[float]
) -> tuple[dict[str, float], dict[str, float]]:
    """The AU and ARKit sliders the user moved away from the face's own value (those set their channel)."""
    if len(au_values) != len(AU_NAMES) or len(arkit_values) != len(ARKIT_NAMES):
        raise ParameterError(
            f"expected {len(AU_NAMES)} AU and {len(ARKIT_NAMES)} ARKit slider values, "
            f"got {len(au_values)} and {len(arkit_values)}"
        )
    au_now, arkit_now = session.slider_values(face)
    au_values = [_number(v, n) for n, v in zip(AU_NAMES, au_values, strict=True)]
    arkit_values = [_number(v, n) for n, v in zip(ARKIT_NAMES, arkit_values, strict=True)]
    au = {n: v for n, v, now in zip(AU_NAMES, au_values, au_now, strict=True) if abs(v - now) > SLIDER_EPS}
    arkit = {n: v for n, v, now in zip(ARKIT_NAMES, arkit_values, arkit_now, strict=True) if abs(v - now) > SLIDER_EPS}
    return au, arkit


def _number(value, name: str) -> float:
    """A control's value as a finite number, else an error naming the control (None or text was a TypeError in
    the edit, NaN a slider silently left out)."""
    v = slider_value(value, lo=-np.inf, hi=np.inf)
    if v is None or not np.isfinite(v):
        raise ParameterError(f"{name}: expected a number, got {value!r}")
    return v


#: Range of the intensity, AU and ARKit sliders.
SLIDER_RANGE = (0.0, 1.0)
#: An emotion's intensity where the Edit, Animate and Talk tabs start, and where the Edit tab's Reset puts it back.
DEFAULT_INTENSITY = 0.8


def emotion_intensity(value) -> float:
    """An emotion's intensity control (the Edit, Animate and Talk tabs) checked: a number in [0, 1]."""
    v = _number(value, "intensity")
    if not SLIDER_RANGE[0] <= v <= SLIDER_RANGE[1]:
        raise ParameterError(f"intensity: expected a value in [0, 1], got {value}")
    return v


def slider_value(value, *, lo: float = SLIDER_RANGE[0], hi: float = SLIDER_RANGE[1]) -> float | None:
    """A slider's value as the page sends it, taken into ``[lo, hi]``: above ``hi`` is ``hi``, below ``lo`` is
    ``lo``. None when the slider's number box holds no number (left empty, or text the browser cannot read)."""
    if value is None or isinstance(value, bool):
        return None
    try:
        v = float(value)
    except (TypeError, ValueError):
        return None
    if v != v:  # NaN
        return None
    return min(max(v, lo), hi)


@dataclass
class SliderInputs:
    """The intensity, AU and ARKit sliders' values as typed, read by :func:`read_sliders`.

    ``intensity``, ``au_values`` and ``arkit_values`` are the values to edit with (each within
    :data:`SLIDER_RANGE`; None where :attr:`blank`). ``clamped`` maps each slider typed outside the range to
    ``(typed, used)``; ``blank`` names the sliders whose number box holds no number.
    """

    intensity: float | None
    au_values: list[float | None]
    arkit_values: list[float | None]
    clamped: dict[str, tuple[float, float]] = field(default_factory=dict)
    blank: list[str] = field(default_factory=list)

    def note(self) -> str:
        """What the page should tell about the typed values ("" when each was a number within the range)."""
        lo, hi = SLIDER_RANGE
        parts = [f"{name} {typed:g} taken as {used:g}" for name, (typed, used) in self.clamped.items()]
        if parts:
            parts[-1] += f" (sliders go from {lo:g} to {hi:g})"
        if self.blank:
            parts.append(f"type a number from {lo:g} to {hi:g} for {', '.join(self.blank)}")
        return "; ".join(parts)


def read_sliders(intensity, au_values: Sequence, arkit_values: Sequence) -> SliderInputs:
    """The intensity, AU and ARKit slider values as the page sent them (unchecked: out of range, None or text),
    each taken into :data:`SLIDER_RANGE` by :func:`slider_value`; what was changed or unreadable is recorded."""
    if len(au_values) != len(AU_NAMES) or len(arkit_values) != len(ARKIT_NAMES):
        raise ParameterError(
            f"expected {len(AU_NAMES)} AU and {len(ARKIT_NAMES)} ARKit slider values, "
            f"got {len(au_values)} and {len(arkit_values)}"
        )
    out = SliderInputs(None, [], [])
    named = [("intensity", intensity), *zip(AU_NAMES, au_values, strict=True)]
    named += zip(ARKIT_NAMES, arkit_values, strict=True)
    used = []
    for name, typed in named:
        v = slider_value(typed)
        used.append(v)
        if v is None:
            out.blank.append(name)
        elif v != float(typed):
            out.clamped[name] = (float(typed), v)
    out.intensity, out.au_values, out.arkit_values = used[0], used[1 : 1 + len(AU_NAMES)], used[1 + len(AU_NAMES) :]
    return out


@dataclass
class EditOutcome:
    """An edit's result for the UI: before and after ``(H, W, 3)`` uint8, the message, the edit's time, where
    the edit changed pixels (``mask``, ``(H, W)`` in [0, 1]; None: nowhere) and a transparent photo's alpha moved
    with the face (``alpha``, ``(H, W)`` uint8; None: opaque, or not moved, and then written opaque where changed),
    both as :func:`save_png` takes them."""

    before: np.ndarray
    after: np.ndarray
    message: str
    edit_ms: float
    controls: dict
    mask: np.ndarray | None = field(default=None, repr=False)
    alpha: np.ndarray | None = field(default=None, repr=False)


def apply_edit(
    session: EditSession | None,
    *,
    face: int = -1,
    emotion: str | None = None,
    intensity: float = 1.0,
    text: str | None = None,
    au_values: Sequence[float] = (),
    arkit_values: Sequence[float] = (),
    models: StudioModels | None = None,
    full_size: bool = False,
    keep_glasses: bool = False,
) -> EditOutcome:
    """Edit the analysed photo as the controls ask: the cheap step, run on every slider move.

    Parameters
    ----------
    session : EditSession
        From :func:`analyze_photo` (None: no photo yet, a :class:`ParameterError`).
    face : int
        Face to edit (0 = largest), -1 for all.
    emotion : str, optional
        One of :data:`facecraft.rigs.EMOTIONS`, or None / ``""`` for no emotion.
    intensity : float
        The emotion's intensity in [0, 1].
    text : str, optional
        A few words (``"a shy smile"``); blank is ignored.
    au_values, arkit_values : sequences of float
        All 25 AU and 52 ARKit slider values; only those moved away from the face's own value count
        (:func:`changed_controls`), each setting its channel outright.
    full_size : bool
        Edit the photo at the size it was uploaded (:func:`full_size_photo`), not the scaled copy.
    keep_glasses : bool
        Keep a glasses frame straight, the face moving behind it (:attr:`EditControls.keep_glasses`).
    """
    require_session(session)
    models = models or shared_models()
    face = -1 if face is None else face  # as the studio sends an empty face picker: every face
    i = session.face_index(face)
    args = edit_arguments(session, i, emotion, intensity, text, au_values, arkit_values)
    image, faces, traits = (
        full_size_photo(session, models) if full_size else (session.image, session.faces, session.traits)
    )
    if not args:
        return EditOutcome(image, image, "no change asked: the photo as it is", 0.0, {})
    controls = EditControls.from_args(**args, keep_glasses=bool(keep_glasses))
    target = None if int(face) == -1 else i
    result = models.editor.apply(image, faces, controls, face=target, name=session.name, alpha=traits.alpha)
    changed = float((result.mask > 0.01).mean()) * 100
    held = sum(bool(f.glasses_held) for f in result.faces)
    kept = (", glasses kept still" if held else ", no glasses frame found to keep still") if keep_glasses else ""
    message = f"{_describe(args)}{kept}; {len(result.faces)} face(s) edited, {changed:.1f}% of pixels changed, " \
              f"{result.edit_ms:.0f} ms"  # fmt: skip
    return EditOutcome(image, result.image, message, result.edit_ms, args, result.mask, result.alpha)


def full_size_photo(session: EditSession, models: StudioModels) -> tuple[np.ndarray, list, PhotoTraits]:
    """The uploaded photo at its own size, its faces and traits: analysed on the first full-size edit, then kept;
    its faces match the scaled photo's by size order (the same order), else an error."""
    if session.full is None:
        image, traits = load_image_with_traits(session.source)
        session.full = (image, models.editor.analyze(image, name=session.name), traits)
    image, faces, traits = session.full
    if len(faces) != len(session.faces):
        raise ParameterError(
            f"{session.name}: {len(faces)} face(s) found at full size but {len(session.faces)} scaled down; "
            "edit a crop of the photo around the face"
        )
    return image, faces, traits


def full_size_edit(session: EditSession | None, *, models: StudioModels | None = None, **controls) -> str:
    """The PNG path of :func:`apply_edit` (same ``controls``) made on the photo at the size it was uploaded: the
    studio edits photos above :data:`EDIT_MAX_SIDE` scaled down, for speed, and this makes the download."""
    models = models or shared_models()
    out = apply_edit(session, models=models, full_size=True, **controls)
    return save_png(
        out.after, stem=f"{session.stem}-edited-full-size", like=session.full[2], changed=out.mask, alpha=out.alpha
    )


def _describe(args: dict, *, most: int = 4) -> str:
    """``emotion=happiness:1.000, au: AU12=0.60`` (slider lists longer than ``most`` are counted instead); text
    with what it was read as."""
    from facecraft.rigs.expression_text import describe_text

    parts = []
    for k, v in args.items():
        if k == "text":  # in brackets: its reading is a list with commas of its own
            parts.append(f"text {v!r} (read as {describe_text(v)})")
        elif not isinstance(v, dict):
            parts.append(f"{k}={v}")
        elif len(v) <= most:
            parts.append(f"{k}: " + " ".join(f"{n}={x:.2f}" for n, x in v.items()))
        else:
            parts.append(f"{k}: {len(v)} sliders")
    over, sources = _slider_overrides(args)
    if over:
        theirs = " and ".join(f"{k}'s" for k in sources)
        parts.append(
            f"{' '.join(over)} from {'its slider' if len(over) == 1 else 'their sliders'} in place of the {theirs}"
        )
    return ", ".join(parts)


def _slider_overrides(args: dict) -> tuple[list[str], list[str]]:
    """The AU sliders moved (``args["au"]``) that set an AU the emotion or the text of ``args`` also moves, and which
    of the two move them: the slider's value is used (a channel a slider sets stays set), so an AU12 slider left at 0.2
    took the smile out of "a shy smile" typed after it, and the status line did not say why."""
    from facecraft.rigs.expression_text import DESCRIBED_AU
    from facecraft.synth.controls import read_control

    moved = [n for n in args.get("au") or {} if n.rstrip("LR") in AU_NAMES]
    over: set[str] = set()
    sources = []
    for key in ("emotion", "text"):
        if key in args and moved:
            code = read_control(args[key], key)[0]  # as the edit reads it (its gaze applied: no "gaze ignored" warning)
            driven = side_mean(np.asarray(code.to_au()))
            hit = {n for n in moved if driven[AU_NAMES.index(n.rstrip("LR"))] >= DESCRIBED_AU}
            over |= hit
            sources += [key] if hit else []
    return [n for n in moved if n in over], sources


def edit_arguments(
    session: EditSession,
    face: int,
    emotion: str | None,
    intensity: float,
    text: str | None,
    au_values: Sequence[float],
    arkit_values: Sequence[float],
) -> dict:
    """Keyword arguments of :meth:`EditControls.from_args` for what the controls ask (empty: nothing)."""
    au, arkit = changed_controls(session, face, au_values, arkit_values)
    args: dict = {}
    if emotion:
        if emotion not in EMOTIONS:
            raise ParameterError(f"emotion: expected one of {', '.join(EMOTIONS)}, got {emotion!r}")
        args["emotion"] = f"{emotion}:{emotion_intensity(intensity):.3f}"
    if text and text.strip():
        args["text"] = text.strip()
    if au:
        args["au"] = au
    if arkit:
        args["arkit"] = arkit
    return args


def save_png(
    image: np.ndarray,
    *,
    stem: str = "edited",
    like: PhotoTraits | None = None,
    changed: np.ndarray | None = None,
    alpha: np.ndarray | None = None,
) -> str:
    """Write an RGB uint8 image to a fresh PNG in :func:`output_dir` (for a download) and return its path;
    ``like``: the traits of the photo it shows (:attr:`EditSession.traits`), ``changed``: where an edit moved pixels
    (:attr:`EditOutcome.mask`; a transparent photo stays transparent elsewhere), ``alpha``: a transparent photo's
    alpha moved with the face (:attr:`EditOutcome.alpha`), as :func:`facecraft.eval.images.save_image` takes them."""
    name = Path(stem).name  # "photo.v2.final-edited" keeps its dots; only an image ending goes ("x.jpg")
    name = Path(name).stem if Path(name).suffix.lower() in IMAGE_EXTENSIONS else name
    path = output_dir() / f"{name}.png"
    save_image(image, path, like=like, changed=changed, alpha=alpha, compress_level=1)
    return str(path)


# ---------------------------------------------------------------------------------------------- refine
def refine_status(config: RefineConfig | None = None) -> tuple[bool, str]:
    """Whether "refine with diffusion" can run here, and if not, why.

    It needs :mod:`facecraft.synth.refine` (diffusers) and a configured diffusion base folder and AU adapter
    folder (``config``; default :meth:`RefineConfig.from_env`).
    """
    config = config if config is not None else RefineConfig.from_env()
    if importlib.util.find_spec("facecraft.synth.refine") is None:
        return False, "diffusion refinement is not part of this installation (facecraft.synth.refine is missing)"
    if not config.base or not config.adapter:
        return False, (
            "no diffusion base and AU adapter configured: start the studio with `facecraft app --refine-base DIR "
            "--refine-adapter DIR` (or set FACECRAFT_REFINE_BASE and FACECRAFT_REFINE_ADAPTER)"
        )
    for what, folder in (("diffusion base", config.base), ("AU adapter", config.adapter)):
        if not Path(folder).is_dir():
            return False, f"{what} folder not found: {folder}"
    return True, f"base {config.base}, adapter {config.adapter} ({config.device})"


def refine_edit(
    session: EditSession | None,
    *,
    face: int = -1,
    emotion: str | None = None,
    intensity: float = 1.0,
    text: str | None = None,
    au_values: Sequence[float] = (),
    arkit_values: Sequence[float] = (),
    strength: float = DEFAULT_STRENGTH,
    steps: int = DEFAULT_STEPS,
    guidance: float = DEFAULT_GUIDANCE,
    seed: int = 0,
    models: StudioModels | None = None,
) -> EditOutcome:
    """The geometric edit of :func:`apply_edit`, then the AU-conditioned diffusion refine of one face
    (:class:`facecraft.synth.refine.AUEditPipeline`; "all faces" refines the largest). Seconds, not ms."""
    import torch

    require_session(session)
    models = models or shared_models()
    i = session.face_index(face)  # refines one face: none picked is the largest
    args = edit_arguments(session, i, emotion, intensity, text, au_values, arkit_values)
    if not args:
        raise ParameterError("nothing to refine: choose an emotion, type a few words or move a slider first")
    pipe = models.refine_pipeline()
    t0 = time.perf_counter()
    out = pipe(
        session.image, EditControls.from_args(**args), faces=session.faces, face=i, strength=float(strength),
        num_inference_steps=int(steps), guidance_scale=float(guidance),
        generator=torch.Generator().manual_seed(int(seed)), name=session.name, alpha=session.traits.alpha,
    )  # fmt: skip
    ms = (time.perf_counter() - t0) * 1e3
    settings = f"strength {float(strength):g}, {int(steps)} steps, guidance {float(guidance):g}, seed {int(seed)}"
    message = f"{_describe(args)}; {session.face_name(i)} refined with diffusion ({settings}) in {ms / 1e3:.1f} s"
    changed = out.mask if out.edit is None else np.maximum(out.mask, out.edit.mask)  # refined, or moved by the edit
    return EditOutcome(session.image, np.asarray(out.images[0]), message, ms, args, changed, out.alpha)


# ---------------------------------------------------------------------------------------------- animate
#: Output files of the Animate tab, by key: (suffix, what it is).
ANIMATE_OUTPUTS: dict[str, tuple[str, str]] = {
    "glb": (".glb", "glTF binary: mesh with the 52 shape keys and the animation"),
    "csv": (".csv", "Live Link Face CSV"),
    "npz": (".npz", "NumPy curves (T, 52) with fps and names"),
    "json": (".json", "JSON curves"),
}


@dataclass
class AnimateOutcome:
    """Paths of the Animate tab's results and a summary line."""

    video: str
    files: dict[str, str]
    message: str
    seconds: float


def check_speech(audio_path, *, command: str) -> tuple[Path, float]:
    """An uploaded or recorded speech file after the checks of :func:`check_upload` and its length, and its
    duration in seconds: at least :data:`MIN_AUDIO_S`, at most :data:`MAX_AUDIO_S` (longer speech is for
    ``facecraft <command>``); a file holds at most :data:`MAX_AUDIO_BYTES`, a video (whose picture is not read)
    :data:`MAX_VIDEO_BYTES`.

    Raises
    ------
    ParameterError
        No file, too short or too long; FileFormatError: not audio (the message names the file).
    """
    from facecraft.audio2face.audio import audio_duration

    p = check_upload(audio_path, kind="speech", max_bytes=_speech_max_bytes(audio_path))
    duration = audio_duration(p)
    if duration < MIN_AUDIO_S:
        raise ParameterError(
            f"{p.name}: {duration:.2f} s of audio, too short for speech (the studio takes {MIN_AUDIO_S:g} s or "
            "more): record or upload a longer clip"
        )
    if duration > MAX_AUDIO_S:
        raise ParameterError(
            f"{p.name}: {duration:.0f} s of audio, above the studio's {MAX_AUDIO_S:.0f} s limit "
            f"(use `facecraft {command}` for long files)"
        )
    return p, duration


def _speech_max_bytes(path) -> int:
    """The largest speech file taken: a video's (only its sound is read), else a sound file's."""
    video = path is not None and Path(str(path)).suffix.lower() in VIDEO_SUFFIXES
    return MAX_VIDEO_BYTES if video else MAX_AUDIO_BYTES


def check_speech_upload(path) -> Path:
    """A file given to the speech box, checked as it arrives (before any decoding): an ending of a sound file or a
    video whose sound is read (:data:`~facecraft.audio2face.batch.AUDIO_SUFFIXES`, what ``facecraft animate`` lists),
    within the size limit. Gradio's own filter on these endings turned a photo away in the browser without a word,
    beside the result before.

    Raises
    ------
    FileFormatError
        Another ending: the message names the file and the endings taken. ParameterError: oversized.
    """
    return check_upload(path, kind="speech", max_bytes=_speech_max_bytes(path), suffixes=AUDIO_SUFFIXES)


@dataclass(frozen=True)
class SpeechEmotion:
    """The speech tabs' emotion controls read: ``emotion`` (``"happiness:0.800"``) or an emotion ``track``
    (:func:`parse_track`), at most one; neither is a neutral voice."""

    emotion: str | None = None
    track: object | None = None

    def describe(self) -> str:
        return "emotion track" if self.track is not None else (self.emotion or "neutral")


def speech_emotion(emotion: str | None, intensity: float, track=None) -> SpeechEmotion:
    """The emotion dropdown (one of :data:`EMOTIONS`, or None / ``""``), its intensity, and the emotion track (see
    :func:`parse_track`), which takes precedence over the emotion."""
    if emotion and emotion not in EMOTIONS:
        raise ParameterError(f"emotion: expected one of {', '.join(EMOTIONS)}, got {emotion!r}")
    emotion_track = parse_track(track)
    if emotion_track is not None:
        return SpeechEmotion(track=emotion_track)
    return SpeechEmotion(f"{emotion}:{emotion_intensity(intensity):.3f}" if emotion else None)


def speech_transcript(transcript: str | None) -> str | None:
    """The transcript box's words, None when it is blank; one without words (``"?!"``) is refused, in the Animate
    tab as in the Talk tab (the procedural animator took it as a transcript that did not fit the speech)."""
    from facecraft.audio2face.phonetics import transcript_words

    if not transcript or not transcript.strip():
        return None
    transcript_words(transcript)
    return transcript.strip()


def parse_track(track) -> object | None:
    """An emotion track from the UI: None / blank, a JSON text (list of keys or ``{"keys": [...]}``) or a
    ``.json`` file path; returned in a form :func:`facecraft.rigs.emotion_space.parse_emotion` takes."""
    if track is None:
        return None
    if isinstance(track, Path) or (isinstance(track, str) and track.strip().lower().endswith(".json")):
        p = check_upload(track, kind="emotion track", max_bytes=2**20, suffixes=(".json",))
        return str(p)
    if not isinstance(track, str):
        raise ParameterError(f"emotion track: expected JSON text or a .json file, got {type(track).__name__}")
    if not track.strip():
        return None
    try:
        value = json.loads(track)
    except json.JSONDecodeError as e:
        raise ParameterError(
            f"emotion track: not valid JSON ({e.msg} at line {e.lineno}); expected "
            '[{"t": 0.0, "emotion": "happiness", "intensity": 0.8}, ...]'
        ) from e
    if not isinstance(value, (list, Mapping)):
        raise ParameterError(f"emotion track: expected a JSON list of keys, got {type(value).__name__}")
    return value if isinstance(value, list) else dict(value)


#: What the Animate tab says of a transcript given in the learned mode, which follows the sound alone.
LEARNED_IGNORES_TRANSCRIPT = (
    "The learned mode follows the sound alone, so the transcript was not used (the procedural mode aligns it)"
)


def animate_speech(
    audio_path,
    *,
    transcript: str | None = None,
    emotion: str | None = None,
    intensity: float = DEFAULT_INTENSITY,
    track=None,
    mode: str = "learned",
    out_dir: str | Path | None = None,
) -> AnimateOutcome:
    """Speech -> ARKit curves -> preview MP4 (default rig, with the speech's sound) and GLB, CSV, NPZ, JSON.

    Parameters
    ----------
    audio_path : path-like
        Speech in any common format, at most :data:`MAX_AUDIO_S` seconds.
    transcript : str, optional
        What is said; the procedural mode aligns it to the audio (the learned mode does not need it).
    emotion, intensity : one of EMOTIONS and its intensity in [0, 1], or no emotion.
    track : optional emotion track (see :func:`parse_track`); it takes precedence over ``emotion``.
    mode : ``"learned"`` (the shipped model) or ``"procedural"`` (phones + transcript).
    out_dir : folder for the files (default: a fresh :func:`output_dir`).
    """
    from facecraft.audio2face.animate import animate_file
    from facecraft.rigs.exchange import export_animation

    p, duration = check_speech(audio_path, command="animate")
    if mode not in ("learned", "procedural"):
        raise ParameterError(f"mode: expected 'learned' or 'procedural', got {mode!r}")
    emo = speech_emotion(emotion, intensity, track)
    out = Path(out_dir) if out_dir is not None else output_dir(job=True)
    out.mkdir(parents=True, exist_ok=True)
    stem = upload_stem(p.name, "speech")
    files = {key: str(out / f"{stem}{suffix}") for key, (suffix, _) in ANIMATE_OUTPUTS.items()}
    video = str(out / f"{stem}.mp4")
    words = speech_transcript(transcript)
    t0 = time.perf_counter()
    anim = animate_file(
        p, files["glb"], transcript=words, emotion=emo.emotion, emotion_track=emo.track,
        mode=mode, video=video,
    )  # fmt: skip
    for key in ("csv", "npz", "json"):
        export_animation(anim, files[key])
    seconds = time.perf_counter() - t0
    message = (
        f"{p.name}: {duration:.1f} s of speech -> {anim.num_frames} frames at {anim.fps:g} fps "
        f"({mode} mode, {emo.describe()}) in {seconds:.1f} s"
    )
    if anim.meta.get("silent"):
        message += f". Warning: no speech heard ({anim.meta['silent']}): a resting face"
    if note := transcript_note(anim.meta):
        message += f". Warning: {note}"
    if note := track_note(emo, duration):
        message += f". Warning: {note}"
    if mode == "learned" and words:
        message += f". {LEARNED_IGNORES_TRANSCRIPT}"
    return AnimateOutcome(video, files, message, seconds)


def track_note(emo: SpeechEmotion, duration: float, *, what: str = "the animation") -> str | None:
    """What the command line logs of an emotion track with keys after the speech ends, for the status line (the
    studio said nothing: a track timed in ms held its first key's emotion over the whole line)."""
    from facecraft.rigs.emotion_space import late_keys_note, parse_emotion_track

    return None if emo.track is None else late_keys_note(parse_emotion_track(emo.track), duration, what=what)


def transcript_note(meta: dict) -> str | None:
    """What the Animate and Talk tabs say about a transcript they could not use well, or None; ``meta`` holds
    ``transcript``, ``phones`` and ``transcript_fit`` as :class:`~facecraft.audio2face.teacher.ProceduralAnimator`
    writes them."""
    from facecraft.audio2face.phonetics import TRANSCRIPT_FIT_MIN

    if not meta.get("transcript"):
        return None
    if meta.get("phones") == "recognize":
        return "the transcript does not fit the speech, so it was not used: the mouth follows the sound alone"
    fit = meta.get("transcript_fit")
    if fit is not None and fit < TRANSCRIPT_FIT_MIN:
        return "the transcript fits the speech poorly: the mouth follows these words, so check that they were said"
    return None


# ---------------------------------------------------------------------------------------------- talk
#: Sides (pixels) of the square video the Talk tab offers, and its frame rates (those ``facecraft talk`` takes).
TALK_SIZES: tuple[int, ...] = (256, 384, 512, 768)
TALK_FPS: tuple[int, ...] = (25, 30)


@dataclass
class TalkOutcome:
    """The Talk tab's result: the MP4 (with the speech's sound), a summary line, its frames and rate, the time."""

    video: str
    message: str
    num_frames: int
    fps: float
    seconds: float
    silent: bool = False


def talk_face_problem(session: EditSession, face: int) -> str | None:
    """Why a face of an analysed photo cannot talk (turned too far from frontal), or None; the face named as the
    face picker names it (:meth:`EditSession.face_name`)."""
    from facecraft.synth.talk_portrait import MAX_YAW_DEG

    i = session.face_index(face)
    yaw = float(session.faces[i].info.pose[0])
    if abs(yaw) <= MAX_YAW_DEG:
        return None
    which = f"the {session.face_name(i)}" if len(session.faces) > 1 else "the face"
    return (
        f"{session.name}: {which} is turned {abs(yaw):.0f} deg to the side; a talking portrait needs a face within "
        f"{MAX_YAW_DEG:g} deg of frontal (a photo looking at the camera)"
    )


def talk_framing(session: EditSession, face: int = 0) -> np.ndarray:
    """The square of the photo the talking portrait of ``face`` shows (RGB uint8), as
    :class:`~facecraft.synth.talk_portrait.TalkingPortrait` frames it (before it is scaled to the video's size)."""
    from facecraft.synth.talk_portrait import frame_box

    left, top, side = frame_box(session.faces[session.face_index(face)].info.box, session.image.shape[:2])
    return session.image[top : top + side, left : left + side]


def talking_portrait(
    session: EditSession | None,
    audio_path,
    *,
    face: int = 0,
    size: int = 512,
    fps: int = 25,
    transcript: str | None = None,
    emotion: str | None = None,
    intensity: float = DEFAULT_INTENSITY,
    track=None,
    models: StudioModels | None = None,
    out_dir: str | Path | None = None,
    progress: Callable[[float, str], None] | None = None,
    keep_glasses: bool = False,
) -> TalkOutcome:
    """The analysed photo's face saying the speech: an MP4 with the sound, as ``facecraft talk`` makes it
    (:func:`facecraft.synth.talk_portrait.talk`).

    Parameters
    ----------
    session : EditSession
        The photo, from :func:`analyze_photo` (None: no photo yet, a :class:`ParameterError`).
    audio_path : path-like
        Speech in any common format, at most :data:`MAX_AUDIO_S` seconds (:func:`check_speech`). Silence gives
        a still, blinking face and says so in the message.
    face : int
        Which face (0 = largest).
    size, fps : one of :data:`TALK_SIZES` (side of the square video, pixels) and of :data:`TALK_FPS`.
    transcript : str, optional
        The words spoken: aligned to the speech to close the lips on every /p b m/; words that do not fit the
        speech are passed over with a warning in the message, as the Animate tab does (:func:`transcript_note`).
    emotion, intensity, track : the speech tabs' emotion controls (:func:`speech_emotion`).
    out_dir : folder for the MP4 (default: a fresh :func:`output_dir`).
    progress : callable ``(fraction, what)``, optional
        Told each step; the frames are counted by a tqdm bar then (``gr.Progress(track_tqdm=True)`` shows it).
    keep_glasses : bool
        Keep a glasses frame straight: it moves with the head, the brows behind it (``facecraft talk --keep-glasses``).

    Raises
    ------
    NoFaceError
        The face is turned too far from frontal (:func:`talk_face_problem`).
    ParameterError, FileFormatError
        No photo, bad speech (see :func:`check_speech`), a transcript with no words, an unknown emotion, size or
        rate.
    """
    from facecraft.synth.talk_portrait import talk

    require_session(session)
    models = models or shared_models()
    p, duration = check_speech(audio_path, command="talk")
    emo = speech_emotion(emotion, intensity, track)
    words = speech_transcript(transcript)
    if size not in TALK_SIZES:
        raise ParameterError(f"size: expected one of {', '.join(map(str, TALK_SIZES))} pixels, got {size!r}")
    if fps not in TALK_FPS:
        raise ParameterError(f"fps: expected one of {', '.join(map(str, TALK_FPS))}, got {fps!r}")
    i = session.face_index(face)
    problem = talk_face_problem(session, i)
    if problem:
        raise NoFaceError(problem)
    step = progress or (lambda fraction, what: None)
    out = Path(out_dir) if out_dir is not None else output_dir(job=True)
    out.mkdir(parents=True, exist_ok=True)
    video = out / f"{session.stem}-talking.mp4"
    step(0.05, "analysing the photo and the speech")
    t0 = time.perf_counter()
    result = talk(
        session.image, p, video, emotion=emo.emotion, emotion_track=emo.track, transcript=words, fps=int(fps),
        size=int(size), face=i, editor=models.editor, progress=progress is not None, keep_glasses=bool(keep_glasses),
    )  # fmt: skip
    seconds = time.perf_counter() - t0
    which = f"the {session.face_name(i)} of " if len(session.faces) > 1 else ""
    aligned = ", transcript aligned" if result.phones == "align" else ""
    kept = ", glasses kept on the face" if keep_glasses else ""
    message = (
        f"{which}{session.name} saying {p.name}: {duration:.1f} s of speech -> {result.num_frames} frames at "
        f"{result.fps:g} fps, {size}x{size} px ({emo.describe()}{aligned}{kept}) in {seconds:.1f} s"
    )
    if result.silent:
        message += ". **Warning: no speech heard** (the audio is silence): a still face that blinks"
    if note := transcript_note({"transcript": words, "phones": result.phones, "transcript_fit": result.transcript_fit}):
        message += f". **Warning: {note}**"
    if note := track_note(emo, duration, what="the video"):
        message += f". **Warning: {note}**"
    return TalkOutcome(str(result.path), message, result.num_frames, result.fps, seconds, result.silent)


# ---------------------------------------------------------------------------------------------- evaluate
@dataclass
class FerOutcome:
    """FER probabilities per judge (EMOTIONS order), as rows for a bar chart, and the judges missing."""

    probabilities: dict[str, list[float]]
    unavailable: dict[str, str]

    def rows(self) -> list[dict]:
        """``{"emotion", "probability", "judge"}`` rows: one bar per judge and emotion."""
        return [
            {"emotion": e, "probability": float(p), "judge": judge}
            for judge, probs in self.probabilities.items()
            for e, p in zip(EMOTIONS, probs, strict=True)
        ]

    def message(self) -> str:
        top = [f"{j}: {EMOTIONS[int(np.argmax(p))]} ({max(p):.2f})" for j, p in self.probabilities.items()]
        missing = [f"{j} unavailable ({why})" for j, why in self.unavailable.items()]
        return "; ".join(top + missing)


def fer_probabilities(path, *, models: StudioModels | None = None) -> FerOutcome:
    """Every available FER judge's probabilities for the main face of an uploaded photo."""
    models = models or shared_models()
    img, *_ = load_photo(path)
    judges, unavailable = models.judges()
    if not judges:
        raise MissingFileError(f"no FER judge could be loaded: {unavailable}")
    try:
        models.analyzer.largest_face(img, name=Path(path).name)
    except NoFaceError as e:  # naming the file, and what to try
        raise NoFaceError(no_face_message(e)) from e
    probs = {name: [float(v) for v in judge.predict_proba([img])[0]] for name, judge in judges.items()}
    return FerOutcome(probs, unavailable)


def blendshape_scores(path, *, models: StudioModels | None = None) -> list[list]:
    """MediaPipe's 52 blendshape scores of the main face: ``[name, score]`` rows in Apple's order."""
    models = models or shared_models()
    img, *_ = load_photo(path)
    scores = np.clip(models.analyzer.largest_face(img, name=Path(path).name).blendshapes, 0.0, 1.0)
    return [[name, round(float(s), 4)] for name, s in zip(ARKIT_NAMES, scores, strict=True)]


def identity_distance(path_a, path_b, *, models: StudioModels | None = None) -> dict:
    """dlib identity distance between the main faces of two uploaded photos (same person below 0.6)."""
    models = models or shared_models()
    a, *_ = load_photo(path_a)
    b, *_ = load_photo(path_b)
    r = models.identity.distance(a, b, names=(Path(path_a).name, Path(path_b).name))
    return {
        "distance": round(r.distance, 4),
        "same_person": bool(r.same_person),
        "threshold": r.threshold,
        "a": r.a,
        "b": r.b,
        "detectors": list(r.detectors),
    }


# ---------------------------------------------------------------------------------------------- augment
#: Largest zip accepted (bytes), most images taken from one upload, most faces augmented by one click.
MAX_ZIP_BYTES = 50 * 2**20
MAX_ZIP_FILES = 2000
MAX_AUGMENT_FACES = 64


@dataclass
class AugmentOutcome:
    """A small augmentation for the UI: the contact sheet, the report, a zip of everything, a message."""

    sheet: str | None
    report: dict
    archive: str
    message: str
    rows: list[list] = field(default_factory=list)


def _unpack_zip(path: Path, dest: Path) -> None:
    """Extract a zip's images (and ``split.csv``) into ``dest``, refusing unsafe or oversized content."""
    import zipfile

    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as e:
        raise FileFormatError(f"{path.name}: not a readable zip file ({e})") from e
    with archive:
        unsafe = [
            m.filename for m in archive.infolist() if m.filename.startswith("/") or ".." in Path(m.filename).parts
        ]
        if unsafe:
            raise FileFormatError(f"{path.name}: unsafe path in the zip: {unsafe[0]!r}")
        members = [
            m for m in archive.infolist()
            if not m.is_dir() and Path(m.filename).suffix.lower() in IMAGE_EXTENSIONS
            and not any(part.startswith((".", "__MACOSX")) for part in Path(m.filename).parts)
        ]  # fmt: skip
        if not members:
            raise FileFormatError(
                f"{path.name}: the zip holds no images (expected {', '.join(IMAGE_EXTENSIONS)} files, loose or in "
                f"one folder per emotion)"
            )
        if len(members) > MAX_ZIP_FILES:
            raise ParameterError(f"{path.name}: {len(members)} images, above the studio's {MAX_ZIP_FILES} limit")
        total = sum(m.file_size for m in members)
        if total > 4 * MAX_ZIP_BYTES:
            raise ParameterError(f"{path.name}: {_size_mb(total)} unpacked, above {_size_mb(4 * MAX_ZIP_BYTES)}")
        for m in members:
            target = (dest / m.filename).resolve()
            if not target.is_relative_to(dest.resolve()):
                raise FileFormatError(f"{path.name}: unsafe path in the zip: {m.filename!r}")
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(archive.read(m))


def _data_root(folder: Path) -> Path:
    """The folder to read: a zip with one top folder is read from inside it."""
    entries = [p for p in folder.iterdir() if not p.name.startswith(".")]
    if len(entries) == 1 and entries[0].is_dir():
        return _data_root(entries[0])
    return folder


def _is_image_folder(root: Path) -> bool:
    """True when ``root`` has at least one sub-folder named after an emotion (the ImageFolder layout)."""
    from facecraft.rigs import normalize_emotion

    for p in root.iterdir():
        if p.is_dir():
            try:
                normalize_emotion(p.name)
                return True
            except ParameterError:
                continue
    return False


def augment_upload(
    upload,
    *,
    targets: Sequence[str] | str = "all",
    per_image: int = 1,
    max_faces: int = 16,
    workers: int = 1,
) -> AugmentOutcome:
    """A small augmentation of an uploaded zip, folder or list of images (the Augment tab).

    Parameters
    ----------
    upload : path-like, or a list of paths
        A ``.zip`` (images loose, or an ImageFolder: one sub-folder per emotion), a folder, or the files of
        an uploaded folder.
    targets : "all", or emotion names
        Emotions to synthesise.
    per_image : int
        Variants per face and target (1-4).
    max_faces : int
        Faces to try (1 to :data:`MAX_AUGMENT_FACES`), a seeded sample.

    Returns
    -------
    AugmentOutcome
        Contact sheet PNG, the report dict (:func:`facecraft.eval.augment.augment_dataset`), a zip of the
        output (ImageFolder tree, ``manifest.jsonl``, ``report.json``), and per-target rows
        ``[target, attempted, accepted, acceptance rate]``.

    Raises
    ------
    FileFormatError
        Not a zip or folder, or nothing readable in it. NoFaceError: no face in any image.
    """
    from facecraft.eval.augment import AugmentConfig, augment_dataset, infer_format
    from facecraft.eval.augment_filter import parse_targets

    if not isinstance(per_image, int | float) or not 1 <= int(per_image) <= 4:
        raise ParameterError(f"variants per face: expected 1 to 4, got {per_image!r}")
    if not isinstance(max_faces, int | float) or not 1 <= int(max_faces) <= MAX_AUGMENT_FACES:
        raise ParameterError(f"faces to try: expected 1 to {MAX_AUGMENT_FACES}, got {max_faces!r}")
    if isinstance(targets, list | tuple) and not targets:
        raise ParameterError("targets: choose at least one emotion")
    chosen = parse_targets(targets if isinstance(targets, str) else list(targets))
    work = output_dir(job=True)
    data = work / "data"
    data.mkdir()
    if isinstance(upload, list | tuple):  # the files of an uploaded folder
        files = [Path(f) for f in upload if f and Path(f).suffix.lower() in IMAGE_EXTENSIONS]
        if not files:
            raise FileFormatError("the uploaded folder holds no images (expected JPEG, PNG, ... files)")
        for k, f in enumerate(files):
            shutil.copy(f, data / f"{k:04d}_{f.name}")
        name = "folder"
    else:
        if upload is None or (isinstance(upload, str) and not upload.strip()):
            raise ParameterError("no zip or folder given: upload one first")
        p = Path(upload)
        if p.is_dir():
            data = p
        else:
            check_upload(p, kind="zip", max_bytes=MAX_ZIP_BYTES, suffixes=(".zip",))
            _unpack_zip(p, data)
        name = p.name
    root = _data_root(data)
    out = work / "augmented"
    t0 = time.perf_counter()
    common = dict(
        out=out, targets=chosen, max_sources=int(max_faces), workers=workers, progress=False,
    )  # fmt: skip
    # the studio user picks the targets for these very faces: every source is tried toward them (the batch
    # default, eval.augment.SKIP_SOURCES, leaves fear/disgust/contempt from smiles out to save time at scale)
    config = AugmentConfig(per_image=int(per_image), skip_sources={})
    if _is_image_folder(root):
        report = augment_dataset(root, config=config, split=None, **common)
    else:
        from facecraft.eval.images import list_image_files

        fmt = infer_format(list_image_files(root, recursive=True)[:32])
        report = augment_dataset(None, sources=[root], config=dataclasses.replace(config, format=fmt), **common)
    tried = report["this_run"]["sources"]
    if tried and len(report["bad_sources"]) == tried:
        raise NoFaceError(
            f"{name}: no face found in any of the {tried} image(s) tried (e.g. {report['bad_sources'][0]['reason']})"
        )
    archive = shutil.make_archive(str(work / f"{upload_stem(name, 'faces')}-augmented"), "zip", out)
    rows = [[t, v["attempted"], v["accepted"], v["acceptance_rate"]] for t, v in report["per_target"].items()]
    message = (
        f"{name}: {tried} face(s) tried, {report['accepted']} of {report['attempted']} variants kept "
        f"({', '.join(chosen)}; {len(report['bad_sources'])} image(s) without a face skipped) in "
        f"{time.perf_counter() - t0:.1f} s"
    )
    rejected = Counter()
    for v in report["per_target"].values():
        rejected.update({k: n for k, n in v.get("reasons", {}).items() if k != "accepted"})
    if rejected:  # why variants were turned down, in a line, not only in the report's JSON
        message += "; turned down: " + ", ".join(f"{n} by the {k}" if "judge" in k else f"{n} {k}"
                                                 for k, n in rejected.most_common())  # fmt: skip
    return AugmentOutcome(report.get("contact_sheet"), report, archive, message, rows)
