"""The official SQuAD v2.0 evaluation, re-implemented from its definition.

Normalisation: lower case, delete ``string.punctuation``, delete the articles a/an/the, collapse
white space. A question's score is the maximum over its gold answers (gold answers that
normalise to nothing are dropped; none left means the gold is the empty answer). A question the
system abstains on has the empty prediction. With no-answer probabilities, a prediction whose
probability exceeds the threshold counts as an abstention; ``best_exact``/``best_f1`` are the
scores at the best threshold, found by the official sweep over the sorted probabilities.
"""

from __future__ import annotations

import re
import string
from collections import Counter
from collections.abc import Mapping, Sequence

_ARTICLES = re.compile(r"\b(a|an|the)\b", re.UNICODE)
_PUNCTUATION = frozenset(string.punctuation)


def normalize_answer(text: str) -> str:
    text = "".join(ch for ch in text.lower() if ch not in _PUNCTUATION)
    return " ".join(_ARTICLES.sub(" ", text).split())


def _tokens(text: str) -> list[str]:
    return normalize_answer(text).split() if text else []


def compute_exact(gold: str, prediction: str) -> int:
    return int(normalize_answer(gold) == normalize_answer(prediction))


def compute_f1(gold: str, prediction: str) -> float:
    gold_tokens, predicted_tokens = _tokens(gold), _tokens(prediction)
    if not gold_tokens or not predicted_tokens:  # no-answer on either side: all or nothing
        return float(gold_tokens == predicted_tokens)
    same = sum((Counter(gold_tokens) & Counter(predicted_tokens)).values())
    if same == 0:
        return 0.0
    precision, recall = same / len(predicted_tokens), same / len(gold_tokens)
    return 2 * precision * recall / (precision + recall)


def gold_answers(answers: Sequence[str]) -> list[str]:
    """The official gold list: non-empty after normalisation, else the empty answer."""
    return [a for a in answers if normalize_answer(a)] or [""]


def raw_scores(golds: Mapping[str, Sequence[str]], predictions: Mapping[str, str]) -> tuple[dict[str, float], dict[str, float]]:
    exact, f1 = {}, {}
    for qid, answers in golds.items():
        if qid not in predictions:
            continue
        candidates = gold_answers(answers)
        exact[qid] = max(compute_exact(g, predictions[qid]) for g in candidates)
        f1[qid] = max(compute_f1(g, predictions[qid]) for g in candidates)
    return exact, f1


def apply_threshold(
    scores: Mapping[str, float], na_probs: Mapping[str, float], has_answer: Mapping[str, bool], threshold: float
) -> dict[str, float]:
    return {
        qid: (float(not has_answer[qid]) if na_probs[qid] > threshold else score) for qid, score in scores.items()
    }


def best_threshold(
    predictions: Mapping[str, str], scores: Mapping[str, float], na_probs: Mapping[str, float],
    has_answer: Mapping[str, bool],
) -> tuple[float, float]:
    """(best score in percent, its threshold): abstain on everything with a probability above it."""
    score = best = float(sum(1 for qid in scores if not has_answer[qid]))
    threshold = 0.0
    for qid in sorted(scores, key=lambda q: na_probs[q]):
        if has_answer[qid]:
            score += scores[qid]
        elif predictions[qid]:
            score -= 1
        if score > best:
            best, threshold = score, na_probs[qid]
    return 100.0 * best / len(scores), threshold


def evaluate(
    golds: Mapping[str, Sequence[str]],
    predictions: Mapping[str, str],
    na_probs: Mapping[str, float] | None = None,
    na_prob_threshold: float = 1.0,
    with_no_answer_keys: bool = True,
) -> dict[str, float]:
    """The official result dictionary. ``golds`` maps question id → gold answer texts ([] when
    unanswerable); questions without a prediction are left out, as in the official script."""
    probabilities = dict(na_probs) if na_probs is not None else {qid: 0.0 for qid in predictions}
    has_answer = {qid: bool(answers) for qid, answers in golds.items()}
    exact_raw, f1_raw = raw_scores(golds, predictions)
    exact = apply_threshold(exact_raw, probabilities, has_answer, na_prob_threshold)
    f1 = apply_threshold(f1_raw, probabilities, has_answer, na_prob_threshold)
    result = _block(exact, f1, list(exact))
    has = [q for q in exact if has_answer[q]]
    no = [q for q in exact if not has_answer[q]]
    if has:
        result.update({f"HasAns_{k}": v for k, v in _block(exact, f1, has).items()})
    if no and with_no_answer_keys:
        result.update({f"NoAns_{k}": v for k, v in _block(exact, f1, no).items()})
    if na_probs is not None and exact:
        result["best_exact"], result["best_exact_thresh"] = best_threshold(predictions, exact_raw, probabilities, has_answer)
        result["best_f1"], result["best_f1_thresh"] = best_threshold(predictions, f1_raw, probabilities, has_answer)
    return result


def _block(exact: Mapping[str, float], f1: Mapping[str, float], qids: list[str]) -> dict[str, float]:
    total = len(qids)
    return {
        "exact": 100.0 * sum(exact[q] for q in qids) / total if total else 0.0,
        "f1": 100.0 * sum(f1[q] for q in qids) / total if total else 0.0,
        "total": total,
    }
