"""``qa eval --conversations FILE --format canard|cast|doc2dial``: one conversational benchmark run.

CANARD and TREC CAsT measure the follow-up rewriting alone (the gold history is given);
Doc2Dial asks each dialog turn by turn, once with follow-ups resolved and once with every turn
asked as typed, so the resolver's effect is one subtraction away.
"""

from __future__ import annotations

import hashlib
import time
from pathlib import Path
from typing import Any

from qa.benchmarks.runner import SUMMARY_VERSION, Step, provenance
from qa.errors import UsageError

FORMATS = ("canard", "cast", "doc2dial")


def run_conversations(
    path: Path, fmt: str, *, limit: int | None, seed: int, k: int, reader: str,
    on_step: Step | None = None, on_build: Any = None,
) -> dict[str, Any]:
    from qa.benchmarks import doc2dial, rewriting

    if fmt not in FORMATS:
        raise UsageError(f"unknown conversation format {fmt!r}; choose one of qa, {', '.join(FORMATS)}")
    started = time.perf_counter()
    if fmt in ("canard", "cast"):
        items = rewriting.load_canard(path) if fmt == "canard" else rewriting.load_cast(path)
        results: dict[str, Any] = {"rewriting": rewriting.score_rewrites(
            items, rewriting.project_rewriter(), limit=limit, seed=seed, on_step=on_step).as_dict()}
    else:
        results = {
            mode: doc2dial.evaluate_doc2dial(
                path, limit=limit, seed=seed, resolve_followups=resolve, k=k, reader=reader,
                on_step=on_step, on_progress=on_build,
            ).as_dict()
            for mode, resolve in (("conversation", True), ("standalone", False))
        }
    return {
        "schema_version": SUMMARY_VERSION,
        "benchmark": fmt,
        "dataset": {"path": str(path), "sha256": _digest(path)},
        "reader": reader if fmt == "doc2dial" else None,
        "sample": {"limit": limit, "seed": seed},
        "results": results,
        "seconds": round(time.perf_counter() - started, 1),
        "provenance": provenance(),
    }


def markdown(summary: dict[str, Any]) -> str:
    fmt, results = summary["benchmark"], summary["results"]
    lines = [f"### {fmt} (`{summary['dataset']['path']}`, sha256 {summary['dataset']['sha256'][:12]}…)", ""]
    if "rewriting" in results:
        report = results["rewriting"]
        lines += ["| set | questions | system BLEU-4 | raw question BLEU-4 | system token F1 | raw question token F1 | changed |",
                  "|---|---:|---:|---:|---:|---:|---:|"]
        rows = [("all", report)] + (list(report["by_group"].items()) if len(report["by_group"]) > 1 else [])
        for name, row in rows:
            lines.append(f"| {name} | {row['total']} | {row['system']['bleu']:.2f} | {row['raw_question']['bleu']:.2f} | "
                         f"{row['system']['token_f1']:.3f} | {row['raw_question']['token_f1']:.3f} | {row['changed']:.3f} |")
    else:
        lines += [f"Reader: {summary['reader']}.", "",
                  "| mode | dialogs | turns | EM | F1 | grounding F1 | abstained | doc@1 |",
                  "|---|---:|---:|---:|---:|---:|---:|---:|"]
        for mode, row in results.items():
            lines.append(f"| {mode} | {row['dialogs']} | {row['turns']} | {_pct(row['exact_match'])} | {_pct(row['f1'])} | "
                         f"{_pct(row.get('grounding_f1'))} | {_pct(row['abstention_rate'])} | {_pct(row['retrieval']['doc@1'])} |")
    return "\n".join(lines) + "\n"


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:.1f}"


def _digest(path: Path) -> str:
    digest = hashlib.sha256()
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    for file in files:
        digest.update(file.read_bytes())
    return digest.hexdigest()
