"""Retarget ARKit-52 animation between rigs by matching the motion of named semantic points.

Why points: two rigs' ``mouthSmileLeft`` rarely move the face the same way or by the same amount, and FLAME
has no named shapes at all. What both rigs share are named semantic points (mouth corners, lip centres,
lids, brows, chin, ...; :data:`facecraft.rigs.SEMANTIC_POINTS`). For each source frame the offsets of those
points from the neutral are taken into a common normalised frame (divided by the rig's face size, so a
10 cm face drives a 20 cm face), and the target's weights are the bounded least-squares fit of the same
offsets on the target:

    min_x || W (A x - b_t) ||^2 + lam ||x||^2 + mu sum_t ||x_t - x_(t-1)||^2,   0 <= x <= 1

with ``A`` ``(3P, K)`` the target's normalised point offsets per shape. Both rigs are assumed to use
facecraft's axes (metres, Y up, face toward +Z, subject's left at +X); only the scale is normalised.

Solvers: frames whose unconstrained ridge solution already lies in [0, 1] take one batched Cholesky
solve; the rest get a few batched ADMM steps and then an exact batched primal-dual active-set polish
(:func:`polish_active_set`); only frames that fail its KKT check go to ``scipy.optimize.lsq_linear``
(BVLS) one at a time. With ``smooth > 0`` the whole sequence is one exact problem
(:func:`smooth_box_qp`, sparse block-tridiagonal active set). Measured by :func:`bench_retarget` (default
rig -> ICT FaceKit, 22 points, 1 thread on the loaded 2-core machine): ~5,000-7,000 frames/s for random
sparse curves, ~10,000 frames/s on the real Live Link take, ~500 frames/s with smoothing.

FLAME has no shapes to copy: :func:`fit_flame_to_points` fits expression coefficients (unbounded, with a
ridge) and the jaw rotation together by batched Gauss-Newton through the posed FLAME model.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import scipy.linalg
import scipy.sparse
import torch
from scipy.optimize import lsq_linear
from tqdm.auto import tqdm

from .arkit import GAZE_CHANNELS, NUM_ARKIT, valid_curves
from .blendshape_rig import BlendshapeRig
from .errors import FacecraftError, ParameterError
from .flame import FlameRig

logger = logging.getLogger(__name__)

SCALINGS = ("isotropic", "axis", "none")
# Copied by name rather than fitted: gaze turns the eyeball, which surface points barely see (and in some
# rigs the lids follow gaze, so a fit would explain blinks with gaze); the tongue has no semantic point.
COPY_BY_NAME: tuple[str, ...] = GAZE_CHANNELS + ("tongueOut",)
_UNOBSERVED = 1e-4  # a target shape whose point motion is below this fraction of the largest is unobserved


# ---------------------------------------------------------------------------------------------- helpers
def face_scale(points: np.ndarray, *, scaling: str = "isotropic") -> np.ndarray:
    """Face size ``(3,)`` (per axis) of neutral semantic points ``(P, 3)``, used to normalise offsets.

    ``"isotropic"``: the RMS distance of the points from their centroid, on all three axes;
    ``"axis"``: the RMS spread along each axis separately (matches faces of other proportions, but
    depth spreads differ between rigs more than widths); ``"none"``: ones (rigs already share a scale).
    """
    p = np.asarray(points, dtype=np.float64)
    if scaling not in SCALINGS:
        raise ParameterError(f"scaling must be one of {SCALINGS}, got {scaling!r}")
    if scaling == "none":
        return np.ones(3)
    if p.ndim != 2 or p.shape[0] < 2 or p.shape[1] != 3:
        raise ParameterError(f"face_scale: need at least 2 points (P, 3), got {p.shape}")
    centred = p - p.mean(0)
    if scaling == "isotropic":
        return np.full(3, np.sqrt((centred**2).sum(1).mean()))
    spread = np.sqrt((centred**2).mean(0))
    if np.any(spread <= 0):
        raise ParameterError(f"face_scale: the points are flat along an axis (spread {spread}); use 'isotropic'")
    return spread


def _point_names(rig) -> list[str]:
    return list(getattr(rig, "point_names", []))


def common_points(source, target, points: Sequence[str] | None = None) -> list[str]:
    """Semantic point names both rigs have (in the target's order), or the given ``points`` after checking."""
    src, tgt = _point_names(source), _point_names(target)
    if points is None:
        names = [n for n in tgt if n in src]
    else:
        names = list(points)
        missing = {n: [r for r, have in (("source", src), ("target", tgt)) if n not in have] for n in names}
        missing = {n: m for n, m in missing.items() if m}
        if missing:
            raise ParameterError(f"retarget points missing from the rigs: {missing}")
    if len(names) < 3:
        raise ParameterError(
            f"retargeting needs >= 3 semantic points shared by both rigs; got {names} "
            f"(source has {src}, target has {tgt})"
        )
    return names


def rig_point_basis(rig: BlendshapeRig, names: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """Neutral semantic points ``(P, 3)`` and each shape's point offsets ``(K, P, 3)``, float64 metres.

    Exact for a linear blendshape rig: a semantic point is a fixed barycentric mix of vertices.
    """
    idx = [rig.point_index(n) for n in names]
    with torch.no_grad():
        neutral = rig.points(rig.neutral)[idx].double().cpu().numpy()
        basis = rig.points(rig.deltas)[:, idx].double().cpu().numpy()
    return neutral, basis


def _point_weight_vector(names: Sequence[str], point_weights: Mapping[str, float] | None) -> np.ndarray:
    w = np.ones(len(names))
    for k, v in (point_weights or {}).items():
        if k not in names:
            raise ParameterError(f"point_weights: {k!r} is not one of the retarget points {list(names)}")
        if not np.isfinite(v) or v < 0:
            raise ParameterError(f"point_weights[{k!r}] must be a finite number >= 0, got {v!r}")
        w[names.index(k)] = float(v)
    return np.repeat(np.sqrt(w), 3)  # one per coordinate, applied to residual rows


# ---------------------------------------------------------------------------------------------- rig -> rig
@dataclass
class RetargetReport:
    """Per-call diagnostics: frames solved in closed form vs by BVLS, and the relative point residual."""

    frames: int
    closed_form_frames: int
    relative_residual: float
    seconds: float


class Retargeter:
    """Retarget weights from ``source`` to ``target``, caching the target's factorisation.

    Parameters
    ----------
    source, target : BlendshapeRig with semantic points
    points : names to match (default: all shared by both rigs; at least 3)
    point_weights : ``{name: weight}`` to emphasise points (default 1 each), e.g. lips for lip sync
    ridge : Tikhonov weight of each target shape relative to its own squared point motion (floored at 1e-3
        of the mean); a shape alone is shrunk by ``1 / (1 + ridge)``; near-duplicate shapes share the work
    smooth : temporal smoothness weight relative to the mean squared point motion of the target's shapes;
        0 = every frame on its own
    scaling : how face sizes are normalised, see :func:`face_scale`
    copy_shapes : target shapes not fitted but copied from the source's shape of the same name (0 if it has
        none); default :data:`COPY_BY_NAME` (eye gaze and tongue)
    copy_unobserved : target shapes that move none of the points also take the source's weight of the same
        name instead of 0

    Call it with ARKit curves ``(T, 52)`` (or ``source_weights=`` in the source's own shape order); it
    returns the target's weights ``(T, K_target)`` in [0, 1], in the target's shape order.
    """

    def __init__(
        self,
        source: BlendshapeRig,
        target: BlendshapeRig,
        *,
        points: Sequence[str] | None = None,
        point_weights: Mapping[str, float] | None = None,
        ridge: float = 1e-3,
        smooth: float = 0.0,
        scaling: str = "isotropic",
        copy_shapes: Sequence[str] = COPY_BY_NAME,
        copy_unobserved: bool = True,
    ) -> None:
        for label, v in (("ridge", ridge), ("smooth", smooth)):
            if not np.isfinite(v) or v < 0:
                raise ParameterError(f"Retargeter: {label} must be a finite number >= 0, got {v!r}")
        self.source, self.target = source, target
        self.points = common_points(source, target, points)
        src_neutral, src_basis = rig_point_basis(source, self.points)
        tgt_neutral, tgt_basis = rig_point_basis(target, self.points)
        self.source_scale = face_scale(src_neutral, scaling=scaling)
        self.target_scale = face_scale(tgt_neutral, scaling=scaling)
        self.row_weights = _point_weight_vector(self.points, point_weights)
        # Normalised, weighted: source (Ks, 3P) maps weights to the targets b; target A (3P, Kt).
        self._src = (src_basis / self.source_scale).reshape(source.num_shapes, -1) * self.row_weights
        a_full = ((tgt_basis / self.target_scale).reshape(target.num_shapes, -1) * self.row_weights).T
        norms = np.linalg.norm(a_full, axis=0)
        copy_mask = np.array([n in set(copy_shapes) for n in target.shape_names], dtype=bool)
        self.observed = np.flatnonzero((norms > _UNOBSERVED * max(norms.max(), 1e-30)) & ~copy_mask)
        unobserved = np.setdiff1d(np.arange(target.num_shapes), self.observed)
        self.copied = {
            int(k): source.shape_names.index(target.shape_names[k])
            for k in unobserved
            if (copy_unobserved or copy_mask[k]) and target.shape_names[k] in source.shape_names
        }
        if len(unobserved):
            logger.info("retarget: target shapes not fitted: %s", [target.shape_names[k] for k in unobserved])
        self.A = a_full[:, self.observed]
        gram = self.A.T @ self.A
        scale = float(np.mean(np.diag(gram))) if len(self.observed) else 1.0
        # Per-shape ridge proportional to the shape's own squared norm at the points (floored at 1e-3 of the
        # mean), so small shapes such as blinks are not shrunk more than big ones.
        self.lam = ridge * np.maximum(np.diag(gram), 1e-3 * scale) + 1e-12 * scale
        self.mu = smooth * scale
        self._gram = gram + np.diag(self.lam)
        self._chol = scipy.linalg.cho_factor(self._gram)
        self._evals, self._evecs = np.linalg.eigh(self._gram)
        self.admm_iterations, self.smooth_iterations = 30, 1000
        self.smooth_chunk, self.smooth_overlap = 2000, 200
        self._a_aug = np.vstack([self.A, np.diag(np.sqrt(self.lam))])
        self.last_report: RetargetReport | None = None

    # ------------------------------------------------------------------ inputs
    def source_offsets(self, source_weights: np.ndarray) -> np.ndarray:
        """Normalised, weighted source point offsets ``(T, 3P)`` for source weights ``(T, K_source)``."""
        return np.asarray(source_weights, dtype=np.float64) @ self._src

    def _source_weights(self, curves, source_weights) -> np.ndarray:
        if (curves is None) == (source_weights is None):
            raise ParameterError("Retargeter: give exactly one of curves (T, 52) or source_weights (T, K_source)")
        if curves is not None:
            c = valid_curves(curves)
            c = c[None] if c.ndim == 1 else c
            return self.source.from_arkit(c).double().numpy()
        w = np.asarray(source_weights, dtype=np.float64)
        w = w[None] if w.ndim == 1 else w
        if w.ndim != 2 or w.shape[1] != self.source.num_shapes or not np.all(np.isfinite(w)):
            raise ParameterError(
                f"Retargeter: source_weights must be finite (T, {self.source.num_shapes}), got shape {w.shape}"
            )
        return w

    # ------------------------------------------------------------------ solve
    def __call__(self, curves=None, *, source_weights=None, progress: bool | None = None) -> np.ndarray:
        """Target weights ``(T, K_target)`` float32 in [0, 1] for ARKit ``curves (T, 52)`` or ``source_weights``."""
        t0 = time.perf_counter()
        w_src = self._source_weights(curves, source_weights)
        b = self.source_offsets(w_src)
        x, closed = self.solve(b, progress=progress)
        out = np.zeros((len(b), self.target.num_shapes))
        out[:, self.observed] = x
        for k, j in self.copied.items():
            out[:, k] = w_src[:, j]
        resid = np.linalg.norm(x @ self.A.T - b) / max(np.linalg.norm(b), 1e-30)
        self.last_report = RetargetReport(len(b), closed, float(resid), time.perf_counter() - t0)
        return np.clip(out, 0.0, 1.0).astype(np.float32)

    def solve(self, b: np.ndarray, *, progress: bool | None = None) -> tuple[np.ndarray, int]:
        """Bounded fit of target offsets ``b (T, 3P)``; returns weights ``(T, K_observed)`` and the number of
        frames solved exactly without BVLS (closed form, or ADMM + active-set polish)."""
        c = b @ self.A  # (T, K) = (A^T b)^T
        x = scipy.linalg.cho_solve(self._chol, c.T).T
        bad = np.flatnonzero(((x < -1e-9) | (x > 1 + 1e-9)).any(1))
        if len(bad):
            x_admm = box_qp_admm(self._evals, self._evecs, c[bad], iterations=self.admm_iterations)
            x[bad], ok = polish_active_set(self._gram, c[bad], x_admm)
            bad = bad[~ok]
        show = len(bad) >= 1000 if progress is None else progress
        zeros = np.zeros(len(self.observed))
        for t in tqdm(bad, desc="retarget (BVLS)", unit="frame", disable=not show):
            x[t] = lsq_linear(self._a_aug, np.concatenate([b[t], zeros]), bounds=(0.0, 1.0), method="bvls").x
        if self.mu > 0 and len(b) > 1:
            return self._smooth(c, x, progress=progress)
        return x, len(b) - len(bad)

    def _smooth(self, c: np.ndarray, x0: np.ndarray, *, progress: bool | None) -> tuple[np.ndarray, int]:
        """Smoothed solution, warm-started from the per-frame one ``x0``. Sequences longer than
        ``smooth_chunk`` frames are solved chunk by chunk, each tied to the last kept frame of the one before
        and looking ``smooth_overlap`` frames ahead (memory stays bounded; the seams are close to, not
        exactly, the whole-sequence optimum)."""
        t_len = len(c)
        x = np.zeros_like(x0)
        exact = 0
        starts = range(0, t_len, self.smooth_chunk)
        show = len(starts) > 3 if progress is None else progress
        for s in tqdm(starts, desc="retarget (smooth)", unit="chunk", disable=not show):
            keep = min(s + self.smooth_chunk, t_len)
            sl = slice(s, min(keep + self.smooth_overlap, t_len))  # look ahead, keep only [s, keep)
            anchor = x[s - 1] if s > 0 else None
            x_s, ok = smooth_box_qp(self._gram, c[sl], x0[sl], smooth=self.mu, anchor=anchor)
            if not ok:
                logger.info("retarget: active-set smoothing did not settle; finishing with ADMM")
                x_s = box_qp_admm(self._evals, self._evecs, c[sl], smooth=self.mu, iterations=self.smooth_iterations,
                                  tol=1e-7, init=x_s)  # fmt: skip
            x[s:keep] = x_s[: keep - s]
            exact += (keep - s) if ok else 0
        return x, exact


def box_qp_admm(
    evals: np.ndarray,
    evecs: np.ndarray,
    c: np.ndarray,
    *,
    smooth: float = 0.0,
    iterations: int = 300,
    rho: float | None = None,
    tol: float = 1e-9,
    init: np.ndarray | None = None,
) -> np.ndarray:
    """Solve ``min sum_t 1/2 x_t' M x_t - c_t' x_t + smooth/2 sum_t |x_t - x_(t-1)|^2`` over ``0 <= x <= 1``.

    All frames at once by ADMM (splitting ``x = z``, ``z`` in the box). ``M = evecs diag(evals) evecs'``
    ``(K, K)`` is given by its eigen-decomposition and ``c`` is ``(T, K)``. The x-step's linear system is
    diagonal in the basis (DCT-II over time) x (eigenvectors of M), because the DCT-II diagonalises the
    temporal difference operator of a sequence with free ends; each iteration therefore costs two
    ``(T, K) x (K, K)`` products and two DCTs. ``init`` ``(T, K)`` warm-starts it. Stops after
    ``iterations`` or when an iteration changes no weight by more than ``tol``. Returns the box-feasible
    iterate ``z`` ``(T, K)``.
    """
    import scipy.fft

    t_len, k = c.shape
    if t_len == 0:
        return np.zeros((0, k))
    if rho is None:  # geometric mean of the spectrum's ends (floored) balances the two ADMM residuals
        top = float(evals.max())
        rho = float(np.sqrt(max(float(evals.min()), 1e-4 * top) * top))
    lap = 2.0 - 2.0 * np.cos(np.pi * np.arange(t_len) / t_len)  # eigenvalues of the path Laplacian
    denom = evals[None, :] + rho + (smooth * lap[:, None] if smooth > 0 else 0.0)

    def x_step(rhs: np.ndarray) -> np.ndarray:
        r = rhs @ evecs
        if smooth > 0:
            r = scipy.fft.dct(r, type=2, norm="ortho", axis=0)
            r = scipy.fft.idct(r / denom, type=2, norm="ortho", axis=0)
        else:
            r = r / denom
        return r @ evecs.T

    z = np.clip(x_step(c) if init is None else init, 0.0, 1.0)
    u = np.zeros_like(z)
    alpha = 1.6  # over-relaxation
    for _ in range(iterations):
        x = x_step(c + rho * (z - u))
        xr = alpha * x + (1 - alpha) * z
        z_new = np.clip(xr + u, 0.0, 1.0)
        u += xr - z_new
        change = np.abs(z_new - z).max()
        z = z_new
        if change < tol and np.abs(x - z).max() < tol:
            break
    return z


def polish_active_set(
    gram: np.ndarray, c: np.ndarray, x: np.ndarray, *, iterations: int = 30, tol: float = 1e-10
) -> tuple[np.ndarray, np.ndarray]:
    """Exact bounded solutions from approximate ones by a batched primal-dual active-set (semismooth
    Newton) iteration on ``min 1/2 x'Mx - c'x, 0 <= x <= 1`` for every frame at once.

    Each round fixes the variables that ``x - s (Mx - c)`` puts at a bound, solves the rest exactly (one
    batched ``(T, K, K)`` solve) and stops for a frame when its sets no longer change and the KKT
    conditions hold. ``gram`` is ``M`` ``(K, K)``, ``c`` and ``x`` are ``(T, K)``. Returns the polished
    ``(T, K)`` and a ``(T,)`` mask of the frames proven optimal (the others keep their input ``x``).
    """
    t_len, k = x.shape
    scale = float(np.mean(np.diag(gram)))
    step = 1.0 / scale
    gtol = tol * max(scale, float(np.abs(c).max(initial=0.0)))
    idx = np.arange(k)
    out = x.copy()
    ok = np.zeros(t_len, dtype=bool)
    cur = np.clip(x, 0.0, 1.0)
    todo = np.arange(t_len)
    prev = None
    for _ in range(iterations):
        if len(todo) == 0:
            break
        xt, ct = cur[todo], c[todo]
        probe = xt - step * (xt @ gram - ct)
        lo, hi = probe <= 0.0, probe >= 1.0
        free = ~(lo | hi)
        mat = np.broadcast_to(gram, (len(todo), k, k)) * (free[:, :, None] & free[:, None, :])
        mat[:, idx, idx] += ~free
        fixed_val = hi.astype(np.float64)
        rhs = np.where(free, ct - fixed_val @ gram, fixed_val)
        sol = np.linalg.solve(mat, rhs[..., None])[..., 0]
        grad = sol @ gram - ct
        good = (
            np.all(~free | ((sol >= -1e-12) & (sol <= 1 + 1e-12)), 1)
            & np.all(~lo | (grad >= -gtol), 1)
            & np.all(~hi | (grad <= gtol), 1)
        )
        out[todo[good]] = np.clip(sol[good], 0.0, 1.0)
        ok[todo[good]] = True
        cur[todo] = sol
        sets = np.concatenate([lo, hi], 1)[~good]
        todo = todo[~good]
        if prev is not None and prev.shape == sets.shape and np.array_equal(prev, sets):
            break  # cycling: leave the rest to the caller
        prev = sets
    return out, ok


def smooth_box_qp(
    gram: np.ndarray,
    c: np.ndarray,
    x0: np.ndarray,
    *,
    smooth: float,
    anchor: np.ndarray | None = None,
    iterations: int = 40,
    tol: float = 1e-10,
) -> tuple[np.ndarray, bool]:
    """``min sum_t 1/2 x_t'Mx_t - c_t'x_t + smooth/2 sum_t |x_t - x_(t-1)|^2`` over ``0 <= x <= 1``, exactly.

    The same primal-dual active-set iteration as :func:`polish_active_set`, on the whole sequence: the
    Hessian ``I (x) M + smooth L (x) I`` is block-tridiagonal, so each round is one sparse LU of the free
    variables (cost linear in ``T``). ``x0`` ``(T, K)`` warm-starts it (the per-frame solution is good).
    ``anchor`` ``(K,)`` adds ``smooth/2 |x_0 - anchor|^2`` (the frame before the sequence, for chunking).
    Returns ``(T, K)`` and whether the KKT conditions were met (else the last iterate, clipped).
    """
    import scipy.sparse.linalg

    t_len, k = c.shape
    lap = scipy.sparse.diags(
        [np.r_[1.0, np.full(t_len - 2, 2.0), 1.0] if t_len > 1 else np.zeros(1), -np.ones(t_len - 1),
         -np.ones(t_len - 1)], [0, 1, -1], shape=(t_len, t_len),
    )  # fmt: skip
    hess = (scipy.sparse.kron(scipy.sparse.eye(t_len), scipy.sparse.csr_matrix(gram)) + smooth * scipy.sparse.kron(
        lap, scipy.sparse.eye(k))).tocsr()  # fmt: skip
    cf = c.ravel()
    if anchor is not None:
        hess = (hess + scipy.sparse.diags(np.r_[np.full(k, smooth), np.zeros((t_len - 1) * k)])).tocsr()
        cf = cf.copy()
        cf[:k] += smooth * np.asarray(anchor, dtype=np.float64)
    scale = float(np.mean(np.diag(gram)))
    gtol = tol * max(scale, float(np.abs(c).max(initial=0.0)))
    x = np.clip(x0, 0.0, 1.0).ravel()
    prev = None
    for _ in range(iterations):
        probe = x - (hess @ x - cf) / (scale + 4 * smooth)
        lo, hi = probe <= 0.0, probe >= 1.0
        free = ~(lo | hi)
        x_new = hi.astype(np.float64)
        h_free = hess[free]
        rhs = cf[free] - h_free[:, hi] @ np.ones(int(hi.sum()))
        if free.any():
            x_new[free] = scipy.sparse.linalg.spsolve(h_free[:, free].tocsc(), rhs)
        grad = hess @ x_new - cf
        x = x_new
        if (
            np.all((x[free] >= -1e-12) & (x[free] <= 1 + 1e-12))
            and np.all(grad[lo] >= -gtol)
            and np.all(grad[hi] <= gtol)
        ):
            return np.clip(x, 0.0, 1.0).reshape(t_len, k), True
        sets = np.concatenate([lo, hi])
        if prev is not None and np.array_equal(prev, sets):
            break
        prev = sets
    return np.clip(x, 0.0, 1.0).reshape(t_len, k), False


def retarget_curves(
    curves,
    source: BlendshapeRig,
    target: BlendshapeRig,
    *,
    points: Sequence[str] | None = None,
    ridge: float = 1e-3,
    smooth: float = 0.0,
    scaling: str = "isotropic",
) -> np.ndarray:
    """Retarget ARKit ``curves (T, 52)`` from ``source`` to ``target``: weights ``(T, K_target)`` in [0, 1].

    One-off convenience around :class:`Retargeter` (build that once to retarget many clips).
    """
    return Retargeter(source, target, points=points, ridge=ridge, smooth=smooth, scaling=scaling)(curves)


def shape_fidelity(retargeter: Retargeter) -> dict[str, dict[str, float]]:
    """Per source shape (activated alone at 1): the target's weight on the same-named shape, the largest
    other target weight and its shape, and the cosine between source and retargeted normalised point motion.

    Returns ``{shape name: {"same_shape_weight", "max_other_weight", "max_other_shape", "motion_cosine"}}``
    for every source shape that moves at least one of the points.
    """
    src, tgt = retargeter.source, retargeter.target
    eye = np.eye(src.num_shapes)
    w = retargeter(source_weights=eye).astype(np.float64)
    b = retargeter.source_offsets(eye)
    fit = w[:, retargeter.observed] @ retargeter.A.T
    out: dict[str, dict[str, float]] = {}
    for i, name in enumerate(src.shape_names):
        j = tgt.shape_names.index(name) if name in tgt.shape_names else None
        if np.linalg.norm(b[i]) == 0 or (j is not None and j in retargeter.copied):
            continue  # moves no point, or copied by name: nothing to judge
        others = np.delete(w[i], j) if j is not None else w[i]
        denom = np.linalg.norm(b[i]) * np.linalg.norm(fit[i])
        other_names = [n for m, n in enumerate(tgt.shape_names) if m != j]
        out[name] = {
            "same_shape_weight": float(w[i, j]) if j is not None else float("nan"),
            "max_other_weight": float(others.max(initial=0.0)),
            "max_other_shape": other_names[int(np.argmax(others))] if len(others) else "",
            "motion_cosine": float(b[i] @ fit[i] / denom) if denom > 0 else 0.0,
        }
    return out


# ---------------------------------------------------------------------------------------------- FLAME
def fit_flame_to_points(
    points,
    flame: FlameRig,
    *,
    names: Sequence[str] | None = None,
    point_weights: Mapping[str, float] | None = None,
    ridge: float = 1e-3,
    jaw_ridge: float = 1e-6,
    iterations: int = 15,
    shape=None,
    chunk: int = 256,
    tol: float = 1e-5,
) -> tuple[np.ndarray, np.ndarray]:
    """Fit FLAME expression and jaw rotation so the rig's semantic points reach ``points``.

    Parameters
    ----------
    points : (T, P, 3) target positions in FLAME's frame (metres), in the order of ``names``
    flame : FlameRig with semantic points (a landmark embedding or ``semantic_vertices``)
    names : point names (default all of the rig's)
    point_weights : optional ``{name: weight}``
    ridge : expression ridge, relative to the mean squared column norm of the expression basis at the points
    jaw_ridge : the same for the jaw's three rotation parameters (small: the jaw is wanted)
    iterations : Gauss-Newton steps (all frames at once; stops early when the steps vanish)
    shape : optional identity ``(n_shape,)`` or ``(T, n_shape)``, kept fixed
    chunk : frames solved together (bounds memory); every frame is its own problem
    tol : stop when no parameter moves more than this in a step (expression units, radians), or when the
        steps stop shrinking below 1e-3 (the rig's float precision is reached)

    Each Gauss-Newton step uses the exact expression Jacobian (:meth:`FlameRig.expression_jacobian`) and
    forward-mode derivatives for the three jaw parameters. With 100 expression components and ~20 points
    the problem is underdetermined: the ridge picks the smallest expression that fits, and the jaw may
    trade off against expression components that move the lower face.

    Returns
    -------
    expression : (T, n_expression) float32, unbounded
    jaw_pose : (T, 3) float32 axis-angle radians
    """
    names = list(flame.point_names) if names is None else list(names)
    target = np.asarray(points, dtype=np.float64)
    if target.ndim == 2:
        target = target[None]
    if target.ndim != 3 or target.shape[1:] != (len(names), 3) or not np.all(np.isfinite(target)):
        raise ParameterError(f"fit_flame_to_points: points must be finite (T, {len(names)}, 3), got {target.shape}")
    if iterations < 1:
        raise ParameterError(f"fit_flame_to_points: iterations must be >= 1, got {iterations}")
    fn = flame.point_function(names)
    dev = flame.v_template.device
    t_len, e = target.shape[0], flame.n_expression
    tgt = torch.as_tensor(target, device=dev)
    rw = torch.as_tensor(_point_weight_vector(names, point_weights), device=dev)
    shp = None
    if shape is not None:
        shp = torch.as_tensor(np.asarray(shape, dtype=np.float64), device=dev)
        shp = shp.expand(t_len, -1) if shp.ndim == 1 else shp
        if shp.shape != (t_len, flame.n_shape):
            raise ParameterError(f"fit_flame_to_points: shape must be ({flame.n_shape},) or ({t_len}, {flame.n_shape})")

    dt = flame.v_template.dtype

    def jaw_jac(jaw: torch.Tensor, expr: torch.Tensor, ident: torch.Tensor | None) -> torch.Tensor:
        """``d points / d jaw`` ``(B, 3P, 3)``: one forward-mode pass per jaw axis, all frames at once (each
        frame's points depend on its own jaw only)."""
        eye = torch.eye(3, dtype=jaw.dtype, device=jaw.device)
        cols = [torch.func.jvp(lambda j: fn(expr, j, ident), (jaw,), (eye[k].expand_as(jaw),))[1] for k in range(3)]
        return torch.stack(cols, -1).reshape(len(jaw), -1, 3)

    def linearise(theta: torch.Tensor, goal: torch.Tensor, ident: torch.Tensor | None):
        """Residuals (B, 3P) and Jacobian (B, 3P, E + 3) at ``theta`` (B, E + 3), weighted per point."""
        expr, jaw = theta[:, :e].to(dt), theta[:, e:].to(dt)
        ident_t = None if ident is None else ident.to(dt)
        r = (fn(expr, jaw, ident_t).double() - goal).reshape(len(theta), -1) * rw
        g_expr = flame.expression_jacobian(jaw, names).double().reshape(len(theta), -1, e)
        g_jaw = jaw_jac(jaw, expr, ident_t).double()
        return r, torch.cat([g_expr, g_jaw], 2) * rw[:, None]

    # Ridges relative to the Jacobian at rest (the same for every frame, so chunks agree).
    rest = torch.zeros(1, e + 3, dtype=torch.float64, device=dev)
    _, jac0 = linearise(rest, tgt[:1], None if shp is None else shp[:1])
    diag = (jac0[0] ** 2).sum(0)
    reg = torch.cat([torch.full((e,), ridge * float(diag[:e].mean())) if e else diag[:0],
                     torch.full((3,), jaw_ridge * float(diag[e:].mean()))]).to(diag)  # fmt: skip
    reg = reg + 1e-12 * float(diag.mean())
    expr_out = np.zeros((t_len, e), dtype=np.float32)
    jaw_out = np.zeros((t_len, 3), dtype=np.float32)
    starts = range(0, t_len, chunk)
    for s in tqdm(starts, desc="fit FLAME", unit="chunk", disable=len(starts) < 4):
        sl = slice(s, min(s + chunk, t_len))
        goal, ident = tgt[sl], None if shp is None else shp[sl]
        theta = torch.zeros(goal.shape[0], e + 3, dtype=torch.float64, device=dev)
        prev = float("inf")
        for _ in range(iterations):
            r, jac = linearise(theta, goal, ident)
            gram = jac.transpose(1, 2) @ jac + torch.diag(reg)
            rhs = (jac.transpose(1, 2) @ r[..., None])[..., 0] + reg * theta
            step = torch.linalg.solve(gram, -rhs[..., None])[..., 0]
            theta = theta + step
            size = float(step.abs().max())
            logger.debug("Gauss-Newton step %.3g", size)
            if size < tol or (size < 1e-3 and size > 0.5 * prev):  # converged, or at the float noise floor
                break
            prev = size
        expr_out[sl] = theta[:, :e].cpu().numpy()
        jaw_out[sl] = theta[:, e:].cpu().numpy()
    return expr_out, jaw_out


def retarget_to_flame(
    curves,
    source: BlendshapeRig,
    flame: FlameRig,
    *,
    points: Sequence[str] | None = None,
    point_weights: Mapping[str, float] | None = None,
    scaling: str = "isotropic",
    ridge: float = 1e-3,
    iterations: int = 15,
) -> tuple[np.ndarray, np.ndarray]:
    """FLAME expression ``(T, E)`` and jaw pose ``(T, 3)`` reproducing ARKit ``curves (T, 52)`` on ``source``.

    The source's semantic-point offsets are scaled to FLAME's face size and added to FLAME's neutral
    points; :func:`fit_flame_to_points` then fits them.
    """
    names = common_points(source, flame, points)
    c = valid_curves(curves)
    c = c[None] if c.ndim == 1 else c
    src_neutral, src_basis = rig_point_basis(source, names)
    w = source.from_arkit(c).double().numpy()
    offsets = np.einsum("tk,kpc->tpc", w, src_basis)
    with torch.no_grad():
        flame_neutral = flame.semantic_points(names).double().cpu().numpy()
    ratio = face_scale(flame_neutral, scaling=scaling) / face_scale(src_neutral, scaling=scaling)
    return fit_flame_to_points(
        flame_neutral + offsets * ratio, flame, names=names, point_weights=point_weights, ridge=ridge,
        iterations=iterations,
    )  # fmt: skip


# ---------------------------------------------------------------------------------------------- benchmark
def _capture_take() -> np.ndarray | None:
    """ARKit curves of the shared Live Link Face take, or ``None`` when ``../shared`` is absent."""
    from .assets import shared_data_dir
    from .exchange.livelink import read_livelink_csv

    path = shared_data_dir() / "data" / "capture" / "neurosync_trainer_lite_testset" / "curves_llf.csv"
    if not path.is_file():
        return None
    return np.clip(np.asarray(read_livelink_csv(path, strict=False)["curves"], dtype=np.float32), 0.0, 1.0)


def bench_retarget(out_dir: Path) -> dict:
    """Speed and per-shape fidelity of default rig -> ICT FaceKit (default rig -> itself without ../shared).

    Prints the figures and returns them (the CLI writes the JSON to ``out_dir``).
    """
    from .default_rig import default_rig

    src = default_rig()
    target_name = "default"
    target = src
    try:
        from .ict import load_ict_rig

        target = load_ict_rig()
        target_name = "ict"
    except (FacecraftError, OSError) as e:  # the benchmark runs without ../shared too
        logger.info("ICT FaceKit not available (%s); retargeting the default rig onto itself", e)
    rng = np.random.default_rng(0)
    curves = np.where(rng.random((5000, NUM_ARKIT)) < 0.15, rng.random((5000, NUM_ARKIT)), 0.0).astype(np.float32)
    result: dict = {"source": "default", "target": target_name, "frames": len(curves)}
    t0 = time.perf_counter()
    rt = Retargeter(src, target)
    result["setup_s"] = time.perf_counter() - t0
    for label, r in (("per_frame", rt), ("smooth", Retargeter(src, target, smooth=0.05))):
        n = 5000 if label == "per_frame" else 1000
        t0 = time.perf_counter()
        r(curves[:n])
        dt = time.perf_counter() - t0
        result[f"{label}_frames_per_s"] = n / dt
        if r.last_report is not None:
            result[f"{label}_relative_residual"] = r.last_report.relative_residual
    take = _capture_take()
    if take is not None:  # a real iPhone Live Link Face take: realistic shape combinations
        for label, r in (("take", rt), ("take_smooth", Retargeter(src, target, smooth=0.05))):
            t0 = time.perf_counter()
            r(take)
            result[f"{label}_frames_per_s"] = len(take) / (time.perf_counter() - t0)
            result[f"{label}_relative_residual"] = r.last_report.relative_residual
        result["take_frames"] = len(take)
    fid = shape_fidelity(rt)
    result["per_shape"] = fid
    result["copied_by_name"] = [target.shape_names[k] for k in rt.copied]
    vals = [v["same_shape_weight"] for v in fid.values() if np.isfinite(v["same_shape_weight"])]
    cos = [v["motion_cosine"] for v in fid.values()]
    for name, v in fid.items():
        print(f"  {name:20s} same {v['same_shape_weight']:.2f}  other {v['max_other_weight']:.2f} "
              f"({v['max_other_shape']})  cosine {v['motion_cosine']:.3f}")  # fmt: skip
    result["median_same_shape_weight"] = float(np.median(vals)) if vals else float("nan")
    result["median_motion_cosine"] = float(np.median(cos)) if cos else float("nan")
    if take is not None:
        print(
            f"real take ({len(take)} frames): {result['take_frames_per_s']:.0f} frames/s, relative point residual "
            f"{result['take_relative_residual']:.3f} ({result['take_smooth_relative_residual']:.3f} smoothed)"
        )
    print(
        f"retarget default -> {target_name}: {result['per_frame_frames_per_s']:.0f} frames/s per-frame, "
        f"{result['smooth_frames_per_s']:.0f} frames/s smooth; median same-shape weight "
        f"{result['median_same_shape_weight']:.2f}, median motion cosine {result['median_motion_cosine']:.2f}"
    )
    return result
