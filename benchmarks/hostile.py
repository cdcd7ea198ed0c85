"""A hostile corpus, indexed as an operator would: wall time, peak memory and what was skipped.

    python benchmarks/hostile.py [--root /tmp/qa-hostile]

Builds ROOT/corpus with a few normal releases beside everything the index must survive: a named
pipe (FIFO), a link to /dev/zero, links leading out of the corpus (/etc/passwd, a secret file
beside the corpus), a socket, a metadata file that is a FIFO, .docx bombs (a small package
inflating to 100 MB of XML; one of about 107 KB holding thousands of passages of text; one whose
headers lie about sizes), a PDF of 600 pages, and file names that are not UTF-8 or hold a line
break. Then runs `python -m qa index` on it with the real encoder, in a child process (a FIFO read
would hang it: the run is killed after 5 minutes), and prints the wall time, the child's peak
RSS (resource.getrusage), the report's skipped files, and checks that nothing from outside the
folder is served. Targets: under 2 minutes and 1.5 GB.
"""
from __future__ import annotations

import argparse
import io
import json
import os
import resource
import shutil
import socket
import stat
import subprocess
import sys
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SECRET = "PHRASE-SECRETE-HORS-DU-CORPUS 7f3a9c"
# `python -m qa …`, then the process's own peak resident memory on stderr.
CLI_WITH_PEAK = ("import re, runpy, sys\n"
                 "sys.argv = ['qa'] + sys.argv[1:]\n"
                 "try:\n    runpy.run_module('qa', run_name='__main__', alter_sys=True)\n"
                 "finally:\n    print('VmHWM', re.search(r'VmHWM:\\s+(\\d+)', open('/proc/self/status').read()).group(1),"
                 " file=sys.stderr)\n")
WORD_NS = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
NORMAL = {
    "kayes.txt": "Des puits pour Kayes\nKayes, le 4 avril 2022 – Douze puits ont été creusés dans les villages de "
                 "la région de Kayes pour les familles de migrants de retour, a annoncé l’OIM.",
    "gao.md": "# Rénovation à Gao\n\nGao, le 8 mai 2022 – Le centre de transit de Gao, qui accueille les migrants "
              "en détresse, a été entièrement rénové avec l’appui de l’OIM.",
    "mopti.txt": "Pirogues pour Mopti\nMopti, le 3 mars 2023 – Quarante pêcheurs de retour de Libye ont reçu des "
                 "pirogues motorisées dans le cadre d'un projet de réintégration communautaire.",
}


def docx_bytes(paragraphs) -> bytes:
    """A real .docx (python-docx's template) whose body is the given paragraphs."""
    import docx
    template = io.BytesIO()
    docx.Document().save(template)
    source = zipfile.ZipFile(io.BytesIO(template.getvalue()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as package:
        for item in source.infolist():
            if item.filename != "word/document.xml":
                package.writestr(item, source.read(item))
                continue
            with package.open("word/document.xml", "w", force_zip64=True) as body:
                body.write(f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:document {WORD_NS}><w:body>'
                           .encode())
                for paragraph in paragraphs:
                    body.write(f"<w:p><w:r><w:t>{paragraph}</w:t></w:r></w:p>".encode())
                body.write(b"</w:body></w:document>")
    return out.getvalue()


def xml_bomb(megabytes: int = 100) -> bytes:
    """About `megabytes` MB of Word XML in a package of a few hundred KB."""
    row = "La migration est une chance. " * 30
    return docx_bytes(row for _ in range(megabytes * 1024 * 1024 // (len(row) + 30)))


def _sentences(count: int) -> list[str]:
    """Paragraphs of distinct French sentences (so that nothing is dropped as repeated text)."""
    words = ("migrants retour Kayes Gao Mopti réintégration formation jardins puits pompes femmes jeunes "
             "coopératives santé écoles frontières données partenaires projet région communauté").split()
    return [" ".join(f"La phrase {i}.{j} du rapport parle de la réintégration des migrants de retour et de "
                     f"{words[(i + j) % len(words)]} dans la région, avec l'appui des partenaires de l'OIM."
                     for j in range(12)) for i in range(count)]


def passage_bomb(target_kb: int = 107) -> tuple[bytes, int]:
    """Distinct French sentences in about target_kb on disk; and how many characters they hold."""
    trial = len(docx_bytes(_sentences(1000)))
    count = max(1, int(1000 * (target_kb * 1000 - 30_000) / max(1, trial - 30_000)))
    paragraphs = _sentences(count)
    return docx_bytes(paragraphs), sum(len(p) for p in paragraphs)


def lying_docx() -> bytes:
    """A package whose central directory says its body is 100 bytes long; the body is 3 MB."""
    data = bytearray(docx_bytes(["Texte " * 50] * 10_000))
    archive = zipfile.ZipFile(io.BytesIO(bytes(data)))
    member = archive.getinfo("word/document.xml")
    start = data.rfind(b"PK\x01\x02", 0, len(data))
    while start >= 0:  # the central directory entry of word/document.xml: uncompressed size at +24
        name_length = int.from_bytes(data[start + 28:start + 30], "little")
        if data[start + 46:start + 46 + name_length] == b"word/document.xml":
            break
        start = data.rfind(b"PK\x01\x02", 0, start)
    if member.file_size < 0xFFFFFFFF and start >= 0:
        data[start + 24:start + 28] = (100).to_bytes(4, "little")
    return bytes(data)


def long_pdf(pages: int = 600) -> bytes:
    from fpdf import FPDF
    pdf = FPDF()
    pdf.set_font("Helvetica", size=11)
    for number in range(pages):
        pdf.add_page()
        pdf.cell(0, 10, f"Page {number} du rapport annuel.")
    return bytes(pdf.output())


def _french(number: int) -> str:
    return f"{number:,}".replace(",", " ")


def make_corpus(root: Path) -> Path:
    if root.exists():
        shutil.rmtree(root)
    corpus = root / "corpus"
    corpus.mkdir(parents=True)
    for name in ("oim-mali-2021-12-13-table-ronde-bamako.txt",
                 "oim-mali-2024-12-19-journee-internationale-des-migrants-segou.txt"):
        shutil.copy(ROOT / "corpus" / name, corpus / name)
    for name, text in NORMAL.items():
        (corpus / name).write_text(text, encoding="utf-8")
    (corpus / "kidal.docx").write_bytes(docx_bytes([
        "Formation des gardes-frontières à Kidal",
        "Kidal, le 2 septembre 2022 – Trente gardes-frontières ont suivi une formation à la gestion des données "
        "biométriques, organisée par l’OIM."]))
    # Not regular files, or not inside
    os.mkfifo(corpus / "tube.txt")
    os.symlink("/dev/zero", corpus / "zero.txt")
    os.symlink("/etc/passwd", corpus / "passwd.txt")
    (root / "secret.txt").write_text(f"Note interne\nBamako, le 1er mars 2025 – {SECRET}.", encoding="utf-8")
    os.symlink("../secret.txt", corpus / "secret.txt")
    os.symlink("kayes.txt", corpus / "lien-vers-kayes.txt")  # inside: read
    listener = socket.socket(socket.AF_UNIX)
    listener.bind(str(corpus / "prise.txt"))
    (corpus / "avec-meta.txt").write_text(NORMAL["mopti.txt"].replace("Mopti", "Ségou"), encoding="utf-8")
    os.mkfifo(corpus / "avec-meta.json")
    # Over the limits
    (corpus / "bombe-xml.docx").write_bytes(xml_bomb(100))
    (corpus / "bombe-taux.docx").write_bytes(xml_bomb(20))  # under the size limit, over the ratio
    bomb, characters = passage_bomb()
    (corpus / "bombe-passages.docx").write_bytes(bomb)
    print(f"  bombe-passages.docx : {_french(characters)} caractères, environ {_french(characters // 900)} passages")
    try:  # a device inside the corpus (a copy of /dev/zero): needs CAP_MKNOD
        os.mknod(corpus / "zero-interne.txt", 0o600 | stat.S_IFCHR, os.makedev(1, 5))
    except OSError as error:
        print(f"  (pas de périphérique dans le corpus : {error.strerror})")
    (corpus / "entetes-menteurs.docx").write_bytes(lying_docx())
    (corpus / "rapport-600-pages.pdf").write_bytes(long_pdf())
    # Names
    raw = os.fsencode(corpus)
    with open(raw + b"/communiqu\xe9-latin1.txt", "w", encoding="utf-8") as handle:
        handle.write("Des semences pour Nioro\nNioro, le 20 juillet 2022 – Vingt tonnes de semences ont été "
                     "distribuées à quatre cents familles d'agriculteurs de Nioro.")
    with open(raw + b"/\xff\xfe\xfd.txt", "w", encoding="utf-8") as handle:
        handle.write("Un nom illisible\nSikasso, le 12 juin 2022 – Trois coopératives de femmes productrices de "
                     "karité ont été soutenues par l'OIM.")
    (corpus / "ligne\nfausse.txt").write_text("Un nom sur deux lignes\nTombouctou, le 15 janvier 2023 – Une "
                                              "campagne de sensibilisation a réuni des jeunes.", encoding="utf-8")
    return corpus


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", default="/tmp/qa-hostile", type=Path)
    args = parser.parse_args()
    started = time.perf_counter()
    corpus = make_corpus(args.root)
    sizes = {path.name: path.stat().st_size for path in corpus.glob("*.docx")}
    print(f"corpus écrit en {time.perf_counter() - started:.1f} s : {corpus}")
    for name, size in sorted(sizes.items()):
        print(f"  {name:<24} {size / 1000:8.0f} Ko sur disque")

    index = args.root / "index"
    started = time.perf_counter()
    try:
        run = subprocess.run([sys.executable, "-c", CLI_WITH_PEAK, "index", "--corpus", str(corpus),
                              "--index", str(index)], cwd=ROOT, capture_output=True, text=True, timeout=300)
    except subprocess.TimeoutExpired:
        print("ÉCHEC : l'indexation ne s'est pas terminée en 5 minutes (hung)")
        return 1
    wall = time.perf_counter() - started
    peak_mb = int(run.stderr.rsplit("VmHWM", 1)[-1].split()[0]) / 1024 if "VmHWM" in run.stderr else float("nan")
    bound_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"\npython -m qa index : code {run.returncode}, {wall:.1f} s, pic de mémoire (RSS) {peak_mb:.0f} Mo "
          f"(getrusage des enfants, borne haute : {bound_mb:.0f} Mo)")
    print(run.stdout)
    if run.returncode != 0 or "Traceback" in run.stderr or peak_mb != peak_mb:
        print(run.stderr[-3000:])
        return 1

    # Nothing from outside the folder is served.
    builds = index / "builds" / (index / "CURRENT").read_text().strip()
    passages = (builds / "passages.jsonl").read_text(encoding="utf-8")
    documents = [json.loads(line)["source"] for line in (builds / "documents.jsonl").open(encoding="utf-8")]
    outside = [marker for marker in (SECRET, "root:x:0:0", "\x00\x00") if marker in passages]
    ask = subprocess.run([sys.executable, "-m", "qa", "ask", "Quelle est la phrase secrète ? root:x:0:0", "--json",
                          "--index", str(index)], cwd=ROOT, capture_output=True, text=True, timeout=300)
    cited = [c["source"] for c in json.loads(ask.stdout)["citations"]] if ask.returncode == 0 else []
    print(f"documents indexés : {len(documents)} ; texte venu de l'extérieur dans l'index : {outside or 'aucun'} ; "
          f"sources citées pour « root:x:0:0 » : {cited}")
    met = wall < 120 and peak_mb < 1536 and not outside and "secret.txt" not in documents \
        and "passwd.txt" not in documents
    print(f"objectifs (< 2 min, < 1,5 Go, rien de l'extérieur) : {'atteints' if met else 'MANQUÉS'}")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
