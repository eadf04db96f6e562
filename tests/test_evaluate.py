"""Eval runs: reading eval files (with file:line errors) and scoring real answers."""

from __future__ import annotations

from pathlib import Path

import pytest

from qa import evaluate as ev
from qa.errors import UsageError

ROOT = Path(__file__).resolve().parent.parent


def write(path: Path, *lines: str) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("line", "needle"),
    [
        ("{not json", "not valid JSON"),
        ('["a list"]', "expected a JSON object"),
        ('{"id": "x", "question": "Q?", "answers": "Molotov"}', "'answers' must be a list of strings"),
        ('{"id": "x", "answers": []}', "missing or empty 'question'"),
        ('{"id": "x", "question": "Q?", "answers": [], "all_required": "yes"}', "'all_required' must be true or false"),
    ],
)
def test_malformed_question_files_name_the_file_and_line(tmp_path: Path, line: str, needle: str) -> None:
    good = '{"id": "ok", "question": "Who?", "answers": ["Molotov"], "evidence": []}'
    path = write(tmp_path / "q.jsonl", good, "", line)
    with pytest.raises(UsageError) as error:
        ev.load_questions(path)
    assert f"{path}:3:" in str(error.value) and needle in str(error.value)


def test_duplicate_ids_and_missing_files_are_usage_errors(tmp_path: Path) -> None:
    line = '{"id": "same", "question": "Who?", "answers": []}'
    with pytest.raises(UsageError, match="duplicate id 'same'"):
        ev.load_questions(write(tmp_path / "q.jsonl", line, line))
    with pytest.raises(UsageError, match="not found"):
        ev.load_questions(tmp_path / "missing.jsonl")
    (tmp_path / "bad.jsonl").write_bytes(b'{"id": "\xff"}\n')
    with pytest.raises(UsageError, match="bad.jsonl:1: not valid UTF-8"):
        ev.load_questions(tmp_path / "bad.jsonl")


def test_conversation_turns_are_numbered_and_unanswerable_turns_typed(tmp_path: Path) -> None:
    path = write(
        tmp_path / "c.jsonl",
        '{"id": "c1", "turns": [{"question": "Who replaced Litvinov?", "answers": ["Molotov"]},'
        ' {"question": "When did he die?", "answers": []}]}',
    )
    (conversation,) = ev.load_conversations(path)
    assert [t.turn for t in conversation.turns] == [1, 2]
    assert [t.type for t in conversation.turns] == ["turn", "unanswerable"]
    with pytest.raises(UsageError, match="c.jsonl:1: 'turns' must be a non-empty list"):
        ev.load_conversations(write(tmp_path / "c.jsonl", '{"id": "c1", "turns": []}'))


def test_smoke_set_scores_real_answers(assistant) -> None:
    items = ev.load_questions(ROOT / "eval" / "smoke.jsonl")
    result = ev.run(assistant, items, [], retriever="hybrid")
    report = ev.summary(result, questions_file="smoke", conversations_file=None)
    overall = report["questions"]["overall"]
    assert overall["n"] == len(items)
    assert overall["citations_verified"] == 1.0
    # 5 of the 8 answerable right (2026-12-02, int8 encoder): two near the abstention threshold
    assert overall["recall@5"] >= 0.8 and overall["accuracy"] >= 0.6
    assert overall["abstention_accuracy"] == 1.0
    first = next(r for r in result.questions if r.item.id == "smoke-001")  # Who replaced Litvinov?
    assert first.correct and first.evidence_rank == 1 and first.citation_correct
    assert first.exact_match == 1.0 and first.f1 == 1.0
    record = ev.prediction_record(first, "hybrid", {"answer": first.answer.answer})
    assert record["id"] == "smoke-001" and record["turn"] is None and record["score"]["correct"] is True


def test_evidence_spans_find_every_occurrence(assistant) -> None:
    spans = ev.evidence_spans(["Molotov"], assistant.index.documents)
    assert len(spans) > 5
    doc = assistant.index.documents
    assert all(doc[d][s:e] == "Molotov" for d, s, e in spans)
    assert ev.evidence_spans(["not in the article at all"], doc) == []


def test_variant_questions_are_also_asked_in_the_article_spelling(assistant, tmp_path: Path) -> None:
    path = write(
        tmp_path / "v.jsonl",
        '{"id": "v1", "question": "Whose countryman was Dekanozov?", "answers": ["Stalin"],'
        ' "evidence": ["Dekanosov was a countryman of Stalin and Beria"], "type": "variant"}',
        '{"id": "p1", "question": "Who replaced Litvinov?", "answers": ["Molotov"], "evidence": [], "type": "person"}',
    )
    result = ev.run(assistant, ev.load_questions(path), [])
    variant, person = result.questions
    assert variant.correct and variant.correct_in_corpus_spelling is True
    assert person.correct_in_corpus_spelling is None  # only variant questions are asked twice
    overall = ev.summary(result, questions_file="v", conversations_file=None)["questions"]["overall"]
    assert overall["variant_accuracy_as_asked"] == overall["variant_accuracy_corpus_spelling"] == 1.0
