"""Pure planning: desired functions + live state -> Plan. No network, clock or environment."""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from reconciler import contract
from reconciler import functiongraph as fg
from reconciler._gc import without_cyclic_gc
from reconciler.errors import ManifestError, Problem
from reconciler.live import (
    DesiredAlias,
    FunctionTarget,
    LiveAlias,
    LiveFunction,
    Route,
    RouteRule,
)
from reconciler.manifests import Manifest, Source, duplicate_functions
from reconciler.plan import Action, Change, Plan


@dataclass(frozen=True, slots=True)
class DesiredFunction:
    """A manifest's function, resolved to where it lives."""

    target: FunctionTarget
    aliases: tuple[DesiredAlias, ...]
    prune: bool = False
    keep: tuple[str, ...] = ()
    source: Source | None = None
    alias_sources: tuple[Source, ...] = ()  # where each alias was written, in order

    @classmethod
    def from_manifest(cls, manifest: Manifest, target: FunctionTarget) -> DesiredFunction:
        spec = manifest.spec
        return cls(
            target=target,
            aliases=tuple(
                DesiredAlias(
                    name=a.name,
                    version=a.version,
                    description=a.description,
                    routing=None if a.routing is None else _route(a.routing),
                    rollout=None if a.rollout is None else a.rollout.to_model(),
                )
                for a in spec.aliases
            ),
            prune=spec.prune,
            keep=spec.keep,
            source=manifest.source,
            alias_sources=manifest.alias_sources,
        )

    @property
    def provider(self) -> str:
        return self.target.provider

    def keeps(self, alias: str) -> bool:
        return any(fnmatch.fnmatchcase(alias, pattern) for pattern in self.keep)


def _route(routing: object) -> Route:
    """A manifest's routing as a route: weighted, or (FunctionGraph) by rules."""
    if isinstance(routing, fg.FgRouting) and routing.rules is not None:
        rules = tuple(RouteRule(r.header, *r.api_op()) for r in routing.rules)
        return Route(routing.version, 0.0, rules, routing.combine or "and")
    version, weight = getattr(routing, "version"), getattr(routing, "weight")  # noqa: B009
    return Route(version, weight)


@without_cyclic_gc
def resolve(
    manifests: Sequence[Manifest],
    *,
    default_region: str | None,
    default_account: str,
    default_project: str | None = None,
) -> list[DesiredFunction]:
    """Where each manifest's function lives: Region and account from its ARN, else the manifest,
    else the defaults (for the account, usually that of the credentials in use). A FunctionGraph
    function's Region is its manifest's (or its URN's); its project is its manifest's, else
    ``default_project``."""
    problems: list[Problem] = []
    resolved: list[DesiredFunction] = []
    keyed: list[tuple[FunctionTarget, str, Manifest]] = []  # one function, one owner
    for manifest in manifests:
        spec, where = manifest.spec, manifest.source
        if isinstance(spec, fg.FunctionGraphSpec):
            found = spec.where
            project = found.project or default_project
            missing = []
            if found.region is None:
                missing.append(f"no Region for {spec.function}: set region in the manifest")
            if project is None:
                missing.append(
                    f"no project for {spec.function}: set project in the manifest, or "
                    "HUAWEICLOUD_SDK_PROJECT_ID"
                )
            problems.extend(Problem(where.path, where.line, where.column, m) for m in missing)
            if missing:
                continue
            assert found.region is not None
            assert found.package is not None
            assert project is not None
            target = FunctionTarget(
                project,
                found.region,
                found.name,
                partition="",
                provider=fg.PROVIDER,
                package=found.package,
            )
            resolved.append(DesiredFunction.from_manifest(manifest, target))
            keyed.append((target, target.address, manifest))
            continue
        ref = spec.where
        region = ref.region or default_region
        if region is None:
            problems.append(
                Problem(
                    where.path,
                    where.line,
                    where.column,
                    f"no Region for {spec.function}: set region in the manifest, pass --region, "
                    "or set AWS_REGION",
                )
            )
            continue
        account = ref.account or default_account
        partition = ref.partition or contract.partition_of(region)
        target = FunctionTarget(account, region, ref.name, partition)
        resolved.append(DesiredFunction.from_manifest(manifest, target))
        keyed.append((target, target.address, manifest))
    problems.extend(duplicate_functions(keyed))
    if problems:
        raise ManifestError(problems, consequence=_NOTHING_READ)
    return resolved


_NOTHING_READ = "no alias was read or changed"


def check_account(desired: Sequence[DesiredFunction], caller_account: str) -> None:
    """The account guard: refuse functions of another account than the credentials'."""
    problems = [
        Problem(
            *(function.source or (function.target.address, 0, 0)),
            f"{function.target.name} belongs to account {function.target.account}, but the "
            f"credentials in use are for account {caller_account}; use credentials for "
            f"{function.target.account}",
        )
        for function in desired
        if function.target.provider == "lambda" and function.target.account != caller_account
    ]
    if problems:
        raise ManifestError(problems, consequence=_NOTHING_READ)


def check_project(desired: Sequence[DesiredFunction], caller_project: str | None) -> None:
    """The account guard's FunctionGraph counterpart: refuse functions of another project than
    the credentials' (HUAWEICLOUD_SDK_PROJECT_ID)."""

    def problem(target: FunctionTarget) -> str:
        if caller_project is None:  # never "the credentials are for project (none)"
            return (
                f"{target.name} belongs to project {target.account}, but "
                "HUAWEICLOUD_SDK_PROJECT_ID is not set: set it and the Huawei Cloud credentials "
                "(HUAWEICLOUD_SDK_AK and HUAWEICLOUD_SDK_SK, or OpenID Connect federation), or "
                "use --sandbox to try the tool without a cloud"
            )
        return (
            f"{target.name} belongs to project {target.account}, but the credentials in use "
            f"are for project {caller_project}; use credentials for {target.account}"
        )

    problems = [
        Problem(*(function.source or (function.target.address, 0, 0)), problem(function.target))
        for function in desired
        if function.target.provider == fg.PROVIDER and function.target.account != caller_project
    ]
    if problems:
        raise ManifestError(problems, consequence=_NOTHING_READ)


@without_cyclic_gc
def plan(
    desired: Sequence[DesiredFunction],
    live: Mapping[FunctionTarget, LiveFunction],
    *,
    manifests_digest: str = "",
) -> Plan:
    """What must change for ``live`` to match ``desired``; deterministic for the same inputs."""
    changes: list[Change] = []
    unmanaged: list[tuple[FunctionTarget, LiveAlias]] = []
    missing: list[FunctionTarget] = []
    for function in sorted(desired, key=lambda f: f.target.address):
        current = live[function.target]
        if not current.exists:
            missing.append(function.target)
            continue
        live_by_name = {a.name: a for a in current.aliases}
        wanted = {a.name: a for a in function.aliases}
        for name in sorted(wanted.keys() | live_by_name.keys()):
            before, after = live_by_name.get(name), wanted.get(name)
            if after is not None:
                changes.append(_compare(function.target, before, after))
            elif before is not None and function.prune and not function.keeps(name):
                changes.append(
                    Change(Action.DELETE, function.target, name, before, None, True, function.keep)
                )
            elif before is not None:
                unmanaged.append((function.target, before))
    return Plan(tuple(changes), tuple(unmanaged), tuple(missing), manifests_digest)


def _compare(target: FunctionTarget, before: LiveAlias | None, after: DesiredAlias) -> Change:
    if before is None:
        return Change(Action.CREATE, target, after.name, None, after)
    if before.satisfies(after):  # the fast path: most aliases do not differ
        return Change(Action.NOOP, target, after.name, before, after)
    change = Change(Action.UPDATE, target, after.name, before, after)
    if not change.diffs:  # never plan an update that changes nothing: it would churn the RevisionId
        return Change(Action.NOOP, target, after.name, before, after)
    return change
