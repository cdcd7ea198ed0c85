"""What a question asks for, and what a sentence holds: answer types read from French (and English) text.

Pure functions over text. A question asks for a number (combien, how many), a person or an
organisation (qui, who), a date (quand, quel jour), a place (où, d'où, dans quelle ville) or a
cause (pourquoi); a sentence holds one when it contains such an element, and the element is new
when the question does not already name it (« depuis 2017 » in the question does not make every
sentence with 2017 an answer).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from ..reading.lexical import fold, terms
from ..wording import MONTHS

ANSWER_TYPES = ("number", "person", "date", "place", "cause", "title")

# Patterns on the folded question (lower case, no accents, straight apostrophes).
_ASKS = {
    "number": r"\bcombien\b|\bquel(?:le)?s? (?:est |etait |a ete )?(?:le |la )?(?:nombre|montant|somme|"
              r"pourcentage|proportion|part|budget|cout|total|effectif|quantite|taux)\b|\bhow (?:many|much)\b|"
              r"\bwhat (?:number|amount|share|percentage)\b|\bnombre de\b|\bquelle tranche\b|"
              # a measure: an area, a duration, a distance, an age, a capacity (its unit is in _UNITS)
              r"\b(?:quel(?:le)?s? (?:est |etait |a ete )?(?:le |la |l')?|sur quel(?:le)? |pendant quel(?:le)? )"
              r"(?:surface|superficie|duree|periode de|distance|delai|age|capacite)\b|\bhow (?:long|far|old)\b|"
              r"\bwhat (?:area|size)\b",
    "person": r"^(?:et )?qui\b|\b(?:par|a|avec|pour|aupres de) qui\b|\bwho(?:m|se)?\b|\bquel(?:le)?s? (?:est |etait )?"
              r"(?:l'|le |la )?(?:organisation|organisme|partenaire|bailleur|donateur|ministre|ministere|"
              r"ambassad\w*|directeur|directrice|chef|responsable|representant\w*|institution|agence|pays|"
              r"gouvernement|association|ong|structure|entreprise|nom)\b|\bwhich (?:organi[sz]ation|agency|"
              r"country|partner|donor|minister|official)\b|\bfinanc\w*\b.*\?$",
    "date": r"\bquand\b|\bwhen\b|\bquel(?:le)?s? (?:jours?|dates?|annees?|mois|periodes?)\b|\ben quelle annee\b|"
            r"\bdepuis quand\b|\bwhat (?:day|date|year|month)s?\b|\bwhich (?:day|date|year|month)s?\b|\ba quelle date\b|"
            r"\bon what (?:day|date)\b",
    "place": r"^(?:et )?(?:d')?ou\b|\bd'ou\b|\bjusqu'ou\b|\bpar ou\b|\bwhere\b|\bdans quel(?:le)?s? (?:ville|region|pays|localite|"
             r"quartier|lieu|site|centre|camp|commune|cercle|departement|prefecture|batiment|salle|hotel|stade|ecole|localites)\b|\bquel(?:le)?s? "
             r"(?:ville|region|localite|lieu|site|commune)\b|\bdepuis quel(?:le)? (?:ville|pays|localite|lieu)\b|"
             r"\bvers quel(?:le)?\b|\bfrom (?:which|what) (?:city|town|country|place)\b|\bin which (?:city|town|"
             r"region|country)\b|\bwhich (?:city|town|region|place)\b",
    # a title, a theme, a slogan: what a release quotes (« Gouvernance migratoire au Mali … »)
    "title": r"\b(?:quel(?:le)?s? (?:est |etait |a ete |sont |etaient )?(?:le |la |l'|les )?|sous quel(?:le)?s? |"
             r"avec quel(?:le)?s? )(?:themes?|intitules?|slogans?|titres?|devises?|mots? d'ordre)\b|"
             r"\bcomment s'intitul\w*\b|\bwhat (?:is |was )?the (?:theme|title|slogan|motto)\b|\bunder what (?:theme|title)\b",
    "cause": r"\bpourquoi\b|\bpour quelle raison\b|\bwhy\b|\bquelle (?:est la )?(?:raison|cause)\b|\ba cause de quoi\b",
}
_ASKS = {kind: re.compile(pattern) for kind, pattern in _ASKS.items()}


@lru_cache(maxsize=65536)  # the same candidate sentences come back question after question
def _folded(text: str) -> str:
    return fold(text).replace("’", "'").replace("`", "'")


def answer_type(question: str) -> str | None:
    """The kind of element the question asks for, or None (a fact, a definition, a yes/no)."""
    folded = _folded(question).strip()
    if _ASKS["number"].search(folded):  # « combien … qui … » asks for a number
        return "number"
    if "où" in question.lower():
        return "place"
    for kind in ("title", "date", "place", "cause", "person"):
        if _ASKS[kind].search(folded):
            return kind
    return None


_MONTHS = (r"janv\w*|fevr\w*|mars|avr\w*|mai|juin|juil\w*|aout|sept\w*|oct\w*|nov\w*|dec\w*|january|february|"
           r"march|april|may|june|july|august|september|october|november|december")
_WEEKDAYS = r"lundi|mardi|mercredi|jeudi|vendredi|samedi|dimanche|monday|tuesday|wednesday|thursday|friday|saturday|sunday"
_YEAR = re.compile(r"\b(?:19|20)\d\d\b")
_DATE = re.compile(rf"\b\d{{1,2}}(?:er)?(?: (?:et|au|-) \d{{1,2}})? (?:{_MONTHS})\b|\b(?:{_WEEKDAYS})\b|"
                   rf"\b\d{{1,2}}/\d{{1,2}}(?:/\d{{2,4}})?\b|\b(?:{_MONTHS}) (?:19|20)\d\d\b")
_NUMBER = re.compile(r"\d+(?:[\s.,]\d{3})*(?:[.,]\d+)?")
_NUMBER_WORDS = re.compile(r"\b(?:deux|trois|quatre|cinq|six|sept|huit|neuf|dix|onze|douze|quinze|vingt|"
                           r"trente|quarante|cinquante|cent|cents|mille|million|millions|milliard|milliards|"
                           r"dizaine|dizaines|centaine|centaines|millier|milliers|moitie|tiers|quart)\b")
_CAUSE = re.compile(r"\b(?:parce qu|car|en raison d|a cause d|du fait d|grace a|afin d|suite a|a la suite d|"
                    r"face a|because|due to|owing to)\b")
_TITLE = re.compile(r"\b(?:m\.|mme|s\.e\.?|monsieur|madame|dr|pr)\s+[A-ZÀ-Ý]")
# What a number measures, by the words of the question that ask for it.
_UNITS = {
    r"\b(?:part|proportion|pourcentage|taux|share|percentage|rate)\b": r"%|pour ?cent|percent",
    r"\b(?:age|ages|tranche d'age|old)\b": r"\bans?\b",
    r"\b(?:montant|somme|cout|verse\w*|pay\w*|budget|financement|prix|amount|cost)\b":
        r"\b(?:dollars?|usd|euros?|eur|francs?|fcfa|cfa|xof|\$|€)",
    r"\b(?:surface|superficie|area)\b": r"\b(?:m2|m²|metres? carres?|hectares?|km2|km²)",
    r"\b(?:combien de temps|duree|delai|how long)\b": r"\b(?:jours?|semaines?|mois|ans|annees?|heures?|days?|weeks?|months?|years?)\b",
    r"\b(?:distance|how far|kilometres?|km)\b": r"\b(?:km|kilometres?|metres?)\b",
    # « combien de jours, de dollars, d'hectares… »: the unit is what the question counts
    r"\bcombien d(?:e |')(?:jours|semaines|mois|annees|ans|heures)\b": r"\b(?:jours?|semaines?|mois|ans|annees?|heures?)\b",
    r"\bcombien d(?:e |')(?:dollars|euros|francs)\b": r"\b(?:dollars?|usd|euros?|eur|francs?|fcfa|cfa|xof|\$|€)",
    r"\bcombien d(?:e |')(?:hectares|metres carres|m2)\b": r"\b(?:m2|m²|metres? carres?|hectares?|km2|km²)",
}
_UNITS = [(re.compile(asked), re.compile(unit)) for asked, unit in _UNITS.items()]
# How far from a number its unit may stand (« 2,5 millions de dollars americains », « USD 450 »).
MEASURE_AFTER, MEASURE_BEFORE = 30, 6


# A place the entity recogniser may miss: a capitalised name after a word that introduces a place
# (« dans la ville côtière d'Az Zawiyah », « au niveau de Heremakono »).
_PLACE_CUE = re.compile(r"\b(?:ville|localite|commune|village|quartier|region|cercle|prefecture|site|camp|"
                        r"frontiere|poste|zone|centre|aeroport|port|cite|(?:au niveau|aux abords|en provenance|"
                        r"pres|non loin|a l'est|a l'ouest|au nord|au sud) d[eu']?)(?: [a-z]+){0,2}"
                        r" (?:de |d'|du |des |a |au )?$")
_CAPITALISED = re.compile(r"\b[A-ZÀ-Ý][a-zà-ÿ'’-]+(?: [A-ZÀ-Ý][a-zà-ÿ'’-]+)?")
# The thing a « combien » question counts: the words right after « combien de », « nombre de ».
_COUNTED = re.compile(r"\b(?:combien|nombre|how many|how much|number of)(?: de| d'| of)? ?((?:[a-z'-]+ ?){1,2})")


# The role a « qui » question asks about (its words, or a verb for it), and the words a release
# names that role with, near the person (« qui dirige … » → « chef de mission », « directeur »).
_ROLE_WORDS = {
    r"\b(?:chef|dirig\w*|direct(?:eur|rice)\w*)\b": r"\b(?:chef|cheffe|direct(?:eur|rice)\w*|dirig\w*|responsable)\b",
    r"\b(?:responsable|pilot\w*|coordonn\w*|coordinat\w*|gere|gerait|charge)\b":
        r"\b(?:responsable|chef|cheffe|coordonnat\w*|coordinat\w*|pilot\w*|charge\w*|gestionnaire)\b",
    r"\bporte-parole\b|\bau nom (?:de|des)\b|\bspokes\w*\b": r"\bporte-parole\b|\bau nom (?:de|des)\b",
    r"\brepresent\w*\b": r"\brepresent\w*\b",
    r"\bpresid\w*\b": r"\bpresid\w*\b",
    r"\bministre\b|\bminister\b": r"\bministre\b",
    r"\bambassad\w*\b": r"\bambassad\w*\b",
    r"\b(?:gouverneur|prefet|maire|secretaire|commissaire|conseill\w*|delegue\w*|point focal)\b":
        r"\b(?:gouverneur|prefet|maire|secretaire|commissaire|conseill\w*|delegue\w*|point focal)\b",
}
_ROLES = [(re.compile(cue), re.compile(pattern)) for cue, pattern in _ROLE_WORDS.items()]
ROLE_NEAR = 80

# A title a release quotes (« … », “ … ”, " … "): short, unlike a quoted statement; named as one
# when a word such as « thème » or « intitulé » stands in the sentence.
_QUOTED = re.compile(r"«\s*([^»]{4,300}?)\s*»|“([^”]{4,300}?)”|\"([^\"]{4,300}?)\"")
TITLE_MAX = 120
_TITLE_CUE = re.compile(r"\b(?:theme|intitul\w*|slogan|titre|devise|mot d'ordre|sous le signe|baptise\w*|denomm\w*)\b")


# What names something specific in a question: a number (not a year), an ordinal, a capitalised word.
_SPECIFIC = re.compile(r"\d+(?:[ \u00a0\u202f.,]\d{3})*(?:[.,]\d+)?(?:\s?(?:ème|eme|ère|er|e)\b)?|"
                       r"[A-ZÀ-Ý][\w'’-]*|\b\w+i[eè]mes?\b|\bpremi[eè]re?s?\b")
_ORDINAL_ENDINGS = frozenset({"eme", "er", "ere", "e"})  # « 34ème » is the term 34
_OPENS = re.compile(r"(?:^|[.?!:;«»\"(]\s*)$")


_ENGLISH_WORDS = frozenset("the of what how which who whom whose when where why did does do was were is are has have "
                           "from with for by to many much long since".split())
_FRENCH_WORDS = frozenset("le la les des du de un une est sont quel quelle quels quelles combien qui quand ou "
                          "pourquoi comment dans avec pour par sur au aux ont a".split())


def is_english(question: str) -> bool:
    """Whether a question is asked in English (more of its words are English function words than French ones)."""
    words = re.findall(r"[a-z]+", _folded(question))
    english = sum(word in _ENGLISH_WORDS for word in words)
    return english >= 2 and english > sum(word in _FRENCH_WORDS for word in words)


def specific_terms(question: str) -> list[str]:
    """The index terms of what a question names specifically (in order, once each): a name (a
    capitalised word, unless it only opens a sentence, « Combien », « Qui »; an acronym or an
    elided name such as « L'OIM » still counts there), a number that is not a year (« 174 »,
    « 10 112 »), an ordinal (« 34ème », « deuxième »). What a near miss changes is mostly one of
    these: another figure, another country, another edition. In an English question only its
    numbers: its names are spelt in English (« Libya », « IOM », « Guinean ») and the releases in French."""
    out: list[str] = []
    english = is_english(question)
    for match in _SPECIFIC.finditer(question):
        token = match.group(0)
        if english and not token[0].isdigit():
            continue
        if token[0].isupper() and _OPENS.search(question[:match.start()]):
            rest = re.sub(r"^[A-Za-z]['’]", "", token)
            if not (rest != token and rest[:1].isupper()) and sum(c.isupper() for c in rest) < 2:
                continue
        if _YEAR.fullmatch(token.strip()):
            continue
        out.extend(term for term in terms(token) if term not in _ORDINAL_ENDINGS)
    return list(dict.fromkeys(out))


# The words a question asks about: after its interrogative, up to the verb, the comma or a few
# words (« quel bailleur a financé » → bailleur, « à combien de familles déplacées » → familles
# déplacées, « quelle est la toute première étape du parcours » → première étape). A long
# question restates what it is about (« … la cérémonie où 202 migrants ont reçu leurs kits »):
# the sentence that restates it holds most of its terms, the one that answers holds these.
_FOCUS = re.compile(r"\b(?:quel(?:le)?s?|lequel|laquelle|lesquel(?:le)?s|combien|comment s'appel\w*|"
                    r"qui (?:est|etait|sont|etaient)|what|which|how (?:many|much))\b"
                    r"(?: (?:est|etait|sont|etaient|a ete|ont ete|is|was|are|were)\b)?"
                    r"(?: (?:(?:le|la|les|de|du|des|un|une|the|of)\b|l'|d'))*[ ']?([^,;:?!.()«»\"]*)")
# A word that ends the asked phrase: a verb or a pronoun that starts the rest of the question (a
# number does too: « combien de familles correspondent les 58 985 personnes »).
_FOCUS_ENDS = frozenset("a ont est sont etait etaient avait avaient sera seront se s' ce ces cette cet il ils elle "
                        "elles on y ne n' qui que qu' dont ou lors pendant selon does did do has have had".split())
FOCUS_WORDS = 4


def focus_terms(question: str) -> list[str]:
    """The index terms of what a question asks about (after « quel », « combien de »…; none for
    « qui », « où », « pourquoi » without a noun after them), in order, once each. Read on the
    folded question, taken from the question as typed (« localité » is not stemmed as « localite »)."""
    folded, where = [], []  # the folded question, and where each of its characters comes from
    for at, character in enumerate(question):
        found = _folded(character)
        folded.append(found)
        where.extend([at] * len(found))
    match = _FOCUS.search("".join(folded))
    if not match or match.start(1) == match.end(1):
        return []
    asked = question[where[match.start(1)]:where[match.end(1) - 1] + 1]
    words: list[str] = []
    for word in re.findall(r"[\w'’-]+", asked):
        plain = _folded(word)
        # a subject after the asked noun (« combien de migrants l'OIM a-t-elle… »), a verb « a-t-il »
        subject = plain[:2] == "l'" and bool(words) and _folded(words[-1]) not in ("de", "du", "des", "a", "par")
        if plain in _FOCUS_ENDS or subject or "-t-" in plain or plain[0].isdigit() or len(words) == FOCUS_WORDS:
            break
        words.append(word)
    return list(dict.fromkeys(terms(" ".join(words))))


# A sentence that opens by pointing back at the one before it (a pronoun, a demonstrative, a
# possessive, « Parmi eux », « Dont »): it goes on with that sentence's subject, so an answer that
# starts there often ends here (« Une PMSMP … peut être effectuée … Elle permet à un salarié … »).
_POINTS_BACK = re.compile(r"^(?:Il|Elle|Ils|Elles|Celui-ci|Celle-ci|Ceux-ci|Celles-ci|Cela|Ceci|Ce|Cet|Cette|Ces|"
                          r"Son|Sa|Ses|Leur|Leurs|Parmi (?:eux|elles|ceux-ci|celles-ci|lesquels|lesquelles|ces)|"
                          r"Dont|Soit|Au total)\b(?!['’])|^C['’](?:est|était)\b")


def points_back(sentence: str) -> bool:
    """Whether a sentence opens by going on with the one before it (« Elle permet … », « Parmi eux, … »)."""
    return bool(_POINTS_BACK.match(sentence.lstrip(" «\"“")))


@dataclass(frozen=True, slots=True)
class Holds:
    """Whether a sentence holds the kind of element a question asks for, beyond what it names."""
    held: bool  # the sentence holds an element of the kind asked for
    new: bool  # … one the question does not name already
    unit: bool  # a number measured in what the question asks (« 450 dollars » for « combien verser »)
    person: bool = False  # for « qui »: a person named (a name, or « M. … »), not only an organisation
    unit_missing: bool = False  # the question asks for a unit (dollars, %, ans…) the sentence does not hold
    counted: bool = False  # a new number followed by what the question counts (« 36 femmes » for « combien de femmes »)
    role: bool = False  # for « qui »: a new person named beside the role the question asks about (« X, chef du bureau »)


NOTHING = Holds(False, False, False)


def _numbers(text: str) -> set[str]:
    return {re.sub(r"[\s.,]", "", n) for n in _NUMBER.findall(text)} - set(_YEAR.findall(text))


def _named(entities: list, labels: tuple[str, ...], question: str) -> tuple[bool, bool]:
    found = [text for label, text in entities if label in labels]
    folded_question = _folded(question)
    return bool(found), any(_folded(text) not in folded_question for text in found)


def _cued_places(sentence: str, question: str) -> list[str]:
    """Capitalised names the sentence introduces as places, that the question does not name."""
    folded_question = _folded(question)
    found = []
    for match in _CAPITALISED.finditer(sentence):
        before = _folded(sentence[max(0, match.start() - 60):match.start()])
        if _PLACE_CUE.search(before) and _folded(match.group(0)) not in folded_question:
            found.append(match.group(0))
    return found


def _counted(folded: str, asked: str, numbers: set[str]) -> bool:
    """Whether one of `numbers` in the folded sentence is followed, within a few words, by what the
    folded question counts."""
    wanted = set()
    for match in _COUNTED.finditer(asked):
        wanted |= set(terms(match.group(1)))
    if not wanted:
        return False
    for match in _NUMBER.finditer(folded):
        if re.sub(r"[\s.,]", "", match.group(0)) in numbers and wanted & set(terms(folded[match.end():match.end() + 40])[:3]):
            return True
    return False


def _in_role(sentence: str, question: str, entities: list) -> bool:
    """Whether a person the question does not name stands within ROLE_NEAR characters of a word for
    the role the question asks about (« Sileymane Sow, chef du sous-bureau » for « qui est responsable
    du bureau »)."""
    asked = _folded(question)
    wanted = [pattern for cue, pattern in _ROLES if cue.search(asked)]
    if not wanted:
        return False
    folded = _folded(sentence)
    names = [m.span() for m in _TITLE.finditer(sentence)]
    for label, text in entities:
        name = _folded(text)
        if label == "PER" and name not in asked:
            at = folded.find(name)
            if at >= 0:
                names.append((at, at + len(name)))
    return _beside(folded, names, ROLE_NEAR, ROLE_NEAR, wanted)


def _measured(folded: str, numbers: set[str] | None, units: list) -> bool:
    """Whether a unit the question asks for measures one of `numbers` in the folded sentence: it
    stands just after the number (« 11 mois », « 3 500 metres carres ») or just before it (« $ 450 »);
    numbers None: a number in words (« trois mois »)."""
    if not units:
        return False
    spans = ([m.span() for m in _NUMBER.finditer(folded) if re.sub(r"[\s.,]", "", m.group(0)) in numbers]
             if numbers is not None else [m.span() for m in _NUMBER_WORDS.finditer(folded)])
    return _beside(folded, spans, MEASURE_BEFORE, MEASURE_AFTER, units)


def _beside(text: str, spans: list[tuple[int, int]], before: int, after: int, patterns: list) -> bool:
    """Whether one of `patterns` stands within `before` characters before one of `spans` of `text`,
    or within `after` characters after it."""
    for start, end in spans:
        around = text[max(0, start - before):start] + " " + text[end:end + after]
        if any(pattern.search(around) for pattern in patterns):
            return True
    return False


def holds(sentence: str, question: str, kind: str | None, entities: list) -> Holds:
    """Whether `sentence` (with its `entities`, (label, text) pairs) holds what `question` asks for."""
    if kind is None:
        return NOTHING
    folded = _folded(sentence)
    if kind == "number":
        # the day of a date (« le 14 mars », « (23/06) ») counts nothing
        numbers = _numbers(_DATE.sub(" ", folded))
        held = bool(numbers) or bool(_NUMBER_WORDS.search(folded))
        new = bool(numbers - _numbers(question)) or (not numbers and held)
        asked = _folded(question)
        units = [u for a, u in _UNITS if a.search(asked)]
        unit = _measured(folded, numbers - _numbers(question) if numbers else None, units)
        return Holds(held, new, unit, unit_missing=bool(units) and not unit,
                     counted=new and _counted(folded, asked, numbers - _numbers(question)))
    if kind == "date":
        dates = {m.group(0) for m in _DATE.finditer(folded)} | set(_YEAR.findall(sentence))
        asked = {m.group(0) for m in _DATE.finditer(_folded(question))} | set(_YEAR.findall(question))
        return Holds(bool(dates), bool(dates - asked), False)
    if kind == "person":
        held, new = _named(entities, ("PER", "ORG"), question)
        person = _named(entities, ("PER",), question)[1] or bool(_TITLE.search(sentence))
        return Holds(held or person, new or person, False, person, role=person and _in_role(sentence, question, entities))
    if kind == "place":
        held, new = _named(entities, ("LOC",), question)
        if not new:
            cued = _cued_places(sentence, question)
            held, new = held or bool(cued), bool(cued)
        return Holds(held, new, False)
    if kind == "title":
        quoted = [_folded("".join(groups)) for groups in _QUOTED.findall(sentence)]
        asked = _folded(question)
        new = any(len(q) <= TITLE_MAX and q.strip(" .,;:") not in asked for q in quoted)
        return Holds(bool(quoted), new, new and bool(_TITLE_CUE.search(folded)))
    held = bool(_CAUSE.search(folded))
    return Holds(held, held, False)


# Dates a question names ----------------------------------------------------------------------
# A period (a year, a month, a range, « l'an dernier ») becomes a filter on the release date that the
# reader sees and can remove; an exact day (« le samedi 10 avril 2021 ») is left to the ranking (the
# release may be dated days later); « depuis 2017 » in a question asking for a number names where a
# cumulative figure starts (« combien … sont rentrés depuis 2017 »), not which releases to read.

_MONTH_NUMBERS = (("janv", 1), ("fevr", 2), ("mars", 3), ("avr", 4), ("mai", 5), ("juin", 6), ("juil", 7),
                  ("aout", 8), ("sept", 9), ("oct", 10), ("nov", 11), ("dec", 12))
_MONTH_WORD = r"(?:janv\w*|fevr\w*|mars|avr\w*|mai|juin|juil\w*|aout|sept\w*|oct\w*|nov\w*|dec\w*)"
# A month, or a year, or a month and a year; never a day (« 10 avril 2021 » is an exact day).
_WHEN = rf"(?<!\d )(?:(?P<{{m}}>{_MONTH_WORD}) )?(?P<{{y}}>(?:19|20)\d\d)\b"
_PERIODS = [
    ("between", re.compile(r"\bentre (?:le |l'annee |les annees )?" + _WHEN.format(m="m1", y="y1").replace("(?P<y1>", "(?P<y1>")
                           + r" et (?:le |l'annee )?" + _WHEN.format(m="m2", y="y2"))),
    ("between_months", re.compile(rf"\ben (?P<m1>{_MONTH_WORD}) et (?P<m2>{_MONTH_WORD}) (?P<y>(?:19|20)\d\d)\b")),
    ("since", re.compile(r"\b(?:depuis|a partir d[e']|a compter d[e']) ?(?:l'annee |le mois d[e'] ?)?"
                         + _WHEN.format(m="m", y="y"))),
    ("after", re.compile(r"\b(?:apres|au-dela d[e']|posterieur\w* a) ?(?:l'annee )?" + _WHEN.format(m="m", y="y"))),
    ("before", re.compile(r"\b(?:avant|anterieur\w* a|jusqu'en) ?(?:l'annee )?" + _WHEN.format(m="m", y="y"))),
    ("in", re.compile(r"\b(?:en|durant|pendant|au cours de|courant|de l'annee|l'annee|dans l'annee) "
                      r"(?:l'annee |le mois d[e'] ?|(?:l'an|l'annee) )?" + _WHEN.format(m="m", y="y"))),
    ("last_year", re.compile(r"\b(?:l'an (?:dernier|passe)|l'annee (?:derniere|passee))\b")),
    ("this_year", re.compile(r"\bcette annee\b")),
]
_EXACT_DAY = re.compile(rf"\b\d{{1,2}}(?:er)? {_MONTH_WORD}(?: (?:19|20)\d\d)?\b")


@dataclass(frozen=True, slots=True)
class Period:
    """Release dates a question asks about (inclusive, YYYY-MM-DD; None: open), as it says them."""
    date_from: str | None
    date_to: str | None
    said: str  # the question's own words (« en 2022 »)
    label: str  # the period in words (« 2022 », « décembre 2024 », « depuis 2023 »)

    def to_dict(self) -> dict:
        return {"date_from": self.date_from, "date_to": self.date_to, "label": self.label, "said": self.said}


def _month(word: str | None) -> int | None:
    if not word:
        return None
    return next(number for prefix, number in _MONTH_NUMBERS if word.startswith(prefix))


def _first_day(year: int, month: int | None) -> str:
    return f"{year:04d}-{month or 1:02d}-01"


def last_day(year: int, month: int | None) -> str:
    """The last day of a month (of December when `month` is None), as YYYY-MM-DD."""
    import calendar
    month = month or 12
    return f"{year:04d}-{month:02d}-{calendar.monthrange(year, month)[1]:02d}"


def _words(year: int, month: int | None) -> str:
    return f"{MONTHS[month - 1]} {year}" if month else str(year)


def question_period(question: str, today=None) -> Period | None:
    """The period of release dates a question names, or None: no period, an exact day only, or the
    span of the figure a « combien » question asks for (« depuis 2017 », « entre mai 2017 et
    février 2018 »: where a cumulative figure starts counting, not which releases to read).
    `today` (a date) reads « l'an dernier »; default: today."""
    import datetime as dt
    folded = _folded(question or "")
    # An exact day is evidence for the ranking, not a period: blank it out before looking for one.
    folded = _EXACT_DAY.sub(lambda m: "#" * len(m.group(0)), folded)
    today = today or dt.date.today()
    asks_number = answer_type(question or "") == "number"
    for kind, pattern in _PERIODS:
        found = pattern.search(folded)
        if not found:
            continue
        said = (question or "")[found.start():found.end()]
        if kind == "last_year":
            year = today.year - 1
            return Period(_first_day(year, None), last_day(year, None), said, str(year))
        if kind == "this_year":
            return Period(_first_day(today.year, None), last_day(today.year, None), said, str(today.year))
        if kind == "between":
            if asks_number:  # « combien … entre janvier 2023 et juin 2024 »: the span the figure covers
                return None
            y1, m1, y2, m2 = int(found["y1"]), _month(found["m1"]), int(found["y2"]), _month(found["m2"])
            if (y1, m1 or 0) > (y2, m2 or 0):
                continue
            return Period(_first_day(y1, m1), last_day(y2, m2), said, f"de {_words(y1, m1)} à {_words(y2, m2)}")
        if kind == "between_months":
            year, m1, m2 = int(found["y"]), _month(found["m1"]), _month(found["m2"])
            if m1 > m2:
                continue
            return Period(_first_day(year, m1), last_day(year, m2), said,
                          f"{MONTHS[m1 - 1]} et {_words(year, m2)}")
        year, month = int(found["y"]), _month(found["m"])
        if kind == "since":
            if asks_number:  # « combien … depuis 2017 »: where the figure starts counting
                return None
            return Period(_first_day(year, month), None, said, f"depuis {_words(year, month)}")
        if kind == "after":
            nxt = (year, month + 1) if month and month < 12 else (year + 1, 1 if month else None)
            return Period(_first_day(*nxt), None, said, f"après {_words(year, month)}")
        if kind == "before":
            if month:
                prev = (year, month - 1) if month > 1 else (year - 1, 12)
                return Period(None, last_day(*prev), said, f"avant {_words(year, month)}")
            return Period(None, last_day(year - 1, None), said, f"avant {year}")
        return Period(_first_day(year, month), last_day(year, month), said, _words(year, month))
    return None
