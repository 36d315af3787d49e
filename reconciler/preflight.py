"""Pre-flight checks: what would make apply fail, found while planning, so nothing is half-applied.

Reads only what the plan changes: GetFunction (its own 100/s budget) for versions an alias moves to,
and GetProvisionedConcurrencyConfig for aliases that gain weighted routing.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from reconciler.contract import LATEST
from reconciler.errors import Problem
from reconciler.live import FunctionTarget, VersionInfo
from reconciler.manifests import Source
from reconciler.plan import Action, Change, Plan
from reconciler.planner import DesiredFunction
from reconciler.providers.base import VersionReader

VersionLookup = Callable[[FunctionTarget, str], VersionInfo | None]


def preflight(
    plan: Plan, desired: Sequence[DesiredFunction], reader: VersionReader
) -> list[Problem]:
    """Every problem the service would raise at apply, each at the manifest line of its alias."""
    sources = {
        (d.target, alias.name): source
        for d in desired
        for alias, source in zip(d.aliases, d.alias_sources, strict=False)
    }
    known: dict[tuple[FunctionTarget, str], VersionInfo | None] = {}

    def info(target: FunctionTarget, version: str) -> VersionInfo | None:
        if (target, version) not in known:
            known[(target, version)] = reader.version_info(target, version)
        return known[(target, version)]

    problems: list[Problem] = []
    for change in plan.actions:
        where = sources.get((change.target, change.alias), Source(change.address, 0, 0))
        for message in _check(change, info, reader):
            problems.append(Problem(where.path, where.line, where.column, message))
    return problems


def _check(change: Change, info: VersionLookup, reader: VersionReader) -> list[str]:
    after, before = change.after, change.before
    if after is None:  # a delete points nowhere
        return []
    name = f"{change.target.name}:{change.alias}"
    old = set() if before is None else {before.version}
    if before is not None and before.routing is not None:
        old.add(before.routing.version)
    wanted = [after.version] + ([after.routing.version] if after.routing else [])
    moved_to = [v for v in wanted if v != LATEST and v not in old]
    messages = [
        f"{name}: version {v} of {change.target.address} does not exist or is not published; "
        "publish it, or point the alias at a published version"
        for v in moved_to
        if info(change.target, v) is None
    ]
    if messages or after.routing is None:
        return messages
    routing_is_new = before is None or before.routing is None
    if moved_to or routing_is_new:
        primary, extra = (
            info(change.target, after.version),
            info(change.target, after.routing.version),
        )
        if primary is not None and extra is not None:
            if primary.role != extra.role:
                messages.append(
                    f"{name}: versions {primary.version} and {extra.version} have different "
                    f"execution roles ({primary.role} and {extra.role}); a weighted alias needs one"
                )
            if primary.dead_letter_target != extra.dead_letter_target:
                messages.append(
                    f"{name}: versions {primary.version} and {extra.version} have different "
                    "dead-letter configurations; a weighted alias needs the same (or none on both)"
                )
    if change.action is Action.UPDATE and routing_is_new:
        executions = reader.provisioned_concurrency(change.target, change.alias)
        if executions:
            messages.append(
                f"{name} has provisioned concurrency ({executions}); weighted routing is not "
                "combined with provisioned concurrency on one alias: remove one of them first"
            )
    return messages
