"""The CLI's error contract (README "Errors and exit codes"), with real processes: bad input,
damaged or unwritable indexes, a build killed with SIGKILL, concurrent builds and readers."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from test_cli import QA, assert_one_line_error, run

from qa import Assistant
from qa import index as store


def run_bytes(*args: bytes, stdin: bytes = b"") -> subprocess.CompletedProcess[bytes]:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "COLUMNS": "200"}
    return subprocess.run([*QA, *args], input=stdin, capture_output=True, timeout=180, env=env)


def assert_one_line_error_bytes(proc: subprocess.CompletedProcess[bytes], code: int, needle: str) -> None:
    text = proc.stderr.decode("utf-8", "replace")
    assert_one_line_error(subprocess.CompletedProcess(proc.args, proc.returncode, "", text), code, needle)


# --- questions -------------------------------------------------------------------------------


def test_question_from_stdin(index_dir: Path, corpus_dir: Path) -> None:
    proc = run("ask", "--json", "-", "--corpus", str(corpus_dir), "--index", str(index_dir), stdin="Who replaced Litvinov?\n")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["answer"] == "Molotov"


def test_invalid_utf8_on_stdin_or_in_argv_is_exit_2(index_dir: Path) -> None:
    where = (b"--index", str(index_dir).encode(), b"--no-rebuild")
    assert_one_line_error_bytes(run_bytes(b"ask", b"-", *where, stdin=b"Who \xff\xfe replaced?"), 2, "stdin is not valid UTF-8 (byte 4)")
    assert_one_line_error_bytes(run_bytes(b"ask", b"Who \xff replaced?", *where), 2, "the question is not valid UTF-8")


@pytest.mark.parametrize("stdin", ["", "  \n\t\n", "\x00\x1b\x07"])
def test_nothing_on_stdin_is_an_empty_question(stdin: str, tmp_path: Path) -> None:
    assert_one_line_error(run("ask", "-", "--index", str(tmp_path / "none"), "--no-rebuild", stdin=stdin), 2, "question is empty")


def test_a_100_kb_question_is_refused_before_loading_anything(tmp_path: Path) -> None:
    # --no-rebuild on a missing index would be exit 1: exit 2 shows no index was even looked at.
    huge = "why?" * 25_000
    where = ("--index", str(tmp_path / "none"), "--no-rebuild")
    assert_one_line_error(run("ask", huge, *where), 2, "the question is too long (100000 characters")
    assert_one_line_error(run("ask", "-", *where, stdin=huge), 2, "too long")
    assert_one_line_error(run("ask", "-", *where, stdin="x" * 500_000), 2, "the question on stdin is too long")


def test_control_characters_and_other_scripts(index_dir: Path, corpus_dir: Path) -> None:
    where = ("--corpus", str(corpus_dir), "--index", str(index_dir), "--no-rebuild")
    noisy = run("ask", "--json", "\u200fWho\x01 replaced\x1b[0m Litvinov?\x7f", *where)
    assert noisy.returncode == 0 and json.loads(noisy.stdout)["answer"] == "Molotov", noisy.stderr
    for question in ("Кто заменил Литвинова?", "谁取代了李维诺夫？"):
        proc = run("ask", "--json", question, *where)
        assert proc.returncode == 3 and proc.stderr == "", proc.stderr  # abstained, no error
        assert json.loads(proc.stdout)["abstained"] is True


# --- corpus ----------------------------------------------------------------------------------


def test_bad_corpora_are_one_line_exit_2(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    where = ("--corpus", str(corpus), "--index", str(tmp_path / "index"))
    assert_one_line_error(run("ask", "x?", *where), 2, "no documents in corpus directory")
    assert_one_line_error(run("index", "build", *where), 2, "no documents in corpus directory")
    (corpus / "scan.txt").write_bytes(bytes(range(256)))
    assert_one_line_error(run("ask", "-q", "x?", *where), 2, "scan.txt: not UTF-8 text (byte 128)")
    assert not (tmp_path / "index").exists()


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their mode, so chmod 000 cannot block it")
def test_an_unreadable_document_is_one_line_exit_2(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "secret.txt").write_text("Nobody may read this.\n", encoding="utf-8")
    (corpus / "secret.txt").chmod(0)
    try:
        proc = run("ask", "x?", "--corpus", str(corpus), "--index", str(tmp_path / "index"))
        assert_one_line_error(proc, 2, "cannot read")
    finally:
        (corpus / "secret.txt").chmod(0o644)


# --- index -----------------------------------------------------------------------------------


def test_a_tampered_index_is_refused_with_no_rebuild(own_index: Path, corpus_copy: Path) -> None:
    vectors = own_index / "text_keys.npy"
    data = bytearray(vectors.read_bytes())
    data[-1] ^= 0xFF
    vectors.write_bytes(bytes(data))
    proc = run("ask", "Who replaced Litvinov?", "--corpus", str(corpus_copy), "--index", str(own_index), "--no-rebuild")
    assert_one_line_error(proc, 1, "text_keys.npy does not match its checksum")
    info = json.loads(run("index", "info", "--json", "--corpus", str(corpus_copy), "--index", str(own_index)).stdout)
    assert info["fresh"] is False and "text_keys.npy does not match its checksum" in info["status"]


def test_an_unwritable_index_location_is_one_line_exit_1(tmp_path: Path, corpus_dir: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    proc = run("index", "build", "--corpus", str(corpus_dir), "--index", str(blocker / "index"))
    assert_one_line_error(proc, 1, "cannot lock the index")


def _popen_build(corpus: Path, index: Path, stderr_path: Path, *, force: bool = True) -> subprocess.Popen[bytes]:
    """`qa index build`, by default with --rebuild: a fresh index would otherwise be left alone."""
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    with stderr_path.open("wb") as err:
        return subprocess.Popen(
            [*QA, "index", "build", "--corpus", str(corpus), "--index", str(index), *(["--rebuild"] if force else [])],
            stdout=subprocess.DEVNULL, stderr=err, env=env,
        )


def _wait_for(condition, what: str, timeout: float = 60) -> None:  # noqa: ANN001
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.01)


def test_a_build_killed_halfway_leaves_the_previous_index_usable(own_index: Path, corpus_copy: Path, tmp_path: Path) -> None:
    before = (own_index / "manifest.json").read_bytes()
    build = _popen_build(corpus_copy, own_index, tmp_path / "build.err")
    # The build's private directory gets passages.jsonl before the model is even loaded.
    _wait_for(lambda: any(own_index.parent.glob(".index.build-*/passages.jsonl")), "the build to start writing")
    build.send_signal(signal.SIGKILL)
    assert build.wait(timeout=30) == -signal.SIGKILL
    assert list(own_index.parent.glob(".index.build-*")), "the kill landed before the build wrote anything"

    assert (own_index / "manifest.json").read_bytes() == before
    ask = run("ask", "--json", "Who replaced Litvinov?", "--corpus", str(corpus_copy), "--index", str(own_index), "--no-rebuild")
    assert ask.returncode == 0 and json.loads(ask.stdout)["answer"] == "Molotov", ask.stderr

    # The lock died with its holder; the next build runs at once and clears the leftovers.
    rebuilt = run("index", "build", "--rebuild", "--corpus", str(corpus_copy), "--index", str(own_index), timeout=120)
    assert rebuilt.returncode == 0 and "built" in rebuilt.stderr, rebuilt.stderr
    assert not list(own_index.parent.glob(".index.build-*")) and not list(own_index.parent.glob(".index.old-*"))
    assert store.status(corpus_copy, own_index).fresh


def test_two_concurrent_builds_are_serialised_and_the_second_keeps_the_first(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "bears.md").write_text("# Bears\n\nMarshal Bulganin kept a tame bear named Misha.\n", encoding="utf-8")
    index = tmp_path / "index"
    errs = [tmp_path / "one.err", tmp_path / "two.err"]
    # Hold the lock ourselves until both builds are queued behind it, so they surely overlap.
    with store.build_lock(index):
        builds = [_popen_build(corpus, index, err, force=False) for err in errs]
        _wait_for(lambda: all("waiting for another build" in e.read_text() for e in errs), "both builds to queue")
    assert [b.wait(timeout=120) for b in builds] == [0, 0]
    outputs = sorted(e.read_text() for e in errs)
    assert sum(bool(re.search(r"^built ", o, re.MULTILINE)) for o in outputs) == 1, outputs
    assert sum("up to date (built by another process meanwhile)" in o for o in outputs) == 1, outputs
    assert "Traceback" not in "".join(outputs)
    result = Assistant.load(corpus, index, rebuild=False).ask("What was the name of Bulganin's bear?")
    assert result.citations and "Misha" in result.citations[0].quote


def test_readers_keep_answering_while_the_index_is_rebuilt(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "bears.md").write_text("# Bears\n\nMarshal Bulganin kept a tame bear named Misha.\n", encoding="utf-8")
    index = tmp_path / "index"
    store.build(corpus, index)
    build = _popen_build(corpus, index, tmp_path / "build.err")  # a forced rebuild, swapped in at the end
    quotes = []
    while build.poll() is None or not quotes:
        result = Assistant.load(corpus, index, rebuild=False).ask("What was the name of Bulganin's bear?")
        quotes.append(result.citations[0].quote if result.citations else None)
    assert build.returncode == 0, (tmp_path / "build.err").read_text()
    assert all(q and "Misha" in q for q in quotes), quotes
    # A load after the swap sees the new index.
    assert Assistant.load(corpus, index, rebuild=False).index.manifest == store.read_manifest(index)
