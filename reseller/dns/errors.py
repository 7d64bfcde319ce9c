"""Refusals of the DNS area, each with a stable code."""

from flask_babel import lazy_gettext as _l

from reseller.core.errors import Conflict, DomainError, NotFound


class ZoneNotFound(NotFound):
    code = "zone_not_found"
    title = _l("No DNS zone by that name")


class ZoneTaken(Conflict):
    code = "zone_taken"
    title = _l("Another account already hosts this zone")


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
