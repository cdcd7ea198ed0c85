"""Cited answers to French questions about press releases.

    from qa import Assistant
    answer = Assistant.open("index").ask("Qui a présidé la cérémonie à Ségou ?", k=5)
    answer.to_dict()
"""
from .answer import Answer, Citation, Sentence
from .assistant import Assistant
from .chunking import Passage
from .documents import Document
from .errors import QAError
from .search import Hit
from .settings import Settings

__all__ = ["Answer", "Assistant", "Citation", "Document", "Hit", "Passage", "QAError", "Sentence", "Settings"]
