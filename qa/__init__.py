"""qa: retrieval-based question answering over a corpus, with exact cited passages.

    >>> from qa import Assistant
    >>> Assistant.load().ask("Who replaced Litvinov?").answer
    'Molotov'
"""

# Nothing is imported here, not even typing or qa.errors: `python -m qa` runs this before
# qa/__main__.py can guard against Ctrl-C, so it must take no time at all.
TYPE_CHECKING = False

if TYPE_CHECKING:
    from qa.answer import Answer, Citation
    from qa.assistant import Assistant
    from qa.conversation import Conversation, Turn
    from qa.errors import QAError
    from qa.retrieval import Hit

__all__ = ["Answer", "Assistant", "Citation", "Conversation", "Hit", "QAError", "Turn"]
__version__ = "0.1.0"

# Imported on first use (PEP 562), so `import qa.cli` or `qa --version` does not load numpy
# and the whole pipeline before it is needed.
_LAZY = {
    "Answer": "qa.answer",
    "Citation": "qa.answer",
    "Assistant": "qa.assistant",
    "Conversation": "qa.conversation",
    "Turn": "qa.conversation",
    "Hit": "qa.retrieval",
    "QAError": "qa.errors",
}


def __getattr__(name: str) -> object:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'qa' has no attribute {name!r}")
