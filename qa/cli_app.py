"""The typer application behind ``qa`` (``qa.cli.main`` runs it): every command's options,
help and parsing. ``qa ask`` with plainly valid arguments never gets here (``qa.cli``)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from qa import cli
from qa.cli import EXIT_OK, ReaderChoice, Retriever, Setting, _progress, stderr, stdout
from qa.cli_index import CorpusOpt, IndexOpt, RebuildOpt, index_app
from qa.cli_serve import serve
from qa.errors import UsageError

app = typer.Typer(
    name="qa",
    help="Ask questions about a corpus; get short answers with the exact passages that prove them.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.add_typer(index_app, name="index")
app.command()(serve)


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
    return cli.ask(question, as_json, top_k, retriever, passages, corpus, index, no_rebuild, reader, rebuild, quiet)


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
    with _progress(always=stderr().is_terminal, quiet=quiet) as on_progress:
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
        stdout().print(table)
    document = {"schema_version": ev.SUMMARY_VERSION, "top_k": top_k, "runs": summaries}
    cli_bench.write_outputs(outputs, {
        "--json": lambda: json.dumps(document, ensure_ascii=False, indent=2) + "\n",
        "--predictions": lambda: "\n".join(lines) + "\n",
        "--markdown": lambda: report.markdown(summaries),
    })
    return EXIT_OK


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



def run() -> int:
    """Run the application on ``sys.argv``; a typer Exit is its code, an Abort an interrupt."""
    try:
        return app(standalone_mode=False)  # returns 130, silently, for a KeyboardInterrupt
    except typer.Exit as exc:
        return exc.exit_code
    except typer.Abort:
        raise KeyboardInterrupt from None
