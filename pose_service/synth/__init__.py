"""Synthetic snowboard clips with exact ground truth: the Anny body posed through a trick, rendered over snow.

    spec = parse_trick("backflip+360")
    truth_path = render_clip(spec, Path("clip.mp4"), anny_cache_dir=settings.anny_cache_dir)

The truth (`clip.truth.json`) holds the jump, joints in 3D (world, metres, y up) and in pixels, and the
camera; see `truth.build_truth` for the fields and conventions. A moving camera (`render_clip(..., camera=
"follow-front")`, one of `CAMERA_KINDS`) films the rider in a textured world; the truth's `camera_path` holds it per
frame. `moving_suite()` names the clips `bench/moving_camera.py` scores the analysis on.
"""

from pose_service.synth.camera_path import CAMERA_KINDS, CameraPath
from pose_service.synth.clip import VIEWS, render_clip
from pose_service.synth.spec import TRICK_FORMS, TrickSpec, parse_trick
from pose_service.synth.suite import MovingClip, airbag_suite, moving_suite

__all__ = [
    "TrickSpec",
    "parse_trick",
    "render_clip",
    "TRICK_FORMS",
    "VIEWS",
    "CAMERA_KINDS",
    "CameraPath",
    "MovingClip",
    "airbag_suite",
    "moving_suite",
]
