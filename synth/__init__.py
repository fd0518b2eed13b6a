"""facecraft.synth: face perception, rig fitting, geometric editor, AU diffusion adapter, talking portraits."""
