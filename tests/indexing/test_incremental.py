"""An incremental build is the build from scratch: same passages, same repeated-text decisions,
same stories, whatever was added, changed or deleted (and whichever release sorts first)."""
from __future__ import annotations

import hashlib
import random
import re
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pytest

from conftest import write
from qa.indexing import build, store
from qa.indexing.build import build_index
from qa.indexing.embedding import EncoderInfo
from qa.settings import Settings

ABOUT = ("L'Organisation internationale pour les migrations (OIM) est la principale organisation "
         "intergouvernementale dans le domaine de la migration et compte 175 États membres. "
         "Pour plus d'informations, veuillez contacter le bureau de l'OIM au Mali à Bamako, au +223 20 22 76 23.")
LONGER_ABOUT = ("L'Organisation internationale pour les migrations (OIM) est la principale organisation "
                "intergouvernementale dans le domaine de la migration et compte 175 États membres répartis "
                "sur tous les continents du monde.")
KAYES = ("Kayes, le 4 avril 2025 – Quarante jardins maraîchers ont été aménagés à Kayes pour les femmes des "
         "familles de migrants de retour, avec des pompes solaires fournies par l'OIM. "
         "Les récoltes de la première saison ont été vendues au marché de Kayes par les coopératives féminines.")
GAO = ("Gao, le 12 mars 2023 – L'Organisation internationale pour les migrations a remis 1 250 kits d'hygiène "
       "aux familles déplacées du quartier de Sosso Koïra. La distribution, financée par le Japon, a été "
       "organisée avec la Direction régionale du développement social de Gao.")
MOPTI = ("Mopti, le 3 juin 2021 – Une caravane de sensibilisation sur les dangers de la migration irrégulière a "
         "parcouru 14 communes du cercle de Bandiagara pendant deux semaines. Des artistes locaux ont animé "
         "42 séances de théâtre forum devant plus de 6 300 jeunes de la région de Mopti.")
SEGOU = ("Ségou, le 18 décembre 2024 – La Journée internationale des migrants a été célébrée à Ségou en présence "
         "du gouverneur de la région et des associations de migrants de retour. « Œuvrons ensemble pour une "
         "migration sûre », a déclaré la cheffe de mission de l'OIM devant quatre cents participants.")
BAMAKO = ("Bamako, le 13 décembre 2021 – Une table ronde sur la réintégration durable des migrants de retour a "
          "réuni les ministères, les partenaires techniques et les organisations de la société civile. Les "
          "participants ont adopté une feuille de route pour les trois prochaines années, avec un suivi annuel. "
          "Le ministre des Maliens de l'extérieur a salué l'engagement des partenaires et des communes.")
NAVIGATION = "Accueil\nPolitique\nLe Journal du Sahel, l'information au quotidien depuis 2009 avec 35 reporters.\n"


class HashEncoder:
    """Deterministic vectors from the text's digest: storage and lifecycle logic, no meaning."""
    info = EncoderInfo("test", "hash", 8, "query: ", "passage: ")

    def _encode(self, texts):
        rows = [np.frombuffer(hashlib.sha256(t.encode()).digest()[:32], dtype=np.uint8)[:8].astype(np.float32) + 1
                for t in texts]
        vectors = np.asarray(rows, dtype=np.float32).reshape(len(texts), 8)
        return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)

    def encode_queries(self, texts):
        return self._encode(list(texts))

    def encode_passages(self, texts, progress=None):
        return self._encode(list(texts))


def state(settings: Settings) -> dict:
    """Everything a build decided from the corpus, release by release (whichever segment holds
    it), without what depends on when it ran."""
    index = store.load(settings.index)
    releases = {}
    for segment, position in index.located():
        stored = segment.bundle(position)
        releases[stored.document.id] = {
            "passages": [asdict(p) for p in stored.passages], "keys": stored.keys, "terms": stored.terms,
            "vectors": stored.vectors.tolist(), "excluded": stored.excluded, "sentences": stored.sentences,
            "sentence_vectors": stored.sentence_vectors.tolist(), "analysis": stored.analysis,
            "signature": stored.signature}
    assert sorted(releases) == sorted(index.documents)
    return {"releases": releases, "stories": index.stories, "passages": index.passage_count}


def from_scratch(corpus: Path, tmp_path: Path, name: str) -> dict:
    settings = Settings(corpus=corpus, index=tmp_path / f"scratch-{name}")
    build_index(settings, HashEncoder(), rebuild=True)
    return state(settings)


@pytest.fixture()
def live(tmp_path) -> Settings:
    corpus = tmp_path / "corpus"
    write(corpus, "oim-kayes.txt", "Des jardins pour Kayes\n" + KAYES + "\n" + ABOUT)
    write(corpus, "oim-gao.txt", "Des kits d'hygiène à Gao\n" + GAO + "\n" + ABOUT)
    write(corpus, "oim-mopti.txt", "Une caravane à Bandiagara\n" + MOPTI + "\n" + LONGER_ABOUT)
    write(corpus, "sahel-gao.txt", NAVIGATION + "Des kits d'hygiène à Gao\n" + GAO + "\nPartager sur Facebook\n")
    write(corpus, "oim-bamako.txt", "Une table ronde à Bamako\n" + BAMAKO + "\n" + ABOUT)
    return Settings(corpus=corpus, index=tmp_path / "index")


def test_incremental_builds_equal_builds_from_scratch(live, tmp_path):
    encoder = HashEncoder()
    build_index(live, encoder)
    first = state(live)
    assert first == from_scratch(live.corpus, tmp_path, "0")
    assert sum(bool(r["excluded"]) for r in first["releases"].values()), "the shared « about » paragraph is said once"
    assert "sahel-gao.txt" in first["stories"]["copies"]["oim-gao.txt"]

    steps = [
        # A release that sorts first takes the repeated sentences over from the others.
        lambda: write(live.corpus, "aaa-oim-segou.txt", "La Journée des migrants à Ségou\n" + SEGOU + " " + BAMAKO[40:]
                      + "\n" + ABOUT),
        # The release holding the longer « about » sentence goes: the shorter ones are said again.
        lambda: (live.corpus / "oim-mopti.txt").unlink(),
        # A changed release, and a copy of another one's story.
        lambda: write(live.corpus, "oim-kayes.txt", "Des jardins pour Kayes\n" + KAYES.replace("Quarante", "Cinquante")
                      + "\n" + LONGER_ABOUT),
        lambda: write(live.corpus, "zz-copie-segou.txt", NAVIGATION + "La Journée des migrants à Ségou\n" + SEGOU),
        # The first holder of every shared sentence goes.
        lambda: (live.corpus / "aaa-oim-segou.txt").unlink(),
    ]
    for number, step in enumerate(steps, 1):
        step()
        report = build_index(live, encoder)
        assert state(live) == from_scratch(live.corpus, tmp_path, str(number)), f"step {number}"
        assert report.reused > 0
        # Only what changed was written: the build keeps the previous segments, adds at most one.
        segments = store.load(live.index).manifest["segments"]
        assert len(segments) <= number + 1 and all(not s["deleted"] or s["documents"] > len(s["deleted"])
                                                   for s in segments)


@pytest.mark.parametrize("in_memory_above", [build.IN_MEMORY_ABOVE, 0], ids=["from-segments", "in-memory"])
def test_changes_at_random_equal_builds_from_scratch(tmp_path, monkeypatch, in_memory_above):
    """Releases made of shared sentences (repeated text, a sentence inside a longer one, figures
    said by few or many releases, syndicated copies), added, changed, copied and deleted at random
    (fixed seed): each incremental build is the build from scratch, whether it decides from the
    segments' tables or over every release in memory."""
    monkeypatch.setattr(build, "IN_MEMORY_ABOVE", in_memory_above)
    chance = random.Random(20)
    sentences = [s for text in (KAYES, GAO, MOPTI, SEGOU, BAMAKO, ABOUT, LONGER_ABOUT)
                 for s in re.split(r"(?<=[.»]) (?=[A-ZÀ-Ý«L])", text)]
    corpus = tmp_path / "corpus"
    live = Settings(corpus=corpus, index=tmp_path / "index")

    def release() -> str:
        return f"Communiqué {chance.randint(1, 99)}\n" + " ".join(chance.sample(sentences, chance.randint(2, 5)))

    for number in range(6):
        write(corpus, f"oim-{number}.txt", release())
    encoder = HashEncoder()
    build_index(live, encoder)
    seen = {"excluded": 0, "copies": 0}
    for step in range(10):
        present = sorted(p.name for p in corpus.glob("*.txt"))
        action = chance.choice(["add", "change", "copy", "delete"])
        if action == "add":
            write(corpus, f"oim-{10 + step}.txt", release())
        elif action == "change":
            write(corpus, chance.choice(present), release())
        elif action == "copy":
            write(corpus, f"copie-{step}.txt", NAVIGATION + (corpus / chance.choice(present)).read_text(encoding="utf-8"))
        elif len(present) > 2:
            (corpus / chance.choice(present)).unlink()
        build_index(live, encoder)
        found = state(live)
        assert found == from_scratch(corpus, tmp_path, f"random-{step}"), f"step {step}: {action}"
        seen["excluded"] += sum(bool(r["excluded"]) for r in found["releases"].values())
        seen["copies"] += len(found["stories"]["copies"])
    assert seen["excluded"] and seen["copies"], seen  # the steps did decide repeated text and stories


def test_a_figure_stated_by_more_releases_stops_linking_a_story(tmp_path):
    """Two releases told as one event by the rare figures of their ledes; once four releases state
    those figures, they are no longer distinctive, and the incremental build unlinks the pair as
    a build from scratch does."""
    corpus = tmp_path / "corpus"
    live = Settings(corpus=corpus, index=tmp_path / "index")
    lede = "1 250 kits d'hygiène, 3 400 familles et 875 abris"
    write(corpus, "oim-gao.txt", f"Des kits à Gao\nGao, le 12 mars 2023 – {lede} ont été remis par l'OIM aux déplacés "
                                 "du quartier de Sosso Koïra, avec le soutien du Japon.")
    write(corpus, "journal-gao.txt", f"Solidarité au Sahel\nGao, le 14 mars 2023 – Selon la direction régionale, {lede} "
                                     "sont arrivés cette semaine dans la ville, une aide attendue depuis janvier.")
    encoder = HashEncoder()
    build_index(live, encoder)
    assert "journal-gao.txt" in state(live)["stories"]["copies"].get("oim-gao.txt", [])
    for number, year in enumerate((2017, 2019)):
        write(corpus, f"bilan-{year}.txt", f"Bilan {year}\nBamako, le 2 janvier {year} – En {year - 3}, {lede} "
                                           f"avaient été comptés dans le rapport annuel numéro {number + 5}.")
    build_index(live, encoder)
    found = state(live)
    assert found == from_scratch(corpus, tmp_path, "figures")
    assert "oim-gao.txt" not in found["stories"]["copies"]


def test_stored_repeats_decide_a_large_change_as_repeats_over_the_whole_corpus():
    """StoredRepeats decides a change of many releases at once (sorted lookups over every table):
    its decisions are those of Repeats over the releases after the change, and every release
    whose decisions the change alters is among those it says are concerned. Releases drawn from
    sentences that repeat, grow by a few terms, lose one, or state another figure (fixed seed)."""
    from types import SimpleNamespace

    from qa.indexing.decisions import RepeatTables, StoredRepeats
    from qa.reading.boilerplate import Analysis, Repeats
    from qa.reading.chunking import Span

    chance = random.Random(5)
    words = [f"mot{n}" for n in range(120)] + [str(2000 + n) for n in range(12)]
    pool = []
    for _ in range(40):
        base = chance.sample(words, chance.randint(8, 18))
        pool.append(base)
        pool.append(base + chance.sample(words, chance.randint(1, 3)))  # said better: longer
        pool.append(base[1:])  # a lesser copy
        pool.append([w if not w.isdigit() else str(int(w) + 1) for w in base])  # another figure
    sources = {f"r{n:03d}": f"{chance.choice('abcdefgh')}-{n:03d}.txt" for n in range(160)}

    def analysis() -> Analysis:
        sentences = [tuple(chance.choice(pool)) for _ in range(chance.randint(2, 7))]
        return Analysis("-", [Span(10 * i, 10 * i + 5) for i in range(len(sentences))], sentences)

    stored = {doc_id: analysis() for doc_id in list(sources)[:120]}
    segments = [list(stored)[:70], list(stored)[70:]]
    deleted = set(chance.sample(segments[0], 8))  # deleted by earlier builds
    before_ids = [i for i in stored if i not in deleted]
    gone = set(chance.sample(before_ids, 25))
    changed = set(chance.sample(sorted(gone), 10))  # gone, and back with other text
    new = {doc_id: analysis() for doc_id in sorted(changed) + list(sources)[120:]}
    after = {i: stored[i] for i in before_ids if i not in gone} | new

    def repeats(releases: dict) -> Repeats:
        return Repeats.of((i, sources[i], a) for i, a in releases.items())

    parts = [(RepeatTables.of_rows([stored[i].to_row() for i in ids]),
              [SimpleNamespace(id=i, source=sources[i]) for i in ids], deleted & set(ids)) for ids in segments]
    decisions = StoredRepeats(parts, gone, [(i, sources[i], a) for i, a in new.items()])
    stories = set(chance.sample(sorted(after), 6)) | set(chance.sample(sorted(gone - changed), 2))
    concerned = decisions.concerned(set(new), [stored[i] for i in sorted(gone)], list(new.values()), stories,
                                    after.__getitem__)
    whole_before, whole_after = repeats({i: stored[i] for i in before_ids}), repeats(after)
    got = decisions.dropped([(i, sources[i], a) for i, a in after.items()])
    assert got == {i: whole_after.dropped(i) for i in after}
    moved = {i for i in after if i in new or whole_after.dropped(i) != whole_before.dropped(i)}
    assert moved <= concerned <= set(after)
    # The releases Repeats kept release by release says are concerned (the in-memory build's way).
    firsts = {}
    for doc_id in sorted(gone):
        firsts.update((key, whole_before.first.get(key)) for key in whole_before.keys_of(doc_id) if key not in firsts)
        whole_before.remove(doc_id)
    for doc_id, found in new.items():
        firsts.update((key, whole_before.first.get(key)) for key in found.terms if key not in firsts)
        whole_before.add(doc_id, sources[doc_id], found)
    assert concerned == whole_before.concerned(set(new), firsts, stories)
    assert sum(bool(spans) for spans in got.values()) > 40 and len(moved - set(new)) > 5  # the draw decides things
