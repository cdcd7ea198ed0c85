"""Files of a build written to stay: synced to disk when written, and known by their checksum and
their stat (what opening compares to trust a file without reading it)."""
from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numpy as np


def save_array(path: Path, array: np.ndarray) -> None:
    """A numpy array as .npy, synced."""
    with open(path, "wb") as handle:
        np.save(handle, array, allow_pickle=False)
        handle.flush()
        os.fsync(handle.fileno())


def sync(path: Path) -> None:
    """Flush a file (or a folder's entries) to disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def stat_of(path: Path) -> list[int]:
    """Size and modification time, as a manifest records them."""
    info = path.stat()
    return [info.st_size, info.st_mtime_ns]
