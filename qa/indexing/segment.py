"""A segment: releases stored together once and never rewritten, like Lucene's. A build is a list
of segments and, for each, the releases deleted from it since it was written (tombstones).

    segments/<name>/   documents.jsonl, headers.jsonl, analysis.jsonl, signatures.jsonl,
                       excluded.jsonl (a row a release, in order); passages.jsonl,
                       passage_documents.npy (each passage's release in the segment), keys.jsonl,
                       terms.jsonl, postings/ (BM25 term frequencies), vectors.npy, dense.faiss (a
                       row a passage); sentences.jsonl, sentence_columns.npz, sentence_vectors.npy
                       (a row a sentence, by release then text order); repeats/, stories/ (what
                       deciding repeated text and stories reads, see qa.indexing.decisions); segment.json (what it
                       holds, and each file's checksum)

A build adds the releases it read or cut again as one new segment and marks their previous
places deleted; a merge writes the live releases of several segments as one, from what they
stored (nothing is read, cut or embedded again).
"""
from __future__ import annotations

import json
import os
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path

import faiss
import numpy as np

from ..reading.chunking import Passage
from ..reading.documents import Document
from ..reading.stories import Signature, story_keys
from .decisions import RepeatTables, StoryKeys, write_story_keys, write_tables
from .files import save_array, sha256_of, stat_of, sync
from .postings import Postings
from .records import Header, Rows, write_rows

SEGMENT_FILE = "segment.json"
# Exact search up to this many passages a segment; above it an HNSW graph (see benchmarks/speed.py
# for the latency and recall@10 against exact search that set it).
EXACT_MAX = 200_000
HNSW_M = 32
HNSW_EF_CONSTRUCTION = 80
HNSW_EF_SEARCH = 512

# Sentence vectors are stored in half precision: the largest file of a build (at a million
# passages, 13.4 GB in float32), read at random by every question, so it is what must fit in the
# file cache; e5's cosines move by about 1e-3 (segments written before hold float32 and are read as
# they are). Passage vectors stay float32 (FAISS reads them).
SENTENCE_VECTOR_DTYPE = np.float16


@dataclass(slots=True)
class Bundle:
    """All a segment stores of one release."""
    document: Document
    passages: list[Passage]
    keys: list[str]  # the digest of what the encoder read of each passage
    terms: list[list[str]]  # each passage's French terms
    vectors: np.ndarray  # a row a passage
    sentences: list[dict]  # {"doc_id", "start", "end", "key", "terms", "entities"}, in text order
    sentence_vectors: np.ndarray  # a row a sentence
    analysis: dict  # boilerplate.Analysis.to_row()
    signature: dict  # stories.Signature.to_row()
    excluded: list[list[int]]  # [start, end] of its sentences left out as said elsewhere


def dense_index(vectors: np.ndarray, exact_max: int = EXACT_MAX) -> faiss.Index:
    """Inner product over normalised vectors: exact (Flat) up to exact_max passages, HNSW above."""
    dim = vectors.shape[1]
    if len(vectors) <= exact_max:
        index = faiss.IndexFlatIP(dim)
    else:
        index = faiss.IndexHNSWFlat(dim, HNSW_M, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
    if len(vectors):
        index.add(vectors)
    if hasattr(index, "hnsw"):
        index.hnsw.efSearch = HNSW_EF_SEARCH
    return index


def write_segment(folder: Path, bundles: Iterable[Bundle], dim: int) -> dict:
    """Write the releases of `bundles` as a segment under `folder` (which must not exist); returns
    what segment.json records."""
    bundles = list(bundles)
    folder.mkdir(parents=True)
    passages = [p for b in bundles for p in b.passages]
    write_rows(folder / "documents.jsonl", (asdict(b.document) for b in bundles))
    write_rows(folder / "headers.jsonl", (Header.of(b.document).to_row() for b in bundles))
    write_rows(folder / "analysis.jsonl", (b.analysis for b in bundles))
    write_tables(folder, [b.analysis for b in bundles])
    write_story_keys(folder, [story_keys(b.document, Signature.from_row(b.signature)) for b in bundles])
    write_rows(folder / "signatures.jsonl", (b.signature for b in bundles))
    write_rows(folder / "excluded.jsonl", (b.excluded for b in bundles))
    write_rows(folder / "passages.jsonl", (asdict(p) for p in passages))
    save_array(folder / "passage_documents.npy",
          np.repeat(np.arange(len(bundles), dtype=np.int32), [len(b.passages) for b in bundles]))
    write_rows(folder / "keys.jsonl", (k for b in bundles for k in b.keys))
    tokens = [t for b in bundles for t in b.terms]
    write_rows(folder / "terms.jsonl", tokens)
    Postings.of(tokens).save(folder / "postings")
    vectors = np.concatenate([b.vectors for b in bundles]) if bundles else np.empty((0, dim), dtype=np.float32)
    vectors = np.ascontiguousarray(vectors, dtype=np.float32).reshape(len(passages), dim)
    save_array(folder / "vectors.npy", vectors)
    dense = dense_index(vectors)
    faiss.write_index(dense, str(folder / "dense.faiss"))
    sentences = [s for b in bundles for s in b.sentences]
    write_rows(folder / "sentences.jsonl", sentences)
    with open(folder / "sentence_columns.npz", "wb") as handle:
        np.savez(handle, start=np.fromiter((s["start"] for s in sentences), dtype=np.int64, count=len(sentences)),
                 end=np.fromiter((s["end"] for s in sentences), dtype=np.int64, count=len(sentences)),
                 bounds=np.concatenate([[0], np.cumsum([len(b.sentences) for b in bundles])]).astype(np.int64))
        handle.flush()
        os.fsync(handle.fileno())
    sentence_vectors = np.concatenate([b.sentence_vectors for b in bundles]) if sentences else \
        np.empty((0, dim), dtype=np.float32)
    save_array(folder / "sentence_vectors.npy", np.ascontiguousarray(sentence_vectors, dtype=SENTENCE_VECTOR_DTYPE))
    files = sorted(p for p in folder.rglob("*") if p.is_file())
    for path in files:  # those written by FAISS and json too
        sync(path)
    record = {"name": folder.name, "documents": len(bundles), "passages": len(passages),
              "sentences": len(sentences), "faiss": "HNSW" if hasattr(dense, "hnsw") else "Flat",
              "checksums": {p.relative_to(folder).as_posix(): sha256_of(p) for p in files},
              "stats": {p.relative_to(folder).as_posix(): stat_of(p) for p in files}}
    path = folder / SEGMENT_FILE
    path.write_text(json.dumps(record, ensure_ascii=False), encoding="utf-8")
    sync(path)
    return record


class Segment:
    """A segment as opened: its rows read on demand, its vectors mapped."""

    def __init__(self, folder: Path, dim: int):
        self.path = folder
        self.record = json.loads((folder / SEGMENT_FILE).read_text(encoding="utf-8"))
        self.documents = Rows(folder / "documents.jsonl")
        self.headers = [Header.from_row(row) for row in Rows(folder / "headers.jsonl")]
        self.passages = Rows(folder / "passages.jsonl")
        self.passage_documents = np.load(folder / "passage_documents.npy", allow_pickle=False)
        self.keys = Rows(folder / "keys.jsonl")
        self.terms = Rows(folder / "terms.jsonl")
        self.postings = Postings.load(folder / "postings")
        self.vectors = np.load(folder / "vectors.npy", allow_pickle=False, mmap_mode="r")
        self._dense: faiss.Index | None = None
        self._dim = dim
        self.sentences = Rows(folder / "sentences.jsonl")
        with np.load(folder / "sentence_columns.npz", allow_pickle=False) as columns:
            self.start, self.end, self.bounds = columns["start"], columns["end"], columns["bounds"]
        self.sentence_vectors = np.load(folder / "sentence_vectors.npy", allow_pickle=False, mmap_mode="r")
        self.analyses = Rows(folder / "analysis.jsonl")
        self.signatures = Rows(folder / "signatures.jsonl")
        self.excluded = Rows(folder / "excluded.jsonl")
        self._repeats: RepeatTables | None = None
        self._story_keys: StoryKeys | None = None
        count, passages, sentences = len(self.headers), len(self.passages), len(self.sentences)
        problems = [name for name, ok in (
            ("headers.jsonl", len(self.documents) == count == self.record["documents"] == len(self.analyses)
             == len(self.signatures) == len(self.excluded)),
            ("passages.jsonl", passages == self.record["passages"] == len(self.keys) == len(self.terms)),
            ("passage_documents.npy", self.passage_documents.shape == (passages,)
             and (not passages or 0 <= self.passage_documents.min() <= self.passage_documents.max() < count)),
            ("postings", len(self.postings) == passages),
            ("vectors.npy", self.vectors.shape == (passages, dim)),
            ("sentence_columns.npz", self.start.shape == self.end.shape == (sentences,)
             and self.bounds.shape == (count + 1,) and int(self.bounds[-1]) == sentences),
            ("sentence_vectors.npy", self.sentence_vectors.shape == (sentences, dim)
             and self.sentence_vectors.dtype in (np.float16, np.float32)),
        ) if not ok]
        if problems:
            raise ValueError(f"{folder.name}/{problems[0]} : ne correspond pas au reste du segment "
                             f"(does not match the rest of the segment)")

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def dense(self) -> faiss.Index:
        return self.open_dense()

    def open_dense(self) -> faiss.Index:
        """The segment's FAISS index, read and checked when first asked for (a build needs none of
        the segments it keeps). Its vectors are memory-mapped, not read (a build's files never
        change): a 200k-passage HNSW index opens in 0.05 s instead of 0.24 s, and its pages are
        the system's file cache, shared by every process serving the same build."""
        if self._dense is None:
            found = faiss.read_index(str(self.path / "dense.faiss"), getattr(faiss, "IO_FLAG_MMAP_IFC", 0))
            if found.ntotal != len(self.passages) or found.d != self._dim:
                raise ValueError(f"{self.name}/dense.faiss : ne correspond pas au reste du segment "
                                 f"(does not match the rest of the segment)")
            if hasattr(found, "hnsw"):
                found.hnsw.efSearch = HNSW_EF_SEARCH
            self._dense = found
        return self._dense

    @property
    def repeats(self) -> RepeatTables:
        """What deciding repeated text reads of the segment (opened by the first build that asks)."""
        if self._repeats is None:
            self._repeats = RepeatTables(self.path)
        return self._repeats

    @property
    def story_keys(self) -> StoryKeys:
        """The keys finding stories compares releases by (opened by the first build that asks)."""
        if self._story_keys is None:
            self._story_keys = StoryKeys(self.path)
        return self._story_keys

    def passage_counts(self) -> np.ndarray:
        """How many passages each release of the segment has, by position."""
        return np.bincount(self.passage_documents, minlength=len(self.headers))

    def passage_range(self, position: int) -> range:
        """The rows of the passages of the segment's release at `position`."""
        first = int(np.searchsorted(self.passage_documents, position, side="left"))
        last = int(np.searchsorted(self.passage_documents, position, side="right"))
        return range(first, last)

    def bundle(self, position: int) -> Bundle:
        """Everything the segment stores of its release at `position` (for a merge)."""
        rows = self.passage_range(position)
        sentences = range(int(self.bounds[position]), int(self.bounds[position + 1]))
        return Bundle(Document(**self.documents[position]), [Passage(**r) for r in self.passages[rows.start:rows.stop]],
                      self.keys[rows.start:rows.stop], self.terms[rows.start:rows.stop],
                      np.asarray(self.vectors[rows.start:rows.stop]), self.sentences[sentences.start:sentences.stop],
                      np.asarray(self.sentence_vectors[sentences.start:sentences.stop]),
                      self.analyses[position], self.signatures[position], self.excluded[position])
