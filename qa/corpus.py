"""Corpus ingestion: documents on disk → structured blocks with exact character offsets.

A document is a file of a type qa reads (``qa.formats``: plain text, Markdown, reStructuredText,
HTML, PDF, DOCX) in the corpus directory, optionally with a sidecar `<stem>.meta.json` holding
its metadata (title, author, translator, source, year, ...). Files of other types are listed
as skipped, never silently dropped.

Every offset here is a Python ``str`` index into ``document.text``, the text the reader saw: for
a ``.txt`` file the file's UTF-8 decoded text itself, so ``document.text[block.start:block.end]``
is exactly what the file says there; for other formats the extracted text, which
``document.offsets`` maps back onto the file (text formats) or not (binary ones). Structured
formats get their blocks from the structure their source states (headings, pages, list items,
tables, code). A plain text is never rewritten; ingestion only finds where things are:

* web boilerplate after the article ("About the Author", subscription text) is cut off;
* paragraphs are separated by one blank line, sections by two or more;
* leading heading-like paragraphs form the title block; when the document has more than one
  section, the rest of its first section is the front matter (the editor's introduction);
* trailing paragraphs numbered ``1 ...``, ``2 ...`` are footnotes, each linked to the place in
  the body that calls it (markers are glued to the text, as in "1950).1" or "in 19202");
* blank-line sections count only when they are sections (a few, of several paragraphs each):
  a text whose every paragraph stands between double blank lines has paragraphs, not sections.
"""

from __future__ import annotations

import hashlib
import json
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path

from qa import _interrupt
from qa.errors import CorpusError, CorpusWarning
from qa.formats import BINARY_FORMATS, DOCUMENT_SUFFIXES, PROSE_KINDS, FormatError, OffsetMap, extract, format_of, plain
from qa.formats.plain import Block, FootnoteAnchor

META_SUFFIX = ".meta.json"
NAME_TABLE = "names.json"  # the corpus's gazetteer (qa.names), not a document
_FILE_OFFSETS = OffsetMap("file", None)


@dataclass(frozen=True)
class Repair:
    """A word the scan split with a hyphen ("Kagano-vich" at ``text[start:end]``) and its joined
    form ("Kaganovich"). Repairs feed search only; citations always quote the original text."""

    start: int
    end: int
    joined: str


@dataclass(frozen=True)
class Document:
    doc_id: str
    path: Path
    text: str
    meta: dict[str, object]
    sha256: str
    body_end: int
    blocks: tuple[Block, ...]
    anchors: tuple[FootnoteAnchor, ...] = field(default=())
    repairs: tuple[Repair, ...] = field(default=())
    format: str = "plain"  # qa.formats.format_of: "plain", "markdown", "rst", "html", "pdf", "docx"
    offsets: OffsetMap = _FILE_OFFSETS  # what offsets into ``text`` refer to, and the way to the file

    @property
    def file(self) -> str:
        """The file's path in the corpus, for locations ("Hydration › Feeding, ¶1 (sourdough.md)")."""
        return self.doc_id + self.path.suffix

    def search_text(self, start: int, end: int) -> str:
        """``text[start:end]`` with split words joined: what gets embedded and BM25-indexed."""
        return apply_repairs(self.text, start, end, self.repairs)

    def anchor(self, footnote: int) -> FootnoteAnchor | None:
        return next((a for a in self.anchors if a.number == footnote), None)


def discover(corpus_dir: Path) -> list[Path]:
    """The document files of a corpus directory, in a stable order (hidden paths skipped)."""
    files, unsupported = _listing(corpus_dir)
    if not files:
        found = f"; {unsupported_summary(unsupported)}" if unsupported else ""
        raise CorpusError(
            f"no documents in corpus directory: {corpus_dir} (qa reads {', '.join(_SHOWN_SUFFIXES)}){found}"
        )
    return files


def unsupported_files(corpus_dir: Path) -> list[Path]:
    """Files of the corpus that are of no type qa reads (sidecars and the name table aside)."""
    return _listing(corpus_dir)[1]


def unsupported_summary(paths: list[Path]) -> str:
    """One line for skipped files: "skipped 3 files of unsupported types (.png, .xlsx)"."""
    kinds = sorted({p.suffix.lower() or "(no extension)" for p in paths})
    files = "file" if len(paths) == 1 else "files"
    return f"skipped {len(paths)} {files} of unsupported types ({', '.join(kinds)})"


_SHOWN_SUFFIXES = (".txt", ".md", ".markdown", ".rst", ".html", ".htm", ".pdf", ".docx")


def _listing(corpus_dir: Path) -> tuple[list[Path], list[Path]]:
    if not corpus_dir.exists():
        raise CorpusError(f"corpus directory not found: {corpus_dir}")
    if not corpus_dir.is_dir():
        raise CorpusError(f"corpus path is not a directory: {corpus_dir}")
    documents: list[Path] = []
    others: list[Path] = []
    try:
        for p in sorted(corpus_dir.rglob("*")):
            rel = p.relative_to(corpus_dir)
            if not p.is_file() or any(part.startswith(".") for part in rel.parts):
                continue
            if p.suffix.lower() in DOCUMENT_SUFFIXES:
                documents.append(p)
            elif not (p.name.endswith(META_SUFFIX) or rel.as_posix() == NAME_TABLE):
                others.append(p)
    except OSError as exc:
        raise CorpusError(f"cannot read corpus directory {corpus_dir}: {exc.strerror or exc}") from None
    return documents, others


def doc_id_for(path: Path, corpus_dir: Path) -> str:
    return path.relative_to(corpus_dir).with_suffix("").as_posix()


def meta_path_for(path: Path) -> Path:
    return path.with_name(path.stem + META_SUFFIX)


def corpus_fingerprint(corpus_dir: Path) -> tuple[str, list[dict[str, object]]]:
    """A hash over every document and sidecar (names and bytes), plus a per-file listing."""
    overall = hashlib.sha256()
    listing: list[dict[str, object]] = []
    for path in discover(corpus_dir):
        sidecar = meta_path_for(path)
        for part in (path, sidecar) if sidecar.exists() else (path,):
            data = _read_bytes(part)
            digest = hashlib.sha256(data).hexdigest()
            rel = part.relative_to(corpus_dir).as_posix()
            overall.update(f"{rel}\0{digest}\n".encode())
            listing.append({"path": rel, "sha256": digest, "bytes": len(data)})
    return overall.hexdigest(), listing


@dataclass(frozen=True)
class Skipped:
    """A document file left out of the index, and why."""

    file: str  # relative to the corpus directory
    reason: str


class EmptyDocument(CorpusError):
    """A document with no text (empty, or only white space), or one its format's reader cannot
    read (a corrupt or encrypted PDF, a broken DOCX): skipped, not a corpus error."""


def load_corpus(corpus_dir: Path) -> list[Document]:
    return read_corpus(corpus_dir)[0]


def read_corpus(corpus_dir: Path) -> tuple[list[Document], list[Skipped]]:
    """The corpus's documents, and the files skipped: those without text or that their reader
    cannot read (each also a ``CorpusWarning``: one empty file should not make a whole corpus
    unusable), and those of unsupported types (one ``CorpusWarning`` for them all)."""
    documents: list[Document] = []
    skipped: list[Skipped] = []
    paths = discover(corpus_dir)
    if others := unsupported_files(corpus_dir):
        skipped += [Skipped(p.relative_to(corpus_dir).as_posix(), "unsupported type") for p in others]
        warnings.warn(f"{corpus_dir}: {unsupported_summary(others)}", CorpusWarning, stacklevel=2)
    for path in paths:
        try:
            documents.append(load_document(path, corpus_dir))
        except EmptyDocument as exc:
            skipped.append(Skipped(path.relative_to(corpus_dir).as_posix(), str(exc)))
            warnings.warn(f"{path}: {exc}, skipped", CorpusWarning, stacklevel=2)
    if not documents:
        raise CorpusError(f"no document in corpus directory {corpus_dir} has any text")
    ids = [d.doc_id for d in documents]
    if clash := next((i for i in ids if ids.count(i) > 1), None):
        files = [d.path.name for d in documents if d.doc_id == clash]
        raise CorpusError(f"two documents would both be called {clash!r} ({' and '.join(files)}); rename one")
    return documents, skipped


def load_document(path: Path, corpus_dir: Path) -> Document:
    data = _read_bytes(path)
    kind = format_of(path) or "plain"
    if kind in BINARY_FORMATS:
        if not data:
            raise EmptyDocument("empty document")
        return _structured(path, corpus_dir, data, kind, None)
    try:
        # Not read_text(): universal-newline translation would shift offsets on CRLF files.
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CorpusError(f"{path}: not UTF-8 text (byte {exc.start})") from None
    if "\x00" in text:
        raise CorpusError(f"{path}: looks binary (contains NUL bytes)")
    if not text.strip():
        raise EmptyDocument("empty document" if not text else "only white space")
    if kind != "plain":
        return _structured(path, corpus_dir, data, kind, text)
    meta = _load_meta(path)
    end = plain.body_end(text, meta)
    spans = plain.paragraphs(text, end)
    if not spans:
        raise EmptyDocument("no text before its boilerplate")
    body, footnotes = plain.split_footnotes(text, spans)
    blocks, where = plain.label_body(text, body)
    anchors = plain.find_anchors(text, body, where, [number for number, _ in footnotes])
    if len(anchors) < len(footnotes):
        # Numbered trailing paragraphs that nothing calls are ordinary paragraphs.
        blocks, where = plain.label_body(text, spans)
        anchors, footnotes = [], []
    for number, footnote_spans in footnotes:
        for i, (start, stop) in enumerate(footnote_spans, 1):
            anchor = anchors[number - 1]
            blocks.append(Block("footnote", start, stop, anchor.section, i, footnote=number))
    return Document(
        doc_id=doc_id_for(path, corpus_dir),
        path=path,
        text=text,
        meta=meta,
        sha256=hashlib.sha256(data).hexdigest(),
        body_end=end,
        blocks=tuple(blocks),
        anchors=tuple(anchors),
        repairs=find_repairs(text, end),
    )


def _structured(path: Path, corpus_dir: Path, data: bytes, kind: str, source: str | None) -> Document:
    """A document read by its format's reader: blocks from the structure the source states."""
    try:
        extracted = extract(kind, data, source)
    except FormatError as exc:
        _interrupt.reraise_if_received(exc)  # a Ctrl-C in a parser is not a broken document
        raise EmptyDocument(str(exc)) from None
    if not extracted.text.strip():
        raise EmptyDocument("no text layer (a scanned PDF?)" if kind == "pdf" else "no text")
    meta = _load_meta(path)
    if not meta_path_for(path).exists() and extracted.title:
        meta = {**meta, "title": extracted.title}
    blocks: list[Block] = []
    section, counts, where = 0, {}, None
    for span in extracted.spans:
        if span.kind == "title":
            blocks.append(Block("title", span.start, span.end, 0, 1))
            continue
        if (span.heading, span.page) != where:  # a new heading, or a new page
            section, counts, where = section + 1, {}, (span.heading, span.page)
        counter = "paragraph" if span.kind in PROSE_KINDS else span.kind
        counts[counter] = counts.get(counter, 0) + 1
        blocks.append(Block(span.kind, span.start, span.end, section, counts[counter], None, span.heading, span.page))
    text = extracted.text
    return Document(
        doc_id=doc_id_for(path, corpus_dir),
        path=path,
        text=text,
        meta=meta,
        sha256=hashlib.sha256(data).hexdigest(),
        body_end=len(text),
        blocks=tuple(blocks),
        repairs=find_repairs(text, len(text)),
        format=kind,
        offsets=extracted.offsets,
    )


_SPLIT_WORD = re.compile(r"\b([A-Za-z]+)-([a-z]+)\b")
_LETTERS = re.compile(r"[A-Za-z]+")


def find_repairs(text: str, body_end: int) -> tuple[Repair, ...]:
    """Hyphenated words whose joined form the document also uses: line-break hyphens the scan
    kept ("Kagano-vich" beside "Kaganovich"). Real compounds ("one-party") are left alone."""
    body = text[:body_end]
    vocabulary = {word.lower() for word in _LETTERS.findall(body)}
    return tuple(
        Repair(m.start(), m.end(), m[1] + m[2])
        for m in _SPLIT_WORD.finditer(body)
        if (m[1] + m[2]).lower() in vocabulary
    )


def apply_repairs(text: str, start: int, end: int, repairs: tuple[Repair, ...] | list[Repair]) -> str:
    """``text[start:end]`` with every repair that lies wholly inside it applied."""
    pieces, at = [], start
    for repair in repairs:
        if start <= repair.start and repair.end <= end:
            pieces += [text[at : repair.start], repair.joined]
            at = repair.end
    pieces.append(text[at:end])
    return "".join(pieces)


def _read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise CorpusError(f"cannot read {path}: {exc.strerror or exc}") from None


def _load_meta(path: Path) -> dict[str, object]:
    sidecar = meta_path_for(path)
    if not sidecar.exists():
        return {"title": path.stem}
    try:
        meta = json.loads(_read_bytes(sidecar).decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CorpusError(f"{sidecar}: invalid JSON metadata ({exc})") from None
    if not isinstance(meta, dict):
        raise CorpusError(f"{sidecar}: metadata must be a JSON object")
    return meta
