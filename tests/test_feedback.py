"""Readers' feedback: append-only, bounded, listed and exported by `python -m qa feedback`."""
from __future__ import annotations

import csv
import io
import json

import pytest

from qa.__main__ import main
from qa.errors import QAError
from qa.feedback import MAX_COMMENT, FeedbackLog

ANSWER = {"answer": {"text": "La cérémonie a été présidée par le Premier ministre."}, "abstained": False,
          "citations": [{"rank": 1, "doc_id": "segou", "source": "segou.txt", "title": "Journée « des migrants »",
                         "date": "2024-12-19", "place": "Ségou", "text": "La cérémonie a été présidée…"}]}


def test_a_vote_and_its_comment_are_appended_and_merged(tmp_path):
    log = FeedbackLog(tmp_path)
    first = log.rate(True, "Qui a présidé la cérémonie à Ségou ?", ANSWER)
    log.rate(False, "Quelle est la recette du tiramisu ?", {"answer": None, "abstained": True,
                                                             "message": "Je n'ai trouvé aucun passage…", "citations": []})
    log.comment(first, "Très bien, l’œil « exercé » s'y retrouve. " + "x" * 2 * MAX_COMMENT)
    raw = (tmp_path / "feedback.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(raw) == 3 and "« exercé »" in raw[2]  # appended, ensure_ascii=False
    records = log.records()
    assert [r["rating"] for r in records] == ["up", "down"]
    assert records[0]["question"] == "Qui a présidé la cérémonie à Ségou ?"
    assert records[0]["answer"].startswith("La cérémonie") and records[0]["citations"][0]["source"] == "segou.txt"
    assert len(records[0]["comment"]) == MAX_COMMENT and records[1]["abstained"]
    (tmp_path / "feedback.jsonl").open("a", encoding="utf-8").write('{"id": "cut", "rat')  # a crash mid-line
    assert len(FeedbackLog(tmp_path).records()) == 2


def test_records_a_minute_are_bounded(tmp_path):
    log = FeedbackLog(tmp_path, per_minute=3)
    for _ in range(3):
        log.rate(True, "q", ANSWER)
    with pytest.raises(QAError, match="Trop d'avis"):
        log.rate(True, "q", ANSWER)
    assert len(log.records()) == 3


def test_the_command_line_lists_and_exports_csv(tmp_path, capsys):
    log = FeedbackLog(tmp_path / "index")
    log.comment(log.rate(True, "Qui a présidé la cérémonie à Ségou ?", ANSWER), "Juste ; et sourcé")
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    assert main(["feedback", "--index", str(tmp_path / "index"), "--corpus", str(corpus)]) == 0
    listed = capsys.readouterr().out
    assert "👍" in listed and "Qui a présidé" in listed and "Juste ; et sourcé" in listed
    assert main(["feedback", "--csv", "--index", str(tmp_path / "index"), "--corpus", str(corpus)]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert rows[0]["rating"] == "up" and rows[0]["comment"] == "Juste ; et sourcé"
    assert "[1] Journée « des migrants » (segou.txt)" in rows[0]["citations"]
    json.dumps(rows)
