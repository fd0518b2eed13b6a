"""Blender (a real client) imports a facecraft GLB at its own rate and renders the mouth and eyes it holds.

The rendering tests run Debian's ``blender`` headless and skip where it is absent; the argument checks do not
need it.
"""

from __future__ import annotations

import numpy as np
import pytest

from facecraft.rigs import ARKIT_NAMES, OptionalDependencyError, ParameterError
from facecraft.rigs.animation import FaceAnimation
from facecraft.rigs.exchange import blender_imports_gltf, render_glb_frame, write_glb

needs_blender = pytest.mark.skipif(
    not blender_imports_gltf(), reason="blender with numpy not installed (apt install blender python3-numpy)"
)
FPS = 59.94  # a rate Blender's default scene (24 fps) and an integer-only importer would both get wrong


def _open_close_take() -> FaceAnimation:
    """Six frames: lips closed for three, then jaw wide open with the tongue forward and the eyes looking left."""
    curves = np.zeros((6, 52), np.float32)
    curves[3:, ARKIT_NAMES.index("jawOpen")] = 1.0
    curves[3:, ARKIT_NAMES.index("tongueOut")] = 0.3
    curves[3:, ARKIT_NAMES.index("eyeLookOutLeft")] = 0.8
    curves[3:, ARKIT_NAMES.index("eyeLookInRight")] = 0.8
    return FaceAnimation(curves, fps=FPS, meta={"name": "open-close"})


def _mouth_pixels(path) -> np.ndarray:
    """RGB floats of the central third of a mouth close-up."""
    from PIL import Image

    rgb = np.asarray(Image.open(path).convert("RGB"), np.float32) / 255.0
    h, w = rgb.shape[:2]
    return rgb[h // 3 : 2 * h // 3, w // 3 : 2 * w // 3].reshape(-1, 3)


@needs_blender
def test_blender_sets_the_glb_rate_and_shows_an_open_mouth(tmp_path):
    glb = write_glb(_open_close_take(), tmp_path / "face.glb")
    reports = {}
    for frame in (1, 5):
        reports[frame] = render_glb_frame(glb, frame, tmp_path / f"f{frame}.png", engine="workbench", size=96,
                                          zoom=2.4, focus="mouth", samples=1)  # fmt: skip
    rep = reports[5]
    assert rep["glb_fps"] == pytest.approx(FPS) and rep["scene_fps"] == pytest.approx(FPS)
    assert rep["frame_range"] == [0, 5]
    objects = rep["objects"]
    assert objects[rep["face"]]["shape_keys"]["jawOpen"] == pytest.approx(1.0, abs=1e-3)
    assert reports[1]["objects"][rep["face"]]["shape_keys"]["jawOpen"] == pytest.approx(0.0, abs=1e-3)
    # the parts came in beside the face's mesh, under the head, with their materials, and follow the jaw and the
    # tongue (a part with morph targets is an empty holding its mesh, <part>_mesh); no mesh with shape keys has
    # children (old three.js bound a node's weights to every mesh below it)
    head = objects[rep["face"]]["parent"]
    assert rep["face"] == "facecraft-default_mesh" and head == "facecraft-default"
    assert objects["teeth_lower"]["parent"] == head and objects["eye_left"]["parent"] == head
    assert objects["teeth_lower_mesh"]["parent"] == "teeth_lower"
    assert objects["teeth_lower_mesh"]["shape_keys"]["jawOpen"] == pytest.approx(1.0, abs=1e-3)
    assert objects["tongue_mesh"]["shape_keys"]["tongueOut"] == pytest.approx(0.3, abs=1e-3)
    assert objects[rep["face"]]["materials"] == ["skin", "lips", "brows"]
    assert objects["eye_left"]["materials"] == ["eye_white", "iris", "pupil"]
    teeth_materials = ["teeth", "canines", "back_teeth_1", "back_teeth_2", "back_teeth_3", "gums"]
    assert objects["teeth_upper"]["materials"] == teeth_materials
    assert objects["tongue_mesh"]["materials"] == ["tongue"]
    assert objects["eye_socket_left_mesh"]["materials"] == ["conjunctiva", "eye_socket"]
    lower = [reports[f]["objects"]["teeth_lower_mesh"]["bounds"][0][2] for f in (1, 5)]
    lower_drop = lower[0] - lower[1]
    assert lower_drop > 0.005  # metres: the lower teeth went down with the jaw
    upper = [reports[f]["objects"]["teeth_upper"]["bounds"][0][2] for f in (1, 5)]
    assert upper[0] == pytest.approx(upper[1], abs=1e-5)  # the upper teeth stay with the skull
    # the eyes turned: the left eye's rotation changed between the frames
    q1, q5 = (np.array(reports[f]["objects"]["eye_left"]["rotation_quaternion"]) for f in (1, 5))
    assert abs(float(np.dot(q1, q5))) < 0.999
    # pixels: skin only with the lips shut; dark cavity and pale teeth inside the open mouth
    shut, wide = _mouth_pixels(tmp_path / "f1.png"), _mouth_pixels(tmp_path / "f5.png")
    skin = np.median(shut, axis=0)
    dark = lambda px: float(np.mean(px.mean(axis=1) < 0.35 * skin.mean()))  # noqa: E731
    assert dark(shut) < 0.02 and dark(wide) > 0.05
    # grey-white (the skin is more saturated): Workbench's studio light gives the teeth ~0.55-0.65 in every channel,
    # above 0.6 only where a flat facet catches a highlight
    pale = lambda px: float(np.mean((px.min(axis=1) > 0.55) & (px.max(axis=1) - px.min(axis=1) < 0.15)))  # noqa: E731
    # the front teeth's crowns (thin edges, gums over the roots, the back teeth shadowed): ~2 % of the pixels
    assert pale(wide) > 0.004 and pale(shut) == 0.0, "no teeth-coloured pixels in the open mouth"


def test_render_checks_its_arguments_before_starting_blender(tmp_path, tiny_rig, monkeypatch):
    from facecraft.rigs.exchange import write_rig_glb

    glb = write_rig_glb(tiny_rig, tmp_path / "r.glb")
    with pytest.raises(ParameterError, match="view: 'side'"):
        render_glb_frame(glb, 0, tmp_path / "x.png", view="side")
    with pytest.raises(ParameterError, match="engine: 'vray'"):
        render_glb_frame(glb, 0, tmp_path / "x.png", engine="vray")
    monkeypatch.setenv("FACECRAFT_BLENDER", str(tmp_path / "no-blender"))
    with pytest.raises(OptionalDependencyError, match="apt-get install blender"):
        render_glb_frame(glb, 0, tmp_path / "x.png")


def test_a_blender_without_numpy_says_what_to_install(tmp_path, tiny_rig, monkeypatch):
    # Debian's blender does not pull in python3-numpy, and its glTF importer cannot run without it.
    from facecraft.rigs.exchange import blender, write_rig_glb

    fake = tmp_path / "blender"
    fake.write_text("#!/bin/sh\necho \"ModuleNotFoundError: No module named 'numpy'\" >&2\nexit 1\n")
    fake.chmod(0o755)
    monkeypatch.setenv("FACECRAFT_BLENDER", str(fake))
    blender.blender_imports_gltf.cache_clear()
    try:
        assert blender.blender_available() and not blender.blender_imports_gltf()
        with pytest.raises(OptionalDependencyError, match="apt-get install python3-numpy"):
            render_glb_frame(write_rig_glb(tiny_rig, tmp_path / "r.glb"), 0, tmp_path / "x.png")
    finally:
        blender.blender_imports_gltf.cache_clear()


@needs_blender
def test_focus_aims_at_the_teeth_and_eyes_of_a_rig_whose_surfaces_are_materials(tmp_path, grid_rig):
    # ICT FaceKit's teeth and eyes are materials of its one mesh, not facecraft's parts: --focus mouth aimed at the
    # whole head's centre and showed the face from the nose up
    from facecraft.rigs import BlendshapeRig
    from facecraft.rigs.surfaces import Region

    faces, neutral = grid_rig.faces.numpy(), grid_rig.neutral.numpy().copy()
    centres = neutral[faces].mean(axis=1)
    low_left = np.nonzero((centres[:, 0] < -0.02) & (centres[:, 1] < -0.02))[0]  # the "teeth": one corner
    high_right = np.nonzero((centres[:, 0] > 0.02) & (centres[:, 1] > 0.02))[0]  # the "eyes": the other
    neutral[np.unique(faces[low_left]), 2] += 0.05  # the mouth stands out of the head's middle, as a face's does
    regions = [Region("teeth", low_left, (0.9, 0.9, 0.85)), Region("eye_white", high_right, (0.95, 0.95, 0.95))]
    rig = BlendshapeRig(neutral, grid_rig.deltas, grid_rig.shape_names, grid_rig.faces, regions=regions)
    glb = write_glb(FaceAnimation(np.zeros((2, 52), np.float32), fps=30.0), tmp_path / "r.glb", rig=rig)
    for focus, tris in (("mouth", low_left), ("eyes", high_right)):
        rep = render_glb_frame(glb, 0, tmp_path / f"{focus}.png", engine="workbench", size=16, zoom=2.0, focus=focus,
                               samples=1)  # fmt: skip
        pts = neutral[np.unique(faces[tris])]
        want = (pts.min(axis=0) + pts.max(axis=0)) / 2  # glTF x, y (up), z (front) -> Blender x, z, -y
        assert rep["target"] == pytest.approx([want[0], -want[2], want[1]], abs=1e-4)


@needs_blender
def test_focus_frames_the_mouth_by_its_width_not_the_whole_heads_height(tmp_path, grid_rig):
    # ICT FaceKit's head (skull and neck) is 1.8 times the default rig's face mask: framed by the head's height, its
    # mouth close-up showed the whole lower face. Two rigs alike but for their teeth's width: the wider, the farther.
    from facecraft.rigs import BlendshapeRig
    from facecraft.rigs.surfaces import Region

    faces, neutral = grid_rig.faces.numpy(), grid_rig.neutral.numpy()
    centres = neutral[faces].mean(axis=1)
    reach = {}
    for half_width in (0.015, 0.04):
        teeth = np.nonzero((np.abs(centres[:, 0]) < half_width) & (centres[:, 1] < -0.02))[0]
        rig = BlendshapeRig(grid_rig.neutral, grid_rig.deltas, grid_rig.shape_names, grid_rig.faces,
                            regions=[Region("teeth", teeth, (0.9, 0.9, 0.85))])  # fmt: skip
        glb = write_glb(FaceAnimation(np.zeros((2, 52), np.float32), fps=30.0), tmp_path / "r.glb", rig=rig)
        rep = render_glb_frame(glb, 0, tmp_path / "m.png", engine="workbench", size=16, focus="mouth", samples=1)
        x = neutral[np.unique(faces[teeth]), 0]
        front = neutral[:, 2].max() + rep["target"][1]  # glTF z: the camera stands off the face's front
        reach[half_width] = (rep["distance"] - front, x.max() - x.min())
    (near, narrow), (far, wide) = reach[0.015], reach[0.04]
    assert far / near == pytest.approx(wide / narrow, rel=1e-3)
