"""Every parameterless page of the client area and console renders for its users (no 500)."""

import pytest

SKIP_PREFIXES = ("/api/", "/oauth/", "/whmcs/", "/rdap/", "/acme/", "/_dev/", "/payments/",
                 "/static/", "/go/")


def _pages(app, prefix_filter):
    for rule in app.url_map.iter_rules():
        if "GET" not in (rule.methods or ()) or rule.arguments:
            continue
        if rule.rule.startswith(SKIP_PREFIXES) or not prefix_filter(rule.rule):
            continue
        yield rule.rule


@pytest.mark.parametrize("role", ["owner", "billing", "technical"])
def test_client_pages_render_for_each_role(app, client, factory, role):
    user = factory.user(role=role)
    client.post("/login", data={"email": user.email, "password": "correct horse battery"})
    failures = []
    for path in _pages(app, lambda p: not p.startswith("/console")):
        for lang in ("fi", "sv", "en"):
            response = client.get(f"{path}?lang={lang}")
            if response.status_code >= 500:
                failures.append(f"{path} [{lang}] {response.status_code}")
    assert failures == []


def test_console_pages_render_for_staff(app, client, factory):
    staff = factory.operator(password="operator password")
    client.post("/login", data={"email": staff.email, "password": "operator password"})
    failures = [path for path in _pages(app, lambda p: p.startswith("/console"))
                if client.get(path).status_code >= 500]
    assert failures == []
