"""Rendering of eval summaries (``qa.evaluate.summary``): rich tables for the terminal and the
same tables as Markdown for the README. Retrievers are columns, so baselines sit side by side."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rich.table import Table

# (label, key, kind) — kind: "share" prints as a percentage-like 0.000, "ms" as milliseconds.
_OVERALL_ROWS = [
    ("questions", "n", "count"),
    ("answer accuracy (answerable)", "accuracy", "share"),
    ("SQuAD exact match", "exact_match", "share"),
    ("SQuAD F1", "f1", "share"),
    ("retrieval Recall@1", "recall@1", "share"),
    ("retrieval Recall@5", "recall@5", "share"),
    ("retrieval MRR", "mrr", "share"),
    ("abstention accuracy (unanswerable)", "abstention_accuracy", "share"),
    ("false abstention (answerable)", "false_abstention", "share"),
    ("citations verified", "citations_verified", "share"),
    ("citation correct (answered)", "citation_correct", "share"),
    ("variant spellings: accuracy as asked", "variant_accuracy_as_asked", "share"),
    ("variant spellings: same, article's spelling", "variant_accuracy_corpus_spelling", "share"),
    ("latency p50", "latency_ms_p50", "ms"),
    ("latency p95", "latency_ms_p95", "ms"),
]


def tables(summaries: Sequence[dict[str, Any]]) -> list[tuple[str, list[str], list[list[str]]]]:
    """(title, header, rows) for the overall, per-type and conversation tables."""
    names = [s["retriever"] for s in summaries]
    result = []
    with_questions = [s for s in summaries if "questions" in s]
    if with_questions:
        rows = [
            [label, *(_format(s["questions"]["overall"].get(key), kind) for s in with_questions)]
            for label, key, kind in _OVERALL_ROWS
        ]
        result.append(("Questions: overall", ["metric", *names], rows))
        kinds = sorted({kind for s in with_questions for kind in s["questions"]["by_type"]})
        rows = []
        for kind in kinds:
            groups = [s["questions"]["by_type"].get(kind) for s in with_questions]
            first = next(g for g in groups if g)
            row = [kind, str(first["n"])]
            for group in groups:
                row.append(_type_cell(group) if group else "–")
            rows.append(row)
        result.append(
            ("Questions: by type (answer accuracy · Recall@5)", ["type", "n", *names], rows)
        )
    with_turns = [s for s in summaries if "conversations" in s]
    if with_turns:
        rows = [
            ["conversations", *(str(s["conversations"]["conversations"]) for s in with_turns)],
            ["turns", *(str(s["conversations"]["turns"]["n"]) for s in with_turns)],
            ["turn accuracy", *(_format(s["conversations"]["turn_accuracy"], "share") for s in with_turns)],
            ["answer accuracy (answerable turns)", *(_format(s["conversations"]["turns"]["accuracy"], "share") for s in with_turns)],
            ["abstention accuracy (unanswerable turns)", *(_format(s["conversations"]["turns"]["abstention_accuracy"], "share") for s in with_turns)],
            ["retrieval Recall@5", *(_format(s["conversations"]["turns"]["recall@5"], "share") for s in with_turns)],
        ]
        result.append(("Conversations", ["metric", *[s["retriever"] for s in with_turns]], rows))
    return result


def rich_tables(summaries: Sequence[dict[str, Any]]) -> list[Table]:
    rendered = []
    for title, header, rows in tables(summaries):
        table = Table(title=title, title_justify="left", title_style="bold")
        for n, name in enumerate(header):
            table.add_column(name, justify="left" if n == 0 else "right")
        for row in rows:
            table.add_row(*row)
        rendered.append(table)
    return rendered


def markdown(summaries: Sequence[dict[str, Any]]) -> str:
    parts = []
    for title, header, rows in tables(summaries):
        lines = [f"**{title}**", "", "| " + " | ".join(header) + " |", "|" + "|".join(" --- " for _ in header) + "|"]
        lines += ["| " + " | ".join(row) + " |" for row in rows]
        parts.append("\n".join(lines))
    return "\n\n".join(parts) + "\n"


def _type_cell(group: dict[str, Any]) -> str:
    if group["answerable"] == 0:  # unanswerable questions: what matters is abstaining
        return f"abstained {_format(group['abstention_accuracy'], 'share')}"
    recall = group["recall@5"]
    return f"{_format(group['accuracy'], 'share')} · {_format(recall, 'share')}"


def _format(value: Any, kind: str) -> str:
    if value is None:
        return "–"
    if kind == "share":
        return f"{value:.3f}"
    if kind == "ms":
        return f"{value:.1f} ms"
    return str(value)
