"""Reading the files of a corpus into Documents; files that cannot be read are reported, not fatal."""
from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from .releases import read_release

READABLE = {".txt", ".md"}


@dataclass(frozen=True, slots=True)
class Document:
    """A release as indexed: `text` is its clean text, the reference for every offset."""
    id: str
    source: str  # path relative to the corpus, with / separators
    text: str
    title: str | None
    date: str | None
    place: str | None
    sha256: str


@dataclass(frozen=True, slots=True)
class Skipped:
    source: str
    reason: str


@dataclass(frozen=True, slots=True)
class CorpusFile:
    source: str
    path: Path


def _ignored(name: str) -> bool:
    return name.startswith(".") or name.endswith("~") or name.endswith((".swp", ".swo", ".tmp", ".bak"))


def list_corpus(corpus: Path) -> list[CorpusFile]:
    """Files of the corpus, sorted, hidden files and editor backups left out, links not followed."""
    if not corpus.is_dir():
        return []
    found = []
    for root, dirs, files in os.walk(corpus, followlinks=False):
        dirs[:] = sorted(d for d in dirs if not _ignored(d))
        for name in sorted(files):
            if not _ignored(name):
                path = Path(root) / name
                found.append(CorpusFile(path.relative_to(corpus).as_posix(), path))
    return found


def decode(data: bytes) -> str:
    """UTF-8 (with or without BOM), else Windows-1252, the usual encoding of French text from Windows."""
    if b"\x00" in data[:4096]:
        raise ValueError("données binaires (binary data)")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="strict")


def read_document(file: CorpusFile, max_bytes: int) -> Document:
    """One file as a Document; raises ValueError or OSError with a reason a user can read."""
    suffix = file.path.suffix.lower()
    if suffix not in READABLE:
        raise ValueError(f"format non pris en charge « {suffix or 'sans extension'} » (unsupported format)")
    size = file.path.stat().st_size
    if size > max_bytes:
        raise ValueError(f"fichier trop gros : {size / 1e6:.1f} Mo > {max_bytes / 1e6:.0f} Mo (file too large)")
    data = file.path.read_bytes()
    try:
        raw = decode(data)
    except UnicodeDecodeError:
        raise ValueError("encodage illisible (undecodable text)") from None
    release = read_release(raw)
    if not release.text.strip():
        raise ValueError("fichier vide (empty file)")
    return Document(id=file.source, source=file.source, text=release.text, title=release.title,
                    date=release.date, place=release.place, sha256=hashlib.sha256(data).hexdigest())


def read_corpus(corpus: Path, max_bytes: int) -> tuple[list[Document], list[Skipped]]:
    """Every readable document of the corpus, and every skipped file with its reason."""
    documents, skipped = [], []
    for file in list_corpus(corpus):
        try:
            documents.append(read_document(file, max_bytes))
        except (ValueError, OSError) as error:
            reason = error.strerror if isinstance(error, OSError) and error.strerror else str(error)
            skipped.append(Skipped(file.source, reason))
    return documents, skipped
