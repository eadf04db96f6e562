"""Follow-up rewriting measured on its own: gold history in, standalone question out.

Each ``RewriteItem`` holds a conversation's gold history (previous questions and their gold
answers), the question as asked and a human's standalone rewrite of it. A rewriter (any
``Callable[[RewriteItem], str]``; ``project_rewriter()`` is ``qa.followup.resolve`` driven the
way ``Conversation`` drives it) turns the item into its standalone question, and
``score_rewrites`` compares that with the human rewrite:

- BLEU-4: sacrebleu's ``corpus_bleu`` with its defaults (13a tokenisation, case-sensitive);
- token F1: SQuAD-normalised token overlap (``qa.metrics``), the mean over items;
- the raw question scored the same way is the baseline: a rewriter that changes nothing gets
  exactly its numbers, so the gap is what the rewriting adds (or costs);
- ``changed``: the share of questions the rewriter changed; ``needs_rewrite``: the share whose
  human rewrite differs from the question (how much rewriting the set asks for).

Sets: ``load_canard(path)`` (CANARD's JSON release) and ``load_cast(folder)`` (TREC CAsT
2019–2022 manual rewrites, ``qa.benchmarks.cast``). ``RewriteReport.as_dict()`` is, for the
whole CANARD dev set with ``project_rewriter()``::

    {"total": 3430, "system": {"bleu": 45.78, "token_f1": 0.767},
     "raw_question": {"bleu": 34.76, "token_f1": 0.6885}, "changed": 0.5729,
     "needs_rewrite": 0.9417, "by_group": {"canard": {...the same keys...}}}

``RewriteReport.results`` keeps each ``RewriteResult`` (``.as_dict()``: one prediction line).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from qa import metrics
from qa.benchmarks.common import read_json, sample
from qa.errors import UsageError

# QuAC marks unanswerable turns CANNOTANSWER; the CANARD release writes it "I don't know."
_NO_ANSWER = {"i don't know.", "cannotanswer"}


@dataclass(frozen=True)
class PastTurn:
    question: str  # as asked
    answer: str | None = None  # the gold answer or response; None when there was none


@dataclass(frozen=True)
class RewriteItem:
    id: str
    group: str  # "canard", "cast2019", ...: reported separately
    question: str  # as asked, in context
    rewrite: str  # the human standalone rewrite (the reference)
    history: tuple[PastTurn, ...] = ()  # oldest first
    title: str = ""  # what the conversation is about, where the set says (CANARD's article)
    section: str = ""


@dataclass(frozen=True)
class RewriteResult:
    item: RewriteItem
    system: str  # the rewriter's standalone question

    @property
    def changed(self) -> bool:
        return _spaces(self.system) != _spaces(self.item.question)

    def as_dict(self) -> dict[str, Any]:
        """One prediction line: the item, the system's rewrite and both token F1s."""
        return {
            "id": self.item.id,
            "group": self.item.group,
            "question": self.item.question,
            "rewrite": self.item.rewrite,
            "system": self.system,
            "changed": self.changed,
            "token_f1": round(token_f1(self.system, self.item.rewrite), 4),
            "raw_token_f1": round(token_f1(self.item.question, self.item.rewrite), 4),
        }


@dataclass
class RewriteReport:
    results: list[RewriteResult] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        groups = sorted({r.item.group for r in self.results})
        return {
            **_summary(self.results),
            "by_group": {g: _summary([r for r in self.results if r.item.group == g]) for g in groups},
        }


# -- metrics ----------------------------------------------------------------------------------


def token_f1(prediction: str, reference: str) -> float:
    """SQuAD-style token F1 (lower case, no punctuation or articles) of one pair."""
    return metrics.f1_score(prediction, [reference])


def corpus_bleu(hypotheses: Sequence[str], references: Sequence[str]) -> float:
    """Corpus-level BLEU-4 (0–100), sacrebleu defaults: 13a tokenisation, one reference each."""
    import sacrebleu  # only the benchmarks need it

    if len(hypotheses) != len(references):
        raise ValueError("one reference per hypothesis")
    return float(sacrebleu.corpus_bleu(list(hypotheses), [list(references)]).score)


def _summary(results: Sequence[RewriteResult]) -> dict[str, Any]:
    if not results:
        return {"total": 0, "system": None, "raw_question": None, "changed": None, "needs_rewrite": None}
    references = [r.item.rewrite for r in results]

    def scores(texts: list[str]) -> dict[str, float]:
        f1 = sum(token_f1(t, ref) for t, ref in zip(texts, references)) / len(texts)
        return {"bleu": round(corpus_bleu(texts, references), 2), "token_f1": round(f1, 4)}

    return {
        "total": len(results),
        "system": scores([r.system for r in results]),
        "raw_question": scores([r.item.question for r in results]),
        "changed": round(sum(r.changed for r in results) / len(results), 4),
        "needs_rewrite": round(sum(_spaces(r.item.rewrite) != _spaces(r.item.question) for r in results) / len(results), 4),
    }


def _spaces(text: str) -> str:
    return " ".join(text.split())


# -- running ----------------------------------------------------------------------------------


def score_rewrites(
    items: Sequence[RewriteItem],
    rewrite: Callable[[RewriteItem], str],
    *,
    limit: int | None = None,
    seed: int = 0,
    on_step: Callable[[int, int], None] | None = None,
) -> RewriteReport:
    """Rewrite every item (or a seeded sample of ``limit``) and keep the results for scoring."""
    chosen = sample(items, limit, seed)
    report = RewriteReport()
    for done, item in enumerate(chosen, start=1):
        report.results.append(RewriteResult(item, rewrite(item)))
        if on_step:
            on_step(done, len(chosen))
    return report


def project_rewriter(*, use_title: bool = True) -> Callable[[RewriteItem], str]:
    """``qa.followup.resolve`` as a conversation runs it, over the item's gold history: each
    past question is rewritten in turn and kept as the standalone question of its exchange
    (as ``Conversation`` records its turns), with the gold answer as that turn's answer and
    evidence. The lexicon (which capitalised words are names) comes from the texts the
    conversation has seen: title, section, questions and answers. With ``use_title``, the
    article title opens the history as a turn of its own (its question is the title), so a
    first question's "he" has someone to point to."""
    from qa.answer import classify
    from qa.followup import Exchange, Lexicon, resolve

    def rewrite(item: RewriteItem) -> str:
        # "About <title>": the title's words are seen mid-sentence, so they count as names.
        texts = [f"About {item.title}", item.section]
        texts += [text for turn in item.history for text in (turn.question, turn.answer or "")]
        lexicon = Lexicon.from_texts([t for t in texts if t])
        exchanges: list[Exchange] = []
        if use_title and item.title:
            exchanges.append(Exchange(question=item.title, asked=item.title))
        for turn in item.history:
            standalone = resolve(turn.question, exchanges, lexicon)
            exchanges.append(Exchange(standalone, turn.answer, classify(standalone), turn.answer or "", turn.question))
        return resolve(item.question, exchanges, lexicon)

    return rewrite


# -- sets -------------------------------------------------------------------------------------


def load_canard(path: Path | str) -> list[RewriteItem]:
    """CANARD's JSON release: a list of ``{"History": [title, section, q1, a1, ...],
    "Question", "Rewrite", "QuAC_dialog_id", "Question_no"}``."""
    path = Path(path)
    data = read_json(path)
    if not isinstance(data, list):
        raise UsageError(f"{path}: expected a JSON list of CANARD items")
    items = []
    for number, record in enumerate(data, start=1):
        where = f"{path}: item {number}"
        if not isinstance(record, dict):
            raise UsageError(f"{where}: expected an object")
        history = record.get("History")
        paired = isinstance(history, list) and len(history) >= 2 and len(history) % 2 == 0
        if not paired or not all(isinstance(h, str) for h in history):
            raise UsageError(f"{where}: 'History' must be [title, section, question, answer, ...] (strings)")
        question, rewrite = _field(record, "Question", where), _field(record, "Rewrite", where)
        turns = tuple(
            PastTurn(q, None if a.strip().lower() in _NO_ANSWER else a) for q, a in zip(history[2::2], history[3::2])
        )
        dialog = record.get("QuAC_dialog_id", "canard")
        turn = record.get("Question_no", len(turns) + 1)
        items.append(RewriteItem(f"{dialog}#{turn}", "canard", question, rewrite, turns, history[0], history[1]))
    return items


def load_cast(folder: Path | str, years: Sequence[int] = (2019, 2020, 2021, 2022)) -> list[RewriteItem]:
    """TREC CAsT manual rewrites, year by year (see ``qa.benchmarks.cast``)."""
    from qa.benchmarks.cast import load

    return load(Path(folder), years)


def _field(record: dict[str, Any], key: str, where: str) -> str:
    value = record.get(key)
    if not isinstance(value, str) or not value.strip():
        raise UsageError(f"{where}: missing or empty {key!r}")
    return value
