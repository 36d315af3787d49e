"""Huawei Cloud FunctionGraph's own rules for aliases, and its manifests.

FunctionGraph's alias API ("Creating an Alias for a Function Version") differs from Lambda's in
ways a manifest must see: versions are names (``v3``, ``latest``), weights are whole percents from
1 to 99, a second version may instead be reached by rules on the request (a header's value), alias
names start with a letter and have at most 64 characters, and a function has at most 10 aliases.
Manifest validation, plan files and the sandbox all read these rules, as they read
``reconciler.contract`` for Lambda. Where the public documents disagree, docs/contract.md says
which rule was chosen and why.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
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

from reconciler.live import WEIGHT_TOLERANCE
from reconciler.rollout.spec import RolloutSpec

PROVIDER = "functiongraph"
LATEST = "latest"
ALIAS_NAME_MAX = 64
ALIASES_MAX = 10  # per function
DESCRIPTION_MAX = 512
VERSION_MAX = 42
FUNCTION_NAME_MAX = 60
PACKAGE_MAX = 64
WEIGHT_MIN, WEIGHT_MAX = 1, 99  # whole percents: 0 is no routing, 100 is the alias's version
DEFAULT_PACKAGE = "default"
# What the apply report says of a FunctionGraph update or delete: the API has no RevisionId, so
# the guard is a read just before the write, and a write between the two is not seen.
GUARD_NOTE = "guarded by last_modified, best effort"
RULE_TYPES = ("header",)
RULE_OPS = ("=", "in")
COMBINE_TYPES = ("and", "or")
RULES_MAX = 10
RULE_VALUE_MAX = 128  # a rule's value, all of it ("internal,qa")
# Function tags, as the FunctionGraph user guide's "Configuring Tags" states them.
TAG_KEY_MAX = 128
TAG_VALUE_MAX = 255
TAGS_MAX = 20  # per function
TAG_RESOURCE_TYPE = "functions"

ALIAS_NAME_PATTERN = r"[a-zA-Z][a-zA-Z0-9_-]{0,63}"
ALIAS_NAME_RE = re.compile(ALIAS_NAME_PATTERN, re.ASCII)
# A version name as FunctionGraph publishes it: letters, digits, '.', '-', '_', from a letter or
# a digit ("1.0" is the API document's own example).
VERSION_PATTERN = r"[a-zA-Z0-9][a-zA-Z0-9._-]{0,41}"
VERSION_RE = re.compile(VERSION_PATTERN, re.ASCII)
PROJECT_PATTERN = r"[0-9a-f]{32}"
PROJECT_RE = re.compile(PROJECT_PATTERN, re.ASCII)
REGION_PATTERN = r"[a-z]{2}-[a-z]+-[0-9]{1,3}"
REGION_RE = re.compile(REGION_PATTERN, re.ASCII)
FUNCTION_NAME_PATTERN = r"[a-zA-Z][a-zA-Z0-9_-]{0,59}"
PACKAGE_PATTERN = r"[a-zA-Z0-9_-]{1,64}"
PACKAGE_RE = re.compile(PACKAGE_PATTERN, re.ASCII)
HEADER_PATTERN = r"[a-zA-Z0-9][a-zA-Z0-9_-]{0,63}"
HEADER_RE = re.compile(HEADER_PATTERN, re.ASCII)
RULE_VALUE_PATTERN = r"[a-zA-Z0-9._-]{1,64}"  # one value; "in" joins several with ","
RULE_VALUE_RE = re.compile(RULE_VALUE_PATTERN, re.ASCII)
# UTF-8 letters, digits and spaces, and these; a value may also hold '/'.
TAG_KEY_RE = re.compile(r"[\w .:=+\-@]+")
TAG_VALUE_RE = re.compile(r"[\w .:/=+\-@]*")
# A function's URN: urn:fss:REGION:PROJECT:function:PACKAGE:NAME, with ":latest" or not.
_URN_RE = re.compile(
    rf"urn:fss:(?P<region>{REGION_PATTERN}):(?P<project>{PROJECT_PATTERN}):function:"
    rf"(?P<package>{PACKAGE_PATTERN}):(?P<name>{FUNCTION_NAME_PATTERN})"
    r"(?::(?P<qualifier>[^:]+))?",
    re.ASCII,
)
_NAME_RE = re.compile(FUNCTION_NAME_PATTERN, re.ASCII)
FUNCTION_PATTERN = (
    f"(?:{FUNCTION_NAME_PATTERN}|urn:fss:{REGION_PATTERN}:{PROJECT_PATTERN}:function:"
    f"{PACKAGE_PATTERN}:{FUNCTION_NAME_PATTERN}(?::{LATEST})?)"
)

# FunctionGraph's error codes, as its API answers them.
FUNCTION_NOT_FOUND = ("FSS.1051", "Not found the function")
ALIAS_NOT_FOUND = ("FSS.1053", "Not found the function alias")
VERSION_NOT_FOUND = ("FSS.1052", "Not found the function version")
ALIAS_EXISTS = ("FSS.1055", "The function alias already exists")
TOO_MANY_ALIASES = ("FSS.1056", f"A function has at most {ALIASES_MAX} aliases")
BAD_REQUEST = "FSS.0400"
# The keys a Lambda manifest has and a FunctionGraph one does not, and the other way round.
LAMBDA_ONLY_KEYS = frozenset({"account"})
FUNCTIONGRAPH_ONLY_KEYS = frozenset({"project", "package"})


@dataclass(frozen=True)
class FunctionRef:
    """A FunctionGraph function named by name or URN, split into its parts."""

    name: str
    region: str | None = None
    project: str | None = None
    package: str | None = None


def parse_function(text: str) -> FunctionRef:
    """A function name or URN; ``ValueError`` says why it is neither."""
    if text.startswith("urn:"):
        match = _URN_RE.fullmatch(text)
        if match is None:
            raise ValueError(
                f"{text!r} is not a FunctionGraph function URN "
                "(urn:fss:REGION:PROJECT:function:PACKAGE:NAME:latest)"
            )
        if match["qualifier"] not in (None, LATEST):
            raise ValueError(
                f"name the function, not its version or alias: end the URN with :{LATEST}, "
                f"not :{match['qualifier']}"
            )
        return FunctionRef(match["name"], match["region"], match["project"], match["package"])
    if _NAME_RE.fullmatch(text) is None:
        raise ValueError(
            f"{text!r} is not a FunctionGraph function name (a letter, then up to "
            f"{FUNCTION_NAME_MAX - 1} letters, digits, '-' and '_') or URN"
        )
    return FunctionRef(text)


def function_urn(region: str, project: str, package: str, name: str) -> str:
    """The URN the API names a function by in its paths (its ``latest`` version's)."""
    return f"urn:fss:{region}:{project}:function:{package}:{name}:{LATEST}"


def alias_name_problem(name: str) -> str | None:
    """Why FunctionGraph would refuse ``name`` as an alias name, or None."""
    if not 1 <= len(name) <= ALIAS_NAME_MAX:
        return f"alias name must be 1 to {ALIAS_NAME_MAX} characters, not {len(name)}"
    if ALIAS_NAME_RE.fullmatch(name) is None:
        return (
            f"alias name {name!r} must start with a letter and hold only letters, digits, "
            "'-' and '_'"
        )
    return None


def version_problem(version: str) -> str | None:
    """Why ``version`` is not a FunctionGraph version name (or ``latest``), or None."""
    if VERSION_RE.fullmatch(version) is None:
        return (
            f"version must be a FunctionGraph version name (up to {VERSION_MAX} letters, digits, "
            f"'.', '-' and '_', from a letter or digit) or {LATEST}, not {version!r}"
        )
    return None


def percent(weight: float) -> int | None:
    """A weight (a share, 0.0 to 1.0) as the whole percent the API takes, or None if it is not
    one (0.015 is not; 0.07, which floats hold as 0.07000000000000001, is 7).

    A weight is one only within the tolerance plans compare weights with: a weight written
    as n % must read back equal to it, or the alias would differ from its manifest for ever
    (0.010000005 would be written as 1 % and planned again on every run)."""
    whole = round(weight * 100)
    return whole if abs(weight - whole / 100) <= WEIGHT_TOLERANCE else None


def routing_problem(version: str, extra: str, weight: float | None) -> str | None:
    """Why FunctionGraph would refuse routing to ``extra`` for an alias on ``version``: weighted
    (``weight``, a share) or, with ``weight`` None, by rules."""
    problem = version_problem(extra)
    if problem is not None:
        return f"routing {problem}"
    if extra == LATEST:
        return f"routing must name a published version, not {LATEST}"
    if extra == version:
        return f"version {extra} is the alias's own version; route to another one"
    if weight is None:
        return None
    whole = percent(weight)
    if whole is None:
        return f"routing weight {weight} must be a whole percent (0.01 to 0.99) on FunctionGraph"
    if not WEIGHT_MIN <= whole <= WEIGHT_MAX:
        return (
            f"routing weight {weight} must be from {WEIGHT_MIN / 100} to {WEIGHT_MAX / 100} on "
            "FunctionGraph (whole percents from 1 to 99)"
        )
    return None


def rule_problem(rule_type: str, param: str, op: str, value: str) -> str | None:
    """Why FunctionGraph would refuse one rule of a version strategy, or None."""
    if rule_type not in RULE_TYPES:
        return f"rule_type must be one of {', '.join(RULE_TYPES)}, not {rule_type!r}"
    if HEADER_RE.fullmatch(param) is None:
        return f"a rule's header name {param!r} may hold only letters, digits, '-' and '_'"
    if op not in RULE_OPS:
        return f"a rule's op must be one of {', '.join(RULE_OPS)}, not {op!r}"
    if len(value) > RULE_VALUE_MAX:
        return f"a rule's value is at most {RULE_VALUE_MAX} characters, not {len(value)}"
    values = value.split(",") if op == "in" else [value]
    for one in values:
        if RULE_VALUE_RE.fullmatch(one) is None:
            return f"a rule's value {one!r} may hold only letters, digits, '.', '-' and '_'"
    return None


def tag_problem(key: str, value: str) -> str | None:
    """Why FunctionGraph would refuse the tag ``key``: ``value`` on a function, or None."""
    if not 1 <= len(key) <= TAG_KEY_MAX:
        return f"a tag key is 1 to {TAG_KEY_MAX} characters, not {len(key)}"
    if key.startswith("_sys_"):
        return "a tag key cannot start with _sys_"
    if key != key.strip(" "):
        return "a tag key cannot start or end with a space"
    if TAG_KEY_RE.fullmatch(key) is None:
        return "a tag key holds only letters, digits, spaces and _.:=+-@"
    if len(value) > TAG_VALUE_MAX:
        return f"a tag value is at most {TAG_VALUE_MAX} characters, not {len(value)}"
    if TAG_VALUE_RE.fullmatch(value) is None:
        return "a tag value holds only letters, digits, spaces and _.:/=+-@"
    return None


# -- manifests -------------------------------------------------------------------------------------


def _version_text(value: Any) -> Any:
    """``version: 3`` is the version named "3"; a float or a boolean is none."""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, float | bool):
        raise ValueError(f"version must be a version name or {LATEST}, not {value!r}")
    return value


def _weight_number(value: Any) -> Any:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"weight must be a number from 0.01 to 0.99, not {value!r}")
    return float(value)


def _pattern(pattern: str, **schema: Any) -> WithJsonSchema:
    return WithJsonSchema({"type": "string", **schema, "pattern": f"^{pattern}$"})


def _items(**limits: int) -> Callable[[dict[str, Any]], None]:
    """A list's length limits, in the JSON Schema only: they are checked by validators that say
    what to do in the project's words (pydantic's own count only the items that validated)."""

    def limit(schema: dict[str, Any]) -> None:
        for branch in schema.get("anyOf", [schema]):
            if branch.get("type") == "array":
                branch.update(limits)

    return limit


Version = Annotated[
    StrictStr,
    BeforeValidator(_version_text),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "integer", "minimum": 0},
                {"type": "string", "pattern": f"^{VERSION_PATTERN}$"},
            ]
        }
    ),
]
RoutingVersion = Annotated[
    StrictStr,
    BeforeValidator(_version_text),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "integer", "minimum": 0},
                {"type": "string", "pattern": f"^{VERSION_PATTERN}$", "not": {"const": LATEST}},
            ]
        }
    ),
]
AliasName = Annotated[StrictStr, _pattern(ALIAS_NAME_PATTERN, minLength=1)]
Weight = Annotated[
    float,
    BeforeValidator(_weight_number),
    WithJsonSchema({"type": "number", "minimum": 0.01, "maximum": 0.99, "multipleOf": 0.01}),
]


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Rule(_Model):
    """Requests whose header has this value (``equals``) or one of these (``in``) go to the
    routing's version."""

    model_config = ConfigDict(
        json_schema_extra={"oneOf": [{"required": ["equals"]}, {"required": ["in"]}]}
    )

    header: Annotated[StrictStr, _pattern(HEADER_PATTERN)] = Field(
        description="The request header the rule reads."
    )
    equals: Annotated[StrictStr, _pattern(RULE_VALUE_PATTERN)] | None = Field(
        default=None, description="The header's value that selects the routing's version."
    )
    in_: tuple[Annotated[StrictStr, _pattern(RULE_VALUE_PATTERN)], ...] | None = Field(
        default=None,
        alias="in",
        json_schema_extra=_items(minItems=1),
        description="The header's values that select the routing's version.",
    )

    @field_validator("equals")
    @classmethod
    def _equals(cls, value: str | None) -> str | None:
        if value is not None and "," in value:
            raise ValueError(
                f"{value!r} holds a comma; a rule's value has none (for several values, "
                "write in: [one, two])"
            )
        return value

    @field_validator("in_")
    @classmethod
    def _in(cls, values: tuple[str, ...] | None) -> tuple[str, ...] | None:
        """The API takes the values joined by commas ("internal,qa"): a comma inside one value
        would make it two, so the rule would not say what the manifest says."""
        if values is None:
            return None
        if not values:
            raise ValueError("list at least one value")
        for value in values:
            if "," in value:
                raise ValueError(
                    f"{value!r} holds a comma, and the service joins the values with commas: "
                    "list each value on its own"
                )
        return values

    @model_validator(mode="after")
    def _one_test(self) -> Rule:
        if (self.equals is None) == (self.in_ is None):
            raise ValueError("a rule has either 'equals' (one value) or 'in' (a list of values)")
        op, value = self.api_op()
        problem = rule_problem("header", self.header, op, value)
        if problem is not None:
            raise ValueError(problem)
        return self

    def api_op(self) -> tuple[str, str]:
        """The rule's op and value as the API writes them."""
        if self.in_ is not None:
            return "in", ",".join(self.in_)
        assert self.equals is not None  # _one_test made sure
        return "=", self.equals


class FgRouting(_Model):
    """A second version: a whole-percent share of the traffic, or the requests rules select."""

    model_config = ConfigDict(
        json_schema_extra={"oneOf": [{"required": ["weight"]}, {"required": ["rules"]}]}
    )

    version: RoutingVersion = Field(description="The second version: a published version name.")
    weight: Weight | None = Field(
        default=None, description="Share of traffic for the second version: 0.01 to 0.99."
    )
    # Counted by a validator, not min_length/max_length: pydantic counts only the rules that
    # validated, so one bad rule was also reported as "at least 1 item".
    rules: tuple[Rule, ...] | None = Field(
        default=None,
        json_schema_extra=_items(minItems=1, maxItems=RULES_MAX),
        description="Rules on the request that send it to the second version, instead of a weight.",
    )
    combine: Literal["and", "or"] | None = Field(
        default=None, description="With rules: all of them must hold (and) or one (or)."
    )

    @field_validator("rules")
    @classmethod
    def _rules(cls, rules: tuple[Rule, ...] | None) -> tuple[Rule, ...] | None:
        if rules is not None and not 1 <= len(rules) <= RULES_MAX:
            raise ValueError(f"list 1 to {RULES_MAX} rules, or use a weight instead")
        return rules

    @model_validator(mode="after")
    def _weight_or_rules(self) -> FgRouting:
        if (self.weight is None) == (self.rules is None):
            raise ValueError("routing has either 'weight' or 'rules', not both or neither")
        if self.combine is not None and self.rules is None:
            raise ValueError("combine goes with rules; remove it or add rules")
        if self.weight is not None:
            problem = routing_problem("", self.version, self.weight)
            if problem is not None:
                raise ValueError(problem)
        return self


# Why a FunctionGraph rollout takes no alarms: said at its key.
ALARMS_REFUSED = (
    "CloudWatch alarms do not exist on FunctionGraph (Huawei Cloud's alarms are Cloud Eye's, "
    "which the reconciler does not read): remove alarms; the steps and bakes still apply, and "
    "`reconcile rollout abort` rolls back by hand"
)


def hook_problem(value: str) -> str | None:
    """Why ``value`` is not a FunctionGraph hook, or None. A hook is a function name: it runs in
    the rolled-out function's own project, Region and package, so a manifest cannot point a
    rollout at a function anywhere else (a URN could name any project's)."""
    if value.startswith("urn:"):
        return (
            f"name the hook by its function name, not {value[:120]!r}: a hook runs in the "
            "function's own project, Region and package"
        )
    if _NAME_RE.fullmatch(value) is None:
        return (
            f"{value[:120]!r} is not a FunctionGraph function name (a letter, then up to "
            f"{FUNCTION_NAME_MAX - 1} letters, digits, '-' and '_')"
        )
    return None


def _hook(value: Any) -> Any:
    if isinstance(value, str) and (problem := hook_problem(value)) is not None:
        raise ValueError(problem)
    return value


FgHookFunction = Annotated[
    StrictStr,
    BeforeValidator(_hook),
    WithJsonSchema({"type": "string", "pattern": f"^{FUNCTION_NAME_PATTERN}$"}),
]


class FgHooks(_Model):
    """FunctionGraph functions that validate the rollout, invoked synchronously
    (InvokeFunction); each must answer {"status": "Succeeded"}."""

    before: FgHookFunction | None = Field(
        default=None, description="Invoked before any traffic moves; a failure moves none."
    )
    after: FgHookFunction | None = Field(
        default=None, description="Invoked once 100 % is reached; a failure rolls back."
    )


class FgRolloutSpec(RolloutSpec):
    """A rollout on FunctionGraph: steps, bakes and hooks as on Lambda, with no alarms
    (FunctionGraph has no CloudWatch alarms). A hook is a function of the same project, Region
    and package, by name."""

    alarms: tuple[()] = Field(
        default=(),
        description="Not on FunctionGraph: it has no CloudWatch alarms.",
        json_schema_extra={"maxItems": 0},
    )
    hooks: FgHooks | None = Field(  # type: ignore[assignment]
        default=None,
        description="Validator functions, by name, in the function's project, Region and package.",
    )

    @field_validator("alarms", mode="before")
    @classmethod
    def _no_alarms(cls, value: Any) -> Any:
        if isinstance(value, list | tuple) and not value:
            return ()
        raise ValueError(ALARMS_REFUSED)


class FgAliasSpec(_Model):
    """One FunctionGraph alias. Unlike Lambda's, it may route from ``latest``: the API's own
    example creates an alias on ``latest`` with weighted routing to a published version."""

    model_config = ConfigDict(
        json_schema_extra={  # a rollout routes to its version, which cannot be latest
            "dependentSchemas": {
                "rollout": {"properties": {"version": {"not": {"const": LATEST}}}}
            },
            "not": {"required": ["routing", "rollout"]},
        }
    )

    name: AliasName = Field(
        description="Alias name: a letter, then letters, digits, '-' and '_' (64 at most)."
    )
    version: Version = Field(description=f"A published version name, or {LATEST}.")
    description: StrictStr | None = Field(
        default=None,
        max_length=DESCRIPTION_MAX,
        description="Omitted: left as it is live. An empty string clears it.",
    )
    routing: FgRouting | None = Field(
        default=None, description="A second version, by weight or by rules; omitted means none."
    )
    rollout: FgRolloutSpec | None = Field(
        default=None,
        description="Move to a new version in weight steps, each held a bake, instead of in "
        "one write. No alarms on FunctionGraph; hooks are functions beside this one, by name.",
    )

    @field_validator("name", mode="before")
    @classmethod
    def _name(cls, value: Any) -> Any:
        if isinstance(value, str):
            problem = alias_name_problem(value)
            if problem is not None:
                raise ValueError(problem)
        return value

    @field_validator("version")
    @classmethod
    def _version(cls, value: str) -> str:
        problem = version_problem(value)
        if problem is not None:
            raise ValueError(problem)
        return value

    @model_validator(mode="after")
    def _routing(self) -> FgAliasSpec:
        if self.rollout is not None and self.routing is not None:
            raise ValueError(
                "rollout sets the routing itself, step by step: remove routing, or rollout"
            )
        if self.rollout is not None and self.version == LATEST:
            raise ValueError(
                f"a rollout moves to a published version, not {LATEST} (FunctionGraph routes "
                f"to no {LATEST})"
            )
        if self.routing is not None:
            problem = routing_problem(self.version, self.routing.version, self.routing.weight)
            if problem is not None:
                raise ValueError(problem)
        return self


class FunctionGraphSpec(_Model):
    """The aliases one FunctionGraph function should have."""

    model_config = ConfigDict(
        json_schema_extra={
            "title": "reconciler manifest (FunctionGraph)",
            "additionalProperties": False,
            "if": {"required": ["keep"], "properties": {"keep": {"minItems": 1}}},
            "then": {"required": ["prune"], "properties": {"prune": {"const": True}}},
        }
    )

    provider: Literal["functiongraph"] = Field(
        description="The cloud: functiongraph (Huawei Cloud FunctionGraph)."
    )
    function: Annotated[StrictStr, _pattern(FUNCTION_PATTERN)] = Field(
        description="Function name, or its URN (urn:fss:REGION:PROJECT:function:PACKAGE:NAME)."
    )
    package: Annotated[StrictStr, _pattern(PACKAGE_PATTERN)] | None = Field(
        default=None, description=f"The function's package (default: {DEFAULT_PACKAGE})."
    )
    project: Annotated[StrictStr, _pattern(PROJECT_PATTERN)] | None = Field(
        default=None,
        description="Project ID (32 hex digits); else HUAWEICLOUD_SDK_PROJECT_ID. Apply refuses "
        "credentials for another project.",
    )
    region: Annotated[StrictStr, _pattern(REGION_PATTERN)] | None = Field(
        default=None, description="Huawei Cloud Region, e.g. ap-southeast-1 (or in the URN)."
    )
    prune: StrictBool = Field(
        default=False, description="Delete live aliases of this function that are not listed."
    )
    keep: tuple[StrictStr, ...] = Field(
        default=(), description="With prune: globs of alias names never deleted."
    )
    aliases: tuple[FgAliasSpec, ...] = Field(
        json_schema_extra=_items(maxItems=ALIASES_MAX),
        description="The aliases this function should have (10 at most).",
    )

    @field_validator("aliases")
    @classmethod
    def _aliases(cls, aliases: tuple[FgAliasSpec, ...]) -> tuple[FgAliasSpec, ...]:
        if len(aliases) > ALIASES_MAX:
            over = len(aliases) - ALIASES_MAX
            raise ValueError(
                f"a FunctionGraph function has at most {ALIASES_MAX} aliases, not "
                f"{len(aliases)}; remove {over}"
            )
        return aliases

    @field_validator("function")
    @classmethod
    def _function(cls, value: str) -> str:
        parse_function(value)
        return value

    @field_validator("package")
    @classmethod
    def _package(cls, value: str | None) -> str | None:
        if value is not None and PACKAGE_RE.fullmatch(value) is None:
            raise ValueError(
                f"a package name is 1 to {PACKAGE_MAX} letters, digits, '-' and '_', not {value!r}"
            )
        return value

    @field_validator("region")
    @classmethod
    def _region(cls, value: str | None) -> str | None:
        if value is not None and REGION_RE.fullmatch(value) is None:
            raise ValueError(f"{value!r} is not a Huawei Cloud Region such as ap-southeast-1")
        return value

    @field_validator("project")
    @classmethod
    def _project(cls, value: str | None) -> str | None:
        if value is not None and PROJECT_RE.fullmatch(value) is None:
            raise ValueError(f"a project ID is 32 lowercase hex digits, not {value!r}")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> FunctionGraphSpec:
        ref = parse_function(self.function)
        for key, in_urn, written in (
            ("region", ref.region, self.region),
            ("project", ref.project, self.project),
            ("package", ref.package, self.package),
        ):
            if in_urn and written and in_urn != written:
                raise ValueError(f"the function URN says {key} {in_urn} but {key} says {written}")
        if self.keep and not self.prune:
            raise ValueError("keep only matters with prune: true; remove it or set prune: true")
        return self

    @property
    def where(self) -> FunctionRef:
        """The function's name, Region, project and package as far as the manifest says."""
        ref = parse_function(self.function)
        return FunctionRef(
            name=ref.name,
            region=ref.region or self.region,
            project=ref.project or self.project,
            package=ref.package or self.package or DEFAULT_PACKAGE,
        )

    @property
    def name(self) -> str:
        return self.where.name
