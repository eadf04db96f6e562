"""Conversations: follow-up questions answered in the context of the previous turns.

``Conversation(assistant).ask(question)`` rewrites the question into a standalone one with
``qa.followup.resolve`` (pronouns, "that pact", "And Beria?" — rules, no generative model),
asks the assistant that, and records the turn. The library never prints; ``qa.chat`` is the
terminal on top of this.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING
from weakref import WeakKeyDictionary

from qa.answer import Answer
from qa.assistant import clean_question
from qa.followup import (
    GAZETTEER_KINDS, HISTORY_TURNS, Exchange, Lexicon, asks_for_another, resolve, unresolved_reference,
)

if TYPE_CHECKING:
    from qa.assistant import Assistant


@dataclass(frozen=True)
class Turn:
    number: int  # 1-based, restarting after reset()
    question: str  # as asked (white space normalised)
    standalone_question: str  # what was actually searched; equal to question when self-contained
    answer: Answer  # its .question is the question as asked
    # "self-contained", "rewritten", or "unresolved": it leans on something (``reference``, e.g.
    # "they") that the conversation so far does not explain, so it was searched as typed.
    resolution: str = "self-contained"
    reference: str | None = None


class Conversation:
    def __init__(self, assistant: Assistant) -> None:
        self.assistant = assistant
        self._turns: list[Turn] = []

    @property
    def turns(self) -> list[Turn]:
        """This conversation's turns, oldest first (a copy)."""
        return list(self._turns)

    def ask(self, question: str, *, k: int = 5, retriever: str = "hybrid") -> Turn:
        question = clean_question(question)
        history = [_exchange(turn) for turn in self._turns]
        lexicon = lexicon_of(self.assistant)
        standalone = resolve(question, history, lexicon)
        reference = None
        if clean_question(standalone) != question:
            resolution = "rewritten"
        else:
            reference = unresolved_reference(question, lexicon)
            resolution = "unresolved" if reference else "self-contained"
        settled = self.settled_document() if resolution != "self-contained" else None
        # "Who else …?": not what the recent turns answered already
        avoid = self._recent_answers() if asks_for_another(question) else ()
        answer = self.assistant.ask(standalone, k=k, retriever=retriever, prefer_doc=settled, avoid=avoid)
        if settled is not None and answer.abstained:  # the settled document lacks it: ask the corpus
            answer = self.assistant.ask(standalone, k=k, retriever=retriever, avoid=avoid)
        turn = Turn(
            number=len(self._turns) + 1,
            question=question,
            standalone_question=answer.question,
            answer=replace(answer, question=question),
            resolution=resolution,
            reference=reference,
        )
        self._turns.append(turn)
        return turn

    def settled_document(self) -> str | None:
        """The document the conversation has settled on: where its last answer came from, when
        the answer before it (if any) came from there too, in a corpus of several documents."""
        if len(self.assistant.index.documents) < 2:
            return None
        sources = [doc for doc in (_source(t.answer) for t in self._turns) if doc is not None][-2:]
        return sources[0] if sources and len(set(sources)) == 1 else None

    def _recent_answers(self) -> tuple[str, ...]:
        recent = self._turns[-HISTORY_TURNS:]
        return tuple(t.answer.answer for t in recent if t.answer.answer and not t.answer.abstained)

    def reset(self) -> None:
        """Forget the conversation: the next question starts a new one (turn 1)."""
        self._turns.clear()


_LEXICONS: WeakKeyDictionary[Assistant, Lexicon] = WeakKeyDictionary()


def lexicon_of(assistant: Assistant) -> Lexicon:
    """The corpus's names, once per assistant: the index's tables (made at build time from the
    passages), typed by the corpus's names table if it has one."""
    if assistant not in _LEXICONS:
        kinds: dict[str, str] = {}
        if assistant.names.has_table:  # only table entries are typed: no table, nothing to scan
            for passage in assistant.index.passages:
                text = passage.text
                for entity in assistant.names.entities(text):
                    kind = GAZETTEER_KINDS.get(entity.type)
                    if kind:
                        kinds.setdefault(text[entity.start : entity.end].lower(), kind)
                        kinds.setdefault(entity.canonical.lower(), kind)
        _LEXICONS[assistant] = Lexicon.from_json(assistant.index.lexicon, kinds)
    return _LEXICONS[assistant]


def _source(answer: Answer) -> str | None:
    """The document an answer came from (None for an abstention)."""
    if answer.abstained:
        return None
    return answer.answer_doc or (answer.citations[0].doc if answer.citations else None)


def _exchange(turn: Turn) -> Exchange:
    answer = turn.answer
    return Exchange(
        question=turn.standalone_question,
        answer=None if answer.abstained else answer.answer,
        answer_type=answer.answer_type,
        evidence=" ".join(c.quote for c in answer.citations),
        asked=turn.question,
    )
