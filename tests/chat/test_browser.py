"""The chat in a real browser (Debian's chromium driven by Playwright): answers, citation cards,
the whole release opened on its passage, and untrusted release text staying inert."""
from __future__ import annotations

import shutil
import socket
from pathlib import Path

import pytest

from qa.chat import page as chat_page
from qa.service import Service
from conftest import SEGOU, write
from qa.answering.assistant import Assistant
from qa.indexing.build import build_index
from qa.settings import PROJECT_ROOT, Settings

CHROMIUM = Path("/usr/bin/chromium")
sync_api = pytest.importorskip("playwright.sync_api")
pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed "
                                                               "(.ci/run installs it: apt-get install -y chromium)")

HOSTILE = ("Alerte à Tessalit\nTessalit, le 2 février 2025 – Le convoi humanitaire est arrivé à Tessalit "
           "<script>alert(1)</script> avec des vivres <img src=x onerror=alert(2)> pour les déplacés "
           "![pixel](http://evil.example/pixel.png) et des couvertures <b>épaisses</b>.")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def served(tmp_path_factory, e5):
    root = tmp_path_factory.mktemp("browser")
    corpus = root / "corpus"
    corpus.mkdir()
    shutil.copy(PROJECT_ROOT / "corpus" / SEGOU, corpus / SEGOU)
    write(corpus, "tessalit.txt", HOSTILE)
    settings = Settings(corpus=corpus, index=root / "index")
    build_index(settings, e5)
    service = Service(settings)
    service._assistant = Assistant.open(settings=settings, encoder=e5)
    demo = chat_page.build_ui(service)
    demo.queue()
    port = free_port()
    demo.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True, css=chat_page.CSS,
                js=chat_page.JS)
    yield f"http://127.0.0.1:{port}/"
    demo.close()


@pytest.fixture()
def page(served):
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update"])
        page = browser.new_page(viewport={"width": 1200, "height": 1400})
        page.dialogs, page.foreign_requests = [], []
        page.on("dialog", lambda dialog: (page.dialogs.append(dialog.message), dialog.dismiss()))
        page.on("request", lambda request: page.foreign_requests.append(request.url)
                if "127.0.0.1" not in request.url and not request.url.startswith(("data:", "blob:")) else None)
        page.goto(served)
        yield page
        browser.close()


def ask(page, question: str):
    """Ask in the chat; returns the first citation card of the answer."""
    count = page.locator(".citation").count()
    page.fill("#question textarea", question)
    page.click("#send")
    page.wait_for_function(f"document.querySelectorAll('.citation').length > {count}", timeout=60_000)
    return page.locator(".citation").nth(count)


def test_answer_citations_and_the_whole_release(page, tmp_path):
    card = ask(page, "Qui a présidé la cérémonie à Ségou ?")
    answer = page.locator(".answer").last
    assert "Abdoulaye MAIGA" in answer.inner_text() and "[1]" in answer.inner_text()
    assert "Journée Internationale des Migrants 2024" in card.inner_text()
    assert "19 décembre 2024" in card.inner_text() and SEGOU in card.inner_text()
    assert "Abdoulaye MAIGA" in card.locator(".citation-text mark").inner_text()
    card.locator(".citation-full summary").click()
    cited = card.locator(".release-text .cited-passage")
    cited.wait_for(state="visible")
    assert "Abdoulaye MAIGA" in cited.locator("mark").inner_text()
    assert card.locator(".release-text").inner_text().startswith("Journée Internationale des Migrants 2024")
    reference = card.locator(".reference").inner_text()
    assert "« Journée Internationale des Migrants 2024" in reference and "Ségou" in reference
    page.screenshot(path=str(tmp_path / "chat.png"))
    assert (tmp_path / "chat.png").stat().st_size > 10_000


def test_hostile_release_text_stays_inert(page, tmp_path):
    card = ask(page, "Qu'est-ce que le convoi humanitaire a apporté à Tessalit ?")
    text = card.locator(".citation-text").inner_text()
    assert "<script>alert(1)</script>" in text and "<img src=x onerror=alert(2)>" in text
    assert "![pixel](http://evil.example/pixel.png)" in text and "<b>épaisses</b>" in text
    chat = page.locator("#chat")
    assert chat.locator("script").count() == 0
    assert chat.locator("img[src='x'], img[src*='evil.example']").count() == 0
    assert chat.locator(".citation-text b").count() == 0
    page.wait_for_timeout(500)
    assert page.dialogs == []
    assert not any("evil.example" in url for url in page.foreign_requests)
    page.screenshot(path=str(tmp_path / "hostile.png"))


def test_abstention_shows_possibly_useful_passages(page):
    ask(page, "Quelle est la recette du tiramisu ?")
    last = page.locator("#chat .message").last.inner_text() if page.locator("#chat .message").count() else \
        page.locator("#chat").inner_text()
    assert "Je n'ai trouvé aucun passage qui réponde à cette question." in last
    assert "Passages seulement proches de la question" in last  # shown, and said to be only close


def test_upload_panel_adds_a_release_that_is_answered_at_once(page, tmp_path):
    release = write(tmp_path, "gao-jardins.txt", "Des jardins à Gao\nGao, le 5 mai 2025 – Soixante jardins "
                    "maraîchers irrigués par des pompes solaires ont été remis aux femmes rapatriées de Gao.")
    page.get_by_role("tab", name="Ajouter des documents").click()
    page.locator("#upload-files input[type=file]").set_input_files(str(release))
    page.wait_for_timeout(1000)
    page.click("#add")
    page.wait_for_function("document.querySelector('#report textarea').value.includes('gao-jardins.txt')",
                           timeout=120_000)
    assert "ajouté" in page.locator("#report textarea").input_value()
    page.get_by_role("tab", name="Questions").click()
    first = ask(page, "Combien de jardins maraîchers ont été remis aux femmes rapatriées de Gao ?")
    assert "gao-jardins.txt" in first.inner_text()
    assert "Soixante jardins" in page.locator(".answer").last.inner_text()


def test_a_follow_up_shows_how_it_was_understood_and_can_be_asked_alone(page):
    ask(page, "Combien de migrants maliens sont rentrés depuis 2017 ?")
    assert page.locator(".understood").count() == 0
    ask(page, "Et parmi eux, combien ont terminé leur réintégration ?")
    understood = page.locator(".understood").last.inner_text()
    assert understood.startswith("Compris : Parmi eux, combien ont terminé leur réintégration ?")
    assert "migrants maliens" in understood
    assert "33 000" in page.locator(".answer").last.inner_text()
    alone = page.get_by_role("button", name="Reposer sans le contexte")
    assert alone.count() == 1
    count = page.locator(".citation").count()
    alone.click()
    page.wait_for_function(f"document.querySelectorAll('.citation').length > {count}", timeout=60_000)
    assert page.locator(".understood").count() == 1  # the new answer was read alone
    messages = page.locator("#chat").inner_text()
    assert messages.count("Et parmi eux, combien ont terminé leur réintégration ?") >= 2


EDITOR_PASSWORD = "clé-des-éditeurs"


@pytest.fixture(scope="module")
def served_on_the_network(tmp_path_factory, e5):
    """The page bound to 127.0.0.1, its service configured as served beyond loopback with a password."""
    from qa.access import Access
    root = tmp_path_factory.mktemp("network-browser")
    corpus = root / "corpus"
    corpus.mkdir()
    shutil.copy(PROJECT_ROOT / "corpus" / SEGOU, corpus / SEGOU)
    settings = Settings(corpus=corpus, index=root / "index")
    build_index(settings, e5)
    service = Service(settings, access=Access(host="0.0.0.0", password=EDITOR_PASSWORD))
    service._assistant = Assistant.open(settings=settings, encoder=e5)
    port = free_port()
    demo = chat_page.serve(service, "127.0.0.1", port, block=False)
    yield f"http://127.0.0.1:{port}/", settings
    demo.close()


def test_the_documents_tab_asks_for_the_editor_password_once(served_on_the_network, tmp_path):
    url, settings = served_on_the_network
    release = write(tmp_path, "gao-puits.txt", "Des puits à Gao\nGao, le 6 mai 2025 – Huit puits pastoraux ont été "
                    "creusés pour les éleveurs de retour dans le cercle de Gao.")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM),
                                             args=["--headless", "--no-sandbox", "--disable-gpu"])
        page = browser.new_page(viewport={"width": 1200, "height": 1400})
        page.goto(url)
        page.get_by_role("tab", name="Ajouter des documents").click()
        assert "mot de passe d'éditeur" in page.locator("#access").inner_text()
        # Without the password, the server refuses the upload: nothing is stored.
        page.locator("#upload-files input[type=file]").set_input_files(str(release))
        page.wait_for_timeout(1000)
        page.click("#add")
        page.get_by_text("Mot de passe d'éditeur absent ou incorrect").first.wait_for(timeout=30_000)
        assert sorted(p.name for p in settings.corpus.iterdir()) == [SEGOU]
        page.fill("#editor-password input", "mauvais")
        page.click("#sign-in")
        page.get_by_text("Mot de passe d'éditeur absent ou incorrect").nth(1).wait_for(timeout=30_000)
        # Signed in once, the session may upload and reindex.
        page.fill("#editor-password input", EDITOR_PASSWORD)
        page.click("#sign-in")
        page.get_by_text("Mot de passe accepté").wait_for(timeout=30_000)
        assert page.locator("#editor-password input").input_value() == ""
        page.locator("#upload-files input[type=file]").set_input_files(str(release))
        page.wait_for_timeout(1000)
        page.click("#add")
        page.wait_for_function("document.querySelector('#report textarea').value.includes('gao-puits.txt')",
                               timeout=120_000)
        assert "ajouté        gao-puits.txt" in page.locator("#report textarea").input_value()
        page.get_by_role("tab", name="Sources").click()
        page.click("#reindex")
        page.wait_for_function("document.querySelector('#report textarea').value.startsWith('Index construit')",
                               timeout=120_000)
        browser.close()
    assert sorted(p.name for p in settings.corpus.iterdir()) == sorted([SEGOU, "gao-puits.txt"])
    assert list(chat_page.upload_folder().rglob("gao-puits.txt")) == []  # Gradio's copies are gone
