"""BM25 over segments: each segment stores its passages' term frequencies (postings), and a
question is scored with the statistics of the live corpus as a whole (document frequencies and
the mean passage length counted over every segment, deleted passages left out), so that adding
a release in a segment of its own scores every passage as a build of everything would.

The formula is Lucene's (bm25s' default, which the index used before segments): idf =
ln(1 + (N − df + 0.5) / (df + 0.5)), tf part = tf / (tf + k1 · (1 − b + b · length / mean length)).
"""
from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import orjson

from ..reading.lexical import FUZZY_MIN_LENGTH, FUZZY_SIMILARITY
from .files import save_array

K1 = 1.5
B = 0.75


class Postings:
    """The terms of one segment's passages: for each term, the passages holding it (rows in
    ascending order) and how often."""

    def __init__(self, vocabulary: list[str], starts: np.ndarray, rows: np.ndarray, counts: np.ndarray,
                 lengths: np.ndarray):
        self.vocabulary = vocabulary
        self.column = {term: i for i, term in enumerate(vocabulary)}
        self.starts, self.rows, self.counts, self.lengths = starts, rows, counts, lengths

    @classmethod
    def of(cls, tokens: list[list[str]]) -> "Postings":
        by_term: dict[str, dict[int, int]] = {}
        for row, passage_terms in enumerate(tokens):
            for term in passage_terms:
                found = by_term.setdefault(term, {})
                found[row] = found.get(row, 0) + 1
        vocabulary = sorted(by_term)
        sizes = np.fromiter((len(by_term[t]) for t in vocabulary), dtype=np.int64, count=len(vocabulary))
        starts = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
        rows = np.fromiter((r for t in vocabulary for r in by_term[t]), dtype=np.int32, count=int(starts[-1]))
        counts = np.fromiter((c for t in vocabulary for c in by_term[t].values()), dtype=np.float32,
                             count=int(starts[-1]))
        lengths = np.fromiter((len(t) for t in tokens), dtype=np.float32, count=len(tokens))
        return cls(vocabulary, starts, rows, counts, lengths)

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "vocabulary.json").write_text(json.dumps(self.vocabulary, ensure_ascii=False), encoding="utf-8")
        for name in ("starts", "rows", "counts", "lengths"):
            save_array(folder / f"{name}.npy", getattr(self, name))

    @classmethod
    def load(cls, folder: Path) -> "Postings":
        vocabulary = orjson.loads((folder / "vocabulary.json").read_bytes())
        arrays = {name: np.load(folder / f"{name}.npy", allow_pickle=False, mmap_mode="r")
                  for name in ("starts", "rows", "counts")}
        found = cls(vocabulary, **arrays, lengths=np.load(folder / "lengths.npy", allow_pickle=False))
        if len(found.starts) != len(vocabulary) + 1 or len(found.rows) != len(found.counts) \
                or (len(vocabulary) and int(found.starts[-1]) != len(found.rows)):
            raise ValueError(f"{folder.name} : index lexical incohérent (inconsistent postings)")
        return found

    def __len__(self) -> int:
        return len(self.lengths)

    def postings(self, term: str) -> tuple[np.ndarray, np.ndarray] | None:
        i = self.column.get(term)
        if i is None:
            return None
        return self.rows[self.starts[i]:self.starts[i + 1]], self.counts[self.starts[i]:self.starts[i + 1]]


class Lexical:
    """BM25 over the passages of several segments, one position space (segment after segment),
    with the live corpus's statistics; the interface the answering stage reads (scores, weight,
    expand, size)."""

    def __init__(self, segments: list[Postings], live: list[np.ndarray | None]):
        self._segments = segments
        self._live = live  # per segment: which passages are live (None: all)
        self._offsets = np.concatenate([[0], np.cumsum([len(s) for s in segments])]).astype(np.int64)
        self.total = int(self._offsets[-1])  # passages, live or not: the length of a score array
        lengths = [s.lengths if m is None else s.lengths[m] for s, m in zip(segments, live)]
        self.size = sum(len(found) for found in lengths)  # live passages
        self._mean_length = float(sum(float(found.sum()) for found in lengths) / self.size) if self.size else 1.0
        self._default = math.log(1 + self.size)
        self._df: dict[str, int] = {}
        self._vocabulary: list[str] | None = None

    def _postings(self, term: str):
        """(segment, its live rows holding the term, their counts), for each segment holding it."""
        for number, (segment, live) in enumerate(zip(self._segments, self._live)):
            found = segment.postings(term)
            if found is None:
                continue
            rows, counts = found
            if live is not None:
                keep = live[rows]
                rows, counts = rows[keep], counts[keep]
            if len(rows):
                yield number, rows, counts

    def document_frequency(self, term: str) -> int:
        if term not in self._df:
            self._df[term] = sum(len(rows) for _, rows, _ in self._postings(term))
        return self._df[term]

    def in_ranges(self, term: str, starts: np.ndarray, stops: np.ndarray) -> np.ndarray:
        """For each range of positions start…stop (over every segment, each range inside one
        segment, e.g. a release's passages), whether a passage there holds the term; deletions
        are not looked at. A search in the term's posting rows (ascending), so it costs the
        logarithm of how common the term is, not its frequency."""
        found = np.zeros(len(starts), dtype=bool)
        for number, segment in enumerate(self._segments):
            postings = segment.postings(term)
            if postings is None:
                continue
            rows = postings[0]
            offset, end = self._offsets[number], self._offsets[number + 1]
            inside = (starts >= offset) & (starts < end)
            if not inside.any():
                continue
            local_starts, local_stops = starts[inside] - offset, stops[inside] - offset
            at = np.searchsorted(rows, local_starts)
            found[inside] = (at < len(rows)) & (rows[np.minimum(at, len(rows) - 1)] < local_stops)
        return found

    def knows(self, term: str) -> bool:
        return self.document_frequency(term) > 0

    def weight(self, term: str) -> float:
        """Inverse document frequency of a term (unknown terms weigh as the rarest)."""
        df = self.document_frequency(term)
        return math.log(1 + self.size / df) if df else self._default

    def expand(self, question_terms: list[str], limit: int = 2) -> list[str]:
        """The question's terms, each term the index does not know (a typo: « Tomboctou »,
        « réintegration ») followed by the indexed terms spelt nearly like it."""
        unknown = [t for t in dict.fromkeys(question_terms)
                   if len(t) >= FUZZY_MIN_LENGTH and not t[0].isdigit() and not self.knows(t)]
        if not unknown or not self.size:
            return question_terms
        from rapidfuzz import fuzz, process
        if self._vocabulary is None:
            self._vocabulary = sorted({t for s in self._segments for t in s.vocabulary
                                       if len(t) >= FUZZY_MIN_LENGTH - 1 and not t[0].isdigit()})
        near = [match for term in unknown for match, _, _ in
                process.extract(term, self._vocabulary, scorer=fuzz.ratio, score_cutoff=FUZZY_SIMILARITY, limit=limit)
                if self.knows(match)]
        return question_terms + near

    def scores(self, question_terms: list[str]) -> np.ndarray:
        """BM25 score of every passage for the question's terms (a term named twice counts twice;
        unknown terms and deleted passages score nothing)."""
        out = np.zeros(self.total, dtype=np.float32)
        for term in question_terms:
            found = list(self._postings(term))
            df = sum(len(rows) for _, rows, _ in found)
            if not df:
                continue
            idf = math.log(1 + (self.size - df + 0.5) / (df + 0.5))
            for number, rows, counts in found:
                lengths = self._segments[number].lengths[rows]
                part = counts / (counts + K1 * (1 - B + B * lengths / self._mean_length))
                out[self._offsets[number] + rows] += idf * part
        return out
