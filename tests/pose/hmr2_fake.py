"""A STAND-IN for a 4D-Humans install, built in a temporary folder: a test double, not 4D-Humans.

The real 4D-Humans (HMR2.0 + PHALP) cannot run on this machine: no NVIDIA GPU, no CUDA, no SMPL model or
checkpoints, no internet to fetch them. What stands in for it here:
- the interpreter is this test run's own (`sys.executable`), not a separate environment;
- `checkout/track.py` is a small script that accepts the same Hydra overrides, really decodes the .mp4 it
  is given with PyAV, prints PHALP-like progress lines, and writes `results/demo_<stem>.pkl` with
  `joblib.dump(..., compress=3)` in exactly the structure docs/phalp_output_format.md documents.
  The people in it are the ground-truth joints of the synthetic clip (what the renderer drew), not a
  network's estimate; feet and the 20 extra joints the truth lacks are filled in from the ankles and hips;
- `checkout/{torch,hmr2,phalp,detectron2}` are tiny fake packages. They shadow the real ones because
  Python puts the script's folder (the checkout, also the probe's working folder) first on sys.path; the
  fake torch claims a CUDA GPU with 11 GiB free;
- `home/.cache/...` holds empty files where 4D-Humans and PHALP look for the SMPL model and checkpoints.
`MODE` in `checkout/mode.txt` makes track.py misbehave on purpose: `traceback` (exit 1), `no_pickle`
(prints an exception and exits 0, as PHALP does), `kill` (SIGKILL to itself), `sleep` (never ends).
"""

from __future__ import annotations

import json
from pathlib import Path

__all__ = ["BODY_25", "make_stand_in", "set_mode"]

# OpenPose BODY_25, written out here independently of the converter's table.
BODY_25 = (
    "nose", "neck", "right_shoulder", "right_elbow", "right_wrist", "left_shoulder", "left_elbow", "left_wrist",
    "mid_hip", "right_hip", "right_knee", "right_ankle", "left_hip", "left_knee", "left_ankle", "right_eye",
    "left_eye", "right_ear", "left_ear", "left_big_toe", "left_small_toe", "left_heel", "right_big_toe",
    "right_small_toe", "right_heel",
)  # fmt: skip

_TRACK_PY = r'''
"""STAND-IN for 4D-Humans' track.py (a test double; see tests/pose/hmr2_fake.py)."""
import os, signal, sys, time
from pathlib import Path

HERE = Path(__file__).resolve().parent
args = {}
for a in sys.argv[1:]:
    k, v = a.split("=", 1)
    if len(v) >= 2 and v[0] == v[-1] == "'":
        v = v[1:-1].replace("\\'", "'").replace("\\\\", "\\")
    args[k] = v
(HERE / "last_args.json").write_text(__import__("json").dumps({"args": args, "cwd": os.getcwd(), "pid": os.getpid()}))
mode = (HERE / "mode.txt").read_text().strip() if (HERE / "mode.txt").exists() else "ok"
print("[hydra] run dir:", args["video.output_dir"], flush=True)
if mode == "traceback":
    print("Traceback (most recent call last):\n  File \"track.py\", line 70, in main", flush=True)
    print("RuntimeError: CUDA out of memory. Tried to allocate 2.00 GiB", file=sys.stderr, flush=True)
    sys.exit(1)
if mode == "kill":
    os.kill(os.getpid(), signal.SIGKILL)
if mode == "sleep":
    while True:
        time.sleep(1)
if mode == "no_pickle":
    print("Tracking : clip  1/10", flush=True)
    print("Invalid source path: RuntimeError('cannot open video')", flush=True)  # PHALP prints and returns
    sys.exit(0)

import json
import av, joblib, numpy as np

source = args["video.source"]
if not source.endswith(".mp4"):
    raise SystemExit("Invalid source path")
out = Path(args["video.output_dir"])
stem = Path(source).stem
with av.open(source) as c:
    n_frames = sum(1 for _ in c.decode(video=0))
end = int(args.get("video.end_frame", 1300))
if end != -1:
    n_frames = min(n_frames, end)
truth = json.loads((HERE / "stand_in_truth.json").read_text())
W, H = truth["video"]["width"], truth["video"]["height"]
S = max(W, H)
names = truth["joint_names"]
J3 = np.array(truth["joints_3d"], dtype=np.float64)
K2 = np.array(truth["keypoints_2d"], dtype=np.float64)
poses = truth["camera"]["world_to_camera"]
BODY_25 = %(body_25)r
SPIN = ["right_ankle", "right_knee", "right_hip", "left_hip", "left_knee", "left_ankle", "right_wrist", "right_elbow",
        "right_shoulder", "left_shoulder", "left_elbow", "left_wrist", "neck", "nose", "mid_hip", "neck", "mid_hip",
        "nose", "nose"]

def joints45(p2, p3):
    d2 = {n: p2[i] for i, n in enumerate(names)}
    d3 = {n: p3[i] for i, n in enumerate(names)}
    for d in (d2, d3):
        d["neck"] = (d["left_shoulder"] + d["right_shoulder"]) / 2
        d["mid_hip"] = d["pelvis"]
        for side in ("left", "right"):
            d[side + "_big_toe"] = d[side + "_small_toe"] = d[side + "_heel"] = d[side + "_ankle"]
    j2 = np.array([d2[n] for n in BODY_25] + [d2[n] for n in SPIN] + [d2["mid_hip"]])
    j3 = np.array([d3[n] for n in BODY_25] + [d3[n] for n in SPIN] + [d3["mid_hip"]])
    return j2, j3

def entry(tid, t, scale, tracked_time):
    R, tr = np.array(poses[t]["R"]), np.array(poses[t]["t"])
    cam = J3[t] @ R.T + tr  # camera frame, x right, y down, z forward
    centre = K2[t].mean(axis=0)
    p2 = centre + (K2[t] - centre) * scale
    j2, j3 = joints45(p2, cam)
    camera = j3[-1].copy()
    j3 = (j3 - camera).astype(np.float32)
    j3[-1] = 0.0
    uv = (j2 + [(S - W) / 2, (S - H) / 2]) / S
    x0, y0 = p2.min(axis=0) - 10
    x1, y1 = p2.max(axis=0) + 10
    eye = np.eye(3, dtype=np.float32)
    return {
        "tid": tid, "bbox": np.array([x0, y0, x1 - x0, y1 - y0], dtype=np.float32), "tracked_time": tracked_time,
        "smpl": {"global_orient": eye[None].copy(), "body_pose": np.tile(eye, (23, 1, 1)),
                 "betas": np.full(10, 0.1 * tid, dtype=np.float32)},
        "camera": camera.astype(np.float32), "camera_bbox": np.array([0.9, 0.0, 0.1], dtype=np.float32),
        "3d_joints": j3, "2d_joints": uv.astype(np.float32).reshape(-1),
        "center": np.array([(x0 + x1) / 2, (y0 + y1) / 2], dtype=np.float32),
        "scale": np.array([x1 - x0, y1 - y0], dtype=np.float32), "size": [H, W], "conf": 0.97,
        "class_name": 0, "annotations": [], "extra_data": [], "mask": {"size": [H, W], "counts": b""},
        "img_path": None, "img_name": None,
    }

half = n_frames // 2
results = {}
img = out / "_DEMO" / stem / "img"
img.mkdir(parents=True, exist_ok=True)
# PHALP's own progress bar (phalp/utils/utils.py: rich, these columns, 10 redraws a second).
from rich.progress import BarColumn, Progress, SpinnerColumn, TaskProgressColumn, TextColumn, TimeElapsedColumn
from rich.progress import TimeRemainingColumn
bar = Progress(TextColumn("[progress.description]{task.description}"), SpinnerColumn(spinner_name="runner"),
               BarColumn(), TaskProgressColumn(show_speed=True), "eta :", TimeRemainingColumn(), " time elapsed :",
               TimeElapsedColumn(), auto_refresh=True, refresh_per_second=10.0)
with bar:
    for t in bar.track(range(n_frames), total=n_frames, description="Tracking : " + stem, update_period=0.1):
        time.sleep(0.01)
        path = str(img / ("%%06d.jpg" %% (t + 1)))
        Path(path).write_bytes(b"")
        people = [entry(1, t, 1.0, 0)]
        if t < half:
            people.append(entry(2, t, 0.5, 0))
        elif t < half + 5:  # ghost: PHALP keeps a lost track alive, repeating its last real detection
            ghost = entry(2, half - 1, 0.5, t - half + 1)
            people.append(ghost)
        frame = {"time": t, "shot": 1 if t == n_frames // 3 else 0, "frame_path": path}
        for key in people[0]:
            frame[key] = [p[key] for p in people]
        frame["img_path"] = [path] * len(people)
        frame["img_name"] = [os.path.basename(path)] * len(people)
        frame["tracked_ids"] = [p["tid"] for p in people if p["tracked_time"] == 0]
        frame["tracked_bbox"] = [p["bbox"] for p in people if p["tracked_time"] == 0]
        results[path] = frame
(out / "results").mkdir(parents=True, exist_ok=True)
joblib.dump(results, out / "results" / ("demo_" + stem + ".pkl"), compress=3)
print("saved", flush=True)
'''

_FAKE_TORCH = '''"""STAND-IN torch: claims one CUDA GPU (a test double; the real torch of this venv is CPU-only)."""
__version__ = "2.0.1+cu118 (stand-in)"


class version:
    cuda = "11.8"


class cuda:
    @staticmethod
    def is_available():
        return True

    @staticmethod
    def device_count():
        return 1

    @staticmethod
    def get_device_name(i):
        return "Stand-in GPU"

    @staticmethod
    def mem_get_info(i):
        return (11 * 2**30, 24 * 2**30)
'''

_HOME_FILES = (
    ".cache/4DHumans/data/smpl/SMPL_NEUTRAL.pkl",
    ".cache/phalp/3D/models/smpl/SMPL_NEUTRAL.pkl",
    ".cache/4DHumans/logs/train/multiruns/hmr2/0/checkpoints/epoch=35-step=1000000.ckpt",
    ".cache/4DHumans/logs/train/multiruns/hmr2/0/model_config.yaml",
    *(f".cache/phalp/3D/{n}" for n in ("head_faces.npy", "mean_std.npy", "smpl_mean_params.npz", "SMPL_to_J19.pkl",
                                       "texture.npz")),
    *(f".cache/phalp/weights/{n}" for n in ("hmar_v2_weights.pth", "pose_predictor.pth", "pose_predictor.yaml")),
)


def make_stand_in(root: Path, truth: dict, *, with_files: bool = True) -> tuple[Path, Path]:
    """Write the stand-in under `root`; returns (checkout, home). Point HOME at `home` to use its files."""
    checkout, home = root / "4D-Humans", root / "home"
    checkout.mkdir(parents=True)
    home.mkdir()
    body = _TRACK_PY % {"body_25": BODY_25}
    (checkout / "track.py").write_text(body)
    (checkout / "stand_in_truth.json").write_text(json.dumps(truth))
    (checkout / "torch").mkdir()
    (checkout / "torch" / "__init__.py").write_text(_FAKE_TORCH)
    for name in ("hmr2", "phalp", "detectron2"):
        (checkout / name).mkdir()
        (checkout / name / "__init__.py").write_text(f'"""STAND-IN {name} (a test double)."""\n__version__ = "0.0-stand-in"\n')
    if with_files:
        for rel in _HOME_FILES:
            (home / rel).parent.mkdir(parents=True, exist_ok=True)
            (home / rel).write_bytes(b"stand-in")
    return checkout, home


def set_mode(checkout: Path, mode: str) -> None:
    (checkout / "mode.txt").write_text(mode)
