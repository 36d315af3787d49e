"""What was read back from the cloud, and the shapes both sides of a comparison share."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

WEIGHT_TOLERANCE = 1e-9


@dataclass(frozen=True, slots=True)
class Route:
    """Weighted routing: ``weight`` of the traffic goes to ``version``."""

    version: str
    weight: float

    def same_as(self, other: Route | None) -> bool:
        return (
            other is not None
            and self.version == other.version
            and abs(self.weight - other.weight) <= WEIGHT_TOLERANCE
        )

    def to_dict(self) -> dict[str, Any]:
        return {"version": self.version, "weight": self.weight}

    def __str__(self) -> str:
        return f"{self.weight:.4g} to v{self.version}"


@dataclass(frozen=True, slots=True)
class FunctionTarget:
    """A function where it lives: partition, account, Region and name, all resolved."""

    account: str
    region: str
    name: str
    partition: str = "aws"

    @property
    def address(self) -> str:
        return f"{self.account}/{self.region}/{self.name}"

    @property
    def arn(self) -> str:
        return f"arn:{self.partition}:lambda:{self.region}:{self.account}:function:{self.name}"

    def alias_address(self, alias: str) -> str:
        return f"{self.address}:{alias}"


@dataclass(frozen=True, slots=True)
class DesiredAlias:
    """What an alias should be. ``description`` None means the manifest leaves it as it is."""

    name: str
    version: str
    description: str | None = None
    routing: Route | None = None

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
    def from_api(cls, data: dict[str, Any]) -> LiveAlias:
        """From a GetAlias / ListAliases entry; empty and absent routing are the same state."""
        weights = (data.get("RoutingConfig") or {}).get("AdditionalVersionWeights") or {}
        routing = None
        if weights:
            version, weight = next(iter(sorted(weights.items())))
            routing = Route(str(version), float(weight))
        return cls(
            name=data["Name"],
            version=data["FunctionVersion"],
            description=data.get("Description") or "",
            routing=routing,
            revision_id=data.get("RevisionId", ""),
        )


@dataclass(frozen=True, slots=True)
class VersionInfo:
    """What a weighted alias needs of a published version; nothing else of it is kept."""

    version: str
    role: str
    dead_letter_target: str | None

    @classmethod
    def from_api(cls, configuration: dict[str, Any]) -> VersionInfo:
        """From GetFunction's ``Configuration``; its environment variables are never looked at."""
        return cls(
            version=str(configuration["Version"]),
            role=str(configuration.get("Role", "")),
            dead_letter_target=(configuration.get("DeadLetterConfig") or {}).get("TargetArn"),
        )


@dataclass(frozen=True, slots=True)
class LiveFunction:
    """A function's aliases as read; ``exists`` False when the function itself is missing."""

    target: FunctionTarget
    aliases: tuple[LiveAlias, ...]
    exists: bool = True
