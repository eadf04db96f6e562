"""The ``qa`` command: a thin shell over the library (``qa.Assistant``, ``qa.index``).

Exit codes: 0 answered (or done), 3 abstained (the corpus does not answer), 2 bad usage or
bad input (unknown option, empty or undecodable question, missing or unreadable corpus, an
index location that holds something else or another corpus's index), 1 any other error (no
usable index with --no-rebuild, index not writable), 130 interrupted. Errors are one line on
stderr, never a traceback; JSON goes to stdout, progress, warnings and errors to stderr.
The README's "Errors and exit codes" lists every case.

The command line is two modules: this one (the entry point, exit codes, one-line errors, and
``qa ask``, whose plainly valid arguments are parsed here so that a one-shot question imports
neither typer nor rich) and ``qa.cli_app`` (the typer application: every command's options and
help, imported only when the fast path does not apply).
"""

from __future__ import annotations

import json
import os
import signal
import sys
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from enum import Enum
from functools import cache
from pathlib import Path
from typing import Any

from qa._interrupt import exit_interrupted, exit_on_unraisable_interrupt, raise_interrupt, received
from qa.errors import CorpusWarning, QAError, UsageError

EXIT_OK, EXIT_ERROR, EXIT_USAGE, EXIT_ABSTAINED = 0, 1, 2, 3


@cache
def stdout() -> Any:
    from rich.console import Console

    return Console(highlight=False, soft_wrap=not sys.stdout.isatty())  # piped text: no hard wraps


@cache
def stderr() -> Any:
    from rich.console import Console

    return Console(stderr=True, highlight=False)


class Retriever(str, Enum):
    hybrid = "hybrid"
    dense = "dense"
    bm25 = "bm25"


class Setting(str, Enum):
    reading = "reading"
    corpus = "corpus"


class ReaderChoice(str, Enum):
    model = "model"
    rules = "rules"


def ask(
    question: str,
    as_json: bool = False,
    top_k: int = 5,
    retriever: Retriever = Retriever.hybrid,
    passages: bool = False,
    corpus: Path | None = None,
    index: Path | None = None,
    no_rebuild: bool = False,
    reader: ReaderChoice = ReaderChoice.model,
    rebuild: bool = False,
    quiet: bool = False,
) -> int:
    """Answer one question. Exit 0 when answered, 3 when the corpus does not answer it."""
    from qa.assistant import Assistant, clean_question
    from qa.render import answer_to_dict, answer_view

    question = _read_stdin_question() if question == "-" else question
    if any("\udc80" <= c <= "\udcff" for c in question):  # argv bytes that were not UTF-8
        raise UsageError("the question is not valid UTF-8")
    clean_question(question)  # reject bad input before any loading
    with _progress(quiet=quiet) as on_progress:
        assistant = Assistant.load(
            corpus, index, rebuild=not no_rebuild, force_rebuild=rebuild, on_progress=on_progress, reader=reader.value
        )
    result = assistant.ask(question, k=top_k, retriever=retriever.value)
    if as_json:
        sys.stdout.write(json.dumps(answer_to_dict(result), ensure_ascii=False) + "\n")
    else:
        stdout().print(answer_view(result, show_passages=passages))
    return EXIT_ABSTAINED if result.abstained else EXIT_OK



def _read_stdin_question() -> str:
    """The question piped on stdin (``qa ask -``): strict UTF-8, bounded in size."""
    from qa.assistant import MAX_QUESTION_CHARS

    limit = 200 * MAX_QUESTION_CHARS  # bytes; far beyond any question, short of a memory problem
    data = sys.stdin.buffer.read(limit + 1)
    if len(data) > limit:
        raise UsageError(f"the question on stdin is too long (over {limit} bytes; the limit is {MAX_QUESTION_CHARS} characters)")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UsageError(f"stdin is not valid UTF-8 (byte {exc.start})") from None


@contextmanager
def _progress(always: bool = False, quiet: bool = False) -> Iterator[Any]:
    """The library's progress on stderr: bars on a terminal, plain lines elsewhere (``qa.cli_progress``)."""
    from qa.cli_progress import progress

    # Plainly not a terminal (a script's pipe): plain lines, without importing rich for a console.
    console = stderr() if _stderr_may_be_a_terminal() else None
    with progress(console, always=always, quiet=quiet) as on_progress:
        yield on_progress


def _stderr_may_be_a_terminal() -> bool:
    """Whether rich could take stderr for a terminal: a tty, or the variables it obeys are set."""
    try:
        return sys.stderr.isatty() or "TTY_COMPATIBLE" in os.environ or "FORCE_COLOR" in os.environ
    except ValueError:  # stderr closed
        return False


def main() -> None:
    """Console entry point: maps every outcome to an exit code and a one-line message."""
    warnings.showwarning = _show_warning
    exit_on_unraisable_interrupt()
    try:
        # From here on Ctrl-C raises KeyboardInterrupt, so that a build removes its temporary
        # directory on the way out; however it surfaces, it ends as one line and 130.
        signal.signal(signal.SIGINT, raise_interrupt)
        code = _ask_without_typer(sys.argv[1:])
        if code is None:
            from qa.cli_app import run  # typer and rich: only for what the fast path leaves

            code = run()  # 130, silently, for a KeyboardInterrupt
    except KeyboardInterrupt:
        exit_interrupted()
    except QAError as exc:
        if received():
            exit_interrupted()
        _fail(str(exc), exc.exit_code)
    except BrokenPipeError:
        sys.exit(EXIT_ERROR)
    except Exception as exc:  # noqa: BLE001 — the contract is one line, never a traceback
        if received():  # an interrupt that an extension module turned into another error
            exit_interrupted()
        if _is_click_error(exc):  # typer's (vendored) click: usage errors and the like
            _report_click_error(exc)
        _fail(f"unexpected {type(exc).__name__}: {exc}", EXIT_ERROR)
    if code == 130 and received():
        exit_interrupted()
    # The work is done and said: a Ctrl-C from here on is ignored. A handler would not cover
    # the whole shutdown — CPython resets the handlers it set to the default late in it, and
    # the process then dies of SIGINT (status -2) after succeeding; an ignored signal stays so.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    sys.exit(code if isinstance(code, int) else EXIT_OK)


def _show_warning(message: Warning | str, category: type[Warning], *args: object, **kwargs: object) -> None:
    """The library's warnings (a skipped document) as one ``qa: warning:`` line each; others as
    one line too, never with a source line under them."""
    _note(f"warning: {message}" if issubclass(category, CorpusWarning) else f"warning: {category.__name__}: {message}")


def _note(message: str) -> None:
    """One line on stderr, whatever the terminal width (rich would wrap it)."""
    sys.stderr.write(f"qa: {' '.join(str(message).split())}\n")
    sys.stderr.flush()


# `qa ask`'s options in their plain spellings, for the fast path below.
_ASK_FLAGS = {"--json": "as_json", "--passages": "passages", "--no-rebuild": "no_rebuild", "--rebuild": "rebuild",
              "--quiet": "quiet", "-q": "quiet"}
_ASK_VALUES = {"--top-k": "top_k", "-k": "top_k", "--retriever": "retriever", "--corpus": "corpus", "--index": "index",
               "--reader": "reader"}


def _ask_without_typer(args: list[str]) -> int | None:
    """Run ``qa ask`` when its arguments are plainly valid, without typer's parser.

    Scripts call ``qa ask`` once per question, and typer builds a pydantic validator for every
    parameter at every call (~0.1 s, a quarter of a cold answer). Typer stays the authority:
    anything unusual (--help, --opt=value, an unknown option, a bad value, two questions) returns
    None and typer parses it, with its own messages; a test checks both parse alike.
    """
    parsed = _parse_plain_ask(args)
    return None if parsed is None else ask(**parsed)


def _parse_plain_ask(args: list[str]) -> dict[str, Any] | None:
    if not args or args[0] != "ask":
        return None
    options: dict[str, Any] = {}
    question = None
    tokens = iter(args[1:])
    for token in tokens:
        if token in _ASK_FLAGS:
            options[_ASK_FLAGS[token]] = True
        elif token in _ASK_VALUES:
            value = next(tokens, None)
            if value is None:
                return None
            options[_ASK_VALUES[token]] = value
        elif token.startswith("-") or question is not None:
            return None
        else:
            question = token
    if question is None:
        return None
    if "top_k" in options:
        if not (options["top_k"].isascii() and options["top_k"].isdigit() and 1 <= int(options["top_k"]) <= 50):
            return None
        options["top_k"] = int(options["top_k"])
    if "retriever" in options:
        if options["retriever"] not in Retriever.__members__:
            return None
        options["retriever"] = Retriever(options["retriever"])
    if "reader" in options:
        if options["reader"] not in ReaderChoice.__members__:
            return None
        options["reader"] = ReaderChoice(options["reader"])
    for name in ("corpus", "index"):
        if name in options:
            options[name] = Path(options[name])
    return {"question": question, **options}


def _is_click_error(exc: Exception) -> bool:
    return hasattr(exc, "format_message") and hasattr(exc, "exit_code")


def _report_click_error(exc: Exception) -> None:
    ctx = getattr(exc, "ctx", None)
    if type(exc).__name__ == "NoArgsIsHelpError" and ctx is not None:  # `qa` alone: help
        print(ctx.get_help())
        sys.exit(EXIT_USAGE)
    hint = f" (see `{ctx.command_path} --help`)" if ctx is not None else ""
    code = getattr(exc, "exit_code", EXIT_USAGE)
    format_message = getattr(exc, "format_message", None)  # names the offending option
    message = format_message() if callable(format_message) else str(exc)
    _fail(f"{message}{hint}", code if isinstance(code, int) and code else EXIT_USAGE)


def _fail(message: str, code: int) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not cut the message short
    first_line = " ".join(str(message).split()) or "failed"
    try:
        sys.stderr.write(f"qa: error: {first_line}\n")
        sys.stderr.flush()
    except (BrokenPipeError, ValueError):
        pass  # stderr is gone: the exit code still tells
    sys.exit(code)
