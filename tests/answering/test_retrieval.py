"""French lexical analysis, fusion, the answer sentence, abstention and `qa eval`."""
from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import replace

import pytest

from conftest import BAMAKO, SEGOU, write
from qa.answering.assistant import Assistant
from qa.evaluation import Question, evaluate, read_questions
from qa.indexing.build import build_index
from qa.reading.lexical import terms
from qa.settings import PROJECT_ROOT, Settings


@pytest.mark.parametrize("question_form,document_form", [
    ("l'organisation", "organisation"),
    ("d’urgence", "urgence"),
    ("qu'il", "il"),
    ("jusqu'au", "au"),
    ("lorsqu'elle", "elle"),
    ("puisqu'on", "on"),
    ("n'est", "est"),
    ("s'inscrire", "inscrire"),
    ("c'était", "était"),
    ("j'ai", "ai"),
    ("m'a", "a"),
    ("t'es", "es"),
    ("ete aides", "été aidés"),
    ("presidee", "présidée"),
    ("l’Organisation", "organisation"),
    ("jusqu'à Ségou", "Segou"),
    ("reintegration socio economique", "réintégration socio-économique"),
    ("migrants", "migrant"),
    ("célébrée", "célébré"),
    ("13000", "13 000"),
    ("13 000", "13\u00a0000"),
    ("13000", "13\u202f000"),
    ("135 %", "135%"),
    ("+223 92 40 49 21", "+223 92.40.49.21"),
    ("92 40 49 21", "92404921"),
])
def test_same_terms_for_question_and_document(question_form, document_form):
    assert terms(question_form) == terms(document_form)


def test_numbers_are_not_glued_together():
    assert terms("1.5 et 2,5") == ["1.5", "2.5"]
    assert "13000" in terms("plus de 13 000 migrants") and "13" not in terms("plus de 13 000 migrants")


TINY = {
    # Lexical side only: the exact code word; dense side: the meaning.
    "kx.txt": "Le code du programme est KX-4471. Il finance des puits dans le désert du Sahara.",
    "eau.txt": "Des forages apportent de l'eau potable aux villages situés dans les zones arides du Sahel.",
    "ecole.txt": "Une école a ouvert ses portes pour les enfants des familles de retour à Gao.",
}


@pytest.fixture(scope="module")
def tiny(tmp_path_factory, e5) -> Assistant:
    root = tmp_path_factory.mktemp("tiny")
    for name, text in TINY.items():
        write(root / "corpus", name, text)
    settings = Settings(corpus=root / "corpus", index=root / "index")
    build_index(settings, e5)
    return Assistant.open(settings=settings, encoder=e5)


def test_hybrid_keeps_what_each_side_finds_best(tiny):
    code = "KX-4471"
    assert tiny.search(code, 1, "lexical")[0].passage.doc_id == "kx.txt"
    assert tiny.search(code, 1, "hybrid")[0].passage.doc_id == "kx.txt"
    meaning = "Comment les habitants obtiennent-ils de quoi boire ?"
    assert tiny.search(meaning, 1, "lexical") == [] or tiny.search(meaning, 1, "lexical")[0].passage.doc_id != "eau.txt"
    assert tiny.search(meaning, 1, "dense")[0].passage.doc_id == "eau.txt"
    assert tiny.search(meaning, 1, "hybrid")[0].passage.doc_id == "eau.txt"


def test_hybrid_hits_carry_both_scores_in_order(tiny):
    hits = tiny.search("école pour les enfants de Gao", 3, "hybrid")
    assert hits[0].passage.doc_id == "ecole.txt"
    assert hits[0].dense is not None and hits[0].lexical > 0
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)


def test_unknown_mode_is_refused(tiny):
    from qa.errors import QAError
    with pytest.raises(QAError, match="mode inconnu"):
        tiny.search("eau", 1, "magic")


def test_answer_sentence_is_the_one_that_answers(assistant):
    answer = assistant.ask("Qui représentait l'Union européenne ?")
    assert answer.sentence.text.startswith("Le Représentant de la Délégation de l’Union européenne au Mali")
    first = answer.citations[0]
    assert first.text[first.highlight[0]:first.highlight[1]] == answer.sentence.text


def test_bm25_reads_the_passage_and_the_encoder_its_header_too(assistant):
    """The release's title and place are context for the encoder, not words of every passage."""
    from qa.indexing import store
    from qa.indexing.text import embedded_text
    index = assistant.index
    stored_terms = store.load_terms(index)
    without_place = [(passage, found) for passage, found in zip(index.live_passages(), stored_terms)
                     if passage.doc_id == SEGOU and "Ségou" not in passage.text]
    assert without_place
    for passage, found in without_place:
        assert found == terms(passage.text) and "segou" not in found
        assert "Ségou" in embedded_text(index.documents[SEGOU], passage)


def test_english_question_gets_french_passages(assistant):
    answer = assistant.ask("How many Malian migrants returned from Niger since 2017?")
    assert not answer.abstained and "13 000" in answer.sentence.text


@pytest.mark.parametrize("question", ["Qui a gagné la Coupe du monde de football 2018 ?",
                                      "Quelle est la recette du tiramisu ?"])
def test_off_topic_question_is_abstained_with_closest_passages(assistant, question):
    answer = assistant.ask(question)
    assert answer.abstained and answer.sentence is None
    assert answer.message == "Je n'ai trouvé aucun passage qui réponde à cette question."
    assert answer.citations  # still shown, as possibly useful
    assert answer.to_dict()["answer"] is None


def test_eval_metrics_computed_by_hand(assistant):
    questions = [
        Question("a", "Qui a présidé la cérémonie de Ségou ?", SEGOU, "Abdoulaye MAIGA"),
        Question("b", "Combien de migrants maliens sont rentrés du Niger depuis 2017 ?", BAMAKO.removesuffix(".txt"),
                 "13 000"),
        Question("c", "Quelle est la recette du tiramisu ?", None, None),
        Question("d", "Qui a présidé la cérémonie de Ségou ?", BAMAKO, "Abdoulaye MAIGA"),  # wrong document on purpose
    ]
    report = evaluate(assistant, questions)
    by_id = {o.question.id: o for o in report.outcomes}
    assert by_id["a"].doc_rank == 1 and by_id["a"].passage_rank == 1 and by_id["a"].sentence_correct
    assert by_id["b"].doc_rank == 1 and by_id["b"].passage_rank == 1
    assert by_id["c"].abstained and by_id["c"].doc_rank is None
    assert by_id["d"].doc_rank == 2 and by_id["d"].passage_rank is None and not by_id["d"].sentence_correct
    metrics = report.metrics()
    # Three answerable questions with document ranks 1, 1, 2.
    assert metrics["document"]["recall@1"] == pytest.approx(2 / 3)
    assert metrics["document"]["mrr@10"] == pytest.approx((1 + 1 + 0.5) / 3)
    assert metrics["document"]["ndcg@10"] == pytest.approx((1 + 1 + 1 / 1.5849625) / 3, rel=1e-5)
    assert metrics["passage"]["recall@10"] == pytest.approx(2 / 3)
    assert metrics["sentence_accuracy"] == pytest.approx(2 / 3)
    assert metrics["abstention"] == {"precision": 1.0, "recall": 1.0, "answerable_abstained": 0.0}


def test_eval_command_reads_both_formats(seed_index, seed_settings, tmp_path):
    rows = [{"question": "Combien d'États membres compte l'OIM ?", "doc": SEGOU.removesuffix(".txt"),
             "answer": "175 Etats membres"},
            {"id": "x", "q": "Quelle est la capitale de l'Australie ?", "doc": None, "answer": None}]
    path = write(tmp_path, "set.jsonl", "\n".join(json.dumps(r, ensure_ascii=False) for r in rows))
    assert [q.answerable for q in read_questions(path)] == [True, False]
    run = subprocess.run([sys.executable, "-m", "qa", "eval", str(path), "--index", str(seed_settings.index),
                          "--json"], capture_output=True, text=True, timeout=300, cwd=PROJECT_ROOT)
    assert run.returncode == 0, run.stderr
    metrics = json.loads(run.stdout)
    assert metrics["questions"] == 2 and metrics["document"]["recall@1"] == 1.0
    assert metrics["abstention"]["recall"] == 1.0


def test_seed_question_set_meets_its_targets(assistant):
    """The project's own targets on benchmarks/questions-seeds.jsonl (issue: retrieval quality)."""
    report = evaluate(assistant, read_questions(PROJECT_ROOT / "benchmarks" / "questions-seeds.jsonl"))
    metrics = report.metrics()
    assert metrics["questions"] >= 30 and metrics["unanswerable"] >= 5
    assert metrics["passage"]["recall@5"] == 1.0
    assert metrics["passage"]["recall@1"] >= 0.95  # the first citation holds the answer
    assert metrics["sentence_accuracy"] >= 0.90
    # The abstention threshold keeps false abstentions at most 2 % on the development sets (on
    # questions written blind they came out about three times higher), at the cost of abstaining
    # on fewer unanswerable seed questions than the old 2/3 (README, « Quality »).
    assert metrics["abstention"]["recall"] >= 0.5
    assert metrics["abstention"]["answerable_abstained"] <= 0.05


def test_an_answer_is_found_whatever_its_apostrophes():
    """A question file typed with straight apostrophes still finds its answer in a release typed
    with curly ones (« l’Italie »), in the passage and in the document."""
    from qa.evaluation import answer_span, contains
    from qa.reading.documents import Document
    text = "Un centre de 80 lits, construit avec l’appui de l’Italie."
    assert contains(text, "appui de l'Italie") and contains(text.replace("’", "'"), "appui de l’Italie")
    document = Document(id="gao.txt", source="gao.txt", text=text, title=None, date=None, place=None, sha256="-")
    assert answer_span(document, "appui de l'Italie") == (text.index("appui"), len(text) - 1)
    assert not contains(text, "appui de la France")
