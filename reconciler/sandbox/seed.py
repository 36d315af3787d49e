"""Seeds: the functions, versions, roles and aliases a sandbox starts with.

```yaml
region: eu-west-1                  # default Region of the functions below
functions:
  - name: payments-api
    versions: 13                   # publish versions 1..13 (or a list, one entry per version)
    role: payments-exec            # execution role name or ARN, created if missing
    aliases:
      - {name: live, version: 12, description: production, routing: {version: 13, weight: 0.05}}
      - {name: warm, version: 12, provisioned_concurrency: 5}
    alarms: [{name: payments-api-errors, state: OK}]   # CloudWatch alarms, in its Region
  - name: payments-smoke
    hook: succeed                  # what Invoke answers: succeed, fail or error
  - name: orders
    region: us-east-1
    versions: [{}, {role: other-role}, {dead_letter: "arn:aws:sqs:us-east-1:123456789012:dlq"}]
    hook: {answer: fail, delay_seconds: 2}
```
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from reconciler.errors import SeedError
from reconciler.sandbox.functiongraph import FunctionGraphSeed, parse_seed_function

DEFAULT_ROLE = "lambda-exec"
# libyaml's loader when PyYAML has it, as for manifests: ten times the pure-Python one's speed.
LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass(frozen=True)
class VersionSeed:
    role: str | None = None
    dead_letter: str | None = None


@dataclass(frozen=True)
class AliasSeed:
    name: str
    version: str
    description: str = ""
    routing: dict[str, float] = field(default_factory=dict)
    provisioned_concurrency: int = 0

    def to_request(self) -> dict[str, Any]:
        request: dict[str, Any] = {
            "Name": self.name,
            "FunctionVersion": self.version,
            "Description": self.description,
        }
        if self.routing:
            request["RoutingConfig"] = {"AdditionalVersionWeights": dict(self.routing)}
        return request


ALARM_STATES = ("OK", "ALARM", "INSUFFICIENT_DATA")


@dataclass(frozen=True)
class AlarmSeed:
    name: str
    state: str = "OK"


@dataclass(frozen=True)
class HookSeed:
    answer: str  # succeed, fail or error
    delay_seconds: float = 0.0


@dataclass(frozen=True)
class FunctionSeed:
    name: str
    region: str
    versions: tuple[VersionSeed, ...] = ()
    role: str = DEFAULT_ROLE
    aliases: tuple[AliasSeed, ...] = ()
    alarms: tuple[AlarmSeed, ...] = ()
    hook: HookSeed | None = None


def parse_seed(data: Any, default_region: str) -> list[FunctionSeed | FunctionGraphSeed]:
    """Read a seed document; ``SeedError`` names what is wrong and where."""
    if data is None:
        return []
    if not isinstance(data, Mapping):
        raise SeedError("a seed is a mapping with a 'functions' list")
    unknown = set(data) - {"region", "functions"}
    if unknown:
        raise SeedError(f"unknown seed keys: {', '.join(sorted(unknown))}")
    region = str(data.get("region") or default_region)
    functions = data.get("functions") or []
    if not isinstance(functions, Sequence) or isinstance(functions, str):
        raise SeedError("'functions' must be a list")
    return [_function(f, region, i) for i, f in enumerate(functions)]


def load_seed_file(path: Path, default_region: str) -> list[FunctionSeed | FunctionGraphSeed]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SeedError(f"{path}: cannot read the seed file: {exc}") from None
    try:
        data = yaml.load(text, Loader=LOADER)
    # PyYAML's YAML 1.1 constructors raise ValueError for some scalars that scan as numbers or
    # dates (0x_, 2024-13-45): the file's fault too.
    except (yaml.YAMLError, ValueError) as exc:
        raise SeedError(f"{path}: not valid YAML: {exc}") from None
    try:
        return parse_seed(data, default_region)
    except SeedError as exc:
        raise SeedError(f"{path}: {exc}") from None


def _function(data: Any, region: str, index: int) -> FunctionSeed | FunctionGraphSeed:
    where = f"functions[{index}]"
    if isinstance(data, Mapping) and data.get("provider") == "functiongraph":
        try:
            return parse_seed_function(data, region, where)
        except ValueError as exc:
            raise SeedError(str(exc)) from None
    if not isinstance(data, Mapping) or not isinstance(data.get("name"), str):
        raise SeedError(f"{where}: each function is a mapping with a 'name'")
    unknown = set(data) - {"name", "region", "versions", "role", "aliases", "alarms", "hook"}
    if unknown:
        raise SeedError(f"{where}: unknown keys: {', '.join(sorted(unknown))}")
    raw_versions = data.get("versions", 1)
    if isinstance(raw_versions, int) and not isinstance(raw_versions, bool):
        versions = tuple(VersionSeed() for _ in range(raw_versions))
    elif isinstance(raw_versions, Sequence) and not isinstance(raw_versions, str):
        versions = tuple(
            VersionSeed(role=v.get("role"), dead_letter=v.get("dead_letter"))
            for v in (x or {} for x in raw_versions)
        )
    else:
        raise SeedError(f"{where}.versions: a number of versions, or a list of them")
    aliases = []
    for j, alias in enumerate(data.get("aliases") or []):
        if not isinstance(alias, Mapping) or "name" not in alias or "version" not in alias:
            raise SeedError(f"{where}.aliases[{j}]: each alias has a 'name' and a 'version'")
        aliases.append(
            AliasSeed(
                name=str(alias["name"]),
                version=str(alias["version"]),
                description=str(alias.get("description", "")),
                routing=_weights(alias.get("routing"), f"{where}.aliases[{j}].routing"),
                provisioned_concurrency=_count(
                    alias.get("provisioned_concurrency", 0),
                    f"{where}.aliases[{j}].provisioned_concurrency",
                ),
            )
        )
    return FunctionSeed(
        name=data["name"],
        region=str(data.get("region") or region),
        versions=versions,
        role=str(data.get("role") or DEFAULT_ROLE),
        aliases=tuple(aliases),
        alarms=_alarms(data.get("alarms") or [], where),
        hook=_hook(data.get("hook"), where),
    )


def _weights(routing: Any, where: str) -> dict[str, float]:
    """A seed alias's routing, ``{version, weight}``, as Lambda's weights; none when absent."""
    if not routing:
        return {}
    if not isinstance(routing, Mapping) or set(routing) != {"version", "weight"}:
        raise SeedError(f"{where}: a mapping of 'version' and 'weight', as in a manifest")
    weight = routing["weight"]
    if isinstance(weight, bool) or not isinstance(weight, int | float):
        raise SeedError(f"{where}.weight: a number from 0.0 to 1.0, not {str(weight)[:40]!r}")
    return {str(routing["version"]): float(weight)}


def _count(value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise SeedError(f"{where}: a whole number, not {str(value)[:40]!r}")
    return value


def _alarms(data: Any, where: str) -> tuple[AlarmSeed, ...]:
    alarms = []
    for j, alarm in enumerate(data if isinstance(data, Sequence) else [None]):
        if not isinstance(alarm, Mapping) or not isinstance(alarm.get("name"), str):
            raise SeedError(f"{where}.alarms[{j}]: each alarm is a mapping with a 'name'")
        state = str(alarm.get("state", "OK"))
        if state not in ALARM_STATES:
            raise SeedError(f"{where}.alarms[{j}]: state is one of {', '.join(ALARM_STATES)}")
        alarms.append(AlarmSeed(alarm["name"], state))
    return tuple(alarms)


def _hook(data: Any, where: str) -> HookSeed | None:
    if data is None:
        return None
    if isinstance(data, str):
        data = {"answer": data}
    if not isinstance(data, Mapping) or set(data) - {"answer", "delay_seconds"}:
        raise SeedError(f"{where}.hook: succeed, fail, error, or {{answer, delay_seconds}}")
    delay = data.get("delay_seconds", 0)
    if isinstance(delay, bool) or not isinstance(delay, int | float):
        raise SeedError(f"{where}.hook.delay_seconds: a number of seconds")
    return HookSeed(str(data.get("answer")), float(delay))
