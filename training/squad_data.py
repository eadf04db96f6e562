"""Reader training data from SQuAD: the inputs the reader sees at query time, with negatives.

A question is paired with (a) its whole paragraph, cut into doc-stride windows, or (b) a short
window of a few sentences around its answer — what retrieval hands the reader — and, as
no-answer examples, (c) a window of another paragraph of the same article (a retrieval miss)
and (d) its own paragraph with the answer's sentence cut out (a near miss: same topic, no
answer). Whole articles are held out for validation. Everything is seeded.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
from dataclasses import dataclass
from pathlib import Path

# Sentence ends: good enough for building training windows (the query path uses pysbd).
_SENTENCE_END = re.compile(r"(?<=[.!?])[\"')\]]*\s+(?=[A-Z0-9\"'(])")


@dataclass(frozen=True)
class Example:
    """One (question, context) pair; ``answer_start`` is -1 for no answer."""

    qid: str
    question: str
    context: str
    answer_text: str
    answer_start: int
    kind: str  # paragraph | window | other-paragraph | answer-removed


@dataclass(frozen=True)
class Split:
    train: list[dict]  # SQuAD articles
    validation: list[dict]


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def load_articles(path: Path) -> list[dict]:
    return json.loads(path.read_text(encoding="utf-8"))["data"]


def split_articles(articles: list[dict], validation_articles: int, seed: int) -> Split:
    """Hold out whole articles (chosen by a seeded shuffle of titles) for validation."""
    titles = sorted(a["title"] for a in articles)
    random.Random(seed).shuffle(titles)
    held = set(titles[:validation_articles])
    return Split(
        train=[a for a in articles if a["title"] not in held],
        validation=[a for a in articles if a["title"] in held],
    )


def held_out_articles(trained: dict) -> list[dict]:
    """The validation articles of a finished run, from its ``validation.json`` record."""
    return split_articles(
        load_articles(Path(trained["train_file"])),
        int(trained["hyperparameters"]["validation_articles"]),
        int(trained["hyperparameters"]["seed"]),
    ).validation


def sentence_spans(text: str) -> list[tuple[int, int]]:
    spans, start = [], 0
    for match in _SENTENCE_END.finditer(text):
        spans.append((start, match.start()))
        start = match.end()
    spans.append((start, len(text)))
    return [(s, e) for s, e in spans if e > s]


def _window_around(spans: list[tuple[int, int]], index: int, rng: random.Random, size: int) -> tuple[int, int]:
    """A run of ``size`` sentences containing sentence ``index`` at a random place."""
    first = max(0, min(index - rng.randrange(size), len(spans) - size))
    last = min(len(spans), first + size) - 1
    return spans[first][0], spans[last][1]


def build_examples(
    articles: list[dict],
    *,
    seed: int,
    window_share: float = 0.5,
    other_paragraph_share: float = 0.25,
    answer_removed_share: float = 0.15,
    window_sentences: int = 3,
    limit: int | None = None,
) -> list[Example]:
    """The training pairs for ``articles``, in a seeded order; ``limit`` caps the questions."""
    rng = random.Random(seed)
    questions = [
        (a_i, p_i, qa)
        for a_i, article in enumerate(articles)
        for p_i, paragraph in enumerate(article["paragraphs"])
        for qa in paragraph["qas"]
        if qa["answers"]
    ]
    rng.shuffle(questions)
    if limit is not None:
        questions = questions[:limit]
    examples: list[Example] = []
    for a_i, p_i, qa in questions:
        paragraphs = articles[a_i]["paragraphs"]
        context = paragraphs[p_i]["context"]
        answer = qa["answers"][0]
        start, text = answer["answer_start"], answer["text"]
        if context[start : start + len(text)] != text:
            continue
        spans = sentence_spans(context)
        holder = next((i for i, (s, e) in enumerate(spans) if s <= start < e), None)
        if holder is not None and spans[holder][1] < start + len(text):
            holder = None  # the answer crosses a sentence end: only the whole paragraph holds it
        if holder is not None and len(spans) > window_sentences and rng.random() < window_share:
            w_start, w_end = _window_around(spans, holder, rng, window_sentences)
            examples.append(Example(qa["id"], qa["question"], context[w_start:w_end], text, start - w_start, "window"))
        else:
            examples.append(Example(qa["id"], qa["question"], context, text, start, "paragraph"))
        if len(paragraphs) > 1 and rng.random() < other_paragraph_share:
            other = rng.choice([i for i in range(len(paragraphs)) if i != p_i])
            other_text = paragraphs[other]["context"]
            if text.lower() not in other_text.lower():
                other_spans = sentence_spans(other_text)
                w_start, w_end = _window_around(other_spans, rng.randrange(len(other_spans)), rng, window_sentences)
                examples.append(
                    Example(qa["id"] + "#other", qa["question"], other_text[w_start:w_end], "", -1, "other-paragraph")
                )
        if holder is not None and len(spans) > 2 and rng.random() < answer_removed_share:
            rest = " ".join(context[s:e] for i, (s, e) in enumerate(spans) if i != holder)
            if text.lower() not in rest.lower():
                examples.append(Example(qa["id"] + "#removed", qa["question"], rest, "", -1, "answer-removed"))
    return examples


def reading_examples(articles: list[dict]) -> list[Example]:
    """Every question against its whole paragraph (the published reading setting)."""
    return [
        Example(qa["id"], qa["question"], p["context"], qa["answers"][0]["text"] if qa["answers"] else "",
                qa["answers"][0]["answer_start"] if qa["answers"] else -1, "paragraph")
        for a in articles
        for p in a["paragraphs"]
        for qa in p["qas"]
    ]


@dataclass(frozen=True)
class DevSplit:
    """SQuAD 2.0 dev articles: reported on, trained on (genuine unanswerables), calibrated on."""

    report: list[str]
    train: list[str]
    calibrate: list[str]


def split_dev_articles(articles: list[dict], seed: int, train_share: float = 0.35, calibrate_share: float = 0.15) -> DevSplit:
    """A seeded split of dev titles; at least half are never seen by training or calibration."""
    titles = sorted(a["title"] for a in articles)
    random.Random(seed).shuffle(titles)
    n_train = int(len(titles) * train_share)
    n_calibrate = int(len(titles) * calibrate_share)
    n_report = len(titles) - n_train - n_calibrate
    return DevSplit(
        report=sorted(titles[:n_report]),
        train=sorted(titles[n_report : n_report + n_train]),
        calibrate=sorted(titles[n_report + n_train :]),
    )


def squad2_examples(articles: list[dict], *, seed: int, repeat: int = 1, window_sentences: int = 3) -> list[Example]:
    """SQuAD 2.0 questions, answerable or not, against their paragraph or a few sentences of it.

    An unanswerable question's window is placed around its plausible answer (where a reader
    would be tempted), so the model learns what a near miss looks like.
    """
    rng = random.Random(seed)
    examples: list[Example] = []
    for round_ in range(repeat):
        for article in articles:
            for paragraph in article["paragraphs"]:
                context = paragraph["context"]
                spans = sentence_spans(context)
                for qa in paragraph["qas"]:
                    impossible = bool(qa.get("is_impossible")) or not qa["answers"]
                    anchors = qa.get("plausible_answers") if impossible else qa["answers"]
                    anchor = anchors[0] if anchors else None
                    text = "" if impossible else anchor["text"]
                    start = -1 if impossible else anchor["answer_start"]
                    kind = "unanswerable" if impossible else "squad2"
                    qid = f"{qa['id']}#{round_}"
                    holder = None
                    if anchor is not None:
                        holder = next((i for i, (s, e) in enumerate(spans) if s <= anchor["answer_start"] < e), None)
                    use_window = holder is not None and len(spans) > window_sentences and rng.random() < 0.5
                    if use_window:
                        w_start, w_end = _window_around(spans, holder, rng, window_sentences)
                        inside = start < 0 or (w_start <= start and start + len(text) <= w_end)
                        if inside:
                            examples.append(Example(qid, qa["question"], context[w_start:w_end], text,
                                                    start - w_start if start >= 0 else -1, kind + "-window"))
                            continue
                    examples.append(Example(qid, qa["question"], context, text, start, kind))
    rng.shuffle(examples)
    return examples
