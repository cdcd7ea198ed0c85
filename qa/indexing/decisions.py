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

from ..reading.chunking import Span
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
    def of(cls, analysis_terms, term_digest: Callable[[str], int], long_terms: bool = True) -> "_Sentences":
        """`long_terms`: whether the long sentences' terms are wanted (else `long` stays empty)."""
        keys, long, seen = [], {}, set()
        for found in analysis_terms:
            key = tuple(found)
            words = set(key)
            if len(words) < MIN_TERMS or key in seen:
                continue
            seen.add(key)
            digest_of = key_digest(key)
            keys.append((digest_of, key))
            if long_terms and len(words) >= LONG_TERMS:
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
        return self.holders_of(np.asarray([digest_of], dtype=np.uint64), state)[0]

    def holders_of(self, digests: np.ndarray, state: str = "after") -> list[set[str]]:
        """The holders of each of `digests`, looked up at once in each stored table."""
        found: list[set[str]] = [set() for _ in range(len(digests))]
        for part in self.parts:
            alive = part.before if state == "before" else part.after
            query, release = _lookup(part.tables.key, part.tables.key_release, digests)
            for q, p in zip(query[alive[release]].tolist(), release[alive[release]].tolist()):
                found[q].add(part.ids[p])
        if state == "after":
            for holders, digest_of in zip(found, digests.tolist()):
                holders |= self.new_holders.get(digest_of, set())
        return found


class StoredRepeats(_Holders):
    """Repeats over a build's stored segments and its new releases ((doc id, source, Analysis)),
    in the states of _Holders, asked for a whole change at once: every sentence a change touches
    is looked up in one pass over each table (sorted lookups of arrays), not one by one (a batch
    of 25,000 releases holds a million sentences)."""

    def __init__(self, parts, gone: set[str], new: list[tuple[str, str, Analysis]]):
        super().__init__(parts, gone)
        self.term_digest = _TermDigests()
        self.new: list[str] = []
        for doc_id, source, _ in new:
            self.new.append(doc_id)
            self.source[doc_id] = source
        # Every release by rank: the order of file names, the one that picks a sentence's keeper.
        self.by_rank = sorted(self.source, key=lambda doc_id: (self.source[doc_id], doc_id))
        self.rank = {doc_id: number for number, doc_id in enumerate(self.by_rank)}
        self.none = len(self.by_rank)  # the rank of no holder
        self.ranks = [np.fromiter((self.rank[i] for i in part.ids), dtype=np.int64, count=len(part.ids))
                      for part in self.parts]
        # The new releases' sentences, in the tables a segment stores of its own.
        self.new_tables = RepeatTables.of_rows([analysis.to_row() for _, _, analysis in new])
        self.new_ranks = np.fromiter((self.rank[i] for i in self.new), dtype=np.int64, count=len(self.new))

    def _tables(self, state: str = "after") -> list[tuple[RepeatTables, np.ndarray | None, np.ndarray]]:
        """Every table of the state, with which of its releases are live there (None: all) and
        their ranks."""
        found = [(part.tables, part.before if state == "before" else part.after, ranks)
                 for part, ranks in zip(self.parts, self.ranks)]
        return found + [(self.new_tables, None, self.new_ranks)] if state == "after" else found

    def _holding(self, digests: np.ndarray, state: str = "after") -> tuple[np.ndarray, np.ndarray]:
        """Every holder of each of `digests`: (index in `digests`, holder's rank) pairs."""
        queries, ranks = [np.zeros(0, dtype=np.int64)], [np.zeros(0, dtype=np.int64)]
        for tables_of, alive, ranks_of in self._tables(state):
            query, release = _lookup(tables_of.key, tables_of.key_release, digests)
            if alive is not None:
                query, release = query[alive[release]], release[alive[release]]
            queries.append(query)
            ranks.append(ranks_of[release])
        return np.concatenate(queries), np.concatenate(ranks)

    def first_ranks(self, digests: np.ndarray, state: str = "after") -> np.ndarray:
        """The rank of each sentence's keeper, the first holder by file name (`none`: no holder)."""
        query, ranks = self._holding(digests, state)
        out = np.full(len(digests), self.none, dtype=np.int64)
        np.minimum.at(out, query, ranks)
        return out

    def _keys(self, analysis: Analysis) -> list[tuple[int, Key]]:
        """A release's compared sentences, each once: (digest, key)."""
        return _Sentences.of(analysis.terms, self.term_digest.__getitem__, long_terms=False).keys

    def _words(self, key: Key) -> np.ndarray:
        return np.unique(np.fromiter((self.term_digest[t] for t in set(key)), dtype=np.uint64))

    def concerned(self, changed: set[str], gone: list[Analysis], added: list[Analysis], stories: set[str],
                  analysis_of: Callable[[str], Analysis]) -> set[str]:
        """Repeats.concerned over the "after" state: the sentences of the releases gone (keepers
        in the previous build) and added (keepers once the gone ones are removed) whose keeper
        changes, their holders, and the keepers of the long sentences inside them; around the
        releases whose stories changed (`stories`), the releases they keep a sentence for."""
        present = self._present()
        found = {doc_id for doc_id in changed if doc_id in present}
        touched: dict[int, Key] = {}
        states: list[np.ndarray] = []
        for analyses, state in ((gone, "before"), (added, "removed")):
            fresh = {digest_of: key for analysis in analyses for digest_of, key in self._keys(analysis)
                     if digest_of not in touched}
            touched.update(fresh)
            states.append(self.first_ranks(np.fromiter(fresh, dtype=np.uint64, count=len(fresh)), state))
        digests = np.fromiter(touched, dtype=np.uint64, count=len(touched))
        keys = list(touched.values())
        moved = np.flatnonzero(np.concatenate(states) != self.first_ranks(digests))
        kept_for = [(digests[moved], [keys[i] for i in moved])]
        for doc_id in stories:
            if doc_id not in present:
                continue
            found.add(doc_id)
            own = self._keys(analysis_of(doc_id))
            mine = np.fromiter((d for d, _ in own), dtype=np.uint64, count=len(own))
            held = np.flatnonzero(self.first_ranks(mine) == self.rank[doc_id])
            kept_for.append((mine[held], [own[i][1] for i in held]))
        digests = np.concatenate([d for d, _ in kept_for])
        keys = [key for _, found_keys in kept_for for key in found_keys]
        found.update(self.by_rank[r] for r in np.unique(self._holding(digests)[1]))
        inner = self._inside([self._words(key) for key in keys if len(set(key)) >= LONG_TERMS])
        found.update(self.by_rank[r] for r in np.unique(self.first_ranks(inner)) if r != self.none)
        return found

    def _present(self) -> set[str]:
        present = set(self.new)
        for part in self.parts:
            present.update(i for i, alive in zip(part.ids, part.after) if alive)
        return present

    def _inside(self, words: list[np.ndarray]) -> np.ndarray:
        """The long sentences (digests) of the "after" state that a sentence of one of these term
        sets holds 90 % of: found by their signature pairs, among every pair of its terms."""
        found = [np.zeros(0, dtype=np.uint64)]
        for start in range(0, len(words), _CHUNK):
            asked = _Terms.of(words[start:start + _CHUNK])
            pairs = [_pairs(w) for w in asked.sets]
            pair = np.concatenate(pairs) if pairs else np.zeros(0, dtype=np.uint64)
            owner = np.repeat(np.arange(len(pairs), dtype=np.int64), [len(p) for p in pairs])
            for tables_of, alive, _ in self._tables():
                at, longs = _lookup(tables_of.pair, tables_of.pair_long, pair)
                query, longs = _distinct(owner[at], longs)
                if alive is not None:
                    keep = alive[tables_of.long_release[longs]]
                    query, longs = query[keep], longs[keep]
                inside = asked.held(tables_of, query, longs) >= CONTAINED * tables_of.long_size[longs]
                found.append(np.asarray(tables_of.long_key[longs[inside]]))
        return np.unique(np.concatenate(found))

    def dropped(self, releases: list[tuple[str, str, Analysis]],
                together: Callable[[str, str], bool] | None = None) -> dict[str, list[Span]]:
        """Repeats.dropped over the "after" state, for each of `releases` ((doc id, source,
        Analysis)) at once: doc id → the spans it leaves out."""
        together = together or (lambda a, b: False)
        compared = {doc_id: [(span, tuple(found)) for span, found in zip(analysis.spans, analysis.terms)
                             if len(set(found)) >= MIN_TERMS] for doc_id, _, analysis in releases}
        digest_of = {key: key_digest(key) for sentences in compared.values() for _, key in sentences}
        digests = np.fromiter(digest_of.values(), dtype=np.uint64, count=len(digest_of))
        keeper = dict(zip(digest_of.values(), (self.by_rank[r] if r != self.none else None
                                               for r in self.first_ranks(digests).tolist())))
        # The long sentences a release keeps: the ones a longer sentence elsewhere may say better.
        asked = [(doc_id, source, key) for doc_id, source, _ in releases
                 for key in {key for _, key in compared[doc_id]}
                 if len(set(key)) >= LONG_TERMS and keeper[digest_of[key]] == doc_id]
        better = self._said_better(asked, [digest_of[key] for _, _, key in asked], together)
        return {doc_id: dropped_spans(doc_id, compared[doc_id], lambda key: keeper[digest_of[key]], together,
                                      lambda key, doc_id=doc_id: (doc_id, key) in better)
                for doc_id, _, _ in releases}

    def _said_better(self, asked: list[tuple[str, str, Key]], digests: list[int],
                     together: Callable[[str, str], bool]) -> set[tuple[str, Key]]:
        """Which of the long sentences `asked` ((doc id, source, key)) a longer sentence of another
        release (or one as long, from a release sorting first) holds 90 % of, with every figure
        it gives: found among the long sentences holding two of its `missing + 2` rarest terms."""
        better = set()
        counts = _Counts(self._tables())
        for start in range(0, len(asked), _CHUNK):
            chunk = asked[start:start + _CHUNK]
            words = _Terms.of([self._words(key) for _, _, key in chunk])
            figures = _Terms.of([self._words(tuple(t for t in set(key) if any(c.isdigit() for c in t)))
                                 for _, _, key in chunk])
            rarest, owner = words.rarest(counts, lambda size: int(size * (1 - CONTAINED)) + 2)
            candidates = []  # (query, digest, size) of the long sentences that say a query as well
            for tables_of, alive, _ in self._tables():
                at, longs = _lookup(tables_of.posting_term, tables_of.posting_long, rarest)
                query, longs, times = _distinct(owner[at], longs, counts=True)
                query, longs = query[times >= 2], longs[times >= 2]
                if alive is not None:
                    keep = alive[tables_of.long_release[longs]]
                    query, longs = query[keep], longs[keep]
                sizes = np.asarray(tables_of.long_size[longs])
                keep = sizes >= words.sizes[query]
                query, longs, sizes = query[keep], longs[keep], sizes[keep]
                keep = (words.held(tables_of, query, longs) >= CONTAINED * words.sizes[query]) \
                    & (figures.held(tables_of, query, longs) == figures.sizes[query])
                candidates.append((query[keep], np.asarray(tables_of.long_key[longs[keep]]), sizes[keep]))
            query = np.concatenate([c[0] for c in candidates])
            other = np.concatenate([c[1] for c in candidates])
            size = np.concatenate([c[2] for c in candidates])
            own = np.fromiter(digests[start:start + _CHUNK], dtype=np.uint64, count=len(chunk))
            keep = other != own[query]
            query, other, size = query[keep], other[keep], size[keep]
            unique, back = np.unique(other, return_inverse=True)
            holders = self.first_ranks(unique)[back]
            for q, holder_rank, other_size in zip(query.tolist(), holders.tolist(), size.tolist()):
                doc_id, source, key = chunk[q]
                holder = self.by_rank[holder_rank]
                if holder == doc_id or together(holder, doc_id):
                    continue
                if other_size > words.sizes[q] or self.source[holder] < source:
                    better.add((doc_id, key))
        return better


_CHUNK = 50_000  # sentences looked up at once (what bounds the memory of a large change)


def _lookup(keys: np.ndarray, values: np.ndarray, asked: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Every value stored beside each of `asked` in a sorted table: (index in `asked`, value) pairs,
    in no particular order. Asked in sorted order: each search starts where the last one ended."""
    order = np.argsort(asked, kind="stable")
    found = asked[order]
    left, right = np.searchsorted(keys, found, "left"), np.searchsorted(keys, found, "right")
    return np.repeat(order, right - left), np.asarray(values[_ranges(left, right)], dtype=np.int64)


def _distinct(query: np.ndarray, longs: np.ndarray, counts: bool = False):
    """The distinct (query, long sentence) pairs, with how many times each came if `counts`."""
    scale = int(longs.max(initial=0)) + 1
    found = np.unique(query * scale + longs, return_counts=counts)
    pairs, times = found if counts else (found, None)
    out = (pairs // scale, pairs % scale)
    return out + (times,) if counts else out


class _Counts:
    """How many long sentences of the tables hold a term."""

    def __init__(self, tables):
        self.tables = [t for t, _, _ in tables]

    def of(self, terms: np.ndarray) -> np.ndarray:
        return sum((t.term_counts(terms) for t in self.tables), np.zeros(len(terms), dtype=np.int64))


@dataclass(slots=True)
class _Terms:
    """Term sets asked at once (each sorted and unique), flattened: what tells how many of a set's
    terms a long sentence holds, for many (set, sentence) pairs in one pass."""
    sets: list[np.ndarray]
    sizes: np.ndarray
    vocabulary: np.ndarray  # every term of the sets, sorted
    keys: np.ndarray  # (set, term's place in the vocabulary), sorted, one number each

    @classmethod
    def of(cls, sets: list[np.ndarray]) -> "_Terms":
        flat = np.concatenate(sets) if sets else np.zeros(0, dtype=np.uint64)
        vocabulary = np.unique(flat)
        owner = np.repeat(np.arange(len(sets), dtype=np.int64), [len(s) for s in sets])
        keys = owner * (len(vocabulary) + 1) + np.searchsorted(vocabulary, flat)
        return cls(sets, np.fromiter((len(s) for s in sets), dtype=np.int64, count=len(sets)), vocabulary,
                   np.sort(keys))

    def held(self, tables_of: RepeatTables, query: np.ndarray, longs: np.ndarray) -> np.ndarray:
        """How many of set `query[i]`'s terms long sentence `longs[i]` holds, for each i."""
        if not len(longs):
            return np.zeros(0, dtype=np.int64)
        starts, stops = tables_of.long_offsets[longs], tables_of.long_offsets[longs + 1]
        rows = np.repeat(np.arange(len(longs), dtype=np.int64), stops - starts)
        terms = np.asarray(tables_of.long_terms[_ranges(starts, stops)])
        place = np.minimum(np.searchsorted(self.vocabulary, terms), max(len(self.vocabulary) - 1, 0))
        known = self.vocabulary[place] == terms if len(self.vocabulary) else np.zeros(len(terms), dtype=bool)
        wanted = query[rows] * (len(self.vocabulary) + 1) + place
        at = np.minimum(np.searchsorted(self.keys, wanted), max(len(self.keys) - 1, 0))
        held = known & (self.keys[at] == wanted) if len(self.keys) else known
        return np.bincount(rows, weights=held, minlength=len(longs)).astype(np.int64)

    def rarest(self, counts: _Counts, how_many: Callable[[int], int]) -> tuple[np.ndarray, np.ndarray]:
        """Each set's `how_many(its size)` terms held by the fewest long sentences: (terms, set) pairs."""
        flat = np.concatenate(self.sets) if self.sets else np.zeros(0, dtype=np.uint64)
        owner = np.repeat(np.arange(len(self.sets), dtype=np.int64), self.sizes)
        order = np.lexsort((flat, counts.of(flat), owner))
        place = np.arange(len(flat)) - np.repeat(np.cumsum(self.sizes) - self.sizes, self.sizes)
        wanted = np.fromiter((how_many(n) for n in self.sizes.tolist()), dtype=np.int64, count=len(self.sizes))
        keep = order[place < np.repeat(wanted, self.sizes)]
        return flat[keep], owner[keep]


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
        self.key_release = np.load(folder / STORY_FOLDER / "release.npy", allow_pickle=False, mmap_mode="r")


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
    digests = np.fromiter(affected, dtype=np.uint64, count=len(affected))
    for state in ("before", "after"):
        for digest_of, found in zip(affected, stored.holders_of(digests, state)):
            if state == "after":
                counts[digest_of] = len(found)
            if 1 < len(found) <= shared_limit(affected[digest_of]):
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
