"""The answer: the sentence that supports it, inside citations a user can check and quote."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from ..reading.chunking import sentence_spans
from ..reading.documents import Document
from ..reading.lexical import terms
from .search import Hit


@dataclass(frozen=True, slots=True)
class Citation:
    rank: int
    passage_id: str
    doc_id: str
    source: str
    title: str | None
    date: str | None
    place: str | None
    text: str
    start: int  # offsets of the passage in its document's clean text
    end: int
    score: float
    highlight: tuple[int, int]  # the supporting sentence, as offsets inside `text`

    def to_dict(self) -> dict:
        return {"rank": self.rank, "passage_id": self.passage_id, "doc_id": self.doc_id, "source": self.source,
                "title": self.title, "date": self.date, "place": self.place, "text": self.text,
                "start": self.start, "end": self.end, "score": round(self.score, 4),
                "highlight": list(self.highlight)}


@dataclass(frozen=True, slots=True)
class Sentence:
    text: str
    doc_id: str
    start: int  # offsets in the document's clean text
    end: int


@dataclass(frozen=True, slots=True)
class Answer:
    question: str
    sentence: Sentence | None
    citations: list[Citation]
    abstained: bool
    message: str
    truncated: bool = False
    id: str | None = None
    timings: dict = field(default_factory=dict)
    evidence: "Evidence | None" = None

    def to_dict(self) -> dict:
        answer = None
        if self.sentence:
            answer = {"text": self.sentence.text, "doc_id": self.sentence.doc_id,
                      "start": self.sentence.start, "end": self.sentence.end}
        out = {"question": self.question, "answer": answer, "abstained": self.abstained,
               "message": self.message, "truncated": self.truncated,
               "citations": [c.to_dict() for c in self.citations], "timings": self.timings,
               "evidence": self.evidence.to_dict() if self.evidence else None}
        if self.id is not None:
            out = {"id": self.id, **out}
        return out


def sentence_support(question_terms: set[str], sentence: str, weight: Callable[[str], float]) -> float:
    """Weighted share of the question's content terms that the sentence contains (0 to 1)."""
    total = sum(weight(term) for term in question_terms)
    if not total:
        return 0.0
    return sum(weight(term) for term in question_terms & set(terms(sentence))) / total


def best_sentence(question_terms: set[str], text: str,
                  weight: Callable[[str], float]) -> tuple[tuple[int, int], float]:
    """The span inside text of its sentence that best covers the question, and that coverage."""
    spans = sentence_spans(text)
    if not spans:
        return (0, len(text)), 0.0
    scored = [(sentence_support(question_terms, text[s.start:s.end], weight), -i, s) for i, s in enumerate(spans)]
    support, _, span = max(scored)
    return (span.start, span.end), support


# How much a sentence's coverage of the question counts against the rank of its passage.
PASSAGE_WEIGHT = 0.5


@dataclass(frozen=True, slots=True)
class Evidence:
    """How much the passages found support an answer at all."""
    coverage: float  # weighted share of the question's terms found in one of the top passages (0 to 1)
    dense: float | None  # cosine similarity of the closest passage, when dense retrieval ran

    def to_dict(self) -> dict:
        return {"coverage": round(self.coverage, 3), "dense": None if self.dense is None else round(self.dense, 4)}


@dataclass(frozen=True, slots=True)
class AbstentionRule:
    """Answer when the passages contain most of what the question asks about, or a good part of it
    and the closest passage is semantically close. Raw e5 scores alone do not separate questions
    the corpus answers from those it does not; coverage alone misses paraphrases and English
    questions. Thresholds calibrated on benchmarks/questions-seeds.jsonl (see the README's curve)."""
    confident_coverage: float = 0.35
    min_coverage: float = 0.30
    min_dense: float = 0.84  # e5-small cosine

    def answers(self, evidence: Evidence) -> bool:
        if evidence.coverage >= self.confident_coverage:
            return True
        return evidence.coverage >= self.min_coverage and (evidence.dense or 0.0) >= self.min_dense


def evidence(question_terms: set[str], hits: list[Hit], documents: dict[str, Document],
             weight: Callable[[str], float], depth: int = 3) -> Evidence:
    """Coverage of the question by the best of the top passages (read with their title, place and
    date), and the best dense score."""
    from ..indexing.build import embedded_text
    coverage = max((sentence_support(question_terms, embedded_text(documents[hit.passage.doc_id], hit.passage),
                                     weight) for hit in hits[:depth]), default=0.0)
    dense = [hit.dense for hit in hits if hit.dense is not None]
    return Evidence(coverage, max(dense) if dense else None)


def compose(question_terms: set[str], hits: list[Hit], documents: dict[str, Document],
            weight: Callable[[str], float] = lambda term: 1.0) -> tuple[Sentence | None, list[Citation]]:
    """Citations in passage order, each with its best sentence highlighted, and the answer sentence.

    The answer is the sentence with the best mix of coverage of the question's terms and passage
    score, so a lower passage whose sentence names what the question asks can supply the answer.
    `weight` gives each question term its importance (rare terms count more).
    """
    citations, best, best_value = [], None, float("-inf")
    top = hits[0].score if hits else 0.0
    for rank, hit in enumerate(hits, start=1):
        passage = hit.passage
        document = documents[passage.doc_id]
        span, support = best_sentence(question_terms, passage.text, weight)
        citations.append(Citation(rank, passage.id, document.id, document.source, document.title, document.date,
                                  document.place, passage.text, passage.start, passage.end, hit.score, span))
        value = support + PASSAGE_WEIGHT * (hit.score - top)
        if value > best_value:
            best_value = value
            best = Sentence(passage.text[span[0]:span[1]], document.id,
                            passage.start + span[0], passage.start + span[1])
    return best, citations
