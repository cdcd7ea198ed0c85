"""What a question names specifically, whether the release and the evidence window hold it, and
the confidence that reads it: an on-topic near miss (another city, another region) gets less
confidence than the question the release answers (real model, real seed index)."""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from conftest import SEGOU
from qa.answering.evidence import CONFIDENCE_FEATURES, CONFIDENCE_ONLY, FEATURES, EvidenceModel, MODEL_PATH, gather, matrix
from qa.answering.questions import holds, is_english, specific_terms

TABLE_RONDE = "oim-mali-2021-12-13-table-ronde-bamako.txt"


@pytest.mark.parametrize("question,named", [
    ("Combien de Burkinabè étaient à bord du 34ème vol charter de l'OIM Mali ?", ["burkinab", "34", "oim", "mal"]),
    ("Qui est le gouverneur de la région de Sikasso ?", ["sikasso"]),  # « Qui » only opens the question
    ("L'OIM a-t-elle ouvert un bureau à Agadez ?", ["oim", "agad"]),  # an elided name opening it counts
    ("Parmi les 10 112 migrants assistés, combien étaient des femmes ?", ["10112"]),
    ("Combien de jeunes ont participé à la deuxième édition ?", ["deuxiem"]),
    ("Combien de migrants sont rentrés en 2023 ?", []),  # a year is read by year_missing, not here
    ("combien de maliens rentres de mauritanie ?", []),  # no capitals: the candidates' entities tell
    ("How many Malian migrants flew from Libya to Bamako on 17 December?", ["17"]),  # English: numbers only
])
def test_what_a_question_names_specifically(question, named):
    assert specific_terms(question) == named


def test_a_question_in_english():
    assert is_english("Who represented the EU at Ségou?")
    assert is_english("How many migrants were assisted in 2023?")
    assert not is_english("Qui a représenté l'Union européenne à Ségou ?")
    assert not is_english("combien de migrants sont rentres de libye")


def test_the_day_of_a_date_counts_nothing():
    question = "Combien de participants ont pris part à l'atelier ?"
    assert not holds("Le 14 mars 2022, l'OIM a ouvert un atelier à Bamako.", question, "number", []).new
    assert not holds("Bamako - Mardi (23/06), l'atelier s'est ouvert.", question, "number", []).new
    assert holds("Le 14 mars, 35 participants ont pris part à l'atelier.", question, "number", []).new


def test_a_release_that_lacks_what_the_question_names(assistant):
    """Ségou is named by one seed release only: the other release's sentences miss it, in the
    release and in their window (a window is part of its release, with its title and place)."""
    question = "Combien de pays ont participé à la table ronde de Ségou ?"
    hits, vector = assistant._first_stage(question, 10, None, {}, None)
    evidence = gather(question, vector, hits, assistant.index, assistant.term_weights)
    x = matrix(evidence)
    release, window = FEATURES.index("named_missing"), FEATURES.index("named_window_missing")
    doc_of = np.array([hits[e.hit].passage.doc_id for e in evidence])
    assert {TABLE_RONDE, SEGOU} <= set(doc_of)
    assert np.all(x[doc_of == TABLE_RONDE, release] == 1.0)
    assert np.all(x[doc_of == SEGOU, release] == 0.0)
    assert np.all(x[:, window] >= x[:, release])
    assert np.all(x[doc_of == SEGOU, window] == 0.0)  # its place (Ségou) heads every window
    lift = x[:, FEATURES.index("dense_lift")]  # over the candidates' median similarity
    assert lift.min() < 0 < lift.max()
    assert np.argmax(lift) == np.argmax(x[:, FEATURES.index("sentence_dense")])


@pytest.mark.parametrize("answered,near_miss", [
    ("Combien de pays ont participé à la table ronde de Bamako ?",
     "Combien de pays ont participé à la table ronde de Ségou ?"),
    ("Où s'est tenue la table ronde entre l'OIM et les pays du Sahel ?",
     "Où s'est tenue la table ronde entre l'OIM et les pays du Golfe ?"),
    ("Qui a présidé la cérémonie de la journée des migrants à Ségou ?",
     "Qui a présidé la cérémonie de la journée des migrants à Kayes ?"),
])
def test_a_near_miss_gets_less_confidence_than_the_question_answered(assistant, answered, near_miss):
    assert assistant.ask(near_miss).confidence < assistant.ask(answered).confidence


def test_features_only_the_confidence_reads():
    """The shipped sentence model gives them no weight; the confidence model reads them."""
    model = EvidenceModel.load(MODEL_PATH)
    for name in CONFIDENCE_ONLY:
        assert model.coef[FEATURES.index(name)] == 0.0
        assert name in CONFIDENCE_FEATURES
    assert model.confidence is not None
    assert model.confidence[0][CONFIDENCE_FEATURES.index("named_missing")] < 0


def test_the_trainer_fits_no_sentence_weight_on_what_only_the_confidence_reads():
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
    import train_evidence
    rng = np.random.default_rng(0)
    examples = []
    for i in range(40):
        x = rng.normal(size=(12, len(FEATURES)))
        labels = np.zeros(12, dtype=int)
        labels[i % 12] = 1
        x[:, FEATURES.index("named_missing")] = 1.0 - 3 * labels  # would predict the answer perfectly
        x[:, FEATURES.index("coverage")] += 2 * labels
        examples.append(train_evidence.Example("s", str(i), True, x, labels, np.arange(12) // 3,
                                               np.ones(4), np.ones(4, dtype=bool)))
    before = examples[0].features.copy()
    for objective in ("pointwise", "listwise"):
        mean, scale, coef, _ = train_evidence.fit(examples, 1.0, objective)
        for name in CONFIDENCE_ONLY:
            assert coef[FEATURES.index(name)] == 0.0
        assert coef[FEATURES.index("coverage")] > 0
    assert np.array_equal(examples[0].features, before)  # the examples are left as they are


def _segou_rows(assistant, question):
    """The features of the Ségou release's lede and of the sentence that says who presided."""
    hits, vector = assistant._first_stage(question, 10, None, {}, None)
    evidence = gather(question, vector, hits, assistant.index, assistant.term_weights)
    documents = assistant.index.documents
    out = {}
    for item, row in zip(evidence, matrix(evidence)):
        document = documents[hits[item.hit].passage.doc_id]
        text = document.text[item.start:item.end]
        if document.id == SEGOU and text.startswith(("Ségou, le 19 décembre 2024", "La cérémonie a été présidée")):
            out[text[:5]] = dict(zip(FEATURES, row))
    assert set(out) == {"Ségou", "La cé"}
    return out.values()


def test_another_year_than_the_one_asked(assistant):
    for row in _segou_rows(assistant, "Où a été célébrée la journée internationale des migrants en 2019 ?"):
        assert row["year_conflict"] == 1.0
    for row in _segou_rows(assistant, "Où a été célébrée la journée internationale des migrants en 2024 ?"):
        assert row["year_conflict"] == 0.0
    for row in _segou_rows(assistant, "Où a été célébrée la journée internationale des migrants ?"):
        assert row["year_conflict"] == 0.0  # no year asked, none in conflict


def test_another_place_than_the_one_asked(assistant):
    """Bamako is in the corpus (the other release), not in the Ségou release's windows, whose
    sentences name Ségou: another place; Tombouctou is nowhere in the corpus: not a named term."""
    for row in _segou_rows(assistant, "Qui a présidé la cérémonie de la journée des migrants à Bamako ?"):
        assert row["place_conflict"] == 1.0 and row["named_window_missing"] == 1.0
    for name in ("Ségou", "Tombouctou"):
        for row in _segou_rows(assistant, f"Qui a présidé la cérémonie de la journée des migrants à {name} ?"):
            assert row["place_conflict"] == 0.0 and row["named_window_missing"] == 0.0
    for row in _segou_rows(assistant, "Who chaired the Migrants Day ceremony in Bamako?"):
        assert row["english"] == 1.0 and row["named_window_missing"] == 0.0  # English: numbers only
