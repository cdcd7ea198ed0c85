"""What a build decides over the whole corpus (repeated text, stories), from tables each segment stores.

Which sentences a release leaves out as said elsewhere (qa.reading.boilerplate.Repeats) is decided
over the whole corpus: the releases holding a sentence, the first of them by file name, and for
the long ones, the sentences 90 % inside another. A change of one release alters the decisions of
a few others only, but finding them with Repeats means building it over every release. So each
segment stores, for its releases, the tables those questions read (`tables`, `RepeatTables`), and
`StoredRepeats` answers them over a build's segments, without the releases a build removes and
with those it adds: the answers a Repeats over the same releases gives (tests/indexing/
test_incremental checks that incremental builds equal builds from scratch). Sentences and terms
are known by 64-bit digests.
"""
from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from itertools import combinations

from ..reading.boilerplate import CONTAINED, LONG_TERMS, MIN_TERMS, Analysis, Key, dropped_spans
from ..reading.stories import RARE_FIGURE, Stories, assemble, decide, decided, shared_limit, story_keys
from .files import save_array

FOLDER = "repeats"
_NAMES = ("key", "key_release", "long_key", "long_release", "long_size", "long_offsets", "long_terms",
          "posting_term", "posting_long", "pair", "pair_long")
_MIX = np.uint64(0x9E3779B97F4A7C15)


def digest(text: str) -> int:
    return int.from_bytes(hashlib.blake2b(text.encode("utf-8"), digest_size=8).digest(), "little")


def key_digest(key: Key) -> int:
    return digest("\x1f".join(key))


def _pairs(hashes: np.ndarray) -> np.ndarray:
    """One digest for each pair of (sorted) term digests."""
    first, second = np.triu_indices(len(hashes), k=1)
    with np.errstate(over="ignore"):
        return hashes[first] ^ (hashes[second] * _MIX + np.uint64(1))


@dataclass(frozen=True, slots=True)
class _Sentences:
    """A release's compared sentences: each distinct key once, its digest, and for the long ones
    the sorted digests of their terms."""
    keys: list[tuple[int, Key]]
    long: dict[int, np.ndarray]

    @classmethod
    def of(cls, analysis_terms, term_digest: Callable[[str], int]) -> "_Sentences":
        keys, long, seen = [], {}, set()
        for found in analysis_terms:
            key = tuple(found)
            words = set(key)
            if len(words) < MIN_TERMS or key in seen:
                continue
            seen.add(key)
            digest_of = key_digest(key)
            keys.append((digest_of, key))
            if len(words) >= LONG_TERMS:
                long[digest_of] = np.unique(np.fromiter((term_digest(t) for t in words), dtype=np.uint64,
                                                        count=len(words)))
        return cls(keys, long)


class _TermDigests(dict):
    def __missing__(self, term: str) -> int:
        found = self[term] = digest(term)
        return found


def tables(analysis_rows: list[dict]) -> dict[str, np.ndarray]:
    """The tables a segment stores of its releases' analyses (rows in segment order): every
    compared sentence's digest and release, sorted; the long ones with their terms (by offsets),
    the postings of those terms, and each long sentence's signature pairs (any `missing + 2` of its
    terms: a sentence holding 90 % of it holds two of them)."""
    term_digest = _TermDigests()
    keys, key_release, long_key, long_release, sizes, terms = [], [], [], [], [], []
    for position, row in enumerate(analysis_rows):
        found = _Sentences.of(row["terms"], term_digest.__getitem__)
        for digest_of, _ in found.keys:
            keys.append(digest_of)
            key_release.append(position)
        for digest_of, hashes in found.long.items():
            long_key.append(digest_of)
            long_release.append(position)
            sizes.append(len(hashes))
            terms.append(hashes)
    order = np.argsort(np.asarray(keys, dtype=np.uint64), kind="stable")
    out = {"key": np.asarray(keys, dtype=np.uint64)[order], "key_release": np.asarray(key_release, dtype=np.int32)[order],
           "long_key": np.asarray(long_key, dtype=np.uint64), "long_release": np.asarray(long_release, dtype=np.int32),
           "long_size": np.asarray(sizes, dtype=np.int32),
           "long_offsets": np.concatenate([[0], np.cumsum(sizes, dtype=np.int64)]).astype(np.int64),
           "long_terms": np.concatenate(terms) if terms else np.empty(0, dtype=np.uint64)}
    owner = np.repeat(np.arange(len(sizes), dtype=np.int32), sizes)
    order = np.argsort(out["long_terms"], kind="stable")
    out["posting_term"], out["posting_long"] = out["long_terms"][order], owner[order]
    # Signature terms: the rarest in this segment (any choice is right; rare ones are selective).
    values, times = np.unique(out["long_terms"], return_counts=True)
    counts = dict(zip(values.tolist(), times.tolist()))
    pairs, pair_long = [], []
    for number, hashes in enumerate(terms):
        missing = int(len(hashes) * (1 - CONTAINED))
        chosen = np.sort(np.asarray(sorted(hashes.tolist(), key=lambda h: (counts[h], h))[:missing + 2],
                                    dtype=np.uint64))
        found = _pairs(chosen)
        pairs.append(found)
        pair_long.append(np.full(len(found), number, dtype=np.int32))
    pair = np.concatenate(pairs) if pairs else np.empty(0, dtype=np.uint64)
    pair_long = np.concatenate(pair_long) if pair_long else np.empty(0, dtype=np.int32)
    order = np.argsort(pair, kind="stable")
    out["pair"], out["pair_long"] = pair[order], pair_long[order]
    return out


def write_tables(folder: Path, analysis_rows: list[dict]) -> None:
    (folder / FOLDER).mkdir()
    for name, array in tables(analysis_rows).items():
        save_array(folder / FOLDER / f"{name}.npy", array)


def _ranges(starts: np.ndarray, stops: np.ndarray) -> np.ndarray:
    """Every position of the ranges [start, stop), range after range, at once."""
    sizes = stops - starts
    return np.arange(int(sizes.sum()), dtype=np.int64) - np.repeat(np.cumsum(sizes) - sizes, sizes) \
        + np.repeat(starts, sizes)


def _matching(keys: np.ndarray, values: np.ndarray, key) -> np.ndarray:
    """The values stored beside `key` in a sorted table."""
    key = np.uint64(key)
    return np.asarray(values[np.searchsorted(keys, key, "left"):np.searchsorted(keys, key, "right")])


class RepeatTables:
    """A segment's tables, memory-mapped (a build reads only the rows its questions touch); or the
    same tables of the releases a build adds, in memory (`of_rows`)."""

    def __init__(self, folder: Path | None):
        if folder is not None:
            for name in _NAMES:
                setattr(self, name, np.load(folder / FOLDER / f"{name}.npy", allow_pickle=False, mmap_mode="r"))

    @classmethod
    def of_rows(cls, analysis_rows: list[dict]) -> "RepeatTables":
        found = cls(None)
        for name, array in tables(analysis_rows).items():
            setattr(found, name, array)
        return found

    def holders(self, digest_of: int) -> np.ndarray:
        """The positions of the releases holding a compared sentence."""
        return _matching(self.key, self.key_release, digest_of)

    def with_pairs(self, pairs: np.ndarray) -> np.ndarray:
        """The long sentences one of whose signature pairs is among `pairs` (sorted, unique)."""
        left = np.searchsorted(self.pair, pairs, "left")
        right = np.searchsorted(self.pair, pairs, "right")
        return np.unique(np.asarray(self.pair_long[_ranges(left, right)]))

    def shared_counts(self, longs: np.ndarray, words: np.ndarray) -> np.ndarray:
        """How many of `words` (sorted, unique) each long sentence of `longs` holds, at once."""
        if not len(longs):
            return np.zeros(0, dtype=np.int64)
        starts, stops = self.long_offsets[longs], self.long_offsets[longs + 1]
        rows = np.repeat(np.arange(len(longs)), stops - starts)
        held = np.isin(np.asarray(self.long_terms[_ranges(starts, stops)]), words)
        return np.bincount(rows, weights=held, minlength=len(longs)).astype(np.int64)

    def with_terms(self, terms: np.ndarray) -> np.ndarray:
        """The long sentences holding each of `terms`, term after term (a sentence once a term)."""
        return np.asarray(self.posting_long[_ranges(np.searchsorted(self.posting_term, terms, "left"),
                                                    np.searchsorted(self.posting_term, terms, "right"))])

    def term_counts(self, terms: np.ndarray) -> np.ndarray:
        """How many long sentences hold each of `terms`."""
        return np.searchsorted(self.posting_term, terms, "right") - np.searchsorted(self.posting_term, terms, "left")


@dataclass(slots=True)
class _Part:
    """A stored segment as the build sees it: its tables, its releases, and which are live
    before the build (`before`) and once its removals are done (`after`)."""
    tables: "RepeatTables | StoryKeys"
    ids: list[str]
    before: np.ndarray
    after: np.ndarray


class _Holders:
    """Which releases hold a digest in a build's stored segments (`parts`: (tables, headers,
    releases deleted so far)), without the releases `gone` (removed or changed by this build),
    with the new ones (`new_holders`, filled by the caller). States: "before" (the previous build),
    "removed" (without the gone releases) and "after" (with the new ones)."""

    def __init__(self, parts, gone: set[str]):
        self.parts: list[_Part] = []
        self.source: dict[str, str] = {}  # doc id → file name, of every release stored or new
        for tables_of, headers, deleted in parts:
            ids = [h.id for h in headers]
            self.source.update((h.id, h.source) for h in headers)
            before = np.fromiter((i not in deleted for i in ids), dtype=bool, count=len(ids))
            after = before & np.fromiter((i not in gone for i in ids), dtype=bool, count=len(ids))
            self.parts.append(_Part(tables_of, ids, before, after))
        self.new_holders: dict[int, set[str]] = defaultdict(set)

    def holders(self, digest_of: int, state: str = "after") -> set[str]:
        found = set()
        for part in self.parts:
            alive = part.before if state == "before" else part.after
            found.update(part.ids[p] for p in part.tables.holders(digest_of) if alive[p])
        if state == "after":
            found |= self.new_holders.get(digest_of, set())
        return found


class StoredRepeats(_Holders):
    """Repeats over a build's stored segments and its new releases ((doc id, source, Analysis)),
    in the states of _Holders."""

    def __init__(self, parts, gone: set[str], new: list[tuple[str, str, Analysis]]):
        super().__init__(parts, gone)
        self.term_digest = _TermDigests()
        self.new: set[str] = set()
        for doc_id, source, analysis in new:
            self.new.add(doc_id)
            self.source[doc_id] = source
            for digest_of, _ in _Sentences.of(analysis.terms, self.term_digest.__getitem__).keys:
                self.new_holders[digest_of].add(doc_id)
        # The new releases' long sentences, with the postings and signature pairs a segment stores:
        # looked up, not compared one by one (a build adding a thousand releases compares each of
        # their sentences with the few that share its rare terms, not with all of them).
        self.new_long = RepeatTables.of_rows([analysis.to_row() for _, _, analysis in new])

    def _long_tables(self) -> list[tuple[RepeatTables, np.ndarray | None]]:
        """Every table of long sentences, with which of its releases are live after the build
        (None: all, the new releases')."""
        return [(part.tables, part.after) for part in self.parts] + [(self.new_long, None)]

    def first(self, digest_of: int, state: str = "after") -> str | None:
        """The holder that keeps a sentence: the first by file name."""
        return min(self.holders(digest_of, state), key=self.source.__getitem__, default=None)

    def words(self, key: Key) -> np.ndarray:
        return np.unique(np.fromiter((self.term_digest[t] for t in set(key)), dtype=np.uint64))

    def inside(self, words: np.ndarray) -> set[int]:
        """The long sentences (digests) of the "after" state that a sentence of these terms holds
        90 % of."""
        found = set()
        pairs = np.unique(_pairs(words))
        for tables_of, alive in self._long_tables():
            longs = tables_of.with_pairs(pairs)
            if alive is not None:
                longs = longs[alive[tables_of.long_release[longs]]]
            inside = tables_of.shared_counts(longs, words) >= CONTAINED * tables_of.long_size[longs]
            found.update(int(k) for k in tables_of.long_key[longs[inside]])
        return found

    def keys(self, analysis: Analysis) -> list[tuple[int, Key]]:
        """A release's compared sentences, each once: (digest, key)."""
        return _Sentences.of(analysis.terms, self.term_digest.__getitem__).keys

    def concerned(self, changed: set[str], firsts: dict[int, tuple[Key, str | None]], stories: set[str],
                  analysis_of: Callable[[str], Analysis]) -> set[str]:
        """Repeats.concerned over the "after" state (`firsts`: digest → (key, first holder before))."""
        present = self._present()
        found = {doc_id for doc_id in changed if doc_id in present}
        for digest_of, (key, before) in firsts.items():
            if self.first(digest_of) != before:
                found |= self.holders(digest_of)
                if len(set(key)) >= LONG_TERMS:
                    found |= {self.first(inner) for inner in self.inside(self.words(key))}
        for doc_id in stories:
            if doc_id not in present:
                continue
            found.add(doc_id)
            for digest_of, key in self.keys(analysis_of(doc_id)):
                if self.first(digest_of) == doc_id:
                    found |= self.holders(digest_of)
                    if len(set(key)) >= LONG_TERMS:
                        found |= {self.first(inner) for inner in self.inside(self.words(key))}
        return found

    def _present(self) -> set[str]:
        present = set(self.new)
        for part in self.parts:
            present.update(i for i, alive in zip(part.ids, part.after) if alive)
        return present

    def dropped(self, doc_id: str, source: str, analysis: Analysis,
                together: Callable[[str, str], bool] | None = None) -> list:
        """Repeats.dropped over the "after" state."""
        together = together or (lambda a, b: False)
        compared = [(span, tuple(found)) for span, found in zip(analysis.spans, analysis.terms)
                    if len(set(found)) >= MIN_TERMS]
        return dropped_spans(doc_id, compared, lambda key: self.first(key_digest(key)), together,
                             lambda key: self._said_better(key, key_digest(key), doc_id, source, together))

    def _said_better(self, key: Key, digest_of: int, doc_id: str, source: str,
                     together: Callable[[str, str], bool]) -> bool:
        words = self.words(key)
        missing = int(len(words) * (1 - CONTAINED))
        figures = np.unique(np.fromiter((self.term_digest[t] for t in set(key) if any(c.isdigit() for c in t)),
                                        dtype=np.uint64))
        counts = sum((part.tables.term_counts(words) for part in self.parts), np.zeros(len(words), dtype=np.int64))
        rarest = words[np.argsort(counts, kind="stable")[:missing + 2]]
        # The long sentences holding two of the rarest terms, longer than this one (or as long,
        # from a release sorting first), holding 90 % of it and every figure it gives.
        candidates: dict[int, int] = {}  # digest → its size
        for tables_of, alive in self._long_tables():
            longs, times = np.unique(tables_of.with_terms(rarest), return_counts=True)
            longs = longs[times >= 2]
            if alive is not None:
                longs = longs[alive[tables_of.long_release[longs]]]
            sizes = tables_of.long_size[longs]
            longs, sizes = longs[sizes >= len(words)], sizes[sizes >= len(words)]
            enough = (tables_of.shared_counts(longs, words) >= CONTAINED * len(words)) \
                & (tables_of.shared_counts(longs, figures) == len(figures))
            candidates.update(zip((int(k) for k in tables_of.long_key[longs[enough]]), (int(n) for n in sizes[enough])))
        candidates.pop(digest_of, None)
        for other_digest, size in candidates.items():
            holder = self.first(other_digest)
            if holder == doc_id or together(holder, doc_id):
                continue
            if size > len(words) or self.source[holder] < source:
                return True
        return False


# Stories (qa.reading.stories): releases are compared when they share a key (story_keys) that few
# releases share (shared_limit). Each segment stores its releases' keys, so that a change decides
# again only the pairs sharing a key it touches; the other pairs keep the previous build's decision.
STORY_FOLDER = "stories"


def story_digest(kind: str, value: str) -> int:
    return digest(f"{kind}\x1f{value}")


def write_story_keys(folder: Path, keys_by_release: list[list[tuple[str, str]]]) -> None:
    """The digests of each release's story keys (releases in segment order), sorted."""
    found = [(story_digest(kind, value), position) for position, keys in enumerate(keys_by_release)
             for kind, value in set(keys)]
    key = np.asarray([k for k, _ in found], dtype=np.uint64)
    release = np.asarray([p for _, p in found], dtype=np.int32)
    order = np.argsort(key, kind="stable")
    (folder / STORY_FOLDER).mkdir()
    save_array(folder / STORY_FOLDER / "key.npy", key[order])
    save_array(folder / STORY_FOLDER / "release.npy", release[order])


class StoryKeys:
    """A segment's story keys, memory-mapped."""

    def __init__(self, folder: Path):
        self.key = np.load(folder / STORY_FOLDER / "key.npy", allow_pickle=False, mmap_mode="r")
        self.release = np.load(folder / STORY_FOLDER / "release.npy", allow_pickle=False, mmap_mode="r")

    def holders(self, digest_of: int) -> np.ndarray:
        return _matching(self.key, self.release, digest_of)


def updated_stories(previous: Stories, parts, gone: set[str], new: list, keys_before: Callable[[str], list],
                    document_of: Callable, signature_of: Callable) -> Stories:
    """What stories() gives over the build's releases, from the previous build's decided pairs
    (`previous.links`): the pairs sharing a key of a release removed or changed (`gone`, its keys
    `keys_before(doc id)`) or added (`new`: (Document, Signature)) are decided again, as are the
    pairs whose key crosses its limit; `parts`: (StoryKeys, headers, releases deleted so far) of
    each stored segment; `document_of`, `signature_of`: by doc id, for the releases of the build."""
    stored = _Holders(parts, gone)
    keys: dict[str, dict[int, str]] = {}  # doc id → the digests of its story keys → their kind
    for document, signed in new:
        keys[document.id] = {story_digest(kind, value): kind for kind, value in story_keys(document, signed)}
        for digest_of in keys[document.id]:
            stored.new_holders[digest_of].add(document.id)
    counts: dict[int, int] = {}

    def count(digest_of: int) -> int:
        if digest_of not in counts:
            counts[digest_of] = len(stored.holders(digest_of))
        return counts[digest_of]

    affected = {story_digest(kind, value): kind for doc_id in gone for kind, value in keys_before(doc_id)}
    for found in keys.values():
        affected.update(found)
    pairs = set()
    for digest_of, kind in affected.items():
        for state in ("before", "after"):
            found = stored.holders(digest_of, state)
            if 1 < len(found) <= shared_limit(kind):
                pairs.update(combinations(sorted(found), 2))
    links = previous.links or {"copies": [], "superseded": []}
    copies = [pair for pair in links["copies"] if tuple(pair) not in pairs and not set(pair) & gone]
    superseded = [row for row in links["superseded"] if tuple(row[:2]) not in pairs and not set(row[:2]) & gone]

    def keys_of(doc_id: str) -> dict[int, str]:
        if doc_id not in keys:
            keys[doc_id] = {story_digest(kind, value): kind
                            for kind, value in story_keys(document_of(doc_id), signature_of(doc_id))}
        return keys[doc_id]

    def rare(figure: str) -> bool:
        return count(story_digest("figure", figure)) <= RARE_FIGURE

    def decide_again(a: str, b: str) -> tuple | None:
        if document_of(a) is None or document_of(b) is None:
            return None  # a release the build no longer holds
        keys_a, keys_b = keys_of(a), keys_of(b)
        if not any(1 < count(k) <= shared_limit(kind) for k, kind in keys_a.items() if k in keys_b):
            return None
        return decide(document_of(a), document_of(b), signature_of(a), signature_of(b), rare)
    linked, versions = decided(pairs, decide_again)
    return assemble(copies + linked, superseded + versions)
