"""Every model, imported in one place so Alembic and ``create_all`` see the whole schema."""

from reseller.accounts.models import AccessToken, OAuthClient, Reseller, User  # noqa: F401
from reseller.api.idempotency import IdempotencyRecord  # noqa: F401
from reseller.catalog.models import Price, RetailPrice, Tier  # noqa: F401
from reseller.core.clock import SandboxClock  # noqa: F401
from reseller.core.events import Event  # noqa: F401
from reseller.core.throttle import AuthThrottle  # noqa: F401
from reseller.dns.models import AcmeKey, Record, VanityNameservers, Zone, ZoneChange  # noqa: F401
from reseller.domains.models import Contact, Domain, Host, Order  # noqa: F401
from reseller.forwarding.models import Forward  # noqa: F401
from reseller.onboarding.models import Application  # noqa: F401
from reseller.registry.epp.journal import EppCommand  # noqa: F401
from reseller.registry.sandbox_models import (  # noqa: F401
    SandboxContact,
    SandboxDomain,
    SandboxHost,
    SandboxMessage,
    SandboxTransaction,
)
from reseller.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint  # noqa: F401
from wallet.invoices.models import Invoice, InvoiceDocument, InvoiceLine, NumberSeries  # noqa: F401
from wallet.models import (  # noqa: F401
    BankEntry,
    Hold,
    LedgerEntry,
    LedgerTransfer,
    PaymentNotice,
    Purchase,
    TopUp,
    Wallet,
    WalletChange,
    Withdrawal,
)
from whitelabel.models import (  # noqa: F401
    Brand,
    LinkToken,
    OutboxMessage,
    RegistrantVerification,
    ReminderSent,
    RenewalWatch,
    SenderDomain,
)
