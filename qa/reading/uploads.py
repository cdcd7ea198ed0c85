"""Adding a file to the corpus from outside (the chat's upload panel): safe names, no overwrite.

A name is reduced to a plain file name inside the corpus (`../../etc/passwd.txt` becomes
`passwd.txt`, an absolute path its last part); a different file under a name already taken is
stored under the next free name (`release-2.pdf`), never written over; the same file again is
recognised and not stored twice.
"""
from __future__ import annotations

import hashlib
import os
import re
import shutil
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from .formats import FORMATS, UnreadableFile

MAX_NAME = 120


@dataclass(frozen=True, slots=True)
class Added:
    source: str  # name in the corpus
    original: str  # name as uploaded
    status: str  # "ajouté", "renommé" (name taken by another file) or "déjà présent"


def safe_name(name: str) -> str:
    """A plain, visible file name from whatever a browser sent; raises UnreadableFile if none is left."""
    base = re.split(r"[\\/]", unicodedata.normalize("NFC", name or ""))[-1]
    base = re.sub(r"[\x00-\x1f\x7f]", "", base)
    base = re.sub(r"[^\w.\- ()]", "_", base).strip(" .")
    base = base.lstrip(".-")
    stem, dot, suffix = base.rpartition(".")
    if not dot or not stem:
        raise UnreadableFile(f"nom de fichier sans extension « {name} » (file name without extension)")
    suffix = "." + suffix.lower()
    if suffix not in FORMATS:
        raise UnreadableFile(f"format non pris en charge « {suffix} » (unsupported format; "
                             f"accepted: {', '.join(FORMATS)})")
    return stem[:MAX_NAME - len(suffix)] + suffix


def _digest(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def add_to_corpus(corpus: Path, uploaded: Path, original_name: str, max_bytes: int) -> Added:
    """Copy an uploaded file into the corpus under a safe, free name."""
    name = safe_name(original_name)
    size = uploaded.stat().st_size
    if size > max_bytes:
        raise UnreadableFile(f"fichier trop gros : {size / 1e6:.1f} Mo > {max_bytes / 1e6:g} Mo (file too large)")
    if size == 0:
        raise UnreadableFile("fichier vide (empty file)")
    corpus.mkdir(parents=True, exist_ok=True)
    digest = _digest(uploaded)
    stem, suffix = name[:-len(Path(name).suffix)], Path(name).suffix
    staging = corpus / f".upload-{digest[:16]}{suffix}"
    shutil.copyfile(uploaded, staging)
    try:
        for number in range(1, 1000):
            candidate = name if number == 1 else f"{stem}-{number}{suffix}"
            target = corpus / candidate
            if target.exists() or target.is_symlink():
                if target.is_file() and not target.is_symlink() and _digest(target) == digest:
                    return Added(candidate, original_name, "déjà présent")
                continue
            try:
                os.link(staging, target)  # fails if the name was taken meanwhile: never overwrites
            except FileExistsError:
                continue
            return Added(candidate, original_name, "ajouté" if number == 1 else "renommé")
        raise UnreadableFile(f"trop de fichiers nommés « {name} » (too many files with this name)")
    finally:
        staging.unlink(missing_ok=True)
