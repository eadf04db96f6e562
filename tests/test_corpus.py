"""Ingestion: boilerplate, structure, footnotes and their anchors, exact offsets."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import DOC_ID

from qa.corpus import corpus_fingerprint, load_corpus
from qa.errors import CorpusError


@pytest.fixture(scope="module")
def document(corpus_dir: Path):
    [doc] = load_corpus(corpus_dir)
    return doc


def test_document_id_and_metadata(document) -> None:
    assert document.doc_id == DOC_ID
    assert document.meta["author"] == "Boris Meissner"
    assert document.meta["translator"] == "Maurice J. Goldbloom"
    assert document.meta["year"] == 1952
    assert document.meta["source"] == "Commentary"


def test_web_boilerplate_is_cut(document) -> None:
    body = document.text[: document.body_end]
    assert body.endswith("the Allies had just raised their blockade of Red Russia.")
    for junk in ("About the Author", "Pin It on Pinterest", "subscribe", "free articles"):
        assert junk not in body
        assert all(junk not in document.text[b.start : b.end] for b in document.blocks)


def test_title_block_and_introduction_are_kept(document) -> None:
    titles = [document.text[b.start : b.end] for b in document.blocks if b.kind == "title"]
    assert "The Kremlin's Terms to the West:\nPolitburo Foreign Policy from the Inside" in titles
    [intro] = [b for b in document.blocks if b.kind == "introduction"]
    assert document.text[intro.start : intro.end].startswith("We know that, ultimately, Stalin rules supreme")
    assert "translated from German by Maurice J. Goldbloom" in document.text[intro.start : intro.end]
    assert intro.section == 0


def test_sections_and_paragraphs(document) -> None:
    paragraphs = [b for b in document.blocks if b.kind == "paragraph"]
    assert sorted({b.section for b in paragraphs}) == list(range(1, 11))
    first = paragraphs[0]
    assert (first.section, first.paragraph) == (1, 1)
    assert document.text[first.start : first.end].startswith("Let there be no doubt about it")
    # Section 4 has eight paragraphs; the seventh is the Dekanosov one.
    section4 = [b for b in paragraphs if b.section == 4]
    assert len(section4) == 8
    assert document.text[section4[6].start :].startswith("In order to have a counterweight to Vi-shinsky")


def test_both_footnotes_found_and_anchored(document) -> None:
    footnotes = [b for b in document.blocks if b.kind == "footnote"]
    assert [b.footnote for b in footnotes] == [1, 1, 2]  # footnote 1 runs over two paragraphs
    assert document.text[footnotes[0].start :].startswith("1 The approach was made in Stockholm")
    assert document.text[footnotes[1].start :].startswith("At his third meeting with Kleist")
    assert document.text[footnotes[2].start :].startswith("2 Lenin declared")

    first, second = document.anchors
    assert document.text[first.start : first.end] == "1"
    assert document.text[first.start - 6 : first.end] == "1950).1"
    assert (first.section, first.paragraph) == (5, 2)
    assert document.text[second.start : second.end] == "2"
    assert document.text[second.start - 7 : second.end + 7] == "in 19202 hinted"
    assert (second.section, second.paragraph) == (8, 2)
    # Footnotes are not body paragraphs.
    assert not any(b.kind == "paragraph" and "Lenin declared to the correspondent" in document.text[b.start : b.end] for b in document.blocks)


def test_offsets_slice_back_to_the_file(document) -> None:
    raw = document.path.read_bytes().decode("utf-8")
    assert raw == document.text
    for block in document.blocks:
        chunk = raw[block.start : block.end]
        assert chunk == chunk.strip() and chunk


def test_more_documents_and_crlf(tmp_path: Path) -> None:
    (tmp_path / "notes.md").write_text("# Notes\n\nThe sky is blue.\n", encoding="utf-8")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "crlf.txt").write_bytes("Heading\r\n\r\nFirst para é.\r\n\r\n\r\nSecond section.\r\n".encode())
    (tmp_path / ".hidden.txt").write_text("ignored", encoding="utf-8")
    (tmp_path / "data.csv").write_text("a,b", encoding="utf-8")
    docs = {d.doc_id: d for d in load_corpus(tmp_path)}
    assert sorted(docs) == ["notes", "sub/crlf"]
    crlf = docs["sub/crlf"]
    # Two one-paragraph "sections" are just spaced paragraphs: no introduction, no section numbers.
    assert [(b.kind, b.section, crlf.text[b.start : b.end]) for b in crlf.blocks] == [
        ("title", 0, "Heading"),
        ("paragraph", 0, "First para é."),
        ("paragraph", 0, "Second section."),
    ]
    assert docs["notes"].format == "markdown" and docs["notes"].text == "Notes\n\nThe sky is blue."


def test_fingerprint_changes_with_content(corpus_copy: Path) -> None:
    before, listing = corpus_fingerprint(corpus_copy)
    assert {entry["path"] for entry in listing} == {f"{DOC_ID}.txt", f"{DOC_ID}.meta.json"}
    (corpus_copy / f"{DOC_ID}.meta.json").write_text('{"title": "changed"}', encoding="utf-8")
    assert corpus_fingerprint(corpus_copy)[0] != before


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        (lambda d: None, "no documents in corpus directory"),
        (lambda d: (d / "bin.txt").write_bytes(b"\xff\xfe\x00bad"), "not UTF-8"),
        (lambda d: (d / "nul.txt").write_bytes(b"abc\x00def"), "binary"),
    ],
)
def test_bad_corpora_are_clear_errors(tmp_path: Path, setup, message: str) -> None:
    setup(tmp_path)
    with pytest.raises(CorpusError, match=message):
        load_corpus(tmp_path)


def test_numbered_paragraphs_that_nothing_calls_are_not_footnotes(tmp_path: Path) -> None:
    (tmp_path / "list.txt").write_text("Steps\n\nFirst we wait.\n\n1 Then we go home.\n\n2 Then we sleep.\n", encoding="utf-8")
    [doc] = load_corpus(tmp_path)
    assert not doc.anchors
    assert [b.kind for b in doc.blocks] == ["title", "paragraph", "paragraph", "paragraph"]


def test_clashing_document_names(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("One.\n", encoding="utf-8")
    (tmp_path / "notes.md").write_text("Two.\n", encoding="utf-8")
    with pytest.raises(CorpusError, match="both be called 'notes'"):
        load_corpus(tmp_path)


def test_missing_corpus_directory(tmp_path: Path) -> None:
    with pytest.raises(CorpusError, match="not found"):
        load_corpus(tmp_path / "nope")
