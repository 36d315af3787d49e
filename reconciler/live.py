"""What was read back from the cloud, and the shapes both sides of a comparison share."""

from __future__ import annotations

import math
import reprlib
from dataclasses import dataclass
from typing import Any

from reconciler.contract import (
    DESCRIPTION_MAX,
    alias_name_problem,
    routing_problem,
    version_problem,
)
from reconciler.errors import MalformedAnswerError
from reconciler.rollout.model import Rollout

WEIGHT_TOLERANCE = 1e-9


@dataclass(frozen=True, slots=True)
class RouteRule:
    """A rule of FunctionGraph's rule-based routing, as its API writes it: requests whose
    ``header`` is ``value`` (op ``=``) or one of the comma-separated ``value`` (op ``in``)."""

    header: str
    op: str
    value: str

    def to_dict(self) -> dict[str, Any]:
        return {"header": self.header, "op": self.op, "value": self.value}

    def __str__(self) -> str:
        return f"{self.header} {self.op} {self.value}"


@dataclass(frozen=True, slots=True)
class Route:
    """The alias's second version: ``weight`` of the traffic goes to ``version``, or (on
    FunctionGraph, with ``rules``) the requests the rules select, combined by ``combine``."""

    version: str
    weight: float
    rules: tuple[RouteRule, ...] = ()
    combine: str = "and"

    def same_as(self, other: Route | None) -> bool:
        return (
            other is not None
            and self.version == other.version
            and self.rules == other.rules
            and (not self.rules or self.combine == other.combine)
            and abs(self.weight - other.weight) <= WEIGHT_TOLERANCE
        )

    def to_dict(self) -> dict[str, Any]:
        if self.rules:
            return {
                "version": self.version,
                "rules": [r.to_dict() for r in self.rules],
                "combine": self.combine,
            }
        return {"version": self.version, "weight": self.weight}

    def __str__(self) -> str:
        shown = f"v{self.version}" if self.version.isdigit() else self.version
        if self.rules:
            return f"{f' {self.combine} '.join(str(r) for r in self.rules)} to {shown}"
        return f"{self.weight:.4g} to {shown}"


@dataclass(frozen=True, slots=True)
class FunctionTarget:
    """A function where it lives: partition, account, Region and name, all resolved."""

    account: str  # on FunctionGraph, the project ID
    region: str
    name: str
    partition: str = "aws"
    provider: str = "lambda"  # or "functiongraph"
    package: str = ""  # FunctionGraph's package of the function

    @property
    def address(self) -> str:
        if self.provider == "lambda" or self.package == "default":
            return f"{self.account}/{self.region}/{self.name}"
        return f"{self.account}/{self.region}/{self.package}/{self.name}"

    @property
    def arn(self) -> str:
        """The function's ARN, or on FunctionGraph its URN (that of its ``latest``)."""
        if self.provider == "functiongraph":
            return (
                f"urn:fss:{self.region}:{self.account}:function:{self.package}:{self.name}:latest"
            )
        return f"arn:{self.partition}:lambda:{self.region}:{self.account}:function:{self.name}"

    def alias_address(self, alias: str) -> str:
        return f"{self.address}:{alias}"


@dataclass(frozen=True, slots=True)
class DesiredAlias:
    """What an alias should be. ``description`` None means the manifest leaves it as it is;
    ``rollout``, how a new version is reached (not a field of the alias: it is never compared)."""

    name: str
    version: str
    description: str | None = None
    routing: Route | None = None
    rollout: Rollout | None = None

    def managed_fields(self) -> dict[str, Any]:
        """The fields this alias manages, as plain data for diffs and plan files."""
        fields: dict[str, Any] = {"version": self.version}
        if self.description is not None:
            fields["description"] = self.description
        fields["routing"] = None if self.routing is None else self.routing.to_dict()
        return fields


@dataclass(frozen=True, slots=True)
class LiveAlias:
    """An alias as the service returned it."""

    name: str
    version: str
    description: str
    routing: Route | None
    revision_id: str

    def satisfies(self, desired: DesiredAlias) -> bool:
        """True when the alias already is what ``desired`` asks for (the fast equality check)."""
        if self.version != desired.version:
            return False
        if desired.description is not None and self.description != desired.description:
            return False
        if desired.routing is None:
            return self.routing is None
        return desired.routing.same_as(self.routing)

    def fields_like(self, desired: DesiredAlias | None) -> dict[str, Any]:
        """This alias's fields, limited to what ``desired`` manages (all when None)."""
        fields: dict[str, Any] = {"version": self.version}
        if desired is None or desired.description is not None:
            fields["description"] = self.description
        fields["routing"] = None if self.routing is None else self.routing.to_dict()
        return fields

    @classmethod
    def from_api(cls, data: object) -> LiveAlias:
        """From a GetAlias / ListAliases entry; empty and absent routing are the same state.

        Nothing the service would not have said is taken: ``MalformedAnswerError`` says what is
        wrong with an entry that is not an alias as the API defines it."""
        entry = _object(data, "an alias")
        name = _text(entry, "Name", "an alias")
        if problem := alias_name_problem(name):
            raise MalformedAnswerError(f"an alias's Name breaks the service's rules: {problem}")
        what = f"alias {name!r}"
        version = _text(entry, "FunctionVersion", what)
        if problem := version_problem(version):
            raise MalformedAnswerError(f"{what}: {problem}")
        description = _optional_text(entry, "Description", what) or ""
        if len(description) > DESCRIPTION_MAX:
            raise MalformedAnswerError(
                f"{what}: Description is {len(description)} characters; "
                f"the service keeps at most {DESCRIPTION_MAX}"
            )
        revision_id = _text(entry, "RevisionId", what)
        if not revision_id:
            raise MalformedAnswerError(f"{what}: RevisionId is empty")
        return cls(
            name=name,
            version=version,
            description=description,
            routing=_routing(entry.get("RoutingConfig"), version, what),
            revision_id=revision_id,
        )


def _routing(config: object, version: str, what: str) -> Route | None:
    """The one weighted route of a RoutingConfig, or None; anything the service refuses is an
    error, never a route dropped or a weight taken as it comes (NaN, infinity, 1.5)."""
    if config is None:
        return None
    weights = _object(config, f"{what}: RoutingConfig").get("AdditionalVersionWeights")
    if weights is None:
        return None
    checked: dict[str, float] = {}
    for extra, weight in _object(weights, f"{what}: AdditionalVersionWeights").items():
        if not isinstance(extra, str):
            raise MalformedAnswerError(f"{what}: routing version {_shown(extra)} is not a string")
        if isinstance(weight, bool) or not isinstance(weight, int | float):
            raise MalformedAnswerError(f"{what}: routing weight {_shown(weight)} is not a number")
        if not (math.isfinite(weight) and 0.0 <= weight <= 1.0):
            raise MalformedAnswerError(
                f"{what}: routing weight {_shown(weight)} is not a number from 0 to 1"
            )
        checked[extra] = float(weight)
    if not checked:
        return None
    (extra, weight), *_ = checked.items()
    refused = routing_problem(version, checked)
    problem = refused[1] if refused else version_problem(extra)
    if problem:
        raise MalformedAnswerError(f"{what} has routing the service refuses: {problem}")
    return Route(extra, weight)


_REPR = reprlib.Repr()
_REPR.maxstring = _REPR.maxother = 60
_REPR.maxdict = _REPR.maxlist = 3
_REPR.maxlevel = 2


def _shown(value: object) -> str:
    """A value from an answer, short enough for one line of an error message."""
    return _REPR.repr(value)


def _kind(value: object) -> str:
    names = {dict: "an object", list: "a list", str: "a string", bool: "a boolean"}
    return names.get(type(value), "a number" if isinstance(value, int | float) else "a value")


def _object(value: object, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise MalformedAnswerError(f"{what} is {_kind(value)} ({_shown(value)}), not an object")
    return value


def _text(data: dict[str, Any], key: str, what: str) -> str:
    text = _optional_text(data, key, what)
    if text is None:
        raise MalformedAnswerError(f"{what} has no {key}")
    return text


def _optional_text(data: dict[str, Any], key: str, what: str) -> str | None:
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise MalformedAnswerError(
            f"{what}: {key} is {_kind(value)} ({_shown(value)}), not a string"
        )
    return value


@dataclass(frozen=True, slots=True)
class VersionInfo:
    """What a weighted alias needs of a published version; nothing else of it is kept."""

    version: str
    role: str
    dead_letter_target: str | None

    @classmethod
    def from_api(cls, configuration: object) -> VersionInfo:
        """From GetFunction's ``Configuration``; its environment variables are never looked at.

        ``MalformedAnswerError`` when it is not a configuration as the API defines it."""
        config = _object(configuration, "the Configuration")
        version = _text(config, "Version", "the Configuration")
        if problem := version_problem(version):
            raise MalformedAnswerError(f"the Configuration: {problem}")
        dead_letter = config.get("DeadLetterConfig")
        target = None
        if dead_letter is not None:
            target = _optional_text(
                _object(dead_letter, "the DeadLetterConfig"), "TargetArn", "the DeadLetterConfig"
            )
        return cls(
            version=version,
            role=_text(config, "Role", f"the Configuration of version {version}"),
            dead_letter_target=target,
        )


@dataclass(frozen=True, slots=True)
class LiveFunction:
    """A function's aliases as read; ``exists`` False when the function itself is missing."""

    target: FunctionTarget
    aliases: tuple[LiveAlias, ...]
    exists: bool = True
