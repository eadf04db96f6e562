"""Readers for the document formats people have: each turns a file into plain text plus the
structure its source states (title, heading path, page, list item, table, code block).

A reader emits ``Piece``s in reading order; ``assemble`` joins them into the *extracted text*
(pieces separated by a blank line) and records each piece's span in it. For text formats
(Markdown, reStructuredText, HTML) the extracted text is aligned back onto the file
(``qa.formats.align``), so every span also has exact offsets in the file itself; for binary
formats (PDF, DOCX) offsets refer to the extracted text only (``qa show DOC`` prints it).

Each format's library is imported only when a file of that format is read: the query path
never pays for them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from qa.formats.align import OffsetMap, align

PLAIN_SUFFIXES = (".txt",)
MARKDOWN_SUFFIXES = (".md", ".markdown", ".mdown", ".mkd", ".mkdn")
FORMATS: dict[str, str] = {
    **{s: "markdown" for s in MARKDOWN_SUFFIXES},
    ".rst": "rst",
    ".rest": "rst",
    ".html": "html",
    ".htm": "html",
    ".xhtml": "html",
    ".pdf": "pdf",
    ".docx": "docx",
}
DOCUMENT_SUFFIXES = PLAIN_SUFFIXES + tuple(FORMATS)
BINARY_FORMATS = ("pdf", "docx")
PROSE_KINDS = ("paragraph", "list item")

_BLANK_LINES = re.compile(r"\n[ \t]*(?:\n[ \t]*)+")


class FormatError(Exception):
    """A file its reader cannot read (corrupt, encrypted, not what its name says): one line."""


@dataclass(frozen=True)
class Piece:
    """One structural element as a reader found it. ``heading`` is the path of headings above it
    (for a heading, including itself); ``source`` is where in the file to look for its text
    (str offsets), for text formats; ``None`` means anywhere after the previous piece."""

    kind: str  # "title" | "heading" | "paragraph" | "list item" | "table" | "code"
    text: str
    heading: tuple[str, ...] = ()
    page: int | None = None
    source: tuple[int, int] | None = None


@dataclass(frozen=True)
class Span:
    """A piece placed in the extracted text: ``text[start:end]``."""

    kind: str
    start: int
    end: int
    heading: tuple[str, ...]
    page: int | None


@dataclass(frozen=True)
class Extracted:
    text: str
    spans: tuple[Span, ...]
    offsets: OffsetMap
    title: str | None = None


def format_of(path: Path) -> str | None:
    """"plain", a reader's name, or None for a type qa does not read."""
    suffix = path.suffix.lower()
    return "plain" if suffix in PLAIN_SUFFIXES else FORMATS.get(suffix)


def extract(kind: str, data: bytes, source: str | None = None) -> Extracted:
    """Read a non-plain document of format ``kind`` (see ``format_of``): a binary one from its
    bytes, a text one from ``source``, its decoded text. Raises FormatError for a file its reader
    cannot read."""
    if kind == "pdf":
        from qa.formats.pdf import read_pdf

        return assemble(*read_pdf(data), None)
    if kind == "docx":
        from qa.formats.docx import read_docx

        return assemble(*read_docx(data), None)
    assert source is not None, "text formats are read from their decoded text"
    if kind == "markdown":
        from qa.formats.markdown import read_markdown

        return assemble(*read_markdown(source), source)
    if kind == "rst":
        from qa.formats.rst import read_rst

        return assemble(*read_rst(source), source)
    if kind == "html":
        from qa.formats.html import mask_markup, read_html

        return assemble(*read_html(source), mask_markup(source))  # same offsets, markup blanked
    raise FormatError(f"no reader for {kind!r} documents")


def assemble(pieces: list[Piece], title: str | None, source: str | None) -> Extracted:
    """Join pieces into the extracted text, a blank line between pieces (so a paragraph's
    position can be counted, as in a plain file); prose never holds a blank line itself."""
    parts: list[str] = []
    spans: list[Span] = []
    regions: list[tuple[int, int, tuple[int, int] | None]] = []
    at = 0
    for piece in pieces:
        text = piece.text.strip("\n")
        if piece.kind not in ("code", "table"):
            text = _BLANK_LINES.sub("\n", text).strip()
        if not text.strip():
            continue
        if parts:
            parts.append("\n\n")
            at += 2
        parts.append(text)
        spans.append(Span(piece.kind, at, at + len(text), piece.heading, piece.page))
        regions.append((at, at + len(text), piece.source))
        at += len(text)
    extracted = "".join(parts)
    if source is None:
        offsets = OffsetMap("extracted text", None)
    else:
        offsets = OffsetMap("extracted text", align(extracted, source, regions))
    return Extracted(extracted, tuple(spans), offsets, title)


def collapse(text: str) -> str:
    """White space as a browser or word processor shows it: runs become one space."""
    return " ".join(text.split())


__all__ = [
    "BINARY_FORMATS",
    "DOCUMENT_SUFFIXES",
    "FORMATS",
    "Extracted",
    "FormatError",
    "OffsetMap",
    "Piece",
    "Span",
    "assemble",
    "extract",
    "format_of",
]
