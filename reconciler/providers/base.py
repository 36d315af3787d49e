"""The narrow interfaces between the reconciler and a cloud: one to read, one to write."""

from __future__ import annotations

from typing import Protocol

from reconciler.live import DesiredAlias, FunctionTarget, LiveAlias, LiveFunction, VersionInfo


class AliasReader(Protocol):
    """Reads aliases. Plans need only this, and only read permissions."""

    def read_function(self, target: FunctionTarget) -> LiveFunction:
        """Every alias of the function; ``exists`` False if the function is missing."""
        ...

    def get_alias(self, target: FunctionTarget, name: str) -> LiveAlias | None:
        """The alias now, or None if it does not exist."""
        ...


class VersionReader(Protocol):
    """Reads what the pre-flight checks need of versions and aliases."""

    def version_info(self, target: FunctionTarget, version: str) -> VersionInfo | None:
        """A published version's role and dead-letter target, or None if it does not exist."""
        ...

    def provisioned_concurrency(self, target: FunctionTarget, alias: str) -> int | None:
        """The provisioned concurrency configured on the alias, or None."""
        ...


class AliasWriter(AliasReader, Protocol):
    """Writes aliases. Errors are the ``ProviderError`` subclasses of ``reconciler.errors``."""

    def create_alias(self, target: FunctionTarget, desired: DesiredAlias) -> LiveAlias:
        """Create the alias; ``ConflictError`` if it exists."""
        ...

    def update_alias(
        self, target: FunctionTarget, desired: DesiredAlias, revision_id: str
    ) -> LiveAlias:
        """Update the managed fields if the alias is still at ``revision_id``, else
        ``PreconditionFailedError`` and nothing changes."""
        ...

    def delete_alias(self, target: FunctionTarget, name: str) -> None:
        """Delete the alias; no error if it is already gone. The API takes no RevisionId."""
        ...
