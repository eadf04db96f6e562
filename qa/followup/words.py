"""The resolver's vocabulary: word classes, tokens, what the corpus says about capitalised
words (``Lexicon``), and the plain records it works on (``Exchange``, ``Entity``)."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field


HISTORY_TURNS = 3  # how far back references are looked for

PERSON, PLACE, GROUP, THING, YEAR = "person", "place", "group", "thing", "year"

WH_WORDS = {"who", "whom", "whose", "what", "which", "when", "where", "why", "how"}
AUXILIARIES = {
    "is", "was", "are", "were", "do", "does", "did", "has", "have", "had", "can", "could",
    "would", "will", "should", "shall", "may", "might", "must",
}
_LEADING_CONNECTIVES = re.compile(r"^(?:and|but|so|then|also|ok|okay|now)\b[\s,]*", re.IGNORECASE)
# "Okay. Did the diet help?": an opening sentence of its own, kept as said.
_OPENING_SENTENCE = re.compile(r"^(?:ok|okay|now|so|and|but|then|also|right|alright|great|thanks)[.!]\s+(?=\S)", re.IGNORECASE)
_ELLIPSIS_OPENERS = re.compile(
    r"^(?:(?:and|but)\s+)?(?:what|how)\s+about\b\s*|^(?:and|but|also)\b\s*", re.IGNORECASE
)
PREPOSITIONS = {
    "in", "at", "to", "from", "towards", "toward", "into", "during", "before", "after", "since",
    "for", "with", "against", "on", "of", "about", "by", "over", "under", "between", "than",
    "like", "despite", "until", "through", "within", "around", "among", "behind", "beside",
    "besides", "near", "upon", "without", "across", "along", "beyond", "per", "via",
}
_LOCATIVE = {"in", "at", "to", "from", "towards", "toward", "into"}
_FUNCTION_WORDS = WH_WORDS | AUXILIARIES | PREPOSITIONS | {
    "the", "a", "an", "and", "or", "but", "not", "no", "so", "then", "that", "this", "these",
    "those", "it", "its", "he", "him", "his", "she", "her", "they", "them", "their", "there",
    "i", "you", "we", "me", "my", "your", "our", "be", "been", "being", "also", "just", "only",
    "very", "more", "most", "some", "any", "all", "both", "each", "one", "other", "own", "same",
    "such", "as", "if", "else", "next", "later", "afterwards", "happen", "happened", "happens",
    "mean", "meant", "result", "results", "say", "said", "tell", "told", "know", "do", "done",
    "role", "about", "exactly", "really",
}
# Words that open a conversational sentence and name no one there: interjections and the
# imperatives of requests ("Okay. Tell me about …", "Describe the 321 method."); not "yes",
# which is also a band.
OPENERS = frozenset({
    "okay", "ok", "cool", "wow", "great", "thanks", "thank", "yeah", "yep", "oh", "ah",
    "hmm", "interesting", "nice", "sure", "well", "please", "alright", "right", "fine", "good",
    "hi", "hello", "hey", "awesome", "perfect", "excellent", "amazing", "sounds", "actually",
    "anyway", "now", "tell", "describe", "explain", "let", "give", "list", "show", "compare",
    "find", "discuss", "summarize", "summarise", "define", "provide", "continue", "talk",
})
# Abbreviations whose period ends no sentence ("Dr. Zhivago", "St. Petersburg").
TITLE_ABBREVIATIONS = frozenset({
    "mr", "mrs", "ms", "dr", "st", "jr", "sr", "prof", "gen", "col", "lt", "capt", "sgt", "gov",
    "sen", "rep", "rev", "mt", "ft", "vs", "no", "vol", "fig", "co", "inc", "ltd", "corp", "mme",
})
# A lower-case head noun that makes a name a group or a thing: "the Zhdanov group", "the Munich pact".
_GROUP_NOUNS = {"group", "groups", "faction", "factions", "side", "troika", "wing", "camp", "members", "powers"}
_THING_NOUNS = {
    "pact", "note", "conference", "line", "policy", "blockade", "agreement", "army", "party",
    "committee", "congress", "speech", "address", "article", "book", "government", "revolution",
    "council", "war", "border", "question", "decisions", "interviews", "interview", "birthday",
    "picture", "attempt", "downfall", "proposal", "proposals", "movement", "organisation",
    "organization", "body", "bureau", "meeting", "treaty", "plan", "programme", "program",
}
# Nouns for the kinds of named thing a conversation is about ("the band", "the film").
KIND_NOUNS = frozenset({
    "band", "group", "album", "record", "single", "song", "book", "novel", "film", "movie", "show",
    "series", "play", "musical", "team", "club", "company", "game", "magazine", "newspaper",
    "painting", "tour", "organization", "organisation", "school", "university", "city", "town",
    "country", "station", "programme", "program", "opera", "poem", "story", "project",
})
_PERSONAL = {"he": PERSON, "him": PERSON, "his": PERSON, "she": PERSON, "her": PERSON, "hers": PERSON}
_PLURAL = {"they", "them", "their", "theirs"}
_IMPERSONAL = {"it", "its"}
_POSSESSIVE = {"his", "hers", "their", "theirs", "its"}
_SUBJECT = {"he", "she", "they"}
_YEAR = re.compile(r"^(?:1[89]|20)\d\d$")
_CALENDAR = {
    "january", "february", "march", "april", "may", "june", "july", "august", "september",
    "october", "november", "december", "monday", "tuesday", "wednesday", "thursday", "friday",
    "saturday", "sunday",
}
# A word starts with a letter of any script ("Čilić", "Łódź"): [^\W\d_] is a Unicode letter.
_TOKEN = re.compile(r"[^\W\d_]\w*(?:-\d+\b|[-.][^\W\d_]\w*)*\.?(?:[’']s\b)?|\d+(?:[’']?s)?|[^\w\s]")
_POSSESSIVE_SUFFIX = re.compile(r"[’']s$")


def happens_to(before: str, previous: str) -> bool:
    """"What happened to Nina?": something happens to a person as much as to a place, so the
    name after it is no place."""
    return previous.lower() == "to" and before.lower().startswith("happen")


@dataclass(frozen=True)
class Exchange:
    """One past turn as the resolver sees it."""

    question: str  # the standalone question that was searched
    answer: str | None = None
    answer_type: str = "other"  # qa.answer.classify's label: person, date, place, organisation, ...
    evidence: str = ""  # the cited quote(s), where "that pact" may be named in full
    asked: str = ""  # the question as typed; what the rewrite added to it is the topic


@dataclass(frozen=True)
class Lexicon:
    """What the corpus says about capitalised words: which are names and how they are used."""

    names: frozenset[str] = frozenset()  # capitalised mid-sentence at least once
    things: frozenset[str] = frozenset()  # usually after "the" (the Politburo, the Kremlin)
    places: frozenset[str] = frozenset()  # usually after in/at/to/from (in Asia, to Moscow)
    # Typed names from a gazetteer (lower case → person/place/thing), which beat the heuristics.
    kinds: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_texts(cls, texts: Iterable[str], kinds: Mapping[str, str] | None = None) -> Lexicon:
        capitalised: Counter[str] = Counter()
        after_the: Counter[str] = Counter()
        after_locative: Counter[str] = Counter()
        for text in texts:
            tokens = [t.group() for t in _TOKEN.finditer(text)]
            for i, token in enumerate(tokens):
                if i == 0 or not token[0].isupper() or _ends_a_sentence(tokens[i - 1]):
                    continue
                word = _core(token)
                if word == "I":  # the pronoun, capitalised everywhere, names no one
                    continue
                capitalised[word] += 1
                previous = tokens[i - 1].lower()
                if previous == "the":
                    after_the[word] += 1
                elif previous in _LOCATIVE and not _POSSESSIVE_SUFFIX.search(token):
                    if not happens_to(tokens[i - 2] if i > 1 else "", previous):
                        after_locative[word] += 1
        names = frozenset(w.lower() for w in capitalised)
        things = frozenset(w.lower() for w, n in capitalised.items() if after_the[w] / n >= 0.3)
        places = frozenset(
            w.lower() for w, n in capitalised.items() if w.lower() not in things and after_locative[w] / n >= 0.3
        )
        return cls(names=names, things=things, places=places, kinds=dict(kinds or {}))

    def to_json(self) -> dict[str, list[str]]:
        """The untyped tables (``kinds`` comes from the corpus's names table, read at query time)."""
        return {"names": sorted(self.names), "things": sorted(self.things), "places": sorted(self.places)}

    @classmethod
    def from_json(cls, data: Mapping[str, Iterable[str]], kinds: Mapping[str, str] | None = None) -> Lexicon:
        return cls(
            names=frozenset(data["names"]), things=frozenset(data["things"]), places=frozenset(data["places"]),
            kinds=dict(kinds or {}),
        )


GAZETTEER_KINDS = {"person": PERSON, "place": PLACE, "organisation": THING, "work": THING, "event": THING}


@dataclass(frozen=True)
class Entity:
    text: str  # as written, without a possessive: "Dekanosov", "Beria-Malenkov group", "1939"
    kind: str  # person | place | group | thing | year
    determiner: str = ""  # "the" when the source said "the Politburo"
    start: int = -1  # character offsets in the source text
    end: int = -1

    @property
    def surface(self) -> str:
        return f"{self.determiner} {self.text}" if self.determiner else self.text

    @property
    def key(self) -> str:
        return self.text.lower()


@dataclass
class _Token:
    text: str
    start: int
    end: int
    lower: str = field(init=False)

    def __post_init__(self) -> None:
        self.lower = self.text.lower()


def _words(text: str) -> list[_Token]:
    return [_Token(m.group(), m.start(), m.end()) for m in _TOKEN.finditer(text) if m.group()[0].isalnum()]


_SENTENCE_STOPS = frozenset({".", "!", "?", ":", ";", "“", '"', "—"})


def _ends_a_sentence(token: str) -> bool:
    """A stop of its own, or a lower-case word or an opener that carries one ("the 321 method."
    or "Okay." before "Tell me …"); a capitalised word's period may be part of a name
    ("Portugal. The Man"), an initial's or an abbreviation's is ("J.", "Dr.", "U.S.")."""
    if token in _SENTENCE_STOPS:
        return True
    word = token[:-1]
    if not token.endswith(".") or len(word) < 2 or "." in word or word.lower() in TITLE_ABBREVIATIONS:
        return False
    return word.islower() or word.lower() in OPENERS


def _core(token: str) -> str:
    return _POSSESSIVE_SUFFIX.sub("", token).rstrip(".") if len(token) > 2 else token


_DEFINITION = re.compile(r"^(?:what|who)\s+(?:is|are|was|were)\s+([\w'-]+(?:\s+[\w'-]+){0,3})\s*[?!.]*$", re.IGNORECASE)


def is_definition(body: str) -> bool:
    """"What is primatology?", "Who is Namor?": a question for what a bare term (no article, no
    pronoun) means names its own subject, so nothing from the conversation is added to it."""
    match = _DEFINITION.match(body)
    return match is not None and not any(w.lower() in _FUNCTION_WORDS for w in match.group(1).split())


_ANOTHER = re.compile(
    r"\b(?:who|whom|what|which|where|when|anyone|anybody|anything|someone|somebody|something)\s+else\b"
    r"|\b(?:which|what|any|some|other)\s+other\b|\banother\b|\bbesides\b|\bapart from\b|\baside from\b",
    re.IGNORECASE,
)


def asks_for_another(question: str) -> bool:
    """"Who else …?", "Which other country …?", "Any other …?", "another", "besides": the
    question wants an answer the conversation has not given yet ("the other group" is one
    particular group, and does not count)."""
    return _ANOTHER.search(question) is not None
