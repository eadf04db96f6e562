"""The labelled eval sets are well-formed and every label is backed by the article text.

Fast: no model and no index. Each answerable item must quote the article exactly and carry at
least one gold answer that occurs in its quotes after SQuAD normalisation, so a label can
never drift away from the corpus unnoticed.
"""

from __future__ import annotations

import json
import re
import string
from pathlib import Path

import pytest

from qa.metrics import normalize_answer as scorer_normalise

ROOT = Path(__file__).resolve().parents[1]
EVAL = ROOT / "eval"
ARTICLE_PATH = ROOT / "corpus" / "meissner-1952-kremlins-terms.txt"
BOILERPLATE_MARKER = "About the Author"

QUESTION_TYPES = {
    "person", "date", "place", "number", "other", "list", "why", "footnote",
    "variant", "paraphrase", "multihop", "unanswerable",
}
MIN_QUESTIONS = 150
MIN_CONVERSATIONS = 20
TURNS_PER_CONVERSATION = range(3, 6)


def squad_normalise(text: str) -> str:
    """Lowercase, drop ASCII punctuation and articles, collapse whitespace (the SQuAD v1.1 rule)."""
    text = text.lower()
    text = "".join(ch for ch in text if ch not in set(string.punctuation))
    text = re.sub(r"\b(a|an|the)\b", " ", text)
    return " ".join(text.split())


def read_jsonl(path: Path) -> list[dict]:
    items = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            items.append(json.loads(line))
        except json.JSONDecodeError as error:
            pytest.fail(f"{path.name}:{number}: invalid JSON: {error}")
    return items


@pytest.fixture(scope="module")
def article() -> str:
    text = ARTICLE_PATH.read_bytes().decode("utf-8")
    # Only the article counts as evidence, not the web page's trailing boilerplate.
    return text[: text.index(BOILERPLATE_MARKER)]


def label_problems(item: dict, article: str, where: str) -> list[str]:
    """Everything wrong with one labelled item (a question line or a conversation turn)."""
    problems = []
    if not isinstance(item.get("question"), str) or not item["question"].strip():
        problems.append(f"{where}: question must be a non-empty string")
    answers, evidence = item.get("answers"), item.get("evidence")
    if not isinstance(answers, list) or not all(isinstance(a, str) and a.strip() for a in answers):
        return problems + [f"{where}: answers must be a list of non-empty strings"]
    if not isinstance(evidence, list) or not all(isinstance(e, str) and e.strip() for e in evidence):
        return problems + [f"{where}: evidence must be a list of non-empty strings"]
    all_required = item.get("all_required", False)
    if not isinstance(all_required, bool):
        problems.append(f"{where}: all_required must be a boolean")
    type_ = item.get("type")
    if type_ is not None and type_ not in QUESTION_TYPES:
        problems.append(f"{where}: unknown type {type_!r}")

    if type_ == "unanswerable" or not answers:
        if answers or evidence:
            problems.append(f"{where}: unanswerable items need answers == [] and evidence == []")
        if type_ not in (None, "unanswerable"):
            problems.append(f"{where}: an item without answers must have type 'unanswerable'")
        return problems

    if not evidence:
        problems.append(f"{where}: answerable item has no evidence")
    for quote in evidence:
        if quote not in article:
            problems.append(f"{where}: evidence is not an exact substring of the article: {quote!r}")
    # Checked under the textbook SQuAD rule (punctuation dropped) and under the scorer's rule
    # (punctuation, typographic too, turned into spaces), so a label holds for either reading.
    supported = [
        a for a in answers
        if all(any(rule(a) in rule(quote) for quote in evidence) for rule in (squad_normalise, scorer_normalise))
    ]
    if all_required:
        if len(answers) < 2:
            problems.append(f"{where}: all_required items need at least two answers")
        missing = [a for a in answers if a not in supported]
        if missing:
            problems.append(f"{where}: list members not found in the evidence: {missing}")
    elif not supported:
        problems.append(f"{where}: no answer variant occurs in the evidence")
    return problems


def duplicate_ids(records: list[dict]) -> set:
    ids = [record.get("id") for record in records]
    return {i for i in ids if ids.count(i) > 1}


@pytest.mark.parametrize("name", ["questions.jsonl", "smoke.jsonl"])
def test_question_files_are_well_formed_and_grounded(name: str, article: str) -> None:
    items = read_jsonl(EVAL / name)
    problems = []
    if duplicates := duplicate_ids(items):
        problems.append(f"duplicate ids: {sorted(duplicates)}")
    for item in items:
        where = f"{name}:{item.get('id')}"
        if not isinstance(item.get("id"), str):
            problems.append(f"{where}: id must be a string")
        if item.get("type") not in QUESTION_TYPES:
            problems.append(f"{where}: type must be one of {sorted(QUESTION_TYPES)}")
        if not isinstance(item.get("all_required"), bool):
            problems.append(f"{where}: all_required must be present and boolean")
        problems += label_problems(item, article, where)
    assert not problems, "\n".join(problems)


def test_question_set_size_and_mix() -> None:
    items = read_jsonl(EVAL / "questions.jsonl")
    assert len(items) >= MIN_QUESTIONS
    types = {item["type"] for item in items}
    # Every category of the mix is represented, so per-type metrics are never empty.
    assert types >= QUESTION_TYPES - {"number"}


def test_conversations_are_well_formed_and_grounded(article: str) -> None:
    conversations = read_jsonl(EVAL / "conversations.jsonl")
    assert len(conversations) >= MIN_CONVERSATIONS
    problems = []
    if duplicates := duplicate_ids(conversations):
        problems.append(f"duplicate ids: {sorted(duplicates)}")
    for conversation in conversations:
        cid = conversation.get("id")
        if not isinstance(cid, str):
            problems.append(f"{cid}: id must be a string")
        turns = conversation.get("turns")
        if not isinstance(turns, list) or len(turns) not in TURNS_PER_CONVERSATION:
            problems.append(f"{cid}: needs a list of 3-5 turns")
            continue
        for number, turn in enumerate(turns, 1):
            problems += label_problems(turn, article, f"{cid} turn {number}")
    assert not problems, "\n".join(problems)
