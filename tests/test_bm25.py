"""qa.bm25 reads bm25s's saved index and scores exactly as bm25s does, without importing it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import bm25s
import numpy as np
import pytest
from bm25s.stopwords import STOPWORDS_EN, STOPWORDS_EN_PLUS

from qa import Assistant
from qa import bm25 as fast_bm25
from qa.index import BM25_DIR, IndexSettings, tokenize_for_bm25

ODD_TEXTS = [
    "",
    "the of and",
    "Who replaced Litvinov? Who — replaced — LITVINOV!!",
    "Molotov's cat, Vasily; 1939–1943 (Zhdanov) naïve café Ärger Straße",
    "a b c x1 42 1952 3.14 e-mail e_mail",
    "running runs ran runner RUNNING",
]


def test_stopword_lists_are_bm25s_own() -> None:
    assert fast_bm25.stopwords("en") == frozenset(STOPWORDS_EN)
    assert fast_bm25.stopwords("en_plus") == frozenset(STOPWORDS_EN_PLUS)


def test_tokens_match_bm25s(assistant: Assistant, smoke_questions: list[dict]) -> None:
    settings = IndexSettings()
    texts = [p.text for p in assistant.index.passages] + [q["question"] for q in smoke_questions] + ODD_TEXTS
    expected = tokenize_for_bm25(texts, settings, return_ids=False)
    ours = [fast_bm25.tokenize(t, settings.bm25_stopwords, settings.bm25_stemmer) for t in texts]
    assert ours == [list(tokens) for tokens in expected]


def test_scores_match_bm25s(assistant: Assistant, index_dir: Path, smoke_questions: list[dict]) -> None:
    reference = bm25s.BM25.load(str(index_dir / BM25_DIR), allow_pickle=False)
    settings = IndexSettings()
    questions = [q["question"] for q in smoke_questions] + ODD_TEXTS[2:] + [p.text for p in assistant.index.passages[:10]]
    for question in questions:
        tokens = assistant.index.bm25.tokenize(question)
        if not tokens:
            continue
        assert tokens == tokenize_for_bm25([question], settings, return_ids=False)[0]
        np.testing.assert_array_equal(assistant.index.bm25.scores(tokens), reference.get_scores(tokens))


def test_damaged_bm25_arrays_are_refused(tmp_path: Path, index_dir: Path) -> None:
    import shutil

    target = tmp_path / "bm25"
    shutil.copytree(index_dir / BM25_DIR, target)
    np.save(target / "indices.csc.index.npy", np.zeros(3, dtype=np.int32))
    with pytest.raises(ValueError):
        fast_bm25.Bm25Scorer.load(target, "en", "english")


def test_query_path_never_imports_bm25s_or_scipy(index_dir: Path, corpus_dir: Path) -> None:
    code = (
        "import sys; from qa import Assistant; "
        f"a = Assistant.load({str(corpus_dir)!r}, {str(index_dir)!r}, rebuild=False); "
        "assert a.ask('Who replaced Litvinov?').answer == 'Molotov'; "
        "print(sorted(m for m in ('bm25s', 'scipy') if m in sys.modules))"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"
