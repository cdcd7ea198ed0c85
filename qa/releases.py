"""What is special about press releases: the headline, the dateline (place and date), site navigation.

A scraped release page is navigation, then the headline, then a dateline paragraph
(« Ségou, le 19 décembre 2024 – … » or « Bamako – … »), then the body. The clean text starts at
the headline; the navigation menu lines are dropped, but its prose (« … 175 Etats membres … »)
is kept once, after the body, so its facts stay findable without crowding every passage.
"""
from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass

MONTHS = {"janvier": 1, "février": 2, "fevrier": 2, "mars": 3, "avril": 4, "mai": 5, "juin": 6, "juillet": 7,
          "août": 8, "aout": 8, "septembre": 9, "octobre": 10, "novembre": 11, "décembre": 12, "decembre": 12}
WEEKDAYS = {"lundi": 0, "mardi": 1, "mercredi": 2, "jeudi": 3, "vendredi": 4, "samedi": 5, "dimanche": 6}

_MONTH = "|".join(MONTHS)
_WEEKDAY = "|".join(WEEKDAYS)
_DATE = re.compile(
    rf"(?:(?P<weekday>{_WEEKDAY})\s+)?(?P<day>\d{{1,2}})(?:er)?\s+(?P<month>{_MONTH})(?:\s+(?P<year>(?:19|20)\d\d))?\b",
    re.IGNORECASE)
# « Ségou, le 19 décembre 2024 – » or « Bamako – »: a place, an optional date, a dash, then the text.
_DATELINE = re.compile(
    r"^(?P<place>[A-ZÀ-Ý][\w'’.\- ]{1,40}?)(?:\s*\([^)]{1,40}\))?\s*(?:,\s*(?:le\s+)?(?P<date>[^–—]{4,40}?))?\s*[–—-]\s+\S")
# Years that name a plan or a horizon, not the time of writing.
_PLAN_YEAR = re.compile(r"(?:agenda|programme|horizon|d'ici|d’ici|vision|plan)\s+((?:19|20)\d\d)", re.IGNORECASE)
_YEAR = re.compile(r"\b((?:19|20)\d\d)\b")

_SPACES = str.maketrans({"\u00a0": " ", "\u202f": " ", "\u2007": " ", "\u2009": " ", "\t": " "})


@dataclass(frozen=True, slots=True)
class Release:
    text: str
    title: str | None
    date: str | None
    place: str | None


def normalise(raw: str) -> str:
    """NFC, Unix newlines, plain spaces for typographic ones, no trailing blanks."""
    text = unicodedata.normalize("NFC", raw).replace("\r\n", "\n").replace("\r", "\n").translate(_SPACES)
    text = text.lstrip("\ufeff")
    return "\n".join(line.rstrip() for line in text.split("\n")).strip("\n")


def _is_dateline(line: str) -> re.Match | None:
    if len(line) < 60:
        return None
    return _DATELINE.match(line)


def _looks_like_headline(line: str) -> bool:
    words = line.split()
    return 3 <= len(words) <= 40 and not line.lstrip().startswith(("-", "•", "*"))


def _prose(lines: list[str]) -> list[str]:
    """Sentences hidden in navigation: long lines, with a repeated menu heading glued in front removed."""
    kept = []
    for previous, line in zip([""] + lines, lines):
        if len(line.split()) < 10:
            continue
        heading = previous.strip()
        if heading and line.casefold().startswith(heading.casefold()) and len(line) > len(heading):
            line = line[len(heading):].lstrip()
        kept.append(line.strip())
    return kept


def parse_date(text: str, body: str) -> str | None:
    """The first French date of text as YYYY-MM-DD.

    Without a year, the year is inferred only when a weekday is given: the first year, from the
    latest year the body mentions (plans such as « Agenda 2030 » aside) and up to three after it,
    in which that day falls on that weekday. Otherwise the date is left unknown.
    """
    match = _DATE.search(text)
    if not match:
        return None
    day, month = int(match.group("day")), MONTHS[match.group("month").lower()]
    if match.group("year"):
        try:
            return dt.date(int(match.group("year")), month, day).isoformat()
        except ValueError:
            return None
    weekday = match.group("weekday")
    plans = {int(y) for y in _PLAN_YEAR.findall(body)}
    years = [int(y) for y in _YEAR.findall(body) if int(y) not in plans]
    if not weekday or not years:
        return None
    for year in range(max(years), max(years) + 4):
        try:
            candidate = dt.date(year, month, day)
        except ValueError:
            continue
        if candidate.weekday() == WEEKDAYS[weekday.lower()]:
            return candidate.isoformat()
    return None


def read_release(raw: str) -> Release:
    """Headline, dateline and clean text of a release; text without a dateline is kept whole."""
    lines = normalise(raw).split("\n")
    dateline_at = next((i for i, line in enumerate(lines) if _is_dateline(line)), None)
    if dateline_at is None:
        text = "\n".join(lines).strip()
        title = next((line.strip() for line in lines if _looks_like_headline(line)), None)
        return Release(text, title, parse_date(text[:400], text), None)

    title_at = dateline_at
    if dateline_at > 0 and _looks_like_headline(lines[dateline_at - 1]):
        title_at = dateline_at - 1
    body = "\n".join(line for line in lines[title_at:] if line.strip())
    about = _prose(lines[:title_at])
    text = body + ("\n\n" + "\n".join(about) if about else "")
    dateline = _is_dateline(lines[dateline_at])
    title = lines[title_at].strip() if title_at < dateline_at else None
    date = parse_date(lines[dateline_at][:200], body)
    return Release(text, title, date, dateline.group("place").strip())
