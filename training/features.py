"""Tokenised reader inputs: (question, context) windows with start/end labels (HF run_qa style)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from training.squad_data import Example


@dataclass
class Features:
    input_ids: list[list[int]]
    token_type_ids: list[list[int]]
    start_positions: list[int]
    end_positions: list[int]
    offsets: list[list[tuple[int, int] | None]]  # context tokens only; None elsewhere
    example_index: list[int]


def tokenize(tokenizer, examples: list[Example], max_length: int, stride: int, batch: int = 2000) -> Features:
    """Doc-stride windows of every example; a window without the answer is labelled [CLS] (0, 0)."""
    out = Features([], [], [], [], [], [])
    for base in range(0, len(examples), batch):
        chunk = examples[base : base + batch]
        encoded = tokenizer(
            [e.question.lstrip() for e in chunk],
            [e.context for e in chunk],
            truncation="only_second",
            max_length=max_length,
            stride=stride,
            return_overflowing_tokens=True,
            return_offsets_mapping=True,
            padding=False,
        )
        for row, origin in enumerate(encoded["overflow_to_sample_mapping"]):
            example = chunk[origin]
            sequence_ids = encoded.sequence_ids(row)
            offsets = [
                tuple(o) if sequence_ids[i] == 1 else None for i, o in enumerate(encoded["offset_mapping"][row])
            ]
            start_token = end_token = 0
            if example.answer_start >= 0:
                a_start = example.answer_start
                a_end = a_start + len(example.answer_text)
                context_tokens = [i for i, o in enumerate(offsets) if o is not None]
                if context_tokens and offsets[context_tokens[0]][0] <= a_start and offsets[context_tokens[-1]][1] >= a_end:
                    start_token = next(i for i in context_tokens if offsets[i][1] > a_start)
                    end_token = next(i for i in reversed(context_tokens) if offsets[i][0] < a_end)
            out.input_ids.append(encoded["input_ids"][row])
            out.token_type_ids.append(encoded["token_type_ids"][row])
            out.start_positions.append(start_token)
            out.end_positions.append(end_token)
            out.offsets.append(offsets)
            out.example_index.append(base + origin)
    return out


def length_grouped_batches(lengths: list[int], batch_size: int, seed: int, group: int = 50) -> list[list[int]]:
    """Seeded batches of similar lengths (less padding), in a shuffled order."""
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(lengths))
    batches: list[list[int]] = []
    span = batch_size * group
    for base in range(0, len(order), span):
        block = sorted(order[base : base + span].tolist(), key=lambda i: lengths[i])
        batches.extend(block[i : i + batch_size] for i in range(0, len(block), batch_size))
    rng.shuffle(batches)
    return batches


def pad(rows: list[list[int]], value: int = 0) -> tuple[np.ndarray, np.ndarray]:
    width = max(len(r) for r in rows)
    array = np.full((len(rows), width), value, dtype=np.int64)
    mask = np.zeros((len(rows), width), dtype=np.int64)
    for i, r in enumerate(rows):
        array[i, : len(r)] = r
        mask[i, : len(r)] = 1
    return array, mask
