"""Reading the files of a corpus into Documents; a file that cannot be read is reported, never fatal.

Metadata a person gives wins over what is extracted: a sidecar `release.json` beside
`release.pdf` (or front matter in a `.md`) may set title, date, place and url.
"""
from __future__ import annotations

import hashlib
import json
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

from .formats import FORMATS, METADATA_KEYS, UnreadableFile, extract
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


@dataclass(frozen=True, slots=True)
class CorpusFile:
    source: str
    path: Path
    ignored: str | None = None  # why the file is not read at all (hidden, editor backup…)
    sidecar: Path | None = None  # its metadata file


def ignored_reason(name: str) -> str | None:
    if name.startswith("."):
        return "fichier caché (hidden file)"
    if name.endswith("~") or name.endswith((".swp", ".swo", ".swx", ".bak", ".tmp")) or name.startswith("#"):
        return "copie de sauvegarde ou fichier temporaire d'éditeur (editor backup or temporary file)"
    return None


def list_corpus(corpus: Path) -> list[CorpusFile]:
    """Files of the corpus, sorted; links to folders are not followed; sidecar .json files are
    attached to the document they describe rather than listed."""
    if not corpus.is_dir():
        return []
    found = []
    for root, dirs, files in os.walk(corpus, followlinks=False):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        names = set(files)
        for name in sorted(files):
            path = Path(root) / name
            source = path.relative_to(corpus).as_posix()
            if name.lower().endswith(".json") and any(
                    name[:-5] + ext in names for ext in FORMATS) and not name.startswith("."):
                continue  # metadata of a document
            sidecar = path.with_suffix(".json") if path.with_suffix(".json").name in names else None
            found.append(CorpusFile(source, path, ignored_reason(name), sidecar))
    return found


def _sidecar_metadata(file: CorpusFile) -> tuple[dict[str, str], bytes]:
    if file.sidecar is None:
        return {}, b""
    raw = file.sidecar.read_bytes()
    try:
        data = json.loads(raw.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError) as error:
        raise UnreadableFile(f"métadonnées illisibles dans {file.sidecar.name} (invalid JSON: {error})") from None
    if not isinstance(data, dict):
        raise UnreadableFile(f"{file.sidecar.name} doit contenir un objet JSON (must hold a JSON object)")
    return {key: str(data[key]) for key in METADATA_KEYS if data.get(key)}, raw


def read_document(file: CorpusFile, max_bytes: int) -> Document:
    """One file as a Document; raises UnreadableFile or OSError with a reason a user can read."""
    if file.ignored:
        raise UnreadableFile(file.ignored)
    info = os.stat(file.path)  # follows a link: a loop or a dangling link raises OSError here
    if not stat.S_ISREG(info.st_mode):
        raise UnreadableFile("pas un fichier ordinaire (not a regular file)")
    if info.st_size > max_bytes:
        raise UnreadableFile(f"fichier trop gros : {info.st_size / 1e6:.1f} Mo > limite de {max_bytes / 1e6:g} Mo "
                             f"(file too large; the limit is QA_MAX_FILE_MB)")
    if info.st_size == 0:
        raise UnreadableFile("fichier vide (empty file)")
    with open(file.path, "rb") as handle:
        data = handle.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise UnreadableFile("fichier trop gros (file too large)")
    extracted = extract(file.path.suffix, data)
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


def file_digest(file: CorpusFile, max_bytes: int) -> str:
    """What decides whether a file changed: the hash of its bytes and of its sidecar metadata.
    Files not read (ignored, too large, unreadable) get a digest of their state instead."""
    if file.ignored:
        return "ignored"
    try:
        info = os.stat(file.path)
        if info.st_size > max_bytes:
            return f"too-large:{info.st_size}:{info.st_mtime_ns}"
        digest = hashlib.sha256(file.path.read_bytes())
        if file.sidecar is not None:
            digest.update(file.sidecar.read_bytes())
        return digest.hexdigest()
    except OSError as error:
        return f"unreadable:{error.errno}"


def read_corpus(corpus: Path, max_bytes: int, known: dict[str, Document] | None = None,
                ) -> tuple[list[Document], list[Skipped]]:
    """Every readable document of the corpus and every skipped file with its reason; a document of
    `known` whose file has not changed since is taken as is, not read again."""
    documents, skipped = [], []
    known = known or {}
    for file in list_corpus(corpus):
        digest = file_digest(file, max_bytes)
        previous = known.get(file.source)
        if previous is not None and previous.sha256 == digest:
            documents.append(previous)
            continue
        try:
            documents.append(read_document(file, max_bytes))
        except (UnreadableFile, OSError) as error:
            skipped.append(Skipped(file.source, describe(error), digest))
        except Exception as error:  # a parser's own bug must not stop the corpus
            skipped.append(Skipped(file.source, f"erreur de lecture inattendue ({type(error).__name__}: {error})",
                                   digest))
    return documents, skipped
