"""Answers as the assistant returns them: ``Answer`` and ``Citation`` (plain records that
rendering, evaluation and conversations share), the answer type a question asks for
(``classify``), the abstention, and the check that a citation is the corpus text at its offsets.

The readers that produce answers are ``qa.extract`` (the trained model, the default) and
``qa.rules`` (the earlier rule reader, ``--reader rules``)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from qa.errors import QAError
from qa.names import NameMatch
from qa.retrieval import Hit

ANSWER_TYPES = ("person", "date", "place", "number", "organisation", "work", "post", "reason", "other")
QUESTION_WORDS = {"who", "whom", "whose", "what", "which", "when", "where", "why", "how", "did", "does", "do"}
_PERSON_NOUNS = ("person|man|woman|men|leader|leaders|official|minister|diplomat|ambassador|correspondent|agent|"
                 "intermediary|marshal|colonel|premier|member|members|observer|representative|commissar|"
                 "general|politician|statesman|envoy|advisor|adviser|counselor|secretary|dictator|figure|"
                 "people|chief|head|successor|rival|deputy")
_PLACE_NOUNS = "venue|venues|city|cities|country|countries|place|places|town|capital|region|regions|territory|territories|area|state|states|nation|nations|continent|frontier"
_ORG_NOUNS = "organization|organisation|body|party|committee|council|ministry|department|office|institution|agency|conference|bureau|publisher|branch"
_WORK_NOUNS = "book|newspaper|paper|magazine|journal|title|publication"


@dataclass(frozen=True)
class Citation:
    doc: str
    passage_id: str
    start: int
    end: int
    quote: str
    location: str
    # start/end index the text the reader saw; for a structured document that is the extracted
    # text, and file_start/file_end place the quote in the file itself (text formats only).
    offsets: str = "file"
    file_start: int | None = None
    file_end: int | None = None


@dataclass(frozen=True)
class Answer:
    question: str
    answer: str | None
    abstained: bool
    confidence: float
    answer_type: str
    citations: list[Citation]
    passages: list[Hit]
    message: str | None = None
    timings_ms: dict[str, float] = field(default_factory=dict)
    answer_canonical: str | None = None  # the answer with known name variants in canonical form
    names: tuple[NameMatch, ...] = ()  # the question's names matched to the corpus's spellings
    features: dict[str, float] = field(default_factory=dict)  # what the confidence was computed from
    # Where the answer itself stands in the corpus (the trained reader's span): text[start:end].
    answer_doc: str | None = None
    answer_start: int | None = None
    answer_end: int | None = None
    answer_offsets: str | None = None  # what answer_start/end refer to: "file" or "extracted text"
    answer_file_start: int | None = None  # the answer in the file itself (text formats)
    answer_file_end: int | None = None


def classify(question: str) -> str:
    """The answer type a question asks for (one of ``ANSWER_TYPES``)."""
    return _kind(question)[0]


def _kind(question: str) -> tuple[str, bool]:
    """(answer type, wants a list), decided by the question's leading wh-word first: in "Who was
    head when Zhdanov ...?" the "when" is not what is asked."""
    q = question.lower()
    lead = re.search(r"\b(who|whom|whose|when|where|why|how|what|which)\b", q)
    word = lead.group(1) if lead else ""
    rest = q[lead.start() :] if lead else q
    plural = bool(
        re.search(r"\b(?:who|whom|which|what)\s+(?:were|are)\b|\bwho made up\b|\bname the\b|\blist\b|\bjointly\b", q)
        or re.search(rf"\b(?:which|what)\s+(?:\w+\s+){{0,2}}(?:{_PLURAL_NOUNS})\b", q)
        or re.search(r"\b(?:which|what|whom|who)\s+(?:two|three|four|five)\b", q)
    )
    if word == "how":
        return ("number", False) if re.match(r"how (?:many|much|old|long)\b", rest) else ("reason", False)
    if word == "why" or re.search(r"\bwhat (?:was|is|were) the (?:reason|purpose|motive|cause)\b", q):
        return "reason", False
    if word == "when" or re.match(
        r"(?:what|which) (?:year|date|month|season|day|time)\b|what (?:is|was) the (?:date|year)\b", rest
    ) or re.search(r"\b(?:in|on|until|by|since) (?:what|which) (?:year|date|month)\b", q):
        return "date", False
    if word in ("who", "whom", "whose"):
        # "Besides Kaganovich, who belonged ...?" asks for the others, all of them.
        return "person", plural or bool(re.search(r"\bmembers\b|^\s*besides\b[^?]*,\s*who\b", q))
    if word == "where":
        return "place", False
    if re.match(r"(?:what|which) (?:\w+ )?(?:post|office|position(?! (?:for|on|of)\b)|title|rank|job|role)\b", rest) or re.search(r"\bto (?:what|which) post\b", q):
        return "post", False
    if re.match(r"(?:what|which) (?:number|percentage)\b", rest):
        return "number", False
    if re.match(rf"(?:which|what)\s+(?:\w+\s+){{0,2}}(?:{_WORK_NOUNS})\b", rest):
        return "work", plural
    if re.match(rf"(?:which|what)\s+(?:\w+\s+){{0,2}}(?:{_ORG_NOUNS})\b", rest) and not re.match(r"what (?:post|office|position)\b", rest):
        return "organisation", plural
    if re.match(rf"(?:which|what)\s+(?:\w+\s+){{0,2}}(?:{_PLACE_NOUNS})\b|which (?:\w+ )?(?:city|country)[’']?s\b", rest):
        return "place", plural
    if re.match(rf"(?:which|what)\s+(?:\w+\s+){{0,2}}(?:{_PERSON_NOUNS})\b", rest):
        return "person", plural
    return "other", False


_PLURAL_NOUNS = "venues|members|leaders|men|countries|states|territories|cities|people|powers|enemies|nations|officials|places|regions|areas|groups|factions|figures"


def verify_citation(citation: Citation, documents: dict[str, str]) -> None:
    """Raise unless the quote is exactly the corpus text at the cited offsets."""
    text = documents.get(citation.doc)
    if text is None or text[citation.start : citation.end] != citation.quote or not citation.quote:
        raise QAError(f"citation {citation.passage_id}[{citation.start}:{citation.end}] does not match the corpus")


def abstain(
    question: str, answer_type: str, hits: list[Hit], confidence: float, features: dict[str, float] | None = None
) -> Answer:
    """The assistant's "the corpus does not say" answer (either reader), the passages shown."""
    return Answer(
        question=question,
        answer=None,
        abstained=True,
        confidence=round(confidence, 3),
        answer_type=answer_type,
        citations=[],
        passages=hits,
        message="The corpus does not appear to answer this question; the nearest passages are shown.",
        features=features or {},
    )
