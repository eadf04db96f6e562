"""Reading documents as people have them: real files of each format, made here, read through
qa.formats into documents and passages (no model needed)."""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import pytest
from formats_corpus import HTML, MARKDOWN, RST, make_corpus, make_docx, make_pdf

from qa.chunking import ChunkSettings, chunk_document
from qa.corpus import EmptyDocument, load_document, read_corpus
from qa.errors import CorpusError, CorpusWarning

MARKUP = re.compile(r"```|\*\*|^\s*[-*] |\]\(|^#+ |&amp;|<[a-z/]", re.MULTILINE)


def _document(tmp_path: Path, name: str, content: str | bytes):
    path = tmp_path / name
    if isinstance(content, str):
        path.write_text(content, encoding="utf-8")
    else:
        path.write_bytes(content)
    return load_document(path, tmp_path)


def _words(text: str) -> list[str]:
    return re.findall(r"[A-Za-z0-9]+", text)


def _by_text(passages, needle: str):
    return next(p for p in passages if needle in p.text)


def _assert_maps_to_file(document, passages) -> None:
    """Every passage slices the extracted text, and its file span holds the same words in order
    (with only markup between them)."""
    source = document.path.read_bytes().decode("utf-8")
    for p in passages:
        assert document.text[p.start : p.end] == p.text
        assert p.offsets == "extracted text"
        assert p.file_start is not None and p.file_end is not None
        in_file = source[p.file_start : p.file_end]
        assert in_file.startswith(p.text[:1]) and in_file.endswith(p.text[-1:]), (p.text, in_file)
        words = _words(p.text)
        found = _words(in_file)
        it = iter(found)
        assert all(w in it for w in words), (p.text, in_file)


# --- Markdown ----------------------------------------------------------------------------------


def test_markdown_structure_locations_and_no_markup(tmp_path: Path) -> None:
    doc = _document(tmp_path, "sourdough.md", MARKDOWN)
    assert doc.format == "markdown" and doc.meta["title"] == "Sourdough at Home"
    assert "author:" not in doc.text and "---" not in doc.text  # front matter is metadata
    kinds = [b.kind for b in doc.blocks]
    assert kinds == ["title", "paragraph", "heading", "paragraph", "heading", "paragraph",
                     "list item", "list item", "code", "table", "heading", "paragraph"]
    passages = chunk_document(doc)
    for p in passages:
        assert not MARKUP.search(p.text), p.text
    feed = _by_text(passages, "Feed the starter")
    assert feed.location.startswith("Hydration › Feeding, ¶1") and feed.location.endswith("(sourdough.md)")
    assert "Rye flour" not in _by_text(passages, "Hydration is the ratio").text  # never across a heading
    item = _by_text(passages, "Rye flour")
    assert "Rye flour makes the starter more active." in item.text
    assert item.location_at(item.start + item.text.index("Keep the jar")) == "Hydration › Feeding, ¶3 (sourdough.md)"
    code = next(p for p in passages if p.kind == "code")
    assert code.text == "def feed(starter):\n    return starter * 2"
    assert code.location == "Hydration › Feeding, code block 1 (sourdough.md)"
    table = next(p for p in passages if p.kind == "table")
    assert table.text == "flour | water\n100 g | 75 g" and "table 1" in table.location
    assert all("def feed" not in p.text and "75 g" not in p.text for p in passages if p.kind not in ("code", "table"))
    assert _by_text(passages, "wild yeast").text.endswith("see the guide.")
    assert _by_text(passages, "Sourdough at Home").location == "title (sourdough.md)"
    _assert_maps_to_file(doc, passages)
    link = _by_text(passages, "wild yeast")
    assert MARKDOWN[link.file_start : link.file_end].endswith("(https://example.com/guide.html).")


@pytest.mark.parametrize("suffix", [".markdown", ".mdown", ".mkd"])
def test_every_usual_markdown_extension_is_markdown(tmp_path: Path, suffix: str) -> None:
    doc = _document(tmp_path, f"notes{suffix}", "# Notes\n\n## Tea\n\n- Green tea wants *80* degrees.\n")
    assert doc.format == "markdown"
    [p] = [p for p in chunk_document(doc) if p.kind == "list item"]
    assert p.text == "Green tea wants 80 degrees." and p.location == f"Tea, ¶1 (notes{suffix})"


# --- HTML, reStructuredText ----------------------------------------------------------------------


def test_html_main_content_without_boilerplate(tmp_path: Path) -> None:
    doc = _document(tmp_path, "kettles.html", HTML)
    assert doc.meta["title"] == "Kettles"
    for chrome in ("Home", "Shop", "Guides", "cookies", "Copyright", "newsletter", "var note", "color"):
        assert chrome not in doc.text, chrome
    passages = chunk_document(doc)
    first = _by_text(passages, "gooseneck")
    assert first.text == "A gooseneck kettle pours slowly & precisely."
    green = _by_text(passages, "Green tea wants")
    assert green.location.startswith("Temperature, ¶1") and green.location.endswith("(kettles.html)")
    oolong = _by_text(passages, "Oolong")
    assert oolong.location_at(oolong.start + oolong.text.index("Oolong")) == "Temperature, ¶3 (kettles.html)"
    _assert_maps_to_file(doc, passages)
    assert HTML[first.file_start : first.file_end] == "A <em>gooseneck</em> kettle pours slowly &amp; precisely."


def test_restructuredtext_sections_lists_and_literal_blocks(tmp_path: Path) -> None:
    doc = _document(tmp_path, "bees.rst", RST)
    assert doc.format == "rst" and doc.meta["title"] == "Beekeeping"
    passages = chunk_document(doc)
    assert "==" not in doc.text and "::" not in doc.text
    queen = _by_text(passages, "one queen")
    assert queen.location.startswith("Hives, ¶1") and queen.location.endswith("(bees.rst)")
    assert [doc.text[b.start : b.end] for b in doc.blocks if b.kind == "list item"] == [
        "Drones do not sting.", "Worker bees live six weeks in summer."]
    assert next(p for p in passages if p.kind == "code").text == "smoker = True"
    _assert_maps_to_file(doc, passages)


# --- PDF, DOCX ------------------------------------------------------------------------------------


def test_pdf_text_layer_with_pages(tmp_path: Path) -> None:
    doc = load_document(make_pdf(tmp_path / "harbour.pdf"), tmp_path)
    assert doc.format == "pdf" and doc.meta["title"] == "Harbour Report"
    assert doc.offsets.refers_to == "extracted text" and doc.offsets.file_span(0, 5) is None
    passages = chunk_document(doc)
    revenue = _by_text(passages, "Revenue in 2025")
    assert revenue.location_at(revenue.start + revenue.text.index("Revenue")) == "page 2, ¶1 (harbour.pdf)"
    assert revenue.location.startswith("page 2, ¶1")
    assert revenue.file_start is None and revenue.offsets == "extracted text"
    cargo = _by_text(passages, "Cargo volumes")
    assert cargo.page == 1 and "Revenue" not in cargo.text  # a passage never spans two pages
    assert " ".join(cargo.text.split()).count("eastern terminal") == 1
    assert doc.text[revenue.start : revenue.end] == revenue.text


def test_docx_headings_lists_and_tables(tmp_path: Path) -> None:
    doc = load_document(make_docx(tmp_path / "notes.docx"), tmp_path)
    assert doc.format == "docx" and doc.meta["title"] == "Field Notes"
    passages = chunk_document(doc)
    bridge = _by_text(passages, "Chain Bridge in Budapest")
    assert bridge.location.startswith("Rivers › Bridges, ¶1") and bridge.location.endswith("(notes.docx)")
    assert _by_text(passages, "Danube").location == "Rivers, ¶1 (notes.docx)"
    table = next(p for p in passages if p.kind == "table")
    assert table.text == "bridge | opened\nChain Bridge | 1849\nElisabeth Bridge | 1903"
    [item] = [b for b in doc.blocks if b.kind == "list item"]
    assert doc.text[item.start : item.end] == "Cross it on foot at dusk." and item.heading == ("Rivers", "Bridges")
    assert [b.kind for b in doc.blocks if b.kind in ("title", "heading")] == ["title", "heading", "heading"]


# --- bad files, unsupported types ------------------------------------------------------------------


def test_corrupt_and_encrypted_files_are_skipped_with_one_line_each(tmp_path: Path) -> None:
    from pypdf import PdfReader, PdfWriter

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "fine.md").write_text("# Fine\n\nThis one reads.\n", encoding="utf-8")
    (corpus / "broken.pdf").write_bytes(b"%PDF-1.4\n1 0 obj garbage\n")
    (corpus / "broken.docx").write_bytes(b"PK\x03\x04 this is no zip")
    writer = PdfWriter(clone_from=PdfReader(make_pdf(tmp_path / "plain.pdf")))
    writer.encrypt("secret")
    with (corpus / "locked.pdf").open("wb") as f:
        writer.write(f)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        documents, skipped = read_corpus(corpus)
    assert [d.doc_id for d in documents] == ["fine"]
    reasons = {s.file: s.reason for s in skipped}
    assert set(reasons) == {"broken.pdf", "broken.docx", "locked.pdf"}
    assert "encrypted" in reasons["locked.pdf"] and "PDF" in reasons["broken.pdf"] and "DOCX" in reasons["broken.docx"]
    messages = [str(w.message) for w in caught if issubclass(w.category, CorpusWarning)]
    assert len(messages) == 3 and all("\n" not in m for m in messages)


def test_a_parser_error_after_ctrl_c_is_the_interrupt_not_a_skipped_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Skipped as unreadable, the file would be left out of an index built to the end, exit 0.
    from qa import _interrupt

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "broken.docx").write_bytes(b"PK\x03\x04 this is no zip")
    monkeypatch.setattr(_interrupt, "_received", True)  # what qa.cli's SIGINT handler records
    with pytest.raises(KeyboardInterrupt):
        read_corpus(corpus)


def test_unsupported_types_are_listed_once_never_silently_dropped(tmp_path: Path) -> None:
    corpus = make_corpus(tmp_path / "corpus")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        documents, skipped = read_corpus(corpus)
    assert sorted(d.path.name for d in documents) == ["bees.rst", "harbour.pdf", "kettles.html", "notes.docx", "sourdough.md"]
    messages = [str(w.message) for w in caught if issubclass(w.category, CorpusWarning)]
    assert messages == [f"{corpus}: skipped 2 files of unsupported types (.png, .xlsx)"]
    assert {s.file: s.reason for s in skipped} == {"budget.xlsx": "unsupported type", "photo.png": "unsupported type"}
    only_images = tmp_path / "images"
    only_images.mkdir()
    (only_images / "a.png").write_bytes(b"x")
    with pytest.raises(CorpusError, match=r"no documents in corpus directory: .*skipped 1 file of unsupported types \(\.png\)"):
        read_corpus(only_images)


# --- plain text -------------------------------------------------------------------------------------


def test_plain_text_without_sections_has_paragraphs_not_section_3137(tmp_path: Path) -> None:
    body = "\n\n\n".join(f"Paragraph number {n} says something about the harbour." for n in range(1, 41))
    doc = _document(tmp_path, "log.txt", "Harbour Log\n\n\n" + body + "\n")
    passages = chunk_document(doc)
    locations = {p.location for p in passages}
    assert not any(loc.startswith(("section", "introduction")) for loc in locations), locations
    assert _by_text(passages, "Paragraph number 40 ").location.startswith("paragraph")
    assert doc.offsets.refers_to == "file" and passages[0].file_start == passages[0].start


def test_no_passage_exceeds_max_chars_even_for_one_long_sentence(tmp_path: Path) -> None:
    sentence = "The harbour " + " ".join(f"crane{n}" for n in range(900)) + " stood still."
    doc = _document(tmp_path, "long.txt", sentence + "\n")
    settings = ChunkSettings()
    passages = chunk_document(doc, settings)
    assert len(passages) > 5
    assert all(len(p.text) <= settings.max_chars for p in passages)
    assert all(doc.text[p.start : p.end] == p.text for p in passages)
    assert {w for p in passages for w in p.text.split()} == set(sentence.split())


def test_an_empty_pdf_page_set_is_an_empty_document(tmp_path: Path) -> None:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.output(str(tmp_path / "blank.pdf"))
    with pytest.raises(EmptyDocument, match="no text layer"):
        load_document(tmp_path / "blank.pdf", tmp_path)


def test_html_without_main_keeps_a_wrapper_that_holds_the_article(tmp_path: Path) -> None:
    page = (
        "<html><body><div class='menu'>Home About</div>"
        "<div class='page with-sidebar'><h1>Ferries</h1><p>The night ferry leaves at 22:15.</p>"
        "<div class='sidebar'>Popular posts</div></div></body></html>"
    )
    doc = _document(tmp_path, "ferries.htm", page)
    assert doc.text == "Ferries\n\nThe night ferry leaves at 22:15."
    [p] = [p for p in chunk_document(doc) if p.kind == "paragraph"]
    assert p.location == "¶1 (ferries.htm)" and page[p.file_start : p.file_end] == p.text
