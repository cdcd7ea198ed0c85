"""How an answer is shown in the chat: escaped HTML, the supporting sentence marked in each passage.

Document text is data. Every character that HTML or Markdown could read as markup is written as
an entity, so a release containing `<script>`, `<img onerror=…>` or `![x](http://…)` shows as
text and never runs or fetches anything.
"""
from __future__ import annotations

import html

from .answer import Answer, Citation

# Characters that Markdown would read as syntax once HTML escaping is undone by the renderer.
_MARKDOWN = {c: f"&#{ord(c)};" for c in "\\`*_{}[]()#+-!|~$:"}


def inert(text: str) -> str:
    """Text as HTML that neither an HTML nor a Markdown renderer turns into markup."""
    escaped = html.escape(text, quote=True)
    return "".join(_MARKDOWN.get(c, c) for c in escaped).replace("\n", "<br>")


def percent(score: float) -> str:
    return f"{max(0.0, min(1.0, score)) * 100:.0f} %"


def citation_html(citation: Citation) -> str:
    start, end = citation.highlight
    text = citation.text
    passage = inert(text[:start]) + "<mark>" + inert(text[start:end]) + "</mark>" + inert(text[end:])
    meta = " · ".join(inert(part) for part in (citation.date, citation.place, citation.source) if part)
    title = inert(citation.title or citation.source)
    return (f'<div class="citation" id="citation-{citation.rank}">'
            f'<div class="citation-head"><b>[{citation.rank}] {title}</b></div>'
            f'<div class="citation-meta">{meta} · pertinence {percent(citation.score)}</div>'
            f'<div class="citation-text">{passage}</div></div>')


def answer_html(answer: Answer) -> str:
    """The chat bubble: the answer with its [n] markers, then the citations that support it."""
    if not answer.citations:
        return f"<p>{inert(answer.message)}</p>"
    parts = []
    if answer.truncated:
        parts.append(f"<p><i>{inert(answer.message.split(chr(10))[0])}</i></p>")
    if answer.abstained:
        parts.append("<p>Je n'ai trouvé aucun passage qui réponde à cette question.</p>")
        heading = "Passages peut-être utiles"
    else:
        markers = " ".join(f"[{c.rank}]" for c in answer.citations if c.doc_id == answer.sentence.doc_id
                           and c.start <= answer.sentence.start and answer.sentence.end <= c.end)
        parts.append(f"<p>{inert(answer.sentence.text)} <b>{markers}</b></p>")
        heading = "Sources"
    parts.append(f"<p><b>{heading}</b></p>")
    parts.extend(citation_html(c) for c in answer.citations)
    return "\n".join(parts)
