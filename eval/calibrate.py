"""Fit the answer confidence on a labelled eval set and write ``qa/calibration.json``.

    python eval/calibrate.py [--questions eval/questions.jsonl] [--write]

Every question is answered with abstention switched off; each answer's evidence features
(``qa.rules.FEATURES``) and whether it is right (a gold variant contained in the answer; for an
unanswerable question, no answer is right) train a small L2-regularised logistic regression:
``confidence`` = P(right). The abstention threshold is the one that maximises answer accuracy plus
abstention accuracy (the two targets, weighted equally) while keeping false abstention on
answerable questions at most 0.1. The script reports in-sample numbers and 5-fold cross-validated ones (model and
threshold fitted on four folds, scored on the fifth), so the README can say how much of the
result is fitting.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from qa import Assistant, metrics  # noqa: E402
from qa import rules as answer  # noqa: E402  (the rule reader's calibration)
from qa import evaluate as ev  # noqa: E402

MAX_FALSE_ABSTENTION = 0.1
L2 = 2.0  # chosen by 5-fold CV among 0.1, 0.5, 1, 2, 4
FOLDS = 5


def collect(questions: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Features, whether each answer is right, and whether each question is answerable."""
    answer.set_calibration(answer.Calibration({}, 50.0, 0.0))  # answer everything
    assistant = Assistant.load()
    rows, right, answerable = [], [], []
    for item in ev.load_questions(questions):
        result = assistant.ask(item.question)
        rows.append([result.features.get(name, 0.0) for name in answer.FEATURES])
        right.append(item.answerable and metrics.contains_answer(result.answer, item.answers, item.all_required))
        answerable.append(item.answerable)
    answer.set_calibration(None)
    return np.array(rows, dtype=float), np.array(right, dtype=float), np.array(answerable, dtype=bool)


def fit(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, float]:
    """Logistic regression by Newton's method with an L2 penalty on the weights (not the bias)."""
    design = np.hstack([x, np.ones((len(x), 1))])
    w = np.zeros(design.shape[1])
    penalty = np.eye(design.shape[1]) * L2
    penalty[-1, -1] = 0.0
    for _ in range(50):
        p = 1 / (1 + np.exp(-design @ w))
        gradient = design.T @ (p - y) + penalty @ w
        hessian = design.T @ (design * (p * (1 - p))[:, None]) + penalty
        step = np.linalg.solve(hessian, gradient)
        w -= step
        if np.abs(step).max() < 1e-8:
            break
    return w[:-1], float(w[-1])


def predict(x: np.ndarray, weights: np.ndarray, bias: float) -> np.ndarray:
    return 1 / (1 + np.exp(-(x @ weights + bias)))


def scores(p: np.ndarray, right: np.ndarray, answerable: np.ndarray, threshold: float) -> dict[str, float]:
    answered = p >= threshold
    return {
        "accuracy": float((right.astype(bool) & answered)[answerable].mean()),
        "abstention_accuracy": float((~answered)[~answerable].mean()) if (~answerable).any() else 1.0,
        "false_abstention": float((~answered)[answerable].mean()),
        "overall_accuracy": float(np.where(answerable, right.astype(bool) & answered, ~answered).mean()),
    }


def choose_threshold(p: np.ndarray, right: np.ndarray, answerable: np.ndarray) -> float:
    best, best_value = 0.0, -1.0
    # Midway between neighbouring confidences, so that rounding the written weights cannot
    # move an answer across the threshold.
    levels = np.unique(np.concatenate([[0.0], p]))
    for threshold in np.concatenate([[0.0], (levels[:-1] + levels[1:]) / 2]):
        s = scores(p, right, answerable, threshold)
        value = s["accuracy"] + s["abstention_accuracy"]  # both targets count equally
        if s["false_abstention"] <= MAX_FALSE_ABSTENTION and value > best_value:
            best, best_value = float(threshold), value
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--questions", type=Path, default=ROOT / "eval" / "questions.jsonl")
    parser.add_argument("--write", action="store_true", help="write qa/calibration.json")
    args = parser.parse_args()

    x, right, answerable = collect(args.questions)
    weights, bias = fit(x, right)
    p = predict(x, weights, bias)
    threshold = choose_threshold(p, right, answerable)
    in_sample = scores(p, right, answerable, threshold)

    folds = np.arange(len(x)) % FOLDS
    held_out = np.zeros(len(x), dtype=bool)
    for fold in range(FOLDS):
        train, test = folds != fold, folds == fold
        w, b = fit(x[train], right[train])
        t = choose_threshold(predict(x[train], w, b), right[train], answerable[train])
        held_out[test] = predict(x[test], w, b) >= t
    cross_validated = {
        "accuracy": float((right.astype(bool) & held_out)[answerable].mean()),
        "abstention_accuracy": float((~held_out)[~answerable].mean()),
        "false_abstention": float((~held_out)[answerable].mean()),
    }
    report = {
        "about": "Logistic model of P(answer is right) over qa.rules.FEATURES; written by eval/calibrate.py.",
        "fitted_on": str(args.questions.relative_to(ROOT) if args.questions.is_relative_to(ROOT) else args.questions),
        "fitted_at": time.strftime("%Y-%m-%d"),
        "n": int(len(x)),
        "weights": {name: round(float(v), 4) for name, v in zip(answer.FEATURES, weights)},
        "bias": round(bias, 4),
        "threshold": round(threshold, 4),
        "raw_accuracy_without_abstention": round(float(right[answerable].mean()), 4),
        "in_sample": {k: round(v, 4) for k, v in in_sample.items()},
        "cross_validated_5_fold": {k: round(v, 4) for k, v in cross_validated.items()},
    }
    print(json.dumps(report, indent=2))
    if args.write:
        (ROOT / "qa" / "calibration.json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
