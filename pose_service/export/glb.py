"""result.glb: every fitted person as a skinned Anny mesh with one animation, written by hand (glTF 2.0 binary).

Layout of the file (one buffer, one scene):
- per person, a mesh node named `track_<id>` (its `tracks[].body.glb_node`) with the fitted body at rest
  (POSITION, NORMAL, JOINTS_0/WEIGHTS_0: the four strongest bones) and a skin over Anny's 104 bones;
- the bones as nodes `track_<id>/<bone>` under a root joint, with inverse bind matrices of the rest pose;
- one animation per person (`track_<id>`): a rotation channel per posed bone and a translation channel on
  the root, keyed at the video's real timestamps, and a STEP scale channel hiding the body outside them;
- a camera node `camera` at the origin looking along -z with the video's field of view: the scene's frame
  is the fit's view frame (metres, y up), so looking through that camera shows the video's viewpoint.
Vertex data is shared across frames, so the file grows by a few hundred bytes per frame and person.
"""

from __future__ import annotations

import json
import math
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["SkinnedBody", "write_glb", "read_glb", "quaternions"]

_GLB_MAGIC, _JSON_CHUNK, _BIN_CHUNK = 0x46546C67, 0x4E4F534A, 0x004E4942
_FLOAT, _UBYTE, _USHORT, _UINT = 5126, 5121, 5123, 5125
_ARRAY_BUFFER, _ELEMENT_ARRAY_BUFFER = 34962, 34963
_TYPES = {1: "SCALAR", 2: "VEC2", 3: "VEC3", 4: "VEC4", 16: "MAT4"}


@dataclass
class SkinnedBody:
    """One person's body for the GLB (Anny's frame for the rest mesh, the view frame for the animation).

    vertices: (V, 3) rest positions; faces: (T, 3); joints: (V, 4) bone indices; weights: (V, 4) summing to 1.
    bone_names, parents: (B,) Anny's skeleton (parents first, root -1); rest_poses: (B, 4, 4) bind pose.
    local_offsets: (B, 3) each bone's fixed translation from its parent; local_rotations: (m, B, 3, 3)
    per frame; root_translation: (m, 3); animated: names of bones whose rotation changes;
    times_s: (m,) increasing timestamps.
    """

    name: str
    vertices: np.ndarray
    faces: np.ndarray
    joints: np.ndarray
    weights: np.ndarray
    bone_names: list[str]
    parents: np.ndarray
    rest_poses: np.ndarray
    local_offsets: np.ndarray
    local_rotations: np.ndarray
    root_translation: np.ndarray
    animated: tuple[str, ...]
    times_s: np.ndarray


def quaternions(r: np.ndarray) -> np.ndarray:
    """Unit quaternions (..., 4), x y z w as glTF stores them, of rotation matrices (..., 3, 3)."""
    r = np.asarray(r, dtype=np.float64)
    m00, m11, m22 = r[..., 0, 0], r[..., 1, 1], r[..., 2, 2]
    q = np.stack(
        [
            np.sqrt(np.maximum(0.0, 1 + m00 - m11 - m22)) / 2,
            np.sqrt(np.maximum(0.0, 1 - m00 + m11 - m22)) / 2,
            np.sqrt(np.maximum(0.0, 1 - m00 - m11 + m22)) / 2,
            np.sqrt(np.maximum(0.0, 1 + m00 + m11 + m22)) / 2,
        ],
        -1,
    )
    q[..., 0] = np.copysign(q[..., 0], r[..., 2, 1] - r[..., 1, 2])
    q[..., 1] = np.copysign(q[..., 1], r[..., 0, 2] - r[..., 2, 0])
    q[..., 2] = np.copysign(q[..., 2], r[..., 1, 0] - r[..., 0, 1])
    return q / np.linalg.norm(q, axis=-1, keepdims=True)  # type: ignore[no-any-return]


def _continuous(q: np.ndarray) -> np.ndarray:
    """Quaternions (m, 4) with signs chosen so neighbours agree (shortest interpolation path)."""
    q = q.copy()
    for i in range(1, len(q)):
        if np.dot(q[i], q[i - 1]) < 0:
            q[i] = -q[i]
    return q


def _normals(vertices: np.ndarray, faces: np.ndarray) -> np.ndarray:
    v = vertices.astype(np.float64)
    n = np.cross(v[faces[:, 1]] - v[faces[:, 0]], v[faces[:, 2]] - v[faces[:, 0]])
    corners = faces.reshape(-1)
    out = np.stack([np.bincount(corners, np.repeat(n[:, d], 3), minlength=len(v)) for d in range(3)], axis=1)
    length = np.linalg.norm(out, axis=1, keepdims=True)
    out = np.where(length > 1e-12, out / np.maximum(length, 1e-12), np.array([0.0, 0.0, 1.0]))
    return out.astype(np.float32)  # type: ignore[no-any-return]


class _Builder:
    """Accumulates the binary buffer and the JSON document."""

    def __init__(self) -> None:
        self.bin = bytearray()
        self.doc: dict[str, Any] = {
            "asset": {"version": "2.0", "generator": "pose-service"},
            "scene": 0,
            "scenes": [{"nodes": []}],
            "nodes": [],
            "meshes": [],
            "skins": [],
            "animations": [],
            "materials": [],
            "accessors": [],
            "bufferViews": [],
            "buffers": [],
        }

    def accessor(
        self,
        data: np.ndarray,
        component: int,
        *,
        target: int | None = None,
        bounds: bool = False,
        normalized: bool = False,
    ) -> int:
        arr = np.ascontiguousarray(data)
        count = arr.shape[0]
        width = int(np.prod(arr.shape[1:])) if arr.ndim > 1 else 1
        while len(self.bin) % 4:
            self.bin.append(0)
        view: dict[str, Any] = {"buffer": 0, "byteOffset": len(self.bin), "byteLength": arr.nbytes}
        if target is not None:
            view["target"] = target
        self.bin += arr.tobytes()
        self.doc["bufferViews"].append(view)
        acc: dict[str, Any] = {
            "bufferView": len(self.doc["bufferViews"]) - 1,
            "componentType": component,
            "count": count,
            "type": _TYPES[width],
        }
        if normalized:
            acc["normalized"] = True
        if bounds:
            flat = arr.reshape(count, width)
            cast = float if component == _FLOAT else int
            acc["min"] = [cast(x) for x in flat.min(0)]
            acc["max"] = [cast(x) for x in flat.max(0)]
        self.doc["accessors"].append(acc)
        return len(self.doc["accessors"]) - 1

    def node(self, node: dict[str, Any], root: bool = False) -> int:
        self.doc["nodes"].append(node)
        index = len(self.doc["nodes"]) - 1
        if root:
            self.doc["scenes"][0]["nodes"].append(index)
        return index

    def glb(self) -> bytes:
        while len(self.bin) % 4:
            self.bin.append(0)
        self.doc["buffers"] = [{"byteLength": len(self.bin)}]
        doc = {k: v for k, v in self.doc.items() if v != []}
        text = json.dumps(doc, separators=(",", ":")).encode("utf-8")
        text += b" " * (-len(text) % 4)
        total = 12 + 8 + len(text) + 8 + len(self.bin)
        return b"".join(
            [
                struct.pack("<III", _GLB_MAGIC, 2, total),
                struct.pack("<II", len(text), _JSON_CHUNK),
                text,
                struct.pack("<II", len(self.bin), _BIN_CHUNK),
                bytes(self.bin),
            ]
        )


def _add_body(b: _Builder, body: SkinnedBody, clip_times: np.ndarray, material: int) -> None:
    times = np.asarray(body.times_s, dtype=np.float32)
    if len(times) == 0 or np.any(np.diff(times) <= 0) or times[0] < 0:
        raise ValueError(f"{body.name}: animation times must be non-negative and increasing")
    first = b.accessor(body.vertices.astype(np.float32), _FLOAT, target=_ARRAY_BUFFER, bounds=True)
    attributes = {
        "POSITION": first,
        "NORMAL": b.accessor(_normals(body.vertices, body.faces), _FLOAT, target=_ARRAY_BUFFER),
        "JOINTS_0": b.accessor(body.joints.astype(np.uint8), _UBYTE, target=_ARRAY_BUFFER),
        "WEIGHTS_0": b.accessor(body.weights.astype(np.float32), _FLOAT, target=_ARRAY_BUFFER),
    }
    index_type = (np.uint16, _USHORT) if len(body.vertices) < 65535 else (np.uint32, _UINT)
    indices = b.accessor(body.faces.reshape(-1).astype(index_type[0]), index_type[1], target=_ELEMENT_ARRAY_BUFFER)
    b.doc["meshes"].append(
        {"name": body.name, "primitives": [{"attributes": attributes, "indices": indices, "material": material}]}
    )

    # Bones: default TRS = the first frame; children listed after all nodes exist.
    base = len(b.doc["nodes"])
    q0 = quaternions(body.local_rotations[0])
    for j, bone in enumerate(body.bone_names):
        node: dict[str, Any] = {"name": f"{body.name}/{bone}", "rotation": [float(x) for x in q0[j]]}
        t = body.root_translation[0] if j == 0 else body.local_offsets[j]
        node["translation"] = [float(x) for x in t]
        b.node(node, root=j == 0)
    for j in range(1, len(body.bone_names)):
        b.doc["nodes"][base + int(body.parents[j])].setdefault("children", []).append(base + j)
    ibm = np.linalg.inv(body.rest_poses.astype(np.float64))
    ibm[:, 3] = (0.0, 0.0, 0.0, 1.0)
    b.doc["skins"].append(
        {
            "name": body.name,
            "joints": list(range(base, base + len(body.bone_names))),
            "skeleton": base,
            "inverseBindMatrices": b.accessor(np.swapaxes(ibm, 1, 2).reshape(-1, 16).astype(np.float32), _FLOAT),
        }
    )
    b.node({"name": body.name, "mesh": len(b.doc["meshes"]) - 1, "skin": len(b.doc["skins"]) - 1}, root=True)

    samplers: list[dict[str, Any]] = []
    channels: list[dict[str, Any]] = []
    t_in = b.accessor(times, _FLOAT, bounds=True)

    def channel(node: int, path: str, values: np.ndarray, keys: int = t_in, interpolation: str = "LINEAR") -> None:
        out = b.accessor(values.astype(np.float32), _FLOAT)
        samplers.append({"input": keys, "output": out, "interpolation": interpolation})
        channels.append({"sampler": len(samplers) - 1, "target": {"node": node, "path": path}})

    index = {name: j for j, name in enumerate(body.bone_names)}
    for bone in body.animated:
        j = index[bone]
        channel(base + j, "rotation", _continuous(quaternions(body.local_rotations[:, j])))
    channel(base, "translation", body.root_translation)
    # Visible only while tracked: scale 0 before the first and after the last timestamp of the track.
    keys, scale = [float(times[0])], [1.0]
    earlier = clip_times[clip_times < times[0] - 1e-6]
    later = clip_times[clip_times > times[-1] + 1e-6]
    if len(earlier):
        keys, scale = [max(0.0, float(earlier[0]))] + keys, [0.0] + scale
    if len(later):
        keys, scale = keys + [float(later[0])], scale + [0.0]
    step_in = b.accessor(np.asarray(keys, dtype=np.float32), _FLOAT, bounds=True)
    channel(base, "scale", np.repeat(np.asarray(scale)[:, None], 3, 1), keys=step_in, interpolation="STEP")
    b.doc["animations"].append({"name": body.name, "samplers": samplers, "channels": channels})


def write_glb(
    path: Path, bodies: list[SkinnedBody], *, clip_times_s: np.ndarray, image_size: tuple[int, int], focal_px: float
) -> int:
    """Write `bodies` (and the video's camera) to `path` atomically; return the file's size in bytes."""
    b = _Builder()
    b.doc["materials"].append(
        {
            "name": "body",
            "pbrMetallicRoughness": {"baseColorFactor": [0.36, 0.55, 0.82, 1.0], "metallicFactor": 0.0,
                                     "roughnessFactor": 0.8},
        }
    )  # fmt: skip
    width, height = image_size
    b.doc["cameras"] = [
        {
            "name": "video",
            "type": "perspective",
            "perspective": {
                "yfov": 2 * math.atan(height / 2 / focal_px),
                "aspectRatio": width / height,
                "znear": 0.05,
                "zfar": 1000.0,
            },
        }
    ]
    clip = np.asarray(clip_times_s, dtype=np.float64)
    for body in bodies:
        _add_body(b, body, clip, 0)
    b.node({"name": "camera", "camera": 0}, root=True)
    data = b.glb()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.part")
    tmp.write_bytes(data)
    tmp.replace(path)
    return len(data)


def read_glb(path: Path) -> tuple[dict[str, Any], bytes]:
    """(JSON document, binary chunk) of a GLB file; ValueError if its framing is wrong."""
    data = Path(path).read_bytes()
    if len(data) < 20:
        raise ValueError("too short for a GLB")
    magic, version, total = struct.unpack_from("<III", data, 0)
    if magic != _GLB_MAGIC or version != 2 or total != len(data):
        raise ValueError(f"not a glTF 2.0 binary (magic {magic:#x}, version {version}, length {total}/{len(data)})")
    json_len, json_type = struct.unpack_from("<II", data, 12)
    if json_type != _JSON_CHUNK:
        raise ValueError("the first chunk is not JSON")
    doc = json.loads(data[20 : 20 + json_len])
    offset = 20 + json_len
    binary = b""
    if offset < len(data):
        bin_len, bin_type = struct.unpack_from("<II", data, offset)
        if bin_type != _BIN_CHUNK:
            raise ValueError("the second chunk is not BIN")
        binary = data[offset + 8 : offset + 8 + bin_len]
    return doc, binary
