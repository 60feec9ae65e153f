"""pose-service: turn a snowboarding clip into tracked 2D/3D poses, meshes and jump analysis."""

import ctypes
import os
from importlib.metadata import PackageNotFoundError, version

# numpy's OpenBLAS hands even a 4x4 inverse (the tracker's Kalman filters, on every frame) to a second thread,
# which then spins on sched_yield waiting for more: on two cores it took turns with the pose model's threads.
# One BLAS thread gives the same numbers; on phalp_vid.mp4 (2 cores, load 2) the involuntary context switches
# fell from 418,000-717,000 to 3,000-5,000 and the kernel's CPU seconds from 7.6-8.3 to 3.0-3.4. Set before
# numpy loads OpenBLAS (the package is imported first by the CLI and by every worker and chunk process); a value
# already set is kept.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")


def _keep_freed_memory() -> None:
    """Have glibc's malloc keep freed memory for the next frame instead of handing it back to the kernel.

    Per frame the pipeline allocates and frees buffers of megabytes (the decoded frame, OpenCV's work images);
    glibc returns such memory at once when it lies at the top of the heap (a moving threshold of twice the
    largest block freed), and every page is faulted in again on the next frame: 3.7-4.3 million page faults and
    10-14 CPU s in the kernel for `analyze --no-mesh --jobs 2` on a 60 s 1080p clip (phalp_vid.mp4 looped), of
    112-128 CPU s in all. Blocks under 32 MB now come from the heap and up to 256 MB freed stay there: 0.25
    million faults, 1.5-5 CPU s in the kernel, 111-119 CPU s in all; the largest process's peak memory the same
    within 20 MB (a serial run on phalp_vid.mp4: 50 MB more, the ground's pass keeping its whole-frame buffers).
    Not glibc (no `mallopt`): left as it is."""
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return
    m_trim_threshold, m_mmap_threshold = -1, -3  # glibc's malloc.h
    mallopt(m_trim_threshold, 256 << 20)
    mallopt(m_mmap_threshold, 32 << 20)


_keep_freed_memory()

try:
    __version__ = version("pose-service")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0.0.0+source"

__all__ = ["__version__"]
