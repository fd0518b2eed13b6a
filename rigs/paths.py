"""Names of the hidden temporary files an output is written to before the rename that completes it.

Every writer that adds to an output's name (``.{stem}.part-{pid}.mp4``, ``.{stem}.partial.csv``, ...) builds it
with :func:`part_path`: an output named near the file system's limit (255 bytes on ext4, XFS, btrfs, APFS) is a
valid name, but one with a few more bytes added failed with "File name too long". A writer that completes its output
with a rename uses :func:`atomic_output` (or :func:`write_text_atomic` / :func:`write_bytes_atomic`), so a killed or
failed run never leaves half a file under the output's name (a resumable run would skip it as done). A name built
from a long input (a corpus item, an augmentation crop) is cut to fit by :func:`fit_stem`. Imports only the
standard library.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from contextlib import contextmanager
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


def with_ending(path: str | os.PathLike, suffix: str) -> Path:
    """An output as a user names it: ``path`` as given, or with ``suffix`` (``".mp4"``) added where it has no ending
    at all (``-o talking`` writes ``talking.mp4``; the caller says so). A folder, or a name with another ending, is
    left for the caller's own check to take or refuse. The one rule of every command that completes an output name
    (a video: :func:`facecraft.rigs.video.video_output`; an edited photo: its input's format)."""
    path = Path(path)
    if path.suffix or path.is_dir() or not path.name:
        return path
    return path.with_name(path.name + suffix)


def say_ending_added(option: str, given: str | os.PathLike, path: Path, what: str) -> None:
    """Tell the user (stdout) when :func:`with_ending` completed the name ``given`` to ``option`` as ``path``
    (``-o out has no ending: writing the video as out.mp4``); nothing when the name was taken as given (``./x.mp4``
    included)."""
    if path != Path(given):
        print(f"{option} {given} has no ending: writing the {what} as {path}")


def file_in_the_way(path: str | os.PathLike | bytes) -> Path | None:
    """The file (not a folder) at ``path`` or at the nearest of its parents that exists, where an output's folder is
    to be made (``-o photo.jpg/out.png``); None where that is a folder."""
    path = Path(os.fsdecode(path))
    while not path.exists() and path != path.parent:
        path = path.parent
    return path if path.exists() and not path.is_dir() else None


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
    return path.with_name(f".{fit_stem(path.stem, limit - len(os.fsencode('.' + ending)))}{ending}")


@contextmanager
def atomic_output(
    path: str | os.PathLike, tag: str = "part", *, suffix: str | None = None, pid: bool = True
) -> Iterator[Path]:
    """Write ``path`` completely or not at all: yields its :func:`part_path` (``tag``, ``suffix``, ``pid`` as
    there; the suffix is the path's own by default, so writers that choose the format by it, or that add it where it
    is missing, as ``numpy.savez`` does, write the part file itself), renamed onto ``path`` (``os.replace``) when
    the block ends without an exception. On any exception (Ctrl-C included) the part file is removed and ``path``
    is left as it was. The folder must exist. An OSError about the part file (its folder gone or not writable, the
    rename refused) names ``path`` instead: the user gave that name, the hidden one means nothing to them."""
    part = part_path(path, tag, suffix=suffix, pid=pid)
    try:
        yield part
        os.replace(part, path)
    except OSError as e:
        if isinstance(e.filename, (str, bytes, os.PathLike)) and os.fsdecode(e.filename) == os.fsdecode(part):
            e.filename, e.filename2 = os.fspath(path), None  # `-o /proc/e.png` said "... /proc/.e.part.png"
        raise
    finally:
        part.unlink(missing_ok=True)  # after the rename there is nothing left to remove


def write_bytes_atomic(path: str | os.PathLike, data: bytes, tag: str = "part", *, pid: bool = True) -> Path:
    """``Path(path).write_bytes(data)`` through :func:`atomic_output`; returns the path."""
    with atomic_output(path, tag, pid=pid) as part:
        part.write_bytes(data)
    return Path(path)


def write_text_atomic(
    path: str | os.PathLike, text: str, tag: str = "part", *, pid: bool = True, encoding: str = "utf-8"
) -> Path:
    """``Path(path).write_text(text)`` through :func:`atomic_output` (``encoding`` UTF-8 unless told; newlines
    kept as given); returns the path."""
    return write_bytes_atomic(path, text.encode(encoding), tag, pid=pid)


def fit_stem(stem: str, room: int = DEFAULT_NAME_MAX) -> str:
    """A name's stem that fits in ``room`` bytes (as the file system encodes it): ``stem`` itself where it fits, else
    cut (at a character, never inside one) with ``~`` and a hash of the whole stem added, so two long names that
    start alike stay apart. A writer that builds a file name from a long input (a corpus item from a voice spec,
    an augmentation crop from a photo's path) passes the room its ending leaves: ``fit_stem(stem, 255 - 4)`` for
    ``{stem}.npz``. Raises ValueError where ``room`` cannot hold the hash."""
    if len(os.fsencode(stem)) <= room:
        return stem
    mark = "~" + hashlib.sha1(os.fsencode(stem)).hexdigest()[:12]
    if len(mark) > room:
        raise ValueError(f"a file name's stem needs at least {len(mark)} bytes, {room} left")
    while stem and len(os.fsencode(stem + mark)) > room:
        stem = stem[:-1]
    return stem + mark
