"""RFC 3915 restore reports built from our records: what the name held when it was deleted
(registrant, contacts, nameservers, DNSSEC, dates — handles only, no personal data), what it
holds once restored, when it was deleted and restored, why, and the two statements the
registry-registrar agreements require."""

from __future__ import annotations

from typing import Any

from reseller.core.clock import clock
from reseller.domains.models import Domain
from reseller.registry.models import RestoreReport

# The statements of RFC 3915 section 4.2.5's example, which gTLD registry agreements
# (Verisign, PIR, ...) require word for word.
STATEMENTS = (
    "This registrar has not restored the Registered Name in order to assume the rights to "
    "use or sell the Registered Name for itself or for any third party.",
    "The information in this report is true to best of this registrar's knowledge, and "
    "this registrar acknowledges that intentionally supplying false information in this "
    "report shall constitute an incident of material breach of the Registry-Registrar "
    "Agreement.",
)
DEFAULT_REASON = "Registrant error: the registrant asked the registrar to restore the name."


def registration_data(domain: Domain) -> str:
    """The registration as our records hold it, one ``key: value`` per line."""
    lines = [("Domain Name", domain.name), ("Registry Domain ID", domain.roid or "-"),
             ("Registrant", domain.registrant.handle if domain.registrant else "-"),
             ("Admin", domain.admin.handle if domain.admin else "-"),
             ("Tech", domain.tech.handle if domain.tech else "-"),
             ("Name Servers", " ".join(domain.nameservers or []) or "-"),
             ("DNSSEC", f"{len(domain.ds or [])} DS record(s)" if domain.ds else "unsigned"),
             ("Creation Date", domain.created_at.isoformat()),
             ("Expiration Date", domain.expires_at.isoformat())]
    return "\n".join(f"{key}: {value}" for key, value in lines)


def report_for(domain: Domain, *, reason: str | None = None) -> dict[str, Any]:
    """The report for restoring ``domain`` (in redemption), stored with its order. The name
    comes back as it was, so the post-restore data is the pre-delete data."""
    data = registration_data(domain)
    return RestoreReport(
        pre_data=data, post_data=data, deleted_at=domain.ended_at or domain.expires_at,
        restored_at=clock.now(), reason=(reason or DEFAULT_REASON).strip(),
        statements=STATEMENTS,
        other=f"Deleted by this registrar on {(domain.ended_at or domain.expires_at).date()}; "
              "restored at the registrant's request.").as_dict()


def report_from(stored: dict[str, Any] | None) -> RestoreReport | None:
    """The stored report, restored now (its ``resTime`` is when it is sent)."""
    if not stored:
        return None
    return RestoreReport.from_dict({**stored, "restored_at": clock.now().isoformat()})
