"""The shipped reader (models/reader/, int8 ONNX) on text it never saw: a document this test
writes, and the article. Real model, real index, real CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from qa.reader import ExtractiveReader, shipped_reader

NOTE = """The Lantern Bakery

The Lantern Bakery was founded in 2011 by Mira Okafor, a former ship's engineer, in the harbour town of Tromsø. She named it after the oil lamp her grandmother kept in the window.

The bakery's sourdough starter is called Herman. It was given that name by Jonas Berg, the first baker Okafor hired, because he said it was as stubborn as his uncle. The starter is fed with rye flour twice a day.

In 2019 the bakery moved to a larger building on Storgata, where it now employs fourteen people. Its best-known loaf is a dark rye bread baked with caraway seeds.
"""


@pytest.fixture(scope="module")
def reader() -> ExtractiveReader:
    return shipped_reader()


@pytest.fixture(scope="module")
def note_assistant(tmp_path_factory: pytest.TempPathFactory):
    from qa import Assistant

    root = tmp_path_factory.mktemp("note")
    corpus = root / "corpus"
    corpus.mkdir()
    (corpus / "lantern-bakery.txt").write_text(NOTE, encoding="utf-8")
    return Assistant.load(corpus, root / "index", reader="model")


def test_the_model_ships_with_its_card_and_calibration(reader: ExtractiveReader) -> None:
    assert (reader.directory / "model.onnx").stat().st_size < 30_000_000
    assert reader.card["base_model"].startswith("sentence-transformers/all-MiniLM-L6-v2")
    assert {"int8", "fp32"} <= set(reader.card["validation_onnx"])
    assert (reader.directory / "calibration.json").exists()


def test_the_query_path_reads_windows_of_the_length_the_reader_was_trained_on(reader: ExtractiveReader) -> None:
    # Held-out training articles read better with the training window (192) than with 256.
    trained = int(reader.card["training"]["hyperparameters"]["max_length"])
    assert reader.settings.max_length == trained
    assert 0 < reader.settings.stride < trained


def test_answers_are_no_longer_than_the_reader_cap(reader: ExtractiveReader) -> None:
    # A reason invites a long span; the answer is still a short one (20 tokens, qa/reader.py).
    assert reader.settings.max_answer_tokens == 20
    for question in ("Why was the starter named Herman?", "What happened in 2019?"):
        for span in reader.read(question, [NOTE]):
            tokens = reader._tokenizer.encode(span.text, add_special_tokens=False).ids
            assert 0 < len(tokens) <= reader.settings.max_answer_tokens + 1  # +1: a word re-split at its edge
            assert NOTE[span.start : span.end] == span.text


def test_the_reader_does_not_spin_wait_between_runs(reader: ExtractiveReader) -> None:
    # Its spinning threads took the cores from a second question answered at once (qa serve:
    # 47 against 58 answers/s; README, Speed).
    options = reader._session.get_session_options()
    assert options.get_session_config_entry("session.intra_op.allow_spinning") == "0"


def test_spans_are_slices_of_the_passages_they_came_from(reader: ExtractiveReader) -> None:
    passages = [NOTE[:300], NOTE[300:]]
    spans = reader.read("Who founded the Lantern Bakery?", passages)
    assert spans and all(passages[s.passage][s.start : s.end] == s.text for s in spans)
    best = max(spans, key=lambda s: s.score)
    assert "Okafor" in best.text and best.margin > 0


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("Who founded the Lantern Bakery?", "Mira Okafor"),
        ("When was the Lantern Bakery founded?", "2011"),
        ("Who named the starter Herman?", "Jonas Berg"),
        ("Where did the bakery move in 2019?", "Storgata"),
        ("What is the starter fed with?", "rye flour"),
    ],
)
def test_answers_about_a_document_it_never_saw(note_assistant, question: str, expected: str) -> None:
    answer = note_assistant.ask(question)
    assert not answer.abstained, (question, answer.confidence)
    assert expected in answer.answer
    assert len(answer.answer.split()) <= 6  # a short span, not a sentence
    text = note_assistant.index.documents[answer.answer_doc]
    assert text[answer.answer_start : answer.answer_end] == answer.answer
    (citation,) = answer.citations
    assert citation.start <= answer.answer_start and answer.answer_end <= citation.end


def test_what_was_already_answered_is_not_answered_again(reader: ExtractiveReader, note_assistant) -> None:
    # "Who else …?" in a conversation: the reader takes the best span that overlaps no
    # occurrence of an earlier answer, and a conversation passes its recent answers on.
    (first,) = reader.read("Who founded the Lantern Bakery?", [NOTE])
    assert "Okafor" in first.text
    (other,) = reader.read("Who founded the Lantern Bakery?", [NOTE], avoid=("mira okafor",))
    assert NOTE[other.start : other.end] == other.text and "Okafor" not in other.text
    conversation = note_assistant.conversation()
    assert conversation.ask("Who founded the Lantern Bakery?").answer.answer == "Mira Okafor"
    assert note_assistant.ask("Who else founded the Lantern Bakery?").answer == "Mira Okafor"  # asked alone
    again = conversation.ask("Who else founded it?")
    assert again.standalone_question == "Who else founded the Lantern Bakery?"
    assert again.answer.answer is None or "Okafor" not in again.answer.answer


def test_abstains_when_the_document_does_not_say(note_assistant) -> None:
    answer = note_assistant.ask("What is the capital of Peru?")
    assert answer.abstained and answer.answer is None and answer.answer_start is None


def test_the_article_through_the_cli_json(index_dir: Path, corpus_dir: Path) -> None:
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    proc = subprocess.run(
        [sys.executable, "-m", "qa", "ask", "--json", "--reader", "model", "--corpus", str(corpus_dir),
         "--index", str(index_dir), "Who replaced Litvinov?"],
        capture_output=True, text=True, timeout=180, env=env,
    )
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert "Molotov" in result["answer"]
    text = (corpus_dir / f"{result['answer_doc']}.txt").read_bytes().decode("utf-8")
    assert text[result["answer_start"] : result["answer_end"]] == result["answer"]


def test_reading_imports_neither_torch_nor_transformers(index_dir: Path, corpus_dir: Path) -> None:
    code = (
        "import sys; from qa import Assistant; "
        f"a = Assistant.load({str(corpus_dir)!r}, {str(index_dir)!r}, rebuild=False, reader='model'); "
        "a.ask('Who replaced Litvinov?'); "
        "bad = [m for m in ('torch', 'transformers', 'sentence_transformers') if m in sys.modules]; "
        "print(bad); sys.exit(1 if bad else 0)"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_a_passage_scores_the_same_whatever_is_read_beside_it(reader: ExtractiveReader) -> None:
    # One window a run: int8 activations are quantised over the whole input, so a padded batch
    # would give a passage other scores next to other passages.
    passages = [
        "The starter is fed with rye flour and water twice a day.",
        "Sourdough bread was baked in the village every Friday, by a baker named Anna, for forty years.",
        "Nobody knows who first named the starter.",
    ]
    together = reader.read("Who baked the bread?", passages)
    alone = reader.read("Who baked the bread?", [passages[1]])
    [beside] = [s for s in together if s.passage == 1]
    assert (beside.text, beside.score, beside.null_score) == (alone[0].text, alone[0].score, alone[0].null_score)


def test_reading_in_rank_order_without_an_exit_is_reading_them_all(reader: ExtractiveReader, assistant) -> None:
    from qa.extract import Calibration, Stopping, best_of, read_in_rank_order

    calibration = Calibration.load(reader.directory / "calibration.json")
    for question in ("Who replaced Litvinov?", "When did Zhdanov die?", "What is the capital of Peru?"):
        hits = assistant.ask(question).passages
        texts = [h.passage.text for h in hits]
        together = best_of(reader.read(question, texts))
        one_by_one, read = read_in_rank_order((reader.read(question, [t]) for t in texts), hits, calibration, Stopping())
        assert read == len(hits) and one_by_one == together


def test_a_sure_first_passage_ends_the_reading(reader: ExtractiveReader, note_assistant) -> None:
    """The early exit: a span the calibration finds likely right stops the reading there, and it
    is the answer reading everything would give; an unsure one reads on."""
    from qa.extract import Calibration, Stopping, read_in_rank_order

    calibration = Calibration.load(reader.directory / "calibration.json")
    stopping = calibration.stopping
    assert stopping.answer_at is not None and stopping.answer_at >= calibration.threshold
    question = "Who founded the Lantern Bakery?"
    hits = note_assistant.ask(question).passages
    assert len(hits) >= 3
    consumed: list[int] = []

    def spans_by_rank():
        for rank, hit in enumerate(hits):
            consumed.append(rank)
            yield reader.read(question, [hit.passage.text])

    early, read = read_in_rank_order(spans_by_rank(), hits, calibration, stopping)
    full, _ = read_in_rank_order((reader.read(question, [h.passage.text]) for h in hits), hits, calibration, Stopping())
    assert read < len(hits) and consumed == list(range(read)) and early == full and "Okafor" in early.text
    never_sure, read = read_in_rank_order(spans_by_rank(), hits, calibration, Stopping(answer_at=1.01))
    assert read == len(hits) and never_sure == full
    given_up, read = read_in_rank_order(spans_by_rank(), hits, calibration, Stopping(give_up_after=2, give_up_below=1.01))
    assert read == 2 and given_up is not None
