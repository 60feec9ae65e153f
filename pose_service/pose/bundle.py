"""Build the MediaPipe Tasks `.task` bundle for multi-person BlazePose from the models in the wheel.

The mediapipe wheel ships the raw BlazePose models (`modules/pose_detection/pose_detection.tflite`,
`modules/pose_landmark/pose_landmark_full.tflite`) for its legacy single-person graph, but the
multi-person Tasks `PoseLandmarker` wants a `.task` file: an uncompressed zip holding
`pose_detector.tflite` and `pose_landmarks_detector.tflite`, each carrying image-input metadata whose
NormalizationOptions tell the Tasks graph how to turn pixels into the model's input range.

The ranges are those of the legacy graphs compiled into the wheel (their `ImageToTensorCalculator`
options, read from `_framework_bindings.so`):

    PoseDetectionCpu      224x224, output_tensor_float_range [-1, 1]  -> mean 127.5, std 127.5
    PoseLandmarkByRoiCpu  256x256, output_tensor_float_range [ 0, 1]  -> mean 0.0,   std 255.0

Giving the detector [0, 1] instead (one normalisation for both) costs many detections: see
`bench/pose_recall.py`.
"""

from __future__ import annotations

import hashlib
import importlib.machinery
import importlib.util
import json
import logging
import os
import sys
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from types import ModuleType

from pose_service.errors import EnvironmentProblem

__all__ = [
    "BUNDLE_NAME",
    "DETECTOR_NORM",
    "LANDMARKS_NORM",
    "Normalization",
    "build_bundle",
    "bundle_status",
    "ensure_bundle",
    "import_mediapipe",
    "read_bundle_normalization",
    "wheel_model_paths",
]

log = logging.getLogger(__name__)

BUNDLE_NAME = "pose_landmarker_full_multi.task"
_STAMP_SUFFIX = ".json"
_FIX_HINT = "run `make models` to build it from the installed mediapipe wheel"
# Bumped when the way the bundle is built changes, so old bundles are rebuilt.
_BUILDER_VERSION = 1

# Names the Tasks PoseLandmarker looks up inside the bundle.
_DETECTOR_ENTRY = "pose_detector.tflite"
_LANDMARKS_ENTRY = "pose_landmarks_detector.tflite"
# Where the wheel keeps the source models, relative to the mediapipe package.
_DETECTOR_SOURCE = "modules/pose_detection/pose_detection.tflite"
_LANDMARKS_SOURCE = "modules/pose_landmark/pose_landmark_full.tflite"


@dataclass(frozen=True)
class Normalization:
    """Per-channel `(pixel - mean) / std` applied to a 0..255 RGB image before the model sees it."""

    mean: float
    std: float

    @property
    def range(self) -> tuple[float, float]:
        return (-self.mean / self.std, (255.0 - self.mean) / self.std)


DETECTOR_NORM = Normalization(mean=127.5, std=127.5)  # [-1, 1]
LANDMARKS_NORM = Normalization(mean=0.0, std=255.0)  # [0, 1]


_SOLUTIONS = "mediapipe.python.solutions"
_DRAWING = ("drawing_utils", "drawing_styles")  # the legacy solutions' helpers that import matplotlib


def import_mediapipe() -> ModuleType:
    """`import mediapipe`, with the legacy solutions' drawing helpers run only when first used.

    mediapipe's `__init__` imports `solutions`, whose `drawing_utils` imports matplotlib.pyplot: about a
    second at every start of a process that only needs the Tasks API. Stand-in modules take the two
    drawing modules' places in `sys.modules`; the first attribute looked up on one
    (`mediapipe.solutions.drawing_utils.draw_landmarks`) runs the real module's code in it (PEP 562
    module `__getattr__`). The rest of mediapipe imports as usual.
    """
    if "mediapipe" not in sys.modules:
        top = importlib.util.find_spec("mediapipe")  # finds the package without running its __init__
        if top is not None and top.submodule_search_locations:
            folder = Path(next(iter(top.submodule_search_locations))) / "python" / "solutions"
            for name in _DRAWING:
                spec = importlib.util.spec_from_file_location(f"{_SOLUTIONS}.{name}", folder / f"{name}.py")
                if spec is not None and spec.loader is not None and (folder / f"{name}.py").is_file():
                    sys.modules.setdefault(spec.name, _deferred_module(spec))
    import mediapipe

    solutions = sys.modules.get(_SOLUTIONS)
    for name in _DRAWING:
        if solutions is not None and not hasattr(solutions, name) and f"{_SOLUTIONS}.{name}" in sys.modules:
            setattr(solutions, name, sys.modules[f"{_SOLUTIONS}.{name}"])
    return mediapipe


def _deferred_module(spec: importlib.machinery.ModuleSpec) -> ModuleType:
    module = importlib.util.module_from_spec(spec)
    loader = spec.loader
    assert loader is not None

    def load_on_first_use(name: str) -> object:
        del module.__dict__["__getattr__"]
        loader.exec_module(module)
        return getattr(module, name)

    module.__dict__["__getattr__"] = load_on_first_use
    return module


def wheel_model_paths() -> tuple[Path, Path]:
    """The detector and landmark models inside the installed mediapipe wheel."""
    try:
        mediapipe = import_mediapipe()
    except ImportError as exc:
        raise EnvironmentProblem(
            f"mediapipe cannot be imported: {exc}", hint="install the project: `pip install -e .`"
        ) from exc
    root = Path(str(mediapipe.__file__)).parent
    paths = (root / _DETECTOR_SOURCE, root / _LANDMARKS_SOURCE)
    for p in paths:
        if not p.is_file():
            raise EnvironmentProblem(
                f"the mediapipe wheel has no {p.name} (looked in {p.parent})",
                hint="reinstall mediapipe==0.10.21: `pip install --force-reinstall mediapipe==0.10.21`",
            )
    return paths


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _expected_stamp(detector_norm: Normalization, landmarks_norm: Normalization) -> dict[str, object]:
    mediapipe = import_mediapipe()

    det, lmk = wheel_model_paths()
    return {
        "builder_version": _BUILDER_VERSION,
        "mediapipe_version": mediapipe.__version__,
        "sources": {_DETECTOR_ENTRY: _sha256(det), _LANDMARKS_ENTRY: _sha256(lmk)},
        "normalization": {_DETECTOR_ENTRY: asdict(detector_norm), _LANDMARKS_ENTRY: asdict(landmarks_norm)},
    }


def _stamp_path(bundle: Path) -> Path:
    return bundle.with_name(bundle.name + _STAMP_SUFFIX)


def _with_metadata(model: bytes, name: str, description: str, norm: Normalization) -> bytes:
    from mediapipe.tasks.python.metadata.metadata_writers import metadata_writer, writer_utils

    writer = (
        metadata_writer.MetadataWriter.create(bytearray(model))
        .add_general_info(name, description)
        .add_image_input(norm_mean=[norm.mean], norm_std=[norm.std])
    )
    for tensor in writer_utils.get_output_tensor_names(bytearray(model)):
        writer.add_feature_output(name=tensor)
    content, _ = writer.populate()
    return bytes(content)


def _bundle_ok(bundle: Path) -> bool:
    """True when `bundle` is a readable uncompressed zip holding both models."""
    try:
        with zipfile.ZipFile(bundle) as zf:
            infos = {i.filename: i for i in zf.infolist()}
            if set(infos) != {_DETECTOR_ENTRY, _LANDMARKS_ENTRY}:
                return False
            if any(i.compress_type != zipfile.ZIP_STORED for i in infos.values()):
                return False
            return zf.testzip() is None
    except (OSError, zipfile.BadZipFile):
        return False


def _read_stamp(bundle: Path) -> dict[str, object] | None:
    try:
        data = json.loads(_stamp_path(bundle).read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def build_bundle(
    out: Path,
    *,
    detector_norm: Normalization = DETECTOR_NORM,
    landmarks_norm: Normalization = LANDMARKS_NORM,
) -> Path:
    """Write the `.task` bundle to `out` (atomically: temp file, then rename) and its stamp beside it."""
    from mediapipe.tasks.python.metadata.metadata_writers import model_asset_bundle_utils

    det_path, lmk_path = wheel_model_paths()
    stamp = _expected_stamp(detector_norm, landmarks_norm)
    models = {
        _DETECTOR_ENTRY: _with_metadata(
            det_path.read_bytes(), "BlazePose detector", "BlazePose person detector (224x224)", detector_norm
        ),
        _LANDMARKS_ENTRY: _with_metadata(
            lmk_path.read_bytes(), "BlazePose GHUM full", "BlazePose GHUM 3D landmarks (256x256)", landmarks_norm
        ),
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=out.name + ".", suffix=".tmp", dir=out.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        # AlignZipFile stores each member uncompressed and 4-byte aligned, as the Tasks loader mmaps them.
        model_asset_bundle_utils.create_model_asset_bundle(models, str(tmp))
        os.chmod(tmp, 0o644)  # mkstemp makes it owner-only; the bundle is a plain shared asset
        if not _bundle_ok(tmp):
            raise EnvironmentProblem(f"the freshly built {out.name} does not read back", hint=_FIX_HINT)
        stamp_tmp = tmp.with_suffix(".json.tmp")
        stamp_tmp.write_text(json.dumps(stamp, indent=2) + "\n")
        os.replace(tmp, out)
        os.replace(stamp_tmp, _stamp_path(out))
    finally:
        tmp.unlink(missing_ok=True)
        tmp.with_suffix(".json.tmp").unlink(missing_ok=True)
    return out


def ensure_bundle(models_dir: Path, progress: Callable[[str], None] | None = None) -> Path:
    """The path of the pose bundle in `models_dir`, built first if it is missing, stale or damaged."""
    bundle = Path(models_dir) / BUNDLE_NAME
    expected = _expected_stamp(DETECTOR_NORM, LANDMARKS_NORM)
    if _read_stamp(bundle) == expected and _bundle_ok(bundle):
        return bundle
    say = progress or (lambda _msg: None)
    say(f"building {bundle.name} from the mediapipe wheel")
    log.info("building pose bundle %s", bundle)
    try:
        build_bundle(bundle)
    except EnvironmentProblem:
        raise
    except Exception as exc:  # the metadata writer and zip code raise many kinds
        raise EnvironmentProblem(f"could not build {bundle}: {exc}", hint=_FIX_HINT) from exc
    say(f"built {bundle}")
    return bundle


def bundle_status(models_dir: Path) -> tuple[bool, str]:
    """Whether the pose bundle is present and current, with a message for `doctor`. Never builds."""
    bundle = Path(models_dir) / BUNDLE_NAME
    if not bundle.is_file():
        return False, f"pose model bundle missing: {bundle}; {_FIX_HINT}"
    try:
        expected = _expected_stamp(DETECTOR_NORM, LANDMARKS_NORM)
    except EnvironmentProblem as exc:
        return False, exc.one_line()
    stamp = _read_stamp(bundle)
    if stamp is None:
        return False, f"pose model bundle {bundle} has no readable stamp; {_FIX_HINT}"
    if stamp != expected:
        return False, f"pose model bundle {bundle} is out of date with the installed mediapipe; {_FIX_HINT}"
    try:
        with zipfile.ZipFile(bundle) as zf:
            names = set(zf.namelist())
    except (OSError, zipfile.BadZipFile):
        return False, f"pose model bundle {bundle} is damaged; {_FIX_HINT}"
    if names != {_DETECTOR_ENTRY, _LANDMARKS_ENTRY}:
        return False, f"pose model bundle {bundle} lacks the models; {_FIX_HINT}"
    return True, f"pose model bundle ready: {bundle}"


def read_bundle_normalization(bundle: Path) -> dict[str, Normalization]:
    """The image-input normalisation each model in `bundle` carries in its metadata."""
    from mediapipe.tasks.python.metadata import metadata

    out: dict[str, Normalization] = {}
    with zipfile.ZipFile(bundle) as zf:
        for name in zf.namelist():
            displayer = metadata.MetadataDisplayer.with_model_buffer(zf.read(name))
            md = json.loads(displayer.get_metadata_json())
            tensor = md["subgraph_metadata"][0]["input_tensor_metadata"][0]
            for unit in tensor.get("process_units", []):
                if unit.get("options_type") == "NormalizationOptions":
                    opts = unit["options"]
                    out[name] = Normalization(mean=float(opts["mean"][0]), std=float(opts["std"][0]))
    return out
