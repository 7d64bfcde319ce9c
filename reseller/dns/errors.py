"""Refusals of the DNS area, each with a stable code."""

from flask_babel import lazy_gettext as _l

from reseller.core.errors import Conflict, DomainError, Forbidden, NotFound


class ZoneNotFound(NotFound):
    code = "zone_not_found"
    title = _l("No DNS zone by that name")


class ZoneHeldElsewhere(Forbidden):
    """The name (or a domain above it) is registered or hosted in another account: 403,
    like every other reseller's object (never a 2xx, never whose). Says nothing about
    whose: only what public DNS and WHOIS show anyway."""

    code = "zone_held_elsewhere"
    title = _l("This name is registered or hosted in another account")


class ZoneInsideOtherZone(Forbidden):
    code = "zone_inside_other_zone"
    title = _l("This name is inside a zone hosted in another account")


class PublicSuffix(DomainError):
    status = 422
    code = "public_suffix"
    title = _l("A public suffix cannot be hosted")


class ZoneNotAllowed(DomainError):
    status = 422
    code = "zone_not_allowed"
    title = _l("This name cannot be hosted")


class ZonePending(Conflict):
    code = "zone_pending"
    title = _l("The zone is waiting for proof that you control the name")


class InvalidZoneName(DomainError):
    status = 422
    code = "invalid_zone_name"
    title = _l("Not a valid domain name")


class VanityNameserversRefused(DomainError):
    status = 422
    code = "vanity_nameservers_refused"
    title = _l("These nameserver names cannot be used")


class VanityNotVerified(Conflict):
    code = "vanity_not_verified"
    title = _l("The nameserver names do not resolve to the DNS service addresses yet")


class AcmeKeyNotFound(NotFound):
    code = "acme_key_not_found"
    title = _l("No such ACME key")


class ForwardNotFound(NotFound):
    code = "forward_not_found"
    title = _l("No URL forward for that host")


class ZoneKeyNotFound(NotFound):
    code = "zone_key_not_found"
    title = _l("No such zone key")


class ZoneKeyLimit(Conflict):
    code = "zone_key_limit"
    title = _l("The zone has as many keys as it may have")


class ZoneChanged(DomainError):
    """The zone is no longer the version the change was made against (the client area's
    form carries the serial it showed, as the API's ``If-Match`` carries the ETag)."""

    status = 412
    code = "precondition_failed"
    title = _l("The zone changed since this page was loaded")
