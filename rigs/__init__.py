"""facecraft.rigs: the base layer every other part builds on.

Parameter tables (ARKit-52, FACS AUs, emotions), blendshape rigs, importers and exporters, retargeting,
the headless renderer and the emotion space. Imports no other facecraft part.

Heavier pieces load on demand: :mod:`.default_rig` (``default_rig()``), :mod:`.render` (``RigRenderer``),
:mod:`.video` (``write_mp4``), :mod:`.exchange` (``export_animation``), :mod:`.ict`, :mod:`.flame`, :mod:`.retarget`.
"""

from .animation import FaceAnimation
from .arkit import (
    ARKIT_INDEX,
    ARKIT_NAMES,
    NUM_ARKIT,
    canonical_arkit_name,
    livelink_name,
    mirror_curves,
    mirror_name,
    valid_curves,
    weights_from_dict,
)
from .assets import known_assets, resolve_asset
from .blendshape_rig import SEMANTIC_POINTS, BlendshapeRig, RigOutput, apply_blendshapes
from .emotion_space import EMOTION_ARG_HELP, EMOTION_CODE_DIM, EmotionCode, EmotionTrack, classify_arkit, parse_emotion
from .emotions import EMFACS_PROTOTYPES, EMOTION_INDEX, EMOTIONS, NUM_EMOTIONS, emotion_au_vector, normalize_emotion
from .errors import (
    AssetNotFoundError,
    FacecraftError,
    FileFormatError,
    MissingFileError,
    NoFaceError,
    OptionalDependencyError,
    ParameterError,
)
from .facs import (
    ACTION_UNITS,
    AU_NAMES,
    AU_TO_ARKIT,
    NUM_AU,
    NUM_SIDED_AU,
    SIDED_AU_NAMES,
    arkit_to_au,
    au_dict,
    au_to_arkit,
    au_vector,
    parse_au_name,
    side_mean,
)
from .loading import RIG_SPEC_HELP, load_rig

__all__ = [
    "ACTION_UNITS", "ARKIT_INDEX", "ARKIT_NAMES", "AU_NAMES", "AU_TO_ARKIT", "EMFACS_PROTOTYPES", "EMOTIONS",
    "EMOTION_ARG_HELP", "EMOTION_CODE_DIM", "EMOTION_INDEX", "NUM_ARKIT", "NUM_AU", "NUM_EMOTIONS", "NUM_SIDED_AU",
    "RIG_SPEC_HELP", "SEMANTIC_POINTS", "SIDED_AU_NAMES", "AssetNotFoundError", "BlendshapeRig", "EmotionCode",
    "EmotionTrack", "FaceAnimation", "FacecraftError", "FileFormatError", "MissingFileError", "NoFaceError",
    "OptionalDependencyError", "ParameterError", "RigOutput", "apply_blendshapes", "arkit_to_au", "au_dict",
    "au_to_arkit", "au_vector", "canonical_arkit_name", "classify_arkit", "emotion_au_vector", "known_assets",
    "livelink_name", "load_rig", "mirror_curves", "mirror_name", "normalize_emotion", "parse_au_name",
    "parse_emotion", "resolve_asset", "side_mean", "valid_curves", "weights_from_dict",
]  # fmt: skip
