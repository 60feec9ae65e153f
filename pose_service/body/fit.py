"""Fitting Anny to a tracked person: body shape once per track, then every frame's pose, batched on the CPU.

1. Shape: the phenotype whose rest skeleton has the track's median segment lengths (3D keypoints).
2. Analytic start, frame by frame but vectorised: the root turned onto the hips and shoulders (Kabsch), then
   down the tree each bone turned onto its keypoints; where keypoints are unseen a bone keeps the
   previous frame's turn. The root's translation solves the pinhole projection in closed form.
3. Polish: Adam over all frames at once on the skeleton-only forward pass (`rig`): 3D keypoints
   (hip-centred), 2D reprojection, joint limits, and an acceleration penalty (centred, so no lag).
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from pose_service.body.core import BodyFit
from pose_service.body.rig import BLAZEPOSE_INDEX, FIT_KEYPOINTS, FREE_BONES, Rig, ShapeBasis, build_rig

if TYPE_CHECKING:
    import torch

    from pose_service.tracking.core import Track

__all__ = ["FitOptions", "fit_track", "fit_shape", "MIN_FRAMES"]

log = logging.getLogger(__name__)

MIN_FRAMES = 5  # fewer frames: the average body shape, stronger priors
_VIS = 0.5  # a keypoint counts as seen from this visibility
_K = {name: k for k, name in enumerate(FIT_KEYPOINTS)}
_F = {name: f for f, name in enumerate(FREE_BONES)}
_SPINE = ("spine05", "spine04", "spine03", "spine02", "spine01")
# Optimised rotation groups: the root (a correction on top of the start), the spine (one turn shared by
# its five bones), then one per bone.
_GROUPS = ("root", "spine", "neck01", "head", "upperarm01.L", "lowerarm01.L", "upperarm01.R", "lowerarm01.R",
           "upperleg01.L", "lowerleg01.L", "foot.L", "upperleg01.R", "lowerleg01.R", "foot.R")  # fmt: skip
# Segments whose median length sets the body's proportions.
_SEGMENTS = (
    ("left_shoulder", "left_elbow"), ("left_elbow", "left_wrist"), ("right_shoulder", "right_elbow"),
    ("right_elbow", "right_wrist"), ("left_hip", "left_knee"), ("left_knee", "left_ankle"),
    ("right_hip", "right_knee"), ("right_knee", "right_ankle"), ("left_shoulder", "right_shoulder"),
    ("left_hip", "right_hip"), ("left_hip", "left_shoulder"), ("right_hip", "right_shoulder"),
)  # fmt: skip


@dataclass(frozen=True)
class FitOptions:
    """Knobs of the fit (defaults measured on synthetic clips, see bench/fit.py)."""

    iterations: int = 60
    learning_rate: float = 0.03
    weight_3d: float = 1.0
    weight_2d: float = 1.0
    weight_accel: float = 0.3
    weight_limits: float = 2e-3
    focal_px: float | None = None  # None: the longer image side (about a 53 degree field of view)
    # A longer track is fitted in windows of this many frames (each with `window_context` more on both sides, fitted
    # and dropped, so the smoothness term sees across the seams): the fit's memory stays flat however long the clip.
    window_frames: int = 900
    window_context: int = 30

    def __post_init__(self) -> None:
        if self.iterations < 0:
            raise ValueError(f"iterations must be >= 0, got {self.iterations}")
        if self.window_frames < 1 or self.window_context < 0:
            raise ValueError(f"window_frames must be >= 1 and window_context >= 0, got "
                             f"{self.window_frames} and {self.window_context}")  # fmt: skip
        if self.focal_px is not None and not self.focal_px > 0:
            raise ValueError(f"focal_px must be positive, got {self.focal_px}")


# ---------------------------------------------------------------- small rotation helpers (numpy)


def _kabsch(p: np.ndarray, q: np.ndarray, w: np.ndarray) -> np.ndarray:
    """(n, 3, 3) rotations R minimising sum_k w_k |R p_k - q_k|^2 (p, q already about the pivot)."""
    h = np.einsum("nk,nki,nkj->nij", w, q, p)
    u, _, vt = np.linalg.svd(h)
    d = np.sign(np.linalg.det(u @ vt))
    u[:, :, 2] *= d[:, None]
    return u @ vt  # type: ignore[no-any-return]


def _align(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(n, 3, 3) the smallest rotations turning directions a (n, 3) onto b (n, 3)."""
    a = a / np.maximum(np.linalg.norm(a, axis=-1, keepdims=True), 1e-9)
    b = b / np.maximum(np.linalg.norm(b, axis=-1, keepdims=True), 1e-9)
    v = np.cross(a, b)
    c = np.einsum("ni,ni->n", a, b)
    vx = np.zeros((len(a), 3, 3))
    vx[:, 0, 1], vx[:, 0, 2], vx[:, 1, 0] = -v[:, 2], v[:, 1], v[:, 2]
    vx[:, 1, 2], vx[:, 2, 0], vx[:, 2, 1] = -v[:, 0], -v[:, 1], v[:, 0]
    k = 1.0 / np.maximum(1.0 + c, 1e-6)
    return np.eye(3)[None] + vx + (vx @ vx) * k[:, None, None]  # type: ignore[no-any-return]


def _log(r: np.ndarray) -> np.ndarray:
    """Rotation vectors (..., 3) of rotation matrices (..., 3, 3) (angles below pi)."""
    cos = np.clip((np.trace(r, axis1=-2, axis2=-1) - 1) / 2, -1.0, 1.0)
    angle = np.arccos(cos)
    axis = np.stack([r[..., 2, 1] - r[..., 1, 2], r[..., 0, 2] - r[..., 2, 0], r[..., 1, 0] - r[..., 0, 1]], -1)
    s = np.sin(angle)
    scale = np.where(s > 1e-6, angle / (2 * np.maximum(s, 1e-12)), 0.5)
    return axis * scale[..., None]  # type: ignore[no-any-return]


def _exp_np(v: np.ndarray) -> np.ndarray:
    import torch

    return _exp(torch.as_tensor(v, dtype=torch.float64)).numpy()  # type: ignore[no-any-return]


def _exp(v: torch.Tensor) -> torch.Tensor:
    """Rotation matrices (..., 3, 3) of rotation vectors (..., 3) (Rodrigues, smooth at zero)."""
    import torch

    t2 = (v * v).sum(-1, keepdim=True)[..., None]
    t = torch.sqrt(t2 + 1e-12)
    a = torch.where(t2 < 1e-8, 1 - t2 / 6, torch.sin(t) / t)
    b = torch.where(t2 < 1e-8, 0.5 - t2 / 24, (1 - torch.cos(t)) / (t2 + 1e-12))
    x, y, z = v.unbind(-1)
    o = torch.zeros_like(x)
    k = torch.stack([torch.stack([o, -z, y], -1), torch.stack([z, o, -x], -1), torch.stack([-y, x, o], -1)], -2)
    eye = torch.eye(3, dtype=v.dtype).expand_as(k)
    return eye + a * k + b * (k @ k)


# ---------------------------------------------------------------- shape


def fit_shape(basis: ShapeBasis, keypoints_3d: np.ndarray, visibility: np.ndarray) -> tuple[np.ndarray, list[str]]:
    """Phenotype (P,) whose rest skeleton matches the median segment lengths; notes on what was missing.

    keypoints_3d: (m, K, 3) metres in `FIT_KEYPOINTS` order; visibility: (m, K).
    """
    import torch

    labels = basis.labels
    notes: list[str] = []
    pairs, targets = [], []
    for a, b in _SEGMENTS:
        ka, kb = _K[a], _K[b]
        seen = (visibility[:, ka] >= _VIS) & (visibility[:, kb] >= _VIS)
        if seen.sum() >= MIN_FRAMES:
            pairs.append((ka, kb))
            targets.append(float(np.median(np.linalg.norm(keypoints_3d[seen, ka] - keypoints_3d[seen, kb], axis=-1))))
    if len(pairs) < 4:
        notes.append("too few body segments seen clearly: average body shape")
        return np.full(len(labels), 0.5), notes
    ia = np.array([p[0] for p in pairs])
    ib = np.array([p[1] for p in pairs])
    log_target = np.log(np.asarray(targets))
    n = len(labels)
    z = np.zeros(n)  # phenotype = sigmoid(z): stays in (0, 1)
    step, prior = 0.05, 0.05

    def residuals(zs: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            kp = basis.keypoints(torch.as_tensor(1 / (1 + np.exp(-zs)), dtype=torch.float32)).double().numpy()
        return np.log(np.linalg.norm(kp[:, ia] - kp[:, ib], axis=-1)) - log_target  # type: ignore[no-any-return]

    # Gauss-Newton with forward differences, all probes in one batched call of the model.
    for _ in range(6):
        probes = np.vstack([z, z + step * np.eye(n)])
        res = residuals(probes)
        jac = (res[1:] - res[0]).T / step  # (S, P)
        lhs = jac.T @ jac + prior * np.eye(n)
        z = np.clip(z - np.linalg.solve(lhs, jac.T @ res[0] + prior * z), -3.0, 3.0)
    return 1 / (1 + np.exp(-z)), notes


# ---------------------------------------------------------------- analytic start


def _apply(g: np.ndarray, c: np.ndarray) -> np.ndarray:
    """Points (n, K, 3) = sum_f g[n, f] @ c[k, f]: the rig's forward pass as one matrix product."""
    n, nf = g.shape[:2]
    flat = np.swapaxes(g, 1, 2).reshape(n, 3, nf * 3)  # (n, i, f*j)
    return np.swapaxes(flat @ c.reshape(len(c), nf * 3).T, 1, 2)


def _subtree(rig: Rig) -> list[list[int]]:
    """For each free bone, itself and its free descendants."""
    nf = len(FREE_BONES)
    out = [[f] for f in range(nf)]
    for f in range(nf):
        p = int(rig.free_parent[f])
        while p >= 0:
            out[p].append(f)
            p = int(rig.free_parent[p])
    return out


def _initial_pose(rig: Rig, x3: np.ndarray, vis: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-frame world rotations G (m, F, 3, 3) turned onto the 3D keypoints, and which steps saw them (m, F)."""
    m = len(x3)
    nf = len(FREE_BONES)
    g = np.broadcast_to(np.eye(3), (m, nf, 3, 3)).copy()
    ok = np.zeros((m, nf), dtype=bool)
    sub = _subtree(rig)
    seen = vis >= _VIS

    def keypoints() -> np.ndarray:
        kp = _apply(g, rig.c)
        return kp - 0.5 * (kp[:, _K["left_hip"]] + kp[:, _K["right_hip"]])[:, None]

    def head(bone: str) -> np.ndarray:
        kp = _apply(g, rig.c)
        mid = 0.5 * (kp[:, _K["left_hip"]] + kp[:, _K["right_hip"]])
        return _apply(g, rig.heads[_F[bone]][None])[:, 0] - mid

    def turn(bone: str, r: np.ndarray, where: np.ndarray) -> None:
        r = np.where(where[:, None, None], r, np.eye(3))
        for f in sub[_F[bone]]:
            g[:, f] = r @ g[:, f]
        ok[:, _F[bone]] = where

    def kabsch_step(bone: str, names: tuple[str, ...], pivot: np.ndarray | None = None) -> None:
        idx = [_K[n] for n in names]
        kp = keypoints()
        o = head(bone) if pivot is None else pivot
        w = seen[:, idx].astype(np.float64)
        where = w.sum(1) >= (2 if pivot is None else 3)
        r = _kabsch(kp[:, idx] - o[:, None], x3[:, idx] - o[:, None], w + 1e-6)
        turn(bone, r, where)

    def align_step(bone: str, target: str) -> None:
        kp = keypoints()
        o = head(bone)
        k = _K[target]
        turn(bone, _align(kp[:, k] - o, x3[:, k] - o), seen[:, k])

    kabsch_step("root", ("left_hip", "right_hip", "left_shoulder", "right_shoulder"), pivot=np.zeros((m, 3)))
    kabsch_step("spine01", ("left_shoulder", "right_shoulder"))
    kabsch_step("neck01", ("nose", "left_eye", "right_eye", "left_ear", "right_ear"))
    for side, s in (("L", "left"), ("R", "right")):
        align_step(f"upperarm01.{side}", f"{s}_elbow")
        align_step(f"lowerarm01.{side}", f"{s}_wrist")
        align_step(f"upperleg01.{side}", f"{s}_knee")
        align_step(f"lowerleg01.{side}", f"{s}_ankle")
        kabsch_step(f"foot.{side}", (f"{s}_heel", f"{s}_big_toe", f"{s}_ankle"))
    return g, ok


def _deltas_from_world(rig: Rig, g: np.ndarray) -> np.ndarray:
    """Local deltas D_f = G_parent^T G_f (m, F, 3, 3)."""
    d = g.copy()
    for f in range(1, len(FREE_BONES)):
        p = int(rig.free_parent[f])
        d[:, f] = np.swapaxes(g[:, p], -1, -2) @ g[:, f]
    return d


def _fill_unseen(values: np.ndarray, seen: np.ndarray) -> np.ndarray:
    """Each unseen frame takes the previous seen frame's value (the first seen one before any)."""
    if seen.all() or not seen.any():
        return values
    idx = np.where(seen, np.arange(len(seen)), -1)
    idx = np.maximum.accumulate(idx)
    idx[idx < 0] = int(np.argmax(seen))
    return values[idx]


def _solve_translation(q: np.ndarray, uv: np.ndarray, w: np.ndarray, f: float, centre: np.ndarray) -> np.ndarray:
    """Root translations (m, 3) putting model points q (m, K, 3) (root at 0) onto pixels uv (m, K, 2).

    Pinhole at the origin looking along -z, y up: u = cx + f x / -z, v = cy - f y / -z (linear in the
    translation after multiplying out the depth).
    """
    du, dv = uv[..., 0] - centre[0], uv[..., 1] - centre[1]
    z = np.zeros_like(du)
    # rows: [-f, 0, -du] t = f qx + du qz ; [0, f, -dv] t = -f qy + dv qz
    a1 = np.stack([np.full_like(du, -f), z, -du], -1)
    a2 = np.stack([z, np.full_like(dv, f), -dv], -1)
    b1 = f * q[..., 0] + du * q[..., 2]
    b2 = -f * q[..., 1] + dv * q[..., 2]
    a = np.concatenate([a1, a2], 1)
    b = np.concatenate([b1, b2], 1)
    ww = np.concatenate([w, w], 1)
    ata = np.einsum("nk,nki,nkj->nij", ww, a, a) + 1e-9 * np.eye(3)
    atb = np.einsum("nk,nki,nk->ni", ww, a, b)
    return np.linalg.solve(ata, atb[..., None])[..., 0]  # type: ignore[no-any-return]


# ---------------------------------------------------------------- the fit


def fit_track(
    track: Track,
    times_s: np.ndarray,
    image_size: tuple[int, int],
    anny_cache_dir: Path,
    options: FitOptions | None = None,
) -> BodyFit:
    """Fit Anny to `track` (its frames' timestamps `times_s` (m,)) seen in a picture of `image_size` (w, h)."""
    import torch

    # The tensors are small: one thread avoids paying for thread hand-offs on every one of thousands of ops
    # (on 2 busy cores that was ten times slower).
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return _fit_track(track, times_s, image_size, anny_cache_dir, options or FitOptions())
    finally:
        torch.set_num_threads(threads)


def _fit_track(
    track: Track, times_s: np.ndarray, image_size: tuple[int, int], anny_cache_dir: Path, options: FitOptions
) -> BodyFit:

    m = len(track)
    if m == 0:
        raise ValueError(f"track {track.id} has no frames")
    if len(times_s) != m:
        raise ValueError(f"track {track.id}: {len(times_s)} timestamps for {m} frames")
    idx = list(BLAZEPOSE_INDEX)
    x3 = track.keypoints_3d[:, idx].astype(np.float64)
    uv = track.keypoints_2d[:, idx, :2].astype(np.float64)
    vis = np.clip(track.keypoints_2d[:, idx, 2].astype(np.float64), 0.0, 1.0)
    vis = np.where(np.isfinite(x3).all(-1) & np.isfinite(uv).all(-1), vis, 0.0)
    x3, uv = np.nan_to_num(x3), np.nan_to_num(uv)
    width, height = image_size
    focal = options.focal_px or float(max(width, height))
    centre = np.array([width / 2, height / 2])
    notes: list[str] = []

    basis = ShapeBasis(anny_cache_dir)
    if m < MIN_FRAMES:
        phenotype = np.full(len(basis.labels), 0.5)
        notes.append(f"short track ({m} frames): average body shape, stronger priors")
    else:
        phenotype, shape_notes = fit_shape(basis, x3, vis)
        notes += shape_notes
    rig = build_rig(anny_cache_dir, phenotype)
    weak = (vis >= _VIS).mean(1) < 0.5
    if weak.mean() > 0.3:
        notes.append(f"keypoints poorly visible in {weak.mean():.0%} of frames: joints there follow the priors")

    frames = np.asarray(track.frames)
    parts = []
    core, ctx = options.window_frames, options.window_context
    for a in range(0, m, core):
        b = min(a + core, m)
        lo, hi = max(a - ctx, 0), min(b + ctx, m)
        window = slice(lo, hi)
        fitted = _fit_frames(rig, x3[window], uv[window], vis[window], frames[window], focal, centre, height,
                             options, strength=4.0 if m < MIN_FRAMES else 1.0)  # fmt: skip
        keep = slice(a - lo, b - lo)
        parts.append(tuple(arr[keep] for arr in fitted))
    deltas_out, trans_out, joints = (np.concatenate(arrays) for arrays in zip(*parts, strict=True))
    mid = 0.5 * (joints[:, _K["left_hip"]] + joints[:, _K["right_hip"]])
    seen = vis >= _VIS
    res3 = np.linalg.norm(joints - mid[:, None] - x3, axis=-1)
    depth = np.maximum(-joints[..., 2], 0.1)
    proj = np.stack([joints[..., 0], -joints[..., 1]], -1) * (focal / depth)[..., None] + centre
    res2 = np.linalg.norm(proj - uv, axis=-1)
    return BodyFit(
        track_id=track.id,
        frames=frames.copy(),
        times_s=np.asarray(times_s, dtype=np.float64),
        phenotype_labels=rig.phenotype_labels,
        phenotype=phenotype,
        bones=FREE_BONES,
        rotations=deltas_out,
        translation=trans_out,
        joints=joints,
        focal_px=focal,
        residual_3d_m=float(res3[seen].mean()) if seen.any() else math.nan,
        residual_2d_px=float(res2[seen].mean()) if seen.any() else math.nan,
        notes=notes,
    )


def _fit_frames(
    rig: Rig,
    x3: np.ndarray,
    uv: np.ndarray,
    vis: np.ndarray,
    frames: np.ndarray,
    focal: float,
    centre: np.ndarray,
    height: int,
    options: FitOptions,
    *,
    strength: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(rotations (m, F, 3, 3), translation (m, 3), joints (m, K, 3)) of consecutive track samples: the analytic
    start, the closed-form translation, then the batched Adam steps (the fit's memory grows with m)."""
    import torch

    m = len(x3)
    g, ok = _initial_pose(rig, x3, vis)
    deltas = _deltas_from_world(rig, g)
    for f in range(len(FREE_BONES)):  # unseen: the previous frame's turn
        deltas[:, f] = _fill_unseen(deltas[:, f], ok[:, f])

    # Spine: one turn shared by its bones, the total from the chain root -> spine01.
    g0 = deltas[:, 0]
    spine_total = np.eye(3)[None].repeat(m, 0)
    for name in _SPINE:
        spine_total = spine_total @ deltas[:, _F[name]]
    theta0 = np.zeros((m, len(_GROUPS), 3))
    theta0[:, 1] = _log(spine_total)
    for gi, name in enumerate(_GROUPS[2:], start=2):
        theta0[:, gi] = _log(deltas[:, _F[name]])

    # Translation in closed form from the start pose.
    start = _forward_np(rig, g0, theta0)
    t0 = _solve_translation(start, uv, (vis >= _VIS) * vis, focal, centre)
    seen2d = (vis >= _VIS).sum(1) >= 3
    fallback = np.array([0.0, 0.0, -focal * 1.7 / max(height, 1) * 1.0])
    t0 = np.where(seen2d[:, None], t0, fallback)
    t0 = _fill_unseen(t0, seen2d & (t0[:, 2] < -0.1))

    dtype = torch.float32
    c = torch.as_tensor(rig.c, dtype=dtype)
    g0_t = torch.as_tensor(g0, dtype=dtype)
    x3_t = torch.as_tensor(x3, dtype=dtype)
    uv_t = torch.as_tensor(uv, dtype=dtype)
    w_t = torch.as_tensor(vis * (vis >= 0.2), dtype=dtype)
    omega = torch.zeros(m, 3, dtype=dtype, requires_grad=True)
    theta = torch.as_tensor(theta0[:, 1:], dtype=dtype).clone().requires_grad_(True)
    trans = torch.as_tensor(t0, dtype=dtype).clone().requires_grad_(True)
    limits = _Limits(rig, dtype, strength=strength)
    steady = torch.as_tensor((np.diff(frames[:-1]) == 1) & (np.diff(frames[1:]) == 1), dtype=dtype)
    centre_t = torch.as_tensor(centre, dtype=dtype)
    opt = torch.optim.Adam([omega, theta, trans], lr=options.learning_rate)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(
        opt, max(options.iterations, 1), eta_min=0.1 * options.learning_rate
    )
    nk = float(len(FIT_KEYPOINTS))
    wsum = w_t.sum().clamp(min=1.0)
    for _ in range(options.iterations):
        opt.zero_grad()
        kp = _forward(c, g0_t @ _exp(omega), theta)  # (m, K, 3), root at 0
        mid = 0.5 * (kp[:, _K["left_hip"]] + kp[:, _K["right_hip"]])
        r3 = kp - mid[:, None] - x3_t
        e3 = (_robust(r3) * w_t).sum() / wsum
        pos = kp + trans[:, None]
        depth = (-pos[..., 2]).clamp(min=0.1)
        proj = torch.stack([pos[..., 0], -pos[..., 1]], -1) * (focal / depth)[..., None] + centre_t
        r2 = (proj - uv_t) * (depth.detach() / focal)[..., None]  # pixels as metres at the body's depth
        e2 = (_robust(r2) * w_t).sum() / wsum
        loss = options.weight_3d * e3 + options.weight_2d * e2
        if m >= 3:
            acc = pos[2:] - 2 * pos[1:-1] + pos[:-2]
            loss = loss + options.weight_accel * ((acc**2).sum((-1, -2)) * steady).sum() / (m * nk)
            tacc = theta[2:] - 2 * theta[1:-1] + theta[:-2]
            loss = loss + 1e-3 * options.weight_accel * ((tacc**2).sum((-1, -2)) * steady).sum() / m
        loss = loss + options.weight_limits * limits(theta) / m
        loss.backward()
        opt.step()
        sched.step()

    with torch.no_grad():
        root = g0_t @ _exp(omega)
        kp = _forward(c, root, theta)
        deltas_out = _deltas(root, theta).double().numpy()
        trans_out = trans.double().numpy()
        joints = kp.double().numpy() + trans_out[:, None]
    return deltas_out, trans_out, joints


def _robust(r: torch.Tensor, scale: float = 0.05) -> torch.Tensor:
    """Pseudo-Huber of residual vectors (..., d) in metres: quadratic below `scale`, linear beyond."""
    import torch

    return scale**2 * (torch.sqrt(1 + (r * r).sum(-1) / scale**2) - 1)


def _deltas(root: torch.Tensor, theta: torch.Tensor) -> torch.Tensor:
    """(m, F, 3, 3) deltas of `FREE_BONES` from the root rotation and the per-group rotation vectors."""
    import torch

    rots = _exp(theta)  # (m, G-1, 3, 3)
    spine = _exp(theta[:, 0] / len(_SPINE))
    by_bone = {name: rots[:, gi - 1] for gi, name in enumerate(_GROUPS) if gi >= 2}
    out = []
    for name in FREE_BONES:
        if name == "root":
            out.append(root)
        elif name in _SPINE:
            out.append(spine)
        else:
            out.append(by_bone[name])
    return torch.stack(out, 1)


def _forward(c: torch.Tensor, root: torch.Tensor, theta: torch.Tensor) -> torch.Tensor:
    """Keypoints (m, K, 3) of the rig with the root at the origin: sum_f G_f c_kf, G_f down the free tree."""
    import torch

    d = _deltas(root, theta)
    g: list[torch.Tensor] = []
    for f, parent in enumerate(_FREE_PARENT):
        g.append(d[:, f] if parent < 0 else g[parent] @ d[:, f])
    return torch.einsum("nfij,kfj->nki", torch.stack(g, 1), c)


def _forward_np(rig: Rig, root: np.ndarray, theta: np.ndarray) -> np.ndarray:
    import torch

    with torch.no_grad():
        c = torch.as_tensor(rig.c)
        return _forward(c, torch.as_tensor(root), torch.as_tensor(theta[:, 1:])).numpy()  # type: ignore[no-any-return]


def _free_parents() -> list[int]:
    """Free-bone parents, fixed by Anny's skeleton (checked against the rig when it is built)."""
    chain = {
        "spine05": "root", "spine04": "spine05", "spine03": "spine04", "spine02": "spine03", "spine01": "spine02",
        "neck01": "spine01", "head": "neck01", "upperarm01.L": "spine01", "lowerarm01.L": "upperarm01.L",
        "upperarm01.R": "spine01", "lowerarm01.R": "upperarm01.R", "upperleg01.L": "root",
        "lowerleg01.L": "upperleg01.L", "foot.L": "lowerleg01.L", "upperleg01.R": "root",
        "lowerleg01.R": "upperleg01.R", "foot.R": "lowerleg01.R",
    }  # fmt: skip
    return [-1] + [_F[chain[name]] for name in FREE_BONES[1:]]


_FREE_PARENT = _free_parents()


class _Limits:
    """Soft human joint limits on the per-group rotation vectors (radians, Anny's reference axes).

    Knees bend about +X (the person's left) only, from straight to 150 degrees; elbows about their hinge axis
    (forearm x forward) likewise; every other joint is free within a cone. A weak pull to the reference
    settles what the keypoints cannot see (limb twist).
    """

    def __init__(self, rig: Rig, dtype: torch.dtype, strength: float) -> None:
        import torch

        if list(rig.free_parent) != _FREE_PARENT:
            raise RuntimeError("Anny's skeleton differs from the one the fit was written for")
        kp = rig.rest_keypoints
        axes = {}
        for side, s in (("L", "left"), ("R", "right")):
            forearm = kp[_K[f"{s}_wrist"]] - kp[_K[f"{s}_elbow"]]
            axis = np.cross(forearm, np.array([0.0, -1.0, 0.0]))
            axes[f"lowerarm01.{side}"] = axis / np.linalg.norm(axis)
            axes[f"lowerleg01.{side}"] = np.array([1.0, 0.0, 0.0])
        groups = _GROUPS[1:]
        self.hinge = [i for i, n in enumerate(groups) if n in axes]
        self.axes = torch.as_tensor(np.stack([axes[groups[i]] for i in self.hinge]), dtype=dtype)
        cones = {"spine": 1.2, "neck01": 0.8, "head": 0.8, "foot.L": 0.8, "foot.R": 0.8}
        self.cone = torch.as_tensor([cones.get(n, 2.6) for n in groups], dtype=dtype)
        self.strength = strength

    def __call__(self, theta: torch.Tensor) -> torch.Tensor:
        import torch

        relu = torch.nn.functional.relu
        angle = torch.sqrt((theta * theta).sum(-1) + 1e-9)
        loss = (relu(angle - self.cone) ** 2).sum()
        h = theta[:, self.hinge]
        bend = (h * self.axes).sum(-1)
        off = h - bend[..., None] * self.axes
        loss = loss + (relu(-bend) ** 2).sum() + (relu(bend - 2.6) ** 2).sum() + 0.5 * (off * off).sum()
        loss = loss + 0.01 * (theta * theta).sum()
        return self.strength * loss
