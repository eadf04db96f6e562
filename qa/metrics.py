"""Standard QA metrics as small pure functions: SQuAD normalisation, EM, F1, answer
containment (with list questions), Recall@k, MRR and percentiles.

The SQuAD definitions follow the official v1.1 evaluation script: lower-case, drop punctuation
and the articles a/an/the, collapse white space; F1 is the token-overlap F1 of the best gold.
"""

from __future__ import annotations

import re
import string
from collections import Counter
from collections.abc import Sequence

import numpy as np

_ARTICLES = re.compile(r"\b(a|an|the)\b")
# Typographic punctuation as well: the corpus quotes with ’ “ ” and dashes.
_PUNCTUATION = frozenset(string.punctuation) | frozenset("‘’“”–—…«»")


def normalize_answer(text: str) -> str:
    """SQuAD normalisation: lower case, no punctuation, no articles, single spaces."""
    text = text.lower()
    text = "".join(" " if ch in _PUNCTUATION else ch for ch in text)
    text = _ARTICLES.sub(" ", text)
    return " ".join(text.split())


def exact_match(prediction: str | None, golds: Sequence[str]) -> float:
    """1.0 when the normalised prediction equals a normalised gold answer."""
    if not golds:
        return float(not prediction)
    predicted = normalize_answer(prediction or "")
    return float(any(predicted == normalize_answer(gold) for gold in golds))


def f1_score(prediction: str | None, golds: Sequence[str]) -> float:
    """Best token-overlap F1 against any gold answer (SQuAD)."""
    if not golds:
        return float(not prediction)
    predicted = normalize_answer(prediction or "").split()
    return max(_token_f1(predicted, normalize_answer(gold).split()) for gold in golds)


def _token_f1(predicted: list[str], gold: list[str]) -> float:
    common = Counter(predicted) & Counter(gold)
    overlap = sum(common.values())
    if not predicted or not gold or overlap == 0:
        return float(predicted == gold)
    precision, recall = overlap / len(predicted), overlap / len(gold)
    return 2 * precision * recall / (precision + recall)


def contains_answer(prediction: str | None, golds: Sequence[str], all_required: bool = False) -> bool:
    """The project's answer accuracy: the normalised prediction contains a gold variant as whole
    words (all of them for list questions). No gold answers means the right output is none."""
    if not golds:
        return prediction is None
    if prediction is None:
        return False
    padded = f" {normalize_answer(prediction)} "
    found = [f" {normalize_answer(gold)} " in padded for gold in golds if normalize_answer(gold)]
    return bool(found) and (all(found) if all_required else any(found))


def first_relevant_rank(relevant: Sequence[bool]) -> int | None:
    """1-based rank of the first relevant item, or None."""
    return next((rank for rank, is_relevant in enumerate(relevant, start=1) if is_relevant), None)


def recall_at(ranks: Sequence[int | None], k: int) -> float:
    """Share of queries whose first relevant item is within the top ``k`` (hit rate @k)."""
    return sum(1 for rank in ranks if rank is not None and rank <= k) / len(ranks) if ranks else 0.0


def mean_reciprocal_rank(ranks: Sequence[int | None]) -> float:
    return sum(1.0 / rank for rank in ranks if rank) / len(ranks) if ranks else 0.0


def percentile(values: Sequence[float], q: float) -> float:
    return float(np.percentile(np.asarray(values, dtype=float), q)) if len(values) else 0.0
