"""HTML through selectolax's Lexbor parser: the page's main content, boilerplate removed.

The main content is ``<main>``, else the (largest) ``<article>``, else ``<body>``; navigation,
headers and footers, sidebars, forms, scripts and anything whose class, id or role says menu,
cookie banner, share bar, breadcrumbs and the like are removed first. Headings, paragraphs,
list items, ``<pre>`` and tables become pieces; text is white-space collapsed, as a browser
shows it.
"""

from __future__ import annotations

import re

from qa.formats import FormatError, Piece, collapse

_DROP = "script, style, noscript, template, nav, aside, footer, form, iframe, svg, button, select, object"
_BOILERPLATE = re.compile(
    r"\b(?:nav|navbar|navigation|menu|breadcrumbs?|sidebar|footer|cookies?|consent|banner|share|social"
    r"|related|advert|ads|newsletter|subscribe|skip-link)\b",
    re.IGNORECASE,
)
_HEADINGS = {f"h{n}": n for n in range(1, 7)}
_BLOCKS = {"p", "li", "pre", "table", "ul", "ol", "dl", "dt", "dd", "div", "section", "article", "main",
           "blockquote", "figure", "figcaption", "header", "hr", *_HEADINGS}
# Masked for alignment: tags, comments, and the text of elements a reader never shows.
_MARKUP = re.compile(
    r"<!--.*?-->|<(script|style|noscript|template|head)\b.*?</\1\s*>|<[^>]*>", re.IGNORECASE | re.DOTALL
)


def read_html(source: str) -> tuple[list[Piece], str | None]:
    from selectolax.lexbor import LexborHTMLParser

    try:
        tree = LexborHTMLParser(source)
    except Exception as exc:  # noqa: BLE001
        raise FormatError(f"cannot parse HTML ({exc})") from None
    page_title = tree.css_first("title")
    for node in tree.css(_DROP):
        node.decompose()
    for node in tree.css("[class], [id], [role]"):
        attrs = node.attributes
        label = " ".join(str(attrs.get(a) or "") for a in ("class", "id", "role"))
        if _BOILERPLATE.search(label) and node.tag not in ("html", "body", "main", "article"):
            if node.css_first("main, article, h1") is None:  # "page with-sidebar" may hold the article
                node.decompose()
    for header in tree.css("header"):
        if header.css_first("h1, h2, h3") is None:  # a site header, not an article's own
            header.decompose()
    articles = tree.css("article")
    root = tree.css_first("main") or (max(articles, key=lambda a: len(a.text())) if articles else None) or tree.body
    if root is None:
        return [], None
    pieces: list[Piece] = []
    state = {"path": [], "title": None}
    _walk(root, pieces, state, False)
    title = state["title"] or (collapse(page_title.text()) if page_title is not None else None) or None
    return pieces, title


def mask_markup(source: str) -> str:
    """The source with markup blanked out (same length, same offsets), for alignment: words in
    tags, attributes and scripts must not be taken for the text."""
    return _MARKUP.sub(lambda m: "\x00" * len(m.group()), source)


def _walk(node, pieces: list[Piece], state: dict, in_item: bool) -> None:
    inline: list[str] = []

    def flush() -> None:
        text = collapse("".join(inline))
        inline.clear()
        if text:
            path = tuple(t for _, t in state["path"])
            pieces.append(Piece("list item" if in_item else "paragraph", text, path))

    for child in node.iter(include_text=True):
        tag = child.tag
        if tag == "-text":
            inline.append(child.text(deep=False))
            continue
        if tag not in _BLOCKS:
            inline.append(" " if tag == "br" else child.text(deep=True))
            continue
        flush()
        path = tuple(t for _, t in state["path"])
        if tag in _HEADINGS:
            level, text = _HEADINGS[tag], collapse(child.text())
            if not text:
                continue
            if level == 1 and state["title"] is None and not pieces:
                state["title"] = text
                pieces.append(Piece("title", text))
            else:
                state["path"] = [h for h in state["path"] if h[0] < level] + [(level, text)]
                pieces.append(Piece("heading", text, tuple(t for _, t in state["path"])))
        elif tag == "pre":
            pieces.append(Piece("code", child.text(deep=True), path))
        elif tag == "table":
            rows = [
                " | ".join(collapse(cell.text()) for cell in row.css("th, td"))
                for row in child.css("tr")
            ]
            pieces.append(Piece("table", "\n".join(r for r in rows if r.strip(" |")), path))
        elif tag in ("li", "dd", "dt"):
            _walk(child, pieces, state, True)
        elif tag != "hr":
            _walk(child, pieces, state, in_item)
    flush()
