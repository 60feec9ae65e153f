"""The probe on real files in every container it claims, and on every kind of bad input."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from pose_service.errors import EmptyFile, FileMissing, NotAVideo, TooLarge, TruncatedVideo
from pose_service.video import probe

from .conftest import Clip, H, W


@pytest.mark.parametrize("key", ["mp4", "mov_rot90", "webm", "mkv", "avi", "vfr"])
def test_probe_reports_each_container(clips: dict[str, Clip], key: str) -> None:
    clip = clips[key]
    info = probe(clip.path)
    assert info.container == clip.container
    assert info.codec == clip.codec
    assert info.frame_count == len(clip.times)
    assert info.rotation_deg == clip.rotation_deg
    assert (info.coded_width, info.coded_height) == (W, H)
    # The upright picture of a clip turned by 90 degrees swaps width and height.
    assert (info.width, info.height) == ((H, W) if clip.rotation_deg in (90, 270) else (W, H))
    span = clip.times[-1] - clip.times[0]
    assert info.fps == pytest.approx((len(clip.times) - 1) / span, rel=0.01)
    assert info.fps_varies is (key == "vfr")
    assert info.duration_s == pytest.approx(span + 1 / info.fps, abs=0.05)


@pytest.mark.parametrize(
    ("key", "error", "words"),
    [
        ("missing", FileMissing, "no such file"),
        ("folder", FileMissing, "is a folder"),
        ("empty", EmptyFile, "empty (0 bytes)"),
        ("text", NotAVideo, "not a video"),
        ("jpeg", NotAVideo, "still image"),
        ("audio", NotAVideo, "audio only"),
        # a phone's MP4 cut short before its index (moov box, written last)
        ("truncated_no_index", TruncatedVideo, "index"),
        # an MP4 with its index first whose data was cut short
        ("truncated_data", TruncatedVideo, "frames"),
        ("huge_header", TooLarge, "100000x16"),
        ("too_long", TooLarge, "3:00:00"),
    ],
)
def test_probe_rejects_bad_input(bad_files: dict[str, Path], key: str, error: type, words: str) -> None:
    with pytest.raises(error) as caught:
        probe(bad_files[key])
    message = caught.value.one_line()
    assert words in message
    assert "\n" not in message and caught.value.hint, "one line, with a hint a person can act on"


def test_limits_are_configurable(clips: dict[str, Clip]) -> None:
    with pytest.raises(TooLarge, match="over the limit of 100 px"):
        probe(clips["mp4"].path, max_side_px=100)
    with pytest.raises(TooLarge, match="over the limit of 0:00:01"):
        probe(clips["mp4"].path, max_duration_s=1.0)
    assert probe(clips["mp4"].path, max_side_px=W, max_duration_s=2.0).frame_count == 45


@pytest.mark.parametrize("key", ["empty", "text", "truncated_no_index", "huge_header", "folder"])
def test_cli_exits_2_with_one_line(bad_files: dict[str, Path], key: str, tmp_path: Path) -> None:
    run = subprocess.run(
        [sys.executable, "-m", "pose_service", "analyze", str(bad_files[key]), "--out", str(tmp_path / "o")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 2, run.stderr
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("pose-service: "), run.stderr
    assert not (tmp_path / "o" / "result.json").exists()
