"""Faint smiles made by the geometric editor, for teaching the FER classifier what a slight smile looks like.

The classifier's usual miss on real photos is a faint closed-lip smile (four of the 36 held-out FRLL smiles read
as neutral). Studio training photos show each person once neutral and once smiling, mostly broadly; the editor
(:class:`facecraft.synth.editor.FaceEditor`) can put the missing in-between smiles on the same neutral photos:
``happiness`` at low intensities lifts the mouth corners (and a little the cheeks) with the lips closed. Each
edit is paired with its unedited source, which stays in training as neutral, so the only difference the
classifier can use is the expression, not the person, the camera or the editor's traces.

Augmentation of the classifier's own training photos, so it belongs with :mod:`~facecraft.eval.augment`: the
augment modules are the only ones in :mod:`facecraft.eval` that import :mod:`facecraft.synth` (imported when
an edit is made); the classifier and the data sets never import them, training only when asked for edits.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np
from tqdm.auto import tqdm

from facecraft.rigs import EMOTION_INDEX
from facecraft.rigs.errors import FacecraftError, ParameterError

from .datasets import FERDataset
from .images import load_image
from .photos import LabelledPhoto, camera_crops, crop_dataset

logger = logging.getLogger(__name__)

#: Happiness intensities of the edits of ``--recipe shipped`` (FACS trace to slight: AU12 about 0.2-0.4).
FAINT_SMILES: tuple[float, ...] = (0.2, 0.3, 0.4)


def smile_edit_name(path, intensity: float, copy: int) -> str:
    """Name of an edit's crop: ``<photo path>@happiness:<intensity>#<copy>`` (a photo crop name, see
    :func:`~facecraft.eval.photos.is_photo_crop`)."""
    return f"{path}@happiness:{intensity:g}#{copy}"


def faint_smile_dataset(
    photos: Sequence[LabelledPhoto],
    *,
    size: int,
    intensities: Sequence[float] = FAINT_SMILES,
    copies: int = 8,
    seed: int = 0,
    weight: float | None = None,
    split: str | None = None,
    editor=None,
) -> FERDataset:
    """Grey crops of faint-smile edits of the neutral photos among ``photos``, labelled happiness.

    Each neutral photo is analysed once and edited toward ``happiness:x`` for every ``x`` of ``intensities``;
    every edit gives ``copies`` crops (:func:`~facecraft.eval.photos.camera_crops`: the plain one, then
    camera-like variants). Photos of other expressions are ignored; a photo the editor cannot read is logged
    and skipped (listed in the result's ``skipped``).

    Parameters
    ----------
    photos : sequence of LabelledPhoto
        Training photos only (the edits carry their people into training).
    size : int
        Side of the crops, in pixels (the classifier's input).
    intensities : sequence of float
        Happiness intensities in (0, 1].
    copies : int
        Crops per edit, at least 1.
    seed : int
        Seed of the camera-like variants.
    weight : float, optional
        Loss weight of every crop (:attr:`FERDataset.weights`; ``None``: 1).
    split : str, optional
        Split name of every crop.
    editor : FaceEditor, optional
        Reuse loaded models; default a new one, closed at the end.

    Returns
    -------
    FERDataset
        uint8 crops ``(N, size, size)`` with ``N = neutral photos x len(intensities) x copies``, named by
        :func:`smile_edit_name`.
    """
    if copies < 1:
        raise ParameterError(f"copies: expected at least 1, got {copies}")
    bad = [x for x in intensities if not 0.0 < float(x) <= 1.0]
    if not intensities or bad:
        raise ParameterError(f"intensities: expected values in (0, 1], got {list(intensities)!r}")
    neutral, happy = EMOTION_INDEX["neutral"], EMOTION_INDEX["happiness"]
    sources = [p for p in photos if p.label == neutral]
    if not sources:  # nothing to edit: no editor to load
        return crop_dataset([], [], [], [], size=size, split=split, weight=weight)
    from facecraft.synth.controls import EditControls
    from facecraft.synth.editor import FaceEditor

    controls = [EditControls.from_args(emotion=f"happiness:{float(x):g}") for x in intensities]
    own = editor is None
    editor = FaceEditor() if own else editor
    rng = np.random.default_rng(seed)
    images, names, skipped = [], [], []
    try:
        for p in tqdm(sources, desc="faint-smile edits", unit="photo", leave=False):
            try:
                img = load_image(p.path)
                faces = editor.analyze(img, name=str(p.path))
                for x, c in zip(intensities, controls, strict=True):
                    edited = editor.apply(img, faces, c, face=0, name=str(p.path)).image
                    crops = camera_crops(edited, size=size, copies=copies, rng=rng, name=f"{p.path} (edited)")
                    images.extend(crops)
                    names.extend(smile_edit_name(p.path, float(x), k) for k in range(len(crops)))
            except (FacecraftError, OSError) as e:
                logger.warning("faint smiles: skipping %s: %s", p.path, e)
                skipped.append(f"{p.path}: {e}")
    finally:
        if own:
            editor.close()
    logger.info("faint smiles: %d crops of %d neutral photos (%d skipped)", len(names), len(sources), len(skipped))
    return crop_dataset(images, [happy] * len(names), names, skipped, size=size, split=split, weight=weight)
