"""The index on disk: FAISS vectors, passages, documents and a manifest, switched atomically.

    index/CURRENT                 names the live build
    index/builds/<name>/          dense.faiss, vectors.npy, keys.jsonl (what each vector was computed
                                  from), passages.jsonl, passage_documents.npy (each passage's release),
                                  documents.jsonl, headers.jsonl (the releases without their texts),
                                  terms.jsonl, analysis.jsonl, lexical/ (BM25 arrays), sentences.jsonl,
                                  sentence_columns.npz and sentence_vectors.npy (every release's
                                  sentences, their places, terms and vectors), manifest.json

Passages, releases and sentences are read on demand (qa.indexing.records: each JSON-lines file has
the offsets of its lines beside it); vectors are memory-mapped; what opening reads whole is small:
the releases' headers, the sentences' places, the BM25 arrays and the FAISS index.

A build is written into a fresh folder, the manifest last, then CURRENT is replaced in one
os.replace: a reader sees the old build or the new one, never half of one.
"""
from __future__ import annotations

import datetime as dt
import fcntl
import hashlib
import json
import os
import re
import shutil
from collections import Counter
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

import faiss
import numpy as np
import orjson

from ..reading.chunking import Passage
from ..reading.documents import Document, Skipped
from .embedding import EncoderInfo
from ..reading.lexical import LexicalIndex
from .records import Documents, Header, Passages, Rows, Sentences, sentence_bounds, sentence_order, write_rows
from ..settings import thread_limit
from ..errors import BuildRunningError, EncoderMismatchError, IndexCorruptError, IndexMissingError, QAError

FORMAT_VERSION = 6
# Exact search up to this many passages; above it an HNSW graph (see benchmarks/speed.py for the
# latency and recall@10 against exact search that set it).
EXACT_MAX = 200_000
HNSW_M = 32
HNSW_EF_CONSTRUCTION = 80
HNSW_EF_SEARCH = 512
DATA_FILES = ("dense.faiss", "vectors.npy", "keys.jsonl", "passages.jsonl", "passages.offsets.npy",
              "passage_documents.npy", "documents.jsonl", "documents.offsets.npy", "headers.jsonl", "terms.jsonl",
              "sentences.jsonl", "sentences.offsets.npy", "sentence_columns.npz", "sentence_vectors.npy")
KEEP_BUILDS = 2


@dataclass(frozen=True, slots=True)
class StoredIndex:
    path: Path
    manifest: dict
    documents: Documents  # id → release (its text read on demand); `.headers` without texts
    passages: Passages  # read on demand, in vector order
    dense: faiss.Index
    lexical: LexicalIndex
    sentences: Sentences
    # Each passage's release position (in `documents` order): what a filter needs to decide
    # passages by their release with one numpy take, not a walk over every passage.
    document_of: np.ndarray = field(repr=False)
    stories: dict = field(default_factory=dict)  # {"copies": {doc: [docs]}, "superseded": {old: new}}

    @property
    def encoder(self) -> EncoderInfo:
        return EncoderInfo(**self.manifest["encoder"])


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _write_jsonl(path: Path, rows) -> None:
    """One JSON value a line, UTF-8 as is (orjson: several times faster than json on large builds)."""
    with path.open("wb") as handle:
        for row in rows:
            handle.write(orjson.dumps(row) + b"\n")
        handle.flush()
        os.fsync(handle.fileno())


def _save_array(path: Path, array: np.ndarray) -> None:
    with open(path, "wb") as handle:
        np.save(handle, array, allow_pickle=False)
        handle.flush()
        os.fsync(handle.fileno())


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


_BUILD_NAME = re.compile(r"\d{8}T\d{6}\d*Z")


def current_build(index_dir: Path) -> Path | None:
    """The live build's folder, None when there is none; a CURRENT that does not name a build
    (garbage, a path) is IndexCorruptError, whose message says how to rebuild."""
    pointer = index_dir / "CURRENT"
    if not pointer.is_file():
        return None
    raw = pointer.read_bytes()[:200]
    try:
        name = raw.decode("ascii").strip()
    except UnicodeDecodeError:
        name = None
    if name == "":
        return None
    if name is None or not _BUILD_NAME.fullmatch(name):
        raise IndexCorruptError(pointer, "ne nomme pas une construction (does not name a build)")
    return index_dir / "builds" / name


def read_manifest(index_dir: Path) -> dict | None:
    """The live build's manifest, or None when there is no readable one."""
    try:
        build = current_build(index_dir)
        return json.loads((build / "manifest.json").read_text(encoding="utf-8")) if build else None
    except (OSError, ValueError, QAError):
        return None


def verify(index_dir: Path, full: bool = True) -> None:
    """Check that the live build is whole: CURRENT names it, its manifest reads and every file it
    lists has the checksum recorded at build time. With `full` False, a file whose size and
    modification time are as recorded at build time is trusted without being read (what opening
    does); one whose stat differs is hashed. Raises IndexMissingError or IndexCorruptError."""
    build = current_build(index_dir)
    if build is None or not (build / "manifest.json").is_file():
        raise IndexMissingError(index_dir)
    try:
        manifest = json.loads((build / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise IndexCorruptError(build / "manifest.json", error) from None
    _check_files(build, manifest, full)


def _check_files(build: Path, manifest: dict, full: bool) -> None:
    try:
        checksums = manifest["checksums"]
        stats = manifest.get("stats", {}) if not full else {}
    except (KeyError, TypeError) as error:
        raise IndexCorruptError(build / "manifest.json", error) from None
    if manifest.get("format_version") != FORMAT_VERSION:
        raise IndexCorruptError(build, f"format {manifest.get('format_version')} ≠ {FORMAT_VERSION}")
    for name in sorted(set(DATA_FILES) | set(checksums)):
        path = build / name
        if not path.is_file():
            raise IndexCorruptError(path, "fichier manquant (missing file)")
        if stats.get(name) == _stat(path):
            continue
        if _sha256(path) != checksums.get(name):
            raise IndexCorruptError(path, "somme de contrôle incorrecte (checksum mismatch)")


def _stat(path: Path) -> list[int]:
    info = path.stat()
    return [info.st_size, info.st_mtime_ns]


@contextmanager
def build_lock(index_dir: Path):
    """One build at a time per index folder; a second one is told so at once."""
    index_dir.mkdir(parents=True, exist_ok=True)
    with open(index_dir / ".lock", "w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise BuildRunningError(index_dir) from None
        yield


if thread_limit():
    faiss.omp_set_num_threads(thread_limit())


def dense_index(vectors: np.ndarray, exact_max: int = EXACT_MAX) -> faiss.Index:
    """Inner product over normalised vectors: exact (Flat) for a corpus up to exact_max passages,
    an HNSW graph above."""
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


def write_build(index_dir: Path, documents: list[Document], passages: list[Passage], vectors: np.ndarray,
                encoder: EncoderInfo, chunking: dict, skipped: list[Skipped], seconds: float,
                changes: dict | None = None, tokens: list[list[str]] | None = None,
                analyses: list[dict] | None = None, keys: list[str] | None = None,
                sentences: list[dict] | None = None, sentence_vectors: np.ndarray | None = None,
                stories: dict | None = None, excluded: dict[str, list] | None = None,
                stats: dict[str, list] | None = None, signatures: list[dict] | None = None) -> Path:
    """Write a complete build beside the live one, then make it live. Returns the build folder.

    keys: for each passage, the digest of the text its vector was computed from (what the next
    build compares to reuse the vector); excluded: doc id → the [start, end] of its sentences left
    out as said elsewhere; stats: source → what the file system said of it (see trusted_digest)."""
    builds = index_dir / "builds"
    builds.mkdir(parents=True, exist_ok=True)
    name = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%S%fZ")
    staging = builds / f".{name}.partial"
    staging.mkdir()

    vectors = np.ascontiguousarray(vectors, dtype=np.float32).reshape(len(passages), encoder.dim)
    dense = dense_index(vectors)
    faiss.write_index(dense, str(staging / "dense.faiss"))
    _fsync(staging / "dense.faiss")
    _save_array(staging / "vectors.npy", vectors)
    _write_jsonl(staging / "keys.jsonl", keys if keys is not None else ["" for _ in passages])
    position = {document.id: i for i, document in enumerate(documents)}
    write_rows(staging / "passages.jsonl", (asdict(p) for p in passages))
    _save_array(staging / "passage_documents.npy",
                np.fromiter((position[p.doc_id] for p in passages), dtype=np.int32, count=len(passages)))
    write_rows(staging / "documents.jsonl", (asdict(d) for d in documents))
    _write_jsonl(staging / "headers.jsonl", (Header.of(d).to_row() for d in documents))
    tokens = tokens if tokens is not None else [[] for _ in passages]
    _write_jsonl(staging / "terms.jsonl", tokens)
    LexicalIndex.from_tokens(tokens).save(staging / "lexical")
    _write_jsonl(staging / "analysis.jsonl", analyses or [])
    # Sentences by release, in text order: a release's rows are one range, its starts sorted.
    sentences = sentences or []
    order = sentence_order(sentences, position)
    sentences = [sentences[i] for i in order]
    write_rows(staging / "sentences.jsonl", sentences)
    with open(staging / "sentence_columns.npz", "wb") as handle:
        np.savez(handle, start=np.fromiter((row["start"] for row in sentences), dtype=np.int64, count=len(sentences)),
                 end=np.fromiter((row["end"] for row in sentences), dtype=np.int64, count=len(sentences)),
                 bounds=sentence_bounds(sentences, position, len(documents)))
        handle.flush()
        os.fsync(handle.fileno())
    sentence_vectors = (np.empty((0, encoder.dim), dtype=np.float32) if sentence_vectors is None
                        else np.ascontiguousarray(sentence_vectors, dtype=np.float32))
    in_order = all(i == j for i, j in enumerate(order))  # as builds make them: no copy of the vectors
    _save_array(staging / "sentence_vectors.npy", sentence_vectors if in_order else sentence_vectors[order])

    _write_jsonl(staging / "signatures.jsonl", signatures or [])
    _write_jsonl(staging / "excluded.jsonl", ({"doc_id": doc_id, "spans": spans}
                                              for doc_id, spans in sorted((excluded or {}).items())))

    # Syndicated copies and superseded versions (qa.answering.timeline), computed from the corpus.
    (staging / "stories.json").write_text(json.dumps(stories or {}, ensure_ascii=False), encoding="utf-8")
    _fsync(staging / "stories.json")

    counts = Counter(passage.doc_id for passage in passages)
    stats = stats or {}
    manifest = {
        "format_version": FORMAT_VERSION,
        "built_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "build_seconds": round(seconds, 3),
        "encoder": encoder.to_dict(),
        "chunking": chunking,
        "faiss": {"type": "HNSW" if hasattr(dense, "hnsw") else "Flat", "metric": "inner_product",
                  "ntotal": int(dense.ntotal)},
        "versions": {"faiss": faiss.__version__, "numpy": np.__version__},
        "passage_count": len(passages),
        "documents": {d.id: {"source": d.source, "sha256": d.sha256, "passages": counts.get(d.id, 0),
                             **({"stat": stats[d.source]} if d.source in stats else {})} for d in documents},
        "skipped": {s.source: {"reason": s.reason, "sha256": s.sha256,
                               **({"stat": stats[s.source]} if s.source in stats else {})} for s in skipped},
        "changes": changes or {},
        "checksums": {path.relative_to(staging).as_posix(): _sha256(path)
                      for path in sorted(staging.rglob("*")) if path.is_file()},
        # Size and modification time of each file as written: opening trusts a file still so.
        "stats": {path.relative_to(staging).as_posix(): _stat(path)
                  for path in sorted(staging.rglob("*")) if path.is_file()},
    }
    manifest_path = staging / "manifest.json"
    manifest_path.write_text(json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8")
    _fsync(manifest_path)

    final = builds / name
    os.rename(staging, final)
    pointer = index_dir / "CURRENT.tmp"
    pointer.write_text(name + "\n", encoding="utf-8")
    _fsync(pointer)
    os.replace(pointer, index_dir / "CURRENT")
    _fsync(index_dir)
    _remove_old_builds(builds, keep=name)
    return final


def _remove_old_builds(builds: Path, keep: str) -> None:
    """Keep the live build and the one before it (a reader may still be opening it)."""
    finished = sorted(p for p in builds.iterdir() if p.is_dir() and not p.name.startswith("."))
    for old in [p for p in finished if p.name != keep][:-(KEEP_BUILDS - 1) or None]:
        shutil.rmtree(old, ignore_errors=True)
    for partial in builds.glob(".*.partial"):
        if partial.name != f".{keep}.partial":
            shutil.rmtree(partial, ignore_errors=True)


def _read_jsonl(path: Path) -> list:
    with path.open("rb") as handle:
        return [orjson.loads(line) for line in handle if line.strip()]


def load(index_dir: Path, encoder: EncoderInfo | None = None) -> StoredIndex:
    """The live build, checked; refuses a missing, corrupt or foreign-encoder index with a clear message."""
    build = current_build(index_dir)
    if build is None or not (build / "manifest.json").is_file():
        raise IndexMissingError(index_dir)
    try:
        manifest = json.loads((build / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise IndexCorruptError(build / "manifest.json", error) from None
    _check_files(build, manifest, full=False)
    built_with = EncoderInfo(**manifest["encoder"])
    if encoder is not None and not built_with.compatible(encoder):
        raise EncoderMismatchError(index_dir, built_with.label(), encoder.label())
    try:
        dense = faiss.read_index(str(build / "dense.faiss"))
        if hasattr(dense, "hnsw"):
            dense.hnsw.efSearch = HNSW_EF_SEARCH
        passages = Passages(Rows(build / "passages.jsonl"))
        document_of = np.load(build / "passage_documents.npy", allow_pickle=False)
        documents = Documents(Rows(build / "documents.jsonl"),
                              [Header(**row | {"notices": tuple(row["notices"])})
                               for row in _read_jsonl(build / "headers.jsonl")])
        lexical = LexicalIndex.load(build / "lexical")
        sentences = _load_sentences(build, documents, built_with.dim)
    except (RuntimeError, ValueError, TypeError, KeyError, OSError) as error:
        raise IndexCorruptError(build, error) from None
    if dense.ntotal != len(passages) or dense.d != built_with.dim:
        raise IndexCorruptError(build, f"{dense.ntotal} vecteurs pour {len(passages)} passages")
    if lexical.size != len(passages):
        raise IndexCorruptError(build / "lexical", f"{lexical.size} passages au lieu de {len(passages)}")
    if document_of.shape != (len(passages),) or (len(passages) and not 0 <= document_of.min() <= document_of.max()
                                                  < len(documents)):
        raise IndexCorruptError(build / "passage_documents.npy", f"forme {document_of.shape}")
    try:
        found = json.loads((build / "stories.json").read_text(encoding="utf-8")) \
            if (build / "stories.json").is_file() else {}
    except ValueError as error:
        raise IndexCorruptError(build / "stories.json", error) from None
    return StoredIndex(build, manifest, documents, passages, dense, lexical, sentences, document_of, found)


def _load_sentences(build: Path, documents: Documents, dim: int) -> Sentences:
    """The sentence store of a build: columns in memory, vectors mapped, terms read on demand."""
    rows = Rows(build / "sentences.jsonl")
    vectors = np.load(build / "sentence_vectors.npy", allow_pickle=False, mmap_mode="r")
    with np.load(build / "sentence_columns.npz", allow_pickle=False) as columns:
        start, end, bounds = columns["start"], columns["end"], columns["bounds"]
    if vectors.shape != (len(rows), dim) or start.shape != (len(rows),) or end.shape != (len(rows),) \
            or bounds.shape != (len(documents) + 1,) or (len(bounds) and int(bounds[-1]) != len(rows)):
        raise ValueError(f"sentence_vectors.npy : forme {vectors.shape} pour {len(rows)} phrases")
    return Sentences(rows, vectors, start, end, bounds, documents.position)


def load_sentence_entities(index: StoredIndex) -> dict[str, list]:
    """Sentence entities of a build by the digest of their text (to reuse them in the next build)."""
    return {row["key"]: row["entities"] for row in index.sentences.rows if "entities" in row}


def load_sentence_vectors(index: StoredIndex) -> dict[str, np.ndarray]:
    """Sentence vectors of a build by the digest of their text (to reuse them in the next build)."""
    return {row["key"]: vector for row, vector in zip(index.sentences.rows, index.sentences.vectors)}


def load_analyses(index: StoredIndex) -> dict[str, dict]:
    """Each document's sentence analysis in a build, by content hash (rows as written)."""
    path = index.path / "analysis.jsonl"
    return {row["sha256"]: row for row in _read_jsonl(path)} if path.is_file() else {}


def load_excluded(index: StoredIndex) -> dict[str, list[list[int]]] | None:
    """Doc id → the [start, end] of its sentences left out as said elsewhere; None for a build made
    before they were recorded."""
    path = index.path / "excluded.jsonl"
    return {row["doc_id"]: row["spans"] for row in _read_jsonl(path)} if path.is_file() else None


def load_signatures(index: StoredIndex) -> dict[str, dict]:
    """What finding stories read of each release of a build, by content hash (rows as written)."""
    path = index.path / "signatures.jsonl"
    return {row["sha256"]: row for row in _read_jsonl(path)} if path.is_file() else {}


def load_terms(index: StoredIndex) -> list[list[str]]:
    """The French terms of each passage of a build (to reuse them in the next build)."""
    return _read_jsonl(index.path / "terms.jsonl")


def load_keys(index: StoredIndex) -> list[str]:
    """For each passage of a build, the digest of the text its vector was computed from."""
    return _read_jsonl(index.path / "keys.jsonl")


def load_vectors(index: StoredIndex) -> np.ndarray:
    """The passage vectors of a build, in passage order (to reuse them in the next build)."""
    try:
        vectors = np.load(index.path / "vectors.npy", allow_pickle=False, mmap_mode="r")
    except (OSError, ValueError) as error:
        raise IndexCorruptError(index.path / "vectors.npy", error) from None
    if vectors.shape != (len(index.passages), index.encoder.dim):
        raise IndexCorruptError(index.path / "vectors.npy", f"forme {vectors.shape}")
    return vectors
