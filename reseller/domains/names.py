"""Domain names: IDNA 2008 with UTS 46 mapping, lower case, no trailing dot, TLD label rules.

Every name entering the system passes ``parse``; the A-label (punycode) form is what we
store and send to registries, the U-label form is what people read.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import idna
from flask_babel import lazy_gettext as _l

from reseller.catalog.models import TldRules, rules_for
from reseller.core.errors import DomainError, ValidationFailed
from reseller.core.library_messages import idna_reason
from reseller.core.text import has_control_characters, one_line

_LDH = re.compile(r"^[a-z0-9-]+$")


class InvalidName(DomainError):
    status = 422
    code = "invalid_domain_name"
    title = _l("The domain name is not valid")


@dataclass(frozen=True)
class DomainName:
    ascii: str  # A-label form: "xn--thti-loa.fi"
    unicode: str  # U-label form: "tähti.fi"
    label: str  # the second-level A-label: "xn--thti-loa"
    tld: str

    @property
    def is_idn(self) -> bool:
        return self.ascii != self.unicode

    @property
    def rules(self) -> TldRules:
        return rules_for(self.tld)

    def __str__(self) -> str:
        return self.ascii


def _refuse(reason, name: str) -> InvalidName:
    return InvalidName(reason, name=name, reason=str(reason))


_SPACED_DOT = re.compile("[ \u00a0]*\\.[ \u00a0]*")


def parse(text: str) -> DomainName:
    """Validate and normalise ``text``; raise ``InvalidName`` (422) saying why."""
    raw = _SPACED_DOT.sub(".", (text or "").strip())  # "esimerkki .fi" as typed on a phone
    if raw.endswith("."):
        raw = raw[:-1]
    if not raw:
        raise _refuse(_l("The name is empty."), text or "")
    if len(raw) > 253:
        raise _refuse(_l("The name is longer than 253 characters."), raw)
    try:
        ascii_name = idna.encode(raw, uts46=True, transitional=False).decode("ascii")
        unicode_name = idna.decode(ascii_name)
    except idna.IDNAError as error:
        raise _refuse(idna_reason(error), raw) from error
    labels = ascii_name.split(".")
    if len(labels) != 2:
        raise _refuse(_l("Give a second-level name such as example.fi (one dot)."), raw)
    label, tld = labels
    rules = rules_for(tld)
    _check_label(label, unicode_name.split(".")[0], rules, raw)
    return DomainName(ascii=ascii_name, unicode=unicode_name, label=label, tld=tld)


def _check_label(label: str, ulabel: str, rules: TldRules, raw: str) -> None:
    if not _LDH.match(label):
        raise _refuse(_l("Use only letters, digits and hyphens."), raw)
    if label.startswith("xn--") and not rules.idn:
        raise _refuse(_l(".%(tld)s does not accept internationalised names.", tld=rules.tld),
                      raw)
    if not rules.min_label <= len(ulabel) or len(label) > rules.max_label:
        raise _refuse(_l("The name before .%(tld)s must be %(low)s–%(high)s characters.",
                         tld=rules.tld, low=rules.min_label, high=rules.max_label), raw)


def parse_many(texts: list[str]) -> list[DomainName]:
    return [parse(text) for text in texts]


def is_host_name(text: str) -> bool:
    """A valid fully qualified host name (for nameservers): LDH labels, at least two, and
    no control character anywhere (not even a trailing line break the strip would hide)."""
    if has_control_characters(text):
        return False
    try:
        ascii_name = idna.encode(text.strip().rstrip("."), uts46=True).decode("ascii")
    except idna.IDNAError:
        return False
    labels = ascii_name.split(".")
    return (len(labels) >= 2 and len(ascii_name) <= 253
            and all(_LDH.match(part) and len(part) <= 63 for part in labels)
            and not labels[-1].isdigit())


def host_name(text: str) -> str:
    return idna.encode(text.strip().rstrip("."), uts46=True).decode("ascii")


def host_names(texts: list, *, field: str = "nameservers") -> list[str]:
    """Each text as a host name in A-label form, repeats dropped; the first that is not a
    host name is a 422 naming ``field``."""
    hosts = []
    for text in texts:
        if not isinstance(text, str) or not is_host_name(text):
            raise ValidationFailed({field: [_l("%(host)s is not a valid host name.",
                                               host=one_line(text))]})
        hosts.append(host_name(text))
    return list(dict.fromkeys(hosts))
