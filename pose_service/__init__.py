"""pose-service: turn a snowboarding clip into tracked 2D/3D poses, meshes and jump analysis."""

import os
from importlib.metadata import PackageNotFoundError, version

# numpy's OpenBLAS hands even a 4x4 inverse (the tracker's Kalman filters, on every frame) to a second thread,
# which then spins on sched_yield waiting for more: on two cores it took turns with the pose model's threads.
# One BLAS thread gives the same numbers; on phalp_vid.mp4 the kernel's share of the run fell from 7.5 to 2.7
# CPU seconds and the involuntary context switches from 468,000 to 8,000. Set before numpy loads OpenBLAS (the
# package is imported first by the CLI and by every worker and chunk process); a value already set is kept.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

try:
    __version__ = version("pose-service")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0.0.0+source"

__all__ = ["__version__"]
