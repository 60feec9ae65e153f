"""pose-service: turn a snowboarding clip into tracked 2D/3D poses, meshes and jump analysis."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("pose-service")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0.0.0+source"

__all__ = ["__version__"]
