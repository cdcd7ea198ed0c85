"""The second stage: what a question asks for, what a sentence holds, the learned model, and the
answer it gives on the seeds (real model, real index)."""
from __future__ import annotations

import numpy as np
import pytest

from conftest import SEGOU
from qa.answering.evidence import (CONFIDENCE_FEATURES, FEATURES, EvidenceModel, MODEL_PATH, confidence_rows,
                                   gather, matrix)
from qa.answering.questions import answer_type, focus_terms, holds
from qa.answering.search import Filter
from qa.indexing.postings import Lexical, Postings
from qa.reading.lexical import terms


@pytest.mark.parametrize("question,kind", [
    ("Combien de migrants maliens sont rentrés depuis 2017 ?", "number"),
    ("How many kits were distributed in Gao?", "number"),
    ("Quelle part des migrants étaient gambiens ?", "number"),
    ("Qui a présidé la cérémonie à Ségou ?", "person"),
    ("Who represented the EU at Ségou?", "person"),
    ("Par qui le projet est-il financé ?", "person"),
    ("Quand la table ronde a-t-elle eu lieu ?", "date"),
    ("À quelles dates l'atelier s'est-il tenu à Bamako ?", "date"),
    ("quel jour le camion a-t-il ete remis ?", "date"),
    ("Où a été célébrée la Journée internationale des migrants ?", "place"),
    ("ou a ete celebree la journee ?", "place"),
    ("Depuis quelle ville le convoi est-il parti ?", "place"),
    ("Pourquoi l'aide au retour a-t-elle été suspendue ?", "cause"),
    ("Quel était le thème de la Journée internationale des migrants 2024 ?", "title"),
    ("Sous quel intitulé la journée a-t-elle été placée ?", "title"),
    ("Comment s'intitule l'étude restituée à Dakar ?", "title"),
    ("Sur quelle surface s'étend le centre pour migrants ?", "number"),
    ("Quelle est la durée du projet ?", "number"),
    ("Quel est le délai de prescription d'une dette locative ?", "number"),
    ("Quel message le ministre a-t-il adressé ?", None),
    ("Les migrants qui sont rentrés ont-ils reçu un kit ?", None),  # a relative « qui » asks for no one
])
def test_answer_type_of_a_question(question, kind):
    assert answer_type(question) == kind


def test_a_sentence_holds_what_the_question_does_not_already_name():
    question = "Combien de migrants sont rentrés depuis 2017 ?"
    assert holds("Depuis 2017, 44 000 migrants sont rentrés.", question, "number", []).new
    assert not holds("Depuis 2017, l'OIM aide les migrants.", question, "number", []).held
    paid = holds("Il a dû verser 450 dollars à ses ravisseurs.", "Combien a-t-il dû verser ?", "number", [])
    assert paid.new and paid.unit
    named = holds("Selon Michele Bombassei, l'aide est suspendue.", "Qui a expliqué la suspension au Mali ?",
                  "person", [("PER", "Michele Bombassei")])
    assert named.new
    same = holds("L'OIM au Mali a suspendu son aide.", "Qui, à l'OIM au Mali, a suspendu l'aide ?", "person",
                 [("ORG", "OIM"), ("LOC", "Mali")])
    assert same.held is True and same.new is False


def test_what_a_number_counts_and_measures():
    counted = holds("Sur les 140 retournés, l’on dénombre 36 femmes et 104 hommes.",
                    "combien de femmes parmi les 140 tchadiens revenus ?", "number", [])
    assert counted.new and counted.counted
    age = holds("Cisse, 27 ans, est arrivé en Libye.", "Combien Cisse a-t-il dû verser à ses ravisseurs ?", "number", [])
    assert age.new and age.unit_missing and not age.counted  # an age, where an amount is asked
    assert not holds("Il a versé 450 dollars.", "Combien a-t-il dû verser ?", "number", []).unit_missing


def test_a_person_counts_in_the_role_the_question_asks_about():
    question = "Qui est responsable du bureau local de l'OIM à Kolda ?"
    head = holds("Sileymane Sow, chef du sous bureau OIM de Kolda, a présenté les projets.", question, "person",
                 [("PER", "Sileymane Sow"), ("ORG", "OIM"), ("LOC", "Kolda")])
    assert head.person and head.role
    spokesman = "qui etait le porte-parole des 171 migrants maliens bloques au niger"
    assert holds("Selon le porte-parole de ces migrants, Hamara Fofana, ils avaient refusé d'être rapatriés.",
                 spokesman, "person", [("PER", "Hamara Fofana")]).role
    other = holds("Selon le chef de cabinet du ministère, Mohamed Ag Albachar, les 171 migrants étaient bloqués.",
                  spokesman, "person", [("PER", "Mohamed Ag Albachar")])
    assert other.person and not other.role  # a person, in another role
    envoy = holds("Le Représentant de la Délégation de l’Union européenne au Mali, M. Tomas ECKERT, a réitéré le "
                  "soutien de l’UE.", "Qui représentait l'Union européenne à Ségou ?", "person",
                  [("ORG", "Délégation de l’Union européenne"), ("LOC", "Mali"), ("PER", "Tomas ECKERT")])
    assert envoy.role  # the role and what it is of, then the name


def test_a_unit_counts_when_it_measures_a_new_number():
    question = "Combien de temps Alpha, 15 ans, est-il resté incarcéré en Libye ?"
    assert not holds("Parmi les passagers Alpha, 15 ans.", question, "number", []).unit  # « ans », of the age named
    assert holds("Il y passa 11 mois avant d’être secouru par l’OIM.", question, "number", []).unit
    assert holds("Ils reçoivent leur appui dans les trois mois.", "Combien de temps attendent-ils l'appui ?",
                 "number", []).unit
    area = holds("Le centre est bâti sur une superficie de 3 500 mètres carrés.",
                 "Sur quelle surface s'étend le centre de Gao ?", "number", [])
    assert area.new and area.unit and not area.unit_missing
    assert holds("Le centre a une capacité de 80 lits.", "Sur quelle surface s'étend le centre ?", "number",
                 []).unit_missing
    assert holds("Après un périple de six jours et de 2 985 km, le convoi est arrivé à Dakar.",
                 "Combien de kilomètres le convoi a-t-il parcourus ?", "number", []).unit  # km for kilomètres


def test_a_title_is_a_short_quote_the_question_does_not_name():
    question = "Sous quel intitulé le Mali a-t-il placé la Journée internationale des migrants 2022 ?"
    theme = holds("Le thème national retenu pour l’édition 2022 est : « Gouvernance migratoire au Mali : enjeux "
                  "et perspectives ».", question, "title", [])
    assert theme.new and theme.unit  # a quote, named as a theme
    assert not holds("La Journée internationale des migrants est célébrée le 18 décembre.", question, "title", []).held
    statement = holds("« Nous continuons de soutenir le retour sûr et digne des migrants dans leur pays d’origine, avec "
                      "nos partenaires et les autorités nationales, partout où cela est nécessaire », a déclaré le chef "
                      "de mission.", question, "title", [])
    assert statement.held and not statement.new  # a statement is quoted too, but it is no title


def test_a_place_the_entity_recogniser_misses_is_read_from_what_introduces_it():
    question = "Dans quelle ville du littoral libyen Issa travaillait-il ?"
    found = holds("Il a travaillé comme ouvrier agricole dans la ville côtière d’Az Zawiyah.", question, "place", [])
    assert found.held and found.new
    assert not holds("Il a travaillé comme ouvrier agricole en Libye.", question, "place", []).new


def test_the_window_reads_the_sentences_before_and_the_whole_release(assistant):
    """A sentence's window holds the question's terms said just before it; a release that never
    names the question's year is marked, unless the reader removed the period."""
    question = "Combien de migrants maliens ont été aidés à rentrer chez eux en 1990 ?"
    hits, vector = assistant._first_stage(question, 10, None, {}, None)
    evidence = gather(question, vector, hits, assistant.index, assistant.term_weights)
    x = matrix(evidence)
    at = {name: FEATURES.index(name) for name in ("coverage", "window_coverage", "window_gain", "year_missing",
                                                   "document_coverage")}
    assert np.all(x[:, at["window_coverage"]] >= x[:, at["coverage"]] - 1e-9)
    assert np.all(x[:, at["window_gain"]] >= -1e-9) and x[:, at["window_gain"]].max() > 0
    assert np.all(x[:, at["year_missing"]] == 1.0)  # no seed release names 1990
    assert np.all(x[:, at["document_coverage"]] >= x[:, at["coverage"]] - 1e-9)
    ignored = matrix(gather(question, vector, hits, assistant.index, assistant.term_weights, years=False))
    assert np.all(ignored[:, at["year_missing"]] == 0.0)


def test_the_answer_after_the_sentence_that_sets_out_the_question(assistant):
    """« follows »: a sentence holding a new element of the kind asked for, just after sentences that
    hold the question's terms (the lede names the day and Ségou, the next sentence who presided)."""
    question = "Qui a présidé la journée internationale des migrants célébrée à Ségou ?"
    hits, vector = assistant._first_stage(question, 10, None, {}, None)
    evidence = gather(question, vector, hits, assistant.index, assistant.term_weights)
    x = matrix(evidence)
    at = {name: FEATURES.index(name) for name in ("follows", "type_new", "window_typed")}
    assert np.all(x[x[:, at["type_new"]] == 0, at["follows"]] == 0)
    assert np.all(x[:, at["follows"]] <= x[:, at["window_typed"]] + 1e-9)
    documents = assistant.index.documents
    presided = [row for row, e in zip(x, evidence)
                if documents[hits[e.hit].passage.doc_id].text[e.start:e.end].startswith("La cérémonie a été présidée")]
    assert presided and presided[0][at["follows"]] > 0.3


@pytest.mark.parametrize("question,focus", [
    ("Quel bailleur a financé la formation de quatre jours organisée à Bamako ?", "bailleur"),
    ("À combien de familles déplacées correspond l'aide apportée par l'OIM ?", "familles déplacées correspond"),
    ("Combien de migrants l'OIM a-t-elle secourus dans le désert ?", "migrants"),
    ("quelle est la toute premiere etape du parcours de reintegration ?", "toute premiere etape"),
    ("Quel responsable de l'OIM, coordonnateur du projet, s'est exprimé ?", "responsable OIM"),
    ("Quelle somme d'argent l'OIM remet-elle à chaque migrant ?", "somme argent"),
    ("De quelle localité est originaire Ali Sangho ?", "localité"),
    ("Pourquoi l'aide au retour a-t-elle été suspendue ?", ""),
])
def test_what_a_question_asks_about(question, focus):
    """The words after the interrogative, up to the verb, the comma, a subject or four words."""
    assert focus_terms(question) == terms(focus)


def test_the_sentence_that_holds_what_is_asked_about(assistant):
    """A question that restates its release (the day, Ségou) and asks which minister presided: a
    sentence holds what is asked about when it names a minister (the one saying who presided
    does), whatever else of the question it restates."""
    question = "Quel ministre a présidé la cérémonie de la Journée internationale des migrants du 18 décembre à Ségou ?"
    assert focus_terms(question) == terms("ministre")
    hits, vector = assistant._first_stage(question, 10, None, {}, None)
    evidence = gather(question, vector, hits, assistant.index, assistant.term_weights)
    x = matrix(evidence)
    at = {name: FEATURES.index(name) for name in ("focus_coverage", "focus_window", "coverage")}
    assert np.all(x[:, at["focus_window"]] >= x[:, at["focus_coverage"]] - 1e-9)
    text = [assistant.index.documents[hits[e.hit].passage.doc_id].text[e.start:e.end] for e in evidence]
    assert [row[at["focus_coverage"]] for row in x] == [float("ministr" in terms(t)) for t in text]
    presided = [row for row, t in zip(x, text) if t.startswith("La cérémonie a été présidée")]
    assert presided and presided[0][at["focus_coverage"]] == 1.0
    # the lede restates more of the question, and holds nothing of what it asks about
    restating = max(zip(x[:, at["coverage"]], x[:, at["focus_coverage"]]))
    assert restating[0] > presided[0][at["coverage"]] and restating[1] == 0.0


def test_the_shipped_model_reads_the_features_the_code_computes():
    model = EvidenceModel.load(MODEL_PATH)
    assert len(model.coef) == len(FEATURES) == len(model.mean)
    assert 0 < model.abstain_below < 1 and 0 <= model.passage_weight <= 1
    p = model.probabilities(np.zeros((3, len(FEATURES))))
    assert p.shape == (3,) and np.all((p > 0) & (p < 1))
    if model.confidence is None:  # the confidence shown is the best sentence's probability
        rows = np.array([[0.3] + [0.0] * (len(CONFIDENCE_FEATURES) - 1)])
        assert model.confidences(rows) == pytest.approx([0.3])
    else:
        assert len(model.confidence[0]) == len(CONFIDENCE_FEATURES)
        c = model.confidences(np.zeros((2, len(CONFIDENCE_FEATURES))))
        assert c.shape == (2,) and np.all((c > 0) & (c < 1))


def test_confidence_reads_the_margin_over_the_best_other_passage():
    features = np.zeros((3, len(FEATURES)))
    features[:, FEATURES.index("type_missing")] = [0.0, 1.0, 1.0]
    rows = confidence_rows(np.array([0.5, 0.9, 0.2]), features)
    assert rows.shape == (3, len(CONFIDENCE_FEATURES))
    assert np.allclose(rows[:, CONFIDENCE_FEATURES.index("margin")], [-0.4, 0.4, -0.7])
    assert np.allclose(rows[:, CONFIDENCE_FEATURES.index("type_missing")], [0.0, 1.0, 1.0])
    assert confidence_rows(np.array([0.3]), features[:1])[0, 1] == pytest.approx(0.3)  # alone: over nothing


def test_a_typo_still_finds_the_indexed_spelling():
    lexical = Lexical([Postings.of([terms("Les migrants de Tombouctou ont achevé leur réintégration."),
                                    terms("Une autre phrase sur Gao.")])], [None])
    expanded = lexical.expand(terms("Combien à Tomboctou ?"))
    assert terms("Tombouctou")[0] in expanded
    assert lexical.expand(terms("Combien à Gao ?")) == terms("Combien à Gao ?")  # known terms stay as they are


def test_the_answer_is_the_first_citation_and_highlights_are_not_repeated(assistant):
    answer = assistant.ask("Combien de migrants maliens sont rentrés depuis 2017 ?", k=5)
    first = answer.citations[0]
    start, end = first.highlight
    assert answer.sentence.text == first.text[start:end]
    spans = [(c.doc_id, c.start + c.highlight[0], c.start + c.highlight[1]) for c in answer.citations]
    assert len(spans) == len(set(spans))
    assert all(0 <= c.confidence <= 1 for c in answer.citations)


def test_the_answer_goes_on_into_the_next_sentence_when_it_continues_there(assistant):
    answer = assistant.ask("Combien de migrants maliens ont été aidés à rentrer chez eux depuis 2017 ?",
                           where=Filter(frozenset({SEGOU})))
    assert answer.citations[0].source == SEGOU
    assert "44 000" in answer.sentence.text and "Parmi eux, plus de 33 000" in answer.sentence.text


def test_confidence_is_not_a_constant(assistant):
    answered = assistant.ask("Qui a présidé la cérémonie à Ségou ?")
    off_topic = assistant.ask("Quelle est la recette du tiramisu ?")
    assert not answered.abstained and off_topic.abstained
    assert answered.confidence > off_topic.confidence
    assert answered.to_dict()["confidence_label"] in ("forte", "moyenne", "faible")
