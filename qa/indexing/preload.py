"""The files questions read at random, read into the system's file cache ahead of the questions.

A build's FAISS indexes, sentence vectors and texts are memory-mapped, not read at open: opening
stays fast, but the first questions of a process fault their pages in from disk one at a time. A
background thread reads them once, sequentially, most-read first: the offsets of the rows (tiny),
each segment's FAISS index (every dense search walks it), the passages' and sentences' rows (each
question reads about 100 passages and 300 sentences), then the sentence vectors (those of its 30
candidate passages). It stops at a share of the machine's memory (`QA_PRELOAD`, default 0.5; a
file that does not fit is left to be read on demand), so that a corpus larger than memory does not
push everything else out of the cache (Lucene's `MMapDirectory.setPreload`, Elasticsearch's
`index.store.preload`). A file is read once per process: a reader picking up a new build reads only
its new segments (the others are hard links). `QA_PRELOAD=0` turns it off.

At one million passages (the index's pages evicted first, 100 questions), ask p50 / p95: 419 /
1,336 ms without preloading; 66 / 140 ms once these files are read (18.3 GB with float32 sentence
vectors, `QA_PRELOAD=0.8`; they would be 11.6 GB with the float16 ones new segments hold).
"""
from __future__ import annotations

import os
import threading
from pathlib import Path

# What questions read at random, in the order they are read into the cache.
PRELOADED = ("passages.offsets.npy", "sentences.offsets.npy", "documents.offsets.npy", "dense.faiss",
             "passages.jsonl", "sentences.jsonl", "sentence_vectors.npy")
MEMORY_SHARE = 0.5  # default share of the machine's memory a build's preloaded files may take
CHUNK = 8 << 20

_LOCK = threading.Lock()
_DONE: set[tuple[int, int]] = set()  # (device, inode) of the files already read by this process


def share() -> float:
    """The share of memory preloading may take (QA_PRELOAD: 0 or "off" for none, else 0 to 1)."""
    said = os.environ.get("QA_PRELOAD", "").strip().lower()
    if said in ("off", "no", "false"):
        return 0.0
    try:
        return min(max(float(said), 0.0), 1.0) if said else MEMORY_SHARE
    except ValueError:
        return MEMORY_SHARE


def _memory() -> int:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return 0


def planned(folders: list[Path], budget: int | None = None) -> list[Path]:
    """The files of a build's segment folders to read, in order (file kind first, then segment),
    those that fit in `budget` bytes (default: `share()` of the memory); those this process already
    read are counted, not read again."""
    budget = int(_memory() * share()) if budget is None else budget
    wanted = []
    if budget <= 0:
        return wanted
    with _LOCK:
        for name in PRELOADED:
            for folder in folders:
                path = folder / name
                try:
                    info = path.stat()
                except OSError:
                    continue
                if info.st_size > budget:
                    continue
                budget -= info.st_size
                key = (info.st_dev, info.st_ino)
                if key not in _DONE:
                    _DONE.add(key)
                    wanted.append(path)
    return wanted


def read(paths: list[Path]) -> int:
    """Read the files through once (their pages stay in the system's cache); bytes read. A file
    removed meanwhile (an old build cleaned up) is skipped."""
    total = 0
    buffer = bytearray(CHUNK)
    for path in paths:
        try:
            with open(path, "rb", buffering=0) as handle:
                while count := handle.readinto(buffer):
                    total += count
        except OSError:
            continue
    return total


def start(folders: list[Path]) -> threading.Thread | None:
    """Preload these segments in a daemon thread (None when off or nothing is left to read)."""
    paths = planned(folders)
    if not paths:
        return None
    thread = threading.Thread(target=read, args=(paths,), name="qa-preload", daemon=True)
    thread.start()
    return thread
