"""The desired state, as written in manifests: pydantic models, frozen, unknown keys refused.

Validation follows the service's rules (``reconciler.contract``), so nothing the service would
refuse gets into a plan.
"""

from __future__ import annotations

import math
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictStr,
    WithJsonSchema,
    field_validator,
    model_validator,
)

from reconciler import contract
from reconciler.rollout.spec import RolloutSpec


def _version_text(value: Any) -> Any:
    """``version: 12`` and ``version: "12"`` mean the same version; 1.5 and true are none."""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, float | bool):
        raise ValueError(f"version must be a published version number or $LATEST, not {value!r}")
    return value


def _check_version(value: str) -> str:
    problem = contract.version_problem(value)
    if problem is not None:
        raise ValueError(problem)
    return value


def _name_text(value: Any) -> Any:
    """A number is not an alias name: say so in the words of the rule it breaks."""
    if isinstance(value, int) and not isinstance(value, bool):
        text = str(value)
        raise ValueError(
            contract.alias_name_problem(text) or f"alias name {text} is read as a number; quote it"
        )
    return value


def _weight_number(value: Any) -> Any:
    """Weights are numbers: 1 is 1.0, but "0.5", true and .nan are not weights."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"weight must be a number between 0.0 and 1.0, not {value!r}")
    try:
        weight = float(value)
    except OverflowError:  # an integer past float's range
        weight = math.inf
    if not math.isfinite(weight):
        shown = str(value) if len(str(value)) <= 20 else f"{str(value)[:20]}..."
        raise ValueError(f"weight must be a number between 0.0 and 1.0, not {shown}")
    return weight


def _pattern(pattern: str, **schema: Any) -> WithJsonSchema:
    """A text's JSON Schema: the very pattern validation uses, anchored."""
    return WithJsonSchema({"type": "string", **schema, "pattern": f"^{pattern}$"})


def _version_schema(pattern: str) -> WithJsonSchema:
    """A version's JSON Schema: a number from 1, or text that matches ``pattern``."""
    return WithJsonSchema(
        {
            "anyOf": [
                {"type": "integer", "minimum": 1},
                {"type": "string", "pattern": pattern, "maxLength": contract.VERSION_MAX},
            ]
        }
    )


# Scalars are strict (a YAML string is never silently a number or a boolean); lists stay lists.
# Each type's JSON Schema states every rule its validators enforce that a schema can state.
Version = Annotated[
    StrictStr, BeforeValidator(_version_text), _version_schema(r"^(\$LATEST|[1-9][0-9]*)$")
]
PublishedVersion = Annotated[
    StrictStr, BeforeValidator(_version_text), _version_schema(r"^[1-9][0-9]*$")
]
AliasName = Annotated[
    StrictStr,
    BeforeValidator(_name_text),
    _pattern(contract.ALIAS_NAME_PATTERN, minLength=1, maxLength=contract.ALIAS_NAME_MAX),
]
Weight = Annotated[
    float,
    BeforeValidator(_weight_number),
    WithJsonSchema({"type": "number", "minimum": 0.0, "maximum": 1.0}),
]
FunctionName = Annotated[
    StrictStr, _pattern(contract.FUNCTION_PATTERN, maxLength=contract.FUNCTION_ARN_MAX)
]
Region = Annotated[StrictStr, _pattern(contract.REGION_PATTERN)]
Account = Annotated[StrictStr, _pattern(contract.ACCOUNT_PATTERN)]


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Routing(_Model):
    """A share of the alias's traffic sent to a second published version."""

    version: PublishedVersion = Field(description="The second version: a published version number.")
    weight: Weight = Field(
        ge=0.0, le=1.0, description="Share of traffic for the second version, 0.0 to 1.0."
    )

    @field_validator("version")
    @classmethod
    def _published(cls, value: str) -> str:
        if value == contract.LATEST:
            raise ValueError("routing must name a published version number, not $LATEST")
        return _check_version(value)


class AliasSpec(_Model):
    """One alias: the version it points to, and optionally a description and weighted routing."""

    model_config = ConfigDict(
        json_schema_extra={  # routing needs a published version to route from
            "if": {"required": ["routing"], "properties": {"routing": {"type": "object"}}},
            "then": {"properties": {"version": {"not": {"const": contract.LATEST}}}},
            # a rollout moves to a published version, by routing of its own
            "dependentSchemas": {
                "rollout": {"properties": {"version": {"not": {"const": contract.LATEST}}}}
            },
            "not": {"required": ["routing", "rollout"]},
        }
    )

    name: AliasName = Field(
        description="Alias name: letters, digits, '-' and '_', not digits only."
    )
    version: Version = Field(description="Published version number, or $LATEST.")
    description: StrictStr | None = Field(
        default=None,
        max_length=contract.DESCRIPTION_MAX,
        description="Omitted: left as it is live. An empty string clears it.",
    )
    routing: Routing | None = Field(
        default=None, description="Weighted routing to a second version; omitted means none."
    )
    rollout: RolloutSpec | None = Field(
        default=None,
        description="Move to a new version in weight steps gated on alarms and hooks, "
        "instead of in one write.",
    )

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        problem = contract.alias_name_problem(value)
        if problem is not None:
            raise ValueError(problem)
        return value

    @field_validator("version")
    @classmethod
    def _version(cls, value: str) -> str:
        return _check_version(value)

    @model_validator(mode="after")
    def _routing(self) -> AliasSpec:
        if self.rollout is not None and self.routing is not None:
            raise ValueError(
                "rollout sets the routing itself, step by step: remove routing, or rollout"
            )
        if self.rollout is not None and self.version == contract.LATEST:
            raise ValueError("a rollout moves to a published version, not $LATEST")
        if self.routing is not None:
            problem = contract.routing_problem(
                self.version, {self.routing.version: self.routing.weight}
            )
            if problem is not None:
                raise ValueError(problem[1])
        return self


class FunctionSpec(_Model):
    """The aliases one function should have."""

    model_config = ConfigDict(
        json_schema_extra={
            "title": "reconciler manifest",
            "additionalProperties": False,
            "if": {"required": ["keep"], "properties": {"keep": {"minItems": 1}}},
            "then": {"required": ["prune"], "properties": {"prune": {"const": True}}},
        }
    )

    provider: Literal["lambda"] = Field(
        default="lambda", description="The cloud: lambda (AWS Lambda, the default), functiongraph."
    )
    function: FunctionName = Field(description="Function name, partial ARN or full ARN.")
    region: Region | None = Field(
        default=None, description="AWS Region; else --region or the AWS configuration."
    )
    account: Account | None = Field(
        default=None, description="12-digit account ID, quoted; apply refuses other credentials."
    )
    prune: StrictBool = Field(
        default=False, description="Delete live aliases of this function that are not listed."
    )
    keep: tuple[StrictStr, ...] = Field(
        default=(), description="With prune: globs of alias names never deleted."
    )
    aliases: tuple[AliasSpec, ...] = Field(description="The aliases this function should have.")

    @field_validator("function")
    @classmethod
    def _function(cls, value: str) -> str:
        ref = contract.parse_function_name(value)
        if ref.qualifier is not None:
            raise ValueError(f"name the function without a qualifier, not {value!r}")
        problem = contract.partition_problem(value)
        if problem is not None:
            raise ValueError(problem)
        return value

    @field_validator("region")
    @classmethod
    def _region(cls, value: str | None) -> str | None:
        if value is not None and contract.REGION_RE.fullmatch(value) is None:
            raise ValueError(f"{value!r} is not an AWS Region such as eu-west-1")
        return value

    @field_validator("account", mode="before")
    @classmethod
    def _account(cls, value: Any) -> Any:
        if isinstance(value, int) and not isinstance(value, bool):
            raise ValueError(f'quote the account ID (account: "{value:012d}") so no digit is lost')
        if isinstance(value, str) and contract.ACCOUNT_RE.fullmatch(value) is None:
            raise ValueError(f"an account ID is 12 digits, not {value!r}")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> FunctionSpec:
        ref = contract.parse_function_name(self.function)
        if ref.region and self.region and ref.region != self.region:
            raise ValueError(
                f"the function ARN says Region {ref.region} but region says {self.region}"
            )
        if ref.account and self.account and ref.account != self.account:
            raise ValueError(
                f"the function ARN says account {ref.account} but account says {self.account}"
            )
        if self.keep and not self.prune:
            raise ValueError("keep only matters with prune: true; remove it or set prune: true")
        return self

    @property
    def name(self) -> str:
        return self.where.name

    @property
    def where(self) -> contract.FunctionRef:
        """The function's name, and its Region and account as far as the manifest says: from its
        ARN, else from ``region`` and ``account`` (the validator has made sure they agree)."""
        ref = contract.parse_function_name(self.function)
        return contract.FunctionRef(
            name=ref.name,
            region=ref.region or self.region,
            account=ref.account or self.account,
            partition=ref.partition,
        )


def manifest_schema() -> dict[str, Any]:
    """The JSON Schema of one manifest document, for editors and `reconcile schema`: a Lambda
    manifest, or a FunctionGraph one when it says ``provider: functiongraph``."""
    from reconciler.functiongraph import FunctionGraphSpec  # noqa: PLC0415 - imports this module

    lambda_schema = FunctionSpec.model_json_schema(ref_template="#/$defs/{model}")
    fg_schema = FunctionGraphSpec.model_json_schema(ref_template="#/$defs/{model}")
    defs = {**lambda_schema.pop("$defs", {}), **fg_schema.pop("$defs", {})}
    lambda_schema.pop("title", None)
    defs["FunctionSpec"] = lambda_schema
    defs["FunctionGraphSpec"] = fg_schema
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "reconciler manifest",
        "type": "object",
        "if": {
            "type": "object",
            "required": ["provider"],
            "properties": {"provider": {"const": "functiongraph"}},
        },
        "then": {"$ref": "#/$defs/FunctionGraphSpec"},
        "else": {"$ref": "#/$defs/FunctionSpec"},
        "$defs": defs,
    }
