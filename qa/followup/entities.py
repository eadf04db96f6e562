"""What a reference can point to: names and noun phrases found in text, the entities of past
turns (the entity stack), the conversation's topic, and the choice for "it"/"he"/"they"."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence

from qa.followup.words import (
    Entity,
    Exchange,
    GROUP,
    Lexicon,
    OPENERS,
    PERSON,
    PLACE,
    THING,
    WH_WORDS,
    YEAR,
    _CALENDAR,
    _FUNCTION_WORDS,
    _GROUP_NOUNS,
    _LOCATIVE,
    _PERSONAL,
    _POSSESSIVE_SUFFIX,
    _THING_NOUNS,
    _TOKEN,
    _Token,
    _YEAR,
    _core,
    _ends_a_sentence,
    _words,
    happens_to,
)

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
        while True:
            while j + 1 < len(tokens) and _is_name_word(tokens, j + 1, lexicon, inside=True) and not _POSSESSIVE_SUFFIX.search(tokens[j].text):
                j += 1
            joined = _joined_by_connector(tokens, i, j, lexicon)
            if joined is None:
                break
            j = joined
        words = [_core(t.text) for t in tokens[i : j + 1]]
        if len(words) == 1 and words[0].lower() in _FUNCTION_WORDS:  # "On" alone is no name ("On Your Own" is)
            i += 1
            continue
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
            happened = happens_to(tokens[i - 2].text if i > 1 else "", previous)  # "What happened to Vanilla Ice"
            kind = _kind_of(words, "" if (possessive or happened) and previous in _LOCATIVE else previous, lexicon)
        found.append(Entity(" ".join(words), kind, determiner, tokens[i].start, end))
        i = j + 1
    for phrase in _noun_phrases(text):
        overlapping = [e for e in found if e.start < phrase.end and phrase.start < e.end]
        if all(phrase.start <= e.start and e.end <= phrase.end for e in overlapping):  # "Lenin's interviews"
            found.append(phrase)
    return sorted(found, key=lambda e: e.start)


_CONNECTORS = {"of", "on", "&"}
# Lower-case particles inside a surname: "Van der Graaf Generator", "Vincent van Gogh".
_NAME_PARTICLES = {"van", "der", "den", "de", "von", "da", "du", "del", "della", "di", "le", "la", "bin", "al"}


def _joined_by_connector(tokens: list[_Token], i: int, j: int, lexicon: Lexicon) -> int | None:
    """One name across "of"/"on"/"&" (and a "the"/"a" after it): "The Birth of a Nation",
    "Fiddler on the Roof", "Hall & Oates" -- the index of the next name word, or None. A name
    the name table knows ends where it ends ("Beria of the NKVD" is Beria)."""
    if j + 2 >= len(tokens) or _POSSESSIVE_SUFFIX.search(tokens[j].text):
        return None
    if tokens[j + 1].text in _NAME_PARTICLES:
        k = j + 2
        if tokens[k].text in _NAME_PARTICLES and k + 1 < len(tokens):  # "van der"
            k += 1
        return k if _is_name_word(tokens, k, lexicon, inside=True) else None
    if tokens[j + 1].lower not in _CONNECTORS:
        return None
    if " ".join(_core(t.text) for t in tokens[i : j + 1]).lower() in lexicon.kinds:
        return None
    k = j + 2
    if tokens[k].lower in {"the", "a"} and k + 1 < len(tokens):
        k += 1
    return k if _is_name_word(tokens, k, lexicon, inside=True) else None


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
    if core == "i" and not token.text.endswith("."):  # the pronoun "I" names no one
        return False
    if len(core) == 1 and token.text.endswith("."):  # an initial: "Maurice J. Goldbloom"
        return inside or True
    sentence_start = i == 0 or _ends_a_sentence(tokens[i - 1].text)
    if core in _FUNCTION_WORDS and (sentence_start or core in WH_WORDS):
        return False
    if sentence_start and core in OPENERS and not inside and len(tokens) > 1:
        # an opener alone, not the first word of a name ("Hey Jude") nor a whole title ("Yes")
        following = tokens[i + 1] if i + 1 < len(tokens) else None
        if following is None or _core(following.text).lower() in OPENERS:
            return False
        return _is_name_word(tokens, i + 1, lexicon, inside=True)
    if sentence_start and lexicon.names:
        return core in lexicon.names
    return True


# "the Politburo", "this Act", "the movie Camp Nowhere": what follows is a thing.
_THING_BEFORE = {"the", "this", "that", "these", "those", "movie", "film", "album", "song", "single", "book", "novel"}


def _kind_of(words: list[str], previous: str, lexicon: Lexicon) -> str:
    first = words[0].lower()
    for key in (" ".join(words).lower(), words[-1].lower(), first):
        if key in lexicon.kinds:
            return lexicon.kinds[key]
    if "-" in first and len(words) == 1 and all(part in lexicon.names for part in first.split("-")):
        return GROUP  # "Beria-Malenkov", both named on their own: a compound, not one person ("Eazy-E")
    if first in lexicon.things or previous in _THING_BEFORE:
        return THING  # "the Politburo", "this Act"
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
        if entity.kind == PERSON and _asked_what(exchange.question, entity) and entity.key not in lexicon.kinds:
            entity = Entity(entity.text, THING, entity.determiner, entity.start, entity.end)
        if entity.kind != YEAR:
            found.append(entity)
    return found


_WHAT_IS = re.compile(r"^\s*what\s+(?:is|was|are|were)\s+(?:the\s+)?", re.IGNORECASE)


def _asked_what(question: str, entity: Entity) -> bool:
    """"What was Emergence?": a name asked about with "what", not "who", is no person."""
    opener = _WHAT_IS.match(question)
    return opener is not None and entity.start == opener.end() and not question[entity.end :].strip(" ?!.")


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


def _mentions(body: str, entity: Entity) -> bool:
    """Does ``body`` already name ``entity``, in full or in part ("dempsey" for Miles Dempsey)?"""
    said = {w.lower for w in _words(body)}
    return any(part.lower() in said for part in entity.text.split() if len(part) > 2)


# --- detection ---------------------------------------------------------------------------------


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
