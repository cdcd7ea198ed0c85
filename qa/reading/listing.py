"""The files of a corpus folder, and what says whether one changed since the last build.

Listing decides what may be read, from metadata alone: only regular files whose real path stays
inside the corpus (a link to a file inside is fine); named pipes, sockets, devices and links
leading out are listed with the reason they are not read, before a byte is. Each file is looked at
once (one lstat, taken from the folder's own listing), and that stat is what the next build
compares to trust the file's recorded digest without hashing it again (git's index does the
same). Reading a file is bounded, and checked again on the open descriptor (read_bounded).
"""
from __future__ import annotations

import hashlib
import os
import re
import stat
import time
from dataclasses import dataclass
from pathlib import Path

from ..errors import CorpusMissingError
from .formats import FORMATS, UnreadableFile
from .limits import SIDECAR_BYTES, LimitExceeded, check_size


@dataclass(frozen=True, slots=True)
class CorpusFile:
    source: str  # path relative to the corpus, readable (see readable_name)
    location: str | Path  # where it is (a string when listed: a Path for each of 100,000 files is most of a listing)
    ignored: str | None = None  # why the file is not read at all (hidden, editor backup, FIFO, outside link…)
    sidecar: Path | None = None  # its metadata file
    target: Path | None = None  # for a link, the real file inside the corpus it leads to
    root: Path | None = None  # the corpus folder's real path (a sidecar must not lead out of it either)
    seen: os.stat_result | None = None  # the stat of the file read (a link's target), as listed

    @property
    def path(self) -> Path:
        return Path(self.location)


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


def entry_reason(path: str | Path, root: Path, info: os.stat_result | None = None
                 ) -> tuple[str | None, Path | None, os.stat_result | None]:
    """Why a corpus entry is not read, decided from its metadata alone (no byte read, nothing
    opened); for a link, the real file it leads to; and the stat of the file that would be read.
    `root`: the corpus's real path; `info`: the entry's lstat when the listing already has it."""
    try:
        info = info or os.lstat(str(path))
    except FileNotFoundError:
        return None, None, None  # gone since it was listed: reading it will say so
    if not stat.S_ISLNK(info.st_mode):
        return kind_reason(info.st_mode), None, info
    try:
        target = Path(os.path.realpath(path, strict=True))
        info = os.stat(target)
    except (OSError, RuntimeError):
        return BROKEN_LINK, None, None
    if not target.is_relative_to(root):
        return OUTSIDE, None, None
    return kind_reason(info.st_mode), target, info


# Characters that would make a name unreadable or misleading where it is shown: controls (a line
# break would forge a report line) and bidirectional overrides (« txt.exe » shown as « exe.txt »).
_HIDDEN_CHARACTERS = re.compile("[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def readable_name(name: str) -> str:
    """A file name as text anyone can read and JSON can hold: bytes that are not UTF-8 (which
    os.scandir gives as surrogate escapes) written as \\xNN, invisible controls as \\xNN or \\uNNNN."""
    if name.isascii() and name.isprintable():
        return name  # most names: nothing to escape
    text = os.fsencode(name).decode("utf-8", "backslashreplace")
    return _HIDDEN_CHARACTERS.sub(lambda m: f"\\x{ord(m.group()):02x}" if ord(m.group()) < 0x80
                                  else f"\\u{ord(m.group()):04x}", text)


def _with_suffix(name: str, suffix: str) -> str:
    """Path(name).with_suffix(suffix).name, as a string: the last suffix replaced (a name that
    starts with its only dot, or ends with a dot, has none)."""
    dot = name.rfind(".")
    return (name[:dot] if 0 < dot < len(name) - 1 else name) + suffix


def _is_sidecar(name: str, names: set[str]) -> bool:
    """A .json file beside a document of the same name holds that document's metadata."""
    return name.lower().endswith(".json") and not name.startswith(".") and any(
        name[:-5] + ext in names for ext in FORMATS)


def list_corpus(corpus: Path) -> list[CorpusFile]:
    """Files of the corpus, sorted, each folder's files before its subfolders'; links to folders
    are not followed; sidecar .json files are attached to the document they describe rather than
    listed. A missing or unlistable corpus folder is an error, never an empty corpus (which would
    empty the index); a subfolder that cannot be listed is reported."""
    if not corpus.is_dir():
        raise CorpusMissingError(corpus)
    root = corpus.resolve()
    found: list[CorpusFile] = []
    unlisted: list[Path] = []

    def visit(folder: str, prefix: str) -> None:
        try:
            with os.scandir(folder) as listing:
                entries = sorted(listing, key=lambda entry: entry.name)
        except OSError:
            if prefix == "":
                raise  # nothing is known of the corpus: nothing may be removed from the index
            unlisted.append(Path(folder))
            return
        folders = []
        files = []
        for entry in entries:
            try:
                is_folder = entry.is_dir()  # a link to a folder counts as one, and is not followed
            except OSError:
                is_folder = False
            if is_folder:
                if not entry.name.startswith(".") and not entry.is_symlink():
                    folders.append(entry)
            else:
                files.append(entry)
        names = {entry.name for entry in files}
        for entry in files:
            name = entry.name
            if _is_sidecar(name, names):
                continue
            location = folder + os.sep + name
            sidecar_name = _with_suffix(name, ".json")
            sidecar = Path(folder + os.sep + sidecar_name) if sidecar_name in names else None
            ignored, target, seen = ignored_reason(name), None, None
            if ignored is None:
                try:
                    listed = entry.stat(follow_symlinks=False)
                except FileNotFoundError:
                    listed = None  # gone since it was listed: reading it will say so
                if listed is not None:
                    ignored, target, seen = entry_reason(location, root, listed)
            found.append(CorpusFile(readable_name(prefix + name), location, ignored, sidecar, target, root, seen))
        for entry in folders:
            visit(folder + os.sep + entry.name, prefix + entry.name + "/")

    visit(os.fspath(corpus), "")
    for folder in unlisted:
        found.append(CorpusFile(readable_name(folder.relative_to(corpus).as_posix()) + "/", folder,
                                "dossier illisible : ses fichiers ne sont pas lus (unreadable folder)", root=root))
    return found


def read_bounded(path: Path, max_bytes: int, root: Path | None = None) -> bytes:
    """The bytes of a regular file, never more than max_bytes. The file is opened without blocking
    and checked on the open descriptor, so a FIFO or device swapped in since it was listed is
    refused before any read; `root`: the real corpus folder a link must not lead out of."""
    if root is not None:
        reason, target, _ = entry_reason(path, root)
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


def sidecar_bytes(file: CorpusFile) -> bytes:
    """The metadata file's bytes, read as carefully as a release (it may be a FIFO or a link out)."""
    try:
        return read_bounded(file.sidecar, SIDECAR_BYTES, root=file.root or file.path.parent.resolve())
    except (UnreadableFile, LimitExceeded) as error:
        raise UnreadableFile(f"métadonnées {readable_name(file.sidecar.name)} : {error}") from None


def file_digest(file: CorpusFile, max_bytes: int) -> str:
    """What decides whether a file changed: the hash of its bytes and of its sidecar metadata.
    Files not read (ignored, too large, unreadable) get a digest of their state instead."""
    if file.ignored:
        # Nothing is read; the reason is part of the state, so a FIFO replaced by a socket is seen.
        return "ignored:" + hashlib.sha256(file.ignored.encode("utf-8")).hexdigest()[:16]
    try:
        path = file.target or file.location
        info = os.stat(path)
        if info.st_size > max_bytes:
            return f"too-large:{info.st_size}:{info.st_mtime_ns}"
        digest = hashlib.sha256(read_bounded(path, max_bytes))
        if file.sidecar is not None:
            digest.update(sidecar_bytes(file))
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
    for a file not to be trusted so (ignored, unreadable, or modified within SETTLED_NS). The
    file's own stat is the listing's, when it has one."""
    if file.ignored:
        return None
    found = []
    now = time.time_ns()
    try:
        for path, info in ((file.target or file.location, file.seen), (file.sidecar, None)):
            if path is None:
                continue
            info = info or os.stat(path)
            if now - max(info.st_mtime_ns, info.st_ctime_ns) < SETTLED_NS:
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
