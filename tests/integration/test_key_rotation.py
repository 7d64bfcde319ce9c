"""Key rotation as docs/operations.md runs it, with two apps standing for a web process
and a worker that restart one after the other: no process ever meets a secret it cannot
read, and at the end the old key can go."""

from __future__ import annotations

from contextlib import contextmanager

import pytest
from cryptography.fernet import Fernet

from reseller.accounts.models import User
from reseller.core import crypto
from reseller.core.db import unit_of_work
from reseller.core.extensions import db

pytestmark = pytest.mark.postgres_only  # two processes over one database, real commits


class Fleet:
    """The running processes: each restart builds that process's app again."""

    def __init__(self, database_url, instance_dir) -> None:
        self.database_url, self.instance_dir = database_url, instance_dir
        self.apps = {}

    def restart(self, name: str, keys: list[str]) -> None:
        from reseller.app import create_app
        from tests.conftest import test_config

        if name in self.apps:
            with self.apps[name].app_context():
                db.engine.dispose()
        self.apps[name] = create_app(test_config(self.database_url, self.instance_dir,
                                                 DATA_ENCRYPTION_KEYS=keys))

    def restart_all(self, keys: list[str]) -> None:
        for name in ("worker", "web"):  # one at a time: the other keeps running
            self.restart(name, keys)

    @contextmanager
    def on(self, name: str):
        with self.apps[name].app_context():
            yield
            db.session.remove()

    def write(self, name: str, seed: str) -> int:
        with self.on(name), unit_of_work():
            user = User(email=f"{seed.lower()}@rotation.test", name=seed, role="staff",
                        is_operator=True, totp_secret=seed)
            db.session.add(user)
            db.session.flush()
            return user.id

    def read_all(self, name: str, ids: list[int]) -> list[str]:
        with self.on(name):
            return [db.session.get(User, i).totp_secret for i in ids]

    def cli(self, name: str, *args: str):
        # `flask` commands run in the app context already pushed, so push this process's
        with self.on(name):
            return self.apps[name].test_cli_runner().invoke(args=["secrets", *args])

    def stop(self) -> None:
        for app in self.apps.values():
            with app.app_context():
                db.engine.dispose()


@pytest.fixture
def fleet(app, committed_db, database_url, instance_dir):
    running = Fleet(database_url, instance_dir)
    yield running
    running.stop()


def _seed(n: int) -> str:
    return f"JBSWY3DPEHPK3PX{n:01d}"


def test_documented_rotation_keeps_every_process_reading_every_secret(fleet):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    fleet.restart_all([old])
    ids = [fleet.write("web", _seed(0))]

    # 1. the new key last, everywhere, one process after the other
    fleet.restart("worker", [old, new])
    ids.append(fleet.write("web", _seed(1)))        # web still has only the old key
    assert fleet.read_all("worker", ids) == [_seed(0), _seed(1)]
    fleet.restart("web", [old, new])

    # 2. the new key first, everywhere, one process after the other
    fleet.restart("web", [new, old])
    ids.append(fleet.write("web", _seed(2)))        # written with the new key …
    assert fleet.read_all("worker", ids) == [_seed(0), _seed(1), _seed(2)]  # … still readable
    ids.append(fleet.write("worker", _seed(3)))     # the worker still writes with the old one
    assert fleet.read_all("web", ids) == [_seed(n) for n in range(4)]
    fleet.restart("worker", [new, old])

    # 3. re-encrypt, check, and drop the old key
    before = fleet.cli("web", "status")
    assert before.exit_code == 1, before.output
    assert "users.totp_secret: 1 first key, 3 older keys" in before.output
    rotated = fleet.cli("web", "rotate")
    assert rotated.exit_code == 0, rotated.output
    status = fleet.cli("web", "status")
    assert status.exit_code == 0, status.output
    assert "users.totp_secret: 4 first key, 0 older keys, 0 plaintext, 0 unreadable" \
        in status.output
    fleet.restart_all([new])
    assert fleet.read_all("worker", ids) == fleet.read_all("web", ids) == \
        [_seed(n) for n in range(4)]


def test_putting_the_new_key_first_in_one_process_breaks_the_others(fleet):
    """Why the runbook adds the key last first: the old order broke running workers."""
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    fleet.restart_all([old])
    fleet.restart("web", [new, old])
    written = fleet.write("web", _seed(5))
    with pytest.raises(crypto.SecretsUnreadable):
        fleet.read_all("worker", [written])


def test_status_counts_secrets_no_configured_key_can_read(fleet):
    old, other = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    fleet.restart("web", [old])
    fleet.write("web", _seed(6))
    fleet.restart("worker", [other])
    result = fleet.cli("worker", "status")
    assert result.exit_code == 1
    assert "users.totp_secret: 0 first key, 0 older keys, 0 plaintext, 1 unreadable" \
        in result.output
