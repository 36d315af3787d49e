"""The service's own rules for aliases, as stated in LAMBDA_CONTRACT.md.

Manifest validation and the sandbox both read these, so a plan never holds what the service refuses.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

ALIAS_NAME_MAX = 128
DESCRIPTION_MAX = 256
FUNCTION_NAME_MAX = 64
FUNCTION_ARN_MAX = 140
LIST_MAX_ITEMS = 10_000
LATEST = "$LATEST"

# Digits are allowed, digits only are not: "2024-01-02" is a name, "2024" is a ValidationException.
ALIAS_NAME_RE = re.compile(r"(?!^[0-9]+$)[a-zA-Z0-9_-]+")
VERSION_RE = re.compile(r"\$LATEST|[0-9]+")
PUBLISHED_VERSION_RE = re.compile(r"[0-9]+")
_FUNCTION_RE = re.compile(
    r"(?:arn:(?P<partition>aws[a-zA-Z-]*)?:lambda:)?"
    r"(?:(?P<region>[a-z]{2}(?:-gov)?-[a-z]+-\d):)?"
    r"(?:(?P<account>\d{12}):)?"
    r"(?P<function_kw>function:)?"
    r"(?P<name>[a-zA-Z0-9_-]+)"
    r"(?::(?P<qualifier>\$LATEST|[a-zA-Z0-9_-]+))?"
)


@dataclass(frozen=True)
class FunctionRef:
    """A function named by name, partial ARN or full ARN, split into its parts."""

    name: str
    region: str | None = None
    account: str | None = None
    partition: str | None = None
    qualifier: str | None = None


@functools.lru_cache(maxsize=4096)
def parse_function_name(text: str) -> FunctionRef:
    """Split a FunctionName as the service accepts it; ``ValueError`` says why it is not one."""
    match = _FUNCTION_RE.fullmatch(text)
    if match is None:
        raise ValueError(
            f"{text!r} is not a function name, partial ARN (123456789012:function:NAME) "
            "or ARN (arn:aws:lambda:REGION:ACCOUNT:function:NAME)"
        )
    is_arn = text.startswith("arn:")
    if (is_arn or match["account"]) and not match["function_kw"]:
        raise ValueError(f"{text!r}: an ARN names a function as ...:function:NAME")
    if is_arn and not (match["region"] and match["account"]):
        raise ValueError(f"{text!r}: a full ARN carries both a Region and an account")
    if is_arn and len(text) > FUNCTION_ARN_MAX:
        raise ValueError(f"{text!r} is longer than {FUNCTION_ARN_MAX} characters")
    if len(match["name"]) > FUNCTION_NAME_MAX:
        raise ValueError(f"function name {match['name']!r} is longer than {FUNCTION_NAME_MAX}")
    return FunctionRef(
        name=match["name"],
        region=match["region"],
        account=match["account"],
        partition=match["partition"],
        qualifier=match["qualifier"],
    )


def partition_of(region: str) -> str:
    """The AWS partition a Region belongs to."""
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"


def alias_name_problem(name: str) -> str | None:
    """Why the service would refuse ``name`` as an alias name, or None."""
    if not 1 <= len(name) <= ALIAS_NAME_MAX:
        return f"alias name must be 1 to {ALIAS_NAME_MAX} characters, not {len(name)}"
    if ALIAS_NAME_RE.fullmatch(name) is None:
        if name.isdigit():
            return f"alias name {name!r} is digits only; add a letter, '-' or '_'"
        return f"alias name {name!r} may hold only letters, digits, '-' and '_'"
    return None


VALIDATION = "ValidationException"
INVALID_PARAMETER = "InvalidParameterValueException"


def routing_problem(version: str, weights: dict[str, float]) -> tuple[str, str] | None:
    """Why the service would refuse this routing for an alias on ``version``: (code, message)."""
    if len(weights) > 1:
        return (
            INVALID_PARAMETER,
            "Number of items in AdditionalVersionWeights cannot be greater than 1",
        )
    for extra, weight in weights.items():
        if PUBLISHED_VERSION_RE.fullmatch(extra) is None:
            return VALIDATION, f"routing version {extra!r} must be a published version number"
        if not 0.0 <= weight <= 1.0:
            return VALIDATION, f"routing weight {weight} must be between 0.0 and 1.0"
        if extra == version:
            return (
                INVALID_PARAMETER,
                f"version {extra} is already included in routing configuration",
            )
        if version == LATEST:
            return INVALID_PARAMETER, "an alias with weighted routing cannot point to $LATEST"
    return None
