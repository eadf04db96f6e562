"""Incremental builds: the previous index's passages reused by document and its vectors by text
hash, and the very same bytes as a full build; `qa index build` on an up-to-date index does nothing and says so."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import ARTICLE, ROOT

from qa import index as store
from qa.embedding import OnnxEncoder, ensure_onnx_model

QA = [sys.executable, "-m", "qa"]
BEARS = "# Bears\n\nMarshal Bulganin kept a tame bear named Misha in the Kremlin garden. It ate honey.\n"
CATS = "# Cats\n\nMolotov's cat was called Vyacheslav. It slept on the Politburo's minutes.\n\nNobody minded.\n"
# Fields of the manifest in which two builds of one corpus may differ: when and how they ran.
RUN_FIELDS = {"built_at", "build_seconds", "build_stats"}


def _tree(index: Path) -> dict[str, bytes]:
    files = {p.relative_to(index).as_posix(): p.read_bytes() for p in sorted(index.rglob("*")) if p.is_file()}
    manifest = json.loads(files.pop("manifest.json"))
    files["manifest.json"] = json.dumps({k: v for k, v in manifest.items() if k not in RUN_FIELDS}, sort_keys=True).encode()
    return files


@pytest.fixture()
def corpus(tmp_path: Path) -> Path:
    """Two short documents (builds take seconds, not minutes): one of the article's sections, and bears."""
    root = tmp_path / "corpus"
    root.mkdir()
    section = ARTICLE.read_text(encoding="utf-8").split("\n\n\n")[3]
    (root / "politburo.md").write_text(section.strip() + "\n", encoding="utf-8")
    (root / "bears.md").write_text(BEARS, encoding="utf-8")
    return root


def test_a_vector_depends_on_its_text_alone() -> None:
    encoder = OnnxEncoder(ensure_onnx_model())
    texts = ARTICLE.read_text(encoding="utf-8").split("\n\n")[:60]
    alone = np.stack([encoder.encode([t])[0] for t in texts[:8]])
    together = encoder.encode(texts)
    small_batches = encoder.encode(list(reversed(texts)), batch_size=3)[::-1]
    assert alone.tobytes() == together[:8].tobytes()
    assert together.tobytes() == small_batches.tobytes()


@pytest.mark.parametrize("change", ["add", "edit", "remove"])
def test_an_incremental_build_is_byte_for_byte_a_full_build(corpus: Path, tmp_path: Path, change: str) -> None:
    incremental = tmp_path / "incremental"
    first = store.build(corpus, incremental)
    assert first["build_stats"]["reused"] == 0
    if change == "add":
        (corpus / "cats.md").write_text(CATS, encoding="utf-8")
    elif change == "edit":
        (corpus / "bears.md").write_text(BEARS.replace("honey", "apples and honey"), encoding="utf-8")
    else:
        (corpus / "bears.md").unlink()
    stages: list[tuple[str, int, int]] = []
    second = store.build(corpus, incremental, on_progress=lambda *event: stages.append(event))
    stats = second["build_stats"]
    # Only the changed document's passages were chunked and embedded; the rest came from the caches.
    assert stats["chunked_documents"] == (0 if change == "remove" else 1), stats
    assert stats["reused"] + stats["embedded"] <= stats["texts"], stats
    assert stats["embedded"] <= (0 if change == "remove" else 6) and stats["reused"] >= stats["texts"] - 6, stats
    if change == "add":
        assert stats["reused"] == first["build_stats"]["texts"], stats
    assert max(total for stage, _, total in stages if stage == "embedding") == stats["embedded"]

    full = tmp_path / "full"  # the same corpus into a new directory: nothing to reuse, a full build
    store.build(corpus, full)
    assert json.loads((full / "manifest.json").read_text())["build_stats"]["reused"] == 0
    assert _tree(incremental) == _tree(full)


def _damage_vectors(index: Path) -> None:
    """Flip the last byte of the text keys: the index no longer verifies."""
    vectors = index / "text_keys.npy"
    data = bytearray(vectors.read_bytes())
    data[-1] ^= 0xFF
    vectors.write_bytes(bytes(data))


def test_nothing_is_reused_from_a_damaged_index(corpus: Path, tmp_path: Path) -> None:
    index = tmp_path / "index"
    store.build(corpus, index)
    _damage_vectors(index)
    (corpus / "cats.md").write_text(CATS, encoding="utf-8")
    manifest = store.build(corpus, index)
    assert manifest["build_stats"]["reused"] == 0 and store.status(corpus, index, verify=True).fresh


def test_a_build_that_ctrl_c_broke_stops_instead_of_building_afresh(
    corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A Ctrl-C inside an extension's import comes out as another error; the caches take any
    # error for a damaged previous index, and the build would carry on from scratch and succeed.
    from qa import _interrupt

    index = tmp_path / "index"
    store.build(corpus, index)
    _damage_vectors(index)
    before = _tree(index)
    (corpus / "cats.md").write_text(CATS, encoding="utf-8")
    monkeypatch.setattr(_interrupt, "_received", True)  # what qa.cli's SIGINT handler records
    with pytest.raises(KeyboardInterrupt):
        store.build(corpus, index)
    assert _tree(index) == before  # the index that was there is left as it was
    monkeypatch.setattr(_interrupt, "_received", False)
    assert store.build(corpus, index)["build_stats"]["reused"] == 0


def _qa(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "QA_PROGRESS_SECONDS": "0"}
    return subprocess.run([*QA, *args], capture_output=True, text=True, timeout=300, env=env, cwd=ROOT)


def test_index_build_on_an_up_to_date_index_is_a_no_op_that_says_so(corpus: Path, tmp_path: Path) -> None:
    index = tmp_path / "index"
    where = ("--corpus", str(corpus), "--index", str(index))
    built = _qa("index", "build", *where)
    assert built.returncode == 0 and f"built {index}" in built.stderr, built.stderr
    # Off a terminal the build reported its progress in plain lines, the first at once.
    assert built.stderr.startswith("qa: reading corpus 0/1\n"), built.stderr
    assert any(line.startswith("qa: embedding ") and " texts, " in line for line in built.stderr.splitlines())
    before = {p.name: p.stat().st_mtime_ns for p in index.iterdir()}
    again = _qa("index", "build", *where)
    assert again.returncode == 0 and again.stderr.splitlines() == [
        f"{index} is up to date (2 documents, {json.loads((index / 'manifest.json').read_text())['counts']['passages']} passages, "
        f"{json.loads((index / 'manifest.json').read_text())['counts']['sentences']} sentences, built "
        f"{json.loads((index / 'manifest.json').read_text())['built_at']}); nothing to do (--rebuild builds it afresh)"
    ], again.stderr
    assert {p.name: p.stat().st_mtime_ns for p in index.iterdir()} == before  # nothing written
    assert _qa("index", "build", "--quiet", *where).stderr == ""
    (corpus / "cats.md").write_text(CATS, encoding="utf-8")
    quiet = _qa("index", "build", "-q", *where)
    assert quiet.returncode == 0 and quiet.stderr == "" and store.status(corpus, index).fresh
    forced = _qa("index", "build", "--rebuild", *where)
    assert forced.returncode == 0 and f"built {index}" in forced.stderr and "reused" in forced.stderr, forced.stderr


def test_a_rebuild_inside_qa_ask_is_not_silent_off_a_terminal(corpus: Path, tmp_path: Path) -> None:
    where = ("--corpus", str(corpus), "--index", str(tmp_path / "index"))
    ask = _qa("ask", "--json", "What was the name of Bulganin's bear?", *where)
    assert ask.returncode == 0 and json.loads(ask.stdout)["answer"] == "Misha", ask.stderr
    assert ask.stderr.startswith("qa: reading corpus") and "qa: embedding" in ask.stderr
    (corpus / "cats.md").write_text(CATS, encoding="utf-8")
    quiet = _qa("ask", "--json", "--quiet", "What was the name of Bulganin's bear?", *where)
    assert quiet.returncode == 0 and quiet.stderr == "", quiet.stderr


def test_a_changed_metadata_sidecar_rechunks_its_document(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    text = "The keeper lit the lamp.\n\nShips passed at night.\n\nSubscribe to our newsletter\n\nAds here.\n"
    (corpus / "lamp.txt").write_text(text, encoding="utf-8")
    index = tmp_path / "index"
    store.build(corpus, index)
    # The file is unchanged, but its sidecar now says where the body ends: its passages change.
    (corpus / "lamp.meta.json").write_text(json.dumps({"boilerplate_starts_at": "Subscribe to our newsletter"}))
    second = store.build(corpus, index)
    assert second["build_stats"]["chunked_documents"] == 1
    assert not any("Ads here" in p.text for p in store.load(index).passages)
    full = tmp_path / "full"
    store.build(corpus, full)
    assert _tree(index) == _tree(full)
