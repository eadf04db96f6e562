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


class CorpusWarning(UserWarning):
    """Something in the corpus was skipped (an empty document); the rest is indexed."""
