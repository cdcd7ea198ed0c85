"""Headlines and dates of releases as pages publish them: labels, bylines, « Publié le » lines,
captions, blank lines, abbreviated and numeric dates, page-date prefixes, addresses, events.
Every example is written for the test; none is copied from a real page."""
from __future__ import annotations

import json

import pytest

from conftest import BAMAKO, SEGOU, write
from qa.reading.documents import Document, read_document
from qa.reading.listing import list_corpus
from qa.reading.releases import parse_date, read_release, url_date
from qa.settings import PROJECT_ROOT

BODY = ("Les familles ont reçu des semences, des outils et une formation aux techniques de culture "
        "irriguée, avec l’appui de l’Organisation internationale pour les migrations (OIM).")
HEADLINE = "À Tombouctou, des maraîchères de retour cultivent l’oignon avec l’appui de l’OIM"


def test_labels_blank_lines_and_caption_are_passed_over():
    release = read_release(
        f"Communiqué\nLocal\n\n{HEADLINE}\n\n"
        "Des maraîchères récoltent l’oignon près du fleuve. Photo : OIM Mali / Awa Cissé\n\n"
        f"Tombouctou, le 7 mars 2023 – Vingt-deux maraîchères revenues d’Algérie ont lancé leur saison. {BODY}")
    assert release.title == HEADLINE
    assert release.text.startswith(HEADLINE)
    assert "Communiqué" not in release.text
    assert (release.place, release.date, release.date_source) == ("Tombouctou", "2023-03-07", "dateline")


def test_a_headline_followed_by_a_blank_line_keeps_its_title():
    # issue 16: the blank line between the headline and the dateline lost the title
    release = read_release(f"{HEADLINE}\n\nTombouctou – Vingt-deux maraîchères ont lancé leur saison. {BODY}")
    assert release.title == HEADLINE
    assert release.text.startswith(HEADLINE + "\nTombouctou –")
    assert release.place == "Tombouctou"


def test_a_standfirst_or_a_caption_without_credit_between_headline_and_dateline():
    for between in ("Vingt-deux femmes revenues d’Algérie vendent déjà leurs oignons au marché de la ville.",
                    "Des maraîchères arrosent les planches d’oignons."):
        release = read_release(f"{HEADLINE}\n{between}\n\nTombouctou, le 7 mars 2023 – La saison a commencé. {BODY}")
        assert release.title == HEADLINE
        assert release.text.startswith(f"{HEADLINE}\n{between}\n")


def test_byline_and_publie_le_line_are_neither_title_nor_text_start():
    release = read_release(
        f"{HEADLINE}\nPar Aminata Keïta\nPublié le jeudi 9 mars 2023\n\n"
        f"Vingt-deux maraîchères revenues d’Algérie ont lancé leur saison mardi dernier. {BODY}")
    assert release.title == HEADLINE
    assert (release.date, release.date_source) == ("2023-03-09", "publié")


def test_published_date_block_in_english_with_its_weekday():
    release = read_release(
        f"{HEADLINE}\n\nPublished Date:\nFri, 03/24/2023\nCountry:\nMali\n\n"
        f"Tombouctou - Vingt-deux maraîchères revenues d’Algérie ont lancé leur saison. {BODY}")
    assert release.title == HEADLINE
    assert (release.date, release.date_source) == ("2023-03-24", "publié")


def test_numeric_dates_read_day_first_unless_the_weekday_or_the_calendar_says_otherwise():
    assert parse_date("05/04/2023", "") == "2023-04-05"
    assert parse_date("Tue, 04/11/2023", "") == "2023-04-11"  # 4 November 2023 was a Saturday
    assert parse_date("mardi 04/11/2023", "") == "2023-04-11"
    assert parse_date("03/24/2023", "") == "2023-03-24"  # no 24th month


@pytest.mark.parametrize("dateline,date", [
    ("Kayes, 14 févr. 2023 (AMAP) –", "2023-02-14"),
    ("Kayes, 14 fevr 2023 (AMAP) –", "2023-02-14"),
    ("Kayes, 3 déc 2022 –", "2022-12-03"),
    ("Kayes, le 1er oct. 2021 –", "2021-10-01"),
    ("Kayes, 12/04/2019 –", "2019-04-12"),
])
def test_abbreviated_and_numeric_dates_in_the_dateline(dateline, date):
    release = read_release(f"{HEADLINE}\n{dateline} Les maraîchères ont lancé leur saison. {BODY}")
    assert (release.place, release.date, release.date_source) == ("Kayes", date, "dateline")


def test_agency_dateline_without_year_takes_the_page_date_prefix():
    release = read_release(" date 2021-10 Ségou, 5 oct (AMAP) - Les maraîchères de Ségou ont lancé leur "
                           f"saison de culture. {BODY}")
    assert (release.place, release.date, release.date_source) == ("Ségou", "2021-10-05", "dateline")
    assert not release.text.startswith("date")


def test_a_month_prefix_alone_gives_no_day():
    release = read_release(f" date 2021-10 {HEADLINE}\n\nLes maraîchères ont lancé hier leur saison. {BODY}")
    assert release.title == HEADLINE  # the prefix is not part of the headline
    assert release.text.startswith(HEADLINE)
    assert (release.date, release.date_source) == (None, None)


def test_a_prefix_with_its_day_is_the_date():
    release = read_release(f" date 2021-10-06 {HEADLINE}\n\nLes maraîchères ont lancé hier leur saison. {BODY}")
    assert (release.date, release.date_source) == ("2021-10-06", "prefix")


def test_place_country_dateline_reads_the_event_of_its_first_paragraph():
    lede = ("Mopti, Mali - Quarante-huit jeunes de retour de Libye ont reçu des kits de maçonnerie et de "
            "menuiserie de l’Organisation internationale pour les migrations (OIM), avec leurs familles et "
            "les autorités de la commune, au cours d’une cérémonie tenue à la mairie le 3 février 2022. ")
    assert len(lede) > 200  # the date sits past the 200 characters the dateline used to be cut at
    release = read_release(f"{HEADLINE}\n{lede}{BODY}")
    assert (release.place, release.date, release.date_source) == ("Mopti", "2022-02-03", "event")


def test_a_year_cut_at_200_characters_is_not_guessed_again():
    # « mercredi 02 avril 2025 » cut to « mercredi 02 avril » once gave a year from the weekday
    lede = ("Sévaré, 02 avr 2025 (AMAP) – Les services de l’État, les associations de migrants de retour et "
            "l’Organisation internationale pour les migrations (OIM) se réunissent du mardi au mercredi 02 avril "
            "2025 pour un atelier-bilan. ")
    release = read_release(f"{HEADLINE}\n{lede}{BODY}")
    assert (release.date, release.date_source) == ("2025-04-02", "dateline")


def test_dated_event_ranges_give_their_first_day():
    release = read_release(f"{HEADLINE}\nGao – Du 19 au 21 novembre 2022, trente agents ont été formés. {BODY}")
    assert (release.date, release.date_source) == ("2022-11-19", "event")
    release = read_release(f"{HEADLINE}\nGao – Du 28 février au 2 mars 2023, trente agents ont été formés. {BODY}")
    assert release.date == "2023-02-28"


def test_bracketed_day_and_month_after_a_weekday():
    # « Jeudi (09/06) », no year: 9 June was a Thursday in 2022, the latest year the text names.
    release = read_release(f"{HEADLINE}\nGao - Jeudi (09/06), trente agents formés en 2022 ont reçu leur diplôme. "
                           f"{BODY}")
    assert (release.date, release.date_source) == ("2022-06-09", "event")


def test_no_date_is_invented():
    # a day and month without a weekday, and no year anywhere: unknown
    release = read_release(f"{HEADLINE}\nGao – Le 9 juin, trente agents ont reçu leur diplôme. {BODY}")
    assert (release.date, release.date_source) == (None, None)
    # a weekday but no year anywhere in the text: unknown too
    release = read_release(f"{HEADLINE}\nGao – Jeudi 9 juin, trente agents ont reçu leur diplôme. {BODY}")
    assert release.date is None
    # nothing that looks like a date
    assert read_release(f"{HEADLINE}\nGao – Trente agents ont reçu leur diplôme. {BODY}").date is None
    assert parse_date("soit 24/7 et les 3/4 des agents", "en 2022") is None
    assert parse_date("mardi, une hausse de (2.5) points", "en 2022") is None


def test_a_year_is_not_read_as_the_first_day_of_a_range():
    assert parse_date("en 2021 - 15 mars 2022", "") == "2022-03-15"


@pytest.mark.parametrize("url,date", [
    ("https://exemple.org/2019/04/12/des-maraicheres-a-tombouctou/", "2019-04-12"),
    ("https://exemple.org/actualites/maraicheres-tombouctou-2019-04-12.html", "2019-04-12"),
    ("https://exemple.org/stories/201904120345.html", "2019-04-12"),
    ("https://exemple.org/actualites/maraicheres-tombouctou", None),
    ("https://exemple.org/?p=199087", None),
    ("https://exemple.org/2019/13/45/impossible", None),
])
def test_dates_in_the_page_address(url, date):
    assert (url_date(url).isoformat() if url_date(url) else None) == date


def test_the_address_gives_the_date_and_the_year_of_a_dateline_without_one():
    text = f"{HEADLINE}\nGao – Trente agents ont reçu leur diplôme. {BODY}"
    release = read_release(text, url="https://exemple.org/2019/04/12/diplomes-gao/")
    assert (release.date, release.date_source) == ("2019-04-12", "url")
    release = read_release(f"{HEADLINE}\nGao, 10 avr (AMAP) – Trente agents ont reçu leur diplôme. {BODY}",
                           url="https://exemple.org/2019/04/12/diplomes-gao/")
    assert (release.date, release.date_source) == ("2019-04-10", "dateline")


def test_a_paragraph_cut_in_two_is_not_a_headline():
    release = read_release("Entre janvier et mars 2023, ce sont au total 412 femmes, 980\n"
                           "hommes et 61 mineurs qui ont été accueillis à l’aéroport de Bamako par l’OIM et ses "
                           "partenaires, selon le bilan présenté lundi.")
    assert release.title is None
    assert release.text.startswith("Entre janvier et mars 2023")


def test_a_long_headline_ending_with_a_bracket():
    headline = "Trois cents familles déplacées de Ménaka reçoivent des abris d’urgence du Fonds central (CERF)"
    release = read_release(f"{headline}\n\nLes familles arrivées depuis janvier ont reçu des bâches et des "
                           "ustensiles de cuisine. Les distributions se poursuivent.")
    assert release.title == headline


def test_seed_releases_keep_their_metadata_and_say_where_the_date_came_from():
    segou = read_release((PROJECT_ROOT / "corpus" / SEGOU).read_text(encoding="utf-8"))
    bamako = read_release((PROJECT_ROOT / "corpus" / BAMAKO).read_text(encoding="utf-8"))
    assert (segou.date, segou.place, segou.date_source) == ("2024-12-19", "Ségou", "dateline")
    assert (bamako.date, bamako.place, bamako.date_source) == ("2021-12-13", "Bamako", "event")


def test_document_date_source_from_the_text_a_url_sidecar_and_a_dated_sidecar(tmp_path):
    text = f"{HEADLINE}\nGao – Trente agents ont reçu leur diplôme. {BODY}"
    write(tmp_path, "seul.txt", text)
    write(tmp_path, "adresse.txt", text)
    write(tmp_path, "adresse.json", json.dumps({"url": "https://exemple.org/2019/04/12/diplomes-gao/"}))
    write(tmp_path, "date.txt", text.replace("Gao –", "Gao, le 3 mai 2021 –"))
    write(tmp_path, "date.json", json.dumps({"date": "2021-05-04"}))
    documents = {f.source: read_document(f, 100_000) for f in list_corpus(tmp_path)}
    assert (documents["seul.txt"].date, documents["seul.txt"].date_source) == (None, None)
    assert documents["seul.txt"].title == HEADLINE
    assert (documents["adresse.txt"].date, documents["adresse.txt"].date_source) == ("2019-04-12", "url")
    assert (documents["date.txt"].date, documents["date.txt"].date_source) == ("2021-05-04", "sidecar")


def test_documents_stored_before_date_source_still_load():
    row = {"id": "a.txt", "source": "a.txt", "text": "Texte.", "title": None, "date": "2021-05-04",
           "place": None, "sha256": "0", "url": None, "notices": []}
    assert Document(**row).date_source is None
