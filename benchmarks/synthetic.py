"""Large corpora for the speed benchmarks: French text varied from real releases and fiches, and
vectors derived from real e5 vectors, cached under a temporary folder.

Embedding 100,000 passages with the bundled e5-small takes hours on two cores, so the large
indexes are built by the product's own build (qa.indexing.build.build_index: reading, repeated
text, stories, passages, sentences, BM25) with derived vectors instead of embedded ones: the text
comes from a word-bigram model trained on real French text (the bundled releases, and the
Service-Public fiches when ../shared is there), so its vocabulary and sentence lengths are those
of real text and no sentence is a copy; each passage or sentence vector is a normalised mix of two
real e5 passage vectors plus a little noise (seeded by its text), so the vectors have the spread
of real ones; the named entities of the bulk corpus are not read (spaCy reads about 1,000
sentences a second). Search, fusion and answer selection run on them exactly as on a real index.
Questions, and a release added by a benchmark, are embedded for real.

A corpus of more than BATCH passages grows by batches, as an archive does: each batch of releases
is written, then indexed by the same incremental build as `qa index` (the first from scratch), so
that a build holds one batch in memory, not the corpus; the index then has a segment a batch (the
merge policy folds eight segments of one size into one). Stopped half-way, it resumes.
"""
from __future__ import annotations

import json
import random
import re
import sys
import time
from collections import defaultdict
from dataclasses import replace
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from qa.indexing import store  # noqa: E402
from qa.indexing import build  # noqa: E402
from qa.indexing.build import passage_key  # noqa: E402
from qa.settings import Settings  # noqa: E402

CACHE = Path("/tmp/qa-bench")
SHARED = ROOT.parent / "shared" / "benchmarks" / "spf"
PASSAGES_PER_RELEASE = 8
BATCH = 200_000


def source_texts() -> list[str]:
    texts = [path.read_text(encoding="utf-8") for path in sorted((ROOT / "corpus").glob("*.txt"))]
    if (SHARED / "fiches.jsonl").is_file():
        with open(SHARED / "fiches.jsonl", encoding="utf-8") as handle:
            texts += [json.loads(line)["text"] for line in handle]
    return texts


class Bigrams:
    """Sentences drawn word by word from the word pairs of real French text."""

    def __init__(self, texts: list[str], seed: int = 7):
        self.random = random.Random(seed)
        self.next: dict[str, list[str]] = defaultdict(list)
        self.starts: list[str] = []
        for text in texts:
            for sentence in re.split(r"(?<=[.!?])\s+", text):
                words = sentence.split()
                if len(words) < 6:
                    continue
                self.starts.append(words[0])
                for a, b in zip(words, words[1:]):
                    self.next[a].append(b)

    def sentence(self, low: int = 12, high: int = 30) -> str:
        words = [self.random.choice(self.starts)]
        length = self.random.randint(low, high)
        while len(words) < length:
            followers = self.next.get(words[-1])
            if not followers:
                break
            words.append(self.random.choice(followers))
        text = " ".join(words).rstrip(".,;:!?»«")
        return text[0].upper() + text[1:] + "."

    def release(self, number: int, chars: int) -> str:
        day, month, year = number % 28 + 1, number % 12, 2015 + number % 10
        months = ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre",
                  "novembre", "décembre")
        lines = [f"Communiqué {number} : " + self.sentence(5, 10).rstrip("."),
                 f"Bamako, le {day} {months[month]} {year} – " + self.sentence()]
        while sum(len(line) for line in lines) < chars:
            lines.append(" ".join(self.sentence() for _ in range(4)))
        return "\n".join(lines)


def base_vectors(encoder, count: int = 400) -> np.ndarray:
    """Real e5 vectors of real passages (cached): what the synthetic vectors are mixed from."""
    path = CACHE / f"base-{encoder.info.backend}-{count}.npy"
    if path.is_file():
        return np.load(path)
    texts = []
    for text in source_texts():
        texts += [text[i:i + 900] for i in range(0, min(len(text), 2700), 900)]
    texts = texts[:count]
    vectors = encoder.encode_passages(texts)
    CACHE.mkdir(parents=True, exist_ok=True)
    np.save(path, vectors)
    return vectors


def mixed_vectors(base: np.ndarray, count: int, seed: int = 11) -> np.ndarray:
    rng = np.random.default_rng(seed)
    a = base[rng.integers(0, len(base), count)]
    b = base[rng.integers(0, len(base), count)]
    mix = 0.65 * a + 0.35 * b + rng.normal(0, 0.01, size=a.shape).astype(np.float32)
    return (mix / np.linalg.norm(mix, axis=1, keepdims=True)).astype(np.float32)


def write_corpus(folder: Path, passages: int, bigrams: Bigrams | None = None) -> None:
    """Release files for about `passages` passages of at most 1,000 characters."""
    write_releases(folder, range(max(1, passages // PASSAGES_PER_RELEASE)), bigrams or Bigrams(source_texts()))


def write_releases(folder: Path, numbers: range, bigrams: Bigrams) -> None:
    """The release files of `numbers`, drawn in order (from 0, or from where the last call with the
    same `bigrams` stopped, so that a release is always the same); a file already there is kept."""
    folder.mkdir(parents=True, exist_ok=True)
    for number in numbers:
        text = bigrams.release(number, PASSAGES_PER_RELEASE * 800)
        path = folder / f"communique-{number:06d}.txt"
        if not path.is_file():
            path.write_text(text, encoding="utf-8")


class DerivedEncoder:
    """The real encoder's identity, with passage vectors derived from real ones (seeded by the
    text, so a text always gets the same vector) instead of embedded."""

    def __init__(self, encoder, base: np.ndarray):
        self.info, self._base = encoder.info, base

    def encode_queries(self, texts):
        raise AssertionError("a derived index is built, not asked")

    def encode_passages(self, texts, progress=None):
        out = np.empty((len(texts), self.info.dim), dtype=np.float32)
        for i, text in enumerate(texts):
            out[i] = mixed_vectors(self._base, 1, seed=int(passage_key(text)[:15], 16))[0]
        return out


def assemble_index(settings: Settings, encoder, base: np.ndarray, rebuild: bool = True) -> int:
    """The index of a corpus folder as `qa index` builds it, with derived vectors instead of
    embedded ones and no named entities. Returns the number of passages."""
    from unittest import mock
    with mock.patch.object(build, "entities", lambda texts: [[] for _ in texts]):
        report = build.build_index(settings, DerivedEncoder(encoder, base), rebuild=rebuild)
    return report.passage_count


def grown_index(settings: Settings, passages: int, encoder, base: np.ndarray) -> None:
    """A corpus of about `passages` passages, written and indexed BATCH passages at a time (a run
    stopped half-way resumes: the releases written are kept, the index brought up to date)."""
    bigrams = Bigrams(source_texts())
    total, batch = passages // PASSAGES_PER_RELEASE, BATCH // PASSAGES_PER_RELEASE
    for start in range(0, total, batch):
        write_releases(settings.corpus, range(start, min(total, start + batch)), bigrams)
        if not build.is_up_to_date(settings, encoder.info):
            started = time.perf_counter()
            count = assemble_index(settings, encoder, base, rebuild=store.read_manifest(settings.index) is None)
            print(f"   {count} passages indexed ({time.perf_counter() - started:.0f} s)", flush=True)


def cached_index(passages: int, encoder, base: np.ndarray, name: str = "index") -> Settings:
    """A corpus of about `passages` passages and its index (folder `name`), under CACHE (built once)."""
    root = CACHE / f"size-{passages}"
    settings = replace(Settings(), corpus=root / "corpus", index=root / name)
    manifest = store.read_manifest(settings.index)
    grown = root / "grown"  # written once every batch is indexed
    if passages > BATCH and not grown.is_file():
        grown_index(settings, passages, encoder, base)
        grown.touch()
        manifest = store.read_manifest(settings.index)
    if manifest is None or manifest.get("format_version") != store.FORMAT_VERSION \
            or manifest.get("chunking") != settings.chunking():
        if not settings.corpus.is_dir():
            write_corpus(settings.corpus, passages)
        assemble_index(settings, encoder, base)
    return settings
