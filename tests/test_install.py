"""An installed qa (not an editable checkout) finds a corpus the documented way, wherever it runs:
--corpus, else $QA_CORPUS, else ./corpus, else the article packaged inside the wheel; its index
is ./index/default for ./corpus, else one per corpus in the user cache."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT

from qa.embedding import default_model_cache

pytestmark = pytest.mark.install


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The project installed with pip (no deps, no build isolation: offline) into a directory of
    its own, built from a copy of the sources so the checkout gets no build/ or egg-info."""
    scratch = tmp_path_factory.mktemp("install")
    source = scratch / "src"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, source / name)
    for name in ("qa", "corpus"):
        shutil.copytree(ROOT / name, source / name, ignore=shutil.ignore_patterns("__pycache__"))
    target = scratch / "site"
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation", "--no-index",
         "--target", str(target), str(source)],
        capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    return target


def run(installed: Path, args: list[str], cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """The installed console script, from ``cwd``, with a private cache (the exported model is
    shared: exporting it again would cost a minute)."""
    environment = {k: v for k, v in os.environ.items() if k not in ("QA_CORPUS", "QA_INDEX")}
    environment.update(
        PYTHONPATH=str(installed),  # ahead of the checkout's editable install
        XDG_CACHE_HOME=str(cwd.parent / "cache"),
        QA_MODEL_CACHE=str(default_model_cache()),
        HF_HUB_OFFLINE="1",
        **env,
    )
    return subprocess.run([str(installed / "bin" / "qa"), *args], cwd=cwd, capture_output=True, text=True, timeout=300, env=environment)


def test_the_wheel_carries_the_article(installed: Path) -> None:
    article = installed / "qa" / "article"
    assert sorted(p.name for p in article.iterdir() if p.is_file()) == sorted(
        p.name for p in (ROOT / "corpus").iterdir() if p.is_file()
    )
    assert (article / "meissner-1952-kremlins-terms.txt").read_bytes() == (ROOT / "corpus" / "meissner-1952-kremlins-terms.txt").read_bytes()


def test_an_installed_qa_answers_from_the_packaged_article_anywhere(installed: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    where = run(installed, ["index", "info", "--json"], elsewhere)
    info = json.loads(where.stdout)
    assert info["corpus"] == str((installed / "qa" / "article").resolve())  # not the checkout's corpus/
    assert info["index"].startswith(str(tmp_path / "cache" / "qa" / "indexes" / "article-"))
    asked = run(installed, ["ask", "--json", "Who replaced Litvinov?"], elsewhere)
    assert asked.returncode == 0, asked.stderr
    assert json.loads(asked.stdout)["answer"] == "Molotov"
    assert list(elsewhere.iterdir()) == []  # nothing written where it ran


def test_an_installed_qa_prefers_qa_corpus_then_a_local_corpus(installed: Path, tmp_path: Path) -> None:
    project = tmp_path / "project"
    (project / "corpus").mkdir(parents=True)
    (project / "corpus" / "bears.md").write_text("# Bears\n\nMarshal Bulganin kept a tame bear named Misha.\n", encoding="utf-8")
    info = json.loads(run(installed, ["index", "info", "--json"], project).stdout)
    assert (info["corpus"], info["index"]) == (str(project / "corpus"), "index/default")
    other = tmp_path / "other"
    other.mkdir()
    info = json.loads(run(installed, ["index", "info", "--json"], project, QA_CORPUS=str(other)).stdout)
    assert info["corpus"] == str(other) and info["index"].startswith(str(tmp_path / "cache" / "qa" / "indexes" / "other-"))
