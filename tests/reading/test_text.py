"""French text handling: sentences, passages, analysis, release metadata."""
from __future__ import annotations

import pytest

from conftest import BAMAKO, SEGOU
from qa.reading.chunking import passages, sentence_spans
from qa.reading.lexical import terms
from qa.reading.releases import parse_date, read_release
from qa.settings import PROJECT_ROOT


def sentences(text: str) -> list[str]:
    return [text[s.start:s.end] for s in sentence_spans(text)]


@pytest.mark.parametrize("text,count", [
    ("M. Mossa Ag ATTAHER a parlé. Le Dr Diallo aussi.", 2),
    ("Voir l'art. 3 du décret n° 12, etc. et la suite. Fin.", 2),
    ("Plus de 13 000 migrants, soit 2,5 fois plus. Ensuite vint 2024.", 2),
    ("« Nous devons agir. Maintenant », a-t-il dit. Puis il est parti.", 2),
    ("Appelez le +223 92 40 49 21. Ou écrivez.", 2),
    ("Ils attendaient… Puis la séance reprit.", 2),
    ("J. Dupont et A. B. Martin sont venus. Merci.", 2),
])
def test_sentence_boundaries(text, count):
    assert len(sentences(text)) == count, sentences(text)


def test_passages_keep_exact_offsets_and_overlap():
    text = " ".join(f"Phrase numéro {i} sur la migration au Mali." for i in range(60))
    cut = passages("doc", text, max_chars=300, overlap=1)
    assert len(cut) > 5
    for passage in cut:
        assert text[passage.start:passage.end] == passage.text
        assert len(passage.text) <= 300
    assert all(later.start < earlier.end for earlier, later in zip(cut, cut[1:]))  # one sentence shared


def test_passages_do_not_cross_sections():
    text = "Premier bloc. Une phrase.\n\nSecond bloc. Autre phrase."
    assert [p.text for p in passages("d", text, max_chars=1000, overlap=1)] == [
        "Premier bloc. Une phrase.", "Second bloc. Autre phrase."]


def test_stop_words_and_percentages():
    assert terms("Quel est le thème de la journée ?") == terms("thème journée")
    assert "135%" in terms("les flux ont plus que doublé (135%)")


def test_seed_metadata():
    bamako = read_release((PROJECT_ROOT / "corpus" / BAMAKO).read_text(encoding="utf-8"))
    segou = read_release((PROJECT_ROOT / "corpus" / SEGOU).read_text(encoding="utf-8"))
    assert segou.title.startswith("Journée Internationale des Migrants 2024 au Mali")
    assert (segou.date, segou.place) == ("2024-12-19", "Ségou")
    assert bamako.title.startswith("Table ronde entre l’OIM")
    # « le lundi 13 décembre », no year: 13 December was a Monday in 2021, the latest year the text names.
    assert (bamako.date, bamako.place) == ("2021-12-13", "Bamako")
    for release in (bamako, segou):
        assert release.text.startswith(release.title)
        assert "Qui sommes nous" not in release.text


def test_year_is_never_invented():
    assert parse_date("Bamako – réunion le lundi 13 décembre.", "Aucune année ici.") is None
    assert parse_date("Ségou, le 19 décembre 2024 – texte", "") == "2024-12-19"
