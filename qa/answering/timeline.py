"""Releases as a time series, at question time: the newest statement of a figure first, the others
as a dated chronology; syndicated copies folded into one citation; the question's period as a filter.

A figure stated by several releases is « the same kind of figure » when the sentences say so: the
noun the number counts and its qualifiers (« 44 000 migrants maliens », « 13 000 migrants
maliens ») and the sentences' closeness in meaning (their e5 vectors, stored with the build). No
list of topics. Newest first applies among statements of the same scope: a statement replaces the
answer only when its sentence (or title) holds every word of the question that the answer's holds,
so « du Niger » in the question keeps the Niger figure, and the broader, newer total goes to the
chronology. Copies and superseded versions come from the build (qa.reading.stories).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, replace

import numpy as np

from ..reading.lexical import terms
from ..reading.stories import Stories
from .answer import Ranked
from .questions import Period, last_day
from .search import Filter

# Two sentences stating a figure of the same noun are the same kind of figure from this cosine on.
SAME_KIND = 0.86
# How many statements the chronology lists at most.
CHRONOLOGY_MAX = 8
_COUNTED = re.compile(r"(?<![\d.,])(\d{1,3}(?:[   .]\d{3})+|\d+)(?![\d])(?:[ ,]+(?:plus de |près de |environ )?)?"
                      r"\s*((?:(?:de|d['’]|des)\s*)?[^\W\d_][\w'’-]*(?:\s+[^\W\d_][\w'’-]*){0,3})")
_YEAR = re.compile(r"(?:19|20)\d\d")


@dataclass(frozen=True, slots=True)
class Statement:
    """One release's statement of the figure, for the chronology (offsets in its clean text)."""
    date: str | None
    doc_id: str
    source: str
    title: str | None
    text: str
    start: int
    end: int
    figure: str | None  # the number as written (« 44 000 »)
    passage_id: str
    rank: int | None = None  # its citation's number when it is cited

    def to_dict(self) -> dict:
        return {"date": self.date, "undated": self.date is None, "doc_id": self.doc_id, "source": self.source,
                "title": self.title, "text": self.text, "start": self.start, "end": self.end,
                "figure": self.figure, "passage_id": self.passage_id, "rank": self.rank}


def counted(text: str) -> list[tuple[str, tuple[str, ...]]]:
    """The figures of a sentence with what each counts: (« 44 000 », (noun, qualifiers…) as French
    terms); years left out."""
    found = []
    for match in _COUNTED.finditer(text):
        number = match.group(1)
        if _YEAR.fullmatch(number) or int(re.sub(r"\D", "", number)) < 2:
            continue
        words = tuple(terms(match.group(2)))
        if words:
            found.append((number, words))
    return found


def _nouns(text: str) -> set[str]:
    return {words[0] for _, words in counted(text)}


def reported_until(date_to: str) -> str:
    """The last release date that can still report on a period ending on `date_to`: the end of the
    month after it (December's figures come out in a January release, a year's in its January)."""
    year, month = int(date_to[:4]), int(date_to[5:7])
    return last_day(year + month // 12, month % 12 + 1)


def with_period(where: Filter | None, period: Period | None) -> Filter | None:
    """The caller's filter narrowed to the question's period, read up to the month after it (a
    release reports on the weeks before its date); undated releases are kept (and shown as such).
    Dates the reader set (`where`) are kept as they are."""
    if period is None:
        return where
    where = where or Filter()
    date_from = max(filter(None, (where.date_from, period.date_from)), default=None)
    date_to = min(filter(None, (where.date_to, period.date_to and reported_until(period.date_to))), default=None)
    return replace(where, date_from=date_from, date_to=date_to, keep_undated=not (where.date_from or where.date_to))


def excluding(where: Filter | None, stories: Stories) -> Filter | None:
    """The filter with superseded versions left out of the answers."""
    if not stories.superseded:
        return where
    excluded = frozenset(stories.superseded) | (where.exclude if where and where.exclude else frozenset())
    return replace(where or Filter(), exclude=excluded)


def fold(ranked: list[Ranked], stories: Stories, documents: dict) -> list[Ranked]:
    """Ranked passages with each story once: a later passage of a story already cited is left out."""
    seen: set[str] = set()  # the releases of the stories cited so far
    cited: set[str] = set()  # the releases cited
    kept = []
    for item in ranked:
        doc_id = item.hit.passage.doc_id
        if doc_id in seen and doc_id not in cited:
            continue
        seen |= stories.story(doc_id)
        cited.add(doc_id)
        kept.append(item)
    return kept


def arrange(question: str, ranked: list[Ranked], index, floor: float,
            stories: Stories | None = None) -> tuple[list[Ranked], list[Statement]]:
    """The ranked passages with the newest statement of the answer's kind of figure first (among
    those of the question's scope), and the chronology of the other statements, newest first,
    undated last. Unchanged when the answer states no figure or no other release states its kind."""
    if not ranked or ranked[0].sentence is None:
        return ranked, []
    documents = index.documents
    first = ranked[0]
    text = _text(first, documents)
    nouns = _nouns(text)
    if not nouns:
        return ranked, []
    sentences = index.sentences
    row = sentences.row(first.hit.passage.doc_id, first.sentence[0])
    anchor = None if row is None else np.asarray(sentences.vectors[row], dtype=np.float32)
    asked = set(terms(question))
    same = [first]
    for item in ranked[1:]:
        if item.hit.passage.doc_id == first.hit.passage.doc_id:
            continue
        if any(item.hit.passage.doc_id in _story(other, stories) for other in same):
            continue
        # The passage's sentence stating a figure of the answer's kind, the closest in meaning.
        best, best_cosine = None, SAME_KIND
        for row in sentences.in_passage(item.hit.passage) if anchor is not None else ():
            start, end = int(sentences.start[row]), int(sentences.end[row])
            cosine = float(anchor @ sentences.vectors[row])
            if cosine >= best_cosine and nouns & _nouns(documents[item.hit.passage.doc_id].text[start:end]):
                best, best_cosine = (start, end), cosine
        if best is not None:
            same.append(item if best == item.sentence else replace(item, sentence=best))
    if len(same) == 1:
        return ranked, []

    def scope(item: Ranked) -> set[str]:
        document = documents[item.hit.passage.doc_id]
        return asked & (set(terms(_text(item, documents))) | set(terms(document.title or "")))

    wanted = scope(first)
    lead = first
    for item in same[1:]:
        date, lead_date = documents[item.hit.passage.doc_id].date, documents[lead.hit.passage.doc_id].date
        # A dated statement goes before an undated one, a newer before an older; the scope kept.
        if date and (not lead_date or date > lead_date) and wanted <= scope(item) and item.confidence >= floor:
            lead = item
    if lead is not first:
        ranked = [lead] + [item for item in ranked if item.hit is not lead.hit]
    statements = [_statement(item, documents) for item in same if item is not lead]
    statements.sort(key=lambda s: (s.date is None, "" if s.date is None else _inverse(s.date), s.source))
    return ranked, statements[:CHRONOLOGY_MAX]


def _story(item: Ranked, stories: Stories | None) -> frozenset[str]:
    doc_id = item.hit.passage.doc_id
    return stories.story(doc_id) if stories else frozenset((doc_id,))


def _inverse(date: str) -> str:
    """A date that sorts newest first."""
    return "".join(chr(ord("9") - ord(c) + ord("0")) if c.isdigit() else c for c in date)


def _text(item: Ranked, documents: dict) -> str:
    start, end = item.sentence
    return documents[item.hit.passage.doc_id].text[start:end]


def _statement(item: Ranked, documents: dict) -> Statement:
    document = documents[item.hit.passage.doc_id]
    start, end = item.sentence
    text = document.text[start:end]
    figures = counted(text)
    return Statement(document.date, document.id, document.source, document.title, text, start, end,
                     figures[0][0] if figures else None, item.hit.passage.id)


def numbered(statements: list[Statement], citations: list) -> list[Statement]:
    """Statements with the number of the citation that shows them, when one does."""
    cited = {c.passage_id: c.rank for c in citations}
    return [replace(s, rank=cited.get(s.passage_id)) for s in statements]


def copies_of(doc_id: str, stories: Stories, documents: dict) -> list[dict]:
    """The other copies of a release's story, as a citation lists them."""
    return [{"doc_id": other, "source": documents[other].source, "title": documents[other].title,
             "date": documents[other].date, "url": documents[other].url}
            for other in stories.copies.get(doc_id, ()) if other in documents]
