"""Which work "the movie", "this album" or "that song" means: the title the last turn named.

In a conversation about a person, "Was the movie popular?" right after "In 1981, Van Sant made
Alice in Hollywood, a film about …" is about *Alice in Hollywood*, not about the person; "Was
this album popular?" after "What is Forever Malcolm Young?" is about that. Without a parser
for titles, a title is a name of two or more words (or a quoted one) that the last question
or answer gives and that is not a name the conversation already uses for someone.
"""

from __future__ import annotations

from collections.abc import Sequence

from qa.followup.entities import _entities
from qa.followup.words import PERSON, YEAR, Exchange, Lexicon

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
