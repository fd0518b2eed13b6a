"""Linear blendshape rigs: a functional core and a thin ``nn.Module`` around it.

A rig holds neutral vertices ``(V, 3)`` in metres (Y up, face toward +Z), named deltas ``(K, V, 3)``,
triangles ``(F, 3)``, optional UVs ``(V, 2)`` and named semantic points given as barycentric
coordinates on triangles. All are buffers, so ``.to(device)`` and ``state_dict`` just work. A rig may also
name surfaces of its mesh (``regions``: skin, eye whites, irises, teeth, ... each a set of triangles with a
colour, :class:`facecraft.rigs.surfaces.Region`), which the GLB writer and the renderer use.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from .arkit import ARKIT_NAMES, NUM_ARKIT, canonical_arkit_name
from .errors import FileFormatError, MissingFileError, ParameterError
from .surfaces import Region, check_regions

# Semantic points every facecraft rig should name (retargeting and lip-sync metrics use them).
# Sides are the subject's own: ``_l`` is the subject's left (+X).
SEMANTIC_POINTS: tuple[str, ...] = (
    "mouth_corner_l", "mouth_corner_r", "upper_lip_center", "lower_lip_center",
    "upper_lip_inner", "lower_lip_inner",
    "upper_lid_l", "lower_lid_l", "upper_lid_r", "lower_lid_r",
    "brow_inner_l", "brow_mid_l", "brow_outer_l", "brow_inner_r", "brow_mid_r", "brow_outer_r",
    "chin", "nose_tip", "nostril_l", "nostril_r", "cheek_l", "cheek_r",
)  # fmt: skip


def apply_blendshapes(neutral: torch.Tensor, deltas: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    """Vertices ``(..., V, 3)`` = neutral ``(V, 3)`` + sum_k weights ``(..., K)`` x deltas ``(K, V, 3)``."""
    k, v, _ = deltas.shape
    offsets = (weights.reshape(-1, k) @ deltas.reshape(k, v * 3)).reshape(*weights.shape[:-1], v, 3)
    return neutral + offsets


def points_from_barycentric(
    vertices: torch.Tensor, faces: torch.Tensor, face_idx: torch.Tensor, bary: torch.Tensor
) -> torch.Tensor:
    """Points ``(..., P, 3)`` at barycentric coords ``(P, 3)`` on triangles ``face_idx (P,)`` of ``vertices``."""
    tri = vertices[..., faces[face_idx], :]  # (..., P, 3 corners, 3)
    return (tri * bary[..., None]).sum(-2)


@dataclass
class RigOutput:
    """Result of a rig's forward pass: vertices ``(..., V, 3)`` and semantic points ``(..., P, 3)``."""

    vertices: torch.Tensor
    points: torch.Tensor


class BlendshapeRig(nn.Module):
    """A linear blendshape rig with named shapes and named semantic points.

    Parameters
    ----------
    neutral : array (V, 3)
    deltas : array (K, V, 3)
    shape_names : K names (ARKit names where the shape is an ARKit shape)
    faces : int array (F, 3)
    point_names, point_faces (P,), point_bary (P, 3) : semantic points on triangles
    uvs : optional array (V, 2)
    regions : sequence of :class:`~facecraft.rigs.surfaces.Region`, optional
        Surfaces of the mesh with their own colour (a GLB material each); triangles in no region are skin.
        Not buffers: fixed at construction, kept by :meth:`save` / :meth:`load`.
    name : a label for messages and exports
    """

    def __init__(
        self,
        neutral,
        deltas,
        shape_names: Sequence[str],
        faces,
        *,
        point_names: Sequence[str] = (),
        point_faces=None,
        point_bary=None,
        uvs=None,
        regions=(),
        name: str = "rig",
    ) -> None:
        super().__init__()
        neutral = torch.as_tensor(np.asarray(neutral), dtype=torch.float32)
        deltas = torch.as_tensor(np.asarray(deltas), dtype=torch.float32)
        faces = torch.as_tensor(np.asarray(faces), dtype=torch.long)
        if neutral.ndim != 2 or neutral.shape[1] != 3:
            raise ParameterError(f"{name}: neutral must be (V, 3), got {tuple(neutral.shape)}")
        v = neutral.shape[0]
        if deltas.ndim != 3 or deltas.shape[1:] != (v, 3):
            raise ParameterError(f"{name}: deltas must be (K, {v}, 3), got {tuple(deltas.shape)}")
        if len(shape_names) != deltas.shape[0]:
            raise ParameterError(f"{name}: {len(shape_names)} shape names for {deltas.shape[0]} deltas")
        if len(set(shape_names)) != len(shape_names):
            raise ParameterError(f"{name}: duplicate shape names")
        if faces.ndim != 2 or faces.shape[1] != 3 or (faces.numel() and (faces.min() < 0 or faces.max() >= v)):
            raise ParameterError(f"{name}: faces must be (F, 3) vertex indices below {v}")
        n_pts = len(point_names)
        point_faces = torch.as_tensor(np.zeros(0) if point_faces is None else np.asarray(point_faces), dtype=torch.long)
        point_bary = torch.as_tensor(
            np.zeros((0, 3)) if point_bary is None else np.asarray(point_bary), dtype=torch.float32
        )
        if point_faces.shape != (n_pts,) or point_bary.shape != (n_pts, 3):
            raise ParameterError(f"{name}: {n_pts} point names need point_faces ({n_pts},) and point_bary ({n_pts}, 3)")
        self.name = name
        self.shape_names: list[str] = list(shape_names)
        self.point_names: list[str] = list(point_names)
        self.register_buffer("neutral", neutral)
        self.register_buffer("deltas", deltas)
        self.register_buffer("faces", faces)
        self.register_buffer("point_faces", point_faces)
        self.register_buffer("point_bary", point_bary)
        self.register_buffer("uvs", None if uvs is None else torch.as_tensor(np.asarray(uvs), dtype=torch.float32))
        self.regions = check_regions(regions, int(faces.shape[0]), what=name)

    # ------------------------------------------------------------------ sizes and names
    @property
    def num_vertices(self) -> int:
        return int(self.neutral.shape[0])

    @property
    def num_shapes(self) -> int:
        return int(self.deltas.shape[0])

    def shape_index(self, name: str) -> int:
        """Index of a shape by its exact name or by an ARKit alias."""
        if name in self.shape_names:
            return self.shape_names.index(name)
        arkit = canonical_arkit_name(name, strict=False)
        if arkit is not None and arkit in self.shape_names:
            return self.shape_names.index(arkit)
        raise ParameterError(f"{self.name}: no shape named {name!r}; it has {', '.join(self.shape_names)}")

    def point_index(self, name: str) -> int:
        if name not in self.point_names:
            raise ParameterError(f"{self.name}: no semantic point {name!r}; it has {', '.join(self.point_names)}")
        return self.point_names.index(name)

    # ------------------------------------------------------------------ weights
    def weights_from_dict(self, values: Mapping[str, float]) -> torch.Tensor:
        """Weight vector ``(K,)`` from ``{shape name or ARKit alias: weight}``."""
        w = torch.zeros(self.num_shapes)
        for k, x in values.items():
            w[self.shape_index(k)] = float(x)
        return w

    def content_stamp(self) -> tuple:
        """What changes when the rig's mesh or shapes do (tensor versions and storage, shape names): caches and a
        record of the file a rig was loaded from compare it to know the rig is still the one they saw."""
        return (self.neutral._version, self.deltas._version, self.faces._version, self.neutral.data_ptr(),
                self.deltas.data_ptr(), tuple(self.shape_names))  # fmt: skip

    def arkit_matrix(self) -> torch.Tensor:
        """``(52, K)`` 0/1 matrix taking ARKit-ordered weights to this rig's shapes (missing shapes drop)."""
        m = torch.zeros(NUM_ARKIT, self.num_shapes)
        for j, n in enumerate(self.shape_names):
            arkit = canonical_arkit_name(n, strict=False)
            if arkit is not None:
                m[ARKIT_NAMES.index(arkit), j] = 1.0
        return m

    def from_arkit(self, curves) -> torch.Tensor:
        """This rig's weights ``(..., K)`` from ARKit-ordered curves ``(..., 52)``."""
        c = torch.as_tensor(np.asarray(curves) if not torch.is_tensor(curves) else curves, dtype=torch.float32)
        if c.shape[-1] != NUM_ARKIT:
            raise ParameterError(f"{self.name}: ARKit curves need last dim {NUM_ARKIT}, got {tuple(c.shape)}")
        return c @ self.arkit_matrix().to(c.device)

    # ------------------------------------------------------------------ geometry
    def forward(self, weights: torch.Tensor) -> RigOutput:
        """Deform the rig. ``weights`` ``(..., K)`` (e.g. ``(B, T, K)``) -> vertices ``(..., V, 3)``."""
        weights = torch.as_tensor(weights, dtype=self.deltas.dtype, device=self.deltas.device)
        if weights.shape[-1] != self.num_shapes:
            raise ParameterError(f"{self.name}: weights need last dim {self.num_shapes}, got {tuple(weights.shape)}")
        verts = apply_blendshapes(self.neutral, self.deltas, weights)
        return RigOutput(verts, self.points(verts))

    def points(self, vertices: torch.Tensor) -> torch.Tensor:
        """Semantic points ``(..., P, 3)`` of deformed vertices ``(..., V, 3)``."""
        return points_from_barycentric(vertices, self.faces, self.point_faces, self.point_bary)

    def neutral_points(self) -> torch.Tensor:
        return self.points(self.neutral)

    def face_size(self) -> tuple[float, float]:
        """Width (X extent) and height (Y extent) of the neutral mesh in metres."""
        ext = self.neutral.max(0).values - self.neutral.min(0).values
        return float(ext[0]), float(ext[1])

    # ------------------------------------------------------------------ save / load
    def save(self, path: str | Path) -> Path:
        """Write the rig as one safetensors file; names live in its metadata."""
        from .tensor_files import save_tensors

        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        tensors = {k: v.contiguous() for k, v in self.state_dict().items() if v is not None}
        meta = {"format": "facecraft-rig-1", "name": self.name, "shape_names": json.dumps(self.shape_names),
                "point_names": json.dumps(self.point_names)}  # fmt: skip
        if self.regions:  # a region index per triangle (-1: skin) and each region's name and colour
            ids = torch.full((int(self.faces.shape[0]),), -1, dtype=torch.long)
            for i, r in enumerate(self.regions):
                ids[torch.from_numpy(r.triangles)] = i
            tensors["region_ids"] = ids
            meta["regions"] = json.dumps([{"name": r.name, "color": list(r.color), "alpha": r.alpha,
                                           "double_sided": r.double_sided} for r in self.regions])  # fmt: skip
        save_tensors(tensors, path, metadata=meta)
        return path

    @classmethod
    def load(cls, path: str | Path) -> BlendshapeRig:
        """Read a rig written by :meth:`save`."""
        from safetensors import SafetensorError, safe_open

        path = Path(path)
        if not path.exists():
            raise MissingFileError(f"rig file not found: {path}")
        try:
            with safe_open(str(path), framework="pt") as f:
                meta = f.metadata() or {}
                t = {k: f.get_tensor(k) for k in f.keys()}
        except (SafetensorError, OSError, ValueError) as e:
            raise FileFormatError(f"{path}: not a readable safetensors rig ({e})") from e
        if meta.get("format") != "facecraft-rig-1":
            raise FileFormatError(f"{path}: not a facecraft rig (metadata format={meta.get('format')!r})")
        missing = {"neutral", "deltas", "faces"} - set(t)
        if missing:
            raise FileFormatError(f"{path}: missing tensors {sorted(missing)}")
        regions = []
        if "regions" in meta and "region_ids" in t:
            ids = t["region_ids"].numpy()
            for i, r in enumerate(json.loads(meta["regions"])):
                tri = np.nonzero(ids == i)[0]
                regions.append(Region(r["name"], tri, tuple(r["color"]), r.get("alpha", 1.0), r.get("double_sided")))
        return cls(
            t["neutral"], t["deltas"], json.loads(meta["shape_names"]), t["faces"],
            point_names=json.loads(meta.get("point_names", "[]")), point_faces=t.get("point_faces"),
            point_bary=t.get("point_bary"), uvs=t.get("uvs"), regions=regions, name=meta.get("name", path.stem),
        )  # fmt: skip

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(name={self.name!r}, vertices={self.num_vertices}, shapes={self.num_shapes}, "
            f"faces={int(self.faces.shape[0])}, points={len(self.point_names)})"
        )
