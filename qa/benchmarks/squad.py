"""SQuAD 1.1 / 2.0 benchmark runs: the standard JSON in, the official metrics out.

Two settings:
- ``reading``: each question is read against its own paragraph only (the published setting; it
  measures the reader alone, retrieval skipped);
- ``corpus``: the file's articles become a corpus (one document per article, its paragraphs as
  paragraphs, written under the cache — never into ``corpus/``) and every question goes through
  the whole assistant: retrieval, reading, abstention.

Predictions are ``{qid: answer}`` with ``""`` for an abstention and the no-answer probability
``1 - confidence``: the files the official evaluation script reads.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from qa.benchmarks import squad_metrics
from qa.benchmarks.common import cache_root, sample
from qa.errors import UsageError

SETTINGS = ("reading", "corpus")
_WH = ("what", "which", "who", "whom", "whose", "when", "where", "why", "how")
_WORD = re.compile(r"[a-z]+")


@dataclass(frozen=True)
class SquadQuestion:
    id: str
    question: str
    answers: tuple[str, ...]  # () when unanswerable
    title: str
    context: str

    @property
    def wh_word(self) -> str:
        return next((w for w in _WORD.findall(self.question.lower()) if w in _WH), "other")


@dataclass(frozen=True)
class SquadSet:
    path: Path
    version: str
    sha256: str
    articles: list[dict[str, Any]]
    questions: list[SquadQuestion]

    @property
    def has_unanswerable(self) -> bool:
        return any(not q.answers for q in self.questions)


@dataclass(frozen=True)
class Prediction:
    id: str
    answer: str  # "" = abstained
    na_prob: float
    doc: str | None = None  # corpus setting: the document the answer came from


def load(path: Path) -> SquadSet:
    """Read a SQuAD 1.1 or 2.0 file; a malformed one is a UsageError naming the file."""
    try:
        raw_bytes = path.read_bytes()
        raw = json.loads(raw_bytes)
        questions = [
            SquadQuestion(
                id=str(qa["id"]),
                question=str(qa["question"]),
                answers=() if qa.get("is_impossible") else tuple(str(a["text"]) for a in qa["answers"]),
                title=str(article.get("title", "")),
                context=str(paragraph["context"]),
            )
            for article in raw["data"]
            for paragraph in article["paragraphs"]
            for qa in paragraph["qas"]
        ]
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror or exc}") from exc
    except (ValueError, KeyError, TypeError) as exc:
        raise UsageError(f"{path} is not a SQuAD file (data[].paragraphs[].qas[]): {exc}") from exc
    if not questions:
        raise UsageError(f"{path} holds no questions")
    if len({q.id for q in questions}) != len(questions):
        raise UsageError(f"{path} repeats question ids")
    version = str(raw.get("version", "")) or ("v2.0" if any(not q.answers for q in questions) else "1.1")
    return SquadSet(path, version, hashlib.sha256(raw_bytes).hexdigest(), raw["data"], questions)


def articles_seen_by_reader(directory: Path | None = None) -> set[str]:
    """Titles of the dev articles the shipped reader's model card says it saw (training or
    calibration): measuring on them would not be a measurement."""
    if directory is None:
        from qa.reader import model_dir

        directory = model_dir()
    card_file = directory / "model_card.json"
    if not card_file.exists():
        return set()
    card = json.loads(card_file.read_text(encoding="utf-8"))
    return {str(t) for t in card.get("dev_articles_seen", [])}


def run_reading(
    questions: list[SquadQuestion], reader: Any, calibration: Any, *, may_abstain: bool,
    on_step: Callable[[int, int], None] | None = None,
) -> list[Prediction]:
    """Each question against its own paragraph. Without unanswerable questions in the set
    (SQuAD 1.1) the best span is always given, as published systems do."""
    predictions = []
    for done, q in enumerate(questions, start=1):
        spans = reader.read(q.question, [q.context])
        if not spans:
            predictions.append(Prediction(q.id, "", 1.0))
        else:
            probability = calibration.reading_probability(spans[0].margin)
            answer = spans[0].text if not may_abstain or probability >= calibration.reading_threshold else ""
            predictions.append(Prediction(q.id, answer, round(1.0 - probability, 6)))
        if on_step:
            on_step(done, len(questions))
    return predictions


def run_corpus(
    questions: list[SquadQuestion], assistant: Any, *, k: int, on_step: Callable[[int, int], None] | None = None
) -> list[Prediction]:
    """Every question through the whole assistant."""
    predictions = []
    for done, q in enumerate(questions, start=1):
        answer = assistant.ask(q.question, k=k)
        text = "" if answer.abstained else (answer.answer or "")
        predictions.append(Prediction(q.id, text, round(1.0 - answer.confidence, 6), answer.answer_doc))
        if on_step:
            on_step(done, len(questions))
    return predictions


def document_name(title: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]+", "-", title).strip("-")[:80] or "article"


def write_corpus(articles: list[dict[str, Any]], target: Path) -> Path:
    """One document per article (its title, then its paragraphs), written to ``target`` once.

    The corpus is written into a temporary sibling and renamed into place, so an interrupted
    run never leaves half a corpus."""
    if target.is_dir() and any(target.iterdir()):
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".corpus-", dir=target.parent))
    names: set[str] = set()
    for article in articles:
        name = document_name(str(article.get("title", "")))
        while name in names:
            name += "-2"
        names.add(name)
        title = str(article.get("title", name)).replace("_", " ")
        body = "\n\n".join(" ".join(p["context"].split()) for p in article["paragraphs"])
        (work / f"{name}.txt").write_text(f"{title}\n\n{body}\n", encoding="utf-8")
    try:
        os.replace(work, target)
    except OSError:  # a concurrent run finished first
        for child in work.iterdir():
            child.unlink()
        work.rmdir()
    return target


def corpus_cache(dataset: SquadSet) -> Path:
    return cache_root() / f"squad-{dataset.sha256[:12]}"


def report(dataset: SquadSet, questions: list[SquadQuestion], predictions: list[Prediction]) -> dict[str, Any]:
    """The official metrics overall, per article and per question word."""
    by_id = {p.id: p for p in predictions}
    with_no_answer = dataset.has_unanswerable

    def evaluate(subset: list[SquadQuestion]) -> dict[str, float]:
        golds = {q.id: list(q.answers) for q in subset}
        answers = {q.id: by_id[q.id].answer for q in subset}
        probabilities = {q.id: by_id[q.id].na_prob for q in subset} if with_no_answer else None
        result = squad_metrics.evaluate(golds, answers, probabilities, with_no_answer_keys=with_no_answer)
        return {k: (round(v, 2) if isinstance(v, float) else v) for k, v in result.items()}

    groups: dict[str, dict[str, list[SquadQuestion]]] = {"article": defaultdict(list), "wh_word": defaultdict(list)}
    for q in questions:
        groups["article"][q.title].append(q)
        groups["wh_word"][q.wh_word].append(q)
    return {
        "overall": evaluate(questions),
        "by_article": {name: evaluate(qs) for name, qs in sorted(groups["article"].items())},
        "by_wh_word": {name: evaluate(qs) for name, qs in sorted(groups["wh_word"].items(), key=lambda kv: -len(kv[1]))},
    }
