"""Chunking: document blocks → sentence-aware, overlapping passages with stable ids.

A passage is a window of a few consecutive sentences. Windows never cross a section, a heading,
a page or a footnote boundary (they may cross paragraphs and list items under one heading); a
short list item is one unit, never split; tables and code blocks are passages of their own
(kind "table"/"code", cut at line ends), never mixed into prose; each title block is a passage
of its own. No passage exceeds ``max_chars``: a longer sentence is cut at white space. A passage
id is a hash of the document id and the passage text, so ids (and the eval labels and saved
citations that use them) survive rebuilds and edits elsewhere in the corpus.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from dataclasses import dataclass, replace
from functools import lru_cache
from itertools import groupby

from qa.corpus import Block, Document
from qa.formats import PROSE_KINDS

# An initial ("L. M.", "A.M.") or a few abbreviations that never end a sentence.
_FOOTNOTE_NUMBER = re.compile(r"\d+\s*")
_BLANK_LINE = re.compile(r"\n[ \t]*\r?\n")
_NO_BREAK_AFTER = re.compile(r"(?:\b[A-Z]\.|\b(?:Mr|Mrs|Dr|St|Gen|Col|Lt|vs|cf)\.)$")


@dataclass(frozen=True)
class ChunkSettings:
    sentences_per_passage: int = 3
    overlap_sentences: int = 1
    max_chars: int = 1000  # all-MiniLM-L6-v2 reads 256 word pieces, roughly 1,000 characters
    whole_item_chars: int = 400  # a list item up to this long is one unit, never split

    def __post_init__(self) -> None:
        if not 0 <= self.overlap_sentences < self.sentences_per_passage:
            raise ValueError("overlap_sentences must be in [0, sentences_per_passage)")


@dataclass(frozen=True)
class Sentence:
    start: int
    end: int


@dataclass(frozen=True)
class Passage:
    """A retrievable span of one document; ``text == document.text[start:end]`` (the text the
    reader saw: the file itself for a plain text, see ``offsets``)."""

    passage_id: str
    doc: str
    start: int
    end: int
    text: str
    kind: str  # "title" | "introduction" | "paragraph" | "footnote" | "list item" | "table" | "code"
    section: int
    paragraphs: tuple[int, int]  # first and last paragraph (within the section or footnote)
    footnote: int | None
    sentences: tuple[Sentence, ...]
    anchor: tuple[int, int] | None = None  # for a footnote: the span of its marker in the body
    anchor_location: str | None = None
    # Structured documents (anything but a plain text): the file's name, which locations name,
    # the heading path and the PDF page.
    file: str | None = None
    heading: tuple[str, ...] = ()
    page: int | None = None
    offsets: str = "file"  # what start/end refer to: "file" or "extracted text"
    file_start: int | None = None  # the span in the file itself (text formats; None for PDF/DOCX)
    file_end: int | None = None

    @property
    def location(self) -> str:
        return self._describe(*self.paragraphs)

    def location_at(self, offset: int) -> str:
        """The location of the paragraph holding ``offset`` (an absolute offset inside this passage)."""
        paragraph = self.paragraphs[0] + len(_BLANK_LINE.findall(self.text, 0, max(0, offset - self.start)))
        return self._describe(paragraph, paragraph)

    def _describe(self, first: int, last: int) -> str:
        if self.file is not None:
            return self._describe_structured(first, last)
        para = f"paragraph {first}" if first == last else f"paragraphs {first}-{last}"
        if self.kind == "paragraph" and self.section == 0:
            return para  # a text without sections
        if self.kind == "title":
            return "title"
        if self.kind == "introduction":
            return f"introduction, {para}"
        if self.kind == "footnote":
            called = f" (called in {self.anchor_location})" if self.anchor_location else ""
            part = "" if self.paragraphs == (1, 1) else f", {para}"
            return f"footnote {self.footnote}{part}{called}"
        return f"section {self.section}, {para}"

    def _describe_structured(self, first: int, last: int) -> str:
        """"Hydration › Feeding, ¶2 (sourdough.md)", "page 12, ¶3 (report.pdf)", "title (a.md)"."""
        if self.kind == "title":
            return f"title ({self.file})"
        if self.kind in ("table", "code"):
            what = f"{'table' if self.kind == 'table' else 'code block'} {first}"
        else:
            what = f"¶{first}" if first == last else f"¶{first}-{last}"
        parts = [" › ".join(self.heading)] if self.heading else []
        if self.page is not None:
            parts.append(f"page {self.page}")
        return ", ".join([*parts, what]) + f" ({self.file})"


def describe_paragraph(section: int, paragraph: int) -> str:
    """A plain text's paragraph as a location: "section 8, paragraph 2" (or "paragraph 2")."""
    return f"section {section}, paragraph {paragraph}" if section else f"paragraph {paragraph}"


# pysbd hands ~6,600 distinct pattern strings to the `re` module-level functions, whose cache
# keeps 512 compiled patterns: past that every sentence split recompiled patterns, a fifth of the
# chunking time of a 5 MB corpus. A larger cache (a few MB) keeps them compiled. `re._MAXCACHE`
# is private but has held this meaning in every CPython 3; without it this is only slower.
_REGEX_CACHE = 16384


@lru_cache(maxsize=1)
def _segmenter():  # pysbd builds its rule tables once
    import re

    import pysbd

    if getattr(re, "_MAXCACHE", _REGEX_CACHE) < _REGEX_CACHE:
        re._MAXCACHE = _REGEX_CACHE  # type: ignore[attr-defined]
    return pysbd.Segmenter(language="en", clean=False)


def split_sentences(text: str, start: int, end: int) -> list[Sentence]:
    """Sentence spans (absolute offsets) of ``text[start:end]``, trimmed of white space."""
    spans: list[Sentence] = []
    cursor = start
    for piece in _segmenter().segment(text[start:end]):
        piece = piece.strip()
        if not piece:
            continue
        found = text.find(piece, cursor, end)
        if found < 0:  # pysbd altered the text: fall back to one sentence for the rest
            spans.append(Sentence(cursor, end))
            break
        spans.append(Sentence(found, found + len(piece)))
        cursor = found + len(piece)
    return _repair(text, spans)


def _repair(text: str, spans: list[Sentence]) -> list[Sentence]:
    """Undo pysbd's false breaks: after an initial ("A.M. Alexandrov"), before lower case."""
    merged: list[Sentence] = []
    for span in spans:
        if merged:
            prev = merged[-1]
            if _NO_BREAK_AFTER.search(text[prev.start : prev.end]) or text[span.start].islower():
                merged[-1] = Sentence(prev.start, span.end)
                continue
        merged.append(span)
    return merged


def chunk_document(document: Document, settings: ChunkSettings = ChunkSettings()) -> list[Passage]:
    passages: list[Passage] = []
    text = document.text
    for unit in _units(document.blocks):
        kind = unit[0].kind
        if kind == "title":
            sentences = [Sentence(unit[0].start, unit[0].end)]
            para_of = [unit[0].paragraph]
        elif kind in ("table", "code"):
            # Lines are its "sentences": a table or code block is cut between rows or lines.
            sentences = _lines(text, unit[0].start, unit[0].end)
            para_of = [unit[0].paragraph] * len(sentences)
        else:
            sentences, para_of = [], []
            for block in unit:
                start = block.start
                number = _FOOTNOTE_NUMBER.match(text, start)
                if block.kind == "footnote" and block.paragraph == 1 and number:
                    start = number.end()  # quote "Lenin declared…", not "2 Lenin declared…"
                if block.kind == "list item" and block.end - start <= settings.whole_item_chars:
                    block_sentences = [Sentence(start, block.end)]  # a short item stays whole
                else:
                    block_sentences = split_sentences(text, start, block.end)
                sentences += block_sentences
                para_of += [block.paragraph] * len(block_sentences)
        sentences, para_of = _fit(text, sentences, para_of, settings.max_chars)
        if kind in ("table", "code"):
            windows = _packed(sentences, settings.max_chars)
        else:
            windows = _windows(sentences, settings)
        for first, last in windows:
            passage = _passage(document, unit[0], sentences[first : last + 1], para_of[first], para_of[last])
            kinds = {b.kind for b in unit if b.start < passage.end and passage.start < b.end}
            if kinds == {"list item"}:  # a passage of list items only says so ("kind" in the JSON)
                passage = replace(passage, kind="list item")
            passages.append(passage)
    return _with_ids(passages)


def chunk_corpus(documents: list[Document], settings: ChunkSettings = ChunkSettings()) -> list[Passage]:
    return [p for doc in documents for p in chunk_document(doc, settings)]


def _units(blocks: tuple[Block, ...]) -> list[list[Block]]:
    """Runs of blocks a passage may span: the prose of one section (paragraphs and list items,
    up to the next heading, table or code block), one footnote, one table or code block, or one
    title block. Headings themselves are not passages: they name the passages under them."""

    def unit_key(block: Block) -> tuple[object, ...]:
        if block.kind in ("title", "table", "code"):
            return (block.kind, block.start)
        if block.kind == "footnote":
            return ("footnote", block.footnote)
        if block.kind in PROSE_KINDS:
            return ("prose", block.section)
        return (block.kind, block.section)

    units: list[list[Block]] = []
    for _, group in groupby(blocks, key=unit_key):
        run = [b for b in group if b.kind != "heading"]
        if run:
            units.append(run)
    return units


def _lines(text: str, start: int, end: int) -> list[Sentence]:
    """The non-blank lines of ``text[start:end]``, trimmed of trailing white space."""
    out: list[Sentence] = []
    for match in re.finditer(r"[^\n]*", text[start:end]):
        line = match.group().rstrip()
        if line.strip():
            out.append(Sentence(start + match.start(), start + match.start() + len(line)))
    return out


def _fit(text: str, sentences: list[Sentence], para_of: list[int], max_chars: int) -> tuple[list[Sentence], list[int]]:
    """Cut any sentence longer than ``max_chars`` at white space (or, with none, hard), so that
    no passage can exceed the limit."""
    if all(s.end - s.start <= max_chars for s in sentences):
        return sentences, para_of
    fitted: list[Sentence] = []
    paras: list[int] = []
    for sentence, para in zip(sentences, para_of):
        start = sentence.start
        while sentence.end - start > max_chars:
            cut = max(text.rfind(" ", start + 1, start + max_chars + 1), text.rfind("\n", start + 1, start + max_chars + 1))
            cut = cut if cut > start else start + max_chars
            piece_end = start + len(text[start:cut].rstrip())
            fitted.append(Sentence(start, piece_end))
            paras.append(para)
            start = cut + len(text[cut:sentence.end]) - len(text[cut:sentence.end].lstrip())
        if start < sentence.end:
            fitted.append(Sentence(start, sentence.end))
            paras.append(para)
    return fitted, paras


def _packed(lines: list[Sentence], max_chars: int) -> list[tuple[int, int]]:
    """Consecutive lines packed into passages of at most ``max_chars``, without overlap."""
    windows: list[tuple[int, int]] = []
    first = 0
    for i in range(1, len(lines) + 1):
        if i == len(lines) or lines[i].end - lines[first].start > max_chars:
            windows.append((first, i - 1))
            first = i
    return windows


def _windows(sentences: list[Sentence], settings: ChunkSettings) -> list[tuple[int, int]]:
    """Inclusive (first, last) sentence index ranges: fixed-size windows with overlap, shrunk to
    fit ``max_chars``; the last window always reaches the final sentence."""
    windows: list[tuple[int, int]] = []
    step = settings.sentences_per_passage - settings.overlap_sentences
    first = 0
    while first < len(sentences):
        last = min(first + settings.sentences_per_passage, len(sentences)) - 1
        while last > first and sentences[last].end - sentences[first].start > settings.max_chars:
            last -= 1
        windows.append((first, last))
        if last == len(sentences) - 1:
            break
        advance = last - first + 1 - settings.overlap_sentences
        first += max(1, min(step, advance))
    return windows


def _passage(document: Document, head: Block, sentences: list[Sentence], first_para: int, last_para: int) -> Passage:
    start, end = sentences[0].start, sentences[-1].end
    anchor = document.anchor(head.footnote) if head.footnote is not None else None
    structured = document.format != "plain"
    in_file = document.offsets.file_span(start, end)
    return Passage(
        passage_id="",
        doc=document.doc_id,
        start=start,
        end=end,
        text=document.text[start:end],
        kind=head.kind,
        section=head.section,
        paragraphs=(first_para, last_para),
        footnote=head.footnote,
        sentences=tuple(sentences),
        anchor=(anchor.start, anchor.end) if anchor else None,
        anchor_location=describe_paragraph(anchor.section, anchor.paragraph) if anchor else None,
        file=document.file if structured else None,
        heading=head.heading,
        page=head.page,
        offsets=document.offsets.refers_to,
        file_start=in_file[0] if in_file else None,
        file_end=in_file[1] if in_file else None,
    )


def passage_id(doc: str, text: str, occurrence: int = 0) -> str:
    digest = hashlib.sha1(f"{doc}\0{text}\0{occurrence}".encode()).hexdigest()
    return f"p{digest[:12]}"


def _with_ids(passages: list[Passage]) -> list[Passage]:
    seen: Counter[str] = Counter()
    out: list[Passage] = []
    for p in passages:
        occurrence = seen[p.text]
        seen[p.text] += 1
        out.append(replace(p, passage_id=passage_id(p.doc, p.text, occurrence)))
    return out
