"""A bounded load test of `qa serve`: N requests from C concurrent clients, latency percentiles.

    .venv/bin/python bench/load.py                          # starts `qa serve` on 127.0.0.1, a free port
    .venv/bin/python bench/load.py --url http://127.0.0.1:8000 --requests 400 --concurrency 20
    .venv/bin/python bench/load.py --endpoint health        # the server stack alone, no answering

Each client is a thread with one keep-alive HTTP/1.1 connection (http.client) sending the next
request as soon as the last is answered (a closed loop), so at C clients about C requests are
always waiting: latency ≈ C / throughput once the server is saturated (Little's law). Questions
are `eval/questions.jsonl`'s, in order, each client starting at its own offset; `chat` sends each
client's questions as turns of one conversation. Bounded: exactly --requests requests, each
with a --timeout, and the whole run stops at --max-seconds. Every request counts: a non-200
status, a malformed body or a failed connection is an error (the first few are printed).
Prints one JSON object (and writes it to --json).
"""

from __future__ import annotations

import argparse
import http.client
import itertools
import json
import os
import re
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
SERVING = re.compile(r"^qa: serving (http://\S+) ")


def questions() -> list[str]:
    lines = (ROOT / "eval" / "questions.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line)["question"] for line in lines if line.strip()]


def start_server(args: list[str]) -> tuple[subprocess.Popen[str], str, list[str]]:
    """`qa serve --port 0 ARGS` in a subprocess; its URL once it says it is serving."""
    cmd = [sys.executable, "-m", "qa", "serve", "--host", "127.0.0.1", "--port", "0", "--quiet", *args]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, cwd=ROOT,
                            env={**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"})
    lines: list[str] = []
    url: list[str] = []
    ready = threading.Event()

    def read() -> None:
        assert proc.stderr is not None
        for line in proc.stderr:
            lines.append(line.rstrip("\n"))
            if not url and (m := SERVING.match(line)):
                url.append(m.group(1))
                ready.set()
        ready.set()

    threading.Thread(target=read, daemon=True).start()
    ready.wait(timeout=600)
    if not url:
        proc.kill()
        sys.exit(f"load: qa serve did not start: {lines[-5:]}")
    return proc, url[0], lines


def run_load(url: str, endpoint: str, requests: int, concurrency: int, timeout: float, max_seconds: float) -> dict[str, Any]:
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    pool = questions()
    counter = itertools.count()  # request numbers, shared: exactly `requests` are sent
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    deadline = time.monotonic() + max_seconds

    def client(number: int) -> None:
        conn = http.client.HTTPConnection(host, port, timeout=timeout)
        conversation = f"load-{os.getpid()}-{number}"
        offset = number * 7
        turn = 0
        while time.monotonic() < deadline:
            n = next(counter)
            if n >= requests:
                break
            question = pool[(offset + turn) % len(pool)]
            turn += 1
            if endpoint == "health":
                method, path, body = "GET", "/health", None
            elif endpoint == "chat":
                method, path = "POST", "/chat"
                body = json.dumps({"question": question, "conversation_id": conversation}).encode()
            else:
                method, path, body = "POST", "/ask", json.dumps({"question": question}).encode()
            started = time.perf_counter()
            try:
                conn.request(method, path, body=body, headers={"Content-Type": "application/json"})
                response = conn.getresponse()
                payload = response.read()
                elapsed = (time.perf_counter() - started) * 1000
                data = json.loads(payload)
                problem = None if response.status == 200 and "error" not in data else f"{response.status}: {payload[:200]!r}"
            except Exception as exc:  # noqa: BLE001 — every failure is counted, none stops the run
                elapsed, problem = (time.perf_counter() - started) * 1000, f"{type(exc).__name__}: {exc}"
                conn.close()
                conn = http.client.HTTPConnection(host, port, timeout=timeout)
            with lock:
                latencies.append(elapsed)
                if problem:
                    errors.append(problem)
        conn.close()

    started = time.perf_counter()
    threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=max_seconds + timeout + 5)
    wall = time.perf_counter() - started
    ordered = sorted(latencies)
    return {
        "url": url,
        "endpoint": endpoint,
        "requests": len(latencies),
        "requests_asked": requests,
        "concurrency": concurrency,
        "errors": len(errors),
        "error_samples": errors[:5],
        "wall_s": round(wall, 2),
        "throughput_per_s": round(len(latencies) / wall, 1) if wall else 0.0,
        "p50_ms": round(_percentile(ordered, 50), 1),
        "p95_ms": round(_percentile(ordered, 95), 1),
        "p99_ms": round(_percentile(ordered, 99), 1),
        "mean_ms": round(statistics.fmean(ordered), 1) if ordered else 0.0,
        "max_ms": round(ordered[-1], 1) if ordered else 0.0,
        "stopped_by_max_seconds": len(latencies) < requests,
    }


TARGET_P50_MS, TARGET_P99_MS = 20.0, 100.0  # issue 15, at 20 concurrent clients on the article

# The runs `make bench` makes (bench/run.py): (label, endpoint, qa serve options).
BENCH_RUNS = [
    ("`POST /ask`, trained reader (default: `--workers 2` on 2 cores)", "ask", []),
    ("`POST /ask`, trained reader, `--workers 1`", "ask", ["--workers", "1"]),
    ("`POST /ask`, rule reader (`--reader rules`)", "ask", ["--reader", "rules"]),
    ("`POST /chat`, trained reader, one conversation per client", "chat", []),
    ("`GET /health` (the HTTP stack alone, no answering)", "health", []),
]


def bench(requests: int, concurrency: int = 20) -> list[dict[str, Any]]:
    """Every BENCH_RUNS row against a fresh `qa serve` of the project's corpus and index."""
    results = []
    for label, endpoint, serve_args in BENCH_RUNS:
        proc, url, _ = start_server(serve_args)
        try:
            run_load(url, endpoint, min(40, requests), concurrency, 120.0, 120.0)  # warm-up, not counted
            result = run_load(url, endpoint, requests, concurrency, 120.0, 600.0)
        finally:
            proc.terminate()
            proc.wait(timeout=60)
        results.append({"label": label, "serve_args": serve_args, **result})
    return results


def markdown_rows(results: list[dict[str, Any]]) -> list[str]:
    """The README table's rows for the `qa serve` runs."""
    rows = []
    for r in results:
        passed = r["errors"] == 0 and r["p50_ms"] <= TARGET_P50_MS and r["p99_ms"] <= TARGET_P99_MS
        rows.append(
            f"| `qa serve` on 127.0.0.1, {r['label']}: {r['requests']} requests from {r['concurrency']} concurrent clients (`bench/load.py`) | "
            f"**p50 {r['p50_ms']:.1f} ms, p99 {r['p99_ms']:.1f} ms** (p95 {r['p95_ms']:.1f}, max {r['max_ms']:.1f}); "
            f"{r['throughput_per_s']:.1f} requests/s; {r['errors']} errors | ≤ {TARGET_P50_MS:.0f} / ≤ {TARGET_P99_MS:.0f} ms, no errors | {'✅' if passed else '❌'} |"
        )
    return rows


def _percentile(ordered: list[float], q: float) -> float:
    """Nearest-rank percentile (no interpolation: a reported p99 is a latency that happened)."""
    if not ordered:
        return 0.0
    rank = max(1, -(-len(ordered) * q // 100))  # ceil(n·q/100)
    return ordered[int(rank) - 1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", help="an already running server; otherwise one is started (qa serve --port 0)")
    parser.add_argument("--endpoint", choices=["ask", "chat", "health"], default="ask")
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds per request")
    parser.add_argument("--max-seconds", type=float, default=600.0, help="the whole run stops after this")
    parser.add_argument("--json", type=Path, help="also write the result here")
    parser.add_argument("serve_args", nargs="*", help="after --: options for the started qa serve (--reader rules, --workers 2, --index DIR)")
    args = parser.parse_args()
    proc = None
    url = args.url
    if url is None:
        proc, url, _ = start_server(args.serve_args)
    try:
        result = run_load(url, args.endpoint, args.requests, args.concurrency, args.timeout, args.max_seconds)
        if proc is not None:
            result["serve_args"] = args.serve_args
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(timeout=60)
    text = json.dumps(result, indent=2)
    if args.json:
        args.json.write_text(text + "\n", encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
