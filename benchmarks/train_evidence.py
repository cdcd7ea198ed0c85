"""Learn the second stage's weights (qa/answering/evidence_model.json) on the development sets,
with cross-validation by question, and print the folds.

    python benchmarks/train_evidence.py [--sets seeds,iom,spf] [--spf /tmp/spf] [--write]

For every question of the development sets, the first stage's 30 candidate passages are read
sentence by sentence as the assistant reads them (qa.answering.evidence.gather); a sentence is a
positive example when it overlaps the gold answer in the gold release. A logistic regression
(scikit-learn, standardised features) is fitted on four folds of the questions and judged on the
fifth, as the assistant would use it: passages ranked by a mix of their first-stage score and
their best sentence's probability, the answer being the best sentence of the first passage. The
mix and the abstention threshold are chosen on the held-out folds' predictions; `--write` fits
on every question and writes the model file. Sets: seeds (benchmarks/questions-seeds.jsonl over
corpus/), iom (../shared/benchmarks/iom-real), spf (../shared/benchmarks/spf, corpus written and
indexed under --spf when missing, about ten minutes the first time).
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from qa.answering.assistant import SECOND_STAGE, Assistant  # noqa: E402
from qa.answering.evidence import FEATURES, MODEL_PATH, gather, matrix  # noqa: E402
from qa.evaluation import answer_span, contains, is_document, read_questions  # noqa: E402
from qa.service import ensure_index  # noqa: E402
from qa.settings import Settings  # noqa: E402

SHARED = ROOT.parent / "shared" / "benchmarks"
PASSAGE_WEIGHTS = (0.0, 0.2, 0.35, 0.5, 0.65, 0.8)
# At most 2 % of the answerable development questions abstained: on questions written blind the
# false abstentions came out about three times the development rate.
MAX_FALSE_ABSTENTION = 0.02
FOLDS = 5


@dataclass
class Example:
    """One question: its candidates' sentence features and what the gold answer says of them."""
    set: str
    id: str
    answerable: bool
    features: np.ndarray  # sentences × FEATURES
    labels: np.ndarray  # 1 where the sentence holds the gold answer
    passage_of: np.ndarray  # candidate position of each sentence's passage
    first_stage: np.ndarray  # candidates' first-stage scores, divided by the best
    passage_holds: np.ndarray  # 1 where a candidate passage holds the gold answer


def index_sets(names: list[str], spf: Path) -> list[tuple[str, Settings, Path]]:
    sets = []
    for name in names:
        if name == "seeds":
            sets.append((name, Settings.from_env(index="/tmp/qa-train/seeds"), ROOT / "benchmarks" / "questions-seeds.jsonl"))
        elif name == "iom":
            sets.append((name, Settings.from_env(corpus=SHARED / "iom-real" / "corpus", index="/tmp/qa-train/iom"),
                         SHARED / "iom-real" / "questions-dev.jsonl"))
        elif name == "spf":
            if not (spf / "corpus").is_dir():
                import subprocess
                subprocess.run([sys.executable, str(ROOT / "benchmarks" / "spf_corpus.py"), str(spf / "corpus")],
                               check=True)
            sets.append((name, Settings.from_env(corpus=spf / "corpus", index=spf / "index"),
                         SHARED / "spf" / "questions-dev.jsonl"))
        else:
            raise SystemExit(f"unknown set {name}")
    return sets


def examples_of(name: str, settings: Settings, questions_path: Path) -> list[Example]:
    ensure_index(settings)
    assistant = Assistant.open(settings=settings)
    documents = assistant.index.documents
    out = []
    for question in read_questions(questions_path):
        hits, vector = assistant._first_stage(question.question, SECOND_STAGE, None, {}, None)
        evidence = gather(question.question, vector, hits, assistant.index, assistant.term_weights,
                          encode=assistant.encoder.encode_passages)
        labels, holds = [], []
        for hit in hits:
            document = documents[hit.passage.doc_id]
            holds.append(bool(question.answer) and is_document(document, question.doc)
                         and contains(hit.passage.text, question.answer))
        for item in evidence:
            document = documents[hits[item.hit].passage.doc_id]
            positive = False
            if question.answer and is_document(document, question.doc):
                span = answer_span(document, question.answer)
                text = document.text[item.start:item.end]
                positive = contains(text, question.answer) or (
                    span is not None and span[0] < item.end and item.start < span[1])
            labels.append(positive)
        top = hits[0].score if hits and hits[0].score > 0 else 1.0
        out.append(Example(name, question.id, question.answerable, matrix(evidence), np.asarray(labels, dtype=int),
                           np.asarray([e.hit for e in evidence], dtype=int),
                           np.asarray([h.score / top for h in hits]), np.asarray(holds, dtype=bool)))
    print(f"{name}: {len(out)} questions, {sum(len(e.labels) for e in out)} sentences, "
          f"{sum(int(e.labels.sum()) for e in out)} holding the answer", flush=True)
    return out


def fit(examples: list[Example], c: float):
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler
    x = np.vstack([e.features for e in examples])
    y = np.concatenate([e.labels for e in examples])
    scaler = StandardScaler().fit(x)
    scale = np.where(scaler.scale_ > 0, scaler.scale_, 1.0)
    model = LogisticRegression(C=c, max_iter=2000).fit((x - scaler.mean_) / scale, y)
    return scaler.mean_, scale, model.coef_[0], float(model.intercept_[0])


def probabilities(params, features: np.ndarray) -> np.ndarray:
    mean, scale, coef, intercept = params
    if not len(features):
        return np.empty(0)
    return 1 / (1 + np.exp(-(((features - mean) / scale) @ coef + intercept)))


def judge(example: Example, p: np.ndarray, weight: float) -> dict:
    """What the reader would see with these probabilities: first citation, top 3, answer sentence,
    and the confidence the abstention threshold is compared with."""
    n = len(example.first_stage)
    best = np.zeros(n)
    best_label = np.zeros(n, dtype=int)
    for position, probability, label in zip(example.passage_of, p, example.labels):
        if probability > best[position]:
            best[position], best_label[position] = probability, label
    final = weight * example.first_stage + (1 - weight) * best
    order = np.argsort(-final, kind="stable")
    return {"first": bool(example.passage_holds[order[0]]) if n else False,
            "top3": bool(example.passage_holds[order[:3]].any()) if n else False,
            "sentence": bool(best_label[order[0]]) if n else False,
            "confidence": float(best[order[0]]) if n else 0.0}


def folds(examples: list[Example]) -> list[int]:
    """A fold for each question, dealt round-robin within each set so every fold holds every set."""
    counters: dict[str, int] = {}
    out = []
    for example in examples:
        counters[example.set] = counters.get(example.set, -1) + 1
        out.append(counters[example.set] % FOLDS)
    return out


def summary(examples: list[Example], outcomes: list[dict], threshold: float) -> str:
    answerable = [(e, o) for e, o in zip(examples, outcomes) if e.answerable and e.passage_holds.size]
    with_answer = [(e, o) for e, o in answerable if e.labels.size]
    unanswerable = [o for e, o in zip(examples, outcomes) if not e.answerable]
    n = len(with_answer)
    return (f"1re citation {sum(o['first'] for _, o in with_answer)}/{n}, top 3 {sum(o['top3'] for _, o in with_answer)}/{n}, "
            f"phrase {sum(o['sentence'] for _, o in with_answer)}/{n}, "
            f"abstention {sum(o['confidence'] < threshold for o in unanswerable)}/{len(unanswerable)}, "
            f"fausses abstentions {sum(o['confidence'] < threshold for _, o in answerable)}/{len(answerable)}")


def choose_threshold(examples: list[Example], outcomes: list[dict]) -> float:
    """The highest threshold that abstains on at most 5 % of the answerable questions."""
    answerable = sorted(o["confidence"] for e, o in zip(examples, outcomes) if e.answerable)
    allowed = int(MAX_FALSE_ABSTENTION * len(answerable))
    return float(answerable[allowed]) - 1e-6 if answerable else 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sets", default="seeds,iom,spf")
    parser.add_argument("--spf", default="/tmp/spf", type=Path)
    parser.add_argument("--c", default=1.0, type=float, help="inverse regularisation of the regression")
    parser.add_argument("--write", action="store_true", help=f"fit on everything and write {MODEL_PATH.name}")
    args = parser.parse_args()
    examples = [e for name, settings, path in index_sets(args.sets.split(","), args.spf)
                for e in examples_of(name, settings, path)]
    fold_of = folds(examples)

    predictions: list[np.ndarray | None] = [None] * len(examples)
    for fold in range(FOLDS):
        train = [e for e, f in zip(examples, fold_of) if f != fold]
        params = fit(train, args.c)
        for i, (example, f) in enumerate(zip(examples, fold_of)):
            if f == fold:
                predictions[i] = probabilities(params, example.features)

    print(f"\nCross-validation ({FOLDS} folds by question), per passage weight:")
    scores = {}
    for weight in PASSAGE_WEIGHTS:
        outcomes = [judge(e, p, weight) for e, p in zip(examples, predictions)]
        threshold = choose_threshold(examples, outcomes)
        answerable = [o for e, o in zip(examples, outcomes) if e.answerable and e.labels.size]
        scores[weight] = sum(o["first"] + o["sentence"] for o in answerable)
        print(f"  passage weight {weight:.2f} (abstain below {threshold:.3f}): {summary(examples, outcomes, threshold)}")
    weight = max(PASSAGE_WEIGHTS, key=lambda w: (scores[w], -abs(w - 0.5)))
    outcomes = [judge(e, p, weight) for e, p in zip(examples, predictions)]
    threshold = choose_threshold(examples, outcomes)
    print(f"\nChosen passage weight {weight:.2f}, abstain below {threshold:.3f}. Held-out folds, by set:")
    for name in dict.fromkeys(e.set for e in examples):
        chosen = [(e, o) for e, o in zip(examples, outcomes) if e.set == name]
        print(f"  {name:<6} {summary([e for e, _ in chosen], [o for _, o in chosen], threshold)}")
    print("By fold:")
    for fold in range(FOLDS):
        chosen = [(e, o) for e, o, f in zip(examples, outcomes, fold_of) if f == fold]
        print(f"  fold {fold} {summary([e for e, _ in chosen], [o for _, o in chosen], threshold)}")
    print("Abstention grid (held-out predictions):")
    for t in (0.02, 0.05, 0.1, 0.15, 0.2, 0.3, 0.4):
        unanswerable = [o for e, o in zip(examples, outcomes) if not e.answerable]
        answerable = [o for e, o in zip(examples, outcomes) if e.answerable]
        print(f"  below {t:.2f}: unanswerable abstained {sum(o['confidence'] < t for o in unanswerable)}/"
              f"{len(unanswerable)}, answerable abstained {sum(o['confidence'] < t for o in answerable)}/{len(answerable)}")

    if args.write:
        mean, scale, coef, intercept = fit(examples, args.c)
        model = {"features": list(FEATURES), "coef": [round(float(v), 6) for v in coef],
                 "intercept": round(intercept, 6), "mean": [round(float(v), 6) for v in mean],
                 "scale": [round(float(v), 6) for v in scale], "passage_weight": weight,
                 "abstain_below": round(threshold, 4), "floor": round(threshold / 2, 4),
                 "trained_on": args.sets, "trained_at": dt.date.today().isoformat(), "c": args.c}
        MODEL_PATH.write_text(json.dumps(model, indent=1) + "\n", encoding="utf-8")
        print(f"\nwritten {MODEL_PATH.relative_to(ROOT)}")
        for name, value in sorted(zip(FEATURES, coef), key=lambda item: -abs(item[1])):
            print(f"  {name:<24} {value:+.3f}")


if __name__ == "__main__":
    main()
