"""The library's front door: ``Assistant.load().ask(question)``.

The assistant wires the stages together — a fresh index, the question encoder, retrieval,
answering — and measures each stage. It holds no state between questions; a
``Conversation`` (``assistant.conversation()``) carries context from one question to the next.
"""

from __future__ import annotations

import re
import time
import unicodedata
from dataclasses import replace
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from qa import index as index_store
from qa import names
from qa.answer import Answer
from qa.config import default_corpus_dir, default_index_dir
from qa.corpus import apply_repairs
from qa.errors import UsageError
from qa.extract import Calibration, read_answer
from qa.index import Index, IndexSettings, Progress
from qa.index.artifacts import unique_sentences
from qa.names import NameMatcher, load_table
from qa.retrieval import RETRIEVERS, Hit, retrieve

if TYPE_CHECKING:
    from qa.conversation import Conversation
    from qa.reader import ExtractiveReader
    from qa.rules import Reader

MAX_QUESTION_CHARS = 2000
# Terminal escape sequences (ECMA-48), removed whole: dropping only the ESC byte would leave
# "[31m" in the question. CSI (colours, cursor moves, 7- or 8-bit), OSC (titles, links: to BEL
# or ST), DCS/SOS/PM/APC strings (to ST), and two-byte escapes.
_ESCAPE_SEQUENCE = re.compile(
    r"(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]"
    r"|(?:\x1b\]|\x9d)[^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?"
    r"|(?:\x1b[PX^_]|[\x90\x98\x9e\x9f])[^\x1b\x9c]*(?:\x1b\\|\x9c)?"
    r"|\x1b[ -/]*[0-~]"
)


READERS = ("model", "rules")


class Assistant:
    def __init__(self, index: Index, names: NameMatcher | None = None, reader: str = "model") -> None:
        if reader not in READERS:
            raise UsageError(f"unknown reader {reader!r}; choose one of {', '.join(READERS)}")
        self.index = index
        self.names = names or NameMatcher(_search_texts(index), [], index.vocabulary)
        self.reader_name = reader
        # The trained model reads by default; the rule reader is kept for comparison (README,
        # Benchmarks) and its tables are built only when it is asked for (they cost start-up).
        self.reader: Reader | None = None
        self.model: ExtractiveReader | None = None
        self.calibration: Calibration | None = None
        if reader == "model":
            from qa.reader import shipped_reader

            self.model = shipped_reader()
            self.calibration = Calibration.load(self.model.directory / "calibration.json")
        else:
            from qa.rules import Reader  # the rule reader's modules load only when it reads

            self.reader = Reader.build(
                unique_sentences(index.passages), index.encoder.encode, index.documents, index.repairs,
                self.names.entities,
            )

    @classmethod
    def load(
        cls,
        corpus_dir: Path | str | None = None,
        index_dir: Path | str | None = None,
        *,
        rebuild: bool = True,
        force_rebuild: bool = False,
        on_progress: Progress | None = None,
        reader: str = "model",
    ) -> Assistant:
        """Open the index of ``corpus_dir`` (default: ``qa.config.default_corpus_dir``), building
        or rebuilding it first when it is missing, stale or damaged, unless ``rebuild`` is False
        (then ``IndexError_``); ``force_rebuild`` builds it afresh, even over an index built from
        another corpus (otherwise ``IndexLocationError``). Safe while other processes build the
        same index."""
        corpus = Path(corpus_dir) if corpus_dir else default_corpus_dir()
        location = Path(index_dir) if index_dir else default_index_dir(corpus)
        index = index_store.open_index(
            corpus, location, IndexSettings(), rebuild=rebuild, force_rebuild=force_rebuild, on_progress=on_progress
        )
        return cls(index, NameMatcher(_search_texts(index), load_table(corpus), index.vocabulary), reader=reader)

    def conversation(self) -> Conversation:
        """A new conversation over this assistant: follow-up questions in context."""
        from qa.conversation import Conversation

        return Conversation(self)

    def ask(
        self, question: str, *, k: int = 5, retriever: str = "hybrid", prefer_doc: str | None = None,
        avoid: Sequence[str] = (),
    ) -> Answer:
        """Answer ``question`` from the corpus; ``prefer_doc`` ranks that document's passages
        first (a conversation's follow-ups stay in the document it has settled on); the trained
        reader answers with no span overlapping a text of ``avoid`` (a conversation's earlier answers,
        for "Who else …?")."""
        question = clean_question(question)
        if retriever not in RETRIEVERS:
            raise UsageError(f"unknown retriever {retriever!r}; choose one of {', '.join(RETRIEVERS)}")
        timings: dict[str, float] = {}
        started = time.perf_counter()
        matches, vector, hits = self._search(question, k, retriever, timings, prefer_doc)
        mark = time.perf_counter()
        if self.model is not None and self.calibration is not None:
            result = read_answer(
                names.rewrite(question, matches), hits, self.model, self.calibration,
                self.index.documents, self.index.repairs, tuple(avoid),
            )
        else:
            result = self._read_by_rules(question, matches, vector, hits, k, retriever)
        canonical = None if result.answer is None else self.names.canonical(result.answer)
        result = self._in_files(result)
        timings["answer"] = _ms_since(mark)
        timings["total"] = _ms_since(started)
        return replace(
            result, question=question, answer_canonical=canonical, names=tuple(matches), timings_ms=timings
        )

    def _in_files(self, result: Answer) -> Answer:
        """Say what each offset refers to, and place the answer and quotes in the files
        themselves where a structured document's text was extracted from a text format."""
        offsets = self.index.offsets
        citations = []
        for c in result.citations:
            mapping = offsets.get(c.doc)
            span = mapping.file_span(c.start, c.end) if mapping else (c.start, c.end)
            kind = mapping.refers_to if mapping else "file"
            citations.append(replace(c, offsets=kind, file_start=span and span[0], file_end=span and span[1]))
        result = replace(result, citations=citations)
        if result.answer_doc is None or result.answer_start is None or result.answer_end is None:
            return result
        mapping = offsets.get(result.answer_doc)
        span = mapping.file_span(result.answer_start, result.answer_end) if mapping else None
        return replace(
            result,
            answer_offsets=mapping.refers_to if mapping else "file",
            answer_file_start=span[0] if span else None,
            answer_file_end=span[1] if span else None,
        )

    def _read_by_rules(
        self, question: str, matches: list[names.NameMatch], vector: np.ndarray, hits: list[Hit], k: int,
        retriever: str,
    ) -> Answer:
        from qa.rules import answer_question
        from qa.rules import description as reader_description

        assert self.reader is not None  # built for reader="rules"
        result = answer_question(names.rewrite(question, matches), vector, hits, self.reader)
        if described := reader_description(question):
            second = self._two_steps(question, described, matches, k, retriever)
            if second is not None and _evidence(second) >= _evidence(result):
                result = second
        return result


    def _search(
        self, text: str, k: int, retriever: str, timings: dict[str, float] | None = None,
        prefer_doc: str | None = None,
    ) -> tuple[list[names.NameMatch], np.ndarray, list[Hit]]:
        """Retrieve for ``text`` with its names in the corpus's spellings: the matches, the
        embedded query and the hits (timing the embedding and the retrieval into ``timings``)."""
        started = time.perf_counter()
        matches = self.names.match(text)  # the corpus's spelling of the names asked about
        vector = self.index.encoder.encode([names.dense_query(text, matches)])[0]
        mark = time.perf_counter()
        hits = retrieve(
            self.index, names.lexical_query(text, matches), vector, k=k, method=retriever, prefer_doc=prefer_doc
        )
        if timings is not None:
            timings["embed"] = round((mark - started) * 1000, 2)
            timings["retrieve"] = _ms_since(mark)
        return matches, vector, hits

    def _two_steps(
        self, question: str, described: str, matches: list[names.NameMatch], k: int, retriever: str
    ) -> Answer | None:
        """A question that names someone by description: find whom it describes first, then
        ask about them; both sentences are cited (a multi-passage answer)."""
        from qa.rules import answer_question, bridge, resolve_description

        assert self.reader is not None  # only the rule reader answers in two steps
        # The description's names are matched on the description itself: ``matches`` hold
        # offsets into the whole question.
        described_matches, vector, hits = self._search(described, k, retriever)
        described = names.rewrite(described, described_matches)
        found = bridge(described, vector, hits, self.reader)
        if found is None:
            return None
        name, link = found
        second = resolve_description(names.rewrite(question, matches), described, name, link.quote)
        _, vector, hits = self._search(second, k, retriever)
        result = answer_question(second, vector, hits, self.reader)
        if result.abstained or any(c.start == link.start and c.doc == link.doc for c in result.citations):
            return result
        return replace(result, citations=[*result.citations, link])


def _evidence(answer: Answer) -> float:
    """How well an answer's own evidence covers its question (uncalibrated, for comparing two)."""
    return answer.features.get("coverage", 0.0) + answer.features.get("clause", 0.0)


def clean_question(question: str) -> str:
    """Normalise white space, drop escape sequences and control characters; reject what cannot
    be a question."""
    if not isinstance(question, str):
        raise UsageError("the question must be text")
    if len(question) > 50 * MAX_QUESTION_CHARS:  # hopeless: say so without scanning it all
        raise UsageError(f"the question is too long ({len(question)} characters; the limit is {MAX_QUESTION_CHARS})")
    text = _ESCAPE_SEQUENCE.sub("", question)
    text = "".join(" " if unicodedata.category(c).startswith("C") else c for c in text)
    text = " ".join(text.split())
    if not text:
        raise UsageError("the question is empty")
    if len(text) > MAX_QUESTION_CHARS:
        raise UsageError(f"the question is too long ({len(text)} characters; the limit is {MAX_QUESTION_CHARS})")
    return text


def _search_texts(index: Index) -> Iterator[str]:
    """The documents as search sees them (split words joined), made only if the name finder
    asks (it has the index's vocabulary, and needs the texts only to check a names table)."""
    return (apply_repairs(text, 0, len(text), index.repairs.get(doc, ())) for doc, text in index.documents.items())


def _ms_since(mark: float) -> float:
    return round((time.perf_counter() - mark) * 1000, 2)
