"""The assistant: an open index and its encoder, answering questions with citations."""
from __future__ import annotations

import threading
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from ..indexing import preload, store
from . import timeline
from .answer import Answer, Ranked, compose
from .evidence import EvidenceModel, confidence_rows, default_model, gather, matrix
from ..indexing.embedding import Encoder, load_encoder
from ..errors import EmptyIndexError, IndexMissingError, QAError
from ..reading.lexical import terms
from .questions import question_period
from .search import MODES, Filter, Hit, dense_search, hybrid_search, lexical_search
from ..reading.stories import Stories
from ..settings import DEFAULT_MODEL, Settings

EMPTY_QUESTION = "Posez une question sur les communiqués, par exemple : « Où a été célébrée la Journée internationale des migrants 2024 ? »"
NO_PASSAGE = "Je n'ai trouvé aucun passage qui réponde à cette question."
TRUNCATED = "Votre question était très longue : seuls ses {n} premiers caractères ont été pris en compte."
PERIOD = ("Période : {label} (d'après « {said} » ; les communiqués sans date sont gardés). "
          "Retirez le filtre pour chercher dans tous les communiqués.")
UNDATED_ANSWER = " Le communiqué qui répond n'est pas daté : il est gardé faute de date, pas parce qu'il est de cette période."
NOTHING_IN_PERIOD = ("Aucun communiqué de la période « {label} » (d'après « {said} ») ne répond à cette question. "
                     "Retirez le filtre de date pour chercher dans tous les communiqués.")
# How many first-stage passages the second stage reads, sentence by sentence.
SECOND_STAGE = 30


def with_period(answer: Answer, period) -> Answer:
    """The answer with the period read from its question (`filters`), said in its message: the
    period used, or that nothing of that period answers; None: the answer as it is."""
    if period is None:
        return answer
    said = {"label": period.label, "said": period.said}
    if answer.abstained:
        message = NOTHING_IN_PERIOD.format(**said)
    else:
        message = answer.message + "\n\n" + PERIOD.format(**said)
        if answer.citations and answer.citations[0].date is None:
            message += UNDATED_ANSWER
    return replace(answer, filters=period.to_dict(), message=message)


class Assistant:
    """Answers questions from one index. Thread-safe: an index is read-only once open."""

    def __init__(self, index: store.StoredIndex, encoder: Encoder, settings: Settings,
                 model: EvidenceModel | None = None):
        self.index = index
        self.encoder = encoder
        self.settings = settings
        self.model = model or default_model()
        self.lexical = index.lexical
        self.term_weights = index.lexical.weight
        self.stories = Stories.from_dict(index.stories)
        self.preloading: threading.Thread | None = None  # see `open`

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
        assistant = cls(store.load(settings.index, encoder.info), encoder, settings)
        # The pages questions read at random, read ahead in the background (preload.py).
        assistant.preloading = preload.start([segment.path for segment in assistant.index.segments])
        return assistant

    @property
    def passage_count(self) -> int:
        return self.index.passage_count

    def search(self, question: str, k: int, mode: str | None = None, timings: dict | None = None,
               where: Filter | None = None) -> list[Hit]:
        """The k best passages of the first stage (hybrid, dense or lexical retrieval), best first,
        among the releases `where` allows."""
        return self._first_stage(question, k, mode, {} if timings is None else timings, where)[0]

    def _first_stage(self, question: str, k: int, mode: str | None, timings: dict,
                     where: Filter | None) -> tuple[list[Hit], np.ndarray]:
        mode = mode or self.settings.mode
        if mode not in MODES:
            raise QAError(f"mode inconnu « {mode} » (choose one of {', '.join(MODES)})")
        if not self.index.passage_count:
            raise EmptyIndexError(self.settings.corpus)
        query = question[:self.settings.max_question_chars]
        where = timeline.excluding(where, self.stories)  # a superseded version never answers
        question_terms = self.lexical.expand(terms(query))
        started = time.perf_counter()
        vector = self.encoder.encode_queries([query])[0]
        timings["encode_ms"] = (time.perf_counter() - started) * 1000
        started = time.perf_counter()
        if mode == "lexical":
            hits = lexical_search(self.index, self.lexical, question_terms, k, where)
        elif mode == "dense":
            hits = dense_search(self.index, vector, k, where)
        else:
            hits = hybrid_search(self.index, self.lexical, vector, question_terms, k, where=where, timings=timings)
        timings["search_ms"] = (time.perf_counter() - started) * 1000
        return hits, vector

    def rank(self, question: str, depth: int, mode: str | None = None, where: Filter | None = None,
             timings: dict | None = None, years: bool = True) -> list[Ranked]:
        """Passages ranked by the second stage: each by its best sentence as evidence (learned
        probability) mixed with its first-stage score, with the calibrated confidence that this
        sentence answers; at most `depth` of them."""
        timings = {} if timings is None else timings
        hits, vector = self._first_stage(question, max(depth, SECOND_STAGE), mode, timings, where)
        started = time.perf_counter()
        evidence = gather(question, vector, hits, self.index, self.term_weights, encode=self.encoder.encode_passages,
                          years=years)
        features = matrix(evidence)
        probabilities = self.model.probabilities(features)
        best: dict[int, tuple[float, int]] = {}
        for i, (item, probability) in enumerate(zip(evidence, probabilities)):
            if item.hit not in best or probability > best[item.hit][0]:
                best[item.hit] = (float(probability), i)
        shown = sorted(best)  # candidates with at least one sentence
        confidences = dict(zip(shown, self.model.confidences(confidence_rows(
            np.asarray([best[p][0] for p in shown]), features[[best[p][1] for p in shown]].reshape(len(shown), -1)))
        )) if shown else {}  # no candidate: a filter left nothing, or the index holds nothing that matches
        top = hits[0].score if hits and hits[0].score > 0 else 1.0
        # Both parts relative to the best candidate's, so that a score means the same whatever the
        # scale of the sentence model's probabilities (a follow-up's prior adds to it).
        top_probability = max((p for p, _ in best.values()), default=0.0) or 1.0
        weight = self.model.passage_weight
        ranked = []
        for position, hit in enumerate(hits):
            probability, row = best.get(position, (0.0, None))
            sentence = None if row is None else (evidence[row].start, evidence[row].end)
            ranked.append(Ranked(hit, weight * hit.score / top + (1 - weight) * probability / top_probability,
                                 float(confidences.get(position, 0.0)), sentence))
        ranked.sort(key=lambda item: (-item.score, item.hit.passage.id))
        timings["evidence_ms"] = (time.perf_counter() - started) * 1000
        return ranked[:depth]

    def ask(self, question: str, k: int | None = None, id: str | None = None, mode: str | None = None,
            where: Filter | None = None, use_question_dates: bool = True) -> Answer:
        """The supporting sentence and the k best passages for a question (k capped at the index size).

        mode: hybrid (default), dense or lexical retrieval; where: only some releases (files, dates).
        use_question_dates: a period the question names (« en 2022 ») filters by release date, and
        the answer says so (Answer.filters); False asks without it (« retirer le filtre »), and a
        release that does not name the question's year is then not held against.
        """
        k = self.settings.k if k is None else max(1, int(k))
        question = (question or "").strip()
        if not question:
            return Answer(question, None, [], abstained=True, message=EMPTY_QUESTION, id=id)
        truncated = len(question) > self.settings.max_question_chars
        query = question[:self.settings.max_question_chars]
        timings: dict[str, float] = {}
        ranked, chronology, period = self.arranged(query, max(k, SECOND_STAGE), mode, where, use_question_dates,
                                                   timings)
        started = time.perf_counter()
        answer = self.answer_from(query, ranked[:k], id=id, chronology=chronology)
        timings["answer_ms"] = (time.perf_counter() - started) * 1000
        answer = with_period(answer, period)
        message = answer.message
        if truncated:
            message = TRUNCATED.format(n=self.settings.max_question_chars) + "\n\n" + message
        return replace(answer, message=message, truncated=truncated,
                       timings={name: round(ms, 2) for name, ms in timings.items()})

    def arranged(self, question: str, depth: int, mode: str | None = None, where: Filter | None = None,
                 use_question_dates: bool = True, timings: dict | None = None):
        """(ranked, chronology, period): the passages ranked among the releases of the question's
        period (when it names one and `use_question_dates`), then the newest statement of the
        answer's figure first, each story once; the other statements of that figure, newest first."""
        period = question_period(question) if use_question_dates else None
        # A reader who removed the question's period asks over every release: its years are no
        # evidence against a release either.
        ranked = self.rank(question, depth, mode, timeline.with_period(where, period), timings,
                           years=use_question_dates)
        return (*self.in_time(question, ranked), period)

    def in_time(self, question: str, ranked: list[Ranked]) -> tuple[list[Ranked], list]:
        """(ranked, chronology): the newest statement of the answer's figure first, each story once;
        the other statements of that figure, newest first. For a question alone or a follow-up."""
        ranked, chronology = timeline.arrange(question, ranked, self.index, self.model.abstain_below, self.stories)
        return timeline.fold(ranked, self.stories, self.index.documents), chronology

    def answer_from(self, question: str, ranked: list[Ranked], id: str | None = None,
                    chronology: list | tuple = ()) -> Answer:
        """The answer sentence and citations for passages already ranked (with, when it answers, the
        chronology of its figure); abstains when the best sentence is unlikely to hold the answer
        (calibrated on the development sets)."""
        sentence, citations = compose(ranked, self.index.documents)
        citations = [replace(c, copies=tuple(timeline.copies_of(c.doc_id, self.stories, self.index.documents)))
                     for c in citations]
        confidence = ranked[0].confidence if ranked else 0.0
        if sentence is None or confidence < self.model.abstain_below:
            return Answer(question, None, citations, abstained=True, message=NO_PASSAGE, id=id, confidence=confidence)
        return Answer(question, sentence, citations, abstained=False, message=sentence.text, id=id,
                      confidence=confidence, chronology=timeline.numbered(list(chronology), citations))
