"""The assistant: an open index and its encoder, answering questions with citations."""
from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path

from ..indexing import store
from .answer import AbstentionRule, Answer, compose, evidence
from ..indexing.embedding import Encoder, load_encoder
from ..errors import EmptyIndexError, IndexMissingError, QAError
from ..reading.lexical import terms
from .search import MODES, Filter, Hit, dense_search, hybrid_search, lexical_search
from ..settings import DEFAULT_MODEL, Settings

EMPTY_QUESTION = "Posez une question sur les communiqués, par exemple : « Où a été célébrée la Journée internationale des migrants 2024 ? »"
NO_PASSAGE = "Je n'ai trouvé aucun passage qui réponde à cette question."
TRUNCATED = "Votre question était très longue : seuls ses {n} premiers caractères ont été pris en compte."


class Assistant:
    """Answers questions from one index. Thread-safe: an index is read-only once open."""

    def __init__(self, index: store.StoredIndex, encoder: Encoder, settings: Settings):
        self.index = index
        self.encoder = encoder
        self.settings = settings
        self.abstention = AbstentionRule()
        self.lexical = index.lexical
        self.term_weights = index.lexical.weight

    @classmethod
    def open(cls, index: str | Path | None = None, encoder: Encoder | None = None,
             settings: Settings | None = None) -> "Assistant":
        """Open the live index under `index` (default: settings.index) with a compatible encoder."""
        settings = settings or Settings.from_env()
        if index is not None:
            settings = replace(settings, index=Path(index))
        if encoder is None:
            manifest = store.read_manifest(settings.index)
            if manifest is None:
                raise IndexMissingError(settings.index)
            built = manifest["encoder"]
            # Unless the user chose a model or backend, use the one the index was built with.
            model = settings.model if settings.model != DEFAULT_MODEL else built["model"]
            backend = settings.backend if settings.backend != "auto" else built["backend"]
            encoder = load_encoder(model, backend)
        return cls(store.load(settings.index, encoder.info), encoder, settings)

    @property
    def passage_count(self) -> int:
        return len(self.index.passages)

    def search(self, question: str, k: int, mode: str | None = None, timings: dict | None = None,
               where: Filter | None = None) -> list[Hit]:
        """The k best passages for a question, best first (hybrid, dense or lexical retrieval),
        among the releases `where` allows."""
        mode = mode or self.settings.mode
        if mode not in MODES:
            raise QAError(f"mode inconnu « {mode} » (choose one of {', '.join(MODES)})")
        if not self.index.passages:
            raise EmptyIndexError(self.settings.corpus)
        query = question[:self.settings.max_question_chars]
        timings = {} if timings is None else timings
        question_terms = terms(query)
        if mode == "lexical":
            started = time.perf_counter()
            hits = lexical_search(self.index, self.lexical, question_terms, k, where)
            timings["search_ms"] = (time.perf_counter() - started) * 1000
            return hits
        started = time.perf_counter()
        vector = self.encoder.encode_queries([query])[0]
        timings["encode_ms"] = (time.perf_counter() - started) * 1000
        started = time.perf_counter()
        if mode == "dense":
            hits = dense_search(self.index, vector, k, where)
        else:
            hits = hybrid_search(self.index, self.lexical, vector, question_terms, k, where=where, timings=timings)
        timings["search_ms"] = (time.perf_counter() - started) * 1000
        return hits

    def ask(self, question: str, k: int | None = None, id: str | None = None, mode: str | None = None,
            where: Filter | None = None) -> Answer:
        """The supporting sentence and the k best passages for a question (k capped at the index size).

        mode: hybrid (default), dense or lexical retrieval; where: only some releases (files, dates).
        """
        k = self.settings.k if k is None else max(1, int(k))
        question = (question or "").strip()
        if not question:
            return Answer(question, None, [], abstained=True, message=EMPTY_QUESTION, id=id)
        truncated = len(question) > self.settings.max_question_chars
        query = question[:self.settings.max_question_chars]
        timings: dict[str, float] = {}
        hits = self.search(query, k, mode, timings, where)
        started = time.perf_counter()
        answer = self.answer_from(query, hits, id=id)
        timings["answer_ms"] = (time.perf_counter() - started) * 1000
        message = answer.message
        if truncated:
            message = TRUNCATED.format(n=self.settings.max_question_chars) + "\n\n" + message
        return replace(answer, message=message, truncated=truncated,
                       timings={name: round(ms, 2) for name, ms in timings.items()})

    def answer_from(self, question: str, hits: list[Hit], id: str | None = None) -> Answer:
        """The answer sentence and citations for passages already found."""
        question_terms = set(terms(question))
        sentence, citations = compose(question_terms, hits, self.index.documents, self.term_weights)
        support = evidence(question_terms, hits, self.index.documents, self.term_weights)
        if sentence is None or not self.abstention.answers(support):
            return Answer(question, None, citations, abstained=True, message=NO_PASSAGE, id=id, evidence=support)
        return Answer(question, sentence, citations, abstained=False, message=sentence.text, id=id,
                      evidence=support)
