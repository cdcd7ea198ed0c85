"""Reading the files of a corpus into Documents; a file that cannot be read is reported, never fatal.

Which files are read, and whether one changed since the last build, is decided by the listing
(qa/reading/listing.py): named pipes, sockets, devices and links leading out are skipped before a
byte is read, each with its reason, and every read is bounded (qa/reading/limits.py). A file name
that is not UTF-8 is indexed under a readable, escaped name (`caf\\xe9.txt`).

Metadata a person gives wins over what is extracted: a sidecar `release.json` beside
`release.pdf` (or front matter in a `.md`) may set title, date, place and url.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

from .formats import METADATA_KEYS, UnreadableFile, extract
from .limits import LimitExceeded, Limits
from .listing import CorpusFile, list_corpus, read_bounded, readable_name, sidecar_bytes, trusted_digest
from .releases import normalise, read_release


@dataclass(frozen=True, slots=True)
class Document:
    """A release as indexed: `text` is its clean text, the reference for every offset."""
    id: str
    source: str  # path relative to the corpus, with / separators
    text: str
    title: str | None
    date: str | None
    place: str | None
    sha256: str  # of the file's bytes (and of its sidecar metadata, when there is one)
    url: str | None = None
    notices: list[str] = field(default_factory=list)
    # Where the date was read: sidecar, front matter, page (HTML metadata), or the release's own
    # publié, prefix, dateline, url, event (qa.reading.releases); None without a date.
    date_source: str | None = None


@dataclass(frozen=True, slots=True)
class Skipped:
    source: str
    reason: str
    sha256: str = ""  # of the file as it was when skipped: a fixed file is read again


def _sidecar_metadata(file: CorpusFile) -> tuple[dict[str, str], bytes]:
    if file.sidecar is None:
        return {}, b""
    raw = sidecar_bytes(file)
    try:
        data = json.loads(raw.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError) as error:
        raise UnreadableFile(f"métadonnées illisibles dans {readable_name(file.sidecar.name)} "
                             f"(invalid JSON: {error})") from None
    if not isinstance(data, dict):
        raise UnreadableFile(f"{readable_name(file.sidecar.name)} doit contenir un objet JSON "
                             f"(must hold a JSON object)")
    return {key: str(data[key]) for key in METADATA_KEYS if data.get(key)}, raw


def _limits(limits: Limits | int) -> Limits:
    return Limits.default(file_bytes=limits) if isinstance(limits, int) else limits


def read_document(file: CorpusFile, limits: Limits | int) -> Document:
    """One file as a Document, within the limits (an int: bytes per file, other limits default);
    raises UnreadableFile, LimitExceeded or OSError with a reason a user can read."""
    limits = _limits(limits)
    if file.ignored:
        raise UnreadableFile(file.ignored)
    data = read_bounded(file.target or file.path, limits.file_bytes)  # follows a link inside the corpus
    if not data:
        raise UnreadableFile("fichier vide (empty file)")
    extracted = extract(file.path.suffix, data, limits)
    sidecar, sidecar_bytes = _sidecar_metadata(file)
    given = {**extracted.given, **sidecar}
    url = given.get("url") or extracted.metadata.get("url")
    if extracted.structured:
        # The reader already isolated the release; only its dateline is looked for.
        release = read_release(extracted.text, headline=given.get("title") or extracted.metadata.get("title"),
                               url=url)
    else:
        release = read_release(extracted.text, url=url)
    text = release.text
    if not text.strip():
        raise UnreadableFile("aucun texte (no text)")
    metadata = {"title": release.title, "date": release.date, "place": release.place}
    date_source = release.date_source
    for key, value in extracted.metadata.items():
        if key == "title" and metadata.get("title"):
            continue  # the headline found in the text beats a <title> with the site's name in it
        if key == "date" and not metadata.get("date"):
            date_source = "page"
        metadata[key] = metadata.get(key) or normalise(value)
    metadata.update({key: normalise(value) for key, value in given.items()})
    if "date" in given:
        date_source = "sidecar" if "date" in sidecar else "front matter"
    date = _iso_date(metadata.get("date"))
    digest = hashlib.sha256(data + sidecar_bytes).hexdigest()
    return Document(id=file.source, source=file.source, text=text, title=metadata.get("title"),
                    date=date, place=metadata.get("place"), sha256=digest,
                    url=metadata.get("url"), notices=list(extracted.notices),
                    date_source=date_source if date else None)


def _iso_date(value: str | None) -> str | None:
    """YYYY-MM-DD from a metadata date (ISO, or a French date with its year); None when unclear."""
    if not value:
        return None
    import datetime as dt

    from .releases import parse_date
    try:
        return dt.date.fromisoformat(value[:10]).isoformat()
    except ValueError:
        return parse_date(value, value)


def describe(error: Exception) -> str:
    """A reason for the report, from an error raised while reading a file."""
    if isinstance(error, FileNotFoundError):
        return "fichier disparu pendant l'indexation (file removed while indexing)"
    if isinstance(error, OSError):
        detail = error.strerror or str(error)
        return f"fichier illisible : {detail} (unreadable file)"
    return str(error)


def read_corpus(corpus: Path, limits: Limits | int, known: dict[str, Document] | None = None,
                recorded: dict[str, tuple[list, str]] | None = None, stats: dict[str, list] | None = None,
                ) -> tuple[list[Document], list[Skipped]]:
    """Every readable document of the corpus and every skipped file with its reason; a document of
    `known` whose file has not changed since is taken as is, not read again. `limits`: the bounds
    on every parse (an int: bytes per file, other limits default). `recorded`, `stats`: see
    trusted_digest (a file whose stat is unchanged is not hashed again)."""
    limits = _limits(limits)
    documents, skipped = [], []
    known = known or {}
    for file in list_corpus(corpus):
        digest = trusted_digest(file, limits.file_bytes, recorded, stats)
        previous = known.get(file.source)
        if previous is not None and previous.sha256 == digest:
            documents.append(previous)
            continue
        try:
            documents.append(read_document(file, limits))
        except (UnreadableFile, LimitExceeded, OSError) as error:
            skipped.append(Skipped(file.source, _printable(describe(error)), digest))
        except Exception as error:  # a parser's own bug must not stop the corpus
            skipped.append(Skipped(file.source, _printable(f"erreur de lecture inattendue "
                                                           f"({type(error).__name__}: {error})"), digest))
    return documents, skipped


def _printable(text: str) -> str:
    """A reason that JSON and a terminal can hold, whatever bytes a parser put in its message."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")
