"""Shared fixtures: the real corpus, a real index built once per test session, the real model."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus"
ARTICLE = CORPUS / "meissner-1952-kremlins-terms.txt"
DOC_ID = "meissner-1952-kremlins-terms"


@pytest.fixture(scope="session")
def article_text() -> str:
    return ARTICLE.read_bytes().decode("utf-8")


@pytest.fixture(scope="session")
def corpus_dir() -> Path:
    return CORPUS


@pytest.fixture(scope="session")
def index_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The project corpus indexed into a private directory (the repo's index/ is left alone)."""
    from qa import index

    target = tmp_path_factory.mktemp("index") / "article"
    index.build(CORPUS, target)
    return target


@pytest.fixture(scope="session")
def assistant(index_dir: Path):
    from qa import Assistant

    return Assistant.load(CORPUS, index_dir, rebuild=False)


@pytest.fixture(scope="session")
def smoke_questions() -> list[dict]:
    return [json.loads(line) for line in (ROOT / "eval" / "smoke.jsonl").read_text(encoding="utf-8").splitlines()]


@pytest.fixture()
def corpus_copy(tmp_path: Path) -> Path:
    """A writable copy of the project corpus."""
    target = tmp_path / "corpus"
    shutil.copytree(CORPUS, target)
    return target


def copy_index(index: Path, target: Path, corpus: Path) -> Path:
    """A copy of ``index`` that says it was built from ``corpus``: an index is tied to the corpus
    directory it was built from, and building the same content again would cost seconds. The
    manifest is not among the checksummed artifacts, so the copy loads as the real thing."""
    shutil.copytree(index, target)
    manifest = json.loads((target / "manifest.json").read_text(encoding="utf-8"))
    manifest["corpus"]["dir"] = str(corpus.resolve())
    (target / "manifest.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False), encoding="utf-8")
    return target


@pytest.fixture()
def own_index(tmp_path: Path, corpus_copy: Path, index_dir: Path) -> Path:
    """A writable index of ``corpus_copy`` (same content as the project corpus: fresh for it)."""
    return copy_index(index_dir, tmp_path / "index", corpus_copy)
