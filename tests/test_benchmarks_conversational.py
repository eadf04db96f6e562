"""Conversational benchmarks: rewriting metrics and the CANARD / TREC CAsT loaders with the
real resolver, then Doc2Dial through the real assistant on a tiny subset."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from conftest import ROOT

from qa.benchmarks.doc2dial import Span, evaluate_doc2dial, load_doc2dial, parse_literal_list, write_corpus
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

DATASETS = ROOT.parent / "shared" / "datasets" / "conversations"  # as training/ finds SQuAD
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
    with use_title, is what a first question's pronoun points to, and names him in full)."""
    history = (PastTurn("Who replaced Litvinov?", "Molotov"), PastTurn("When did he do it?", "In 1939"))
    item = RewriteItem("x", "g", "What was his title?", "What was Molotov's title?", history, "Vyacheslav Molotov", "Career")
    rewrite = project_rewriter()
    assert rewrite(item) == "What was Vyacheslav Molotov's title?"  # the title gives the full name
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


# -- Doc2Dial -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "kind", "expected"),
    [
        ("['Renew online. ', 'Or by mail.']", str, ("Renew online. ", "Or by mail.")),
        ('["It\'s due in 10 days"]', str, ("It's due in 10 days",)),
        ("[1796, 2138]", int, (1796, 2138)),
        (["already a list"], str, ("already a list",)),
        ([12], int, (12,)),
    ],
)
def test_span_strings_are_parsed_as_literals(value: object, kind: type, expected: tuple) -> None:
    assert parse_literal_list(value, kind, "x") == expected


@pytest.mark.parametrize(
    "value", ["__import__('os').getcwd()", "[1, 2", "[]", "['a', 3]", "[True]", "'just a string'", 7]
)
def test_anything_but_a_list_literal_of_the_kind_is_refused(value: object) -> None:
    kind = int if value == "[True]" else str
    with pytest.raises(UsageError, match="where"):
        parse_literal_list(value, kind, "where")


DOCUMENT = "Renew your licence\n\nYou can renew online. The fee is $64.50.\n\nReplace a lost licence\n\nReport it first."


def _doc2dial_file(tmp_path: Path, **changes: object) -> Path:
    """One dialog in the converted format, spans as strings of Python lists (the CSV's way):
    user turns 1 and 3 are grounded, turn 2 (a thank-you) is not."""
    history1 = [{"role": "user", "text": "How do I renew my licence?"}, {"role": "agent", "text": "Online."}]
    history3 = [*history1, {"role": "user", "text": "Thanks."}, {"role": "agent", "text": "Anything else?"}]
    examples = [
        {"id": "d1_1", "dialog_id": "d1", "turn_id": 1, "domain": "dmv", "doc_title": "Renew#1_0", "history": [],
         "question": "How do I renew my licence?", "answers": "['You can renew online. ']", "answer_start": "[20]"},
        {"id": "d1_5", "dialog_id": "d1", "turn_id": 5, "domain": "dmv", "doc_title": "Renew#1_0", "history": history3,
         "question": "How much is it?", "answers": "['The fee is $64.50.', 'not in the text']", "answer_start": "[42, 0]"},
    ]
    data = {"documents": {"Renew#1_0": {"domain": "dmv", "text": DOCUMENT}}, "examples": examples}
    for key, value in changes.items():
        examples[1][key] = value
    return _write(tmp_path / "doc2dial.json", data)


def test_doc2dial_loader_rebuilds_every_user_turn(tmp_path: Path) -> None:
    data = load_doc2dial(_doc2dial_file(tmp_path))
    (dialog,) = data.dialogs
    assert dialog.doc_title == "Renew#1_0"
    assert [(t.number, t.question, t.example_id) for t in dialog.turns] == [
        (1, "How do I renew my licence?", "d1_1"),
        (2, "Thanks.", None),  # asked for context, not scored
        (3, "How much is it?", "d1_5"),
    ]
    assert DOCUMENT[20:42] == "You can renew online. "
    assert dialog.turns[0].spans == (Span("You can renew online. ", 20),)
    assert dialog.turns[2].spans == (Span("The fee is $64.50.", 42), Span("not in the text", None))


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"answer_start": "[42]"}, "example 2: 2 answers but 1 answer_start"),
        ({"answers": "['unclosed"}, "example 2: 'answers': not a list literal"),
        ({"doc_title": "Nowhere#1_0"}, "example 2: unknown document"),
        ({"history": [{"role": "system", "text": "hi"}]}, "example 2: 'history' must be"),
        ({"question": ""}, "example 2: missing or empty 'question'"),
    ],
)
def test_a_malformed_doc2dial_file_is_a_usage_error(tmp_path: Path, changes: dict, reason: str) -> None:
    path = _doc2dial_file(tmp_path, **changes)
    with pytest.raises(UsageError, match=reason) as caught:
        load_doc2dial(path)
    assert str(path) in str(caught.value)


def test_a_hand_made_dialog_through_the_real_assistant(tmp_path: Path) -> None:
    """Both modes over the one-document corpus; "How much  is it?" (two spaces) counts as
    asked as typed in the standalone mode, not as rewritten."""
    path = _doc2dial_file(tmp_path, question="How much  is it?")
    cache = tmp_path / "cache"
    conversation = evaluate_doc2dial(path, cache_dir=cache)
    standalone = evaluate_doc2dial(path, cache_dir=cache, resolve_followups=False)
    for report in (conversation, standalone):
        summary = report.as_dict()
        assert (summary["dialogs"], summary["documents"], summary["turns"], summary["turns_asked"]) == (1, 1, 2, 3)
        assert summary["retrieval"]["doc@1"] == 1.0 and summary["errors"] == 0
        assert [r.question for r in report.results] == ["How do I renew my licence?", "How much is it?"]
    assert standalone.as_dict()["rewritten"] == 0.0
    assert [r.golds for r in conversation.results] == [("You can renew online. ",), ("The fee is $64.50.", "not in the text")]


def test_the_corpus_is_written_once_into_the_cache(tmp_path: Path) -> None:
    data = load_doc2dial(_doc2dial_file(tmp_path))
    corpus = write_corpus(data, cache_dir=tmp_path / "cache")
    assert corpus.corpus_dir.parent.name.startswith("doc2dial-") and corpus.index_dir == corpus.corpus_dir.parent / "index"
    (doc_id,) = corpus.doc_ids.values()
    text_file = corpus.corpus_dir / f"{doc_id}.txt"
    assert text_file.read_bytes().decode("utf-8") == DOCUMENT  # offsets stay the set's
    assert json.loads((corpus.corpus_dir / f"{doc_id}.meta.json").read_text())["title"] == "Renew#1_0"
    written = text_file.stat().st_mtime_ns
    (corpus.corpus_dir / "stray.txt").write_text("not part of the set", encoding="utf-8")
    assert write_corpus(data, cache_dir=tmp_path / "cache") == corpus
    assert text_file.stat().st_mtime_ns == written and not (corpus.corpus_dir / "stray.txt").exists()


@pytest.fixture(scope="module")
def doc2dial_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("doc2dial-cache")


@needs_doc2dial
def test_two_real_dialogs_through_the_real_assistant(doc2dial_cache: Path) -> None:
    """Two sampled dialogs over their own two documents only (a few seconds to index)."""
    steps: list[tuple[int, int]] = []
    report = evaluate_doc2dial(
        DOC2DIAL, limit=2, seed=0, documents="dialogs", cache_dir=doc2dial_cache, on_step=lambda d, t: steps.append((d, t))
    )
    summary = report.as_dict()
    assert summary["mode"] == "conversation" and summary["dialogs"] == 2 and summary["documents"] == 2
    assert 0 < summary["turns"] <= summary["turns_asked"] == len(steps) and steps[-1] == (len(steps), len(steps))
    assert 0 <= summary["exact_match"] <= summary["f1"] <= 1 and 0 <= summary["abstention_rate"] <= 1
    assert summary["retrieval"]["doc@5"] > 0.5  # two documents: the right one is nearly always there
    assert all(r.golds and r.example_id for r in report.results)
    assert 0 <= summary["grounding_f1"] <= 1
    for r in report.results:  # the grounding is the answer's cited sentence, so it holds the answer
        assert (r.grounding is None) == (r.answer is None) and (r.answer is None or r.answer in r.grounding)

    standalone = evaluate_doc2dial(DOC2DIAL, limit=2, seed=0, documents="dialogs", cache_dir=doc2dial_cache, resolve_followups=False)
    alone = standalone.as_dict()
    assert alone["mode"] == "standalone" and alone["rewritten"] == 0.0
    assert [r.example_id for r in standalone.results] == [r.example_id for r in report.results]
    assert len(list(doc2dial_cache.iterdir())) == 1  # the same corpus and index, reused


def test_cli_runs_canard_and_writes_the_summary(tmp_path: Path) -> None:
    import subprocess
    import sys

    summary = tmp_path / "canard.json"
    proc = subprocess.run(
        [sys.executable, "-m", "qa", "eval", "--conversations", str(CANARD_DEV), "--format", "canard", "--limit", "20",
         "--json", str(summary)],
        capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert "raw question BLEU-4" in proc.stdout
    data = json.loads(summary.read_text(encoding="utf-8"))
    assert data["results"]["rewriting"]["total"] == 20 and len(data["dataset"]["sha256"]) == 64
    missing = subprocess.run([sys.executable, "-m", "qa", "eval", "--format", "canard"],
                             capture_output=True, text=True, timeout=60)
    assert missing.returncode == 2 and "needs --conversations" in missing.stderr
