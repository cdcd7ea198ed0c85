"""Named entities of French text (people, organisations, places), by spaCy's French pipeline.

Only the tokenizer, tok2vec and NER components of `fr_core_news_sm` run (about 1 ms a sentence).
Sentences are read at index time and their entities stored with the build; a question is read
when asked. The pipeline is a package (no download at run time), loaded once, on first use.
"""
from __future__ import annotations

import threading
from functools import lru_cache
from typing import Iterable

LABELS = ("PER", "ORG", "LOC", "MISC")
_LOCK = threading.Lock()


@lru_cache(maxsize=1)
def _pipeline():
    import spacy
    return spacy.load("fr_core_news_sm", exclude=["parser", "lemmatizer", "morphologizer", "attribute_ruler",
                                                  "senter"])


def entities(texts: Iterable[str], batch_size: int = 64) -> list[list[tuple[str, str]]]:
    """For each text, its entities as (label, text) pairs, in order."""
    texts = list(texts)
    if not texts:
        return []
    with _LOCK:  # a spaCy pipeline is not meant to be shared by threads
        return [[(entity.label_, entity.text) for entity in document.ents]
                for document in _pipeline().pipe(texts, batch_size=batch_size)]
