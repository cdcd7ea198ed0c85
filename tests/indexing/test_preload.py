"""Reading ahead the files questions read at random (qa/indexing/preload.py)."""
from pathlib import Path

from qa.answering.assistant import Assistant
from qa.indexing import preload, store


def _segments(settings) -> list[Path]:
    return [segment.path for segment in store.load(settings.index, dense=False).segments]


def test_a_build_is_read_ahead_once_most_read_files_first_within_the_budget(tmp_path, seed_settings, seed_index,
                                                                            monkeypatch):
    monkeypatch.setattr(preload, "_DONE", set())
    folders = _segments(seed_settings)
    first = [folder / name for name in preload.PRELOADED[:preload.PRELOADED.index("dense.faiss") + 1]
             for folder in folders]
    rest = [folder / name for name in preload.PRELOADED[len(first) // len(folders):] for folder in folders]
    assert all(p.stat().st_size for p in first + rest)
    # the row offsets and the FAISS indexes first; then no room for the rest
    assert preload.planned(folders, budget=sum(p.stat().st_size for p in first)) == first
    assert preload.planned(folders, budget=10 ** 12) == rest  # what was read is not read twice
    assert preload.planned(folders, budget=10 ** 12) == []
    assert preload.read(first + [tmp_path / "gone.npy"]) == sum(p.stat().st_size for p in first)  # a removed file skipped
    monkeypatch.setattr(preload, "_DONE", set())
    monkeypatch.setenv("QA_PRELOAD", "0")
    assert preload.planned(folders) == []
    monkeypatch.setenv("QA_PRELOAD", "0.25")
    assert preload.share() == 0.25


def test_opening_the_assistant_reads_its_build_ahead_unless_turned_off(seed_settings, seed_index, e5, monkeypatch):
    monkeypatch.setattr(preload, "_DONE", set())
    monkeypatch.setenv("QA_PRELOAD", "0")
    assert Assistant.open(settings=seed_settings, encoder=e5).preloading is None
    monkeypatch.delenv("QA_PRELOAD")
    opened = Assistant.open(settings=seed_settings, encoder=e5)
    assert opened.preloading is not None
    opened.preloading.join(timeout=60)
    assert not opened.preloading.is_alive()
    assert Assistant.open(settings=seed_settings, encoder=e5).preloading is None  # already read by this process
    assert opened.ask("Combien de migrants sont rentrés à Bamako ?").citations
