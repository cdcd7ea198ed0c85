"""Answers taken away: « Copier la citation » and the conversation as Markdown with numbered references."""
from __future__ import annotations

from qa.export import NBSP, citation_text, conversation_markdown, french_date


def citation(rank, passage, text, highlight=None, **meta):
    return {"rank": rank, "passage_id": passage, "doc_id": passage.split("#")[0], "source": f"{passage.split('#')[0]}.txt",
            "title": meta.get("title", "Journée des migrants"), "date": meta.get("date", "2024-12-19"),
            "place": meta.get("place", "Ségou"), "text": text, "highlight": list(highlight or (0, len(text)))}


def test_a_citation_ready_to_paste():
    text = "Avant. La cérémonie a été présidée par le Premier ministre. Après."
    copied = citation_text(citation(1, "segou#3", text, (7, 59)))
    assert copied == (f"«{NBSP}La cérémonie a été présidée par le Premier ministre.{NBSP}» — «{NBSP}Journée des "
                      f"migrants{NBSP}», Organisation internationale pour les migrations (OIM), Ségou, 19 décembre "
                      f"2024, segou.txt.")
    assert citation_text(citation(1, "d#0", "Texte.", date=None, place=None), url="https://example.org/c").endswith(
        "(OIM), https://example.org/c.")
    assert french_date("2025-05-01") == "1er mai 2025" and french_date(None) is None


def test_a_conversation_with_references_numbered_across_it():
    shared = citation(1, "segou#3", "La cérémonie a été présidée par le Premier ministre.")
    exchanges = [
        {"question": "Qui a présidé la cérémonie à Ségou ?",
         "answer": {"answer": {"text": shared["text"]}, "abstained": False, "understood_as": None,
                    "citations": [shared, citation(2, "bamako#1", "Autre passage.")]}},
        {"question": "Et à Ségou, qui ?",
         "answer": {"answer": {"text": shared["text"]}, "abstained": False, "understood_as": "Qui à Ségou ?",
                    "citations": [shared]}},
        {"question": "Quelle est la recette du tiramisu ?",
         "answer": {"answer": None, "abstained": True, "message": "Je n'ai trouvé aucun passage.", "citations": [
             citation(1, "bamako#2", "Un passage proche.")]}},
    ]
    markdown = conversation_markdown(exchanges, "Conversation")
    assert "## 1. Qui a présidé la cérémonie à Ségou ?" in markdown
    assert f"{shared['text']} [1]" in markdown and f"Voir aussi{NBSP}: [2]" in markdown
    assert f"*Compris{NBSP}: Qui à Ségou ?*" in markdown
    assert markdown.count(f"{shared['text']} [1]") == 2  # the same passage keeps its number
    assert f"Passages seulement proches de la question{NBSP}: [3]" in markdown
    references = markdown.split("## Références")[1]
    assert references.count("\n1. ") == 1 and "\n3. «" in references and "Un passage proche" in references


def test_an_export_cites_what_the_page_shows():
    weak = {**citation(2, "bamako#1", "Un passage faible."), "confidence": 0.01}
    exchanges = [{"question": "Q ?", "answer": {"answer": {"text": "R."}, "abstained": False,
                                                "citations": [{**citation(1, "segou#3", "R."), "confidence": 0.9}, weak]}}]
    assert "Un passage faible" in conversation_markdown(exchanges)
    assert "Un passage faible" not in conversation_markdown(exchanges, floor=0.2)
