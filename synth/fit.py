"""Fit the default rig to the landmarks of one face: camera, scale, identity offset and ARKit weights.

Why this model: MediaPipe's landmarks are the 468 vertices of the canonical face mesh, the same topology as
the default rig, with x, y in pixels and z (relative depth) on the same scale as x. A scaled-orthographic
camera therefore maps rig vertices (metres) to landmark space by one similarity,

    landmark_i  ~  s * F R (n_i + u_i + (B w)_i) + t,        F = diag(1, -1, -1),

with ``R`` the head rotation in a camera frame that is Y up and faces the viewer along +Z (the rig's own
axes and DESIGN.md's head-pose frame), ``F`` the flip to image axes (x right, y down, z away from the
camera), ``s`` pixels per metre, ``t`` pixels, ``n`` the neutral, ``B`` the 52 ARKit deltas, ``w`` in
[0, 1] and ``u`` the identity offset. Perspective is not modelled: at portrait distances it is a few per
cent of the face and the identity offset absorbs it.

How it is solved (Gauss-Newton on everything at once, a few rounds):

* The camera starts from a weighted Procrustes (Umeyama) fit
  (:func:`facecraft.eval.face_geometry.similarity_fit`) on MediaPipe's own Procrustes points, which barely
  move with expression.
* Each round takes the landmarks back into rig space with the current camera and linearises a small
  correcting similarity (scale, rotation, shift) around the current shape. Camera correction, a smooth
  identity and the ARKit weights are then solved together: the identity is restricted to the lowest
  :data:`IDENTITY_MODES` eigenvectors of the mesh's graph Laplacian (face proportions, not lid or lip
  motion: the mesh's eye and mouth triangles tie lids and lips together) with a ridge that grows with the
  mode's frequency; it and the camera are eliminated in closed form, leaving a box-bounded least-squares
  problem in the weights, solved with :mod:`facecraft.rigs.retarget`'s solvers. Solving jointly matters:
  alternating camera and weights stalls where jawOpen trades against pitch and scale.
* A prior pulls each weight toward ``init_weights`` (MediaPipe's scores) or zero. Channels the landmarks
  cannot see (``eyeLook*``, ``tongueOut``: :data:`~facecraft.rigs.retarget.COPY_BY_NAME`) are held at
  their initial value.
* *Detail*: what the model still misses becomes a Laplacian-smoothed per-vertex offset added to the
  identity, so the fitted mesh reproduces the landmarks to a fraction of a pixel. The residual before this
  step (``expression_residual_px``) says how well rig + smooth identity explain the face.

Measured by :func:`facecraft.synth.bench.bench_fit`.
"""

from __future__ import annotations

import logging
import time
import weakref
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from facecraft.eval.face_geometry import similarity_fit
from facecraft.eval.faces import rotation_to_yaw_pitch_roll
from facecraft.rigs import ARKIT_NAMES, NUM_ARKIT, BlendshapeRig, valid_curves
from facecraft.rigs.errors import ParameterError
from facecraft.rigs.retarget import COPY_BY_NAME, box_qp_admm, polish_active_set

logger = logging.getLogger(__name__)

NUM_MESH_POINTS = 468  # MediaPipe's face mesh; landmarks 468..477 are the irises (not rig vertices)
#: Image axes from the camera frame: x right, y down, z away from the camera (MediaPipe's z grows away).
FLIP = np.diag([1.0, -1.0, -1.0])
#: Scalar Laplacian eigenvectors (constant one excluded) spanning the smooth identity, times 3 axes.
IDENTITY_MODES = 48
#: Default weight prior when MediaPipe's scores are given / when they are not (see :func:`fit_rig`). With
#: scores, 0.3 rather than 0.1 halves what neutral FRLL faces show as eyeWide (0.6 -> 0.3: lid aperture is
#: identity the smooth modes cannot take) while the smile still rises 0.06 -> 0.65 on the smiling photos.
PRIOR_WITH_SCORES = 0.3
PRIOR_WITHOUT_SCORES = 0.01
#: How the prior scales with a shape's own motion: 0 = the same for every shape (big shapes such as jawOpen
#: are then cheap and small ones such as blinks are crushed), 1 = relative to each shape (big shapes are
#: then split into several small ones that mimic them); measured on synthetic faces, 0.5 recovers both.
PRIOR_EXPONENT = 0.5


# ---------------------------------------------------------------------------------------------- result
@dataclass
class RigFit:
    """A rig fitted to one face's landmarks.

    Frames: *rig space* is the rig's own (metres, Y up, face toward +Z, subject's left +X). *Camera* axes
    are X right, Y up, Z toward the viewer, so ``rotation`` maps rig space to camera axes and its yaw,
    pitch and roll follow DESIGN.md (:meth:`head_pose`). *Image* coordinates are pixels, x right, y down.

    Attributes
    ----------
    rotation : np.ndarray
        ``(3, 3)`` float64 head rotation, rig space -> camera axes.
    scale : float
        Pixels per metre (scaled-orthographic camera).
    translation : np.ndarray
        ``(3,)`` float64 pixels: image x, y of the rig's origin and its MediaPipe-style z (larger = farther).
    weights : np.ndarray
        ``(52,)`` float32 ARKit weights in [0, 1], Apple's order.
    identity_offset : np.ndarray
        ``(V, 3)`` float32 metres in rig space, added to the rig's neutral (smooth part + detail).
    residual_px : np.ndarray
        ``(V,)`` float32 image distance in pixels between the projected fitted mesh and each landmark.
    expression_residual_px : float
        Mean image residual in pixels before the detail offset (rig + smooth identity only).
    image_size : tuple of int
        ``(H, W)`` of the photo the landmarks came from.
    seconds : float
        Time the fit took.
    iterations : int
        Camera/expression rounds run.
    rig : BlendshapeRig
        The rig that was fitted (default rig when none was given).
    """

    rotation: np.ndarray
    scale: float
    translation: np.ndarray
    weights: np.ndarray
    identity_offset: np.ndarray
    residual_px: np.ndarray
    expression_residual_px: float
    image_size: tuple[int, int]
    seconds: float
    iterations: int
    rig: BlendshapeRig = field(repr=False)

    @property
    def mean_residual_px(self) -> float:
        """Mean of :attr:`residual_px` in pixels."""
        return float(np.mean(self.residual_px))

    def weight_dict(self, *, threshold: float = 0.0) -> dict[str, float]:
        """``{ARKit name: weight}`` for weights above ``threshold``, Apple's order."""
        return {n: float(v) for n, v in zip(ARKIT_NAMES, self.weights, strict=True) if v > threshold}

    def vertices(self, weights=None) -> np.ndarray:
        """Rig-space vertices with the identity offset: ``(V, 3)`` (or ``(..., V, 3)``) float64 metres.

        ``weights`` ``(52,)`` or ``(..., 52)`` ARKit weights (default: the fitted ones); not clipped, so
        callers may extrapolate on purpose.
        """
        model = _rig_model(self.rig)
        w = self.weights if weights is None else np.asarray(weights, dtype=np.float64)
        if w.shape[-1:] != (NUM_ARKIT,) or not np.all(np.isfinite(w)):
            raise ParameterError(f"weights: expected finite (..., {NUM_ARKIT}) ARKit weights, got shape {w.shape}")
        offsets = np.tensordot(w.astype(np.float64), model.basis, axes=(-1, 0))
        return model.neutral + self.identity_offset.astype(np.float64) + offsets

    def _image_frame(self, vertices) -> np.ndarray:
        v = np.asarray(vertices, dtype=np.float64)
        if v.ndim < 2 or v.shape[-1] != 3 or not np.all(np.isfinite(v)):
            raise ParameterError(f"vertices: expected finite (..., N, 3) rig-space points, got shape {v.shape}")
        return self.scale * v @ (FLIP @ self.rotation).T + self.translation

    def project(self, vertices) -> np.ndarray:
        """Image positions ``(..., N, 2)`` float64 pixels of rig-space points ``(..., N, 3)`` in metres."""
        return self._image_frame(vertices)[..., :2]

    def depth(self, vertices) -> np.ndarray:
        """Depth toward the camera ``(..., N)`` in pixels (larger = nearer; for z-ordering)."""
        return -self._image_frame(vertices)[..., 2]

    def displacement_px(self, weights) -> np.ndarray:
        """Image motion ``(..., V, 2)`` in pixels of every vertex when the weights change from the fitted
        ones to ``weights`` ``(..., 52)`` (the identity cancels; the face's own axes are respected)."""
        return self.project(self.vertices(weights)) - self.project(self.vertices())

    def head_pose(self) -> np.ndarray:
        """Yaw, pitch, roll ``(3,)`` float32 degrees of :attr:`rotation` (DESIGN.md's convention)."""
        return rotation_to_yaw_pitch_roll(self.rotation)


# ---------------------------------------------------------------------------------------------- rig data
@dataclass
class _RigModel:
    """Per-rig arrays the fit needs, in float64: built once per rig object (rigs are treated as immutable)."""

    neutral: np.ndarray  # (V, 3)
    basis: np.ndarray  # (52, V, 3) ARKit-ordered deltas (zeros where the rig lacks a shape)
    modes: np.ndarray  # (3V, 3M) orthonormal low-frequency fields: scalar Laplacian modes times the 3 axes
    mode_freq: np.ndarray  # (M,) Laplacian eigenvalues relative to the first kept one (>= 1)
    umbrella: sp.csr_matrix  # (V, V) I - mean of neighbours
    stable_ids: np.ndarray  # MediaPipe's Procrustes landmarks
    stable_weights: np.ndarray
    detail_solvers: dict = field(default_factory=dict)  # smoothness weight -> factorised solve


_MODELS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _rig_model(rig: BlendshapeRig) -> _RigModel:
    model = _MODELS.get(rig)
    if model is None:
        model = _build_rig_model(rig)
        _MODELS[rig] = model
    return model


def _build_rig_model(rig: BlendshapeRig) -> _RigModel:
    from facecraft.rigs.mediapipe_mesh import canonical_mesh

    neutral = rig.neutral.detach().double().cpu().numpy()
    deltas = rig.deltas.detach().double().cpu().numpy()
    amap = rig.arkit_matrix().double().numpy()  # (52, K)
    basis = np.tensordot(amap, deltas, axes=(1, 0))
    faces = rig.faces.detach().cpu().numpy()
    v = len(neutral)
    edges = np.concatenate([faces[:, [0, 1]], faces[:, [1, 2]], faces[:, [2, 0]]])
    adj = sp.coo_matrix((np.ones(len(edges)), (edges[:, 0], edges[:, 1])), shape=(v, v))
    adj = ((adj + adj.T) > 0).astype(np.float64).tocsr()
    deg = np.asarray(adj.sum(1)).ravel()
    if np.any(deg == 0):
        raise ParameterError(f"rig {rig.name!r}: {int((deg == 0).sum())} vertices belong to no triangle")
    lap = sp.diags(deg) - adj
    evals, evecs = np.linalg.eigh(lap.toarray())
    if evals[1] <= 1e-9 * evals[-1]:
        raise ParameterError(f"rig {rig.name!r}: the mesh falls apart into pieces; fitting needs one connected face")
    keep = slice(1, IDENTITY_MODES + 1)  # mode 0 is a translation: the camera owns it
    mesh = canonical_mesh()
    return _RigModel(
        neutral=neutral, basis=basis, mode_freq=evals[keep] / evals[1],
        modes=np.einsum("vm,ab->vamb", evecs[:, keep], np.eye(3)).reshape(3 * v, -1),
        umbrella=(sp.eye(v) - sp.diags(1.0 / deg) @ adj).tocsr(),
        stable_ids=np.asarray(mesh.procrustes_ids, dtype=np.int64),
        stable_weights=np.asarray(mesh.procrustes_weights, dtype=np.float64),
    )  # fmt: skip


def _detail_solver(model: _RigModel, smooth: float):
    """Factorised solve with ``I + smooth * U'U`` (``U`` the umbrella operator), cached on the rig's model."""
    solver = model.detail_solvers.get(smooth)
    if solver is None:
        u = model.umbrella
        solver = spla.factorized((sp.eye(u.shape[0]) + smooth * (u.T @ u)).tocsc())
        if len(model.detail_solvers) > 8:
            model.detail_solvers.clear()
        model.detail_solvers[smooth] = solver
    return solver


# ---------------------------------------------------------------------------------------------- solvers
def _box_qp(gram: np.ndarray, c: np.ndarray, x0: np.ndarray) -> np.ndarray:
    """``argmin 1/2 x'Mx - c'x`` over ``0 <= x <= 1`` with the retarget solvers (closed form, active set, ADMM)."""
    x = np.linalg.solve(gram, c)
    if np.all((x >= -1e-9) & (x <= 1 + 1e-9)):
        return np.clip(x, 0.0, 1.0)
    out, ok = polish_active_set(gram, c[None], np.clip(x0, 0.0, 1.0)[None])
    if ok[0]:
        return out[0]
    evals, evecs = np.linalg.eigh(gram)
    z = box_qp_admm(evals, evecs, c[None], iterations=500, init=np.clip(x0, 0.0, 1.0)[None])
    out, ok = polish_active_set(gram, c[None], z)
    if not ok[0]:
        logger.debug("fit_rig: box QP not proven optimal; using the ADMM iterate")
        return z[0]
    return out[0]


def _similarity_jacobian(x: np.ndarray) -> np.ndarray:
    """``(3V, 7)`` derivative of ``(1 + ds) R(dr) x + dt`` at zero: columns ds, dr (3), dt (3)."""
    v = len(x)
    jac = np.zeros((v, 3, 7))
    jac[:, :, 0] = x
    for k in range(3):
        axis = np.zeros(3)
        axis[k] = 1.0
        jac[:, :, 1 + k] = np.cross(axis, x)
        jac[:, k, 4 + k] = 1.0
    return jac.reshape(3 * v, 7)


def _rotvec_to_matrix(r: np.ndarray) -> np.ndarray:
    """Rotation matrix of a rotation vector (Rodrigues)."""
    angle = float(np.linalg.norm(r))
    if angle < 1e-12:
        return np.eye(3)
    k = r / angle
    kx = np.array([[0, -k[2], k[1]], [k[2], 0, -k[0]], [-k[1], k[0], 0]])
    return np.eye(3) + np.sin(angle) * kx + (1 - np.cos(angle)) * kx @ kx


def _bounded_least_squares(ata, atb, eta, etb, ete, lam, w_prior, w_start, *, l1=0.0):
    """``min |A w + E z - b|^2 + sum lam (w - w_prior)^2 + l1 . w (+ z'Rz)`` over ``0 <= w <= 1``, ``z`` free.

    Given in normal-equation blocks: ``ata = A'A``, ``atb = A'b``, ``eta = E'A``, ``etb = E'b`` and
    ``ete = E'E + R``. ``z`` is eliminated in closed form (Schur complement), leaving a box QP in ``w`` for
    :func:`_box_qp`. Returns ``w`` and ``z``.
    """
    chol = np.linalg.cholesky(ete)
    inv_e = np.linalg.solve(chol.T, np.linalg.solve(chol, np.concatenate([eta, etb[:, None]], 1)))
    ea, eb = inv_e[:, :-1], inv_e[:, -1]  # (E'E + R)^-1 E'A, (E'E + R)^-1 E'b
    gram = ata - eta.T @ ea + np.diag(lam)
    c = atb - eta.T @ eb + lam * w_prior - 0.5 * l1
    w = _box_qp(gram, c, w_start)
    return w, eb - ea @ w


# ---------------------------------------------------------------------------------------------- inputs
def _valid_landmarks(landmarks_px) -> np.ndarray:
    try:
        lm = np.asarray(landmarks_px, dtype=np.float64)
    except (TypeError, ValueError) as e:
        raise ParameterError(f"landmarks_px: not a numeric array ({e})") from e
    if lm.ndim != 2 or lm.shape[0] not in (NUM_MESH_POINTS, NUM_MESH_POINTS + 10) or lm.shape[1] != 3:
        raise ParameterError(
            f"landmarks_px: expected MediaPipe landmarks (478, 3) or (468, 3) (x, y pixels, z), got shape {lm.shape}"
        )
    if not np.all(np.isfinite(lm)):
        raise ParameterError("landmarks_px: contains NaN or infinite values")
    lm = lm[:NUM_MESH_POINTS]
    spread = float(np.ptp(lm[:, :2], axis=0).max())
    if spread < 4.0:
        raise ParameterError(f"landmarks_px: the face spans {spread:.2f} px; expected at least 4 px")
    return lm


def _valid_image_size(image_size) -> tuple[int, int]:
    try:
        h, w = (int(v) for v in image_size)
        ok = all(float(v) == int(v) for v in image_size)
    except (TypeError, ValueError):
        raise ParameterError(f"image_size: expected (H, W) positive integers, got {image_size!r}") from None
    if not ok or h < 1 or w < 1:
        raise ParameterError(f"image_size: expected (H, W) positive integers, got {image_size!r}")
    return h, w


def _check_number(label: str, value: float, *, positive: bool = False) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ParameterError(f"{label}: expected a number, got {value!r}") from None
    if not np.isfinite(v) or v < 0 or (positive and v == 0):
        raise ParameterError(f"{label}: expected a finite number {'> 0' if positive else '>= 0'}, got {value!r}")
    return v


# ---------------------------------------------------------------------------------------------- fit
def fit_rig(
    landmarks_px,
    image_size: Sequence[int],
    *,
    rig: BlendshapeRig | None = None,
    init_weights=None,
    prior: float | None = None,
    sparsity: float = 0.0,
    identity: float = 0.1,
    detail: float = 1.0,
    fixed: Sequence[str] = COPY_BY_NAME,
    iterations: int = 30,
    tol: float = 1e-4,
) -> RigFit:
    """Fit ``rig`` (default: the default rig) to one face's MediaPipe landmarks.

    Parameters
    ----------
    landmarks_px : array-like
        ``(478, 3)`` or ``(468, 3)``: x, y in pixels, z MediaPipe's relative depth on the scale of x (larger
        = farther), as :class:`facecraft.eval.faces.FaceInfo` gives them. Iris points (468..477) are ignored.
    image_size : (H, W)
        Size of the photo in pixels (kept on the result for the editor).
    rig : BlendshapeRig, optional
        A rig on MediaPipe's 468-vertex topology with ARKit-named shapes (missing shapes stay at 0).
    init_weights : array-like, optional
        ``(52,)`` ARKit weights in [0, 1] (MediaPipe's blendshape scores) that start and regularise the fit;
        default zeros.
    prior : float, optional
        Pull of each weight toward ``init_weights`` (or zero): a ridge of ``prior`` times the squared motion
        of a typical shape, scaled per shape by ``(own / typical) ** PRIOR_EXPONENT``. Default
        :data:`PRIOR_WITH_SCORES` when ``init_weights`` is given (an informed prior), else
        :data:`PRIOR_WITHOUT_SCORES` (a ridge for conditioning only).
    sparsity : float
        L1 pull toward zero in the same units (0 = off); favours few active channels when no scores exist.
    identity : float
        Ridge on the smooth identity modes relative to the data (times each mode's relative Laplacian
        eigenvalue). Larger keeps more of a face's shape difference in the expression weights.
    detail : float
        Smoothness of the final per-vertex detail offset (umbrella Laplacian weight); 0 reproduces every
        landmark exactly.
    fixed : names
        ARKit channels held at ``init_weights`` (gaze and tongue by default: landmarks cannot see them).
    iterations : int
        Most camera/expression rounds; stops earlier when no weight moves more than ``tol``.
    tol : float
        Convergence threshold on weight change per round.

    Returns
    -------
    RigFit

    Raises
    ------
    ParameterError
        Landmarks not ``(478|468, 3)``, not finite or degenerate; a bad image size, rig, weight vector,
        channel name or option.
    """
    t0 = time.perf_counter()
    lm = _valid_landmarks(landmarks_px)
    hw = _valid_image_size(image_size)
    if rig is None:
        from facecraft.rigs.default_rig import default_rig

        rig = default_rig()
    if not isinstance(rig, BlendshapeRig) or rig.num_vertices != NUM_MESH_POINTS:
        got = rig.num_vertices if isinstance(rig, BlendshapeRig) else type(rig).__name__
        raise ParameterError(f"rig: expected a BlendshapeRig on MediaPipe's {NUM_MESH_POINTS}-vertex mesh, got {got}")
    w0 = np.zeros(NUM_ARKIT) if init_weights is None else valid_curves(init_weights, name="init_weights")
    if w0.shape != (NUM_ARKIT,):
        raise ParameterError(f"init_weights: expected ({NUM_ARKIT},) ARKit weights, got shape {w0.shape}")
    w0 = np.clip(w0.astype(np.float64), 0.0, 1.0)
    if prior is None:
        prior = PRIOR_WITHOUT_SCORES if init_weights is None else PRIOR_WITH_SCORES
    prior = _check_number("prior", prior)
    sparsity = _check_number("sparsity", sparsity)
    identity = _check_number("identity", identity, positive=True)
    detail = _check_number("detail", detail)
    tol = _check_number("tol", tol)
    if not isinstance(iterations, int | np.integer) or iterations < 1:
        raise ParameterError(f"iterations: expected an integer >= 1, got {iterations!r}")
    unknown = [n for n in fixed if n not in ARKIT_NAMES]
    if unknown:
        raise ParameterError(f"fixed: unknown ARKit names {unknown}; expected names such as 'eyeLookInLeft'")

    model = _rig_model(rig)
    v = NUM_MESH_POINTS
    basis = model.basis.reshape(NUM_ARKIT, -1)  # (52, 3V)
    norms2 = (basis**2).sum(1)
    free = np.array([n not in set(fixed) for n in ARKIT_NAMES]) & (norms2 > 1e-12 * norms2.max())
    a = basis[free].T  # (3V, Kf)
    unit = float(np.mean(norms2[free]))  # squared motion of a typical shape: the prior's unit
    rel = (norms2[free] / unit) ** PRIOR_EXPONENT
    lam = (prior + 1e-9) * unit * rel
    l1 = sparsity * unit * rel
    # Smooth identity: scalar modes times the three axes, ridge growing with frequency.
    u_id = model.modes
    n_modes = u_id.shape[1] // 3
    ridge = np.concatenate([np.repeat(identity * model.mode_freq, 3), np.full(7, 1e-9)])
    ata, uta = a.T @ a, u_id.T @ a  # the identity block of E'E is the identity matrix (orthonormal modes)

    # Camera from MediaPipe's stable points on the initial shape.
    w = w0.copy()
    shape = model.neutral + np.tensordot(w, model.basis, axes=(0, 0))
    ids = model.stable_ids
    s, q, t = similarity_fit(shape[ids], lm[ids], model.stable_weights)
    coef = np.zeros(3 * n_modes)
    rounds = 0
    for rounds in range(1, int(iterations) + 1):  # noqa: B007 - the count is reported
        # Gauss-Newton on everything at once, in rig space (residual = image residual / s): the model
        # n + B w + U c, moved by a small similarity (scale ds, rotation dr, shift dt) of the current shape.
        y = ((lm - t) @ q / s).ravel()
        cam = _similarity_jacobian(shape)  # (3V, 7); with the identity modes, E = [U, cam] (unbounded)
        b = y - model.neutral.ravel() - basis[~free].T @ w0[~free]
        utc = u_id.T @ cam
        ete = np.block([[np.eye(len(uta)), utc], [utc.T, cam.T @ cam]]) + np.diag(ridge)
        eta = np.concatenate([uta, cam.T @ a])
        etb = np.concatenate([u_id.T @ b, cam.T @ b])
        w_free, z = _bounded_least_squares(ata, a.T @ b, eta, etb, ete, lam, w0[free], w[free], l1=l1)
        change = float(np.abs(w_free - w[free]).max())
        w[free] = w_free
        coef = z[: 3 * n_modes]
        ds, dr, dt = z[-7], z[-6:-3], z[-3:]
        rot = _rotvec_to_matrix(dr)
        # s Q (1 + ds) rot X + s Q dt + t: compose into the camera.
        t = t + s * (q @ dt)
        s, q = s * (1.0 + ds), q @ rot
        shape = model.neutral + np.tensordot(w, model.basis, axes=(0, 0)) + (u_id @ coef).reshape(v, 3)
        if s <= 0:
            raise ParameterError("landmarks_px: degenerate landmarks (fitted scale is not positive)")
        if change < tol and max(abs(ds), float(np.abs(dr).max())) < 1e-6 and rounds > 1:
            break
    ident = u_id @ coef
    rotation = FLIP @ q  # image axes -> camera axes (FLIP is its own inverse)
    fit = RigFit(
        rotation=rotation, scale=float(s), translation=t, weights=w.astype(np.float32),
        identity_offset=ident.reshape(v, 3).astype(np.float32), residual_px=np.zeros(v, np.float32),
        expression_residual_px=0.0, image_size=hw, seconds=0.0, iterations=rounds, rig=rig,
    )  # fmt: skip
    fit.expression_residual_px = float(np.linalg.norm(fit.project(fit.vertices()) - lm[:, :2], axis=1).mean())
    # Detail: the rest, in rig space, smoothed.
    rest = (lm - t) @ q / s - fit.vertices()
    if detail > 0:
        solve = _detail_solver(model, detail)
        rest = np.stack([solve(rest[:, k]) for k in range(3)], axis=1)
    fit.identity_offset = (ident.reshape(v, 3) + rest).astype(np.float32)
    fit.residual_px = np.linalg.norm(fit.project(fit.vertices()) - lm[:, :2], axis=1).astype(np.float32)
    fit.seconds = time.perf_counter() - t0
    logger.debug(
        "fit_rig: %d rounds, %.1f ms, residual %.2f px (%.2f px before detail)",
        rounds, 1000 * fit.seconds, fit.mean_residual_px, fit.expression_residual_px,
    )  # fmt: skip
    return fit
