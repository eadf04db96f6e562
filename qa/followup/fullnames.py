"""A surname or a first name alone → the full name the conversation used: "When did Wilson
die?" in a conversation about Carl Wilson is "When did Carl Wilson die?" (a search for "Wilson"
alone finds every Wilson of a corpus), and so is "When did Carl die?". Only a name that one
full name of the conversation ends (or starts) with, and only where the question does not
already give the rest of the name."""

from __future__ import annotations

from collections.abc import Sequence

from qa.followup.entities import _answer_entity, _question_entities
from qa.followup.words import PERSON, Entity, Exchange, Lexicon, _FUNCTION_WORDS, _TOKEN, _core


def with_full_names(question: str, history: Sequence[Exchange], lexicon: Lexicon) -> str:
    full, firsts = _full_names(history, lexicon)
    if not full:
        return question
    tokens = list(_TOKEN.finditer(question))
    out, done = [], 0
    for i, token in enumerate(tokens):
        word = _core(token.group())
        if word.lower() in _FUNCTION_WORDS:
            continue  # "Was it successful?" is no question about the producer Don Was
        if (i > 0 and _is_name(tokens[i - 1].group())) or (i + 1 < len(tokens) and _is_name(tokens[i + 1].group())):
            continue  # part of a longer name already ("Tom Brennan", "Wilson Pickett")
        names = full.get(word) or firsts.get(word)
        if not names or len(names) != 1:
            continue
        name = next(iter(names))
        if _letters(name) in _letters(question):  # given in full already, however spelt ("p.g Wodehouse")
            continue
        out.append(question[done : token.start()] + name)
        done = token.start() + len(word)
    if not out:
        return question
    return "".join(out) + question[done:]


def _is_name(token: str) -> bool:
    """A capitalised word that is not a question's opener ("Did", "When"): a first name."""
    return token[:1].isupper() and token.lower() not in _FUNCTION_WORDS


def _letters(text: str) -> str:
    return "".join(c for c in text.lower() if c.isalpha())


def _full_names(history: Sequence[Exchange], lexicon: Lexicon) -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    """Surname → the people of several words the conversation's questions and short answers
    named with it ("Wilson" → {"Carl Wilson"}), and first name → the same ("Carl" → {"Carl Wilson"})."""
    people: list[Entity] = []
    for exchange in history:
        people += [e for e in _question_entities(exchange, lexicon) if e.kind == PERSON]
        answered = _answer_entity(exchange, lexicon)
        if answered is not None and answered.kind == PERSON:
            people.append(answered)
    full: dict[str, set[str]] = {}
    firsts: dict[str, set[str]] = {}
    for person in people:
        words = person.text.split()
        if 2 <= len(words) <= 4 and all(w[:1].isupper() for w in words):
            full.setdefault(words[-1], set()).add(person.text)
            firsts.setdefault(words[0], set()).add(person.text)
    return full, firsts
