"""Nothing but this corpus's own qa index is ever deleted or overwritten (issue 17).

Each destructive case of the issue runs the real CLI in a subprocess, in a scratch directory,
and compares a hash of the whole tree before and after. A Hypothesis loop then tries random
--corpus/--index pairs from a small tree through the library and checks that no file outside
a qa index ever disappears or changes.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_cli import assert_one_line_error

from qa import index as store
from qa.errors import QAError
from qa.index.lock import lock_path
from qa.index.place import MARKER, is_qa_index

BEARS = "# Bears\n\nMarshal Bulganin kept a tame bear named Misha.\n"
CATS = "# Cats\n\nMolotov owned a cat called Vasily.\n"


def qa(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """The real `qa`, run from ``cwd``: PYTHONPATH keeps it this checkout's code wherever it runs."""
    environment = {**os.environ, "HF_HUB_OFFLINE": "1", "COLUMNS": "200", "PYTHONPATH": str(ROOT), **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "qa", *args],
        cwd=cwd, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=180, env=environment,
    )


def tree(root: Path) -> dict[str, str]:
    """Every path under ``root`` (hidden ones too): a file's sha256, "dir" or a link's target."""
    found: dict[str, str] = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        if path.is_symlink():
            found[rel] = "-> " + os.readlink(path)
        elif path.is_dir():
            found[rel] = "dir"
        else:
            found[rel] = hashlib.sha256(path.read_bytes()).hexdigest()
    return found


def outside_indexes(root: Path) -> dict[str, str]:
    """The files of ``tree(root)`` that do not lie inside a qa index (which a build may replace)."""
    indexes = [p.relative_to(root).as_posix() + "/" for p in root.rglob("*") if is_qa_index(p)]
    return {rel: h for rel, h in tree(root).items() if h != "dir" and not any(rel.startswith(i) for i in indexes)}


@pytest.fixture()
def scratch(tmp_path: Path) -> Path:
    """A user's directory: a small corpus fc/, a second corpus fc2/, someone's files in u/, a
    plain file, an empty directory."""
    (tmp_path / "fc").mkdir()
    (tmp_path / "fc" / "bears.md").write_text(BEARS, encoding="utf-8")
    (tmp_path / "fc2").mkdir()
    (tmp_path / "fc2" / "cats.md").write_text(CATS, encoding="utf-8")
    (tmp_path / "u" / "photos").mkdir(parents=True)
    (tmp_path / "u" / "photos" / "cat.jpg").write_bytes(b"\xff\xd8\xff jpeg")
    (tmp_path / "u" / "thesis.docx").write_text("x\n")
    (tmp_path / "afile.txt").write_text("keep me\n")
    (tmp_path / "empty").mkdir()
    return tmp_path


# --- the destructive cases of the issue, through the CLI ---------------------------------------


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (("index", "build", "--corpus", "fc", "--index", "u"), "u is a directory that is not a qa index"),
        (("ask", "--corpus", "fc", "--index", "u", "x?"), "not a qa index"),
        (("ask", "--corpus", "fc", "--index", "fc", "x?"), "the index cannot be the corpus directory itself"),
        (("index", "build", "--corpus", "fc", "--index", "."), "would contain the corpus"),
        (("ask", "--corpus", "fc", "--index", "afile.txt", "x?"), "afile.txt is a file, not an index directory"),
        (("index", "build", "--corpus", "fc", "--index", "fc/idx"), "would be inside the corpus"),
        (("chat", "--corpus", "fc", "--index", "u"), "not a qa index"),
        (("ask", "--corpus", "fc", "--index", "u", "--no-rebuild", "x?"), "not a qa index"),
        (("ask", "--corpus", "fc", "--index", "u", "--rebuild", "x?"), "not a qa index"),
    ],
)
def test_a_location_that_is_not_a_qa_index_is_refused_and_nothing_changes(
    scratch: Path, args: tuple[str, ...], needle: str
) -> None:
    before = tree(scratch)
    assert_one_line_error(qa(*args, cwd=scratch), 2, needle)
    assert tree(scratch) == before  # not a file moved, not even a lock file or a parent directory


def test_the_corpus_s_parent_as_index_is_refused(scratch: Path) -> None:
    before = tree(scratch)
    proc = qa("ask", "--corpus", str(scratch / "fc"), "--index", str(scratch), "x?", cwd=scratch.parent)
    assert_one_line_error(proc, 2, f"the index at {scratch} would contain the corpus {scratch / 'fc'}")
    assert tree(scratch) == before


def test_an_index_is_not_rebuilt_from_another_corpus_without_rebuild(scratch: Path) -> None:
    built = qa("index", "build", "--corpus", "fc", "--index", "fc-idx", cwd=scratch)
    assert built.returncode == 0, built.stderr
    before = tree(scratch)
    fc, fc2 = (scratch / "fc").resolve(), (scratch / "fc2").resolve()
    # Without --corpus, in a directory with no ./corpus: the default is the packaged article.
    refused = qa("ask", "--index", "fc-idx", "Who kept a bear?", cwd=scratch)
    assert_one_line_error(refused, 2, f"was built from the corpus {fc}, not ")
    assert "pass --rebuild" in refused.stderr
    for args in (("ask", "--corpus", "fc2", "--index", "fc-idx", "x?"), ("index", "build", "--corpus", "fc2", "--index", "fc-idx")):
        assert_one_line_error(qa(*args, cwd=scratch), 2, f"built from the corpus {fc}, not {fc2}")
    assert tree(scratch) == before

    # Said explicitly: rebuilt from the other corpus, and nothing outside the index touched.
    rebuilt = qa("ask", "--json", "--rebuild", "--corpus", "fc2", "--index", "fc-idx", "What was the name of Molotov's cat?", cwd=scratch)
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert "Vasily" in json.loads(rebuilt.stdout)["citations"][0]["quote"]
    assert store.read_manifest(scratch / "fc-idx")["corpus"]["dir"] == str(fc2)
    after = tree(scratch)
    assert {k: v for k, v in after.items() if not k.startswith("fc-idx")} == {
        k: v for k, v in before.items() if not k.startswith("fc-idx")
    }


def test_a_build_may_replace_a_missing_path_an_empty_directory_or_its_own_index(scratch: Path) -> None:
    outside = outside_indexes(scratch)
    for target in ("new/nested/idx", "empty", "empty"):  # the third replaces the index made by the second
        proc = qa("index", "build", "--corpus", "fc", "--index", target, cwd=scratch)
        assert proc.returncode == 0, proc.stderr
        assert is_qa_index(scratch / target) and (scratch / target / MARKER).is_file()
        assert store.status(scratch / "fc", scratch / target).fresh
    assert outside_indexes(scratch) == outside
    # No lock files, build or old directories are left beside any of them.
    assert not [p for p in scratch.rglob(".*") if p.name != MARKER], sorted(scratch.rglob(".*"))


def test_an_index_built_before_the_marker_existed_is_still_replaced(scratch: Path, index_dir: Path) -> None:
    legacy = scratch / "legacy"
    shutil.copytree(index_dir, legacy)
    (legacy / MARKER).unlink()  # as built by an older qa: recognised by its manifest
    proc = qa("index", "build", "--rebuild", "--corpus", "fc", "--index", "legacy", cwd=scratch)
    assert proc.returncode == 0, proc.stderr
    assert (legacy / MARKER).is_file() and store.status(scratch / "fc", legacy).fresh


# --- damaged manifests, lock files -----------------------------------------------------------


def test_a_corrupt_manifest_is_damage_not_a_missing_index(own_index: Path, corpus_copy: Path) -> None:
    (own_index / "manifest.json").write_text('{"format_version": 2, "corpus": {"dir": "/x"', encoding="utf-8")
    where = ("--corpus", str(corpus_copy), "--index", str(own_index))
    proc = qa("ask", *where, "--no-rebuild", "Who replaced Litvinov?", cwd=ROOT)
    assert_one_line_error(proc, 1, f"index at {own_index} is damaged (manifest.json is not valid JSON")
    assert_one_line_error(qa("index", "info", *where, cwd=ROOT), 1, "is damaged (manifest.json is not valid JSON")
    info = json.loads(qa("index", "info", "--json", *where, cwd=ROOT).stdout)
    assert info["fresh"] is False and "damaged" in info["status"] and info["manifest"] is None
    # The marker says it is ours, so a rebuild may replace it.
    fixed = qa("ask", "--json", *where, "Who replaced Litvinov?", cwd=ROOT)
    assert fixed.returncode == 0 and json.loads(fixed.stdout)["answer"] == "Molotov", fixed.stderr


def test_a_damaged_manifest_without_the_marker_is_not_replaced(scratch: Path) -> None:
    odd = scratch / "odd"
    odd.mkdir()
    (odd / "manifest.json").write_text("not json", encoding="utf-8")
    (odd / "data.bin").write_bytes(b"\x00" * 10)
    before = tree(scratch)
    assert_one_line_error(qa("index", "build", "--corpus", "fc", "--index", "odd", cwd=scratch), 2, "cannot be told to be a qa index")
    assert tree(scratch) == before


def test_lock_files_only_while_an_index_is_being_built(scratch: Path) -> None:
    before = tree(scratch)
    # A reader that may not build, pointed at a path that does not exist: nothing is created.
    proc = qa("ask", "--corpus", "fc", "--index", "no/such/idx", "--no-rebuild", "x?", cwd=scratch)
    assert_one_line_error(proc, 1, "no index at")
    assert tree(scratch) == before
    # A build holds its lock while it runs, and removes it when done.
    with store.build_lock(scratch / "idx"):
        assert lock_path((scratch / "idx").resolve()).exists()
    assert not lock_path(scratch / "idx").exists()
    assert qa("index", "build", "--corpus", "fc", "--index", "idx", cwd=scratch).returncode == 0
    assert not lock_path(scratch / "idx").exists()


def _cache_env(tmp_path: Path) -> dict[str, str]:
    from qa.embedding import default_model_cache

    return {"XDG_CACHE_HOME": str(tmp_path / "cache"), "QA_MODEL_CACHE": str(default_model_cache()), "QA_INDEX": ""}


def test_index_clean_removes_only_stale_qa_indexes_from_the_cache(scratch: Path) -> None:
    env = _cache_env(scratch)
    for corpus in ("fc", "fc2"):
        assert qa("index", "build", "--corpus", corpus, cwd=scratch, env=env).returncode == 0
    cache = scratch / "cache" / "qa" / "indexes"
    fc_index, fc2_index = sorted(cache.iterdir())  # named after the corpus: fc-…, fc2-…
    mine = cache / "my-notes"
    mine.mkdir()
    (mine / "todo.txt").write_text("not qa's\n")
    (cache / ".gone.lock").write_text("")  # a lock file left by an older qa
    killed = cache / ".gone.build-abc"  # a killed build's directory
    killed.mkdir()
    (killed / MARKER).write_text((fc_index / MARKER).read_text())
    shutil.rmtree(scratch / "fc2")  # fc2's index is now stale: its corpus is gone

    dry = qa("index", "clean", "--dry-run", cwd=scratch, env=env)
    assert dry.returncode == 0 and f"would remove {fc2_index}" in dry.stdout, dry.stderr
    assert fc2_index.exists() and killed.exists()
    cleaned = qa("index", "clean", cwd=scratch, env=env)
    assert cleaned.returncode == 0, cleaned.stderr
    assert f"removed {fc2_index} (its corpus" in cleaned.stdout and str(killed) in cleaned.stdout
    assert not fc2_index.exists() and not killed.exists() and not (cache / ".gone.lock").exists()
    assert fc_index.exists() and (mine / "todo.txt").exists()
    everything = qa("index", "clean", "--all", cwd=scratch, env=env)
    assert everything.returncode == 0 and not fc_index.exists(), everything.stderr
    assert (mine / "todo.txt").read_text() == "not qa's\n"  # never qa's to remove
    assert "nothing to clean" in qa("index", "clean", cwd=scratch, env=env).stderr


@pytest.mark.skipif(shutil.which("unshare") is None, reason="needs unshare(1) to mount a tiny tmpfs")
def test_a_full_disk_is_said_in_the_user_s_words(scratch: Path) -> None:
    # A 20 kB tmpfs in a private mount namespace: the marker and passages.jsonl fit, FAISS's
    # file does not. The message must be the OS's, not FAISS's C++ assertion.
    sentences = " ".join(f"Sentence {i} says the bear met the marshal in the garden." for i in range(40))
    (scratch / "fc" / "long.md").write_text(f"# Long\n\n{sentences}\n", encoding="utf-8")
    full = scratch / "full"
    full.mkdir()
    script = f'mount -t tmpfs -o size=20k tmpfs "{full}" && exec "{sys.executable}" -m qa index build --quiet --corpus fc --index "{full}/idx"'
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(ROOT)}
    proc = subprocess.run(["unshare", "-rm", "sh", "-c", script], cwd=scratch, capture_output=True, text=True, timeout=180, env=env)
    if proc.returncode != 1 and "qa:" not in proc.stderr:
        pytest.skip(f"cannot mount a tmpfs in a private namespace here: {proc.stderr.strip()}")
    lines = [line for line in proc.stderr.splitlines() if line.startswith("qa:")]
    assert proc.returncode == 1 and lines == [f"qa: error: cannot write the index at {full}/idx: no space left on device"], proc.stderr
    assert "faiss" not in proc.stderr.lower()


# --- random corpus/index pairs ---------------------------------------------------------------

# A small tree: two corpora (one inside the other), someone's files, a file, an empty directory,
# an existing index (of docs/), and paths that do not exist yet.
_CORPORA = ["docs", "docs/sub", "photos", "."]
_INDEXES = [".", "docs", "docs/sub", "docs/a.md", "docs/new", "photos", "photos/new", "notes.txt", "empty", "idx", "idx/bm25", "new", "new/deeper"]


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("template") / "tree"
    (root / "docs" / "sub").mkdir(parents=True)
    (root / "docs" / "a.md").write_text(BEARS, encoding="utf-8")
    (root / "docs" / "sub" / "b.md").write_text(CATS, encoding="utf-8")
    (root / "photos").mkdir()
    (root / "photos" / "img.png").write_bytes(bytes(range(256)))
    (root / "notes.txt").write_text("Notes: Molotov and Litvinov.\n", encoding="utf-8")
    (root / "empty").mkdir()
    store.build(root / "docs", root / "idx")
    return root


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(corpus=st.sampled_from(_CORPORA), index=st.sampled_from(_INDEXES), force=st.booleans())
def test_random_corpus_and_index_pairs_never_lose_a_file_outside_a_qa_index(
    template: Path, tmp_path_factory: pytest.TempPathFactory, corpus: str, index: str, force: bool
) -> None:
    root = tmp_path_factory.mktemp("pair") / "tree"
    shutil.copytree(template, root)
    before = outside_indexes(root)
    try:
        store.build(root / corpus, root / index, force_rebuild=force)
    except QAError as exc:  # refused (exit 2), or an unusable corpus: and then nothing changed
        assert exc.exit_code in (1, 2), exc
        assert outside_indexes(root) == before
        return
    assert is_qa_index(root / index) and store.status(root / corpus, root / index).fresh
    after = outside_indexes(root)
    lost = {rel: h for rel, h in before.items() if after.get(rel) != h}
    assert not lost, (corpus, index, lost)
