"""WHOIS answers in the ICANN key: value layout (2013 RAA RDDS specification), with a
``Reseller:`` line, privacy redaction and "No match for" for names we do not have.

Every value goes through ``one_line``: a stored value with a line break (older than the
input rule) prints escaped on its own line and cannot add a ``Key: value`` line."""

from __future__ import annotations

from datetime import UTC, datetime

from reseller.core.text import one_line
from reseller.rdap.models import RegistrationData

REDACTED = "REDACTED FOR PRIVACY"


def epp_status(rdap_status: str) -> str:
    """RDAP status words back to the EPP code for a ``Domain Status:`` line."""
    if rdap_status == "active":
        return "ok"
    first, *rest = rdap_status.split()
    return first + "".join(word.capitalize() for word in rest)


def _date(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def format_answer(data: RegistrationData, *, whois_server: str, now: datetime) -> str:
    registrar, person = data.registrar, data.registrant
    lines = [
        ("Domain Name", data.ldh_name.upper()),
        ("Registry Domain ID", data.handle),
        ("Registrar WHOIS Server", whois_server),
        ("Registrar URL", registrar.url or ""),
        ("Updated Date", _date(data.updated_at)),
        ("Creation Date", _date(data.created_at)),
        ("Registrar Registration Expiration Date", _date(data.expires_at)),
        ("Registrar", registrar.name),
        ("Registrar IANA ID", registrar.iana_id),
        ("Registrar Abuse Contact Email", registrar.abuse_email),
        ("Registrar Abuse Contact Phone", registrar.abuse_phone or ""),
        ("Reseller", data.reseller.name + (f" ({data.reseller.url})" if data.reseller.url
                                           else "")),
    ]
    lines += [("Domain Status", f"{epp_status(s)} https://icann.org/epp#{epp_status(s)}")
              for s in data.status]
    if person is None:
        lines += [("Registry Registrant ID", REDACTED), ("Registrant Name", REDACTED),
                  ("Registrant Organization", ""), ("Registrant Street", REDACTED),
                  ("Registrant City", REDACTED), ("Registrant State/Province", ""),
                  ("Registrant Postal Code", REDACTED),
                  ("Registrant Country", data.registrant_country or ""),
                  ("Registrant Phone", REDACTED),
                  # The web form that reaches the registrant (ICANN Registration Data
                  # Policy), never the address.
                  ("Registrant Email", data.registrant_contact_url or REDACTED)]
    else:
        lines += [("Registry Registrant ID", person.handle), ("Registrant Name", person.name),
                  ("Registrant Organization", person.organization or ""),
                  ("Registrant Street", person.street), ("Registrant City", person.city),
                  ("Registrant State/Province", ""),
                  ("Registrant Postal Code", person.postal_code),
                  ("Registrant Country", person.country), ("Registrant Phone", person.phone),
                  ("Registrant Email", person.email)]
    lines += [("Name Server", host.upper()) for host in data.nameservers]
    lines.append(("DNSSEC", "signedDelegation" if data.ds else "unsigned"))
    lines.append(("URL of the ICANN Whois Inaccuracy Complaint Form", "https://www.icann.org/wicf/"))
    text = "\r\n".join(f"{key}: {one_line(value)}".rstrip() for key, value in lines)
    return (text + f"\r\n>>> Last update of WHOIS database: {_date(now)} <<<\r\n\r\n"
            "For more information on Whois status codes, please visit https://icann.org/epp\r\n"
            "The data is provided for lawful purposes only; bulk queries are not permitted.\r\n")


def no_match(query: str) -> str:
    return f'No match for "{one_line(query.upper())}".\r\n>>> Last update of WHOIS database: ' \
           f'{_date(datetime.now(UTC))} <<<\r\n'
