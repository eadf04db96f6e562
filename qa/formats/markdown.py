"""Markdown (CommonMark + tables + YAML front matter) through markdown-it-py.

Headings become the heading path (a first ``#`` heading, or the front matter's ``title``, is
the document title); paragraphs, list items, fenced or indented code and tables are pieces of
their own; inline markup (emphasis, links, code spans, HTML) is dropped, its text kept.
"""

from __future__ import annotations

import re

from qa.formats import FormatError, Piece

_LINE = re.compile(r"[^\n]*\n|[^\n]+$")


def read_markdown(source: str) -> tuple[list[Piece], str | None]:
    from markdown_it import MarkdownIt
    from mdit_py_plugins.front_matter import front_matter_plugin

    try:
        tokens = MarkdownIt("commonmark").use(front_matter_plugin).enable("table").parse(source)
    except Exception as exc:  # noqa: BLE001 — markdown-it accepts any text; this is a safety net
        raise FormatError(f"cannot parse Markdown ({exc})") from None
    lines = [0] + [m.end() for m in _LINE.finditer(source)]

    def region(token) -> tuple[int, int] | None:  # the source lines a block token covers
        if token.map is None:
            return None
        first, last = token.map
        return lines[min(first, len(lines) - 1)], lines[min(last, len(lines) - 1)]

    pieces: list[Piece] = []
    title: str | None = None
    path: list[tuple[int, str]] = []  # (level, text) of the headings above
    in_item = 0
    i = 0
    while i < len(tokens):
        token = tokens[i]
        kind = token.type
        if kind == "front_matter":
            found = _front_matter_title(token.content)
            if found:
                title = found
                pieces.append(Piece("title", found, source=region(token)))
        elif kind == "heading_open":
            level, text = int(token.tag[1]), inline_text(tokens[i + 1])
            if level == 1 and title is None and not path and not _has_prose(pieces):
                title = text
                pieces.append(Piece("title", text, source=region(token)))
            else:
                path = [h for h in path if h[0] < level] + [(level, text)]
                pieces.append(Piece("heading", text, _names(path), source=region(token)))
            i += 2
        elif kind == "list_item_open":
            in_item += 1
        elif kind == "list_item_close":
            in_item -= 1
        elif kind == "paragraph_open":
            text = inline_text(tokens[i + 1])
            pieces.append(Piece("list item" if in_item else "paragraph", text, _names(path), source=region(token)))
            i += 2
        elif kind in ("fence", "code_block"):
            pieces.append(Piece("code", token.content, _names(path), source=region(token)))
        elif kind == "table_open":
            close = next(j for j in range(i, len(tokens)) if tokens[j].type == "table_close")
            pieces.append(Piece("table", _table_text(tokens[i:close]), _names(path), source=region(token)))
            i = close
        i += 1
    return pieces, title


def inline_text(token) -> str:
    """An inline token's text with its markup dropped: what a reader of the page sees."""
    out: list[str] = []
    for child in token.children or ():
        if child.type in ("text", "code_inline"):
            out.append(child.content)
        elif child.type in ("softbreak", "hardbreak"):
            out.append("\n")
        elif child.type == "image":
            out.append(inline_text(child))  # its alt text
    return "".join(out).strip()


def _table_text(tokens) -> str:
    """A table as text: one line a row, cells separated by " | "."""
    rows: list[list[str]] = []
    for token in tokens:
        if token.type == "tr_open":
            rows.append([])
        elif token.type == "inline" and rows:
            rows[-1].append(inline_text(token))
    return "\n".join(" | ".join(cells) for cells in rows if any(cells))


def _front_matter_title(content: str) -> str | None:
    import yaml

    try:
        data = yaml.safe_load(content)
    except yaml.YAMLError:
        return None  # unreadable front matter is metadata we do without, not an error
    title = data.get("title") if isinstance(data, dict) else None
    return str(title).strip() or None if title is not None else None


def _has_prose(pieces: list[Piece]) -> bool:
    return any(p.kind != "title" for p in pieces)


def _names(path: list[tuple[int, str]]) -> tuple[str, ...]:
    return tuple(text for _, text in path)
