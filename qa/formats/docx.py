"""Word documents (.docx) through python-docx, body paragraphs and tables in document order.

Paragraph styles carry the structure: "Title" is the title, "Heading N" a heading of level N,
"List …" styles (or numbered paragraphs) list items; tables are text, one line a row, cells
separated by " | " (a merged cell once).
"""

from __future__ import annotations

import io
import re

from qa.formats import FormatError, Piece

_HEADING = re.compile(r"Heading (\d)")


def read_docx(data: bytes) -> tuple[list[Piece], str | None]:
    try:
        import docx

        document = docx.Document(io.BytesIO(data))
        return _pieces(document)
    except FormatError:
        raise
    except Exception as exc:  # noqa: BLE001 — a broken zip, missing parts, bad XML: all one thing
        raise FormatError(f"not a readable DOCX ({type(exc).__name__})") from None


def _pieces(document) -> tuple[list[Piece], str | None]:
    from docx.table import Table

    title = (document.core_properties.title or "").strip() or None
    found_title = None
    path: list[tuple[int, str]] = []
    pieces: list[Piece] = []
    for block in document.iter_inner_content():
        names = tuple(text for _, text in path)
        if isinstance(block, Table):
            pieces.append(Piece("table", _table_text(block), names))
            continue
        text = block.text.strip()
        if not text:
            continue
        style = block.style.name if block.style is not None else ""
        heading = _HEADING.match(style)
        if style == "Title" and found_title is None:
            found_title = text
            pieces.append(Piece("title", text))
        elif heading:
            level = int(heading.group(1))
            path = [h for h in path if h[0] < level] + [(level, text)]
            pieces.append(Piece("heading", text, tuple(t for _, t in path)))
        elif style.startswith("List") or block._p.pPr is not None and block._p.pPr.numPr is not None:
            pieces.append(Piece("list item", text, names))
        else:
            pieces.append(Piece("paragraph", text, names))
    return pieces, found_title or title


def _table_text(table) -> str:
    rows = []
    for row in table.rows:
        cells, seen = [], set()
        for cell in row.cells:
            if id(cell._tc) in seen:  # a merged cell appears once per grid column it spans
                continue
            seen.add(id(cell._tc))
            cells.append(" ".join(cell.text.split()))
        if any(cells):
            rows.append(" | ".join(cells))
    return "\n".join(rows)
