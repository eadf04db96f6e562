"""Answering: retrieved passages → a short extractive answer with verified citations.

No generative model ships offline here, so answers are extracted (DrQA's reader role, done with
rules over the retriever's evidence):

1. the question's expected answer type comes from its wording (who → person, when → date, ...);
2. every sentence of the retrieved passages is scored against the question: cosine similarity of
   the precomputed sentence vector to the question vector, plus the share of the question's
   content words (stemmed) that the sentence contains;
3. in the best sentences, spans of the expected type are found (capitalised names, dates,
   places, numbers), words of the question itself are never the answer, and the span closest
   to the words the question and sentence share wins; for why/how/what questions the answer is
   the best sentence;
4. ``confidence`` maps the evidence score to 0..1; below ``ABSTAIN_BELOW`` the assistant says
   the corpus does not answer the question (``answer`` is ``None``);
5. every citation's quote is checked against the corpus text by its offsets before it is returned.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from qa.chunking import Passage
from qa.corpus import Repair, apply_repairs
from qa.errors import QAError
from qa.names import NameMatch
from qa.retrieval import Hit

ABSTAIN_BELOW = 0.35
# Evidence score (0.6 · cosine + 0.4 · term coverage) mapped linearly onto confidence 0..1.
_SUPPORT_FLOOR, _SUPPORT_CEILING = 0.25, 0.70
_DENSE_WEIGHT, _LEXICAL_WEIGHT = 0.6, 0.4
_SENTENCES_FOR_SPANS = 3

QUESTION_WORDS = {"who", "whom", "whose", "what", "which", "when", "where", "why", "how", "did", "does", "do"}
_MONTH = r"(?:January|February|March|April|May|June|July|August|September|October|November|December)"
_SEASON = r"(?:spring|summer|fall|autumn|winter)"
_DATE = re.compile(
    rf"(?:the\s+)?(?:(?:early|late)\s+)?{_SEASON}\s+of\s+\d{{4}}"
    rf"|{_MONTH}\s+\d{{1,2}},\s+\d{{4}}"
    rf"|(?:(?:early|late|mid-?)\s*)?{_MONTH}\s+\d{{4}}"
    rf"|(?:the\s+)?(?:early\s+|late\s+|mid-)?\d{{4}}(?:’s|'s|s)?"
    rf"|[Nn]ineteen[- ][a-z]+(?:-[a-z]+)?"
)
# A capitalised name of one or more words, with initials ("L. M. Kaganovich", "Maurice J.
# Goldbloom") and particles ("von Schulenburg"); a possessive "’s" is left outside.
_NAME = re.compile(
    r"(?:[A-Z]\.\s?)*[A-Z][a-zà-ÿ]+(?:-[A-Za-z]+)*"
    r"(?:\s+(?:[A-Z]\.\s?)*(?:von\s+|van\s+|de\s+)?[A-Z][a-zà-ÿ]+(?:-[A-Za-z]+)*)*"
)
_NUMBER = re.compile(
    r"\b(?:\d+(?:,\d{3})*|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|thirty|fifty|hundred)\b",
    re.IGNORECASE,
)
_WORD = re.compile(r"\w+")
_PLACE_CUE = re.compile(r"\b(?:in|at|into|toward|towards|near)\s+$")
_THING_CUE = re.compile(r"\bthe\s+$")


@dataclass(frozen=True)
class Citation:
    doc: str
    passage_id: str
    start: int
    end: int
    quote: str
    location: str


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


@dataclass(frozen=True)
class ScoredSentence:
    passage: Passage
    start: int
    end: int
    score: float
    dense: float
    coverage: float


def classify(question: str) -> str:
    """The answer type a question asks for: person, date, place, number, reason or other."""
    q = question.lower()
    if re.search(r"\bhow (?:many|much)\b", q):
        return "number"
    if re.search(r"\b(?:when|what year|which year|what date|what month|what season|in what year)\b", q):
        return "date"
    if re.search(r"\bwhere\b|\b(?:what|which) (?:city|country|place|town|capital)\b", q):
        return "place"
    if re.search(r"\b(?:who|whom|whose)\b", q) or re.search(
        r"\b(?:what|which) (?:person|man|woman|leader|official|minister|diplomat|ambassador|correspondent|agent|intermediary|marshal|colonel|premier)\b",
        q,
    ):
        return "person"
    if re.match(r"\s*(?:why|how)\b", q):
        return "reason"
    return "other"


def answer_question(
    question: str,
    query_vector: np.ndarray,
    hits: list[Hit],
    sentence_vectors: np.ndarray,
    sentence_rows: dict[tuple[str, int, int], int],
    documents: dict[str, str],
    repairs: dict[str, tuple[Repair, ...]] | None = None,
) -> Answer:
    answer_type = classify(question)
    sentences = rank_sentences(question, query_vector, hits, sentence_vectors, sentence_rows)
    if not sentences or not content_stems(question):
        return _abstain(question, answer_type, hits, 0.0)
    best = sentences[0]
    support = best.score
    span: tuple[int, int] | None = None
    source = best
    if answer_type in ("person", "date", "place", "number"):
        for candidate in sentences[:_SENTENCES_FOR_SPANS]:
            span = extract_span(answer_type, question, candidate, documents[candidate.passage.doc])
            if span:
                source = candidate
                break
        if span is None:
            support *= 0.75  # the evidence never states a thing of the asked-for type
    confidence = float(np.clip((support - _SUPPORT_FLOOR) / (_SUPPORT_CEILING - _SUPPORT_FLOOR), 0.0, 1.0))
    if confidence < ABSTAIN_BELOW:
        return _abstain(question, answer_type, hits, confidence)
    text = documents[source.passage.doc]
    doc_repairs = (repairs or {}).get(source.passage.doc, ())
    if span:  # the scan's "Kagano-vich" is answered as "Kaganovich"
        answer = apply_repairs(text, span[0], span[1], doc_repairs)
    else:
        answer = _sentence_answer(apply_repairs(text, source.start, source.end, doc_repairs))
    citations = [_cite(source, documents)]
    return Answer(question, answer, False, round(confidence, 3), answer_type, citations, hits)


def rank_sentences(
    question: str,
    query_vector: np.ndarray,
    hits: list[Hit],
    sentence_vectors: np.ndarray,
    sentence_rows: dict[tuple[str, int, int], int],
) -> list[ScoredSentence]:
    wanted = content_stems(question)
    scored: dict[tuple[str, int, int], ScoredSentence] = {}
    for hit in hits:
        for sentence in hit.passage.sentences:
            key = (hit.passage.doc, sentence.start, sentence.end)
            if key in scored:
                continue
            dense = float(sentence_vectors[sentence_rows[key]] @ query_vector)
            text = hit.passage.text[sentence.start - hit.passage.start : sentence.end - hit.passage.start]
            coverage = len(wanted & content_stems(text)) / len(wanted) if wanted else 0.0
            score = _DENSE_WEIGHT * dense + _LEXICAL_WEIGHT * coverage
            scored[key] = ScoredSentence(hit.passage, sentence.start, sentence.end, score, dense, coverage)
    return sorted(scored.values(), key=lambda s: (-s.score, s.start))


def extract_span(answer_type: str, question: str, sentence: ScoredSentence, text: str) -> tuple[int, int] | None:
    """The best span of ``answer_type`` in the sentence (absolute offsets), or None."""
    asked = set(_words(question))
    body = text[sentence.start : sentence.end]
    if answer_type == "date":
        spans = [m.span() for m in _DATE.finditer(body)]
    elif answer_type == "number":
        spans = [m.span() for m in _NUMBER.finditer(body)]
    else:
        trimmed = (_trim_name(body, m.span(), asked, _common_words(text)) for m in _NAME.finditer(body))
        spans = [s for s in trimmed if s and _is_entity(body, s, answer_type, text)]
    # Never answer with the question's own words ("Litvinov" for "Who replaced Litvinov?"),
    # nor with part of one ("30" for a question about "the mid-30s").
    spans = [
        s
        for s in spans
        if not any(a.startswith(w) for a in asked for w in _words(body[s[0] : s[1]]))
    ]
    if not spans:
        return None
    stems = content_stems(question)
    shared = [(_stem(m.group().lower()), m.start(), m.end()) for m in _WORD.finditer(body)]
    shared = [(stem, start, end) for stem, start, end in shared if stem in stems]
    start, end = min(spans, key=lambda s: (_mean_distance(s, shared), s[0]))
    return sentence.start + start, sentence.start + end


def _trim_name(body: str, span: tuple[int, int], asked: set[str], common: frozenset[str]) -> tuple[int, int] | None:
    """Drop leading words that are not part of the name: a sentence-initial ordinary word
    ("After Beria") or the question's own words ("Finnish Premier Kekkonen" → "Kekkonen")."""
    start, end = span
    for m in re.finditer(r"\S+", body[start:end]):
        word = m.group().lower()
        if word not in asked and word not in common:
            return start + m.start(), end
    return None


def _words(text: str) -> list[str]:
    return [w.lower() for w in _WORD.findall(text)]


def _mean_distance(span: tuple[int, int], shared: list[tuple[str, int, int]]) -> float:
    """How close a span sits to the question's words in the sentence (``shared``: each
    occurrence of a question stem, with its offsets): for each stem, the distance to its nearest
    occurrence, averaged (DrQA-style)."""
    nearest: dict[str, int] = {}
    for stem, start, end in shared:
        gap = max(span[0] - end, start - span[1], 0)
        nearest[stem] = min(gap, nearest.get(stem, gap))
    return sum(nearest.values()) / len(nearest) if nearest else 0.0


def _is_entity(body: str, span: tuple[int, int], answer_type: str, text: str) -> bool:
    word = body[span[0] : span[1]].split()[0]
    if re.fullmatch(_MONTH, word):
        return False
    kinds = _capitalised_contexts(text).get(word, set())
    if answer_type == "place":
        return "place" in kinds or _PLACE_CUE.search(body[: span[0]]) is not None
    return "thing" not in kinds and "place" not in kinds  # people are not "the X" nor "in X"


@lru_cache(maxsize=8)
def _common_words(text: str) -> frozenset[str]:
    """Words the text uses in lower case: a capitalised occurrence is just a sentence start."""
    return frozenset(w for w in _WORD.findall(text) if w.islower())


@lru_cache(maxsize=8)
def _capitalised_contexts(text: str) -> dict[str, set[str]]:
    """Capitalised words the text mostly uses as things ("the Politburo": after "the" in at
    least half of their uses) or often as places ("in Warsaw": after in/at/into/toward in at
    least a quarter). People are neither, even when "the Beria group" names one now and then."""
    seen: dict[str, list[int]] = {}  # word → [uses, after "the", after a place preposition]
    for m in re.finditer(r"\b[A-Z][a-zà-ÿ]+\b", text):
        counts = seen.setdefault(m.group(), [0, 0, 0])
        before = text[max(0, m.start() - 12) : m.start()]
        counts[0] += 1
        counts[1] += bool(_THING_CUE.search(before))
        counts[2] += bool(_PLACE_CUE.search(before)) and not re.match(r"[’']s\b", text[m.end() : m.end() + 2])
    contexts: dict[str, set[str]] = {}
    for word, (uses, after_the, after_place) in seen.items():
        if after_the * 2 >= uses:
            contexts.setdefault(word, set()).add("thing")
        if after_place * 4 >= uses and after_place:
            contexts.setdefault(word, set()).add("place")
    return contexts


def content_stems(text: str) -> frozenset[str]:
    return frozenset(
        _stem(w) for w in (w.lower() for w in _WORD.findall(text)) if w not in _stopwords() and w not in QUESTION_WORDS
    )


@lru_cache(maxsize=4096)
def _stem(word: str) -> str:
    return _stemmer().stemWord(word)


@lru_cache(maxsize=1)
def _stemmer():
    import Stemmer

    return Stemmer.Stemmer("english")


@lru_cache(maxsize=1)
def _stopwords() -> frozenset[str]:
    from bm25s.stopwords import STOPWORDS_EN_PLUS

    return frozenset(STOPWORDS_EN_PLUS)


def _sentence_answer(sentence: str) -> str:
    return " ".join(sentence.split())


def _cite(sentence: ScoredSentence, documents: dict[str, str]) -> Citation:
    citation = Citation(
        doc=sentence.passage.doc,
        passage_id=sentence.passage.passage_id,
        start=sentence.start,
        end=sentence.end,
        quote=documents[sentence.passage.doc][sentence.start : sentence.end],
        location=sentence.passage.location_at(sentence.start),
    )
    verify_citation(citation, documents)
    return citation


def verify_citation(citation: Citation, documents: dict[str, str]) -> None:
    """Raise unless the quote is exactly the corpus text at the cited offsets."""
    text = documents.get(citation.doc)
    if text is None or text[citation.start : citation.end] != citation.quote or not citation.quote:
        raise QAError(f"citation {citation.passage_id}[{citation.start}:{citation.end}] does not match the corpus")


def _abstain(question: str, answer_type: str, hits: list[Hit], confidence: float) -> Answer:
    return Answer(
        question=question,
        answer=None,
        abstained=True,
        confidence=round(confidence, 3),
        answer_type=answer_type,
        citations=[],
        passages=hits,
        message="The corpus does not appear to answer this question; the nearest passages are shown.",
    )
