"""PDF through pypdf: the text layer, page by page (a scanned PDF without one has no text).

pypdf gives each page's text as lines. Paragraphs are told apart by a blank line, or by a line
that ends a sentence and stops well short of the page's usual line length (the last line of a
paragraph); a paragraph never spans two pages, so every passage has one page number.
"""

from __future__ import annotations

import io
import re

from qa.formats import FormatError, Piece

_SENTENCE_END = re.compile(r"[.!?:;”\"')]\s*$")


def read_pdf(data: bytes) -> tuple[list[Piece], str | None]:
    import logging

    from pypdf import PdfReader
    from pypdf.errors import FileNotDecryptedError, PdfReadError

    logging.getLogger("pypdf").setLevel(logging.ERROR)  # its warnings about odd files are not ours
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            raise FormatError("encrypted PDF (it needs a password)")
        title = None
        if reader.metadata is not None and reader.metadata.title:
            title = " ".join(str(reader.metadata.title).split()) or None
        pieces: list[Piece] = []
        for number, page in enumerate(reader.pages, 1):
            text = page.extract_text() or ""
            for paragraph in paragraphs(text):
                pieces.append(Piece("paragraph", paragraph, page=number))
    except FormatError:
        raise
    except FileNotDecryptedError:
        raise FormatError("encrypted PDF (it needs a password)") from None
    except (PdfReadError, ValueError, KeyError, TypeError, OSError, AttributeError) as exc:
        raise FormatError(f"not a readable PDF ({type(exc).__name__}: {str(exc)[:80]})") from None
    except Exception as exc:  # noqa: BLE001 — pypdf's errors on damaged files are many and varied
        raise FormatError(f"not a readable PDF ({type(exc).__name__})") from None
    return pieces, title


def paragraphs(page_text: str) -> list[str]:
    """A page's lines grouped into paragraphs (each returned with its line breaks)."""
    lines = [line.rstrip() for line in page_text.replace("\r\n", "\n").split("\n")]
    widest = max((len(line) for line in lines), default=0)
    out: list[list[str]] = [[]]
    for line in lines:
        if not line.strip():
            if out[-1]:
                out.append([])
            continue
        out[-1].append(line.strip())
        if _SENTENCE_END.search(line) and len(line) < 0.8 * widest:
            out.append([])
    return ["\n".join(p) for p in out if p]
