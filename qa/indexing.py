"""From the files of corpus/ to a live index: read, cut into passages, embed, store."""
from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field
from typing import Callable

from . import store
from .boilerplate import repeated_sentences
from .chunking import Passage, passages as cut_passages
from .documents import Document, Skipped, list_corpus, read_corpus
from .embedding import Encoder, EncoderInfo
from .settings import Settings

Progress = Callable[[str, int, int], None]


@dataclass(frozen=True, slots=True)
class BuildReport:
    documents: list[Document]
    passages_by_doc: dict[str, int]
    skipped: list[Skipped]
    seconds: float
    built: bool = True
    notes: list[str] = field(default_factory=list)

    @property
    def passage_count(self) -> int:
        return sum(self.passages_by_doc.values())

    def summary(self) -> str:
        """The table `qa index` prints and the app shows."""
        lines = []
        verb = "Index construit" if self.built else "Index à jour, rien à refaire"
        lines.append(f"{verb} : {len(self.documents)} documents, {self.passage_count} passages, "
                     f"{self.seconds:.1f} s.")
        for document in self.documents:
            lines.append(f"  indexé   {document.source}  ({self.passages_by_doc.get(document.id, 0)} passages)")
            lines.extend(f"           ! {notice}" for notice in document.notices)
        for skipped in self.skipped:
            lines.append(f"  ignoré   {skipped.source}  : {skipped.reason}")
        return "\n".join(lines)


def embedded_text(document: Document, passage: Passage) -> str:
    """What the retrievers read: the passage under a contextual header (title, place, date), not shown."""
    header = " – ".join(part for part in (document.title, document.place, document.date) if part)
    if header and not passage.text.startswith(document.title or "\0"):
        return f"{header}\n{passage.text}"
    return passage.text


def corpus_fingerprint(settings: Settings) -> dict[str, str]:
    """Path → content hash of every file the corpus offers (read or not)."""
    return {f.source: hashlib.sha256(f.path.read_bytes()).hexdigest()
            for f in list_corpus(settings.corpus) if f.path.is_file()}


def is_up_to_date(settings: Settings, encoder_info) -> bool:
    """True when the live index was built from exactly these files, with this encoder and chunking."""
    manifest = store.read_manifest(settings.index)
    if manifest is None or manifest.get("format_version") != store.FORMAT_VERSION:
        return False
    indexed = {doc["source"]: doc["sha256"] for doc in manifest["documents"].values()}
    known = set(indexed) | set(manifest.get("skipped", {}))
    try:
        fingerprint = corpus_fingerprint(settings)
    except OSError:
        return False
    if set(fingerprint) != known:
        return False
    if any(indexed[source] != digest for source, digest in fingerprint.items() if source in indexed):
        return False
    return (manifest["chunking"] == settings.chunking()
            and (encoder_info is None or EncoderInfo(**manifest["encoder"]).compatible(encoder_info)))


def build_index(settings: Settings, encoder: Encoder, progress: Progress | None = None) -> BuildReport:
    """Read the corpus, embed every passage, and switch the live index to the new build."""
    started = time.perf_counter()
    with store.build_lock(settings.index):
        documents, skipped = read_corpus(settings.corpus, settings.max_file_bytes)
        if progress:
            progress("lecture", len(documents), len(documents) + len(skipped))
        all_passages: list[Passage] = []
        texts: list[str] = []
        repeated = repeated_sentences(documents)
        for document in documents:
            for passage in cut_passages(document.id, document.text, settings.passage_chars,
                                        settings.overlap_sentences, exclude=repeated.get(document.id, ())):
                all_passages.append(passage)
                texts.append(embedded_text(document, passage))
        vectors = encoder.encode_passages(
            texts, progress=(lambda done, total: progress("vecteurs", done, total)) if progress else None)
        seconds = time.perf_counter() - started
        store.write_build(settings.index, documents, all_passages, vectors, encoder.info,
                          settings.chunking(), skipped, seconds)
    counts: dict[str, int] = {}
    for passage in all_passages:
        counts[passage.doc_id] = counts.get(passage.doc_id, 0) + 1
    return BuildReport(documents, counts, skipped, time.perf_counter() - started)
