"""Segments: a build writes only what changed, deletions are tombstones, BM25 is scored with the
statistics of all live segments together, and merges fold small segments into one."""
from __future__ import annotations

import json
import os
import shutil
from dataclasses import replace

import numpy as np
import pytest

from conftest import SEED_CORPUS, write
from qa.answering.assistant import Assistant
from qa.indexing import store
from qa.indexing.build import build_index
from qa.indexing.postings import Lexical, Postings
from qa.reading.lexical import terms
from qa.settings import Settings
from test_incremental import GAO, KAYES, MOPTI, HashEncoder, from_scratch, state

TEXTS = ["Les migrants de retour à Gao ont reçu des kits.", "Une caravane à Mopti contre la migration irrégulière.",
         "Des kits d'hygiène distribués à Gao et à Mopti.", "Les jardins de Kayes.", "Les kits de Kayes et de Gao."]


def test_bm25_over_segments_scores_as_one_index_of_the_live_passages():
    tokens = [terms(t) for t in TEXTS]
    dead = np.array([True, False, True])  # the second passage of the first segment is deleted
    split = Lexical([Postings.of(tokens[:3]), Postings.of(tokens[3:])], [dead, None])
    whole = Lexical([Postings.of([tokens[0], tokens[2]] + tokens[3:])], [None])
    question = terms("Combien de kits à Gao ?") + terms("Gao")
    scores = split.scores(question)
    assert scores[1] == 0.0 and scores.max() > 0
    assert np.allclose(scores[[0, 2, 3, 4]], whole.scores(question), rtol=1e-6)
    assert split.size == whole.size == 4
    assert split.weight(terms("Mopti")[0]) == pytest.approx(whole.weight(terms("Mopti")[0]))
    assert split.expand(terms("Tomboctou")) == terms("Tomboctou")  # nothing near: unchanged
    # Which ranges of passages (a release's, in one segment) hold a term, in either segment.
    starts, stops = np.array([0, 2, 3, 4]), np.array([2, 3, 4, 5])
    assert split.in_ranges(terms("Kayes")[0], starts, stops).tolist() == [False, False, True, True]
    assert split.in_ranges(terms("Mopti")[0], starts, stops).tolist() == [True, True, False, False]
    assert split.in_ranges("zzzinconnu", starts, stops).tolist() == [False] * 4


def test_merge_plan_merges_the_newest_segments_of_one_size_class():
    factor = store.MERGE_FACTOR
    assert store.merge_plan([200_000] + [6] * (factor - 1)) == 0
    assert store.merge_plan([200_000] + [6] * factor) == factor
    assert store.merge_plan([200_000, 48] + [6] * (factor - 1)) == factor  # 48 and 6: one class
    big = store.SMALLEST_CLASS * factor
    assert store.merge_plan([big * factor] + [big] * (factor - 1) + [6]) == 0


def test_adding_and_deleting_a_release_touch_only_its_segment(tmp_path, e5):
    settings = Settings(corpus=tmp_path / "corpus", index=tmp_path / "index")
    shutil.copytree(SEED_CORPUS, settings.corpus)
    write(settings.corpus, "gao.txt", "Kits à Gao\n\n" + GAO)
    build_index(settings, e5)
    first = store.load(settings.index)
    write(settings.corpus, "kayes.txt", "Des jardins pour Kayes\n\n" + KAYES)
    report = build_index(settings, e5)
    assert report.added == ["kayes.txt"] and report.embedded == 1
    added = store.load(settings.index)
    assert [s["documents"] for s in added.manifest["segments"]] == [3, 1]
    # The seeds' segment is the previous build's files, linked, not written again, and a process
    # that had it open opens only the new segment.
    name = first.segments[0].name
    old, kept = first.path / "segments" / name, added.path / "segments" / name
    assert os.stat(old / "passages.jsonl").st_ino == os.stat(kept / "passages.jsonl").st_ino
    assert added.segments[0] is first.segments[0]
    answer = Assistant.open(settings=settings, encoder=e5).ask("Combien de jardins maraîchers à Kayes ?")
    assert answer.citations[0].source == "kayes.txt" and "Quarante" in answer.sentence.text

    # A release deleted from a segment whose other releases live on: a tombstone, never cited.
    (settings.corpus / "gao.txt").unlink()
    build_index(settings, e5)
    tombstoned = store.load(settings.index)
    assert any("gao.txt" in s["deleted"] for s in tombstoned.manifest["segments"])
    assert tombstoned.live is not None and not tombstoned.live.all()
    assistant = Assistant.open(settings=settings, encoder=e5)
    for question in ("Combien de kits d'hygiène à Gao ?", "kits hygiène Sosso Koïra Japon"):
        found = assistant.ask(question, k=10)
        assert found.citations and all(c.source != "gao.txt" for c in found.citations)

    (settings.corpus / "oim-mali-2021-12-13-table-ronde-bamako.txt").unlink()
    report = build_index(settings, e5)
    assert report.removed == ["oim-mali-2021-12-13-table-ronde-bamako.txt"]
    deleted = store.load(settings.index)
    # A tombstone (the Ségou release, whose repeated text Bamako held, is cut again into a new
    # segment: the seeds' segment, all deleted, is dropped).
    assert "oim-mali-2021-12-13-table-ronde-bamako.txt" not in deleted.documents
    assert deleted.passage_count == sum(1 for _ in deleted.live_passages())
    assert all(p.doc_id != "oim-mali-2021-12-13-table-ronde-bamako.txt" for p in deleted.live_passages())
    assistant = Assistant.open(settings=settings, encoder=e5)
    for question in ("Qui a participé à la table ronde de Bamako ?", "table ronde réintégration durable Bamako"):
        assert all(c.source != "oim-mali-2021-12-13-table-ronde-bamako.txt"
                   for c in assistant.ask(question, k=10).citations)


def test_merges_fold_segments_into_one_and_change_nothing_else(tmp_path, monkeypatch):
    monkeypatch.setattr(store, "MERGE_FACTOR", 3)
    settings = Settings(corpus=tmp_path / "corpus", index=tmp_path / "index")
    write(settings.corpus, "oim-gao.txt", "Kits à Gao\n" + GAO)
    encoder = HashEncoder()
    build_index(settings, encoder)
    counts = []
    for number, (name, text) in enumerate([("oim-kayes.txt", KAYES), ("oim-mopti.txt", MOPTI),
                                           ("oim-kayes-2.txt", KAYES.replace("Quarante", "Trente"))]):
        write(settings.corpus, name, f"Communiqué {number}\n" + text)
        build_index(settings, encoder)
        counts.append(len(store.load(settings.index).manifest["segments"]))
        assert state(settings) == from_scratch(settings.corpus, tmp_path, str(number))
    assert counts == [2, 1, 2]  # the third segment of one size class merged the three


def test_an_index_from_before_segments_is_read_again_with_its_vectors_kept(tmp_path):
    """An upgrade does not embed the corpus again: a build of formats 5 and 6 (one folder of files)
    gives its passage and sentence vectors by the digest of their text."""
    settings = Settings(corpus=tmp_path / "corpus", index=tmp_path / "index")
    write(settings.corpus, "oim-gao.txt", "Kits à Gao\n" + GAO)
    write(settings.corpus, "oim-kayes.txt", "Jardins à Kayes\n" + KAYES)
    encoder = HashEncoder()
    build_index(settings, encoder)
    stored = [store.load(settings.index).segments[0].bundle(i) for i in range(2)]
    # The same vectors, laid out as a build before segments wrote them.
    shutil.rmtree(settings.index)
    old = settings.index / "builds" / "20261201T000000000000Z"
    old.mkdir(parents=True)
    (old / "keys.jsonl").write_text("".join(json.dumps(k) + "\n" for b in stored for k in b.keys))
    np.save(old / "vectors.npy", np.concatenate([b.vectors for b in stored]))
    (old / "sentences.jsonl").write_text("".join(json.dumps(r) + "\n" for b in stored for r in b.sentences))
    np.save(old / "sentence_vectors.npy", np.concatenate([b.sentence_vectors for b in stored]))
    (old / "manifest.json").write_text(json.dumps({"format_version": 5, "encoder": encoder.info.to_dict(),
                                                   "checksums": {}, "documents": {}}))
    (settings.index / "CURRENT").write_text(old.name + "\n")
    calls = []
    counting = HashEncoder()
    counting.encode_passages = lambda texts, progress=None: calls.append(len(texts)) or encoder.encode_passages(texts)
    report = build_index(settings, counting)
    assert report.embedded == 0 and calls == [] and "version antérieure" in report.notes[0]
    assert state(settings)["releases"] == from_scratch(settings.corpus, tmp_path, "upgrade")["releases"]


def test_old_builds_are_removed_after_the_switch_and_never_a_newer_one(tmp_path):
    """Removing old builds runs once the new build is live, in the background; whenever it runs, it
    keeps the build CURRENT names then and the one before it, and never touches a newer build (a
    late cleaner of an earlier build must not remove what a later build wrote)."""
    settings = Settings(corpus=tmp_path / "corpus", index=tmp_path / "index")
    encoder = HashEncoder()
    for number, text in enumerate((GAO, KAYES, MOPTI)):
        write(settings.corpus, f"oim-{number}.txt", f"Communiqué {number}\n{text}")
        build_index(settings, encoder)
    store.finish_housekeeping()
    builds = sorted(p.name for p in (settings.index / "builds").iterdir())
    assert len(builds) == store.KEEP_BUILDS and (settings.index / "CURRENT").read_text().strip() == builds[-1]
    # A cleaner that runs late, when CURRENT still names the build before: the newest is untouched.
    write(settings.corpus, "oim-3.txt", "Communiqué 3\n" + GAO.replace("1 250", "1 300"))
    build_index(settings, encoder)
    store.finish_housekeeping()
    names = sorted(p.name for p in (settings.index / "builds").iterdir())
    (settings.index / "CURRENT").write_text(names[0] + "\n")
    store._remove_old_builds(settings.index)
    assert sorted(p.name for p in (settings.index / "builds").iterdir()) == names


def test_sentence_vectors_are_stored_in_half_precision_and_float32_segments_still_answer(tmp_path, e5, monkeypatch):
    from qa.indexing import segment
    settings = Settings(corpus=tmp_path / "corpus", index=tmp_path / "index")
    shutil.copytree(SEED_CORPUS, settings.corpus)
    build_index(replace(settings, index=tmp_path / "halved"), e5)
    halved = store.load(tmp_path / "halved")
    monkeypatch.setattr(segment, "SENTENCE_VECTOR_DTYPE", np.float32)  # a segment written before
    build_index(settings, e5)
    monkeypatch.undo()
    full = store.load(settings.index)
    assert halved.segments[0].sentence_vectors.dtype == np.float16
    assert full.segments[0].sentence_vectors.dtype == np.float32
    assert np.abs(halved.segments[0].sentence_vectors - full.segments[0].sentence_vectors).max() < 2e-3
    write(settings.corpus, "kayes.txt", "Des jardins pour Kayes\n\n" + KAYES)
    build_index(settings, e5)
    mixed = store.load(settings.index)
    assert [s.sentence_vectors.dtype for s in mixed.segments] == [np.float32, np.float16]
    answer = Assistant.open(settings=settings, encoder=e5).ask("Combien de jardins maraîchers à Kayes ?")
    assert answer.citations[0].source == "kayes.txt" and "Quarante" in answer.sentence.text
