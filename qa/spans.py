"""Span decoding for an extractive reader: numpy logits in, the best spans out.

Pure functions (DrQA / Haystack style): the score of a span is start logit + end logit over
context tokens with start <= end and a length cap; the no-answer score is the [CLS] pair's.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class SpanScore:
    window: int  # which input window (row of the logits)
    start_token: int
    end_token: int
    score: float  # start + end logit
    null_score: float  # the window's [CLS] start + end logit


def best_span(
    start_logits: np.ndarray, end_logits: np.ndarray, context_mask: np.ndarray, max_answer_tokens: int = 30,
    banned: Sequence[Sequence[tuple[int, int]]] | None = None,
) -> list[SpanScore]:
    """The best span of each window (rows), ``context_mask`` marking the tokens a span may use;
    ``banned[w]`` lists inclusive token ranges of window ``w`` that no span may overlap (a
    "What else …?" must not be answered with what was already said, nor with a list holding it).

    Windows without context tokens get no span (score ``-inf``)."""
    start_logits = np.asarray(start_logits, dtype=np.float32)
    end_logits = np.asarray(end_logits, dtype=np.float32)
    mask = np.asarray(context_mask, dtype=bool)
    _, length = start_logits.shape
    masked_start = np.where(mask, start_logits, -np.inf)
    masked_end = np.where(mask, end_logits, -np.inf)
    # scores[w, i, j] = start[i] + end[j] for i <= j < i + cap
    pair = masked_start[:, :, None] + masked_end[:, None, :]
    offsets = np.arange(length)[None, :] - np.arange(length)[:, None]
    allowed = (offsets >= 0) & (offsets < max_answer_tokens)
    pair = np.where(allowed[None], pair, -np.inf)
    for window, ranges in enumerate(banned or ()):
        for first, last in ranges:
            pair[window, : last + 1, first:] = -np.inf  # start <= last and end >= first: overlaps
    flat = pair.reshape(pair.shape[0], -1).argmax(axis=1)
    results = []
    for window, position in enumerate(flat):
        i, j = divmod(int(position), length)
        results.append(
            SpanScore(
                window=window,
                start_token=i,
                end_token=j,
                score=float(pair[window, i, j]),
                null_score=float(start_logits[window, 0] + end_logits[window, 0]),
            )
        )
    return results
