"""Follow-up questions: which turns borrow from the ones before them, what they borrow, and that a
question standing alone is answered exactly as without history."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import BAMAKO, SEGOU
from qa.answering.conversation import Reading, Turn, follow_up_kind, read, turns, with_prior
from qa.service import Service
from qa.settings import PROJECT_ROOT

SEEDS = [PROJECT_ROOT / "benchmarks" / "questions-seeds.jsonl", PROJECT_ROOT / "benchmarks" / "questions-seeds-blind.jsonl"]
# Every development question set; the last two live beside the project, on the machines that have them.
ALL_SETS = SEEDS + [PROJECT_ROOT / "benchmarks" / "questions-iom-blind.jsonl",
                    PROJECT_ROOT.parent / "shared" / "benchmarks" / "iom-real" / "questions-dev.jsonl",
                    PROJECT_ROOT.parent / "shared" / "benchmarks" / "spf" / "questions-dev.jsonl"]
CONVERSATIONS = PROJECT_ROOT / "benchmarks" / "conversations-dev.jsonl"


def rows(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def question_of(row: dict) -> str:
    return row.get("question", row.get("q"))


def after(previous: str, question: str, doc_ids=("d1",)) -> Reading:
    return read(question, [Turn(previous, None, tuple(doc_ids))])


# Which turns follow up ------------------------------------------------------------------------

@pytest.mark.parametrize("question,kind", [
    ("Et à Gao ?", "et"),
    ("Et en 2019 ?", "et"),
    ("Et l'année suivante ?", "et"),
    ("Et parmi eux, combien ont terminé leur réintégration ?", "parmi"),
    ("Parmi elles, combien de femmes ?", "parmi"),
    ("Combien d'entre elles ont déjà reçu des tentes ?", "parmi"),
    ("Qui l'a financé ?", "pronoun"),
    ("Où cela s'est-il passé ?", "pronoun"),
    ("Quand a-t-elle eu lieu ?", "pronoun"),
    ("Où ont-ils été accueillis à leur arrivée ?", "pronoun"),
    ("Quel ministre les a accueillis ?", "pronoun"),
    ("Combien de migrants de retour y ont suivi une formation ?", "pronoun"),
    ("Avec l'appui de quel pays a-t-il été construit ?", "pronoun"),
    ("Qui finance ce projet ?", "demonstrative"),
    ("Quand cette initiative a-t-elle commencé ?", "pronoun"),
    ("À Tombouctou ?", "ellipsis"),
])
def test_follow_ups_are_recognised(question, kind):
    assert follow_up_kind(question) == kind


@pytest.mark.parametrize("question", [
    "Quel jour la table ronde de Bamako a-t-elle eu lieu ?",  # inverted pronoun with its own subject
    "Dans combien de pays l'OIM est-elle présente ?",
    "quand l'oim a-t-elle ouvert son sous-bureau de sikasso ?",  # lower case, no accent
    "Un étranger peut-il percevoir des prestations familiales en France ?",
    "Combien y avait-il de personnes déplacées internes au Mali en avril 2020 ?",  # « y avait-il » is impersonal
    "Quel temps fera-t-il demain à Paris ?",
    "Parmi les migrants aidés au retour depuis mai 2017, quelle part a moins de 25 ans selon eux ?",
    "Conciliateur de l'assurance maladie : comment y recourir ?",  # the topic comes first
    "Combien de ces rapatriés maliens sont allés au bout de leur parcours de réinsertion socio-économique ?",
    "Combien de migrants vivent en Lybie selon le recensement de l'OIM cité dans ce communiqué ?",
    "Qui a présidé la cérémonie à Ségou ?",
])
def test_questions_with_a_subject_of_their_own_stand_alone(question):
    assert follow_up_kind(question) is None
    assert read(question, [Turn("Combien de migrants maliens sont rentrés depuis 2017 ?", None, ("d",))]) \
        == Reading(question)


def test_no_development_question_reads_as_a_follow_up():
    """The false detections on every development set: none (221 questions where all sets are present)."""
    questions = [question_of(row) for path in ALL_SETS if path.exists() for row in rows(path)]
    assert len(questions) >= 73
    assert [q for q in questions if follow_up_kind(q)] == []


def test_development_conversations_first_and_standalone_turns_stand_alone():
    for row in rows(CONVERSATIONS):
        if row["kind"] in ("first", "standalone"):
            assert follow_up_kind(row["q"]) is None, row["id"]


def test_a_first_question_is_never_a_follow_up():
    assert read("Et à Gao ?", []) == Reading("Et à Gao ?")


# What they borrow -----------------------------------------------------------------------------

def test_ellipsis_of_place_replaces_the_place_of_the_same_kind():
    previous = "Combien de migrants maliens sont rentrés volontairement du Niger depuis 2017, selon la table ronde de Bamako ?"
    assert after(previous, "Et de Libye ?").understood_as == (
        "Combien de migrants maliens sont rentrés volontairement de Libye depuis 2017, selon la table ronde de Bamako ?")
    reading = after("Combien de ménages ont reçu des kits à Ménaka en décembre 2022 ?", "Et à Bandiagara ?")
    assert reading.understood_as == "Combien de ménages ont reçu des kits à Bandiagara en décembre 2022 ?"
    assert reading.kind == "ellipsis" and reading.prior == ("d1",) and reading.own is None


def test_ellipsis_of_time_replaces_the_time_or_adds_it():
    assert after("Combien de migrants maliens sont rentrés depuis 2017 ?", "Et en 2019 ?").understood_as == \
        "Combien de migrants maliens sont rentrés en 2019 ?"
    assert after("Combien de Maliens sont rentrés le mardi 23 juin ?", "Et le 4 juin ?").understood_as == \
        "Combien de Maliens sont rentrés le 4 juin ?"
    assert after("Combien de kits ont été distribués à Gao ?", "Et en 2021 ?").understood_as == \
        "Combien de kits ont été distribués à Gao en 2021 ?"


@pytest.mark.parametrize("follow_up,understood", [
    ("Et l'année suivante ?", "Combien de déplacés comptait le Mali l'année 2021 ?"),
    ("Et l'année précédente ?", "Combien de déplacés comptait le Mali l'année 2019 ?"),
    ("Et deux ans plus tôt ?", "Combien de déplacés comptait le Mali en avril 2018 ?"),
    ("Et un an plus tard ?", "Combien de déplacés comptait le Mali en avril 2021 ?"),
])
def test_relative_times_count_from_the_previous_year(follow_up, understood):
    assert after("Combien de déplacés comptait le Mali en avril 2020 ?", follow_up).understood_as == understood


def test_a_day_without_a_year_takes_the_previous_year():
    assert after("Combien de migrants sont rentrés de Libye le 8 novembre 2017 ?",
                 "Et une semaine plus tôt, le 1er novembre ?").understood_as == \
        "Combien de migrants sont rentrés de Libye le 1er novembre 2017 ?"


def test_parmi_and_pronouns_borrow_the_subject():
    reading = after("Combien de migrants maliens sont rentrés depuis 2017 ?",
                    "Et parmi eux, combien ont terminé leur réintégration ?")
    assert reading.understood_as == ("Parmi eux, combien ont terminé leur réintégration ? "
                                     "(migrants maliens rentrés depuis 2017)")
    assert reading.kind == "parmi" and reading.own.startswith("Parmi eux, combien ont terminé")
    assert after("Combien de Maliens sont rentrés de Niamey le 4 juin grâce au couloir humanitaire ?",
                 "Qui l'a financé ?").understood_as == \
        "Qui l'a financé ? (Maliens rentrés de Niamey le 4 juin grâce au couloir humanitaire)"
    assert after("Quelle est la capacité du centre pour migrants remis aux autorités à Gao ?",
                 "Où cela s'est-il passé ?").understood_as == \
        "Où cela s'est-il passé ? (le centre pour migrants remis aux autorités à Gao)"


def test_ce_projet_and_cette_initiative_borrow_the_subject():
    previous = "Combien de jeunes l'initiative conjointe a-t-elle formés à Kayes en 2022 ?"
    for follow_up in ("Qui finance ce projet ?", "Quand cette initiative a-t-elle commencé ?"):
        understood = after(previous, follow_up).understood_as
        assert understood.startswith(follow_up) and understood.endswith("formés à Kayes en 2022)")


def test_a_different_attribute_of_the_same_event():
    reading = after("Où a été célébrée la Journée internationale des migrants 2024 ?", "Qui l'a présidée ?")
    assert reading.understood_as == "Qui l'a présidée ? (célébrée la Journée internationale des migrants 2024)"


def test_the_chain_reads_each_turn_as_the_previous_one_was_understood():
    history = turns(["Combien de migrants maliens sont rentrés volontairement du Niger depuis 2017 ?", "Et de Libye ?"])
    assert history[1].understood == "Combien de migrants maliens sont rentrés volontairement de Libye depuis 2017 ?"
    assert read("Et du Maroc ?", history).understood_as == \
        "Combien de migrants maliens sont rentrés volontairement du Maroc depuis 2017 ?"
    # A follow-up borrows the subject, not the attribute the previous follow-up asked for.
    history = turns(["Combien de Maliens sont rentrés de Niamey le 23 juin ?", "Qui a financé ces vols ?"])
    assert read("Où ont-ils atterri ?", history).understood_as == \
        "Où ont-ils atterri ? (Maliens rentrés de Niamey le 23 juin)"


def test_history_as_callers_send_it():
    history = turns(["Première question ?", {"q": "Seconde ?", "doc_ids": ["a", "b"]}, {"question": ""}, 42,
                     {"q": "Troisième ?", "understood_as": None, "doc_ids": "c"}])
    assert [t.question for t in history] == ["Première question ?", "Seconde ?", "Troisième ?"]
    assert history[0].doc_ids is None and history[1].doc_ids == ("a", "b") and history[2].doc_ids == ("c",)


def test_the_prior_moves_the_previous_release_up_without_forcing_it():
    from qa.answering.answer import Ranked
    from qa.answering.search import Hit
    from qa.reading.chunking import Passage

    def item(doc_id: str, score: float) -> Ranked:
        return Ranked(Hit(Passage(f"{doc_id}#0", doc_id, 0, "…", 0, 1), score), score, 0.5, None)
    reading = Reading("Et à Gao ?", "…", "ellipsis", ("previous",))
    close = with_prior([item("other", 0.60), item("previous", 0.50)], reading)
    assert [r.hit.passage.doc_id for r in close] == ["previous", "other"]
    far = with_prior([item("other", 0.90), item("previous", 0.30)], reading)
    assert [r.hit.passage.doc_id for r in far] == ["other", "previous"]


# With the real model over the seed releases -----------------------------------------------------

@pytest.fixture(scope="module")
def service(seed_settings, assistant):
    service = Service(seed_settings)
    service._assistant = assistant
    return service


def test_parmi_eux_after_the_returns_answers_33_000(service):
    first = service.ask("Combien de migrants maliens sont rentrés depuis 2017 ?")
    answer = service.ask("Et parmi eux, combien ont terminé leur réintégration ?",
                         history=["Combien de migrants maliens sont rentrés depuis 2017 ?"])
    assert first.understood_as is None and not answer.abstained
    assert "33 000" in answer.sentence.text and answer.citations[0].source == SEGOU
    assert answer.understood_as.startswith("Parmi eux, combien ont terminé leur réintégration ?")
    assert answer.question == "Et parmi eux, combien ont terminé leur réintégration ?"
    assert answer.to_dict()["understood_as"] == answer.understood_as
    assert first.to_dict()["understood_as"] is None


def test_ellipsis_answers_from_the_same_sentence(service):
    history = ["Combien de migrants maliens sont rentrés volontairement du Niger depuis 2017 ?"]
    answer = service.ask("Et d'Algérie ?", history=history)
    assert "2 000 d’Algérie" in answer.sentence.text and answer.citations[0].source == BAMAKO


def test_a_pronoun_follow_up_finds_the_attribute_in_the_previous_release(service):
    answer = service.ask("Qui l'a présidée ?",
                         history=["Où a été célébrée la Journée internationale des migrants 2024 ?"])
    assert "Abdoulaye MAIGA" in answer.sentence.text and answer.citations[0].source == SEGOU


def test_the_previous_release_is_a_prior_not_a_cage(service, assistant):
    """After a question on the Ségou day, a follow-up about another event finds the other release."""
    segou = next(d.id for d in assistant.index.documents.values() if d.source == SEGOU)
    answer = service.ask("Et la table ronde de Bamako, où a-t-elle eu lieu ?",
                         history=[{"q": "Où a été célébrée la Journée internationale des migrants 2024 ?",
                                   "doc_ids": [segou]}])
    assert answer.understood_as is not None
    assert answer.citations[0].source == BAMAKO and "Hôtel Azalaï" in answer.sentence.text


def test_standalone_questions_are_answered_exactly_as_without_history(service, assistant):
    """Every seed question, after an unrelated question (about the other release, with its answer's
    release as the prior), is answered exactly as without history."""
    documents = {d.source: d.id for d in assistant.index.documents.values()}
    checked = 0
    for path in SEEDS:
        questions = rows(path)
        for row in questions:
            source = row.get("doc", row.get("file"))
            unrelated = next((r for r in questions if r.get("doc", r.get("file")) not in (source, None)), None)
            history = [{"q": question_of(unrelated), "doc_ids": [documents[unrelated.get("doc", unrelated.get("file"))]]}]
            alone = service.ask(question_of(row)).to_dict()
            followed = service.ask(question_of(row), history=history).to_dict()
            alone.pop("timings"), followed.pop("timings")
            assert followed == alone, question_of(row)
            checked += 1
    assert checked == 73
