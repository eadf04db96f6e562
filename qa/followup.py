"""Follow-up questions → standalone questions, by rules (no generative model exists offline).

``resolve(question, history, lexicon)`` rewrites a question that depends on the conversation
("Which post did he hold before that?", "And Beria?", "What about in Asia?") into one that can
be searched on its own, and returns a self-contained question unchanged. It is a pure function
of its arguments, so it is tested on many cases without the model.

The rules, in order:

1. No history, or nothing in the question points back → unchanged (a leading "And" is only
   dropped when something else is rewritten).
2. Ellipsis — "And X?", "What about X?", "How about in Asia?", or a bare name: the previous
   standalone question is reused with X in place of the entity of the same kind (person, place,
   group, thing, year; "Malenkov and Beria" replaces "Zhdanov and Molotov"; a prepositional
   "in Asia" replaces "in Europe"; a place replaces its adjective, "the Asian line" → "the line
   in Europe"), or X is appended.
3. Left dislocation: "And the other group — where was it formed?" → "Where was the other group
   formed?".
4. A bare or short question-word fragment ("Why?", "When exactly?", "Around whom?", "After whose
   death?") is asked again on the previous question: "After whose death was Vosnesensky
   promoted ...?" (the answer fills a "Who ...?" subject), else "When was it that <event>?".
5. Pronouns: he/him/his/she/her → the person the previous rewrite brought in (the topic: "he" in
   "Which post did he hold?" stays Dekanosov even after the answer "Stalin"), if the pronoun
   fits, else the most recent person; they/them/their → the most recent group (a list answer,
   "the Zhdanov group", "Lenin's two interviews"), else person; it/its → the last answer when it
   is a thing, else the thing the recent turns mention most ("the Cominform"), else "the group
   that came to the fore ..." (what the last question asked about) or "the fact that <event>";
   "there" → "in <place>". Candidates come from the last three turns, newest first: the answer
   when it names something, then the entities of that turn's standalone question. Only the
   first pronoun of each referent is replaced, so the result still reads naturally; a possessive
   after "Who <verb>" belongs to the asker ("Who told of it in his book?") and stays.
6. Demonstratives: "that body" right after "Which body ...?" → the answer; "that pact" → the
   nearest "X pact" mentioned in the recent questions, answers or cited quotes ("the
   Hitler-Stalin pact"); a bare "that" ("before that") → the previous turn as a clause ("before
   he was brought into the Foreign Commissariat ...").
7. A generic question with no entity or pronoun of its own ("What happened next?", "For what
   reasons?") gets the previous event: "What happened after Molotov replaced Litvinov?".

Names are recognised without a NER model: capitalised words, checked against a ``Lexicon`` of
the capitalised words the corpus itself uses mid-sentence (so "Who" or "Which" are never names)
and typed by the corpus's name table when it has one (``names.json``: person, place,
organisation, work), else by how the corpus uses them ("the Politburo" → thing, "in Asia" →
place). Lower-case phrases with a known head noun ("the other group", "that note") count too.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

HISTORY_TURNS = 3  # how far back references are looked for

PERSON, PLACE, GROUP, THING, YEAR = "person", "place", "group", "thing", "year"

WH_WORDS = {"who", "whom", "whose", "what", "which", "when", "where", "why", "how"}
AUXILIARIES = {
    "is", "was", "are", "were", "do", "does", "did", "has", "have", "had", "can", "could",
    "would", "will", "should", "shall", "may", "might", "must",
}
_LEADING_CONNECTIVES = re.compile(r"^(?:and|but|so|then|also|ok|okay|now)\b[\s,]*", re.IGNORECASE)
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
# A lower-case head noun that makes a name a group or a thing: "the Zhdanov group", "the Munich pact".
_GROUP_NOUNS = {"group", "groups", "faction", "factions", "side", "troika", "wing", "camp", "members", "powers"}
_THING_NOUNS = {
    "pact", "note", "conference", "line", "policy", "blockade", "agreement", "army", "party",
    "committee", "congress", "speech", "address", "article", "book", "government", "revolution",
    "council", "war", "border", "question", "decisions", "interviews", "interview", "birthday",
    "picture", "attempt", "downfall", "proposal", "proposals", "movement", "organisation",
    "organization", "body", "bureau", "meeting", "treaty", "plan", "programme", "program",
}
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
_TOKEN = re.compile(r"[A-Za-zÀ-ÿ][\wÀ-ÿ]*(?:[-.][A-Za-zÀ-ÿ][\wÀ-ÿ]*)*\.?(?:[’']s\b)?|\d+(?:[’']?s)?|[^\w\s]")
_POSSESSIVE_SUFFIX = re.compile(r"[’']s$")


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
                if i == 0 or not token[0].isupper() or tokens[i - 1] in {".", "!", "?", ":", ";", "“", '"'}:
                    continue
                word = _core(token)
                capitalised[word] += 1
                previous = tokens[i - 1].lower()
                if previous == "the":
                    after_the[word] += 1
                elif previous in _LOCATIVE and not _POSSESSIVE_SUFFIX.search(token):
                    after_locative[word] += 1
        names = frozenset(w.lower() for w in capitalised)
        things = frozenset(w.lower() for w, n in capitalised.items() if after_the[w] / n >= 0.3)
        places = frozenset(
            w.lower() for w, n in capitalised.items() if w.lower() not in things and after_locative[w] / n >= 0.3
        )
        return cls(names=names, things=things, places=places, kinds=dict(kinds or {}))


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


def resolve(question: str, history: Sequence[Exchange], lexicon: Lexicon = Lexicon()) -> str:
    """The standalone form of ``question`` given the conversation so far (oldest first)."""
    question = " ".join(question.split())
    recent = list(history)[-HISTORY_TURNS:]
    if not question or not recent:
        return question
    last = recent[-1]
    body = _LEADING_CONNECTIVES.sub("", question).strip()
    if _is_ellipsis(question, body, lexicon):
        return _expand_ellipsis(question, last, lexicon)
    dislocated = _LEFT_DISLOCATION.match(body)
    if dislocated:  # "And the other group — where was it formed?" → "Where was the other group formed?"
        phrase, rest = dislocated.group(1), dislocated.group(2)
        return _sentence_case(re.sub(r"\b(?:it|they|he|she|him|them)\b", phrase, rest, count=1))
    if _is_bare_wh(body) or _is_short_wh(body, lexicon):
        return _bare_wh_question(body, last)
    rewritten = _replace_references(body, recent, lexicon, _topic(history, lexicon, counts := Counter()), counts)
    if rewritten is not None:
        return _sentence_case(rewritten)
    if _is_generic(body, lexicon):
        event = _event(last)
        sequel = re.compile(r"\b(?:next|then|afterwards|later)\b", re.IGNORECASE)
        if sequel.search(body):  # "What happened next?" → "What happened after <event>?"
            return _sentence_case(sequel.sub(f"after {event}", body, count=1))
        if len(_words(body)) <= 3 and not any(w.lower in AUXILIARIES for w in _words(body)):
            return _sentence_case(f"{body.rstrip('?!. ')} was it that {event}?")  # "For what reasons?"
        topic = _topic(history, lexicon)
        if topic is not None and not _mentions(body, topic):
            return _sentence_case(_with_topic(body, topic))
        return question
    topic = _topic(history, lexicon)
    if topic is not None and _lacks_a_subject(body, lexicon) and not _mentions(body, topic):
        return _sentence_case(_with_topic(body, topic))
    return question


def _topic(history: Sequence[Exchange], lexicon: Lexicon, counts: Counter[str] | None = None) -> Entity | None:
    """Whom the conversation is about: the person its questions and answers name most (the
    earliest on a tie), else a thing named in two turns. A question about nobody in particular ("What
    happened in 1982?") is asked about them."""
    counts = Counter() if counts is None else counts
    first: dict[str, Entity] = {}
    for exchange in history:
        answered = _answer_entity(exchange, lexicon)
        named = [*_question_entities(exchange, lexicon), *([answered] if answered else [])]
        for entity in {e.key: e for e in named}.values():
            if entity.kind in {PERSON, THING} and " and " not in entity.text:
                counts[entity.key] += 1
                first.setdefault(entity.key, entity)
    ranked = sorted(first.values(), key=lambda e: (e.kind != PERSON, -counts[e.key]))
    for entity in ranked:
        if entity.kind == PERSON or counts[entity.key] >= 2:
            return entity
    return None


_HAPPENED = re.compile(r"\bhappen(?:ed|s)?\b(?!\s+(?:to|with)\b)", re.IGNORECASE)


def _with_topic(body: str, topic: Entity) -> str:
    """"What happened in 1982?" → "What happened to Gus Van Sant in 1982?"; otherwise the topic
    is added at the end: "Why were there financial problems for Frank Zappa?"."""
    if _HAPPENED.search(body):
        return _HAPPENED.sub(lambda m: f"{m.group()} to {topic.surface}", body, count=1)
    return f"{body.rstrip('?!. ')} for {topic.surface}?"


def _lacks_a_subject(body: str, lexicon: Lexicon) -> bool:
    """A question that names nothing and points at no one ("What happened in 1982?", "Why were
    there financial problems?", "Was this album popular?"): no name but a year, no pronoun
    that the rules above could not place. The topic is added (for retrieval, the name is what
    finds the right document of a corpus)."""
    words = _words(body)
    if not words or words[0].lower not in WH_WORDS | AUXILIARIES:
        return False
    if any(w.lower in _PERSONAL or w.lower in _PLURAL or w.lower in _IMPERSONAL for w in words):
        return False
    return all(e.kind == YEAR for e in _entities(body, lexicon))


def _mentions(body: str, entity: Entity) -> bool:
    """Does ``body`` already name ``entity``, in full or in part ("dempsey" for Miles Dempsey)?"""
    said = {w.lower for w in _words(body)}
    return any(part.lower() in said for part in entity.text.split() if len(part) > 2)


# --- detection ---------------------------------------------------------------------------------


def unresolved_reference(question: str, lexicon: Lexicon = Lexicon()) -> str | None:
    """What in ``question`` leans on an earlier turn ("they", "that pact", "And Beria?"), or None
    for a self-contained question. The conversation uses it to say that a follow-up it could not
    rewrite was searched as typed, rather than answer something unrelated in silence."""
    question = " ".join(question.split())
    body = _LEADING_CONNECTIVES.sub("", question).strip()
    if not body:
        return None
    if _is_ellipsis(question, body, lexicon) and _ELLIPSIS_OPENERS.match(question):
        return question.rstrip("?!. ")
    if _is_bare_wh(body) or _is_short_wh(body, lexicon):
        return body.rstrip("?!. ")
    tokens = _words(body)
    for i, token in enumerate(tokens):
        nxt = tokens[i + 1] if i + 1 < len(tokens) else None
        if token.lower in _PERSONAL or token.lower in _PLURAL:
            return token.text
        if token.lower == "it" and not (
            (nxt is not None and nxt.lower in {"that", "who", "true", "possible", "likely"})
            or (i == 1 and tokens[0].lower in AUXILIARIES)
        ):
            return token.text
        if token.lower in {"that", "this", "these", "those"} and nxt is not None and _next_is_noun(nxt):
            return f"{token.text} {nxt.text}"
    return None



def _words(text: str) -> list[_Token]:
    return [_Token(m.group(), m.start(), m.end()) for m in _TOKEN.finditer(text) if m.group()[0].isalnum()]


def _is_ellipsis(question: str, body: str, lexicon: Lexicon) -> bool:
    """"And Beria?", "What about in Asia?", "Beria?": a fragment with no question word or verb."""
    fragment = _ELLIPSIS_OPENERS.sub("", question).strip().rstrip("?!. ").strip()
    opened = fragment != question.rstrip("?!. ").strip()
    words = _words(fragment)
    if not words or words[0].lower in AUXILIARIES or any(w.lower in WH_WORDS for w in words):
        return False
    if opened:
        return len(words) <= 6
    # Without "and"/"what about": only a bare name or prepositional phrase counts ("Beria?").
    return len(words) <= 3 and (bool(_entities(fragment, lexicon)) or words[0].lower in PREPOSITIONS)


_LEFT_DISLOCATION = re.compile(
    r"^((?:the|this|that)\s+[^—:;,?]+?)\s*[—:;,]\s*(?:-\s*)?(\w.*\b(?:it|they|he|she|him|them)\b.*)$", re.IGNORECASE
)


def _is_short_wh(body: str, lexicon: Lexicon) -> bool:
    """"Around whom?", "After whose death?", "On what date?": a fragment asking about the last turn."""
    words = [w.lower for w in _words(body)]
    return (
        2 <= len(words) <= 4
        and words[0] in PREPOSITIONS | {"and"}
        and any(w in WH_WORDS for w in words)
        and not any(w in AUXILIARIES for w in words)
        and not _entities(body, lexicon)
    )


def _is_bare_wh(body: str) -> bool:
    words = [w.lower for w in _words(body)]
    return bool(words) and words[0] in WH_WORDS and all(w in WH_WORDS | {"many", "much", "exactly", "so"} for w in words)


def _is_generic(body: str, lexicon: Lexicon) -> bool:
    """A question with no entity and at most one content word: "What happened next?"."""
    words = _words(body)
    opening = [w.lower for w in words[:2]]
    if not (set(opening) & WH_WORDS) or _entities(body, lexicon):  # "What ...", "For what ..."
        return False
    if any(w.lower in _PERSONAL or w.lower in _PLURAL or w.lower in _IMPERSONAL for w in words):
        return False  # a pronoun that nothing in the conversation explains: leave it be
    content = [w for w in _words(body) if w.lower not in _FUNCTION_WORDS and not w.text.isdigit()]
    return len(content) <= 1


# --- entities ----------------------------------------------------------------------------------


def _core(token: str) -> str:
    return _POSSESSIVE_SUFFIX.sub("", token).rstrip(".") if len(token) > 2 else token


def _entities(text: str, lexicon: Lexicon) -> list[Entity]:
    """Names (runs of capitalised words), "the X group"-style phrases and years, in order."""
    tokens = [_Token(m.group(), m.start(), m.end()) for m in _TOKEN.finditer(text)]
    found: list[Entity] = _gazetteer_phrases(text, lexicon)
    i = 0
    while i < len(tokens):
        token = tokens[i]
        if any(e.start <= token.start < e.end for e in found):
            i += 1
            continue
        if _YEAR.match(token.text):
            found.append(Entity(token.text, YEAR, start=token.start, end=token.end))
            i += 1
            continue
        if not _is_name_word(tokens, i, lexicon) or _core(token.text).lower() in _CALENDAR:
            i += 1
            continue
        j = i
        while j + 1 < len(tokens) and _is_name_word(tokens, j + 1, lexicon, inside=True) and not _POSSESSIVE_SUFFIX.search(tokens[j].text):
            j += 1
        words = [_core(t.text) for t in tokens[i : j + 1]]
        end = tokens[j].start + len(_core(tokens[j].text))
        head = tokens[j + 1].lower if j + 1 < len(tokens) and not _POSSESSIVE_SUFFIX.search(tokens[j].text) else ""
        determiner = "the" if i > 0 and tokens[i - 1].lower == "the" else ""
        previous = tokens[i - 1].lower if i > 0 else ""
        if head in _GROUP_NOUNS | _THING_NOUNS:
            words.append(head)
            end = tokens[j + 1].end
            kind = GROUP if head in _GROUP_NOUNS else THING
            determiner = "the"  # "the latest Soviet note" → "the Soviet note"
            j += 1
        elif any(w.lower() in {"and", ","} for w in words):
            kind = GROUP
        else:
            possessive = bool(_POSSESSIVE_SUFFIX.search(tokens[j].text))  # "at Stalin's side": no place
            kind = _kind_of(words, "" if possessive and previous in _LOCATIVE else previous, lexicon)
        found.append(Entity(" ".join(words), kind, determiner, tokens[i].start, end))
        i = j + 1
    for phrase in _noun_phrases(text):
        overlapping = [e for e in found if e.start < phrase.end and phrase.start < e.end]
        if all(phrase.start <= e.start and e.end <= phrase.end for e in overlapping):  # "Lenin's interviews"
            found.append(phrase)
    return sorted(found, key=lambda e: e.start)


_NOUN_PHRASE = re.compile(
    r"\b(the|whose|[A-Z][\w-]*(?:’s|'s))\s+((?:[a-z0-9][\w-]*\s+){0,2}?)("
    + "|".join(sorted(_GROUP_NOUNS | _THING_NOUNS, key=len, reverse=True))
    # any plural: "they" after "What did the keepers find?" are the keepers, in any text
    + r"|[a-z][a-z-]{2,}s)\b(?![-’'])"
)
_NOT_PLURAL = ("ss", "us", "is", "ics", "news", "series", "species", "means")


def _gazetteer_phrases(text: str, lexicon: Lexicon) -> list[Entity]:
    """Listed names of several words, whole: "Zwischen Hitler und Stalin" is one work."""
    found: list[Entity] = []
    lowered = text.lower()
    for phrase in sorted((k for k in lexicon.kinds if " " in k), key=len, reverse=True):
        for m in re.finditer(rf"(?<!\w){re.escape(phrase)}(?!\w)", lowered):
            if not text[m.start()].isupper() or any(e.start < m.end() and m.start() < e.end for e in found):
                continue
            determiner = "the" if lowered[max(0, m.start() - 4) : m.start()] == "the " else ""
            found.append(Entity(text[m.start() : m.end()], lexicon.kinds[phrase], determiner, m.start(), m.end()))
    return found


def _noun_phrases(text: str) -> list[Entity]:
    """Lower-case phrases a pronoun may point to: "the other group" (group), "Lenin's two 1920
    interviews" (plural: group), "whose fiftieth birthday" (thing; "whose" is filled in later)."""
    found = []
    for m in _NOUN_PHRASE.finditer(text):
        opener, head = m.group(1), m.group(3)
        known = head in _GROUP_NOUNS or head in _THING_NOUNS
        if not known and (head in _FUNCTION_WORDS or head.endswith(_NOT_PLURAL)):
            continue
        plural = head.endswith("s") and not head.endswith("ss") and head not in {"bureau", "congress"}
        kind = GROUP if head in _GROUP_NOUNS or plural else THING
        if opener == "the":
            found.append(Entity(f"{m.group(2)}{head}", kind, "the", m.start(2) if m.group(2) else m.start(3), m.end()))
        else:
            found.append(Entity(m.group(0), kind, "", m.start(), m.end()))
    return found


def _is_name_word(tokens: list[_Token], i: int, lexicon: Lexicon, inside: bool = False) -> bool:
    token = tokens[i]
    if not token.text[0].isupper():
        return False
    core = _core(token.text).lower()
    if len(core) == 1 and token.text.endswith("."):  # an initial: "Maurice J. Goldbloom"
        return inside or True
    sentence_start = i == 0 or tokens[i - 1].text in {".", "!", "?", ":", ";", "“", '"', "—"}
    if core in _FUNCTION_WORDS and (sentence_start or core in WH_WORDS):
        return False
    if sentence_start and lexicon.names:
        return core in lexicon.names
    return True


def _kind_of(words: list[str], previous: str, lexicon: Lexicon) -> str:
    first = words[0].lower()
    for key in (" ".join(words).lower(), words[-1].lower(), first):
        if key in lexicon.kinds:
            return lexicon.kinds[key]
    if "-" in first and len(words) == 1:  # "Beria-Malenkov": a compound, not one person
        return GROUP
    if first in lexicon.things or previous == "the":
        return THING
    if first in lexicon.places or previous in _LOCATIVE:
        return PLACE
    return PERSON


def _answer_entity(exchange: Exchange, lexicon: Lexicon) -> Entity | None:
    """The answer as something a pronoun can point to (a name, a list of names, a place)."""
    answer = (exchange.answer or "").strip().rstrip(".")
    if not answer or len(answer.split()) > 8:
        return None
    names = [e for e in _entities(answer, lexicon) if e.kind != YEAR]
    if not names:
        if exchange.answer_type in {"other", "organisation", "work"} and len(answer.split()) <= 6:
            return Entity(answer, THING)  # "the downfall of Andreyev": what "it" may mean next
        return None
    if exchange.answer_type == "person":
        kind = GROUP if len([n for n in names if n.kind != YEAR]) > 1 or " and " in answer else PERSON
        return Entity(answer if kind == GROUP else names[0].text, kind)
    if exchange.answer_type == "place":
        return Entity(names[0].text, PLACE)
    if exchange.answer_type in {"date", "number"}:
        return None
    if exchange.answer_type in {"organisation", "work"}:
        if len(answer.split()) <= 5 and answer[0].isupper():
            return Entity(answer, THING)  # "Zwischen Hitler und Stalin", whole
        return Entity(names[0].text, THING, names[0].determiner)
    if len(answer.split()) <= 4:
        return names[0]
    return None


def _coordinated(text: str, entities: list[Entity]) -> list[Entity]:
    """"Zhdanov and Molotov", "Beria, Malenkov, and Khrustschev": names joined by and/commas,
    as one group (listed before its members)."""
    out: list[Entity] = []
    i = 0
    while i < len(entities):
        j = i
        while (
            j + 1 < len(entities)
            and entities[j].kind == entities[j + 1].kind == PERSON
            and re.fullmatch(r"\s*(?:,\s*(?:and\s+)?|and\s+)", text[entities[j].end : entities[j + 1].start])
        ):
            j += 1
        if j > i:
            first, last = entities[i], entities[j]
            out.append(Entity(text[first.start : last.end], GROUP, start=first.start, end=last.end))
        out.extend(entities[i : j + 1])
        i = j + 1
    return out


def _question_entities(exchange: Exchange, lexicon: Lexicon) -> list[Entity]:
    """The entities of a past standalone question; "whose birthday" becomes "Malenkov's birthday"."""
    found = []
    for entity in _coordinated(exchange.question, _entities(exchange.question, lexicon)):
        if entity.text.lower().startswith("whose "):
            answer = (exchange.answer or "").strip()
            if not answer or len(answer.split()) > 4:
                continue
            entity = Entity(f"{answer}'s {entity.text[6:]}", entity.kind, "", entity.start, entity.end)
        if entity.kind != YEAR:
            found.append(entity)
    return found


def _candidates(history: Sequence[Exchange], lexicon: Lexicon) -> list[Entity]:
    """What a reference may point to, most recent first (the entity stack): per turn, the answer
    when it names something, then the entities of the standalone question in order."""
    stack: list[Entity] = []
    seen: set[str] = set()
    for exchange in reversed(history):
        answer = _answer_entity(exchange, lexicon)
        for entity in ([answer] if answer else []) + _question_entities(exchange, lexicon):
            if entity.key not in seen:
                seen.add(entity.key)
                stack.append(entity)
    return stack


_MALE, _FEMALE = {"he", "him", "his", "himself"}, {"she", "her", "hers", "herself"}


def _topic_people(exchange: Exchange, lexicon: Lexicon) -> tuple[list[Entity], set[str]]:
    """People the last rewrite brought in (a pronoun or an ellipsis resolved to them): the
    conversation is about them, so they outrank that turn's answer. Returns them with the
    pronouns they may still be called by."""
    if not exchange.asked or exchange.asked == exchange.question:
        return [], set()
    asked = exchange.asked.lower()
    added = [
        e for e in _question_entities(exchange, lexicon)
        if e.kind == PERSON and e.text.lower() not in asked
    ]
    used = {w.lower for w in _words(exchange.asked)}
    if used & _MALE and not used & _FEMALE:
        return added, _MALE
    if used & _FEMALE and not used & _MALE:
        return added, _FEMALE
    return added, _MALE | _FEMALE


def _pick_it(history: Sequence[Exchange], lexicon: Lexicon, own: set[str]) -> Entity | None:
    """"it": the last answer when it is a thing; else the thing, place or group the recent turns
    keep mentioning (a group or an older thing needs two mentions)."""
    last = history[-1]
    answer = _answer_entity(last, lexicon)
    if answer is not None and answer.kind in {THING, GROUP} and answer.key not in own and " and " not in answer.text:
        return answer
    mentions: Counter[str] = Counter()
    first_seen: dict[str, tuple[int, int, Entity]] = {}
    for age, exchange in enumerate(reversed(history)):
        entities = [e for e in _question_entities(exchange, lexicon) if e.kind in {THING, PLACE, GROUP}]
        answer = _answer_entity(exchange, lexicon)
        if answer is not None and answer.kind in {THING, PLACE, GROUP}:
            entities.append(answer)
        for position, entity in enumerate(entities):
            if entity.key in own or " and " in entity.text or (entity.kind == GROUP and entity.text.endswith("s")):
                continue
            if entity.key not in {e.key for e in entities[:position]}:
                mentions[entity.key] += 1
            first_seen.setdefault(entity.key, (age, position, entity))
    priority = {THING: 0, GROUP: 1, PLACE: 2}
    ranked = sorted(
        first_seen.values(),
        key=lambda seen: (-mentions[seen[2].key], priority[seen[2].kind], seen[0], seen[1]),
    )
    for age, _, entity in ranked:
        if mentions[entity.key] >= 2 or (age == 0 and entity.kind != GROUP):
            return entity
    return None


# --- rewriting ---------------------------------------------------------------------------------


def _replace_references(
    body: str, history: Sequence[Exchange], lexicon: Lexicon, main: Entity | None = None,
    mentions: Counter[str] | None = None,
) -> str | None:
    """Pronouns and demonstratives replaced by what they point to; None when there are none.
    ``main`` is the conversation's topic and ``mentions`` how many questions named each entity."""
    mentions = mentions if mentions is not None else Counter()
    tokens = _words(body)
    own = {e.key for e in _entities(body, lexicon)}
    candidates = [c for c in _candidates(history, lexicon) if c.key not in own]
    topic, topic_pronouns = _topic_people(history[-1], lexicon)
    topic = [c for c in topic if c.key not in own]
    replacements: list[tuple[int, int, str]] = []
    named: dict[str, str] = {}  # referent key → the pronoun the user used for it
    last = history[-1]
    # "Who told of it in his book?": a possessive after "Who <verb>" is the asker's own subject.
    bound_possessives = len(tokens) > 1 and tokens[0].lower == "who" and tokens[1].lower not in AUXILIARIES
    for i, token in enumerate(tokens):
        word = token.lower
        nxt = tokens[i + 1] if i + 1 < len(tokens) else None
        text_after = body[token.end :].lstrip()
        if word in _PERSONAL or word in _PLURAL or word in _IMPERSONAL:
            if bound_possessives and (word in _POSSESSIVE or (word == "her" and _next_is_noun(nxt))):
                continue
            if word == "it" and (
                (nxt is not None and nxt.lower in {"that", "who", "true", "possible", "likely"})
                or (i == 1 and tokens[0].lower in AUXILIARIES)  # "Was it Beria who ...?"
            ):
                continue
            if word in _IMPERSONAL:
                referent = _pick_it(history, lexicon, own)
            elif word in _PERSONAL and topic and word in topic_pronouns:
                referent = topic[0]
            else:
                referent = _pick(word, candidates)
                answered = _answer_entity(last, lexicon)
                # "he" is the person the conversation is about, not someone a question once
                # mentioned in passing (unless the last answer was that person).
                if (word in _PERSONAL and main is not None and main.kind == PERSON and referent is not None
                        and referent.key != main.key and main.key not in own
                        and (answered is None or answered.key != referent.key)
                        and mentions[main.key] >= 2 and mentions[main.key] > mentions[referent.key]):
                    referent = main
            if referent is None and word == "it" and "it" not in named:
                # No thing in sight: "it" is what the last turn asked about ("the group that came
                # to the fore ...") or the last turn's event ("Who approved of it?").
                named["it"] = word
                described = re.match(r"^(?:which|what)\s+([a-z]+)\s+(.+?)[?.!]*$", last.question, re.IGNORECASE)
                if described and described.group(1).lower() not in AUXILIARIES and _words(described.group(2))[0].lower not in AUXILIARIES:
                    replacements.append((token.start, token.end, f"the {described.group(1).lower()} that {described.group(2)}"))
                else:
                    replacements.append((token.start, token.end, f"the fact that {_event(last)}"))
                continue
            if referent is None:
                continue
            if referent.key in named:
                continue
            named[referent.key] = word
            possessive = word in _POSSESSIVE or (word == "her" and _next_is_noun(nxt))
            text = referent.surface + ("'s" if possessive else "")
            replacements.append((token.start, token.end, text))
        elif word == "there" and not (nxt is not None and nxt.lower in AUXILIARIES | {"be"}) and not (
            i > 0 and tokens[i - 1].lower in AUXILIARIES
        ):
            place = next((c for c in candidates if c.kind == PLACE), None)
            if place is not None:
                replacements.append((token.start, token.end, f"in {place.surface}"))
        elif word in {"that", "this", "these", "those"}:
            if nxt is not None and _next_is_noun(nxt) and text_after.startswith(nxt.text):
                mention = _answer_for_noun(nxt.lower, last) or _find_mention(nxt.lower, history)
                if mention:
                    replacements.append((token.start, nxt.end, mention))
            elif not text_after or text_after[0] in "?!.,;":
                event = _event(last)
                before = tokens[i - 1].lower if i > 0 else ""
                if before in {"is", "was"}:
                    replacements.append((token.start, token.end, f"it that {event}"))
                elif before in PREPOSITIONS:
                    replacements.append((token.start, token.end, event))
                else:
                    replacements.append((token.start, token.end, f"that {event}"))
    if not replacements:
        return None
    text = body
    for start, end, new in sorted(replacements, reverse=True):
        text = text[:start] + new + text[end:]
    return _pronoun_for_repeated_subject(text, named, candidates)


def _pick(pronoun: str, candidates: list[Entity]) -> Entity | None:
    """he/she → the newest person; they → the newest group, else person, else thing."""
    order = [PERSON] if pronoun in _PERSONAL else [GROUP, PERSON, THING]
    for kind in order:
        for candidate in candidates:
            if candidate.kind == kind:
                return candidate
    return None


def _next_is_noun(token: _Token | None) -> bool:
    return token is not None and token.text[0].islower() and token.lower not in _FUNCTION_WORDS - {"result", "role"}


def _answer_for_noun(noun: str, last: Exchange) -> str | None:
    """"that body" right after "Which body did it form?" is the answer: "the State Committee"."""
    answer = (last.answer or "").strip().rstrip(".")
    asked_for = re.search(rf"\b(?:which|what)\s+(?:\w+\s+)?{re.escape(noun)}\b", last.question, re.IGNORECASE)
    if not asked_for or not answer or len(answer.split()) > 8:
        return None
    return answer if answer.lower().startswith("the ") or not answer[0].isupper() else f"the {answer}"


def _find_mention(noun: str, history: Sequence[Exchange]) -> str | None:
    """The fullest recent mention of ``noun`` with a capitalised modifier: "the Hitler-Stalin pact"."""
    stem = noun[:-1] if noun.endswith("s") and len(noun) > 3 else noun
    pattern = re.compile(
        rf"\b((?:[A-Z][\w’'-]*\s+){{1,3}}){re.escape(stem)}s?\b|\b{re.escape(stem)}s?\s+(?:with|of|between)\s+((?:the\s+)?[A-Z][\w’'-]*(?:\s+[A-Z][\w’'-]*)*)"
    )
    for exchange in reversed(history):
        for text in (exchange.answer or "", exchange.question, exchange.evidence):
            for match in pattern.finditer(text):
                if match.group(1):
                    modifier = match.group(1).strip()
                    if modifier.split()[0].lower() in _FUNCTION_WORDS:
                        modifier = " ".join(modifier.split()[1:])
                    if modifier:
                        return f"the {modifier} {noun}"
                elif match.group(2):
                    return f"the {match.group(0).strip()}"
    return None


def _event(exchange: Exchange) -> str:
    """The previous turn as a clause: "Dekanosov was brought into the Foreign Commissariat"."""
    question = exchange.question.strip().rstrip("?!. ").strip()
    cleft = re.match(r"^\w+(?:\s+\w+)?\s+(?:was|is) it that\s+(.+)$", question, re.IGNORECASE)
    if cleft:  # our own "When was it that Molotov replaced Litvinov"
        return cleft.group(1)
    words = question.split()
    answer = (exchange.answer or "").strip().rstrip(".")
    subject_question = (
        len(words) > 1 and words[0].lower() in {"who", "what"} and words[1].lower() not in {"did", "does", "do"}
    )
    if subject_question and answer and len(answer.split()) <= 6:
        return f"{answer} {' '.join(words[1:])}"
    if len(words) > 2 and words[0].lower() == "whose" and answer and len(answer.split()) <= 4:
        return f"{answer}'s {' '.join(words[1:])}"  # "Whose birthday was celebrated" → "Malenkov's birthday was ..."
    rest = words[1:] if words and words[0].lower() in WH_WORDS else words
    if rest and words and words[0].lower() in {"which", "what", "how", "whose"} and rest[0].lower() not in AUXILIARIES:
        rest = rest[1:]  # "which post", "how many"
    if rest and rest[0].lower() in AUXILIARIES and len(rest) > 2:
        rest = rest[1:]
    return " ".join(rest) or question


_AUX_QUESTION = re.compile(
    r"^(?:(?:in|on|at|to|from|for|with|by|after|before|around|of|under|during)\s+)?"
    r"(who|whom|whose|what|which|when|where|why|how)(?:\s+(?:many|much|long|far))?(\s+[a-z]+)?\s+"
    r"(did|does|do|was|were|is|are|had|has|have|can|could|would|will)\s+(?!it that\b)(.+)$",
    re.IGNORECASE,
)


def _bare_wh_question(body: str, last: Exchange) -> str:
    """"Why?" after "When did Hitler attack Russia?" → "Why did Hitler attack Russia?";
    "After whose death?" after "Who was promoted ...?" (Vosnesensky) → "After whose death was
    Vosnesensky promoted ...?"; otherwise "When was it that <the last turn>?"."""
    word = body.rstrip("?!. ").strip()
    word = word[0].upper() + word[1:]
    previous = last.question.strip().rstrip("?!. ").strip()
    match = _AUX_QUESTION.match(previous)
    answer = (last.answer or "").strip().rstrip(".")
    if match:
        wh, noun, aux, rest = match.group(1).lower(), match.group(2), match.group(3).lower(), match.group(4)
        subject_question = wh in {"who", "what"} and not noun and previous.lower().startswith(wh)
        if not subject_question:
            # "In which newspaper ...?" answered "Pravda": "On what date did ... in Pravda?"
            opener = re.match(r"^(\w+)\s+(?:which|what)\s", previous, re.IGNORECASE)
            if opener and opener.group(1).lower() in PREPOSITIONS and answer and len(answer.split()) <= 4:
                return f"{word} {aux} {rest} {opener.group(1).lower()} {answer}?"
            return f"{word} {aux} {rest}?"
        if answer and len(answer.split()) <= 6:  # "Who was promoted" → "... was Vosnesensky promoted"
            return f"{word} {aux} {answer} {rest}?"
        if not answer:
            return f"{word} {aux} {rest}?"
    return f"{word} was it that {_event(last)}?"


def _pronoun_for_repeated_subject(text: str, named: dict[str, str], candidates: list[Entity]) -> str:
    """"... did Dekanosov hold before Dekanosov was brought ..." → "... before he was brought ..."."""
    for candidate in candidates:
        pronoun = named.get(candidate.key)
        if pronoun not in _SUBJECT:
            continue
        first = text.find(candidate.surface)
        second = text.find(candidate.surface + " ", first + len(candidate.surface)) if first >= 0 else -1
        if second > 0:
            text = text[:second] + pronoun + text[second + len(candidate.surface) :]
    return text


def _expand_ellipsis(question: str, last: Exchange, lexicon: Lexicon) -> str:
    fragment = _ELLIPSIS_OPENERS.sub("", question).strip().rstrip("?!. ").strip()
    fragment = re.sub(r"^(?:about|regarding)\s+", "", fragment, flags=re.IGNORECASE)
    base = last.question.strip().rstrip("?!. ").strip()
    words = _words(fragment)
    if not words:
        return question
    first = words[0].lower
    if first in PREPOSITIONS:
        # "in Asia" replaces "in Europe"; otherwise the phrase is added.
        heads = "|".join(sorted(_GROUP_NOUNS | _THING_NOUNS))
        phrase = re.compile(
            rf"\b{re.escape(first)}\s+(?:the\s+)?(?:[A-Z][\w’'-]*(?:\s+[A-Z][\w’'-]*)*(?:\s+(?:{heads})\b)?|\d{{4}})"
        )
        if phrase.search(base):
            return phrase.sub(fragment, base, count=1) + "?"
        return f"{base} {fragment}?"
    new = _coordinated(fragment, _entities(fragment, lexicon))
    if not new:
        return f"{base} — {fragment}?"
    target = new[0]
    old = [e for e in _coordinated(base, _entities(base, lexicon)) if e.key != target.key]
    same_kind = [e for e in old if e.kind == target.kind]
    if not same_kind and target.kind in {PERSON, GROUP, THING}:
        same_kind = [e for e in old if e.kind in {PERSON, GROUP, THING}]
    if same_kind:
        victim = same_kind[0]
        start = victim.start - (len(victim.determiner) + 1 if victim.determiner else 0)
        replacement = fragment if target.kind != YEAR else target.text
        return base[:start] + replacement + base[victim.end :] + "?"
    if target.kind == YEAR:
        return f"{base} in {target.text}?"
    if target.kind == PLACE:
        # "the Asian line" + "What about Europe?" → "the line in Europe"
        adjective = re.search(r"\b([A-Z][a-z]+(?:an|ean|ian|ese|ish))\s+", base)
        if adjective and any(adjective.group(1).lower().startswith(place[:4]) for place in lexicon.places):
            return f"{base[: adjective.start()]}{base[adjective.end() :]} in {target.text}?"
    return f"{base} — {fragment}?"


def _sentence_case(text: str) -> str:
    text = text.strip()
    return text[0].upper() + text[1:] if text else text
