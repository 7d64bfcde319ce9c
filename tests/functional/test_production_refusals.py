"""Production refuses the demo: demo data, the time machine and the /_dev/ pages, each
with a message that says why; and a production app really starts with valid settings."""

from __future__ import annotations

import pytest

from reseller.core.config import ConfigError
from tests.support.production import production_app, production_config

pytestmark = pytest.mark.postgres_only  # production refuses SQLite


@pytest.fixture(scope="module")
def prod(database_url, instance_dir, app):
    with production_app(database_url, instance_dir) as application:
        yield application


def test_demo_load_is_refused_in_production_and_creates_nothing(prod):
    from reseller.accounts.models import User
    from reseller.core.extensions import db

    result = prod.test_cli_runner().invoke(args=["demo", "load"])
    assert result.exit_code == 1
    assert "flask demo load works only in sandbox mode (TUNNUS_ENV=sandbox)" in result.output
    with prod.app_context():
        assert db.session.query(User).filter(User.email.like("%.example")).count() == 0
        db.session.remove()


@pytest.mark.parametrize("args", [["clock", "set", "2030-01-01"], ["clock", "advance", "30d"],
                                  ["clock", "reset"]])
def test_the_time_machine_is_refused_in_production(prod, args):
    result = prod.test_cli_runner().invoke(args=args)
    assert result.exit_code == 1
    assert "the time machine (flask clock) works only in sandbox mode" in result.output


def test_dev_outbox_is_refused_in_production_with_a_clear_problem(prod):
    response = prod.test_client().get("/_dev/outbox")
    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"
    assert "only in sandbox mode" in response.get_json()["detail"]


def test_demo_data_refuses_to_load_outside_sandbox_even_when_called_directly(prod):
    from reseller import demo

    with pytest.raises(demo.DemoRefused):
        demo.load(prod.config)


def test_create_app_refuses_production_with_a_demo_value(database_url, instance_dir):
    from reseller.app import create_app

    config = production_config(database_url, instance_dir,
                               OPERATOR_IBAN="FI2112345600000785")
    with pytest.raises(ConfigError) as refused:
        create_app(config)
    assert str(refused.value).splitlines()[1:] == [
        "  OPERATOR_IBAN is still the demo value 'FI2112345600000785': set the operator's own"]
