"""The index lifecycle: incremental updates by content hash, atomic switches, locks, uploads."""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from dataclasses import replace
from pathlib import Path

import pytest

from qa.access import OPERATOR
from qa.service import QUESTIONS_FIRST_INTERVAL, Service
from conftest import BAMAKO, SEGOU, write
from qa.indexing import store
from qa.answering.assistant import Assistant
from qa.errors import QAError
from qa.reading.formats import UnreadableFile
from qa.reading.limits import LimitExceeded
from qa.indexing.build import build_index, is_up_to_date
from qa.settings import PROJECT_ROOT, Settings
from qa.reading.uploads import add_to_corpus, safe_name

NEW_RELEASE = ("Des jardins pour Kayes\nKayes, le 4 avril 2025 – Quarante jardins maraîchers ont été aménagés à "
               "Kayes pour les femmes des familles de migrants de retour, avec des pompes solaires fournies par l’OIM.")


@pytest.fixture()
def corpus_settings(tmp_path) -> Settings:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for name in (BAMAKO, SEGOU):
        shutil.copy(PROJECT_ROOT / "corpus" / name, corpus / name)
    return Settings(corpus=corpus, index=tmp_path / "index")


def test_add_change_delete_cycle(corpus_settings, e5):
    first = build_index(corpus_settings, e5)
    assert first.added == sorted([BAMAKO, SEGOU]) and first.reused == 0
    total = first.passage_count

    write(corpus_settings.corpus, "kayes.txt", NEW_RELEASE)
    added = build_index(corpus_settings, e5)
    assert added.added == ["kayes.txt"] and added.unchanged == sorted([BAMAKO, SEGOU])
    assert added.embedded == added.passages_by_doc["kayes.txt"] and added.reused == total
    assistant = Assistant.open(settings=corpus_settings, encoder=e5)
    assert assistant.ask("Combien de jardins maraîchers à Kayes ?").citations[0].source == "kayes.txt"

    segou = corpus_settings.corpus / SEGOU
    segou.write_text(segou.read_text(encoding="utf-8").replace("Abdoulaye MAIGA", "Jean DUPONT"), encoding="utf-8")
    changed = build_index(corpus_settings, e5)
    assert changed.updated == [SEGOU] and changed.added == [] and changed.removed == []
    assert 0 < changed.embedded < changed.passage_count
    assistant = Assistant.open(settings=corpus_settings, encoder=e5)
    assert not any("MAIGA" in p.text for p in assistant.index.live_passages())  # no stale passage
    assert "Jean DUPONT" in assistant.ask("Qui a présidé la cérémonie à Ségou ?").sentence.text

    (corpus_settings.corpus / "kayes.txt").unlink()
    removed = build_index(corpus_settings, e5)
    assert removed.removed == ["kayes.txt"] and removed.embedded == 0
    assistant = Assistant.open(settings=corpus_settings, encoder=e5)
    assert not any(p.doc_id == "kayes.txt" for p in assistant.index.live_passages())
    assert is_up_to_date(corpus_settings, e5.info)


def test_chunking_change_reembeds_everything(corpus_settings, e5):
    build_index(corpus_settings, e5)
    smaller = replace(corpus_settings, passage_chars=500)
    assert not is_up_to_date(smaller, e5.info)
    report = build_index(smaller, e5)
    assert report.reused < report.passage_count and report.embedded > 0
    assert all(len(p.text) <= 500 for p in Assistant.open(settings=smaller, encoder=e5).index.live_passages())


def test_old_builds_are_pruned(corpus_settings, e5):
    for _ in range(4):
        build_index(corpus_settings, e5, rebuild=True)
    store.finish_housekeeping()  # done after the switch, in the background
    builds = [p for p in (corpus_settings.index / "builds").iterdir()]
    assert len(builds) == store.KEEP_BUILDS


def test_sigkill_during_a_build_leaves_the_previous_index(corpus_settings, e5):
    build_index(corpus_settings, e5)
    before = Assistant.open(settings=corpus_settings, encoder=e5).ask("Qui a présidé la cérémonie à Ségou ?")
    for number in range(40):  # enough text for a build of several seconds
        write(corpus_settings.corpus, f"extra-{number:02d}.txt",
              f"Communiqué {number}\nBamako, le {number % 28 + 1} mars 2023 – " + " ".join(
                  f"La phrase {i} du communiqué {number} parle de migration et de réintégration." for i in range(40)))
    builds = corpus_settings.index / "builds"
    process = subprocess.Popen([sys.executable, "-m", "qa", "index", "--corpus", str(corpus_settings.corpus),
                                "--index", str(corpus_settings.index)], cwd=PROJECT_ROOT,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(4.0)  # model loaded, well inside the embedding of about 300 passages
    assert process.poll() is None, "the build ended before it could be killed"
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    after = Assistant.open(settings=corpus_settings, encoder=e5)
    assert after.ask("Qui a présidé la cérémonie à Ségou ?").to_dict() | {"timings": None} == \
        before.to_dict() | {"timings": None}
    assert not any(p.doc_id.startswith("extra-") for p in after.index.live_passages())
    # The next build completes and clears whatever the killed one left.
    for extra in corpus_settings.corpus.glob("extra-*.txt"):
        extra.unlink()
    build_index(corpus_settings, e5)
    store.finish_housekeeping()
    assert not any(p.name.endswith(".partial") for p in builds.iterdir())


def test_a_crash_while_writing_leaves_the_previous_index(corpus_settings, e5, monkeypatch):
    build_index(corpus_settings, e5)
    live = store.current_build(corpus_settings.index)
    write(corpus_settings.corpus, "kayes.txt", NEW_RELEASE)

    def crash(*args, **kwargs):
        raise OSError("disque plein")
    monkeypatch.setattr(store.os, "replace", crash)  # the switch of CURRENT fails
    with pytest.raises(OSError):
        build_index(corpus_settings, e5)
    monkeypatch.undo()
    assert store.current_build(corpus_settings.index) == live
    assert not any(p.doc_id == "kayes.txt" for p in Assistant.open(settings=corpus_settings, encoder=e5).index.live_passages())


def test_a_second_build_is_refused_while_one_runs(corpus_settings, e5):
    build_index(corpus_settings, e5)
    with store.build_lock(corpus_settings.index):
        run = subprocess.run([sys.executable, "-m", "qa", "index", "--rebuild", "--corpus",
                              str(corpus_settings.corpus), "--index", str(corpus_settings.index)],
                             cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=120)
        with pytest.raises(QAError, match="déjà en cours"):
            build_index(corpus_settings, e5)
    assert run.returncode == 1 and "déjà en cours" in run.stderr
    Assistant.open(settings=corpus_settings, encoder=e5)  # untouched


def test_questions_are_answered_while_the_index_is_rebuilt(corpus_settings, e5):
    build_index(corpus_settings, e5)
    service = Service(corpus_settings)
    service._assistant = Assistant.open(settings=corpus_settings, encoder=e5)
    write(corpus_settings.corpus, "kayes.txt", NEW_RELEASE)
    errors, answers = [], []

    def ask_many():
        for _ in range(15):
            try:
                answer = service.ask("Qui a présidé la cérémonie à Ségou ?")
                answers.append("MAIGA" in answer.sentence.text)
            except Exception as error:  # noqa: BLE001 - any failure is the test's failure
                errors.append(error)

    askers = [threading.Thread(target=ask_many) for _ in range(4)]
    builder = threading.Thread(target=lambda: build_index(corpus_settings, e5, rebuild=True))
    builder.start()
    for thread in askers:
        thread.start()
    for thread in [builder, *askers]:
        thread.join(timeout=300)
    assert errors == [] and len(answers) == 60 and all(answers)
    # The next question sees the new release without a restart.
    assert service.ask("Combien de jardins maraîchers à Kayes ?").citations[0].source == "kayes.txt"


def test_a_build_beside_questions_hands_them_the_interpreter_sooner(corpus_settings, e5):
    """While the service builds, the interpreter switches threads every QUESTIONS_FIRST_INTERVAL
    (questions do not wait 5 ms behind the build each time they need the lock); after the build,
    failed or not, the interval is the one before."""
    before = sys.getswitchinterval()
    assert before > QUESTIONS_FIRST_INTERVAL
    service = Service(corpus_settings)
    service._encoder = e5
    seen = []
    service.reindex(lambda stage, done, total: seen.append(sys.getswitchinterval()), credential=OPERATOR)
    assert seen and set(seen) == {QUESTIONS_FIRST_INTERVAL}
    assert sys.getswitchinterval() == before

    def failing(stage, done, total):
        raise OSError(28, "No space left on device")
    with pytest.raises(QAError, match="Indexation impossible"):
        service.reindex(failing, rebuild=True, credential=OPERATOR)
    assert sys.getswitchinterval() == before


@pytest.mark.parametrize("sent,stored", [
    ("../../etc/passwd.txt", "passwd.txt"),
    ("/etc/shadow.md", "shadow.md"),
    ("..\\..\\windows\\evil.pdf", "evil.pdf"),
    (".hidden.txt", "hidden.txt"),
    ("Communiqué <final>.DOCX", "Communiqué _final_.docx"),
])
def test_upload_names_cannot_escape_the_corpus(sent, stored):
    assert safe_name(sent) == stored


@pytest.mark.parametrize("sent", ["script.sh", "noextension", "...", "archive.tar.gz"])
def test_upload_of_unsupported_files_is_refused(sent):
    with pytest.raises(UnreadableFile):
        safe_name(sent)


def test_upload_never_overwrites(tmp_path):
    corpus = tmp_path / "corpus"
    one = write(tmp_path / "in", "release.txt", "Premier communiqué.")
    two = write(tmp_path / "other", "release.txt", "Un autre communiqué, différent.")
    assert add_to_corpus(corpus, one, "../../release.txt", 1000).status == "ajouté"
    again = add_to_corpus(corpus, one, "release.txt", 1000)
    assert (again.source, again.status) == ("release.txt", "déjà présent")
    # A different file under a taken name: nothing stored until the editor chooses; no silent « -2 ».
    asked = add_to_corpus(corpus, two, "release.txt", 1000)
    assert (asked.source, asked.status) == ("release.txt", "nom déjà pris")
    assert sorted(p.name for p in corpus.iterdir()) == ["release.txt"]
    other = add_to_corpus(corpus, two, "release.txt", 1000, existing="keep")
    assert (other.source, other.status) == ("release-2.txt", "renommé")
    assert (corpus / "release.txt").read_text() == "Premier communiqué."
    assert sorted(p.name for p in corpus.iterdir()) == ["release-2.txt", "release.txt"]
    assert not (tmp_path / "release.txt").exists()
    with pytest.raises(LimitExceeded, match="trop gros : 33 octets > limite de 5 octets"):
        add_to_corpus(corpus, two, "big.txt", 5)


def test_upload_can_replace_a_release_by_its_corrected_version(tmp_path):
    corpus = tmp_path / "corpus"
    first = write(tmp_path / "in", "release.txt", "Premier communiqué.")
    corrected = write(tmp_path / "corrected", "release.txt", "Premier communiqué, corrigé.")
    add_to_corpus(corpus, first, "release.txt", 1000)
    replaced = add_to_corpus(corpus, corrected, "release.txt", 1000, existing="replace")
    assert (replaced.source, replaced.status) == ("release.txt", "remplacé")
    assert (corpus / "release.txt").read_text() == "Premier communiqué, corrigé."
    assert sorted(p.name for p in corpus.iterdir()) == ["release.txt"]
    with pytest.raises(ValueError):
        add_to_corpus(corpus, corrected, "release.txt", 1000, existing="overwrite")


def test_upload_then_ask_in_the_running_service(corpus_settings, e5, tmp_path):
    build_index(corpus_settings, e5)
    service = Service(corpus_settings)
    service._assistant = Assistant.open(settings=corpus_settings, encoder=e5)
    sent = write(tmp_path / "upload", "kayes.txt", NEW_RELEASE)
    add_to_corpus(corpus_settings.corpus, sent, "../../kayes.txt", corpus_settings.max_file_bytes)
    report = service.reindex(credential=None)
    assert report.added == ["kayes.txt"] and "1 ajouté," in service.last_report
    assert service.ask("Combien de jardins maraîchers à Kayes ?").citations[0].source == "kayes.txt"
    assert ["Des jardins pour Kayes", "2025-04-04", "Kayes", "kayes.txt"] in [row[:4] for row in service.releases()]


def _opened_beside(service: Service) -> None:
    opening = service._opening  # None once done: a small build opens in a few milliseconds
    if opening is not None:
        opening.join(timeout=60)


def test_a_build_made_elsewhere_is_opened_beside_while_the_previous_one_answers(corpus_settings, e5, capsys):
    """A reader never waits for an open: the build before answers until the new one is open; a new
    build that cannot be opened is said once and the one before goes on answering."""
    build_index(corpus_settings, e5)
    service = Service(corpus_settings)
    service._encoder = e5
    question = "Combien de jardins maraîchers à Kayes ?"
    before = service.ask(question)
    assert "kayes.txt" not in [c.source for c in before.citations]
    write(corpus_settings.corpus, "kayes.txt", NEW_RELEASE)
    build_index(corpus_settings, e5)  # as `python -m qa index` in another process would
    assert "kayes.txt" not in [c.source for c in service.ask(question).citations]  # at once, from the build before
    _opened_beside(service)
    assert service.ask(question).citations[0].source == "kayes.txt"

    (corpus_settings.corpus / "kayes.txt").unlink()
    build_index(corpus_settings, e5)
    broken = store.current_build(corpus_settings.index)
    (broken / "manifest.json").write_text("{", encoding="utf-8")
    assert service.ask(question).citations[0].source == "kayes.txt"
    _opened_beside(service)
    assert service.ask(question).citations[0].source == "kayes.txt" and service._opening is None
    assert capsys.readouterr().err.count("Nouvelle indexation illisible") == 1


def test_watch_follows_the_corpus(corpus_settings, e5):
    build_index(corpus_settings, e5)
    process = subprocess.Popen([sys.executable, "-m", "qa", "index", "--watch", "--interval", "0.3", "--corpus",
                                str(corpus_settings.corpus), "--index", str(corpus_settings.index)],
                               cwd=PROJECT_ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        time.sleep(3)
        write(corpus_settings.corpus, "kayes.txt", NEW_RELEASE)
        deadline = time.time() + 60
        while time.time() < deadline:
            manifest = store.read_manifest(corpus_settings.index)
            if "kayes.txt" in manifest["documents"]:
                break
            time.sleep(0.2)
        assert "kayes.txt" in store.read_manifest(corpus_settings.index)["documents"]
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_a_new_text_pipeline_rereads_documents_but_keeps_vectors(corpus_settings, e5, monkeypatch):
    build_index(corpus_settings, e5)
    import qa.settings
    monkeypatch.setattr(qa.settings, "text_pipeline_version", lambda: "another-version")
    changed = replace(corpus_settings)
    assert not is_up_to_date(changed, e5.info)
    report = build_index(changed, e5)
    assert report.unchanged == sorted([BAMAKO, SEGOU]) and report.added == []
    assert report.embedded == 0 and report.reused == report.passage_count


def test_vectors_and_terms_are_reused_only_for_what_produced_them(corpus_settings, e5, monkeypatch):
    """A vector is reused for the exact text it was computed from, and a passage's terms only under
    the same French analysis: a new header format re-embeds, a new analysis re-analyses."""
    first = build_index(corpus_settings, e5)
    import qa.indexing.text
    import qa.reading.lexical
    import qa.settings
    original = qa.indexing.text.embedded_text
    monkeypatch.setattr(qa.indexing.text, "embedded_text", lambda document, passage: "Communiqué\n" + original(document, passage))
    monkeypatch.setattr(qa.settings, "text_pipeline_version", lambda: "new-header")
    reheaded = build_index(corpus_settings, e5)
    assert reheaded.embedded == reheaded.passage_count == first.passage_count and reheaded.reused == 0

    monkeypatch.setattr(qa.indexing.text, "embedded_text", original)
    monkeypatch.setattr(qa.indexing.text, "terms", lambda text: ["analyse-v2"] + qa.reading.lexical.terms(text))
    monkeypatch.setattr(qa.settings, "text_pipeline_version", lambda: "new-analysis")
    reanalysed = build_index(corpus_settings, e5)
    assert reanalysed.embedded == reanalysed.passage_count  # the header-less texts were not kept
    built = store.load(corpus_settings.index)
    assert all(passage_terms[0] == "analyse-v2" for passage_terms in store.load_terms(built))
    again = build_index(corpus_settings, e5, rebuild=False)
    assert again.embedded == 0 and again.reused == again.passage_count


def test_upload_names_are_cut_by_bytes_not_characters():
    name = safe_name("報告書" * 100 + ".txt")  # 900 bytes sent (a browser may send that)
    assert name.endswith(".txt") and len(name.encode("utf-8")) <= 255 - len("-999")
    assert safe_name("é" * 300 + ".md").encode("utf-8").decode("utf-8")  # never half a character


def test_uploads_are_read_before_they_are_stored(corpus_settings, e5, tmp_path):
    """Each file gets one honest line; a refused one leaves nothing in the corpus."""
    build_index(corpus_settings, e5)
    service = Service(corpus_settings)
    service._assistant = Assistant.open(settings=corpus_settings, encoder=e5)
    long_name = "報告書" * 100 + ".txt"
    sent = [(write(tmp_path / "in", "kayes.txt", NEW_RELEASE), long_name),
            (write(tmp_path / "in", "x.pdf", b"%PDF-1.4 ceci n'est pas un PDF"), "x.pdf"),
            (write(tmp_path / "in", "vide.txt", b""), "vide.txt"),
            (write(tmp_path / "in", "long.txt", "Un long texte. " * 100), "long.txt")]
    limited = Service(replace(corpus_settings, max_release_passages=1), assistant=service._assistant)
    received = {r.name: r for r in limited.add_files(sent, credential=None)}
    assert received[long_name].status == "ajouté" and len(received[long_name].source.encode()) <= 255
    assert received["x.pdf"].status == "refusé" and "PDF illisible" in received["x.pdf"].reason
    assert received["vide.txt"].status == "refusé" and "vide" in received["vide.txt"].reason
    assert received["long.txt"].status == "refusé" and "trop de passages" in received["long.txt"].reason
    assert sorted(p.name for p in corpus_settings.corpus.iterdir()) == sorted(
        [BAMAKO, SEGOU, received[long_name].source])
    lines = limited.last_report.splitlines()
    assert lines[0] == "Fichiers reçus :" and len([line for line in lines[1:5] if line.strip()]) == 4
    assert f"  refusé        x.pdf : {received['x.pdf'].reason}" in lines


def test_an_upload_during_a_rebuild_waits_for_it(corpus_settings, e5, tmp_path):
    build_index(corpus_settings, e5)
    service = Service(corpus_settings)
    service._assistant = Assistant.open(settings=corpus_settings, encoder=e5)
    rebuild = threading.Thread(target=lambda: service.reindex(rebuild=True, credential=None))
    rebuild.start()
    deadline = time.monotonic() + 30
    while not service._build_lock.locked() and time.monotonic() < deadline:
        time.sleep(0.01)
    received = service.add_files([(write(tmp_path / "in", "kayes.txt", NEW_RELEASE), "kayes.txt")], credential=None)
    rebuild.join()
    assert [r.status for r in received] == ["ajouté"]
    assert "kayes.txt" in store.read_manifest(corpus_settings.index)["documents"]
    assert service.ask("Combien de jardins maraîchers à Kayes ?").citations[0].source == "kayes.txt"
