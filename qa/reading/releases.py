"""What is special about press releases: the headline, the dateline (place and date), site navigation.

A scraped release page is navigation, then the headline, then a dateline paragraph
(« Ségou, le 19 décembre 2024 – … » or « Bamako – … »), then the body. The clean text starts at
the headline; the navigation menu lines are dropped, but its prose (« … 175 Etats membres … »)
is kept once, after the body, so its facts stay findable without crowding every passage.

Pages as published put more between the headline and the dateline, and before the headline: label
lines (« Communiqué », « Local »), a byline (« Par … »), a « Publié le … » or « Published Date: »
block, photo captions, blank lines. The headline is the first line, going up from the dateline (or
from the first paragraph of running text), that has a headline's shape; the lines that have
another shape (labels, bylines, dates, captions) are passed over, a paragraph of text stops the
search. Its date comes, in this order, from a « Publié le » line (`publié`), a page-date prefix
that gives the day (`prefix`), the dateline (`dateline`), the page's address when one is given
(`url`), or the release's own dated event in its first paragraph (`event`); each date says where
it came from. A date without a year takes it from the page's own date (« date 2019-09 » prefix,
publication date, address) when the two are close, otherwise from its weekday and the years the
text mentions; never from nothing. A prefix that gives only a month (« date 2020-07 ») gives no
date: the day stays unknown.
"""
from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass
from typing import NamedTuple

MONTHS = {"janvier": 1, "février": 2, "fevrier": 2, "mars": 3, "avril": 4, "mai": 5, "juin": 6, "juillet": 7,
          "août": 8, "aout": 8, "septembre": 9, "octobre": 10, "novembre": 11, "décembre": 12, "decembre": 12}
# Abbreviations as the press writes them, with or without their dot (« 02 avr 2024 », « 26 sept », « déc. »).
_ABBREVIATIONS = {"janv": 1, "févr": 2, "fevr": 2, "fév": 2, "fev": 2, "avr": 4, "juil": 7, "sept": 9,
                  "oct": 10, "nov": 11, "déc": 12, "dec": 12}
# English pages (« Published 12 December 2018 »).
_ENGLISH = {"january": 1, "february": 2, "march": 3, "april": 4, "may": 5, "june": 6, "july": 7, "august": 8,
            "september": 9, "october": 10, "november": 11, "december": 12}
_MONTH_NAMES = {**MONTHS, **_ABBREVIATIONS, **_ENGLISH}
WEEKDAYS = {"lundi": 0, "mardi": 1, "mercredi": 2, "jeudi": 3, "vendredi": 4, "samedi": 5, "dimanche": 6}
_ENGLISH_WEEKDAYS = {"monday": 0, "tuesday": 1, "wednesday": 2, "thursday": 3, "friday": 4, "saturday": 5,
                     "sunday": 6, "mon": 0, "tue": 1, "wed": 2, "thu": 3, "fri": 4, "sat": 5, "sun": 6}
_WEEKDAY_NAMES = {**WEEKDAYS, **_ENGLISH_WEEKDAYS}

_MONTH = "|".join(sorted(_MONTH_NAMES, key=len, reverse=True))
_WEEKDAY = "|".join(sorted(_WEEKDAY_NAMES, key=len, reverse=True))
_BEFORE = rf"(?:\b(?P<weekday>{_WEEKDAY})\b\.?,?\s*(?P<paren>\(\s*)?)?"
# « 19 décembre 2024 », « le lundi 13 décembre », « 02 avr 2024 »,
# « du 19 au 21 décembre 2022 » (its first day).
_WORDED = re.compile(
    _BEFORE + rf"(?:(?<!\d)(?P<first>[0-3]?\d)(?:er)?\s*(?:au|et|à|-|–)\s*)?(?<!\d)(?P<day>[0-3]?\d)(?:er)?\s+"
    rf"(?P<month>{_MONTH})\b\.?(?:,?\s+(?P<year>(?:19|20)\d\d)\b)?", re.IGNORECASE)
# « 12/04/2019 », « 12.04.2019 », « Wed, 12/12/2018 »; without a year only with a slash, in brackets or
# after a weekday: « Mardi (23/06) ».
_NUMERIC = re.compile(
    _BEFORE + r"(?<![\d/.,])(?P<day>[0-3]?\d)(?P<sep>[/.])(?P<month>[0-3]?\d)(?:[/.](?P<year>(?:19|20)\d\d))?(?![\d/])",
    re.IGNORECASE)
_ISO = re.compile(r"(?<![\d-])(?P<year>(?:19|20)\d\d)-(?P<month>[01]\d)-(?P<day>[0-3]\d)(?!\d)")
# « … au 2 mars 2023 » after a first date without its year: the range's year.
_RANGE_END = re.compile(rf"\s*(?:au|-|–)\s*(?:\w+\s+)?[0-3]?\d(?:er)?\s+(?P<month>{_MONTH})\b\.?\s+"
                        r"(?P<year>(?:19|20)\d\d)\b", re.IGNORECASE)

# « Ségou, le 19 décembre 2024 – », « Abidjan, 02 avr 2024 (AIP) – », « Tunis (dpa) – », « Bamako – »:
# a place, an optional agency and date, a dash, then the text.
_DATELINE = re.compile(
    r"^(?P<place>[A-ZÀ-Ý][\w'’.\- ]{1,40}?)(?:\s*\([^)]{1,40}\))?\s*(?:,\s*(?:le\s+)?(?P<date>[^–—]{3,40}?))?"
    r"(?:\s*[–—]\s*|\s+-\s*|\s*-\s+)(?=\S)")
# « Mardi 13 juin 2017 – … »: a dateline that is only a date.
_DATE_DASH = re.compile(rf"^(?:(?:{_WEEKDAY})\s+)?(?:le\s+)?[0-3]?\d(?:er)?\s+(?:{_MONTH})\b\.?(?:\s+(?:19|20)\d\d)?"
                        r"\s*[–—-]\s+\S", re.IGNORECASE)
_PLACE_LINKS = {"de", "du", "des", "d'", "d’", "la", "le", "les", "l'", "l’", "et", "sur", "en", "el"}
# « date 2020-07 » glued before the first line by the page's export: the page's year and month (and day).
_PREFIX = re.compile(r"\A\s*date\s+(?P<year>(?:19|20)\d\d)-(?P<month>[01]\d)(?:-(?P<day>[0-3]\d))?\s+")
# Dates in a page's address: /2019/04/12/, -2019-04-12, /20200723…; /2019/04/ gives only the month.
_URL_DATES = (re.compile(r"/(?P<year>(?:19|20)\d\d)/(?P<month>[01]?\d)/(?P<day>[0-3]?\d)(?=[/_.\-]|$)"),
              re.compile(r"(?<![\d])(?P<year>(?:19|20)\d\d)[-_](?P<month>[01]\d)[-_](?P<day>[0-3]\d)(?!\d)"),
              re.compile(r"/(?P<year>(?:19|20)\d\d)(?P<month>[01]\d)(?P<day>[0-3]\d)\d{0,6}(?=[/_.\-?#]|$)"))
_URL_MONTH = re.compile(r"/(?P<year>(?:19|20)\d\d)/(?P<month>[01]?\d)/")

_PUBLISHED = re.compile(r"^(?:publié|publie|published|mis en ligne|mis à jour|updated|posted|"
                        r"date de publication|date\s*:)", re.IGNORECASE)
# « Par kibaru », « « AUTEUR DE L’ARTICLE : … » », « Source : … », « Crédit: ».
_BYLINE = re.compile(r"^[«\"“(\s]*(?:auteur|author|source|crédit|credit|rédaction|écrit par)\b|"
                     r"\b(?:auteur|author)s?\s+de\s+l", re.IGNORECASE)
_BY = re.compile(r"^(?:par|by)\s+\S", re.IGNORECASE)
# « … Photo : OIM Mali », « Crédit Photo : … », « @OIM Mali / … », « IOM/Muse Mohammed. », « © … ».
_CAPTION = re.compile(r"\b[Pp]hotos?\s*:|\b[Pp]hotos?\s+(?:IOM|OIM|UN|ONU)\b|\b[Cc]r[ée]dits?\s+[Pp]hotos?\b|©|"
                      r"(?:^|\s)@\s?[A-Z]|\b(?:IOM|OIM|UN|ONU|UNHCR|HCR)\s?/\s?[A-Z]")
# Years that name a plan or a horizon, not the time of writing.
_PLAN_YEAR = re.compile(r"(?:agenda|programme|horizon|d'ici|d’ici|vision|plan)\s+((?:19|20)\d\d)", re.IGNORECASE)
_YEAR = re.compile(r"\b((?:19|20)\d\d)\b")

_SPACES = str.maketrans({"\u00a0": " ", "\u202f": " ", "\u2007": " ", "\u2009": " ", "\t": " "})
_LEDE_CHARS = 700  # the event's date is looked for in the first paragraph's opening, this long
_NEAR_DAYS = 45  # a date without its year takes the page's year when it falls this close to the page's date

PUBLISHED, PREFIX, DATELINE, URL, EVENT = "publié", "prefix", "dateline", "url", "event"


@dataclass(frozen=True, slots=True)
class Release:
    text: str
    title: str | None
    date: str | None
    place: str | None
    date_source: str | None = None  # where the date was read: publié, prefix, dateline, url, event


class _Found(NamedTuple):
    start: int
    day: int
    month: int
    year: int | None
    weekday: int | None
    swappable: bool  # a numeric date that may be month/day: when day/month is no date, or the weekday says so


def normalise(raw: str) -> str:
    """NFC, Unix newlines, plain spaces for typographic ones, no trailing blanks."""
    text = unicodedata.normalize("NFC", raw).replace("\r\n", "\n").replace("\r", "\n").translate(_SPACES)
    text = text.lstrip("\ufeff")
    return "\n".join(line.rstrip() for line in text.split("\n")).strip("\n")


# Dates ------------------------------------------------------------------------------------------

def _found_dates(text: str) -> list[_Found]:
    """Every date expression of text, in order; a year may be missing."""
    found = []
    for match in _WORDED.finditer(text):
        year = int(match.group("year")) if match.group("year") else None
        if year is None and (end := _RANGE_END.match(text, match.end())):
            month, end_month = _MONTH_NAMES[match.group("month").lower()], _MONTH_NAMES[end.group("month").lower()]
            year = int(end.group("year")) - (1 if month > end_month else 0)
        day = int(match.group("first") or match.group("day"))
        found.append(_Found(match.start(), day,
                            _MONTH_NAMES[match.group("month").lower()], year, _weekday(match), False))
    for match in _NUMERIC.finditer(text):
        if not match.group("year") and (match.group("sep") != "/" or not (
                match.group("weekday") or text[max(0, match.start("day") - 1)] == "(")):
            continue  # « 24/7 », « 3/4 », « (2.5) » are not dates
        day, month = int(match.group("day")), int(match.group("month"))
        found.append(_Found(match.start(), day, month, int(match.group("year")) if match.group("year") else None,
                            _weekday(match), day != month))
    for match in _ISO.finditer(text):
        found.append(_Found(match.start(), int(match.group("day")), int(match.group("month")),
                            int(match.group("year")), None, False))
    found.sort(key=lambda f: f.start)
    return found


def _weekday(match: re.Match) -> int | None:
    name = match.group("weekday")
    return _WEEKDAY_NAMES[name.lower()] if name else None


def _valid(year: int, month: int, day: int) -> dt.date | None:
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None


def _resolve(found: _Found, years: list[int], reference: tuple[dt.date, int] | None) -> dt.date | None:
    """A found date as a calendar date. Without its year: the year that puts it closest to the page's
    own date (`reference`: a date and how many days it may be off) if that is near; else the first
    year, from the latest the text mentions and up to three after it, where the weekday matches."""
    orders = [(found.day, found.month)] + ([(found.month, found.day)] if found.swappable else [])
    dates = []
    for day, month in orders:
        if found.year is not None:
            if (date := _valid(found.year, month, day)) is not None:
                dates.append(date)
            continue
        if reference is not None:
            around, slack = reference
            near = [d for y in (around.year - 1, around.year, around.year + 1)
                    if (d := _valid(y, month, day)) is not None and abs((d - around).days) <= slack + _NEAR_DAYS
                    and (found.weekday is None or d.weekday() == found.weekday)]
            if near:
                dates.append(min(near, key=lambda d: abs((d - around).days)))
                continue
        if found.weekday is None or not years:
            continue
        for year in range(max(years), max(years) + 4):
            if (date := _valid(year, month, day)) is not None and date.weekday() == found.weekday:
                dates.append(date)
                break
    if found.weekday is not None:
        for date in dates:
            if date.weekday() == found.weekday:
                return date  # « Wed, 12/12/2018 »: the order of day and month the weekday agrees with
    return dates[0] if dates else None


def _text_years(body: str) -> list[int]:
    plans = {int(y) for y in _PLAN_YEAR.findall(body)}
    return [int(y) for y in _YEAR.findall(body) if int(y) not in plans]


def _first_date(text: str, body: str, reference: tuple[dt.date, int] | None = None,
                limit: int | None = None) -> dt.date | None:
    years = _text_years(body)
    for found in _found_dates(text):
        if limit is not None and found.start >= limit:
            break
        if (date := _resolve(found, years, reference)) is not None:
            return date
    return None


def parse_date(text: str, body: str) -> str | None:
    """The first French date of text as YYYY-MM-DD (« 19 décembre 2024 », « 02 avr. 2024 », « 12/04/2019 »).

    Without a year, the year is inferred only when a weekday is given: the first year, from the
    latest year the body mentions (plans such as « Agenda 2030 » aside) and up to three after it,
    in which that day falls on that weekday. Otherwise the date is left unknown.
    """
    found = _found_dates(text)
    if not found:
        return None
    date = _resolve(found[0], _text_years(body), None)
    return date.isoformat() if date else None


def url_date(url: str | None) -> dt.date | None:
    """The date a page's address gives (/2019/04/12/, -2019-04-12, /20190412…), if any and not in the future."""
    if not url:
        return None
    for pattern in _URL_DATES:
        for match in pattern.finditer(url):
            date = _valid(int(match.group("year")), int(match.group("month")), int(match.group("day")))
            if date is not None and date <= dt.date.today():
                return date
    return None


def _url_month(url: str | None) -> tuple[int, int] | None:
    match = _URL_MONTH.search(url or "")
    if match and 1 <= int(match.group("month")) <= 12:
        return int(match.group("year")), int(match.group("month"))
    return None


def _month_reference(year: int, month: int) -> tuple[dt.date, int]:
    return dt.date(year, month, 15), 16


# Lines ------------------------------------------------------------------------------------------

def _is_prose(line: str) -> bool:
    """A line of running text: long enough and ending like a sentence."""
    return len(line.split()) >= 12 and line.rstrip().endswith((".", "!", "?", "»", "…", ":", ")", '"'))


def _has_sentence(line: str) -> bool:
    return bool(re.search(r"[.!?…»](?:\s|$)", line)) or len(line.split()) >= 40


def _place_shape(place: str) -> bool:
    """« Ségou », « Nioro du Sahel », « Bobo-Dioulasso »: capitalised names and their small words."""
    words = re.split(r"[\s\-]+", place.strip())
    return 0 < len(words) <= 5 and not any(ch.isdigit() for ch in place) and all(
        w[:1].isupper() or w.lower() in _PLACE_LINKS for w in words if w)


def _dateline(line: str) -> tuple[str | None, str | None] | None:
    """(place, the date written in the dateline) when the line is a dateline paragraph."""
    if len(line) < 60 or not _has_sentence(line):
        return None
    match = _DATELINE.match(line)
    if match and _place_shape(match.group("place")):
        return match.group("place").strip(), match.group("date")
    if match := _DATE_DASH.match(line):
        return None, line[:match.end()]
    return None


def _is_date_line(line: str) -> bool:
    """A line that is only a date (« 11 février 2020 », « Wed, 12/12/2018 »)."""
    found = _found_dates(line)
    if not found:
        return False
    rest = _NUMERIC.sub(" ", _WORDED.sub(" ", _ISO.sub(" ", line)))
    return len(re.findall(r"\w+", rest)) <= 1


def _is_label(line: str) -> bool:
    """« Communiqué », « Local », « Country: », « Mali »: a few words, not a sentence."""
    return len(line.split()) <= 3 and not line.endswith((".", "!", "?"))


def _is_byline(line: str) -> bool:
    words = len(line.split())
    return (words <= 10 and bool(_BYLINE.search(line))) or (words <= 5 and bool(_BY.match(line)))


def _is_caption(line: str) -> bool:
    return bool(_CAPTION.search(line))


def _passed_over(line: str) -> bool:
    """Lines that sit between a headline and its text without being either."""
    return (_is_label(line) or _is_byline(line) or bool(_PUBLISHED.match(line)) or _is_date_line(line)
            or _is_caption(line))


def _headline_shape(line: str) -> bool:
    """A headline: a few words to a long line, no sentence's final stop, not a label, byline, date or caption."""
    line = line.strip()
    return (4 <= len(line.split()) <= 40 and len(line) <= 300 and not line.startswith(("-", "•", "*"))
            and not line.endswith((".", ",", ";", ":")) and not _passed_over(line))


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


# Anatomy ----------------------------------------------------------------------------------------

class _Anatomy(NamedTuple):
    start: int  # where the clean text starts: the headline, or the first line of the text
    headline_at: int | None
    lede_at: int | None  # the dateline, or the first paragraph of running text
    dateline: tuple[str | None, str | None] | None  # (place, date written in it)


def _headline_above(lines: list[str], lede_at: int, menu: set[int], standfirsts: int = 0) -> int | None:
    """Going up from the lede: the first line shaped like a headline, passing over blank lines,
    labels, bylines, dates and captions, and up to `standfirsts` short paragraphs (a standfirst,
    a caption without credit, between a headline and its dateline); another paragraph of text,
    a menu line or a wrapped line stop."""
    seen = 0
    for i in range(lede_at - 1, -1, -1):
        line = lines[i].strip()
        if not line:
            continue
        seen += 1
        if seen > 8 or i in menu:
            return None
        if _headline_shape(line):
            follows = lines[i + 1].strip() if i + 1 < len(lines) else ""
            # a line the next one continues in lower case is a paragraph cut in two, not a headline
            return None if follows[:1].islower() else i
        if _passed_over(line):
            continue
        if standfirsts and len(line.split()) <= 80 and line.endswith((".", "!", "?", "»", "…")):
            standfirsts -= 1
            continue
        return None
    return None


def _anatomy(lines: list[str], headline: str | None, menu: set[int]) -> _Anatomy:
    datelines = ((i, d) for i, line in enumerate(lines) if (d := _dateline(line.strip())) is not None)
    dateline_at, dateline = next(datelines, (None, None))
    if headline:
        wanted = headline.strip().casefold()
        at = next((i for i, line in enumerate(lines) if line.strip().casefold() == wanted), None)
        if at is not None:
            if dateline_at is not None and dateline_at > at:
                return _Anatomy(at, at, dateline_at, dateline)
            return _Anatomy(at, at, next((i for i in range(at + 1, len(lines)) if _is_prose(lines[i])), None), None)
    if dateline_at is not None:
        above = _headline_above(lines, dateline_at, menu, standfirsts=2)
        return _Anatomy(_start(lines, dateline_at, above, menu), above, dateline_at, dateline)
    # No dateline: the text starts at the first line of running text that is not navigation (nor a
    # caption, nor a menu heading glued to its own text), under its headline when it has one.
    first = next((i for i, line in enumerate(lines) if i not in menu and _is_prose(line) and not _is_caption(line)
                  # a long headline may end with a bracket (« … (CERF) »): a paragraph has a sentence in it
                  and (_has_sentence(line) or not line.endswith(")"))
                  and not (i > 0 and line.casefold().startswith(lines[i - 1].strip().casefold()) and lines[i - 1].strip())),
                 None)
    if first is None:
        top = next((i for i, line in enumerate(lines) if line.strip()), 0)
        return _Anatomy(top, top if _headline_shape(lines[top]) else None, None, None)
    above = _headline_above(lines, first, menu)
    return _Anatomy(_start(lines, first, above, menu), above, first, None)


def _start(lines: list[str], lede_at: int, headline_at: int | None, menu: set[int]) -> int:
    """The clean text starts at the headline; without one, at the line just above the lede when it
    is a short line of text rather than navigation (a heading, the first half of a cut paragraph),
    else at the lede; and a line that starts in lower case brings in the line it continues."""
    if headline_at is not None:
        return headline_at
    start = lede_at
    above = _line_above(lines, start)
    if above is not None and above not in menu and 3 <= len(lines[above].split()) <= 40 \
            and not lines[above].lstrip().startswith(("-", "•", "*")) and not _is_prose(lines[above]):
        start = above
    while lines[start].strip()[:1].islower() and (above := _line_above(lines, start)) is not None \
            and above not in menu:
        start = above
    return start


def _line_above(lines: list[str], at: int) -> int | None:
    return next((i for i in range(at - 1, -1, -1) if lines[i].strip()), None)


def _header_date(lines: list[str], body: str, reference: tuple[dt.date, int] | None) -> dt.date | None:
    """The page's own date in its header (the lines around the headline, before the lede): a
    « Publié le … » line (its date may be on the next line, « Published Date: » / « Wed,
    12/12/2018 »), or a line that is only a date."""
    header = [line.strip() for line in lines if line.strip()]
    for i, line in enumerate(header):
        if _PUBLISHED.match(line):
            date = _first_date(line, body, reference) or (
                _first_date(header[i + 1], body, reference) if i + 1 < len(header) and _is_date_line(header[i + 1])
                else None)
            if date:
                return date
        elif _is_date_line(line) and (date := _first_date(line, body, reference)):
            return date
    return None


def _read_date(lines: list[str], anatomy: _Anatomy, body: str, prefix: re.Match | None,
               url: str | None) -> tuple[dt.date | None, str | None]:
    """The release's date and where it came from (see the module's docstring for the order)."""
    prefix_day = prefix_month = None
    if prefix:
        prefix_month = int(prefix.group("year")), int(prefix.group("month"))
        if prefix.group("day"):
            prefix_day = _valid(*prefix_month, int(prefix.group("day")))
    from_url = url_date(url)
    # The page's own date, for a date written without its year.
    month = prefix_month or _url_month(url)
    reference = ((prefix_day, 0) if prefix_day else (from_url, 0) if from_url else
                 _month_reference(*month) if month else None)
    top = anatomy.headline_at if anatomy.headline_at is not None else anatomy.lede_at
    end = anatomy.lede_at if anatomy.lede_at is not None else min(len(lines), 12)
    if (date := _header_date(lines[max(0, (top or 0) - 6):end], body, reference)) is not None:
        return date, PUBLISHED
    if prefix_day:
        return prefix_day, PREFIX
    if anatomy.dateline and anatomy.dateline[1]:
        if (date := _first_date(anatomy.dateline[1], body, reference)) is not None:
            return date, DATELINE
    if from_url:
        return from_url, URL
    if anatomy.lede_at is not None:
        if (date := _first_date(lines[anatomy.lede_at], body, reference, limit=_LEDE_CHARS)) is not None:
            return date, EVENT
    return None, None


def read_release(raw: str, headline: str | None = None, url: str | None = None) -> Release:
    """Headline, dateline, date (and where it came from) and clean text of a release.

    The clean text is the headline and body; the contact footer follows after a blank line (its
    own section: searchable, never mixed into a body passage); the prose of the navigation
    before the headline (« … 175 Etats membres … ») comes last, after another blank line.
    `headline`, when known (from metadata), marks where the release starts; `url`, the page's
    address when known, may give its date.
    """
    text = normalise(raw)
    prefix = _PREFIX.match(text)
    if prefix:
        text = text[prefix.end():]  # the page's export, not the release
    lines = text.split("\n")
    menu = _menu_lines(lines)
    anatomy = _anatomy(lines, headline, menu)
    start = anatomy.start
    body_lines = [line.strip() for line in lines[start:] if line.strip()]
    footer_at = next((i for i, line in enumerate(body_lines) if i > 0 and _FOOTER.match(line)), None)
    body, footer = (body_lines, []) if footer_at is None else (body_lines[:footer_at], body_lines[footer_at:])
    title = normalise(headline).strip() if headline else (
        lines[anatomy.headline_at].strip() if anatomy.headline_at is not None else None)
    # Before the headline, the page's own copies of it (« Article : <headline> », « <headline> - site ») go.
    before = [line for i, line in enumerate(lines[:start]) if (i not in menu or len(line.split()) >= 10)
              and not (title and title.casefold() in line.casefold())]
    about = _prose(before)
    clean = "\n\n".join(part for part in ("\n".join(body), "\n".join(footer), "\n".join(about)) if part)
    body_text = "\n".join(body)
    date, source = _read_date(lines, anatomy, body_text, prefix, url)
    place = anatomy.dateline[0] if anatomy.dateline else None
    return Release(clean, title, date.isoformat() if date else None, place, source)
