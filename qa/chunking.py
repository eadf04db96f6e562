"""Chunking: document blocks → sentence-aware, overlapping passages with stable ids.

A passage is a window of a few consecutive sentences. Windows never cross a section or a
footnote boundary (they may cross paragraphs inside a section); each title block is a passage
of its own. A passage id is a hash of the document id and the passage text, so ids (and the eval
labels and saved citations that use them) survive rebuilds and edits elsewhere in the corpus.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from dataclasses import dataclass, replace
from functools import lru_cache
from itertools import groupby

from qa.corpus import Block, Document

# An initial ("L. M.", "A.M.") or a few abbreviations that never end a sentence.
_FOOTNOTE_NUMBER = re.compile(r"\d+\s*")
_BLANK_LINE = re.compile(r"\n[ \t]*\r?\n")
_NO_BREAK_AFTER = re.compile(r"(?:\b[A-Z]\.|\b(?:Mr|Mrs|Dr|St|Gen|Col|Lt|vs|cf)\.)$")


@dataclass(frozen=True)
class ChunkSettings:
    sentences_per_passage: int = 3
    overlap_sentences: int = 1
    max_chars: int = 1000  # all-MiniLM-L6-v2 reads 256 word pieces, roughly 1,000 characters

    def __post_init__(self) -> None:
        if not 0 <= self.overlap_sentences < self.sentences_per_passage:
            raise ValueError("overlap_sentences must be in [0, sentences_per_passage)")


@dataclass(frozen=True)
class Sentence:
    start: int
    end: int


@dataclass(frozen=True)
class Passage:
    """A retrievable span of one document; ``text == document.text[start:end]``."""

    passage_id: str
    doc: str
    start: int
    end: int
    text: str
    kind: str  # "title" | "introduction" | "paragraph" | "footnote"
    section: int
    paragraphs: tuple[int, int]  # first and last paragraph (within the section or footnote)
    footnote: int | None
    sentences: tuple[Sentence, ...]
    anchor: tuple[int, int] | None = None  # for a footnote: the span of its marker in the body
    anchor_location: str | None = None

    @property
    def location(self) -> str:
        return self._describe(*self.paragraphs)

    def location_at(self, offset: int) -> str:
        """The location of the paragraph holding ``offset`` (an absolute offset inside this passage)."""
        paragraph = self.paragraphs[0] + len(_BLANK_LINE.findall(self.text, 0, max(0, offset - self.start)))
        return self._describe(paragraph, paragraph)

    def _describe(self, first: int, last: int) -> str:
        para = f"paragraph {first}" if first == last else f"paragraphs {first}-{last}"
        if self.kind == "title":
            return "title"
        if self.kind == "introduction":
            return f"introduction, {para}"
        if self.kind == "footnote":
            called = f" (called in {self.anchor_location})" if self.anchor_location else ""
            part = "" if self.paragraphs == (1, 1) else f", {para}"
            return f"footnote {self.footnote}{part}{called}"
        return f"section {self.section}, {para}"


@lru_cache(maxsize=1)
def _segmenter():  # pysbd builds its rule tables once
    import pysbd

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
    for unit in _units(document.blocks):
        kind = unit[0].kind
        if kind == "title":
            sentences = [Sentence(unit[0].start, unit[0].end)]
            para_of = [unit[0].paragraph]
        else:
            sentences, para_of = [], []
            for block in unit:
                start = block.start
                number = _FOOTNOTE_NUMBER.match(document.text, start)
                if block.kind == "footnote" and block.paragraph == 1 and number:
                    start = number.end()  # quote "Lenin declared…", not "2 Lenin declared…"
                block_sentences = split_sentences(document.text, start, block.end)
                sentences += block_sentences
                para_of += [block.paragraph] * len(block_sentences)
        for first, last in _windows(sentences, settings):
            passages.append(_passage(document, unit[0], sentences[first : last + 1], para_of[first], para_of[last]))
    return _with_ids(passages)


def chunk_corpus(documents: list[Document], settings: ChunkSettings = ChunkSettings()) -> list[Passage]:
    return [p for doc in documents for p in chunk_document(doc, settings)]


def _units(blocks: tuple[Block, ...]) -> list[list[Block]]:
    """Runs of blocks a passage may span: one section, one footnote, or one title block."""

    def unit_key(block: Block) -> tuple[object, ...]:
        if block.kind == "title":
            return ("title", block.start)
        if block.kind == "footnote":
            return ("footnote", block.footnote)
        return (block.kind, block.section)

    return [list(group) for _, group in groupby(blocks, key=unit_key)]


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
        anchor_location=f"section {anchor.section}, paragraph {anchor.paragraph}" if anchor else None,
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
