"""A fresh installation bootstraps without the demo: `flask staff create`, `flask catalog
install-defaults`, the console's tier and price pages, and the first-run checklist."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa
from werkzeug.security import check_password_hash

from reseller.accounts.models import User
from reseller.catalog import services as catalog
from reseller.catalog.models import Price, Tier
from reseller.core.clock import clock
from reseller.core.extensions import db

STAFF_PASSWORD = "a long staff password"


def _cli(app, *args: str, input: str | None = None):
    return app.test_cli_runner().invoke(args=list(args), input=input)


def _staff_client(client, factory):
    staff = factory.operator()
    client.post("/login", data={"email": staff.email, "password": "operator password"})
    return client


def _tiers() -> dict[str, Tier]:
    db.session.expire_all()
    return {tier.code: tier for tier in catalog.list_tiers()}


# -- flask staff create ------------------------------------------------------------------

@pytest.mark.smoke
def test_staff_create_asks_twice_and_the_login_works(app, client, db_session):
    result = _cli(app, "staff", "create", "Ops@Operator.example", "--name", "Olli Operaattori",
                  input=f"{STAFF_PASSWORD}\n{STAFF_PASSWORD}\n")
    assert result.exit_code == 0, result.output
    assert STAFF_PASSWORD not in result.output  # the prompt hides it
    user = db.session.scalar(sa.select(User).where(User.email == "ops@operator.example"))
    assert user.is_operator and user.role == "superuser" and user.reseller_id is None
    assert check_password_hash(user.password_hash, STAFF_PASSWORD)
    client.post("/login", data={"email": "ops@operator.example", "password": STAFF_PASSWORD})
    assert client.get("/console/setup").status_code == 200


def test_staff_create_refuses_mismatched_or_short_passwords(app, db_session):
    mismatch = _cli(app, "staff", "create", "a@operator.example",
                    input=f"{STAFF_PASSWORD}\nsomething else entirely\n")
    assert mismatch.exit_code != 0
    short = _cli(app, "staff", "create", "b@operator.example", input="short\nshort\n")
    assert short.exit_code == 1 and "at least 12" in short.output
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User)
                             .where(User.email.like("%@operator.example"))) == 0


def test_staff_create_generate_prints_the_password_exactly_once(app, db_session):
    result = _cli(app, "staff", "create", "gen@operator.example", "--generate")
    assert result.exit_code == 0, result.output
    password = result.output.split("password: ", 1)[1].strip()
    assert len(password) >= 20 and result.output.count(password) == 1
    user = db.session.scalar(sa.select(User).where(User.email == "gen@operator.example"))
    assert check_password_hash(user.password_hash, password)


def test_staff_create_refuses_an_existing_email(app, db_session, factory):
    staff = factory.operator()
    result = _cli(app, "staff", "create", staff.email.upper(), "--generate")
    assert result.exit_code == 1 and "already exists" in result.output
    assert "password:" not in result.output


def test_staff_create_refuses_a_bad_email(app, db_session):
    result = _cli(app, "staff", "create", "not-an-address", "--generate")
    assert result.exit_code == 1 and "email" in result.output


# -- flask catalog install-defaults --------------------------------------------------------

@pytest.mark.smoke
def test_install_defaults_creates_tiers_and_no_prices_idempotently(app, db_session):
    first = _cli(app, "catalog", "install-defaults")
    assert first.exit_code == 0, first.output
    assert ".fi" in first.output and "standard (new)" in first.output
    tiers = _tiers()
    assert set(tiers) == {"standard", "plus", "pro"}
    assert tiers["plus"].rate_limit == "plus"
    second = _cli(app, "catalog", "install-defaults")
    assert second.exit_code == 0 and "(new)" not in second.output
    assert len(_tiers()) == 3
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Price)) == 0
    assert "prices still to set" in second.output


def test_install_defaults_keeps_tiers_the_operator_changed(app, db_session):
    _cli(app, "catalog", "install-defaults")
    with db.session.begin_nested():
        catalog.update_tier(code="plus", name="Kumppani", threshold=Decimal("5000.00"),
                            rate_limit="enterprise", rate_limits={"enterprise": "unlimited"})
    _cli(app, "catalog", "install-defaults")
    plus = _tiers()["plus"]
    assert (plus.name, plus.threshold, plus.rate_limit) == ("Kumppani", Decimal("5000.00"),
                                                           "enterprise")


# -- console: tiers ------------------------------------------------------------------------

def test_staff_create_and_edit_tiers(client, factory):
    console = _staff_client(client, factory)
    created = console.post("/console/tiers", data={
        "action": "create", "code": "gold", "name": "Gold", "threshold": "50000",
        "rate_limit": "enterprise"}, follow_redirects=True)
    assert created.status_code == 200 and "Gold" in created.get_data(as_text=True)
    gold = _tiers()["gold"]
    assert (gold.threshold, gold.rate_limit) == (Decimal("50000.00"), "enterprise")
    edited = console.post("/console/tiers", data={
        "action": "update", "code": "gold", "name": "Kulta", "threshold": "40000,50",
        "rate_limit": "pro"})
    assert edited.status_code == 302
    gold = _tiers()["gold"]
    assert (gold.name, gold.threshold, gold.rate_limit) == ("Kulta", Decimal("40000.50"), "pro")


@pytest.mark.parametrize("form, field", [
    ({"code": "Gold!", "name": "Gold", "threshold": "1", "rate_limit": "standard"}, "code"),
    ({"code": "gold", "name": "", "threshold": "1", "rate_limit": "standard"}, "name"),
    ({"code": "gold", "name": "Gold", "threshold": "lots", "rate_limit": "standard"},
     "threshold"),
    ({"code": "gold", "name": "Gold", "threshold": "-1", "rate_limit": "standard"},
     "threshold"),
    ({"code": "gold", "name": "Gold", "threshold": "1.234", "rate_limit": "standard"},
     "threshold"),
    ({"code": "gold", "name": "Gold", "threshold": "1", "rate_limit": "platinum"},
     "rate_limit"),
])
def test_bad_tier_is_a_form_error_not_a_500(client, factory, form, field):
    console = _staff_client(client, factory)
    page = console.post("/console/tiers", data={"action": "create", **form})
    assert page.status_code == 422
    assert f'data-field="{field}"' in page.get_data(as_text=True)
    assert "gold" not in _tiers()


def test_a_duplicate_tier_code_is_a_form_error(client, factory):
    console = _staff_client(client, factory)
    _cli(client.application, "catalog", "install-defaults")
    page = console.post("/console/tiers", data={"action": "create", "code": "plus",
                                                "name": "Again", "threshold": "1",
                                                "rate_limit": "standard"})
    assert page.status_code == 422 and 'data-field="code"' in page.get_data(as_text=True)
    assert _tiers()["plus"].name == "Plus"


def test_editing_an_unknown_tier_is_404(client, factory):
    console = _staff_client(client, factory)
    page = console.post("/console/tiers", data={"action": "update", "code": "nope",
                                                "name": "X", "threshold": "1",
                                                "rate_limit": "standard"})
    assert page.status_code == 404


def test_tier_pages_are_staff_only(client, factory):
    owner = factory.user(role="owner")
    client.post("/login", data={"email": owner.email, "password": "correct horse battery"})
    for path in ("/console/tiers", "/console/prices", "/console/setup"):
        assert client.get(path).status_code in (302, 403, 404)


# -- console: prices -----------------------------------------------------------------------

def test_an_empty_catalogue_says_to_create_tiers_first(client, factory):
    page = _staff_client(client, factory).get("/console/prices?tld=fi")
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and "install-defaults" in text and 'name="amount:' not in text


def test_staff_fill_a_tlds_price_grid_and_the_price_applies(client, factory):
    console = _staff_client(client, factory)
    _cli(client.application, "catalog", "install-defaults")
    grid = console.get("/console/prices?tld=fi").get_data(as_text=True)
    assert 'name="amount:register:prepaid:standard"' in grid
    assert 'name="amount:restore:' not in grid  # .fi has no restore
    today = clock.today()
    form = {"tld": "fi", "effective_from": today.isoformat()}
    for operation in ("register", "renew", "transfer"):
        for price_list in ("prepaid", "postpaid"):
            for tier in ("standard", "plus", "pro"):
                form[f"amount:{operation}:{price_list}:{tier}"] = "9,90"
    saved = console.post("/console/prices", data=form)
    assert saved.status_code == 302
    assert catalog.list_amount(tld="fi", operation="renew", price_list="postpaid",
                               tier="pro") == Decimal("9.90")
    assert not [m for m in catalog.missing_prices() if m[0] == "fi"]


@pytest.mark.parametrize("cell, value, field", [
    ("amount:register:prepaid:standard", "abc", "register/prepaid/standard"),
    ("amount:register:prepaid:standard", "-1", "register/prepaid/standard"),
    ("amount:register:prepaid:standard", "1.999", "register/prepaid/standard"),
    ("amount:register:prepaid:nosuch", "5", "register/prepaid/nosuch"),
    ("amount:register:credit:standard", "5", "register/credit/standard"),
    ("amount:restore:prepaid:standard", "5", "restore/prepaid/standard"),
])
def test_bad_prices_are_form_errors_and_save_nothing(client, factory, cell, value, field):
    console = _staff_client(client, factory)
    _cli(client.application, "catalog", "install-defaults")
    page = console.post("/console/prices", data={
        "tld": "fi", "effective_from": clock.today().isoformat(),
        "amount:renew:prepaid:standard": "9.90", cell: value})
    assert page.status_code == 422
    text = page.get_data(as_text=True)
    assert f'data-field="{field}"' in text
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Price)) == 0


def test_a_past_date_or_no_amount_is_a_form_error(client, factory):
    console = _staff_client(client, factory)
    _cli(client.application, "catalog", "install-defaults")
    past = (clock.today() - timedelta(days=1)).isoformat()
    for form, field in (
        ({"effective_from": past, "amount:renew:prepaid:standard": "9.90"}, "effective_from"),
        ({"effective_from": "31.12.2099", "amount:renew:prepaid:standard": "9"},
         "effective_from"),
        ({"effective_from": clock.today().isoformat()}, "amounts"),
    ):
        page = console.post("/console/prices", data={"tld": "fi", **form})
        assert page.status_code == 422 and f'data-field="{field}"' in page.get_data(as_text=True)


def test_an_unknown_tld_price_page_is_404(client, factory):
    console = _staff_client(client, factory)
    assert console.get("/console/prices?tld=xyz").status_code == 404
    assert console.post("/console/prices", data={"tld": "xyz"}).status_code == 404


# -- console: the first-run checklist -------------------------------------------------------

def _checklist(console) -> dict[str, str]:
    import re

    text = console.get("/console/setup").get_data(as_text=True)
    return dict(re.findall(r'data-item="(\w+)" data-done="(yes|no)"', text))


def test_the_checklist_follows_the_bootstrap(client, factory):
    console = _staff_client(client, factory)
    items = _checklist(console)
    assert items["staff"] == "yes"
    assert items["catalogue"] == "no" and items["prices"] == "no"
    # The suite runs the sandbox: every external system is still the demo one.
    for key in ("registry", "payments", "mail", "dns", "operator"):
        assert items[key] == "no"
    home = console.get("/console/").get_data(as_text=True)
    assert "/console/setup" in home and "still missing" in home
    _cli(client.application, "catalog", "install-defaults")
    assert _checklist(console)["catalogue"] == "yes"
    with db.session.begin_nested():
        for tld in ("fi", "se", "nu", "com", "net", "org", "eu"):
            catalog.set_prices(tld=tld, effective_from=clock.today(), amounts={
                (op, pl, tier): Decimal("10.00") for op in ("register", "renew", "transfer")
                for pl in ("prepaid", "postpaid") for tier in ("standard", "plus", "pro")})
    assert _checklist(console)["prices"] == "yes"


def test_the_checklist_sees_production_settings(app, db_session):
    from reseller.console import setup

    with app.app_context():
        production = {**app.config, "REGISTRY_ADAPTER": "epp", "PAYMENTS_ADAPTER": "live",
                      "CARD_API_KEY": "sk_live_x", "CARD_WEBHOOK_SECRET": "whsec_x",
                      "MAIL_ADAPTER": "smtp", "NEUTRAL_SENDER_DOMAIN": "mail.dns-palvelu.fi",
                      "NEUTRAL_DKIM_KEY_FILE": "/etc/tunnus/dkim.pem",
                      "DNS_ADAPTER": "knot", "DNS_NAMESERVERS": ["ns1.dns-palvelu.fi"],
                      "DNS_NAMESERVER_ADDRESSES": ["203.0.113.53"],
                      "BASE_URL": "https://tunnus.nimikauppa.fi"}
        items = {item.key: item for item in setup.checklist(
            config=production, registry_tlds={"fi", "se", "nu", "com", "net", "org"})}
    assert items["registry"].done is False and ".eu" in str(items["registry"].detail)
    assert items["payments"].done and "card" in str(items["payments"].detail)
    assert items["mail"].done and items["dns"].done and items["base_url"].done
    assert items["operator"].done is False  # the demo operator's details are still in use
