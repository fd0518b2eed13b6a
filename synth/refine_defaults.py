"""The refine pass's default settings, in one light module (no torch or diffusers import) so that the pipeline,
``facecraft adapter refine`` and the studio's sliders start from the same values."""

from __future__ import annotations

#: Share of the noise schedule a refine re-runs: low enough to keep the geometric edit's face and identity.
DEFAULT_STRENGTH = 0.4
#: DDIM steps of the full schedule (a refine runs ``strength`` of them).
DEFAULT_STEPS = 20
#: AU guidance: 1 applies the adapter's change as trained. An adapter trained with the paired objective has the
#: base itself as its null branch, so a scale above 1 extrapolates the change; at 3 the bench's edits of FRLL
#: training people drifted in identity (dlib 0.595 against 0.490 at 1) and grew colour blotches.
DEFAULT_GUIDANCE = 1.0
