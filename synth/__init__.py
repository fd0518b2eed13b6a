"""facecraft.synth: face perception, rig fitting, geometric editor, AU diffusion adapter, talking portraits."""

from .fit import RigFit, fit_rig
from .lids import close_lids
from .mouth import paint_mouth_interior
from .warp import WarpResult, bench_warp, warp_face, warp_face_skimage

__all__ = [
    "RigFit",
    "fit_rig",
    "WarpResult",
    "bench_warp",
    "close_lids",
    "paint_mouth_interior",
    "warp_face",
    "warp_face_skimage",
]
