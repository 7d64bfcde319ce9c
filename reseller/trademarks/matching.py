"""Does a domain name imitate a protected mark? Each answer has a reason and a score.

Reasons, strongest first (``SCORES``): ``exact`` (the mark's label under any TLD),
``homograph`` (an IDN whose letters look like the mark's: the A-label decoded with
``idna`` and compared by UTS #39 skeleton), ``confusable`` (ASCII look-alikes from the
same Unicode data: ``0``/``o``, ``1``/``l``, ``rn``/``m``), ``typo`` (one keystroke off
on a Nordic QWERTY keyboard: a neighbouring key, a doubled key, two keys swapped),
``edit_distance`` (1 or 2 edits, Damerau/OSA), ``affix`` (the mark with a common word
before or after it, with or without a hyphen).

A mark's labels follow the Trademark Clearinghouse's matching rules: spaces and
punctuation are left out or become hyphens, ``&`` and ``@`` may be spelled out. The
confusables come from Unicode's confusables.txt as shipped by the ``confusable_homoglyphs``
package; this module derives the skeleton mapping from it (see ``_prototypes``).
"""

from __future__ import annotations

import functools
import itertools
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

import idna

SCORES = {"exact": 100, "homograph": 95, "confusable": 90, "typo": 85,
          "edit_distance": 75, "affix": 70}
DISTANCE_2_SCORE = 60
REASONS = tuple(SCORES)
# Shorter marks make too many accidental neighbours: below these lengths only exact,
# homograph and confusable matches count (affixes need 3 letters).
MIN_LENGTH = {"typo": 4, "edit_distance_1": 4, "edit_distance_2": 7, "affix": 3}
AFFIXES = (
    "my", "get", "go", "the", "i", "e", "web", "online", "shop", "store", "app", "login",
    "signin", "secure", "support", "help", "official", "mail", "pay", "account", "verify",
    "service", "info", "group", "portal", "club", "news", "buy", "best", "hq", "team",
    "auth", "cloud", "net", "24", "365", "oy", "ab", "fi", "se", "eu", "suomi", "sverige",
    "kauppa", "verkkokauppa", "butik", "tuki", "asiakas", "kirjaudu",
)
_SPELLED = {"&": ("and", "ja", "och"), "@": ("at",)}
_NOT_LABEL = re.compile(r"[^\w-]|_")
MAX_LABELS = 12

# Nordic QWERTY (fi/sv): each key's neighbours on the same and adjacent rows.
_ROWS = ("1234567890+", "qwertyuiopå", "asdfghjklöä", "zxcvbnm,.-")


@functools.cache
def _neighbours() -> dict[str, frozenset[str]]:
    found: dict[str, set[str]] = {}
    for r, row in enumerate(_ROWS):
        for c, key in enumerate(row):
            near = found.setdefault(key, set())
            for dr, dc in ((0, -1), (0, 1), (-1, 0), (-1, 1), (1, -1), (1, 0)):
                rr, cc = r + dr, c + dc
                if 0 <= rr < len(_ROWS) and 0 <= cc < len(_ROWS[rr]):
                    near.add(_ROWS[rr][cc])
    return {key: frozenset(keys) for key, keys in found.items()}


@functools.cache
def _prototypes() -> dict[str, str]:
    """Source character → prototype, as confusables.txt states it (UTS #39 section 4).

    The package stores each line both ways (source ↔ prototype). Sources are single code
    points that map to exactly one prototype, and a prototype is never a source, so in the
    undirected graph every source has one neighbour. Where both ends of a pair have one
    neighbour, the prototype is the longer string, else the ASCII one, else the lower code
    point (the data's prototypes are the plain, common letters).
    """
    from confusable_homoglyphs.confusables import confusables_data

    graph = {key.strip("\u200e"): {entry["c"].strip("\u200e") for entry in entries}
             for key, entries in confusables_data.items()}
    mapping: dict[str, str] = {}
    for source, targets in graph.items():
        if len(source) != 1 or len(targets) != 1:
            continue
        (target,) = targets
        if len(graph.get(target, ())) == 1 and not _is_prototype_of_pair(target, source):
            continue  # the pair's other end is the source
        mapping[source] = target
    return mapping


def _is_prototype_of_pair(candidate: str, other: str) -> bool:
    if len(candidate) != len(other):
        return len(candidate) > len(other)
    if candidate.isascii() != other.isascii():
        return candidate.isascii()
    return candidate < other


def skeleton(text: str) -> str:
    """UTS #39 skeleton, then lower case (domain names ignore case: ``0`` ~ ``O`` ~ ``o``)."""
    mapping = _prototypes()
    decomposed = unicodedata.normalize("NFD", text)
    mapped = "".join(mapping.get(char, char) for char in decomposed)
    return unicodedata.normalize("NFD", mapped).lower()


def unicode_label(name: str) -> str:
    """The label left of the TLD in Unicode (an A-label decoded), lower case."""
    label = name.strip().rstrip(".").lower().split(".")[0]
    if label.startswith("xn--"):
        try:
            return idna.decode(label)
        except idna.IDNAError:
            return label
    return label


def mark_labels(text: str, extra: Iterable[str] = ()) -> tuple[str, ...]:
    """The labels a mark is registered as (TMCH rules) plus configured variants, each a
    valid IDNA label; the first is the plain one."""
    base = unicodedata.normalize("NFC", text.strip()).casefold()
    options = [[""]]
    for char in base:
        if char in _SPELLED:
            options.append(["", "-", *_SPELLED[char], *(f"-{w}-" for w in _SPELLED[char])])
        elif _NOT_LABEL.match(char):
            options.append(["", "-"])
        else:
            options.append([char])
    found: list[str] = []
    for combo in itertools.islice(itertools.product(*options), 200):
        label = re.sub(r"-{2,}", "-", "".join(combo)).strip("-")
        if label and label not in found and _valid_label(label):
            found.append(label)
        if len(found) >= MAX_LABELS:
            break
    for variant in extra:
        label = unicode_label(variant)
        if label and label not in found and _valid_label(label):
            found.append(label)
    return tuple(found)


def _valid_label(label: str) -> bool:
    try:
        encoded = idna.encode(label)
    except idna.IDNAError:
        return False
    return 0 < len(encoded) <= 63


def osa_distance(a: str, b: str, limit: int = 2) -> int:
    """Optimal string alignment distance (insert, delete, substitute, swap two
    neighbours), or ``limit + 1`` once it is surely larger than ``limit``."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            cost = ca != cb
            value = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                value = min(value, previous2[j - 2] + 1)
            current[j] = value
        if min(current) > limit:
            return limit + 1
        previous2, previous = previous, current
    return min(previous[-1], limit + 1)


def keyboard_typo(candidate: str, mark: str) -> str | None:
    """How ``candidate`` is one keystroke off ``mark`` (None if it is not): a neighbouring
    key, a neighbouring or repeated key added, or two neighbouring letters swapped."""
    near = _neighbours()
    if len(candidate) == len(mark):
        diffs = [i for i, (x, y) in enumerate(zip(candidate, mark, strict=True)) if x != y]
        if len(diffs) == 1 and candidate[diffs[0]] in near.get(mark[diffs[0]], ()):
            return "neighbouring key"
        if len(diffs) == 2 and diffs[1] == diffs[0] + 1 and \
                candidate[diffs[0]] == mark[diffs[1]] and candidate[diffs[1]] == mark[diffs[0]]:
            return "swapped letters"
        return None
    if len(candidate) == len(mark) + 1:
        for i, extra in enumerate(candidate):
            if candidate[:i] + candidate[i + 1:] != mark:
                continue
            beside = {mark[i - 1]} if i > 0 else set()
            beside |= {mark[i]} if i < len(mark) else set()
            if extra in beside or any(extra in near.get(key, ()) for key in beside):
                return "extra key"
    return None


def _affix(label: str, mark: str) -> str | None:
    if len(mark) < MIN_LENGTH["affix"] or mark not in label or label == mark:
        return None
    for affix in AFFIXES:
        for sep in ("", "-"):
            if label == f"{affix}{sep}{mark}":
                return f"prefix {affix}"
            if label == f"{mark}{sep}{affix}":
                return f"suffix {affix}"
    return None


@dataclass(frozen=True)
class Hit:
    mark_id: int
    reason: str
    score: int
    detail: str
    label: str  # the mark label it matched


@dataclass(frozen=True)
class _Mark:
    id: int
    labels: tuple[tuple[str, str], ...]  # (label, its skeleton)
    skeletons: frozenset[str]


def classify(label: str, mark: str, mark_skeleton: str | None = None,
             label_skeleton: str | None = None) -> tuple[str, int, str] | None:
    """(reason, score, detail) of the strongest way ``label`` imitates ``mark``, or None."""
    if label == mark:
        return "exact", SCORES["exact"], ""
    label_skeleton = label_skeleton if label_skeleton is not None else skeleton(label)
    mark_skeleton = mark_skeleton if mark_skeleton is not None else skeleton(mark)
    if label_skeleton == mark_skeleton:
        if label.isascii():
            return "confusable", SCORES["confusable"], ""
        return "homograph", SCORES["homograph"], ""
    if len(mark) >= MIN_LENGTH["typo"] and (how := keyboard_typo(label, mark)):
        return "typo", SCORES["typo"], how
    distance = osa_distance(label, mark, 2) if len(mark) >= MIN_LENGTH["edit_distance_1"] \
        else 3
    if distance == 1:
        return "edit_distance", SCORES["edit_distance"], "1"
    if how := _affix(label, mark):
        return "affix", SCORES["affix"], how
    if distance == 2 and len(mark) >= MIN_LENGTH["edit_distance_2"]:
        return "edit_distance", DISTANCE_2_SCORE, "2"
    return None


class Matcher:
    """Every active mark, prepared once; ``match(name)`` gives the best hit per mark."""

    def __init__(self, marks: Iterable[tuple[int, Iterable[str]]]) -> None:
        self._marks = []
        for mark_id, labels in marks:
            pairs = tuple((label, skeleton(label)) for label in labels)
            if pairs:
                self._marks.append(_Mark(mark_id, pairs, frozenset(s for _, s in pairs)))
        longest = max((len(label) for m in self._marks for label, _ in m.labels), default=0)
        # Past this length a label can be no mark's variant (an affix is the longest).
        self._max_label = longest + max(len(affix) for affix in AFFIXES) + 1

    def __bool__(self) -> bool:
        return bool(self._marks)

    def match(self, name: str) -> list[Hit]:
        label = unicode_label(name)
        if not label or len(label) > self._max_label:
            return []
        label_skeleton = skeleton(label)
        hits = []
        for mark in self._marks:
            best: Hit | None = None
            for mark_label, mark_skeleton in mark.labels:
                found = classify(label, mark_label, mark_skeleton, label_skeleton) \
                    if _near(label, mark_label) or label_skeleton in mark.skeletons else None
                if found and (best is None or found[1] > best.score):
                    best = Hit(mark.id, found[0], found[1], found[2], mark_label)
            if best is not None:
                hits.append(best)
        return hits


def _near(label: str, mark: str) -> bool:
    """Cheap pre-filter: could any reason but a skeleton match apply?"""
    return abs(len(label) - len(mark)) <= 2 or mark in label


def claims_match(name: str, labels: Iterable[str]) -> bool:
    """The name's label is one of the mark's (TMCH claims: exact labels and variants)."""
    return unicode_label(name) in set(labels)
