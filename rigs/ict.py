"""Import a folder of OBJ blendshapes in the ICT FaceKit layout as a :class:`BlendshapeRig`.

The ICT FaceKit ``FaceXModel`` folder holds ``generic_neutral_mesh.obj[.gz]`` and one OBJ per shape, all
with the same topology and **absolute** vertex positions (a shape's delta is ``shape - neutral``). ICT
names sides with ``_L``/``_R`` (the subject's left is +X, as in ARKit) and splits ``browInnerUp`` and
``cheekPuff`` into halves, which this importer sums back into the single ARKit shape. Shapes that are not
ARKit shapes (``PupilDilate_*``, ``cheekRaiser_*``) and the PCA identity modes (``identity###``) are kept
out of the ARKit rig; :func:`ict_identity_deltas` gives the identity modes.

Each triangle keeps the neutral OBJ's material (``usemtl``); :func:`ict_region_labels` turns ICT's materials into
the rig's surfaces (``rig.regions``: skin, lips, eyes, teeth, gums, tongue, lashes, and the see-through shells over
the eyes), which the GLB writer gives their own materials and the renderer their colours.

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
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from scipy.interpolate import CubicSpline
from scipy.sparse.csgraph import dijkstra
from scipy.spatial import cKDTree

from .arkit import ARKIT_NAMES, canonical_arkit_name
from .blendshape_rig import SEMANTIC_POINTS, BlendshapeRig
from .default_rig import inside_outline
from .errors import FileFormatError, MissingFileError, ParameterError
from .face_parts import (
    CAVITY_COLOR,
    IRIS_COLOR,
    PUPIL_COLOR,
    SCLERA_COLOR,
    SOCKET_COLOR,
    TEETH_COLOR,
    TEETH_GUM_COLOR,
    TONGUE_COLOR,
)
from .paths import atomic_output
from .surfaces import LASH_COLOR, LIP_COLOR, SKIN_COLOR, regions_from_labels

logger = logging.getLogger(__name__)

NEUTRAL_STEM = "generic_neutral_mesh"
ICT_ENV_VAR = "FACECRAFT_ICT_DIR"
CACHE_ENV_VAR = "FACECRAFT_CACHE_DIR"
_CACHE_VERSION = "ict-obj-v2"  # v2: each triangle's material

# Vertex ranges of the ICT Face Model Light (inclusive starts, exclusive ends), from its README.
ICT_FACE_VERTICES = 9409  # full face area: vertices 0..9408
ICT_NARROW_FACE_VERTICES = 6706  # narrow face area: vertices 0..6705
ICT_SKIN_VERTICES = 11248  # face + head and neck
ICT_MOUTH_SOCKET_VERTICES = (11248, 13294)  # the mouth's inside (drawn with M_BackHead in the OBJ)
ICT_EYE_SOCKET_VERTICES = (13294, 14062)  # both eye sockets (also M_BackHead)
ICT_ALL_VERTICES = 26719

# Surfaces of the ICT head (``rig.regions``): the neutral OBJ's material (``usemtl``) of each triangle names it.
_ICT_MATERIAL_REGIONS = {
    "M_Face": "skin", "M_BackHead": "skin", "M_GumsTongue": "gums", "M_Teeth": "teeth",
    "M_ScleraLeft": "eye_white", "M_ScleraRight": "eye_white", "M_IrisLeft": "iris", "M_IrisRight": "iris",
    "M_LacrimalFluid": "lacrimal_fluid", "M_EyeBlend": "eye_blend", "M_EyeOcclusion": "eye_occlusion",
    "M_EyeLashes": "eyelashes",
}  # fmt: skip
# Region -> (sRGB colour, alpha, double-sided), in the GLB's material order; the default rig's colours where the
# surface is the same. See :func:`ict_region_labels` for the transparent ones (alpha < 1).
ICT_REGIONS: dict[str, tuple[tuple[float, float, float], float, bool]] = {
    "skin": (SKIN_COLOR, 1.0, False),
    "lips": (LIP_COLOR, 1.0, False),
    "mouth_cavity": (CAVITY_COLOR, 1.0, False),
    "eye_socket": (SOCKET_COLOR, 1.0, False),
    "gums": (TEETH_GUM_COLOR, 1.0, False),
    "tongue": (TONGUE_COLOR, 1.0, False),
    "teeth": (TEETH_COLOR, 1.0, False),
    "eye_white": (SCLERA_COLOR, 1.0, False),
    "iris": (IRIS_COLOR, 1.0, False),
    "pupil": (PUPIL_COLOR, 1.0, True),
    "eyelashes": (LASH_COLOR, 0.55, True),
    "lower_eyelashes": (LASH_COLOR, 0.06, True),  # at 0.2 Blender showed a dark band under each eye
    "cornea": ((1.0, 1.0, 1.0), 0.08, False),
    "lacrimal_fluid": ((1.0, 1.0, 1.0), 0.12, False),
    "eye_blend": (SCLERA_COLOR, 0.15, False),
    "eye_occlusion": (SOCKET_COLOR, 0.15, False),
}
# The lips' outer line: the Multi-PIE-68 mouth landmarks [48]..[59] (ICT README), right corner, upper lip, left
# corner, lower lip. ICT draws its lips with the face's material; inside this line they take the default rig's lips.
ICT_LIP_OUTLINE = (5708, 5695, 2081, 0, 4275, 6200, 6213, 6346, 6461, 5518, 5957, 5841)
# The lips' outer line keeps to the face's edges near a smooth line through those landmarks: an edge this far from
# it (ICT's centimetres: 1 mm) costs twice its length, at 2 mm five times.
_LIP_LINE_TOLERANCE = 0.1
# ICT's gums and tongue are one mesh and material: the triangles that go with the jaw farther than this from the
# lower teeth are the tongue (and the floor of the mouth under it), the rest the gums and the palate. ICT's units
# (centimetres): the gum's strip along the lower teeth (at 0.5 the tongue's rim was gum-coloured too).
_TONGUE_FROM_TEETH = 0.3
_IRIS_DISC_GUESS = 18.0  # degrees from the cornea's apex: inner-ball vertices taken as the iris disc's first guess
_CORNEA_MARGIN = 0.13  # the shell is clear this far (a fraction of the eye's radius) beyond the iris's edge

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
    face_materials : int64 (F,)
        Each triangle's material in the neutral OBJ: an index into ``material_names`` (``-1``: none).
    material_names : list of str
        The neutral OBJ's ``usemtl`` names, in the order it first uses them.
    """

    neutral: np.ndarray
    faces: np.ndarray
    names: list[str]
    shapes: np.ndarray
    folder: Path
    face_materials: np.ndarray | None = None
    material_names: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.face_materials is None:
            self.face_materials = np.full(len(self.faces), -1, dtype=np.int64)

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


def _parse_obj(path: Path, *, with_faces: bool) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None, list[str]]:
    """Vertices ``(V, 3)`` float32 and (optionally) triangles ``(F, 3)`` int64 of one OBJ file, with each
    triangle's material (``usemtl`` group) as an index ``(F,)`` into the returned material names (``-1``: a face
    before any ``usemtl``). Names are in the order the file first uses them."""
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
        return verts, None, None, []
    tris: list[np.ndarray] = []
    tri_groups: list[np.ndarray] = []
    polys: dict[int, list[list[int]]] = {}
    groups: dict[int, list[int]] = {}  # per polygon size: each polygon's material index
    material_ids: dict[str, int] = {}
    current = -1
    try:
        for ln in lines:
            if ln.startswith(b"f "):
                idx = [int(t.split(b"/", 1)[0]) for t in ln[2:].split()]
                polys.setdefault(len(idx), []).append(idx)
                groups.setdefault(len(idx), []).append(current)
            elif ln.startswith(b"usemtl"):
                name = ln[6:].strip().decode("utf-8", "replace")
                current = material_ids.setdefault(name, len(material_ids))
    except ValueError as e:
        raise FileFormatError(f"{path}: unparsable face line ({e})") from e
    n = len(verts)
    for k, rows in sorted(polys.items()):
        if k < 3:
            raise FileFormatError(f"{path}: a face with {k} vertices (at least 3 expected)")
        p = np.asarray(rows, dtype=np.int64)
        p = np.where(p < 0, p + n, p - 1)  # OBJ is 1-based; negative ids count back from the end
        for j in range(1, k - 1):  # fan triangulation: (0, 1, 2), (0, 2, 3), ...; each keeps its polygon's group
            tris.append(p[:, [0, j, j + 1]])
            tri_groups.append(np.asarray(groups[k], dtype=np.int64))
    faces = np.concatenate(tris) if tris else np.zeros((0, 3), dtype=np.int64)
    face_materials = np.concatenate(tri_groups) if tri_groups else np.zeros(0, dtype=np.int64)
    if faces.size and (faces.min() < 0 or faces.max() >= n):
        raise FileFormatError(f"{path}: face indices outside 1..{n}")
    return verts, faces, face_materials, list(material_ids)


def read_obj(path: str | os.PathLike) -> tuple[np.ndarray, np.ndarray]:
    """Read an OBJ (or ``.obj.gz``) mesh: vertices ``(V, 3)`` float32 and triangles ``(F, 3)`` int64.

    Only ``v`` and ``f`` lines are used; polygons are fan-triangulated. Raises :class:`MissingFileError`
    or :class:`FileFormatError` naming the file.
    """
    verts, faces, _, _ = _parse_obj(_existing_obj(path), with_faces=True)
    return verts, faces


def read_obj_materials(path: str | os.PathLike) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[str]]:
    """:func:`read_obj` plus each triangle's material: vertices, triangles, material index per triangle ``(F,)``
    int64 into the names of the ``usemtl`` groups (in the file's order; ``-1`` for a face before any ``usemtl``)
    and those names. A polygon's triangles all keep its material."""
    return _parse_obj(_existing_obj(path), with_faces=True)


def _existing_obj(path: str | os.PathLike) -> Path:
    p = Path(path)
    if not p.is_file():
        raise MissingFileError(f"OBJ file not found: {p}")
    return p


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
                return ObjShapeSet(z["neutral"], z["faces"], [str(n) for n in z["names"]], z["shapes"], folder,
                                   z["face_materials"], [str(n) for n in z["material_names"]])  # fmt: skip
        except (OSError, ValueError, KeyError) as e:
            logger.warning("ignoring unreadable cache %s (%s)", cache_path, e)
    neutral, faces, face_materials, material_names = _parse_obj(files[neutral_stem], with_faces=True)
    names = [s for s in files if s != neutral_stem]
    shapes = np.empty((len(names), *neutral.shape), dtype=np.float32)

    def parse(i: int) -> None:
        verts, _, _, _ = _parse_obj(files[names[i]], with_faces=False)
        if verts.shape != neutral.shape:
            raise FileFormatError(
                f"{files[names[i]]}: {len(verts)} vertices, but the neutral mesh {files[neutral_stem].name} has "
                f"{len(neutral)}; every shape must share the neutral's topology"
            )
        shapes[i] = verts

    with ThreadPoolExecutor(max_workers=min(4, os.cpu_count() or 1)) as pool:
        list(pool.map(parse, range(len(names))))  # list() re-raises the first error
    result = ObjShapeSet(neutral, faces, names, shapes, folder, face_materials, material_names)
    if cache_path is not None:
        try:
            cache_path.parent.mkdir(parents=True, exist_ok=True)
            with atomic_output(cache_path, "tmp") as tmp:
                np.savez(tmp, neutral=neutral, faces=faces, names=np.array(names), shapes=shapes,
                         face_materials=face_materials, material_names=np.array(material_names, dtype=str))  # fmt: skip
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


def _label_eye(labels: np.ndarray, v: np.ndarray, faces: np.ndarray, shell: np.ndarray, ball: np.ndarray) -> None:
    """Label one eye's triangles in place: ``shell`` and ``ball`` are the masks of its outer shell (ICT's
    "sclera") and its inner ball (ICT's "iris") over ``faces``; see :func:`ict_region_labels`.

    The eye's axis is the normal of the iris disc, the flat front of the inner ball: first guessed as the way
    from the centre of the sphere fitted to the shell to the cornea's apex (the shell's farthest vertices),
    then the normal of the plane through the ball's vertices near that axis. Heights ``h`` along the axis and
    radii ``r`` from it are measured from the disc's centre; tolerances are fractions of the eye's radius.
    """
    shell_v = v[np.unique(faces[shell])]
    fit = np.linalg.lstsq(np.c_[2 * shell_v, np.ones(len(shell_v))], (shell_v**2).sum(1), rcond=None)[0]
    centre = fit[:3]
    radius = float(np.sqrt(fit[3] + centre @ centre))
    dist = np.linalg.norm(shell_v - centre, axis=1)
    axis = shell_v[dist >= np.quantile(dist, 0.98)].mean(0) - centre
    ball_ids = np.unique(faces[ball])
    for _ in range(2):  # guess, then refine on the disc itself
        q = v[ball_ids] - centre
        near = (q @ axis) > np.cos(np.radians(_IRIS_DISC_GUESS)) * np.linalg.norm(q, axis=1) * np.linalg.norm(axis)
        disc_v = v[ball_ids[near]]
        middle = disc_v.mean(0)
        normal = np.linalg.svd(disc_v - middle)[2][2]
        axis = normal * np.sign(normal @ axis)
    q = v - middle
    h = q @ axis
    r = np.linalg.norm(q - h[:, None] * axis, axis=1)
    on_disc = np.zeros(len(v), bool)
    on_disc[ball_ids] = (np.abs(h[ball_ids]) < 0.05 * radius) & (r[ball_ids] < 0.6 * radius)
    iris_radius = float(r[on_disc].max())
    iris = ball & on_disc[faces].all(1)
    h_mid, r_mid = h[faces].mean(1), r[faces].mean(1)
    inside = h_mid < -0.5 * radius  # the ball's walls, seen only through the pupil
    labels[ball] = "eye_white"
    labels[iris] = "iris"
    labels[ball & ~iris & inside] = "pupil"
    # clear beyond the iris's edge by about one of the shell's triangles, so none of them overlaps the iris
    labels[shell & ~inside & (r_mid < iris_radius + _CORNEA_MARGIN * radius)] = "cornea"


def _lip_line(points: np.ndarray, samples: int = 2048) -> np.ndarray:
    """A smooth closed line ``(samples, 2)`` through the 2-D lip landmarks ``points`` (:data:`ICT_LIP_OUTLINE`
    seen from the front): the distance from the corners' midpoint as a periodic cubic spline of the angle around
    it, so the lips bulge evenly between the landmarks, as an ellipse does."""
    centre = 0.5 * (points[0] + points[len(points) // 2])
    d = points - centre
    angle, radius = np.arctan2(d[:, 1], d[:, 0]), np.linalg.norm(d, axis=1)
    order = np.argsort(angle)
    angle, radius = angle[order], radius[order]
    spline = CubicSpline(np.r_[angle, angle[0] + 2 * np.pi], np.r_[radius, radius[0]], bc_type="periodic")
    t = np.linspace(angle[0], angle[0] + 2 * np.pi, samples, endpoint=False)
    return centre + spline(t)[:, None] * np.stack([np.cos(t), np.sin(t)], axis=1)


def _lip_outline(v: np.ndarray, faces: np.ndarray, face: np.ndarray) -> list[int]:
    """The lips' outer line as a closed loop of vertex ids: :data:`ICT_LIP_OUTLINE`'s landmarks joined by the
    shortest paths along the ``face`` triangles' edges (which follow ICT's edge loops around the mouth; straight
    lines between the landmarks cut its triangles into a sawtooth edge), each edge's length weighed up by its
    distance from :func:`_lip_line`, seen from the front. By length alone the path from each corner to the
    upper lip's peak ran along the edge loop under the line and climbed to the peak at its end: a notch 0.8 mm
    deep, a stair step in the upper lip's outline by each corner of an open mouth."""
    tri = faces[face]
    a, b = np.concatenate([tri, np.roll(tri, -1, axis=1)]).reshape(2, -1)
    ends = list(ICT_LIP_OUTLINE)
    off = cKDTree(_lip_line(v[ends, :2])).query(v[:, :2])[0]
    off = np.maximum(off[a], off[b]) / _LIP_LINE_TOLERANCE
    cost = np.linalg.norm(v[a] - v[b], axis=1) * (1 + off**2)
    graph = sp.coo_matrix((cost, (a, b)), shape=(len(v), len(v))).tocsr()
    _, previous = dijkstra(graph, directed=False, indices=ends, return_predecessors=True)
    loop: list[int] = []
    for i, start in enumerate(ends):
        path, node = [], ends[(i + 1) % len(ends)]
        while node != start and node >= 0:  # walk back from the next landmark to this one
            path.append(int(node))
            node = previous[i, node]
        loop += [start, *path[:0:-1]]
    return loop


def _lip_triangles(v: np.ndarray, faces: np.ndarray, face: np.ndarray) -> np.ndarray:
    """Mask of the ``face`` triangles inside the lips' outer line (:func:`_lip_outline`), seen from the front."""
    loop = _lip_outline(v, faces, face)
    within = inside_outline(v[:, :2], v[loop, :2])
    within[loop] = True
    return face & within[faces].all(1)


def _label_tongue(
    labels: np.ndarray, v: np.ndarray, faces: np.ndarray, gums: np.ndarray, teeth: np.ndarray, jaw_open: np.ndarray
) -> None:
    """Label the tongue in place among the ``gums`` triangles: those whose vertices all go with the jaw (move in
    ``jaw_open``) and lie farther than :data:`_TONGUE_FROM_TEETH` from every lower tooth's vertex."""
    moves = np.linalg.norm(np.asarray(jaw_open, np.float64), axis=1)
    moves = moves > 0.1 * moves.max()
    lower_teeth = np.unique(faces[teeth])
    lower_teeth = lower_teeth[moves[lower_teeth]]
    lower = gums & moves[faces].all(1)
    if not len(lower_teeth) or not lower.any():
        return
    far = cKDTree(v[lower_teeth]).query(v[faces[lower]].mean(1))[0] > _TONGUE_FROM_TEETH
    labels[np.nonzero(lower)[0][far]] = "tongue"


def ict_region_labels(
    neutral: np.ndarray,
    faces: np.ndarray,
    face_materials: np.ndarray,
    material_names,
    jaw_open: np.ndarray | None = None,
) -> np.ndarray:
    """Each triangle's region (a key of :data:`ICT_REGIONS`, or ``None`` for a material ICT does not use).

    From the OBJ's materials, refined where one ICT material holds two surfaces (full ICT layout only):

    * ``M_BackHead`` also holds the mouth socket and the eye sockets (by the README's vertex ranges):
      ``mouth_cavity`` and ``eye_socket``, dark, as the default rig's.
    * ``M_Face`` also holds the lips: inside their outer line (:data:`ICT_LIP_OUTLINE`, seen from the front)
      ``lips``, in the default rig's lip colour.
    * ``M_GumsTongue`` is ``gums`` (with the palate), and ``tongue`` where it goes with the jaw (``jaw_open``:
      the jawOpen shape's vertex offsets) farther than :data:`_TONGUE_FROM_TEETH` from the teeth that do: in
      one pink, an open mouth showed a uniform pink.
    * Each eye is two nested balls. ICT's "sclera" is the outer, wet shell with the cornea's bulge: white, but
      clear in front of the iris and a little beyond (``cornea``). ICT's "iris" is the inner ball, whose flat
      front is the iris disc, with the pupil as a hole into the ball: ``iris`` on the disc, ``pupil`` (near black,
      both sides) for the ball's walls seen through that hole, and ``eye_white`` for the rest of its front.

    ICT (after Unreal's digital humans) also layers thin shells over each eye that its shaders draw blended
    through textures: the tear film along the lids (``lacrimal_fluid``), the blend of the eye's corners into
    the skin (``eye_blend``) and a shadow under the lids (``eye_occlusion``). Drawn opaque they cover the eyes
    (a blank eye); without textures they keep a faint, uniform alpha (:data:`ICT_REGIONS`, glTF ``BLEND``): a
    little sheen, softened corners, a shadowed eye, and the eye under them in full view. The lashes are strips
    that ICT's textures cut into hairs; drawn solid they read as thick black bands, so they are blended too: the
    upper ones (``eyelashes``) dark, the sparser lower ones (``lower_eyelashes``, below the middle of each eye's
    opening) barely there: their strip hangs below the lid, and any darker reads as a bag under the eye.
    """
    labels = np.array([None] * len(faces), dtype=object)
    names = [_ICT_MATERIAL_REGIONS.get(n) for n in material_names]
    known = face_materials >= 0
    labels[known] = np.array(names, dtype=object)[face_materials[known]]
    by_material = {n: face_materials == i for i, n in enumerate(material_names)}
    if len(neutral) == ICT_ALL_VERTICES and "M_BackHead" in by_material:
        for (lo, hi), region in ((ICT_MOUTH_SOCKET_VERTICES, "mouth_cavity"), (ICT_EYE_SOCKET_VERTICES, "eye_socket")):
            inside = by_material["M_BackHead"] & ((faces >= lo) & (faces < hi)).all(1)
            labels[inside] = region
    v = neutral.astype(np.float64)
    full = len(neutral) == ICT_ALL_VERTICES
    if full and "M_Face" in by_material:
        labels[_lip_triangles(v, faces, by_material["M_Face"])] = "lips"
    if full and jaw_open is not None and "M_GumsTongue" in by_material and "M_Teeth" in by_material:
        _label_tongue(labels, v, faces, by_material["M_GumsTongue"], by_material["M_Teeth"], jaw_open)
    if "M_EyeLashes" in by_material and full:
        # below the middle of each eye's opening (the lid points'): the sparser, shorter lower lashes
        mid_l = v[[ICT_SEMANTIC_VERTICES["upper_lid_l"], ICT_SEMANTIC_VERTICES["lower_lid_l"]], 1].mean()
        mid_r = v[[ICT_SEMANTIC_VERTICES["upper_lid_r"], ICT_SEMANTIC_VERTICES["lower_lid_r"]], 1].mean()
        mid = v[faces].mean(1)
        labels[by_material["M_EyeLashes"] & (mid[:, 1] < np.where(mid[:, 0] > 0, mid_l, mid_r))] = "lower_eyelashes"
    for shell_name, ball_name in (("M_ScleraLeft", "M_IrisLeft"), ("M_ScleraRight", "M_IrisRight")):
        shell, ball = by_material.get(shell_name), by_material.get(ball_name)
        if shell is not None and ball is not None and shell.sum() >= 8 and ball.sum() >= 8:
            _label_eye(labels, v, faces, shell, ball)
    return labels


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


def shape_folder(folder: Path) -> Path:
    """The folder holding the shapes: ``folder`` itself, or its ``FaceXModel`` when ``folder`` is ICT-FaceKit's
    repository root (what a user who cloned it gives; it said "generic_neutral_mesh.obj not found")."""

    def has_neutral(f: Path) -> bool:
        return any((f / f"{NEUTRAL_STEM}{ending}").is_file() for ending in (".obj", ".obj.gz"))

    inner = folder / "FaceXModel"
    return inner if not has_neutral(folder) and has_neutral(inner) else folder


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
    folder = shape_folder(Path(folder))
    data = load_obj_shape_set(folder, use_cache=use_cache)
    names, deltas = arkit_deltas(data)
    neutral, faces = data.neutral, data.faces
    jaw_open = deltas[names.index("jawOpen")] if "jawOpen" in names else None
    labels = ict_region_labels(neutral, faces, data.face_materials, data.material_names, jaw_open)
    if face_only:
        if len(neutral) < ICT_FACE_VERTICES:
            raise FileFormatError(
                f"{folder}: face_only needs the ICT layout ({ICT_FACE_VERTICES}+ vertices), got {len(neutral)}"
            )
        neutral, deltas = neutral[:ICT_FACE_VERTICES], deltas[:, :ICT_FACE_VERTICES]
        kept = (faces < ICT_FACE_VERTICES).all(1)
        faces, labels = faces[kept], labels[kept]
    sem = dict(ICT_SEMANTIC_VERTICES if semantic_vertices is None else semantic_vertices)
    sem = {k: v for k, v in sem.items() if 0 <= v < len(neutral)}
    point_names = [n for n in SEMANTIC_POINTS if n in sem] + [n for n in sem if n not in SEMANTIC_POINTS]
    pf, pb = _vertex_points(faces, [sem[n] for n in point_names])
    return BlendshapeRig(
        neutral * scale, deltas * scale, names, faces, point_names=point_names, point_faces=pf, point_bary=pb,
        regions=regions_from_labels(labels, ICT_REGIONS),
        name=f"ict:{folder.name}",
    )  # fmt: skip


def ict_identity_deltas(folder: str | os.PathLike | None = None, *, scale: float = 0.01) -> dict[str, np.ndarray]:
    """The PCA identity modes present (``identity000`` ...), as deltas ``(V, 3)`` from the neutral, in metres."""
    folder = shape_folder(Path(folder)) if folder is not None else default_ict_dir()
    data = load_obj_shape_set(folder)
    return {n: (data.shapes[i] - data.neutral) * scale for i, n in enumerate(data.names) if n.startswith("identity")}
