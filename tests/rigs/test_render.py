"""The headless renderer: frames show the mesh, follow weights and pose, reject bad input, release GL."""

from __future__ import annotations

import numpy as np
import pytest

from facecraft.rigs import BlendshapeRig, FacecraftError, OptionalDependencyError, ParameterError
from facecraft.rigs import render as render_mod
from facecraft.rigs.render import MeshRenderer, RigRenderer, head_rotation_matrix, vertex_incidence, vertex_normals

SIZE = 96


def _grid(n: int = 17) -> tuple[np.ndarray, np.ndarray]:
    """A face-sized dome (16 cm x 20 cm) with a nose bump at the centre, triangles CCW seen from +Z."""
    xs, ys = np.meshgrid(np.linspace(-0.08, 0.08, n), np.linspace(-0.1, 0.1, n))
    r2 = (xs / 0.08) ** 2 + (ys / 0.1) ** 2
    zs = 0.04 * np.sqrt(np.clip(1.2 - r2, 0, None)) + 0.025 * np.exp(-(xs**2 + ys**2) / 0.0004)
    verts = np.c_[xs.ravel(), ys.ravel(), zs.ravel()].astype(np.float32)
    faces = []
    for r in range(n - 1):
        for c in range(n - 1):
            a, b, d, e = r * n + c, r * n + c + 1, (r + 1) * n + c, (r + 1) * n + c + 1
            faces += [[a, b, e], [a, e, d]]
    return verts, np.asarray(faces, dtype=np.int64)


@pytest.fixture(scope="module")
def dome_rig() -> BlendshapeRig:
    """The dome with a jawOpen (lower third drops 4 cm) and an eyeBlinkLeft (a patch on +X moves forward)."""
    verts, faces = _grid()
    deltas = np.zeros((2, len(verts), 3), np.float32)
    lower = verts[:, 1] < -0.03
    deltas[0, lower, 1] = -0.04 * (-0.03 - verts[lower, 1]) / 0.07
    patch = (verts[:, 0] > 0.02) & (verts[:, 1] > 0.02)
    deltas[1, patch, 2] = 0.01
    return BlendshapeRig(verts, deltas, ["jawOpen", "eyeBlinkLeft"], faces, name="dome")


@pytest.fixture(scope="module")
def renderer(dome_rig):
    with RigRenderer(dome_rig, size=SIZE) as r:
        yield r


def _mask(frame: np.ndarray) -> np.ndarray:
    bg = np.round(np.asarray(render_mod.BACKGROUND) * 255)
    return np.abs(frame.astype(np.int16) - bg).max(axis=2) > 12


def test_frame_shows_the_mesh_inside_the_frame(renderer, dome_rig):
    frame = renderer.render(dome_rig.neutral)
    assert frame.shape == (SIZE, SIZE, 3) and frame.dtype == np.uint8
    mask = _mask(frame)
    assert 0.3 < mask.mean() < 0.9, mask.mean()
    # the camera fit leaves a margin on every side
    assert not (mask[0].any() or mask[-1].any() or mask[:, 0].any() or mask[:, -1].any())
    # shading: the surface is not one flat colour
    assert frame[mask].std(axis=0).max() > 5


def test_deterministic(renderer, dome_rig):
    a = renderer.render_weights({"jawOpen": 0.3})
    b = renderer.render_weights({"jawOpen": 0.3})
    with RigRenderer(dome_rig, size=SIZE) as other:
        c = other.render_weights({"jawOpen": 0.3})
    assert np.array_equal(a, b) and np.array_equal(a, c)


def test_jaw_open_moves_the_chin_down(renderer):
    neutral = _mask(renderer.render_weights({"jawOpen": 0.0}))
    opened = _mask(renderer.render_weights({"jawOpen": 1.0}))
    rows_n, rows_o = np.flatnonzero(neutral.any(1)), np.flatnonzero(opened.any(1))
    assert rows_o.max() >= rows_n.max() + 4  # the chin reaches further down the image
    assert rows_o.min() == rows_n.min()  # the top of the head stays


def test_weights_tensor_dict_and_arkit_agree(renderer, dome_rig):
    arkit = np.zeros(52, np.float32)
    arkit[0], arkit[17] = 0.5, 0.8  # eyeBlinkLeft, jawOpen
    a = renderer.render_arkit(arkit)
    b = renderer.render_weights({"jawOpen": 0.8, "eyeBlink_L": 0.5})
    c = renderer.render_weights(np.array([0.8, 0.5], np.float32))
    assert np.array_equal(a, b) and np.array_equal(b, c)
    assert not np.array_equal(a, renderer.render_weights({"jawOpen": 0.8}))


def test_positive_yaw_turns_the_face_to_its_left(renderer, dome_rig):
    nose = int(dome_rig.neutral[:, 2].argmax())
    front = renderer.render(dome_rig.neutral)
    turned = renderer.render(dome_rig.neutral, pose=(35, 0, 0))
    assert (_mask(front) != _mask(turned)).mean() > 0.02
    x0 = renderer.project(dome_rig.neutral[nose : nose + 1])[0]
    x1 = renderer.project(dome_rig.neutral[nose : nose + 1], pose=(35, 0, 0))[0]
    # the subject's left (+X) is on the image's right
    assert x1[0] > x0[0] + 3
    assert x0 == pytest.approx([SIZE / 2, SIZE / 2], abs=1.5)
    # the projection agrees with the rasteriser: the nose pixel is surface, a point beside the head is not
    assert _mask(turned)[int(x1[1]), int(x1[0])]
    out = renderer.project(np.array([[0.3, 0.0, 0.0]]))[0]
    assert out[0] > SIZE  # far right of the mesh is off-screen


def test_pitch_and_roll_change_the_frame(renderer, dome_rig):
    base = renderer.render(dome_rig.neutral)
    for pose in [(0, 20, 0), (0, 0, 20)]:
        assert not np.array_equal(base, renderer.render(dome_rig.neutral, pose=pose))


def test_winding_is_normalised_and_the_inside_is_dark(dome_rig):
    v, faces = dome_rig.neutral.numpy(), dome_rig.faces.numpy()
    with MeshRenderer(faces, reference=v, size=SIZE) as ccw, MeshRenderer(faces[:, ::-1], reference=v, size=SIZE) as cw:
        assert np.array_equal(ccw.render(v), cw.render(v))
        front = ccw.render(v)
        back = ccw.render(v, pose=(180, 0, 0))  # the inside of the shell faces the camera
    skin = front[_mask(front)].mean(axis=0)
    inside = back[_mask(back)].mean(axis=0)
    assert skin[1] > 100 and inside.sum() < skin.sum() / 2 and inside[0] > inside[1] + 10


def test_face_colors_paint_their_triangles(dome_rig):
    v, faces = dome_rig.neutral.numpy(), dome_rig.faces.numpy()
    centre = (v[faces].mean(axis=1)[:, :2] ** 2).sum(1) < 0.03**2  # triangles near the nose
    blue = (0.1, 0.2, 0.9)
    with MeshRenderer(faces, reference=v, size=SIZE, face_colors=[(np.nonzero(centre)[0], blue)]) as r:
        frame = r.render(v)
    mid = frame[SIZE // 2 - 3 : SIZE // 2 + 3, SIZE // 2 - 3 : SIZE // 2 + 3].reshape(-1, 3).astype(int)
    assert (mid[:, 2] > mid[:, 0] + 40).all()  # blue in the middle
    edge = frame[SIZE // 2, SIZE // 2 - 25].astype(int)
    assert edge[0] > edge[2] + 40  # skin further out
    with pytest.raises(ParameterError, match=r"face_colors\[0\]"):
        MeshRenderer(faces, face_colors=[([len(faces)], blue)])
    with pytest.raises(ParameterError, match="3 floats"):
        MeshRenderer(faces, face_colors=[([0], (1, 0))])


def test_default_rig_open_mouth_shows_a_dark_cavity():
    from facecraft.rigs.default_rig import default_rig

    rig = default_rig()
    assert len(render_mod.mediapipe_openings(rig.faces)) == 2
    assert render_mod.mediapipe_openings(rig.faces[:-1]) == []

    def cavity(frame):
        f = frame.astype(int)
        return (f[..., 0] > 1.8 * f[..., 1] + 5).sum()  # deep red: skin is only ~1.3x redder than green

    with RigRenderer(rig, size=128) as r:
        closed, opened = r.render_weights({}), r.render_weights({"jawOpen": 1.0})
    with RigRenderer(rig, size=128, openings=False, parts=False) as plain:
        skin_only = plain.render_weights({"jawOpen": 1.0})
    assert cavity(opened) > cavity(closed) + 150
    assert cavity(skin_only) < cavity(opened) / 4


def test_default_rig_preview_shows_the_glbs_eyes_teeth_and_tongue():
    """The preview is a client of the GLB's parts: eyeballs that follow eyeLook*, teeth that follow the jaw."""
    from facecraft.rigs.default_rig import default_rig

    def white(frame):  # sclera and teeth: bright and grey, unlike skin (far redder than blue)
        f = frame.astype(int)
        return ((f.min(axis=2) > 120) & (f[..., 0] - f[..., 2] < 40)).sum()

    rig = default_rig()
    with RigRenderer(rig, size=256) as r:
        rest, opened = r.render_weights({}), r.render_weights({"jawOpen": 0.6})
        left = r.render_weights({"eyeLookOutLeft": 1.0, "eyeLookInRight": 1.0})
    with RigRenderer(rig, size=256, parts=False) as plain:
        holes = plain.render_weights({"jawOpen": 0.6})
    assert white(rest) > 30 and white(holes) < 10  # eyeballs where the openings were dark
    assert white(opened) > white(rest) + 30  # teeth in the open mouth
    assert not np.array_equal(left, rest)  # the eyes turn with gaze


def test_default_rig_preview_colours_the_lips_as_the_glb_does():
    """The preview paints the lips' red part (rigs.default_rig.lip_faces) in the GLB's lip colour."""
    from facecraft.rigs.default_rig import default_rig, lip_faces
    from facecraft.rigs.surfaces import LIP_COLOR, face_regions

    rig = default_rig()
    regions = face_regions(rig.faces)
    assert [n for n, _, _ in regions] == ["lips", "brows", "mouth_interior", "eyes"]
    assert np.array_equal(regions[0][1], lip_faces()) and regions[0][2] == LIP_COLOR
    assert face_regions(rig.faces[:-1]) == []
    with RigRenderer(rig, size=256) as r:
        lips = r.render_weights({})
        xy = r.project(rig.neutral.numpy()[[0, 17, 152]]).astype(int)  # upper lip, lower lip, chin
    with RigRenderer(rig, size=256, lips=False) as plain:
        skin = plain.render_weights({})

    def redness(frame, p):
        c = frame[p[1] - 1 : p[1] + 2, p[0] - 1 : p[0] + 2].reshape(-1, 3).astype(float).mean(0)
        return c[0] / max(c[1], 1.0)

    for p in xy[:2]:
        assert redness(lips, p) > redness(skin, p) + 0.1  # redder lips than the same pixels drawn as skin
    assert np.array_equal(lips[xy[2][1], xy[2][0]], skin[xy[2][1], xy[2][0]])  # the chin is skin in both


def test_head_rotation_matrix_convention():
    r = head_rotation_matrix(90, 0, 0)
    assert r @ np.array([0, 0, 1.0]) == pytest.approx([1, 0, 0], abs=1e-12)
    assert head_rotation_matrix(0, 90, 0) @ np.array([0, 0, 1.0]) == pytest.approx([0, -1, 0], abs=1e-12)
    assert head_rotation_matrix(0, 0, 90) @ np.array([0, 1, 0.0]) == pytest.approx([-1, 0, 0], abs=1e-12)
    m = head_rotation_matrix(12, -30, 47)
    assert m @ m.T == pytest.approx(np.eye(3), abs=1e-12) and np.linalg.det(m) == pytest.approx(1.0)


def test_vertex_normals_follow_winding_and_are_smooth():
    verts, faces = _grid(5)
    flat = verts.copy()
    flat[:, 2] = 0
    assert vertex_normals(flat, faces) == pytest.approx(np.tile([0, 0, 1.0], (len(flat), 1)), abs=1e-6)
    assert vertex_normals(flat, faces[:, ::-1])[:, 2] == pytest.approx(-np.ones(len(flat)), abs=1e-6)
    n = vertex_normals(verts, faces)
    assert np.array_equal(n, vertex_normals(verts, faces, incidence=vertex_incidence(faces, len(verts))))
    assert np.linalg.norm(n, axis=1) == pytest.approx(np.ones(len(verts)), abs=1e-5)
    # on the dome, normals at the left edge lean to -X and at the right edge to +X
    assert n[verts[:, 0] < -0.07, 0].max() < 0 < n[verts[:, 0] > 0.07, 0].min()
    # an unused vertex gets a valid default normal
    extra = vertex_normals(np.r_[verts, [[9, 9, 9]]], faces)
    assert extra[-1] == pytest.approx([0, 0, 1])


def test_render_curves_matches_single_frames(renderer):
    curves = np.zeros((5, 52), np.float32)
    curves[:, 17] = np.linspace(0, 1, 5)
    poses = np.zeros((5, 3))
    poses[:, 0] = np.linspace(-20, 20, 5)
    frames = list(renderer.render_curves(curves, head_rotation=poses, chunk=2))
    assert len(frames) == 5
    for i in (0, 3):
        assert np.array_equal(frames[i], renderer.render_arkit(curves[i], pose=poses[i]))
    assert not np.array_equal(frames[0], frames[4])


def test_render_many_follows_vertices_and_poses(renderer, dome_rig):
    v = dome_rig.neutral.numpy()
    meshes = [v, v * np.float32(0.8), v]
    poses = [(0, 0, 0), (0, 0, 0), (25, 0, 0)]
    frames = list(renderer.render_many(meshes, poses=poses))
    assert len(frames) == 3
    assert np.array_equal(frames[0], renderer.render(v))
    assert _mask(frames[1]).sum() < _mask(frames[0]).sum()  # a smaller mesh covers fewer pixels
    assert np.array_equal(frames[2], renderer.render(v, pose=(25, 0, 0)))


def test_bad_input_raises_parameter_error(renderer, dome_rig):
    v = dome_rig.neutral.numpy()
    with pytest.raises(ParameterError, match=r"shape \(289, 3\)"):
        renderer.render(v[:-1])
    with pytest.raises(ParameterError, match="shape"):
        renderer.render(v[:, :2])
    bad = v.copy()
    bad[3, 1] = np.nan
    with pytest.raises(ParameterError, match="finite"):
        renderer.render(bad)
    with pytest.raises(ParameterError, match="pose"):
        renderer.render(v, pose=(1, 2))
    with pytest.raises(ParameterError, match=r"weights must have shape \(2,\)"):
        renderer.render_weights(np.zeros(3))
    with pytest.raises(ParameterError, match=r"\(T, 52\)"):
        renderer.render_curves(np.zeros((4, 51)))
    with pytest.raises(ParameterError, match="head_rotation"):
        renderer.render_curves(np.zeros((4, 52)), head_rotation=np.zeros((3, 3)))
    with pytest.raises(ParameterError, match="faces"):
        MeshRenderer(np.zeros((0, 3), int))
    for size in (0, (10,), (10, 10, 3), (10.5, 10), 9000):
        with pytest.raises(ParameterError, match="size"):
            MeshRenderer(dome_rig.faces, size=size)
    with pytest.raises(ParameterError, match="BlendshapeRig"):
        RigRenderer("not a rig")


def test_mesh_renderer_fits_camera_on_first_frame_and_non_square_size(dome_rig):
    v = dome_rig.neutral.numpy()
    with MeshRenderer(dome_rig.faces.numpy(), size=(80, 48), samples=0) as r:
        with pytest.raises(ParameterError, match="camera is not fitted"):
            r.project(v)
        frame = r.render(v)
        assert frame.shape == (48, 80, 3)
        assert _mask(frame).any()
        # the camera stays put: a shifted mesh lands elsewhere in the image
        shifted = r.render(v + np.array([0.05, 0, 0], np.float32))
        cols = np.flatnonzero(_mask(shifted).any(0)).mean() - np.flatnonzero(_mask(frame).any(0)).mean()
        assert cols > 3


def test_close_releases_and_later_use_fails(dome_rig):
    r = RigRenderer(dome_rig, size=32)
    r.render(dome_rig.neutral)
    r.close()
    assert r.closed
    r.close()  # twice is fine
    with pytest.raises(FacecraftError, match="closed"):
        r.render(dome_rig.neutral)
    with RigRenderer(dome_rig, size=32) as r2:
        pass
    assert r2.closed and r2._ctx is None


def test_two_renderers_side_by_side_do_not_interfere(renderer, dome_rig):
    before = renderer.render_weights({"jawOpen": 0.5})
    with RigRenderer(dome_rig, size=48) as small:
        a = small.render_weights({"jawOpen": 0.5})
        again = renderer.render_weights({"jawOpen": 0.5})
        b = small.render_weights({"jawOpen": 0.5})
    assert np.array_equal(before, again) and np.array_equal(a, b) and a.shape == (48, 48, 3)
    assert np.array_equal(before, renderer.render_weights({"jawOpen": 0.5}))


def test_threads_can_share_a_renderer(renderer):
    from concurrent.futures import ThreadPoolExecutor

    levels = np.linspace(0, 1, 8)
    serial = [renderer.render_weights({"jawOpen": x}) for x in levels]
    with ThreadPoolExecutor(4) as pool:
        parallel = list(pool.map(lambda x: renderer.render_weights({"jawOpen": x}), levels))
    assert all(np.array_equal(a, b) for a, b in zip(serial, parallel, strict=True))


class _FakeContext:
    info = {"GL_RENDERER": "fake"}


def test_context_falls_back_then_names_debian_packages(monkeypatch):
    import moderngl

    calls = []

    def egl_broken(**kwargs):
        calls.append(kwargs.get("backend"))
        if kwargs.get("backend") == "egl":
            raise Exception("no EGL here")
        return _FakeContext()

    monkeypatch.setattr(moderngl, "create_standalone_context", egl_broken)
    assert isinstance(render_mod.create_context(), _FakeContext)
    assert calls == ["egl", None]

    def all_broken(**kwargs):
        raise Exception("no display")

    monkeypatch.setattr(moderngl, "create_standalone_context", all_broken)
    with pytest.raises(OptionalDependencyError, match="libegl1 libegl-mesa0 libgl1-mesa-dri"):
        render_mod.create_context()


def test_transparent_and_double_sided_face_colors(dome_rig):
    """An alpha below 1 blends a group over what is behind it; double-sided groups keep their colour behind."""
    v, faces = dome_rig.neutral.numpy(), dome_rig.faces.numpy()
    centre = np.nonzero((v[faces].mean(axis=1)[:, :2] ** 2).sum(1) < 0.03**2)[0]
    # a copy of the triangles near the nose 5 mm in front of the dome: the overlay
    both = np.concatenate([v, v + np.float32([0, 0, 0.005])])
    layered = np.concatenate([faces, faces[centre] + len(v)])
    overlay = np.arange(len(faces), len(layered))
    blue = (0.1, 0.2, 0.9)
    mid = (slice(SIZE // 2 - 2, SIZE // 2 + 3), slice(SIZE // 2 - 2, SIZE // 2 + 3))

    def centre_rgb(tris, **kwargs):
        with MeshRenderer(tris, reference=both, num_vertices=len(both), size=SIZE, **kwargs) as r:
            return r.render(both)[mid].reshape(-1, 3).astype(float).mean(0)

    skin = centre_rgb(faces)
    opaque = centre_rgb(layered, face_colors=[(overlay, blue)])
    half = centre_rgb(layered, face_colors=[(overlay, blue, 0.5)])
    np.testing.assert_allclose(half, (skin + opaque) / 2, atol=6)  # half way between the skin and the blue
    np.testing.assert_allclose(centre_rgb(layered, face_colors=[(overlay, blue, 0.0)]), skin, atol=1)
    # all blue, seen from behind: the inside is dark red unless the group is double-sided
    everything = np.arange(len(faces))
    with MeshRenderer(faces, reference=v, size=SIZE, face_colors=[(everything, blue)]) as r:
        inside = r.render(v, pose=(180, 0, 0))
    with MeshRenderer(faces, reference=v, size=SIZE, face_colors=[(everything, blue, 1.0, True)]) as r:
        behind = r.render(v, pose=(180, 0, 0))
    assert inside[_mask(inside)].mean(0)[0] > inside[_mask(inside)].mean(0)[2]
    assert behind[_mask(behind)].mean(0)[2] > behind[_mask(behind)].mean(0)[0] + 40
    with pytest.raises(ParameterError, match="alpha"):
        MeshRenderer(faces, face_colors=[(centre, blue, 1.5)])


@pytest.fixture(scope="module")
def ict_rig(shared_dir):
    from facecraft.rigs.ict import load_ict_rig

    folder = shared_dir / "assets" / "ict-facekit" / "FaceXModel"
    if not folder.is_dir():
        pytest.skip(f"ICT FaceKit not present at {folder}")
    return load_ict_rig(folder)


def _ict_eye_samples(rig, frame_of):
    """Grey levels at each eyeball's centre (the iris, seen frontally) and the lightest 7-10 mm to either side of
    it (the white), eyes from the README's vertex ranges of ICT's two eye meshes (not from the rig's regions)."""
    v = rig.neutral.numpy()
    out = []
    with RigRenderer(rig, size=512) as r:
        frame = frame_of(r).astype(float).mean(axis=2)

        def grey(point):
            x, y = np.round(r.project(point[None])[0]).astype(int)
            return frame[y - 1 : y + 2, x - 1 : x + 2].mean()

        for ball in (v[21451:23021], v[23021:24591]):  # left eye, right eye
            c = ball.mean(0)
            sides = [max(grey(c + [s * d, 0, 0]) for d in (0.007, 0.008, 0.009, 0.01)) for s in (1, -1)]
            out.append([grey(c), *sides])
    return np.array(out)  # (eye, [centre, outer side, inner side])


def test_ict_preview_shows_dark_irises_in_white_eyes(ict_rig):
    """ICT's eyes: a white eyeball with a dark iris, not covered by its overlay shells drawn as skin."""
    eyes = _ict_eye_samples(ict_rig, lambda r: r.render_weights({}))
    for iris, *white in eyes:
        assert iris < 90 and min(white) > 100 and min(white) > 1.6 * iris, eyes
    # without its surfaces (as it was), the overlays hide the eyes under skin: the centre is as light as beside it
    plain = BlendshapeRig(ict_rig.neutral, ict_rig.deltas, ict_rig.shape_names, ict_rig.faces, name="plain")
    bare = _ict_eye_samples(plain, lambda r: r.render_weights({}))
    assert (bare[:, 0] > 110).all(), bare


def test_ict_preview_colours_match_its_glb_materials(ict_rig):
    """The renderer draws each ICT region in the colour the GLB gives its material; overlays are see-through."""
    names = [r.name for r in ict_rig.regions]
    assert {"skin", "lips", "eye_white", "iris", "teeth", "gums", "tongue", "eyelashes"} <= set(names)
    with RigRenderer(ict_rig, size=64) as r:
        assert r.color == next(x.color for x in ict_rig.regions if x.name == "skin")
        drawn = {(tuple(rgb), style) for _, _, rgb, style in r._draws}
    assert drawn == {(x.color, (x.alpha, x.double_sided)) for x in ict_rig.regions}
    transparent = [r.name for r in ict_rig.regions if r.alpha < 1]
    assert {"lacrimal_fluid", "eye_blend", "eye_occlusion", "cornea"} <= set(transparent)
