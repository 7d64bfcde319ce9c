"""Registry failures. Each says what the caller may do: ``RegistryRejected`` is final
(release the money), ``RegistryUnavailable`` means nothing happened (retry),
``RegistryTimeout`` means the outcome is unknown (retry with the same transaction id, or
ask ``transaction``)."""

from __future__ import annotations


class RegistryError(Exception):
    """Base for registry failures."""


class RegistryRejected(RegistryError):
    """The registry refused the command (EPP 2xxx result); retrying will not help."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(f"{code} {message}")
        self.code = code
        self.message = message


class RegistryUnavailable(RegistryError):
    """The registry could not be reached; the command was not carried out."""


class RegistryTimeout(RegistryError):
    """No answer in time: the command may or may not have been carried out."""
