"""Reading the files of a corpus into Documents; a file that cannot be read is reported, never fatal.

The corpus is what is inside the corpus folder: only regular files whose real path stays inside it
are read (a link to a file inside is fine). Named pipes, sockets, devices and links leading out are
skipped before a byte is read, each with its reason, and every read is bounded (qa/reading/limits.py).
A file name that is not UTF-8 is indexed under a readable, escaped name (`caf\\xe9.txt`).

Metadata a person gives wins over what is extracted: a sidecar `release.json` beside
`release.pdf` (or front matter in a `.md`) may set title, date, place and url.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import stat
import time
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import CorpusMissingError
from .formats import FORMATS, METADATA_KEYS, UnreadableFile, extract
from .limits import SIDECAR_BYTES, LimitExceeded, Limits, check_size
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
    source: str  # path relative to the corpus, readable (see readable_name)
    path: Path
    ignored: str | None = None  # why the file is not read at all (hidden, editor backup, FIFO, outside link…)
    sidecar: Path | None = None  # its metadata file
    target: Path | None = None  # for a link, the real file inside the corpus it leads to
    root: Path | None = None  # the corpus folder's real path (a sidecar must not lead out of it either)


def ignored_reason(name: str) -> str | None:
    if name.startswith("."):
        return "fichier caché (hidden file)"
    if name.endswith("~") or name.endswith((".swp", ".swo", ".swx", ".bak", ".tmp")) or name.startswith("#"):
        return "copie de sauvegarde ou fichier temporaire d'éditeur (editor backup or temporary file)"
    return None


OUTSIDE = "lien qui sort du dossier du corpus : non lu (link leading outside the corpus: not read)"
BROKEN_LINK = "lien illisible : cible absente ou boucle de liens (unreadable link: missing target or loop)"


def kind_reason(mode: int) -> str | None:
    """Why a file of this kind is never read (None for a regular file): reading a FIFO waits forever,
    a device never ends."""
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISFIFO(mode):
        return "tube nommé (FIFO), pas un fichier ordinaire : non lu (named pipe, not a regular file: not read)"
    if stat.S_ISSOCK(mode):
        return "socket, pas un fichier ordinaire : non lu (socket, not a regular file: not read)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "périphérique, pas un fichier ordinaire : non lu (device, not a regular file: not read)"
    if stat.S_ISDIR(mode):
        return "dossier, pas un fichier : non lu (folder, not a file: not read)"
    return "pas un fichier ordinaire : non lu (not a regular file: not read)"


def entry_reason(path: Path, root: Path) -> tuple[str | None, Path | None]:
    """Why a corpus entry is not read, decided from its metadata alone (no byte read, nothing
    opened), and for a link the real file it leads to. `root` is the corpus's real path."""
    try:
        info = os.lstat(str(path))
    except FileNotFoundError:
        return None, None  # gone since it was listed: reading it will say so
    if not stat.S_ISLNK(info.st_mode):
        return kind_reason(info.st_mode), None
    try:
        target = Path(os.path.realpath(path, strict=True))
        info = os.stat(target)
    except (OSError, RuntimeError):
        return BROKEN_LINK, None
    if not target.is_relative_to(root):
        return OUTSIDE, None
    return kind_reason(info.st_mode), target


# Characters that would make a name unreadable or misleading where it is shown: controls (a line
# break would forge a report line) and bidirectional overrides (« txt.exe » shown as « exe.txt »).
_HIDDEN_CHARACTERS = re.compile("[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def readable_name(name: str) -> str:
    """A file name as text anyone can read and JSON can hold: bytes that are not UTF-8 (which
    os.walk gives as surrogate escapes) written as \\xNN, invisible controls as \\xNN or \\uNNNN."""
    text = os.fsencode(name).decode("utf-8", "backslashreplace")
    return _HIDDEN_CHARACTERS.sub(lambda m: f"\\x{ord(m.group()):02x}" if ord(m.group()) < 0x80
                                  else f"\\u{ord(m.group()):04x}", text)


def _with_suffix(name: str, suffix: str) -> str:
    """Path(name).with_suffix(suffix).name, as a string: the last suffix replaced (a name that
    starts with its only dot, or ends with a dot, has none)."""
    dot = name.rfind(".")
    return (name[:dot] if 0 < dot < len(name) - 1 else name) + suffix


def list_corpus(corpus: Path) -> list[CorpusFile]:
    """Files of the corpus, sorted; links to folders are not followed; sidecar .json files are
    attached to the document they describe rather than listed. A missing or unlistable corpus
    folder is an error, never an empty corpus (which would empty the index); a subfolder that
    cannot be listed is reported."""
    if not corpus.is_dir():
        raise CorpusMissingError(corpus)
    root = corpus.resolve()
    found, unlisted = [], []

    def unlistable(error: OSError) -> None:
        if Path(error.filename or "") == corpus:
            raise error  # nothing is known of the corpus: nothing may be removed from the index
        unlisted.append(Path(error.filename))

    top = str(corpus)
    for folder, dirs, files in os.walk(top, followlinks=False, onerror=unlistable):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        names = set(files)
        base = Path(folder)
        # Names are joined as strings (a corpus may hold a hundred thousand files).
        prefix = folder[len(top):].strip(os.sep).replace(os.sep, "/")
        prefix = prefix + "/" if prefix else ""
        for name in sorted(files):
            source = readable_name(prefix + name)
            if name.lower().endswith(".json") and any(
                    name[:-5] + ext in names for ext in FORMATS) and not name.startswith("."):
                continue  # metadata of a document
            path = base / name
            sidecar_name = _with_suffix(name, ".json")
            sidecar = base / sidecar_name if sidecar_name in names else None
            ignored, target = (ignored_reason(name), None)
            if ignored is None:
                ignored, target = entry_reason(path, root)
            found.append(CorpusFile(source, path, ignored, sidecar, target, root))
    for folder in unlisted:
        found.append(CorpusFile(readable_name(folder.relative_to(corpus).as_posix()) + "/", folder,
                                "dossier illisible : ses fichiers ne sont pas lus (unreadable folder)", root=root))
    return found


def read_bounded(path: Path, max_bytes: int, root: Path | None = None) -> bytes:
    """The bytes of a regular file, never more than max_bytes. The file is opened without blocking
    and checked on the open descriptor, so a FIFO or device swapped in since it was listed is
    refused before any read; `root`: the real corpus folder a link must not lead out of."""
    if root is not None:
        reason, target = entry_reason(path, root)
        if reason:
            raise UnreadableFile(reason)
        path = target or path
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    with os.fdopen(fd, "rb", buffering=0) as handle:
        info = os.fstat(fd)
        reason = kind_reason(info.st_mode)
        if reason:
            raise UnreadableFile(reason)
        check_size(info.st_size, max_bytes)
        chunks, size = [], 0
        while chunk := handle.read(min(1 << 20, max_bytes + 1 - size)):
            chunks.append(chunk)
            size += len(chunk)
            check_size(size, max_bytes)  # the file grew while being read
        return b"".join(chunks)


def _sidecar_metadata(file: CorpusFile) -> tuple[dict[str, str], bytes]:
    if file.sidecar is None:
        return {}, b""
    raw = _sidecar_bytes(file)
    try:
        data = json.loads(raw.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError) as error:
        raise UnreadableFile(f"métadonnées illisibles dans {readable_name(file.sidecar.name)} "
                             f"(invalid JSON: {error})") from None
    if not isinstance(data, dict):
        raise UnreadableFile(f"{readable_name(file.sidecar.name)} doit contenir un objet JSON "
                             f"(must hold a JSON object)")
    return {key: str(data[key]) for key in METADATA_KEYS if data.get(key)}, raw


def _sidecar_bytes(file: CorpusFile) -> bytes:
    """The metadata file's bytes, read as carefully as a release (it may be a FIFO or a link out)."""
    try:
        return read_bounded(file.sidecar, SIDECAR_BYTES, root=file.root or file.path.parent.resolve())
    except (UnreadableFile, LimitExceeded) as error:
        raise UnreadableFile(f"métadonnées {readable_name(file.sidecar.name)} : {error}") from None


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


def file_digest(file: CorpusFile, max_bytes: int) -> str:
    """What decides whether a file changed: the hash of its bytes and of its sidecar metadata.
    Files not read (ignored, too large, unreadable) get a digest of their state instead."""
    if file.ignored:
        # Nothing is read; the reason is part of the state, so a FIFO replaced by a socket is seen.
        return "ignored:" + hashlib.sha256(file.ignored.encode("utf-8")).hexdigest()[:16]
    try:
        path = file.target or file.path
        info = os.stat(path)
        if info.st_size > max_bytes:
            return f"too-large:{info.st_size}:{info.st_mtime_ns}"
        digest = hashlib.sha256(read_bounded(path, max_bytes))
        if file.sidecar is not None:
            digest.update(_sidecar_bytes(file))
        return digest.hexdigest()
    except OSError as error:
        return f"unreadable:{error.errno}"
    except (UnreadableFile, LimitExceeded) as error:
        return "unreadable:" + hashlib.sha256(str(error).encode("utf-8")).hexdigest()[:16]


# A file modified this recently may change again within the file system's clock tick without its
# times showing it: its bytes are hashed again at the next build (git's « racily clean » entries).
SETTLED_NS = 2_000_000_000


def file_stat(file: CorpusFile) -> list | None:
    """What the file system says of a file and its sidecar (size, modification and change times,
    inode): a file whose stat is as recorded at the last build has the digest recorded then. None
    for a file not to be trusted so (ignored, unreadable, or modified within SETTLED_NS)."""
    if file.ignored:
        return None
    found = []
    try:
        for path in (file.target or file.path, file.sidecar):
            if path is None:
                continue
            info = os.stat(path)
            if time.time_ns() - max(info.st_mtime_ns, info.st_ctime_ns) < SETTLED_NS:
                return None
            found += [info.st_size, info.st_mtime_ns, info.st_ctime_ns, info.st_ino]
    except OSError:
        return None
    return found


def trusted_digest(file: CorpusFile, max_bytes: int, recorded: dict[str, tuple[list, str]] | None,
                   stats: dict[str, list] | None = None) -> str:
    """The file's digest: the recorded one (source → (stat, digest)) when its stat is unchanged,
    else hashed. `stats`: filled with each file's stat, to record with the build."""
    seen = file_stat(file)
    if stats is not None and seen is not None:
        stats[file.source] = seen
    known = (recorded or {}).get(file.source)
    if seen is not None and known is not None and known[0] == seen:
        return known[1]
    return file_digest(file, max_bytes)


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
