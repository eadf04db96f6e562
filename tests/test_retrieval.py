"""Retrieval: dense, BM25 and their RRF fusion find the passage that holds the evidence."""

from __future__ import annotations

import pytest

from qa import Assistant
from qa.errors import UsageError
from qa.retrieval import bm25_ranking, dense_ranking, retrieve, rrf

QUESTIONS = [
    ("Who replaced Litvinov?", "Thus Litvinov’s replacement by Molotov"),
    ("Who is Peter Kleist?", "one Peter Kleist, has recently told of these"),  # body, before footnote 1
    ("Which book did Kleist write about the Stockholm contacts?", "Zwischen Hitler und Stalin"),
    ("What concrete proposals did the Soviet intermediary make to Kleist in August 1943?", "restoration of the Russo-German border of 1914"),
    ("What did Lenin tell the London Daily Express correspondent?", "London Daily Express correspondent"),
    ("When were the Lenin interviews given?", "Both these interviews were given in February 1920"),
    ("Which faction's center was Leningrad?", "Leningrad was its center"),
    ("What aims does the Beria-Malenkov group pursue with neutral states?", "a girdle of neutral states"),
    ("Who was made chairman of the foreign policy committee of the Council of the Union in 1938?", "In 1938 he was made chairman"),
]


def _evidence_rank(hits, evidence: str) -> int | None:
    return next((h.rank for h in hits if evidence in h.passage.text), None)


@pytest.mark.parametrize(("question", "evidence"), QUESTIONS)
def test_hybrid_finds_the_evidence_in_the_top_3(assistant: Assistant, question: str, evidence: str) -> None:
    vector = assistant.index.encoder.encode([question])[0]
    hits = retrieve(assistant.index, question, vector, k=5)
    rank = _evidence_rank(hits, evidence)
    assert rank is not None and rank <= 3, [h.passage.location for h in hits]


def test_footnotes_are_found_for_kleist_and_lenin_interviews(assistant: Assistant) -> None:
    kleist = assistant.ask("What happened at Kleist's third meeting with the Soviet intermediary?")
    assert kleist.passages[0].passage.kind == "footnote" and kleist.passages[0].passage.footnote == 1
    lenin = assistant.ask("What did Lenin say in his 1920 interviews with the American and British correspondents?")
    assert any(h.passage.footnote == 2 for h in lenin.passages[:2])


def test_scores_and_ranks(assistant: Assistant) -> None:
    question = "Who replaced Litvinov?"
    vector = assistant.index.encoder.encode([question])[0]
    hybrid = retrieve(assistant.index, question, vector, k=5)
    assert [h.rank for h in hybrid] == [1, 2, 3, 4, 5]
    assert all(a.score >= b.score for a, b in zip(hybrid, hybrid[1:]))
    assert all(h.dense_score is not None or h.bm25_score is not None for h in hybrid)
    dense = retrieve(assistant.index, question, vector, k=3, method="dense")
    assert all(h.bm25_score is None or h.bm25_score > 0 for h in dense)
    assert dense[0].score == pytest.approx(dense[0].dense_score)
    bm25 = retrieve(assistant.index, question, vector, k=3, method="bm25")
    assert bm25[0].score == pytest.approx(bm25[0].bm25_score) and bm25[0].score > 0


def test_every_hit_carries_its_cosine_however_it_was_ranked(assistant: Assistant) -> None:
    """The reader's confidence weighs the cosine: a passage only BM25 found has one too."""
    question = "Who replaced Litvinov?"
    vector = assistant.index.encoder.encode([question])[0]
    everything = dict(dense_ranking(assistant.index, vector, assistant.index.dense.ntotal))
    for method in ("bm25", "hybrid", "dense"):
        for hit in retrieve(assistant.index, question, vector, k=8, method=method):
            row = next(i for i, p in enumerate(assistant.index.passages) if p.passage_id == hit.passage.passage_id)
            assert hit.dense_score == pytest.approx(everything[row], abs=1e-5)


def test_bm25_needs_a_shared_term(assistant: Assistant) -> None:
    assert bm25_ranking(assistant.index, "zzyzx qwertyuiop", 10) == []
    assert bm25_ranking(assistant.index, "the of and", 10) == []
    assert len(dense_ranking(assistant.index, assistant.index.encoder.encode(["zzyzx"])[0], 10)) == 10


def test_rrf_fuses_ranks_not_scores() -> None:
    dense = [(1, 0.9), (2, 0.8), (3, 0.1)]
    sparse = [(3, 40.0), (1, 2.0)]
    fused = rrf([dense, sparse], rrf_k=60)
    assert [row for row, _ in fused] == [1, 3, 2]
    assert fused[0][1] == pytest.approx(1 / 61 + 1 / 62)


def test_bad_retriever_or_k(assistant: Assistant) -> None:
    vector = assistant.index.encoder.encode(["x"])[0]
    with pytest.raises(UsageError):
        retrieve(assistant.index, "x", vector, method="magic")
    with pytest.raises(UsageError):
        retrieve(assistant.index, "x", vector, k=0)
