"""GLB (binary glTF 2.0) writer: a rig's mesh with its shapes as named morph targets, plus a weights animation.

The file holds one node with one mesh: the neutral vertices (POSITION, NORMAL, TEXCOORD_0 when the rig has
UVs), uint16/uint32 indices, and every rig shape as a morph target (POSITION deltas, and NORMAL deltas unless
``normals=False``). Rigs on the MediaPipe topology (the default rig) get five triangle primitives sharing
those attributes and targets, each with its own material: skin, lips (:func:`facecraft.rigs.default_rig.
lip_faces`), brows (:func:`~facecraft.rigs.default_rig.brow_faces`), mouth interior and eyes
(:mod:`facecraft.rigs.surfaces`); a rig that names its surfaces
(``rig.regions``: ICT FaceKit's skin, eyes, teeth, gums and lashes) one primitive and material per surface, its
transparent eye overlays alpha-blended; any other rig one primitive without a material. Target names go to
``mesh.extras.targetNames``, which Blender, three.js and Babylon read, spelled with Apple's ARKit names where a
shape is an ARKit shape. An animation, when given, drives the node's ``weights`` with a LINEAR sampler whose
input is time in seconds; head rotations, when present, drive the node's rotation. Every buffer view is 4-byte
aligned, used by one accessor only (so no ``byteStride``), and POSITION accessors carry exact float32 min/max,
as the glTF 2.0 spec asks, so the Khronos validator reports no errors.

The default rig also gets its eyes, teeth, tongue and mouth cavity (:mod:`facecraft.rigs.face_parts`, on by
default, ``parts=False`` leaves them out): one node per part, marked with ``extras.facecraft_part``, each with its
own materials. Then the face mesh keeps only its skin, lips and brows (the flat triangles over the openings would
hide the parts), on a node ``<name>_mesh`` beside the parts, and the head is the node above them all (``<name>``,
no mesh), which the head rotation turns. A weights channel never drives a node with children: three.js's
GLTFLoader before mrdoob/three.js#33020 bound a node's weights track to every mesh with morph targets below it, so
the lower teeth, tongue and cavity, under the face's node, took the face's 52 weights too (the mixer averaged the
tracks: they opened half as far as the jaw and moved with eyeBlink and eyeLook*). Parts with morph targets (lower
teeth, tongue, cavity: the jaw's shapes and ``tongueOut``, with NORMAL deltas like the face's) hold their mesh in a
child node ``<part>_mesh`` and get its own weights channel, the eyeballs a rotation channel from
``anim.eye_rotation`` (or from the ``eyeLook*`` curves when it is absent). The face's weights channel is always the
animation's first channel.

The frame rate is written to ``asset.extras`` and ``scenes[0].extras`` (``fps``, ``frames``): glTF keys are
in seconds and has no frame rate, and Blender imports keys at its scene's rate, so set the scene to this
rate before importing (README). The animation's ``extras`` carry its mouth cues, visemes and meta as the JSON
file does (``mouthCues``, ``visemes``, ``meta``), and are read back with the curves.
"""

from __future__ import annotations

import json
import logging
import re
import struct
import weakref
from dataclasses import dataclass, fields, replace
from pathlib import Path

import numpy as np
import pygltflib

from ..arkit import ARKIT_INDEX, canonical_arkit_name
from ..errors import FacecraftError, ParameterError
from ..geometry import vertex_normals
from ..surfaces import OPENING_NAMES, SKIN_COLOR, face_regions, linear_rgb
from .gltf_animate import (
    animate_gltf,
    animation_extras,
    check_arkit_coverage,
    gltf_source,
    yaw_pitch_roll_quaternions,
)

log = logging.getLogger(__name__)

GENERATOR = "facecraft glb exporter"
POINTS_KEY = "facecraft_points"  # mesh extras key of the rig's semantic points (points_extras)
PART_KEY = "facecraft_part"  # node extras key marking an added part (read_gltf leaves these out of the rig)
_FLOAT, _UINT16, _UINT32 = pygltflib.FLOAT, pygltflib.UNSIGNED_SHORT, pygltflib.UNSIGNED_INT


# Per-rig results that do not depend on the animation (the static document): a batch writes many files on one
# rig. Keyed weakly by the rig, and dropped when its tensors change in place (torch's version counters).
_RIG_CACHE: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _rig_cached(rig, what, make):
    stamp = rig.content_stamp()
    try:
        entry = _RIG_CACHE.setdefault(rig, {})
    except TypeError:  # not weakly referenceable: no caching
        return make()
    if entry.get("stamp") != stamp:
        entry.clear()
        entry["stamp"] = stamp
    if what not in entry:
        entry[what] = make()
    return entry[what]


def _wound_inward(vertices: np.ndarray, faces: np.ndarray) -> bool:
    """Whether triangle normals point toward the vertex centroid overall (glTF wants counter-clockwise fronts)."""
    v = vertices.astype(np.float64)
    tri = v[faces]
    fn = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
    return float((fn * (tri.mean(1) - v.mean(0))).sum()) < 0


def client_name(name: str) -> str:
    """A node or mesh name as engines keep it: three.js drops ``[ ] . : /`` from node names (the ICT rig's
    ``ict:FaceXModel`` became ``ictFaceXModel``, so looking it up by name found nothing) and pipelines read ``:`` as a
    namespace; each becomes ``_``."""
    return re.sub(r"[\[\].:/]", "_", name)


def points_extras(rig) -> dict:
    """The rig's semantic points (lip and lid points the lip-sync checks measure) as ``mesh.extras``: each by the
    three vertices of its triangle and its weights on them, flat lists (a triangle's place in the file changes as
    its surfaces are grouped into primitives; its vertices do not). Empty for a rig without points."""
    names = list(getattr(rig, "point_names", []) or [])
    if not names:
        return {}
    tri = rig.faces.detach().cpu().numpy()[rig.point_faces.detach().cpu().numpy()]
    bary = rig.point_bary.detach().cpu().numpy()
    return {POINTS_KEY: {"names": names, "vertices": [int(v) for v in tri.reshape(-1)],
                         "weights": [round(float(w), 6) for w in bary.reshape(-1)]}}  # fmt: skip


def glb_target_names(shape_names: list[str]) -> list[str]:
    """Target names for the file: Apple's ARKit spelling where a shape is an ARKit shape, else its own name."""
    out = []
    for n in shape_names:
        arkit = canonical_arkit_name(n, strict=False)
        out.append(arkit if arkit is not None and arkit not in out else n)
    return out


class _Builder:
    """Collects accessors and 4-byte-aligned buffer views over one binary blob.

    ``after`` continues a finished static document (:class:`_Static`): new views and accessors are numbered after
    its own and their bytes follow its blob, so an animation is added without rebuilding the mesh."""

    def __init__(self, after: _Static | None = None) -> None:
        self.gltf = pygltflib.GLTF2(asset=pygltflib.Asset(version="2.0", generator=GENERATOR))
        self.chunks: list[bytes] = []
        self.offset = 0 if after is None else len(after.blob)
        self.first_view = 0 if after is None else len(after.doc.get("bufferViews", ()))
        self.first_accessor = 0 if after is None else len(after.doc.get("accessors", ()))

    def view(self, data: bytes, *, target: int | None) -> int:
        pad = (-self.offset) % 4
        if pad:
            self.chunks.append(b"\x00" * pad)
            self.offset += pad
        bv = pygltflib.BufferView(buffer=0, byteOffset=self.offset, byteLength=len(data), target=target)
        self.gltf.bufferViews.append(bv)
        self.chunks.append(data)
        self.offset += len(data)
        return self.first_view + len(self.gltf.bufferViews) - 1

    def accessor(
        self, array: np.ndarray, *, kind: str, target: int | None, with_bounds: bool = False, component=_FLOAT
    ) -> int:
        dtype = {_FLOAT: np.float32, _UINT16: np.uint16, _UINT32: np.uint32}[component]
        arr = np.ascontiguousarray(array, dtype=dtype)
        width = {"SCALAR": 1, "VEC2": 2, "VEC3": 3, "VEC4": 4}[kind]
        flat = arr.reshape(-1, width)
        acc = pygltflib.Accessor(
            bufferView=self.view(flat.tobytes(), target=target), componentType=component, count=int(flat.shape[0]),
            type=kind,
        )  # fmt: skip
        if with_bounds and flat.shape[0]:
            cast = float if component == _FLOAT else int
            acc.min = [cast(x) for x in flat.min(axis=0)]
            acc.max = [cast(x) for x in flat.max(axis=0)]
        self.gltf.accessors.append(acc)
        return self.first_accessor + len(self.gltf.accessors) - 1

    def blob(self) -> bytes:
        return b"".join(self.chunks)


def _json(obj) -> dict:
    """The glTF JSON of one pygltflib object, exactly as pygltflib writes it (its dict form, empty keys dropped)."""
    return pygltflib.delete_empty_keys(pygltflib.gltf_asdict(obj))


#: Top-level glTF keys in pygltflib's order, so a document assembled here serialises as pygltflib's would.
_TOP_KEYS = tuple(f.name for f in fields(pygltflib.GLTF2))


@dataclass(frozen=True)
class _Static:
    """Everything of a file that does not depend on the animation: the JSON document (no animations, buffers),
    its binary blob, the face's shape count and the part nodes. Built once per rig and options: a batch writes
    many files on one rig, and the mesh, its target normals and its JSON are most of a file's cost."""

    doc: dict
    blob: bytes
    shapes: int
    part_nodes: tuple
    face_node: int  # the node holding the face's mesh (its weights channel's target)
    asset: pygltflib.Asset  # the objects an animation's timing goes into (``extras``)
    scene: pygltflib.Scene
    text: dict  # each top-level key's JSON text; lists without their brackets (an animation appends items)

    @classmethod
    def of(cls, g: pygltflib.GLTF2, blob: bytes, *, shapes: int, part_nodes: tuple, face_node: int) -> _Static:
        doc = _json(g)
        text = {key: _encode(value)[1:-1] if isinstance(value, list) else _encode(value) for key, value in doc.items()}
        return cls(doc, blob, shapes, part_nodes, face_node, g.asset, g.scenes[0], text)


def _encode(value) -> str:
    """JSON text as pygltflib writes a GLB's JSON chunk (compact, no NaN, keys that JSON can hold)."""
    return json.dumps(value, default=pygltflib.json_serial, allow_nan=False, skipkeys=True, separators=(",", ":"))


def _document_text(static: _Static, own: dict, appended: dict) -> str:
    """The file's JSON: the static document's keys from their cached text, ``own`` keys encoded here, and the
    ``appended`` items after the static items of the same list; keys in pygltflib's order."""
    members = []
    for key in _TOP_KEYS:
        if key in own:
            text = _encode(own[key])
        elif key in static.text:
            text = static.text[key]
            if key in appended:
                text = f"[{','.join(filter(None, [text, _encode(appended[key])[1:-1]]))}]"
            elif isinstance(static.doc[key], list):
                text = f"[{text}]"
        else:
            continue
        members.append(f"{_encode(key)}:{text}")
    return "{" + ",".join(members) + "}"


def _static_document(rig, *, normals: bool, parts: bool, name: str | None) -> _Static:
    neutral = rig.neutral.detach().cpu().numpy().astype(np.float32)
    deltas = rig.deltas.detach().cpu().numpy().astype(np.float32)
    faces = rig.faces.detach().cpu().numpy().astype(np.int64)
    if faces.shape[0] == 0:
        raise ParameterError(f"rig {rig.name!r}: has no triangles; a GLB mesh needs at least one")
    k, v = deltas.shape[0], neutral.shape[0]
    if _wound_inward(neutral, faces):
        log.warning("rig %r: triangles face inward (clockwise seen from outside); viewers will cull them", rig.name)
    b = _Builder()
    g = b.gltf

    from ..face_parts import face_parts

    extra = face_parts(rig) if parts else []
    groups = _surfaces(faces, openings=not extra, regions=getattr(rig, "regions", ()))
    # normals of the surface written: the openings' triangles left out (the parts fill them) must not bend the
    # lips' and lids' rims toward the mouth's and eyes' middle (up to 147 degrees on the default rig's inner lips)
    shown = np.concatenate([tri for tri, *_ in groups])
    vbo = pygltflib.ARRAY_BUFFER
    attrs = pygltflib.Attributes(POSITION=b.accessor(neutral, kind="VEC3", target=vbo, with_bounds=True))
    base_normals = vertex_normals(neutral, shown) if normals else None
    if normals:
        attrs.NORMAL = b.accessor(base_normals, kind="VEC3", target=vbo)
    if getattr(rig, "uvs", None) is not None:
        uvs = rig.uvs.detach().cpu().numpy().astype(np.float32)
        if uvs.shape == (v, 2):
            attrs.TEXCOORD_0 = b.accessor(uvs, kind="VEC2", target=vbo)
        else:
            log.warning("rig %r: UVs of shape %s do not match %d vertices; not written", rig.name, uvs.shape, v)

    targets = []
    if k:
        shaped_normals = vertex_normals(neutral[None] + deltas, shown) - base_normals[None] if normals else None
        for j in range(k):
            t = {"POSITION": b.accessor(deltas[j], kind="VEC3", target=vbo, with_bounds=True)}
            if normals:
                t["NORMAL"] = b.accessor(shaped_normals[j], kind="VEC3", target=vbo)
            targets.append(t)
    prims = _primitives(b, groups, attrs, targets)
    mesh = pygltflib.Mesh(name=client_name(name or rig.name), primitives=prims)
    mesh.extras = points_extras(rig)
    if k:
        mesh.weights = [0.0] * k
        mesh.extras["targetNames"] = glb_target_names(list(rig.shape_names))
    g.meshes = [mesh]
    face = client_name(name or rig.name)
    g.nodes = [pygltflib.Node(name=face, mesh=0)]
    if extra:  # the face's mesh beside its parts, under a node of its own that turns the head (module docstring)
        g.nodes = [pygltflib.Node(name=face, children=[1]), pygltflib.Node(name=f"{face}_mesh", mesh=0)]
    face_node = len(g.nodes) - 1
    part_nodes = tuple((*_part_node(b, p, normals=normals), p) for p in extra)
    if part_nodes:
        g.nodes[0].children = [*(g.nodes[0].children or []), *(i for i, _, _ in part_nodes)]
    g.scenes = [pygltflib.Scene(name="Scene", nodes=[0])]
    g.scene = 0
    return _Static.of(g, b.blob(), shapes=k, part_nodes=part_nodes, face_node=face_node)


def _add_channel(
    b: _Builder, samplers: list, channels: list, time_acc: int, values, kind: str, target: str, node: int = 0
) -> None:
    """A LINEAR sampler over ``time_acc`` with output ``values`` driving ``target`` of ``node``."""
    output = b.accessor(values, kind=kind, target=None)
    samplers.append(pygltflib.AnimationSampler(input=time_acc, interpolation="LINEAR", output=output))
    goal = pygltflib.AnimationChannelTarget(node=node, path=target)
    channels.append(pygltflib.AnimationChannel(sampler=len(samplers) - 1, target=goal))


# Roughness per material (wet eyes and tongue shine, the cavity does not); 0.6 for any other.
_ROUGHNESS = {"eye_white": 0.25, "iris": 0.3, "pupil": 0.2, "teeth": 0.35, "canines": 0.35, "back_teeth_1": 0.4,
              "back_teeth_2": 0.4, "back_teeth_3": 0.4, "gums": 0.5, "tongue": 0.45, "mouth_cavity": 0.9,
              "eye_socket": 0.9, "conjunctiva": 0.35, "lips": 0.45, "brows": 0.85}  # fmt: skip


def _material(b: _Builder, name: str, srgb, *, double_sided: bool = False, alpha: float = 1.0) -> int:
    """Index of the material ``name`` (created on first use, shared after); below 1, ``alpha`` makes it an
    ``alphaMode`` BLEND material of that opacity."""
    for i, m in enumerate(b.gltf.materials):
        if m.name == name:
            return i
    pbr = pygltflib.PbrMetallicRoughness(baseColorFactor=[*linear_rgb(srgb), float(alpha)], metallicFactor=0.0,
                                         roughnessFactor=_ROUGHNESS.get(name, 0.6))  # fmt: skip
    material = pygltflib.Material(name=name, pbrMetallicRoughness=pbr, doubleSided=double_sided)
    if alpha < 1.0:
        material.alphaMode = pygltflib.BLEND
    b.gltf.materials.append(material)
    return len(b.gltf.materials) - 1


def _indices(b: _Builder, tri: np.ndarray) -> int:
    index_type = _UINT16 if int(tri.max()) < 65535 else _UINT32
    return b.accessor(tri.reshape(-1), kind="SCALAR", target=pygltflib.ELEMENT_ARRAY_BUFFER, component=index_type,
                      with_bounds=True)  # fmt: skip


def _surfaces(faces: np.ndarray, *, openings: bool = True, regions=()) -> list:
    """The triangles written, as ``(triangles (n, 3), (material name, sRGB) or None, alpha, double-sided)`` per
    surface. MediaPipe-topology rigs get skin, lips, brows, mouth interior and eyes (own materials,
    so an engine shows lips and brows, and a dark mouth and eyes rather than skin stretched over the openings), sharing
    the vertex attributes and morph targets; any other rig one primitive without a material, unless it names
    its surfaces (``regions``, :class:`~facecraft.rigs.surfaces.Region`: ICT FaceKit's skin, eyes, teeth, gums,
    lashes): then one primitive and material per region, skin taking the triangles in none, a region with
    alpha below 1 an ``alphaMode`` BLEND material of that alpha, a double-sided region a ``doubleSided`` one.
    ``openings=False`` (the rig's parts are written) keeps only the skin, the lips and the brows. Empty surfaces
    are left out."""
    regions = tuple(regions)
    groups: list = []
    if regions:
        rest = np.ones(len(faces), bool)
        for r in regions:
            rest[r.triangles] = False
        extra = np.nonzero(rest)[0]
        skin = next((r for r in regions if r.name == "skin"), None)
        if skin is None:
            groups.append((faces[extra], ("skin", SKIN_COLOR), 1.0, False))
        for r in regions:
            idx = np.concatenate([r.triangles, extra]) if r is skin else r.triangles
            groups.append((faces[idx], (r.name, r.color), r.alpha, r.double_sided))
    elif not (mp_regions := face_regions(faces)):
        groups = [(faces, None, 1.0, False)]
    else:
        skin = np.ones(len(faces), bool)
        for _, idx, _ in mp_regions:  # the openings stay out of the skin even when they are not written
            skin[idx] = False
        kept = [(faces[idx], (nm, rgb), 1.0, False) for nm, idx, rgb in mp_regions
                if openings or nm not in OPENING_NAMES]  # fmt: skip
        groups = [(faces[skin], ("skin", SKIN_COLOR), 1.0, False), *kept]
    return [group for group in groups if len(group[0])]


def _primitives(b: _Builder, groups: list, attrs, targets: list) -> list:
    """One primitive per surface of :func:`_surfaces`, sharing the vertex attributes and morph targets."""
    prims = []
    for tri, material, alpha, double_sided in groups:
        mat = None if material is None else _material(b, *material, double_sided=double_sided, alpha=alpha)
        prims.append(pygltflib.Primitive(attributes=attrs, indices=_indices(b, tri), mode=pygltflib.TRIANGLES,
                                         targets=targets or None, material=mat))  # fmt: skip
    return prims


def _part_node(b: _Builder, part, *, normals: bool = True) -> tuple[int, int]:
    """Mesh and node of one :class:`~facecraft.rigs.face_parts.Part`; returns the part's node index and that of
    the node holding its mesh (the one its weights channel drives).

    Its morph targets carry NORMAL deltas too (unless ``normals=False``), as the face's do: the lower teeth
    turn with the jaw, and a client that reads target normals (three.js, Babylon) shades them turned.

    A part with morph targets hangs its mesh on a child node of its own: three.js's GLTFLoader binds a
    multi-primitive node's weights track to each direct child that has morph targets, so the tongue and the mouth
    cavity, directly under the face's node, took the face's 52 weights too (the mixer averaged the two tracks:
    they opened half as far as the jaw and moved with eyeBlink and eyeLook*).
    """
    vbo = pygltflib.ARRAY_BUFFER
    base = part.normals()
    attrs = pygltflib.Attributes(
        POSITION=b.accessor(part.vertices, kind="VEC3", target=vbo, with_bounds=True),
        NORMAL=b.accessor(base, kind="VEC3", target=vbo),
    )
    names = list(part.targets)
    targets = []
    for n in names:
        t = {"POSITION": b.accessor(part.targets[n], kind="VEC3", target=vbo, with_bounds=True)}
        if normals:
            moved = vertex_normals(part.vertices + part.targets[n], part.faces)
            t["NORMAL"] = b.accessor(moved - base, kind="VEC3", target=vbo)
        targets.append(t)
    prims = [
        pygltflib.Primitive(attributes=attrs, indices=_indices(b, srf.faces), mode=pygltflib.TRIANGLES,
                            targets=targets or None,
                            material=_material(b, srf.material, srf.color, double_sided=srf.double_sided))
        for srf in part.surfaces
    ]  # fmt: skip
    mesh = pygltflib.Mesh(name=part.name, primitives=prims)
    if names:
        mesh.weights = [0.0] * len(names)
        mesh.extras = {"targetNames": names}
    b.gltf.meshes.append(mesh)
    held = pygltflib.Node(name=part.name, mesh=len(b.gltf.meshes) - 1, extras={PART_KEY: part.name})
    if names:  # the mesh one node down (see above); the part's node keeps its name, pivot and eye rotation
        b.gltf.nodes.append(replace(held, name=f"{part.name}_mesh"))
        held = pygltflib.Node(name=part.name, children=[len(b.gltf.nodes) - 1], extras={PART_KEY: part.name})
    if np.any(part.pivot):
        held.translation = [float(x) for x in part.pivot]
    b.gltf.nodes.append(held)
    node = len(b.gltf.nodes) - 1
    return node, (held.children or [node])[0]


def _document(rig, anim, *, normals: bool, head_rotation: bool, parts: bool, name: str | None) -> tuple[str, list]:
    """The glTF JSON text and the binary blob's pieces for ``rig`` (its part cached per rig and options) plus
    ``anim``."""
    static = _rig_cached(rig, ("static", normals, parts, name),
                         lambda: _static_document(rig, normals=normals, parts=parts, name=name))  # fmt: skip
    own: dict = {}
    appended: dict = {}
    pieces = [static.blob]
    size = len(static.blob)
    k, part_nodes = static.shapes, static.part_nodes
    animate_head = head_rotation and anim is not None and anim.head_rotation is not None
    if anim is not None and not (k or animate_head or part_nodes):
        log.warning("rig %r has no shapes and the animation no head rotation: no animation written", rig.name)
    elif anim is not None:
        b = _Builder(after=static)
        channels, samplers = [], []
        time_acc = b.accessor(anim.times(), kind="SCALAR", target=None, with_bounds=True)
        if k:
            _rig_cached(rig, ("arkit shapes",), lambda: _check_arkit_shapes(rig))  # warned once per rig
            weights = rig.from_arkit(anim.curves).detach().cpu().numpy().astype(np.float32)  # (T, K)
            _add_channel(b, samplers, channels, time_acc, weights.reshape(-1), "SCALAR", "weights", static.face_node)
        if animate_head:
            turns = yaw_pitch_roll_quaternions(anim.head_rotation)
            _add_channel(b, samplers, channels, time_acc, turns, "VEC4", "rotation")
        _animate_parts(b, samplers, channels, time_acc, anim, part_nodes)
        animation = pygltflib.Animation(name=str(anim.meta.get("name", "face")), samplers=samplers,
                                        channels=channels, extras=animation_extras(anim))  # fmt: skip
        timing = {"fps": float(anim.fps), "frames": int(anim.num_frames)}
        appended["accessors"] = [_json(a) for a in b.gltf.accessors]
        appended["bufferViews"] = [_json(v) for v in b.gltf.bufferViews]
        own["animations"] = [_json(animation)]
        own["asset"] = _json(replace(static.asset, extras=dict(timing)))
        own["scenes"] = [_json(replace(static.scene, extras=dict(timing)))]
        pieces += b.chunks
        size = b.offset
    pieces.append(b"\x00" * ((-size) % 4))
    own["buffers"] = [{"byteLength": size + len(pieces[-1])}]
    return _document_text(static, own, appended), pieces


def _check_arkit_shapes(rig) -> None:
    """:func:`~facecraft.rigs.exchange.gltf_animate.check_arkit_coverage` of a rig's shapes."""
    driven = rig.arkit_matrix().abs().sum(dim=1).cpu().numpy() > 0  # (52,) ARKit channels that move some shape
    check_arkit_coverage(driven, f"rig {rig.name!r}", rig.num_shapes)


def glb_bytes(
    rig, anim=None, *, normals: bool = True, head_rotation: bool = True, parts: bool = True, name: str | None = None
) -> bytes:
    """The GLB file (bytes) for ``rig`` and optional ``anim``.

    Parameters
    ----------
    rig : BlendshapeRig
        Neutral ``(V, 3)`` metres, deltas ``(K, V, 3)``, faces ``(F, 3)``, optional UVs ``(V, 2)``.
    anim : FaceAnimation, optional
        ARKit curves ``(T, 52)`` mapped onto the rig's shapes with ``rig.from_arkit`` (shapes that are not
        ARKit shapes stay at 0); without it the file holds only the mesh and its morph targets.
    normals : bool
        Also write NORMAL deltas of each target (one extra ``(V, 3)`` per shape).
    head_rotation : bool
        Animate the node's rotation from ``anim.head_rotation`` when it is present.
    parts : bool
        Add the eyes, teeth, tongue and mouth cavity of :func:`facecraft.rigs.face_parts.face_parts` (built for
        the default rig's topology only; other rigs are written alone).

    The container and its JSON are laid out as pygltflib's ``save_to_bytes`` lays them out (a test checks that
    pygltflib reads and writes the file back the same); pygltflib's own serialisation deep-copies every object
    of the document on each save, which made the mesh's JSON most of the cost of a voice line in a batch.
    """
    return b"".join(_glb_pieces(rig, anim, normals=normals, head_rotation=head_rotation, parts=parts, name=name))


def _glb_pieces(rig, anim, **options) -> list[bytes]:
    """The GLB container in pieces (header, JSON chunk, BIN chunk): written as they are, the mesh's megabyte is
    not copied again for each file."""
    text, blob = _document(rig, anim, **options)
    text += " " * ((-len(text)) % 4)  # chunks start and end 4-byte aligned (glTF 2.0, GLB file format)
    json_chunk = text.encode("utf-8")
    blob_size = sum(map(len, blob))
    length = 12 + 8 + len(json_chunk) + 8 + blob_size
    return [
        pygltflib.MAGIC, struct.pack("<II", pygltflib.GLTF_VERSION, length),
        struct.pack("<I", len(json_chunk)), pygltflib.JSON.encode(), json_chunk,
        struct.pack("<I", blob_size), pygltflib.BIN.encode(), *blob,
    ]  # fmt: skip


def build_glb(
    rig, anim=None, *, normals: bool = True, head_rotation: bool = True, parts: bool = True, name: str | None = None
) -> pygltflib.GLTF2:
    """The file of :func:`glb_bytes` as a ``pygltflib.GLTF2`` document (binary blob set), for inspection."""
    data = glb_bytes(rig, anim, normals=normals, head_rotation=head_rotation, parts=parts, name=name)
    return pygltflib.GLTF2.load_from_bytes(data)


def _animate_parts(b: _Builder, samplers: list, channels: list, time_acc: int, anim, part_nodes: list) -> None:
    """Weights channels of the parts with morph targets and rotation channels of the eyeballs."""
    eyes = anim.eye_angles()
    for node, mesh_node, part in part_nodes:
        if part.targets:
            cols = [ARKIT_INDEX[n] for n in part.targets]
            values = np.ascontiguousarray(anim.curves[:, cols], np.float32)
            _add_channel(b, samplers, channels, time_acc, values.reshape(-1), "SCALAR", "weights", mesh_node)
        if part.eye is not None:
            turns = yaw_pitch_roll_quaternions(eyes[part.eye])
            _add_channel(b, samplers, channels, time_acc, turns, "VEC4", "rotation", node)


def _save(pieces: list[bytes], path: str | Path) -> Path:
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as f:
            f.writelines(pieces)
    except OSError as e:
        raise FacecraftError(f"{path}: could not write GLB ({e})") from e
    return path


def _default_rig():
    try:
        from ..default_rig import default_rig  # written by another part of the foundation
    except ImportError as e:
        raise ParameterError("export to GLB needs a rig: pass rig=BlendshapeRig(...) (no default rig available)") from e
    return default_rig()


def write_glb(
    anim, path: str | Path, *, rig=None, normals: bool = True, head_rotation: bool = True, parts: bool = True
) -> Path:
    """Write ``anim`` (a :class:`~facecraft.rigs.animation.FaceAnimation`) on ``rig`` as a GLB file.

    Parameters
    ----------
    anim : FaceAnimation
        Curves ``(T, 52)`` at ``anim.fps``; keyframe times are ``t / fps`` seconds.
    path : path-like
        Output ``.glb`` file; parent folders are created.
    rig : BlendshapeRig, optional
        The mesh to animate; the project's default rig when omitted. A rig loaded from a glTF/GLB file (and not
        changed since) is written as that whole file with the clip added
        (:func:`~facecraft.rigs.exchange.gltf_animate.animate_gltf`).
    normals, head_rotation, parts : bool
        See :func:`build_glb`.

    Returns
    -------
    Path of the written file.
    """
    rig = _default_rig() if rig is None else rig
    if (source := gltf_source(rig)) is not None:  # a user's character: the whole file, with the clip added
        return animate_gltf(source, anim, path)
    return _save(_glb_pieces(rig, anim, normals=normals, head_rotation=head_rotation, parts=parts, name=None), path)


def write_rig_glb(rig, path: str | Path, *, normals: bool = True, parts: bool = True) -> Path:
    """Write ``rig``'s neutral mesh and all its shapes as named morph targets (no animation) to a GLB file,
    with the default rig's eyes, teeth and tongue unless ``parts=False``; a rig loaded from a glTF/GLB file is
    written as that whole file."""
    if (source := gltf_source(rig)) is not None:
        return animate_gltf(source, None, path)
    return _save(_glb_pieces(rig, None, normals=normals, head_rotation=True, parts=parts, name=None), path)


_exporters = {"glb": write_glb}
