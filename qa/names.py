"""Names as readers spell them: map the question's names onto the corpus's own spellings.

The article (translated from German in 1952, then scanned) writes Khrustschev, Kosseigin,
Vishinsky, Dekanosov; readers ask about Khrushchev, Kosygin, Vyshinsky, Dekanozov. BM25 never
matches those, and the embedding model barely does. Two layers find the corpus spelling:

1. a curated table (``names.json`` in the corpus directory: canonical form, type, spellings);
2. for names nobody listed, a transliteration key (tsch/shch/sch → sh, kh → h, w → v, -off →
   -ov, y/j/ei → i, z → s, doubled letters once, ...) compared exactly and then fuzzily
   (rapidfuzz) against the corpus's own vocabulary of *names*: capitalised words the corpus
   never writes in lower case. Only capitalised question words that are not ordinary words of
   the corpus are looked up, so ordinary English words are never rewritten.

The matched corpus spelling replaces the asked one in the question used for BM25 and answer
extraction, and is added to the question that is embedded.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from qa.errors import CorpusError

TABLE_FILE = "names.json"
_FUZZY_CUTOFF = 89.0  # rapidfuzz ratio (0-100) between transliteration keys; "Australia" vs "Austria" is 87.5
_MIN_NAME_LENGTH = 4

_WORD = re.compile(r"[^\W\d_]+(?:[-’'][^\W\d_]+)*")
_CAPITALISED = re.compile(r"^[A-Z][a-z]")
_INITIAL = re.compile(r"[A-Z]\.")
_SENTENCE_START = re.compile(r"(?:^|[.!?][”’\"')]?\s+|\n\s*)[“\"‘(]?$")
_INITIALS_BEFORE = re.compile(r"(?<![\w.])(?:[A-Z]\.\s?)+$")
_FIRST_NAME_BEFORE = re.compile(r"(?<!\w)([A-Z][a-z]+)\s$")
_TITLES = frozenset(
    ["Premier", "Minister", "Marshal", "Colonel", "General", "Commissar", "Vice-Commissar", "President", "Foreign", "Deputy", "Prime", "Ambassador", "Secretary", "Chairman", "Comrade", "Dr", "Mr", "Finnish", "Soviet", "German", "Russian", "Commissar", "Vice", "Defense", "Affairs", "Commissariat", "Ministry", "Director", "Counselor", "Ambassadress", "Governor", "Chief", "Secretary-General"]
)
# Runs of capitalised words and initials: candidate names ("L. M. Kaganovich", "Peter Kleist").
_NAME_RUN = re.compile(r"(?:[A-Z]\.\s?)*[A-Z][a-zà-ÿ]+(?:\s(?:[A-Z]\.\s?)*[A-Z][a-zà-ÿ]+)*")
# Applied in order to a lower-cased, accent-free word: German-style and English-style
# transliterations of the same Russian name meet in one key.
_KEY_RULES = [
    (re.compile(r"tsch"), "ch"),
    (re.compile(r"shch|sch"), "sh"),
    (re.compile(r"tch"), "ch"),
    (re.compile(r"zh"), "j"),
    (re.compile(r"kh"), "h"),
    (re.compile(r"ck"), "k"),
    (re.compile(r"ph"), "f"),
    (re.compile(r"w"), "v"),
    (re.compile(r"(?:ff|ow)$"), "ov"),
    (re.compile(r"tz"), "ts"),
    (re.compile(r"z"), "s"),
    (re.compile(r"ei|ey|y|j"), "i"),
    (re.compile(r"ii$"), "i"),
    (re.compile(r"(.)\1+"), r"\1"),
]


@dataclass(frozen=True)
class NameEntry:
    canonical: str
    type: str
    spellings: tuple[str, ...]


@dataclass(frozen=True)
class NameMatch:
    """``asked`` (at ``start:end`` in the question) is written ``corpus`` in the corpus (the
    most used spelling first; the article has both "Atlantic" and the misprint "Adantic")."""

    asked: str
    start: int
    end: int
    corpus: tuple[str, ...]
    canonical: str | None  # from the table, when the name is listed there
    how: str  # "table" | "transliteration" | "fuzzy"


@dataclass(frozen=True)
class Entity:
    """A named entity found in a text: ``text[start:end]``, its type (a table type such as
    person / place / organisation / work / event, or "name" for a corpus name nobody typed)."""

    start: int
    end: int
    type: str
    canonical: str


def transliteration_key(word: str) -> str:
    """A spelling-insensitive key: 'Khrushchev' and 'Khrustschev' both give 'hrushev'."""
    text = unicodedata.normalize("NFKD", word.lower())
    text = "".join(ch for ch in text if ch.isalpha() and ch.isascii())
    for pattern, replacement in _KEY_RULES:
        text = pattern.sub(replacement, text)
    return text


def load_table(corpus_dir: Path) -> list[NameEntry]:
    """The corpus's variant table, or none when the corpus has no ``names.json``."""
    path = Path(corpus_dir) / TABLE_FILE
    if not path.exists():
        return []
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return [
            NameEntry(str(e["canonical"]), str(e.get("type", "name")), tuple(str(s) for s in e.get("spellings", [])))
            for e in data["names"]
        ]
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError) as exc:
        raise CorpusError(f"{path}: not a valid name table ({type(exc).__name__}: {exc})") from None


class _SpellingPattern:
    """A spelling as a whole word, any case, possessive allowed — compiled on first need: the
    table has ~200 spellings, compiling them all cost every fresh `qa ask` ~60 ms, and most
    questions contain none of them."""

    __slots__ = ("_ascii", "_compiled", "_lower", "pattern")

    def __init__(self, spelling: str) -> None:
        self.pattern = rf"(?<!\w){re.escape(spelling)}(?:’s|'s)?(?!\w)"
        self._lower = spelling.lower()
        self._ascii = spelling.isascii()
        self._compiled: re.Pattern[str] | None = None

    def finditer(self, text: str) -> Iterator[re.Match[str]]:
        # Between ASCII strings, case-insensitive matching is lower-case equality, so an ASCII
        # text that does not contain the lower-cased spelling cannot match (exact, not a guess).
        if self._ascii and text.isascii() and self._lower not in text.lower():
            return iter(())
        if self._compiled is None:
            self._compiled = re.compile(self.pattern, re.IGNORECASE)
        return self._compiled.finditer(text)


@dataclass(frozen=True)
class Vocabulary:
    """The corpus's words as the name finder needs them: every lower-case word, and how often
    each capitalised word occurs other than as a bare sentence opener. Computed once, when the
    index is built (``vocabulary.json``), because scanning a large corpus costs seconds that a
    fresh ``qa ask`` should not pay."""

    ordinary: frozenset[str]
    capitalised: dict[str, int]

    @classmethod
    def of_texts(cls, texts: Iterable[str]) -> Vocabulary:
        lower_words: set[str] = set()
        capitalised: dict[str, int] = {}
        for text in texts:
            for found in _WORD.finditer(text):
                # A capitalised word that only ever starts a sentence ("Aside") is no name.
                initial = _SENTENCE_START.search(text, max(0, found.start() - 4), found.start()) is not None
                for part in found.group().split("-"):  # "Beria-Malenkov-Khrustschev" names three people
                    part = _strip_possessive(part)
                    if _CAPITALISED.match(part):
                        capitalised[part] = capitalised.get(part, 0) + (0 if initial and part == found.group() else 1)
                    elif part.islower():
                        lower_words.add(part)
        return cls(frozenset(lower_words), capitalised)

    def to_json(self) -> dict[str, object]:
        return {"ordinary": sorted(self.ordinary), "capitalised": dict(sorted(self.capitalised.items()))}

    @classmethod
    def from_json(cls, data: dict[str, object]) -> Vocabulary:
        ordinary, capitalised = data["ordinary"], data["capitalised"]
        if not isinstance(ordinary, list) or not isinstance(capitalised, dict):
            raise ValueError("malformed vocabulary")
        return cls(frozenset(ordinary), {str(w): int(n) for w, n in capitalised.items()})


class NameMatcher:
    """Finds the names of a question in the corpus's own spelling. Build once per index.

    ``texts`` (the corpus as search sees it) is read only when it is needed: to make the
    vocabulary when none is given, and to check which table spellings the corpus uses."""

    def __init__(self, texts: Iterable[str], table: list[NameEntry], vocabulary: Vocabulary | None = None) -> None:
        texts = texts if vocabulary is not None else list(texts)
        vocabulary = vocabulary or Vocabulary.of_texts(texts)
        self._ordinary = vocabulary.ordinary
        capitalised = vocabulary.capitalised
        # A name: capitalised, long enough, never written in lower case ("Soviet" is, "Molotov" not).
        self.names = frozenset(
            w for w, n in capitalised.items() if n and w.lower() not in self._ordinary and len(w) >= _MIN_NAME_LENGTH
        )
        self._by_frequency = sorted(self.names, key=lambda n: (-capitalised[n], n))
        self._keys: dict[str, list[str]] | None = None
        corpus_text = "\n".join(texts).lower() if table else ""
        # Table spellings the corpus actually uses, longest first so "Mao Tse-tung" beats "Mao".
        self._table: list[tuple[_SpellingPattern, tuple[str, ...], NameEntry]] = []
        for entry in table:
            used = [s for s in (entry.canonical, *entry.spellings) if _occurs(s.lower(), corpus_text)]
            if not used:
                continue
            used.sort(key=lambda s: -corpus_text.count(s.lower()))
            for spelling in sorted({entry.canonical, *entry.spellings}, key=len, reverse=True):
                self._table.append((_SpellingPattern(spelling), tuple(used), entry))
        self._table.sort(key=lambda item: -len(item[0].pattern))
        self._canonical_of = {
            spelling.lower(): entry.canonical for entry in table for spelling in entry.spellings
        }
        # The gazetteer: every spelling of every entry, typed, matched case-sensitively (a
        # capitalised "Commentary" is the magazine, a lower-case one is not).
        self._entry_of = {s: entry for entry in table for s in (entry.canonical, *entry.spellings)}
        known = sorted(self._entry_of, key=len, reverse=True)
        # A trailing bare "s" is a possessive the scan lost its apostrophe from ("Khrustschevs defeat").
        self._known = re.compile(rf"(?<!\w)(?:{'|'.join(map(re.escape, known))})(?=s?(?!\w))") if known else None
        spellings = sorted(self._canonical_of, key=len, reverse=True)
        self._any_spelling = (
            re.compile(rf"(?<!\w)(?:{'|'.join(map(re.escape, spellings))})(?:’s|'s)?(?!\w)", re.IGNORECASE)
            if spellings
            else None
        )

    @property
    def has_table(self) -> bool:
        """Whether the corpus has a names table (``names.json``), the only source of typed names."""
        return bool(self._entry_of)

    def match(self, question: str) -> list[NameMatch]:
        matches: list[NameMatch] = []
        taken: list[tuple[int, int]] = []
        for pattern, corpus_spelling, entry in self._table:
            for found in pattern.finditer(question):
                span = (found.start(), found.start() + len(_strip_possessive(found.group())))
                if any(s < span[1] and span[0] < e for s, e in taken):
                    continue
                asked = question[span[0] : span[1]]
                taken.append(span)
                if [s.lower() for s in corpus_spelling] != [asked.lower()]:
                    matches.append(NameMatch(asked, *span, corpus_spelling, entry.canonical, "table"))
        for found in _WORD.finditer(question):
            word = _strip_possessive(found.group())
            span = (found.start(), found.start() + len(word))
            if any(s < span[1] and span[0] < e for s, e in taken) or not self._is_candidate(word):
                continue
            spelling, how = self._lookup(word)
            if spelling and spelling != word:
                canonical = self._canonical_of.get(spelling.lower())
                matches.append(NameMatch(word, *span, (spelling,), canonical, how))
        return sorted(matches, key=lambda m: m.start)

    def canonical(self, text: str) -> str:
        """``text`` with every listed spelling replaced by its canonical form (one pass, longest
        spelling first, so a replacement is never itself rewritten)."""
        if self._any_spelling is None:
            return text
        return self._any_spelling.sub(
            lambda m: _keep_possessive(m.group(), self._canonical_of[_strip_possessive(m.group()).lower()]), text
        )

    def entities(self, text: str, start: int = 0, end: int | None = None) -> list[Entity]:
        """The named entities in ``text[start:end]`` (absolute offsets): table entries with their
        type, then corpus names nobody listed as "name"; a first name or initials right before a
        listed person belong to it ("Walter Ulbricht", "L. M. Kaganovich")."""
        end = len(text) if end is None else end
        found: list[Entity] = []
        if self._known is not None:
            for m in self._known.finditer(text, start, end):
                entry = self._entry_of[m.group()]
                found.append(Entity(m.start(), m.end(), entry.type, entry.canonical))
        taken = [(e.start, e.end) for e in found]
        for m in _NAME_RUN.finditer(text, start, end):
            words = [w for w in re.split(r"[\s-]+", m.group()) if w]
            if any(s < m.end() and m.start() < e for s, e in taken):
                continue
            if all(_strip_possessive(w) in self.names or _INITIAL.fullmatch(w) for w in words) and any(
                _strip_possessive(w) in self.names for w in words
            ):
                stripped = _strip_possessive(m.group())
                # Words of office nobody listed ("Prime Minister", "Soviet"): a role, not a name.
                kind = "role" if all(w in _TITLES or _INITIAL.fullmatch(w) for w in words) else "name"
                found.append(Entity(m.start(), m.start() + len(stripped), kind, stripped))
        found.sort(key=lambda e: e.start)
        merged: list[Entity] = []
        for entity in found:
            if (
                merged
                and entity.type == "person"
                and merged[-1].type == "name"
                and text[merged[-1].end : entity.start] == " "
            ):
                first = merged.pop()
                entity = Entity(first.start, entity.end, "person", entity.canonical)
            if entity.type == "person":
                entity = self._with_first_names(text, start, entity)
            merged.append(entity)
        return merged

    def _with_first_names(self, text: str, start: int, entity: Entity) -> Entity:
        """Extend a listed person leftwards over initials and a first name ("Walter Ulbricht",
        "L. M. Kagano-vich"), never over a title ("Premier Kekkonen" stays "Kekkonen")."""
        at = entity.start
        while True:
            if initials := _INITIALS_BEFORE.search(text, max(start, at - 12), at):
                at = initials.start()
            first = _FIRST_NAME_BEFORE.search(text, max(start, at - 24), at)
            if not first or not self._is_first_name(first.group(1)):
                return Entity(at, entity.end, entity.type, entity.canonical)
            at = first.start()

    def _is_first_name(self, word: str) -> bool:
        return word in self.names and word not in _TITLES and word not in self._entry_of

    def _is_candidate(self, word: str) -> bool:
        return (
            bool(_CAPITALISED.match(word))
            and len(word) >= _MIN_NAME_LENGTH
            and word not in self.names
            and word.lower() not in self._ordinary
            and word.lower() not in _common_english()
        )

    @property
    def _by_key(self) -> dict[str, list[str]]:
        """The corpus's names by transliteration key, most frequent first; made on the first
        question that needs it (thousands of keys in a large corpus)."""
        if self._keys is None:
            keys: dict[str, list[str]] = {}
            for name in self._by_frequency:
                keys.setdefault(transliteration_key(name), []).append(name)
            self._keys = keys
        return self._keys

    def _lookup(self, word: str) -> tuple[str | None, str]:
        key = transliteration_key(word)
        if key in self._by_key:
            return self._by_key[key][0], "transliteration"
        from rapidfuzz import fuzz, process

        candidates = [k for k in self._by_key if k[:1] == key[:1] and abs(len(k) - len(key)) <= 3]
        best = process.extractOne(key, candidates, scorer=fuzz.ratio, score_cutoff=_FUZZY_CUTOFF)
        if best is None:
            return None, ""
        return self._by_key[best[0]][0], "fuzzy"


def rewrite(question: str, matches: list[NameMatch]) -> str:
    """The question with each matched name in the corpus's main spelling (for answering: the
    asked name is then recognised in the evidence and never given back as the answer)."""
    pieces, at = [], 0
    for m in matches:
        keep = m.asked.lower() in {s.lower() for s in m.corpus}
        pieces += [question[at : m.start], m.asked if keep else m.corpus[0]]
        at = m.end
    pieces.append(question[at:])
    return "".join(pieces)


def lexical_query(question: str, matches: list[NameMatch]) -> str:
    """For BM25: the rewritten question plus every other corpus spelling of its names."""
    rewritten = rewrite(question, matches)
    extra = [s for m in matches for s in m.corpus if s.lower() not in rewritten.lower()]
    return " ".join([rewritten, *dict.fromkeys(extra)])


def dense_query(question: str, matches: list[NameMatch]) -> str:
    """What gets embedded: the reader's question plus the corpus spellings of its names."""
    spellings = [s for m in matches for s in m.corpus if s.lower() not in question.lower()]
    return f"{question} ({', '.join(dict.fromkeys(spellings))})" if spellings else question


def _occurs(spelling: str, text: str) -> bool:
    """Whether ``spelling`` occurs in ``text`` as a whole word (not preceded or followed by a
    ``\\w`` character), by str.find: the equivalent regex opens with a look-behind, which gets no
    literal-prefix scan and made every load ~50 ms slower."""
    start = text.find(spelling)
    while start >= 0:
        end = start + len(spelling)
        if not (start and _is_word_char(text[start - 1])) and not (end < len(text) and _is_word_char(text[end])):
            return True
        start = text.find(spelling, start + 1)
    return False


def _is_word_char(char: str) -> bool:
    return char.isalnum() or char == "_"  # exactly re's \w for str patterns


def _strip_possessive(word: str) -> str:
    for suffix in ("’s", "'s", "’", "'"):
        if word.endswith(suffix):
            return word[: -len(suffix)]
    return word


def _keep_possessive(found: str, canonical: str) -> str:
    stripped = _strip_possessive(found)
    return canonical + found[len(stripped) :]


@lru_cache(maxsize=1)
def _common_english() -> frozenset[str]:
    """Question and function words that are capitalised only because they start a sentence."""
    from qa.bm25 import stopwords  # bm25s's list, without importing bm25s (and scipy)

    return stopwords("en") | {
        "who", "whom", "whose", "what", "which", "when", "where", "why", "how", "name", "list",
        "tell", "describe", "explain", "give", "was", "were", "did", "does", "is", "are",
    }
