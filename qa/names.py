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
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from qa.errors import CorpusError

TABLE_FILE = "names.json"
_FUZZY_CUTOFF = 84.0  # rapidfuzz ratio (0-100) between transliteration keys
_MIN_NAME_LENGTH = 4

_WORD = re.compile(r"[^\W\d_]+(?:[-’'][^\W\d_]+)*")
_CAPITALISED = re.compile(r"^[A-Z][a-z]")
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


class NameMatcher:
    """Finds the names of a question in the corpus's own spelling. Build once per index."""

    def __init__(self, texts: Iterable[str], table: list[NameEntry]) -> None:
        lower_words: set[str] = set()
        capitalised: dict[str, int] = {}
        corpus_text_parts = []
        for text in texts:
            corpus_text_parts.append(text)
            for word in _WORD.findall(text):
                for part in word.split("-"):  # "Beria-Malenkov-Khrustschev" names three people
                    part = _strip_possessive(part)
                    if _CAPITALISED.match(part):
                        capitalised[part] = capitalised.get(part, 0) + 1
                    elif part.islower():
                        lower_words.add(part)
        self._ordinary = frozenset(lower_words)
        # A name: capitalised, long enough, never written in lower case ("Soviet" is, "Molotov" not).
        self.names = frozenset(w for w in capitalised if w.lower() not in lower_words and len(w) >= _MIN_NAME_LENGTH)
        self._by_key: dict[str, list[str]] = {}
        for name in sorted(self.names, key=lambda n: -capitalised[n]):
            self._by_key.setdefault(transliteration_key(name), []).append(name)
        corpus_text = "\n".join(corpus_text_parts).lower()
        # Table spellings the corpus actually uses, longest first so "Mao Tse-tung" beats "Mao".
        self._table: list[tuple[re.Pattern[str], tuple[str, ...], NameEntry]] = []
        for entry in table:
            used = [s for s in (entry.canonical, *entry.spellings) if _occurs(s.lower(), corpus_text)]
            if not used:
                continue
            used.sort(key=lambda s: -corpus_text.count(s.lower()))
            for spelling in sorted({entry.canonical, *entry.spellings}, key=len, reverse=True):
                pattern = re.compile(rf"(?<!\w){re.escape(spelling)}(?:’s|'s)?(?!\w)", re.IGNORECASE)
                self._table.append((pattern, tuple(used), entry))
        self._table.sort(key=lambda item: -len(item[0].pattern))
        self._canonical_of = {
            spelling.lower(): entry.canonical for entry in table for spelling in entry.spellings
        }

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
            corpus_spelling, how = self._lookup(word)
            if corpus_spelling and corpus_spelling != word:
                canonical = self._canonical_of.get(corpus_spelling.lower())
                matches.append(NameMatch(word, *span, (corpus_spelling,), canonical, how))
        return sorted(matches, key=lambda m: m.start)

    def canonical(self, text: str) -> str:
        """``text`` with every listed corpus spelling replaced by its canonical form."""
        for pattern, _, entry in self._table:
            text = pattern.sub(lambda m, e=entry: _keep_possessive(m.group(), e.canonical), text)
        return text

    def _is_candidate(self, word: str) -> bool:
        return (
            bool(_CAPITALISED.match(word))
            and len(word) >= _MIN_NAME_LENGTH
            and word not in self.names
            and word.lower() not in self._ordinary
            and word.lower() not in _common_english()
        )

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
    return re.search(rf"(?<!\w){re.escape(spelling)}(?!\w)", text) is not None


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
    from bm25s.stopwords import STOPWORDS_EN

    return frozenset(STOPWORDS_EN) | {
        "who", "whom", "whose", "what", "which", "when", "where", "why", "how", "name", "list",
        "tell", "describe", "explain", "give", "was", "were", "did", "does", "is", "are",
    }
