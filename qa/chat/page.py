"""The chat page: French questions about the press releases, answered with the passages that support them.

    python app.py [--host HOST] [--port PORT] [--corpus DIR] [--index DIR]     (or python -m qa serve)

On start the index is built (or brought up to date) from the corpus, with progress on the
terminal, then the chat is served at http://127.0.0.1:7860 (GRADIO_SERVER_NAME and
GRADIO_SERVER_PORT are honoured when --host and --port are not given). Releases added from the
« Ajouter des documents » tab, or copied into the corpus and taken in with « Réindexer », are
indexed incrementally and answered at once, without a restart.

Who may add documents and reindex is decided by the service (qa/access.py) from the address the
server listens on and QA_EDITOR_PASSWORD; the page only asks for the password once per session
and passes it along. Named API endpoints: /ask (anyone), /upload and /reindex (editors); beside
them, for programs, the plain JSON route POST /api/ask (qa/chat/routes.py).
"""
from __future__ import annotations

import argparse
import atexit
import datetime as dt
import os
import re
import secrets
import shutil
import sys
import tempfile
from pathlib import Path

import gradio as gr
from gradio import FileData

from ..access import OPERATOR, Access
from ..answering.conversation import cited
from ..answering.search import Filter
from ..errors import QAError
from ..reading.formats import FORMATS
from ..export import conversation_markdown, french_date
from ..service import NOTHING_INDEXED, Service, terminal_progress
from ..wording import plural
from ..settings import MB, Settings
from .display import answer_html, inert
from .routes import api_routes

TITLE = "Communiqués de presse de l’OIM\u00a0: questions et sources"
INTRO = ("Posez une question\u00a0: la réponse est la phrase d’un communiqué qui y répond, suivie des passages "
         "qui la justifient, numérotés pour être cités. Les sources sont en français\u00a0; une question posée "
         "en anglais reçoit des passages en français.")
EXAMPLES = [
    "Combien de migrants maliens sont rentrés volontairement du Niger depuis 2017\u00a0?",
    "Quel était le thème de la Journée internationale des migrants 2024\u00a0?",
    "Qui a présidé la cérémonie à Ségou\u00a0?",
    "Combien d’États membres compte l’OIM\u00a0?",
]
ASK_ALONE = "Reposer sans le contexte"
RETRY_WITHOUT_FILTERS = "Retirer les filtres et reposer la question"
_DROP = "\x00sans-filtres\x00"  # marks the option value that drops the filters
NBSP = "\u00a0"
RETRY_WITHOUT_DATES = "Retirer le filtre de date"
WITHOUT_DATES = "\x00sans-filtre\x00"  # marks the option's value: the question asked again without its period
# The upload's choice for a name already taken, as the page says it → as the service takes it.
ASK_FIRST = "Me demander (ne rien enregistrer)"
EXISTING = {ASK_FIRST: None, "Remplacer (version corrigée)": "replace", "Garder les deux": "keep"}
CSS = """
.citation { border: 1px solid var(--border-color-primary); border-radius: 6px; padding: 6px 10px; margin: 6px 0; }
.citation-meta { font-size: 0.85em; opacity: 0.8; }
.citation-meta progress { width: 80px; height: 8px; vertical-align: middle; }
.citation-text { margin-top: 4px; }
.citation mark { background: #fde68a; color: inherit; }
.citation .cited-passage { background: #e0f2fe; }
.citation .release-text { max-height: 320px; overflow-y: auto; border-top: 1px dashed #bbb; margin-top: 4px;
                          padding-top: 4px; white-space: pre-wrap; }
.citation .reference { font-size: 0.9em; margin: 4px 0; user-select: all; }
.citation-quote { display: none; }
.copy-citation { font-size: 0.85em; margin-top: 4px; padding: 2px 8px; border: 1px solid var(--border-color-primary);
                 border-radius: 4px; background: var(--background-fill-secondary); cursor: pointer; }
.understood { font-size: 0.9em; opacity: 0.85; }
#date-error, #date-error p { color: #b91c1c !important; }
.field-error:empty { display: none; }
.releases { list-style: none; padding: 0; margin: 0; }
.releases li { border-bottom: 1px solid var(--border-color-primary); padding: 6px 0; overflow-wrap: anywhere; }
.releases .meta { font-size: 0.9em; opacity: 0.85; }
.releases .skipped { color: #92400e; }
/* Phone: nothing wider than the screen, no sideways scroll. */
html, body, gradio-app { max-width: 100%; overflow-x: hidden; }
#chat .message, #chat .message-row { max-width: 100%; overflow-wrap: anywhere; }
@media (max-width: 600px) {
  .gradio-container { padding: 4px !important; }
  #intro p { font-size: 0.9em; }
}
"""
# French whatever the browser's language (Gradio's own strings follow its locale), the answer's
# start shown after each reply (not its end), « Copier la citation », and opening a citation
# scrolls its passage into view inside the release.
JS = """
() => {
  document.documentElement.lang = 'fr';
  const core = performance.getEntriesByType('resource').map((entry) => entry.name)
    .find((name) => /\\/assets\\/core-[^\\/]*\\.js$/.test(name));
  if (core) import(core).then((module) => module.changeLocale && module.changeLocale('fr')).catch(() => {});
  window.scrollTo(0, 0);
  // Gradio's own labels that its translations leave in English (read by screen readers).
  const labels = {'Copy conversation': 'Copier la conversation', 'Copy message': 'Copier le message',
    'More tabs': 'Autres onglets', 'chatbot conversation': 'Conversation', 'File upload': 'Envoi de fichiers',
    'Click to upload or drop files': 'Cliquez pour choisir des fichiers, ou déposez-les ici',
    'Gradio footer navigation': 'Pied de page', 'Share': 'Partager', 'Clear': 'Effacer', 'Copy': 'Copier',
    'Copied message': 'Message copié', 'Copied conversation': 'Conversation copiée'};
  const relabel = (element) => {
    for (const attribute of ['aria-label', 'title']) {
      const value = element.getAttribute(attribute);
      if (!value) continue;
      let french = labels[value];
      if (value.startsWith("user's message")) french = 'Votre question';
      if (value.startsWith("bot's message")) french = "Réponse de l'assistant";
      if (french && french !== value) element.setAttribute(attribute, french);
    }
  };
  const relabelAll = () => document.querySelectorAll('[aria-label], [title]').forEach(relabel);
  let replies = 0;
  const showLatest = () => {
    const bots = document.querySelectorAll('#chat .message-row.bot-row, #chat .message.bot');
    const done = [...bots].filter((row) => row.querySelector('p, .answer, .citation'));
    if (done.length < replies) replies = done.length;  // the conversation was cleared
    if (done.length > replies) {
      replies = done.length;
      const last = done[done.length - 1];
      const row = last.closest('.message-row') || last;
      // The chat's own scroll first (the reply's top at its top), the page only when the reply is off screen.
      let box = row.parentElement;
      while (box && box !== document.body && !(box.scrollHeight > box.clientHeight + 1
             && /(auto|scroll)/.test(getComputedStyle(box).overflowY))) box = box.parentElement;
      if (box && box !== document.body) box.scrollTop += row.getBoundingClientRect().top - box.getBoundingClientRect().top - 8;
      const top = row.getBoundingClientRect().top;
      if (top < 0 || top > innerHeight * 0.5) window.scrollBy(0, top - 8);
    }
  };
  new MutationObserver(() => requestAnimationFrame(() => { showLatest(); relabelAll(); }))
    .observe(document.body, {childList: true, subtree: true, attributes: true, attributeFilter: ['aria-label', 'title']});
  relabelAll();
  document.addEventListener('toggle', (event) => {
    const details = event.target;
    if (details.open && details.classList && details.classList.contains('citation-full')) {
      const mark = details.querySelector('.cited-passage');
      if (mark) mark.scrollIntoView({block: 'center'});
    }
  }, true);
  document.addEventListener('click', (event) => {
    const button = event.target.closest && event.target.closest('.copy-citation');
    if (!button) return;
    const quote = button.closest('.citation').querySelector('.citation-quote');
    const text = quote ? quote.textContent : '';
    const copied = () => { button.textContent = 'Citation copiée'; setTimeout(() => { button.textContent = 'Copier la citation'; }, 2000); };
    const fallback = () => {
      const area = document.createElement('textarea');
      area.value = text; document.body.appendChild(area); area.select();
      try { document.execCommand('copy'); copied(); } finally { area.remove(); }
    };
    if (navigator.clipboard && window.isSecureContext) navigator.clipboard.writeText(text).then(copied, fallback);
    else fallback();
    window.__lastCopied = text;
  });
}
"""


def french_number(value: float) -> str:
    """52,4 (a decimal comma, one decimal at most)."""
    return f"{value:.1f}".rstrip("0").rstrip(".").replace(".", ",")


# What every launch of the page takes besides css and js: the footer shows only the (translated)
# link to the API, not « Built with Gradio » nor the settings (whose language choice would undo French).
LAUNCH = {"footer_links": ["api"]}


# A build report's counts in French: « 1 ajouté », « 0 retiré », « 1 passage vectorisé ».
_SINGULAR = {"documents": "document", "ajoutés": "ajouté", "modifiés": "modifié", "retirés": "retiré",
             "inchangés": "inchangé", "passages": "passage", "vectorisés": "vectorisé", "communiqués": "communiqué",
             "indexés": "indexé", "autres": "autre", "repris": "repris"}
_COUNTED = re.compile(r"(?<![\d,.\u202f])([01]) (" + "|".join(_SINGULAR) + r")\b(?: (" + "|".join(_SINGULAR) + r")\b)?")


# The stages' messages carry an English gloss in parentheses for the command line and the API
# (« fichier vide (empty file) »); the page, French for its readers, leaves it out.
_GLOSS = re.compile(r" \(([\x20-\x7e]*)\)(?=\.?$)", re.M)
_ENGLISH = frozenset("""a an the of or no not is are with without over under too file files folder text data pdf
    empty hidden missing invalid corrupt unreadable unexpected must does package members device socket link
    choose checksum binary editor named pipe expected malformed indexing progress received string integer yet
    may needs need signed limit loop target removed backup temporary extension encoding unknown main page
    protected extractable object json regular read large many much passages pages name list uploaded this
    app question document indexed wrong password beyond loopback editing""".split())


def french_only(text: str) -> str:
    """A message without its English gloss (a trailing parenthesis in plain English)."""
    def gloss(match: re.Match) -> str:
        words = re.findall(r"[a-z]+", match.group(1).lower())
        return "" if len(words) >= 2 and sum(w in _ENGLISH for w in words) >= 2 else match.group(0)
    return _GLOSS.sub(gloss, text)


def french_counts(text: str) -> str:
    """Plurals after 0 and 1 made singular, as French writes them."""
    def singular(match: re.Match) -> str:
        words = [_SINGULAR[w] for w in match.groups()[1:] if w]
        return f"{match.group(1)} " + " ".join(words)
    text = french_only(_COUNTED.sub(singular, text))
    return re.sub(r" ([:;?!])(?=\s|$)", "\u00a0\\1", text, flags=re.M)  # espace insécable before : ; ? !


def _progress_callback(progress: gr.Progress):
    labels = {"lecture": "Lecture des fichiers", "vecteurs": "Calcul des vecteurs", "phrases": "Vecteurs des phrases"}

    def report(stage: str, done: int, total: int) -> None:
        progress((done, total) if total else None, desc=labels.get(stage, stage))
    return report


def _date_bound(value: str | None) -> str | None:
    value = (value or "").strip()
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value).isoformat()
    except ValueError:
        raise BadDate(f"Date invalide «{NBSP}{value}{NBSP}»{NBSP}: écrivez-la AAAA-MM-JJ, par exemple 2024-12-19.") from None


class BadDate(ValueError):
    """A date of the filter that is not a date: said under the field, not in a toast."""


def _dates(date_from: str | None, date_to: str | None) -> tuple[str | None, str | None, str]:
    """The filter's dates, and what to say under the fields (empty when they are fine)."""
    problems, bounds = [], []
    for label, value in (("Depuis le", date_from), ("Jusqu'au", date_to)):
        try:
            bounds.append(_date_bound(value))
        except BadDate as error:
            bounds.append(None)
            problems.append(f"{label}{NBSP}: {error}")
    if not problems and bounds[0] and bounds[1] and bounds[0] > bounds[1]:
        problems.append(f"La période est à l'envers{NBSP}: le {bounds[0]} vient après le {bounds[1]}.")
    return bounds[0], bounds[1], " ".join(problems)


def upload_folder() -> Path:
    """Where Gradio keeps the files its upload route received."""
    from gradio.utils import get_upload_folder
    return Path(get_upload_folder()).resolve()


def discard_uploads(paths) -> None:
    """Delete Gradio's temporary copies of uploaded files, once stored in the corpus or refused
    (only files inside Gradio's upload folder, with the folder Gradio made for each)."""
    folder = upload_folder()
    for path in paths:
        try:
            path = Path(path).resolve()
        except (OSError, TypeError, ValueError):
            continue
        if path == folder or not path.is_relative_to(folder):
            continue
        path.unlink(missing_ok=True)
        if path.parent != folder:
            try:
                path.parent.rmdir()
            except OSError:
                pass


def sent_files(files) -> list[tuple[Path, str]]:
    """(path, name as sent) for the files given to /upload, which must be files Gradio's upload
    route received: a path anywhere else (/etc/passwd) is refused."""
    if not isinstance(files, list):
        raise QAError("Attendu une liste de fichiers (expected a list of files).")
    folder, sent = upload_folder(), []
    for item in files:
        path = item.get("path") if isinstance(item, dict) else getattr(item, "path", item)
        if not isinstance(path, (str, Path)):
            raise QAError("Fichier mal formé : attendu un fichier envoyé avec handle_file (malformed file).")
        resolved = Path(path).resolve()
        if resolved == folder or not resolved.is_relative_to(folder):
            raise QAError(f"« {Path(path).name} » n'a pas été reçu par l'envoi de fichiers de l'application : "
                          f"envoyez-le avec gradio_client.handle_file (file not uploaded to this app).")
        name = (item.get("orig_name") if isinstance(item, dict) else getattr(item, "orig_name", None)) \
            or resolved.name
        sent.append((resolved, str(name)))
    return sent


def _paths(files) -> list:
    if not isinstance(files, list):
        return []
    return [item.get("path") if isinstance(item, dict) else getattr(item, "path", item) for item in files]


def _alert(problem: str) -> str:
    """A problem under a field, announced by screen readers (empty when there is none)."""
    return f'<p role="alert">{inert(problem)}</p>' if problem else ""


def _filter_words(where: Filter) -> str:
    """The filters in words, for the reply that says they excluded everything."""
    parts = []
    if where.sources:
        parts.append(plural(len(where.sources), "communiqué choisi", "communiqués choisis"))
    if where.date_from and where.date_to:
        parts.append(f"du {french_date(where.date_from)} au {french_date(where.date_to)}")
    elif where.date_from:
        parts.append(f"depuis le {french_date(where.date_from)}")
    elif where.date_to:
        parts.append(f"jusqu'au {french_date(where.date_to)}")
    return ", ".join(parts)


def releases_html(rows: list[list], skipped: dict[str, str]) -> str:
    """The Documents tab's list, readable on a phone: title, date, place, passages, status."""
    if not rows and not skipped:
        return f"<p>{inert(french_only(NOTHING_INDEXED))}</p>"
    items = []
    for title, date, place, source, count, state in rows:
        meta = " · ".join(part for part in (french_date(date) or "sans date", place,
                                             plural(count, "passage"), state or "indexé") if part)
        items.append(f'<li><b>{inert(title or source)}</b><br><span class="meta">{inert(meta)}</span>'
                     f'<br><span class="meta">{inert(source)}</span></li>')
    for source, reason in sorted(skipped.items()):
        items.append(f'<li class="skipped"><b>{inert(source)}</b><br>'
                     f'<span class="meta">ignoré{NBSP}: {inert(french_only(reason))}</span></li>')
    return f'<ul class="releases" aria-label="Communiqués indexés">{"".join(items)}</ul>'


_exports: list[Path] = []


def _export_dir() -> Path:
    """The process's folder of exported conversations: made at the first export, removed at exit."""
    if not _exports:
        _exports.append(Path(tempfile.mkdtemp(prefix="qa-export-")))
        atexit.register(shutil.rmtree, _exports[0], ignore_errors=True)
    return _exports[0]


def build_ui(service: Service) -> gr.Blocks:
    """The Blocks app; nothing is loaded until the first question."""
    access = service.access

    def exported(exchanges: list) -> str | None:
        """The conversation as a Markdown file to download (None while it is empty)."""
        if not exchanges:
            return None
        path = _export_dir() / f"conversation-{secrets.token_hex(6)}.md"
        path.write_text(conversation_markdown(exchanges, TITLE, floor=service.assistant().model.floor),
                        encoding="utf-8")
        return str(path)

    def respond(question: str, history: list, turns: list, exchanges: list, k: float, sources: list[str],
                date_from: str, date_to: str, alone: bool = False,
                use_question_dates: bool = True):
        """One turn: the question read with the turns before it (`turns`: what the service needs of
        them), unless `alone`; a follow-up shows how it was understood and offers to ask it alone.
        A bad date is said under the date fields and nothing is asked."""
        question = (question or "").strip()
        start, end, problem = _dates(date_from, date_to)
        if problem and not (start and end and start > end):  # a reversed range is asked: it says it excludes all
            return question, history, turns, exchanges, _alert(problem), gr.update()
        history, turns, exchanges = list(history or []), ([] if alone else list(turns or [])), list(exchanges or [])
        history.append({"role": "user", "content": inert(question) if question else "…"})
        where = Filter(frozenset(sources) if sources else None, start, end)
        reply: dict = {"role": "assistant"}
        try:
            if where and question and service.matching(where) == 0:
                reply["content"] = (f"<p>Aucun communiqué ne correspond aux filtres ({inert(_filter_words(where))}){NBSP}: "
                                    f"rien n'a été cherché.</p>")
                reply["options"] = [{"label": RETRY_WITHOUT_FILTERS, "value": _DROP + question}]
                history.append(reply)
                return "", history, turns, exchanges, _alert(problem), gr.update()
            answer = service.ask(question, k=int(k), where=where, history=turns,
                                 use_question_dates=use_question_dates)
            reply["content"] = answer_html(answer, service.documents_of(answer),
                                           floor=service.assistant().model.floor)
            options = []
            if answer.understood_as:
                options.append({"label": ASK_ALONE, "value": question})
            if where and answer.abstained and question:
                reply["content"] += (f"<p><i>Les filtres ({inert(_filter_words(where))}) limitent la recherche "
                                     f"à {plural(service.matching(where) or 0, 'communiqué')}.</i></p>")
                options.append({"label": RETRY_WITHOUT_FILTERS, "value": _DROP + question})
            if answer.filters:  # the period read from the question, which the reader can remove
                options.append({"label": RETRY_WITHOUT_DATES, "value": WITHOUT_DATES + question})
            if options:
                reply["options"] = options
            if question:
                turns.append({"q": question, "understood_as": answer.understood_as,
                              "doc_ids": list(cited(answer))})
                exchanges.append({"index": len(history), "question": question, "answer": answer.to_dict()})
        except QAError as error:
            reply["content"] = f"<p>{inert(french_only(str(error)))}</p>"
        history.append(reply)
        return "", history, turns, exchanges, _alert(problem), exported(exchanges)

    def respond_option(history: list, turns: list, exchanges: list, k: float, sources: list[str], date_from: str,
                       date_to: str, selected: gr.SelectData):
        """« Reposer sans le contexte »: the raw question again, read alone; « Retirer les filtres »:
        the question again without the filters (which are cleared); « Retirer le filtre de date »: the
        question again without the period it names."""
        value = str(selected.value)
        if value.startswith(WITHOUT_DATES):
            out = respond(value[len(WITHOUT_DATES):], history, turns, exchanges, k, sources, date_from, date_to,
                          use_question_dates=False)
            return (*out, gr.update(), gr.update(), gr.update())
        if value.startswith(_DROP):
            out = respond(value[len(_DROP):], history, turns, exchanges, k, [], "", "")
            return (*out, gr.update(value=[]), "", "")
        out = respond(value, history, [], exchanges, k, sources, date_from, date_to, alone=True)
        return (*out, gr.update(), gr.update(), gr.update())

    def check_dates(date_from: str, date_to: str) -> str:
        return _alert(_dates(date_from, date_to)[2])

    def liked(exchanges: list, vote: gr.LikeData):
        """👍/👎 on an answer: stored with its question, answer and cited passages; a comment may follow."""
        index = vote.index[0] if isinstance(vote.index, (list, tuple)) else vote.index
        exchange = next((e for e in exchanges or [] if e["index"] == index), None)
        if exchange is None or vote.liked not in (True, False):
            return None, gr.update(visible=False), ""
        try:
            feedback_id = service.feedback.rate(bool(vote.liked), exchange["question"], exchange["answer"])
        except QAError as error:
            return None, gr.update(visible=False), str(error)
        return (feedback_id, gr.update(visible=True),
                f"Merci{NBSP}! Avis enregistré ({'👍' if vote.liked else '👎'}). Un commentaire{NBSP}? (facultatif)")

    def commented(feedback_id: str | None, comment: str):
        if not feedback_id or not (comment or "").strip():
            return feedback_id, gr.update(), "Écrivez d'abord un commentaire, ou laissez-le vide."
        try:
            service.feedback.comment(feedback_id, comment)
        except QAError as error:
            return feedback_id, gr.update(), str(error)
        return None, gr.update(visible=False, value=""), "Merci, commentaire enregistré."

    def ask(question: str, k: int = 5, history: list | None = None, use_question_dates: bool = True) -> dict:
        """The answer to one question in the JSON contract: answer sentence, abstained, citations, and
        `understood_as` when `history` (the previous questions, oldest first, or {"q", "doc_ids"}
        objects) makes it a follow-up; `filters` the period read from the question
        (`use_question_dates=False` drops it), `chronology` the other statements of its figure."""
        try:
            return service.ask(question, k=k, history=history, use_question_dates=use_question_dates).to_dict()
        except QAError as error:
            raise gr.Error(str(error)) from None

    def refreshed():
        rows = service.releases()
        choices = sorted(((row[0] or row[3], row[3]) for row in rows), key=lambda choice: choice[0].casefold())
        return (french_only(service.status()), gr.update(choices=choices), releases_html(rows, service.skipped()),
                french_counts(service.report()))

    def sign_in(password: str):
        """Check the editor password once; the session keeps it (server side) for its edits."""
        try:
            service.access.check(password or "")
        except QAError as error:
            raise gr.Error(french_only(str(error))) from None
        return password, "", f"Mot de passe accepté{NBSP}: vous êtes éditeur pour cette session."

    def reindex_from_page(credential, progress=gr.Progress()):
        try:
            service.reindex(_progress_callback(progress), credential=credential)
        except QAError as error:
            raise gr.Error(french_only(str(error))) from None
        return refreshed()

    def upload_from_page(files, credential, existing, progress=gr.Progress()):
        if not files:
            raise gr.Error("Choisissez d'abord un ou plusieurs fichiers.")
        try:
            service.add_files([(Path(path), Path(path).name) for path in files], _progress_callback(progress),
                              credential=credential, existing=EXISTING.get(existing))
        except QAError as error:
            raise gr.Error(french_only(str(error))) from None
        finally:
            discard_uploads(files)
        return (*refreshed(), None)

    def upload_api(files: list[FileData], password: str = "", existing: str = "") -> dict:
        """Editors: add files to the corpus and index them. Returns one line per file (ajouté,
        remplacé, renommé, déjà présent, nom déjà pris, refusé and why) and the build report.
        `existing`: for a file whose name another file has, "replace" or "keep" (both); empty: not
        stored, « nom déjà pris », so that the caller chooses."""
        try:
            service.access.check(password)
            sent = sent_files(files)
            if not sent:
                raise QAError("Aucun fichier reçu (no file received).")
            received = service.add_files(sent, credential=password, existing=existing or None)
        except QAError as error:
            raise gr.Error(str(error)) from None
        finally:
            discard_uploads(_paths(files))
        return {"files": [{"name": r.name, "status": r.status, "source": r.source, "reason": r.reason}
                          for r in received],
                "report": service.report()}

    def reindex_api(password: str = "") -> str:
        """Editors: take in the files changed in the corpus folder; returns the build report."""
        try:
            return service.reindex(credential=password).summary()
        except QAError as error:
            raise gr.Error(str(error)) from None

    with gr.Blocks(title=TITLE, delete_cache=(3600, 3600)) as demo:
        gr.Markdown(f"# {TITLE}\n{INTRO}", elem_id="intro")
        status = gr.Markdown(french_only(service.status()), elem_id="status")
        with gr.Tabs():
            with gr.Tab("Questions", id="questions"):
                with gr.Row(equal_height=True):
                    question = gr.Textbox(label="Votre question", placeholder="Posez votre question…",
                                          scale=5, elem_id="question", lines=1,
                                          max_length=service.settings.max_question_chars * 50)
                    send = gr.Button("Envoyer", variant="primary", scale=1, min_width=90, elem_id="send")
                chat = gr.Chatbot(label="Conversation", show_label=False, height="70vh", min_height=320,
                                  sanitize_html=True, elem_id="chat", autoscroll=False,
                                  placeholder="Les réponses et leurs sources s’affichent ici.",
                                  feedback_options=("Like", "Dislike"))
                turns = gr.State([])  # the conversation as the service reads it
                exchanges = gr.State([])  # each answer with its question, for feedback and export
                feedback_id = gr.State(None)
                feedback_note = gr.Markdown("", elem_id="feedback-note")
                with gr.Row(visible=False, elem_id="feedback-comment") as comment_row:
                    comment = gr.Textbox(label="Votre commentaire (facultatif)", scale=4, elem_id="comment",
                                         max_length=1000)
                    comment_button = gr.Button("Envoyer le commentaire", scale=1, elem_id="send-comment")
                with gr.Accordion("Filtres", open=False, elem_id="filters"):
                    k = gr.Slider(1, 10, value=service.settings.k, step=1, label="Nombre de passages cités")
                    releases = gr.Dropdown(choices=[], multiselect=True, label="Communiqués (tous si vide)",
                                           elem_id="release-filter")
                    with gr.Row():
                        date_from = gr.Textbox(label="Depuis le (AAAA-MM-JJ)", placeholder="2021-01-01",
                                               elem_id="date-from")
                        date_to = gr.Textbox(label="Jusqu’au (AAAA-MM-JJ)", placeholder="2024-12-31",
                                             elem_id="date-to")
                    date_error = gr.Markdown("", elem_id="date-error", elem_classes="field-error")
                gr.Examples(EXAMPLES, inputs=question, label="Exemples de questions")
                with gr.Row():
                    download = gr.DownloadButton("Exporter la conversation", value=None, elem_id="export",
                                                 variant="secondary")
                    clear = gr.Button("Effacer la conversation", variant="secondary", elem_id="clear")
            with gr.Tab("Documents", id="documents"):
                table = gr.HTML(releases_html([], {}), elem_id="releases")
                reindex_button = gr.Button("Réindexer", elem_id="reindex", visible=not access.read_only)
                gr.Markdown("«\u00a0Réindexer\u00a0» prend en compte les fichiers copiés à la main dans le dossier du corpus.",
                            visible=not access.read_only)
                report = gr.Textbox(label="Dernière indexation", lines=8, interactive=False, elem_id="report")
            with gr.Tab("Ajouter", id="upload"):
                gr.Markdown(access.notice(), elem_id="access")
                with gr.Row(visible=access.needs_password):
                    password = gr.Textbox(label="Mot de passe d’éditeur", type="password", scale=4,
                                          elem_id="editor-password")
                    sign_in_button = gr.Button("Se connecter", scale=1, elem_id="sign-in")
                signed_in = gr.Markdown("", elem_id="signed-in")
                gr.Markdown(f"Formats acceptés{NBSP}: {', '.join(FORMATS)}{NBSP}; au plus "
                            f"{french_number(service.settings.upload_bytes / MB)}{NBSP}Mo par fichier. Un fichier au "
                            f"nom déjà pris n'est enregistré que selon votre choix ci-dessous{NBSP}; un fichier vide "
                            f"ou illisible est refusé sans être enregistré.", visible=not access.read_only)
                existing = gr.Radio(list(EXISTING), value=ASK_FIRST, label="Si un fichier porte déjà ce nom",
                                    elem_id="upload-existing", visible=not access.read_only)
                files = gr.File(label="Communiqués", file_count="multiple", file_types=list(FORMATS),
                                type="filepath", elem_id="upload-files", visible=not access.read_only)
                add = gr.Button("Ajouter et indexer", variant="primary", elem_id="add", visible=not access.read_only)
                received = gr.Textbox(label="Fichiers reçus et indexation", lines=6, interactive=False,
                                      elem_id="received", visible=not access.read_only)
        # The editor password of this session, once accepted (kept on the server, never sent back).
        editor = gr.State(None)

        inputs = [question, chat, turns, exchanges, k, releases, date_from, date_to]
        answered = [question, chat, turns, exchanges, date_error, download]
        for trigger in (question.submit, send.click):
            trigger(respond, inputs, answered, api_visibility="private", show_progress="minimal")
        chat.option_select(respond_option, [chat, turns, exchanges, k, releases, date_from, date_to],
                           [*answered, releases, date_from, date_to], api_visibility="private",
                           show_progress="minimal")
        for field in (date_from, date_to):
            field.blur(check_dates, [date_from, date_to], date_error, api_visibility="private", show_progress="hidden")
        chat.like(liked, exchanges, [feedback_id, comment_row, feedback_note], api_visibility="private",
                  show_progress="hidden")
        for trigger in (comment.submit, comment_button.click):
            trigger(commented, [feedback_id, comment], [feedback_id, comment_row, feedback_note],
                    api_visibility="private", show_progress="hidden")
        clear.click(lambda: ([], [], [], None, "", gr.update(visible=False)), None,
                    [chat, turns, exchanges, download, feedback_note, comment_row], api_visibility="private")
        chat.clear(lambda: ([], [], None), None, [turns, exchanges, download], api_visibility="private")
        outputs = [status, releases, table, report]
        reindex_button.click(reindex_from_page, editor, outputs, api_visibility="private")
        add.click(upload_from_page, [files, editor, existing], [*outputs, files], api_visibility="private").then(
            lambda: french_counts(service.report()), None, received, api_visibility="private")
        sign_in_button.click(sign_in, password, [editor, password, signed_in], api_visibility="private")
        password.submit(sign_in, password, [editor, password, signed_in], api_visibility="private")
        demo.load(refreshed, None, outputs, api_visibility="private")
        gr.api(ask, api_name="ask")
        gr.api(upload_api, api_name="upload")
        gr.api(reindex_api, api_name="reindex")
    return demo


def serve(service: Service, host: str | None = None, port: int | None = None, block: bool = True) -> gr.Blocks:
    """Launch the page of a service. Gradio's upload route takes files from anyone who reaches the
    port, so it is bounded: the upload limit (QA_MAX_UPLOAD_MB, default the file limit), and a
    read-only app accepts no upload at all."""
    demo = build_ui(service)
    demo.queue(default_concurrency_limit=4)
    max_file_size = 1 if service.access.read_only else service.settings.upload_bytes
    demo.launch(server_name=host, server_port=port, prevent_thread_lock=not block, theme=gr.themes.Soft(),
                css=CSS, js=JS, max_file_size=max_file_size, quiet=not block,
                app_kwargs={"routes": api_routes(service)}, **LAUNCH)
    return demo


def main(settings: Settings | None = None, host: str | None = None, port: int | None = None,
         block: bool = True, access: Access | None = None) -> int:
    """Bring the index up to date with the corpus, then serve the chat. Who may edit follows the
    address served on (`host`) and QA_EDITOR_PASSWORD, unless `access` says otherwise."""
    shared = os.environ.get("GRADIO_SHARE", "").lower() == "true"  # a public link to a loopback server
    service = Service(settings or Settings.from_env(), access=access or Access.for_server(host, shared=shared))
    try:
        report = service.update(progress=terminal_progress, credential=OPERATOR)
    except QAError as error:
        print(f"Erreur : {error}", file=sys.stderr)
        return 1
    if report is not None:
        print(report.summary())
    print(service.access.notice(), file=sys.stderr)
    serve(service, host, port, block)
    return 0


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=TITLE)
    parser.add_argument("--host", help="adresse (défaut : GRADIO_SERVER_NAME ou 127.0.0.1)")
    parser.add_argument("--port", type=int, help="port (défaut : GRADIO_SERVER_PORT ou 7860)")
    parser.add_argument("--corpus", help="dossier des communiqués (défaut : corpus/)")
    parser.add_argument("--index", help="dossier de l'index (défaut : index/)")
    return parser.parse_args(argv)


def run(argv=None) -> int:
    """`python app.py …`: the flags, then the chat."""
    args = parse_args(argv)
    try:
        settings = Settings.from_env(corpus=args.corpus, index=args.index)
    except QAError as error:
        print(f"Erreur : {error}", file=sys.stderr)
        return 1
    return main(settings, host=args.host, port=args.port)
