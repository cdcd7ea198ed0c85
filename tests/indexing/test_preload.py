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
    dense = [folder / "dense.faiss" for folder in folders]
    vectors = [folder / "sentence_vectors.npy" for folder in folders]
    assert preload.planned(folders, budget=sum(p.stat().st_size for p in dense)) == dense  # FAISS first, then no room
    assert preload.planned(folders, budget=10 ** 12) == vectors  # the FAISS indexes are not read twice
    assert preload.planned(folders, budget=10 ** 12) == []
    assert preload.read(dense + [tmp_path / "gone.npy"]) == sum(p.stat().st_size for p in dense)  # a removed file skipped


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
