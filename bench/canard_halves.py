"""CANARD dev in two halves by dialog: rules for follow-ups are looked at on the "fit" half only
(sha1 of the QuAC dialog id even); the "report" half is the one no rule was written from.

    python bench/canard_halves.py [path/to/canard/dev.json]
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

from qa.benchmarks.rewriting import RewriteItem, load_canard, project_rewriter, score_rewrites

DEFAULT = Path(__file__).resolve().parents[2] / "shared" / "datasets" / "conversations" / "canard" / "dev.json"


def half(item: RewriteItem) -> str:
    dialog = item.id.split("#")[0]
    return "fit" if int(hashlib.sha1(dialog.encode()).hexdigest(), 16) % 2 == 0 else "report"


def main(argv: list[str]) -> int:
    items = load_canard(Path(argv[0]) if argv else DEFAULT)
    rewriter = project_rewriter()
    out = {}
    for name in ("fit", "report"):
        report = score_rewrites([i for i in items if half(i) == name], rewriter).as_dict()
        out[name] = {k: report[k] for k in ("total", "system", "raw_question", "changed")}
    print(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
