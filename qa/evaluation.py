"""Measuring answers on a question set: ranks of the right release and passage, the chosen
sentence, abstention, and time.

A question set is JSONL, one question a line, in either of two shapes:

    {"question": "...", "doc": "F34355", "answer": "a span of the fiche"}       (Service-Public)
    {"id": "r01", "q": "...", "file": "corpus/001-release.txt", "answer": "..."}  (real pages, ours)

`doc` (or `file`) names the document by its path in the corpus, that path without extension, or
a path ending with it (`corpus/001-release.txt` names `001-release.txt` of a corpus indexed from
that folder); a question whose document and answer are null (or `"answerable": false`) is one
the corpus cannot answer.

A set of conversations has the same lines with a `"conversation"` value: the lines that share it are
the turns of one conversation, in order (and `"kind"` may say what each turn is: first, ellipsis,
pronoun, parmi, attribute, standalone). Each later turn is asked twice, with the turns before it
and alone, and the report compares the two.
"""
from __future__ import annotations

import json
import math
import re
import statistics
import time
from dataclasses import dataclass
from pathlib import Path

from .reading.documents import Document
from .errors import QAError
# One apostrophe for all, as the index's terms read them (lexical.py is part of the text pipeline:
# renaming it there would make every index re-read its corpus).
from .reading.lexical import _APOSTROPHES as APOSTROPHES, fold
from .answering.search import Hit

CUTOFFS = (1, 3, 5, 10)
DEPTH = 10  # ranks beyond this count as not found


@dataclass(frozen=True, slots=True)
class Question:
    id: str
    question: str
    doc: str | None
    answer: str | None
    conversation: str | None = None  # turns of one conversation share it, in order
    kind: str | None = None  # what the turn is (first, ellipsis, pronoun, parmi, attribute, standalone)

    @property
    def answerable(self) -> bool:
        return self.doc is not None


def read_questions(path: str | Path) -> list[Question]:
    questions = []
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                text = row.get("question", row.get("q"))
                if not isinstance(text, str):
                    raise KeyError("question")
            except (ValueError, KeyError, AttributeError):
                raise QAError(f"{path}, ligne {number} : attendu {{\"question\": …, \"doc\": …, \"answer\": …}}") from None
            doc = row.get("doc", row.get("file"))
            answerable = row.get("answerable", doc is not None)
            conversation = row.get("conversation")
            questions.append(Question(str(row.get("id", number)), text, doc if answerable else None,
                                      row.get("answer") if answerable else None,
                                      None if conversation is None else str(conversation), row.get("kind")))
    return questions


def _squeeze(text: str) -> str:
    """Text compared for containment: folded, one apostrophe for all (« l’Italie » is « l'Italie »),
    one space for any run of white space."""
    return re.sub(r"\s+", " ", fold(text).translate(APOSTROPHES)).strip()


def is_document(document: Document, name: str) -> bool:
    if name in (document.id, document.source, document.source.rsplit(".", 1)[0], Path(document.source).stem):
        return True
    # A path relative to a folder above the corpus: corpus/001.txt names 001.txt.
    return name.endswith("/" + document.source) or document.source.endswith("/" + name)


def contains(text: str, answer: str) -> bool:
    return _squeeze(answer) in _squeeze(text)


def answer_span(document: Document, answer: str) -> tuple[int, int] | None:
    """Where the gold answer is in the document's text (white space and apostrophes aside), if it is."""
    pattern = r"\s+".join(re.escape(word.translate(APOSTROPHES)).replace("'", "['’‘ʼ`]") for word in answer.split())
    match = re.search(pattern, document.text)
    return (match.start(), match.end()) if match else None


@dataclass(frozen=True, slots=True)
class Outcome:
    question: Question
    doc_rank: int | None  # 1-based rank of the right document among distinct documents, within DEPTH
    passage_rank: int | None  # 1-based rank of the first passage holding the answer, within DEPTH
    sentence_correct: bool
    abstained: bool
    seconds: float


def judge(question: Question, hits: list[Hit], answer, documents: dict[str, Document], seconds: float) -> Outcome:
    doc_rank = passage_rank = None
    if question.answerable:
        seen: list[str] = []
        for hit in hits:
            if hit.passage.doc_id not in seen:
                seen.append(hit.passage.doc_id)
                if doc_rank is None and is_document(documents[hit.passage.doc_id], question.doc):
                    doc_rank = len(seen)
        doc_rank = doc_rank if doc_rank is not None and doc_rank <= DEPTH else None
        if question.answer:
            passage_rank = next((rank for rank, hit in enumerate(hits[:DEPTH], start=1)
                                 if is_document(documents[hit.passage.doc_id], question.doc)
                                 and contains(hit.passage.text, question.answer)), None)
    sentence_correct = False
    if question.answerable and question.answer and answer.sentence is not None:
        document = documents[answer.sentence.doc_id]
        if is_document(document, question.doc):
            span = answer_span(document, question.answer)
            sentence = answer.sentence
            sentence_correct = (contains(sentence.text, question.answer) or
                                (span is not None and span[0] < sentence.end and sentence.start < span[1]))
    return Outcome(question, doc_rank, passage_rank, sentence_correct, answer.abstained, seconds)


def _rank_metrics(ranks: list[int | None]) -> dict[str, float]:
    n = len(ranks) or 1
    metrics = {f"recall@{c}": sum(r is not None and r <= c for r in ranks) / n for c in CUTOFFS}
    metrics["mrr@10"] = sum(1 / r for r in ranks if r is not None and r <= 10) / n
    metrics["ndcg@10"] = sum(1 / math.log2(r + 1) for r in ranks if r is not None and r <= 10) / n
    return metrics


@dataclass(frozen=True, slots=True)
class Report:
    mode: str
    outcomes: list[Outcome]

    def metrics(self) -> dict:
        answerable = [o for o in self.outcomes if o.question.answerable]
        with_span = [o for o in answerable if o.question.answer]
        unanswerable = [o for o in self.outcomes if not o.question.answerable]
        abstained = [o for o in self.outcomes if o.abstained]
        times = sorted(o.seconds * 1000 for o in self.outcomes) or [0.0]
        return {
            "mode": self.mode,
            "questions": len(self.outcomes),
            "answerable": len(answerable),
            "unanswerable": len(unanswerable),
            "document": _rank_metrics([o.doc_rank for o in answerable]),
            "passage": _rank_metrics([o.passage_rank for o in with_span]),
            "sentence_accuracy": sum(o.sentence_correct for o in with_span) / (len(with_span) or 1),
            "abstention": {
                "precision": (sum(not o.question.answerable for o in abstained) / len(abstained)) if abstained else None,
                "recall": (sum(o.abstained for o in unanswerable) / len(unanswerable)) if unanswerable else None,
                "answerable_abstained": sum(o.abstained for o in answerable) / (len(answerable) or 1),
            },
            "reader": {
                "first_citation": sum(o.passage_rank == 1 for o in with_span),
                "top3": sum(o.passage_rank is not None and o.passage_rank <= 3 for o in with_span),
                "answer_sentence": sum(o.sentence_correct for o in with_span),
                "with_answer": len(with_span),
                "unanswerable_abstained": sum(o.abstained for o in unanswerable),
                "unanswerable": len(unanswerable),
                "false_abstentions": sum(o.abstained for o in answerable),
                "answerable": len(answerable),
            },
            "ms": {"mean": statistics.fmean(times), "p50": times[len(times) // 2],
                   "p95": times[min(len(times) - 1, math.ceil(0.95 * len(times)) - 1)]},
        }

    def table(self) -> str:
        m = self.metrics()
        r = m["reader"]
        lines = [f"mode {m['mode']} : {m['questions']} questions ({m['answerable']} avec réponse, "
                 f"{m['unanswerable']} sans réponse dans le corpus)",
                 f"ce que lit le lecteur : 1re citation {r['first_citation']}/{r['with_answer']}, "
                 f"top 3 {r['top3']}/{r['with_answer']}, phrase-réponse {r['answer_sentence']}/{r['with_answer']}, "
                 f"abstention sur les questions sans réponse {r['unanswerable_abstained']}/{r['unanswerable']}, "
                 f"fausses abstentions {r['false_abstentions']}/{r['answerable']}, "
                 f"MRR@10 document {m['document']['mrr@10']:.3f}",
                 f"{'niveau':<10}" + "".join(f"{name:>11}" for name in m["document"])]
        for level in ("document", "passage"):
            lines.append(f"{level:<10}" + "".join(f"{value:>11.3f}" for value in m[level].values()))
        abstention = m["abstention"]
        fmt = lambda v: "—" if v is None else f"{v:.2f}"  # noqa: E731
        lines.append(f"phrase-réponse correcte : {m['sentence_accuracy']:.3f}")
        lines.append(f"abstention : précision {fmt(abstention['precision'])}, rappel {fmt(abstention['recall'])}, "
                     f"questions avec réponse abstenues {abstention['answerable_abstained']:.3f}")
        lines.append(f"temps par question : moyenne {m['ms']['mean']:.1f} ms, p50 {m['ms']['p50']:.1f} ms, "
                     f"p95 {m['ms']['p95']:.1f} ms")
        return "\n".join(lines)

    def failures(self) -> list[Outcome]:
        return [o for o in self.outcomes if (o.question.answerable and (o.passage_rank != 1 or not o.sentence_correct
                                                                        or o.abstained))
                or (not o.question.answerable and not o.abstained)]


def evaluate(assistant, questions: list[Question], mode: str | None = None, k: int = 5) -> Report:
    """Ask every question as the assistant does; ranks come from its ranked passages (the first
    k are the citations), the answer from those k."""
    mode = mode or assistant.settings.mode
    depth = max(k, DEPTH * 3)
    outcomes = []
    for question in questions:
        started = time.perf_counter()
        ranked = assistant.arranged(question.question, depth, mode)[0]
        answer = assistant.answer_from(question.question, ranked[:k])
        outcomes.append(judge(question, [item.hit for item in ranked], answer, assistant.index.documents,
                              time.perf_counter() - started))
    return Report(mode, outcomes)


# Conversations ---------------------------------------------------------------------------------

def conversations(questions: list[Question]) -> list[list[Question]]:
    """The turns of each conversation, in file order (conversations in order of their first turn)."""
    grouped: dict[str, list[Question]] = {}
    for question in questions:
        grouped.setdefault(question.conversation or question.id, []).append(question)
    return list(grouped.values())


@dataclass(frozen=True, slots=True)
class TurnOutcome:
    """A turn after the first: asked with the turns before it, and alone."""
    with_history: Outcome
    alone: Outcome
    understood_as: str | None
    kind: str | None  # as the set says, when it says


@dataclass(frozen=True, slots=True)
class ConversationReport:
    mode: str
    first: list[Outcome]
    later: list[TurnOutcome]

    def _reader(self, outcomes: list[Outcome]) -> dict:
        with_span = [o for o in outcomes if o.question.answerable and o.question.answer]
        return {"first_citation": sum(o.passage_rank == 1 for o in with_span),
                "answer_sentence": sum(o.sentence_correct for o in with_span),
                "abstained": sum(o.abstained for o in outcomes), "turns": len(with_span)}

    def follow_ups(self) -> list[TurnOutcome]:
        """Later turns the set does not mark as standing alone."""
        return [t for t in self.later if t.kind != "standalone"]

    def metrics(self) -> dict:
        follow_ups = self.follow_ups()
        standalone = [t for t in self.later if t.kind == "standalone"]
        kinds = sorted({t.kind for t in follow_ups if t.kind})
        return {
            "mode": self.mode,
            "conversations": len(self.first),
            "first_turns": self._reader(self.first),
            "follow_ups_with_history": self._reader([t.with_history for t in follow_ups]),
            "follow_ups_alone": self._reader([t.alone for t in follow_ups]),
            "follow_ups_understood": sum(t.understood_as is not None for t in follow_ups),
            "standalone_turns": {"turns": len(standalone),
                                 "read_as_follow_ups": sum(t.understood_as is not None for t in standalone),
                                 "with_history": self._reader([t.with_history for t in standalone]),
                                 "alone": self._reader([t.alone for t in standalone])},
            "by_kind": {kind: {"with_history": self._reader([t.with_history for t in follow_ups if t.kind == kind]),
                               "alone": self._reader([t.alone for t in follow_ups if t.kind == kind]),
                               "understood": sum(t.understood_as is not None for t in follow_ups
                                                 if t.kind == kind)} for kind in kinds},
        }

    def table(self) -> str:
        m = self.metrics()
        line = lambda r: (f"1re citation {r['first_citation']}/{r['turns']}, "  # noqa: E731
                          f"phrase-réponse {r['answer_sentence']}/{r['turns']}, abstentions {r['abstained']}")
        follow = m["follow_ups_with_history"]
        lines = [f"mode {m['mode']} : {m['conversations']} conversations, {len(self.later) + len(self.first)} tours",
                 f"premiers tours                      : {line(m['first_turns'])}",
                 f"tours suivants, avec l'historique   : {line(follow)} "
                 f"({m['follow_ups_understood']}/{follow['turns']} lus comme des suites)",
                 f"tours suivants, sans l'historique   : {line(m['follow_ups_alone'])}"]
        standalone = m["standalone_turns"]
        if standalone["turns"]:
            lines.append(f"tours indépendants, avec / sans    : {line(standalone['with_history'])} / "
                         f"{line(standalone['alone'])} ({standalone['read_as_follow_ups']} lus comme des suites)")
        for kind, row in m["by_kind"].items():
            w, a = row["with_history"], row["alone"]
            lines.append(f"  {kind:<12} {w['turns']:>3} tours : phrase-réponse {w['answer_sentence']} avec, "
                         f"{a['answer_sentence']} sans ; 1re citation {w['first_citation']} avec, "
                         f"{a['first_citation']} sans ; lus comme des suites {row['understood']}")
        return "\n".join(lines)

    def failures(self) -> list[TurnOutcome]:
        return [t for t in self.follow_ups() if not t.with_history.sentence_correct]


def _asked(assistant, reading, question: Question, mode: str, k: int) -> tuple[Outcome, object]:
    from .answering import conversation
    started = time.perf_counter()
    ranked = conversation.ranked(assistant, reading, max(k, DEPTH * 3), mode)
    answer = assistant.answer_from(reading.query, ranked[:k])
    outcome = judge(question, [item.hit for item in ranked], answer, assistant.index.documents,
                    time.perf_counter() - started)
    return outcome, answer


def evaluate_conversations(assistant, questions: list[Question], mode: str | None = None,
                           k: int = 5) -> ConversationReport:
    """Ask every conversation turn by turn as the service does (each turn with the turns before it,
    as they were understood and answered), and each later turn alone too."""
    from .answering import conversation
    mode = mode or assistant.settings.mode
    first, later = [], []
    for turns in conversations(questions):
        history: list = []
        for position, question in enumerate(turns):
            reading = conversation.read(question.question, history)
            outcome, answer = _asked(assistant, reading, question, mode, k)
            if position == 0:
                first.append(outcome)
            else:
                alone = _asked(assistant, conversation.Reading(question.question), question, mode, k)[0]
                later.append(TurnOutcome(outcome, alone, reading.understood_as, question.kind))
            history.append(conversation.Turn(question.question, reading.understood_as, conversation.cited(answer)))
    return ConversationReport(mode, first, later)
