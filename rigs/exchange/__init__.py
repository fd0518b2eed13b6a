"""Readers and writers of rig and animation files (one module per format, one registry).

- :func:`export_animation` / :func:`load_animation`: a :class:`~facecraft.rigs.animation.FaceAnimation`
  to and from ``.glb`` (mesh + morph targets + weights animation), ``.csv`` (Live Link Face), ``.npz``,
  ``.json``; the format follows the extension.
- :func:`write_rig_glb`: a rig's mesh and its shapes as named morph targets; :func:`load_gltf_rig` reads a
  glTF/GLB character back into a :class:`~facecraft.rigs.BlendshapeRig`.
- :func:`validate_gltf`: the Khronos glTF validator's report (needs Node and ``npm ci``).
- :func:`render_glb_frame`: one frame of a GLB imported and rendered by Blender, headless (needs ``blender`` and
  numpy for its Python: :func:`blender_imports_gltf`).
"""

from .blender import blender_available, blender_imports_gltf, render_glb_frame
from .glb import build_glb, write_glb, write_rig_glb
from .gltf_import import arkit_target_name, load_gltf_rig, read_gltf, read_gltf_animation
from .json_curves import read_json_curves, write_json_curves
from .livelink import LIVELINK_HEADER, read_livelink_csv, write_livelink_csv
from .npz import read_npz, write_npz
from .registry import (
    animation_exporters,
    animation_loaders,
    export_animation,
    flame_formats,
    load_animation,
    supported_formats,
)
from .validate import validate_gltf, validator_available

__all__ = [
    "LIVELINK_HEADER", "animation_exporters", "animation_loaders", "arkit_target_name", "blender_available",
    "blender_imports_gltf", "build_glb", "export_animation", "flame_formats", "load_animation", "load_gltf_rig",
    "read_gltf", "read_gltf_animation",
    "read_json_curves", "read_livelink_csv", "read_npz", "render_glb_frame", "supported_formats", "validate_gltf",
    "validator_available", "write_glb", "write_json_curves", "write_livelink_csv", "write_npz", "write_rig_glb",
]  # fmt: skip
