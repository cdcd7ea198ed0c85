"""The chat in a real browser (Debian's chromium driven by Playwright): answers, citation cards,
the whole release opened on its passage, and untrusted release text staying inert."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from qa.chat import page as chat_page
from qa.service import Service
from conftest import SEGOU, free_port, write
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


@pytest.fixture(scope="module")
def served_app(tmp_path_factory, e5):
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
                js=chat_page.JS, **chat_page.LAUNCH)
    yield f"http://127.0.0.1:{port}/", settings
    demo.close()


@pytest.fixture(scope="module")
def served(served_app):
    return served_app[0]


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
    page.get_by_role("tab", name="Ajouter").click()
    page.locator("#upload-files input[type=file]").set_input_files(str(release))
    page.wait_for_timeout(1000)
    page.click("#add")
    page.wait_for_function("document.querySelector('#received textarea').value.includes('gao-jardins.txt')",
                           timeout=120_000)
    assert "ajouté" in page.locator("#received textarea").input_value()
    page.get_by_role("tab", name="Documents").click()
    assert "Des jardins à Gao" in page.locator("#releases").inner_text()  # its title, not its file name
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
        page.get_by_role("tab", name="Ajouter").click()
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
        page.wait_for_function("document.querySelector('#received textarea').value.includes('gao-puits.txt')",
                               timeout=120_000)
        assert "ajouté        gao-puits.txt" in page.locator("#received textarea").input_value()
        page.get_by_role("tab", name="Documents").click()
        page.click("#reindex")
        page.wait_for_function("document.querySelector('#report textarea').value.startsWith('Index construit')",
                               timeout=120_000)
        browser.close()
    assert sorted(p.name for p in settings.corpus.iterdir()) == sorted([SEGOU, "gao-puits.txt"])
    assert list(chat_page.upload_folder().rglob("gao-puits.txt")) == []  # Gradio's copies are gone


# Gradio's own strings, and ours before they were French: none may show, whatever the browser's language.
ENGLISH = ["Drop File Here", "Click to Upload", "processing", "Error", "Built with", "Use via API", "Settings",
           "Submit", "Clear", "Examples", "Copy", "More tabs", "Like", "Loading", "passages)", "(modèle"]


@pytest.mark.parametrize("width", [1280, 390])
@pytest.mark.parametrize("locale", ["fr-FR", "en-US"])
def test_a_french_reader_sees_the_answer_first_on_a_desktop_and_a_phone(served_app, locale, width, tmp_path):
    url, settings = served_app
    height = 844 if width < 600 else 900
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM),
                                             args=["--headless", "--no-sandbox", "--disable-gpu"])
        context = browser.new_context(locale=locale, viewport={"width": width, "height": height},
                                      permissions=["clipboard-read", "clipboard-write"])
        page = context.new_page()
        page.goto(url)
        page.locator("#question textarea").wait_for()
        page.wait_for_function("document.documentElement.lang === 'fr'")
        page.wait_for_timeout(800)
        # The page opens at the top, question box on screen, tabs all reachable, no sideways scroll.
        assert page.evaluate("window.scrollY") == 0
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        box = page.locator("#question textarea").bounding_box()
        assert box["y"] >= 0 and box["y"] + box["height"] <= height
        for tab in ("Questions", "Documents", "Ajouter"):
            assert page.get_by_role("tab", name=tab).is_visible()
        # After an answer, its sentence is on screen; at most three cards show.
        ask(page, "Qui a présidé la cérémonie à Ségou ?")
        ask(page, "Combien de migrants maliens ont été aidés à retourner chez eux depuis 2017 ?")
        page.wait_for_timeout(800)
        assert "44 000" in page.locator(".answer").last.inner_text()
        top, bottom = page.evaluate("(() => { const r = document.querySelectorAll('.answer')"
                                    "[document.querySelectorAll('.answer').length - 1].getBoundingClientRect();"
                                    " return [r.top, r.bottom]; })()")
        assert 0 <= top and bottom <= height, (top, bottom, height)
        assert page.locator(".citation:visible").count() <= 3
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        page.screenshot(path=str(tmp_path / "answer.png"))
        # « Copier la citation »: the quote and its reference.
        page.locator(".copy-citation").first.click()
        page.wait_for_function("window.__lastCopied && window.__lastCopied.length > 0")
        copied = page.evaluate("window.__lastCopied")
        assert copied.startswith("«\u00a0") and "Organisation internationale pour les migrations (OIM)" in copied
        # An abstention claims no high confidence.
        ask(page, "Quelle est la recette du tiramisu ?")
        last = page.locator("#chat .message-row").last.inner_text()
        assert "Passages seulement proches de la question" in last and "confiance forte" not in last
        # No English UI string on any tab.
        texts = [page.locator("body").inner_text()]
        for tab in ("Documents", "Ajouter"):
            page.get_by_role("tab", name=tab).click()
            page.wait_for_timeout(400)
            texts.append(page.locator("body").inner_text())
        labels = page.evaluate("[...document.querySelectorAll('[aria-label]')].map(e => e.getAttribute('aria-label'))")
        for english in ENGLISH:
            assert not any(english in text for text in texts), english
            assert not any(english in label for label in labels), (english, [x for x in labels if english in x])
        assert "Déposez" in texts[-1]
        browser.close()


def test_a_like_is_stored_with_a_comment_and_exported(served_app, tmp_path):
    from qa.__main__ import main
    from qa.feedback import FeedbackLog
    url, settings = served_app
    before = len(FeedbackLog(settings.index).records())
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM),
                                             args=["--headless", "--no-sandbox", "--disable-gpu"])
        page = browser.new_page(locale="en-US", viewport={"width": 1280, "height": 900})
        page.goto(url)
        ask(page, "Qui a présidé la cérémonie à Ségou ?")
        page.locator("#chat button[aria-label=\"J'aime\"]").last.click()
        page.get_by_text("Avis enregistré").wait_for(timeout=30_000)
        page.fill("#comment textarea", "Réponse juste ; merci !")
        page.click("#send-comment")
        page.get_by_text("commentaire enregistré").wait_for(timeout=30_000)
        # « Exporter la conversation »: Markdown with numbered references.
        with page.expect_download() as download:
            page.click("#export")
        markdown = Path(download.value.path()).read_text(encoding="utf-8")
        assert "## 1. Qui a présidé la cérémonie à Ségou ?" in markdown and "## Références" in markdown
        assert "Abdoulaye MAIGA" in markdown and "\n1. «" in markdown
        browser.close()
    records = FeedbackLog(settings.index).records()
    assert len(records) == before + 1
    assert records[-1]["rating"] == "up" and records[-1]["question"] == "Qui a présidé la cérémonie à Ségou ?"
    assert "Abdoulaye MAIGA" in records[-1]["answer"] and records[-1]["comment"] == "Réponse juste ; merci !"
    assert records[-1]["citations"][0]["source"] == SEGOU
    out = tmp_path / "out.csv"
    import contextlib, io
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        assert main(["feedback", "--csv", "--index", str(settings.index), "--corpus", str(settings.corpus)]) == 0
    out.write_text(buffer.getvalue(), encoding="utf-8")
    assert "Réponse juste ; merci !" in out.read_text(encoding="utf-8") and SEGOU in out.read_text(encoding="utf-8")
