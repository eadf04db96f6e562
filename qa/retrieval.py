"""Retrieval: a question → ranked passages, by dense search, BM25, or both fused.

Hybrid fusion is Reciprocal Rank Fusion (Cormack et al., 2009): each retriever ranks its top
``depth`` passages and a passage scores ``sum(1 / (rrf_k + rank))`` over the retrievers that
ranked it (rank from 1, ``rrf_k = 60``). RRF needs no score calibration between cosine
similarities and BM25 scores, which live on unrelated scales. BM25 only ranks passages that
share at least one term with the question.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from qa.chunking import Passage
from qa.errors import UsageError
from qa.index import Index

RETRIEVERS = ("hybrid", "dense", "bm25")
RRF_K = 60


@dataclass(frozen=True)
class Hit:
    passage: Passage
    rank: int  # 1-based
    score: float  # RRF score for hybrid; cosine for dense; BM25 score for bm25
    dense_score: float  # cosine similarity of the passage and the question, however it was ranked
    bm25_score: float | None  # BM25 score, when BM25 ranked it


def retrieve(
    index: Index,
    question: str,
    query_vector: np.ndarray,
    k: int = 5,
    method: str = "hybrid",
    depth: int = 50,
    prefer_doc: str | None = None,
) -> list[Hit]:
    """The ``k`` best passages; with ``prefer_doc``, that document's ranked passages come
    first (in their order) and others only fill the remaining places: a follow-up stays inside
    the document a conversation has settled on."""
    if method not in RETRIEVERS:
        raise UsageError(f"unknown retriever {method!r}; choose one of {', '.join(RETRIEVERS)}")
    if k < 1:
        raise UsageError("k must be at least 1")
    depth = max(depth, k)
    dense = dense_ranking(index, query_vector, depth) if method in ("hybrid", "dense") else []
    sparse = bm25_ranking(index, question, depth) if method in ("hybrid", "bm25") else []
    dense_scores = dict(dense)
    bm25_scores = dict(sparse)
    if method == "dense":
        ranked = dense
    elif method == "bm25":
        ranked = sparse
    else:
        ranked = rrf([dense, sparse])
    if prefer_doc is not None:
        inside = [item for item in ranked if index.passages[item[0]].doc == prefer_doc]
        ranked = inside + [item for item in ranked if index.passages[item[0]].doc != prefer_doc]
    # Every hit gets its cosine, also one only BM25 ranked: the reader's confidence weighs it,
    # and a missing one read as 0 made BM25-only passages look unanswerable.
    dense_scores.update(cosines(index, query_vector, [row for row, _ in ranked[:k] if row not in dense_scores]))
    return [
        Hit(
            passage=index.passages[row],
            rank=rank,
            score=float(score),
            dense_score=dense_scores[row],
            bm25_score=bm25_scores.get(row),
        )
        for rank, (row, score) in enumerate(ranked[:k], 1)
    ]


def dense_ranking(index: Index, query_vector: np.ndarray, depth: int) -> list[tuple[int, float]]:
    """(passage row, cosine) for the ``depth`` nearest passages."""
    depth = min(depth, index.dense.ntotal)
    scores, rows = index.dense.search(np.asarray(query_vector, dtype=np.float32).reshape(1, -1), depth)
    return [(int(r), float(s)) for r, s in zip(rows[0], scores[0]) if r >= 0]


def cosines(index: Index, query_vector: np.ndarray, rows: list[int]) -> dict[int, float]:
    """The question's cosine with each of these passages (their stored unit vectors)."""
    if not rows:
        return {}
    vectors = np.stack([index.dense.reconstruct(row) for row in rows])
    return {row: float(score) for row, score in zip(rows, vectors @ np.asarray(query_vector, dtype=np.float32))}


def bm25_ranking(index: Index, question: str, depth: int) -> list[tuple[int, float]]:
    """(passage row, BM25 score) for the best ``depth`` passages that share a term."""
    tokens = index.bm25.tokenize(question)
    if not tokens:
        return []
    scores = index.bm25.scores(tokens)
    top = np.argsort(-scores, kind="stable")[:depth]
    return [(int(r), float(scores[r])) for r in top if scores[r] > 0]


def rrf(rankings: list[list[tuple[int, float]]], rrf_k: int = RRF_K) -> list[tuple[int, float]]:
    fused: dict[int, float] = {}
    for ranking in rankings:
        for rank, (row, _) in enumerate(ranking, 1):
            fused[row] = fused.get(row, 0.0) + 1.0 / (rrf_k + rank)
    return sorted(fused.items(), key=lambda item: (-item[1], item[0]))
