"""Progress reporting for long steps: a small interface the pipeline calls, and a rich bar for the CLI.

The pipeline only sees `Progress`; the CLI passes `RichProgress`, the job service will pass one that
records progress with the job.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Protocol

__all__ = ["Advance", "NullProgress", "Progress", "RichProgress"]

Advance = Callable[[int], None]


def _ignore(n: int = 1) -> None:
    """An advance function that shows nothing."""


class Progress(Protocol):
    """Something that shows how far a named step has got."""

    def stage(self, name: str, total: int | None) -> AbstractContextManager[Advance]:
        """A context for one step of `total` units (None if unknown); call the advance function per unit."""
        ...


class NullProgress:
    """Reports nothing; the default for library callers and tests."""

    @contextmanager
    def stage(self, name: str, total: int | None) -> Iterator[Advance]:
        yield _ignore


class RichProgress:
    """Progress bars on stderr, one per step, left on screen when the step is done."""

    def __init__(self, *, enabled: bool = True) -> None:
        from rich.console import Console

        self._console = Console(stderr=True)
        self.enabled = enabled and sys.stderr.isatty()

    @contextmanager
    def stage(self, name: str, total: int | None) -> Iterator[Advance]:
        if not self.enabled:
            yield _ignore
            return
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TaskProgressColumn,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        columns = [
            TextColumn("{task.description:<14}"),
            BarColumn(),
            MofNCompleteColumn(),
            TaskProgressColumn(),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
        ]
        with Progress(*columns, console=self._console, transient=False) as bar:
            task = bar.add_task(name, total=total)
            yield lambda n: bar.advance(task, n)
            if total is None:
                bar.update(task, total=bar.tasks[0].completed)
