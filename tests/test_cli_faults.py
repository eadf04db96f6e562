"""The smaller faults of issue 17, each with the real CLI in a subprocess: escape sequences in a
question, empty documents, Ctrl-C at any moment, one-line errors on narrow terminals, and
`qa eval` output files that cannot be written."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import time
import warnings
from pathlib import Path

import pytest
from conftest import ROOT
from test_cli import QA, assert_one_line_error

from qa.assistant import clean_question
from qa.corpus import read_corpus
from qa.errors import CorpusError, CorpusWarning

QUESTION = "Who replaced Litvinov?"


def qa(*args: str, stdin: str | None = None, columns: int = 200, **kwargs: object) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "COLUMNS": str(columns), "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [*QA, *args], input=stdin, capture_output=True, text=True, timeout=180, env=env, cwd=ROOT, **kwargs
    )


# --- escape sequences ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("\x1b[31mWho replaced Litvinov?\x1b[0m", QUESTION),  # colours: CSI ... m
        ("Who replaced Lit\x1b[1;4mvinov?", QUESTION),  # inside a word: removed, not a space
        ("\x1b]0;a window title\x07Who replaced Litvinov?", QUESTION),  # OSC, ended by BEL
        ("\x1b]8;;https://example.org\x1b\\Who replaced Litvinov?\x1b]8;;\x1b\\", QUESTION),  # a hyperlink
        ("\x9b2JWho replaced\x1bc Litvinov?", QUESTION),  # 8-bit CSI, a two-byte escape
        ("Who\x00 replaced\x07 Litvinov?", QUESTION),  # other control characters: spaces
    ],
)
def test_escape_sequences_are_removed_whole(raw: str, clean: str) -> None:
    assert clean_question(raw) == clean


def test_a_coloured_question_is_answered_like_the_plain_one(index_dir: Path, corpus_dir: Path) -> None:
    where = ("--corpus", str(corpus_dir), "--index", str(index_dir), "--no-rebuild")
    plain = json.loads(qa("ask", "--json", QUESTION, *where).stdout)
    proc = qa("ask", "--json", f"\x1b[31m{QUESTION}\x1b[0m", *where)
    assert proc.returncode == 0, proc.stderr
    coloured = json.loads(proc.stdout)
    assert coloured["question"] == QUESTION  # no "[31m" left in it
    assert (coloured["answer"], coloured["confidence"]) == (plain["answer"], plain["confidence"]) == ("Molotov", plain["confidence"])


# --- empty documents -------------------------------------------------------------------------


def test_empty_documents_are_skipped_with_a_warning(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "bears.md").write_text("# Bears\n\nMarshal Bulganin kept a tame bear named Misha.\n", encoding="utf-8")
    (corpus / "empty.txt").write_bytes(b"")
    (corpus / "blank.md").write_text("  \n\n\t \n", encoding="utf-8")
    where = ("--corpus", str(corpus), "--index", str(tmp_path / "index"))
    build = qa("index", "build", *where, columns=20)
    assert build.returncode == 0, build.stderr
    warned = [line for line in build.stderr.splitlines() if line.startswith("qa: warning:")]
    assert warned == [
        f"qa: warning: {corpus / 'blank.md'}: only white space, skipped",
        f"qa: warning: {corpus / 'empty.txt'}: empty document, skipped",
    ], build.stderr
    manifest = json.loads((tmp_path / "index" / "manifest.json").read_text())
    assert manifest["skipped"] == [{"file": "blank.md", "reason": "only white space"}, {"file": "empty.txt", "reason": "empty document"}]
    assert [d["doc"] for d in manifest["documents"]] == ["bears"]
    ask = qa("ask", "--json", "What was the name of Bulganin's bear?", *where)
    assert ask.returncode == 0 and ask.stderr == "", ask.stderr  # fresh: no rebuild, no warnings
    assert "Misha" in json.loads(ask.stdout)["citations"][0]["quote"]


def test_a_corpus_of_only_empty_documents_is_still_an_error(tmp_path: Path) -> None:
    (tmp_path / "empty.txt").write_bytes(b"")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(CorpusError, match="has any text"):
            read_corpus(tmp_path)
    assert [w.category for w in caught] == [CorpusWarning]
    proc = qa("index", "build", "--corpus", str(tmp_path), "--index", str(tmp_path.parent / f"{tmp_path.name}-index"))
    assert proc.returncode == 2 and proc.stderr.splitlines()[-1].startswith("qa: error: no document in corpus"), proc.stderr


# --- Ctrl-C ----------------------------------------------------------------------------------


def _interpreter_start() -> float:
    """About how long Python itself takes to start here (the sweeps below begin there)."""
    times = []
    for _ in range(3):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", "pass"], check=True)
        times.append(time.perf_counter() - started)
    return max(times)


def _interrupt(args: list[str], delay: float) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(ROOT)}
    child = subprocess.Popen(  # stdin stays open: a piped `qa chat` waits for its next line
        [*QA, *args], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=ROOT
    )
    time.sleep(delay)
    child.send_signal(signal.SIGINT)
    out, err = child.communicate(timeout=120)
    return subprocess.CompletedProcess(args, child.returncode, out, err)


def _before_qa_ran(proc: subprocess.CompletedProcess[str]) -> bool:
    """Whether the signal came while the interpreter was still starting (site, runpy), before
    any of qa's code ran: Python's own behaviour there (killed, or its traceback with no qa frame),
    which no program can change. Such a try does not count."""
    if proc.returncode == -signal.SIGINT and not proc.stderr:
        return True
    return "KeyboardInterrupt" in proc.stderr and str(ROOT / "qa") + os.sep not in proc.stderr


def _sweep(args: list[str], steps: list[float], ok_if_done: bool) -> int:
    """Send Ctrl-C ever later, from the moment qa's code starts running, one step further each
    time: the start-up of a process varies by a good half second on a loaded machine, so the
    sweep starts where the last try was still too early. Returns how many tries reached qa."""
    delay, reached, tries = _interpreter_start(), 0, 0
    while reached < len(steps) and tries < 6 * len(steps):
        tries += 1
        proc = _interrupt(args, delay)
        if _before_qa_ran(proc):
            delay += 0.02
            continue
        if ok_if_done and proc.returncode == 0:  # it was done before the signal came: cleanly
            assert proc.stderr == "" and proc.stdout, proc.stderr
        else:
            assert (proc.returncode, proc.stderr) == (130, "qa: error: interrupted\n"), (delay, proc.stderr)
        delay += steps[reached]
        reached += 1
    return reached


def test_ctrl_c_at_any_moment_is_one_line_and_exit_130(index_dir: Path, corpus_dir: Path) -> None:
    # The first 0.15 s of qa's code (importing typer and rich) were a traceback before; then
    # the index load and the answer (once answered, a clean answer: exit 0).
    args = ["ask", "--json", QUESTION, "--corpus", str(corpus_dir), "--index", str(index_dir)]
    steps = [0.0, 0.01, 0.02, 0.02, 0.03, 0.03, 0.05, 0.05, 0.1, 0.2]
    assert _sweep(args, steps, ok_if_done=True) == len(steps)


@pytest.mark.parametrize("command", ["chat", "index info"])
def test_ctrl_c_in_commands_that_typer_parses(command: str, index_dir: Path, corpus_dir: Path) -> None:
    # typer turns a KeyboardInterrupt into a silent exit code 130: the line must still be said.
    args = [*command.split(), "--corpus", str(corpus_dir), "--index", str(index_dir)]
    steps = [0.0, 0.05, 0.1, 0.2, 0.4]
    assert _sweep(args, steps, ok_if_done=command == "index info") == len(steps)


def test_ctrl_c_during_a_build_leaves_nothing_behind(tmp_path: Path, corpus_dir: Path) -> None:
    target = tmp_path / "index"
    reached = 0
    for delay in (0.6, 0.8, 1.0, 1.2, 1.5, 2.0, 3.0, 4.0):  # a build of the article takes ~2-3 s
        proc = _interrupt(["index", "build", "--corpus", str(corpus_dir), "--index", str(target)], delay)
        if _before_qa_ran(proc):
            continue
        if proc.returncode == 0:  # built before the signal came
            break
        reached += 1
        assert proc.returncode == 130 and proc.stderr.splitlines()[-1] == "qa: error: interrupted", proc.stderr
        assert "Traceback" not in proc.stderr
        assert not [p.name for p in tmp_path.iterdir() if p.name.startswith(".")]  # no build dir, no lock file
    assert reached >= 2


# --- one line, whatever the width --------------------------------------------------------------


def test_every_error_is_one_line_on_a_narrow_terminal(tmp_path: Path, index_dir: Path, corpus_dir: Path) -> None:
    long_line = "why " * 600
    piped = subprocess.run(
        [*QA, "chat", "--json", "--corpus", str(corpus_dir), "--index", str(index_dir)],
        input=f"{long_line}\n{QUESTION}\n", capture_output=True, text=True, timeout=180,
        env={**os.environ, "HF_HUB_OFFLINE": "1", "COLUMNS": "20", "PYTHONPATH": str(ROOT)}, cwd=ROOT,
    )
    assert piped.returncode == 0, piped.stderr
    assert piped.stderr.splitlines() == [
        "qa: error: line 1: the question is too long (2399 characters; the limit is 2000) (skipped)"
    ]
    deep = tmp_path / ("a-rather-long-directory-name-" * 3) / "corpus"
    for args in (
        ("ask", "x?", "--corpus", str(deep)),
        ("index", "info", "--corpus", str(corpus_dir), "--index", str(deep)),
        ("ask", "x?", "--corpus", str(corpus_dir), "--index", str(ROOT / "README.md")),
    ):
        proc = qa(*args, columns=20)
        assert len(proc.stderr.splitlines()) == 1 and proc.stderr.startswith("qa: error:"), proc.stderr


# --- qa eval output files --------------------------------------------------------------------


@pytest.fixture()
def one_question(tmp_path: Path) -> Path:
    path = tmp_path / "q.jsonl"
    path.write_text((ROOT / "eval" / "smoke.jsonl").read_text(encoding="utf-8").splitlines()[0] + "\n", encoding="utf-8")
    return path


def test_eval_outputs_that_cannot_be_written_fail_before_the_run(tmp_path: Path, one_question: Path) -> None:
    # --no-rebuild on a missing index would be exit 1: exit 2 shows nothing was loaded or run.
    where = ("--questions", str(one_question), "--index", str(tmp_path / "none"), "--no-rebuild")
    (tmp_path / "a-file").write_text("x")
    (tmp_path / "a-dir").mkdir()
    cases = [
        (("--json", str(tmp_path / "missing" / "s.json")), f"the directory {tmp_path / 'missing'} does not exist"),
        (("--predictions", str(tmp_path / "a-file" / "p.jsonl")), "is not a directory"),
        (("--markdown", str(tmp_path / "a-dir")), "is a directory"),
        (("--json", str(one_question)), "is also the eval file"),
        (("--json", str(tmp_path / "s.json"), "--markdown", str(tmp_path / "s.json")), "is also --json"),
    ]
    for args, needle in cases:
        assert_one_line_error(qa("eval", *where, *args), 2, needle)
    assert not (tmp_path / "missing").exists()  # never created
    assert one_question.read_text(encoding="utf-8").startswith('{"id": "smoke-001"')
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a-dir", "a-file", "q.jsonl"]


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write anywhere, whatever the mode")
def test_eval_to_a_read_only_place_fails_before_the_run(tmp_path: Path, one_question: Path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    (tmp_path / "ro.json").write_text("{}")
    (tmp_path / "ro.json").chmod(0o444)
    where = ("--questions", str(one_question), "--index", str(tmp_path / "none"), "--no-rebuild")
    try:
        assert_one_line_error(qa("eval", *where, "--json", str(locked / "s.json")), 2, "Permission denied")
        assert_one_line_error(qa("eval", *where, "--json", str(tmp_path / "ro.json")), 2, "read-only")
    finally:
        locked.chmod(0o755)


def test_eval_files_get_the_user_s_umask(tmp_path: Path, one_question: Path, index_dir: Path, corpus_dir: Path) -> None:
    summary, predictions = tmp_path / "s.json", tmp_path / "p.jsonl"
    predictions.write_text("old\n")
    predictions.chmod(0o600)  # an existing file keeps its permissions
    proc = qa(
        "eval", "--questions", str(one_question), "--json", str(summary), "--predictions", str(predictions),
        "--corpus", str(corpus_dir), "--index", str(index_dir),
        preexec_fn=lambda: os.umask(0o027),
    )
    assert proc.returncode == 0, proc.stderr
    assert stat.S_IMODE(summary.stat().st_mode) == 0o640  # 0666 & ~027, not mkstemp's private 0600
    assert stat.S_IMODE(predictions.stat().st_mode) == 0o600
    assert json.loads(predictions.read_text().splitlines()[0])["id"] == "smoke-001"
