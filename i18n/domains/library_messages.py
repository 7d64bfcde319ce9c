"""Domain messages raised as plain strings (schema validators, ValidationFailed field
errors) and translated when rendered; listed so ``pybabel extract`` finds them."""

from flask_babel import lazy_gettext as _

MESSAGES = [
    _("Use the form +CC.NUMBER, e.g. +358.401234567."),
    _("Start with the country code, e.g. +358 40 1234567."),
    _("This is not a phone number we recognise. Write it as +358 40 1234567 or, for the "
      "contact's country, 040 1234567."),
    _("Use an ISO 3166-1 alpha-2 country code, e.g. FI."),
    _("Must be a whole number of years."),
    _("Use true or false."),
    _("Use an ISO 8601 date."),
    _("Must be prepaid or postpaid."),
    _("Unknown tier."),
    _("Must be zero or more, in whole cents."),
    _("A price cannot change in the past."),
    _("Must be zero or more."),
    _("Must be between 0 and 1000."),
    _("Give a name of 1–60 characters."),
    _("Unknown rate-limit tier."),
    _("Use 1–20 lower-case letters, digits or hyphens, starting with a letter."),
    _("A tier with this code already exists."),
    _("Give at least one amount."),
    _('Give a decimal string with at most two decimals, e.g. "250.00".'),
]
