"""The rider's body for a synthetic clip: Anny posed by the motion script, placed in the world, with a board.

`pose_body` runs Anny's forward pass over all frames (batched, no gradients), regresses the COCO joints,
puts the feet on the snow when riding and the root on a ballistic arc in the air, and returns world
vertices and joints per frame in a `PosedBody`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pose_service.body.model import load_anny, load_coco_regressor
from pose_service.synth.motion import Motion, ballistic_height

__all__ = ["RiderModel", "PosedBody", "load_rider", "pose_body", "JOINT_NAMES", "BOARD_THICKNESS_M"]

# The 17 COCO joints (named as BlazePose names them), then the mid-hip.
COCO_17 = (
    "nose",
    "left_eye",
    "right_eye",
    "left_ear",
    "right_ear",
    "left_shoulder",
    "right_shoulder",
    "left_elbow",
    "right_elbow",
    "left_wrist",
    "right_wrist",
    "left_hip",
    "right_hip",
    "left_knee",
    "right_knee",
    "left_ankle",
    "right_ankle",
)
JOINT_NAMES = (*COCO_17, "pelvis")

BOARD_LENGTH_M, BOARD_WIDTH_M, BOARD_THICKNESS_M = 1.5, 0.27, 0.025
_BATCH = 64
_WAIST_Z = -0.02  # Anny rest frame: the jacket ends here, the trousers begin
_SKIN_BONES = ("head", "neck", "wrist", "finger", "metacarpal")
_BOOT_BONES = ("foot", "toe")
_LEG_BONES = ("upperleg", "lowerleg", "pelvis", "root", "spine05")


@dataclass(frozen=True)
class RiderModel:
    """The Anny body of one rider at rest, with what rendering needs.

    faces: (F, 3) triangles; face_parts: part name per face; rest_vertices: (V, 3) Anny frame;
    rest_heads: (B, 3) bone heads at rest; foot_vertices: indices of the vertices under the ankles.
    """

    model: object
    regressor: object
    phenotype: dict[str, float]
    bone_labels: list[str]
    faces: np.ndarray
    face_parts: list[str]
    rest_vertices: np.ndarray
    rest_heads: np.ndarray
    foot_vertices: np.ndarray

    @property
    def height_m(self) -> float:
        return float(np.ptp(self.rest_vertices[:, 2]))


def load_rider(anny_cache_dir: Path, seed: int) -> RiderModel:
    """Anny with a phenotype picked by `seed` (seed 0: the model's average adult), parts coloured by bone."""
    import torch

    model = load_anny(anny_cache_dir)
    regressor = load_coco_regressor(anny_cache_dir)
    rng = np.random.default_rng(seed)
    labels = list(model.phenotype_labels)
    phenotype = {label: 0.5 for label in labels}
    if seed:
        for label in ("gender", "muscle", "weight", "height", "proportions"):
            if label in phenotype:
                phenotype[label] = float(rng.uniform(0.3, 0.7))
    with torch.no_grad():
        rest = model(phenotype_kwargs=phenotype)
    rest_vertices = rest["vertices"][0].numpy().astype(np.float64)
    rest_heads = rest["rest_bone_heads"][0].numpy().astype(np.float64)
    bone_labels = list(model.bone_labels)
    faces = model.faces.numpy().astype(np.int64)
    weights = model.vertex_bone_weights.numpy()
    indices = model.vertex_bone_indices.numpy()
    dominant = [bone_labels[i] for i in indices[np.arange(len(indices)), weights.argmax(1)]]
    vertex_parts = _vertex_parts(dominant, rest_vertices, regressor, rest)
    face_parts = _face_parts(vertex_parts, faces)
    foot = np.array([i for i, b in enumerate(dominant) if b.startswith(_BOOT_BONES)], dtype=np.int64)
    return RiderModel(model, regressor, phenotype, bone_labels, faces, face_parts, rest_vertices, rest_heads, foot)


def _vertex_parts(dominant: list[str], rest: np.ndarray, regressor: object, rest_out: dict) -> list[str]:
    import torch

    with torch.no_grad():
        joints = regressor(rest_out)[0].numpy()  # type: ignore[operator]
    names = list(regressor.labels)  # type: ignore[attr-defined]
    eye_z = float(joints[names.index("left_eye"), 2])
    ear_y = float(joints[names.index("left_ear"), 1])
    parts = []
    for bone, (_, y, z) in zip(dominant, rest, strict=True):
        if bone.startswith("eye"):
            parts.append("eye")
        elif bone == "head" and (z > eye_z + 0.035 or (y > ear_y + 0.015 and z > eye_z - 0.06)):
            parts.append("hat")  # a beanie over the top and back of the head
        elif bone.startswith(_SKIN_BONES):
            parts.append("skin")
        elif bone.startswith(_BOOT_BONES):
            parts.append("boots")
        elif bone.startswith(_LEG_BONES):
            parts.append("jacket" if z > _WAIST_Z and not bone.startswith(("upperleg", "lowerleg")) else "trousers")
        else:
            parts.append("jacket")
    return parts


def _face_parts(vertex_parts: list[str], faces: np.ndarray) -> list[str]:
    """The part most of a face's corners belong to (the first corner's on a three-way tie)."""
    out = []
    for a, b, c in faces.tolist():
        pa, pb, pc = vertex_parts[a], vertex_parts[b], vertex_parts[c]
        out.append(pb if pb == pc else pa)
    return out


@dataclass(frozen=True)
class PosedBody:
    """The rider in the world, per frame (metres, y up).

    vertices: (N, V, 3); joints: (N, J, 3) in `JOINT_NAMES` order; root: (N, 3) root bone position;
    rotation: (N, 3, 3) world-from-Anny; board: (N, 8, 3) corners of the snowboard box.
    """

    vertices: np.ndarray
    joints: np.ndarray
    root: np.ndarray
    rotation: np.ndarray
    board: np.ndarray


def pose_body(rider: RiderModel, motion: Motion) -> PosedBody:
    """Skin every frame, regress joints, and place the body: feet on the snow, or on the arc in the air."""
    import torch

    local_v, local_j = [], []
    pose = torch.from_numpy(motion.pose)
    with torch.no_grad():
        for start in range(0, len(pose), _BATCH):
            out = rider.model(pose_parameters=pose[start : start + _BATCH], phenotype_kwargs=rider.phenotype)  # type: ignore[operator]
            local_v.append(out["vertices"].numpy())
            local_j.append(rider.regressor(out).numpy())  # type: ignore[operator]
    verts = np.concatenate(local_v).astype(np.float64)  # (N, V, 3) Anny frame, root at the origin
    names = list(rider.regressor.labels)  # type: ignore[attr-defined]
    coco = np.concatenate(local_j).astype(np.float64)[:, [names.index(n) for n in COCO_17]]
    pelvis = 0.5 * (coco[:, COCO_17.index("left_hip")] + coco[:, COCO_17.index("right_hip")])
    joints = np.concatenate([coco, pelvis[:, None]], axis=1)

    # The soles' height below the root in the body's own up direction (Anny's Z), frame by frame.
    sole = verts[:, rider.foot_vertices, 2].min(axis=1)
    board = _board_corners(verts[:, rider.foot_vertices], sole)

    timeline = motion.timeline
    root_y = BOARD_THICKNESS_M - sole  # riding: the board's base on the snow (y = 0)
    air = motion.airborne
    if motion.drop_m > 0:  # on the box until takeoff (an airbag's negative drop is the landing's, above the snow)
        root_y = root_y + motion.drop_m * (timeline.times <= timeline.takeoff_s + 1e-9)
    if air.any():
        # The extended pose is the same at takeoff and landing, so the arc starts and ends at the same height
        # (a drop's ends lower by the box, an airbag's higher by the bag).
        y0 = root_y[timeline.takeoff_frame]
        arc = ballistic_height(timeline.times, timeline.takeoff_s, timeline.landing_s, y0, y0 - motion.drop_m)
        root_y = np.where(air, arc, root_y)
    rot = motion.rotation
    if motion.lying is not None and motion.lying.any():
        # A crash: the body rests on whatever is lowest (hips, back, board), never sinking into the snow; into an
        # airbag, on its surface as far as the rider has sunk in.
        lowest = np.concatenate([verts, board], axis=1)[motion.lying]
        down = np.einsum("nj,npj->np", rot[motion.lying, 1], lowest).min(axis=1)
        root_y = root_y.copy()
        rest = 0.0 if motion.rest_m is None else motion.rest_m[motion.lying]
        root_y[motion.lying] = rest - down
    root = np.stack([motion.x, root_y, np.zeros_like(root_y)], axis=1)

    def place(points: np.ndarray) -> np.ndarray:
        return np.einsum("nij,npj->npi", rot, points) + root[:, None, :]

    # Vertices are kept in float32: a long clip holds hundreds of frames of 13,718 of them.
    return PosedBody(place(verts).astype(np.float32), place(joints), root, rot, place(board))


def _board_corners(feet: np.ndarray, sole: np.ndarray) -> np.ndarray:
    """(N, 8, 3) corners of the board in Anny's frame: along X (left-right) under the soles, centred on the feet."""
    n = len(sole)
    centre_y = feet[:, :, 1].mean(axis=1)
    hx, hy = BOARD_LENGTH_M / 2, BOARD_WIDTH_M / 2
    corners = np.zeros((n, 8, 3))
    for k, (sx, sy, top) in enumerate([(sx, sy, top) for top in (True, False) for sx in (-1, 1) for sy in (-1, 1)]):
        corners[:, k, 0] = sx * hx
        corners[:, k, 1] = centre_y + sy * hy
        corners[:, k, 2] = sole if top else sole - BOARD_THICKNESS_M
    return corners


# The board box's sides as quads over `_board_corners`' order (index = 4*bottom + 2*(x>0) + (y>0)),
# counter-clockwise seen from outside as Anny's faces are, then split into triangles.
_BOARD_QUADS = {
    "board_top": (0, 2, 3, 1),  # +Z
    "board_base": (4, 5, 7, 6),  # -Z
    "board_tail": (0, 1, 5, 4),  # -X
    "board_nose": (2, 6, 7, 3),  # +X
    "board_toe": (0, 4, 6, 2),  # -Y
    "board_heel": (1, 3, 7, 5),  # +Y
}
BOARD_FACES = np.array([t for a, b, c, d in _BOARD_QUADS.values() for t in ((a, b, c), (a, c, d))], dtype=np.int64)
BOARD_PARTS = [("board_top" if side == "board_top" else "board_side") for side in _BOARD_QUADS for _ in range(2)]
