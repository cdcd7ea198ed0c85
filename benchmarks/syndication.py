"""Syndicated copies on the real IOM pages: the four pairs marked `syndicated_of` in pages.jsonl should
be grouped into one story each, and no unmarked pair should be.

    python benchmarks/syndication.py [--pages ../shared/benchmarks/iom-real] [--url]

Read by the product's own path (qa.reading.documents.read_corpus, then qa.reading.stories.stories);
--url gives each page a sidecar holding only its address, as a site scraper would.
"""
from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from itertools import combinations
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from qa.reading.stories import stories  # noqa: E402
from qa.reading.documents import read_corpus  # noqa: E402


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pages", default=str(Path(__file__).resolve().parents[2] / "shared/benchmarks/iom-real"))
    parser.add_argument("--url", action="store_true", help="a sidecar with each page's url")
    args = parser.parse_args(argv)
    root = Path(args.pages)
    pages = [json.loads(line) for line in (root / "pages.jsonl").open(encoding="utf-8")]
    marked = {frozenset((p["file"].removeprefix("corpus/"), p["syndicated_of"].removeprefix("corpus/")))
              for p in pages if p.get("syndicated_of")}
    corpus = root / "corpus"
    with tempfile.TemporaryDirectory() as tmp:
        if args.url:
            for page in pages:
                name = page["file"].removeprefix("corpus/")
                shutil.copy(corpus / name, Path(tmp) / name)
                (Path(tmp) / name).with_suffix(".json").write_text(json.dumps({"url": page["url"]}), encoding="utf-8")
            corpus = Path(tmp)
        documents, _ = read_corpus(corpus, 50 * 1024 * 1024)
        started = time.perf_counter()
        found = stories(documents)
        seconds = time.perf_counter() - started
    source = {d.id: d.source for d in documents}
    grouped = {frozenset((source[a], source[b])) for a, others in found.copies.items() for b in others}
    superseded = {(source[a], source[b]) for a, b in found.superseded.items()}
    hit = marked & grouped
    wrong = grouped - marked
    print(f"{len(documents)} pages, {len(list(combinations(documents, 2)))} pairs, {seconds * 1000:.0f} ms")
    print(f"marked pairs grouped: {len(hit)}/{len(marked)}")
    for pair in sorted(marked, key=sorted):
        print(f"  {'✓' if pair in grouped else '✗'} {' + '.join(sorted(pair))}")
    print(f"unmarked pairs grouped: {len(wrong)}")
    for pair in sorted(wrong, key=sorted):
        print(f"  ✗ {' + '.join(sorted(pair))}")
    print(f"versions superseded: {len(superseded)}")
    for older, newer in sorted(superseded):
        print(f"  ✗ {older} → {newer}")
    return 0 if len(hit) == len(marked) and not wrong and not superseded else 1


if __name__ == "__main__":
    sys.exit(main())
