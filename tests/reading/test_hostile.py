"""A hostile corpus folder: only regular files inside it are read, every parse is bounded, any file
name is indexed. Each case checks what the user sees (the report line) and that nothing was lost."""
from __future__ import annotations

import io
import json
import os
import socket
import stat
import subprocess
import sys
import threading
import zipfile
from dataclasses import replace
from pathlib import Path

import pytest

from conftest import write
from qa.answering.assistant import Assistant
from qa.errors import QAError
from qa.indexing import store
from qa.indexing.build import build_index, is_up_to_date
from qa.reading.documents import read_corpus, read_document
from qa.reading.listing import CorpusFile, readable_name
from qa.reading.limits import LimitExceeded, Limits
from qa.settings import PROJECT_ROOT, Settings

SECRET = "Phrase confidentielle rangée hors du corpus : code Tamanrasset 4471."
KAYES = ("Des puits pour Kayes\nKayes, le 4 avril 2022 – Douze puits ont été creusés dans les villages de la région "
         "de Kayes pour les familles de migrants de retour, a annoncé l’OIM.")
NIORO = ("Des semences pour Nioro\nNioro, le 20 juillet 2022 – Vingt tonnes de semences de mil ont été distribuées "
         "à quatre cents familles d'agriculteurs de Nioro, dont de nombreux migrants de retour.")
SIKASSO = ("Le karité de Sikasso\nSikasso, le 12 juin 2022 – Trois coopératives de femmes productrices de beurre de "
           "karité ont été soutenues par l'OIM, avec des presses et une formation à la gestion.")
TOMBOUCTOU = ("Une campagne à Tombouctou\nTombouctou, le 15 janvier 2023 – La campagne de sensibilisation sur les "
              "risques de la migration irrégulière a réuni des milliers de jeunes au Festival au désert.")
WORD = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"


def docx_with_body(paragraphs, level: int = 6) -> bytes:
    """A real .docx (python-docx's own template) whose body is the given paragraphs, streamed into
    the package so that a bomb of many megabytes never sits in memory."""
    import docx
    template = io.BytesIO()
    docx.Document().save(template)
    source = zipfile.ZipFile(io.BytesIO(template.getvalue()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=level) as package:
        for item in source.infolist():
            if item.filename != "word/document.xml":
                package.writestr(item, source.read(item))
                continue
            with package.open("word/document.xml", "w", force_zip64=True) as body:
                body.write(f'<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="{WORD}"><w:body>'.encode())
                for paragraph in paragraphs:
                    body.write(f"<w:p><w:r><w:t>{paragraph}</w:t></w:r></w:p>".encode())
                body.write(b"</w:body></w:document>")
    return out.getvalue()


def xml_bomb(megabytes: int) -> bytes:
    row = "La migration est une chance. " * 30
    return docx_with_body(row for _ in range(megabytes * 1024 * 1024 // (len(row) + 30)))


def run_with_timeout(function, seconds: float):
    """Run `function` in a thread; fail (instead of hanging the suite) if it does not return in time."""
    result, errors = [], []
    thread = threading.Thread(target=lambda: _capture(function, result, errors), daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), f"still running after {seconds} s: a read is blocked"
    if errors:
        raise errors[0]
    return result[0]


def _capture(function, result, errors):
    try:
        result.append(function())
    except BaseException as error:  # noqa: BLE001 - handed to the test's thread
        errors.append(error)


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    """A corpus of three good releases beside a FIFO, a socket, a link to /dev/zero, links leading out
    (to /etc/passwd and to a secret file beside the corpus), a link inside, a FIFO as metadata."""
    root = tmp_path_factory.mktemp("hostile")
    corpus = root / "corpus"
    write(corpus, "kayes.txt", KAYES)
    write(corpus, "nioro.txt", NIORO)
    write(corpus, "sous-dossier/sikasso.txt", SIKASSO)
    write(root, "secret.txt", "Note interne\nBamako, le 1er mars 2025 – " + SECRET)
    os.mkfifo(corpus / "tube.txt")
    os.symlink("/dev/zero", corpus / "zero.txt")
    os.symlink("/etc/passwd", corpus / "passwd.txt")
    os.symlink("../secret.txt", corpus / "secret.txt")
    os.symlink("../kayes.txt", corpus / "sous-dossier" / "lien-vers-kayes.txt")
    listener = socket.socket(socket.AF_UNIX)
    listener.bind(str(corpus / "prise.txt"))
    write(corpus, "avec-meta.txt", TOMBOUCTOU)
    os.mkfifo(corpus / "avec-meta.json")
    settings = Settings(corpus=corpus, index=root / "index")
    yield settings
    listener.close()


@pytest.fixture(scope="module")
def hostile_report(hostile, e5):
    return run_with_timeout(lambda: build_index(hostile, e5), 120)


def reasons(report) -> dict[str, str]:
    return {skipped.source: skipped.reason for skipped in report.skipped}


def test_only_regular_files_inside_the_corpus_are_indexed(hostile_report):
    assert sorted(d.source for d in hostile_report.documents) == [
        "kayes.txt", "nioro.txt", "sous-dossier/lien-vers-kayes.txt", "sous-dossier/sikasso.txt"]
    summary = hostile_report.summary()
    assert "indexé   sous-dossier/lien-vers-kayes.txt" in summary  # a link to a file inside is fine


@pytest.mark.parametrize("source,reason", [
    ("tube.txt", "tube nommé (FIFO), pas un fichier ordinaire : non lu (named pipe"),
    ("prise.txt", "socket, pas un fichier ordinaire"),
    ("zero.txt", "lien qui sort du dossier du corpus : non lu (link leading outside the corpus"),
    ("passwd.txt", "lien qui sort du dossier du corpus"),
    ("secret.txt", "lien qui sort du dossier du corpus"),
    ("avec-meta.txt", "métadonnées avec-meta.json : tube nommé (FIFO)"),
])
def test_each_hostile_entry_is_named_in_the_report_with_its_reason(hostile_report, source, reason):
    assert reason in reasons(hostile_report)[source]
    assert f"ignoré   {source}  : {reasons(hostile_report)[source]}" in hostile_report.summary()


def test_nothing_from_outside_the_folder_is_served(hostile_report, hostile, e5):
    assistant = Assistant.open(settings=hostile, encoder=e5)
    assert not any("Tamanrasset" in p.text or "root:" in p.text for p in assistant.index.live_passages())
    answer = assistant.ask("Quel est le code Tamanrasset de la phrase confidentielle ?", k=5)
    assert all(c.source in {d.source for d in hostile_report.documents} for c in answer.citations)
    assert assistant.ask("Combien de puits ont été creusés à Kayes ?").citations[0].source.endswith("kayes.txt")


def test_the_state_of_a_hostile_corpus_is_read_without_reading_it(hostile_report, hostile, e5):
    """is_up_to_date (the app's start, --watch) lists the corpus again: no entry is opened."""
    assert run_with_timeout(lambda: is_up_to_date(hostile, e5.info), 30)


def test_a_fifo_swapped_in_after_listing_is_refused_without_blocking(tmp_path):
    path = tmp_path / "tube.txt"
    os.mkfifo(path)
    listed = CorpusFile("tube.txt", path)  # as if listed while it was still a regular file
    with pytest.raises(ValueError, match="tube nommé"):
        run_with_timeout(lambda: read_document(listed, 1000), 10)


def test_a_device_inside_the_corpus_is_skipped(tmp_path):
    corpus = tmp_path / "corpus"
    write(corpus, "kayes.txt", KAYES)
    try:
        os.mknod(corpus / "zero.txt", 0o600 | stat.S_IFCHR, os.makedev(1, 5))  # another /dev/zero
    except (OSError, AttributeError) as error:
        pytest.skip(f"cannot create a device here: {error}")
    documents, skipped = run_with_timeout(lambda: read_corpus(corpus, 1_000_000), 10)
    assert [d.source for d in documents] == ["kayes.txt"]
    assert [(s.source, s.reason.split(",")[0]) for s in skipped] == [("zero.txt", "périphérique")]


def test_hostile_entries_added_to_a_live_index_lose_nothing(tmp_path, e5):
    corpus = tmp_path / "corpus"
    write(corpus, "kayes.txt", KAYES)
    write(corpus, "nioro.txt", NIORO)
    settings = Settings(corpus=corpus, index=tmp_path / "index")
    build_index(settings, e5)
    before = Assistant.open(settings=settings, encoder=e5).ask("Combien de tonnes de semences à Nioro ?")
    os.mkfifo(corpus / "tube.txt")
    os.symlink("/dev/zero", corpus / "zero.txt")
    report = run_with_timeout(lambda: build_index(settings, e5), 120)
    assert report.unchanged == ["kayes.txt", "nioro.txt"] and report.embedded == 0
    after = Assistant.open(settings=settings, encoder=e5).ask("Combien de tonnes de semences à Nioro ?")
    assert after.to_dict() | {"timings": None} == before.to_dict() | {"timings": None}


# Bounded parses -------------------------------------------------------------------------------

def read_one(tmp_path: Path, name: str, data: bytes, **limits) -> tuple[list, list]:
    corpus = tmp_path / "corpus"
    write(corpus, name, data)
    return read_corpus(corpus, replace(Limits.default(), **limits))


@pytest.mark.parametrize("unzipped_mb,ratio,reason", [
    (50, 100, "document trop volumineux une fois décompressé : 61 Mo > limite de 50 Mo "
              "(uncompressed size over QA_MAX_UNZIPPED_MB; a zip bomb?)"),
    # Size and ratio let through: the body's text is counted as it streams, python-docx never runs.
    (10_000, 1_000_000, "texte trop long : plus de 500 000 caractères (too much text; the limit is QA_MAX_CHARS)"),
])
def test_a_docx_bomb_is_refused_fast_in_little_memory(tmp_path, unzipped_mb, ratio, reason):
    """A package of a few hundred KB holding 60 MB of XML (python-docx would take gigabytes)."""
    bomb = tmp_path / "bombe.docx"
    bomb.write_bytes(xml_bomb(60))
    assert bomb.stat().st_size < 400_000
    # The child's own peak (VmHWM: getrusage's ru_maxrss would count the parent's, kept across exec).
    code = ("import re, sys, time; from dataclasses import replace; from pathlib import Path; "
            "from qa.reading.documents import read_corpus; from qa.reading.limits import Limits; "
            "limits = replace(Limits.default(), unzipped_bytes=int(sys.argv[2]) * 2**20, zip_ratio=float(sys.argv[3])); "
            "started = time.perf_counter(); documents, skipped = read_corpus(Path(sys.argv[1]), limits); "
            "print(skipped[0].reason); print(time.perf_counter() - started); "
            "print(re.search(r'VmHWM:\\s+(\\d+)', open('/proc/self/status').read()).group(1))")
    run = subprocess.run([sys.executable, "-c", code, str(tmp_path), str(unzipped_mb), str(ratio)], cwd=PROJECT_ROOT,
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    said, seconds, peak_kb = run.stdout.splitlines()
    assert said == reason
    assert float(seconds) < 10 and int(peak_kb) < 300_000


def test_a_docx_over_the_compression_ratio_is_refused(tmp_path):
    documents, skipped = read_one(tmp_path, "taux.docx", xml_bomb(8))
    assert documents == []
    assert "taux de compression suspect" in skipped[0].reason and "QA_MAX_ZIP_RATIO" in skipped[0].reason


def test_a_docx_that_lies_about_its_sizes_is_refused(tmp_path):
    data = bytearray(docx_with_body(["Texte de remplissage. " * 20] * 300))
    archive = zipfile.ZipFile(io.BytesIO(bytes(data)))
    assert archive.getinfo("word/document.xml").file_size > 100_000
    name = b"word/document.xml"
    entry = next(i for i in range(len(data) - 4, -1, -1)
                 if data[i:i + 4] == b"PK\x01\x02" and data[i + 46:i + 46 + len(name)] == name)
    data[entry + 24:entry + 28] = (1000).to_bytes(4, "little")  # says 1,000 bytes once inflated
    documents, skipped = read_one(tmp_path, "menteur.docx", bytes(data))
    assert documents == [] and skipped[0].source == "menteur.docx"
    assert "illisible ou endommagé" in skipped[0].reason or "tailles déclarées sont fausses" in skipped[0].reason


def test_a_small_docx_with_too_much_text_is_refused_while_it_is_read(tmp_path):
    paragraphs = [f"La phrase {i} du rapport parle de la réintégration des migrants de retour." for i in range(600)]
    documents, skipped = read_one(tmp_path, "long.docx", docx_with_body(paragraphs), release_chars=10_000)
    assert documents == []
    assert skipped[0].reason == "texte trop long : plus de 10 000 caractères (too much text; the limit is QA_MAX_CHARS)"


def test_text_and_pdf_limits(tmp_path):
    from fpdf import FPDF
    documents, skipped = read_one(tmp_path, "long.txt", ("Une phrase. " * 1000).encode(), release_chars=5000)
    assert "texte trop long" in skipped[0].reason
    pdf = FPDF()
    pdf.set_font("Helvetica", size=11)
    for number in range(3):
        pdf.add_page()
        pdf.cell(0, 10, f"Page {number} du rapport.")
    documents, skipped = read_one(tmp_path / "pdf", "rapport.pdf", bytes(pdf.output()), pdf_pages=2)
    assert documents == [] and skipped[0].reason == ("PDF trop long : 3 pages > limite de 2 "
                                                     "(too many pages; the limit is QA_MAX_PDF_PAGES)")
    documents, skipped = read_one(tmp_path / "pdf2", "rapport.pdf", bytes(pdf.output()), pdf_pages=3)
    assert [d.source for d in documents] == ["rapport.pdf"] and skipped == []


def test_a_release_with_too_many_passages_is_skipped_and_the_rest_indexed(tmp_path, e5):
    corpus = tmp_path / "corpus"
    write(corpus, "kayes.txt", KAYES)
    write(corpus, "long.txt", "Un long rapport\nBamako, le 3 mars 2024 – " + " ".join(
        f"La phrase {i} du rapport décrit le projet numéro {i} de réintégration à Bamako." for i in range(80)))
    settings = Settings(corpus=corpus, index=tmp_path / "index", max_release_passages=3)
    report = build_index(settings, e5)
    assert [d.source for d in report.documents] == ["kayes.txt"]
    assert "ignoré   long.txt  : trop de passages : " in report.summary()
    assert "> limite de 3 (too many passages; the limit is QA_MAX_PASSAGES)" in report.summary()
    assert is_up_to_date(settings, e5.info)
    # Raising the limit reads the file again: it was skipped under the limit, not for its content.
    raised = replace(settings, max_release_passages=1000)
    assert not is_up_to_date(raised, e5.info)
    assert "long.txt" in build_index(raised, e5).added


def test_limits_come_from_the_environment(monkeypatch):
    for variable, value in [("QA_MAX_UNZIPPED_MB", "20"), ("QA_MAX_ZIP_RATIO", "50"), ("QA_MAX_PDF_PAGES", "40"),
                            ("QA_MAX_CHARS", "100000"), ("QA_MAX_PASSAGES", "300"), ("QA_MAX_UPLOAD_MB", "5")]:
        monkeypatch.setenv(variable, value)
    settings = Settings.from_env()
    assert Limits.of(settings) == Limits(50 * 2**20, 20 * 2**20, 50.0, 40, 100_000, 300)
    assert settings.upload_bytes == 5 * 2**20
    monkeypatch.setenv("QA_MAX_PDF_PAGES", "beaucoup")
    with pytest.raises(QAError, match="QA_MAX_PDF_PAGES"):
        Settings.from_env()


def test_the_limit_error_is_not_an_unreadable_file():
    """A limit is its own error (a reader's `except ValueError` never swallows it)."""
    assert not issubclass(LimitExceeded, ValueError)


# File names in any encoding -------------------------------------------------------------------

def test_file_names_in_any_encoding_are_indexed_and_shown_escaped(tmp_path, e5):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    raw = os.fsencode(corpus)
    for name, text in [(b"communiqu\xe9-latin1.txt", NIORO), (b"\xff\xfe\xfd.txt", SIKASSO),
                       ("ligne\nfausse.txt".encode(), TOMBOUCTOU), ("報告書-été.txt".encode(), KAYES)]:
        with open(raw + b"/" + name, "w", encoding="utf-8") as handle:
            handle.write(text)
    settings = Settings(corpus=corpus, index=tmp_path / "index")
    report = build_index(settings, e5)
    shown = ["communiqu\\xe9-latin1.txt", "ligne\\x0afausse.txt", "\\xff\\xfe\\xfd.txt", "報告書-été.txt"]
    assert sorted(d.source for d in report.documents) == sorted(shown)
    summary = report.summary()
    assert all(f"indexé   {name}" in summary for name in shown)
    assert not any(line.startswith("fausse.txt") for line in summary.splitlines())  # no forged line
    manifest = json.loads((store.current_build(settings.index) / "manifest.json").read_text(encoding="utf-8"))
    assert sorted(manifest["documents"]) == sorted(shown)
    assert is_up_to_date(settings, e5.info)
    answer = Assistant.open(settings=settings, encoder=e5).ask("Combien de tonnes de semences à Nioro ?")
    assert answer.citations[0].source == "communiqu\\xe9-latin1.txt"
    run = subprocess.run([sys.executable, "-m", "qa", "index", "--corpus", str(corpus), "--index",
                          str(tmp_path / "index-cli")], cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0 and "Traceback" not in run.stderr
    assert "indexé   \\xff\\xfe\\xfd.txt" in run.stdout


def test_readable_names():
    assert readable_name("caf\udce9.txt") == "caf\\xe9.txt"
    assert readable_name("Communiqué été.txt") == "Communiqué été.txt"
    assert readable_name("a\tb\u202etxt.exe") == "a\\x09b\\u202etxt.exe"
    assert readable_name("nel\u0085.txt") == "nel\\u0085.txt"  # not the escape of the byte 0x85
