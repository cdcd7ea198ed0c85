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
    together = together or (lambda a, b: False)
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
            if not together(sentences[first_of_key[key]][1], doc_id):
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
        figures = [term for term in words if any(c.isdigit() for c in term)]
        rarest = sorted((postings[term] for term in words), key=len)[:missing + 2]
        shared = set().union(*(a & b for a, b in combinations(rarest, 2)))
        shared.discard(i)
        for j in sorted(shared):
            other = sentences[j]
            if other[1] == doc_id or together(other[1], doc_id):
                continue
            if any(term not in other[3] for term in figures):  # « 2 400 kits » is not « 7 800 kits » again
                continue
            better = len(other[3]) > len(words) or (len(other[3]) == len(words) and other[0] < order)
            if better and len(words & other[3]) >= CONTAINED * len(words):
                dropped[doc_id].append(span)
                break
    # Repeated boilerplate goes, a whole release does not: one whose every sentence is said
    # elsewhere (a second copy, a release that is all « about » paragraphs) keeps them.
    counted = defaultdict(int)
    for _, doc_id, _, _, _ in sentences:
        counted[doc_id] += 1
    return {doc_id: spans for doc_id, spans in dropped.items() if len(set(spans)) < counted[doc_id]}
