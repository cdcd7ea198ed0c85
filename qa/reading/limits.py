"""The bounds on every parse: what one file may cost at most, checked before it is read, while it is
unpacked and once its text is out. A file over a bound is skipped (an upload refused) with a reason
that names the limit; it never takes the machine's memory.

    bytes per file                  QA_MAX_FILE_MB       50 MB    the file's size, then a bounded read
    uncompressed size of a .docx    QA_MAX_UNZIPPED_MB   50 MB    the members' declared sizes, before parsing
    compression ratio of a .docx    QA_MAX_ZIP_RATIO     100      each member past its first MB, and overall
    pages per PDF                   QA_MAX_PDF_PAGES     500      before any page is extracted
    characters per release          QA_MAX_CHARS         500,000  while the text is extracted
    passages per release            QA_MAX_PASSAGES      1,000    once the release is cut (qa/indexing/build.py)

The numbers live in Settings (the environment sets them); the checks live here. As in Apache Tika
and Apache POI, a zip package is judged on its central directory before a parser opens it, then its
members are read through bounded streams, so a header that lies about sizes is caught too; as in
Lucene, the text one document may bring to the index is bounded.
"""
from __future__ import annotations

import io
from dataclasses import dataclass, replace

from ..settings import MB, Settings

# Metadata beside a release (release.json): a few fields, never megabytes.
SIDECAR_BYTES = 1 * MB
# Compression ratios are judged only past this many uncompressed bytes: a small member is harmless
# whatever its ratio (POI's grace size, Tika's threshold before the ratio counts).
ZIP_GRACE_BYTES = 1 * MB
ZIP_MAX_MEMBERS = 10_000
_CHUNK = 64 * 1024


class LimitExceeded(Exception):
    """A file over one of the bounds; the message names the limit and the variable that raises it."""


@dataclass(frozen=True, slots=True)
class Limits:
    file_bytes: int
    unzipped_bytes: int
    zip_ratio: float
    pdf_pages: int
    release_chars: int
    release_passages: int

    @classmethod
    def of(cls, settings: Settings) -> "Limits":
        return cls(settings.max_file_bytes, settings.max_unzipped_bytes, settings.max_zip_ratio,
                   settings.max_pdf_pages, settings.max_release_chars, settings.max_release_passages)

    @classmethod
    def default(cls, file_bytes: int | None = None) -> "Limits":
        """The defaults of Settings (with another bytes-per-file limit when given)."""
        limits = cls.of(Settings())
        return limits if file_bytes is None else replace(limits, file_bytes=file_bytes)

    # Text -----------------------------------------------------------------------------------

    def check_text_bytes(self, size: int) -> None:
        """Before decoding: no encoding read here takes more than 4 bytes a character."""
        if size > 4 * self.release_chars:
            raise LimitExceeded(self._too_much_text())

    def budget(self) -> "TextBudget":
        return TextBudget(self)

    def _too_much_text(self) -> str:
        return (f"texte trop long : plus de {_count(self.release_chars)} caractères "
                f"(too much text; the limit is QA_MAX_CHARS)")

    def check_pages(self, pages: int) -> None:
        if pages > self.pdf_pages:
            raise LimitExceeded(f"PDF trop long : {_count(pages)} pages > limite de {_count(self.pdf_pages)} "
                                f"(too many pages; the limit is QA_MAX_PDF_PAGES)")

    def too_many_passages(self, count: int) -> str | None:
        """The reason to skip a release cut into `count` passages, or None when within the limit."""
        if count <= self.release_passages:
            return None
        return (f"trop de passages : {_count(count)} > limite de {_count(self.release_passages)} "
                f"(too many passages; the limit is QA_MAX_PASSAGES)")

    # Zip packages (.docx) ---------------------------------------------------------------------

    def check_zip(self, data: bytes, text_part: str | None = None, text_tag: str | None = None) -> None:
        """Refuse a zip bomb before any parser opens the package: too many members, a total or a ratio
        over the limits, an unexpected compression method; then read every member through a bounded
        stream (a member inflating past what it declares is refused) and count the characters of
        `text_tag` elements in `text_part` without building its tree. zipfile.BadZipFile and
        lxml's XMLSyntaxError pass through for the format's reader to name."""
        import zipfile
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = [m for m in archive.infolist() if not m.is_dir()]
            if len(members) > ZIP_MAX_MEMBERS:
                raise LimitExceeded(f"archive de {_count(len(members))} fichiers > limite de "
                                    f"{_count(ZIP_MAX_MEMBERS)} (too many members in the package)")
            declared = sum(m.file_size for m in members)
            if declared > self.unzipped_bytes:
                raise LimitExceeded(f"document trop volumineux une fois décompressé : {_size(declared)} > limite "
                                    f"de {_size(self.unzipped_bytes)} (uncompressed size over QA_MAX_UNZIPPED_MB; "
                                    f"a zip bomb?)")
            if declared > ZIP_GRACE_BYTES and declared > self.zip_ratio * max(1, len(data)):
                raise LimitExceeded(self._ratio(declared / max(1, len(data)), "le document"))
            for member in members:
                if member.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
                    raise LimitExceeded("méthode de compression inattendue dans le document "
                                        "(unexpected compression method in the package)")
                if member.file_size > ZIP_GRACE_BYTES and \
                        member.file_size > self.zip_ratio * max(1, member.compress_size):
                    raise LimitExceeded(self._ratio(member.file_size / max(1, member.compress_size),
                                                    member.filename))
            left = declared
            for member in members:
                counter = _TextCounter(text_tag, self) if member.filename == text_part and text_tag else None
                left -= self._drain(archive, member, left, counter)

    def _ratio(self, ratio: float, what: str) -> str:
        return (f"taux de compression suspect : {what} se décompresse {ratio:.0f} fois > limite de "
                f"{self.zip_ratio:g} (compression ratio over QA_MAX_ZIP_RATIO; a zip bomb?)")

    @staticmethod
    def _drain(archive, member, left: int, counter: "_TextCounter | None") -> int:
        """Bytes of one member, read in chunks and never more than it declared or than the package
        has left to give."""
        read = 0
        with archive.open(member) as stream:
            while chunk := stream.read(_CHUNK):
                read += len(chunk)
                if read > member.file_size or read > left:
                    raise LimitExceeded("document dont les tailles déclarées sont fausses "
                                        "(package members larger than they declare)")
                if counter is not None:
                    counter.feed(chunk)
        if counter is not None:
            counter.close()
        return read


def check_size(size: int, max_bytes: int) -> None:
    """Bytes per file."""
    if size > max_bytes:
        raise LimitExceeded(f"fichier trop gros : {_size(size)} > limite de {_size(max_bytes)} "
                            f"(file too large; the limit is QA_MAX_FILE_MB)")


class TextBudget:
    """The characters extracted so far from one file: past the limit the file is refused, at once."""

    def __init__(self, limits: Limits):
        self.limits = limits
        self.used = 0

    def take(self, text: str) -> str:
        self.used += len(text)
        if self.used > self.limits.release_chars:
            raise LimitExceeded(self.limits._too_much_text())
        return text


class _TextCounter:
    """Characters inside the text elements of an XML stream, counted as it arrives; elements are
    dropped once read, so the tree never grows."""

    def __init__(self, tag: str, limits: Limits):
        from lxml import etree
        self.tag = tag
        self.budget = limits.budget()
        self.parser = etree.XMLPullParser(events=("end",), resolve_entities=False, no_network=True,
                                          huge_tree=False)

    def feed(self, chunk: bytes) -> None:
        self.parser.feed(chunk)
        self._read()

    def close(self) -> None:
        self.parser.close()
        self._read()

    def _read(self) -> None:
        for _, element in self.parser.read_events():
            if element.tag == self.tag:
                self.budget.take(element.text or "")
            element.clear()
            parent = element.getparent()
            if parent is not None:
                while element.getprevious() is not None:
                    del parent[0]


def _size(size: int) -> str:
    """A size as the limits are set (MB of 1,048,576 bytes), to one decimal, none when whole."""
    if size < 1024:
        return f"{size} octets"
    if size < MB:
        return f"{size / 1024:.1f}".removesuffix(".0").replace(".", ",") + " Ko"
    return f"{size / MB:.1f}".removesuffix(".0").replace(".", ",") + " Mo"  # French: 52,4 Mo


def _count(number: int) -> str:
    """1 903 as French writes it (a space between thousands)."""
    return f"{number:,}".replace(",", " ")
