"""Import a folder of OBJ blendshapes in the ICT FaceKit layout as a :class:`BlendshapeRig`.

The ICT FaceKit ``FaceXModel`` folder holds ``generic_neutral_mesh.obj[.gz]`` and one OBJ per shape, all
with the same topology and **absolute** vertex positions (a shape's delta is ``shape - neutral``). ICT
names sides with ``_L``/``_R`` (the subject's left is +X, as in ARKit) and splits ``browInnerUp`` and
``cheekPuff`` into halves, which this importer sums back into the single ARKit shape. Shapes that are not
ARKit shapes (``PupilDilate_*``, ``cheekRaiser_*``) and the PCA identity modes (``identity###``) are kept
out of the ARKit rig; :func:`ict_identity_deltas` gives the identity modes.

Units: ICT stores centimetres; the rig is converted to metres (Y up, face toward +Z, as ICT already is).
Parsed arrays are cached as one ``.npz`` in ``$FACECRAFT_CACHE_DIR`` (or ``~/.cache/facecraft``), keyed by
the OBJ files' names, sizes and modification times, so a second load takes well under a second.
"""

from __future__ import annotations

import gzip
import hashlib
import logging
import os
import re
import zlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .arkit import ARKIT_NAMES, canonical_arkit_name
from .blendshape_rig import SEMANTIC_POINTS, BlendshapeRig
from .errors import FileFormatError, MissingFileError, ParameterError

logger = logging.getLogger(__name__)

NEUTRAL_STEM = "generic_neutral_mesh"
ICT_ENV_VAR = "FACECRAFT_ICT_DIR"
CACHE_ENV_VAR = "FACECRAFT_CACHE_DIR"
_CACHE_VERSION = "ict-obj-v1"

# Vertex ranges of the ICT Face Model Light (inclusive starts, exclusive ends), from its README.
ICT_FACE_VERTICES = 9409  # full face area: vertices 0..9408
ICT_NARROW_FACE_VERTICES = 6706  # narrow face area: vertices 0..6705
ICT_SKIN_VERTICES = 11248  # face + head and neck

# ARKit shapes that ICT splits into two halves; the halves are summed.
_SPLIT_SHAPES = {"browInnerUp", "cheekPuff"}

# Semantic points of the ICT rig as vertex ids of the neutral mesh (same names as SEMANTIC_POINTS; ``_l`` is
# the subject's left, +X). Mouth, lids, brows, chin, nose tip and nostrils are the ICT README's Multi-PIE-68
# landmark vertices (landmark ordinal in brackets), the lid points the lid-margin vertices midway between two
# landmarks; the cheeks, which Multi-PIE lacks, are the face vertices nearest to the default rig's cheek
# points after a similarity alignment of the two neutrals on the other 20 points (0.2 cm away).
# Positions were checked on the neutral mesh (sign of x, lids above/below each other, inner lips between
# the outer ones).
ICT_SEMANTIC_VERTICES: dict[str, int] = {
    "mouth_corner_l": 6213,  # [54]
    "mouth_corner_r": 5708,  # [48]
    "upper_lip_center": 0,  # [51]
    "lower_lip_center": 5518,  # [57]
    "upper_lip_inner": 5533,  # [62]
    "lower_lip_inner": 5517,  # [66]
    "upper_lid_l": 4162,  # upper lid margin between [43] and [44]
    "lower_lid_l": 3768,  # lower lid margin between [46] and [47]
    "upper_lid_r": 1962,  # between [37] and [38]
    "lower_lid_r": 1554,  # between [40] and [41]
    "brow_inner_l": 3615,  # [22]
    "brow_mid_l": 4114,  # [24]
    "brow_outer_l": 2509,  # [26]
    "brow_inner_r": 1401,  # [21]
    "brow_mid_r": 1914,  # [19]
    "brow_outer_r": 268,  # [17]
    "chin": 966,  # [8]
    "nose_tip": 4857,  # [30]
    "nostril_l": 3360,  # [35]
    "nostril_r": 1140,  # [31]
    "cheek_l": 2271,  # nearest to the default rig's cheek_l (MediaPipe 425) after alignment
    "cheek_r": 30,  # its mirror image
}


@dataclass
class ObjShapeSet:
    """Plain data read from a folder of same-topology OBJs (what the importer returns before building a rig).

    Attributes
    ----------
    neutral : float32 (V, 3)
        Neutral vertex positions in the files' units.
    faces : int64 (F, 3)
        Triangles (quads split along their first diagonal).
    names : list of K str
        File stems of the shapes, sorted.
    shapes : float32 (K, V, 3)
        Absolute vertex positions of each shape (not deltas).
    folder : Path
    """

    neutral: np.ndarray
    faces: np.ndarray
    names: list[str]
    shapes: np.ndarray
    folder: Path

    def deltas(self) -> np.ndarray:
        """Shape minus neutral, ``(K, V, 3)``."""
        return self.shapes - self.neutral[None]


# ---------------------------------------------------------------------------------------------- OBJ parsing
def _read_text(path: Path) -> bytes:
    try:
        if path.name.endswith(".gz"):
            with gzip.open(path, "rb") as f:
                return f.read()
        return path.read_bytes()
    except (OSError, EOFError, zlib.error) as e:
        raise FileFormatError(f"{path}: cannot read OBJ file ({e})") from e


def _parse_obj(path: Path, *, with_faces: bool) -> tuple[np.ndarray, np.ndarray | None]:
    """Vertices ``(V, 3)`` float32 and (optionally) triangles ``(F, 3)`` int64 of one OBJ file."""
    lines = _read_text(path).split(b"\n")
    vlines = [ln[2:] for ln in lines if ln.startswith(b"v ")]
    if not vlines:
        raise FileFormatError(f"{path}: no vertex ('v x y z') lines; not an OBJ mesh")
    tokens = b" ".join(vlines).split()
    try:
        coords = np.array(tokens, dtype=np.float64)
    except ValueError as e:
        raise FileFormatError(f"{path}: unparsable vertex coordinates ({e})") from e
    if coords.size != 3 * len(vlines):
        # Some writers add a w or r g b per vertex: take the first three numbers of each line instead.
        try:
            coords = np.array([ln.split()[:3] for ln in vlines], dtype=np.float64)
        except ValueError as e:
            raise FileFormatError(f"{path}: vertex lines do not all hold x y z ({e})") from e
        if coords.shape != (len(vlines), 3):
            raise FileFormatError(f"{path}: vertex lines do not all hold x y z")
    verts = coords.reshape(-1, 3).astype(np.float32)
    if not np.all(np.isfinite(verts)):
        raise FileFormatError(f"{path}: vertex coordinates contain NaN or infinity")
    if not with_faces:
        return verts, None
    tris: list[np.ndarray] = []
    polys: dict[int, list[list[int]]] = {}
    try:
        for ln in lines:
            if ln.startswith(b"f "):
                idx = [int(t.split(b"/", 1)[0]) for t in ln[2:].split()]
                polys.setdefault(len(idx), []).append(idx)
    except ValueError as e:
        raise FileFormatError(f"{path}: unparsable face line ({e})") from e
    n = len(verts)
    for k, rows in sorted(polys.items()):
        if k < 3:
            raise FileFormatError(f"{path}: a face with {k} vertices (at least 3 expected)")
        p = np.asarray(rows, dtype=np.int64)
        p = np.where(p < 0, p + n, p - 1)  # OBJ is 1-based; negative ids count back from the end
        for j in range(1, k - 1):  # fan triangulation: (0, 1, 2), (0, 2, 3), ...
            tris.append(p[:, [0, j, j + 1]])
    faces = np.concatenate(tris) if tris else np.zeros((0, 3), dtype=np.int64)
    if faces.size and (faces.min() < 0 or faces.max() >= n):
        raise FileFormatError(f"{path}: face indices outside 1..{n}")
    return verts, faces


def read_obj(path: str | os.PathLike) -> tuple[np.ndarray, np.ndarray]:
    """Read an OBJ (or ``.obj.gz``) mesh: vertices ``(V, 3)`` float32 and triangles ``(F, 3)`` int64.

    Only ``v`` and ``f`` lines are used; polygons are fan-triangulated. Raises :class:`MissingFileError`
    or :class:`FileFormatError` naming the file.
    """
    p = Path(path)
    if not p.is_file():
        raise MissingFileError(f"OBJ file not found: {p}")
    verts, faces = _parse_obj(p, with_faces=True)
    return verts, faces


# ---------------------------------------------------------------------------------------------- shape sets
def _stem(path: Path) -> str:
    name = path.name
    return name[: -len(".obj.gz")] if name.endswith(".obj.gz") else name[: -len(".obj")]


def _obj_files(folder: Path) -> dict[str, Path]:
    files: dict[str, Path] = {}
    for p in sorted(folder.iterdir()):
        if p.is_file() and (p.name.endswith(".obj") or p.name.endswith(".obj.gz")):
            files.setdefault(_stem(p), p)  # prefer whichever sorts first; both forms hold the same mesh
    return files


def cache_dir() -> Path:
    """Folder for facecraft's caches: ``$FACECRAFT_CACHE_DIR`` or ``~/.cache/facecraft``."""
    return Path(os.environ.get(CACHE_ENV_VAR) or Path.home() / ".cache" / "facecraft").expanduser()


def _cache_key(files: dict[str, Path], neutral_stem: str) -> str:
    h = hashlib.sha256(f"{_CACHE_VERSION}|{neutral_stem}".encode())
    for stem, p in sorted(files.items()):
        st = p.stat()
        h.update(f"|{stem}|{p.name}|{st.st_size}|{st.st_mtime_ns}".encode())
    return h.hexdigest()[:20]


def load_obj_shape_set(
    folder: str | os.PathLike, *, neutral_stem: str = NEUTRAL_STEM, use_cache: bool = True
) -> ObjShapeSet:
    """Read every OBJ in ``folder``: the neutral (``<neutral_stem>.obj[.gz]``) and all other shapes.

    Parameters
    ----------
    folder : path-like
        Folder of ``*.obj`` / ``*.obj.gz`` files sharing one topology.
    neutral_stem : str
        File stem of the neutral mesh.
    use_cache : bool
        Read/write the parsed arrays as an ``.npz`` in :func:`cache_dir` (key: names, sizes, mtimes).

    Raises
    ------
    MissingFileError
        The folder or the neutral OBJ does not exist.
    FileFormatError
        An OBJ cannot be parsed, or its vertex count differs from the neutral's (both counts named).
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise MissingFileError(f"OBJ blendshape folder not found: {folder}")
    files = _obj_files(folder)
    if neutral_stem not in files:
        raise MissingFileError(f"{folder}: neutral mesh {neutral_stem}.obj or {neutral_stem}.obj.gz not found")
    cache_path = cache_dir() / f"objset-{_cache_key(files, neutral_stem)}.npz" if use_cache else None
    if cache_path is not None and cache_path.is_file():
        try:
            with np.load(cache_path, allow_pickle=False) as z:
                logger.info("ICT/OBJ shapes from cache %s", cache_path)
                return ObjShapeSet(z["neutral"], z["faces"], [str(n) for n in z["names"]], z["shapes"], folder)
        except (OSError, ValueError, KeyError) as e:
            logger.warning("ignoring unreadable cache %s (%s)", cache_path, e)
    neutral, faces = _parse_obj(files[neutral_stem], with_faces=True)
    names = [s for s in files if s != neutral_stem]
    shapes = np.empty((len(names), *neutral.shape), dtype=np.float32)

    def parse(i: int) -> None:
        verts, _ = _parse_obj(files[names[i]], with_faces=False)
        if verts.shape != neutral.shape:
            raise FileFormatError(
                f"{files[names[i]]}: {len(verts)} vertices, but the neutral mesh {files[neutral_stem].name} has "
                f"{len(neutral)}; every shape must share the neutral's topology"
            )
        shapes[i] = verts

    with ThreadPoolExecutor(max_workers=min(4, os.cpu_count() or 1)) as pool:
        list(pool.map(parse, range(len(names))))  # list() re-raises the first error
    result = ObjShapeSet(neutral, faces, names, shapes, folder)
    if cache_path is not None:
        try:
            cache_path.parent.mkdir(parents=True, exist_ok=True)
            tmp = cache_path.with_suffix(f".tmp{os.getpid()}.npz")
            np.savez(tmp, neutral=neutral, faces=faces, names=np.array(names), shapes=shapes)
            os.replace(tmp, cache_path)
        except OSError as e:
            logger.warning("could not write cache %s (%s)", cache_path, e)
    return result


# ---------------------------------------------------------------------------------------------- ARKit mapping
def ict_to_arkit_name(stem: str) -> str | None:
    """ARKit name for an ICT shape stem (``eyeBlink_L`` -> ``eyeBlinkLeft``, ``browInnerUp_L`` -> ``browInnerUp``).

    Returns ``None`` for shapes that are not ARKit shapes (``PupilDilate_L``, ``cheekRaiser_R``, ``identity003``).
    """
    base = re.sub(r"_[LR]$", "", stem)
    if base in _SPLIT_SHAPES:
        return base
    return canonical_arkit_name(stem, strict=False)


def arkit_deltas(shape_set: ObjShapeSet) -> tuple[list[str], np.ndarray]:
    """ARKit names (Apple order, those present) and deltas ``(K, V, 3)``; split halves are summed."""
    acc: dict[str, np.ndarray] = {}
    for i, stem in enumerate(shape_set.names):
        name = ict_to_arkit_name(stem)
        if name is None:
            continue
        d = shape_set.shapes[i] - shape_set.neutral
        acc[name] = acc[name] + d if name in acc else d
    names = [n for n in ARKIT_NAMES if n in acc]
    deltas = np.stack([acc[n] for n in names]) if names else np.zeros((0, *shape_set.neutral.shape), np.float32)
    return names, deltas.astype(np.float32)


def default_ict_dir() -> Path:
    """``$FACECRAFT_ICT_DIR``, else ``<shared>/assets/ict-facekit/FaceXModel`` with ``<shared>`` from
    ``$FACECRAFT_SHARED`` or the ``shared`` folder beside the checkout."""
    env = os.environ.get(ICT_ENV_VAR)
    if env:
        return Path(env).expanduser()
    from .assets import shared_data_dir

    return shared_data_dir() / "assets" / "ict-facekit" / "FaceXModel"


def _vertex_points(faces: np.ndarray, vertex_ids: list[int]) -> tuple[np.ndarray, np.ndarray]:
    """Express vertices as barycentric points: a triangle holding each vertex, bary weight 1 on it."""
    pf = np.empty(len(vertex_ids), dtype=np.int64)
    pb = np.zeros((len(vertex_ids), 3), dtype=np.float32)
    for i, v in enumerate(vertex_ids):
        hit = np.nonzero(faces == v)
        if hit[0].size == 0:
            raise ParameterError(f"semantic vertex {v} is on no triangle of the mesh")
        pf[i], pb[i, hit[1][0]] = hit[0][0], 1.0
    return pf, pb


def load_ict_rig(
    folder: str | os.PathLike | None = None,
    *,
    face_only: bool = False,
    scale: float = 0.01,
    use_cache: bool = True,
    semantic_vertices: dict[str, int] | None = None,
) -> BlendshapeRig:
    """Build an ARKit :class:`BlendshapeRig` from an ICT FaceKit style folder.

    Parameters
    ----------
    folder : path-like, optional
        Default :func:`default_ict_dir`.
    face_only : bool
        Keep only the face area (vertices ``0..9408``) and the triangles inside it; otherwise the whole head
        with teeth, eyes and lashes (26,719 vertices).
    scale : float
        Multiplies coordinates; ``0.01`` turns ICT's centimetres into metres.
    semantic_vertices : dict, optional
        Name -> vertex id; default :data:`ICT_SEMANTIC_VERTICES`. Ids must exist in the (cut) mesh.

    Returns
    -------
    BlendshapeRig
        Shapes in Apple order (51 for ICT: all but ``tongueOut``), semantic points of ``SEMANTIC_POINTS``.
    """
    if folder is None:
        folder = default_ict_dir()
        if not folder.is_dir():
            raise MissingFileError(
                f"ICT FaceKit folder not found at {folder}; pass folder= or set ${ICT_ENV_VAR} to a FaceXModel folder"
            )
    folder = Path(folder)
    data = load_obj_shape_set(folder, use_cache=use_cache)
    names, deltas = arkit_deltas(data)
    neutral, faces = data.neutral, data.faces
    if face_only:
        if len(neutral) < ICT_FACE_VERTICES:
            raise FileFormatError(
                f"{folder}: face_only needs the ICT layout ({ICT_FACE_VERTICES}+ vertices), got {len(neutral)}"
            )
        neutral, deltas = neutral[:ICT_FACE_VERTICES], deltas[:, :ICT_FACE_VERTICES]
        faces = faces[(faces < ICT_FACE_VERTICES).all(1)]
    sem = dict(ICT_SEMANTIC_VERTICES if semantic_vertices is None else semantic_vertices)
    sem = {k: v for k, v in sem.items() if 0 <= v < len(neutral)}
    point_names = [n for n in SEMANTIC_POINTS if n in sem] + [n for n in sem if n not in SEMANTIC_POINTS]
    pf, pb = _vertex_points(faces, [sem[n] for n in point_names])
    return BlendshapeRig(
        neutral * scale, deltas * scale, names, faces, point_names=point_names, point_faces=pf, point_bary=pb,
        name=f"ict:{folder.name}",
    )  # fmt: skip


def ict_identity_deltas(folder: str | os.PathLike | None = None, *, scale: float = 0.01) -> dict[str, np.ndarray]:
    """The PCA identity modes present (``identity000`` ...), as deltas ``(V, 3)`` from the neutral, in metres."""
    folder = Path(folder) if folder is not None else default_ict_dir()
    data = load_obj_shape_set(folder)
    return {n: (data.shapes[i] - data.neutral) * scale for i, n in enumerate(data.names) if n.startswith("identity")}
