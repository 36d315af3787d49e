"""Pre-flight checks: what would make apply fail, found while planning, so nothing is half-applied.

Reads only what the plan changes: GetFunction (its own 100/s budget) for versions an alias moves to,
and GetProvisionedConcurrencyConfig for aliases that gain weighted routing.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor

from reconciler import functiongraph as fg
from reconciler.contract import LATEST
from reconciler.errors import Problem
from reconciler.live import FunctionTarget, VersionInfo
from reconciler.manifests import Source
from reconciler.plan import Action, Change, Plan
from reconciler.planner import DesiredFunction
from reconciler.providers.base import VersionReader

VersionLookup = Callable[[FunctionTarget, str], VersionInfo | None]


def preflight(
    plan: Plan,
    desired: Sequence[DesiredFunction],
    reader: VersionReader,
    *,
    workers: int = 8,
    whole: Plan | None = None,
) -> list[Problem]:
    """Every problem the service would raise at apply, each at the manifest line of its alias.

    The versions to read are read first, ``workers`` at a time (the provider paces them).
    ``whole`` is the plan before ``--target`` narrowed it to ``plan``: what the function has
    live, selected or not, counts towards FunctionGraph's 10 aliases."""
    sources = {
        (d.target, alias.name): source
        for d in desired
        for alias, source in zip(d.aliases, d.alias_sources, strict=False)
    }
    needed = list({(c.target, v) for c in plan.actions for v in _versions_to_read(c)})
    known: dict[tuple[FunctionTarget, str], VersionInfo | None] = {}
    if needed:
        with ThreadPoolExecutor(max(1, min(workers, len(needed)))) as pool:
            infos = pool.map(lambda pair: reader.version_info(*pair), needed)
            known = dict(zip(needed, infos, strict=True))

    def info(target: FunctionTarget, version: str) -> VersionInfo | None:
        return known[(target, version)]

    problems: list[Problem] = []
    for change in plan.actions:
        where = sources.get((change.target, change.alias), Source(change.address, 0, 0))
        for message in _check(change, info, reader):
            problems.append(Problem(where.path, where.line, where.column, message))
    return problems + _too_many_aliases(plan, whole or plan, desired)


def _too_many_aliases(plan: Plan, whole: Plan, desired: Sequence[DesiredFunction]) -> list[Problem]:
    """FunctionGraph keeps at most 10 aliases per function: count them as the plan leaves them,
    every live alias of the function (``whole``: selected by --target or not, managed or not),
    plus what ``plan`` creates, less what it deletes."""
    after: dict[FunctionTarget, int] = {}
    for change in whole.changes:
        if change.target.provider == fg.PROVIDER and change.before is not None:
            after[change.target] = after.get(change.target, 0) + 1
    for target, _ in whole.unmanaged:
        if target.provider == fg.PROVIDER:
            after[target] = after.get(target, 0) + 1
    for change in plan.changes:
        if change.target.provider == fg.PROVIDER:
            step = {Action.CREATE: 1, Action.DELETE: -1}.get(change.action, 0)
            after[change.target] = after.get(change.target, 0) + step
    sources = {d.target: d.source for d in desired}
    return [
        Problem(
            *(sources.get(target) or Source(target.address, 0, 0)),
            f"{target.name} would have {count} aliases after this plan; FunctionGraph keeps at "
            f"most {fg.ALIASES_MAX}: delete some (prune: true) or list fewer",
        )
        for target, count in sorted(after.items(), key=lambda item: item[0].address)
        if count > fg.ALIASES_MAX
    ]


def routing_problems(
    name: str, first: VersionInfo, second: VersionInfo, *, one_role: str, same_dead_letter: str
) -> list[str]:
    """Why traffic cannot be split between two versions: Lambda routes only between versions
    with one execution role and one dead-letter configuration (``one_role`` and
    ``same_dead_letter`` say who needs them)."""
    messages = []
    if first.role != second.role:
        messages.append(
            f"{name}: versions {first.version} and {second.version} have different execution "
            f"roles ({first.role} and {second.role}); {one_role}"
        )
    if first.dead_letter_target != second.dead_letter_target:
        messages.append(
            f"{name}: versions {first.version} and {second.version} have different dead-letter "
            f"configurations; {same_dead_letter}"
        )
    return messages


def _moves(change: Change) -> tuple[list[str], bool]:
    """The published versions the alias moves to, and whether its weighted routing is new."""
    after, before = change.after, change.before
    if after is None:  # a delete points nowhere
        return [], False
    old = set() if before is None else {before.version}
    if before is not None and before.routing is not None:
        old.add(before.routing.version)
    wanted = [after.version] + ([after.routing.version] if after.routing else [])
    latest = fg.LATEST if change.target.provider == fg.PROVIDER else LATEST
    moved_to = [v for v in wanted if v != latest and v not in old]
    return moved_to, after.routing is not None and (before is None or before.routing is None)


def _versions_to_read(change: Change) -> set[str]:
    moved_to, routing_is_new = _moves(change)
    versions = set(moved_to)
    if change.after is not None and change.after.routing and (moved_to or routing_is_new):
        versions |= {change.after.version, change.after.routing.version}  # to compare their roles
    return versions


def _check(change: Change, info: VersionLookup, reader: VersionReader) -> list[str]:
    after = change.after
    if after is None:
        return []
    name = f"{change.target.name}:{change.alias}"
    moved_to, routing_is_new = _moves(change)
    messages = [
        f"{name}: version {v} of {change.target.address} does not exist or is not published; "
        "publish it, or point the alias at a published version"
        for v in moved_to
        if info(change.target, v) is None
    ]
    if messages or after.routing is None:
        return messages
    if moved_to or routing_is_new:
        primary, extra = (
            info(change.target, after.version),
            info(change.target, after.routing.version),
        )
        if primary is not None and extra is not None:
            messages += routing_problems(
                name,
                primary,
                extra,
                one_role="a weighted alias needs one",
                same_dead_letter="a weighted alias needs the same (or none on both)",
            )
    if change.action is Action.UPDATE and routing_is_new:
        executions = reader.provisioned_concurrency(change.target, change.alias)
        if executions:
            messages.append(
                f"{name} has provisioned concurrency ({executions}); weighted routing is not "
                "combined with provisioned concurrency on one alias: remove one of them first"
            )
    return messages
