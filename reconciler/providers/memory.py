"""An in-memory provider with the service's write semantics, for fast tests of pure code."""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Iterable
from dataclasses import replace

from reconciler.errors import ConflictError, NotFoundError, PreconditionFailedError
from reconciler.live import DesiredAlias, FunctionTarget, LiveAlias, LiveFunction


class MemoryProvider:
    """Functions and aliases in a dict; every write makes a new RevisionId, as the service does."""

    def __init__(self, functions: Iterable[FunctionTarget] = ()) -> None:
        self.aliases: dict[FunctionTarget, dict[str, LiveAlias]] = {f: {} for f in functions}
        self.calls: Counter[str] = Counter()
        self._revisions = itertools.count(1)

    def add_function(self, target: FunctionTarget, *aliases: DesiredAlias) -> None:
        self.aliases[target] = {}
        for alias in aliases:
            self.put(target, alias)

    def put(self, target: FunctionTarget, alias: DesiredAlias) -> LiveAlias:
        """Write an alias unguarded, as another writer would."""
        existing = self.aliases[target].get(alias.name)
        description = alias.description
        if description is None:
            description = "" if existing is None else existing.description
        live = LiveAlias(alias.name, alias.version, description, alias.routing, self._revision())
        self.aliases[target][alias.name] = live
        return live

    def read_function(self, target: FunctionTarget) -> LiveFunction:
        self.calls["ListAliases"] += 1
        if target not in self.aliases:
            return LiveFunction(target, (), exists=False)
        return LiveFunction(
            target, tuple(sorted(self.aliases[target].values(), key=lambda a: a.name))
        )

    def get_alias(self, target: FunctionTarget, name: str) -> LiveAlias | None:
        self.calls["GetAlias"] += 1
        return self._function(target).get(name)

    def create_alias(self, target: FunctionTarget, desired: DesiredAlias) -> LiveAlias:
        self.calls["CreateAlias"] += 1
        if desired.name in self._function(target):
            raise ConflictError(f"alias exists: {target.alias_address(desired.name)}", status=409)
        return self.put(target, desired)

    def update_alias(
        self, target: FunctionTarget, desired: DesiredAlias, revision_id: str
    ) -> LiveAlias:
        self.calls["UpdateAlias"] += 1
        current = self._function(target).get(desired.name)
        if current is None:
            raise NotFoundError(
                f"alias not found: {target.alias_address(desired.name)}", status=404
            )
        if current.revision_id != revision_id:
            raise PreconditionFailedError("RevisionId does not match", status=412)
        return self.put(target, desired)

    def delete_alias(self, target: FunctionTarget, name: str) -> None:
        self.calls["DeleteAlias"] += 1
        self._function(target).pop(name, None)

    def change(self, target: FunctionTarget, name: str, **fields: object) -> LiveAlias:
        """Change a live alias out of band (a new RevisionId), for tests of guards."""
        changed = replace(self.aliases[target][name], revision_id=self._revision(), **fields)  # type: ignore[arg-type]
        self.aliases[target][name] = changed
        return changed

    @property
    def writes(self) -> int:
        return sum(n for op, n in self.calls.items() if not op.startswith(("Get", "List")))

    def _function(self, target: FunctionTarget) -> dict[str, LiveAlias]:
        if target not in self.aliases:
            raise NotFoundError(f"function not found: {target.address}", status=404)
        return self.aliases[target]

    def _revision(self) -> str:
        return f"rev-{next(self._revisions)}"
