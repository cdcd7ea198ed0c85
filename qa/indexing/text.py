"""What the index stores of a release's text: its passages, what the encoder and BM25 read of
each, and its sentences. This is part of the text pipeline (qa.settings.TEXT_PIPELINE): when it
changes, indexes built before read their releases again.
"""
from __future__ import annotations

import hashlib

from ..reading.boilerplate import Analysis
from ..reading.chunking import Passage, Span, passages as cut_passages, sentence_spans
from ..reading.documents import Document
from ..reading.lexical import terms
from ..settings import Settings


def embedded_text(document: Document, passage: Passage) -> str:
    """What the encoder reads: the passage under a contextual header (title, place, date), not shown."""
    header = " – ".join(part for part in (document.title, document.place, document.date) if part)
    if header and not passage.text.startswith(document.title or "\0"):
        return f"{header}\n{passage.text}"
    return passage.text


def lexical_terms(passage: Passage) -> list[str]:
    """What BM25 reads: the passage's own French terms. The header the encoder reads is left out:
    repeated in every passage of a release, its title words would match all of them alike."""
    return terms(passage.text)


def passage_key(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def passage_sentences(passages: list[Passage]) -> list[dict]:
    """The sentences of the passages, each once (passages overlap by a sentence): where each is in
    its document, its text's digest and its French terms; what the answer stage reads."""
    rows, seen = [], set()
    for passage in passages:
        for span in sentence_spans(passage.text):
            place = (passage.doc_id, passage.start + span.start, passage.start + span.end)
            if place in seen:
                continue
            seen.add(place)
            text = passage.text[span.start:span.end]
            rows.append({"doc_id": passage.doc_id, "start": place[1], "end": place[2], "key": passage_key(text),
                         "terms": terms(text), "text": text})
    return rows


def cut_one(document: Document, analysis: Analysis, excluded: list[Span], settings: Settings):
    """A release's passages (its sentences said elsewhere, `excluded`, left out) and what the
    encoder reads of each."""
    passages = cut_passages(document.id, document.text, settings.passage_chars, settings.overlap_sentences,
                            exclude=excluded, spans=analysis.spans)
    texts = [embedded_text(document, passage) for passage in passages]
    return passages, texts
