"""FLAME 2020/2023 head model loaded from the user's own file, without chumpy.

FLAME files are not redistributable, so facecraft never ships one: the user passes the path of
``generic_model.pkl`` / ``flame2023.pkl`` (a Python-2 pickle whose arrays may be ``chumpy`` objects) or an
``.npz`` with the same keys. :func:`load_flame_arrays` reads either with a restricted unpickler that turns
chumpy objects into numpy arrays and maps old ``scipy.sparse`` module paths, so neither chumpy nor an
old scipy is needed. :class:`FlameRig` wraps the arrays as buffers and poses them with the functional
core in :mod:`.lbs`. Layout and sources: ``../shared/assets/FLAME-FORMAT.md``.

Pickles can run code when loaded: only open FLAME files from a source you trust (your own download).
"""

from __future__ import annotations

import logging
import pickle
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse
import torch
from torch import nn

from .blendshape_rig import SEMANTIC_POINTS, points_from_barycentric
from .errors import FileFormatError, MissingFileError, ParameterError
from .lbs import blend_shapes, lbs, rigid_transforms, rodrigues

logger = logging.getLogger(__name__)

REQUIRED_KEYS: tuple[str, ...] = ("v_template", "shapedirs", "posedirs", "J_regressor", "weights", "kintree_table", "f")
JOINT_NAMES: tuple[str, ...] = ("root", "neck", "jaw", "left_eye", "right_eye")
FULL_SHAPE_DIM = 300  # identity columns before the expression columns in a full 400-column shapedirs

# Landmark ids (0-based iBUG-68 numbering) behind each facecraft semantic point; several ids are averaged.
# Sides are the subject's own (iBUG 36-41 is the subject's right eye, 42-47 the left; 48 the right mouth
# corner, 54 the left). The cheeks have no iBUG landmark: give them with ``semantic_vertices``.
IBUG68_SEMANTIC: dict[str, tuple[int, ...]] = {
    "mouth_corner_l": (54,), "mouth_corner_r": (48,), "upper_lip_center": (51,), "lower_lip_center": (57,),
    "upper_lip_inner": (62,), "lower_lip_inner": (66,),
    "upper_lid_l": (43, 44), "lower_lid_l": (46, 47), "upper_lid_r": (37, 38), "lower_lid_r": (40, 41),
    "brow_inner_l": (22,), "brow_mid_l": (24,), "brow_outer_l": (26,),
    "brow_inner_r": (21,), "brow_mid_r": (19,), "brow_outer_r": (17,),
    "chin": (8,), "nose_tip": (30,), "nostril_l": (35,), "nostril_r": (31,),
}  # fmt: skip
# The 51-point static embedding is iBUG-68 without the 17 contour points (ids 17..67 -> 0..50): no chin.
IBUG51_SEMANTIC: dict[str, tuple[int, ...]] = {
    k: tuple(i - 17 for i in v) for k, v in IBUG68_SEMANTIC.items() if min(v) >= 17
}
_SCHEMES: dict[str, dict[str, tuple[int, ...]]] = {"ibug68": IBUG68_SEMANTIC, "ibug51": IBUG51_SEMANTIC}

# (face ids, barycentric coords) key pairs of landmark embeddings, in order of preference.
_EMBEDDING_KEYS: tuple[tuple[str, str], ...] = (
    ("full_lmk_faces_idx", "full_lmk_bary_coords"),  # DECA landmark_embedding.npy: 68 points
    ("lmk_face_idx", "lmk_b_coords"),  # flame_static_embedding(_68).pkl
    ("static_lmk_faces_idx", "static_lmk_bary_coords"),  # DECA: 51 points
)


# ---------------------------------------------------------------------------------------------- reading
class _ChumpyStub:
    """Stands in for any ``chumpy`` class while unpickling; becomes a numpy array through ``__array__``.

    A ``Ch`` keeps its value under ``state['x']``; a ``reordering.Select`` is a lazy gather
    ``a.ravel()[idxs].reshape(preferred_shape)`` whose ``a`` may itself be a stub.
    """

    _chumpy_path = "chumpy"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._state: dict = {}

    def __setstate__(self, state: Any) -> None:
        if isinstance(state, tuple) and state and isinstance(state[0], dict):
            state = state[0]
        self._state = state if isinstance(state, dict) else {"x": state}

    def resolve(self) -> np.ndarray:
        s = self._state
        if "x" in s:
            return _to_array(s["x"])
        if "a" in s and "idxs" in s:
            a = _to_array(s["a"]).ravel()
            out = a[np.asarray(s["idxs"]).ravel()]
            shape = s.get("preferred_shape")
            return out.reshape(tuple(shape)) if shape is not None else out
        raise FileFormatError(
            f"cannot turn a pickled {self._chumpy_path} object into an array (state keys {sorted(s)}); "
            "expected a chumpy Ch (key 'x') or Select (keys 'a', 'idxs', 'preferred_shape')"
        )

    def __array__(self, dtype=None, copy=None) -> np.ndarray:
        arr = self.resolve()
        return arr if dtype is None else arr.astype(dtype)


def _to_array(value: Any) -> Any:
    """numpy array from a chumpy stub, a scipy sparse matrix, or anything ``np.asarray`` takes."""
    if isinstance(value, _ChumpyStub):
        return value.resolve()
    if scipy.sparse.issparse(value):
        return np.asarray(value.toarray())
    if isinstance(value, str | bytes):
        return value
    return np.asarray(value)


# What a FLAME / SMPL-family pickle may name besides chumpy (which becomes :class:`_ChumpyStub`): numpy's
# array reconstruction, scipy's sparse matrices and the few builtins old pickles use to rebuild objects.
# Anything else (os.system, subprocess, ...) is refused, so opening a user's file cannot run code.
_PICKLE_ALLOWED: dict[str, frozenset[str]] = {
    "numpy": frozenset({"ndarray", "dtype", "bool_", "float32", "float64", "int32", "int64", "uint8", "uint32"}),
    "numpy.core.multiarray": frozenset({"_reconstruct", "scalar"}),
    "numpy.core.numeric": frozenset({"_frombuffer"}),
    "copyreg": frozenset({"_reconstructor"}),
    "builtins": frozenset({"object", "set", "frozenset", "slice", "complex", "bytearray"}),
    "collections": frozenset({"OrderedDict"}),
    "_codecs": frozenset({"encode"}),
}


class _CompatUnpickler(pickle.Unpickler):
    """Unpickler for old SMPL-family files: chumpy classes become stubs, old module paths are mapped, and
    only the allow-listed classes (:data:`_PICKLE_ALLOWED`, scipy.sparse matrices) can be named."""

    source: str = "pickle"

    def find_class(self, module: str, name: str) -> Any:
        if module == "chumpy" or module.startswith("chumpy."):
            return type(name, (_ChumpyStub,), {"_chumpy_path": f"{module}.{name}"})
        if module.startswith("scipy.sparse") and name.endswith(("_matrix", "_array")) and hasattr(scipy.sparse, name):
            return getattr(scipy.sparse, name)  # e.g. scipy.sparse.csc.csc_matrix (moved to _csc in scipy 1.8)
        canonical = "numpy.core" + module[len("numpy._core") :] if module.startswith("numpy._core") else module
        if name not in _PICKLE_ALLOWED.get(canonical, frozenset()):
            raise pickle.UnpicklingError(
                f"{self.source} names {module}.{name}, which a FLAME file does not need; only numpy arrays, "
                "scipy sparse matrices and chumpy objects are read (refused so that opening it runs no code)"
            )
        if module.startswith("numpy.core") and int(np.__version__.split(".")[0]) >= 2:
            module = "numpy._core" + module[len("numpy.core") :]
        return super().find_class(module, name)


def _compat_unpickler(fh, path: Path) -> _CompatUnpickler:
    unpickler = _CompatUnpickler(fh, encoding="latin1")
    unpickler.source = str(path)
    return unpickler


def _unpickle(path: Path) -> Any:
    try:
        with path.open("rb") as fh:
            return _compat_unpickler(fh, path).load()
    except (pickle.UnpicklingError, EOFError, AttributeError, ImportError, IndexError, TypeError, ValueError) as e:
        raise FileFormatError(f"{path}: not a readable FLAME pickle ({type(e).__name__}: {e})") from e


def _read_npy_object(path: Path) -> Any:
    """Load an ``.npy`` file; object arrays (a pickled dict, as DECA writes) go through the compat unpickler."""
    try:
        with path.open("rb") as fh:
            version = np.lib.format.read_magic(fh)
            if version == (1, 0):
                shape, _, dtype = np.lib.format.read_array_header_1_0(fh)
            else:
                shape, _, dtype = np.lib.format.read_array_header_2_0(fh)
            if dtype.hasobject:
                obj = _compat_unpickler(fh, path).load()
                return obj[()] if isinstance(obj, np.ndarray) and obj.shape == () else obj
        return np.load(path, allow_pickle=False)
    except (ValueError, pickle.UnpicklingError, EOFError, AttributeError, ImportError) as e:
        raise FileFormatError(f"{path}: not a readable .npy landmark embedding ({type(e).__name__}: {e})") from e


def _read_mapping(path: str | Path, what: str) -> dict[str, Any]:
    """Key -> value dict from a ``.pkl``, ``.npz`` or ``.npy`` file (numpy arrays and plain values)."""
    path = Path(path)
    if not path.is_file():
        raise MissingFileError(f"{what} not found: {path}")
    suffix = path.suffix.lower()
    if suffix == ".npz":
        try:
            with np.load(path, allow_pickle=False) as z:
                data = {k: z[k] for k in z.files}
        except ValueError as e:
            raise FileFormatError(
                f"{path}: cannot read without unpickling ({e}); store plain arrays (dense J_regressor) in the npz"
            ) from e
        except (OSError, EOFError) as e:
            raise FileFormatError(f"{path}: not a readable npz ({e})") from e
    elif suffix == ".npy":
        data = _read_npy_object(path)
    elif suffix in (".pkl", ".pickle"):
        data = _unpickle(path)
    else:
        raise FileFormatError(f"{path}: unsupported {what} type {suffix!r}; expected .pkl, .npz or .npy")
    if not isinstance(data, Mapping):
        raise FileFormatError(f"{path}: expected a dict of arrays in the {what}, got {type(data).__name__}")
    return {str(k): _to_array(v) for k, v in data.items()}


def load_flame_arrays(path: str | Path) -> dict[str, Any]:
    """Read a FLAME model file (``.pkl`` without chumpy, or ``.npz``) into plain numpy arrays.

    Sparse matrices are densified and chumpy objects resolved; strings (``bs_style``) stay strings.
    Raises :class:`MissingFileError` if the file is absent and :class:`FileFormatError` naming the file
    and the missing keys if it is not a FLAME model.
    """
    data = _read_mapping(path, "FLAME model file")
    missing = [k for k in REQUIRED_KEYS if k not in data]
    if missing:
        raise FileFormatError(
            f"{path}: not a FLAME model, missing keys {missing} (has {sorted(data)}); expected {list(REQUIRED_KEYS)}"
        )
    return data


def load_landmark_embedding(source: str | Path | Mapping[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    """Landmark embedding ``(face ids (L,) int64, barycentric coords (L, 3) float32)``.

    ``source`` is a file (``flame_static_embedding.pkl``, ``flame_static_embedding_68.pkl``, DECA's
    ``landmark_embedding.npy``, an ``.npz``) or an already loaded dict. DECA's 68-point ``full_*`` entry wins
    over 51-point ``static_*`` ones.
    """
    data = dict(source) if isinstance(source, Mapping) else _read_mapping(source, "landmark embedding file")
    for fk, bk in _EMBEDDING_KEYS:
        if fk in data and bk in data:
            faces = np.asarray(_to_array(data[fk])).reshape(-1).astype(np.int64)
            bary = np.asarray(_to_array(data[bk]), dtype=np.float32).reshape(-1, 3)
            if faces.shape[0] != bary.shape[0]:
                raise FileFormatError(f"{_name(source)}: {fk} has {faces.shape[0]} entries but {bk} {bary.shape[0]}")
            return faces, bary
    wanted = " or ".join(f"({a}, {b})" for a, b in _EMBEDDING_KEYS)
    raise FileFormatError(f"{_name(source)}: no landmark embedding keys; expected {wanted}, got {sorted(data)}")


def _name(source: Any) -> str:
    return str(source) if isinstance(source, str | Path) else "landmark embedding"


def _has_embedding(data: Mapping[str, Any]) -> bool:
    return any(f in data and b in data for f, b in _EMBEDDING_KEYS)


# ---------------------------------------------------------------------------------------------- module
@dataclass
class FlameOutput:
    """FLAME forward result: ``vertices (B, V, 3)``, posed ``joints (B, 5, 3)``, and when the rig has them,
    ``landmarks (B, L, 3)`` and semantic ``points (B, P, 3)`` (names in :attr:`FlameRig.point_names`)."""

    vertices: torch.Tensor
    joints: torch.Tensor
    landmarks: torch.Tensor | None = None
    points: torch.Tensor | None = None


def _numeric(path: str, data: Mapping[str, Any], key: str, dtype=np.float64) -> np.ndarray:
    try:
        return np.asarray(data[key], dtype=dtype)
    except (TypeError, ValueError) as e:
        raise FileFormatError(f"{path}: {key} is not a numeric array ({type(data[key]).__name__}: {e})") from e


def _expect(path: str, key: str, arr: np.ndarray, shape: tuple, want: str) -> None:
    ok = arr.ndim == len(shape) and all(s is None or a == s for a, s in zip(arr.shape, shape, strict=False))
    if not ok:
        raise FileFormatError(f"{path}: {key} has shape {arr.shape}, expected {want}")


class FlameRig(nn.Module):
    """The FLAME head model as a module: identity shape, expression, and five joints posed by LBS.

    Parameters
    ----------
    model : path of a FLAME ``.pkl``/``.npz`` file, or a dict with its arrays
    n_shape, n_expression : components to use (default 300 / 100), clipped to what the file holds. A
        400-column ``shapedirs`` splits at 300 (identity | expression); smaller files split in half (10 + 10).
    landmark_embedding : optional embedding file or dict (see :func:`load_landmark_embedding`); without
        it, embedding keys inside the model file are used if present.
    landmark_scheme : ``"auto"`` (68 points -> ``"ibug68"``, 51 -> ``"ibug51"``), one of those, or ``None``
        (landmarks only, no semantic points from them).
    semantic_vertices : ``{point name: vertex id or ids}``; several ids are averaged. Adds to, or replaces,
        the points taken from landmarks (see :data:`IBUG68_SEMANTIC`).
    dtype : float dtype of the buffers.

    Joints are ``root, neck, jaw, left_eye, right_eye``; geometry stays in FLAME's own frame (metres, Y up,
    face toward +Z).
    """

    def __init__(
        self,
        model: str | Path | Mapping[str, Any],
        *,
        n_shape: int = 300,
        n_expression: int = 100,
        landmark_embedding: str | Path | Mapping[str, Any] | None = None,
        landmark_scheme: str | None = "auto",
        semantic_vertices: Mapping[str, int | Sequence[int]] | None = None,
        dtype: torch.dtype = torch.float32,
    ) -> None:
        super().__init__()
        if isinstance(model, Mapping):
            label = "FLAME arrays"
            data = {k: _to_array(v) for k, v in model.items()}
            missing = [k for k in REQUIRED_KEYS if k not in data]
            if missing:
                raise FileFormatError(f"{label}: missing keys {missing}; expected {list(REQUIRED_KEYS)}")
        else:
            label = str(model)
            data = load_flame_arrays(model)
        if n_shape < 0 or n_expression < 0:
            raise ParameterError(f"n_shape and n_expression must be >= 0, got {n_shape}, {n_expression}")

        v_template = _numeric(label, data, "v_template")
        _expect(label, "v_template", v_template, (None, 3), "(V, 3)")
        v = v_template.shape[0]
        shapedirs = _numeric(label, data, "shapedirs")
        _expect(label, "shapedirs", shapedirs, (v, 3, None), f"({v}, 3, N)")
        kintree = _numeric(label, data, "kintree_table", np.int64)
        _expect(label, "kintree_table", kintree, (2, None), "(2, J)")
        nj = kintree.shape[1]
        posedirs = _numeric(label, data, "posedirs")
        _expect(label, "posedirs", posedirs, (v, 3, 9 * (nj - 1)), f"({v}, 3, {9 * (nj - 1)})")
        j_reg = _numeric(label, data, "J_regressor")
        _expect(label, "J_regressor", j_reg, (nj, v), f"({nj}, {v})")
        weights = _numeric(label, data, "weights")
        _expect(label, "weights", weights, (v, nj), f"({v}, {nj})")
        faces = _numeric(label, data, "f", np.int64)
        _expect(label, "f", faces, (None, 3), "(F, 3)")
        if faces.size and (faces.min() < 0 or faces.max() >= v):
            raise FileFormatError(f"{label}: f holds vertex ids in [{faces.min()}, {faces.max()}], expected [0, {v})")
        parents = [int(p) for p in kintree[0]]
        parents[0] = -1  # stored as uint32 max (4294967295)
        if any(not 0 <= p < j for j, p in enumerate(parents) if j > 0):
            raise FileFormatError(f"{label}: kintree_table parents {parents[1:]} must each precede their joint")

        n_cols = shapedirs.shape[2]
        split = FULL_SHAPE_DIM if n_cols >= FULL_SHAPE_DIM + 100 else n_cols // 2
        if "shapedirs_split" in data:  # written by to_npz when it keeps fewer components
            split = int(np.asarray(data["shapedirs_split"]))
            if not 0 <= split <= n_cols:
                raise FileFormatError(f"{label}: shapedirs_split {split} outside [0, {n_cols}]")
        self.n_shape = min(int(n_shape), split)
        self.n_expression = min(int(n_expression), n_cols - split)
        if self.n_shape < n_shape or self.n_expression < n_expression:
            logger.info(
                "%s: shapedirs has %d columns; using %d shape and %d expression components",
                label, n_cols, self.n_shape, self.n_expression,
            )  # fmt: skip
        self.source = label
        self.parents: list[int] = parents
        self.joint_names: list[str] = list(JOINT_NAMES) if nj == len(JOINT_NAMES) else [f"joint{i}" for i in range(nj)]

        def buf(name: str, arr: np.ndarray, dt: torch.dtype = dtype) -> None:
            self.register_buffer(name, torch.as_tensor(np.ascontiguousarray(arr), dtype=dt))

        buf("v_template", v_template)
        buf("shapedirs", shapedirs[:, :, : self.n_shape])
        buf("expr_dirs", shapedirs[:, :, split : split + self.n_expression])
        buf("posedirs", posedirs)
        buf("J_regressor", j_reg)
        buf("lbs_weights", weights)
        buf("faces", faces, torch.long)
        # Joints are linear in the shape/expression coefficients: keep their bases too (exact, and needed
        # when only a vertex subset is posed, as the fitter does).
        buf("J_template", j_reg @ v_template)
        buf("J_shapedirs", np.einsum("jv,vcn->jcn", j_reg, shapedirs[:, :, : self.n_shape]))
        buf("J_exprdirs", np.einsum("jv,vcn->jcn", j_reg, shapedirs[:, :, split : split + self.n_expression]))

        # ------------------------------------------------------------ landmarks and semantic points
        emb = None
        if landmark_embedding is not None:
            emb = load_landmark_embedding(landmark_embedding)
        elif _has_embedding(data):
            emb = load_landmark_embedding(data)
        if emb is not None:
            lf, lb = emb
            if lf.size and (lf.min() < 0 or lf.max() >= faces.shape[0]):
                raise FileFormatError(
                    f"{_name(landmark_embedding) if landmark_embedding is not None else label}: landmark face ids "
                    f"in [{lf.min()}, {lf.max()}], expected [0, {faces.shape[0]}) for this model"
                )
            buf("lmk_faces_idx", lf, torch.long)
            buf("lmk_bary_coords", lb)
        else:
            self.register_buffer("lmk_faces_idx", None)
            self.register_buffer("lmk_bary_coords", None)
        self.landmark_scheme = self._scheme(landmark_scheme, 0 if emb is None else len(emb[0]))
        names, rows = self._semantic_rows(v, faces, emb, semantic_vertices)
        self.point_names: list[str] = names
        buf("semantic_matrix", rows if rows.size else np.zeros((0, v)))

    # ------------------------------------------------------------------ set-up helpers
    @staticmethod
    def _scheme(scheme: str | None, num_landmarks: int) -> str | None:
        if scheme is None or num_landmarks == 0:
            return None
        if scheme == "auto":
            return {68: "ibug68", 51: "ibug51"}.get(num_landmarks)
        if scheme not in _SCHEMES:
            raise ParameterError(f"landmark_scheme must be 'auto', None or one of {sorted(_SCHEMES)}, got {scheme!r}")
        need = 68 if scheme == "ibug68" else 51
        if num_landmarks != need:
            raise ParameterError(
                f"landmark_scheme {scheme!r} needs {need} landmarks, the embedding has {num_landmarks}"
            )
        return scheme

    def _semantic_rows(self, v: int, faces: np.ndarray, emb, semantic_vertices) -> tuple[list[str], np.ndarray]:
        """Each semantic point as a row of vertex weights ``(P, V)`` (points = rows @ vertices)."""
        rows: dict[str, np.ndarray] = {}
        if self.landmark_scheme is not None and emb is not None:
            lf, lb = emb
            lmk_rows = np.zeros((len(lf), v))
            for i in range(len(lf)):
                np.add.at(lmk_rows[i], faces[lf[i]], lb[i])
            for name, ids in _SCHEMES[self.landmark_scheme].items():
                rows[name] = lmk_rows[list(ids)].mean(0)
        for name, ids in (semantic_vertices or {}).items():
            ids_arr = np.atleast_1d(np.asarray(ids))
            if ids_arr.size == 0 or ids_arr.dtype.kind not in "iu" or ids_arr.min() < 0 or ids_arr.max() >= v:
                raise ParameterError(f"semantic_vertices[{name!r}]: expected vertex ids in [0, {v}), got {ids!r}")
            row = np.zeros(v)
            np.add.at(row, ids_arr, 1.0 / ids_arr.size)
            rows[str(name)] = row
        order = [n for n in SEMANTIC_POINTS if n in rows] + [n for n in rows if n not in SEMANTIC_POINTS]
        return order, np.stack([rows[n] for n in order]) if order else np.zeros((0, v))

    # ------------------------------------------------------------------ sizes
    @property
    def num_vertices(self) -> int:
        return int(self.v_template.shape[0])

    @property
    def num_joints(self) -> int:
        return len(self.parents)

    @property
    def num_landmarks(self) -> int:
        return 0 if self.lmk_faces_idx is None else int(self.lmk_faces_idx.shape[0])

    # ------------------------------------------------------------------ forward
    def _batch(self, name: str, value, width: int, batch: int, *, pad: bool = False) -> torch.Tensor:
        """``value`` as ``(B, width)`` (with ``pad``, missing trailing columns are zero); ``None`` gives zeros."""
        dev, dt = self.v_template.device, self.v_template.dtype
        if value is None:
            return torch.zeros(batch, width, dtype=dt, device=dev)
        t = torch.as_tensor(value, dtype=dt, device=dev)
        if t.ndim == 1:
            t = t[None]
        if t.ndim != 2 or t.shape[0] != batch or t.shape[1] > width or (not pad and t.shape[1] != width):
            want = f"<= {width}" if pad else str(width)
            raise ParameterError(f"FlameRig {name}: expected shape ({batch}, {want}), got {tuple(t.shape)}")
        if not torch.isfinite(t).all():
            raise ParameterError(f"FlameRig {name}: contains NaN or infinite values")
        if t.shape[1] < width:
            t = torch.cat([t, t.new_zeros(batch, width - t.shape[1])], 1)
        return t

    def _deform(self, vertex_ids: torch.Tensor | None, shape, expression, pose: torch.Tensor) -> tuple:
        """Posed vertices (all, or only ``vertex_ids``) and joints; inputs already ``(B, ...)`` tensors."""
        sl = slice(None) if vertex_ids is None else vertex_ids
        v_shaped = (
            self.v_template[sl] + blend_shapes(shape, self.shapedirs[sl]) + blend_shapes(expression, self.expr_dirs[sl])
        )
        joints = self.J_template + blend_shapes(shape, self.J_shapedirs) + blend_shapes(expression, self.J_exprdirs)
        return lbs(
            v_shaped, pose, joint_regressor=self.J_regressor, parents=self.parents,
            weights=self.lbs_weights[sl], posedirs=self.posedirs[sl], joints=joints,
        )  # fmt: skip

    def forward(
        self,
        *,
        shape=None,
        expression=None,
        global_orient=None,
        neck_pose=None,
        jaw_pose=None,
        eye_pose=None,
    ) -> FlameOutput:
        """Pose the head.

        Parameters
        ----------
        shape : (B, <= n_shape) identity coefficients; missing trailing columns are zero
        expression : (B, <= n_expression) expression coefficients
        global_orient, neck_pose, jaw_pose : (B, 3) axis-angle in radians
        eye_pose : (B, 6) left eye then right eye, axis-angle in radians

        Any input left ``None`` is zero; ``B`` comes from the inputs given (1 if none). A 1-D input is one
        batch item.

        Returns
        -------
        FlameOutput with vertices (B, V, 3) in metres, joints (B, 5, 3), landmarks (B, L, 3) and semantic
        points (B, P, 3) when the rig has them.
        """
        given = [x for x in (shape, expression, global_orient, neck_pose, jaw_pose, eye_pose) if x is not None]
        batch = 1
        if given:
            first = np.shape(given[0])
            batch = 1 if len(first) <= 1 else int(first[0])
        shape_t = self._batch("shape", shape, self.n_shape, batch, pad=True)
        expr_t = self._batch("expression", expression, self.n_expression, batch, pad=True)
        pose = torch.cat(
            [
                self._batch("global_orient", global_orient, 3, batch),
                self._batch("neck_pose", neck_pose, 3, batch),
                self._batch("jaw_pose", jaw_pose, 3, batch),
                self._batch("eye_pose", eye_pose, 6, batch),
            ],
            1,
        ).reshape(batch, -1, 3)
        if pose.shape[1] != self.num_joints:
            raise ParameterError(f"FlameRig: the model has {self.num_joints} joints; the pose inputs give 5")
        verts, joints = self._deform(None, shape_t, expr_t, pose)
        return FlameOutput(verts, joints, self.landmarks(verts), self.points(verts) if self.point_names else None)

    def landmarks(self, vertices: torch.Tensor) -> torch.Tensor | None:
        """Landmarks ``(..., L, 3)`` of vertices ``(..., V, 3)``; ``None`` without an embedding."""
        if self.lmk_faces_idx is None:
            return None
        return points_from_barycentric(vertices, self.faces, self.lmk_faces_idx, self.lmk_bary_coords)

    def points(self, vertices: torch.Tensor) -> torch.Tensor:
        """Semantic points ``(..., P, 3)`` of vertices ``(..., V, 3)`` (names in :attr:`point_names`)."""
        return torch.einsum("pv,...vc->...pc", self.semantic_matrix, vertices)

    def neutral_points(self) -> torch.Tensor:
        """Semantic points ``(P, 3)`` of the template."""
        return self.points(self.v_template)

    def semantic_points(self, names: Sequence[str] | None = None, vertices: torch.Tensor | None = None) -> torch.Tensor:
        """Semantic points ``(..., P, 3)`` by name (default all) of ``vertices`` (default the template)."""
        names = list(self.point_names) if names is None else list(names)
        unknown = [n for n in names if n not in self.point_names]
        if unknown:
            raise ParameterError(
                f"FlameRig: no semantic points {unknown}; it has {self.point_names or 'none'} "
                "(give a landmark embedding or semantic_vertices)"
            )
        idx = [self.point_names.index(n) for n in names]
        return self.points(self.v_template if vertices is None else vertices)[..., idx, :]

    def _point_rows(self, names: Sequence[str] | None) -> tuple[torch.Tensor, torch.Tensor]:
        """Vertex ids the chosen points touch ``(n,)`` and their weights ``(P, n)``."""
        names = list(self.point_names) if names is None else list(names)
        unknown = [n for n in names if n not in self.point_names]
        if not names or unknown:
            raise ParameterError(f"FlameRig: no semantic points {unknown or names}; it has {self.point_names}")
        rows = self.semantic_matrix[[self.point_names.index(n) for n in names]]
        cols = torch.nonzero(rows.abs().sum(0) > 0).flatten()
        return cols, rows[:, cols]

    def _jaw_pose(self, jaw_pose: torch.Tensor) -> torch.Tensor:
        zeros = jaw_pose.new_zeros(jaw_pose.shape[0], 3)
        return torch.stack([zeros, zeros, jaw_pose, zeros, zeros], 1)

    def point_function(self, names: Sequence[str] | None = None):
        """A fast ``f(expression (B, E), jaw_pose (B, 3), shape=None) -> points (B, P, 3)`` posing only the
        vertices the chosen semantic points touch (what fitting needs); neck, eyes and root stay at rest."""
        cols, sub = self._point_rows(names)

        def fn(expression: torch.Tensor, jaw_pose: torch.Tensor, shape: torch.Tensor | None = None) -> torch.Tensor:
            shape_t = jaw_pose.new_zeros(jaw_pose.shape[0], self.n_shape) if shape is None else shape
            verts, _ = self._deform(cols, shape_t, expression, self._jaw_pose(jaw_pose))
            return torch.einsum("pv,bvc->bpc", sub, verts)

        return fn

    def expression_jacobian(self, jaw_pose: torch.Tensor, names: Sequence[str] | None = None) -> torch.Tensor:
        """Exact ``d points / d expression`` ``(B, P, 3, E)`` at jaw rotations ``jaw_pose (B, 3)`` (other joints
        at rest), independent of the expression and shape values.

        For fixed rotations the posed mesh is affine in the expression: the vertices move by the skinned
        expression basis, and the joints (hence the skinning translations, which are linear in the joints)
        by the regressed basis. Fitting uses it instead of automatic differentiation through ``E`` directions.
        """
        cols, sub = self._point_rows(names)
        b, e = jaw_pose.shape[0], self.n_expression
        if e == 0:
            return jaw_pose.new_zeros(b, sub.shape[0], 3, 0)
        rotmats = rodrigues(self._jaw_pose(jaw_pose))  # (B, J, 3, 3)
        jdirs = self.J_exprdirs.permute(2, 0, 1)  # (E, J, 3)
        # The skinning transforms are linear in the joints for fixed rotations: push each joint direction through.
        _, tr = rigid_transforms(rotmats[:, None], jdirs[None], self.parents)  # (B, E, J, 3, 4)
        w = self.lbs_weights[cols]  # (n, J)
        sw = sub @ w  # (P, J): how much each point follows each joint
        # Each joint's rotation is the same for all its vertices, so blend the basis per joint first:
        # D_j = sum_v sub[p, v] w[v, j] dirs[v]  (J, P, 3, E), then rotate the small result.
        basis = torch.einsum("pv,vj,vce->jpce", sub, w, self.expr_dirs[cols])
        rot = tr[:, 0, :, :, :3]  # (B, J, 3, 3) world rotations (the same for every direction e)
        jac = torch.einsum("bjrc,jpce->bpre", rot, basis)
        d_trans = torch.einsum("pj,bejr->bpre", sw, tr[..., 3])  # moved joints change the skinning translation
        return jac + d_trans

    def to_npz(self, path: str | Path) -> Path:
        """Write the loaded arrays as a chumpy-free ``.npz`` (same keys as the pickle) for faster loading.

        Only the components in use are written. The file is as non-redistributable as its source.
        """
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        kin = np.stack([np.array(self.parents), np.arange(self.num_joints)]).astype(np.int64)
        kin[0, 0] = np.iinfo(np.uint32).max
        arrays = {
            "v_template": self.v_template, "shapedirs": torch.cat([self.shapedirs, self.expr_dirs], 2),
            "posedirs": self.posedirs, "J_regressor": self.J_regressor, "weights": self.lbs_weights, "f": self.faces,
        }  # fmt: skip
        out = {k: t.detach().cpu().numpy() for k, t in arrays.items()}
        out["kintree_table"] = kin
        out["shapedirs_split"] = np.array(self.n_shape)
        if self.lmk_faces_idx is not None:
            out["lmk_face_idx"] = self.lmk_faces_idx.cpu().numpy()
            out["lmk_b_coords"] = self.lmk_bary_coords.cpu().numpy()
        np.savez(path, **out)
        return path

    def __repr__(self) -> str:
        return (
            f"FlameRig(source={self.source!r}, vertices={self.num_vertices}, shape={self.n_shape}, "
            f"expression={self.n_expression}, landmarks={self.num_landmarks}, points={len(self.point_names)})"
        )
