"""Adding a file to the corpus from outside (the chat's upload panel, /upload): safe names, no
overwrite, nothing stored that the index would refuse.

A name is reduced to a plain file name inside the corpus (`../../etc/passwd.txt` becomes
`passwd.txt`, an absolute path its last part), at most 255 bytes in UTF-8 with its suffix (a file
system counts bytes, not characters); a different file under a name already taken is not stored
until the editor chooses (`existing`): replace the file of that name (a corrected release), or keep
both (the new one under the next free name, `release-2.pdf`); never a silent « -2 ». The same file
again is recognised and not stored twice. The file is read as the index will read it before it gets a name in the corpus: a
file refused leaves nothing behind.
"""
from __future__ import annotations

import hashlib
import os
import re
import secrets
import shutil
import stat
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from .formats import FORMATS, UnreadableFile
from .limits import Limits, check_size

MAX_NAME = 120  # characters, for names people read
# Bytes a file system allows in a name (255 on ext4, XFS, Btrfs, APFS), with room for « -999 ».
MAX_NAME_BYTES = 255 - len("-999")
STAGING = ".uploads"
# What to do with a file whose name is taken by another file: the editor's choice.
REPLACE, KEEP_BOTH = "replace", "keep"
CHOICES = (REPLACE, KEEP_BOTH)
NAME_TAKEN = "nom déjà pris"


@dataclass(frozen=True, slots=True)
class Added:
    source: str  # name in the corpus
    original: str  # name as uploaded
    # "ajouté", "remplacé", "renommé" (both kept), "déjà présent", or NAME_TAKEN (nothing stored: the
    # editor has to choose REPLACE or KEEP_BOTH)
    status: str


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
    stem = stem[:MAX_NAME - len(suffix)]
    room = MAX_NAME_BYTES - len(suffix.encode("utf-8"))
    stem = stem.encode("utf-8")[:room].decode("utf-8", "ignore").rstrip(" .")  # never half a character
    return stem + suffix


def _digest(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def add_to_corpus(corpus: Path, uploaded: Path, original_name: str, limits: Limits | int,
                  validate: Callable[[Path, str], None] | None = None, existing: str | None = None) -> Added:
    """Copy an uploaded file into the corpus under a safe name. `validate(path, name)` reads the copy
    (hidden from builds) as the index would and raises to refuse it; nothing is left then.
    `existing`: when another file has that name, REPLACE it or KEEP_BOTH; None stores nothing and
    says so (status NAME_TAKEN), so that the editor chooses."""
    if existing is not None and existing not in CHOICES:
        raise ValueError(f"existing must be one of {CHOICES} or None, not {existing!r}")
    max_bytes = limits if isinstance(limits, int) else limits.file_bytes
    name = safe_name(original_name)
    info = os.stat(uploaded)
    if not stat.S_ISREG(info.st_mode):
        raise UnreadableFile("pas un fichier ordinaire (not a regular file)")
    check_size(info.st_size, max_bytes)
    if info.st_size == 0:
        raise UnreadableFile("fichier vide (empty file)")
    digest = _digest(uploaded)
    stem, suffix = name[:-len(Path(name).suffix)], Path(name).suffix
    # Staged in a hidden folder of the corpus (builds never look there), on the same file system
    # so that the final name is a hard link made in one step.
    staging_dir = corpus / STAGING
    staging_dir.mkdir(parents=True, exist_ok=True)
    staging = staging_dir / f"{digest[:16]}-{secrets.token_hex(4)}{suffix}"
    shutil.copyfile(uploaded, staging)
    try:
        if validate is not None:
            validate(staging, name)
        for number in range(1, 1000):
            candidate = name if number == 1 else f"{stem}-{number}{suffix}"
            target = corpus / candidate
            if target.exists() or target.is_symlink():
                if target.is_file() and not target.is_symlink() and _digest(target) == digest:
                    return Added(candidate, original_name, "déjà présent")
                if number == 1 and existing is None:
                    return Added(candidate, original_name, NAME_TAKEN)
                if number == 1 and existing == REPLACE and target.is_file() and not target.is_symlink():
                    os.replace(staging, target)  # in one step: a build sees the old file or the new one
                    return Added(candidate, original_name, "remplacé")
                continue
            try:
                os.link(staging, target)  # fails if the name was taken meanwhile: never overwrites
            except FileExistsError:
                continue
            return Added(candidate, original_name, "ajouté" if number == 1 else "renommé")
        raise UnreadableFile(f"trop de fichiers nommés « {name} » (too many files with this name)")
    finally:
        staging.unlink(missing_ok=True)
        try:
            staging_dir.rmdir()
        except OSError:
            pass  # another upload is being staged
