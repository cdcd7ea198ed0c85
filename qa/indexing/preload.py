"""The files questions read at random, read into the system's file cache ahead of the questions.

A build's FAISS indexes and sentence vectors are memory-mapped, not read at open: opening stays
fast, but the first questions of a process fault their pages in from disk one at a time (at one
million passages, asked right after a cold start: 468 / 1,594 ms p50 / p95 instead of about
110 / 400 ms once these pages are cached; `benchmarks/speed.py scale`). A background thread reads
them once, sequentially, most-read first: each segment's FAISS index (every dense search walks
it), then its sentence vectors (each question reads those of its 30 candidate passages), up to
half of the machine's memory (the files beyond are left to be read on demand), so that a corpus
larger than memory does not push everything else out of the cache (Lucene's `MMapDirectory.setPreload`, Elasticsearch's `index.store.preload`).
A segment is read once per process: a reader picking up a new build reads only its new segments.
`QA_PRELOAD=0` turns it off.
"""
from __future__ import annotations

import os
import threading
from pathlib import Path

# What questions read at random, in the order they are read into the cache.
PRELOADED = ("dense.faiss", "sentence_vectors.npy")
MEMORY_SHARE = 0.5  # at most this share of the machine's memory, over every segment this process preloads
CHUNK = 8 << 20

_LOCK = threading.Lock()
_DONE: set[tuple[int, int]] = set()  # (device, inode) of the files already read by this process


def enabled() -> bool:
    return os.environ.get("QA_PRELOAD", "1").strip().lower() not in ("0", "false", "no", "off")


def _memory() -> int:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return 0


def planned(folders: list[Path], budget: int | None = None) -> list[Path]:
    """The files of a build's segment folders to read, in order (file kind first, then segment),
    as long as the files so far fit in `budget` bytes (default: MEMORY_SHARE of the memory);
    those this process already read are counted, not read again."""
    budget = int(_memory() * MEMORY_SHARE) if budget is None else budget
    wanted = []
    with _LOCK:
        for name in PRELOADED:
            for folder in folders:
                path = folder / name
                try:
                    info = path.stat()
                except OSError:
                    continue
                if info.st_size > budget:
                    return wanted
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
    if not enabled():
        return None
    paths = planned(folders)
    if not paths:
        return None
    thread = threading.Thread(target=read, args=(paths,), name="qa-preload", daemon=True)
    thread.start()
    return thread
