"""``REGISTRY_ADAPTER=epp``: the registries of ``EPP_REGISTRIES`` (one per TLD group) behind
one ``Registry``, each command sent to the registry of its name's TLD.

Contacts are not tied to a TLD: ``contact_set`` for a domain (``name``) goes to that
domain's registry, without one to every registry that holds contacts; poll messages come from each registry in turn and are acknowledged where they
came from."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

from reseller.core.config import ConfigError
from reseller.registry.epp import journal
from reseller.registry.epp.adapter import EppRegistry
from reseller.registry.epp.client import Endpoint, Pool
from reseller.registry.epp.profiles import profile as find_profile
from reseller.registry.epp.wire import NS, OBJECT_URIS
from reseller.registry.errors import RegistryRejected
from reseller.registry.models import DomainInfo, Message, Outcome, TransferInfo

REQUIRED = ("name", "tlds", "host", "client_id")


def registries_from_config(config: Mapping[str, Any]) -> dict[str, EppRegistry]:
    """Build (without connecting) each configured registry, by TLD; any mistake is a
    ``ConfigError`` naming the registry and the key."""
    raw = config.get("EPP_REGISTRIES") or "[]"
    try:
        entries = json.loads(raw) if isinstance(raw, str) else raw
    except ValueError as error:
        raise ConfigError(f"EPP_REGISTRIES is not valid JSON: {error}") from None
    if not isinstance(entries, list) or not entries:
        raise ConfigError("REGISTRY_ADAPTER=epp needs EPP_REGISTRIES: a JSON list of "
                          "registries (see docs/epp.md)")
    registrar_id = config.get("REGISTRY_CLIENT_ID", "tunnus")
    by_tld: dict[str, EppRegistry] = {}
    for index, entry in enumerate(entries):
        registry, tlds = _registry(entry, index, registrar_id)
        for tld in tlds:
            if tld in by_tld:
                raise ConfigError(f"EPP_REGISTRIES: .{tld} is served by two registries")
            by_tld[tld] = registry
    return by_tld


MAX_TIMEOUT = 60  # seconds


def _registry(entry: Any, index: int, registrar_id: str) -> tuple[EppRegistry, list[str]]:
    if not isinstance(entry, dict):
        raise ConfigError(f"EPP_REGISTRIES[{index}] must be an object")
    label = f"EPP_REGISTRIES[{entry.get('name', index)}]"
    missing = [key for key in REQUIRED if not entry.get(key)]
    if missing:
        raise ConfigError(f"{label}: missing {', '.join(missing)}")
    password = entry.get("password") or os.environ.get(entry.get("password_env") or "", "")
    if not password:
        raise ConfigError(f"{label}: set password or password_env (an environment variable "
                          "holding it)")
    for key in ("cert", "key", "ca"):
        if entry.get(key) and not Path(entry[key]).is_file():
            raise ConfigError(f"{label}: {key} file {entry[key]} does not exist")
    if bool(entry.get("cert")) != bool(entry.get("key")):
        raise ConfigError(f"{label}: cert and key go together")
    try:
        chosen = find_profile(entry.get("profile", "generic"))
        endpoint = Endpoint(
            name=str(entry["name"]), host=entry["host"], port=int(entry.get("port", 700)),
            client_id=entry["client_id"], password=password, cert=entry.get("cert"),
            key=entry.get("key"), ca=entry.get("ca"), server_name=entry.get("server_name"),
            timeout=float(entry.get("timeout", 30)),
            objects=OBJECT_URIS if chosen.contacts else (NS["domain"], NS["host"]),
            extensions=chosen.extensions)
        pool = Pool(endpoint, size=int(entry.get("pool_size", 2)),
                    keepalive=float(entry.get("keepalive", 300)),
                    keepalive_thread=bool(entry.get("keepalive_thread", False)))
    except (TypeError, ValueError) as error:
        raise ConfigError(f"{label}: {error}") from None
    if not 0 < endpoint.timeout <= MAX_TIMEOUT:
        # A domain command is leased to its sender for 5 minutes (domains.pending.LEASE),
        # and takes up to four timeouts: a pooled session, login, the command, its info.
        raise ConfigError(f"{label}: timeout must be over 0 and at most {MAX_TIMEOUT} seconds")
    tlds = entry["tlds"]
    if not isinstance(tlds, list) or not all(isinstance(t, str) for t in tlds):
        raise ConfigError(f"{label}: tlds must be a list like [\"fi\"]")
    return (EppRegistry(pool=pool, profile=chosen, registrar_id=registrar_id),
            [t.lower().strip(".") for t in tlds])


class EppRouter:
    """The ``Registry`` the app uses with ``REGISTRY_ADAPTER=epp``."""

    def __init__(self, registries: dict[str, EppRegistry], *, registrar_id: str) -> None:
        self.by_tld = registries
        self.registrar_id = registrar_id
        self._pending_acks: dict[int, EppRegistry] = {}

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> EppRouter:
        return cls(registries_from_config(config),
                   registrar_id=config.get("REGISTRY_CLIENT_ID", "tunnus"))

    @property
    def registries(self) -> list[EppRegistry]:
        return list(dict.fromkeys(self.by_tld.values()))

    def for_name(self, name: str) -> EppRegistry:
        """The registry of ``name``'s TLD (the longest configured suffix wins)."""
        labels = name.lower().rstrip(".").split(".")
        for start in range(1, len(labels)):
            registry = self.by_tld.get(".".join(labels[start:]))
            if registry is not None:
                return registry
        raise RegistryRejected(2306, f"Parameter value policy error: no registry for {name}")

    # -- routed by name -----------------------------------------------------------------------
    def info(self, name: str) -> DomainInfo | None:
        return self.for_name(name).info(name)

    def current_auth_code(self, name: str) -> str | None:
        return self.for_name(name).current_auth_code(name)

    def create(self, *, name: str, **kwargs: Any) -> DomainInfo:
        return self.for_name(name).create(name=name, **kwargs)

    def renew(self, *, name: str, **kwargs: Any) -> DomainInfo:
        return self.for_name(name).renew(name=name, **kwargs)

    def restore(self, *, name: str, **kwargs: Any) -> DomainInfo:
        return self.for_name(name).restore(name=name, **kwargs)

    def premium_fee(self, *, name: str, **kwargs: Any) -> Decimal | None:
        return self.for_name(name).premium_fee(name=name, **kwargs)

    def change_registrant(self, *, name: str, **kwargs: Any) -> DomainInfo:
        return self.for_name(name).change_registrant(name=name, **kwargs)

    def update(self, *, name: str, **kwargs: Any) -> DomainInfo:
        return self.for_name(name).update(name=name, **kwargs)

    def auth_code(self, *, name: str, transaction_id: str) -> str:
        return self.for_name(name).auth_code(name=name, transaction_id=transaction_id)

    def delete(self, *, name: str, transaction_id: str) -> str:
        return self.for_name(name).delete(name=name, transaction_id=transaction_id)

    def transfer_request(self, *, name: str, **kwargs: Any) -> TransferInfo:
        return self.for_name(name).transfer_request(name=name, **kwargs)

    def transfer_query(self, *, name: str) -> TransferInfo | None:
        return self.for_name(name).transfer_query(name=name)

    def transfer_answer(self, *, name: str, approve: bool) -> TransferInfo:
        return self.for_name(name).transfer_answer(name=name, approve=approve)

    def check(self, names: list[str]) -> list:
        groups: dict[EppRegistry, list[str]] = {}
        for name in names:
            groups.setdefault(self.for_name(name), []).append(name)
        answers = {a.name: a for registry, group in groups.items()
                   for a in registry.check(group)}
        return [answers[name.lower()] for name in names]

    def transaction(self, transaction_id: str) -> Outcome | None:
        entry = journal.get(transaction_id)
        for registry in self.registries:
            if entry is not None and registry.name == entry.registry:
                return registry.transaction(transaction_id)
        return None

    def host_set(self, *, name: str, addresses: list[str]) -> None:
        self.for_name(name).host_set(name=name, addresses=addresses)

    def host_delete(self, *, name: str) -> None:
        self.for_name(name).host_delete(name=name)

    def contact_set(self, *, handle: str, data: dict, name: str | None = None) -> None:
        for registry in [self.for_name(name)] if name else self.registries:
            registry.contact_set(handle=handle, data=data)

    # -- poll ---------------------------------------------------------------------------------
    def poll(self) -> list[Message]:
        """The head of the first non-empty queue, in configuration order."""
        for registry in self.registries:
            messages = registry.poll()
            if messages:
                self._pending_acks.update({m.id: registry for m in messages})
                return messages
        return []

    def ack(self, message_id: int) -> None:
        registry = self._pending_acks.pop(message_id, None)
        if registry is not None:
            registry.ack(message_id)

    def close(self) -> None:
        for registry in self.registries:
            registry.close()
