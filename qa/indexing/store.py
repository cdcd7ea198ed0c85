"""The index on disk: segments of releases, tombstones and a manifest, switched atomically.

    index/CURRENT                 names the live build
    index/builds/<name>/          manifest.json (the segments, in order, with the releases deleted
                                  from each since it was written; every file's checksum),
                                  stories.json, segments/<segment>/ (see qa.indexing.segment)

A build writes only what changed: the releases it read or cut again go into one new segment,
their previous places are marked deleted, and the segments it keeps are hard links to the
previous build's files (nothing is copied). When segments pile up, a merge writes the live
releases of the small ones as one (MERGE_FACTOR). A build is written into a fresh folder, the
manifest last, then CURRENT is replaced in one os.replace: a reader sees the old build or the new
one, never half of one. Passages, releases and sentences are read on demand (qa.indexing.records);
vectors are memory-mapped; a question is scored by BM25 with the statistics of all live
segments together (qa.indexing.postings).
"""
from __future__ import annotations

import datetime as dt
import fcntl
import json
import math
import os
import re
import shutil
import threading
import weakref
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import faiss
import numpy as np
import orjson

from ..reading.documents import Skipped
from .embedding import EncoderInfo
from .postings import Lexical
from .records import Documents, Passages, Sentences, Stacked
from .files import sha256_of, stat_of, sync
from .segment import SEGMENT_FILE, Bundle, Segment, write_segment
from ..settings import thread_limit
from ..errors import BuildRunningError, EncoderMismatchError, IndexCorruptError, IndexMissingError, QAError

FORMAT_VERSION = 7
KEEP_BUILDS = 2
# Tiered merges: segments are sorted into size classes (under SMALLEST_CLASS passages, then each
# class MERGE_FACTOR times the one before); once the newest MERGE_FACTOR segments are of one
# class, they are merged into one of the next. So an index holds about MERGE_FACTOR segments a
# class (log N classes), and a passage is rewritten about once a class over its life.
MERGE_FACTOR = 8
SMALLEST_CLASS = 1_000


class Dense:
    """Nearest-neighbour search over the segments' FAISS indexes, as one index (positions segment
    after segment): each segment is searched, the results merged by score."""

    def __init__(self, segments: list):
        self.segments = segments  # each segment's index is read when first searched (Segment.dense)
        self.offsets = np.concatenate([[0], np.cumsum([len(s.passages) for s in segments])]).astype(np.int64)
        self.ntotal = int(self.offsets[-1])

    @property
    def parts(self) -> list[faiss.Index]:
        return [segment.dense for segment in self.segments]

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        found_scores, found_ids = [], []
        for offset, part in zip(self.offsets, self.parts):
            if part.ntotal == 0:
                continue
            scores, ids = part.search(queries, min(k, part.ntotal))
            found_scores.append(scores)
            found_ids.append(np.where(ids >= 0, ids + offset, -1))
        if not found_scores:
            return np.zeros((len(queries), 0), dtype=np.float32), np.zeros((len(queries), 0), dtype=np.int64)
        scores, ids = np.concatenate(found_scores, axis=1), np.concatenate(found_ids, axis=1)
        order = np.argsort(-scores, axis=1, kind="stable")[:, :k]
        return np.take_along_axis(scores, order, axis=1), np.take_along_axis(ids, order, axis=1)


@dataclass(frozen=True, slots=True)
class StoredIndex:
    path: Path
    manifest: dict
    documents: Documents  # id → live release (its text read on demand); `.headers`: all, by position
    passages: Passages  # by position (segment after segment), deleted ones included: see `live`
    dense: Dense
    lexical: Lexical
    sentences: Sentences
    # Each passage's release position (in `documents.headers`): what a filter needs to decide
    # passages by their release with one numpy take, not a walk over every passage.
    document_of: np.ndarray = field(repr=False)
    live: np.ndarray | None = field(repr=False)  # which positions hold a live passage (None: all)
    segments: tuple = ()
    stories: dict = field(default_factory=dict)  # {"copies": {doc: [docs]}, "superseded": {old: new}}

    @property
    def encoder(self) -> EncoderInfo:
        return EncoderInfo(**self.manifest["encoder"])

    @property
    def passage_count(self) -> int:
        return int(self.manifest["passage_count"])

    def live_passages(self):
        """The live passages, in position order."""
        if self.live is None:
            return iter(self.passages)
        return (passage for passage, alive in zip(self.passages, self.live) if alive)

    def located(self):
        """Each live release: (its segment, its position there), in position order."""
        for segment, deleted in zip(self.segments, self.manifest["segments"]):
            gone = set(deleted["deleted"])
            for position, header in enumerate(segment.headers):
                if header.id not in gone:
                    yield segment, position


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
        return orjson.loads((build / "manifest.json").read_bytes()) if build else None
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
    required = {f"segments/{entry['name']}/{SEGMENT_FILE}" for entry in manifest.get("segments", [])}
    for name in sorted(required | set(checksums)):
        path = build / name
        if not path.is_file():
            raise IndexCorruptError(path, "fichier manquant (missing file)")
        if stats.get(name) == stat_of(path):
            continue
        if sha256_of(path) != checksums.get(name):
            raise IndexCorruptError(path, "somme de contrôle incorrecte (checksum mismatch)")


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


@dataclass(frozen=True, slots=True)
class Kept:
    """A segment of the previous build kept by the next one, with its releases deleted so far."""
    path: Path
    deleted: frozenset[str]


def write_build(index_dir: Path, segments: list[Kept | list[Bundle]], live: dict[str, dict], encoder: EncoderInfo,
                chunking: dict, skipped: list[Skipped], seconds: float, changes: dict | None = None,
                stories: dict | None = None, stats: dict[str, list] | None = None) -> Path:
    """Write a build beside the live one, then make it live. Returns the build folder.

    segments: in order, a segment of the previous build (Kept: hard-linked, not copied) or the
    releases of a new one; live: doc id → {"source", "sha256", "passages"} of every live release;
    stats: source → what the file system said of it (see trusted_digest)."""
    builds = index_dir / "builds"
    builds.mkdir(parents=True, exist_ok=True)
    name = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%S%fZ")
    _remove_partials(builds)
    staging = builds / f".{name}.partial"
    (staging / "segments").mkdir(parents=True)
    listed, checksums, file_stats = [], {}, {}
    for number, segment in enumerate(segments):
        if isinstance(segment, Kept):
            folder = staging / "segments" / segment.path.name
            shutil.copytree(segment.path, folder, copy_function=os.link)
            record = json.loads((folder / SEGMENT_FILE).read_text(encoding="utf-8"))
            deleted = sorted(segment.deleted)
        else:
            record = write_segment(staging / "segments" / f"{name}-{number:03d}", segment, encoder.dim)
            deleted = []
        listed.append({"name": record["name"], "deleted": deleted, "documents": record["documents"],
                       "passages": record["passages"], "faiss": record["faiss"]})
        for file, checksum in record["checksums"].items():
            checksums[f"segments/{record['name']}/{file}"] = checksum
            file_stats[f"segments/{record['name']}/{file}"] = record["stats"][file]
        checksums[f"segments/{record['name']}/{SEGMENT_FILE}"] = sha256_of(staging / "segments" / record["name"]
                                                                         / SEGMENT_FILE)

    # Syndicated copies and superseded versions (qa.answering.timeline), computed from the corpus.
    (staging / "stories.json").write_bytes(orjson.dumps(stories or {}))
    sync(staging / "stories.json")
    checksums["stories.json"] = sha256_of(staging / "stories.json")
    for path in [staging / "stories.json"] + [staging / "segments" / s["name"] / SEGMENT_FILE for s in listed]:
        file_stats[path.relative_to(staging).as_posix()] = stat_of(path)

    stats = stats or {}
    kinds = sorted({s["faiss"] for s in listed if s["passages"]}) or ["Flat"]
    manifest = {
        "format_version": FORMAT_VERSION,
        "built_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "build_seconds": round(seconds, 3),
        "encoder": encoder.to_dict(),
        "chunking": chunking,
        "faiss": {"type": "+".join(kinds), "metric": "inner_product",
                  "ntotal": sum(s["passages"] for s in listed)},
        "versions": {"faiss": faiss.__version__, "numpy": np.__version__},
        "passage_count": sum(entry["passages"] for entry in live.values()),
        "segments": listed,
        "documents": {doc_id: {**entry, **({"stat": stats[entry["source"]]} if entry["source"] in stats else {})}
                      for doc_id, entry in live.items()},
        "skipped": {s.source: {"reason": s.reason, "sha256": s.sha256,
                               **({"stat": stats[s.source]} if s.source in stats else {})} for s in skipped},
        "changes": changes or {},
        "checksums": checksums,
        # Size and modification time of each file as written: opening trusts a file still so.
        "stats": file_stats,
    }
    manifest_path = staging / "manifest.json"
    manifest_path.write_bytes(orjson.dumps(manifest, option=orjson.OPT_INDENT_2))
    sync(manifest_path)
    sync(staging / "segments")

    final = builds / name
    os.rename(staging, final)
    pointer = index_dir / "CURRENT.tmp"
    pointer.write_text(name + "\n", encoding="utf-8")
    sync(pointer)
    os.replace(pointer, index_dir / "CURRENT")
    sync(index_dir)
    # Housekeeping once the new build is live: unlinking the files of an old build takes a while
    # (a large segment's last link), and nothing waits for it. Not a daemon: a command finishes it
    # before exiting; should it be stopped half-way, the next build removes the rest.
    cleaner = threading.Thread(target=_remove_old_builds, args=(index_dir,), name="old builds")
    cleaner.start()
    _CLEANERS[:] = [thread for thread in _CLEANERS if thread.is_alive()] + [cleaner]
    return final


_CLEANERS: list[threading.Thread] = []


def finish_housekeeping() -> None:
    """Wait until the old builds the builds of this process left are removed."""
    while _CLEANERS:
        _CLEANERS.pop().join()


def size_class(passages: int) -> int:
    return 0 if passages < SMALLEST_CLASS else 1 + int(math.log(passages / SMALLEST_CLASS, MERGE_FACTOR))


def merge_plan(sizes: list[int]) -> int:
    """How many of the newest segments to merge into one, given each segment's live passages,
    oldest first: the newest run of segments of one size class once it counts MERGE_FACTOR, else 0."""
    if not sizes:
        return 0
    newest = size_class(sizes[-1])
    run = 1
    while run < len(sizes) and size_class(sizes[-run - 1]) == newest:
        run += 1
    return run if run >= MERGE_FACTOR else 0


def _remove_partials(builds: Path) -> None:
    """What builds stopped half-way left (called by a build, under the build lock: no other is
    being written)."""
    for partial in builds.glob(".*.partial"):
        shutil.rmtree(partial, ignore_errors=True)


def _remove_old_builds(index_dir: Path) -> None:
    """Keep the live build, as CURRENT names it when this runs, and the one before it (a reader
    may still be opening it); a build newer than the live one is never touched."""
    try:
        live = current_build(index_dir)
    except QAError:
        return
    if live is None:
        return
    older = sorted(p for p in (index_dir / "builds").iterdir()
                   if p.is_dir() and not p.name.startswith(".") and p.name < live.name)
    for old in older[:-(KEEP_BUILDS - 1) or None]:
        shutil.rmtree(old, ignore_errors=True)


def load(index_dir: Path, encoder: EncoderInfo | None = None, dense: bool = True) -> StoredIndex:
    """The live build, checked; refuses a missing, corrupt or foreign-encoder index with a clear
    message. `dense`: read the FAISS indexes now (a build, which searches none, reads them never)."""
    build = current_build(index_dir)
    if build is None or not (build / "manifest.json").is_file():
        raise IndexMissingError(index_dir)
    try:
        manifest = orjson.loads((build / "manifest.json").read_bytes())
    except (OSError, ValueError) as error:
        raise IndexCorruptError(build / "manifest.json", error) from None
    _check_files(build, manifest, full=False)
    built_with = EncoderInfo(**manifest["encoder"])
    if encoder is not None and not built_with.compatible(encoder):
        raise EncoderMismatchError(index_dir, built_with.label(), encoder.label())
    try:
        segments = [_segment(build / "segments" / entry["name"], built_with.dim) for entry in manifest["segments"]]
        found = orjson.loads((build / "stories.json").read_bytes())
        for segment in segments if dense else []:
            segment.open_dense()  # now, not at the first question
    except (RuntimeError, ValueError, TypeError, KeyError, OSError) as error:
        raise IndexCorruptError(build, error) from None
    headers = [header for segment in segments for header in segment.headers]
    gone = [set(entry["deleted"]) for entry in manifest["segments"]]
    alive = np.fromiter((header.id not in deleted for segment, deleted in zip(segments, gone)
                         for header in segment.headers), dtype=bool, count=len(headers))
    document_offsets = np.cumsum([0] + [len(segment.headers) for segment in segments])
    document_of = np.concatenate([segment.passage_documents + offset for segment, offset
                                  in zip(segments, document_offsets)] or [np.empty(0, dtype=np.int32)])
    documents = Documents(Stacked([segment.documents for segment in segments]), headers,
                          None if alive.all() else alive)
    live = None if alive.all() else alive[document_of]
    if len(documents) != len(manifest["documents"]):
        raise IndexCorruptError(build / "manifest.json", f"{len(documents)} communiqués au lieu de "
                                                         f"{len(manifest['documents'])}")
    passage_offsets = np.cumsum([0] + [len(segment.passages) for segment in segments])
    lexical = Lexical([segment.postings for segment in segments],
                      [None if live is None else live[a:b] for a, b in zip(passage_offsets[:-1], passage_offsets[1:])])
    sentence_offsets = np.cumsum([0] + [len(segment.sentences) for segment in segments])
    bounds = np.concatenate([segment.bounds[:-1] + offset for segment, offset in zip(segments, sentence_offsets)]
                            + [np.asarray([sentence_offsets[-1]], dtype=np.int64)])
    sentences = Sentences(Stacked([segment.sentences for segment in segments]),
                          Stacked([segment.sentence_vectors for segment in segments]),
                          np.concatenate([segment.start for segment in segments] or [np.empty(0, dtype=np.int64)]),
                          np.concatenate([segment.end for segment in segments] or [np.empty(0, dtype=np.int64)]),
                          bounds, documents.position)
    return StoredIndex(build, manifest, documents, Passages(Stacked([segment.passages for segment in segments])),
                       Dense(segments), lexical, sentences, document_of, live,
                       tuple(segments), found)


# Segments opened by this process, by the identity of their files: a build keeps most segments of
# the one before as hard links, so opening it (a reader picking up a new build) opens only its new
# segments. Weak: a segment no open index uses is closed.
_OPENED: "weakref.WeakValueDictionary[tuple, Segment]" = weakref.WeakValueDictionary()
_OPENING = threading.Lock()


def _segment(folder: Path, dim: int) -> Segment:
    info = (folder / SEGMENT_FILE).stat()
    key = (info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns, dim)
    with _OPENING:
        found = _OPENED.get(key)
        if found is None:
            found = _OPENED[key] = Segment(folder, dim)
        return found


def unsegmented_vectors(index_dir: Path, encoder: EncoderInfo) -> tuple[dict, dict]:
    """The passage and sentence vectors, by the digest of their text, of a live build made before
    segments (formats 5 and 6, one folder of files) with a compatible encoder: what an upgrade
    reuses instead of embedding the whole corpus again. Empty when there is no such build."""
    try:
        build = current_build(index_dir)
        manifest = json.loads((build / "manifest.json").read_text(encoding="utf-8"))
        if manifest.get("format_version") not in (5, 6) or not EncoderInfo(**manifest["encoder"]).compatible(encoder):
            return {}, {}
        _check_files(build, manifest | {"format_version": FORMAT_VERSION}, full=False)
        passages = _old_pairs(build / "keys.jsonl", build / "vectors.npy", lambda row: row)
        sentences = _old_pairs(build / "sentences.jsonl", build / "sentence_vectors.npy", lambda row: row["key"])
    except (OSError, ValueError, TypeError, KeyError, QAError):
        return {}, {}
    return passages, sentences


def _old_pairs(rows: Path, vectors: Path, key) -> dict:
    found = np.load(vectors, allow_pickle=False, mmap_mode="r")
    with rows.open("rb") as handle:
        keys = [key(json.loads(line)) for line in handle if line.strip()]
    if len(keys) != len(found):
        raise ValueError(f"{vectors.name} : {len(found)} vecteurs pour {len(keys)} lignes")
    return dict(zip(keys, found))


def load_sentence_entities(index: StoredIndex) -> dict[str, list]:
    """Sentence entities of a build by the digest of their text (to reuse them in the next build)."""
    return {row["key"]: row["entities"] for row in index.sentences.rows if "entities" in row}


def load_sentence_vectors(index: StoredIndex) -> dict[str, np.ndarray]:
    """Sentence vectors of a build by the digest of their text (to reuse them in the next build)."""
    return {row["key"]: vector for row, vector in zip(index.sentences.rows, index.sentences.vectors)}


def load_terms(index: StoredIndex) -> list[list[str]]:
    """The French terms of each live passage of a build, in position order."""
    return _live(index, [segment.terms for segment in index.segments])


def load_keys(index: StoredIndex) -> list[str]:
    """For each live passage of a build, the digest of the text its vector was computed from."""
    return _live(index, [segment.keys for segment in index.segments])


def load_vectors(index: StoredIndex) -> np.ndarray:
    """The vectors of the live passages of a build, in position order."""
    vectors = np.concatenate([np.asarray(segment.vectors) for segment in index.segments]
                             or [np.empty((0, index.encoder.dim), dtype=np.float32)])
    return vectors if index.live is None else vectors[index.live]


def _live(index: StoredIndex, parts: list) -> list:
    rows = [row for part in parts for row in part]
    return rows if index.live is None else [row for row, alive in zip(rows, index.live) if alive]
