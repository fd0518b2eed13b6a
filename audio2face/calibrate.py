"""Opening gains: how much wider a model's teacher parts the lips than the model does, on the model's training clips.

A model trained to seal every /p b m/ (the closure loss) learns to hedge: not knowing exactly where the next
closure falls, it keeps its lips nearer together everywhere than the teacher it was distilled from. The gap shows on
the very clips it learnt from, so it can be measured there and undone: for the jaw and each lip-parting channel
(:data:`~facecraft.audio2face.postprocess.OPENING_CHANNELS`), the ratio of the teacher's upper percentiles (90th
to 99th) to the model's, over the neutral curves of a seeded sample of the corpus's training items. Inference
applies the gains where the lips are apart (:func:`~facecraft.audio2face.postprocess.restore_opening`), so what
reads as shut stays shut. Evaluation clips (the corpus's eval split, the bench's speech) are never read.

``facecraft a2f calibrate --weights W --corpus C`` writes the gains into the config beside the weights.
"""

from __future__ import annotations

import copy
import json
import logging
from pathlib import Path

import numpy as np

from facecraft.rigs.errors import ParameterError

from .corpus import list_items, load_item
from .model import A2FModel
from .postprocess import OPENING_CHANNELS, OPENING_GAIN_KEY, OPENING_GAIN_RANGE, OPENING_INDEX
from .train_data import NEUTRAL

log = logging.getLogger(__name__)

#: The percentiles whose teacher/model ratios are averaged: the open end of speech, where the hedge shows.
GAIN_PERCENTILES = np.arange(90.0, 99.5, 0.5)
DEFAULT_ITEMS = 240


def opening_gains(model: A2FModel, corpus: str | Path, *, items: int = DEFAULT_ITEMS, seed: int = 0) -> dict:
    """Gains (channel -> gain, within :data:`OPENING_GAIN_RANGE`) of ``model`` against the teacher of ``corpus``'s
    training split, from a seeded sample of ``items`` items; the model's own gains, if any, are left out."""
    from tqdm import tqdm

    from .animate import predict_frames

    if items < 1:
        raise ParameterError(f"items: expected at least 1 training item to calibrate on, got {items}")
    paths = list_items(corpus, "train")
    if not paths:
        raise ParameterError(f"{corpus}: no training items to calibrate on (build it with `facecraft a2f corpus`)")
    rng = np.random.default_rng(seed)
    chosen = [paths[i] for i in sorted(rng.choice(len(paths), min(items, len(paths)), replace=False))]
    bare = copy.deepcopy(model)
    bare.config.meta = {k: v for k, v in model.config.meta.items() if k != OPENING_GAIN_KEY}
    pred, target = [], []
    for path in tqdm(chosen, desc="calibrating the opening", unit="clip"):
        item = load_item(path)
        if abs(item.fps - bare.config.fps) > 1e-6:
            raise ParameterError(
                f"{path}: teacher curves at {item.fps:g} fps, the model runs at {bare.config.fps:g} fps; calibrate on "
                "the corpus the model was trained on"
            )
        curves = predict_frames(bare, item.audio)[0]
        n = min(len(curves), item.teacher.shape[1])
        pred.append(curves[:n, OPENING_INDEX])
        target.append(item.teacher[NEUTRAL, :n][:, OPENING_INDEX])
    p = np.percentile(np.concatenate(pred), GAIN_PERCENTILES, axis=0)
    t = np.percentile(np.concatenate(target), GAIN_PERCENTILES, axis=0)
    ratio = (t / np.maximum(p, 1e-6)).mean(axis=0)
    gains = np.clip(ratio, *OPENING_GAIN_RANGE)
    return {
        "gains": {name: round(float(g), 4) for name, g in zip(OPENING_CHANNELS, gains, strict=True)},
        "corpus": str(corpus),
        "items": len(chosen),
        "frames": int(sum(len(x) for x in pred)),
        "seed": seed,
    }


def calibrate_weights(weights: str | Path, corpus: str | Path, *, items: int = DEFAULT_ITEMS, seed: int = 0) -> dict:
    """:func:`opening_gains` of the weights at ``weights`` (``.safetensors`` file or folder), written into the config
    JSON beside them (``meta.opening_gain``, and ``meta.opening_calibration``: corpus, items, frames, seed)."""
    model = A2FModel.from_pretrained(weights)
    result = opening_gains(model, corpus, items=items, seed=seed)
    weights = Path(weights)
    config = weights.with_suffix(".json") if weights.suffix == ".safetensors" else weights / A2FModel.config_name
    doc = json.loads(config.read_text())
    doc.setdefault("meta", {})[OPENING_GAIN_KEY] = result["gains"]
    doc["meta"]["opening_calibration"] = {k: v for k, v in result.items() if k != "gains"}
    config.write_text(json.dumps(doc, indent=2))
    log.info("wrote opening gains %s to %s", result["gains"], config)
    return result
