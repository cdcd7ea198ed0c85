"""The abstention trade-off: for each threshold, the share of answerable questions wrongly
abstained and of unanswerable questions rightly abstained.

    python benchmarks/abstention.py [--questions benchmarks/questions-seeds.jsonl] [--corpus corpus] [--index index]

Evidence (coverage of the question's terms by the top passages, best dense score) is computed
once per question with the running configuration; the rule is then replayed with other thresholds.
"""
from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from qa.answering.answer import AbstentionRule, evidence  # noqa: E402
from qa.answering.assistant import Assistant  # noqa: E402
from qa.evaluation import read_questions  # noqa: E402
from qa.reading.lexical import terms  # noqa: E402
from qa.settings import Settings  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--questions", default=str(ROOT / "benchmarks" / "questions-seeds.jsonl"))
    parser.add_argument("--corpus")
    parser.add_argument("--index")
    args = parser.parse_args()
    assistant = Assistant.open(settings=Settings.from_env(corpus=args.corpus, index=args.index))
    rows = []
    for question in read_questions(args.questions):
        hits = assistant.search(question.question, assistant.settings.k)
        rows.append((question.answerable, evidence(set(terms(question.question)), hits, assistant.index.documents,
                                                   assistant.term_weights)))
    answerable = [e for a, e in rows if a]
    unanswerable = [e for a, e in rows if not a]
    default = AbstentionRule()
    print(f"{len(answerable)} questions avec réponse, {len(unanswerable)} sans ; règle par défaut : {default}")
    print(f"{'couverture sûre':>16} {'couverture min':>15} {'dense min':>10} {'avec réponse abstenues':>23} "
          f"{'sans réponse abstenues':>23}")
    for confident in (0.35, 0.40, 0.45, 0.50, 0.60):
        for minimum in (0.20, 0.30, 0.35):
            for dense in (0.82, 0.84, 0.86):
                if minimum > confident:
                    continue
                rule = replace(default, confident_coverage=confident, min_coverage=minimum, min_dense=dense)
                wrong = sum(not rule.answers(e) for e in answerable) / (len(answerable) or 1)
                right = sum(not rule.answers(e) for e in unanswerable) / (len(unanswerable) or 1)
                mark = "  ← défaut" if rule == default else ""
                print(f"{confident:>16.2f} {minimum:>15.2f} {dense:>10.2f} {wrong:>23.3f} {right:>23.3f}{mark}")


if __name__ == "__main__":
    main()
