"""Every document the code, tests and README cite lives inside the repository."""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _sources() -> list[Path]:
    files = [REPO / "README.md"]
    for folder, pattern in (("pose_service", "*.py"), ("tests", "*.py"), ("bench", "*.py")):
        files += sorted((REPO / folder).rglob(pattern))
    return files


def test_cited_docs_exist() -> None:
    cited = {(f.relative_to(REPO), m) for f in _sources() for m in re.findall(r"docs/[\w.-]+\.md", f.read_text("utf-8"))}
    assert cited, "nothing cites docs/ any more: drop this test or the folder"
    missing = sorted((str(f), m) for f, m in cited if not (REPO / m).is_file())
    assert not missing, missing


def test_design_doc_holds_the_contracts() -> None:
    text = (REPO / "docs" / "design.md").read_text("utf-8")
    for heading in ("### CLI: `pose-service`", "### result.json (schema_version 1)", "### HTTP API (prefix `/api/v1`)",
                    "## The pose model bundle", "## A GPU machine", "## Lessons of the original system, as rules"):
        assert heading in text, heading
    assert "norm_mean=[127.5], norm_std=[127.5]" in text and "norm_mean=[0.0], norm_std=[255.0]" in text
