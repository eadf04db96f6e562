"""What "that body", "that pact" or "that movie" points to (rule 6 of ``qa.followup``): the
answer to "Which body …?", the nearest "X pact" mentioned, the title the last turn named.

In a conversation about a person, "Was the movie popular?" right after "In 1981, Van Sant made
Alice in Hollywood, a film about …" is about *Alice in Hollywood*, not about the person; "Was
this album popular?" after "What is Forever Malcolm Young?" is about that. Without a parser
for titles, a title is a name of two or more words (or a quoted one) that the last question
or answer gives and that is not a name the conversation already uses for someone.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from qa.followup.entities import _entities
from qa.followup.words import PERSON, YEAR, _FUNCTION_WORDS, Exchange, Lexicon

# Nouns for works: what a title can be the title of.
WORK_NOUNS = frozenset({
    "album", "record", "single", "song", "book", "novel", "film", "movie", "show", "series", "play",
    "musical", "painting", "opera", "poem", "story", "ep", "documentary", "programme", "program",
})


def recent_title(history: Sequence[Exchange], lexicon: Lexicon, known: set[str]) -> str | None:
    """The title the last turn named (its question first, then its answer), or None: a name of
    two or more words, or in quotes, not year, that shares no word with ``known`` (the lower-case
    words of the names the conversation uses for its people and its title)."""
    if not history:
        return None
    last = history[-1]
    for text in (last.asked or last.question, last.answer or ""):
        for entity in _entities(text, lexicon):
            if entity.kind == YEAR or lexicon.kinds.get(entity.key) == PERSON:
                continue
            words = entity.text.lower().split()
            if (len(words) >= 2 or text[max(0, entity.start - 1) : entity.start] in {'"', "“"}) and not (
                    set(words) & known):
                return entity.text
    return None


def known_words(history: Sequence[Exchange], lexicon: Lexicon) -> set[str]:
    """The words of the names every question of the conversation has given (its people, its
    title): a title is none of them."""
    words: set[str] = set()
    for exchange in history:
        for entity in _entities(exchange.question, lexicon):
            if entity.kind != YEAR and entity.text[:1].isupper():
                words |= set(entity.text.lower().split())
    return words


def answer_for_noun(noun: str, last: Exchange) -> str | None:
    """"that body" right after "Which body did it form?" is the answer: "the State Committee"."""
    answer = (last.answer or "").strip().rstrip(".")
    asked_for = re.search(rf"\b(?:which|what)\s+(?:\w+\s+)?{re.escape(noun)}\b", last.question, re.IGNORECASE)
    if not asked_for or not answer or len(answer.split()) > 8:
        return None
    return answer if answer.lower().startswith("the ") or not answer[0].isupper() else f"the {answer}"


def find_mention(noun: str, history: Sequence[Exchange]) -> str | None:
    """The fullest recent mention of ``noun`` with a capitalised modifier ("the Hitler-Stalin
    pact") or a name in apposition ('their second album, "Museum"' → "the album Museum")."""
    stem = noun[:-1] if noun.endswith("s") and len(noun) > 3 else noun
    pattern = re.compile(
        rf"\b((?:[A-Z][\w’'-]*\s+){{1,3}}){re.escape(stem)}s?\b|\b{re.escape(stem)}s?\s+(?:with|of|between)\s+((?:the\s+)?[A-Z][\w’'-]*(?:\s+[A-Z][\w’'-]*)*)"
        rf"|\b{re.escape(stem)},?\s+(?:[“\"]([^”\"]{{2,60}})[”\"]|([A-Z][\w’'-]*(?:\s+[A-Z][\w’'-]*){{0,4}}))"
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
                elif match.group(3) or match.group(4):  # 'the album "Museum"', 'the album, Substance'
                    return f"the {noun} {(match.group(3) or match.group(4)).strip()}"
    return None
