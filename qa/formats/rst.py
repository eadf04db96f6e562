"""reStructuredText through docutils' own parser (no Sphinx, no file inclusion, no raw HTML).

Sections give the heading path (docutils promotes a lone top section to the document title);
paragraphs, list items, literal blocks and tables become pieces; comments, substitution
definitions and docutils' own messages are left out.
"""

from __future__ import annotations

from qa.formats import FormatError, Piece

_SETTINGS = {
    "report_level": 5,  # no system messages in the text, and none printed
    "halt_level": 5,
    "warning_stream": False,
    "file_insertion_enabled": False,  # a corpus file must not pull other files in
    "raw_enabled": False,
    "input_encoding": "unicode",
}


def read_rst(source: str) -> tuple[list[Piece], str | None]:
    from docutils import nodes
    from docutils.core import publish_doctree

    try:
        tree = publish_doctree(source, settings_overrides=_SETTINGS)
    except Exception as exc:  # noqa: BLE001 — docutils raises many kinds for broken markup
        raise FormatError(f"cannot parse reStructuredText ({type(exc).__name__})") from None
    pieces: list[Piece] = []
    title = None
    first = next(iter(tree.children), None)
    if isinstance(first, nodes.title):
        title = first.astext()
        pieces.append(Piece("title", title))

    skip = (nodes.comment, nodes.system_message, nodes.substitution_definition, nodes.target, nodes.docinfo)

    def walk(node, path: tuple[str, ...], in_item: bool) -> None:
        for child in node.children:
            if isinstance(child, skip) or (child is first and title is not None):
                continue
            if isinstance(child, nodes.section):
                heading = child.next_node(nodes.title)
                name = heading.astext() if heading is not None else ""
                inner = (*path, name) if name else path
                if name:
                    pieces.append(Piece("heading", name, inner))
                walk(child, inner, in_item)
            elif isinstance(child, nodes.title):
                continue  # a section's title, already the heading
            elif isinstance(child, nodes.paragraph):
                pieces.append(Piece("list item" if in_item else "paragraph", child.astext(), path))
            elif isinstance(child, nodes.literal_block):
                pieces.append(Piece("code", child.astext(), path))
            elif isinstance(child, nodes.table):
                pieces.append(Piece("table", _table_text(child), path))
            elif isinstance(child, nodes.list_item):
                walk(child, path, True)
            elif isinstance(child, nodes.Element):
                walk(child, path, in_item)

    walk(tree, (), False)
    return pieces, title


def _table_text(table) -> str:
    from docutils import nodes

    rows = []
    for row in table.findall(nodes.row):
        rows.append(" | ".join(" ".join(entry.astext().split()) for entry in row.children))
    return "\n".join(rows)
