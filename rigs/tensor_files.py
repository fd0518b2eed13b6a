"""Weights written as safetensors files with the permissions of any other output.

``safetensors.torch.save_file`` creates its file readable by its owner only (mode 0600), where every other file
facecraft writes follows the umask (0644 here): a rig or model shared from a render farm or a team folder could
not be read by the others. :func:`save_tensors` writes through it and then gives the file the usual mode.
"""

from __future__ import annotations

import os
from pathlib import Path

from .errors import FacecraftError


def save_tensors(tensors: dict, path: str | os.PathLike, *, metadata: dict | None = None) -> Path:
    """``safetensors.torch.save_file`` of ``tensors`` at ``path``, then the file's mode set from the umask."""
    from safetensors.torch import save_file

    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        save_file(tensors, str(path), metadata=metadata)
    except Exception as e:  # safetensors reports a write failure as its own error type, or an OSError
        if not isinstance(e, OSError) and type(e).__name__ != "SafetensorError":
            raise
        raise FacecraftError(f"{path}: could not write ({e})") from e
    umask = os.umask(0)
    os.umask(umask)
    path.chmod(0o666 & ~umask)
    return path
