"""Dates in questions: the hand-written patterns of qa.answering.questions against dateparser (a
well-kept parser of French dates), on labelled questions and on every development question.

    python benchmarks/question_dates.py

For each labelled question, the period expected (or none); a parser is right when it gives that
period. dateparser gives points in time, not periods: its period is read as the year (or month)
of the date it finds, with « depuis / avant / entre » read from the words around it, which is the
most it can be given credit for. On the development questions, how many get a filter from each.
"""
from __future__ import annotations

import datetime as dt
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from qa.answering.questions import question_period  # noqa: E402

TODAY = dt.date(2026, 12, 2)
LABELLED = [
    ("Combien de kits ont été distribués en 2022 ?", ("2022-01-01", "2022-12-31")),
    ("Qui a présidé la cérémonie en décembre 2024 ?", ("2024-12-01", "2024-12-31")),
    ("Quels projets l'OIM a-t-elle lancés depuis 2023 ?", ("2023-01-01", None)),
    ("Qu'a fait l'OIM au Mali l'an dernier ?", ("2025-01-01", "2025-12-31")),
    ("Quelles actions ont été menées avant 2020 ?", (None, "2019-12-31")),
    ("Quelles formations ont eu lieu entre 2019 et 2021 ?", ("2019-01-01", "2021-12-31")),
    ("Quels ateliers en mars et avril 2021 ?", ("2021-03-01", "2021-04-30")),
    ("Combien de migrants maliens sont rentrés depuis 2017 ?", None),
    ("Que s'est-il passé le samedi 10 avril 2021 à Gao ?", None),
    ("Où a été célébrée la Journée internationale des migrants 2024 ?", None),
    ("Qui a présidé la cérémonie à Ségou ?", None),
]
SETS = ["benchmarks/questions-seeds.jsonl", "benchmarks/questions-seeds-blind.jsonl",
        "benchmarks/questions-iom-blind.jsonl", "../shared/benchmarks/iom-real/questions-dev.jsonl"]


def dateparser_period(question: str):
    """The most a point-in-time parser gives: the found date's year or month as a period."""
    from dateparser.search import search_dates
    found = search_dates(question, languages=["fr"], settings={"RELATIVE_BASE": dt.datetime(2026, 12, 2),
                                                                "PREFER_DAY_OF_MONTH": "first"}) or []
    if not found:
        return None
    said, when = found[0]
    words = said.lower().split()
    year_only = len(words) == 1 and words[0].isdigit()
    start = dt.date(when.year, 1 if year_only else when.month, 1)
    end = dt.date(when.year, 12, 31) if year_only else (dt.date(when.year + (when.month == 12), when.month % 12 + 1, 1)
                                                       - dt.timedelta(days=1))
    before = question.lower()[:question.lower().find(said.lower())]
    if before.rstrip().endswith("depuis"):
        return (start.isoformat(), None)
    if before.rstrip().endswith("avant"):
        return (None, (start - dt.timedelta(days=1)).isoformat())
    if len(found) > 1 and "entre" in before:
        return (start.isoformat(), dt.date(found[1][1].year, 12, 31).isoformat())
    return (start.isoformat(), end.isoformat())


def patterns(question: str):
    period = question_period(question, TODAY)
    return None if period is None else (period.date_from, period.date_to)


def main() -> int:
    root = Path(__file__).resolve().parents[1]
    questions = []
    for name in SETS:
        path = (root / name).resolve()
        if path.is_file():
            questions += [json.loads(line).get("q") or json.loads(line).get("question")
                          for line in path.open(encoding="utf-8") if line.strip()]
    for label, parse in (("patterns", patterns), ("dateparser", dateparser_period)):
        started = time.perf_counter()
        right = sum(parse(q) == expected for q, expected in LABELLED)
        filtered = sum(parse(q) is not None for q in questions)
        ms = (time.perf_counter() - started) * 1000 / (len(LABELLED) + len(questions))
        print(f"{label:<11} labelled right {right}/{len(LABELLED)}, development questions given a filter "
              f"{filtered}/{len(questions)}, {ms:.2f} ms a question")
        for q, expected in LABELLED:
            if parse(q) != expected:
                print(f"    ✗ {q}  → {parse(q)} (attendu {expected})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
