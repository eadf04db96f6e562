"""Progress on stderr for the ``qa`` command: the library reports (stage, done, total); this draws it.

On a terminal, rich bars. Anywhere else (a script, a CI log, ``2>file``), one plain line when
work starts and then one every few seconds, with the rate and the time left::

    qa: embedding 12000/35243 texts, 410/s, ETA 57 s

so that a script blocked on a rebuild shows what it is waiting for. ``--quiet`` silences both;
``QA_PROGRESS_SECONDS`` sets the interval of the plain lines (default 5).
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

# Stages that are events, not work to measure: never drawn as bars ("up to date" and "built
# meanwhile" are told by `qa index build`'s summary line).
EVENTS = ("waiting for another build", "up to date", "built meanwhile")
WAITING = "qa: waiting for another build of this index to finish"
UNITS = {"embedding": "texts"}  # passages and sentences, both embedded
DEFAULT_EVERY_S = 5.0


class ProgressBars:
    """The library's progress callback drawn as rich bars; remembers the stages it saw."""

    def __init__(self, bar: Any) -> None:
        self.bar = bar
        self.tasks: dict[str, Any] = {}  # stage → rich TaskID
        self.seen: set[str] = set()

    def __call__(self, stage: str, done: int, total: int) -> None:
        self.seen.add(stage)
        if stage in EVENTS:
            if stage == "waiting for another build" and done == 0:
                self.bar.console.print(WAITING)
            return
        if stage not in self.tasks:
            self.tasks[stage] = self.bar.add_task(stage, total=total)
        self.bar.update(self.tasks[stage], completed=done, total=total)


class ProgressLines:
    """The callback as plain lines: the first stage at once, then one line every ``every_s``."""

    def __init__(self, every_s: float | None = None, write: Callable[[str], None] | None = None) -> None:
        self.every_s = _interval() if every_s is None else every_s
        self.write = write or _stderr_line
        self.seen: set[str] = set()
        self.stage: str | None = None
        self.stage_started = self.last = 0.0
        self.stage_done0 = 0

    def __call__(self, stage: str, done: int, total: int) -> None:
        now = time.monotonic()
        first = not self.seen
        self.seen.add(stage)
        if stage in EVENTS:
            if stage == "waiting for another build" and done == 0:
                self.write(WAITING)
            return
        if stage != self.stage:
            self.stage, self.stage_started, self.stage_done0 = stage, now, done
        if first:  # say at once that work has begun (e.g. a rebuild inside `qa ask`)
            self.last = now
            self.write(f"qa: {stage} {done}/{total}{_unit(stage)}")
        elif now - self.last >= self.every_s:
            self.last = now
            elapsed = now - self.stage_started
            rate = (done - self.stage_done0) / elapsed if elapsed > 0 else 0.0
            eta = f", ETA {(total - done) / rate:.0f} s" if rate > 0 and done < total else ""
            shown = f"{rate:.0f}" if rate >= 10 else f"{rate:.1f}"
            speed = f", {shown}/s{eta}" if rate > 0 else ""  # a stage just begun has no rate yet
            self.write(f"qa: {stage} {done}/{total}{_unit(stage)}{speed}")


def _unit(stage: str) -> str:
    return f" {UNITS[stage]}" if stage in UNITS else ""


def _interval() -> float:
    try:
        return max(0.0, float(os.environ.get("QA_PROGRESS_SECONDS", DEFAULT_EVERY_S)))
    except ValueError:
        return DEFAULT_EVERY_S


def _stderr_line(line: str) -> None:
    try:
        sys.stderr.write(line + "\n")
        sys.stderr.flush()
    except (OSError, ValueError):
        pass  # stderr is gone: progress is not worth failing for


@contextmanager
def progress(console: Any | None, always: bool = False, quiet: bool = False) -> Iterator[ProgressBars | ProgressLines | None]:
    """A progress callback for the library on stderr (``console``): rich bars on a terminal (left
    on screen when ``always``, otherwise cleared when done), plain lines elsewhere, nothing when
    ``quiet``; no ``console`` is one that is not a terminal. stdout stays clean JSON for scripts
    either way."""
    if quiet:
        yield None
        return
    if console is None or not console.is_terminal:
        yield ProgressLines()
        return
    from rich.progress import (  # ~10 ms
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
    )

    with Progress(
        TextColumn("{task.description:<16}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        console=console, transient=not always,
    ) as bar:
        yield ProgressBars(bar)
