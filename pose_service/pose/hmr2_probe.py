"""The probe run inside the 4D-Humans environment: what it imports, its GPU, and the files it needs.

This file is executed by that environment's interpreter (`python -c <this source> <checkout>`), never
imported by pose-service's own code paths, so it uses the standard library only and keeps to syntax old
Pythons accept. It prints exactly one line, `POSE_SERVICE_PROBE {json}`, whatever else the imports print.

Where 4D-Humans and PHALP look for their files (see docs/phalp_output_format.md in the repository):
- the SMPL neutral model at `<checkout>/data/basicModel_neutral_lbs_10_207_0_v1.0.0.pkl` or
  `~/.cache/4DHumans/data/smpl/SMPL_NEUTRAL.pkl`, and again at `~/.cache/phalp/3D/models/smpl/SMPL_NEUTRAL.pkl`;
- the HMR2.0 checkpoint under `~/.cache/4DHumans/logs/train/multiruns/hmr2/0/`;
- PHALP's assets under `~/.cache/phalp/3D` and `~/.cache/phalp/weights`;
- detectron2's ViTDet weights in its path manager's cache (`~/.torch/iopath_cache`), looked for but not
  required, since where it lands depends on the detectron2 build.
"""

import json
import os
import sys
import traceback

MARKER = "POSE_SERVICE_PROBE "

# (module, required, fix)
MODULES = (
    ("torch", True, "install a CUDA build of PyTorch into this environment (4D-Humans' README: its conda "
                    "environment), or point POSE_SERVICE_HMR2_PYTHON at the environment that has it"),
    ("hmr2", True, "in the 4D-Humans checkout run `{python} -m pip install -e .[all]`, or set POSE_SERVICE_HMR2_DIR "
                   "to the checkout"),
    ("phalp", True, "install PHALP into this environment (4D-Humans' `pip install -e .[all]` pulls it in)"),
    ("detectron2", True, "install detectron2 into this environment (4D-Humans' `pip install -e .[all]` builds it)"),
    ("joblib", True, "`{python} -m pip install joblib` (PHALP writes its results with it)"),
)

_RUN_ONCE = ("run 4D-Humans' `track.py` once by hand on a short clip on a machine with internet access; it "
             "downloads this into {where}")


def _home(*parts):
    return os.path.join(os.path.expanduser("~"), *parts)


def files(checkout):
    """Each file 4D-Humans needs: name, candidate paths (any one will do), required, fix."""
    smpl_fix = ("register at smplify.is.tue.mpg.de, download the neutral model "
                "basicModel_neutral_lbs_10_207_0_v1.0.0.pkl and put it at {first}")
    ckpt_dir = _home(".cache", "4DHumans", "logs", "train", "multiruns", "hmr2", "0")
    out = [
        ("SMPL neutral model (4D-Humans)",
         [os.path.join(checkout, "data", "basicModel_neutral_lbs_10_207_0_v1.0.0.pkl"),
          _home(".cache", "4DHumans", "data", "smpl", "SMPL_NEUTRAL.pkl")], True, smpl_fix),
        ("SMPL neutral model (PHALP)", [_home(".cache", "phalp", "3D", "models", "smpl", "SMPL_NEUTRAL.pkl")], True,
         "copy the same SMPL neutral .pkl to {first} (PHALP's own download of it is broken)"),
        ("HMR2.0 checkpoint", [os.path.join(ckpt_dir, "checkpoints", "epoch=35-step=1000000.ckpt")], True,
         _RUN_ONCE.format(where="~/.cache/4DHumans (hmr2_data.tar.gz)")),
        ("HMR2.0 model config", [os.path.join(ckpt_dir, "model_config.yaml")], True,
         _RUN_ONCE.format(where="~/.cache/4DHumans (hmr2_data.tar.gz)")),
    ]
    for sub, name in (("3D", "head_faces.npy"), ("3D", "mean_std.npy"), ("3D", "smpl_mean_params.npz"),
                      ("3D", "SMPL_to_J19.pkl"), ("3D", "texture.npz"), ("weights", "hmar_v2_weights.pth"),
                      ("weights", "pose_predictor.pth"), ("weights", "pose_predictor.yaml")):
        out.append(("PHALP " + name, [_home(".cache", "phalp", sub, name)], True,
                    _RUN_ONCE.format(where="~/.cache/phalp")))
    vitdet = os.path.join("detectron2", "ViTDet", "COCO", "cascade_mask_rcnn_vitdet_h", "f328730692",
                          "model_final_f05665.pkl")
    cache = os.environ.get("IOPATH_CACHE") or os.environ.get("FVCORE_CACHE") or _home(".torch", "iopath_cache")
    out.append(("ViTDet-H detector weights", [os.path.join(cache, vitdet)], False,
                _RUN_ONCE.format(where="detectron2's cache (" + cache + ")")))
    return out


def _version(module, name):
    version = getattr(module, "__version__", None)
    if version:
        return str(version)
    try:
        from importlib import metadata

        return metadata.version(name)
    except Exception:
        return None


def probe(checkout):
    report = {
        "python": {"executable": sys.executable, "version": sys.version.split()[0]},
        "checkout": checkout,
        "track_py": os.path.isfile(os.path.join(checkout, "track.py")),
        "modules": {},
        "cuda": {"available": False},
        "files": [],
    }
    python = sys.executable
    for name, required, fix in MODULES:
        entry = {"ok": False, "required": required, "fix": fix.format(python=python)}
        try:
            module = __import__(name)
            entry.update(ok=True, version=_version(module, name), path=getattr(module, "__file__", None))
        except BaseException as exc:  # an import can fail with anything, even SystemExit
            lines = traceback.format_exception_only(type(exc), exc)
            entry["error"] = lines[-1].strip() if lines else type(exc).__name__
        report["modules"][name] = entry
    if report["modules"]["torch"]["ok"]:
        cuda = report["cuda"]
        try:
            import torch

            cuda["available"] = bool(torch.cuda.is_available())
            cuda["torch_cuda"] = getattr(torch.version, "cuda", None)
            if cuda["available"]:
                devices = []
                for i in range(torch.cuda.device_count()):
                    free, total = torch.cuda.mem_get_info(i)
                    devices.append({"index": i, "name": torch.cuda.get_device_name(i),
                                    "free_mb": int(free // 2**20), "total_mb": int(total // 2**20)})
                cuda["devices"] = devices
        except BaseException as exc:
            cuda["available"] = False
            cuda["error"] = f"{type(exc).__name__}: {exc}"
    for name, paths, required, fix in files(checkout):
        found = next((p for p in paths if os.path.isfile(p)), None)
        report["files"].append({"name": name, "paths": paths, "found": found, "required": required,
                                "fix": fix.format(first=paths[0])})
    return report


def main():
    checkout = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.getcwd())
    try:
        report = probe(checkout)
    except BaseException as exc:
        report = {"fatal": f"{type(exc).__name__}: {exc}"}
    sys.stdout.flush()
    sys.stdout.write("\n" + MARKER + json.dumps(report) + "\n")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
