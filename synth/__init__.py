"""facecraft.synth: face perception, rig fitting, geometric editor, AU diffusion adapter, talking portraits."""

from .fit import RigFit, fit_rig

__all__ = ["RigFit", "fit_rig"]
