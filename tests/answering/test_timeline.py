"""Releases as a time series, with the real model: the newest figure first and a dated chronology,
the question's period as a filter, syndicated copies folded, corrections superseding."""
from __future__ import annotations

import json
import shutil
from dataclasses import replace

import pytest

from conftest import SEGOU, write
from series import SEGOU_COPY, write_series
from qa.answering.assistant import Assistant
from qa.answering.timeline import reported_until
from qa.chat.display import chronology_text, copies_text, filter_text
from qa.indexing.build import build_index
from qa.service import Service
from qa.settings import Settings

KITS = "Combien de kits d'abris ont été distribués aux ménages déplacés de la région de Mopti ?"


@pytest.fixture(scope="module")
def series(tmp_path_factory, e5):
    root = tmp_path_factory.mktemp("series")
    settings = replace(Settings(), corpus=write_series(root / "corpus"), index=root / "index")
    build_index(settings, e5)
    return Assistant.open(settings=settings, encoder=e5)


def test_the_newest_figure_comes_first_and_the_others_are_a_dated_chronology(series):
    answer = series.ask(KITS, k=5)
    assert "12 600" in answer.sentence.text and answer.citations[0].date == "2025-02-20"
    assert [(s.date, s.figure) for s in answer.chronology] == [("2022-06-09", "7 800"), ("2019-03-14", "2 400"),
                                                               (None, "5 100")]
    data = json.loads(json.dumps(answer.to_dict(), ensure_ascii=False))
    for item in data["chronology"]:
        assert {"date", "doc_id", "text", "start", "end"} <= set(item)
        assert series.index.documents[item["doc_id"]].text[item["start"]:item["end"]] == item["text"]
    assert data["chronology"][-1]["undated"] is True and data["filters"] is None
    assert chronology_text(answer).startswith("9 juin 2022 : 7 800")
    assert chronology_text(answer).endswith("sans date : 5 100" + (f" [{answer.chronology[-1].rank}]"
                                                                  if answer.chronology[-1].rank else ""))


def test_a_period_in_the_question_filters_and_is_said(series):
    answer = series.ask(KITS.replace(" ?", " en 2022 ?"), k=5)
    assert "7 800" in answer.sentence.text
    assert answer.to_dict()["filters"]["date_from"] == "2022-01-01"
    assert answer.to_dict()["filters"]["date_to"] == "2022-12-31"
    assert "Période : 2022" in answer.message and filter_text(answer) == "Période : 2022 (d'après « en 2022 »)"
    assert all(c.date in (None, "2022-06-09") for c in answer.citations)  # the undated release is kept
    # The reader removes the filter: the newest figure again.
    alone = series.ask(KITS.replace(" ?", " en 2022 ?"), k=5, use_question_dates=False)
    assert alone.filters is None and "12 600" in alone.sentence.text


def test_a_period_reads_the_releases_of_the_month_after_it(series):
    # The 9 June 2022 release reports the figure reached by the end of May; the period the question
    # names is said as it is, the releases read run to the end of the month after.
    answer = series.ask(KITS.replace(" ?", " en mai 2022 ?"), k=5)
    assert "7 800" in answer.sentence.text and answer.citations[0].date == "2022-06-09"
    assert (answer.filters["date_to"], answer.filters["label"]) == ("2022-05-31", "mai 2022")
    assert reported_until("2024-12-31") == "2025-01-31" and reported_until("2024-01-31") == "2024-02-29"
    assert all(c.date in (None, "2022-06-09") for c in answer.citations)  # not the releases of 2025


def test_a_filter_that_excludes_everything_says_so(series):
    answer = series.ask("Qui a présidé la cérémonie de la Journée internationale des migrants en 1990 ?", k=3)
    assert answer.abstained and answer.filters["label"] == "1990"
    assert "Aucun communiqué de la période « 1990 »" in answer.message
    assert "Retirez le filtre" in answer.message


def test_newest_first_keeps_the_scope_of_the_question(series):
    broad = series.ask("Combien de migrants maliens sont rentrés depuis 2017 ?", k=5)
    assert "44 000" in broad.sentence.text and broad.filters is None  # « depuis 2017 » counts, it does not filter
    assert [s.figure for s in broad.chronology] == ["13 000"]
    niger = series.ask("Combien de migrants maliens sont rentrés du Niger depuis 2017 ?", k=5)
    assert "13 000" in niger.sentence.text  # « du Niger » keeps the Niger figure…
    assert "44 000" in [s.figure for s in niger.chronology]  # … and the broader, newer total follows it


def test_a_syndicated_copy_is_folded_into_one_citation(series):
    answer = series.ask("Qui a présidé la cérémonie à Ségou ?", k=5)
    story = {SEGOU, SEGOU_COPY}
    cited = [c for c in answer.citations if c.source in story]
    assert cited and len({c.source for c in cited}) == 1
    assert {copy["source"] for copy in cited[0].copies} == story - {cited[0].source}
    assert copies_text(cited[0]).startswith("aussi publié sur : ")
    assert answer.to_dict()["citations"][0]["copies"] == [dict(c) for c in answer.citations[0].copies]


def test_deleting_one_copy_keeps_the_other_answering(tmp_path, e5):
    settings = replace(Settings(), corpus=write_series(tmp_path / "corpus"), index=tmp_path / "index")
    build_index(settings, e5)
    (settings.corpus / SEGOU).unlink()
    build_index(settings, e5)
    answer = Assistant.open(settings=settings, encoder=e5).ask("Qui a présidé la cérémonie à Ségou ?", k=3)
    assert answer.citations[0].source == SEGOU_COPY and "MAIGA" in answer.sentence.text
    assert answer.citations[0].copies == ()


def test_a_corrected_release_supersedes_the_older_one(tmp_path, e5):
    corpus = tmp_path / "corpus"
    shutil.copytree(write_series(tmp_path / "series", copy=False), corpus)
    settings = replace(Settings(), corpus=corpus, index=tmp_path / "index")
    service = Service(settings)
    original = (corpus / "oim-mopti-2022-06-09-abris.txt").read_text(encoding="utf-8")
    corrected = write(tmp_path / "upload", "oim-mopti-2022-06-09-abris.txt", original.replace("7 800", "8 700"))
    service.reindex(credential=None)
    # The name is taken: nothing is stored until the editor chooses.
    [asked] = service.add_files([(corrected, corrected.name)], credential=None)
    assert asked.status == "nom déjà pris" and "remplacer" in asked.line()
    assert not (corpus / "oim-mopti-2022-06-09-abris-2.txt").exists()
    [kept] = service.add_files([(corrected, corrected.name)], credential=None, existing="keep")
    assert (kept.status, kept.source) == ("renommé", "oim-mopti-2022-06-09-abris-2.txt")
    rows = {row[3]: row for row in service.releases()}
    assert rows["oim-mopti-2022-06-09-abris.txt"][5] == "remplacé par oim-mopti-2022-06-09-abris-2.txt"
    assert rows["oim-mopti-2022-06-09-abris-2.txt"][4] > 0  # the correction is not emptied by repeated text
    answer = service.ask(KITS.replace(" ?", " en 2022 ?"), k=5)
    assert "8 700" in answer.sentence.text
    assert all(c.source != "oim-mopti-2022-06-09-abris.txt" for c in answer.citations)


def test_a_follow_up_naming_a_period_filters_by_it(series):
    from qa.answering import conversation
    answer = conversation.answer(series, "Et en 2022 ?", conversation.turns([KITS]), k=5)
    assert answer.understood_as and "7 800" in answer.sentence.text
    assert answer.filters["date_from"] == "2022-01-01" and "Période : 2022" in answer.message
    unfiltered = conversation.answer(series, "Et en 2022 ?", conversation.turns([KITS]), k=5, use_question_dates=False)
    assert unfiltered.filters is None


def test_a_follow_up_gets_the_newest_figure_and_its_chronology(series):
    from qa.answering import conversation
    answer = conversation.answer(series, "Et dans la région de Mopti ?",
                                 conversation.turns(["Combien de kits d'abris sont prévus à Ségou ?"]), k=5)
    assert answer.understood_as and "12 600" in answer.sentence.text
    assert [s.figure for s in answer.chronology] == ["7 800", "2 400", "5 100"]
