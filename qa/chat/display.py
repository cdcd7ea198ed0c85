"""How an answer is shown in the chat: escaped HTML, the supporting sentence marked in each passage.

Document text is data. Every character that HTML or Markdown could read as markup is written as
an entity, so a release containing `<script>`, `<img onerror=…>` or `![x](http://…)` shows as
text and never runs or fetches anything.
"""
from __future__ import annotations

from ..answering.answer import Answer, Citation, confidence_label
from ..export import ORGANISATION, citation_text, french_date
from ..reading.documents import Document

# Every character HTML or Markdown could read as markup, written as an entity (one pass, so the
# entities themselves are never escaped again).
_ENTITIES = {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;",
             **{c: f"&#{ord(c)};" for c in "\\`*_{}[]()#+-!|~$:="}}


def inert(text: str) -> str:
    """Text as HTML that neither an HTML nor a Markdown renderer turns into markup."""
    return "".join(_ENTITIES.get(c, c) for c in text).replace("\n", "<br>")


SHORT_MONTHS = ("janv.", "févr.", "mars", "avr.", "mai", "juin", "juil.", "août", "sept.", "oct.", "nov.", "déc.")


def short_date(iso: str | None) -> str:
    """« 19 déc. 2024 » ; « sans date » for an undated release."""
    if not iso:
        return "sans date"
    year, month, day = (int(part) for part in iso.split("-"))
    return f"{'1er' if day == 1 else day} {SHORT_MONTHS[month - 1]} {year}"


def chronology_text(answer: Answer) -> str:
    """The other statements of the answer's figure: « 19 déc. 2024 : 44 000 [2] · 13 déc. 2021 : 13 000 »."""
    items = []
    for statement in answer.chronology:
        cited = f" [{statement.rank}]" if statement.rank else ""
        items.append(f"{short_date(statement.date)} : {statement.figure or statement.text}{cited}")
    return " · ".join(items)


def filter_text(answer: Answer) -> str | None:
    """The chip of the period read from the question: « Période : 2022 (d'après « en 2022 ») »."""
    if not answer.filters:
        return None
    return f"Période : {answer.filters['label']} (d'après « {answer.filters['said']} »)"


def copies_text(citation: Citation) -> str | None:
    """« aussi publié sur : maliweb-….txt, … » for a story published by several releases."""
    if not citation.copies:
        return None
    return "aussi publié sur : " + ", ".join(copy.get("url") or copy["source"] for copy in citation.copies)


def reference(citation: Citation, url: str | None = None) -> str:
    """A reference ready to paste: « Title », organisation, place, date, file or address."""
    parts = [f"« {citation.title} »" if citation.title else None, ORGANISATION, citation.place,
             french_date(citation.date), url or citation.source]
    return ", ".join(part for part in parts if part) + "."


def _marked(text: str, start: int, end: int, css: str = "") -> str:
    attribute = f' class="{css}"' if css else ""
    return inert(text[:start]) + f"<mark{attribute}>" + inert(text[start:end]) + "</mark>" + inert(text[end:])


def release_html(citation: Citation, document: Document) -> str:
    """The whole release, the cited passage marked and the supporting sentence marked inside it."""
    text = document.text
    sentence_start = citation.start + citation.highlight[0]
    sentence_end = citation.start + citation.highlight[1]
    return (inert(text[:citation.start]) + '<span class="cited-passage">'
            + _marked(text[citation.start:citation.end], sentence_start - citation.start,
                      sentence_end - citation.start)
            + "</span>" + inert(text[citation.end:]))


def citation_html(citation: Citation, document: Document | None = None) -> str:
    start, end = citation.highlight
    meta = " · ".join(inert(part) for part in (french_date(citation.date), citation.place, citation.source) if part)
    title = inert(citation.title or citation.source)
    # The confidence is the calibrated probability that the highlighted sentence answers, in words.
    label = confidence_label(citation.confidence)
    card = (f'<div class="citation" id="citation-{citation.rank}">'
            f'<div class="citation-head"><b>[{citation.rank}] {title}</b></div>'
            f'<div class="citation-meta">{meta} · confiance {label} '
            f'<progress class="score" max="100" value="{citation.confidence * 100:.0f}"></progress></div>'
            f'<div class="citation-text">{_marked(citation.text, start, end)}</div>')
    # « Copier la citation »: the page's script copies the hidden quote with its reference.
    card += (f'<span class="citation-quote">{inert(citation_text(citation.to_dict(), document.url if document else None))}'
             f'</span><button class="copy-citation" type="button">Copier la citation</button>')
    if copies := copies_text(citation):
        card += f'<div class="citation-copies">{inert(copies)}</div>'
    if document is not None:
        card += (f'<details class="citation-full"><summary>Voir le communiqué entier et la référence</summary>'
                 f'<div class="reference">Référence : {inert(reference(citation, document.url))}</div>'
                 f'<div class="release-text">{release_html(citation, document)}</div></details>')
    return card + "</div>"


NO_PASSAGE = "Je n'ai trouvé aucun passage qui réponde à cette question."
# Cards shown at once under an answer; the others wait behind « Autres passages (n) ».
SHOWN = 3


def answer_html(answer: Answer, documents: dict[str, Document] | None = None, floor: float = 0.0) -> str:
    """The chat bubble: how a follow-up was understood, the answer with its [n] markers, then up to
    three cards (the answer's own passage first), the others folded; a card under the confidence
    floor is not shown as a source. When the assistant abstains the closest passages come under a
    heading that says they only come close."""
    documents = documents or {}
    # A follow-up says how it was understood, so a misreading is seen (and can be asked again alone).
    understood = (f'<p class="understood"><i>Compris : {inert(answer.understood_as)}</i></p>'
                  if answer.understood_as else "")
    if not answer.citations:
        return f"{understood}<p>{inert(answer.message)}</p>"
    parts = [understood] if understood else []
    if chip := filter_text(answer):
        parts.append(f'<p class="filter-chip">{inert(chip)}</p>')
    if answer.truncated:
        parts.append(f"<p><i>{inert(answer.message.split(chr(10))[0])}</i></p>")
    citations = answer.citations
    if answer.abstained:
        parts.append(f"<p>{inert(answer.message.split(chr(10))[-1]) if answer.filters else NO_PASSAGE}</p>")
        heading = "Passages seulement proches de la question (ils n'y répondent pas sûrement)"
    else:
        citations = [c for i, c in enumerate(citations) if i == 0 or c.confidence >= floor]
        markers = " ".join(f"[{c.rank}]" for c in citations if c.doc_id == answer.sentence.doc_id
                           and c.start <= answer.sentence.start and answer.sentence.end <= c.end)
        parts.append(f'<p class="answer">{inert(answer.sentence.text)} <b>{markers}</b> '
                     f'<span class="confidence">(confiance {confidence_label(answer.confidence)})</span></p>')
        if answer.chronology:
            parts.append(f'<p class="chronology"><b>Chiffres antérieurs ou sans date :</b> '
                         f'{inert(chronology_text(answer))}</p>')
        heading = "Sources"
    parts.append(f"<p><b>{heading}</b></p>")
    parts.extend(citation_html(c, documents.get(c.doc_id)) for c in citations[:SHOWN])
    if len(citations) > SHOWN:
        parts.append(f'<details class="more-citations"><summary>Autres passages ({len(citations) - SHOWN})</summary>'
                     + "\n".join(citation_html(c, documents.get(c.doc_id)) for c in citations[SHOWN:])
                     + "</details>")
    return "\n".join(parts)
