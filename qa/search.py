"""Retrieval over a stored index: the passages nearest to a question vector."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .chunking import Passage
from .store import StoredIndex


@dataclass(frozen=True, slots=True)
class Hit:
    passage: Passage
    score: float
    dense: float | None = None
    lexical: float | None = None


def dense_search(index: StoredIndex, query_vector: np.ndarray, k: int) -> list[Hit]:
    """The k passages of highest inner product (cosine, vectors being normalised), best first."""
    k = min(k, index.dense.ntotal)
    if k <= 0:
        return []
    scores, ids = index.dense.search(np.ascontiguousarray(query_vector.reshape(1, -1), dtype=np.float32), k)
    return [Hit(index.passages[i], float(s), dense=float(s)) for s, i in zip(scores[0], ids[0]) if i >= 0]
