"""Rows of a build read on demand: a JSON-lines file beside the offset of each of its lines, so that
opening an index reads neither its passages, nor its releases' texts, nor its sentences' terms.

    passages.jsonl  +  passages.offsets.npy      (uint64: where each line starts, then the file's size)

A row is parsed when it is asked for (a few microseconds); the file is memory-mapped, so rows
read by one question stay in the page cache for the next, and many readers share one copy.
"""
from __future__ import annotations

import mmap
import os
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, fields
from functools import lru_cache
from operator import attrgetter
from pathlib import Path

import numpy as np
import orjson

from ..reading.chunking import Passage
from ..reading.documents import Document
from .files import save_array


def offsets_path(path: Path) -> Path:
    return path.with_suffix(".offsets.npy")


def write_rows(path: Path, rows) -> None:
    """One JSON value a line, and where each line starts (orjson: UTF-8 as is, fast on large builds)."""
    starts = [0]
    with path.open("wb") as handle:
        for row in rows:
            line = orjson.dumps(row) + b"\n"
            handle.write(line)
            starts.append(starts[-1] + len(line))
        handle.flush()
        os.fsync(handle.fileno())
    save_array(offsets_path(path), np.asarray(starts, dtype=np.uint64))


class Rows(Sequence):
    """The rows of a JSON-lines file written by write_rows, each parsed when asked for."""

    def __init__(self, path: Path):
        self.path = path
        self._offsets = np.load(offsets_path(path), allow_pickle=False, mmap_mode="r")
        if self._offsets.ndim != 1 or len(self._offsets) == 0:
            raise ValueError(f"{offsets_path(path).name} : décalages illisibles (unreadable offsets)")
        size = path.stat().st_size
        if int(self._offsets[-1]) != size:
            raise ValueError(f"{path.name} : {size} octets, les décalages en annoncent {int(self._offsets[-1])}")
        if size:
            with path.open("rb") as handle:
                self._data = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
        else:
            self._data = b""

    def __len__(self) -> int:
        return len(self._offsets) - 1

    def __getitem__(self, i):
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        if i < 0:
            i += len(self)
        if not 0 <= i < len(self):
            raise IndexError(i)
        return orjson.loads(self._data[int(self._offsets[i]):int(self._offsets[i + 1])])

    def __iter__(self) -> Iterator:
        # From the mapped file, not its path: a build removed since it was opened still reads.
        for start, end in zip(self._offsets[:-1].tolist(), self._offsets[1:].tolist()):
            yield orjson.loads(self._data[start:end])


class Stacked(Sequence):
    """Several sequences (the rows or vectors of each segment) read as one, one after the other."""

    def __init__(self, parts: list):
        self.parts = parts
        self.offsets = np.concatenate([[0], np.cumsum([len(part) for part in parts])]).astype(np.int64)

    def __len__(self) -> int:
        return int(self.offsets[-1])

    def locate(self, i: int) -> tuple[int, int]:
        """(part, position in it) of item i."""
        part = int(np.searchsorted(self.offsets, i, side="right")) - 1
        return part, i - int(self.offsets[part])

    def __getitem__(self, i):
        if isinstance(i, slice):
            start, stop, step = i.indices(len(self))
            if step == 1 and start < stop:
                part, local = self.locate(start)
                if stop <= self.offsets[part + 1]:  # within one part: one slice of it
                    return list(self.parts[part][local:local + stop - start])
            return [self[j] for j in range(start, stop, step)]
        if i < 0:
            i += len(self)
        if not 0 <= i < len(self):
            raise IndexError(i)
        part, local = self.locate(i)
        return self.parts[part][local]

    def __iter__(self) -> Iterator:
        for part in self.parts:
            yield from part

    def within_part(self, start: int, stop: int):
        """Items start…stop as their part slices them (an array for arrays), when one part holds
        them all (a release's rows always are in one segment)."""
        part, local = self.locate(start)
        if stop > self.offsets[part + 1]:
            raise IndexError(f"{start}:{stop} spans two parts")
        return self.parts[part][local:local + stop - start]


class Passages(Sequence):
    """The passages of a build, in index order (a vector's position is its passage's)."""

    def __init__(self, rows: Rows):
        self._rows = rows

    def __len__(self) -> int:
        return len(self._rows)

    def __getitem__(self, i):
        if isinstance(i, slice):
            return [Passage(**row) for row in self._rows[i]]
        return Passage(**self._rows[i])

    def __iter__(self) -> Iterator[Passage]:
        return (Passage(**row) for row in self._rows)


# What is kept in memory of every release: all but its text (filters, the list of releases).
_HEADER_FIELDS = tuple(f.name for f in fields(Document) if f.name != "text")


@dataclass(frozen=True, slots=True)
class Header:
    """A release without its text: what a filter or the list of releases reads."""
    id: str
    source: str
    title: str | None
    date: str | None
    place: str | None
    sha256: str
    url: str | None = None
    notices: tuple[str, ...] = ()
    date_source: str | None = None

    @classmethod
    def from_row(cls, row: dict) -> "Header":
        return cls(**row | {"notices": tuple(row["notices"])})

    @classmethod
    def of(cls, document: Document) -> "Header":
        return cls(**{name: getattr(document, name) for name in _HEADER_FIELDS if name != "notices"},
                   notices=tuple(document.notices))

    def to_row(self) -> dict:
        return {name: getattr(self, name) for name in _HEADER_FIELDS} | {"notices": list(self.notices)}


class StoredDocument(Document):
    """A release as a build stored it: its header, and its text read from the build each time it
    is asked for (a build that changes one release of many reads the texts of the few it
    concerns only)."""
    __slots__ = ("_header", "_rows", "_position")

    def __init__(self, header: Header, rows: Sequence, position: int):
        object.__setattr__(self, "_header", header)
        object.__setattr__(self, "_rows", rows)
        object.__setattr__(self, "_position", position)

    @property
    def text(self) -> str:
        return self._rows[self._position]["text"]

    @property
    def notices(self) -> list[str]:
        return list(self._header.notices)


for _name in _HEADER_FIELDS:
    if _name != "notices":
        setattr(StoredDocument, _name, property(attrgetter(f"_header.{_name}")))


class Documents(Mapping):
    """Document id → the release as indexed, its text read when asked for (the last few kept).
    `headers` holds every release of the build's segments without its text, in position order,
    deleted ones too (`alive` says which are not: None when all are); the mapping holds only the
    live ones."""

    CACHED = 256

    def __init__(self, rows: Sequence, headers: list[Header], alive: np.ndarray | None = None):
        if len(rows) != len(headers):
            raise ValueError(f"{len(headers)} en-têtes pour {len(rows)} documents")
        self._rows = rows
        self.headers = headers
        self.alive = alive
        self.position = {header.id: i for i, header in enumerate(headers) if alive is None or alive[i]}
        self._read = lru_cache(maxsize=self.CACHED)(lambda i: Document(**self._rows[i]))

    def __getitem__(self, doc_id: str) -> Document:
        return self._read(self.position[doc_id])

    def __contains__(self, doc_id) -> bool:
        return doc_id in self.position

    def __iter__(self) -> Iterator[str]:
        return iter(self.position)

    def __len__(self) -> int:
        return len(self.position)

    def header(self, doc_id: str) -> Header:
        return self.headers[self.position[doc_id]]

    def listed(self) -> Iterator[Header]:
        """The live releases' headers, in position order."""
        return (self.headers[i] for i in self.position.values())

    def stored(self) -> Iterator[StoredDocument]:
        """Every live release, its text read when asked for (what a build reuses)."""
        return (StoredDocument(self.headers[i], self._rows, i) for i in self.position.values())


@dataclass(frozen=True, slots=True)
class Sentences:
    """The sentences of every release, computed once at index time, in index order of their
    releases and, within a release, in text order: where each is (columns held in memory), its
    vector (memory-mapped) and its terms and named entities (`rows`, read when asked for)."""
    rows: Rows  # {"doc_id", "start", "end", "key", "terms", "entities": [[label, text], …]}
    vectors: Stacked  # one L2-normalised row per sentence (each segment's memory-mapped array)
    start: np.ndarray  # int64, where each sentence starts in its release
    end: np.ndarray
    bounds: np.ndarray  # int64, release position → its first row; the next release's first ends it
    position: Mapping[str, int]  # release id → its position

    def of_document(self, doc_id: str) -> range:
        """A release's rows, in text order (empty for a release the build does not know)."""
        at = self.position.get(doc_id)
        return range(0) if at is None else range(int(self.bounds[at]), int(self.bounds[at + 1]))

    def starts(self, doc_id: str) -> np.ndarray:
        rows = self.of_document(doc_id)
        return self.start[rows.start:rows.stop]

    def row(self, doc_id: str, start: int) -> int | None:
        """The row of the sentence of a release starting at `start`, None when none does."""
        rows = self.of_document(doc_id)
        at = rows.start + int(np.searchsorted(self.start[rows.start:rows.stop], start))
        return at if at < rows.stop and int(self.start[at]) == start else None

    def in_passage(self, passage: Passage) -> range:
        """The rows of the sentences inside a passage (starting and ending in it), in text order."""
        rows = self.of_document(passage.doc_id)
        starts = self.start[rows.start:rows.stop]
        first = rows.start + int(np.searchsorted(starts, passage.start, side="left"))
        last = rows.start + int(np.searchsorted(starts, passage.end, side="right"))
        while last > first and int(self.end[last - 1]) > passage.end:
            last -= 1
        return range(first, last)

    def vectors_of(self, rows: range) -> np.ndarray:
        """The vectors of consecutive rows of one release, as one array (no copy)."""
        if not rows:
            dim = self.vectors.parts[0].shape[1] if self.vectors.parts else 0
            return np.empty((0, dim), dtype=np.float32)
        return self.vectors.within_part(rows.start, rows.stop)

    def terms(self, row: int) -> list[str]:
        return self.rows[row]["terms"]
