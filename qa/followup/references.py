"""Pronouns and demonstratives → what they point to (rules 5 and 6 of ``qa.followup``): "he" is
the person the conversation is about or the last one named, "it" the last answer or the thing
the recent turns mention most, "there" the last place, "that pact" the pact mentioned before,
a bare "that" the last turn as a clause."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence

from qa.followup.entities import (
    _answer_entity,
    _candidates,
    _entities,
    _next_is_noun,
    _pick,
    _pick_it,
    _question_entities,
    _topic_people,
)
from qa.followup.events import last_event, reads_as_event
from qa.followup.demonstratives import WORK_NOUNS, answer_for_noun, find_mention, known_words, recent_title
from qa.followup.topic import opening_name, opening_subject
from qa.followup.words import (
    AUXILIARIES,
    GROUP,
    PERSON,
    PLACE,
    PREPOSITIONS,
    THING,
    _FUNCTION_WORDS,
    _IMPERSONAL,
    _PERSONAL,
    _PLURAL,
    _POSSESSIVE,
    _SUBJECT,
    Entity,
    Exchange,
    Lexicon,
    _Token,
    _words,
)

def replace_references(
    body: str, history: Sequence[Exchange], lexicon: Lexicon, main: Entity | None = None,
    mentions: Counter[str] | None = None, whole: Sequence[Exchange] = (),
) -> str | None:
    """Pronouns and demonstratives replaced by what they point to; None when there are none.
    ``main`` is the conversation's topic, ``mentions`` how many questions named each entity and
    ``whole`` the whole conversation (``history`` is its recent turns)."""
    mentions = mentions if mentions is not None else Counter()
    tokens = _words(body)
    own_entities = _entities(body, lexicon)
    own = {e.key for e in own_entities}
    candidates = [c for c in _candidates(history, lexicon) if c.key not in own]
    topic, topic_pronouns = _topic_people(history[-1], lexicon)
    topic = [c for c in topic if c.key not in own]
    replacements: list[tuple[int, int, str]] = []
    named: dict[str, str] = {}  # referent key → the pronoun the user used for it
    last = history[-1]
    # "Who told of it in his book?": a possessive after "Who <verb>" before what one says or
    # writes is the subject's own; "Who took over after his death?" points back.
    bound_possessives = len(tokens) > 1 and tokens[0].lower == "who" and tokens[1].lower not in AUXILIARIES
    for i, token in enumerate(tokens):
        word = token.lower
        nxt = tokens[i + 1] if i + 1 < len(tokens) else None
        text_after = body[token.end :].lstrip()
        if word in _PERSONAL or word in _PLURAL or word in _IMPERSONAL:
            if bound_possessives and (word in _POSSESSIVE or word == "her") and _says_own(tokens[i + 1 :]):
                continue
            # "Did McMahon speak about his time on the show?": his/her after a person the
            # question names is that person's.
            if (word == "his" or (word == "her" and _next_is_noun(nxt))) and any(
                    e.kind == PERSON and e.end <= token.start for e in own_entities):
                continue
            if word == "it" and points_at_nothing(tokens, i):
                continue
            if word in _IMPERSONAL:
                referent = (_quoted_title(last, lexicon, own) or _pick_it(history, lexicon, own)
                            or opening_subject(whole or history, lexicon, own))
            elif word in _PERSONAL and topic and word in topic_pronouns:
                referent = topic[0]
            else:
                referent = _pick(word, candidates)
                if word in _PLURAL and (referent is None or referent.text[:1].islower()):
                    # "they" in a conversation about a band is the band, not "the legal battles"
                    referent = opening_subject(whole or history, lexicon, own) or referent
                elif word in _PLURAL and referent.kind != GROUP and " and " not in referent.text:
                    # one person or thing is no "they" ("Sue", an album): the name the
                    # conversation opened with
                    referent = opening_name(whole or history, lexicon, own, any_kind=True) or referent
                # the last answer, when the last question asked for a person ("Who did she marry?")
                answered = _answer_entity(last, lexicon) if _asks_for_a_person(last) else None
                # "he" is the person the conversation is about, not someone a question once
                # mentioned in passing (unless the last answer was that person).
                if (word in _PERSONAL and main is not None and main.kind == PERSON and referent is not None
                        and referent.key != main.key and main.key not in own
                        and (answered is None or answered.key != referent.key)
                        and mentions[main.key] >= 2 and mentions[main.key] > mentions[referent.key]
                        # still the topic: the last question named them, or named no one else
                        and (main.key in (asked := {e.key for e in _question_entities(last, lexicon)})
                             or referent.key not in asked)):
                    referent = main
            if (referent is None and word in _PERSONAL and main is not None and main.kind == PERSON
                    and main.key not in own and mentions[main.key] >= 2):
                referent = main  # no one in sight: the person the conversation is about
            if referent is None and word in _PERSONAL:
                referent = opening_name(whole or history, lexicon, own)
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
                mention = answer_for_noun(nxt.lower, last) or find_mention(nxt.lower, history)
                if not mention and nxt.lower in WORK_NOUNS:  # "that movie" → "the movie Camp Nowhere"
                    title = recent_title(history, lexicon, known_words(whole or history, lexicon))
                    mention = f"the {nxt.lower} {title}" if title else None
                if mention:
                    replacements.append((token.start, nxt.end, mention))
            elif (not text_after or text_after[0] in "?!.,;") and reads_as_event(last):
                event = last_event(last)
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


def _asks_for_a_person(exchange: Exchange) -> bool:
    """"Who did she partner with?" does; "What were some of the song titles?" does not."""
    first = exchange.question.split(maxsplit=1)[0].lower() if exchange.question.strip() else ""
    return exchange.answer_type == "person" or first in {"who", "whom", "whose", "with"}


_OWN_WORDS = {
    "book", "books", "memoirs", "memoir", "diary", "autobiography", "speech", "address", "letter",
    "letters", "article", "report", "interview", "testimony", "account", "essay", "words", "statement",
}


def _says_own(following: list[_Token]) -> bool:
    """The possessive is before something one says or writes ("his main address", "her memoirs")."""
    for token in following[:3]:
        if token.lower in _OWN_WORDS:
            return True
        if not token.text.isalpha() or token.lower in _FUNCTION_WORDS:
            return False
    return False


def points_at_nothing(tokens: list[_Token], i: int) -> bool:
    """An "it" (``tokens[i]``) that refers to nothing: "it that ...", "is it true/possible/likely",
    or a cleft, "Was it Beria who ...?" (right after the verb, completed by a later who/that;
    "Was it successful?" does point at something)."""
    nxt = tokens[i + 1] if i + 1 < len(tokens) else None
    if nxt is not None and nxt.lower in {"that", "who", "true", "possible", "likely"}:
        return True
    return i == 1 and tokens[0].lower in AUXILIARIES and any(t.lower in {"who", "that"} for t in tokens[2:])


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


_QUOTED = re.compile(r'["“]([A-Z0-9][^"“”]{0,60}?)[,.]?["”]')


def _quoted_title(last: Exchange, lexicon: Lexicon, own: set[str]) -> Entity | None:
    """"it" right after a short answer that quotes one title (a song, a book, a column: 'Kaif
    appeared in "Chikni Chameli"') is that title; a long passage quotes too much else."""
    answer = last.answer or ""
    found = _QUOTED.findall(answer)
    if len(found) != 1 or len(found[0].split()) > 6 or len(answer.split()) > 25:
        return None
    if any(e.text[:1].isupper() and e.kind != PERSON for e in _question_entities(last, lexicon)):
        return None  # "What was a song on the album, Woodstock?": "it" is more likely what was asked about
    title = found[0].strip()
    return None if title.lower() in own else Entity(f'"{title}"', THING)

