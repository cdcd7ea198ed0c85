"""The answer: the sentence that supports it, inside citations a user can check and quote."""
from __future__ import annotations

from dataclasses import dataclass, field

from ..reading.documents import Document
from .questions import points_back
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
    score: float  # what citations are ordered by
    highlight: tuple[int, int]  # the supporting sentence, as offsets inside `text`
    confidence: float = 0.0  # calibrated probability that its highlighted sentence holds the answer
    # The other releases telling the same story (syndicated copies): {"doc_id", "source", "title", "date", "url"}
    copies: tuple = ()

    def to_dict(self) -> dict:
        return {"rank": self.rank, "passage_id": self.passage_id, "doc_id": self.doc_id, "source": self.source,
                "title": self.title, "date": self.date, "place": self.place, "text": self.text,
                "start": self.start, "end": self.end, "score": round(self.score, 4),
                "confidence": round(self.confidence, 3), "highlight": list(self.highlight),
                "copies": [dict(c) for c in self.copies]}


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
    confidence: float = 0.0  # calibrated probability that the answer sentence holds the answer
    understood_as: str | None = None  # a follow-up as it was understood with the turns before it
    # Other releases stating the same kind of figure, newest first, undated last (timeline.Statement)
    chronology: list = field(default_factory=list)
    # The period read from the question and used as a filter: {"date_from", "date_to", "label", "said"}
    filters: dict | None = None

    def to_dict(self) -> dict:
        answer = None
        if self.sentence:
            answer = {"text": self.sentence.text, "doc_id": self.sentence.doc_id,
                      "start": self.sentence.start, "end": self.sentence.end}
        out = {"question": self.question, "understood_as": self.understood_as, "answer": answer, "abstained": self.abstained,
               "message": self.message, "truncated": self.truncated,
               "confidence": round(self.confidence, 3), "confidence_label": confidence_label(self.confidence),
               "citations": [c.to_dict() for c in self.citations],
               "chronology": [s.to_dict() for s in self.chronology], "filters": self.filters,
               "timings": self.timings}
        if self.id is not None:
            out = {"id": self.id, **out}
        return out


# Calibrated probabilities are shown in words: a reader can act on « forte », not on « 73 % ».
CONFIDENCE_LEVELS = ((0.6, "forte"), (0.3, "moyenne"), (0.0, "faible"))


def confidence_label(probability: float) -> str:
    return next(label for floor, label in CONFIDENCE_LEVELS if probability >= floor)


@dataclass(frozen=True, slots=True)
class Ranked:
    """A passage after the second stage: its final score, and its best sentence not already
    highlighted by a better passage (offsets in the document's clean text)."""
    hit: Hit
    score: float
    confidence: float
    sentence: tuple[int, int] | None


# The answer reads on with a sentence that points back at it (questions.points_back: « Elle
# permet … », « Ce fonds sert … », « Parmi eux, 33 000 … »), up to this many characters in all.
CONTINUATION_MAX = 450


def _extended(document: Document, start: int, end: int, passage_end: int) -> int:
    """Where the answer ends: its sentence, or the next one too when it goes on with it."""
    rest = document.text[end:passage_end]
    following = rest.lstrip(" ")
    if not following or following.startswith("\n"):
        return end
    from ..reading.chunking import sentence_spans
    spans = sentence_spans(document.text, end, passage_end)
    if spans and points_back(document.text[spans[0].start:spans[0].end]) and spans[0].end - start <= CONTINUATION_MAX:
        return spans[0].end
    return end


def compose(ranked: list[Ranked], documents: dict[str, Document]) -> tuple[Sentence | None, list[Citation]]:
    """Citations in ranked order, each with its own best sentence highlighted, and the answer: the
    best sentence of citation [1] (so the answer always cites [1]), with the next sentence when it
    goes on with it."""
    citations = []
    for rank, item in enumerate(ranked, start=1):
        passage = item.hit.passage
        document = documents[passage.doc_id]
        start, end = item.sentence if item.sentence else (passage.start, passage.end)
        if rank == 1:
            end = _extended(document, start, end, passage.end)
        citations.append(Citation(rank, passage.id, document.id, document.source, document.title, document.date,
                                  document.place, passage.text, passage.start, passage.end, item.score,
                                  (start - passage.start, end - passage.start), item.confidence))
    if not citations or ranked[0].sentence is None:
        return None, citations
    first = citations[0]
    sentence = Sentence(first.text[first.highlight[0]:first.highlight[1]], first.doc_id,
                        first.start + first.highlight[0], first.start + first.highlight[1])
    return sentence, citations
