"""Text a corpus repeats: said once in the index, not in every release.

Scraped releases carry the same « about the organisation » paragraphs, menus and footers. Indexed
in every release they would match every question about the organisation and push real answers
down; dropped, their facts (« 175 Etats membres ») would be lost. So each repeated sentence is
indexed once: in the release that says it most completely (the longest version of a near-identical
sentence), the first by file name among equals. The detection uses only the corpus itself, so it
works on sites never seen; within one release, a sentence said twice is indexed once.
"""
from __future__ import annotations

from collections import Counter, defaultdict

from .chunking import Span, sentence_spans
from .documents import Document
from .lexical import terms

# Sentences shorter than this (in terms) are never treated as repeated: « Merci. » is not boilerplate.
MIN_TERMS = 6
# A long sentence whose terms are this much inside a longer one elsewhere is a lesser copy of it.
CONTAINED = 0.9
LONG_TERMS = 12
# Terms present in more sentences than this do not propose candidates (they say nothing).
COMMON = 500


def repeated_sentences(documents: list[Document]) -> dict[str, list[Span]]:
    """For each document, the spans of its sentences that another place in the corpus says as well
    or better; those are left out of its passages."""
    sentences = []  # (order, doc_id, span, term set, key)
    for order, document in enumerate(sorted(documents, key=lambda d: d.source)):
        for span in sentence_spans(document.text):
            found = terms(document.text[span.start:span.end])
            if len(set(found)) >= MIN_TERMS:
                sentences.append((order, document.id, span, frozenset(found), tuple(found)))

    dropped: dict[str, list[Span]] = defaultdict(list)
    first_of_key: dict[tuple, int] = {}
    for position, (_, doc_id, span, _, key) in enumerate(sentences):
        if key in first_of_key:
            dropped[doc_id].append(span)
        else:
            first_of_key[key] = position

    kept = [i for i in first_of_key.values() if len(sentences[i][3]) >= LONG_TERMS]
    postings: dict[str, list[int]] = defaultdict(list)
    for i in kept:
        for term in sentences[i][3]:
            postings[term].append(i)
    for i in kept:
        order, doc_id, span, words, _ = sentences[i]
        shared = Counter(j for term in words if len(postings[term]) <= COMMON for j in postings[term] if j != i)
        for j, count in shared.items():
            other = sentences[j]
            if other[1] == doc_id and other[0] == order:
                continue
            better = len(other[3]) > len(words) or (len(other[3]) == len(words) and other[0] < order)
            if better and len(words & other[3]) >= CONTAINED * len(words):
                dropped[doc_id].append(span)
                break
    return dict(dropped)
