"""Rendering: an Answer → the JSON object scripts read, or rich text for a terminal.

The JSON schema (``SCHEMA_VERSION``) is the contract documented in the README; fields are only
ever added, never renamed or removed, without a version bump.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from qa.answer import Answer
from qa.retrieval import Hit

if TYPE_CHECKING:
    from rich.console import RenderableType
    from rich.text import Text

    from qa.conversation import Turn

SCHEMA_VERSION = 1


def answer_to_dict(answer: Answer) -> dict[str, Any]:
    return {
        "schema_version": SCHEMA_VERSION,
        "question": answer.question,
        "answer": answer.answer,
        "answer_canonical": answer.answer_canonical,
        "abstained": answer.abstained,
        "confidence": answer.confidence,
        "answer_doc": answer.answer_doc,
        "answer_start": answer.answer_start,
        "answer_end": answer.answer_end,
        "answer_offsets": answer.answer_offsets,
        "answer_file_start": answer.answer_file_start,
        "answer_file_end": answer.answer_file_end,
        "answer_type": answer.answer_type,
        "message": answer.message,
        "citations": [
            {
                "doc": c.doc,
                "passage_id": c.passage_id,
                "start": c.start,
                "end": c.end,
                "quote": c.quote,
                "location": c.location,
                "offsets": c.offsets,
                "file_start": c.file_start,
                "file_end": c.file_end,
            }
            for c in answer.citations
        ],
        "passages": [hit_to_dict(h) for h in answer.passages],
        "names": [
            {"asked": m.asked, "corpus": list(m.corpus), "canonical": m.canonical, "match": m.how}
            for m in answer.names
        ],
        "timings_ms": answer.timings_ms,
    }


def turn_to_dict(turn: Turn) -> dict[str, Any]:
    """One conversation turn: the ``answer_to_dict`` object ("question" is the question as
    asked) plus "turn" (1-based, restarting with each conversation) and "standalone_question"
    (what was searched after follow-up resolution), "resolution" ("self-contained", "rewritten",
    or "unresolved": it leans on "reference", which the conversation does not explain, and was
    searched as typed) and "reference"."""
    return {
        **answer_to_dict(turn.answer), "turn": turn.number, "standalone_question": turn.standalone_question,
        "resolution": turn.resolution, "reference": turn.reference,
    }


def hit_to_dict(hit: Hit) -> dict[str, Any]:
    p = hit.passage
    return {
        "passage_id": p.passage_id,
        "doc": p.doc,
        "start": p.start,
        "end": p.end,
        "text": p.text,
        "location": p.location,
        "kind": p.kind,
        "offsets": p.offsets,
        "file_start": p.file_start,
        "file_end": p.file_end,
        "rank": hit.rank,
        "score": round(hit.score, 6),
        "dense_score": round(hit.dense_score, 6),
        "bm25_score": None if hit.bm25_score is None else round(hit.bm25_score, 6),
    }


def answer_view(answer: Answer, show_passages: bool = False) -> RenderableType:
    """The terminal view: the answer, then numbered sources with location and exact quote."""
    from rich.console import Group  # rich only for the terminal: scripts' JSON does without it
    from rich.text import Text

    parts: list[RenderableType] = []
    if answer.abstained:
        parts.append(Text("The corpus does not say.", style="bold yellow"))
        parts.append(Text(answer.message or "", style="dim"))
    else:
        parts.append(Text(answer.answer or "", style="bold green"))
    parts.append(Text(f"confidence {answer.confidence:.2f} · {answer.answer_type}", style="dim"))
    if answer.citations:
        parts.append(Text("\nSources", style="bold"))
        for n, c in enumerate(answer.citations, 1):
            parts.append(Text.assemble((f"[{n}] ", "bold cyan"), (c.location, "cyan"), (f"  {c.doc} [{c.start}:{c.end}]", "dim")))
            parts.append(_quote(c.quote, answer.answer))
    if show_passages or answer.abstained:
        parts.append(Text("\nRetrieved passages" if not answer.abstained else "\nNearest passages", style="bold"))
        for hit in answer.passages:
            parts.append(
                Text.assemble(
                    (f"{hit.rank}. ", "bold"), (hit.passage.location, "cyan"),
                    (f"  {hit.passage.doc} [{hit.passage.start}:{hit.passage.end}]  score {hit.score:.4f}", "dim"),
                )
            )
            parts.append(Text("    " + " ".join(hit.passage.text.split()), style="dim" if not show_passages else ""))
    return Group(*parts)


def _quote(quote: str, highlight: str | None) -> Text:
    from rich.text import Text

    text = Text("    “" + " ".join(quote.split()) + "”")
    if highlight:
        text.highlight_words([highlight], style="bold green underline")
    return text
