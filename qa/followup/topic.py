"""What a follow-up that names nothing is about: the conversation's topic (``with_topic``:
"What happened in 1982?" → "What happened to Gus Van Sant in 1982?") or what it opened with.

In a conversation where no question has said "he" or "she", the one name its first question
gave (in CANARD, the article's title) is what it is about: "Was it popular?" about the musical
*Gypsy* is "Was Gypsy popular?", and "How was the band formed?" about Smashing Pumpkins is "How
was the band Smashing Pumpkins formed?". A name the corpus's name table types as a person is
never that subject."""

from __future__ import annotations

import re
from collections.abc import Sequence

from qa.followup.entities import _entities, _mentions, _question_entities
from qa.followup.words import (
    AUXILIARIES, KIND_NOUNS, PERSON, _FUNCTION_WORDS, WH_WORDS, YEAR, Entity, Exchange, Lexicon, _IMPERSONAL, _PERSONAL, _PLURAL,
    _words,
)

# "Any sisters?", "Anything else interesting?", "In what year was it founded?"
_OPENERS = {"any", "anything", "anyone", "anybody", "in"}
_KIND = re.compile(rf"\bthe\s+({'|'.join(sorted(KIND_NOUNS))})\b", re.IGNORECASE)


def opening_subject(history: Sequence[Exchange], lexicon: Lexicon, own: set[str]) -> Entity | None:
    """The one entity of the conversation's first question, unless a question so far has said
    he or she, the name table calls it a person, or the question names it already (``own``)."""
    first = _opening_entity(history, lexicon, own)
    if first is None or " and " in first.text or lexicon.kinds.get(first.key) == PERSON:
        return None
    for exchange in history:
        if any(w.lower in _PERSONAL for w in _words(exchange.asked or exchange.question)):
            return None
    return first


def opening_name(
    history: Sequence[Exchange], lexicon: Lexicon, own: set[str], any_kind: bool = False
) -> Entity | None:
    """The name the conversation opened with alone, a title (in CANARD, the article's): the
    first question is that name and nothing else ("Slipknot (band)" and "The Verve" count).
    For "he"/"she" with no person in sight it is that name however the corpus's usage typed it
    ("When did he return to Ruhollah?" made Ruhollah Khomeini a place), but not a name with an
    article, nor one the name table types as something other than a person; ``any_kind``
    drops those two conditions (for "they" and for a question naming only common nouns)."""
    first = _opening_entity(history, lexicon, own)
    if first is None or not first.text[:1].isupper():
        return None
    opening = re.sub(r"\s*\([^)]*\)$", "", history[0].question.strip().rstrip("?!. "))  # "Slipknot (band)"
    if opening.removeprefix("The ").removeprefix("the ") != first.text:
        return None  # opened with a question, not a name alone (a title): only recent turns count
    if any_kind:
        return first
    if first.determiner or first.text.lower().startswith("the "):
        return None  # "the Verve", "The Sound of Music": a group or a work
    if lexicon.kinds.get(first.key, PERSON) != PERSON:
        return None
    return first


def _opening_entity(history: Sequence[Exchange], lexicon: Lexicon, own: set[str]) -> Entity | None:
    """The one entity of the conversation's first question, unless it has several or the
    question being rewritten names it already (``own``)."""
    if not history:
        return None
    first = _question_entities(history[0], lexicon)
    return first[0] if len(first) == 1 and first[0].key not in own else None


def name_the_kind(body: str, history: Sequence[Exchange], lexicon: Lexicon) -> str | None:
    """"the band" → "the band <what the conversation opened with>"; None when there is nothing
    to name. (Without a parser a compound is not told apart: "the record club" gets the name too.)"""
    match = _KIND.search(body)
    if not match:
        return None
    subject = opening_subject(history, lexicon, {e.key for e in _entities(body, lexicon)})
    if subject is None or _mentions(body, subject):
        return None
    return body[: match.end()] + " " + subject.text + body[match.end() :]


_HAPPENED = re.compile(r"\bhappen(?:ed|s)?\b(?!\s+(?:to|with)\b)", re.IGNORECASE)
_DETERMINERS = {"the", "this", "that", "these", "those"}
_PLAIN_WORD = re.compile(r"^[a-z][a-z-]*$")
_DO_SUPPORT = {"do", "does", "did", "can", "could", "will", "would", "should", "may", "might", "must"}
_BE = {"is", "was", "are", "were", "has", "have", "had"}
_ADVERBIAL_WH = {"why", "how", "when", "where"}
_ADVERBS = {"ever", "still", "well", "never", "always", "already", "often", "even", "too", "again", "out", "up", "off"}


def with_topic(body: str, topic: Entity) -> str:
    """"What happened in 1982?" → "What happened to Gus Van Sant in 1982?"; a noun phrase gets
    the topic as its genitive: "Was this album of Frenzal Rhomb popular?", "Who raised the
    child of Marion Davies?"; otherwise the topic is added at the end: "Why were there
    financial problems for Frank Zappa?"."""
    if _HAPPENED.search(body):
        return _HAPPENED.sub(lambda m: f"{m.group()} to {topic.surface}", body, count=1)
    end = _noun_phrase_end(body)
    if end is not None:
        return f"{body[:end]} of {topic.surface}{body[end:]}"
    return f"{body.rstrip('?!. ')} for {topic.surface}?"


def _noun_phrase_end(body: str) -> int | None:
    """Where the last plain noun phrase of ``body`` ends ("the critical praise", "this album":
    a determiner and one to three lower-case words up to a function word or the end), or None
    when none is sure. A subject right after "did"/"can" is followed by the bare verb ("Did the
    treatment work?" ends after "treatment"), and right after an opening "Was"/"Is" by its
    predicate ("Was the movie popular?" ends after "movie"); a lone word there is the verb
    ("Did that work?"): no phrase."""
    stops = _FUNCTION_WORDS | _ADVERBS
    # Its own split, not _words: that drops punctuation ("the tune, …" ends at the comma) and keeps
    # a full stop on a word as an abbreviation's ("the play." would end after the stop).
    spans = [(m.group(), m.start(), m.end()) for m in re.finditer(r"[\w'’-]+|[^\w\s]", body)]
    found = None
    for i, (text, _, _) in enumerate(spans):
        if text.lower() not in _DETERMINERS:
            continue
        j = i + 1
        while j < len(spans) and j - i <= 3 and _PLAIN_WORD.match(spans[j][0]) and spans[j][0] not in stops:
            j += 1
        words = [t for t, _, _ in spans[i + 1 : j]]
        following = spans[j][0] if j < len(spans) else None
        if not words or words[-1].endswith("ed"):
            continue
        if following is not None and following[0].isalnum() and following.lower() not in stops:
            continue  # the phrase runs on past three words, or into a name
        before = [t for t, _, _ in spans[:i]]
        aux = before[-1].lower() if before else ""
        opening = len(before) == 1 or (len(before) == 2 and before[0].lower() in _ADVERBIAL_WH)
        predicate_follows = aux in _DO_SUPPORT or (aux in _BE and opening)
        end = spans[j - 1][2]
        if predicate_follows and (following is None or not following[0].isalnum() or aux in _DO_SUPPORT):
            if len(words) == 2:
                end = spans[i + 1][2]  # the second word is the verb or the predicate
            elif len(words) > 2 or len(before) == 1 or aux in _DO_SUPPORT:
                continue  # not sure where the phrase ends, or a lone word that is the verb
        found = end
    return found


def lacks_a_subject(body: str, lexicon: Lexicon, common_nouns: bool = False) -> bool:
    """A question that names nothing and points at no one ("What happened in 1982?", "Why were
    there financial problems?", "Was this album popular?"): no name but a year, no pronoun
    that the rewrite rules could not place. The topic is added (for retrieval, the name is what
    finds the right document of a corpus)."""
    words = _words(body)
    if not words or words[0].lower not in WH_WORDS | AUXILIARIES | _OPENERS:
        return False
    if any(w.lower in _PERSONAL or w.lower in _PLURAL or w.lower in _IMPERSONAL for w in words):
        return False
    return all(e.kind == YEAR or (common_nouns and e.text[:1].islower()) for e in _entities(body, lexicon))
