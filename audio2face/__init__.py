"""facecraft.audio2face: speech to ARKit-52 / FLAME facial animation with emotion control.

Front-ends (:mod:`.audio`, :mod:`.features`, :mod:`.phonetics`, :mod:`.prosody`), the procedural teacher
(:mod:`.visemes`, :mod:`.teacher`), the learned model (:mod:`.model`, :mod:`.train`, :mod:`.corpus`),
inference (:mod:`.animate`, :mod:`.stream`, with the post-processing both share in :mod:`.postprocess`), the
curve-space lip state every part reads (:mod:`.lip_state`) and lip-sync metrics on rig geometry (:mod:`.metrics`).

Names are imported lazily, so ``import facecraft.audio2face`` stays cheap::

    from facecraft.audio2face import animate_file, StreamingAnimator
    animate_file("line_042.wav", "line_042.glb", emotion="anger:0.7")
"""

from __future__ import annotations

from facecraft.lazy import lazy_exports

_EXPORTS: dict[str, str] = {
    # audio and features
    "load_audio": "audio", "iter_audio_blocks": "audio", "audio_duration": "audio", "valid_audio": "audio",
    "get_features": "features", "LogMel": "features", "WhisperEncoder": "features", "HFSpeechEncoder": "features",
    # phonetics, prosody, teacher
    "Phone": "phonetics", "speech_phones": "phonetics", "align_transcript": "phonetics",
    "recognize_phones": "phonetics", "pitch": "prosody", "voice_activity": "prosody",
    "phone_to_viseme": "visemes", "mouth_cues": "visemes", "teacher_curves": "teacher",
    "ProceduralAnimator": "teacher",
    # learned model
    "A2FConfig": "model", "A2FModel": "model", "load_default_model": "model",
    "TrainConfig": "train", "CorpusSpec": "corpus", "build_corpus": "corpus",
    # inference
    "animate_file": "animate", "animate_audio": "animate", "predict_curves": "animate", "predict_frames": "animate",
    "retarget_flame": "animate",
    "StreamingAnimator": "stream", "stream_array": "stream",
    # metrics
    "inner_lip_gap": "metrics", "lip_sync_scores": "metrics", "score_lip_sync": "metrics", "rest_gap": "metrics",
    "lip_vertex_error": "metrics",
}  # fmt: skip

__all__ = sorted(_EXPORTS)


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())
