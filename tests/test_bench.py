"""The speed benchmark's parts run and report (on tiny sizes: numbers are bench/run.py's job)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from conftest import ROOT

sys.path.insert(0, str(ROOT / "bench"))


def _scale(n: int, kind: str, truth: Path, index_dir: Path) -> dict:
    cmd = [sys.executable, str(ROOT / "bench" / "scale.py"), "--n", str(n), "--kind", kind, "--truth", str(truth),
           "--index-dir", str(index_dir), "--queries", "40", "--latency-queries", "20", "--ef-search", "16,64"]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_scale_run_measures_exact_and_hnsw(tmp_path: Path, index_dir: Path) -> None:
    truth = tmp_path / "truth.npy"
    exact = _scale(3000, "exact", truth, index_dir)
    assert exact["factory"] == "Flat" and exact["chosen"] and exact["recall_at_k"] == 1.0 and truth.exists()
    assert exact["neighbour_cosines"]["1st"] > exact["neighbour_cosines"]["random"]  # clustered, not uniform
    hnsw = _scale(3000, "hnsw", truth, index_dir)
    assert hnsw["factory"].startswith("HNSW") and not hnsw["chosen"]  # 3000 vectors: qa.index stays exact
    assert hnsw["recall_at_k"] >= 0.9 and [s["efSearch"] for s in hnsw["sweep"]][:2] == [16, 64]
    assert hnsw["query_p50_ms"] > 0 and hnsw["index_mb"] > exact["index_mb"]


def test_synthetic_vectors_are_unit_length_and_reproducible(index_dir: Path) -> None:
    import numpy as np
    import scale

    base, queries = scale.dataset(2000, 10, index_dir, seed=3)
    again, _ = scale.dataset(2000, 10, index_dir, seed=3)
    assert base.shape == (2000, 384) and queries.shape == (10, 384)
    np.testing.assert_allclose(np.linalg.norm(base, axis=1), 1.0, rtol=1e-5)
    np.testing.assert_array_equal(base, again)


def test_table_goes_into_the_readme_block(tmp_path: Path) -> None:
    import run

    readme = tmp_path / "README.md"
    readme.write_text(f"# x\n\n{run.README_START}\nold table\n{run.README_END}\n\nafter\n", encoding="utf-8")
    run.update_readme(readme, "| new | table |\n")
    assert readme.read_text(encoding="utf-8") == f"# x\n\n{run.README_START}\n| new | table |\n{run.README_END}\n\nafter\n"
    assert (ROOT / "README.md").read_text(encoding="utf-8").count(run.README_START) == 1


def test_load_script_is_bounded_and_reports_percentiles(index_dir: Path) -> None:
    from conftest import CORPUS

    serve = ["--corpus", str(CORPUS), "--index", str(index_dir), "--no-rebuild"]
    for endpoint, requests in (("health", 30), ("ask", 6)):
        cmd = [sys.executable, str(ROOT / "bench" / "load.py"), "--endpoint", endpoint, "--requests", str(requests),
               "--concurrency", "3", "--", *serve]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300, cwd=ROOT)
        assert proc.returncode == 0, proc.stderr
        result = json.loads(proc.stdout)
        assert result["requests"] == requests and result["errors"] == 0 and result["concurrency"] == 3, result
        assert 0 < result["p50_ms"] <= result["p95_ms"] <= result["p99_ms"] <= result["max_ms"]
        assert result["throughput_per_s"] > 0 and not result["stopped_by_max_seconds"]


def test_the_large_corpus_is_generated_reproducibly(tmp_path: Path) -> None:
    script = [sys.executable, str(ROOT / "bench" / "big_corpus.py")]
    for name in ("a", "b"):
        made = subprocess.run([*script, str(tmp_path / name), "--megabytes", "0.05"], capture_output=True, text=True, timeout=120)
        assert made.returncode == 0, made.stderr
    summary = json.loads(made.stdout)
    files = sorted(p.name for p in (tmp_path / "a").iterdir())
    assert summary["bytes"] >= 50_000 and len(files) == summary["documents"] >= 2
    assert all((tmp_path / "a" / f).read_bytes() == (tmp_path / "b" / f).read_bytes() for f in files)
    again = subprocess.run([*script, str(tmp_path / "a")], capture_output=True, text=True, timeout=60)
    assert again.returncode == 2 and "not empty" in again.stderr  # never writes over a user's files
