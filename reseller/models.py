"""Every model, imported in one place so Alembic and ``create_all`` see the whole schema."""

from reseller.accounts.models import AccessToken, OAuthClient, Reseller, User  # noqa: F401
from reseller.core.clock import SandboxClock  # noqa: F401
from reseller.core.events import Event  # noqa: F401
from reseller.onboarding.models import Application  # noqa: F401
from whitelabel.models import OutboxMessage  # noqa: F401
from wallet.invoices.models import Invoice, InvoiceDocument, InvoiceLine, NumberSeries  # noqa: F401
