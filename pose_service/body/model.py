"""The Anny parametric body model, loaded once per process with its cache in our data folder.

Anny's own frame (as loaded here, rig "anny", default topology): metres, Z up, the body facing -Y, the
person's left on +X, origin at the root bone between the hips. Its bone labels and its COCO keypoint
labels follow the person's anatomy (`upperarm01.L` and `left_shoulder` are the person's left).
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # importing torch costs seconds; callers that only check the cache never pay it
    import anny

__all__ = [
    "ANNY_TO_Y_UP",
    "load_anny",
    "load_coco_regressor",
    "prepare_anny",
    "anny_cache_ready",
]

log = logging.getLogger(__name__)

# Rotation taking Anny's frame (Z up, facing -Y, left +X) to ours (Y up, facing +Z, left +X).
ANNY_TO_Y_UP = ((1.0, 0.0, 0.0), (0.0, 0.0, 1.0), (0.0, -1.0, 0.0))

# The dense torch skinning: the default (NVIDIA Warp) compiles kernels into ~/.cache/warp on first use.
_SKINNING = "lbs"
_CACHE_PREFIX = "build_compact_model_data_"

_lock = threading.Lock()
_models: dict[Path, anny.Anny] = {}
_regressors: dict[Path, anny.KeypointsRegressor] = {}


def _use_cache_dir(cache_dir: Path) -> None:
    import anny.paths

    cache_dir.mkdir(parents=True, exist_ok=True)
    anny.paths.set_anny_cache_path(cache_dir)


def load_anny(cache_dir: Path) -> anny.Anny:
    """The Anny full-body model (torch, CPU, float32, eval mode), built from or into `cache_dir`.

    Memoised per process and cache folder. The first construction in an empty folder takes about a
    minute and writes a few hundred MB of cache there; later ones load in well under a second.
    """
    key = Path(cache_dir).resolve()
    with _lock:
        model = _models.get(key)
        if model is not None:
            return model
        import anny as anny_pkg
        import torch

        _use_cache_dir(key)
        if not anny_cache_ready(key):
            log.info("building the Anny cache in %s (about a minute, once)", key)
        model = anny_pkg.Anny(skinning_method=_SKINNING).to(dtype=torch.float32).eval()
        _models[key] = model
        return model


def load_coco_regressor(cache_dir: Path) -> anny.KeypointsRegressor:
    """Anny's COCO keypoint regressor for the model of `cache_dir` (23 labels: the 17 COCO joints, then feet)."""
    model = load_anny(cache_dir)
    key = Path(cache_dir).resolve()
    with _lock:
        regressor = _regressors.get(key)
        if regressor is None:
            import anny as anny_pkg

            regressor = anny_pkg.KeypointsRegressor.coco(model)
            _regressors[key] = regressor
        return regressor


def prepare_anny(cache_dir: Path) -> None:
    """Build Anny's cache in `cache_dir` (no-op when it is already there)."""
    load_anny(cache_dir)


def anny_cache_ready(cache_dir: Path) -> bool:
    """True when `cache_dir` holds the built model data of the installed anny version (no model is built)."""
    cache_dir = Path(cache_dir)
    try:
        from anny.models.model_data import CURRENT_DATA_VERSION
    except ImportError:
        return False
    folder = cache_dir / f"v{CURRENT_DATA_VERSION}"
    return folder.is_dir() and any(p.stat().st_size > 0 for p in folder.glob(f"{_CACHE_PREFIX}*.safetensors"))
