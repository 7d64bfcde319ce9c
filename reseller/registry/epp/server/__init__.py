"""The sandbox registry's EPP server (RFC 5730-5734, 5910, 3915; RFC 8748 prices): a
threaded TLS server whose sessions act as ``SandboxRegistry`` for the logged-in clID.

``listener`` owns sockets and threads, ``session`` the protocol state and the unit of
work per command, ``domain``/``host``/``contact``/``poll`` the command mappings, ``frames``
the documents and ``tls`` the certificates."""

from reseller.registry.epp.server.listener import EppServer, clients_from_config
from reseller.registry.epp.server.tls import Authority, self_signed, server_context

__all__ = ["Authority", "EppServer", "clients_from_config", "self_signed", "server_context"]
