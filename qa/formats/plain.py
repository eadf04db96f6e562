"""Plain text (.txt): paragraphs, sections and footnotes found in the text as it stands.

The blocks of a plain text are found by its layout, never by rewriting it: paragraphs are
separated by one blank line, sections by two or more (when they are sections: see
``_real_sections``); leading heading-like paragraphs form the title block, and the rest of a
sectioned text's first section its introduction; trailing paragraphs numbered ``1 ...``,
``2 ...`` are footnotes, each linked to the place in the body that calls it. ``Block`` and
``FootnoteAnchor`` are the document model's blocks for every format (``qa.corpus``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# A line that starts the site chrome appended to scraped articles. A sidecar's
# "boilerplate_starts_at" names the exact line for its document.
_BOILERPLATE_LINES = re.compile(
    r"^(?:About the Author|Pin It on Pinterest|Share this article|Related Articles?"
    r"|Welcome to .{1,60}\.|Subscribe today.*)[ \t]*\r?$",
    re.MULTILINE,
)
# Blank lines between paragraphs; two or more blank lines (3+ newlines) break a section.
_PARAGRAPH_BREAK = re.compile(r"(?:[ \t]*\r?\n){2,}")
_FOOTNOTE_START = re.compile(r"(\d{1,2})[ \t]+(?=[A-Z“\"‘'(])")
_YEAR = r"(?:1[0-9]{3}|20[0-9]{2})"


@dataclass(frozen=True)
class Block:
    """A paragraph-level span of a document.

    ``kind`` is "title", "introduction", "paragraph" or "footnote" in a plain text, and "title",
    "heading", "paragraph", "list item", "table" or "code" in a structured one. In a plain text
    sections are numbered from 1 in the body; the front matter (title block and introduction) is
    section 0, and so is the whole body of a text without sections. In a structured document a
    section is the stretch under one heading (or on one PDF page), numbered in order.
    ``paragraph`` is 1-based within its section (or footnote); paragraphs and list items are
    counted together, tables and code blocks each on their own. ``heading`` is the path of
    headings above the block; ``page`` its PDF page.
    """

    kind: str
    start: int
    end: int
    section: int
    paragraph: int
    footnote: int | None = None
    heading: tuple[str, ...] = ()
    page: int | None = None


@dataclass(frozen=True)
class FootnoteAnchor:
    """Where the body calls footnote ``number``: the marker digits' span and its paragraph."""

    number: int
    start: int
    end: int
    section: int
    paragraph: int


def body_end(text: str, meta: dict[str, object]) -> int:
    """Where the document proper ends: before the first line of trailing web boilerplate."""
    marker = meta.get("boilerplate_starts_at")
    if isinstance(marker, str) and marker:
        found = re.search(rf"^{re.escape(marker)}[ \t]*\r?$", text, re.MULTILINE)
        end = found.start() if found else len(text)
    else:
        # Only trust a generic marker in the back half, so a heading early on never cuts a text.
        found = next((m for m in _BOILERPLATE_LINES.finditer(text) if m.start() > len(text) // 2), None)
        end = found.start() if found else len(text)
    return len(text[:end].rstrip())


def paragraphs(text: str, body_end: int) -> list[tuple[int, int, bool]]:
    """(start, end, starts_new_section) for every paragraph, trimmed of surrounding blanks."""
    out: list[tuple[int, int, bool]] = []
    pos, new_section = 0, True
    breaks = list(_PARAGRAPH_BREAK.finditer(text, 0, body_end))
    for brk in [*breaks, None]:
        seg_end = brk.start() if brk else body_end
        raw = text[pos:seg_end]
        if raw.strip():
            start = pos + (len(raw) - len(raw.lstrip()))
            end = pos + len(raw.rstrip())
            out.append((start, end, new_section))
            new_section = False
        if brk:
            new_section = new_section or brk.group().count("\n") >= 3
            pos = brk.end()
    return out


def split_footnotes(
    text: str, paragraphs: list[tuple[int, int, bool]]
) -> tuple[list[tuple[int, int, bool]], list[tuple[int, list[tuple[int, int]]]]]:
    """Separate trailing numbered footnotes (1, 2, ... in order) from the body paragraphs."""
    first = next(
        (
            i
            for i, (start, _, _) in enumerate(paragraphs)
            if i > 0 and _footnote_number(text, start) == 1
        ),
        None,
    )
    if first is None:
        return paragraphs, []
    footnotes: list[tuple[int, list[tuple[int, int]]]] = []
    for start, end, _ in paragraphs[first:]:
        number = _footnote_number(text, start)
        if number == len(footnotes) + 1:
            footnotes.append((number, [(start, end)]))
        else:
            footnotes[-1][1].append((start, end))  # a footnote's continuation paragraph
    return paragraphs[:first], footnotes


def _footnote_number(text: str, start: int) -> int | None:
    match = _FOOTNOTE_START.match(text, start)
    return int(match.group(1)) if match else None


def _is_heading(text: str, start: int, end: int) -> bool:
    chunk = text[start:end]
    return len(chunk.split()) <= 16 and not chunk.rstrip().endswith((".", "?", "!", "”", '"'))


def label_body(
    text: str, paragraphs: list[tuple[int, int, bool]]
) -> tuple[list[Block], list[tuple[int, int, int, int]]]:
    """Blocks for the body, and (start, end, section, paragraph) for locating anchors."""
    sections: list[list[tuple[int, int]]] = []
    for start, end, new_section in paragraphs:
        if new_section or not sections:
            sections.append([])
        sections[-1].append((start, end))
    if not _real_sections(sections):
        sections = [[span for spans in sections for span in spans]]
    has_title = bool(sections) and _is_heading(text, *sections[0][0])
    front_matter = has_title and len(sections) > 1
    blocks: list[Block] = []
    where: list[tuple[int, int, int, int]] = []
    for s_index, spans in enumerate(sections):
        section = s_index if front_matter else s_index + 1 if len(sections) > 1 else 0
        in_title = s_index == 0 and has_title
        numbering: dict[str, int] = {}  # paragraphs are counted per kind: title lines, then text
        for start, end in spans:
            in_title = in_title and _is_heading(text, start, end)
            if in_title:
                kind = "title"
            elif front_matter and s_index == 0:
                kind = "introduction"
            else:
                kind = "paragraph"
            numbering[kind] = numbering.get(kind, 0) + 1
            blocks.append(Block(kind, start, end, section, numbering[kind]))
            where.append((start, end, section, numbering[kind]))
    return blocks, where


def _real_sections(sections: list[list[tuple[int, int]]]) -> bool:
    """Whether blank-line sections are sections: more than one, of two paragraphs each on
    average (the article: 12 sections, 53 paragraphs). Otherwise the double blank lines are
    just how the text spaces its paragraphs, and numbering them "section 3137" says nothing."""
    paragraphs = sum(len(spans) for spans in sections)
    return len(sections) > 1 and paragraphs >= 2 * len(sections)


def find_anchors(
    text: str,
    body: list[tuple[int, int, bool]],
    where: list[tuple[int, int, int, int]],
    numbers: list[int],
) -> list[FootnoteAnchor]:
    """Find each footnote's call in the body, in order: a marker glued to a word or to a year."""
    anchors: list[FootnoteAnchor] = []
    cursor = body[0][0] if body else 0
    for number in numbers:
        n = re.escape(str(number))
        pattern = re.compile(
            rf"(?<=[A-Za-z.,;:)”’\"'!?])(?P<m>{n})(?=\s|$)"  # "1950).1", "Europe,2"
            rf"|(?<=\b{_YEAR})(?P<y>{n})\b"  # "in 19202": year 1920, footnote 2
        )
        hit = None
        for start, end, section, paragraph in where:
            if end <= cursor:
                continue
            hit = pattern.search(text, max(start, cursor), end)
            if hit:
                anchors.append(FootnoteAnchor(number, hit.start(), hit.end(), section, paragraph))
                cursor = hit.end()
                break
        if hit is None:
            break
    return anchors
