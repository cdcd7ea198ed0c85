"""How dense and BM25 scores are best combined, and how far any combination of the two can go.

    python benchmarks/fusion.py                                    # the seed questions
    python benchmarks/fusion.py --spf /tmp/spf                     # and the Service-Public set

With --spf DIR, the fiches of ../shared/benchmarks/spf are written to DIR/corpus and indexed in
DIR/index when missing (about 7 minutes the first time; then reused).

For each question set, one table: dense alone, BM25 alone, the product's normalised weighted
fusion (qa.search.hybrid_search) at dense weights 0 to 1, reciprocal rank fusion (k = 60) and
z-score fusion over the same 50 candidates a side, and a per-question oracle that picks, for
every question separately, the weight that ranks it best. The oracle is not a method: it bounds
what any weighting of these two scores could reach.
Columns: document MRR@10, recall@1 and @5, and « 1re citation », the share of questions whose
first passage holds the gold answer.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from qa.service import ensure_index  # noqa: E402
from qa.answering.assistant import Assistant  # noqa: E402
from qa.evaluation import Report, judge, read_questions  # noqa: E402
from qa.reading.lexical import terms  # noqa: E402
from qa.answering.search import CANDIDATES, Hit, dense_search, hybrid_search, lexical_search  # noqa: E402
from qa.settings import Settings  # noqa: E402
from spf_corpus import DEFAULT_SHARED, spf_folder, write_corpus  # noqa: E402

WEIGHTS = tuple(round(0.1 * i, 1) for i in range(11))
DEPTH = 30  # passages ranked per question (documents are counted within the first 10)
RRF_K = 60


def reciprocal_rank_fusion(dense: list[Hit], lexical: list[Hit], k: int = RRF_K) -> list[Hit]:
    scores: dict[str, float] = {}
    passages = {}
    for ranking in (dense, lexical):
        for rank, hit in enumerate(ranking, start=1):
            scores[hit.passage.id] = scores.get(hit.passage.id, 0.0) + 1.0 / (k + rank)
            passages[hit.passage.id] = hit.passage
    order = sorted(scores, key=lambda pid: (-scores[pid], pid))
    return [Hit(passages[pid], scores[pid]) for pid in order]


def z_score_fusion(dense: list[Hit], lexical: list[Hit]) -> list[Hit]:
    """Each retriever's scores standardised over its own candidates, then averaged (a passage one
    side did not propose counts as that side's lowest candidate)."""
    def standard(hits: list[Hit], score) -> tuple[dict[str, float], float]:
        values = np.array([score(hit) for hit in hits], dtype=np.float64)
        if not len(values):
            return {}, 0.0
        z = (values - values.mean()) / (values.std() or 1.0)
        return {hit.passage.id: float(v) for hit, v in zip(hits, z)}, float(z.min())
    dense_z, dense_floor = standard(dense, lambda hit: hit.dense)
    lexical_z, lexical_floor = standard(lexical, lambda hit: hit.lexical)
    passages = {hit.passage.id: hit.passage for hit in dense + lexical}
    scores = {pid: (dense_z.get(pid, dense_floor) + lexical_z.get(pid, lexical_floor)) / 2 for pid in passages}
    order = sorted(scores, key=lambda pid: (-scores[pid], pid))
    return [Hit(passages[pid], scores[pid]) for pid in order]


def rankings(assistant: Assistant, question: str) -> dict[str, list[Hit]]:
    """Every method's passages for one question (the question is encoded once)."""
    index, lexical = assistant.index, assistant.lexical
    vector = assistant.encoder.encode_queries([question])[0]
    question_terms = terms(question)
    dense = dense_search(index, vector, DEPTH)
    bm25 = lexical_search(index, lexical, question_terms, DEPTH)
    dense_pool = dense_search(index, vector, CANDIDATES)
    bm25_pool = lexical_search(index, lexical, question_terms, CANDIDATES)
    out = {"dense": dense, "BM25": bm25, "RRF": reciprocal_rank_fusion(dense_pool, bm25_pool)[:DEPTH],
           "z-score": z_score_fusion(dense_pool, bm25_pool)[:DEPTH]}
    for weight in WEIGHTS:
        out[f"fusion {weight:.1f}"] = hybrid_search(index, lexical, vector, question_terms, DEPTH,
                                                    dense_weight=weight)
    return out


def measure(assistant: Assistant, questions_file: Path) -> list[tuple[str, dict]]:
    questions = [q for q in read_questions(questions_file) if q.answerable]
    outcomes: dict[str, list] = {}
    for question in questions:
        for method, hits in rankings(assistant, question.question).items():
            answer = assistant.answer_from(question.question, hits[:assistant.settings.k])
            outcomes.setdefault(method, []).append(judge(question, hits, answer, assistant.index.documents, 0.0))
    rows = [(method, Report(method, found).metrics()) for method, found in outcomes.items()]
    fusions = [found for method, found in outcomes.items() if method.startswith("fusion")]
    best = [min(per_weight, key=lambda o: ((o.doc_rank or 99), (o.passage_rank or 99))) for per_weight in zip(*fusions)]
    rows.append(("oracle (best weight per question)", Report("oracle", best).metrics()))
    return rows


def table(title: str, rows: list[tuple[str, dict]]) -> str:
    lines = [title, f"{'méthode':<36}{'MRR@10':>8}{'R@1':>7}{'R@5':>7}{'1re citation':>14}"]
    for method, m in rows:
        doc, passage = m["document"], m["passage"]
        lines.append(f"{method:<36}{doc['mrr@10']:>8.3f}{doc['recall@1']:>7.3f}{doc['recall@5']:>7.3f}"
                     f"{passage['recall@1']:>14.3f}")
    return "\n".join(lines)


def open_assistant(corpus: Path | None, index: Path | None) -> Assistant:
    settings = Settings.from_env(corpus=corpus, index=index)
    ensure_index(settings)
    return Assistant.open(settings=settings)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=Path, default=ROOT / "benchmarks" / "questions-seeds.jsonl")
    parser.add_argument("--spf", type=Path, help="working folder for the Service-Public corpus and index")
    parser.add_argument("--shared", type=Path, default=DEFAULT_SHARED)
    args = parser.parse_args()
    print(table(f"Questions sur les communiqués ({args.seeds.name}), questions avec réponse",
                measure(open_assistant(None, None), args.seeds)), flush=True)
    if args.spf:
        folder = spf_folder(args.shared)
        if folder is None:
            raise SystemExit(f"Service-Public set not found under {args.shared}/benchmarks/spf")
        corpus = args.spf / "corpus"
        if not corpus.is_dir():
            write_corpus(corpus, args.shared)
        print()
        print(table("Service-Public (questions-dev.jsonl)",
                    measure(open_assistant(corpus, args.spf / "index"), folder / "questions-dev.jsonl")))


if __name__ == "__main__":
    main()
