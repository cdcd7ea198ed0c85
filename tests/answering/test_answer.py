"""The answer sentence: the best sentence of citation [1], with the next one when it points back at it."""
from __future__ import annotations

import pytest

from qa.answering.answer import CONTINUATION_MAX, Ranked, compose
from qa.answering.questions import points_back
from qa.answering.search import Hit
from qa.reading.chunking import Passage
from qa.reading.documents import Document


@pytest.mark.parametrize("sentence,expected", [
    ("Elle permet à un salarié de passer du temps chez un autre employeur.", True),
    ("Ce fonds sert à faire face aux dépenses des travaux.", True),
    ("C’est donc un contrat entre l’école et la famille.", True),
    ("Parmi eux, 33 000 ont reçu une aide à la réintégration.", True),
    ("« Ils sont rentrés sains et saufs », a déclaré le chef de mission.", True),
    ("Les migrants ont été accueillis à l’aéroport.", False),
    ("Cependant, le centre reste ouvert.", False),
    ("Ilot de fraîcheur, le jardin accueille les enfants.", False),
    ("Selon lui, l’aide reprendra en mars.", False),
])
def test_a_sentence_points_back_at_the_one_before(sentence, expected):
    assert points_back(sentence) is expected


def _answer(text: str, sentence: str):
    document = Document("d1", "d1.txt", text, None, None, None, "0" * 64)
    passage = Passage("d1#0", "d1", 0, text, 0, len(text))
    start = text.index(sentence)
    return compose([Ranked(Hit(passage, 1.0), 1.0, 0.9, (start, start + len(sentence)))], {"d1": document})[0]


def test_the_answer_goes_on_with_the_next_sentence_when_it_points_back():
    text = ("Une période de mise en situation en milieu professionnel (PMSMP) peut être effectuée dans le cadre "
            "de certains contrats aidés. Elle permet à un salarié de passer du temps chez un autre employeur. "
            "La PMSMP peut aussi concerner une personne sans activité.")
    answer = _answer(text, text[:text.index(" Elle")])
    assert answer.text.endswith("chez un autre employeur.")  # the definition reads both sentences
    assert "sans activité" not in answer.text  # and stops there: the third says something new


def test_the_answer_stays_one_sentence_across_a_line_or_past_the_length_bound():
    heading = "Une PMSMP peut être effectuée dans le cadre de certains contrats aidés.\nElle dure un mois au plus."
    assert _answer(heading, heading.split("\n")[0]).text == heading.split("\n")[0]
    first = "Le centre de transit de Bamako accueille les migrants de retour " + "et leurs familles " * 22 + "."
    long = first + " Il a ouvert en 2018."
    assert len(long) > CONTINUATION_MAX
    assert _answer(long, first).text == first
    plain = "Le centre de Gao a ouvert en 2018. Les migrants y reçoivent des soins."
    assert _answer(plain, "Le centre de Gao a ouvert en 2018.").text == "Le centre de Gao a ouvert en 2018."
