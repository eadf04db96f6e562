"""``qa eval --squad`` and ``qa eval --conversations --format canard|cast|doc2dial``: the CLI side.

Part of the ``qa`` command (``qa.cli``, which turns errors into one-line messages and exit
codes). Output paths are checked before a run starts, so a long benchmark never ends in an
error about where to write; files are written atomically.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from qa.errors import QAError, UsageError

EXIT_OK = 0
Outputs = dict[str, Path | None]


def eval_squad(
    path: Path, setting: str, limit: int | None, seed: int, top_k: int, reader: str, outputs: Outputs,
    progress: Callable[..., Any],
) -> int:
    from qa.benchmarks import runner

    check_outputs(outputs, inputs=[path])
    with progress() as on_build, progress(always=sys.stderr.isatty()) as bars:
        step = (lambda done, total: bars(f"squad {setting}", done, total)) if bars else progress_lines(f"squad {setting}")
        run = runner.run_squad(path, setting, limit=limit, seed=seed, k=top_k, reader=reader,
                               on_step=step, on_build=on_build)
    text = runner.markdown(run.summary) + "\n"
    sys.stdout.write(text)
    write_outputs(outputs, {
        "--json": lambda: json.dumps(run.summary, ensure_ascii=False, indent=2) + "\n",
        "--predictions": lambda: json.dumps(run.predictions, ensure_ascii=False) + "\n",
        "--na-probs": lambda: json.dumps(run.na_probs) + "\n",
        "--markdown": lambda: text,
    })
    return EXIT_OK


def eval_conversations(
    path: Path, fmt: str, limit: int | None, seed: int, top_k: int, reader: str, outputs: Outputs,
    progress: Callable[..., Any],
) -> int:
    from qa.benchmarks import dialogues

    check_outputs(outputs, inputs=[path])
    with progress() as on_build, progress(always=sys.stderr.isatty()) as bars:
        step = (lambda done, total: bars(fmt, done, total)) if bars else progress_lines(fmt)
        summary = dialogues.run_conversations(path, fmt, limit=limit, seed=seed, k=top_k, reader=reader,
                                              on_step=step, on_build=on_build)
    text = dialogues.markdown(summary)
    sys.stdout.write(text)
    write_outputs(outputs, {
        "--json": lambda: json.dumps(summary, ensure_ascii=False, indent=2) + "\n",
        "--markdown": lambda: text,
    })
    return EXIT_OK


def progress_lines(stage: str, every_s: float = 5.0) -> Callable[[int, int], None]:
    """Off a terminal: one plain progress line on stderr every few seconds (logs and CI)."""
    started = last = time.monotonic()

    def step(done: int, total: int) -> None:
        nonlocal last
        now = time.monotonic()
        if now - last >= every_s or done == total:
            last = now
            rate = done / max(now - started, 1e-9)
            eta = (total - done) / rate if rate else 0.0
            sys.stderr.write(f"{stage} {done}/{total}, {rate:.1f}/s, ETA {eta:.0f} s\n")
            sys.stderr.flush()

    return step


def check_outputs(outputs: Outputs, inputs: list[Path]) -> None:
    """Every output file can be written, and none is an input or another output: a long eval run
    must not end in an error or overwrite its own eval set."""
    from qa.files import check_writable

    seen: dict[Path, str] = {path.resolve(): "the eval file" for path in inputs}
    for option, path in outputs.items():
        if path is None:
            continue
        check_writable(path, option)
        if (where := path.resolve()) in seen:
            raise UsageError(f"{option} {path} is also {seen[where]}; choose another file")
        seen[where] = option


def write_outputs(outputs: Outputs, texts: dict[str, Callable[[], str]]) -> None:
    from qa.files import os_reason, write_text_atomic

    for option, path in outputs.items():
        if path:
            try:
                write_text_atomic(path, texts[option]())
            except OSError as exc:
                raise QAError(f"cannot write {option} {path}: {os_reason(exc)}") from None
