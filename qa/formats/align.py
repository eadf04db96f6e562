"""Mapping extracted text back onto the file it came from.

A reader's extracted text drops markup ("**Feeding**" → "Feeding", "[a](url)" → "a",
"&amp;" → "&"), so its offsets are not the file's. ``align`` walks the extracted text forward
through the source, character by character where they agree and word by word where markup
intervenes, and records the matches as runs ``(extracted_start, file_start, length)``.
Characters it cannot place (white space a reader normalised, a decoded entity) stay unmapped;
a span's file offsets are those of its first and last mapped characters, so
``file_text[file_start:file_end]`` holds the quote with whatever markup stood inside it.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass

_TOKEN = re.compile(r"\w+|\S")
_WORD = re.compile(r"\w+")
_WINDOW = 20_000  # how far ahead a word is looked for when the reader gave no region


@dataclass(frozen=True)
class OffsetMap:
    """What a document's offsets refer to, and how to reach the file from them.

    ``refers_to`` is "file" (the text is the file: a plain .txt) or "extracted text". ``runs``
    maps extracted text onto the file (text formats); None with "extracted text" means the file
    is binary (PDF, DOCX) and has no character offsets of its own."""

    refers_to: str
    runs: tuple[tuple[int, int, int], ...] | None

    def file_span(self, start: int, end: int) -> tuple[int, int] | None:
        """The file offsets of extracted ``[start, end)``; None for a binary file."""
        if self.refers_to == "file":
            return start, end
        if not self.runs or end <= start:
            return None
        first = self._at_or_after(start, end)
        last = self._at_or_before(end - 1, start)
        if first is None or last is None:
            return None
        return first, last + 1

    def _at_or_after(self, offset: int, limit: int) -> int | None:
        i = bisect.bisect_right(self._starts, offset) - 1
        for run in self.runs[max(i, 0) :]:  # type: ignore[index]
            ext, pos, length = run
            if ext >= limit:
                return None
            if offset < ext + length:
                return pos + max(0, offset - ext)
        return None

    def _at_or_before(self, offset: int, limit: int) -> int | None:
        i = bisect.bisect_right(self._starts, offset) - 1
        while i >= 0:
            ext, pos, length = self.runs[i]  # type: ignore[index]
            if ext + length <= limit:
                return None
            return pos + min(offset - ext, length - 1)
        return None

    @property
    def _starts(self) -> list[int]:
        cached = self.__dict__.get("_starts_cache")
        if cached is None:
            cached = [run[0] for run in self.runs or ()]
            object.__setattr__(self, "_starts_cache", cached)
        return cached

    def as_json(self) -> dict[str, object]:
        return {"refers_to": self.refers_to, "runs": [list(r) for r in self.runs] if self.runs is not None else None}

    @classmethod
    def from_json(cls, data: dict[str, object]) -> OffsetMap:
        runs = data.get("runs")
        return cls(str(data["refers_to"]), tuple(tuple(r) for r in runs) if runs is not None else None)  # type: ignore[misc, union-attr]


def align(
    extracted: str, source: str, regions: list[tuple[int, int, tuple[int, int] | None]]
) -> tuple[tuple[int, int, int], ...]:
    """Runs mapping ``extracted`` onto ``source``. ``regions`` are (start, end, where) for each
    piece of the extracted text: ``where`` bounds the search in the source (None: anywhere
    after the previous piece). Positions only move forward, so repeated words cannot cross."""
    runs: list[list[int]] = []

    def add(ext: int, pos: int, length: int) -> None:
        if runs and runs[-1][0] + runs[-1][2] == ext and runs[-1][1] + runs[-1][2] == pos:
            runs[-1][2] += length
        else:
            runs.append([ext, pos, length])

    cursor = 0
    for start, end, where in regions:
        lo, hi = where if where is not None else (cursor, min(len(source), cursor + _WINDOW))
        pos = max(lo, cursor) if where is None else lo
        i = start
        while i < end:
            char = extracted[i]
            if pos < hi and source[pos] == char:
                add(i, pos, 1)
                i, pos = i + 1, pos + 1
                continue
            if char.isspace():
                i += 1
                continue
            token = _TOKEN.match(extracted, i).group()  # type: ignore[union-attr]
            limit = hi if where is not None else min(len(source), pos + _WINDOW)
            if _WORD.match(token):
                found = source.find(token, pos, limit)
            else:
                # Punctuation: the last one before the next word, not the first one found, which
                # may stand in markup ("[a](http://x.com)." — the full stop after the link).
                following = _WORD.search(extracted, i + 1, end)
                bound = limit
                if following:
                    after = source.find(following.group(), pos, limit)
                    bound = after if after >= 0 else limit
                found = source.rfind(token, pos, bound) if where is not None or bound < limit else source.find(token, pos, limit)
            if found >= 0:
                add(i, found, len(token))
                pos = found + len(token)
            i += len(token)
            if where is None:
                hi = min(len(source), pos + _WINDOW)
        cursor = max(cursor, pos)
    return tuple((a, b, c) for a, b, c in runs)
