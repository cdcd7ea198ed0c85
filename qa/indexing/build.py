"""From the files of corpus/ to a live index: read, cut into passages, embed, store — incrementally.

A build reuses what the live index already holds: a file whose content hash has not changed is not
read again, and a passage whose text (with its header) was already embedded by the same encoder
keeps its vector. So adding one release costs the embedding of that release; changing the chunking
or the text pipeline changes the passages, and what changed is embedded again, automatically.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable, Mapping

import numpy as np

from . import store
from .decisions import StoredRepeats, updated_stories
from .segment import Bundle, Segment
from .text import cut_one, lexical_terms, passage_key, passage_sentences
from ..reading.boilerplate import Analysis, Repeats, analyse
from ..reading.chunking import Passage, Span
from ..reading.entities import entities
from ..reading.documents import Document, Skipped, read_corpus
from ..reading.listing import list_corpus, trusted_digest
from ..reading.limits import Limits
from ..reading.stories import Signature, Stories, signature, stories, story_keys
from .embedding import Encoder, EncoderInfo
from ..errors import IndexCorruptError, IndexMissingError, QAError
from ..settings import Settings
from ..wording import plural

Progress = Callable[[str, int, int], None]
# Up to this many documents, the report lists each one; above, only those added or changed.
LIST_ALL = 50
# A build removing and adding more releases than this decides repeated text and stories over
# every release in memory (cheaper for a large change), unless the index holds more than
# IN_MEMORY_MAX_RELEASES (in memory, every release's analysis: gigabytes at 100,000 releases); any
# other build decides from the tables the segments store (its cost grows with the change, not
# with the corpus). The decisions are the same.
IN_MEMORY_ABOVE = 1_000
IN_MEMORY_MAX_RELEASES = 20_000


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
        previous = store.load(settings.index, encoder.info, dense=False)
    except QAError as error:
        manifest = store.read_manifest(settings.index)
        if isinstance(error, IndexCorruptError) and (manifest or {}).get("format_version", store.FORMAT_VERSION) \
                == store.FORMAT_VERSION:
            notes.append("l'index précédent est illisible ou endommagé : il est reconstruit entièrement "
                         "(the previous index was damaged: rebuilt from the corpus)")
        elif (manifest or {}).get("format_version") in (5, 6):
            notes.append("l'index précédent vient d'une version antérieure : les communiqués sont relus, "
                         "leurs vecteurs repris (an index from an earlier version: read again, its vectors kept)")
        elif not isinstance(error, IndexMissingError):
            notes.append("l'index précédent (autre format, autre encodeur ou fichier endommagé) n'est pas "
                         "réutilisé : tout est recalculé")
        return None
    return previous


@dataclass(slots=True)
class Cut:
    """The corpus cut into passages, release by release: the releases this build cut again, with
    what it stores of them, and those it keeps as the previous build stored them (`kept`)."""
    passages: dict[str, list[Passage]]  # doc id → its passages, in order
    keys: dict[str, list[str]]  # doc id → the digest of what the encoder reads of each passage
    texts: dict[str, list[str]]  # doc id → what the encoder reads of each passage (releases cut again)
    analyses: dict[str, Analysis]
    excluded: dict[str, list[Span]]  # doc id → its sentences said elsewhere, left out of its passages
    recut: set[str]
    kept: set[str] = field(default_factory=set)  # releases left as the previous build stored them


def _story_state(told: Stories, doc_id: str) -> tuple:
    """What `told.together(doc_id, …)` depends on for one release."""
    return told.copies.get(doc_id, ()), told.superseded.get(doc_id), told._newest(doc_id)


def cut_releases(documents: list[Document], settings: Settings, analyses: Mapping[str, Analysis], told: Stories,
                 before: "Previous | None" = None) -> Cut:
    """Cut every release into passages, repeated text said once (except between releases of one
    story). With `before` (the previous build of the same text pipeline), only the releases that
    changed, and those whose repeated-text decisions a change can alter, are decided and cut again,
    from what the previous build's segments store (qa.indexing.decisions): the result is the one a
    build from scratch gives. `analyses`: doc id → its Analysis (read only for the releases decided)."""
    by_id = {d.id: d for d in documents}
    if before is None:
        repeats = Repeats.of((d.id, d.source, analyses[d.id]) for d in documents)
        concerned = set(by_id)

        def dropped(document: Document) -> list[Span]:
            return repeats.dropped(document.id, told.together)
    else:
        gone, new = before.changes(documents)
        stories_changed = {doc_id for doc_id in set(by_id) | set(before.documents)
                           if _story_state(told, doc_id) != _story_state(before.stories, doc_id)}
        if before.in_memory(gone, new):
            concerned, dropped = _decided_in_memory(before, analyses, gone, new, stories_changed, told)
        else:
            concerned, dropped = _decided_from_segments(before, analyses, gone, new, stories_changed, told)
    out = Cut({}, {}, {}, {}, {}, set())
    for document in documents:
        doc_id = document.id
        if doc_id not in concerned:
            out.kept.add(doc_id)
            continue
        spans = dropped(document)
        if before is not None and doc_id in before.documents and before.documents[doc_id].sha256 == document.sha256 \
                and _same_spans(before.excluded(doc_id), spans):
            out.kept.add(doc_id)
            continue
        passages, texts = cut_one(document, analyses[doc_id], spans, settings)
        out.passages[doc_id], out.texts[doc_id] = passages, texts
        out.keys[doc_id] = [passage_key(text) for text in texts]
        out.analyses[doc_id] = analyses[doc_id]
        out.recut.add(doc_id)
        if spans:
            out.excluded[doc_id] = spans
    return out


def _decided_from_segments(before: "Previous", analyses: Mapping[str, Analysis], gone: list[str],
                           new: list[Document], stories_changed: set[str], told: Stories):
    """The releases a change concerns, and what each leaves out, from the tables the previous
    build's segments store: the work grows with the change, not with the corpus."""
    stored = StoredRepeats(before.parts(), set(gone), [(d.id, d.source, analyses[d.id]) for d in new])
    concerned = stored.concerned({d.id for d in new}, [before.analysis(doc_id) for doc_id in gone],
                                 [analyses[d.id] for d in new], stories_changed, analyses.__getitem__)
    # What every concerned release leaves out, decided at once.
    decided = stored.dropped([(doc_id, stored.source[doc_id], analyses[doc_id]) for doc_id in sorted(concerned)],
                             told.together)

    def dropped(document: Document) -> list[Span]:
        return decided[document.id]
    return concerned, dropped


def _decided_in_memory(before: "Previous", analyses: Mapping[str, Analysis], gone: list[str], new: list[Document],
                       stories_changed: set[str], told: Stories):
    """The same, over every release's analysis at once (what a large change costs less with)."""
    gone_ids = set(gone)
    repeats = Repeats.of((doc_id, d.source, before.analysis(doc_id) if doc_id in gone_ids else analyses[doc_id])
                         for doc_id, d in before.documents.items())
    firsts: dict = {}
    for doc_id in gone:
        for key in repeats.keys_of(doc_id):
            firsts.setdefault(key, repeats.first.get(key))
        repeats.remove(doc_id)
    for document in new:
        for found in analyses[document.id].terms:
            firsts.setdefault(tuple(found), repeats.first.get(tuple(found)))
        repeats.add(document.id, document.source, analyses[document.id])
    concerned = repeats.concerned({d.id for d in new}, firsts, stories_changed)

    def dropped(document: Document) -> list[Span]:
        return repeats.dropped(document.id, told.together)
    return concerned, dropped


def _same_spans(a: list[Span], b: list[Span]) -> bool:
    return sorted((s.start, s.end) for s in a) == sorted((s.start, s.end) for s in b)


@dataclass(slots=True)
class Previous:
    """What a build reuses of the previous one, read on demand: each release's analysis,
    repeated-text decisions and signature, and where each is stored."""
    index: store.StoredIndex
    documents: dict[str, Document]
    stories: Stories
    located: dict[str, tuple[Segment, int]]  # doc id → its segment and its position there
    changed: tuple | None = None  # (documents, changes(documents)): asked by stories, then by cutting

    @classmethod
    def of(cls, index: store.StoredIndex, documents: list[Document]) -> "Previous":
        """`documents`: the build's live releases, as read."""
        located = {segment.headers[position].id: (segment, position) for segment, position in index.located()}
        return cls(index, {d.id: d for d in documents}, Stories.from_dict(index.stories), located)

    def changes(self, documents: list[Document]) -> tuple[list[str], list[Document]]:
        """The releases a build over `documents` removes or changes (doc ids, as the previous build
        holds them), and those it adds or changes."""
        if self.changed is not None and self.changed[0] is documents:
            return self.changed[1]
        by_id = {d.id: d for d in documents}
        gone = [doc_id for doc_id in self.documents if doc_id not in by_id or not _unchanged(self, by_id[doc_id])]
        changed = set(gone)
        self.changed = (documents, (gone, [d for d in documents if d.id not in self.documents or d.id in changed]))
        return self.changed[1]

    def in_memory(self, gone: list[str], new: list[Document]) -> bool:
        """Whether this build decides over every release in memory (see IN_MEMORY_ABOVE)."""
        return len(gone) + len(new) > IN_MEMORY_ABOVE and len(self.documents) <= IN_MEMORY_MAX_RELEASES

    def analysis(self, doc_id: str) -> Analysis:
        segment, position = self.located[doc_id]
        return Analysis.from_row(segment.analyses[position])

    def excluded(self, doc_id: str) -> list[Span]:
        segment, position = self.located[doc_id]
        return [Span(a, b) for a, b in segment.excluded[position]]

    def signature(self, doc_id: str) -> Signature:
        segment, position = self.located[doc_id]
        return Signature.from_row(segment.signatures[position])

    def story_keys(self, doc_id: str) -> list[tuple[str, str]]:
        """The keys finding stories compared the release by, as the previous build stored it."""
        segment, position = self.located[doc_id]
        return story_keys(Document(**segment.documents[position]), self.signature(doc_id))

    def parts(self, tables: str = "repeats") -> list:
        """Each segment's tables (`repeats` or `story_keys`), its releases and those deleted from it."""
        return [(getattr(segment, tables), segment.headers, set(entry["deleted"]))
                for segment, entry in zip(self.index.segments, self.index.manifest["segments"])]

    def stored(self, doc_id: str) -> Bundle:
        segment, position = self.located[doc_id]
        return segment.bundle(position)


def _unchanged(before: "Previous", document: Document) -> bool:
    previous = before.documents.get(document.id)
    return previous is not None and previous.sha256 == document.sha256


def find_stories(documents: list[Document], signatures: Mapping[str, Signature], before: "Previous | None") -> Stories:
    """The corpus's stories: from scratch, or from the previous build's decided pairs (the same)."""
    if before is None or before.stories.links is None:
        return stories(documents, {d.sha256: signatures[d.id] for d in documents})
    gone, new = before.changes(documents)
    if before.in_memory(gone, new):
        return stories(documents, {d.sha256: signatures[d.id] for d in documents})
    by_id = {d.id: d for d in documents}
    return updated_stories(before.stories, before.parts("story_keys"), set(gone), [(d, signatures[d.id]) for d in new],
                           before.story_keys, by_id.get, signatures.__getitem__)


class _FromPrevious(dict):
    """Doc id → what a release's text gives (`make(document)`: its Analysis, its Signature), made
    when first asked: read from the previous build (`stored(doc id)`) when the release is unchanged
    there, else made (once for each content hash)."""

    def __init__(self, documents: list[Document], before: "Previous | None", stored: Callable, make: Callable):
        super().__init__()
        self.by_id = {d.id: d for d in documents}
        self.before, self.stored, self.make = before, stored, make
        self.by_hash: dict = {}

    def __missing__(self, doc_id: str):
        document, before = self.by_id[doc_id], self.before
        if before is not None and doc_id in before.located and _unchanged(before, document):
            found = self.stored(doc_id)
        else:
            found = self.by_hash.get(document.sha256) or self.make(document)
        self.by_hash[document.sha256] = found
        self[doc_id] = found
        return found


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
        # Releases are reused only when read by the same text pipeline (same code and chunking);
        # vectors are reused whenever the text they embed is the same.
        same_pipeline = previous is not None and previous.manifest.get("chunking") == settings.chunking()
        known = list(previous.documents.stored()) if same_pipeline else []
        limits = Limits.of(settings)
        stats: dict[str, list] = {}
        documents, skipped = read_corpus(settings.corpus, limits, known={d.source: d for d in known},
                                         recorded=recorded_stats(previous.manifest) if same_pipeline else None,
                                         stats=stats)
        if progress:
            progress("lecture", len(documents), len(documents) + len(skipped))

        before = Previous.of(previous, known) if same_pipeline else None
        signatures = _FromPrevious(documents, before, before and before.signature, signature)
        by_doc = _FromPrevious(documents, before, before and before.analysis, analyse)
        while True:
            told = find_stories(documents, signatures, before)
            cut = cut_releases(documents, settings, by_doc, told, before)
            too_long = {doc_id: reason for doc_id in cut.recut
                        if (reason := limits.too_many_passages(len(cut.passages[doc_id])))}
            if not too_long:
                break
            # Skipped, and the corpus cut again without them (their repeated text goes elsewhere).
            skipped += [Skipped(d.source, too_long[d.id], d.sha256) for d in documents if d.id in too_long]
            documents = [d for d in documents if d.id not in too_long]

        fresh = [d for d in documents if d.id not in cut.kept]
        # What the fresh releases may reuse: the vectors, terms, sentence vectors and entities of
        # the releases they replace (by the digest of their text), or of the whole previous build
        # when it was read by another text pipeline.
        if before is not None:
            replaced = [before.stored(doc_id) for doc_id in before.located
                        if doc_id not in cut.kept]
            old = _Reusable.of(replaced, terms=True)
        elif previous is not None:
            old = _Reusable.of_index(previous, terms=same_pipeline)
        else:
            # A build of a version before segments: read again, but its vectors are kept.
            vectors, sentence_vectors = ({}, {}) if rebuild else store.unsegmented_vectors(settings.index,
                                                                                            encoder.info)
            old = _Reusable(vectors=vectors, sentence_vectors=sentence_vectors)
        bundles, embedded = _bundles(fresh, cut, old, signatures, encoder, progress)

        segments: list = []
        if before is not None:
            for segment, entry in zip(previous.segments, previous.manifest["segments"]):
                deleted = set(entry["deleted"]) | {h.id for h in segment.headers if h.id not in cut.kept}
                if len(deleted) < len(segment.headers):
                    # Linked from the live build's folder (an opened segment may be an earlier build's).
                    linked = previous.path / "segments" / entry["name"]
                    segments.append((segment, store.Kept(linked, frozenset(deleted))))
        segments = _merged(segments, bundles)

        previous_documents = {d.source: d.sha256 for d in (previous.documents.listed() if previous else [])}
        now = {d.source: d.sha256 for d in documents}
        changes = {
            "added": sorted(set(now) - set(previous_documents)),
            "updated": sorted(s for s in now if s in previous_documents and previous_documents[s] != now[s]),
            "removed": sorted(set(previous_documents) - set(now)),
            "unchanged": sorted(s for s in now if previous_documents.get(s) == now[s]),
        }
        counts = {doc_id: entry["passages"] for doc_id, entry in (previous.manifest["documents"].items()
                                                                    if before is not None else [])}
        counts.update({b.document.id: len(b.passages) for b in bundles})
        live = {d.id: {"source": d.source, "sha256": d.sha256, "passages": counts[d.id]} for d in documents}
        seconds = time.perf_counter() - started
        store.write_build(settings.index, segments, live, encoder.info, settings.chunking(), skipped, seconds,
                          changes={name: len(sources) for name, sources in changes.items()},
                          stories=told.to_dict(), stats=stats)
    return BuildReport(documents, {doc_id: entry["passages"] for doc_id, entry in live.items()}, skipped,
                       time.perf_counter() - started, embedded=embedded,
                       reused=sum(entry["passages"] for entry in live.values()) - embedded, notes=notes, **changes)


@dataclass(slots=True)
class _Reusable:
    """What earlier builds computed, by the digest of the text it was computed from."""
    vectors: dict[str, np.ndarray] = field(default_factory=dict)
    terms: dict[str, list[str]] = field(default_factory=dict)
    sentence_vectors: dict[str, np.ndarray] = field(default_factory=dict)
    entities: dict[str, list] = field(default_factory=dict)

    @classmethod
    def of(cls, bundles: list[Bundle], terms: bool) -> "_Reusable":
        found = cls()
        for bundle in bundles:
            found.vectors.update(zip(bundle.keys, bundle.vectors))
            if terms:
                found.terms.update(zip(bundle.keys, bundle.terms))
                found.entities.update((row["key"], row["entities"]) for row in bundle.sentences if "entities" in row)
            found.sentence_vectors.update((row["key"], vector) for row, vector in zip(bundle.sentences,
                                                                                     bundle.sentence_vectors))
        return found

    @classmethod
    def of_index(cls, index: store.StoredIndex, terms: bool) -> "_Reusable":
        """Everything a whole build holds (when its releases are read again by another pipeline)."""
        keys = store.load_keys(index)
        return cls(dict(zip(keys, store.load_vectors(index))), dict(zip(keys, store.load_terms(index))) if terms else {},
                   store.load_sentence_vectors(index), store.load_sentence_entities(index) if terms else {})


def _bundles(fresh: list[Document], cut: Cut, old: _Reusable, signatures: Mapping[str, Signature], encoder: Encoder,
             progress: Progress | None) -> tuple[list[Bundle], int]:
    """What the new segment stores of each fresh release: its passages, their terms and vectors
    (reused when the same text was embedded before), its sentences with their entities and vectors.
    Returns the bundles and how many passages were embedded."""
    keys = [k for d in fresh for k in cut.keys[d.id]]
    texts = {key: text for d in fresh for key, text in zip(cut.keys[d.id], cut.texts[d.id])}
    missing = list(dict.fromkeys(k for k in keys if k not in old.vectors))
    vectors = dict(old.vectors)
    if missing:
        fresh_vectors = encoder.encode_passages(
            [texts[k] for k in missing],
            progress=(lambda done, total: progress("vecteurs", done, total)) if progress else None)
        vectors.update(zip(missing, fresh_vectors))
    sentences = {d.id: passage_sentences(cut.passages[d.id]) for d in fresh}
    rows = [row for d in fresh for row in sentences[d.id]]
    unread = [row for row in rows if row["key"] not in old.entities]
    for row, found in zip(unread, entities(row["text"] for row in unread)):
        row["entities"] = found
    for row in rows:
        row.setdefault("entities", old.entities.get(row["key"], []))
    sentence_vectors = dict(old.sentence_vectors)
    new_sentences = list(dict.fromkeys(row["key"] for row in rows if row["key"] not in sentence_vectors))
    texts_of = {row["key"]: row["text"] for row in rows}
    if new_sentences:
        sentence_vectors.update(zip(new_sentences, encoder.encode_passages(
            [texts_of[k] for k in new_sentences],
            progress=(lambda done, total: progress("phrases", done, total)) if progress else None)))
    dim = encoder.info.dim
    bundles = []
    for document in fresh:
        passages, doc_keys = cut.passages[document.id], cut.keys[document.id]
        doc_rows = [{name: value for name, value in row.items() if name != "text"} for row in sentences[document.id]]
        bundles.append(Bundle(
            document, passages, doc_keys,
            [old.terms[k] if k in old.terms else lexical_terms(p) for k, p in zip(doc_keys, passages)],
            np.asarray([vectors[k] for k in doc_keys], dtype=np.float32).reshape(len(doc_keys), dim),
            doc_rows, np.asarray([sentence_vectors[r["key"]] for r in doc_rows], dtype=np.float32).reshape(-1, dim),
            cut.analyses[document.id].to_row(), signatures[document.id].to_row(),
            [[s.start, s.end] for s in cut.excluded.get(document.id, [])]))
    return bundles, len(missing)


def _merged(kept: list[tuple[Segment, "store.Kept"]], bundles: list[Bundle]) -> list:
    """The build's segments, oldest first: those kept, then the new one; the newest merged into
    one when the merge policy says so (store.merge_plan), from what they stored."""
    live = [[i for i, h in enumerate(segment.headers) if h.id not in plan.deleted] for segment, plan in kept]
    sizes = [int(segment.passage_counts()[found].sum()) for (segment, _), found in zip(kept, live)]
    segments: list = [plan for _, plan in kept]
    if bundles:
        sizes.append(sum(len(b.passages) for b in bundles))
        segments.append(bundles)
    merge = store.merge_plan(sizes)
    if merge < 2:
        return segments
    merged: list[Bundle] = []
    for (segment, _), found in list(zip(kept, live))[len(segments) - merge:]:
        merged += [segment.bundle(i) for i in found]
    if bundles:
        merged += bundles
    return segments[:len(segments) - merge] + [merged]
