"""Retrieval over a stored index: dense (FAISS), lexical (BM25 on French terms) and their fusion."""
from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from ..reading.chunking import Passage
from ..indexing.postings import Lexical
from ..indexing.store import StoredIndex

MODES = ("hybrid", "dense", "lexical")
# Share of the dense score in the hybrid score (the rest is BM25); chosen on the evaluation sets.
DENSE_WEIGHT = 0.5
# How many passages each retriever proposes before fusion.
CANDIDATES = 50


@dataclass(frozen=True, slots=True)
class Hit:
    passage: Passage
    score: float  # what citations are ordered by: the fused score in hybrid mode
    dense: float | None = None  # cosine similarity with the question
    lexical: float | None = None  # BM25 score


@dataclass(frozen=True, slots=True)
class Filter:
    """Which releases a search may return: by file and by date (YYYY-MM-DD, inclusive), and which
    ones it may not (`exclude`, document ids: superseded versions). A release without a date is
    kept when no date bound is set, or when `keep_undated` (a period read from the question: an
    undated release is never dropped silently)."""
    sources: frozenset[str] | None = None
    date_from: str | None = None
    date_to: str | None = None
    keep_undated: bool = False
    exclude: frozenset[str] | None = None

    def __bool__(self) -> bool:
        return bool(self.sources) or bool(self.date_from) or bool(self.date_to) or bool(self.exclude)

    def allows(self, document) -> bool:
        if self.sources and document.source not in self.sources:
            return False
        if self.exclude and document.id in self.exclude:
            return False
        if self.date_from or self.date_to:
            if not document.date:
                return self.keep_undated
            if self.date_from and document.date < self.date_from:
                return False
            if self.date_to and document.date > self.date_to:
                return False
        return True


def _nearest(index: StoredIndex, query_vector: np.ndarray, k: int) -> dict[int, float]:
    """Passage position → cosine for the k nearest passages, best first."""
    k = min(k, index.dense.ntotal)
    if k <= 0:
        return {}
    scores, ids = index.dense.search(np.ascontiguousarray(query_vector.reshape(1, -1), dtype=np.float32), k)
    return {int(i): float(s) for s, i in zip(scores[0], ids[0]) if i >= 0}


def _allowed(index: StoredIndex, where: Filter | None) -> np.ndarray | None:
    """Mask of the live passages a filter lets through (None: all)."""
    if not where:
        return index.live
    headers = index.documents.headers
    allowed = np.fromiter((where.allows(header) for header in headers), dtype=bool, count=len(headers))
    if index.documents.alive is not None:
        allowed &= index.documents.alive
    return allowed[index.document_of]


def _nearest_allowed(index: StoredIndex, query_vector: np.ndarray, k: int, mask: np.ndarray | None) -> dict[int, float]:
    """The k nearest passages among those the mask allows (searching deeper until enough are found)."""
    if mask is None:
        return _nearest(index, query_vector, k)
    wanted = min(k, int(mask.sum()))
    depth = k * 10
    while True:
        found = {i: s for i, s in _nearest(index, query_vector, depth).items() if mask[i]}
        if len(found) >= wanted or depth >= index.dense.ntotal:
            return dict(list(found.items())[:k])
        depth *= 4


def _lexical_scores(lexical: Lexical, question_terms: list[str], mask: np.ndarray | None) -> np.ndarray:
    """BM25 score of every passage, 0 for those the mask leaves out."""
    scores = lexical.scores(question_terms)
    return scores if mask is None else np.where(mask, scores, 0.0)


def dense_search(index: StoredIndex, query_vector: np.ndarray, k: int, where: Filter | None = None) -> list[Hit]:
    """The k passages of highest inner product (cosine, vectors being normalised), best first."""
    nearest = _nearest_allowed(index, query_vector, k, _allowed(index, where))
    return [Hit(index.passages[i], s, dense=s) for i, s in nearest.items()]


def lexical_search(index: StoredIndex, lexical: Lexical, question_terms: list[str], k: int,
                   where: Filter | None = None) -> list[Hit]:
    scores = _lexical_scores(lexical, question_terms, _allowed(index, where))
    order = _top(scores, k)
    return [Hit(index.passages[i], float(scores[i]), lexical=float(scores[i])) for i in order if scores[i] > 0]


def _top(scores: np.ndarray, k: int) -> np.ndarray:
    k = min(k, len(scores))
    if k <= 0:
        return np.empty(0, dtype=np.int64)
    part = np.argpartition(-scores, k - 1)[:k]
    return part[np.argsort(-scores[part], kind="stable")]


def hybrid_search(index: StoredIndex, lexical: Lexical, query_vector: np.ndarray, question_terms: list[str],
                  k: int, dense_weight: float = DENSE_WEIGHT, candidates: int = CANDIDATES,
                  where: Filter | None = None, timings: dict | None = None) -> list[Hit]:
    """Normalised weighted fusion of dense and BM25 scores over both retrievers' candidates.

    Dense scores are rescaled between the lowest and highest dense candidate (a passage the dense
    side did not propose gets 0); BM25 scores are divided by the best one. With no lexical match
    the ranking is the dense one.
    """
    pool = max(k, candidates)
    timings = {} if timings is None else timings
    clock = time.perf_counter()
    mask = _allowed(index, where)
    dense_scores = _nearest_allowed(index, query_vector, pool, mask)
    timings["dense_ms"] = (time.perf_counter() - clock) * 1000
    if not dense_scores:
        return []
    clock = time.perf_counter()
    lexical_scores = _lexical_scores(lexical, question_terms, mask)
    timings["lexical_ms"] = (time.perf_counter() - clock) * 1000
    clock = time.perf_counter()
    lexical_top = [int(i) for i in _top(lexical_scores, pool) if lexical_scores[i] > 0]
    floor = min(dense_scores.values())
    span = max(dense_scores.values()) - floor or 1.0
    best_lexical = float(lexical_scores.max()) if len(lexical_scores) else 0.0
    hits = []
    for i in set(dense_scores) | set(lexical_top):
        dense_part = (dense_scores[i] - floor) / span if i in dense_scores else 0.0
        lexical_part = float(lexical_scores[i]) / best_lexical if best_lexical > 0 else 0.0
        weight = dense_weight if best_lexical > 0 else 1.0
        score = weight * dense_part + (1 - weight) * lexical_part
        hits.append(Hit(index.passages[i], score, dense=dense_scores.get(i), lexical=float(lexical_scores[i])))
    hits.sort(key=lambda hit: (-hit.score, hit.passage.id))
    timings["fusion_ms"] = (time.perf_counter() - clock) * 1000
    return hits[:k]

