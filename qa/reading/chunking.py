"""French sentences and passages, with exact character offsets into a document's clean text."""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterable

# Abbreviations after which a full stop does not end a sentence (compared in lower case).
ABBREVIATIONS = frozenset("""
m mm mme mmes mlle mlles dr pr me mgr st ste
n no nº art al etc cf ex p pp vol chap fig éd ed coll dir env min max av apr bd
janv févr fév avr juil sept oct nov déc tél tel fax
""".split())

_CLOSERS = "»”\"')]’"
# A sentence ends at . ! ? or … (possibly repeated and followed by closing quotes or brackets)
# when the next sentence starts with a capital, a digit or an opening quote or dash.
_BOUNDARY = re.compile(
    r"(?P<end>[.!?…]+(?:[\s\u00a0\u202f]*[»”\")\]])*)"
    r"(?P<gap>[\s\u00a0\u202f]+)"
    r"(?=[«“\"(\[–—-]?[\s\u00a0\u202f]*[A-ZÀ-ÖØ-Þ0-9])"
)
_WORD_BEFORE = re.compile(r"([^\W\d_]+)\.?$")


@dataclass(frozen=True, slots=True)
class Span:
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class Passage:
    """A piece of one document; text == document.text[start:end]."""
    id: str
    doc_id: str
    ordinal: int
    text: str
    start: int
    end: int


def _ends_sentence(text: str, end_start: int, end_stop: int) -> bool:
    mark = text[end_start:end_stop].strip()
    if not mark.startswith("."):
        return True  # ! ? … always end a sentence when a capital follows
    if mark.startswith("..."):
        return True
    head = text[max(0, end_start - 20):end_start]
    word = _WORD_BEFORE.search(head)
    if not word:
        return True  # after a number or a symbol
    token = word.group(1)
    if token.lower() in ABBREVIATIONS:
        return False
    if len(token) == 1 and token.isupper():
        return False  # an initial: « J. Dupont »
    return True


# A quotation up to this long stays one sentence with the words that report it; a longer one
# is cut into its own sentences so that a highlight stays precise.
SHORT_QUOTATION = 250


def _inside_quotation(text: str, line_start: int, position: int, line_end: int) -> bool:
    """True inside a short « … » that closes later on the same line: « Nous devons agir.
    Maintenant », a-t-il dit. is one sentence."""
    opening = text.rfind("«", line_start, position)
    if opening < 0 or text.find("»", opening, position) >= 0:
        return False
    closing = text.find("»", position, line_end)
    return closing >= 0 and closing - opening <= SHORT_QUOTATION


def sentence_spans(text: str, start: int = 0, end: int | None = None) -> list[Span]:
    """Sentences of text[start:end] as spans of text, trimmed of surrounding white space.

    Lines are sentence boundaries too (headlines and list items end without a full stop).
    """
    end = len(text) if end is None else end
    spans: list[Span] = []
    for line in re.finditer(r"[^\n]+", text[start:end]):
        line_start = start + line.start()
        line_end = start + line.end()
        cursor = line_start
        for match in _BOUNDARY.finditer(text, line_start, line_end):
            if _inside_quotation(text, line_start, match.end("end"), line_end):
                continue
            if _ends_sentence(text, match.start("end"), match.end("end")):
                spans.append(Span(cursor, match.end("end")))
                cursor = match.end("gap")
        spans.append(Span(cursor, line_end))
    return [trimmed for span in spans if (trimmed := _trim(text, span)) is not None]


def _trim(text: str, span: Span) -> Span | None:
    start, end = span.start, span.end
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return Span(start, end) if end > start else None


def _split_long(text: str, span: Span, limit: int) -> list[Span]:
    """Cut a sentence longer than limit at white space, so no passage exceeds the model's window."""
    pieces = []
    start = span.start
    while span.end - start > limit:
        cut = text.rfind(" ", start + limit // 2, start + limit)
        cut = cut if cut > start else start + limit
        pieces.append(Span(start, cut))
        start = cut
        while start < span.end and text[start].isspace():
            start += 1
    if start < span.end:
        pieces.append(Span(start, span.end))
    return pieces


def sections(text: str) -> list[Span]:
    """Blocks separated by a blank line: passages never cross them."""
    return [Span(m.start(), m.end()) for m in re.finditer(r"(?:[^\n]|\n(?![ \t]*\n))+", text)
            if text[m.start():m.end()].strip()]


_WORDY = re.compile(r"\w")


def _runs(text: str, sentences: list[Span], excluded: set[tuple[int, int]]) -> list[list[Span]]:
    """Consecutive sentences that are not excluded: an excluded sentence (or a separator such as
    « *** ») cuts its section in two."""
    runs, current = [], []
    for sentence in sentences:
        if (sentence.start, sentence.end) in excluded or not _WORDY.search(text[sentence.start:sentence.end]):
            if current:
                runs.append(current)
            current = []
        else:
            current.append(sentence)
    return runs + ([current] if current else [])


def passages(doc_id: str, text: str, max_chars: int = 1000, overlap: int = 1,
             exclude: Iterable[Span] = (), spans: list[Span] | None = None) -> list[Passage]:
    """Sentences packed into passages of at most max_chars, consecutive passages sharing `overlap`
    sentences; sentences in `exclude` (text said elsewhere in the corpus) are left out. `spans`:
    the text's sentences when already known (sentence_spans of the whole text)."""
    excluded = {(span.start, span.end) for span in exclude}
    spans = sentence_spans(text) if spans is None else spans
    out: list[Passage] = []
    for section in sections(text):
        inside = [span for span in spans if section.start <= span.start and span.end <= section.end]
        for run in _runs(text, inside, excluded):
            sentences = [piece for span in run for piece in _split_long(text, span, max_chars)]
            first = 0
            while first < len(sentences):
                last = first
                while last + 1 < len(sentences) and sentences[last + 1].end - sentences[first].start <= max_chars:
                    last += 1
                start, end = sentences[first].start, sentences[last].end
                out.append(Passage(f"{doc_id}#{len(out)}", doc_id, len(out), text[start:end], start, end))
                if last + 1 >= len(sentences):
                    break
                first = max(first + 1, last + 1 - overlap)
    return out
