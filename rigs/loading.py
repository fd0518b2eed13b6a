"""One way to turn a rig spec (a name or a path) into a :class:`~facecraft.rigs.BlendshapeRig`.

Every command and API that takes ``--rig`` / ``rig=`` goes through :func:`load_rig`, so they all accept the
same things. Loaders are registered by kind, imported only when used (trimesh-style registry):

* a name: ``default`` (facecraft's default rig, :func:`facecraft.rigs.default_rig.default_rig`);
* a file by extension: ``.safetensors`` (what ``facecraft rig -o rig.safetensors`` writes),
  ``.glb`` / ``.gltf`` (a character with morph targets named after ARKit shapes);
* a folder: an ICT FaceKit ``FaceXModel`` folder of ``*.obj``/``*.obj.gz`` shapes.

FLAME files are not rigs of this kind (they are a learned model with their own coefficients): give them to
``--flame-model`` / :class:`facecraft.rigs.flame.FlameRig` instead.
"""

from __future__ import annotations

import importlib
import os
from pathlib import Path

from .errors import MissingFileError, ParameterError

# name -> "module:function" (called with no argument)
_named_rigs: dict[str, str] = {"default": "facecraft.rigs.default_rig:default_rig"}
# file extension (no dot, lower case) -> "module:function" (called with the path)
_file_rigs: dict[str, str] = {
    "safetensors": "facecraft.rigs.blendshape_rig:BlendshapeRig.load",
    "glb": "facecraft.rigs.exchange.gltf_import:load_gltf_rig",
    "gltf": "facecraft.rigs.exchange.gltf_import:load_gltf_rig",
}
# a folder -> "module:function" (called with the folder)
_folder_rig = "facecraft.rigs.ict:load_ict_rig"

RIG_SPEC_HELP = (
    f"{' or '.join(repr(n) for n in _named_rigs)}, a rig file "
    f"({', '.join('.' + k for k in _file_rigs)}) or an ICT FaceKit folder"
)


def _resolve(target: str):
    module, _, attr = target.partition(":")
    obj = importlib.import_module(module)
    for part in attr.split("."):
        obj = getattr(obj, part)
    return obj


def supported_rig_specs() -> dict[str, list[str]]:
    """What :func:`load_rig` accepts: ``{"names": [...], "extensions": [...], "folder": ["ICT FaceKit"]}``."""
    return {"names": sorted(_named_rigs), "extensions": sorted(_file_rigs), "folder": ["ICT FaceKit"]}


def load_rig(spec: str | os.PathLike | None = "default"):
    """The rig a spec names.

    Parameters
    ----------
    spec : str, path-like, BlendshapeRig or None
        A registered name (``"default"``; None means the default too), a rig file (``.safetensors``,
        ``.glb``, ``.gltf``) or an ICT FaceKit folder. A :class:`BlendshapeRig` is returned as is.

    Raises
    ------
    MissingFileError
        The path does not exist.
    ParameterError
        The spec is neither a known name nor a supported file or folder (the message lists what is).
    """
    from .blendshape_rig import BlendshapeRig

    if spec is None:
        spec = "default"
    if isinstance(spec, BlendshapeRig):
        return spec
    if not isinstance(spec, (str, os.PathLike)):
        raise ParameterError(f"rig: expected {RIG_SPEC_HELP}, got a {type(spec).__name__}")
    text = os.fspath(spec)
    if text in _named_rigs:
        return _resolve(_named_rigs[text])()
    path = Path(text).expanduser()
    if not path.exists():
        hint = "" if path.suffix or os.sep in text else f" (and {text!r} is not a rig name)"
        raise MissingFileError(f"rig not found: {path}{hint}; expected {RIG_SPEC_HELP}")
    if path.is_dir():
        return _resolve(_folder_rig)(path)
    kind = path.suffix.lower().lstrip(".")
    if kind not in _file_rigs:
        raise ParameterError(f"rig {path}: unsupported file type {path.suffix or '(none)'!r}; expected {RIG_SPEC_HELP}")
    return _resolve(_file_rigs[kind])(path)
