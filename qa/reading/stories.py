"""One story told by several releases: syndicated copies, and newer versions superseding older ones.

Two things are read here, from the releases themselves (no list of topics):
- syndicated copies: two releases that tell the same story (near-identical bodies under different
  navigation, or the same event in other words: compatible dates, the same rare figures, many
  terms in common) are one story; the answer cites it once and lists the other copies on it;
- corrections: a newer version of a release (a « rectificatif », a file named like it with a
  number, or the same title and body with changed figures) supersedes the older one for answers;
  the older one stays in the index and in the release list, marked as superseded.

Stories depend only on the corpus: they are computed at index time and stored with the build.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections import defaultdict
from dataclasses import dataclass, field
from itertools import combinations
from typing import Callable

from .lexical import fold, terms

# A figure: a number of at least two digits, thousands grouped by spaces, dots or commas.
_FIGURE = re.compile(r"(?<![\d.,])\d{1,3}(?:[   .,]\d{3})+(?![\d])|(?<![\d.,])\d{2,}(?![\d])")
_YEARLIKE = re.compile(r"(?:19|20)\d\d")
# A figure that at most this many releases state is distinctive of a story.
RARE_FIGURE = 3
# Term sets of this similarity (Jaccard) are near-identical bodies; with shared figures, the same event.
NEAR_IDENTICAL = 0.6
SAME_EVENT = 0.38
# Releases sharing a title or a file name stem are compared when at most this many share it; a
# sentence (word for word, folded), when at most SHARED_SENTENCE do.
SHARED_KEY = 50
SHARED_SENTENCE = 20
# Dates of one story are at most this far apart (a copy is published days after the original).
STORY_DAYS = 31
_CORRECTION = re.compile(r"\b(?:rectificatif|rectifie|correctif|corrige|correction|erratum|mise a jour|"
                         r"version (?:corrigee|revisee|modifiee|mise a jour))\b")
_NUMBERED = re.compile(r"^(?P<stem>.+?)(?:[-_ ](?:v|version)?(?P<n>\d)|[ ]?\((?P<p>\d)\))$")
_MONTH_PREFIX = re.compile(r"^\s*date (?P<y>(?:19|20)\d\d)-(?P<m>\d\d)\b")


def figures(text: str) -> set[str]:
    """The figures a text states, digits only (« 44 000 » → 44000); years and days left out."""
    found = set()
    for match in _FIGURE.finditer(text):
        digits = re.sub(r"\D", "", match.group(0))
        if len(digits) == 4 and _YEARLIKE.fullmatch(digits) and not re.search(r"\D", match.group(0)):
            continue
        if int(digits) > 31:
            found.add(digits)
    return found


def _month_of(document) -> tuple[int, int] | None:
    """The year and month a release was published: its date, or a page-date prefix « date 2020-11 »."""
    if document.date:
        return int(document.date[:4]), int(document.date[5:7])
    found = _MONTH_PREFIX.match(document.text[:40])
    return (int(found["y"]), int(found["m"])) if found else None


def _compatible(a, b) -> bool:
    """Whether two releases can be one story by their dates (an undated release can be anything)."""
    if a.date and b.date:
        return abs((dt.date.fromisoformat(a.date) - dt.date.fromisoformat(b.date)).days) <= STORY_DAYS
    ma, mb = _month_of(a), _month_of(b)
    if ma is None or mb is None:
        return True
    return abs((ma[0] * 12 + ma[1]) - (mb[0] * 12 + mb[1])) <= 1


def _stem(source: str) -> tuple[str, int]:
    """A file name without folder, suffix and version number: « cp-2.pdf » → (« cp », 2)."""
    name = source.rsplit("/", 1)[-1].rsplit(".", 1)[0]
    found = _NUMBERED.match(name)
    if found:
        return fold(found["stem"]), int(found["n"] or found["p"])
    return fold(name), 1


def _title(document) -> str:
    return " ".join(terms(document.title or ""))


def _is_correction(document) -> bool:
    return bool(_CORRECTION.search(fold(f"{document.source} {document.title or ''} {document.text[:300]}")))


@dataclass(frozen=True, slots=True)
class Stories:
    """Which releases tell one story (syndicated copies) and which versions are superseded, and the
    pairs decided so (`links`: what the next build starts from, see `assemble`)."""
    copies: dict[str, tuple[str, ...]] = field(default_factory=dict)  # doc id → the other copies of its story
    superseded: dict[str, str] = field(default_factory=dict)  # older version's doc id → the newer one's
    # {"copies": [[a, b], …], "superseded": [[a, b, older, newer], …]}: every pair (a < b) linked
    links: dict | None = None

    def to_dict(self) -> dict:
        found = {"copies": {k: list(v) for k, v in sorted(self.copies.items())},
                 "superseded": dict(sorted(self.superseded.items()))}
        if self.links is not None:
            found["links"] = self.links
        return found

    @classmethod
    def from_dict(cls, data: dict | None) -> "Stories":
        data = data or {}
        return cls({k: tuple(v) for k, v in data.get("copies", {}).items()}, dict(data.get("superseded", {})),
                   data.get("links"))

    def story(self, doc_id: str) -> frozenset[str]:
        return frozenset((doc_id, *self.copies.get(doc_id, ())))

    def together(self, a: str, b: str) -> bool:
        """Whether two releases are one story or two versions of one release."""
        return (b in self.copies.get(a, ()) or self.superseded.get(a) == b or self.superseded.get(b) == a
                or self._newest(a) == self._newest(b))

    def _newest(self, doc_id: str) -> str:
        seen = {doc_id}
        while doc_id in self.superseded and self.superseded[doc_id] not in seen:
            doc_id = self.superseded[doc_id]
            seen.add(doc_id)
        return doc_id


def story_score(term_similarity: float, shared_rare: int, shared_lead: int) -> float:
    """How surely two releases tell one event: their terms in common, and the rare figures they share
    (more when both state it in their headline or lede)."""
    return term_similarity + 0.08 * min(shared_rare, 3) + 0.1 * min(shared_lead, 3)


@dataclass(frozen=True, slots=True)
class Signature:
    """What finding a release's story reads of its text, computed once (kept with the build, by
    content hash): its terms, its figures, those of its headline and lede, its sentences (digests)."""
    sha256: str
    terms: frozenset[str]
    figures: frozenset[str]
    lead: frozenset[str]
    sentences: frozenset[str]

    def to_row(self) -> dict:
        return {"sha256": self.sha256, "terms": sorted(self.terms), "figures": sorted(self.figures),
                "lead": sorted(self.lead), "sentences": sorted(self.sentences)}

    @classmethod
    def from_row(cls, row: dict) -> "Signature":
        return cls(row["sha256"], frozenset(row["terms"]), frozenset(row["figures"]), frozenset(row["lead"]),
                   frozenset(row["sentences"]))


def signature(document) -> Signature:
    return Signature(document.sha256, frozenset(terms(document.text)), frozenset(figures(document.text)),
                     frozenset(figures(f"{document.title or ''} {document.text[:500]}")),
                     frozenset(_digest(s) for s in _sentences(document.text)))


def _digest(text: str) -> str:
    return hashlib.blake2b(text.encode("utf-8"), digest_size=10).hexdigest()


def story_keys(document, signed: Signature) -> list[tuple[str, str]]:
    """What a release shares with the releases it is compared with: its figures, its title (of
    three terms or more), its file name without version number, its sentences (word for word)."""
    keys = [("figure", figure) for figure in signed.figures]
    if document.title and len(_title(document).split()) >= 3:
        keys.append(("title", _title(document)))
    keys.append(("name", _stem(document.source)[0]))
    keys += [("sentence", sentence) for sentence in signed.sentences]
    return keys


def shared_limit(kind: str) -> int:
    """Releases sharing a key of this kind are compared when at most this many share it (a figure
    that more releases state is not distinctive)."""
    return RARE_FIGURE if kind == "figure" else SHARED_SENTENCE if kind == "sentence" else SHARED_KEY


def decide(a, b, signed_a: Signature, signed_b: Signature, rare: Callable[[str], bool]) -> tuple | None:
    """Whether two compared releases are versions of one (("superseded", older id, newer id)), copies
    of one story (("copy",)), or neither (None); `rare(figure)`: whether few releases state it."""
    union = signed_a.terms | signed_b.terms
    similarity = len(signed_a.terms & signed_b.terms) / len(union) if union else 0.0
    shared = {f for f in signed_a.figures & signed_b.figures if rare(f)}
    shared_lead = {f for f in shared if f in signed_a.lead and f in signed_b.lead}
    same_title = bool(a.title) and _title(a) == _title(b) and len(_title(a).split()) >= 3
    same_name = _stem(a.source)[0] == _stem(b.source)[0]
    correction = _is_correction(a) != _is_correction(b)
    kept = _sentence_share(signed_a.sentences, signed_b.sentences)
    if similarity >= 0.5 and a.text != b.text and (same_name or correction or (same_title and kept < 0.9)):
        older, newer = _order(a, b)
        return ("superseded", older.id, newer.id)
    # Word for word, a copy whatever its date; otherwise the dates must allow one story.
    if kept >= 0.9 or (_compatible(a, b) and (similarity >= NEAR_IDENTICAL or story_score(
            similarity, len(shared), len(shared_lead)) >= SAME_EVENT)):
        return ("copy",)
    return None


def assemble(copies: list, superseded: list) -> Stories:
    """Stories from the pairs decided: `copies` [[a, b], …], `superseded` [[a, b, older, newer], …]
    (pairs a < b). Copies of copies are one story; an older version with two newer ones is
    superseded by the one of the later pair."""
    links: dict[str, set[str]] = defaultdict(set)
    for a, b in copies:
        links[a].add(b)
        links[b].add(a)
    newer = {}
    for _, _, older, newest in sorted(superseded):
        newer[older] = newest
    groups = _components(links)
    return Stories({doc_id: tuple(sorted(group - {doc_id})) for group in groups for doc_id in group}, newer,
                   {"copies": sorted([list(pair) for pair in copies]), "superseded": sorted(list(s) for s in superseded)})


def stories(documents: list, signatures: dict[str, Signature] | None = None) -> Stories:
    """Syndicated copies and superseded versions among the releases of a corpus (`signatures`: by
    content hash, those already computed; the others are computed here).

    Candidate pairs share a distinctive figure, a title, a file name up to its version number, or
    a sentence (story_keys, shared_limit); each is then decided, so the cost grows with the pairs
    that share something, not with the square of the corpus."""
    by_id = {d.id: d for d in documents}
    signatures = signatures or {}
    signed = {d.id: signatures.get(d.sha256) or signature(d) for d in documents}
    holders: dict[tuple, set[str]] = defaultdict(set)
    for d in documents:
        for key in story_keys(d, signed[d.id]):
            holders[key].add(d.id)
    pairs = set()
    for (kind, _), members in holders.items():
        if 1 < len(members) <= shared_limit(kind):
            pairs.update(combinations(sorted(members), 2))

    def rare(figure: str) -> bool:
        return len(holders[("figure", figure)]) <= RARE_FIGURE
    return assemble(*decided(pairs, lambda a, b: decide(by_id[a], by_id[b], signed[a], signed[b], rare)))


def decided(pairs, decision: Callable[[str, str], tuple | None]) -> tuple[list, list]:
    """The links of the pairs (a < b) that `decision` (see `decide`) links, in pair order: the
    copies [[a, b], …] and the superseded versions [[a, b, older, newer], …]."""
    copies, superseded = [], []
    for a, b in sorted(pairs):
        found = decision(a, b)
        if found is None:
            continue
        if found[0] == "copy":
            copies.append([a, b])
        else:
            superseded.append([a, b, found[1], found[2]])
    return copies, superseded


def _sentences(text: str) -> frozenset[str]:
    """A body's sentences of six words or more, folded: what a copy keeps and a correction changes."""
    parts = re.split(r"(?<=[.!?])\s+|\n+", text)
    return frozenset(fold(p.strip()) for p in parts if len(p.split()) >= 6)


def _sentence_share(a: frozenset[str], b: frozenset[str]) -> float:
    """The share of the shorter body's sentences that the other says word for word."""
    if not a or not b:
        return 0.0
    return len(a & b) / min(len(a), len(b))


def _order(a, b):
    """(older, newer) of two versions: the correction, else the later date, else the higher number."""
    if _is_correction(a) != _is_correction(b):
        return (b, a) if _is_correction(a) else (a, b)
    if a.date and b.date and a.date != b.date:
        return (a, b) if a.date < b.date else (b, a)
    return (a, b) if (_stem(a.source)[1], a.source) <= (_stem(b.source)[1], b.source) else (b, a)


def _components(links: dict[str, set[str]]) -> list[set[str]]:
    seen, groups = set(), []
    for start in sorted(links):
        if start in seen:
            continue
        group, todo = set(), [start]
        while todo:
            node = todo.pop()
            if node in group:
                continue
            group.add(node)
            todo.extend(links[node] - group)
        seen |= group
        groups.append(group)
    return groups
