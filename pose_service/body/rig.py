"""Anny reduced to what fitting needs: keypoints as a linear function of a few bones' world rotations.

Anny skins vertices linearly (v' = sum_j w_vj T_j v) and regresses keypoints linearly from vertices, so a
keypoint is a fixed blend of bone transforms. In the 'local-ref' parameterisation every bone's transform is
T_j = [G_j E_j | w_j - G_j E_j h_j], G_j the product of the deltas down its chain (the world-aligned
rotation), w_j its posed head. With only the `FREE_BONES` turning (every other delta the identity), each
bone's G is that of its nearest free ancestor and the heads follow, so for a given body shape

    keypoint_k = d0 + sum_f G_f c_kf,

with d0 the root's translation and c_kf (K, F, 3) fixed vectors. That is the skeleton-only forward pass
used while optimising: one small einsum per step, exact (it equals skinning then regressing), no vertices.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from pose_service.body.model import load_anny, load_coco_regressor

if TYPE_CHECKING:
    import torch

__all__ = ["FREE_BONES", "FIT_KEYPOINTS", "BLAZEPOSE_INDEX", "Rig", "build_rig", "phenotype_defaults"]

# Bones that turn while fitting (the rest stay at Anny's reference): trunk, head, limbs, feet.
FREE_BONES: tuple[str, ...] = (
    "root", "spine05", "spine04", "spine03", "spine02", "spine01", "neck01", "head",
    "upperarm01.L", "lowerarm01.L", "upperarm01.R", "lowerarm01.R",
    "upperleg01.L", "lowerleg01.L", "foot.L", "upperleg01.R", "lowerleg01.R", "foot.R",
)  # fmt: skip

# Anny's regressed keypoints used as fitting targets, and the BlazePose landmark each one is matched to.
FIT_KEYPOINTS: tuple[str, ...] = (
    "nose", "left_eye", "right_eye", "left_ear", "right_ear", "left_shoulder", "right_shoulder",
    "left_elbow", "right_elbow", "left_wrist", "right_wrist", "left_hip", "right_hip", "left_knee",
    "right_knee", "left_ankle", "right_ankle", "left_heel", "right_heel", "left_big_toe", "right_big_toe",
)  # fmt: skip
BLAZEPOSE_INDEX: tuple[int, ...] = (0, 2, 5, 7, 8, 11, 12, 13, 14, 15, 16, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32)

_BLOCK_FRAMES = 512  # frames per block in `Rig.local_rotation`


def phenotype_defaults(labels: list[str]) -> np.ndarray:
    """The model's average adult: every phenotype parameter at 0.5."""
    return np.full(len(labels), 0.5)


@dataclass(frozen=True)
class Rig:
    """One body shape of Anny, reduced for fitting (Anny's frame: Z up, facing -Y, the person's left +X).

    phenotype: (P,) values of `phenotype_labels`; coeffs: (1, C) blendshape coefficients;
    c: (K, F, 3) keypoint vectors per free bone (`FIT_KEYPOINTS` x `FREE_BONES`);
    heads: (F, F, 3) the same for the free bones' own heads; free_parent: (F,) index of each free
    bone's nearest free ancestor (-1 for the root); parent: (B,) Anny's bone parents;
    ref: (B, 3, 3) reference orientations U; rest_poses: (B, 4, 4) rest bone poses P (bind pose);
    rest_vertices: (V, 3); lengths_fn: not stored, see `segment_lengths`.
    """

    labels: list[str]
    phenotype_labels: list[str]
    phenotype: np.ndarray
    coeffs: np.ndarray
    c: np.ndarray
    heads: np.ndarray
    free_parent: np.ndarray
    parent: np.ndarray
    ref: np.ndarray
    rest_poses: np.ndarray
    rest_vertices: np.ndarray
    local_offsets: np.ndarray

    @property
    def rest_keypoints(self) -> np.ndarray:
        """(K, 3) `FIT_KEYPOINTS` with every delta the identity and the root translation zero."""
        return self.c.sum(axis=1)  # type: ignore[no-any-return]

    def local_rotation(self, deltas: np.ndarray) -> np.ndarray:
        """glTF-style local rotations (..., B, 3, 3) of every bone from the free bones' deltas (..., F, 3, 3).

        A bone's posed pose is W_c = W_p K_c with K_c's rotation U_p^T D_c U_c (Anny's forward kinematics);
        the root's is its delta. Bones that do not turn keep U_p^T U_c.
        """
        lead = deltas.shape[:-3]
        flat = deltas.reshape(-1, *deltas.shape[-3:])
        b = len(self.labels)
        index = [self.labels.index(name) for name in FREE_BONES]
        u = self.ref
        up_t = np.swapaxes(u[self.parent[1:]], -1, -2)
        out = np.empty((len(flat), b, 3, 3), dtype=np.result_type(deltas.dtype, u.dtype))
        # In blocks of frames: a ten-minute track's temporaries would otherwise be several times the output.
        for a in range(0, len(flat), _BLOCK_FRAMES):
            chunk = flat[a : a + _BLOCK_FRAMES]
            d = np.broadcast_to(np.eye(3), (len(chunk), b, 3, 3)).copy()
            d[:, index] = chunk
            out[a : a + len(chunk), 0] = d[:, 0]
            out[a : a + len(chunk), 1:] = up_t @ d[:, 1:] @ u[1:]
        return out.reshape(*lead, b, 3, 3)


def _coeffs(model: object, phenotype: torch.Tensor) -> torch.Tensor:
    import torch

    empty = torch.zeros(phenotype.shape[0], 0, dtype=phenotype.dtype)
    return model._get_phenotype_blendshape_coefficients(phenotype, empty, empty)  # type: ignore[attr-defined,no-any-return]


class ShapeBasis:
    """Rest keypoints as a differentiable function of the phenotype, for fitting the body's proportions."""

    def __init__(self, cache_dir: Path) -> None:
        import torch

        self.model = load_anny(cache_dir)
        regressor = load_coco_regressor(cache_dir)
        names = list(regressor.labels)
        self.rows = [names.index(k) for k in FIT_KEYPOINTS]
        r = regressor.regression_weights[self.rows]  # (K, V)
        with torch.no_grad():
            self.template = r @ self.model.template_vertices  # (K, 3)
            self.basis = torch.einsum("kv,cvd->ckd", r, self.model.blendshapes)  # (C, K, 3)
        self.labels = list(self.model.phenotype_labels)

    def keypoints(self, phenotype: torch.Tensor) -> torch.Tensor:
        """(B, K, 3) rest keypoints of `FIT_KEYPOINTS` for phenotypes (B, P)."""
        import torch

        coeffs = _coeffs(self.model, phenotype)
        return self.template[None] + torch.einsum("bc,ckd->bkd", coeffs, self.basis)


_RIGS: OrderedDict[tuple[Path, bytes], Rig] = OrderedDict()
_RIGS_KEPT = 8
_rigs_lock = threading.Lock()


def build_rig(cache_dir: Path, phenotype: np.ndarray) -> Rig:
    """The reduced rig of the body with `phenotype` (values of Anny's `phenotype_labels`).

    The last few rigs are kept: the fit and the GLB export of a track ask for the same one (treat a Rig
    as read-only).
    """
    key = (Path(cache_dir).resolve(), np.asarray(phenotype, dtype=np.float64).tobytes())
    with _rigs_lock:
        rig = _RIGS.get(key)
        if rig is not None:
            _RIGS.move_to_end(key)
            return rig
    rig = _build_rig(cache_dir, phenotype)
    with _rigs_lock:
        _RIGS[key] = rig
        while len(_RIGS) > _RIGS_KEPT:
            _RIGS.popitem(last=False)
    return rig


def _build_rig(cache_dir: Path, phenotype: np.ndarray) -> Rig:
    import torch

    model = load_anny(cache_dir)
    regressor = load_coco_regressor(cache_dir)
    names = list(regressor.labels)
    rows = [names.index(k) for k in FIT_KEYPOINTS]
    labels = list(model.bone_labels)
    parent = np.array([int(p) for p in model.bone_parents])
    with torch.no_grad():
        pheno = torch.as_tensor(np.asarray(phenotype, dtype=np.float32))[None]
        coeffs = _coeffs(model, pheno)
        rest = model.get_rest_model(coeffs)
        rest_v = rest["rest_vertices"][0].double()
        poses = rest["rest_bone_poses"][0].double()
        weights = model.dense_vertex_bone_weights.double()  # (V, B)
        r = regressor.regression_weights[rows].double()  # (K, V)
        a = (r @ weights).numpy()  # (K, B)
        b = torch.stack([(r * rest_v[:, d]) @ weights for d in range(3)], dim=-1).numpy()  # (K, B, 3)
    rot, h = poses[:, :3, :3].numpy(), poses[:, :3, 3].numpy()
    u = model.reference_bone_orientations.double().numpy()
    nb = len(labels)
    # A_p = U_p R_p^T takes a parent from rest to reference; heads offsets in the reference pose.
    a_rot = np.einsum("bij,bkj->bik", u, rot)
    a_rot[0] = np.eye(3)
    q_off = np.zeros((nb, 3))
    q_off[1:] = np.einsum("bij,bj->bi", a_rot[parent[1:]], h[1:] - h[parent[1:]])
    e_rot = np.einsum("bij,bkj->bik", u, rot)  # E_j = U_j R_j^T
    e = np.einsum("bij,kbj->kbi", e_rot, b - a[:, :, None] * h[None])  # (K, B, 3)

    free_index = {name: f for f, name in enumerate(FREE_BONES)}
    owner = np.zeros(nb, dtype=np.int64)  # nearest free ancestor (or itself)
    for j in range(nb):
        if labels[j] in free_index:
            owner[j] = free_index[labels[j]]
        else:
            if parent[j] >= j:
                raise RuntimeError("Anny's bones are expected parents first")
            owner[j] = owner[parent[j]]
    nf = len(FREE_BONES)
    # s[f, j]: bone j's head = d0 + sum_f G_f s[f, j]
    s = np.zeros((nf, nb, 3))
    for j in range(1, nb):
        s[:, j] = s[:, parent[j]]
        s[owner[parent[j]], j] += q_off[j]
    c = np.einsum("kj,fjd->kfd", a, s)
    for j in range(nb):
        c[:, owner[j]] += e[:, j]
    free_bones = [labels.index(n) for n in FREE_BONES]
    heads = s[:, free_bones].transpose(1, 0, 2)  # (F, F, 3): head of free bone i from bone f
    free_parent = np.array([-1] + [owner[parent[j]] for j in free_bones[1:]])
    local_offsets = np.zeros((nb, 3))
    local_offsets[1:] = np.einsum("bji,bj->bi", rot[parent[1:]], h[1:] - h[parent[1:]])
    return Rig(
        labels=labels,
        phenotype_labels=list(model.phenotype_labels),
        phenotype=np.asarray(phenotype, dtype=np.float64),
        coeffs=coeffs.numpy(),
        c=c,
        heads=heads,
        free_parent=free_parent,
        parent=parent,
        ref=u,
        rest_poses=poses.numpy(),
        rest_vertices=rest_v.numpy(),
        local_offsets=local_offsets,
    )
