"""facecraft: generate and judge facial expressions.

Subpackages: :mod:`facecraft.rigs` (parameter tables, rigs, exchange formats, renderer, emotion space),
:mod:`facecraft.eval` (FER models and evaluators), :mod:`facecraft.synth` (photo editing),
:mod:`facecraft.audio2face` (speech to facial animation), :mod:`facecraft.apps` (CLI, studio, batch).
"""

__version__ = "0.1.0"
