"""French lexical analysis: the same terms for documents and questions.

Elisions are stripped (l', qu', jusqu'…), accents folded (« ete aides » meets « été aidés »),
stop words dropped, words reduced by the French Snowball stemmer, and numbers kept whole
whatever their spacing (« 13 000 » and « 13000 » give the same term), percentages (« 135% ») and
telephone numbers (« +223 92 40 49 21 ») as single terms.
"""
from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import Stemmer

ELISIONS = ("l", "d", "qu", "jusqu", "lorsqu", "puisqu", "quoiqu", "presqu", "n", "s", "c", "j", "m", "t")

# Folded (no accents), as they are compared after folding.
STOP_WORDS = frozenset("""
a ai aie aient aies ait as au aura aurai auraient aurais aurait auras aurez auriez aurions aurons auront aux avaient
avais avait avec avez aviez avions avons ayant ayez ayons c ce ceci cela celle celles celui ces cet cette ceux chez
comme comment d dans de des donc dont du elle elles en encore es est et etaient etais etait etant ete etes etiez
etions etre eu eue eues eurent eus eut eux fut furent fus ici il ils j je l la le les leur leurs lui m ma mais me meme
memes mes moi mon n ne ni nos notre nous on ont ou par pas pour qu quand que quel quelle quelles quels qui s sa sans
se sera serai seraient serait seras serez seriez serions serons seront ses si son sont sous soyez sur t ta te tes toi
ton tous tout toute toutes tu un une vos votre vous y
combien quoi lequel laquelle lesquels lesquelles ou-est est-ce
the of and to in is are was were what which who whom how many much did does do for on at by from with
""".split())

# A number: digits with optional thousands groups separated by spaces (incl. no-break) or dots, and decimals.
_NUMBER = r"\d{1,3}(?:[ \u00a0\u202f.]\d{3})+(?:,\d+)?(?!\d)|\d+(?:[.,]\d+)?"
# A telephone number: an optional +country code, then four or more pairs of digits (« +223 92 40 49 21 »).
_PHONE = r"(?:\+(?P<country>\d{1,3})[ \u00a0\u202f.]?)?(?P<national>(?:\d{2}[ \u00a0\u202f.]){3,}\d{2})(?!\d)"
_TOKEN = re.compile(rf"(?P<phone>{_PHONE})|(?:{_NUMBER})(?:[ \u00a0\u202f]?%)?|[^\W\d_]+(?:-[^\W\d_]+)*", re.UNICODE)
_SEPARATORS = re.compile(r"[ \u00a0\u202f.]")
_THOUSANDS = re.compile(r"[ \u00a0\u202f.](?=\d{3}(?!\d))|[\u00a0\u202f](?=%)")
_APOSTROPHES = str.maketrans({"’": "'", "ʼ": "'", "‘": "'", "`": "'"})
_ELISION = re.compile(r"\b(?:%s)'(?=\w)" % "|".join(ELISIONS), re.IGNORECASE)
_STEMMER = Stemmer.Stemmer("french")
# A term of at least this many letters that the index does not know also searches the indexed
# terms this similar to it (rapidfuzz ratio, 0–100): typos and slips of accents.
FUZZY_MIN_LENGTH = 5
FUZZY_SIMILARITY = 80


def fold(text: str) -> str:
    """Lower case without accents (œ → oe, ß → ss kept as is by NFKD)."""
    text = text.lower().replace("œ", "oe").replace("æ", "ae")
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


@lru_cache(maxsize=262144)
def _term(word: str) -> str | None:
    """The term of a lower-case word, None for a stop word: Snowball on the accented word, then
    folded; a final e is dropped so that a word typed without accents meets its accented form
    (« presidee » and « présidée » both give presid)."""
    if len(word) < 2 or fold(word) in STOP_WORDS:
        return None
    stem = fold(_STEMMER.stemWord(word))
    return stem[:-1] if len(stem) > 3 and stem.endswith("e") else stem


def terms(text: str) -> list[str]:
    """The index terms of a text, in order: stems of content words and normalised numbers."""
    text = _ELISION.sub(" ", text.translate(_APOSTROPHES))
    out = []
    for match in _TOKEN.finditer(text):
        token = match.group(0)
        if match.group("phone"):
            national = _SEPARATORS.sub("", match.group("national"))
            out.append(national)
            if match.group("country"):
                out.append(match.group("country") + national)
            continue
        if token[0].isdigit():
            out.append(_THOUSANDS.sub("", token).replace(",", ".").replace(" ", ""))
            continue
        for word in token.lower().split("-"):
            term = _term(word)
            if term is not None:
                out.append(term)
    return out
