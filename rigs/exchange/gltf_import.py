"""Read a glTF/GLB character with morph targets into plain arrays, a ``BlendshapeRig``, or a weights animation.

Readers return plain data (dicts of arrays and names, trimesh-style); :func:`load_gltf_rig` and the
animation loader build the objects. Every mesh instanced by a node of the default scene is read in world
space (node transforms applied; deltas get the linear part); triangle primitives only. Target names come
from ``mesh.extras.targetNames`` (or the primitive's extras) and are mapped to Apple's ARKit names where
they match, including exporter prefixes such as ``blendShape1.eyeBlinkLeft`` and ``_L``/``_R`` suffixes;
other names are kept. Accessors may be strided, normalized integers or sparse.

Nodes that facecraft's writer marks as added parts (``extras.facecraft_part``: the default rig's eyes,
teeth, tongue) are not part of the rig and are skipped unless ``include_parts=True``; the animation reader
takes the face's weights channel, the face node's rotation (head) and the eye nodes' rotations from them.
"""

from __future__ import annotations

import base64
import binascii
import logging
import re
from pathlib import Path
from urllib.parse import unquote

import numpy as np
import pygltflib

from ..arkit import ARKIT_INDEX, NUM_ARKIT, canonical_arkit_name
from ..errors import FileFormatError, require_file

log = logging.getLogger(__name__)

_COMPONENTS = {
    pygltflib.BYTE: np.int8, pygltflib.UNSIGNED_BYTE: np.uint8, pygltflib.SHORT: np.int16,
    pygltflib.UNSIGNED_SHORT: np.uint16, pygltflib.UNSIGNED_INT: np.uint32, pygltflib.FLOAT: np.float32,
}  # fmt: skip
_WIDTH = {"SCALAR": 1, "VEC2": 2, "VEC3": 3, "VEC4": 4, "MAT2": 4, "MAT3": 9, "MAT4": 16}
# Prefixes exporters put before a shape name (Maya blendShape node, Blender/VRM/Character Creator habits).
_PREFIX = re.compile(r"^(?:.*[.|:])?(?:blend_?shapes?\d*[._]|bs_|arkit_|shapes?_)?", re.IGNORECASE)


def arkit_target_name(name: str) -> str | None:
    """Apple's ARKit name for a morph target name, or ``None`` when it is no ARKit shape.

    ``'eyeBlink_L'``, ``'EyeBlinkLeft'``, ``'blendShape1.eyeBlinkLeft'``, ``'BS_eyeBlinkLeft'`` and
    ``'Face|eyeBlinkLeft'`` all give ``'eyeBlinkLeft'``.
    """
    found = canonical_arkit_name(name, strict=False)
    if found is None:
        stripped = _PREFIX.sub("", name.strip())
        if stripped and stripped != name and len(stripped) > 2:
            found = canonical_arkit_name(stripped, strict=False)
    return found


def _load(path: Path) -> pygltflib.GLTF2:
    with path.open("rb") as f:
        head = f.read(12)
    if head[:4] == b"glTF":
        version, length = np.frombuffer(head[4:12].ljust(8, b"\x00"), "<u4")
        if version != 2 or length != path.stat().st_size:
            raise FileFormatError(
                f"{path}: GLB header says version {version} and {length} bytes; expected version 2 and "
                f"{path.stat().st_size} bytes (the file size)"
            )
    try:
        g = pygltflib.GLTF2().load(str(path))
    except Exception as e:  # pygltflib raises many kinds on a broken file
        raise FileFormatError(f"{path}: not a readable glTF/GLB file ({type(e).__name__}: {e})") from e
    if g is None:
        raise FileFormatError(f"{path}: not a readable glTF/GLB file")
    return g


def _buffer_bytes(g: pygltflib.GLTF2, path: Path, index: int, cache: dict) -> bytes:
    if index in cache:
        return cache[index]
    buf = g.buffers[index]
    if buf.uri is None:
        data = g.binary_blob()
        if data is None:
            raise FileFormatError(f"{path}: buffer {index} has no uri and the file has no binary chunk")
    elif buf.uri.startswith("data:"):
        head, _, payload = buf.uri.partition(",")
        if not head.endswith(";base64"):
            raise FileFormatError(f"{path}: buffer {index} data URI is not base64 ({head[:40]!r})")
        try:
            data = base64.b64decode(payload, validate=True)
        except (binascii.Error, ValueError) as e:
            raise FileFormatError(f"{path}: buffer {index} data URI is not valid base64 ({e})") from e
    else:
        local = path.parent / unquote(buf.uri)
        if not local.is_file():
            raise FileFormatError(f"{path}: buffer {index} refers to {buf.uri!r}, which was not found at {local}")
        data = local.read_bytes()
    cache[index] = data
    return data


def _view_array(g, path, cache, view_index: int, offset: int, count: int, dtype, width: int) -> np.ndarray:
    bv = g.bufferViews[view_index]
    data = _buffer_bytes(g, path, bv.buffer, cache)
    itemsize = np.dtype(dtype).itemsize * width
    stride = bv.byteStride or itemsize
    start = (bv.byteOffset or 0) + offset
    need = stride * (count - 1) + itemsize if count else 0
    if start + need > len(data):
        raise FileFormatError(f"{path}: buffer view {view_index} reads past the end of buffer {bv.buffer}")
    raw = np.frombuffer(data, dtype=np.uint8, count=need, offset=start) if count else np.zeros(0, np.uint8)
    if stride == itemsize:
        return raw.view(dtype).reshape(count, width).copy()
    rows = np.lib.stride_tricks.as_strided(raw, shape=(count, itemsize), strides=(stride, 1))
    return rows.copy().view(dtype).reshape(count, width)


def read_accessor(g: pygltflib.GLTF2, index: int, *, path: Path, cache: dict | None = None) -> np.ndarray:
    """Values ``(count, width)`` of accessor ``index``: float32, or integers for non-normalized indices.

    Handles byte strides, normalized integer components (mapped to [0, 1] / [-1, 1] as glTF defines) and
    sparse substitution.
    """
    cache = {} if cache is None else cache
    acc = g.accessors[index]
    if acc.componentType not in _COMPONENTS or acc.type not in _WIDTH:
        raise FileFormatError(f"{path}: accessor {index} has unsupported type {acc.type}/{acc.componentType}")
    dtype, width = _COMPONENTS[acc.componentType], _WIDTH[acc.type]
    if acc.bufferView is None:
        out = np.zeros((acc.count, width), dtype)
    else:
        out = _view_array(g, path, cache, acc.bufferView, acc.byteOffset or 0, acc.count, dtype, width)
    sp = acc.sparse
    if sp is not None and sp.count:
        idx_dtype = _COMPONENTS[sp.indices.componentType]
        where = _view_array(g, path, cache, sp.indices.bufferView, sp.indices.byteOffset or 0, sp.count, idx_dtype, 1)
        vals = _view_array(g, path, cache, sp.values.bufferView, sp.values.byteOffset or 0, sp.count, dtype, width)
        out = out.copy()
        out[where[:, 0].astype(np.int64)] = vals
    if acc.normalized and dtype != np.float32:
        info = np.iinfo(dtype)
        scaled = out.astype(np.float32) / info.max
        return np.maximum(scaled, -1.0) if info.min < 0 else scaled
    return out.astype(np.float32) if dtype == np.float32 or acc.normalized else out


def _node_matrix(node) -> np.ndarray:
    if node.matrix is not None:
        return np.asarray(node.matrix, np.float64).reshape(4, 4).T  # column-major in the file
    from scipy.spatial.transform import Rotation

    m = np.eye(4)
    t = node.translation or [0, 0, 0]
    r = node.rotation or [0, 0, 0, 1]
    s = node.scale or [1, 1, 1]
    m[:3, :3] = Rotation.from_quat(r).as_matrix() * np.asarray(s)[None]
    m[:3, 3] = t
    return m


def _is_part(node) -> bool:
    from .glb import PART_KEY

    return isinstance(node.extras, dict) and PART_KEY in node.extras


def _mesh_instances(g: pygltflib.GLTF2, *, include_parts: bool = True) -> list[tuple[int, np.ndarray]]:
    """``(mesh index, world matrix)`` for every node of the default scene that holds a mesh, by mesh then node
    (nodes marked as facecraft parts only with ``include_parts``)."""
    if g.scenes:
        roots = g.scenes[g.scene or 0].nodes or []
    else:
        children = {c for n in g.nodes for c in (n.children or [])}
        roots = [i for i in range(len(g.nodes)) if i not in children]
    out, stack = [], [(i, np.eye(4)) for i in roots]
    while stack:
        i, parent = stack.pop()
        node = g.nodes[i]
        world = parent @ _node_matrix(node)
        if node.mesh is not None and (include_parts or not _is_part(node)):
            out.append((node.mesh, i, world))
        stack.extend((c, world) for c in (node.children or []))
    if not out and g.meshes:  # meshes not placed in any scene: read them untransformed
        out = [(i, -1, np.eye(4)) for i in range(len(g.meshes))]
    return [(m, world) for m, _, world in sorted(out, key=lambda x: (x[0], x[1]))]


def _target_names(mesh, prim, k: int) -> list[str]:
    for extras in (mesh.extras, prim.extras):
        names = (extras or {}).get("targetNames") if isinstance(extras, dict) else None
        if names and len(names) == k:
            return [str(n) for n in names]
    return [f"target_{j}" for j in range(k)]


def read_gltf(path: str | Path, *, include_parts: bool = False) -> dict:
    """Plain data of a glTF/GLB character: one merged triangle mesh and its morph targets.

    ``include_parts``: also merge the nodes facecraft's writer adds (eyes, teeth, tongue; see the module
    docstring); by default the rig is the face alone, as it was written.

    Returns
    -------
    dict
        ``neutral`` (V, 3) float32, ``deltas`` (K, V, 3) float32, ``faces`` (F, 3) int64, ``uvs`` (V, 2)
        or None, ``shape_names`` (K, ARKit names where matched), ``source_names`` (K, as in the file),
        ``name`` (str). Targets of the same name in several meshes become one shape.

    Raises
    ------
    MissingFileError, FileFormatError
        A missing file, an unreadable one, or one without triangle meshes.
    """
    path = require_file(path, "glTF file")
    g = _load(path)
    cache: dict = {}
    verts, faces, uvs, parts = [], [], [], []  # parts: (vertex offset, count, {name: delta})
    face_materials: list[np.ndarray] = []  # each triangle's material index (-1: none)
    offset = 0
    points: list[tuple[str, list[int], list[float]]] = []  # the rig's semantic points as facecraft writes them
    instances = _mesh_instances(g, include_parts=include_parts)
    for mesh_index, world in instances:
        mesh = g.meshes[mesh_index]
        points += _mesh_points(mesh, offset)
        shared: dict[int, int] = {}  # POSITION accessor -> vertex offset: primitives (materials) sharing vertices
        for p_index, prim in enumerate(mesh.primitives):
            mode = pygltflib.TRIANGLES if prim.mode is None else prim.mode
            if mode != pygltflib.TRIANGLES or prim.attributes.POSITION is None:
                log.warning("%s: mesh %d primitive %d is not a triangle list (mode %s); skipped",
                            path, mesh_index, p_index, mode)  # fmt: skip
                continue
            pos = read_accessor(g, prim.attributes.POSITION, path=path, cache=cache)[:, :3].astype(np.float64)
            n = pos.shape[0]
            if prim.indices is None:
                tri = np.arange(n, dtype=np.int64)
            else:
                tri = read_accessor(g, prim.indices, path=path, cache=cache).reshape(-1).astype(np.int64)
            if tri.size % 3 or (tri.size and tri.max() >= n):
                raise FileFormatError(f"{path}: mesh {mesh_index} primitive {p_index} has invalid triangle indices")
            face_materials.append(np.full(tri.size // 3, -1 if prim.material is None else prim.material, np.int64))
            if prim.attributes.POSITION in shared:  # same vertices (and targets) as an earlier primitive
                faces.append(tri.reshape(-1, 3) + shared[prim.attributes.POSITION])
                continue
            shared[prim.attributes.POSITION] = offset
            verts.append(pos @ world[:3, :3].T + world[:3, 3])
            faces.append(tri.reshape(-1, 3) + offset)
            uv = prim.attributes.TEXCOORD_0
            uvs.append(None if uv is None else read_accessor(g, uv, path=path, cache=cache)[:, :2])
            targets = prim.targets or []
            names = _target_names(mesh, prim, len(targets))
            shapes = {}
            for name, t in zip(names, targets, strict=True):
                acc = t.get("POSITION") if isinstance(t, dict) else getattr(t, "POSITION", None)
                if acc is None:
                    continue
                d = read_accessor(g, acc, path=path, cache=cache)[:, :3].astype(np.float64)
                if d.shape[0] != n:
                    raise FileFormatError(f"{path}: morph target {name!r} has {d.shape[0]} deltas for {n} vertices")
                shapes[name] = d @ world[:3, :3].T
            parts.append((offset, n, shapes))
            offset += n
    if not verts:
        raise FileFormatError(f"{path}: holds no triangle mesh")
    source_names: list[str] = []
    for _, _, shapes in parts:
        source_names.extend(s for s in shapes if s not in source_names)
    deltas = np.zeros((len(source_names), offset, 3), np.float32)
    for start, n, shapes in parts:
        for name, d in shapes.items():
            deltas[source_names.index(name), start : start + n] = d
    shape_names: list[str] = []
    for s in source_names:
        arkit = arkit_target_name(s)
        if arkit is not None and arkit in shape_names:
            log.warning("%s: targets %r and another both map to ARKit %r; keeping %r's own name", path, s, arkit, s)
            arkit = None
        shape_names.append(arkit or s)
    all_uv = None if any(u is None for u in uvs) else np.concatenate(uvs).astype(np.float32)
    name = (g.meshes[instances[0][0]].name if g.meshes else None) or path.stem
    return {
        "neutral": np.concatenate(verts).astype(np.float32), "deltas": deltas, "faces": np.concatenate(faces),
        "uvs": all_uv, "shape_names": shape_names, "source_names": source_names, "name": name,
        "face_materials": np.concatenate(face_materials), "materials": [_material_info(m) for m in g.materials or []],
        "generator": (g.asset.generator if g.asset else None) or "", "points": points,
    }  # fmt: skip


def _mesh_points(mesh, offset: int) -> list[tuple[str, list[int], list[float]]]:
    """The semantic points facecraft's writer keeps in ``mesh.extras`` (:func:`~.glb.points_extras`): name, three
    vertex ids (past ``offset``, where the mesh's vertices start) and weights; none where the extras do not hold
    a well-formed list (another tool's file, or one edited by hand)."""
    from .glb import POINTS_KEY

    held = mesh.extras.get(POINTS_KEY) if isinstance(mesh.extras, dict) else None
    try:
        names, ids, weights = held["names"], held["vertices"], held["weights"]
        if not (len(ids) == len(weights) == 3 * len(names)):
            return []
        return [(str(n), [int(v) + offset for v in ids[3 * i : 3 * i + 3]],
                 [float(w) for w in weights[3 * i : 3 * i + 3]]) for i, n in enumerate(names)]  # fmt: skip
    except (TypeError, KeyError, ValueError):
        return []


def gltf_points(d: dict) -> dict:
    """:func:`read_gltf`'s points as :class:`~facecraft.rigs.BlendshapeRig` keyword arguments (``point_names``,
    ``point_faces``, ``point_bary``) on its triangles; a point whose triangle the file no longer has is left out."""
    faces = np.asarray(d["faces"], np.int64)
    at = {tuple(sorted(t)): i for i, t in enumerate(faces.tolist())}
    names, tris, bary = [], [], []
    for name, ids, weights in d.get("points") or []:
        tri = at.get(tuple(sorted(ids)))
        if tri is None:
            log.warning("%s: point %r lies on a triangle the file does not have; left out", d["name"], name)
            continue
        by_vertex = dict(zip(ids, weights, strict=True))
        names.append(name)
        tris.append(tri)
        bary.append([by_vertex[v] for v in faces[tri].tolist()])
    if not names:
        return {}
    return {"point_names": names, "point_faces": np.array(tris, np.int64), "point_bary": np.array(bary, np.float32)}


def _material_info(material) -> dict:
    """A material's name, sRGB base colour, alpha (1 unless ``alphaMode`` is BLEND), sides and whether a texture
    colours it."""
    from ..surfaces import srgb_from_linear

    pbr = material.pbrMetallicRoughness
    factor = list(pbr.baseColorFactor) if pbr is not None and pbr.baseColorFactor else [1.0, 1.0, 1.0, 1.0]
    return {
        "name": material.name or "",
        "color": tuple(srgb_from_linear(factor[:3])),
        "alpha": float(factor[3]) if material.alphaMode == pygltflib.BLEND else 1.0,
        "double_sided": bool(material.doubleSided),
        "textured": pbr is not None and pbr.baseColorTexture is not None,
    }


def gltf_regions(d: dict) -> list:
    """The surfaces (:class:`~facecraft.rigs.surfaces.Region`) of :func:`read_gltf`'s data written by facecraft
    (``asset.generator``): one per named, untextured material, so a rig read back from facecraft's GLB of ICT
    FaceKit keeps its eyes, teeth and lashes in the renderer. ``[]`` for other files (a character's own materials,
    often textured, are not facecraft's surfaces)."""
    from ..surfaces import Region
    from .glb import GENERATOR

    if d.get("generator") != GENERATOR or not d.get("materials"):
        return []
    ids, materials = d["face_materials"], d["materials"]
    regions, seen = [], set()
    for m in materials:
        if not m["name"] or m["textured"] or m["name"] in seen:
            continue
        same = [j for j, o in enumerate(materials) if o["name"] == m["name"]]
        tri = np.nonzero(np.isin(ids, same))[0]
        if tri.size:
            seen.add(m["name"])
            regions.append(Region(m["name"], tri, m["color"], m["alpha"], m["double_sided"]))
    return regions


def load_gltf_rig(path: str | Path):
    """A :class:`~facecraft.rigs.BlendshapeRig` from a glTF/GLB file (see :func:`read_gltf`) with its semantic points:
    those facecraft wrote (:func:`gltf_points`), or for the default rig's topology its own
    (:func:`~facecraft.rigs.default_rig.canonical_topology`)."""
    from ..blendshape_rig import BlendshapeRig
    from ..default_rig import canonical_topology
    from .gltf_animate import remember_source

    d = read_gltf(path)
    topology = canonical_topology(len(d["neutral"]), d["faces"]) or {
        "faces": d["faces"], "regions": gltf_regions(d), **gltf_points(d)
    }  # fmt: skip
    rig = BlendshapeRig(d["neutral"], d["deltas"], d["shape_names"], uvs=d["uvs"], name=d["name"], **topology)
    return remember_source(rig, path)  # written back as the whole character (gltf_animate), not this mesh alone


_COMMON_RATES = (23.976, 24.0, 25.0, 29.97, 30.0, 48.0, 50.0, 59.94, 60.0, 90.0, 100.0, 120.0)


def _keyframe_rate(times: np.ndarray) -> float:
    """Keys per second: the mean step when keys are evenly spaced (median otherwise), snapped to a common
    video rate within 0.1% (float32 key times carry that much rounding); 30 for a single key."""
    steps = np.diff(times)
    if steps.size == 0 or np.median(steps) <= 0:
        return 30.0
    even = np.max(steps) <= 1.01 * np.min(steps)
    est = float(steps.size / (times[-1] - times[0])) if even else float(1.0 / np.median(steps))
    near = min(_COMMON_RATES, key=lambda r: abs(r - est))
    return near if abs(near - est) < 1e-3 * est else est


def read_gltf_animation(path: str | Path, *, fps: float | None = None, animation: int = 0) -> dict:
    """ARKit curves from the face's morph-weights channel of a glTF/GLB animation, as FaceAnimation kwargs.

    The face's channel is the first weights channel on a node that is not a facecraft part. Keyframes are
    resampled (linearly) onto a uniform grid at ``fps`` (default: the ``fps`` facecraft writes into
    ``asset.extras``, else from the keyframe steps). Targets that are not ARKit shapes are dropped; ARKit
    shapes the mesh lacks stay at 0. A rotation channel on the face's node (or the nearest node above it that has
    one) gives ``head_rotation``, rotation channels on facecraft's ``eye_left`` / ``eye_right`` nodes give
    ``eye_rotation`` (degrees, yaw about +Y, then pitch, then roll, as the writer composes them).

    Returns
    -------
    dict
        ``curves`` (T, 52) float32 in [0, 1], ``fps``, ``head_rotation`` (T, 3) / ``eye_rotation`` (T, 6) or
        None, ``mouth_cues`` / ``visemes`` and ``meta`` from the animation's ``extras`` where facecraft wrote them
        (:func:`~facecraft.rigs.exchange.gltf_animate.animation_extras`), ``meta`` with the animation's name and
        the dropped targets added.
    """
    from .glb import PART_KEY

    path = require_file(path, "glTF file")
    g = _load(path)
    if not g.animations or animation >= len(g.animations):
        count = len(g.animations or [])
        have = "no animation" if not count else f"{count} animation(s), 0..{count - 1}"
        raise FileFormatError(f"{path}: has no animation {animation} (it has {have})")
    anim = g.animations[animation]
    weight_channels = [c for c in anim.channels if c.target and c.target.path == "weights"]
    channel = next((c for c in weight_channels if not _is_part(g.nodes[c.target.node])), None)
    if channel is None:
        raise FileFormatError(f"{path}: animation {animation} animates no morph target weights")
    face_node = channel.target.node
    node = g.nodes[face_node]
    if node.mesh is None:
        raise FileFormatError(f"{path}: the weights channel targets node {face_node}, which has no mesh")
    mesh = g.meshes[node.mesh]
    k = len(mesh.primitives[0].targets or [])
    names = _target_names(mesh, mesh.primitives[0], k)
    sampler = anim.samplers[channel.sampler]
    times = read_accessor(g, sampler.input, path=path).reshape(-1).astype(np.float64)
    values = read_accessor(g, sampler.output, path=path).reshape(-1)
    per_key = 3 if sampler.interpolation == "CUBICSPLINE" else 1
    if k == 0 or values.size != times.size * k * per_key:
        raise FileFormatError(f"{path}: weights output has {values.size} values for {times.size} keys x {k} targets")
    w = values.reshape(times.size, per_key, k)[:, per_key // 2]  # cubic spline: keep the value, not tangents
    if fps is None:
        written = (g.asset.extras or {}).get("fps") if isinstance(g.asset.extras, dict) else None
        fps = float(written) if isinstance(written, int | float) and written > 0 else _keyframe_rate(times)
    n = max(1, int(round((times[-1] - times[0]) * fps)) + 1) if times.size else 1
    grid = times[0] + np.arange(n) / fps if times.size else np.zeros(1)
    curves = np.zeros((n, NUM_ARKIT), np.float32)
    dropped = []
    for j, name in enumerate(names):
        arkit = arkit_target_name(name)
        if arkit is None:
            dropped.append(name)
            continue
        curves[:, ARKIT_INDEX[arkit]] = _sample(times, w[:, j], grid, sampler.interpolation)
    if dropped:
        log.info("%s: %d non-ARKit targets not read into curves: %s", path, len(dropped), ", ".join(dropped[:10]))

    def rotation_of(node_index: int) -> np.ndarray | None:
        c = next((c for c in anim.channels if c.target and c.target.node == node_index
                  and c.target.path == "rotation"), None)  # fmt: skip
        return None if c is None else _euler_track(g, anim.samplers[c.sampler], grid, path)

    # the head turns the face's node or a node above it (facecraft's own files: the node holding face and parts)
    parents = {child: i for i, n in enumerate(g.nodes) for child in n.children or []}
    head, at = rotation_of(face_node), face_node
    while head is None and at in parents:
        at = parents[at]
        head = rotation_of(at)
    eye_nodes = {n.extras[PART_KEY]: i for i, n in enumerate(g.nodes) if _is_part(n)}
    left, right = (rotation_of(eye_nodes[e]) if e in eye_nodes else None for e in ("eye_left", "eye_right"))
    eyes = None
    if left is not None or right is not None:
        zero = np.zeros((n, 3), np.float32)
        eyes = np.concatenate([zero if left is None else left, zero if right is None else right], axis=1)
    extras = anim.extras if isinstance(anim.extras, dict) else {}
    written = extras.get("meta") if isinstance(extras.get("meta"), dict) else {}
    meta = {"source": str(path), **written, "format": "gltf", "animation": anim.name, "dropped_targets": dropped}
    return {"curves": np.clip(curves, 0.0, 1.0), "fps": float(fps), "head_rotation": head, "eye_rotation": eyes,
            "mouth_cues": extras.get("mouthCues"), "visemes": extras.get("visemes"), "meta": meta}  # fmt: skip


def _sample(times: np.ndarray, values: np.ndarray, grid: np.ndarray, interpolation: str | None) -> np.ndarray:
    """``values`` (K, ...) keyed at ``times`` read at ``grid``: the keys themselves when they are the grid."""
    if times.size == grid.size and np.max(np.abs(grid - times), initial=0.0) < 1e-4:
        return values
    if interpolation == "STEP":
        return values[np.clip(np.searchsorted(times, grid, side="right") - 1, 0, times.size - 1)]
    if values.ndim == 1:
        return np.interp(grid, times, values)
    return np.stack([np.interp(grid, times, values[:, j]) for j in range(values.shape[1])], axis=1)


def _euler_track(g: pygltflib.GLTF2, sampler, grid: np.ndarray, path: Path) -> np.ndarray:
    """Yaw, pitch, roll degrees ``(T, 3)`` (intrinsic Y-X-Z, the writer's order) of a rotation sampler on ``grid``."""
    from scipy.spatial.transform import Rotation, Slerp

    times = read_accessor(g, sampler.input, path=path).reshape(-1).astype(np.float64)
    q = read_accessor(g, sampler.output, path=path).astype(np.float64)
    if sampler.interpolation == "CUBICSPLINE":
        q = q.reshape(times.size, 3, 4)[:, 1]
    if q.shape != (times.size, 4):
        raise FileFormatError(f"{path}: rotation output has {q.shape} values for {times.size} keys")
    rot = Rotation.from_quat(q)
    if times.size > 1 and sampler.interpolation != "STEP":
        rot = Slerp(times, rot)(np.clip(grid, times[0], times[-1]))
    else:
        rot = rot[np.clip(np.searchsorted(times, grid, side="right") - 1, 0, times.size - 1)]
    return rot.as_euler("YXZ", degrees=True).astype(np.float32)


_loaders = {"glb": read_gltf_animation, "gltf": read_gltf_animation}
