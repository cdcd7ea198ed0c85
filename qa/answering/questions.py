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

from ..reading.lexical import fold

ANSWER_TYPES = ("number", "person", "date", "place", "cause")

# Patterns on the folded question (lower case, no accents, straight apostrophes).
_ASKS = {
    "number": r"\bcombien\b|\bquel(?:le)?s? (?:est |etait |a ete )?(?:le |la )?(?:nombre|montant|somme|"
              r"pourcentage|proportion|part|budget|cout|total|effectif|quantite|taux)\b|\bhow (?:many|much)\b|"
              r"\bwhat (?:number|amount|share|percentage)\b|\bnombre de\b|\bquelle tranche\b",
    "person": r"^(?:et )?qui\b|\b(?:par|a|avec|pour|aupres de) qui\b|\bwho(?:m|se)?\b|\bquel(?:le)?s? (?:est |etait )?"
              r"(?:l'|le |la )?(?:organisation|organisme|partenaire|bailleur|donateur|ministre|ministere|"
              r"ambassad\w*|directeur|directrice|chef|responsable|representant\w*|institution|agence|pays|"
              r"gouvernement|association|ong|structure|entreprise|nom)\b|\bwhich (?:organi[sz]ation|agency|"
              r"country|partner|donor|minister|official)\b|\bfinanc\w*\b.*\?$",
    "date": r"\bquand\b|\bwhen\b|\bquel(?:le)? (?:jour|date|annee|mois|periode)\b|\ben quelle annee\b|"
            r"\bdepuis quand\b|\bwhat (?:day|date|year|month)\b|\bwhich (?:day|date|year|month)\b|\ba quelle date\b",
    "place": r"^(?:et )?(?:d')?ou\b|\bd'ou\b|\bjusqu'ou\b|\bpar ou\b|\bwhere\b|\bdans quel(?:le)?s? (?:ville|region|pays|localite|"
             r"quartier|lieu|site|centre|camp|commune|cercle|departement|prefecture|batiment|salle|hotel|stade|ecole|localites)\b|\bquel(?:le)?s? "
             r"(?:ville|region|localite|lieu|site|commune)\b|\bdepuis quel(?:le)? (?:ville|pays|localite|lieu)\b|"
             r"\bvers quel(?:le)?\b|\bfrom (?:which|what) (?:city|town|country|place)\b|\bin which (?:city|town|"
             r"region|country)\b|\bwhich (?:city|town|region|place)\b",
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
    for kind in ("date", "place", "cause", "person"):
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
    r"\b(?:distance|how far)\b": r"\b(?:km|kilometres?|metres?)\b",
}
_UNITS = [(re.compile(asked), re.compile(unit)) for asked, unit in _UNITS.items()]


@dataclass(frozen=True, slots=True)
class Holds:
    """Whether a sentence holds the kind of element a question asks for, beyond what it names."""
    held: bool  # the sentence holds an element of the kind asked for
    new: bool  # … one the question does not name already
    unit: bool  # a number measured in what the question asks (« 450 dollars » for « combien verser »)
    person: bool = False  # for « qui »: a person named (a name, or « M. … »), not only an organisation


NOTHING = Holds(False, False, False)


def _numbers(text: str) -> set[str]:
    return {re.sub(r"[\s.,]", "", n) for n in _NUMBER.findall(text)} - set(_YEAR.findall(text))


def _named(entities: list, labels: tuple[str, ...], question: str) -> tuple[bool, bool]:
    found = [text for label, text in entities if label in labels]
    folded_question = _folded(question)
    return bool(found), any(_folded(text) not in folded_question for text in found)


def holds(sentence: str, question: str, kind: str | None, entities: list) -> Holds:
    """Whether `sentence` (with its `entities`, (label, text) pairs) holds what `question` asks for."""
    if kind is None:
        return NOTHING
    folded = _folded(sentence)
    if kind == "number":
        numbers = _numbers(sentence)
        held = bool(numbers) or bool(_NUMBER_WORDS.search(folded))
        new = bool(numbers - _numbers(question)) or (not numbers and held)
        asked = _folded(question)
        unit = any(a.search(asked) and u.search(folded) for a, u in _UNITS)
        return Holds(held, new, unit)
    if kind == "date":
        dates = {m.group(0) for m in _DATE.finditer(folded)} | set(_YEAR.findall(sentence))
        asked = {m.group(0) for m in _DATE.finditer(_folded(question))} | set(_YEAR.findall(question))
        return Holds(bool(dates), bool(dates - asked), False)
    if kind == "person":
        held, new = _named(entities, ("PER", "ORG"), question)
        person = _named(entities, ("PER",), question)[1] or bool(_TITLE.search(sentence))
        return Holds(held or person, new or person, False, person)
    if kind == "place":
        held, new = _named(entities, ("LOC",), question)
        return Holds(held, new, False)
    held = bool(_CAUSE.search(folded))
    return Holds(held, held, False)
