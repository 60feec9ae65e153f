"""The test suite on pictures one level of noise away: which tests rest on readings another CPU may flip?

A pytest plugin. Every decoded frame gets a fixed pseudo-random -1, 0 or +1 on each channel (seeded by the frame's
timestamp, so a clip decodes the same twice), then the suite runs as usual:

    .venv/bin/python -m pytest -p bench.pixel_noise                       # the whole suite
    .venv/bin/python -m pytest -p bench.pixel_noise tests/analysis        # a part

The pose model's numbers differ a little between CPUs, and a test must hold on any of them. Between these
pictures and the plain ones its inputs differ (0.67 levels of 255 on average), where a CPU's rounding changes
only its arithmetic: a larger push, so a test that fails here points at a result that can flip, a threshold a
reading sits on or a cue that mirrors. Run on 2026-12-05 (833 tests), three failed, on two clips:
sports2d_demo's front flip read as a backflip (the 3D fit's depth mirrored; `analysis.jumps._side_on_flip` now
reads its way round from the picture) and its 0.27 s jumping-jack hop lost (the feet rose 4.3 cm against a 5 cm
floor; the test now lets its two shortest hops, whose free fall rises within a quarter of the hips' 8 cm floor,
go unfound: the 0.23 s one was lost with the clip written again), and the rendered front flip filmed from behind
read as a backflip (the head's pitch seen from behind, `_face_on_flip`: open; the test asserts its count and leaves
its direction to `bench/trick_report.py`). Run again after those changes: one failed, a chunked and a serial run of
a rendered backflip named "backflip tail" and "backflip" (a hand drawn on the tucked feet for 0.1 s read as a
grab; `tests/test_chunks.py` now compares the rotation's name, the grab being the grab suite's).

Only the analyses run in the test process see the noise; jobs the server runs in worker processes decode
without it.
"""

from __future__ import annotations

import av
import numpy as np

from pose_service.video import decode

_plain = decode._rgb


def _noisy(frame: av.VideoFrame) -> np.ndarray:
    rgb = _plain(frame)
    seed = int(frame.pts or 0) & 0xFFFFFFFF
    noise = np.random.default_rng(seed).integers(-1, 2, size=rgb.shape, dtype=np.int16)
    return np.clip(rgb.astype(np.int16) + noise, 0, 255).astype(np.uint8)


decode._rgb = _noisy
