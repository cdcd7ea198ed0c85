"""Text a corpus repeats: said once in the index, not in every release.

Scraped releases carry the same « about the organisation » paragraphs, menus and footers. Indexed
in every release they would match every question about the organisation and push real answers
down; dropped, their facts (« 175 Etats membres ») would be lost. So each repeated sentence is
indexed once: in the release that says it most completely (the longest version of a near-identical
sentence), the first by file name among equals. The detection uses only the corpus itself, so it
works on sites never seen; within one release, a sentence said twice is indexed once.
"""
from __future__ import annotations

from collections import defaultdict
from itertools import combinations
from dataclasses import dataclass

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
                       ) -> dict[str, list[Span]]:
    """For each document, the spans of its sentences that another place in the corpus says as well
    or better; those are left out of its passages. `analyses`: document id → its Analysis."""
    analyses = analyses or {}
    sentences = []  # (order, doc_id, span, term set, key)
    for order, document in enumerate(sorted(documents, key=lambda d: d.source)):
        analysis = analyses.get(document.id) or analyse(document)
        for span, found in zip(analysis.spans, analysis.terms):
            if len(set(found)) >= MIN_TERMS:
                sentences.append((order, document.id, span, frozenset(found), found))

    dropped: dict[str, list[Span]] = defaultdict(list)
    first_of_key: dict[tuple, int] = {}
    for position, (_, doc_id, span, _, key) in enumerate(sentences):
        if key in first_of_key:
            dropped[doc_id].append(span)
        else:
            first_of_key[key] = position

    kept = [i for i in first_of_key.values() if len(sentences[i][3]) >= LONG_TERMS]
    postings: dict[str, set[int]] = defaultdict(set)
    for i in kept:
        for term in sentences[i][3]:
            postings[term].add(i)
    for i in kept:
        order, doc_id, span, words, _ = sentences[i]
        # A sentence 90 % inside another misses at most `missing` of its terms there, so it shares
        # at least two of its `missing + 2` rarest terms with it: every candidate is in the
        # postings of two of those terms.
        missing = int(len(words) * (1 - CONTAINED))
        rarest = sorted((postings[term] for term in words), key=len)[:missing + 2]
        shared = set().union(*(a & b for a, b in combinations(rarest, 2)))
        shared.discard(i)
        for j in sorted(shared):
            other = sentences[j]
            if other[1] == doc_id:
                continue
            better = len(other[3]) > len(words) or (len(other[3]) == len(words) and other[0] < order)
            if better and len(words & other[3]) >= CONTAINED * len(words):
                dropped[doc_id].append(span)
                break
    return dict(dropped)
