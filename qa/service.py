"""The one service under the command line, the `/ask` API and the chat page: the live build, questions,
builds, uploads, the list of releases and the last build report.

Every entry point calls this, so what one can do the others do the same way (and a check made
here, such as one build at a time, or who may edit, holds for all of them). Every method that
changes the corpus or the index takes the caller's credential and checks it (qa/access.py).
Nothing here imports Gradio.
"""
from __future__ import annotations

import contextlib
import math
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from .access import Access
from .answering import conversation
from .answering.answer import Answer
from .answering.assistant import Assistant
from .answering.search import Filter
from .feedback import FeedbackLog
from .errors import BuildRunningError, CorpusMissingError, QAError, os_error_message
from .indexing import store
from .indexing.build import BuildReport, Progress, build_index, is_up_to_date
from .indexing.embedding import Encoder, build_encoder, load_encoder
from .reading.chunking import passages as cut_passages
from .reading.documents import describe, read_document
from .reading.listing import CorpusFile, readable_name
from .reading.formats import UnreadableFile
from .reading.limits import LimitExceeded, Limits
from .reading.uploads import CHOICES, NAME_TAKEN, add_to_corpus
from .settings import Settings
from .wording import plural

NOTHING_INDEXED = ("Aucun document n'est encore indexé : ajoutez des communiqués (onglet « Ajouter », "
                   "ou dossier du corpus puis « Réindexer » dans « Documents ») (no document is indexed yet).")
BUILD_RUNNING = "Une indexation est déjà en cours ; réessayez dans un instant (indexing in progress)."
# While a build runs beside questions, the interpreter hands its lock between threads this often
# (seconds; Python's default is 0.005). A question needs the lock a few hundred times, and waited
# up to the whole interval each time behind the build's pure-Python work: at 10k passages, asks
# during an add went from p95 343 ms to 135 ms (69 ms without a build) with 0.0005.
QUESTIONS_FIRST_INTERVAL = 0.0005
# Passages a question may ask for, whoever asks (the page's slider stops at 10).
MAX_K = 20
BAD_QUESTION = "La question doit être un texte (the question must be a string)."
BAD_K = (f"Le nombre de passages (k) doit être un nombre entier, de 1 à {MAX_K} "
         f"(k must be an integer from 1 to {MAX_K}).")
# How long an upload waits for a build running in another process before giving up.
WAIT_FOR_BUILD_SECONDS = 900


def terminal_progress(stage: str, done: int, total: int) -> None:
    """Progress on stderr, one line rewritten in place on a terminal."""
    end = "\n" if done >= total or not sys.stderr.isatty() else ""
    if done >= total or sys.stderr.isatty():
        print(f"\r{stage} : {done}/{total}", end=end, file=sys.stderr, flush=True)


def ensure_index(settings: Settings, rebuild: bool = False, progress: Progress | None = None,
                 encoder: Encoder | None = None) -> BuildReport | None:
    """Build the index when it is missing, stale or a rebuild is asked; returns the build report,
    or None when the live build is already up to date."""
    if not settings.corpus.is_dir():
        raise CorpusMissingError(settings.corpus)
    encoder = encoder or load_encoder(settings.model, settings.backend)
    if not rebuild and is_up_to_date(settings, encoder.info) and _intact(settings.index):
        return None
    return build_index(settings, encoder, progress=progress, rebuild=rebuild)


def _intact(index_dir: Path) -> bool:
    """Whether the live build is whole (checksums of the files whose stat changed since the build):
    a damaged one is rebuilt, never called up to date."""
    try:
        store.verify(index_dir, full=False)
        return True
    except QAError:
        return False


def passages_wanted(k) -> int | None:
    """k as asked (None: the default), clamped to 1…MAX_K; anything but a number is refused."""
    if k is None:
        return None
    if isinstance(k, bool) or not isinstance(k, (int, float)) or not math.isfinite(k):
        raise QAError(BAD_K)
    return min(MAX_K, max(1, int(k)))


_RUNNING_BUILDS = [0, 0.0]  # builds running in this process, the interval before the first
_RUNNING_LOCK = threading.Lock()


@contextlib.contextmanager
def questions_first():
    """While builds run in this process, questions asked meanwhile get the interpreter's lock
    sooner (QUESTIONS_FIRST_INTERVAL); the interval before the first is restored after the last."""
    with _RUNNING_LOCK:
        if not _RUNNING_BUILDS[0]:
            _RUNNING_BUILDS[1] = sys.getswitchinterval()
            sys.setswitchinterval(min(_RUNNING_BUILDS[1], QUESTIONS_FIRST_INTERVAL))
        _RUNNING_BUILDS[0] += 1
    try:
        yield
    finally:
        with _RUNNING_LOCK:
            _RUNNING_BUILDS[0] -= 1
            if not _RUNNING_BUILDS[0]:
                sys.setswitchinterval(_RUNNING_BUILDS[1])


@dataclass(frozen=True, slots=True)
class Received:
    """What became of one uploaded file: one honest line of the report."""
    name: str  # as uploaded
    status: str  # ajouté, remplacé, renommé, déjà présent, nom déjà pris (nothing stored), refusé
    source: str | None = None  # its name in the corpus
    reason: str | None = None

    def line(self) -> str:
        name = readable_name(self.name)
        if self.source is None:
            return f"  refusé        {name} : {self.reason}"
        if self.status == NAME_TAKEN:
            return (f"  {self.status:<13} {self.source} : un autre fichier porte ce nom ; rien n'est enregistré. "
                    f"Choisissez « remplacer » (une version corrigée) ou « garder les deux ».")
        renamed = f"  (envoyé sous le nom {name})" if self.source != self.name else ""
        reason = f" : {self.reason}" if self.reason else ""
        return f"  {self.status:<13} {self.source}{renamed}{reason}"


class Service:
    """The assistant shared by every caller, following the live build.

    A build made here answers the questions asked once it returns (its releases are asked about at
    once); a build made by `python -m qa index` in another process is opened beside, in the
    background, by the first question that sees it, while the build before answers: no restart, and
    no question waits for an open.
    """

    def __init__(self, settings: Settings, assistant: Assistant | None = None, access: Access | None = None):
        self.settings = settings
        # Who may edit (default: a server on loopback without a password, whose user is an editor).
        self.access = access or Access()
        self._assistant = assistant
        self._encoder: Encoder | None = None
        self._builder: tuple[Encoder, Encoder] | None = None  # (the questions' encoder, the builds' own)
        self._lock = threading.Lock()
        self._build_lock = threading.Lock()
        self.last_report: str = ""
        self._report_build: Path | None = None  # the build `last_report` describes
        self._feedback: FeedbackLog | None = None
        self._opening: threading.Thread | None = None  # a build that went live elsewhere, being opened
        self._unopenable: Path | None = None  # a live build that could not be opened

    # Questions ---------------------------------------------------------------------------------

    def assistant(self, wait: bool = True) -> Assistant:
        """The assistant over the live build (reopened when another build went live).

        wait=False (questions): a build that went live elsewhere (`python -m qa index` in another
        process) is opened in the background while the build before it goes on answering, so that
        no question waits for an open (1 to 2 s at a million passages); the first open waits."""
        with self._lock:
            live = store.current_build(self.settings.index)
            current = self._assistant
            if current is not None and current.index.path == live:
                return current
            if current is None or wait:
                self._assistant = self._open_live()
                return self._assistant
            if self._opening is None and live != self._unopenable:
                self._opening = threading.Thread(target=self._pick_up, args=(live,), name="qa-pick-up", daemon=True)
                self._opening.start()
            return current

    def _open_live(self) -> Assistant:
        """The live build, opened with the encoder already loaded (if any)."""
        encoder = self._assistant.encoder if self._assistant is not None else self._encoder
        return Assistant.open(settings=self.settings, encoder=encoder)

    def _switch(self, opened: Assistant) -> None:
        """Answer from `opened` unless a newer build already answers (the lock held)."""
        if self._assistant is None or opened.index.path.name >= self._assistant.index.path.name:
            self._assistant = opened

    def _pick_up(self, live: Path | None) -> None:
        """Open the live build beside the one answering, then answer from it. A build that cannot
        be opened is said once in the log and not tried again; the one before goes on answering."""
        opened = None
        try:
            opened = self._open_live()
        except (QAError, OSError) as error:
            message = error if isinstance(error, QAError) else os_error_message(error)
            print(f"Nouvelle indexation illisible, la précédente continue de répondre (new build unreadable, "
                  f"the previous one still answers) : {message}", file=sys.stderr, flush=True)
        finally:
            with self._lock:
                if opened is None:
                    self._unopenable = live
                else:
                    self._switch(opened)
                self._opening = None

    def _reopen(self) -> None:
        """Answer from the live build now (after a build made here: its releases are asked about at
        once), opened before the switch so that questions meanwhile keep their answers."""
        try:
            opened = self._open_live()
        except (QAError, OSError):
            return  # said by the next call that waits for it; the build itself is done
        with self._lock:
            self._switch(opened)

    def ask(self, question: str, k: int | None = None, where: Filter | None = None,
            mode: str | None = None, id: str | None = None, history: list | None = None,
            use_question_dates: bool = True) -> Answer:
        """The answer to a question; k is clamped to 1…MAX_K, a question or k of the wrong type refused.

        With `history` (the previous questions, oldest first, as strings or {"q", "doc_ids",
        "understood_as"} dicts) a follow-up is read with the turns before it; a question that
        stands alone is answered exactly as without history. `use_question_dates`: a period the
        question names (« en 2022 ») filters by release date (Answer.filters); False drops it."""
        if question is not None and not isinstance(question, str):
            raise QAError(BAD_QUESTION)
        assistant = self.assistant(wait=False)
        if not history:
            return assistant.ask(question, k=passages_wanted(k), where=where, mode=mode, id=id,
                                 use_question_dates=use_question_dates)
        return conversation.answer(assistant, question, conversation.turns(history), k=passages_wanted(k),
                                   where=where, mode=mode, id=id, use_question_dates=use_question_dates)

    def documents_of(self, answer: Answer) -> dict:
        """The releases an answer cites (to show them whole), from the build that answered."""
        if not answer.citations:
            return {}
        documents = self.assistant(wait=False).index.documents  # the build that answered, as a rule
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

    def build_encoder(self) -> Encoder:
        """The encoder builds use: an instance of its own (see embedding.build_encoder), so that
        questions asked during a build do not queue behind its batches."""
        encoder = self.encoder()
        if self._builder is None or self._builder[0] is not encoder:
            self._builder = (encoder, build_encoder(encoder))
        return self._builder[1]

    def _building(self, wait: bool):
        if not self._build_lock.acquire(blocking=wait):
            raise QAError(BUILD_RUNNING)
        return self._build_lock

    def _build(self, run, wait: bool):
        """Run a build, one at a time in this process; `wait`: queue behind a running one (here, or in
        another process holding the index's lock) rather than refuse. File-system errors become sentences."""
        lock = self._building(wait)
        try:
            with questions_first():
                deadline = time.monotonic() + WAIT_FOR_BUILD_SECONDS
                while True:
                    try:
                        report = run()
                        self._reopen()
                        return report
                    except BuildRunningError:
                        if not wait or time.monotonic() > deadline:
                            raise
                        time.sleep(0.5)
        except OSError as error:
            raise QAError(f"Indexation impossible : {os_error_message(error)}") from None
        finally:
            lock.release()

    def update(self, rebuild: bool = False, progress: Progress | None = None, *, credential) -> BuildReport | None:
        """Bring the index up to date with the corpus when it is not (None when it already was)."""
        self.access.check(credential)

        def run():
            return ensure_index(self.settings, rebuild=rebuild, progress=progress, encoder=self.build_encoder())
        report = self._build(run, wait=False)
        if report is not None:
            self._reported(report.summary())
        return report

    def reindex(self, progress: Progress | None = None, rebuild: bool = False, *, credential,
                wait: bool = False) -> BuildReport:
        """Build the index from the corpus (incrementally unless `rebuild`); one build at a time."""
        self.access.check(credential)
        report = self._build(lambda: build_index(self.settings, self.build_encoder(), progress=progress, rebuild=rebuild),
                             wait=wait)
        self._reported(report.summary())
        return report

    def add_files(self, files: list[tuple[Path, str]], progress: Progress | None = None, *,
                  credential, existing: str | None = None) -> list[Received]:
        """Store uploaded files (path on disk, name as sent) in the corpus under safe names, then
        index them; returns one line per file. Each file is read as the index will read it before
        it is stored: a refused file leaves nothing in the corpus. An upload during a build waits
        for it. The build report follows the received files.

        existing: for a file whose name another file has, "replace" it or "keep" both (the new one
        under the next free name); None stores nothing for it and says so (« nom déjà pris »),
        so that the editor chooses."""
        self.access.check(credential)
        if existing is not None and existing not in CHOICES:
            raise QAError(f"Choix inconnu « {existing} » pour un nom déjà pris : « replace » (remplacer) ou "
                          f"« keep » (garder les deux).")
        limits = Limits.of(self.settings)
        received = []
        for path, name in files:
            try:
                added = add_to_corpus(self.settings.corpus, Path(path), name, limits,
                                      validate=lambda staged, safe: self._validate(staged, safe, limits),
                                      existing=existing)
                received.append(Received(name, added.status, added.source))
            except (UnreadableFile, LimitExceeded, OSError) as error:
                received.append(Received(name, "refusé", reason=describe(error)))
        lines = "Fichiers reçus :\n" + "\n".join(r.line() for r in received)
        if not any(r.source and r.status != NAME_TAKEN for r in received):
            self._reported(lines)
            return received
        try:
            report = self.reindex(progress, credential=credential, wait=True)
        except QAError as error:
            self._reported(lines + f"\n\nL'indexation a échoué : {error} Les fichiers reçus restent dans le "
                                f"corpus et seront indexés à la prochaine indexation.")
            raise
        skipped = {s.source: s.reason for s in report.skipped}
        # A file the build could not take after all is refused like one refused on arrival: not kept.
        for r in received:
            if r.source in skipped and r.status != "déjà présent":
                (self.settings.corpus / r.source).unlink(missing_ok=True)
        received = [(Received(r.name, "refusé", reason=skipped[r.source]) if r.status != "déjà présent"
                     else Received(r.name, "reçu, ignoré", r.source, skipped[r.source])) if r.source in skipped else r
                    for r in received]
        self._reported("Fichiers reçus :\n" + "\n".join(r.line() for r in received) + "\n\n" + report.summary())
        return received

    def _reported(self, text: str) -> None:
        self.last_report, self._report_build = text, store.current_build(self.settings.index)

    def _validate(self, path: Path, name: str, limits: Limits) -> None:
        """Read an upload as a build would (format, limits, passages); raises to refuse it."""
        document = read_document(CorpusFile(name, path), limits)
        count = len(cut_passages(document.id, document.text, self.settings.passage_chars,
                                 self.settings.overlap_sentences))
        if reason := limits.too_many_passages(count):
            raise LimitExceeded(reason)

    # What the page shows -----------------------------------------------------------------------

    def releases(self) -> list[list]:
        """One row per indexed release, newest first: title, date, place, file, passages, status
        (« » ; « remplacé par <file> » for a superseded version, which answers no more ; « copie de
        <file> » for a syndicated copy)."""
        try:
            assistant = self.assistant()  # the live build, with its own manifest
        except QAError:
            return []
        index, told = assistant.index, assistant.stories
        counts = {doc_id: entry["passages"] for doc_id, entry in index.manifest["documents"].items()}

        def status(doc_id: str) -> str:
            if doc_id in told.superseded and told.superseded[doc_id] in index.documents:
                return f"remplacé par {index.documents[told.superseded[doc_id]].source}"
            others = [index.documents[o].source for o in told.copies.get(doc_id, ()) if o in index.documents]
            return f"même histoire que {', '.join(others)}" if others else ""
        rows = [[d.title or "", d.date or "", d.place or "", d.source, counts.get(d.id, 0), status(d.id)]
                for d in index.documents.listed()]
        return sorted(rows, key=lambda row: (row[1], row[3]), reverse=True)

    def status(self) -> str:
        manifest = store.read_manifest(self.settings.index)
        if manifest is None or not manifest.get("documents"):
            return NOTHING_INDEXED
        return (f"{plural(len(manifest['documents']), 'communiqué indexé', 'communiqués indexés')}, "
                f"{plural(manifest['passage_count'], 'passage')}.")

    def matching(self, where: Filter | None) -> int | None:
        """How many indexed releases a filter lets through (None when nothing is indexed)."""
        try:
            documents = self.assistant().index.documents
        except QAError:
            return None
        return sum(1 for d in documents.listed() if where is None or where.allows(d))

    def skipped(self) -> dict[str, str]:
        """The files the live build skipped, with why (read from the build on disk)."""
        manifest = store.read_manifest(self.settings.index) or {}
        return {source: entry.get("reason", "") for source, entry in manifest.get("skipped", {}).items()}

    @property
    def feedback(self) -> FeedbackLog:
        """Readers' votes on answers, in the index folder."""
        if self._feedback is None:
            self._feedback = FeedbackLog(self.settings.index)
        return self._feedback

    def report(self) -> str:
        """The last build report: this process's while its build is the live one, else the live
        build's own record (so a build made by `python -m qa index` shows here too)."""
        if self.last_report and self._report_build == store.current_build(self.settings.index):
            return self.last_report
        manifest = store.read_manifest(self.settings.index)
        if manifest is None:
            return "Aucune indexation pour l'instant."
        lines = [f"Dernière indexation : {manifest['built_at']}, {len(manifest['documents'])} documents, "
                 f"{manifest['passage_count']} passages, {manifest['build_seconds']:.1f} s."]
        lines += [f"  ignoré   {source}  : {entry['reason']}" for source, entry in manifest.get("skipped", {}).items()]
        return "\n".join(lines)

