"""Trademark matching, one property per variant class: a variant of the mark is found
(with that reason, or a stronger one), an unrelated name is not."""

from __future__ import annotations

import idna
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from reseller.trademarks import matching
from reseller.trademarks.matching import SCORES, Matcher, mark_labels, osa_distance, skeleton

# Letters with no ASCII look-alike in Unicode's data and none in the other alphabet:
# a mark from one and a name from the other share no letter and no skeleton.
MARK_LETTERS = "abcdefghk"
OTHER_LETTERS = "stuvwxyz"
TLDS = st.sampled_from(["fi", "se", "com", "eu", "net"])
marks = st.text(alphabet=MARK_LETTERS, min_size=7, max_size=14)
fast = settings(max_examples=60, deadline=None)


def _found(mark: str, name: str) -> matching.Hit | None:
    hits = Matcher([(1, mark_labels(mark))]).match(name)
    return hits[0] if hits else None


@fast
@given(mark=marks, tld=TLDS)
def test_the_mark_in_any_tld_is_an_exact_match(mark, tld):
    hit = _found(mark, f"{mark}.{tld}")
    assert hit is not None and hit.reason == "exact" and hit.score == 100


@fast
@given(mark=marks, tld=TLDS, data=st.data())
def test_a_neighbouring_key_is_a_typo(mark, tld, data):
    index = data.draw(st.integers(0, len(mark) - 1))
    near = sorted(k for k in matching._neighbours()[mark[index]] if k.isalnum())
    key = data.draw(st.sampled_from(near))
    typo = mark[:index] + key + mark[index + 1:]
    hit = _found(mark, f"{idna.encode(typo).decode()}.{tld}")
    assert hit is not None and hit.score >= SCORES["typo"], (typo, hit)


@fast
@given(mark=marks, tld=TLDS, data=st.data())
def test_two_swapped_letters_are_a_typo(mark, tld, data):
    index = data.draw(st.integers(0, len(mark) - 2))
    assume(mark[index] != mark[index + 1])
    typo = mark[:index] + mark[index + 1] + mark[index] + mark[index + 2:]
    hit = _found(mark, f"{typo}.{tld}")
    assert hit is not None and hit.reason == "typo" and hit.detail == "swapped letters"


@fast
@given(mark=marks, tld=TLDS, data=st.data())
def test_a_letter_left_out_is_one_edit(mark, tld, data):
    index = data.draw(st.integers(0, len(mark) - 1))
    hit = _found(mark, f"{mark[:index] + mark[index + 1:]}.{tld}")
    assert hit is not None and hit.score >= SCORES["edit_distance"]


@fast
@given(mark=marks, tld=TLDS, data=st.data())
def test_two_letters_changed_are_two_edits(mark, tld, data):
    first, second = sorted(data.draw(st.lists(st.integers(0, len(mark) - 1), min_size=2,
                                              max_size=2, unique=True)))
    letters = data.draw(st.lists(st.sampled_from(OTHER_LETTERS), min_size=2, max_size=2))
    variant = list(mark)
    variant[first], variant[second] = letters
    hit = _found(mark, "".join(variant) + f".{tld}")
    assert hit is not None and hit.score >= matching.DISTANCE_2_SCORE


@fast
@given(mark=st.text(alphabet=MARK_LETTERS, min_size=2, max_size=10), tld=TLDS,
       data=st.data())
def test_ascii_look_alikes_are_confusable(mark, tld, data):
    """``o``→``0``, ``l``→``1``, ``m``→``rn``: Unicode's own ASCII confusables."""
    original, fake = data.draw(st.sampled_from([("o", "0"), ("l", "1"), ("m", "rn")]))
    where = data.draw(st.integers(0, len(mark)))
    mark = mark[:where] + original + mark[where:]
    hit = _found(mark, mark.replace(original, fake) + f".{tld}")
    assert hit is not None and hit.reason == "confusable", (mark, hit)


# (Cyrillic к is not here: Unicode maps it to ĸ, kra, not to k.)
CYRILLIC = {"a": "\u0430", "c": "\u0441", "e": "\u0435", "h": "\u04bb"}


@fast
@given(mark=marks, tld=TLDS, data=st.data())
def test_an_idn_with_look_alike_letters_is_a_homograph(mark, tld, data):
    """The name arrives as an A-label (as zone files list it); decoded, its skeleton is
    the mark's."""
    swappable = [i for i, char in enumerate(mark) if char in CYRILLIC]
    assume(swappable)
    index = data.draw(st.sampled_from(swappable))
    fake = mark[:index] + CYRILLIC[mark[index]] + mark[index + 1:]
    a_label = idna.encode(fake).decode()
    assert a_label.startswith("xn--")
    hit = _found(mark, f"{a_label}.{tld}")
    assert hit is not None and hit.reason == "homograph" and hit.score == 95


@fast
@given(mark=marks, tld=TLDS, affix=st.sampled_from(matching.AFFIXES),
       before=st.booleans(), hyphen=st.booleans())
def test_the_mark_with_a_common_word_is_an_affix_match(mark, tld, affix, before, hyphen):
    sep = "-" if hyphen else ""
    label = f"{affix}{sep}{mark}" if before else f"{mark}{sep}{affix}"
    hit = _found(mark, f"{label}.{tld}")
    assert hit is not None and hit.score >= SCORES["affix"], (label, hit)


@fast
@given(mark=marks, name=st.text(alphabet=OTHER_LETTERS, min_size=1, max_size=30), tld=TLDS)
def test_an_unrelated_name_is_not_found(mark, name, tld):
    assert _found(mark, f"{name}.{tld}") is None


@fast
@given(mark=marks, name=st.text(alphabet=MARK_LETTERS + OTHER_LETTERS, min_size=1,
                                max_size=30), tld=TLDS)
def test_a_name_three_edits_away_without_the_mark_is_not_found(mark, name, tld):
    assume(osa_distance(name, mark, 3) > 3 and mark not in name)
    assert _found(mark, f"{name}.{tld}") is None


def test_homographs_come_from_unicode_confusables_data():
    # Cyrillic а/е/о/р/с and Greek ο fold onto Latin letters; digits onto letters.
    assert skeleton("\u0440\u0430\u0443\u0440\u0430l") == skeleton("paypal")
    assert skeleton("g\u03bf\u03bfgle") == skeleton("google")
    assert skeleton("g00gle") == skeleton("google")
    assert skeleton("rnicrosoft") == skeleton("microsoft")
    assert skeleton("v\u00e4in\u00f6") != skeleton("vaino")  # diaeresis is not a look-alike


def test_an_a_label_is_decoded_before_matching():
    assert matching.unicode_label("XN--PYPAL-4VE.COM.") == "p\u0430ypal"
    assert matching.unicode_label("xn--invalid-.fi") == "xn--invalid-"  # kept, not raised


def test_mark_labels_follow_the_clearinghouse_rules():
    assert mark_labels("Nord Name") == ("nordname", "nord-name")
    assert {"ab-and-co", "abandco", "abco", "ab-co"} <= set(mark_labels("AB & Co"))
    assert mark_labels("Väinö") == ("väinö",)
    assert mark_labels("Acme", ["acme-group", "xn--pypal-4ve"]) == (
        "acme", "acme-group", "p\u0430ypal")


@pytest.mark.parametrize(("label", "mark", "reason"), [
    ("nordnamd", "nordname", "typo"), ("nordnamee", "nordname", "typo"),
    ("nordnmae", "nordname", "typo"), ("nordnme", "nordname", "edit_distance"),
    ("mynordname", "nordname", "affix"), ("nordname-kauppa", "nordname", "affix"),
    ("nprdname", "nordname", "typo"), ("abc", "abd", None), ("myabc", "abc", "affix"),
])
def test_classify_names_the_strongest_reason(label, mark, reason):
    found = matching.classify(label, mark)
    assert (found[0] if found else None) == reason


def test_short_marks_do_not_match_by_edit_distance():
    assert matching.classify("abd", "abc") is None
    assert matching.classify("abcdefx", "abcdefg")[0] == "edit_distance"
