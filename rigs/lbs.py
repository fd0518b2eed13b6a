"""Linear blend skinning as pure tensor functions (the functional core under :class:`~.flame.FlameRig`).

Every function takes explicit tensors and returns tensors; nothing here holds state, so the same code
serves the FLAME module, the retargeting fitter (``torch.func.vmap``/``jacfwd`` work through it) and tests.
Shapes use ``B`` for the batch, ``V`` vertices, ``J`` joints, ``N`` blend components. Rotations are
axis-angle vectors in radians (direction = axis, length = angle, right-hand rule).
"""

from __future__ import annotations

import torch

_SMALL_ANGLE_SQ = 1e-8


def mat3_mul(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """``a @ b`` for stacks of 3x3 matrices ``(..., 3, 3)`` (broadcasting), as products and sums: for tiny
    matrices this is much faster on CPU than batched matmul, which loops over the batch."""
    return (a[..., :, :, None] * b[..., None, :, :]).sum(-2)


def mat3_vec(a: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """``a @ v`` for 3x3 matrices ``(..., 3, 3)`` and vectors ``(..., 3)`` (broadcasting)."""
    return (a * v[..., None, :]).sum(-1)


def left_matmul(m: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """``m @ x`` for one matrix ``m (A, N)`` and a stack ``x (..., N, C)`` -> ``(..., A, C)``, as a single GEMM
    (a broadcast ``matmul`` would run one tiny product per batch item)."""
    n, c = x.shape[-2:]
    batch = x.shape[:-2]
    flat = x.reshape(-1, n, c).permute(1, 0, 2).reshape(n, -1)  # (N, prod(batch) C)
    return (m @ flat).reshape(m.shape[0], -1, c).permute(1, 0, 2).reshape(*batch, m.shape[0], c)


def skew(v: torch.Tensor) -> torch.Tensor:
    """Cross-product matrices ``(..., 3, 3)`` of vectors ``(..., 3)``: ``skew(a) @ b == cross(a, b)``."""
    x, y, z = v.unbind(-1)
    o = torch.zeros_like(x)
    return torch.stack([o, -z, y, z, o, -x, -y, x, o], dim=-1).reshape(*v.shape[:-1], 3, 3)


def rodrigues(axis_angle: torch.Tensor) -> torch.Tensor:
    """Rotation matrices ``(..., 3, 3)`` from axis-angle vectors ``(..., 3)`` in radians.

    Uses ``R = I + a(t) K + b(t) K^2`` with ``K = skew(v)`` (the unnormalised vector), ``a = sin t / t`` and
    ``b = (1 - cos t) / t^2``; below ``t^2 = 1e-8`` both switch to their Taylor series, so the map and its
    derivatives are finite at zero rotation (the usual starting point of a fit).
    """
    theta_sq = (axis_angle * axis_angle).sum(-1)
    small = theta_sq < _SMALL_ANGLE_SQ
    safe_sq = torch.where(small, torch.ones_like(theta_sq), theta_sq)
    theta = torch.sqrt(safe_sq)
    a = torch.where(small, 1.0 - theta_sq / 6.0, torch.sin(theta) / theta)
    b = torch.where(small, 0.5 - theta_sq / 24.0, (1.0 - torch.cos(theta)) / safe_sq)
    k = skew(axis_angle)
    eye = torch.eye(3, dtype=axis_angle.dtype, device=axis_angle.device).expand_as(k)
    return eye + a[..., None, None] * k + b[..., None, None] * mat3_mul(k, k)


def blend_shapes(coeffs: torch.Tensor, dirs: torch.Tensor) -> torch.Tensor:
    """Offsets ``(B, V, 3)`` = sum_n ``coeffs (B, N)`` x ``dirs (V, 3, N)``."""
    v, c, n = dirs.shape
    # A plain matmul against the (V*3, N) view: BLAS reads it transposed, no copy (einsum here permutes).
    return (coeffs @ dirs.reshape(v * c, n).T).reshape(*coeffs.shape[:-1], v, c)


def vertices_to_joints(regressor: torch.Tensor, vertices: torch.Tensor) -> torch.Tensor:
    """Joint locations ``(B, J, 3)`` regressed from ``vertices (B, V, 3)`` with ``regressor (J, V)``."""
    return left_matmul(regressor, vertices)


def pose_features(rotmats: torch.Tensor) -> torch.Tensor:
    """Pose-corrective features ``(B, 9 (J-1))``: ``R_j - I`` of every non-root joint, flattened row-major."""
    eye = torch.eye(3, dtype=rotmats.dtype, device=rotmats.device)
    return (rotmats[:, 1:] - eye).flatten(1)


def pose_correctives(rotmats: torch.Tensor, posedirs: torch.Tensor) -> torch.Tensor:
    """Corrective offsets ``(B, V, 3)`` from ``rotmats (B, J, 3, 3)`` and ``posedirs (V, 3, 9 (J-1))``."""
    return blend_shapes(pose_features(rotmats), posedirs)


def rigid_transforms(
    rotmats: torch.Tensor, joints: torch.Tensor, parents: list[int]
) -> tuple[torch.Tensor, torch.Tensor]:
    """Chain local rotations down the kinematic tree.

    Parameters
    ----------
    rotmats : (B, J, 3, 3) local rotation of each joint about its rest location
    joints : (B, J, 3) rest joint locations (leading dims of both broadcast: ``(B, 1, J, 3, 3)`` rotations
        with ``(1, E, J, 3)`` joints give ``(B, E, J, ...)``)
    parents : J ints, ``-1`` for the root; every parent index is smaller than its child's

    Returns
    -------
    posed_joints : (B, J, 3) joint locations after posing
    transforms : (B, J, 3, 4) ``[R | t]`` taking a rest-pose point to its posed location when it follows
        that joint alone (the rest joint location is already subtracted), as skinning needs.
    """
    batch = torch.broadcast_shapes(rotmats.shape[:-3], joints.shape[:-2])
    rotmats = rotmats.expand(*batch, *rotmats.shape[-3:])
    joints = joints.expand(*batch, *joints.shape[-2:])
    rot_world: list[torch.Tensor] = []
    pos_world: list[torch.Tensor] = []
    for j, p in enumerate(parents):
        if p < 0:
            rot_world.append(rotmats[..., j, :, :])
            pos_world.append(joints[..., j, :])
        else:
            rot_world.append(mat3_mul(rot_world[p], rotmats[..., j, :, :]))
            offset = joints[..., j, :] - joints[..., p, :]
            pos_world.append(pos_world[p] + mat3_vec(rot_world[p], offset))
    rot = torch.stack(rot_world, -3)
    pos = torch.stack(pos_world, -2)
    trans = pos - mat3_vec(rot, joints)
    return pos, torch.cat([rot, trans[..., None]], -1)


def skin(vertices: torch.Tensor, transforms: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    """Linear blend skinning: ``vertices (B, V, 3)``, ``transforms (B, J, 3, 4)``, ``weights (V, J)`` -> (B, V, 3)."""
    b, j = transforms.shape[:2]
    blended = left_matmul(weights, transforms.reshape(b, j, 12)).reshape(b, -1, 3, 4)  # (B, V, 3, 4)
    return (blended[..., :3] * vertices[..., None, :]).sum(-1) + blended[..., 3]


def lbs(
    v_shaped: torch.Tensor,
    pose: torch.Tensor,
    *,
    joint_regressor: torch.Tensor,
    parents: list[int],
    weights: torch.Tensor,
    posedirs: torch.Tensor | None = None,
    joints: torch.Tensor | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Pose a shaped mesh: joints, pose correctives, then linear blend skinning.

    Parameters
    ----------
    v_shaped : (B, V, 3) template plus shape/expression offsets, in metres
    pose : (B, J, 3) axis-angle per joint (radians), root first
    joint_regressor : (J, V') maps vertices to joints; ignored when ``joints`` is given
    parents : J parent ids, ``-1`` for the root
    weights : (V, J) skinning weights, rows summing to 1
    posedirs : optional (V, 3, 9 (J-1)) pose-corrective basis
    joints : optional (B, J, 3) rest joints, when the caller regresses them itself (e.g. from a vertex subset)

    Returns
    -------
    vertices : (B, V, 3)
    posed_joints : (B, J, 3)
    """
    if joints is None:
        joints = vertices_to_joints(joint_regressor, v_shaped)
    rotmats = rodrigues(pose)
    v_posed = v_shaped if posedirs is None else v_shaped + pose_correctives(rotmats, posedirs)
    posed_joints, transforms = rigid_transforms(rotmats, joints, parents)
    return skin(v_posed, transforms, weights), posed_joints
