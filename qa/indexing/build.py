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
from ..reading.boilerplate import Analysis, Repeats, analyse
from ..reading.chunking import Passage, Span, passages as cut_passages, sentence_spans
from ..reading.entities import entities
from ..reading.documents import Document, Skipped, list_corpus, read_corpus, trusted_digest
from ..reading.limits import Limits
from ..reading.stories import Signature, Stories, signature, stories
from .embedding import Encoder, EncoderInfo
from ..errors import IndexCorruptError, IndexMissingError, QAError
from ..reading.lexical import terms
from ..settings import Settings
from ..wording import plural

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
        lines = [f"Index construit : {plural(len(self.documents), 'document')}, "
                 f"{plural(self.passage_count, 'passage')}, {self.seconds:.1f} s.",
                 f"  {plural(len(self.added), 'ajouté')}, {plural(len(self.updated), 'modifié')}, "
                 f"{plural(len(self.removed), 'retiré')}, {plural(len(self.unchanged), 'inchangé')} ; "
                 f"{plural(self.embedded, 'passage vectorisé', 'passages vectorisés')}, "
                 f"{plural(self.reused, 'repris', 'repris')}."]
        lines.extend(f"  note : {note}" for note in self.notes)
        status = {**{s: "ajouté" for s in self.added}, **{s: "modifié" for s in self.updated}}
        listed = self.documents if len(self.documents) <= LIST_ALL else \
            [d for d in self.documents if d.source in status or d.notices]
        for document in listed:
            lines.append(f"  indexé   {document.source}  ({plural(self.passages_by_doc.get(document.id, 0), 'passage')})"
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


def corpus_state(settings: Settings, recorded: dict[str, tuple[list, str]] | None = None) -> dict[str, str]:
    """Path → content digest of every file the corpus offers (read or not); a file whose stat is as
    `recorded` (source → (stat, digest)) is not hashed again."""
    return {f.source: trusted_digest(f, settings.max_file_bytes, recorded) for f in list_corpus(settings.corpus)}


def manifest_state(manifest: dict) -> dict[str, str]:
    state = {doc["source"]: doc["sha256"] for doc in manifest["documents"].values()}
    state.update({source: skipped["sha256"] for source, skipped in manifest.get("skipped", {}).items()})
    return state


def recorded_stats(manifest: dict | None) -> dict[str, tuple[list, str]]:
    """Source → (stat, digest) of the files a build read, as it recorded them."""
    if not manifest:
        return {}
    found = {doc["source"]: (doc["stat"], doc["sha256"]) for doc in manifest["documents"].values() if doc.get("stat")}
    found.update({source: (entry["stat"], entry["sha256"]) for source, entry in manifest.get("skipped", {}).items()
                  if entry.get("stat")})
    return found


def is_up_to_date(settings: Settings, encoder_info: EncoderInfo | None) -> bool:
    """True when the live index was built from exactly these files, with this encoder and chunking."""
    manifest = store.read_manifest(settings.index)
    if manifest is None or manifest.get("format_version") != store.FORMAT_VERSION:
        return False
    if manifest["chunking"] != settings.chunking():
        return False
    if encoder_info is not None and not EncoderInfo(**manifest["encoder"]).compatible(encoder_info):
        return False
    return corpus_state(settings, recorded_stats(manifest)) == manifest_state(manifest)


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


@dataclass(slots=True)
class Cut:
    """The corpus cut into passages, release by release: what a build stores of each release, and
    which releases this build cut again (the others are the previous build's, as they were)."""
    passages: dict[str, list[Passage]]  # doc id → its passages, in order
    keys: dict[str, list[str]]  # doc id → the digest of what the encoder reads of each passage
    texts: dict[str, list[str]]  # doc id → what the encoder reads of each passage (releases cut again)
    analyses: dict[str, Analysis]
    excluded: dict[str, list[Span]]  # doc id → its sentences said elsewhere, left out of its passages
    recut: set[str]


def _cut_one(document: Document, analysis: Analysis, excluded: list[Span], settings: Settings):
    passages = cut_passages(document.id, document.text, settings.passage_chars, settings.overlap_sentences,
                            exclude=excluded, spans=analysis.spans)
    texts = [embedded_text(document, passage) for passage in passages]
    return passages, texts


def _story_state(told: Stories, doc_id: str) -> tuple:
    """What `told.together(doc_id, …)` depends on for one release."""
    return told.copies.get(doc_id, ()), told.superseded.get(doc_id), told._newest(doc_id)


def cut_releases(documents: list[Document], settings: Settings, analyses: dict[str, Analysis], told: Stories,
                 before: "Previous | None" = None) -> Cut:
    """Cut every release into passages, repeated text said once (except between releases of one
    story). With `before` (the previous build of the same text pipeline), only the releases that
    changed, and those whose repeated-text decisions a change can alter, are decided and cut again:
    the result is the one a build from scratch gives."""
    by_id = {d.id: d for d in documents}
    if before is None:
        repeats = Repeats.of((d.id, d.source, analyses[d.id]) for d in documents)
        concerned = set(by_id)
        excluded: dict[str, list[Span]] = {}
    else:
        repeats = Repeats.of((doc_id, d.source, before.analyses[doc_id]) for doc_id, d in before.documents.items())
        gone = [doc_id for doc_id, d in before.documents.items()
                if doc_id not in by_id or by_id[doc_id].sha256 != d.sha256]
        new = [d for d in documents if d.id not in before.documents or d.id in set(gone)]
        firsts: dict = {}
        for doc_id in gone:
            for key in repeats.keys_of(doc_id):
                firsts.setdefault(key, repeats.first.get(key))
            repeats.remove(doc_id)
        for document in new:
            for span, found in zip(analyses[document.id].spans, analyses[document.id].terms):
                firsts.setdefault(tuple(found), repeats.first.get(tuple(found)))
            repeats.add(document.id, document.source, analyses[document.id])
        stories_changed = {doc_id for doc_id in set(by_id) | set(before.documents)
                           if _story_state(told, doc_id) != _story_state(before.stories, doc_id)}
        concerned = repeats.concerned({d.id for d in new}, firsts, stories_changed)
        excluded = {doc_id: spans for doc_id, spans in before.excluded.items() if doc_id in by_id}
    out = Cut({}, {}, {}, {d.id: analyses[d.id] for d in documents}, {}, set())
    for document in documents:
        doc_id = document.id
        if doc_id in concerned:
            spans = repeats.dropped(doc_id, told.together)
            if before is not None and doc_id in before.passages and before.documents[doc_id].sha256 == document.sha256 \
                    and _same_spans(before.excluded.get(doc_id, []), spans):
                out.passages[doc_id], out.keys[doc_id] = before.passages[doc_id], before.keys[doc_id]
            else:
                passages, texts = _cut_one(document, analyses[doc_id], spans, settings)
                out.passages[doc_id], out.texts[doc_id] = passages, texts
                out.keys[doc_id] = [passage_key(text) for text in texts]
                out.recut.add(doc_id)
        else:
            spans = excluded.get(doc_id, [])
            out.passages[doc_id], out.keys[doc_id] = before.passages[doc_id], before.keys[doc_id]
        if spans:
            out.excluded[doc_id] = spans
    return out


def _same_spans(a: list[Span], b: list[Span]) -> bool:
    return sorted((s.start, s.end) for s in a) == sorted((s.start, s.end) for s in b)


@dataclass(slots=True)
class Previous:
    """What a build reuses of the previous one, release by release."""
    documents: dict[str, Document]
    analyses: dict[str, Analysis]  # doc id → its analysis
    excluded: dict[str, list[Span]]
    passages: dict[str, list[Passage]]
    keys: dict[str, list[str]]
    stories: Stories
    sentences: dict[str, list[dict]]  # doc id → its sentence rows

    @classmethod
    def of(cls, index: store.StoredIndex, documents: list[Document]) -> "Previous | None":
        """None when the build lacks what reuse needs (made by an older version); `documents`:
        the build's releases, as read."""
        excluded = store.load_excluded(index)
        if excluded is None:
            return None
        by_sha = {sha: Analysis.from_row(row) for sha, row in store.load_analyses(index).items()}
        if any(d.sha256 not in by_sha for d in index.documents.headers):
            return None
        documents = {d.id: d for d in documents}
        passages: dict[str, list[Passage]] = {doc_id: [] for doc_id in index.documents}
        keys: dict[str, list[str]] = {doc_id: [] for doc_id in index.documents}
        for passage, key in zip(index.passages, store.load_keys(index)):
            passages[passage.doc_id].append(passage)
            keys[passage.doc_id].append(key)
        sentences: dict[str, list[dict]] = {doc_id: [] for doc_id in index.documents}
        for row in index.sentences.rows:
            sentences[row["doc_id"]].append(row)
        return cls(documents, {doc_id: by_sha[d.sha256] for doc_id, d in documents.items()},
                   {doc_id: [Span(a, b) for a, b in spans] for doc_id, spans in excluded.items()},
                   passages, keys, Stories.from_dict(index.stories), sentences)


def cut_corpus(documents: list[Document], settings: Settings, known: dict[str, Analysis] | None = None,
               found: Stories | None = None) -> tuple[list[Passage], list[str], list[Analysis]]:
    """The passages of every document (repeated text said once, except between copies or versions
    of one story), what the encoder reads of each, and each document's analysis (`known`: analyses
    by content hash, reused when unchanged)."""
    known = known or {}
    analyses = {d.id: known.get(d.sha256) or analyse(d) for d in documents}
    cut = cut_releases(documents, settings, analyses, found or Stories())
    return ([p for d in documents for p in cut.passages[d.id]], [t for d in documents for t in cut.texts[d.id]],
            [analyses[d.id] for d in documents])


def build_index(settings: Settings, encoder: Encoder, progress: Progress | None = None,
                rebuild: bool = False) -> BuildReport:
    """Bring the index up to date with the corpus and switch the live index to the new build.

    Unless `rebuild`, unchanged files are not read (nor hashed, when their stat is unchanged) again,
    only the releases a change concerns are cut again, and passages already embedded keep their
    vectors. The live index keeps serving until the new build is complete.
    """
    started = time.perf_counter()
    notes: list[str] = []
    with store.build_lock(settings.index):
        previous = None if rebuild else _previous(settings, encoder, notes)
        # Documents are reused only when read by the same text pipeline (same code and chunking);
        # vectors are reused whenever the text they embed is the same.
        same_pipeline = previous is not None and previous.manifest.get("chunking") == settings.chunking()
        known = list(previous.documents.all()) if same_pipeline else []
        limits = Limits.of(settings)
        stats: dict[str, list] = {}
        documents, skipped = read_corpus(settings.corpus, limits, known={d.source: d for d in known},
                                         recorded=recorded_stats(previous.manifest) if same_pipeline else None,
                                         stats=stats)
        if progress:
            progress("lecture", len(documents), len(documents) + len(skipped))

        before = Previous.of(previous, known) if same_pipeline else None
        analyses = {sha: a for sha, a in ((a.sha256, a) for a in (before.analyses.values() if before else []))}
        if same_pipeline and before is None:
            analyses = {sha: Analysis.from_row(row) for sha, row in store.load_analyses(previous).items()}
        signatures = {sha: Signature.from_row(row) for sha, row in store.load_signatures(previous).items()} \
            if same_pipeline else {}
        signatures = {d.sha256: signatures.get(d.sha256) or signature(d) for d in documents}
        while True:
            told = stories(documents, signatures)
            by_doc = {d.id: analyses.get(d.sha256) or analyse(d) for d in documents}
            cut = cut_releases(documents, settings, by_doc, told, before)
            too_long = {doc_id: reason for doc_id in cut.recut
                        if (reason := limits.too_many_passages(len(cut.passages[doc_id])))}
            if not too_long:
                break
            # Skipped, and the corpus cut again without them (their repeated text goes elsewhere).
            skipped += [Skipped(d.source, too_long[d.id], d.sha256) for d in documents if d.id in too_long]
            documents = [d for d in documents if d.id not in too_long]
            analyses.update({a.sha256: a for a in by_doc.values()})
        all_passages = [p for d in documents for p in cut.passages[d.id]]
        keys = [k for d in documents for k in cut.keys[d.id]]
        texts = {key: text for doc_id in cut.recut for key, text in zip(cut.keys[doc_id], cut.texts[doc_id])}

        vectors = np.empty((len(keys), encoder.info.dim), dtype=np.float32)
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
                [texts[keys[i]] for i in missing],
                progress=(lambda done, total: progress("vecteurs", done, total)) if progress else None)
            vectors[missing] = fresh

        sentences = []
        for document in documents:
            if before is not None and document.id not in cut.recut:
                sentences += before.sentences[document.id]
            else:
                sentences += passage_sentences(cut.passages[document.id])
        old_sentences = store.load_sentence_vectors(previous) if previous is not None else {}
        old_entities = store.load_sentence_entities(previous) if same_pipeline else {}
        sentence_vectors = np.empty((len(sentences), encoder.info.dim), dtype=np.float32)
        new_sentences = [i for i, row in enumerate(sentences) if row["key"] not in old_sentences]
        for i, row in enumerate(sentences):
            if row["key"] in old_sentences:
                sentence_vectors[i] = old_sentences[row["key"]]
        unread = [i for i, row in enumerate(sentences) if "entities" not in row and row["key"] not in old_entities]
        for i, found in zip(unread, entities(sentences[i]["text"] for i in unread)):
            sentences[i]["entities"] = found
        for row in sentences:
            row.setdefault("entities", old_entities.get(row["key"], []))
        if new_sentences:
            sentence_vectors[new_sentences] = encoder.encode_passages(
                [sentences[i]["text"] for i in new_sentences],
                progress=(lambda done, total: progress("phrases", done, total)) if progress else None)
        sentences = [{name: value for name, value in row.items() if name != "text"} for row in sentences]

        previous_documents = {d.source: d.sha256 for d in (previous.documents.headers if previous else [])}
        now = {d.source: d.sha256 for d in documents}
        changes = {
            "added": sorted(set(now) - set(previous_documents)),
            "updated": sorted(s for s in now if s in previous_documents and previous_documents[s] != now[s]),
            "removed": sorted(set(previous_documents) - set(now)),
            "unchanged": sorted(s for s in now if previous_documents.get(s) == now[s]),
        }
        seconds = time.perf_counter() - started
        store.write_build(settings.index, documents, all_passages, vectors, encoder.info,
                          settings.chunking(), skipped, seconds,
                          changes={name: len(sources) for name, sources in changes.items()}, tokens=tokens, keys=keys,
                          analyses=[cut.analyses[d.id].to_row() for d in documents],
                          sentences=sentences, sentence_vectors=sentence_vectors, stories=told.to_dict(),
                          excluded={doc_id: [[s.start, s.end] for s in spans] for doc_id, spans in cut.excluded.items()},
                          stats=stats, signatures=[signatures[d.sha256].to_row() for d in documents])
    counts = Counter(passage.doc_id for passage in all_passages)
    return BuildReport(documents, dict(counts), skipped, time.perf_counter() - started, embedded=len(missing),
                       reused=len(keys) - len(missing), notes=notes, **changes)
