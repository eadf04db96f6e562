"""Answering: retrieved passages → a short extractive answer with verified citations.

No generative model ships offline here, so answers are extracted (DrQA's reader role, done with
rules over the retriever's evidence):

1. ``analyze`` reads what the question asks for: a person, date, place, number, organisation,
   work, a list of people or places, a reason, or another thing — and its terms, weighted by
   IDF over the corpus's sentences (a question word the corpus never uses weighs the most);
2. every sentence of the retrieved passages is scored: cosine similarity of its precomputed
   vector to the question, plus the IDF-weighted share of the question's terms it contains
   (terms only in the neighbouring sentence of the same paragraph count half: "His death..."
   follows the sentence that names him), plus a little for the passage's retrieval rank;
3. in the best sentences, candidates of the asked-for type are found — named entities from the
   corpus gazetteer (``qa.names``), dates, numbers, quoted terms — never the question's own
   entities, and scored by their sentence and by their closeness to the question's words;
   a list question gets every candidate of its type in the best sentence; a reason gets the
   clause that states it (from "because", "in order to", ...) or the whole sentence. The clause
   around a candidate is read with a little syntax: what the question says of its names must
   stand in it; "the former/latter", a pronoun and an apposition between dashes stand for
   their names; a relative clause is a clause of its own; the agent after a passive "by", the
   possessor in "Y's N" for "Whose N?" and a date attached to the question's name are preferred;
4. ``confidence`` combines the evidence score with whether the question's own names occur in
   the evidence and whether a candidate of the asked type exists (a date or number, and one
   that belongs to the question's name), and whether the corpus ever writes the question's
   multi-word names; below the calibrated threshold the assistant says the corpus does not
   answer (``answer`` is ``None``);
5. every citation's quote is checked against the corpus text by its offsets before it is
   returned; when the answer's sentence lacks a name the question asked about, the sentence
   that links them is cited too (a multi-passage answer).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path

import numpy as np

from qa.chunking import Passage
from qa.corpus import Repair, apply_repairs
from qa.errors import QAError
from qa.names import Entity, NameMatch
from qa.retrieval import Hit

CALIBRATION_FILE = Path(__file__).with_name("calibration.json")
_DENSE_WEIGHT, _LEXICAL_WEIGHT, _RANK_WEIGHT = 0.45, 0.5, 0.05
# A candidate's score: its sentence's, plus closeness to the question's words, the share of the
# question's terms in its own clause, and how sure its type is.
_CLOSENESS_WEIGHT, _CLAUSE_WEIGHT, _TYPE_WEIGHT = 0.25, 0.3, 0.2
# What the question says of its names ("closest advisor" in "Who was Kollontai's closest
# advisor?") must stand in the candidate's own clause, not just the names.
_PREDICATE_WEIGHT = 0.2
_SENTENCES_FOR_SPANS = 4
_NEIGHBOUR_CREDIT = 0.5

ANSWER_TYPES = ("person", "date", "place", "number", "organisation", "work", "post", "reason", "other")
QUESTION_WORDS = {"who", "whom", "whose", "what", "which", "when", "where", "why", "how", "did", "does", "do"}
# Words that say how to ask, not what about.
_GENERIC = {"article", "according", "author", "mention", "mentioned", "say", "says", "said", "describe",
            "described", "name", "named", "give", "given", "use", "used", "call", "called", "term", "word",
            "text", "besides", "apart", "also", "first", "one", "two", "kind", "sort", "type", "exact",
            "meissner", "exactly", "printed", "state", "states", "stated"}
# A few verb ↔ noun pairs the stemmer keeps apart ("die" / "death").
_RELATED = {"die": {"death", "dead"}, "death": {"die", "dead"}, "born": {"birth"}, "birth": {"born"},
            "kill": {"death", "murder"}, "head": {"chief", "lead"}, "lead": {"leader", "head", "leadership"},
            "leader": {"lead", "head"}, "found": {"establish"}, "begin": {"began", "start"},
            "unit": {"uniti"}, "uniti": {"unit"}}  # "united" / "unity"
_PERSON_NOUNS = ("person|man|woman|men|leader|leaders|official|minister|diplomat|ambassador|correspondent|agent|"
                 "intermediary|marshal|colonel|premier|member|members|observer|representative|commissar|"
                 "general|politician|statesman|envoy|advisor|adviser|counselor|secretary|dictator|figure|"
                 "people|chief|head|successor|rival|deputy")
_PLACE_NOUNS = "venue|venues|city|cities|country|countries|place|places|town|capital|region|regions|territory|territories|area|state|states|nation|nations|continent|frontier"
_ORG_NOUNS = "organization|organisation|body|party|committee|council|ministry|department|office|institution|agency|conference|bureau|publisher|branch"
_WORK_NOUNS = "book|newspaper|paper|magazine|journal|title|publication"
_MONTH = r"(?:January|February|March|April|May|June|July|August|September|October|November|December)"
_SEASON = r"(?:spring|summer|fall|autumn|winter)"
_DATE = re.compile(
    rf"{_MONTH}\s+\d{{1,2}}\s+to\s+(?:{_MONTH}\s+)?\d{{1,2}},\s+\d{{4}}"  # April 3 to April 12, 1952
    rf"|(?:the\s+)?(?:(?:early|late)\s+)?{_SEASON}\s+of\s+\d{{4}}"
    rf"|{_MONTH}\s+\d{{1,2}},\s+\d{{4}}"
    rf"|{_MONTH}\s+\d{{1,2}}\b"
    rf"|(?:(?:early|late|mid-?)\s*)?{_MONTH}\s+\d{{4}}"
    rf"|(?:the\s+)?(?:early\s+|late\s+|mid-)?\d{{4}}(?:’s|'s|s)?"
    rf"|(?:the\s+)?mid-\d0(?:’s|'s|s)"
    rf"|[Nn]ineteen[- ][a-z]+(?:-[a-z]+)?"
)
_NUMBER = re.compile(
    r"\b(?:\d+(?:,\d{3})*|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|thirty|fifty|hundred|"
    r"first|second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth|eleventh|twelfth)\b",
    re.IGNORECASE,
)
# An office: "chairman of the foreign policy committee", "chief of the State Police", "Prime Minister".
_POST = re.compile(
    r"\b(?:(?:deputy|vice|first|last|present|former|Deputy|Vice|First|Foreign|Prime)[\s-]+)*"
    r"(?:chairman|chief|director|head|secretary-general|secretary|ambassador|ambassadress|[Mm]inister|"
    r"[Cc]ommissar|[Vv]ice-[Cc]ommissar|[Pp]remier|representative|counselor|[Mm]arshal|[Cc]olonel)"
    # "ambassador to Berlin", not "Vice-Commissar to represent the group": "to" takes a name.
    r"(?:\s+(?:(?:of|for)\s+(?:the\s+)?|to\s+(?:the\s+)?(?=[A-Z]))[\w’'-]+(?:\s+(?!and\b|who\b|which\b)[\w’'-]+){0,5})?"
)
# A number's unit belongs to it: "two years" answers "how long".
_UNIT = re.compile(r"\s+(?:years?|months?|weeks?|days?|hours?|decades?|centuries|times|per cent|percent)\b")
_QUOTED = re.compile(r"[“\"]([^”\"]{2,60})[”\"]")
_WORD = re.compile(r"\w+")
_PLACE_CUE = re.compile(r"\b(?:in|at|into|to|toward|towards|near|from|via|through)\s+(?:the\s+)?$")
_REASON_CUE = re.compile(
    r"\b(?:because|since|for fear|in order to|in order that|so that|so as to|owing to|due to|thanks to|"
    r"as a result of|on the ground|for the sake of|lest|out of fear|to prevent|to avert|to avoid)\b",
    re.IGNORECASE,
)


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


@dataclass(frozen=True)
class Question:
    """What a question asks for: ``kind`` (one of ``ANSWER_TYPES``), whether it wants a list,
    its weighted terms and the named entities it mentions."""

    text: str
    kind: str
    wants_list: bool
    terms: dict[str, float]  # content stem → IDF weight
    entities: tuple[str, ...]  # canonical forms of the names asked about
    asked_words: frozenset[str]
    predicate: dict[str, float]  # the terms that are not names: what the question says of them


@dataclass(frozen=True)
class Reader:
    """What answering needs from the index, prepared once: sentence vectors, the corpus texts
    and repairs, IDF weights over sentences and the gazetteer's entity finder."""

    sentence_vectors: np.ndarray
    sentence_rows: dict[tuple[str, int, int], int]
    documents: dict[str, str]
    repairs: dict[str, tuple[Repair, ...]]
    idf: dict[str, float]
    unknown_idf: float
    entities: Callable[[str, int, int], list[Entity]]
    neighbours: dict[tuple[str, int, int], tuple[tuple[int, int], ...]]
    folded: str = ""  # the corpus in lower case with single spaces, to look phrases up

    @classmethod
    def build(
        cls,
        sentence_vectors: np.ndarray,
        sentence_rows: dict[tuple[str, int, int], int],
        documents: dict[str, str],
        repairs: dict[str, tuple[Repair, ...]],
        entities: Callable[[str, int, int], list[Entity]],
    ) -> Reader:
        keys = sorted(sentence_rows)
        frequency: dict[str, int] = {}
        for doc, start, end in keys:
            for stem in content_stems(apply_repairs(documents[doc], start, end, repairs.get(doc, ()))):
                frequency[stem] = frequency.get(stem, 0) + 1
        n = max(len(keys), 1)
        idf = {stem: math.log(1 + (n - df + 0.5) / (df + 0.5)) for stem, df in frequency.items()}
        neighbours: dict[tuple[str, int, int], tuple[tuple[int, int], ...]] = {}
        for i, (doc, start, end) in enumerate(keys):
            text = documents[doc]
            near = []
            for j in (i - 1, i + 1):
                if 0 <= j < len(keys) and keys[j][0] == doc:
                    a, b = sorted(((start, end), keys[j][1:]))
                    if "\n\n" not in text[a[1] : b[0]].replace("\r", ""):  # same paragraph
                        near.append(keys[j][1:])
            neighbours[(doc, start, end)] = tuple(near)
        folded = " ".join(
            " ".join(apply_repairs(text, 0, len(text), repairs.get(doc, ())).lower().split()) for doc, text in documents.items()
        )
        return cls(
            sentence_vectors, sentence_rows, documents, repairs, idf, math.log(1 + (n + 0.5) / 0.5), entities, neighbours,
            folded,
        )


@dataclass(frozen=True)
class ScoredSentence:
    passage: Passage
    start: int
    end: int
    score: float
    dense: float
    coverage: float
    rank: int


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


def _type_noun(question: str, kind: str) -> frozenset[str]:
    """The noun that names the answer's type ("post" in "What post did Kosygin hold?", "year"
    in "In what year ..."): it says what the answer is, not what the evidence must say."""
    if kind in ("reason", "other"):
        return frozenset()
    found = re.search(r"\b(?:what|which)\s+(\w+)", question, re.IGNORECASE)
    return frozenset(content_stems(found.group(1))) if found else frozenset()


def analyze(question: str, reader: Reader) -> Question:
    kind, plural = _kind(question)
    stems = content_stems(question) - _type_noun(question, kind)
    terms = {s: reader.idf.get(s, reader.unknown_idf) for s in stems}
    entities = tuple(dict.fromkeys(e.canonical.lower() for e in reader.entities(question, 0, len(question))))
    return Question(
        text=question,
        kind=kind,
        wants_list=plural and kind in ("person", "place", "organisation"),
        terms=terms,
        entities=entities,
        asked_words=frozenset(_words(question)),
        predicate=_predicate_terms(question, terms, entities),
    )


def answer_question(question: str, query_vector: np.ndarray, hits: list[Hit], reader: Reader) -> Answer:
    asked = analyze(question, reader)
    sentences = rank_sentences(asked, query_vector, hits, reader)
    if not sentences or not asked.terms:
        return abstain(question, asked.kind, hits, 0.0)
    best = sentences[0]
    pick = Pick(best, None, [], best.coverage, best.coverage)
    if asked.kind not in ("reason", "other"):  # a typed answer: look for a span of that type
        pick = _best_candidate(asked, sentences[:_SENTENCES_FOR_SPANS], reader) or Pick(best, None, [], 0.0, 0.0)
    elif asked.kind == "other":
        pick = _best_candidate(asked, sentences[:2], reader, quoted_only=True) or pick
    source, span, members = pick.sentence, pick.span, pick.members
    features = confidence_features(asked, pick, sentences, reader)
    calibration = load_calibration()
    confidence = calibration.confidence(features)
    if confidence < calibration.threshold:
        return abstain(question, asked.kind, hits, confidence, features)
    text = reader.documents[source.passage.doc]
    doc_repairs = reader.repairs.get(source.passage.doc, ())
    if members:
        answer = _join([apply_repairs(text, s, e, doc_repairs) for s, e in members])
    elif span:  # the scan's "Kagano-vich" is answered as "Kaganovich"
        answer = apply_repairs(text, span[0], span[1], doc_repairs)
    elif asked.kind == "reason":
        answer = _reason(text, source, doc_repairs)
    else:
        answer = _sentence_answer(apply_repairs(text, source.start, source.end, doc_repairs))
    citations = [_cite(source, reader.documents)]
    if link := _linking_sentence(asked, source, sentences, reader):
        citations.append(_cite(link, reader.documents))
    return Answer(question, answer, False, round(confidence, 3), asked.kind, citations, hits, features=features)


_DESCRIBED = re.compile(
    r"\b(?:the|that) (?:man|leader|person|politburo member|member|marshal|official|one|organi[sz]ation)\b"
    r"(?= (?:who|whose|whom|that|which)\b| [A-Z])|\bthat person\b",
    re.IGNORECASE,
)


def description(question: str) -> str | None:
    """The part of a two-step question that names someone by description: "the man who
    replaced Litvinov" in "Who was the first deputy to the man who replaced Litvinov?"."""
    found = _DESCRIBED.search(question)
    if not found or found.start() == 0 and not question[found.end() :].strip():
        return None
    return question[found.start() :]


def bridge(described: str, query_vector: np.ndarray, hits: list[Hit], reader: Reader) -> tuple[str, Citation] | None:
    """Whom (or which organisation) a description points to, and the sentence that says so."""
    asked = analyze(described, reader)
    kind = "organisation" if re.search(r"organi[sz]ation", described[:20], re.IGNORECASE) else "person"
    asked = replace(asked, kind=kind, wants_list=False)
    sentences = rank_sentences(asked, query_vector, hits, reader)
    pick = _best_candidate(asked, sentences[:_SENTENCES_FOR_SPANS], reader) if sentences else None
    if pick is None or pick.span is None or pick.clause < 0.3:
        return None
    doc = pick.sentence.passage.doc
    name = apply_repairs(reader.documents[doc], pick.span[0], pick.span[1], reader.repairs.get(doc, ()))
    return name, _cite(pick.sentence, reader.documents)


def resolve_description(question: str, described: str, name: str, evidence: str) -> str:
    """The question with its description replaced by the name it points to; words of the
    description that the bridging evidence does not use are kept ("... later sent as
    ambassador"), since they may belong to the question's own clause."""
    used = content_stems(evidence)
    tokens = re.findall(r"[\w’'-]+|[?]", described)
    last_used = max((i for i, w in enumerate(tokens) if _stem(w.lower()) in used and w.lower() not in _stopwords()), default=-1)
    if last_used >= 2:
        # The description ends with the last word its evidence uses; what follows is the
        # question's own clause: "the man Beria brought to Moscow to run the NKVD's Foreign
        # Section | later sent as ambassador".
        words = tokens[last_used + 1 :]
    else:
        kept = [w for w in tokens if w == "?" or _stem(w.lower()) not in used]
        words = [w for w in kept[2:]] if len(kept) > 2 else kept  # drop "the man" / "the leader"
    if last_used >= 2:
        remainder = " ".join(words)
    else:
        remainder = " ".join(w for w in words if w.lower() not in ("who", "whose", "whom", "that", "which"))
    # Where the description starts in the question (both rewritten to the corpus's spellings,
    # which may change the lengths of words before it).
    at = question.rfind(described.rstrip("? "))
    prefix = question[:at] if at >= 0 else question[: len(question) - len(described)]
    return f"{prefix}{name} {remainder}".replace(" ?", "?").strip()


def rank_sentences(asked: Question, query_vector: np.ndarray, hits: list[Hit], reader: Reader) -> list[ScoredSentence]:
    scored: dict[tuple[str, int, int], ScoredSentence] = {}
    for hit in hits:
        for sentence in hit.passage.sentences:
            key = (hit.passage.doc, sentence.start, sentence.end)
            if key in scored:
                continue
            dense = float(reader.sentence_vectors[reader.sentence_rows[key]] @ query_vector)
            coverage = _coverage(asked, key, reader)
            score = _DENSE_WEIGHT * dense + _LEXICAL_WEIGHT * coverage + _RANK_WEIGHT / hit.rank
            if asked.kind == "other" and _defines(asked, reader.documents[hit.passage.doc][sentence.start : sentence.end]):
                score += _COPULA_WEIGHT
            scored[key] = ScoredSentence(hit.passage, sentence.start, sentence.end, score, dense, coverage, hit.rank)
    return sorted(scored.values(), key=lambda s: (-s.score, s.start))


_PRONOUN = re.compile(r"\b(?:its|it|they|their|he|his|she|her)\b")


_COPULA_WEIGHT = 0.1


def _defines(asked: Question, sentence: str) -> bool:
    """A copula sentence whose subject is the question's thing: "The only pre-condition was that
    ..." for "What did Lenin name as the only pre-condition ...?"."""
    subject = re.match(r"\W*(?:The|This|That|Its|His|Her|Their)\s+(?:\w+\s+){0,3}?([\w-]+)\s+(?:was|is|were|are)\b", sentence)
    return bool(subject) and _stem(subject.group(1).lower().split("-")[-1]) in asked.predicate


def _coverage(asked: Question, key: tuple[str, int, int], reader: Reader) -> float:
    """IDF-weighted share of the question's terms in the sentence (half credit for a term only
    in a neighbouring sentence of the same paragraph)."""
    total = sum(asked.terms.values())
    if not total:
        return 0.0
    doc, start, end = key
    own = _stems_of(reader, doc, start, end)
    near: set[str] = set()
    for a, b in reader.neighbours.get(key, ()):
        near |= _stems_of(reader, doc, a, b)
        if a < start and _PRONOUN.search(reader.documents[doc], a, b) and _PRONOUN.search(reader.documents[doc], start, end):
            # "Leningrad was its center. ... were its members.": the pronoun's sentence carries
            # the topic of the one before it, two sentences back.
            near |= set().union(*(_stems_of(reader, doc, c, d) for c, d in reader.neighbours.get((doc, a, b), ()) if c < a))
    got = 0.0
    for term, weight in asked.terms.items():
        variants = _variants(term)
        if variants & own:
            got += weight
        elif variants & near:
            got += _NEIGHBOUR_CREDIT * weight
    return got / total


def _stems_of(reader: Reader, doc: str, start: int, end: int) -> frozenset[str]:
    return _cached_stems(apply_repairs(reader.documents[doc], start, end, reader.repairs.get(doc, ())))


@lru_cache(maxsize=4096)
def _cached_stems(text: str) -> frozenset[str]:
    return content_stems(text)


@dataclass(frozen=True)
class Pick:
    """The chosen answer span, its sentence, the list it belongs to (for list questions), and
    the share of the question's terms (all of them / the non-name ones) in its clause."""

    sentence: ScoredSentence
    span: tuple[int, int] | None
    members: list[tuple[int, int]]
    clause: float
    predicate_clause: float
# A candidate span: (the answer's offsets, where it stands in the sentence, type confidence).
# The two differ for "the former" / "the latter", which stand for a name said earlier.
Span = tuple[tuple[int, int], tuple[int, int], float]

_CLAUSE_BREAK = re.compile(
    r"[;:—()]|\b(?:and|but|while|whereas|although|though)\b|,\s+(?=the (?:former|latter)\b)"
    r"|,\s+(?:(?:in|of|to|by|with|for|from|during|under)\s+)?(?:which|whom|whose)\b"  # a relative clause
)
_CONTRAST_BEFORE = re.compile(r"\b(?:like|unlike|in contrast to|rather than|instead of|except|besides|not|than)\s+(?:the\s+)?$", re.IGNORECASE)
_COUNTRIES_AS_ACTORS = re.compile(r"\b(?:enem(?:y|ies)|all(?:y|ies)|powers?|opponents?|rivals?|adversar(?:y|ies))\b", re.IGNORECASE)
_FORMER_LATTER = re.compile(r"\bthe (former|latter)\b")
# "Who blocked X?" asks for the doer; in "X was blocked at first by Colonel Tulpanov" that is
# the passive's agent after "by", not the subject's other names.
_ASKS_AGENT = re.compile(
    r"\bwho\s+(?!was\b|were\b|is\b|are\b|had\b|has\b)(?:\w+\s+){0,2}?(\w+ed)\b|\bby whom\b.*?\b(\w+ed)\b", re.IGNORECASE
)
_AGENT_BEFORE = re.compile(r"^\s+(?:\w+\s+){0,2}?by\s+(?:the\s+)?(?:[A-Z][\w.]*\s+)?$")
_AGENT_WEIGHT = 0.15
_ATTACHED_WEIGHT = 0.15


def _best_candidate(
    asked: Question, sentences: list[ScoredSentence], reader: Reader, quoted_only: bool = False
) -> Pick | None:
    best: tuple[float, Pick] | None = None
    top = sentences[0].score if sentences else 0.0
    near = {(sentences[0].passage.doc, a, b): _neighbour_score(top, a > sentences[0].start)
            for a, b in reader.neighbours.get(_key(sentences[0]), ())}
    for sentence in [*sentences, *_neighbour_sentences(asked, sentences[0], sentences, reader)]:
        lifted = near.get(_key(sentence), 0.0)
        if sentence.score < lifted:  # next door to the best evidence
            sentence = ScoredSentence(sentence.passage, sentence.start, sentence.end, lifted, sentence.dense, sentence.coverage, sentence.rank)
        if sentence.score < top - 0.25:  # far weaker evidence: not worth a candidate
            continue
        text = reader.documents[sentence.passage.doc]
        spans = _typed_spans(asked, sentence, text, reader, quoted_only)
        if not spans:
            continue
        shared = _shared_positions(asked, text, sentence)
        stand_ins = _stand_ins(text, sentence, reader)
        doing = _ASKS_AGENT.search(asked.text) if asked.kind in ("person", "organisation") else None
        verb = _stem((doing.group(1) or doing.group(2)).lower()) if doing else None  # "blocked" → "block"
        members = [answer for answer, _, weight in spans if weight >= 0.8] if asked.wants_list else []
        members = list(dict.fromkeys(members))
        # A list question prefers the sentence that names several of the asked-for things.
        list_bonus = 0.08 * min(len(members) - 1, 4) if len(members) > 1 else 0.0
        for answer, anchor, type_score in spans:
            closeness = 1.0 / (1.0 + _mean_distance(anchor, shared, asked.terms) / 6.0)
            clause = _clause_coverage(asked.terms, text, sentence, anchor, stand_ins)
            contrast = 0.3 if _CONTRAST_BEFORE.search(text, max(sentence.start, anchor[0] - 24), anchor[0]) else 0.0
            predicate = _clause_coverage(asked.predicate, text, sentence, anchor, stand_ins)
            agent = _AGENT_WEIGHT if verb and _is_agent(text, anchor, [p for p in shared if p[0] == verb]) else 0.0
            if _possessor_of(asked, text, anchor[1]):
                agent += _AGENT_WEIGHT
            if asked.kind == "date" and _attached_to(text, sentence, anchor, reader) in asked.entities:
                agent += _ATTACHED_WEIGHT
            total = (
                sentence.score + _CLOSENESS_WEIGHT * closeness + _CLAUSE_WEIGHT * clause + _TYPE_WEIGHT * type_score
                + _PREDICATE_WEIGHT * predicate + agent + list_bonus - contrast
                + _specificity(asked, text[answer[0] : answer[1]])
            )
            if best is None or total > best[0]:
                listed = _coordinated(text, members, answer) if len(members) > 1 else []
                if not listed and answer == anchor and asked.kind in ("person", "place"):
                    # "a countryman of Stalin and Beria": the answer is the pair, not half of it.
                    pair = _coordinated(text, [s for s, _, w in spans if w >= 0.8], answer, joined_by_and=True)
                    listed = pair if len(pair) > 1 else []
                best = (total, Pick(sentence, answer, listed, clause, predicate))
    return best[1] if best else None


def _stand_ins(text: str, sentence: ScoredSentence, reader: Reader) -> tuple[tuple[int, str], ...]:
    """Where "the former" / "the latter" stand in a sentence and the person's name each means."""
    body = text[sentence.start : sentence.end]
    if not _FORMER_LATTER.search(body):
        return ()
    people = [(e.start, e.end) for e in reader.entities(text, sentence.start, sentence.end) if e.type == "person"]
    return tuple((phrase[0], text[name[0] : name[1]]) for name, phrase, _ in _former_latter(body, sentence.start, people))


def _attached_to(text: str, sentence: ScoredSentence, anchor: tuple[int, int], reader: Reader) -> str | None:
    """The name a date belongs to: the nearest one before it, places aside ("the conference
    held in Moscow from April 3 ..." dates the conference; "the meeting of the World Peace
    Council in February 1951" dates the council's meeting). Canonical, lower case."""
    before = [
        e for e in reader.entities(text, sentence.start, anchor[0])
        if e.end <= anchor[0] and e.type not in ("place", "title", "role") and not re.fullmatch(_MONTH, text[e.start : e.end])
    ]
    return before[-1].canonical.lower() if before else None


def _is_agent(text: str, anchor: tuple[int, int], shared: list[tuple[str, int, int]]) -> bool:
    """The candidate follows "<the question's verb> ... by": the agent of that verb in the passive."""
    return any(0 < anchor[0] - end <= 40 and _AGENT_BEFORE.match(text[end : anchor[0]]) for _, _, end in shared)


def _neighbour_score(top: float, following: bool) -> float:
    """The answer more often follows its lead-in ("... a representative of the German Foreign
    Office. The latter, one Peter Kleist, ...") than precedes it."""
    return top - (0.08 if following else 0.18)


def _key(sentence: ScoredSentence) -> tuple[str, int, int]:
    return (sentence.passage.doc, sentence.start, sentence.end)


_COORDINATION = re.compile(r"\s*(?:,|,?\s+and|,?\s+or)\s*")


def _coordinated(
    text: str, members: list[tuple[int, int]], answer: tuple[int, int], joined_by_and: bool = False
) -> list[tuple[int, int]]:
    """The list the answer belongs to: the run of members joined only by commas and "and"
    ("Malenkov, Molotov, and Mikoyan"); all the sentence's members when it stands alone. With
    ``joined_by_and``, only a run that ends in "and" counts, and nothing otherwise."""
    ordered = sorted(set(members))
    runs: list[list[tuple[int, int]]] = []
    for span in ordered:
        if runs and _COORDINATION.fullmatch(text[runs[-1][-1][1] : span[0]]):
            runs[-1].append(span)
        else:
            runs.append([span])
    run = next((r for r in runs if answer in r), [])
    if joined_by_and:
        closed = len(run) > 1 and re.fullmatch(r",?\s+and\s+", text[run[-2][1] : run[-1][0]])
        return run if closed else []
    return run if len(run) > 1 else ordered


def _neighbour_sentences(
    asked: Question, top: ScoredSentence, ranked: list[ScoredSentence], reader: Reader
) -> list[ScoredSentence]:
    """The sentences around the best one, as candidate sources: the answer often sits next
    door ("... a representative of the German Foreign Office. The latter, one Peter Kleist, ...")."""
    seen = {(s.passage.doc, s.start, s.end): s for s in ranked}
    found = []
    for a, b in reader.neighbours.get((top.passage.doc, top.start, top.end), ()):
        key = (top.passage.doc, a, b)
        if key in seen and seen[key] in ranked[:_SENTENCES_FOR_SPANS]:
            continue  # already a candidate source
        passage = seen[key].passage if key in seen else top.passage
        if not (passage.start <= a and b <= passage.end):
            continue  # outside the retrieved passage: no place to cite it from
        own = seen[key].score if key in seen else 0.0
        coverage = _coverage(asked, key, reader)
        found.append(ScoredSentence(passage, a, b, max(own, _neighbour_score(top.score, a > top.start)), top.dense, coverage, top.rank))
    return found


def _predicate_terms(question: str, terms: dict[str, float], entities: tuple[str, ...]) -> dict[str, float]:
    """The question's terms that are not part of the names it mentions: what it says of them."""
    entity_words = {_stem(w) for e in entities for w in _words(e)}
    # Capitalised words are names too, known to the gazetteer or not ("Alexandra").
    entity_words |= {_stem(w.lower()) for w in _named_words(question)}
    return {t: w for t, w in terms.items() if t not in entity_words}


def _clause_coverage(
    terms: dict[str, float], text: str, sentence: ScoredSentence, anchor: tuple[int, int],
    stand_ins: tuple[tuple[int, str], ...] = (),
) -> float:
    """IDF-weighted share of ``terms`` in the clause around the candidate; a "the former" /
    "the latter" in that clause (``stand_ins``: where it stands, the name it stands for) counts
    as its name: "..., the latter as Prime Minister" is a clause about Kosygin."""
    total = sum(terms.values())
    if not total:
        return 0.0
    body = text[sentence.start : sentence.end]
    at, to = anchor[0] - sentence.start, anchor[1] - sentence.start
    # "Beria, Malenkov, and Khrustschev": an "and" between names joins a list, not clauses.
    breaks = [m for m in _CLAUSE_BREAK.finditer(body) if not _joins_names(body, m)]
    left = max((m.end() for m in breaks if m.end() <= at), default=0)
    right = min((m.start() for m in breaks if m.start() >= to), default=len(body))
    if body[left - 1 : left] == "—" and body[right : right + 1] == "—":
        # An apposition between dashes ("fell to the troika—Beria, Malenkov, and Khrustschev—who
        # ...") belongs to the clause around it.
        left = max((m.end() for m in breaks if m.end() < left), default=0)
        right = min((m.start() for m in breaks if m.start() > right), default=len(body))
    words = body[left:at] + " " + body[to:right]
    if left > 0 and re.search(r"\b(?:it|this|them)\b", words):
        # "... position was shaken ..., but Beria and Malenkov have succeeded in restoring it":
        # the pronoun stands for the sentence's first clause.
        words += " " + body[: min(m.start() for m in breaks)]
    words += "".join(" " + name for where, name in stand_ins if left <= where - sentence.start < right)
    present = content_stems(words)
    got = sum(w for term, w in terms.items() if _variants(term) & present)
    return got / total


def _joins_names(body: str, match: re.Match[str]) -> bool:
    return match.group() == "and" and bool(
        re.search(r"[A-Z][\w’'-]*,?\s+$", body[: match.start()]) and re.match(r"\s+[A-Z]", body[match.end() :])
    )


def _specificity(asked: Question, answer: str) -> float:
    """Between equally good dates, the fuller one: "February 1920" over "1920"."""
    if asked.kind != "date":
        return 0.0
    if re.search(rf"{_MONTH}\s+\d{{1,2}},", answer):
        return 0.1
    if re.search(rf"{_MONTH}|{_SEASON}", answer):
        return 0.07
    return 0.0


def _typed_spans(asked: Question, sentence: ScoredSentence, text: str, reader: Reader, quoted_only: bool) -> list[Span]:
    """Candidate answer spans of the asked type in a sentence, with a type-confidence score."""
    start, end = sentence.start, sentence.end
    body = text[start:end]
    spans: list[tuple[tuple[int, int], float]] = []
    resolved: list[Span] = []
    if quoted_only:
        if re.search(r"\b(?:called|quot\w*|term|phrase|word|title|name)\b", asked.text.lower()):
            spans = [((start + m.start(1), start + m.end(1)), 1.0) for m in _QUOTED.finditer(body)]
    elif asked.kind == "date":
        spans = [((start + m.start(), start + m.end()), 1.0) for m in _DATE.finditer(body)]
    elif asked.kind == "post":
        spans = [((start + m.start(), start + m.start() + len(_trim_tail(m.group()))), 1.0) for m in _POST.finditer(body)]
        # A title the gazetteer knows ("Vojd") is an office too.
        if re.search(r"\btitle\b", asked.text, re.IGNORECASE):
            spans += [((e.start, e.end), 1.0) for e in reader.entities(text, start, end) if e.type == "title"]
    elif asked.kind == "number":
        spans = [((start + m.start(), start + m.end() + _unit_length(body, m.end())), 1.0) for m in _NUMBER.finditer(body)]
        spans = [(s, w) for s, w in spans if not re.fullmatch(r"\d{4}", text[s[0] : s[1]])]  # years are dates
        # "one Semyonov" is "a certain Semyonov", not a count.
        spans = [(s, w) for s, w in spans if not re.match(r"[Oo]ne\s+[A-Z]", text[s[0] : s[0] + 6])]
        # Nor is the day of a date a count: "January 8, 1952" says nothing about "how many".
        dates = [(start + m.start(), start + m.end()) for m in _DATE.finditer(body)]
        spans = [(s, w) for s, w in spans if not any(a <= s[0] and s[1] <= b for a, b in dates)]
    else:
        wanted = {"person": ("person",), "place": ("place",), "organisation": ("organisation",), "work": ("work",)}[asked.kind]
        entities = reader.entities(text, start, end)
        for entity in entities:
            before = text[max(0, entity.start - 12) : entity.start]
            if entity.type in ("title", "role") or entity.type == "name" and re.fullmatch(_MONTH, text[entity.start : entity.end]):
                continue  # a month is a date's, not a person's name
            if entity.type in wanted:
                actors = asked.kind == "person" and _COUNTRIES_AS_ACTORS.search(asked.text)
                spans.append(((entity.start, entity.end), 0.5 if actors else 1.0))
            elif entity.type == "place" and asked.kind == "organisation" and re.search(r"\bconferences?\b", asked.text, re.IGNORECASE):
                spans.append(((entity.start, entity.end), 0.8))  # conferences go by their places: Yalta
            elif entity.type == "place" and asked.kind == "person" and _COUNTRIES_AS_ACTORS.search(asked.text):
                spans.append(((entity.start, entity.end), 1.0))  # "Who were the chief enemies?" → Britain
            elif asked.kind == "person" and entity.type in ("place", "organisation") and _possessor_of(asked, text, entity.end):
                spans.append(((entity.start, entity.end), 1.0))  # "Whose opposition ...?" → "Poland’s opposition"
            elif entity.type == "name" and asked.kind == "person" and not _PLACE_CUE.search(before) or entity.type == "name" and asked.kind == "place" and _PLACE_CUE.search(before):
                spans.append(((entity.start, entity.end), 0.4))
        if asked.kind == "work":
            spans += [((start + m.start(1), start + m.end(1)), 0.8) for m in _QUOTED.finditer(body)]
        resolved = _former_latter(body, start, [s for s, w in spans if w >= 1.0])
    typed = [(s, s, w) for s, w in spans] + resolved
    return [(a, p, w) for a, p, w in typed if not _is_asked(asked, text[a[0] : a[1]], reader)]


def _unit_length(body: str, at: int) -> int:
    unit = _UNIT.match(body, at)
    return len(unit.group()) if unit else 0


def _possessor_of(asked: Question, text: str, at: int) -> bool:
    """The name ending at ``at`` owns what a "whose" question asks about: "Whose opposition
    blocked ...?" and "Poland’s opposition blocked ..."."""
    owned = re.search(r"\bwhose\s+(\w+)", asked.text, re.IGNORECASE)
    if not owned:
        return False
    after = re.match(r"[’']s?\s+(\w+)(?:\s+(\w+))?", text[at : at + 60])  # "Poland’s (own) opposition"
    return bool(after) and _stem(owned.group(1).lower()) in {_stem(w.lower()) for w in after.groups() if w}


def _trim_tail(phrase: str) -> str:
    """No trailing function words: "chairman of the committee of the" → "... committee"."""
    words = phrase.split()
    while len(words) > 1 and words[-1].lower() in _stopwords():
        words.pop()
    return " ".join(words) if words else phrase


def _former_latter(body: str, offset: int, spans: list[tuple[int, int]]) -> list[Span]:
    """"X and Y ..., the former as A, the latter as B": each phrase stands for its name."""
    found = []
    for m in _FORMER_LATTER.finditer(body):
        earlier = [s for s in spans if s[1] <= offset + m.start()]
        if len(earlier) >= 2:
            pair = earlier[:2] if len(earlier) == 2 else _adjacent_pair(body, offset, earlier)
            referent = pair[0] if m.group(1) == "former" else pair[1]
            # The phrase stands where its description does: up to the next comma or semicolon.
            stop = re.search(r"[,;.]", body[m.end() :])
            end = m.end() + (stop.start() if stop else len(body) - m.end())
            found.append((referent, (offset + m.start(), offset + end), 1.0))
    return found


def _adjacent_pair(body: str, offset: int, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """The first "X and Y" pair among the names before the phrase (else the first two)."""
    for first, second in zip(spans, spans[1:]):
        if body[first[1] - offset : second[0] - offset].strip() == "and":
            return [first, second]
    return spans[:2]


def _is_asked(asked: Question, span_text: str, reader: Reader) -> bool:
    """The question's own entity is never the answer ("Who replaced Litvinov?" ≠ "Litvinov") —
    except in a list, for a name the question only uses inside a compound ("To whom was the
    Beria-Malenkov line entrusted?" → "Malenkov, Molotov, and Mikoyan")."""
    words = _words(span_text)
    if asked.wants_list and words and all(re.search(rf"\w-{re.escape(w)}\b|\b{re.escape(w)}-\w", asked.text.lower()) for w in words):
        return False
    if not words or all(w in asked.asked_words for w in words):
        return True
    canonical = {e.canonical.lower() for e in reader.entities(span_text, 0, len(span_text))}
    if canonical & set(asked.entities):
        return True
    # Nor part of one: "30" for a question about "the mid-30s" — but a fuller date that contains
    # the question's year is an answer ("April 3 to April 12, 1952" for "the conference of 1952").
    return any(
        a.startswith(w) and len(w) > 1 and (a != w or len(words) == 1)
        for a in asked.asked_words for w in words if w.isdigit()
    )


@lru_cache(maxsize=1024)
def _variants(term: str) -> frozenset[str]:
    """A term and the words the stemmer keeps apart from it ("die": "death", "dead")."""
    return frozenset({term, *_RELATED.get(term, ())})


def _shared_positions(asked: Question, text: str, sentence: ScoredSentence) -> list[tuple[str, int, int]]:
    found = []
    for m in _WORD.finditer(text, sentence.start, sentence.end):
        stem = _stem(m.group().lower())
        for term in asked.terms:
            if stem in _variants(term):
                found.append((term, m.start(), m.end()))
    return found


def _mean_distance(span: tuple[int, int], shared: list[tuple[str, int, int]], weights: dict[str, float]) -> float:
    """How close a span sits to the question's words (in characters / 6 ≈ words): for each
    question term, the distance to its nearest occurrence, averaged with IDF weights (DrQA-style;
    being next to a rare word such as "blocked" says more than being next to "Soviet")."""
    nearest: dict[str, int] = {}
    for term, start, end in shared:
        gap = max(span[0] - end, start - span[1], 0)
        nearest[term] = min(gap, nearest.get(term, gap))
    if not nearest:
        return 8.0
    total = sum(weights.get(t, 1.0) for t in nearest)
    return sum(gap * weights.get(t, 1.0) for t, gap in nearest.items()) / total / 6.0


FEATURES = (
    "dense", "coverage", "top_dense", "entities_present", "typed_missing", "unknown_share",
    "predicate_coverage", "clause", "open_question", "unknown_name", "predicate_clause", "names_present",
    "count_missing", "date_unattached", "unknown_phrase",
)


@dataclass(frozen=True)
class Calibration:
    """A logistic model over ``FEATURES`` giving P(the answer is right), fitted on the eval set
    by ``eval/calibrate.py``; below ``threshold`` the assistant abstains."""

    weights: dict[str, float]
    bias: float
    threshold: float

    def confidence(self, features: dict[str, float]) -> float:
        z = self.bias + sum(self.weights.get(name, 0.0) * value for name, value in features.items())
        return 1.0 / (1.0 + math.exp(-z))


_calibration: Calibration | None = None


def load_calibration() -> Calibration:
    global _calibration
    if _calibration is None:
        data = json.loads(CALIBRATION_FILE.read_text(encoding="utf-8"))
        _calibration = Calibration(dict(data["weights"]), float(data["bias"]), float(data["threshold"]))
    return _calibration


def set_calibration(calibration: Calibration | None) -> None:
    """Use another calibration (``None``: the packaged one) — for fitting and experiments."""
    global _calibration
    _calibration = calibration


def confidence_features(asked: Question, pick: Pick, sentences: list[ScoredSentence], reader: Reader) -> dict[str, float]:
    """The evidence signals the calibrated confidence is computed from (all about 0..1)."""
    source, has_span, clause = pick.sentence, pick.span is not None, pick.clause
    total = sum(asked.terms.values()) or 1.0
    window = _window_text(source, reader)
    present = sum(1 for e in asked.entities if _mentions(window, e, reader))
    predicate = asked.predicate
    named = _named_words(asked.text)
    window_stems = content_stems(window)
    return {
        "dense": round(source.dense, 4),
        "coverage": round(source.coverage, 4),
        "top_dense": round(max(s.dense for s in sentences), 4),
        "entities_present": present / len(asked.entities) if asked.entities else 1.0,
        "typed_missing": float(asked.kind not in ("reason", "other") and not has_span),
        "unknown_share": round(sum(w for t, w in asked.terms.items() if t not in reader.idf) / total, 4),
        "predicate_coverage": round(
            _coverage(replace(asked, terms=predicate), _key(source), reader) if predicate else 0.0, 4
        ),
        "clause": round(clause, 4),
        "open_question": float(asked.kind in ("reason", "other")),
        # The question names something the corpus never mentions ("Canada", "NATO").
        "unknown_name": float(any(_stem(w.lower()) not in reader.idf for w in named)),
        "predicate_clause": round(pick.predicate_clause, 4),
        "names_present": sum(_stem(w.lower()) in window_stems for w in named) / len(named) if named else 1.0,
        # A name of several words that the corpus never writes ("the Warsaw Pact", "the Korean
        # War"), although each word occurs.
        "unknown_phrase": float(any(not _phrase_known(phrase, reader) for phrase in _name_phrases(asked.text))),
        # A date or a number asked for, and none in the evidence: the sentence cannot hold it.
        "count_missing": float(asked.kind in ("date", "number") and not has_span),
        # The date found belongs to another name than the question's ("the founding of the
        # Cominform ... in the fall of 1947" for "When was the Warsaw Pact founded?").
        "date_unattached": float(
            asked.kind == "date" and has_span and bool(asked.entities)
            and _attached_to(reader.documents[source.passage.doc], source, pick.span, reader) not in asked.entities
        ),
    }


def _name_phrases(question: str) -> list[str]:
    """Runs of two or more capitalised words inside the question (not its first word); a
    possessive ends a run ("Zhdanov's European line")."""
    body = question[len(question.split(" ", 1)[0]) :]
    return [m.group() for m in re.finditer(r"\b[A-Z][\w-]*(?:\s+[A-Z][\w-]*)+(?![\w-])", body)]


def _phrase_known(phrase: str, reader: Reader) -> bool:
    """The corpus writes the phrase, perhaps with an initial or a word between ("James F. Byrnes")."""
    words = [re.escape(w) for w in phrase.lower().split()]
    return bool(re.search(r"\b" + r"(?:\s+\S+){0,1}\s+".join(words), reader.folded))


def _named_words(question: str) -> list[str]:
    """Capitalised words inside the question (not its first word): the names it asks about."""
    words = [m.group() for m in _WORD.finditer(question)]
    return [w for w in words[1:] if w[:1].isupper() and w.lower() not in QUESTION_WORDS and w.lower() not in _stopwords()]


def _mentions(window: str, canonical: str, reader: Reader) -> bool:
    if canonical in window.lower():
        return True
    # Any spelling of that entity (the window may write "Vishinsky" for canonical "Vyshinsky").
    return any(e.canonical.lower() == canonical for e in reader.entities(window, 0, len(window)))


def _window_text(sentence: ScoredSentence, reader: Reader) -> str:
    doc = sentence.passage.doc
    text = reader.documents[doc]
    parts = [text[sentence.start : sentence.end]]
    parts += [text[a:b] for a, b in reader.neighbours.get((doc, sentence.start, sentence.end), ())]
    return " ".join(parts)


def _linking_sentence(
    asked: Question, source: ScoredSentence, sentences: list[ScoredSentence], reader: Reader
) -> ScoredSentence | None:
    """When the answer's sentence lacks a name the question asked about, the best other
    sentence that has it: the second half of a two-passage answer."""
    window = _window_text(source, reader)
    missing = [e for e in asked.entities if not _mentions(window, e, reader)]
    if not missing:
        return None
    for sentence in sentences[1:6]:
        if (sentence.start, sentence.end) == (source.start, source.end):
            continue
        text = reader.documents[sentence.passage.doc][sentence.start : sentence.end]
        if any(_mentions(text, e, reader) for e in missing) and sentence.coverage >= 0.3:
            return sentence
    return None


def _reason(text: str, source: ScoredSentence, repairs: tuple[Repair, ...]) -> str:
    """The clause that states the reason ("because ...", "in order to ..."), else the sentence."""
    sentence = apply_repairs(text, source.start, source.end, repairs)
    cue = _REASON_CUE.search(sentence)
    if cue:
        clause = re.split(r"[;:]|—|\.\s", sentence[cue.start() :])[0].strip(" ,.")
        # "in order to avert this": the reason is what "this" points back to — keep the sentence.
        if len(clause.split()) >= 5 and not re.search(r"\b(?:this|that|these|those|it)$", clause):
            return _sentence_answer(clause)
    return _sentence_answer(sentence)


def _join(items: list[str]) -> str:
    items = list(dict.fromkeys(items))
    if len(items) <= 2:
        return " and ".join(items)
    return ", ".join(items[:-1]) + ", and " + items[-1]


def _words(text: str) -> list[str]:
    return [w.lower() for w in _WORD.findall(text)]


def content_stems(text: str) -> frozenset[str]:
    return frozenset(
        _stem(w)
        for w in (w.lower() for w in _WORD.findall(text))
        if w not in _stopwords() and w not in QUESTION_WORDS and w not in _GENERIC
    )


@lru_cache(maxsize=8192)
def _stem(word: str) -> str:
    return _stemmer().stemWord(word)


@lru_cache(maxsize=1)
def _stemmer():
    import Stemmer

    return Stemmer.Stemmer("english")


@lru_cache(maxsize=1)
def _stopwords() -> frozenset[str]:
    from qa.bm25 import stopwords  # bm25s's list, without importing bm25s (and scipy)

    return stopwords("en_plus")


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
