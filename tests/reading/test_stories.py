"""One story told by several releases: syndicated copies and superseded versions; repeated-text
detection never empties a release, and a figure that changed is not boilerplate."""
from __future__ import annotations

from qa.reading.boilerplate import repeated_sentences
from qa.reading.documents import Document
from qa.reading.stories import Stories, figures, stories

BODY = ("Gao, le 12 mars 2023 – L'Organisation internationale pour les migrations (OIM) a remis 1 250 kits "
        "d'hygiène aux familles déplacées du quartier de Sosso Koïra.\n"
        "La distribution, financée par le Japon, a été organisée avec la Direction régionale du développement social.\n"
        "« Ces kits répondent aux besoins les plus urgents des femmes et des enfants », a déclaré la cheffe de bureau.\n")
OTHER = ("Mopti, le 3 juin 2021 – Une caravane de sensibilisation sur les dangers de la migration irrégulière a "
         "parcouru 14 communes du cercle de Bandiagara pendant deux semaines.\n"
         "Des artistes locaux ont animé 42 séances de théâtre forum devant plus de 6 300 jeunes.\n")
NAVIGATION = "Accueil\nPolitique\nSport\nLe Journal du Sahel, l'information au quotidien depuis 2009 avec 35 reporters.\n"


def doc(source, text, title=None, date=None, url=None):
    return Document(source, source, text, title, date, None, source, url=url)


def test_figures_leave_years_and_days_out():
    assert figures("Le 12 mars 2023, 1 250 kits et 44.000 migrants ; 9 000 en 2024.") == {"1250", "44000", "9000"}


def test_a_copy_under_another_sites_navigation_is_one_story():
    original = doc("oim-gao-kits.txt", BODY, "Gao : 1 250 kits d'hygiène", "2023-03-12")
    copy = doc("sahel-gao-kits.txt", NAVIGATION + BODY + "Partager sur Facebook\n", "Gao : 1 250 kits d'hygiène")
    unrelated = doc("oim-mopti-caravane.txt", OTHER, "Une caravane à Bandiagara", "2021-06-03")
    found = stories([original, copy, unrelated])
    assert found.copies == {original.id: (copy.id,), copy.id: (original.id,)}
    assert found.superseded == {}
    # Stored with the build as JSON, read back the same.
    assert Stories.from_dict(found.to_dict()) == found


def test_the_same_event_in_other_words_is_one_story():
    first = doc("a.txt", "Bamako, le 10 novembre 2020 – Cent trente-deux Maliens bloqués au Niger sont rentrés. "
                "Au total, 132 migrants, dont 3 femmes et 1 bébé, ont été accueillis à l'aéroport de Bamako par le "
                "ministre des Maliens de l'extérieur et le chef de mission de l'OIM.\n", "132 Maliens rentrent du Niger",
                "2020-11-10")
    second = doc("b.txt", "Ces 132 migrants maliens bloqués au Niger ont été accueillis à l'aéroport de Bamako à leur "
                 "descente d'avion par le ministre des Maliens de l'extérieur et le chef de mission de l'OIM.\n",
                 None, "2020-11-11")
    later = doc("c.txt", second.text.replace("Ces 132", "Ces 293"), None, "2023-02-01")
    found = stories([first, second, later])
    assert first.id in found.copies.get(second.id, ())
    assert later.id not in found.copies.get(second.id, ())  # two years apart: not one story


def test_a_corrected_version_supersedes_the_older_one():
    older = doc("cp-gao.txt", BODY, "Gao : des kits d'hygiène pour les déplacés", "2023-03-12")
    newer = doc("cp-gao-rectificatif.txt", BODY.replace("1 250", "1 520"), "Gao : des kits d'hygiène pour les déplacés",
                "2023-03-13")
    assert stories([older, newer]).superseded == {older.id: newer.id}
    # Kept both under the next free name: the numbered one is the newer version.
    again = doc("cp-gao-2.txt", BODY.replace("1 250", "1 520"), older.title, older.date)
    assert stories([older, again]).superseded == {older.id: again.id}
    # Two different releases under similar names are not versions of one another.
    assert stories([doc("cp-1.txt", BODY), doc("cp-2.txt", OTHER)]).superseded == {}


def test_repeated_text_detection_never_empties_a_release():
    first, second = doc("a.txt", BODY), doc("b.txt", BODY)
    dropped = repeated_sentences([first, second])
    assert dropped.get(second.id, []) == [] and dropped.get(first.id, []) == []


def test_copies_and_versions_keep_their_own_text():
    older = doc("cp.txt", BODY + OTHER)
    newer = doc("cp-2.txt", (BODY + OTHER).replace("1 250", "1 520"))
    told = stories([older, newer])
    assert repeated_sentences([older, newer], together=told.together) == {}


def test_a_sentence_stating_another_figure_is_not_boilerplate():
    statement = ("Depuis le lancement du programme d'abris d'urgence, {} kits d'abris ont été distribués aux ménages "
                 "déplacés de la région de Mopti.")
    a = doc("2019.txt", statement.format("2 400") + "\n" + OTHER)
    b = doc("2022.txt", statement.format("7 800") + "\nLe programme couvre désormais Bankass et Douentza.\n")
    assert repeated_sentences([a, b]) == {}


def test_stories_from_stored_signatures_are_the_stories_from_the_text():
    from qa.reading.stories import Signature, signature
    releases = [doc("oim-gao-kits.txt", BODY, "Gao : 1 250 kits d'hygiène", "2023-03-12"),
                doc("sahel-gao-kits.txt", NAVIGATION + BODY, "Gao : 1 250 kits d'hygiène"),
                doc("oim-mopti-caravane.txt", OTHER, "Une caravane à Bandiagara", "2021-06-03")]
    stored = {d.sha256: Signature.from_row(signature(d).to_row()) for d in releases}
    assert stories(releases, stored) == stories(releases)
    assert stories(releases, stored).copies["oim-gao-kits.txt"] == ("sahel-gao-kits.txt",)
