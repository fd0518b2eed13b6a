"""Headless shaded rendering of face meshes and rigs with moderngl (OpenGL 3.3 core, offscreen).

The renderer runs on any machine with an EGL driver (Mesa's llvmpipe software rasteriser is enough): it
asks moderngl for a standalone EGL context and falls back to moderngl's default standalone context.
Frames are shaded with smooth per-vertex normals recomputed from the deformed vertices every frame,
a key and a fill light (Lambert), a little Blinn-Phong specular and a soft rim, drawn with 4x MSAA on a
dark background and read back as ``uint8 (H, W, 3)`` RGB, row 0 at the top. The inside of an open shell
(seen through holes or from behind) is shaded a dark red, and chosen triangles can take their own colour:
rigs on the MediaPipe topology (the default rig) get a dark mouth cavity and dark eyes that way, and a rig
with its own surfaces (``rig.regions``, e.g. ICT FaceKit's eyes, teeth and lashes) gets theirs, its
transparent overlays (alpha below 1) blended over the opaque surfaces, which are drawn first.

Conventions (the project's): metres, Y up, the face looking toward +Z. The camera looks down -Z at the
centre of the reference mesh's bounding box, so the subject's left (+X) is on the image's right. Head pose
is ``(yaw, pitch, roll)`` in degrees applied about the bounding-box centre as ``R = Ry(yaw) Rx(pitch)
Rz(roll)`` (right-handed): positive yaw turns the face to its left (toward +X), positive pitch tips the
face down, positive roll tilts the top of the head toward the subject's right (-X).

pytorch3d is not used: it is an optional, differentiable alternative that this module does not need.
"""

from __future__ import annotations

import functools
import logging
import math
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

import numpy as np
import torch

from .arkit import ARKIT_NAMES
from .blendshape_rig import BlendshapeRig
from .errors import FacecraftError, OptionalDependencyError, ParameterError
from .geometry import vertex_incidence, vertex_normals
from .surfaces import EYE_COLOR, INTERIOR_COLOR, LIP_COLOR, SKIN_COLOR, face_regions, mediapipe_openings  # noqa: F401 - re-exported

logger = logging.getLogger(__name__)

BACKGROUND: tuple[float, float, float] = (0.09, 0.10, 0.12)
DEBIAN_GL_PACKAGES = "libegl1 libegl-mesa0 libgl1-mesa-dri"

_VERTEX_SHADER = """
#version 330
uniform mat4 u_view_proj;
uniform mat4 u_model;
in vec3 in_pos;
in vec3 in_normal;
out vec3 v_normal;
out vec3 v_world;
void main() {
    vec4 world = u_model * vec4(in_pos, 1.0);
    v_world = world.xyz;
    v_normal = mat3(u_model) * in_normal;
    gl_Position = u_view_proj * world;
}
"""

_FRAGMENT_SHADER = """
#version 330
uniform vec3 u_color;
uniform float u_alpha;
uniform bool u_two_sided;
uniform vec3 u_interior;
uniform vec3 u_eye;
uniform vec3 u_key_dir;
uniform vec3 u_fill_dir;
in vec3 v_normal;
in vec3 v_world;
out vec4 f_color;
void main() {
    vec3 n = normalize(v_normal);
    vec3 base = u_color;
    if (!gl_FrontFacing) {  // the inside of the shell, seen through the mouth or the eyes
        n = -n;
        if (!u_two_sided) base = u_interior;
    }
    vec3 v = normalize(u_eye - v_world);
    float key = max(dot(n, u_key_dir), 0.0);
    float fill = max(dot(n, u_fill_dir), 0.0);
    vec3 h = normalize(u_key_dir + v);
    float spec = pow(max(dot(n, h), 0.0), 40.0) * 0.18;
    float rim = pow(1.0 - max(dot(n, v), 0.0), 3.0) * 0.18;
    vec3 c = base * (0.20 + 0.72 * key + 0.22 * fill) + vec3(spec) + rim * vec3(0.55, 0.65, 0.85);
    f_color = vec4(clamp(c, 0.0, 1.0), u_alpha);
}
"""


# ---------------------------------------------------------------------------------------------- geometry
def _winding_is_inward(vertices: np.ndarray, faces: np.ndarray, center: np.ndarray) -> bool:
    """True when triangle normals point toward ``center`` overall (a signed-volume test, area-weighted).

    Works for closed heads and for open face shells (which lie in front of their bounding-box centre).
    """
    v = vertices.astype(np.float64)
    a, b, c = v[faces[:, 0]], v[faces[:, 1]], v[faces[:, 2]]
    fn = np.cross(b - a, c - a)
    return float(np.einsum("ij,ij->", fn, (a + b + c) / 3 - center)) < 0


def head_rotation_matrix(yaw: float = 0.0, pitch: float = 0.0, roll: float = 0.0) -> np.ndarray:
    """Rotation ``(3, 3)`` float64 for a head pose in degrees: ``Ry(yaw) @ Rx(pitch) @ Rz(roll)``.

    Right-handed about +Y, +X, +Z: positive yaw turns a +Z-facing face toward +X (the subject's left),
    positive pitch tips it down, positive roll tilts the top of the head toward -X (the subject's right).
    """
    y, p, r = (math.radians(float(a)) for a in (yaw, pitch, roll))
    cy, sy, cp, sp, cr, sr = math.cos(y), math.sin(y), math.cos(p), math.sin(p), math.cos(r), math.sin(r)
    ry = np.array([[cy, 0, sy], [0, 1, 0], [-sy, 0, cy]])
    rx = np.array([[1, 0, 0], [0, cp, -sp], [0, sp, cp]])
    rz = np.array([[cr, -sr, 0], [sr, cr, 0], [0, 0, 1]])
    return ry @ rx @ rz


def _perspective(fov_y_deg: float, aspect: float, near: float, far: float) -> np.ndarray:
    f = 1.0 / math.tan(math.radians(fov_y_deg) / 2)
    m = np.zeros((4, 4))
    m[0, 0], m[1, 1] = f / aspect, f
    m[2, 2], m[2, 3] = (far + near) / (near - far), 2 * far * near / (near - far)
    m[3, 2] = -1.0
    return m


def _frame_size(size) -> tuple[int, int]:
    """``(width, height)`` from an int or a pair, each 1..8192 pixels."""
    pair = (int(size),) * 2 if isinstance(size, int | np.integer) else tuple(np.ravel(size).tolist())
    if len(pair) != 2 or not all(isinstance(x, int) and 1 <= x <= 8192 for x in pair):
        raise ParameterError(f"size must be an int or (width, height), 1..8192 pixels each; got {size!r}")
    return int(pair[0]), int(pair[1])


def _pose3(pose: Sequence[float] | None) -> tuple[float, float, float]:
    if pose is None:
        return (0.0, 0.0, 0.0)
    p = np.asarray(pose, dtype=np.float64).ravel()
    if p.shape != (3,) or not np.all(np.isfinite(p)):
        raise ParameterError(f"pose must be (yaw, pitch, roll) in degrees, 3 finite numbers; got {pose!r}")
    return float(p[0]), float(p[1]), float(p[2])


# ---------------------------------------------------------------------------------------------- context
def create_context() -> Any:
    """A standalone moderngl context: EGL first (headless), then moderngl's default backend.

    Raises :class:`OptionalDependencyError` naming the Debian packages to install when neither works.
    """
    try:
        import moderngl
    except ImportError as e:  # pragma: no cover - moderngl is a core dependency
        raise OptionalDependencyError("the renderer needs the 'moderngl' package: pip install moderngl") from e
    errors = []
    for kwargs in ({"backend": "egl"}, {}):
        try:
            ctx = moderngl.create_standalone_context(require=330, **kwargs)
            logger.info("moderngl context (%s): %s", kwargs.get("backend", "default"), ctx.info["GL_RENDERER"])
            return ctx
        except Exception as e:  # noqa: BLE001 - glcontext raises plain Exception for every backend failure
            errors.append(f"{kwargs.get('backend', 'default')}: {e}")
    raise OptionalDependencyError(
        "no OpenGL 3.3 context could be created for headless rendering (" + "; ".join(errors) + "); "
        f"install an EGL/Mesa driver: sudo apt-get install {DEBIAN_GL_PACKAGES}"
    )


# ---------------------------------------------------------------------------------------------- renderer
def _locked(method):
    """Run a renderer method holding its lock, so threads sharing a renderer take turns on its context."""

    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        with self._lock:
            return method(self, *args, **kwargs)

    return wrapper


class MeshRenderer:
    """Offscreen renderer of one triangle mesh topology whose vertices change every frame.

    Parameters
    ----------
    faces : int array (F, 3)
        Triangles. Counter-clockwise seen from outside is expected; a mesh wound the other way is detected
        on the reference mesh (signed-volume test) and reversed, so its outside is still shaded as skin.
    size : int or (width, height)
        Frame size in pixels (512 gives 512 x 512).
    reference : array (V, 3), optional
        Vertices (metres) the camera is fitted to, normally the neutral mesh. When omitted the first
        rendered mesh is used and the camera then stays fixed.
    num_vertices : int, optional
        Vertex count V of every rendered mesh; by default the reference's, else the largest face index + 1.
    fov : float
        Vertical field of view in degrees.
    margin : float
        Fraction of free space around the reference mesh's larger X/Y extent (0.15 = 15 %). Poses turn the
        mesh about its bounding-box centre; raise the margin (e.g. 0.35) to keep large turns in frame.
    color, interior, background : RGB floats in [0, 1]
        Outside surface (a light skin tone by default), inside of the shell (a dark mouth-cavity red, seen
        through the open mouth or the eyes) and background colours.
    samples : int
        MSAA samples (clamped to what the driver offers; 0 or 1 disables anti-aliasing).
    face_colors : sequence of (triangle indices, RGB[, alpha[, double_sided]])
        Triangles drawn in their own colour instead of ``color``, e.g. the triangles filling the mouth
        and eye openings of a mesh without teeth or eyeballs. Later entries win where they overlap. An alpha
        below 1 (default 1) blends them over the opaque triangles, which are drawn first (no depth writes);
        ``double_sided`` shades their back in their own colour rather than as the inside of the shell.

    The GL context, buffers and framebuffers are created once and reused: each frame only rewrites the
    vertex/normal buffer. Use as a context manager or call :meth:`close`.
    """

    def __init__(
        self,
        faces,
        *,
        size: int | tuple[int, int] = 512,
        reference=None,
        num_vertices: int | None = None,
        fov: float = 20.0,
        margin: float = 0.15,
        color: Sequence[float] = SKIN_COLOR,
        interior: Sequence[float] = INTERIOR_COLOR,
        background: Sequence[float] = BACKGROUND,
        samples: int = 4,
        face_colors: Sequence[tuple[Any, Sequence[float]]] = (),
    ) -> None:
        f = np.asarray(faces.cpu() if torch.is_tensor(faces) else faces)
        if f.ndim != 2 or f.shape[1] != 3 or f.shape[0] == 0 or not np.issubdtype(f.dtype, np.integer):
            raise ParameterError(f"faces must be a non-empty integer array (F, 3), got {f.dtype} {f.shape}")
        if f.min() < 0:
            raise ParameterError(f"faces hold negative vertex indices (min {int(f.min())})")
        w, h = _frame_size(size)
        if not 1.0 < fov < 170.0:
            raise ParameterError(f"fov must be between 1 and 170 degrees, got {fov}")
        if margin < 0:
            raise ParameterError(f"margin must be >= 0, got {margin}")
        if num_vertices is None:
            num_vertices = len(reference) if reference is not None else int(f.max()) + 1
        if int(num_vertices) <= int(f.max()):
            raise ParameterError(f"faces index vertex {int(f.max())} but num_vertices is {num_vertices}")
        self.faces = f.astype(np.int64)
        self.num_vertices = int(num_vertices)
        self._incidence = vertex_incidence(self.faces, self.num_vertices)  # winding-independent
        self._face_color = np.full(len(f), -1, dtype=np.int64)  # -1: skin; k: self._group_colors[k]
        self._group_colors: list[tuple[float, float, float]] = []
        self._group_styles: list[tuple[float, bool]] = []  # (alpha, double-sided) per group
        for k, entry in enumerate(face_colors):
            if not 2 <= len(entry) <= 4:
                raise ParameterError(f"face_colors[{k}]: expected (indices, RGB[, alpha[, double_sided]])")
            idx, rgb, alpha, two_sided = (*entry, *(1.0, False)[len(entry) - 2 :])
            alpha, two_sided = float(alpha), bool(two_sided)
            if not 0.0 <= alpha <= 1.0:
                raise ParameterError(f"face_colors[{k}]: alpha must be in [0, 1], got {alpha}")
            idx = np.asarray(idx, dtype=np.int64).ravel()
            if idx.size and (idx.min() < 0 or idx.max() >= len(f)):
                raise ParameterError(
                    f"face_colors[{k}]: triangle indices must be in [0, {len(f)}), got {idx.min()}..{idx.max()}"
                )
            rgb = tuple(float(c) for c in rgb)
            if len(rgb) != 3:
                raise ParameterError(f"face_colors[{k}]: colour must be 3 floats (RGB), got {rgb}")
            self._face_color[idx] = k
            self._group_colors.append(rgb)
            self._group_styles.append((alpha, two_sided))
        self.size = (w, h)
        self.fov = float(fov)
        self.margin = float(margin)
        self.color = tuple(float(c) for c in color)
        self.interior = tuple(float(c) for c in interior)
        self.background = tuple(float(c) for c in background)
        self._view_proj: np.ndarray | None = None
        self._center = np.zeros(3)
        self._eye = np.zeros(3)
        self._closed = False
        self._ctx = None
        self._lock = threading.RLock()  # one GL context: one thread at a time (e.g. Gradio handlers)
        try:
            self._setup_gl(samples)
        except Exception:
            self.close()
            raise
        if reference is not None:
            self.fit_camera(reference)

    # ------------------------------------------------------------------ GL set-up
    def _setup_gl(self, samples: int) -> None:
        ctx = create_context()
        self._ctx = ctx
        with ctx:  # GL calls go to the current context: make ours current (several renderers may coexist)
            self._setup_objects(samples)

    def _setup_objects(self, samples: int) -> None:
        ctx = self._ctx
        self.gl_renderer = str(ctx.info.get("GL_RENDERER", "unknown"))
        w, h = self.size
        samples = int(min(max(samples, 0), ctx.max_samples))
        self.samples = samples if samples > 1 else 0
        self._prog = ctx.program(vertex_shader=_VERTEX_SHADER, fragment_shader=_FRAGMENT_SHADER)
        self._vbo = ctx.buffer(reserve=self.num_vertices * 6 * 4, dynamic=True)
        self._draws: list[tuple[Any, Any, tuple[float, float, float], tuple[float, bool]]] = []  # ibo, vao, RGB, style
        self._build_draws()
        self._color_rb = ctx.renderbuffer((w, h), 4, samples=self.samples)
        self._depth_rb = ctx.depth_renderbuffer((w, h), samples=self.samples)
        self._fbo = ctx.framebuffer(self._color_rb, self._depth_rb)
        if self.samples:
            self._resolve_rb = ctx.renderbuffer((w, h), 4)
            self._resolve_fbo = ctx.framebuffer(self._resolve_rb)
        else:
            self._resolve_rb = self._resolve_fbo = None
        self._interleaved = np.empty((self.num_vertices, 6), dtype=np.float32)
        self._readback = bytearray(w * h * 3)
        self._prog["u_interior"].value = self.interior
        key = np.array([0.45, 0.55, 1.0])
        fill = np.array([-0.7, -0.1, 0.6])
        self._prog["u_key_dir"].value = tuple(key / np.linalg.norm(key))
        self._prog["u_fill_dir"].value = tuple(fill / np.linalg.norm(fill))

    def _build_draws(self) -> None:
        """One index buffer and vertex array per colour group (skin first), from ``self.faces``; the opaque
        groups before the transparent ones (in their order)."""
        self._release_draws()
        groups = [(self.color, (1.0, False)), *zip(self._group_colors, self._group_styles, strict=True)]
        for k in sorted(range(len(groups)), key=lambda k: groups[k][1][0] < 1.0):  # stable: opaque, then transparent
            rgb, style = groups[k]
            tris = self.faces[self._face_color == k - 1]
            if len(tris) == 0:
                continue
            ibo = self._ctx.buffer(tris.astype(np.uint32).tobytes())
            vao = self._ctx.vertex_array(self._prog, [(self._vbo, "3f 3f", "in_pos", "in_normal")], ibo)
            self._draws.append((ibo, vao, rgb, style))

    def _release_draws(self) -> None:
        for ibo, vao, _, _ in getattr(self, "_draws", []):
            vao.release()
            ibo.release()
        self._draws = []

    # ------------------------------------------------------------------ camera
    @_locked
    def fit_camera(self, reference) -> None:
        """Aim the camera down -Z at the bounding box of ``reference`` ``(V, 3)`` so it fills the frame.

        Also checks the triangles' winding on ``reference``: if they face inward (clockwise seen from
        outside), they are reversed once here, so the outside is always shaded as skin.
        """
        if self._closed:
            raise FacecraftError("this renderer is closed; create a new one")
        v = self._check_vertices(reference, what="reference")
        lo, hi = v.min(0).astype(np.float64), v.max(0).astype(np.float64)
        center = (lo + hi) / 2
        if _winding_is_inward(v, self.faces, center):
            logger.info("triangles wind clockwise seen from outside; reversing them for shading")
            self.faces = np.ascontiguousarray(self.faces[:, ::-1])
            with self._ctx:
                self._build_draws()
        ext = hi - lo
        w, h = self.size
        aspect = w / h
        half_fov = math.radians(self.fov) / 2
        half_h = max(ext[1] / 2, ext[0] / 2 / aspect, 1e-6) * (1 + self.margin)
        dist = half_h / math.tan(half_fov) + ext[2] / 2
        eye = center + np.array([0.0, 0.0, dist])
        view = np.eye(4)
        view[:3, 3] = -eye  # looking down -Z with Y up: the view is a pure translation
        radius = max(float(np.linalg.norm(ext)) / 2, 1e-6)
        near = max(dist - 2 * radius, dist * 1e-3)
        far = dist + 2 * radius
        self._view_proj = _perspective(self.fov, aspect, near, far) @ view
        self._center, self._eye = center, eye
        with self._ctx:
            self._prog["u_view_proj"].write(self._view_proj.T.astype(np.float32).tobytes())
            self._prog["u_eye"].value = tuple(eye)

    def model_matrix(self, pose: Sequence[float] | None = None) -> np.ndarray:
        """``(4, 4)`` head-pose transform: rotation ``pose`` (degrees) about the camera's target point."""
        m = np.eye(4)
        rot = head_rotation_matrix(*_pose3(pose))
        m[:3, :3] = rot
        m[:3, 3] = self._center - rot @ self._center
        return m

    def project(self, vertices, *, pose: Sequence[float] | None = None) -> np.ndarray:
        """Pixel coordinates ``(V, 2)`` (x right, y down, pixel centres at +0.5) of ``vertices`` ``(V, 3)``."""
        v = np.asarray(vertices.detach().cpu() if torch.is_tensor(vertices) else vertices, dtype=np.float64)
        if v.ndim != 2 or v.shape[1] != 3:
            raise ParameterError(f"vertices must be (N, 3), got {v.shape}")
        if self._view_proj is None:
            raise ParameterError("the camera is not fitted yet: pass reference= or call fit_camera() first")
        hom = np.c_[v, np.ones(len(v))] @ (self._view_proj @ self.model_matrix(pose)).T
        ndc = hom[:, :2] / hom[:, 3:4]
        w, h = self.size
        return np.c_[(ndc[:, 0] + 1) / 2 * w, (1 - ndc[:, 1]) / 2 * h]

    # ------------------------------------------------------------------ drawing
    def _check_vertices(self, vertices, *, what: str = "vertices") -> np.ndarray:
        v = vertices.detach().cpu().numpy() if torch.is_tensor(vertices) else np.asarray(vertices)
        if v.ndim != 2 or v.shape != (self.num_vertices, 3):
            raise ParameterError(f"{what} must have shape ({self.num_vertices}, 3) for these faces, got {v.shape}")
        if not np.issubdtype(v.dtype, np.number) or not np.all(np.isfinite(v)):
            raise ParameterError(f"{what} must be finite numbers (dtype {v.dtype})")
        return v.astype(np.float32, copy=False)

    @_locked
    def render(self, vertices, *, pose: Sequence[float] | None = None) -> np.ndarray:
        """Shade one mesh. ``vertices`` ``(V, 3)`` metres; ``pose`` (yaw, pitch, roll) degrees.

        Returns
        -------
        uint8 array (H, W, 3), RGB, row 0 at the top.
        """
        if self._closed:
            raise FacecraftError("this renderer is closed; create a new one")
        v = self._check_vertices(vertices)
        if self._view_proj is None:
            self.fit_camera(v)
        self._interleaved[:, :3] = v
        self._interleaved[:, 3:] = vertex_normals(v, self.faces, incidence=self._incidence)
        ctx = self._ctx
        with ctx:
            self._vbo.write(self._interleaved)
            self._prog["u_model"].write(self.model_matrix(pose).T.astype(np.float32).tobytes())
            self._fbo.use()
            ctx.enable(ctx.DEPTH_TEST)
            ctx.disable(ctx.CULL_FACE)
            self._fbo.clear(*self.background, 1.0, depth=1.0)
            blending = False
            for _, vao, rgb, (alpha, two_sided) in self._draws:
                if alpha < 1.0 and not blending:  # the transparent groups come last: blend, keep the depth
                    blending = True
                    ctx.enable(ctx.BLEND)
                    ctx.blend_func = ctx.SRC_ALPHA, ctx.ONE_MINUS_SRC_ALPHA
                    self._fbo.depth_mask = False
                self._prog["u_color"].value = rgb
                self._prog["u_alpha"].value = alpha
                self._prog["u_two_sided"].value = two_sided
                vao.render()
            if blending:
                ctx.disable(ctx.BLEND)
                self._fbo.depth_mask = True
            src = self._fbo
            if self._resolve_fbo is not None:
                ctx.copy_framebuffer(self._resolve_fbo, self._fbo)
                src = self._resolve_fbo
            src.read_into(self._readback, components=3, alignment=1)
        w, h = self.size
        return np.frombuffer(self._readback, dtype=np.uint8).reshape(h, w, 3)[::-1].copy()

    def render_many(self, vertices: Iterable, *, poses: Iterable | None = None) -> Iterator[np.ndarray]:
        """Frames for a sequence of vertex arrays ``(V, 3)`` (and optional per-frame poses)."""
        pose_iter = iter(poses) if poses is not None else None
        for v in vertices:
            yield self.render(v, pose=next(pose_iter) if pose_iter is not None else None)

    # ------------------------------------------------------------------ lifetime
    @property
    def closed(self) -> bool:
        return self._closed

    @_locked
    def close(self) -> None:
        """Release every GL object and the context (safe to call twice)."""
        if self._ctx is None:
            self._closed = True
            return
        names = ("_vbo", "_fbo", "_resolve_fbo", "_color_rb", "_depth_rb", "_resolve_rb", "_prog")
        with self._ctx:
            self._release_draws()
            for name in names:
                obj = getattr(self, name, None)
                if obj is not None:
                    obj.release()
                    setattr(self, name, None)
        self._ctx.release()
        self._ctx = None
        self._closed = True

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __del__(self) -> None:  # last resort; explicit close() is preferred
        try:
            if getattr(self, "_ctx", None) is not None:
                self.close()
        except Exception:  # noqa: BLE001 - interpreter shutdown may have torn down moderngl already
            pass


class RigRenderer(MeshRenderer):
    """Renderer for a :class:`~facecraft.rigs.BlendshapeRig`, camera fitted to the rig's neutral mesh.

    MediaPipe-topology rigs (the default rig) get the GLB's surface colours (:func:`face_regions`): the lips
    in :data:`LIP_COLOR` (``lips=False`` leaves them skin) and, with ``parts=True`` (the default), the GLB's
    eyeballs, teeth, tongue and mouth cavity (:func:`~facecraft.rigs.face_parts.face_parts`), moved as the GLB moves
    them (morph targets, the eyes turned by ``eyeLook*``); with ``parts=False`` and ``openings=True``, triangles fill
    the mouth and eye openings as a dark cavity and dark eyes instead. A rig with its own surfaces
    (``rig.regions``: ICT FaceKit's skin, eyes, teeth, gums and lashes) is drawn in their colours, as its GLB's
    materials, the transparent ones blended over the rest. Extra keyword options are those of :class:`MeshRenderer`.
    """

    def __init__(
        self, rig: BlendshapeRig, *, openings: bool = True, lips: bool = True, parts: bool = True, **kwargs
    ) -> None:
        if not isinstance(rig, BlendshapeRig):
            raise ParameterError(f"rig must be a BlendshapeRig, got {type(rig).__name__}")
        from .face_parts import face_parts

        self.rig = rig
        self.parts = face_parts(rig) if parts else []
        faces = rig.faces.cpu().numpy()
        kept = np.ones(len(faces), bool)
        if self.parts:  # the parts fill the openings: their filling triangles would hide the eyeballs
            kept[np.concatenate([idx for idx, _ in mediapipe_openings(faces)])] = False
            openings = False
        colours: list = []
        renumber = np.cumsum(kept) - 1  # triangle indices once the openings' are gone
        if "face_colors" not in kwargs and rig.regions:  # the rig's own surfaces (ICT: eyes, teeth, lashes)
            colours = [(renumber[r.triangles[kept[r.triangles]]], r.color, r.alpha, r.double_sided)
                       for r in rig.regions if r.name != "skin"]  # fmt: skip
            skin = next((r.color for r in rig.regions if r.name == "skin"), None)
            if skin is not None:
                kwargs.setdefault("color", skin)
        elif "face_colors" not in kwargs:
            regions = face_regions(rig.faces, openings=openings)
            colours = [(renumber[idx[kept[idx]]], rgb) for name, idx, rgb in regions if lips or name != "lips"]
        faces = faces[kept]
        faces, colours, self._arkit_shapes = self._with_parts(faces, colours)
        kwargs.setdefault("face_colors", colours)
        kwargs.setdefault("reference", self._compose(rig.neutral.detach().cpu().numpy()[None], np.zeros((1, 52)))[0])
        super().__init__(faces, num_vertices=rig.num_vertices + sum(len(p.vertices) for p in self.parts), **kwargs)

    def _with_parts(self, faces: np.ndarray, colours: list) -> tuple[np.ndarray, list, np.ndarray]:
        """The face's triangles and colours followed by each part's, and the rig's ARKit map ``(K, 52)``."""
        offset, all_faces = self.rig.num_vertices, [faces]
        count = len(faces)
        for part in self.parts:
            for surface in part.surfaces:
                all_faces.append(surface.faces + offset)
                colours.append((np.arange(count, count + len(surface.faces)), surface.color))
                count += len(surface.faces)
            offset += len(part.vertices)
        return np.concatenate(all_faces), colours, self.rig.arkit_matrix().numpy().T

    def _compose(self, face: np.ndarray, arkit: np.ndarray) -> np.ndarray:
        """Face vertices ``(B, V, 3)`` with the parts' vertices appended, posed for ARKit weights ``(B, 52)``."""
        if not self.parts:
            return face
        from .animation import eye_rotation_from_curves

        eyes = eye_rotation_from_curves(np.clip(arkit, 0.0, 1.0))
        out = [face]
        for part in self.parts:
            v = np.broadcast_to(part.vertices, (len(face), *part.vertices.shape)).astype(np.float64)
            for name, delta in part.targets.items():
                v = v + arkit[:, ARKIT_NAMES.index(name), None, None] * delta
            if part.eye is not None:
                angles = eyes[:, :3] if part.eye == "left" else eyes[:, 3:]
                v = np.stack([p @ head_rotation_matrix(*a).T for p, a in zip(v, angles, strict=True)])
            out.append((v + part.pivot).astype(face.dtype))
        return np.concatenate(out, axis=1)

    def posed_vertices(self, curves) -> np.ndarray:
        """Vertices ``(T, V, 3)`` of the face and its parts (eyes, teeth, tongue) for ARKit curves ``(T, 52)``, as
        :meth:`render_curves` draws them (before the head's pose); ``V`` is :attr:`num_vertices`."""
        return self._vertices(self.rig.from_arkit(np.atleast_2d(np.asarray(curves, np.float32))))

    @torch.no_grad()
    def _vertices(self, weights: torch.Tensor) -> np.ndarray:
        face = self.rig(weights).vertices.cpu().numpy()
        if not self.parts:
            return face
        w = np.atleast_2d(weights.cpu().numpy() if torch.is_tensor(weights) else np.asarray(weights))
        arkit = np.clip(w @ self._arkit_shapes, 0.0, 1.0)  # (B, 52): the rig's shapes back in ARKit order
        return self._compose(np.atleast_3d(face).reshape(len(w), -1, 3), arkit).reshape((*face.shape[:-2], -1, 3))

    def render_weights(self, weights, *, pose: Sequence[float] | None = None) -> np.ndarray:
        """Frame for the rig's own weights ``(K,)`` or a ``{shape name or ARKit alias: weight}`` mapping."""
        if isinstance(weights, Mapping):
            w = self.rig.weights_from_dict(weights)
        else:
            w = torch.as_tensor(np.asarray(weights.cpu() if torch.is_tensor(weights) else weights), dtype=torch.float32)
            if w.shape != (self.rig.num_shapes,):
                raise ParameterError(
                    f"weights must have shape ({self.rig.num_shapes},) for rig {self.rig.name!r}, got {tuple(w.shape)}"
                )
        return self.render(self._vertices(w), pose=pose)

    def render_arkit(self, weights, *, pose: Sequence[float] | None = None) -> np.ndarray:
        """Frame for one ARKit-ordered weight vector ``(52,)`` (mapped through ``rig.from_arkit``)."""
        w = self.rig.from_arkit(weights)
        if w.ndim != 1:
            raise ParameterError(f"render_arkit takes one (52,) vector, got {tuple(np.shape(weights))}")
        return self.render(self._vertices(w), pose=pose)

    def render_curves(
        self, curves, *, head_rotation=None, chunk: int = 64, progress: bool = False
    ) -> Iterator[np.ndarray]:
        """Frames for ARKit curves ``(T, 52)``, optional head rotation ``(T, 3)`` yaw/pitch/roll degrees.

        A generator: the rig is deformed ``chunk`` frames at a time, so memory stays flat for long takes.
        """
        c = np.asarray(curves.cpu() if torch.is_tensor(curves) else curves, dtype=np.float32)
        if c.ndim != 2 or c.shape[1] != 52:
            raise ParameterError(f"curves must be (T, 52) ARKit weights, got {c.shape}")
        if not np.all(np.isfinite(c)):
            raise ParameterError("curves contain NaN or infinite values")
        poses = None
        if head_rotation is not None:
            poses = np.asarray(head_rotation, dtype=np.float64)
            if poses.shape != (len(c), 3):
                raise ParameterError(f"head_rotation must be ({len(c)}, 3) degrees, got {poses.shape}")
        return self._iter_curves(c, poses, max(int(chunk), 1), progress)

    def _iter_curves(self, c: np.ndarray, poses: np.ndarray | None, chunk: int, progress: bool) -> Iterator[np.ndarray]:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(c), desc="render", unit="frame", disable=not progress)
        try:
            for start in range(0, len(c), chunk):
                verts = self._vertices(self.rig.from_arkit(c[start : start + chunk]))
                for i, v in enumerate(verts):
                    yield self.render(v, pose=None if poses is None else poses[start + i])
                    bar.update(1)
        finally:
            bar.close()

    def render_animation(self, animation, *, progress: bool = False) -> Iterator[np.ndarray]:
        """Frames for a :class:`~facecraft.rigs.animation.FaceAnimation` (its curves and head rotation)."""
        return self.render_curves(
            animation.curves, head_rotation=getattr(animation, "head_rotation", None), progress=progress
        )


def render_rig_frame(rig: BlendshapeRig, weights=None, *, size: int = 512, pose=None) -> np.ndarray:
    """One-shot convenience: a frame of ``rig`` at ``weights`` (rig weights ``(K,)``/mapping, default neutral)."""
    with RigRenderer(rig, size=size) as r:
        return r.render_weights(torch.zeros(rig.num_shapes) if weights is None else weights, pose=pose)
