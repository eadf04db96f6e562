"""The official SQuAD v2 metrics on hand-made cases whose values are worked out here."""

from __future__ import annotations

import pytest

from qa.benchmarks import squad_metrics as m


def test_normalisation_deletes_punctuation_and_articles() -> None:
    assert m.normalize_answer("The  U.S. Army!") == "us army"  # punctuation deleted, not spaced
    assert m.normalize_answer("an apple, a pear") == "apple pear"
    assert m.normalize_answer("Theory") == "theory"  # 'the' only as a word
    assert m.normalize_answer("...") == ""


def test_exact_and_f1_by_hand() -> None:
    assert m.compute_exact("Denver Broncos", "the denver broncos.") == 1
    # gold [denver, broncos], prediction [broncos, won]: overlap 1, P = 1/2, R = 1/2, F1 = 1/2
    assert m.compute_f1("Denver Broncos", "Broncos won") == pytest.approx(0.5)
    # gold [in, 1952], prediction [1952]: P = 1, R = 1/2, F1 = 2/3
    assert m.compute_f1("in 1952", "1952") == pytest.approx(2 / 3)
    assert m.compute_f1("", "") == 1.0 and m.compute_f1("", "x") == 0.0 and m.compute_f1("x", "") == 0.0


def test_max_over_golds_and_empty_golds_dropped() -> None:
    golds = {"q": ["Broncos", "Denver Broncos", "."]}  # "." normalises to nothing: dropped
    exact, f1 = m.raw_scores(golds, {"q": "Denver"})
    assert exact == {"q": 0}
    assert f1["q"] == pytest.approx(2 / 3)  # against "Denver Broncos": P 1, R 1/2


GOLDS = {"a1": ["Paris"], "a2": ["1952", "in 1952"], "n1": [], "n2": []}


def test_official_keys_with_no_answer_questions() -> None:
    predictions = {"a1": "Paris", "a2": "1952", "n1": "", "n2": "London"}
    result = m.evaluate(GOLDS, predictions)
    # a1 = 1, a2 = 1, n1 = 1 (abstained), n2 = 0  → exact 75
    assert result["exact"] == pytest.approx(75.0) and result["f1"] == pytest.approx(75.0)
    assert result["total"] == 4
    assert (result["HasAns_exact"], result["HasAns_total"]) == (100.0, 2)
    assert (result["NoAns_exact"], result["NoAns_total"]) == (50.0, 2)
    assert "best_f1" not in result  # only with no-answer probabilities


def test_oracle_scores_100_and_all_empty_scores_the_no_answer_share() -> None:
    oracle = {"a1": "Paris", "a2": "in 1952", "n1": "", "n2": ""}
    assert m.evaluate(GOLDS, oracle)["exact"] == 100.0
    empty = {q: "" for q in GOLDS}
    result = m.evaluate(GOLDS, empty)
    assert result["exact"] == result["f1"] == 50.0  # 2 of 4 are unanswerable
    assert result["HasAns_f1"] == 0.0 and result["NoAns_f1"] == 100.0


def test_best_threshold_sweep_by_hand() -> None:
    predictions = {"a1": "Paris", "a2": "1950", "n1": "Rome", "n2": "Oslo"}
    na = {"a1": 0.1, "a2": 0.5, "n1": 0.7, "n2": 0.3}
    # Start: abstain on all → 2 (the two unanswerables). Sorted by probability:
    # a1 (0.1) +1 → 3 (best, thresh 0.1); n2 (0.3) −1 → 2; a2 (0.5) +0 → 2; n1 (0.7) −1 → 1.
    result = m.evaluate(GOLDS, predictions, na)
    assert result["best_exact"] == pytest.approx(75.0) and result["best_exact_thresh"] == pytest.approx(0.1)
    # The default threshold 1.0 abstains on nothing: a1 right, the rest wrong → 25.
    assert result["exact"] == pytest.approx(25.0)
    # A threshold of 0.4 abstains on a2 and n1: a1 1, a2 0, n1 1, n2 0 → 50.
    assert m.evaluate(GOLDS, predictions, na, na_prob_threshold=0.4)["exact"] == pytest.approx(50.0)


def test_missing_predictions_are_left_out() -> None:
    result = m.evaluate(GOLDS, {"a1": "Paris"})
    assert result["total"] == 1 and result["exact"] == 100.0
