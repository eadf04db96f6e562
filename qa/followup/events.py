"""The previous turn as a clause, for "before/after that", "What happened next?" and a bare
"Why?": "Dekanosov was brought into the Foreign Commissariat" from "Why was Dekanosov brought
into the Foreign Commissariat?", and whether a turn reads as one at all."""

from __future__ import annotations

import re

from qa.followup.words import AUXILIARIES, WH_WORDS, Exchange, _words


_NO_EVENT = re.compile(r"^(?:(?:is|are|was|were)\s+there|there\s)\b", re.IGNORECASE)
# "Anything else interesting?", "Did he do anything else important?": asks for what is not known yet.
_OPEN_ENDED = re.compile(r"^(?:any|anything|anyone|anybody)\b|\b(?:anything|else)\b", re.IGNORECASE)
_REQUEST = re.compile(r"\b(?:(?:can|could|would|will)\s+you\s+(?:tell|give|say|share)|tell\s+me)\b", re.IGNORECASE)


def reads_as_event(exchange: Exchange) -> bool:
    """Whether the previous turn reads as a clause to put after "before"/"after"/"that": "Are there
    any other interesting aspects?", "(What) can you tell me about ...?", "There was ...", "Anything
    else?" and "Why is that?" (whose clause would be "that") do not."""
    question = exchange.question.strip()
    if _NO_EVENT.match(question) or _REQUEST.search(question) or _OPEN_ENDED.search(question):
        return False
    clause = _words(last_event(exchange))
    return bool(clause) and clause[0].lower not in {"that", "this", "it"}


def last_event(exchange: Exchange) -> str:
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
