"""The large-corpus rows of the speed benchmark: a generated 5 MB corpus (bench/big_corpus.py).

    python bench/large.py [--megabytes 5] [--asks 3]     # alone; bench/run.py calls bench()

Measures, each in fresh processes with their own peak RSS: a full `qa index build` into an empty
index, an incremental rebuild after one document changed (a paragraph appended), and fresh
`qa ask --json` processes against the built index. Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import run as runner  # noqa: E402 — run(), qa_command(), _checked(), _summary()

TARGET_BUILD_S, TARGET_BUILD_RSS_MB = 180.0, 1024.0
TARGET_ASK_S, TARGET_ASK_RSS_MB = 0.6, 250.0
QUESTION = "Who introduced the principle of subsidiarity?"
CHANGED = "doc-0007.txt"


def bench(megabytes: float = 5.0, asks: int = 3) -> dict:
    qa = runner.qa_command()
    with tempfile.TemporaryDirectory(prefix="qa-bench-large-") as scratch:
        corpus, index = Path(scratch) / "corpus", Path(scratch) / "index"
        # In a child process: fitting the chain grows this process, and on Linux a child's peak
        # RSS (ru_maxrss) starts from its parent's size at fork.
        made = runner._checked(runner.run([sys.executable, str(Path(__file__).with_name("big_corpus.py")), str(corpus),
                                           "--megabytes", str(megabytes), "--seed", "13"]))
        generated = json.loads(made.stdout.strip().splitlines()[-1])
        where = ["--corpus", str(corpus), "--index", str(index)]
        print(f"bench: large corpus ({generated['bytes'] / 1e6:.1f} MB): full build ...", file=sys.stderr, flush=True)
        full = runner._checked(runner.run([*qa, "index", "build", "-q", *where], timeout=3600))
        manifest = json.loads((index / "manifest.json").read_text(encoding="utf-8"))
        changed = corpus / CHANGED
        changed.write_text(changed.read_text(encoding="utf-8") + "\nA paragraph added for the benchmark. It changes one document.\n",
                           encoding="utf-8")
        print("bench: large corpus: incremental rebuild ...", file=sys.stderr, flush=True)
        incremental = runner._checked(runner.run([*qa, "index", "build", "-q", *where], timeout=3600))
        stats = json.loads((index / "manifest.json").read_text(encoding="utf-8"))["build_stats"]
        print("bench: large corpus: fresh asks ...", file=sys.stderr, flush=True)
        ask = [*qa, "ask", "--json", "--no-rebuild", *where, QUESTION]
        runner.run(ask)  # the file cache, as for the article's cold row
        fresh = [runner._checked(runner.run(ask)) for _ in range(asks)]
    counts = manifest["counts"]
    passages_per_s = counts["passages"] / manifest["build_seconds"]
    return {
        "corpus": {**generated, "generator": "bench/big_corpus.py", **counts},
        "build": {"wall_s": round(full.wall_s, 1), "peak_rss_mb": round(full.peak_rss_mb, 1),
                  "passages_per_s": round(passages_per_s, 1)},
        "incremental": {"wall_s": round(incremental.wall_s, 1), "peak_rss_mb": round(incremental.peak_rss_mb, 1),
                        "embedded": stats["embedded"], "reused": stats["reused"]},
        "ask": {"command": f"qa ask --json {json.dumps(QUESTION)}", "wall_s": runner._summary([r.wall_s for r in fresh]),
                "peak_rss_mb": round(statistics.median(r.peak_rss_mb for r in fresh), 1)},
    }


def markdown_rows(result: dict | None) -> list[str]:
    if not result:
        return []
    c, b, i, a = result["corpus"], result["build"], result["incremental"], result["ask"]
    ok = runner._ok
    size = f"{c['bytes'] / 1e6:.1f} MB corpus ({c['documents']} documents, {c['passages']:,} passages; `bench/big_corpus.py`)"
    return [
        f"| `qa index build`, {size}, empty index | **{b['wall_s']:.0f} s** wall ({b['passages_per_s']:.0f} passages/s); "
        f"peak RSS {b['peak_rss_mb']:.0f} MB | ≤ {TARGET_BUILD_S:.0f} s, ≤ {TARGET_BUILD_RSS_MB / 1024:.0f} GB | "
        f"{ok(b['wall_s'] <= TARGET_BUILD_S and b['peak_rss_mb'] <= TARGET_BUILD_RSS_MB)} |",
        f"| the same after one document changed (incremental) | **{i['wall_s']:.1f} s** wall, {i['embedded']} passages embedded, "
        f"{i['reused']:,} reused; peak RSS {i['peak_rss_mb']:.0f} MB | | |",
        f"| `{a['command']}`, fresh process, the {c['bytes'] / 1e6:.0f} MB corpus | **{a['wall_s']['median']:.2f} s** wall, median of "
        f"{a['wall_s']['runs']} ({a['wall_s']['min']:.2f}–{a['wall_s']['max']:.2f}); peak RSS {a['peak_rss_mb']:.0f} MB | "
        f"≤ {TARGET_ASK_S} s, ≤ {TARGET_ASK_RSS_MB:.0f} MB | {ok(a['wall_s']['median'] <= TARGET_ASK_S and a['peak_rss_mb'] <= TARGET_ASK_RSS_MB)} |",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--megabytes", type=float, default=5.0)
    parser.add_argument("--asks", type=int, default=3)
    args = parser.parse_args()
    result = bench(args.megabytes, args.asks)
    print("\n".join(markdown_rows(result)), file=sys.stderr)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
