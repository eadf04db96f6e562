"""`qa serve`, the real server in a subprocess on 127.0.0.1 (an ephemeral port), driven over HTTP."""

from __future__ import annotations

import http.client
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import ROOT, copy_index

QA = [sys.executable, "-m", "qa"]
SERVING = re.compile(r"^qa: serving http://127\.0\.0\.1:(\d+) ")


class Server:
    def __init__(self, proc: subprocess.Popen[str], port: int, stderr_lines: list[str]) -> None:
        self.proc, self.port, self.stderr_lines = proc, port, stderr_lines

    def request(self, method: str, path: str, body: Any = None, *, raw: bytes | None = None,
                headers: dict[str, str] | None = None, timeout: float = 60) -> tuple[int, Any]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            data = raw if raw is not None else (None if body is None else json.dumps(body).encode())
            conn.request(method, path, body=data, headers={"Content-Type": "application/json", **(headers or {})})
            response = conn.getresponse()
            payload = response.read()
            assert response.getheader("Content-Type", "").startswith("application/json"), payload[:200]
            return response.status, json.loads(payload)
        finally:
            conn.close()

    def stop(self, signum: int = signal.SIGTERM) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signum)
        return self.proc.wait(timeout=60)


def start_server(*args: str, env: dict[str, str] | None = None) -> Server:
    proc = subprocess.Popen(
        [*QA, "serve", "--port", "0", *args], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "HF_HUB_OFFLINE": "1", "QA_PROGRESS_SECONDS": "0", **(env or {})}, cwd=ROOT,
    )
    lines: list[str] = []
    port: list[int] = []
    ready = threading.Event()

    def read() -> None:  # keep draining stderr, so the server never blocks on it
        assert proc.stderr is not None
        for line in proc.stderr:
            lines.append(line.rstrip("\n"))
            if (m := SERVING.match(line)) and not port:
                port.append(int(m.group(1)))
                ready.set()
        ready.set()

    threading.Thread(target=read, daemon=True).start()
    ready.wait(timeout=600)  # a busy machine may take minutes to build an index at start
    if not port:
        proc.kill()
        raise AssertionError(f"the server did not start: {lines}")
    return Server(proc, port[0], lines)


@pytest.fixture(scope="module")
def server(index_dir: Path, corpus_dir: Path) -> Iterator[Server]:
    running = start_server("--corpus", str(corpus_dir), "--index", str(index_dir), "--no-rebuild")
    yield running
    assert running.stop() == 0, running.stderr_lines


def _without_timings(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if k != "timings_ms"}


def test_ask_gives_the_cli_json(server: Server, index_dir: Path, corpus_dir: Path) -> None:
    status, data = server.request("POST", "/ask", {"question": "Who replaced Litvinov?"})
    assert status == 200 and data["answer"] == "Molotov" and data["abstained"] is False
    cli = subprocess.run(
        [*QA, "ask", "--json", "Who replaced Litvinov?", "--corpus", str(corpus_dir), "--index", str(index_dir)],
        capture_output=True, text=True, timeout=180, env={**os.environ, "HF_HUB_OFFLINE": "1"},
    )
    assert cli.returncode == 0, cli.stderr
    assert _without_timings(data) == _without_timings(json.loads(cli.stdout))
    status, data = server.request("POST", "/ask", {"question": "Who replaced Litvinov?", "k": 2, "retriever": "bm25"})
    assert status == 200 and len(data["passages"]) == 2


def test_an_abstention_is_an_answer(server: Server) -> None:
    status, data = server.request("POST", "/ask", {"question": "Who won the 1954 football World Cup?"})
    assert status == 200 and data["abstained"] is True and data["answer"] is None and data["passages"]


def test_chat_keeps_each_conversation_apart(server: Server) -> None:
    status, first = server.request("POST", "/chat", {"question": "Who replaced Litvinov?"})
    assert status == 200 and first["turn"] == 1 and first["answer"] == "Molotov"
    cid = first["conversation_id"]
    assert re.fullmatch(r"[0-9a-f]{32}", cid)
    status, second = server.request("POST", "/chat", {"question": "When?", "conversation_id": cid})
    assert status == 200 and second["turn"] == 2 and second["conversation_id"] == cid
    assert second["question"] == "When?" and "Molotov" in second["standalone_question"]
    assert "1939" in (second["answer"] or "")
    # A client's own id starts its own conversation; reset starts that one again.
    status, other = server.request("POST", "/chat", {"question": "When?", "conversation_id": "client-7"})
    assert status == 200 and other["turn"] == 1 and other["standalone_question"] == "When?"
    status, again = server.request("POST", "/chat", {"question": "Who replaced Litvinov?", "conversation_id": cid, "reset": True})
    assert status == 200 and again["turn"] == 1


def test_health_and_index(server: Server, index_dir: Path) -> None:
    status, health = server.request("GET", "/health")
    assert status == 200 and health["status"] == "ok" and health["index"] == str(index_dir.resolve())
    assert health["passages"] == 87 and health["reader"] == "model" and health["reloads"] == 0
    status, manifest = server.request("GET", "/index")
    assert status == 200 and manifest == json.loads((index_dir / "manifest.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "code", "needle"),
    [
        ("POST", "/ask", {"question": "   "}, 400, 2, "the question is empty"),
        ("POST", "/ask", {"question": "why " * 600}, 400, 2, "the question is too long"),
        ("POST", "/ask", {}, 400, 2, 'no "question"'),
        ("POST", "/ask", {"question": 7}, 400, 2, '"question" must be a string'),
        ("POST", "/ask", {"question": "Who?", "k": 0}, 400, 2, '"k" must be an integer from 1 to 50'),
        ("POST", "/ask", {"question": "Who?", "k": True}, 400, 2, '"k" must be an integer'),
        ("POST", "/ask", {"question": "Who?", "retriever": "magic"}, 400, 2, '"retriever" must be one of'),
        ("POST", "/ask", {"question": "Who?", "top_k": 3}, 400, 2, "unknown field 'top_k'"),
        ("POST", "/ask", ["Who?"], 400, 2, "must be a JSON object"),
        ("POST", "/chat", {"question": "Who?", "conversation_id": "a b"}, 400, 2, '"conversation_id" must be'),
        ("POST", "/chat", {"question": "Who?", "reset": "yes"}, 400, 2, '"reset" must be true or false'),
        ("GET", "/ask", None, 405, 2, "GET is not allowed on /ask"),
        ("POST", "/health", {}, 405, 2, "POST is not allowed on /health"),
        ("GET", "/nowhere", None, 404, 2, "no such endpoint: GET /nowhere"),
    ],
)
def test_bad_requests_are_one_json_error_with_the_cli_code(
    server: Server, method: str, path: str, body: Any, status: int, code: int, needle: str
) -> None:
    got, data = server.request(method, path, body)
    assert got == status and set(data) == {"error"}, data
    assert data["error"]["code"] == code and needle in data["error"]["message"], data
    assert "\n" not in data["error"]["message"]


def test_malformed_and_oversized_bodies(server: Server) -> None:
    status, data = server.request("POST", "/ask", raw=b'{"question": "Who')
    assert status == 400 and data["error"]["code"] == 2 and "not valid JSON" in data["error"]["message"]
    status, data = server.request("POST", "/ask", raw=b'{"question": "Who \xff?"}')
    assert status == 400 and "not valid UTF-8" in data["error"]["message"]
    status, data = server.request("POST", "/ask", raw=b'{"question": "' + b"x" * 100_000 + b'"}')
    assert status == 413 and data["error"]["code"] == 2 and "too large" in data["error"]["message"]
    status, data = server.request("POST", "/ask", raw=b"question=Who", headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert status == 415 and data["error"]["code"] == 2
    # The server is still there, and still answers.
    status, data = server.request("POST", "/ask", {"question": "Who replaced Litvinov?"})
    assert status == 200 and data["answer"] == "Molotov"


def test_concurrent_requests_all_answered(server: Server) -> None:
    questions = ["Who replaced Litvinov?", "Where was the Cominform founded?", "Who won the 1954 football World Cup?"] * 4
    results: list[tuple[int, Any]] = []

    def ask(question: str) -> None:
        results.append(server.request("POST", "/ask", {"question": question}))

    threads = [threading.Thread(target=ask, args=(q,)) for q in questions]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert len(results) == len(questions) and all(status == 200 for status, _ in results)
    answers = {(data["question"], data["answer"], data["confidence"]) for _, data in results}
    assert len(answers) == 3  # answered side by side (two workers on two cores), each alike every time
    by_question = {question: answer for question, answer, _ in answers}
    assert by_question["Who replaced Litvinov?"] == "Molotov" and by_question["Who won the 1954 football World Cup?"] is None
    from qa.cli_serve import default_workers

    assert server.request("GET", "/health")[1]["workers"] == default_workers()


def test_sigterm_answers_the_requests_in_flight_then_exits_0(index_dir: Path, corpus_dir: Path) -> None:
    server = start_server("--corpus", str(corpus_dir), "--index", str(index_dir), "--no-rebuild")
    results: list[int] = []
    threads = [
        threading.Thread(target=lambda: results.append(server.request("POST", "/ask", {"question": "Who replaced Litvinov?"})[0]))
        for _ in range(4)
    ]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 60  # all four received: one being answered, the others waiting their turn
    while server.request("GET", "/health")[1]["in_flight"] + len(results) < 4 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert server.stop(signal.SIGTERM) == 0, server.stderr_lines
    for t in threads:
        t.join(timeout=60)
    assert results == [200, 200, 200, 200]
    assert server.stderr_lines[-1] == "qa: stopped" and not any("Traceback" in line for line in server.stderr_lines)


def test_a_rebuilt_index_is_picked_up_without_a_restart(tmp_path: Path, corpus_copy: Path, index_dir: Path) -> None:
    index = copy_index(index_dir, tmp_path / "index", corpus_copy)
    server = start_server("--corpus", str(corpus_copy), "--index", str(index), "--no-rebuild")
    try:
        question = {"question": "What was the name of Bulganin's bear?"}
        assert server.request("POST", "/ask", question)[1]["abstained"] is True
        (corpus_copy / "bears.md").write_text(
            "# Bears\n\nMarshal Bulganin kept a tame bear named Misha in the Kremlin garden.\n", encoding="utf-8"
        )
        build = subprocess.run(
            [*QA, "index", "build", "--corpus", str(corpus_copy), "--index", str(index)],
            capture_output=True, text=True, timeout=300, env={**os.environ, "HF_HUB_OFFLINE": "1"},
        )
        assert build.returncode == 0, build.stderr
        deadline = time.monotonic() + 30
        while server.request("GET", "/health")[1]["reloads"] == 0 and time.monotonic() < deadline:
            time.sleep(0.2)
        status, health = server.request("GET", "/health")
        assert health["reloads"] == 1 and health["documents"] == 2 and health["reload_error"] is None
        status, data = server.request("POST", "/ask", question)
        assert status == 200 and "Misha" in data["citations"][0]["quote"]
        assert any(line.startswith("qa: reloaded the index at") for line in server.stderr_lines)
    finally:
        assert server.stop() == 0, server.stderr_lines


def test_start_up_errors_are_one_line(tmp_path: Path, corpus_dir: Path, index_dir: Path) -> None:
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    missing = subprocess.run([*QA, "serve", "--port", "0", "--index", str(tmp_path / "none"), "--no-rebuild"],
                             capture_output=True, text=True, timeout=120, env=env)
    assert missing.returncode == 1 and missing.stderr.startswith("qa: error: index is not usable"), missing.stderr
    assert len(missing.stderr.splitlines()) == 1
    server = start_server("--corpus", str(corpus_dir), "--index", str(index_dir), "--no-rebuild")
    try:
        taken = subprocess.run([*QA, "serve", "--port", str(server.port), "--index", str(index_dir), "--no-rebuild"],
                               capture_output=True, text=True, timeout=120, env=env)
        assert taken.returncode == 1 and taken.stderr.splitlines() == [
            f"qa: error: cannot listen on 127.0.0.1:{server.port}: Address already in use"
        ], taken.stderr
    finally:
        assert server.stop() == 0
    bad = subprocess.run([*QA, "serve", "--reader", "oracle"], capture_output=True, text=True, timeout=120, env=env)
    assert bad.returncode == 2 and bad.stderr.startswith("qa: error:") and "--reader" in bad.stderr


def test_a_build_at_start_reports_progress_in_plain_lines(tmp_path: Path, corpus_dir: Path) -> None:
    corpus = tmp_path / "corpus"  # a small corpus: the build at start takes seconds
    corpus.mkdir()
    (corpus / "bears.md").write_text(
        "# Bears\n\nMarshal Bulganin kept a tame bear named Misha in the Kremlin garden. It ate honey.\n\n"
        "The bear slept in the Kremlin garden all winter. Nobody minded.\n", encoding="utf-8"
    )
    server = start_server("--corpus", str(corpus), "--index", str(tmp_path / "index"))
    try:
        data = server.request("POST", "/ask", {"question": "What was the name of Bulganin's bear?"})[1]
        assert "Misha" in data["citations"][0]["quote"]
        progress = [line for line in server.stderr_lines if re.match(r"qa: (reading corpus|embedding|writing index) ", line)]
        assert progress and any(re.match(r"qa: embedding \d+/\d+ texts, [\d.]+/s", line) for line in progress), server.stderr_lines
    finally:
        assert server.stop() == 0
