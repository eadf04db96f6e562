"""``qa eval --squad``: one benchmark run, from the file to the summary the CLI writes.

The summary says what it measured: the dataset's sha256, the setting, the sample (limit and
seed), the reader model card, the index manifest (corpus setting), the commit and the machine.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from qa.benchmarks import squad
from qa.errors import UsageError

SUMMARY_VERSION = 1
Step = Callable[[int, int], None]


@dataclass(frozen=True)
class SquadRun:
    summary: dict[str, Any]
    predictions: dict[str, str]  # the official prediction file
    na_probs: dict[str, float]


def run_squad(
    path: Path, setting: str, *, limit: int | None, seed: int, k: int, reader: str = "model",
    on_step: Step | None = None, on_build: Any = None,
) -> SquadRun:
    if setting not in squad.SETTINGS:
        raise UsageError(f"unknown setting {setting!r}; choose one of {', '.join(squad.SETTINGS)}")
    dataset = squad.load(path)
    # Articles the shipped reader was trained or calibrated on are never scored, with either
    # reader (so the two stay comparable); the corpus setting still indexes them.
    seen = squad.articles_seen_by_reader()
    kept = [q for q in dataset.questions if q.title not in seen]
    if not kept:
        raise UsageError(f"every article of {path} was used to train the shipped reader: nothing to measure")
    questions = squad.sample(kept, limit, seed)
    excluded = sorted({q.title for q in dataset.questions} & seen)
    started = time.perf_counter()
    context: dict[str, Any] = {}
    if setting == "reading":
        if reader != "model":
            raise UsageError("the reading setting reads with the trained model only: add --reader model")
        from qa.extract import Calibration
        from qa.reader import shipped_reader

        model = shipped_reader()
        calibration = Calibration.load(model.directory / "calibration.json")
        predictions = squad.run_reading(
            questions, model, calibration, may_abstain=dataset.has_unanswerable, on_step=on_step
        )
        context["model"] = _model_info(model.directory)
    else:
        from qa.assistant import Assistant

        cache = squad.corpus_cache(dataset)
        corpus = squad.write_corpus(dataset.articles, cache / "corpus")
        assistant = Assistant.load(corpus, cache / "index", on_progress=on_build, reader=reader)
        predictions = squad.run_corpus(questions, assistant, k=k, on_step=on_step)
        context["index"] = assistant.index.manifest
        if assistant.model is not None:
            context["model"] = _model_info(assistant.model.directory)
        context["top_k"] = k
        # Did the answer come from the question's own article? (a retrieval-level view)
        titles = {squad.document_name(q.title): q.title for q in questions}
        own = [p.doc is not None and titles.get(p.doc) == q.title for p, q in zip(predictions, questions)]
        answered = [p.doc is not None for p in predictions]
        context["answered_from_own_article"] = round(sum(own) / max(1, sum(answered)), 4)
    seconds = time.perf_counter() - started
    metrics = squad.report(dataset, questions, predictions)
    summary = {
        "schema_version": SUMMARY_VERSION,
        "benchmark": "squad",
        "dataset": {"path": str(path), "version": dataset.version, "sha256": dataset.sha256,
                    "questions": len(dataset.questions), "articles": len(dataset.articles)},
        "setting": setting,
        "reader": reader,
        "excluded": {"why": "seen by the shipped reader in training or calibration", "articles": excluded,
                     "questions": len(dataset.questions) - len(kept)},
        "sample": {"limit": limit, "seed": seed, "questions": len(questions)},
        **context,
        "metrics": metrics,
        "seconds": round(seconds, 1),
        "questions_per_s": round(len(questions) / seconds, 2) if seconds else None,
        "provenance": provenance(),
    }
    return SquadRun(
        summary, {p.id: p.answer for p in predictions}, {p.id: p.na_prob for p in predictions}
    )


def provenance() -> dict[str, Any]:
    """The commit (when run from a checkout) and the machine."""
    commit = None
    try:
        root = Path(__file__).resolve().parents[2]
        commit = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5
        ).stdout.strip() or None
    except (OSError, subprocess.SubprocessError):
        pass
    return {
        "commit": commit,
        "machine": {"platform": platform.platform(), "processor": platform.machine(), "cpus": os.cpu_count(),
                    "python": platform.python_version()},
        "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }


def _model_info(directory: Path) -> dict[str, Any]:
    card = json.loads((directory / "model_card.json").read_text(encoding="utf-8"))
    digest = hashlib.sha256((directory / "model.onnx").read_bytes()).hexdigest()
    return {"name": card.get("name"), "onnx_sha256": digest, "examples_seen": card.get("training", {}).get("examples_seen")}


OFFICIAL_KEYS = ("exact", "f1", "total", "HasAns_exact", "HasAns_f1", "HasAns_total",
                 "NoAns_exact", "NoAns_f1", "NoAns_total", "best_exact", "best_exact_thresh", "best_f1", "best_f1_thresh")


def markdown(summary: dict[str, Any]) -> str:
    """The run as Markdown: the official metrics, then per question word and per article."""
    metrics = summary["metrics"]
    overall = metrics["overall"]
    keys = [k for k in OFFICIAL_KEYS if k in overall]
    data = summary["dataset"]
    sample = summary["sample"]
    lines = [
        f"### SQuAD {data['version']} — {summary['setting']} setting ({summary['reader']} reader)",
        "",
        f"`{data['path']}` (sha256 {data['sha256'][:12]}…), {sample['questions']} of {data['questions']} questions"
        + (f" (seeded sample, seed {sample['seed']})" if sample["limit"] else "")
        + _excluded_words(summary)
        + f"; {summary['questions_per_s']} questions/s.",
        "",
        "| " + " | ".join(keys) + " |",
        "|" + "---:|" * len(keys),
        "| " + " | ".join(_cell(overall[k]) for k in keys) + " |",
        "",
    ]
    short = [k for k in ("exact", "f1", "total", "HasAns_f1", "NoAns_exact") if k in overall]
    for title, group in (("question word", metrics["by_wh_word"]), ("article", metrics["by_article"])):
        lines += [f"| {title} | " + " | ".join(short) + " |", "|---|" + "---:|" * len(short)]
        lines += [f"| {name} | " + " | ".join(_cell(row.get(k, "")) for k in short) + " |" for name, row in group.items()]
        lines.append("")
    return "\n".join(lines)


def _excluded_words(summary: dict[str, Any]) -> str:
    excluded = summary.get("excluded") or {}
    if not excluded.get("articles"):
        return ""
    questions, articles = excluded["questions"], len(excluded["articles"])
    return (f", less the {questions} question{'s' * (questions != 1)} of {articles} article{'s' * (articles != 1)} "
            f"the shipped reader was trained or calibrated on ({', '.join(excluded['articles'])})")


def _cell(value: Any) -> str:
    return f"{value:.2f}" if isinstance(value, float) else str(value)
