"""The real `qa chat`: in a pseudo-terminal (pexpect) and with piped stdin."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pexpect
import pytest
from conftest import ARTICLE

QA = [sys.executable, "-m", "qa"]
PROMPT = "qa>"


def run_piped(args: list[str], stdin: bytes, timeout: float = 180) -> subprocess.CompletedProcess[bytes]:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "COLUMNS": "200"}
    return subprocess.run([*QA, "chat", *args], input=stdin, capture_output=True, timeout=timeout, env=env)


@pytest.fixture()
def index_args(index_dir: Path, corpus_dir: Path) -> list[str]:
    return ["--corpus", str(corpus_dir), "--index", str(index_dir)]


@pytest.fixture()
def chat(index_args: list[str], tmp_path: Path):
    env = {
        **os.environ,
        "HF_HUB_OFFLINE": "1",
        "TERM": "xterm",
        "PROMPT_TOOLKIT_NO_CPR": "1",  # pexpect does not answer cursor-position requests
        "QA_CHAT_HISTORY": str(tmp_path / "history"),
    }
    child = pexpect.spawn(
        sys.executable, ["-m", "qa", "chat", *index_args], env=env, encoding="utf-8", timeout=120, dimensions=(50, 220)
    )
    child.logfile_read = (tmp_path / "transcript.txt").open("w", encoding="utf-8")
    child.expect_exact(PROMPT)
    yield child
    if child.isalive():
        child.terminate(force=True)
    child.logfile_read.close()


def test_interactive_conversation_sources_reset_and_quit(chat, tmp_path: Path) -> None:
    chat.sendline("Who replaced Litvinov?")
    chat.expect_exact("Molotov")
    chat.expect_exact("Sources")
    chat.expect_exact(PROMPT)

    chat.sendline("When was that?")
    chat.expect_exact("When was it that Molotov replaced Litvinov?")  # the standalone question, dimmed
    chat.expect_exact(PROMPT)

    chat.send("/sou\t")  # Tab completes the command
    chat.sendline("")
    chat.expect_exact("Passages behind turn 2")
    chat.expect_exact("replacement by Molotov")
    chat.expect_exact(PROMPT)

    chat.sendline("/history")
    chat.expect_exact("Who replaced Litvinov?")
    chat.expect_exact("When was that?")
    chat.expect_exact("When was it that Molotov replaced Litvinov?")
    chat.expect_exact(PROMPT)

    chat.send("a half-typed question")
    chat.sendintr()  # Ctrl-C: the line is dropped, the session goes on
    chat.expect_exact(PROMPT)

    chat.sendline("/reset")
    chat.expect_exact("New conversation")
    chat.expect_exact(PROMPT)
    chat.sendline("/history")
    chat.expect_exact("No questions yet")
    chat.expect_exact(PROMPT)

    chat.sendline("/frobnicate")
    chat.expect_exact("Unknown command /frobnicate")
    chat.expect_exact(PROMPT)
    chat.sendline("/help")
    chat.expect_exact("/sources")
    chat.expect_exact(PROMPT)

    chat.sendline("/quit")
    chat.expect(pexpect.EOF)
    chat.close()
    assert chat.exitstatus == 0
    transcript = (tmp_path / "transcript.txt").read_text(encoding="utf-8")
    assert "Traceback" not in transcript and "a half-typed question" not in (tmp_path / "history").read_text(encoding="utf-8")
    history = (tmp_path / "history").read_text(encoding="utf-8")
    assert "When was that?" in history  # line history persists between sessions


def test_interactive_ctrl_d_exits_0_and_the_reset_follow_up_is_not_rewritten(chat) -> None:
    chat.sendline("Who replaced Litvinov?")
    chat.expect_exact("Molotov")
    chat.expect_exact(PROMPT)
    chat.sendline("When?")
    chat.expect_exact("When was it that Molotov replaced Litvinov")
    chat.expect_exact("1939")
    chat.expect_exact(PROMPT)
    chat.sendline("/reset")
    chat.expect_exact(PROMPT)
    chat.sendline("Who was his deputy?")
    chat.expect_exact("confidence")
    chat.expect_exact(PROMPT)
    assert "Molotov's" not in chat.before
    chat.sendeof()
    chat.expect(pexpect.EOF)
    chat.close()
    assert chat.exitstatus == 0


def test_piped_conversation_with_json(index_args: list[str]) -> None:
    script = "\n".join(
        [
            "Who replaced Litvinov?",
            "When was that?",
            "",  # a blank line: a new conversation
            "Who was Dekanosov?",
            "Which post did he hold before that?",
            "/reset",
            "When?",
        ]
    )
    proc = run_piped(["--json", *index_args], script.encode("utf-8"))
    assert proc.returncode == 0, proc.stderr.decode()
    rows = [json.loads(line) for line in proc.stdout.decode("utf-8").splitlines()]
    assert [r["turn"] for r in rows] == [1, 2, 1, 2, 1]
    ask = subprocess.run(
        [*QA, "ask", "--json", "Who replaced Litvinov?", *index_args],
        capture_output=True, timeout=180, env={**os.environ, "HF_HUB_OFFLINE": "1"},
    )
    ask_fields = set(json.loads(ask.stdout))
    assert {"schema_version", "question", "answer", "citations", "passages"} <= ask_fields
    for row in rows:  # exactly the `qa ask --json` schema, plus two fields
        assert set(row) == ask_fields | {"turn", "standalone_question", "resolution", "reference"}
    assert rows[0]["answer"] == "Molotov" and rows[0]["standalone_question"] == rows[0]["question"]
    assert rows[0]["resolution"] == "self-contained"
    assert rows[1]["question"] == "When was that?" and rows[1]["resolution"] == "rewritten"
    assert rows[1]["standalone_question"] == "When was it that Molotov replaced Litvinov?"
    assert "1939" in rows[1]["answer"]
    assert rows[3]["standalone_question"].startswith("Which post did Dekanosov hold before")
    text = ARTICLE.read_bytes().decode("utf-8")
    assert all(text[c["start"] : c["end"]] == c["quote"] for r in rows for c in r["citations"])
    # after /reset there is nothing to refer to: searched as typed, and said so
    assert rows[4]["standalone_question"] == "When?"
    assert (rows[4]["resolution"], rows[4]["reference"]) == ("unresolved", "When")


def test_a_follow_up_nothing_explains_says_it_was_searched_as_typed(index_args: list[str]) -> None:
    proc = run_piped(index_args, "Did they have any clues?\n".encode("utf-8"))
    assert proc.returncode == 0, proc.stderr.decode()
    assert "↳ searched as typed: nothing earlier in this conversation says what “they” refers to" in " ".join(
        proc.stdout.decode("utf-8").split())


def test_piped_text_mode_and_commands(index_args: list[str]) -> None:
    proc = run_piped(index_args, b"Who replaced Litvinov?\nWhen?\n/sources\n/history\n/quit\nNever asked?\n")
    assert proc.returncode == 0, proc.stderr.decode()
    out = proc.stdout.decode("utf-8")
    assert "Molotov" in out and "↳ When was it that Molotov replaced Litvinov?" in out
    assert "Passages behind turn 2" in out and "2. When?" in out
    assert "Never asked" not in out  # /quit ends the session


def test_piped_bad_lines_are_skipped_and_the_session_still_exits_0(index_args: list[str]) -> None:
    too_long = "why " * 600
    proc = run_piped(["--json", *index_args], f"{too_long}\nWho replaced Litvinov?\n/sources\n".encode())
    assert proc.returncode == 0
    err = proc.stderr.decode()
    assert "line 1" in err and "too long" in err and "Traceback" not in err
    rows = [json.loads(line) for line in proc.stdout.decode().splitlines()]
    assert len(rows) == 1 and rows[0]["answer"] == "Molotov" and rows[0]["turn"] == 1


def test_invalid_utf8_on_stdin_is_one_line_and_exit_2(index_args: list[str]) -> None:
    proc = run_piped(["--json", *index_args], b"Who replaced Litvinov?\n\xff\xfe broken\n")
    assert proc.returncode == 2
    lines = proc.stderr.decode().strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("qa: error:") and "UTF-8" in lines[0] and "line 2" in lines[0]


def test_empty_input_is_a_quiet_session(index_args: list[str]) -> None:
    proc = run_piped(["--json", *index_args], b"")
    assert proc.returncode == 0 and proc.stdout == b""


@pytest.mark.parametrize(
    ("args", "code", "needle"),
    [
        (["-k", "0"], 2, "--top-k"),
        (["--retriever", "magic"], 2, "--retriever"),
        (["--corpus", "/nonexistent/corpus"], 2, "corpus directory not found"),
    ],
)
def test_chat_bad_usage_is_one_line(args: list[str], code: int, needle: str) -> None:
    proc = run_piped(args, b"Who replaced Litvinov?\n")
    assert proc.returncode == code
    lines = proc.stderr.decode().strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("qa: error:") and needle in lines[0]


def test_chat_no_rebuild_with_missing_index_exits_1(tmp_path: Path, corpus_dir: Path) -> None:
    proc = run_piped(["--no-rebuild", "--corpus", str(corpus_dir), "--index", str(tmp_path / "none")], b"x?\n")
    assert proc.returncode == 1 and "qa index build" in proc.stderr.decode()
