"""Chunking: sentence-aware windows, boundaries, overlap, stable ids."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import DOC_ID

from qa.chunking import ChunkSettings, chunk_corpus, chunk_document, split_sentences
from qa.corpus import load_corpus


@pytest.fixture(scope="module")
def document(corpus_dir: Path):
    [doc] = load_corpus(corpus_dir)
    return doc


@pytest.fixture(scope="module")
def passages(document):
    return chunk_document(document)


def _unit(block) -> tuple:
    return (block.kind, block.footnote if block.kind == "footnote" else block.section)


def test_passages_slice_back_to_the_file(document, passages) -> None:
    assert len(passages) > 50
    for p in passages:
        assert p.text == document.text[p.start : p.end]
        assert p.doc == DOC_ID
        for s in p.sentences:
            assert p.start <= s.start < s.end <= p.end


def test_windows_are_sentence_aligned_with_overlap(document, passages) -> None:
    settings = ChunkSettings()
    for p in passages:
        assert 1 <= len(p.sentences) <= settings.sentences_per_passage
        assert p.start == p.sentences[0].start and p.end == p.sentences[-1].end
        assert len(p.text) <= settings.max_chars or len(p.sentences) == 1
    for a, b in zip(passages, passages[1:]):
        if (a.kind, a.section, a.footnote) == (b.kind, b.section, b.footnote) and a.kind != "title":
            assert a.sentences[-settings.overlap_sentences :] == b.sentences[: settings.overlap_sentences]


def test_no_passage_crosses_a_section_or_footnote(document, passages) -> None:
    for p in passages:
        touched = {_unit(b) for b in document.blocks if b.start < p.end and p.start < b.end}
        assert len(touched) == 1, (p.location, touched)


def test_every_sentence_of_the_article_is_in_some_passage(document, passages) -> None:
    covered = {(s.start, s.end) for p in passages for s in p.sentences}
    for block in document.blocks:
        if block.kind in ("paragraph", "introduction"):
            for s in split_sentences(document.text, block.start, block.end):
                assert (s.start, s.end) in covered


def test_footnote_passages_know_their_anchor(document, passages) -> None:
    footnotes = [p for p in passages if p.kind == "footnote"]
    assert {p.footnote for p in footnotes} == {1, 2}
    for p in footnotes:
        start, end = p.anchor
        assert document.text[start:end] == str(p.footnote)
    first = next(p for p in footnotes if p.footnote == 2)
    assert first.text.startswith("Lenin declared")  # the footnote number is not quoted
    assert first.location == "footnote 2 (called in section 8, paragraph 2)"
    assert any("Kleist" in p.text for p in footnotes if p.footnote == 1)


def test_sentence_splitter_keeps_initials_and_typos_together(document) -> None:
    text = document.text
    sentences = [text[s.start : s.end] for b in document.blocks for s in split_sentences(text, b.start, b.end)]
    assert any("meeting between him and A.M. Alexandrov, the director" in s for s in sentences)
    assert any(s.startswith("After the purges of the mid-30’s, in which. five members") for s in sentences)
    assert any(s.startswith("The second group, formed around L. M. Kagano-vich in Moscow") for s in sentences)


def test_locations_read_like_a_reader_would_cite(passages) -> None:
    locations = {p.location for p in passages}
    assert "title" in locations
    assert any(loc.startswith("introduction, paragraph 1") for loc in locations)
    assert "section 4, paragraphs 6-7" in locations
    p = next(p for p in passages if "Litvinov’s replacement by Molotov" in p.text)
    assert p.location_at(p.text.index("Thus Litvinov") + p.start) == "section 4, paragraph 6"


def test_ids_are_stable_across_rebuilds(corpus_dir: Path, passages) -> None:
    again = chunk_corpus(load_corpus(corpus_dir))
    assert [p.passage_id for p in again] == [p.passage_id for p in passages]
    assert len({p.passage_id for p in passages}) == len(passages)


def test_ids_survive_edits_elsewhere(corpus_copy: Path, passages) -> None:
    path = corpus_copy / f"{DOC_ID}.txt"
    text = path.read_bytes().decode("utf-8")
    edited = text.replace("Turning away from these siren songs", "Turning firmly away from these siren songs")
    path.write_bytes(edited.encode("utf-8"))
    after = {p.passage_id for p in chunk_corpus(load_corpus(corpus_copy))}
    before = {p.passage_id: p for p in passages}
    changed = {pid for pid in before if pid not in after}
    assert changed, "the edited passage must get a new id"
    assert all("Turning away from these siren songs" in before[pid].text for pid in changed)
