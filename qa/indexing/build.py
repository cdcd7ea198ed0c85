"""From the files of corpus/ to a live index: read, cut into passages, embed, store — incrementally.

A build reuses what the live index already holds: a file whose content hash has not changed is not
read again, and a passage whose text (with its header) was already embedded by the same encoder
keeps its vector. So adding one release costs the embedding of that release; changing the chunking
or the text pipeline changes the passages, and what changed is embedded again, automatically.
"""
from __future__ import annotations

import hashlib
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from . import store
from ..reading.boilerplate import Analysis, analyse, repeated_sentences
from ..reading.chunking import Passage, passages as cut_passages, sentence_spans
from ..reading.entities import entities
from ..reading.documents import Document, Skipped, file_digest, list_corpus, read_corpus
from ..reading.limits import Limits
from ..reading.stories import Stories, stories
from .embedding import Encoder, EncoderInfo
from ..errors import IndexCorruptError, IndexMissingError, QAError
from ..reading.lexical import terms
from ..settings import Settings

Progress = Callable[[str, int, int], None]
# Up to this many documents, the report lists each one; above, only those added or changed.
LIST_ALL = 50


@dataclass(frozen=True, slots=True)
class BuildReport:
    documents: list[Document]
    passages_by_doc: dict[str, int]
    skipped: list[Skipped]
    seconds: float
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    embedded: int = 0  # passages embedded by this build
    reused: int = 0  # passages whose vectors came from the previous build
    notes: list[str] = field(default_factory=list)

    @property
    def passage_count(self) -> int:
        return sum(self.passages_by_doc.values())

    def summary(self) -> str:
        """The table `qa index` prints and the app shows."""
        lines = [f"Index construit : {len(self.documents)} documents, {self.passage_count} passages, "
                 f"{self.seconds:.1f} s.",
                 f"  {len(self.added)} ajoutés, {len(self.updated)} modifiés, {len(self.removed)} retirés, "
                 f"{len(self.unchanged)} inchangés ; {self.embedded} passages vectorisés, {self.reused} repris."]
        lines.extend(f"  note : {note}" for note in self.notes)
        status = {**{s: "ajouté" for s in self.added}, **{s: "modifié" for s in self.updated}}
        listed = self.documents if len(self.documents) <= LIST_ALL else \
            [d for d in self.documents if d.source in status or d.notices]
        for document in listed:
            lines.append(f"  indexé   {document.source}  ({self.passages_by_doc.get(document.id, 0)} passages)"
                         + (f"  [{status[document.source]}]" if document.source in status else ""))
            lines.extend(f"           ! {notice}" for notice in document.notices)
        if len(listed) < len(self.documents):
            lines.append(f"  … et {len(self.documents) - len(listed)} autres communiqués indexés, inchangés")
        for source in self.removed:
            lines.append(f"  retiré   {source}")
        for skipped in self.skipped:
            lines.append(f"  ignoré   {skipped.source}  : {skipped.reason}")
        return "\n".join(lines)


def embedded_text(document: Document, passage: Passage) -> str:
    """What the encoder reads: the passage under a contextual header (title, place, date), not shown."""
    header = " – ".join(part for part in (document.title, document.place, document.date) if part)
    if header and not passage.text.startswith(document.title or "\0"):
        return f"{header}\n{passage.text}"
    return passage.text


def lexical_terms(passage: Passage) -> list[str]:
    """What BM25 reads: the passage's own French terms. The header the encoder reads is left out:
    repeated in every passage of a release, its title words would match all of them alike."""
    return terms(passage.text)


def passage_key(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def passage_sentences(passages: list[Passage]) -> list[dict]:
    """The sentences of the passages, each once (passages overlap by a sentence): where each is in
    its document, its text's digest and its French terms; what the answer stage reads."""
    rows, seen = [], set()
    for passage in passages:
        for span in sentence_spans(passage.text):
            place = (passage.doc_id, passage.start + span.start, passage.start + span.end)
            if place in seen:
                continue
            seen.add(place)
            text = passage.text[span.start:span.end]
            rows.append({"doc_id": passage.doc_id, "start": place[1], "end": place[2], "key": passage_key(text),
                         "terms": terms(text), "text": text})
    return rows


def corpus_state(settings: Settings) -> dict[str, str]:
    """Path → content digest of every file the corpus offers (read or not)."""
    return {f.source: file_digest(f, settings.max_file_bytes) for f in list_corpus(settings.corpus)}


def manifest_state(manifest: dict) -> dict[str, str]:
    state = {doc["source"]: doc["sha256"] for doc in manifest["documents"].values()}
    state.update({source: skipped["sha256"] for source, skipped in manifest.get("skipped", {}).items()})
    return state


def is_up_to_date(settings: Settings, encoder_info: EncoderInfo | None) -> bool:
    """True when the live index was built from exactly these files, with this encoder and chunking."""
    manifest = store.read_manifest(settings.index)
    if manifest is None or manifest.get("format_version") != store.FORMAT_VERSION:
        return False
    if manifest["chunking"] != settings.chunking():
        return False
    if encoder_info is not None and not EncoderInfo(**manifest["encoder"]).compatible(encoder_info):
        return False
    return corpus_state(settings) == manifest_state(manifest)


def _previous(settings: Settings, encoder: Encoder, notes: list[str]) -> store.StoredIndex | None:
    """The live build, when its documents and vectors can be reused by this encoder."""
    try:
        previous = store.load(settings.index, encoder.info)
    except QAError as error:
        manifest = store.read_manifest(settings.index)
        if isinstance(error, IndexCorruptError) and (manifest or {}).get("format_version", store.FORMAT_VERSION) \
                == store.FORMAT_VERSION:
            notes.append("l'index précédent est illisible ou endommagé : il est reconstruit entièrement "
                         "(the previous index was damaged: rebuilt from the corpus)")
        elif not isinstance(error, IndexMissingError):
            notes.append("l'index précédent (autre format, autre encodeur ou fichier endommagé) n'est pas "
                         "réutilisé : tout est recalculé")
        return None
    return previous


def cut_corpus(documents: list[Document], settings: Settings, known: dict[str, Analysis] | None = None,
               found: Stories | None = None) -> tuple[list[Passage], list[str], list[Analysis]]:
    """The passages of every document (repeated text said once, except between copies or versions
    of one story), what the encoder reads of each, and each document's analysis (`known`: analyses
    by content hash, reused when unchanged)."""
    known = known or {}
    analyses = {d.id: known.get(d.sha256) or analyse(d) for d in documents}
    repeated = repeated_sentences(documents, analyses, together=found.together if found else None)
    all_passages: list[Passage] = []
    texts: list[str] = []
    for document in documents:
        for passage in cut_passages(document.id, document.text, settings.passage_chars,
                                    settings.overlap_sentences, exclude=repeated.get(document.id, ()),
                                    spans=analyses[document.id].spans):
            all_passages.append(passage)
            texts.append(embedded_text(document, passage))
    return all_passages, texts, [analyses[d.id] for d in documents]


def build_index(settings: Settings, encoder: Encoder, progress: Progress | None = None,
                rebuild: bool = False) -> BuildReport:
    """Bring the index up to date with the corpus and switch the live index to the new build.

    Unless `rebuild`, unchanged files are not read again and passages already embedded keep their
    vectors. The live index keeps serving until the new build is complete.
    """
    started = time.perf_counter()
    notes: list[str] = []
    with store.build_lock(settings.index):
        previous = None if rebuild else _previous(settings, encoder, notes)
        # Documents are reused only when read by the same text pipeline (same code and chunking);
        # vectors are reused whenever the text they embed is the same.
        same_pipeline = previous is not None and previous.manifest.get("chunking") == settings.chunking()
        known = previous.documents if same_pipeline else {}
        limits = Limits.of(settings)
        documents, skipped = read_corpus(settings.corpus, limits, known={d.source: d for d in known.values()})
        if progress:
            progress("lecture", len(documents), len(documents) + len(skipped))

        known_analyses = store.load_analyses(previous) if same_pipeline else {}
        known_analyses = {sha: Analysis.from_row(row) for sha, row in known_analyses.items()}
        told = stories(documents)
        all_passages, texts, analyses = cut_corpus(documents, settings, known_analyses, told)
        counts = Counter(passage.doc_id for passage in all_passages)
        too_long = {d.id: reason for d in documents if (reason := limits.too_many_passages(counts[d.id]))}
        if too_long:  # skipped, and the corpus cut again without them (their repeated text goes elsewhere)
            skipped += [Skipped(d.source, too_long[d.id], d.sha256) for d in documents if d.id in too_long]
            documents = [d for d in documents if d.id not in too_long]
            told = stories(documents)
            all_passages, texts, analyses = cut_corpus(
                documents, settings, {**known_analyses, **{a.sha256: a for a in analyses}}, told)

        vectors = np.empty((len(texts), encoder.info.dim), dtype=np.float32)
        keys = [passage_key(text) for text in texts]
        old_rows, old_terms = {}, {}
        if previous is not None:
            # Keyed by the text each vector was computed from, as stored with it; a passage's terms
            # are reused only when the French analysis that produced them is the same.
            old_keys, old_vectors = store.load_keys(previous), store.load_vectors(previous)
            old_rows = dict(zip(old_keys, old_vectors))
            if same_pipeline:
                old_terms = dict(zip(old_keys, store.load_terms(previous)))
        missing = [i for i, key in enumerate(keys) if key not in old_rows]
        for i, key in enumerate(keys):
            if key in old_rows:
                vectors[i] = old_rows[key]
        tokens = [old_terms[key] if key in old_terms else lexical_terms(passage)
                  for key, passage in zip(keys, all_passages)]
        if missing:
            fresh = encoder.encode_passages(
                [texts[i] for i in missing],
                progress=(lambda done, total: progress("vecteurs", done, total)) if progress else None)
            vectors[missing] = fresh

        sentences = passage_sentences(all_passages)
        old_sentences = store.load_sentence_vectors(previous) if previous is not None else {}
        old_entities = store.load_sentence_entities(previous) if same_pipeline else {}
        sentence_vectors = np.empty((len(sentences), encoder.info.dim), dtype=np.float32)
        new_sentences = [i for i, row in enumerate(sentences) if row["key"] not in old_sentences]
        for i, row in enumerate(sentences):
            if row["key"] in old_sentences:
                sentence_vectors[i] = old_sentences[row["key"]]
        unread = [i for i, row in enumerate(sentences) if row["key"] not in old_entities]
        for i, found in zip(unread, entities(sentences[i]["text"] for i in unread)):
            sentences[i]["entities"] = found
        for row in sentences:
            row.setdefault("entities", old_entities.get(row["key"], []))
        if new_sentences:
            sentence_vectors[new_sentences] = encoder.encode_passages(
                [sentences[i]["text"] for i in new_sentences],
                progress=(lambda done, total: progress("phrases", done, total)) if progress else None)
        for row in sentences:
            del row["text"]

        before = {d.source: d.sha256 for d in (previous.documents.values() if previous else [])}
        now = {d.source: d.sha256 for d in documents}
        changes = {
            "added": sorted(set(now) - set(before)),
            "updated": sorted(s for s in now if s in before and before[s] != now[s]),
            "removed": sorted(set(before) - set(now)),
            "unchanged": sorted(s for s in now if before.get(s) == now[s]),
        }
        seconds = time.perf_counter() - started
        store.write_build(settings.index, documents, all_passages, vectors, encoder.info,
                          settings.chunking(), skipped, seconds,
                          changes={name: len(sources) for name, sources in changes.items()}, tokens=tokens, keys=keys,
                          analyses=[analysis.to_row() for analysis in analyses],
                          sentences=sentences, sentence_vectors=sentence_vectors, stories=told.to_dict())
    counts = Counter(passage.doc_id for passage in all_passages)
    return BuildReport(documents, dict(counts), skipped, time.perf_counter() - started, embedded=len(missing),
                       reused=len(texts) - len(missing), notes=notes, **changes)
