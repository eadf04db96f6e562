"""Metric code on hand-made cases (SQuAD normalisation, EM/F1, lists, abstention, ranks)."""

from __future__ import annotations

import pytest

from qa import metrics


@pytest.mark.parametrize(
    ("raw", "normalised"),
    [
        ("The Molotov-Ribbentrop Pact.", "molotov ribbentrop pact"),
        ("  an   Answer,  a test ", "answer test"),
        ("“Zhdanov’s”", "zhdanov s"),
        ("the fall of 1948", "fall of 1948"),
        ("Theme", "theme"),  # articles are words, not prefixes
    ],
)
def test_squad_normalisation(raw: str, normalised: str) -> None:
    assert metrics.normalize_answer(raw) == normalised


def test_exact_match_takes_the_best_gold() -> None:
    assert metrics.exact_match("the Molotov", ["Vyacheslav Molotov", "Molotov"]) == 1.0
    assert metrics.exact_match("Molotov and Beria", ["Molotov"]) == 0.0
    assert metrics.exact_match(None, ["Molotov"]) == 0.0


def test_f1_is_token_overlap() -> None:
    # prediction 'fall 1948' vs gold 'fall of 1948': overlap 2, precision 1, recall 2/3 → 0.8
    assert metrics.f1_score("fall 1948", ["fall of 1948"]) == pytest.approx(0.8)
    assert metrics.f1_score("Warsaw", ["Berlin", "Warsaw"]) == 1.0
    assert metrics.f1_score("Beria", ["Molotov"]) == 0.0
    assert metrics.f1_score(None, ["Molotov"]) == 0.0


def test_empty_gold_means_abstaining_is_right() -> None:
    assert metrics.exact_match(None, []) == 1.0
    assert metrics.f1_score(None, []) == 1.0
    assert metrics.contains_answer(None, []) is True
    assert metrics.contains_answer("1953", []) is False


def test_containment_is_by_whole_words_after_normalisation() -> None:
    assert metrics.contains_answer("in the fall of 1948", ["1948"])
    assert metrics.contains_answer("Molotov's deputy", ["Molotov"])
    assert not metrics.contains_answer("19480", ["1948"])
    assert not metrics.contains_answer("Molotovsk", ["Molotov"])
    assert not metrics.contains_answer(None, ["Molotov"])


def test_list_questions_need_every_member() -> None:
    members = ["Zhdanov", "Sherbakov", "Andreyev", "Vosnesensky"]
    assert metrics.contains_answer("Zhdanov, Sherbakov, Andreyev, and Vosnesensky", members, all_required=True)
    assert not metrics.contains_answer("Zhdanov, Sherbakov and Andreyev", members, all_required=True)
    assert metrics.contains_answer("Zhdanov", members, all_required=False)


def test_ranks_recall_and_mrr() -> None:
    assert metrics.first_relevant_rank([False, False, True, True]) == 3
    assert metrics.first_relevant_rank([False, False]) is None
    ranks = [1, 3, None, 2]
    assert metrics.recall_at(ranks, 1) == 0.25
    assert metrics.recall_at(ranks, 5) == 0.75
    assert metrics.mean_reciprocal_rank(ranks) == pytest.approx((1 + 1 / 3 + 0 + 1 / 2) / 4)
    assert metrics.recall_at([], 5) == 0.0


def test_percentiles() -> None:
    assert metrics.percentile([1, 2, 3, 4, 100], 50) == 3
    assert metrics.percentile([], 95) == 0.0
