"""Readers and editors over HTTP: the real Gradio app on 127.0.0.1, its service configured as served
beyond loopback (--host 0.0.0.0), driven with gradio_client as a script would."""
from __future__ import annotations

import shutil
import threading
import time
from pathlib import Path

import httpx
import pytest
from gradio_client import Client, handle_file

from conftest import SEGOU, free_port, write
from qa.access import Access
from qa.answering.assistant import Assistant
from qa.chat import page as chat_page
from qa.indexing import store
from qa.indexing.build import build_index
from qa.service import MAX_K, Service
from qa.settings import PROJECT_ROOT, Settings

PASSWORD = "mot-de-passe-des-éditeurs"
WRONG = "Mot de passe d'éditeur absent ou incorrect"
KAYES = ("Des jardins pour Kayes\nKayes, le 4 avril 2025 – Quarante jardins maraîchers ont été aménagés à Kayes "
         "pour les femmes des familles de migrants de retour, avec des pompes solaires fournies par l’OIM.")
GAO = ("Un centre rénové à Gao\nGao, le 8 mai 2025 – Le centre de transit de Gao, qui accueille les migrants en "
       "détresse, a été rénové et équipé de douze lits supplémentaires.")


def launch(tmp_path_factory, e5, access: Access):
    root = tmp_path_factory.mktemp("network")
    corpus = root / "corpus"
    corpus.mkdir()
    shutil.copy(PROJECT_ROOT / "corpus" / SEGOU, corpus / SEGOU)
    settings = Settings(corpus=corpus, index=root / "index", max_file_bytes=1_000_000)
    build_index(settings, e5)
    service = Service(settings, access=access)
    service._assistant = Assistant.open(settings=settings, encoder=e5)
    port = free_port()
    demo = chat_page.serve(service, "127.0.0.1", port, block=False)  # bound to loopback, served as beyond it
    return demo, f"http://127.0.0.1:{port}/", service


@pytest.fixture(scope="module")
def network_app(tmp_path_factory, e5):
    demo, url, service = launch(tmp_path_factory, e5, Access(host="0.0.0.0", password=PASSWORD))
    yield url, service
    demo.close()


@pytest.fixture(scope="module")
def read_only_app(tmp_path_factory, e5):
    demo, url, service = launch(tmp_path_factory, e5, Access(host="0.0.0.0"))
    yield url, service
    demo.close()


def corpus_names(service) -> list[str]:
    return sorted(path.name for path in service.settings.corpus.iterdir())


def left_in_gradio(name: str) -> list[Path]:
    """Gradio's temporary copies of an uploaded file, by its (unique) name."""
    return list(chat_page.upload_folder().rglob(name))


def test_readers_ask_without_a_password(network_app):
    url, _ = network_app
    data = Client(url, verbose=False).predict("Qui a présidé la cérémonie à Ségou ?", 2, api_name="/ask")
    assert "Abdoulaye MAIGA" in data["answer"]["text"]


@pytest.mark.parametrize("password", ["", "mauvais"])
def test_upload_and_reindex_without_the_password_are_refused_and_leave_nothing(network_app, tmp_path, password):
    url, service = network_app
    before = corpus_names(service)
    live = store.current_build(service.settings.index)
    sent = write(tmp_path, f"refus-{password or 'vide'}-8841.txt", KAYES)
    client = Client(url, verbose=False)
    with pytest.raises(Exception, match=WRONG):
        client.predict([handle_file(str(sent))], password, api_name="/upload")
    with pytest.raises(Exception, match=WRONG):
        client.predict(password, api_name="/reindex")
    assert corpus_names(service) == before and left_in_gradio(sent.name) == []
    assert store.current_build(service.settings.index) == live


def test_editors_upload_and_each_file_gets_one_honest_line(network_app, tmp_path):
    url, service = network_app
    files = [write(tmp_path, "kayes-jardins.txt", KAYES), write(tmp_path, "x.pdf", b"%PDF-1.4 pas un vrai PDF"),
             write(tmp_path, "vide.txt", b"")]
    result = Client(url, verbose=False).predict([handle_file(str(f)) for f in files], PASSWORD, api_name="/upload")
    lines = {row["name"]: row for row in result["files"]}
    assert lines["kayes-jardins.txt"]["status"] == "ajouté"
    assert lines["x.pdf"]["status"] == "refusé" and "PDF illisible" in lines["x.pdf"]["reason"]
    assert lines["vide.txt"]["status"] == "refusé" and "vide" in lines["vide.txt"]["reason"]
    assert corpus_names(service) == sorted([SEGOU, "kayes-jardins.txt"])  # nothing refused is kept
    assert "refusé        x.pdf : PDF illisible" in result["report"] and "ignoré" not in result["report"]
    assert all(left_in_gradio(f.name) == [] for f in files)
    client = Client(url, verbose=False)
    answer = client.predict("Combien de jardins maraîchers à Kayes ?", 3, api_name="/ask")
    assert answer["citations"][0]["source"] == "kayes-jardins.txt"
    assert "Index construit" in client.predict(PASSWORD, api_name="/reindex")


def test_a_path_the_upload_route_did_not_receive_is_refused(network_app):
    url, service = network_app
    before = corpus_names(service)
    with pytest.raises(Exception, match="n'a pas été reçu"):
        Client(url, verbose=False).predict([{"path": "/etc/passwd"}], PASSWORD, api_name="/upload")
    assert corpus_names(service) == before


def test_an_upload_during_a_build_waits_for_it(network_app, tmp_path):
    """Another process's build holds the index's lock for two seconds: the upload waits, then indexes."""
    url, service = network_app
    sent = write(tmp_path, "gao-centre.txt", GAO)
    held = threading.Event()

    def other_build():
        with store.build_lock(service.settings.index):
            held.set()
            time.sleep(2)
    thread = threading.Thread(target=other_build)
    thread.start()
    held.wait(10)
    started = time.monotonic()
    result = Client(url, verbose=False).predict([handle_file(str(sent))], PASSWORD, api_name="/upload")
    thread.join()
    assert time.monotonic() - started >= 1.5
    assert result["files"][0]["status"] == "ajouté" and "déjà en cours" not in result["report"]
    assert "gao-centre.txt" in store.read_manifest(service.settings.index)["documents"]


def test_ask_clamps_k_and_refuses_wrong_types(network_app):
    url, _ = network_app
    client = Client(url, verbose=False)
    data = client.predict("Quel était le thème de la Journée internationale des migrants ?", 10**9, api_name="/ask")
    assert 1 <= len(data["citations"]) <= MAX_K
    assert len(client.predict("Qui a présidé la cérémonie à Ségou ?", 0, api_name="/ask")["citations"]) == 1
    with pytest.raises(Exception, match="La question doit être un texte"):
        client.predict(123, 5, api_name="/ask")
    with pytest.raises(Exception, match=r"k\) doit être un nombre entier"):
        client.predict("Qui a présidé la cérémonie ?", "beaucoup", api_name="/ask")


def test_a_read_only_app_says_so_and_refuses_every_edit(read_only_app, tmp_path):
    url, service = read_only_app
    client = Client(url, verbose=False)
    sent = write(tmp_path, "lecture-seule-5520.txt", KAYES)
    with pytest.raises(Exception, match="lecture seule"):
        client.predict([{"path": str(sent)}], "", api_name="/upload")
    with pytest.raises(Exception, match="lecture seule"):
        client.predict("", api_name="/reindex")
    # Gradio's own upload route takes no file at all, and the page hides the upload form.
    response = httpx.post(url + "gradio_api/upload", files={"files": (sent.name, sent.read_bytes())})
    assert response.status_code >= 400 and left_in_gradio(sent.name) == []
    components = {c.get("props", {}).get("elem_id"): c["props"] for c in client.config["components"]}
    assert "lecture seule" in components["access"]["value"]
    assert components["add"]["visible"] is False and components["reindex"]["visible"] is False
    assert corpus_names(service) == [SEGOU]
    assert "Abdoulaye MAIGA" in client.predict("Qui a présidé la cérémonie à Ségou ?", 2,
                                               api_name="/ask")["answer"]["text"]
