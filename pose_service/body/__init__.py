"""The body stage: the Anny parametric body model (loading, cache)."""

from pose_service.body.model import ANNY_TO_Y_UP, anny_cache_ready, load_anny, load_coco_regressor, prepare_anny

__all__ = ["ANNY_TO_Y_UP", "anny_cache_ready", "load_anny", "load_coco_regressor", "prepare_anny"]
