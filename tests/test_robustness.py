"""Dependable under bad input, damaged indexes and concurrent use (library level).

The CLI side of the same contract (exit codes, one-line errors, real SIGKILL and concurrent
builds in subprocesses) is in tests/test_cli_errors.py.
"""

from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qa import Assistant
from qa import index as store
from qa.answer import Answer, verify_citation
from qa.assistant import MAX_QUESTION_CHARS, clean_question
from qa.corpus import corpus_fingerprint, load_corpus
from qa.errors import CorpusError, IndexError_, UsageError
from qa.render import answer_to_dict


# --- questions -------------------------------------------------------------------------------


@pytest.mark.parametrize("question", ["", "   ", "\n\t ", "\x00\x01\x1b", "\u200f\u202e\ufeff"])
def test_questions_with_nothing_to_ask_are_usage_errors(assistant: Assistant, question: str) -> None:
    with pytest.raises(UsageError, match="empty"):
        assistant.ask(question)


def test_an_over_long_question_is_refused_before_any_model_work(assistant: Assistant) -> None:
    with pytest.raises(UsageError, match="too long"):
        assistant.ask("why " * (MAX_QUESTION_CHARS // 4 + 1))
    with pytest.raises(UsageError, match=r"too long \(100000 characters"):
        clean_question("a" * 100_000)  # rejected on its raw length, without scanning it


def test_control_characters_and_direction_marks_are_ignored(assistant: Assistant) -> None:
    plain = assistant.ask("Who replaced Litvinov?")
    noisy = assistant.ask("\u200fWho\x00 replaced\x1b[31m\u202e Litvinov?\x07\r\n")
    assert plain.answer == noisy.answer == "Molotov"


@pytest.mark.parametrize("question", ["Кто заменил Литвинова?", "谁取代了李维诺夫？", "מי החליף את ליטבינוב?"])
def test_questions_in_other_scripts_abstain_sensibly(assistant: Assistant, question: str) -> None:
    # The corpus is English; the model cannot match these reliably, so the honest answer is
    # an abstention with the nearest passages, not a guess and not an error.
    result = assistant.ask(question)
    assert result.abstained and result.answer is None and result.passages
    json.dumps(answer_to_dict(result), ensure_ascii=False).encode("utf-8")


# --- fuzzing ---------------------------------------------------------------------------------

_CORPUS_WORDS = "Who replaced Litvinov Molotov Stalin Kremlin Politburo 1939 when what did Zhdanov Malenkov Beria why".split()
_ODD_CHARACTERS = ["\x00", "\x1b", "\u200f", "\u202e", "\ufeff", "\ud800", "\udcff", "\n", "\t", "?", "’", "\U0001f600"]
_questions = st.lists(
    st.one_of(
        st.sampled_from(_CORPUS_WORDS),
        st.text(max_size=12),  # any unicode (all categories but lone surrogates)
        st.sampled_from(_ODD_CHARACTERS),  # including lone surrogates
    ),
    max_size=12,
).map(" ".join)


def _check(result: Answer, documents: dict[str, str]) -> None:
    assert result.abstained == (result.answer is None)
    assert 0.0 <= result.confidence <= 1.0
    for citation in result.citations:
        verify_citation(citation, documents)
    for hit in result.passages:
        assert documents[hit.passage.doc][hit.passage.start : hit.passage.end] == hit.passage.text
    json.dumps(answer_to_dict(result), ensure_ascii=False).encode("utf-8")  # the CLI can print it


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(question=_questions, retriever=st.sampled_from(["hybrid", "dense", "bm25"]), k=st.integers(1, 12))
def test_fuzz_ask_never_raises_and_every_citation_verifies(
    assistant: Assistant, question: str, retriever: str, k: int
) -> None:
    try:
        result = assistant.ask(question, k=k, retriever=retriever)
    except UsageError as exc:  # the only refusal allowed: nothing to ask, or far too much
        assert "empty" in str(exc) or "too long" in str(exc)
        return
    _check(result, assistant.index.documents)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(sequence=st.lists(_questions, min_size=1, max_size=6))
def test_fuzz_question_sequences_leave_no_state_behind(assistant: Assistant, sequence: list[str]) -> None:
    # The assistant holds no state between questions: whatever came before, the same question
    # gets the same answer.
    before = assistant.ask("Who replaced Litvinov?")
    for question in sequence:
        try:
            _check(assistant.ask(question), assistant.index.documents)
        except UsageError:
            pass
    after = assistant.ask("Who replaced Litvinov?")
    assert (after.answer, after.citations) == (before.answer, before.citations)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(sequence=st.lists(_questions, min_size=1, max_size=6))
def test_fuzz_conversations_never_raise_and_every_citation_verifies(assistant: Assistant, sequence: list[str]) -> None:
    # Multi-turn use (qa.conversation, being added on another branch): skipped until it exists.
    conversation_module = pytest.importorskip("qa.conversation")
    conversation = conversation_module.Conversation(assistant)
    for question in sequence:
        try:
            turn = conversation.ask(question)
        except UsageError as exc:
            assert "empty" in str(exc) or "too long" in str(exc)
            continue
        _check(turn.answer, assistant.index.documents)


# --- corpus ----------------------------------------------------------------------------------


def test_missing_and_empty_corpus_directories(tmp_path: Path) -> None:
    with pytest.raises(CorpusError, match="corpus directory not found"):
        corpus_fingerprint(tmp_path / "nowhere")
    (tmp_path / "empty").mkdir()
    with pytest.raises(CorpusError, match="no documents in corpus directory"):
        corpus_fingerprint(tmp_path / "empty")
    (tmp_path / "file.txt").write_text("x")
    with pytest.raises(CorpusError, match="not a directory"):
        corpus_fingerprint(tmp_path / "file.txt")


def test_binary_documents_are_named_and_other_binaries_ignored(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "bears.md").write_text("# Bears\n\nMarshal Bulganin kept a tame bear.\n", encoding="utf-8")
    (corpus / "photo.png").write_bytes(bytes(range(256)))  # not a document: ignored
    assert [d.doc_id for d in load_corpus(corpus)] == ["bears"]
    (corpus / "blob.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    with pytest.raises(CorpusError, match=r"blob.txt: not UTF-8"):
        load_corpus(corpus)
    (corpus / "blob.txt").write_bytes(b"text\x00with NULs")
    with pytest.raises(CorpusError, match=r"blob.txt: looks binary"):
        load_corpus(corpus)


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their mode, so chmod 000 cannot block it")
def test_an_unreadable_document_is_a_corpus_error(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    secret = corpus / "secret.txt"
    secret.write_text("Nobody may read this.\n", encoding="utf-8")
    secret.chmod(0)
    try:
        with pytest.raises(CorpusError, match="cannot read .*secret.txt"):
            corpus_fingerprint(corpus)
    finally:
        secret.chmod(0o644)


# --- index integrity -------------------------------------------------------------------------


@pytest.mark.parametrize("artifact", ["dense.faiss", "text_keys.npy", "passages.jsonl", "bm25/data.csc.index.npy"])
def test_a_tampered_artifact_of_the_same_size_is_caught_by_its_checksum(own_index: Path, artifact: str) -> None:
    path = own_index / artifact
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01  # one bit: still parses, but is not what was built
    path.write_bytes(bytes(data))
    with pytest.raises(IndexError_, match=f"damaged .*{artifact} does not match its checksum"):
        store.load(own_index)


def test_a_missing_artifact_or_checksum_list_is_damage(own_index: Path) -> None:
    (own_index / "bm25" / "vocab.index.json").unlink()
    with pytest.raises(IndexError_, match="damaged"):
        store.load(own_index)
    manifest = json.loads((own_index / "manifest.json").read_text())
    del manifest["artifacts"]
    (own_index / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(IndexError_, match="lists no artifacts"):
        store.load(own_index)


def test_a_changed_corpus_with_no_rebuild_is_a_clear_error(own_index: Path, corpus_copy: Path) -> None:
    (corpus_copy / "extra.md").write_text("# Extra\n\nBulganin was a marshal.\n", encoding="utf-8")
    with pytest.raises(IndexError_, match=r"not usable \(corpus changed since the index was built\)"):
        Assistant.load(corpus_copy, own_index, rebuild=False)


def test_a_reader_waits_for_a_build_in_progress_instead_of_failing(own_index: Path, corpus_copy: Path) -> None:
    # Simulate the instant of a build's swap: the lock held, the old index moved aside.
    aside = own_index.parent / ".index.old-test"
    outcome: dict[str, object] = {}

    def reader() -> None:
        try:
            outcome["answer"] = Assistant.load(corpus_copy, own_index, rebuild=False).ask("Who replaced Litvinov?").answer
        except Exception as exc:  # noqa: BLE001 — reported below
            outcome["error"] = exc

    with store.build_lock(own_index):
        os.replace(own_index, aside)
        thread = threading.Thread(target=reader)
        thread.start()
        time.sleep(0.5)
        assert thread.is_alive(), outcome  # blocked on the lock, not failing on "no index"
        os.replace(aside, own_index)
    thread.join(timeout=60)
    assert outcome == {"answer": "Molotov"}


def test_a_swap_interrupted_between_its_renames_is_undone(own_index: Path, corpus_copy: Path) -> None:
    # A build killed right after moving the old index aside: the next reader puts it back.
    os.replace(own_index, own_index.parent / ".index.old-killed")
    assistant = Assistant.load(corpus_copy, own_index, rebuild=False)
    assert assistant.ask("Who replaced Litvinov?").answer == "Molotov"
    assert not list(own_index.parent.glob(".index.old-*"))


def test_every_artifact_is_covered_by_a_checksum(own_index: Path) -> None:
    manifest = store.read_manifest(own_index)
    assert manifest is not None
    assert set(manifest["artifacts"]) == {
        p.relative_to(own_index).as_posix() for p in own_index.rglob("*") if p.is_file() and p.name != "manifest.json"
    }
