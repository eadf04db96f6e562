"""``qa chat``: the terminal conversation (the UI layer — this module prints, the library doesn't).

Two modes, chosen by whether stdin and stdout are terminals:

- interactive: a prompt_toolkit prompt with line editing and a history file, answers rendered
  with rich, slash commands (/help /sources /reset /history /quit); Ctrl-C clears the line (or
  stops an answer), Ctrl-D or /quit leaves with exit 0;
- script: one question per line from stdin, read as bytes and decoded here so that invalid
  UTF-8 is one clear error; a blank line or /reset starts a new conversation; with ``--json``
  each answer is one JSON line (``qa ask --json``'s schema plus "turn" and
  "standalone_question"). A script session exits 0 once its input is consumed, abstentions
  included; a line that is not a valid question is reported on stderr and skipped.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from rich.console import Console, Group, RenderableType
from rich.text import Text

from qa.assistant import Assistant
from qa.conversation import Conversation, Turn
from qa.errors import UsageError
from qa.index import Progress
from qa.render import answer_view, turn_to_dict

EXIT_OK = 0
PROMPT = "qa> "
COMMANDS = {
    "/help": "show this help",
    "/sources": "the full passages behind the last answer",
    "/reset": "forget the conversation and start a new one",
    "/history": "the questions and answers so far",
    "/quit": "leave (also /exit, Ctrl-D)",
}
Loader = Callable[[Progress | None], Assistant]


@dataclass(frozen=True)
class ChatOptions:
    as_json: bool = False
    k: int = 5
    retriever: str = "hybrid"


def run(load: Loader, options: ChatOptions, stdin: IO[bytes] | None = None) -> int:
    """Run a chat session; ``load`` opens the assistant (given a progress callback)."""
    interactive = stdin is None and sys.stdin.isatty() and sys.stdout.isatty()
    if interactive:
        return _interactive(load, options)
    return _script(load, options, stdin if stdin is not None else sys.stdin.buffer)


# --- interactive -------------------------------------------------------------------------------


def _interactive(load: Loader, options: ChatOptions) -> int:
    from prompt_toolkit import PromptSession
    from prompt_toolkit.auto_suggest import AutoSuggestFromHistory
    from prompt_toolkit.completion import WordCompleter

    console = Console(highlight=False)
    assistant = _load_with_spinner(load, console)
    conversation = assistant.conversation()
    docs = ", ".join(sorted(assistant.index.documents))
    console.print(Text.assemble(("qa chat", "bold"), (f" · {docs}\n", "dim"), ("Ask a question; follow-ups may say “he”, “that pact”, “And Beria?”. /help for commands, Ctrl-D to quit.", "dim")))
    session: PromptSession[str] = PromptSession(
        history=_history_file(),
        auto_suggest=AutoSuggestFromHistory(),  # grey completion from earlier questions; → accepts
        completer=WordCompleter([*COMMANDS, "/exit"], sentence=True),  # Tab completes /commands
        complete_while_typing=False,
    )
    while True:
        try:
            line = session.prompt(PROMPT)
        except KeyboardInterrupt:  # Ctrl-C: a fresh, empty line
            continue
        except EOFError:  # Ctrl-D
            break
        line = line.strip()
        if not line:
            continue
        if line.startswith("/"):
            if _command(line, conversation, console) == "quit":
                break
            continue
        try:
            with console.status("[dim]searching…[/]", spinner="dots"):
                turn = conversation.ask(line, k=options.k, retriever=options.retriever)
        except KeyboardInterrupt:
            console.print(Text("(interrupted)", style="dim"))
            continue
        except UsageError as exc:
            console.print(Text(f"qa: {exc}", style="yellow"), soft_wrap=True)
            continue
        if options.as_json:
            console.print_json(json.dumps(turn_to_dict(turn), ensure_ascii=False))
        else:
            console.print(turn_view(turn))
    console.print(Text("bye", style="dim"))
    return EXIT_OK


def _load_with_spinner(load: Loader, console: Console) -> Assistant:
    with console.status("[dim]loading the index and the model…[/]", spinner="dots") as status:

        def on_progress(stage: str, done: int, total: int) -> None:  # only when (re)building
            status.update(f"[dim]building the index: {stage} {done}/{total}…[/]")

        assistant = load(on_progress)
        assistant.index.encoder.encode(["warm up"])  # the first real question then answers at once
    return assistant


def _history_file() -> Any:
    from prompt_toolkit.history import FileHistory, InMemoryHistory

    # QA_CHAT_HISTORY names another file ("" = none); the default sits next to the model cache.
    setting = os.environ.get("QA_CHAT_HISTORY")
    if setting == "":
        return InMemoryHistory()
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "qa"
    path = Path(setting) if setting else cache / "chat_history"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch(exist_ok=True)
        return FileHistory(str(path))
    except OSError:  # a read-only home: history for this session only
        return InMemoryHistory()


def _command(line: str, conversation: Conversation, console: Console) -> str | None:
    name = line.split()[0].lower()
    turns = conversation.turns
    if name in {"/quit", "/exit", "/q"}:
        return "quit"
    if name == "/help":
        for command, meaning in COMMANDS.items():
            console.print(Text.assemble((f"  {command:<10}", "bold cyan"), meaning))
        console.print(Text("  Ctrl-C clears the line or stops an answer; ↑/↓ browse earlier questions; Tab completes a /command.", style="dim"))
    elif name == "/reset":
        conversation.reset()
        console.print(Text("New conversation.", style="dim"))
    elif name == "/sources":
        console.print(sources_view(turns[-1]) if turns else Text("No answer yet.", style="dim"))
    elif name == "/history":
        console.print(history_view(turns) if turns else Text("No questions yet in this conversation.", style="dim"))
    else:
        console.print(Text(f"Unknown command {name}; /help lists them.", style="yellow"))
    return None


# --- views -------------------------------------------------------------------------------------


def turn_view(turn: Turn) -> RenderableType:
    """The answer, preceded (dimmed) by the standalone question when it differs from the asked one."""
    parts: list[RenderableType] = []
    if turn.standalone_question != turn.question:
        parts.append(Text(f"↳ {turn.standalone_question}", style="dim italic"))
    elif turn.resolution == "unresolved":
        earlier = "nothing earlier in this conversation says" if turn.number == 1 else "the conversation so far does not say"
        parts.append(Text(f"↳ searched as typed: {earlier} what “{turn.reference}” refers to",
                          style="yellow italic"))
    parts.append(answer_view(turn.answer))
    return Group(*parts, Text(""))


def sources_view(turn: Turn) -> RenderableType:
    """Every retrieved passage in full, the cited quotes underlined and the answer highlighted."""
    answer = turn.answer
    parts: list[RenderableType] = [Text(f"Passages behind turn {turn.number}: {turn.standalone_question}", style="bold")]
    for hit in answer.passages:
        passage = hit.passage
        parts.append(Text.assemble((f"\n[{hit.rank}] ", "bold cyan"), (passage.location, "cyan"), (f"  {passage.doc} [{passage.start}:{passage.end}]  score {hit.score:.4f}", "dim")))
        text = Text(passage.text)
        for citation in answer.citations:
            if citation.doc == passage.doc and passage.start <= citation.start and citation.end <= passage.end:
                text.stylize("underline", citation.start - passage.start, citation.end - passage.start)
        if answer.answer and not answer.abstained:
            text.highlight_words([answer.answer], style="bold green")
        parts.append(text)
    return Group(*parts, Text(""))


def history_view(turns: list[Turn]) -> RenderableType:
    parts: list[RenderableType] = []
    for turn in turns:
        reply = "(the corpus does not say)" if turn.answer.abstained else (turn.answer.answer or "")
        parts.append(Text.assemble((f"{turn.number}. ", "bold"), turn.question))
        if turn.standalone_question != turn.question:
            parts.append(Text(f"   ↳ {turn.standalone_question}", style="dim italic"))
        parts.append(Text(f"   → {reply}", style="green" if not turn.answer.abstained else "yellow"))
    return Group(*parts)


# --- script ------------------------------------------------------------------------------------


def _script(load: Loader, options: ChatOptions, stdin: IO[bytes]) -> int:
    out = Console(highlight=False, soft_wrap=True)  # piped text: no hard wraps
    assistant = load(None)
    conversation = assistant.conversation()
    for number, line in _lines(stdin):
        if not line or line.lower() == "/reset":
            conversation.reset()
            continue
        if line.startswith("/"):
            name = line.split()[0].lower()
            if name in {"/quit", "/exit", "/q"}:
                break
            if options.as_json:
                _stderr_line(f"qa: note: line {number}: {name} ignored with --json")
            else:
                _command(line, conversation, out)
            continue
        try:
            turn = conversation.ask(line, k=options.k, retriever=options.retriever)
        except UsageError as exc:
            _stderr_line(f"qa: error: line {number}: {exc} (skipped)")
            continue
        if options.as_json:
            sys.stdout.write(json.dumps(turn_to_dict(turn), ensure_ascii=False) + "\n")
            sys.stdout.flush()
        else:
            out.print(Text.assemble((f"[{turn.number}] ", "bold"), (turn.question, "bold")))
            out.print(turn_view(turn))
    return EXIT_OK


def _stderr_line(message: str) -> None:
    """One line, whatever the terminal width: rich would wrap it at 80 columns when piped."""
    sys.stderr.write(" ".join(message.split()) + "\n")
    sys.stderr.flush()


def _lines(stdin: IO[bytes]) -> Iterator[tuple[int, str]]:
    """Numbered, stripped lines, decoded strictly: bad bytes are an error, not mojibake."""
    for number, raw in enumerate(stdin, 1):
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise UsageError(f"stdin is not valid UTF-8 (line {number}, byte {exc.start + 1})") from None
        yield number, text.strip().lstrip("\ufeff")


__all__ = ["ChatOptions", "history_view", "run", "sources_view", "turn_view"]
