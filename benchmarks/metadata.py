"""Titles and dates as the product reads them, against the truth of the real IOM pages.

    python benchmarks/metadata.py [--pages ../shared/benchmarks/iom-real] [--failures]

Every file of the corpus is read by the product's own path (qa.reading.documents: list_corpus,
read_document; no index, no encoder), twice: from the text alone, and with a sidecar
`release.json` holding only the page's address ({"url": …}, written into a temporary copy of the
corpus), as a publisher who knows where a page came from would give it. The sidecar never holds
the title or the date.

Headline: among the pages that carry their true title in the text (fuzzy containment ≥ 0.9,
apostrophes, quotes, case and spaces folded), found (the title read is the true one, similarity
within 5 % of its characters), wrong (another line), missing (none). A title read on a page that does not carry its
headline is counted apart: it can only be some other line. Dates read on pages whose date is
not known are counted (and listed with --failures) so that they can be checked by eye.
Date: over the pages whose date is known, exact, within 7 days (the event's date rather than the
page's), wrong, missing; and wrong years among all of them.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import re
import shutil
import sys
import tempfile
import unicodedata
from collections import Counter
from dataclasses import dataclass
from difflib import SequenceMatcher
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from qa.reading.documents import Document, read_document  # noqa: E402
from qa.reading.listing import list_corpus  # noqa: E402
from qa.settings import Settings  # noqa: E402

CARRIES = 0.9  # containment of the true title in the text for a page to "carry" its headline
SAME = 0.05  # the title read may differ from the true one by this share of its characters (at least 4)
NEAR_DAYS = 7

_FOLD = str.maketrans({"’": "'", "‘": "'", "`": "'", "“": '"', "”": '"', "«": '"', "»": '"', "–": "-", "—": "-"})


def fold(text: str) -> str:
    text = unicodedata.normalize("NFC", text).translate(_FOLD).casefold()
    return re.sub(r"\s+", " ", text).strip(" .:;-")


def same_title(read: str, truth: str) -> bool:
    """The title read is the true one: at most 5 % of its characters (4 at least) inserted,
    deleted or replaced, once apostrophes, quotes, case and spaces are folded. A page-date prefix
    or a site name glued to the headline is more than that."""
    read, truth = fold(read), fold(truth)
    changed = sum(max(i2 - i1, j2 - j1) for tag, i1, i2, j1, j2 in
                  SequenceMatcher(None, read, truth, autojunk=False).get_opcodes() if tag != "equal")
    return changed <= max(4, SAME * len(truth))


def containment(needle: str, haystack: str) -> float:
    """How well `needle` appears somewhere in `haystack`: the best similarity of the needle to a
    window of its own length, windows anchored on the blocks the two share (a partial ratio)."""
    needle, haystack = fold(needle), fold(haystack)
    if not needle:
        return 0.0
    if needle in haystack:
        return 1.0
    best = 0.0
    blocks = SequenceMatcher(None, haystack, needle, autojunk=False).get_matching_blocks()
    for at_hay, at_needle, size in blocks:
        if size < 4:
            continue
        start = max(0, at_hay - at_needle)
        window = haystack[start:start + len(needle)]
        best = max(best, SequenceMatcher(None, needle, window, autojunk=False).ratio())
    return best


@dataclass(frozen=True, slots=True)
class Page:
    file: str  # name inside corpus/
    url: str
    title: str
    date: str | None
    carries: bool  # the true title is in the text


def read_pages(folder: Path) -> list[Page]:
    pages = []
    for line in (folder / "pages.jsonl").read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        row = json.loads(line)
        name = Path(row["file"]).name
        text = (folder / "corpus" / name).read_text(encoding="utf-8")
        title = row.get("title") or ""
        pages.append(Page(name, row.get("url") or "", title, row.get("date") or None,
                          bool(title) and containment(title, text) >= CARRIES))
    return pages


def read_documents(corpus: Path) -> dict[str, Document]:
    max_bytes = Settings().max_file_bytes
    return {file.source: read_document(file, max_bytes) for file in list_corpus(corpus) if not file.ignored}


def with_url_sidecars(folder: Path, pages: list[Page], into: Path) -> Path:
    corpus = into / "corpus"
    corpus.mkdir()
    for page in pages:
        shutil.copyfile(folder / "corpus" / page.file, corpus / page.file)
        if page.url:
            (corpus / page.file).with_suffix(".json").write_text(json.dumps({"url": page.url}), encoding="utf-8")
    return corpus


def measure(pages: list[Page], documents: dict[str, Document]) -> dict:
    titles, dates, years, sources, failures = Counter(), Counter(), 0, Counter(), []
    for page in pages:
        document = documents[page.file]
        sources[getattr(document, "date_source", None) or "—"] += 1 if document.date else 0
        if page.carries:
            if not document.title:
                titles["missing"] += 1
                failures.append((page.file, "titre manquant", page.title, None))
            elif same_title(document.title, page.title):
                titles["found"] += 1
            else:
                titles["wrong"] += 1
                failures.append((page.file, "titre faux", page.title, document.title))
        elif document.title:
            titles["off"] += 1
            if page.title:
                failures.append((page.file, "titre lu, absent du texte", page.title, document.title))
        if not page.date and document.date:
            dates["unknown"] += 1
            failures.append((page.file, "date non vérifiable", "—",
                             f"{document.date} ({getattr(document, 'date_source', None)})"))
        if page.date:
            if not document.date:
                dates["missing"] += 1
                failures.append((page.file, "date manquante", page.date, None))
                continue
            gap = abs((dt.date.fromisoformat(document.date) - dt.date.fromisoformat(page.date)).days)
            if gap == 0:
                dates["exact"] += 1
            elif gap <= NEAR_DAYS:
                dates["near"] += 1
                failures.append((page.file, f"date à {gap} j", page.date,
                                 f"{document.date} ({getattr(document, 'date_source', None)})"))
            else:
                dates["wrong"] += 1
                failures.append((page.file, "date fausse", page.date,
                                 f"{document.date} ({getattr(document, 'date_source', None)})"))
            if document.date[:4] != page.date[:4]:
                years += 1
    return {"titles": titles, "dates": dates, "wrong_years": years, "sources": sources, "failures": failures}


def report(name: str, pages: list[Page], result: dict, failures: bool) -> None:
    carrying = sum(p.carries for p in pages)
    dated = sum(bool(p.date) for p in pages)
    titles, dates = result["titles"], result["dates"]
    share = lambda n, total: f"{n} ({n / total:.0%})" if total else str(n)  # noqa: E731
    print(f"\n== {name}")
    print(f"titre   : {carrying} pages portent leur titre dans le texte (sur {len(pages)}) : "
          f"trouvé {share(titles['found'], carrying)}, faux {titles['wrong']}, manquant {titles['missing']} ; "
          f"titre lu sur une page qui n'en porte pas : {titles['off']}")
    found = dates["exact"] + dates["near"]
    print(f"date    : {dated} dates connues : exacte {dates['exact']}, à {NEAR_DAYS} jours près {dates['near']} "
          f"(trouvée {share(found, dated)}), fausse {dates['wrong']}, manquante {dates['missing']} ; "
          f"années fausses : {result['wrong_years']} ; "
          f"dates lues sur les {len(pages) - dated} pages sans date connue : {dates['unknown']}")
    print("origine des dates lues (toutes pages) : "
          + ", ".join(f"{source} {n}" for source, n in result["sources"].most_common() if n))
    if failures:
        for file, what, truth, read in result["failures"]:
            print(f"  {file[:48]:<48} {what:<26} vrai : {truth[:70]!s}")
            if read:
                print(f"  {'':<75} lu : {read[:70]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pages", default=str(ROOT.parent / "shared" / "benchmarks" / "iom-real"),
                        help="the iom-real folder (pages.jsonl and corpus/)")
    parser.add_argument("--failures", action="store_true", help="list each miss")
    args = parser.parse_args()
    folder = Path(args.pages)
    pages = read_pages(folder)
    report("texte seul (sans sidecar)", pages, measure(pages, read_documents(folder / "corpus")), args.failures)
    with tempfile.TemporaryDirectory() as tmp:
        corpus = with_url_sidecars(folder, pages, Path(tmp))
        report("avec un sidecar {\"url\": …} par page", pages, measure(pages, read_documents(corpus)), args.failures)


if __name__ == "__main__":
    main()
