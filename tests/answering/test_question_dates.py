"""Dates a question names: a period filters by release date; an exact day and the start of a
cumulative figure do not."""
from __future__ import annotations

import datetime as dt

import pytest

from qa.answering.questions import question_period
from qa.answering.search import Filter
from qa.answering.timeline import with_period
from qa.reading.documents import Document

TODAY = dt.date(2026, 12, 2)


@pytest.mark.parametrize("question,date_from,date_to,label", [
    ("Combien de kits ont été distribués en 2022 ?", "2022-01-01", "2022-12-31", "2022"),
    ("Qui a présidé la cérémonie en décembre 2024 ?", "2024-12-01", "2024-12-31", "décembre 2024"),
    ("Quels projets l'OIM a-t-elle lancés depuis 2023 ?", "2023-01-01", None, "depuis 2023"),
    ("Qu'a fait l'OIM au Mali l'an dernier ?", "2025-01-01", "2025-12-31", "2025"),
    ("Qu'a fait l'OIM l'année dernière à Gao ?", "2025-01-01", "2025-12-31", "2025"),
    ("Quelles actions ont été menées avant 2020 ?", None, "2019-12-31", "avant 2020"),
    ("Quelles formations ont eu lieu entre 2019 et 2021 ?", "2019-01-01", "2021-12-31", "de 2019 à 2021"),
    ("Quels ateliers en mars et avril 2021 ?", "2021-03-01", "2021-04-30", "mars et avril 2021"),
    ("Quels centres ont ouvert après février 2020 ?", "2020-03-01", None, "après février 2020"),
])
def test_a_period_in_the_question_is_a_filter(question, date_from, date_to, label):
    period = question_period(question, TODAY)
    assert (period.date_from, period.date_to, period.label) == (date_from, date_to, label)
    assert period.said in question


@pytest.mark.parametrize("question", [
    # The start of a cumulative figure: « combien … depuis 2017 » counts from 2017, whatever the release's date.
    "Combien de migrants maliens sont rentrés depuis 2017 ?",
    "combien de migrants tchadiens sont rentres au pays entre janvier 2023 et juin 2024 ?",
    # An exact day is evidence for the ranking (the release may be dated days later), not a filter.
    "Que s'est-il passé le samedi 10 avril 2021 à Gao ?",
    "Qui a accueilli les migrants le 4 juin 2020 ?",
    # A year that names an event, not a period.
    "Où a été célébrée la Journée internationale des migrants 2024 ?",
    "Qui a présidé la cérémonie à Ségou ?",
])
def test_no_filter(question):
    assert question_period(question, TODAY) is None


def test_a_period_filter_keeps_undated_releases_and_narrows_the_callers_own():
    period = question_period("Quels projets en 2022 ?", TODAY)
    where = with_period(None, period)
    undated = Document("a", "a.txt", "…", None, None, None, "0")
    dated = Document("b", "b.txt", "…", None, "2022-05-01", None, "0")
    older = Document("c", "c.txt", "…", None, "2021-05-01", None, "0")
    assert where.allows(undated) and where.allows(dated) and not where.allows(older)
    # A January release still reports on the year before; February's no longer does.
    january = Document("d", "d.txt", "…", None, "2023-01-20", None, "0")
    february = Document("e", "e.txt", "…", None, "2023-02-10", None, "0")
    assert where.allows(january) and not where.allows(february)
    # The caller's own date fields keep their meaning (an undated release has no date in range).
    narrowed = with_period(Filter(date_from="2022-03-01"), period)
    assert (narrowed.date_from, narrowed.date_to) == ("2022-03-01", "2023-01-31")
    assert not narrowed.allows(undated)
    assert with_period(None, None) is None
