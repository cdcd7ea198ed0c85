"""The chat: French questions about the press releases, answered with the passages that support them.

    python app.py [--host HOST] [--port PORT] [--corpus DIR] [--index DIR]

On start the index is built (or brought up to date) from the corpus, with progress on the
terminal, then the chat is served at http://127.0.0.1:7860 (GRADIO_SERVER_NAME and
GRADIO_SERVER_PORT are honoured when --host and --port are not given).
"""
from __future__ import annotations

import argparse
import sys
import threading

import gradio as gr

from qa import store
from qa.answer import Answer
from qa.assistant import Assistant
from qa.display import answer_html, inert
from qa.errors import QAError
from qa.settings import Settings

TITLE = "Communiqués de presse de l'OIM : questions et sources"
INTRO = ("Posez une question en français : la réponse est la phrase d'un communiqué qui y répond, "
         "suivie des passages qui la justifient, numérotés pour être cités.")
EXAMPLES = [
    "Combien de migrants maliens sont rentrés volontairement du Niger depuis 2017 ?",
    "Quel était le thème de la Journée internationale des migrants 2024 ?",
    "Qui a présidé la cérémonie à Ségou ?",
    "Combien d'États membres compte l'OIM ?",
]
NOTHING_INDEXED = ("Aucun document n'est encore indexé : ajoutez des communiqués dans le dossier du corpus, "
                   "puis lancez « python -m qa index » (no document is indexed yet).")
CSS = """
.citation { border: 1px solid var(--border-color-primary); border-radius: 6px; padding: 6px 10px; margin: 6px 0; }
.citation-meta { font-size: 0.85em; opacity: 0.8; }
.citation-text { margin-top: 4px; }
.citation mark { background: #fde68a; color: inherit; }
"""


class Service:
    """The assistant behind the chat, opened on first use and shared by every session."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self._assistant: Assistant | None = None
        self._lock = threading.Lock()

    def assistant(self) -> Assistant:
        with self._lock:
            if self._assistant is None:
                self._assistant = Assistant.open(settings=self.settings)
            return self._assistant

    def ask(self, question: str, k: int | None = None) -> Answer:
        return self.assistant().ask(question, k=k)

    def status(self) -> str:
        manifest = store.read_manifest(self.settings.index)
        if manifest is None or not manifest.get("documents"):
            return NOTHING_INDEXED
        return (f"{len(manifest['documents'])} communiqués indexés, {manifest['passage_count']} passages "
                f"(modèle {manifest['encoder']['model']}).")


def build_ui(service: Service) -> gr.Blocks:
    """The Blocks app; nothing is loaded until the first question."""

    def respond(question: str, history: list, k: float):
        history = list(history or [])
        question = (question or "").strip()
        history.append({"role": "user", "content": inert(question) if question else "…"})
        try:
            reply = answer_html(service.ask(question, k=int(k)))
        except QAError as error:
            reply = f"<p>{inert(str(error))}</p>"
        history.append({"role": "assistant", "content": reply})
        return "", history

    def ask(question: str, k: int = 5) -> dict:
        """The answer to one question in the JSON contract: answer sentence, abstained, citations."""
        try:
            return service.ask(question, k=k).to_dict()
        except QAError as error:
            raise gr.Error(str(error)) from None

    with gr.Blocks(title=TITLE) as demo:
        gr.Markdown(f"# {TITLE}\n{INTRO}")
        status = gr.Markdown(service.status())
        chat = gr.Chatbot(label="Conversation", height=560, sanitize_html=True,
                          placeholder="Les réponses et leurs sources s'affichent ici.")
        with gr.Row():
            question = gr.Textbox(label="Votre question", placeholder="Posez votre question en français…",
                                  scale=5, autofocus=True, max_length=service.settings.max_question_chars * 50)
            send = gr.Button("Envoyer", variant="primary", scale=1)
        k = gr.Slider(1, 10, value=service.settings.k, step=1, label="Nombre de passages cités")
        gr.Examples(EXAMPLES, inputs=question, label="Exemples de questions")
        clear = gr.Button("Effacer la conversation", variant="secondary")

        for trigger in (question.submit, send.click):
            trigger(respond, [question, chat, k], [question, chat], api_visibility="private")
        clear.click(lambda: [], None, chat, api_visibility="private")
        demo.load(service.status, None, status, api_visibility="private")
        gr.api(ask, api_name="ask")
    return demo


def main(settings: Settings | None = None, host: str | None = None, port: int | None = None,
         block: bool = True) -> int:
    """Bring the index up to date with the corpus, then serve the chat."""
    from qa.__main__ import ensure_index
    settings = settings or Settings.from_env()
    try:
        report = ensure_index(settings)
    except QAError as error:
        print(f"Erreur : {error}", file=sys.stderr)
        return 1
    if report is not None:
        print(report.summary())
    service = Service(settings)
    demo = build_ui(service)
    demo.queue(default_concurrency_limit=4)
    demo.launch(server_name=host, server_port=port, prevent_thread_lock=not block, theme=gr.themes.Soft(),
                css=CSS)
    return 0


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=TITLE)
    parser.add_argument("--host", help="adresse (défaut : GRADIO_SERVER_NAME ou 127.0.0.1)")
    parser.add_argument("--port", type=int, help="port (défaut : GRADIO_SERVER_PORT ou 7860)")
    parser.add_argument("--corpus", help="dossier des communiqués (défaut : corpus/)")
    parser.add_argument("--index", help="dossier de l'index (défaut : index/)")
    return parser.parse_args(argv)


if __name__ == "__main__":
    args = parse_args()
    sys.exit(main(Settings.from_env(corpus=args.corpus, index=args.index), host=args.host, port=args.port))
