"""The Gradio app, launched for real on a free port and called with gradio_client."""
from __future__ import annotations

import pytest
from gradio_client import Client

from conftest import free_port
from qa.chat import page as chat_page
from qa.service import NOTHING_INDEXED, Service
from qa.answering.answer import Answer, Citation, Sentence
from qa.chat.display import answer_html, inert


@pytest.fixture(scope="module")
def running_app(seed_index, seed_settings, assistant):
    service = Service(seed_settings)
    service._assistant = assistant  # the session's assistant: same index, model already loaded
    demo = chat_page.build_ui(service)
    demo.queue()
    port = free_port()
    demo.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True)
    yield f"http://127.0.0.1:{port}/"
    demo.close()


def test_ask_endpoint_returns_answer_and_citations(running_app):
    client = Client(running_app, verbose=False)
    data = client.predict("Quel était le thème de la Journée internationale des migrants en 2024 ?", 3,
                          api_name="/ask")
    assert not data["abstained"]
    assert "Migration, genre et changements climatiques" in data["answer"]["text"]
    assert len(data["citations"]) == 3
    assert data["citations"][0]["date"] == "2024-12-19"


def test_ask_endpoint_takes_the_history(running_app):
    client = Client(running_app, verbose=False)
    data = client.predict("Et parmi eux, combien ont terminé leur réintégration ?", 3,
                          ["Combien de migrants maliens sont rentrés depuis 2017 ?"], api_name="/ask")
    assert data["understood_as"].startswith("Parmi eux") and "33 000" in data["answer"]["text"]
    alone = client.predict("Qui a présidé la cérémonie à Ségou ?", 3, api_name="/ask")
    assert alone["understood_as"] is None


def test_ask_endpoint_blank_question(running_app):
    data = Client(running_app, verbose=False).predict("   ", 5, api_name="/ask")
    assert data["citations"] == [] and data["message"].startswith("Posez une question")


def test_main_serves_the_seeds_and_reports_status(seed_index, seed_settings):
    port = free_port()
    assert chat_page.main(seed_settings, host="127.0.0.1", port=port, block=False) == 0
    client = Client(f"http://127.0.0.1:{port}/", verbose=False)
    data = client.predict("Combien d'États membres compte l'OIM ?", 2, api_name="/ask")
    assert "175" in data["answer"]["text"]
    assert "2 communiqués indexés" in Service(seed_settings).status()


def test_empty_corpus_starts_and_says_nothing_is_indexed(tmp_path):
    from qa.settings import Settings
    (tmp_path / "corpus").mkdir()
    settings = Settings(corpus=tmp_path / "corpus", index=tmp_path / "index")
    port = free_port()
    assert chat_page.main(settings, host="127.0.0.1", port=port, block=False) == 0
    assert Service(settings).status() == NOTHING_INDEXED
    client = Client(f"http://127.0.0.1:{port}/", verbose=False)
    with pytest.raises(Exception, match="Aucun document"):
        client.predict("Qui a présidé la cérémonie ?", 2, api_name="/ask")


def test_chat_bubble_escapes_document_text():
    text = 'Avant. <script>alert(1)</script> <img src=x onerror=alert(2)> ![x](http://evil.example/a.png) Après.'
    citation = Citation(1, "d#0", "d", "d.txt", "<b>Titre</b>", "2024-01-01", None, text, 0, len(text), 0.8,
                        (7, len(text)))
    answer = Answer("q", Sentence(text[7:], "d", 7, len(text)), [citation], abstained=False, message=text[7:])
    rendered = answer_html(answer)
    assert "<script" not in rendered and "<img" not in rendered and "<b>Titre" not in rendered
    assert "](http" not in rendered and "![" not in rendered
    assert "<mark>" in rendered and "[1]" in rendered
    assert inert("a < b") == "a &lt; b"
    assert "Compris" not in rendered
    followed = answer_html(Answer("Et à <b>Gao</b> ?", answer.sentence, [citation], abstained=False, message="",
                                  understood_as="Combien de migrants à <b>Gao</b> ?"))
    assert "Compris : Combien de migrants à &lt;b&gt;Gao&lt;/b&gt; ?" in followed


def test_three_cards_at_once_the_others_folded_and_no_constant_relevance(assistant):
    answer = assistant.ask("Qui a présidé la cérémonie à Ségou ?", k=5)
    html = answer_html(answer, floor=0.0)
    shown, _, folded = html.partition('<details class="more-citations">')
    assert shown.count('class="citation"') == 3 and folded.count('class="citation"') == 2
    assert "Autres passages (2)" in folded
    assert "100 %" not in html and "confiance" in shown
    strict = answer_html(answer, floor=1.0)  # nothing reaches the floor: only the answer's own card stays
    assert strict.count('class="citation"') == 1 and "Autres passages" not in strict


def test_the_page_speaks_french_typography_plurals_and_no_english_gloss():
    from qa.chat.page import french_counts, french_number, french_only, releases_html
    from qa.wording import plural
    assert french_only("refusé x.pdf : PDF illisible ou endommagé (corrupt PDF: Stream has ended unexpectedly)") \
        == "refusé x.pdf : PDF illisible ou endommagé"
    assert french_only("trop de passages (1200 > 1000)") == "trop de passages (1200 > 1000)"
    assert french_only("Organisation internationale pour les migrations (OIM)").endswith("(OIM)")
    assert french_counts("Index construit : 1 documents, 7 passages.\n  1 ajoutés, 0 retirés ; 1 passages vectorisés") \
        == "Index construit\u00a0: 1 document, 7 passages.\n  1 ajouté, 0 retiré\u00a0; 1 passage vectorisé"
    assert french_number(52.4288) == "52,4" and french_number(50) == "50"
    assert plural(1, "passage") == "1 passage" and plural(12000, "passage") == "12\u202f000 passages"
    listed = releases_html([["Des jardins à <Gao>", "2025-05-05", "Gao", "gao.txt", 1, ""],
                            ["Des jardins à Gao", "2025-05-01", "Gao", "gao-v1.txt", 2, "remplacé par gao.txt"]],
                           {"x.pdf": "PDF illisible (corrupt PDF: EOF)"})
    assert "Des jardins à &lt;Gao&gt;" in listed and "5 mai 2025 · Gao · 1 passage · indexé" in listed
    assert "1er mai 2025 · Gao · 2 passages · remplacé par gao.txt" in listed  # a superseded version says so
    assert "ignoré\u00a0: PDF illisible" in listed and "corrupt" not in listed


def test_the_report_follows_a_build_made_elsewhere(tmp_path, e5):
    """The Documents tab reads the last build on disk: a `qa index` made after the app's own build shows."""
    from qa.indexing.build import build_index
    from qa.settings import Settings
    from conftest import write
    corpus = tmp_path / "corpus"
    write(corpus, "a.txt", "Un puits à Gao\nGao, le 6 mai 2025 – Huit puits pastoraux ont été creusés à Gao.")
    settings = Settings(corpus=corpus, index=tmp_path / "index")
    service = Service(settings)
    service._encoder = e5
    service.reindex(credential=None)
    assert service.report().startswith("Index construit")
    write(corpus, "b.txt", "Un centre à Kayes\nKayes, le 8 mai 2025 – Le centre de transit de Kayes a été rénové.")
    build_index(settings, e5)  # as `python -m qa index` in another process would
    assert service.report().startswith("Dernière indexation") and "2 documents" in service.report()
    assert service.status().startswith("2 communiqués indexés, ") and "modèle" not in service.status()
