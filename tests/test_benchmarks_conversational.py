"""Conversational benchmarks: rewriting metrics and the CANARD / TREC CAsT loaders with the
real resolver, then Doc2Dial through the real assistant on a tiny subset."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from qa.benchmarks.rewriting import (
    PastTurn,
    RewriteItem,
    corpus_bleu,
    load_canard,
    load_cast,
    project_rewriter,
    score_rewrites,
    token_f1,
)
from qa.errors import UsageError

DATASETS = Path("/work/shared/datasets/conversations")
CANARD_DEV = DATASETS / "canard" / "dev.json"
CAST = DATASETS / "trec_cast"
DOC2DIAL = DATASETS / "doc2dial" / "doc2dial_rc_val_converted.json"

needs_canard = pytest.mark.skipif(not CANARD_DEV.exists(), reason="CANARD dev not available")
needs_cast = pytest.mark.skipif(not CAST.exists(), reason="TREC CAsT topics not available")
needs_doc2dial = pytest.mark.skipif(not DOC2DIAL.exists(), reason="Doc2Dial not available")


# -- metrics ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("prediction", "reference", "expected"),
    [
        ("When did they disband?", "When did they disband?", 1.0),
        ("Who was he?", "Where is Moscow", 0.0),
        # "the" goes, case and punctuation too: 4 of 4 predicted tokens, 4 of 6 gold → 0.8
        ("When did Zappa disband?", "When did Zappa and the Mothers disband?", 0.8),
        # precision 1, recall 1/2 → 2/3
        ("The cat sat.", "cat sat on mat", 2 / 3),
        # repeated tokens count once per gold occurrence: precision 1/3, recall 1 → 0.5
        ("go go go", "go", 0.5),
    ],
)
def test_token_f1_by_hand(prediction: str, reference: str, expected: float) -> None:
    assert token_f1(prediction, reference) == pytest.approx(expected)


def test_bleu_of_identical_strings_is_100() -> None:
    texts = ["When did Zappa and the Mothers of Invention disband?", "What group disbanded?"]
    assert corpus_bleu(texts, texts) == pytest.approx(100.0)


def _tiny_set() -> list[RewriteItem]:
    return [
        RewriteItem("t1", "tiny", "What group disbanded?", "What group disbanded?"),
        RewriteItem(
            "t2", "tiny", "When did they disband?", "When did they disband in 1969?", (PastTurn("What group disbanded?", "The Mothers"),)
        ),
    ]


def test_raw_baseline_bleu_on_a_tiny_set_by_hand() -> None:
    """13a tokens: "What group disbanded ?" (4, all n-grams match) and "When did they disband ?"
    against "When did they disband in 1969 ?": clipped matches over the corpus 1-gram 9/9,
    2-gram 6/7, 3-gram 4/5, 4-gram 2/3; 9 hypothesis tokens against 11 reference tokens."""
    report = score_rewrites(_tiny_set(), lambda item: item.question).as_dict()
    expected = 100 * math.exp(1 - 11 / 9) * (1 * 6 / 7 * 4 / 5 * 2 / 3) ** 0.25
    assert report["raw_question"]["bleu"] == pytest.approx(expected, abs=0.01)
    assert report["system"] == report["raw_question"]  # a rewriter that changes nothing
    assert report["changed"] == 0.0 and report["needs_rewrite"] == 0.5 and report["total"] == 2
    assert report["raw_question"]["token_f1"] == pytest.approx((1.0 + 2 * (4 / 6) / (1 + 4 / 6)) / 2, abs=1e-4)


def test_a_perfect_rewriter_scores_100_and_counts_its_changes() -> None:
    report = score_rewrites(_tiny_set(), lambda item: item.rewrite)
    summary = report.as_dict()
    assert summary["system"] == {"bleu": 100.0, "token_f1": 1.0}
    assert summary["changed"] == 0.5
    assert summary["by_group"]["tiny"]["total"] == 2
    line = report.results[1].as_dict()
    assert line["changed"] and line["token_f1"] == 1.0 and line["raw_token_f1"] < 1.0


def test_a_seeded_sample_is_reproducible_and_in_order() -> None:
    items = [RewriteItem(str(i), "g", f"q{i}", f"q{i}") for i in range(50)]
    first = [r.item.id for r in score_rewrites(items, lambda i: i.question, limit=7, seed=3).results]
    again = [r.item.id for r in score_rewrites(items, lambda i: i.question, limit=7, seed=3).results]
    assert first == again and len(first) == 7 and first == sorted(first, key=int)
    assert first != [r.item.id for r in score_rewrites(items, lambda i: i.question, limit=7, seed=4).results]
    with pytest.raises(UsageError):
        score_rewrites(items, lambda i: i.question, limit=-1)


# -- CANARD ---------------------------------------------------------------------------------------


def _write(path: Path, data: object) -> Path:
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


CANARD_ITEMS = [
    {"History": ["Frank Zappa", "Disbandment"], "QuAC_dialog_id": "C_1", "Question": "What group disbanded?",
     "Question_no": 1, "Rewrite": "What group disbanded?"},
    {"History": ["Frank Zappa", "Disbandment", "What group disbanded?", "Zappa and the Mothers of Invention",
                 "Who was in it?", "I don't know."],
     "QuAC_dialog_id": "C_1", "Question": "When did they disband?", "Question_no": 3,
     "Rewrite": "When did Zappa and the Mothers of Invention disband?"},
]


def test_canard_loader_on_a_hand_made_file(tmp_path: Path) -> None:
    items = load_canard(_write(tmp_path / "dev.json", CANARD_ITEMS))
    assert [i.id for i in items] == ["C_1#1", "C_1#3"]
    first, second = items
    assert (first.title, first.section, first.history) == ("Frank Zappa", "Disbandment", ())
    assert second.history == (
        PastTurn("What group disbanded?", "Zappa and the Mothers of Invention"),
        PastTurn("Who was in it?", None),  # QuAC's CANNOTANSWER
    )
    assert second.question == "When did they disband?" and second.group == "canard"


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        ("[{", "not valid JSON"),
        ('{"History": []}', "expected a JSON list"),
        (json.dumps([{**CANARD_ITEMS[0], "History": ["Frank Zappa", "Disbandment", "What group disbanded?"]}]), "item 1: 'History'"),
        (json.dumps([CANARD_ITEMS[0], {**CANARD_ITEMS[1], "Rewrite": ""}]), "item 2: missing or empty 'Rewrite'"),
    ],
)
def test_a_malformed_canard_file_is_a_usage_error_naming_it(tmp_path: Path, content: str, reason: str) -> None:
    path = tmp_path / "bad.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(UsageError, match=reason) as caught:
        load_canard(path)
    assert str(path) in str(caught.value) and "\n" not in str(caught.value)
    with pytest.raises(UsageError, match="not found"):
        load_canard(tmp_path / "missing.json")


def test_the_project_rewriter_chains_its_own_rewrites(tmp_path: Path) -> None:
    """Turn 2's "he" is resolved first, so turn 3's "his" still finds Molotov (and the title,
    with use_title, is what a first question's pronoun points to)."""
    history = (PastTurn("Who replaced Litvinov?", "Molotov"), PastTurn("When did he do it?", "In 1939"))
    item = RewriteItem("x", "g", "What was his title?", "What was Molotov's title?", history, "Vyacheslav Molotov", "Career")
    rewrite = project_rewriter()
    assert rewrite(item) == "What was Molotov's title?"
    opener = RewriteItem("y", "g", "Where was he born?", "Where was Vyacheslav Molotov born?", (), "Vyacheslav Molotov", "Early life")
    assert rewrite(opener) == "Where was Vyacheslav Molotov born?"
    assert project_rewriter(use_title=False)(opener) == "Where was he born?"


@needs_canard
def test_smoke_run_on_the_first_real_canard_items() -> None:
    items = load_canard(CANARD_DEV)
    assert len(items) == 3430
    summary = score_rewrites(items[:20], project_rewriter()).as_dict()
    assert summary["total"] == 20
    assert 0 < summary["changed"] < 1
    assert summary["system"]["token_f1"] > summary["raw_question"]["token_f1"]
    assert summary["system"]["bleu"] > summary["raw_question"]["bleu"]


# -- TREC CAsT ------------------------------------------------------------------------------------


@needs_cast
def test_cast_loader_counts_per_year() -> None:
    """2019–2021: every turn has a manual rewrite. 2022's flattened file lists 284 turns along
    50 paths through its trees; a shared turn has the same history on each path, so the unique
    user turns (205, the tree file's) are kept."""
    items = load_cast(CAST)
    counts = {year: sum(1 for i in items if i.group == f"cast{year}") for year in (2019, 2020, 2021, 2022)}
    assert counts == {2019: 479, 2020: 216, 2021: 239, 2022: 205}
    assert len({i.id for i in items}) == len(items)
    by_id = {i.id: i for i in items}
    second = by_id["cast2019/31_2"]
    assert (second.question, second.rewrite) == ("Is it treatable?", "Is throat cancer treatable?")
    assert second.history == (PastTurn("What is throat cancer?", None),)
    assert by_id["cast2020/81_2"].rewrite == "Now my garage door opener stopped working. Why?"
    assert all(t.answer for t in by_id["cast2021/106_2"].history)  # the canonical passage
    branch = by_id["cast2022/132_1-3"]
    assert len(branch.history) == 1 and branch.history[0].answer.startswith("The COP26 event")


@needs_cast
def test_cast_rewrites_score_per_year() -> None:
    summary = score_rewrites(load_cast(CAST, years=(2020,)), project_rewriter(), limit=40, seed=1).as_dict()
    assert set(summary["by_group"]) == {"cast2020"} and summary["total"] == 40


def test_cast_problems_are_usage_errors(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="not found"):
        load_cast(tmp_path, years=(2020,))
    with pytest.raises(UsageError, match="no TREC CAsT set for 2018"):
        load_cast(tmp_path, years=(2018,))
    from qa.benchmarks.cast import FILES, REWRITES_2019

    _write(tmp_path / FILES[2019], [{"number": 1, "turn": [{"number": 1, "raw_utterance": "What is throat cancer?"}]}])
    (tmp_path / REWRITES_2019).write_text("1_1 What is throat cancer?\n", encoding="utf-8")  # no tab
    with pytest.raises(UsageError, match=r"resolved_v1.0.tsv:1: expected"):
        load_cast(tmp_path, years=(2019,))
    (tmp_path / REWRITES_2019).write_text("1_2\tWhat else?\n", encoding="utf-8")
    with pytest.raises(UsageError, match="turn 1_1 has no rewrite"):
        load_cast(tmp_path, years=(2019,))
    _write(tmp_path / FILES[2020], [{"number": 81, "turn": [{"number": 1, "raw_utterance": "Why?"}]}])
    with pytest.raises(UsageError, match="turn 81_1: missing or empty 'manual_rewritten_utterance'"):
        load_cast(tmp_path, years=(2020,))
