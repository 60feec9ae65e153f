"""Grabs in a synthetic clip: the Anny hand put on the board at a named place and held there for a chosen time.

This module's own reading of the riders' grab conventions (regular stance; a goofy rider mirrors: the front hand
is the one on the leading foot's side, the nose is beyond the leading foot):

    indy: back hand, toe edge between the bindings        mute: front hand, toe edge between the bindings
    melon: front hand, heel edge between the bindings     stalefish: back hand, heel edge, around behind the back leg
    method: a melon with the legs pulled back behind      Japan: a mute with the legs pulled back behind
    nose: front hand on the nose                          tail: back hand on the tail
    crail: back hand on the toe edge near the nose        seatbelt: front hand reaching across to the tail
    truck driver: front hand on the nose, back hand on the tail
    roast beef: back hand on the heel edge, the arm reaching through between the legs

The hand is placed by the body model's geometry, not by keypoints: a small inverse kinematics solve on Anny
itself (its forward pass, finite differences) turns the grabbing arm, bends the spine and tucks the legs until the
palm's centre (the mean of the hand's skin vertices) lies on the board's edge at the grab's place, with the elbow
on the side the grab's route asks (in front of the legs or behind them). The grab pose is eased in, held for
`TrickSpec.grab_hold_s` in the middle of the flight, and eased out. The truth's grab span is where the palm is
really within `CONTACT_M` of the board (easing included), measured on the skinned mesh.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
from scipy.spatial.transform import Rotation

from pose_service.synth.motion import Motion
from pose_service.synth.spec import TrickSpec

__all__ = ["GRABS", "GrabPlace", "grab_places", "apply_grab", "grab_weights", "CONTACT_M", "EASE_S"]

EASE_S = 0.1  # from the flight's pose to the grab and back
CONTACT_M = 0.05  # the truth: the palm this close to the board's outline is holding it
_BOARD_HALF_LENGTH, _BOARD_HALF_WIDTH, _THICKNESS = 0.75, 0.135, 0.025  # as `body.py`'s board
_NEAR_END_M = 0.52  # a nose or tail grab holds this far from the board's centre (the bindings sit near 0.25)


@dataclass(frozen=True)
class GrabPlace:
    """Where one hand holds: 'front' or 'back' hand, 'toe' or 'heel' edge, 'middle', 'nose' or 'tail', the arm's
    route ('front' of the legs, 'behind' them, or 'any') and whether the legs are pulled back (a tweak)."""

    hand: str
    edge: str
    zone: str
    route: str = "any"
    tweak: bool = False


GRABS: dict[str, tuple[GrabPlace, ...]] = {
    "indy": (GrabPlace("back", "toe", "middle"),),
    "mute": (GrabPlace("front", "toe", "middle"),),
    "melon": (GrabPlace("front", "heel", "middle", "behind"),),
    "stalefish": (GrabPlace("back", "heel", "middle", "behind"),),
    "method": (GrabPlace("front", "heel", "middle", "behind", tweak=True),),
    "japan": (GrabPlace("front", "toe", "middle", tweak=True),),
    "nose": (GrabPlace("front", "toe", "nose"),),
    "tail": (GrabPlace("back", "toe", "tail"),),
    "crail": (GrabPlace("back", "toe", "nose"),),
    "seatbelt": (GrabPlace("front", "toe", "tail"),),
    "truck_driver": (GrabPlace("front", "toe", "nose"), GrabPlace("back", "toe", "tail")),
    "roast_beef": (GrabPlace("back", "heel", "middle", "front"),),
}
# How each is written where a person reads it.
DISPLAY = {"japan": "Japan", "truck_driver": "truck driver", "roast_beef": "roast beef"}


def grab_places(name: str) -> tuple[GrabPlace, ...]:
    """The hand placements of a grab by name (`GRABS`; spaces or underscores, any case)."""
    key = name.strip().lower().replace(" ", "_").replace("-", "_")
    if key not in GRABS:
        raise ValueError(f"unknown grab {name!r} (known: {', '.join(sorted(GRABS))})")
    return GRABS[key]


def display_name(name: str) -> str:
    key = name.strip().lower().replace(" ", "_").replace("-", "_")
    return DISPLAY.get(key, key)


def grab_weights(times: np.ndarray, takeoff_s: float, landing_s: float, hold_s: float) -> np.ndarray:
    """(N,) how far into the grab pose each frame is: 1 over the hold (centred in the flight), eased over
    `EASE_S` either side (smoothstep), 0 elsewhere."""
    mid = 0.5 * (takeoff_s + landing_s)
    a, b = mid - hold_s / 2, mid + hold_s / 2
    up = np.clip((times - (a - EASE_S)) / EASE_S, 0.0, 1.0)
    down = np.clip(((b + EASE_S) - times) / EASE_S, 0.0, 1.0)
    w = np.minimum(up, down)
    return w * w * (3 - 2 * w)


# Variables of the solve: the grabbing upper arm's rotation (a rotation vector, radians, Anny's frame), the elbow's
# bend (deg), the spine's forward bend, side bend and twist (deg, over the five spine bones), the hips' flexion
# and the knees' bend (deg); per hand for two-hand grabs, the second arm's four too.
_NOMINAL = np.array([0.0, 0.0, 0.0, 20.0, 25.0, 0.0, 0.0, 90.0, 120.0])
_TWEAK_LEGS = (5.0, 125.0)  # a tweak: the hips nearly straight, the knees bent deep, the board behind


def _rot_about(axis: np.ndarray | list[int], deg: np.ndarray) -> np.ndarray:
    return Rotation.from_rotvec(np.radians(deg)[:, None] * np.asarray(axis, dtype=np.float64)[None]).as_matrix()


class _Solver:
    """Poses Anny for a grab (see the module docstring) by damped Gauss-Newton on finite differences."""

    def __init__(self, rider: object, places: tuple[GrabPlace, ...], riding_stance: str | None) -> None:
        self.rider = rider
        self.places = places
        self.labels = list(rider.bone_labels)  # type: ignore[attr-defined]
        self.index = {b: i for i, b in enumerate(self.labels)}
        leading = "L" if riding_stance != "goofy" else "R"
        self.nose_sign = 1.0 if leading == "L" else -1.0  # Anny +X is the rider's left
        self.sides = [leading if p.hand == "front" else ("R" if leading == "L" else "L") for p in places]
        weights = rider.model.vertex_bone_weights.numpy()  # type: ignore[attr-defined]
        indices = rider.model.vertex_bone_indices.numpy()  # type: ignore[attr-defined]
        dominant = [self.labels[i] for i in indices[np.arange(len(indices)), weights.argmax(1)]]
        self.palm = {
            s: np.array(
                [i for i, b in enumerate(dominant) if b.startswith(("metacarpal", "finger")) and b.endswith(f".{s}")]
            )  # fmt: skip
            for s in ("L", "R")
        }
        self.tweak = any(p.tweak for p in places)
        heads = rider.rest_heads  # type: ignore[attr-defined]
        self.elbow_axis = {}
        for s in ("L", "R"):  # as `motion.py` bends the elbow
            axis = np.cross(heads[self.index[f"wrist.{s}"]] - heads[self.index[f"lowerarm01.{s}"]], [0.0, -1.0, 0.0])
            self.elbow_axis[s] = axis / np.linalg.norm(axis)

    def deltas(self, x: np.ndarray, base: np.ndarray) -> np.ndarray:
        """(n, B, 4, 4) bone deltas for variable sets x (n, V) over the flight's pose `base` (B, 4, 4)."""
        n = len(x)
        out = np.tile(base, (n, 1, 1, 1)).astype(np.float64)
        put = lambda bone, r: out.__setitem__((slice(None), self.index[bone], slice(0, 3), slice(0, 3)), r)  # noqa: E731
        hip, knee = x[:, 7], x[:, 8]
        for side, sign in (("L", 1.0), ("R", -1.0)):
            abduct = _rot_about([0, 1, 0], np.full(n, -sign * 5.0))
            thigh = abduct @ _rot_about([1, 0, 0], -hip)
            shank = _rot_about([1, 0, 0], knee)
            put(f"upperleg01.{side}", thigh)
            put(f"lowerleg01.{side}", shank)
            put(f"foot.{side}", np.linalg.inv(thigh @ shank))
        spine = [b for b in ("spine05", "spine04", "spine03", "spine02", "spine01") if b in self.index]
        bend = _rot_about([1, 0, 0], x[:, 4] / len(spine)) @ _rot_about([0, 1, 0], x[:, 5] / len(spine))
        bend = bend @ _rot_about([0, 0, 1], x[:, 6] / len(spine))
        for bone in spine:
            put(bone, bend)
        if "neck01" in self.index:
            put("neck01", _rot_about([1, 0, 0], -0.5 * x[:, 4]))
        for k, side in enumerate(self.sides):
            o = 9 + 4 * (k - 1) if k else 0
            arm = Rotation.from_rotvec(x[:, o : o + 3]).as_matrix()
            put(f"upperarm01.{side}", arm)
            put(f"lowerarm01.{side}", _rot_about(self.elbow_axis[side], x[:, o + 3]))
        return out.astype(np.float32)

    def forward(self, x: np.ndarray, base: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Vertices (n, V, 3) and bone heads (n, B, 3) in Anny's frame."""
        import torch

        with torch.no_grad():
            out = self.rider.model(  # type: ignore[attr-defined]
                pose_parameters=torch.from_numpy(self.deltas(x, base)),
                phenotype_kwargs=self.rider.phenotype,  # type: ignore[attr-defined]
            )
        return out["vertices"].numpy().astype(np.float64), out["bone_poses"].numpy()[:, :, :3, 3].astype(np.float64)

    def targets(self, verts: np.ndarray) -> list[np.ndarray]:
        """Per hand (n, 3) the board point it should hold, for each variable set's legs."""
        foot = self.rider.foot_vertices  # type: ignore[attr-defined]
        sole = verts[:, foot, 2].min(axis=1)
        centre_y = verts[:, foot, 1].mean(axis=1)
        out = []
        for place, side in zip(self.places, self.sides, strict=True):
            if place.zone == "middle":
                along = 0.1 * (1.0 if side == "L" else -1.0)  # inside the hand's own binding
            else:
                along = _NEAR_END_M * (self.nose_sign if place.zone == "nose" else -self.nose_sign)
            across = -1.0 if place.edge == "toe" else 1.0  # Anny -Y is forward: the toes
            y = centre_y + across * (_BOARD_HALF_WIDTH + 0.02)
            out.append(np.stack([np.full_like(sole, along), y, sole - _THICKNESS / 2], axis=1))
        return out

    def residuals(self, x: np.ndarray, base: np.ndarray) -> np.ndarray:
        verts, heads = self.forward(x, base)
        res = []
        for k, (place, side, target) in enumerate(zip(self.places, self.sides, self.targets(verts), strict=True)):
            palm = verts[:, self.palm[side]].mean(axis=1)
            res.append(4.0 * (palm - target))
            feet = np.asarray(self.rider.foot_vertices)  # type: ignore[attr-defined]
            elbow_y = heads[:, self.index[f"lowerarm01.{side}"], 1] - verts[:, feet, 1].mean(1)
            want = {"front": -1.0, "behind": 1.0}.get(place.route)
            res.append(np.zeros((len(x), 1)) if want is None else 2.0 * np.maximum(0.08 - want * elbow_y, 0)[:, None])
            o = 9 + 4 * (k - 1) if k else 0
            res.append(0.002 * (x[:, o + 3 : o + 4] - 20.0))
        nominal = _NOMINAL[3:].copy()
        if self.tweak:
            nominal[4:6] = _TWEAK_LEGS
        res.append(0.004 * (x[:, 4:9] - nominal[1:]))
        if self.tweak:
            res.append(0.05 * (x[:, 7:9] - np.array(_TWEAK_LEGS)))
        # the body stays clear of impossible joints: elbows 0-150, knees 0-150, hips -20-130
        res.append(0.05 * np.maximum(np.abs(x[:, 5:7]) - 45.0, 0.0))
        return np.concatenate(res, axis=1)

    def solve(self, base: np.ndarray, iterations: int = 40) -> tuple[np.ndarray, float]:
        """The variables and the palm's remaining distance from its place (m, the worst hand)."""
        x = np.concatenate([_NOMINAL] + [_NOMINAL[:4]] * (len(self.places) - 1))
        if self.tweak:
            x[7:9] = _TWEAK_LEGS
        for k, place in enumerate(self.places):
            o = 9 + 4 * (k - 1) if k else 0
            # start with the arm hanging down and forward (or back), towards the board
            lean = -0.6 if place.route != "behind" else 0.5
            x[o : o + 3] = np.array([lean, 0.0, 0.0])
        step = np.array([0.02, 0.02, 0.02, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0] + [0.02, 0.02, 0.02, 1.0] * (len(x) > 9))
        damping = 1e-3
        r = self.residuals(x[None], base)[0]
        for _ in range(iterations):
            probes = np.concatenate([x[None], x[None] + np.diag(step)])
            rs = self.residuals(probes, base)
            jac = ((rs[1:] - rs[0]) / step[:, None]).T
            jtj = jac.T @ jac
            dx = np.linalg.solve(jtj + damping * np.diag(np.diag(jtj) + 1e-9), -jac.T @ rs[0])
            trial = x + dx
            rt = self.residuals(trial[None], base)[0]
            if rt @ rt < rs[0] @ rs[0]:
                x, r, damping = trial, rt, max(damping / 3, 1e-6)
            else:
                damping *= 5
            if damping > 1e4:
                break
        verts, _ = self.forward(x[None], base)
        worst = max(
            float(np.linalg.norm(verts[0, self.palm[s]].mean(axis=0) - t[0]))
            for s, t in zip(self.sides, self.targets(verts), strict=True)
        )
        del r
        return x, worst


def _blend(nominal: np.ndarray, grab: np.ndarray, w: np.ndarray) -> np.ndarray:
    """(N, B, 4, 4) deltas turning from `nominal` (N, B, 4, 4) towards `grab` (B, 4, 4) by w (N,) (slerp per bone)."""
    out = nominal.copy()
    n, b = nominal.shape[:2]
    for i in np.flatnonzero(w > 0):
        r0 = Rotation.from_matrix(nominal[i, :, :3, :3].astype(np.float64))
        r1 = Rotation.from_matrix(grab[:, :3, :3].astype(np.float64))
        rel = (r0.inv() * r1).as_rotvec()
        out[i, :, :3, :3] = (r0 * Rotation.from_rotvec(rel * w[i])).as_matrix()
    return out


def apply_grab(
    rider: object, motion: Motion, name: str, hold_s: float, riding_stance: str | None
) -> tuple[Motion, float]:
    """`motion` with the grab `name` held for `hold_s` mid-flight; and how far (m) the solve left the palm from its
    place on the board (a few millimetres when the pose reaches it)."""
    t = motion.timeline
    mid = int(np.argmin(np.abs(t.times - 0.5 * (t.takeoff_s + t.landing_s))))
    solver = _Solver(rider, grab_places(name), riding_stance)
    base = motion.pose[mid]
    x, miss = solver.solve(base)
    grab_pose = solver.deltas(x[None], base)[0]
    w = grab_weights(t.times, t.takeoff_s, t.landing_s, hold_s)
    return replace(motion, pose=_blend(motion.pose, grab_pose, w).astype(np.float32)), miss


def palm_vertices(rider: object, side: str) -> np.ndarray:
    """Indices of the hand's skin vertices (metacarpal and finger bones) on side 'L' or 'R'."""
    labels = list(rider.bone_labels)  # type: ignore[attr-defined]
    weights = rider.model.vertex_bone_weights.numpy()  # type: ignore[attr-defined]
    indices = rider.model.vertex_bone_indices.numpy()  # type: ignore[attr-defined]
    dominant = [labels[i] for i in indices[np.arange(len(indices)), weights.argmax(1)]]
    return np.array(
        [i for i, b in enumerate(dominant) if b.startswith(("metacarpal", "finger")) and b.endswith(f".{side}")]
    )


def board_distance(points: np.ndarray, board: np.ndarray) -> np.ndarray:
    """(N,) distance from points (N, 3) to the board box given by its corners (N, 8, 3) (`body._board_corners`'
    order: index = 4*bottom + 2*(x>0) + (y>0)); 0 inside."""
    origin = board[:, 0]
    axes = [board[:, 2] - origin, board[:, 1] - origin, board[:, 4] - origin]  # length, width, thickness
    d2 = np.zeros(len(points))
    rel = points - origin
    for axis in axes:
        size = np.linalg.norm(axis, axis=1)
        u = np.einsum("ni,ni->n", rel, axis) / size
        d2 += np.maximum(np.maximum(-u, u - size), 0.0) ** 2
    return np.sqrt(d2)


def grab_truth(
    rider: object, vertices: np.ndarray, board: np.ndarray, times: np.ndarray, trick: TrickSpec,
    riding_stance: str | None,
) -> dict[str, object]:
    """The truth's "grab" block: the name, then per hand where it holds and the frames its palm is within
    `CONTACT_M` of the board (measured on the posed mesh), and the grab's span over all its hands."""
    name = trick.grab
    if name is None:
        raise ValueError("grab_truth needs a trick with a grab")
    places = grab_places(name)
    leading = "L" if riding_stance != "goofy" else "R"
    hands, spans = [], []
    fps = 1.0 / float(np.median(np.diff(times)))
    for place in places:
        side = leading if place.hand == "front" else ("R" if leading == "L" else "L")
        palm = vertices[:, palm_vertices(rider, side)].mean(axis=1)
        near = np.flatnonzero(board_distance(palm, board) <= CONTACT_M)
        if len(near) == 0:
            continue
        a, b = int(near[0]), int(near[-1])
        spans.append((a, b))
        hands.append({"hand": place.hand, "side": "left" if side == "L" else "right", "edge": place.edge,
                      "zone": place.zone, "route": place.route, "start_frame": a, "end_frame": b})  # fmt: skip
    out: dict[str, object] = {
        "name": display_name(name),
        "hold_s": trick.grab_hold_s,
        "tweaked": any(p.tweak for p in places),
        "hands": hands,
    }  # type: ignore[attr-defined]
    if spans:
        a, b = min(s[0] for s in spans), max(s[1] for s in spans)
        out.update(start_frame=a, end_frame=b, start_s=round(float(times[a]), 5),
                   end_s=round(float(times[b]) + 1.0 / fps, 5), duration_s=round(float(times[b] - times[a]) + 1.0 / fps, 5))  # fmt: skip
    return out
