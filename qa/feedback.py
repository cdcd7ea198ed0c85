"""Readers' feedback on answers: 👍/👎 with an optional comment, appended to a JSONL file in the index folder.

Readers are anonymous, so what one of them can write is bounded: a comment is cut at
MAX_COMMENT characters, and at most MAX_PER_MINUTE records are taken a minute (beyond that the
record is refused with a message). Records are only ever appended; a comment sent after a vote
is a second record with the same id, merged with it when read.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import json
import secrets
import threading
import time
from collections import deque
from pathlib import Path

from .errors import QAError

FILE_NAME = "feedback.jsonl"
MAX_COMMENT = 1000
MAX_PER_MINUTE = 30
# Bounds on what a record carries from the answer (a citation's passage is at most a few thousand characters).
MAX_QUESTION = 2000
MAX_CITATIONS = 20
TOO_MANY = "Trop d'avis en une minute : réessayez dans un instant."
CSV_FIELDS = ("id", "time", "rating", "question", "answer", "comment", "citations")


class FeedbackLog:
    """The append-only feedback file of one index folder."""

    def __init__(self, index_dir: Path, per_minute: int = MAX_PER_MINUTE):
        self.path = Path(index_dir) / FILE_NAME
        self.per_minute = per_minute
        self._lock = threading.Lock()
        self._recent: deque[float] = deque()

    def _append(self, record: dict) -> None:
        with self._lock:
            now = time.monotonic()
            while self._recent and now - self._recent[0] > 60:
                self._recent.popleft()
            if len(self._recent) >= self.per_minute:
                raise QAError(TOO_MANY)
            self._recent.append(now)
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with open(self.path, "a", encoding="utf-8") as out:
                out.write(json.dumps(record, ensure_ascii=False) + "\n")

    def rate(self, liked: bool, question: str, answer: dict, comment: str = "") -> str:
        """Store a vote on an answer (its JSON contract: sentence and cited passages); returns its id."""
        citations = [{key: c.get(key) for key in ("rank", "doc_id", "source", "title", "date", "place", "text")}
                     for c in (answer.get("citations") or [])[:MAX_CITATIONS]]
        sentence = (answer.get("answer") or {}).get("text") if answer.get("answer") else None
        record = {"id": secrets.token_hex(8), "time": _now(), "rating": "up" if liked else "down",
                  "question": str(question)[:MAX_QUESTION], "answer": sentence or answer.get("message"),
                  "abstained": bool(answer.get("abstained")), "citations": citations,
                  "comment": str(comment or "")[:MAX_COMMENT]}
        self._append(record)
        return record["id"]

    def comment(self, feedback_id: str, comment: str) -> None:
        """Add a comment to a vote already stored (a second record with its id)."""
        comment = str(comment or "").strip()[:MAX_COMMENT]
        if comment:
            self._append({"id": str(feedback_id), "time": _now(), "comment": comment})

    def records(self) -> list[dict]:
        """Every vote, oldest first, with the comments sent after it merged in."""
        merged: dict[str, dict] = {}
        if not self.path.exists():
            return []
        with open(self.path, encoding="utf-8") as lines:
            for line in lines:
                try:
                    record = json.loads(line)
                except json.JSONDecodeError:
                    continue  # a line cut by a crash: the others stand
                if not isinstance(record, dict) or "id" not in record:
                    continue
                if "rating" in record:
                    merged[record["id"]] = record
                elif record["id"] in merged and record.get("comment"):
                    merged[record["id"]]["comment"] = record["comment"]
        return list(merged.values())


def to_csv(records: list[dict]) -> str:
    """The votes as CSV (citations as « [1] title (source) » joined by « ; »)."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_FIELDS, extrasaction="ignore")
    writer.writeheader()
    for record in records:
        cited = " ; ".join(f"[{c.get('rank')}] {c.get('title') or c.get('source')} ({c.get('source')})"
                           for c in record.get("citations", []))
        writer.writerow({**record, "citations": cited})
    return out.getvalue()


def lines(records: list[dict]) -> str:
    """The votes as text, one line each (and its comment under it)."""
    if not records:
        return "Aucun avis pour l'instant."
    out = []
    for record in records:
        mark = "👍" if record.get("rating") == "up" else "👎"
        out.append(f"{record.get('time', '')}  {mark}  {record.get('question', '')}\n"
                   f"    réponse : {record.get('answer') or '—'}")
        if record.get("comment"):
            out.append(f"    commentaire : {record['comment']}")
    return "\n".join(out)


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
