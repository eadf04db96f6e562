"""The rule reader's evidence: the corpus tables (``Reader``), what a question asks
(``analyze``), how much of it a sentence covers, and the typed candidate spans in a sentence."""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
import numpy as np
from qa.corpus import Repair, apply_repairs
from qa.names import Entity
from qa.answer import (
    _kind,
)
from qa.rules.text import (
    Question,
    ScoredSentence,
    Span,
    _CLAUSE_BREAK,
    _COUNTRIES_AS_ACTORS,
    _DATE,
    _FORMER_LATTER,
    _MONTH,
    _NEIGHBOUR_CREDIT,
    _NUMBER,
    _PLACE_CUE,
    _POST,
    _PRONOUN,
    _QUOTED,
    _former_latter,
    _joins_names,
    _possessor_of,
    _predicate_terms,
    _stem,
    _stopwords,
    _trim_tail,
    _unit_length,
    _variants,
    _words,
    content_stems,
)


@dataclass(frozen=True)
class Reader:
    """What answering needs from the index, prepared once: the corpus texts and repairs, IDF
    weights over sentences, the gazetteer's entity finder, and the sentence encoder.

    The index stores no sentence vectors (retrieval needs passages only); the few sentences a
    question ranks are embedded when it asks (``sentence_vectors``) and kept for the next one."""

    embed: Callable[[list[str]], np.ndarray]
    documents: dict[str, str]
    repairs: dict[str, tuple[Repair, ...]]
    idf: dict[str, float]
    unknown_idf: float
    entities: Callable[[str, int, int], list[Entity]]
    neighbours: dict[tuple[str, int, int], tuple[tuple[int, int], ...]]
    folded: str = ""  # the corpus in lower case with single spaces, to look phrases up
    _vectors: dict[tuple[str, int, int], np.ndarray] = field(default_factory=dict)

    def sentence_vectors(self, keys: list[tuple[str, int, int]]) -> dict[tuple[str, int, int], np.ndarray]:
        """The vectors of these sentences (doc, start, end), embedding in one batch the ones not
        seen yet. The encoder gives a text the same vector whatever it is batched with, so a
        sentence's vector does not depend on which question asked first."""
        missing = list(dict.fromkeys(k for k in keys if k not in self._vectors))
        if missing:
            texts = [apply_repairs(self.documents[d], s, e, self.repairs.get(d, ())) for d, s, e in missing]
            self._vectors.update(zip(missing, self.embed(texts)))
        return {k: self._vectors[k] for k in keys}

    @classmethod
    def build(
        cls,
        sentence_keys: list[tuple[str, int, int]],
        embed: Callable[[list[str]], np.ndarray],
        documents: dict[str, str],
        repairs: dict[str, tuple[Repair, ...]],
        entities: Callable[[str, int, int], list[Entity]],
    ) -> Reader:
        keys = sorted(sentence_keys)
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
            embed, documents, repairs, idf, math.log(1 + (n + 0.5) / 0.5), entities, neighbours,
            folded,
        )


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


def _phrase_known(phrase: str, reader: Reader) -> bool:
    """The corpus writes the phrase, perhaps with an initial or a word between ("James F. Byrnes")."""
    words = [re.escape(w) for w in phrase.lower().split()]
    return bool(re.search(r"\b" + r"(?:\s+\S+){0,1}\s+".join(words), reader.folded))


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
