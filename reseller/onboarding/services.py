"""Apply, approve, reject. Joining is free: approval creates the account, nothing is charged.
An application whose business ID an existing reseller or another pending application
already has is flagged to the operator (``duplicates``)."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from reseller.accounts.errors import EmailTaken
from reseller.accounts.models import Reseller, User
from reseller.accounts.services import find_user_by_email
from reseller.core.clock import clock
from reseller.core.errors import Conflict, NotFound
from reseller.core.extensions import db
from reseller.onboarding.models import Application

# The applicant's e-mails (queued in the caller's transaction, sent after commit).
from reseller.onboarding.notices import send_rejection as send_rejection
from wallet import services as wallet_services


class ApplicationNotFound(NotFound):
    code = "application_not_found"
    title = _l("No such application")


class ApplicationDecided(Conflict):
    code = "application_decided"
    title = _l("The application has already been decided")


def submit_application(**data) -> Application:
    application = Application(status="pending", **data)
    db.session.add(application)
    db.session.flush()
    return application


def list_applications(*, status: str | None = None) -> list[Application]:
    stmt = sa.select(Application).order_by(Application.created_at.desc(), Application.id.desc())
    if status:
        stmt = stmt.where(Application.status == status)
    return list(db.session.scalars(stmt))


def get_application(application_id: int) -> Application:
    application = db.session.get(Application, application_id)
    if application is None:
        raise ApplicationNotFound()
    return application


@dataclass(frozen=True)
class Duplicate:
    """Someone else with the same business ID in the same country."""

    kind: str  # "reseller" | "application"
    id: int
    company_name: str
    status: str


def _id_key(column):
    """A business ID compared without its separators and case: 2464491-9 = 24644919."""
    return sa.func.lower(sa.func.replace(sa.func.replace(column, "-", ""), " ", ""))


def _plain_id(value: str) -> str:
    return value.replace("-", "").replace(" ", "").lower()


def duplicates(applications: list[Application]) -> dict[int, list[Duplicate]]:
    """For each application, the resellers and pending applications (other than itself and
    the reseller it became) with its business ID in its country; two queries in all."""
    keys = {_plain_id(a.business_id) for a in applications}
    if not keys:
        return {}
    resellers = db.session.execute(sa.select(
        Reseller.id, Reseller.company_name, Reseller.country, Reseller.status,
        _id_key(Reseller.business_id)).where(_id_key(Reseller.business_id).in_(keys))).all()
    pending = db.session.execute(sa.select(
        Application.id, Application.company_name, Application.country, Application.status,
        _id_key(Application.business_id)).where(
            Application.status == "pending",
            _id_key(Application.business_id).in_(keys))).all()
    found: dict[int, list[Duplicate]] = {}
    for application in applications:
        key = (application.country, _plain_id(application.business_id))
        same = [Duplicate("reseller", *row[:2], row[3]) for row in resellers
                if (row[2], row[4]) == key and row[0] != application.reseller_id]
        same += [Duplicate("application", *row[:2], row[3]) for row in pending
                 if (row[2], row[4]) == key and row[0] != application.id]
        if same:
            found[application.id] = same
    return found


def _pending(application_id: int) -> Application:
    application = db.session.get(Application, application_id, with_for_update=True)
    if application is None:
        raise ApplicationNotFound()
    if application.status != "pending":
        raise ApplicationDecided()
    return application


def approve_application(*, application_id: int, staff_id: int, note: str | None = None
                        ) -> tuple[Reseller, User]:
    """Create the reseller and its owner (who sets a password from an emailed link)."""
    application = _pending(application_id)
    if find_user_by_email(application.contact_email):
        raise EmailTaken()
    reseller = Reseller(
        company_name=application.company_name, country=application.country,
        business_id=application.business_id, vat_id=application.vat_id,
        street=application.street, city=application.city,
        postal_code=application.postal_code, website=application.website,
        contact_email=application.contact_email, billing_email=application.contact_email,
        contact_phone=application.contact_phone, language=application.language,
        tier="standard", status="active",
    )
    db.session.add(reseller)
    db.session.flush()
    wallet_services.open_wallet(reseller_id=reseller.id, payment_mode="prepaid")
    owner = User(reseller_id=reseller.id, email=application.contact_email,
                 name=application.contact_name, role="owner", is_operator=False,
                 language=application.language)
    db.session.add(owner)
    application.status = "approved"
    application.reseller_id = reseller.id
    application.decided_by_id = staff_id
    application.decided_at = clock.now()
    application.decision_note = note
    db.session.flush()
    return reseller, owner


def reject_application(*, application_id: int, staff_id: int, note: str) -> Application:
    application = _pending(application_id)
    application.status = "rejected"
    application.decided_by_id = staff_id
    application.decided_at = clock.now()
    application.decision_note = note
    db.session.flush()
    return application
