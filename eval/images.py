"""Read images from disk into the one array layout the toolkit uses: RGB ``uint8`` ``(H, W, 3)``, and write
edited photos back.

Every evaluator and FER model reads photos through :func:`load_image`, so grey, palette, 16-bit and
RGBA files, and phone photos stored sideways with an EXIF orientation tag, all arrive the same way.
What that array leaves out of a photo but an edited copy should keep (its colour profile, that it is grey, its
transparency: :class:`PhotoTraits`) is read by :func:`load_image_with_traits` and put back by :func:`save_image`.
"""

from __future__ import annotations

import functools
import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from facecraft.rigs.errors import FileFormatError, MissingFileError, ParameterError

logger = logging.getLogger(__name__)

#: Pillow modes of grey photos (with or without alpha, 8 or 16 bits): their edits are written grey too.
GREY_MODES: tuple[str, ...] = ("1", "L", "LA", "I", "I;16", "I;16B", "I;16L", "La")
#: File endings whose format keeps an alpha channel (an edit of a transparent photo stays transparent there).
ALPHA_SUFFIXES: tuple[str, ...] = (".png", ".webp", ".tif", ".tiff")
#: JPEG (and lossy WebP) quality of written edits: Pillow's default (75, WebP 80) visibly degrades a photo each
#: time it is edited.
JPEG_QUALITY = 95
#: File name endings treated as images when scanning folders (lower case). ``.jfif`` is a JPEG as Windows often saves
#: one from a browser.
IMAGE_EXTENSIONS: tuple[str, ...] = (
    ".jpg", ".jpeg", ".jfif", ".png", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".ppm", ".pgm",
)  # fmt: skip


class EmptyFolderError(MissingFileError):
    """A folder exists but holds no image files."""


def load_image(path: str | os.PathLike) -> np.ndarray:
    """Read an image file as RGB ``uint8`` ``(H, W, 3)``.

    EXIF orientation is applied (the array shows the photo upright), alpha is composited on white,
    grey and palette images are expanded to three channels, 16-bit images are scaled to 8 bits.

    Parameters
    ----------
    path : path-like
        Any format Pillow reads (JPEG, PNG, BMP, GIF (first frame), TIFF, WebP, PPM/PGM).

    Returns
    -------
    np.ndarray
        ``(H, W, 3)`` uint8, RGB.

    Raises
    ------
    MissingFileError
        ``path`` does not exist or is a folder.
    FileFormatError
        The file is not an image Pillow can decode (corrupt, truncated, empty, another format).
    """
    return _read(path, traits=False)[0]


def load_image_with_traits(path: str | os.PathLike) -> tuple[np.ndarray, PhotoTraits]:
    """:func:`load_image`'s array and the file's :class:`PhotoTraits` (what an edited copy keeps), from one decode.

    Raises as :func:`load_image`.
    """
    return _read(path, traits=True)


def _read(path: str | os.PathLike, *, traits: bool) -> tuple[np.ndarray, PhotoTraits | None]:
    p = Path(path)
    if not p.exists():
        raise MissingFileError(f"image file not found: {p}")
    if p.is_dir():
        raise MissingFileError(f"expected an image file, got a folder: {p}")
    try:
        with Image.open(p) as im:
            im.load()
            icc = im.info.get("icc_profile") or None
            fmt = im.format
            # Read from the file as opened: the transpose returns a plain copy (a TIFF's tags are gone).
            lossless, bits = (_is_lossless(im, p), _bits(im, p)) if traits else (False, 8)
            im = ImageOps.exif_transpose(im)
            im.format = fmt
            rgb = _to_rgb(im)
            found = _traits(im, icc, lossless=lossless, bits=bits) if traits else None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError) as e:
        raise FileFormatError(f"cannot read image {p}: {type(e).__name__}: {e}") from e
    return valid_image(rgb, name=str(p)), found


def _to_rgb(im: Image.Image) -> np.ndarray:
    """Pillow image of any mode -> RGB uint8 array."""
    if im.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        arr = np.nan_to_num(np.asarray(im, dtype=np.float64))
        grey = np.clip(np.round(arr / _grey_top(im.mode, arr) * 255.0), 0, 255).astype(np.uint8)
        return np.repeat(grey[..., None], 3, axis=2)
    if _has_alpha(im):
        rgba = im.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return np.asarray(Image.alpha_composite(white, rgba).convert("RGB"))
    return np.asarray(im.convert("RGB"))


def _grey_top(mode: str, arr: np.ndarray) -> float:
    """The white level of a single-band 16/32-bit or float image: floats in [0, 1] (scientific TIFFs), 8-bit
    values kept in a wider type, 16 bits, or the image's own maximum above that (32-bit integers)."""
    top = float(arr.max(initial=0))
    if mode == "F" and top <= 1.0:
        return 1.0
    if top <= 255:
        return 255.0
    return max(65535.0, top)


def image_alpha(image) -> np.ndarray | None:
    """The transparency ``(H, W)`` uint8 of an image given as an array or PIL image (RGBA, LA, a palette's transparent
    entry); None where it is opaque or has none. A file's is read with it (:func:`load_image_with_traits`)."""
    if isinstance(image, Image.Image):
        if not _has_alpha(image):
            return None
        a = np.asarray(image.convert("RGBA"))[..., 3]
    else:
        arr = np.asarray(image) if isinstance(image, np.ndarray) else None
        if arr is None or arr.ndim != 3 or arr.shape[2] != 4 or not np.issubdtype(arr.dtype, np.number):
            return None
        a = arr[..., 3]
        if np.issubdtype(a.dtype, np.floating):
            a = np.round(np.clip(np.nan_to_num(a), 0.0, 1.0) * 255.0)
        a = np.clip(a, 0, 255).astype(np.uint8)
    return np.ascontiguousarray(a) if a.min() < 255 else None


def _has_alpha(im: Image.Image) -> bool:
    """Whether a Pillow image carries transparency (an alpha band, or a palette's transparent entry)."""
    return im.mode in ("RGBA", "LA", "PA", "La", "RGBa") or (im.mode == "P" and "transparency" in im.info)


def _pil_as_rgb(image):
    """A PIL image whose pixels are not colours (palette ``P``, ``CMYK``, ``YCbCr``, ``HSV``, ``LAB``...) converted to
    RGB (RGBA where it has transparency); anything else as it is. As an array, a palette image gave its palette indices
    (read as grey) and a CMYK one its inks (read as RGB: colours inverted)."""
    if not isinstance(image, Image.Image) or image.mode in ("RGB", "RGBA", "L", "1"):
        return image
    return image.convert("RGBA" if _has_alpha(image) else "RGB")


def valid_image(image, *, name: str = "image") -> np.ndarray:
    """Check an image array at an API boundary and return it as contiguous RGB ``uint8`` ``(H, W, 3)``.

    Accepts ``(H, W)`` grey or ``(H, W, 1)`` (expanded to 3 channels), ``(H, W, 3)`` RGB, ``(H, W, 4)``
    RGBA (alpha dropped); uint8 as is, other integers in [0, 255], float arrays in [0, 1] (scaled by 255),
    booleans as black/white.

    Raises
    ------
    ParameterError
        Not an array, wrong shape, empty, non-finite, or floats outside [0, 1]; the message says which.
    """
    image = _pil_as_rgb(image)
    if isinstance(image, str | os.PathLike):  # was "expected a numeric image array, got dtype <U44"
        raise ParameterError(f"{name}: got the file name {str(image)!r}; give the image itself (an array or PIL "
                             "image: facecraft.eval.images.load_image reads a file upright, as RGB)")  # fmt: skip
    try:
        arr = np.asarray(image)
    except (TypeError, ValueError) as e:
        raise ParameterError(f"{name}: expected an image array, got {type(image).__name__} ({e})") from e
    if arr.dtype == object or not (np.issubdtype(arr.dtype, np.number) or arr.dtype == bool):
        raise ParameterError(f"{name}: expected a numeric image array, got dtype {arr.dtype}")
    if arr.ndim == 3 and arr.shape[2] == 1:
        arr = arr[..., 0]
    if arr.ndim == 2:
        arr = np.repeat(arr[..., None], 3, axis=2)
    if arr.ndim != 3 or arr.shape[2] not in (3, 4):
        raise ParameterError(f"{name}: expected shape (H, W, 3) RGB (or grey (H, W), RGBA), got {arr.shape}")
    if arr.shape[0] < 1 or arr.shape[1] < 1:
        raise ParameterError(f"{name}: image is empty, shape {arr.shape}")
    arr = arr[..., :3]
    if arr.dtype == bool:
        arr = arr.astype(np.uint8) * np.uint8(255)
    if arr.dtype != np.uint8:
        if np.issubdtype(arr.dtype, np.floating):
            if not np.all(np.isfinite(arr)):
                raise ParameterError(f"{name}: float image contains NaN or infinite values")
            lo, hi = float(arr.min()), float(arr.max())
            if lo < -1e-6 or hi > 1 + 1e-6:
                raise ParameterError(f"{name}: float images must lie in [0, 1], got range [{lo:.3g}, {hi:.3g}]")
            arr = np.round(np.clip(arr, 0.0, 1.0) * 255.0).astype(np.uint8)
        else:
            lo, hi = int(arr.min()), int(arr.max())
            if lo < 0 or hi > 255:
                raise ParameterError(f"{name}: integer images must lie in [0, 255], got range [{lo}, {hi}]")
            arr = arr.astype(np.uint8)
    return np.ascontiguousarray(arr)


def image_list(images) -> list:
    """One image (path, PIL image, ``(H, W)`` grey, ``(H, W, 3|4)`` colour) or a batch (list, ``(N, H, W)``,
    ``(N, H, W, C)``)."""
    if images is None:
        raise ParameterError("images: expected an image, an image file or a list of them, got None")
    if isinstance(images, str | os.PathLike | Image.Image):
        return [images]  # a path was iterated as its characters, a PIL image was "not iterable"
    if isinstance(images, np.ndarray):
        if images.ndim == 2 or (images.ndim == 3 and images.shape[-1] in (3, 4)):
            return [images]
        if images.ndim in (3, 4):
            return list(images)
        raise ParameterError(f"images: expected (H, W[, C]) or (N, H, W[, C]) arrays, got shape {images.shape}")
    return list(images)


def list_image_files(folder: str | os.PathLike, *, recursive: bool = False, unnamed: bool = False) -> list[Path]:
    """Image files of ``folder`` in sorted order (by extension, see :data:`IMAGE_EXTENSIONS`).

    Files are only listed, not opened: a corrupt file is reported when it is loaded. Hidden files and
    folders (starting with ``.``: ``.git``, ``.thumbnails``) are left out. ``recursive`` lists the folders below
    too, a symlinked folder as a real one (pathlib's ``rglob`` passed over them without a word), except a link
    to a folder it is itself in (a loop: warned about, not followed). ``unnamed`` also lists files without an
    ending whose first bytes are one of those formats' (a camera's or a download's ``IMG_0001``); they are opened
    to tell. Without it they are not opened, and how many were passed over is logged (a warning).

    Raises
    ------
    MissingFileError
        ``folder`` does not exist or is not a folder.
    EmptyFolderError
        ``folder`` holds no image files.
    """
    root = Path(folder)
    if not root.exists():
        raise MissingFileError(f"image folder not found: {root}")
    if not root.is_dir():
        raise MissingFileError(f"expected a folder of images, got a file: {root}")
    files, endless = [], []
    for d, names in _image_folders(root, recursive=recursive):
        for name in names:
            p = d / name
            if name.startswith(".") or not p.is_file():
                continue
            if p.suffix.lower() in IMAGE_EXTENSIONS:
                files.append(p)
            elif p.suffix == "" and not unnamed:
                endless.append(p)
            elif p.suffix == "" and _holds_an_image(p):
                files.append(p)
    passed = ""
    if endless:  # a download saved without its ending is an image the user expects read: said, not read
        passed = f"{len(endless)} file(s) without a name ending passed over (not read), e.g. {endless[0].name}"
        logger.warning("%s: %s; give them their ending (.jpg, .png ...) to have them read", root, passed)
    if not files:
        raise EmptyFolderError(
            f"folder {root} holds no image files (looked for {', '.join(IMAGE_EXTENSIONS)}"
            f"{', recursively' if recursive else ''}{'; ' + passed if passed else ''})"
        )
    return sorted(files)


def _image_folders(root: Path, *, recursive: bool) -> Iterator[tuple[Path, list[str]]]:
    """``(folder, names of its entries)`` for ``root`` and, when ``recursive``, the folders below it that are not
    hidden, symlinked ones followed; a link to one of its own containing folders is not (the walk would not end).
    A subfolder that cannot be read is warned about and passed over."""

    def key(path: Path) -> tuple[int, int]:
        st = path.stat()
        return st.st_dev, st.st_ino

    todo = [(root, (key(root),))]
    while todo:
        d, chain = todo.pop()
        try:
            names = sorted(os.listdir(d))
        except OSError as e:
            if d == root:
                raise
            logger.warning("%s: folder not read (%s); its photos are left out", d, e.strerror or e)
            continue
        yield d, names
        if not recursive:
            continue
        for name in reversed(names):
            sub = d / name
            if name.startswith(".") or not sub.is_dir():
                continue
            if key(sub) in chain:
                logger.warning("%s: a link to a folder it is in (%s); not followed", sub, sub.resolve())
                continue
            todo.append((sub, (*chain, key(sub))))


@functools.cache
def _listed_formats() -> tuple[str, ...]:
    """PIL's names of the formats :data:`IMAGE_EXTENSIONS` stand for."""
    return tuple(sorted({fmt for ext, fmt in Image.registered_extensions().items() if ext in IMAGE_EXTENSIONS}))


def _holds_an_image(path: Path) -> bool:
    """Whether ``path`` starts as an image in one of :data:`IMAGE_EXTENSIONS`' formats (only its header is read)."""
    try:
        with Image.open(path, formats=_listed_formats()):
            return True
    except Image.DecompressionBombError:
        return True  # an image, refused when loaded: reported then
    except (OSError, ValueError, EOFError, SyntaxError):
        return False


def iter_image_files(folder: str | os.PathLike, *, recursive: bool = False) -> Iterator[Path]:
    """Iterator over :func:`list_image_files`; the folder is checked at the call, not at the first ``next``."""
    return iter(list_image_files(folder, recursive=recursive))


@dataclass(frozen=True)
class PhotoTraits:
    """What of a photo file :func:`load_image` drops and an edited copy of it should keep.

    Attributes
    ----------
    icc_profile : bytes, optional
        The embedded colour profile (phone photos are Display P3: written without it, a colour-managed viewer
        shows the edit's pixels as sRGB, duller than the original).
    grey : bool
        The file is grey (8 or 16 bits): its edit is written grey.
    alpha : np.ndarray, optional
        ``(H, W)`` uint8 transparency, upright like :func:`load_image`'s array; None for an opaque file.
    """

    icc_profile: bytes | None = None
    grey: bool = False
    alpha: np.ndarray | None = None
    #: ``(H, W, 3)`` uint8: the colour under the alpha before :func:`load_image` composited it on white, so
    #: that a half-transparent pixel the edit left alone is written back as it was, not paled.
    straight: np.ndarray | None = None
    #: The EXIF block without its orientation tag (the written edit is upright): camera, date, GPS, ... kept.
    exif: bytes | None = None
    #: The file stored its pixels losslessly (PNG, TIFF, BMP, lossless WebP): an edit written as WebP is too.
    lossless: bool = False
    #: Bits per channel of the file (16 for 16-bit PNG/TIFF, 32 for float TIFF): the edit is written with 8, said.
    bits: int = 8


def _bits(im: Image.Image, path: Path) -> int:
    """Bits per channel as stored (Pillow opens a 16-bit colour PNG or TIFF as 8-bit ``RGB`` and does not say)."""
    if im.mode in ("I;16", "I;16B", "I;16L"):
        return 16
    if im.mode in ("I", "F"):
        return 32
    if im.format == "PNG":
        with open(path, "rb") as f:
            head = f.read(25)
        return head[24] if len(head) == 25 and head[12:16] == b"IHDR" else 8
    if im.format == "TIFF":
        bits = im.tag_v2.get(258, (8,))
        return int(max(bits if isinstance(bits, tuple) else (bits,)))
    return 8


def _traits(im: Image.Image, icc_profile: bytes | None, *, lossless: bool, bits: int = 8) -> PhotoTraits:
    """The traits of an opened, upright image (its profile read before the EXIF transpose, which may drop it;
    the transpose has already removed the orientation tag from its EXIF)."""
    alpha = straight = None
    if _has_alpha(im):
        rgba = np.asarray(im.convert("RGBA"))
        if rgba[..., 3].min() < 255:
            alpha, straight = rgba[..., 3].copy(), rgba[..., :3].copy()
    exif = im.getexif()
    return PhotoTraits(
        icc_profile=icc_profile,
        grey=im.mode in GREY_MODES,
        alpha=alpha,
        straight=straight,
        exif=exif.tobytes() if len(exif) else None,
        lossless=lossless,
        bits=bits,
    )


def _is_lossless(im: Image.Image, path: Path) -> bool:
    """Whether the file stores exact pixels: every format but JPEG and lossy WebP."""
    if im.format == "JPEG":
        return False
    if im.format == "WEBP":
        with open(path, "rb") as f:
            head = f.read(64)
        return b"VP8L" in head
    return True


def _restore_straight(rgb: np.ndarray, alpha: np.ndarray, straight: np.ndarray, keep: np.ndarray) -> np.ndarray:
    """``rgb`` (composited on white, as :func:`load_image` gives) with the photo's own colour back under ``alpha``
    (the one written: the photo's, or the edit's moved with the face) where ``keep``: exactly where the pixel is
    unchanged, un-composited where the edit moved it."""
    a = alpha[..., None].astype(np.float64) / 255.0
    straight = straight.astype(np.float64)
    composited = np.round(straight * a + 255.0 * (1.0 - a))
    unchanged = np.all(np.abs(rgb.astype(np.float64) - composited) <= 1.0, axis=2, keepdims=True)
    uncomposited = np.clip(np.round((rgb - 255.0 * (1.0 - a)) / np.maximum(a, 1e-6)), 0, 255)
    restored = np.where(unchanged | (a <= 0), straight, uncomposited)
    return np.where(keep[..., None], restored, rgb).astype(np.uint8)


def save_image(
    image: np.ndarray,
    path: str | os.PathLike,
    *,
    like: PhotoTraits | None = None,
    changed: np.ndarray | None = None,
    alpha: np.ndarray | None = None,
    name: str | None = None,
    **options,
) -> None:
    """Write an RGB ``uint8`` image, keeping the traits of the photo it was edited from.

    With ``like``: its colour profile and EXIF (less the orientation: the edit is upright) are embedded, a grey
    photo's edit is written grey, and a transparent photo's alpha and colour are kept where the edit left pixels
    alone. ``alpha``, ``(H, W)`` uint8, is the edit's own transparency (an edit's ``alpha``: the photo's moved with
    the face, so a chin that drops keeps the background clear around it): written instead of ``like``'s, the colour
    under it un-composited from white. Without it, where the edit changed pixels (``changed``, ``(H, W)`` in
    [0, 1], e.g. an edit's mask, above one half) they are written opaque. Alpha is written only to formats that
    hold it (:data:`ALPHA_SUFFIXES`); JPEG at :data:`JPEG_QUALITY`, WebP lossless when the photo was stored losslessly,
    else at that quality. Photos of 16 bits per channel are written with 8 (a warning says so). The format
    follows the file ending; ``options`` go to Pillow's ``save`` (e.g. ``compress_level=1``, a faster PNG).
    ``name``: the file as messages call it (a part file's final name), default ``path``.
    """
    path = Path(path)
    rgb = valid_image(image, name=str(path))
    like = like or PhotoTraits()
    suffix = path.suffix.lower()
    if Image.registered_extensions().get(suffix) is None:  # Pillow's "unknown file extension: " named no file
        raise ParameterError(f"{name or path}: give the file an image ending (.png, .jpg, .webp, ...) for its format")
    path.parent.mkdir(parents=True, exist_ok=True)  # as the animation writers make theirs (was FileNotFoundError)
    if alpha is not None:
        alpha = np.asarray(alpha)
        if alpha.shape != rgb.shape[:2] or alpha.dtype != np.uint8:
            raise ParameterError(f"{path}: alpha must be {rgb.shape[:2]} uint8 like the image, got {alpha.shape} "
                                 f"{alpha.dtype}")  # fmt: skip
    photo_alpha = like.alpha if like.alpha is not None and like.alpha.shape == rgb.shape[:2] else None
    if suffix not in ALPHA_SUFFIXES:
        alpha = None
    elif alpha is not None:
        keep = np.ones(rgb.shape[:2], bool)  # where the edit left the photo alone, its alpha is the photo's
    elif photo_alpha is not None:
        keep = np.ones(rgb.shape[:2], bool) if changed is None else np.asarray(changed) <= 0.5
        alpha = np.where(keep, photo_alpha, np.uint8(255))
    if alpha is not None and like.straight is not None and like.straight.shape == rgb.shape:
        rgb = _restore_straight(rgb, alpha, like.straight, keep)
    out = Image.fromarray(rgb)
    if like.grey:
        out = out.convert("L")
    if alpha is not None:
        out.putalpha(Image.fromarray(np.ascontiguousarray(alpha, dtype=np.uint8)))
    if like.icc_profile:
        options["icc_profile"] = like.icc_profile
    fmt = Image.registered_extensions().get(suffix)  # .jfif is JPEG too
    if like.exif and fmt in ("JPEG", "PNG", "WEBP", "TIFF"):
        options.setdefault("exif", like.exif)
    if fmt == "JPEG":
        options = {"quality": JPEG_QUALITY, "subsampling": 0, **options}  # 4:4:4: lips and irises keep colour edges
    elif suffix == ".webp":
        options = {"lossless": True, **options} if like.lossless else {"quality": JPEG_QUALITY, **options}
    out.save(path, format=fmt, **options)
    if like.bits > 8:
        logger.warning("%s: written with 8 bits per channel; its photo had %d", name or path, like.bits)
