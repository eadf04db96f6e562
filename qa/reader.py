"""The trained extractive reader: a question and passages in, scored answer spans out.

A fine-tuned all-MiniLM-L6-v2 (``models/reader/``, int8 ONNX, made by ``make train-reader``)
gives start/end logits over each (question, passage) window; ``qa.spans`` picks the best span of
each window and the [CLS] no-answer score. Only onnxruntime and tokenizers run here (no torch).
Passages longer than one window are read in doc-stride windows. Spans come back as character
offsets into the passage texts they were read from.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np

from qa.errors import QAError
from qa.spans import best_span

# models/reader/ at the top of the repository; qa/models links to it so that wheels carry it.
MODEL_DIR = Path(__file__).resolve().parent / "models" / "reader"


def model_dir() -> Path:
    """The reader to load: ``$QA_READER_MODEL`` if set, else the shipped one."""
    return Path(os.environ.get("QA_READER_MODEL") or MODEL_DIR)


@dataclass(frozen=True)
class ReaderSettings:
    # The window the reader was trained on (192). On held-out SQuAD training articles (3,000
    # questions, 500 no-answer inputs) 192/96 read F1 70.40 and 6.0 % false no-answers, against
    # 69.91 and 7.2 % for 256/64: a wider overlap keeps each answer well inside some window.
    max_length: int = 192  # tokens per window, question included
    stride: int = 96  # tokens shared by consecutive windows of a long passage
    # Held-out SQuAD training articles read F1 72.42 with a cap of 20, 72.25 with 30 (README).
    max_answer_tokens: int = 20

    def as_dict(self) -> dict[str, int]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class Span:
    """The best span of one passage: ``text == passages[passage][start:end]``."""

    passage: int
    start: int
    end: int
    text: str
    score: float  # start + end logit
    null_score: float  # the passage's no-answer ([CLS]) score: lowest over its windows

    @property
    def margin(self) -> float:
        """How much the span beats saying nothing; positive means the reader would answer."""
        return self.score - self.null_score


class ExtractiveReader:
    def __init__(self, directory: Path | None = None, settings: ReaderSettings | None = None) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        directory = directory or model_dir()
        self.directory = directory
        model_file = directory / "model.onnx"
        if not model_file.exists():
            raise QAError(f"the reader model is missing: {model_file} (run: make train-reader)")
        self.settings = settings or ReaderSettings()
        self.card = json.loads((directory / "model_card.json").read_text(encoding="utf-8"))
        options = ort.SessionOptions()
        options.intra_op_num_threads = min(2, os.cpu_count() or 1)
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        # No spin-waiting between runs: spinning threads take the cores from the encoder and
        # from a second question being answered at once (qa serve: 58 against 47 answers/s,
        # README, Speed); one question alone reads as fast either way.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self._session = ort.InferenceSession(str(model_file), options, providers=["CPUExecutionProvider"])
        self._inputs = {i.name for i in self._session.get_inputs()}
        tokenizer = Tokenizer.from_file(str(directory / "tokenizer.json"))
        tokenizer.no_padding()
        tokenizer.enable_truncation(self.settings.max_length, stride=self.settings.stride, strategy="only_second")
        self._tokenizer = tokenizer

    def read(self, question: str, passages: Sequence[str], avoid: Sequence[str] = ()) -> list[Span]:
        """The best span of every passage, in passage order (a passage too short to hold one
        gets none). No span overlaps an occurrence of a text in ``avoid`` (what a "What else …?"
        must not answer again)."""
        if not passages:
            return []
        windows = self._windows(question.strip(), passages)
        best: dict[int, Span] = {}
        nulls: dict[int, float] = {}
        for batch in self._batches(windows):
            start_logits, end_logits = self._run(batch)
            context = np.zeros(start_logits.shape, dtype=bool)
            for row, (_, _, offsets) in enumerate(batch):
                context[row, : len(offsets)] = [o is not None for o in offsets]
            banned = [_token_ranges(passages[p], offsets, avoid) for p, _, offsets in batch] if avoid else None
            for span in best_span(start_logits, end_logits, context, self.settings.max_answer_tokens, banned):
                passage, _, offsets = batch[span.window]
                nulls[passage] = min(nulls.get(passage, np.inf), span.null_score)
                if not np.isfinite(span.score) or span.score <= best.get(passage, _NONE).score:
                    continue
                start, end = offsets[span.start_token][0], offsets[span.end_token][1]
                best[passage] = Span(passage, start, end, passages[passage][start:end], span.score, 0.0)
        return [
            Span(s.passage, s.start, s.end, s.text, s.score, float(nulls[s.passage]))
            for s in (best[p] for p in sorted(best))
        ]

    def _windows(self, question: str, passages: Sequence[str]) -> list[tuple[int, list, list]]:
        """(passage, encoding, context offsets) for every window of every passage."""
        encodings = self._tokenizer.encode_batch([(question, passage) for passage in passages])
        windows = []
        for passage, encoding in enumerate(encodings):
            for window in [encoding, *encoding.overflowing]:
                ids = window.sequence_ids
                offsets = [tuple(o) if ids[t] == 1 else None for t, o in enumerate(window.offsets)]
                windows.append((passage, window, offsets))
        return windows

    def _batches(self, windows: list[tuple[int, object, list]]) -> list[list[tuple[int, object, list]]]:
        """One window a run. Padding costs as much as real tokens (five passages of 80-220
        tokens read ~1.6x faster one at a time than padded together), and with int8 weights the
        activations are quantised over the whole input, so a window batched with others would
        get scores that depend on the passages read beside it."""
        return [[window] for window in windows]

    def _run(self, batch: list[tuple[int, object, list]]) -> tuple[np.ndarray, np.ndarray]:
        width = max(len(w.ids) for _, w, _ in batch)
        ids = np.zeros((len(batch), width), dtype=np.int64)
        types = np.zeros_like(ids)
        mask = np.zeros_like(ids)
        for row, (_, window, _) in enumerate(batch):
            n = len(window.ids)
            ids[row, :n], types[row, :n], mask[row, :n] = window.ids, window.type_ids, window.attention_mask
        feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": types}
        start, end = self._session.run(["start_logits", "end_logits"], {k: v for k, v in feeds.items() if k in self._inputs})
        return start, end


_NONE = Span(-1, 0, 0, "", -np.inf, 0.0)


def _token_ranges(passage: str, offsets: list, texts: Sequence[str]) -> list[tuple[int, int]]:
    """The inclusive token ranges of a window that cover an occurrence of one of ``texts`` in
    ``passage`` (case-insensitive; ``offsets`` are the window's character offsets, None off the
    passage)."""
    lowered = passage.lower()
    ranges = []
    for text in {t.strip().lower() for t in texts if t and t.strip()}:
        for found in re.finditer(re.escape(text), lowered):
            inside = [t for t, o in enumerate(offsets) if o is not None and o[0] < found.end() and o[1] > found.start()]
            if inside:
                ranges.append((inside[0], inside[-1]))
    return ranges


@cache
def shipped_reader() -> ExtractiveReader:
    """The packaged reader, loaded once per process."""
    return ExtractiveReader()
