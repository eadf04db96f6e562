"""Errors the library raises on purpose. Each carries the CLI exit code it maps to."""

from __future__ import annotations


class QAError(Exception):
    """An expected failure with a one-line, user-facing message."""

    exit_code = 1


class UsageError(QAError):
    """The caller asked for something malformed (empty question, bad option value)."""

    exit_code = 2


class CorpusError(QAError):
    """The corpus is missing, empty or unreadable."""

    exit_code = 2


class IndexError_(QAError):
    """The index is missing, stale or damaged and may not be rebuilt here."""

    exit_code = 1


class IndexLocationError(QAError):
    """The index location is refused: it holds something that is not this corpus's qa index (a
    file, someone's directory, the corpus itself or a directory around it, another corpus's
    index). Nothing on disk was changed."""

    exit_code = 2


class CorpusWarning(UserWarning):
    """Something in the corpus was skipped (an empty document); the rest is indexed."""
