"""One registry of animation writers and readers, merged from the format modules (trimesh-style).

Each format module declares ``_exporters = {"ext": writer}`` and ``_loaders = {"ext": reader}``; writers
take ``(anim, path, **options)``, readers take ``(path, **options)`` and return plain
:class:`~facecraft.rigs.animation.FaceAnimation` keyword arguments. :func:`export_animation` and
:func:`load_animation` pick one by the file extension (or ``file_type``) and check options before any work.
"""

from __future__ import annotations

import inspect
import logging
import os
from collections.abc import Callable
from pathlib import Path

from ..animation import FLAME_FORMATS
from ..errors import FacecraftError, FileFormatError, ParameterError
from . import glb, gltf_import, json_curves, livelink, npz

log = logging.getLogger(__name__)

animation_exporters: dict[str, Callable] = {
    **glb._exporters, **livelink._exporters, **npz._exporters, **json_curves._exporters,
}  # fmt: skip
#: File types whose writer stores ``FaceAnimation.flame_expression`` / ``flame_jaw``: the one list,
#: :data:`facecraft.rigs.animation.FLAME_FORMATS`, under the name the exchange has always given it.
flame_formats: tuple[str, ...] = FLAME_FORMATS
animation_loaders: dict[str, Callable] = {
    **gltf_import._loaders, **livelink._loaders, **npz._loaders, **json_curves._loaders,
}  # fmt: skip


def _file_type(path: Path, file_type: str | None, table: dict, verb: str) -> str:
    kind = (file_type or path.suffix).lower().lstrip(".")
    if kind not in table:
        got = f"file_type={file_type!r}" if file_type else f"extension {path.suffix or '(none)'!r} of {path}"
        raise ParameterError(f"cannot {verb} {got}; supported: {', '.join('.' + k for k in sorted(table))}")
    return kind


def _check_options(func: Callable, opts: dict, kind: str, skip: int) -> None:
    params = list(inspect.signature(func).parameters.values())[skip:]
    accepted = [p.name for p in params if p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD)]
    unknown = sorted(set(opts) - set(accepted))
    if unknown:
        raise ParameterError(
            f"option(s) {', '.join(unknown)} not accepted for .{kind} files; accepted: {', '.join(accepted) or 'none'}"
        )


def export_animation(anim, path: str | Path, *, rig=None, file_type: str | None = None, **opts) -> Path:
    """Write a :class:`~facecraft.rigs.animation.FaceAnimation` in the format of ``path``'s extension.

    Parameters
    ----------
    anim : FaceAnimation
    path : path-like
        ``.glb``, ``.csv`` (Live Link Face), ``.npz`` or ``.json``.
    rig : BlendshapeRig, or what :func:`~facecraft.rigs.loading.load_rig` takes (``"default"``, a file), optional
        The mesh for formats that carry geometry (GLB); rejected for the others.
    file_type : str, optional
        Overrides the extension (``"glb"``, ``"csv"``, ``"npz"``, ``"json"``).
    **opts
        Options of the format's writer (for example ``swap_mouth_left_right`` for CSV).

    Returns
    -------
    Path of the written file.
    """
    from ..animation import FaceAnimation

    if not isinstance(anim, FaceAnimation):
        raise ParameterError(f"export_animation: expected a FaceAnimation, got {type(anim).__name__}")
    path = Path(path)
    kind = _file_type(path, file_type, animation_exporters, "export")
    if anim.num_frames == 0:
        # a glTF accessor holds at least one key (the GLB was invalid), and the CSV and JSON readers refuse a file
        # without frames: none of them is written
        raise ParameterError(f"{path}: the animation has no frames; nothing to write")
    writer = animation_exporters[kind]
    if isinstance(rig, str | os.PathLike):  # a rig's name or file, as the CLI's --rig and animate_file take it
        from ..loading import load_rig

        rig = load_rig(rig)
    if rig is not None:
        opts["rig"] = rig
    _check_options(writer, opts, kind, skip=2)
    log.info("writing %d frames at %.2f fps to %s (%s)", anim.num_frames, anim.fps, path, kind)
    return writer(anim, path, **opts)


def load_animation(path: str | Path, *, file_type: str | None = None, **opts):
    """Read a :class:`~facecraft.rigs.animation.FaceAnimation` from ``.glb``/``.gltf``, ``.csv``, ``.npz`` or ``.json``.

    ``**opts`` go to the format's reader (for example ``strict=False`` for a CSV with extra columns).
    """
    from ..animation import FaceAnimation

    path = Path(path)
    kind = _file_type(path, file_type, animation_loaders, "load")
    reader = animation_loaders[kind]
    _check_options(reader, opts, kind, skip=1)
    try:
        return FaceAnimation(**reader(path, **opts))
    except FacecraftError as e:
        if str(path) in str(e):
            raise
        raise type(e)(f"{path}: {e}") from e
    except (TypeError, ValueError, AttributeError, KeyError) as e:  # a field of the wrong kind in the file
        raise FileFormatError(f"{path}: not a readable {kind} animation ({type(e).__name__}: {e})") from e


def supported_formats() -> dict[str, list[str]]:
    """``{"export": [...], "load": [...]}`` file types (extensions without the dot)."""
    return {"export": sorted(animation_exporters), "load": sorted(animation_loaders)}
