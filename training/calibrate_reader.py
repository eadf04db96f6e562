"""Fit the reader's confidence on held-out SQuAD training articles (never on eval/ or dev sets).

    python -m training.calibrate_reader --run training/runs/reader --model models/reader

Two logistic models, written to ``<model>/calibration.json``:
- reading: p(right | margin) for one given passage, on each held-out question against its own
  paragraph and on the run's no-answer inputs (another paragraph, the answer's sentence cut out);
- corpus: p(right | margin, score, dense cosine, 1/rank) with real retrieval: most held-out
  articles become a corpus indexed by the real pipeline; questions of the articles left out of
  it are unanswerable there, as a user's off-corpus question is.
When the run was trained with SQuAD 2.0 unanswerables, the articles its split set aside for
calibration join both fits: their questions against their own paragraphs (reading) and their
paragraphs inside the corpus, where their unanswerable questions are unanswerable (corpus).
"Right" is F1 ≥ 0.5 for an answerable question; an unanswerable one is never right to answer.
Each threshold maximises the mean SQuAD F1 of answering-or-abstaining on the same data. The
early-exit threshold (stop reading passages once the best span so far is that likely right) is
the lowest that keeps that F1 within 0.2 points of reading all five, on the corpus questions;
the give-up rule (after n passages, stop while the best so far is below p) the one that reads
fewest passages within 0.2 points of the exit alone.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
from pathlib import Path

import numpy as np

from training import squad_data


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--run", type=Path, default=Path("training/runs/reader"))
    p.add_argument("--model", type=Path, default=Path("models/reader"))
    p.add_argument("--questions", type=int, default=800, help="answerable questions per fit")
    p.add_argument("--corpus-articles", type=int, default=14, help="held-out articles that form the corpus")
    p.add_argument("--seed", type=int, default=29)
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from qa.benchmarks.squad_metrics import compute_f1
    from qa.reader import ExtractiveReader

    trained = training_record(args.run, args.model)
    articles = squad_data.held_out_articles(trained)
    reader = ExtractiveReader(args.model)
    rng = random.Random(args.seed)

    # Reading: own paragraph (answerable) and the no-answer inputs.
    answerable = squad_data.reading_examples(articles)
    rng.shuffle(answerable)
    answerable = answerable[: args.questions]
    negatives = [e for e in squad_data.build_examples(articles, seed=args.seed) if e.answer_start < 0]
    negatives = negatives[: args.questions // 2]
    dev = calibration_dev_articles(trained)
    dev_questions = squad_data.reading_examples(dev)
    rng.shuffle(dev_questions)
    answerable += [e for e in dev_questions if e.answer_start >= 0]
    negatives += [e for e in dev_questions if e.answer_start < 0]
    margins, f1s = [], []
    for example in answerable + negatives:
        spans = reader.read(example.question, [example.context])
        margins.append(spans[0].margin if spans else -30.0)
        f1s.append(compute_f1(example.answer_text, spans[0].text) if spans and example.answer_start >= 0 else 0.0)
    x = np.array(margins)[:, None]
    gain = np.array(f1s)  # what answering earns; abstaining earns 1 on a negative, 0 otherwise
    is_negative = np.array([0.0] * len(answerable) + [1.0] * len(negatives))
    weights, bias = fit_logistic(x, (gain >= 0.5).astype(float))
    reading_p = sigmoid(x @ weights + bias)
    reading_threshold = best_threshold(reading_p, gain, is_negative)

    # Corpus: real retrieval over a corpus of most held-out articles.
    from qa import index as index_store
    from qa.benchmarks.squad import write_corpus
    from dataclasses import replace

    from qa.extract import FEATURES, Calibration, best_of, span_features
    from qa.index import IndexSettings
    from qa.retrieval import retrieve

    shuffled = sorted(articles, key=lambda a: a["title"])
    rng.shuffle(shuffled)
    inside, outside = shuffled[: args.corpus_articles], shuffled[args.corpus_articles :]
    work = Path(tempfile.mkdtemp(prefix="qa-calibration-"))
    corpus = write_corpus(inside + dev, work / "corpus")
    index = index_store.open_index(corpus, work / "index", IndexSettings(), rebuild=True)
    asked = [(e, True) for e in squad_data.reading_examples(inside)]
    rng.shuffle(asked)
    off = [(e, False) for e in squad_data.reading_examples(outside)]
    rng.shuffle(off)
    asked = asked[: args.questions] + off[: args.questions // 2] + [(e, True) for e in dev_questions]
    rows, gains, negative = [], [], []
    read: list[tuple[object, bool, list, list]] = []  # (example, answerable here, hits, spans by rank)
    for example, inside_corpus in asked:
        vector = index.encoder.encode([example.question])[0]
        hits = retrieve(index, example.question, vector, k=5)
        # One passage at a time, as the query path reads them (the same spans as all at once).
        by_rank = [reader.read(example.question, [h.passage.text]) for h in hits]
        best = best_of([replace(span, passage=rank) for rank, spans in enumerate(by_rank) for span in spans])
        if best is None:
            continue
        answerable_here = inside_corpus and example.answer_start >= 0
        read.append((example, answerable_here, hits, by_rank))
        features = span_features(best, hits[best.passage])
        rows.append([features[name] for name in FEATURES])
        gains.append(compute_f1(example.answer_text, best.text) if answerable_here else 0.0)
        negative.append(0.0 if answerable_here else 1.0)
    features_x = np.array(rows)
    corpus_gain, corpus_negative = np.array(gains), np.array(negative)
    corpus_weights, corpus_bias = fit_logistic(features_x, (corpus_gain >= 0.5).astype(float))
    corpus_p = sigmoid(features_x @ corpus_weights + corpus_bias)
    corpus_threshold = best_threshold(corpus_p, corpus_gain, corpus_negative)

    fitted = Calibration(tuple(float(w) for w in corpus_weights), float(corpus_bias), corpus_threshold,
                         float(weights[0]), float(bias), reading_threshold, "")
    early_exit = fit_stopping(read, fitted, compute_f1)

    calibration = {
        "fitted_on": (
            f"{len(articles)} held-out SQuAD 1.1 training articles ({trained['train_file']})"
            + (f" and {len(dev)} SQuAD 2.0 dev articles set aside for calibration ({', '.join(a['title'] for a in dev)})"
               if dev else "")
            + f"; reading: {len(answerable)} answerable + {len(negatives)} no-answer inputs; corpus: {len(rows)} "
            f"questions over {len(inside) + len(dev)} articles ({int(corpus_negative.sum())} unanswerable there, "
            f"from {len(outside)} articles outside it or unanswerable in their own)"
        ),
        "reading": {"weight": float(weights[0]), "bias": float(bias), "threshold": reading_threshold},
        "corpus": {
            "weights": {name: float(w) for name, w in zip(FEATURES, corpus_weights)},
            "bias": float(corpus_bias),
            "threshold": corpus_threshold,
        },
        "early_exit": early_exit,
        "in_sample": {
            "reading_f1_at_threshold": score_at(reading_p, gain, is_negative, reading_threshold),
            "corpus_f1_at_threshold": score_at(corpus_p, corpus_gain, corpus_negative, corpus_threshold),
        },
    }
    (args.model / "calibration.json").write_text(json.dumps(calibration, indent=2) + "\n", encoding="utf-8")
    from training.export_reader import write_card_markdown

    write_card_markdown(args.model)
    print(json.dumps(calibration, indent=2))
    return 0


def training_record(run: Path, model: Path) -> dict:
    """What the run recorded of its data and split: its ``validation.json``, else (the run's
    directory is not kept in the repository) the copy in the model's card."""
    if (run / "validation.json").exists():
        return json.loads((run / "validation.json").read_text(encoding="utf-8"))
    return json.loads((model / "model_card.json").read_text(encoding="utf-8"))["training"]


def fit_stopping(read: list, calibration, compute_f1, tolerance: float = 0.002) -> dict:
    """When to stop reading passages, on the corpus questions (``read``: each with its hits and
    its passages' spans in rank order). First the early exit: the lowest threshold (the most
    questions answered early) whose mean F1 of answering-or-abstaining stays within
    ``tolerance`` of reading all five passages. Then giving up: of the rules "after n passages,
    stop while the best so far is below p", the one that reads fewest passages and stays within
    ``tolerance`` of the exit alone. Reports the passages read, on average and in the worst
    tenth of questions."""
    from qa.extract import Stopping, read_in_rank_order, span_features

    def outcome(stopping: Stopping) -> tuple[float, float, float]:
        scores, passages = [], []
        for example, answerable_here, hits, by_rank in read:
            best, n = read_in_rank_order(iter(by_rank), hits, calibration, stopping)
            answered = best is not None and calibration.probability(span_features(best, hits[best.passage])) >= calibration.threshold
            if answered:
                scores.append(compute_f1(example.answer_text, best.text) if answerable_here else 0.0)
            else:
                scores.append(0.0 if answerable_here else 1.0)
            passages.append(n)
        return float(np.mean(scores)), float(np.mean(passages)), float(np.percentile(passages, 90))

    full, full_read, _ = outcome(Stopping())
    exit_at, (exit_score, exit_read, _) = None, (full, full_read, 0.0)
    for threshold in np.round(np.arange(0.99, calibration.threshold, -0.01), 2):
        threshold = float(max(threshold, calibration.threshold))
        result = outcome(Stopping(answer_at=threshold))
        if result[0] < full - tolerance:
            break
        exit_at, (exit_score, exit_read, _) = threshold, result
    chosen = Stopping(answer_at=exit_at)
    score, passages, p90 = outcome(chosen)
    for after in (1, 2, 3, 4):
        for below in np.round(np.arange(0.02, calibration.threshold, 0.02), 2):
            candidate = Stopping(exit_at, after, float(below))
            result = outcome(candidate)
            if result[0] >= exit_score - tolerance and result[1] < passages:
                chosen, (score, passages, p90) = candidate, result
    return {"threshold": exit_at, "give_up_after": chosen.give_up_after, "give_up_below": chosen.give_up_below,
            "tolerance": tolerance, "score_reading_all": full, "score_exit_only": exit_score, "score": score,
            "passages_read_all": full_read, "passages_read_exit_only": exit_read, "passages_read": passages,
            "passages_read_p90": p90}


def calibration_dev_articles(trained: dict) -> list[dict]:
    """The SQuAD 2.0 dev articles the run's split set aside for calibration (none for older runs)."""
    split = trained.get("squad2_split")
    if not split or not trained.get("squad2_file"):
        return []
    wanted = set(split["calibrate"])
    return [a for a in squad_data.load_articles(Path(trained["squad2_file"])) if a["title"] in wanted]


def sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(z, -60, 60)))


def fit_logistic(x: np.ndarray, y: np.ndarray, l2: float = 1e-3, steps: int = 50) -> tuple[np.ndarray, float]:
    """L2-regularised logistic regression by Newton's method (weights, bias)."""
    design = np.hstack([x, np.ones((len(x), 1))])
    theta = np.zeros(design.shape[1])
    penalty = l2 * np.eye(design.shape[1])
    penalty[-1, -1] = 0.0
    for _ in range(steps):
        p = sigmoid(design @ theta)
        gradient = design.T @ (p - y) + penalty @ theta
        hessian = (design * (p * (1 - p))[:, None]).T @ design + penalty
        theta -= np.linalg.solve(hessian + 1e-9 * np.eye(len(theta)), gradient)
    return theta[:-1], float(theta[-1])


def score_at(p: np.ndarray, gain: np.ndarray, negative: np.ndarray, threshold: float) -> float:
    answered = p >= threshold
    return float(np.mean(np.where(answered, gain, negative)))


def best_threshold(p: np.ndarray, gain: np.ndarray, negative: np.ndarray) -> float:
    candidates = np.unique(np.concatenate([p, [0.0, 1.0]]))
    scores = [score_at(p, gain, negative, t) for t in candidates]
    return float(candidates[int(np.argmax(scores))])


if __name__ == "__main__":
    sys.exit(main())
