"""Doc2Dial (Feng et al. 2020) validation dialogs asked through the real ``Conversation``.

The set (reading-comprehension form, ``doc2dial_rc_val_converted.json``) is
``{"documents": {title: {"domain", "text"}}, "examples": [...]}``; an example is one grounded
user turn: ``id``, ``dialog_id``, ``turn_id``, ``doc_title``, the chronological ``history``
(``{"role": "user"|"agent", "text"}``), the ``question`` and its grounding spans ``answers`` /
``answer_start``. Those two may be JSON lists or, as in the CSV the file was converted from,
strings of Python lists ("['span one', 'span two']"); strings are parsed with
``ast.literal_eval`` (literals only, nothing is evaluated).

A run:

1. ``write_corpus`` turns the documents (all of them, or those of the chosen dialogs) into a
   corpus directory, one ``.txt`` per document plus a ``.meta.json`` with its title, written
   atomically under ``~/.cache/qa/benchmarks/doc2dial-<sha12>/corpus`` (sha12: the documents'
   content), and names the sibling ``index`` directory ``qa.Assistant.load`` builds into;
2. ``run_dialogs`` asks each dialog's user turns in order through ``assistant.conversation()``
   — every user turn, including the ones the set gives no grounding for, so that follow-ups
   have the context the user had; only grounded turns are scored — or, with
   ``resolve_followups=False``, each turn as typed in a fresh conversation, for comparison;
3. each scored turn: SQuAD EM and F1 of the short answer against the grounding span(s) (an
   abstention scores 0), the F1 of the cited sentence(s) — the system's own grounding — against
   them (``grounding_f1``), whether it abstained, and the rank of the first retrieved passage
   from the dialog's document (``doc@1``, ``doc@k``) and overlapping a grounding span
   (``span@k``): Doc2Dial's spans are whole clauses, the reader's answers are short, so
   retrieval says how much of the gap is reading.

``evaluate_doc2dial(path, limit=30, seed=0)`` does all three; ``report.as_dict()`` is, for the
whole validation set (``limit=None``; ``Doc2DialReport.results`` keeps each ``TurnResult``)::

    {"mode": "conversation", "dialogs": 661, "documents": 273, "turns": 3972, "turns_asked": 4253,
     "exact_match": 0.0227, "f1": 0.2035, "f1_answered": 0.243, "abstention_rate": 0.1626,
     "rewritten": 0.1259, "retrieval": {"doc@1": 0.4043, "doc@5": 0.6158, "span@5": 0.4743},
     "errors": 0}
"""

from __future__ import annotations

import ast
import hashlib
import json
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from qa import metrics
from qa.benchmarks.common import cache_root, read_json, sample
from qa.errors import UsageError
from qa.files import write_text_atomic


@dataclass(frozen=True)
class Span:
    text: str
    start: int | None  # offset in the document; None when the set's offset does not match it


@dataclass(frozen=True)
class DialogTurn:
    number: int  # 1-based among the dialog's user turns
    question: str
    example_id: str | None = None  # None: the set has no grounding for it (asked, not scored)
    spans: tuple[Span, ...] = ()


@dataclass(frozen=True)
class Dialog:
    id: str
    doc_title: str
    turns: tuple[DialogTurn, ...]


@dataclass(frozen=True)
class Document:
    title: str
    domain: str
    text: str


@dataclass(frozen=True)
class Doc2DialSet:
    path: Path
    documents: dict[str, Document]  # by Doc2Dial title
    dialogs: list[Dialog]


# -- reading ------------------------------------------------------------------------------------


def load_doc2dial(path: Path | str) -> Doc2DialSet:
    path = Path(path)
    data = read_json(path)
    if not isinstance(data, dict) or not isinstance(data.get("documents"), dict) or not isinstance(data.get("examples"), list):
        raise UsageError(f"{path}: expected an object with 'documents' and 'examples'")
    documents = {}
    for title, record in data["documents"].items():
        if not isinstance(record, dict) or not isinstance(record.get("text"), str) or not record["text"].strip():
            raise UsageError(f"{path}: document {title!r} has no 'text'")
        documents[title] = Document(title, str(record.get("domain", "")), record["text"])
    grounded: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for number, example in enumerate(data["examples"], start=1):
        grounded[_check_example(example, documents, f"{path}: example {number}")].append(example)
    return Doc2DialSet(path, documents, [_dialog(dialog_id, examples, documents) for dialog_id, examples in grounded.items()])


def parse_literal_list(value: Any, kind: type, where: str) -> tuple[Any, ...]:
    """A non-empty list of ``kind``, given as a list or as the string of a Python list literal."""
    if isinstance(value, str):
        try:
            value = ast.literal_eval(value)  # literals only: never eval()
        except (ValueError, SyntaxError, MemoryError, RecursionError):
            raise UsageError(f"{where}: not a list literal") from None
    listed = isinstance(value, (list, tuple)) and bool(value)
    if not listed or not all(isinstance(v, kind) and not isinstance(v, bool) for v in value):
        raise UsageError(f"{where}: expected a non-empty list of {kind.__name__}")
    return tuple(value)


def _check_example(example: Any, documents: Mapping[str, Document], where: str) -> str:
    """The example's dialog id, once its fields are known to be usable."""
    if not isinstance(example, dict):
        raise UsageError(f"{where}: expected an object")
    for key in ("id", "dialog_id", "question", "doc_title"):
        if not isinstance(example.get(key), str) or not example[key].strip():
            raise UsageError(f"{where}: missing or empty {key!r}")
    if example["doc_title"] not in documents:
        raise UsageError(f"{where}: unknown document {example['doc_title']!r}")
    history = example.get("history")
    if not isinstance(history, list) or not all(
        isinstance(h, dict) and h.get("role") in {"user", "agent"} and isinstance(h.get("text"), str) for h in history
    ):
        raise UsageError(f"{where}: 'history' must be a list of {{'role': 'user'|'agent', 'text'}}")
    answers = parse_literal_list(example.get("answers"), str, f"{where}: 'answers'")
    starts = parse_literal_list(example.get("answer_start"), int, f"{where}: 'answer_start'")
    if len(answers) != len(starts):
        raise UsageError(f"{where}: {len(answers)} answers but {len(starts)} answer_start values")
    return example["dialog_id"]


def _dialog(dialog_id: str, examples: list[dict[str, Any]], documents: Mapping[str, Document]) -> Dialog:
    """All the dialog's user turns, rebuilt from its longest history: a grounded turn is the
    user turn that has as many user turns before it as its history holds."""
    last = max(examples, key=lambda e: len(e["history"]))
    asked = [h["text"] for h in last["history"] if h["role"] == "user"] + [last["question"]]
    text = documents[last["doc_title"]].text
    by_position = {}
    for example in examples:
        position = sum(1 for h in example["history"] if h["role"] == "user")
        answers = parse_literal_list(example["answers"], str, "")
        starts = parse_literal_list(example["answer_start"], int, "")
        spans = tuple(Span(a, s if text[s : s + len(a)] == a else None) for a, s in zip(answers, starts))
        by_position[position] = (example, spans)
    turns = []
    for position, question in enumerate(asked):
        example, spans = by_position.get(position, (None, ()))
        if example is None:
            turns.append(DialogTurn(position + 1, question))
        else:
            turns.append(DialogTurn(position + 1, example["question"], example["id"], spans))
    return Dialog(dialog_id, last["doc_title"], tuple(turns))


# -- the corpus ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class BenchmarkCorpus:
    corpus_dir: Path
    index_dir: Path
    doc_ids: dict[str, str]  # Doc2Dial title → the corpus's document id


def write_corpus(data: Doc2DialSet, titles: Iterable[str] | None = None, cache_dir: Path | str | None = None) -> BenchmarkCorpus:
    """The documents named by ``titles`` (default: all) as a corpus directory in the cache.
    Content-addressed, so reruns reuse it and its index; files are written atomically, only
    when missing or different, and stray documents are removed."""
    chosen = sorted(set(titles) if titles is not None else data.documents)
    files = {title: _file_name(title) for title in chosen}
    digest = hashlib.sha256()
    for title in chosen:
        digest.update(f"{files[title]}\0{title}\0{data.documents[title].text}\0".encode())
    root = Path(cache_dir) if cache_dir else cache_root()
    folder = root / f"doc2dial-{digest.hexdigest()[:12]}"
    corpus = folder / "corpus"
    corpus.mkdir(parents=True, exist_ok=True)  # write_text_atomic creates no directories
    wanted = set()
    for title in chosen:
        document = data.documents[title]
        meta = json.dumps({"title": title, "domain": document.domain, "source": "Doc2Dial (Feng et al. 2020)"}, indent=2)
        for name, content in ((f"{files[title]}.txt", document.text), (f"{files[title]}.meta.json", meta + "\n")):
            wanted.add(name)
            target = corpus / name
            if not target.exists() or target.read_bytes() != content.encode("utf-8"):
                write_text_atomic(target, content)
    for stray in corpus.iterdir():
        if stray.is_file() and stray.name not in wanted and not stray.name.startswith("."):
            stray.unlink()
    return BenchmarkCorpus(corpus, folder / "index", dict(files))


def _file_name(title: str) -> str:
    """A safe, stable file stem: a slug of the title plus a hash (titles have '/', '#', '|')."""
    slug = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")[:60].rstrip("-")
    return f"{slug or 'document'}-{hashlib.sha1(title.encode()).hexdigest()[:8]}"


# -- running ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TurnResult:
    dialog_id: str
    example_id: str
    number: int
    question: str  # as asked (white space normalised, as Conversation records it)
    standalone_question: str
    answer: str | None  # None: abstained (or the question could not be asked)
    golds: tuple[str, ...]
    exact_match: float
    f1: float
    doc_rank: int | None  # first retrieved passage from the dialog's document
    span_rank: int | None  # first retrieved passage overlapping a grounding span
    error: str | None = None
    grounding: str | None = None  # the cited sentence(s): the answer's grounding, as a span
    grounding_f1: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return {**self.__dict__, "golds": list(self.golds), "f1": round(self.f1, 4)}


@dataclass
class Doc2DialReport:
    resolve_followups: bool
    k: int
    documents: int
    dialogs: int = 0
    turns_asked: int = 0
    results: list[TurnResult] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        scored = self.results
        answered = [r for r in scored if r.answer is not None]

        def share(flags: Iterable[bool]) -> float | None:
            values = list(flags)
            return round(sum(values) / len(values), 4) if values else None

        return {
            "mode": "conversation" if self.resolve_followups else "standalone",
            "dialogs": self.dialogs,
            "documents": self.documents,
            "turns": len(scored),
            "turns_asked": self.turns_asked,
            "exact_match": share(r.exact_match == 1.0 for r in scored),
            "f1": round(sum(r.f1 for r in scored) / len(scored), 4) if scored else None,
            "f1_answered": round(sum(r.f1 for r in answered) / len(answered), 4) if answered else None,
            # Doc2Dial's gold is a grounding clause: the cited sentence is the system's grounding.
            "grounding_f1": round(sum(r.grounding_f1 for r in scored) / len(scored), 4) if scored else None,
            "abstention_rate": share(r.answer is None and r.error is None for r in scored),
            "rewritten": share(r.standalone_question != r.question for r in scored),
            "retrieval": {
                "doc@1": share(r.doc_rank == 1 for r in scored),
                f"doc@{self.k}": share(r.doc_rank is not None for r in scored),
                f"span@{self.k}": share(r.span_rank is not None for r in scored),
            },
            "errors": sum(1 for r in scored if r.error is not None),
        }


def run_dialogs(
    assistant: Any,
    dialogs: Sequence[Dialog],
    doc_ids: Mapping[str, str],
    *,
    resolve_followups: bool = True,
    k: int = 5,
    retriever: str = "hybrid",
    on_step: Callable[[int, int], None] | None = None,
) -> Doc2DialReport:
    """Ask every dialog turn by turn and score its grounded turns. ``assistant`` is a
    ``qa.Assistant`` over the corpus ``write_corpus`` made; ``doc_ids`` is its mapping."""
    report = Doc2DialReport(resolve_followups, k, len(set(doc_ids.values())), dialogs=len(dialogs))
    total = sum(len(d.turns) for d in dialogs)
    for dialog in dialogs:
        conversation = assistant.conversation()
        for turn in dialog.turns:
            session = conversation if resolve_followups else assistant.conversation()
            try:
                asked = session.ask(turn.question, k=k, retriever=retriever)
            except UsageError as exc:  # e.g. an over-long turn: unanswered, and counted
                asked, error = None, str(exc)
            else:
                error = None
            report.turns_asked += 1
            if on_step:
                on_step(report.turns_asked, total)
            if turn.example_id is not None:
                report.results.append(_score(dialog, turn, asked, doc_ids[dialog.doc_title], error))
    return report


def _score(dialog: Dialog, turn: DialogTurn, asked: Any, doc_id: str, error: str | None) -> TurnResult:
    golds = tuple(span.text for span in turn.spans)
    answer = asked.answer if asked is not None else None
    prediction = None if answer is None or answer.abstained else answer.answer
    grounding = None if prediction is None else " ".join(c.quote for c in answer.citations) or None
    hits = answer.passages if answer is not None else []
    in_doc = [hit.passage.doc == doc_id for hit in hits]
    on_span = [
        hit.passage.doc == doc_id and any(_overlaps(hit.passage.start, hit.passage.end, s) for s in turn.spans) for hit in hits
    ]
    return TurnResult(
        dialog_id=dialog.id,
        example_id=turn.example_id or "",
        number=turn.number,
        question=asked.question if asked is not None else turn.question,
        standalone_question=asked.standalone_question if asked is not None else turn.question,
        answer=prediction,
        golds=golds,
        exact_match=metrics.exact_match(prediction, golds),
        f1=metrics.f1_score(prediction, golds),
        doc_rank=metrics.first_relevant_rank(in_doc),
        span_rank=metrics.first_relevant_rank(on_span),
        error=error,
        grounding=grounding,
        grounding_f1=metrics.f1_score(grounding, golds),
    )


def _overlaps(start: int, end: int, span: Span) -> bool:
    return span.start is not None and start < span.start + len(span.text) and span.start < end


def evaluate_doc2dial(
    path: Path | str,
    *,
    limit: int | None = None,
    seed: int = 0,
    resolve_followups: bool = True,
    documents: str = "all",
    cache_dir: Path | str | None = None,
    k: int = 5,
    retriever: str = "hybrid",
    on_step: Callable[[int, int], None] | None = None,
    on_progress: Any = None,
    reader: str = "model",
) -> Doc2DialReport:
    """Load the set, sample ``limit`` dialogs with ``seed``, index the documents (``"all"`` of
    the set's, or ``"dialogs"``: only those the sample talks about — smaller and easier, since
    fewer documents compete) and run the dialogs. ``on_progress`` goes to the index build."""
    from qa.assistant import Assistant

    if documents not in {"all", "dialogs"}:
        raise UsageError(f"documents must be 'all' or 'dialogs' (got {documents!r})")
    data = load_doc2dial(path)
    dialogs = sample(data.dialogs, limit, seed)
    titles = {d.doc_title for d in dialogs} if documents == "dialogs" else None
    corpus = write_corpus(data, titles, cache_dir)
    assistant = Assistant.load(corpus.corpus_dir, corpus.index_dir, on_progress=on_progress, reader=reader)
    return run_dialogs(
        assistant, dialogs, corpus.doc_ids, resolve_followups=resolve_followups, k=k, retriever=retriever, on_step=on_step
    )
