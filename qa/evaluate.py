"""Benchmark runs: labelled eval sets in, per-item predictions and standard metrics out.

Eval files are JSONL. A question line is
``{"id", "question", "answers": [...], "evidence": [exact corpus quotes], "type", "all_required"}``
(``answers: []`` = the corpus does not answer it); a conversation line is
``{"id", "turns": [{"question", "answers", "evidence", ...}, ...]}``.

Scoring, per item:
- retrieval: the rank of the first retrieved passage that contains an evidence quote (or lies
  inside one) → Recall@1/@5 and MRR over the items that have evidence;
- answer: correct when the short answer contains a gold variant after SQuAD normalisation (all
  of them when ``all_required``), or, for unanswerable items, when the assistant abstained;
  SQuAD EM and F1 against the gold variants;
- citations: every citation must verify against the corpus; a citation is *correct* when its
  quote contains an evidence quote or lies inside one.
"""

from __future__ import annotations

import json
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from qa import metrics
from qa.answer import Answer, verify_citation
from qa.errors import QAError, UsageError

SUMMARY_VERSION = 1
UNANSWERABLE = "unanswerable"
VARIANT = "variant"


@dataclass(frozen=True)
class EvalItem:
    id: str
    question: str
    answers: tuple[str, ...]
    evidence: tuple[str, ...]
    type: str
    all_required: bool = False
    turn: int | None = None  # 1-based turn number inside a conversation

    @property
    def answerable(self) -> bool:
        return bool(self.answers)


@dataclass(frozen=True)
class EvalConversation:
    id: str
    turns: tuple[EvalItem, ...]


@dataclass(frozen=True)
class ItemResult:
    item: EvalItem
    answer: Answer
    standalone_question: str
    correct: bool
    exact_match: float
    f1: float
    evidence_rank: int | None  # None: no retrieved passage holds the evidence (or no evidence)
    citations_verified: bool
    citation_correct: bool
    latency_ms: float
    # Variant-spelling questions are asked a second time with the corpus's own spellings.
    correct_in_corpus_spelling: bool | None = None


@dataclass
class EvalRun:
    retriever: str
    questions: list[ItemResult] = field(default_factory=list)
    turns: list[ItemResult] = field(default_factory=list)


# -- reading eval files ---------------------------------------------------------------------


def load_questions(path: Path) -> list[EvalItem]:
    items = [_item(record, path, line) for line, record in _records(path)]
    _check_unique((item.id for item in items), path)
    return items


def load_conversations(path: Path) -> list[EvalConversation]:
    conversations = []
    for line, record in _records(path):
        turns = record.get("turns")
        if not isinstance(turns, list) or not turns or not all(isinstance(t, dict) for t in turns):
            raise UsageError(f"{path}:{line}: 'turns' must be a non-empty list of objects")
        conversation_id = _text(record, "id", path, line)
        conversations.append(
            EvalConversation(
                conversation_id,
                tuple(
                    _item({"id": conversation_id, **turn}, path, line, turn=number)
                    for number, turn in enumerate(turns, start=1)
                ),
            )
        )
    _check_unique((c.id for c in conversations), path)
    return conversations


def _records(path: Path) -> Iterable[tuple[int, dict[str, Any]]]:
    try:
        raw = Path(path).read_bytes()
    except FileNotFoundError:
        raise UsageError(f"eval file not found: {path}") from None
    except OSError as exc:
        raise UsageError(f"cannot read eval file {path}: {exc.strerror or exc}") from None
    for number, line in enumerate(raw.split(b"\n"), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line.decode("utf-8"))
        except UnicodeDecodeError:
            raise UsageError(f"{path}:{number}: not valid UTF-8") from None
        except json.JSONDecodeError as exc:
            raise UsageError(f"{path}:{number}: not valid JSON ({exc.msg})") from None
        if not isinstance(record, dict):
            raise UsageError(f"{path}:{number}: expected a JSON object")
        yield number, record


def _item(record: dict[str, Any], path: Path, line: int, turn: int | None = None) -> EvalItem:
    answers = _strings(record, "answers", path, line)
    evidence = _strings(record, "evidence", path, line, required=False)
    all_required = record.get("all_required", False)
    if not isinstance(all_required, bool):
        raise UsageError(f"{path}:{line}: 'all_required' must be true or false")
    kind = record.get("type") or ("turn" if answers else UNANSWERABLE)
    if not isinstance(kind, str):
        raise UsageError(f"{path}:{line}: 'type' must be a string")
    return EvalItem(
        id=_text(record, "id", path, line),
        question=_text(record, "question", path, line),
        answers=answers,
        evidence=evidence,
        type=kind if answers or turn is None else UNANSWERABLE,
        all_required=all_required,
        turn=turn,
    )


def _text(record: dict[str, Any], key: str, path: Path, line: int) -> str:
    value = record.get(key)
    if isinstance(value, int) and not isinstance(value, bool) and key == "id":
        value = str(value)
    if not isinstance(value, str) or not value.strip():
        raise UsageError(f"{path}:{line}: missing or empty '{key}'")
    return value


def _strings(record: dict[str, Any], key: str, path: Path, line: int, required: bool = True) -> tuple[str, ...]:
    if key not in record and not required:
        return ()
    value = record.get(key)
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise UsageError(f"{path}:{line}: '{key}' must be a list of strings")
    return tuple(value)


def _check_unique(ids: Iterable[str], path: Path) -> None:
    seen: set[str] = set()
    for item_id in ids:
        if item_id in seen:
            raise UsageError(f"{path}: duplicate id {item_id!r}")
        seen.add(item_id)


# -- running --------------------------------------------------------------------------------

Step = Callable[[int, int], None]


def run(
    assistant: Any,
    questions: list[EvalItem],
    conversations: list[EvalConversation],
    *,
    retriever: str = "hybrid",
    k: int = 5,
    on_step: Step | None = None,
) -> EvalRun:
    """Ask every question (each on its own) and every conversation turn (in order, one
    conversation at a time) and score them. ``assistant`` is a ``qa.Assistant``."""
    documents: dict[str, str] = assistant.index.documents
    total = len(questions) + sum(len(c.turns) for c in conversations)
    result = EvalRun(retriever)
    done = 0
    for item in questions:
        started = time.perf_counter()
        answer = assistant.ask(item.question, k=k, retriever=retriever)
        latency = (time.perf_counter() - started) * 1000
        scored = score(item, answer, item.question, documents, latency)
        if item.type == VARIANT:
            scored = replace(scored, correct_in_corpus_spelling=_correct_in_corpus_spelling(assistant, item, k, retriever))
        result.questions.append(scored)
        done += 1
        if on_step:
            on_step(done, total)
    for conversation in conversations:
        session = assistant.conversation()
        for item in conversation.turns:
            started = time.perf_counter()
            turn = session.ask(item.question, k=k, retriever=retriever)
            latency = (time.perf_counter() - started) * 1000
            result.turns.append(score(item, turn.answer, turn.standalone_question, documents, latency))
            done += 1
            if on_step:
                on_step(done, total)
    return result


def _correct_in_corpus_spelling(assistant: Any, item: EvalItem, k: int, retriever: str) -> bool:
    """Ask a variant-spelling question as the article spells its names ("Kosygin" → "Kosseigin"),
    to compare against the question as the reader wrote it."""
    from qa.names import rewrite

    as_written = rewrite(item.question, assistant.names.match(item.question))
    answer = assistant.ask(as_written, k=k, retriever=retriever)
    return metrics.contains_answer(None if answer.abstained else answer.answer, item.answers, item.all_required)


def score(item: EvalItem, answer: Answer, standalone: str, documents: dict[str, str], latency_ms: float) -> ItemResult:
    spans = evidence_spans(item.evidence, documents)
    relevant = [any(_nested(hit.passage.doc, hit.passage.start, hit.passage.end, span) for span in spans) for hit in answer.passages]
    prediction = None if answer.abstained else answer.answer
    verified = True
    for citation in answer.citations:
        try:
            verify_citation(citation, documents)
        except QAError:
            verified = False
    cited_evidence = any(_nested(c.doc, c.start, c.end, span) for c in answer.citations for span in spans)
    return ItemResult(
        item=item,
        answer=answer,
        standalone_question=standalone,
        correct=metrics.contains_answer(prediction, item.answers, item.all_required),
        exact_match=metrics.exact_match(prediction, item.answers),
        f1=metrics.f1_score(prediction, item.answers),
        evidence_rank=metrics.first_relevant_rank(relevant) if spans else None,
        citations_verified=verified,
        citation_correct=verified and cited_evidence,
        latency_ms=latency_ms,
    )


def evidence_spans(quotes: Iterable[str], documents: dict[str, str]) -> list[tuple[str, int, int]]:
    """Every place each evidence quote occurs in the corpus, as (doc, start, end)."""
    spans = []
    for quote in quotes:
        for doc, text in documents.items():
            at = text.find(quote)
            while at >= 0:
                spans.append((doc, at, at + len(quote)))
                at = text.find(quote, at + 1)
    return spans


def _nested(doc: str, start: int, end: int, span: tuple[str, int, int]) -> bool:
    """A retrieved or cited span counts when it contains the evidence or lies inside it."""
    span_doc, span_start, span_end = span
    if doc != span_doc:
        return False
    return (start <= span_start and span_end <= end) or (span_start <= start and end <= span_end)


# -- summarising ----------------------------------------------------------------------------


def summarize(results: list[ItemResult]) -> dict[str, Any]:
    """The metrics of one group of items (see the module docstring)."""
    answerable = [r for r in results if r.item.answerable]
    unanswerable = [r for r in results if not r.item.answerable]
    with_evidence = [r for r in answerable if r.item.evidence]
    answered = [r for r in answerable if not r.answer.abstained]
    ranks = [r.evidence_rank for r in with_evidence]
    latencies = [r.latency_ms for r in results]
    return {
        "n": len(results),
        "answerable": len(answerable),
        "unanswerable": len(unanswerable),
        "accuracy": _share(r.correct for r in answerable),
        "exact_match": _mean(r.exact_match for r in answerable),
        "f1": _mean(r.f1 for r in answerable),
        "recall@1": metrics.recall_at(ranks, 1) if ranks else None,
        "recall@5": metrics.recall_at(ranks, 5) if ranks else None,
        "mrr": metrics.mean_reciprocal_rank(ranks) if ranks else None,
        "abstention_accuracy": _share(r.answer.abstained for r in unanswerable),
        "false_abstention": _share(r.answer.abstained for r in answerable),
        "overall_accuracy": _share(r.correct for r in results),
        "citations_verified": _share(r.citations_verified for r in results),
        "citation_correct": _share(r.citation_correct for r in answered),
        "latency_ms_p50": round(metrics.percentile(latencies, 50), 2),
        "latency_ms_p95": round(metrics.percentile(latencies, 95), 2),
        **_parity(results),
    }


def _parity(results: list[ItemResult]) -> dict[str, Any]:
    """For variant-spelling questions: accuracy as asked vs. with the article's spellings."""
    paired = [r for r in results if r.correct_in_corpus_spelling is not None]
    if not paired:
        return {}
    return {
        "variant_accuracy_as_asked": _share(r.correct for r in paired),
        "variant_accuracy_corpus_spelling": _share(bool(r.correct_in_corpus_spelling) for r in paired),
    }


def summary(run_result: EvalRun, *, questions_file: str | None, conversations_file: str | None) -> dict[str, Any]:
    by_type: dict[str, list[ItemResult]] = defaultdict(list)
    for r in run_result.questions:
        by_type[r.item.type].append(r)
    report: dict[str, Any] = {"retriever": run_result.retriever}
    if questions_file is not None:
        report["questions"] = {
            "file": questions_file,
            "overall": summarize(run_result.questions),
            "by_type": {kind: summarize(items) for kind, items in sorted(by_type.items())},
        }
    if conversations_file is not None:
        turns = run_result.turns
        report["conversations"] = {
            "file": conversations_file,
            "conversations": len({r.item.id for r in turns}),
            "turn_accuracy": _share(r.correct for r in turns),
            "turns": summarize(turns),
            "by_turn": {
                str(number): summarize([r for r in turns if r.item.turn == number])
                for number in sorted({r.item.turn for r in turns if r.item.turn is not None})
            },
        }
    return report


def prediction_record(result: ItemResult, retriever: str, answer_fields: dict[str, Any]) -> dict[str, Any]:
    """One line of ``--predictions``: the ids, the ``qa ask --json`` fields and the scores."""
    return {
        "id": result.item.id,
        "turn": result.item.turn,
        "retriever": retriever,
        "type": result.item.type,
        "standalone_question": result.standalone_question,
        **answer_fields,
        "gold": {"answers": list(result.item.answers), "all_required": result.item.all_required},
        "score": {
            "correct": result.correct,
            "exact_match": result.exact_match,
            "f1": round(result.f1, 4),
            "evidence_rank": result.evidence_rank,
            "citations_verified": result.citations_verified,
            "citation_correct": result.citation_correct,
            "latency_ms": round(result.latency_ms, 2),
        },
    }


def _share(flags: Iterable[bool]) -> float | None:
    values = list(flags)
    return round(sum(values) / len(values), 4) if values else None


def _mean(values: Iterable[float]) -> float | None:
    numbers = list(values)
    return round(sum(numbers) / len(numbers), 4) if numbers else None
