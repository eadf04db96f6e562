"""The ``qa`` command: a thin shell over the library (``qa.Assistant``, ``qa.index``).

Exit codes: 0 answered (or done), 3 abstained (the corpus does not answer), 2 bad usage or
bad input (unknown option, empty or undecodable question, missing or unreadable corpus), 1 any
other error (no usable index with --no-rebuild, index not writable), 130 interrupted. Errors
are one line on stderr, never a traceback; JSON goes to stdout, progress and errors to stderr.
The README's "Errors and exit codes" lists every case.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from enum import Enum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from qa.errors import QAError, UsageError

EXIT_OK, EXIT_ERROR, EXIT_USAGE, EXIT_ABSTAINED = 0, 1, 2, 3

app = typer.Typer(
    name="qa",
    help="Ask questions about a corpus; get short answers with the exact passages that prove them.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
index_app = typer.Typer(help="Build or inspect the search index.", no_args_is_help=True)
app.add_typer(index_app, name="index")

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
    ReaderChoice, typer.Option("--reader", help="Who reads the passages: the trained model or the old rules.")
]

CorpusOpt = Annotated[
    Path | None, typer.Option("--corpus", help="Corpus directory of .txt/.md files (default: ./corpus).")
]
IndexOpt = Annotated[
    Path | None, typer.Option("--index", help="Index directory (default: index/default for ./corpus).")
]
TopKOpt = Annotated[int, typer.Option("--top-k", "-k", min=1, max=50, help="Passages to retrieve.")]
NoRebuildOpt = Annotated[
    bool, typer.Option("--no-rebuild", help="Fail instead of rebuilding a missing or stale index.")
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
    reader: ReaderOpt = ReaderChoice.rules,
) -> int:
    """Answer one question. Exit 0 when answered, 3 when the corpus does not answer it."""
    from qa.assistant import Assistant, clean_question
    from qa.render import answer_to_dict, answer_view

    question = _read_stdin_question() if question == "-" else question
    if any("\udc80" <= c <= "\udcff" for c in question):  # argv bytes that were not UTF-8
        raise UsageError("the question is not valid UTF-8")
    clean_question(question)  # reject bad input before any loading
    with _progress() as on_progress:
        assistant = Assistant.load(corpus, index, rebuild=not no_rebuild, on_progress=on_progress, reader=reader.value)
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
    reader: ReaderOpt = ReaderChoice.rules,
    conversation_format: Annotated[
        str, typer.Option("--format", help="--conversations format: qa (this project's), canard, cast (a folder), doc2dial.")
    ] = "qa",
) -> int:
    """Run a labelled eval set and report standard metrics (see README, Benchmarks)."""
    if squad_file is not None:
        return _eval_squad(squad_file, setting.value, limit, seed, top_k, reader.value,
                           predictions, na_probs, summary_json, markdown)
    if conversation_format != "qa":
        if conversations is None:
            raise UsageError(f"--format {conversation_format} needs --conversations FILE")
        return _eval_conversations(conversations, conversation_format, limit, seed, top_k, reader.value,
                                   summary_json, markdown)
    from qa import evaluate as ev
    from qa import report
    from qa.assistant import Assistant
    from qa.config import PROJECT_ROOT
    from qa.files import write_text_atomic
    from qa.render import answer_to_dict

    # Neither file named: the project's two sets. One named: that one only.
    questions_file = questions or (PROJECT_ROOT / "eval" / "questions.jsonl" if conversations is None else None)
    conversations_file = conversations or (PROJECT_ROOT / "eval" / "conversations.jsonl" if questions is None else None)
    items = ev.load_questions(questions_file) if questions_file else []  # bad files fail before any loading
    dialogues = ev.load_conversations(conversations_file) if conversations_file else []
    methods = [r.value for r in (retriever or [Retriever.hybrid])]
    with _progress() as on_progress:
        assistant = Assistant.load(
            corpus, index, rebuild=not no_rebuild, on_progress=on_progress, reader=reader.value
        )
    summaries, lines = [], []
    with _progress(always=stderr.is_terminal) as on_progress:
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
    if summary_json:
        write_text_atomic(summary_json, json.dumps(document, ensure_ascii=False, indent=2) + "\n")
    if predictions:
        write_text_atomic(predictions, "\n".join(lines) + "\n")
    if markdown:
        write_text_atomic(markdown, report.markdown(summaries))
    return EXIT_OK


def _eval_squad(
    path: Path, setting: str, limit: int | None, seed: int, top_k: int, reader: str,
    predictions: Path | None, na_probs: Path | None, summary_json: Path | None, markdown: Path | None,
) -> int:
    from qa.benchmarks import runner
    from qa.files import write_text_atomic

    with _progress() as on_build, _progress(always=stderr.is_terminal) as bars:
        step = (lambda done, total: bars(f"squad {setting}", done, total)) if bars else _progress_lines(f"squad {setting}")
        run = runner.run_squad(path, setting, limit=limit, seed=seed, k=top_k, reader=reader,
                               on_step=step, on_build=on_build)
    text = runner.markdown(run.summary)
    sys.stdout.write(text + "\n")
    if summary_json:
        write_text_atomic(summary_json, json.dumps(run.summary, ensure_ascii=False, indent=2) + "\n")
    if predictions:
        write_text_atomic(predictions, json.dumps(run.predictions, ensure_ascii=False) + "\n")
    if na_probs:
        write_text_atomic(na_probs, json.dumps(run.na_probs) + "\n")
    if markdown:
        write_text_atomic(markdown, text + "\n")
    return EXIT_OK


def _eval_conversations(
    path: Path, fmt: str, limit: int | None, seed: int, top_k: int, reader: str,
    summary_json: Path | None, markdown: Path | None,
) -> int:
    from qa.benchmarks import dialogues
    from qa.files import write_text_atomic

    with _progress() as on_build, _progress(always=stderr.is_terminal) as bars:
        step = (lambda done, total: bars(fmt, done, total)) if bars else _progress_lines(fmt)
        summary = dialogues.run_conversations(path, fmt, limit=limit, seed=seed, k=top_k, reader=reader,
                                              on_step=step, on_build=on_build)
    text = dialogues.markdown(summary)
    sys.stdout.write(text)
    if summary_json:
        write_text_atomic(summary_json, json.dumps(summary, ensure_ascii=False, indent=2) + "\n")
    if markdown:
        write_text_atomic(markdown, text)
    return EXIT_OK


def _progress_lines(stage: str, every_s: float = 5.0) -> Any:
    """Off a terminal: one plain progress line on stderr every few seconds (logs and CI)."""
    import time

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
def chat(
    as_json: Annotated[
        bool, typer.Option("--json", help="One JSON object per answer: the `ask --json` schema plus turn, standalone_question.")
    ] = False,
    top_k: TopKOpt = 5,
    retriever: Annotated[Retriever, typer.Option(help="Retrieval method.")] = Retriever.hybrid,
    corpus: CorpusOpt = None,
    index: IndexOpt = None,
    no_rebuild: NoRebuildOpt = False,
    reader: ReaderOpt = ReaderChoice.rules,
) -> int:
    """A conversation: follow-up questions may refer to earlier answers ("he", "that pact",
    "And Beria?"). On a terminal: a prompt with history and /help /sources /reset /history /quit.
    Piped: one question per line, a blank line or /reset starts a new conversation; exit 0."""
    from qa.assistant import Assistant
    from qa.chat import ChatOptions, run

    def load(on_progress: Any) -> Assistant:
        return Assistant.load(corpus, index, rebuild=not no_rebuild, on_progress=on_progress, reader=reader.value)

    return run(load, ChatOptions(as_json=as_json, k=top_k, retriever=retriever.value))


@index_app.command("build")
def index_build(corpus: CorpusOpt = None, index: IndexOpt = None) -> int:
    """Build (or rebuild) the index, with a progress bar. Concurrent builds of one index wait for
    each other; one that finds the index built meanwhile keeps it."""
    from qa import index as store
    from qa.config import default_corpus_dir, default_index_dir

    corpus_dir = corpus or default_corpus_dir()
    index_dir = index or default_index_dir(corpus_dir)
    with _progress(always=True) as on_progress:
        manifest = store.build(corpus_dir, index_dir, on_progress=on_progress)
    counts = manifest["counts"]
    summary = f"{counts['documents']} documents, {counts['passages']} passages, {counts['sentences']} sentences"
    if on_progress is not None and "up to date" in on_progress.seen:
        stderr.print(f"{index_dir} is up to date (built by another process meanwhile): {summary}", soft_wrap=True)
    else:
        stderr.print(f"built {index_dir}: {summary} in {manifest['build_seconds']:.1f} s", soft_wrap=True)
    return EXIT_OK


@index_app.command("info")
def index_info(
    corpus: CorpusOpt = None,
    index: IndexOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the manifest and status as JSON.")] = False,
) -> int:
    """Show what the index was built from and whether it is up to date. Exit 1 if there is none."""
    from qa import index as store
    from qa.config import default_corpus_dir, default_index_dir

    corpus_dir = corpus or default_corpus_dir()
    index_dir = index or default_index_dir(corpus_dir)
    manifest = store.read_manifest(index_dir)
    state = store.status(corpus_dir, index_dir, verify=True)
    if as_json:
        sys.stdout.write(json.dumps({"index": str(index_dir), "fresh": state.fresh, "status": state.reason, "manifest": manifest}, ensure_ascii=False) + "\n")
        return EXIT_OK if manifest else EXIT_ERROR
    if manifest is None:
        stderr.print(f"no index at {index_dir}; build one with `qa index build`")
        return EXIT_ERROR
    from rich.table import Table

    table = Table(show_header=False, box=None)
    model = manifest["model"]
    rows = [
        ("index", str(index_dir)),
        ("status", state.reason),
        ("built", f"{manifest['built_at']} in {manifest['build_seconds']} s"),
        ("corpus", f"{manifest['corpus']['dir']}  sha256 {manifest['corpus']['hash'][:16]}…"),
        ("documents", ", ".join(d["doc"] for d in manifest["documents"])),
        ("passages", f"{manifest['counts']['passages']} ({manifest['counts']['sentences']} sentences)"),
        ("model", f"{model['name']} ({model['package']} {model['package_version']}, {model['backend']}, dim {model['dim']})"),
        ("chunking", json.dumps(manifest["settings"]["chunking"])),
        ("dense index", _describe_dense(manifest.get("dense", {}))),
        ("bm25", f"{manifest['settings']['bm25_method']} k1={manifest['settings']['bm25_k1']} b={manifest['settings']['bm25_b']}"),
        ("format", str(manifest["format_version"])),
    ]
    for key, value in rows:
        table.add_row(f"[bold]{key}[/]", value)
    stdout.print(table)
    return EXIT_OK


def _describe_dense(dense: dict[str, Any]) -> str:
    params = ", ".join(f"{k}={v}" for k, v in {**dense.get("build_params", {}), **dense.get("search_params", {})}.items())
    return f"FAISS {dense.get('factory', 'Flat')}" + (f" ({params})" if params else "") + ", inner product"


# Stages that are events, not work to measure: never drawn as bars ("up to date" is told by
# `qa index build`'s summary line).
_EVENTS = ("waiting for another build", "up to date")


class _ProgressBars:
    """The library's progress callback drawn as rich bars; remembers the stages it saw."""

    def __init__(self, bar: Any) -> None:
        self.bar = bar
        self.tasks: dict[str, Any] = {}  # stage → rich TaskID
        self.seen: set[str] = set()

    def __call__(self, stage: str, done: int, total: int) -> None:
        self.seen.add(stage)
        if stage in _EVENTS:
            if stage == "waiting for another build" and done == 0:
                self.bar.console.print("qa: waiting for another build of this index to finish")
            return
        if stage not in self.tasks:
            self.tasks[stage] = self.bar.add_task(stage, total=total)
        self.bar.update(self.tasks[stage], completed=done, total=total)


@contextmanager
def _progress(always: bool = False) -> Iterator[_ProgressBars | None]:
    """A progress callback for the library: rich bars on stderr (only on a terminal unless
    ``always``), so stdout stays clean JSON for scripts."""
    if not (always or stderr.is_terminal):
        yield None
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
        console=stderr, transient=not always,
    ) as bar:
        yield _ProgressBars(bar)


def main() -> None:
    """Console entry point: maps every outcome to an exit code and a one-line message."""
    try:
        code = _ask_without_typer(sys.argv[1:])
        if code is None:
            code = app(standalone_mode=False)
    except typer.Exit as exc:
        code = exc.exit_code
    except (typer.Abort, KeyboardInterrupt):
        _fail("interrupted", 130)
    except QAError as exc:
        _fail(str(exc), exc.exit_code)
    except BrokenPipeError:
        sys.exit(EXIT_ERROR)
    except Exception as exc:  # noqa: BLE001 — the contract is one line, never a traceback
        if _is_click_error(exc):  # typer's (vendored) click: usage errors and the like
            _report_click_error(exc)
        _fail(f"unexpected {type(exc).__name__}: {exc}", EXIT_ERROR)
    sys.exit(code if isinstance(code, int) else EXIT_OK)


# `qa ask`'s options in their plain spellings, for the fast path below.
_ASK_FLAGS = {"--json": "as_json", "--passages": "passages", "--no-rebuild": "no_rebuild"}
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
    first_line = " ".join(str(message).split()) or "failed"
    print(f"qa: error: {first_line}", file=sys.stderr)
    sys.exit(code)
