"""Embeddings: the ONNX query path reproduces sentence-transformers' own embeddings."""

from __future__ import annotations

import numpy as np

from qa.embedding import MODEL_NAME, OnnxEncoder, ensure_onnx_model, model_info, packaged_model_dir

TEXTS = [
    "Who replaced Litvinov?",
    "Thus Litvinov’s replacement by Molotov in the spring of 1939 was approved of by both factions.",
    "Khrushchev, Kosygin and Voznesensky",
    "x",
    "The Beria-Malenkov group apparently aims at two things: (1) the creation of a girdle of neutral "
    "states extending from Finland and Scandinavia through Germany, Austria, Switzerland, and Italy "
    "to the Near and Middle East; (2) tighter ties between the belt of satellite states. " * 8,  # > 256 tokens
]


def test_onnx_matches_sentence_transformers() -> None:
    from sentence_transformers import SentenceTransformer

    reference = SentenceTransformer(str(packaged_model_dir()), device="cpu").encode(
        TEXTS, normalize_embeddings=True, convert_to_numpy=True
    )
    ours = OnnxEncoder(ensure_onnx_model(), weights="float32").encode(TEXTS)
    cosines = np.sum(reference * ours, axis=1)
    assert ours.shape == (len(TEXTS), 384)
    assert cosines.min() >= 0.999, cosines
    # The int8 weights the index and the questions use: close, not equal (retrieval measured
    # the same on held-out SQuAD articles; see qa/embedding.py).
    quantised = OnnxEncoder(ensure_onnx_model()).encode(TEXTS)
    assert np.sum(reference * quantised, axis=1).min() >= 0.98


def test_vectors_are_unit_length_and_batch_independent() -> None:
    encoder = OnnxEncoder(ensure_onnx_model())
    together = encoder.encode(TEXTS, batch_size=2)
    alone = np.stack([encoder.encode([t])[0] for t in TEXTS])
    np.testing.assert_allclose(np.linalg.norm(together, axis=1), 1.0, rtol=1e-5)
    np.testing.assert_allclose(together, alone, atol=1e-5)


def test_export_is_cached_and_described() -> None:
    first = ensure_onnx_model()
    assert ensure_onnx_model() == first
    info = model_info(first)
    assert info.name == MODEL_NAME and info.dim == 384 and info.max_seq_length == 256
    assert len(info.source_sha256) == 64


def test_optimised_graph_gives_the_plain_exports_embeddings() -> None:
    import onnxruntime as ort

    model_dir = ensure_onnx_model()
    assert OnnxEncoder(model_dir).model_file == model_dir / "onnx-int8" / "model.onnx"  # the default
    fast = OnnxEncoder(model_dir, weights="float32")
    assert fast.model_file == model_dir / "onnx-optimized" / "model.onnx"  # the quick-start copy is used
    plain = OnnxEncoder(model_dir, weights="float32")
    plain.session = ort.InferenceSession(str(model_dir / "onnx" / "model.onnx"), providers=["CPUExecutionProvider"])
    np.testing.assert_allclose(fast.encode(TEXTS), plain.encode(TEXTS), atol=1e-5)


def test_making_the_int8_copy_leaves_the_logging_set_up_as_it_was(tmp_path) -> None:
    """onnxruntime.quantization calls logging.basicConfig when imported; before this was undone,
    the first index build after installing printed bm25s's debug lines to the user."""
    import shutil
    import subprocess
    import sys

    model_dir = tmp_path / "model"
    (model_dir / "onnx").mkdir(parents=True)
    shutil.copy(ensure_onnx_model() / "onnx" / "model.onnx", model_dir / "onnx" / "model.onnx")
    script = (
        "import logging, sys\n"
        "from pathlib import Path\n"
        "from qa.embedding import _ensure_quantized\n"
        f"_ensure_quantized(Path({str(model_dir)!r}))\n"
        "logging.getLogger('bm25s').setLevel(logging.DEBUG)\n"
        "logging.getLogger('bm25s').debug('a library debug line')\n"
        "print(logging.getLogger().level, len(logging.getLogger().handlers))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert (model_dir / "onnx-int8" / "model.onnx").exists()
    assert done.stdout.split() == ["30", "0"] and done.stderr == ""


def test_sessions_side_by_side_give_the_same_bits_as_one() -> None:
    """Index builds embed with one session per core; vectors must not depend on which session
    ran them, or an incremental build would not write the bytes of a full one."""
    texts = [f"{t} ({i})" for i in range(12) for t in TEXTS]
    counted: list[int] = []
    alone = OnnxEncoder(ensure_onnx_model()).encode(texts)
    together = OnnxEncoder(ensure_onnx_model(), workers=2).encode(texts, on_batch=counted.append)
    assert np.array_equal(alone, together)
    assert sum(counted) == len(texts)


def test_no_session_spin_waits_between_runs() -> None:
    # Spinning threads took the two cores from the reader that runs straight after the encoder
    # (warm p50 34-44 against 17-21 ms; README, Speed).
    encoder = OnnxEncoder(ensure_onnx_model(), workers=2)
    entries = [s.get_session_options().get_session_config_entry("session.intra_op.allow_spinning") for s in encoder._sessions]
    assert entries == ["0", "0"]
