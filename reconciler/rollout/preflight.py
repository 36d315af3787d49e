"""Pre-flight checks of rollouts, found while planning: what would make a rollout fail midway.

For each rollout that has not begun: the new version is published with the same execution role
and dead-letter configuration as the old one (as for any weighted alias), the alias has no
provisioned concurrency, every alarm exists (DescribeAlarms, 100 names a call), every hook
function exists (GetFunction), and the function has room for the rollout's tag (Lambda holds 50
tags a function, FunctionGraph 20): a rollout that cannot record its step must move no traffic.
"""

from __future__ import annotations

from collections.abc import Sequence

from reconciler import contract
from reconciler import functiongraph as fg
from reconciler.errors import Problem
from reconciler.live import FunctionTarget
from reconciler.manifests import Source
from reconciler.plan import Change, Plan
from reconciler.planner import DesiredFunction
from reconciler.preflight import routing_problems
from reconciler.providers.base import VersionReader
from reconciler.rollout.cloud import RolloutCloud, fg_hook_target
from reconciler.rollout.state import tag_key


def hook_target(target: FunctionTarget, hook: str) -> FunctionTarget:
    """The hook function, in the function's account and Region unless its ARN says otherwise;
    on FunctionGraph, in the function's project, Region and package."""
    if target.provider == fg.PROVIDER:
        return fg_hook_target(target, hook)
    ref = contract.parse_function_name(hook)
    return FunctionTarget(
        ref.account or target.account,
        ref.region or target.region,
        ref.name,
        ref.partition or target.partition,
    )


def rollout_problems(
    plan: Plan, desired: Sequence[DesiredFunction], reader: VersionReader, cloud: RolloutCloud
) -> list[Problem]:
    """Every problem of the plan's rollouts, each at the manifest line of its alias."""
    sources = {
        (d.target, alias.name): source
        for d in desired
        for alias, source in zip(d.aliases, d.alias_sources, strict=False)
    }
    changes = [c for c in plan.changes if c.rollout is not None]
    alarms: dict[str, set[str]] = {}
    for change in changes:
        assert change.rollout is not None
        alarms.setdefault(change.target.region, set()).update(change.rollout.alarms)
    existing = {
        region: set(cloud.alarm_states(region, names)) for region, names in alarms.items() if names
    }
    hooks: dict[FunctionTarget, bool] = {}
    problems: list[Problem] = []
    full = _no_room(changes, cloud)
    for change in changes:
        where = sources.get((change.target, change.alias), Source(change.address, 0, 0))
        messages = _check(change, reader, existing, hooks)
        if (change.target, change.alias) in full:
            messages.append(full[(change.target, change.alias)])
        for message in messages:
            problems.append(Problem(where.path, where.line, where.column, message))
    return problems


def _no_room(
    changes: Sequence[Change], cloud: RolloutCloud
) -> dict[tuple[FunctionTarget, str], str]:
    """The rollouts whose function has no room left for their tag: the tag is written before
    the first step, and a function at its cloud's tag limit refuses it. A rollout whose tag
    exists already overwrites it, which needs no room."""
    wanting: dict[FunctionTarget, list[Change]] = {}
    for change in changes:
        wanting.setdefault(change.target, []).append(change)
    full: dict[tuple[FunctionTarget, str], str] = {}
    for target in sorted(wanting, key=lambda t: t.address):
        tags = cloud.tags(target)
        new = [c for c in wanting[target] if tag_key(c.alias) not in tags]
        cloud_name, most = (
            ("FunctionGraph", fg.TAGS_MAX)
            if target.provider == fg.PROVIDER
            else ("Lambda", contract.TAGS_MAX)
        )
        # Lambda does not count its own aws: tags against the limit.
        held = len([k for k in tags if target.provider == fg.PROVIDER or not k.startswith("aws:")])
        if not new or held + len(new) <= most:
            continue
        for change in new:
            full[(change.target, change.alias)] = (
                f"{target.name}:{change.alias}: the function has {held} tags, and "
                f"{cloud_name} holds at most {most} a function; a rollout records its step "
                f"in the tag {tag_key(change.alias)}: remove a tag of the function first"
            )
    return full


def _check(
    change: Change,
    reader: VersionReader,
    alarms: dict[str, set[str]],
    hooks: dict[FunctionTarget, bool],
) -> list[str]:
    rollout, before, after = change.rollout, change.before, change.after
    assert rollout is not None
    assert before is not None
    assert after is not None
    name = f"{change.target.name}:{change.alias}"
    messages = [
        f"{name}: alarm {alarm!r} does not exist in {change.target.region}; create it, or "
        "remove it from the rollout"
        for alarm in rollout.alarms
        if alarm not in alarms.get(change.target.region, set())
    ]
    for hook in dict.fromkeys(rollout.hooks):
        where = hook_target(change.target, hook)
        if where not in hooks:
            latest = fg.LATEST if where.provider == fg.PROVIDER else contract.LATEST
            hooks[where] = reader.version_info(where, latest) is not None
        if not hooks[where]:
            messages.append(
                f"{name}: hook function {hook!r} does not exist in {where.region}; create it, or "
                "remove it from the rollout"
            )
    started = before.routing is not None and before.routing.version == after.version
    if started:  # the alias routes to the new version already: those checks passed then
        return messages
    old, new = (reader.version_info(change.target, v) for v in (before.version, after.version))
    if old is not None and new is not None:
        messages += routing_problems(
            name,
            old,
            new,
            one_role="a rollout routes between them, which needs one",
            same_dead_letter="a rollout routes between them, which needs the same (or none)",
        )
    executions = reader.provisioned_concurrency(change.target, change.alias)
    if executions:
        messages.append(
            f"{name} has provisioned concurrency ({executions}); a rollout routes weights, "
            "which is not combined with provisioned concurrency on one alias: remove it first"
        )
    return messages
