"""The ``qa`` command: a thin shell over the library (``qa.Assistant``, ``qa.index``).

Exit codes: 0 answered (or done), 3 abstained (the corpus does not answer), 2 bad usage or
bad input (unknown option, empty or undecodable question, missing or unreadable corpus, an
index location that holds something else or another corpus's index), 1 any other error (no
usable index with --no-rebuild, index not writable), 130 interrupted. Errors are one line on
stderr, never a traceback; JSON goes to stdout, progress, warnings and errors to stderr.
The README's "Errors and exit codes" lists every case.
"""

from __future__ import annotations

import json
import signal
import sys
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from enum import Enum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from qa._interrupt import exit_interrupted, exit_on_unraisable_interrupt, raise_interrupt, received
from qa.cli_index import CorpusOpt, IndexOpt, RebuildOpt, index_app
from qa.cli_serve import serve
from qa.errors import CorpusWarning, QAError, UsageError

EXIT_OK, EXIT_ERROR, EXIT_USAGE, EXIT_ABSTAINED = 0, 1, 2, 3

app = typer.Typer(
    name="qa",
    help="Ask questions about a corpus; get short answers with the exact passages that prove them.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.add_typer(index_app, name="index")
app.command()(serve)

stdout = Console(highlight=False, soft_wrap=not sys.stdout.isatty())  # piped text: no hard wraps
stderr = Console(stderr=True, highlight=False)


def _print_version(value: bool) -> None:
    if value:
        from qa import __version__

        print(f"qa {__version__}")
        raise typer.Exit(EXIT_OK)


@app.callback()
def _root(
    version: Annotated[
        bool, typer.Option("--version", callback=_print_version, is_eager=True, help="Show the version and exit.")
    ] = False,
) -> None:
    """Ask questions about a corpus; get short answers with the exact passages that prove them."""


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


ReaderOpt = Annotated[
    ReaderChoice, typer.Option("--reader", help="Who reads the passages: the trained model (default) or the earlier hand-written rules.")
]

TopKOpt = Annotated[int, typer.Option("--top-k", "-k", min=1, max=50, help="Passages to retrieve.")]
NoRebuildOpt = Annotated[
    bool, typer.Option("--no-rebuild", help="Fail instead of rebuilding a missing or stale index.")
]
QuietOpt = Annotated[
    bool, typer.Option("--quiet", "-q", help="No progress on stderr (a rebuild is otherwise reported, also off a terminal).")
]


@app.command()
def ask(
    question: Annotated[str, typer.Argument(help="The question, in quotes; - reads it from stdin.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object (schema in README).")] = False,
    top_k: TopKOpt = 5,
    retriever: Annotated[Retriever, typer.Option(help="Retrieval method.")] = Retriever.hybrid,
    passages: Annotated[bool, typer.Option("--passages", help="Also show the retrieved passages.")] = False,
    corpus: CorpusOpt = None,
    index: IndexOpt = None,
    no_rebuild: NoRebuildOpt = False,
    reader: ReaderOpt = ReaderChoice.model,
    rebuild: RebuildOpt = False,
    quiet: QuietOpt = False,
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
        stdout.print(answer_view(result, show_passages=passages))
    return EXIT_ABSTAINED if result.abstained else EXIT_OK


@app.command("eval")
def evaluate(
    questions: Annotated[
        Path | None, typer.Option("--questions", help="Questions JSONL (default: eval/questions.jsonl).")
    ] = None,
    conversations: Annotated[
        Path | None,
        typer.Option("--conversations", help="Conversations JSONL (default: eval/conversations.jsonl)."),
    ] = None,
    predictions: Annotated[
        Path | None, typer.Option("--predictions", help="Write one JSON line per question/turn here.")
    ] = None,
    summary_json: Annotated[Path | None, typer.Option("--json", help="Write the summary JSON here.")] = None,
    markdown: Annotated[Path | None, typer.Option("--markdown", help="Write the tables as Markdown here.")] = None,
    retriever: Annotated[
        list[Retriever] | None, typer.Option(help="Retrieval method; repeat to compare side by side.")
    ] = None,
    top_k: TopKOpt = 5,
    corpus: CorpusOpt = None,
    index: IndexOpt = None,
    no_rebuild: NoRebuildOpt = False,
    squad_file: Annotated[
        Path | None, typer.Option("--squad", help="A SQuAD 1.1/2.0 JSON file: report the official metrics.")
    ] = None,
    setting: Annotated[
        Setting, typer.Option(help="SQuAD: 'reading' (each question against its own paragraph) or 'corpus'.")
    ] = Setting.reading,
    limit: Annotated[int | None, typer.Option(min=1, help="Run a seeded sample of this many questions.")] = None,
    seed: Annotated[int, typer.Option(help="Seed of the --limit sample.")] = 13,
    na_probs: Annotated[
        Path | None, typer.Option("--na-probs", help="SQuAD: write the no-answer probabilities here.")
    ] = None,
    reader: ReaderOpt = ReaderChoice.model,
    conversation_format: Annotated[
        str, typer.Option("--format", help="--conversations format: qa (this project's), canard, cast (a folder), doc2dial.")
    ] = "qa",
    rebuild: RebuildOpt = False,
    quiet: QuietOpt = False,
) -> int:
    """Run a labelled eval set and report standard metrics (see README, Benchmarks)."""
    from qa import cli_bench

    if squad_file is not None:
        outputs = {"--json": summary_json, "--predictions": predictions, "--na-probs": na_probs, "--markdown": markdown}
        return cli_bench.eval_squad(squad_file, setting.value, limit, seed, top_k, reader.value, outputs, _progress)
    if conversation_format != "qa":
        if conversations is None:
            raise UsageError(f"--format {conversation_format} needs --conversations FILE")
        outputs = {"--json": summary_json, "--markdown": markdown}
        return cli_bench.eval_conversations(
            conversations, conversation_format, limit, seed, top_k, reader.value, outputs, _progress
        )
    from qa import evaluate as ev
    from qa import report
    from qa.assistant import Assistant
    from qa.config import PROJECT_ROOT
    from qa.render import answer_to_dict

    outputs = {"--json": summary_json, "--predictions": predictions, "--markdown": markdown}

    # Neither file named: the project's two sets. One named: that one only.
    questions_file = questions or (PROJECT_ROOT / "eval" / "questions.jsonl" if conversations is None else None)
    conversations_file = conversations or (PROJECT_ROOT / "eval" / "conversations.jsonl" if questions is None else None)
    items = ev.load_questions(questions_file) if questions_file else []  # bad files fail before any loading
    dialogues = ev.load_conversations(conversations_file) if conversations_file else []
    cli_bench.check_outputs(outputs, inputs=[f for f in (questions_file, conversations_file) if f])  # before the run
    methods = [r.value for r in (retriever or [Retriever.hybrid])]
    with _progress(quiet=quiet) as on_progress:
        assistant = Assistant.load(
            corpus, index, rebuild=not no_rebuild, force_rebuild=rebuild, on_progress=on_progress, reader=reader.value
        )
    summaries, lines = [], []
    with _progress(always=stderr.is_terminal, quiet=quiet) as on_progress:
        for method in methods:
            step = (lambda done, total, m=method: on_progress(f"eval {m}", done, total)) if on_progress else None
            result = ev.run(assistant, items, dialogues, retriever=method, k=top_k, on_step=step)
            summaries.append(
                ev.summary(
                    result,
                    questions_file=str(questions_file) if questions_file else None,
                    conversations_file=str(conversations_file) if conversations_file else None,
                )
            )
            lines += [
                json.dumps(ev.prediction_record(r, method, answer_to_dict(r.answer)), ensure_ascii=False)
                for r in [*result.questions, *result.turns]
            ]
    for table in report.rich_tables(summaries):
        stdout.print(table)
    document = {"schema_version": ev.SUMMARY_VERSION, "top_k": top_k, "runs": summaries}
    cli_bench.write_outputs(outputs, {
        "--json": lambda: json.dumps(document, ensure_ascii=False, indent=2) + "\n",
        "--predictions": lambda: "\n".join(lines) + "\n",
        "--markdown": lambda: report.markdown(summaries),
    })
    return EXIT_OK


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


@app.command()
def show(
    doc: Annotated[str, typer.Argument(help="The document's id (its path in the corpus without extension) or file name.")],
    corpus: CorpusOpt = None,
) -> int:
    """Print a document's text as qa reads it: the text that offsets (start/end) refer to. For a
    PDF or DOCX that is the extracted text; for a .txt file, the file itself."""
    from qa.config import default_corpus_dir
    from qa.corpus import discover, doc_id_for, load_document

    corpus_dir = corpus or default_corpus_dir()
    for path in discover(corpus_dir):
        if doc in (doc_id_for(path, corpus_dir), path.relative_to(corpus_dir).as_posix()):
            sys.stdout.write(load_document(path, corpus_dir).text)
            return EXIT_OK
    raise UsageError(f"no document {doc!r} in corpus directory {corpus_dir}")


@app.command()
def chat(
    as_json: Annotated[
        bool, typer.Option("--json", help="One JSON object per answer: the `ask --json` schema plus turn, standalone_question.")
    ] = False,
    top_k: TopKOpt = 5,
    retriever: Annotated[Retriever, typer.Option(help="Retrieval method.")] = Retriever.hybrid,
    corpus: CorpusOpt = None,
    index: IndexOpt = None,
    no_rebuild: NoRebuildOpt = False,
    reader: ReaderOpt = ReaderChoice.model,
    rebuild: RebuildOpt = False,
    quiet: QuietOpt = False,
) -> int:
    """A conversation: follow-up questions may refer to earlier answers ("he", "that pact",
    "And Beria?"). On a terminal: a prompt with history and /help /sources /reset /history /quit.
    Piped: one question per line, a blank line or /reset starts a new conversation; exit 0."""
    from qa.assistant import Assistant
    from qa.chat import ChatOptions, run

    def load(on_progress: Any) -> Assistant:
        if on_progress is None and not quiet:  # piped: a rebuild still says so, in plain lines
            from qa.cli_progress import ProgressLines

            on_progress = ProgressLines()
        elif quiet:
            on_progress = None
        return Assistant.load(
            corpus, index, rebuild=not no_rebuild, force_rebuild=rebuild, on_progress=on_progress, reader=reader.value
        )

    return run(load, ChatOptions(as_json=as_json, k=top_k, retriever=retriever.value))


@contextmanager
def _progress(always: bool = False, quiet: bool = False) -> Iterator[Any]:
    """The library's progress on stderr: bars on a terminal, plain lines elsewhere (``qa.cli_progress``)."""
    from qa.cli_progress import progress

    with progress(stderr, always=always, quiet=quiet) as on_progress:
        yield on_progress


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
            code = app(standalone_mode=False)  # returns 130, silently, for a KeyboardInterrupt
    except typer.Exit as exc:
        code = exc.exit_code
    except (typer.Abort, KeyboardInterrupt):
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
