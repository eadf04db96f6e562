"""Small real documents of every format qa reads, made by the libraries of their field inside the
tests (fpdf2 writes the PDF, python-docx the DOCX); shared by the format tests."""

from __future__ import annotations

from pathlib import Path

MARKDOWN = """---
title: Sourdough at Home
author: A. Baker
---

A starter is flour and water that **wild yeast** has colonised; see [the guide](https://example.com/guide.html).

## Hydration

Hydration is the ratio of water to flour. A *stiff* starter sits at 50 percent hydration.

### Feeding

Feed the starter twice a day with equal weights of flour and water.

- Rye flour makes the starter more active.
- Keep the jar at 24 degrees Celsius.

```python
def feed(starter):
    return starter * 2
```

| flour | water |
| --- | --- |
| 100 g | 75 g |

## Baking

Bake the loaf at 250 degrees for `twenty` minutes with the lid on.
"""

HTML = """<!doctype html>
<html><head><title>Kettles - Tea Site</title><style>p { color: green; }</style></head>
<body>
<header><a href="/">Tea Site</a><nav><a href="/">Home</a> <a href="/shop">Shop</a></nav></header>
<nav class="breadcrumbs"><a href="/">Home</a> &gt; Guides</nav>
<main>
<article>
<h1>Kettles</h1>
<p>A <em>gooseneck</em> kettle pours slowly &amp; precisely.</p>
<h2>Temperature</h2>
<p>Green tea wants water at 80 degrees Celsius.</p>
<ul><li>Black tea wants boiling water.</li><li>Oolong tea wants water at 90 degrees.</li></ul>
</article>
</main>
<div class="cookie-banner">We use cookies to improve your experience.</div>
<footer>Copyright 2026 Tea Site. Subscribe to our newsletter.</footer>
<script>var note = "Green tea";</script>
</body></html>
"""

RST = """==========
Beekeeping
==========

Bees make honey from the nectar of flowers.

Hives
=====

A hive holds exactly one queen.

* Drones do not sting.
* Worker bees live six weeks in summer.

::

    smoker = True
"""

PDF_PAGES = [
    [
        "The harbour authority reported its results for the year.",
        "Cargo volumes rose by a tenth over the previous year, driven by container traffic from the new "
        "eastern terminal, which opened in March and handled most of the growth.",
    ],
    [
        "Revenue in 2025 was 41 million euros.",
        "The board approved a dredging programme for the northern channel, to be finished by the end of 2027.",
    ],
]


def make_pdf(path: Path) -> Path:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_title("Harbour Report")
    pdf.set_font("Helvetica", size=11)
    for paragraphs in PDF_PAGES:
        pdf.add_page()
        for paragraph in paragraphs:
            pdf.multi_cell(0, 6, paragraph, new_x="LMARGIN", new_y="NEXT")
            pdf.ln(6)
    pdf.output(str(path))
    return path


def make_docx(path: Path) -> Path:
    import docx

    document = docx.Document()
    document.add_heading("Field Notes", 0)
    document.add_heading("Rivers", 1)
    document.add_paragraph("The Danube flows through ten countries before it reaches the Black Sea.")
    document.add_heading("Bridges", 2)
    document.add_paragraph("The Chain Bridge in Budapest opened in 1849.")
    document.add_paragraph("Cross it on foot at dusk.", style="List Bullet")
    table = document.add_table(rows=3, cols=2)
    for row, cells in zip(table.rows, [("bridge", "opened"), ("Chain Bridge", "1849"), ("Elisabeth Bridge", "1903")]):
        for cell, text in zip(row.cells, cells):
            cell.text = text
    document.save(str(path))
    return path


def make_corpus(directory: Path) -> Path:
    """One document of each format, and two files of types qa does not read."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "sourdough.md").write_text(MARKDOWN, encoding="utf-8")
    (directory / "kettles.html").write_text(HTML, encoding="utf-8")
    (directory / "bees.rst").write_text(RST, encoding="utf-8")
    make_pdf(directory / "harbour.pdf")
    make_docx(directory / "notes.docx")
    (directory / "photo.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(32))
    (directory / "budget.xlsx").write_bytes(b"PK\x03\x04 not really a spreadsheet")
    return directory
