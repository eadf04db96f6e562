"""A reproducible 5 MB corpus of ordinary English for the large-corpus speed rows.

    python bench/big_corpus.py OUT_DIR [--megabytes 5] [--seed 13]

The text is generated, not copied: an order-2 word Markov chain is fitted on the paragraphs of
SQuAD 1.1 train (read in place from ../shared/datasets/squad/) and sampled with a fixed seed into
documents of 3-40 kB, a few paragraphs each, one plain-text file per document. The result has
the statistics of encyclopaedia prose (sentence lengths, names, dates, numbers) without being
any article, and the same seed always gives the same bytes. Nothing is committed: the bench
script writes it to a temporary directory.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SQUAD_TRAIN = ROOT.parent / "shared" / "datasets" / "squad" / "train-v1.1-reconstructed.json"
FIT_PARAGRAPHS = 6000  # enough for varied text, small enough to fit in a few seconds
START = ("<s>", "<s>")


def fit_chain(paragraphs: list[str]) -> dict[tuple[str, str], list[str]]:
    """Successors of each word pair; a sentence ends with the token "</s>"."""
    chain: dict[tuple[str, str], list[str]] = defaultdict(list)
    for paragraph in paragraphs:
        words = paragraph.split()
        state = START
        for word in words:
            chain[state].append(word)
            state = ("<s>", "<s>") if word.endswith((".", "?", "!")) and len(word) > 3 else (state[1], word)
        chain[state].append("</s>")
    return chain


def sentence(chain: dict[tuple[str, str], list[str]], rng: random.Random, max_words: int = 60) -> str:
    state, words = START, []
    while len(words) < max_words:
        successors = chain.get(state)
        if not successors:
            break
        word = rng.choice(successors)
        if word == "</s>":
            break
        words.append(word)
        if word.endswith((".", "?", "!")) and len(word) > 3:
            break
        state = (state[1], word)
    text = " ".join(words)
    return text if text.endswith((".", "?", "!")) else text.rstrip(",;:") + "."


def generate(out_dir: Path, megabytes: float, seed: int, source: Path = SQUAD_TRAIN) -> dict[str, object]:
    """Write the corpus into ``out_dir`` (which must not hold other documents); returns a summary."""
    articles = json.loads(source.read_text(encoding="utf-8"))["data"]
    paragraphs = [p["context"] for a in articles for p in a["paragraphs"]]
    rng = random.Random(seed)
    chain = fit_chain(rng.sample(paragraphs, min(FIT_PARAGRAPHS, len(paragraphs))))
    out_dir.mkdir(parents=True, exist_ok=True)
    target, written, documents = int(megabytes * 1_000_000), 0, 0
    while written < target:
        size = rng.randint(3_000, 40_000)
        blocks, length = [], 0
        while length < size:
            block = " ".join(sentence(chain, rng) for _ in range(rng.randint(3, 8)))
            blocks.append(block)
            length += len(block) + 2
        title = " ".join(w.strip(".,;:") for w in sentence(chain, rng).split()[:5])
        text = f"{title}\n\n" + "\n\n".join(blocks) + "\n"
        path = out_dir / f"doc-{documents:04d}.txt"
        path.write_text(text, encoding="utf-8")
        written += len(text.encode("utf-8"))
        documents += 1
    return {"documents": documents, "bytes": written, "seed": seed, "source": source.name}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--megabytes", type=float, default=5.0)
    parser.add_argument("--seed", type=int, default=13)
    args = parser.parse_args(argv)
    if args.out.exists() and any(args.out.iterdir()):
        print(f"error: {args.out} is not empty; give a new directory", file=sys.stderr)
        return 2
    print(json.dumps(generate(args.out, args.megabytes, args.seed)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
