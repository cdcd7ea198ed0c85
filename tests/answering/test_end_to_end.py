"""The product path over the real seed releases with the real bundled e5 model."""
from __future__ import annotations

import pytest

from conftest import BAMAKO, SEGOU

# (question, the release that answers it, text the first citation and the answer must contain)
QUESTIONS = [
    ("Combien de migrants maliens sont revenus de leur plein gré du Niger depuis 2017 ?", BAMAKO, "13 000"),
    ("Quel thème avait été choisi pour la Journée internationale des migrants 2024 ?", SEGOU,
     "Migration, genre et changements climatiques"),
    ("Qui présidait la cérémonie organisée à Ségou ?", SEGOU, "Abdoulaye MAIGA"),
    ("Dans quel bâtiment de Ségou la journée des migrants a-t-elle été fêtée ?", SEGOU,
     "Chambre de Commerce et d’Industrie de Ségou"),
    ("Dans quel hôtel de Bamako la table ronde a-t-elle eu lieu ?", BAMAKO, "Hôtel Azalaï"),
    ("De combien les flux ont-ils augmenté au troisième trimestre par rapport à 2020 ?", BAMAKO, "135%"),
    ("Combien de migrants en détresse ont pu rentrer chez eux rien que pendant l’année 2024 ?", SEGOU,
     "9 000"),
    ("Combien de ressortissants d'autres pays que le Mali ont été aidés à rentrer chez eux ?", BAMAKO, "2 100"),
    ("Combien de migrants de retour ont terminé leur réintégration socio-économique ?", SEGOU, "33 000"),
    ("Qui représentait l'Union européenne à la journée des migrants ?", SEGOU, "Tomas ECKERT"),
    ("Quels sont les trois piliers de la stratégie d'intervention de l'OIM au Mali ?", BAMAKO,
     "la résilience, la mobilité et la gouvernance"),
    ("Quel ministre est chargé des Maliens établis à l'extérieur ?", SEGOU, "Mossa Ag ATTAHER"),
    ("Combien d'États membres compte l'OIM ?", SEGOU, "175 Etats membres"),
    ("Qu'est-ce qui a été organisé en marge de la célébration pour évaluer le cadre de réintégration ?", SEGOU,
     "retraite"),
]


@pytest.mark.parametrize("question,source,expected", QUESTIONS, ids=[q for q, _, _ in QUESTIONS])
def test_first_citation_contains_the_answer(assistant, question, source, expected):
    answer = assistant.ask(question, k=5)
    first = answer.citations[0]
    assert first.source == source
    assert expected in first.text
    start, end = first.highlight
    assert 0 <= start < end <= len(first.text)
    assert not answer.abstained
    assert expected in answer.sentence.text


def test_offsets_point_into_the_documents(assistant):
    answer = assistant.ask("Combien de migrants maliens sont rentrés du Niger depuis 2017 ?")
    documents = assistant.index.documents
    for citation in answer.citations:
        assert documents[citation.doc_id].text[citation.start:citation.end] == citation.text
    sentence = answer.sentence
    assert documents[sentence.doc_id].text[sentence.start:sentence.end] == sentence.text


def test_citations_are_ranked_by_score(assistant):
    answer = assistant.ask("Quelle coopération transfrontalière pour la migration au Sahel ?", k=6)
    assert [c.rank for c in answer.citations] == list(range(1, 7))
    scores = [c.score for c in answer.citations]
    assert scores == sorted(scores, reverse=True)


def test_k_is_capped_by_the_index(assistant, seed_index):
    answer = assistant.ask("migrants", k=1000)
    assert len(answer.citations) == seed_index.passage_count


def test_json_contract(assistant):
    data = assistant.ask("Où a été célébrée la Journée internationale des migrants 2024 ?", id="q7").to_dict()
    assert data["id"] == "q7"
    assert set(data) >= {"question", "answer", "abstained", "citations"}
    assert set(data["answer"]) >= {"text", "doc_id", "start", "end"}
    citation = data["citations"][0]
    assert set(citation) >= {"rank", "doc_id", "source", "title", "date", "text", "start", "end", "score",
                             "highlight"}
    assert citation["source"] == SEGOU and citation["date"] == "2024-12-19"
    assert citation["title"].startswith("Journée Internationale des Migrants 2024 au Mali")
    start, end = citation["highlight"]
    # The highlight is the answer sentence, and it says where: Ségou (« dans les locaux de la
    # Chambre de Commerce … de Ségou », or « … 2024 à Ségou a ainsi été … »).
    assert "Ségou" in citation["text"][start:end] and data["answer"]["text"] == citation["text"][start:end]


def test_blank_question_is_not_searched(assistant):
    for question in ("", "   \n\t"):
        answer = assistant.ask(question)
        assert answer.citations == [] and answer.sentence is None
        assert answer.message.startswith("Posez une question")


def test_huge_question_is_truncated_and_answered(assistant):
    question = "Qui a présidé la cérémonie à Ségou ? " + "migration " * 10_000
    assert len(question) > 100_000
    answer = assistant.ask(question)
    assert answer.truncated
    assert len(answer.question) == assistant.settings.max_question_chars
    assert "premiers caractères" in answer.message
    assert answer.citations
