"""The chat page: French questions about the press releases, answered with the passages that support them.

    python app.py [--host HOST] [--port PORT] [--corpus DIR] [--index DIR]     (or python -m qa serve)

On start the index is built (or brought up to date) from the corpus, with progress on the
terminal, then the chat is served at http://127.0.0.1:7860 (GRADIO_SERVER_NAME and
GRADIO_SERVER_PORT are honoured when --host and --port are not given). Releases added from the
« Ajouter des documents » tab, or copied into the corpus and taken in with « Réindexer », are
indexed incrementally and answered at once, without a restart.
"""
from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path

import gradio as gr

from ..answering.conversation import cited
from ..answering.search import Filter
from ..errors import QAError
from ..reading.formats import FORMATS
from ..service import NOTHING_INDEXED, Service, terminal_progress
from ..settings import Settings
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


def build_ui(service: Service) -> gr.Blocks:
    """The Blocks app; nothing is loaded until the first question."""

    def respond(question: str, history: list, turns: list, k: float, sources: list[str], date_from: str,
                date_to: str, alone: bool = False):
        """One turn: the question read with the turns before it (`turns`: what the service needs of
        them), unless `alone`; a follow-up shows how it was understood and offers to ask it alone."""
        history, turns = list(history or []), ([] if alone else list(turns or []))
        question = (question or "").strip()
        history.append({"role": "user", "content": inert(question) if question else "…"})
        where = Filter(frozenset(sources) if sources else None, _date_bound(date_from), _date_bound(date_to))
        reply: dict = {"role": "assistant"}
        try:
            answer = service.ask(question, k=int(k), where=where, history=turns)
            reply["content"] = answer_html(answer, service.documents_of(answer))
            if answer.understood_as:
                reply["options"] = [{"label": ASK_ALONE, "value": question}]
            if question:
                turns.append({"q": question, "understood_as": answer.understood_as,
                              "doc_ids": list(cited(answer))})
        except QAError as error:
            reply["content"] = f"<p>{inert(str(error))}</p>"
        history.append(reply)
        return "", history, turns

    def respond_alone(history: list, k: float, sources: list[str], date_from: str, date_to: str,
                      selected: gr.SelectData):
        """« Reposer sans le contexte »: the raw question again, read alone; the conversation goes on from it."""
        return respond(selected.value, history, [], k, sources, date_from, date_to, alone=True)

    def ask(question: str, k: int = 5, history: list | None = None) -> dict:
        """The answer to one question in the JSON contract: answer sentence, abstained, citations, and
        `understood_as` when `history` (the previous questions, oldest first, or {"q", "doc_ids"}
        objects) makes it a follow-up."""
        try:
            return service.ask(question, k=k, history=history).to_dict()
        except QAError as error:
            raise gr.Error(str(error)) from None

    def refreshed():
        rows = service.releases()
        return (service.status(), gr.update(choices=sorted(row[3] for row in rows)), rows, service.report())

    def reindex(progress=gr.Progress()):
        try:
            service.reindex(_progress_callback(progress))
        except QAError as error:
            raise gr.Error(str(error)) from None
        return refreshed()

    def upload(files, progress=gr.Progress()):
        if not files:
            raise gr.Error("Choisissez d'abord un ou plusieurs fichiers.")
        try:
            service.add_files([(Path(path), Path(path).name) for path in files], _progress_callback(progress))
        except QAError as error:
            raise gr.Error(str(error)) from None
        return (*refreshed(), None)

    with gr.Blocks(title=TITLE) as demo:
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
                gr.Markdown(f"Formats acceptés : {', '.join(FORMATS)} ; au plus "
                            f"{service.settings.max_file_bytes / 1e6:g} Mo par fichier. Un fichier au nom déjà pris "
                            f"est enregistré sous un autre nom, jamais écrasé.")
                files = gr.File(label="Communiqués", file_count="multiple", file_types=list(FORMATS),
                                type="filepath", elem_id="upload-files")
                add = gr.Button("Ajouter et indexer", variant="primary", elem_id="add")
            with gr.Tab("Sources", id="sources"):
                table = gr.Dataframe(headers=["Titre", "Date", "Lieu", "Fichier", "Passages"],
                                     value=[], interactive=False, wrap=True, label="Communiqués indexés")
                reindex_button = gr.Button("Réindexer", elem_id="reindex")
                gr.Markdown("« Réindexer » prend en compte les fichiers copiés à la main dans le dossier du corpus.")
        report = gr.Textbox(label="Dernière indexation", lines=8, interactive=False, elem_id="report")

        inputs = [question, chat, turns, k, releases, date_from, date_to]
        for trigger in (question.submit, send.click):
            trigger(respond, inputs, [question, chat, turns], api_visibility="private", show_progress="minimal")
        chat.option_select(respond_alone, [chat, k, releases, date_from, date_to], [question, chat, turns],
                           api_visibility="private", show_progress="minimal")
        clear.click(lambda: ([], []), None, [chat, turns], api_visibility="private")
        chat.clear(lambda: [], None, turns, api_visibility="private")
        outputs = [status, releases, table, report]
        reindex_button.click(reindex, None, outputs, api_visibility="private")
        add.click(upload, files, [*outputs, files], api_visibility="private")
        demo.load(refreshed, None, outputs, api_visibility="private")
        gr.api(ask, api_name="ask")
    return demo


def main(settings: Settings | None = None, host: str | None = None, port: int | None = None,
         block: bool = True) -> int:
    """Bring the index up to date with the corpus, then serve the chat."""
    service = Service(settings or Settings.from_env())
    try:
        report = service.update(progress=terminal_progress)
    except QAError as error:
        print(f"Erreur : {error}", file=sys.stderr)
        return 1
    if report is not None:
        print(report.summary())
    demo = build_ui(service)
    demo.queue(default_concurrency_limit=4)
    demo.launch(server_name=host, server_port=port, prevent_thread_lock=not block, theme=gr.themes.Soft(),
                css=CSS, js=JS)
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
