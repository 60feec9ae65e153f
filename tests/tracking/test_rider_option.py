"""`--rider ID`: the user's choice of rider, end to end through the command line (real pose model)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pose_service.cli import main
from pose_service.config import Settings
from pose_service.errors import BadOption
from pose_service.pipeline import AnalyzeOptions
from pose_service.video import VideoReader, probe
from pose_service.video.encode import VideoWriter


@pytest.fixture(scope="module")
def short_clip(spin_clip: Path, tmp_path_factory: pytest.TempPathFactory, settings: Settings) -> Path:
    """The first 20 frames of the synthetic spin (the rider standing before takeoff): cheap to analyse."""
    out = tmp_path_factory.mktemp("rider") / "short.mp4"
    info = probe(spin_clip, max_side_px=settings.max_side_px, max_duration_s=settings.max_duration_s)
    with VideoReader(info) as reader, VideoWriter(out, width=info.width, height=info.height, fps=info.fps) as w:
        for frame in reader:
            if frame.index >= 20:
                break
            w.write(frame.rgb, frame.time_s)
    return out


def test_rider_option_is_checked_before_any_work() -> None:
    for bad in (0, -3, True, "1"):
        with pytest.raises(BadOption, match="rider must be a track id"):
            AnalyzeOptions(rider=bad)  # type: ignore[arg-type]


def test_rider_chosen_on_the_command_line(short_clip: Path, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    code = main(["analyze", str(short_clip), "--out", str(tmp_path / "a"), "--no-mesh", "--rider", "1", "--json"])
    assert code == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["rider_track"] == 1
    result = json.loads((tmp_path / "a" / "result.json").read_text())
    assert [t["id"] for t in result["tracks"] if t["is_rider"]] == [1]


def test_unknown_rider_id_is_a_clear_exit_2(short_clip: Path, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    code = main(["analyze", str(short_clip), "--out", str(tmp_path / "b"), "--no-mesh", "--rider", "7"])
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert len(err.splitlines()) == 1
    assert "rider 7 is not a track id" in err and "choose one of [1]" in err
