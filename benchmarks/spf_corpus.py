"""Write the Service-Public fiches of ../shared/benchmarks/spf as a corpus folder (one .txt a fiche).

    python benchmarks/spf_corpus.py /tmp/spf/corpus [--shared ../shared]
    python -m qa index --corpus /tmp/spf/corpus --index /tmp/spf/index
    python -m qa eval ../shared/benchmarks/spf/questions-dev.jsonl --corpus /tmp/spf/corpus --index /tmp/spf/index
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SHARED = ROOT.parent / "shared"


def spf_folder(shared: Path = DEFAULT_SHARED) -> Path | None:
    folder = shared / "benchmarks" / "spf"
    return folder if (folder / "fiches.jsonl").is_file() else None


def write_corpus(target: Path, shared: Path = DEFAULT_SHARED) -> int:
    folder = spf_folder(shared)
    if folder is None:
        raise SystemExit(f"Service-Public set not found under {shared}/benchmarks/spf")
    target.mkdir(parents=True, exist_ok=True)
    count = 0
    with open(folder / "fiches.jsonl", encoding="utf-8") as handle:
        for line in handle:
            fiche = json.loads(line)
            (target / f"{fiche['id']}.txt").write_text(fiche["text"], encoding="utf-8")
            count += 1
    return count


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("target", type=Path)
    parser.add_argument("--shared", type=Path, default=DEFAULT_SHARED)
    args = parser.parse_args()
    print(f"{write_corpus(args.target, args.shared)} fiches written to {args.target}", file=sys.stderr)
