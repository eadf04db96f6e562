"""Reading with the trained model: retrieved passages → an extractive answer at exact offsets.

The reader (``qa.reader``) reads the top-k passages in rank order and gives each its best span
and no-answer score. The answer is the best-scoring span across passages (logits compare across
passages, as in DrQA). Reading stops early once the best span so far is likely enough to be
right that later passages almost never beat it (the exit threshold, fitted with the
calibration): most questions are answered from their first passage or two. Its confidence is a calibrated probability (logistic, over the span's
margin against no-answer, its score and the passage's retrieval evidence) fitted by
``training/calibrate_reader.py`` on held-out SQuAD training articles — never on ``eval/``.
Below the calibrated threshold the assistant abstains. The span's offsets are mapped onto the
corpus file, so the answer is a verified slice of the corpus; the citation is the sentence (or
sentences) holding it.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from qa.answer import Answer, Citation, abstain, classify, verify_citation
from qa.corpus import Repair, apply_repairs
from qa.errors import QAError
from qa.reader import ExtractiveReader, Span
from qa.retrieval import Hit

FEATURES = ("margin", "score", "dense", "reciprocal_rank")


@dataclass(frozen=True)
class Stopping:
    """When reading passages in rank order stops (fitted with the calibration, on held-out
    training articles): once the best span so far is at least ``answer_at`` likely right (later
    passages rarely beat it), or after ``give_up_after`` passages while the best so far is less
    likely right than ``give_up_below`` (later passages rarely make it answerable). None: never."""

    answer_at: float | None = None
    give_up_after: int | None = None
    give_up_below: float = 0.0

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> Stopping:
        at, after, below = raw.get("threshold"), raw.get("give_up_after"), raw.get("give_up_below")
        return cls(None if at is None else float(at), None if after is None else int(after), float(below or 0.0))

    def stops(self, read: int, probability: float) -> bool:
        if self.answer_at is not None and probability >= self.answer_at:
            return True
        return self.give_up_after is not None and read >= self.give_up_after and probability < self.give_up_below


@dataclass(frozen=True)
class Calibration:
    """p(answer is right) = sigmoid(bias + Σ weight·feature); abstain below ``threshold``.

    ``reading_*`` is the same over the margin alone, for reading one given passage (the SQuAD
    reading setting, where there are no retrieval scores)."""

    weights: tuple[float, ...]
    bias: float
    threshold: float
    reading_weight: float
    reading_bias: float
    reading_threshold: float
    fitted_on: str
    stopping: Stopping = Stopping()  # read every passage, unless a stopping rule was fitted

    @classmethod
    def load(cls, path: Path) -> Calibration:
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
            corpus, reading = raw["corpus"], raw["reading"]
            return cls(
                weights=tuple(float(corpus["weights"][name]) for name in FEATURES),
                bias=float(corpus["bias"]),
                threshold=float(corpus["threshold"]),
                reading_weight=float(reading["weight"]),
                reading_bias=float(reading["bias"]),
                reading_threshold=float(reading["threshold"]),
                fitted_on=str(raw.get("fitted_on", "")),
                stopping=Stopping.from_json(raw.get("early_exit") or {}),
            )
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise QAError(f"the reader calibration {path} is unreadable: {exc}") from exc

    def probability(self, features: dict[str, float]) -> float:
        return _sigmoid(self.bias + sum(w * features[name] for w, name in zip(self.weights, FEATURES)))

    def reading_probability(self, margin: float) -> float:
        return _sigmoid(self.reading_bias + self.reading_weight * margin)


def span_features(span: Span, hit: Hit) -> dict[str, float]:
    return {
        "margin": span.margin,
        "score": span.score,
        "dense": hit.dense_score,
        "reciprocal_rank": 1.0 / hit.rank,
    }


def best_of(spans: list[Span]) -> Span | None:
    return max(spans, key=lambda s: s.score, default=None)


def read_in_rank_order(
    spans_by_rank: Iterable[list[Span]], hits: list[Hit], calibration: Calibration, stopping: Stopping,
) -> tuple[Span | None, int]:
    """The best span of the hits' passages and how many were read: ``spans_by_rank`` gives each
    passage's spans (what ``reader.read`` returns for it alone), in rank order, and is consumed
    only until ``stopping`` says so. Reading a passage alone gives the spans it gets among
    others (one window per run), so with ``Stopping()`` this is exactly the best of all. Shared
    by the query path and the fitting of the stopping rule."""
    best: Span | None = None
    read = 0
    for rank, spans in enumerate(spans_by_rank):
        read += 1
        for span in spans:
            if best is None or span.score > best.score:  # ties: the higher-ranked passage, as best_of
                best = replace(span, passage=rank)
        probability = 0.0 if best is None else calibration.probability(span_features(best, hits[best.passage]))
        if stopping.stops(read, probability):
            break
    return best, read


def read_answer(
    question: str,
    hits: list[Hit],
    reader: ExtractiveReader,
    calibration: Calibration,
    documents: dict[str, str],
    repairs: dict[str, tuple[Repair, ...]],
    avoid: tuple[str, ...] = (),
) -> Answer:
    """The best span of the hits (see the module), overlapping no text of ``avoid``."""
    answer_type = classify(question)
    one_by_one = (reader.read(question, [hit.passage.text], avoid) for hit in hits)
    best, _ = read_in_rank_order(one_by_one, hits, calibration, calibration.stopping)
    if best is None:
        return abstain(question, answer_type, hits, 0.0, {})
    hit = hits[best.passage]
    features = span_features(best, hit)
    confidence = calibration.probability(features)
    if confidence < calibration.threshold:
        return abstain(question, answer_type, hits, confidence, features)
    passage = hit.passage
    doc = passage.doc
    start, end = passage.start + best.start, passage.start + best.end
    text = documents[doc]
    citation = _cite(hit, start, end, documents)
    return Answer(
        question=question,
        answer=apply_repairs(text, start, end, repairs.get(doc, ())),  # "Kagano-vich" reads "Kaganovich"
        abstained=False,
        confidence=round(confidence, 3),
        answer_type=answer_type,
        citations=[citation],
        passages=hits,
        features=features,
        answer_doc=doc,
        answer_start=start,
        answer_end=end,
    )


def _cite(hit: Hit, start: int, end: int, documents: dict[str, str]) -> Citation:
    """The passage's sentences that hold the span (one, unless the span crosses a sentence end)."""
    passage = hit.passage
    holding = [s for s in passage.sentences if s.start < end and s.end > start] or [passage]
    first, last = holding[0].start, holding[-1].end
    citation = Citation(
        doc=passage.doc,
        passage_id=passage.passage_id,
        start=first,
        end=last,
        quote=documents[passage.doc][first:last],
        location=passage.location_at(start),
    )
    verify_citation(citation, documents)
    return citation


def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-max(-60.0, min(60.0, x))))
