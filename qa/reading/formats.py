"""From the bytes of a file to text: one reader per format, each failing with a reason a user can read.

    .txt .md      decoded: UTF-8 (with or without BOM), UTF-16, Windows-1252 (French text from
                  Windows), else the encoding charset-normalizer detects; .md front matter is metadata
    .html .htm    main text and metadata extracted by trafilatura (navigation, menus, footers left out)
    .pdf          text of every page (pypdf), lines re-joined into paragraphs
    .docx         paragraphs (python-docx), once the package passed the zip-bomb checks

Every reader stays within the limits it is given (qa/reading/limits.py): pages, characters, and for
.docx the uncompressed size and compression ratio; past one it raises LimitExceeded.
"""
from __future__ import annotations

import io
import re
from dataclasses import dataclass, field

from .limits import LimitExceeded, Limits

FORMATS = (".txt", ".md", ".html", ".htm", ".pdf", ".docx")
METADATA_KEYS = ("title", "date", "place", "url")


class UnreadableFile(ValueError):
    """A file that cannot be indexed; the message says why, in French and English."""


@dataclass(slots=True)
class Extracted:
    text: str
    metadata: dict[str, str] = field(default_factory=dict)  # title, date, url found in the file (HTML, PDF)
    given: dict[str, str] = field(default_factory=dict)  # metadata a person wrote (Markdown front matter)
    notices: list[str] = field(default_factory=list)  # indexed, but a user should know (bytes replaced…)
    structured: bool = False  # True when the reader already removed the page around the text (HTML)


# Control characters other than tab, newline and carriage return: a few are noise, many mean binary data.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def decode(data: bytes) -> tuple[str, list[str]]:
    """Text of a plain-text file, and notices. UTF-8 first; a UTF-8 file with a few invalid bytes
    keeps its text with U+FFFD in their place (reported); otherwise the detected legacy encoding."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return _checked(data.decode("utf-16")), []
    try:
        return _checked(data.decode("utf-8-sig")), []
    except UnicodeDecodeError:
        pass
    replaced = data.decode("utf-8", errors="replace")
    bad = replaced.count("\ufffd")
    multibyte = sum(1 for ch in replaced if ord(ch) > 0x7f and ch != "\ufffd")
    if multibyte >= bad:  # mostly UTF-8 with a few broken bytes
        return _checked(replaced), [f"{bad} octet(s) UTF-8 invalide(s) remplacé(s) par � ({bad} invalid UTF-8 bytes replaced)"]
    try:
        # Windows-1252 first: French text from Windows, and too short for detection to be sure.
        text = data.decode("cp1252")
        if not re.search(r"[\x80-\x9f]", text):
            return _checked(text), []
    except UnicodeDecodeError:
        pass
    import charset_normalizer
    best = charset_normalizer.from_bytes(data).best()
    if best is None:
        raise UnreadableFile("données binaires ou encodage inconnu (binary data or unknown encoding)")
    return _checked(str(best)), []


def _checked(text: str) -> str:
    if "\x00" in text or len(_CONTROL.findall(text[:20000])) > max(8, len(text[:20000]) // 200):
        raise UnreadableFile("données binaires, pas du texte (binary data, not text)")
    return text


_FRONT_MATTER = re.compile(r"\A---[ \t]*\n(?P<body>.*?)\n---[ \t]*(?:\n|\Z)", re.DOTALL)


def front_matter(text: str) -> tuple[dict[str, str], str]:
    """`key: value` lines between --- fences at the top of a Markdown file, and the text after them."""
    match = _FRONT_MATTER.match(text)
    if not match:
        return {}, text
    metadata = {}
    for line in match.group("body").splitlines():
        key, sep, value = line.partition(":")
        if sep and key.strip().lower() in METADATA_KEYS:
            metadata[key.strip().lower()] = value.strip().strip("\"'")
    return metadata, text[match.end():]


_MARKDOWN_MARKUP = [
    (re.compile(r"^\s{0,3}#{1,6}\s+", re.MULTILINE), ""),       # headings
    (re.compile(r"!\[([^\]]*)\]\([^)]*\)"), r"\1"),             # images: their alt text
    (re.compile(r"\[([^\]]+)\]\([^)]*\)"), r"\1"),              # links: their text
    (re.compile(r"(\*\*|__)(.+?)\1"), r"\2"),                   # bold
    (re.compile(r"^\s{0,3}>\s?", re.MULTILINE), ""),            # quotes
]


def read_markdown(data: bytes, limits: Limits) -> Extracted:
    limits.check_text_bytes(len(data))
    text, notices = decode(data)
    limits.budget().take(text)
    metadata, text = front_matter(text)
    for pattern, replacement in _MARKDOWN_MARKUP:
        text = pattern.sub(replacement, text)
    return Extracted(text, notices=notices, given=metadata)


def read_text(data: bytes, limits: Limits) -> Extracted:
    limits.check_text_bytes(len(data))
    text, notices = decode(data)
    return Extracted(limits.budget().take(text), notices=notices)


def read_html(data: bytes, limits: Limits) -> Extracted:
    import trafilatura
    document = trafilatura.bare_extraction(data, include_comments=False, include_tables=True,
                                           favor_recall=True, with_metadata=True)
    text = (document.text if document is not None else "") or ""
    if not text.strip():
        raise UnreadableFile("aucun texte principal trouvé dans la page (no main text in the HTML page)")
    limits.budget().take(text)
    metadata = {}
    for key in ("title", "date", "url"):
        value = getattr(document, key, None)
        if value:
            metadata[key] = str(value)
    return Extracted(text, metadata, structured=True)


_HYPHENATED = re.compile(r"(\w)-\n(\w)")
_WRAPPED = re.compile(r"(?<![.!?:;»\"”])\n(?=[a-zà-ÿ0-9«(])")


def join_pdf_lines(text: str) -> str:
    """PDF text comes in layout lines: re-join words cut by a hyphen and lines that continue a sentence."""
    text = _HYPHENATED.sub(r"\1\2", text)
    return _WRAPPED.sub(" ", text)


def read_pdf(data: bytes, limits: Limits) -> Extracted:
    from pypdf import PdfReader
    from pypdf.errors import DependencyError, FileNotDecryptedError, LimitReachedError, PdfReadError
    budget = limits.budget()
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            try:
                if not reader.decrypt(""):
                    raise UnreadableFile("PDF protégé par un mot de passe (password-protected PDF)")
            except (FileNotDecryptedError, NotImplementedError, DependencyError):
                raise UnreadableFile("PDF protégé par un mot de passe (password-protected PDF)") from None
        limits.check_pages(len(reader.pages))
        pages = [budget.take(page.extract_text() or "") for page in reader.pages]
        info = reader.metadata or {}
    except (UnreadableFile, LimitExceeded):
        raise
    except LimitReachedError as error:  # pypdf's own bounds (decompressed streams, object counts…)
        raise LimitExceeded(f"PDF hors des limites de lecture de pypdf (PDF over pypdf's limits: {error})") from None
    except (FileNotDecryptedError, DependencyError):
        raise UnreadableFile("PDF protégé par un mot de passe (password-protected PDF)") from None
    except (PdfReadError, ValueError, KeyError, TypeError, AttributeError, IndexError, OSError) as error:
        raise UnreadableFile(f"PDF illisible ou endommagé (corrupt PDF: {error})") from None
    text = "\n\n".join(join_pdf_lines(page.strip()) for page in pages if page.strip())
    if not text.strip():
        raise UnreadableFile("PDF sans texte extractible, peut-être scanné (PDF without extractable text)")
    metadata = {"title": str(info.title)} if getattr(info, "title", None) else {}
    return Extracted(text, metadata)


# The text runs of a Word document, and the part that holds them.
_WORD_TEXT = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}t"
_WORD_BODY = "word/document.xml"


def read_docx(data: bytes, limits: Limits) -> Extracted:
    import zipfile

    import docx
    from lxml import etree
    try:
        limits.check_zip(data, text_part=_WORD_BODY, text_tag=_WORD_TEXT)
        document = docx.Document(io.BytesIO(data))
    except (zipfile.BadZipFile, etree.XMLSyntaxError, KeyError, ValueError, EOFError) as error:
        raise UnreadableFile(f"document Word illisible ou endommagé (corrupt .docx: {error})") from None
    budget = limits.budget()
    paragraphs = [budget.take(p.text) for p in document.paragraphs]
    for table in document.tables:
        for row in table.rows:
            paragraphs.append(budget.take(" | ".join(cell.text.strip() for cell in row.cells)))
    title = document.core_properties.title
    return Extracted("\n".join(paragraphs), {"title": title} if title else {})


READERS = {".txt": read_text, ".md": read_markdown, ".html": read_html, ".htm": read_html,
           ".pdf": read_pdf, ".docx": read_docx}


def extract(suffix: str, data: bytes, limits: Limits | None = None) -> Extracted:
    """The text of a file's bytes, by its extension, within the limits (the defaults when None)."""
    reader = READERS.get(suffix.lower())
    if reader is None:
        raise UnreadableFile(f"format non pris en charge « {suffix or 'sans extension'} » "
                             f"(unsupported format; readable: {', '.join(FORMATS)})")
    return reader(data, limits or Limits.default())
