"""Reading a corpus that mixes every format, encoding and kind of bad file."""
from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from conftest import BAMAKO, SEGOU, write
from qa.answering.assistant import Assistant
from qa.reading.documents import read_corpus, read_document
from qa.reading.listing import CorpusFile, list_corpus
from qa.reading.formats import UnreadableFile, decode, extract, join_pdf_lines
from qa.indexing.build import build_index
from qa.settings import PROJECT_ROOT, Settings

HTML_PAGE = """<!DOCTYPE html><html lang="fr"><head><meta charset="utf-8">
<title>Les pêcheurs de Mopti | OIM Mali</title></head><body>
<nav><ul><li><a href="/">Accueil</a></li><li><a href="/a-propos">À propos</a></li>
<li><a href="/agir">Agir</a></li><li><a href="/travailler">Travailler avec nous</a></li></ul></nav>
<header><p>Menu principal</p></header>
<main><article>
<h1>Les pêcheurs de Mopti reçoivent des pirogues motorisées</h1>
<p>Mopti, le 3 mars 2023 – Quarante pêcheurs de retour de Libye ont reçu des pirogues motorisées et des filets
dans le cadre d'un projet de réintégration communautaire mené par l'OIM avec la mairie de Mopti.</p>
<p>Selon le maire, la pêche fait vivre plus de la moitié des familles du quartier de Taïkiri, où les jeunes
revenus de migration peinaient à retrouver un revenu stable.</p>
</article></main>
<footer><p>© OIM 2023 – Mentions légales – Plan du site</p></footer>
</body></html>"""


def make_pdf(text_lines: list[str], password: str | None = None) -> bytes:
    from fpdf import FPDF
    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", size=11)
    for line in text_lines:
        pdf.multi_cell(pdf.epw, 6, line, new_x="LMARGIN", new_y="NEXT")
    data = bytes(pdf.output())
    if password is None:
        return data
    from pypdf import PdfReader, PdfWriter
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(data)))
    writer.encrypt(password, algorithm="AES-128")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def make_docx(paragraphs: list[str]) -> bytes:
    import docx
    document = docx.Document()
    for paragraph in paragraphs:
        document.add_paragraph(paragraph)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


GOOD = {
    # file → (a question, a phrase of the answer)
    "kayes-utf8.txt": ("Combien de puits ont été creusés à Kayes ?", "douze puits"),
    "gao-bom.txt": ("Quel centre de transit a été rénové à Gao ?", "centre de transit de Gao"),
    "sikasso-cp1252.txt": ("Quelles coopératives de femmes ont été soutenues à Sikasso ?", "karité"),
    "tombouctou.md": ("Quel festival a accueilli la campagne de sensibilisation à Tombouctou ?", "Festival au désert"),
    "mopti.html": ("Qui a reçu des pirogues motorisées ?", "pirogues motorisées"),
    "nioro.pdf": ("Combien de tonnes de semences ont été distribuées à Nioro ?", "vingt tonnes de semences"),
    "kidal.docx": ("Quelle formation ont suivie les gardes-frontières à Kidal ?", "gestion des données biométriques"),
    "koulikoro.txt": ("Quelle langue parlaient les jeunes formés à Koulikoro ?", "bambara"),
}


@pytest.fixture(scope="module")
def mixed_corpus(tmp_path_factory) -> Path:
    corpus = tmp_path_factory.mktemp("mixed") / "corpus"
    write(corpus, "kayes-utf8.txt", "Des puits pour Kayes\nKayes, le 4 avril 2022 – Douze puits ont été creusés dans "
          "les villages de la région de Kayes pour les familles de migrants de retour, a annoncé l’OIM. Les douze "
          "puits alimentent aussi les jardins maraîchers.")
    write(corpus, "gao-bom.txt", "\ufeffRénovation à Gao\nGao, le 8 mai 2022 – Le centre de transit de Gao, qui "
          "accueille les migrants en détresse, a été entièrement rénové avec l’appui de l’OIM et de ses partenaires.")
    write(corpus, "sikasso-cp1252.txt", (
        "Sikasso : les femmes et le karité\nSikasso, le 12 juin 2022 – Trois coopératives de femmes productrices de "
        "beurre de karité ont été soutenues par l'OIM, avec des presses et une formation à la gestion. « C'est "
        "un revenu sûr pour nos familles », a déclaré la présidente d'une coopérative.").encode("cp1252"))
    write(corpus, "tombouctou.md", "---\ntitle: Sensibilisation à Tombouctou\ndate: 2023-01-15\nplace: Tombouctou\n"
          "---\n# Une campagne au Festival au désert\n\nLa campagne de sensibilisation sur les risques de la migration "
          "irrégulière a été accueillie par le **Festival au désert**, qui a réuni des milliers de jeunes venus de "
          "tout le nord du pays.\n")
    write(corpus, "mopti.html", HTML_PAGE)
    write(corpus, "nioro.pdf", make_pdf([
        "Des semences pour Nioro du Sahel",
        "Nioro, le 20 juillet 2022 - Vingt tonnes de semences de mil et de sorgho ont ete distribuees a "
        "quatre cents familles d'agriculteurs de Nioro, dont de nombreux migrants de retour, avant la saison "
        "des pluies. Les semences ont ete achetees aupres de cooperatives locales."]))
    write(corpus, "nioro.json", json.dumps({"title": "Vingt tonnes de semences pour Nioro", "place": "Nioro du Sahel",
                                            "url": "https://example.org/nioro"}))
    write(corpus, "kidal.docx", make_docx([
        "Formation des gardes-frontières à Kidal",
        "Kidal, le 2 septembre 2022 – Trente gardes-frontières ont suivi une formation à la gestion des données "
        "biométriques aux postes de contrôle, organisée par l’OIM avec la Direction de la police des frontières."]))
    broken = ("Jeunes de Koulikoro\nKoulikoro, le 9 octobre 2022 – Cinquante jeunes formés à la mécanique ont suivi "
              "les cours en bambara, leur langue de tous les jours, au centre de formation de Koulikoro.").encode("utf-8")
    write(corpus, "koulikoro.txt", broken.replace(b"leur langue", b"leur \xff\xfe langue"))
    # Bad files
    write(corpus, "vide.txt", b"")
    write(corpus, "binaire.txt", bytes(range(256)) * 40)
    write(corpus, "casse.pdf", b"%PDF-1.4\n1 0 obj << /Type /Catalog >>\nthis is not a real pdf\n%%EOF")
    write(corpus, "secret.pdf", make_pdf(["Document confidentiel sur les frontieres."], password="motdepasse"))
    write(corpus, "enorme.txt", "Un très gros fichier. " * 60_000)
    write(corpus, "tableur.xlsx", b"PK\x03\x04 not really a spreadsheet")
    write(corpus, ".cache.txt", "fichier caché")
    write(corpus, "brouillon.txt~", "copie de sauvegarde")
    write(corpus, ".brouillon.txt.swp", "fichier d'échange de vim")
    os.symlink("boucle.txt", corpus / "boucle.txt")
    return corpus


@pytest.fixture(scope="module")
def mixed_settings(mixed_corpus, tmp_path_factory) -> Settings:
    return Settings(corpus=mixed_corpus, index=tmp_path_factory.mktemp("mixed-index"), max_file_bytes=1_000_000)


@pytest.fixture(scope="module")
def mixed_report(mixed_settings, e5):
    return build_index(mixed_settings, e5)


def test_every_good_file_is_indexed(mixed_report):
    assert sorted(d.source for d in mixed_report.documents) == sorted(GOOD)
    assert all(mixed_report.passages_by_doc[d.id] >= 1 for d in mixed_report.documents)


@pytest.mark.parametrize("source,reason", [
    ("vide.txt", "vide"),
    ("binaire.txt", "binaire"),
    ("casse.pdf", "PDF illisible"),
    ("secret.pdf", "mot de passe"),
    ("enorme.txt", "trop gros"),
    ("tableur.xlsx", "non pris en charge"),
    (".cache.txt", "caché"),
    ("brouillon.txt~", "sauvegarde"),
    (".brouillon.txt.swp", "caché"),
    ("boucle.txt", "illisible"),
])
def test_bad_files_are_reported_with_their_reason(mixed_report, source, reason):
    reasons = {s.source: s.reason for s in mixed_report.skipped}
    assert source in reasons and reason in reasons[source]


def test_invalid_utf8_bytes_are_reported_and_the_text_kept(mixed_report):
    document = next(d for d in mixed_report.documents if d.source == "koulikoro.txt")
    assert document.notices and "invalide" in document.notices[0]
    assert "bambara" in document.text and "Ã" not in document.text


def test_metadata_from_text_front_matter_and_sidecar(mixed_report):
    documents = {d.source: d for d in mixed_report.documents}
    assert documents["sikasso-cp1252.txt"].text.startswith("Sikasso : les femmes et le karité")
    assert "« C'est un revenu sûr" in documents["sikasso-cp1252.txt"].text
    assert (documents["kayes-utf8.txt"].date, documents["kayes-utf8.txt"].place) == ("2022-04-04", "Kayes")
    assert not documents["gao-bom.txt"].text.startswith("\ufeff")
    md = documents["tombouctou.md"]
    assert (md.title, md.date, md.place) == ("Sensibilisation à Tombouctou", "2023-01-15", "Tombouctou")
    assert "**" not in md.text and not md.text.startswith("---")
    html = documents["mopti.html"]
    assert html.title == "Les pêcheurs de Mopti reçoivent des pirogues motorisées"
    assert (html.date, html.place) == ("2023-03-03", "Mopti")
    assert "Travailler avec nous" not in html.text and "Mentions légales" not in html.text
    pdf = documents["nioro.pdf"]
    assert (pdf.title, pdf.place, pdf.url) == ("Vingt tonnes de semences pour Nioro", "Nioro du Sahel",
                                               "https://example.org/nioro")
    assert pdf.date == "2022-07-20"
    assert documents["kidal.docx"].title == "Formation des gardes-frontières à Kidal"


@pytest.mark.parametrize("source", sorted(GOOD))
def test_each_good_file_answers_its_question_first(mixed_report, mixed_settings, e5, source):
    assistant = Assistant.open(settings=mixed_settings, encoder=e5)
    question, phrase = GOOD[source]
    answer = assistant.ask(question, k=3)
    assert answer.citations[0].source == source
    assert phrase.lower() in answer.citations[0].text.lower()


def test_cli_prints_the_summary_table(mixed_corpus, tmp_path):
    env = dict(os.environ, PYTHONPATH=str(PROJECT_ROOT), QA_MAX_FILE_MB="1")
    run = subprocess.run([sys.executable, "-m", "qa", "index", "--corpus", str(mixed_corpus), "--index",
                          str(tmp_path / "index")], capture_output=True, text=True, timeout=300, env=env,
                         cwd=PROJECT_ROOT)
    assert run.returncode == 0, run.stderr
    assert "8 documents" in run.stdout
    assert "indexé   mopti.html" in run.stdout and "ignoré   secret.pdf" in run.stdout
    assert "Traceback" not in run.stderr


def test_a_file_removed_while_indexing_is_reported(tmp_path):
    path = write(tmp_path, "parti.txt", "Un communiqué qui disparaît.")
    file = CorpusFile("parti.txt", path)
    path.unlink()
    with pytest.raises(FileNotFoundError):
        read_document(file, 1000)
    documents, skipped = read_corpus(tmp_path, 1000)
    assert documents == [] and skipped == []
    from qa.reading.documents import describe
    assert "disparu" in describe(FileNotFoundError())


def test_decoding():
    assert decode("déjà été".encode("cp1252"))[0] == "déjà été"
    assert decode("\ufeffdéjà".encode("utf-8"))[0] == "déjà"
    assert decode("déjà vu".encode("utf-16"))[0] == "déjà vu"
    with pytest.raises(UnreadableFile):
        extract(".txt", bytes(range(32)) * 100)


def test_pdf_lines_are_rejoined():
    assert join_pdf_lines("la migra-\ntion des jeunes\nvers la ville. Ensuite\nLe maire") == \
        "la migration des jeunes vers la ville. Ensuite\nLe maire"


def test_sidecar_json_is_not_a_document(mixed_corpus):
    assert "nioro.json" not in {f.source for f in list_corpus(mixed_corpus)}


def test_seed_navigation_is_indexed_once(seed_index, assistant):
    passages = list(assistant.index.live_passages())
    for phrase in ("Qui sommes nous", "Priorités transversales", "Travailler avec nous"):
        assert not any(phrase in p.text for p in passages)
    for phrase in ("175 Etats membres", "joue un rôle clé pour soutenir la réalisation du Programme 2030"):
        assert sum(phrase in p.text for p in passages) == 1, phrase
    answer = assistant.ask("Combien d'États membres compte l'OIM ?")
    assert "175 Etats membres" in answer.citations[0].text


def test_contact_footer_is_searchable(assistant):
    answer = assistant.ask("Quel est le numéro de téléphone de l'unité média de l'OIM Mali ?")
    assert "+223 92 40 49 21" in answer.citations[0].text
    assert answer.citations[0].source == BAMAKO


def test_single_document_corpus_drops_menus(tmp_path, e5):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / SEGOU).write_bytes((PROJECT_ROOT / "corpus" / SEGOU).read_bytes())
    report = build_index(replace(Settings(), corpus=corpus, index=tmp_path / "index"), e5)
    assert not report.skipped
    text = report.documents[0].text
    assert "Engagez-vous" not in text and "175 Etats membres" in text
