"""qa: retrieval-based question answering over a corpus, with exact cited passages.

    >>> from qa import Assistant
    >>> Assistant.load().ask("Who replaced Litvinov?").answer
    'Molotov'
"""

from qa.answer import Answer, Citation
from qa.assistant import Assistant
from qa.conversation import Conversation, Turn
from qa.errors import QAError
from qa.retrieval import Hit

__all__ = ["Answer", "Assistant", "Citation", "Conversation", "Hit", "QAError", "Turn"]
__version__ = "0.1.0"
