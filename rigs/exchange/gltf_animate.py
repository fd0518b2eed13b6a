"""A user's own glTF/GLB character, animated: the file as it came (every mesh, material, texture, skeleton and
animation it had) plus one clip that drives its ARKit-named morph targets.

Loading a character as a :class:`~facecraft.rigs.BlendshapeRig` keeps only what a rig is (one merged mesh and its
shapes): written back with :func:`~facecraft.rigs.exchange.glb.write_glb` it lost its eyes, teeth, materials and
child meshes. :func:`animate_gltf` instead copies the file and appends: its buffers joined into the GLB's one
binary chunk, a time accessor, and per node whose mesh has morph targets a ``weights`` channel that takes each
target's ARKit curve by its name (:func:`~facecraft.rigs.arkit.canonical_arkit_name`: ``eyeBlink_L``,
``blendShape1.jawOpen`` ...; targets with other names stay at 0). The clip's rate goes to ``asset.extras`` as in
facecraft's own GLBs.

Head and eyes: the node named as a head (``Head``, ``mixamorig:Head``, ``CC_Base_Head``, ``DEF-head``, ...:
:func:`head_and_eye_nodes`) turns by the animation's head rotation, the eye nodes (``LeftEye``, ``eye_left``,
``CC_Base_R_Eye``, ...) by its gaze. Each rotation is the one facecraft's own GLB gives its head and eyeballs
(yaw about the character's up axis, +Y, the face looking toward +Z as glTF has it), laid over the node's rest
pose in the frame of the rest pose's parent, so a bone whose own axes point anywhere still nods about the
character's left-right axis. A file facecraft wrote turns its root node as the head. No node named so: a
warning, and that rotation is not written.
"""

from __future__ import annotations

import copy
import json
import logging
import re
from pathlib import Path
from urllib.parse import unquote

import numpy as np
import pygltflib

from ..arkit import ARKIT_NAMES, canonical_arkit_name
from ..errors import FacecraftError, FileFormatError, ParameterError
from .gltf_import import _buffer_bytes, _load, _node_matrix, _target_names
from .json_curves import _json_default

log = logging.getLogger(__name__)

_FLOAT = 5126


def yaw_pitch_roll_quaternions(degrees: np.ndarray) -> np.ndarray:
    """Unit quaternions ``(T, 4)`` x, y, z, w (glTF order) from yaw/pitch/roll degrees ``(T, 3)``.

    Yaw turns about +Y (positive turns the face, which looks toward +Z, to its left, +X), pitch about the
    turned +X, roll about the turned +Z (intrinsic Y-X-Z).
    """
    from scipy.spatial.transform import Rotation

    return Rotation.from_euler("YXZ", np.asarray(degrees, np.float64), degrees=True).as_quat().astype(np.float32)


def animation_extras(anim) -> dict:
    """What a GLB's animation carries beside its channels, as its ``extras``: the mouth cues, visemes and meta
    that the JSON and npz files hold (a lip-sync pipeline reading the GLB needs the cues as much as the curves).
    Keys as in the JSON file (``mouthCues``, ``visemes``, ``meta``); only those present."""
    extras = {"mouthCues": anim.mouth_cues, "visemes": anim.visemes, "meta": anim.meta}
    extras = {k: v for k, v in extras.items() if v}
    try:
        return json.loads(json.dumps(extras, default=_json_default))
    except (TypeError, ValueError) as e:
        raise FacecraftError(f"animation cues or meta are not JSON-serialisable ({e})") from e


#: Prefixes rigging tools put before a bone's own name (Mixamo, Character Creator, Rigify, 3ds Max biped).
_BONE_PREFIXES = ("mixamorig", "ccbase", "def", "org", "bip01", "bip001", "armature", "bone", "jnt")
_BONE_SUFFIXES = ("jnt", "joint", "bone", "bn")
_HEAD_KEYS = frozenset({"head"})
_EYE_KEYS = {
    "left": frozenset({"lefteye", "eyeleft", "leye", "eyel", "eyeballleft", "lefteyeball"}),
    "right": frozenset({"righteye", "eyeright", "reye", "eyer", "eyeballright", "righteyeball"}),
}


def _bone_key(name: str | None) -> str:
    """A node name without its namespace, rig-tool prefix and separators: ``mixamorig:LeftEye`` -> ``lefteye``."""
    key = re.sub(r"[^a-z0-9]", "", re.split(r"[:|]", name or "")[-1].lower())
    for prefix in _BONE_PREFIXES:
        if key.startswith(prefix) and len(key) > len(prefix):
            key = key[len(prefix) :]
    for suffix in _BONE_SUFFIXES:
        if key.endswith(suffix) and len(key) > len(suffix):
            key = key[: -len(suffix)]
    return key


def head_and_eye_nodes(g: pygltflib.GLTF2) -> dict[str, int]:
    """``{"head": i, "left": j, "right": k}``: the nodes of ``g`` named as a head and as the eyes (a skin's
    joints before other nodes of the same name); a file facecraft wrote has its root node as the head."""
    joints = {j for skin in g.skins or [] for j in skin.joints or []}
    found: dict[str, int] = {}
    for role, keys in (("head", _HEAD_KEYS), *_EYE_KEYS.items()):
        named = [i for i, node in enumerate(g.nodes or []) if _bone_key(node.name) in keys]
        if named:
            found[role] = min(named, key=lambda i: (i not in joints, i))
    generator = (g.asset.generator or "") if g.asset else ""
    if "head" not in found and generator.startswith("facecraft") and g.nodes:
        found["head"] = 0
    return found


def gltf_source(rig) -> Path | None:
    """The glTF/GLB file ``rig`` was loaded from, while its mesh and shapes are still as loaded; else None."""
    source = getattr(rig, "gltf_source", None)
    if source is None or getattr(rig, "gltf_stamp", None) != rig.content_stamp():
        return None
    return Path(source)


def remember_source(rig, path: str | Path):
    """Mark ``rig`` as loaded from ``path`` (see :func:`gltf_source`); returns ``rig``."""
    rig.gltf_source = Path(path)
    rig.gltf_stamp = rig.content_stamp()
    return rig


def check_arkit_coverage(driven: np.ndarray, what: str, targets: int) -> None:
    """``driven`` ``(52,)`` bool: the ARKit channels that move some morph target of ``what`` (``targets`` of
    them). None is an error (its animation would be all zeros); some missing, a warning naming them."""
    if not driven.any():
        raise ParameterError(
            f"{what}: none of its {targets} morph targets is an ARKit-52 shape; name them as ARKit does (jawOpen, "
            "eyeBlinkLeft, ...; aliases such as eyeBlink_L work) to animate it"
        )
    if not driven.all():
        missing = [n for n, d in zip(ARKIT_NAMES, driven, strict=True) if not d]
        log.warning("%s has %d of the 52 ARKit shapes; not animated: %s", what, int(driven.sum()), ", ".join(missing))


def _joined(g: pygltflib.GLTF2, path: Path) -> bytearray:
    """All of ``g``'s buffers as one blob; buffer views re-pointed into it, one buffer left."""
    cache: dict = {}
    blob = bytearray()
    starts = []
    for i in range(len(g.buffers or [])):
        blob += b"\x00" * ((-len(blob)) % 8)
        starts.append(len(blob))
        blob += _buffer_bytes(g, path, i, cache)
    for view in g.bufferViews or []:
        view.byteOffset = (view.byteOffset or 0) + starts[view.buffer]
        view.buffer = 0
    return blob


def _accessor(
    g: pygltflib.GLTF2, blob: bytearray, values: np.ndarray, *, bounds: bool = False, kind: str = "SCALAR"
) -> int:
    data = np.ascontiguousarray(values, np.float32).reshape(-1)
    blob += b"\x00" * ((-len(blob)) % 4)
    g.bufferViews.append(pygltflib.BufferView(buffer=0, byteOffset=len(blob), byteLength=data.nbytes))
    blob += data.tobytes()
    count = int(data.size) // {"SCALAR": 1, "VEC4": 4}[kind]
    acc = pygltflib.Accessor(bufferView=len(g.bufferViews) - 1, componentType=_FLOAT, count=count, type=kind)
    if bounds:
        acc.min, acc.max = [float(data.min())], [float(data.max())]
    g.accessors.append(acc)
    return len(g.accessors) - 1


def _target_columns(g: pygltflib.GLTF2, mesh_index: int) -> list[int | None]:
    """Per morph target of a mesh: the ARKit column that drives it, or None."""
    mesh = g.meshes[mesh_index]
    k = max((len(p.targets or []) for p in mesh.primitives), default=0)
    names = _target_names(mesh, mesh.primitives[0], k) if k else []
    cols = []
    for name in names:
        arkit = canonical_arkit_name(name, strict=False)
        cols.append(None if arkit is None else ARKIT_NAMES.index(arkit))
    return cols


def animate_gltf(source: str | Path, anim, path: str | Path, *, name: str = "face") -> Path:
    """Write ``source`` (a glTF or GLB character) as a GLB at ``path`` with ``anim``'s curves as a new animation
    (see the module docstring); ``anim=None`` writes the character alone (a .gltf with its files packed).

    Raises
    ------
    ParameterError
        No morph target of the character has an ARKit name (its clip would be all zeros).
    FileFormatError
        ``source`` is not a readable glTF/GLB file.
    """
    source, path = Path(source), Path(path)
    g = copy.deepcopy(_load(source))
    blob = _joined(g, source)
    g.bufferViews = g.bufferViews or []
    g.accessors = g.accessors or []
    _embed_images(g, blob, source)
    if anim is not None:
        _add_clip(g, blob, anim, source, name)
    blob += b"\x00" * ((-len(blob)) % 4)
    g.buffers = [pygltflib.Buffer(byteLength=len(blob))]
    g.set_binary_blob(bytes(blob))
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        g.save_binary(str(path))
    except OSError as e:
        raise FacecraftError(f"{path}: could not write GLB ({e})") from e
    return path


def _embed_images(g: pygltflib.GLTF2, blob: bytearray, source: Path) -> None:
    """Images a .gltf keeps in files beside it, moved into the blob (the GLB goes elsewhere without them)."""
    for image in g.images or []:
        uri = image.uri
        if not uri or uri.startswith("data:"):
            continue
        file = source.parent / unquote(uri)
        if not file.is_file():
            raise FileFormatError(f"{source}: image {uri!r} was not found at {file}")
        data = file.read_bytes()
        blob += b"\x00" * ((-len(blob)) % 4)
        g.bufferViews.append(pygltflib.BufferView(buffer=0, byteOffset=len(blob), byteLength=len(data)))
        blob += data
        image.bufferView, image.uri = len(g.bufferViews) - 1, None
        image.mimeType = image.mimeType or ("image/png" if file.suffix.lower() == ".png" else "image/jpeg")


def _add_clip(g: pygltflib.GLTF2, blob: bytearray, anim, source: Path, name: str) -> None:
    """``anim`` as a new animation of ``g`` (weights channels of the ARKit-named targets' nodes)."""
    driven = [(i, node.mesh, _target_columns(g, node.mesh)) for i, node in enumerate(g.nodes or [])
              if node.mesh is not None]  # fmt: skip
    covered = np.zeros(len(ARKIT_NAMES), bool)
    covered[[c for _, _, cols in driven for c in cols if c is not None]] = True
    check_arkit_coverage(covered, str(source), sum(len(cols) for _, _, cols in driven))
    driven = [(i, m, cols) for i, m, cols in driven if any(c is not None for c in cols)]
    curves = np.asarray(anim.curves, np.float32)
    times = _accessor(g, blob, anim.times(), bounds=True)
    samplers, channels = [], []
    for node, _, cols in driven:
        values = np.stack([curves[:, c] if c is not None else np.zeros(len(curves), np.float32) for c in cols], 1)
        samplers.append(
            pygltflib.AnimationSampler(input=times, output=_accessor(g, blob, values), interpolation="LINEAR")
        )
        target = pygltflib.AnimationChannelTarget(node=node, path="weights")
        channels.append(pygltflib.AnimationChannel(sampler=len(samplers) - 1, target=target))
    for node, quats in _turns(g, anim, source).items():
        samplers.append(pygltflib.AnimationSampler(input=times, output=_accessor(g, blob, quats, kind="VEC4")))
        target = pygltflib.AnimationChannelTarget(node=node, path="rotation")
        channels.append(pygltflib.AnimationChannel(sampler=len(samplers) - 1, target=target))
    taken = {a.name for a in g.animations or []}
    unique = next(n for k in range(len(taken) + 1) if (n := name if k == 0 else f"{name}.{k}") not in taken)
    clip = pygltflib.Animation(name=unique, samplers=samplers, channels=channels, extras=animation_extras(anim))
    # first: Blender makes the first clip the active action, model-viewer and Babylon play it (it came after the
    # character's own clips, so an imported file opened on its idle loop)
    g.animations = [clip, *(g.animations or [])]
    timing = {"fps": float(anim.fps), "frames": int(anim.num_frames)}
    # Blender's importer copies the scene's extras onto its scene (the README's import recipe reads them there)
    first = g.scene or 0
    shown = (g.scenes or [])[first : first + 1]  # the scene the file opens on (none in a file without one)
    for holder in (g.asset, *shown):
        extras = dict(holder.extras or {}) if isinstance(holder.extras, dict) else {}
        holder.extras = {**extras, **timing}


def _turns(g: pygltflib.GLTF2, anim, source: Path) -> dict[int, np.ndarray]:
    """Local rotations ``(T, 4)`` of the head and eye nodes (:func:`head_and_eye_nodes`) for ``anim``."""
    nodes = head_and_eye_nodes(g)
    degrees: dict[int, np.ndarray] = {}
    if anim.head_rotation is not None:
        if "head" in nodes:
            degrees[nodes["head"]] = anim.head_rotation
        else:
            log.warning("%s: no node is named as a head (Head, mixamorig:Head, ...): head rotation not written", source)
    for side, angles in anim.eye_angles().items():
        if side in nodes:
            degrees[nodes[side]] = angles
    parents = {child: i for i, node in enumerate(g.nodes or []) for child in node.children or []}
    return {i: _local_turn(g, i, parents, yaw_pitch_roll_quaternions(d)) for i, d in degrees.items()}


def _local_turn(g: pygltflib.GLTF2, index: int, parents: dict[int, int], turn: np.ndarray) -> np.ndarray:
    """Node ``index``'s local rotation turned by ``turn`` (quaternions ``(T, 4)`` in the frame of its rest pose's
    parent): ``P^-1 turn P L``, ``P`` the parent's rest world rotation, ``L`` the node's rest rotation."""
    from scipy.spatial.transform import Rotation

    _as_trs(g.nodes[index])
    parent = Rotation.identity()
    at = index
    while at in parents:
        at = parents[at]
        parent = _rest_rotation(g.nodes[at]) * parent
    local = _rest_rotation(g.nodes[index])
    quats = (parent.inv() * Rotation.from_quat(turn) * parent * local).as_quat()
    return quats.astype(np.float32)


def _rest_rotation(node: pygltflib.Node):
    """The rotation part of a node's local transform (its matrix's columns without their scale)."""
    from scipy.spatial.transform import Rotation

    m = _node_matrix(node)[:3, :3]
    return Rotation.from_matrix(m / np.linalg.norm(m, axis=0))


def _as_trs(node: pygltflib.Node) -> None:
    """A node given by a matrix as translation/rotation/scale (glTF animates only those)."""
    if node.matrix is None:
        return
    m = _node_matrix(node)
    node.translation, node.rotation = m[:3, 3].tolist(), _rest_rotation(node).as_quat().tolist()
    node.scale, node.matrix = np.linalg.norm(m[:3, :3], axis=0).tolist(), None
