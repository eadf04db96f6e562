"""TREC CAsT 2019–2022 topics with their manual rewrites, as ``RewriteItem``s.

The organisers' files (repository ``daltonj/treccastweb``), one set per year:

- 2019: the evaluation topics (``raw_utterance`` per turn) joined with the annotated
  ``…_resolved_v1.0.tsv`` (``<topic>_<turn>\\t<rewrite>``) by turn id;
- 2020: the manual evaluation topics (``raw_utterance``, ``manual_rewritten_utterance``; the
  canonical responses are ids only, so the history has no answers);
- 2021: the manual evaluation topics; each turn's ``passage`` is its canonical response;
- 2022: the flattened topics (every path through each topic tree; ``utterance``,
  ``manual_rewritten_utterance``, ``response``). A turn shared by several paths has the same
  history on each, so it is kept once: the unique user turns are the ones CAsT 2022 evaluates.

History = the previous raw utterances of the session, with the canonical responses where the
year has them. The topics' titles and descriptions are for assessors, not systems, and stay out.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from qa.benchmarks.common import read_json
from qa.benchmarks.rewriting import PastTurn, RewriteItem
from qa.errors import UsageError

FILES = {
    2019: "2019_data_evaluation_evaluation_topics_v1.0.json",
    2020: "2020_2020_manual_evaluation_topics_v1.0.json",
    2021: "2021_2021_manual_evaluation_topics_v1.0.json",
    2022: "2022_2022_evaluation_topics_flattened_duplicated_v1.0.json",
}
REWRITES_2019 = "2019_data_evaluation_evaluation_topics_annotated_resolved_v1.0.tsv"
# Per year: the utterance field and the canonical response field (None: the year has none).
_FIELDS = {
    2019: ("raw_utterance", None),
    2020: ("raw_utterance", None),
    2021: ("raw_utterance", "passage"),
    2022: ("utterance", "response"),
}


def load(folder: Path, years: Sequence[int] = tuple(FILES)) -> list[RewriteItem]:
    items: list[RewriteItem] = []
    for year in years:
        if year not in FILES:
            raise UsageError(f"no TREC CAsT set for {year}; choose from {', '.join(map(str, FILES))}")
        items.extend(_year(folder, year))
    return items


def _year(folder: Path, year: int) -> list[RewriteItem]:
    path = folder / FILES[year]
    topics = read_json(path)
    if not isinstance(topics, list):
        raise UsageError(f"{path}: expected a JSON list of topics")
    rewrites = _rewrites_2019(folder / REWRITES_2019) if year == 2019 else None
    utterance_key, response_key = _FIELDS[year]
    items: list[RewriteItem] = []
    seen: set[str] = set()
    for position, topic in enumerate(topics, start=1):
        turns = topic.get("turn") if isinstance(topic, dict) else None
        if not isinstance(turns, list) or not all(isinstance(t, dict) for t in turns):
            raise UsageError(f"{path}: topic {position}: 'turn' must be a list of objects")
        history: list[PastTurn] = []
        for turn in turns:
            turn_id = f"{topic.get('number')}_{turn.get('number')}"
            question = _text(turn, utterance_key, path, turn_id)
            if rewrites is not None:
                if turn_id not in rewrites:
                    raise UsageError(f"{path}: turn {turn_id} has no rewrite in {REWRITES_2019}")
                rewrite = rewrites[turn_id]
            else:
                rewrite = _text(turn, "manual_rewritten_utterance", path, turn_id)
            if turn_id not in seen:  # 2022: the same turn on another path through the tree
                seen.add(turn_id)
                items.append(RewriteItem(f"cast{year}/{turn_id}", f"cast{year}", question, rewrite, tuple(history)))
            response = turn.get(response_key) if response_key else None
            history.append(PastTurn(question, response if isinstance(response, str) and response.strip() else None))
    return items


def _rewrites_2019(path: Path) -> dict[str, str]:
    try:
        text = path.read_bytes().decode("utf-8")
    except FileNotFoundError:
        raise UsageError(f"benchmark file not found: {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read {path}: {exc}") from None
    rewrites = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        parts = line.split("\t")
        if len(parts) != 2 or not parts[0].strip() or not parts[1].strip():
            raise UsageError(f"{path}:{number}: expected '<topic>_<turn><TAB><rewrite>'")
        rewrites[parts[0].strip()] = parts[1].strip()
    return rewrites


def _text(turn: dict[str, Any], key: str, path: Path, turn_id: str) -> str:
    value = turn.get(key)
    if not isinstance(value, str) or not value.strip():
        raise UsageError(f"{path}: turn {turn_id}: missing or empty {key!r}")
    return value
