"""Render one frame of a facecraft GLB in Blender, headless, to a PNG (a check of what a game client shows).

Run inside Blender (Debian's ``blender`` 3.4 works), not with the project's Python::

    blender -b --factory-startup --python-exit-code 1 --python tools/blender_render.py -- \
        FACE.glb FRAME OUT.png [--view front|three_quarter|profile] [--engine eevee|workbench|cycles] \
        [--size 768] [--zoom 1.0] [--focus face|mouth|eyes] [--elevation 4.6] [--hide mouth_cavity,...] \
        [--samples 32]

What it does, in order:

1. reads the GLB's JSON chunk for the frame rate facecraft writes to ``asset.extras.fps`` (glTF keys are in
   seconds and the format has no frame rate; Blender's glTF importer places keys at ``seconds x
   scene.render.fps``, so the rate must be set *before* importing). A non-integer rate (29.97, 59.94) is
   imported at the nearest integer and played back at the true rate through ``render.fps_base``;
2. imports the file with Blender's own glTF importer (``bpy.ops.import_scene.gltf``) and sets the scene's
   frame range to the animation's frames (GLB frame ``i`` is Blender frame ``i``; frame 0 is the first key);
3. goes to ``FRAME``, aims a camera at the evaluated face mesh (the face node, not its parts) from the
   front of the face (glTF +Z, Blender -Y), from 35 degrees to the face's left (``three_quarter``) or from
   its left side (``profile``), with a key, a fill and a rim light; ``--focus mouth`` / ``eyes`` aims at
   facecraft's teeth / eye parts instead of the face's centre, or, on a rig without them (ICT FaceKit), at the
   face's polygons of the ``teeth`` / ``eye_*`` materials, framing as much around them on any rig as on the
   default rig (use with ``--zoom 2``);
4. renders with Eevee (default), Workbench or Cycles to ``OUT.png`` and prints one line
   ``FACECRAFT_RENDER {json}`` with what it found: the scene rate, the frame range, every imported object
   (parent, materials, shape keys with their values at ``FRAME``, world-space bounds) and the output path.

Debian's Blender 3.4 with Debian's numpy 1.24: the importer still uses ``np.bool``, which that numpy
removed; this script restores the alias before importing.
"""

from __future__ import annotations

import argparse
import json
import math
import struct
import sys
from pathlib import Path

import bpy
import numpy
from mathutils import Vector

if not hasattr(numpy, "bool"):  # Blender 3.4's glTF importer uses np.bool (gone in numpy >= 1.24)
    numpy.bool = bool

VIEWS = {"front": 0.0, "three_quarter": 35.0, "profile": 90.0}  # camera azimuth toward the face's left, degrees
FOCUS_PARTS = {"mouth": "teeth", "eyes": "eye_"}  # part (else material) name prefixes the camera aims at
# Height framed at zoom 1 around the focus, in widths of what it aims at: the default rig's face height over its
# teeth's (3.3) and its eyes' (2.0) width, so a zoom frames any rig's mouth or eyes as it frames the default rig's
FOCUS_SPAN = {"mouth": 3.3, "eyes": 2.0}
ENGINES = {"eevee": "BLENDER_EEVEE", "workbench": "BLENDER_WORKBENCH", "cycles": "CYCLES"}
PART_KEY = "facecraft_part"  # node extras key of facecraft's added parts (rigs.exchange.glb.PART_KEY)


def glb_json(path: Path) -> dict:
    """The JSON chunk of a binary glTF file."""
    data = path.read_bytes()
    magic, _version, _length = struct.unpack_from("<4sII", data, 0)
    chunk_len, chunk_type = struct.unpack_from("<II", data, 12)
    if magic != b"glTF" or chunk_type != 0x4E4F534A:  # "JSON"
        raise SystemExit(f"{path}: not a binary glTF file (magic {magic!r})")
    return json.loads(data[20 : 20 + chunk_len])


def glb_timing(doc: dict) -> tuple[float | None, int | None]:
    """``(fps, frames)`` from ``asset.extras`` (then ``scenes[0].extras``); ``None`` where the file has none."""
    for extras in (doc.get("asset", {}).get("extras"), (doc.get("scenes") or [{}])[0].get("extras")):
        if isinstance(extras, dict) and extras.get("fps"):
            frames = extras.get("frames")
            return float(extras["fps"]), int(frames) if frames else None
    return None, None


def set_scene_rate(scene, fps: float) -> None:
    """Set the scene to ``fps``: the importer reads ``render.fps`` (an integer), playback ``fps / fps_base``."""
    whole = max(1, round(fps))
    scene.render.fps = whole
    scene.render.fps_base = whole / fps


def face_object(imported: list):
    """The face: the mesh object that is not one of facecraft's parts (the one with most shape keys else)."""
    meshes = [o for o in imported if o.type == "MESH"]
    plain = [o for o in meshes if PART_KEY not in o.keys()]
    pool = plain or meshes
    return max(pool, key=lambda o: len(o.data.shape_keys.key_blocks) if o.data.shape_keys else 0)


def world_bounds(obj, depsgraph, material: str | None = None) -> tuple[Vector, Vector] | None:
    """Min and max corners of the evaluated (shape keys and animation applied) mesh, world space; with
    ``material``, of the polygons whose material's name starts with it only (None where there are none)."""
    ev = obj.evaluated_get(depsgraph)
    mesh = ev.to_mesh()
    if material is None:
        chosen = range(len(mesh.vertices))
    else:
        slots = {i for i, m in enumerate(mesh.materials) if m is not None and m.name.startswith(material)}
        chosen = sorted({v for p in mesh.polygons if p.material_index in slots for v in p.vertices})
    pts = [ev.matrix_world @ mesh.vertices[i].co for i in chosen]
    ev.to_mesh_clear()
    if not pts:
        return None
    lo = Vector((min(p.x for p in pts), min(p.y for p in pts), min(p.z for p in pts)))
    hi = Vector((max(p.x for p in pts), max(p.y for p in pts), max(p.z for p in pts)))
    return lo, hi


def focus_region(face, depsgraph, prefix: str) -> tuple[Vector, float] | None:
    """Where ``--focus`` aims and how wide (X) that is: the mean corner of facecraft's parts named ``prefix...``
    (the default rig's teeth or eyes, child objects), else the centre of the face's own polygons whose material is
    named so (a rig whose teeth and eyes are surfaces of its one mesh: ICT FaceKit's ``teeth``, ``eye_white``);
    None where neither is."""
    # the parts sit beside the face's mesh under the head, and a part with morph targets is an empty holding its mesh
    # (rigs/exchange/glb.py): look at every mesh below the face's topmost parent
    top = face
    while top.parent is not None:
        top = top.parent
    parts = [o for o in top.children_recursive if o.type == "MESH" and o.get(PART_KEY, "").startswith(prefix)]
    if parts:
        corners = [c for o in parts for c in world_bounds(o, depsgraph)]
        return sum(corners, Vector()) / len(corners), max(c.x for c in corners) - min(c.x for c in corners)
    own = world_bounds(face, depsgraph, material=prefix)
    return None if own is None else ((own[0] + own[1]) / 2, own[1].x - own[0].x)


def add_light(name: str, kind: str, energy: float, location: Vector, target: Vector, **props) -> None:
    data = bpy.data.lights.new(name, kind)
    data.energy = energy
    for k, v in props.items():
        setattr(data, k, v)
    obj = bpy.data.objects.new(name, data)
    bpy.context.scene.collection.objects.link(obj)
    obj.location = location
    obj.rotation_euler = (target - location).to_track_quat("-Z", "Y").to_euler()


def stage(scene, face, depsgraph, *, view: str, zoom: float, focus: str, elevation: float) -> dict:
    """Camera and lights around the face's evaluated bounds; returns the camera's placement."""
    lo, hi = world_bounds(face, depsgraph)
    centre = (lo + hi) / 2
    height = hi.z - lo.z
    aim = focus_region(face, depsgraph, FOCUS_PARTS[focus]) if focus in FOCUS_PARTS else None
    if aim is not None:  # the mouth or the eyes themselves (a turn about a whole head's middle moves them aside)
        centre, height = aim[0], FOCUS_SPAN[focus] * aim[1]
    azimuth = math.radians(VIEWS[view])
    # glTF +Z (where the face looks) is Blender -Y; the face's left is glTF +X, Blender +X.
    lift = math.tan(math.radians(elevation))
    direction = Vector((math.sin(azimuth), -math.cos(azimuth), lift)).normalized()
    cam_data = bpy.data.cameras.new("facecraft_camera")
    cam_data.lens = 85.0
    cam_data.sensor_fit = "VERTICAL"
    cam_data.clip_start = 0.01
    fov = 2 * math.atan(cam_data.sensor_height / (2 * cam_data.lens))
    distance = 0.62 * height / math.tan(fov / 2) / zoom + (centre.y - lo.y)  # from the face's front (-Y)
    cam = bpy.data.objects.new("facecraft_camera", cam_data)
    scene.collection.objects.link(cam)
    cam.location = centre + direction * distance
    cam.rotation_euler = (centre - cam.location).to_track_quat("-Z", "Y").to_euler()
    scene.camera = cam
    front = Vector((0.0, -1.0, 0.0))
    add_light("key", "AREA", 14.0 * distance**2, centre + (front + Vector((0.6, 0.0, 0.5))) * distance, centre,
              size=0.5 * distance)  # fmt: skip
    add_light("fill", "AREA", 5.0 * distance**2, centre + (front + Vector((-0.8, 0.0, 0.1))) * distance, centre,
              size=0.8 * distance)  # fmt: skip
    add_light("rim", "AREA", 10.0 * distance**2, centre + Vector((0.0, 1.0, 0.6)) * distance, centre,
              size=0.4 * distance)  # fmt: skip
    world = bpy.data.worlds.new("facecraft_world")
    world.color = (0.05, 0.05, 0.06)
    world.use_nodes = True
    world.node_tree.nodes["Background"].inputs["Color"].default_value = (0.18, 0.19, 0.21, 1.0)
    world.node_tree.nodes["Background"].inputs["Strength"].default_value = 0.3
    scene.world = world
    return {"camera": list(cam.location), "target": list(centre), "distance": distance}


def describe(objects: list, depsgraph) -> dict:
    out = {}
    for o in objects:
        entry = {"type": o.type, "parent": o.parent.name if o.parent else None, "part": o.get(PART_KEY)}
        if o.type == "MESH":
            entry["materials"] = [m.name for m in o.data.materials if m is not None]
            keys = o.data.shape_keys.key_blocks if o.data.shape_keys else []
            entry["shape_keys"] = {k.name: round(float(k.value), 4) for k in keys if k.name != "Basis"}
            lo, hi = world_bounds(o, depsgraph)
            entry["bounds"] = [list(lo), list(hi)]
            entry["rotation_quaternion"] = list(o.matrix_world.to_quaternion())
        out[o.name] = entry
    return out


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="blender -b -P tools/blender_render.py --", description=__doc__.split("\n")[0])
    p.add_argument("glb", type=Path)
    p.add_argument("frame", type=int, help="frame of the GLB's animation (0 = first key)")
    p.add_argument("out", type=Path, help="PNG to write")
    p.add_argument("--view", choices=sorted(VIEWS), default="front")
    p.add_argument("--engine", choices=sorted(ENGINES), default="eevee")
    p.add_argument("--size", type=int, default=768, help="image height and width in pixels")
    p.add_argument("--zoom", type=float, default=1.0, help="> 1 frames tighter (2 shows the mouth region)")
    p.add_argument(
        "--focus",
        choices=["face", *FOCUS_PARTS],
        default="face",
        help="what the camera aims at (with --zoom 2: mouth or eyes close up)",
    )
    p.add_argument("--hide", default="", help="comma-separated object names to leave out (e.g. mouth_cavity)")
    p.add_argument("--elevation", type=float, default=4.6, help="camera height angle above the face, degrees")
    p.add_argument("--samples", type=int, default=32, help="Eevee / Cycles samples")
    return p.parse_args(argv)


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    if not args.glb.is_file():
        raise SystemExit(f"{args.glb}: no such GLB file")
    bpy.ops.wm.read_factory_settings(use_empty=True)
    scene = bpy.context.scene
    fps, frames = glb_timing(glb_json(args.glb))
    if fps is not None:
        set_scene_rate(scene, fps)
    before = set(bpy.data.objects)
    bpy.ops.import_scene.gltf(filepath=str(args.glb))
    imported = [o for o in bpy.data.objects if o not in before]
    if not any(o.type == "MESH" for o in imported):
        raise SystemExit(f"{args.glb}: the importer created no mesh")
    if frames:
        scene.frame_start, scene.frame_end = 0, frames - 1
    if frames and not 0 <= args.frame < frames:
        raise SystemExit(f"frame {args.frame} outside the GLB's 0..{frames - 1}")
    scene.frame_set(args.frame)
    depsgraph = bpy.context.evaluated_depsgraph_get()
    face = face_object(imported)
    for name in filter(None, args.hide.split(",")):
        if name not in bpy.data.objects:
            raise SystemExit(f"--hide: no object {name!r} in {args.glb}")
        bpy.data.objects[name].hide_render = True
    camera = stage(scene, face, depsgraph, view=args.view, zoom=args.zoom, focus=args.focus, elevation=args.elevation)

    scene.render.engine = ENGINES[args.engine]
    scene.render.resolution_x = scene.render.resolution_y = args.size
    scene.render.resolution_percentage = 100
    scene.render.image_settings.file_format = "PNG"
    scene.render.filepath = str(args.out.resolve())
    scene.view_settings.view_transform = "Filmic"
    if args.engine == "eevee":
        scene.eevee.taa_render_samples = args.samples
        scene.eevee.use_soft_shadows = True
        scene.eevee.use_gtao = True  # ambient occlusion darkens the mouth's inside
    elif args.engine == "cycles":
        scene.cycles.samples = args.samples
        scene.cycles.device = "CPU"
        scene.cycles.use_denoising = False  # Debian's Blender is built without OpenImageDenoise
    else:
        scene.display.shading.light = "STUDIO"
        scene.display.shading.color_type = "MATERIAL"
    args.out.parent.mkdir(parents=True, exist_ok=True)
    bpy.ops.render.render(write_still=True)
    report = {
        "glb": str(args.glb), "out": str(args.out), "frame": args.frame, "view": args.view, "engine": args.engine,
        "glb_fps": fps, "glb_frames": frames, "scene_fps": scene.render.fps / scene.render.fps_base,
        "frame_range": [scene.frame_start, scene.frame_end], "face": face.name, **camera,
        "objects": describe(imported, bpy.context.evaluated_depsgraph_get()),
    }  # fmt: skip
    print("FACECRAFT_RENDER " + json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[sys.argv.index("--") + 1 :] if "--" in sys.argv else []))
