"""Text a corpus repeats: said once in the index, not in every release.

Scraped releases carry the same « about the organisation » paragraphs, menus and footers. Indexed
in every release they would match every question about the organisation and push real answers
down; dropped, their facts (« 175 Etats membres ») would be lost. So each repeated sentence is
indexed once: in the release that says it most completely (the longest version of a near-identical
sentence), the first by file name among equals. A sentence that states other figures is not a copy
(« 2 400 kits distribués » in 2019, « 7 800 » in 2022: a time series, not boilerplate). The detection uses only the corpus itself, so it
works on sites never seen; within one release, a sentence said twice is indexed once.
"""
from __future__ import annotations

from collections import defaultdict
from itertools import combinations
from dataclasses import dataclass
from typing import Callable

from .chunking import Span, sentence_spans
from .documents import Document
from .lexical import terms

# Sentences shorter than this (in terms) are never treated as repeated: « Merci. » is not boilerplate.
MIN_TERMS = 6
# A long sentence whose terms are this much inside a longer one elsewhere is a lesser copy of it.
CONTAINED = 0.9
LONG_TERMS = 12


@dataclass(frozen=True, slots=True)
class Analysis:
    """A document's sentences and the terms of each: what finding repeated text and cutting passages
    need, kept with the index so that an unchanged document is not analysed again."""
    sha256: str
    spans: list[Span]
    terms: list[tuple[str, ...]]
    row: dict | None = None  # as read from the index, written back as is

    def to_row(self) -> dict:
        if self.row is not None:
            return self.row
        return {"sha256": self.sha256, "spans": [[s.start, s.end] for s in self.spans],
                "terms": [list(t) for t in self.terms]}

    @classmethod
    def from_row(cls, row: dict) -> "Analysis":
        return cls(row["sha256"], [Span(a, b) for a, b in row["spans"]], [tuple(t) for t in row["terms"]], row)


def analyse(document: Document) -> Analysis:
    spans = sentence_spans(document.text)
    return Analysis(document.sha256, spans, [tuple(terms(document.text[s.start:s.end])) for s in spans])


def repeated_sentences(documents: list[Document], analyses: dict[str, Analysis] | None = None,
                       together: Callable[[str, str], bool] | None = None) -> dict[str, list[Span]]:
    """For each document, the spans of its sentences that another place in the corpus says as well
    or better; those are left out of its passages. `analyses`: document id → its Analysis.
    `together(a, b)`: two documents that are one story (copies, versions): they keep their own
    text, since either may be deleted or superseded. A document never loses all of its text."""
    analyses = analyses or {}
    repeats = Repeats.of([(d.id, d.source, analyses.get(d.id) or analyse(d)) for d in documents])
    found = {doc_id: repeats.dropped(doc_id, together) for doc_id in repeats.documents()}
    return {doc_id: spans for doc_id, spans in found.items() if spans}


Key = tuple  # a sentence's terms, in order: two sentences with the same key say the same thing


def dropped_spans(doc_id: str, compared: list[tuple[Span, Key]], first_of: Callable[[Key], str],
                  together: Callable[[str, str], bool], said_better: Callable[[Key], bool]) -> list[Span]:
    """What a release leaves out of its compared sentences ((span, key), in text order): a sentence
    whose first holder (`first_of`) is another release not of its story, a second time in the
    release (unless it is its own story), or a long one said better elsewhere (`said_better`).
    Never every sentence of the release."""
    out, seen = [], set()
    for span, key in compared:
        first = first_of(key)
        if first != doc_id:
            if not together(first, doc_id):
                out.append(span)
        elif key in seen:
            if not together(doc_id, doc_id):
                out.append(span)
        else:
            seen.add(key)
            if len(set(key)) >= LONG_TERMS and said_better(key):
                out.append(span)
    # Repeated boilerplate goes, a whole release does not: one whose every sentence is said
    # elsewhere (a second copy, a release that is all « about » paragraphs) keeps them.
    return out if len(set(out)) < len(compared) else []


class Repeats:
    """Every sentence worth comparing (MIN_TERMS terms or more) by key: the releases holding it,
    the first of them by file name (the one that keeps it), and for the long ones the term index
    that finds a sentence said better elsewhere. Kept release by release (`add`, `remove`), so that
    a change decides again only the releases it can concern (`concerned`); the decisions are those
    a computation over the whole corpus makes (`dropped`)."""

    def __init__(self):
        self.source: dict[str, str] = {}  # doc id → its file name (the order of the corpus)
        self.sentences: dict[str, list[tuple[Span, Key]]] = {}  # doc id → its compared sentences
        self.holders: dict[Key, set[str]] = defaultdict(set)
        self.first: dict[Key, str] = {}
        self.long: dict[Key, frozenset] = {}  # long keys → their terms
        self.postings: dict[str, set[Key]] = defaultdict(set)  # term → long keys holding it
        self.signature: dict[Key, tuple[str, ...]] = {}  # long key → terms that any container holds two of
        self.signed: dict[tuple[str, str], set[Key]] = defaultdict(set)  # pair of signature terms → long keys

    @classmethod
    def of(cls, releases) -> "Repeats":
        """From (doc id, source, Analysis) triples: the whole corpus at once."""
        repeats = cls()
        for doc_id, source, analysis in releases:
            repeats._insert(doc_id, source, analysis)
        for key in repeats.long:
            repeats._sign(key)
        return repeats

    def documents(self):
        return self.sentences.keys()

    def _insert(self, doc_id: str, source: str, analysis: Analysis) -> set[Key]:
        self.source[doc_id] = source
        compared = [(span, tuple(found)) for span, found in zip(analysis.spans, analysis.terms)
                    if len(set(found)) >= MIN_TERMS]
        self.sentences[doc_id] = compared
        fresh = set()
        for _, key in compared:
            holders = self.holders[key]
            if not holders:
                fresh.add(key)
                words = frozenset(key)
                if len(words) >= LONG_TERMS:
                    self.long[key] = words
                    for term in words:
                        self.postings[term].add(key)
            holders.add(doc_id)
            first = self.first.get(key)
            if first is None or source < self.source[first]:
                self.first[key] = doc_id
        return fresh

    def _sign(self, key: Key) -> None:
        # A sentence 90 % inside another misses at most `missing` of its terms there, so the other
        # holds at least two of any `missing + 2` of them: the rarest, to keep the pairs selective.
        words = self.long[key]
        missing = int(len(words) * (1 - CONTAINED))
        chosen = tuple(sorted(words, key=lambda t: (len(self.postings[t]), t))[:missing + 2])
        self.signature[key] = chosen
        for pair in combinations(sorted(chosen), 2):
            self.signed[pair].add(key)

    def keys_of(self, doc_id: str) -> set[Key]:
        return {key for _, key in self.sentences.get(doc_id, ())}

    def add(self, doc_id: str, source: str, analysis: Analysis) -> None:
        for key in self._insert(doc_id, source, analysis):
            if key in self.long:
                self._sign(key)

    def remove(self, doc_id: str) -> None:
        for key in self.keys_of(doc_id):
            holders = self.holders[key]
            holders.discard(doc_id)
            if holders:
                if self.first[key] == doc_id:
                    self.first[key] = min(holders, key=self.source.__getitem__)
                continue
            del self.holders[key], self.first[key]
            words = self.long.pop(key, None)
            if words is not None:
                for term in words:
                    self.postings[term].discard(key)
                    if not self.postings[term]:
                        del self.postings[term]
                for pair in combinations(sorted(self.signature.pop(key)), 2):
                    self.signed[pair].discard(key)
                    if not self.signed[pair]:
                        del self.signed[pair]
        del self.sentences[doc_id], self.source[doc_id]

    def inside(self, words: frozenset) -> set[Key]:
        """The long keys that a sentence of these terms holds 90 % of (whose first holder may lose
        them to it)."""
        found = set()
        for pair in combinations(sorted(words), 2):
            found |= self.signed.get(pair, set())
        return {key for key in found if len(self.long[key] & words) >= CONTAINED * len(self.long[key])}

    def concerned(self, changed: set[str], firsts: dict[Key, str | None], stories: set[str] = frozenset(),
                  ) -> set[str]:
        """The releases whose decisions a change can alter: the `changed` ones (present now), those
        holding a sentence whose first holder changed (`firsts`: key → its first holder before),
        those with a long sentence inside one of those, and around the releases whose stories
        changed, the releases they keep a sentence for."""
        found = {doc_id for doc_id in changed if doc_id in self.sentences}
        for key, before in firsts.items():
            if self.first.get(key) != before:
                found |= self.holders.get(key, set())
                if len(set(key)) >= LONG_TERMS:
                    found |= {self.first[inner] for inner in self.inside(frozenset(key))}
        for doc_id in stories:
            if doc_id not in self.sentences:
                continue
            found.add(doc_id)
            for key in self.keys_of(doc_id):
                if self.first[key] == doc_id:
                    found |= self.holders[key]
                    if key in self.long:
                        found |= {self.first[inner] for inner in self.inside(self.long[key])}
        return found

    def dropped(self, doc_id: str, together: Callable[[str, str], bool] | None = None) -> list[Span]:
        """The spans of a release's sentences said as well or better elsewhere: a sentence whose
        first holder is another release (not of its story), a second time in the release (unless
        it is its own story), or a long sentence 90 % inside a longer one (or an earlier one as long)
        of another release, with all its figures. Never every sentence of the release."""
        together = together or (lambda a, b: False)
        return dropped_spans(doc_id, self.sentences.get(doc_id, ()), self.first.__getitem__, together,
                             lambda key: self._said_better(key, doc_id, together))

    def _said_better(self, key: Key, doc_id: str, together: Callable[[str, str], bool]) -> bool:
        words = self.long[key]
        missing = int(len(words) * (1 - CONTAINED))
        figures = [term for term in words if any(c.isdigit() for c in term)]
        rarest = sorted((self.postings[term] for term in words), key=len)[:missing + 2]
        shared = set().union(*(a & b for a, b in combinations(rarest, 2)))
        shared.discard(key)
        source = self.source[doc_id]
        for other_key in shared:
            other, holder = self.long[other_key], self.first[other_key]
            if holder == doc_id or together(holder, doc_id):
                continue
            if any(term not in other for term in figures):  # « 2 400 kits » is not « 7 800 kits » again
                continue
            better = len(other) > len(words) or (len(other) == len(words) and self.source[holder] < source)
            if better and len(words & other) >= CONTAINED * len(words):
                return True
        return False
