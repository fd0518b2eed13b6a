"""facecraft: generate and judge facial expressions.

Subpackages: :mod:`facecraft.rigs` (parameter tables, rigs, exchange formats, renderer, emotion space),
:mod:`facecraft.eval` (face analysis, FER models and evaluators), :mod:`facecraft.synth` (rig fitting and
the geometric photo editor), :mod:`facecraft.audio2face` (speech to facial animation), :mod:`facecraft.apps`
(the command line and the demo).
"""

__version__ = "0.1.0"
