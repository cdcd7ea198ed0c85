"""Answers taken away: a citation ready to paste, and a conversation as Markdown with numbered references.

Both work on the answer's JSON contract (`Answer.to_dict()`), so the page, the API and the command
line give the same text.
"""
from __future__ import annotations

import datetime as dt

from .wording import MONTHS

ORGANISATION = "Organisation internationale pour les migrations (OIM)"
NBSP = "\u00a0"  # French typography: before ; : ? ! and inside « »
# Cards a reader sees at once under an answer (the page folds the others): what an export cites.
CITED = 3


def french_date(iso: str | None) -> str | None:
    """« 19 décembre 2024 », « 1er mai 2025 » from YYYY-MM-DD (None when there is no date)."""
    if not iso:
        return None
    try:
        day = dt.date.fromisoformat(iso)
    except ValueError:
        return iso
    return f"{'1er' if day.day == 1 else day.day} {MONTHS[day.month - 1]} {day.year}"


def quoted(text: str) -> str:
    return f"«{NBSP}{' '.join(text.split())}{NBSP}»"


def reference(citation: dict, url: str | None = None) -> str:
    """« Title », organisation, place, date, address or file."""
    parts = [quoted(citation["title"]) if citation.get("title") else None, ORGANISATION, citation.get("place"),
             french_date(citation.get("date")), url or citation.get("url") or citation.get("source")]
    return ", ".join(part for part in parts if part) + "."


def highlighted(citation: dict) -> str:
    """The sentence a citation highlights (its whole passage when it has no highlight)."""
    start, end = citation.get("highlight") or (0, len(citation["text"]))
    return citation["text"][start:end].strip() or citation["text"].strip()


def citation_text(citation: dict, url: str | None = None) -> str:
    """What « Copier la citation » copies: the quote, then its reference."""
    return f"{quoted(highlighted(citation))} — {reference(citation, url)}"


def conversation_markdown(exchanges: list[dict], title: str = "Conversation",
                          urls: dict[str, str] | None = None, floor: float = 0.0) -> str:
    """A conversation as Markdown: each question and its answer, the answers' markers numbered across
    the whole conversation, and the references under them. `exchanges`: {"question", "answer"} with
    `answer` in the JSON contract (or None for a turn that failed). Like the page, an answer cites
    its first passage and those at or above the confidence `floor`, three at most."""
    urls = urls or {}
    numbers: dict[str, int] = {}
    references: list[str] = []
    out = [f"# {title}", "", f"*Exportée le {french_date(dt.date.today().isoformat())}.*", ""]
    for turn, exchange in enumerate(exchanges, start=1):
        answer = exchange.get("answer") or {}
        out += [f"## {turn}. {' '.join(str(exchange.get('question') or '').split())}", ""]
        if answer.get("understood_as"):
            out += [f"*Compris{NBSP}: {answer['understood_as']}*", ""]
        markers = []
        citations = answer.get("citations") or []
        if not answer.get("abstained"):
            citations = [c for i, c in enumerate(citations) if i == 0 or c.get("confidence", 1.0) >= floor]
        for citation in citations[:CITED]:
            key = citation.get("passage_id") or f"{citation.get('doc_id')}:{citation.get('start')}"
            if key not in numbers:
                numbers[key] = len(numbers) + 1
                references.append(f"{numbers[key]}. {citation_text(citation, urls.get(citation.get('doc_id')))}")
            markers.append(f"[{numbers[key]}]")
        if answer.get("abstained") or not answer.get("answer"):
            out.append(answer.get("message") or "Pas de réponse.")
            if markers:
                out.append(f"Passages seulement proches de la question{NBSP}: {' '.join(markers)}")
        else:
            out.append(f"{answer['answer']['text']} {' '.join(markers[:1])}".strip())
            if len(markers) > 1:
                out.append(f"Voir aussi{NBSP}: {' '.join(markers[1:])}")
        out.append("")
    if references:
        out += ["## Références", "", *references, ""]
    return "\n".join(out)
