"""The second stage: every sentence of the first stage's candidate passages, scored as evidence.

Each sentence gets features read from the index's sentence store (its vector, its French terms,
its place in the release) and from the question (what it asks for): how close it is in meaning,
how much of the question's weighted terms it holds (a rare term with a typo still counts, a
little less), whether it holds the kind of element asked for (a number for « combien », a name
for « qui »…) beyond what the question names, and where it stands (headline, dateline, lede,
body, contact footer). A logistic model, learned on the development sets by
`benchmarks/train_evidence.py` and kept in `evidence_model.json`, turns them into the
probability that the sentence holds the answer. Passages are ranked by their best sentence.
"""
from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Callable

import numpy as np

from ..indexing.store import StoredIndex
from ..reading.chunking import sentence_spans
from ..reading.entities import entities
from ..reading.lexical import FUZZY_MIN_LENGTH, FUZZY_SIMILARITY, terms
from .questions import answer_type, focus_terms, holds, is_english, specific_terms
from .search import Hit

MODEL_PATH = Path(__file__).with_name("evidence_model.json")
FEATURES = ("sentence_dense", "sentence_dense_gap", "coverage", "coverage_gap", "context_coverage",
            "passage_coverage", "passage_score", "passage_reciprocal_rank", "passage_dense", "type_new",
            "type_held", "type_missing", "type_unit", "type_person", "untyped", "neighbour_coverage",
            "new_in_context", "headline", "lede", "lede_typed", "dateline",
            "after_body", "length", "short",
            "window_coverage", "window_gain", "previous_dense", "window_typed", "document_coverage",
            "document_missing", "year_missing", "unit_missing", "counted", "dateline_long", "type_role",
            "follows", "named_missing", "named_window_missing", "dense_lift", "english", "year_conflict",
            "place_conflict", "focus_coverage", "focus_window")
# What the confidence shown to a reader (and compared with the abstention threshold) reads: the
# passage's best sentence probability, its margin over the best other passage, and that
# sentence's features that say whether the question can be answered at all.
CONFIDENCE_FEATURES = ("probability", "margin", "sentence_dense", "coverage", "context_coverage",
                       "passage_coverage", "passage_dense", "type_new", "type_missing", "untyped",
                       "window_coverage", "document_coverage", "document_missing", "year_missing",
                       "named_missing", "named_window_missing", "dense_lift", "english", "year_conflict",
                       "place_conflict")
# Features that only the confidence reads: the sentence model gives them no weight (what a question
# names and its release lacks says whether it can be answered, not which sentence answers it).
CONFIDENCE_ONLY = ("named_missing", "named_window_missing", "dense_lift", "english", "year_conflict", "place_conflict")
# A question term missing from a sentence counts this much when the sentence spells it nearly alike.
FUZZY_CREDIT = 0.8
_DATELINE = re.compile(r"^[A-ZÀ-Ý][\w'’.\- ]{1,40}?(?:\s*\([^)]{1,40}\))?\s*(?:,[^–—-]{0,40})?\s*[–—-]\s")


@dataclass(frozen=True, slots=True)
class Evidence:
    """One sentence of a candidate passage, with its features and (once scored) its probability."""
    hit: int  # position of its passage among the candidates
    start: int  # offsets in the document's clean text
    end: int
    features: tuple[float, ...]


@dataclass(frozen=True, slots=True)
class EvidenceModel:
    """Standardised logistic regression over FEATURES, and how passages and abstention use it."""
    coef: np.ndarray
    intercept: float
    mean: np.ndarray
    scale: np.ndarray
    passage_weight: float  # share of the first-stage score in a passage's final score
    abstain_below: float  # best sentence probability under which the assistant abstains
    floor: float  # probability under which a passage is not shown as a source
    # Standardised logistic regression over CONFIDENCE_FEATURES (coef, intercept, mean, scale), or None
    # when the confidence is the sentence probability itself.
    confidence: tuple[np.ndarray, float, np.ndarray, np.ndarray] | None = None

    @classmethod
    def load(cls, path: Path = MODEL_PATH) -> "EvidenceModel":
        data = json.loads(path.read_text(encoding="utf-8"))
        if tuple(data["features"]) != FEATURES:
            raise ValueError(f"{path}: features {data['features']} ≠ {FEATURES}; run benchmarks/train_evidence.py")
        confidence = None
        if data.get("confidence"):
            c = data["confidence"]
            if tuple(c["features"]) != CONFIDENCE_FEATURES:
                raise ValueError(f"{path}: confidence features {c['features']} ≠ {CONFIDENCE_FEATURES}; "
                                 "run benchmarks/train_evidence.py")
            confidence = (np.asarray(c["coef"], dtype=np.float64), float(c["intercept"]),
                          np.asarray(c["mean"], dtype=np.float64), np.asarray(c["scale"], dtype=np.float64))
        return cls(np.asarray(data["coef"], dtype=np.float64), float(data["intercept"]),
                   np.asarray(data["mean"], dtype=np.float64), np.asarray(data["scale"], dtype=np.float64),
                   float(data["passage_weight"]), float(data["abstain_below"]), float(data["floor"]), confidence)

    def probabilities(self, features: np.ndarray) -> np.ndarray:
        if not len(features):
            return np.empty(0)
        z = ((features - self.mean) / self.scale) @ self.coef + self.intercept
        return 1.0 / (1.0 + np.exp(-z))

    def confidences(self, rows: np.ndarray) -> np.ndarray:
        """Calibrated confidence that a passage's best sentence answers the question, from
        `confidence_rows`; the sentence probability itself without a confidence model."""
        if not len(rows):
            return np.empty(0)
        if self.confidence is None:
            return rows[:, 0].copy()
        coef, intercept, mean, scale = self.confidence
        return 1.0 / (1.0 + np.exp(-(((rows - mean) / scale) @ coef + intercept)))


_AT = {name: i for i, name in enumerate(FEATURES)}


def confidence_rows(best_probability: np.ndarray, best_features: np.ndarray) -> np.ndarray:
    """CONFIDENCE_FEATURES for each candidate passage, from its best sentence's probability and
    features (rows in candidate order); the margin is over the best other passage."""
    n = len(best_probability)
    if not n:
        return np.empty((0, len(CONFIDENCE_FEATURES)))
    order = np.sort(best_probability)[::-1]
    other = np.where(best_probability >= order[0], order[1] if n > 1 else 0.0, order[0])
    columns = [best_probability, best_probability - other]
    columns += [best_features[:, _AT[name]] for name in CONFIDENCE_FEATURES[2:]]
    return np.column_stack(columns)


@lru_cache(maxsize=1)
def default_model() -> EvidenceModel:
    return EvidenceModel.load()


def _near_terms(missing: set[str], vocabulary: set[str]) -> dict[str, set[str]]:
    """For each long question term absent from the candidates, the candidates' terms spelt nearly alike."""
    from rapidfuzz import fuzz, process
    near: dict[str, set[str]] = {}
    pool = [term for term in vocabulary if len(term) >= FUZZY_MIN_LENGTH - 1 and not term[0].isdigit()]
    for term in missing:
        if len(term) < FUZZY_MIN_LENGTH or term[0].isdigit():
            continue
        found = process.extract(term, pool, scorer=fuzz.ratio, score_cutoff=FUZZY_SIMILARITY, limit=5)
        if found:
            near[term] = {match for match, _, _ in found}
    return near


def _coverage(question: list[tuple[str, float]], total: float, present: set[str],
              near: dict[str, set[str]]) -> float:
    if not total:
        return 0.0
    got = 0.0
    for term, weight in question:
        if term in present:
            got += weight
        elif term in near and near[term] & present:
            got += FUZZY_CREDIT * weight
    return got / total


# How many sentences before a sentence its window reads: the answer often comes one or two
# sentences after the one that names what the question is about (« Parmi les passagers, Alpha,
# 15 ans. … Il y passa 11 mois … »).
WINDOW = 2
# A sentence that opens with the dateline and goes on this long is the lede, not just the dateline.
DATELINE_BODY = 120
_YEAR = re.compile(r"\b(?:19|20)\d\d\b")
_NAMED_LABELS = frozenset({"PER", "LOC", "ORG"})


@lru_cache(maxsize=65536)  # the same entities come back question after question
def _entity_terms(text: str) -> tuple[str, ...]:
    """The terms of an entity's capitalised words."""
    return tuple(term for word in re.findall(r"[\w'’-]+", text) if word[:1].isupper() for term in terms(word))


def _prefix_near(named: list[str], vocabulary: set[str]) -> dict[str, set[str]]:
    """For each named term (a word, not a number), the candidates' terms that begin like it (its
    first letters but two, at least four), or that it begins with: « guineen » → « guine », « malien » → « mal »."""
    near: dict[str, set[str]] = {}
    for term in named:
        if term[0].isdigit() or len(term) < 4:
            continue
        stem = term[:max(4, len(term) - 2)]
        found = {other for other in vocabulary if other.startswith(stem) or (len(other) >= 3 and term.startswith(other))}
        if found:
            near[term] = found
    return near


def _named_missing(named: list[tuple[str, float]], present: set[str], near: dict[str, set[str]]) -> float:
    """The weight share of the question's named terms that `present` lacks (nor anything spelt like
    them): a rare name missing weighs more than « OIM » or « Mali »."""
    total = sum(weight for _, weight in named)
    if not total:
        return 0.0
    return sum(weight for term, weight in named
               if term not in present and not (near.get(term, set()) & present)) / total


def _missing_share(question: list[tuple[str, float]], total: float, present: set[str],
                   near: dict[str, set[str]]) -> float:
    """The weight share of the heaviest question term that `present` lacks (spelt nearly alike counts)."""
    if not total:
        return 0.0
    missing = [weight for term, weight in question
               if term not in present and not (term in near and near[term] & present)]
    return max(missing, default=0.0) / total


def _sentences_of(index: StoredIndex, hit: Hit, read: dict[int, list[str]]
                  ) -> list[tuple[int, int, list[str], list, np.ndarray | None]]:
    """A passage's sentences: offsets, terms, entities and vector (from the sentence store when the
    build has one, read again from the text for a build made before it). The terms of the store's
    rows read are kept in `read` (row → terms), for the windows of the sentences after them."""
    sentences = index.sentences
    stored = sentences.in_passage(hit.passage)
    if stored:
        rows = sentences.rows[stored.start:stored.stop]
        read.update(zip(stored, (row["terms"] for row in rows)))
        return [(row["start"], row["end"], row["terms"], row.get("entities", []), vector)
                for row, vector in zip(rows, sentences.vectors_of(stored))]
    passage = hit.passage
    spans = sentence_spans(passage.text)
    found = entities(passage.text[s.start:s.end] for s in spans)
    return [(passage.start + s.start, passage.start + s.end, terms(passage.text[s.start:s.end]), names, None)
            for s, names in zip(spans, found)]


def _sentence_order(index: StoredIndex, doc_id: str, start: int) -> int:
    """The rank of the sentence starting at `start` among its release's (from the sentence store,
    or cut again without one); past the last when none starts there."""
    starts = index.sentences.starts(doc_id)
    if not len(starts):
        starts = np.array([s.start for s in sentence_spans(index.documents[doc_id].text)], dtype=np.int64)
    at = int(np.searchsorted(starts, start))
    return at if at < len(starts) and int(starts[at]) == start else len(starts)


def gather(question: str, question_vector: np.ndarray | None, hits: list[Hit], index: StoredIndex,
           weight: Callable[[str], float], encode: Callable[[list[str]], np.ndarray] | None = None,
           years: bool = True) -> list[Evidence]:
    """Every sentence of the candidate passages with its features (a sentence shared by two
    overlapping passages is kept once, with the better-ranked passage). years=False: a year the
    question names is not looked for in the releases (year_missing is 0)."""
    question_terms = list(dict.fromkeys(terms(question)))
    weighted = [(term, weight(term)) for term in question_terms]
    total = sum(w for _, w in weighted)
    # what the question asks about (« quel bailleur », « combien de familles »): the answer holds it
    focus = [(term, weight(term)) for term in focus_terms(question)]
    focus_total = sum(w for _, w in focus)
    kind = answer_type(question)
    raw = []  # (candidate position, start, end, terms, entities, vector)
    passage_terms: list[set[str]] = []
    seen: set[tuple[str, int, int]] = set()
    read: dict[int, list[str]] = {}  # sentence store row → its terms, as read for this question
    for position, hit in enumerate(hits):
        found = _sentences_of(index, hit, read)
        passage_terms.append({term for _, _, sentence_terms, _, _ in found for term in sentence_terms})
        for start, end, sentence_terms, names, vector in found:
            place = (hit.passage.doc_id, start, end)
            if place not in seen:
                seen.add(place)
                raw.append((position, start, end, sentence_terms, names, vector))
    if not raw:
        return []
    vocabulary = set().union(*passage_terms)
    near = _near_terms(set(question_terms) - vocabulary, vocabulary)

    dense = np.zeros(len(raw))
    if question_vector is not None:
        vectors = np.zeros((len(raw), len(question_vector)), dtype=np.float32)
        missing = []
        for i, row in enumerate(raw):
            if row[5] is None:
                missing.append(i)
            else:
                vectors[i] = row[5]
        if missing and encode is not None:
            vectors[missing] = encode([index.documents[hits[raw[i][0]].passage.doc_id].text[raw[i][1]:raw[i][2]]
                                       for i in missing])
        dense = vectors @ np.asarray(question_vector, dtype=np.float32)

    passage_coverage = [_coverage(weighted, total, found, near) for found in passage_terms]
    coverages, contexts = [], []
    headers: dict[str, set[str]] = {}
    for position, start, end, sentence_terms, _, _ in raw:
        document = index.documents[hits[position].passage.doc_id]
        if document.id not in headers:
            headers[document.id] = set(terms(document.title or "")) | set(terms(document.place or ""))
        present = set(sentence_terms)
        coverages.append(_coverage(weighted, total, present, near))
        contexts.append(_coverage(weighted, total, present | headers[document.id], near))
    best_dense, best_coverage = float(dense.max()), max(coverages)
    # how far a sentence stands above the question's candidates in meaning (the median one: a
    # baseline that a question on the corpus's topic reaches without any answer)
    typical_dense = float(np.median(dense))
    # The sentence before or after, in the same release: an answer often follows the sentence
    # that sets out what the question is about.
    at = {(hits[row[0]].passage.doc_id, row[1]): i for i, row in enumerate(raw)}
    ends = {(hits[row[0]].passage.doc_id, row[2]): i for i, row in enumerate(raw)}
    neighbours = []
    for position, start, end, *_ in raw:
        doc_id = hits[position].passage.doc_id
        found = [coverages[j] for j in (ends.get((doc_id, start - 1)), ends.get((doc_id, start - 2)),
                                        at.get((doc_id, end + 1)), at.get((doc_id, end + 2))) if j is not None]
        neighbours.append(max(found, default=0.0))
    top_score = hits[0].score or 1.0
    # What the question names specifically (a place, a figure, an edition), when the index knows it:
    # a near miss names one that is elsewhere in the corpus, not in the release that answers. Named
    # too: a question term that candidate sentences name as an entity (« sénégalais », « mauritanie »
    # in a question without capitals): a person, a place or an organisation, capitalised there, in
    # two sentences at least (the recogniser also tags common words, once in a while).
    entity_counts: dict[str, int] = {}
    for row in raw:
        for term in {term for label, text in row[4] if label in _NAMED_LABELS for term in _entity_terms(text)}:
            entity_counts[term] = entity_counts.get(term, 0) + 1
    english = is_english(question)
    from_entities = [] if english else [t for t in question_terms if entity_counts.get(t, 0) >= 2]
    named_terms = [term for term in dict.fromkeys(specific_terms(question) + from_entities) if index.lexical.knows(term)]
    named_weighted = [(term, weight(term)) for term in named_terms]
    named_near = {term: near.get(term, set()) | found for term, found in _prefix_near(named_terms, vocabulary).items()}
    named_near.update({term: near[term] for term in named_terms if term in near and term not in named_near})
    asked_terms = set(question_terms)
    # The terms whose presence in a release the document features read: the question's, what it
    # names, and the candidates' terms spelt nearly like them.
    wanted = set(question_terms).union(named_terms, *near.values(), *named_near.values())
    windows = _Windows(index, hits, raw, question_vector, read, wanted)
    question_years = set(_YEAR.findall(question)) if years else set()
    documents: dict[str, tuple[float, float, float]] = {}  # coverage, missing share, year missing
    named_missing: dict[str, float] = {}
    for position, *_ in raw:
        document = index.documents[hits[position].passage.doc_id]
        if document.id not in documents:
            present = windows.document_terms(document.id) | headers[document.id]
            # Only a question that names a year reads the years its candidate releases name.
            named = set(_YEAR.findall(document.text)) | set(_YEAR.findall(document.date or "")) \
                if question_years else set()
            documents[document.id] = (_coverage(weighted, total, present, near),
                                      _missing_share(weighted, total, present, near),
                                      float(bool(question_years - named)))
            named_missing[document.id] = _named_missing(named_weighted, present, named_near)

    out = []
    breaks: dict[str, int] = {}  # release → where its first blank line is (-1: none)
    for i, (position, start, end, _, names, _) in enumerate(raw):
        hit = hits[position]
        document = index.documents[hit.passage.doc_id]
        text = document.text[start:end]
        held = holds(text, question, kind, names)
        headline = bool(document.title) and text.strip() == document.title.strip()
        order = _sentence_order(index, document.id, start)
        titled = bool(document.title) and document.text.startswith(document.title)
        lede = order == (1 if titled else 0) and not headline
        if document.id not in breaks:
            breaks[document.id] = document.text.find("\n\n")
        after_body = 0 <= breaks[document.id] < start
        window_terms, previous_dense = windows.before(i)
        dateline = _DATELINE.match(text)
        own_terms = set(raw[i][3])
        with_sentence = window_terms | own_terms  # the window and the sentence itself
        in_window = with_sentence | headers[document.id]
        window = _coverage(weighted, total, in_window, near)
        features = (
            float(dense[i]), float(dense[i] - best_dense),
            coverages[i], coverages[i] - best_coverage, contexts[i], passage_coverage[position],
            hit.score / top_score, 1.0 / (position + 1), float(hit.dense or 0.0),
            float(held.new), float(held.held and not held.new), float(kind is not None and not held.held),
            float(held.unit), float(held.person), float(kind is None), neighbours[i],
            float(held.new) * max(contexts[i], neighbours[i]),
            float(headline), float(lede), float(lede and kind is not None), float(bool(dateline)),
            float(after_body), math.log(1 + len(text)) / 6, float(len(text) < 50),
            window, window - contexts[i], previous_dense, float(held.new) * window,
            *documents[document.id], float(held.unit_missing), float(held.counted),
            float(bool(dateline) and len(text) - dateline.end() > DATELINE_BODY), float(held.role),
            # the answer after the sentence that says what the question is about: a new element of the
            # kind asked for, in a sentence whose window (without it) holds the question's terms
            float(held.new) * _coverage(weighted, total, window_terms, near),
            named_missing[document.id],
            named_window := _named_missing(named_weighted, in_window, named_near),
            float(dense[i]) - typical_dense,
            # an English question holds fewer of the French releases' terms, answered or not
            float(english),
            # another year than the one asked: the window names years, not the question's
            float(bool(question_years) and bool(window_years := {t for t in with_sentence if _YEAR.fullmatch(t)})
                  and not question_years & window_years),
            # another place than the one asked: the window lacks a name the question gives, and the
            # sentence names a place the question does not
            float(named_window > 0 and any(label == "LOC" and not (set(_entity_terms(text)) & asked_terms)
                                             for label, text in names)),
            # what the question asks about, in the sentence and in its window
            _coverage(focus, focus_total, own_terms, near), _coverage(focus, focus_total, in_window, near),
        )
        out.append(Evidence(position, start, end, features))
    return out


class _Windows:
    """The sentences just before each candidate sentence in its release (its window), and which
    wanted terms a release holds anywhere, read from the index (or, without a sentence store, from
    the candidates and the release's text)."""

    def __init__(self, index: StoredIndex, hits: list[Hit], raw: list, question_vector: np.ndarray | None,
                 read: dict[int, list[str]], wanted: set[str]):
        self.index, self.hits, self.raw, self.wanted = index, hits, raw, wanted
        self.vector = None if question_vector is None else np.asarray(question_vector, dtype=np.float32)
        self._read = read  # sentence rows already read for this question → their terms
        self._holding: dict[str, set[str]] | None = None  # candidate release → the wanted terms it holds
        self._dense: dict[str, tuple[int, np.ndarray]] = {}  # release → (its first row, its rows' similarity)

    def _rows_dense(self, doc_id: str, rows: range) -> float:
        """The best similarity to the question among some of a release's sentence rows."""
        if self.vector is None or not rows:
            return 0.0
        if doc_id not in self._dense:
            whole = self.index.sentences.of_document(doc_id)
            self._dense[doc_id] = (whole.start, self.index.sentences.vectors_of(whole) @ self.vector)
        first, similarity = self._dense[doc_id]
        return float(similarity[rows.start - first:rows.stop - first].max())

    def _row_terms(self, row: int) -> list[str]:
        if row not in self._read:
            self._read[row] = self.index.sentences.terms(row)
        return self._read[row]

    def before(self, i: int) -> tuple[set[str], float]:
        """The terms of the WINDOW sentences before candidate sentence i, and their best similarity."""
        position, start = self.raw[i][0], self.raw[i][1]
        doc_id = self.hits[position].passage.doc_id
        sentences = self.index.sentences
        at = sentences.row(doc_id, start)
        if at is not None:
            previous = range(max(sentences.of_document(doc_id).start, at - WINDOW), at)
            found = {term for row in previous for term in self._row_terms(row)}
            return found, self._rows_dense(doc_id, previous)
        # No sentence store: the candidates' sentences that end just before this one.
        found = [row for row in self.raw if self.hits[row[0]].passage.doc_id == doc_id and start - 3 <= row[2] <= start]
        return {term for row in found for term in row[3]}, 0.0

    def document_terms(self, doc_id: str) -> set[str]:
        """The wanted terms that a release's passages hold: from the postings of the lexical index
        (the passages' terms are their sentences' terms), not by reading the release's sentences."""
        if not self.index.sentences.of_document(doc_id):  # a build before the sentence store
            return self.wanted & set(terms(self.index.documents[doc_id].text))
        if self._holding is None:  # once a question: every candidate release against every term
            self._holding = self._hold(sorted(self.wanted))
        return self._holding[doc_id]

    def _hold(self, wanted: list[str]) -> dict[str, set[str]]:
        releases = list(dict.fromkeys(hit.passage.doc_id for hit in self.hits))
        positions = np.asarray([self.index.documents.position[doc_id] for doc_id in releases], dtype=np.int64)
        # A release's passages are consecutive positions (its segment stores them together).
        starts = np.searchsorted(self.index.document_of, positions, side="left")
        stops = np.searchsorted(self.index.document_of, positions, side="right")
        held: dict[str, set[str]] = {doc_id: set() for doc_id in releases}
        for term in wanted:
            for doc_id, found in zip(releases, self.index.lexical.in_ranges(term, starts, stops)):
                if found:
                    held[doc_id].add(term)
        return held


def matrix(evidence: list[Evidence]) -> np.ndarray:
    return np.asarray([e.features for e in evidence], dtype=np.float64).reshape(len(evidence), len(FEATURES))
