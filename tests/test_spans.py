"""Span decoding on synthetic logits (no model)."""

from __future__ import annotations

import numpy as np

from qa.spans import best_span


def test_best_pair_respects_order_mask_and_length_cap() -> None:
    start = np.array([[5.0, 0.0, 3.0, 0.0, 1.0, 0.0]])
    end = np.array([[5.0, 4.0, 0.0, 0.0, 0.0, 2.0]])
    context = np.array([[False, True, True, True, True, True]])  # token 0 is [CLS]
    (span,) = best_span(start, end, context, max_answer_tokens=10)
    # [CLS] is masked; end 1 comes before start 2, so the best is start 2 .. end 5 (3 + 2)
    assert (span.start_token, span.end_token, span.score) == (2, 5, 5.0)
    assert span.null_score == 10.0  # the [CLS] pair
    (capped,) = best_span(start, end, context, max_answer_tokens=2)
    # within two tokens, 2 .. 5 is out; the best left is 1 .. 1 (0 + 4), over 2 .. 3 and 4 .. 5 (3 each)
    assert (capped.start_token, capped.end_token, capped.score) == (1, 1, 4.0)


def test_each_window_gets_its_own_span_and_empty_windows_score_minus_infinity() -> None:
    start = np.array([[0.0, 1.0, 0.0], [0.0, 0.0, 9.0]])
    end = np.array([[0.0, 1.0, 0.0], [0.0, 0.0, 9.0]])
    context = np.array([[False, True, True], [False, False, False]])
    first, second = best_span(start, end, context)
    assert (first.window, first.start_token, first.end_token, first.score) == (0, 1, 1, 2.0)
    assert second.window == 1 and second.score == -np.inf


def test_a_banned_range_keeps_every_overlapping_span_out() -> None:
    # "Who else …?": the best span (1 .. 2) and anything overlapping it (0 .. 3 is [CLS]-free
    # here) are out; the best left is the one clear of tokens 1-2.
    start = np.array([[0.0, 9.0, 0.0, 1.0, 0.0]])
    end = np.array([[0.0, 0.0, 9.0, 0.0, 2.0]])
    context = np.array([[False, True, True, True, True]])
    (free,) = best_span(start, end, context)
    assert (free.start_token, free.end_token) == (1, 2)
    (other,) = best_span(start, end, context, banned=[[(1, 2)]])
    assert (other.start_token, other.end_token, other.score) == (3, 4, 3.0)
    assert other.null_score == free.null_score  # the no-answer score is not touched
