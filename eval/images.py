"""Read images from disk into the one array layout the toolkit uses: RGB ``uint8`` ``(H, W, 3)``, and write
edited photos back.

Every evaluator and FER model reads photos through :func:`load_image`, so grey, palette, 16-bit and
RGBA files, and phone photos stored sideways with an EXIF orientation tag, all arrive the same way.
What that array leaves out of a photo but an edited copy should keep (its colour profile, that it is grey, its
transparency: :class:`PhotoTraits`) is read by :func:`load_image_with_traits` and put back by :func:`save_image`.
"""

from __future__ import annotations

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
#: JPEG quality of written edits: Pillow's default (75) visibly degrades a photo each time it is edited.
JPEG_QUALITY = 95
#: File name endings treated as images when scanning folders (lower case).
IMAGE_EXTENSIONS: tuple[str, ...] = (".jpg", ".jpeg", ".png", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".ppm", ".pgm")


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
            im = ImageOps.exif_transpose(im)
            rgb = _to_rgb(im)
            found = _traits(im, icc) if traits else None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError) as e:
        raise FileFormatError(f"cannot read image {p}: {type(e).__name__}: {e}") from e
    return valid_image(rgb, name=str(p)), found


def _to_rgb(im: Image.Image) -> np.ndarray:
    """Pillow image of any mode -> RGB uint8 array."""
    if im.mode in ("I;16", "I;16B", "I;16L", "I"):
        arr = np.asarray(im, dtype=np.float64)
        top = 65535.0 if arr.max(initial=0) > 255 else 255.0
        grey = np.clip(np.round(arr / top * 255.0), 0, 255).astype(np.uint8)
        return np.repeat(grey[..., None], 3, axis=2)
    if _has_alpha(im):
        rgba = im.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return np.asarray(Image.alpha_composite(white, rgba).convert("RGB"))
    return np.asarray(im.convert("RGB"))


def _has_alpha(im: Image.Image) -> bool:
    """Whether a Pillow image carries transparency (an alpha band, or a palette's transparent entry)."""
    return im.mode in ("RGBA", "LA", "PA", "La", "RGBa") or (im.mode == "P" and "transparency" in im.info)


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


def list_image_files(folder: str | os.PathLike, *, recursive: bool = False) -> list[Path]:
    """Image files of ``folder`` in sorted order (by extension, see :data:`IMAGE_EXTENSIONS`).

    Files are only listed, not opened: a corrupt file is reported when it is loaded. Hidden files
    (starting with ``.``) are left out.

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
    candidates = root.rglob("*") if recursive else root.iterdir()
    files = sorted(
        p for p in candidates if p.is_file() and not p.name.startswith(".") and p.suffix.lower() in IMAGE_EXTENSIONS
    )
    if not files:
        raise EmptyFolderError(
            f"folder {root} holds no image files (looked for {', '.join(IMAGE_EXTENSIONS)}"
            f"{', recursively' if recursive else ''})"
        )
    return files


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


def _traits(im: Image.Image, icc_profile: bytes | None) -> PhotoTraits:
    """The traits of an opened, upright image (its profile read before the EXIF transpose, which may drop it)."""
    alpha = np.asarray(im.convert("RGBA"))[..., 3].copy() if _has_alpha(im) else None
    if alpha is not None and alpha.min() == 255:
        alpha = None
    return PhotoTraits(icc_profile=icc_profile, grey=im.mode in GREY_MODES, alpha=alpha)


def save_image(
    image: np.ndarray,
    path: str | os.PathLike,
    *,
    like: PhotoTraits | None = None,
    changed: np.ndarray | None = None,
    **options,
) -> None:
    """Write an RGB ``uint8`` image, keeping the traits of the photo it was edited from.

    With ``like``: its colour profile is embedded, a grey photo's edit is written grey, and a transparent
    photo's alpha is kept where the edit left pixels alone; where it changed them (``changed``, ``(H, W)`` in
    [0, 1], e.g. an edit's mask, above one half) the face was moved or repainted there and is opaque. Alpha is
    written only to formats that hold it (:data:`ALPHA_SUFFIXES`); JPEG at :data:`JPEG_QUALITY`. The format
    follows the file ending; ``options`` go to Pillow's ``save`` (e.g. ``compress_level=1``, a faster PNG).
    """
    path = Path(path)
    rgb = valid_image(image, name=str(path))
    like = like or PhotoTraits()
    out = Image.fromarray(rgb)
    if like.grey:
        out = out.convert("L")
    suffix = path.suffix.lower()
    if like.alpha is not None and suffix in ALPHA_SUFFIXES and like.alpha.shape == rgb.shape[:2]:
        alpha = like.alpha
        if changed is not None:
            alpha = np.where(np.asarray(changed) > 0.5, np.uint8(255), alpha)
        out.putalpha(Image.fromarray(np.ascontiguousarray(alpha, dtype=np.uint8)))
    if like.icc_profile:
        options["icc_profile"] = like.icc_profile
    if suffix in (".jpg", ".jpeg"):
        options = {"quality": JPEG_QUALITY, "subsampling": 0, **options}  # 4:4:4: lips and irises keep colour edges
    out.save(path, format=Image.registered_extensions().get(suffix), **options)
