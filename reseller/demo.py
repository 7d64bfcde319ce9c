"""Demo data for the embedded default: the operator, two resellers, their logins.

Idempotent: running it again changes nothing and prints the same logins. The secrets
here are public demo values; production refuses to start with SANDBOX off and these in use.
The features add their part (wallets, brands, domains, a zone …) as demo steps in their
``init_app`` (``reseller.core.demo``); ``load`` runs them for each reseller. Only
``reseller.cli`` imports this module.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import current_app
from werkzeug.security import generate_password_hash

from reseller.accounts.models import OAuthClient, Reseller, User
from reseller.accounts.services import find_user_by_email, set_password
from reseller.core.demo import DemoStep, demo_steps
from reseller.core.extensions import db
from reseller.core.permissions import SCOPES

OPERATOR_PASSWORD = "operator-demo-2026"

RESELLERS: list[dict[str, Any]] = [
    {
        "company_name": "Demo Agency Oy", "country": "FI", "business_id": "2464491-9",
        "vat_id": None, "street": "Esimerkkikatu 1", "city": "Helsinki",
        "postal_code": "00100", "website": "https://demoagency.example",
        "contact_email": "owner@demoagency.example", "language": "fi",
        "payment_mode": "prepaid",
        "owner": ("Aino Esimerkki", "demo-agency-2026"),
        "client": ("tun_demo_agency", "demo-agency-client-secret-2026"),
    },
    {
        "company_name": "Exempel AB", "country": "SE", "business_id": "556036-0793",
        "vat_id": "SE556036079301", "street": "Exempelgatan 2", "city": "Stockholm",
        "postal_code": "111 22", "website": "https://exempel.example",
        "contact_email": "owner@exempel.example", "language": "sv",
        "payment_mode": "postpaid",
        "owner": ("Erik Exempel", "exempel-ab-2026"),
        "client": ("tun_exempel_ab", "exempel-ab-client-secret-2026"),
    },
]

class DemoRefused(RuntimeError):
    """Demo data (known passwords, domains the registry never saw) outside sandbox mode."""


def load(config: Any, steps: list[DemoStep] | None = None) -> dict[str, Any]:
    """Load the demo (``steps``: the app's, by default) and return demo.json's content."""
    if not config.get("SANDBOX"):
        raise DemoRefused("demo data is loaded only in sandbox mode")
    if steps is None:
        steps = demo_steps(current_app)
    operator = _operator(config)
    info: dict[str, Any] = {
        "base_url": config["BASE_URL"],
        "operator": {"name": config["OPERATOR_NAME"], "domain": config["OPERATOR_DOMAIN"],
                     "email": operator.email, "password": _operator_password(config)},
        "resellers": [],
        "whois_port": None,
    }
    for spec in RESELLERS:
        reseller = _reseller(spec)
        for step in steps:
            if step.seed is not None:
                step.seed(reseller, spec, config)
        info["resellers"].append({
            "name": reseller.company_name, "email": spec["contact_email"],
            "password": spec["owner"][1], "client_id": spec["client"][0],
            "client_secret": spec["client"][1], "id": reseller.id,
            "language": reseller.language, "payment_mode": reseller.payment_mode,
        })
    for step in steps:
        if step.info is not None:
            info.update(step.info(config))
    db.session.flush()
    return info


def _operator_password(config: Any) -> str:
    return config.get("OPERATOR_PASSWORD") or OPERATOR_PASSWORD


def _operator(config: Any) -> User:
    user = find_user_by_email(config["OPERATOR_EMAIL"])
    if user is None:
        user = User(email=config["OPERATOR_EMAIL"].lower(), name="Operator staff",
                    role="superuser", is_operator=True, language="en")
        set_password(user, _operator_password(config))
        db.session.add(user)
        db.session.flush()
    return user


def _reseller(spec: dict[str, Any]) -> Reseller:
    reseller = db.session.scalar(
        sa.select(Reseller).where(Reseller.company_name == spec["company_name"])
    )
    if reseller is None:
        # payment_mode is the wallet's: its demo step (wallet.web.demo) opens it.
        fields = {k: v for k, v in spec.items() if k not in {"owner", "client", "payment_mode"}}
        reseller = Reseller(status="active", tier="standard",
                            billing_email=spec["contact_email"], **fields)
        db.session.add(reseller)
        db.session.flush()
    if find_user_by_email(spec["contact_email"]) is None:
        name, password = spec["owner"]
        owner = User(reseller_id=reseller.id, email=spec["contact_email"], name=name,
                     role="owner", is_operator=False, language=spec["language"])
        set_password(owner, password)
        db.session.add(owner)
    client_id, secret = spec["client"]
    if db.session.scalar(sa.select(OAuthClient).where(OAuthClient.client_id == client_id)) is None:
        db.session.add(OAuthClient(
            reseller_id=reseller.id, client_id=client_id, name="Demo integration",
            secret_hash=generate_password_hash(secret, method="pbkdf2:sha256:100000"),
            scopes=" ".join(sorted(SCOPES))))
    db.session.flush()
    return reseller


def demo_json_path(config: Any) -> Path:
    return Path(config["INSTANCE_DIR"]) / "demo.json"


def write_demo_json(config: Any, info: dict[str, Any]) -> Path:
    path = demo_json_path(config)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(info, indent=2, ensure_ascii=False) + "\n")
    return path


def banner(info: dict[str, Any]) -> str:
    lines = [
        "",
        f"  Tunnus is running at {info['base_url']}",
        f"  Client area: {info['base_url']}/login    API: {info['base_url']}/api/v1/docs",
        f"  Operator console: {info['operator']['email']} / {info['operator']['password']}",
    ]
    for reseller in info["resellers"]:
        lines.append(f"  {reseller['name']}: {reseller['email']} / {reseller['password']}"
                     f"  (API client {reseller['client_id']} / {reseller['client_secret']})")
    lines.append("")
    return "\n".join(lines)
