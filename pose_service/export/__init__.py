"""Files a run leaves behind: result.json, angles.csv, overlay.mp4."""

from pose_service.export.angles_csv import write_angles_csv
from pose_service.export.overlay import draw_people, write_overlay
from pose_service.export.result import SCHEMA_VERSION, build_result, load_schema, validate_result, write_json

__all__ = [
    "SCHEMA_VERSION",
    "build_result",
    "draw_people",
    "load_schema",
    "validate_result",
    "write_angles_csv",
    "write_json",
    "write_overlay",
]
