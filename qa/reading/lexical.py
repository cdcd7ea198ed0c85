"""French lexical analysis: the same terms for documents and questions.

Elisions are stripped (l', qu', jusqu'…), accents folded (« ete aides » meets « été aidés »),
stop words dropped, words reduced by the French Snowball stemmer, and numbers kept whole
whatever their spacing (« 13 000 » and « 13000 » give the same term), percentages (« 135% ») and
telephone numbers (« +223 92 40 49 21 ») as single terms.
"""
from __future__ import annotations

import json
import math
import re
import unicodedata
from functools import lru_cache
from pathlib import Path

import numpy as np

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


class LexicalIndex:
    """BM25 (bm25s, vectorised) over the French terms of every passage, and the inverse document
    frequency of each term (rare terms weigh more when a sentence is matched to a question).
    Saved with the build as plain arrays and JSON, so opening an index does not re-read its text."""

    def __init__(self, bm25, document_frequency: dict[str, int], size: int):
        self._bm25 = bm25
        self._df = document_frequency
        self.size = size
        self._default = math.log(1 + size)
        self._vocabulary: list[str] | None = None

    @classmethod
    def from_tokens(cls, tokens: list[list[str]]) -> "LexicalIndex":
        import bm25s
        bm25 = bm25s.BM25()
        if tokens:
            bm25.index(tokens, show_progress=False)
        df: dict[str, int] = {}
        for passage_terms in tokens:
            for term in set(passage_terms):
                df[term] = df.get(term, 0) + 1
        return cls(bm25, df, len(tokens))

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        if self.size:
            self._bm25.save(str(folder), show_progress=False)
        (folder / "df.json").write_text(json.dumps({"size": self.size, "df": self._df}, ensure_ascii=False),
                                        encoding="utf-8")

    @classmethod
    def load(cls, folder: Path) -> "LexicalIndex":
        import bm25s
        data = json.loads((folder / "df.json").read_text(encoding="utf-8"))
        # Memory-mapped: a question reads the columns of its terms only.
        bm25 = bm25s.BM25.load(str(folder), show_progress=False, mmap=True) if data["size"] else bm25s.BM25()
        return cls(bm25, data["df"], data["size"])

    def expand(self, question_terms: list[str], limit: int = 2) -> list[str]:
        """The question's terms, each term the index does not know (a typo: « Tomboctou »,
        « réintegration ») followed by the indexed terms spelt nearly like it."""
        unknown = [t for t in dict.fromkeys(question_terms)
                   if t not in self._df and len(t) >= FUZZY_MIN_LENGTH and not t[0].isdigit()]
        if not unknown or not self._df:
            return question_terms
        from rapidfuzz import fuzz, process
        if self._vocabulary is None:
            self._vocabulary = [t for t in self._df if len(t) >= FUZZY_MIN_LENGTH - 1 and not t[0].isdigit()]
        near = [match for term in unknown for match, _, _ in
                process.extract(term, self._vocabulary, scorer=fuzz.ratio, score_cutoff=FUZZY_SIMILARITY, limit=limit)]
        return question_terms + near

    def weight(self, term: str) -> float:
        """Inverse document frequency of a term (unknown terms weigh as the rarest)."""
        df = self._df.get(term)
        return math.log(1 + self.size / df) if df else self._default

    def scores(self, question_terms: list[str]) -> np.ndarray:
        """BM25 score of every passage for the question's terms (unknown terms score nothing)."""
        known = [term for term in question_terms if term in self._df] if self.size else []
        if not known:
            return np.zeros(self.size, dtype=np.float32)
        return np.asarray(self._bm25.get_scores(known), dtype=np.float32)
