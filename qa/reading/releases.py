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


def _is_prose(line: str) -> bool:
    """A line of running text: long enough and ending like a sentence."""
    return len(line.split()) >= 12 and line.rstrip().endswith((".", "!", "?", "»", "…", ":", ")", '"'))


def _menu_lines(lines: list[str]) -> set[int]:
    """Navigation: short lines without final punctuation that repeat within the page
    (« Agir » / « Agir »), list items (« - Agir »), lone dashes."""
    seen: dict[str, int] = {}
    for line in lines:
        key = line.strip().casefold()
        seen[key] = seen.get(key, 0) + 1
    menu = set()
    for i, line in enumerate(lines):
        stripped = line.strip()
        short = len(stripped.split()) <= 6 and not stripped.endswith((".", "!", "?"))
        if stripped in {"-", "•", "*"} or (short and (seen[stripped.casefold()] > 1 or stripped.startswith("- "))):
            menu.add(i)
    return menu


_FOOTER = re.compile(r"^(?:\*{3}|pour plus d.informations|contacts?\s*:|pour toute information|"
                     r"for more information|media contacts?)", re.IGNORECASE)


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


def _body_start(lines: list[str], headline: str | None) -> tuple[int, int | None]:
    """Where the release starts (its headline, or its first line of text) and its dateline line."""
    dateline_at = next((i for i, line in enumerate(lines) if _is_dateline(line)), None)
    if headline:
        wanted = headline.strip().casefold()
        at = next((i for i, line in enumerate(lines) if line.strip().casefold() == wanted), None)
        if at is not None:
            return at, dateline_at if dateline_at is not None and dateline_at > at else None
    if dateline_at is not None:
        if dateline_at > 0 and _looks_like_headline(lines[dateline_at - 1]):
            return dateline_at - 1, dateline_at
        return dateline_at, dateline_at
    # No dateline: the body starts at the first line of running text that is not navigation,
    # under the headline-like line just above it.
    menu = _menu_lines(lines)
    first = next((i for i, line in enumerate(lines) if i not in menu and _is_prose(line)
                  and not (i > 0 and line.casefold().startswith(lines[i - 1].strip().casefold()) and lines[i - 1].strip())),
                 None)
    if first is None:
        return 0, None
    above = first - 1
    while above >= 0 and not lines[above].strip():
        above -= 1
    if above >= 0 and above not in menu and _looks_like_headline(lines[above]) and not _is_prose(lines[above]):
        return above, None
    return first, None


def read_release(raw: str, headline: str | None = None) -> Release:
    """Headline, dateline and clean text of a release.

    The clean text is the headline and body; the contact footer follows after a blank line (its
    own section: searchable, never mixed into a body passage); the prose of the navigation
    before the headline (« … 175 Etats membres … ») comes last, after another blank line.
    `headline`, when known (from metadata), marks where the release starts.
    """
    lines = [line for line in normalise(raw).split("\n")]
    start, dateline_at = _body_start(lines, headline)
    menu = _menu_lines(lines)
    body_lines = [line.strip() for line in lines[start:] if line.strip()]
    footer_at = next((i for i, line in enumerate(body_lines) if i > 0 and _FOOTER.match(line)), None)
    body, footer = (body_lines, []) if footer_at is None else (body_lines[:footer_at], body_lines[footer_at:])
    about = _prose([line for i, line in enumerate(lines[:start]) if i not in menu or len(line.split()) >= 10])
    text = "\n\n".join(part for part in ("\n".join(body), "\n".join(footer), "\n".join(about)) if part)
    title = body[0] if body and _looks_like_headline(body[0]) and not _is_prose(body[0]) else None
    if headline:
        title = normalise(headline).strip()
    dateline = _is_dateline(lines[dateline_at]) if dateline_at is not None else None
    if dateline:
        date = parse_date(lines[dateline_at][:200], "\n".join(body))
        place = dateline.group("place").strip()
    else:
        date, place = parse_date("\n".join(body)[:400], "\n".join(body)), None
    return Release(text, title, date, place)
