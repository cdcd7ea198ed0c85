"""The chat page: French questions about the press releases, answered with the passages that support them.

    python app.py [--host HOST] [--port PORT] [--corpus DIR] [--index DIR]     (or python -m qa serve)

On start the index is built (or brought up to date) from the corpus, with progress on the
terminal, then the chat is served at http://127.0.0.1:7860 (GRADIO_SERVER_NAME and
GRADIO_SERVER_PORT are honoured when --host and --port are not given). Releases added from the
« Ajouter des documents » tab, or copied into the corpus and taken in with « Réindexer », are
indexed incrementally and answered at once, without a restart.

Who may add documents and reindex is decided by the service (qa/access.py) from the address the
server listens on and QA_EDITOR_PASSWORD; the page only asks for the password once per session
and passes it along. Named API endpoints: /ask (anyone), /upload and /reindex (editors).
"""
from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
from pathlib import Path

import gradio as gr
from gradio import FileData

from ..access import OPERATOR, Access
from ..answering.conversation import cited
from ..answering.search import Filter
from ..errors import QAError
from ..reading.formats import FORMATS
from ..service import NOTHING_INDEXED, Service, terminal_progress
from ..settings import MB, Settings
from .display import answer_html, inert

TITLE = "Communiqués de presse de l'OIM : questions et sources"
INTRO = ("Posez une question : la réponse est la phrase d'un communiqué qui y répond, suivie des passages "
         "qui la justifient, numérotés pour être cités. Les sources sont en français ; une question posée "
         "en anglais reçoit des passages en français.")
EXAMPLES = [
    "Combien de migrants maliens sont rentrés volontairement du Niger depuis 2017 ?",
    "Quel était le thème de la Journée internationale des migrants 2024 ?",
    "Qui a présidé la cérémonie à Ségou ?",
    "Combien d'États membres compte l'OIM ?",
]
ASK_ALONE = "Reposer sans le contexte"
DROP_FILTER = "Retirer le filtre de date"
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
.understood { font-size: 0.9em; opacity: 0.85; }
"""
# Opening a citation scrolls its passage into view inside the release.
JS = """
() => {
  document.addEventListener('toggle', (event) => {
    const details = event.target;
    if (details.open && details.classList && details.classList.contains('citation-full')) {
      const mark = details.querySelector('.cited-passage');
      if (mark) mark.scrollIntoView({block: 'center'});
    }
  }, true);
}
"""


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
        raise gr.Error(f"Date invalide « {value} » : écrivez-la AAAA-MM-JJ, par exemple 2024-12-19.") from None


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


def build_ui(service: Service) -> gr.Blocks:
    """The Blocks app; nothing is loaded until the first question."""
    access = service.access

    def respond(question: str, history: list, turns: list, k: float, sources: list[str], date_from: str,
                date_to: str, alone: bool = False, use_question_dates: bool = True):
        """One turn: the question read with the turns before it (`turns`: what the service needs of
        them), unless `alone`; a follow-up shows how it was understood and offers to ask it alone."""
        history, turns = list(history or []), ([] if alone else list(turns or []))
        question = (question or "").strip()
        history.append({"role": "user", "content": inert(question) if question else "…"})
        where = Filter(frozenset(sources) if sources else None, _date_bound(date_from), _date_bound(date_to))
        reply: dict = {"role": "assistant"}
        try:
            answer = service.ask(question, k=int(k), where=where, history=turns, use_question_dates=use_question_dates)
            reply["content"] = answer_html(answer, service.documents_of(answer),
                                           floor=service.assistant().model.floor)
            if answer.understood_as:
                reply["options"] = [{"label": ASK_ALONE, "value": question}]
            if answer.filters:  # the period read from the question, which the reader can remove
                reply.setdefault("options", []).append({"label": DROP_FILTER, "value": WITHOUT_DATES + question})
            if question:
                turns.append({"q": question, "understood_as": answer.understood_as,
                              "doc_ids": list(cited(answer))})
        except QAError as error:
            reply["content"] = f"<p>{inert(str(error))}</p>"
        history.append(reply)
        return "", history, turns

    def respond_alone(history: list, k: float, sources: list[str], date_from: str, date_to: str,
                      selected: gr.SelectData):
        """« Reposer sans le contexte »: the raw question again, read alone; the conversation goes on from it.
        « Retirer le filtre de date »: the question again without the period it names."""
        if selected.value.startswith(WITHOUT_DATES):
            return respond(selected.value[len(WITHOUT_DATES):], history, [], k, sources, date_from, date_to,
                           alone=True, use_question_dates=False)
        return respond(selected.value, history, [], k, sources, date_from, date_to, alone=True)

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
        return (service.status(), gr.update(choices=sorted(row[3] for row in rows)), rows, service.report())

    def sign_in(password: str):
        """Check the editor password once; the session keeps it (server side) for its edits."""
        try:
            service.access.check(password or "")
        except QAError as error:
            raise gr.Error(str(error)) from None
        return password, "", "Mot de passe accepté : vous êtes éditeur pour cette session (signed in as an editor)."

    def reindex_from_page(credential, progress=gr.Progress()):
        try:
            service.reindex(_progress_callback(progress), credential=credential)
        except QAError as error:
            raise gr.Error(str(error)) from None
        return refreshed()

    def upload_from_page(files, credential, existing, progress=gr.Progress()):
        if not files:
            raise gr.Error("Choisissez d'abord un ou plusieurs fichiers.")
        try:
            service.add_files([(Path(path), Path(path).name) for path in files], _progress_callback(progress),
                              credential=credential, existing=EXISTING.get(existing))
        except QAError as error:
            raise gr.Error(str(error)) from None
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
        gr.Markdown(f"# {TITLE}\n{INTRO}")
        status = gr.Markdown(service.status(), elem_id="status")
        with gr.Tabs():
            with gr.Tab("Questions", id="questions"):
                chat = gr.Chatbot(label="Conversation", height=560, sanitize_html=True, elem_id="chat",
                                  placeholder="Les réponses et leurs sources s'affichent ici.")
                turns = gr.State([])  # the conversation as the service reads it
                with gr.Row():
                    question = gr.Textbox(label="Votre question", placeholder="Posez votre question en français…",
                                          scale=5, autofocus=True, elem_id="question",
                                          max_length=service.settings.max_question_chars * 50)
                    send = gr.Button("Envoyer", variant="primary", scale=1, elem_id="send")
                with gr.Accordion("Filtres", open=False):
                    k = gr.Slider(1, 10, value=service.settings.k, step=1, label="Nombre de passages cités")
                    releases = gr.Dropdown(choices=[], multiselect=True, label="Communiqués (tous si vide)")
                    with gr.Row():
                        date_from = gr.Textbox(label="Depuis le (AAAA-MM-JJ)", placeholder="2021-01-01")
                        date_to = gr.Textbox(label="Jusqu'au (AAAA-MM-JJ)", placeholder="2024-12-31")
                gr.Examples(EXAMPLES, inputs=question, label="Exemples de questions")
                clear = gr.Button("Effacer la conversation", variant="secondary")
            with gr.Tab("Ajouter des documents", id="upload"):
                gr.Markdown(access.notice(), elem_id="access")
                with gr.Row(visible=access.needs_password):
                    password = gr.Textbox(label="Mot de passe d'éditeur", type="password", scale=4,
                                          elem_id="editor-password")
                    sign_in_button = gr.Button("Se connecter", scale=1, elem_id="sign-in")
                signed_in = gr.Markdown("", elem_id="signed-in")
                gr.Markdown(f"Formats acceptés : {', '.join(FORMATS)} ; au plus "
                            f"{service.settings.upload_bytes / MB:g} Mo par fichier. Un fichier au nom déjà pris "
                            f"n'est enregistré que selon votre choix ci-dessous ; un fichier illisible est refusé "
                            f"sans être enregistré.", visible=not access.read_only)
                existing = gr.Radio(list(EXISTING), value=ASK_FIRST, label="Si un fichier porte déjà ce nom",
                                    elem_id="upload-existing", visible=not access.read_only)
                files = gr.File(label="Communiqués", file_count="multiple", file_types=list(FORMATS),
                                type="filepath", elem_id="upload-files", visible=not access.read_only)
                add = gr.Button("Ajouter et indexer", variant="primary", elem_id="add", visible=not access.read_only)
            with gr.Tab("Sources", id="sources"):
                table = gr.Dataframe(headers=["Titre", "Date", "Lieu", "Fichier", "Passages", "Statut"],
                                     value=[], interactive=False, wrap=True, label="Communiqués indexés")
                reindex_button = gr.Button("Réindexer", elem_id="reindex", visible=not access.read_only)
                gr.Markdown("« Réindexer » prend en compte les fichiers copiés à la main dans le dossier du corpus.",
                            visible=not access.read_only)
        # The editor password of this session, once accepted (kept on the server, never sent back).
        editor = gr.State(None)
        report = gr.Textbox(label="Dernière indexation", lines=8, interactive=False, elem_id="report")

        inputs = [question, chat, turns, k, releases, date_from, date_to]
        for trigger in (question.submit, send.click):
            trigger(respond, inputs, [question, chat, turns], api_visibility="private", show_progress="minimal")
        chat.option_select(respond_alone, [chat, k, releases, date_from, date_to], [question, chat, turns],
                           api_visibility="private", show_progress="minimal")
        clear.click(lambda: ([], []), None, [chat, turns], api_visibility="private")
        chat.clear(lambda: [], None, turns, api_visibility="private")
        outputs = [status, releases, table, report]
        reindex_button.click(reindex_from_page, editor, outputs, api_visibility="private")
        add.click(upload_from_page, [files, editor, existing], [*outputs, files], api_visibility="private")
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
                css=CSS, js=JS, max_file_size=max_file_size, quiet=not block)
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
