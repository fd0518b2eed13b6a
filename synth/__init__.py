"""facecraft.synth: face perception, rig fitting, geometric editor, AU diffusion adapter, talking portraits.

The light parts (rig fitting, warp, lids, mouth interior, tongue) are imported here; the editor, talking portraits
and the diffusion adapter are loaded on first use (PEP 562), so ``import facecraft.synth`` does not pull in
MediaPipe, the FER judges or diffusers.

- Editing a photo: :func:`edit_image` (one call) or a :class:`FaceEditor` kept across calls, driven by
  :class:`EditControls` (emotion, AUs, ARKit, text), returning an :class:`EditResult`; :class:`EditorCalibration`
  maps a request to the rig's shapes.
- Rig fitting and warping: :func:`fit_rig` -> :class:`RigFit`, :func:`warp_face` -> :class:`WarpResult`
  (:func:`warp_face_skimage` is the benchmark's baseline), :func:`close_lids`, :func:`paint_mouth_interior`,
  :func:`paint_tongue_out`.
- Talking portraits: :func:`talk` (photo + speech -> video), :class:`TalkingPortrait`.
- AU diffusion adapter (needs diffusers and a base model): :class:`AUAdapter`, :func:`load_adapter`,
  :class:`AUEditPipeline`.
"""

from __future__ import annotations

from facecraft.lazy import lazy_exports

from .fit import RigFit, fit_rig
from .lids import close_lids
from .mouth import paint_mouth_interior
from .tongue import paint_tongue_out
from .warp import WarpResult, bench_warp, warp_face, warp_face_skimage

_LAZY: dict[str, str] = {
    "edit_image": "editor", "FaceEditor": "editor", "EditResult": "editor", "AnalyzedFace": "editor",
    "EditControls": "controls", "EditorCalibration": "calibration",
    "talk": "talk_portrait", "TalkingPortrait": "talk_portrait", "TalkResult": "talk_portrait",
    "AUAdapter": "adapter", "load_adapter": "adapter", "AUEditPipeline": "refine",
}  # fmt: skip

__all__ = [
    "RigFit",
    "fit_rig",
    "WarpResult",
    "bench_warp",
    "close_lids",
    "paint_mouth_interior",
    "paint_tongue_out",
    "warp_face",
    "warp_face_skimage",
    *_LAZY,
]


__getattr__, __dir__ = lazy_exports(__name__, _LAZY, globals())
