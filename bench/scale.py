"""Dense search at scale: exact vs the index qa.index chooses, on synthetic passage vectors.

Run by bench/run.py, one child process per (size, index) so that each peak RSS is its own:

    python bench/scale.py --n 1000000 --kind exact --truth /tmp/truth.npy   # writes the truth
    python bench/scale.py --n 1000000 --kind hnsw --truth /tmp/truth.npy    # reads it

Prints one JSON object on the last line of stdout.

The vectors are derived from the article's real embeddings (passages and sentences of the
built index) rather than drawn uniformly: uniform random points in 384 dimensions are all
nearly equidistant, which real embeddings are not, and no approximate index does well on
them. Each synthetic vector is a cluster centre — a mix of two real embeddings, nudged — plus
variation inside a low-dimensional subspace of its cluster plus a little isotropic noise,
normalised to unit length. Queries are fresh draws from the same mixture (never in the base).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# Generator settings (reported with the results).
POINTS_PER_CLUSTER = 500
SUBSPACE_RANK = 16  # intrinsic dimension of a cluster's spread
SUBSPACE_SCALE = 0.6  # length of the in-cluster variation relative to the unit centre
NOISE_SCALE = 0.25  # length of the isotropic noise
CENTRE_NUDGE = 0.25


def real_vectors(index_dir: Path) -> np.ndarray:
    import faiss

    from qa import index as index_store
    from qa.index.artifacts import unique_sentences

    dense = faiss.read_index(str(index_dir / "dense.faiss"))
    passages = dense.reconstruct_n(0, dense.ntotal)
    # The index keeps passage vectors only; the sentences add variety to the mixture's seeds.
    loaded = index_store.load(index_dir)
    texts = [loaded.documents[d][s:e] for d, s, e in unique_sentences(loaded.passages)]
    sentences = loaded.encoder.encode(texts)
    return np.vstack([passages, sentences]).astype(np.float32)


def _unit(x: np.ndarray) -> np.ndarray:
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


class Mixture:
    """A Gaussian-mixture-like generator around real embeddings; deterministic per seed."""

    def __init__(self, real: np.ndarray, clusters: int, seed: int = 0) -> None:
        rng = np.random.default_rng(seed)
        self.dim = real.shape[1]
        a, b = rng.integers(0, len(real), size=(2, clusters))
        mix = rng.uniform(0.0, 0.7, size=(clusters, 1)).astype(np.float32)
        nudge = rng.standard_normal((clusters, self.dim)).astype(np.float32) * (CENTRE_NUDGE / np.sqrt(self.dim))
        self.centres = _unit(real[a] + mix * real[b] + nudge)
        # One random orthonormal basis per cluster, with a decaying spectrum.
        bases = rng.standard_normal((clusters, self.dim, SUBSPACE_RANK)).astype(np.float32)
        self.bases = np.linalg.qr(bases)[0].transpose(0, 2, 1)  # (clusters, rank, dim)
        spectrum = 1.0 / np.sqrt(np.arange(1, SUBSPACE_RANK + 1))
        self.spectrum = (spectrum / np.linalg.norm(spectrum) * SUBSPACE_SCALE).astype(np.float32)

    def sample(self, n: int, seed: int) -> np.ndarray:
        rng = np.random.default_rng(seed)
        out = np.empty((n, self.dim), dtype=np.float32)
        counts = rng.multinomial(n, np.full(len(self.centres), 1.0 / len(self.centres)))
        rows = rng.permutation(n)  # clusters interleaved, as documents would arrive
        offset = 0
        for cluster, count in enumerate(counts):
            z = rng.standard_normal((count, SUBSPACE_RANK)).astype(np.float32) * self.spectrum
            noise = rng.standard_normal((count, self.dim)).astype(np.float32) * (NOISE_SCALE / np.sqrt(self.dim))
            out[rows[offset : offset + count]] = _unit(self.centres[cluster] + z @ self.bases[cluster] + noise)
            offset += count
        return out


def dataset(n: int, queries: int, index_dir: Path, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    mixture = Mixture(real_vectors(index_dir), clusters=max(1, n // POINTS_PER_CLUSTER), seed=seed)
    return mixture.sample(n, seed + 1), mixture.sample(queries, seed + 2)


def single_query_latencies(index, queries: np.ndarray, k: int) -> list[float]:
    out = []
    for q in queries:
        started = time.perf_counter()
        index.search(q.reshape(1, -1), k)
        out.append((time.perf_counter() - started) * 1000)
    return out


def index_bytes(index) -> int:
    import faiss

    with tempfile.NamedTemporaryFile(suffix=".faiss") as f:
        faiss.write_index(index, f.name)
        return os.path.getsize(f.name)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, required=True)
    parser.add_argument("--kind", choices=["exact", "hnsw"], required=True)
    parser.add_argument("--truth", type=Path, required=True, help="exact top-k rows (.npy), written by --kind exact")
    parser.add_argument("--index-dir", type=Path, default=ROOT / "index" / "default")
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--latency-queries", type=int, default=200)
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--build-threads", type=int, default=2)
    parser.add_argument("--ef-search", default="16,32,64,96,128,192", help="efSearch values to sweep (HNSW)")
    args = parser.parse_args()

    import faiss

    from qa.index import DenseIndexSpec, build_dense_index, choose_index_factory, hnsw_spec

    started = time.perf_counter()
    base, queries = dataset(args.n, args.queries, args.index_dir)
    generate_s = time.perf_counter() - started
    rss_data_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

    faiss.omp_set_num_threads(args.build_threads)
    spec = DenseIndexSpec("Flat") if args.kind == "exact" else hnsw_spec()
    started = time.perf_counter()
    index, spec = build_dense_index(base, spec)
    build_s = time.perf_counter() - started

    # Queries one at a time on one thread: what a single `qa` process does per question.
    faiss.omp_set_num_threads(1)
    latency_queries = queries[: args.latency_queries]
    single_query_latencies(index, latency_queries[:10], args.k)  # warm-up
    result: dict = {
        "n": args.n,
        "dim": int(base.shape[1]),
        "kind": args.kind,
        "factory": spec.factory,
        "chosen": choose_index_factory(*base.shape).factory == spec.factory,  # what qa.index would build
        "build_params": spec.build_params,
        "search_params": spec.search_params,
        "generate_s": round(generate_s, 2),
        "build_s": round(build_s, 2),
        "build_threads": args.build_threads,
        "index_mb": round(index_bytes(index) / 2**20, 1),
        "data_mb": round(base.nbytes / 2**20, 1),
    }
    if args.kind == "exact":
        faiss.omp_set_num_threads(args.build_threads)
        _, truth = index.search(queries, args.k)  # batched: the ground truth
        np.save(args.truth, truth)
        faiss.omp_set_num_threads(1)
        latencies = single_query_latencies(index, latency_queries, args.k)
        result.update(recall_at_k=1.0, **_percentiles(latencies))
        # How clustered the data is: mean cosine of a query's 1st and 10th neighbour vs a random point.
        sample = queries[:100]
        scores, _ = index.search(sample, args.k)
        others = base[np.random.default_rng(9).integers(0, args.n, len(sample))]
        random_cos = float(np.mean(np.sum(sample * others, axis=1)))
        result["neighbour_cosines"] = {
            "1st": round(float(scores[:, 0].mean()), 3),
            "10th": round(float(scores[:, -1].mean()), 3),
            "random": round(random_cos, 3),
        }
    else:
        truth = np.load(args.truth)
        sweep = []
        values = [int(v) for v in args.ef_search.split(",")] if "HNSW" in spec.factory else []
        chosen = spec.search_params.get("efSearch")
        for ef in sorted(set(values) | ({chosen} if chosen else set())):
            faiss.ParameterSpace().set_index_parameter(index, "efSearch", ef)
            sweep.append({"efSearch": ef, "recall_at_k": _recall(index, queries, truth, args.k),
                          **_percentiles(single_query_latencies(index, latency_queries, args.k))})
        faiss.ParameterSpace().set_index_parameters(index, ",".join(f"{k}={v}" for k, v in spec.search_params.items()))
        latencies = single_query_latencies(index, latency_queries, args.k)
        result.update(recall_at_k=_recall(index, queries, truth, args.k), **_percentiles(latencies), sweep=sweep)
    result["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    result["data_rss_mb"] = round(rss_data_kb / 1024, 1)
    print(json.dumps(result))


def _recall(index, queries: np.ndarray, truth: np.ndarray, k: int) -> float:
    found = np.vstack([index.search(q.reshape(1, -1), k)[1] for q in queries])
    hits = sum(len(set(a) & set(b)) for a, b in zip(found.tolist(), truth.tolist()))
    return round(hits / truth.size, 4)


def _percentiles(latencies_ms: list[float]) -> dict[str, float]:
    values = np.asarray(latencies_ms)
    return {
        "query_p50_ms": round(float(np.percentile(values, 50)), 3),
        "query_p95_ms": round(float(np.percentile(values, 95)), 3),
        "queries_timed": len(values),
    }


if __name__ == "__main__":
    main()
