"""Cited answers to French questions about press releases.

    from qa import Assistant
    answer = Assistant.open("index").ask("Qui a présidé la cérémonie à Ségou ?", k=5)
    answer.to_dict()
"""
from .answering.answer import Answer, Citation, Sentence
from .answering.assistant import Assistant
from .reading.chunking import Passage
from .reading.documents import Document
from .errors import QAError
from .answering.search import Hit
from .settings import Settings

__all__ = ["Answer", "Assistant", "Citation", "Document", "Hit", "Passage", "QAError", "Sentence", "Settings"]
