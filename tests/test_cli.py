"""The command line, run as a user runs it: python -m qa …"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import SEGOU, write
from qa.settings import PROJECT_ROOT


def qa(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "qa", *args], cwd=PROJECT_ROOT, input=stdin,
                          capture_output=True, text=True, timeout=300)


def test_ask_json_cites_the_segou_release(seed_index, seed_settings):
    run = qa("ask", "Où a été célébrée la Journée internationale des migrants 2024 ?", "--json",
             "--index", str(seed_settings.index))
    assert run.returncode == 0, run.stderr
    data = json.loads(run.stdout)
    first = data["citations"][0]
    assert first["source"] == SEGOU
    start, end = first["highlight"]
    # « Où » is answered by a sentence that says where: Ségou (the lede, « … dans les locaux de la
    # Chambre de Commerce et d’Industrie de Ségou », or « La Journée … 2024 à Ségou a ainsi été … »).
    assert "Ségou" in first["text"][start:end]
    assert data["answer"]["text"] == first["text"][start:end]


def test_ask_prints_answer_and_numbered_citations(seed_index, seed_settings):
    run = qa("ask", "Qui a présidé la cérémonie de Ségou ?", "-k", "2", "--index", str(seed_settings.index))
    assert run.returncode == 0, run.stderr
    assert "Abdoulaye MAIGA" in run.stdout.splitlines()[0]
    assert "[1]" in run.stdout and "[2]" in run.stdout and "[3]" not in run.stdout


def test_batch_echoes_ids_in_order(seed_index, seed_settings, tmp_path):
    rows = [{"id": "a1", "q": "Combien d'États membres compte l'OIM ?"},
            {"id": "b2", "q": "Qui représentait l'Union européenne à Ségou ?"},
            {"id": "c3", "q": "  "}]
    batch = write(tmp_path, "questions.jsonl", "\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n")
    run = qa("ask", "--batch", str(batch), "--json", "--index", str(seed_settings.index))
    assert run.returncode == 0, run.stderr
    answers = [json.loads(line) for line in run.stdout.splitlines()]
    assert [a["id"] for a in answers] == ["a1", "b2", "c3"]
    assert "175" in answers[0]["answer"]["text"]
    assert "ECKERT" in answers[1]["answer"]["text"]
    assert answers[2]["answer"] is None and answers[2]["citations"] == []


def test_batch_from_stdin_and_bad_lines(seed_index, seed_settings):
    """A bad line is reported with its number on stderr, and the batch goes on; the exit code says
    that some lines were not answered."""
    run = qa("ask", "--batch", "-", "--json", "--index", str(seed_settings.index),
             stdin='{"id": 1, "q": "Où se trouve l\'hôtel Azalaï ?"}\nnot json\n{"id": 3, "q": 123}\n'
                   '{"id": 4, "q": "Combien d\'États membres compte l\'OIM ?", "k": 2}\n["q"]\n')
    assert run.returncode == 1
    assert [json.loads(line)["id"] for line in run.stdout.splitlines()] == [1, 4]
    errors = run.stderr.splitlines()
    assert [line.split(" : ")[0] for line in errors] == ["Erreur", "Erreur", "Erreur"]
    assert ["ligne 2" in errors[0], "ligne 3" in errors[1], "ligne 5" in errors[2]] == [True, True, True]
    assert "Traceback" not in run.stderr


def test_index_summary_and_up_to_date(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copy(PROJECT_ROOT / "corpus" / SEGOU, corpus / SEGOU)
    index = tmp_path / "index"
    first = qa("index", "--corpus", str(corpus), "--index", str(index))
    assert first.returncode == 0, first.stderr
    assert "1 document, 9 passages" in first.stdout and "1 ajouté," in first.stdout and SEGOU in first.stdout and " s." in first.stdout
    second = qa("index", "--corpus", str(corpus), "--index", str(index))
    assert second.returncode == 0 and "Index à jour" in second.stdout


def test_empty_corpus_ask_says_nothing_is_indexed(tmp_path):
    corpus, index = tmp_path / "corpus", tmp_path / "index"
    corpus.mkdir()
    assert qa("index", "--corpus", str(corpus), "--index", str(index)).returncode == 0
    run = qa("ask", "Qui a présidé la cérémonie ?", "--corpus", str(corpus), "--index", str(index))
    assert run.returncode == 1
    assert "Aucun document n'est encore indexé" in run.stderr and "Traceback" not in run.stderr


def test_missing_index_names_the_path_and_the_fix(tmp_path):
    run = qa("ask", "Qui a présidé la cérémonie ?", "--index", str(tmp_path / "nowhere"))
    assert run.returncode == 1
    assert str(tmp_path / "nowhere") in run.stderr and "python -m qa index" in run.stderr
    assert "Traceback" not in run.stderr


def first_segment(index: Path) -> Path:
    """The folder of the live build's first segment (where its passages, vectors and terms are)."""
    return sorted((index / "builds" / (index / "CURRENT").read_text().strip() / "segments").iterdir())[0]


def test_corrupt_index_names_the_file_and_the_rebuild(seed_index, seed_settings, tmp_path):
    index = tmp_path / "index"
    shutil.copytree(seed_settings.index, index)
    vectors = first_segment(index) / "dense.faiss"
    vectors.write_bytes(vectors.read_bytes()[:100])
    run = qa("ask", "Qui a présidé la cérémonie ?", "--index", str(index))
    assert run.returncode == 1
    assert "dense.faiss" in run.stderr and "python -m qa index --rebuild" in run.stderr
    assert "Traceback" not in run.stderr


def test_no_question_is_a_usage_error():
    run = qa("ask")
    assert run.returncode == 1 and "question" in run.stderr


def test_passage_size_from_the_environment(monkeypatch):
    from qa.settings import Settings
    monkeypatch.setenv("QA_PASSAGE_CHARS", "600")
    assert Settings.from_env().passage_chars == 600


@pytest.mark.parametrize("variable,value", [("QA_PASSAGE_CHARS", "beaucoup"), ("QA_PASSAGE_CHARS", "50"),
                                            ("QA_MAX_FILE_MB", "-3")])
def test_bad_numbers_in_the_environment_are_named(variable, value, tmp_path):
    run = subprocess.run([sys.executable, "-m", "qa", "index", "--index", str(tmp_path / "index")], cwd=PROJECT_ROOT,
                         capture_output=True, text=True, timeout=300, env={**os.environ, variable: value})
    assert run.returncode == 1 and "Traceback" not in run.stderr
    assert variable in run.stderr and "expected a number between" in run.stderr
    assert not (tmp_path / "index").exists()


def test_batch_turns_of_a_conversation_are_read_together(seed_index, seed_settings, tmp_path):
    rows = [{"id": "t1", "conversation": "c", "q": "Combien de migrants maliens sont rentrés depuis 2017 ?"},
            {"id": "x", "q": "Et parmi eux, combien ont terminé leur réintégration ?"},  # no conversation: alone
            {"id": "t2", "conversation": "c", "q": "Et parmi eux, combien ont terminé leur réintégration ?"}]
    batch = write(tmp_path, "conversation.jsonl", "\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n")
    run = qa("ask", "--batch", str(batch), "--json", "--index", str(seed_settings.index))
    assert run.returncode == 0, run.stderr
    answers = {a["id"]: a for a in map(json.loads, run.stdout.splitlines())}
    assert answers["t1"]["understood_as"] is None and answers["x"]["understood_as"] is None
    assert answers["t2"]["understood_as"].startswith("Parmi eux, combien ont terminé leur réintégration ?")
    assert "33 000" in answers["t2"]["answer"]["text"]
    text = qa("ask", "--batch", str(batch), "-k", "1", "--index", str(seed_settings.index))
    assert "Compris : Parmi eux" in text.stdout


def test_eval_reports_conversations_with_and_without_history(seed_index, seed_settings, tmp_path):
    rows = [{"id": "1", "conversation": "c", "q": "Combien de migrants maliens sont rentrés volontairement du Niger "
             "depuis 2017 ?", "file": "oim-mali-2021-12-13-table-ronde-bamako.txt", "answer": "13 000", "kind": "first"},
            {"id": "2", "conversation": "c", "q": "Et d'Algérie ?", "file": "oim-mali-2021-12-13-table-ronde-bamako.txt",
             "answer": "2 000 d’Algérie", "kind": "ellipsis"}]
    path = write(tmp_path, "conversations.jsonl", "\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n")
    run = qa("eval", str(path), "--json", "--index", str(seed_settings.index))
    assert run.returncode == 0, run.stderr
    metrics = json.loads(run.stdout)
    assert metrics["first_turns"]["answer_sentence"] == 1
    assert metrics["follow_ups_with_history"] == {"first_citation": 1, "answer_sentence": 1, "abstained": 0, "turns": 1}
    assert metrics["follow_ups_understood"] == 1
    table = qa("eval", str(path), "--index", str(seed_settings.index))
    assert "avec l'historique" in table.stdout and "sans l'historique" in table.stdout


def seed_copy(seed_settings, tmp_path):
    index = tmp_path / "index"
    shutil.copytree(seed_settings.index, index)
    return index


def live(index) -> str:
    return (index / "CURRENT").read_text()


def still_serves(index, e5) -> bool:
    """The index answers as before (opened here, with the session's encoder)."""
    from qa.answering.assistant import Assistant
    answer = Assistant.open(index, encoder=e5).ask("Qui a présidé la cérémonie de Ségou ?")
    return "Abdoulaye MAIGA" in answer.sentence.text


def test_a_missing_corpus_is_an_error_and_the_index_is_untouched(seed_index, seed_settings, tmp_path, e5):
    index = seed_copy(seed_settings, tmp_path)
    before = live(index)
    run = qa("index", "--rebuild", "--corpus", str(tmp_path / "pas-de-corpus"), "--index", str(index))
    assert run.returncode == 1 and "Traceback" not in run.stderr
    assert run.stderr.startswith(f"Erreur : Le dossier du corpus « {tmp_path / 'pas-de-corpus'} » n'existe pas")
    assert "l'index n'a pas été modifié" in run.stderr
    assert live(index) == before and still_serves(index, e5)


def test_a_corrupt_current_is_named_and_plain_index_repairs_it(seed_index, seed_settings, tmp_path, e5):
    index = seed_copy(seed_settings, tmp_path)
    (index / "CURRENT").write_bytes(bytes(range(256)) * 4)
    ask = qa("ask", "Qui a présidé la cérémonie de Ségou ?", "--index", str(index))
    assert ask.returncode == 1 and "Traceback" not in ask.stderr
    assert f"L'index « {index / 'CURRENT'} » est illisible" in ask.stderr
    assert "python -m qa index" in ask.stderr
    repair = qa("index", "--corpus", str(seed_settings.corpus), "--index", str(index))
    assert repair.returncode == 0, repair.stderr
    assert "Index construit : 2 documents" in repair.stdout
    assert "note : l'index précédent est illisible ou endommagé : il est reconstruit entièrement" in repair.stdout
    assert still_serves(index, e5)


def test_a_corrupt_build_is_not_up_to_date_and_plain_index_repairs_it(seed_index, seed_settings, tmp_path):
    index = seed_copy(seed_settings, tmp_path)
    terms = first_segment(index) / "terms.jsonl"
    terms.write_bytes(terms.read_bytes()[::-1])  # same size, other bytes
    repair = qa("index", "--corpus", str(seed_settings.corpus), "--index", str(index))
    assert repair.returncode == 0, repair.stderr
    assert "Index à jour" not in repair.stdout and "Index construit : 2 documents" in repair.stdout
    again = qa("index", "--corpus", str(seed_settings.corpus), "--index", str(index))
    assert again.returncode == 0 and "Index à jour" in again.stdout


@pytest.mark.parametrize("command", [["ask", "--batch"], ["eval"]])
def test_a_missing_question_file_is_a_sentence(seed_index, seed_settings, tmp_path, command):
    missing = tmp_path / "questions.jsonl"
    run = qa(*command, str(missing), "--index", str(seed_settings.index))
    assert run.returncode == 1 and "Traceback" not in run.stderr
    assert run.stderr.strip() == f"Erreur : « {missing} » : introuvable (not found)."


def test_a_read_only_index_folder_is_a_sentence_and_keeps_serving(seed_index, seed_settings, tmp_path, e5):
    index = seed_copy(seed_settings, tmp_path)
    (index / ".lock").touch()
    if shutil.which("chattr") is None or subprocess.run(["chattr", "-R", "+i", str(index)]).returncode != 0:
        pytest.skip("cannot make a folder read-only for root here (chattr +i)")
    try:
        run = qa("index", "--rebuild", "--corpus", str(seed_settings.corpus), "--index", str(index))
        serves = still_serves(index, e5)
    finally:
        subprocess.run(["chattr", "-R", "-i", str(index)], check=True)
    assert run.returncode == 1 and "Traceback" not in run.stderr
    assert run.stderr.strip() == (f"Erreur : « {index / '.lock'} » : opération non permise : vérifiez les droits "
                                  f"sur ce fichier ou ce dossier (operation not permitted).")
    assert serves


def test_opening_checks_sizes_and_verify_reads_every_file(seed_index, seed_settings, tmp_path, e5):
    index = seed_copy(seed_settings, tmp_path)
    assert qa("verify", "--index", str(index)).stdout.startswith("Index intact : ")
    terms = first_segment(index) / "terms.jsonl"
    stat = terms.stat()
    terms.write_bytes(terms.read_bytes()[::-1])  # same size, other bytes, and the same times
    os.utime(terms, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert still_serves(index, e5)  # opening trusts a file whose size and time are as written
    run = qa("verify", "--index", str(index))
    assert run.returncode == 1 and "Traceback" not in run.stderr
    assert "terms.jsonl" in run.stderr and "somme de contrôle incorrecte" in run.stderr


def test_openmp_threads_spin_briefly_unless_the_user_chose():
    """Importing qa sets GOMP_SPINCOUNT before the encoder and FAISS load their OpenMP runtime
    (long spinning made a question 7 to 70 times slower as soon as another process took a core),
    and keeps whatever the user set."""
    show = "import os, qa; print(os.environ.get('GOMP_SPINCOUNT'), os.environ.get('OMP_WAIT_POLICY'))"
    env = {k: v for k, v in os.environ.items() if k not in ("GOMP_SPINCOUNT", "OMP_WAIT_POLICY")}

    def run(extra: dict) -> list[str]:
        return subprocess.run([sys.executable, "-c", show], env={**env, **extra}, cwd=PROJECT_ROOT,
                              capture_output=True, text=True, timeout=120).stdout.split()
    assert run({}) == ["1000", "None"]
    assert run({"GOMP_SPINCOUNT": "50"}) == ["50", "None"]
    assert run({"OMP_WAIT_POLICY": "PASSIVE"}) == ["None", "PASSIVE"]
