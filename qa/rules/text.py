"""The rule reader's records (``Question``, ``ScoredSentence``, ``Pick``, ``Calibration``),
its patterns and weights, and the small text helpers the other modules share."""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from qa.chunking import Passage
from qa.corpus import Repair, apply_repairs
from qa.answer import (
    Citation,
    QUESTION_WORDS,
    verify_citation,
)

CALIBRATION_FILE = Path(__file__).resolve().parent.parent / "calibration.json"  # qa/calibration.json
_DENSE_WEIGHT, _LEXICAL_WEIGHT, _RANK_WEIGHT = 0.45, 0.5, 0.05
# A candidate's score: its sentence's, plus closeness to the question's words, the share of the
# question's terms in its own clause, and how sure its type is.
_CLOSENESS_WEIGHT, _CLAUSE_WEIGHT, _TYPE_WEIGHT = 0.25, 0.3, 0.2
# What the question says of its names ("closest advisor" in "Who was Kollontai's closest
# advisor?") must stand in the candidate's own clause, not just the names.
_PREDICATE_WEIGHT = 0.2
_SENTENCES_FOR_SPANS = 4
_NEIGHBOUR_CREDIT = 0.5
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
class ScoredSentence:
    passage: Passage
    start: int
    end: int
    score: float
    dense: float
    coverage: float
    rank: int


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


_PRONOUN = re.compile(r"\b(?:its|it|they|their|he|his|she|her)\b")


_COPULA_WEIGHT = 0.1


def _defines(asked: Question, sentence: str) -> bool:
    """A copula sentence whose subject is the question's thing: "The only pre-condition was that
    ..." for "What did Lenin name as the only pre-condition ...?"."""
    subject = re.match(r"\W*(?:The|This|That|Its|His|Her|Their)\s+(?:\w+\s+){0,3}?([\w-]+)\s+(?:was|is|were|are)\b", sentence)
    return bool(subject) and _stem(subject.group(1).lower().split("-")[-1]) in asked.predicate


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


def _predicate_terms(question: str, terms: dict[str, float], entities: tuple[str, ...]) -> dict[str, float]:
    """The question's terms that are not part of the names it mentions: what it says of them."""
    entity_words = {_stem(w) for e in entities for w in _words(e)}
    # Capitalised words are names too, known to the gazetteer or not ("Alexandra").
    entity_words |= {_stem(w.lower()) for w in _named_words(question)}
    return {t: w for t, w in terms.items() if t not in entity_words}


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


def _name_phrases(question: str) -> list[str]:
    """Runs of two or more capitalised words inside the question (not its first word); a
    possessive ends a run ("Zhdanov's European line")."""
    body = question[len(question.split(" ", 1)[0]) :]
    return [m.group() for m in re.finditer(r"\b[A-Z][\w-]*(?:\s+[A-Z][\w-]*)+(?![\w-])", body)]


def _named_words(question: str) -> list[str]:
    """Capitalised words inside the question (not its first word): the names it asks about."""
    words = [m.group() for m in _WORD.finditer(question)]
    return [w for w in words[1:] if w[:1].isupper() and w.lower() not in QUESTION_WORDS and w.lower() not in _stopwords()]


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
