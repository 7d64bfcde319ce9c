"""Finding out what became of a command whose answer was lost, by looking at the registry
(EPP has no "what happened to clTRID X" query, and registries do not promise to answer a
repeated clTRID from a record), and turning a desired state into an EPP update.

Each command leaves a mark ``info`` can see: a created name is ours and was created after
we sent the command, a renewal moved the expiry by the years asked for, a restore left
redemption, a registrant change shows the new registrant, an update shows the values
asked for, a deleted name is gone or pending deletion, a transfer request is pending with
us as the gaining side. ``outcome`` returns None when the mark is absent (not carried out:
send it again) and raises ``RegistryTimeout`` when it cannot tell."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from lxml import etree

from reseller.registry.epp import commands as cmd
from reseller.registry.epp import journal
from reseller.registry.epp.profiles import Profile
from reseller.registry.errors import RegistryTimeout
from reseller.registry.models import DELETED, PENDING_DELETE, DomainInfo, Outcome, in_redemption

if TYPE_CHECKING:
    from reseller.registry.epp.adapter import EppRegistry

CLOCK_SKEW = timedelta(minutes=10)  # registry clocks differ from ours
DONE = "Command completed successfully (resolved from the registry's state)"


def outcome(registry: EppRegistry, entry: journal.Entry) -> Outcome | None:
    check = CHECKS.get(entry.command)
    if check is None:
        raise RegistryTimeout(f"cannot tell what became of {entry.command} {entry.id}")
    return check(registry, entry)


def _done(result: object) -> Outcome:
    return Outcome(ok=True, result=result, code=1000, message=DONE)


def _created(registry: EppRegistry, entry: journal.Entry) -> Outcome | None:
    found = registry.info(entry.name)
    if found is None:
        return None
    if found.sponsor != registry.registrar_id:
        return Outcome(ok=False, result=None, code=2302, message="Object exists")
    if found.created_at < entry.sent_at - CLOCK_SKEW:
        return Outcome(ok=False, result=None, code=2302, message="Object exists (ours, "
                       "registered before this command)")
    return _done(found)


def _renewed(registry: EppRegistry, entry: journal.Entry) -> Outcome | None:
    found = _ours(registry, entry)
    expected = datetime.fromisoformat(entry.params["expected_expiry"]).date()
    current = datetime.fromisoformat(entry.params["current_expiry"]).date()
    if found.expires_at.date() == expected:
        return _done(found)
    if found.expires_at.date() == current:
        return None
    raise RegistryTimeout(f"renewal {entry.id}: expiry {found.expires_at.date()} is neither "
                          f"{current} nor {expected}")


def _restored(registry: EppRegistry, entry: journal.Entry) -> Outcome | None:
    found = _ours(registry, entry)
    return None if in_redemption(found.statuses) else _done(found)


def _registrant_changed(registry: EppRegistry, entry: journal.Entry) -> Outcome | None:
    found = _ours(registry, entry)
    return _done(found) if found.registrant == entry.params["registrant"] else None


def _updated(registry: EppRegistry, entry: journal.Entry) -> Outcome | None:
    found = _ours(registry, entry)
    for key, value in entry.params.get("wanted", {}).items():
        have = getattr(found, key)
        if key in ("nameservers", "ds"):
            same = _as_set(have) == _as_set(value)
        else:
            same = (have or None) == (value or None)
        if not same:
            return None
    return _done(found)


def _auth_code_set(registry: EppRegistry, entry: journal.Entry) -> Outcome | None:
    code = registry.current_auth_code(entry.name)
    return _done(code) if code == entry.params.get("auth_code") else None


def _deleted(registry: EppRegistry, entry: journal.Entry) -> Outcome | None:
    found = registry.info(entry.name)
    if found is None or found.sponsor != registry.registrar_id:
        return _done(DELETED)
    return _done(PENDING_DELETE) if in_redemption(found.statuses) else None


def _transfer_requested(registry: EppRegistry, entry: journal.Entry) -> Outcome | None:
    found = registry.transfer_query(name=entry.name)
    if found is None or found.gaining != registry.registrar_id \
            or found.requested_at < entry.sent_at - CLOCK_SKEW:
        return None
    return _done(found)


def _ours(registry: EppRegistry, entry: journal.Entry) -> DomainInfo:
    found = registry.info(entry.name)
    if found is None or found.sponsor != registry.registrar_id:
        raise RegistryTimeout(f"{entry.command} {entry.id}: {entry.name} is not ours any more")
    return found


def ds_key(record: dict) -> tuple:
    """A DS record compared as the registry stores it (numbers, upper-case digest)."""
    return (int(record["key_tag"]), int(record["algorithm"]), int(record["digest_type"]),
            str(record["digest"]).upper())


def _as_set(values) -> set:
    return {ds_key(v) if isinstance(v, dict) else str(v).lower() for v in values or ()}


CHECKS = {"create": _created, "renew": _renewed, "restore": _restored,
          "change_registrant": _registrant_changed, "update": _updated,
          "auth_code": _auth_code_set, "delete": _deleted,
          "transfer_request": _transfer_requested}


# -- desired state → EPP update ------------------------------------------------------------
STATUS_FIELDS = {"locked": "clientTransferProhibited", "hold": "clientHold"}


def update_frames(profile: Profile, current: DomainInfo, wanted: dict
                  ) -> tuple[etree._Element | None, etree._Element | None]:
    """The ``<domain:update>`` body and ``<secDNS:update>`` that take ``current`` to
    ``wanted`` (None where nothing changes)."""
    add_ns = rem_ns = ()
    if "nameservers" in wanted:
        want = [n.lower() for n in wanted["nameservers"]]
        add_ns = [n for n in want if n not in current.nameservers]
        rem_ns = [n for n in current.nameservers if n not in want]
    add_contacts, rem_contacts = {}, {}
    for role in ("admin", "tech"):
        if role in wanted and role in profile.roles and wanted[role] != getattr(current, role):
            if getattr(current, role):
                rem_contacts[role] = getattr(current, role)
            if wanted[role]:
                add_contacts[role] = wanted[role]
    add_statuses, rem_statuses = [], []
    for key, status in STATUS_FIELDS.items():
        if key in wanted and bool(wanted[key]) != (status in current.statuses):
            (add_statuses if wanted[key] else rem_statuses).append(status)
    secdns = None
    if "ds" in wanted:
        have, want = _as_set(current.ds), _as_set(wanted["ds"])
        secdns = cmd.secdns_update(add=[d for d in wanted["ds"] if ds_key(d) not in have],
                                   remove=[d for d in current.ds if ds_key(d) not in want])
    registrant = wanted.get("registrant")
    registrant = registrant if registrant and registrant != current.registrant else None
    if not (add_ns or rem_ns or add_contacts or rem_contacts or add_statuses or rem_statuses
            or registrant):
        return None, secdns
    return cmd.domain_update(current.name, add_ns=add_ns, rem_ns=rem_ns,
                             add_contacts=add_contacts, rem_contacts=rem_contacts,
                             add_statuses=add_statuses, rem_statuses=rem_statuses,
                             registrant=registrant), secdns
