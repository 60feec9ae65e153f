"""Clips in every container the probe claims, and each kind of bad input, written with PyAV."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image

from pose_service.video import VideoWriter

W, H = 160, 96  # stored (coded) size of every test clip


def marked_frame(i: int) -> np.ndarray:
    """A grey frame with a red band along its top edge and a white column at x = 4 * i (frame order)."""
    rgb = np.full((H, W, 3), 90, dtype=np.uint8)
    rgb[:10, :, :] = (230, 30, 30)
    x = (4 * i) % W
    rgb[20:, x : x + 4, :] = 255
    return rgb


@dataclass(frozen=True)
class Clip:
    path: Path
    container: str  # PyAV's format name
    codec: str
    rotation_deg: int
    times: tuple[float, ...]  # presentation times written


def _write(path: Path, codec: str, times: list[float], rotation: int = 0) -> Path:
    with VideoWriter(path, width=W, height=H, fps=30, codec=codec, rotation_deg=rotation) as w:
        for i, t in enumerate(times):
            w.write(marked_frame(i), t)
    return path


@pytest.fixture(scope="session")
def clips(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Clip]:
    d = tmp_path_factory.mktemp("clips")
    steady = [i / 30 for i in range(45)]
    # Variable frame rate: alternating 1/30 s and 1/15 s steps, as phones do when light drops.
    vfr = list(np.cumsum([0.0] + [1 / 30 if i % 2 else 1 / 15 for i in range(39)]))
    table = {
        "mp4": ("clip.mp4", "libx264", "mov,mp4,m4a,3gp,3g2,mj2", "h264", 0, steady),
        "mov_rot90": ("phone.mov", "libx264", "mov,mp4,m4a,3gp,3g2,mj2", "h264", 90, steady),
        "webm": ("clip.webm", "libvpx-vp9", "matroska,webm", "vp9", 0, steady),
        "mkv": ("clip.mkv", "libx264", "matroska,webm", "h264", 0, steady),
        "avi": ("clip.avi", "mjpeg", "avi", "mjpeg", 0, steady),
        "vfr": ("vfr.mp4", "libx264", "mov,mp4,m4a,3gp,3g2,mj2", "h264", 0, vfr),
    }
    return {
        key: Clip(_write(d / name, codec, times, rot), fmt, dec, rot, tuple(times))
        for key, (name, codec, fmt, dec, rot, times) in table.items()
    }


@pytest.fixture(scope="session")
def bad_files(tmp_path_factory: pytest.TempPathFactory, clips: dict[str, Clip]) -> dict[str, Path]:
    """One file (or path) per kind of bad input."""
    d = tmp_path_factory.mktemp("bad")
    out: dict[str, Path] = {"missing": d / "nope.mp4", "folder": d / "a_folder"}
    out["folder"].mkdir()
    out["empty"] = d / "empty.mp4"
    out["empty"].write_bytes(b"")
    out["text"] = d / "notes.mp4"
    out["text"].write_text("this is a shopping list, not a video\n" * 20)
    out["jpeg"] = d / "photo.jpg"
    Image.fromarray(marked_frame(0)).save(out["jpeg"])
    out["audio"] = d / "song.m4a"
    with av.open(str(out["audio"]), "w") as c:
        s = c.add_stream("aac", rate=44100)
        for i in range(30):
            f = av.AudioFrame.from_ndarray(np.zeros((1, 1024), np.float32), format="fltp", layout="mono")
            f.sample_rate, f.pts = 44100, i * 1024
            for p in s.encode(f):
                c.mux(p)
        for p in s.encode(None):
            c.mux(p)
    data = clips["mp4"].path.read_bytes()  # moov box at the end, as a phone writes it
    out["truncated_no_index"] = d / "cut.mp4"
    out["truncated_no_index"].write_bytes(data[: len(data) // 2])
    out["truncated_data"] = d / "cut_faststart.mp4"
    out["truncated_data"].write_bytes(_faststart(clips["mp4"].path, d / "faststart.mp4")[: int(len(data) * 0.6)])
    # A header that claims a 100,000-pixel-wide picture (YUV4MPEG2 carries the size in plain text).
    out["huge_header"] = d / "huge.y4m"
    out["huge_header"].write_bytes(b"YUV4MPEG2 W100000 H16 F30:1 Ip A1:1 C420jpeg\nFRAME\n" + bytes(2000))
    # Two frames three hours apart: the header says the clip lasts 3 h.
    out["too_long"] = _write(d / "long.mp4", "libx264", [0.0, 3 * 3600.0])
    return out


def _faststart(src: Path, dst: Path) -> bytes:
    """Remux with the index (moov) before the data, as streaming-friendly MP4s are written."""
    with av.open(str(src)) as i, av.open(str(dst), "w", options={"movflags": "faststart"}) as o:
        ins = i.streams.video[0]
        outs = o.add_stream_from_template(ins)
        for packet in i.demux(ins):
            if packet.dts is None:
                continue
            packet.stream = outs
            o.mux(packet)
    data = dst.read_bytes()
    assert data.find(b"moov") < data.find(b"mdat"), "faststart remux did not move the index first"
    return data
