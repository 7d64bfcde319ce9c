"""Messages that come from libraries (marshmallow) or are built at run time.

Listed here only so ``pybabel extract`` puts them in the catalogues; error rendering
passes every message through gettext.
"""

from flask_babel import lazy_gettext as _

MESSAGES = [
    _("Missing data for required field."),
    _("Unknown field."),
    _("Not a valid string."),
    _("Not a valid integer."),
    _("Not a valid number."),
    _("Not a valid boolean."),
    _("Not a valid list."),
    _("Not a valid email address."),
    _("Not a valid URL."),
    _("Not a valid datetime."),
    _("Not a valid date."),
    _("Field may not be null."),
    _("Invalid input type."),
    _("Invalid value."),
    _("Must be one of: fi, sv, en."),
    _("Only companies in the EU, the EEA or the United Kingdom can become resellers."),
    _("Business ID is required."),
    _("Not a valid business ID."),
    _("Not a valid business ID for the country."),
    _("The VAT ID belongs to another country."),
    _("Not a valid VAT ID."),
    _("Use the form +CC.NUMBER, e.g. +358.401234567."),
    _("Shorter than minimum length 2."),
    _("Length must be 2."),
]

# Email subjects built with the operator's name at run time.
SUBJECTS = [
    _("Your %(operator)s reseller account"),
    _("Reset your %(operator)s password"),
    _("Confirm your new %(operator)s sign-in address"),
    _("Your %(operator)s sign-in address was changed"),
    _("Your %(operator)s password was changed"),
]
