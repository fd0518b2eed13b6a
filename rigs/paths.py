"""Names of the hidden temporary files an output is written to before the rename that completes it.

Every writer that adds to an output's name (``.{stem}.part-{pid}.mp4``, ``.{stem}.partial.csv``, ...) builds it
with :func:`part_path`: an output named near the file system's limit (255 bytes on ext4, XFS, btrfs, APFS) is a
valid name, but one with a few more bytes added failed with "File name too long". Imports only the standard library.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

#: The longest file name (bytes) assumed where the file system does not say.
DEFAULT_NAME_MAX = 255


def name_max(folder: str | os.PathLike) -> int:
    """The longest file name (bytes) ``folder``'s file system takes (``PC_NAME_MAX``); :data:`DEFAULT_NAME_MAX`
    when it does not say (no such folder yet, no ``pathconf`` on this system)."""
    try:
        return int(os.pathconf(folder, "PC_NAME_MAX"))
    except (OSError, ValueError, AttributeError):
        return DEFAULT_NAME_MAX


def part_path(path: str | os.PathLike, tag: str, *, suffix: str | None = None, pid: bool = True) -> Path:
    """A hidden temporary file beside ``path``: ``.{stem}.{tag}-{pid}{suffix}`` (``suffix``: the path's own by
    default; ``pid=False`` leaves out ``-{pid}``, for a name that a later run must find to remove what a killed one
    left). Where that name would pass the file system's limit (:func:`name_max` of the path's folder, or of the
    nearest folder that exists), the stem is cut (at a character, never inside one) to fit and ``~`` and a hash of
    the whole stem are added, so the temporary files of two long names that start alike stay apart. Short names
    keep their readable form."""
    path = Path(path)
    suffix = path.suffix if suffix is None else suffix
    ending = f".{tag}-{os.getpid()}{suffix}" if pid else f".{tag}{suffix}"
    name = f".{path.stem}{ending}"
    folder = path.parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    limit = name_max(folder)
    if len(os.fsencode(name)) <= limit:
        return path.with_name(name)
    mark = "~" + hashlib.sha1(os.fsencode(path.stem)).hexdigest()[:12]
    stem = path.stem
    while stem and len(os.fsencode(f".{stem}{mark}{ending}")) > limit:
        stem = stem[:-1]
    return path.with_name(f".{stem}{mark}{ending}")
