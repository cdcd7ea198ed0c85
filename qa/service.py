"""The one service under the command line, the `/ask` API and the chat page: the live build, questions,
builds, uploads, the list of releases and the last build report.

Every entry point calls this, so what one can do the others do the same way (and a check made
here, such as one build at a time, holds for all of them). Nothing here imports Gradio.
"""
from __future__ import annotations

import sys
import threading
from dataclasses import dataclass
from pathlib import Path

from .answering import conversation
from .answering.answer import Answer
from .answering.assistant import Assistant
from .answering.search import Filter
from .errors import QAError
from .indexing import store
from .indexing.build import BuildReport, Progress, build_index, is_up_to_date
from .indexing.embedding import Encoder, load_encoder
from .reading.formats import UnreadableFile
from .reading.uploads import add_to_corpus
from .settings import Settings

NOTHING_INDEXED = ("Aucun document n'est encore indexé : ajoutez des communiqués (onglet « Ajouter des documents » "
                   "ou dossier du corpus, puis « Réindexer ») (no document is indexed yet).")
BUILD_RUNNING = "Une indexation est déjà en cours ; réessayez dans un instant (indexing in progress)."


def terminal_progress(stage: str, done: int, total: int) -> None:
    """Progress on stderr, one line rewritten in place on a terminal."""
    end = "\n" if done >= total or not sys.stderr.isatty() else ""
    if done >= total or sys.stderr.isatty():
        print(f"\r{stage} : {done}/{total}", end=end, file=sys.stderr, flush=True)


def ensure_index(settings: Settings, rebuild: bool = False, progress: Progress | None = None,
                 encoder: Encoder | None = None) -> BuildReport | None:
    """Build the index when it is missing, stale or a rebuild is asked; returns the build report,
    or None when the live build is already up to date."""
    encoder = encoder or load_encoder(settings.model, settings.backend)
    if not rebuild and is_up_to_date(settings, encoder.info):
        return None
    return build_index(settings, encoder, progress=progress, rebuild=rebuild)


@dataclass(frozen=True, slots=True)
class Received:
    """What became of one uploaded file: one honest line of the report."""
    name: str  # as uploaded
    status: str  # ajouté, renommé, déjà présent, refusé
    source: str | None = None  # its name in the corpus
    reason: str | None = None

    def line(self) -> str:
        if self.source is None:
            return f"  refusé        {self.name} : {self.reason}"
        renamed = f"  (envoyé sous le nom {self.name})" if self.source != self.name else ""
        return f"  {self.status:<13} {self.source}{renamed}"


class Service:
    """The assistant shared by every caller, following the live build.

    Questions are answered by the build that is live when they arrive; a new build (from here or
    from `python -m qa index` in another process) is picked up by the next question, no restart.
    """

    def __init__(self, settings: Settings, assistant: Assistant | None = None):
        self.settings = settings
        self._assistant = assistant
        self._encoder: Encoder | None = None
        self._lock = threading.Lock()
        self._build_lock = threading.Lock()
        self.last_report: str = ""

    # Questions ---------------------------------------------------------------------------------

    def assistant(self) -> Assistant:
        """The assistant over the live build (reopened when another build went live)."""
        with self._lock:
            live = store.current_build(self.settings.index)
            if self._assistant is None or self._assistant.index.path != live:
                encoder = self._assistant.encoder if self._assistant is not None else self._encoder
                self._assistant = Assistant.open(settings=self.settings, encoder=encoder)
            return self._assistant

    def ask(self, question: str, k: int | None = None, where: Filter | None = None,
            mode: str | None = None, id: str | None = None, history: list | None = None) -> Answer:
        """The answer to a question, read with the turns before it when `history` is given (the
        previous questions, oldest first, as strings or {"q", "doc_ids", "understood_as"} dicts): a
        question that stands alone is answered exactly as without history."""
        if not history:
            return self.assistant().ask(question, k=k, where=where, mode=mode, id=id)
        return conversation.answer(self.assistant(), question, conversation.turns(history), k=k, where=where,
                                   mode=mode, id=id)

    def documents_of(self, answer: Answer) -> dict:
        """The releases an answer cites (to show them whole), from the build that answered."""
        if not answer.citations:
            return {}
        documents = self.assistant().index.documents
        return {c.doc_id: documents[c.doc_id] for c in answer.citations if c.doc_id in documents}

    # Builds ------------------------------------------------------------------------------------

    def encoder(self) -> Encoder:
        """The encoder of the live build (loaded once), or the configured one when there is none."""
        try:
            return self.assistant().encoder
        except QAError:
            if self._encoder is None:
                self._encoder = load_encoder(self.settings.model, self.settings.backend)
            return self._encoder

    def _building(self, wait: bool):
        if not self._build_lock.acquire(blocking=wait):
            raise QAError(BUILD_RUNNING)
        return self._build_lock

    def update(self, rebuild: bool = False, progress: Progress | None = None) -> BuildReport | None:
        """Bring the index up to date with the corpus when it is not (None when it already was)."""
        lock = self._building(wait=False)
        try:
            report = ensure_index(self.settings, rebuild=rebuild, progress=progress, encoder=self.encoder())
            if report is not None:
                self.last_report = report.summary()
            return report
        finally:
            lock.release()

    def reindex(self, progress: Progress | None = None, rebuild: bool = False) -> BuildReport:
        """Build the index from the corpus (incrementally unless `rebuild`); one build at a time."""
        lock = self._building(wait=False)
        try:
            report = build_index(self.settings, self.encoder(), progress=progress, rebuild=rebuild)
            self.last_report = report.summary()
            return report
        finally:
            lock.release()

    def add_files(self, files: list[tuple[Path, str]], progress: Progress | None = None) -> list[Received]:
        """Store uploaded files (path on disk, name as sent) in the corpus under safe names, then
        index them; returns one line per file. The build report follows the received files."""
        received = []
        for path, name in files:
            try:
                added = add_to_corpus(self.settings.corpus, Path(path), name, self.settings.max_file_bytes)
                received.append(Received(name, added.status, added.source))
            except (UnreadableFile, OSError) as error:
                received.append(Received(name, "refusé", reason=str(error)))
        report = self.reindex(progress)
        self.last_report = ("Fichiers reçus :\n" + "\n".join(r.line() for r in received) + "\n\n"
                            + report.summary())
        return received

    # What the page shows -----------------------------------------------------------------------

    def releases(self) -> list[list]:
        """One row per indexed release, newest first: title, date, place, file, passages."""
        try:
            index = self.assistant().index  # the live build, with its own manifest
        except QAError:
            return []
        counts = {doc_id: entry["passages"] for doc_id, entry in index.manifest["documents"].items()}
        rows = [[d.title or "", d.date or "", d.place or "", d.source, counts.get(d.id, 0)]
                for d in index.documents.values()]
        return sorted(rows, key=lambda row: (row[1], row[3]), reverse=True)

    def status(self) -> str:
        manifest = store.read_manifest(self.settings.index)
        if manifest is None or not manifest.get("documents"):
            return NOTHING_INDEXED
        return (f"{len(manifest['documents'])} communiqués indexés, {manifest['passage_count']} passages "
                f"(modèle {manifest['encoder']['model']}).")

    def report(self) -> str:
        """The last build report: this process's, else the live build's own record."""
        if self.last_report:
            return self.last_report
        manifest = store.read_manifest(self.settings.index)
        if manifest is None:
            return "Aucune indexation pour l'instant."
        lines = [f"Dernière indexation : {manifest['built_at']}, {len(manifest['documents'])} documents, "
                 f"{manifest['passage_count']} passages, {manifest['build_seconds']:.1f} s."]
        lines += [f"  ignoré   {source}  : {entry['reason']}" for source, entry in manifest.get("skipped", {}).items()]
        return "\n".join(lines)

