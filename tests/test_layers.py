"""The layers the README draws, checked on every import of every module (those inside functions too).

Stages (video, pose, tracking, body, analysis, export, synth, and the shared `skeleton`) never reach up into the
service (api/, jobs/) or the wiring (pipeline, cli); tracking and analysis work on keypoints alone; the pose
stage hands on what the model saw and leaves the tracking to tracking/; body/ fits real tracks.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import pose_service

ROOT = Path(pose_service.__file__).parent
STAGES = ("video", "pose", "tracking", "body", "analysis", "export", "synth", "skeleton", "evaluation")
SERVICE = ("api", "jobs", "pipeline", "chunks", "cli", "doctor", "__main__")

# (the importing packages, module prefixes they must not import, why)
RULES: tuple[tuple[tuple[str, ...], tuple[str, ...], str], ...] = (
    (STAGES, tuple(f"pose_service.{name}" for name in SERVICE),
     "a stage never imports the service (api/, jobs/) or the wiring (pipeline, cli, doctor)"),
    (("tracking", "analysis"), ("pose_service.pose", "pose_service.body", "mediapipe", "torch", "anny"),
     "tracking/ and analysis/ take keypoints (pose_service.skeleton), never a model or the stage that runs one"),
    (("pose",), ("pose_service.tracking", "pose_service.analysis"),
     "pose/ returns what the model saw; the pipeline hands it to tracking/"),
    (("body",), ("pose_service.synth",),
     "body/ fits tracks; measuring a fit against synthetic truth lives in pose_service.evaluation"),
)  # fmt: skip


def imports(source: str, module: str) -> list[tuple[int, str]]:
    """(line, imported name) of every import in `source`, the module `module` (dotted); `from a import b` gives
    `a.b`, relative imports are resolved, `importlib.import_module("x")` with a literal name counts too."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = module.split(".")[: -node.level]
                base = ".".join([*parent, base] if base else parent)
            found += [(node.lineno, f"{base}.{alias.name}") for alias in node.names]
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute | ast.Name)
            and (node.func.attr if isinstance(node.func, ast.Attribute) else node.func.id) == "import_module"
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            found.append((node.lineno, node.args[0].value))
    return found


def offences(package: str, where: str, found: list[tuple[int, str]]) -> list[str]:
    """One line per import of `found` (made in `package`, a top-level name under pose_service) that a rule
    forbids: where, what, and why."""
    out = []
    for importers, forbidden, why in RULES:
        if package not in importers:
            continue
        for line, name in found:
            if any(name == p or name.startswith(p + ".") for p in forbidden):
                out.append(f"{where}:{line} imports {name}: {why}")
    return out


def _modules() -> list[Path]:
    return sorted(ROOT.rglob("*.py"))


def test_the_rules_name_real_packages() -> None:
    present = {p.stem if p.parent == ROOT else p.relative_to(ROOT).parts[0] for p in _modules()}
    for name in (*STAGES, *SERVICE):
        assert name in present, f"pose_service/{name} is named in the layer rules but does not exist"


def test_every_import_follows_the_layers() -> None:
    problems: list[str] = []
    for path in _modules():
        rel = path.relative_to(ROOT)
        package = rel.parts[0].removesuffix(".py")
        module = ".".join(("pose_service", *rel.with_suffix("").parts))
        if rel.name == "__init__.py":
            module += ".__init__"  # so that a relative import resolves against the package itself
        problems += offences(package, f"pose_service/{rel}", imports(path.read_text(encoding="utf-8"), module))
    assert not problems, "imports across the layers:\n" + "\n".join(problems)


@pytest.mark.parametrize(
    ("package", "source", "caught"),
    [
        # inside a function, as the service's lazy imports are written
        ("export", "def f():\n    from pose_service.jobs.supervisor import job_dir\n", "pose_service.jobs.supervisor"),
        # a package imported by name from its parent
        ("tracking", "from pose_service import pose\n", "pose_service.pose"),
        # a relative import climbing into a sibling package
        ("pose", "from ..tracking.core import Track\n", "pose_service.tracking.core.Track"),
        # model code in the tracker
        ("analysis", "import torch.nn as nn\n", "torch.nn"),
        # the synthetic generator pulled in by name
        ("body", "import importlib\nimportlib.import_module('pose_service.synth.body')\n", "pose_service.synth.body"),
        # the neutral module is allowed everywhere
        ("tracking", "from pose_service.skeleton import Poses\n", None),
    ],
)
def test_the_check_catches(package: str, source: str, caught: str | None) -> None:
    found = offences(package, "x.py", imports(source, f"pose_service.{package}.x"))
    if caught is None:
        assert found == []
    else:
        assert len(found) == 1 and f"imports {caught}" in found[0], found
