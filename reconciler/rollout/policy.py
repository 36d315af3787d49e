"""Policy gates on version changes, from an optional ``policy.yaml`` beside the manifests:

```yaml
require_rollout: ["live", "prod-*"]   # these aliases change version only through a rollout
max_step: 25                          # the largest weight increase of a step, 100 % included
min_bake: 5m                          # the shortest bake
freeze:                               # no version change in these windows (rollbacks are fine)
  - {from: "2026-12-20T00:00:00Z", to: "2027-01-04T00:00:00Z", reason: year-end freeze}
```

A plan that breaks a rule fails (exit 1); each problem is at the alias's manifest line and names
the rule and where the policy says it. Read by the manifests' own YAML reader, as strictly.
"""

from __future__ import annotations

import fnmatch
import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictInt,
    StrictStr,
    ValidationError,
    field_validator,
    model_validator,
)

from reconciler.errors import ManifestError, Problem
from reconciler.live import WEIGHT_TOLERANCE
from reconciler.manifests import POLICY_NAMES, Source, _documents, _problem
from reconciler.plan import Action, Change, Plan
from reconciler.planner import DesiredFunction
from reconciler.rollout.model import duration_text, parse_duration


def _moment(value: Any) -> Any:
    if not isinstance(value, str):
        raise ValueError(f'write a time such as "2026-12-20T00:00:00Z", not {value!r}')
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"write a time such as 2026-12-20T00:00:00Z, not {value!r}") from None
    if moment.tzinfo is None:
        raise ValueError(f"{value} has no time zone: end it with Z or +HH:MM")
    return moment


Moment = Annotated[datetime, BeforeValidator(_moment)]


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)


class Freeze(_Model):
    start: Moment = Field(alias="from")
    end: Moment = Field(alias="to")
    reason: StrictStr = ""

    @model_validator(mode="after")
    def _ordered(self) -> Freeze:
        if self.end <= self.start:
            raise ValueError("a freeze ends after it starts: 'to' must be later than 'from'")
        return self


class PolicySpec(_Model):
    require_rollout: tuple[StrictStr, ...] = ()
    max_step: StrictInt | None = Field(default=None, ge=1, le=100)
    min_bake: StrictStr | None = None
    freeze: tuple[Freeze, ...] = ()

    @field_validator("min_bake")
    @classmethod
    def _duration(cls, value: str | None) -> str | None:
        if value is not None:
            parse_duration(value)
        return value


@dataclass(frozen=True)
class Policy:
    """One policy file: its rules and the line of each."""

    spec: PolicySpec
    path: str
    lines: dict[str, Source]

    def at(self, rule: str) -> str:
        source = self.lines.get(rule, Source(self.path, 1))
        return f"{source.path}:{source.line}"

    def frozen(self, now: datetime) -> Freeze | None:
        return next((f for f in self.spec.freeze if f.start <= now < f.end), None)


def policy_files(paths: Sequence[Path]) -> list[Path]:
    """The policy files beside the given manifest paths (in a folder given, or a file's folder)."""
    found: list[Path] = []
    for path in paths:
        folder = path if path.is_dir() else path.parent
        for name in POLICY_NAMES:
            candidate = folder / name
            if candidate.is_file() and candidate not in found:
                found.append(candidate)
    return found


def load_policies(paths: Sequence[Path]) -> list[Policy]:
    """Every policy beside ``paths``; ``ManifestError`` with file:line for a bad one."""
    policies, problems = [], []
    for file in policy_files(paths):
        policy, found = _load(file)
        problems.extend(found)
        if policy is not None:
            policies.append(policy)
    if problems:
        raise ManifestError(problems, consequence="nothing was read or changed")
    return policies


def _load(file: Path) -> tuple[Policy | None, list[Problem]]:
    path = str(file)
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return None, [Problem(path, 0, 0, f"cannot read the policy: {exc}")]
    import yaml  # noqa: PLC0415 - the manifests' reader already has it loaded

    try:
        documents = list(_documents(path, text, track=True, plain={}))
    except yaml.YAMLError as exc:
        return None, [Problem(path, 1, 1, f"not valid YAML: {exc}")]
    if len(documents) != 1:
        return None, [Problem(path, 1, 1, "a policy is one YAML document")]
    data, document, refused = documents[0]
    if refused:
        return None, list(refused)
    if not isinstance(data, dict):
        return None, [Problem(path, 1, 1, "a policy is a mapping of rules (see the README)")]
    try:
        spec = PolicySpec.model_validate(data)
    except ValidationError as exc:
        return None, [_problem(error, document) for error in exc.errors()]
    lines = {rule: document.source((rule,)) for rule in data}
    return Policy(spec, path, lines), []


def _version_change(change: Change) -> bool:
    """A change that sends traffic to another version: of the alias's version, or of its routing
    to a version it did not route to, at a higher weight, or by other rules. Routing is a way to
    move traffic too, so the gates hold it as they hold a version change (99 % by routing is not
    less of a release than 100 % by version); less traffic to the routed version is not held."""
    before, after = change.before, change.after
    if change.action is not Action.UPDATE or before is None or after is None:
        return False
    if before.version != after.version:
        return True
    route, old = after.routing, before.routing
    if route is None or route.version == after.version:
        return False
    if old is None or old.version != route.version:
        return True
    return route.weight > old.weight + WEIGHT_TOLERANCE or route.rules != old.rules


def _versions(change: Change) -> str:
    """``12 -> 13``, or ``12 -> 12 with 99% to 13`` for traffic moved by routing."""
    assert change.before is not None
    assert change.after is not None
    route = change.after.routing
    versions = f"{change.before.version} -> {change.after.version}"
    if change.before.version != change.after.version or route is None:
        return versions
    return f"{versions} with {route.weight * 100:.4g}% to {route.version}"


def policy_problems(
    plan: Plan, desired: Sequence[DesiredFunction], policies: Sequence[Policy], now: datetime
) -> list[Problem]:
    """Every change of ``plan`` that breaks a rule, at its alias's manifest line."""
    sources = {
        (d.target, alias.name): source
        for d in desired
        for alias, source in zip(d.aliases, d.alias_sources, strict=False)
    }
    problems = []
    for change in plan.changes:
        if not _version_change(change):
            continue
        where = sources.get((change.target, change.alias), Source(change.address, 0, 0))
        for policy in policies:
            for message in _broken(change, policy, now):
                problems.append(Problem(where.path, where.line, where.column, message))
    return problems


def _broken(change: Change, policy: Policy, now: datetime) -> list[str]:
    assert change.before is not None
    assert change.after is not None
    spec, rollout = policy.spec, change.rollout
    name = f"{change.target.name}:{change.alias}"
    versions = _versions(change)
    found = []
    if rollout is None and any(fnmatch.fnmatchcase(change.alias, g) for g in spec.require_rollout):
        found.append(
            f"breaks require_rollout ({policy.at('require_rollout')}): {name} changes version "
            f"{versions} only through a rollout; add a rollout to the alias"
        )
    if rollout is not None and spec.max_step is not None:
        points = [0, *rollout.steps, 100]
        for low, high in itertools.pairwise(points):
            if high - low > spec.max_step:
                found.append(
                    f"breaks max_step ({policy.at('max_step')}): {name} goes from {low}% to "
                    f"{high}% in one step, more than {spec.max_step} points; add steps between"
                )
                break
    if rollout is not None and spec.min_bake is not None:
        shortest = parse_duration(spec.min_bake)
        if rollout.bake < shortest:
            found.append(
                f"breaks min_bake ({policy.at('min_bake')}): {name} bakes "
                f"{duration_text(rollout.bake)}, less than {spec.min_bake}"
            )
    freeze = policy.frozen(now)
    # Here, not at the top: the engine brings boto3, and validate reads policies without it.
    from reconciler.rollout.engine import started  # noqa: PLC0415

    if freeze is not None and not started(change):
        reason = f" ({freeze.reason})" if freeze.reason else ""
        found.append(
            f"breaks freeze ({policy.at('freeze')}): no version change from "
            f"{freeze.start.isoformat()} to {freeze.end.isoformat()}{reason}; {name} {versions} "
            "waits until then (rollbacks and aborts are allowed)"
        )
    return found


def frozen_now(policies: Sequence[Policy], now: datetime) -> Freeze | None:
    """The freeze in force now, if any: rollouts under way hold where they are."""
    return next((f for p in policies if (f := p.frozen(now)) is not None), None)


def frozen_by(policies: Sequence[Policy], now: datetime) -> str | None:
    """``breaks freeze (policy.yaml:3): ...`` when a freeze is in force now, else None."""
    for policy in policies:
        freeze = policy.frozen(now)
        if freeze is not None:
            reason = f" ({freeze.reason})" if freeze.reason else ""
            return (
                f"breaks freeze ({policy.at('freeze')}): no version change from "
                f"{freeze.start.isoformat()} to {freeze.end.isoformat()}{reason}"
            )
    return None
