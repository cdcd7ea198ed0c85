"""The index on disk: FAISS vectors, passages, documents and a manifest, switched atomically.

    index/CURRENT                 names the live build
    index/builds/<name>/          dense.faiss, vectors.npy, keys.jsonl (what each vector was computed
                                  from), passages.jsonl, documents.jsonl, terms.jsonl, analysis.jsonl,
                                  lexical/ (BM25 arrays), sentences.jsonl and sentence_vectors.npy
                                  (each passage's sentences, their terms and vectors), manifest.json

A build is written into a fresh folder, the manifest last, then CURRENT is replaced in one
os.replace: a reader sees the old build or the new one, never half of one.
"""
from __future__ import annotations

import bisect
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
from ..settings import thread_limit
from ..errors import BuildRunningError, EncoderMismatchError, IndexCorruptError, IndexMissingError, QAError

FORMAT_VERSION = 5
# Exact search up to this many passages; above it an HNSW graph (see benchmarks/speed.py for the
# latency and recall@10 against exact search that set it).
EXACT_MAX = 200_000
HNSW_M = 32
HNSW_EF_CONSTRUCTION = 80
HNSW_EF_SEARCH = 512
DATA_FILES = ("dense.faiss", "vectors.npy", "keys.jsonl", "passages.jsonl", "documents.jsonl", "terms.jsonl")
KEEP_BUILDS = 2


@dataclass(frozen=True, slots=True)
class Sentences:
    """The sentences of every passage, computed once at index time: where each is in its document,
    its French terms and its vector."""
    rows: list[dict]  # {"doc_id", "start", "end", "key", "terms", "entities": [[label, text], …]}
    vectors: np.ndarray  # one L2-normalised row per sentence
    of_passage: dict[str, list[int]]  # passage id → its sentences' rows, in order
    starts: dict[str, list[int]]  # document id → where its indexed sentences start, in order
    of_document: dict[str, list[int]]  # document id → its sentences' rows, in the same order as `starts`


@dataclass(frozen=True, slots=True)
class StoredIndex:
    path: Path
    manifest: dict
    documents: dict[str, Document]
    passages: list[Passage]
    dense: faiss.Index
    lexical: LexicalIndex
    sentences: Sentences | None = None  # None for a build made before the sentence stage
    stories: dict = field(default_factory=dict)  # {"copies": {doc: [docs]}, "superseded": {old: new}}
    # The documents in order, and each passage's position among them: what a filter needs to
    # decide passages by their document with one numpy take, not a walk over every passage.
    document_order: tuple[str, ...] = field(init=False, repr=False)
    document_of: np.ndarray = field(init=False, repr=False)

    def __post_init__(self):
        order = {doc_id: position for position, doc_id in enumerate(self.documents)}
        object.__setattr__(self, "document_order", tuple(order))
        object.__setattr__(self, "document_of", np.fromiter((order[p.doc_id] for p in self.passages),
                                                            dtype=np.int32, count=len(self.passages)))

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
    with open(staging / "vectors.npy", "wb") as handle:
        np.save(handle, vectors, allow_pickle=False)
        handle.flush()
        os.fsync(handle.fileno())
    _write_jsonl(staging / "keys.jsonl", keys if keys is not None else ["" for _ in passages])
    _write_jsonl(staging / "passages.jsonl", (asdict(p) for p in passages))
    _write_jsonl(staging / "documents.jsonl", (asdict(d) for d in documents))
    tokens = tokens if tokens is not None else [[] for _ in passages]
    _write_jsonl(staging / "terms.jsonl", tokens)
    LexicalIndex.from_tokens(tokens).save(staging / "lexical")
    _write_jsonl(staging / "analysis.jsonl", analyses or [])
    _write_jsonl(staging / "sentences.jsonl", sentences or [])
    sentence_vectors = (np.empty((0, encoder.dim), dtype=np.float32) if sentence_vectors is None
                        else np.ascontiguousarray(sentence_vectors, dtype=np.float32))
    with open(staging / "sentence_vectors.npy", "wb") as handle:
        np.save(handle, sentence_vectors, allow_pickle=False)
        handle.flush()
        os.fsync(handle.fileno())

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
        passages = [Passage(**row) for row in _read_jsonl(build / "passages.jsonl")]
        documents = {row["id"]: Document(**row) for row in _read_jsonl(build / "documents.jsonl")}
        lexical = LexicalIndex.load(build / "lexical")
    except (RuntimeError, ValueError, TypeError, KeyError, OSError) as error:
        raise IndexCorruptError(build, error) from None
    if dense.ntotal != len(passages) or dense.d != built_with.dim:
        raise IndexCorruptError(build, f"{dense.ntotal} vecteurs pour {len(passages)} passages")
    if lexical.size != len(passages):
        raise IndexCorruptError(build / "lexical", f"{lexical.size} passages au lieu de {len(passages)}")
    try:
        found = json.loads((build / "stories.json").read_text(encoding="utf-8")) \
            if (build / "stories.json").is_file() else {}
    except ValueError as error:
        raise IndexCorruptError(build / "stories.json", error) from None
    return StoredIndex(build, manifest, documents, passages, dense, lexical,
                       _load_sentences(build, passages, built_with.dim), found)


def _load_sentences(build: Path, passages: list[Passage], dim: int) -> Sentences | None:
    """The sentence store of a build, or None when the build has none (made by an older version)."""
    if not (build / "sentences.jsonl").is_file():
        return None
    try:
        rows = _read_jsonl(build / "sentences.jsonl")
        vectors = np.load(build / "sentence_vectors.npy", allow_pickle=False, mmap_mode="r")
    except (OSError, ValueError) as error:
        raise IndexCorruptError(build / "sentences.jsonl", error) from None
    if vectors.shape != (len(rows), dim):
        raise IndexCorruptError(build / "sentence_vectors.npy", f"forme {vectors.shape} pour {len(rows)} phrases")
    by_doc: dict[str, list[int]] = {}
    for i, row in enumerate(rows):
        by_doc.setdefault(row["doc_id"], []).append(i)
    # A passage's sentences: those of its document starting inside it (found by bisection on the
    # document's sentences sorted by start) and ending inside it, in row order.
    ordered = {doc_id: sorted(found, key=lambda i: rows[i]["start"]) for doc_id, found in by_doc.items()}
    starts = {doc_id: [rows[i]["start"] for i in found] for doc_id, found in ordered.items()}
    of_passage = {}
    for passage in passages:
        found, begins = ordered.get(passage.doc_id, ()), starts.get(passage.doc_id, ())
        inside = found[bisect.bisect_left(begins, passage.start):bisect.bisect_right(begins, passage.end)]
        of_passage[passage.id] = sorted(i for i in inside if rows[i]["end"] <= passage.end)
    return Sentences(rows, vectors, of_passage, starts, ordered)


def load_sentence_entities(index: StoredIndex) -> dict[str, list]:
    """Sentence entities of a build by the digest of their text (to reuse them in the next build)."""
    if index.sentences is None:
        return {}
    return {row["key"]: row["entities"] for row in index.sentences.rows if "entities" in row}


def load_sentence_vectors(index: StoredIndex) -> dict[str, np.ndarray]:
    """Sentence vectors of a build by the digest of their text (to reuse them in the next build)."""
    if index.sentences is None:
        return {}
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
