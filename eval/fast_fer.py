"""Fast inference of :class:`~facecraft.eval.classifier.FERClassifier` with ONNX Runtime.

Depthwise convolutions at batch 64 run several times faster in ONNX Runtime than in eager torch on CPU.
:func:`export_onnx` writes one graph that does everything after the face crop: uint8 grey crops
``(N, S, S)`` in, the ``(x / 255 - 0.5) * 2`` scaling, the network, softmax and (with ``flip_tta``) the
mean over the mirror image, probabilities ``(N, 8)`` in EMOTIONS order out. Inputs at the API go through
the same :func:`~facecraft.eval.faces.preprocess_face` as the torch model, so both give the same
probabilities (within 1e-4, tested). ``facecraft bench fer`` times both.

The graph sits beside the classifier's weights as ``<stem>.onnx`` next to ``<stem>.safetensors`` and
``<stem>.json``; the JSON config (labels, input size, ``flip_tta``) describes both. Exporting needs the
``onnx`` package (``torch.onnx`` uses it; training only); running needs only ``onnxruntime``.
"""

from __future__ import annotations

import io
import json
import logging
import os
import warnings
from pathlib import Path

import numpy as np
import torch
from torch import nn

from facecraft.rigs import EMOTIONS
from facecraft.rigs.errors import FileFormatError, MissingFileError, ParameterError

from .classifier import FERClassifier, weight_files
from .images import image_list

logger = logging.getLogger(__name__)

INPUT_NAME = "grey"
OUTPUT_NAME = "probabilities"


class _Probabilities(nn.Module):
    """uint8 crops ``(N, S, S)`` -> probabilities ``(N, 8)``, as :meth:`FERClassifier.predict_proba` after cropping."""

    def __init__(self, model: FERClassifier) -> None:
        super().__init__()
        self.model = model

    def forward(self, grey: torch.Tensor) -> torch.Tensor:
        x = (grey.float()[:, None] / 255.0 - 0.5) * 2.0
        return self.model.probabilities(x)


def export_onnx(model: FERClassifier, path: str | os.PathLike, *, opset: int = 17) -> Path:
    """Write ``model`` as an ONNX graph taking uint8 crops at its own size (see the module docstring).

    Save the model with ``save_pretrained(folder, stem=...)`` beside it: the JSON config describes the graph.
    Needs the ``onnx`` package.
    """
    model = model.eval()
    s = model.config.image_size
    dummy = torch.zeros((2, s, s), dtype=torch.uint8)
    buf = io.BytesIO()
    try:
        with warnings.catch_warnings():
            # the TorchScript exporter (the one that needs no onnxscript) warns that it is legacy, and the tracer
            # that the max-pool padding reads shapes (fixed for a given input size: the graph is still exact)
            warnings.simplefilter("ignore", DeprecationWarning)
            warnings.simplefilter("ignore", torch.jit.TracerWarning)
            torch.onnx.export(
                _Probabilities(model),
                (dummy,),
                buf,
                dynamo=False,
                input_names=[INPUT_NAME],
                output_names=[OUTPUT_NAME],
                dynamic_axes={INPUT_NAME: {0: "batch"}, OUTPUT_NAME: {0: "batch"}},
                opset_version=opset,
            )
    except torch.onnx.OnnxExporterError as e:  # raised when the onnx package is missing
        raise ImportError(f"exporting to ONNX needs the onnx package (pip install onnx): {e}") from e
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(buf.getvalue())
    return path


class OnnxFERClassifier:
    """An exported classifier run by ONNX Runtime on CPU: same interface as the torch model's prediction.

    Parameters
    ----------
    path : path-like, optional
        The ``.onnx`` file, with the classifier's ``.json`` config beside it (same stem); default: the one
        shipped beside facecraft's weights (``facecraft_fer.onnx``).
    threads : int
        ONNX Runtime intra-op threads.
    """

    def __init__(self, path: str | os.PathLike | None = None, *, threads: int = 2) -> None:
        import onnxruntime as ort

        if path is None:
            path = weight_files()[1].with_suffix(".onnx")
        path = Path(path)
        if not path.is_file():
            raise MissingFileError(
                f"ONNX FER model not found: {path} (write one with facecraft.eval.fast_fer.export_onnx)"
            )
        if threads < 1:
            raise ParameterError(f"threads: expected at least 1, got {threads}")
        options = ort.SessionOptions()
        options.intra_op_num_threads = int(threads)
        options.inter_op_num_threads = 1
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        try:
            self.session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        except Exception as e:  # onnxruntime raises its own exception types for bad files
            raise FileFormatError(f"{path}: not a loadable ONNX model ({e})") from e
        cfg_path = path.with_suffix(".json")
        if not cfg_path.is_file():
            raise MissingFileError(f"ONNX FER model {path}: its config {cfg_path.name} is not beside it")
        try:
            config = json.loads(cfg_path.read_text())
        except json.JSONDecodeError as e:
            raise FileFormatError(f"{cfg_path}: not valid JSON ({e})") from e
        labels = tuple(config.get("labels", ()))
        if labels != tuple(EMOTIONS):
            raise FileFormatError(f"{cfg_path}: labels {list(labels)} differ from {list(EMOTIONS)}")
        self.path = path
        self.labels = labels
        self.image_size = int(config["image_size"])
        self.flip_tta = bool(config.get("flip_tta", False))
        self.threads = int(threads)

    def probabilities(self, grey: np.ndarray) -> np.ndarray:
        """uint8 grey crops ``(N, S, S)`` (S = :attr:`image_size`) -> float32 probabilities ``(N, 8)``."""
        g = np.asarray(grey)
        if g.ndim == 2:
            g = g[None]
        if g.ndim != 3 or g.shape[1:] != (self.image_size, self.image_size):
            raise ParameterError(f"grey crops: expected shape (N, {self.image_size}, {self.image_size}), got {g.shape}")
        if g.dtype != np.uint8:
            raise ParameterError(f"grey crops: expected uint8, got {g.dtype}")
        return self.session.run([OUTPUT_NAME], {INPUT_NAME: np.ascontiguousarray(g)})[0]

    def crops(self, images, *, detect: bool | str = "auto") -> np.ndarray:
        """Images -> grey crops ``(N, S, S)`` through the shared :func:`~facecraft.eval.faces.preprocess_faces`."""
        from .faces import preprocess_faces

        return preprocess_faces(image_list(images), size=self.image_size, grey=True, detect=detect)

    def predict_proba(self, images, *, detect: bool | str = "auto", batch_size: int = 256) -> np.ndarray:
        """Class probabilities ``(N, 8)`` in EMOTIONS order for images (as :meth:`FERClassifier.predict_proba`)."""
        grey = self.crops(images, detect=detect)
        return np.concatenate([self.probabilities(grey[i : i + batch_size]) for i in range(0, len(grey), batch_size)])
