"""Follow-up questions in a conversation: what a turn borrows from the turns before it, without an LLM.

A turn is a follow-up only when it shows it, and any other question stands alone and is searched
exactly as asked. It shows it when it opens with « Et », when it is a fragment with no verb
(« À Gao ? », « Parmi les Maliens, combien de femmes ? »), or when it points back at something it
does not name: « parmi eux », « d'entre elles », « cela », « là-bas », a subject or object pronoun
with no noun before it in the question that it could stand for (« Quand a-t-elle eu lieu ? »,
« Qui l'a financé ? », « y »), or a demonstrative (« ce programme ») in a short question.

A follow-up is read with the previous turn, as that turn was understood:
- an ellipsis of place or time (« Et à Gao ? », « Et en 2019 ? », « Et l'année suivante ? ») is the
  previous question with that place or time replaced (the year counted from the previous one),
  and is searched as such, everywhere;
- any other follow-up keeps its own words and borrows the previous turn's subject, shown in
  parentheses: « Qui a financé ces vols ? (Maliens bloqués à Niamey rentrés le 4 juin …) ». The
  subject decides where to look, the follow-up's own words which sentence answers: they are
  searched in the previous answer's release and in the release the question as understood finds
  first (a follow-up that moves to another event finds that event's release).
The previous answer's release is also a prior: its passages are moved up, never forced.

Everything but `ranked` and `answer` (which ask the assistant) is a pure function of the text and
the previous turns; words are read by spaCy's French pipeline (`fr_core_news_sm`: parts of speech
and places), loaded once.
"""
from __future__ import annotations

import re
import threading
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Iterable, Sequence

from ..reading.lexical import fold, terms

# Added to the final score (a probability mixed with the first-stage score, 0–1) of the passages
# of the previous answer's release.
PRIOR = 0.15
# A question with at most this many terms of its own (French terms, stop words aside) is short:
# a demonstrative (« ce programme ») or a fragment then points back rather than names.
SHORT = 5
FRAGMENT = 3  # … and a fragment with no verb this short is an ellipsis (« À Tombouctou ? »)
# How many turns a conversation keeps (the oldest are forgotten), and how much of each.
MEMORY = 8
QUESTION_CHARS = 2000

_LOCK = threading.Lock()


@lru_cache(maxsize=1)
def _pipeline():
    import spacy
    return spacy.load("fr_core_news_sm", exclude=["parser", "senter", "lemmatizer"])


@lru_cache(maxsize=4096)
def _analysed(text: str) -> tuple[tuple[str, str, str, int], ...]:
    """(text, part of speech, entity label, character offset) of each token."""
    with _LOCK:  # a spaCy pipeline is not meant to be shared by threads
        document = _pipeline()(text)
    return tuple((t.text, t.pos_, t.ent_type_, t.idx) for t in document)


@dataclass(frozen=True, slots=True)
class Turn:
    """A previous turn: the question as asked, how it was understood, the releases its answer cited."""
    question: str
    understood: str | None = None  # None: it was read alone
    doc_ids: tuple[str, ...] | None = None  # the answer's release first; () when it abstained, None: unknown

    @property
    def read_as(self) -> str:
        return self.understood or self.question


@dataclass(frozen=True, slots=True)
class Reading:
    """How one question is read in its conversation."""
    question: str  # as asked
    understood_as: str | None = None  # how it was understood, as the reader sees it; None: it stands alone
    kind: str | None = None  # why it is a follow-up: et, ellipsis, parmi, pronoun, demonstrative
    prior: tuple[str, ...] = ()  # the previous answer's releases, its own first
    own: str | None = None  # a follow-up's own words, searched where its subject is (None: an ellipsis)
    subject: str | None = None  # what it borrows (None: an ellipsis)

    @property
    def query(self) -> str:
        """What is searched first: the question, or as understood (its pointers back aside)."""
        if self.own is not None:
            return f"{self.own} ({self.subject})"
        return self.understood_as or self.question


# Detection ------------------------------------------------------------------------------------------

def _folded(text: str) -> str:
    """Lower case, no accents, straight apostrophes, one character for each character of `text`
    (so that offsets in it are offsets in the text)."""
    return "".join((fold(ch) or " ")[0] for ch in text).replace("’", "'").replace("`", "'")


_ET = re.compile(r"^\s*et\b(?!-)")
_PARMI = re.compile(r"\bparmi (?:eux|elles|ceux-ci|celles-ci|lesquel(?:le)?s)\b")
_ENTRE = re.compile(r"\bd'entre (?:eux|elles)\b")
_PARMI_NAMED = re.compile(r"\bparmi (?:les|des|ces|ses|leurs) \w")
_POINTS_BACK = re.compile(r"\b(?:cela|ca|ceci|celui-ci|celle-ci|ceux-ci|celles-ci|la-bas)\b|^c'(?:est|etait)\b")
# In a short question only: « la même période », « ce programme » (see SHORT).
_SAME = re.compile(r"\b(?:le|la|les|au|du) memes?\b")
_INVERTED = re.compile(r"\b(\w+)-(?:t-)?(?:il|elle|ils|elles)\b")
# Impersonal « il »: « y a-t-il », « faut-il », « que se passe-t-il », « est-il possible ».
_IMPERSONAL = re.compile(r"\by (?:a|avait|aura|aurait)-(?:t-)?il\b|\b(?:faut|fallait|faudra|faudrait|fera|fait|"
                         r"agit|suffit|reste|existe|passe|arrive|produit|convient|importe)-(?:t-)?il\b|"
                         r"\best-il (?:possible|necessaire|obligatoire|interdit|permis|utile|vrai|normal|legal|"
                         r"conseille|prevu)\b")
_SUBJECT = re.compile(r"(?:^|[,;:]\s*|\bet\s+)(?:il|elle|ils|elles)\s+(?!y a\b|faut\b|s'agit\b)\w")
_Y = re.compile(r"\by\b(?!\s+(?:a|avait|aura|aurait)\b)")
_WH = {"combien", "quel", "quelle", "quels", "quelles", "lequel", "laquelle", "lesquels", "lesquelles"}
_QUESTION_WORDS = _WH | {"qui", "ou", "quand", "comment", "pourquoi", "que", "qu'", "quoi"}
_DEMONSTRATIVE = {"ce", "cet", "cette", "ces"}
_POSSESSIVE = {"son", "sa", "ses", "leur", "leurs"}
_ARTICLES = {"le", "la", "les", "l'", "un", "une", "des", "du", "au", "aux", "certains", "certaines", "plusieurs",
             "chaque", "tout", "tous", "toute", "toutes", "quelques", "aucun", "aucune", "d'un", "d'une"}
_OF = {"de", "d'", "du", "des"}
# Demonstratives that point at the release itself, not at a previous turn.
_DEICTIC = {"communique", "article", "document", "texte", "site", "page"}
_OBJECT = {"l'", "le", "la", "les", "lui", "leur"}
# Finite verbs spaCy's small model sometimes tags otherwise (« est-elle » as X).
_FINITE = re.compile(r"\b(?:est|sont|était|étaient|sera|seront|a|ont|avait|avaient|aura|auront|fut|peut|peuvent|"
                     r"doit|doivent|faut|fait|font)\b")


@dataclass(frozen=True, slots=True)
class _Word:
    folded: str
    pos: str
    label: str
    start: int
    text: str

    @property
    def content(self) -> bool:
        """A word that names something (not a stop word, a verb or punctuation)."""
        return bool(terms(self.text)) and self.pos not in ("VERB", "AUX", "PRON", "ADP", "DET", "PUNCT", "CCONJ",
                                                           "SCONJ")


def _words(text: str) -> list[_Word]:
    return [_Word(_folded(word), pos, label, start, word) for word, pos, label, start in _analysed(text)]


def _wh_phrase(words: list[_Word]) -> set[int]:
    """Positions of the interrogative phrase's words: « quel lieu de Ségou », « combien de migrants
    de retour », « l'appui de quel pays ». A pronoun after them has nothing to stand for there."""
    inside: set[int] = set()
    n = len(words)
    for i, word in enumerate(words):
        if word.folded not in _WH:
            continue
        j = i + 1
        if word.folded == "combien":
            if j < n and words[j].folded in ("de", "d'"):
                j += 1
            else:
                break
        while j < n and words[j].folded in _ARTICLES:
            j += 1
        if j < n and words[j].content:
            inside.add(j)
            j += 1
            while j < n:  # its adjectives, names and complements: « stratégie de l'OIM Mali », « en transit »
                if words[j].content and (words[j].pos in ("ADJ", "PROPN", "NOUN") or words[j].text[:1].isupper()):
                    inside.add(j)
                    j += 1
                    continue
                if words[j].folded in _OF | {"en", "a", "au", "aux"} and j + 1 < n:
                    m = j + 1
                    if words[m].folded in ("le", "la", "les", "l'") and m + 1 < n:
                        m += 1
                    if words[m].content:
                        inside.add(m)
                        j = m + 1
                        continue
                break
        b = i - 1  # before it: « avec l'appui de quel pays »
        while b >= 1 and words[b].folded in _OF and words[b - 1].content:
            inside.add(b - 1)
            b -= 2
            if b >= 0 and words[b].folded in _ARTICLES:
                b -= 1
        break
    return inside


def _named_before(words: list[_Word], offset: int) -> bool:
    """Whether the question names something of its own before `offset` (outside its interrogative
    phrase, and not as « ce … » or « leur … »): something a pronoun after it may stand for."""
    wh = _wh_phrase(words)
    for i, word in enumerate(words):
        if word.start >= offset:
            return False
        if i in wh or not word.content:
            continue
        determiner = words[i - 1].folded if i else ""
        if determiner in _DEMONSTRATIVE | _POSSESSIVE:
            continue
        if word.pos in ("NOUN", "PROPN") or determiner in _ARTICLES or (i and word.text[:1].isupper()):
            return True
    return False


def _has_verb(words: list[_Word], folded: str) -> bool:
    lower = " ".join(w.text.lower() for w in words)  # accents kept: « a » is a verb, « à » is not
    return any(w.pos in ("VERB", "AUX") for w in words) or bool(_INVERTED.search(folded)) \
        or bool(_FINITE.search(lower))


def _topic_prefix(text: str) -> bool:
    """« Conciliateur de l'assurance maladie : comment y recourir ? »: the topic is named first."""
    head, colon, _ = text.partition(":")
    return bool(colon) and len(terms(head)) >= 1


def follow_up_kind(question: str) -> str | None:
    """Why `question` reads as a follow-up (et, ellipsis, parmi, pronoun, demonstrative), or None
    when it stands alone."""
    text = (question or "").strip()
    if not text:
        return None
    folded = _folded(text)
    if _PARMI.search(folded):
        return "parmi"
    entre = _ENTRE.search(folded)
    if entre and not _PARMI_NAMED.search(folded[:entre.start()]):
        return "parmi"
    if _ET.match(folded):
        return "et"
    if _topic_prefix(text):
        return None
    if _POINTS_BACK.search(folded):
        return "pronoun"
    words = _words(text)
    for match in _INVERTED.finditer(folded):
        if not _IMPERSONAL.search(folded[max(0, match.start() - 2):match.end() + 40]) \
                and not _named_before(words, match.start(1)):
            return "pronoun"
    for match in _SUBJECT.finditer(folded):
        if not _named_before(words, match.start()):
            return "pronoun"
    for i, word in enumerate(words[:-1]):
        if word.folded in _OBJECT and word.pos == "PRON" and words[i + 1].pos in ("VERB", "AUX", "PRON") \
                and not _named_before(words, word.start):
            return "pronoun"
    for match in _Y.finditer(folded):
        if not _named_before(words, match.start()):
            return "pronoun"
    own = len(terms(text))
    if own <= SHORT:
        if _SAME.search(folded):
            return "pronoun"
        for i, word in enumerate(words[:-1]):
            if word.folded in _DEMONSTRATIVE and words[i + 1].content and words[i + 1].folded not in _DEICTIC:
                return "demonstrative"
    if own <= FRAGMENT and words and not _has_verb(words, folded) and (
            words[0].pos == "ADP" or words[0].folded in _QUESTION_WORDS or _RELATIVE.search(folded)):
        return "ellipsis"
    return None


# Places and times ---------------------------------------------------------------------------------

_MONTH = (r"(?:janv(?:ier|\.)?|f[ée]vr(?:ier|\.)?|mars|avr(?:il|\.)?|mai|juin|juil(?:let|\.)?|ao[uû]t|"
          r"sept(?:embre|\.)?|oct(?:obre|\.)?|nov(?:embre|\.)?|d[ée]c(?:embre|\.)?)")
_WEEKDAY = r"(?:lundi|mardi|mercredi|jeudi|vendredi|samedi|dimanche)"
_YEAR_RE = r"(?<![\d.,])(?:19|20)\d\d(?![\d.,]\d)"
_DAY = r"(?<!\d)(?:1er|\d{1,2})"
_DAY_MONTH = rf"(?:{_WEEKDAY}\s+)?{_DAY}(?:\s*(?:et|au|-)\s*{_DAY})?\s+{_MONTH}(?:\s+{_YEAR_RE})?"
_MONTH_YEAR = rf"{_MONTH}(?:\s+et\s+{_MONTH})?\s+{_YEAR_RE}"
_DATE = rf"(?:{_DAY_MONTH}|{_MONTH_YEAR}|{_YEAR_RE}|\d{{1,2}}/\d{{1,2}}/\d{{2,4}})"
_PERIOD = rf"(?:entre\s+(?:le\s+)?{_DATE}\s+et\s+(?:le\s+)?{_DATE}|du\s+{_DAY}\s+au\s+{_DATE})"
_TIME_LEAD = (r"(?:(?:depuis|d[èe]s|avant|apr[èe]s|pendant|jusqu['’](?:en|au|à)|à\s+partir\s+d[eu]|"
              r"au\s+cours\s+d[eu]|au\s+d[ée]but\s+d[eu]|à\s+la\s+fin\s+d[eu]|d[ée]but|fin|courant|sur\s+toute|"
              r"rien\s+qu['’]en|en|au|le|du|pour|sur)\s+)*(?:(?:le|l['’]|la)\s*(?:mois\s+d['’e]\s*|ann[ée]e\s+)?)?")
_TIME = re.compile(rf"(?:{_TIME_LEAD})(?:{_PERIOD}|{_DATE})", re.IGNORECASE)
_YEAR = re.compile(_YEAR_RE)
_NUMBERS = {"un": 1, "une": 1, "deux": 2, "trois": 3, "quatre": 4, "cinq": 5, "six": 6, "sept": 7, "huit": 8,
            "neuf": 9, "dix": 10}
_RELATIVE_YEAR = re.compile(r"\b(?:l'|l’)?ann[ée]e\s+(?P<way>suivante|d['’]apr[èe]s|pr[ée]c[ée]dente|d['’]avant|"
                            r"d'avant)", re.IGNORECASE)
_RELATIVE_SHIFT = re.compile(r"\b(?P<n>\d+|un|une|deux|trois|quatre|cinq|six|sept|huit|neuf|dix)\s+"
                             r"(?P<unit>ans?|ann[ée]es?|mois|semaines?|jours?)\s+(?:plus\s+)?"
                             r"(?P<way>t[ôo]t|tard|avant|apr[èe]s|auparavant)\b", re.IGNORECASE)
# The same two shapes without their groups: a time said from the previous one.
_RELATIVE_CORE = (r"\b(?:l['’])?ann[ée]e\s+(?:suivante|d['’]apr[èe]s|pr[ée]c[ée]dente|d['’]avant)|"
                  r"\b(?:\d+|un|une|deux|trois|quatre|cinq|six|sept|huit|neuf|dix)\s+(?:ans?|ann[ée]es?|mois|"
                  r"semaines?|jours?)\s+(?:plus\s+)?(?:t[ôo]t|tard|avant|apr[èe]s|auparavant)\b")
_RELATIVE = re.compile(_RELATIVE_CORE + r"|\b(?:la veille|le lendemain)\b", re.IGNORECASE)
_RELATIVE_PHRASE = re.compile(rf"(?:(?:sur\s+toute|pendant|en|pour|dans)\s+)?(?:{_RELATIVE_CORE})"
                              rf"(?:\s*,\s*(?:{_TIME.pattern}))?", re.IGNORECASE)
_SAME_TIME = re.compile(r"\b(?:sur|pour|pendant|durant|à|a|au cours de)\s+(?:la|le)\s+m[êe]me\s+"
                        r"(?:p[ée]riode|date|ann[ée]e|jour|moment|mois)\b", re.IGNORECASE)
_PLACE_LEAD = (r"(?:(?:à|a|au|aux|en|dans|de|du|des|d['’]|depuis|vers|par|sur|pour|entre)\s*)?"
               r"(?:(?:la|le|les|l['’])\s*)?(?:(?:r[ée]gion|ville|province|commune|cercle|localit[ée]|zone|"
               r"capitale|pr[ée]fecture|d[ée]partement)\s+(?:de\s+|d['’]))?")
_PLACE_NOUNS = re.compile(r"\b(?:pays|region|ville|province|commune|cercle|localite|zone|capitale|prefecture|"
                          r"departement|frontiere|territoire|continent|monde)\b")
_TIME_WORDS = re.compile(r"^(?:depuis|pendant|durant|avant|après|dès|jusqu['’]|lors d|au cours d|au début d|"
                         r"à la fin d)")
_ORIGIN = re.compile(r"^(?:de|du|des|d'|depuis)\b")


@dataclass(frozen=True, slots=True)
class _Span:
    start: int
    end: int
    text: str


def _times(text: str) -> list[_Span]:
    return [_Span(m.start(), m.end(), m.group(0)) for m in _TIME.finditer(text)]


def _places(text: str) -> list[_Span]:
    """Places named in the text (spaCy's LOC entities) with the preposition and noun before them
    (« dans la région de Kolda », « du Niger »)."""
    found, seen = [], set()
    words = _analysed(text)
    i = 0
    while i < len(words):
        word, _, label, offset = words[i]
        if label != "LOC":
            i += 1
            continue
        end = offset + len(word)
        while i + 1 < len(words) and words[i + 1][2] == "LOC":
            i += 1
            end = words[i][3] + len(words[i][0])
        lead = re.search(_PLACE_LEAD + r"$", text[:offset], re.IGNORECASE)
        start = lead.start() if lead and lead.group(0).strip() else offset
        # Only whole words before the entity count as its lead.
        if start and text[start - 1].isalnum():
            start = offset
        if (start, end) not in seen:
            seen.add((start, end))
            found.append(_Span(start, end, text[start:end]))
        i += 1
    times = _times(text)
    return [span for span in found if span.text.strip() and not _TIME.fullmatch(span.text.strip())
            and not any(t.start <= span.start < t.end for t in times)]


def _replace(text: str, span: _Span, new: str) -> str:
    return text[:span.start] + new + text[span.end:]


def _insert(text: str, phrase: str) -> str:
    """`phrase` added where nothing was there to replace: to the subject a follow-up borrowed
    (« … ? (migrants maliens rentrés depuis 2017 du Maroc) »), else to the question."""
    question, paren, rest = text.partition(" (")
    if paren and rest.endswith(")"):
        return f"{question} ({rest[:-1]} {phrase})"
    return f"{text.rstrip(' ?')} {phrase} ?"


def _shift_years(text: str, years: int) -> str:
    return _YEAR.sub(lambda m: str(int(m.group(0)) + years), text)


def _resolved_time(phrase: str, previous: list[_Span]) -> str | None:
    """A time phrase of the follow-up with what it leaves to the previous turn filled in:
    « l'année suivante » → « l'année 2020 », « deux ans plus tôt » → « en avril 2018 »,
    « le 1er novembre » → « le 1er novembre 2017 »; None when it cannot be."""
    before = next((span.text for span in previous if _YEAR.search(span.text)), None)
    year = int(_YEAR.search(before).group(0)) if before else None
    relative = _RELATIVE_YEAR.search(phrase)
    if relative:
        if year is None:
            return None
        way = _folded(relative.group("way"))
        shift = 1 if way.startswith(("suivante", "d'apres")) else -1
        return phrase[:relative.start()] + f"l'année {year + shift}" + phrase[relative.end():]
    relative = _RELATIVE_SHIFT.search(phrase)
    if relative:
        explicit = _TIME.search(phrase[:relative.start()] + phrase[relative.end():])
        if explicit:  # « une semaine plus tôt, le 1er novembre »: the date given wins
            return _resolved_time(explicit.group(0), previous)
        unit = _folded(relative.group("unit"))
        if not unit.startswith("an") or before is None:
            return None
        n = relative.group("n")
        n = int(n) if n.isdigit() else _NUMBERS[_folded(n)]
        way = _folded(relative.group("way"))
        return _shift_years(before, n if way in ("tard", "apres") else -n)
    if not _YEAR.search(phrase) and year is not None and re.search(_DAY_MONTH, phrase, re.IGNORECASE):
        return f"{phrase} {year}"
    return phrase


def _borrowed(text: str) -> str:
    """What a turn is about, to lend to the next one: the subject it borrowed itself, or its
    question without the interrogative words (« Combien de migrants maliens sont rentrés depuis
    2017 ? » → « migrants maliens rentrés depuis 2017 »)."""
    question, paren, rest = text.partition(" (")
    if paren and rest.endswith(")"):
        return rest[:-1]
    return gist(question)


_DROP_POS = {"AUX", "PUNCT"}
_ARTICLE_OF = {"du": "le ", "des": "les ", "de la": "la ", "de l'": "l'"}
_WH_HEAD = re.compile(r"^(?:(?:et|selon\s+[^,]+,)\s*)?(?:(?:à|a|de|d'|dans|par|pour|avec|sur|en|depuis|vers|"
                      r"jusqu'à)\s+)?(?:combien\s+(?:de\s+|d'|d’)?|quel(?:le)?s?\s+(?:est|était|etait|sont|étaient|"
                      r"etaient|a\s+été|ont\s+été)?\s*(?:(?:le|la|les|l'|l’)\s*[\w-]+(?:\s+[\w-]+(?=\s+(?:de|du|des|"
                      r"d'|d’)\b))?\s+)?|quel(?:le)?s?\s+|qu'est-ce\s+qu[ie]\s+|qu’est-ce\s+qu[ie]\s+|"
                      r"(?:qui|où|ou|quand|comment|pourquoi|que|qu'|qu’|quoi)\s*(?:est-ce\s+qu[ie]\s*)?)",
                      re.IGNORECASE)


def gist(question: str) -> str:
    """A question without its interrogative words, auxiliaries and inverted pronouns: what it is about."""
    text = question.strip().rstrip("?").strip()
    text = re.sub(r"^et\s*,?\s+", "", text, flags=re.IGNORECASE)
    head = _WH_HEAD.match(text)
    if head and head.end() < len(text):
        text = text[head.end():]
        # « la capacité du centre » → « le centre »
        text = re.sub(r"^(?:de la|de l['’]|du|des|de|d['’])\s*(?=\w)", lambda m: _ARTICLE_OF.get(
            _folded(m.group(0)).strip(), ""), text, flags=re.IGNORECASE)
    text = re.sub(r"-t-(?:il|elle|ils|elles|on)\b|-(?:il|elle|ils|elles|on)\b", "", text)
    words = _analysed(text)
    kept = []
    for n, (word, pos, _, offset) in enumerate(words):
        following = words[n + 1][1] if n + 1 < len(words) else ""
        if pos in _DROP_POS and word not in ("(", ")"):
            continue
        if _folded(word) in ("s'", "se") and following == "AUX":
            continue
        if _folded(word) in _QUESTION_WORDS and pos in ("ADV", "PRON", "SCONJ"):
            continue
        kept.append((offset, word))
    out = ""
    for i, (offset, word) in enumerate(kept):
        glued = i and kept[i - 1][1].endswith(("'", "’"))
        out += ("" if glued or not out else " ") + word
    return re.sub(r"\s+([,.)])", r"\1", out).strip(" ,")


def _fragment_phrases(question: str) -> tuple[list[str], list[str], bool]:
    """An elliptical follow-up cut into the times it names (resolved later), the other phrases it
    names (places, groups), and whether it keeps the previous time (« sur la même période »)."""
    text = question.strip().rstrip("?").strip()
    text = re.sub(r"^et\s*,?\s*", "", text, flags=re.IGNORECASE)
    same = bool(_SAME_TIME.search(text))
    text = _SAME_TIME.sub("", text)
    times = _times(text) + [_Span(m.start(), m.end(), m.group(0)) for m in _RELATIVE_PHRASE.finditer(text)]
    # Keep the longest, non-overlapping time phrases.
    times.sort(key=lambda s: (s.start, -(s.end - s.start)))
    chosen: list[_Span] = []
    for span in times:
        if not chosen or span.start >= chosen[-1].end:
            chosen.append(span)
        elif span.end > chosen[-1].end and span.start == chosen[-1].start:
            chosen[-1] = span
    rest = text
    for span in reversed(chosen):
        rest = rest[:span.start] + "," + rest[span.end:]
    others = [part.strip() for part in re.split(r"[,;]", rest) if terms(part)]
    # « depuis le début de la pandémie »: a time without a date, unless it names a place.
    times = [span.text.strip(" ,") for span in chosen]
    times += [part for part in others if _TIME_WORDS.match(part.lower()) and not _places(part)
              and not _PLACE_NOUNS.search(_folded(part))]
    return times, [part for part in others if part not in times], same


def _is_fragment(question: str) -> bool:
    """An ellipsis: no verb and no interrogative word of its own (« Et à Gao ? », « Et en 2019 ? »)."""
    text = re.sub(r"^\s*et\s*,?\s*", "", question.strip(), flags=re.IGNORECASE)
    text = re.sub(r"\brien\s+qu(?:e\s+|['’])", "", text, flags=re.IGNORECASE)  # « rien qu'en 2024 »
    folded = _folded(text)
    words = _words(text)
    if not words or _has_verb(words, folded) or _PARMI.search(folded):
        return False
    return not any(word.folded in _QUESTION_WORDS for word in words)


def _substituted(previous: str, question: str) -> str | None:
    """The previous turn's question with the place or time the ellipsis names put in place of its
    own; None when the follow-up cannot be read that way."""
    times, others, same = _fragment_phrases(question)
    if not times and not others and not same:
        return None
    text = previous
    for phrase in times:
        before = _times(text)
        resolved = _resolved_time(phrase, before)
        if resolved is None:
            resolved = phrase
        if before:
            text = _replace(text, before[0], resolved)
        else:
            text = _insert(text, resolved)
    for phrase in others:
        folded = _folded(phrase)
        place_like = bool(_places(phrase)) or bool(_PLACE_NOUNS.search(folded))
        candidates = _places(text) if place_like else []
        if candidates:
            origin = bool(_ORIGIN.match(folded))
            same_kind = [span for span in candidates if bool(_ORIGIN.match(_folded(span.text))) == origin]
            target = (same_kind or candidates)[0]
            text = _replace(text, target, phrase)
        else:
            text = _insert(text, phrase)
    return text


def _capitalised(text: str) -> str:
    return text[:1].upper() + text[1:]


def _own_question(question: str) -> str:
    """The follow-up as asked, without its opening « Et »."""
    text = re.sub(r"^\s*et\s*,?\s+", "", question.strip(), flags=re.IGNORECASE)
    return _capitalised(text)


# « Parmi eux » stays: releases say it too (« Parmi eux, plus de 33 000 … »).
_POINTERS = re.compile(r"\b(?:là-bas|cela|ça|ceci|celui-ci|celle-ci)\b\s*,?\s*", re.IGNORECASE)


def _without_pointers(question: str) -> str:
    """A follow-up without the words that only point back (« là-bas », « cela »): searched, they
    would match any release that says them."""
    text = _POINTERS.sub(" ", question)
    text = re.sub(r"\s+([,?])", r"\1", re.sub(r"\s{2,}", " ", text)).strip(" ,")
    return _capitalised(text) if terms(text) else question


def _lent(subject: str, question: str) -> str:
    """The previous subject lent to a follow-up, without the time when the follow-up names its own."""
    if _times(question):
        for span in reversed(_times(subject)):
            subject = subject[:span.start] + subject[span.end:]
        subject = re.sub(r"\s+([,)])", r"\1", re.sub(r"\s{2,}", " ", subject)).strip(" ,")
    return subject


def read(question: str, history: Sequence[Turn] = ()) -> Reading:
    """How `question` is read after the turns of `history` (oldest first): alone, or with what it
    borrows from the last of them."""
    question = (question or "").strip()
    kind = follow_up_kind(question) if history else None
    if kind is None:
        return Reading(question)
    previous = history[-1]
    prior = previous.doc_ids or ()
    if _is_fragment(question):
        text = _substituted(previous.read_as, question)
        if text is not None and _folded(text) != _folded(previous.read_as):
            return Reading(question, _capitalised(text), "ellipsis" if kind == "et" else kind, prior)
    subject = _lent(_borrowed(previous.read_as), question)
    own = _own_question(question)
    if not subject or _folded(subject) in _folded(own):
        return Reading(question)
    own = own if own.rstrip().endswith("?") else own.rstrip() + " ?"
    return Reading(question, f"{own} ({subject})", kind, prior, _without_pointers(own), subject)


def turns(history: Iterable) -> list[Turn]:
    """Previous turns from what callers send: questions (str), {"q"/"question", "doc_ids",
    "understood_as"} dicts, or Turns. A turn sent without how it was understood is read again
    with the turns before it, so the same questions give the same conversation from any caller."""
    out: list[Turn] = []
    if isinstance(history, (str, dict)):  # one turn sent alone
        history = [history]
    for item in list(history or [])[-MEMORY:]:
        if isinstance(item, Turn):
            out.append(item)
            continue
        if isinstance(item, str):
            question, doc_ids, understood, given = item, None, None, False
        elif isinstance(item, dict):
            question = item.get("q", item.get("question")) or ""
            doc_ids = item.get("doc_ids")
            if isinstance(doc_ids, str):
                doc_ids = (doc_ids,)
            if doc_ids is not None and not isinstance(doc_ids, (list, tuple)):
                doc_ids = None
            given = "understood_as" in item
            understood = item.get("understood_as")
        else:
            continue
        if not isinstance(question, str) or not question.strip():
            continue
        question = question[:QUESTION_CHARS]
        if not given:
            understood = read(question, out).understood_as
        out.append(Turn(question.strip(), understood if isinstance(understood, str) else None,
                        None if doc_ids is None else tuple(str(d) for d in doc_ids)))
    return out


def with_prior(ranked: list, reading: Reading) -> list:
    """Passages ranked by the second stage, those of the previous answer's release moved up by a
    prior: favoured, never forced."""
    if not reading.prior:
        return list(ranked)
    release = reading.prior[0]
    out = [replace(item, score=item.score + PRIOR) if item.hit.passage.doc_id == release else item
           for item in ranked]
    out.sort(key=lambda item: (-item.score, item.hit.passage.id))
    return out


def scope(reading: Reading, found: list) -> list[str]:
    """Where a follow-up's own words are searched: the previous answer's release and the release
    that the question as understood finds first."""
    first = [item.hit.passage.doc_id for item in found[:1]]
    return list(dict.fromkeys(list(reading.prior[:1]) + first))


def cited(answer) -> tuple[str, ...]:
    """The releases an answer cites, its own first; none when it abstained."""
    if answer.abstained:
        return ()
    return tuple(dict.fromkeys(citation.doc_id for citation in answer.citations))


# A sentence that goes on with the figure or the group of the one before it (« … 44 000 … Parmi eux,
# 33 000 … »): a follow-up reads its subject there.
_CONTINUES = re.compile(r"^(?:Parmi (?:eux|elles|ceux-ci|celles-ci|lesquels|lesquelles|ces \w+)|Dont|Soit|"
                        r"Ce (?:chiffre|nombre|total|montant)|Ces (?:chiffres|personnes|migrants)|Au total)\b")


def _continues_subject(document, passage, sentence: tuple[int, int], subject: str) -> bool:
    """Whether a sentence opens by going on with the one before it (« Parmi eux, … », « Dont … ») and
    that one states the subject: « … 44 000 migrants maliens … depuis 2017. Parmi eux, 33 000 … »."""
    from ..reading.chunking import sentence_spans
    start, end = sentence
    if not _CONTINUES.match(document.text[start:end]):
        return False
    before = sentence_spans(document.text, passage.start, start)
    if not before:
        return False
    wanted = set(terms(subject))
    stated = wanted & set(terms(document.text[before[-1].start:before[-1].end]))
    return bool(wanted) and len(stated) * 2 >= len(wanted)


def ranked(assistant, reading: Reading, depth: int, mode: str | None = None, where=None) -> list:
    """The second stage's passages for a turn as read: the question as asked when it stands alone;
    for a follow-up, as understood, or its own words where its subject is; with the prior.

    For « parmi eux », a sentence that goes on with a statement of the subject (« … 44 000 migrants
    maliens … Parmi eux, plus de 33 000 … ») comes first, wherever it is: releases say a part of a
    group right after the group."""
    if reading.understood_as is None:
        return assistant.rank(reading.question, depth, mode, where)
    from .assistant import SECOND_STAGE
    from .search import Filter
    depth = max(depth, SECOND_STAGE)
    documents = assistant.index.documents
    found = assistant.rank(reading.query, depth, mode, where)
    if reading.own is None:
        return with_prior(found, reading)
    releases = scope(reading, found)
    continued: set[str] = set()
    if reading.kind == "parmi" and reading.subject:
        for item in assistant.rank(reading.own, depth, mode, where):
            if item.sentence and _continues_subject(documents[item.hit.passage.doc_id], item.hit.passage,
                                                    item.sentence, reading.subject):
                continued.add(item.hit.passage.id)
                releases.append(item.hit.passage.doc_id)
    sources = frozenset(documents[doc_id].source for doc_id in releases if doc_id in documents)
    if where is not None and where.sources:
        sources &= where.sources
    if sources:
        # Own words too few to search by (« Quand a-t-elle eu lieu ? »): the question as understood.
        asked = reading.own if len(terms(reading.own)) > 1 else reading.query
        found = assistant.rank(asked, depth, mode, Filter(sources, where.date_from if where else None,
                                                          where.date_to if where else None))
    found = with_prior(found, reading)
    return [item for item in found if item.hit.passage.id in continued] + \
        [item for item in found if item.hit.passage.id not in continued]


def answer(assistant, question: str, history: Sequence[Turn], k: int | None = None, where=None,
           mode: str | None = None, id: str | None = None, use_question_dates: bool = True):
    """The answer to a turn of a conversation: a question that stands alone is asked exactly as
    without history; a follow-up is searched as understood (see `ranked`), and says so. When the
    previous answer's releases are not known, that turn is answered again to know them. A period
    the follow-up names in its own words (« Et en 2022 ? ») filters by release date, as for a
    question asked alone (`use_question_dates=False` drops it)."""
    history = list(history)
    read_part = (question or "")[:assistant.settings.max_question_chars]  # a huge question is read as truncated
    if history and history[-1].doc_ids is None and follow_up_kind(read_part):
        previous = history[-1]
        again = answer(assistant, previous.question, history[:-1], k, where, mode)
        history[-1] = replace(previous, understood=again.understood_as, doc_ids=cited(again))
    reading = read(read_part, history)
    if reading.understood_as is None:
        return assistant.ask(question, k=k, where=where, mode=mode, id=id, use_question_dates=use_question_dates)
    from .assistant import with_period
    from .questions import question_period
    from .timeline import with_period as narrowed
    k = assistant.settings.k if k is None else max(1, int(k))
    period = question_period(read_part) if use_question_dates else None
    found, chronology = assistant.in_time(reading.query, ranked(assistant, reading, k, mode, narrowed(where, period)))
    result = assistant.answer_from(reading.query, found[:k], id=id, chronology=chronology)
    return with_period(replace(result, question=reading.question, understood_as=reading.understood_as), period)
